#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: command_info
short_description: Read AWS Systems Manager Run Command commands and the result of each node
version_added: 0.1.0
description:
  - Lists Run Command commands, newest first (C(ListCommands)); all of them, one (O(command_id)), those sent to a
    node (O(instance_id)), or those O(filters) select. SSM keeps commands for 30 days.
  - With O(invocations=true), also lists the invocations (one per node and command) of the same selection
    (C(ListCommandInvocations)), each with its output when O(output=true), in the form
    M(fleetops.ssm.command) returns them.
author:
  - FleetOps SSM maintainers (@fleetops)
options:
  command_id:
    description: Only this command. A command SSM does not know gives empty lists.
    type: str
  instance_id:
    description: Only the commands sent to this managed node, and its invocations.
    type: str
  filters:
    description:
      - Filters, by AWS's key, each with one value. V(InvokedAfter) and V(InvokedBefore) take an ISO 8601 date and
        time (V(2026-01-31T00:00:00Z)); V(Status) a status such as V(Success), V(Failed), V(TimedOut),
        V(DeliveryTimedOut) or V(Cancelled); V(DocumentName) a document name; V(ExecutionStage) V(Executing) or
        V(Complete).
      - They apply to the commands by the command's status, and to the invocations by each node's status.
        V(ExecutionStage) is for commands only, and cannot be used with O(invocations=true).
    type: dict
  invocations:
    description: Also return the invocations of the selected commands or node.
    type: bool
    default: false
  output:
    description:
      - Return each invocation's output (stdout and stderr of each step) with O(invocations=true).
      - The output comes with the listing (C(Details)), 2,500 characters per step; a longer one costs one
        C(GetCommandInvocation) call for that node and step.
    type: bool
    default: true
  limit:
    description: At most this many commands, and at most this many invocations, newest first. V(0) returns all.
    type: int
    default: 50
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - fleetops.ssm.attributes
  - fleetops.ssm.attributes.info_module
notes:
  - IAM actions used are C(ssm:ListCommands), and with O(invocations=true) C(ssm:ListCommandInvocations) and
    C(ssm:GetCommandInvocation).
seealso:
  - module: fleetops.ssm.command
"""

EXAMPLES = r"""
- name: The last ten commands that failed
  fleetops.ssm.command_info:
    filters:
      Status: Failed
    limit: 10
  register: failed

- name: One command, with the output of every node
  fleetops.ssm.command_info:
    command_id: "{{ job.command.command_id }}"
    invocations: true
  register: job_result

- name: What ran on one node since the start of the year
  fleetops.ssm.command_info:
    instance_id: mi-0123456789abcdef0
    filters:
      InvokedAfter: "2026-01-01T00:00:00Z"
    invocations: true
    limit: 0
"""

RETURN = r"""
commands:
  description:
    - The commands found, newest first, in the form M(fleetops.ssm.command) returns RV(fleetops.ssm.command#module:command)
      (without the keys it adds for several commands).
  returned: always
  type: list
  elements: dict
  contains:
    command_id:
      description: The command's id.
      returned: always
      type: str
      sample: 6a5b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d
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
    comment:
      description: The comment.
      returned: always
      type: str
      sample: restart app
    status:
      description: The command's status.
      returned: always
      type: str
      sample: Success
    status_details:
      description: The detailed status.
      returned: always
      type: str
      sample: Success
    requested_date_time:
      description: When it was sent (ISO 8601).
      returned: always
      type: str
      sample: "2026-01-02T03:04:05.678000+00:00"
    expires_after:
      description: When SSM gives up on nodes that have not run it (ISO 8601).
      returned: always
      type: str
      sample: "2026-01-02T05:04:05.678000+00:00"
    parameters:
      description: The parameters sent, in AWS's form.
      returned: always
      type: dict
      sample: {"commands": ["uname -r"]}
    instance_ids:
      description: The instance ids it was sent to (empty when it was sent to targets).
      returned: always
      type: list
      elements: str
      sample: ["mi-0123456789abcdef0"]
    targets:
      description: The targets it was sent to.
      returned: always
      type: list
      elements: dict
      sample: [{"key": "tag:Role", "values": ["web"]}]
    target_count:
      description: How many nodes it reaches.
      returned: always
      type: int
      sample: 3
    completed_count:
      description: How many nodes reached a final status.
      returned: always
      type: int
      sample: 3
    error_count:
      description: How many nodes failed or timed out while running.
      returned: always
      type: int
      sample: 0
    delivery_timed_out_count:
      description: How many nodes did not receive it in time.
      returned: always
      type: int
      sample: 0
    max_concurrency:
      description: Its max_concurrency.
      returned: always
      type: str
      sample: "50"
    max_errors:
      description: Its max_errors.
      returned: always
      type: str
      sample: "0"
    timeout_seconds:
      description: Its delivery timeout.
      returned: always
      type: int
      sample: 3600
    output_s3_bucket_name:
      description: The S3 bucket of its output.
      returned: when set
      type: str
      sample: example-ssm-output
    output_s3_key_prefix:
      description: The key prefix of its output.
      returned: always
      type: str
      sample: ""
    output_s3_region:
      description: The region of its output bucket.
      returned: always
      type: str
      sample: us-east-1
    service_role:
      description: Its service role for notifications.
      returned: always
      type: str
      sample: ""
    notification_config:
      description: Its SNS notification settings.
      returned: always
      type: dict
      sample: {"notification_arn": "", "notification_events": []}
    cloud_watch_output_config:
      description: Its CloudWatch Logs settings.
      returned: always
      type: dict
      sample: {"cloud_watch_output_enabled": false}
invocations:
  description:
    - The invocations found, newest command first, in the form M(fleetops.ssm.command) returns
      RV(fleetops.ssm.command#module:invocations) (C(stdout), C(stderr), C(stdout_truncated) and
      C(stderr_truncated) only with O(output=true)).
  returned: when O(invocations=true)
  type: list
  elements: dict
  sample: [{"command_id": "6a5b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d", "instance_id": "mi-0123456789abcdef0",
            "computer_name": "web-1", "status": "Success", "status_details": "Success", "response_code": 0,
            "stdout": "web-1\n", "stderr": "", "stdout_truncated": false, "stderr_truncated": false,
            "standard_output_url": null, "standard_error_url": null, "document_name": "AWS-RunShellScript",
            "document_version": "$DEFAULT", "requested_date_time": "2026-01-02T03:04:05.678000+00:00",
            "start_time": "2026-01-02T03:04:06.012000+00:00", "end_time": "2026-01-02T03:04:06.498000+00:00",
            "plugins": [{"name": "aws:runShellScript", "status": "Success", "response_code": 0}]}]
"""

from ansible_collections.fleetops.ssm.plugins.module_utils import _commands as cmd
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError
from ansible_collections.fleetops.ssm.plugins.module_utils._modules import FleetOpsSSMModule


def validate(params):
    """The filters for each listing, checked before any call."""
    if params["command_id"] and not cmd.COMMAND_ID_RE.match(params["command_id"]):
        raise cmd.CommandValidationError(f"command_id {params['command_id']!r} is not a command id (a UUID, 36 characters).")
    if params["instance_id"] and not cmd.INSTANCE_ID_RE.match(params["instance_id"]):
        raise cmd.CommandValidationError(f"instance_id {params['instance_id']!r} is not a managed node id (i-... or mi-...).")
    if params["limit"] < 0:
        raise cmd.CommandValidationError("limit must be 0 (everything) or more.")
    filters = cmd.build_filters(params["filters"])
    if params["invocations"]:
        cmd.build_filters(params["filters"], for_invocations=True)
    return filters


def read(client, params, filters):
    """(commands, invocations or None); empty lists for a command id SSM does not know."""
    selection = dict(command_id=params["command_id"], instance_id=params["instance_id"], filters=filters,
                     limit=params["limit"] or None)
    try:
        commands = cmd.list_commands(client, **selection)
        invocations = None
        if params["invocations"]:
            listed = cmd.list_command_invocations(client, details=params["output"], **selection)
            invocations = [cmd.invocation_to_ansible(client, item, with_output=params["output"]) for item in listed]
    except AnsibleSSMError as e:
        if e.error_code != "InvalidCommandId":
            raise
        return [], [] if params["invocations"] else None
    return [cmd.command_to_ansible(command) for command in commands], invocations


def main():
    argument_spec = dict(
        command_id=dict(type="str"),
        instance_id=dict(type="str"),
        filters=dict(type="dict"),
        invocations=dict(type="bool", default=False),
        output=dict(type="bool", default=True),
        limit=dict(type="int", default=50),
    )
    module = FleetOpsSSMModule(argument_spec=argument_spec, supports_check_mode=True)
    client = module.client("ssm")
    try:
        filters = validate(module.params)
        commands, invocations = read(client, module.params, filters)
    except AnsibleSSMError as e:
        module.fail_json_aws_error(e)
    result = dict(changed=False, commands=commands)
    if invocations is not None:
        result["invocations"] = invocations
    module.exit_json(**result)


if __name__ == "__main__":
    main()
