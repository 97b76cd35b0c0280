"""SSM Inventory: PutInventory, GetInventory, ListInventoryEntries, GetInventorySchema.

Inventory items live per account and region, per node and type.  As in AWS:

* ``AWS:InstanceInformation`` is kept by SSM itself for every managed node of the region (built
  from the node registry, ``nodes.py``); it cannot be put.
* Other ``AWS:`` types (the ones the inventory plugin of the agent collects) have fixed schemas:
  an attribute that is not in the schema is ``InvalidItemContentException``, another schema
  version ``UnsupportedInventorySchemaVersionException``.
* ``Custom:`` types get their schema from the first put (every attribute a string), at most 20
  custom types per account and region (``CustomSchemaCountLimitExceededException``).
* A node that is not registered in the region is ``InvalidInstanceId``.

``GetInventory`` returns one entity per managed node of the region; its ``Data`` holds
``AWS:InstanceInformation`` unless ``ResultAttributes`` names another type, and then only nodes
with data of that type are returned.  Filters are ``<type>.<attribute>`` keys; a node matches
when one entry of the type matches (``Equal``, ``NotEqual``, ``BeginWith``, ``LessThan``,
``GreaterThan`` compare numbers when both sides are numbers, ``Exists``).

Known differences: ``Aggregators`` are not supported (``InvalidAggregatorException``);
deleting inventory (``DeleteInventory``) is not implemented; messages are worded by us.
"""

from __future__ import annotations

import re
import time
from typing import Any

from .nodes import NODES, Node
from .registry import AwsError, Context, operation, paginate, regional_store

DEFAULT_MAX_RESULTS = 50
SCHEMA_DEFAULT_MAX_RESULTS = 50
MAX_CUSTOM_TYPES = 20
INSTANCE_INFORMATION = "AWS:InstanceInformation"
_TYPE_RE = re.compile(r"^(AWS|Custom):[a-zA-Z0-9_\-.:]{1,96}$")

# The AWS types the agent reports, with their schema version and attributes.
AWS_SCHEMAS: dict[str, tuple[str, tuple[str, ...]]] = {
    INSTANCE_INFORMATION: ("1.0", (
        "AgentType", "AgentVersion", "ComputerName", "InstanceId", "InstanceStatus", "IpAddress", "PlatformName",
        "PlatformType", "PlatformVersion", "ResourceType",
    )),
    "AWS:Application": ("1.1", (
        "Name", "ApplicationType", "Publisher", "Version", "InstalledTime", "Architecture", "URL", "Summary",
        "PackageId", "Release", "Epoch", "Status",
    )),
    "AWS:AWSComponent": ("1.0", ("Name", "ApplicationType", "Publisher", "Version", "InstalledTime", "Architecture",
                                 "URL")),
    "AWS:File": ("1.0", ("Name", "Size", "Description", "FileVersion", "InstalledDate", "ModificationTime",
                         "LastAccessTime", "ProductName", "InstalledDir", "ProductLanguage", "CompanyName",
                         "ProductVersion")),
    "AWS:Network": ("1.0", ("Name", "SubnetMask", "Gateway", "DHCPServer", "DNSServer", "MacAddress", "IPV4",
                            "IPV6")),
    "AWS:Service": ("1.0", ("Name", "DisplayName", "ServiceType", "Status", "DependentServices",
                            "ServicesDependedOn", "StartType")),
    "AWS:WindowsUpdate": ("1.0", ("HotFixId", "Description", "InstalledTime", "InstalledBy")),
    "AWS:InstanceDetailedInformation": ("1.0", (
        "CPUModel", "CPUCores", "CPUs", "CPUSpeedMHz", "CPUSockets", "CPUHyperThreadEnabled", "OSServicePack",
    )),
    "AWS:Tag": ("1.0", ("Key", "Value")),
}
_PUTTABLE = set(AWS_SCHEMAS) - {INSTANCE_INFORMATION}


@regional_store("inventory")
class InventoryStore:
    def __init__(self, account_id: str, region: str) -> None:
        # instance id -> type name -> {"SchemaVersion", "CaptureTime", "ContentHash", "Content", "Context"}
        self.items: dict[str, dict[str, dict[str, Any]]] = {}
        # custom type name -> (schema version, attribute names in first-seen order)
        self.custom_schemas: dict[str, tuple[str, list[str]]] = {}


def _capture_time(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _node(ctx: Context, instance_id: str) -> Node:
    node = NODES.get(instance_id, ctx.region)
    if node is None:
        raise AwsError("InvalidInstanceId", f"Instance {instance_id} is not a managed node of this region.")
    return node


def _check_type_name(type_name: str) -> None:
    if not _TYPE_RE.match(type_name):
        raise AwsError("InvalidTypeNameException", f"The type name {type_name} is not valid.")


def _instance_information(node: Node) -> dict[str, Any]:
    online = node.online()
    row = {
        "AgentType": "amazon-ssm-agent", "AgentVersion": node.agent_version, "ComputerName": node.computer_name,
        "InstanceId": node.instance_id, "InstanceStatus": "Active" if online else "ConnectionLost",
        "PlatformName": node.platform_name, "PlatformType": node.platform_type,
        "PlatformVersion": node.platform_version, "ResourceType": node.resource_type,
    }
    if node.ip_address:
        row["IpAddress"] = node.ip_address
    return {"SchemaVersion": "1.0", "CaptureTime": _capture_time(node.last_registration), "Content": [row]}


def _items_of(ctx: Context, node: Node) -> dict[str, dict[str, Any]]:
    items = dict(ctx.store("inventory").items.get(node.instance_id, {}))
    items[INSTANCE_INFORMATION] = _instance_information(node)
    return items


# --------------------------------------------------------------------------
# PutInventory


@operation("PutInventory")
def put_inventory(request: dict, ctx: Context) -> dict:
    instance_id = request["InstanceId"]
    ctx.authorize("ssm:PutInventory", ctx.arn(f"managed-instance/{instance_id}"), [instance_id])
    _node(ctx, instance_id)
    store = ctx.store("inventory")
    new_custom = {}
    for item in request["Items"]:
        type_name = item["TypeName"]
        _check_type_name(type_name)
        content = item.get("Content") or []
        names = list(dict.fromkeys(name for row in content for name in row))
        if type_name.startswith("AWS:"):
            if type_name not in _PUTTABLE:
                raise AwsError("InvalidTypeNameException", f"The type name {type_name} is not valid.")
            version, attributes = AWS_SCHEMAS[type_name]
            if item["SchemaVersion"] != version:
                raise AwsError("UnsupportedInventorySchemaVersionException",
                               f"Schema version {item['SchemaVersion']} of {type_name} is not supported; "
                               f"the supported version is {version}.")
            unknown = [name for name in names if name not in attributes]
            if unknown:
                raise AwsError("InvalidItemContentException",
                               f"Attributes {', '.join(unknown)} are not in the schema of {type_name}.")
        elif type_name not in store.custom_schemas and type_name not in new_custom:
            if len(store.custom_schemas) + len(new_custom) >= MAX_CUSTOM_TYPES:
                raise AwsError("CustomSchemaCountLimitExceededException",
                               f"At most {MAX_CUSTOM_TYPES} custom inventory types are allowed.")
            new_custom[type_name] = (item["SchemaVersion"], names)
    for item in request["Items"]:
        type_name = item["TypeName"]
        stored = {"SchemaVersion": item["SchemaVersion"], "CaptureTime": item["CaptureTime"],
                  "Content": [dict(row) for row in item.get("Content") or []]}
        if item.get("ContentHash"):
            stored["ContentHash"] = item["ContentHash"]
        store.items.setdefault(instance_id, {})[type_name] = stored
        if type_name in store.custom_schemas:
            version, known = store.custom_schemas[type_name]
            known.extend(name for row in stored["Content"] for name in row if name not in known)
            store.custom_schemas[type_name] = (item["SchemaVersion"], known)
    store.custom_schemas.update(new_custom)
    return {}


# --------------------------------------------------------------------------
# filters


def _compare(op: str, actual: str, wanted: list[str]) -> bool:
    if op == "Exists":
        return True
    if op == "Equal":
        return actual in wanted
    if op == "NotEqual":
        return actual not in wanted
    if op == "BeginWith":
        return any(actual.startswith(value) for value in wanted)
    for value in wanted:
        try:
            left, right = float(actual), float(value)
        except ValueError:
            left, right = actual, value  # type: ignore[assignment]
        if (op == "LessThan" and left < right) or (op == "GreaterThan" and left > right):
            return True
    return False


def _parse_filter_key(key: str) -> tuple[str, str]:
    type_name, dot, attribute = key.rpartition(".")
    if not dot or not _TYPE_RE.match(type_name) or not attribute:
        raise AwsError("InvalidFilter", f"The filter key {key} is not valid: use <type name>.<attribute>.")
    return type_name, attribute


def _entry_matches(rows: list[dict], attribute: str, op: str, values: list[str]) -> bool:
    return any(attribute in row and _compare(op, row[attribute], values) for row in rows)


# --------------------------------------------------------------------------
# GetInventory


@operation("GetInventory")
def get_inventory(request: dict, ctx: Context) -> dict:
    ctx.authorize("ssm:GetInventory", ctx.arn("*"))
    if request.get("Aggregators"):
        raise AwsError("InvalidAggregatorException", "Aggregators are not supported by this endpoint.")
    filters = []
    for item in request.get("Filters") or []:
        type_name, attribute = _parse_filter_key(item["Key"])
        filters.append((type_name, attribute, item.get("Type") or "Equal", list(item["Values"])))
    result_type = INSTANCE_INFORMATION
    for attribute in request.get("ResultAttributes") or []:
        result_type = attribute["TypeName"]
        _check_type_name(result_type)
    entities = []
    for node in NODES.list(ctx.region):
        items = _items_of(ctx, node)
        if result_type not in items:
            continue
        if not all(_entry_matches(items.get(t, {}).get("Content", []), a, op, v) for t, a, op, v in filters):
            continue
        item = items[result_type]
        data = {"TypeName": result_type, "SchemaVersion": item["SchemaVersion"], "Content": item["Content"]}
        for key in ("CaptureTime", "ContentHash"):
            if item.get(key):
                data[key] = item[key]
        entities.append({"Id": node.instance_id, "Data": {result_type: data}})
    page, token = paginate(entities, int(request.get("MaxResults") or DEFAULT_MAX_RESULTS), request.get("NextToken"),
                           {"op": "GetInventory", "filters": request.get("Filters"), "type": result_type})
    out: dict[str, Any] = {"Entities": page}
    if token:
        out["NextToken"] = token
    return out


# --------------------------------------------------------------------------
# ListInventoryEntries


@operation("ListInventoryEntries")
def list_inventory_entries(request: dict, ctx: Context) -> dict:
    instance_id = request["InstanceId"]
    type_name = request["TypeName"]
    ctx.authorize("ssm:ListInventoryEntries", ctx.arn(f"managed-instance/{instance_id}"), [instance_id])
    _check_type_name(type_name)
    node = _node(ctx, instance_id)
    item = _items_of(ctx, node).get(type_name)
    rows = list(item["Content"]) if item else []
    for entry in request.get("Filters") or []:
        rows = [row for row in rows if entry["Key"] in row
                and _compare(entry.get("Type") or "Equal", row[entry["Key"]], list(entry["Values"]))]
    page, token = paginate(rows, int(request.get("MaxResults") or DEFAULT_MAX_RESULTS), request.get("NextToken"),
                           {"op": "ListInventoryEntries", "id": instance_id, "type": type_name,
                            "filters": request.get("Filters")})
    out: dict[str, Any] = {"TypeName": type_name, "InstanceId": instance_id, "Entries": page}
    if item:
        out["SchemaVersion"] = item["SchemaVersion"]
        out["CaptureTime"] = item["CaptureTime"]
    if token:
        out["NextToken"] = token
    return out


# --------------------------------------------------------------------------
# GetInventorySchema


@operation("GetInventorySchema")
def get_inventory_schema(request: dict, ctx: Context) -> dict:
    ctx.authorize("ssm:GetInventorySchema", ctx.arn("*"))
    prefix = request.get("TypeName") or ""
    if prefix and not (prefix.startswith("AWS:") or prefix.startswith("Custom:") or prefix in ("AWS", "Custom")):
        raise AwsError("InvalidTypeNameException", f"The type name {prefix} is not valid.")
    schemas = [{"TypeName": name, "Version": version,
                "Attributes": [{"Name": attribute, "DataType": "string"} for attribute in attributes]}
               for name, (version, attributes) in sorted(AWS_SCHEMAS.items())]
    for name, (version, attributes) in sorted(ctx.store("inventory").custom_schemas.items()):
        if attributes:
            schemas.append({"TypeName": name, "Version": version,
                            "Attributes": [{"Name": attribute, "DataType": "string"} for attribute in attributes[:50]]})
    schemas = [schema for schema in schemas if schema["TypeName"].startswith(prefix)]
    page, token = paginate(schemas, int(request.get("MaxResults") or SCHEMA_DEFAULT_MAX_RESULTS),
                           request.get("NextToken"), {"op": "GetInventorySchema", "type": prefix})
    out: dict[str, Any] = {"Schemas": page}
    if token:
        out["NextToken"] = token
    return out
