#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: patch_state_info
short_description: Read the patch compliance of managed nodes, with their patches and a fleet summary
version_added: 0.1.0
description:
  - Reads the patch state that the last C(Scan) or C(Install) operation of C(AWS-RunPatchBaseline) reported for
    each node, by O(instance_ids) (C(DescribeInstancePatchStates), 50 nodes per call) or for a whole
    O(patch_group) (C(DescribeInstancePatchStatesForPatchGroup), optionally filtered on the counts).
  - Optionally lists each node's patches (C(DescribeInstancePatches)), filtered by state such as V(Missing),
    V(Failed) or V(InstalledPendingReboot), by classification, severity or KB id.
  - Returns a fleet summary of nodes, compliant and non-compliant nodes, patch totals, nodes per count, operations
    and patch groups.
author:
  - FleetOps SSM maintainers (@fleetops)
options:
  instance_ids:
    description:
      - Managed node ids (V(i-...) or V(mi-...)). Nodes that have reported no patch state are returned in
        RV(missing).
    type: list
    elements: str
  patch_group:
    description: Read every node of this patch group.
    type: str
  patch_group_filters:
    description:
      - With O(patch_group), only nodes whose counts pass these filters (at most 4), for example nodes with
        V(MissingCount) V(GreaterThan) V(0).
    type: list
    elements: dict
    suboptions:
      key:
        description: The count to compare.
        type: str
        required: true
        choices: [InstalledCount, InstalledOtherCount, InstalledPendingRebootCount, InstalledRejectedCount,
                  MissingCount, FailedCount, UnreportedNotApplicableCount, NotApplicableCount]
      type:
        description: The comparison.
        type: str
        required: true
        choices: [Equal, NotEqual, LessThan, GreaterThan]
      value:
        description: The number to compare with.
        type: int
        required: true
  include_patches:
    description: Return each node's patches (one C(DescribeInstancePatches) call per node).
    type: bool
    default: false
  patch_states:
    description: With O(include_patches=true), only patches in these states.
    type: list
    elements: str
    choices: [Installed, InstalledOther, InstalledPendingReboot, InstalledRejected, Missing, NotApplicable, Failed,
              AvailableSecurityUpdate]
  patch_filters:
    description: With O(include_patches=true), only patches that match these filters too.
    type: list
    elements: dict
    suboptions:
      key:
        description: The patch property.
        type: str
        required: true
        choices: [Classification, KBId, Severity]
      values:
        description: The values to match.
        type: list
        elements: str
        required: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - fleetops.ssm.attributes
  - fleetops.ssm.attributes.info_module
notes:
  - IAM actions used are C(ssm:DescribeInstancePatchStates) or C(ssm:DescribeInstancePatchStatesForPatchGroup), and
    C(ssm:DescribeInstancePatches) with O(include_patches=true).
  - A node is compliant when it has no missing or failed patches, none installed but waiting for a reboot, and
    none rejected but installed, as Patch Manager counts it.
seealso:
  - module: fleetops.ssm.patch_baseline
  - module: fleetops.ssm.patch_baseline_info
"""

EXAMPLES = r"""
- name: Compliance of the web tier
  fleetops.ssm.patch_state_info:
    patch_group: web-prod
  register: web

- name: Show how many nodes miss patches
  ansible.builtin.debug:
    msg: "{{ web.summary.non_compliant_nodes }} of {{ web.summary.nodes }} nodes need patches"

- name: Missing and failed patches of the nodes that miss some
  fleetops.ssm.patch_state_info:
    patch_group: web-prod
    patch_group_filters:
      - key: MissingCount
        type: GreaterThan
        value: 0
    include_patches: true
    patch_states: [Missing, Failed]

- name: Nodes waiting for a reboot after patching
  fleetops.ssm.patch_state_info:
    instance_ids: "{{ groups['web'] | map('extract', hostvars, 'instance_id') | list }}"
    include_patches: true
    patch_states: [InstalledPendingReboot]
"""

RETURN = r"""
patch_states:
  description: The nodes' patch states, sorted by node id.
  returned: always
  type: list
  elements: dict
  contains:
    instance_id:
      description: The node.
      returned: always
      type: str
      sample: i-0123456789abcdef0
    patch_group:
      description: Its patch group.
      returned: always
      type: str
      sample: web-prod
    baseline_id:
      description: The baseline of the last operation.
      returned: always
      type: str
      sample: pb-0c10e65780abcdef0
    operation:
      description: The last operation, V(Scan) or V(Install).
      returned: always
      type: str
      sample: Install
    operation_start_time:
      description: When it started (ISO 8601).
      returned: always
      type: str
      sample: "2026-11-29T04:20:07+00:00"
    operation_end_time:
      description: When it ended (ISO 8601).
      returned: always
      type: str
      sample: "2026-11-29T04:21:07+00:00"
    installed_count:
      description: Patches installed.
      returned: always
      type: int
      sample: 198
    installed_other_count:
      description: Patches installed that the baseline does not approve.
      returned: always
      type: int
      sample: 1077
    installed_pending_reboot_count:
      description: Patches installed that wait for a reboot.
      returned: always
      type: int
      sample: 0
    installed_rejected_count:
      description: Rejected patches that are installed.
      returned: always
      type: int
      sample: 0
    missing_count:
      description: Approved patches not installed.
      returned: always
      type: int
      sample: 2
    failed_count:
      description: Patches that failed to install.
      returned: always
      type: int
      sample: 0
    not_applicable_count:
      description: Patches that do not apply to the node.
      returned: always
      type: int
      sample: 10254
    critical_non_compliant_count:
      description: Non-compliant patches of compliance level critical.
      returned: when reported
      type: int
      sample: 0
    security_non_compliant_count:
      description: Non-compliant security patches.
      returned: when reported
      type: int
      sample: 1
    other_non_compliant_count:
      description: Other non-compliant patches.
      returned: when reported
      type: int
      sample: 1
    reboot_option:
      description: The reboot option of the last Install.
      returned: when reported
      type: str
      sample: RebootIfNeeded
    compliant:
      description: Whether the node is compliant (see the notes).
      returned: always
      type: bool
      sample: false
    patches:
      description: The node's patches.
      returned: when O(include_patches=true)
      type: list
      elements: dict
      contains:
        title:
          description: The patch title (the package on Linux).
          returned: always
          type: str
          sample: openssl
        kb_id:
          description: The KB id on Windows, the package name on Linux.
          returned: always
          type: str
          sample: openssl.x86_64
        classification:
          description: The classification.
          returned: always
          type: str
          sample: Security
        severity:
          description: The severity.
          returned: always
          type: str
          sample: Critical
        state:
          description: The state as AWS reports it, for example V(MISSING).
          returned: always
          type: str
          sample: MISSING
        state_name:
          description: The state as O(patch_states) names it, for example V(Missing).
          returned: always
          type: str
          sample: Missing
        installed_time:
          description: When it was installed (ISO 8601; the epoch for patches not installed).
          returned: always
          type: str
          sample: "1970-01-01T00:00:00+00:00"
        cve_ids:
          description: The CVEs the patch fixes, comma separated.
          returned: when known
          type: str
          sample: CVE-2026-0001,CVE-2026-0002
summary:
  description: Counts over the nodes returned.
  returned: always
  type: dict
  contains:
    nodes:
      description: Nodes with a patch state.
      returned: always
      type: int
      sample: 12
    compliant_nodes:
      description: Compliant nodes.
      returned: always
      type: int
      sample: 10
    non_compliant_nodes:
      description: Non-compliant nodes.
      returned: always
      type: int
      sample: 2
    patches:
      description: Patch totals over the nodes (installed, installed_other, installed_pending_reboot, installed_rejected,
        missing, failed, not_applicable, unreported_not_applicable, available_security_update, critical_non_compliant,
        security_non_compliant, other_non_compliant).
      returned: always
      type: dict
      sample: {"installed": 2400, "missing": 3, "failed": 0}
    nodes_with:
      description: Nodes with at least one patch of each count, with the keys of RV(summary.patches).
      returned: always
      type: dict
      sample: {"missing": 2, "failed": 0, "installed_pending_reboot": 1}
    operations:
      description: Nodes per last operation.
      returned: always
      type: dict
      sample: {"Install": 11, "Scan": 1}
    patch_groups:
      description: Nodes and non-compliant nodes per patch group.
      returned: always
      type: dict
      sample: {"web-prod": {"nodes": 12, "non_compliant_nodes": 2}}
missing:
  description: The nodes in O(instance_ids) that have reported no patch state.
  returned: always
  type: list
  elements: str
  sample: ["i-0fedcba9876543210"]
"""

from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError
from ansible_collections.fleetops.ssm.plugins.module_utils._modules import FleetOpsSSMModule
from ansible_collections.fleetops.ssm.plugins.module_utils import _patching as pb


def group_filters(filters):
    return [{"Key": item["key"], "Type": item["type"], "Values": [str(item["value"])]} for item in filters or []]


def patch_filters(params):
    filters = [{"Key": item["key"], "Values": item["values"]} for item in params["patch_filters"] or []]
    if params["patch_states"]:
        filters.append({"Key": "State", "Values": params["patch_states"]})
    return filters


def read_states(client, params):
    """(node patch states, node ids that reported none)."""
    if params["patch_group"]:
        return pb.describe_instance_patch_states_for_patch_group(
            client, params["patch_group"], group_filters(params["patch_group_filters"])), []
    states = pb.describe_instance_patch_states(client, params["instance_ids"])
    found = {state["InstanceId"] for state in states}
    return states, [iid for iid in dict.fromkeys(params["instance_ids"]) if iid not in found]


def describe(client, state, params):
    result = pb.patch_state_to_ansible(state)
    result["compliant"] = pb.is_compliant(state)
    if params["include_patches"]:
        patches = pb.describe_instance_patches(client, state["InstanceId"], patch_filters(params))
        result["patches"] = [pb.patch_to_ansible(patch) for patch in patches]
    return result


def main():
    argument_spec = dict(
        instance_ids=dict(type="list", elements="str"),
        patch_group=dict(type="str"),
        patch_group_filters=dict(type="list", elements="dict", options=dict(
            key=dict(type="str", required=True, no_log=False, choices=list(pb.STATE_COUNT_KEYS)),
            type=dict(type="str", required=True, choices=["Equal", "NotEqual", "LessThan", "GreaterThan"]),
            value=dict(type="int", required=True),
        )),
        include_patches=dict(type="bool", default=False),
        patch_states=dict(type="list", elements="str", choices=list(pb.PATCH_STATE_FILTERS)),
        patch_filters=dict(type="list", elements="dict", options=dict(
            key=dict(type="str", required=True, no_log=False, choices=["Classification", "KBId", "Severity"]),
            values=dict(type="list", elements="str", required=True),
        )),
    )
    module = FleetOpsSSMModule(
        argument_spec=argument_spec, supports_check_mode=True,
        required_one_of=[("instance_ids", "patch_group")], mutually_exclusive=[("instance_ids", "patch_group")],
        required_by={"patch_group_filters": "patch_group"},
    )
    client = module.client("ssm")
    try:
        states, missing = read_states(client, module.params)
        states = sorted(states, key=lambda state: state["InstanceId"])
        patch_states = [describe(client, state, module.params) for state in states]
    except AnsibleSSMError as e:
        module.fail_json_aws_error(e)
    module.exit_json(changed=False, patch_states=patch_states, summary=pb.fleet_summary(states), missing=missing)


if __name__ == "__main__":
    main()
