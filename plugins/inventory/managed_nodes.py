# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: managed_nodes
short_description: Every node that AWS Systems Manager manages, EC2 and on-premises alike
version_added: 0.1.0
description:
  - Builds an inventory of the managed nodes of AWS Systems Manager (C(DescribeInstanceInformation)), EC2
    instances (V(i-...)) and hybrid on-premises nodes (V(mi-...)) alike, with their tags, ready to connect over
    Session Manager with the P(fleetops.ssm.session#connection) connection plugin.
  - Reads configuration files whose names end with C(.ssm.yml) or C(.ssm.yaml).
  - Tags come from the Resource Groups Tagging API, 100 nodes per C(GetResources) call, for EC2 and hybrid
    nodes alike. With O(include_ec2_details=true), EC2 nodes' tags come with their EC2 details instead.
  - Every string that comes from AWS is marked unsafe, so that a template in a tag value is never evaluated.
author:
  - FleetOps SSM maintainers (@fleetops)
options:
  plugin:
    description: The name of this plugin; it must be V(fleetops.ssm.managed_nodes) for the file to be used.
    required: true
    type: str
    choices: [fleetops.ssm.managed_nodes]
  regions:
    description:
      - The regions to read nodes from, side by side.
      - By default the one region of the credentials and configuration (O(region), C(AWS_REGION), the profile).
      - A region that botocore does not know as an SSM region is an error.
    type: list
    elements: str
    default: []
  filters:
    description:
      - Filters of C(DescribeInstanceInformation), as a dict of a filter key and one value or a list of values,
        for example V(PlatformTypes), V(ResourceType) (V(EC2Instance) or V(ManagedInstance)), V(AgentVersion),
        V(InstanceIds), V(PingStatus), V(IamRole), V(ActivationIds), V(AssociationStatus), V(SourceIds),
        V(SourceTypes), V(tag:<key>) and V(tag-key).
      - The API does not take tag filters together with other filters; the plugin then sends the tag filters and
        applies the others to the answer.
      - An unknown key is an error.
    type: dict
    default: {}
  include_offline:
    description:
      - By default only V(Online) nodes are listed (a V(PingStatus) filter). V(true) lists nodes in every ping status.
      - A V(PingStatus) key in O(filters) takes precedence.
    type: bool
    default: false
  include_tags:
    description: Read the nodes' tags (hostvar C(tags)). Needs C(tag:GetResources) and C(sts:GetCallerIdentity).
    type: bool
    default: true
  include_ec2_details:
    description:
      - Add C(ec2), the EC2 description (C(DescribeInstances), 200 instances per call) of EC2 nodes, whose tags then
        come from it.
    type: bool
    default: false
  include_patch_summary:
    description:
      - Add C(patch_state), the node's patch state summary (C(DescribeInstancePatchStates), 50 nodes per call),
        with C(compliant).
    type: bool
    default: false
  include_inventory:
    description:
      - Add C(ssm_inventory), the node's SSM Inventory data of the O(inventory_types) (C(GetInventory), one
        pagination per type and region). V(AWS:Application) is reduced to its number of entries (C(count)).
    type: bool
    default: false
  inventory_types:
    description: The inventory types that O(include_inventory) reads, custom types (V(Custom:...)) included.
    type: list
    elements: str
    default: [AWS:InstanceInformation, AWS:Application]
  hostnames:
    description:
      - How to name hosts, in order of preference; the first entry that gives a value for a node names it.
      - V(instance_id), V(computer_name), V(node_name) (the name of a hybrid node's activation), V(ip_address),
        V(tag:<key>), or a Jinja2 expression in C({{ }}) evaluated with the node's hostvars (for example
        V({{ computer_name | lower }}) or V({{ 'web-' ~ instance_id }})).
      - An entry that is none of these is an error, and so is a node that no entry names (end the list with
        V(instance_id) to be safe).
    type: list
    elements: str
    default: [instance_id]
  use_connection_defaults:
    description:
      - Set C(ansible_connection=fleetops.ssm.session), C(ansible_host) to the instance id,
        C(ansible_fleetops_ssm_region) to the node's region and, with O(endpoint_url),
        C(ansible_fleetops_ssm_endpoint_url). O(compose) can override each of them.
    type: bool
    default: true
  max_workers:
    description: Threads per region for the batched calls (tags, EC2 details, patch states, inventory).
    type: int
    default: 4
extends_documentation_fragment:
  - inventory_cache
  - constructed
  - amazon.aws.boto3
  - amazon.aws.common.plugins
  - amazon.aws.region.plugins
  - amazon.aws.assume_role.plugins
notes:
  - Groups are C(platform_<type>) (V(platform_linux)), C(ping_<status>) (V(ping_online), V(ping_connection_lost)),
    C(resource_<type>) (V(resource_ec2_instance), V(resource_managed_instance)) and C(patch_group_<name>) (from the
    C(Patch Group) or C(PatchGroup) tag), sanitised like every group name; O(keyed_groups), O(groups) and
    O(compose) add more.
  - IAM actions used are C(ssm:DescribeInstanceInformation), C(tag:GetResources), C(sts:GetCallerIdentity), and
    with the extras C(ec2:DescribeInstances), C(ssm:DescribeInstancePatchStates) and C(ssm:GetInventory).
  - O(endpoint_url) is used for every service the plugin calls.
  - API calls for N nodes of a region when the cache does not answer are ceil(N/50) C(DescribeInstanceInformation), ceil(N/100)
    C(GetResources), one C(GetCallerIdentity) per run. A cache hit makes no API call.
seealso:
  - module: fleetops.ssm.managed_node_info
  - module: fleetops.ssm.inventory_info
"""

EXAMPLES = r"""
# fleet.ssm.yml: every online node of two regions, grouped by tag
plugin: fleetops.ssm.managed_nodes
regions: [eu-west-1, us-east-1]
keyed_groups:
  - key: tags.Environment | default('none')
    prefix: env
  - key: platform_name
    prefix: os
---
# linux.ssm.yml: online Linux hybrid nodes named by computer name, with patch compliance
plugin: fleetops.ssm.managed_nodes
filters:
  PlatformTypes: Linux
  ResourceType: ManagedInstance
hostnames:
  - computer_name
  - instance_id
include_patch_summary: true
groups:
  needs_patches: not patch_state.compliant | default(true)
---
# prod.ssm.yml: nodes tagged Environment=prod, cached for an hour, through an assumed role
plugin: fleetops.ssm.managed_nodes
assume_role_arn: arn:aws:iam::123456789012:role/inventory-reader
filters:
  tag:Environment: prod
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/ansible-inventory
cache_timeout: 3600
"""

import functools
import re

try:
    import boto3
except ImportError:
    pass  # caught by AWSInventoryBase.require_aws_sdk

from concurrent.futures import ThreadPoolExecutor

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core before 2.19 trusts every string of the configuration
    def trust_as_template(value):
        return value

from ansible.errors import AnsibleError
from ansible.errors import AnsibleParserError
from ansible.module_utils.common.text.converters import to_native
from ansible.utils.vars import combine_vars

from ansible_collections.amazon.aws.plugins.plugin_utils.inventory import AWSInventoryBase

from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError
from ansible_collections.fleetops.ssm.plugins.module_utils import _nodes as nodes
from ansible_collections.fleetops.ssm.plugins.plugin_utils import _inventory
from ansible_collections.fleetops.ssm.plugins.plugin_utils._inventory_unsafe import make_unsafe

_HOSTNAME_FIELDS = ("instance_id", "computer_name", "node_name", "ip_address")
_TAG_RE = re.compile(r"^tag:.+$")
_TEMPLATE_RE = re.compile(r"^\s*\{\{(.+)\}\}\s*$", re.DOTALL)
_PATCH_GROUP_TAGS = ("Patch Group", "PatchGroup")
_CONNECTION = "fleetops.ssm.session"
_EXTRAS = ("ec2", "patch_state", "ssm_inventory")


@functools.lru_cache(maxsize=None)
def _snake(value):
    """EC2Instance -> ec2_instance, ConnectionLost -> connection_lost, MacOS -> mac_os."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(value)).lower()


def check_hostnames(hostnames):
    """Raise for an entry that can never name a node."""
    for entry in hostnames:
        if entry in _HOSTNAME_FIELDS or _TAG_RE.match(entry) or _TEMPLATE_RE.match(entry):
            continue
        raise AnsibleParserError(
            f"hostnames: the entry {entry!r} matches nothing; use instance_id, computer_name, node_name, ip_address, "
            "tag:<key> or a template such as '{{ computer_name }}'"
        )


class InventoryModule(AWSInventoryBase):
    NAME = "fleetops.ssm.managed_nodes"
    INVENTORY_FILE_SUFFIXES = (".ssm.yml", ".ssm.yaml")

    def _set_frozen_credentials(self):
        """Deferred to the first API call, so that a cache hit makes no call at all (not even AssumeRole)."""

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache=cache)
        check_hostnames(self.get_option("hostnames"))
        try:
            filters = nodes.build_filters(self.get_option("filters"))
        except AnsibleSSMError as e:
            raise AnsibleParserError(to_native(e))
        regions = self._regions()
        cached, records = self.get_cached_result(path, cache)
        if not cached:
            records = self._fetch(regions, filters)
        self._populate(records)
        self.update_cached_result(path, cache, records)

    # ---------------------------------------------------------------------------------------------
    # reading

    def _regions(self):
        regions = self.get_option("regions") or ([self.region] if self.region else [])
        if not regions:
            raise AnsibleParserError(
                "regions: no region given and none configured; set regions, region, AWS_REGION or a profile region"
            )
        bad = _inventory.unknown_regions(regions, boto3.session.Session())
        if bad:
            raise AnsibleParserError(f"regions: unknown region(s) {', '.join(bad)}: not an SSM region botocore knows")
        # Plain strings: the configuration's own (trusted, with their origin) must not reach the cache or hostvars.
        return list(dict.fromkeys(str(region) for region in regions))

    def _fetch(self, regions, filters):
        AWSInventoryBase._set_frozen_credentials(self)
        settings = nodes.FetchSettings(
            filters=filters,
            include_offline=self.get_option("include_offline"),
            include_tags=self.get_option("include_tags"),
            include_ec2_details=self.get_option("include_ec2_details"),
            include_patch_summary=self.get_option("include_patch_summary"),
            include_inventory=self.get_option("include_inventory"),
            inventory_types=self.get_option("inventory_types"),
            max_workers=self.get_option("max_workers"),
        )
        account_id = nodes.AccountId(lambda: self.client("sts", region=regions[0]))
        try:
            with ThreadPoolExecutor(max_workers=len(regions)) as pool:
                futures = [pool.submit(self._fetch_region, region, settings, account_id) for region in regions]
                results = [future.result() for future in futures]
        except AnsibleSSMError as e:
            raise AnsibleError(f"fleetops.ssm.managed_nodes: {to_native(e)}")
        return [record for region_records in results for record in region_records]

    def _fetch_region(self, region, settings, account_id):
        clients = {}

        def client(service):
            if service not in clients:
                clients[service] = self.client(service, region=region)
            return clients[service]

        return nodes.fetch_region(region, client, settings, account_id)

    # ---------------------------------------------------------------------------------------------
    # building
    #
    # Thousands of hosts go through here, from the cache as often as not, so everything that does not
    # depend on the node (options, hostname entries, group names) is worked out once per run.

    def _hostvars(self, record, connection_defaults):
        hostvars = make_unsafe(record["info"])
        hostvars["tags"] = make_unsafe(record.get("tags") or {})
        hostvars["region"] = make_unsafe(record["region"])
        for extra in _EXTRAS:
            if extra in record:
                hostvars[extra] = make_unsafe(record[extra])
        if connection_defaults is not None:
            hostvars["ansible_connection"] = _CONNECTION
            hostvars["ansible_host"] = hostvars["instance_id"]
            hostvars["ansible_fleetops_ssm_region"] = hostvars["region"]
            hostvars.update(connection_defaults)
        return hostvars

    def _connection_defaults(self):
        """None without use_connection_defaults; else the connection variables that are the same for every host
        (the endpoint URL, when set)."""
        if not self.get_option("use_connection_defaults"):
            return None
        endpoint_url = self.get_option("endpoint_url")
        return {"ansible_fleetops_ssm_endpoint_url": endpoint_url} if endpoint_url else {}

    def _namer(self):
        """A function of a node's hostvars giving its host name, per the hostnames preference list."""
        hostnames = self.get_option("hostnames")
        getters = []
        for entry in hostnames:
            if entry in _HOSTNAME_FIELDS:
                getters.append(lambda hostvars, key=entry: hostvars.get(key))
            elif entry.startswith("tag:"):
                getters.append(lambda hostvars, key=entry[4:]: hostvars["tags"].get(key))
            else:
                template = trust_as_template(_TEMPLATE_RE.match(entry).group(1).strip())
                getters.append(lambda hostvars, template=template: self._compose(template, hostvars))

        def name(hostvars):
            for getter in getters:
                value = getter(hostvars)
                if value:
                    return to_native(value)
            raise AnsibleParserError(
                f"hostnames: no entry names the node {hostvars['instance_id']} ({', '.join(hostnames)});"
                " add instance_id as the last entry"
            )

        return name

    def _set_host_variables(self, name, hostvars):
        """All of a host's variables at once, as set_variable would leave them one by one.

        ansible-core (2.19 and later) checks, copies and tags every value that goes through the inventory's
        set_variable: for thousands of hosts that costs more than all the rest of the plugin's work. These values
        need none of it: they are plain JSON types built afresh for this host, and the strings from AWS are marked
        unsafe (2.19 and later never trust them as templates anyway). combine_vars merges as set_variable does, so
        a host that another source, or an earlier node of the same name, defined ends the same.
        """
        host = self.inventory.get_host(name)
        host.vars = combine_vars(host.vars, hostvars)

    def _populate(self, records):
        strict = self.get_option("strict")
        compose = self.get_option("compose")
        groups = self.get_option("groups")
        keyed_groups = self.get_option("keyed_groups")
        constructed = bool(compose or groups or keyed_groups)
        connection_defaults = self._connection_defaults()
        name = self._namer()
        group_names = {}  # default group name -> the inventory group, sanitised and added once
        for record in records:
            hostvars = self._hostvars(record, connection_defaults)
            host = self.inventory.add_host(name(hostvars))
            self._set_host_variables(host, hostvars)
            for group in self._default_groups(hostvars):
                if group not in group_names:
                    group_names[group] = self.inventory.add_group(self._sanitize_group_name(group))
                self.inventory.add_child(group_names[group], host)
            if constructed:
                self._set_composite_vars(compose, hostvars, host, strict=strict)
                self._add_host_to_composed_groups(groups, hostvars, host, strict=strict)
                self._add_host_to_keyed_groups(keyed_groups, hostvars, host, strict=strict)

    @staticmethod
    def _default_groups(hostvars):
        groups = []
        for prefix, key in (("platform", "platform_type"), ("ping", "ping_status"), ("resource", "resource_type")):
            if hostvars.get(key):
                groups.append(f"{prefix}_{_snake(hostvars[key])}")
        for tag in _PATCH_GROUP_TAGS:
            if hostvars["tags"].get(tag):
                groups.append(f"patch_group_{hostvars['tags'][tag]}")
                break
        return groups
