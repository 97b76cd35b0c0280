# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE: this file is internal to the fleetops.ssm collection. It is not a public API and may
# change at any time without notice. Do not import it from outside the collection.

"""Maintenance windows: one function per API call, schedule validation, and the logic that
matches a window's targets and tasks by name and plans the calls that bring them in line."""

from __future__ import annotations

import copy
import datetime
import re

try:
    import zoneinfo
except ImportError:  # Python before 3.9: time zones are then left to AWS to check
    zoneinfo = None

from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list

from ansible_collections.fleetops.ssm.plugins.module_utils._tags import list_tags
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import SSMErrorHandler
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import ssm_retry

RESOURCE_TYPE = "MaintenanceWindow"  # for the tagging API
TASK_TYPES = ("RUN_COMMAND", "AUTOMATION", "LAMBDA", "STEP_FUNCTIONS")
TARGET_RESOURCE_TYPES = ("INSTANCE", "RESOURCE_GROUP")
CUTOFF_BEHAVIORS = ("CONTINUE_TASK", "CANCEL_TASK")
DEFAULT_CUTOFF_BEHAVIOR = "CONTINUE_TASK"
DEFAULT_PRIORITY = 1
PAGE_SIZE = 100  # the Describe* operations of maintenance windows take 10 to 100 per page
MAX_TARGET_ENTRIES = 5  # a Targets list holds at most 5 key/values entries
MAX_TARGET_VALUES = 50
MAX_DESCRIPTION = 128
MAX_OWNER_INFORMATION = 128
WINDOW_TARGET_IDS = "WindowTargetIds"
INSTANCE_IDS = "InstanceIds"
# Check mode stands in for the id of a target it would register with this prefix plus the name.
PLACEHOLDER_PREFIX = "(new target) "

_NAME_RE = re.compile(r"^[a-zA-Z0-9_\-.]{3,128}$")
_WINDOW_ID_RE = re.compile(r"^mw-[0-9a-f]{17}$")
MAX_CONCURRENCY_RE = re.compile(r"^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$")
MAX_ERRORS_RE = re.compile(r"^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$")
_DOCUMENT_VERSION_RE = re.compile(r"^([$]LATEST|[$]DEFAULT|[1-9][0-9]*)$")
_TARGET_KEY_RE = re.compile(r"^[\w\s.:/=\-@]*$|^resource-groups:ResourceTypeFilters$|^resource-groups:Name$", re.UNICODE)


class MaintenanceWindowValidationError(AnsibleSSMError):
    """The input breaks a maintenance window rule; raised before any API call is made."""


class MaintenanceWindowConflictError(AnsibleSSMError):
    """What AWS holds makes the request ambiguous (several windows, targets or tasks share a name)."""


# ---------------------------------------------------------------------------------------------
# API calls. Each one is a single SSM operation; none takes a module.
# ---------------------------------------------------------------------------------------------


@SSMErrorHandler.list_error_handler("describe maintenance windows", default_value=[])
@ssm_retry()
def describe_maintenance_windows(client, filters=None):
    kwargs = {"PaginationConfig": {"PageSize": PAGE_SIZE}}
    if filters:
        kwargs["Filters"] = filters
    paginator = client.get_paginator("describe_maintenance_windows")
    return paginator.paginate(**kwargs).build_full_result().get("WindowIdentities", [])


@SSMErrorHandler.list_error_handler("get maintenance window", default_value=None)
@ssm_retry()
def get_maintenance_window(client, window_id):
    result = client.get_maintenance_window(WindowId=window_id)
    result.pop("ResponseMetadata", None)
    return result


@SSMErrorHandler.common_error_handler("create maintenance window")
@ssm_retry()
def create_maintenance_window(client, request):
    return client.create_maintenance_window(**request)["WindowId"]


@SSMErrorHandler.common_error_handler("update maintenance window")
@ssm_retry()
def update_maintenance_window(client, request):
    return client.update_maintenance_window(**request)


@SSMErrorHandler.deletion_error_handler("delete maintenance window")
@ssm_retry()
def delete_maintenance_window(client, window_id):
    client.delete_maintenance_window(WindowId=window_id)
    return True


@SSMErrorHandler.list_error_handler("describe maintenance window targets", default_value=[])
@ssm_retry()
def describe_window_targets(client, window_id, filters=None):
    kwargs = {"WindowId": window_id, "PaginationConfig": {"PageSize": PAGE_SIZE}}
    if filters:
        kwargs["Filters"] = filters
    paginator = client.get_paginator("describe_maintenance_window_targets")
    return paginator.paginate(**kwargs).build_full_result().get("Targets", [])


@SSMErrorHandler.common_error_handler("register target with maintenance window")
@ssm_retry()
def register_target(client, request):
    return client.register_target_with_maintenance_window(**request)["WindowTargetId"]


@SSMErrorHandler.common_error_handler("update maintenance window target")
@ssm_retry()
def update_target(client, request):
    return client.update_maintenance_window_target(**request)


@SSMErrorHandler.deletion_error_handler("deregister target from maintenance window")
@ssm_retry()
def deregister_target(client, window_id, target_id, safe=True):
    client.deregister_target_from_maintenance_window(WindowId=window_id, WindowTargetId=target_id, Safe=safe)
    return True


@SSMErrorHandler.list_error_handler("describe maintenance window tasks", default_value=[])
@ssm_retry()
def describe_window_tasks(client, window_id, filters=None):
    kwargs = {"WindowId": window_id, "PaginationConfig": {"PageSize": PAGE_SIZE}}
    if filters:
        kwargs["Filters"] = filters
    paginator = client.get_paginator("describe_maintenance_window_tasks")
    return paginator.paginate(**kwargs).build_full_result().get("Tasks", [])


@SSMErrorHandler.list_error_handler("get maintenance window task", default_value=None)
@ssm_retry()
def get_window_task(client, window_id, task_id):
    result = client.get_maintenance_window_task(WindowId=window_id, WindowTaskId=task_id)
    result.pop("ResponseMetadata", None)
    return result


@SSMErrorHandler.common_error_handler("register task with maintenance window")
@ssm_retry()
def register_task(client, request):
    return client.register_task_with_maintenance_window(**request)["WindowTaskId"]


@SSMErrorHandler.common_error_handler("update maintenance window task")
@ssm_retry()
def update_task(client, request):
    return client.update_maintenance_window_task(**request)


@SSMErrorHandler.deletion_error_handler("deregister task from maintenance window")
@ssm_retry()
def deregister_task(client, window_id, task_id):
    client.deregister_task_from_maintenance_window(WindowId=window_id, WindowTaskId=task_id)
    return True


@SSMErrorHandler.list_error_handler("describe maintenance window executions", default_value=[])
@ssm_retry()
def describe_executions(client, window_id, filters=None):
    kwargs = {"WindowId": window_id, "PaginationConfig": {"PageSize": PAGE_SIZE}}
    if filters:
        kwargs["Filters"] = filters
    paginator = client.get_paginator("describe_maintenance_window_executions")
    return paginator.paginate(**kwargs).build_full_result().get("WindowExecutions", [])


@SSMErrorHandler.list_error_handler("describe maintenance window execution tasks", default_value=[])
@ssm_retry()
def describe_execution_tasks(client, execution_id):
    paginator = client.get_paginator("describe_maintenance_window_execution_tasks")
    result = paginator.paginate(WindowExecutionId=execution_id, PaginationConfig={"PageSize": PAGE_SIZE})
    return result.build_full_result().get("WindowExecutionTaskIdentities", [])


@SSMErrorHandler.list_error_handler("describe maintenance window execution task invocations", default_value=[])
@ssm_retry()
def describe_execution_task_invocations(client, execution_id, task_execution_id):
    paginator = client.get_paginator("describe_maintenance_window_execution_task_invocations")
    result = paginator.paginate(
        WindowExecutionId=execution_id, TaskId=task_execution_id, PaginationConfig={"PageSize": PAGE_SIZE}
    )
    return result.build_full_result().get("WindowExecutionTaskInvocationIdentities", [])


@SSMErrorHandler.list_error_handler("describe maintenance window schedule", default_value=[])
@ssm_retry()
def describe_schedule(client, window_id, count):
    """The next ``count`` scheduled executions of the window (one page, no more)."""
    result = client.describe_maintenance_window_schedule(WindowId=window_id, MaxResults=count)
    return result.get("ScheduledWindowExecutions", [])[:count]


# ---------------------------------------------------------------------------------------------
# Schedule expressions: cron(...), rate(...) and at(...), as AWS accepts them for windows.
# ---------------------------------------------------------------------------------------------

_MONTHS = {name: number for number, name in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1)}
_DAYS = {name: number for number, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), start=1)}
# field name, lowest, highest, names, extra characters allowed
_CRON_FIELDS = (
    ("minutes", 0, 59, None),
    ("hours", 0, 23, None),
    ("day-of-month", 1, 31, None),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 1, 7, _DAYS),
    ("year", 1970, 2199, None),
)
_SECONDS_FIELD = ("seconds", 0, 59, None)
_RATE_RE = re.compile(r"^rate\(\s*(\d+)\s+([a-z]+)\s*\)$")
_RATE_UNITS = ("minute", "hour", "day")
_AT_RE = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_CRON_RE = re.compile(r"^cron\((.*)\)$")
CRON_HELP = (
    "a window's cron expression has six fields (minutes hours day-of-month month day-of-week year), "
    "or seven with seconds first, for example cron(0 2 ? * SUN *)"
)


def _cron_value(text, field):
    name, low, high, names = field
    upper = text.upper()
    if names and upper in names:
        return names[upper]
    if not text.isdigit():
        raise ValueError(f"{text!r} is not a valid {name} value")
    value = int(text)
    if not low <= value <= high:
        raise ValueError(f"{name} value {value} is outside {low}-{high}")
    return value


def _check_cron_item(item, field):
    """One comma-separated item of a cron field: *, a value, a range, with an optional /step."""
    name = field[0]
    base, slash, step = item.partition("/")
    if slash:
        if not step.isdigit() or int(step) == 0:
            raise ValueError(f"the {name} increment {step!r} is not a positive number")
    if base == "*":
        return
    start, dash, end = base.partition("-")
    if dash:
        _cron_value(start, field)
        _cron_value(end, field)
    else:
        _cron_value(base, field)


def _check_day_of_month(text):
    if text in ("?", "L", "LW"):
        return
    for item in text.split(","):
        if item.endswith("W") and item[:-1].isdigit():
            _cron_value(item[:-1], _CRON_FIELDS[2])
        elif re.match(r"^L-\d+$", item):
            if not 1 <= int(item[2:]) <= 30:
                raise ValueError(f"day-of-month offset {item!r} must be L-1 to L-30")
        else:
            _check_cron_item(item, _CRON_FIELDS[2])


def _check_day_of_week(text):
    if text in ("?", "L"):
        return
    for item in text.split(","):
        day, hash_mark, nth = item.partition("#")
        if hash_mark:
            _cron_value(day, _CRON_FIELDS[4])
            if not nth.isdigit() or not 1 <= int(nth) <= 5:
                raise ValueError(f"the weekday number in {item!r} must be 1 to 5")
        elif item.upper().endswith("L") and len(item) > 1:
            _cron_value(item[:-1], _CRON_FIELDS[4])
        else:
            _check_cron_item(item, _CRON_FIELDS[4])


def _check_cron(body):
    fields = body.split()
    if len(fields) == 7:
        _check_cron_item_list(fields[0], _SECONDS_FIELD)
        fields = fields[1:]
    if len(fields) != 6:
        raise ValueError(f"it has {len(body.split())} fields; {CRON_HELP}")
    minutes, hours, day_of_month, month, day_of_week, year = fields
    _check_cron_item_list(minutes, _CRON_FIELDS[0])
    _check_cron_item_list(hours, _CRON_FIELDS[1])
    _check_day_of_month(day_of_month)
    _check_cron_item_list(month, _CRON_FIELDS[3])
    _check_day_of_week(day_of_week)
    _check_cron_item_list(year, _CRON_FIELDS[5])
    if (day_of_month == "?") == (day_of_week == "?"):
        raise ValueError("exactly one of day-of-month and day-of-week must be '?'")


def _check_cron_item_list(text, field):
    for item in text.split(","):
        _check_cron_item(item, field)


def schedule_kind(expression):
    """'cron', 'rate' or 'at'; raises MaintenanceWindowValidationError for anything else."""
    text = (expression or "").strip()
    try:
        match = _CRON_RE.match(text)
        if match:
            _check_cron(match.group(1).strip())
            return "cron"
        match = _RATE_RE.match(text)
        if match:
            value, unit = int(match.group(1)), match.group(2)
            if value < 1:
                raise ValueError("the rate must be a positive number")
            singular = unit.rstrip("s")
            if singular not in _RATE_UNITS:
                raise ValueError(f"the unit {unit!r} is not one of minute(s), hour(s) or day(s)")
            if (value == 1) != (unit == singular):
                raise ValueError(f"use rate(1 {singular}) for one unit and rate(N {singular}s) for more")
            return "rate"
        match = _AT_RE.match(text)
        if match:
            datetime.datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S")
            return "at"
    except ValueError as e:
        raise MaintenanceWindowValidationError(f"Invalid schedule {expression!r}: {e}.") from None
    raise MaintenanceWindowValidationError(
        f"Invalid schedule {expression!r}: use cron(...), rate(N unit) or at(yyyy-mm-ddThh:mm:ss); {CRON_HELP}."
    )


def validate_timezone(name):
    if not name or zoneinfo is None:
        return
    try:
        zoneinfo.ZoneInfo(name)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        if not zoneinfo.available_timezones():
            return  # no time zone database on this controller: AWS will check it
        raise MaintenanceWindowValidationError(
            f"Invalid schedule_timezone {name!r}: use an IANA time zone name such as UTC, Europe/Berlin or America/Chicago."
        ) from None


def parse_date(value, option):
    """An ISO 8601 date and time as an aware datetime (UTC when it has no offset)."""
    text = str(value).strip()
    try:
        parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise MaintenanceWindowValidationError(
            f"Invalid {option} {value!r}: use an ISO 8601 date and time such as 2026-01-01T00:00:00Z."
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed


# ---------------------------------------------------------------------------------------------
# Input: validation and translation of the module options to the API's form. No AWS calls.
# ---------------------------------------------------------------------------------------------


def _check_name(name, what):
    if not name or not _NAME_RE.match(name):
        raise MaintenanceWindowValidationError(
            f"Invalid {what} name {name!r}: use 3 to 128 letters, digits, '_', '-' and '.'."
        )


def _check_length(value, limit, what):
    if value is not None and value != "" and len(value) > limit:
        raise MaintenanceWindowValidationError(f"The {what} has {len(value)} characters; AWS allows {limit}.")


def validate_window_id(window_id):
    if window_id and not _WINDOW_ID_RE.match(window_id):
        raise MaintenanceWindowValidationError(f"Invalid window_id {window_id!r}: a window id looks like mw-0123456789abcdef0.")


def desired_window(params):
    """The window options the task sets, in the API's terms (None: leave alone; '' / 0: remove)."""
    if params.get("name") is not None:
        _check_name(params["name"], "maintenance window")
    _check_length(params.get("description"), MAX_DESCRIPTION, "description")
    desired = {
        "Name": params.get("name"),
        "Description": params.get("description"),
        "Schedule": params.get("schedule"),
        "ScheduleTimezone": params.get("schedule_timezone"),
        "ScheduleOffset": params.get("schedule_offset"),
        "Duration": params.get("duration"),
        "Cutoff": params.get("cutoff"),
        "AllowUnassociatedTargets": params.get("allow_unassociated_targets"),
        "Enabled": params.get("enabled"),
        "StartDate": params.get("start_date"),
        "EndDate": params.get("end_date"),
    }
    if desired["Schedule"] is not None:
        schedule_kind(desired["Schedule"])
    validate_timezone(desired["ScheduleTimezone"])
    if desired["Duration"] is not None and not 1 <= desired["Duration"] <= 24:
        raise MaintenanceWindowValidationError(f"Invalid duration {desired['Duration']}: a window lasts 1 to 24 hours.")
    if desired["Cutoff"] is not None and not 0 <= desired["Cutoff"] <= 23:
        raise MaintenanceWindowValidationError(f"Invalid cutoff {desired['Cutoff']}: use 0 to 23 hours.")
    if desired["ScheduleOffset"] is not None and not 0 <= desired["ScheduleOffset"] <= 6:
        raise MaintenanceWindowValidationError(
            f"Invalid schedule_offset {desired['ScheduleOffset']}: use 1 to 6 days (0 removes the offset)."
        )
    for key, option in (("StartDate", "start_date"), ("EndDate", "end_date")):
        if desired[key]:
            parse_date(desired[key], option)
    check_window_rules(desired, None)
    return desired


def check_window_rules(desired, current):
    """The rules that tie window options together, on the values the window will have."""
    merged = dict(current or {})
    merged.update({key: value for key, value in desired.items() if value is not None})
    duration, cutoff = merged.get("Duration"), merged.get("Cutoff")
    if duration is not None and cutoff is not None and cutoff >= duration:
        raise MaintenanceWindowValidationError(
            f"The cutoff ({cutoff} hours) must be smaller than the duration ({duration} hours): "
            "no task could start in the window otherwise."
        )
    offset = merged.get("ScheduleOffset")
    if offset and merged.get("Schedule") and schedule_kind(merged["Schedule"]) != "cron":
        raise MaintenanceWindowValidationError("schedule_offset applies only to a cron schedule.")
    start, end = merged.get("StartDate"), merged.get("EndDate")
    if start and end and parse_date(end, "end_date") <= parse_date(start, "start_date"):
        raise MaintenanceWindowValidationError(f"The end_date {end} must be later than the start_date {start}.")


def _target_entries(targets, what):
    """Module-style key/values entries as the API's Targets list."""
    entries = []
    for item in targets or []:
        key = item.get("key")
        values = [str(value) for value in item.get("values") or []]
        if not key or not _TARGET_KEY_RE.match(key):
            raise MaintenanceWindowValidationError(f"{what}: {key!r} is not a valid target key.")
        if len(values) > MAX_TARGET_VALUES:
            raise MaintenanceWindowValidationError(f"{what}: a target takes at most {MAX_TARGET_VALUES} values, {key} has {len(values)}.")
        entries.append({"Key": key, "Values": values})
    return entries


def _tag_entries(tags):
    entries = []
    for key, value in (tags or {}).items():
        values = value if isinstance(value, (list, tuple)) else [value]
        entries.append({"key": f"tag:{key}", "values": [str(item) for item in values]})
    return entries


def desired_targets(targets):
    """The window targets the task lists, in the API's terms, keyed by name (in the given order)."""
    desired = {}
    for target in targets or []:
        name = target["name"]
        _check_name(name, "target")
        if name in desired:
            raise MaintenanceWindowValidationError(f"Two targets are named {name!r}: target names must be unique.")
        what = f"Target {name}"
        entries = list(target.get("targets") or [])
        if target.get("instance_ids"):
            entries.append({"key": INSTANCE_IDS, "values": target["instance_ids"]})
        entries.extend(_tag_entries(target.get("tags")))
        api_targets = _target_entries(entries, what)
        if not api_targets:
            raise MaintenanceWindowValidationError(f"{what} selects nothing: set instance_ids, tags or targets.")
        if len(api_targets) > MAX_TARGET_ENTRIES:
            raise MaintenanceWindowValidationError(f"{what} has {len(api_targets)} key/values entries; AWS allows {MAX_TARGET_ENTRIES}.")
        _check_length(target.get("description"), MAX_DESCRIPTION, f"description of target {name}")
        _check_length(target.get("owner_information"), MAX_OWNER_INFORMATION, f"owner_information of target {name}")
        item = {
            "Name": name,
            "ResourceType": target.get("resource_type") or "INSTANCE",
            "Targets": api_targets,
        }
        for key, option in (("Description", "description"), ("OwnerInformation", "owner_information")):
            if target.get(option):
                item[key] = target[option]
        desired[name] = item
    return desired


def _check_rate_control(value, pattern, option, what):
    if value is not None and not pattern.match(str(value)):
        if option == "max_concurrency":
            hint = "a number of targets (1 or more) or a percentage (1% to 100%)"
        else:
            hint = "a number of errors (0 or more) or a percentage (0% to 100%)"
        raise MaintenanceWindowValidationError(f"{what}: invalid {option} {value!r}; use {hint}, for example 10 or 25%.")


def _parameter_map(parameters, what):
    """Document parameters as AWS's {name: [values]}; a single value becomes a one-item list."""
    if parameters is None:
        return None
    result = {}
    for key, value in parameters.items():
        if isinstance(value, (list, tuple)):
            result[str(key)] = [_parameter_text(item) for item in value]
        elif value is None:
            raise MaintenanceWindowValidationError(f"{what}: document parameter {key!r} has no value.")
        else:
            result[str(key)] = [_parameter_text(value)]
    return result


def _parameter_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _run_command_parameters(task, what):
    options = task.get("run_command") or {}
    result = {}
    simple = (
        ("Comment", "comment"),
        ("DocumentHash", "document_hash"),
        ("DocumentHashType", "document_hash_type"),
        ("OutputS3BucketName", "output_s3_bucket_name"),
        ("OutputS3KeyPrefix", "output_s3_key_prefix"),
        ("ServiceRoleArn", "service_role_arn"),
        ("TimeoutSeconds", "timeout_seconds"),
    )
    for key, option in simple:
        if options.get(option) not in (None, ""):
            result[key] = options[option]
    if result.get("TimeoutSeconds") is not None and not 30 <= result["TimeoutSeconds"] <= 2592000:
        raise MaintenanceWindowValidationError(f"{what}: timeout_seconds must be 30 to 2592000.")
    if result.get("Comment") and len(result["Comment"]) > 100:
        raise MaintenanceWindowValidationError(f"{what}: the comment has {len(result['Comment'])} characters; AWS allows 100.")
    notification = options.get("notification_config")
    if notification:
        config = {}
        for key, option in (("NotificationArn", "notification_arn"), ("NotificationEvents", "notification_events"),
                            ("NotificationType", "notification_type")):
            if notification.get(option):
                config[key] = notification[option]
        if config:
            result["NotificationConfig"] = config
    cloudwatch = options.get("cloudwatch_output_config")
    if cloudwatch:
        config = {}
        if cloudwatch.get("cloudwatch_log_group_name"):
            config["CloudWatchLogGroupName"] = cloudwatch["cloudwatch_log_group_name"]
        if cloudwatch.get("cloudwatch_output_enabled") is not None:
            config["CloudWatchOutputEnabled"] = cloudwatch["cloudwatch_output_enabled"]
        if config:
            result["CloudWatchOutputConfig"] = config
    if task.get("document_version"):
        result["DocumentVersion"] = task["document_version"]
    parameters = _parameter_map(task.get("parameters"), what)
    if parameters:
        result["Parameters"] = parameters
    return result


def _invocation_parameters(task, what):
    """TaskInvocationParameters for the task's type; raises when options of another type are set."""
    task_type = task["task_type"]
    misplaced = []
    if task_type not in ("RUN_COMMAND", "AUTOMATION"):
        misplaced += [option for option in ("parameters", "document_version") if task.get(option) is not None]
    for option, owner in (("run_command", "RUN_COMMAND"), ("lambda", "LAMBDA"), ("step_functions", "STEP_FUNCTIONS")):
        if task.get(option) and task_type != owner:
            misplaced.append(option)
    if misplaced:
        raise MaintenanceWindowValidationError(
            f"{what}: {', '.join(misplaced)} {'does' if len(misplaced) == 1 else 'do'} not apply to {task_type} tasks."
        )
    if task.get("document_version") and not _DOCUMENT_VERSION_RE.match(task["document_version"]):
        raise MaintenanceWindowValidationError(
            f"{what}: invalid document_version {task['document_version']!r}; use $LATEST, $DEFAULT or a version number."
        )
    if task_type == "RUN_COMMAND":
        parameters = _run_command_parameters(task, what)
        return {"RunCommand": parameters} if parameters else None
    if task_type == "AUTOMATION":
        parameters = {}
        if task.get("document_version"):
            parameters["DocumentVersion"] = task["document_version"]
        mapped = _parameter_map(task.get("parameters"), what)
        if mapped:
            parameters["Parameters"] = mapped
        return {"Automation": parameters} if parameters else None
    if task_type == "LAMBDA":
        options = task.get("lambda") or {}
        parameters = {}
        for key, option in (("ClientContext", "client_context"), ("Qualifier", "qualifier"), ("Payload", "payload")):
            if options.get(option):
                parameters[key] = options[option]
        return {"Lambda": parameters} if parameters else None
    options = task.get("step_functions") or {}
    parameters = {}
    for key, option in (("Input", "input"), ("Name", "name")):
        if options.get(option):
            parameters[key] = options[option]
    return {"StepFunctions": parameters} if parameters else None


def desired_tasks(tasks, target_names=None, allow_unassociated_targets=None):
    """The tasks the task lists, in the API's terms, keyed by name.

    ``target_names`` are the names a task may reference (None: not known yet, checked later).
    Each task keeps its window target references as names in ``WindowTargetNames`` until
    resolve_task_targets() turns them into WindowTargetIds.
    """
    desired = {}
    for task in tasks or []:
        name = task["name"]
        _check_name(name, "task")
        what = f"Task {name}"
        if name in desired:
            raise MaintenanceWindowValidationError(f"Two tasks are named {name!r}: task names must be unique.")
        task_type = task.get("task_type") or "RUN_COMMAND"
        task = dict(task, task_type=task_type)
        window_targets = list(task.get("window_targets") or [])
        if target_names is not None:
            unknown = [item for item in window_targets if item not in target_names]
            if unknown:
                known = ", ".join(sorted(target_names)) or "none"
                raise MaintenanceWindowValidationError(
                    f"{what} references the unknown target {unknown[0]!r}; the window's targets are: {known}."
                )
        direct = _target_entries(task.get("targets"), what)
        if any(entry["Key"] == WINDOW_TARGET_IDS for entry in direct):
            raise MaintenanceWindowValidationError(f"{what}: name window targets in window_targets, not as WindowTargetIds.")
        if direct and allow_unassociated_targets is False:
            raise MaintenanceWindowValidationError(
                f"{what} targets nodes that are not window targets; that needs allow_unassociated_targets: true."
            )
        if len(direct) + (1 if window_targets else 0) > MAX_TARGET_ENTRIES:
            raise MaintenanceWindowValidationError(f"{what} has more than {MAX_TARGET_ENTRIES} target entries.")
        has_targets = bool(window_targets or direct)
        if task_type == "RUN_COMMAND" and not has_targets:
            raise MaintenanceWindowValidationError(f"{what}: a RUN_COMMAND task needs window_targets or targets.")
        _check_rate_control(task.get("max_concurrency"), MAX_CONCURRENCY_RE, "max_concurrency", what)
        _check_rate_control(task.get("max_errors"), MAX_ERRORS_RE, "max_errors", what)
        if has_targets and (task.get("max_concurrency") is None or task.get("max_errors") is None):
            raise MaintenanceWindowValidationError(f"{what}: a task with targets needs max_concurrency and max_errors.")
        if not has_targets and (task.get("max_concurrency") is not None or task.get("max_errors") is not None):
            raise MaintenanceWindowValidationError(
                f"{what} has no targets: AWS takes no max_concurrency or max_errors for a targetless task."
            )
        if task.get("priority") is not None and task["priority"] < 0:
            raise MaintenanceWindowValidationError(f"{what}: priority must be 0 or more.")
        _check_length(task.get("description"), MAX_DESCRIPTION, f"description of task {name}")
        item = {
            "Name": name,
            "TaskType": task_type,
            "TaskArn": task["document"],
            "Priority": DEFAULT_PRIORITY if task.get("priority") is None else task["priority"],
            "CutoffBehavior": task.get("cutoff_behavior") or DEFAULT_CUTOFF_BEHAVIOR,
            "WindowTargetNames": window_targets,
            "DirectTargets": direct,
        }
        if has_targets:
            item["MaxConcurrency"] = str(task["max_concurrency"])
            item["MaxErrors"] = str(task["max_errors"])
        if task.get("description"):
            item["Description"] = task["description"]
        if task.get("service_role_arn"):
            item["ServiceRoleArn"] = task["service_role_arn"]
        logging_info = task.get("logging_info")
        if logging_info:
            item["LoggingInfo"] = {"S3BucketName": logging_info["s3_bucket_name"], "S3Region": logging_info["s3_region"]}
            if logging_info.get("s3_key_prefix"):
                item["LoggingInfo"]["S3KeyPrefix"] = logging_info["s3_key_prefix"]
        alarms = task.get("alarm_configuration")
        if alarms:
            item["AlarmConfiguration"] = {
                "Alarms": [{"Name": alarm} for alarm in alarms["alarms"]],
                "IgnorePollAlarmFailure": bool(alarms.get("ignore_poll_alarm_failure")),
            }
        invocation = _invocation_parameters(task, what)
        if invocation:
            item["TaskInvocationParameters"] = invocation
        desired[name] = item
    return desired


def resolve_task_targets(task, target_ids):
    """The task's Targets list, with window target names replaced by ids (``target_ids``: name -> id)."""
    targets = []
    if task["WindowTargetNames"]:
        missing = [name for name in task["WindowTargetNames"] if name not in target_ids]
        if missing:
            raise MaintenanceWindowValidationError(
                f"Task {task['Name']} references the unknown target {missing[0]!r}; the window's targets are: "
                f"{', '.join(sorted(target_ids)) or 'none'}."
            )
        targets.append({"Key": WINDOW_TARGET_IDS, "Values": [target_ids[name] for name in task["WindowTargetNames"]]})
    targets.extend(copy.deepcopy(task["DirectTargets"]))
    return targets


# ---------------------------------------------------------------------------------------------
# Current state.
# ---------------------------------------------------------------------------------------------


def find_windows_by_name(client, name):
    """Every window with exactly this name (AWS does not keep names unique)."""
    found = describe_maintenance_windows(client, [{"Key": "Name", "Values": [name]}])
    return [item for item in found if item.get("Name") == name]


def locate_window(client, name=None, window_id=None):
    """The window id the task means, or None; raises when several windows share the name."""
    if window_id:
        return window_id if get_maintenance_window(client, window_id) is not None else None
    found = find_windows_by_name(client, name)
    if len(found) > 1:
        ids = ", ".join(sorted(item["WindowId"] for item in found))
        raise MaintenanceWindowConflictError(
            f"{len(found)} maintenance windows are named {name!r} ({ids}); set window_id to choose one."
        )
    return found[0]["WindowId"] if found else None


def read_window(client, window_id, with_tags=True):
    """The window, its targets, its tasks (in full) and its tags, or None when it does not exist."""
    window = get_maintenance_window(client, window_id)
    if window is None:
        return None
    tasks = []
    for task in describe_window_tasks(client, window_id):
        detail = get_window_task(client, window_id, task["WindowTaskId"])
        if detail is not None:
            tasks.append(detail)
    return {
        "Window": window,
        "Targets": describe_window_targets(client, window_id),
        "Tasks": tasks,
        "Tags": list_tags(client, RESOURCE_TYPE, window_id) if with_tags else None,
    }


def _by_name(items):
    """{name: [items]} for named items; unnamed items are left out."""
    result = {}
    for item in items:
        if item.get("Name"):
            result.setdefault(item["Name"], []).append(item)
    return result


def _one(groups, name, what):
    """The current item with this name, None when there is none; raises when there are several."""
    found = groups.get(name) or []
    if len(found) > 1:
        raise MaintenanceWindowConflictError(
            f"The window has {len(found)} {what}s named {name!r}; remove the extra ones (or rename them) before "
            f"managing {what}s by name."
        )
    return found[0] if found else None


# ---------------------------------------------------------------------------------------------
# Comparison and plans.
# ---------------------------------------------------------------------------------------------

_WINDOW_REQUIRED = ("Name", "Schedule", "Duration", "Cutoff", "AllowUnassociatedTargets")
_WINDOW_OPTIONAL = ("Description", "ScheduleTimezone", "ScheduleOffset", "StartDate", "EndDate", "Enabled")
_CLEARABLE = {"Description": "", "ScheduleTimezone": "", "ScheduleOffset": 0, "StartDate": "", "EndDate": ""}


def _same_date(wanted, current):
    if not wanted or not current:
        return wanted == current
    try:
        return parse_date(wanted, "date") == parse_date(current, "date")
    except MaintenanceWindowValidationError:
        return wanted == current


def window_differences(desired, current):
    """The window keys whose desired value differs from the current one (only the keys set)."""
    changed = []
    for key, wanted in desired.items():
        if wanted is None:
            continue
        have = current.get(key)
        if key in _CLEARABLE and wanted == _CLEARABLE[key]:
            if have not in (None, "", 0):
                changed.append(key)
        elif key in ("StartDate", "EndDate"):
            if not _same_date(wanted, have):
                changed.append(key)
        elif wanted != have:
            changed.append(key)
    return changed


def create_window_request(desired, tags):
    missing = [option for option, key in (("name", "Name"), ("schedule", "Schedule"), ("duration", "Duration"),
                                          ("cutoff", "Cutoff")) if desired.get(key) is None]
    if missing:
        raise MaintenanceWindowValidationError(f"To create a maintenance window, set {', '.join(missing)}.")
    request = {key: desired[key] for key in _WINDOW_REQUIRED if desired.get(key) is not None}
    request.setdefault("AllowUnassociatedTargets", False)
    for key in _WINDOW_OPTIONAL:
        if key == "Enabled":
            continue
        if desired.get(key) not in (None, "", 0):
            request[key] = desired[key]
    if tags:
        request["Tags"] = ansible_dict_to_boto3_tag_list(tags)
    return request


def update_window_request(desired, current, changed):
    """UpdateMaintenanceWindow with the changed keys; Replace (all fields) when one is removed."""
    request = {"WindowId": current["WindowId"]}
    clears = [key for key in changed if key in _CLEARABLE and desired[key] == _CLEARABLE[key]]
    if not clears:
        request.update({key: desired[key] for key in changed})
        return request
    request["Replace"] = True
    for key in _WINDOW_REQUIRED + _WINDOW_OPTIONAL:
        value = desired.get(key) if desired.get(key) is not None else current.get(key)
        if key in clears or value is None or (key in _CLEARABLE and value == _CLEARABLE[key]):
            continue
        request[key] = value
    return request


def predict_window(desired, current, window_id=None):
    predicted = dict(current or {})
    for key, value in desired.items():
        if value is None:
            continue
        if key in _CLEARABLE and value == _CLEARABLE[key]:
            predicted.pop(key, None)
        else:
            predicted[key] = value
    if current is None:
        predicted.setdefault("AllowUnassociatedTargets", False)
        predicted.setdefault("Enabled", True)
        predicted["WindowId"] = window_id
    return predicted


def _normal_targets(targets):
    result = []
    for entry in targets or []:
        key = entry.get("Key", "")
        lowered = key.lower()
        if lowered == INSTANCE_IDS.lower():
            key = INSTANCE_IDS
        elif lowered == WINDOW_TARGET_IDS.lower():
            key = WINDOW_TARGET_IDS
        result.append((key, tuple(sorted(entry.get("Values") or []))))
    return sorted(result)


def target_differences(desired, current):
    changed = []
    if _normal_targets(desired["Targets"]) != _normal_targets(current.get("Targets")):
        changed.append("Targets")
    for key in ("Description", "OwnerInformation"):
        if (desired.get(key) or None) != (current.get(key) or None):
            changed.append(key)
    return changed


def plan_targets(desired, current_targets, purge):
    """What to do with the window targets.

    Returns a dict with ``register`` (desired targets), ``update`` ((desired, current, changed keys)),
    ``reregister`` ((desired, current): a resource type change, which AWS cannot update),
    ``keep`` (current targets that stay as they are) and ``deregister`` (current targets to remove).
    ``desired`` None leaves the targets alone.
    """
    current_by_name = _by_name(current_targets)
    plan = {"register": [], "update": [], "reregister": [], "keep": [], "deregister": []}
    if desired is None:
        plan["keep"] = list(current_targets)
        return plan
    for name, wanted in desired.items():
        have = _one(current_by_name, name, "target")
        if have is None:
            plan["register"].append(wanted)
        elif have.get("ResourceType") != wanted["ResourceType"]:
            plan["reregister"].append((wanted, have))
        else:
            changed = target_differences(wanted, have)
            if changed:
                plan["update"].append((wanted, have, changed))
            else:
                plan["keep"].append(have)
    for have in current_targets:
        if have.get("Name") in desired:
            continue
        (plan["deregister"] if purge else plan["keep"]).append(have)
    return plan


def register_target_request(window_id, wanted):
    request = {"WindowId": window_id}
    request.update(copy.deepcopy(wanted))
    return request


def update_target_request(window_id, wanted, have, changed):
    request = {"WindowId": window_id, "WindowTargetId": have["WindowTargetId"]}
    clears = [key for key in ("Description", "OwnerInformation") if key in changed and not wanted.get(key)]
    if clears:
        request["Replace"] = True
        request["Name"] = wanted["Name"]
        request["Targets"] = copy.deepcopy(wanted["Targets"])
        for key in ("Description", "OwnerInformation"):
            if wanted.get(key):
                request[key] = wanted[key]
        return request
    for key in changed:
        request[key] = copy.deepcopy(wanted[key])
    return request


def _normal_invocation(parameters):
    """TaskInvocationParameters without empty members (AWS may echo defaults back as empty)."""
    def clean(value):
        if isinstance(value, dict):
            cleaned = {key: clean(item) for key, item in value.items()}
            return {key: item for key, item in cleaned.items() if item not in (None, "", [], {})}
        if isinstance(value, list):
            return [clean(item) for item in value]
        if isinstance(value, (bytes, bytearray)):
            return bytes(value).decode("utf-8", "replace")
        return value

    cleaned = clean(parameters or {})
    run_command = cleaned.get("RunCommand")
    if run_command:
        output = run_command.get("CloudWatchOutputConfig")
        if output == {"CloudWatchOutputEnabled": False}:
            run_command.pop("CloudWatchOutputConfig")
        events = (run_command.get("NotificationConfig") or {}).get("NotificationEvents")
        if events:
            run_command["NotificationConfig"]["NotificationEvents"] = sorted(events)
    return {key: value for key, value in cleaned.items() if value}


def _normal_alarms(configuration):
    if not configuration:
        return None
    return {
        "Alarms": sorted(alarm["Name"] for alarm in configuration.get("Alarms") or []),
        "IgnorePollAlarmFailure": bool(configuration.get("IgnorePollAlarmFailure")),
    }


def task_differences(wanted, have):
    """The task keys that differ; ``wanted`` has its Targets resolved to ids already."""
    changed = []
    for key in ("TaskArn", "Priority"):
        if wanted.get(key) != have.get(key):
            changed.append(key)
    if (wanted.get("CutoffBehavior") or DEFAULT_CUTOFF_BEHAVIOR) != (have.get("CutoffBehavior") or DEFAULT_CUTOFF_BEHAVIOR):
        changed.append("CutoffBehavior")
    if _normal_targets(wanted.get("Targets")) != _normal_targets(have.get("Targets")):
        changed.append("Targets")
    if wanted.get("Targets"):
        # AWS inserts a placeholder 1 for a targetless task: compare only with targets
        for key in ("MaxConcurrency", "MaxErrors"):
            if wanted.get(key) != have.get(key):
                changed.append(key)
    if wanted.get("ServiceRoleArn") and wanted["ServiceRoleArn"] != have.get("ServiceRoleArn"):
        changed.append("ServiceRoleArn")
    if (wanted.get("Description") or None) != (have.get("Description") or None):
        changed.append("Description")
    if (wanted.get("LoggingInfo") or None) != (have.get("LoggingInfo") or None):
        changed.append("LoggingInfo")
    if _normal_alarms(wanted.get("AlarmConfiguration")) != _normal_alarms(have.get("AlarmConfiguration")):
        changed.append("AlarmConfiguration")
    if _normal_invocation(wanted.get("TaskInvocationParameters")) != _normal_invocation(have.get("TaskInvocationParameters")):
        changed.append("TaskInvocationParameters")
    return changed


def plan_tasks(desired, current_tasks, purge):
    """What to do with the tasks: ``register``, ``update`` ((wanted, have)), ``reregister``
    ((wanted, have): a task type change, which AWS cannot update), ``keep``, ``deregister``.

    The comparison of each task happens later, once the target ids are known (compare_task).
    """
    current_by_name = _by_name(current_tasks)
    plan = {"register": [], "update": [], "reregister": [], "keep": [], "deregister": []}
    if desired is None:
        plan["keep"] = list(current_tasks)
        return plan
    for name, wanted in desired.items():
        have = _one(current_by_name, name, "task")
        if have is None:
            plan["register"].append(wanted)
        elif have.get("TaskType") != wanted["TaskType"]:
            plan["reregister"].append((wanted, have))
        else:
            plan["update"].append((wanted, have))
    for have in current_tasks:
        if have.get("Name") in desired:
            continue
        (plan["deregister"] if purge else plan["keep"]).append(have)
    return plan


def api_task(wanted, target_ids):
    """The desired task as AWS will hold it: Targets resolved, module-only keys dropped."""
    task = {key: copy.deepcopy(value) for key, value in wanted.items() if key not in ("WindowTargetNames", "DirectTargets")}
    task["Targets"] = resolve_task_targets(wanted, target_ids)
    return task


def register_task_request(window_id, task):
    request = {"WindowId": window_id}
    request.update(copy.deepcopy(task))
    if not request["Targets"]:
        request.pop("Targets")
    return request


def update_task_request(window_id, task, have, changed):
    """UpdateMaintenanceWindowTask: the changed keys, or every key with Replace when one is removed.

    AWS replaces TaskInvocationParameters as a whole whenever it is sent, so it is sent complete.
    """
    request = {"WindowId": window_id, "WindowTaskId": have["WindowTaskId"]}
    removed = [key for key in ("Description", "LoggingInfo", "AlarmConfiguration", "TaskInvocationParameters", "Targets")
               if key in changed and not task.get(key)]
    if not removed:
        for key in changed:
            request[key] = copy.deepcopy(task[key])
        # AWS wants the rate controls of a task with targets on every update
        for key in ("MaxConcurrency", "MaxErrors"):
            if task.get("Targets") and task.get(key):
                request[key] = task[key]
        return request
    request["Replace"] = True
    for key in ("TaskArn", "Targets", "ServiceRoleArn", "TaskInvocationParameters", "Priority", "MaxConcurrency",
                "MaxErrors", "LoggingInfo", "Name", "Description", "CutoffBehavior", "AlarmConfiguration"):
        value = task.get(key)
        if key == "ServiceRoleArn" and not value:
            value = have.get("ServiceRoleArn")  # unset means leave alone: keep it through Replace
        if value not in (None, "", [], {}):
            request[key] = copy.deepcopy(value)
    return request


def predict_task(window_id, task, have=None, task_id=None):
    predicted = copy.deepcopy(task)
    predicted["WindowId"] = window_id
    predicted["WindowTaskId"] = have["WindowTaskId"] if have else task_id
    if not predicted.get("ServiceRoleArn") and have and have.get("ServiceRoleArn"):
        predicted["ServiceRoleArn"] = have["ServiceRoleArn"]
    if not predicted.get("Targets"):
        predicted.pop("Targets", None)
    return predicted


# ---------------------------------------------------------------------------------------------
# Output.
# ---------------------------------------------------------------------------------------------


def placeholder_id(name):
    return PLACEHOLDER_PREFIX + name


def _real_id(value):
    return None if isinstance(value, str) and value.startswith(PLACEHOLDER_PREFIX) else value


def isoformat(value):
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return value


def _targets_to_ansible(targets):
    return [{"key": entry.get("Key"), "values": list(entry.get("Values") or [])} for entry in targets or []]


def target_to_ansible(target):
    return {
        "window_target_id": _real_id(target.get("WindowTargetId")),
        "name": target.get("Name"),
        "description": target.get("Description"),
        "resource_type": target.get("ResourceType"),
        "targets": _targets_to_ansible(target.get("Targets")),
        "owner_information": target.get("OwnerInformation"),
    }


def _run_command_to_ansible(parameters):
    result = {
        "comment": parameters.get("Comment"),
        "document_hash": parameters.get("DocumentHash"),
        "document_hash_type": parameters.get("DocumentHashType"),
        "output_s3_bucket_name": parameters.get("OutputS3BucketName"),
        "output_s3_key_prefix": parameters.get("OutputS3KeyPrefix"),
        "service_role_arn": parameters.get("ServiceRoleArn"),
        "timeout_seconds": parameters.get("TimeoutSeconds"),
        "notification_config": None,
        "cloudwatch_output_config": None,
    }
    notification = parameters.get("NotificationConfig")
    if notification:
        result["notification_config"] = {
            "notification_arn": notification.get("NotificationArn"),
            "notification_events": notification.get("NotificationEvents"),
            "notification_type": notification.get("NotificationType"),
        }
    output = parameters.get("CloudWatchOutputConfig")
    if output:
        result["cloudwatch_output_config"] = {
            "cloudwatch_log_group_name": output.get("CloudWatchLogGroupName"),
            "cloudwatch_output_enabled": output.get("CloudWatchOutputEnabled"),
        }
    return result


def task_to_ansible(task, target_names):
    """A task in the form the module's tasks option takes it, with its id.

    ``target_names`` maps window target ids to names; a target without a name keeps its id.
    """
    window_target_ids, direct = [], []
    for entry in task.get("Targets") or []:
        if (entry.get("Key") or "").lower() == WINDOW_TARGET_IDS.lower():
            window_target_ids.extend(entry.get("Values") or [])
        else:
            direct.append(entry)
    invocation = task.get("TaskInvocationParameters") or {}
    run_command = invocation.get("RunCommand") or {}
    automation = invocation.get("Automation") or {}
    lambda_parameters = invocation.get("Lambda") or {}
    step_functions = invocation.get("StepFunctions") or {}
    parameters = run_command.get("Parameters") or automation.get("Parameters")
    logging_info = task.get("LoggingInfo")
    alarms = task.get("AlarmConfiguration")
    payload = lambda_parameters.get("Payload")
    if isinstance(payload, (bytes, bytearray)):
        payload = bytes(payload).decode("utf-8", "replace")
    return {
        "window_task_id": task.get("WindowTaskId"),
        "name": task.get("Name"),
        "description": task.get("Description"),
        "task_type": task.get("TaskType") or task.get("Type"),
        "document": task.get("TaskArn"),
        "document_version": run_command.get("DocumentVersion") or automation.get("DocumentVersion"),
        "parameters": copy.deepcopy(parameters) if parameters else None,
        "window_targets": [target_names.get(target_id, target_id) for target_id in window_target_ids],
        "window_target_ids": [target_id for target_id in window_target_ids if _real_id(target_id)],
        "targets": _targets_to_ansible(direct),
        "priority": task.get("Priority"),
        "max_concurrency": task.get("MaxConcurrency"),
        "max_errors": task.get("MaxErrors"),
        "service_role_arn": task.get("ServiceRoleArn"),
        "cutoff_behavior": task.get("CutoffBehavior") or DEFAULT_CUTOFF_BEHAVIOR,
        "run_command": _run_command_to_ansible(run_command) if run_command else None,
        "lambda": {
            "client_context": lambda_parameters.get("ClientContext"),
            "qualifier": lambda_parameters.get("Qualifier"),
            "payload": payload,
        } if lambda_parameters else None,
        "step_functions": {
            "input": step_functions.get("Input"),
            "name": step_functions.get("Name"),
        } if step_functions else None,
        "logging_info": {
            "s3_bucket_name": logging_info.get("S3BucketName"),
            "s3_key_prefix": logging_info.get("S3KeyPrefix"),
            "s3_region": logging_info.get("S3Region"),
        } if logging_info else None,
        "alarm_configuration": {
            "alarms": [alarm["Name"] for alarm in alarms.get("Alarms") or []],
            "ignore_poll_alarm_failure": bool(alarms.get("IgnorePollAlarmFailure")),
        } if alarms else None,
    }


def window_to_ansible(window):
    return {
        "window_id": window.get("WindowId"),
        "name": window.get("Name"),
        "description": window.get("Description"),
        "schedule": window.get("Schedule"),
        "schedule_timezone": window.get("ScheduleTimezone"),
        "schedule_offset": window.get("ScheduleOffset"),
        "duration": window.get("Duration"),
        "cutoff": window.get("Cutoff"),
        "allow_unassociated_targets": window.get("AllowUnassociatedTargets"),
        "enabled": window.get("Enabled"),
        "start_date": window.get("StartDate"),
        "end_date": window.get("EndDate"),
        "next_execution_time": window.get("NextExecutionTime"),
        "created_date": isoformat(window.get("CreatedDate")),
        "modified_date": isoformat(window.get("ModifiedDate")),
    }


def describe_for_result(state):
    """The whole resource as the modules return it: the window with its targets, tasks and tags."""
    if not state:
        return {}
    result = window_to_ansible(state["Window"])
    targets = sorted(state.get("Targets") or [], key=lambda item: (item.get("Name") or "", item.get("WindowTargetId") or ""))
    names = {item.get("WindowTargetId"): item.get("Name") for item in targets if item.get("Name") and item.get("WindowTargetId")}
    tasks = sorted(state.get("Tasks") or [], key=lambda item: (item.get("Priority") or 0, item.get("Name") or ""))
    result["targets"] = [target_to_ansible(item) for item in targets]
    result["tasks"] = [task_to_ansible(item, names) for item in tasks]
    if state.get("Tags") is not None:
        result["tags"] = state["Tags"]
    return result


def _without_empty(value):
    if isinstance(value, dict):
        return {key: _without_empty(item) for key, item in value.items() if item not in (None, [], {})}
    if isinstance(value, list):
        return [_without_empty(item) for item in value]
    return value


def describe_for_diff(state):
    """The resource for diff mode: what the user manages, without ids, dates and empty values."""
    result = describe_for_result(state)
    if not result:
        return {}
    for key in ("window_id", "next_execution_time", "created_date", "modified_date"):
        result.pop(key, None)
    for target in result["targets"]:
        target.pop("window_target_id", None)
    for task in result["tasks"]:
        task.pop("window_task_id", None)
        task.pop("window_target_ids", None)
    return _without_empty(result)
