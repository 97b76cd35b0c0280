# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from unittest.mock import MagicMock

import pytest

from ansible_collections.fleetops.ssm.plugins.module_utils import _tags
from ansible_collections.fleetops.ssm.plugins.module_utils import _maintenance_windows as mw
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import WHEN
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import client_error

WINDOW_ID = "mw-0123456789abcdef0"
TARGET_A = "11111111-1111-4111-8111-111111111111"
TARGET_B = "22222222-2222-4222-8222-222222222222"
TASK_A = "33333333-3333-4333-8333-333333333333"
SLR = "arn:aws:iam::123456789012:role/aws-service-role/ssm.amazonaws.com/AWSServiceRoleForAmazonSSM"


def window_params(**overrides):
    params = dict(name="patching", description=None, schedule=None, schedule_timezone=None, schedule_offset=None,
                  duration=None, cutoff=None, allow_unassociated_targets=None, enabled=None, start_date=None,
                  end_date=None)
    params.update(overrides)
    return params


def target_option(name="web", **overrides):
    option = dict(name=name, description=None, resource_type="INSTANCE", instance_ids=None, tags={"Role": "web"},
                  targets=None, owner_information=None)
    option.update(overrides)
    return option


def task_option(name="patch", **overrides):
    option = dict(name=name, description=None, task_type="RUN_COMMAND", document="AWS-RunPatchBaseline",
                  document_version=None, parameters=None, window_targets=["web"], targets=None, priority=1,
                  max_concurrency="1", max_errors="0", service_role_arn=None, cutoff_behavior="CONTINUE_TASK",
                  run_command=None, step_functions=None, logging_info=None, alarm_configuration=None)
    option["lambda"] = None
    option.update(overrides)
    return option


def current_task(task_id=TASK_A, name="patch", targets=(TARGET_A,), **extra):
    task = {
        "WindowId": WINDOW_ID, "WindowTaskId": task_id, "Name": name, "TaskType": "RUN_COMMAND",
        "TaskArn": "AWS-RunPatchBaseline", "Priority": 1, "MaxConcurrency": "1", "MaxErrors": "0",
        "ServiceRoleArn": SLR, "CutoffBehavior": "CONTINUE_TASK",
        "Targets": [{"Key": "WindowTargetIds", "Values": list(targets)}],
    }
    task.update(extra)
    return task


def current_target(target_id=TARGET_A, name="web", **extra):
    target = {"WindowId": WINDOW_ID, "WindowTargetId": target_id, "Name": name, "ResourceType": "INSTANCE",
              "Targets": [{"Key": "tag:Role", "Values": ["web"]}]}
    target.update(extra)
    return target


# ---------------------------------------------------------------------------------------------
# schedule expressions
# ---------------------------------------------------------------------------------------------


class TestScheduleKind:
    @pytest.mark.parametrize("expression,kind", [
        ("cron(0 2 ? * SUN *)", "cron"),
        ("cron(30 23 ? * TUE#3 *)", "cron"),
        ("cron(15 10 ? * 6L *)", "cron"),
        ("cron(0 2 L * ? *)", "cron"),
        ("cron(0 2 LW * ? *)", "cron"),
        ("cron(0 2 15W * ? *)", "cron"),
        ("cron(0 2 L-3 * ? *)", "cron"),
        ("cron(0/15 8-17 ? * MON-FRI *)", "cron"),
        ("cron(0 0 1 JAN,JUL ? 2026-2030)", "cron"),
        ("cron(24 30 09 ? * * *)", "cron"),
        ("cron(0 2 ? jan-mar sun *)", "cron"),
        ("rate(1 minute)", "rate"),
        ("rate(30 minutes)", "rate"),
        ("rate(1 hour)", "rate"),
        ("rate(7 days)", "rate"),
        ("at(2026-07-07T13:15:30)", "at"),
    ])
    def test_valid(self, expression, kind):
        assert mw.schedule_kind(expression) == kind

    @pytest.mark.parametrize("expression,fragment", [
        ("cron(0 2 * * SUN)", "it has 5 fields"),
        ("cron(0 2 1 * SUN *)", "exactly one of day-of-month and day-of-week"),
        ("cron(0 2 ? * ? *)", "exactly one of day-of-month and day-of-week"),
        ("cron(60 2 ? * SUN *)", "minutes value 60 is outside 0-59"),
        ("cron(0 24 ? * SUN *)", "hours value 24 is outside 0-23"),
        ("cron(0 2 32 * ? *)", "day-of-month value 32"),
        ("cron(0 2 ? 13 SUN *)", "month value 13"),
        ("cron(0 2 ? * 8 *)", "day-of-week value 8"),
        ("cron(0 2 ? * FUNDAY *)", "not a valid day-of-week value"),
        ("cron(0 2 ? * SUN#6 *)", "must be 1 to 5"),
        ("cron(0 2 ? * SUN 1969)", "year value 1969"),
        ("cron(0/0 2 ? * SUN *)", "increment"),
        ("cron(L 2 ? * SUN *)", "not a valid minutes value"),
        ("rate(1 days)", "use rate(1 day)"),
        ("rate(5 hour)", "use rate(1 hour) for one unit and rate(N hours)"),
        ("rate(0 hours)", "positive"),
        ("rate(2 weeks)", "minute(s), hour(s) or day(s)"),
        ("at(2026-02-30T00:00:00)", "Invalid schedule"),
        ("every sunday", "use cron(...), rate(N unit) or at("),
        ("", "Invalid schedule"),
    ])
    def test_invalid(self, expression, fragment):
        with pytest.raises(mw.MaintenanceWindowValidationError, match="Invalid schedule") as raised:
            mw.schedule_kind(expression)
        assert fragment in str(raised.value)


class TestTimezone:
    def test_known(self):
        mw.validate_timezone("Europe/Berlin")
        mw.validate_timezone(None)

    def test_unknown(self):
        with pytest.raises(mw.MaintenanceWindowValidationError, match="IANA"):
            mw.validate_timezone("Mars/Olympus_Mons")

    def test_without_a_time_zone_database_aws_decides(self, monkeypatch):
        fake = MagicMock()
        fake.ZoneInfoNotFoundError = KeyError
        fake.ZoneInfo.side_effect = KeyError("x")
        fake.available_timezones.return_value = set()
        monkeypatch.setattr(mw, "zoneinfo", fake)
        mw.validate_timezone("Mars/Olympus_Mons")


# ---------------------------------------------------------------------------------------------
# input
# ---------------------------------------------------------------------------------------------


class TestDesiredWindow:
    def test_translation(self):
        desired = mw.desired_window(window_params(schedule="cron(0 2 ? * SUN *)", duration=4, cutoff=1,
                                                  schedule_offset=2, enabled=False, start_date="2026-01-01T00:00:00Z"))
        assert desired["Schedule"] == "cron(0 2 ? * SUN *)" and desired["ScheduleOffset"] == 2
        assert desired["Enabled"] is False and desired["Description"] is None

    @pytest.mark.parametrize("overrides,fragment", [
        ({"name": "ab"}, "Invalid maintenance window name 'ab'"),
        ({"name": "has space"}, "Invalid maintenance window name"),
        ({"duration": 25}, "1 to 24 hours"),
        ({"cutoff": 24}, "0 to 23"),
        ({"duration": 3, "cutoff": 3}, "The cutoff (3 hours) must be smaller than the duration (3 hours)"),
        ({"schedule": "rate(7 days)", "schedule_offset": 1}, "only to a cron schedule"),
        ({"schedule_offset": 7}, "1 to 6 days"),
        ({"start_date": "tomorrow"}, "Invalid start_date"),
        ({"start_date": "2027-01-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}, "must be later than the start_date"),
        ({"description": "x" * 129}, "129 characters"),
        ({"schedule_timezone": "Nowhere/Town"}, "IANA"),
    ])
    def test_refused(self, overrides, fragment):
        with pytest.raises(mw.MaintenanceWindowValidationError) as raised:
            mw.desired_window(window_params(**overrides))
        assert fragment in str(raised.value)

    def test_rules_against_the_stored_window(self):
        current = {"Schedule": "rate(1 day)", "Duration": 2, "Cutoff": 1}
        with pytest.raises(mw.MaintenanceWindowValidationError, match=r"cutoff \(2 hours\).*duration \(2 hours\)"):
            mw.check_window_rules(mw.desired_window(window_params(cutoff=2)), current)
        with pytest.raises(mw.MaintenanceWindowValidationError, match="only to a cron schedule"):
            mw.check_window_rules(mw.desired_window(window_params(schedule_offset=2)), current)
        mw.check_window_rules(mw.desired_window(window_params(duration=5, cutoff=4)), current)

    def test_window_id(self):
        mw.validate_window_id(WINDOW_ID)
        with pytest.raises(mw.MaintenanceWindowValidationError, match="mw-0123456789abcdef0"):
            mw.validate_window_id("mw-123")


class TestDesiredTargets:
    def test_every_way_to_select(self):
        desired = mw.desired_targets([target_option(
            instance_ids=["i-0123456789abcdef0"], tags={"Role": "web", "Env": ["prod", "staging"], "Tier": 1},
            targets=[{"key": "tag-key", "values": ["Patch Group"]}], owner_information="team", description="d")])
        assert desired["web"] == {
            "Name": "web", "ResourceType": "INSTANCE", "Description": "d", "OwnerInformation": "team",
            "Targets": [
                {"Key": "tag-key", "Values": ["Patch Group"]},
                {"Key": "InstanceIds", "Values": ["i-0123456789abcdef0"]},
                {"Key": "tag:Role", "Values": ["web"]},
                {"Key": "tag:Env", "Values": ["prod", "staging"]},
                {"Key": "tag:Tier", "Values": ["1"]},
            ],
        }

    @pytest.mark.parametrize("targets,fragment", [
        ([target_option(), target_option()], "Two targets are named 'web'"),
        ([target_option(tags=None)], "selects nothing"),
        ([target_option(tags={f"k{i}": "v" for i in range(6)})], "6 key/values entries; AWS allows 5"),
        ([target_option(tags=None, instance_ids=[f"i-{i:017x}" for i in range(51)])], "at most 50 values"),
        ([target_option(name="x")], "Invalid target name 'x'"),
        ([target_option(tags=None, targets=[{"key": "bad#key", "values": ["v"]}])], "not a valid target key"),
    ])
    def test_refused(self, targets, fragment):
        with pytest.raises(mw.MaintenanceWindowValidationError) as raised:
            mw.desired_targets(targets)
        assert fragment in str(raised.value)


class TestDesiredTasks:
    def test_run_command(self):
        desired = mw.desired_tasks([task_option(
            description="d", document_version="$DEFAULT", parameters={"Operation": "Install", "Reboot": True, "List": [1, 2]},
            service_role_arn="arn:aws:iam::123456789012:role/mw", cutoff_behavior="CANCEL_TASK",
            logging_info={"s3_bucket_name": "logs", "s3_key_prefix": None, "s3_region": "us-east-1"},
            alarm_configuration={"alarms": ["cpu"], "ignore_poll_alarm_failure": None},
            run_command={"comment": "c", "document_hash": None, "document_hash_type": None, "output_s3_bucket_name": "out",
                         "output_s3_key_prefix": "", "service_role_arn": None, "timeout_seconds": 600,
                         "notification_config": {"notification_arn": "arn:aws:sns:us-east-1:123456789012:t",
                                                 "notification_events": ["Failed"], "notification_type": "Command"},
                         "cloudwatch_output_config": {"cloudwatch_log_group_name": None, "cloudwatch_output_enabled": True}},
        )], {"web"})
        task = desired["patch"]
        assert task["WindowTargetNames"] == ["web"] and task["DirectTargets"] == []
        assert task["Description"] == "d" and task["CutoffBehavior"] == "CANCEL_TASK"
        assert task["LoggingInfo"] == {"S3BucketName": "logs", "S3Region": "us-east-1"}
        assert task["AlarmConfiguration"] == {"Alarms": [{"Name": "cpu"}], "IgnorePollAlarmFailure": False}
        assert task["TaskInvocationParameters"] == {"RunCommand": {
            "Comment": "c", "OutputS3BucketName": "out", "TimeoutSeconds": 600, "DocumentVersion": "$DEFAULT",
            "Parameters": {"Operation": ["Install"], "Reboot": ["true"], "List": ["1", "2"]},
            "NotificationConfig": {"NotificationArn": "arn:aws:sns:us-east-1:123456789012:t", "NotificationEvents": ["Failed"],
                                   "NotificationType": "Command"},
            "CloudWatchOutputConfig": {"CloudWatchOutputEnabled": True},
        }}

    def test_other_task_types(self):
        desired = mw.desired_tasks([
            task_option("auto", task_type="AUTOMATION", document="AWS-RestartEC2Instance", window_targets=None,
                        max_concurrency=None, max_errors=None, document_version="3", parameters={"InstanceId": "i-1"}),
            task_option("func", task_type="LAMBDA", document="arn:aws:lambda:us-east-1:123456789012:function:SSMf",
                        window_targets=None, max_concurrency=None, max_errors=None,
                        **{"lambda": {"client_context": None, "qualifier": "1", "payload": "{}"}}),
            task_option("flow", task_type="STEP_FUNCTIONS", document="arn:aws:states:us-east-1:123456789012:stateMachine:s",
                        window_targets=None, max_concurrency=None, max_errors=None,
                        step_functions={"input": "{}", "name": None}),
        ], set())
        assert desired["auto"]["TaskInvocationParameters"] == {
            "Automation": {"DocumentVersion": "3", "Parameters": {"InstanceId": ["i-1"]}}}
        assert "MaxConcurrency" not in desired["auto"]
        assert desired["func"]["TaskInvocationParameters"] == {"Lambda": {"Qualifier": "1", "Payload": "{}"}}
        assert desired["flow"]["TaskInvocationParameters"] == {"StepFunctions": {"Input": "{}"}}

    @pytest.mark.parametrize("option,known,allow,fragment", [
        (task_option(window_targets=["web", "db-1"]), {"web"}, None, "unknown target 'db-1'; the window's targets are: web"),
        (task_option(max_concurrency="0"), {"web"}, None, "invalid max_concurrency '0'"),
        (task_option(max_concurrency="101%"), {"web"}, None, "invalid max_concurrency"),
        (task_option(max_errors="-1"), {"web"}, None, "invalid max_errors '-1'"),
        (task_option(max_errors=None), {"web"}, None, "needs max_concurrency and max_errors"),
        (task_option(window_targets=None), set(), None, "a RUN_COMMAND task needs window_targets or targets"),
        (task_option(task_type="AUTOMATION", window_targets=None), set(), None, "targetless task"),
        (task_option(task_type="AUTOMATION", window_targets=None, max_concurrency=None, max_errors=None,
                     run_command={"comment": "x"}), set(), None, "run_command does not apply to AUTOMATION tasks"),
        (task_option(task_type="LAMBDA", window_targets=None, max_concurrency=None, max_errors=None,
                     parameters={"a": "b"}), set(), None, "parameters does not apply to LAMBDA tasks"),
        (task_option(document_version="latest"), {"web"}, None, "invalid document_version 'latest'"),
        (task_option(targets=[{"key": "InstanceIds", "values": ["i-1"]}]), {"web"}, False, "allow_unassociated_targets: true"),
        (task_option(targets=[{"key": "WindowTargetIds", "values": ["x"]}]), {"web"}, True, "name window targets in window_targets"),
        (task_option(priority=-1), {"web"}, None, "priority must be 0 or more"),
        (task_option(parameters={"a": None}), {"web"}, None, "document parameter 'a' has no value"),
    ])
    def test_refused(self, option, known, allow, fragment):
        with pytest.raises(mw.MaintenanceWindowValidationError) as raised:
            mw.desired_tasks([option], known, allow)
        assert fragment in str(raised.value)

    def test_duplicate_names(self):
        with pytest.raises(mw.MaintenanceWindowValidationError, match="Two tasks are named 'patch'"):
            mw.desired_tasks([task_option(), task_option()], {"web"})

    def test_unknown_targets_wait_when_the_targets_are_not_known(self):
        assert mw.desired_tasks([task_option(window_targets=["anything"])], None)["patch"]["WindowTargetNames"] == ["anything"]

    def test_resolve_targets(self):
        task = mw.desired_tasks([task_option(window_targets=["web", "database"],
                                             targets=[{"key": "InstanceIds", "values": ["i-0123456789abcdef0"]}])],
                                {"web", "database"}, True)["patch"]
        assert mw.resolve_task_targets(task, {"web": TARGET_A, "database": TARGET_B}) == [
            {"Key": "WindowTargetIds", "Values": [TARGET_A, TARGET_B]},
            {"Key": "InstanceIds", "Values": ["i-0123456789abcdef0"]},
        ]
        with pytest.raises(mw.MaintenanceWindowValidationError, match="unknown target 'database'"):
            mw.resolve_task_targets(task, {"web": TARGET_A})


# ---------------------------------------------------------------------------------------------
# comparison and plans
# ---------------------------------------------------------------------------------------------


class TestWindowComparison:
    CURRENT = {"WindowId": WINDOW_ID, "Name": "patching", "Schedule": "cron(0 2 ? * SUN *)", "Duration": 4, "Cutoff": 1,
               "AllowUnassociatedTargets": False, "Enabled": True, "Description": "old",
               "StartDate": "2026-01-01T00:00:00Z", "ScheduleTimezone": "UTC"}

    def test_only_set_options_count(self):
        desired = mw.desired_window(window_params(duration=4, start_date="2026-01-01T01:00:00+01:00"))
        assert mw.window_differences(desired, self.CURRENT) == []

    def test_changes_go_out_alone(self):
        desired = mw.desired_window(window_params(duration=6, enabled=False))
        changed = mw.window_differences(desired, self.CURRENT)
        assert changed == ["Duration", "Enabled"]
        assert mw.update_window_request(desired, self.CURRENT, changed) == {"WindowId": WINDOW_ID, "Duration": 6,
                                                                            "Enabled": False}

    def test_removing_a_value_replaces_the_window_and_keeps_the_rest(self):
        desired = mw.desired_window(window_params(description="", schedule_offset=0))
        changed = mw.window_differences(desired, self.CURRENT)
        assert changed == ["Description"]  # no offset to remove
        assert mw.update_window_request(desired, self.CURRENT, changed) == {
            "WindowId": WINDOW_ID, "Replace": True, "Name": "patching", "Schedule": "cron(0 2 ? * SUN *)", "Duration": 4,
            "Cutoff": 1, "AllowUnassociatedTargets": False, "ScheduleTimezone": "UTC",
            "StartDate": "2026-01-01T00:00:00Z", "Enabled": True,
        }

    def test_create_request(self):
        desired = mw.desired_window(window_params(schedule="rate(1 day)", duration=2, cutoff=0, description="",
                                                  enabled=False))
        assert mw.create_window_request(desired, {"a": "b"}) == {
            "Name": "patching", "Schedule": "rate(1 day)", "Duration": 2, "Cutoff": 0, "AllowUnassociatedTargets": False,
            "Tags": [{"Key": "a", "Value": "b"}]}
        with pytest.raises(mw.MaintenanceWindowValidationError, match="set schedule, duration, cutoff"):
            mw.create_window_request(mw.desired_window(window_params()), None)

    def test_prediction(self):
        predicted = mw.predict_window(mw.desired_window(window_params(description="")), self.CURRENT)
        assert "Description" not in predicted and predicted["Duration"] == 4
        created = mw.predict_window(mw.desired_window(window_params(schedule="rate(1 day)", duration=2, cutoff=0)), None)
        assert created["Enabled"] is True and created["AllowUnassociatedTargets"] is False and created["WindowId"] is None


class TestPlanTargets:
    def test_register_update_reregister_keep_and_purge(self):
        desired = mw.desired_targets([
            target_option("web", tags={"Role": "web"}),
            target_option("database", tags=None, instance_ids=["i-0123456789abcdef0"]),
            target_option("groups", tags=None, resource_type="RESOURCE_GROUP",
                          targets=[{"key": "resource-groups:Name", "values": ["g"]}]),
            target_option("new-one"),
        ])
        current = [
            current_target(TARGET_A, "web", Targets=[{"Key": "tag:Role", "Values": ["web"]}]),
            current_target(TARGET_B, "database", Targets=[{"Key": "InstanceIds", "Values": ["i-0fedcba9876543210"]}]),
            current_target("c", "groups", Targets=[{"Key": "tag:Role", "Values": ["g"]}]),
            current_target("d", "retired"),
            current_target("e", None),
        ]
        plan = mw.plan_targets(desired, current, purge=True)
        assert [item["Name"] for item in plan["register"]] == ["new-one"]
        assert [(wanted["Name"], have["WindowTargetId"], changed) for wanted, have, changed in plan["update"]] == [
            ("database", TARGET_B, ["Targets"])]
        assert [(wanted["Name"], have["WindowTargetId"]) for wanted, have in plan["reregister"]] == [("groups", "c")]
        assert [item["WindowTargetId"] for item in plan["keep"]] == [TARGET_A]
        assert [item["WindowTargetId"] for item in plan["deregister"]] == ["d", "e"]
        assert [item["WindowTargetId"] for item in mw.plan_targets(desired, current, purge=False)["keep"]] == [TARGET_A, "d", "e"]

    def test_order_of_values_is_not_a_change(self):
        desired = mw.desired_targets([target_option(tags={"Env": ["b", "a"], "Role": "web"})])
        current = [current_target(Targets=[{"Key": "tag:Role", "Values": ["web"]}, {"Key": "tag:Env", "Values": ["a", "b"]}])]
        assert mw.plan_targets(desired, current, True)["update"] == []

    def test_unset_targets_are_left_alone(self):
        plan = mw.plan_targets(None, [current_target()], purge=True)
        assert plan["deregister"] == [] and len(plan["keep"]) == 1

    def test_duplicate_names_in_aws(self):
        current = [current_target(TARGET_A), current_target(TARGET_B)]
        with pytest.raises(mw.MaintenanceWindowConflictError, match="2 targets named 'web'"):
            mw.plan_targets(mw.desired_targets([target_option()]), current, True)
        # duplicates the task does not manage are simply purged
        assert len(mw.plan_targets({}, current, True)["deregister"]) == 2

    def test_update_requests(self):
        wanted = mw.desired_targets([target_option(description="new")])["web"]
        have = current_target(OwnerInformation="old", Description="old")
        changed = mw.target_differences(wanted, have)
        assert changed == ["Description", "OwnerInformation"]
        assert mw.update_target_request(WINDOW_ID, wanted, have, changed) == {
            "WindowId": WINDOW_ID, "WindowTargetId": TARGET_A, "Replace": True, "Name": "web",
            "Targets": [{"Key": "tag:Role", "Values": ["web"]}], "Description": "new"}
        have = current_target(Description="old")
        assert mw.update_target_request(WINDOW_ID, wanted, have, ["Description"]) == {
            "WindowId": WINDOW_ID, "WindowTargetId": TARGET_A, "Description": "new"}


class TestTaskComparison:
    def wanted(self, **overrides):
        desired = mw.desired_tasks([task_option(**overrides)], None, True)["patch"]
        return mw.api_task(desired, {"web": TARGET_A, "database": TARGET_B})

    def test_same_task(self):
        assert mw.task_differences(self.wanted(), current_task()) == []

    def test_defaults_aws_fills_in_are_not_a_change(self):
        have = current_task(TaskInvocationParameters={"RunCommand": {"CloudWatchOutputConfig": {"CloudWatchOutputEnabled": False},
                                                                     "Comment": ""}})
        have.pop("CutoffBehavior")
        assert mw.task_differences(self.wanted(), have) == []

    def test_order_of_targets_and_events_is_not_a_change(self):
        wanted = self.wanted(window_targets=["web", "database"], run_command={
            "notification_config": {"notification_arn": "a", "notification_events": ["Success", "Failed"]}})
        have = current_task(targets=(TARGET_B, TARGET_A), TaskInvocationParameters={"RunCommand": {
            "NotificationConfig": {"NotificationArn": "a", "NotificationEvents": ["Failed", "Success"]}}})
        assert mw.task_differences(wanted, have) == []

    def test_unset_service_role_is_left_alone(self):
        assert mw.task_differences(self.wanted(), current_task(ServiceRoleArn="arn:aws:iam::123456789012:role/x")) == []
        assert mw.task_differences(self.wanted(service_role_arn="arn:aws:iam::123456789012:role/y"),
                                   current_task()) == ["ServiceRoleArn"]

    def test_placeholders_of_a_targetless_task(self):
        desired = mw.desired_tasks([task_option(task_type="AUTOMATION", window_targets=None, max_concurrency=None,
                                                max_errors=None)], set())["patch"]
        wanted = mw.api_task(desired, {})
        have = current_task(TaskType="AUTOMATION", Targets=[], MaxConcurrency="1", MaxErrors="1")
        assert mw.task_differences(wanted, have) == []

    def test_every_difference(self):
        wanted = self.wanted(document="AWS-RunShellScript", priority=2, max_concurrency="5", max_errors="1",
                             description="d", cutoff_behavior="CANCEL_TASK", window_targets=["database"],
                             parameters={"commands": "date"},
                             logging_info={"s3_bucket_name": "b", "s3_region": "us-east-1", "s3_key_prefix": None},
                             alarm_configuration={"alarms": ["a"], "ignore_poll_alarm_failure": True})
        assert mw.task_differences(wanted, current_task()) == [
            "TaskArn", "Priority", "CutoffBehavior", "Targets", "MaxConcurrency", "MaxErrors", "Description",
            "LoggingInfo", "AlarmConfiguration", "TaskInvocationParameters"]

    def test_update_request_sends_the_changes_and_the_rate_controls(self):
        wanted = self.wanted(priority=3, parameters={"Operation": "Scan"})
        have = current_task(TaskInvocationParameters={"RunCommand": {"Parameters": {"Operation": ["Install"]}, "Comment": "c"}})
        changed = mw.task_differences(wanted, have)
        assert mw.update_task_request(WINDOW_ID, wanted, have, changed) == {
            "WindowId": WINDOW_ID, "WindowTaskId": TASK_A, "Priority": 3, "MaxConcurrency": "1", "MaxErrors": "0",
            "TaskInvocationParameters": {"RunCommand": {"Parameters": {"Operation": ["Scan"]}}}}

    def test_removing_a_value_replaces_the_task_and_keeps_its_role(self):
        wanted = self.wanted()
        have = current_task(Description="old", ServiceRoleArn="arn:aws:iam::123456789012:role/kept",
                            TaskInvocationParameters={"RunCommand": {"Comment": "c"}})
        changed = mw.task_differences(wanted, have)
        assert changed == ["Description", "TaskInvocationParameters"]
        assert mw.update_task_request(WINDOW_ID, wanted, have, changed) == {
            "WindowId": WINDOW_ID, "WindowTaskId": TASK_A, "Replace": True, "TaskArn": "AWS-RunPatchBaseline",
            "Targets": [{"Key": "WindowTargetIds", "Values": [TARGET_A]}],
            "ServiceRoleArn": "arn:aws:iam::123456789012:role/kept", "Priority": 1, "MaxConcurrency": "1",
            "MaxErrors": "0", "Name": "patch", "CutoffBehavior": "CONTINUE_TASK"}

    def test_plan(self):
        desired = mw.desired_tasks([task_option("patch"), task_option("auto", task_type="AUTOMATION", window_targets=None,
                                                                      max_concurrency=None, max_errors=None),
                                    task_option("new-task")], None)
        current = [current_task(TASK_A, "patch"), current_task("b", "auto"), current_task("c", "old"),
                   current_task("d", None)]
        plan = mw.plan_tasks(desired, current, purge=True)
        assert [item["Name"] for item in plan["register"]] == ["new-task"]
        assert [have["WindowTaskId"] for _wanted, have in plan["update"]] == [TASK_A]
        assert [have["WindowTaskId"] for _wanted, have in plan["reregister"]] == ["b"]
        assert [have["WindowTaskId"] for have in plan["deregister"]] == ["c", "d"]
        assert [have["WindowTaskId"] for have in mw.plan_tasks(desired, current, purge=False)["keep"]] == ["c", "d"]
        assert mw.plan_tasks(None, current, True)["keep"] == current

    def test_register_request_of_a_targetless_task(self):
        desired = mw.desired_tasks([task_option(task_type="AUTOMATION", window_targets=None, max_concurrency=None,
                                                max_errors=None)], set())["patch"]
        request = mw.register_task_request(WINDOW_ID, mw.api_task(desired, {}))
        assert "Targets" not in request and "MaxConcurrency" not in request
        assert request["WindowId"] == WINDOW_ID and request["TaskType"] == "AUTOMATION"


# ---------------------------------------------------------------------------------------------
# API calls
# ---------------------------------------------------------------------------------------------


class TestApiCalls:
    def test_describe_windows_pages(self, ssm):
        filters = [{"Key": "Name", "Values": ["patching"]}]
        ssm.add("describe_maintenance_windows", {"WindowIdentities": [{"WindowId": WINDOW_ID, "Name": "patching"}],
                                                 "NextToken": "t"}, {"Filters": filters, "MaxResults": 100})
        ssm.add("describe_maintenance_windows", {"WindowIdentities": [{"WindowId": "mw-0123456789abcdef1", "Name": "patching-2"}]},
                {"Filters": filters, "MaxResults": 100, "NextToken": "t"})

        found = mw.find_windows_by_name(ssm.client, "patching")

        assert [item["WindowId"] for item in found] == [WINDOW_ID]

    def test_locate_refuses_a_shared_name(self, ssm):
        ssm.add("describe_maintenance_windows", {"WindowIdentities": [
            {"WindowId": WINDOW_ID, "Name": "patching"}, {"WindowId": "mw-0123456789abcdef1", "Name": "patching"}]})

        with pytest.raises(mw.MaintenanceWindowConflictError) as raised:
            mw.locate_window(ssm.client, "patching")

        assert "2 maintenance windows are named 'patching'" in str(raised.value)
        assert "mw-0123456789abcdef0, mw-0123456789abcdef1" in str(raised.value)

    def test_locate_by_id(self, ssm):
        ssm.add_error("get_maintenance_window", "DoesNotExistException", expected={"WindowId": WINDOW_ID})

        assert mw.locate_window(ssm.client, window_id=WINDOW_ID) is None

    def test_read_window(self, ssm):
        ssm.add("get_maintenance_window", {"WindowId": WINDOW_ID, "Name": "patching", "CreatedDate": WHEN})
        ssm.add("describe_maintenance_window_tasks", {"Tasks": [{"WindowTaskId": TASK_A}]}, {"WindowId": WINDOW_ID, "MaxResults": 100})
        ssm.add("get_maintenance_window_task", current_task(), {"WindowId": WINDOW_ID, "WindowTaskId": TASK_A})
        ssm.add("describe_maintenance_window_targets", {"Targets": [current_target()]}, {"WindowId": WINDOW_ID, "MaxResults": 100})
        ssm.add("list_tags_for_resource", {"TagList": [{"Key": "a", "Value": "b"}]},
                {"ResourceType": "MaintenanceWindow", "ResourceId": WINDOW_ID})

        state = mw.read_window(ssm.client, WINDOW_ID)

        assert state["Window"]["Name"] == "patching" and "ResponseMetadata" not in state["Window"]
        assert state["Tasks"][0]["WindowTaskId"] == TASK_A and "ResponseMetadata" not in state["Tasks"][0]
        assert state["Targets"][0]["WindowTargetId"] == TARGET_A
        assert state["Tags"] == {"a": "b"}

    def test_deregister_target_is_safe_by_default(self, ssm):
        ssm.add("deregister_target_from_maintenance_window", {},
                {"WindowId": WINDOW_ID, "WindowTargetId": TARGET_A, "Safe": True})

        assert mw.deregister_target(ssm.client, WINDOW_ID, TARGET_A) is True

    def test_target_in_use_is_an_error(self):
        client = MagicMock()
        client.deregister_target_from_maintenance_window.side_effect = client_error(
            "TargetInUseException", "DeregisterTargetFromMaintenanceWindow", "used by a task")

        with pytest.raises(AnsibleSSMError) as raised:
            mw.deregister_target(client, WINDOW_ID, TARGET_A)

        assert raised.value.error_code == "TargetInUseException"
        assert "deregister target from maintenance window" in str(raised.value)

    def test_access_denied_names_the_iam_action(self):
        client = MagicMock()
        client.update_maintenance_window_task.side_effect = client_error("AccessDeniedException", "UpdateMaintenanceWindowTask")

        with pytest.raises(AnsibleSSMError) as raised:
            mw.update_task(client, {"WindowId": WINDOW_ID, "WindowTaskId": TASK_A})

        assert raised.value.iam_action == "ssm:UpdateMaintenanceWindowTask"

    def test_schedule_and_executions(self, ssm):
        ssm.add("describe_maintenance_window_schedule", {"ScheduledWindowExecutions": [{"ExecutionTime": "2026-01-04T02:00Z"}]},
                {"WindowId": WINDOW_ID, "MaxResults": 1})
        ssm.add("describe_maintenance_window_executions", {"WindowExecutions": []}, {"WindowId": WINDOW_ID, "MaxResults": 100})

        assert mw.describe_schedule(ssm.client, WINDOW_ID, 1) == [{"ExecutionTime": "2026-01-04T02:00Z"}]
        assert mw.describe_executions(ssm.client, WINDOW_ID) == []

    def test_tags(self, ssm):
        ssm.add("add_tags_to_resource", {}, {"ResourceType": "MaintenanceWindow", "ResourceId": WINDOW_ID,
                                             "Tags": [{"Key": "a", "Value": "b"}]})
        ssm.add("remove_tags_from_resource", {}, {"ResourceType": "MaintenanceWindow", "ResourceId": WINDOW_ID, "TagKeys": ["c"]})

        _tags.add_tags(ssm.client, mw.RESOURCE_TYPE, WINDOW_ID, {"a": "b"})
        _tags.remove_tags(ssm.client, mw.RESOURCE_TYPE, WINDOW_ID, ["c"])


# ---------------------------------------------------------------------------------------------
# output
# ---------------------------------------------------------------------------------------------


class TestOutput:
    def test_result_and_diff(self):
        state = {
            "Window": {"WindowId": WINDOW_ID, "Name": "patching", "Schedule": "rate(1 day)", "CreatedDate": WHEN},
            "Targets": [current_target(TARGET_B, "web"), current_target(TARGET_A, "database")],
            "Tasks": [
                current_task("b", "later", targets=(TARGET_B,), Priority=2),
                current_task(TASK_A, "first", targets=(TARGET_A, "gone-target"), TaskInvocationParameters={
                    "Lambda": {"Payload": b"{}"}}),
            ],
            "Tags": {"a": "b"},
        }
        result = mw.describe_for_result(state)
        assert result["created_date"] == WHEN.isoformat()
        assert [item["name"] for item in result["targets"]] == ["database", "web"]
        assert [item["name"] for item in result["tasks"]] == ["first", "later"]
        assert result["tasks"][0]["window_targets"] == ["database", "gone-target"]
        assert result["tasks"][0]["lambda"] == {"client_context": None, "qualifier": None, "payload": "{}"}
        assert result["tasks"][1]["run_command"] is None and result["tasks"][1]["targets"] == []
        diff = mw.describe_for_diff(state)
        assert "window_id" not in diff and "created_date" not in diff
        assert "window_target_id" not in diff["targets"][0] and "window_task_id" not in diff["tasks"][0]
        assert "description" not in diff["tasks"][0]
        assert mw.describe_for_result(None) == {} and mw.describe_for_diff(None) == {}

    def test_check_mode_placeholders_are_not_shown(self):
        placeholder = mw.placeholder_id("web")
        state = {"Window": {"WindowId": None, "Name": "patching"},
                 "Targets": [current_target(placeholder, "web")],
                 "Tasks": [current_task(None, "patch", targets=(placeholder,))], "Tags": {}}
        result = mw.describe_for_result(state)
        assert result["targets"][0]["window_target_id"] is None
        assert result["tasks"][0]["window_targets"] == ["web"]
        assert result["tasks"][0]["window_target_ids"] == []
