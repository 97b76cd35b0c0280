#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: maintenance_window_info
short_description: Read AWS Systems Manager maintenance windows, their targets, tasks, runs and schedule
version_added: 0.1.0
description:
  - Lists maintenance windows, all of them or those that O(name), O(window_id) or O(filters) select.
  - For each window, returns its targets and tasks in the form M(fleetops.ssm.maintenance_window)
    takes them, its tags, its next execution time and its next scheduled runs
    (C(DescribeMaintenanceWindowSchedule)), and,
    when asked for, its most recent executions with the result of every task and every task
    invocation.
author:
  - FleetOps SSM maintainers (@fleetops)
options:
  name:
    description: Only the windows with exactly this name (AWS does not keep names unique).
    type: str
  window_id:
    description: Only the window with this id. A window that does not exist gives an empty list.
    type: str
  filters:
    description:
      - Filters for C(DescribeMaintenanceWindows); AWS supports the keys V(Name) and V(Enabled).
        Each value is a string or a list of strings, for example V(Enabled=true) is given as the key
        V(Enabled) with the value V(true).
    type: dict
  include_targets:
    description: Return each window's targets.
    type: bool
    default: true
  include_tasks:
    description: Return each window's tasks, in full (one C(ssm:GetMaintenanceWindowTask) call per task).
    type: bool
    default: true
  include_tags:
    description: Return each window's tags.
    type: bool
    default: true
  executions:
    description:
      - How many of each window's most recent executions to return, newest first, with their
        task results and task invocations. V(0) returns none.
    type: int
    default: 0
  upcoming:
    description: How many of each window's next scheduled runs to return. V(0) returns none.
    type: int
    default: 1
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - fleetops.ssm.attributes
  - fleetops.ssm.attributes.info_module
notes:
  - IAM actions used are C(ssm:DescribeMaintenanceWindows), C(ssm:GetMaintenanceWindow), and as
    asked for C(ssm:DescribeMaintenanceWindowTargets), C(ssm:DescribeMaintenanceWindowTasks),
    C(ssm:GetMaintenanceWindowTask), C(ssm:ListTagsForResource), C(ssm:DescribeMaintenanceWindowSchedule),
    C(ssm:DescribeMaintenanceWindowExecutions), C(ssm:DescribeMaintenanceWindowExecutionTasks) and
    C(ssm:DescribeMaintenanceWindowExecutionTaskInvocations).
seealso:
  - module: fleetops.ssm.maintenance_window
"""

EXAMPLES = r"""
- name: Every maintenance window with its targets, tasks and next run
  fleetops.ssm.maintenance_window_info:
  register: windows

- name: The last three runs of the patching window, with the result on every node
  fleetops.ssm.maintenance_window_info:
    name: web-patching
    executions: 3
  register: patching

- name: Failed task invocations of the last run
  ansible.builtin.debug:
    msg: "{{ item }}"
  loop: >-
    {{ patching.maintenance_windows[0].executions[0].tasks
       | map(attribute='invocations') | flatten | selectattr('status', '!=', 'SUCCESS') }}

- name: The next five runs of every enabled window
  fleetops.ssm.maintenance_window_info:
    filters:
      Enabled: "true"
    include_targets: false
    include_tasks: false
    upcoming: 5
"""

RETURN = r"""
maintenance_windows:
  description: The windows found, sorted by name and id.
  returned: always
  type: list
  elements: dict
  contains:
    window_id:
      description: The window id.
      returned: always
      type: str
      sample: mw-0123456789abcdef0
    name:
      description: The window name.
      returned: always
      type: str
      sample: web-patching
    description:
      description: The description.
      returned: always
      type: str
      sample: Weekly patching of the web tier
    schedule:
      description: The schedule expression.
      returned: always
      type: str
      sample: cron(0 2 ? * SUN *)
    schedule_timezone:
      description: The time zone of the schedule.
      returned: always
      type: str
      sample: Europe/Berlin
    schedule_offset:
      description: Days after the cron time that the window runs.
      returned: always
      type: int
      sample: 2
    duration:
      description: The duration in hours.
      returned: always
      type: int
      sample: 4
    cutoff:
      description: Hours before the end that no new task starts.
      returned: always
      type: int
      sample: 1
    allow_unassociated_targets:
      description: Whether tasks may target nodes that are not window targets.
      returned: always
      type: bool
      sample: false
    enabled:
      description: Whether the window is enabled.
      returned: always
      type: bool
      sample: true
    start_date:
      description: When the window becomes active.
      returned: always
      type: str
      sample: "2026-01-01T00:00:00Z"
    end_date:
      description: When the window stops running.
      returned: always
      type: str
      sample: "2027-01-01T00:00:00Z"
    next_execution_time:
      description: The next time the window runs, as AWS reports it; null when it will not run.
      returned: always
      type: str
      sample: "2026-01-04T02:00+01:00"
    created_date:
      description: When the window was created (ISO 8601).
      returned: always
      type: str
      sample: "2025-11-29T04:21:07+00:00"
    modified_date:
      description: When the window last changed (ISO 8601).
      returned: always
      type: str
      sample: "2025-11-29T04:21:07+00:00"
    tags:
      description: The tags, as a dict.
      returned: when O(include_tags=true)
      type: dict
      sample: {"team": "web"}
    targets:
      description: The targets, as M(fleetops.ssm.maintenance_window) returns them.
      returned: when O(include_targets=true)
      type: list
      elements: dict
      sample: [{"name": "web", "window_target_id": "0f3b8c2e-4f5a-4c7e-9a51-2b1d2e3f4a5b", "resource_type": "INSTANCE",
                "targets": [{"key": "tag:Role", "values": ["web"]}], "description": null, "owner_information": null}]
    tasks:
      description: The tasks, as M(fleetops.ssm.maintenance_window) returns them.
      returned: when O(include_tasks=true)
      type: list
      elements: dict
      sample: [{"name": "patch", "task_type": "RUN_COMMAND", "document": "AWS-RunPatchBaseline", "window_targets": ["web"]}]
    scheduled_executions:
      description: The next scheduled runs, earliest first (C(DescribeMaintenanceWindowSchedule)).
      returned: when O(upcoming) is more than 0
      type: list
      elements: dict
      contains:
        execution_time:
          description: When the window runs (ISO 8601, in the window's time zone).
          returned: always
          type: str
          sample: "2026-01-04T02:00+01:00"
    executions:
      description: The most recent executions, newest first.
      returned: when O(executions) is more than 0
      type: list
      elements: dict
      contains:
        window_execution_id:
          description: The execution id.
          returned: always
          type: str
          sample: 4f1e3d2c-1b0a-4987-8654-3210fedcba98
        status:
          description: The outcome, such as V(SUCCESS), V(FAILED) or V(TIMED_OUT).
          returned: always
          type: str
          sample: SUCCESS
        status_details:
          description: AWS's explanation of the status.
          returned: always
          type: str
          sample: One or more tasks in the orchestration failed.
        start_time:
          description: When the execution started (ISO 8601).
          returned: always
          type: str
          sample: "2026-01-04T01:00:00+00:00"
        end_time:
          description: When it ended (ISO 8601).
          returned: always
          type: str
          sample: "2026-01-04T01:12:40+00:00"
        tasks:
          description: The result of every task of the execution.
          returned: always
          type: list
          elements: dict
          contains:
            task_execution_id:
              description: The id of the task's execution.
              returned: always
              type: str
              sample: 1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d
            task_arn:
              description: What the task ran.
              returned: always
              type: str
              sample: AWS-RunPatchBaseline
            task_type:
              description: The kind of task.
              returned: always
              type: str
              sample: RUN_COMMAND
            status:
              description: The outcome of the task.
              returned: always
              type: str
              sample: SUCCESS
            status_details:
              description: AWS's explanation of the status.
              returned: always
              type: str
              sample: Success
            start_time:
              description: When the task started (ISO 8601).
              returned: always
              type: str
              sample: "2026-01-04T01:00:01+00:00"
            end_time:
              description: When the task ended (ISO 8601).
              returned: always
              type: str
              sample: "2026-01-04T01:10:00+00:00"
            invocations:
              description: The task's invocations, one per target.
              returned: always
              type: list
              elements: dict
              contains:
                invocation_id:
                  description: The invocation id.
                  returned: always
                  type: str
                  sample: 9f8e7d6c-5b4a-4392-8171-605f4e3d2c1b
                execution_id:
                  description: The id in the service that ran it, such as the Run Command command id.
                  returned: always
                  type: str
                  sample: 2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f
                status:
                  description: The outcome of the invocation.
                  returned: always
                  type: str
                  sample: SUCCESS
                status_details:
                  description: AWS's explanation of the status.
                  returned: always
                  type: str
                  sample: Success
                start_time:
                  description: When it started (ISO 8601).
                  returned: always
                  type: str
                  sample: "2026-01-04T01:00:01+00:00"
                end_time:
                  description: When it ended (ISO 8601).
                  returned: always
                  type: str
                  sample: "2026-01-04T01:05:00+00:00"
                parameters:
                  description: The parameters the invocation ran with, as AWS reports them (JSON text).
                  returned: always
                  type: str
                  sample: '{"documentName": "AWS-RunPatchBaseline", "parameters": {"Operation": ["Install"]}}'
                owner_information:
                  description: The owner information of the window target.
                  returned: always
                  type: str
                  sample: web team
                window_target_id:
                  description: The window target the invocation ran on.
                  returned: always
                  type: str
                  sample: 0f3b8c2e-4f5a-4c7e-9a51-2b1d2e3f4a5b
"""

from ansible_collections.amazon.aws.plugins.module_utils.transformation import ansible_dict_to_boto3_filter_list

from ansible_collections.fleetops.ssm.plugins.module_utils import _tags
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError
from ansible_collections.fleetops.ssm.plugins.module_utils._modules import FleetOpsSSMModule
from ansible_collections.fleetops.ssm.plugins.module_utils import _maintenance_windows as mw


def find(client, params):
    """The ids of the windows the options select."""
    if params["window_id"]:
        mw.validate_window_id(params["window_id"])
        window = mw.get_maintenance_window(client, params["window_id"])
        return [params["window_id"]] if window and (not params["name"] or window["Name"] == params["name"]) else []
    filters = ansible_dict_to_boto3_filter_list(params["filters"] or {})
    if params["name"]:
        filters = [item for item in filters if item["Name"] != "Name"] + [{"Name": "Name", "Values": [params["name"]]}]
    filters = [{"Key": item["Name"], "Values": item["Values"]} for item in filters]
    found = mw.describe_maintenance_windows(client, filters)
    if params["name"]:
        found = [item for item in found if item.get("Name") == params["name"]]
    return [item["WindowId"] for item in found]


def _times(item, *keys):
    return {key: mw.isoformat(item.get(source)) for key, source in keys}


def executions(client, window_id, count):
    result = []
    runs = sorted(mw.describe_executions(client, window_id), key=lambda item: item.get("StartTime") or 0, reverse=True)
    for run in runs[:count]:
        entry = dict(window_execution_id=run["WindowExecutionId"], status=run.get("Status"),
                     status_details=run.get("StatusDetails"), tasks=[])
        entry.update(_times(run, ("start_time", "StartTime"), ("end_time", "EndTime")))
        for task in mw.describe_execution_tasks(client, run["WindowExecutionId"]):
            task_entry = dict(task_execution_id=task["TaskExecutionId"], task_arn=task.get("TaskArn"),
                              task_type=task.get("TaskType"), status=task.get("Status"),
                              status_details=task.get("StatusDetails"), invocations=[])
            task_entry.update(_times(task, ("start_time", "StartTime"), ("end_time", "EndTime")))
            for invocation in mw.describe_execution_task_invocations(client, run["WindowExecutionId"], task["TaskExecutionId"]):
                item = dict(invocation_id=invocation.get("InvocationId"), execution_id=invocation.get("ExecutionId"),
                            status=invocation.get("Status"), status_details=invocation.get("StatusDetails"),
                            parameters=invocation.get("Parameters"), owner_information=invocation.get("OwnerInformation"),
                            window_target_id=invocation.get("WindowTargetId"))
                item.update(_times(invocation, ("start_time", "StartTime"), ("end_time", "EndTime")))
                task_entry["invocations"].append(item)
            entry["tasks"].append(task_entry)
        result.append(entry)
    return result


def describe(client, window_id, params):
    window = mw.get_maintenance_window(client, window_id)
    if window is None:  # deleted since it was listed
        return None
    tasks = []
    if params["include_tasks"]:
        for task in mw.describe_window_tasks(client, window_id):
            tasks.append(mw.get_window_task(client, window_id, task["WindowTaskId"]) or task)
    targets = mw.describe_window_targets(client, window_id) if params["include_targets"] or tasks else []
    state = {"Window": window, "Targets": targets, "Tasks": tasks,
             "Tags": _tags.list_tags(client, mw.RESOURCE_TYPE, window_id) if params["include_tags"] else None}
    result = mw.describe_for_result(state)
    for key, wanted in (("targets", "include_targets"), ("tasks", "include_tasks")):
        if not params[wanted]:
            result.pop(key)
    if params["upcoming"] > 0:
        scheduled = mw.describe_schedule(client, window_id, params["upcoming"])
        result["scheduled_executions"] = [{"execution_time": item.get("ExecutionTime")} for item in scheduled]
    if params["executions"] > 0:
        result["executions"] = executions(client, window_id, params["executions"])
    return result


def main():
    argument_spec = dict(
        name=dict(type="str"),
        window_id=dict(type="str"),
        filters=dict(type="dict"),
        include_targets=dict(type="bool", default=True),
        include_tasks=dict(type="bool", default=True),
        include_tags=dict(type="bool", default=True),
        executions=dict(type="int", default=0),
        upcoming=dict(type="int", default=1),
    )
    module = FleetOpsSSMModule(argument_spec=argument_spec, supports_check_mode=True)
    client = module.client("ssm")
    try:
        windows = [describe(client, window_id, module.params) for window_id in find(client, module.params)]
    except AnsibleSSMError as e:
        module.fail_json_aws_error(e)
    windows = sorted((item for item in windows if item), key=lambda item: (item["name"], item["window_id"]))
    module.exit_json(changed=False, maintenance_windows=windows)


if __name__ == "__main__":
    main()
