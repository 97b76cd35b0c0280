# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE: this file is internal to the fleetops.ssm collection. It is not a public API and may
# change at any time without notice. Do not import it from outside the collection.

"""Managed nodes: one function per API call (DescribeInstanceInformation, SSM Inventory, the tags of
EC2 and hybrid nodes), and the filter checks and normalisation the inventory plugin and the modules share.

How tags are read, and why (API calls for N nodes of one region):

* ``ListTagsForResource`` answers one node at a time and only for hybrid (``mi-``) nodes: N calls.
* ``DescribeInstanceInformation`` ``tag:`` filters select nodes but return no tags.
* The Resource Groups Tagging API ``GetResources`` with ``ResourceARNList`` answers up to 100 ARNs,
  EC2 instances (``ec2:instance``) and hybrid nodes (``ssm:managed-instance``) alike, in one call and
  for exactly the nodes asked about: ceil(N / 100) calls, plus one STS ``GetCallerIdentity`` per run
  for the account id the ARNs need. This is the path used.
* With EC2 details requested, ``DescribeInstances`` already returns EC2 nodes' tags; only the hybrid
  nodes then go through ``GetResources``.
* SSM Inventory's ``AWS:Tag`` type is a snapshot of the last inventory collection (stale, and absent
  where no collection runs), so it is not used for tags.
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict
from ansible_collections.amazon.aws.plugins.module_utils.transformation import boto3_resource_to_ansible_dict

from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import SSMErrorHandler
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import ssm_retry
from ansible_collections.fleetops.ssm.plugins.module_utils import _patching as patching

# Limits from botocore's models.
PAGE_INSTANCE_INFORMATION = 50  # DescribeInstanceInformation MaxResults 5-50
PAGE_INVENTORY = 50  # GetInventory / ListInventoryEntries MaxResults 1-50
MAX_FILTER_VALUES = 100  # InstanceInformationStringFilter Values
BATCH_TAGGING_ARNS = 100  # GetResources ResourceARNList 1-100
BATCH_EC2_IDS = 200  # values of one EC2 filter
MAX_INVENTORY_FILTERS = 5
MAX_INVENTORY_FILTER_VALUES = 40
DEFAULT_INVENTORY_TYPES = ("AWS:InstanceInformation", "AWS:Application")
COUNTED_TYPES = ("AWS:Application",)  # only their number of entries goes to the results
_INVENTORY_ID_FILTER = "AWS:InstanceInformation.InstanceId"

STRING_FILTER_KEYS = (
    "ActivationIds", "AgentVersion", "AssociationStatus", "IamRole", "InstanceIds", "PingStatus", "PlatformTypes",
    "ResourceType", "SourceIds", "SourceTypes",
)
PING_STATUSES = ("Online", "ConnectionLost", "Inactive")
PLATFORM_TYPES = ("Windows", "Linux", "MacOS")
RESOURCE_TYPES = ("EC2Instance", "ManagedInstance")
INVENTORY_FILTER_TYPES = ("Equal", "NotEqual", "BeginWith", "LessThan", "GreaterThan", "Exists")
_FIELD_OF_FILTER = {
    "ActivationIds": "ActivationId", "AgentVersion": "AgentVersion", "AssociationStatus": "AssociationStatus",
    "IamRole": "IamRole", "InstanceIds": "InstanceId", "PingStatus": "PingStatus", "PlatformTypes": "PlatformType",
    "ResourceType": "ResourceType", "SourceIds": "SourceId", "SourceTypes": "SourceType",
}
_INSTANCE_ID_RE = re.compile(r"^(i-(\w{8}|\w{17})|mi-\w{17})$")
_TYPE_NAME_RE = re.compile(r"^(AWS|Custom):[a-zA-Z0-9_\-.:]{1,96}$")


class NodeFilterError(AnsibleSSMError):
    """A filter the SSM API would reject; raised before any API call."""


# ---------------------------------------------------------------------------------------------
# Filters
# ---------------------------------------------------------------------------------------------


def is_tag_filter(key):
    return key == "tag-key" or (key.startswith("tag:") and len(key) > 4)


def build_filters(filters, option="filters"):
    """A dict of DescribeInstanceInformation filters (key: value or list) as the API's Filters list.

    Raises NodeFilterError naming ``option`` for a key or value the API would reject.
    """
    result = []
    for key, values in (filters or {}).items():
        key = str(key)
        if key not in STRING_FILTER_KEYS and not is_tag_filter(key):
            raise NodeFilterError(
                message=f"{option}: unknown filter key {key!r}; valid keys are {', '.join(STRING_FILTER_KEYS)}, "
                f"tag:<key> and tag-key"
            )
        if not isinstance(values, (list, tuple)):
            values = [values]
        values = [str(value) for value in values]
        if not values or len(values) > MAX_FILTER_VALUES:
            raise NodeFilterError(message=f"{option}: filter {key!r} needs 1 to {MAX_FILTER_VALUES} values")
        allowed = {"PingStatus": PING_STATUSES, "PlatformTypes": PLATFORM_TYPES, "ResourceType": RESOURCE_TYPES}.get(key)
        bad = [value for value in values if allowed and value not in allowed]
        if bad:
            raise NodeFilterError(
                message=f"{option}: {key} {', '.join(bad)} is not valid; valid values are {', '.join(allowed)}"
            )
        if key == "ResourceType" and len(values) != 1:
            raise NodeFilterError(message=f"{option}: the ResourceType filter takes exactly one value")
        bad = [value for value in values if key == "InstanceIds" and not _INSTANCE_ID_RE.match(value)]
        if bad:
            raise NodeFilterError(message=f"{option}: {', '.join(bad)} is not a managed node id (i-... or mi-...)")
        result.append({"Key": key, "Values": values})
    return result


def split_filters(filters):
    """(filters to send, filters to apply locally).

    The API refuses tag filters mixed with other filters; tag filters, usually the most selective, are
    then sent and the others applied to the answer.
    """
    tags = [item for item in filters if is_tag_filter(item["Key"])]
    others = [item for item in filters if not is_tag_filter(item["Key"])]
    if tags and others:
        return tags, others
    return filters, []


def matches_filters(info, filters):
    """Whether one InstanceInformation passes non-tag filters (applied locally)."""
    return all(info.get(_FIELD_OF_FILTER[item["Key"]]) in item["Values"] for item in filters)


def validate_type_name(type_name, option="type_name"):
    if not _TYPE_NAME_RE.match(type_name or ""):
        raise NodeFilterError(message=f"{option}: {type_name!r} is not an inventory type name (AWS:... or Custom:...)")
    return type_name


# ---------------------------------------------------------------------------------------------
# API calls. Each one is a single operation; none takes a module.
# ---------------------------------------------------------------------------------------------


@SSMErrorHandler.common_error_handler("describe instance information")
@ssm_retry()
def _describe_instance_information_page(client, filters, next_token):
    kwargs = {"MaxResults": PAGE_INSTANCE_INFORMATION}
    if filters:
        kwargs["Filters"] = filters
    if next_token:
        kwargs["NextToken"] = next_token
    return client.describe_instance_information(**kwargs)


def describe_instance_information(client, filters=None):
    """Every InstanceInformation the filters select, 50 per call (pages retried one by one)."""
    nodes = []
    next_token = None
    while True:
        page = _describe_instance_information_page(client, filters or [], next_token)
        nodes.extend(page.get("InstanceInformationList", []))
        next_token = page.get("NextToken")
        if not next_token:
            return nodes


@SSMErrorHandler.common_error_handler("get caller identity")
@ssm_retry()
def get_account_id(sts_client):
    return sts_client.get_caller_identity()["Account"]


@SSMErrorHandler.common_error_handler("get resource tags")
@ssm_retry()
def get_resource_tags(tagging_client, arns):
    """Tags of up to 100 resources by ARN, in one GetResources call: {arn: tags}."""
    result = tagging_client.get_resources(ResourceARNList=list(arns))
    found = {}
    for mapping in result.get("ResourceTagMappingList", []):
        found[mapping["ResourceARN"]] = boto3_tag_list_to_ansible_dict(mapping.get("Tags", []))
    return found


@SSMErrorHandler.common_error_handler("describe EC2 instances")
@ssm_retry()
def describe_ec2_instances(ec2_client, instance_ids):
    """EC2 instances by id (at most 200), with their tags."""
    paginator = ec2_client.get_paginator("describe_instances")
    result = paginator.paginate(
        Filters=[{"Name": "instance-id", "Values": list(instance_ids)}], PaginationConfig={"PageSize": 1000}
    ).build_full_result()
    return [instance for reservation in result.get("Reservations", []) for instance in reservation["Instances"]]


@SSMErrorHandler.common_error_handler("get inventory")
@ssm_retry()
def _get_inventory_page(client, kwargs):
    return client.get_inventory(**kwargs)


def get_inventory(client, filters=None, type_name=None, aggregators=None, limit=None):
    """GetInventory entities, 50 per call; ``type_name`` limits the data to one type."""
    kwargs = {"MaxResults": PAGE_INVENTORY}
    if filters:
        kwargs["Filters"] = filters
    if type_name:
        kwargs["ResultAttributes"] = [{"TypeName": type_name}]
    if aggregators:
        kwargs["Aggregators"] = aggregators
    entities = []
    while True:
        page = _get_inventory_page(client, kwargs)
        entities.extend(page.get("Entities", []))
        if not page.get("NextToken") or (limit and len(entities) >= limit):
            return entities[:limit] if limit else entities
        kwargs["NextToken"] = page["NextToken"]


@SSMErrorHandler.common_error_handler("list inventory entries")
@ssm_retry()
def _list_inventory_entries_page(client, kwargs):
    return client.list_inventory_entries(**kwargs)


def list_inventory_entries(client, instance_id, type_name, filters=None):
    """One node's entries of one type (ListInventoryEntries, 50 per call)."""
    kwargs = {"InstanceId": instance_id, "TypeName": type_name, "MaxResults": PAGE_INVENTORY}
    if filters:
        kwargs["Filters"] = filters
    result = None
    while True:
        page = _list_inventory_entries_page(client, kwargs)
        if result is None:
            result = {key: page.get(key) for key in ("TypeName", "InstanceId", "SchemaVersion", "CaptureTime")}
            result["Entries"] = []
        result["Entries"].extend(page.get("Entries", []))
        if not page.get("NextToken"):
            return result
        kwargs["NextToken"] = page["NextToken"]


# ---------------------------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------------------------


def node_arn(instance_id, region, account_id):
    partition = "aws"
    if region.startswith("cn-"):
        partition = "aws-cn"
    elif region.startswith("us-gov-"):
        partition = "aws-us-gov"
    if instance_id.startswith("mi-"):
        return f"arn:{partition}:ssm:{region}:{account_id}:managed-instance/{instance_id}"
    return f"arn:{partition}:ec2:{region}:{account_id}:instance/{instance_id}"


def node_to_ansible(info):
    """One InstanceInformation in snake_case with ISO 8601 dates.

    ``Name`` (a hybrid node's activation name) becomes ``node_name``: ``name`` is a reserved variable name.
    """
    result = boto3_resource_to_ansible_dict(info, transform_tags=False, force_tags=False)
    if "name" in result:
        result["node_name"] = result.pop("name")
    return result


def ec2_to_ansible(instance):
    """An EC2 instance in snake_case, without its tags (the node has them already)."""
    instance = {key: value for key, value in instance.items() if key != "Tags"}
    return boto3_resource_to_ansible_dict(instance, transform_tags=False, force_tags=False)


def inventory_entity_to_ansible(entity, counts_only=()):
    """A GetInventory entity: {"id", "data": {type: {"capture_time", "schema_version", "content" or "count"}}}."""
    data = {}
    for type_name, item in (entity.get("Data") or {}).items():
        entry = {
            "type_name": type_name,
            "schema_version": item.get("SchemaVersion"),
            "capture_time": item.get("CaptureTime"),
        }
        content = item.get("Content") or []
        if type_name in counts_only:
            entry["count"] = len(content)
        else:
            entry["content"] = [camel_dict_to_snake_dict(row) for row in content]
        data[type_name] = entry
    return {"id": entity.get("Id"), "data": data}


# ---------------------------------------------------------------------------------------------
# Reading nodes with their extras, in batches and threads (the inventory plugin and managed_node_info)
# ---------------------------------------------------------------------------------------------


class FetchSettings:
    """What to read, per the plugin options."""

    def __init__(self, filters=None, include_offline=False, include_tags=True, include_ec2_details=False,
                 include_patch_summary=False, include_inventory=False, inventory_types=None, max_workers=4):
        self.filters = filters or []
        self.include_offline = include_offline
        self.include_tags = include_tags
        self.include_ec2_details = include_ec2_details
        self.include_patch_summary = include_patch_summary
        self.include_inventory = include_inventory
        self.inventory_types = list(inventory_types or DEFAULT_INVENTORY_TYPES)
        self.max_workers = max(1, int(max_workers))

    def api_filters(self):
        """(filters sent with DescribeInstanceInformation, filters applied to its answer)."""
        filters = list(self.filters)
        if not self.include_offline and not any(item["Key"] == "PingStatus" for item in filters):
            filters.append({"Key": "PingStatus", "Values": ["Online"]})
        return split_filters(filters)


def _chunks(items, size):
    return [items[start:start + size] for start in range(0, len(items), size)]


class AccountId:
    """The caller's account id, asked once per run and only when an ARN is needed."""

    def __init__(self, sts_client_factory):
        self._factory = sts_client_factory
        self._lock = threading.Lock()
        self._value = None

    def get(self):
        with self._lock:
            if self._value is None:
                self._value = get_account_id(self._factory())
            return self._value


def fetch_region(region, clients, settings, account_id):
    """The managed nodes of one region as plain JSON-serialisable records (the inventory cache stores them as
    they are); ``clients(service)`` gives this region's clients.

        {"info": {instance information in snake_case}, "tags": {...}, "region": "eu-west-1",
         "ec2": {...}, "patch_state": {...}, "ssm_inventory": {...}}   # the last three when asked for

    The node list is one DescribeInstanceInformation pagination (its pages chain on their token and cannot
    run in parallel); the rest is batched (tags 100 ARNs, EC2 details 200 ids, patch states 50 nodes per
    call, inventory one pagination per type) and the batches run in a pool of ``settings.max_workers``.
    """
    sent, local = settings.api_filters()
    infos = describe_instance_information(clients("ssm"), sent)
    infos = [info for info in infos if matches_filters(info, local)]
    records = {
        info["InstanceId"]: {"info": node_to_ansible(info), "tags": {}, "region": region} for info in infos
    }
    if not records:
        return []
    ids = list(records)
    ec2_ids = [iid for iid in ids if iid.startswith("i-")]
    tasks = []
    if settings.include_ec2_details and ec2_ids:
        tasks.extend((_ec2_details, clients, chunk, records) for chunk in _chunks(ec2_ids, BATCH_EC2_IDS))
    if settings.include_tags:
        tag_ids = ids if not settings.include_ec2_details else [iid for iid in ids if not iid.startswith("i-")]
        tasks.extend(
            (_tags, clients, chunk, records, region, account_id)
            for chunk in _chunks(tag_ids, BATCH_TAGGING_ARNS)
        )
    if settings.include_patch_summary:
        tasks.extend((_patch_states, clients, chunk, records) for chunk in _chunks(ids, patching.BATCH_PATCH_STATES))
    if settings.include_inventory:
        tasks.extend((_inventory, clients, type_name, records) for type_name in settings.inventory_types)
    _run(tasks, settings.max_workers)
    return [records[iid] for iid in ids]


def _run(tasks, max_workers):
    if not tasks:
        return
    if len(tasks) == 1 or max_workers == 1:
        for task in tasks:
            task[0](*task[1:])
        return
    with ThreadPoolExecutor(max_workers=min(max_workers, len(tasks))) as pool:
        futures = [pool.submit(task[0], *task[1:]) for task in tasks]
        for future in futures:
            future.result()  # re-raises the first failure


def _tags(clients, chunk, records, region, account_id):
    arns = {node_arn(iid, region, account_id.get()): iid for iid in chunk}
    for arn, tags in get_resource_tags(clients("resourcegroupstaggingapi"), list(arns)).items():
        if arn in arns:
            records[arns[arn]]["tags"] = tags


def _ec2_details(clients, chunk, records):
    for instance in describe_ec2_instances(clients("ec2"), chunk):
        record = records.get(instance["InstanceId"])
        if record is not None:
            record["tags"] = {tag["Key"]: tag["Value"] for tag in instance.get("Tags", [])}
            record["ec2"] = ec2_to_ansible(instance)


def _patch_states(clients, chunk, records):
    for state in patching.describe_instance_patch_states(clients("ssm"), chunk):
        record = records.get(state["InstanceId"])
        if record is not None:
            summary = patching.patch_state_to_ansible(state)
            summary["compliant"] = patching.is_compliant(state)
            record["patch_state"] = summary


def _inventory(clients, type_name, records):
    ids = list(records)
    filters = None
    if len(ids) <= MAX_INVENTORY_FILTER_VALUES:
        filters = [{"Key": _INVENTORY_ID_FILTER, "Values": ids, "Type": "Equal"}]
    for entity in get_inventory(clients("ssm"), filters=filters, type_name=type_name):
        record = records.get(entity.get("Id"))
        if record is None:
            continue
        data = inventory_entity_to_ansible(entity, counts_only=COUNTED_TYPES)["data"].get(type_name)
        if data is not None:
            record.setdefault("ssm_inventory", {})[type_name] = data
