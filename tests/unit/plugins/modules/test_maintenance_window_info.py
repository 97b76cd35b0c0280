# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime

from ansible_collections.fleetops.ssm.plugins.modules import maintenance_window_info as module
from ansible_collections.fleetops.ssm.tests.unit.plugins.modules.test_maintenance_window import DB
from ansible_collections.fleetops.ssm.tests.unit.plugins.modules.test_maintenance_window import OTHER_ID
from ansible_collections.fleetops.ssm.tests.unit.plugins.modules.test_maintenance_window import PATCH
from ansible_collections.fleetops.ssm.tests.unit.plugins.modules.test_maintenance_window import STANDARD_TARGETS
from ansible_collections.fleetops.ssm.tests.unit.plugins.modules.test_maintenance_window import STANDARD_TASKS
from ansible_collections.fleetops.ssm.tests.unit.plugins.modules.test_maintenance_window import WEB
from ansible_collections.fleetops.ssm.tests.unit.plugins.modules.test_maintenance_window import WINDOW_ID
from ansible_collections.fleetops.ssm.tests.unit.plugins.modules.test_maintenance_window import aws_window
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import WHEN

EXECUTION_OLD = "77777777-7777-4777-8777-777777777777"
EXECUTION_NEW = "88888888-8888-4888-8888-888888888888"
TASK_EXECUTION = "99999999-9999-4999-8999-999999999999"
INVOCATION = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
LATER = WHEN + datetime.timedelta(days=7)


def queue_window(ssm, window_id=WINDOW_ID, tasks=True, targets=True, tags=True):
    ssm.add("get_maintenance_window", aws_window(WindowId=window_id), {"WindowId": window_id})
    if tasks:
        ssm.add("describe_maintenance_window_tasks", {"Tasks": [{"WindowTaskId": t["WindowTaskId"]} for t in STANDARD_TASKS]},
                {"WindowId": window_id, "MaxResults": 100})
        for task in STANDARD_TASKS:
            ssm.add("get_maintenance_window_task", dict(task, WindowId=window_id),
                    {"WindowId": window_id, "WindowTaskId": task["WindowTaskId"]})
    if targets or tasks:
        ssm.add("describe_maintenance_window_targets", {"Targets": STANDARD_TARGETS}, {"WindowId": window_id, "MaxResults": 100})
    if tags:
        ssm.add("list_tags_for_resource", {"TagList": [{"Key": "team", "Value": "web"}]},
                {"ResourceType": "MaintenanceWindow", "ResourceId": window_id})


def args(**extra):
    result = {"name": None, "window_id": None, "filters": None}
    result.update(extra)
    return {key: value for key, value in result.items() if value is not None}


class TestFind:
    def test_every_window_with_targets_tasks_tags_and_next_run(self, ssm, run_module):
        ssm.add("describe_maintenance_windows", {"WindowIdentities": [
            {"WindowId": OTHER_ID, "Name": "zz-last"}, {"WindowId": WINDOW_ID, "Name": "patching"}]}, {"MaxResults": 100})
        for window_id in (OTHER_ID, WINDOW_ID):
            queue_window(ssm, window_id)
            ssm.add("describe_maintenance_window_schedule", {"ScheduledWindowExecutions": [
                {"WindowId": window_id, "Name": "patching", "ExecutionTime": "2026-01-04T02:00Z"}]},
                {"WindowId": window_id, "MaxResults": 1})

        run = run_module(module.main, args(), ssm.client)

        assert run.rc == 0 and run.result["changed"] is False
        windows = run.result["maintenance_windows"]
        assert [w["window_id"] for w in windows] == [WINDOW_ID, OTHER_ID]  # both named patching: by id
        window = windows[0]
        assert window["schedule"] == "cron(0 2 ? * SUN *)"
        assert window["next_execution_time"] == "2026-01-04T02:00Z"
        assert window["scheduled_executions"] == [{"execution_time": "2026-01-04T02:00Z"}]
        assert [t["name"] for t in window["targets"]] == ["database", "web"]
        assert [t["name"] for t in window["tasks"]] == ["patch", "restart"]
        assert window["tasks"][0]["window_targets"] == ["web", "database"]
        assert window["tags"] == {"team": "web"}
        assert "executions" not in window

    def test_by_name_and_filter(self, ssm, run_module):
        ssm.add("describe_maintenance_windows", {"WindowIdentities": [
            {"WindowId": WINDOW_ID, "Name": "patching"}, {"WindowId": OTHER_ID, "Name": "patching-2"}]},
            {"MaxResults": 100, "Filters": [{"Key": "Enabled", "Values": ["true"]}, {"Key": "Name", "Values": ["patching"]}]})
        queue_window(ssm, tasks=False, targets=False, tags=False)

        run = run_module(module.main, args(name="patching", filters={"Enabled": "true"}, include_targets=False,
                                           include_tasks=False, include_tags=False, upcoming=0), ssm.client)

        assert run.rc == 0
        window = run.result["maintenance_windows"][0]
        assert [w["window_id"] for w in run.result["maintenance_windows"]] == [WINDOW_ID]
        assert not {"targets", "tasks", "tags", "scheduled_executions"} & set(window)

    def test_missing_window_id(self, ssm, run_module):
        ssm.add_error("get_maintenance_window", "DoesNotExistException", expected={"WindowId": WINDOW_ID})

        run = run_module(module.main, args(window_id=WINDOW_ID), ssm.client)

        assert run.rc == 0 and run.result["maintenance_windows"] == []

    def test_bad_window_id(self, ssm, run_module):
        run = run_module(module.main, args(window_id="mw-1"), ssm.client)

        assert run.rc == 1 and "Invalid window_id" in run.result["msg"] and ssm.calls == []


class TestExecutions:
    def test_newest_first_with_tasks_and_invocations(self, ssm, run_module):
        ssm.add("get_maintenance_window", aws_window(), {"WindowId": WINDOW_ID})
        queue_window(ssm, tasks=False, targets=False, tags=False)
        ssm.add("describe_maintenance_window_executions", {"WindowExecutions": [
            {"WindowId": WINDOW_ID, "WindowExecutionId": EXECUTION_OLD, "Status": "SUCCESS", "StartTime": WHEN, "EndTime": WHEN},
            {"WindowId": WINDOW_ID, "WindowExecutionId": EXECUTION_NEW, "Status": "FAILED", "StartTime": LATER,
             "EndTime": LATER, "StatusDetails": "One or more tasks in the orchestration failed."},
        ]}, {"WindowId": WINDOW_ID, "MaxResults": 100})
        ssm.add("describe_maintenance_window_execution_tasks", {"WindowExecutionTaskIdentities": [
            {"WindowExecutionId": EXECUTION_NEW, "TaskExecutionId": TASK_EXECUTION, "Status": "FAILED",
             "TaskArn": "AWS-RunPatchBaseline", "TaskType": "RUN_COMMAND", "StartTime": LATER, "EndTime": LATER}]},
            {"WindowExecutionId": EXECUTION_NEW, "MaxResults": 100})
        ssm.add("describe_maintenance_window_execution_task_invocations", {"WindowExecutionTaskInvocationIdentities": [
            {"WindowExecutionId": EXECUTION_NEW, "TaskExecutionId": TASK_EXECUTION, "InvocationId": INVOCATION,
             "ExecutionId": "cmd-1", "TaskType": "RUN_COMMAND", "Parameters": "{}", "Status": "FAILED",
             "StatusDetails": "Failed", "StartTime": LATER, "EndTime": LATER, "OwnerInformation": "web team",
             "WindowTargetId": WEB}]},
            {"WindowExecutionId": EXECUTION_NEW, "TaskId": TASK_EXECUTION, "MaxResults": 100})

        run = run_module(module.main, args(window_id=WINDOW_ID, executions=1, include_targets=False, include_tasks=False,
                                           include_tags=False, upcoming=0), ssm.client)

        assert run.rc == 0, run.result
        executions = run.result["maintenance_windows"][0]["executions"]
        assert [e["window_execution_id"] for e in executions] == [EXECUTION_NEW]
        assert executions[0]["status"] == "FAILED" and executions[0]["start_time"] == LATER.isoformat()
        task = executions[0]["tasks"][0]
        assert task["task_execution_id"] == TASK_EXECUTION and task["status"] == "FAILED"
        assert task["invocations"] == [{
            "invocation_id": INVOCATION, "execution_id": "cmd-1", "status": "FAILED", "status_details": "Failed",
            "parameters": "{}", "owner_information": "web team", "window_target_id": WEB,
            "start_time": LATER.isoformat(), "end_time": LATER.isoformat()}]
        assert DB and PATCH  # the window's other target and task are not part of this run
