#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: parameter_path
short_description: Manage the whole tree of Parameter Store parameters under a path as one resource
version_added: 0.1.0
description:
  - Keeps every parameter under a path, for example the configuration of one environment, as
    the task describes it. It reads the tree once, writes only the parameters that differ and
    reports, per parameter, whether it was created, updated, deleted or left unchanged.
  - Parameters under the path that the task does not list are left alone, unless O(purge=true).
  - Everything is validated before the first write, so bad input changes nothing.
  - V(SecureString) values never appear in the result or the diff. They are kept out of the module
    log on the target too when the entry, or the O(type) default, says V(SecureString); the value of
    an existing V(SecureString) whose entry sets no type is masked from the moment the tree is read.
author:
  - FleetOps SSM maintainers (@fleetops)
options:
  path:
    description:
      - The path that holds the tree, for example V(/app/prod). It starts with V(/).
    type: str
    required: true
  parameters:
    description:
      - The parameters, by name relative to O(path) (V(db/host) is O(path)V(/db/host)).
      - Each maps to its value (a string, a number, a boolean, or a list for a V(StringList)), or
        to a dict with C(value) and any of C(type), C(key_id), C(tier), C(data_type),
        C(allowed_pattern), C(description), C(policies) and C(tags), which mean what the options of
        M(fleetops.ssm.parameter) mean.
      - With O(state=absent), the parameters to delete (their values are ignored); when unset,
        every parameter under O(path) is deleted.
    type: dict
  type:
    description:
      - The type of the parameters that do not set one. When unset, new parameters are V(String)
        (V(StringList) for lists) and existing ones keep their type.
    type: str
    choices: [String, StringList, SecureString]
  key_id:
    description: The KMS key of the V(SecureString) parameters that do not set one.
    type: str
  tier:
    description: The tier of the parameters that do not set one. When unset, existing parameters keep their tier.
    type: str
    choices: [Standard, Advanced, Intelligent-Tiering]
  tags:
    description:
      - Tags for every parameter, merged with each parameter's own C(tags).
      - When neither is set, tags are left alone.
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description: Remove the tags of a parameter that O(tags) and its own C(tags) do not name (when either is set).
    type: bool
    default: true
  purge:
    description:
      - Delete the parameters under O(path), at any depth, that O(parameters) does not list.
      - Check mode and diff mode list them first.
    type: bool
    default: false
  allow_secure_string_change:
    description: Allow changing existing parameters to or from V(SecureString).
    type: bool
    default: false
  state:
    description: V(present) writes the tree; V(absent) deletes the listed parameters, or the whole tree.
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
      - Reports what would be created, updated and deleted, without writing.
  diff_mode:
    support: full
    details:
      - Shows the parameters that change, before and after; V(SecureString) values show only as masked.
  idempotent:
    support: full
notes:
  - The tree is read with C(ssm:GetParametersByPath) (and C(ssm:DescribeParameters) when tiers, keys,
    descriptions, patterns or policies are managed), written with C(ssm:PutParameter), and pruned with
    C(ssm:DeleteParameters) in batches of 10. Tags use C(ssm:ListTagsForResource),
    C(ssm:AddTagsToResource) and C(ssm:RemoveTagsFromResource). V(SecureString) values also need
    C(kms:Encrypt) and C(kms:Decrypt).
  - The per-parameter result comes from the write responses; the tree is not read again after the writes.
seealso:
  - module: fleetops.ssm.parameter
  - module: fleetops.ssm.parameter_info
"""

EXAMPLES = r"""
- name: Configuration of the production environment
  fleetops.ssm.parameter_path:
    path: /app/prod
    tags:
      environment: prod
    parameters:
      db/host: db.example.internal
      db/port: 5432
      db/password:
        value: "{{ vault_db_password }}"
        type: SecureString
      features/enabled: [search, billing]
      banner:
        value: Scheduled maintenance on Sunday
        description: Shown on the login page

- name: The same tree, deleting whatever else is under /app/prod
  fleetops.ssm.parameter_path:
    path: /app/prod
    parameters: "{{ prod_parameters }}"
    purge: true

- name: Remove a retired environment
  fleetops.ssm.parameter_path:
    path: /app/legacy
    state: absent
"""

RETURN = r"""
parameters:
  description: One entry per parameter the task listed or deleted, sorted by name. Values are never returned.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The full parameter name.
      returned: always
      type: str
      sample: /app/prod/db/host
    action:
      description: What the task did (or would do in check mode).
      returned: always
      type: str
      sample: updated
      choices: [created, updated, deleted, unchanged]
    changes:
      description: The attributes that differed (API names, for example C(Value) or C(Tags)).
      returned: always
      type: list
      elements: str
      sample: [Value]
    type:
      description: The parameter type.
      returned: unless deleted
      type: str
      sample: String
    version:
      description: The parameter version after the task (predicted in check mode).
      returned: unless deleted
      type: int
      sample: 2
created:
  description: Names of the parameters created.
  returned: always
  type: list
  elements: str
  sample: [/app/prod/db/host]
updated:
  description: Names of the parameters updated.
  returned: always
  type: list
  elements: str
  sample: [/app/prod/db/port]
deleted:
  description: Names of the parameters deleted.
  returned: always
  type: list
  elements: str
  sample: [/app/prod/old]
unchanged:
  description: Names of the listed parameters that already matched.
  returned: always
  type: list
  elements: str
  sample: [/app/prod/banner]
"""

from ansible_collections.fleetops.ssm.plugins.module_utils import _tags
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import ParameterValidationError
from ansible_collections.fleetops.ssm.plugins.module_utils._modules import FleetOpsSSMModule
from ansible_collections.fleetops.ssm.plugins.module_utils import _parameters as ps

ENTRY_KEYS = ("value", "type", "key_id", "tier", "data_type", "allowed_pattern", "description", "policies", "tags")
METADATA_KEYS = ("key_id", "tier", "allowed_pattern", "description", "policies")


def full_name(path, relative):
    relative = str(relative)
    if relative.startswith("/") or not relative.strip("/"):
        raise ParameterValidationError(
            f"Parameter {relative!r}: names in parameters are relative to path {path} and may not start with '/'."
        )
    return path.rstrip("/") + "/" + relative


def entry_options(name, entry, params):
    """One parameter's options: its own, else the task's defaults."""
    if not isinstance(entry, dict):
        entry = {"value": entry}
    unknown = sorted(set(entry) - set(ENTRY_KEYS))
    if unknown:
        raise ParameterValidationError(f"Parameter {name}: unknown keys {', '.join(unknown)}; use {', '.join(ENTRY_KEYS)}.")
    options = dict(entry)
    for key in ("type", "tier"):
        if options.get(key) is None:
            options[key] = params[key]
    if options.get("key_id") is None and options.get("type") == ps.SECURE:
        options["key_id"] = params["key_id"]
    if options.get("tags") is not None or params["tags"] is not None:
        options["tags"] = dict(params["tags"] or {}, **(options.get("tags") or {}))
    return options


def desired_tree(params):
    """{full name: (desired state, tags)}, validated; raises before anything is written."""
    tree = {}
    for relative, entry in (params["parameters"] or {}).items():
        name = full_name(params["path"], relative)
        options = entry_options(name, entry, params)
        tree[name] = (ps.desired_parameter(name, options), options.get("tags"))
    return tree


def _value_text(value):
    return ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def secure_values(params, names=None):
    """The SecureString values the task carries, to keep out of logs and results.

    ``names``: relative names known to be SecureString already (the current type of a
    parameter whose entry sets no type).
    """
    for name, entry in (params.get("parameters") or {}).items():
        entry = entry if isinstance(entry, dict) else {"value": entry}
        secure = (entry.get("type") or params.get("type")) == ps.SECURE or name in (names or ())
        if secure and entry.get("value") is not None:
            yield _value_text(entry["value"])
            if isinstance(entry["value"], (list, tuple)):
                yield from (str(item) for item in entry["value"])


def read_tree(client, path, tree, params):
    """The current parameters under the path, with metadata when the task manages any of it."""
    found = ps.get_parameters_by_path(client, path, recursive=True, decrypt=True)
    wanted = any(params[key] is not None for key in ("key_id", "tier")) or any(
        isinstance(entry, dict) and any(entry.get(key) is not None for key in METADATA_KEYS)
        for entry in (params["parameters"] or {}).values()
    ) or any(len((desired["Value"] or "").encode("utf-8")) > ps.TIER_LIMITS["Standard"] for desired, _tags in tree.values())
    metadata = ps.describe_parameters_under_path(client, path) if wanted and found else {}
    return {item["Name"]: ps.current_from_path(item, metadata.get(item["Name"])) for item in found}, bool(metadata)


def plan_present(client, tree, current_tree, params):
    """One entry per listed parameter: what differs and what to do about it. Writes nothing."""
    plan = []
    for name, (desired, tags) in sorted(tree.items()):
        current = current_tree.get(name)
        if current is None and desired["Value"] is None:
            raise ParameterValidationError(f"Parameter {name} does not exist: set its value to create it.")
        ps.check_tier(desired, current)
        entry = dict(name=name, desired=desired, current=current, tags=tags, current_tags=None, tag_changes=({}, []))
        if current is None:
            entry.update(action="created", changes=[])
        else:
            entry["changes"] = ps.compare_parameter(desired, current, params["allow_secure_string_change"])
            if tags is not None:
                entry["current_tags"] = _tags.list_tags(client, ps.RESOURCE_TYPE, name)
                entry["tag_changes"] = _tags.tag_changes(entry["current_tags"], tags, params["purge_tags"])
                entry["changes"] += ["Tags"] if any(entry["tag_changes"]) else []
            entry["action"] = "updated" if entry["changes"] else "unchanged"
        entry["write"] = current is None or bool(set(entry["changes"]) - {"Tags"})
        plan.append(entry)
    return plan


def apply_present(client, plan, have_metadata, check_mode):
    results, before, after = [], {}, {}
    updates = [entry for entry in plan if entry["write"] and entry["current"]]
    if updates and not have_metadata:
        # Unset attributes are sent again on update, so they must be known first.
        metadata = ps.describe_parameters_by_name(client, [entry["name"] for entry in updates])
        for entry in updates:
            entry["current"] = ps.current_from_path(entry["current"], metadata.get(entry["name"]))
    for entry in plan:
        name, current, state = entry["name"], entry["current"], entry["current"]
        if entry["write"]:
            request = ps.put_request(entry["desired"], current, entry["tags"] if current is None else None)
            state = ps.predict_parameter(request, current)
            if not check_mode:
                state["Version"] = ps.put_parameter(client, request)["Version"]
        if entry["action"] != "unchanged":
            tags = _tags.apply_tag_changes(client, ps.RESOURCE_TYPE, name, entry["current_tags"], *entry["tag_changes"], check_mode)
            before[name] = ps.describe_for_diff(current, entry["current_tags"])
            after[name] = ps.describe_for_diff(state, tags if current else entry["tags"], "Value" in entry["changes"])
        results.append(dict(name=name, action=entry["action"], changes=entry["changes"], type=state["Type"], version=state["Version"]))
    return results, before, after


def apply_deletions(client, names, current_tree, check_mode):
    if names and not check_mode:
        ps.delete_parameters(client, names)
    results = [dict(name=name, action="deleted", changes=[]) for name in names]
    return results, {name: ps.describe_for_diff(current_tree[name]) for name in names}


def ensure_absent(client, params, check_mode):
    """Returns (results, diff before, diff after). Only names are validated: values are ignored."""
    ps.validate_path(params["path"])
    listed = {full_name(params["path"], relative) for relative in (params["parameters"] or {})}
    for name in listed:
        ps.validate_name(name)
    current_tree = {item["Name"]: ps.current_from_path(item)
                    for item in ps.get_parameters_by_path(client, params["path"], recursive=True, decrypt=False)}
    names = sorted(listed & set(current_tree)) if params["parameters"] is not None else sorted(current_tree)
    results, before = apply_deletions(client, names, current_tree, check_mode)
    return results, before, {}


def ensure_present(client, params, check_mode, hide):
    """Returns (results, diff before, diff after); ``hide`` masks secrets as soon as they are known."""
    ps.validate_path(params["path"])
    tree = desired_tree(params)
    current_tree, have_metadata = read_tree(client, params["path"], tree, params)
    prefix = params["path"].rstrip("/") + "/"
    hide(*secure_values(params, [name[len(prefix):] for name, item in current_tree.items() if item["Type"] == ps.SECURE]))
    plan = plan_present(client, tree, current_tree, params)
    stale = sorted(set(current_tree) - set(tree)) if params["purge"] else []
    results, before, after = apply_present(client, plan, have_metadata, check_mode)
    deleted, deleted_before = apply_deletions(client, stale, current_tree, check_mode)
    before.update(deleted_before)
    return sorted(results + deleted, key=lambda item: item["name"]), before, after


def ensure(client, params, check_mode, hide=lambda *values: None):
    if params["state"] == "absent":
        return ensure_absent(client, params, check_mode)
    return ensure_present(client, params, check_mode, hide)


def main():
    argument_spec = dict(
        path=dict(type="str", required=True),
        parameters=dict(type="dict"),
        type=dict(type="str", choices=["String", "StringList", "SecureString"]),
        key_id=dict(type="str", no_log=False),
        tier=dict(type="str", choices=["Standard", "Advanced", "Intelligent-Tiering"]),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        purge=dict(type="bool", default=False),
        allow_secure_string_change=dict(type="bool", default=False),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = FleetOpsSSMModule(argument_spec=argument_spec, supports_check_mode=True, secrets=secure_values)
    client = module.client("ssm")
    try:
        results, before, after = ensure(client, module.params, module.check_mode, module.hide)
    except AnsibleSSMError as e:
        module.fail_json_aws_error(e)
    by_action = {action: [item["name"] for item in results if item["action"] == action]
                 for action in ("created", "updated", "deleted", "unchanged")}
    changed = any(by_action[action] for action in ("created", "updated", "deleted"))
    module.exit_json(changed=changed, parameters=results, diff=dict(before=before, after=after), **by_action)


if __name__ == "__main__":
    main()
