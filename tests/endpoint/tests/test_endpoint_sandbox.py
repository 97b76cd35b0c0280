"""The endpoint with real nodes: the sandbox fleet (tests/sandbox/fleet, Debian under systemd-nspawn).

Skipped unless run as root with the fleet's tools present.  The module brings up two nodes
registered with an endpoint of its own (``ssm-endpoint start``), and the tests run in order:
commands, a session, a stopped node, a reboot, and finally ``fleet down``.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from fleet_helpers import PluginProcess, error, plugin_argv, plugin_env, run_shell, wait_command, wait_for, \
    wait_invocation

ENDPOINT_DIR = Path(__file__).resolve().parent.parent
FLEET = ENDPOINT_DIR.parent / "sandbox" / "fleet"

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox fleet needs root"),
    pytest.mark.skipif(not FLEET.exists(), reason="tests/sandbox/fleet is not there"),
    pytest.mark.skipif(not shutil.which("systemd-nspawn") or not shutil.which("nsenter"),
                       reason="systemd-nspawn / nsenter are missing (tests/sandbox/install-deps.sh)"),
]


def run(argv, timeout=180, check=True, **kwargs):
    result = subprocess.run([str(a) for a in argv], capture_output=True, check=False, text=True, timeout=timeout, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"{argv} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def sandbox():
    """Two sandbox nodes registered with a fresh endpoint process; everything is torn down after."""
    state = Path(tempfile.mkdtemp(prefix="fleetops-sandbox-test-"))
    env = dict(os.environ, PYTHON=sys.executable)
    env.pop("PYTHONPATH", None)
    endpoint_dir, fleet_dir = state / "endpoint", state / "fleet"
    url = run([ENDPOINT_DIR / "ssm-endpoint", "start", "--state-dir", endpoint_dir], env=env).stdout.strip()
    try:
        up = run([FLEET, "up", "-n", "2", "--state-dir", fleet_dir, "--endpoint", url], timeout=600, check=False)
        if up.returncode != 0:
            pytest.skip(f"the sandbox fleet did not come up:\n{up.stdout}\n{up.stderr}")
        session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                        region_name="us-east-1")
        ssm = session.client("ssm", endpoint_url=url, config=Config(retries={"total_max_attempts": 1}))
        nodes = json.loads(run([FLEET, "ls", "--state-dir", fleet_dir, "--json"]).stdout)["nodes"]
        yield {"url": url, "ssm": ssm, "fleet_dir": fleet_dir, "env": env, "state": state,
               "ids": {n["name"]: n["instance_id"] for n in nodes}}
    finally:
        run([FLEET, "down", "--state-dir", fleet_dir], timeout=300, check=False)
        run([ENDPOINT_DIR / "ssm-endpoint", "stop", "--state-dir", endpoint_dir], env=env, check=False)
        shutil.rmtree(state, ignore_errors=True)


def control(sandbox, method, path, body=None):
    import urllib.request

    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(sandbox["url"] + "/_fleetops" + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=10) as response:
        return json.loads(response.read())


def ping(sandbox, name):
    ssm, iid = sandbox["ssm"], sandbox["ids"][name]
    found = ssm.describe_instance_information(Filters=[{"Key": "InstanceIds", "Values": [iid]}])
    return [i["PingStatus"] for i in found["InstanceInformationList"]]


def test_nodes_are_registered_and_online(sandbox):
    ssm = sandbox["ssm"]
    infos = {i["InstanceId"]: i for i in ssm.describe_instance_information()["InstanceInformationList"]}
    assert set(infos) == set(sandbox["ids"].values())
    for name, iid in sandbox["ids"].items():
        info = infos[iid]
        assert (info["PingStatus"], info["Name"], info["ComputerName"]) == ("Online", name, name)
        assert (info["PlatformName"], info["PlatformVersion"], info["ResourceType"]) == \
            ("Debian GNU/Linux", "12", "ManagedInstance")
        tags = {t["Key"]: t["Value"] for t in
                ssm.list_tags_for_resource(ResourceType="ManagedInstance", ResourceId=iid)["TagList"]}
        assert tags["Name"] == name and tags["Environment"] == "sandbox" and tags["Patch Group"].startswith("sandbox-")
    fleet = run([ENDPOINT_DIR / "ssm-endpoint", "fleet", "--url", sandbox["url"]], env=sandbox["env"]).stdout
    assert all(iid in fleet for iid in sandbox["ids"].values()) and "Online" in fleet


def test_run_command_on_the_nodes(sandbox):
    ssm, ids = sandbox["ssm"], sandbox["ids"]
    script = ["hostname", "id -un", ". /etc/os-release; echo $VERSION_ID", "pwd", "tty || true"]
    command_id = run_shell(ssm, list(ids.values()), script)
    for name, iid in ids.items():
        inv = wait_invocation(ssm, command_id, iid)
        assert (inv["Status"], inv["ResponseCode"]) == ("Success", 0)
        assert inv["StandardOutputContent"] == f"{name}\nroot\n12\n/usr/bin\nnot a tty\n"
    assert wait_command(ssm, command_id)["Status"] == "Success"
    failing = run_shell(ssm, [ids["node-1"]], ["echo to-stderr >&2", "exit 7"])
    inv = wait_invocation(ssm, failing, ids["node-1"])
    assert (inv["Status"], inv["ResponseCode"]) == ("Failed", 7)
    assert inv["StandardErrorContent"] == "to-stderr\nfailed to run commands: exit status 7"
    slow = run_shell(ssm, [ids["node-2"]], ["sleep 60"], parameters={"executionTimeout": ["5"]})
    inv = wait_invocation(ssm, slow, ids["node-2"], timeout=30)
    assert (inv["Status"], inv["StatusDetails"], inv["ResponseCode"]) == ("TimedOut", "ExecutionTimedOut", 137)
    leftover = run([FLEET, "exec", "node-2", "--state-dir", sandbox["fleet_dir"], "--", "pgrep", "-x", "sleep"],
                   check=False)
    assert leftover.returncode == 1, leftover.stdout  # the timeout killed the script's processes


def test_shell_session_as_ssm_user(sandbox):
    ssm, iid = sandbox["ssm"], sandbox["ids"]["node-1"]
    response = ssm.start_session(Target=iid)
    plugin = PluginProcess(plugin_argv(iid, sandbox["url"]), plugin_env(response))
    try:
        plugin.read_until(f"Starting session with SessionId: {response['SessionId']}\n".encode())
        plugin.send(b"id -un; sudo -n true && echo sudo-works; hostname; tty; pwd\n")
        out = plugin.read_until(b"/usr/bin\r\n", timeout=20)
        assert b"ssm-user\r\nsudo-works\r\nnode-1\r\n/dev/pts/" in out
        plugin.send(b"exit\n")
        code, out, dummy = plugin.finish(timeout=20)
        assert code == 0
        assert out.endswith(f"\n\nExiting session with sessionId: {response['SessionId']}.\n\n".encode())
    finally:
        plugin.kill()


def test_a_stopped_node(sandbox):
    ssm, iid = sandbox["ssm"], sandbox["ids"]["node-2"]
    run([FLEET, "stop", "node-2", "--state-dir", sandbox["fleet_dir"]])
    assert ping(sandbox, "node-2") == ["ConnectionLost"]
    with pytest.raises(ssm.exceptions.TargetNotConnected) as excinfo:
        ssm.start_session(Target=iid)
    assert error(excinfo)[1] == f"{iid} is not connected."
    control(sandbox, "POST", "/settings", {"delivery_timeout_cap_seconds": 2})
    command_id = run_shell(ssm, [iid], ["echo never"], TimeoutSeconds=30)
    inv = wait_invocation(ssm, command_id, iid, timeout=20)
    assert (inv["Status"], inv["StatusDetails"], inv["ResponseCode"]) == ("TimedOut", "DeliveryTimedOut", -1)
    control(sandbox, "DELETE", "/settings")
    run([FLEET, "start", "node-2", "--state-dir", sandbox["fleet_dir"]])
    assert ping(sandbox, "node-2") == ["Online"]
    again = run_shell(ssm, [iid], ["echo back"])
    assert wait_invocation(ssm, again, iid)["StandardOutputContent"] == "back\n"


def test_reboot(sandbox):
    ssm, iid = sandbox["ssm"], sandbox["ids"]["node-1"]
    before = control(sandbox, "GET", f"/nodes/{iid}")["node"]
    run([FLEET, "exec", "node-1", "--state-dir", sandbox["fleet_dir"], "--", "systemctl", "reboot"], check=False)

    def rebooted():
        node = control(sandbox, "GET", f"/nodes/{iid}")["node"]
        return node if node["leader_pid"] != before["leader_pid"] and node["ping_status"] == "Online" else None

    after = wait_for(rebooted, 120, interval=0.5, what="node-1 to come back from its reboot")
    assert after["registration_date"] == before["registration_date"]
    assert ping(sandbox, "node-1") == ["Online"]
    command_id = run_shell(ssm, [iid], ["cat /proc/1/comm"])
    assert wait_invocation(ssm, command_id, iid)["StandardOutputContent"] == "systemd\n"


def test_fleet_down_leaves_nothing(sandbox):
    run([FLEET, "down", "--state-dir", sandbox["fleet_dir"]], timeout=300)
    ssm = sandbox["ssm"]
    assert ssm.describe_instance_information()["InstanceInformationList"] == []
    assert control(sandbox, "GET", "/nodes")["nodes"] == []
