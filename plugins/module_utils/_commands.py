# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE: this file is internal to the fleetops.ssm collection. It is not a public API and may
# change at any time without notice. Do not import it from outside the collection.

"""Run Command: one function per API call (SendCommand, ListCommands, ListCommandInvocations,
GetCommandInvocation, CancelCommand), the checks made before a command is sent (options, targets,
parameters against the document's definitions), target resolution for check mode, sending more
than 50 instance ids as several commands, waiting, and the results as the modules return them.

API calls while a command runs (N nodes, one command per 50 instance ids, or one for targets):

* every poll: one ``ListCommands`` (``CommandId``) per command still running; its status and its
  counts (targets, completed, errors, delivery timeouts) are all the wait needs;
* once a command has ended: its invocations with ``Details``, 50 per ``ListCommandInvocations``
  page (ceil(N / 50) pages, once). A step's ``Output`` there is stdout and stderr within 2,500
  characters; when it was cut, one ``GetCommandInvocation`` for that node and step reads up to
  24,000 characters of stdout and 8,000 of stderr.
"""

from __future__ import annotations

import datetime
import json
import math
import re
import time

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import SSMErrorHandler
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import ssm_retry
from ansible_collections.fleetops.ssm.plugins.module_utils import _nodes as nodes

# Limits from botocore's model of SSM.
MAX_INSTANCE_IDS = 50  # SendCommand and CancelCommand InstanceIds
MAX_TARGETS = 5  # SendCommand Targets
MAX_TARGET_VALUES = 50  # values of one Target
MAX_TARGET_KEY = 163
PAGE_SIZE = 50  # ListCommands / ListCommandInvocations MaxResults 1-50
MAX_FILTERS = 5
MAX_COMMENT = 100
MIN_TIMEOUT, MAX_TIMEOUT = 30, 2592000  # SendCommand TimeoutSeconds (the delivery timeout)
MAX_S3_PREFIX = 500
MAX_LOG_GROUP_NAME = 512
DEFAULT_MAX_CONCURRENCY = "50"  # AWS's defaults for a command
DEFAULT_MAX_ERRORS = "0"
# What the agent keeps of a step's output: GetCommandInvocation's contents, and the Output of
# ListCommandInvocations with Details (stdout, a separator, stderr, cut with these markers).
STDOUT_LIMIT, STDERR_LIMIT, OUTPUT_LIMIT = 24000, 8000, 2500
TRUNCATED_SUFFIX = "--output truncated--"
ERROR_TITLE = "\n----------ERROR-------\n"
OUTPUT_CUT = "\n---Output truncated---"
ERROR_CUT = "\n---Error truncated----"

TERMINAL = ("Success", "Failed", "TimedOut", "Cancelled")
FILTER_KEYS = ("InvokedAfter", "InvokedBefore", "Status", "ExecutionStage", "DocumentName")
# Values of the Status filter (AWS's API reference for ListCommands and ListCommandInvocations).
STATUS_FILTER_VALUES = ("Pending", "InProgress", "Delayed", "Success", "Cancelled", "Failed", "TimedOut", "AccessDenied",
                        "DeliveryTimedOut", "ExecutionTimedOut", "Incomplete", "NoInstancesInTag", "LimitExceeded",
                        "Undeliverable", "InvalidPlatform", "Terminated")
EXECUTION_STAGES = ("Executing", "Complete")
NOTIFICATION_EVENTS = ("All", "InProgress", "Success", "TimedOut", "Cancelled", "Failed")
NOTIFICATION_TYPES = ("Command", "Invocation")
FAIL_ON = ("any", "all", "none", "max_errors")
RESOURCE_GROUP_KEYS = ("resource-groups:Name", "resource-groups:ResourceTypeFilters")
EXECUTION_TIMEOUT_PARAMETER = "executionTimeout"

MAX_CONCURRENCY_RE = re.compile(r"^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$")
MAX_ERRORS_RE = re.compile(r"^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$")
INSTANCE_ID_RE = re.compile(r"^(i-(\w{8}|\w{17})|mi-\w{17})$")
COMMAND_ID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
DOCUMENT_VERSION_RE = re.compile(r"^([$]LATEST|[$]DEFAULT|[1-9][0-9]*)$")
_TARGET_KEY_RE = re.compile(r"^[\w\s.:/=\-@]*$", re.UNICODE)
# A value SSM resolves itself when the command is sent ({{ssm:/path}}): not checked here.
_REFERENCE_RE = re.compile(r"\{\{\s*ssm(-secure)?:")
# How many failing nodes a failure message names.
SHOWN_FAILURES = 10


class CommandValidationError(AnsibleSSMError):
    """The input breaks a Run Command rule; raised before any command is sent."""


# ---------------------------------------------------------------------------------------------
# API calls. Each one is a single SSM operation; none takes a module.
# ---------------------------------------------------------------------------------------------


@SSMErrorHandler.common_error_handler("send command")
@ssm_retry()
def send_command(client, request):
    """SendCommand; the Command AWS answers with."""
    return client.send_command(**request)["Command"]


@SSMErrorHandler.common_error_handler("list commands")
@ssm_retry()
def _list_commands_page(client, kwargs):
    return client.list_commands(**kwargs)


@SSMErrorHandler.common_error_handler("list command invocations")
@ssm_retry()
def _list_command_invocations_page(client, kwargs):
    return client.list_command_invocations(**kwargs)


@SSMErrorHandler.common_error_handler("get command invocation")
@ssm_retry()
def get_command_invocation(client, command_id, instance_id, plugin_name=None):
    """GetCommandInvocation of one node, for one step (plugin) when the document has several."""
    kwargs = {"CommandId": command_id, "InstanceId": instance_id}
    if plugin_name:
        kwargs["PluginName"] = plugin_name
    result = client.get_command_invocation(**kwargs)
    result.pop("ResponseMetadata", None)
    return result


@SSMErrorHandler.common_error_handler("cancel command")
@ssm_retry()
def cancel_command(client, command_id, instance_ids=None):
    """CancelCommand: every invocation of the command, or those of the given nodes (at most 50)."""
    kwargs = {"CommandId": command_id}
    if instance_ids:
        kwargs["InstanceIds"] = list(instance_ids)
    client.cancel_command(**kwargs)


def _paged(call, client, kwargs, key, limit):
    """Every item of a NextToken pagination, one call per page of 50 (each retried alone), up to ``limit``."""
    kwargs = dict(kwargs, MaxResults=PAGE_SIZE)
    items = []
    while True:
        page = call(client, kwargs)
        items.extend(page.get(key) or [])
        token = page.get("NextToken")
        if not token or (limit and len(items) >= limit):
            return items[:limit] if limit else items
        kwargs["NextToken"] = token


def list_commands(client, command_id=None, instance_id=None, filters=None, limit=None):
    """ListCommands, newest first: every command, or those of a node or matching filters; up to ``limit``."""
    kwargs = {}
    if command_id:
        kwargs["CommandId"] = command_id
    if instance_id:
        kwargs["InstanceId"] = instance_id
    if filters:
        kwargs["Filters"] = filters
    return _paged(_list_commands_page, client, kwargs, "Commands", limit)


def get_command(client, command_id):
    """One command (a single ListCommands call); None when AWS does not know the id (InvalidCommandId)."""
    try:
        found = _list_commands_page(client, {"CommandId": command_id})
    except AnsibleSSMError as e:
        if e.error_code == "InvalidCommandId":
            return None
        raise
    commands = found.get("Commands") or []
    return commands[0] if commands else None


def list_command_invocations(client, command_id=None, instance_id=None, filters=None, details=False, limit=None):
    """ListCommandInvocations, 50 per page, with each step's output (``Details``) when asked."""
    kwargs = {"Details": bool(details)}
    if command_id:
        kwargs["CommandId"] = command_id
    if instance_id:
        kwargs["InstanceId"] = instance_id
    if filters:
        kwargs["Filters"] = filters
    return _paged(_list_command_invocations_page, client, kwargs, "CommandInvocations", limit)


# ---------------------------------------------------------------------------------------------
# Checks made before anything is sent
# ---------------------------------------------------------------------------------------------


def validate_rate(value, option, pattern):
    if value is None:
        return None
    value = str(value).strip()
    if len(value) > 7 or not pattern.match(value):
        if pattern is MAX_CONCURRENCY_RE:
            allowed = "a number of nodes from 1 (such as 10) or a percentage from 1% to 100% (such as 25%)"
        else:
            allowed = "a number of nodes from 0 (such as 2) or a percentage from 0% to 100% (such as 10%)"
        raise CommandValidationError(f"{option} {value!r} is not valid: give {allowed}.")
    return value


def limit_of(spec, total, round_up):
    """A MaxConcurrency / MaxErrors value as a number of nodes out of ``total``."""
    if spec.endswith("%"):
        share = int(spec[:-1]) * total / 100
        return math.ceil(share) if round_up else math.floor(share)
    return int(spec)


def validate_instance_ids(instance_ids):
    """The ids, checked, duplicates dropped (order kept)."""
    if instance_ids is None:
        return None
    ids = [str(item).strip() for item in instance_ids]
    if not ids:
        raise CommandValidationError(
            "instance_ids is empty: give the ids of the managed nodes to run the command on, or use targets."
        )
    bad = [item for item in ids if not INSTANCE_ID_RE.match(item)]
    if bad:
        raise CommandValidationError(
            f"instance_ids: {', '.join(bad)} {'is not a managed node id' if len(bad) == 1 else 'are not managed node ids'}"
            " (i- followed by 8 or 17 characters for EC2 instances, mi- followed by 17 for hybrid nodes)."
        )
    return list(dict.fromkeys(ids))


def validate_targets(targets):
    """Targets as SendCommand takes them ([{"Key": ..., "Values": [...]}]), checked."""
    if targets is None:
        return None
    if not targets:
        raise CommandValidationError("targets is empty: give at least one key and its values, or use instance_ids.")
    if len(targets) > MAX_TARGETS:
        raise CommandValidationError(
            f"targets has {len(targets)} entries; SendCommand takes at most {MAX_TARGETS} (they are combined with AND)."
        )
    result = []
    for index, target in enumerate(targets):
        key = str(target.get("key") or "").strip()
        values = [str(value) for value in target.get("values") or []]
        where = f"targets[{index}]"
        valid_key = (
            key in ("InstanceIds", "tag-key") or key in RESOURCE_GROUP_KEYS
            or (key.startswith("tag:") and len(key) > 4 and len(key) <= MAX_TARGET_KEY and _TARGET_KEY_RE.match(key))
        )
        if not valid_key:
            raise CommandValidationError(
                f"{where}: key {key!r} is not valid. Use tag:<tag key> (nodes with that tag and one of the values), "
                "tag-key (nodes with one of the tag keys), InstanceIds, resource-groups:Name or "
                "resource-groups:ResourceTypeFilters."
            )
        if not values:
            raise CommandValidationError(f"{where}: {key} has no values; give 1 to {MAX_TARGET_VALUES}.")
        if len(values) > MAX_TARGET_VALUES:
            raise CommandValidationError(
                f"{where}: {key} has {len(values)} values; a target takes at most {MAX_TARGET_VALUES}. "
                "To run on more nodes by id, give them in instance_ids, which takes any number."
            )
        if key == "InstanceIds":
            validate_instance_ids(values)
        result.append({"Key": key, "Values": values})
    return result


def base_request(params):
    """The SendCommand arguments every command of the task shares (no targets, no parameters yet)."""
    request = {"DocumentName": params["document_name"]}
    comment = params.get("comment")
    if comment is not None:
        if len(comment) > MAX_COMMENT:
            raise CommandValidationError(f"comment is {len(comment)} characters long; AWS takes at most {MAX_COMMENT}.")
        request["Comment"] = comment
    timeout = params.get("timeout_seconds")
    if timeout is not None:
        if not MIN_TIMEOUT <= timeout <= MAX_TIMEOUT:
            raise CommandValidationError(
                f"timeout_seconds {timeout} is out of range: the delivery timeout is {MIN_TIMEOUT} to {MAX_TIMEOUT} "
                "seconds (30 days). The time the commands may run is execution_timeout."
            )
        request["TimeoutSeconds"] = timeout
    bucket, prefix, region = params.get("output_s3_bucket"), params.get("output_s3_key_prefix"), params.get("output_s3_region")
    if (prefix or region) and not bucket:
        raise CommandValidationError("output_s3_key_prefix and output_s3_region need output_s3_bucket.")
    if bucket:
        if not 3 <= len(bucket) <= 63:
            raise CommandValidationError(f"output_s3_bucket {bucket!r} is not an S3 bucket name (3 to 63 characters).")
        request["OutputS3BucketName"] = bucket
    if prefix:
        if len(prefix) > MAX_S3_PREFIX:
            raise CommandValidationError(f"output_s3_key_prefix is longer than {MAX_S3_PREFIX} characters.")
        request["OutputS3KeyPrefix"] = prefix
    if region:
        if not 3 <= len(region) <= 20:
            raise CommandValidationError(f"output_s3_region {region!r} is not a region name.")
        request["OutputS3Region"] = region
    cloudwatch = params.get("cloudwatch_output")
    if cloudwatch is not None:
        config = {"CloudWatchOutputEnabled": bool(cloudwatch.get("enabled", True))}
        group = cloudwatch.get("log_group_name")
        if group:
            if len(group) > MAX_LOG_GROUP_NAME:
                raise CommandValidationError(f"cloudwatch_output.log_group_name is longer than {MAX_LOG_GROUP_NAME} characters.")
            config["CloudWatchLogGroupName"] = group
        request["CloudWatchOutputConfig"] = config
    role = params.get("service_role_arn")
    notification = params.get("notification_config")
    if notification is not None:
        if not role:
            raise CommandValidationError(
                "notification_config needs service_role_arn: the IAM role Systems Manager assumes to publish to the "
                "SNS topic."
            )
        config = {"NotificationArn": notification["arn"]}
        if notification.get("events"):
            config["NotificationEvents"] = list(notification["events"])
        if notification.get("type"):
            config["NotificationType"] = notification["type"]
        request["NotificationConfig"] = config
    if role:
        request["ServiceRoleArn"] = role
    return request


def validate_wait(params):
    for option in ("poll_interval", "wait_timeout"):
        if params.get(option) is not None and params[option] < 1:
            raise CommandValidationError(f"{option} must be at least 1 second, not {params[option]}.")


# ---------------------------------------------------------------------------------------------
# Parameters: AWS's list-of-strings form, checked against the document's definitions
# ---------------------------------------------------------------------------------------------


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def to_aws_values(name, value, kind=None):
    """One parameter value as the list of strings SendCommand takes, following the parameter's type."""
    if value is None:
        raise CommandValidationError(
            f"parameters: {name} has no value (null); give one, or leave the parameter out to use the document's default."
        )
    if kind == "Boolean":
        text = _text(value).lower() if isinstance(value, (bool, str)) else None
        if text not in ("true", "false"):
            raise CommandValidationError(f"parameters: {name} is a Boolean parameter; give true or false, not {value!r}.")
        return [text]
    if kind == "Integer":
        text = _text(value).strip() if not isinstance(value, (bool, list, dict)) else ""
        if not re.match(r"^-?[0-9]+$", text):
            raise CommandValidationError(f"parameters: {name} is an Integer parameter; {value!r} is not a whole number.")
        return [text]
    if kind in ("StringMap", "MapList"):
        expected = dict if kind == "StringMap" else list
        if isinstance(value, str):
            return [value]
        if not isinstance(value, expected):
            raise CommandValidationError(
                f"parameters: {name} is a {kind} parameter; give a {'mapping' if kind == 'StringMap' else 'list of mappings'}."
            )
        return [json.dumps(value, sort_keys=True)]
    if isinstance(value, (list, tuple)):
        values = [_text(item) for item in value]
        if kind == "String" and len(values) != 1:
            raise CommandValidationError(
                f"parameters: {name} is a String parameter and takes one value, not a list of {len(values)}."
            )
        return values
    if isinstance(value, dict):
        if kind in (None, "String"):
            return [json.dumps(value, sort_keys=True)]
        raise CommandValidationError(f"parameters: {name} is a {kind} parameter; a mapping is not a valid value.")
    return [_text(value)]


def parameter_definitions(content):
    """The ``parameters`` section of a document's content: {name: definition}."""
    found = (content or {}).get("parameters") if isinstance(content, dict) else None
    if not isinstance(found, dict):
        return {}
    return {str(name): (spec if isinstance(spec, dict) else {}) for name, spec in found.items()}


def definitions_from_description(description):
    """Parameter definitions from DescribeDocument (no allowed values nor patterns: used without the content)."""
    result = {}
    for item in (description or {}).get("Parameters") or []:
        spec = {"type": item.get("Type") or "String"}
        if "DefaultValue" in item:
            spec["default"] = item["DefaultValue"]
        result[item["Name"]] = spec
    return result


def _pattern_matches(pattern, value):
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error:  # a pattern Python cannot read is left to AWS to check
        return True


def _check_value(document, name, spec, value):
    if _REFERENCE_RE.search(value):
        return
    allowed = spec.get("allowedValues")
    if isinstance(allowed, list) and allowed and value not in [_text(item) for item in allowed]:
        raise CommandValidationError(
            f"parameters: {name} value {value!r} is not allowed by document {document}; allowed values: "
            f"{', '.join(_text(item) for item in allowed)}."
        )
    pattern = spec.get("allowedPattern")
    if isinstance(pattern, str) and pattern and not _pattern_matches(pattern, value):
        raise CommandValidationError(
            f"parameters: {name} value {value!r} does not match the pattern document {document} requires: {pattern}"
        )
    for key, test, word in (("minChars", lambda n: len(value) < n, "at least"), ("maxChars", lambda n: len(value) > n, "at most")):
        if isinstance(spec.get(key), int) and test(spec[key]):
            raise CommandValidationError(
                f"parameters: {name} value {value[:40]!r}{'...' if len(value) > 40 else ''} is {len(value)} characters; "
                f"document {document} takes {word} {spec[key]}."
            )


def build_parameters(document, definitions, given, execution_timeout=None):
    """SendCommand's Parameters from the task's, checked against the document's definitions.

    Raises CommandValidationError for an unknown parameter, a missing required one (no default), a value of
    the wrong type or outside allowedValues / allowedPattern / minItems / maxItems / minChars / maxChars.
    ``execution_timeout`` sets the document's executionTimeout parameter.
    """
    given = dict(given or {})
    if execution_timeout is not None:
        if EXECUTION_TIMEOUT_PARAMETER not in definitions:
            raise CommandValidationError(
                f"execution_timeout: document {document} has no {EXECUTION_TIMEOUT_PARAMETER} parameter, so the time its "
                "commands may run cannot be set from the task (it is set inside the document, as timeoutSeconds)."
            )
        if EXECUTION_TIMEOUT_PARAMETER in given:
            raise CommandValidationError(
                f"execution_timeout and parameters.{EXECUTION_TIMEOUT_PARAMETER} both set the execution timeout; give one."
            )
        given[EXECUTION_TIMEOUT_PARAMETER] = str(execution_timeout)
    unknown = sorted(name for name in given if name not in definitions)
    if unknown:
        known = ", ".join(sorted(definitions)) or "none"
        raise CommandValidationError(
            f"parameters: {', '.join(unknown)} {'is not a parameter' if len(unknown) == 1 else 'are not parameters'} of "
            f"document {document} (names are case-sensitive); its parameters: {known}."
        )
    missing = sorted(name for name, spec in definitions.items() if name not in given and "default" not in spec)
    if missing:
        raise CommandValidationError(
            f"parameters: document {document} requires {', '.join(missing)} (no default value); add "
            f"{'it' if len(missing) == 1 else 'them'} to parameters."
        )
    result = {}
    for name, value in given.items():
        spec = definitions[name]
        kind = spec.get("type")
        values = to_aws_values(name, value, kind)
        if kind == "StringList":
            for key, test, word in (("minItems", lambda n: len(values) < n, "at least"),
                                    ("maxItems", lambda n: len(values) > n, "at most")):
                if isinstance(spec.get(key), int) and test(spec[key]):
                    raise CommandValidationError(
                        f"parameters: {name} has {len(values)} values; document {document} takes {word} {spec[key]}."
                    )
        if kind not in ("StringMap", "MapList"):
            for item in values:
                _check_value(document, name, spec, item)
        result[name] = values
    return result


# ---------------------------------------------------------------------------------------------
# Target resolution (DescribeInstanceInformation): check mode, and instance ids before sending
# ---------------------------------------------------------------------------------------------


def describe_nodes(client, instance_ids):
    """{id: InstanceInformation} of the ids that are managed nodes of the region, 50 ids per call."""
    found = {}
    for start in range(0, len(instance_ids), nodes.PAGE_INSTANCE_INFORMATION):
        chunk = instance_ids[start:start + nodes.PAGE_INSTANCE_INFORMATION]
        for info in nodes.describe_instance_information(client, [{"Key": "InstanceIds", "Values": chunk}]):
            found[info["InstanceId"]] = info
    return found


def resolve_targets(client, targets):
    """The InstanceInformation of the nodes the targets select, or None when SSM alone can tell (resource groups).

    Targets are combined with AND. Tag targets are DescribeInstanceInformation filters; an InstanceIds target
    is sent as a filter when it is the only kind, otherwise applied to the answer (the API does not mix tag
    filters with others).
    """
    if any(target["Key"] in RESOURCE_GROUP_KEYS for target in targets):
        return None
    tag_filters = [{"Key": t["Key"], "Values": list(t["Values"])} for t in targets if nodes.is_tag_filter(t["Key"])]
    id_sets = [set(t["Values"]) for t in targets if t["Key"] == "InstanceIds"]
    wanted_ids = set.intersection(*id_sets) if id_sets else None
    if tag_filters:
        infos = nodes.describe_instance_information(client, tag_filters)
    else:
        infos = list(describe_nodes(client, sorted(wanted_ids)).values())
    if wanted_ids is not None:
        infos = [info for info in infos if info["InstanceId"] in wanted_ids]
    return infos


def check_platforms(infos, platform_types, document):
    """Nodes whose platform the document does not support: SendCommand refuses them (UnsupportedPlatformType)."""
    if not platform_types:
        return
    wrong = [f"{info['InstanceId']} ({info.get('PlatformType')})" for info in infos
             if info.get("PlatformType") and info["PlatformType"] not in platform_types]
    if wrong:
        raise CommandValidationError(
            f"Document {document} runs on {', '.join(platform_types)}; these nodes are not: {', '.join(wrong[:SHOWN_FAILURES])}"
            + (f" and {len(wrong) - SHOWN_FAILURES} more" if len(wrong) > SHOWN_FAILURES else "") + "."
        )


def offline(infos):
    return [info["InstanceId"] for info in infos if info.get("PingStatus") != "Online"]


# ---------------------------------------------------------------------------------------------
# Sending and waiting
# ---------------------------------------------------------------------------------------------


def chunks(items, size=MAX_INSTANCE_IDS):
    return [items[start:start + size] for start in range(0, len(items), size)]


class CommandSet:
    """The commands one task sends: one for targets or up to 50 instance ids, else one per 50 ids.

    Rate controls across several commands, so that they mean for all the nodes what they mean for one command:

    * a percentage applies to each command alike, and every command is sent at once;
    * a number of nodes for max_concurrency is shared: commands are sent while the ones running leave room
      (each gets what is left, at most its size), the next one when one ends (``wait`` only);
    * max_errors is counted over all the nodes: a command sent later gets what is left of it, and once the
      errors of all the commands exceed it, the commands still running are cancelled and the ones not sent
      yet are not sent (their nodes are reported in ``not_sent``).
    """

    def __init__(self, client, request, instance_ids=None, max_concurrency=None, max_errors=None, windowed=True):
        self.client = client
        self.request = request
        self.max_concurrency = max_concurrency
        self.max_errors = max_errors
        self.pending = [list(chunk) for chunk in chunks(instance_ids)] if instance_ids else [None]
        self.total = len(instance_ids) if instance_ids else None
        self.several = len(self.pending) > 1
        self.windowed = windowed and self.several and max_concurrency is not None and not max_concurrency.endswith("%")
        self.sent = []  # the latest Command of each command sent, in order
        self.not_sent = []  # instance ids never sent (max_errors exceeded)
        self.stopped = False  # max_errors exceeded over all the commands
        self.timed_out = False

    # -- state

    def running(self):
        return [command for command in self.sent if command.get("Status") not in TERMINAL]

    def done(self):
        return not self.pending and not self.running()

    def errors(self):
        return sum(command.get("ErrorCount") or 0 for command in self.sent)

    def allowed_errors(self):
        spec = self.max_errors or DEFAULT_MAX_ERRORS
        total = self.total if self.total is not None else sum(command.get("TargetCount") or 0 for command in self.sent)
        return limit_of(spec, total, round_up=False)

    # -- sending

    def _next_request(self, ids, room):
        request = dict(self.request)
        if ids is not None:
            request["InstanceIds"] = ids
        if self.windowed:
            request["MaxConcurrency"] = str(max(1, min(room, len(ids))))
        elif self.max_concurrency is not None:
            request["MaxConcurrency"] = self.max_concurrency
        if self.several and self.max_errors is not None and not self.max_errors.endswith("%"):
            request["MaxErrors"] = str(max(0, int(self.max_errors) - self.errors()))
        elif self.max_errors is not None:
            request["MaxErrors"] = self.max_errors
        return request

    def send_all(self):
        """Send every command at once, each with the rate controls as given (wait=false)."""
        while self.pending:
            ids = self.pending.pop(0)
            self.sent.append(send_command(self.client, self._next_request(ids, len(ids or []))))

    def send_more(self):
        """Send what the rate controls allow now; returns how many commands were sent."""
        if self.stopped:
            return 0
        count = 0
        if not self.windowed:
            count = len(self.pending)
            self.send_all()
            return count
        limit = int(self.max_concurrency)
        while self.pending:
            used = sum(int(command.get("MaxConcurrency") or 0) for command in self.running())
            room = limit - used
            if room < 1 and self.running():
                break
            ids = self.pending.pop(0)
            self.sent.append(send_command(self.client, self._next_request(ids, max(room, 1))))
            count += 1
        return count

    # -- polling

    def refresh(self):
        """One ListCommands per running command; then the max_errors check over all of them."""
        for index, command in enumerate(self.sent):
            if command.get("Status") in TERMINAL:
                continue
            found = get_command(self.client, command["CommandId"])
            if found is not None:  # just sent and not visible yet (eventual consistency): keep what we have
                self.sent[index] = found
        if self.several and not self.stopped and self.errors() > self.allowed_errors():
            self.stop()

    def stop(self):
        """max_errors exceeded over all the commands: cancel the running ones, send no more."""
        self.stopped = True
        for ids in self.pending:
            self.not_sent.extend(ids or [])
        self.pending = []
        self.cancel()

    def cancel(self):
        for command in self.running():
            cancel_command(self.client, command["CommandId"])

    def wait(self, wait_timeout, poll_interval, cancel_on_timeout, sleep=None, clock=None):
        """Poll until every command has ended or ``wait_timeout`` passed; returns True when all ended.

        Polls after 1 second, then doubles the pause up to ``poll_interval``. When the time is up, cancels the
        commands still running (``cancel_on_timeout``) and gives them a few seconds to report it.
        """
        sleep = sleep or time.sleep
        clock = clock or time.monotonic
        deadline = clock() + wait_timeout
        delay = min(1, poll_interval)
        while True:
            if self.done():
                return True
            now = clock()
            if now >= deadline:
                break
            sleep(min(delay, max(0.0, deadline - now)))
            delay = min(delay * 2, poll_interval)
            self.refresh()
            self.send_more()
        self.timed_out = True
        for ids in self.pending:
            self.not_sent.extend(ids or [])
        self.pending = []
        if cancel_on_timeout:
            self.cancel()
            # Cancelling is asynchronous: give the commands a few seconds to report it.
            for pause in (0.5, 1, 2, 3):
                sleep(pause)
                self.refresh()
                if not self.running():
                    break
        return False

    # -- results

    def invocations(self, details=True):
        """Every invocation of every command sent (ListCommandInvocations, 50 per page)."""
        found = []
        for command in self.sent:
            found.extend(list_command_invocations(self.client, command_id=command["CommandId"], details=details))
        return found


# ---------------------------------------------------------------------------------------------
# Output of the steps
# ---------------------------------------------------------------------------------------------


def split_output(output):
    """(stdout, stderr, complete) from a step's Output in ListCommandInvocations.

    Output is stdout, then ``ERROR_TITLE`` and stderr when there is any, within 2,500 characters; when it was
    longer the agent cut it with markers, and ``complete`` is False (GetCommandInvocation has more).
    """
    output = output or ""
    if OUTPUT_CUT in output or ERROR_CUT in output or len(output) >= OUTPUT_LIMIT:
        return output, "", False
    parts = output.split(ERROR_TITLE)
    if len(parts) == 1:
        return output, "", True
    if len(parts) == 2:
        return parts[0], parts[1], True
    return output, "", False  # the separator also appears in the output itself: ask for the real streams


def is_truncated(text, limit):
    return bool(text) and (text.endswith(TRUNCATED_SUFFIX) or len(text) >= limit)


def _iso(value):
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return value or None


def plugin_result(client, command_id, instance_id, plugin, several):
    """One step's result; reads GetCommandInvocation when the listed Output was cut."""
    stdout, stderr, complete = split_output(plugin.get("Output"))
    stdout_url = plugin.get("StandardOutputUrl") or None
    stderr_url = plugin.get("StandardErrorUrl") or None
    if not complete and plugin.get("Status") in TERMINAL:
        full = get_command_invocation(client, command_id, instance_id, plugin.get("Name") if several else None)
        stdout = full.get("StandardOutputContent") or ""
        stderr = full.get("StandardErrorContent") or ""
        stdout_url = full.get("StandardOutputUrl") or stdout_url
        stderr_url = full.get("StandardErrorUrl") or stderr_url
    return {
        "name": plugin.get("Name"),
        "status": plugin.get("Status"),
        "status_details": plugin.get("StatusDetails"),
        "response_code": plugin.get("ResponseCode", -1),
        "stdout": stdout,
        "stderr": stderr,
        "stdout_truncated": is_truncated(stdout, STDOUT_LIMIT),
        "stderr_truncated": is_truncated(stderr, STDERR_LIMIT),
        "standard_output_url": stdout_url,
        "standard_error_url": stderr_url,
        "start_time": _iso(plugin.get("ResponseStartDateTime")),
        "end_time": _iso(plugin.get("ResponseFinishDateTime")),
    }


def _response_code(plugins):
    """The invocation's exit code: the first step's that failed, else 0 when a step ran, else -1 (never ran)."""
    codes = [plugin["response_code"] for plugin in plugins if plugin["response_code"] is not None]
    for code in codes:
        if code not in (0, -1):
            return code
    return 0 if 0 in codes else -1


def invocation_to_ansible(client, invocation, with_output=True):
    """One node's invocation as the modules return it, its steps under ``plugins``."""
    listed = invocation.get("CommandPlugins") or []
    several = len(listed) > 1
    plugins = [plugin_result(client, invocation["CommandId"], invocation["InstanceId"], plugin, several)
               if with_output else _plugin_without_output(plugin) for plugin in listed]
    starts = [plugin["start_time"] for plugin in plugins if plugin["start_time"]]
    ends = [plugin["end_time"] for plugin in plugins if plugin["end_time"]]
    result = {
        "command_id": invocation.get("CommandId"),
        "instance_id": invocation.get("InstanceId"),
        "computer_name": invocation.get("InstanceName") or None,
        "status": invocation.get("Status"),
        "status_details": invocation.get("StatusDetails"),
        "response_code": _response_code(plugins),
        "document_name": invocation.get("DocumentName"),
        "document_version": invocation.get("DocumentVersion") or None,
        "requested_date_time": _iso(invocation.get("RequestedDateTime")),
        "start_time": min(starts) if starts else None,
        "end_time": max(ends) if ends and len(ends) == len(plugins) else None,
        "standard_output_url": invocation.get("StandardOutputUrl") or (plugins[0]["standard_output_url"] if len(plugins) == 1 else None),
        "standard_error_url": invocation.get("StandardErrorUrl") or (plugins[0]["standard_error_url"] if len(plugins) == 1 else None),
        "plugins": plugins,
    }
    if with_output:
        result["stdout"] = "".join(plugin["stdout"] for plugin in plugins)
        result["stderr"] = "".join(plugin["stderr"] for plugin in plugins)
        result["stdout_truncated"] = any(plugin["stdout_truncated"] for plugin in plugins)
        result["stderr_truncated"] = any(plugin["stderr_truncated"] for plugin in plugins)
    return result


def _plugin_without_output(plugin):
    return {
        "name": plugin.get("Name"),
        "status": plugin.get("Status"),
        "status_details": plugin.get("StatusDetails"),
        "response_code": plugin.get("ResponseCode", -1),
        "standard_output_url": plugin.get("StandardOutputUrl") or None,
        "standard_error_url": plugin.get("StandardErrorUrl") or None,
        "start_time": _iso(plugin.get("ResponseStartDateTime")),
        "end_time": _iso(plugin.get("ResponseFinishDateTime")),
    }


# ---------------------------------------------------------------------------------------------
# Commands as the modules return them
# ---------------------------------------------------------------------------------------------


def command_to_ansible(command):
    """One Command in snake_case; parameter names and values kept as they are, times in ISO 8601."""
    if not command:
        return {}
    raw = dict(command)
    parameters = raw.pop("Parameters", None) or {}
    targets = raw.pop("Targets", None) or []
    result = camel_dict_to_snake_dict(raw)
    for key in ("requested_date_time", "expires_after"):
        if key in result:
            result[key] = _iso(result[key])
    result["parameters"] = {name: list(values) for name, values in parameters.items()}
    result["targets"] = [{"key": target.get("Key"), "values": list(target.get("Values") or [])} for target in targets]
    result.setdefault("instance_ids", [])
    return result


_STATUS_ORDER = ("Failed", "TimedOut", "Cancelled", "Success")


def _overall_status(commands):
    statuses = [command.get("Status") for command in commands]
    if any(status not in TERMINAL for status in statuses):
        if all(status == "Pending" for status in statuses):
            return "Pending", "Pending"
        if any(status == "Cancelling" for status in statuses):
            return "Cancelling", "Cancelling"
        return "InProgress", "InProgress"
    for wanted in _STATUS_ORDER:
        for command in commands:
            if command.get("Status") == wanted:
                return wanted, command.get("StatusDetails")
    return statuses[0], commands[0].get("StatusDetails")


def combine(commands, instance_ids=None, max_concurrency=None, max_errors=None, not_sent=None):
    """The ``command`` result of a task: the command it sent, or the sum of the commands when there were several.

    ``command_id`` is the first command's id; ``command_ids`` and ``commands`` list them all.
    """
    if len(commands) == 1 and not not_sent:
        result = command_to_ansible(commands[0])
    else:
        result = command_to_ansible(commands[0])
        status, details = _overall_status(commands)
        result.update(
            status=status,
            status_details=details,
            instance_ids=list(instance_ids or []),
            target_count=sum(command.get("TargetCount") or 0 for command in commands),
            completed_count=sum(command.get("CompletedCount") or 0 for command in commands),
            error_count=sum(command.get("ErrorCount") or 0 for command in commands),
            delivery_timed_out_count=sum(command.get("DeliveryTimedOutCount") or 0 for command in commands),
            max_concurrency=max_concurrency or result.get("max_concurrency"),
            max_errors=max_errors or result.get("max_errors"),
        )
        expiries = [c["expires_after"] for c in (command_to_ansible(c) for c in commands) if c.get("expires_after")]
        if expiries:
            result["expires_after"] = max(expiries)
    result["command_ids"] = [command["CommandId"] for command in commands]
    result["commands"] = [_summary(command) for command in commands]
    result["not_sent_instance_ids"] = list(not_sent or [])
    return result


def _summary(command):
    full = command_to_ansible(command)
    keys = ("command_id", "status", "status_details", "instance_ids", "target_count", "completed_count", "error_count",
            "delivery_timed_out_count", "max_concurrency", "max_errors", "requested_date_time")
    return {key: full.get(key) for key in keys}


def predicted(request, targets, instance_ids, target_count):
    """The ``command`` of check mode: what would be sent, and how many nodes it would reach."""
    return {
        "command_id": None,
        "command_ids": [],
        "commands": [],
        "not_sent_instance_ids": [],
        "status": None,
        "status_details": None,
        "document_name": request["DocumentName"],
        "document_version": request.get("DocumentVersion", "$DEFAULT"),
        "comment": request.get("Comment", ""),
        "requested_date_time": None,
        "parameters": dict(request.get("Parameters") or {}),
        "instance_ids": list(instance_ids or []),
        "targets": [{"key": target["Key"], "values": list(target["Values"])} for target in targets or []],
        "target_count": target_count,
        "completed_count": 0,
        "error_count": 0,
        "delivery_timed_out_count": 0,
        "max_concurrency": request.get("MaxConcurrency", DEFAULT_MAX_CONCURRENCY),
        "max_errors": request.get("MaxErrors", DEFAULT_MAX_ERRORS),
        "timeout_seconds": request.get("TimeoutSeconds"),
    }


# ---------------------------------------------------------------------------------------------
# Failure semantics
# ---------------------------------------------------------------------------------------------


def _describe_failure(invocation):
    name = f" ({invocation['computer_name']})" if invocation.get("computer_name") else ""
    text = f"{invocation['instance_id']}{name} {invocation.get('status')}"
    details = invocation.get("status_details")
    if details and details != invocation.get("status"):
        text += f" ({details})"
    code = invocation.get("response_code")
    if code not in (None, -1, 0):
        text += f", exit code {code}"
    return text


def node_list(items, separator="; "):
    """The first items, and how many more there are."""
    shown = separator.join(items[:SHOWN_FAILURES])
    if len(items) > SHOWN_FAILURES:
        shown += f"{separator}and {len(items) - SHOWN_FAILURES} more"
    return shown


def failure_message(fail_on, command, invocations, max_errors=None):
    """Why the task fails, naming the failing nodes and their statuses; None when it does not fail."""
    if fail_on == "none":
        return None
    ids = ", ".join(command.get("command_ids") or [command.get("command_id") or ""])
    unsuccessful = [inv for inv in invocations if inv.get("status") != "Success"]
    not_sent = list(command.get("not_sent_instance_ids") or [])
    total = len(invocations) + len(not_sent)
    errors = [inv for inv in invocations if inv.get("status") in ("Failed", "TimedOut")]
    if fail_on == "any" and (unsuccessful or not_sent):
        parts = [_describe_failure(inv) for inv in unsuccessful] + [f"{iid} not sent (max_errors exceeded)" for iid in not_sent]
        return f"Run Command {ids} did not succeed on {len(parts)} of {total} nodes: {node_list(parts)}."
    if fail_on == "all" and total and not any(inv.get("status") == "Success" for inv in invocations):
        parts = [_describe_failure(inv) for inv in unsuccessful]
        return f"Run Command {ids} succeeded on none of its {total} nodes: {node_list(parts)}."
    if fail_on == "max_errors":
        spec = max_errors or command.get("max_errors") or DEFAULT_MAX_ERRORS
        allowed = limit_of(spec, total, round_up=False)
        if len(errors) > allowed:
            parts = [_describe_failure(inv) for inv in errors]
            return (f"Run Command {ids} failed on {len(errors)} of {total} nodes, more than max_errors {spec} allows "
                    f"({allowed}): {node_list(parts)}.")
    return None


# ---------------------------------------------------------------------------------------------
# command_info
# ---------------------------------------------------------------------------------------------


def _parse_time(value):
    try:
        return datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def build_filters(filters, for_invocations=False):
    """ListCommands / ListCommandInvocations filters from a dict {AWS filter key: value}, checked."""
    result = []
    for key, value in (filters or {}).items():
        key = str(key)
        if key not in FILTER_KEYS:
            raise CommandValidationError(
                f"filters: unknown key {key!r}; valid keys are {', '.join(FILTER_KEYS)}."
            )
        if key == "ExecutionStage" and for_invocations:
            raise CommandValidationError(
                "filters: ExecutionStage filters commands, not invocations; drop it, or list commands only."
            )
        value = _text(value)
        if key in ("InvokedAfter", "InvokedBefore") and _parse_time(value) is None:
            raise CommandValidationError(
                f"filters: {key} {value!r} is not a date and time; use ISO 8601, such as 2026-01-31T00:00:00Z."
            )
        if key == "Status" and value not in STATUS_FILTER_VALUES:
            raise CommandValidationError(f"filters: Status {value!r} is not a status; use one of {', '.join(STATUS_FILTER_VALUES)}.")
        if key == "ExecutionStage" and value not in EXECUTION_STAGES:
            raise CommandValidationError(f"filters: ExecutionStage is {' or '.join(EXECUTION_STAGES)}, not {value!r}.")
        if not 1 <= len(value) <= 128:
            raise CommandValidationError(f"filters: the value of {key} must be 1 to 128 characters.")
        result.append({"key": key, "value": value})
    if len(result) > MAX_FILTERS:
        raise CommandValidationError(f"filters: at most {MAX_FILTERS} filters.")
    return result
