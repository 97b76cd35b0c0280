#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: parameter_info
short_description: Read Parameter Store parameters by name, by path, or by filters
version_added: 0.1.0
description:
  - Reads parameters by O(names) (in batches of 10), by O(path) (recursively by default), or
    lists every parameter that O(parameter_filters) match.
  - Returns their metadata; values only when O(include_values=true), and V(SecureString) values
    in clear only with O(decrypt=true) as well.
  - Optionally returns each parameter's tags and its history of versions and labels.
author:
  - FleetOps SSM maintainers (@fleetops)
options:
  names:
    description:
      - Full names of the parameters to read. A name may select a version or label, as in
        V(/app/db/host:3) or V(/app/db/host:release-42).
      - Names that do not exist are returned in RV(missing).
    type: list
    elements: str
  path:
    description: Read the parameters under this path, for example V(/app/prod).
    type: str
  recursive:
    description: With O(path), read every level below it, not only the first.
    type: bool
    default: true
  parameter_filters:
    description:
      - Filters, as AWS's C(ParameterFilters) takes them. With O(path), AWS allows the keys
        V(Type), V(KeyId) and V(Label); without O(names) and O(path), the parameters are listed
        with C(DescribeParameters), which allows V(Name), V(Type), V(KeyId), V(Path), V(Tier),
        V(DataType) and V(tag:<key>) too. Ignored with O(names).
    type: list
    elements: dict
    suboptions:
      key:
        description: The filter key.
        type: str
        required: true
      option:
        description: How to match, for example V(Equals), V(BeginsWith), V(Recursive) or V(OneLevel).
        type: str
      values:
        description: The values to match.
        type: list
        elements: str
  include_values:
    description:
      - Return each parameter's value. Values are left out unless this is set.
      - Consider C(no_log) on the task when values include secrets.
    type: bool
    default: false
  decrypt:
    description: Decrypt V(SecureString) values (needs C(kms:Decrypt)); without it AWS returns them encrypted.
    type: bool
    default: false
  include_tags:
    description: Return each parameter's tags (one C(ssm:ListTagsForResource) call per parameter).
    type: bool
    default: false
  history:
    description: Return each parameter's versions, with their labels and who changed them and when.
    type: bool
    default: false
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - fleetops.ssm.attributes
  - fleetops.ssm.attributes.info_module
notes:
  - IAM actions used are C(ssm:GetParameters), C(ssm:GetParametersByPath), C(ssm:DescribeParameters),
    and, when asked for, C(ssm:ListTagsForResource), C(ssm:GetParameterHistory) and C(kms:Decrypt).
seealso:
  - module: fleetops.ssm.parameter
  - module: fleetops.ssm.parameter_path
  - plugin: fleetops.ssm.parameter
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: Metadata of every parameter under /app/prod
  fleetops.ssm.parameter_info:
    path: /app/prod
  register: prod

- name: Two parameters with their values, decrypted
  fleetops.ssm.parameter_info:
    names:
      - /app/prod/db/host
      - /app/prod/db/password
    include_values: true
    decrypt: true
  no_log: true
  register: db

- name: Every Advanced-tier parameter in the account and region
  fleetops.ssm.parameter_info:
    parameter_filters:
      - key: Tier
        values: [Advanced]

- name: Who changed the database password, and which version each label points at
  fleetops.ssm.parameter_info:
    names: [/app/prod/db/password]
    history: true
"""

RETURN = r"""
parameters:
  description: The parameters found, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The parameter name.
      returned: always
      type: str
      sample: /app/prod/db/host
    arn:
      description: The parameter ARN.
      returned: always
      type: str
      sample: arn:aws:ssm:us-east-1:123456789012:parameter/app/prod/db/host
    type:
      description: The parameter type.
      returned: always
      type: str
      sample: String
    version:
      description: The version (the selected one when a name selects a version or label).
      returned: always
      type: int
      sample: 3
    tier:
      description: The storage tier.
      returned: always
      type: str
      sample: Standard
    data_type:
      description: The data type.
      returned: always
      type: str
      sample: text
    key_id:
      description: The KMS key of a SecureString.
      returned: when the parameter is a SecureString
      type: str
      sample: alias/aws/ssm
    description:
      description: The description.
      returned: when set
      type: str
      sample: Primary database host
    allowed_pattern:
      description: The allowed pattern.
      returned: when set
      type: str
      sample: "^[a-z.]+$"
    policies:
      description: The policies, in the form M(fleetops.ssm.parameter) takes.
      returned: always
      type: list
      elements: dict
      sample: []
    last_modified_date:
      description: When the parameter last changed (ISO 8601).
      returned: always
      type: str
      sample: "2026-11-29T04:21:07+00:00"
    last_modified_user:
      description: Who last changed the parameter.
      returned: always
      type: str
      sample: arn:aws:iam::123456789012:user/deployer
    value:
      description: The value (encrypted for a SecureString unless O(decrypt=true)).
      returned: when O(include_values=true) and the parameter was read by name or path
      type: str
      sample: db.example.internal
    tags:
      description: The tags, as a dict.
      returned: when O(include_tags=true)
      type: dict
      sample: {"team": "payments"}
    history:
      description: Every version, oldest first.
      returned: when O(history=true)
      type: list
      elements: dict
      contains:
        version:
          description: The version number.
          returned: always
          type: int
          sample: 1
        labels:
          description: The labels on this version.
          returned: always
          type: list
          elements: str
          sample: [release-42]
        type:
          description: The type of this version.
          returned: always
          type: str
          sample: String
        description:
          description: The description of this version.
          returned: when set
          type: str
          sample: Primary database host
        last_modified_date:
          description: When this version was written.
          returned: always
          type: str
          sample: "2026-11-29T04:21:07+00:00"
        last_modified_user:
          description: Who wrote this version.
          returned: always
          type: str
          sample: arn:aws:iam::123456789012:user/deployer
        value:
          description: The value of this version.
          returned: when O(include_values=true)
          type: str
          sample: db.example.internal
missing:
  description: The names in O(names) that do not exist.
  returned: always
  type: list
  elements: str
  sample: [/app/prod/db/replica]
"""

from ansible_collections.fleetops.ssm.plugins.module_utils import _tags
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError
from ansible_collections.fleetops.ssm.plugins.module_utils._modules import FleetOpsSSMModule
from ansible_collections.fleetops.ssm.plugins.module_utils import _parameters as ps


def boto3_filters(filters):
    result = []
    for item in filters or []:
        entry = {"Key": item["key"]}
        if item.get("option"):
            entry["Option"] = item["option"]
        if item.get("values"):
            entry["Values"] = item["values"]
        result.append(entry)
    return result


def read(client, params):
    """Returns ([(parameter or None, metadata)], missing names)."""
    if params["names"]:
        found, missing = ps.get_parameters(client, params["names"], decrypt=params["decrypt"])
        metadata = ps.describe_parameters_by_name(client, sorted({item["Name"] for item in found.values()}))
        return [(item, metadata.get(item["Name"], {})) for item in found.values()], missing
    if params["path"]:
        ps.validate_path(params["path"])
        found = ps.get_parameters_by_path(
            client, params["path"], params["recursive"], params["decrypt"], boto3_filters(params["parameter_filters"])
        )
        metadata = ps.describe_parameters_under_path(client, params["path"], params["recursive"]) if found else {}
        return [(item, metadata.get(item["Name"], {})) for item in found], []
    listed = ps.describe_parameters(client, boto3_filters(params["parameter_filters"]))
    return [(None, item) for item in listed], []


def history_entry(version, include_values):
    entry = dict(
        version=version["Version"],
        labels=version.get("Labels", []),
        type=version["Type"],
        last_modified_date=ps.isoformat(version.get("LastModifiedDate")),
        last_modified_user=version.get("LastModifiedUser"),
    )
    if version.get("Description"):
        entry["description"] = version["Description"]
    if include_values:
        entry["value"] = version.get("Value")
    return entry


def describe(client, parameter, metadata, params):
    state = dict(metadata)
    if parameter:
        state.update({key: value for key, value in parameter.items() if value is not None})
        state["Name"] = parameter["Name"]
    result = {key: value for key, value in ps.describe_for_result(state).items() if value not in (None, [])}
    result.setdefault("policies", [])
    result.pop("labels", None)
    if params["include_values"] and parameter:
        result["value"] = parameter.get("Value")
    if params["include_tags"]:
        result["tags"] = _tags.list_tags(client, ps.RESOURCE_TYPE, state["Name"])
    if params["history"]:
        versions = ps.get_parameter_history(client, state["Name"], decrypt=params["decrypt"]) or []
        result["history"] = [history_entry(item, params["include_values"]) for item in sorted(versions, key=lambda v: v["Version"])]
    return result


def main():
    argument_spec = dict(
        names=dict(type="list", elements="str"),
        path=dict(type="str"),
        recursive=dict(type="bool", default=True),
        parameter_filters=dict(type="list", elements="dict", options=dict(
            key=dict(type="str", required=True, no_log=False),
            option=dict(type="str"),
            values=dict(type="list", elements="str"),
        )),
        include_values=dict(type="bool", default=False),
        decrypt=dict(type="bool", default=False),
        include_tags=dict(type="bool", default=False),
        history=dict(type="bool", default=False),
    )
    module = FleetOpsSSMModule(argument_spec=argument_spec, supports_check_mode=True, mutually_exclusive=[("names", "path")])
    client = module.client("ssm")
    try:
        found, missing = read(client, module.params)
        parameters = [describe(client, parameter, metadata, module.params) for parameter, metadata in found]
    except AnsibleSSMError as e:
        module.fail_json_aws_error(e)
    module.exit_json(changed=False, parameters=sorted(parameters, key=lambda item: item["name"]), missing=missing)


if __name__ == "__main__":
    main()
