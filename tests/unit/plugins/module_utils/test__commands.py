# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime
import json
from unittest.mock import MagicMock

import botocore.exceptions
import pytest

from ansible_collections.fleetops.ssm.plugins.module_utils import _commands as cmd
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError

WHEN = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
LATER = datetime.datetime(2026, 1, 2, 3, 4, 9, tzinfo=datetime.timezone.utc)
SHELL = {
    "commands": {"type": "StringList", "minItems": 1},
    "workingDirectory": {"type": "String", "default": "", "maxChars": 10},
    "executionTimeout": {"type": "String", "default": "3600",
                         "allowedPattern": "([1-9][0-9]{0,4})|(1[0-6][0-9]{4})|(17[0-1][0-9]{3})|(172[0-7][0-9]{2})|(172800)"},
}
PATCH = {
    "Operation": {"type": "String", "allowedValues": ["Scan", "Install"]},
    "SnapshotId": {"type": "String", "default": "", "allowedPattern": "(^$)|^[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$"},
    "Retries": {"type": "Integer", "default": 1},
    "Verbose": {"type": "Boolean", "default": False},
    "Packages": {"type": "StringList", "default": [], "maxItems": 2, "allowedValues": ["vim", "curl", "git"]},
    "Settings": {"type": "StringMap", "default": {}},
}


def node_id(index):
    return f"mi-{index:017x}"


def command_id(index):
    return f"00000000-0000-4000-8000-{index:012d}"


def command(index=1, status="Success", instance_ids=(), targets=0, errors=0, details=None, **extra):
    count = len(instance_ids) or targets
    result = {
        "CommandId": command_id(index), "DocumentName": "AWS-RunShellScript", "DocumentVersion": "$DEFAULT",
        "Comment": "", "ExpiresAfter": LATER, "Parameters": {"commands": ["uname -a"], "workingDirectory": [""]},
        "InstanceIds": list(instance_ids), "Targets": [], "RequestedDateTime": WHEN, "Status": status,
        "StatusDetails": details or status, "OutputS3Region": "us-east-1", "OutputS3KeyPrefix": "", "MaxConcurrency": "50",
        "MaxErrors": "0", "TargetCount": count, "CompletedCount": count if status in cmd.TERMINAL else 0,
        "ErrorCount": errors, "DeliveryTimedOutCount": 0, "ServiceRole": "",
        "NotificationConfig": {"NotificationArn": "", "NotificationEvents": []},
        "CloudWatchOutputConfig": {"CloudWatchOutputEnabled": False}, "TimeoutSeconds": 3600,
    }
    result.update(extra)
    return result


def plugin(name="aws:runShellScript", status="Success", code=0, output="", **extra):
    result = {"Name": name, "Status": status, "StatusDetails": status, "ResponseCode": code, "Output": output,
              "ResponseStartDateTime": WHEN, "ResponseFinishDateTime": LATER, "StandardOutputUrl": "",
              "StandardErrorUrl": "", "OutputS3Region": "us-east-1", "OutputS3KeyPrefix": ""}
    result.update(extra)
    return result


def invocation(instance_id, plugins=None, status="Success", index=1, **extra):
    result = {"CommandId": command_id(index), "InstanceId": instance_id, "InstanceName": "node", "Comment": "",
              "DocumentName": "AWS-RunShellScript", "DocumentVersion": "$DEFAULT", "RequestedDateTime": WHEN,
              "Status": status, "StatusDetails": status, "TraceOutput": "", "StandardOutputUrl": "",
              "StandardErrorUrl": "", "CommandPlugins": plugins if plugins is not None else [plugin()],
              "ServiceRole": ""}
    result.update(extra)
    return result


def client_error(code, operation="SendCommand"):
    return botocore.exceptions.ClientError({"Error": {"Code": code, "Message": code}}, operation)


# ---------------------------------------------------------------------------------------------


class TestOptionChecks:
    @pytest.mark.parametrize("value", ["1", "50", "10%", "100%", "1%"])
    def test_max_concurrency_accepted(self, value):
        assert cmd.validate_rate(value, "max_concurrency", cmd.MAX_CONCURRENCY_RE) == value

    @pytest.mark.parametrize("value", ["0", "0%", "101%", "-1", "ten", "1.5", "12345678", "05"])
    def test_max_concurrency_refused(self, value):
        with pytest.raises(cmd.CommandValidationError, match="max_concurrency .* is not valid: give a number of nodes from 1"):
            cmd.validate_rate(value, "max_concurrency", cmd.MAX_CONCURRENCY_RE)

    @pytest.mark.parametrize("value", ["0", "0%", "3", "10%", "100%"])
    def test_max_errors_accepted(self, value):
        assert cmd.validate_rate(value, "max_errors", cmd.MAX_ERRORS_RE) == value

    @pytest.mark.parametrize("value", ["-1", "101%", "x", "00"])
    def test_max_errors_refused(self, value):
        with pytest.raises(cmd.CommandValidationError, match="max_errors .* from 0"):
            cmd.validate_rate(value, "max_errors", cmd.MAX_ERRORS_RE)

    def test_unset_rate_stays_unset(self):
        assert cmd.validate_rate(None, "max_errors", cmd.MAX_ERRORS_RE) is None

    @pytest.mark.parametrize("spec, total, up, expected", [
        ("10%", 50, False, 5), ("10%", 55, False, 5), ("10%", 55, True, 6), ("3", 1000, False, 3), ("0%", 9, False, 0),
    ])
    def test_limit_of(self, spec, total, up, expected):
        assert cmd.limit_of(spec, total, up) == expected

    def test_instance_ids_deduplicated_in_order(self):
        assert cmd.validate_instance_ids([node_id(2), node_id(1), node_id(2), "i-0123456789abcdef0"]) == [
            node_id(2), node_id(1), "i-0123456789abcdef0"]

    @pytest.mark.parametrize("ids, text", [
        ([], "instance_ids is empty"),
        (["node-1"], "node-1 is not a managed node id"),
        (["mi-123", "i-1"], "mi-123, i-1 are not managed node ids"),
    ])
    def test_bad_instance_ids(self, ids, text):
        with pytest.raises(cmd.CommandValidationError, match=text):
            cmd.validate_instance_ids(ids)

    def test_targets_to_api(self):
        assert cmd.validate_targets([{"key": "tag:Patch Group", "values": ["web"]}, {"key": "tag-key", "values": ["Team"]}]) == [
            {"Key": "tag:Patch Group", "Values": ["web"]}, {"Key": "tag-key", "Values": ["Team"]}]

    @pytest.mark.parametrize("targets, text", [
        ([], "targets is empty"),
        ([{"key": "Role", "values": ["web"]}], r"targets\[0\]: key 'Role' is not valid"),
        ([{"key": "tag:", "values": ["web"]}], "key 'tag:' is not valid"),
        ([{"key": "tag:Role", "values": []}], "tag:Role has no values"),
        ([{"key": "InstanceIds", "values": ["bad"]}], "bad is not a managed node id"),
        ([{"key": "tag:Role", "values": [str(i) for i in range(51)]}], "at most 50.*instance_ids"),
        ([{"key": f"tag:K{i}", "values": ["v"]} for i in range(6)], "SendCommand takes at most 5"),
    ])
    def test_bad_targets(self, targets, text):
        with pytest.raises(cmd.CommandValidationError, match=text):
            cmd.validate_targets(targets)

    def test_base_request_with_every_option(self):
        request = cmd.base_request(dict(
            document_name="AWS-RunShellScript", comment="hello", timeout_seconds=600, output_s3_bucket="bucket",
            output_s3_key_prefix="out", output_s3_region="eu-west-1",
            cloudwatch_output={"enabled": True, "log_group_name": "/ssm/run"},
            service_role_arn="arn:aws:iam::123456789012:role/sns",
            notification_config={"arn": "arn:aws:sns:us-east-1:123456789012:t", "events": ["Failed"], "type": "Command"},
        ))
        assert request == {
            "DocumentName": "AWS-RunShellScript", "Comment": "hello", "TimeoutSeconds": 600,
            "OutputS3BucketName": "bucket", "OutputS3KeyPrefix": "out", "OutputS3Region": "eu-west-1",
            "CloudWatchOutputConfig": {"CloudWatchOutputEnabled": True, "CloudWatchLogGroupName": "/ssm/run"},
            "NotificationConfig": {"NotificationArn": "arn:aws:sns:us-east-1:123456789012:t",
                                   "NotificationEvents": ["Failed"], "NotificationType": "Command"},
            "ServiceRoleArn": "arn:aws:iam::123456789012:role/sns",
        }

    @pytest.mark.parametrize("params, text", [
        ({"comment": "x" * 101}, "comment is 101 characters long; AWS takes at most 100"),
        ({"timeout_seconds": 29}, "timeout_seconds 29 is out of range"),
        ({"timeout_seconds": 2592001}, "out of range"),
        ({"output_s3_key_prefix": "p"}, "need output_s3_bucket"),
        ({"output_s3_bucket": "ab"}, "not an S3 bucket name"),
        ({"notification_config": {"arn": "arn:aws:sns:us-east-1:123456789012:t"}}, "needs service_role_arn"),
    ])
    def test_base_request_refuses(self, params, text):
        with pytest.raises(cmd.CommandValidationError, match=text):
            cmd.base_request(dict(document_name="AWS-RunShellScript", **params))

    def test_wait_options(self):
        cmd.validate_wait({"poll_interval": 1, "wait_timeout": 1})
        with pytest.raises(cmd.CommandValidationError, match="poll_interval must be at least 1 second"):
            cmd.validate_wait({"poll_interval": 0, "wait_timeout": 60})


class TestParameters:
    def test_shell_parameters(self):
        assert cmd.build_parameters("AWS-RunShellScript", SHELL, {"commands": "uname -a\nhostname"}) == {
            "commands": ["uname -a\nhostname"]}
        assert cmd.build_parameters("AWS-RunShellScript", SHELL, {"commands": ["a", 1, True]}, execution_timeout=60) == {
            "commands": ["a", "1", "true"], "executionTimeout": ["60"]}

    def test_typed_values(self):
        result = cmd.build_parameters("Doc", PATCH, {
            "Operation": "Install", "Retries": 3, "Verbose": True, "Packages": ["vim"], "Settings": {"b": 1, "a": "x"}})
        assert result == {"Operation": ["Install"], "Retries": ["3"], "Verbose": ["true"], "Packages": ["vim"],
                          "Settings": ['{"a": "x", "b": 1}']}
        assert cmd.build_parameters("Doc", PATCH, {"Operation": ["Scan"], "Verbose": "FALSE"}) == {
            "Operation": ["Scan"], "Verbose": ["false"]}

    @pytest.mark.parametrize("given, text", [
        ({"commands": ["x"], "Commands": ["y"]}, "Commands is not a parameter of document D .*its parameters: commands, "
                                                 "executionTimeout, workingDirectory"),
        ({}, "document D requires commands"),
        ({"commands": []}, "commands has 0 values; document D takes at least 1"),
        ({"commands": ["x"], "executionTimeout": "999999"}, "executionTimeout value '999999' does not match the pattern"),
        ({"commands": ["x"], "executionTimeout": "0"}, "does not match"),
        ({"commands": ["x"], "workingDirectory": ["/a", "/b"]}, "String parameter and takes one value"),
        ({"commands": ["x"], "workingDirectory": "/a/very/long/path"}, "is 17 characters; document D takes at most 10"),
        ({"commands": None}, "commands has no value"),
    ])
    def test_shell_refusals(self, given, text):
        with pytest.raises(cmd.CommandValidationError, match=text):
            cmd.build_parameters("D", SHELL, given)

    @pytest.mark.parametrize("given, text", [
        ({"Operation": "Scna"}, "Operation value 'Scna' is not allowed by document D; allowed values: Scan, Install"),
        ({"Operation": "Scan", "SnapshotId": "nope"}, "SnapshotId value 'nope' does not match"),
        ({"Operation": "Scan", "Retries": "two"}, "Retries is an Integer parameter"),
        ({"Operation": "Scan", "Verbose": "yes"}, "Verbose is a Boolean parameter"),
        ({"Operation": "Scan", "Packages": ["vim", "curl", "git"]}, "Packages has 3 values; document D takes at most 2"),
        ({"Operation": "Scan", "Packages": ["emacs"]}, "Packages value 'emacs' is not allowed"),
        ({"Operation": "Scan", "Settings": ["a"]}, "Settings is a StringMap parameter; give a mapping"),
    ])
    def test_typed_refusals(self, given, text):
        with pytest.raises(cmd.CommandValidationError, match=text):
            cmd.build_parameters("D", PATCH, given)

    def test_parameter_store_references_are_left_to_ssm(self):
        assert cmd.build_parameters("D", PATCH, {"Operation": "{{ssm:/patching/operation}}"}) == {
            "Operation": ["{{ssm:/patching/operation}}"]}

    def test_execution_timeout(self):
        with pytest.raises(cmd.CommandValidationError, match="document D has no executionTimeout parameter"):
            cmd.build_parameters("D", PATCH, {"Operation": "Scan"}, execution_timeout=60)
        with pytest.raises(cmd.CommandValidationError, match="both set the execution timeout"):
            cmd.build_parameters("D", SHELL, {"commands": ["x"], "executionTimeout": "5"}, execution_timeout=60)
        with pytest.raises(cmd.CommandValidationError, match="executionTimeout value '200000' does not match"):
            cmd.build_parameters("D", SHELL, {"commands": ["x"]}, execution_timeout=200000)

    def test_definitions(self):
        assert cmd.parameter_definitions({"schemaVersion": "2.2", "parameters": {"a": {"type": "String"}}}) == {
            "a": {"type": "String"}}
        assert cmd.parameter_definitions({"schemaVersion": "2.2"}) == {}
        assert cmd.definitions_from_description({"Parameters": [
            {"Name": "commands", "Type": "StringList"}, {"Name": "workingDirectory", "Type": "String", "DefaultValue": ""}]}) == {
            "commands": {"type": "StringList"}, "workingDirectory": {"type": "String", "default": ""}}

    def test_pattern_python_cannot_read_is_left_to_aws(self):
        assert cmd.build_parameters("D", {"p": {"type": "String", "allowedPattern": "^\\p{L}+$"}}, {"p": "é"}) == {"p": ["é"]}


class TestApiCalls:
    def test_list_commands_pages_and_limit(self):
        client = MagicMock()
        client.list_commands.side_effect = [
            {"Commands": [command(1), command(2)], "NextToken": "t1"},
            {"Commands": [command(3)], "NextToken": "t2"},
        ]
        found = cmd.list_commands(client, instance_id=node_id(1), filters=[{"key": "Status", "value": "Failed"}], limit=3)
        assert [c["CommandId"] for c in found] == [command_id(1), command_id(2), command_id(3)]
        assert client.list_commands.call_args_list[0].kwargs == {
            "InstanceId": node_id(1), "Filters": [{"key": "Status", "value": "Failed"}], "MaxResults": 50}
        assert client.list_commands.call_args_list[1].kwargs["NextToken"] == "t1"
        assert client.list_commands.call_count == 2  # the limit was reached: no third page

    def test_get_command_unknown_id(self):
        client = MagicMock()
        client.list_commands.side_effect = client_error("InvalidCommandId", "ListCommands")
        assert cmd.get_command(client, command_id(9)) is None

    def test_access_denied_names_the_iam_action(self):
        client = MagicMock()
        client.send_command.side_effect = client_error("AccessDeniedException")
        with pytest.raises(AnsibleSSMError) as raised:
            cmd.send_command(client, {"DocumentName": "AWS-RunShellScript"})
        assert raised.value.error_code == "AccessDeniedException"
        assert "the caller needs IAM permission for ssm:SendCommand" in str(raised.value)

    def test_throttling_is_retried(self, monkeypatch):
        monkeypatch.setattr("time.sleep", lambda seconds: None)
        client = MagicMock()
        client.send_command.side_effect = [client_error("ThrottlingException"), {"Command": command(1)}]
        assert cmd.send_command(client, {"DocumentName": "AWS-RunShellScript"})["CommandId"] == command_id(1)
        assert client.send_command.call_count == 2

    def test_invocations_with_details(self):
        client = MagicMock()
        client.list_command_invocations.return_value = {"CommandInvocations": [invocation(node_id(1))]}
        assert len(cmd.list_command_invocations(client, command_id=command_id(1), details=True)) == 1
        assert client.list_command_invocations.call_args.kwargs == {
            "CommandId": command_id(1), "Details": True, "MaxResults": 50}


class TestResolution:
    def test_instance_ids_50_per_call(self):
        client = MagicMock()
        ids = [node_id(i) for i in range(120)]
        client.describe_instance_information.side_effect = [
            {"InstanceInformationList": [{"InstanceId": iid, "PingStatus": "Online"} for iid in chunk]}
            for chunk in cmd.chunks(ids)]
        found = cmd.describe_nodes(client, ids)
        assert list(found) == ids
        calls = client.describe_instance_information.call_args_list
        assert [len(call.kwargs["Filters"][0]["Values"]) for call in calls] == [50, 50, 20]
        assert all(call.kwargs["MaxResults"] == 50 for call in calls)

    def test_tags_with_instance_ids_applied_locally(self):
        client = MagicMock()
        client.describe_instance_information.return_value = {"InstanceInformationList": [
            {"InstanceId": node_id(1)}, {"InstanceId": node_id(2)}]}
        found = cmd.resolve_targets(client, [{"Key": "tag:Role", "Values": ["web"]},
                                             {"Key": "InstanceIds", "Values": [node_id(2), node_id(3)]}])
        assert [info["InstanceId"] for info in found] == [node_id(2)]
        assert client.describe_instance_information.call_args.kwargs["Filters"] == [{"Key": "tag:Role", "Values": ["web"]}]

    def test_resource_groups_cannot_be_resolved(self):
        client = MagicMock()
        assert cmd.resolve_targets(client, [{"Key": "resource-groups:Name", "Values": ["web"]}]) is None
        client.describe_instance_information.assert_not_called()

    def test_platforms(self):
        infos = [{"InstanceId": node_id(1), "PlatformType": "Linux"}, {"InstanceId": node_id(2), "PlatformType": "Windows"}]
        cmd.check_platforms(infos[:1], ["Linux", "MacOS"], "AWS-RunShellScript")
        with pytest.raises(cmd.CommandValidationError, match=r"runs on Linux, MacOS; these nodes are not: mi-0+2 \(Windows\)"):
            cmd.check_platforms(infos, ["Linux", "MacOS"], "AWS-RunShellScript")

    def test_offline(self):
        assert cmd.offline([{"InstanceId": "a", "PingStatus": "Online"}, {"InstanceId": "b", "PingStatus": "ConnectionLost"}]) == ["b"]


class FakeSSM:
    """A client whose commands end when told; records every call."""

    def __init__(self):
        self.calls = []
        self.commands = {}
        self.next = 0
        self.outcomes = {}  # command index -> (status, errors) once "finished"
        self.finished = set()

    def send_command(self, **request):
        self.calls.append(("SendCommand", request))
        self.next += 1
        found = command(self.next, status="Pending", instance_ids=request.get("InstanceIds", ()),
                        MaxConcurrency=request.get("MaxConcurrency", "50"), MaxErrors=request.get("MaxErrors", "0"))
        self.commands[found["CommandId"]] = found
        return {"Command": found}

    def list_commands(self, **kwargs):
        self.calls.append(("ListCommands", kwargs))
        found = dict(self.commands[kwargs["CommandId"]])
        index = int(found["CommandId"][-12:])
        if index in self.finished:
            status, errors = self.outcomes.get(index, ("Success", 0))
            found.update(Status=status, StatusDetails=status, ErrorCount=errors, CompletedCount=found["TargetCount"])
        else:
            found.update(Status="InProgress", StatusDetails="InProgress")
        self.commands[found["CommandId"]] = found
        return {"Commands": [found]}

    def cancel_command(self, **kwargs):
        self.calls.append(("CancelCommand", kwargs))
        found = self.commands[kwargs["CommandId"]]
        self.finished.add(int(found["CommandId"][-12:]))
        self.outcomes[int(found["CommandId"][-12:])] = ("Cancelled", 0)
        return {}

    def names(self):
        return [name for name, dummy in self.calls]


class Clock:
    def __init__(self):
        self.now = 0.0
        self.pauses = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.pauses.append(seconds)
        self.now += seconds


class TestCommandSet:
    def test_one_command_for_targets(self):
        client = FakeSSM()
        commands = cmd.CommandSet(client, {"DocumentName": "AWS-RunShellScript", "Targets": [{"Key": "tag:R", "Values": ["a"]}]})
        assert commands.send_more() == 1
        assert client.calls[0][1] == {"DocumentName": "AWS-RunShellScript", "Targets": [{"Key": "tag:R", "Values": ["a"]}]}

    def test_120_ids_percentages_all_at_once(self):
        client = FakeSSM()
        ids = [node_id(i) for i in range(120)]
        commands = cmd.CommandSet(client, {"DocumentName": "D"}, ids, "10%", "5%")
        assert commands.send_more() == 3
        sent = [request for name, request in client.calls if name == "SendCommand"]
        assert [len(r["InstanceIds"]) for r in sent] == [50, 50, 20]
        assert [r["InstanceIds"][0] for r in sent] == [ids[0], ids[50], ids[100]]
        assert {(r["MaxConcurrency"], r["MaxErrors"]) for r in sent} == {("10%", "5%")}

    def test_numbers_are_shared_between_commands(self):
        client = FakeSSM()
        clock = Clock()
        ids = [node_id(i) for i in range(120)]
        commands = cmd.CommandSet(client, {"DocumentName": "D"}, ids, "60", "4")
        commands.send_more()
        first = [r for name, r in client.calls if name == "SendCommand"]
        assert [(len(r["InstanceIds"]), r["MaxConcurrency"], r["MaxErrors"]) for r in first] == [(50, "50", "4"), (50, "10", "4")]
        client.outcomes[1] = ("Success", 1)
        client.finished.add(1)
        assert commands.wait(600, 5, True, sleep=self._finish_all(client, clock), clock=clock)
        sent = [r for name, r in client.calls if name == "SendCommand"]
        # the third command went out once the first ended, with what was left of max_errors (4 - 1 error)
        assert [(len(r["InstanceIds"]), r["MaxConcurrency"], r["MaxErrors"]) for r in sent][2] == (20, "20", "3")
        assert commands.not_sent == [] and not commands.stopped

    @staticmethod
    def _finish_all(client, clock):
        def sleep(seconds):
            clock.sleep(seconds)
            if clock.now > 3:
                client.finished.update(range(1, 10))
        return sleep

    def test_max_concurrency_one_sends_one_command_at_a_time(self):
        client = FakeSSM()
        clock = Clock()
        commands = cmd.CommandSet(client, {"DocumentName": "D"}, [node_id(i) for i in range(101)], "1", None)
        commands.send_more()
        assert client.names().count("SendCommand") == 1

        def sleep(seconds):
            clock.sleep(seconds)
            client.finished.update(range(1, client.next + 1))  # whatever was sent ends by the next poll
        assert commands.wait(600, 5, True, sleep=sleep, clock=clock)
        sent = [r for name, r in client.calls if name == "SendCommand"]
        assert [r["MaxConcurrency"] for r in sent] == ["1", "1", "1"]
        assert "MaxErrors" not in sent[0]
        # each poll: one ListCommands per running command, nothing else
        assert client.names() == ["SendCommand", "ListCommands", "SendCommand", "ListCommands", "SendCommand", "ListCommands"]

    def test_errors_over_all_commands_stop_the_rest(self):
        client = FakeSSM()
        clock = Clock()
        ids = [node_id(i) for i in range(150)]
        commands = cmd.CommandSet(client, {"DocumentName": "D"}, ids, "50", "1")
        commands.send_more()  # one command of 50 at a time
        client.outcomes[1] = ("Failed", 2)
        client.finished.add(1)
        assert commands.wait(600, 5, True, sleep=clock.sleep, clock=clock)
        assert commands.stopped
        assert commands.not_sent == ids[50:]
        assert client.names().count("SendCommand") == 1

    def test_errors_stop_running_commands(self):
        client = FakeSSM()
        clock = Clock()
        commands = cmd.CommandSet(client, {"DocumentName": "D"}, [node_id(i) for i in range(100)], "100%", "1%")
        commands.send_more()
        client.outcomes[1] = ("Failed", 2)
        client.finished.add(1)
        assert commands.wait(600, 5, True, sleep=clock.sleep, clock=clock)
        assert ("CancelCommand", {"CommandId": command_id(2)}) in client.calls
        assert commands.stopped and commands.not_sent == []

    def test_timeout_cancels(self):
        client = FakeSSM()
        clock = Clock()
        commands = cmd.CommandSet(client, {"DocumentName": "D"}, [node_id(1)])
        commands.send_more()
        assert not commands.wait(10, 4, True, sleep=clock.sleep, clock=clock)
        assert commands.timed_out
        assert ("CancelCommand", {"CommandId": command_id(1)}) in client.calls
        assert commands.sent[0]["Status"] == "Cancelled"
        assert clock.pauses[:4] == [1, 2, 4, 3]  # 1 s, doubling up to poll_interval, never past the deadline

    def test_timeout_without_cancel(self):
        client = FakeSSM()
        clock = Clock()
        commands = cmd.CommandSet(client, {"DocumentName": "D"}, [node_id(1)])
        commands.send_more()
        assert not commands.wait(3, 5, False, sleep=clock.sleep, clock=clock)
        assert "CancelCommand" not in client.names()

    def test_not_yet_visible_command_is_waited_for(self):
        client = MagicMock()
        client.send_command.return_value = {"Command": command(1, status="Pending", instance_ids=[node_id(1)])}
        client.list_commands.side_effect = [client_error("InvalidCommandId", "ListCommands"),
                                            {"Commands": [command(1, instance_ids=[node_id(1)])]}]
        clock = Clock()
        commands = cmd.CommandSet(client, {"DocumentName": "D"}, [node_id(1)])
        commands.send_more()
        assert commands.wait(60, 5, True, sleep=clock.sleep, clock=clock)
        assert commands.sent[0]["Status"] == "Success"

    def test_without_wait_every_command_takes_the_rates_as_given(self):
        client = FakeSSM()
        commands = cmd.CommandSet(client, {"DocumentName": "D"}, [node_id(i) for i in range(60)], "5", "2", windowed=False)
        commands.send_all()
        assert [(r["MaxConcurrency"], r["MaxErrors"], len(r["InstanceIds"])) for name, r in client.calls] == [
            ("5", "2", 50), ("5", "2", 10)]


class TestOutput:
    def test_split(self):
        assert cmd.split_output("out\n") == ("out\n", "", True)
        assert cmd.split_output("out\n" + cmd.ERROR_TITLE + "err") == ("out\n", "err", True)
        assert cmd.split_output(cmd.ERROR_TITLE + "err") == ("", "err", True)
        assert cmd.split_output("") == ("", "", True)
        assert cmd.split_output(None) == ("", "", True)
        assert cmd.split_output("o" * 2000 + cmd.OUTPUT_CUT + cmd.ERROR_TITLE + "e")[2] is False
        assert cmd.split_output("o" * 2500)[2] is False
        assert cmd.split_output("a" + cmd.ERROR_TITLE + "b" + cmd.ERROR_TITLE + "c")[2] is False

    def test_truncated(self):
        assert cmd.is_truncated("o" * 23980 + cmd.TRUNCATED_SUFFIX, cmd.STDOUT_LIMIT)
        assert not cmd.is_truncated("short", cmd.STDOUT_LIMIT)
        assert not cmd.is_truncated("", cmd.STDOUT_LIMIT)

    def test_complete_output_needs_no_more_calls(self):
        client = MagicMock()
        result = cmd.invocation_to_ansible(client, invocation(node_id(1), [plugin(output="hi\n" + cmd.ERROR_TITLE + "warn")]))
        client.get_command_invocation.assert_not_called()
        assert (result["stdout"], result["stderr"], result["response_code"]) == ("hi\n", "warn", 0)
        assert result["start_time"] == WHEN.isoformat() and result["end_time"] == LATER.isoformat()
        assert result["standard_output_url"] is None and result["stdout_truncated"] is False

    def test_cut_output_is_read_in_full(self):
        client = MagicMock()
        long_out = "o" * 23980 + cmd.TRUNCATED_SUFFIX
        client.get_command_invocation.return_value = {
            "StandardOutputContent": long_out, "StandardErrorContent": "e\n",
            "StandardOutputUrl": "https://s3.us-east-1.amazonaws.com/b/p/stdout", "StandardErrorUrl": ""}
        listed = invocation(node_id(1), [plugin(status="Failed", code=2, output="o" * 1000 + cmd.OUTPUT_CUT)],
                            status="Failed")
        result = cmd.invocation_to_ansible(client, listed)
        client.get_command_invocation.assert_called_once_with(CommandId=command_id(1), InstanceId=node_id(1))
        assert result["stdout"] == long_out and result["stdout_truncated"] is True and result["stderr"] == "e\n"
        assert result["standard_output_url"] == "https://s3.us-east-1.amazonaws.com/b/p/stdout"
        assert result["response_code"] == 2

    def test_steps_of_a_document(self):
        client = MagicMock()
        client.get_command_invocation.return_value = {"StandardOutputContent": "two\n", "StandardErrorContent": ""}
        listed = invocation(node_id(1), [plugin("first", output="one\n"), plugin("second", output="x" * 2500),
                                         plugin("third", status="Failed", code=4, output="")], status="Failed")
        result = cmd.invocation_to_ansible(client, listed)
        client.get_command_invocation.assert_called_once_with(CommandId=command_id(1), InstanceId=node_id(1),
                                                              PluginName="second")
        assert result["stdout"] == "one\ntwo\n" and result["response_code"] == 4
        assert [p["name"] for p in result["plugins"]] == ["first", "second", "third"]

    def test_undelivered(self):
        result = cmd.invocation_to_ansible(MagicMock(), invocation(node_id(1), [], status="TimedOut",
                                                                   StatusDetails="DeliveryTimedOut"))
        assert (result["response_code"], result["stdout"], result["start_time"]) == (-1, "", None)

    def test_running_step_is_not_read(self):
        client = MagicMock()
        result = cmd.invocation_to_ansible(client, invocation(node_id(1), [plugin(status="InProgress", output="x" * 2500)]))
        client.get_command_invocation.assert_not_called()
        assert result["status"] == "Success"

    def test_without_output(self):
        result = cmd.invocation_to_ansible(MagicMock(), invocation(node_id(1)), with_output=False)
        assert "stdout" not in result and result["plugins"][0]["name"] == "aws:runShellScript"


class TestResults:
    def test_command_keeps_parameter_names(self):
        result = cmd.command_to_ansible(command(1, Targets=[{"Key": "tag:Patch Group", "Values": ["a"]}]))
        assert result["parameters"] == {"commands": ["uname -a"], "workingDirectory": [""]}
        assert result["targets"] == [{"key": "tag:Patch Group", "values": ["a"]}]
        assert result["requested_date_time"] == WHEN.isoformat() and result["expires_after"] == LATER.isoformat()
        assert result["cloud_watch_output_config"] == {"cloud_watch_output_enabled": False}

    def test_several_commands_add_up(self):
        ids = [node_id(i) for i in range(60)]
        commands = [command(1, "Success", ids[:50]), command(2, "Failed", ids[50:], errors=2, details="Failed")]
        result = cmd.combine(commands, ids, "10", "1", not_sent=[])
        assert (result["command_id"], result["command_ids"]) == (command_id(1), [command_id(1), command_id(2)])
        assert (result["status"], result["status_details"]) == ("Failed", "Failed")
        assert (result["target_count"], result["completed_count"], result["error_count"]) == (60, 60, 2)
        assert result["instance_ids"] == ids and (result["max_concurrency"], result["max_errors"]) == ("10", "1")
        assert [c["target_count"] for c in result["commands"]] == [50, 10]

    def test_overall_status_while_running(self):
        assert cmd.combine([command(1, "Success", [node_id(1)]), command(2, "InProgress", [node_id(2)])])["status"] == "InProgress"

    def test_one_command(self):
        result = cmd.combine([command(1, instance_ids=[node_id(1)])])
        assert result["command_ids"] == [command_id(1)] and result["not_sent_instance_ids"] == []
        assert result["target_count"] == 1 and len(result["commands"]) == 1

    def test_prediction(self):
        request = {"DocumentName": "D", "Parameters": {"commands": ["x"]}, "MaxConcurrency": "5"}
        result = cmd.predicted(request, None, [node_id(1)], 1)
        assert result["target_count"] == 1 and result["command_id"] is None and result["parameters"] == {"commands": ["x"]}
        assert (result["max_concurrency"], result["max_errors"]) == ("5", "0")


def done(instance_id, status="Success", code=0, name=None):
    return {"instance_id": instance_id, "computer_name": name, "status": status,
            "status_details": "Terminated" if status == "Cancelled" else status, "response_code": code}


class TestFailure:
    COMMAND = {"command_id": command_id(1), "command_ids": [command_id(1)], "not_sent_instance_ids": []}

    def test_any(self):
        invocations = [done(node_id(1)), done(node_id(2), "Failed", 3, "node-2"), done(node_id(3), "Cancelled")]
        message = cmd.failure_message("any", self.COMMAND, invocations)
        assert message == (f"Run Command {command_id(1)} did not succeed on 2 of 3 nodes: {node_id(2)} (node-2) Failed, "
                           f"exit code 3; {node_id(3)} Cancelled (Terminated).")
        assert cmd.failure_message("any", self.COMMAND, [done(node_id(1))]) is None

    def test_not_sent_nodes_count(self):
        command = dict(self.COMMAND, not_sent_instance_ids=[node_id(9)])
        assert f"{node_id(9)} not sent (max_errors exceeded)" in cmd.failure_message("any", command, [done(node_id(1))])

    def test_all_and_none(self):
        some = [done(node_id(1)), done(node_id(2), "Failed", 1)]
        assert cmd.failure_message("all", self.COMMAND, some) is None
        assert "succeeded on none of its 1 nodes" in cmd.failure_message("all", self.COMMAND, some[1:])
        assert cmd.failure_message("none", self.COMMAND, some[1:]) is None

    def test_max_errors(self):
        invocations = [done(node_id(1)), done(node_id(2), "Failed", 1), done(node_id(3), "TimedOut", 137)]
        assert cmd.failure_message("max_errors", self.COMMAND, invocations, "2") is None
        message = cmd.failure_message("max_errors", self.COMMAND, invocations, "1")
        assert "failed on 2 of 3 nodes, more than max_errors 1 allows (1)" in message
        assert cmd.failure_message("max_errors", self.COMMAND, invocations, "50%") is not None  # 50% of 3 is 1
        assert cmd.failure_message("max_errors", self.COMMAND, invocations[:2]) is not None  # AWS's default: 0

    def test_long_lists_are_cut(self):
        invocations = [done(node_id(i), "Failed", 1) for i in range(25)]
        assert cmd.failure_message("any", self.COMMAND, invocations).endswith("; and 15 more.")


class TestInfoFilters:
    def test_filters(self):
        assert cmd.build_filters({"Status": "Failed", "InvokedAfter": "2026-01-01T00:00:00Z", "DocumentName": "D"}) == [
            {"key": "Status", "value": "Failed"}, {"key": "InvokedAfter", "value": "2026-01-01T00:00:00Z"},
            {"key": "DocumentName", "value": "D"}]

    @pytest.mark.parametrize("filters, invocations, text", [
        ({"State": "x"}, False, "unknown key 'State'"),
        ({"InvokedAfter": "yesterday"}, False, "not a date and time"),
        ({"Status": "Broken"}, False, "Status 'Broken' is not a status"),
        ({"ExecutionStage": "Done"}, False, "ExecutionStage is Executing or Complete"),
        ({"ExecutionStage": "Complete"}, True, "ExecutionStage filters commands, not invocations"),
    ])
    def test_bad_filters(self, filters, invocations, text):
        with pytest.raises(cmd.CommandValidationError, match=text):
            cmd.build_filters(filters, for_invocations=invocations)


def test_parameters_are_json_for_maps():
    assert json.loads(cmd.to_aws_values("m", [{"a": 1}], "MapList")[0]) == [{"a": 1}]
