"""Run Command on (fake) managed nodes: real execution, statuses, rate controls, truncation, timeouts."""

import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from fleet_helpers import error, needs_root, run_shell, wait_command, wait_for, wait_invocation

pytestmark = needs_root


@pytest.fixture
def shared_dir():
    path = Path(tempfile.mkdtemp(prefix="fleetops-run-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def plugins(ssm, command_id):
    [inv] = ssm.list_command_invocations(CommandId=command_id, Details=True)["CommandInvocations"]
    return inv["CommandPlugins"]


def test_success_with_real_output(ssm_client, managed_node, shared_dir):
    node = managed_node("node-1")
    script = ["echo hello from $(id -un)", "pwd", "echo \"$SSM_COMMAND_ID $AWS_SSM_INSTANCE_ID\""]
    command_id = run_shell(ssm_client, [node.instance_id], script, Comment="greeting")
    first = ssm_client.get_command_invocation(CommandId=command_id, InstanceId=node.instance_id)
    assert first["Status"] in ("Pending", "InProgress", "Success")  # never InvocationDoesNotExist
    inv = wait_invocation(ssm_client, command_id, node.instance_id)
    assert (inv["Status"], inv["StatusDetails"], inv["ResponseCode"]) == ("Success", "Success", 0)
    assert inv["StandardOutputContent"] == f"hello from root\n/usr/bin\n{command_id} {node.instance_id}\n"
    assert inv["StandardErrorContent"] == ""
    assert inv["PluginName"] == "aws:runShellScript" and inv["Comment"] == "greeting"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", inv["ExecutionStartDateTime"])
    assert re.fullmatch(r"PT\d+\.\d{3}S", inv["ExecutionElapsedTime"])
    command = wait_command(ssm_client, command_id)
    assert (command["Status"], command["StatusDetails"]) == ("Success", "Success")
    assert (command["TargetCount"], command["CompletedCount"], command["ErrorCount"]) == (1, 1, 0)
    assert (command["MaxConcurrency"], command["MaxErrors"], command["TimeoutSeconds"]) == ("50", "0", 3600)
    assert command["DocumentVersion"] == "$DEFAULT" and command["Parameters"]["commands"][0].startswith("echo")
    [plugin] = plugins(ssm_client, command_id)
    assert plugin["Name"] == "aws:runShellScript" and plugin["Output"] == inv["StandardOutputContent"]
    # the script is where the agent keeps it
    script = Path(node.agent_state_dir, node.instance_id, "document", "orchestration", command_id,
                  "awsrunShellScript", "0.awsrunShellScript", "_script.sh")
    assert script.read_text().startswith("echo hello from $(id -un)\npwd\n")


def test_failure_exit_code_and_working_directory(ssm_client, managed_node, shared_dir):
    node = managed_node("node-1")
    command_id = run_shell(ssm_client, [node.instance_id], ["pwd", "echo oops >&2", "exit 3"],
                           parameters={"workingDirectory": [str(shared_dir)]})
    inv = wait_invocation(ssm_client, command_id, node.instance_id)
    assert (inv["Status"], inv["StatusDetails"], inv["ResponseCode"]) == ("Failed", "Failed", 3)
    assert inv["StandardOutputContent"] == f"{shared_dir}\n"
    assert inv["StandardErrorContent"] == "oops\nfailed to run commands: exit status 3"
    assert plugins(ssm_client, command_id)[0]["Output"] == (
        f"{shared_dir}\n\n----------ERROR-------\noops\nfailed to run commands: exit status 3")
    assert wait_command(ssm_client, command_id)["Status"] == "Failed"
    missing = run_shell(ssm_client, [node.instance_id], ["pwd"], parameters={"workingDirectory": ["/no/such/dir"]})
    inv = wait_invocation(ssm_client, missing, node.instance_id)
    assert (inv["Status"], inv["ResponseCode"]) == ("Failed", 1)
    assert inv["StandardErrorContent"] == "failed to run commands: chdir /no/such/dir: no such file or directory"


def test_execution_timeout_kills_the_command(ssm_client, managed_node, shared_dir):
    node = managed_node("node-1")
    marker = shared_dir / "survived"
    started = time.monotonic()
    command_id = run_shell(ssm_client, [node.instance_id], ["echo started", f"sleep 30; touch {marker}"],
                           parameters={"executionTimeout": ["5"]})
    inv = wait_invocation(ssm_client, command_id, node.instance_id, timeout=20)
    assert time.monotonic() - started < 12
    assert (inv["Status"], inv["StatusDetails"], inv["ResponseCode"]) == ("TimedOut", "ExecutionTimedOut", 137)
    assert inv["StandardOutputContent"] == "started\n"
    command = wait_command(ssm_client, command_id)
    assert (command["Status"], command["StatusDetails"], command["ErrorCount"]) == ("TimedOut", "ExecutionTimedOut", 1)
    assert not subprocess.run(["pgrep", "-f", f"touch {marker}"], capture_output=True, check=False).stdout  # process group killed


def test_output_truncation(ssm_client, managed_node):
    node = managed_node("node-1")
    command_id = run_shell(ssm_client, [node.instance_id], [
        "head -c 30000 /dev/zero | tr '\\0' 'o'", "head -c 9000 /dev/zero | tr '\\0' 'e' >&2"])
    inv = wait_invocation(ssm_client, command_id, node.instance_id)
    assert inv["Status"] == "Success"
    assert len(inv["StandardOutputContent"]) == 24000
    assert inv["StandardOutputContent"] == "o" * 23980 + "--output truncated--"
    assert inv["StandardErrorContent"] == "e" * 7980 + "--output truncated--"
    [plugin] = plugins(ssm_client, command_id)
    output = plugin["Output"]
    assert len(output) <= 2500 and "\n---Output truncated---\n----------ERROR-------\n" in output
    assert output.endswith("\n---Error truncated----")


def test_max_concurrency(ssm_client, managed_node, shared_dir):
    nodes = [managed_node(f"node-{i}") for i in range(3)]
    log = shared_dir / "log"
    command_id = run_shell(ssm_client, [n.instance_id for n in nodes], [
        f'echo "start $(date +%s.%N)" >> {log}', "sleep 0.4", f'echo "end $(date +%s.%N)" >> {log}'],
        MaxConcurrency="1")
    command = wait_command(ssm_client, command_id)
    assert command["Status"] == "Success" and command["MaxConcurrency"] == "1"
    events = [line.split() for line in log.read_text().splitlines()]
    assert [e[0] for e in events] == ["start", "end"] * 3  # one at a time
    log.unlink()
    command_id = run_shell(ssm_client, [n.instance_id for n in nodes], [
        f'echo "start $(date +%s.%N)" >> {log}', "sleep 0.6", f'echo "end $(date +%s.%N)" >> {log}'],
        MaxConcurrency="100%")
    wait_command(ssm_client, command_id)
    assert [line.split()[0] for line in log.read_text().splitlines()][:3] == ["start"] * 3  # all at once


@pytest.mark.parametrize("max_errors,statuses,command_status,error_count", [
    ("0", [("Failed", "Failed"), ("Cancelled", "Terminated"), ("Cancelled", "Terminated")], ("Failed", "Failed"), 1),
    ("1", [("Failed", "Failed"), ("Failed", "Failed"), ("Cancelled", "Terminated")], ("Failed", "Failed"), 2),
    ("100%", [("Failed", "Failed")] * 3, ("Failed", "Incomplete"), 3),
])
def test_max_errors(ssm_client, managed_node, max_errors, statuses, command_status, error_count):
    nodes = [managed_node(f"node-{i}") for i in range(3)]
    ids = [n.instance_id for n in nodes]
    command_id = run_shell(ssm_client, ids, ["exit 1"], MaxConcurrency="1", MaxErrors=max_errors)
    command = wait_command(ssm_client, command_id)
    invocations = {i["InstanceId"]: (i["Status"], i["StatusDetails"])
                   for i in ssm_client.list_command_invocations(CommandId=command_id)["CommandInvocations"]}
    assert [invocations[i] for i in ids] == statuses
    assert (command["Status"], command["StatusDetails"]) == command_status
    assert (command["ErrorCount"], command["CompletedCount"]) == (error_count, 3)


def test_offline_node_times_out_undelivered(ssm_client, managed_node, clean_endpoint):
    clean_endpoint.control("POST", "/settings", {"delivery_timeout_cap_seconds": 1})
    up, down = managed_node("up"), managed_node("down")
    down.stop()
    command_id = run_shell(ssm_client, [up.instance_id, down.instance_id], ["echo hi"], TimeoutSeconds=30)
    pending = ssm_client.get_command_invocation(CommandId=command_id, InstanceId=down.instance_id)
    assert (pending["Status"], pending["ResponseCode"]) == ("Pending", -1)
    inv = wait_invocation(ssm_client, command_id, down.instance_id, timeout=10)
    assert (inv["Status"], inv["StatusDetails"], inv["ResponseCode"]) == ("TimedOut", "DeliveryTimedOut", -1)
    assert inv["ExecutionStartDateTime"] == "" and inv["StandardOutputContent"] == ""
    command = wait_command(ssm_client, command_id)
    assert (command["Status"], command["StatusDetails"]) == ("TimedOut", "DeliveryTimedOut")
    assert (command["DeliveryTimedOutCount"], command["ErrorCount"], command["CompletedCount"]) == (1, 0, 2)
    [listed] = ssm_client.list_command_invocations(CommandId=command_id, InstanceId=down.instance_id,
                                                   Details=True)["CommandInvocations"]
    assert listed["CommandPlugins"] == []  # never delivered


def test_a_node_back_before_the_delivery_timeout_runs_the_command(ssm_client, managed_node, clean_endpoint):
    clean_endpoint.control("POST", "/settings", {"delivery_timeout_cap_seconds": 10})
    node = managed_node("node-1")
    node.stop()
    command_id = run_shell(ssm_client, [node.instance_id], ["echo late"])
    time.sleep(0.5)
    assert ssm_client.get_command_invocation(CommandId=command_id, InstanceId=node.instance_id)["Status"] == "Pending"
    node.start()
    inv = wait_invocation(ssm_client, command_id, node.instance_id)
    assert (inv["Status"], inv["StandardOutputContent"]) == ("Success", "late\n")


def test_unsupported_documents_fail_on_the_node(ssm_client, managed_node):
    node = managed_node("node-1")
    sent = ssm_client.send_command(DocumentName="AWS-RunPatchBaseline", InstanceIds=[node.instance_id],
                                   Parameters={"Operation": ["Scan"]})["Command"]
    inv = wait_invocation(ssm_client, sent["CommandId"], node.instance_id, PluginName="PatchLinux")
    assert (inv["Status"], inv["ResponseCode"]) == ("Failed", 1)
    assert "AWS-RunPatchBaseline is not supported" in inv["StandardErrorContent"]
    content = {"schemaVersion": "2.2", "description": "d", "mainSteps": [
        {"action": "aws:runPowerShellScript", "name": "getDate", "inputs": {"runCommand": ["Get-Date"]}}]}
    ssm_client.create_document(Name="fleetops-ps", DocumentType="Command", Content=json.dumps(content))
    sent = ssm_client.send_command(DocumentName="fleetops-ps", InstanceIds=[node.instance_id])["Command"]
    inv = wait_invocation(ssm_client, sent["CommandId"], node.instance_id)
    assert inv["Status"] == "Failed" and "step getDate uses aws:runPowerShellScript" in inv["StandardErrorContent"]


def test_own_document_with_steps_and_parameters(ssm_client, managed_node):
    node = managed_node("node-1")
    content = {
        "schemaVersion": "2.2", "description": "two steps",
        "parameters": {"greeting": {"type": "String", "default": "hello", "allowedPattern": "^[a-z]+$"},
                       "lines": {"type": "StringList"}},
        "mainSteps": [
            {"action": "aws:runShellScript", "name": "first", "inputs": {"runCommand": ["echo {{ greeting }}"]}},
            {"action": "aws:runShellScript", "name": "second", "inputs": {"runCommand": "{{ lines }}"}},
            {"action": "aws:runPowerShellScript", "name": "windowsOnly",
             "precondition": {"StringEquals": ["platformType", "Windows"]}, "inputs": {"runCommand": ["dir"]}},
        ]}
    ssm_client.create_document(Name="fleetops-steps", DocumentType="Command", Content=json.dumps(content))
    sent = ssm_client.send_command(DocumentName="fleetops-steps", InstanceIds=[node.instance_id],
                                   Parameters={"lines": ["echo one", "echo two"]})["Command"]
    first = wait_invocation(ssm_client, sent["CommandId"], node.instance_id, PluginName="first")
    second = wait_invocation(ssm_client, sent["CommandId"], node.instance_id, PluginName="second")
    skipped = wait_invocation(ssm_client, sent["CommandId"], node.instance_id, PluginName="windowsOnly")
    assert (first["StandardOutputContent"], second["StandardOutputContent"]) == ("hello\n", "one\ntwo\n")
    assert skipped["Status"] == "Success" and "skipped" in skipped["StandardOutputContent"]
    assert [p["Name"] for p in plugins(ssm_client, sent["CommandId"])] == ["first", "second", "windowsOnly"]
    with pytest.raises(ssm_client.exceptions.InvalidPluginName):  # several steps: say which
        ssm_client.get_command_invocation(CommandId=sent["CommandId"], InstanceId=node.instance_id)
    with pytest.raises(ssm_client.exceptions.InvalidParameters):
        ssm_client.send_command(DocumentName="fleetops-steps", InstanceIds=[node.instance_id],
                                Parameters={"lines": ["true"], "greeting": ["Hello!"]})


def test_targets(ssm_client, managed_node):
    web1 = managed_node("web-1", tags={"Name": "web-1", "Role": "web", "Env": "prod"})
    web2 = managed_node("web-2", tags={"Name": "web-2", "Role": "web", "Env": "dev"})
    managed_node("db-1", tags={"Name": "db-1", "Role": "db"})

    def targeted(targets):
        sent = ssm_client.send_command(DocumentName="AWS-RunShellScript", Targets=targets,
                                       Parameters={"commands": ["true"]})["Command"]
        wait_command(ssm_client, sent["CommandId"])
        return sorted(i["InstanceId"] for i in
                      ssm_client.list_command_invocations(CommandId=sent["CommandId"])["CommandInvocations"])

    assert targeted([{"Key": "tag:Role", "Values": ["web"]}]) == sorted([web1.instance_id, web2.instance_id])
    assert targeted([{"Key": "tag:Role", "Values": ["web"]}, {"Key": "tag:Env", "Values": ["prod"]}]) == \
        [web1.instance_id]
    assert len(targeted([{"Key": "tag-key", "Values": ["Role"]}])) == 3
    assert targeted([{"Key": "InstanceIds", "Values": [web2.instance_id]}]) == [web2.instance_id]
    nobody = ssm_client.send_command(DocumentName="AWS-RunShellScript", Targets=[{"Key": "tag:Role", "Values": ["x"]}],
                                     Parameters={"commands": ["true"]})["Command"]
    assert (nobody["TargetCount"], nobody["Status"], nobody["StatusDetails"]) == (0, "Success", "NoInstancesInTag")
    with pytest.raises(ClientError) as excinfo:
        ssm_client.send_command(DocumentName="AWS-RunShellScript", Targets=[{"Key": "Role", "Values": ["web"]}],
                                Parameters={"commands": ["true"]})
    assert error(excinfo)[0] == "ValidationException"


def test_send_command_validation(ssm_client, aws_client, managed_node):
    node = managed_node("node-1")
    ok = {"DocumentName": "AWS-RunShellScript", "Parameters": {"commands": ["true"]}}
    with pytest.raises(ssm_client.exceptions.InvalidInstanceId) as excinfo:
        ssm_client.send_command(InstanceIds=["mi-0ffffffffffffffff"], **ok)
    assert error(excinfo)[1] == ("Instances [[mi-0ffffffffffffffff]] not in a valid state for account 123456789012")
    with pytest.raises(ssm_client.exceptions.InvalidDocument):
        ssm_client.send_command(DocumentName="No-Such-Doc", InstanceIds=[node.instance_id])
    with pytest.raises(ssm_client.exceptions.InvalidDocument):
        ssm_client.send_command(DocumentName="AWS-StartNonInteractiveCommand", InstanceIds=[node.instance_id])
    with pytest.raises(ssm_client.exceptions.InvalidParameters):
        ssm_client.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[node.instance_id],
                                Parameters={"command": ["true"]})
    with pytest.raises(ssm_client.exceptions.InvalidParameters):
        ssm_client.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[node.instance_id])
    with pytest.raises(ssm_client.exceptions.InvalidDocumentVersion):
        ssm_client.send_command(DocumentVersion="7", InstanceIds=[node.instance_id], **ok)
    with pytest.raises(ssm_client.exceptions.DuplicateInstanceId):
        ssm_client.send_command(InstanceIds=[node.instance_id, node.instance_id], **ok)
    with pytest.raises(ClientError) as excinfo:
        ssm_client.send_command(InstanceIds=[node.instance_id], Targets=[{"Key": "tag:a", "Values": ["b"]}], **ok)
    assert error(excinfo)[0] == "ValidationException"
    raw = aws_client("ssm", parameter_validation=False)
    for bad in ({"TimeoutSeconds": 10}, {"MaxConcurrency": "0"}, {"MaxErrors": "101%"}):
        with pytest.raises(ClientError) as excinfo:
            raw.send_command(InstanceIds=[node.instance_id], **ok, **bad)
        assert error(excinfo)[0] == "ValidationException" and "failed to satisfy constraint" in error(excinfo)[1]


def test_cancel_command(ssm_client, managed_node):
    node = managed_node("node-1")
    command_id = run_shell(ssm_client, [node.instance_id], ["echo begun", "sleep 30"])
    wait_for(lambda: ssm_client.get_command_invocation(CommandId=command_id, InstanceId=node.instance_id)[
        "Status"] == "InProgress", 10, what="the command to start")
    ssm_client.cancel_command(CommandId=command_id)
    inv = wait_invocation(ssm_client, command_id, node.instance_id, timeout=5)
    assert (inv["Status"], inv["StatusDetails"], inv["ResponseCode"]) == ("Cancelled", "Cancelled", 137)
    assert wait_command(ssm_client, command_id)["Status"] == "Cancelled"
    with pytest.raises(ssm_client.exceptions.InvalidCommandId):
        ssm_client.cancel_command(CommandId="00000000-0000-0000-0000-000000000000")


def test_listing_filters_and_pagination(ssm_client, aws_client, managed_node):
    node = managed_node("node-1")
    done = run_shell(ssm_client, [node.instance_id], ["true"])
    wait_command(ssm_client, done)
    failed = run_shell(ssm_client, [node.instance_id], ["false"])
    wait_command(ssm_client, failed)

    def ids(**kwargs):
        return [c["CommandId"] for c in ssm_client.list_commands(**kwargs)["Commands"]]

    assert ids() == [failed, done]  # newest first
    assert ids(Filters=[{"key": "Status", "value": "Success"}]) == [done]
    assert ids(Filters=[{"key": "ExecutionStage", "value": "Complete"}]) == [failed, done]
    assert ids(InstanceId=node.instance_id, MaxResults=1) == [failed]
    page = ssm_client.list_commands(MaxResults=1)
    assert [c["CommandId"] for c in ssm_client.list_commands(MaxResults=1, NextToken=page["NextToken"])["Commands"]] \
        == [done]
    listed = ssm_client.list_command_invocations(Filters=[{"key": "Status", "value": "Failed"}])["CommandInvocations"]
    assert [i["CommandId"] for i in listed] == [failed] and listed[0]["CommandPlugins"] == []
    with pytest.raises(ClientError) as excinfo:
        ssm_client.list_command_invocations(Filters=[{"key": "ExecutionStage", "value": "Complete"}])
    assert error(excinfo)[0] == "InvalidFilterKey"
    with pytest.raises(ssm_client.exceptions.InvalidCommandId):
        ssm_client.list_commands(CommandId="00000000-0000-0000-0000-000000000000")
    with pytest.raises(ssm_client.exceptions.InvocationDoesNotExist):
        ssm_client.get_command_invocation(CommandId=done, InstanceId="mi-0ffffffffffffffff")


def test_reset_stops_running_commands(ssm_client, managed_node, clean_endpoint, shared_dir):
    node = managed_node("node-1")
    marker = shared_dir / "after-reset"
    command_id = run_shell(ssm_client, [node.instance_id], [f"sleep 2; touch {marker}"])
    wait_for(lambda: ssm_client.get_command_invocation(CommandId=command_id, InstanceId=node.instance_id)[
        "Status"] == "InProgress", 10, what="the command to start")
    clean_endpoint.reset()
    assert ssm_client.list_commands()["Commands"] == []
    time.sleep(2.5)
    assert not marker.exists()
