#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: patch_baseline_info
short_description: Read Patch Manager patch baselines, patch groups and default baselines
version_added: 0.1.0
description:
  - Lists patch baselines, AWS's predefined ones included, filtered by owner, operating system and name prefix.
  - Shows baselines in full, selected by O(baseline_ids) or O(names), or every listed one with O(details=true),
    with rules, filters, patch lists, sources, patch groups, tags, whether each is the default, and optionally the
    patches each one approves (C(DescribeEffectivePatchesForPatchBaseline), which AWS answers for Windows
    baselines only).
  - Shows patch groups with the baseline that serves them for each operating system, and optionally their
    compliance counts (C(DescribePatchGroupState)).
  - Shows the default baseline of each operating system.
author:
  - FleetOps SSM maintainers (@fleetops)
options:
  baseline_ids:
    description:
      - Baselines to show in full, by id, or by full ARN for AWS's predefined baselines. Ids that do not exist are
        returned in RV(missing).
    type: list
    elements: str
  names:
    description:
      - Baselines to show in full, by exact name. AWS does not keep names unique; every baseline with the name is
        returned. Names that match nothing are returned in RV(missing).
    type: list
    elements: str
  owner:
    description: List only AWS's predefined baselines (V(AWS)) or only the account's own (V(Self)).
    type: str
    choices: [AWS, Self]
  operating_system:
    description: List only baselines, patch groups and default baselines for this operating system.
    type: str
    choices: [WINDOWS, AMAZON_LINUX, AMAZON_LINUX_2, AMAZON_LINUX_2022, AMAZON_LINUX_2023, UBUNTU, DEBIAN, RASPBIAN,
              REDHAT_ENTERPRISE_LINUX, CENTOS, ORACLE_LINUX, SUSE, ROCKY_LINUX, ALMA_LINUX, MACOS]
  name_prefix:
    description: List only baselines whose name starts with this prefix, for example V(AWS-).
    type: str
  details:
    description: Show every listed baseline in full (one C(GetPatchBaseline) call each), not only its summary.
    type: bool
    default: false
  effective_patches:
    description:
      - For each baseline shown in full, list the patches it approves, rejects or will approve. AWS answers this for
        Windows baselines only; other baselines get an empty list.
    type: bool
    default: false
  patch_groups:
    description: Return the patch groups and the baseline that serves each one (C(DescribePatchGroups)).
    type: bool
    default: false
  patch_group_state:
    description: With O(patch_groups=true), add each group's compliance counts (C(DescribePatchGroupState)).
    type: bool
    default: false
  default_baselines:
    description: Return the default baseline of each operating system (or only of O(operating_system)).
    type: bool
    default: false
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - fleetops.ssm.attributes
  - fleetops.ssm.attributes.info_module
notes:
  - IAM actions used are C(ssm:DescribePatchBaselines), and when asked for C(ssm:GetPatchBaseline),
    C(ssm:ListTagsForResource), C(ssm:GetDefaultPatchBaseline), C(ssm:DescribeEffectivePatchesForPatchBaseline),
    C(ssm:DescribePatchGroups) and C(ssm:DescribePatchGroupState).
seealso:
  - module: fleetops.ssm.patch_baseline
  - module: fleetops.ssm.patch_state_info
"""

EXAMPLES = r"""
- name: Every baseline for Ubuntu, AWS's and ours
  fleetops.ssm.patch_baseline_info:
    operating_system: UBUNTU
  register: ubuntu

- name: One baseline in full, with the Windows patches it approves
  fleetops.ssm.patch_baseline_info:
    names: [windows-freeze]
    effective_patches: true

- name: AWS's predefined baselines with their approval rules
  fleetops.ssm.patch_baseline_info:
    owner: AWS
    details: true

- name: Patch groups with their compliance counts, and the default baseline of every OS
  fleetops.ssm.patch_baseline_info:
    owner: Self
    patch_groups: true
    patch_group_state: true
    default_baselines: true
"""

RETURN = r"""
patch_baselines:
  description:
    - The baselines found, AWS's first. Baselines shown in full have every key of the RV(patch_baselines[].approval_rules)
      group below; listed ones only the summary keys.
  returned: always
  type: list
  elements: dict
  contains:
    baseline_id:
      description: The id, a full ARN for AWS's baselines.
      returned: always
      type: str
      sample: arn:aws:ssm:us-east-1:075727635805:patchbaseline/pb-0c7e89f711c3095f4
    name:
      description: The name.
      returned: always
      type: str
      sample: AWS-UbuntuDefaultPatchBaseline
    operating_system:
      description: The operating system.
      returned: always
      type: str
      sample: UBUNTU
    owner:
      description: V(AWS) or V(Self).
      returned: always
      type: str
      sample: AWS
    description:
      description: The description.
      returned: when set
      type: str
      sample: Default Patch Baseline for Ubuntu Provided by AWS.
    default:
      description: Whether it is the default baseline for its operating system.
      returned: always
      type: bool
      sample: true
    global_filters:
      description: The global filters.
      returned: when shown in full
      type: list
      elements: dict
      sample: [{"key": "PRODUCT", "values": ["*"]}]
    approval_rules:
      description: The approval rules, in the form M(fleetops.ssm.patch_baseline) takes.
      returned: when shown in full
      type: list
      elements: dict
      sample: [{"patch_filters": [{"key": "PRIORITY", "values": ["Required", "Important"]}], "approve_after_days": 7,
                "approve_until_date": null, "compliance_level": "UNSPECIFIED", "enable_non_security": false}]
    approved_patches:
      description: Patches approved explicitly.
      returned: when shown in full
      type: list
      elements: str
      sample: []
    approved_patches_compliance_level:
      description: The compliance severity of missing approved patches.
      returned: when shown in full
      type: str
      sample: UNSPECIFIED
    approved_patches_enable_non_security:
      description: Whether approved non-security patches are installed on Linux.
      returned: when shown in full
      type: bool
      sample: false
    rejected_patches:
      description: Patches rejected explicitly.
      returned: when shown in full
      type: list
      elements: str
      sample: []
    rejected_patches_action:
      description: What happens to rejected patches.
      returned: when shown in full
      type: str
      sample: ALLOW_AS_DEPENDENCY
    sources:
      description: Alternative patch repositories.
      returned: when shown in full
      type: list
      elements: dict
      sample: []
    available_security_updates_compliance_status:
      description: The compliance status of available, unapproved security updates (Windows).
      returned: when shown in full and set
      type: str
      sample: NON_COMPLIANT
    patch_groups:
      description: The patch groups the baseline serves.
      returned: when shown in full
      type: list
      elements: str
      sample: ["web-prod"]
    created_date:
      description: When the baseline was created (ISO 8601).
      returned: when shown in full
      type: str
      sample: "2026-11-29T04:21:07+00:00"
    modified_date:
      description: When the baseline last changed (ISO 8601).
      returned: when shown in full
      type: str
      sample: "2026-11-29T04:21:07+00:00"
    tags:
      description: The tags, as a dict (empty for AWS's baselines).
      returned: when shown in full
      type: dict
      sample: {"team": "platform"}
    effective_patches:
      description: The patches the baseline approves, rejects or will approve.
      returned: when shown in full and O(effective_patches=true)
      type: list
      elements: dict
      contains:
        patch:
          description: The patch (id, title, classification, msrc_severity, product, kb_number, release_date, ...).
          returned: always
          type: dict
          sample: {"id": "KB5034439", "title": "2024-01 Security Update", "classification": "SecurityUpdates"}
        status:
          description: Its deployment_status (V(APPROVED), V(PENDING_APPROVAL), V(EXPLICIT_APPROVED),
            V(EXPLICIT_REJECTED)), compliance_level and approval_date.
          returned: always
          type: dict
          sample: {"deployment_status": "APPROVED", "compliance_level": "CRITICAL",
                   "approval_date": "2024-01-16T17:00:00+00:00"}
patch_groups:
  description: The patch groups, one entry per patch group and operating system, sorted by group.
  returned: when O(patch_groups=true)
  type: list
  elements: dict
  contains:
    patch_group:
      description: The patch group.
      returned: always
      type: str
      sample: web-prod
    baseline_id:
      description: The baseline that serves the group.
      returned: always
      type: str
      sample: pb-0c10e65780abcdef0
    baseline_name:
      description: Its name.
      returned: always
      type: str
      sample: ubuntu-web
    operating_system:
      description: The operating system.
      returned: always
      type: str
      sample: UBUNTU
    default_baseline:
      description: Whether that baseline is the default for the operating system.
      returned: always
      type: bool
      sample: false
    state:
      description:
        - The group's compliance counts in snake_case (C(instances), C(instances_with_missing_patches),
          C(instances_with_failed_patches), C(instances_with_installed_pending_reboot_patches), ...).
      returned: when O(patch_group_state=true)
      type: dict
      sample: {"instances": 12, "instances_with_missing_patches": 2, "instances_with_failed_patches": 0}
default_baselines:
  description: The default baseline id of each operating system.
  returned: when O(default_baselines=true)
  type: dict
  sample: {"UBUNTU": "arn:aws:ssm:us-east-1:075727635805:patchbaseline/pb-0c7e89f711c3095f4", "WINDOWS": "pb-0c10e65780abcdef0"}
missing:
  description: The ids in O(baseline_ids) and the names in O(names) that match no baseline.
  returned: always
  type: list
  elements: str
  sample: ["old-baseline"]
"""

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.fleetops.ssm.plugins.module_utils import _tags
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError
from ansible_collections.fleetops.ssm.plugins.module_utils._modules import FleetOpsSSMModule
from ansible_collections.fleetops.ssm.plugins.module_utils import _patching as pb


def list_filters(params, name_prefix=None):
    filters = []
    prefix = name_prefix or params["name_prefix"]
    if prefix:
        filters.append({"Key": "NAME_PREFIX", "Values": [prefix]})
    if params["owner"]:
        filters.append({"Key": "OWNER", "Values": [params["owner"]]})
    if params["operating_system"]:
        filters.append({"Key": "OPERATING_SYSTEM", "Values": [params["operating_system"]]})
    return filters


def select(client, params, fetched):
    """([baseline ids to show in full], [summaries to list], missing ids and names).

    Baselines read on the way are kept in ``fetched`` (by id) so that they are read once.
    """
    full, missing = [], []
    for baseline_id in params["baseline_ids"] or []:
        baseline = pb.get_patch_baseline(client, baseline_id)
        if baseline is None:
            missing.append(baseline_id)
        else:
            fetched[baseline_id] = baseline
            full.append(baseline_id)
    for name in params["names"] or []:
        found = [item["BaselineId"] for item in pb.describe_patch_baselines(client, list_filters(params, name))
                 if item.get("BaselineName") == name]
        full.extend(found)
        if not found:
            missing.append(name)
    if params["baseline_ids"] or params["names"]:
        return list(dict.fromkeys(full)), [], missing
    identities = pb.describe_patch_baselines(client, list_filters(params))
    if params["details"]:
        return [item["BaselineId"] for item in identities], [], []
    return [], identities, []


def show(client, baseline_id, defaults, params, fetched):
    baseline = fetched.get(baseline_id) or pb.get_patch_baseline(client, baseline_id)
    if baseline is None:
        return None
    os_name = baseline["OperatingSystem"]
    if os_name not in defaults:
        defaults[os_name] = pb.get_default_patch_baseline(client, os_name)
    tags = {} if pb.is_aws_owned(baseline["BaselineId"]) else _tags.list_tags(client, pb.RESOURCE_TYPE, baseline["BaselineId"])
    result = pb.baseline_to_ansible(baseline, tags, pb.same_baseline(defaults[os_name], baseline["BaselineId"]))
    result = {key: value for key, value in result.items() if value is not None}
    if params["effective_patches"]:
        patches = pb.describe_effective_patches(client, baseline["BaselineId"]) if os_name == "WINDOWS" else []
        result["effective_patches"] = [pb.effective_patch_to_ansible(item) for item in patches]
    return result


def patch_groups(client, params):
    filters = list_filters(dict(params, name_prefix=None, owner=None))
    groups = []
    for mapping in pb.describe_patch_groups(client, filters):
        identity = mapping.get("BaselineIdentity") or {}
        entry = dict(
            patch_group=mapping["PatchGroup"],
            baseline_id=identity.get("BaselineId"),
            baseline_name=identity.get("BaselineName"),
            operating_system=identity.get("OperatingSystem"),
            default_baseline=bool(identity.get("DefaultBaseline", False)),
        )
        if params["patch_group_state"]:
            entry["state"] = camel_dict_to_snake_dict(pb.describe_patch_group_state(client, mapping["PatchGroup"]))
        groups.append(entry)
    return sorted(groups, key=lambda item: (item["patch_group"], item["operating_system"] or ""))


def main():
    argument_spec = dict(
        baseline_ids=dict(type="list", elements="str"),
        names=dict(type="list", elements="str"),
        owner=dict(type="str", choices=["AWS", "Self"]),
        operating_system=dict(type="str", choices=list(pb.OPERATING_SYSTEMS)),
        name_prefix=dict(type="str"),
        details=dict(type="bool", default=False),
        effective_patches=dict(type="bool", default=False),
        patch_groups=dict(type="bool", default=False),
        patch_group_state=dict(type="bool", default=False),
        default_baselines=dict(type="bool", default=False),
    )
    module = FleetOpsSSMModule(argument_spec=argument_spec, supports_check_mode=True)
    client = module.client("ssm")
    params = module.params
    result = {}
    try:
        fetched, defaults = {}, {}
        full, listed, missing = select(client, params, fetched)
        shown = [item for item in (show(client, baseline_id, defaults, params, fetched) for baseline_id in full) if item]
        summaries = [{k: v for k, v in pb.identity_to_ansible(item).items() if v is not None} for item in listed]
        result["patch_baselines"] = sorted(shown + summaries, key=lambda item: (item["owner"] != "AWS", item["name"]))
        result["missing"] = missing
        if params["patch_groups"]:
            result["patch_groups"] = patch_groups(client, params)
        if params["default_baselines"]:
            systems = [params["operating_system"]] if params["operating_system"] else list(pb.OPERATING_SYSTEMS)
            result["default_baselines"] = {os_name: defaults.get(os_name) or pb.get_default_patch_baseline(client, os_name)
                                           for os_name in systems}
    except AnsibleSSMError as e:
        module.fail_json_aws_error(e)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
