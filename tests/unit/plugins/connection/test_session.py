# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The fleetops.ssm.session connection plugin: options, errors, logging, and whole tasks.

Option tests replace the session client with a recorder. ``TestTasks`` runs the real stack:
plugin -> session client -> helper process -> session-manager-plugin stand-in -> a shell on
a pty, with ``FakeSSM`` on 127.0.0.1 as the SSM API.
"""

from __future__ import annotations

import base64
import hashlib
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from ansible.errors import AnsibleConnectionFailure
from ansible.errors import AnsibleError
from ansible.playbook.play_context import PlayContext
from ansible.plugins.loader import become_loader
from ansible.plugins.loader import connection_loader

from ansible_collections.fleetops.ssm.plugins.connection import session as session_module
from ansible_collections.fleetops.ssm.plugins.plugin_utils import _session_protocol as protocol
from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_client import SessionError
from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_client import SessionUnreachable
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import ACCESS_KEY
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import INSTANCE_ID
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import NEW_VERSION
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import OLD_VERSION
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import REGION
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import SECRET_KEY
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import plugin_records
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import version_script
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import wait_for
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import within
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import write_fake_plugin

SESSION_TOKEN = "FwoGZXIvYXdzEFleetopsTESTstsTOKEN0123456789"
BINARY = b"\x00NUL\r\n\r\xff\xfe" + bytes(range(256))


class RecordingClient:
    """Stands in for SessionClient: records its configuration and requests; answers from ``results``."""

    instances = []

    def __init__(self, cfg, control_dir, warn=None):
        self.cfg = cfg
        self.control_dir = control_dir
        self.warn = warn
        self.socket_path = os.path.join(control_dir, "recorded.sock")
        self.requests = []
        self.cache_flags = []
        self.results = []
        self.closed = 0
        self.touched = 0
        RecordingClient.instances.append(self)

    def exec_command(self, cmd, in_data=None, timeout=None, stdout_sink=None, cache=False):
        self.requests.append((cmd, in_data, timeout))
        self.cache_flags.append(cache)
        result = self.results.pop(0) if self.results else (0, b"", b"")
        error = result if isinstance(result, SessionError) else None
        if error is not None:
            raise error
        return result

    def close_helper(self):
        self.closed += 1
        return True

    def touch(self):
        self.touched += 1


@pytest.fixture
def binary(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    return version_script(str(bindir / "session-manager-plugin"), NEW_VERSION)


@pytest.fixture
def recorded(monkeypatch, aws_env, tmp_path):  # pylint: disable=unused-argument
    RecordingClient.instances = []
    monkeypatch.setattr(session_module, "SessionClient", RecordingClient)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    return RecordingClient.instances


@pytest.fixture
def make_connection(tmp_path, binary):
    """make(direct=None, **vars) -> a connection with these connection variables (and defaults)."""

    def make(direct=None, **variables):
        conn = connection_loader.get("fleetops.ssm.session", PlayContext())
        assert conn is not None
        variables.setdefault("inventory_hostname", "web-1")
        variables.setdefault("ansible_host", INSTANCE_ID)
        variables.setdefault("ansible_fleetops_ssm_plugin", binary)
        variables.setdefault("ansible_fleetops_ssm_region", REGION)
        variables.setdefault("ansible_fleetops_ssm_control_path_dir", str(tmp_path / "cp"))
        variables = {k: v for k, v in variables.items() if v is not None}  # None: not set
        conn.set_options(var_options=variables, direct=direct)
        return conn

    return make


def connected(conn):
    conn.exec_command("true")
    return RecordingClient.instances[-1]


class TestPluginBinary:
    def test_found_in_path_by_default(self, recorded, make_connection, binary, monkeypatch):
        monkeypatch.setenv("PATH", os.path.dirname(binary) + os.pathsep + "/usr/bin:/bin")
        conn = make_connection(ansible_fleetops_ssm_plugin=None)

        assert connected(conn).cfg["plugin"] == binary

    def test_from_the_connection_variable(self, recorded, make_connection, binary):
        assert connected(make_connection(ansible_fleetops_ssm_plugin=binary)).cfg["plugin"] == binary

    def test_from_the_environment(self, recorded, make_connection, binary, monkeypatch):
        monkeypatch.setenv("FLEETOPS_SSM_SESSION_PLUGIN", binary)
        conn = make_connection(ansible_fleetops_ssm_plugin=None)

        assert connected(conn).cfg["plugin"] == binary

    def test_the_variable_wins_over_the_environment(self, recorded, make_connection, binary, monkeypatch, tmp_path):
        other = version_script(str(tmp_path / "other-plugin"), NEW_VERSION)
        monkeypatch.setenv("FLEETOPS_SSM_SESSION_PLUGIN", other)

        assert connected(make_connection(ansible_fleetops_ssm_plugin=binary)).cfg["plugin"] == binary

    def test_a_home_relative_path(self, recorded, make_connection, binary, monkeypatch, tmp_path):
        monkeypatch.setenv("HOME", str(tmp_path))

        assert connected(make_connection(ansible_fleetops_ssm_plugin="~/bin/session-manager-plugin")).cfg["plugin"] == binary

    def test_missing_from_path_gives_an_install_hint(self, recorded, make_connection, monkeypatch, tmp_path):
        monkeypatch.setenv("PATH", str(tmp_path / "empty"))
        conn = make_connection(ansible_fleetops_ssm_plugin=None)

        with pytest.raises(AnsibleError) as raised:
            conn.exec_command("true")

        text = str(raised.value)
        assert "session-manager-plugin" in text
        assert "session-manager-working-with-install-plugin" in text  # where to get it
        assert "FLEETOPS_SSM_SESSION_PLUGIN" in text and "ansible_fleetops_ssm_plugin" in text  # how to point at it
        assert recorded == []  # nothing was started

    @pytest.mark.parametrize("problem", ["missing", "not-executable", "directory"])
    def test_an_unusable_path(self, recorded, make_connection, tmp_path, problem):
        path = tmp_path / "smp"
        if problem == "not-executable":
            path.write_text("#!/bin/sh\n")
            os.chmod(path, 0o644)
        elif problem == "directory":
            path.mkdir()

        with pytest.raises(AnsibleError, match="session-manager-working-with-install-plugin") as raised:
            make_connection(ansible_fleetops_ssm_plugin=str(path)).exec_command("true")

        assert str(path) in str(raised.value)
        assert recorded == []


class TestTarget:
    @pytest.mark.parametrize("variables, expected", [
        ({"inventory_hostname": "web-1", "ansible_host": "i-0123456789abcdef0"}, "i-0123456789abcdef0"),
        ({"inventory_hostname": "mi-0123456789abcdef0", "ansible_host": None}, "mi-0123456789abcdef0"),
        ({"inventory_hostname": "web-1", "ansible_host": "i-0123abcd"}, "i-0123abcd"),
        ({"inventory_hostname": "web-1", "ansible_host": "web-1.example.com",
          "ansible_fleetops_ssm_instance_id": "mi-0123456789abcdef0"}, "mi-0123456789abcdef0"),
    ], ids=["ansible_host", "inventory_hostname", "short-ec2-id", "instance_id-option"])
    def test_the_instance_id(self, recorded, make_connection, variables, expected):
        conn = make_connection(**variables)

        assert connected(conn).cfg["instance_id"] == expected

    @pytest.mark.parametrize("value", ["web-1", "10.0.0.5", "i-123", "mi-0123", "I-0123456789ABCDEF0",
                                       "i-0123456789abcdef00", "i-0123456789abcdefg", "sg-0123456789abcdef0", ""])
    def test_anything_else_is_refused_before_any_session(self, recorded, make_connection, value):
        conn = make_connection(ansible_host=value)

        with pytest.raises(AnsibleError, match="ansible_host"):
            conn.exec_command("true")

        assert recorded == []


class TestAWSOptions:
    def test_region_from_the_variable(self, recorded, make_connection):
        assert connected(make_connection(ansible_fleetops_ssm_region="ap-south-1")).cfg["region"] == "ap-south-1"

    def test_region_from_aws_region(self, recorded, make_connection, monkeypatch):
        monkeypatch.setenv("AWS_REGION", "ca-central-1")

        assert connected(make_connection(ansible_fleetops_ssm_region=None)).cfg["region"] == "ca-central-1"

    def test_region_from_aws_default_region(self, recorded, make_connection, monkeypatch):
        monkeypatch.setenv("AWS_DEFAULT_REGION", "sa-east-1")

        assert connected(make_connection(ansible_fleetops_ssm_region=None)).cfg["region"] == "sa-east-1"

    def test_region_and_credentials_of_a_profile(self, recorded, make_connection, tmp_path):
        (tmp_path / "aws-config").write_text("[profile ops]\nregion = eu-north-1\n")
        (tmp_path / "aws-credentials").write_text("[ops]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = x\n")

        cfg = connected(make_connection(ansible_fleetops_ssm_region=None, ansible_fleetops_ssm_profile="ops")).cfg

        assert cfg["region"] == "eu-north-1"
        assert cfg["profile"] == "ops"
        assert cfg["credentials"]["profile_name"] == "ops"
        assert cfg["credentials"]["aws_access_key_id"] is None

    def test_no_region_at_all(self, recorded, make_connection):
        with pytest.raises(AnsibleError, match="region"):
            make_connection(ansible_fleetops_ssm_region=None).exec_command("true")

        assert recorded == []

    def test_endpoint_from_the_variable(self, recorded, make_connection):
        cfg = connected(make_connection(ansible_fleetops_ssm_endpoint_url="http://127.0.0.1:4566")).cfg

        assert cfg["endpoint_url"] == "http://127.0.0.1:4566"

    def test_endpoint_from_the_environment(self, recorded, make_connection, monkeypatch):
        monkeypatch.setenv("AWS_URL", "http://127.0.0.1:4567")

        assert connected(make_connection()).cfg["endpoint_url"] == "http://127.0.0.1:4567"

    def test_credentials_from_the_environment(self, recorded, make_connection, monkeypatch):
        # what an AWX AWS credential sets
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)

        credentials = connected(make_connection()).cfg["credentials"]

        assert credentials["aws_access_key_id"] == ACCESS_KEY
        assert credentials["aws_secret_access_key"] == SECRET_KEY
        assert credentials["aws_session_token"] == SESSION_TOKEN

    def test_credentials_and_role_as_options(self, recorded, make_connection):
        direct = {"access_key": ACCESS_KEY, "secret_key": SECRET_KEY,
                  "assume_role_arn": "arn:aws:iam::123456789012:role/fleet-ops"}

        cfg = connected(make_connection(direct=direct)).cfg

        assert cfg["credentials"]["aws_access_key_id"] == ACCESS_KEY
        assert cfg["credentials"]["aws_secret_access_key"] == SECRET_KEY
        assert cfg["assume_role_arn"] == "arn:aws:iam::123456789012:role/fleet-ops"

    def test_a_profile_and_keys_together_are_refused(self, recorded, make_connection, monkeypatch):
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)

        with pytest.raises(AnsibleError, match="profile"):
            make_connection(ansible_fleetops_ssm_profile="ops").exec_command("true")

    def test_session_options(self, recorded, make_connection, tmp_path):
        conn = make_connection(
            ansible_fleetops_ssm_document_name="Ops-RunAsDeploy",
            ansible_fleetops_ssm_session_start_timeout=17,
            ansible_fleetops_ssm_persist_idle_timeout=33,
            ansible_fleetops_ssm_connection_check_interval=0,
            ansible_fleetops_ssm_control_path_dir=str(tmp_path / "sockets"),
        )

        client = connected(conn)

        assert client.cfg["document_name"] == "Ops-RunAsDeploy"
        assert client.cfg["session_start_timeout"] == 17
        assert client.cfg["idle_timeout"] == 33
        assert client.cfg["check_interval"] >= 1
        assert client.cfg["owner_pid"] == os.getppid()  # one session per host per run
        assert client.control_dir == str(tmp_path / "sockets")

    def test_defaults(self, recorded, make_connection):
        cfg = connected(make_connection()).cfg

        assert cfg["idle_timeout"] == 60
        assert cfg["session_start_timeout"] == 60
        assert cfg["document_name"] is None

    def test_idle_timeout_from_the_environment(self, recorded, make_connection, monkeypatch):
        monkeypatch.setenv("FLEETOPS_SSM_PERSIST_IDLE_TIMEOUT", "7")

        assert connected(make_connection()).cfg["idle_timeout"] == 7


class TestRequests:
    def test_exec_command_returns_the_exact_result(self, recorded, make_connection):
        conn = make_connection()
        conn.exec_command("true")
        recorded[-1].results = [(2, b"out\x00\r\n", b"err\xff")]

        assert conn.exec_command("ls /nope", in_data=b"\x00stdin") == (2, b"out\x00\r\n", b"err\xff")
        assert recorded[-1].requests[-1] == ("ls /nope", b"\x00stdin", None)

    def test_module_code_may_be_kept_on_the_node(self, recorded, make_connection):
        # pipelining: in_data is the module; its code may stay on the node for the session
        conn = make_connection()
        conn.exec_command("/usr/bin/python3", in_data=b"module")
        conn.exec_command("echo ~")

        assert recorded[-1].cache_flags == [True, False]

    def test_no_command_timeout_unless_set(self, recorded, make_connection):
        conn = make_connection()
        client = connected(conn)
        conn.exec_command("sleep 1")

        assert client.requests[-1][2] is None

        conn = make_connection(ansible_fleetops_ssm_command_timeout=600)
        client = connected(conn)

        assert client.requests[-1][2] == 600

    def test_one_client_per_connection(self, recorded, make_connection):
        conn = make_connection()
        for dummy in range(3):
            conn.exec_command("true")

        assert len(recorded) == 1

    def test_unreachable(self, recorded, make_connection):
        conn = make_connection()
        client = connected(conn)
        client.results = [SessionUnreachable("session-manager-plugin exited (1) during the command", started=True)]

        with pytest.raises(AnsibleConnectionFailure) as raised:
            conn.exec_command("sleep 100")

        assert INSTANCE_ID in str(raised.value)
        assert "exited" in str(raised.value)

    def test_an_unreachable_host_stays_unreachable_until_reset(self, recorded, make_connection):
        conn = make_connection()
        client = connected(conn)
        client.results = [SessionUnreachable("the node went down", started=True)]
        with pytest.raises(AnsibleConnectionFailure):
            conn.exec_command("sleep 100")
        sent = len(RecordingClient.instances[-1].requests)

        # Ansible's clean-up of the task's temporary directory must not start a new session
        with pytest.raises(AnsibleConnectionFailure, match="went down"):
            conn.exec_command("rm -rf /tmp/.ansible-tmp")
        assert sum(len(c.requests) for c in RecordingClient.instances) == sent

        conn.reset()  # what ansible.builtin.reboot does while it waits for the node

        assert conn.exec_command("true") == (0, b"", b"")

    def test_a_request_failure_is_not_unreachable(self, recorded, make_connection):
        conn = make_connection()
        client = connected(conn)
        client.results = [SessionError("the command did not finish within 5 s (command_timeout)")]

        with pytest.raises(AnsibleError, match="command_timeout") as raised:
            conn.exec_command("sleep 100")

        assert not isinstance(raised.value, AnsibleConnectionFailure)

    def test_reset_closes_the_helper(self, recorded, make_connection):
        conn = make_connection()
        client = connected(conn)

        conn.reset()

        assert client.closed == 1

    def test_close_keeps_the_session_for_the_next_task(self, recorded, make_connection):
        conn = make_connection()
        client = connected(conn)

        conn.close()

        assert client.closed == 0

    def test_become_success_line_is_removed(self, recorded, make_connection):
        conn = make_connection()
        client = connected(conn)
        become = become_loader.get("sudo")
        conn.set_become_plugin(become)
        become.build_become_command("/usr/bin/python3", conn._shell)  # pylint: disable=protected-access
        client.results = [(0, become.success.encode() + b"\n{\"changed\": false}\n", b"")]

        assert conn.exec_command("sudo ...", sudoable=True) == (0, b"{\"changed\": false}\n", b"")

    def test_output_that_is_not_the_become_line_is_kept(self, recorded, make_connection):
        conn = make_connection()
        client = connected(conn)
        become = become_loader.get("sudo")
        conn.set_become_plugin(become)
        become.build_become_command("/usr/bin/python3", conn._shell)  # pylint: disable=protected-access
        client.results = [(0, b"BECOME-SUCCESS-other\nline\n", b""), (0, become.success.encode() + b"\n", b"")]

        assert conn.exec_command("echo", sudoable=True) == (0, b"BECOME-SUCCESS-other\nline\n", b"")
        assert conn.exec_command("echo", sudoable=False) == (0, become.success.encode() + b"\n", b"")

    def test_put_file_size_limit(self, recorded, make_connection, tmp_path):
        conn = make_connection(ansible_fleetops_ssm_max_transfer_size=10)
        client = connected(conn)
        big = tmp_path / "big"
        big.write_bytes(b"x" * 11)

        with pytest.raises(AnsibleError, match="max_transfer_size"):
            conn.put_file(str(big), "/tmp/big")

        assert len(client.requests) == 1  # only the first "true"

    def test_put_file_chunk_size(self, recorded, make_connection, tmp_path):
        conn = make_connection(ansible_fleetops_ssm_transfer_chunk_size=4)
        client = connected(conn)
        src = tmp_path / "src"
        src.write_bytes(b"0123456789")
        data = b"0123456789"
        digest = hashlib.sha256(data).hexdigest()
        client.results = [(0, b"", b"")] * 4

        conn.put_file(str(src), "/tmp/dest")

        chunks = [r[1] for r in client.requests[1:] if r[1] is not None]
        assert chunks == [b"0123", b"4567", b"89"]
        assert digest in client.requests[-1][0]
        assert len(client.requests) == 4  # the last chunk's request also verifies the file

    def test_a_broken_control_directory_is_an_ansible_error(self, aws_env, make_connection, tmp_path):
        # the real client checks the directory; anything wrong must surface as a clean Ansible error
        (tmp_path / "elsewhere").mkdir()
        os.symlink(tmp_path / "elsewhere", tmp_path / "cp-link")
        conn = make_connection(ansible_fleetops_ssm_control_path_dir=str(tmp_path / "cp-link"))

        with pytest.raises(AnsibleError):
            conn.exec_command("true")


class TestTransferMethod:
    @pytest.fixture
    def transfers(self, monkeypatch):
        """Which transfer function ran, with which store settings."""
        calls = []

        def recorder(name):
            def record(client, *args):
                store = args[0] if name.startswith("s3") else None
                calls.append((name, vars(store.settings) if store else None, args))
                return "digest"
            return record

        for name in ("put_file", "fetch_file", "s3_put_file", "s3_fetch_file"):
            monkeypatch.setattr(session_module, name, recorder(name))
        return calls

    @pytest.fixture
    def files(self, tmp_path):
        small = tmp_path / "small"
        small.write_bytes(b"x" * 99)
        large = tmp_path / "large"
        large.write_bytes(b"x" * 100)
        return str(small), str(large)

    def test_in_band_by_default(self, recorded, make_connection, transfers, files):
        conn = make_connection(ansible_fleetops_ssm_bucket_name="fleet-transfers")

        conn.put_file(files[1], "/tmp/dest")
        conn.fetch_file("/tmp/dest", files[0] + ".back")

        assert [c[0] for c in transfers] == ["put_file", "fetch_file"]

    def test_s3_with_every_bucket_option(self, recorded, make_connection, transfers, files):
        conn = make_connection(
            ansible_fleetops_ssm_transfer_method="s3",
            ansible_fleetops_ssm_bucket_name="fleet-transfers",
            ansible_fleetops_ssm_bucket_prefix="ansible",
            ansible_fleetops_ssm_bucket_endpoint_url="https://bucket.vpce-0123.s3.eu-west-1.vpce.amazonaws.com",
            ansible_fleetops_ssm_s3_addressing_style="virtual",
            ansible_fleetops_ssm_bucket_sse_mode="aws:kms",
            ansible_fleetops_ssm_bucket_sse_kms_key_id="alias/fleet",
        )

        conn.put_file(files[0], "/tmp/dest")
        conn.fetch_file("/tmp/dest", files[0] + ".back")

        assert [c[0] for c in transfers] == ["s3_put_file", "s3_fetch_file"]
        assert transfers[0][1] == {
            "bucket": "fleet-transfers", "prefix": "ansible/",
            "endpoint_url": "https://bucket.vpce-0123.s3.eu-west-1.vpce.amazonaws.com",
            "addressing_style": "virtual", "sse_mode": "aws:kms", "kms_key_id": "alias/fleet"}
        assert transfers[0][2][1:4] == (INSTANCE_ID, files[0], "/tmp/dest")

    def test_the_bucket_from_the_environment(self, recorded, make_connection, transfers, files, monkeypatch):
        monkeypatch.setenv("FLEETOPS_SSM_TRANSFER_METHOD", "s3")
        monkeypatch.setenv("FLEETOPS_SSM_BUCKET_NAME", "env-bucket")

        make_connection().put_file(files[0], "/tmp/dest")

        assert transfers[0][0] == "s3_put_file"
        assert transfers[0][1]["bucket"] == "env-bucket"

    def test_auto_sends_large_files_through_s3(self, recorded, make_connection, transfers, files):
        conn = make_connection(ansible_fleetops_ssm_transfer_method="auto", ansible_fleetops_ssm_bucket_name="b",
                               ansible_fleetops_ssm_s3_transfer_threshold=100)

        conn.put_file(files[0], "/tmp/small")
        conn.put_file(files[1], "/tmp/large")

        assert [c[0] for c in transfers] == ["put_file", "s3_put_file"]

    @pytest.mark.parametrize("size, expected", [(b"99\n", "fetch_file"), (b"100\n", "s3_fetch_file")])
    def test_auto_reads_the_size_of_a_file_to_fetch(self, recorded, make_connection, transfers, tmp_path, size, expected):
        conn = make_connection(ansible_fleetops_ssm_transfer_method="auto", ansible_fleetops_ssm_bucket_name="b",
                               ansible_fleetops_ssm_s3_transfer_threshold=100)
        client = connected(conn)
        client.results = [(0, size, b"")]

        conn.fetch_file("/tmp/file", str(tmp_path / "back"))

        assert client.requests[-1][0] == "stat -c %s -- /tmp/file"
        assert [c[0] for c in transfers] == [expected]

    @pytest.mark.parametrize("method", ["s3", "auto"])
    def test_s3_without_a_bucket_is_refused_before_anything(self, recorded, make_connection, transfers, files, method):
        conn = make_connection(ansible_fleetops_ssm_transfer_method=method)

        with pytest.raises(AnsibleError, match="bucket_name"):
            conn.put_file(files[0], "/tmp/dest")
        with pytest.raises(AnsibleError, match="bucket_name"):
            conn.fetch_file("/tmp/dest", files[0] + ".back")

        assert transfers == []
        assert recorded == []  # not even a session

    def test_a_kms_key_needs_aws_kms(self, recorded, make_connection, transfers, files):
        conn = make_connection(ansible_fleetops_ssm_transfer_method="s3", ansible_fleetops_ssm_bucket_name="b",
                               ansible_fleetops_ssm_bucket_sse_mode="AES256",
                               ansible_fleetops_ssm_bucket_sse_kms_key_id="alias/fleet")

        with pytest.raises(AnsibleError, match="aws:kms"):
            conn.put_file(files[0], "/tmp/dest")

        assert transfers == []

    def test_a_bad_method_is_refused(self, recorded, make_connection):
        with pytest.raises(AnsibleError, match="transfer_method"):
            make_connection(ansible_fleetops_ssm_transfer_method="ftp")

        assert recorded == []

    def test_objects_left_in_the_bucket_are_warnings(self, recorded, make_connection, files, monkeypatch):
        warnings = []
        monkeypatch.setattr(session_module.display, "warning", warnings.append)

        def leaves_an_object(client, store, *args):
            store.leftovers.append("deleting s3://b/k failed (IAM action s3:DeleteObject): AccessDenied: no")
            return "digest"

        monkeypatch.setattr(session_module, "s3_put_file", leaves_an_object)
        conn = make_connection(ansible_fleetops_ssm_transfer_method="s3", ansible_fleetops_ssm_bucket_name="b")

        conn.put_file(files[0], "/tmp/dest")

        assert len(warnings) == 1
        assert "s3:DeleteObject" in warnings[0] and INSTANCE_ID in warnings[0]


class TestLogging:
    @pytest.fixture
    def verbose(self, monkeypatch, capsys):
        monkeypatch.setattr(session_module.display, "verbosity", 4)

        def output():
            captured = capsys.readouterr()
            return captured.out + captured.err

        return output

    def test_commands_are_logged_at_vvv(self, recorded, make_connection, verbose):
        conn = make_connection()
        conn.exec_command("echo hello")

        assert "EXEC echo hello" in verbose()

    def test_module_data_is_never_logged(self, recorded, make_connection, verbose):
        conn = make_connection()

        conn.exec_command("/usr/bin/python3", in_data=b"MODULE_ARGS = {'password': 'hunter2'}")

        text = verbose()
        assert "/usr/bin/python3" in text
        assert "hunter2" not in text
        assert "MODULE_ARGS" not in text

    def test_no_log_tasks_hide_the_command(self, recorded, make_connection, verbose):
        conn = make_connection()
        conn._play_context.no_log = True  # pylint: disable=protected-access

        conn.exec_command("mysql -p'hunter2' -e 'select 1'")

        text = verbose()
        assert "hunter2" not in text
        assert "EXEC" in text

    def test_long_commands_are_cut(self, recorded, make_connection, verbose):
        conn = make_connection()

        conn.exec_command("echo " + "x" * 100000)

        assert len(verbose()) < 10000

    def test_credentials_are_never_logged(self, recorded, make_connection, verbose, monkeypatch):
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
        conn = make_connection()

        conn.exec_command("true")
        conn.reset()

        text = verbose()
        assert "SESSION" in text or "EXEC" in text
        assert SECRET_KEY not in text
        assert SESSION_TOKEN not in text


# ---------------------------------------------------------------------- whole tasks


@pytest.fixture
def stack(fake_ssm, tmp_path, short_dir, node_home, monkeypatch, make_connection):
    """make(version=..., instance=..., **vars) -> a connection to the real stack."""
    bindir = tmp_path / "stack-bin"
    bindir.mkdir()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    conns = []

    def make(version=NEW_VERSION, **variables):
        plugin, record = write_fake_plugin(str(bindir), fake_ssm.state_dir, node_home, version=version)
        variables.setdefault("ansible_fleetops_ssm_plugin", plugin)
        variables.setdefault("ansible_fleetops_ssm_endpoint_url", fake_ssm.url)
        variables.setdefault("ansible_fleetops_ssm_control_path_dir", short_dir)
        variables.setdefault("ansible_fleetops_ssm_persist_idle_timeout", 20)
        conn = make_connection(**variables)
        conn.record = record
        conns.append(conn)
        return conn

    yield make
    for conn in conns:
        try:
            conn.reset()
        except AnsibleError:
            pass


class TestTasks:
    def test_commands(self, stack, fake_ssm):
        conn = stack()

        assert conn.exec_command("printf 'a\\000b\\r\\n'; echo err >&2; exit 3") == (3, b"a\x00b\r\n", b"err\n")
        for rc in (0, 1, 2, 127, 255):
            assert conn.exec_command("exit %d" % rc)[0] == rc
        assert fake_ssm.count("StartSession") == 1

    def test_pipelining(self, stack):
        conn = stack()

        assert conn.exec_command("sh", in_data=b"echo piped\necho e >&2\nexit 4\n") == (4, b"piped\n", b"e\n")
        assert conn.exec_command("cat", in_data=BINARY) == (0, BINARY, b"")

    def test_files(self, stack, tmp_path):
        conn = stack(ansible_fleetops_ssm_transfer_chunk_size=1000)
        data = BINARY * 20
        (tmp_path / "src").write_bytes(data)
        (tmp_path / "empty").write_bytes(b"")
        node = tmp_path / "node ☃"
        node.mkdir()

        conn.put_file(str(tmp_path / "src"), str(node / "file.bin"))
        conn.fetch_file(str(node / "file.bin"), str(tmp_path / "back"))
        conn.put_file(str(tmp_path / "empty"), str(node / "empty"))
        conn.fetch_file(str(node / "empty"), str(tmp_path / "empty-back"))

        assert (node / "file.bin").read_bytes() == data
        assert (tmp_path / "back").read_bytes() == data
        assert (node / "empty").read_bytes() == b"" and (tmp_path / "empty-back").read_bytes() == b""

    def test_files_through_s3(self, stack, fake_s3, fake_ssm, tmp_path):
        conn = stack(ansible_fleetops_ssm_transfer_method="s3", ansible_fleetops_ssm_bucket_name=fake_s3.bucket,
                     ansible_fleetops_ssm_bucket_endpoint_url=fake_s3.url, ansible_fleetops_ssm_s3_addressing_style="path",
                     ansible_fleetops_ssm_bucket_prefix="transfers", ansible_fleetops_ssm_bucket_sse_mode="AES256")
        data = BINARY * 2000
        (tmp_path / "src").write_bytes(data)
        node = tmp_path / "node"
        node.mkdir()

        conn.put_file(str(tmp_path / "src"), str(node / "file.bin"))
        conn.fetch_file(str(node / "file.bin"), str(tmp_path / "back"))

        assert (node / "file.bin").read_bytes() == data
        assert (tmp_path / "back").read_bytes() == data
        assert [(m, k.startswith("transfers/%s/" % INSTANCE_ID)) for m, k, dummy, dummy in fake_s3.node_requests()] == [
            ("GET", True), ("PUT", True)]
        assert fake_s3.objects == {}
        assert fake_ssm.count("StartSession") == 1

    def test_module_code_is_sent_once(self, stack, fake_ssm, node_home):
        conn = stack()
        run = base64.b64encode(os.urandom(30000))
        module = b"import sys\nZ = '" + run + b"'\nprint(len(Z))\n"
        python = sys.executable

        assert conn.exec_command(python, in_data=module) == (0, b"%d\n" % len(run), b"")
        assert conn.exec_command(python, in_data=module) == (0, b"%d\n" % len(run), b"")

        stored = [f for d in os.listdir(os.path.join(node_home, "tmp")) if d.startswith("fleetops-ssm.")
                  for f in os.listdir(os.path.join(node_home, "tmp", d)) if f != "stderr"]
        assert stored == [hashlib.sha256(run).hexdigest()]

    def test_one_session_per_host_for_every_task(self, stack, fake_ssm):
        for dummy in range(4):  # every task has its own connection object
            assert stack().exec_command("echo task") == (0, b"task\n", b"")
        other_host = stack(ansible_host="i-0fedcba9876543210")
        other_host.exec_command("true")

        assert fake_ssm.count("StartSession") == 2
        assert sorted(r["Target"] for r in fake_ssm.requests("StartSession")) == [INSTANCE_ID, "i-0fedcba9876543210"]

    def test_reset_starts_a_new_session(self, stack, fake_ssm):
        conn = stack()
        conn.exec_command("true")

        conn.reset()
        wait_for(lambda: fake_ssm.active() == [], 10, "the session to be terminated")
        conn.exec_command("true")

        assert fake_ssm.count("StartSession") == 2
        assert fake_ssm.count("TerminateSession") >= 1

    def test_old_plugin_warns_about_the_process_list(self, stack, monkeypatch):
        warnings = []
        monkeypatch.setattr(session_module.display, "warning", lambda msg, *a, **k: warnings.append(msg))
        conn = stack(version=OLD_VERSION)

        conn.exec_command("true")

        assert len(warnings) == 1
        assert "process list" in warnings[0]

    def test_new_plugin_gets_the_token_out_of_argv(self, stack, fake_ssm, monkeypatch):
        warnings = []
        monkeypatch.setattr(session_module.display, "warning", lambda msg, *a, **k: warnings.append(msg))
        conn = stack(version=NEW_VERSION)

        conn.exec_command("true")

        launch = plugin_records(conn.record)[-1]
        assert launch["via"] == "env"
        assert fake_ssm.token_values[-1] not in " ".join(launch["argv"]) + launch["parent_cmdline"]
        assert warnings == []

    def test_a_missing_binary_makes_no_api_call(self, stack, fake_ssm, tmp_path):
        conn = stack(ansible_fleetops_ssm_plugin=str(tmp_path / "nowhere" / "session-manager-plugin"))

        with pytest.raises(AnsibleError, match="session-manager-working-with-install-plugin"):
            conn.exec_command("true")

        assert fake_ssm.calls == []

    def test_node_offline_is_unreachable(self, stack, fake_ssm):
        fake_ssm.start_error = (400, "TargetNotConnected", "%s is not connected." % INSTANCE_ID)

        with pytest.raises(AnsibleConnectionFailure, match="TargetNotConnected"):
            stack().exec_command("true")

    def test_a_dying_session_is_unreachable_within_seconds(self, stack):
        conn = stack()
        conn.exec_command("true")
        pid = plugin_records(conn.record)[-1]["pid"]
        threading.Timer(1.0, os.kill, (pid, signal.SIGKILL)).start()
        started = time.monotonic()

        with pytest.raises(AnsibleConnectionFailure):
            within(30, conn.exec_command, "sleep 60")

        assert time.monotonic() - started < 10

    def test_command_timeout_fails_the_task_not_the_host(self, stack):
        conn = stack(ansible_fleetops_ssm_command_timeout=1)
        started = time.monotonic()

        with pytest.raises(AnsibleError, match="command_timeout") as raised:
            within(30, conn.exec_command, "sleep 30")

        assert not isinstance(raised.value, AnsibleConnectionFailure)
        assert time.monotonic() - started < 10
        assert conn.exec_command("echo next") == (0, b"next\n", b"")

    def test_a_long_silent_command_without_a_timeout(self, stack, fake_ssm):
        conn = stack(ansible_fleetops_ssm_connection_check_interval=1)

        assert within(30, conn.exec_command, "sleep 3; echo finished") == (0, b"finished\n", b"")
        assert fake_ssm.count("GetConnectionStatus") >= 1  # watched, not cut short

    def test_logs_at_vvvv_hold_no_token_and_no_secret(self, stack, fake_ssm, monkeypatch, capsys, tmp_path):
        monkeypatch.setattr(session_module.display, "verbosity", 4)
        capsys.readouterr()
        conn = stack()
        (tmp_path / "f").write_bytes(b"data")

        conn.exec_command("echo visible-command")
        conn.put_file(str(tmp_path / "f"), str(tmp_path / "g"))
        conn.fetch_file(str(tmp_path / "g"), str(tmp_path / "h"))
        conn.reset()

        captured = capsys.readouterr()
        text = captured.out + captured.err
        assert "visible-command" in text
        assert fake_ssm.token_values
        for token in fake_ssm.token_values:
            assert token not in text
        assert SECRET_KEY not in text


STAND_IN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "endpoint", "bin",
                        "session-manager-plugin")


@pytest.mark.skipif(not os.path.exists(STAND_IN), reason="the session-manager-plugin stand-in is not in this tree")
class TestStandInTokenRule:
    """The stand-in the integration tests use must draw the line where the plugin (and AWS's) does."""

    @staticmethod
    def run(version, first, response):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "FLEETOPS_SMP_VERSION": version,
               "FLEETOPS_SMP_PYTHON": sys.executable, "FLEETOPS_SMP_HANG_SECONDS": "0",
               "AWS_SSM_START_SESSION_RESPONSE": response}
        target = '{"Target": "%s"}' % INSTANCE_ID
        return subprocess.run([STAND_IN, first, REGION, "StartSession", "", target, "http://127.0.0.1:1"], env=env,
                              capture_output=True, timeout=60, check=False)

    @pytest.mark.parametrize("version", ["1.2.331.0", "1.2.497.0"])
    def test_old_versions_take_the_argument_for_the_json(self, version):
        response = '{"SessionId": "s-1", "TokenValue": "t", "StreamUrl": "ws://127.0.0.1:1/v1/data-channel/s-1"}'

        by_name = self.run(version, "AWS_SSM_START_SESSION_RESPONSE", response)
        as_json = self.run(version, response, "")

        assert by_name.stdout == b"Cannot perform start session: invalid character 'A' looking for beginning of value\n"
        assert b"Starting session with SessionId: s-1" in as_json.stdout
        assert protocol.supports_env_response(version) is False

    @pytest.mark.parametrize("version", ["1.2.497.1", "1.2.498.0", "1.2.536.0", "1.2.707.0"])
    def test_newer_versions_read_the_environment_variable(self, version):
        response = '{"SessionId": "s-2", "TokenValue": "t", "StreamUrl": "ws://127.0.0.1:1/v1/data-channel/s-2"}'

        by_name = self.run(version, "AWS_SSM_START_SESSION_RESPONSE", response)

        assert b"Starting session with SessionId: s-2" in by_name.stdout
        assert protocol.supports_env_response(version) is True
