"""Patch Manager: patch baselines, patch groups, default baselines, patch compliance.

Operations: CreatePatchBaseline, UpdatePatchBaseline, GetPatchBaseline,
DeletePatchBaseline, DescribePatchBaselines, RegisterPatchBaselineForPatchGroup,
DeregisterPatchBaselineForPatchGroup, GetPatchBaselineForPatchGroup,
DescribePatchGroups, DescribePatchGroupState, RegisterDefaultPatchBaseline,
GetDefaultPatchBaseline, DescribeEffectivePatchesForPatchBaseline,
DescribeInstancePatchStates, DescribeInstancePatchStatesForPatchGroup,
DescribeInstancePatches, and tags of type PatchBaseline.

AWS's predefined baselines (Owner AWS) are read from ``data/baselines/*.json`` and
are visible in every account and region under the ARNs AWS uses for them (the
per-region ARNs of the default ones come from moto's resource file; the others
get stable made-up ids).  Nodes' patch states are seeded through the control API
(``POST /_fleetops/patch-states``, see ``control``), standing in for the
compliance data AWS-RunPatchBaseline reports.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import json
import re
import secrets
import threading
from pathlib import Path
from typing import Any

from .. import shapes
from .registry import AwsError, Context, operation, paginate, regional_store, validation_error
from .tags import check_tag_keys, taggable

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "baselines"
SAMPLE_PATCHES_FILE = "sample-windows-patches.json"

OPERATING_SYSTEMS = (
    "WINDOWS", "AMAZON_LINUX", "AMAZON_LINUX_2", "AMAZON_LINUX_2022", "UBUNTU", "REDHAT_ENTERPRISE_LINUX",
    "SUSE", "CENTOS", "ORACLE_LINUX", "DEBIAN", "MACOS", "RASPBIAN", "ROCKY_LINUX", "ALMA_LINUX",
    "AMAZON_LINUX_2023",
)
DEFAULT_OS = "WINDOWS"

# The filter keys a patch baseline accepts per operating system (AWS API reference:
# PatchFilter and DescribePatchProperties).
_RPM_KEYS = ("PRODUCT", "CLASSIFICATION", "SEVERITY")
_DEB_KEYS = ("PRODUCT", "PRIORITY", "SECTION")
FILTER_KEYS = {
    "WINDOWS": ("PATCH_SET", "PRODUCT", "PRODUCT_FAMILY", "CLASSIFICATION", "MSRC_SEVERITY"),
    "MACOS": ("PRODUCT", "CLASSIFICATION"),
    "UBUNTU": _DEB_KEYS,
    "DEBIAN": _DEB_KEYS,
    "RASPBIAN": _DEB_KEYS,
}
for _os in OPERATING_SYSTEMS:
    FILTER_KEYS.setdefault(_os, _RPM_KEYS)

# Service quotas (AWS General Reference, Systems Manager endpoints and quotas).
MAX_BASELINES = 50
MAX_PATCH_GROUPS_PER_BASELINE = 25
MAX_TAGS = 50

LIST_DEFAULT_MAX_RESULTS = 50
# botocore's model limits DescribeInstancePatchStatesForPatchGroup's InstancePatchStates
# list to 5 items, whatever MaxResults (10-100) asks for; pages follow the model.
GROUP_STATES_PAGE_LIMIT = 5

BASELINE_FILTER_KEYS = ("NAME_PREFIX", "OWNER", "OPERATING_SYSTEM")
PATCH_GROUP_FILTER_KEYS = ("NAME_PREFIX", "OPERATING_SYSTEM")
INSTANCE_PATCH_FILTER_KEYS = ("Classification", "KBId", "Severity", "State")
STATE_COUNT_KEYS = (
    "InstalledCount", "InstalledOtherCount", "InstalledPendingRebootCount", "InstalledRejectedCount",
    "MissingCount", "FailedCount", "UnreportedNotApplicableCount", "NotApplicableCount",
)
PATCH_STATES = (
    "INSTALLED", "INSTALLED_OTHER", "INSTALLED_PENDING_REBOOT", "INSTALLED_REJECTED", "MISSING",
    "NOT_APPLICABLE", "FAILED", "AVAILABLE_SECURITY_UPDATE",
)
# DescribeInstancePatches' State filter takes the names the console shows.
STATE_FILTER_VALUES = {
    "Installed": "INSTALLED",
    "InstalledOther": "INSTALLED_OTHER",
    "InstalledPendingReboot": "INSTALLED_PENDING_REBOOT",
    "InstalledRejected": "INSTALLED_REJECTED",
    "Missing": "MISSING",
    "NotApplicable": "NOT_APPLICABLE",
    "Failed": "FAILED",
    "AvailableSecurityUpdate": "AVAILABLE_SECURITY_UPDATE",
}

_CUSTOM_ID_RE = re.compile(r"^pb-[0-9a-f]{17}$")
_ARN_RE = re.compile(r"^arn:(aws[a-z-]*):ssm:([a-z0-9-]+):(\d{12}):patchbaseline/(pb-[0-9a-zA-Z]+)$")
_INSTANCE_ID_RE = re.compile(r"(^i-(\w{8}|\w{17})$)|(^mi-\w{17}$)")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PATCH_GROUP_PATTERN = r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$"


def _epoch(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.timezone.utc)
        return round(parsed.timestamp(), 3)
    raise TypeError(f"not a date: {value!r}")


# --------------------------------------------------------------------------
# AWS's predefined baselines


def _load_definitions() -> list[dict]:
    definitions = []
    for path in sorted(DATA_DIR.glob("AWS-*.json")):
        definitions.append(json.loads(path.read_text(encoding="utf-8")))
    return definitions


def _load_region_defaults() -> dict[str, dict[str, str]]:
    """{region: {OS: ARN}} of AWS's default baselines, as moto ships them."""
    try:
        from moto.utilities.utils import load_resource

        return load_resource("ssm/resources/default_baselines.json")
    except Exception:  # an older or newer moto without the file: made-up ids are used
        return {}


_DEFINITIONS = _load_definitions()
_REGION_DEFAULTS = _load_region_defaults()
_predefined_lock = threading.Lock()
_PREDEFINED: dict[tuple[str, str], dict[str, dict]] = {}


def _digest(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def _aws_account(partition: str, region: str) -> str:
    for arn in (_REGION_DEFAULTS.get(region) or {}).values():
        match = _ARN_RE.match(arn)
        if match:
            return match.group(3)
    return str(int(_digest("account", region), 16))[:12].rjust(12, "0")


def predefined_baselines(partition: str, region: str) -> dict[str, dict]:
    """AWS's predefined baselines of one region, by ARN (built once per region)."""
    key = (partition, region)
    with _predefined_lock:
        found = _PREDEFINED.get(key)
        if found is not None:
            return found
        account = _aws_account(partition, region)
        known = _REGION_DEFAULTS.get(region) or {}
        baselines = {}
        for definition in _DEFINITIONS:
            os_name = definition["OperatingSystem"]
            arn = known.get(os_name) if definition.get("DefaultForOperatingSystem") else None
            if arn is None or not arn.startswith(f"arn:{partition}:"):
                arn = f"arn:{partition}:ssm:{region}:{account}:patchbaseline/pb-0{_digest(region, definition['Name'])[:16]}"
            baseline = {k: v for k, v in definition.items() if k != "DefaultForOperatingSystem"}
            baseline["BaselineId"] = arn
            baseline["CreatedDate"] = baseline["ModifiedDate"] = _epoch(definition["CreatedDate"])
            baseline["_owner"] = "AWS"
            baseline["_default"] = bool(definition.get("DefaultForOperatingSystem"))
            baselines[arn] = baseline
        _PREDEFINED[key] = baselines
        return baselines


def _sample_patches() -> list[dict]:
    data = json.loads((DATA_DIR / SAMPLE_PATCHES_FILE).read_text(encoding="utf-8"))
    return data["Patches"]


# --------------------------------------------------------------------------
# data


@regional_store("patching")
class PatchingStore:
    def __init__(self, account_id: str, region: str) -> None:
        self.baselines: dict[str, dict] = {}  # custom baselines by id
        self.defaults: dict[str, str] = {}  # OS -> id (custom) or ARN (AWS) chosen with RegisterDefaultPatchBaseline
        self.groups: dict[tuple[str, str], str] = {}  # (patch group, OS) -> baseline id or ARN
        self.client_tokens: dict[str, tuple[str, str]] = {}  # token -> (request fingerprint, baseline id)
        self.instance_states: dict[str, dict] = {}  # instance id -> InstancePatchState
        self.instance_patches: dict[str, list[dict]] = {}  # instance id -> [PatchComplianceData]


def _store(ctx: Context) -> PatchingStore:
    return ctx.store("patching")


def _predefined(ctx: Context) -> dict[str, dict]:
    return predefined_baselines(ctx.partition, ctx.region)


def _arn(ctx: Context, baseline: dict) -> str:
    if baseline.get("_owner") == "AWS":
        return baseline["BaselineId"]
    return ctx.arn(f"patchbaseline/{baseline['BaselineId']}")


def _does_not_exist(baseline_id: str) -> AwsError:
    return AwsError("DoesNotExistException", f"Patch Baseline {baseline_id} does not exist.")


def _find(ctx: Context, raw: str) -> dict | None:
    """A baseline by id or ARN: custom ones by either, AWS's only by their full ARN."""
    raw = raw.strip()
    match = _ARN_RE.match(raw)
    if match:
        partition, region, account, short = match.groups()
        if account == ctx.account_id and region == ctx.region and partition == ctx.partition:
            return _store(ctx).baselines.get(short)
        return _predefined(ctx).get(raw)
    return _store(ctx).baselines.get(raw)


def _get(ctx: Context, raw: str) -> dict:
    found = _find(ctx, raw)
    if found is None:
        raise _does_not_exist(raw)
    return found


def _default_id(ctx: Context, os_name: str) -> str:
    chosen = _store(ctx).defaults.get(os_name)
    if chosen is not None:
        return chosen
    for arn, baseline in _predefined(ctx).items():
        if baseline["OperatingSystem"] == os_name and baseline["_default"]:
            return arn
    raise AwsError("InternalServerError", f"no default patch baseline for {os_name}", status=500)


def _is_default(ctx: Context, baseline: dict) -> bool:
    return _default_id(ctx, baseline["OperatingSystem"]) == baseline["BaselineId"]


def _patch_groups_of(ctx: Context, baseline: dict) -> list[str]:
    return sorted(group for (group, os_name), bid in _store(ctx).groups.items()
                  if bid == baseline["BaselineId"] and os_name == baseline["OperatingSystem"])


def _identity(ctx: Context, baseline: dict) -> dict:
    out = {
        "BaselineId": baseline["BaselineId"],
        "BaselineName": baseline["Name"],
        "OperatingSystem": baseline["OperatingSystem"],
        "DefaultBaseline": _is_default(ctx, baseline),
    }
    if baseline.get("Description"):
        out["BaselineDescription"] = baseline["Description"]
    return out


_BODY_KEYS = (
    "BaselineId", "Name", "OperatingSystem", "GlobalFilters", "ApprovalRules", "ApprovedPatches",
    "ApprovedPatchesComplianceLevel", "ApprovedPatchesEnableNonSecurity", "RejectedPatches",
    "RejectedPatchesAction", "CreatedDate", "ModifiedDate", "Description", "Sources",
    "AvailableSecurityUpdatesComplianceStatus",
)


def _view(baseline: dict) -> dict:
    return {key: json.loads(json.dumps(baseline[key])) for key in _BODY_KEYS if baseline.get(key) is not None}


# --------------------------------------------------------------------------
# validation


def _check_filter_group(group: dict | None, os_name: str, where: str) -> dict:
    filters = list((group or {}).get("PatchFilters") or [])
    seen = set()
    for item in filters:
        key = item["Key"]
        if key not in FILTER_KEYS[os_name]:
            raise validation_error(
                f"{where}: the patch filter key {key} is not valid for operating system {os_name}. "
                f"Valid keys: {', '.join(FILTER_KEYS[os_name])}."
            )
        if key in seen:
            raise validation_error(f"{where}: the patch filter key {key} is specified more than once.")
        seen.add(key)
        if key == "PATCH_SET" and any(value not in ("OS", "APPLICATION") for value in item["Values"]):
            raise validation_error(f"{where}: PATCH_SET takes the values OS and APPLICATION.")
    return {"PatchFilters": [{"Key": item["Key"], "Values": list(item["Values"])} for item in filters]}


def _check_rules(rules: dict | None, os_name: str) -> dict:
    out = []
    for index, rule in enumerate((rules or {}).get("PatchRules") or [], start=1):
        where = f"Approval rule {index}"
        has_days = rule.get("ApproveAfterDays") is not None
        has_date = rule.get("ApproveUntilDate") is not None
        if has_days and has_date:
            raise validation_error(f"{where}: specify either ApproveAfterDays or ApproveUntilDate, not both.")
        if not has_days and not has_date:
            raise validation_error(f"{where}: specify either ApproveAfterDays or ApproveUntilDate.")
        if has_date:
            text = rule["ApproveUntilDate"]
            try:
                if not _DATE_RE.match(text):
                    raise ValueError(text)
                dt.date.fromisoformat(text)
            except ValueError:
                raise validation_error(f"{where}: ApproveUntilDate {text} is not a date in the format YYYY-MM-DD.")
        item = {
            "PatchFilterGroup": _check_filter_group(rule["PatchFilterGroup"], os_name, where),
            "ComplianceLevel": rule.get("ComplianceLevel") or "UNSPECIFIED",
            "EnableNonSecurity": bool(rule.get("EnableNonSecurity", False)),
        }
        if has_days:
            item["ApproveAfterDays"] = rule["ApproveAfterDays"]
        else:
            item["ApproveUntilDate"] = rule["ApproveUntilDate"]
        out.append(item)
    return {"PatchRules": out}


def _check_sources(sources: list | None) -> list[dict]:
    names = set()
    out = []
    for source in sources or []:
        if source["Name"] in names:
            raise validation_error(f"Patch source name {source['Name']} is used more than once.")
        names.add(source["Name"])
        out.append({"Name": source["Name"], "Products": list(source["Products"]),
                    "Configuration": source["Configuration"]})
    return out


def _build(request: dict, os_name: str, current: dict | None) -> dict:
    """The stored fields of a baseline from a Create/Update request (current: fields kept)."""
    replace = current is None or bool(request.get("Replace"))
    base: dict[str, Any] = {} if replace else dict(current)

    def pick(key: str, default: Any = None) -> Any:
        if key in request:
            return request[key]
        return base.get(key, default)

    baseline = {
        "Name": pick("Name") if not replace else request.get("Name"),
        "OperatingSystem": os_name,
        "GlobalFilters": _check_filter_group(pick("GlobalFilters"), os_name, "Global filters"),
        "ApprovalRules": _check_rules(pick("ApprovalRules"), os_name),
        "ApprovedPatches": list(pick("ApprovedPatches") or []),
        "ApprovedPatchesComplianceLevel": pick("ApprovedPatchesComplianceLevel") or "UNSPECIFIED",
        "ApprovedPatchesEnableNonSecurity": bool(pick("ApprovedPatchesEnableNonSecurity", False)),
        "RejectedPatches": list(pick("RejectedPatches") or []),
        "RejectedPatchesAction": pick("RejectedPatchesAction") or "ALLOW_AS_DEPENDENCY",
        "Description": pick("Description"),
        "Sources": _check_sources(pick("Sources")),
        "AvailableSecurityUpdatesComplianceStatus": pick("AvailableSecurityUpdatesComplianceStatus"),
    }
    if not baseline["Name"]:
        raise validation_error("Replace requires the Name of the patch baseline, as CreatePatchBaseline does.")
    if not baseline["ApprovalRules"]["PatchRules"] and not baseline["ApprovedPatches"]:
        raise validation_error("A patch baseline needs at least one approval rule or one approved patch.")
    return baseline


def _fingerprint(request: dict) -> str:
    body = {key: value for key, value in request.items() if key != "ClientToken"}
    return _digest(json.dumps(body, sort_keys=True))


# --------------------------------------------------------------------------
# baselines


@operation("CreatePatchBaseline")
def create_patch_baseline(request: dict, ctx: Context) -> dict:
    store = _store(ctx)
    token = request.get("ClientToken")
    if token and token in store.client_tokens:
        fingerprint, baseline_id = store.client_tokens[token]
        if fingerprint != _fingerprint(request):
            raise AwsError("IdempotentParameterMismatch",
                           "The client token was used before with different parameters.")
        return {"BaselineId": baseline_id}
    ctx.authorize("ssm:CreatePatchBaseline", ctx.arn("patchbaseline/*"), [request["Name"]])
    os_name = request.get("OperatingSystem") or DEFAULT_OS
    baseline = _build(request, os_name, None)
    baseline_id = "pb-" + secrets.token_hex(9)[:17]
    if len(store.baselines) >= MAX_BASELINES:
        raise AwsError("ResourceLimitExceededException",
                       f"You have reached the limit of {MAX_BASELINES} patch baselines in this Region.")
    tags = request.get("Tags") or []
    check_tag_keys(tags)
    if len({tag["Key"] for tag in tags}) > MAX_TAGS:
        raise AwsError("TooManyTagsError", None)
    now = ctx.now()
    baseline.update({"BaselineId": baseline_id, "CreatedDate": now, "ModifiedDate": now, "_owner": "Self"})
    store.baselines[baseline_id] = baseline
    if tags:
        ctx.store("tags").set("PatchBaseline", baseline_id, {tag["Key"]: tag["Value"] for tag in tags})
    if token:
        store.client_tokens[token] = (_fingerprint(request), baseline_id)
    return {"BaselineId": baseline_id}


@operation("UpdatePatchBaseline")
def update_patch_baseline(request: dict, ctx: Context) -> dict:
    current = _find(ctx, request["BaselineId"])
    if current is None or current.get("_owner") == "AWS":
        raise _does_not_exist(request["BaselineId"])
    ctx.authorize("ssm:UpdatePatchBaseline", _arn(ctx, current), [current["BaselineId"]])
    updated = _build(request, current["OperatingSystem"], current)
    current.update(updated)
    current["ModifiedDate"] = ctx.now()
    return {key: value for key, value in _view(current).items() if key != "PatchGroups"}


@operation("GetPatchBaseline")
def get_patch_baseline(request: dict, ctx: Context) -> dict:
    baseline = _get(ctx, request["BaselineId"])
    ctx.authorize("ssm:GetPatchBaseline", _arn(ctx, baseline), [baseline["BaselineId"]])
    out = _view(baseline)
    out["PatchGroups"] = _patch_groups_of(ctx, baseline)
    return out


@operation("DeletePatchBaseline")
def delete_patch_baseline(request: dict, ctx: Context) -> dict:
    raw = request["BaselineId"]
    baseline = _find(ctx, raw)
    if baseline is None:
        return {"BaselineId": raw}
    ctx.authorize("ssm:DeletePatchBaseline", _arn(ctx, baseline), [baseline["BaselineId"]])
    if baseline.get("_owner") == "AWS":
        raise AwsError("ResourceInUseException", f"Patch baseline {raw} is provided by AWS and can't be deleted.")
    if _is_default(ctx, baseline):
        raise AwsError(
            "ResourceInUseException",
            f"Patch baseline {baseline['BaselineId']} is the default patch baseline for "
            f"{baseline['OperatingSystem']} and can't be deleted. Register another default patch baseline first.",
        )
    groups = _patch_groups_of(ctx, baseline)
    if groups:
        raise AwsError(
            "ResourceInUseException",
            f"Patch baseline {baseline['BaselineId']} is registered with patch groups "
            f"{', '.join(groups)} and can't be deleted. Deregister the patch groups first.",
        )
    del _store(ctx).baselines[baseline["BaselineId"]]
    ctx.store("tags").drop("PatchBaseline", baseline["BaselineId"])
    return {"BaselineId": baseline["BaselineId"]}


def _filter_values(filters: list[dict], allowed: tuple[str, ...]) -> dict[str, list[str]]:
    wanted: dict[str, list[str]] = {}
    for item in filters or []:
        key = item.get("Key")
        if key not in allowed:
            raise validation_error(f"Invalid filter key {key}. Valid keys: {', '.join(allowed)}.")
        values = list(item.get("Values") or [])
        if not values:
            raise validation_error(f"The filter {key} needs at least one value.")
        wanted.setdefault(key, []).extend(values)
    return wanted


def _max_results(request: dict, default: int = LIST_DEFAULT_MAX_RESULTS) -> int:
    return request.get("MaxResults") or default


@operation("DescribePatchBaselines")
def describe_patch_baselines(request: dict, ctx: Context) -> dict:
    ctx.authorize("ssm:DescribePatchBaselines", ctx.arn("*", account=True))
    wanted = _filter_values(request.get("Filters"), BASELINE_FILTER_KEYS)
    owners = {value.upper() for value in wanted.get("OWNER", [])}
    if owners - {"AWS", "SELF", "ALL"}:
        raise validation_error("The OWNER filter takes the values AWS and Self.")
    candidates = []
    if not owners or owners & {"AWS", "ALL"}:
        candidates += sorted(_predefined(ctx).values(), key=lambda item: item["Name"])
    if not owners or owners & {"SELF", "ALL"}:
        candidates += sorted(_store(ctx).baselines.values(), key=lambda item: (item["CreatedDate"], item["BaselineId"]))
    prefixes = wanted.get("NAME_PREFIX")
    systems = wanted.get("OPERATING_SYSTEM")
    found = [
        item for item in candidates
        if (not prefixes or any(item["Name"].startswith(prefix) for prefix in prefixes))
        and (not systems or item["OperatingSystem"] in systems)
    ]
    query = {"op": "DescribePatchBaselines", "filters": request.get("Filters")}
    page, token = paginate(found, _max_results(request, 100), request.get("NextToken"), query)
    out: dict[str, Any] = {"BaselineIdentities": [_identity(ctx, item) for item in page]}
    if token:
        out["NextToken"] = token
    return out


# --------------------------------------------------------------------------
# patch groups and defaults


@operation("RegisterPatchBaselineForPatchGroup")
def register_patch_baseline_for_patch_group(request: dict, ctx: Context) -> dict:
    baseline = _get(ctx, request["BaselineId"])
    group = request["PatchGroup"]
    ctx.authorize("ssm:RegisterPatchBaselineForPatchGroup", _arn(ctx, baseline), [baseline["BaselineId"]])
    store = _store(ctx)
    key = (group, baseline["OperatingSystem"])
    existing = store.groups.get(key)
    if existing is not None:
        raise AwsError(
            "AlreadyExistsException",
            f"Patch Group {group} is already registered with baseline {existing} for operating system "
            f"{baseline['OperatingSystem']}.",
        )
    if len(_patch_groups_of(ctx, baseline)) >= MAX_PATCH_GROUPS_PER_BASELINE:
        raise AwsError(
            "ResourceLimitExceededException",
            f"Patch baseline {baseline['BaselineId']} already has {MAX_PATCH_GROUPS_PER_BASELINE} patch groups.",
        )
    store.groups[key] = baseline["BaselineId"]
    return {"BaselineId": baseline["BaselineId"], "PatchGroup": group}


@operation("DeregisterPatchBaselineForPatchGroup")
def deregister_patch_baseline_for_patch_group(request: dict, ctx: Context) -> dict:
    baseline = _find(ctx, request["BaselineId"])
    if baseline is None:
        raise AwsError("InvalidResourceId")
    group = request["PatchGroup"]
    ctx.authorize("ssm:DeregisterPatchBaselineForPatchGroup", _arn(ctx, baseline), [baseline["BaselineId"]])
    store = _store(ctx)
    key = (group, baseline["OperatingSystem"])
    if store.groups.get(key) != baseline["BaselineId"]:
        raise AwsError("InvalidResourceId")
    del store.groups[key]
    return {"BaselineId": baseline["BaselineId"], "PatchGroup": group}


@operation("GetPatchBaselineForPatchGroup")
def get_patch_baseline_for_patch_group(request: dict, ctx: Context) -> dict:
    ctx.authorize("ssm:GetPatchBaselineForPatchGroup", ctx.arn("*"))
    os_name = request.get("OperatingSystem") or DEFAULT_OS
    group = request["PatchGroup"]
    baseline_id = _store(ctx).groups.get((group, os_name)) or _default_id(ctx, os_name)
    return {"BaselineId": baseline_id, "PatchGroup": group, "OperatingSystem": os_name}


@operation("DescribePatchGroups")
def describe_patch_groups(request: dict, ctx: Context) -> dict:
    ctx.authorize("ssm:DescribePatchGroups", ctx.arn("*"))
    wanted = _filter_values(request.get("Filters"), PATCH_GROUP_FILTER_KEYS)
    prefixes = wanted.get("NAME_PREFIX")
    systems = wanted.get("OPERATING_SYSTEM")
    mappings = []
    for (group, os_name), baseline_id in sorted(_store(ctx).groups.items()):
        if prefixes and not any(group.startswith(prefix) for prefix in prefixes):
            continue
        if systems and os_name not in systems:
            continue
        baseline = _find(ctx, baseline_id)
        if baseline is not None:
            mappings.append({"PatchGroup": group, "BaselineIdentity": _identity(ctx, baseline)})
    query = {"op": "DescribePatchGroups", "filters": request.get("Filters")}
    page, token = paginate(mappings, _max_results(request, 100), request.get("NextToken"), query)
    out: dict[str, Any] = {"Mappings": page}
    if token:
        out["NextToken"] = token
    return out


_GROUP_STATE_COUNTS = (
    ("InstancesWithInstalledPatches", "InstalledCount"),
    ("InstancesWithInstalledOtherPatches", "InstalledOtherCount"),
    ("InstancesWithInstalledPendingRebootPatches", "InstalledPendingRebootCount"),
    ("InstancesWithInstalledRejectedPatches", "InstalledRejectedCount"),
    ("InstancesWithMissingPatches", "MissingCount"),
    ("InstancesWithFailedPatches", "FailedCount"),
    ("InstancesWithNotApplicablePatches", "NotApplicableCount"),
    ("InstancesWithUnreportedNotApplicablePatches", "UnreportedNotApplicableCount"),
    ("InstancesWithCriticalNonCompliantPatches", "CriticalNonCompliantCount"),
    ("InstancesWithSecurityNonCompliantPatches", "SecurityNonCompliantCount"),
    ("InstancesWithOtherNonCompliantPatches", "OtherNonCompliantCount"),
    ("InstancesWithAvailableSecurityUpdates", "AvailableSecurityUpdateCount"),
)


@operation("DescribePatchGroupState")
def describe_patch_group_state(request: dict, ctx: Context) -> dict:
    ctx.authorize("ssm:DescribePatchGroupState", ctx.arn("*"))
    states = [state for state in _store(ctx).instance_states.values() if state["PatchGroup"] == request["PatchGroup"]]
    out = {"Instances": len(states)}
    for member, count in _GROUP_STATE_COUNTS:
        out[member] = sum(1 for state in states if state.get(count, 0) > 0)
    return out


@operation("RegisterDefaultPatchBaseline")
def register_default_patch_baseline(request: dict, ctx: Context) -> dict:
    baseline = _get(ctx, request["BaselineId"])
    ctx.authorize("ssm:RegisterDefaultPatchBaseline", _arn(ctx, baseline), [baseline["BaselineId"]])
    _store(ctx).defaults[baseline["OperatingSystem"]] = baseline["BaselineId"]
    return {"BaselineId": baseline["BaselineId"]}


@operation("GetDefaultPatchBaseline")
def get_default_patch_baseline(request: dict, ctx: Context) -> dict:
    ctx.authorize("ssm:GetDefaultPatchBaseline", ctx.arn("*"))
    os_name = request.get("OperatingSystem") or DEFAULT_OS
    return {"BaselineId": _default_id(ctx, os_name), "OperatingSystem": os_name}


# --------------------------------------------------------------------------
# effective patches (Windows only, from a small synthetic catalogue)


def _patch_property(patch: dict, key: str) -> str:
    if key == "PATCH_SET":
        return "OS" if patch.get("ProductFamily") == "Windows" else "APPLICATION"
    field_names = {"PRODUCT": "Product", "PRODUCT_FAMILY": "ProductFamily", "CLASSIFICATION": "Classification",
                   "MSRC_SEVERITY": "MsrcSeverity"}
    return str(patch.get(field_names.get(key, ""), ""))


def _matches(patch: dict, group: dict) -> bool:
    filters = list(group.get("PatchFilters") or [])
    if not any(item["Key"] == "PATCH_SET" for item in filters):
        filters.append({"Key": "PATCH_SET", "Values": ["OS"]})  # a group without PATCH_SET covers the OS
    for item in filters:
        value = _patch_property(patch, item["Key"])
        if not any(fnmatch.fnmatchcase(value, pattern) for pattern in item["Values"]):
            return False
    return True


def _effective(baseline: dict, now: float) -> list[dict]:
    out = []
    global_group = baseline.get("GlobalFilters") or {"PatchFilters": []}
    for patch in _sample_patches():
        body = {key: value for key, value in patch.items() if value not in ("", None)}
        body["ReleaseDate"] = released = _epoch(patch["ReleaseDate"])
        status: dict[str, Any] | None = None
        if patch["Id"] in baseline["RejectedPatches"]:
            status = {"DeploymentStatus": "EXPLICIT_REJECTED", "ComplianceLevel": "UNSPECIFIED"}
        elif patch["Id"] in baseline["ApprovedPatches"]:
            status = {"DeploymentStatus": "EXPLICIT_APPROVED",
                      "ComplianceLevel": baseline["ApprovedPatchesComplianceLevel"], "ApprovalDate": released}
        elif global_group["PatchFilters"] and not _matches(patch, global_group):
            status = None
        else:
            for rule in baseline["ApprovalRules"]["PatchRules"]:
                if not _matches(patch, rule["PatchFilterGroup"]):
                    continue
                if rule.get("ApproveAfterDays") is not None:
                    approval = released + rule["ApproveAfterDays"] * 86400
                else:
                    until = _epoch(rule["ApproveUntilDate"] + "T23:59:59Z")
                    if released > until:
                        continue
                    approval = released
                state = "APPROVED" if approval <= now else "PENDING_APPROVAL"
                status = {"DeploymentStatus": state, "ComplianceLevel": rule["ComplianceLevel"], "ApprovalDate": approval}
                break
        if status is not None:
            out.append({"Patch": body, "PatchStatus": status})
    return out


@operation("DescribeEffectivePatchesForPatchBaseline")
def describe_effective_patches_for_patch_baseline(request: dict, ctx: Context) -> dict:
    baseline = _get(ctx, request["BaselineId"])
    ctx.authorize("ssm:DescribeEffectivePatchesForPatchBaseline", _arn(ctx, baseline), [baseline["BaselineId"]])
    if baseline["OperatingSystem"] != "WINDOWS":
        raise AwsError(
            "UnsupportedOperatingSystem",
            f"DescribeEffectivePatchesForPatchBaseline supports patch baselines for WINDOWS only, not "
            f"{baseline['OperatingSystem']}.",
        )
    found = _effective(baseline, ctx.now())
    query = {"op": "DescribeEffectivePatchesForPatchBaseline", "id": baseline["BaselineId"]}
    page, token = paginate(found, _max_results(request, 100), request.get("NextToken"), query)
    out: dict[str, Any] = {"EffectivePatches": page}
    if token:
        out["NextToken"] = token
    return out


# --------------------------------------------------------------------------
# nodes' patch compliance


def _states_page(request: dict, states: list[dict], query: dict, limit: int | None = None) -> dict:
    size = _max_results(request)
    if limit is not None:
        size = min(size, limit)
    page, token = paginate(states, size, request.get("NextToken"), query)
    out: dict[str, Any] = {"InstancePatchStates": page}
    if token:
        out["NextToken"] = token
    return out


@operation("DescribeInstancePatchStates")
def describe_instance_patch_states(request: dict, ctx: Context) -> dict:
    ctx.authorize("ssm:DescribeInstancePatchStates", ctx.arn("*"))
    states = _store(ctx).instance_states
    found = [dict(states[iid]) for iid in dict.fromkeys(request["InstanceIds"]) if iid in states]
    query = {"op": "DescribeInstancePatchStates", "ids": request["InstanceIds"]}
    return _states_page(request, found, query)


def _compare(value: int, kind: str, wanted: int) -> bool:
    return {
        "Equal": value == wanted,
        "NotEqual": value != wanted,
        "LessThan": value < wanted,
        "GreaterThan": value > wanted,
    }[kind]


@operation("DescribeInstancePatchStatesForPatchGroup")
def describe_instance_patch_states_for_patch_group(request: dict, ctx: Context) -> dict:
    ctx.authorize("ssm:DescribeInstancePatchStatesForPatchGroup", ctx.arn("*"))
    conditions = []
    for item in request.get("Filters") or []:
        if item["Key"] not in STATE_COUNT_KEYS:
            raise AwsError("InvalidFilter", f"Invalid filter key {item['Key']}. Valid keys: {', '.join(STATE_COUNT_KEYS)}.")
        text = item["Values"][0]
        if not text.isdigit():
            raise AwsError("InvalidFilter", f"The value of filter {item['Key']} must be an integer >= 0, not {text}.")
        conditions.append((item["Key"], item["Type"], int(text)))
    found = [
        dict(state) for iid, state in sorted(_store(ctx).instance_states.items())
        if state["PatchGroup"] == request["PatchGroup"]
        and all(_compare(state.get(key, 0), kind, wanted) for key, kind, wanted in conditions)
    ]
    query = {"op": "DescribeInstancePatchStatesForPatchGroup", "group": request["PatchGroup"],
             "filters": request.get("Filters")}
    return _states_page(request, found, query, GROUP_STATES_PAGE_LIMIT)


def _node_arn(ctx: Context, instance_id: str) -> str:
    if instance_id.startswith("mi-"):
        return ctx.arn(f"managed-instance/{instance_id}")
    return f"arn:{ctx.partition}:ec2:{ctx.region}:{ctx.account_id}:instance/{instance_id}"


@operation("DescribeInstancePatches")
def describe_instance_patches(request: dict, ctx: Context) -> dict:
    instance_id = request["InstanceId"]
    ctx.authorize("ssm:DescribeInstancePatches", _node_arn(ctx, instance_id), [instance_id])
    wanted: dict[str, set[str]] = {}
    for item in request.get("Filters") or []:
        key = item.get("Key")
        if key not in INSTANCE_PATCH_FILTER_KEYS:
            raise AwsError("InvalidFilter",
                           f"Invalid filter key {key}. Valid keys: {', '.join(INSTANCE_PATCH_FILTER_KEYS)}.")
        values = list(item.get("Values") or [])
        if key == "State":
            bad = [value for value in values if value not in STATE_FILTER_VALUES]
            if bad:
                raise AwsError("InvalidFilter", f"Invalid State value {bad[0]}. Valid values: "
                               f"{', '.join(STATE_FILTER_VALUES)}.")
            values = [STATE_FILTER_VALUES[value] for value in values]
        wanted.setdefault(key, set()).update(values)
    fields = {"Classification": "Classification", "KBId": "KBId", "Severity": "Severity", "State": "State"}
    found = [
        dict(patch) for patch in _store(ctx).instance_patches.get(instance_id, [])
        if all(patch.get(fields[key]) in values for key, values in wanted.items())
    ]
    query = {"op": "DescribeInstancePatches", "id": instance_id, "filters": request.get("Filters")}
    page, token = paginate(found, _max_results(request), request.get("NextToken"), query)
    out: dict[str, Any] = {"Patches": page}
    if token:
        out["NextToken"] = token
    return out


# --------------------------------------------------------------------------
# control API: POST/GET/DELETE /_fleetops/patch-states

CONTROL_PATH = "/patch-states"
_COUNT_FIELDS = {
    "installed": ("InstalledCount", "INSTALLED"),
    "installed_other": ("InstalledOtherCount", "INSTALLED_OTHER"),
    "installed_pending_reboot": ("InstalledPendingRebootCount", "INSTALLED_PENDING_REBOOT"),
    "installed_rejected": ("InstalledRejectedCount", "INSTALLED_REJECTED"),
    "missing": ("MissingCount", "MISSING"),
    "failed": ("FailedCount", "FAILED"),
    "not_applicable": ("NotApplicableCount", "NOT_APPLICABLE"),
    "unreported_not_applicable": ("UnreportedNotApplicableCount", None),
    "available_security_update": ("AvailableSecurityUpdateCount", "AVAILABLE_SECURITY_UPDATE"),
    "critical_non_compliant": ("CriticalNonCompliantCount", None),
    "security_non_compliant": ("SecurityNonCompliantCount", None),
    "other_non_compliant": ("OtherNonCompliantCount", None),
}
_TEXT_FIELDS = {
    "snapshot_id": "SnapshotId",
    "owner_information": "OwnerInformation",
    "install_override_list": "InstallOverrideList",
    "reboot_option": "RebootOption",
}


class ControlError(Exception):
    pass


def _state_name(value: Any) -> str:
    text = str(value or "")
    if text in STATE_FILTER_VALUES:
        return STATE_FILTER_VALUES[text]
    if text.upper() in PATCH_STATES:
        return text.upper()
    raise ControlError(f"patch state {text!r} is not one of {', '.join(PATCH_STATES)} "
                       f"(or {', '.join(STATE_FILTER_VALUES)})")


def _control_time(data: dict, key: str, default: float) -> float:
    if data.get(key) in (None, ""):
        return default
    try:
        return _epoch(data[key])
    except (TypeError, ValueError):
        raise ControlError(f"{key} must be epoch seconds or an ISO 8601 date")


def _control_count(data: dict, key: str) -> int | None:
    if key not in data:
        return None
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ControlError(f"{key} must be an integer >= 0")
    return value


def _control_patches(data: dict, now: float) -> list[dict]:
    patches = data.get("patches") or []
    if not isinstance(patches, list):
        raise ControlError("patches must be a list")
    out = []
    for index, patch in enumerate(patches):
        if not isinstance(patch, dict) or not patch.get("title"):
            raise ControlError(f"patches[{index}] needs a title")
        state = _state_name(patch.get("state"))
        installed_default = now if state.startswith("INSTALLED") else 0.0
        item = {
            "Title": str(patch["title"]),
            "KBId": str(patch.get("kb_id") or patch["title"]),
            "Classification": str(patch.get("classification") or ""),
            "Severity": str(patch.get("severity") or ""),
            "State": state,
            "InstalledTime": _control_time(patch, "installed_time", installed_default),
        }
        if patch.get("cve_ids"):
            cves = patch["cve_ids"]
            item["CVEIds"] = ",".join(cves) if isinstance(cves, list) else str(cves)
        out.append(item)
    return out


def _non_compliant(patches: list[dict]) -> tuple[int, int, int]:
    critical = security = other = 0
    for patch in patches:
        if patch["State"] not in ("MISSING", "FAILED", "INSTALLED_PENDING_REBOOT", "INSTALLED_REJECTED"):
            continue
        if patch["Severity"].lower() == "critical":
            critical += 1
        elif "security" in patch["Classification"].lower():
            security += 1
        else:
            other += 1
    return critical, security, other


def seed_patch_state(ctx: Context, data: dict) -> dict:
    """Store a node's patch state and patches as a Scan or Install operation would report them."""
    instance_id = data.get("instance_id")
    if not isinstance(instance_id, str) or not _INSTANCE_ID_RE.match(instance_id):
        raise ControlError("instance_id must be a managed node id (i-... or mi-...)")
    group = data.get("patch_group")
    if not isinstance(group, str) or not group or len(group) > 256 or not shapes.pattern_matches(_PATCH_GROUP_PATTERN, group):
        raise ControlError("patch_group is required: 1-256 letters, digits, spaces and _.:/=+-@")
    operation_name = data.get("operation", "Scan")
    if operation_name not in ("Scan", "Install"):
        raise ControlError("operation must be Scan or Install")
    os_name = data.get("operating_system")
    if os_name is not None and os_name not in OPERATING_SYSTEMS:
        raise ControlError(f"operating_system must be one of {', '.join(OPERATING_SYSTEMS)}")
    if data.get("baseline_id"):
        baseline = _find(ctx, str(data["baseline_id"]))
        if baseline is None:
            raise ControlError(f"baseline {data['baseline_id']} does not exist")
        baseline_id = baseline["BaselineId"]
    elif os_name:
        baseline_id = _store(ctx).groups.get((group, os_name)) or _default_id(ctx, os_name)
    else:
        raise ControlError("baseline_id, or operating_system to find the baseline of the patch group, is required")
    now = ctx.now()
    patches = _control_patches(data, now)
    end = _control_time(data, "operation_end_time", now)
    state: dict[str, Any] = {
        "InstanceId": instance_id,
        "PatchGroup": group,
        "BaselineId": baseline_id,
        "OperationStartTime": _control_time(data, "operation_start_time", end - 60),
        "OperationEndTime": end,
        "Operation": operation_name,
    }
    derived_non_compliant = dict(zip(("critical_non_compliant", "security_non_compliant", "other_non_compliant"),
                                     _non_compliant(patches)))
    for key, (member, patch_state) in _COUNT_FIELDS.items():
        value = _control_count(data, key)
        if value is None:
            if patch_state is not None:
                value = sum(1 for patch in patches if patch["State"] == patch_state)
            else:
                value = derived_non_compliant.get(key, 0)
        state[member] = value
    for key, member in _TEXT_FIELDS.items():
        if data.get(key):
            state[member] = str(data[key])
    if state.get("RebootOption") not in (None, "RebootIfNeeded", "NoReboot"):
        raise ControlError("reboot_option must be RebootIfNeeded or NoReboot")
    if data.get("last_no_reboot_install_operation_time"):
        state["LastNoRebootInstallOperationTime"] = _control_time(data, "last_no_reboot_install_operation_time", now)
    problems = shapes.validate_output("ssm", "DescribeInstancePatchStates", {"InstancePatchStates": [state]})
    problems += shapes.validate_output("ssm", "DescribeInstancePatches", {"Patches": patches})
    if problems:
        raise ControlError("; ".join(problems))
    store = _store(ctx)
    store.instance_states[instance_id] = state
    store.instance_patches[instance_id] = patches
    return {"instance_id": instance_id, "baseline_id": baseline_id, "patches": len(patches)}


def control(ssm_state: Any, method: str, data: dict, account_id: str) -> tuple[int, dict]:
    """The control call /_fleetops/patch-states: (HTTP status, JSON answer).

    POST seeds one node's patch state in ``data["region"]`` (us-east-1 when unset); GET lists
    the seeded states of every region, DELETE drops them all.
    """
    from ..authz import principal_for

    region = data.get("region") or "us-east-1"
    ctx = Context(operation="control", account_id=account_id, region=region, principal=principal_for(None),
                  ssm=ssm_state, deny=None)
    try:
        with ssm_state.lock:
            if method == "POST":
                return 200, seed_patch_state(ctx, data)
            if method == "GET":
                listed = []
                for _account, store_region, store in ssm_state.existing_stores("patching"):
                    for state in store.instance_states.values():
                        listed.append({"region": store_region, **state})
                return 200, {"patch_states": sorted(listed, key=lambda s: (s["region"], s["InstanceId"]))}
            if method == "DELETE":
                for _account, _region, store in ssm_state.existing_stores("patching"):
                    store.instance_states.clear()
                    store.instance_patches.clear()
                return 200, {"patch_states": []}
    except ControlError as exc:
        return 400, {"error": str(exc)}
    except AwsError as exc:
        return 400, {"error": exc.message or exc.code}
    return 405, {"error": f"{method} is not supported on /_fleetops{CONTROL_PATH}"}


# --------------------------------------------------------------------------
# tags of type PatchBaseline


def _resolve_for_tags(ctx: Context, resource_id: str) -> str:
    baseline = _find(ctx, resource_id)
    if baseline is None or baseline.get("_owner") == "AWS":
        raise AwsError("InvalidResourceId")
    return baseline["BaselineId"]


def _tag_arn(ctx: Context, baseline_id: str) -> str:
    return ctx.arn(f"patchbaseline/{baseline_id}")


taggable("PatchBaseline", _resolve_for_tags, _tag_arn, MAX_TAGS)
