#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: activation_info
short_description: List AWS Systems Manager hybrid activations
version_added: 0.1.0
description:
  - Lists hybrid activations (C(DescribeActivations), 50 per call) with how many nodes registered
    with each, whether they expired, and their tags. Activation codes are never listed, as AWS returns
    a code only when it creates the activation.
  - O(activation_ids), O(default_instance_names) and O(iam_roles) are sent to AWS as filters;
    O(tags), O(expired) and O(usable) are applied to the answer.
author:
  - FleetOps SSM maintainers (@fleetops)
options:
  activation_ids:
    description: Only these activations.
    type: list
    elements: str
  default_instance_names:
    description: Only activations that name their nodes with one of these names.
    type: list
    elements: str
  iam_roles:
    description: Only activations that give their nodes one of these IAM roles.
    type: list
    elements: str
  tags:
    description: Only activations that have all these tags with these values.
    type: dict
  expired:
    description: V(true) lists only expired activations, V(false) only the ones that did not expire; unset lists both.
    type: bool
  usable:
    description:
      - V(true) lists only activations that more nodes can still register with (not expired, with
        registrations left), V(false) only the others; unset lists both.
    type: bool
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - fleetops.ssm.attributes
  - fleetops.ssm.attributes.info_module
notes:
  - IAM action used is C(ssm:DescribeActivations).
seealso:
  - module: fleetops.ssm.activation
"""

EXAMPLES = r"""
- name: Activations of the web tier that can still register nodes
  fleetops.ssm.activation_info:
    default_instance_names: [web]
    usable: true
  register: web

- name: Expired activations, to clean up
  fleetops.ssm.activation_info:
    expired: true
  register: old

- name: Delete them
  fleetops.ssm.activation:
    activation_id: "{{ item }}"
    state: absent
  loop: "{{ old.activations | map(attribute='activation_id') }}"
"""

RETURN = r"""
activations:
  description: The activations, oldest first.
  returned: always
  type: list
  elements: dict
  contains:
    activation_id:
      description: The activation id.
      returned: always
      type: str
      sample: 3f8a1c6e-1b2d-4e5f-8a9b-0c1d2e3f4a5b
    description:
      description: The description.
      returned: always
      type: str
      sample: Web tier of the Berlin data centre
    default_instance_name:
      description: The name the registered nodes get.
      returned: always
      type: str
      sample: web
    iam_role:
      description: The IAM role the registered nodes get.
      returned: always
      type: str
      sample: SSMServiceRole
    registration_limit:
      description: How many nodes can register.
      returned: always
      type: int
      sample: 10
    registrations_count:
      description: How many nodes registered.
      returned: always
      type: int
      sample: 3
    expiration_date:
      description: When the activation expires (ISO 8601).
      returned: always
      type: str
      sample: "2026-07-01T00:00:00+00:00"
    expired:
      description: Whether it expired.
      returned: always
      type: bool
      sample: false
    created_date:
      description: When it was created (ISO 8601).
      returned: always
      type: str
      sample: "2026-06-30T00:00:00+00:00"
    tags:
      description: The tags, as a dict.
      returned: always
      type: dict
      sample: {"Role": "web"}
"""

from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.fleetops.ssm.plugins.module_utils import _activations as act
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError
from ansible_collections.fleetops.ssm.plugins.module_utils._modules import FleetOpsSSMModule


def request_filters(params):
    filters = []
    for option, key in (("activation_ids", "ActivationIds"), ("default_instance_names", "DefaultInstanceName"),
                        ("iam_roles", "IamRole")):
        if params[option]:
            filters.append({"FilterKey": key, "FilterValues": list(params[option])})
    return filters


def selected(activation, params):
    if params["tags"]:
        tags = boto3_tag_list_to_ansible_dict(activation.get("Tags") or [])
        if any(tags.get(str(key)) != str(value) for key, value in params["tags"].items()):
            return False
    if params["expired"] is not None and act.expired(activation) != params["expired"]:
        return False
    if params["usable"] is not None and act.usable(activation) != params["usable"]:
        return False
    return True


def main():
    argument_spec = dict(
        activation_ids=dict(type="list", elements="str"),
        default_instance_names=dict(type="list", elements="str"),
        iam_roles=dict(type="list", elements="str"),
        tags=dict(type="dict"),
        expired=dict(type="bool"),
        usable=dict(type="bool"),
    )
    module = FleetOpsSSMModule(argument_spec=argument_spec, supports_check_mode=True)
    client = module.client("ssm")
    params = module.params
    try:
        for activation_id in params["activation_ids"] or []:
            act.validate_activation_id(activation_id)
        found = act.describe_activations(client, request_filters(params))
    except AnsibleSSMError as e:
        module.fail_json_aws_error(e)
    found = sorted((item for item in found if selected(item, params)), key=lambda item: act.to_ansible(item)["created_date"] or "")
    module.exit_json(changed=False, activations=[act.to_ansible(item) for item in found])


if __name__ == "__main__":
    main()
