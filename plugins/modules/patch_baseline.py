#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: patch_baseline
short_description: Manage an AWS Systems Manager Patch Manager patch baseline, its patch groups and default status
version_added: 0.1.0
description:
  - Create, update and delete a custom patch baseline of Patch Manager, with its approval rules, global filters,
    approved and rejected patches, alternative patch sources, tags, the patch groups it serves, and whether it is
    the default baseline for its operating system.
  - A baseline is found by O(name) among the account's own baselines, or by O(baseline_id). AWS does not keep
    names unique; when several of the account's baselines share the name the module fails and lists them, and
    O(baseline_id) chooses one.
  - Changes go through C(UpdatePatchBaseline), so the baseline keeps its id. The comparison is normalised; the
    order of filters, filter values, rules, patches and sources does not count, and unset rule settings count as
    AWS's defaults. Options left unset are left alone.
  - Input is checked before any API call where possible (patch filter keys valid for the operating system,
    approval rule dates and delays, limits); with O(operating_system) unset, checks that need the operating system
    run once the baseline is found, before any change.
  - For AWS's predefined baselines (O(baseline_id) as their full ARN) only O(patch_groups) and O(default) can be
    managed.
author:
  - FleetOps SSM maintainers (@fleetops)
options:
  name:
    description:
      - The name of the baseline, 3 to 128 letters, digits, V(_), V(-) or V(.).
      - Required to create a baseline. With O(baseline_id), a different name renames the baseline.
    type: str
  baseline_id:
    description:
      - The id of an existing baseline (V(pb-...)), or the full ARN of one of AWS's predefined baselines.
      - AWS chooses the id of a new baseline, so a baseline_id that does not exist is an error.
    type: str
  operating_system:
    description:
      - The operating system the baseline is for. AWS uses V(WINDOWS) for a new baseline when it is unset.
      - AWS cannot change the operating system of a baseline; a different value for an existing baseline is an
        error.
    type: str
    choices: [WINDOWS, AMAZON_LINUX, AMAZON_LINUX_2, AMAZON_LINUX_2022, AMAZON_LINUX_2023, UBUNTU, DEBIAN, RASPBIAN,
              REDHAT_ENTERPRISE_LINUX, CENTOS, ORACLE_LINUX, SUSE, ROCKY_LINUX, ALMA_LINUX, MACOS]
  description:
    description:
      - A description of up to 1024 characters. An empty string removes it.
    type: str
  approval_rules:
    description:
      - Rules that approve patches automatically, up to 10. An empty list removes every rule.
      - AWS needs at least one approval rule or one approved patch in a baseline.
    type: list
    elements: dict
    suboptions:
      patch_filters:
        description:
          - The patches the rule applies to, at most 4 filters with 1 to 20 values each; V(*) matches any value.
          - Valid keys depend on the operating system. V(WINDOWS) takes V(PATCH_SET), V(PRODUCT),
            V(PRODUCT_FAMILY), V(CLASSIFICATION) and V(MSRC_SEVERITY); V(UBUNTU), V(DEBIAN) and V(RASPBIAN) take
            V(PRODUCT), V(PRIORITY) and V(SECTION); V(MACOS) takes V(PRODUCT) and V(CLASSIFICATION); the other
            Linux systems take V(PRODUCT), V(CLASSIFICATION) and V(SEVERITY).
        type: list
        elements: dict
        default: []
        suboptions:
          key:
            description: The patch property to match.
            type: str
            required: true
            choices: [PATCH_SET, PRODUCT, PRODUCT_FAMILY, CLASSIFICATION, MSRC_SEVERITY, SEVERITY, PRIORITY, SECTION]
          values:
            description: The values to match.
            type: list
            elements: str
            required: true
      approve_after_days:
        description:
          - Approve matching patches this many days (0 to 360) after their release.
          - Exactly one of O(approval_rules[].approve_after_days) and O(approval_rules[].approve_until_date) is
            required. AWS does not use the delay on Debian and Ubuntu, where patches carry no reliable release date;
            V(0) is the natural choice there.
        type: int
      approve_until_date:
        description:
          - Approve matching patches released on or before this date (V(YYYY-MM-DD)).
        type: str
      compliance_level:
        description: The compliance severity of a missing patch that the rule approves. AWS's default is V(UNSPECIFIED).
        type: str
        choices: [CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, UNSPECIFIED]
      enable_non_security:
        description: On Linux, also install the non-security updates the rule approves. AWS's default is V(false).
        type: bool
  global_filters:
    description:
      - Filters every patch must match before any rule applies; the same keys as
        O(approval_rules[].patch_filters). An empty list removes them.
    type: list
    elements: dict
    suboptions:
      key:
        description: The patch property to match.
        type: str
        required: true
        choices: [PATCH_SET, PRODUCT, PRODUCT_FAMILY, CLASSIFICATION, MSRC_SEVERITY, SEVERITY, PRIORITY, SECTION]
      values:
        description: The values to match.
        type: list
        elements: str
        required: true
  approved_patches:
    description:
      - Patches approved whatever the rules say, up to 50 (KB ids on Windows, package names or patterns on Linux).
        An empty list removes them.
    type: list
    elements: str
  approved_patches_compliance_level:
    description: The compliance severity of a missing approved patch.
    type: str
    choices: [CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, UNSPECIFIED]
  approved_patches_enable_non_security:
    description: On Linux, install approved patches that are not security updates too.
    type: bool
  rejected_patches:
    description: Patches never approved, up to 50. An empty list removes them.
    type: list
    elements: str
  rejected_patches_action:
    description:
      - What Patch Manager does with a rejected patch. V(ALLOW_AS_DEPENDENCY) (AWS's default) installs it when
        another package needs it; V(BLOCK) never installs it.
    type: str
    choices: [ALLOW_AS_DEPENDENCY, BLOCK]
  sources:
    description:
      - Alternative patch repositories for Linux baselines, up to 20. An empty list removes them.
    type: list
    elements: dict
    suboptions:
      name:
        description: A name for the source, 3 to 50 letters, digits, V(_), V(-) or V(.).
        type: str
        required: true
      products:
        description: The operating system versions the repository serves, for example V(AmazonLinux2023).
        type: list
        elements: str
        required: true
      configuration:
        description: The repository configuration (yum/dnf repository or apt source lines), up to 1024 characters.
        type: str
        required: true
  available_security_updates_compliance_status:
    description:
      - On Windows, the compliance status of security updates that are available but not approved by the baseline.
    type: str
    choices: [COMPLIANT, NON_COMPLIANT]
  patch_groups:
    description:
      - The patch groups (values of the C(Patch Group) or C(PatchGroup) node tag) this baseline serves, up to 25.
        Groups are registered and deregistered until they match; an empty list removes every group.
      - A patch group has one baseline per operating system. A group registered with another baseline for the
        same operating system is an error, unless O(force_patch_groups=true).
    type: list
    elements: str
  force_patch_groups:
    description: Move patch groups that another baseline for the same operating system serves to this one.
    type: bool
    default: false
  default:
    description:
      - V(true) makes this baseline the default for its operating system.
      - V(false) on the current default makes AWS's predefined baseline for the operating system the default again.
    type: bool
  state:
    description:
      - Whether the baseline should exist. V(absent) deregisters its patch groups, then deletes it.
      - A baseline that is the default for its operating system is not deleted; set O(default=false) first.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
  - fleetops.ssm.attributes
attributes:
  check_mode:
    support: full
    details:
      - Predicts the resulting baseline without writing; a new baseline has no id yet.
  diff_mode:
    support: full
    details:
      - Shows the baseline's settings, patch groups, default status and tags before and after.
  idempotent:
    support: full
notes:
  - IAM actions used are C(ssm:DescribePatchBaselines), C(ssm:GetPatchBaseline), C(ssm:CreatePatchBaseline),
    C(ssm:UpdatePatchBaseline), C(ssm:DeletePatchBaseline), C(ssm:DescribePatchGroups),
    C(ssm:RegisterPatchBaselineForPatchGroup), C(ssm:DeregisterPatchBaselineForPatchGroup),
    C(ssm:GetDefaultPatchBaseline), C(ssm:RegisterDefaultPatchBaseline), C(ssm:ListTagsForResource),
    C(ssm:AddTagsToResource) and C(ssm:RemoveTagsFromResource).
  - This module covers what Terraform's C(aws_ssm_patch_baseline), C(aws_ssm_patch_group) and
    C(aws_ssm_default_patch_baseline) resources do.
seealso:
  - module: fleetops.ssm.patch_baseline_info
  - module: fleetops.ssm.patch_state_info
"""

EXAMPLES = r"""
- name: Security updates for Ubuntu web servers, two days after release
  fleetops.ssm.patch_baseline:
    name: ubuntu-web
    operating_system: UBUNTU
    description: Ubuntu security updates for the web tier
    approval_rules:
      - patch_filters:
          - key: PRIORITY
            values: [Required, Important]
          - key: SECTION
            values: ["*"]
        approve_after_days: 0
        compliance_level: HIGH
    rejected_patches: [telnetd]
    rejected_patches_action: BLOCK
    patch_groups: [web-prod]
    tags:
      team: platform

- name: Amazon Linux 2023 with an internal mirror, the default for AL2023 nodes
  fleetops.ssm.patch_baseline:
    name: al2023-standard
    operating_system: AMAZON_LINUX_2023
    approval_rules:
      - patch_filters:
          - key: CLASSIFICATION
            values: [Security, Bugfix]
          - key: SEVERITY
            values: [Critical, Important]
        approve_after_days: 7
        enable_non_security: false
    sources:
      - name: internal-mirror
        products: [AmazonLinux2023]
        configuration: |
          [main]
          name=internal-mirror
          baseurl=https://mirror.example.internal/al2023/
          enabled=1
    default: true

- name: Windows servers, everything critical up to a freeze date
  fleetops.ssm.patch_baseline:
    name: windows-freeze
    operating_system: WINDOWS
    approval_rules:
      - patch_filters:
          - key: CLASSIFICATION
            values: [CriticalUpdates, SecurityUpdates]
          - key: MSRC_SEVERITY
            values: [Critical, Important]
        approve_until_date: "2026-12-31"
        compliance_level: CRITICAL
    available_security_updates_compliance_status: NON_COMPLIANT

- name: Move the db-prod patch group from another baseline to this one
  fleetops.ssm.patch_baseline:
    name: al2023-standard
    patch_groups: [db-prod]
    force_patch_groups: true

- name: Make AWS's predefined baseline the default again, then delete ours
  block:
    - name: No longer the default
      fleetops.ssm.patch_baseline:
        name: al2023-standard
        default: false
    - name: Delete it
      fleetops.ssm.patch_baseline:
        name: al2023-standard
        state: absent
"""

RETURN = r"""
patch_baseline:
  description: The baseline after the task (predicted in check mode); empty after deletion.
  returned: always
  type: dict
  contains:
    baseline_id:
      description: The baseline id (not known in check mode for a new baseline); a full ARN for AWS's baselines.
      returned: success
      type: str
      sample: pb-0c10e65780abcdef0
    name:
      description: The name.
      returned: success
      type: str
      sample: ubuntu-web
    operating_system:
      description: The operating system.
      returned: success
      type: str
      sample: UBUNTU
    owner:
      description: V(Self) for the account's baselines, V(AWS) for predefined ones.
      returned: success
      type: str
      sample: Self
    description:
      description: The description; null when not set.
      returned: success
      type: str
      sample: Ubuntu security updates for the web tier
    global_filters:
      description: The global filters.
      returned: success
      type: list
      elements: dict
      sample: [{"key": "PRODUCT", "values": ["Ubuntu22.04"]}]
    approval_rules:
      description: The approval rules, in the form O(approval_rules) takes, with AWS's defaults filled in.
      returned: success
      type: list
      elements: dict
      sample: [{"patch_filters": [{"key": "PRIORITY", "values": ["Required"]}], "approve_after_days": 0,
                "approve_until_date": null, "compliance_level": "HIGH", "enable_non_security": false}]
    approved_patches:
      description: Patches approved explicitly.
      returned: success
      type: list
      elements: str
      sample: ["openssl"]
    approved_patches_compliance_level:
      description: The compliance severity of missing approved patches.
      returned: success
      type: str
      sample: UNSPECIFIED
    approved_patches_enable_non_security:
      description: Whether approved non-security patches are installed on Linux.
      returned: success
      type: bool
      sample: false
    rejected_patches:
      description: Patches rejected explicitly.
      returned: success
      type: list
      elements: str
      sample: ["telnetd"]
    rejected_patches_action:
      description: What happens to rejected patches.
      returned: success
      type: str
      sample: BLOCK
    sources:
      description: Alternative patch repositories.
      returned: success
      type: list
      elements: dict
      sample: [{"name": "internal-mirror", "products": ["AmazonLinux2023"], "configuration": "[main]\n..."}]
    available_security_updates_compliance_status:
      description: The compliance status of available, unapproved security updates (Windows); null when not set.
      returned: success
      type: str
      sample: NON_COMPLIANT
    patch_groups:
      description: The patch groups the baseline serves.
      returned: success
      type: list
      elements: str
      sample: ["web-prod"]
    default:
      description: Whether the baseline is the default for its operating system.
      returned: success
      type: bool
      sample: false
    created_date:
      description: When the baseline was created (ISO 8601).
      returned: success
      type: str
      sample: "2026-11-29T04:21:07+00:00"
    modified_date:
      description: When the baseline last changed (ISO 8601).
      returned: success
      type: str
      sample: "2026-11-29T04:21:07+00:00"
    tags:
      description: The tags, as a dict (empty for AWS's baselines).
      returned: success
      type: dict
      sample: {"team": "platform"}
"""

from ansible_collections.fleetops.ssm.plugins.module_utils import _tags
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError
from ansible_collections.fleetops.ssm.plugins.module_utils._modules import FleetOpsSSMModule
from ansible_collections.fleetops.ssm.plugins.module_utils import _patching as pb

_FILTER_SPEC = dict(
    key=dict(type="str", required=True, no_log=False, choices=list(pb.ALL_FILTER_KEYS)),
    values=dict(type="list", elements="str", required=True),
)
_BASELINE_OPTIONS = ("description", "approval_rules", "global_filters", "approved_patches",
                     "approved_patches_compliance_level", "approved_patches_enable_non_security", "rejected_patches",
                     "rejected_patches_action", "sources", "available_security_updates_compliance_status", "tags")


def describe(client, name=None, baseline_id=None):
    """The baseline, its tags and whether it is the default; (None, None, None) when there is none."""
    current = pb.find_baseline(client, name, baseline_id)
    if current is None:
        return None, None, None
    tags = {} if pb.is_aws_owned(current["BaselineId"]) else _tags.list_tags(client, pb.RESOURCE_TYPE, current["BaselineId"])
    default = pb.same_baseline(pb.get_default_patch_baseline(client, current["OperatingSystem"]), current["BaselineId"])
    return current, tags, default


def operating_system_of(current, params):
    wanted = params["operating_system"]
    if current is None:
        if params["baseline_id"]:
            raise pb.PatchBaselineValidationError(
                f"There is no patch baseline {params['baseline_id']}. AWS chooses the id of a new baseline: "
                "leave baseline_id unset and give the name to create one."
            )
        if not params["name"]:
            raise pb.PatchBaselineValidationError("Set name to create a patch baseline.")
        return wanted or pb.DEFAULT_OPERATING_SYSTEM
    if wanted and wanted != current["OperatingSystem"]:
        raise pb.PatchBaselineValidationError(
            f"Patch baseline {current['BaselineId']} ({current['Name']}) is for {current['OperatingSystem']}; AWS cannot "
            f"change the operating system of a baseline. Create another baseline for {wanted}."
        )
    return current["OperatingSystem"]


def check_aws_owned(current, params):
    if current and pb.is_aws_owned(current["BaselineId"]):
        changing = [option for option in _BASELINE_OPTIONS if params.get(option) is not None]
        if params["name"] and params["name"] != current["Name"]:
            changing.append("name")
        if changing:
            raise pb.PatchBaselineValidationError(
                f"{current['Name']} is one of AWS's predefined baselines, which cannot be changed ({', '.join(changing)}). "
                "Only patch_groups and default can be managed for it; copy its rules into a baseline of your own."
            )


def plan_patch_groups(client, current, params, os_name):
    """(groups to register, groups to deregister, {group: baseline it moves from}), refused moves raising."""
    groups = pb.validate_patch_groups(params["patch_groups"])
    to_add, to_remove = pb.patch_group_changes((current or {}).get("PatchGroups"), groups)
    moves = {}
    if to_add:
        owners = pb.patch_group_owners(client, os_name)
        moves = pb.patch_group_moves(to_add, owners, (current or {}).get("BaselineId"), params["force_patch_groups"], os_name)
    return to_add, to_remove, moves


def apply_patch_groups(client, baseline_id, to_add, to_remove, moves, check_mode):
    if check_mode:
        return
    for group in to_remove:
        pb.deregister_patch_group(client, baseline_id, group)
    for group in to_add:
        if group in moves:
            pb.deregister_patch_group(client, moves[group], group)
        pb.register_patch_group(client, baseline_id, group)


def ensure_default(client, baseline, is_default, wanted, check_mode):
    """Make the baseline the default for its OS (wanted True) or hand that back to AWS's (wanted False)."""
    if wanted is None or bool(wanted) == bool(is_default):
        return False
    os_name = baseline["OperatingSystem"]
    if wanted:
        target = baseline.get("BaselineId")
    else:
        if pb.is_aws_owned(baseline.get("BaselineId")):
            raise pb.PatchBaselineValidationError(
                f"{baseline['Name']} is AWS's default baseline for {os_name}; make another baseline the default instead."
            )
        target = pb.aws_default_baseline_id(client, os_name)
    if not check_mode:
        pb.register_default_patch_baseline(client, target)
    return True


def ensure_present(client, current, current_tags, current_default, params, check_mode):
    """Returns (changed, final baseline, final tags, final default status)."""
    os_name = operating_system_of(current, params)
    check_aws_owned(current, params)
    desired = pb.desired_baseline(params, os_name)
    differences = pb.compare_baseline(desired, current)
    merged = pb.merged_baseline(desired, current)
    if differences:
        pb.check_complete(merged, params["name"] or current["Name"])
    to_add, to_remove, moves = plan_patch_groups(client, current, params, os_name)

    changed, final, final_tags = False, current, current_tags
    baseline_id = (current or {}).get("BaselineId")
    if current is None:
        request = pb.create_request(merged, os_name, params["tags"])
        if not check_mode:
            baseline_id = pb.create_patch_baseline(client, request)
        final, final_tags, changed = pb.predict_baseline(merged, None, os_name, baseline_id), dict(params["tags"] or {}), True
    elif differences:
        if not check_mode:
            pb.update_patch_baseline(client, pb.update_request(baseline_id, merged))
        final, changed = pb.predict_baseline(merged, current, os_name), True
    if current is not None and not pb.is_aws_owned(baseline_id):
        tags_changed, final_tags = _tags.ensure_tags(
            client, pb.RESOURCE_TYPE, baseline_id, current_tags, params["tags"], params["purge_tags"], check_mode)
        changed |= tags_changed

    apply_patch_groups(client, baseline_id, to_add, to_remove, moves, check_mode)
    if to_add or to_remove:
        final = dict(final, PatchGroups=pb.validate_patch_groups(params["patch_groups"]))
        changed = True
    default_changed = ensure_default(client, dict(final, BaselineId=baseline_id), current_default, params["default"], check_mode)
    final_default = bool(params["default"]) if default_changed else bool(current_default)
    changed |= default_changed
    if changed and not check_mode:
        final, final_tags, final_default = describe(client, baseline_id=baseline_id)
    return changed, final, final_tags, final_default


def ensure_absent(client, current, current_default, check_mode):
    if current is None:
        return False
    if pb.is_aws_owned(current["BaselineId"]):
        raise pb.PatchBaselineValidationError(f"{current['Name']} is one of AWS's predefined baselines, which cannot be deleted.")
    if current_default:
        raise pb.PatchBaselineValidationError(
            f"Patch baseline {current['BaselineId']} ({current['Name']}) is the default baseline for "
            f"{current['OperatingSystem']}, and AWS does not delete a default baseline. Set default: false first "
            "(AWS's predefined baseline becomes the default again), or make another baseline the default."
        )
    if not check_mode:
        for group in current.get("PatchGroups") or []:
            pb.deregister_patch_group(client, current["BaselineId"], group)
        pb.delete_patch_baseline(client, current["BaselineId"])
    return True


def main():
    argument_spec = dict(
        name=dict(type="str"),
        baseline_id=dict(type="str"),
        operating_system=dict(type="str", choices=list(pb.OPERATING_SYSTEMS)),
        description=dict(type="str"),
        approval_rules=dict(type="list", elements="dict", options=dict(
            patch_filters=dict(type="list", elements="dict", default=[], options=_FILTER_SPEC),
            approve_after_days=dict(type="int"),
            approve_until_date=dict(type="str"),
            compliance_level=dict(type="str", choices=list(pb.COMPLIANCE_LEVELS)),
            enable_non_security=dict(type="bool"),
        )),
        global_filters=dict(type="list", elements="dict", options=_FILTER_SPEC),
        approved_patches=dict(type="list", elements="str"),
        approved_patches_compliance_level=dict(type="str", choices=list(pb.COMPLIANCE_LEVELS)),
        approved_patches_enable_non_security=dict(type="bool"),
        rejected_patches=dict(type="list", elements="str"),
        rejected_patches_action=dict(type="str", choices=list(pb.REJECTED_PATCHES_ACTIONS)),
        sources=dict(type="list", elements="dict", options=dict(
            name=dict(type="str", required=True),
            products=dict(type="list", elements="str", required=True),
            configuration=dict(type="str", required=True),
        )),
        available_security_updates_compliance_status=dict(type="str", choices=list(pb.SECURITY_UPDATES_STATUSES)),
        patch_groups=dict(type="list", elements="str"),
        force_patch_groups=dict(type="bool", default=False),
        default=dict(type="bool"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = FleetOpsSSMModule(argument_spec=argument_spec, supports_check_mode=True,
                               required_one_of=[("name", "baseline_id")])
    client = module.client("ssm")
    params = module.params
    final, final_tags, final_default = None, None, None
    try:
        pb.validate_options(params)
        current, current_tags, current_default = describe(client, params["name"], params["baseline_id"])
        if params["state"] == "absent":
            changed = ensure_absent(client, current, current_default, module.check_mode)
        else:
            changed, final, final_tags, final_default = ensure_present(
                client, current, current_tags, current_default, params, module.check_mode)
    except AnsibleSSMError as e:
        module.fail_json_aws_error(e)
    diff = dict(before=pb.baseline_for_diff(current, current_tags, current_default),
                after=pb.baseline_for_diff(final, final_tags, final_default))
    module.exit_json(changed=changed, patch_baseline=pb.baseline_to_ansible(final, final_tags, final_default), diff=diff)


if __name__ == "__main__":
    main()
