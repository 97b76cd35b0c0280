#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: compliance
short_description: Report the compliance items of one compliance type for a managed node to AWS Systems Manager
version_added: 0.1.0
description:
  - Registers compliance items of one compliance type, usually a custom type such as V(Custom:Drift), for one
    resource (a managed node) with AWS Systems Manager Compliance, through C(PutComplianceItems).
  - AWS replaces every item of that compliance type on that resource with the items of the call
    (O(upload_type=COMPLETE)). The task therefore describes the whole list; items it does not list are removed.
    An empty O(items) list, or O(state=absent), removes the compliance type from the resource.
  - The items are compared with what AWS holds, in any order and without their execution summaries; nothing is
    sent when they are the same, so the execution time AWS shows is that of the last change.
  - To read compliance data of many nodes, use M(fleetops.ssm.compliance_info).
author:
  - FleetOps SSM maintainers (@fleetops)
options:
  resource_id:
    description:
      - The resource the items are about; for a managed node its id (V(i-...) or V(mi-...)).
      - AWS refuses ids that are not managed nodes of the region.
    type: str
    required: true
  resource_type:
    description: The type of the resource. V(ManagedInstance) is the only type AWS supports.
    type: str
    default: ManagedInstance
  compliance_type:
    description:
      - The compliance type, V(Custom:) followed by a name of letters, digits and underscores (a hyphen only as its
        first character), for example V(Custom:Drift); or one of AWS's types, V(Patch) or V(Association).
      - AWS allows at most 10 custom compliance types.
    type: str
    required: true
  execution_summary:
    description: What produced the items. AWS stores it with every item of the type.
    type: dict
    suboptions:
      execution_time:
        description: When the items were determined, ISO 8601 (V(2026-01-02T03:04:05Z)); UTC without a zone. Now when unset.
        type: str
      execution_id:
        description: An id of the run that determined them, up to 100 characters (for example a Run Command id).
        type: str
      execution_type:
        description: The kind of run, up to 50 characters (for example V(Command)).
        type: str
  items:
    description:
      - The compliance items, up to 10,000. Required with O(state=present).
      - With O(upload_type=COMPLETE) they replace every item of the type; an empty list removes the type.
    type: list
    elements: dict
    suboptions:
      id:
        description:
          - The item's id, for example the resource it is about (V(file:/etc/nginx/nginx.conf)). Ids are unique within
            the task; O(upload_type=PARTIAL) needs one on every item.
        type: str
      title:
        description: A title of up to 500 characters.
        type: str
      severity:
        description: The severity of the item.
        type: str
        choices: [CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, UNSPECIFIED]
        default: UNSPECIFIED
      status:
        description: Whether the resource complies with the item.
        type: str
        choices: [COMPLIANT, NON_COMPLIANT]
        required: true
      details:
        description:
          - Key/value details, keys of 1 to 64 characters, values of up to 4096 characters.
          - Values that are not strings are converted (V(true)/V(false), numbers as text, lists and dicts as JSON).
        type: dict
  upload_type:
    description:
      - V(COMPLETE) replaces every item of the type. V(PARTIAL) replaces only the items with the ids given and keeps
        the others.
      - AWS documents V(PARTIAL) for association compliance (associations with C(SyncCompliance) V(MANUAL)); the
        result is read back from AWS after the call.
    type: str
    choices: [COMPLETE, PARTIAL]
    default: COMPLETE
  state:
    description: V(absent) removes the compliance type from the resource (an empty V(COMPLETE) upload).
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - fleetops.ssm.attributes
attributes:
  check_mode:
    support: full
    details:
      - Predicts the items AWS would hold without sending them.
  diff_mode:
    support: full
    details:
      - Shows the items (without execution summaries) and the overall status before and after.
  idempotent:
    support: full
    details:
      - The same items are not sent again, whatever O(execution_summary) says.
notes:
  - IAM actions used are C(ssm:ListComplianceItems) and C(ssm:PutComplianceItems).
  - AWS keeps compliance data per resource; a node that is deregistered loses it.
seealso:
  - module: fleetops.ssm.compliance_info
  - module: fleetops.ssm.patch_state_info
"""

EXAMPLES = r"""
- name: Report a node's configuration drift, one item per managed resource
  fleetops.ssm.compliance:
    resource_id: "{{ instance_id }}"
    compliance_type: Custom:Drift
    execution_summary:
      execution_type: Ansible
    items:
      - id: file:/etc/nginx/nginx.conf
        title: nginx configuration
        severity: HIGH
        status: NON_COMPLIANT
        details:
          diff: "-worker_processes 2;\n+worker_processes auto;"
      - id: service:nginx
        title: nginx running and enabled
        status: COMPLIANT
  delegate_to: localhost

- name: Update one item and keep the others
  fleetops.ssm.compliance:
    resource_id: mi-0123456789abcdef0
    compliance_type: Custom:Backup
    upload_type: PARTIAL
    items:
      - id: nightly
        status: COMPLIANT
        details:
          last_success: "2026-01-02T03:04:05Z"

- name: Remove a custom compliance type from a node
  fleetops.ssm.compliance:
    resource_id: mi-0123456789abcdef0
    compliance_type: Custom:Legacy
    state: absent
"""

RETURN = r"""
compliance:
  description: The compliance type on the resource after the task (predicted in check mode).
  returned: always
  type: dict
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
      description: V(NON_COMPLIANT) when an item is not compliant, V(COMPLIANT) otherwise; null without items.
      returned: always
      type: str
      sample: NON_COMPLIANT
    items:
      description: The items, sorted by id.
      returned: always
      type: list
      elements: dict
      contains:
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
          description: The status.
          returned: always
          type: str
          sample: NON_COMPLIANT
        details:
          description: The details.
          returned: always
          type: dict
          sample: {"diff": "-worker_processes 2;\n+worker_processes auto;"}
        execution_summary:
          description: What determined the item (execution time in ISO 8601, id and type).
          returned: always
          type: dict
          sample: {"execution_time": "2026-01-02T03:04:05+00:00", "execution_id": null, "execution_type": "Ansible"}
    compliant_count:
      description: Compliant items.
      returned: always
      type: int
      sample: 1
    non_compliant_count:
      description: Items not compliant.
      returned: always
      type: int
      sample: 1
    execution_summary:
      description: The execution summary of the items; null without items.
      returned: always
      type: dict
      sample: {"execution_time": "2026-01-02T03:04:05+00:00", "execution_id": null, "execution_type": "Ansible"}
"""

from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError
from ansible_collections.fleetops.ssm.plugins.module_utils._modules import FleetOpsSSMModule
from ansible_collections.fleetops.ssm.plugins.module_utils import _compliance as cp


def describe(client, resource_id, resource_type, compliance_type):
    """The items of the compliance type on the resource, as AWS returns them."""
    filters = cp.status_filters(compliance_types=[compliance_type])
    items = cp.list_compliance_items(client, resource_id, [resource_type], filters)
    return [item for item in items if item.get("ComplianceType") == compliance_type]


def put(client, request, check_mode):
    if check_mode:
        return
    try:
        cp.put_compliance_items(client, request)
    except AnsibleSSMError as e:
        if e.error_code in ("InvalidResourceId", "InvalidResourceType"):
            raise cp.ComplianceValidationError(
                message=f"AWS does not accept {request['ResourceType']} {request['ResourceId']} as a compliance "
                "resource: it must be a managed node (i-... or mi-...) registered with Systems Manager in this region, "
                "with resource_type ManagedInstance",
                exception=e.exception,
            ) from e
        raise


def ensure_present(client, current, params, check_mode):
    """Returns (changed, items AWS holds afterwards)."""
    upload_type = params["upload_type"]
    entries = cp.desired_items(params["items"], upload_type)
    final = cp.merged_items(current, entries, upload_type)
    if cp.same_items(current, final):
        return False, current
    summary = cp.execution_summary(params["execution_summary"])
    put(client, cp.put_request(params["resource_id"], params["resource_type"], params["compliance_type"], summary,
                               entries, upload_type), check_mode)
    if check_mode:
        return True, cp.predict(final, summary)
    return True, describe(client, params["resource_id"], params["resource_type"], params["compliance_type"])


def ensure_absent(client, current, params, check_mode):
    if not current:
        return False, []
    summary = cp.execution_summary(params["execution_summary"])
    put(client, cp.put_request(params["resource_id"], params["resource_type"], params["compliance_type"], summary,
                               [], "COMPLETE"), check_mode)
    return True, []


def main():
    argument_spec = dict(
        resource_id=dict(type="str", required=True),
        resource_type=dict(type="str", default=cp.DEFAULT_RESOURCE_TYPE),
        compliance_type=dict(type="str", required=True),
        execution_summary=dict(type="dict", options=dict(
            execution_time=dict(type="str"),
            execution_id=dict(type="str"),
            execution_type=dict(type="str"),
        )),
        items=dict(type="list", elements="dict", options=dict(
            id=dict(type="str"),
            title=dict(type="str"),
            severity=dict(type="str", choices=list(cp.SEVERITIES), default="UNSPECIFIED"),
            status=dict(type="str", choices=list(cp.STATUSES), required=True),
            details=dict(type="dict"),
        )),
        upload_type=dict(type="str", choices=list(cp.UPLOAD_TYPES), default="COMPLETE"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = FleetOpsSSMModule(argument_spec=argument_spec, supports_check_mode=True,
                               required_if=[("state", "present", ("items",))])
    client = module.client("ssm")
    params = module.params
    try:
        cp.validate_resource(params["resource_id"], params["resource_type"])
        cp.validate_compliance_type(params["compliance_type"])
        cp.desired_items(params["items"], params["upload_type"])
        cp.execution_summary(params["execution_summary"])
        current = describe(client, params["resource_id"], params["resource_type"], params["compliance_type"])
        if params["state"] == "absent":
            changed, final = ensure_absent(client, current, params, module.check_mode)
        else:
            changed, final = ensure_present(client, current, params, module.check_mode)
    except AnsibleSSMError as e:
        module.fail_json_aws_error(e)
    identity = (params["resource_id"], params["resource_type"], params["compliance_type"])
    before, after = cp.compliance_to_ansible(*identity, current), cp.compliance_to_ansible(*identity, final)
    module.exit_json(changed=changed, compliance=after,
                     diff=dict(before=cp.compliance_for_diff(before), after=cp.compliance_for_diff(after)))


if __name__ == "__main__":
    main()
