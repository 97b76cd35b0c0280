"""Maintenance windows: the windows, their targets and tasks, executions and schedules.

Operations: CreateMaintenanceWindow, UpdateMaintenanceWindow, GetMaintenanceWindow,
DeleteMaintenanceWindow, DescribeMaintenanceWindows, RegisterTargetWithMaintenanceWindow,
UpdateMaintenanceWindowTarget, DeregisterTargetFromMaintenanceWindow,
DescribeMaintenanceWindowTargets, RegisterTaskWithMaintenanceWindow,
UpdateMaintenanceWindowTask, DeregisterTaskFromMaintenanceWindow, GetMaintenanceWindowTask,
DescribeMaintenanceWindowTasks, DescribeMaintenanceWindowExecutions,
DescribeMaintenanceWindowExecutionTasks, DescribeMaintenanceWindowExecutionTaskInvocations,
GetMaintenanceWindowExecution, GetMaintenanceWindowExecutionTask,
GetMaintenanceWindowExecutionTaskInvocation, CancelMaintenanceWindowExecution,
DescribeMaintenanceWindowSchedule, DescribeMaintenanceWindowsForTarget, and tags of type
MaintenanceWindow.

This replaces moto's maintenance windows, which ignore the filters of targets and tasks,
report every window as enabled and leave out AllowUnassociatedTargets. Schedules
(cron, rate and at expressions, time zone, offset, start and end dates) are evaluated
here for NextExecutionTime and DescribeMaintenanceWindowSchedule. Windows do not run on
their schedule: an execution is recorded through the control API
(``POST /_fleetops/maintenance-windows/<window-id>/run``, see ``control``).
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
import re
import secrets
import uuid
from typing import Any, Iterator

from .registry import AwsError, Context, operation, paginate, regional_store, validation_error
from .tags import check_tag_keys, taggable

try:
    import zoneinfo
except ImportError:  # pragma: no cover - Python < 3.9
    zoneinfo = None

# Service quotas (AWS General Reference, Systems Manager endpoints and quotas).
MAX_WINDOWS = 50
MAX_TARGETS_PER_WINDOW = 100
MAX_TASKS_PER_WINDOW = 20
DEFAULT_MAX_RESULTS = 10
SCHEDULE_HORIZON_DAYS = 366 * 2  # how far DescribeMaintenanceWindowSchedule looks ahead
SCHEDULE_LIMIT = 500  # and at most this many executions
DEFAULT_PRIORITY = 1
DEFAULT_CUTOFF_BEHAVIOR = "CONTINUE_TASK"
EXECUTION_STATUSES = ("PENDING", "IN_PROGRESS", "SUCCESS", "FAILED", "TIMED_OUT", "CANCELLING", "CANCELLED",
                      "SKIPPED_OVERLAPPING")
WINDOW_FILTER_KEYS = ("Name", "Enabled")
TARGET_FILTER_KEYS = ("Type", "WindowTargetId", "OwnerInformation")
TASK_FILTER_KEYS = ("WindowTaskId", "TaskArn", "Priority", "TaskType")
EXECUTION_FILTER_KEYS = ("ExecutedBefore", "ExecutedAfter")
SCHEDULE_FILTER_KEYS = ("ScheduledBefore", "ScheduledAfter")
STATUS_FILTER_KEY = "STATUS"
_INVOCATION_MEMBER = {"RUN_COMMAND": "RunCommand", "AUTOMATION": "Automation", "LAMBDA": "Lambda",
                      "STEP_FUNCTIONS": "StepFunctions"}
_INSTANCE_ID_RE = re.compile(r"^(i|mi)-[0-9a-f]{8,17}$")


def _service_linked_role(ctx: Context) -> str:
    return (f"arn:{ctx.partition}:iam::{ctx.account_id}:role/aws-service-role/ssm.amazonaws.com/"
            "AWSServiceRoleForAmazonSSM")


# --------------------------------------------------------------------------
# data


@regional_store("maintenance_windows")
class WindowStore:
    def __init__(self, account_id: str, region: str) -> None:
        self.windows: dict[str, dict] = {}  # WindowId -> window (API members, plus "_targets", "_tasks", ...)
        self.client_tokens: dict[tuple[str, str], tuple[str, str]] = {}  # (operation, token) -> (fingerprint, id)


def _store(ctx: Context) -> WindowStore:
    return ctx.store("maintenance_windows")


def window_arn(ctx: Context, window_id: str) -> str:
    return ctx.arn(f"maintenancewindow/{window_id}")


def _new_window_id() -> str:
    return "mw-" + secrets.token_hex(9)[:17]


def _window(ctx: Context, window_id: str) -> dict:
    found = _store(ctx).windows.get(window_id)
    if found is None:
        raise AwsError("DoesNotExistException", f"Maintenance window {window_id} does not exist")
    return found


def _idempotent(ctx: Context, operation_name: str, request: dict) -> str | None:
    """The id an earlier call with the same ClientToken made; IdempotentParameterMismatch if it differed."""
    token = request.get("ClientToken")
    if not token:
        return None
    fingerprint = hashlib.sha256(
        json.dumps({k: v for k, v in request.items() if k != "ClientToken"}, sort_keys=True, default=str).encode()
    ).hexdigest()
    earlier = _store(ctx).client_tokens.get((operation_name, token))
    if earlier is None:
        return None
    if earlier[0] != fingerprint:
        raise AwsError("IdempotentParameterMismatch", "Error occurred during operation: the client token was "
                       "already used with different parameters.")
    return earlier[1]


def _remember_token(ctx: Context, operation_name: str, request: dict, made_id: str) -> None:
    token = request.get("ClientToken")
    if token:
        fingerprint = hashlib.sha256(
            json.dumps({k: v for k, v in request.items() if k != "ClientToken"}, sort_keys=True, default=str).encode()
        ).hexdigest()
        _store(ctx).client_tokens[(operation_name, token)] = (fingerprint, made_id)


# --------------------------------------------------------------------------
# schedule expressions and their evaluation

_MONTH_NAMES = {name: i for i, name in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1)}
_DAY_NAMES = {name: i for i, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), start=1)}
_RATE_RE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_AT_RE = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_CRON_RE = re.compile(r"^cron\((.+)\)$")


class ScheduleError(ValueError):
    pass


def _value(text: str, low: int, high: int, names: dict | None, what: str) -> int:
    if names and text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():
        raise ScheduleError(f"invalid {what} value {text}")
    value = int(text)
    if not low <= value <= high:
        raise ScheduleError(f"{what} value {value} is out of range {low}-{high}")
    return value


def _expand(field: str, low: int, high: int, names: dict | None, what: str) -> set[int]:
    """A comma-separated field of values, ranges (wrapping around) and /increments as a set."""
    values: set[int] = set()
    for item in field.split(","):
        base, slash, step_text = item.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ScheduleError(f"invalid increment in {what} field: {item}")
            step = int(step_text)
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, last = base.split("-", 1)
            start, end = _value(first, low, high, names, what), _value(last, low, high, names, what)
        else:
            start = _value(base, low, high, names, what)
            end = high if slash else start
        if start <= end:
            values.update(range(start, end + 1, step))
        else:  # a range such as FRI-MON wraps around
            span = list(range(start, high + 1)) + list(range(low, end + 1))
            values.update(span[::step])
    return values


class Cron:
    """AWS's cron expression for maintenance windows: [seconds] minutes hours day-of-month month day-of-week year."""

    def __init__(self, body: str) -> None:
        fields = body.split()
        self.seconds = {0}
        if len(fields) == 7:
            self.seconds = _expand(fields[0], 0, 59, None, "seconds")
            fields = fields[1:]
        if len(fields) != 6:
            raise ScheduleError("a cron expression has 6 fields, or 7 with seconds")
        minutes, hours, dom, months, dow, years = fields
        self.minutes = _expand(minutes, 0, 59, None, "minutes")
        self.hours = _expand(hours, 0, 23, None, "hours")
        self.months = _expand(months, 1, 12, _MONTH_NAMES, "month")
        self.years = _expand(years, 1970, 2199, None, "year")
        if (dom == "?") == (dow == "?"):
            raise ScheduleError("exactly one of day-of-month and day-of-week must be ?")
        self.dom = None if dom == "?" else self._parse_dom(dom)
        self.dow = None if dow == "?" else self._parse_dow(dow)

    @staticmethod
    def _parse_dom(field: str) -> list[tuple]:
        rules: list[tuple] = []
        for item in field.split(","):
            if item == "L":
                rules.append(("last", 0))
            elif item == "LW":
                rules.append(("last-weekday",))
            elif re.match(r"^L-\d+$", item):
                rules.append(("last", int(item[2:])))
            elif re.match(r"^\d+W$", item):
                rules.append(("weekday", _value(item[:-1], 1, 31, None, "day-of-month")))
            else:
                rules.append(("days", _expand(item, 1, 31, None, "day-of-month")))
        return rules

    @staticmethod
    def _parse_dow(field: str) -> list[tuple]:
        rules: list[tuple] = []
        for item in field.split(","):
            if item.upper() == "L":
                rules.append(("days", {7}))
            elif "#" in item:
                day, nth = item.split("#", 1)
                if not nth.isdigit() or not 1 <= int(nth) <= 5:
                    raise ScheduleError(f"invalid day-of-week value {item}")
                rules.append(("nth", _value(day, 1, 7, _DAY_NAMES, "day-of-week"), int(nth)))
            elif len(item) > 1 and item.upper().endswith("L"):
                rules.append(("last-of", _value(item[:-1], 1, 7, _DAY_NAMES, "day-of-week")))
            else:
                rules.append(("days", _expand(item, 1, 7, _DAY_NAMES, "day-of-week")))
        return rules

    @staticmethod
    def _aws_weekday(day: dt.date) -> int:
        return (day.weekday() + 1) % 7 + 1  # 1 = Sunday ... 7 = Saturday

    def _dom_matches(self, day: dt.date) -> bool:
        last = calendar.monthrange(day.year, day.month)[1]
        for rule in self.dom or []:
            if rule[0] == "days" and day.day in rule[1]:
                return True
            if rule[0] == "last" and day.day == last - rule[1]:
                return True
            if rule[0] == "last-weekday":
                target = dt.date(day.year, day.month, last)
                while target.weekday() >= 5:
                    target -= dt.timedelta(days=1)
                if day == target:
                    return True
            if rule[0] == "weekday":
                wanted = min(rule[1], last)
                target = dt.date(day.year, day.month, wanted)
                if target.weekday() == 5:
                    target = target - dt.timedelta(days=1) if wanted > 1 else target + dt.timedelta(days=2)
                elif target.weekday() == 6:
                    target = target + dt.timedelta(days=1) if wanted < last else target - dt.timedelta(days=2)
                if day == target:
                    return True
        return False

    def _dow_matches(self, day: dt.date) -> bool:
        weekday = self._aws_weekday(day)
        last = calendar.monthrange(day.year, day.month)[1]
        for rule in self.dow or []:
            if rule[0] == "days" and weekday in rule[1]:
                return True
            if rule[0] == "nth" and weekday == rule[1] and (day.day - 1) // 7 + 1 == rule[2]:
                return True
            if rule[0] == "last-of" and weekday == rule[1] and day.day + 7 > last:
                return True
        return False

    def day_matches(self, day: dt.date) -> bool:
        if day.month not in self.months or day.year not in self.years:
            return False
        return self._dom_matches(day) if self.dom is not None else self._dow_matches(day)

    def times(self, day: dt.date, tz: dt.tzinfo) -> Iterator[dt.datetime]:
        for hour in sorted(self.hours):
            for minute in sorted(self.minutes):
                for second in sorted(self.seconds):
                    yield dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=tz)


def parse_schedule(expression: str) -> tuple[str, Any]:
    """('cron', Cron) | ('rate', timedelta) | ('at', naive datetime); raises ValidationException."""
    text = expression.strip()
    try:
        match = _CRON_RE.match(text)
        if match:
            return "cron", Cron(match.group(1))
        match = _RATE_RE.match(text)
        if match:
            value, unit = int(match.group(1)), match.group(2)
            if value < 1 or (value == 1) != (not unit.endswith("s")):
                raise ScheduleError("rate value and unit don't agree")
            seconds = {"minute": 60, "hour": 3600, "day": 86400}[unit.rstrip("s")]
            return "rate", dt.timedelta(seconds=value * seconds)
        match = _AT_RE.match(text)
        if match:
            return "at", dt.datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S")
    except ScheduleError as exc:
        raise validation_error(f"Invalid schedule expression {expression}: {exc}.") from None
    except ValueError:
        pass
    raise validation_error(f"Invalid schedule expression {expression}.")


def _zone(name: str | None) -> dt.tzinfo:
    if not name:
        return dt.timezone.utc
    if zoneinfo is None:  # pragma: no cover
        raise validation_error(f"Invalid schedule timezone {name}.")
    try:
        return zoneinfo.ZoneInfo(name)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        raise validation_error(f"Invalid schedule timezone {name}. Use a time zone in the IANA format.") from None


def parse_date(value: str, member: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise validation_error(f"Invalid {member} {value}: use the ISO-8601 extended format.") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed


def format_time(moment: dt.datetime, timezone_name: str | None) -> str:
    """ISO-8601 extended, in the window's time zone: 2026-01-04T02:00Z or 2026-01-04T02:00+01:00."""
    local = moment.astimezone(_zone(timezone_name))
    text = local.strftime("%Y-%m-%dT%H:%M")
    if local.second:
        text += local.strftime(":%S")
    offset = local.utcoffset() or dt.timedelta(0)
    if offset == dt.timedelta(0):
        return text + "Z"
    sign = "-" if offset < dt.timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def upcoming(window: dict, now: dt.datetime, limit: int = SCHEDULE_LIMIT) -> list[dt.datetime]:
    """The next executions of a window after ``now`` (UTC datetimes), at most ``limit``."""
    if not window.get("Enabled"):
        return []
    kind, spec = parse_schedule(window["Schedule"])
    tz = _zone(window.get("ScheduleTimezone"))
    start = parse_date(window["StartDate"], "StartDate") if window.get("StartDate") else None
    end = parse_date(window["EndDate"], "EndDate") if window.get("EndDate") else None
    created = dt.datetime.fromtimestamp(window["CreatedDate"], dt.timezone.utc)
    horizon = now + dt.timedelta(days=SCHEDULE_HORIZON_DAYS)
    found: list[dt.datetime] = []

    def accept(moment: dt.datetime) -> bool:
        return moment > now and (start is None or moment >= start) and (end is None or moment <= end)

    if kind == "at":
        moment = spec.replace(tzinfo=tz)
        return [moment.astimezone(dt.timezone.utc)] if accept(moment) else []
    if kind == "rate":
        # rate schedules count from the start date when it is in the future, else from creation
        anchor = start if start is not None and start > created else created
        moment = anchor + spec
        if moment <= now:
            moment += spec * ((now - moment) // spec + 1)
        while len(found) < limit and moment <= horizon and (end is None or moment <= end):
            if accept(moment):
                found.append(moment)
            moment += spec
        return found
    offset = dt.timedelta(days=window.get("ScheduleOffset") or 0)
    # a cron time that passed before the window existed is not run, even when its offset is ahead
    earliest = created
    day = (now - offset).astimezone(tz).date()
    last_day = horizon.astimezone(tz).date()
    while day <= last_day and len(found) < limit:
        if day.year > 2199:
            break
        if spec.day_matches(day):
            for base in spec.times(day, tz):
                if base <= earliest:
                    continue
                moment = (base + offset).astimezone(dt.timezone.utc)
                if end is not None and moment > end:
                    return found
                if accept(moment):
                    found.append(moment)
                    if len(found) >= limit:
                        break
        day += dt.timedelta(days=1)
    return found


def next_execution(ctx: Context, window: dict) -> str | None:
    now = dt.datetime.fromtimestamp(ctx.now(), dt.timezone.utc)
    runs = upcoming(window, now, 1)
    return format_time(runs[0], window.get("ScheduleTimezone")) if runs else None


# --------------------------------------------------------------------------
# windows


_WINDOW_REQUIRED = ("Name", "Schedule", "Duration", "Cutoff", "AllowUnassociatedTargets")
_WINDOW_OPTIONAL = ("Description", "StartDate", "EndDate", "ScheduleTimezone", "ScheduleOffset")


def _check_window(ctx: Context, window: dict, new_end_date: bool) -> None:
    kind, _spec = parse_schedule(window["Schedule"])
    _zone(window.get("ScheduleTimezone"))
    if window.get("ScheduleOffset") and kind != "cron":
        raise validation_error("ScheduleOffset is supported only for cron expressions.")
    if window["Cutoff"] >= window["Duration"]:
        raise validation_error(
            f"The cutoff ({window['Cutoff']}) must be less than the duration ({window['Duration']}) of the "
            "maintenance window."
        )
    start = parse_date(window["StartDate"], "StartDate") if window.get("StartDate") else None
    end = parse_date(window["EndDate"], "EndDate") if window.get("EndDate") else None
    if end is not None:
        if new_end_date and end <= dt.datetime.fromtimestamp(ctx.now(), dt.timezone.utc):
            raise validation_error(f"EndDate {window['EndDate']} must be in the future.")
        if start is not None and end <= start:
            raise validation_error(f"EndDate {window['EndDate']} must be later than StartDate {window['StartDate']}.")


def _window_view(ctx: Context, window: dict, members: tuple[str, ...]) -> dict:
    out: dict[str, Any] = {}
    for key in members:
        if key == "NextExecutionTime":
            value = next_execution(ctx, window)
        else:
            value = window.get(key)
        if value is not None:
            out[key] = value
    return out


_GET_MEMBERS = ("WindowId", "Name", "Description", "StartDate", "EndDate", "Schedule", "ScheduleTimezone",
                "ScheduleOffset", "NextExecutionTime", "Duration", "Cutoff", "AllowUnassociatedTargets", "Enabled",
                "CreatedDate", "ModifiedDate")
_UPDATE_MEMBERS = ("WindowId", "Name", "Description", "StartDate", "EndDate", "Schedule", "ScheduleTimezone",
                   "ScheduleOffset", "Duration", "Cutoff", "AllowUnassociatedTargets", "Enabled")
_IDENTITY_MEMBERS = ("WindowId", "Name", "Description", "Enabled", "Duration", "Cutoff", "Schedule",
                     "ScheduleTimezone", "ScheduleOffset", "EndDate", "StartDate", "NextExecutionTime")


@operation("CreateMaintenanceWindow")
def create_maintenance_window(request: dict, ctx: Context) -> dict:
    ctx.authorize("ssm:CreateMaintenanceWindow", window_arn(ctx, "*"), [request["Name"]])
    earlier = _idempotent(ctx, "CreateMaintenanceWindow", request)
    if earlier:
        return {"WindowId": earlier}
    store = _store(ctx)
    if len(store.windows) >= MAX_WINDOWS:
        raise AwsError("ResourceLimitExceededException",
                       f"You have reached the limit of {MAX_WINDOWS} maintenance windows in this Region.")
    check_tag_keys(request.get("Tags") or [])
    window = {key: request[key] for key in _WINDOW_REQUIRED}
    window.update({key: request[key] for key in _WINDOW_OPTIONAL if request.get(key) not in (None, "")})
    window["Enabled"] = True
    _check_window(ctx, window, new_end_date=True)
    window_id = _new_window_id()
    now = ctx.now()
    window.update(WindowId=window_id, CreatedDate=now, ModifiedDate=now, _targets={}, _tasks={}, _executions=[])
    store.windows[window_id] = window
    if request.get("Tags"):
        ctx.store("tags").set("MaintenanceWindow", window_id, {t["Key"]: t.get("Value", "") for t in request["Tags"]})
    _remember_token(ctx, "CreateMaintenanceWindow", request, window_id)
    return {"WindowId": window_id}


@operation("UpdateMaintenanceWindow")
def update_maintenance_window(request: dict, ctx: Context) -> dict:
    window_id = request["WindowId"]
    ctx.authorize("ssm:UpdateMaintenanceWindow", window_arn(ctx, window_id), [window_id])
    window = _window(ctx, window_id)
    if request.get("Replace"):
        missing = [key for key in _WINDOW_REQUIRED if request.get(key) is None]
        if missing:
            raise validation_error(f"With Replace, {', '.join(missing)} must be specified.")
        updated = {key: request[key] for key in _WINDOW_REQUIRED}
        updated.update({key: request[key] for key in _WINDOW_OPTIONAL if request.get(key) not in (None, "")})
        updated["Enabled"] = request.get("Enabled", True)
    else:
        updated = {key: value for key, value in window.items() if not key.startswith("_")}
        for key in _WINDOW_REQUIRED + _WINDOW_OPTIONAL + ("Enabled",):
            if request.get(key) is not None:
                updated[key] = request[key]
    updated.update(WindowId=window_id, CreatedDate=window["CreatedDate"])
    _check_window(ctx, updated, new_end_date=bool(request.get("EndDate")))
    for key in list(window):
        if not key.startswith("_"):
            del window[key]
    window.update(updated)
    window["ModifiedDate"] = ctx.now()
    return _window_view(ctx, window, _UPDATE_MEMBERS)


@operation("GetMaintenanceWindow")
def get_maintenance_window(request: dict, ctx: Context) -> dict:
    window_id = request["WindowId"]
    ctx.authorize("ssm:GetMaintenanceWindow", window_arn(ctx, window_id), [window_id])
    return _window_view(ctx, _window(ctx, window_id), _GET_MEMBERS)


@operation("DeleteMaintenanceWindow")
def delete_maintenance_window(request: dict, ctx: Context) -> dict:
    window_id = request["WindowId"]
    ctx.authorize("ssm:DeleteMaintenanceWindow", window_arn(ctx, window_id), [window_id])
    if _store(ctx).windows.pop(window_id, None) is not None:
        ctx.store("tags").drop("MaintenanceWindow", window_id)
    return {"WindowId": window_id}


def _filters(request: dict, allowed: tuple[str, ...], case_insensitive: bool = False) -> list[tuple[str, list[str]]]:
    result = []
    for item in request.get("Filters") or []:
        key = item.get("Key")
        match = None
        for candidate in allowed:
            if key == candidate or (case_insensitive and (key or "").upper() == candidate.upper()):
                match = candidate
        if match is None:
            raise validation_error(f"The filter key {key} is not valid. Valid filter keys: {', '.join(allowed)}.")
        result.append((match, list(item.get("Values") or [])))
    return result


def _page(request: dict, items: list, query: Any, result_key: str, default: int = DEFAULT_MAX_RESULTS) -> dict:
    page, token = paginate(items, int(request.get("MaxResults") or default), request.get("NextToken"), query)
    out: dict[str, Any] = {result_key: page}
    if token:
        out["NextToken"] = token
    return out


def _bool_filter(values: list[str], actual: bool) -> bool:
    wanted = {value.strip().lower() for value in values}
    if not wanted <= {"true", "false"}:
        raise validation_error("The Enabled filter takes true or false.")
    return str(bool(actual)).lower() in wanted


@operation("DescribeMaintenanceWindows")
def describe_maintenance_windows(request: dict, ctx: Context) -> dict:
    ctx.authorize("ssm:DescribeMaintenanceWindows", window_arn(ctx, "*"))
    filters = _filters(request, WINDOW_FILTER_KEYS)
    windows = sorted(_store(ctx).windows.values(), key=lambda w: (w["CreatedDate"], w["WindowId"]))
    matched = []
    for window in windows:
        ok = True
        for key, values in filters:
            if key == "Name":
                ok = ok and window["Name"] in values
            else:
                ok = ok and _bool_filter(values, window["Enabled"])
        if ok:
            matched.append(_window_view(ctx, window, _IDENTITY_MEMBERS))
    return _page(request, matched, {"op": "windows", "f": request.get("Filters")}, "WindowIdentities")


# --------------------------------------------------------------------------
# targets


def _check_targets(targets: list[dict], resource_type: str | None = None) -> None:
    if not targets:
        raise validation_error("Targets must contain at least one target.")
    for target in targets:
        key = target.get("Key") or ""
        values = target.get("Values") or []
        if not values:
            raise validation_error(f"Target {key} must have at least one value.")
        if key.lower() == "instanceids":
            bad = [value for value in values if not _INSTANCE_ID_RE.match(value)]
            if bad:
                raise validation_error(f"Invalid instance id {bad[0]}.")
        if resource_type == "INSTANCE" and key.startswith("resource-groups:"):
            raise validation_error(f"Target key {key} requires ResourceType RESOURCE_GROUP.")
    if resource_type == "RESOURCE_GROUP" and not any(t.get("Key") == "resource-groups:Name" for t in targets):
        raise validation_error("A RESOURCE_GROUP target needs the key resource-groups:Name.")


def _target_view(target: dict) -> dict:
    return {key: value for key, value in target.items() if value is not None and not key.startswith("_")}


def _target(ctx: Context, window: dict, target_id: str) -> dict:
    found = window["_targets"].get(target_id)
    if found is None:
        raise AwsError("DoesNotExistException",
                       f"Maintenance window target {target_id} does not exist in maintenance window {window['WindowId']}")
    return found


@operation("RegisterTargetWithMaintenanceWindow")
def register_target_with_maintenance_window(request: dict, ctx: Context) -> dict:
    window_id = request["WindowId"]
    ctx.authorize("ssm:RegisterTargetWithMaintenanceWindow", window_arn(ctx, window_id), [window_id])
    window = _window(ctx, window_id)
    earlier = _idempotent(ctx, "RegisterTargetWithMaintenanceWindow", request)
    if earlier:
        return {"WindowTargetId": earlier}
    _check_targets(request["Targets"], request["ResourceType"])
    if len(window["_targets"]) >= MAX_TARGETS_PER_WINDOW:
        raise AwsError("ResourceLimitExceededException",
                       f"A maintenance window can have at most {MAX_TARGETS_PER_WINDOW} targets.")
    target_id = str(uuid.uuid4())
    window["_targets"][target_id] = {
        "WindowId": window_id,
        "WindowTargetId": target_id,
        "ResourceType": request["ResourceType"],
        "Targets": request["Targets"],
        "OwnerInformation": request.get("OwnerInformation"),
        "Name": request.get("Name"),
        "Description": request.get("Description"),
    }
    _remember_token(ctx, "RegisterTargetWithMaintenanceWindow", request, target_id)
    return {"WindowTargetId": target_id}


@operation("UpdateMaintenanceWindowTarget")
def update_maintenance_window_target(request: dict, ctx: Context) -> dict:
    window_id = request["WindowId"]
    ctx.authorize("ssm:UpdateMaintenanceWindowTarget", window_arn(ctx, window_id), [window_id])
    window = _window(ctx, window_id)
    target = _target(ctx, window, request["WindowTargetId"])
    if request.get("Replace"):
        if not request.get("Targets"):
            raise validation_error("With Replace, Targets must be specified.")
        for key in ("OwnerInformation", "Name", "Description"):
            target[key] = request.get(key)
    else:
        for key in ("OwnerInformation", "Name", "Description"):
            if request.get(key) is not None:
                target[key] = request[key]
    if request.get("Targets") is not None:
        kind = target["ResourceType"]
        keys = {t.get("Key") for t in request["Targets"]}
        # AWS moves a target between ID, tag and resource-group selection in place
        kind = "RESOURCE_GROUP" if "resource-groups:Name" in keys else ("INSTANCE" if keys else kind)
        _check_targets(request["Targets"], kind)
        target["Targets"] = request["Targets"]
        target["ResourceType"] = kind
    view = _target_view(target)
    view.pop("ResourceType", None)
    return view


def _tasks_using(window: dict, target_id: str) -> list[dict]:
    using = []
    for task in window["_tasks"].values():
        for entry in task.get("Targets") or []:
            if entry.get("Key", "").lower() == "windowtargetids" and target_id in (entry.get("Values") or []):
                using.append(task)
    return using


@operation("DeregisterTargetFromMaintenanceWindow")
def deregister_target_from_maintenance_window(request: dict, ctx: Context) -> dict:
    window_id = request["WindowId"]
    ctx.authorize("ssm:DeregisterTargetFromMaintenanceWindow", window_arn(ctx, window_id), [window_id])
    window = _window(ctx, window_id)
    target_id = request["WindowTargetId"]
    _target(ctx, window, target_id)
    using = _tasks_using(window, target_id)
    if request.get("Safe") and using:
        raise AwsError(
            "TargetInUseException",
            f"Target {target_id} is being referenced by task(s) {', '.join(t['WindowTaskId'] for t in using)}.",
        )
    del window["_targets"][target_id]
    return {"WindowId": window_id, "WindowTargetId": target_id}


def _target_matches_filters(target: dict, filters: list[tuple[str, list[str]]]) -> bool:
    for key, values in filters:
        if key == "Type" and target["ResourceType"] not in values:
            return False
        if key == "WindowTargetId" and target["WindowTargetId"] not in values:
            return False
        if key == "OwnerInformation" and target.get("OwnerInformation") not in values:
            return False
    return True


@operation("DescribeMaintenanceWindowTargets")
def describe_maintenance_window_targets(request: dict, ctx: Context) -> dict:
    window_id = request["WindowId"]
    ctx.authorize("ssm:DescribeMaintenanceWindowTargets", window_arn(ctx, window_id), [window_id])
    window = _window(ctx, window_id)
    filters = _filters(request, TARGET_FILTER_KEYS)
    matched = [_target_view(t) for t in window["_targets"].values() if _target_matches_filters(t, filters)]
    return _page(request, matched, {"op": "targets", "w": window_id, "f": request.get("Filters")}, "Targets")


# --------------------------------------------------------------------------
# tasks


def _check_task(ctx: Context, window: dict, task: dict) -> None:
    """The rules of RegisterTaskWithMaintenanceWindow, on the task as it would be stored."""
    task_type = task["TaskType"]
    invocation = task.get("TaskInvocationParameters") or {}
    wrong = [member for member in invocation if member != _INVOCATION_MEMBER[task_type]]
    if wrong:
        raise validation_error(f"TaskInvocationParameters.{wrong[0]} can't be used with a {task_type} task.")
    targets = task.get("Targets") or []
    if task_type == "RUN_COMMAND" and not targets:
        raise validation_error("Targets must be specified for maintenance window Run Command-type tasks.")
    for entry in targets:
        key = (entry.get("Key") or "").lower()
        values = entry.get("Values") or []
        if not values:
            raise validation_error(f"Target {entry.get('Key')} must have at least one value.")
        if key == "windowtargetids":
            for value in values:
                if value not in window["_targets"]:
                    raise AwsError("DoesNotExistException",
                                   f"Maintenance window target {value} does not exist in maintenance window "
                                   f"{window['WindowId']}")
        elif not window["AllowUnassociatedTargets"]:
            raise validation_error(
                "This maintenance window does not allow unregistered targets: specify registered targets "
                "(Key=WindowTargetIds) or set AllowUnassociatedTargets."
            )
        elif key == "instanceids":
            bad = [value for value in values if not _INSTANCE_ID_RE.match(value)]
            if bad:
                raise validation_error(f"Invalid instance id {bad[0]}.")
    if targets:
        missing = [key for key in ("MaxConcurrency", "MaxErrors") if not task.get(key)]
        if missing:
            raise validation_error(f"{' and '.join(missing)} must be specified for a task with targets.")


_TASK_MEMBERS = ("TaskArn", "ServiceRoleArn", "TaskParameters", "TaskInvocationParameters", "Priority",
                 "MaxConcurrency", "MaxErrors", "LoggingInfo", "Name", "Description", "CutoffBehavior",
                 "AlarmConfiguration", "Targets")


def _task_view(task: dict, members: tuple[str, ...]) -> dict:
    return {key: task[key] for key in members if task.get(key) is not None}


def _task(window: dict, task_id: str) -> dict:
    found = window["_tasks"].get(task_id)
    if found is None:
        raise AwsError("DoesNotExistException",
                       f"Maintenance window task {task_id} does not exist in maintenance window {window['WindowId']}")
    return found


@operation("RegisterTaskWithMaintenanceWindow")
def register_task_with_maintenance_window(request: dict, ctx: Context) -> dict:
    window_id = request["WindowId"]
    ctx.authorize("ssm:RegisterTaskWithMaintenanceWindow", window_arn(ctx, window_id), [window_id])
    window = _window(ctx, window_id)
    earlier = _idempotent(ctx, "RegisterTaskWithMaintenanceWindow", request)
    if earlier:
        return {"WindowTaskId": earlier}
    if len(window["_tasks"]) >= MAX_TASKS_PER_WINDOW:
        raise AwsError("ResourceLimitExceededException",
                       f"A maintenance window can have at most {MAX_TASKS_PER_WINDOW} tasks.")
    task = {key: request.get(key) for key in _TASK_MEMBERS}
    task["TaskType"] = request["TaskType"]
    if not task["Targets"]:
        if task.get("MaxConcurrency") or task.get("MaxErrors"):
            raise validation_error("MaxConcurrency and MaxErrors can't be specified for a task without targets.")
        task["Targets"] = []
        task["MaxConcurrency"] = task["MaxErrors"] = "1"  # AWS's placeholders for a targetless task
    task["Priority"] = DEFAULT_PRIORITY if task.get("Priority") is None else task["Priority"]
    task["CutoffBehavior"] = task.get("CutoffBehavior") or DEFAULT_CUTOFF_BEHAVIOR
    task["ServiceRoleArn"] = task.get("ServiceRoleArn") or _service_linked_role(ctx)
    _check_task(ctx, window, task)
    task_id = str(uuid.uuid4())
    task.update(WindowId=window_id, WindowTaskId=task_id)
    window["_tasks"][task_id] = task
    _remember_token(ctx, "RegisterTaskWithMaintenanceWindow", request, task_id)
    return {"WindowTaskId": task_id}


@operation("UpdateMaintenanceWindowTask")
def update_maintenance_window_task(request: dict, ctx: Context) -> dict:
    window_id = request["WindowId"]
    ctx.authorize("ssm:UpdateMaintenanceWindowTask", window_arn(ctx, window_id), [window_id])
    window = _window(ctx, window_id)
    task = _task(window, request["WindowTaskId"])
    if request.get("Replace"):
        if not request.get("TaskArn"):
            raise validation_error("With Replace, TaskArn must be specified.")
        updated = {key: request.get(key) for key in _TASK_MEMBERS}
    else:
        updated = dict(task)
        for key in _TASK_MEMBERS:
            if request.get(key) is not None:
                updated[key] = request[key]
    updated.update(WindowId=window_id, WindowTaskId=task["WindowTaskId"], TaskType=task["TaskType"])
    if not updated.get("Targets"):
        if request.get("MaxConcurrency") or request.get("MaxErrors"):
            raise validation_error("MaxConcurrency and MaxErrors can't be specified for a task without targets.")
        updated["Targets"] = []
        updated["MaxConcurrency"] = updated["MaxErrors"] = "1"
    updated["Priority"] = DEFAULT_PRIORITY if updated.get("Priority") is None else updated["Priority"]
    updated["CutoffBehavior"] = updated.get("CutoffBehavior") or DEFAULT_CUTOFF_BEHAVIOR
    updated["ServiceRoleArn"] = updated.get("ServiceRoleArn") or _service_linked_role(ctx)
    _check_task(ctx, window, updated)
    task.clear()
    task.update(updated)
    view = _task_view(task, _TASK_MEMBERS)
    view.update(WindowId=window_id, WindowTaskId=task["WindowTaskId"])
    return view


@operation("DeregisterTaskFromMaintenanceWindow")
def deregister_task_from_maintenance_window(request: dict, ctx: Context) -> dict:
    window_id = request["WindowId"]
    ctx.authorize("ssm:DeregisterTaskFromMaintenanceWindow", window_arn(ctx, window_id), [window_id])
    window = _window(ctx, window_id)
    task_id = request["WindowTaskId"]
    _task(window, task_id)
    del window["_tasks"][task_id]
    return {"WindowId": window_id, "WindowTaskId": task_id}


@operation("GetMaintenanceWindowTask")
def get_maintenance_window_task(request: dict, ctx: Context) -> dict:
    window_id = request["WindowId"]
    ctx.authorize("ssm:GetMaintenanceWindowTask", window_arn(ctx, window_id), [window_id])
    task = _task(_window(ctx, window_id), request["WindowTaskId"])
    view = _task_view(task, _TASK_MEMBERS + ("TaskType",))
    view.update(WindowId=window_id, WindowTaskId=task["WindowTaskId"])
    return view


def _task_matches_filters(task: dict, filters: list[tuple[str, list[str]]]) -> bool:
    for key, values in filters:
        if key == "WindowTaskId" and task["WindowTaskId"] not in values:
            return False
        if key == "TaskArn" and task["TaskArn"] not in values:
            return False
        if key == "TaskType" and task["TaskType"] not in values:
            return False
        if key == "Priority" and str(task["Priority"]) not in values:
            return False
    return True


@operation("DescribeMaintenanceWindowTasks")
def describe_maintenance_window_tasks(request: dict, ctx: Context) -> dict:
    window_id = request["WindowId"]
    ctx.authorize("ssm:DescribeMaintenanceWindowTasks", window_arn(ctx, window_id), [window_id])
    window = _window(ctx, window_id)
    filters = _filters(request, TASK_FILTER_KEYS)
    matched = []
    for task in window["_tasks"].values():
        if _task_matches_filters(task, filters):
            view = _task_view(task, tuple(m for m in _TASK_MEMBERS if m != "TaskInvocationParameters"))
            view.update(WindowId=window_id, WindowTaskId=task["WindowTaskId"], Type=task["TaskType"])
            matched.append(view)
    return _page(request, matched, {"op": "tasks", "w": window_id, "f": request.get("Filters")}, "Tasks")


# --------------------------------------------------------------------------
# executions


def _find_execution(ctx: Context, execution_id: str) -> tuple[dict, dict]:
    for window in _store(ctx).windows.values():
        for execution in window["_executions"]:
            if execution["WindowExecutionId"] == execution_id:
                return window, execution
    raise AwsError("DoesNotExistException", f"Maintenance window execution {execution_id} does not exist")


def _when_filters(filters: list[tuple[str, list[str]]], moment: float) -> bool:
    for key, values in filters:
        for value in values:
            limit = parse_date(value, key).timestamp()
            if key in ("ExecutedBefore", "ScheduledBefore") and not moment < limit:
                return False
            if key in ("ExecutedAfter", "ScheduledAfter") and not moment > limit:
                return False
    return True


def _status_filter_list(request: dict) -> list[tuple[str, list[str]]]:
    filters = _filters(request, (STATUS_FILTER_KEY,), case_insensitive=True)
    for _key, values in filters:
        bad = [value for value in values if value not in EXECUTION_STATUSES]
        if bad:
            raise validation_error(f"Invalid STATUS filter value {bad[0]}. Valid values: {', '.join(EXECUTION_STATUSES)}.")
    return filters


def _status_filters(filters: list[tuple[str, list[str]]], status: str) -> bool:
    return all(status in values for _key, values in filters)


def _public(item: dict) -> dict:
    return {key: value for key, value in item.items() if not key.startswith("_") and value is not None}


@operation("DescribeMaintenanceWindowExecutions")
def describe_maintenance_window_executions(request: dict, ctx: Context) -> dict:
    window_id = request["WindowId"]
    ctx.authorize("ssm:DescribeMaintenanceWindowExecutions", window_arn(ctx, window_id), [window_id])
    filters = _filters(request, EXECUTION_FILTER_KEYS)
    for key, values in filters:  # bad dates are refused even when there is nothing to filter
        for value in values:
            parse_date(value, key)
    window = _store(ctx).windows.get(window_id)
    executions = list(window["_executions"]) if window else []
    executions.sort(key=lambda e: e["StartTime"], reverse=True)
    matched = [_public(e) for e in executions if _when_filters(filters, e["StartTime"])]
    return _page(request, matched, {"op": "executions", "w": window_id, "f": request.get("Filters")}, "WindowExecutions")


@operation("DescribeMaintenanceWindowExecutionTasks")
def describe_maintenance_window_execution_tasks(request: dict, ctx: Context) -> dict:
    execution_id = request["WindowExecutionId"]
    window, execution = _find_execution(ctx, execution_id)
    ctx.authorize("ssm:DescribeMaintenanceWindowExecutionTasks", window_arn(ctx, window["WindowId"]), [execution_id])
    filters = _status_filter_list(request)
    matched = [_public(t) for t in execution["_tasks"] if _status_filters(filters, t["Status"])]
    return _page(request, matched, {"op": "execution-tasks", "e": execution_id, "f": request.get("Filters")},
                 "WindowExecutionTaskIdentities")


@operation("DescribeMaintenanceWindowExecutionTaskInvocations")
def describe_maintenance_window_execution_task_invocations(request: dict, ctx: Context) -> dict:
    execution_id = request["WindowExecutionId"]
    window, execution = _find_execution(ctx, execution_id)
    ctx.authorize("ssm:DescribeMaintenanceWindowExecutionTaskInvocations", window_arn(ctx, window["WindowId"]),
                  [execution_id])
    task = next((t for t in execution["_tasks"] if t["TaskExecutionId"] == request["TaskId"]), None)
    if task is None:
        raise AwsError("DoesNotExistException",
                       f"Maintenance window execution task {request['TaskId']} does not exist in execution {execution_id}")
    filters = _status_filter_list(request)
    matched = [_public(i) for i in task["_invocations"] if _status_filters(filters, i["Status"])]
    return _page(request, matched, {"op": "invocations", "e": execution_id, "t": request["TaskId"],
                                    "f": request.get("Filters")}, "WindowExecutionTaskInvocationIdentities")


def _execution_task(execution: dict, task_execution_id: str) -> dict:
    found = next((t for t in execution["_tasks"] if t["TaskExecutionId"] == task_execution_id), None)
    if found is None:
        raise AwsError("DoesNotExistException", f"Maintenance window execution task {task_execution_id} does not exist "
                       f"in execution {execution['WindowExecutionId']}")
    return found


@operation("GetMaintenanceWindowExecution")
def get_maintenance_window_execution(request: dict, ctx: Context) -> dict:
    execution_id = request["WindowExecutionId"]
    window, execution = _find_execution(ctx, execution_id)
    ctx.authorize("ssm:GetMaintenanceWindowExecution", window_arn(ctx, window["WindowId"]), [execution_id])
    view = _public(execution)
    view.pop("WindowId", None)
    view["TaskIds"] = [t["TaskExecutionId"] for t in execution["_tasks"]]
    return view


@operation("GetMaintenanceWindowExecutionTask")
def get_maintenance_window_execution_task(request: dict, ctx: Context) -> dict:
    execution_id = request["WindowExecutionId"]
    window, execution = _find_execution(ctx, execution_id)
    ctx.authorize("ssm:GetMaintenanceWindowExecutionTask", window_arn(ctx, window["WindowId"]), [execution_id])
    task = _execution_task(execution, request["TaskId"])
    view = _public(task)
    view["Type"] = view.pop("TaskType")
    view.update({key: value for key, value in task["_detail"].items() if value is not None})
    return view


@operation("GetMaintenanceWindowExecutionTaskInvocation")
def get_maintenance_window_execution_task_invocation(request: dict, ctx: Context) -> dict:
    execution_id = request["WindowExecutionId"]
    window, execution = _find_execution(ctx, execution_id)
    ctx.authorize("ssm:GetMaintenanceWindowExecutionTaskInvocation", window_arn(ctx, window["WindowId"]), [execution_id])
    task = _execution_task(execution, request["TaskId"])
    found = next((i for i in task["_invocations"] if i["InvocationId"] == request["InvocationId"]), None)
    if found is None:
        raise AwsError("DoesNotExistException", f"Maintenance window execution task invocation {request['InvocationId']} "
                       f"does not exist in execution {execution_id}")
    return _public(found)


@operation("CancelMaintenanceWindowExecution")
def cancel_maintenance_window_execution(request: dict, ctx: Context) -> dict:
    """Stops an execution that is still pending or running; one that ended stays as it is."""
    execution_id = request["WindowExecutionId"]
    window, execution = _find_execution(ctx, execution_id)
    ctx.authorize("ssm:CancelMaintenanceWindowExecution", window_arn(ctx, window["WindowId"]), [execution_id])
    for item in [execution] + execution["_tasks"] + [i for t in execution["_tasks"] for i in t["_invocations"]]:
        if item["Status"] in ("PENDING", "IN_PROGRESS"):
            item["Status"] = "CANCELLED"
            item["EndTime"] = ctx.now()
    return {"WindowExecutionId": execution_id}


# --------------------------------------------------------------------------
# schedules and windows for a target


def _entry_matches(wanted: dict, have: dict) -> bool:
    """A requested target entry against a registered one: same key (case-insensitive for ids), a shared value."""
    key_a, key_b = wanted.get("Key") or "", have.get("Key") or ""
    same_key = key_a == key_b or (key_a.lower() == key_b.lower() == "instanceids")
    return same_key and bool(set(wanted.get("Values") or []) & set(have.get("Values") or []))


def _windows_for_targets(ctx: Context, targets: list[dict], resource_type: str) -> list[dict]:
    found = []
    for window in _store(ctx).windows.values():
        entries = [(t["ResourceType"], e) for t in window["_targets"].values() for e in t["Targets"]]
        entries += [("INSTANCE", e) for task in window["_tasks"].values() for e in task.get("Targets") or []
                    if (e.get("Key") or "").lower() != "windowtargetids"]
        if any(kind == resource_type and _entry_matches(w, e) for w in targets for kind, e in entries):
            found.append(window)
    return sorted(found, key=lambda w: w["WindowId"])


@operation("DescribeMaintenanceWindowSchedule")
def describe_maintenance_window_schedule(request: dict, ctx: Context) -> dict:
    ctx.authorize("ssm:DescribeMaintenanceWindowSchedule", window_arn(ctx, request.get("WindowId") or "*"))
    if request.get("WindowId"):
        windows = [_window(ctx, request["WindowId"])]
    elif request.get("Targets"):
        if not request.get("ResourceType"):
            raise validation_error("ResourceType must be specified with Targets.")
        windows = _windows_for_targets(ctx, request["Targets"], request["ResourceType"])
    else:
        raise validation_error("Specify either WindowId or Targets.")
    filters = _filters(request, SCHEDULE_FILTER_KEYS)
    now = dt.datetime.fromtimestamp(ctx.now(), dt.timezone.utc)
    runs = []
    for window in windows:
        for moment in upcoming(window, now):
            if _when_filters(filters, moment.timestamp()):
                runs.append((moment, window))
    runs.sort(key=lambda run: (run[0], run[1]["WindowId"]))
    items = [{"WindowId": w["WindowId"], "Name": w["Name"], "ExecutionTime": format_time(m, w.get("ScheduleTimezone"))}
             for m, w in runs]
    query = {"op": "schedule", "w": request.get("WindowId"), "t": request.get("Targets"), "f": request.get("Filters")}
    return _page(request, items, query, "ScheduledWindowExecutions")


@operation("DescribeMaintenanceWindowsForTarget")
def describe_maintenance_windows_for_target(request: dict, ctx: Context) -> dict:
    ctx.authorize("ssm:DescribeMaintenanceWindowsForTarget", window_arn(ctx, "*"))
    if not request["Targets"]:
        raise validation_error("Targets must contain at least one target.")
    windows = _windows_for_targets(ctx, request["Targets"], request["ResourceType"])
    items = [{"WindowId": w["WindowId"], "Name": w["Name"]} for w in windows]
    query = {"op": "for-target", "t": request["Targets"], "r": request["ResourceType"]}
    return _page(request, items, query, "WindowIdentities")


# --------------------------------------------------------------------------
# executions recorded through the control API


CONTROL_PREFIX = "/maintenance-windows/"
_CONTROL_RE = re.compile(r"^/maintenance-windows/(mw-[0-9a-f]{17})/run$")


class ControlError(Exception):
    pass


def _status(value: Any, what: str) -> str:
    status = str(value or "SUCCESS").upper()
    if status not in EXECUTION_STATUSES:
        raise ControlError(f"{what} must be one of {', '.join(EXECUTION_STATUSES)}")
    return status


def _invocation_parameters(ctx: Context, task: dict, window: dict) -> str:
    """What AWS shows as an invocation's Parameters: the task's invocation parameters, as JSON."""
    invocation = (task.get("TaskInvocationParameters") or {}).get(_INVOCATION_MEMBER[task["TaskType"]]) or {}
    shown: dict[str, Any] = {"documentName": task["TaskArn"]} if task["TaskType"] in ("RUN_COMMAND", "AUTOMATION") \
        else {"taskArn": task["TaskArn"]}
    for key, value in invocation.items():
        shown[key[0].lower() + key[1:]] = value
    return json.dumps(shown, sort_keys=True, default=str)


def record_execution(ctx: Context, window: dict, data: dict) -> dict:
    """One execution of the window, now: every task in priority order, one invocation per target."""
    overrides = data.get("tasks") or {}
    if not isinstance(overrides, dict):
        raise ControlError('"tasks" must map task names or ids to statuses')
    tasks = sorted(window["_tasks"].values(), key=lambda t: (t["Priority"], t.get("Name") or "", t["WindowTaskId"]))
    known = {t["WindowTaskId"] for t in tasks} | {t.get("Name") for t in tasks if t.get("Name")}
    unknown = [key for key in overrides if key not in known]
    if unknown:
        raise ControlError(f"the window has no task {unknown[0]!r}")
    start = ctx.now()
    clock = start
    execution_id = str(uuid.uuid4())
    task_executions = []
    for task in tasks:
        status = _status(overrides.get(task["WindowTaskId"], overrides.get(task.get("Name"))), "a task status")
        task_execution_id = str(uuid.uuid4())
        invocations = []
        targets: list[tuple[str | None, str | None]] = []
        for entry in task.get("Targets") or []:
            if (entry.get("Key") or "").lower() == "windowtargetids":
                for target_id in entry.get("Values") or []:
                    target = window["_targets"].get(target_id) or {}
                    targets.append((target_id, target.get("OwnerInformation")))
            else:
                targets.append((None, None))
        for target_id, owner in targets or [(None, None)]:
            item = {
                "WindowExecutionId": execution_id,
                "TaskExecutionId": task_execution_id,
                "InvocationId": str(uuid.uuid4()),
                "ExecutionId": str(uuid.uuid4()),
                "TaskType": task["TaskType"],
                "Parameters": _invocation_parameters(ctx, task, window),
                "Status": status,
                "StatusDetails": status.replace("_", " ").title().replace(" ", ""),
                "StartTime": clock,
                "EndTime": clock + 1,
                "OwnerInformation": owner,
                "WindowTargetId": target_id,
            }
            invocations.append(item)
        task_executions.append({
            "WindowExecutionId": execution_id,
            "TaskExecutionId": task_execution_id,
            "Status": status,
            "StatusDetails": status.replace("_", " ").title().replace(" ", ""),
            "StartTime": clock,
            "EndTime": clock + 1,
            "TaskArn": task["TaskArn"],
            "TaskType": task["TaskType"],
            "AlarmConfiguration": task.get("AlarmConfiguration"),
            "_invocations": invocations,
            "_detail": {"ServiceRole": task.get("ServiceRoleArn"), "Priority": task["Priority"],
                        "MaxConcurrency": task.get("MaxConcurrency"), "MaxErrors": task.get("MaxErrors")},
        })
        clock += 1
    failed = any(t["Status"] != "SUCCESS" for t in task_executions)
    status = _status(data.get("status") or ("FAILED" if failed else "SUCCESS"), '"status"')
    details = data.get("status_details")
    if details is None:
        details = "One or more tasks in the orchestration failed." if status == "FAILED" else None
    execution = {
        "WindowId": window["WindowId"],
        "WindowExecutionId": execution_id,
        "Status": status,
        "StatusDetails": details,
        "StartTime": start,
        "EndTime": clock,
        "_tasks": task_executions,
    }
    window["_executions"].append(execution)
    return {
        "execution": {
            "window_id": window["WindowId"],
            "window_execution_id": execution_id,
            "status": status,
            "tasks": [{"task_execution_id": t["TaskExecutionId"], "task_arn": t["TaskArn"], "status": t["Status"],
                       "invocations": len(t["_invocations"])} for t in task_executions],
        }
    }


def control(ssm_state: Any, method: str, route: str, data: dict, account_id: str) -> tuple[int, dict]:
    """The control call /_fleetops/maintenance-windows/<window-id>/run: (HTTP status, JSON answer).

    POST records an execution of the window (found in any region of the account).
    """
    from ..authz import principal_for

    match = _CONTROL_RE.match(route)
    if match is None:
        return 404, {"error": f"unknown control path /_fleetops{route}; use /_fleetops{CONTROL_PREFIX}<window-id>/run"}
    if method != "POST":
        return 405, {"error": f"{method} is not supported on /_fleetops{route}"}
    window_id = match.group(1)
    try:
        with ssm_state.lock:
            for account, region, store in ssm_state.existing_stores("maintenance_windows"):
                if account == account_id and window_id in store.windows:
                    ctx = Context(operation="control", account_id=account, region=region,
                                  principal=principal_for(None), ssm=ssm_state, deny=None)
                    return 200, record_execution(ctx, store.windows[window_id], data)
    except ControlError as exc:
        return 400, {"error": str(exc)}
    return 404, {"error": f"maintenance window {window_id} does not exist"}


# --------------------------------------------------------------------------
# tags of type MaintenanceWindow


def _resolve_for_tags(ctx: Context, resource_id: str) -> str:
    if resource_id not in _store(ctx).windows:
        raise AwsError("InvalidResourceId")
    return resource_id


taggable("MaintenanceWindow", _resolve_for_tags, window_arn)
