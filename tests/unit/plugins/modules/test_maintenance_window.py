# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import copy

import pytest

from ansible_collections.fleetops.ssm.plugins.modules import maintenance_window as module
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import WHEN

WINDOW_ID = "mw-0123456789abcdef0"
OTHER_ID = "mw-0123456789abcdef1"
WEB = "11111111-1111-4111-8111-111111111111"
DB = "22222222-2222-4222-8222-222222222222"
NEW_TARGET = "44444444-4444-4444-8444-444444444444"
PATCH = "33333333-3333-4333-8333-333333333333"
RESTART = "55555555-5555-4555-8555-555555555555"
NEW_TASK = "66666666-6666-4666-8666-666666666666"
SLR = "arn:aws:iam::123456789012:role/aws-service-role/ssm.amazonaws.com/AWSServiceRoleForAmazonSSM"

MW_WRITES = (
    "CreateMaintenanceWindow", "UpdateMaintenanceWindow", "DeleteMaintenanceWindow",
    "RegisterTargetWithMaintenanceWindow", "UpdateMaintenanceWindowTarget", "DeregisterTargetFromMaintenanceWindow",
    "RegisterTaskWithMaintenanceWindow", "UpdateMaintenanceWindowTask", "DeregisterTaskFromMaintenanceWindow",
    "AddTagsToResource", "RemoveTagsFromResource",
)


def writes(ssm):
    return [name for name in ssm.operations if name in MW_WRITES]


# -- AWS's answers -------------------------------------------------------------------------------


def aws_window(**extra):
    window = {"WindowId": WINDOW_ID, "Name": "patching", "Schedule": "cron(0 2 ? * SUN *)", "Duration": 4, "Cutoff": 1,
              "AllowUnassociatedTargets": False, "Enabled": True, "CreatedDate": WHEN, "ModifiedDate": WHEN,
              "NextExecutionTime": "2026-01-04T02:00Z"}
    window.update(extra)
    return window


def aws_target(target_id, name, targets=None, **extra):
    target = {"WindowId": WINDOW_ID, "WindowTargetId": target_id, "Name": name, "ResourceType": "INSTANCE",
              "Targets": targets or [{"Key": "tag:Role", "Values": [name]}]}
    target.update(extra)
    return target


def aws_task(task_id, name, target_ids, priority=1, **extra):
    task = {"WindowId": WINDOW_ID, "WindowTaskId": task_id, "Name": name, "TaskType": "RUN_COMMAND",
            "TaskArn": "AWS-RunShellScript" if name == "restart" else "AWS-RunPatchBaseline",
            "Targets": [{"Key": "WindowTargetIds", "Values": list(target_ids)}], "Priority": priority,
            "MaxConcurrency": "1", "MaxErrors": "0", "ServiceRoleArn": SLR, "CutoffBehavior": "CONTINUE_TASK"}
    task.update(extra)
    return task


STANDARD_TARGETS = [aws_target(WEB, "web"), aws_target(DB, "database", [{"Key": "InstanceIds", "Values": ["i-0123456789abcdef0"]}])]
STANDARD_TASKS = [aws_task(PATCH, "patch", [WEB, DB]), aws_task(RESTART, "restart", [WEB], priority=2)]


def queue_find(ssm, found, name="patching"):
    ssm.add("describe_maintenance_windows", {"WindowIdentities": [{"WindowId": i, "Name": name} for i in found]},
            {"Filters": [{"Key": "Name", "Values": [name]}], "MaxResults": 100})


def queue_read(ssm, window=None, targets=None, tasks=None, tags=None):
    """The reads of read_window(), in order: the window, its tasks (each in full), targets, tags."""
    window = window or aws_window()
    tasks = STANDARD_TASKS if tasks is None else tasks
    targets = STANDARD_TARGETS if targets is None else targets
    ssm.add("get_maintenance_window", copy.deepcopy(window), {"WindowId": window["WindowId"]})
    ssm.add("describe_maintenance_window_tasks",
            {"Tasks": [{"WindowId": t["WindowId"], "WindowTaskId": t["WindowTaskId"]} for t in tasks]},
            {"WindowId": window["WindowId"], "MaxResults": 100})
    for task in tasks:
        ssm.add("get_maintenance_window_task", copy.deepcopy(task),
                {"WindowId": window["WindowId"], "WindowTaskId": task["WindowTaskId"]})
    ssm.add("describe_maintenance_window_targets", {"Targets": copy.deepcopy(targets)},
            {"WindowId": window["WindowId"], "MaxResults": 100})
    ssm.add("list_tags_for_resource", {"TagList": [{"Key": k, "Value": v} for k, v in (tags or {}).items()]},
            {"ResourceType": "MaintenanceWindow", "ResourceId": window["WindowId"]})


def queue_existing(ssm, **kwargs):
    queue_find(ssm, [WINDOW_ID])
    queue_read(ssm, **kwargs)


# -- module arguments ------------------------------------------------------------------------------


def target_args():
    return [
        {"name": "web", "tags": {"Role": "web"}},
        {"name": "database", "instance_ids": ["i-0123456789abcdef0"]},
    ]


def task_args():
    return [
        {"name": "patch", "document": "AWS-RunPatchBaseline", "window_targets": ["web", "database"],
         "max_concurrency": "1", "max_errors": "0"},
        {"name": "restart", "document": "AWS-RunShellScript", "window_targets": ["web"], "priority": 2,
         "max_concurrency": "1", "max_errors": "0"},
    ]


def window_args(**extra):
    args = {"name": "patching", "schedule": "cron(0 2 ? * SUN *)", "duration": 4, "cutoff": 1,
            "targets": target_args(), "tasks": task_args()}
    args.update(extra)
    return args


class TestCreate:
    def test_check_mode_predicts_without_writes(self, ssm, run_module):
        queue_find(ssm, [])

        run = run_module(module.main, dict(window_args(tags={"team": "web"}), _ansible_check_mode=True, _ansible_diff=True),
                         ssm.client)

        assert run.rc == 0 and run.result["changed"] is True
        assert ssm.operations == ["DescribeMaintenanceWindows"]
        window = run.result["maintenance_window"]
        assert window["window_id"] is None and window["enabled"] is True and window["tags"] == {"team": "web"}
        assert [t["window_target_id"] for t in window["targets"]] == [None, None]
        assert [t["name"] for t in window["tasks"]] == ["patch", "restart"]
        assert window["tasks"][0]["window_targets"] == ["web", "database"]
        assert run.result["diff"]["before"] == {}
        assert len(run.result["diff"]["after"]["tasks"]) == 2

    def test_create_registers_targets_then_tasks_with_their_ids(self, ssm, run_module):
        queue_find(ssm, [])
        ssm.add("create_maintenance_window", {"WindowId": WINDOW_ID}, {
            "Name": "patching", "Schedule": "cron(0 2 ? * SUN *)", "Duration": 4, "Cutoff": 1,
            "AllowUnassociatedTargets": False, "Tags": [{"Key": "team", "Value": "web"}]})
        ssm.add("register_target_with_maintenance_window", {"WindowTargetId": WEB}, {
            "WindowId": WINDOW_ID, "Name": "web", "ResourceType": "INSTANCE", "Targets": [{"Key": "tag:Role", "Values": ["web"]}]})
        ssm.add("register_target_with_maintenance_window", {"WindowTargetId": DB}, {
            "WindowId": WINDOW_ID, "Name": "database", "ResourceType": "INSTANCE",
            "Targets": [{"Key": "InstanceIds", "Values": ["i-0123456789abcdef0"]}]})
        ssm.add("register_task_with_maintenance_window", {"WindowTaskId": PATCH}, {
            "WindowId": WINDOW_ID, "Name": "patch", "TaskType": "RUN_COMMAND", "TaskArn": "AWS-RunPatchBaseline",
            "Priority": 1, "CutoffBehavior": "CONTINUE_TASK", "MaxConcurrency": "1", "MaxErrors": "0",
            "Targets": [{"Key": "WindowTargetIds", "Values": [WEB, DB]}]})
        ssm.add("register_task_with_maintenance_window", {"WindowTaskId": RESTART}, {
            "WindowId": WINDOW_ID, "Name": "restart", "TaskType": "RUN_COMMAND", "TaskArn": "AWS-RunShellScript",
            "Priority": 2, "CutoffBehavior": "CONTINUE_TASK", "MaxConcurrency": "1", "MaxErrors": "0",
            "Targets": [{"Key": "WindowTargetIds", "Values": [WEB]}]})
        queue_read(ssm, tags={"team": "web"})

        run = run_module(module.main, window_args(tags={"team": "web"}), ssm.client)

        assert run.rc == 0 and run.result["changed"] is True, run.result
        assert writes(ssm) == ["CreateMaintenanceWindow", "RegisterTargetWithMaintenanceWindow",
                               "RegisterTargetWithMaintenanceWindow", "RegisterTaskWithMaintenanceWindow",
                               "RegisterTaskWithMaintenanceWindow"]
        window = run.result["maintenance_window"]
        assert window["window_id"] == WINDOW_ID
        assert [t["window_task_id"] for t in window["tasks"]] == [PATCH, RESTART]

    def test_a_disabled_window_is_created_then_disabled(self, ssm, run_module):
        queue_find(ssm, [])
        ssm.add("create_maintenance_window", {"WindowId": WINDOW_ID})
        ssm.add("update_maintenance_window", {}, {"WindowId": WINDOW_ID, "Enabled": False})
        queue_read(ssm, window=aws_window(Enabled=False), targets=[], tasks=[])

        run = run_module(module.main, {"name": "patching", "schedule": "rate(1 day)", "duration": 2, "cutoff": 0,
                                       "enabled": False}, ssm.client)

        assert run.rc == 0 and run.result["maintenance_window"]["enabled"] is False
        assert writes(ssm) == ["CreateMaintenanceWindow", "UpdateMaintenanceWindow"]

    def test_create_needs_the_schedule(self, ssm, run_module):
        queue_find(ssm, [])

        run = run_module(module.main, {"name": "patching", "duration": 2, "cutoff": 0}, ssm.client)

        assert run.rc == 1 and "set schedule" in run.result["msg"]
        assert writes(ssm) == []


class TestBadInputMakesNoCall:
    @pytest.mark.parametrize("changes,fragment", [
        ({"schedule": "cron(0 2 * * SUN)"}, "six fields"),
        ({"duration": 2, "cutoff": 2}, "must be smaller than the duration"),
        ({"schedule": "rate(7 days)", "schedule_offset": 1}, "cron schedule"),
        ({"tasks": [dict(task_args()[0], window_targets=["web", "nowhere"])]}, "unknown target 'nowhere'"),
        ({"tasks": [dict(task_args()[0], max_concurrency="0%")]}, "invalid max_concurrency"),
        ({"tasks": [dict(task_args()[0], max_errors="1000%")]}, "invalid max_errors"),
        ({"window_id": "mw-1"}, "Invalid window_id"),
    ])
    def test_refused_before_any_call(self, ssm, run_module, changes, fragment):
        run = run_module(module.main, window_args(**changes), ssm.client)

        assert run.rc == 1 and fragment in run.result["msg"]
        assert ssm.calls == []

    def test_unknown_target_with_kept_targets_is_refused_before_any_write(self, ssm, run_module):
        queue_existing(ssm)

        run = run_module(module.main, {"name": "patching", "tasks": [dict(task_args()[0], window_targets=["nowhere"])]},
                         ssm.client)

        assert run.rc == 1 and "unknown target 'nowhere'; the window's targets are: database, web" in run.result["msg"]
        assert writes(ssm) == []

    def test_cutoff_against_the_stored_duration(self, ssm, run_module):
        queue_existing(ssm)

        run = run_module(module.main, {"name": "patching", "cutoff": 4}, ssm.client)

        assert run.rc == 1 and "duration (4 hours)" in run.result["msg"]
        assert writes(ssm) == []

    def test_shared_name(self, ssm, run_module):
        queue_find(ssm, [WINDOW_ID, OTHER_ID])

        run = run_module(module.main, window_args(), ssm.client)

        assert run.rc == 1 and "2 maintenance windows are named 'patching'" in run.result["msg"]
        assert "set window_id" in run.result["msg"]


class TestUpdate:
    def test_idempotent(self, ssm, run_module):
        queue_existing(ssm)

        run = run_module(module.main, dict(window_args(), _ansible_diff=True), ssm.client)

        assert run.rc == 0 and run.result["changed"] is False
        assert writes(ssm) == []
        assert run.result["diff"]["before"] == run.result["diff"]["after"]

    def test_reordered_tasks_and_targets_are_not_a_change(self, ssm, run_module):
        queue_existing(ssm)
        tasks = list(reversed(task_args()))
        tasks[1]["window_targets"] = ["database", "web"]

        run = run_module(module.main, window_args(tasks=tasks, targets=list(reversed(target_args()))), ssm.client)

        assert run.rc == 0 and run.result["changed"] is False
        assert writes(ssm) == []

    def test_remove_one_task_and_change_the_other_in_place(self, ssm, run_module):
        queue_existing(ssm)
        ssm.add("update_maintenance_window_task", {}, {
            "WindowId": WINDOW_ID, "WindowTaskId": RESTART, "Priority": 0,
            "Targets": [{"Key": "WindowTargetIds", "Values": [DB, WEB]}], "MaxConcurrency": "5", "MaxErrors": "0"})
        ssm.add("deregister_task_from_maintenance_window", {}, {"WindowId": WINDOW_ID, "WindowTaskId": PATCH})
        queue_read(ssm, tasks=[aws_task(RESTART, "restart", [DB, WEB], priority=0, MaxConcurrency="5")])
        restart = dict(task_args()[1], priority=0, window_targets=["database", "web"], max_concurrency="5")

        run = run_module(module.main, {"name": "patching", "tasks": [restart]}, ssm.client)

        assert run.rc == 0 and run.result["changed"] is True, run.result
        assert writes(ssm) == ["UpdateMaintenanceWindowTask", "DeregisterTaskFromMaintenanceWindow"]
        assert [t["window_task_id"] for t in run.result["maintenance_window"]["tasks"]] == [RESTART]

    def test_check_mode_predicts_the_update(self, ssm, run_module):
        queue_existing(ssm)

        run = run_module(module.main, {"name": "patching", "tasks": [dict(task_args()[1], priority=0)],
                                       "_ansible_check_mode": True, "_ansible_diff": True}, ssm.client)

        assert run.rc == 0 and run.result["changed"] is True
        assert writes(ssm) == []
        tasks = run.result["maintenance_window"]["tasks"]
        assert [(t["window_task_id"], t["priority"]) for t in tasks] == [(RESTART, 0)]
        assert len(run.result["diff"]["before"]["tasks"]) == 2 and len(run.result["diff"]["after"]["tasks"]) == 1

    def test_purge_tasks_false_keeps_unlisted_tasks(self, ssm, run_module):
        queue_existing(ssm)

        run = run_module(module.main, {"name": "patching", "tasks": [task_args()[1]], "purge_tasks": False}, ssm.client)

        assert run.rc == 0 and run.result["changed"] is False
        assert writes(ssm) == []

    def test_a_task_type_change_re_registers_the_task(self, ssm, run_module):
        queue_existing(ssm)
        ssm.add("deregister_task_from_maintenance_window", {}, {"WindowId": WINDOW_ID, "WindowTaskId": PATCH})
        ssm.add("register_task_with_maintenance_window", {"WindowTaskId": NEW_TASK}, {
            "WindowId": WINDOW_ID, "Name": "patch", "TaskType": "AUTOMATION", "TaskArn": "AWS-PatchInstanceWithRollback",
            "Priority": 1, "CutoffBehavior": "CONTINUE_TASK", "MaxConcurrency": "1", "MaxErrors": "0",
            "Targets": [{"Key": "WindowTargetIds", "Values": [WEB, DB]}]})
        queue_read(ssm, tasks=[aws_task(NEW_TASK, "patch", [WEB, DB], TaskType="AUTOMATION",
                                        TaskArn="AWS-PatchInstanceWithRollback"), STANDARD_TASKS[1]])
        tasks = task_args()
        tasks[0].update(task_type="AUTOMATION", document="AWS-PatchInstanceWithRollback")

        run = run_module(module.main, {"name": "patching", "tasks": tasks}, ssm.client)

        assert run.rc == 0 and run.result["changed"] is True, run.result
        assert writes(ssm) == ["DeregisterTaskFromMaintenanceWindow", "RegisterTaskWithMaintenanceWindow"]

    def test_a_resource_type_change_re_registers_the_target_and_moves_the_tasks(self, ssm, run_module):
        queue_existing(ssm)
        group = [{"Key": "resource-groups:Name", "Values": ["web-servers"]}]
        ssm.add("register_target_with_maintenance_window", {"WindowTargetId": NEW_TARGET}, {
            "WindowId": WINDOW_ID, "Name": "web", "ResourceType": "RESOURCE_GROUP", "Targets": group})
        ssm.add("update_maintenance_window_task", {}, {
            "WindowId": WINDOW_ID, "WindowTaskId": PATCH, "Targets": [{"Key": "WindowTargetIds", "Values": [NEW_TARGET, DB]}],
            "MaxConcurrency": "1", "MaxErrors": "0"})
        ssm.add("update_maintenance_window_task", {}, {
            "WindowId": WINDOW_ID, "WindowTaskId": RESTART, "Targets": [{"Key": "WindowTargetIds", "Values": [NEW_TARGET]}],
            "MaxConcurrency": "1", "MaxErrors": "0"})
        ssm.add("deregister_target_from_maintenance_window", {}, {"WindowId": WINDOW_ID, "WindowTargetId": WEB, "Safe": True})
        queue_read(ssm, targets=[aws_target(NEW_TARGET, "web", group, ResourceType="RESOURCE_GROUP"), STANDARD_TARGETS[1]],
                   tasks=[aws_task(PATCH, "patch", [NEW_TARGET, DB]), aws_task(RESTART, "restart", [NEW_TARGET], priority=2)])
        targets = target_args()
        targets[0] = {"name": "web", "resource_type": "RESOURCE_GROUP",
                      "targets": [{"key": "resource-groups:Name", "values": ["web-servers"]}]}

        run = run_module(module.main, window_args(targets=targets), ssm.client)

        assert run.rc == 0 and run.result["changed"] is True, run.result
        assert writes(ssm) == ["RegisterTargetWithMaintenanceWindow", "UpdateMaintenanceWindowTask",
                               "UpdateMaintenanceWindowTask", "DeregisterTargetFromMaintenanceWindow"]
        assert [t["window_task_id"] for t in run.result["maintenance_window"]["tasks"]] == [PATCH, RESTART]

    def test_purged_targets_go_after_the_tasks_that_used_them(self, ssm, run_module):
        queue_existing(ssm)
        ssm.add("update_maintenance_window_task", {}, {
            "WindowId": WINDOW_ID, "WindowTaskId": PATCH, "Targets": [{"Key": "WindowTargetIds", "Values": [WEB]}],
            "MaxConcurrency": "1", "MaxErrors": "0"})
        ssm.add("deregister_target_from_maintenance_window", {}, {"WindowId": WINDOW_ID, "WindowTargetId": DB, "Safe": True})
        queue_read(ssm, targets=[STANDARD_TARGETS[0]], tasks=[aws_task(PATCH, "patch", [WEB]), STANDARD_TASKS[1]])
        tasks = task_args()
        tasks[0]["window_targets"] = ["web"]

        run = run_module(module.main, window_args(targets=target_args()[:1], tasks=tasks), ssm.client)

        assert run.rc == 0 and run.result["changed"] is True, run.result
        assert writes(ssm) == ["UpdateMaintenanceWindowTask", "DeregisterTargetFromMaintenanceWindow"]

    def test_a_changed_target_is_updated_in_place(self, ssm, run_module):
        queue_existing(ssm, targets=[aws_target(WEB, "web", OwnerInformation="team"), STANDARD_TARGETS[1]])
        ssm.add("update_maintenance_window_target", {}, {
            "WindowId": WINDOW_ID, "WindowTargetId": WEB, "Replace": True, "Name": "web",
            "Targets": [{"Key": "tag:Role", "Values": ["web", "api"]}]})
        queue_read(ssm)
        targets = target_args()
        targets[0]["tags"] = {"Role": ["web", "api"]}

        run = run_module(module.main, {"name": "patching", "targets": targets}, ssm.client)

        assert run.rc == 0 and run.result["changed"] is True
        assert writes(ssm) == ["UpdateMaintenanceWindowTarget"]

    def test_window_options_and_tags(self, ssm, run_module):
        queue_existing(ssm, window=aws_window(Description="old"), tags={"team": "web", "old": "x"})
        ssm.add("update_maintenance_window", {}, {
            "WindowId": WINDOW_ID, "Replace": True, "Name": "patching", "Schedule": "cron(0 2 ? * SUN *)", "Duration": 6,
            "Cutoff": 1, "AllowUnassociatedTargets": False, "Enabled": False})
        ssm.add("remove_tags_from_resource", {}, {"ResourceType": "MaintenanceWindow", "ResourceId": WINDOW_ID, "TagKeys": ["old"]})
        ssm.add("add_tags_to_resource", {}, {"ResourceType": "MaintenanceWindow", "ResourceId": WINDOW_ID,
                                             "Tags": [{"Key": "env", "Value": "prod"}]})
        queue_read(ssm, window=aws_window(Duration=6, Enabled=False), tags={"team": "web", "env": "prod"})

        run = run_module(module.main, {"name": "patching", "description": "", "duration": 6, "enabled": False,
                                       "tags": {"team": "web", "env": "prod"}}, ssm.client)

        assert run.rc == 0 and run.result["changed"] is True, run.result
        assert writes(ssm) == ["UpdateMaintenanceWindow", "RemoveTagsFromResource", "AddTagsToResource"]
        assert run.result["maintenance_window"]["tags"] == {"team": "web", "env": "prod"}

    def test_rename_by_id(self, ssm, run_module):
        ssm.add("get_maintenance_window", aws_window(), {"WindowId": WINDOW_ID})
        queue_read(ssm)
        ssm.add("update_maintenance_window", {}, {"WindowId": WINDOW_ID, "Name": "patching-web"})
        queue_read(ssm, window=aws_window(Name="patching-web"))

        run = run_module(module.main, {"window_id": WINDOW_ID, "name": "patching-web"}, ssm.client)

        assert run.rc == 0 and run.result["maintenance_window"]["name"] == "patching-web"

    def test_a_missing_window_id_is_not_created(self, ssm, run_module):
        ssm.add_error("get_maintenance_window", "DoesNotExistException", expected={"WindowId": WINDOW_ID})

        run = run_module(module.main, {"window_id": WINDOW_ID, "description": "x"}, ssm.client)

        assert run.rc == 1 and "does not exist" in run.result["msg"]
        assert writes(ssm) == []

    def test_target_in_use_fails_with_aws_error(self, ssm, run_module):
        queue_existing(ssm)
        ssm.add_error("deregister_target_from_maintenance_window", "TargetInUseException",
                      "Target is being referenced by task(s)", status=400)

        run = run_module(module.main, {"name": "patching", "targets": target_args()[:1], "tasks": task_args()[1:],
                                       "purge_tasks": False}, ssm.client)

        assert run.rc == 1
        assert run.result["error_code"] == "TargetInUseException"
        assert run.result["iam_action"] == "ssm:DeregisterTargetFromMaintenanceWindow"


class TestAbsent:
    def test_delete(self, ssm, run_module):
        queue_existing(ssm)
        ssm.add("delete_maintenance_window", {"WindowId": WINDOW_ID}, {"WindowId": WINDOW_ID})

        run = run_module(module.main, {"name": "patching", "state": "absent", "_ansible_diff": True}, ssm.client)

        assert run.rc == 0 and run.result["changed"] is True
        assert run.result["maintenance_window"] == {} and run.result["diff"]["after"] == {}
        assert writes(ssm) == ["DeleteMaintenanceWindow"]

    def test_check_mode(self, ssm, run_module):
        queue_existing(ssm)

        run = run_module(module.main, {"name": "patching", "state": "absent", "_ansible_check_mode": True}, ssm.client)

        assert run.rc == 0 and run.result["changed"] is True and writes(ssm) == []

    def test_missing(self, ssm, run_module):
        queue_find(ssm, [])

        run = run_module(module.main, {"name": "patching", "state": "absent"}, ssm.client)

        assert run.rc == 0 and run.result["changed"] is False
