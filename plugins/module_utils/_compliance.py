# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE: this file is internal to the fleetops.ssm collection. It is not a public API and may
# change at any time without notice. Do not import it from outside the collection.

"""SSM Compliance: one function per API call, and the checks, comparison and output the modules share.

``PutComplianceItems`` replaces every item of one compliance type on one resource (``COMPLETE``,
AWS's default); an empty item list removes the type from the resource. ``PARTIAL`` replaces only the
items with the ids it sends.
"""

from __future__ import annotations

import datetime
import json
import re

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import SSMErrorHandler
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import ssm_retry

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNSPECIFIED")
STATUSES = ("COMPLIANT", "NON_COMPLIANT")
UPLOAD_TYPES = ("COMPLETE", "PARTIAL")
DEFAULT_RESOURCE_TYPE = "ManagedInstance"
COMPLIANT = "COMPLIANT"
NON_COMPLIANT = "NON_COMPLIANT"

# Limits from botocore's model (PutComplianceItemsRequest, ComplianceItemEntry, ComplianceStringFilter).
MAX_ITEMS = 10000
MAX_TITLE = 500
MAX_RESOURCE_ID = 100
MAX_RESOURCE_TYPE = 50
MAX_COMPLIANCE_TYPE = 100
MAX_EXECUTION_ID = 100
MAX_EXECUTION_TYPE = 50
MAX_DETAIL_KEY = 64
MAX_DETAIL_VALUE = 4096
MAX_FILTER_VALUES = 20
PAGE_SIZE = 50
# The model's ComplianceTypeName pattern: a name of word characters (a hyphen only first), or Custom:
# followed by one.
_COMPLIANCE_TYPE_RE = re.compile(r"[A-Za-z0-9_\-]\w+|Custom:[a-zA-Z0-9_\-]\w+")


class ComplianceValidationError(AnsibleSSMError):
    """The input breaks an SSM Compliance rule; raised before any API call that would act on it."""


def _fail(message):
    raise ComplianceValidationError(message=message)


# ---------------------------------------------------------------------------------------------
# API calls. Each one is a single SSM operation; none takes a module.
# ---------------------------------------------------------------------------------------------


@SSMErrorHandler.common_error_handler("put compliance items")
@ssm_retry()
def put_compliance_items(client, request):
    client.put_compliance_items(**request)


@SSMErrorHandler.list_error_handler("list compliance items", default_value=[])
@ssm_retry()
def list_compliance_items(client, resource_id, resource_types=None, filters=None):
    """One resource's compliance items (AWS takes one resource id per call)."""
    paginator = client.get_paginator("list_compliance_items")
    result = paginator.paginate(ResourceIds=[resource_id], ResourceTypes=list(resource_types or [DEFAULT_RESOURCE_TYPE]),
                                Filters=filters or [], PaginationConfig={"PageSize": PAGE_SIZE})
    return result.build_full_result().get("ComplianceItems", [])


@SSMErrorHandler.list_error_handler("list resource compliance summaries", default_value=[])
@ssm_retry()
def list_resource_compliance_summaries(client, filters=None):
    paginator = client.get_paginator("list_resource_compliance_summaries")
    result = paginator.paginate(Filters=filters or [], PaginationConfig={"PageSize": PAGE_SIZE})
    return result.build_full_result().get("ResourceComplianceSummaryItems", [])


@SSMErrorHandler.list_error_handler("list compliance summaries", default_value=[])
@ssm_retry()
def list_compliance_summaries(client, filters=None):
    paginator = client.get_paginator("list_compliance_summaries")
    result = paginator.paginate(Filters=filters or [], PaginationConfig={"PageSize": PAGE_SIZE})
    return result.build_full_result().get("ComplianceSummaryItems", [])


# ---------------------------------------------------------------------------------------------
# Input.
# ---------------------------------------------------------------------------------------------


def validate_compliance_type(compliance_type, option="compliance_type"):
    if not compliance_type or len(compliance_type) > MAX_COMPLIANCE_TYPE or not _COMPLIANCE_TYPE_RE.fullmatch(compliance_type):
        _fail(
            f"{option} {compliance_type!r} is not a compliance type AWS accepts: use Custom: followed by at least two "
            "letters, digits or underscores (a hyphen only as the first character), for example Custom:Drift, or one "
            f"of AWS's types such as Patch or Association; at most {MAX_COMPLIANCE_TYPE} characters."
        )


def validate_resource(resource_id, resource_type):
    if not resource_id or len(resource_id) > MAX_RESOURCE_ID:
        _fail(f"resource_id must have 1 to {MAX_RESOURCE_ID} characters (a managed node id such as mi-0123456789abcdef0).")
    if not resource_type or len(resource_type) > MAX_RESOURCE_TYPE:
        _fail(f"resource_type must have 1 to {MAX_RESOURCE_TYPE} characters; AWS supports ManagedInstance.")


def _detail_value(key, value, where):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    text = str(value)
    if len(text) > MAX_DETAIL_VALUE:
        _fail(f"{where}.details.{key} has {len(text)} characters; AWS keeps at most {MAX_DETAIL_VALUE} per value.")
    return text


def desired_items(items, upload_type):
    """The items as PutComplianceItems takes them, checked against AWS's limits."""
    items = items or []
    if len(items) > MAX_ITEMS:
        _fail(f"items has {len(items)} entries; PutComplianceItems takes at most {MAX_ITEMS}.")
    entries, seen = [], set()
    for index, item in enumerate(items):
        where = f"items[{index}]"
        item_id = item.get("id")
        if item_id is not None:
            if item_id in seen:
                _fail(f"{where}.id {item_id!r} appears more than once; give every item its own id.")
            seen.add(item_id)
        elif upload_type == "PARTIAL":
            _fail(f"{where} has no id: a PARTIAL upload replaces items by their id, so every item needs one.")
        title = item.get("title")
        if title is not None and len(title) > MAX_TITLE:
            _fail(f"{where}.title has {len(title)} characters; AWS keeps at most {MAX_TITLE}.")
        details = {}
        for key, value in (item.get("details") or {}).items():
            key = str(key)
            if not 1 <= len(key) <= MAX_DETAIL_KEY:
                _fail(f"{where}.details has the key {key!r}; keys have 1 to {MAX_DETAIL_KEY} characters.")
            details[key] = _detail_value(key, value, where)
        entry = {"Severity": item.get("severity") or "UNSPECIFIED", "Status": item["status"]}
        if item_id is not None:
            entry["Id"] = item_id
        if title is not None:
            entry["Title"] = title
        if details:
            entry["Details"] = details
        entries.append(entry)
    return entries


def parse_time(value, option="execution_summary.execution_time"):
    """A timezone-aware datetime from ISO 8601 text (UTC when no zone is given)."""
    if isinstance(value, datetime.datetime):
        parsed = value
    else:
        text = str(value).strip()
        if text.endswith("Z") or text.endswith("z"):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.datetime.fromisoformat(text)
        except ValueError:
            _fail(f"{option} {value!r} is not an ISO 8601 date and time, for example 2026-01-02T03:04:05Z.")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed


def execution_summary(summary, now=None):
    """ComplianceExecutionSummary from the execution_summary option; the time defaults to now."""
    summary = summary or {}
    when = summary.get("execution_time")
    result = {"ExecutionTime": parse_time(when) if when else (now or datetime.datetime.now(datetime.timezone.utc))}
    for option, key, limit in (("execution_id", "ExecutionId", MAX_EXECUTION_ID),
                               ("execution_type", "ExecutionType", MAX_EXECUTION_TYPE)):
        value = summary.get(option)
        if value is not None:
            if len(value) > limit:
                _fail(f"execution_summary.{option} has {len(value)} characters; AWS keeps at most {limit}.")
            result[key] = value
    return result


def put_request(resource_id, resource_type, compliance_type, summary, entries, upload_type):
    request = {
        "ResourceId": resource_id, "ResourceType": resource_type, "ComplianceType": compliance_type,
        "ExecutionSummary": summary, "Items": entries,
    }
    if upload_type and upload_type != "COMPLETE":
        request["UploadType"] = upload_type
    return request


def status_filters(compliance_types=None, statuses=None):
    """ComplianceStringFilters for compliance types and statuses (EQUAL, 20 values a filter at most)."""
    filters = []
    for key, values in (("ComplianceType", compliance_types), ("Status", statuses)):
        if not values:
            continue
        values = list(dict.fromkeys(values))
        if len(values) > MAX_FILTER_VALUES:
            _fail(f"At most {MAX_FILTER_VALUES} values can be matched at once ({key}: {len(values)} given).")
        filters.append({"Key": key, "Values": values, "Type": "EQUAL"})
    return filters


# ---------------------------------------------------------------------------------------------
# Comparison and prediction.
# ---------------------------------------------------------------------------------------------


def _canonical(entry):
    return (
        entry.get("Id") or "",
        entry.get("Title") or "",
        entry.get("Severity") or "UNSPECIFIED",
        entry.get("Status") or "",
        tuple(sorted((entry.get("Details") or {}).items())),
    )


def same_items(first, second):
    """Whether two item lists hold the same items, in any order (execution summaries aside)."""
    return sorted(_canonical(entry) for entry in first or []) == sorted(_canonical(entry) for entry in second or [])


def merged_items(current, entries, upload_type):
    """The items AWS keeps after the put: the new ones, plus (PARTIAL) the current ones with other ids."""
    if upload_type != "PARTIAL":
        return list(entries)
    replaced = {entry["Id"] for entry in entries}
    return [entry for entry in current or [] if entry.get("Id") not in replaced] + list(entries)


def predict(entries, summary):
    """The items as ListComplianceItems would return them after the put."""
    return [dict(entry, ExecutionSummary=dict(summary)) for entry in entries]


# ---------------------------------------------------------------------------------------------
# Output.
# ---------------------------------------------------------------------------------------------


def isoformat(value):
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    return value


def _summary_to_ansible(summary):
    if not summary:
        return None
    return {
        "execution_time": isoformat(summary.get("ExecutionTime")),
        "execution_id": summary.get("ExecutionId"),
        "execution_type": summary.get("ExecutionType"),
    }


def item_to_ansible(item):
    """A compliance item (ComplianceItem or a predicted entry) in snake_case; details keep their keys."""
    result = {
        "id": item.get("Id"),
        "title": item.get("Title"),
        "severity": item.get("Severity"),
        "status": item.get("Status"),
        "details": dict(item.get("Details") or {}),
        "execution_summary": _summary_to_ansible(item.get("ExecutionSummary")),
    }
    for key, name in (("ComplianceType", "compliance_type"), ("ResourceType", "resource_type"),
                      ("ResourceId", "resource_id")):
        if key in item:
            result[name] = item[key]
    return result


def _sort_key(item):
    return (item.get("id") or "", item.get("title") or "")


def compliance_to_ansible(resource_id, resource_type, compliance_type, items):
    """What the compliance module returns for one resource and compliance type."""
    converted = sorted((item_to_ansible(item) for item in items or []), key=_sort_key)
    for item in converted:
        for key in ("compliance_type", "resource_type", "resource_id"):
            item.pop(key, None)
    non_compliant = sum(1 for item in converted if item["status"] != COMPLIANT)
    status = None
    if converted:
        status = NON_COMPLIANT if non_compliant else COMPLIANT
    return {
        "resource_id": resource_id,
        "resource_type": resource_type,
        "compliance_type": compliance_type,
        "status": status,
        "items": converted,
        "compliant_count": len(converted) - non_compliant,
        "non_compliant_count": non_compliant,
        "execution_summary": converted[0]["execution_summary"] if converted else None,
    }


def compliance_for_diff(compliance):
    """The compared part of the module's result: the items without their execution summaries."""
    items = []
    for item in compliance["items"]:
        items.append({key: value for key, value in item.items() if key != "execution_summary"})
    return {"status": compliance["status"], "items": items}


def summary_to_ansible(summary):
    """A ResourceComplianceSummaryItem or ComplianceSummaryItem in snake_case, with ISO 8601 times."""
    result = camel_dict_to_snake_dict({key: value for key, value in summary.items() if key != "ExecutionSummary"})
    if "ExecutionSummary" in summary:
        result["execution_summary"] = _summary_to_ansible(summary["ExecutionSummary"])
    return result
