#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: managed_node_info
short_description: List the nodes that AWS Systems Manager manages, EC2 and on-premises alike, with their tags
version_added: 0.1.0
description:
  - Lists managed nodes (C(DescribeInstanceInformation), 50 per call), EC2 instances (V(i-...)) and hybrid nodes
    (V(mi-...)) alike, with their tags (Resource Groups Tagging API, 100 nodes per call).
  - Reads the same data, with the same filters, as the P(fleetops.ssm.managed_nodes#inventory) inventory plugin,
    for use inside plays. Unlike the plugin, it lists nodes in every ping status unless O(filters) say otherwise.
  - Optionally adds EC2 details, a patch state summary and SSM Inventory data.
author:
  - FleetOps SSM maintainers (@fleetops)
options:
  instance_ids:
    description: Only these nodes (at most 100).
    type: list
    elements: str
  filters:
    description:
      - Filters of C(DescribeInstanceInformation), as a dict of a filter key and one value or a list of values
        (V(PingStatus), V(PlatformTypes), V(ResourceType), V(AgentVersion), V(IamRole), V(ActivationIds),
        V(AssociationStatus), V(SourceIds), V(SourceTypes), V(tag:<key>), V(tag-key)).
      - The API does not take tag filters together with other filters; the module then sends the tag filters
        and applies the others to the answer.
    type: dict
    default: {}
  include_tags:
    description: Read the nodes' tags.
    type: bool
    default: true
  include_ec2_details:
    description: Add RV(managed_nodes[].ec2), the EC2 description of EC2 nodes (200 per C(DescribeInstances) call).
    type: bool
    default: false
  include_patch_summary:
    description: Add RV(managed_nodes[].patch_state) (C(DescribeInstancePatchStates), 50 nodes per call).
    type: bool
    default: false
  include_inventory:
    description:
      - Add RV(managed_nodes[].ssm_inventory), SSM Inventory data of the O(inventory_types) (C(GetInventory)).
        V(AWS:Application) is reduced to its number of entries.
    type: bool
    default: false
  inventory_types:
    description: The inventory types O(include_inventory) reads.
    type: list
    elements: str
    default: [AWS:InstanceInformation, AWS:Application]
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - fleetops.ssm.attributes
  - fleetops.ssm.attributes.info_module
notes:
  - IAM actions used are C(ssm:DescribeInstanceInformation), with tags C(tag:GetResources) and
    C(sts:GetCallerIdentity), and with the extras C(ec2:DescribeInstances), C(ssm:DescribeInstancePatchStates) and
    C(ssm:GetInventory).
seealso:
  - plugin: fleetops.ssm.managed_nodes
    plugin_type: inventory
  - module: fleetops.ssm.inventory_info
"""

EXAMPLES = r"""
- name: Every online Linux node
  fleetops.ssm.managed_node_info:
    filters:
      PingStatus: Online
      PlatformTypes: Linux
  register: linux

- name: Hybrid nodes of the web tier, with their patch compliance
  fleetops.ssm.managed_node_info:
    filters:
      tag:Role: web
      ResourceType: ManagedInstance
    include_patch_summary: true
  register: web

- name: Show the nodes that miss patches
  ansible.builtin.debug:
    msg: "{{ web.managed_nodes | rejectattr('patch_state.compliant', 'undefined') | rejectattr('patch_state.compliant')
             | map(attribute='instance_id') | list }}"
"""

RETURN = r"""
managed_nodes:
  description: The nodes, in the order SSM lists them.
  returned: always
  type: list
  elements: dict
  contains:
    instance_id:
      description: The node id.
      returned: always
      type: str
      sample: mi-0123456789abcdef0
    ping_status:
      description: V(Online), V(ConnectionLost) or V(Inactive).
      returned: always
      type: str
      sample: Online
    last_ping_date_time:
      description: When the agent last answered (ISO 8601).
      returned: always
      type: str
      sample: "2026-01-02T03:04:05+00:00"
    agent_version:
      description: The SSM Agent version.
      returned: always
      type: str
      sample: 3.3.1142.0
    is_latest_version:
      description: Whether the agent is the latest version.
      returned: always
      type: bool
      sample: true
    platform_type:
      description: V(Linux), V(Windows) or V(MacOS).
      returned: always
      type: str
      sample: Linux
    platform_name:
      description: The operating system name.
      returned: always
      type: str
      sample: Debian GNU/Linux
    platform_version:
      description: The operating system version.
      returned: always
      type: str
      sample: "12"
    ip_address:
      description: The node's IP address.
      returned: when reported
      type: str
      sample: 192.0.2.10
    computer_name:
      description: The node's host name.
      returned: always
      type: str
      sample: web-1.example.com
    resource_type:
      description: V(EC2Instance) or V(ManagedInstance).
      returned: always
      type: str
      sample: ManagedInstance
    association_status:
      description: The status of the node's State Manager associations.
      returned: when reported
      type: str
      sample: Success
    source_id:
      description: The id of the source resource.
      returned: when reported
      type: str
      sample: mi-0123456789abcdef0
    source_type:
      description: The type of the source resource.
      returned: when reported
      type: str
      sample: AWS::SSM::ManagedInstance
    iam_role:
      description: The IAM role of a hybrid node.
      returned: when reported
      type: str
      sample: SSMServiceRole
    registration_date:
      description: When a hybrid node was registered (ISO 8601).
      returned: for hybrid nodes
      type: str
      sample: "2026-01-02T03:04:05+00:00"
    activation_id:
      description: The activation a hybrid node registered with.
      returned: for hybrid nodes
      type: str
      sample: 3f8a1c6e-1b2d-4e5f-8a9b-0c1d2e3f4a5b
    node_name:
      description: The name given to a hybrid node at activation.
      returned: for hybrid nodes
      type: str
      sample: web-1
    tags:
      description: The node's tags.
      returned: always
      type: dict
      sample: {"Name": "web-1", "Patch Group": "web"}
    region:
      description: The node's region.
      returned: always
      type: str
      sample: eu-west-1
    ec2:
      description: The EC2 description of an EC2 node, in snake_case, without tags.
      returned: with O(include_ec2_details=true), for EC2 nodes
      type: dict
      sample: {"instance_type": "t3.micro", "private_ip_address": "10.0.0.12"}
    patch_state:
      description: The node's patch state summary, as M(fleetops.ssm.patch_state_info) returns it, with C(compliant).
      returned: with O(include_patch_summary=true), for nodes that reported one
      type: dict
      sample: {"patch_group": "web", "missing_count": 2, "compliant": false}
    ssm_inventory:
      description: SSM Inventory data per type, with C(count) for V(AWS:Application) and C(content) otherwise.
      returned: with O(include_inventory=true), for nodes with data
      type: dict
      sample: {"AWS:Application": {"type_name": "AWS:Application", "schema_version": "1.1", "count": 412}}
"""

from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError
from ansible_collections.fleetops.ssm.plugins.module_utils._modules import FleetOpsSSMModule
from ansible_collections.fleetops.ssm.plugins.module_utils import _nodes as nodes


def to_result(record):
    result = dict(record["info"])
    result["tags"] = record.get("tags") or {}
    result["region"] = record["region"]
    for extra in ("ec2", "patch_state", "ssm_inventory"):
        if extra in record:
            result[extra] = record[extra]
    return result


def read_nodes(module, params):
    filters = dict(params["filters"] or {})
    if params["instance_ids"]:
        filters["InstanceIds"] = params["instance_ids"]
    settings = nodes.FetchSettings(
        filters=nodes.build_filters(filters), include_offline=True, include_tags=params["include_tags"],
        include_ec2_details=params["include_ec2_details"], include_patch_summary=params["include_patch_summary"],
        include_inventory=params["include_inventory"], inventory_types=params["inventory_types"],
    )
    for type_name in settings.inventory_types:
        nodes.validate_type_name(type_name, "inventory_types")
    clients = {}

    def client(service):
        if service not in clients:
            clients[service] = module.client(service)
        return clients[service]

    account_id = nodes.AccountId(lambda: client("sts"))
    return [to_result(record) for record in nodes.fetch_region(module.region, client, settings, account_id)]


def main():
    argument_spec = dict(
        instance_ids=dict(type="list", elements="str"),
        filters=dict(type="dict", default={}),
        include_tags=dict(type="bool", default=True),
        include_ec2_details=dict(type="bool", default=False),
        include_patch_summary=dict(type="bool", default=False),
        include_inventory=dict(type="bool", default=False),
        inventory_types=dict(type="list", elements="str", default=list(nodes.DEFAULT_INVENTORY_TYPES)),
    )
    module = FleetOpsSSMModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        managed_nodes = read_nodes(module, module.params)
    except AnsibleSSMError as e:
        module.fail_json_aws_error(e)
    module.exit_json(changed=False, managed_nodes=managed_nodes)


if __name__ == "__main__":
    main()
