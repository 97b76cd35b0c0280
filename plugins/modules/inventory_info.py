#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: inventory_info
short_description: Read the SSM Inventory of one managed node or of the whole fleet
version_added: 0.1.0
description:
  - Reads SSM Inventory data (what the C(AWS-GatherSoftwareInventory) association and C(PutInventory) report) by
    type (applications, files, network configuration, services, Windows updates, custom types).
  - For the whole fleet it uses C(GetInventory), one pagination (50 nodes per call) per type; for one node
    (O(instance_id)) C(ListInventoryEntries), one pagination (50 entries per call) per type.
author:
  - FleetOps SSM maintainers (@fleetops)
options:
  instance_id:
    description: Read this node only (V(i-...) or V(mi-...)). Without it, every node of the region.
    type: str
  type_names:
    description: The inventory types to read, for example V(AWS:Application), V(AWS:Network) or V(Custom:RackInfo).
    type: list
    elements: str
    default: [AWS:InstanceInformation]
  filters:
    description:
      - Only data that matches every filter (at most 5).
      - Over the whole fleet a node is returned when one of its entries matches; for one node, only the matching
        entries of the filter's type are returned.
    type: list
    elements: dict
    suboptions:
      key:
        description: V(<type name>.<attribute>), for example V(AWS:Application.Name).
        type: str
        required: true
      values:
        description: The values to compare with (at most 40).
        type: list
        elements: str
        required: true
      type:
        description: The comparison.
        type: str
        default: Equal
        choices: [Equal, NotEqual, BeginWith, LessThan, GreaterThan, Exists]
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - fleetops.ssm.attributes
  - fleetops.ssm.attributes.info_module
notes:
  - IAM actions used are C(ssm:GetInventory), or C(ssm:ListInventoryEntries) with O(instance_id).
seealso:
  - module: fleetops.ssm.managed_node_info
  - plugin: fleetops.ssm.managed_nodes
    plugin_type: inventory
"""

EXAMPLES = r"""
- name: Nodes that have openssl installed
  fleetops.ssm.inventory_info:
    type_names: [AWS:Application]
    filters:
      - key: AWS:Application.Name
        values: [openssl]
  register: with_openssl

- name: The applications and network configuration of one node
  fleetops.ssm.inventory_info:
    instance_id: mi-0123456789abcdef0
    type_names: [AWS:Application, AWS:Network]
  register: node

- name: Show the packages of the node
  ansible.builtin.debug:
    msg: "{{ node.inventory[0].data['AWS:Application'].content | map(attribute='name') | list }}"
"""

RETURN = r"""
inventory:
  description: One item per node with data, sorted by node id.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The node id.
      returned: always
      type: str
      sample: mi-0123456789abcdef0
    data:
      description: The node's data per type name.
      returned: always
      type: dict
      contains:
        type_name:
          description: The type name.
          returned: always
          type: str
          sample: AWS:Application
        schema_version:
          description: The schema version of the type.
          returned: when reported
          type: str
          sample: "1.1"
        capture_time:
          description: When the data was collected.
          returned: when reported
          type: str
          sample: "2026-01-02T03:04:05Z"
        content:
          description: The entries, attribute names in snake_case.
          returned: always
          type: list
          elements: dict
          sample: [{"name": "openssl", "version": "3.0.15", "application_type": "utils"}]
      sample: {"AWS:Application": {"type_name": "AWS:Application", "schema_version": "1.1", "content": []}}
"""

from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError
from ansible_collections.fleetops.ssm.plugins.module_utils._modules import FleetOpsSSMModule
from ansible_collections.fleetops.ssm.plugins.module_utils import _nodes as nodes


def api_filters(filters):
    return [{"Key": item["key"], "Values": item["values"], "Type": item["type"]} for item in filters or []]


def fleet_inventory(client, type_names, filters):
    """{node id: {type: data}} over the fleet, one GetInventory pagination per type."""
    found = {}
    for type_name in type_names:
        for entity in nodes.get_inventory(client, filters=api_filters(filters), type_name=type_name):
            data = nodes.inventory_entity_to_ansible(entity)["data"]
            found.setdefault(entity["Id"], {}).update(data)
    return found


def node_inventory(client, instance_id, type_names, filters):
    """{node id: {type: data}} for one node, one ListInventoryEntries pagination per type."""
    data = {}
    for type_name in type_names:
        own = [dict(item, key=item["key"][len(type_name) + 1:]) for item in filters or []
               if item["key"].startswith(type_name + ".")]
        result = nodes.list_inventory_entries(client, instance_id, type_name, api_filters(own))
        entity = {"Id": instance_id, "Data": {type_name: {
            "SchemaVersion": result.get("SchemaVersion"), "CaptureTime": result.get("CaptureTime"),
            "Content": result["Entries"],
        }}}
        data.update(nodes.inventory_entity_to_ansible(entity)["data"])
    return {instance_id: data}


def check(params):
    for type_name in params["type_names"]:
        nodes.validate_type_name(type_name, "type_names")
    for item in params["filters"] or []:
        type_name, dot, attribute = item["key"].rpartition(".")
        if not dot or not attribute:
            raise nodes.NodeFilterError(message=f"filters: the key {item['key']!r} is not <type name>.<attribute>")
        nodes.validate_type_name(type_name, "filters")
    if len(params["filters"] or []) > nodes.MAX_INVENTORY_FILTERS:
        raise nodes.NodeFilterError(message=f"filters: at most {nodes.MAX_INVENTORY_FILTERS} filters")


def main():
    argument_spec = dict(
        instance_id=dict(type="str"),
        type_names=dict(type="list", elements="str", default=["AWS:InstanceInformation"]),
        filters=dict(type="list", elements="dict", options=dict(
            key=dict(type="str", required=True, no_log=False),
            values=dict(type="list", elements="str", required=True),
            type=dict(type="str", default="Equal", choices=list(nodes.INVENTORY_FILTER_TYPES)),
        )),
    )
    module = FleetOpsSSMModule(argument_spec=argument_spec, supports_check_mode=True)
    client = module.client("ssm")
    params = module.params
    try:
        check(params)
        if params["instance_id"]:
            found = node_inventory(client, params["instance_id"], params["type_names"], params["filters"])
        else:
            found = fleet_inventory(client, params["type_names"], params["filters"])
    except AnsibleSSMError as e:
        module.fail_json_aws_error(e)
    module.exit_json(changed=False, inventory=[{"id": key, "data": found[key]} for key in sorted(found)])


if __name__ == "__main__":
    main()
