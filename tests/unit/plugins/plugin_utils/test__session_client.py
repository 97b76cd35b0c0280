# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The task side of persistent sessions: the private directory, socket names, the helper's
lifecycle, serialised requests, and retries that never run a command twice.

``TestWithTheHelper`` starts the real helper process (``FakeSSM`` for the API, a plugin
stand-in with a real shell on a pty); ``TestRetries`` puts a scripted helper on the socket.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import sys
import tempfile
import threading
import time

import pytest

from ansible_collections.fleetops.ssm.plugins.plugin_utils import _session_wire as wire
from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_client import SessionClient
from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_client import SessionError
from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_client import SessionUnreachable
from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_client import private_dir
from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_client import session_key
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import NEW_VERSION
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import OLD_VERSION
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import SECRET_KEY
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import helper_config
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import pid_alive
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import plugin_records
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import wait_for
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import within
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import write_fake_plugin
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import write_script


def base_cfg(**overrides):
    cfg = {
        "owner_pid": 4242, "instance_id": "i-0123456789abcdef0", "region": "eu-west-1",
        "endpoint_url": None, "profile": None, "document_name": None, "document_parameters": None,
        "assume_role_arn": None, "plugin": "/usr/local/bin/session-manager-plugin",
        "credentials": {"aws_access_key_id": "AKIAFLEETOPSTEST0001", "aws_secret_access_key": SECRET_KEY},
        "session_start_timeout": 10,
    }
    cfg.update(overrides)
    return cfg


class TestPrivateDirectory:
    def test_created_0700_with_its_parents(self, tmp_path):
        path = tmp_path / "home" / ".ansible" / "cp-ssm"

        assert private_dir(str(path)) == str(path)

        assert stat.S_IMODE(os.stat(path).st_mode) == 0o700

    def test_created_0700_whatever_the_umask(self, tmp_path):
        old = os.umask(0)
        try:
            private_dir(str(tmp_path / "cp"))
        finally:
            os.umask(old)

        assert stat.S_IMODE(os.stat(tmp_path / "cp").st_mode) == 0o700

    def test_an_existing_open_directory_is_closed(self, tmp_path):
        path = tmp_path / "cp"
        path.mkdir(mode=0o755)
        os.chmod(path, 0o755)

        private_dir(str(path))

        assert stat.S_IMODE(os.stat(path).st_mode) == 0o700

    def test_tilde_is_expanded(self, tmp_path, monkeypatch):
        monkeypatch.setenv("HOME", str(tmp_path))

        assert private_dir("~/.ansible/cp-ssm") == str(tmp_path / ".ansible" / "cp-ssm")

    def test_a_symlink_is_refused(self, tmp_path):
        (tmp_path / "elsewhere").mkdir()
        os.symlink(tmp_path / "elsewhere", tmp_path / "cp")

        with pytest.raises(SessionError):
            private_dir(str(tmp_path / "cp"))

    def test_a_file_is_refused(self, tmp_path):
        (tmp_path / "cp").write_text("not a directory")

        with pytest.raises(SessionError):
            private_dir(str(tmp_path / "cp"))

    @pytest.mark.skipif(os.getuid() != 0, reason="needs root to give a directory away")
    def test_a_directory_of_another_user_is_refused(self, tmp_path):
        path = tmp_path / "cp"
        path.mkdir(mode=0o700)
        os.chown(path, 65534, 65534)

        with pytest.raises(SessionError):
            private_dir(str(path))


class TestSocketNames:
    def test_the_same_session_gets_the_same_name(self):
        assert session_key(base_cfg()) == session_key(base_cfg())

    @pytest.mark.parametrize("field, value", [
        ("owner_pid", 4243),
        ("instance_id", "mi-0123456789abcdef0"),
        ("region", "us-east-1"),
        ("endpoint_url", "http://127.0.0.1:5000"),
        ("profile", "ops"),
        ("document_name", "Ops-RunAsDeploy"),
        ("assume_role_arn", "arn:aws:iam::123456789012:role/ops"),
        ("plugin", "/opt/smp/session-manager-plugin"),
        ("credentials", {"aws_access_key_id": "AKIAFLEETOPSTEST0002", "aws_secret_access_key": SECRET_KEY}),
    ])
    def test_anything_that_selects_the_session_changes_the_name(self, field, value):
        assert session_key(base_cfg(**{field: value})) != session_key(base_cfg())

    def test_the_name_reveals_no_secret(self):
        key = session_key(base_cfg())

        assert SECRET_KEY not in key
        assert "AKIA" not in key
        assert "i-0123456789abcdef0" not in key

    def test_socket_lives_in_the_private_directory(self, tmp_path):
        client = SessionClient(base_cfg(), str(tmp_path / "cp"))

        assert os.path.dirname(client.socket_path) == str(tmp_path / "cp")
        assert client.socket_path.endswith(".sock")
        assert stat.S_IMODE(os.stat(tmp_path / "cp").st_mode) == 0o700

    def test_tasks_of_one_run_to_one_host_meet_at_one_socket(self, tmp_path):
        one = SessionClient(base_cfg(), str(tmp_path / "cp"))
        two = SessionClient(base_cfg(), str(tmp_path / "cp"))
        other_host = SessionClient(base_cfg(instance_id="i-0fedcba9876543210"), str(tmp_path / "cp"))
        other_run = SessionClient(base_cfg(owner_pid=4243), str(tmp_path / "cp"))

        assert one.socket_path == two.socket_path
        assert len({one.socket_path, other_host.socket_path, other_run.socket_path}) == 3

    def test_the_default_directory_under_a_typical_home_gives_a_usable_socket(self, monkeypatch):
        # unix socket paths are limited to 107 bytes; this home is as long as /home/ansible-automation-svc/
        home = tempfile.mkdtemp(prefix="h" * 20, dir="/tmp")
        monkeypatch.setenv("HOME", home)
        try:
            client = SessionClient(base_cfg(), "~/.ansible/cp-ssm")
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.bind(client.socket_path)
            finally:
                sock.close()
        finally:
            shutil.rmtree(home)


# ---------------------------------------------------------------------- with the real helper


@pytest.fixture
def session_env(fake_ssm, tmp_path, short_dir, node_home):
    """make(version=..., mode=..., **cfg overrides) -> (SessionClient, plugin record file)."""
    clients = []
    bindir = tmp_path / "bin"
    bindir.mkdir()

    def make(version=NEW_VERSION, mode="pty", **overrides):
        plugin, record = write_fake_plugin(str(bindir), fake_ssm.state_dir, node_home, version=version, mode=mode)
        overrides.setdefault("idle_timeout", 20)
        cfg = helper_config(fake_ssm, plugin, short_dir, **overrides)
        for key in ("socket_path", "log_path"):
            del cfg[key]
        warnings = []
        client = SessionClient(cfg, short_dir, warn=warnings.append)
        client.warnings = warnings
        clients.append(client)
        return client, record

    yield make
    for client in clients:
        client.close_helper()


def helper_log(client):
    try:
        with open(client.cfg["log_path"], encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


class TestWithTheHelper:
    def test_one_session_for_many_commands_and_tasks(self, session_env, fake_ssm):
        client, dummy = session_env()
        same_host_other_task, dummy = session_env()

        results = [client.exec_command("echo %d; echo e%d >&2; exit %d" % (i, i, i)) for i in range(3)]
        results.append(same_host_other_task.exec_command("cat", b"\x00\r\n\xff"))

        assert results == [(0, b"0\n", b"e0\n"), (1, b"1\n", b"e1\n"), (2, b"2\n", b"e2\n"), (0, b"\x00\r\n\xff", b"")]
        assert fake_ssm.count("StartSession") == 1
        assert stat.S_IMODE(os.stat(client.dir).st_mode) == 0o700

    def test_tasks_that_start_together_share_one_session(self, session_env, fake_ssm):
        client, dummy = session_env()
        results = {}

        def task(index):
            results[index] = client.exec_command("echo task-%d" % index)

        threads = [threading.Thread(target=task, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

        assert results == {i: (0, b"task-%d\n" % i, b"") for i in range(4)}
        assert fake_ssm.count("StartSession") == 1

    def test_requests_in_flight_are_served_one_at_a_time(self, session_env, tmp_path):
        client, dummy = session_env()
        client.exec_command("true")  # the session is up
        log = tmp_path / "order.log"
        results = {}

        def task(name):
            cmd = "echo begin-{n} >> {log}; sleep 1; echo end-{n} >> {log}; echo {n}".format(n=name, log=log)
            results[name] = client.exec_command(cmd)

        threads = [threading.Thread(target=task, args=(name,)) for name in ("a", "b", "c")]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

        assert results == {n: (0, n.encode() + b"\n", b"") for n in ("a", "b", "c")}
        lines = log.read_text().split()
        assert len(lines) == 6
        for index in range(0, 6, 2):  # never two commands at once
            assert lines[index].startswith("begin-")
            assert lines[index + 1] == "end-" + lines[index][6:]
        assert time.monotonic() - started >= 3

    def test_stdout_can_be_streamed_to_a_sink(self, session_env):
        client, dummy = session_env()
        pieces = []

        rc, out, err = client.exec_command("head -c 200000 /dev/zero; echo e >&2", stdout_sink=pieces.append)

        assert (rc, out, err) == (0, b"", b"e\n")
        assert b"".join(pieces) == b"\x00" * 200000

    def test_close_helper_ends_the_session_and_the_next_task_starts_a_new_one(self, session_env, fake_ssm):
        client, record = session_env()
        client.exec_command("true")

        assert client.close_helper() is True

        assert not os.path.exists(client.socket_path)
        wait_for(lambda: fake_ssm.active() == [], 10, "the session to be terminated")
        wait_for(lambda: not pid_alive(plugin_records(record)[-1]["pid"]), 5, "the plugin to end")
        assert client.exec_command("echo again") == (0, b"again\n", b"")
        assert fake_ssm.count("StartSession") == 2

    def test_close_helper_without_a_helper(self, session_env):
        client, dummy = session_env()

        assert client.close_helper() is False

    def test_idle_timeout(self, session_env, fake_ssm):
        client, record = session_env(idle_timeout=1)
        client.exec_command("true")

        wait_for(lambda: not os.path.exists(client.socket_path), 10, "the idle helper to go")
        wait_for(lambda: fake_ssm.active() == [], 10, "the session to be terminated")
        wait_for(lambda: not pid_alive(plugin_records(record)[-1]["pid"]), 5, "the plugin to end")

    def test_the_end_of_the_run_ends_the_helper(self, session_env, fake_ssm):
        gone = os.fork()
        if gone == 0:  # pragma: no cover - the child exits at once
            os._exit(0)
        os.waitpid(gone, 0)
        client, dummy = session_env(owner_pid=gone, idle_timeout=60)
        client.exec_command("true")

        wait_for(lambda: not os.path.exists(client.socket_path), 10, "the helper to notice the run ended")
        wait_for(lambda: fake_ssm.active() == [], 10, "the session to be terminated")
        wait_for(lambda: os.listdir(client.dir) == [], 10, "the helper's files to be removed")

    def test_a_task_queued_behind_a_closing_helper_runs_once_in_a_new_session(self, session_env, fake_ssm, tmp_path):
        client, record = session_env()
        client.exec_command("true")
        runs = tmp_path / "runs"
        queued = {}

        def second_task():
            try:
                queued["result"] = client.exec_command("echo once >> %s; echo second" % runs)
            except SessionError as e:
                queued["result"] = e

        # the first task's session dies: its helper closes with the second task waiting on the socket
        threading.Timer(0.3, second_task).start()
        threading.Timer(1.0, os.kill, (plugin_records(record)[-1]["pid"], signal.SIGKILL)).start()
        with pytest.raises(SessionUnreachable):
            within(30, client.exec_command, "sleep 30")

        wait_for(lambda: "result" in queued, 20, "the queued task to finish")
        assert queued["result"] == (0, b"second\n", b"")
        assert runs.read_text() == "once\n"
        assert fake_ssm.count("StartSession") == 2

    def test_a_busy_run_keeps_the_sessions_of_its_idle_hosts(self, session_env, fake_ssm):
        busy, dummy = session_env(idle_timeout=6)
        idle, dummy = session_env(idle_timeout=6, instance_id="i-0fedcba9876543210")
        idle.exec_command("true")
        busy.exec_command("true")
        started = time.monotonic()

        assert busy.exec_command("sleep 8; echo long task") == (0, b"long task\n", b"")

        assert time.monotonic() - started > 7  # longer than the idle timeout
        assert idle.exec_command("echo still there") == (0, b"still there\n", b"")
        assert fake_ssm.count("StartSession") == 2

    def test_a_stale_socket_file_is_replaced(self, session_env, fake_ssm):
        client, dummy = session_env()
        stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stale.bind(client.socket_path)
        stale.close()  # the file stays, nobody listens

        assert client.exec_command("echo fresh") == (0, b"fresh\n", b"")
        assert fake_ssm.count("StartSession") == 1

    def test_no_secret_on_any_command_line(self, session_env, fake_ssm):
        client, record = session_env(version=NEW_VERSION)
        client.exec_command("true")

        launch = plugin_records(record)[-1]
        token = fake_ssm.token_values[-1]
        assert "_session_helper" in launch["parent_cmdline"]  # the helper's own command line
        for text in (launch["parent_cmdline"], json.dumps(launch["argv"])):
            assert SECRET_KEY not in text
            assert token not in text

    def test_no_secret_in_the_helper_log(self, session_env, fake_ssm):
        client, dummy = session_env()
        client.exec_command("echo hi")

        log = helper_log(client)  # while the helper runs (it removes its log when it exits)
        assert "fleetops-test-0001" in log
        assert SECRET_KEY not in log
        assert fake_ssm.token_values[-1] not in log

    def test_old_plugin_warning_reaches_the_task(self, session_env):
        client, dummy = session_env(version=OLD_VERSION)

        client.exec_command("true")

        assert len(client.warnings) == 1
        assert "process list" in client.warnings[0]

    def test_node_offline_at_start_is_unreachable(self, session_env, fake_ssm):
        fake_ssm.start_error = (400, "TargetNotConnected", "i-0123456789abcdef0 is not connected.")
        client, dummy = session_env()

        with pytest.raises(SessionUnreachable, match="TargetNotConnected"):
            client.exec_command("true")

        assert not os.path.exists(client.socket_path)

    def test_access_denied_at_start_is_an_error_not_unreachable(self, session_env, fake_ssm):
        fake_ssm.start_error = (400, "AccessDeniedException", "not authorized to perform: ssm:StartSession")
        client, dummy = session_env()

        with pytest.raises(SessionError, match="AccessDeniedException") as raised:
            client.exec_command("true")

        assert not isinstance(raised.value, SessionUnreachable)

    def test_session_dies_during_a_command_which_is_never_run_again(self, session_env, fake_ssm, tmp_path):
        client, record = session_env()
        client.exec_command("true")
        runs = tmp_path / "runs"
        pid = plugin_records(record)[-1]["pid"]
        threading.Timer(1.0, os.kill, (pid, signal.SIGKILL)).start()
        started = time.monotonic()

        with pytest.raises(SessionUnreachable) as raised:
            within(30, client.exec_command, "echo run >> %s; sleep 30" % runs)

        assert raised.value.started is True
        assert time.monotonic() - started < 10
        assert runs.read_text() == "run\n"
        # the next task gets a new session; the lost command was not sent again
        assert client.exec_command("echo next") == (0, b"next\n", b"")
        assert fake_ssm.count("StartSession") == 2
        time.sleep(0.5)
        assert runs.read_text() == "run\n"

    def test_command_timeout_fails_the_task_and_ends_the_command(self, session_env, tmp_path):
        client, dummy = session_env()
        client.exec_command("true")
        late = tmp_path / "late"
        started = time.monotonic()

        with pytest.raises(SessionError, match="command_timeout") as raised:
            within(30, client.exec_command, "sleep 3; echo late > %s" % late, None, 1)

        assert time.monotonic() - started < 2.8
        assert not isinstance(raised.value, SessionUnreachable)
        time.sleep(max(0.0, started + 3.5 - time.monotonic()))
        assert not late.exists()  # killed on the node, not left running
        assert client.exec_command("echo after") == (0, b"after\n", b"")

    def test_a_socket_path_that_cannot_be_used_leaves_no_session_behind(self, session_env, fake_ssm, short_dir):
        client, dummy = session_env()
        deep = os.path.join(short_dir, "d" * 90)
        long_client = SessionClient(client.cfg, deep)
        assert len(long_client.socket_path.encode()) > 107

        with pytest.raises(SessionError):
            within(60, long_client.exec_command, "true")

        wait_for(lambda: fake_ssm.active() == [], 10, "no session to be left active")


# ---------------------------------------------------------------------- a scripted helper


class ScriptedHelper:
    """Listens on the client's socket; answers each request with ``script(index, request, data)``.

    The script returns a list of frames: ("O", bytes), ("E", bytes), ("J", dict) or ("close", None).
    """

    def __init__(self, path, script):
        self.requests = []
        self.script = script
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(8)
        self.listener.settimeout(0.2)
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while self.running:
            try:
                conn = self.listener.accept()[0]
            except OSError:
                continue
            with conn:
                conn.settimeout(10)
                request = wire.recv_json(conn)
                data = wire.recv_frame(conn)[1] if request.get("has_data") else None
                self.requests.append((request, data))
                for kind, payload in self.script(len(self.requests) - 1, request, data):
                    if kind == "close":
                        break
                    if kind == "J":
                        wire.send_json(conn, payload)
                    else:
                        wire.send_frame(conn, kind.encode(), payload)

    def stop(self):
        self.running = False
        self.thread.join(5)
        self.listener.close()


@pytest.fixture
def scripted(short_dir):
    made = []

    def make(script):
        client = SessionClient(base_cfg(), short_dir)
        helper = ScriptedHelper(client.socket_path, script)
        made.append(helper)
        return client, helper

    yield make
    for helper in made:
        helper.stop()


class TestRetries:
    def test_a_request_refused_before_it_started_is_sent_again(self, scripted):
        def script(index, request, data):
            if index == 0:
                return [("J", {"error": "the session helper is closing", "retry": True})]
            return [("O", b"out:" + data), ("E", b"err"), ("J", {"rc": 0})]

        client, helper = scripted(script)

        assert client.exec_command("cat", b"\x00data") == (0, b"out:\x00data", b"err")
        assert [r[0]["cmd"] for r in helper.requests] == ["cat", "cat"]
        assert [r[1] for r in helper.requests] == [b"\x00data", b"\x00data"]

    def test_a_request_that_produced_output_is_never_sent_again(self, scripted):
        client, helper = scripted(lambda i, r, d: [("O", b"partial"), ("J", {"error": "closing", "retry": True})])

        with pytest.raises(SessionError):
            client.exec_command("apt-get -y upgrade")

        assert len(helper.requests) == 1

    def test_a_helper_lost_after_the_request_was_sent_is_never_sent_again(self, scripted):
        client, helper = scripted(lambda i, r, d: [("close", None)])

        with pytest.raises(SessionUnreachable) as raised:
            client.exec_command("reboot")

        assert raised.value.started is True
        assert len(helper.requests) == 1

    def test_a_helper_lost_during_the_output_is_never_sent_again(self, scripted):
        client, helper = scripted(lambda i, r, d: [("O", b"half"), ("close", None)])

        with pytest.raises(SessionUnreachable) as raised:
            client.exec_command("echo once >> /var/log/once")

        assert raised.value.started is True
        assert len(helper.requests) == 1

    def test_retries_are_bounded(self, scripted):
        client, helper = scripted(lambda i, r, d: [("J", {"error": "closing", "retry": True})])

        with pytest.raises(SessionUnreachable):
            within(30, client.exec_command, "true")

        assert 1 < len(helper.requests) <= 3

    def test_a_dead_session_is_unreachable(self, scripted):
        client, helper = scripted(lambda i, r, d: [("J", {"error": "plugin exited", "unreachable": True, "started": True})])

        with pytest.raises(SessionUnreachable, match="plugin exited") as raised:
            client.exec_command("true")

        assert raised.value.started is True
        assert len(helper.requests) == 1

    def test_other_errors_are_not_unreachable(self, scripted):
        client, helper = scripted(lambda i, r, d: [("J", {"error": "the command did not finish", "started": True})])

        with pytest.raises(SessionError, match="did not finish") as raised:
            client.exec_command("true")

        assert not isinstance(raised.value, SessionUnreachable)
        assert len(helper.requests) == 1

    def test_the_request_carries_the_command_the_data_and_the_timeout(self, scripted):
        client, helper = scripted(lambda i, r, d: [("J", {"rc": 0})])

        client.exec_command("python3", b"module", 42)
        client.exec_command("true")

        (first, data), (second, no_data) = helper.requests
        assert (first["op"], first["cmd"], first["has_data"], first["timeout"], data) == ("exec", "python3", True, 42, b"module")
        assert (second["has_data"], no_data) == (False, None)


# ---------------------------------------------------------------------- starting the helper


@pytest.fixture
def fake_python(tmp_path, monkeypatch, short_dir):
    """make(answer line) -> (SessionClient, record): ``sys.executable`` replaced by a script that
    records its argv and stdin and prints ``answer``."""

    def make(answer, rc=0, stderr="starting"):
        record = tmp_path / "helper-record"
        body = ('printf "%%s\\n" "$@" > %s.argv\ncat > %s.stdin\necho \'%s\' >&2\nprintf \'%%s\' %s\nexit %d\n'
                % (record, record, stderr, "'%s'" % answer if answer else "''", rc))
        monkeypatch.setattr(sys, "executable", write_script(str(tmp_path / "python"), body))
        client = SessionClient(base_cfg(), short_dir)
        return client, record

    return make


class TestStartingTheHelper:
    def test_the_configuration_goes_through_stdin_never_argv(self, fake_python):
        client, record = fake_python('{"ok": false, "msg": "stop here", "unreachable": false}\n')

        with pytest.raises(SessionError):
            client.connect()

        argv = open(str(record) + ".argv", encoding="utf-8").read()
        stdin = json.loads(open(str(record) + ".stdin", encoding="utf-8").read())
        assert SECRET_KEY not in argv
        assert stdin["credentials"]["aws_secret_access_key"] == SECRET_KEY
        assert stdin["socket_path"] == client.socket_path

    def test_unreachable_answer(self, fake_python):
        client, dummy = fake_python('{"ok": false, "msg": "TargetNotConnected: offline", "unreachable": true}\n')

        with pytest.raises(SessionUnreachable, match="TargetNotConnected: offline"):
            client.connect()

    def test_error_answer(self, fake_python):
        client, dummy = fake_python('{"ok": false, "msg": "AccessDeniedException: no", "unreachable": false}\n')

        with pytest.raises(SessionError, match="AccessDeniedException: no") as raised:
            client.connect()

        assert not isinstance(raised.value, SessionUnreachable)

    def test_a_helper_that_dies_without_an_answer_says_why(self, fake_python):
        client, dummy = fake_python("", rc=1, stderr="ModuleNotFoundError: No module named boto3")

        with pytest.raises(SessionUnreachable, match="No module named boto3"):
            client.connect()

    def test_a_helper_that_answers_ok_but_does_not_listen(self, fake_python):
        client, dummy = fake_python('{"ok": true, "session_id": "s-1", "warnings": []}\n')

        with pytest.raises(SessionUnreachable):
            client.connect()
