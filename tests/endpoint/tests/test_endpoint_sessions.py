"""Session Manager: the API, and the session-manager-plugin stand-in running shells on (fake) nodes."""

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from fleet_helpers import (
    SESSION_MANAGER_PLUGIN, PluginProcess, error, needs_root, plugin_argv, plugin_env, process_list_contains,
    wait_for,
)


def start(ssm, node, **kwargs):
    return ssm.start_session(Target=node.instance_id, **kwargs)


def sessions(ssm, state="Active", **kwargs):
    return ssm.describe_sessions(State=state, **kwargs)["Sessions"]


def run_plugin(args, env=None, stdin=b"", timeout=10):
    return subprocess.run([str(SESSION_MANAGER_PLUGIN), *args], input=stdin, capture_output=True, check=False, timeout=timeout,
                          env=env or dict(os.environ))


# ---------------------------------------------------------------- the API


def test_start_session_needs_an_online_node(ssm_client, managed_node):
    node = managed_node("node-1")
    node.stop()
    for target in (node.instance_id, "mi-0ffffffffffffffff"):
        with pytest.raises(ssm_client.exceptions.TargetNotConnected) as excinfo:
            ssm_client.start_session(Target=target)
        assert error(excinfo) == ("TargetNotConnected", f"{target} is not connected.")


def test_start_describe_resume_terminate(ssm_client, managed_node, clean_endpoint):
    node = managed_node("node-1")
    response = start(ssm_client, node, Reason="maintenance")
    session_id = response["SessionId"]
    assert session_id.startswith("test-") and len(session_id) == len("test-") + 17
    host = clean_endpoint.url.split("//", 1)[1]
    assert response["StreamUrl"] == f"ws://{host}/v1/data-channel/{session_id}?role=publish_subscribe"
    assert len(response["TokenValue"]) >= 100
    [active] = sessions(ssm_client)
    assert (active["SessionId"], active["Target"], active["Status"]) == (session_id, node.instance_id, "Connected")
    assert active["DocumentName"] == "SSM-SessionManagerRunShell" and active["Reason"] == "maintenance"
    assert active["Owner"] == "arn:aws:iam::123456789012:user/test" and "EndDate" not in active
    resumed = ssm_client.resume_session(SessionId=session_id)
    assert resumed["SessionId"] == session_id and resumed["TokenValue"] != response["TokenValue"]
    # the control API the plugin stand-in uses wants one of the session's tokens
    import urllib.error
    import urllib.request

    for token, status in ((resumed["TokenValue"], 200), ("not-the-token", 403)):
        request = urllib.request.Request(f"{clean_endpoint.url}/_fleetops/sessions/{session_id}",
                                         headers={"X-Fleetops-Session-Token": token})
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                assert (answer.status, json.loads(answer.read())["target"]) == (status, node.instance_id)
        except urllib.error.HTTPError as exc:
            assert exc.code == status
    assert ssm_client.terminate_session(SessionId=session_id)["SessionId"] == session_id
    assert sessions(ssm_client) == []
    [old] = sessions(ssm_client, "History")
    assert old["Status"] == "Terminated" and old["EndDate"] >= old["StartDate"]
    with pytest.raises(ssm_client.exceptions.DoesNotExistException):
        ssm_client.resume_session(SessionId=session_id)
    assert ssm_client.terminate_session(SessionId="test-00000000000000000")["SessionId"]  # idempotent, as AWS


def test_describe_sessions_filters(ssm_client, managed_node):
    one, two = managed_node("node-1"), managed_node("node-2")
    first, second = start(ssm_client, one)["SessionId"], start(ssm_client, two)["SessionId"]
    assert [s["SessionId"] for s in sessions(ssm_client)] == [second, first]  # newest first
    assert [s["SessionId"] for s in sessions(ssm_client, Filters=[{"key": "Target", "value": one.instance_id}])] == \
        [first]
    assert [s["SessionId"] for s in sessions(ssm_client, Filters=[{"key": "SessionId", "value": second}])] == [second]
    assert sessions(ssm_client, Filters=[{"key": "Owner", "value": "arn:aws:iam::123456789012:user/other"}]) == []
    assert len(sessions(ssm_client, Filters=[{"key": "InvokedAfter", "value": "2000-01-01T00:00:00Z"}])) == 2
    assert len(sessions(ssm_client, MaxResults=1)) == 1


def test_session_documents(ssm_client, managed_node):
    node = managed_node("node-1")
    with pytest.raises(ssm_client.exceptions.InvalidDocument):
        start(ssm_client, node, DocumentName="No-Such-Session-Document")
    with pytest.raises(ssm_client.exceptions.InvalidDocument):
        start(ssm_client, node, DocumentName="AWS-RunShellScript")  # a Command document
    response = start(ssm_client, node, DocumentName="AWS-StartNonInteractiveCommand",
                     Parameters={"command": ["uname -s"]})
    [active] = sessions(ssm_client, Filters=[{"key": "SessionId", "value": response["SessionId"]}])
    assert active["DocumentName"] == "AWS-StartNonInteractiveCommand"


# ---------------------------------------------------------------- the plugin stand-in: command line


def test_plugin_command_line_contract():
    usage = run_plugin([])
    assert usage.returncode == 0
    assert usage.stdout == (b"\nThe Session Manager plugin was installed successfully. Use the AWS CLI to start a "
                            b"session.\n\n")
    assert run_plugin(["--version"]).stdout == b"1.2.707.0\n"
    old = dict(os.environ, FLEETOPS_SMP_VERSION="1.2.497.0")
    assert run_plugin(["--version"], env=old).stdout == b"1.2.497.0\n"
    unknown = run_plugin(["describe"])
    assert unknown.stdout == (b"\nUnknown operation describe. \nUse session-manager-plugin --version to check the "
                              b"version.\n\n")
    target = json.dumps({"Target": "mi-0123456789abcdef0"})
    bad = run_plugin(["{not json", "us-east-1", "StartSession", "", target, "http://127.0.0.1:1"])
    assert (bad.returncode, bad.stdout) == (0, b"Cannot perform start session: invalid character 'n' looking for "
                                               b"beginning of value\n")
    assert run_plugin(["{}", "us-east-1", "Other", "", target, "x"]).stdout == b"Invalid Operation"
    # An old plugin takes the variable's name for the JSON itself
    named = run_plugin(["AWS_SSM_START_SESSION_RESPONSE", "us-east-1", "StartSession", "", target, "x"],
                       env=dict(old, AWS_SSM_START_SESSION_RESPONSE="{}"))
    assert named.stdout == b"Cannot perform start session: invalid character 'A' looking for beginning of value\n"


# ---------------------------------------------------------------- the plugin stand-in: sessions


@needs_root
def test_shell_session_through_the_environment_variable(ssm_client, managed_node, clean_endpoint):
    node = managed_node("node-1")
    response = start(ssm_client, node)
    plugin = PluginProcess(plugin_argv(node.instance_id, clean_endpoint.url), plugin_env(response))
    try:
        banner = f"\nStarting session with SessionId: {response['SessionId']}\n".encode()
        assert plugin.read_until(banner).startswith(banner)
        assert not process_list_contains(response["TokenValue"])  # not in anybody's argv
        plugin.send(b"id -un; pwd; echo $TERM $LANG $HOME; stty size\n")
        user = node.body["session_user"].encode()
        out = plugin.read_until(b"300\r\n")
        # the raw terminal stream: the terminal's echo of the input, the prompt, \r\n line ends
        assert b"id -un; pwd; echo $TERM $LANG $HOME; stty size\r\n" in out and b"$ " in out
        assert user + b"\r\n/usr/bin\r\nxterm-256color C.UTF-8 /home/" + user + b"\r\n100 300\r\n" in out
        plugin.send(b"exit\n")
        code, out, err = plugin.finish()
        assert code == 0, err
        assert out.endswith(f"\n\nExiting session with sessionId: {response['SessionId']}.\n\n".encode())
    finally:
        plugin.kill()
    [ended] = sessions(ssm_client, "History")
    assert ended["Status"] == "Terminated"


@needs_root
def test_end_of_input_exits_at_once_and_the_shell_stays(ssm_client, managed_node, clean_endpoint):
    node = managed_node("node-1")
    shared = Path(tempfile.mkdtemp(prefix="fleetops-eof-"))  # the session user must be able to write there
    os.chmod(shared, 0o777)
    marker = shared / "after-eof"
    response = start(ssm_client, node)
    plugin = PluginProcess(plugin_argv(node.instance_id, clean_endpoint.url), plugin_env(response))
    try:
        plugin.read_until(b"Starting session")
        plugin.send(b"echo ready\n")
        plugin.read_until(b"ready\r\n")
        plugin.send(f"sleep 0.5; touch {marker}\n".encode())
        plugin.close_stdin()
        code, out, dummy = plugin.finish(timeout=5)
        assert code == 0 and b"Exiting session" not in out  # the real plugin just returns at end of input
    finally:
        plugin.kill()
    wait_for(marker.exists, 5, what="the command typed before end of input to run")  # the shell lived on
    assert [s["Status"] for s in sessions(ssm_client)] == ["Connected"]
    ssm_client.terminate_session(SessionId=response["SessionId"])
    wait_for(lambda: sessions(ssm_client, "History"), 5, what="the session to end")
    shutil.rmtree(shared)


@needs_root
def test_terminate_session_while_connected(ssm_client, managed_node, clean_endpoint):
    node = managed_node("node-1")
    response = start(ssm_client, node)
    plugin = PluginProcess(plugin_argv(node.instance_id, clean_endpoint.url), plugin_env(response))
    try:
        plugin.read_until(b"Starting session")
        plugin.send(b"echo up\n")
        plugin.read_until(b"up\r\n")
        ssm_client.terminate_session(SessionId=response["SessionId"])
        code, out, dummy = plugin.finish(timeout=5)
        assert code == 0
        assert out.endswith(f"\n\nExiting session with sessionId: {response['SessionId']}.\n\n".encode())
    finally:
        plugin.kill()


@needs_root
def test_a_terminated_session_never_connects(ssm_client, managed_node, clean_endpoint):
    """Like the real plugin whose data channel never opens: the banner, then nothing, forever."""
    node = managed_node("node-1")
    response = start(ssm_client, node)
    ssm_client.terminate_session(SessionId=response["SessionId"])
    plugin = PluginProcess(plugin_argv(node.instance_id, clean_endpoint.url), plugin_env(response))
    try:
        plugin.read_until(b"Starting session")
        plugin.send(b"id\n")
        time.sleep(1.0)
        assert plugin.proc.poll() is None
    finally:
        plugin.kill()
    assert plugin.output == f"\nStarting session with SessionId: {response['SessionId']}\n".encode()
    bounded = subprocess.run(plugin_argv(node.instance_id, clean_endpoint.url), capture_output=True, check=False, timeout=10,
                             env=plugin_env(response, FLEETOPS_SMP_HANG_SECONDS="0.5"))
    assert bounded.returncode == 1 and b"never connected" in bounded.stderr


@needs_root
def test_session_when_the_node_went_down_after_start(ssm_client, managed_node, clean_endpoint):
    node = managed_node("node-1")
    response = start(ssm_client, node)
    node.stop()
    hung = subprocess.run(plugin_argv(node.instance_id, clean_endpoint.url), capture_output=True, check=False, timeout=10,
                          env=plugin_env(response, FLEETOPS_SMP_HANG_SECONDS="0.5"))
    assert hung.stdout == f"\nStarting session with SessionId: {response['SessionId']}\n".encode()
    assert hung.returncode == 1


@needs_root
def test_run_as_from_the_preferences_document(ssm_client, managed_node, clean_endpoint):
    node = managed_node("node-1", session_user="root")  # the agent refuses uid 0 for a session user
    response = start(ssm_client, node)
    refused = subprocess.run(plugin_argv(node.instance_id, clean_endpoint.url), capture_output=True, check=False, timeout=10,
                             env=plugin_env(response))
    assert refused.returncode == 0
    assert refused.stdout.endswith(f"\n\nSessionId: {response['SessionId']} : invalid uid and gid\n\n".encode())
    prefs = {"schemaVersion": "1.0", "description": "prefs", "sessionType": "Standard_Stream",
             "inputs": {"runAsEnabled": True, "runAsDefaultUser": "nobody",
                        "shellProfile": {"linux": "echo profile-ran"}}}
    ssm_client.create_document(Name="SSM-SessionManagerRunShell", DocumentType="Session", Content=json.dumps(prefs))
    response = start(ssm_client, node)
    plugin = PluginProcess(plugin_argv(node.instance_id, clean_endpoint.url), plugin_env(response))
    try:
        plugin.read_until(b"profile-ran\r\n")
        plugin.send(b"id -un\n")
        assert plugin.read_until(b"nobody\r\n").endswith(b"$ nobody\r\n")
        plugin.send(b"exit\n")
        assert plugin.finish()[0] == 0
    finally:
        plugin.kill()
    prefs["inputs"] = {"runAsEnabled": True, "runAsDefaultUser": "no-such-user-here"}
    ssm_client.update_document(Name="SSM-SessionManagerRunShell", Content=json.dumps(prefs),
                               DocumentVersion="$LATEST")
    ssm_client.update_document_default_version(Name="SSM-SessionManagerRunShell", DocumentVersion="2")
    response = start(ssm_client, node)
    missing = subprocess.run(plugin_argv(node.instance_id, clean_endpoint.url), capture_output=True, check=False, timeout=10,
                             env=plugin_env(response))
    assert missing.stdout.endswith(f"SessionId: {response['SessionId']} : failed to start pty since RunAs user "
                                   f"no-such-user-here does not exist\n\n".encode())
    [failed] = sessions(ssm_client, "History", Filters=[{"key": "SessionId", "value": response["SessionId"]}])
    assert failed["Status"] == "Failed"


@needs_root
def test_non_interactive_command(ssm_client, managed_node, clean_endpoint):
    node = managed_node("node-1")
    response = start(ssm_client, node, DocumentName="AWS-StartNonInteractiveCommand",
                     Parameters={"command": ["sh -c 'id -un; echo to-stderr >&2; exit 3'"]})
    parameters = {"DocumentName": "AWS-StartNonInteractiveCommand",
                  "Parameters": {"command": ["sh -c 'id -un; echo to-stderr >&2; exit 3'"]}}
    # an old plugin (before 1.2.536.0): the AWS CLI passes the response itself on the command line
    as_json = json.dumps({k: response[k] for k in ("SessionId", "TokenValue", "StreamUrl")})
    plugin = PluginProcess(plugin_argv(node.instance_id, clean_endpoint.url, as_json, parameters=parameters),
                           plugin_env(response, FLEETOPS_SMP_VERSION="1.2.497.0"))
    try:
        code, out, dummy = plugin.finish(timeout=10)
    finally:
        plugin.kill()
    user = node.body["session_user"]
    assert code == 0
    # no terminal: plain \n, stdout and stderr in one stream
    assert out == (f"\nStarting session with SessionId: {response['SessionId']}\n{user}\nto-stderr\n"
                   f"\n\nExiting session with sessionId: {response['SessionId']}.\n\n").encode()
