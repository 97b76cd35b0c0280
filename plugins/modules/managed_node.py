#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: managed_node
short_description: Deregister a hybrid managed node from AWS Systems Manager, or manage its tags
version_added: 0.1.0
description:
  - Manages one hybrid node (V(mi-...)), a machine outside EC2 that registered with an activation.
  - O(state=absent) deregisters it (C(DeregisterManagedInstance)); it leaves Systems Manager and its
    agent can no longer connect. To manage the machine again, register its agent with a new
    activation (the C(fleetops.ssm.agent) role does both).
  - O(state=present) checks that the node is registered and manages its tags. An EC2 instance is
    managed through EC2 instead (its tags are EC2 tags, and it leaves SSM with its instance).
author:
  - FleetOps SSM maintainers (@fleetops)
options:
  instance_id:
    description: The node's id, such as V(mi-0123456789abcdef0).
    type: str
    required: true
  state:
    description: V(present) keeps the node registered (and manages its tags), V(absent) deregisters it.
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
      - Reports whether the node would be deregistered, or its tags changed, without doing it.
  diff_mode:
    support: full
    details:
      - Shows the node's registration and tags before and after.
  idempotent:
    support: full
notes:
  - IAM actions used are C(ssm:DescribeInstanceInformation), C(ssm:DeregisterManagedInstance),
    C(ssm:ListTagsForResource), C(ssm:AddTagsToResource) and C(ssm:RemoveTagsFromResource).
seealso:
  - module: fleetops.ssm.managed_node_info
  - module: fleetops.ssm.activation
"""

EXAMPLES = r"""
- name: Label a hybrid node
  fleetops.ssm.managed_node:
    instance_id: mi-0123456789abcdef0
    tags:
      Patch Group: web
    purge_tags: false

- name: Deregister a decommissioned server
  fleetops.ssm.managed_node:
    instance_id: mi-0123456789abcdef0
    state: absent
"""

RETURN = r"""
managed_node:
  description:
    - The node after the task, as M(fleetops.ssm.managed_node_info) describes it, with its tags;
      empty once deregistered.
  returned: always
  type: dict
  contains:
    instance_id:
      description: The node id.
      returned: success
      type: str
      sample: mi-0123456789abcdef0
    ping_status:
      description: V(Online), V(ConnectionLost) or V(Inactive).
      returned: success
      type: str
      sample: Online
    activation_id:
      description: The activation the node registered with.
      returned: success
      type: str
      sample: 3f8a1c6e-1b2d-4e5f-8a9b-0c1d2e3f4a5b
    computer_name:
      description: The node's host name.
      returned: success
      type: str
      sample: web-1.example.com
    node_name:
      description: The name the node got from its activation.
      returned: success
      type: str
      sample: web
    tags:
      description: The node's tags.
      returned: success
      type: dict
      sample: {"Patch Group": "web"}
"""

from ansible_collections.fleetops.ssm.plugins.module_utils import _activations as act
from ansible_collections.fleetops.ssm.plugins.module_utils import _nodes as nodes
from ansible_collections.fleetops.ssm.plugins.module_utils import _tags
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError
from ansible_collections.fleetops.ssm.plugins.module_utils._modules import FleetOpsSSMModule

RESOURCE_TYPE = "ManagedInstance"  # for the tagging API


def describe(client, instance_id):
    """The node with its tags, or None when it is not registered."""
    found = nodes.describe_instance_information(client, [{"Key": "InstanceIds", "Values": [instance_id]}])
    if not found:
        return None
    result = nodes.node_to_ansible(found[0])
    result["tags"] = _tags.list_tags(client, RESOURCE_TYPE, instance_id)
    return result


def ensure_present(client, current, params, check_mode):
    if current is None:
        raise act.ActivationValidationError(
            f"Managed node {params['instance_id']} is not registered in this region. Register its agent with an "
            "activation first (fleetops.ssm.activation, or the fleetops.ssm.agent role)."
        )
    changed, tags = _tags.ensure_tags(client, RESOURCE_TYPE, params["instance_id"], current["tags"], params["tags"],
                                      params["purge_tags"], check_mode)
    if changed and not check_mode:
        return True, describe(client, params["instance_id"])
    return changed, dict(current, tags=tags)


def ensure_absent(client, current, instance_id, check_mode):
    if current is None:
        return False
    if check_mode:
        return True
    return act.deregister_managed_instance(client, instance_id)


def for_diff(node):
    """The node's registration and tags (not its ping, which changes all the time)."""
    if not node:
        return {}
    return {"instance_id": node.get("instance_id"), "registered": True, "tags": node.get("tags") or {}}


def main():
    argument_spec = dict(
        instance_id=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = FleetOpsSSMModule(argument_spec=argument_spec, supports_check_mode=True)
    client = module.client("ssm")
    params = module.params
    final = None
    try:
        act.validate_instance_id(params["instance_id"])
        current = describe(client, params["instance_id"])
        if params["state"] == "absent":
            changed = ensure_absent(client, current, params["instance_id"], module.check_mode)
        else:
            changed, final = ensure_present(client, current, params, module.check_mode)
    except AnsibleSSMError as e:
        module.fail_json_aws_error(e)
    module.exit_json(changed=changed, managed_node=final or {}, diff=dict(before=for_diff(current), after=for_diff(final)))


if __name__ == "__main__":
    main()
