# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The session helper in this process: plugin version and token mode, start, commands, liveness.

The SSM API is ``FakeSSM`` on 127.0.0.1 and ``session-manager-plugin`` is a stand-in that runs
a real shell on a pty, so the helper drives the real protocol.
"""

from __future__ import annotations

import base64
import json
import os
import random
import signal
import stat
import subprocess
import sys
import threading
import time

import pytest

from ansible_collections.fleetops.ssm.plugins.plugin_utils import _session_helper as helper_module
from ansible_collections.fleetops.ssm.plugins.plugin_utils import _session_protocol as protocol
from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_helper import CommandTimeout
from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_helper import Helper
from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_helper import SessionDead
from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_helper import StartFailed
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import INSTANCE_ID
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import NEW_VERSION
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import OLD_VERSION
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import REGION
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import SECRET_KEY
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import helper_config
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import pid_alive
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import plugin_records
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import shells
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import version_script
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import wait_for
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import within
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import write_fake_plugin

SHELLS = shells()


@pytest.fixture
def make_helper(fake_ssm, tmp_path, short_dir, node_home):
    """Returns make(version=..., mode=..., shell=..., **cfg overrides) -> (helper, plugin record file)."""
    made = []
    bindir = tmp_path / "bin"
    bindir.mkdir()

    def make(version=NEW_VERSION, mode="pty", shell=None, home=None, **overrides):
        plugin, record = write_fake_plugin(str(bindir), fake_ssm.state_dir, home or node_home, shell=shell,
                                           version=version, mode=mode)
        helper = Helper(helper_config(fake_ssm, plugin, short_dir, **overrides))
        made.append(helper)
        return helper, record

    yield make
    for helper in made:
        helper.shutdown()


def run(helper, cmd, data=None, timeout=None):
    """What the helper does for one task's request (see Helper.handle)."""
    marker = protocol.new_marker()
    events = []
    request = protocol.build_request(cmd, marker, data, timeout) if timeout else protocol.build_request(cmd, marker, data)
    rc = helper.run(request, marker, events.append, timeout)
    out = b"".join(p for k, p in events if k == "O")
    err = b"".join(p for k, p in events if k == "E")
    return rc, out, err


def plugin_pid(record):
    return plugin_records(record)[-1]["pid"]


class TestPluginVersion:
    def test_version_of_a_fake_binary(self, tmp_path, fake_ssm, short_dir):
        binary = version_script(str(tmp_path / "smp"), "1.2.707.0")

        assert Helper(helper_config(fake_ssm, binary, short_dir)).plugin_version() == "1.2.707.0"

    @pytest.mark.parametrize("output, rc", [("", 0), ("Session Manager plugin", 0), ("1.2.707.0", 1)],
                             ids=["nothing", "not-a-version", "failing"])
    def test_a_binary_that_gives_no_version(self, tmp_path, fake_ssm, short_dir, output, rc):
        binary = version_script(str(tmp_path / "smp"), output, rc)

        with pytest.raises(StartFailed) as raised:
            Helper(helper_config(fake_ssm, binary, short_dir)).plugin_version()

        assert "--version" in raised.value.msg
        assert raised.value.unreachable is False

    def test_a_binary_that_cannot_run(self, tmp_path, fake_ssm, short_dir):
        with pytest.raises(StartFailed) as raised:
            Helper(helper_config(fake_ssm, str(tmp_path / "missing"), short_dir)).plugin_version()

        assert raised.value.unreachable is False
        assert fake_ssm.count("StartSession") == 0


class TestTokenMode:
    def test_newer_plugins_get_the_response_in_the_environment(self, make_helper, fake_ssm):
        helper, record = make_helper(version=NEW_VERSION)

        helper.start()

        launch = plugin_records(record)[-1]
        token = fake_ssm.token_values[-1]
        assert launch["via"] == "env"
        assert launch["argv"][1] == "AWS_SSM_START_SESSION_RESPONSE"
        assert launch["response"]["TokenValue"] == token
        assert launch["response"]["SessionId"] == helper.session_id
        assert token not in json.dumps(launch["argv"])
        assert helper.warnings == []

    def test_older_plugins_get_it_on_the_command_line_with_a_warning(self, make_helper, fake_ssm):
        helper, record = make_helper(version=OLD_VERSION)

        helper.start()

        launch = plugin_records(record)[-1]
        assert launch["via"] == "argv"
        assert json.loads(launch["argv"][1])["TokenValue"] == fake_ssm.token_values[-1]
        assert launch["env_set"] is False
        assert len(helper.warnings) == 1
        assert "process list" in helper.warnings[0]
        assert OLD_VERSION in helper.warnings[0]

    def test_command_line_of_the_plugin(self, make_helper, fake_ssm):
        helper, record = make_helper(document_name="Ops-RunAsDeploy")

        helper.start()

        argv = plugin_records(record)[-1]["argv"]
        assert argv[2:5] == [REGION, "StartSession", ""]
        assert json.loads(argv[5]) == {"Target": INSTANCE_ID, "DocumentName": "Ops-RunAsDeploy"}
        assert argv[6].rstrip("/") == fake_ssm.url
        assert fake_ssm.requests("StartSession") == [{"Target": INSTANCE_ID, "DocumentName": "Ops-RunAsDeploy"}]

    def test_credentials_never_reach_the_plugin_command_line(self, make_helper):
        helper, record = make_helper()

        helper.start()

        assert SECRET_KEY not in json.dumps(plugin_records(record)[-1]["argv"])


class TestStart:
    @pytest.mark.parametrize("shell", SHELLS, ids=[s[0] for s in SHELLS])
    def test_start_then_commands_through_the_real_shell(self, make_helper, fake_ssm, shell):
        helper, dummy = make_helper(shell=shell[1:])

        helper.start()

        assert fake_ssm.count("StartSession") == 1
        assert run(helper, "printf 'a\\000b\\r\\n'; echo err >&2; exit 3") == (3, b"a\x00b\r\n", b"err\n")
        assert run(helper, "cat", b"\x00\xff\r\n" * 5000) == (0, b"\x00\xff\r\n" * 5000, b"")
        for rc in (0, 1, 2, 127, 255):
            assert run(helper, "exit %d" % rc)[0] == rc

    def test_start_session_refused_because_the_node_is_offline(self, make_helper, fake_ssm):
        fake_ssm.start_error = (400, "TargetNotConnected", "i-0123456789abcdef0 is not connected.")
        helper, record = make_helper()

        with pytest.raises(StartFailed) as raised:
            helper.start()

        assert "TargetNotConnected" in raised.value.msg
        assert raised.value.unreachable is True
        assert plugin_records(record) == []

    def test_start_session_denied_is_not_unreachable(self, make_helper, fake_ssm):
        fake_ssm.start_error = (400, "AccessDeniedException", "not authorized to perform: ssm:StartSession")
        helper, dummy = make_helper()

        with pytest.raises(StartFailed) as raised:
            helper.start()

        assert "AccessDeniedException" in raised.value.msg
        assert raised.value.unreachable is False

    def test_plugin_exits_before_the_shell_is_ready(self, make_helper, fake_ssm):
        helper, dummy = make_helper(mode="fail")

        with pytest.raises(StartFailed) as raised:
            within(20, helper.start)

        assert "exited" in raised.value.msg
        assert "data channel could not be opened" in raised.value.msg  # what the plugin said
        assert fake_ssm.active() == []  # the session is not left behind

    def test_no_shell_within_the_start_timeout(self, make_helper, fake_ssm):
        helper, record = make_helper(mode="hang", session_start_timeout=2)
        started = time.monotonic()

        with pytest.raises(StartFailed) as raised:
            within(20, helper.start)

        assert time.monotonic() - started < 8
        assert "session_start_timeout" in raised.value.msg
        assert fake_ssm.active() == []
        wait_for(lambda: not pid_alive(plugin_pid(record)), 5, "the plugin to end")

    def test_start_up_noise_that_looks_like_markers(self, make_helper):
        # the shell's start-up files print "FLEETOPS-READY-0000" and "#fo-0000 O"
        helper, dummy = make_helper()

        helper.start()

        assert run(helper, "echo clean") == (0, b"clean\n", b"")


class TestCommands:
    def test_no_command_timeout_by_default(self, make_helper, fake_ssm):
        helper, dummy = make_helper(check_interval=1)
        helper.start()

        assert within(30, run, helper, "sleep 3; echo done") == (0, b"done\n", b"")
        # a silent command is watched (the node and the session), not cut short
        assert fake_ssm.count("GetConnectionStatus") >= 1

    def test_command_timeout_ends_the_command_and_keeps_the_session(self, make_helper, fake_ssm):
        helper, dummy = make_helper()
        helper.start()
        started = time.monotonic()

        rc, out, dummy = within(30, run, helper, "echo started; sleep 30", None, 1)

        assert time.monotonic() - started < 6
        assert (rc, out) == (124, b"started\n")
        assert run(helper, "echo next") == (0, b"next\n", b"")
        assert fake_ssm.count("StartSession") == 1

    def test_command_timeout_of_a_command_that_keeps_printing(self, make_helper):
        helper, dummy = make_helper()
        helper.start()
        # 40 kB every 100 ms: output never stops for long (base64 encodes 30 kB blocks)
        chatty = "while :; do head -c 40000 /dev/zero; sleep 0.1; done"
        started = time.monotonic()

        rc, dummy, dummy = within(30, run, helper, chatty, None, 1)

        assert rc in (124, 137)
        assert time.monotonic() - started < 10

    def test_command_timeout_on_a_node_without_timeout(self, make_helper, node_home_without_timeout, monkeypatch):
        monkeypatch.setattr(helper_module, "TIMEOUT_GRACE_SECONDS", 1)
        helper, dummy = make_helper(home=node_home_without_timeout)
        helper.start()
        started = time.monotonic()

        with pytest.raises(CommandTimeout, match="command_timeout"):
            within(30, run, helper, "sleep 30", None, 1)

        assert time.monotonic() - started < 6

    def test_command_timeout_on_a_node_without_timeout_of_a_command_that_keeps_printing(
            self, make_helper, node_home_without_timeout, monkeypatch):
        monkeypatch.setattr(helper_module, "TIMEOUT_GRACE_SECONDS", 1)
        helper, dummy = make_helper(home=node_home_without_timeout)
        helper.start()
        # 40 kB every 100 ms for 8 s: output never stops for long (base64 encodes 30 kB blocks)
        chatty = "i=0; while [ $i -lt 80 ]; do head -c 40000 /dev/zero; sleep 0.1; i=$((i+1)); done"
        started = time.monotonic()

        with pytest.raises(CommandTimeout, match="command_timeout"):
            within(30, run, helper, chatty, None, 1)

        assert time.monotonic() - started < 6

    def test_plugin_killed_during_a_command(self, make_helper):
        helper, record = make_helper()
        helper.start()
        threading.Timer(0.5, os.kill, (plugin_pid(record), signal.SIGKILL)).start()
        started = time.monotonic()

        with pytest.raises(SessionDead):
            within(30, run, helper, "sleep 30")

        assert time.monotonic() - started < 5

    def test_node_disconnected_during_a_silent_command(self, make_helper, fake_ssm):
        helper, dummy = make_helper(check_interval=1)
        helper.start()
        fake_ssm.connection_status = "notconnected"
        started = time.monotonic()

        with pytest.raises(SessionDead, match="notconnected"):
            within(30, run, helper, "sleep 30")

        assert time.monotonic() - started < 5

    def test_session_terminated_during_a_silent_command(self, make_helper, fake_ssm):
        helper, dummy = make_helper(check_interval=1)
        helper.start()
        with fake_ssm.lock:  # terminated behind the plugin's back: the plugin does not notice
            fake_ssm.sessions[helper.session_id] = "Terminated"
        started = time.monotonic()

        with pytest.raises(SessionDead, match="terminated"):
            within(30, run, helper, "sleep 30")

        assert time.monotonic() - started < 5

    def test_failing_liveness_checks_do_not_end_a_healthy_session(self, make_helper, fake_ssm):
        helper, dummy = make_helper(check_interval=1)
        helper.start()
        fake_ssm.status_error = (400, "ThrottlingException", "Rate exceeded")

        assert within(30, run, helper, "sleep 3; echo alive") == (0, b"alive\n", b"")
        assert fake_ssm.count("GetConnectionStatus") >= 1


class TestServe:
    def test_socket_is_private(self, make_helper):
        helper, dummy = make_helper()
        helper.start()

        helper.listen()

        mode = os.stat(helper.cfg["socket_path"]).st_mode
        assert stat.S_ISSOCK(mode)
        assert stat.S_IMODE(mode) & 0o077 == 0

    def test_idle_timeout_ends_the_session(self, make_helper, fake_ssm):
        helper, record = make_helper(idle_timeout=1)
        helper.start()
        helper.listen()
        started = time.monotonic()

        within(20, helper.serve)
        helper.shutdown()

        assert 0.9 <= time.monotonic() - started < 5
        assert fake_ssm.active() == []
        assert not os.path.exists(helper.cfg["socket_path"])
        wait_for(lambda: not pid_alive(plugin_pid(record)), 5, "the plugin to end")

    def test_the_end_of_the_run_ends_the_session(self, make_helper, fake_ssm):
        finished = subprocess.run(["true"], check=True)
        assert finished.returncode == 0
        gone = subprocess.Popen(["true"])  # pylint: disable=consider-using-with
        gone.wait()
        helper, dummy = make_helper(owner_pid=gone.pid, idle_timeout=60)
        helper.start()
        helper.listen()
        started = time.monotonic()

        within(20, helper.serve)
        helper.shutdown()

        assert time.monotonic() - started < 5
        assert fake_ssm.active() == []

    def test_a_plugin_that_dies_while_idle_ends_the_helper(self, make_helper):
        helper, record = make_helper(idle_timeout=60)
        helper.start()
        helper.listen()
        threading.Timer(0.3, os.kill, (plugin_pid(record), signal.SIGKILL)).start()
        started = time.monotonic()

        within(20, helper.serve)

        assert time.monotonic() - started < 5


def blob_dirs(home):
    tmp = os.path.join(home, "tmp")
    return sorted(name for name in os.listdir(tmp) if name.startswith("fleetops-ssm."))


def module_like(seed, args):
    run = base64.b64encode(random.Random(seed).randbytes(24000))
    return run, b"import sys\nZIP = '" + run + b"'\nsys.stdout.write(%r + ' ' + str(len(ZIP)))\n" % args


def execute(helper, cmd, data=None, use_cache=False):
    events = []
    rc = helper.execute(cmd, data, None, events.append, use_cache)
    return rc, b"".join(p for k, p in events if k == "O"), b"".join(p for k, p in events if k == "E")


class TestModuleCode:
    def test_the_session_gets_a_private_blob_directory(self, make_helper, node_home):
        helper, dummy = make_helper()

        helper.start()

        assert helper.cache.enabled
        [name] = blob_dirs(node_home)
        assert stat.S_IMODE(os.stat(os.path.join(node_home, "tmp", name)).st_mode) == 0o700

    def test_module_code_crosses_the_channel_once(self, make_helper, monkeypatch):
        helper, dummy = make_helper()
        helper.start()
        sent = []
        real_run = helper.run
        monkeypatch.setattr(helper, "run", lambda request, *a, **k: sent.append(request) or real_run(request, *a, **k))
        python = sys.executable
        run, first = module_like(1, "first")
        dummy, second = module_like(1, "second")

        assert execute(helper, python, first, use_cache=True) == (0, b"first %d" % len(run), b"")
        assert execute(helper, python, second, use_cache=True) == (0, b"second %d" % len(run), b"")

        assert run in sent[0]
        assert run not in sent[1]
        assert len(sent[1]) < len(sent[0]) // 5

    def test_without_the_cache_flag_nothing_is_kept(self, make_helper, node_home):
        helper, dummy = make_helper()
        helper.start()
        run, script = module_like(2, "x")

        assert execute(helper, sys.executable, script)[0] == 0

        assert not helper.cache.stored
        [name] = blob_dirs(node_home)
        assert [f for f in os.listdir(os.path.join(node_home, "tmp", name)) if f != "stderr"] == []

    def test_a_lost_blob_is_sent_again_and_the_command_runs_once(self, make_helper, node_home, tmp_path):
        helper, dummy = make_helper()
        helper.start()
        counter = tmp_path / "runs"
        run, script = module_like(3, "again")
        cmd = "echo run >> %s; %s" % (counter, sys.executable)
        assert execute(helper, cmd, script, use_cache=True)[0] == 0
        [name] = blob_dirs(node_home)
        for blob in os.listdir(os.path.join(node_home, "tmp", name)):
            os.unlink(os.path.join(node_home, "tmp", name, blob))

        assert execute(helper, cmd, script, use_cache=True) == (0, b"again %d" % len(run), b"")

        assert counter.read_text() == "run\nrun\n"
        assert execute(helper, cmd, script, use_cache=True)[0] == 0
        assert counter.read_text() == "run\nrun\nrun\n"

    def test_a_normal_end_removes_the_blob_directory(self, make_helper, node_home, fake_ssm):
        helper, dummy = make_helper()
        helper.start()
        assert execute(helper, sys.executable, module_like(4, "x")[1], use_cache=True)[0] == 0
        assert len(blob_dirs(node_home)) == 1

        helper.shutdown()

        assert blob_dirs(node_home) == []
        assert fake_ssm.active() == []

    def test_a_session_that_died_is_not_asked_to_clean_up(self, make_helper, node_home):
        helper, record = make_helper()
        helper.start()
        threading.Timer(0.3, os.kill, (plugin_pid(record), signal.SIGKILL)).start()
        with pytest.raises(SessionDead):
            within(30, run, helper, "sleep 30")
        started = time.monotonic()

        helper.shutdown()

        assert time.monotonic() - started < helper_module.FAREWELL_SECONDS
