"""SSM Compliance: PutComplianceItems, ListComplianceItems, ListResourceComplianceSummaries,
ListComplianceSummaries (moto has none of them).

Compliance data lives per account and region, per resource (type and id) and compliance type.
As in AWS:

* ``PutComplianceItems`` replaces every item of that compliance type on that resource
  (``UploadType`` ``COMPLETE``, the default); an empty ``Items`` list removes the type from the
  resource.  ``PARTIAL`` (which AWS documents for association compliance) replaces only the items
  with the same ``Id`` and keeps the others; every item then needs an ``Id``
  (``InvalidItemContentException``).  A request whose ``ItemContentHash`` equals the hash stored
  with the type is ignored.
* ``ResourceType`` ``ManagedInstance`` is the only type (``InvalidResourceType``); the resource
  must be a managed node of the region (``InvalidResourceId``).
* At most 10 ``Custom:`` compliance types exist per account and region
  (``ComplianceTypeCountLimitExceededException``); a type no resource holds any more is free again.
* ``Patch`` compliance is what ``AWS-RunPatchBaseline`` reports: a node with a patch state (seeded
  through ``/_fleetops/patch-states``, ``patching.py``) shows one ``Patch`` item per patch that
  applies to it (not-applicable patches are left out), ``NON_COMPLIANT`` for missing, failed,
  installed-pending-reboot and installed-rejected patches, with the details AWS gives
  (``Classification``, ``PatchSeverity``, ``PatchState``, ``PatchBaselineId``, ``PatchGroup``,
  ``InstalledTime``, ``DocumentName``).  An explicit ``PutComplianceItems`` of type ``Patch``
  replaces that view until a newer patch state is seeded (the newer report wins).
* Listings: ``ListComplianceItems`` takes at most one resource id (``ValidationException``); all
  lists page with ``MaxResults`` 1-50 (default 10) and ``NextToken`` bound to the query.  Filter
  keys: ``ComplianceType``, ``Status``, ``Severity``, ``Id``, ``Title``, ``ExecutionId``,
  ``ExecutionType``, ``ExecutionTime`` for items (any other key matches an item's ``Details``, as
  ``DocumentName`` does in AWS's examples); ``ComplianceType``, ``Status``, ``OverallSeverity``,
  ``InstanceId`` / ``ResourceId``, ``ResourceType``, the execution keys, ``PatchGroup`` (the node's
  patch group tag) and ``AWS:InstanceInformation.<attribute>`` for the summaries; other keys are
  ``InvalidFilter``.  Types ``EQUAL`` (default), ``NOT_EQUAL``, ``BEGIN_WITH``, ``LESS_THAN``,
  ``GREATER_THAN`` (numbers and times compare as numbers).

Known differences: AWS does not document where the 10-type quota applies (we count per account and
region) nor its item and total size limits (not simulated); the severity of derived ``Patch`` items
is ``UNSPECIFIED`` (AWS takes the compliance level of the baseline's approval rule); a
``ListComplianceItems`` without ``ResourceIds`` lists every resource's items; ``OverallSeverity`` is
the highest severity among the non-compliant items, or among all items of a compliant resource;
messages are worded by us with AWS's error codes.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from .nodes import NODES, instance_information
from .registry import AwsError, Context, operation, paginate, regional_store, validation_error

MANAGED_INSTANCE = "ManagedInstance"
MAX_CUSTOM_TYPES = 10
DEFAULT_MAX_RESULTS = 10
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNSPECIFIED")  # highest first
SEVERITY_COUNT_KEYS = {
    "CRITICAL": "CriticalCount", "HIGH": "HighCount", "MEDIUM": "MediumCount", "LOW": "LowCount",
    "INFORMATIONAL": "InformationalCount", "UNSPECIFIED": "UnspecifiedCount",
}
PATCH_TYPE = "Patch"
_NON_COMPLIANT_PATCH_STATES = ("MISSING", "FAILED", "INSTALLED_PENDING_REBOOT", "INSTALLED_REJECTED")
_COMPLIANT_PATCH_STATES = ("INSTALLED", "INSTALLED_OTHER")
_PATCH_STATE_NAMES = {
    "INSTALLED": "Installed", "INSTALLED_OTHER": "InstalledOther", "INSTALLED_PENDING_REBOOT": "InstalledPendingReboot",
    "INSTALLED_REJECTED": "InstalledRejected", "MISSING": "Missing", "FAILED": "Failed",
}
_INSTANCE_ID_RE = re.compile(r"(^i-(\w{8}|\w{17})$)|(^mi-\w{17}$)")
_ITEM_KEYS = {"ComplianceType", "Status", "Severity", "Id", "Title", "ExecutionId", "ExecutionType", "ExecutionTime"}
_SUMMARY_KEYS = {"ComplianceType", "Status", "OverallSeverity", "InstanceId", "ResourceId", "ResourceType",
                 "ExecutionId", "ExecutionType", "ExecutionTime", "PatchGroup"}
_INVENTORY_PREFIX = "AWS:InstanceInformation."


@regional_store("compliance")
class ComplianceStore:
    def __init__(self, account_id: str, region: str) -> None:
        # (resource type, resource id) -> compliance type -> {"ExecutionSummary", "Items", "ContentHash", "Order"}
        self.resources: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
        self.order = 0

    def custom_types(self) -> set[str]:
        return {name for types in self.resources.values() for name in types if name.startswith("Custom:")}


# --------------------------------------------------------------------------
# helpers


def _node_arn(ctx: Context, resource_id: str) -> str:
    if resource_id.startswith("mi-"):
        return ctx.arn(f"managed-instance/{resource_id}")
    return f"arn:{ctx.partition}:ec2:{ctx.region}:{ctx.account_id}:instance/{resource_id}"


def _check_resource_type(resource_type: str) -> None:
    if resource_type != MANAGED_INSTANCE:
        raise AwsError("InvalidResourceType")


def _time(value: Any) -> float | None:
    """Epoch seconds from a number or an ISO 8601 text; None when it is neither."""
    try:
        return float(value)
    except (TypeError, ValueError):
        pass
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.timestamp()


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _compare(kind: str, actual: Any, wanted: list[str]) -> bool:
    if actual is None:
        return kind == "NOT_EQUAL"
    actual = str(actual)
    if kind == "EQUAL":
        return actual in wanted
    if kind == "NOT_EQUAL":
        return actual not in wanted
    if kind == "BEGIN_WITH":
        return any(actual.startswith(value) for value in wanted)
    for value in wanted:
        left, right = _time(actual), _time(value)
        if left is None or right is None:
            left, right = actual, value  # type: ignore[assignment]
        if (kind == "LESS_THAN" and left < right) or (kind == "GREATER_THAN" and left > right):
            return True
    return False


def _filters(request: dict, allowed: set[str] | None) -> list[tuple[str, str, list[str]]]:
    """(key, type, values) for each filter; ``allowed`` None accepts any key (item details)."""
    out = []
    for item in request.get("Filters") or []:
        key = item.get("Key")
        if not key:
            raise AwsError("InvalidFilter", "A compliance filter needs a Key.")
        values = list(item.get("Values") or [])
        if not values:
            raise AwsError("InvalidFilter", f"The filter {key} needs at least one value.")
        if allowed is not None and key not in allowed and not key.startswith(_INVENTORY_PREFIX):
            raise AwsError("InvalidFilter", f"The filter key {key} is not valid. Valid keys: "
                                            f"{', '.join(sorted(allowed))}, {_INVENTORY_PREFIX}<attribute>.")
        out.append((key, item.get("Type") or "EQUAL", values))
    return out


def _max_results(request: dict) -> int:
    return int(request.get("MaxResults") or DEFAULT_MAX_RESULTS)


def _page(request: dict, items: list, key: str, query: dict) -> dict:
    page, token = paginate(items, _max_results(request), request.get("NextToken"), query)
    out: dict[str, Any] = {key: page}
    if token:
        out["NextToken"] = token
    return out


# --------------------------------------------------------------------------
# Patch compliance from the nodes' patch states


def _patch_view(ctx: Context, instance_id: str) -> dict[str, Any] | None:
    """The Patch compliance AWS-RunPatchBaseline would have reported for the node, or None."""
    try:
        patching = ctx.store("patching")
    except KeyError:  # the patching area is not loaded
        return None
    state = patching.instance_states.get(instance_id)
    if state is None:
        return None
    items = []
    for patch in patching.instance_patches.get(instance_id, []):
        if patch["State"] in _NON_COMPLIANT_PATCH_STATES:
            status = "NON_COMPLIANT"
        elif patch["State"] in _COMPLIANT_PATCH_STATES:
            status = "COMPLIANT"
        else:  # not applicable / available security update: not part of the node's patch compliance
            continue
        installed = patch.get("InstalledTime") or 0
        items.append({
            "Id": patch["KBId"], "Title": patch["Title"], "Severity": "UNSPECIFIED", "Status": status,
            "Details": {
                "Classification": patch.get("Classification", ""), "PatchSeverity": patch.get("Severity", ""),
                "PatchState": _PATCH_STATE_NAMES[patch["State"]], "PatchBaselineId": state["BaselineId"],
                "PatchGroup": state["PatchGroup"], "InstalledTime": _iso(installed) if installed else "",
                "DocumentName": "AWS-RunPatchBaseline",
            },
        })
    if not items:
        return None
    return {"ExecutionSummary": {"ExecutionTime": state["OperationEndTime"], "ExecutionType": "Command"},
            "Items": items, "Order": -1}


def _types_of(ctx: Context, resource: tuple[str, str]) -> dict[str, dict[str, Any]]:
    """Compliance type -> stored entry for one resource, the Patch view merged in."""
    types = dict(ctx.store("compliance").resources.get(resource, {}))
    if resource[0] == MANAGED_INSTANCE:
        derived = _patch_view(ctx, resource[1])
        explicit = types.get(PATCH_TYPE)
        if derived and (explicit is None or
                        derived["ExecutionSummary"]["ExecutionTime"] > explicit["ExecutionSummary"]["ExecutionTime"]):
            types[PATCH_TYPE] = derived
    return types


def _resources(ctx: Context) -> list[tuple[str, str]]:
    found = set(ctx.store("compliance").resources)
    try:
        found.update((MANAGED_INSTANCE, iid) for iid in ctx.store("patching").instance_states)
    except KeyError:
        pass
    return sorted(found, key=lambda resource: (resource[0], resource[1]))


# --------------------------------------------------------------------------
# PutComplianceItems


@operation("PutComplianceItems")
def put_compliance_items(request: dict, ctx: Context) -> dict:
    resource_id = request["ResourceId"]
    resource_type = request["ResourceType"]
    compliance_type = request["ComplianceType"]
    ctx.authorize("ssm:PutComplianceItems", _node_arn(ctx, resource_id), [resource_id])
    _check_resource_type(resource_type)
    if not _INSTANCE_ID_RE.match(resource_id) or NODES.get(resource_id, ctx.region) is None:
        raise AwsError("InvalidResourceId")
    store = ctx.store("compliance")
    resource = (resource_type, resource_id)
    current = store.resources.get(resource, {}).get(compliance_type)
    content_hash = request.get("ItemContentHash")
    if current is not None and content_hash and current.get("ContentHash") == content_hash:
        return {}
    items = [dict(item) for item in request["Items"]]
    for item in items:
        if isinstance(item.get("Details"), dict):
            item["Details"] = dict(item["Details"])
    if request.get("UploadType") == "PARTIAL":
        if any(not item.get("Id") for item in items):
            raise AwsError("InvalidItemContentException",
                           "A PARTIAL upload replaces items by their Id: every item needs an Id.")
        replaced = {item["Id"] for item in items}
        kept = [item for item in (current or {}).get("Items", []) if item.get("Id") not in replaced]
        items = kept + items
    types = store.resources.setdefault(resource, {})
    if not items:
        types.pop(compliance_type, None)
        if not types:
            store.resources.pop(resource, None)
        return {}
    if compliance_type.startswith("Custom:") and compliance_type not in store.custom_types() \
            and len(store.custom_types()) >= MAX_CUSTOM_TYPES:
        raise AwsError("ComplianceTypeCountLimitExceededException",
                       f"You specified too many custom compliance types. You can specify a maximum of "
                       f"{MAX_CUSTOM_TYPES} different types.")
    summary = {key: value for key, value in request["ExecutionSummary"].items() if value is not None}
    store.order += 1
    types[compliance_type] = {"ExecutionSummary": summary, "Items": items, "ContentHash": content_hash,
                              "Order": store.order}
    return {}


# --------------------------------------------------------------------------
# ListComplianceItems


def _item_value(item: dict, entry: dict, compliance_type: str, key: str) -> Any:
    summary = entry["ExecutionSummary"]
    if key == "ComplianceType":
        return compliance_type
    if key in ("ExecutionId", "ExecutionType", "ExecutionTime"):
        return summary.get(key)
    if key in _ITEM_KEYS:
        return item.get(key)
    return (item.get("Details") or {}).get(key)


@operation("ListComplianceItems")
def list_compliance_items(request: dict, ctx: Context) -> dict:
    ctx.authorize("ssm:ListComplianceItems", ctx.arn("*"))
    resource_ids = list(request.get("ResourceIds") or [])
    if len(resource_ids) > 1:
        raise validation_error("Only one resource ID can be specified per call.")
    resource_types = list(request.get("ResourceTypes") or [])
    for resource_type in resource_types:
        _check_resource_type(resource_type)
    for resource_id in resource_ids:
        if not _INSTANCE_ID_RE.match(resource_id):
            raise AwsError("InvalidResourceId")
    filters = _filters(request, None)
    found = []
    for resource in _resources(ctx):
        if resource_ids and resource[1] not in resource_ids:
            continue
        if resource_types and resource[0] not in resource_types:
            continue
        types = _types_of(ctx, resource)
        for compliance_type in sorted(types, key=lambda name: types[name]["Order"]):
            entry = types[compliance_type]
            for item in entry["Items"]:
                if not all(_compare(kind, _item_value(item, entry, compliance_type, key), values)
                           for key, kind, values in filters):
                    continue
                row: dict[str, Any] = {"ComplianceType": compliance_type, "ResourceType": resource[0],
                                       "ResourceId": resource[1]}
                row.update({key: item[key] for key in ("Id", "Title", "Status", "Severity", "Details") if key in item})
                row["ExecutionSummary"] = dict(entry["ExecutionSummary"])
                found.append(row)
    query = {"op": "ListComplianceItems", "ids": resource_ids, "types": resource_types,
             "filters": request.get("Filters")}
    return _page(request, found, "ComplianceItems", query)


# --------------------------------------------------------------------------
# summaries


def _severity_summary(items: list[dict]) -> dict[str, int]:
    counts = {key: 0 for key in SEVERITY_COUNT_KEYS.values()}
    for item in items:
        counts[SEVERITY_COUNT_KEYS[item.get("Severity") or "UNSPECIFIED"]] += 1
    return counts


def _highest(severities: list[str]) -> str:
    for severity in SEVERITIES:
        if severity in severities:
            return severity
    return "UNSPECIFIED"


def _resource_summary(resource: tuple[str, str], compliance_type: str, entry: dict) -> dict:
    items = entry["Items"]
    compliant = [item for item in items if item.get("Status") == "COMPLIANT"]
    non_compliant = [item for item in items if item.get("Status") != "COMPLIANT"]
    status = "NON_COMPLIANT" if non_compliant else "COMPLIANT"
    severity = _highest([item.get("Severity") or "UNSPECIFIED" for item in (non_compliant or compliant)])
    return {
        "ComplianceType": compliance_type, "ResourceType": resource[0], "ResourceId": resource[1],
        "Status": status, "OverallSeverity": severity, "ExecutionSummary": dict(entry["ExecutionSummary"]),
        "CompliantSummary": {"CompliantCount": len(compliant), "SeveritySummary": _severity_summary(compliant)},
        "NonCompliantSummary": {"NonCompliantCount": len(non_compliant),
                                "SeveritySummary": _severity_summary(non_compliant)},
    }


def _patch_group(node) -> str | None:
    tags = node.tags if node is not None else {}
    return tags.get("Patch Group", tags.get("PatchGroup"))


def _summary_value(ctx: Context, summary: dict, key: str) -> Any:
    if key in ("InstanceId", "ResourceId"):
        return summary["ResourceId"]
    if key in ("ExecutionId", "ExecutionType", "ExecutionTime"):
        return summary["ExecutionSummary"].get(key)
    if key == "PatchGroup":
        return _patch_group(NODES.get(summary["ResourceId"], ctx.region))
    if key.startswith(_INVENTORY_PREFIX):
        node = NODES.get(summary["ResourceId"], ctx.region)
        if node is None:
            return None
        attribute = key[len(_INVENTORY_PREFIX):]
        info = instance_information(node)
        aliases = {"IpAddress": "IPAddress", "InstanceStatus": "PingStatus"}
        return info.get(aliases.get(attribute, attribute))
    return summary.get(key)


def _summaries(ctx: Context, request: dict) -> list[dict]:
    filters = _filters(request, _SUMMARY_KEYS)
    out = []
    for resource in _resources(ctx):
        types = _types_of(ctx, resource)
        for compliance_type in sorted(types, key=lambda name: types[name]["Order"]):
            summary = _resource_summary(resource, compliance_type, types[compliance_type])
            if all(_compare(kind, _summary_value(ctx, summary, key), values) for key, kind, values in filters):
                out.append(summary)
    return out


@operation("ListResourceComplianceSummaries")
def list_resource_compliance_summaries(request: dict, ctx: Context) -> dict:
    ctx.authorize("ssm:ListResourceComplianceSummaries", ctx.arn("*"))
    found = _summaries(ctx, request)
    query = {"op": "ListResourceComplianceSummaries", "filters": request.get("Filters")}
    return _page(request, found, "ResourceComplianceSummaryItems", query)


@operation("ListComplianceSummaries")
def list_compliance_summaries(request: dict, ctx: Context) -> dict:
    ctx.authorize("ssm:ListComplianceSummaries", ctx.arn("*"))
    per_type: dict[str, list[dict]] = {}
    for summary in _summaries(ctx, request):
        per_type.setdefault(summary["ComplianceType"], []).append(summary)
    found = []
    for compliance_type, summaries in per_type.items():
        compliant = [{"Severity": s["OverallSeverity"]} for s in summaries if s["Status"] == "COMPLIANT"]
        non_compliant = [{"Severity": s["OverallSeverity"]} for s in summaries if s["Status"] != "COMPLIANT"]
        found.append({
            "ComplianceType": compliance_type,
            "CompliantSummary": {"CompliantCount": len(compliant), "SeveritySummary": _severity_summary(compliant)},
            "NonCompliantSummary": {"NonCompliantCount": len(non_compliant),
                                    "SeveritySummary": _severity_summary(non_compliant)},
        })
    query = {"op": "ListComplianceSummaries", "filters": request.get("Filters")}
    return _page(request, found, "ComplianceSummaryItems", query)
