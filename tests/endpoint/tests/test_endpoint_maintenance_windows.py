"""Maintenance windows: windows, targets, tasks, executions, schedules and tags."""

import datetime as dt
import json
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from fleetops_endpoint import shapes
from fleetops_endpoint.ssm import maintenance_windows as mw
from fleetops_endpoint.ssm import registry

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=UTC)  # a Thursday
SLR = "arn:aws:iam::123456789012:role/aws-service-role/ssm.amazonaws.com/AWSServiceRoleForAmazonSSM"


def error(excinfo):
    err = excinfo.value.response["Error"]
    return err["Code"], err.get("Message", "")


@pytest.fixture
def frozen(monkeypatch):
    """The endpoint's clock stopped at NOW."""
    monkeypatch.setattr(registry.Context, "now", lambda self: NOW.timestamp())
    return NOW


def window(ssm, name="mw-test", **extra):
    request = dict(Name=name, Schedule="cron(0 2 ? * SUN *)", Duration=4, Cutoff=1, AllowUnassociatedTargets=False)
    request.update(extra)
    return ssm.create_maintenance_window(**request)["WindowId"]


def target(ssm, window_id, name="web", **extra):
    request = dict(WindowId=window_id, ResourceType="INSTANCE", Targets=[{"Key": "tag:Role", "Values": ["web"]}],
                   Name=name)
    request.update(extra)
    return ssm.register_target_with_maintenance_window(**request)["WindowTargetId"]


def task(ssm, window_id, target_ids, name="patch", **extra):
    request = dict(WindowId=window_id, TaskArn="AWS-RunPatchBaseline", TaskType="RUN_COMMAND",
                   Targets=[{"Key": "WindowTargetIds", "Values": list(target_ids)}], MaxConcurrency="1",
                   MaxErrors="0", Name=name)
    request.update(extra)
    return ssm.register_task_with_maintenance_window(**request)["WindowTaskId"]


def run(endpoint, window_id, body=None, expect=200):
    request = urllib.request.Request(
        f"{endpoint.url}/_fleetops/maintenance-windows/{window_id}/run", data=json.dumps(body or {}).encode(),
        method="POST", headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == expect
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        assert exc.code == expect, exc.read()
        return json.loads(exc.read())


# --------------------------------------------------------------------------
# windows


def test_create_get_and_the_moto_bugs_fixed(ssm_client):
    window_id = window(ssm_client, Description="d", ScheduleTimezone="Europe/Berlin", AllowUnassociatedTargets=True)
    assert window_id.startswith("mw-") and len(window_id) == 20
    got = ssm_client.get_maintenance_window(WindowId=window_id)
    assert got["Name"] == "mw-test" and got["Description"] == "d"
    assert got["AllowUnassociatedTargets"] is True  # moto leaves it out
    assert got["Enabled"] is True
    assert got["Duration"] == 4 and got["Cutoff"] == 1 and got["ScheduleTimezone"] == "Europe/Berlin"
    assert isinstance(got["CreatedDate"], dt.datetime) and "NextExecutionTime" in got
    ssm_client.update_maintenance_window(WindowId=window_id, Enabled=False)
    got = ssm_client.get_maintenance_window(WindowId=window_id)
    assert got["Enabled"] is False  # moto reports every window as enabled
    assert got["AllowUnassociatedTargets"] is True
    assert "NextExecutionTime" not in got  # a disabled window does not run


def test_update_changes_only_what_is_given_and_replace_resets(ssm_client):
    window_id = window(ssm_client, Description="keep", ScheduleTimezone="UTC")
    updated = ssm_client.update_maintenance_window(WindowId=window_id, Duration=6, Cutoff=2)
    assert updated["Duration"] == 6 and updated["Description"] == "keep" and updated["ScheduleTimezone"] == "UTC"
    assert "CreatedDate" not in updated  # not a member of UpdateMaintenanceWindowResult
    with pytest.raises(ClientError) as excinfo:
        ssm_client.update_maintenance_window(WindowId=window_id, Replace=True, Description="x")
    assert error(excinfo)[0] == "ValidationException"
    replaced = ssm_client.update_maintenance_window(
        WindowId=window_id, Replace=True, Name="renamed", Schedule="rate(2 days)", Duration=2, Cutoff=0,
        AllowUnassociatedTargets=False,
    )
    assert replaced["Name"] == "renamed"
    assert "Description" not in replaced and "ScheduleTimezone" not in replaced
    assert replaced["Enabled"] is True


@pytest.mark.parametrize("changes,fragment", [
    ({"Schedule": "cron(0 2 * * SUN)"}, "Invalid schedule expression"),
    ({"Schedule": "cron(0 2 1 * SUN *)"}, "day-of-month and day-of-week"),
    ({"Schedule": "cron(0 25 ? * SUN *)"}, "out of range"),
    ({"Schedule": "rate(1 days)"}, "Invalid schedule expression"),
    ({"Schedule": "rate(5 hour)"}, "Invalid schedule expression"),
    ({"Schedule": "every sunday"}, "Invalid schedule expression"),
    ({"Cutoff": 4}, "must be less than the duration"),
    ({"Schedule": "rate(7 days)", "ScheduleOffset": 2}, "only for cron"),
    ({"ScheduleTimezone": "Mars/Olympus"}, "timezone"),
    ({"StartDate": "yesterday"}, "StartDate"),
    ({"EndDate": "2020-01-01T00:00:00Z"}, "must be in the future"),
    ({"StartDate": "2031-01-01T00:00:00Z", "EndDate": "2030-01-01T00:00:00Z"}, "later than StartDate"),
])
def test_create_validation(ssm_client, changes, fragment):
    with pytest.raises(ClientError) as excinfo:
        window(ssm_client, **changes)
    code, message = error(excinfo)
    assert code == "ValidationException" and fragment in message, message


def test_model_limits_are_checked(aws_client):
    raw = aws_client("ssm", parameter_validation=False)
    with pytest.raises(ClientError) as excinfo:
        raw.create_maintenance_window(Name="x", Schedule="rate(1 day)", Duration=25, Cutoff=0,
                                      AllowUnassociatedTargets=False)
    message = error(excinfo)[1]
    assert "at 'name' failed to satisfy constraint" in message
    assert "at 'duration' failed to satisfy constraint" in message


def test_accepted_schedules(ssm_client):
    for schedule in ("cron(0 2 ? * THU#3 *)", "cron(15 10 ? * 6L *)", "cron(0 2 L * ? *)", "cron(24 30 09 ? * * *)",
                     "cron(0/15 8-17 ? * MON-FRI *)", "cron(0 0 15W JAN,JUL ? 2026-2030)", "rate(1 hour)",
                     "rate(30 minutes)", "at(2030-07-07T13:15:30)"):
        window(ssm_client, name="sched-" + str(abs(hash(schedule)) % 10000).zfill(4), Schedule=schedule)


def test_delete_is_idempotent_and_drops_tags(ssm_client):
    window_id = window(ssm_client, Tags=[{"Key": "a", "Value": "b"}])
    assert ssm_client.delete_maintenance_window(WindowId=window_id)["WindowId"] == window_id
    assert ssm_client.delete_maintenance_window(WindowId=window_id)["WindowId"] == window_id
    with pytest.raises(ClientError) as excinfo:
        ssm_client.get_maintenance_window(WindowId=window_id)
    assert error(excinfo)[0] == "DoesNotExistException"
    with pytest.raises(ssm_client.exceptions.InvalidResourceId):
        ssm_client.list_tags_for_resource(ResourceType="MaintenanceWindow", ResourceId=window_id)


def test_missing_window_errors(ssm_client):
    missing = "mw-0123456789abcdef0"
    for call in (
        lambda: ssm_client.get_maintenance_window(WindowId=missing),
        lambda: ssm_client.update_maintenance_window(WindowId=missing, Duration=3),
        lambda: ssm_client.describe_maintenance_window_targets(WindowId=missing),
        lambda: ssm_client.describe_maintenance_window_tasks(WindowId=missing),
        lambda: target(ssm_client, missing),
        lambda: ssm_client.describe_maintenance_window_schedule(WindowId=missing),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error(excinfo) == ("DoesNotExistException", f"Maintenance window {missing} does not exist")


def test_describe_windows_filters_and_pages(ssm_client):
    ids = [window(ssm_client, name=f"page-{i:02d}") for i in range(12)]
    ssm_client.update_maintenance_window(WindowId=ids[3], Enabled=False)
    first = ssm_client.describe_maintenance_windows()
    assert len(first["WindowIdentities"]) == 10 and "NextToken" in first
    rest = ssm_client.describe_maintenance_windows(NextToken=first["NextToken"])
    assert [w["WindowId"] for w in first["WindowIdentities"] + rest["WindowIdentities"]] == ids
    paginator = ssm_client.get_paginator("describe_maintenance_windows")
    assert len(paginator.paginate().build_full_result()["WindowIdentities"]) == 12
    named = ssm_client.describe_maintenance_windows(Filters=[{"Key": "Name", "Values": ["page-05"]}])
    assert [w["WindowId"] for w in named["WindowIdentities"]] == [ids[5]]
    assert ssm_client.describe_maintenance_windows(Filters=[{"Key": "Name", "Values": ["page-0"]}])["WindowIdentities"] == []
    disabled = ssm_client.describe_maintenance_windows(Filters=[{"Key": "Enabled", "Values": ["False"]}])
    assert [w["WindowId"] for w in disabled["WindowIdentities"]] == [ids[3]]
    enabled = ssm_client.describe_maintenance_windows(Filters=[{"Key": "Enabled", "Values": ["true"]}], MaxResults=50)
    assert len(enabled["WindowIdentities"]) == 11
    with pytest.raises(ClientError) as excinfo:
        ssm_client.describe_maintenance_windows(Filters=[{"Key": "Owner", "Values": ["x"]}])
    assert error(excinfo)[0] == "ValidationException"


def test_window_quota(ssm_client):
    for i in range(mw.MAX_WINDOWS):
        window(ssm_client, name=f"quota-{i:02d}")
    with pytest.raises(ClientError) as excinfo:
        window(ssm_client, name="one-too-many")
    assert error(excinfo)[0] == "ResourceLimitExceededException"


def test_client_token_idempotency(ssm_client):
    first = window(ssm_client, ClientToken="token-1")
    assert window(ssm_client, ClientToken="token-1") == first
    with pytest.raises(ClientError) as excinfo:
        window(ssm_client, ClientToken="token-1", Duration=5)
    assert error(excinfo)[0] == "IdempotentParameterMismatch"
    target_id = target(ssm_client, first, ClientToken="t")
    assert target(ssm_client, first, ClientToken="t") == target_id
    task_id = task(ssm_client, first, [target_id], ClientToken="k")
    assert task(ssm_client, first, [target_id], ClientToken="k") == task_id


# --------------------------------------------------------------------------
# targets


def test_targets_register_update_describe_with_filters(ssm_client):
    window_id = window(ssm_client)
    web = target(ssm_client, window_id, OwnerInformation="web team", Description="web")
    db = target(ssm_client, window_id, name="database", Targets=[{"Key": "InstanceIds", "Values": ["i-0123456789abcdef0"]}])
    group = target(ssm_client, window_id, name="group", ResourceType="RESOURCE_GROUP",
                   Targets=[{"Key": "resource-groups:Name", "Values": ["servers"]}])
    listed = ssm_client.describe_maintenance_window_targets(WindowId=window_id)["Targets"]
    assert [t["WindowTargetId"] for t in listed] == [web, db, group]
    assert listed[0]["OwnerInformation"] == "web team" and listed[0]["ResourceType"] == "INSTANCE"

    def filtered(key, values):
        found = ssm_client.describe_maintenance_window_targets(WindowId=window_id, Filters=[{"Key": key, "Values": values}])
        return [t["WindowTargetId"] for t in found["Targets"]]

    # moto returns nothing for any filter
    assert filtered("Type", ["RESOURCE_GROUP"]) == [group]
    assert filtered("WindowTargetId", [db, web]) == [web, db]
    assert filtered("OwnerInformation", ["web team"]) == [web]
    with pytest.raises(ClientError) as excinfo:
        filtered("Name", ["web"])
    assert error(excinfo)[0] == "ValidationException"

    updated = ssm_client.update_maintenance_window_target(
        WindowId=window_id, WindowTargetId=web, Targets=[{"Key": "tag:Role", "Values": ["web", "api"]}])
    assert updated["Targets"] == [{"Key": "tag:Role", "Values": ["web", "api"]}]
    assert updated["OwnerInformation"] == "web team" and updated["Description"] == "web"
    assert "ResourceType" not in updated
    replaced = ssm_client.update_maintenance_window_target(
        WindowId=window_id, WindowTargetId=web, Replace=True, Targets=[{"Key": "tag:Role", "Values": ["web"]}], Name="web")
    assert "OwnerInformation" not in replaced and "Description" not in replaced
    with pytest.raises(ClientError) as excinfo:
        ssm_client.update_maintenance_window_target(WindowId=window_id, WindowTargetId=web, Replace=True, Name="x-y")
    assert error(excinfo)[0] == "ValidationException"


@pytest.mark.parametrize("request_changes", [
    {"Targets": []},
    {"Targets": [{"Key": "InstanceIds", "Values": ["not-an-instance"]}]},
    {"ResourceType": "RESOURCE_GROUP"},
    {"Targets": [{"Key": "resource-groups:Name", "Values": ["g"]}]},
])
def test_target_validation(ssm_client, request_changes):
    window_id = window(ssm_client)
    with pytest.raises(ClientError) as excinfo:
        target(ssm_client, window_id, **request_changes)
    assert error(excinfo)[0] == "ValidationException"


def test_deregister_target_safe_and_unsafe(ssm_client):
    window_id = window(ssm_client)
    web = target(ssm_client, window_id)
    other = target(ssm_client, window_id, name="other")
    task_id = task(ssm_client, window_id, [web])
    with pytest.raises(ClientError) as excinfo:
        ssm_client.deregister_target_from_maintenance_window(WindowId=window_id, WindowTargetId=web, Safe=True)
    code, message = error(excinfo)
    assert code == "TargetInUseException" and task_id in message
    result = ssm_client.deregister_target_from_maintenance_window(WindowId=window_id, WindowTargetId=other, Safe=True)
    assert result == {"WindowId": window_id, "WindowTargetId": other, "ResponseMetadata": result["ResponseMetadata"]}
    ssm_client.deregister_target_from_maintenance_window(WindowId=window_id, WindowTargetId=web)
    assert ssm_client.describe_maintenance_window_targets(WindowId=window_id)["Targets"] == []
    with pytest.raises(ClientError) as excinfo:
        ssm_client.deregister_target_from_maintenance_window(WindowId=window_id, WindowTargetId=web)
    assert error(excinfo)[0] == "DoesNotExistException"


# --------------------------------------------------------------------------
# tasks


def test_tasks_register_get_describe_with_filters(ssm_client):
    window_id = window(ssm_client, AllowUnassociatedTargets=True)
    web = target(ssm_client, window_id)
    patch = task(ssm_client, window_id, [web], Priority=2, Description="patch",
                 TaskInvocationParameters={"RunCommand": {"Parameters": {"Operation": ["Install"]}, "TimeoutSeconds": 600}},
                 LoggingInfo={"S3BucketName": "logs-bucket", "S3Region": "us-east-1"})
    auto = ssm_client.register_task_with_maintenance_window(
        WindowId=window_id, TaskArn="AWS-RestartEC2Instance", TaskType="AUTOMATION", Name="restart",
        TaskInvocationParameters={"Automation": {"DocumentVersion": "$DEFAULT", "Parameters": {"InstanceId": ["i-0123456789abcdef0"]}}},
        ServiceRoleArn="arn:aws:iam::123456789012:role/mw", CutoffBehavior="CANCEL_TASK",
    )["WindowTaskId"]
    got = ssm_client.get_maintenance_window_task(WindowId=window_id, WindowTaskId=patch)
    assert got["TaskType"] == "RUN_COMMAND" and got["Priority"] == 2 and got["Description"] == "patch"
    assert got["TaskInvocationParameters"]["RunCommand"]["TimeoutSeconds"] == 600
    assert got["ServiceRoleArn"] == SLR  # AWS fills in its service-linked role
    assert got["CutoffBehavior"] == "CONTINUE_TASK"
    assert got["LoggingInfo"]["S3BucketName"] == "logs-bucket"
    targetless = ssm_client.get_maintenance_window_task(WindowId=window_id, WindowTaskId=auto)
    assert targetless["MaxConcurrency"] == "1" and targetless["MaxErrors"] == "1"  # AWS's placeholders
    assert targetless["Priority"] == 1 and targetless["CutoffBehavior"] == "CANCEL_TASK"

    listed = ssm_client.describe_maintenance_window_tasks(WindowId=window_id)["Tasks"]
    assert [t["WindowTaskId"] for t in listed] == [patch, auto]
    assert listed[0]["Type"] == "RUN_COMMAND" and "TaskInvocationParameters" not in listed[0]

    def filtered(key, values):
        found = ssm_client.describe_maintenance_window_tasks(WindowId=window_id, Filters=[{"Key": key, "Values": values}])
        return [t["WindowTaskId"] for t in found["Tasks"]]

    # moto returns nothing for any filter
    assert filtered("TaskType", ["AUTOMATION"]) == [auto]
    assert filtered("TaskArn", ["AWS-RunPatchBaseline"]) == [patch]
    assert filtered("Priority", ["2"]) == [patch]
    assert filtered("WindowTaskId", [auto, patch]) == [patch, auto]
    with pytest.raises(ClientError) as excinfo:
        filtered("Name", ["patch"])
    assert error(excinfo)[0] == "ValidationException"


@pytest.mark.parametrize("changes,code", [
    ({"Targets": []}, "ValidationException"),  # a Run Command task needs targets
    ({"Targets": [{"Key": "InstanceIds", "Values": ["i-0123456789abcdef0"]}]}, "ValidationException"),  # unassociated
    ({"Targets": [{"Key": "WindowTargetIds", "Values": ["00000000-0000-4000-8000-000000000000"]}]}, "DoesNotExistException"),
    ({"MaxConcurrency": None}, "ValidationException"),
    ({"TaskInvocationParameters": {"Automation": {"DocumentVersion": "1"}}}, "ValidationException"),
])
def test_task_validation(ssm_client, changes, code):
    window_id = window(ssm_client)
    web = target(ssm_client, window_id)
    request = dict(WindowId=window_id, TaskArn="AWS-RunShellScript", TaskType="RUN_COMMAND",
                   Targets=[{"Key": "WindowTargetIds", "Values": [web]}], MaxConcurrency="1", MaxErrors="0")
    request.update(changes)
    request = {key: value for key, value in request.items() if value is not None}
    with pytest.raises(ClientError) as excinfo:
        ssm_client.register_task_with_maintenance_window(**request)
    assert error(excinfo)[0] == code


def test_targetless_task_takes_no_rate_controls(ssm_client):
    window_id = window(ssm_client)
    with pytest.raises(ClientError) as excinfo:
        ssm_client.register_task_with_maintenance_window(
            WindowId=window_id, TaskArn="AWS-RestartEC2Instance", TaskType="AUTOMATION", MaxConcurrency="2", MaxErrors="1")
    assert error(excinfo)[0] == "ValidationException"


def test_update_task_keeps_unset_fields_and_replaces_invocation_parameters(ssm_client):
    window_id = window(ssm_client)
    web = target(ssm_client, window_id)
    task_id = task(ssm_client, window_id, [web], Description="d", Priority=3, TaskInvocationParameters={
        "RunCommand": {"Comment": "c", "OutputS3BucketName": "bucket-a", "TimeoutSeconds": 60}})
    updated = ssm_client.update_maintenance_window_task(
        WindowId=window_id, WindowTaskId=task_id, MaxConcurrency="5",
        TaskInvocationParameters={"RunCommand": {"OutputS3BucketName": "bucket-b"}})
    assert updated["MaxConcurrency"] == "5" and updated["Description"] == "d" and updated["Priority"] == 3
    assert updated["TaskInvocationParameters"] == {"RunCommand": {"OutputS3BucketName": "bucket-b"}}
    assert "TaskType" not in updated
    replaced = ssm_client.update_maintenance_window_task(
        WindowId=window_id, WindowTaskId=task_id, Replace=True, TaskArn="AWS-RunShellScript",
        Targets=[{"Key": "WindowTargetIds", "Values": [web]}], MaxConcurrency="1", MaxErrors="1")
    assert "Description" not in replaced and "TaskInvocationParameters" not in replaced
    assert replaced["Priority"] == 1 and replaced["TaskArn"] == "AWS-RunShellScript"
    with pytest.raises(ClientError) as excinfo:
        ssm_client.update_maintenance_window_task(WindowId=window_id, WindowTaskId=task_id, Replace=True, Priority=1)
    assert error(excinfo)[0] == "ValidationException"
    got = ssm_client.get_maintenance_window_task(WindowId=window_id, WindowTaskId=task_id)
    assert got["TaskType"] == "RUN_COMMAND" and got["WindowTaskId"] == task_id


def test_deregister_task_and_quota(ssm_client):
    window_id = window(ssm_client)
    web = target(ssm_client, window_id)
    ids = [task(ssm_client, window_id, [web], name=f"task-{i:02d}") for i in range(mw.MAX_TASKS_PER_WINDOW)]
    with pytest.raises(ClientError) as excinfo:
        task(ssm_client, window_id, [web], name="one-too-many")
    assert error(excinfo)[0] == "ResourceLimitExceededException"
    assert ssm_client.deregister_task_from_maintenance_window(WindowId=window_id, WindowTaskId=ids[0])["WindowTaskId"] == ids[0]
    for call in (
        lambda: ssm_client.deregister_task_from_maintenance_window(WindowId=window_id, WindowTaskId=ids[0]),
        lambda: ssm_client.get_maintenance_window_task(WindowId=window_id, WindowTaskId=ids[0]),
        lambda: ssm_client.update_maintenance_window_task(WindowId=window_id, WindowTaskId=ids[0], Priority=2),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error(excinfo)[0] == "DoesNotExistException"
    tasks = ssm_client.get_paginator("describe_maintenance_window_tasks").paginate(WindowId=window_id)
    assert len(tasks.build_full_result()["Tasks"]) == mw.MAX_TASKS_PER_WINDOW - 1


# --------------------------------------------------------------------------
# executions (recorded through the control API)


def test_executions_tasks_and_invocations(ssm_client, ssm_endpoint):
    window_id = window(ssm_client, AllowUnassociatedTargets=True)
    web = target(ssm_client, window_id, OwnerInformation="web team")
    db = target(ssm_client, window_id, name="database", Targets=[{"Key": "InstanceIds", "Values": ["i-0123456789abcdef0"]}])
    patch = task(ssm_client, window_id, [web, db], TaskInvocationParameters={"RunCommand": {"Parameters": {"Operation": ["Scan"]}}})
    task(ssm_client, window_id, [web], name="report", Priority=5, TaskArn="AWS-RunShellScript")
    assert ssm_client.describe_maintenance_window_executions(WindowId=window_id)["WindowExecutions"] == []

    first = run(ssm_endpoint, window_id)["execution"]
    second = run(ssm_endpoint, window_id, {"tasks": {"report": "FAILED"}})["execution"]
    assert first["status"] == "SUCCESS" and second["status"] == "FAILED"

    executions = ssm_client.describe_maintenance_window_executions(WindowId=window_id)["WindowExecutions"]
    assert [e["WindowExecutionId"] for e in executions] == [second["window_execution_id"], first["window_execution_id"]]
    assert executions[0]["StatusDetails"] == "One or more tasks in the orchestration failed."
    tasks = ssm_client.describe_maintenance_window_execution_tasks(WindowExecutionId=second["window_execution_id"])
    tasks = tasks["WindowExecutionTaskIdentities"]
    assert [(t["TaskArn"], t["Status"]) for t in tasks] == [("AWS-RunPatchBaseline", "SUCCESS"), ("AWS-RunShellScript", "FAILED")]
    failed = ssm_client.describe_maintenance_window_execution_tasks(
        WindowExecutionId=second["window_execution_id"], Filters=[{"Key": "STATUS", "Values": ["FAILED"]}])
    assert [t["TaskArn"] for t in failed["WindowExecutionTaskIdentities"]] == ["AWS-RunShellScript"]

    invocations = ssm_client.describe_maintenance_window_execution_task_invocations(
        WindowExecutionId=second["window_execution_id"], TaskId=tasks[0]["TaskExecutionId"])
    invocations = invocations["WindowExecutionTaskInvocationIdentities"]
    assert sorted(i["WindowTargetId"] for i in invocations) == sorted([web, db])
    assert {i.get("OwnerInformation") for i in invocations} == {"web team", None}
    assert json.loads(invocations[0]["Parameters"])["parameters"] == {"Operation": ["Scan"]}
    assert all(i["TaskType"] == "RUN_COMMAND" and i["ExecutionId"] for i in invocations)
    assert patch  # the task that ran

    none = ssm_client.describe_maintenance_window_execution_task_invocations(
        WindowExecutionId=second["window_execution_id"], TaskId=tasks[0]["TaskExecutionId"],
        Filters=[{"Key": "STATUS", "Values": ["FAILED"]}])
    assert none["WindowExecutionTaskInvocationIdentities"] == []

    before = ssm_client.describe_maintenance_window_executions(
        WindowId=window_id, Filters=[{"Key": "ExecutedBefore", "Values": ["2000-01-01T00:00:00Z"]}])
    assert before["WindowExecutions"] == []
    after = ssm_client.describe_maintenance_window_executions(
        WindowId=window_id, Filters=[{"Key": "ExecutedAfter", "Values": ["2000-01-01T00:00:00Z"]}])
    assert len(after["WindowExecutions"]) == 2


def test_get_and_cancel_executions(ssm_client, ssm_endpoint):
    window_id = window(ssm_client)
    web = target(ssm_client, window_id, OwnerInformation="web team")
    task(ssm_client, window_id, [web], Priority=3, ServiceRoleArn="arn:aws:iam::123456789012:role/mw")
    done = run(ssm_endpoint, window_id)["execution"]
    running = run(ssm_endpoint, window_id, {"tasks": {"patch": "IN_PROGRESS"}, "status": "IN_PROGRESS"})["execution"]

    got = ssm_client.get_maintenance_window_execution(WindowExecutionId=done["window_execution_id"])
    assert got["Status"] == "SUCCESS" and got["TaskIds"] == [done["tasks"][0]["task_execution_id"]]
    task_id = got["TaskIds"][0]
    detail = ssm_client.get_maintenance_window_execution_task(WindowExecutionId=done["window_execution_id"], TaskId=task_id)
    assert detail["Type"] == "RUN_COMMAND" and detail["Priority"] == 3 and detail["TaskArn"] == "AWS-RunPatchBaseline"
    assert detail["ServiceRole"] == "arn:aws:iam::123456789012:role/mw"
    assert detail["MaxConcurrency"] == "1" and detail["MaxErrors"] == "0"
    invocations = ssm_client.describe_maintenance_window_execution_task_invocations(
        WindowExecutionId=done["window_execution_id"], TaskId=task_id)["WindowExecutionTaskInvocationIdentities"]
    invocation = ssm_client.get_maintenance_window_execution_task_invocation(
        WindowExecutionId=done["window_execution_id"], TaskId=task_id, InvocationId=invocations[0]["InvocationId"])
    assert invocation["OwnerInformation"] == "web team" and invocation["WindowTargetId"] == web
    with pytest.raises(ClientError) as excinfo:
        ssm_client.get_maintenance_window_execution_task_invocation(
            WindowExecutionId=done["window_execution_id"], TaskId=task_id, InvocationId=web)
    assert error(excinfo)[0] == "DoesNotExistException"

    ssm_client.cancel_maintenance_window_execution(WindowExecutionId=done["window_execution_id"])
    assert ssm_client.get_maintenance_window_execution(WindowExecutionId=done["window_execution_id"])["Status"] == "SUCCESS"
    ssm_client.cancel_maintenance_window_execution(WindowExecutionId=running["window_execution_id"])
    assert ssm_client.get_maintenance_window_execution(WindowExecutionId=running["window_execution_id"])["Status"] == "CANCELLED"
    tasks = ssm_client.describe_maintenance_window_execution_tasks(WindowExecutionId=running["window_execution_id"])
    assert tasks["WindowExecutionTaskIdentities"][0]["Status"] == "CANCELLED"
    with pytest.raises(ClientError) as excinfo:
        ssm_client.cancel_maintenance_window_execution(WindowExecutionId="00000000-0000-4000-8000-000000000000")
    assert error(excinfo)[0] == "DoesNotExistException"


def test_execution_errors(ssm_client, ssm_endpoint):
    missing = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(ClientError) as excinfo:
        ssm_client.describe_maintenance_window_execution_tasks(WindowExecutionId=missing)
    assert error(excinfo)[0] == "DoesNotExistException"
    with pytest.raises(ClientError) as excinfo:
        ssm_client.describe_maintenance_window_execution_task_invocations(WindowExecutionId=missing, TaskId=missing)
    assert error(excinfo)[0] == "DoesNotExistException"
    window_id = window(ssm_client)
    execution = run(ssm_endpoint, window_id)["execution"]
    assert execution["tasks"] == []
    with pytest.raises(ClientError) as excinfo:
        ssm_client.describe_maintenance_window_execution_task_invocations(
            WindowExecutionId=execution["window_execution_id"], TaskId=missing)
    assert error(excinfo)[0] == "DoesNotExistException"
    with pytest.raises(ClientError) as excinfo:
        ssm_client.describe_maintenance_window_execution_tasks(
            WindowExecutionId=execution["window_execution_id"], Filters=[{"Key": "STATUS", "Values": ["DONE"]}])
    assert error(excinfo)[0] == "ValidationException"


def test_control_api_errors(ssm_client, ssm_endpoint):
    assert "does not exist" in run(ssm_endpoint, "mw-0123456789abcdef0", expect=404)["error"]
    window_id = window(ssm_client)
    assert "no task" in run(ssm_endpoint, window_id, {"tasks": {"nope": "FAILED"}}, expect=400)["error"]
    assert "must be one of" in run(ssm_endpoint, window_id, {"status": "GREAT"}, expect=400)["error"]
    request = urllib.request.Request(f"{ssm_endpoint.url}/_fleetops/maintenance-windows/{window_id}/run", method="GET")
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(request, timeout=10)
    assert excinfo.value.code == 405


def test_executions_survive_nothing_after_reset(ssm_client, ssm_endpoint):
    window_id = window(ssm_client)
    run(ssm_endpoint, window_id)
    ssm_endpoint.reset()
    assert ssm_client.describe_maintenance_windows()["WindowIdentities"] == []


# --------------------------------------------------------------------------
# schedules


def _window_dict(schedule, created=NOW - dt.timedelta(days=30), **extra):
    item = {"Schedule": schedule, "Enabled": True, "CreatedDate": created.timestamp()}
    item.update(extra)
    return item


def _times(schedule, count=3, **extra):
    return [moment.isoformat() for moment in mw.upcoming(_window_dict(schedule, **extra), NOW, count)]


def test_cron_evaluation():
    assert _times("cron(0 2 ? * SUN *)") == [
        "2026-01-04T02:00:00+00:00", "2026-01-11T02:00:00+00:00", "2026-01-18T02:00:00+00:00"]
    assert _times("cron(30 23 ? * TUE#3 *)", 2) == ["2026-01-20T23:30:00+00:00", "2026-02-17T23:30:00+00:00"]
    assert _times("cron(15 10 ? * 6L *)", 2) == ["2026-01-30T10:15:00+00:00", "2026-02-27T10:15:00+00:00"]
    assert _times("cron(0 2 L * ? *)", 2) == ["2026-01-31T02:00:00+00:00", "2026-02-28T02:00:00+00:00"]
    assert _times("cron(0 9 LW * ? *)", 1) == ["2026-01-30T09:00:00+00:00"]  # Jan 31 2026 is a Saturday
    assert _times("cron(0 9 3W * ? *)", 1) == ["2026-01-02T09:00:00+00:00"]  # Jan 3 is a Saturday
    assert _times("cron(0/20 12-13 ? * THU *)", 4) == [
        "2026-01-01T12:20:00+00:00", "2026-01-01T12:40:00+00:00", "2026-01-01T13:00:00+00:00",
        "2026-01-01T13:20:00+00:00"]
    assert _times("cron(0 0 1 JAN,JUL ? *)", 2) == ["2026-07-01T00:00:00+00:00", "2027-01-01T00:00:00+00:00"]
    assert _times("cron(0 0 ? * FRI-MON *)", 4) == [
        "2026-01-02T00:00:00+00:00", "2026-01-03T00:00:00+00:00", "2026-01-04T00:00:00+00:00",
        "2026-01-05T00:00:00+00:00"]
    assert _times("cron(5 0 0 1 1 ? 2027)", 2) == ["2027-01-01T00:00:05+00:00"]  # seven fields, one year


def test_time_zone_offset_and_dates():
    # 02:00 in Berlin is 01:00 UTC in winter and 00:00 UTC in summer
    assert _times("cron(0 2 ? * SUN *)", 1, ScheduleTimezone="Europe/Berlin") == ["2026-01-04T01:00:00+00:00"]
    summer = mw.upcoming(_window_dict("cron(0 2 ? * SUN *)", ScheduleTimezone="Europe/Berlin",
                                      StartDate="2026-07-01T00:00:00Z"), NOW, 1)
    assert summer[0].isoformat() == "2026-07-05T00:00:00+00:00"
    # the third Tuesday, two days later
    assert _times("cron(30 23 ? * TUE#3 *)", 1, ScheduleOffset=2) == ["2026-01-22T23:30:00+00:00"]
    # a cron time before the window existed is skipped, even when its offset is still ahead
    assert _times("cron(0 12 ? * WED *)", 1, ScheduleOffset=2, created=NOW - dt.timedelta(hours=1)) == [
        "2026-01-09T12:00:00+00:00"]
    assert _times("cron(0 2 ? * SUN *)", 5, EndDate="2026-01-12T00:00:00Z") == [
        "2026-01-04T02:00:00+00:00", "2026-01-11T02:00:00+00:00"]
    assert _times("cron(0 2 ? * SUN *)", 1, Enabled=False) == []
    assert mw.format_time(dt.datetime(2026, 1, 4, 1, 0, tzinfo=UTC), "Europe/Berlin") == "2026-01-04T02:00+01:00"
    assert mw.format_time(dt.datetime(2026, 1, 4, 1, 0, 30, tzinfo=UTC), None) == "2026-01-04T01:00:30Z"
    assert mw.format_time(dt.datetime(2026, 1, 4, 1, 0, tzinfo=UTC), "America/Chicago") == "2026-01-03T19:00-06:00"


def test_rate_and_at_evaluation():
    created = NOW - dt.timedelta(hours=5, minutes=30)
    assert _times("rate(2 hours)", 2, created=created) == ["2026-01-01T12:30:00+00:00", "2026-01-01T14:30:00+00:00"]
    # a future start date is the anchor of a rate schedule
    assert _times("rate(1 day)", 2, StartDate="2026-02-01T06:00:00Z") == [
        "2026-02-02T06:00:00+00:00", "2026-02-03T06:00:00+00:00"]
    assert _times("at(2026-03-01T10:00:00)", 3, ScheduleTimezone="Asia/Tokyo") == ["2026-03-01T01:00:00+00:00"]
    assert _times("at(2025-03-01T10:00:00)", 3) == []


def test_describe_schedule_and_next_execution_time(ssm_client, frozen):
    window_id = window(ssm_client, Schedule="cron(0 2 ? * SUN *)", ScheduleTimezone="Europe/Berlin")
    got = ssm_client.get_maintenance_window(WindowId=window_id)
    assert got["NextExecutionTime"] == "2026-01-04T02:00+01:00"
    listed = ssm_client.describe_maintenance_windows()["WindowIdentities"][0]
    assert listed["NextExecutionTime"] == "2026-01-04T02:00+01:00"
    page = ssm_client.describe_maintenance_window_schedule(WindowId=window_id, MaxResults=2)
    assert [e["ExecutionTime"] for e in page["ScheduledWindowExecutions"]] == [
        "2026-01-04T02:00+01:00", "2026-01-11T02:00+01:00"]
    assert page["ScheduledWindowExecutions"][0]["Name"] == "mw-test" and "NextToken" in page
    more = ssm_client.describe_maintenance_window_schedule(WindowId=window_id, MaxResults=1, NextToken=page["NextToken"])
    assert more["ScheduledWindowExecutions"][0]["ExecutionTime"] == "2026-01-18T02:00+01:00"
    after = ssm_client.describe_maintenance_window_schedule(
        WindowId=window_id, MaxResults=1, Filters=[{"Key": "ScheduledAfter", "Values": ["2026-02-01T00:00:00Z"]}])
    assert after["ScheduledWindowExecutions"][0]["ExecutionTime"] == "2026-02-01T02:00+01:00"
    with pytest.raises(ClientError) as excinfo:
        ssm_client.describe_maintenance_window_schedule()
    assert error(excinfo)[0] == "ValidationException"
    ssm_client.update_maintenance_window(WindowId=window_id, Enabled=False)
    assert ssm_client.describe_maintenance_window_schedule(WindowId=window_id)["ScheduledWindowExecutions"] == []


def test_schedule_and_windows_for_target(ssm_client, frozen):
    web_window = window(ssm_client, name="web-window", Schedule="rate(1 day)")
    db_window = window(ssm_client, name="db-window", Schedule="cron(0 3 ? * * *)", AllowUnassociatedTargets=True)
    target(ssm_client, web_window)
    db = target(ssm_client, db_window, name="database", Targets=[{"Key": "InstanceIds", "Values": ["i-0123456789abcdef0"]}])
    ssm_client.register_task_with_maintenance_window(
        WindowId=db_window, TaskArn="AWS-RunShellScript", TaskType="RUN_COMMAND", MaxConcurrency="1", MaxErrors="0",
        Targets=[{"Key": "InstanceIds", "Values": ["i-0aaaaaaaaaaaaaaaa"]}])
    assert db

    def windows_for(key, values, resource_type="INSTANCE"):
        found = ssm_client.describe_maintenance_windows_for_target(
            Targets=[{"Key": key, "Values": values}], ResourceType=resource_type)
        return [(w["WindowId"], w["Name"]) for w in found["WindowIdentities"]]

    assert windows_for("tag:Role", ["web"]) == [(web_window, "web-window")]
    assert windows_for("InstanceIds", ["i-0123456789abcdef0"]) == [(db_window, "db-window")]
    assert windows_for("InstanceIds", ["i-0aaaaaaaaaaaaaaaa"]) == [(db_window, "db-window")]
    assert windows_for("InstanceIds", ["i-0bbbbbbbbbbbbbbbb"]) == []
    assert windows_for("tag:Role", ["web"], "RESOURCE_GROUP") == []

    schedule = ssm_client.describe_maintenance_window_schedule(
        Targets=[{"Key": "InstanceIds", "Values": ["i-0123456789abcdef0"]}], ResourceType="INSTANCE", MaxResults=2)
    assert [(e["WindowId"], e["ExecutionTime"]) for e in schedule["ScheduledWindowExecutions"]] == [
        (db_window, "2026-01-02T03:00Z"), (db_window, "2026-01-03T03:00Z")]
    with pytest.raises(ClientError) as excinfo:
        ssm_client.describe_maintenance_window_schedule(Targets=[{"Key": "InstanceIds", "Values": ["i-0123456789abcdef0"]}])
    assert error(excinfo)[0] == "ValidationException"


# --------------------------------------------------------------------------
# tags, authorization, shapes


def test_tags_of_maintenance_windows(ssm_client):
    window_id = window(ssm_client, Tags=[{"Key": "team", "Value": "web"}])

    def tags():
        listed = ssm_client.list_tags_for_resource(ResourceType="MaintenanceWindow", ResourceId=window_id)["TagList"]
        return {t["Key"]: t["Value"] for t in listed}

    assert tags() == {"team": "web"}
    ssm_client.add_tags_to_resource(ResourceType="MaintenanceWindow", ResourceId=window_id,
                                    Tags=[{"Key": "env", "Value": "prod"}])
    ssm_client.remove_tags_from_resource(ResourceType="MaintenanceWindow", ResourceId=window_id, TagKeys=["team"])
    assert tags() == {"env": "prod"}
    with pytest.raises(ClientError) as excinfo:
        window(ssm_client, name="reserved", Tags=[{"Key": "aws:x", "Value": "y"}])
    assert error(excinfo)[0] == "ValidationException"
    with pytest.raises(ssm_client.exceptions.InvalidResourceId):
        ssm_client.list_tags_for_resource(ResourceType="MaintenanceWindow", ResourceId="mw-0123456789abcdef0")


def test_deny_rules_apply(ssm_client, ssm_endpoint):
    window_id = window(ssm_client)
    ssm_endpoint.control("POST", "/deny", {"action": "ssm:UpdateMaintenanceWindow", "resource_prefix": window_id})
    with pytest.raises(ClientError) as excinfo:
        ssm_client.update_maintenance_window(WindowId=window_id, Duration=3)
    code, message = error(excinfo)
    assert code == "AccessDeniedException" and f"maintenancewindow/{window_id}" in message
    ssm_client.get_maintenance_window(WindowId=window_id)


def exercise_maintenance_window_operations(ssm, endpoint):
    """Calls every maintenance window operation, with success and typical errors (also for test_endpoint_shapes)."""
    window_id = window(ssm, name="shape-window", Description="d", ScheduleTimezone="UTC", ScheduleOffset=1,
                       StartDate="2026-01-01T00:00:00Z", EndDate="2999-01-01T00:00:00Z", AllowUnassociatedTargets=True,
                       Tags=[{"Key": "k", "Value": "v"}])
    ssm.update_maintenance_window(WindowId=window_id, Description="e")
    ssm.get_maintenance_window(WindowId=window_id)
    ssm.describe_maintenance_windows(Filters=[{"Key": "Enabled", "Values": ["true"]}])
    web = target(ssm, window_id, OwnerInformation="o", Description="d")
    ssm.update_maintenance_window_target(WindowId=window_id, WindowTargetId=web, Description="e")
    ssm.describe_maintenance_window_targets(WindowId=window_id, Filters=[{"Key": "Type", "Values": ["INSTANCE"]}])
    task_id = task(ssm, window_id, [web], Description="d", CutoffBehavior="CANCEL_TASK",
                   LoggingInfo={"S3BucketName": "bucket", "S3Region": "us-east-1", "S3KeyPrefix": "p"},
                   AlarmConfiguration={"Alarms": [{"Name": "alarm"}], "IgnorePollAlarmFailure": True},
                   TaskInvocationParameters={"RunCommand": {
                       "Comment": "c", "DocumentHash": "a" * 64, "DocumentHashType": "Sha256", "DocumentVersion": "$LATEST",
                       "NotificationConfig": {"NotificationArn": "arn:aws:sns:us-east-1:123456789012:t",
                                              "NotificationEvents": ["All"], "NotificationType": "Command"},
                       "OutputS3BucketName": "bucket", "OutputS3KeyPrefix": "p", "Parameters": {"commands": ["date"]},
                       "ServiceRoleArn": "arn:aws:iam::123456789012:role/sns", "TimeoutSeconds": 60,
                       "CloudWatchOutputConfig": {"CloudWatchLogGroupName": "g", "CloudWatchOutputEnabled": True}}})
    ssm.register_task_with_maintenance_window(
        WindowId=window_id, TaskArn="arn:aws:lambda:us-east-1:123456789012:function:SSMf", TaskType="LAMBDA",
        TaskInvocationParameters={"Lambda": {"ClientContext": "e30=", "Qualifier": "1", "Payload": b"{}"}})
    ssm.register_task_with_maintenance_window(
        WindowId=window_id, TaskArn="arn:aws:states:us-east-1:123456789012:stateMachine:s", TaskType="STEP_FUNCTIONS",
        TaskInvocationParameters={"StepFunctions": {"Input": "{}", "Name": "n"}})
    ssm.update_maintenance_window_task(WindowId=window_id, WindowTaskId=task_id, Priority=4)
    ssm.get_maintenance_window_task(WindowId=window_id, WindowTaskId=task_id)
    ssm.describe_maintenance_window_tasks(WindowId=window_id, Filters=[{"Key": "Priority", "Values": ["4"]}])
    execution = run(endpoint, window_id)["execution"]
    ssm.describe_maintenance_window_executions(WindowId=window_id)
    ssm.get_maintenance_window_execution(WindowExecutionId=execution["window_execution_id"])
    tasks = ssm.describe_maintenance_window_execution_tasks(WindowExecutionId=execution["window_execution_id"])
    for item in tasks["WindowExecutionTaskIdentities"]:
        ssm.get_maintenance_window_execution_task(WindowExecutionId=execution["window_execution_id"],
                                                  TaskId=item["TaskExecutionId"])
        invocations = ssm.describe_maintenance_window_execution_task_invocations(
            WindowExecutionId=execution["window_execution_id"], TaskId=item["TaskExecutionId"])
        for invocation in invocations["WindowExecutionTaskInvocationIdentities"]:
            ssm.get_maintenance_window_execution_task_invocation(
                WindowExecutionId=execution["window_execution_id"], TaskId=item["TaskExecutionId"],
                InvocationId=invocation["InvocationId"])
    ssm.cancel_maintenance_window_execution(WindowExecutionId=execution["window_execution_id"])
    ssm.describe_maintenance_window_schedule(WindowId=window_id)
    ssm.describe_maintenance_windows_for_target(Targets=[{"Key": "tag:Role", "Values": ["web"]}], ResourceType="INSTANCE")
    ssm.add_tags_to_resource(ResourceType="MaintenanceWindow", ResourceId=window_id, Tags=[{"Key": "a", "Value": "b"}])
    ssm.list_tags_for_resource(ResourceType="MaintenanceWindow", ResourceId=window_id)
    ssm.remove_tags_from_resource(ResourceType="MaintenanceWindow", ResourceId=window_id, TagKeys=["a"])
    ssm.deregister_task_from_maintenance_window(WindowId=window_id, WindowTaskId=task_id)
    ssm.deregister_target_from_maintenance_window(WindowId=window_id, WindowTargetId=web, Safe=True)
    missing = "00000000-0000-4000-8000-000000000000"
    for call in (
        lambda: ssm.get_maintenance_window(WindowId="mw-0123456789abcdef0"),
        lambda: window(ssm, name="shape-bad", Cutoff=9),
        lambda: ssm.get_maintenance_window_task(WindowId=window_id, WindowTaskId=missing),
        lambda: ssm.deregister_target_from_maintenance_window(WindowId=window_id, WindowTargetId=missing),
        lambda: window(ssm, name="shape-token", ClientToken="x") and window(
            ssm, name="shape-token", ClientToken="x", Duration=3),
        lambda: ssm.describe_maintenance_window_execution_tasks(WindowExecutionId=missing),
        lambda: ssm.list_tags_for_resource(ResourceType="MaintenanceWindow", ResourceId="mw-0123456789abcdef0"),
    ):
        with pytest.raises(ClientError):
            call()
    ssm.delete_maintenance_window(WindowId=window_id)


def test_every_maintenance_window_operation_matches_its_output_shape(aws_client, ssm_endpoint):
    """Calls each operation of this area and checks the raw bodies against botocore's output shapes."""
    raw_bodies = []

    def capture(operation_model, response_dict, **kwargs):
        ours = response_dict["headers"].get("x-fleetops-layer") == "ssm"
        raw_bodies.append((operation_model.name, response_dict["status_code"], response_dict["body"], ours))

    ssm = aws_client("ssm", retries=0)
    ssm.meta.events.register("before-parse.ssm.*", capture)
    exercise_maintenance_window_operations(ssm, ssm_endpoint)

    called = {entry[0] for entry in raw_bodies if entry[3]}
    area = {name for name, handler in registry.OPERATIONS.items() if handler.__module__ == mw.__name__}
    assert len(area) == 23
    assert area <= called, area - called
    problems = []
    for name, status, body, ours in raw_bodies:
        assert ours, name  # every call of this area is answered by our layer, none by moto
        payload = json.loads(body or b"{}")
        if status == 200:
            problems += shapes.validate_output("ssm", name, payload)
        else:
            assert 400 <= status < 500, (name, status, payload)
            problems += shapes.validate_error("ssm", payload)
    assert problems == []
