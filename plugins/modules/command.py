#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: command
short_description: Run a command on managed nodes with AWS Systems Manager Run Command
version_added: 0.1.0
description:
  - Sends a Command document (such as C(AWS-RunShellScript) or one of your own) to managed nodes with
    C(SendCommand), waits for it to end, and returns the result and the output of every node.
  - One API call reaches every node the O(targets) select, whatever their number; SSM runs the document on them
    at the pace O(max_concurrency) and O(max_errors) set. Nodes need no inbound network access and no Ansible
    connection.
  - Before anything is sent, the document and O(parameters) are checked against the document's parameter
    definitions (unknown names, missing required parameters, values outside the allowed values or pattern,
    item and length limits), and every option against AWS's limits.
  - With O(instance_ids), the nodes are looked up first (C(DescribeInstanceInformation), one call per 50 nodes). Ids
    that are not managed nodes of the region, or nodes whose platform the document does not support, fail the task
    before anything is sent; offline nodes give a warning.
  - SendCommand takes at most 50 instance ids. With more, the module sends one command per 50 nodes and reports
    them together in RV(command) (RV(command.command_ids), RV(command.commands)). Rate controls then keep their
    meaning for all the nodes together, see O(max_concurrency) and O(max_errors).
  - Running a command is a change; the module always reports C(changed) when it sends one.
author:
  - FleetOps SSM maintainers (@fleetops)
options:
  document_name:
    description:
      - The name or ARN of the Command document to run, for example V(AWS-RunShellScript), V(AWS-RunPatchBaseline)
        or a document of your own.
    type: str
    required: true
  document_version:
    description:
      - The version of the document to run, a version number, V($LATEST), V($DEFAULT) or a version name (the
        module finds its number). AWS runs the default version when it is unset.
    type: str
  parameters:
    description:
      - The document's parameters, by name (names are case-sensitive).
      - Values may be strings, numbers, booleans or lists; they are sent in the list-of-strings form AWS expects
        (V(true)/V(false) for booleans, one item per list element for C(StringList) parameters, JSON text for
        C(StringMap) and C(MapList) parameters). A multi-line string is one item of a C(StringList), which a shell
        document runs as a script.
      - Parameters the document gives a default for may be left out. Values of the form C({{ssm:/parameter/name}})
        are resolved by SSM when the command is sent, and are not checked here.
      - Parameter values are visible to anyone who can read the command in SSM (C(ListCommands)). Do not put
        secrets in them; have the commands read them on the node, from Parameter Store for example.
    type: dict
  instance_ids:
    description:
      - The ids of the managed nodes to run the command on (V(i-...) for EC2 instances, V(mi-...) for hybrid nodes).
        Any number; duplicates are ignored.
      - Exactly one of O(instance_ids) and O(targets) is required.
    type: list
    elements: str
  targets:
    description:
      - The nodes to run the command on, selected by SSM itself when the command is sent, up to 5 entries combined
        with AND.
      - Exactly one of O(instance_ids) and O(targets) is required.
    type: list
    elements: dict
    suboptions:
      key:
        description:
          - V(tag:<tag key>) (nodes with that tag and one of the values), V(tag-key) (nodes with one of the tag keys
            in the values), V(InstanceIds) (up to 50), V(resource-groups:Name) (the nodes of an AWS Resource Groups
            group) or V(resource-groups:ResourceTypeFilters) (V(AWS::EC2::Instance), V(AWS::SSM::ManagedInstance)).
        type: str
        required: true
      values:
        description: One to 50 values.
        type: list
        elements: str
        required: true
  max_concurrency:
    description:
      - How many nodes run the command at the same time, a number (V(10)) or a percentage of the nodes (V(25%)).
        AWS's default is V(50).
      - With more than 50 O(instance_ids), a number applies to all the nodes together - the module sends the next
        command of 50 nodes when the running ones leave room - and a percentage applies to each command alike.
    type: str
  max_errors:
    description:
      - How many nodes may fail before SSM stops sending the command to more nodes, a number (V(0), V(3)) or a
        percentage (V(10%)). AWS's default is V(0), SSM stopping at the first failure. Nodes already running go on.
      - With more than 50 O(instance_ids) it counts over all the nodes. Once their failures exceed it, the module
        cancels the commands still running and sends no more; the nodes it did not send the command to are listed
        in RV(command.not_sent_instance_ids).
      - See O(fail_on) for how failures decide the task's result.
    type: str
  timeout_seconds:
    description:
      - The delivery timeout, in seconds (30 to 2592000); a node that is not online to receive the command by then
        ends V(TimedOut) (V(DeliveryTimedOut)). AWS's default is 3600.
    type: int
  execution_timeout:
    description:
      - How long, in seconds, the commands may run on each node before the agent stops them (V(TimedOut),
        V(ExecutionTimedOut)). Sets the document's C(executionTimeout) parameter; a document without one is an
        error.
    type: int
  comment:
    description: A comment shown with the command in SSM, up to 100 characters.
    type: str
  output_s3_bucket:
    description:
      - An S3 bucket the agents write each node's complete output to. Without one, SSM keeps the first 24,000
        characters of stdout and 8,000 of stderr.
    type: str
  output_s3_key_prefix:
    description: The key prefix of the output in O(output_s3_bucket).
    type: str
  output_s3_region:
    description: The region of O(output_s3_bucket), when it is not the command's.
    type: str
  cloudwatch_output:
    description: Send the output to CloudWatch Logs.
    type: dict
    suboptions:
      enabled:
        description: Whether the output goes to CloudWatch Logs.
        type: bool
        default: true
      log_group_name:
        description: The log group; SSM uses C(/aws/ssm/<document name>) when it is unset.
        type: str
  service_role_arn:
    description: The IAM role SSM assumes to publish O(notification_config) notifications to Amazon SNS.
    type: str
  notification_config:
    description: Amazon SNS notifications about the command; needs O(service_role_arn).
    type: dict
    suboptions:
      arn:
        description: The SNS topic's ARN.
        type: str
        required: true
      events:
        description: The events that send a notification.
        type: list
        elements: str
        choices: [All, InProgress, Success, TimedOut, Cancelled, Failed]
      type:
        description: V(Command) (one notification per command) or V(Invocation) (one per node).
        type: str
        choices: [Command, Invocation]
  wait:
    description:
      - Wait for the command to end and return every node's result. With V(false) the module returns as soon as
        the command is sent; read the results later with M(fleetops.ssm.command_info).
    type: bool
    default: true
  poll_interval:
    description:
      - The longest pause, in seconds, between two checks of the command's status while waiting. The first check
        comes after one second and the pause doubles up to this value.
    type: int
    default: 5
  wait_timeout:
    description: How long, in seconds, to wait for the command to end before the task fails.
    type: int
    default: 3600
  cancel_on_timeout:
    description: Cancel the command when O(wait_timeout) expires. With V(false) it goes on running in SSM.
    type: bool
    default: true
  fail_on:
    description:
      - When the task fails because of the nodes' results (the result is returned either way).
      - V(any), a node that did not succeed (V(Failed), V(TimedOut), V(Cancelled), or not sent).
      - V(all), no node succeeded.
      - V(none), never.
      - V(max_errors), more nodes V(Failed) or V(TimedOut) than O(max_errors) allows (counted over all the nodes).
    type: str
    choices: [any, all, none, max_errors]
    default: any
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - fleetops.ssm.attributes
attributes:
  check_mode:
    support: full
    details:
      - Checks the document and the parameters and finds the nodes the command would reach
        (C(DescribeInstanceInformation)), reporting their number in RV(command.target_count); nothing is sent.
      - Nodes selected by a resource group (V(resource-groups:Name)) are found by SSM only when the command is
        sent; their number is then unknown (null) in check mode.
  diff_mode:
    support: none
  idempotent:
    support: none
    details:
      - Every run sends the command again.
notes:
  - IAM actions used are C(ssm:SendCommand), C(ssm:ListCommands), C(ssm:ListCommandInvocations),
    C(ssm:GetCommandInvocation), C(ssm:CancelCommand), C(ssm:DescribeDocument), C(ssm:GetDocument) and
    C(ssm:DescribeInstanceInformation); C(iam:PassRole) on O(service_role_arn) when it is set.
  - "API calls while waiting: one C(ListCommands) per poll and per command still running, then, once a command
    has ended, its invocations 50 per C(ListCommandInvocations) page; a node's step whose output is longer than the
    2,500 characters listed there costs one C(GetCommandInvocation)."
seealso:
  - module: fleetops.ssm.command_info
  - module: fleetops.ssm.document
  - name: Running commands with Run Command
    description: The AWS Systems Manager user guide.
    link: https://docs.aws.amazon.com/systems-manager/latest/userguide/run-command.html
"""

EXAMPLES = r"""
- name: Kernel version of the web servers
  fleetops.ssm.command:
    document_name: AWS-RunShellScript
    targets:
      - key: tag:Role
        values: [web]
    parameters:
      commands:
        - uname -r
  register: kernels

- name: Show each node's answer
  ansible.builtin.debug:
    msg: "{{ kernels.invocations | items2dict(key_name='instance_id', value_name='stdout') }}"

- name: Restart the application, ten nodes at a time, tolerating two failures
  fleetops.ssm.command:
    document_name: AWS-RunShellScript
    instance_ids: "{{ groups['app'] | map('extract', hostvars, 'instance_id') | list }}"
    parameters:
      commands: |
        systemctl restart app
        systemctl is-active app
    max_concurrency: "10"
    max_errors: "2"
    fail_on: max_errors
    execution_timeout: 300
    comment: restart app

- name: Install missing patches on one patch group, output to S3
  fleetops.ssm.command:
    document_name: AWS-RunPatchBaseline
    targets:
      - key: tag:Patch Group
        values: [web-prod]
    parameters:
      Operation: Install
      RebootOption: RebootIfNeeded
    max_concurrency: 20%
    max_errors: 5%
    output_s3_bucket: example-ssm-output
    output_s3_key_prefix: patching
    wait_timeout: 7200

- name: How many nodes would a command reach (nothing is sent)
  fleetops.ssm.command:
    document_name: AWS-RunShellScript
    targets:
      - key: tag-key
        values: [Team]
    parameters:
      commands: [hostname]
  check_mode: true
  register: reach

- name: Start a long job and do not wait for it
  fleetops.ssm.command:
    document_name: AWS-RunShellScript
    instance_ids: [mi-0123456789abcdef0]
    parameters:
      commands: [/usr/local/bin/reindex]
    wait: false
  register: job
"""

RETURN = r"""
command:
  description:
    - The command, as SSM reports it after the wait (as sent with O(wait=false); predicted in check mode).
    - With more than 50 O(instance_ids), the commands sent, added up; RV(command.commands) has each one.
  returned: always
  type: dict
  contains:
    command_id:
      description: The command's id; with several commands, the first one's. Null in check mode.
      returned: always
      type: str
      sample: 6a5b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d
    command_ids:
      description: The ids of every command sent (one per 50 instance ids); empty in check mode.
      returned: always
      type: list
      elements: str
      sample: ["6a5b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"]
    commands:
      description: Each command sent, with its own status, nodes and counts.
      returned: always
      type: list
      elements: dict
      sample: [{"command_id": "6a5b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d", "status": "Success", "status_details": "Success",
                "instance_ids": ["mi-0123456789abcdef0"], "target_count": 1, "completed_count": 1, "error_count": 0,
                "delivery_timed_out_count": 0, "max_concurrency": "50", "max_errors": "0",
                "requested_date_time": "2026-01-02T03:04:05.678000+00:00"}]
    not_sent_instance_ids:
      description: Instance ids the module did not send the command to, because O(max_errors) was exceeded over
        all the nodes or O(wait_timeout) expired first.
      returned: always
      type: list
      elements: str
      sample: []
    status:
      description:
        - V(Pending), V(InProgress), V(Success), V(Failed), V(TimedOut), V(Cancelling) or V(Cancelled); with several
          commands, the worst of them. Null in check mode.
        - SSM reports V(Failed) only when more nodes failed than O(max_errors) allows; see RV(invocations) for each
          node's result.
      returned: always
      type: str
      sample: Success
    status_details:
      description: SSM's detailed status, such as V(Success), V(Incomplete), V(DeliveryTimedOut) or V(NoInstancesInTag).
      returned: always
      type: str
      sample: Success
    document_name:
      description: The document run.
      returned: always
      type: str
      sample: AWS-RunShellScript
    document_version:
      description: The document version asked for (V($DEFAULT) when unset).
      returned: always
      type: str
      sample: $DEFAULT
    comment:
      description: The comment.
      returned: always
      type: str
      sample: restart app
    requested_date_time:
      description: When the command was sent (ISO 8601); null in check mode.
      returned: always
      type: str
      sample: "2026-01-02T03:04:05.678000+00:00"
    expires_after:
      description: When SSM gives up on nodes that have not run the command (ISO 8601).
      returned: when a command was sent
      type: str
      sample: "2026-01-02T05:04:05.678000+00:00"
    target_count:
      description: How many nodes the command reaches (check mode, the nodes found; null when only SSM can tell).
      returned: always
      type: int
      sample: 3
    completed_count:
      description: How many nodes have reached a final status.
      returned: always
      type: int
      sample: 3
    error_count:
      description: How many nodes V(Failed) or timed out while running (V(ExecutionTimedOut)).
      returned: always
      type: int
      sample: 0
    delivery_timed_out_count:
      description: How many nodes were not online to receive the command before O(timeout_seconds).
      returned: always
      type: int
      sample: 0
    max_concurrency:
      description: The max_concurrency the command ran with.
      returned: always
      type: str
      sample: "50"
    max_errors:
      description: The max_errors the command ran with.
      returned: always
      type: str
      sample: "0"
    timeout_seconds:
      description: The delivery timeout, in seconds.
      returned: always
      type: int
      sample: 3600
    parameters:
      description: The parameters sent, in AWS's form (lists of strings), names as the document spells them.
      returned: always
      type: dict
      sample: {"commands": ["uname -r"]}
    instance_ids:
      description: The instance ids the command was sent to (empty with O(targets)).
      returned: always
      type: list
      elements: str
      sample: ["mi-0123456789abcdef0"]
    targets:
      description: The targets the command was sent to.
      returned: always
      type: list
      elements: dict
      sample: [{"key": "tag:Role", "values": ["web"]}]
    output_s3_bucket_name:
      description: The S3 bucket of the output.
      returned: when O(output_s3_bucket) is set
      type: str
      sample: example-ssm-output
    output_s3_key_prefix:
      description: The key prefix of the output in S3.
      returned: when a command was sent
      type: str
      sample: patching
    output_s3_region:
      description: The region of the output bucket.
      returned: when a command was sent
      type: str
      sample: us-east-1
    service_role:
      description: The service role for notifications.
      returned: when a command was sent
      type: str
      sample: arn:aws:iam::123456789012:role/ssm-notifications
    notification_config:
      description: The SNS notification settings (C(notification_arn), C(notification_events), C(notification_type)).
      returned: when a command was sent
      type: dict
      sample: {"notification_arn": "", "notification_events": []}
    cloud_watch_output_config:
      description: The CloudWatch Logs settings (C(cloud_watch_output_enabled), C(cloud_watch_log_group_name)).
      returned: when a command was sent
      type: dict
      sample: {"cloud_watch_output_enabled": false}
invocations:
  description:
    - Each node's result, when the module waited (empty with O(wait=false) and in check mode).
  returned: always
  type: list
  elements: dict
  contains:
    command_id:
      description: The command that reached the node.
      returned: always
      type: str
      sample: 6a5b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d
    instance_id:
      description: The node.
      returned: always
      type: str
      sample: mi-0123456789abcdef0
    computer_name:
      description: The node's host name, as its agent reports it.
      returned: always
      type: str
      sample: web-1
    status:
      description: V(Success), V(Failed), V(TimedOut), V(Cancelled), or, while running, V(Pending), V(InProgress), V(Delayed).
      returned: always
      type: str
      sample: Success
    status_details:
      description:
        - The detailed status, such as V(Success), V(Failed), V(ExecutionTimedOut), V(DeliveryTimedOut),
          V(Undeliverable), V(InvalidPlatform), V(Terminated) (not run because O(max_errors) was exceeded).
      returned: always
      type: str
      sample: Success
    response_code:
      description: The exit code of the commands (of the first step that failed); V(-1) when they never ran.
      returned: always
      type: int
      sample: 0
    stdout:
      description: The standard output (of every step, in order); at most 24,000 characters per step.
      returned: always
      type: str
      sample: "Linux web-1 6.1.0-28-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 x86_64 GNU/Linux\n"
    stderr:
      description: The standard error; at most 8,000 characters per step.
      returned: always
      type: str
      sample: ""
    stdout_truncated:
      description: Whether SSM cut the standard output (the complete output is in S3 when O(output_s3_bucket) is set).
      returned: always
      type: bool
      sample: false
    stderr_truncated:
      description: Whether SSM cut the standard error.
      returned: always
      type: bool
      sample: false
    standard_output_url:
      description: The S3 URL of the complete standard output; null without O(output_s3_bucket).
      returned: always
      type: str
      sample: null
    standard_error_url:
      description: The S3 URL of the complete standard error; null without O(output_s3_bucket).
      returned: always
      type: str
      sample: null
    start_time:
      description: When the node started running the document (ISO 8601); null if it never did.
      returned: always
      type: str
      sample: "2026-01-02T03:04:06.012000+00:00"
    end_time:
      description: When the node finished (ISO 8601); null while running or if it never ran.
      returned: always
      type: str
      sample: "2026-01-02T03:04:06.498000+00:00"
    document_name:
      description: The document run.
      returned: always
      type: str
      sample: AWS-RunShellScript
    document_version:
      description: The document version asked for.
      returned: always
      type: str
      sample: $DEFAULT
    requested_date_time:
      description: When the command was sent (ISO 8601).
      returned: always
      type: str
      sample: "2026-01-02T03:04:05.678000+00:00"
    plugins:
      description:
        - Each step of the document (its plugins), with the keys above for that step
          (C(name), C(status), C(status_details), C(response_code), C(stdout), C(stderr), C(stdout_truncated),
          C(stderr_truncated), C(standard_output_url), C(standard_error_url), C(start_time), C(end_time)).
      returned: always
      type: list
      elements: dict
      sample: [{"name": "aws:runShellScript", "status": "Success", "response_code": 0, "stdout": "web-1\n"}]
resolved_instance_ids:
  description:
    - The nodes the command reaches (check mode, would reach); with O(targets) and O(wait=false), the nodes SSM had
      resolved when the module returned; empty when unknown (resource groups in check mode).
  returned: always
  type: list
  elements: str
  sample: ["mi-0123456789abcdef0", "mi-0fedcba9876543210"]
"""

from ansible_collections.fleetops.ssm.plugins.module_utils import _commands as cmd
from ansible_collections.fleetops.ssm.plugins.module_utils import _documents as docs
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError
from ansible_collections.fleetops.ssm.plugins.module_utils._modules import FleetOpsSSMModule


class Plan:
    """What the task sends: the request shared by its commands, the nodes, and what was learnt finding them."""

    def __init__(self, request, instance_ids, targets, nodes, warnings):
        self.request = request
        self.instance_ids = instance_ids
        self.targets = targets
        self.nodes = nodes  # InstanceInformation of the nodes found; None when not looked up or unknown
        self.warnings = warnings


def document_definitions(client, name, version):
    """(DescribeDocument's Document, parameter definitions, version number to send or None)."""
    try:
        description = docs.describe_document(client, name, version)
    except AnsibleSSMError as e:
        if e.error_code in ("InvalidDocumentVersion", "ValidationException") and version:
            raise cmd.CommandValidationError(f"document_version {version!r} of document {name} does not exist.")
        raise
    if description is None:
        raise cmd.CommandValidationError(
            f"Document {name} does not exist in this region, or is not shared with this account."
            + (f" (version {version})" if version else "")
        )
    kind = description.get("DocumentType")
    if kind != "Command":
        raise cmd.CommandValidationError(
            f"Document {name} is a {kind} document; Run Command runs Command documents (such as AWS-RunShellScript)."
        )
    send_version = None
    if version:
        send_version = version if cmd.DOCUMENT_VERSION_RE.match(version) else description.get("DocumentVersion")
    stored = docs.get_document(client, name, send_version or None)
    data = docs.parse_stored(stored.get("Content"), stored.get("DocumentFormat")) if stored else None
    definitions = cmd.parameter_definitions(data) if data is not None else cmd.definitions_from_description(description)
    return description, definitions, send_version


def find_nodes(client, instance_ids, targets, check_mode):
    """(InstanceInformation of the nodes, warnings): instance ids always, targets in check mode only.

    The nodes are None when not looked up, or when only SSM can tell (resource groups).
    """
    warnings, found = [], None
    if instance_ids:
        known = cmd.describe_nodes(client, instance_ids)
        missing = [iid for iid in instance_ids if iid not in known]
        if missing:
            raise cmd.CommandValidationError(
                f"instance_ids: {cmd.node_list(missing, ', ')} {'is not a managed node' if len(missing) == 1 else 'are not managed nodes'}"
                " of this region (SSM would refuse the command: InvalidInstanceId). Check the ids and the region."
            )
        found = [known[iid] for iid in instance_ids]
    elif check_mode:
        found = cmd.resolve_targets(client, targets)
        if found is None:
            warnings.append("The targets name a resource group, whose nodes SSM finds when the command is sent: "
                            "check mode cannot count them.")
        elif not found:
            warnings.append("The targets match no managed node: the command would run nowhere.")
    down = cmd.offline(found or [])
    if down:
        warnings.append(f"{len(down)} of the nodes {'is' if len(down) == 1 else 'are'} not online "
                        f"({cmd.node_list(down, ', ')}); SSM delivers the command if they come back within "
                        "timeout_seconds, otherwise they end DeliveryTimedOut.")
    return found, warnings


def prepare(client, params, check_mode):
    """Every check, then the SendCommand request; raises CommandValidationError before anything is sent."""
    cmd.validate_wait(params)
    request = cmd.base_request(params)
    max_concurrency = cmd.validate_rate(params["max_concurrency"], "max_concurrency", cmd.MAX_CONCURRENCY_RE)
    max_errors = cmd.validate_rate(params["max_errors"], "max_errors", cmd.MAX_ERRORS_RE)
    instance_ids = cmd.validate_instance_ids(params["instance_ids"])
    targets = cmd.validate_targets(params["targets"])
    name = params["document_name"]
    description, definitions, version = document_definitions(client, name, params["document_version"])
    parameters = cmd.build_parameters(name, definitions, params["parameters"], params["execution_timeout"])
    if version:
        request["DocumentVersion"] = version
    if parameters:
        request["Parameters"] = parameters
    if targets:
        request["Targets"] = targets
    if max_concurrency:
        request["MaxConcurrency"] = max_concurrency
    if max_errors:
        request["MaxErrors"] = max_errors
    found, warnings = find_nodes(client, instance_ids, targets, check_mode)
    if found is not None:
        cmd.check_platforms(found, description.get("PlatformTypes"), name)
    several = instance_ids and len(instance_ids) > cmd.MAX_INSTANCE_IDS
    if several and not params["wait"] and any(v and not v.endswith("%") for v in (max_concurrency, max_errors)):
        warnings.append("With more than 50 instance_ids and wait=false, every command of up to 50 nodes is sent at "
                        "once and applies max_concurrency and max_errors on its own.")
    return Plan(request, instance_ids, targets, found, warnings)


def command_set(client, plan, params):
    request = {key: value for key, value in plan.request.items() if key not in ("MaxConcurrency", "MaxErrors")}
    return cmd.CommandSet(client, request, plan.instance_ids, plan.request.get("MaxConcurrency"),
                          plan.request.get("MaxErrors"), windowed=params["wait"])


def send(client, commands, plan, params):
    """Send (and wait, unless wait=false); returns (invocations, resolved instance ids, whether all ended)."""
    if not params["wait"]:
        commands.send_all()
        if plan.instance_ids:
            return [], list(plan.instance_ids), True
        return [], [inv["InstanceId"] for inv in commands.invocations(details=False)], True
    commands.send_more()
    finished = commands.wait(params["wait_timeout"], params["poll_interval"], params["cancel_on_timeout"])
    invocations = [cmd.invocation_to_ansible(client, inv) for inv in commands.invocations()]
    return invocations, [inv["instance_id"] for inv in invocations], finished


def outcome(commands, plan, invocations, finished, params):
    """(the command result, the failure message or None)."""
    command = cmd.combine(commands.sent, plan.instance_ids, params["max_concurrency"], params["max_errors"],
                          commands.not_sent)
    if not finished:
        state = "it was cancelled" if params["cancel_on_timeout"] else "it goes on running in SSM (cancel_on_timeout=false)"
        return command, (f"Run Command {', '.join(command['command_ids'])} did not end within wait_timeout "
                         f"({params['wait_timeout']} seconds); {state}. Status: {command['status']}.")
    return command, cmd.failure_message(params["fail_on"], command, invocations, params["max_errors"])


def check_mode_result(plan):
    ids = [info["InstanceId"] for info in plan.nodes] if plan.nodes is not None else []
    count = len(ids) if plan.nodes is not None else None
    command = cmd.predicted(plan.request, plan.targets, plan.instance_ids, count)
    return dict(changed=True, command=command, invocations=[], resolved_instance_ids=ids)


def fail_after_sending(module, error, commands):
    """An API error once commands were sent: fail with their ids, so that they can be followed up."""
    if commands is None or not commands.sent:
        module.fail_json_aws_error(error)
    ids = ", ".join(command["CommandId"] for command in commands.sent)
    module.fail_json(msg=f"{error} (after sending Run Command {ids})", changed=True, command=cmd.combine(commands.sent),
                     invocations=[], resolved_instance_ids=[], error_code=error.error_code)


ARGUMENT_SPEC = dict(
    document_name=dict(type="str", required=True),
    document_version=dict(type="str"),
    parameters=dict(type="dict"),
    instance_ids=dict(type="list", elements="str"),
    targets=dict(type="list", elements="dict", options=dict(
        key=dict(type="str", required=True, no_log=False),
        values=dict(type="list", elements="str", required=True),
    )),
    max_concurrency=dict(type="str"),
    max_errors=dict(type="str"),
    timeout_seconds=dict(type="int"),
    execution_timeout=dict(type="int"),
    comment=dict(type="str"),
    output_s3_bucket=dict(type="str"),
    output_s3_key_prefix=dict(type="str", no_log=False),
    output_s3_region=dict(type="str"),
    cloudwatch_output=dict(type="dict", options=dict(
        enabled=dict(type="bool", default=True),
        log_group_name=dict(type="str"),
    )),
    service_role_arn=dict(type="str"),
    notification_config=dict(type="dict", options=dict(
        arn=dict(type="str", required=True),
        events=dict(type="list", elements="str", choices=list(cmd.NOTIFICATION_EVENTS)),
        type=dict(type="str", choices=list(cmd.NOTIFICATION_TYPES)),
    )),
    wait=dict(type="bool", default=True),
    poll_interval=dict(type="int", default=5),
    wait_timeout=dict(type="int", default=3600),
    cancel_on_timeout=dict(type="bool", default=True),
    fail_on=dict(type="str", choices=list(cmd.FAIL_ON), default="any"),
)


def main():
    module = FleetOpsSSMModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                               mutually_exclusive=[("instance_ids", "targets")],
                               required_one_of=[("instance_ids", "targets")])
    client = module.client("ssm")
    params = module.params
    commands = None
    try:
        plan = prepare(client, params, module.check_mode)
        for warning in plan.warnings:
            module.warn(warning)
        if module.check_mode:
            module.exit_json(**check_mode_result(plan))
        commands = command_set(client, plan, params)
        invocations, resolved, finished = send(client, commands, plan, params)
        command, failure = outcome(commands, plan, invocations, finished, params)
    except AnsibleSSMError as e:
        fail_after_sending(module, e, commands)
    if command["target_count"] == 0:
        module.warn("The targets matched no managed node: the command ran nowhere (NoInstancesInTag).")
    result = dict(changed=True, command=command, invocations=invocations, resolved_instance_ids=resolved)
    if failure:
        module.fail_json(msg=failure, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
