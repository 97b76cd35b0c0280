#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: parameter
short_description: Manage one AWS Systems Manager Parameter Store parameter
version_added: 0.1.0
description:
  - Create, update and delete one parameter in AWS Systems Manager Parameter Store, with its
    value, type, encryption key, tier, data type, allowed pattern, description, policies,
    labels and tags.
  - Drift is detected in every attribute the task sets, and in nothing it leaves unset; the value
    is compared decrypted. Unset attributes keep their current values when the parameter is updated.
  - A V(SecureString) value never appears in the module's result or its diff.
  - To manage a whole tree of parameters in one task, use M(fleetops.ssm.parameter_path).
author:
  - FleetOps SSM maintainers (@fleetops)
options:
  name:
    description:
      - The full name of the parameter, for example V(/app/prod/db/host).
      - Names use letters, digits and V(_ . - /), may not begin with V(aws) or V(ssm), and a
        hierarchical name starts with V(/) and has at most 15 levels.
    type: str
    required: true
  value:
    description:
      - The value. Required to create a parameter; when unset, an existing value is left alone.
      - A list is joined with commas for a V(StringList); an element that contains a comma is an error.
      - Standard-tier values hold up to 4 KB, Advanced-tier values up to 8 KB.
    type: raw
  type:
    description:
      - The parameter type. A new parameter without a type is V(String), or V(StringList) when
        O(value) is a list.
      - Changing an existing parameter to or from V(SecureString) needs O(allow_secure_string_change=true).
    type: str
    choices: [String, StringList, SecureString]
  key_id:
    description:
      - The KMS key (id, ARN or alias) that encrypts a V(SecureString) value. AWS uses
        V(alias/aws/ssm) when it is unset.
      - Compared with the key AWS reports for the parameter as it was given, so use the same form each time.
    type: str
  tier:
    description:
      - The storage tier. V(Intelligent-Tiering) lets AWS choose, and never counts as drift.
      - AWS cannot move an Advanced parameter back to Standard; the module says so before any change.
      - When unset, an existing parameter keeps its tier and a new one is V(Standard).
    type: str
    choices: [Standard, Advanced, Intelligent-Tiering]
  data_type:
    description: The data type AWS validates the value against.
    type: str
    choices: [text, "aws:ec2:image", "aws:ssm:integration"]
  allowed_pattern:
    description: A regular expression that every value of the parameter must match.
    type: str
  description:
    description: A description of up to 1024 characters.
    type: str
  policies:
    description:
      - Parameter policies, which need tier V(Advanced) or V(Intelligent-Tiering).
      - An empty list removes every policy; when unset, the current policies are left alone.
    type: list
    elements: dict
    suboptions:
      type:
        description: The policy type.
        type: str
        required: true
        choices: [Expiration, ExpirationNotification, NoChangeNotification]
      timestamp:
        description: When the parameter expires (ISO 8601), for V(Expiration).
        type: str
      before:
        description: How long before expiry to notify, for V(ExpirationNotification).
        type: int
      after:
        description: How long without a change before notifying, for V(NoChangeNotification).
        type: int
      unit:
        description: The unit of O(policies[].before) or O(policies[].after).
        type: str
        choices: [Days, Hours]
  labels:
    description:
      - Labels to attach to the resulting version. A label on another version moves to it.
      - Labels on the version that the task does not list are left alone.
    type: list
    elements: str
  overwrite:
    description:
      - When to write a new version of an existing parameter.
      - V(changed) writes only when a managed attribute differs; V(always) writes a new version on
        every run (not idempotent); V(never) leaves an existing value and attributes alone, while
        labels and tags are still managed.
    type: str
    choices: [always, changed, never]
    default: changed
  allow_secure_string_change:
    description: Allow changing the type of an existing parameter to or from V(SecureString).
    type: bool
    default: false
  state:
    description: Whether the parameter should exist. V(absent) deletes it with all its versions.
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
      - Predicts the resulting parameter, including its next version, without writing.
  diff_mode:
    support: full
    details:
      - Shows the managed attributes before and after. A V(SecureString) value shows only as masked and whether it changed.
  idempotent:
    support: full
    details:
      - Except with O(overwrite=always), which writes a new version on every run.
notes:
  - IAM actions used are C(ssm:GetParameter), C(ssm:GetParameterHistory), C(ssm:PutParameter),
    C(ssm:DeleteParameter), C(ssm:LabelParameterVersion), C(ssm:ListTagsForResource),
    C(ssm:AddTagsToResource) and C(ssm:RemoveTagsFromResource); V(SecureString) values also need
    C(kms:Encrypt) and C(kms:Decrypt) on the key.
seealso:
  - module: fleetops.ssm.parameter_path
  - module: fleetops.ssm.parameter_info
  - plugin: fleetops.ssm.parameter
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: Store the database host
  fleetops.ssm.parameter:
    name: /app/prod/db/host
    value: db.example.internal
    description: Primary database host
    tags:
      team: payments

- name: Store a secret with a customer managed key, labelled as the current release
  fleetops.ssm.parameter:
    name: /app/prod/db/password
    value: "{{ vault_db_password }}"
    type: SecureString
    key_id: alias/app-prod
    labels:
      - release-42

- name: A list of allowed origins
  fleetops.ssm.parameter:
    name: /app/prod/cors/origins
    value:
      - https://app.example.com
      - https://admin.example.com

- name: A token that expires, with a reminder a week before
  fleetops.ssm.parameter:
    name: /app/prod/partner/token
    value: "{{ partner_token }}"
    type: SecureString
    tier: Advanced
    policies:
      - type: Expiration
        timestamp: "2027-06-30T00:00:00Z"
      - type: ExpirationNotification
        before: 7
        unit: Days

- name: Remove a parameter
  fleetops.ssm.parameter:
    name: /app/prod/legacy/flag
    state: absent
"""

RETURN = r"""
parameter:
  description: The parameter after the task (predicted in check mode); empty after deletion. Never holds the value.
  returned: always
  type: dict
  contains:
    name:
      description: The parameter name.
      returned: success
      type: str
      sample: /app/prod/db/host
    arn:
      description: The parameter ARN (not known in check mode for a new parameter).
      returned: success
      type: str
      sample: arn:aws:ssm:us-east-1:123456789012:parameter/app/prod/db/host
    type:
      description: The parameter type.
      returned: success
      type: str
      sample: String
    version:
      description: The current version.
      returned: success
      type: int
      sample: 3
    tier:
      description: The storage tier.
      returned: success
      type: str
      sample: Standard
    data_type:
      description: The data type.
      returned: success
      type: str
      sample: text
    key_id:
      description: The KMS key of a SecureString.
      returned: success
      type: str
      sample: alias/aws/ssm
    description:
      description: The description.
      returned: success
      type: str
      sample: Primary database host
    allowed_pattern:
      description: The allowed pattern.
      returned: success
      type: str
      sample: "^[a-z.]+$"
    policies:
      description: The policies, in the form O(policies) takes.
      returned: success
      type: list
      elements: dict
      sample: [{"type": "ExpirationNotification", "before": "7", "unit": "Days"}]
    labels:
      description: The labels on the current version.
      returned: success
      type: list
      elements: str
      sample: ["release-42"]
    last_modified_date:
      description: When the parameter last changed (ISO 8601).
      returned: success
      type: str
      sample: "2026-11-29T04:21:07+00:00"
    last_modified_user:
      description: Who last changed the parameter.
      returned: success
      type: str
      sample: arn:aws:iam::123456789012:user/deployer
    tags:
      description: The tags, as a dict.
      returned: success
      type: dict
      sample: {"team": "payments"}
"""

from ansible_collections.fleetops.ssm.plugins.module_utils import _tags
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import ParameterValidationError
from ansible_collections.fleetops.ssm.plugins.module_utils._modules import FleetOpsSSMModule
from ansible_collections.fleetops.ssm.plugins.module_utils import _parameters as ps


def describe(client, name):
    """The current state of the parameter and its tags, or (None, None) when it does not exist."""
    history = ps.get_parameter_history(client, name)
    if not history:
        return None, None
    current = ps.current_from_history(history, ps.get_parameter(client, name, decrypt=False))
    return current, _tags.list_tags(client, ps.RESOURCE_TYPE, name)


def ensure_labels(client, name, state, labels, check_mode):
    missing = sorted(set(labels or []) - set(state.get("Labels") or []))
    if not missing:
        return False
    if not check_mode:
        result = ps.label_parameter_version(client, name, state["Version"], missing)
        if result.get("InvalidLabels"):
            raise ParameterValidationError(
                f"Parameter {name}: AWS refused the labels {', '.join(result['InvalidLabels'])}. Labels have at most "
                "100 characters of letters, digits, '.', '-' and '_', and may not begin with a digit, 'aws' or 'ssm'."
            )
    state["Labels"] = sorted(set(state.get("Labels") or []) | set(missing))
    return True


def ensure_present(client, current, current_tags, params, check_mode):
    """Returns (changed, final state, final tags, value changed)."""
    name = params["name"]
    desired = ps.desired_parameter(name, params)
    if current is None and desired["Value"] is None:
        raise ParameterValidationError(f"Parameter {name} does not exist: set value to create it.")
    ps.check_tier(desired, current)
    differences = ps.compare_parameter(desired, current, params["allow_secure_string_change"])
    write = current is None or params["overwrite"] == "always" or (params["overwrite"] == "changed" and differences)
    final, final_tags, changed = current, current_tags, False
    if write:
        request = ps.put_request(desired, current, params["tags"] if current is None else None)
        final = ps.predict_parameter(request, current)
        if not check_mode:
            final["Version"] = ps.put_parameter(client, request)["Version"]
        if current is None:
            current_tags = dict(params["tags"] or {})
        changed = True
    changed |= ensure_labels(client, name, final, params["labels"], check_mode)
    tags_changed, final_tags = _tags.ensure_tags(client, ps.RESOURCE_TYPE, name, current_tags, params["tags"], params["purge_tags"], check_mode)
    changed |= tags_changed
    if changed and not check_mode:
        final, final_tags = describe(client, name)
    return changed, final, final_tags, bool(write and "Value" in differences)


def ensure_absent(client, current, check_mode):
    if current is None:
        return False
    if not check_mode:
        ps.delete_parameter(client, current["Name"])
    return True


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        value=dict(type="raw", no_log=True),
        type=dict(type="str", choices=["String", "StringList", "SecureString"]),
        key_id=dict(type="str", no_log=False),
        tier=dict(type="str", choices=["Standard", "Advanced", "Intelligent-Tiering"]),
        data_type=dict(type="str", choices=["text", "aws:ec2:image", "aws:ssm:integration"]),
        allowed_pattern=dict(type="str"),
        description=dict(type="str"),
        policies=dict(type="list", elements="dict", options=dict(
            type=dict(type="str", required=True, choices=list(ps.POLICY_TYPES)),
            timestamp=dict(type="str"),
            before=dict(type="int"),
            after=dict(type="int"),
            unit=dict(type="str", choices=["Days", "Hours"]),
        )),
        labels=dict(type="list", elements="str"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        overwrite=dict(type="str", choices=["always", "changed", "never"], default="changed"),
        allow_secure_string_change=dict(type="bool", default=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = FleetOpsSSMModule(argument_spec=argument_spec, supports_check_mode=True)
    client = module.client("ssm")
    params = module.params
    value_changed = False
    try:
        ps.validate_name(params["name"])
        current, current_tags = describe(client, params["name"])
        if current and current["Type"] == ps.SECURE:
            module.hide(current["Value"])
        if params["state"] == "absent":
            changed, final, final_tags = ensure_absent(client, current, module.check_mode), None, None
        else:
            changed, final, final_tags, value_changed = ensure_present(client, current, current_tags, params, module.check_mode)
    except AnsibleSSMError as e:
        module.fail_json_aws_error(e)
    diff = dict(before=ps.describe_for_diff(current, current_tags), after=ps.describe_for_diff(final, final_tags, value_changed))
    module.exit_json(changed=changed, parameter=ps.describe_for_result(final, final_tags), diff=diff)


if __name__ == "__main__":
    main()
