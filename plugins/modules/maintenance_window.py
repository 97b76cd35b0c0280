#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: maintenance_window
short_description: Manage an AWS Systems Manager maintenance window with its targets and tasks
version_added: 0.1.0
description:
  - Create, update and delete one maintenance window of AWS Systems Manager, together with its
    registered targets and tasks, as one resource.
  - The window is found by O(name), or by O(window_id). AWS does not keep window names unique;
    when several windows share the name, the module fails and asks for O(window_id).
  - Targets and tasks are matched with the ones registered in the window by their names. A
    changed target or task is updated in place (C(UpdateMaintenanceWindowTarget),
    C(UpdateMaintenanceWindowTask)), so it keeps its id and its execution history. Only a change
    AWS cannot make in place re-registers it under a new id, with its old registration removed
    afterwards; that is a change of O(targets[].resource_type) or of O(tasks[].task_type).
  - Targets and tasks that the task does not list are removed, unless O(purge_targets=false) or
    O(purge_tasks=false). When O(targets) or O(tasks) is not set, they are left alone.
  - Every option is checked before the first call to AWS, with AWS's rules, including the
    schedule expression, the cutoff against the duration, the rate controls, and the target names
    the tasks use.
author:
  - FleetOps SSM maintainers (@fleetops)
options:
  name:
    description:
      - The name of the window (3 to 128 letters, digits, V(_), V(-) and V(.)).
      - Required unless O(window_id) is set. With O(window_id), a different name renames the window.
    type: str
  window_id:
    description:
      - The id of an existing window, such as V(mw-0123456789abcdef0). Use it when several windows
        share a name. The module does not create a window that is given by id.
    type: str
  state:
    description: Whether the window should exist. V(absent) deletes it, with its targets and tasks.
    type: str
    choices: [present, absent]
    default: present
  schedule:
    description:
      - When the window runs, as AWS's C(cron(...)), C(rate(...)) or C(at(...)) expression.
      - A cron expression has six fields, C(minutes hours day-of-month month day-of-week year), or
        seven with seconds first; exactly one of day-of-month and day-of-week is V(?). For example
        V(cron(0 2 ? * SUN *)) (02:00 every Sunday) or V(cron(30 23 ? * TUE#3 *)) (23:30 on the
        third Tuesday of the month).
      - A rate expression is V(rate(N unit)) with the unit V(minute), V(hour) or V(day), singular
        for 1 and plural otherwise, for example V(rate(7 days)).
      - V(at(2026-07-07T13:15:00)) runs the window once.
      - Required to create a window.
    type: str
  schedule_timezone:
    description:
      - The IANA time zone of the schedule, such as V(Europe/Berlin). AWS uses UTC when it is unset.
      - An empty string removes it.
    type: str
  schedule_offset:
    description:
      - Days (1 to 6) to wait after the time the cron expression gives before the window runs.
        Applies to cron schedules only. V(0) removes the offset.
    type: int
  duration:
    description: How long the window lasts, in hours (1 to 24). Required to create a window.
    type: int
  cutoff:
    description:
      - How many hours before the end of the window no new task starts (0 to 23). It must be
        smaller than O(duration). Required to create a window.
    type: int
  allow_unassociated_targets:
    description:
      - Whether tasks may target nodes that are not registered as window targets (by O(tasks[].targets)).
      - A new window does not allow it unless this is set.
    type: bool
  enabled:
    description: Whether the window runs on its schedule. A new window is enabled unless this is V(false).
    type: bool
  start_date:
    description:
      - When the window becomes active (ISO 8601, such as V(2026-01-01T00:00:00Z)). An empty string
        removes it. Compared as a point in time, so any equivalent form is idempotent.
    type: str
  end_date:
    description: When the window stops running (ISO 8601). An empty string removes it.
    type: str
  description:
    description: A description of up to 128 characters. An empty string removes it.
    type: str
  targets:
    description:
      - The targets registered with the window, each with a unique name. Tasks refer to them by
        name in O(tasks[].window_targets).
      - A target selects nodes with O(targets[].instance_ids), O(targets[].tags) and
        O(targets[].targets); AWS takes at most 5 key/values entries per target.
      - When unset, the window's targets are left alone.
    type: list
    elements: dict
    suboptions:
      name:
        description: The name of the target, unique in the window.
        type: str
        required: true
      description:
        description: A description of up to 128 characters.
        type: str
      resource_type:
        description:
          - What the target selects. V(RESOURCE_GROUP) targets need a C(resource-groups:Name) entry in O(targets[].targets).
          - AWS cannot change it in place; a change re-registers the target under a new id.
        type: str
        choices: [INSTANCE, RESOURCE_GROUP]
        default: INSTANCE
      instance_ids:
        description: Managed node ids (C(i-...) or C(mi-...)), at most 50.
        type: list
        elements: str
      tags:
        description:
          - Select the nodes by tag. Each key is a tag key, and its value a value or a list of
            values of which any matches (AWS's C(tag:<key>) targets).
        type: dict
      targets:
        description:
          - Key/values entries as AWS takes them, for what O(targets[].instance_ids) and
            O(targets[].tags) do not cover, such as V(tag-key), V(resource-groups:Name) or
            V(resource-groups:ResourceTypeFilters).
        type: list
        elements: dict
        suboptions:
          key:
            description: The target key.
            type: str
            required: true
          values:
            description: The values.
            type: list
            elements: str
            required: true
      owner_information:
        description:
          - Text that AWS includes in the events of task runs on this target. An empty string or
            no value removes it.
        type: str
  purge_targets:
    description: Remove the targets of the window that O(targets) does not list.
    type: bool
    default: true
  tasks:
    description:
      - The tasks registered with the window, each with a unique name.
      - Every option of a task defines it, as a whole; an unset option is removed from the task
        (except O(tasks[].service_role_arn), see there). The order of the list does not matter;
        tasks run by O(tasks[].priority).
      - When unset, the window's tasks are left alone.
    type: list
    elements: dict
    suboptions:
      name:
        description: The name of the task, unique in the window.
        type: str
        required: true
      description:
        description: A description of up to 128 characters.
        type: str
      task_type:
        description:
          - The kind of task. AWS cannot change it in place; a change re-registers the task under
            a new id (with a new execution history).
        type: str
        choices: [RUN_COMMAND, AUTOMATION, LAMBDA, STEP_FUNCTIONS]
        default: RUN_COMMAND
      document:
        description:
          - What the task runs (AWS's C(TaskArn)), that is a Command document for V(RUN_COMMAND), such as
            V(AWS-RunPatchBaseline), an Automation runbook for V(AUTOMATION), a Lambda function
            ARN or a Step Functions state machine ARN.
        type: str
        required: true
        aliases: [task_arn]
      document_version:
        description: The document version for V(RUN_COMMAND) and V(AUTOMATION) tasks, V($LATEST), V($DEFAULT) or a number.
        type: str
      parameters:
        description:
          - The document's parameters for V(RUN_COMMAND) and V(AUTOMATION) tasks, each a value or
            a list of values. Values may use AWS's pseudo parameters such as C({{RESOURCE_ID}}).
        type: dict
      window_targets:
        description:
          - Names of window targets (from O(targets)) the task runs on.
          - A name that is not a target of the window is an error, found before any change.
        type: list
        elements: str
      targets:
        description:
          - Nodes the task runs on that are not window targets, as key/values entries such as
            V(InstanceIds). Needs O(allow_unassociated_targets=true).
        type: list
        elements: dict
        suboptions:
          key:
            description: The target key, such as V(InstanceIds).
            type: str
            required: true
          values:
            description: The values.
            type: list
            elements: str
            required: true
      priority:
        description: The lower the number, the earlier the task runs; tasks of equal priority run in parallel.
        type: int
        default: 1
      max_concurrency:
        description:
          - How many targets run the task at the same time, a number (V(10)) or a percentage (V(25%)).
          - Required for a task with targets; a targetless task takes none.
        type: str
      max_errors:
        description:
          - How many errors stop the task, a number (V(0) or more) or a percentage (V(0%) to V(100%)).
          - Required for a task with targets; a targetless task takes none.
        type: str
      service_role_arn:
        description:
          - The IAM role Systems Manager assumes to run the task. When unset, AWS uses its
            service-linked role, and the role the task has is left alone.
        type: str
      cutoff_behavior:
        description: What happens to a running task when the window reaches its cutoff.
        type: str
        choices: [CONTINUE_TASK, CANCEL_TASK]
        default: CONTINUE_TASK
      run_command:
        description: Options of a V(RUN_COMMAND) task (AWS's C(TaskInvocationParameters.RunCommand)).
        type: dict
        suboptions:
          comment:
            description: A comment of up to 100 characters.
            type: str
          document_hash:
            description: The hash of the document, which must match the document that runs.
            type: str
          document_hash_type:
            description: The algorithm of O(tasks[].run_command.document_hash).
            type: str
            choices: [Sha256, Sha1]
          notification_config:
            description: Amazon SNS notifications of command status changes.
            type: dict
            suboptions:
              notification_arn:
                description: The SNS topic ARN.
                type: str
              notification_events:
                description: The events to notify.
                type: list
                elements: str
                choices: [All, InProgress, Success, TimedOut, Cancelled, Failed]
              notification_type:
                description: V(Command) for the whole command, V(Invocation) per node.
                type: str
                choices: [Command, Invocation]
          output_s3_bucket_name:
            description: The S3 bucket that receives the command output.
            type: str
          output_s3_key_prefix:
            description: The key prefix of the command output in the bucket.
            type: str
          service_role_arn:
            description: The IAM role Run Command uses for SNS notifications.
            type: str
          timeout_seconds:
            description: Seconds (30 to 2592000) for the command to start before it times out.
            type: int
          cloudwatch_output_config:
            description: Sending the command output to CloudWatch Logs.
            type: dict
            suboptions:
              cloudwatch_log_group_name:
                description: The log group; AWS picks C(/aws/ssm/<document>) when it is unset.
                type: str
              cloudwatch_output_enabled:
                description: Whether to send the output.
                type: bool
      lambda:
        description: Options of a V(LAMBDA) task.
        type: dict
        suboptions:
          client_context:
            description: Client-specific information, base64-encoded JSON.
            type: str
          qualifier:
            description: A version or alias of the function.
            type: str
          payload:
            description: The JSON input of the function.
            type: str
      step_functions:
        description: Options of a V(STEP_FUNCTIONS) task.
        type: dict
        suboptions:
          input:
            description: The JSON input of the execution.
            type: str
          name:
            description: The name of the execution.
            type: str
      logging_info:
        description:
          - An S3 bucket for node-level logs (AWS's deprecated C(LoggingInfo)); prefer
            O(tasks[].run_command.output_s3_bucket_name).
        type: dict
        suboptions:
          s3_bucket_name:
            description: The bucket.
            type: str
            required: true
          s3_key_prefix:
            description: The key prefix.
            type: str
          s3_region:
            description: The region of the bucket.
            type: str
            required: true
      alarm_configuration:
        description: A CloudWatch alarm that stops the task when it goes into the ALARM state.
        type: dict
        suboptions:
          alarms:
            description: The alarm names (AWS takes one).
            type: list
            elements: str
            required: true
          ignore_poll_alarm_failure:
            description: Run the task even when the alarm state cannot be read.
            type: bool
            default: false
  purge_tasks:
    description: Remove the tasks of the window that O(tasks) does not list.
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
  - fleetops.ssm.attributes
attributes:
  check_mode:
    support: full
    details:
      - Predicts the window with its targets and tasks without changing them. Ids of targets and
        tasks that would be registered are not known, and are returned empty.
  diff_mode:
    support: full
    details:
      - Shows the window, its targets and its tasks before and after, without ids.
  idempotent:
    support: full
notes:
  - IAM actions used are C(ssm:DescribeMaintenanceWindows), C(ssm:GetMaintenanceWindow),
    C(ssm:CreateMaintenanceWindow), C(ssm:UpdateMaintenanceWindow), C(ssm:DeleteMaintenanceWindow),
    C(ssm:DescribeMaintenanceWindowTargets), C(ssm:RegisterTargetWithMaintenanceWindow),
    C(ssm:UpdateMaintenanceWindowTarget), C(ssm:DeregisterTargetFromMaintenanceWindow),
    C(ssm:DescribeMaintenanceWindowTasks), C(ssm:GetMaintenanceWindowTask),
    C(ssm:RegisterTaskWithMaintenanceWindow), C(ssm:UpdateMaintenanceWindowTask),
    C(ssm:DeregisterTaskFromMaintenanceWindow), C(ssm:ListTagsForResource),
    C(ssm:AddTagsToResource) and C(ssm:RemoveTagsFromResource); C(iam:PassRole) on the service roles.
  - A target that a task of the window still uses, and that the task list does not take off it,
    is not removed; AWS's error says which.
seealso:
  - module: fleetops.ssm.maintenance_window_info
"""

EXAMPLES = r"""
- name: Patch the web servers every Sunday night, then restart the application
  fleetops.ssm.maintenance_window:
    name: web-patching
    description: Weekly patching of the web tier
    schedule: cron(0 2 ? * SUN *)
    schedule_timezone: Europe/Berlin
    duration: 4
    cutoff: 1
    targets:
      - name: web
        tags:
          Role: web
          Env: [prod]
        owner_information: web team
    tasks:
      - name: patch
        document: AWS-RunPatchBaseline
        window_targets: [web]
        priority: 1
        max_concurrency: 25%
        max_errors: "1"
        parameters:
          Operation: Install
          RebootOption: RebootIfNeeded
        run_command:
          timeout_seconds: 600
          output_s3_bucket_name: patch-logs-example
          output_s3_key_prefix: web
      - name: restart-app
        document: AWS-RunShellScript
        window_targets: [web]
        priority: 2
        max_concurrency: "10"
        max_errors: 10%
        cutoff_behavior: CANCEL_TASK
        parameters:
          commands:
            - systemctl restart app
    tags:
      team: web

- name: A monthly Automation task without targets, two days after the third Tuesday
  fleetops.ssm.maintenance_window:
    name: monthly-cleanup
    schedule: cron(30 23 ? * TUE#3 *)
    schedule_offset: 2
    duration: 2
    cutoff: 0
    allow_unassociated_targets: true
    tasks:
      - name: cleanup
        task_type: AUTOMATION
        document: AWS-DeleteSnapshot
        document_version: $DEFAULT
        service_role_arn: arn:aws:iam::123456789012:role/maintenance
        parameters:
          SnapshotId: snap-0123456789abcdef0

- name: Pause a window without touching its targets and tasks
  fleetops.ssm.maintenance_window:
    name: web-patching
    enabled: false

- name: Delete a window (its targets and tasks go with it)
  fleetops.ssm.maintenance_window:
    name: web-patching
    state: absent
"""

RETURN = r"""
maintenance_window:
  description: The window after the task (predicted in check mode); empty after deletion.
  returned: always
  type: dict
  contains:
    window_id:
      description: The window id (not known in check mode for a new window).
      returned: success
      type: str
      sample: mw-0123456789abcdef0
    name:
      description: The window name.
      returned: success
      type: str
      sample: web-patching
    description:
      description: The description.
      returned: success
      type: str
      sample: Weekly patching of the web tier
    schedule:
      description: The schedule expression.
      returned: success
      type: str
      sample: cron(0 2 ? * SUN *)
    schedule_timezone:
      description: The time zone of the schedule.
      returned: success
      type: str
      sample: Europe/Berlin
    schedule_offset:
      description: Days after the cron time that the window runs.
      returned: success
      type: int
      sample: 2
    duration:
      description: The duration in hours.
      returned: success
      type: int
      sample: 4
    cutoff:
      description: Hours before the end of the window that no new task starts.
      returned: success
      type: int
      sample: 1
    allow_unassociated_targets:
      description: Whether tasks may target nodes that are not window targets.
      returned: success
      type: bool
      sample: false
    enabled:
      description: Whether the window is enabled.
      returned: success
      type: bool
      sample: true
    start_date:
      description: When the window becomes active.
      returned: success
      type: str
      sample: "2026-01-01T00:00:00Z"
    end_date:
      description: When the window stops running.
      returned: success
      type: str
      sample: "2027-01-01T00:00:00Z"
    next_execution_time:
      description: The next time the window runs, as AWS reports it.
      returned: success
      type: str
      sample: "2026-01-04T02:00+01:00"
    created_date:
      description: When the window was created (ISO 8601).
      returned: success
      type: str
      sample: "2025-11-29T04:21:07+00:00"
    modified_date:
      description: When the window last changed (ISO 8601).
      returned: success
      type: str
      sample: "2025-11-29T04:21:07+00:00"
    tags:
      description: The tags, as a dict.
      returned: success
      type: dict
      sample: {"team": "web"}
    targets:
      description: The window targets, sorted by name.
      returned: success
      type: list
      elements: dict
      contains:
        window_target_id:
          description: The target id (not known in check mode for a new target).
          returned: always
          type: str
          sample: 0f3b8c2e-4f5a-4c7e-9a51-2b1d2e3f4a5b
        name:
          description: The target name.
          returned: always
          type: str
          sample: web
        description:
          description: The description.
          returned: always
          type: str
          sample: The web tier
        resource_type:
          description: V(INSTANCE) or V(RESOURCE_GROUP).
          returned: always
          type: str
          sample: INSTANCE
        targets:
          description: The key/values entries that select the nodes.
          returned: always
          type: list
          elements: dict
          sample: [{"key": "tag:Role", "values": ["web"]}]
        owner_information:
          description: The owner information.
          returned: always
          type: str
          sample: web team
    tasks:
      description:
        - The window tasks, in the form O(tasks) takes them, sorted by priority and name.
        - An option the task does not have is returned as null.
      returned: success
      type: list
      elements: dict
      contains:
        window_task_id:
          description: The task id (not known in check mode for a new task).
          returned: always
          type: str
          sample: 7d6a1e94-2b8f-4f0e-8c3a-5e6f7a8b9c0d
        name:
          description: The task name.
          returned: always
          type: str
          sample: patch
        description:
          description: The description.
          returned: always
          type: str
          sample: Install missing patches
        task_type:
          description: The kind of task.
          returned: always
          type: str
          sample: RUN_COMMAND
        document:
          description: What the task runs (AWS's TaskArn).
          returned: always
          type: str
          sample: AWS-RunPatchBaseline
        document_version:
          description: The document version.
          returned: always
          type: str
          sample: $DEFAULT
        parameters:
          description: The document parameters, each a list of values.
          returned: always
          type: dict
          sample: {"Operation": ["Install"]}
        window_targets:
          description: The names of the window targets the task runs on (the id for a target without a name).
          returned: always
          type: list
          elements: str
          sample: [web]
        window_target_ids:
          description: The ids of those window targets.
          returned: always
          type: list
          elements: str
          sample: [0f3b8c2e-4f5a-4c7e-9a51-2b1d2e3f4a5b]
        targets:
          description: Other key/values entries the task runs on.
          returned: always
          type: list
          elements: dict
          sample: []
        priority:
          description: The priority.
          returned: always
          type: int
          sample: 1
        max_concurrency:
          description: The concurrency.
          returned: always
          type: str
          sample: 25%
        max_errors:
          description: The error threshold.
          returned: always
          type: str
          sample: "1"
        service_role_arn:
          description: The service role.
          returned: always
          type: str
          sample: arn:aws:iam::123456789012:role/maintenance
        cutoff_behavior:
          description: What happens at the cutoff.
          returned: always
          type: str
          sample: CONTINUE_TASK
        run_command:
          description: The options of a V(RUN_COMMAND) task, with the keys of O(tasks[].run_command).
          returned: always
          type: dict
          sample: {"timeout_seconds": 600, "comment": null}
        lambda:
          description: The options of a V(LAMBDA) task, with the keys of O(tasks[].lambda).
          returned: always
          type: dict
          sample: null
        step_functions:
          description: The options of a V(STEP_FUNCTIONS) task, with the keys of O(tasks[].step_functions).
          returned: always
          type: dict
          sample: null
        logging_info:
          description: The S3 logging settings, with the keys of O(tasks[].logging_info).
          returned: always
          type: dict
          sample: null
        alarm_configuration:
          description: The alarm configuration, with the keys of O(tasks[].alarm_configuration).
          returned: always
          type: dict
          sample: null
"""

from ansible_collections.fleetops.ssm.plugins.module_utils import _tags
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError
from ansible_collections.fleetops.ssm.plugins.module_utils._modules import FleetOpsSSMModule
from ansible_collections.fleetops.ssm.plugins.module_utils import _maintenance_windows as mw


def desired_resource(params):
    """Everything the task asks for, checked against AWS's rules before any call."""
    targets = mw.desired_targets(params["targets"]) if params["targets"] is not None else None
    # the targets the window will have are known now when the list is complete
    known = set(targets) if targets is not None and params["purge_targets"] else None
    return {
        "window": mw.desired_window(params),
        "targets": targets,
        "tasks": mw.desired_tasks(params["tasks"], known, params["allow_unassociated_targets"])
        if params["tasks"] is not None else None,
    }


def check_against_current(desired, current, params, target_plan):
    """The checks that need the current window: the merged window rules and the target names."""
    window = current["Window"] if current else None
    mw.check_window_rules(desired["window"], window)
    if not desired["tasks"]:
        return
    names = {item["Name"] for item in target_plan["register"]}
    names.update(wanted["Name"] for wanted, _have, _changed in target_plan["update"])
    names.update(wanted["Name"] for wanted, _have in target_plan["reregister"])
    names.update(item["Name"] for item in target_plan["keep"] if item.get("Name"))
    allow = desired["window"]["AllowUnassociatedTargets"]
    if allow is None:
        allow = bool(window and window.get("AllowUnassociatedTargets"))
    mw.desired_tasks(params["tasks"], names, allow)


def ensure_window(client, current, desired, tags, check_mode):
    """Create or update the window itself: (changed, predicted window)."""
    if current is None:
        window_id = None
        if not check_mode:
            window_id = mw.create_maintenance_window(client, mw.create_window_request(desired, tags))
            if desired["Enabled"] is False:
                mw.update_maintenance_window(client, {"WindowId": window_id, "Enabled": False})
        return True, mw.predict_window(desired, None, window_id)
    window = current["Window"]
    differences = mw.window_differences(desired, window)
    if differences and not check_mode:
        mw.update_maintenance_window(client, mw.update_window_request(desired, window, differences))
    return bool(differences), mw.predict_window(desired, window)


def ensure_targets(client, window_id, plan, check_mode):
    """Register and update targets: (changed, predicted targets, {name: id})."""
    final = list(plan["keep"])
    changed = False
    for wanted in plan["register"] + [wanted for wanted, _have in plan["reregister"]]:
        if check_mode:
            target_id = mw.placeholder_id(wanted["Name"])
        else:
            target_id = mw.register_target(client, mw.register_target_request(window_id, wanted))
        final.append(dict(wanted, WindowId=window_id, WindowTargetId=target_id))
        changed = True
    for wanted, have, differences in plan["update"]:
        if not check_mode:
            mw.update_target(client, mw.update_target_request(window_id, wanted, have, differences))
        final.append(dict(wanted, WindowId=window_id, WindowTargetId=have["WindowTargetId"]))
        changed = True
    ids = {item["Name"]: item["WindowTargetId"] for item in final if item.get("Name")}
    return changed, final, ids


def ensure_tasks(client, window_id, plan, target_ids, check_mode):
    """Register, update and deregister tasks: (changed, predicted tasks)."""
    final = list(plan["keep"])
    changed = False
    for wanted, have in plan["reregister"]:
        if not check_mode:
            mw.deregister_task(client, window_id, have["WindowTaskId"])
        plan["register"].append(wanted)
    for wanted in plan["register"]:
        task = mw.api_task(wanted, target_ids)
        task_id = None if check_mode else mw.register_task(client, mw.register_task_request(window_id, task))
        final.append(mw.predict_task(window_id, task, task_id=task_id))
        changed = True
    for wanted, have in plan["update"]:
        task = mw.api_task(wanted, target_ids)
        differences = mw.task_differences(task, have)
        if differences:
            if not check_mode:
                mw.update_task(client, mw.update_task_request(window_id, task, have, differences))
            final.append(mw.predict_task(window_id, task, have))
            changed = True
        else:
            final.append(have)
    for have in plan["deregister"]:
        if not check_mode:
            mw.deregister_task(client, window_id, have["WindowTaskId"])
        changed = True
    return changed, final


def ensure_present(client, current, desired, params, check_mode):
    """Returns (changed, final state)."""
    target_plan = mw.plan_targets(desired["targets"], current["Targets"] if current else [], params["purge_targets"])
    task_plan = mw.plan_tasks(desired["tasks"], current["Tasks"] if current else [], params["purge_tasks"])
    check_against_current(desired, current, params, target_plan)
    changed, window = ensure_window(client, current, desired["window"], params["tags"], check_mode)
    window_id = window["WindowId"]
    targets_changed, targets, target_ids = ensure_targets(client, window_id, target_plan, check_mode)
    tasks_changed, tasks = ensure_tasks(client, window_id, task_plan, target_ids, check_mode)
    # targets go last: no task may still use them (Safe makes AWS refuse otherwise)
    removed = target_plan["deregister"] + [have for _wanted, have in target_plan["reregister"]]
    for have in removed:
        if not check_mode:
            mw.deregister_target(client, window_id, have["WindowTargetId"], safe=True)
    current_tags = current["Tags"] if current else dict(params["tags"] or {})
    tags_changed, tags = _tags.ensure_tags(
        client, mw.RESOURCE_TYPE, window_id, current_tags, params["tags"], params["purge_tags"], check_mode)
    changed = changed or targets_changed or tasks_changed or bool(removed) or tags_changed
    if changed and not check_mode:
        return True, mw.read_window(client, window_id)
    return changed, {"Window": window, "Targets": targets, "Tasks": tasks, "Tags": tags}


def ensure_absent(client, current, check_mode):
    if current is None:
        return False
    if not check_mode:
        mw.delete_maintenance_window(client, current["Window"]["WindowId"])
    return True


def key_values():
    return dict(type="list", elements="dict", options=dict(
        key=dict(type="str", required=True, no_log=False),
        values=dict(type="list", elements="str", required=True),
    ))


def argument_spec():
    target_options = dict(
        name=dict(type="str", required=True),
        description=dict(type="str"),
        resource_type=dict(type="str", choices=list(mw.TARGET_RESOURCE_TYPES), default="INSTANCE"),
        instance_ids=dict(type="list", elements="str"),
        tags=dict(type="dict"),
        targets=key_values(),
        owner_information=dict(type="str"),
    )
    task_options = dict(
        name=dict(type="str", required=True),
        description=dict(type="str"),
        task_type=dict(type="str", choices=list(mw.TASK_TYPES), default="RUN_COMMAND"),
        document=dict(type="str", required=True, aliases=["task_arn"]),
        document_version=dict(type="str"),
        parameters=dict(type="dict"),
        window_targets=dict(type="list", elements="str"),
        targets=key_values(),
        priority=dict(type="int", default=mw.DEFAULT_PRIORITY),
        max_concurrency=dict(type="str"),
        max_errors=dict(type="str"),
        service_role_arn=dict(type="str"),
        cutoff_behavior=dict(type="str", choices=list(mw.CUTOFF_BEHAVIORS), default=mw.DEFAULT_CUTOFF_BEHAVIOR),
        run_command=dict(type="dict", options=dict(
            comment=dict(type="str"),
            document_hash=dict(type="str"),
            document_hash_type=dict(type="str", choices=["Sha256", "Sha1"]),
            notification_config=dict(type="dict", options=dict(
                notification_arn=dict(type="str"),
                notification_events=dict(type="list", elements="str",
                                         choices=["All", "InProgress", "Success", "TimedOut", "Cancelled", "Failed"]),
                notification_type=dict(type="str", choices=["Command", "Invocation"]),
            )),
            output_s3_bucket_name=dict(type="str"),
            output_s3_key_prefix=dict(type="str", no_log=False),
            service_role_arn=dict(type="str"),
            timeout_seconds=dict(type="int"),
            cloudwatch_output_config=dict(type="dict", options=dict(
                cloudwatch_log_group_name=dict(type="str"),
                cloudwatch_output_enabled=dict(type="bool"),
            )),
        )),
        step_functions=dict(type="dict", options=dict(input=dict(type="str"), name=dict(type="str"))),
        logging_info=dict(type="dict", options=dict(
            s3_bucket_name=dict(type="str", required=True),
            s3_key_prefix=dict(type="str", no_log=False),
            s3_region=dict(type="str", required=True),
        )),
        alarm_configuration=dict(type="dict", options=dict(
            alarms=dict(type="list", elements="str", required=True),
            ignore_poll_alarm_failure=dict(type="bool", default=False),
        )),
    )
    task_options["lambda"] = dict(type="dict", options=dict(
        client_context=dict(type="str"), qualifier=dict(type="str"), payload=dict(type="str"),
    ))
    return dict(
        name=dict(type="str"),
        window_id=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        schedule=dict(type="str"),
        schedule_timezone=dict(type="str"),
        schedule_offset=dict(type="int"),
        duration=dict(type="int"),
        cutoff=dict(type="int"),
        allow_unassociated_targets=dict(type="bool"),
        enabled=dict(type="bool"),
        start_date=dict(type="str"),
        end_date=dict(type="str"),
        description=dict(type="str"),
        targets=dict(type="list", elements="dict", options=target_options),
        purge_targets=dict(type="bool", default=True),
        tasks=dict(type="list", elements="dict", options=task_options),
        purge_tasks=dict(type="bool", default=True),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )


def main():
    module = FleetOpsSSMModule(argument_spec=argument_spec(), supports_check_mode=True, required_one_of=[("name", "window_id")])
    client = module.client("ssm")
    params = module.params
    current = final = None
    try:
        mw.validate_window_id(params["window_id"])
        desired = desired_resource(params) if params["state"] == "present" else None
        window_id = mw.locate_window(client, params["name"], params["window_id"])
        current = mw.read_window(client, window_id) if window_id else None
        if params["state"] == "absent":
            changed = ensure_absent(client, current, module.check_mode)
        elif current is None and params["window_id"]:
            raise mw.MaintenanceWindowValidationError(
                f"Maintenance window {params['window_id']} does not exist; to create a window, give its name without window_id."
            )
        else:
            changed, final = ensure_present(client, current, desired, params, module.check_mode)
    except AnsibleSSMError as e:
        module.fail_json_aws_error(e)
    diff = dict(before=mw.describe_for_diff(current), after=mw.describe_for_diff(final))
    module.exit_json(changed=changed, maintenance_window=mw.describe_for_result(final), diff=diff)


if __name__ == "__main__":
    main()
