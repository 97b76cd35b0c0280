#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: compliance_info
short_description: Read AWS Systems Manager Compliance data of managed nodes
version_added: 0.1.0
description:
  - Lists compliance items (C(ListComplianceItems)), per-resource compliance summaries
    (C(ListResourceComplianceSummaries)) and per-type summaries over the account (C(ListComplianceSummaries)).
  - Items are read node by node, as AWS takes one resource id per call. Without O(resource_ids), the nodes are the
    ones that have compliance data matching O(compliance_types) and O(statuses).
  - Compliance data covers custom types (for example V(Custom:Drift) from M(fleetops.ssm.compliance)), V(Patch)
    (what C(AWS-RunPatchBaseline) reports) and V(Association) (State Manager).
author:
  - FleetOps SSM maintainers (@fleetops)
options:
  resource_ids:
    description: Only these resources (managed node ids).
    type: list
    elements: str
  resource_types:
    description: Only resources of these types; V(ManagedInstance) is the only type AWS supports.
    type: list
    elements: str
  compliance_types:
    description: Only these compliance types, for example V(Custom:Drift) or V(Patch); up to 20.
    type: list
    elements: str
  statuses:
    description:
      - Only items with these statuses, and summaries of resources with these statuses.
    type: list
    elements: str
    choices: [COMPLIANT, NON_COMPLIANT]
  items:
    description: Return the compliance items (RV(compliance_items)).
    type: bool
    default: true
  summaries:
    description: Return the summaries (RV(resource_compliance_summaries) and RV(compliance_summaries)).
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - fleetops.ssm.attributes
  - fleetops.ssm.attributes.info_module
notes:
  - IAM actions used are C(ssm:ListComplianceItems), C(ssm:ListResourceComplianceSummaries) and
    C(ssm:ListComplianceSummaries).
seealso:
  - module: fleetops.ssm.compliance
  - module: fleetops.ssm.patch_state_info
"""

EXAMPLES = r"""
- name: Drift items that are not compliant, fleet-wide
  fleetops.ssm.compliance_info:
    compliance_types: [Custom:Drift]
    statuses: [NON_COMPLIANT]
    summaries: false
  register: drift

- name: The compliance of two nodes, every type
  fleetops.ssm.compliance_info:
    resource_ids: [mi-0123456789abcdef0, i-0fedcba9876543210]

- name: Only the fleet's summary per compliance type
  fleetops.ssm.compliance_info:
    items: false
  register: fleet

- name: Show it
  ansible.builtin.debug:
    msg: "{{ item.compliance_type }}: {{ item.compliant_summary.compliant_count }} compliant,
          {{ item.non_compliant_summary.non_compliant_count }} not"
  loop: "{{ fleet.compliance_summaries }}"
"""

RETURN = r"""
compliance_items:
  description: The compliance items, by resource then compliance type; empty when O(items=false).
  returned: always
  type: list
  elements: dict
  contains:
    resource_id:
      description: The resource.
      returned: always
      type: str
      sample: mi-0123456789abcdef0
    resource_type:
      description: The resource type.
      returned: always
      type: str
      sample: ManagedInstance
    compliance_type:
      description: The compliance type.
      returned: always
      type: str
      sample: Custom:Drift
    id:
      description: The item id.
      returned: always
      type: str
      sample: file:/etc/nginx/nginx.conf
    title:
      description: The title.
      returned: always
      type: str
      sample: nginx configuration
    severity:
      description: The severity.
      returned: always
      type: str
      sample: HIGH
    status:
      description: V(COMPLIANT) or V(NON_COMPLIANT).
      returned: always
      type: str
      sample: NON_COMPLIANT
    details:
      description: The details, with their keys as reported.
      returned: always
      type: dict
      sample: {"diff": "+worker_processes auto;"}
    execution_summary:
      description: What determined the item (execution time in ISO 8601, id and type).
      returned: always
      type: dict
      sample: {"execution_time": "2026-01-02T03:04:05+00:00", "execution_id": null, "execution_type": "Ansible"}
resource_compliance_summaries:
  description: One summary per resource and compliance type; empty when O(summaries=false).
  returned: always
  type: list
  elements: dict
  contains:
    resource_id:
      description: The resource.
      returned: always
      type: str
      sample: mi-0123456789abcdef0
    resource_type:
      description: The resource type.
      returned: always
      type: str
      sample: ManagedInstance
    compliance_type:
      description: The compliance type.
      returned: always
      type: str
      sample: Custom:Drift
    status:
      description: The resource's status for the type.
      returned: always
      type: str
      sample: NON_COMPLIANT
    overall_severity:
      description: The highest severity among the items that decide the status.
      returned: always
      type: str
      sample: HIGH
    execution_summary:
      description: The execution summary.
      returned: always
      type: dict
      sample: {"execution_time": "2026-01-02T03:04:05+00:00", "execution_id": null, "execution_type": "Ansible"}
    compliant_summary:
      description: C(compliant_count) and the C(severity_summary) counts of the compliant items.
      returned: always
      type: dict
      sample: {"compliant_count": 3, "severity_summary": {"critical_count": 0, "high_count": 1, "medium_count": 0,
               "low_count": 0, "informational_count": 0, "unspecified_count": 2}}
    non_compliant_summary:
      description: C(non_compliant_count) and the C(severity_summary) counts of the items not compliant.
      returned: always
      type: dict
      sample: {"non_compliant_count": 1, "severity_summary": {"critical_count": 0, "high_count": 1, "medium_count": 0,
               "low_count": 0, "informational_count": 0, "unspecified_count": 0}}
compliance_summaries:
  description: Per compliance type, the numbers of compliant and non-compliant resources; empty when O(summaries=false).
  returned: always
  type: list
  elements: dict
  contains:
    compliance_type:
      description: The compliance type.
      returned: always
      type: str
      sample: Custom:Drift
    compliant_summary:
      description: C(compliant_count) (resources) and C(severity_summary) counts.
      returned: always
      type: dict
      sample: {"compliant_count": 10, "severity_summary": {"critical_count": 0, "high_count": 0, "medium_count": 0,
               "low_count": 0, "informational_count": 0, "unspecified_count": 10}}
    non_compliant_summary:
      description: C(non_compliant_count) (resources) and C(severity_summary) counts.
      returned: always
      type: dict
      sample: {"non_compliant_count": 2, "severity_summary": {"critical_count": 0, "high_count": 2, "medium_count": 0,
               "low_count": 0, "informational_count": 0, "unspecified_count": 0}}
"""

from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError
from ansible_collections.fleetops.ssm.plugins.module_utils._modules import FleetOpsSSMModule
from ansible_collections.fleetops.ssm.plugins.module_utils import _compliance as cp


def wanted_summary(summary, params):
    if params["resource_ids"] and summary.get("ResourceId") not in params["resource_ids"]:
        return False
    return not params["resource_types"] or summary.get("ResourceType") in params["resource_types"]


def read(client, params):
    """(items, resource summaries, type summaries) as AWS returns them."""
    filters = cp.status_filters(params["compliance_types"], params["statuses"])
    resource_summaries = []
    if params["summaries"] or (params["items"] and not params["resource_ids"]):
        found = cp.list_resource_compliance_summaries(client, filters)
        resource_summaries = [summary for summary in found if wanted_summary(summary, params)]
    items = []
    if params["items"]:
        resource_ids = params["resource_ids"] or [summary["ResourceId"] for summary in resource_summaries]
        for resource_id in dict.fromkeys(resource_ids):
            items.extend(cp.list_compliance_items(client, resource_id, params["resource_types"], filters))
    type_summaries = []
    if params["summaries"]:
        type_summaries = cp.list_compliance_summaries(client, cp.status_filters(params["compliance_types"]))
    return items, resource_summaries if params["summaries"] else [], type_summaries


def main():
    argument_spec = dict(
        resource_ids=dict(type="list", elements="str"),
        resource_types=dict(type="list", elements="str"),
        compliance_types=dict(type="list", elements="str"),
        statuses=dict(type="list", elements="str", choices=list(cp.STATUSES)),
        items=dict(type="bool", default=True),
        summaries=dict(type="bool", default=True),
    )
    module = FleetOpsSSMModule(argument_spec=argument_spec, supports_check_mode=True)
    client = module.client("ssm")
    try:
        for compliance_type in module.params["compliance_types"] or []:
            cp.validate_compliance_type(compliance_type, "compliance_types")
        items, resource_summaries, type_summaries = read(client, module.params)
    except AnsibleSSMError as e:
        module.fail_json_aws_error(e)
    module.exit_json(
        changed=False,
        compliance_items=[cp.item_to_ansible(item) for item in items],
        resource_compliance_summaries=[cp.summary_to_ansible(summary) for summary in resource_summaries],
        compliance_summaries=[cp.summary_to_ansible(summary) for summary in type_summaries],
    )


if __name__ == "__main__":
    main()
