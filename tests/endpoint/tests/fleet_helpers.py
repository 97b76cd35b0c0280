"""Helpers shared by the tests of managed nodes, sessions and Run Command."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError

from fleetops_endpoint.pytest_plugin import SESSION_MANAGER_PLUGIN

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="nsenter into a node needs root")
TERMINAL = ("Success", "Failed", "TimedOut", "Cancelled")


def wait_for(check: Callable[[], Any], timeout: float = 15.0, interval: float = 0.1, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


def error(excinfo) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err.get("Message", "")


def wait_invocation(ssm, command_id: str, instance_id: str, timeout: float = 20.0, **extra: Any) -> dict:
    def done():
        found = ssm.get_command_invocation(CommandId=command_id, InstanceId=instance_id, **extra)
        return found if found["Status"] in TERMINAL else None

    return wait_for(done, timeout, what=f"invocation {command_id} on {instance_id}")


def wait_command(ssm, command_id: str, timeout: float = 20.0) -> dict:
    def done():
        found = ssm.list_commands(CommandId=command_id)["Commands"][0]
        return found if found["Status"] in TERMINAL else None

    return wait_for(done, timeout, what=f"command {command_id}")


def run_shell(ssm, instance_ids: list[str], commands: list[str], **kwargs: Any) -> str:
    parameters = {"commands": commands, **kwargs.pop("parameters", {})}
    sent = ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=instance_ids, Parameters=parameters,
                            **kwargs)
    return sent["Command"]["CommandId"]


# --------------------------------------------------------------------------
# the plugin stand-in


def plugin_env(response: dict, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["AWS_SSM_START_SESSION_RESPONSE"] = json.dumps(
        {k: response[k] for k in ("SessionId", "TokenValue", "StreamUrl")})
    env["PYTHON"] = sys.executable
    env.update(extra)
    return env


def plugin_argv(target: str, endpoint_url: str, response_arg: str = "AWS_SSM_START_SESSION_RESPONSE",
                parameters: dict | None = None) -> list[str]:
    request = {"Target": target, **(parameters or {})}
    return [str(SESSION_MANAGER_PLUGIN), response_arg, "us-east-1", "StartSession", "", json.dumps(request),
            endpoint_url]


class PluginProcess:
    """The stand-in plugin with pipes, read incrementally."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=env)
        self.output = b""

    def send(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def close_stdin(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()

    def read_until(self, needle: bytes, timeout: float = 10.0) -> bytes:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while needle not in self.output:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{needle!r} not seen in {self.output!r}")
            ready, dummy, dummy = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise AssertionError(f"output ended before {needle!r}: {self.output!r}")
                self.output += chunk
        return self.output

    def finish(self, timeout: float = 10.0) -> tuple[int, bytes, bytes]:
        assert self.proc.stdout is not None and self.proc.stderr is not None
        code = self.proc.wait(timeout=timeout)
        self.output += self.proc.stdout.read()
        return code, self.output, self.proc.stderr.read()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def process_list_contains(secret: str) -> bool:
    """True when ``secret`` appears in the command line of any process."""
    needle = secret.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                if needle in fh.read():
                    return True
        except OSError:
            continue
    return False


# --------------------------------------------------------------------------
# every new operation, for the shape test


def exercise_fleet_operations(ssm) -> None:
    """Calls the managed-node, session and Run Command operations (successes and typical errors)."""
    from fleetops_endpoint.ssm.nodes import NODES, SETTINGS

    leader = subprocess.Popen(["sleep", "600"], stdin=subprocess.DEVNULL)
    gone = subprocess.Popen(["true"])
    gone.wait()
    state_dir = f"/tmp/fleetops-shape-{os.getpid()}"
    online_id, offline_id = "mi-0aaaaaaaaaaaaaaa1", "mi-0aaaaaaaaaaaaaaa2"
    try:
        for iid, pid in ((online_id, leader.pid), (offline_id, gone.pid)):
            NODES.register({"instance_id": iid, "name": iid, "ip_address": "127.0.0.1", "leader_pid": pid,
                            "tags": {"Name": iid}, "platform_name": "Debian GNU/Linux", "platform_version": "12",
                            "agent_state_dir": state_dir, "session_user": "nobody"})
        SETTINGS.update({"delivery_timeout_cap_seconds": 0.2})
        ssm.describe_instance_information(MaxResults=5)
        ssm.describe_instance_information(Filters=[{"Key": "tag:Name", "Values": [online_id]}])
        ssm.describe_instance_information(
            InstanceInformationFilterList=[{"key": "PingStatus", "valueSet": ["ConnectionLost"]}])
        ssm.add_tags_to_resource(ResourceType="ManagedInstance", ResourceId=online_id,
                                 Tags=[{"Key": "Role", "Value": "web"}])
        ssm.list_tags_for_resource(ResourceType="ManagedInstance", ResourceId=online_id)
        ssm.remove_tags_from_resource(ResourceType="ManagedInstance", ResourceId=online_id, TagKeys=["Role"])
        ssm.get_connection_status(Target=online_id)
        session = ssm.start_session(Target=online_id, Reason="shape test")
        ssm.describe_sessions(State="Active", Filters=[{"key": "Target", "value": online_id}])
        ssm.resume_session(SessionId=session["SessionId"])
        ssm.terminate_session(SessionId=session["SessionId"])
        ssm.describe_sessions(State="History")
        ran = ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[online_id, offline_id],
                               Parameters={"commands": ["echo shape", "echo err >&2"]}, Comment="shape",
                               MaxErrors="100%")["Command"]
        command_id = ran["CommandId"]
        ssm.get_command_invocation(CommandId=command_id, InstanceId=online_id)
        wait_command(ssm, command_id)
        ssm.list_commands(CommandId=command_id)
        ssm.list_commands(Filters=[{"key": "ExecutionStage", "value": "Complete"}], MaxResults=1)
        ssm.list_command_invocations(CommandId=command_id, Details=True)
        ssm.get_command_invocation(CommandId=command_id, InstanceId=online_id)
        ssm.get_command_invocation(CommandId=command_id, InstanceId=offline_id)
        slow = ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[online_id],
                                Parameters={"commands": ["sleep 20"]})["Command"]["CommandId"]
        ssm.cancel_command(CommandId=slow)
        wait_command(ssm, slow)
        ssm.list_command_invocations(CommandId=slow, Details=True)
        for call in (
            lambda: ssm.describe_instance_information(Filters=[{"Key": "Bogus", "Values": ["x"]}]),
            lambda: ssm.describe_instance_information(Filters=[{"Key": "PingStatus", "Values": ["Sleeping"]}]),
            lambda: ssm.describe_instance_information(Filters=[{"Key": "tag:Name", "Values": ["x"]},
                                                               {"Key": "PingStatus", "Values": ["Online"]}]),
            lambda: ssm.list_tags_for_resource(ResourceType="ManagedInstance", ResourceId="mi-0bbbbbbbbbbbbbbb1"),
            lambda: ssm.start_session(Target=offline_id),
            lambda: ssm.resume_session(SessionId=session["SessionId"]),
            lambda: ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=["mi-0bbbbbbbbbbbbbbb1"],
                                     Parameters={"commands": ["true"]}),
            lambda: ssm.send_command(DocumentName="No-Such-Document", InstanceIds=[online_id]),
            lambda: ssm.get_command_invocation(CommandId=command_id, InstanceId="mi-0bbbbbbbbbbbbbbb1"),
            lambda: ssm.list_command_invocations(CommandId="00000000-0000-0000-0000-000000000000"),
            lambda: ssm.cancel_command(CommandId="00000000-0000-0000-0000-000000000000"),
        ):
            with pytest.raises(ClientError):
                call()
    finally:
        SETTINGS.reset()
        for iid in (online_id, offline_id):
            NODES.deregister(iid)
        leader.kill()
        leader.wait()
        subprocess.run(["rm", "-rf", state_dir], check=False)
