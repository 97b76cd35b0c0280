# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

import pytest

from ansible_collections.fleetops.ssm.plugins.modules import command as module
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import WHEN

NODES = ["mi-0aaaaaaaaaaaaaaa1", "mi-0aaaaaaaaaaaaaaa2"]
COMMAND_ID = "11111111-2222-4333-8444-555555555555"
SHELL_CONTENT = {
    "schemaVersion": "1.2", "description": "Run a shell script.",
    "parameters": {
        "commands": {"type": "StringList", "minItems": 1},
        "workingDirectory": {"type": "String", "default": ""},
        "executionTimeout": {"type": "String", "default": "3600", "allowedPattern": "([1-9][0-9]{0,4})|(172800)"},
    },
    "runtimeConfig": {"aws:runShellScript": {"properties": [{"id": "0.aws:runShellScript", "runCommand": "{{ commands }}"}]}},
}


@pytest.fixture(autouse=True)
def no_pauses(monkeypatch):
    """The wait loop's pauses take no time; the clock moves by what would have been slept."""
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    monkeypatch.setattr("time.sleep", sleep)
    monkeypatch.setattr("time.monotonic", lambda: now[0])


def args(**overrides):
    result = {"document_name": "AWS-RunShellScript", "instance_ids": NODES, "parameters": {"commands": ["uname -a"]},
              "region": "us-east-1"}
    result.update(overrides)
    return {key: value for key, value in result.items() if value is not None}  # None: the option is left out


def describe(ssm, name="AWS-RunShellScript", kind="Command"):
    document = {"Name": name, "DocumentType": kind, "DocumentVersion": "1", "DefaultVersion": "1", "LatestVersion": "1",
                "Status": "Active", "PlatformTypes": ["Linux", "MacOS"], "SchemaVersion": "1.2", "Owner": "Amazon",
                "DocumentFormat": "JSON",
                "Parameters": [{"Name": "commands", "Type": "StringList"},
                               {"Name": "workingDirectory", "Type": "String", "DefaultValue": ""},
                               {"Name": "executionTimeout", "Type": "String", "DefaultValue": "3600"}]}
    ssm.add("describe_document", {"Document": document}, {"Name": name})


def content(ssm, name="AWS-RunShellScript"):
    ssm.add("get_document", {"Name": name, "DocumentVersion": "1", "Status": "Active", "Content": json.dumps(SHELL_CONTENT),
                             "DocumentType": "Command", "DocumentFormat": "JSON"}, {"Name": name})


def nodes(ssm, ids=None, filters=None, ping="Online", platform="Linux"):
    ids = ids or NODES
    infos = [{"InstanceId": iid, "PingStatus": ping, "PlatformType": platform, "ComputerName": f"node-{i + 1}"}
             for i, iid in enumerate(ids)]
    ssm.add("describe_instance_information", {"InstanceInformationList": infos},
            {"Filters": filters or [{"Key": "InstanceIds", "Values": list(ids)}], "MaxResults": 50})


def aws_command(status="Success", ids=None, errors=0, targets=None, **extra):
    ids = ids or NODES
    result = {
        "CommandId": COMMAND_ID, "DocumentName": "AWS-RunShellScript", "DocumentVersion": "$DEFAULT", "Comment": "",
        "ExpiresAfter": WHEN, "Parameters": {"commands": ["uname -a"]}, "InstanceIds": list(ids) if not targets else [],
        "Targets": targets or [], "RequestedDateTime": WHEN, "Status": status, "StatusDetails": status,
        "OutputS3Region": "us-east-1", "OutputS3KeyPrefix": "", "MaxConcurrency": "50", "MaxErrors": "0",
        "TargetCount": len(ids), "CompletedCount": len(ids) if status != "Pending" else 0, "ErrorCount": errors,
        "DeliveryTimedOutCount": 0, "ServiceRole": "", "TimeoutSeconds": 3600,
        "NotificationConfig": {"NotificationArn": "", "NotificationEvents": []},
        "CloudWatchOutputConfig": {"CloudWatchOutputEnabled": False},
    }
    result.update(extra)
    return result


def aws_invocation(instance_id, name, status="Success", code=0, output=""):
    return {
        "CommandId": COMMAND_ID, "InstanceId": instance_id, "InstanceName": name, "Comment": "",
        "DocumentName": "AWS-RunShellScript", "DocumentVersion": "$DEFAULT", "RequestedDateTime": WHEN,
        "Status": status, "StatusDetails": status, "TraceOutput": "", "StandardOutputUrl": "", "StandardErrorUrl": "",
        "CommandPlugins": [{"Name": "aws:runShellScript", "Status": status, "StatusDetails": status, "ResponseCode": code,
                            "ResponseStartDateTime": WHEN, "ResponseFinishDateTime": WHEN, "Output": output,
                            "StandardOutputUrl": "", "StandardErrorUrl": "", "OutputS3Region": "us-east-1",
                            "OutputS3KeyPrefix": ""}],
        "ServiceRole": "", "NotificationConfig": {"NotificationArn": "", "NotificationEvents": []},
        "CloudWatchOutputConfig": {"CloudWatchOutputEnabled": False},
    }


def send_and_finish(ssm, request, final, invocations, details=True):
    ssm.add("send_command", {"Command": aws_command("Pending")}, request)
    ssm.add("list_commands", {"Commands": [final]}, {"CommandId": COMMAND_ID})
    ssm.add("list_command_invocations", {"CommandInvocations": invocations},
            {"CommandId": COMMAND_ID, "Details": details, "MaxResults": 50})


SENT = {"DocumentName": "AWS-RunShellScript", "InstanceIds": NODES, "Parameters": {"commands": ["uname -a"]}}


class TestRun:
    def test_runs_and_returns_every_node(self, ssm, run_module):
        describe(ssm)
        content(ssm)
        nodes(ssm)
        send_and_finish(ssm, SENT, aws_command(), [
            aws_invocation(NODES[0], "node-1", output="Linux node-1\n"),
            aws_invocation(NODES[1], "node-2", output="Linux node-2\n" + "\n----------ERROR-------\n" + "note\n")])
        run = run_module(module.main, args(), ssm.client)
        assert run.rc == 0, run.result
        assert run.result["changed"] is True
        command = run.result["command"]
        assert (command["command_id"], command["status"], command["target_count"]) == (COMMAND_ID, "Success", 2)
        assert command["command_ids"] == [COMMAND_ID] and command["parameters"] == {"commands": ["uname -a"]}
        assert [(i["computer_name"], i["stdout"], i["stderr"], i["response_code"]) for i in run.result["invocations"]] == [
            ("node-1", "Linux node-1\n", "", 0), ("node-2", "Linux node-2\n", "note\n", 0)]
        assert run.result["resolved_instance_ids"] == NODES
        assert ssm.operations == ["DescribeDocument", "GetDocument", "DescribeInstanceInformation", "SendCommand",
                                  "ListCommands", "ListCommandInvocations"]

    def test_a_failing_node_fails_the_task_and_is_named(self, ssm, run_module):
        describe(ssm)
        content(ssm)
        nodes(ssm)
        send_and_finish(ssm, SENT, aws_command("Failed", errors=1), [
            aws_invocation(NODES[0], "node-1", output="ok\n"),
            aws_invocation(NODES[1], "node-2", "Failed", 2, output="\n----------ERROR-------\nfailed to run commands: exit status 2")])
        run = run_module(module.main, args(), ssm.client)
        assert run.rc == 1
        assert run.result["msg"] == (f"Run Command {COMMAND_ID} did not succeed on 1 of 2 nodes: {NODES[1]} (node-2) Failed, "
                                     "exit code 2.")
        assert run.result["command"]["status"] == "Failed" and len(run.result["invocations"]) == 2
        assert run.result["invocations"][1]["stderr"] == "failed to run commands: exit status 2"

    def test_fail_on_max_errors(self, ssm, run_module):
        describe(ssm)
        content(ssm)
        nodes(ssm)
        send_and_finish(ssm, dict(SENT, MaxErrors="1"), aws_command("Failed", errors=1, StatusDetails="Incomplete"), [
            aws_invocation(NODES[0], "node-1"), aws_invocation(NODES[1], "node-2", "Failed", 1)])
        run = run_module(module.main, args(max_errors="1", fail_on="max_errors"), ssm.client)
        assert run.rc == 0, run.result
        assert run.result["command"]["status_details"] == "Incomplete"

    def test_execution_timeout_sets_the_document_parameter(self, ssm, run_module):
        describe(ssm)
        content(ssm)
        nodes(ssm)
        request = dict(SENT, Parameters={"commands": ["sleep 60"], "executionTimeout": ["5"]}, TimeoutSeconds=60,
                       Comment="slow")
        send_and_finish(ssm, request, aws_command("TimedOut", errors=2, StatusDetails="ExecutionTimedOut"), [
            aws_invocation(NODES[0], "node-1", "TimedOut", 137), aws_invocation(NODES[1], "node-2", "TimedOut", 137)])
        run = run_module(module.main, args(parameters={"commands": "sleep 60"}, execution_timeout=5, timeout_seconds=60,
                                           comment="slow"), ssm.client)
        assert run.rc == 1
        assert "TimedOut" in run.result["msg"] and "exit code 137" in run.result["msg"]

    def test_without_waiting(self, ssm, run_module):
        describe(ssm)
        content(ssm)
        targets = [{"Key": "tag:Role", "Values": ["web"]}]
        request = {"DocumentName": "AWS-RunShellScript", "Targets": targets, "Parameters": {"commands": ["uname -a"]}}
        ssm.add("send_command", {"Command": aws_command("Pending", targets=targets)}, request)
        ssm.add("list_command_invocations", {"CommandInvocations": [aws_invocation(NODES[0], "node-1", "Pending")]},
                {"CommandId": COMMAND_ID, "Details": False, "MaxResults": 50})
        run = run_module(module.main, args(instance_ids=None, targets=[{"key": "tag:Role", "values": ["web"]}], wait=False),
                         ssm.client)
        assert run.rc == 0, run.result
        assert run.result["command"]["status"] == "Pending" and run.result["invocations"] == []
        assert run.result["resolved_instance_ids"] == [NODES[0]]

    def test_wait_timeout_cancels(self, ssm, run_module):
        describe(ssm)
        content(ssm)
        nodes(ssm)
        ssm.add("send_command", {"Command": aws_command("Pending")}, SENT)
        for dummy in range(2):  # polls at 1 s and 3 s; wait_timeout 3
            ssm.add("list_commands", {"Commands": [aws_command("InProgress")]}, {"CommandId": COMMAND_ID})
        ssm.add("cancel_command", {}, {"CommandId": COMMAND_ID})
        ssm.add("list_commands", {"Commands": [aws_command("Cancelled")]}, {"CommandId": COMMAND_ID})
        ssm.add("list_command_invocations", {"CommandInvocations": [
            aws_invocation(NODES[0], "node-1", "Cancelled", 137), aws_invocation(NODES[1], "node-2", "Cancelled", 137)]},
            {"CommandId": COMMAND_ID, "Details": True, "MaxResults": 50})
        run = run_module(module.main, args(wait_timeout=3), ssm.client)
        assert run.rc == 1
        assert run.result["msg"] == (f"Run Command {COMMAND_ID} did not end within wait_timeout (3 seconds); it was "
                                     "cancelled. Status: Cancelled.")

    def test_api_error_after_sending_names_the_command(self, ssm, run_module):
        describe(ssm)
        content(ssm)
        nodes(ssm)
        ssm.add("send_command", {"Command": aws_command("Pending")}, SENT)
        ssm.add_error("list_commands", "AccessDeniedException", "not allowed", {"CommandId": COMMAND_ID})
        run = run_module(module.main, args(), ssm.client)
        assert run.rc == 1
        assert f"after sending Run Command {COMMAND_ID}" in run.result["msg"]
        assert "ssm:ListCommands" in run.result["msg"] and run.result["command"]["command_id"] == COMMAND_ID


class TestCheckMode:
    def test_targets_are_counted_and_nothing_is_sent(self, ssm, run_module):
        describe(ssm)
        content(ssm)
        nodes(ssm, filters=[{"Key": "tag:Role", "Values": ["web"]}], ping="ConnectionLost")
        run = run_module(module.main, args(instance_ids=None, targets=[{"key": "tag:Role", "values": ["web"]}],
                                           _ansible_check_mode=True), ssm.client)
        assert run.rc == 0, run.result
        assert run.result["changed"] is True and run.result["invocations"] == []
        assert run.result["command"]["target_count"] == 2 and run.result["resolved_instance_ids"] == NODES
        assert "SendCommand" not in ssm.operations
        assert "2 of the nodes are not online" in str(run.result["warnings"])

    def test_resource_groups_cannot_be_counted(self, ssm, run_module):
        describe(ssm)
        content(ssm)
        run = run_module(module.main, args(instance_ids=None, targets=[{"key": "resource-groups:Name", "values": ["web"]}],
                                           _ansible_check_mode=True), ssm.client)
        assert run.rc == 0 and run.result["command"]["target_count"] is None
        assert ssm.operations == ["DescribeDocument", "GetDocument"]


class TestRefusedBeforeSending:
    @pytest.mark.parametrize("overrides, text", [
        ({"parameters": {"command": ["x"]}}, "command is not a parameter of document AWS-RunShellScript"),
        ({"parameters": {}}, "requires commands"),
        ({"parameters": {"commands": ["x"], "executionTimeout": "0"}}, "does not match the pattern"),
        ({"execution_timeout": 999999}, "does not match the pattern"),
    ])
    def test_parameters(self, ssm, run_module, overrides, text):
        describe(ssm)
        content(ssm)
        run = run_module(module.main, args(**overrides), ssm.client)
        assert run.rc == 1 and text in run.result["msg"]
        assert ssm.operations == ["DescribeDocument", "GetDocument"]

    @pytest.mark.parametrize("overrides, text", [
        ({"max_concurrency": "0"}, "max_concurrency '0' is not valid"),
        ({"max_errors": "lots"}, "max_errors 'lots' is not valid"),
        ({"timeout_seconds": 5}, "timeout_seconds 5 is out of range"),
        ({"instance_ids": ["web-1"]}, "web-1 is not a managed node id"),
        ({"instance_ids": None, "targets": [{"key": "Role", "values": ["web"]}]}, "key 'Role' is not valid"),
        ({"poll_interval": 0}, "poll_interval must be at least 1 second"),
    ])
    def test_options(self, ssm, run_module, overrides, text):
        run = run_module(module.main, args(**overrides), ssm.client)
        assert run.rc == 1 and text in run.result["msg"]
        assert ssm.operations == []

    def test_both_or_neither_target_option(self, ssm, run_module):
        run = run_module(module.main, args(targets=[{"key": "tag:Role", "values": ["web"]}]), ssm.client)
        assert run.rc == 1 and "mutually exclusive: instance_ids|targets" in run.result["msg"]
        run = run_module(module.main, args(instance_ids=None), ssm.client)
        assert run.rc == 1 and "one of the following is required: instance_ids, targets" in run.result["msg"]
        assert ssm.operations == []

    def test_unknown_nodes(self, ssm, run_module):
        describe(ssm)
        content(ssm)
        nodes(ssm, ids=NODES)
        ssm.calls.clear()
        extra = "mi-0bbbbbbbbbbbbbbb1"
        ssm.stubber._queue[-1]["expected_params"]["Filters"][0]["Values"].append(extra)
        run = run_module(module.main, args(instance_ids=NODES + [extra]), ssm.client)
        assert run.rc == 1
        assert f"instance_ids: {extra} is not a managed node of this region" in run.result["msg"]
        assert "SendCommand" not in ssm.operations

    def test_unsupported_platform(self, ssm, run_module):
        describe(ssm)
        content(ssm)
        nodes(ssm, platform="Windows")
        run = run_module(module.main, args(), ssm.client)
        assert run.rc == 1 and "runs on Linux, MacOS; these nodes are not" in run.result["msg"]

    def test_missing_document(self, ssm, run_module):
        ssm.add_error("describe_document", "InvalidDocument", "The specified document does not exist.", {"Name": "Nope-Doc"})
        run = run_module(module.main, args(document_name="Nope-Doc"), ssm.client)
        assert run.rc == 1 and run.result["msg"] == (
            "Document Nope-Doc does not exist in this region, or is not shared with this account.")

    def test_not_a_command_document(self, ssm, run_module):
        describe(ssm, name="AWS-RestartEC2Instance", kind="Automation")
        run = run_module(module.main, args(document_name="AWS-RestartEC2Instance"), ssm.client)
        assert run.rc == 1 and "is a Automation document; Run Command runs Command documents" in run.result["msg"]

    def test_version_name_is_sent_as_its_number(self, ssm, run_module):
        document = {"Name": "mine", "DocumentType": "Command", "DocumentVersion": "3", "Status": "Active",
                    "PlatformTypes": ["Linux"], "Parameters": []}
        ssm.add("describe_document", {"Document": document}, {"Name": "mine", "VersionName": "release-2"})
        ssm.add("get_document", {"Name": "mine", "DocumentVersion": "3", "Content": json.dumps(
            {"schemaVersion": "2.2", "mainSteps": [{"action": "aws:runShellScript", "name": "a", "inputs": {"runCommand": ["true"]}}]}),
            "DocumentType": "Command", "DocumentFormat": "JSON"}, {"Name": "mine", "DocumentVersion": "3"})
        run = run_module(module.main, args(document_name="mine", document_version="release-2", parameters=None,
                                           _ansible_check_mode=True, instance_ids=None,
                                           targets=[{"key": "resource-groups:Name", "values": ["g"]}]), ssm.client)
        assert run.rc == 0, run.result
        assert run.result["command"]["document_version"] == "3"
