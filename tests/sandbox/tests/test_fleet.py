"""The sandbox fleet end to end: real nodes booted with systemd-nspawn (run as root).

The tests in the middle share one fleet of two nodes and run in file order: up, checks,
stop/start, reboot, poweroff, down. Bad-input tests need no fleet.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

import pytest

from fleet_testlib import pid_alive, run_fleet

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox fleet needs root"),
    pytest.mark.skipif(shutil.which("systemd-nspawn") is None or shutil.which("debootstrap") is None,
                       reason="systemd-nspawn/debootstrap missing: run tests/sandbox/install-deps.sh"),
]

INSTANCE_ID = re.compile(r"^mi-[0-9a-f]{17}$")


# ----------------------------------------------------------------- helpers
def status(state_dir):
    result = run_fleet("status", "--state-dir", state_dir, "--json", check=True)
    return {n["name"]: n for n in json.loads(result.stdout)["nodes"]}


def node_exec(state_dir, name, *cmd, check=True):
    result = run_fleet("exec", "--state-dir", state_dir, name, "--", *cmd)
    if check:
        assert result.returncode == 0, f"{cmd} in {name}: {result.stdout}{result.stderr}"
    return result


def sandbox_processes(state_dir):
    """Live supervisors and systemd-nspawn processes of the fleet in state_dir."""
    marker = str(state_dir).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(marker in a for a in args) and pid_alive(int(entry.name)) and (
                b"_supervise" in args or os.path.basename(args[0]) == b"systemd-nspawn"):
            found.append((int(entry.name), b" ".join(args).decode(errors="replace")))
    return found


def mounts_under(path):
    prefix = str(path)
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        return [line.split()[4] for line in f if line.split()[4].startswith(prefix)]


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def assert_nothing_left(state_dir):
    assert not sandbox_processes(state_dir)
    assert not mounts_under(state_dir)
    assert not Path(state_dir).exists() or not any(Path(state_dir).iterdir())


# ----------------------------------------------------------------- bad input
def test_missing_nspawn_is_named_with_its_package(tmp_path):
    # A PATH with every tool the fleet uses except systemd-nspawn.
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name in ("debootstrap", "nsenter", "mount", "umount", "apt-config", "du", "cp", "rm"):
        if shutil.which(name):
            (bindir / name).symlink_to(shutil.which(name))
    result = run_fleet("up", "-n", "1", "--state-dir", tmp_path / "state", env={"PATH": str(bindir)})
    assert result.returncode != 0
    assert "systemd-nspawn is missing" in result.stderr
    assert "apt-get install -y systemd-container" in result.stderr
    assert not (tmp_path / "state" / "nodes").exists()


def test_missing_debootstrap_is_named_when_the_rootfs_must_be_built(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name in ("systemd-nspawn", "nsenter", "mount", "umount", "apt-config"):
        (bindir / name).symlink_to(shutil.which(name))
    env = {"PATH": str(bindir), "FLEETOPS_CACHE": str(tmp_path / "cache")}  # no rootfs there
    for args in (("up", "-n", "1", "--state-dir", tmp_path / "state"), ("rootfs",)):
        result = run_fleet(*args, env=env)
        assert result.returncode != 0
        assert "debootstrap is missing" in result.stderr
        assert "apt-get install -y debootstrap" in result.stderr


def test_non_root_is_refused(tmp_path):
    for args in (("up", "--state-dir", tmp_path), ("down", "--state-dir", tmp_path), ("rootfs",),
                 ("stop", "node-1", "--state-dir", tmp_path)):
        result = run_fleet(*args, env={"FLEETOPS_SANDBOX_ASSUME_UID": "1000"})
        assert result.returncode != 0
        assert "must run as root" in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_not_enough_disk_space_is_reported(tmp_path):
    result = run_fleet("up", "-n", "2", "--state-dir", tmp_path / "state",
                       env={"FLEETOPS_SANDBOX_NODE_MB": str(10 ** 9)})
    assert result.returncode != 0
    assert "not enough free disk space" in result.stderr
    assert "2 nodes" in result.stderr


def test_bad_tag_and_unknown_node(tmp_path):
    result = run_fleet("up", "--state-dir", tmp_path, "--tags", "novalue")
    assert result.returncode != 0 and "bad tag 'novalue'" in result.stderr
    result = run_fleet("exec", "--state-dir", tmp_path, "node-9", "--", "true")
    assert result.returncode != 0 and "no node 'node-9'" in result.stderr


def test_down_without_fleet_is_a_no_op(tmp_path):
    result = run_fleet("down", "--state-dir", tmp_path / "none")
    assert result.returncode == 0
    assert "nothing to do" in result.stdout


def test_partly_started_fleet_is_torn_down(tmp_path):
    state = tmp_path / "state"
    result = run_fleet("up", "-n", "2", "--state-dir", state,
                       env={"FLEETOPS_SANDBOX_FAIL_NODES": "node-2"}, timeout=180)
    assert result.returncode != 0
    assert "did not come up (node-2)" in result.stderr
    assert "torn down" in result.stderr
    assert_nothing_left(state)


def test_copy_fallback_disk(tmp_path):
    state = tmp_path / "state"
    try:
        result = run_fleet("up", "-n", "1", "--state-dir", state,
                           env={"FLEETOPS_SANDBOX_DISK": "copy"}, timeout=180)
        assert result.returncode == 0, result.stderr
        node = status(state)["node-1"]
        assert node["disk"] == "copy" and node["state"] == "running"
        assert node_exec(state, "node-1", "hostname").stdout.strip() == "node-1"
    finally:
        down = run_fleet("down", "--state-dir", state)
    assert down.returncode == 0, down.stderr
    assert_nothing_left(state)


# ----------------------------------------------------------------- one fleet, in order
@pytest.fixture(scope="module")
def fleet(tmp_path_factory, recorder):
    state = tmp_path_factory.mktemp("fleet") / "state"
    result = run_fleet("up", "-n", "2", "--state-dir", state, "--endpoint", recorder.url,
                       "--tags", "Owner=tests", "Team=fleet ops", timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "timing:" in result.stdout
    yield state
    run_fleet("down", "--state-dir", state)  # in case test_down did not run


def test_nodes_boot_to_running(fleet):
    nodes = status(fleet)
    assert sorted(nodes) == ["node-1", "node-2"]
    for name, node in nodes.items():
        assert node["state"] == "running"
        assert INSTANCE_ID.match(node["instance_id"])
        assert pid_alive(node["leader_pid"]) and pid_alive(node["nspawn_pid"])
        assert node["ip_address"] == "127.0.0.1"
        assert node["disk"] == "overlay"
        system_state = node_exec(fleet, name, "systemctl", "is-system-running", check=False)
        failed = node_exec(fleet, name, "systemctl", "--failed", "--no-legend", "--plain", check=False)
        assert system_state.stdout.strip() == "running", failed.stdout
    ls = run_fleet("ls", "--state-dir", fleet, check=True).stdout
    assert re.search(r"mi-[0-9a-f]{17}\s+node-1\s+running\s+Debian GNU/Linux 12\s+127\.0\.0\.1\s+\d+", ls)


def test_exec_in_a_node(fleet):
    assert node_exec(fleet, "node-1", "hostname").stdout.strip() == "node-1"
    assert node_exec(fleet, "node-2", "hostname").stdout.strip() == "node-2"
    assert "Python 3" in node_exec(fleet, "node-1", "python3", "--version").stdout
    assert "uid=" in node_exec(fleet, "node-1", "id", "ssm-user").stdout
    node_exec(fleet, "node-1", "sudo", "-n", "-u", "ssm-user", "sudo", "-n", "true")
    passwd = node_exec(fleet, "node-1", "getent", "passwd", "ssm-user").stdout
    assert passwd.split(":")[5] == "/home/ssm-user"
    sudoers = node_exec(fleet, "node-1", "cat", "/etc/sudoers.d/ssm-agent-users").stdout
    assert "ssm-user ALL=(ALL) NOPASSWD:ALL" in sudoers
    node_exec(fleet, "node-1", "sh", "-c", "command -v script curl ps ip less")
    assert node_exec(fleet, "node-1", "false", check=False).returncode == 1


def test_apt_sources_have_updates_and_security(fleet):
    sources = node_exec(fleet, "node-1", "sh", "-c", "cat /etc/apt/sources.list.d/*.sources").stdout
    assert re.search(r"^Suites:.*\bbookworm\b.*\bbookworm-updates\b", sources, re.M)
    assert re.search(r"^Suites:\s*bookworm-security\s*$", sources, re.M)
    # The base rootfs carries no package lists; after an update there is something to patch.
    node_exec(fleet, "node-2", "apt-get", "update", "-qq")
    upgradable = node_exec(fleet, "node-2", "apt", "list", "--upgradable").stdout
    assert "[upgradable from:" in upgradable


def test_registration_on_up(fleet, recorder):
    posts = recorder.take("POST")
    assert sorted(c["body"]["name"] for c in posts) == ["node-1", "node-2"]
    nodes = status(fleet)
    os_release = node_exec(fleet, "node-1", "cat", "/etc/os-release").stdout
    name = re.search(r'^NAME="?([^"\n]*)', os_release, re.M).group(1)
    version = re.search(r'^VERSION_ID="?([^"\n]*)', os_release, re.M).group(1)
    for call in posts:
        body = call["body"]
        node = nodes[body["name"]]
        assert call["path"] == "/_fleetops/nodes"
        assert INSTANCE_ID.match(body["instance_id"]) and body["instance_id"] == node["instance_id"]
        assert body["resource_type"] == "ManagedInstance"
        assert body["computer_name"] == body["name"]
        assert body["ip_address"] == "127.0.0.1"
        assert body["platform_type"] == "Linux"
        assert (body["platform_name"], body["platform_version"]) == (name, version)
        assert body["agent_version"] == "3.3.0.0"
        assert body["region"] == "us-east-1"
        assert body["leader_pid"] == node["leader_pid"] and call["leader_alive"] is True
        assert Path(body["root"], "etc/os-release").exists()
        index = int(body["name"].split("-")[1])
        assert body["tags"] == {"Name": body["name"], "Environment": "sandbox",
                                "Patch Group": "sandbox-" + ("a" if index % 2 else "b"),
                                "Owner": "tests", "Team": "fleet ops"}
    assert not recorder.take("DELETE")


def test_stop_and_start_one_node(fleet, recorder):
    before = status(fleet)["node-2"]
    result = run_fleet("stop", "--state-dir", fleet, "node-2")
    assert result.returncode == 0, result.stderr
    after = status(fleet)
    assert after["node-2"]["state"] == "stopped" and after["node-2"]["leader_pid"] is None
    assert after["node-1"]["state"] == "running"
    for key in ("leader_pid", "nspawn_pid", "supervisor_pid"):
        assert not pid_alive(before[key]), key
    assert not mounts_under(Path(fleet) / "nodes" / "node-2")
    recorded = json.loads((Path(fleet) / "nodes/node-2/node.json").read_text(encoding="utf-8"))
    assert recorded["state"] == "stopped"
    posts = recorder.take("POST")
    assert len(posts) == 1 and posts[0]["body"]["leader_pid"] is None
    assert posts[0]["body"]["instance_id"] == before["instance_id"]
    assert node_exec(fleet, "node-2", "true", check=False).returncode != 0

    recorder.status = 404  # an endpoint without the nodes API yet: a warning, no failure
    try:
        result = run_fleet("start", "--state-dir", fleet, "node-2")
    finally:
        recorder.status = 200
    assert result.returncode == 0, result.stderr
    assert "404" in result.stderr and "warning" in result.stderr
    node = status(fleet)["node-2"]
    assert node["state"] == "running" and node["leader_pid"] != before["leader_pid"]
    assert node["instance_id"] == before["instance_id"]
    assert node_exec(fleet, "node-2", "hostname").stdout.strip() == "node-2"
    posts = recorder.take("POST")
    assert len(posts) == 1 and posts[0]["body"]["leader_pid"] == node["leader_pid"]


def test_reboot_inside_a_node(fleet, recorder):
    before = status(fleet)["node-1"]
    node_exec(fleet, "node-1", "sh", "-c", "echo kept > /root/before-reboot")
    node_exec(fleet, "node-1", "reboot", check=False)  # the connection may drop: no check

    def rebooted():
        node = status(fleet)["node-1"]
        return node if node["state"] == "running" and node["leader_pid"] != before["leader_pid"] else None

    node = wait_for(rebooted, 60, "node-1 to come back after reboot")
    assert node["instance_id"] == before["instance_id"]
    assert node["boot_count"] == before["boot_count"] + 1
    assert not pid_alive(before["leader_pid"])
    assert node_exec(fleet, "node-1", "cat", "/root/before-reboot").stdout.strip() == "kept"
    assert node_exec(fleet, "node-1", "systemctl", "is-system-running").stdout.strip() == "running"
    posts = wait_for(lambda: recorder.take("POST"), 10, "the registration after reboot")
    assert posts[-1]["body"]["leader_pid"] == node["leader_pid"] and posts[-1]["leader_alive"]
    assert posts[-1]["body"]["instance_id"] == before["instance_id"]


def test_poweroff_inside_a_node(fleet, recorder):
    before = status(fleet)["node-2"]
    node_exec(fleet, "node-2", "poweroff", check=False)
    wait_for(lambda: status(fleet)["node-2"]["state"] == "stopped", 30, "node-2 to power off")
    wait_for(lambda: not pid_alive(before["supervisor_pid"]), 10, "node-2's supervisor to exit")
    posts = wait_for(lambda: recorder.take("POST"), 10, "the connection-lost registration")
    assert posts[-1]["body"]["leader_pid"] is None
    assert not mounts_under(Path(fleet) / "nodes" / "node-2")


def test_down_removes_everything(fleet, recorder):
    ids = sorted(n["instance_id"] for n in status(fleet).values())
    assert sandbox_processes(fleet)  # node-1 still runs
    result = run_fleet("down", "--state-dir", fleet)
    assert result.returncode == 0, result.stderr
    assert "no process and no mount left" in result.stdout
    assert_nothing_left(fleet)
    deletes = recorder.take("DELETE")
    assert sorted(c["path"] for c in deletes) == [f"/_fleetops/nodes/{i}" for i in ids]
    again = run_fleet("down", "--state-dir", fleet)
    assert again.returncode == 0


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-v"]))
