# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE: this file is internal to the fleetops.ssm collection. It is not a public API and may
# change at any time without notice. Do not import it from outside the collection.

"""Patch Manager: one function per API call, and the normalisation and comparison the modules share."""

from __future__ import annotations

import datetime
import json
import re
import uuid

from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.transformation import boto3_resource_to_ansible_dict

from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import SSMErrorHandler
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import ssm_retry

# botocore's OperatingSystem enum; AWS creates a baseline for WINDOWS when none is named.
OPERATING_SYSTEMS = (
    "WINDOWS", "AMAZON_LINUX", "AMAZON_LINUX_2", "AMAZON_LINUX_2022", "AMAZON_LINUX_2023", "UBUNTU", "DEBIAN",
    "RASPBIAN", "REDHAT_ENTERPRISE_LINUX", "CENTOS", "ORACLE_LINUX", "SUSE", "ROCKY_LINUX", "ALMA_LINUX", "MACOS",
)
DEFAULT_OPERATING_SYSTEM = "WINDOWS"

# The filter keys a patch baseline takes per operating system (AWS API reference, PatchFilter
# and DescribePatchProperties; SECTION is Debian-family only, MSRC_SEVERITY Windows only).
_RPM_KEYS = ("PRODUCT", "CLASSIFICATION", "SEVERITY")
_DEB_KEYS = ("PRODUCT", "PRIORITY", "SECTION")
FILTER_KEYS = dict(
    {os_name: _RPM_KEYS for os_name in OPERATING_SYSTEMS},
    WINDOWS=("PATCH_SET", "PRODUCT", "PRODUCT_FAMILY", "CLASSIFICATION", "MSRC_SEVERITY"),
    MACOS=("PRODUCT", "CLASSIFICATION"),
    UBUNTU=_DEB_KEYS,
    DEBIAN=_DEB_KEYS,
    RASPBIAN=_DEB_KEYS,
)
ALL_FILTER_KEYS = ("PATCH_SET", "PRODUCT", "PRODUCT_FAMILY", "CLASSIFICATION", "MSRC_SEVERITY", "SEVERITY", "PRIORITY",
                   "SECTION")
# Alternative patch repositories are for Linux; the available-security-updates status for Windows.
NO_SOURCES = ("WINDOWS", "MACOS")
COMPLIANCE_LEVELS = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNSPECIFIED")
REJECTED_PATCHES_ACTIONS = ("ALLOW_AS_DEPENDENCY", "BLOCK")
SECURITY_UPDATES_STATUSES = ("COMPLIANT", "NON_COMPLIANT")

# Limits from botocore's model and the Patch Manager quotas.
MAX_RULES = 10
MAX_FILTERS = 4
MAX_FILTER_VALUES = 20
MAX_FILTER_VALUE_LENGTH = 64
MAX_PATCH_IDS = 50
MAX_PATCH_ID_LENGTH = 100
MAX_SOURCES = 20
MAX_SOURCE_PRODUCTS = 20
MAX_SOURCE_CONFIGURATION = 1024
MAX_DESCRIPTION = 1024
MAX_APPROVE_AFTER_DAYS = 360
MAX_PATCH_GROUPS = 25
BATCH_PATCH_STATES = 50  # DescribeInstancePatchStates takes at most 50 node ids

RESOURCE_TYPE = "PatchBaseline"  # for the tagging API

UNSPECIFIED = "UNSPECIFIED"
ALLOW_AS_DEPENDENCY = "ALLOW_AS_DEPENDENCY"

_NAME_RE = re.compile(r"^[a-zA-Z0-9_\-.]{3,128}$")
_SOURCE_NAME_RE = re.compile(r"^[a-zA-Z0-9_\-.]{3,50}$")
_PATCH_GROUP_RE = re.compile(r"^[\w \u00a0.:/=+\-@]{1,256}$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# DescribeInstancePatches' State filter values, and the states its answers carry.
PATCH_STATE_FILTERS = {
    "Installed": "INSTALLED",
    "InstalledOther": "INSTALLED_OTHER",
    "InstalledPendingReboot": "INSTALLED_PENDING_REBOOT",
    "InstalledRejected": "INSTALLED_REJECTED",
    "Missing": "MISSING",
    "NotApplicable": "NOT_APPLICABLE",
    "Failed": "FAILED",
    "AvailableSecurityUpdate": "AVAILABLE_SECURITY_UPDATE",
}
STATE_COUNT_KEYS = (
    "InstalledCount", "InstalledOtherCount", "InstalledPendingRebootCount", "InstalledRejectedCount",
    "MissingCount", "FailedCount", "UnreportedNotApplicableCount", "NotApplicableCount",
)


class PatchBaselineValidationError(AnsibleSSMError):
    """The input breaks a Patch Manager rule; raised before any API call that would act on it."""


# ---------------------------------------------------------------------------------------------
# API calls. Each one is a single SSM operation; none takes a module.
# ---------------------------------------------------------------------------------------------


@SSMErrorHandler.list_error_handler("describe patch baselines", default_value=[])
@ssm_retry()
def describe_patch_baselines(client, filters=None):
    paginator = client.get_paginator("describe_patch_baselines")
    result = paginator.paginate(Filters=filters or [], PaginationConfig={"PageSize": 100})
    return result.build_full_result().get("BaselineIdentities", [])


@SSMErrorHandler.list_error_handler("get patch baseline", default_value=None)
@ssm_retry()
def get_patch_baseline(client, baseline_id):
    result = client.get_patch_baseline(BaselineId=baseline_id)
    result.pop("ResponseMetadata", None)
    return result


@SSMErrorHandler.common_error_handler("create patch baseline")
@ssm_retry()
def create_patch_baseline(client, request):
    return client.create_patch_baseline(**request)["BaselineId"]


@SSMErrorHandler.common_error_handler("update patch baseline")
@ssm_retry()
def update_patch_baseline(client, request):
    return client.update_patch_baseline(**request)


@SSMErrorHandler.deletion_error_handler("delete patch baseline")
@ssm_retry()
def delete_patch_baseline(client, baseline_id):
    client.delete_patch_baseline(BaselineId=baseline_id)
    return True


@SSMErrorHandler.common_error_handler("register patch group")
@ssm_retry()
def register_patch_group(client, baseline_id, patch_group):
    client.register_patch_baseline_for_patch_group(BaselineId=baseline_id, PatchGroup=patch_group)


@SSMErrorHandler.deletion_error_handler("deregister patch group")
@ssm_retry()
def deregister_patch_group(client, baseline_id, patch_group):
    client.deregister_patch_baseline_for_patch_group(BaselineId=baseline_id, PatchGroup=patch_group)
    return True


@SSMErrorHandler.list_error_handler("describe patch groups", default_value=[])
@ssm_retry()
def describe_patch_groups(client, filters=None):
    paginator = client.get_paginator("describe_patch_groups")
    result = paginator.paginate(Filters=filters or [], PaginationConfig={"PageSize": 100})
    return result.build_full_result().get("Mappings", [])


@SSMErrorHandler.common_error_handler("describe patch group state")
@ssm_retry()
def describe_patch_group_state(client, patch_group):
    result = client.describe_patch_group_state(PatchGroup=patch_group)
    result.pop("ResponseMetadata", None)
    return result


@SSMErrorHandler.common_error_handler("register default patch baseline")
@ssm_retry()
def register_default_patch_baseline(client, baseline_id):
    client.register_default_patch_baseline(BaselineId=baseline_id)


@SSMErrorHandler.common_error_handler("get default patch baseline")
@ssm_retry()
def get_default_patch_baseline(client, operating_system):
    return client.get_default_patch_baseline(OperatingSystem=operating_system)["BaselineId"]


@SSMErrorHandler.list_error_handler("describe effective patches", default_value=[])
@ssm_retry()
def describe_effective_patches(client, baseline_id):
    paginator = client.get_paginator("describe_effective_patches_for_patch_baseline")
    result = paginator.paginate(BaselineId=baseline_id, PaginationConfig={"PageSize": 100})
    return result.build_full_result().get("EffectivePatches", [])


@SSMErrorHandler.common_error_handler("describe instance patch states")
@ssm_retry()
def _describe_instance_patch_states(client, instance_ids):
    paginator = client.get_paginator("describe_instance_patch_states")
    result = paginator.paginate(InstanceIds=instance_ids, PaginationConfig={"PageSize": 100})
    return result.build_full_result().get("InstancePatchStates", [])


def describe_instance_patch_states(client, instance_ids):
    """DescribeInstancePatchStates in batches of 50 node ids; nodes without a state are left out."""
    states = []
    instance_ids = list(dict.fromkeys(instance_ids))
    for start in range(0, len(instance_ids), BATCH_PATCH_STATES):
        states.extend(_describe_instance_patch_states(client, instance_ids[start:start + BATCH_PATCH_STATES]))
    return states


@SSMErrorHandler.common_error_handler("describe instance patch states for patch group")
@ssm_retry()
def describe_instance_patch_states_for_patch_group(client, patch_group, filters=None):
    paginator = client.get_paginator("describe_instance_patch_states_for_patch_group")
    result = paginator.paginate(PatchGroup=patch_group, Filters=filters or [], PaginationConfig={"PageSize": 100})
    return result.build_full_result().get("InstancePatchStates", [])


@SSMErrorHandler.common_error_handler("describe instance patches")
@ssm_retry()
def describe_instance_patches(client, instance_id, filters=None):
    paginator = client.get_paginator("describe_instance_patches")
    result = paginator.paginate(InstanceId=instance_id, Filters=filters or [], PaginationConfig={"PageSize": 100})
    return result.build_full_result().get("Patches", [])


# ---------------------------------------------------------------------------------------------
# Finding baselines.
# ---------------------------------------------------------------------------------------------


def same_baseline(first, second):
    """Whether two baseline ids name the same baseline (one may be the full ARN of the other)."""
    if not first or not second:
        return False
    return str(first).rsplit("/", 1)[-1] == str(second).rsplit("/", 1)[-1]


def is_aws_owned(baseline_id):
    """AWS's predefined baselines are known by their full ARN; the account's own by a bare pb- id."""
    return str(baseline_id or "").startswith("arn:")


def find_baseline(client, name=None, baseline_id=None):
    """The account's baseline with this id, or the only one with this name; None when there is none.

    Names are not unique in AWS: when several of the account's baselines share the name, the
    task has to say which one it means with baseline_id.
    """
    if baseline_id:
        return get_patch_baseline(client, baseline_id)
    found = [item for item in describe_patch_baselines(client, [
        {"Key": "NAME_PREFIX", "Values": [name]}, {"Key": "OWNER", "Values": ["Self"]},
    ]) if item.get("BaselineName") == name]
    if not found:
        return None
    if len(found) > 1:
        listed = ", ".join(f"{item['BaselineId']} ({item.get('OperatingSystem')})" for item in found)
        raise PatchBaselineValidationError(
            f"{len(found)} patch baselines of this account are named {name!r}: {listed}. "
            "Set baseline_id to choose one."
        )
    return get_patch_baseline(client, found[0]["BaselineId"])


def aws_default_baseline_id(client, operating_system):
    """The ARN of AWS's predefined default baseline for an operating system."""
    identities = describe_patch_baselines(client, [
        {"Key": "OWNER", "Values": ["AWS"]}, {"Key": "OPERATING_SYSTEM", "Values": [operating_system]},
    ])
    candidates = sorted(
        (item for item in identities if "Default" in item.get("BaselineName", "")),
        key=lambda item: (len(item["BaselineName"]), item["BaselineName"]),
    )
    if not candidates:
        raise PatchBaselineValidationError(f"AWS lists no predefined default patch baseline for {operating_system}.")
    return candidates[0]["BaselineId"]


def patch_group_owners(client, operating_system):
    """{patch group: baseline id} of every patch group registered for this operating system."""
    mappings = describe_patch_groups(client, [{"Key": "OPERATING_SYSTEM", "Values": [operating_system]}])
    return {item["PatchGroup"]: item["BaselineIdentity"]["BaselineId"] for item in mappings}


# ---------------------------------------------------------------------------------------------
# Input: validation and translation to the API's form. Nothing here calls AWS.
# ---------------------------------------------------------------------------------------------


def _fail(message):
    raise PatchBaselineValidationError(message)


def _filters(items, operating_system, where):
    """Module-style filters ({key, values}) as a PatchFilterGroup, checked for the OS."""
    items = list(items or [])
    if len(items) > MAX_FILTERS:
        _fail(f"{where}: {len(items)} patch filters, AWS allows {MAX_FILTERS}.")
    seen = set()
    result = []
    for item in items:
        key = str(item.get("key") or "").upper()
        if key not in ALL_FILTER_KEYS:
            _fail(f"{where}: unknown patch filter key {item.get('key')!r}; keys are {', '.join(ALL_FILTER_KEYS)}.")
        if operating_system and key not in FILTER_KEYS[operating_system]:
            _fail(
                f"{where}: the patch filter key {key} is not valid for {operating_system}; "
                f"{operating_system} baselines take {', '.join(FILTER_KEYS[operating_system])}."
            )
        if key in seen:
            _fail(f"{where}: the patch filter key {key} appears more than once; put all its values in one filter.")
        seen.add(key)
        values = [str(value) for value in item.get("values") or []]
        if not values or len(values) > MAX_FILTER_VALUES:
            _fail(f"{where}: the patch filter {key} needs 1 to {MAX_FILTER_VALUES} values.")
        long_values = [value for value in values if len(value) > MAX_FILTER_VALUE_LENGTH]
        if long_values:
            _fail(f"{where}: the value {long_values[0][:20]!r}... of {key} is longer than {MAX_FILTER_VALUE_LENGTH} characters.")
        if key == "PATCH_SET" and set(values) - {"OS", "APPLICATION"}:
            _fail(f"{where}: PATCH_SET takes the values OS and APPLICATION.")
        result.append({"Key": key, "Values": values})
    return {"PatchFilters": result}


def _rule(rule, index, operating_system):
    where = f"approval_rules[{index}]"
    days, until = rule.get("approve_after_days"), rule.get("approve_until_date")
    if days is not None and until is not None:
        _fail(f"{where}: set either approve_after_days or approve_until_date, not both.")
    if days is None and until is None:
        _fail(f"{where}: set approve_after_days or approve_until_date; AWS needs one of them in every approval rule.")
    result = {"PatchFilterGroup": _filters(rule.get("patch_filters"), operating_system, where)}
    if days is not None:
        if not 0 <= int(days) <= MAX_APPROVE_AFTER_DAYS:
            _fail(f"{where}: approve_after_days is {days}; AWS allows 0 to {MAX_APPROVE_AFTER_DAYS}.")
        result["ApproveAfterDays"] = int(days)
    else:
        result["ApproveUntilDate"] = approve_until_date(until, where)
    if rule.get("compliance_level") is not None:
        result["ComplianceLevel"] = rule["compliance_level"]
    if rule.get("enable_non_security") is not None:
        result["EnableNonSecurity"] = bool(rule["enable_non_security"])
    return result


def approve_until_date(value, where="approve_until_date"):
    """A date as AWS takes it (YYYY-MM-DD), from a string or a date."""
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.strftime("%Y-%m-%d")
    text = str(value).strip()
    try:
        if not _DATE_RE.match(text):
            raise ValueError(text)
        datetime.date.fromisoformat(text)
    except ValueError:
        _fail(f"{where}: approve_until_date {text!r} is not a date in the form YYYY-MM-DD.")
    return text


def _patch_ids(values, option):
    if values is None:
        return None
    values = [str(value) for value in values]
    if len(values) > MAX_PATCH_IDS:
        _fail(f"{option}: {len(values)} patches, AWS allows {MAX_PATCH_IDS}.")
    bad = [value for value in values if not value or len(value) > MAX_PATCH_ID_LENGTH]
    if bad:
        _fail(f"{option}: patch names are 1 to {MAX_PATCH_ID_LENGTH} characters long ({bad[0][:20]!r}).")
    return values


def _sources(sources, operating_system):
    if sources is None:
        return None
    if sources and operating_system in NO_SOURCES:
        _fail(f"sources: alternative patch repositories are for Linux baselines, not {operating_system}.")
    if len(sources) > MAX_SOURCES:
        _fail(f"sources: {len(sources)} sources, AWS allows {MAX_SOURCES}.")
    result, names = [], set()
    for index, source in enumerate(sources):
        name = str(source.get("name") or "")
        if not _SOURCE_NAME_RE.match(name):
            _fail(f"sources[{index}]: the name {name!r} must be 3 to 50 letters, digits, '_', '-' or '.'.")
        if name in names:
            _fail(f"sources[{index}]: the name {name!r} is used twice.")
        names.add(name)
        products = [str(product) for product in source.get("products") or []]
        if not 1 <= len(products) <= MAX_SOURCE_PRODUCTS:
            _fail(f"sources[{index}]: {name} needs 1 to {MAX_SOURCE_PRODUCTS} products.")
        configuration = str(source.get("configuration") or "")
        if not 1 <= len(configuration) <= MAX_SOURCE_CONFIGURATION:
            _fail(f"sources[{index}]: the configuration of {name} must be 1 to {MAX_SOURCE_CONFIGURATION} characters.")
        result.append({"Name": name, "Products": products, "Configuration": configuration})
    return result


def validate_name(name):
    if name is not None and not _NAME_RE.match(name):
        _fail(f"Invalid patch baseline name {name!r}: 3 to 128 letters, digits, '_', '-' or '.'.")


def validate_patch_groups(groups):
    if groups is None:
        return None
    groups = list(dict.fromkeys(str(group) for group in groups))
    bad = [group for group in groups if not _PATCH_GROUP_RE.match(group)]
    if bad:
        _fail(f"patch_groups: {bad[0]!r} is not a valid patch group (1 to 256 letters, digits, spaces and _.:/=+-@).")
    if len(groups) > MAX_PATCH_GROUPS:
        _fail(f"patch_groups: {len(groups)} patch groups, AWS allows {MAX_PATCH_GROUPS} per baseline.")
    return groups


def desired_baseline(params, operating_system):
    """The desired state in the API's terms from module options (None: leave alone).

    ``operating_system`` is the baseline's OS (given, current, or AWS's default); every
    option is checked against it here, before any call that changes anything.
    """
    validate_name(params.get("name"))
    description = params.get("description")
    if description is not None and len(description) > MAX_DESCRIPTION:
        _fail(f"description: {len(description)} characters, AWS allows {MAX_DESCRIPTION}.")
    status = params.get("available_security_updates_compliance_status")
    if status is not None and operating_system not in (None, "WINDOWS"):
        _fail(f"available_security_updates_compliance_status applies to WINDOWS baselines only, not {operating_system}.")
    rules = params.get("approval_rules")
    if rules is not None and len(rules) > MAX_RULES:
        _fail(f"approval_rules: {len(rules)} rules, AWS allows {MAX_RULES}.")
    return {
        "Name": params.get("name"),
        "Description": description,
        "GlobalFilters": None if params.get("global_filters") is None else _filters(
            params["global_filters"], operating_system, "global_filters"),
        "ApprovalRules": None if rules is None else {
            "PatchRules": [_rule(rule, index, operating_system) for index, rule in enumerate(rules)]},
        "ApprovedPatches": _patch_ids(params.get("approved_patches"), "approved_patches"),
        "ApprovedPatchesComplianceLevel": params.get("approved_patches_compliance_level"),
        "ApprovedPatchesEnableNonSecurity": params.get("approved_patches_enable_non_security"),
        "RejectedPatches": _patch_ids(params.get("rejected_patches"), "rejected_patches"),
        "RejectedPatchesAction": params.get("rejected_patches_action"),
        "Sources": _sources(params.get("sources"), operating_system),
        "AvailableSecurityUpdatesComplianceStatus": status,
    }


def validate_options(params):
    """Every check that needs no AWS call: with operating_system set, the OS-specific ones too."""
    validate_patch_groups(params.get("patch_groups"))
    if params.get("state") == "absent":
        return None
    return desired_baseline(params, params.get("operating_system"))


# ---------------------------------------------------------------------------------------------
# Comparison. Filter values, patch lists, rules and sources compare as sets; unset rule
# settings count as AWS's defaults.
# ---------------------------------------------------------------------------------------------


def _canonical_group(group):
    filters = (group or {}).get("PatchFilters") or []
    return sorted((item["Key"], tuple(sorted(set(item.get("Values") or [])))) for item in filters)


def _canonical_rule(rule):
    return json.dumps({
        "filters": _canonical_group(rule.get("PatchFilterGroup")),
        "days": rule.get("ApproveAfterDays"),
        "until": rule.get("ApproveUntilDate"),
        "level": rule.get("ComplianceLevel") or UNSPECIFIED,
        "non_security": bool(rule.get("EnableNonSecurity", False)),
    }, sort_keys=True)


def _canonical_sources(sources):
    return sorted(
        (item["Name"], tuple(sorted(set(item.get("Products") or []))), (item.get("Configuration") or "").rstrip())
        for item in sources or []
    )


_CANONICAL = {
    "Name": lambda value: value,
    "Description": lambda value: value or None,
    "GlobalFilters": _canonical_group,
    "ApprovalRules": lambda value: sorted(_canonical_rule(rule) for rule in (value or {}).get("PatchRules") or []),
    "ApprovedPatches": lambda value: sorted(set(value or [])),
    "ApprovedPatchesComplianceLevel": lambda value: value or UNSPECIFIED,
    "ApprovedPatchesEnableNonSecurity": bool,
    "RejectedPatches": lambda value: sorted(set(value or [])),
    "RejectedPatchesAction": lambda value: value or ALLOW_AS_DEPENDENCY,
    "Sources": _canonical_sources,
    "AvailableSecurityUpdatesComplianceStatus": lambda value: value,
}
ATTRIBUTES = tuple(_CANONICAL)


def compare_baseline(desired, current):
    """The attributes (API keys) the task sets to something else than the baseline has."""
    if current is None:
        return list(ATTRIBUTES)
    changed = []
    for key, canonical in _CANONICAL.items():
        if desired.get(key) is None:
            continue
        if key == "Description" and desired[key] == "" and not current.get(key):
            continue
        if canonical(desired[key]) != canonical(current.get(key)):
            changed.append(key)
    return changed


def merged_baseline(desired, current):
    """The baseline's attributes after the task: what it sets, and what the baseline has."""
    merged = {}
    for key in ATTRIBUTES:
        value = desired.get(key)
        if value is None:
            value = (current or {}).get(key)
        merged[key] = value
    if merged["Description"] == "":
        merged["Description"] = None
    return merged


def check_complete(merged, name):
    if not (merged.get("ApprovalRules") or {}).get("PatchRules") and not merged.get("ApprovedPatches"):
        _fail(f"Patch baseline {name}: AWS needs at least one approval rule or one approved patch.")


def create_request(merged, operating_system, tags=None, client_token=None):
    """CreatePatchBaseline's request; the client token makes a retried create safe."""
    request = {key: value for key, value in merged.items() if value is not None}
    request["OperatingSystem"] = operating_system
    request["ClientToken"] = client_token or str(uuid.uuid4())
    if tags:
        request["Tags"] = ansible_dict_to_boto3_tag_list(tags)
    return request


def update_request(baseline_id, merged):
    """UpdatePatchBaseline's request with Replace: the whole baseline, so cleared settings go too."""
    request = {key: value for key, value in merged.items() if value is not None}
    request["BaselineId"] = baseline_id
    request["Replace"] = True
    return request


def predict_baseline(merged, current, operating_system, baseline_id=None):
    """What AWS will hold after the create or update: check mode's answer."""
    predicted = dict(current or {})
    predicted.update({key: value for key, value in merged.items() if value is not None})
    if merged.get("Description") is None:
        predicted.pop("Description", None)
    predicted.setdefault("GlobalFilters", {"PatchFilters": []})
    predicted.setdefault("ApprovalRules", {"PatchRules": []})
    for rule in predicted["ApprovalRules"].get("PatchRules") or []:
        rule.setdefault("ComplianceLevel", UNSPECIFIED)
        rule.setdefault("EnableNonSecurity", False)
    predicted.setdefault("ApprovedPatches", [])
    predicted.setdefault("ApprovedPatchesComplianceLevel", UNSPECIFIED)
    predicted.setdefault("ApprovedPatchesEnableNonSecurity", False)
    predicted.setdefault("RejectedPatches", [])
    predicted.setdefault("RejectedPatchesAction", ALLOW_AS_DEPENDENCY)
    predicted.setdefault("Sources", [])
    predicted.setdefault("PatchGroups", [])
    predicted["OperatingSystem"] = operating_system
    if baseline_id or not current:
        predicted["BaselineId"] = baseline_id or (current or {}).get("BaselineId")
    return predicted


def patch_group_changes(current_groups, groups):
    """(groups to register, groups to deregister) to make the baseline's groups match."""
    if groups is None:
        return [], []
    current = list(current_groups or [])
    return [group for group in groups if group not in current], [group for group in current if group not in groups]


def patch_group_moves(to_add, owners, baseline_id, force, operating_system):
    """{group: other baseline id} for the groups another baseline holds; refused without force."""
    moves = {group: owners[group] for group in to_add if owners.get(group) not in (None, baseline_id)}
    if moves and not force:
        listed = ", ".join(f"{group!r} (registered to {other})" for group, other in sorted(moves.items()))
        _fail(
            f"Patch groups are registered with another {operating_system} baseline: {listed}. A patch group has one "
            "baseline per operating system; set force_patch_groups: true to move them to this baseline."
        )
    return moves


# ---------------------------------------------------------------------------------------------
# Output.
# ---------------------------------------------------------------------------------------------


def isoformat(value):
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    return value


def _filters_to_ansible(group):
    return [{"key": item["Key"], "values": list(item.get("Values") or [])} for item in (group or {}).get("PatchFilters") or []]


def _rule_to_ansible(rule):
    return {
        "patch_filters": _filters_to_ansible(rule.get("PatchFilterGroup")),
        "approve_after_days": rule.get("ApproveAfterDays"),
        "approve_until_date": rule.get("ApproveUntilDate"),
        "compliance_level": rule.get("ComplianceLevel") or UNSPECIFIED,
        "enable_non_security": bool(rule.get("EnableNonSecurity", False)),
    }


def baseline_to_ansible(baseline, tags=None, default=None):
    """A baseline as the modules return it: the option names the module takes, tags as a dict."""
    if not baseline:
        return {}
    result = {
        "baseline_id": baseline.get("BaselineId"),
        "name": baseline.get("Name"),
        "operating_system": baseline.get("OperatingSystem"),
        "owner": "AWS" if is_aws_owned(baseline.get("BaselineId")) else "Self",
        "description": baseline.get("Description"),
        "global_filters": _filters_to_ansible(baseline.get("GlobalFilters")),
        "approval_rules": [_rule_to_ansible(rule) for rule in (baseline.get("ApprovalRules") or {}).get("PatchRules") or []],
        "approved_patches": list(baseline.get("ApprovedPatches") or []),
        "approved_patches_compliance_level": baseline.get("ApprovedPatchesComplianceLevel") or UNSPECIFIED,
        "approved_patches_enable_non_security": bool(baseline.get("ApprovedPatchesEnableNonSecurity", False)),
        "rejected_patches": list(baseline.get("RejectedPatches") or []),
        "rejected_patches_action": baseline.get("RejectedPatchesAction") or ALLOW_AS_DEPENDENCY,
        "sources": [
            {"name": item["Name"], "products": list(item.get("Products") or []), "configuration": item.get("Configuration")}
            for item in baseline.get("Sources") or []
        ],
        "available_security_updates_compliance_status": baseline.get("AvailableSecurityUpdatesComplianceStatus"),
        "patch_groups": sorted(baseline.get("PatchGroups") or []),
        "created_date": isoformat(baseline.get("CreatedDate")),
        "modified_date": isoformat(baseline.get("ModifiedDate")),
    }
    if default is not None:
        result["default"] = bool(default)
    if tags is not None:
        result["tags"] = tags
    return result


def baseline_for_diff(baseline, tags=None, default=None):
    if not baseline:
        return {}
    result = baseline_to_ansible(baseline, tags, default)
    for key in ("created_date", "modified_date"):
        result.pop(key, None)
    return {key: value for key, value in result.items() if value is not None}


def identity_to_ansible(identity):
    """A DescribePatchBaselines entry."""
    return {
        "baseline_id": identity.get("BaselineId"),
        "name": identity.get("BaselineName"),
        "operating_system": identity.get("OperatingSystem"),
        "description": identity.get("BaselineDescription"),
        "default": bool(identity.get("DefaultBaseline", False)),
        "owner": "AWS" if is_aws_owned(identity.get("BaselineId")) else "Self",
    }


def effective_patch_to_ansible(item):
    patch = boto3_resource_to_ansible_dict(item.get("Patch") or {}, transform_tags=False, force_tags=False) or {}
    status = boto3_resource_to_ansible_dict(item.get("PatchStatus") or {}, transform_tags=False, force_tags=False) or {}
    return {"patch": patch, "status": status}


def patch_state_to_ansible(state):
    """A node's patch state (InstancePatchState) in snake_case, with ISO 8601 dates."""
    return boto3_resource_to_ansible_dict(state, transform_tags=False, force_tags=False)


def patch_to_ansible(patch):
    """A node's patch (PatchComplianceData) in snake_case; the state as the State filter names it."""
    result = boto3_resource_to_ansible_dict(patch, transform_tags=False, force_tags=False)
    names = {value: key for key, value in PATCH_STATE_FILTERS.items()}
    result["state_name"] = names.get(patch.get("State"), patch.get("State"))
    return result


_SUMMARY_COUNTS = (
    ("installed", "InstalledCount"),
    ("installed_other", "InstalledOtherCount"),
    ("installed_pending_reboot", "InstalledPendingRebootCount"),
    ("installed_rejected", "InstalledRejectedCount"),
    ("missing", "MissingCount"),
    ("failed", "FailedCount"),
    ("not_applicable", "NotApplicableCount"),
    ("unreported_not_applicable", "UnreportedNotApplicableCount"),
    ("available_security_update", "AvailableSecurityUpdateCount"),
    ("critical_non_compliant", "CriticalNonCompliantCount"),
    ("security_non_compliant", "SecurityNonCompliantCount"),
    ("other_non_compliant", "OtherNonCompliantCount"),
)
_NON_COMPLIANT_COUNTS = ("MissingCount", "FailedCount", "InstalledPendingRebootCount", "InstalledRejectedCount")


def is_compliant(state):
    """Patch Manager's view: no missing or failed patches, none waiting for a reboot, none rejected installed."""
    return not any(state.get(key, 0) for key in _NON_COMPLIANT_COUNTS)


def fleet_summary(states):
    """Counts over nodes' patch states: nodes, compliance, patch totals, per patch group."""
    summary = {
        "nodes": len(states),
        "compliant_nodes": sum(1 for state in states if is_compliant(state)),
        "non_compliant_nodes": sum(1 for state in states if not is_compliant(state)),
        "patches": {name: sum(state.get(key, 0) for state in states) for name, key in _SUMMARY_COUNTS},
        "nodes_with": {name: sum(1 for state in states if state.get(key, 0) > 0) for name, key in _SUMMARY_COUNTS},
        "operations": {},
        "patch_groups": {},
    }
    for state in states:
        operation = state.get("Operation") or "Unknown"
        summary["operations"][operation] = summary["operations"].get(operation, 0) + 1
        group = summary["patch_groups"].setdefault(state.get("PatchGroup") or "", {"nodes": 0, "non_compliant_nodes": 0})
        group["nodes"] += 1
        group["non_compliant_nodes"] += 0 if is_compliant(state) else 1
    return summary
