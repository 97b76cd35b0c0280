# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""In-band put/fetch: chunks, SHA-256 verification, size limits, never a corrupt file.

``LocalClient`` runs each command with the local ``sh`` the way the node would (the commands
the transfer code builds are real shell), and can corrupt or fail on purpose. The last tests
go through the real protocol on a pty.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import signal
import subprocess
import time

import pytest

from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_client import SessionError
from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_client import SessionUnreachable
from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_s3 import S3Settings
from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_s3 import S3Store
from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_transfer import TransferError
from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_transfer import fetch_file
from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_transfer import put_file
from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_transfer import s3_fetch_file
from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_transfer import s3_put_file
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import ProtocolShell
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import PtyShell
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import shell_home
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import shells

BINARY = b"\x00NUL\r\n\r\xff\xfe" + bytes(range(256))


class LocalClient:
    """SessionClient's exec_command, run by the local sh. ``calls`` records (cmd, data size)."""

    def __init__(self, corrupt_chunk=None, corrupt_stdout=False, fail_on=None, unreachable_on=None, interrupt_on=None,
                 error_on=None, env=None):
        self.calls = []
        self.data = []
        self.corrupt_chunk = corrupt_chunk
        self.corrupt_stdout = corrupt_stdout
        self.fail_on = fail_on
        self.unreachable_on = unreachable_on
        self.interrupt_on = interrupt_on
        self.error_on = error_on
        self.env = env
        self.rng = random.Random(3)

    def exec_command(self, cmd, in_data=None, timeout=None, stdout_sink=None):
        index = len(self.calls)
        self.calls.append((cmd, None if in_data is None else len(in_data)))
        self.data.append(in_data)
        if self.unreachable_on == index:
            raise SessionUnreachable("the session died", started=True)
        if self.interrupt_on == index:
            raise KeyboardInterrupt()
        if self.error_on == index:
            raise SessionError("the command did not finish within 5 s (command_timeout); the session was closed")
        if self.fail_on == index:
            return 1, b"", b"cat: No space left on device\n"
        if in_data and self.corrupt_chunk == index:
            in_data = bytes([in_data[0] ^ 0x01]) + in_data[1:]
        proc = subprocess.run(["sh", "-c", cmd], input=in_data if in_data is not None else b"",
                              capture_output=True, check=False, timeout=60, env=self.env)
        out = proc.stdout
        if self.corrupt_stdout and out:
            out = out[:-1] + bytes([out[-1] ^ 0x80])
        if stdout_sink is None:
            return proc.returncode, out, proc.stderr
        start = 0
        while start < len(out):  # stdout arrives in pieces of any size
            size = self.rng.randint(1, 5000)
            stdout_sink(out[start:start + size])
            start += size
        return proc.returncode, b"", proc.stderr


class KilledOnTheNode(LocalClient):
    """The first command gets half its stdin, then a signal to its process group (what timeout(1) sends).

    Later commands fail: only the killed command itself can remove what it wrote.
    """

    def __init__(self, sig):
        super().__init__()
        self.sig = sig
        self.killed = False

    def _default_signal(self):
        # A shell cannot trap a signal that was ignored when it started (POSIX), as SIGINT and SIGHUP
        # are under a background or nohup test run: the node's command starts with the default.
        signal.signal(self.sig, signal.SIG_DFL)

    def exec_command(self, cmd, in_data=None, timeout=None, stdout_sink=None):
        if self.killed:
            self.calls.append((cmd, None if in_data is None else len(in_data)))
            raise SessionError("no more commands")
        self.calls.append((cmd, None if in_data is None else len(in_data)))
        # pylint: disable-next=consider-using-with
        proc = subprocess.Popen(["sh", "-c", cmd], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True, preexec_fn=self._default_signal)
        proc.stdin.write(in_data[: len(in_data) // 2])
        proc.stdin.flush()
        time.sleep(0.3)
        os.killpg(proc.pid, self.sig)
        self.killed = True
        out, err = proc.communicate(timeout=30)
        return proc.returncode, out, err


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return str(path)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def leftovers(directory):
    return sorted(name for name in os.listdir(directory) if ".fleetops-" in name or name.endswith(".part"))


@pytest.fixture
def local(tmp_path):
    (tmp_path / "local").mkdir()
    (tmp_path / "node").mkdir()
    return tmp_path / "local", tmp_path / "node"


class TestPut:
    @pytest.mark.parametrize("size", [0, 1, 6, 7, 8, 29, 3 * 7 + 5])
    def test_round_trip_in_chunks(self, local, size):
        src_dir, node = local
        data = (BINARY * 2)[:size]
        src = write(src_dir / "src", data)
        client = LocalClient()

        digest = put_file(client, src, str(node / "dest"), chunk_size=7, max_size=0)

        assert read(node / "dest") == data
        assert digest == hashlib.sha256(data).hexdigest()
        # one request per chunk; the last one also verifies and renames (a small file: one request)
        assert len(client.calls) == max(1, -(-size // 7))
        assert all(n is not None and n <= 7 for cmd, n in client.calls)  # memory: one chunk at a time
        assert sum(n for cmd, n in client.calls) == size
        assert ["sha256sum" in cmd for cmd, n in client.calls] == [False] * (len(client.calls) - 1) + [True]
        assert leftovers(node) == []

    def test_empty_file(self, local):
        src_dir, node = local
        write(node / "dest", b"old content")

        digest = put_file(LocalClient(), write(src_dir / "empty", b""), str(node / "dest"), 4096, 0)

        assert read(node / "dest") == b""
        assert digest == hashlib.sha256(b"").hexdigest()
        assert leftovers(node) == []

    def test_replaces_an_existing_file(self, local):
        src_dir, node = local
        write(node / "dest", b"x" * 1000)

        put_file(LocalClient(), write(src_dir / "src", b"short"), str(node / "dest"), 3, 0)

        assert read(node / "dest") == b"short"

    def test_paths_with_spaces_quotes_and_unicode(self, local):
        src_dir, node = local
        dest = node / "it's a \"file\" $(x) Grüße ☃.bin"

        put_file(LocalClient(), write(src_dir / "src", BINARY), str(dest), 100, 0)

        assert read(dest) == BINARY

    def test_a_corrupted_chunk_fails_the_transfer_and_leaves_no_file(self, local):
        src_dir, node = local
        write(node / "dest", b"previous version")
        client = LocalClient(corrupt_chunk=1)

        with pytest.raises(TransferError, match="(?i)checksum|mismatch"):
            put_file(client, write(src_dir / "src", BINARY * 4), str(node / "dest"), 256, 0)

        assert read(node / "dest") == b"previous version"
        assert leftovers(node) == []

    def test_a_failed_chunk_write_is_reported_and_cleaned_up(self, local):
        src_dir, node = local
        client = LocalClient(fail_on=1)

        with pytest.raises(TransferError, match="No space left on device"):
            put_file(client, write(src_dir / "src", BINARY * 4), str(node / "dest"), 256, 0)

        assert not (node / "dest").exists()
        assert leftovers(node) == []
        assert len(client.calls) == 3  # two chunks, then the clean-up; never the rename

    def test_a_missing_destination_directory_is_an_error(self, local):
        src_dir, node = local

        with pytest.raises(TransferError):
            put_file(LocalClient(), write(src_dir / "src", b"data"), str(node / "no" / "such" / "dest"), 256, 0)

    def test_a_missing_source_is_an_error_before_any_command(self, local):
        src_dir, node = local
        client = LocalClient()

        with pytest.raises(TransferError, match="cannot read"):
            put_file(client, str(src_dir / "missing"), str(node / "dest"), 256, 0)

        assert client.calls == []

    def test_larger_than_max_transfer_size_is_refused_before_any_command(self, local):
        src_dir, node = local
        client = LocalClient()

        with pytest.raises(TransferError, match="max_transfer_size"):
            put_file(client, write(src_dir / "src", b"x" * 101), str(node / "dest"), 256, 100)

        assert client.calls == []
        assert not (node / "dest").exists()

    def test_exactly_max_transfer_size_is_allowed(self, local):
        src_dir, node = local

        put_file(LocalClient(), write(src_dir / "src", b"x" * 100), str(node / "dest"), 256, 100)

        assert read(node / "dest") == b"x" * 100

    def test_a_dead_session_is_not_hidden(self, local):
        src_dir, node = local
        client = LocalClient(unreachable_on=1)

        with pytest.raises(SessionUnreachable):
            put_file(client, write(src_dir / "src", BINARY * 4), str(node / "dest"), 256, 0)

        assert not (node / "dest").exists()
        assert len(client.calls) == 2  # no clean-up through a session that is gone (it would start a new one)

    def test_an_interrupted_put_removes_its_temporary_file(self, local):
        src_dir, node = local
        client = LocalClient(interrupt_on=2)

        with pytest.raises(KeyboardInterrupt):
            put_file(client, write(src_dir / "src", BINARY * 4), str(node / "dest"), 256, 0)

        assert not (node / "dest").exists()
        assert leftovers(node) == []
        assert client.calls[-1][0].startswith("rm -f -- ")

    def test_a_failing_request_removes_the_temporary_file(self, local):
        src_dir, node = local
        client = LocalClient(error_on=1)

        with pytest.raises(SessionError, match="command_timeout"):
            put_file(client, write(src_dir / "src", BINARY * 4), str(node / "dest"), 256, 0)

        assert leftovers(node) == []

    @pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
    def test_a_command_killed_on_the_node_removes_what_it_wrote(self, local, sig):
        # what the node's timeout(1) (command_timeout) does to a put that takes too long
        src_dir, node = local
        client = KilledOnTheNode(sig)

        with pytest.raises(TransferError):
            put_file(client, write(src_dir / "src", b"x" * 600), str(node / "dest"), 256, 0)

        assert client.killed
        assert leftovers(node) == []


class TestFetch:
    @pytest.mark.parametrize("size", [0, 1, 255, 70000])
    def test_round_trip(self, local, size):
        local_dir, node = local
        data = random.Random(size).randbytes(size)
        write(node / "src", data)

        digest = fetch_file(LocalClient(), str(node / "src"), str(local_dir / "dest"), 0)

        assert read(local_dir / "dest") == data
        assert digest == hashlib.sha256(data).hexdigest()
        assert leftovers(local_dir) == []

    def test_binary_content(self, local):
        local_dir, node = local
        write(node / "src", BINARY * 10)

        fetch_file(LocalClient(), str(node / "src"), str(local_dir / "dest"), 0)

        assert read(local_dir / "dest") == BINARY * 10

    def test_streams_to_the_file_instead_of_holding_it(self, local):
        local_dir, node = local
        write(node / "src", b"x" * 10000)
        client = LocalClient()
        seen = []
        original = client.exec_command

        def spy(cmd, in_data=None, timeout=None, stdout_sink=None):
            seen.append(stdout_sink)
            return original(cmd, in_data, timeout, stdout_sink)

        client.exec_command = spy

        fetch_file(client, str(node / "src"), str(local_dir / "dest"), 0)

        assert seen and seen[0] is not None

    def test_corrupted_data_is_never_saved(self, local):
        local_dir, node = local
        write(node / "src", BINARY * 4)
        write(local_dir / "dest", b"previous version")

        with pytest.raises(TransferError, match="(?i)checksum|mismatch"):
            fetch_file(LocalClient(corrupt_stdout=True), str(node / "src"), str(local_dir / "dest"), 0)

        assert read(local_dir / "dest") == b"previous version"
        assert leftovers(local_dir) == []

    def test_no_checksum_from_the_node_is_a_mismatch(self, local):
        local_dir, node = local
        write(node / "src", b"data")

        class NoChecksum(LocalClient):
            def exec_command(self, cmd, in_data=None, timeout=None, stdout_sink=None):
                rc, dummy, dummy = super().exec_command(cmd, in_data, timeout, stdout_sink)
                return rc, b"", b""

        with pytest.raises(TransferError):
            fetch_file(NoChecksum(), str(node / "src"), str(local_dir / "dest"), 0)

        assert not (local_dir / "dest").exists()
        assert leftovers(local_dir) == []

    def test_a_missing_remote_file(self, local):
        local_dir, node = local

        with pytest.raises(TransferError, match="No such file"):
            fetch_file(LocalClient(), str(node / "missing"), str(local_dir / "dest"), 0)

        assert not (local_dir / "dest").exists()
        assert leftovers(local_dir) == []

    def test_larger_than_max_transfer_size(self, local):
        local_dir, node = local
        write(node / "src", b"x" * 101)

        with pytest.raises(TransferError, match="max_transfer_size"):
            fetch_file(LocalClient(), str(node / "src"), str(local_dir / "dest"), 100)

        assert not (local_dir / "dest").exists()
        assert leftovers(local_dir) == []

    def test_exactly_max_transfer_size_is_allowed(self, local):
        local_dir, node = local
        write(node / "src", b"x" * 100)

        fetch_file(LocalClient(), str(node / "src"), str(local_dir / "dest"), 100)

        assert read(local_dir / "dest") == b"x" * 100

    def test_a_dead_session_leaves_no_partial_file(self, local):
        local_dir, node = local
        write(node / "src", b"data")

        with pytest.raises(SessionError):
            fetch_file(LocalClient(unreachable_on=0), str(node / "src"), str(local_dir / "dest"), 0)

        assert not (local_dir / "dest").exists()
        assert leftovers(local_dir) == []


SHELLS = shells()


@pytest.mark.parametrize("shell", SHELLS, ids=[s[0] for s in SHELLS])
def test_put_and_fetch_through_the_protocol_on_a_pty(shell, local, node_home):
    src_dir, node = local
    data = random.Random(5).randbytes(200 * 1024) + BINARY
    pty_shell = PtyShell(shell[1], shell[2], node_home)
    try:
        session = ProtocolShell(pty_shell)
        put_digest = put_file(session, write(src_dir / "src", data), str(node / "copy ☃.bin"), 64 * 1024, 0)
        fetch_digest = fetch_file(session, str(node / "copy ☃.bin"), str(src_dir / "back"), 0)
        empty_digest = put_file(session, write(src_dir / "empty", b""), str(node / "empty"), 64 * 1024, 0)
        fetch_file(session, str(node / "empty"), str(src_dir / "empty-back"), 0)
    finally:
        pty_shell.close()

    assert read(node / "copy ☃.bin") == data
    assert read(src_dir / "back") == data
    assert put_digest == fetch_digest == hashlib.sha256(data).hexdigest()
    assert empty_digest == hashlib.sha256(b"").hexdigest()
    assert read(node / "empty") == b"" and read(src_dir / "empty-back") == b""
    assert leftovers(node) == [] and leftovers(src_dir) == []


# ---------------------------------------------------------------------- through S3

INSTANCE = "mi-0123456789abcdef0"


def s3_store(fake_s3, **settings):
    cfg = {
        "region": "eu-west-1",
        "credentials": {"aws_access_key_id": "AKIAFLEETOPSTEST0001", "aws_secret_access_key": "secret",
                        "aws_session_token": None, "profile_name": None},
        "verify": None,
        "aws_config": {"retries": {"mode": "standard", "max_attempts": 1}},
    }
    settings.setdefault("bucket", fake_s3.bucket)
    settings.setdefault("endpoint_url", fake_s3.url)
    settings.setdefault("addressing_style", "path")
    return S3Store(cfg, S3Settings(**settings))


@pytest.fixture
def node_without_curl(tmp_path):
    """The environment of a node that has python3 but no curl."""
    home = shell_home(str(tmp_path / "home-without-curl"), hide=("curl",))
    return {"PATH": os.path.join(home, "node-bin"), "HOME": home}


NODE_CLIENTS = ["curl", "python3"]


def node_client(kind, env, **kwargs):
    return LocalClient(env=env if kind == "python3" else None, **kwargs)


class TestS3Put:
    @pytest.mark.parametrize("kind", NODE_CLIENTS)
    def test_round_trip(self, local, fake_s3, node_without_curl, kind):
        src_dir, node = local
        data = random.Random(9).randbytes(300 * 1024) + BINARY
        client = node_client(kind, node_without_curl)
        store = s3_store(fake_s3, prefix="ansible/transfers")

        digest = s3_put_file(client, store, INSTANCE, write(src_dir / "src", data), str(node / "dest ☃"), 0)

        assert read(node / "dest ☃") == data
        assert digest == hashlib.sha256(data).hexdigest()
        [(dummy, key, dummy, dummy)] = fake_s3.controller_requests("PUT")
        assert key.startswith("ansible/transfers/%s/" % INSTANCE)
        assert [(m, k) for m, k, dummy, dummy in fake_s3.node_requests()] == [("GET", key)]
        assert fake_s3.objects == {}  # deleted afterwards
        assert len(client.calls) == 1
        assert leftovers(node) == []

    def test_the_url_is_never_on_a_command_line(self, local, fake_s3):
        src_dir, node = local
        client = LocalClient()

        s3_put_file(client, s3_store(fake_s3), INSTANCE, write(src_dir / "src", b"data"), str(node / "dest"), 0)

        [(cmd, dummy)] = client.calls
        assert "X-Amz-Signature" not in cmd and fake_s3.url not in cmd
        assert b"X-Amz-Signature" in client.data[0]  # curl's configuration, on stdin

    def test_server_side_encryption(self, local, fake_s3):
        src_dir, node = local
        store = s3_store(fake_s3, sse_mode="aws:kms", kms_key_id="alias/fleet")

        s3_put_file(LocalClient(), store, INSTANCE, write(src_dir / "src", b"data"), str(node / "dest"), 0)

        [(dummy, dummy, dummy, headers)] = fake_s3.controller_requests("PUT")
        assert headers["x-amz-server-side-encryption"] == "aws:kms"
        assert headers["x-amz-server-side-encryption-aws-kms-key-id"] == "alias/fleet"

    @pytest.mark.parametrize("kind", NODE_CLIENTS)
    @pytest.mark.parametrize("status", [403, 404, 500])
    def test_an_s3_error_is_never_saved_as_the_file(self, local, fake_s3, node_without_curl, kind, status):
        src_dir, node = local
        write(node / "dest", b"previous version")
        fake_s3.get_status = status
        client = node_client(kind, node_without_curl)

        with pytest.raises(TransferError) as raised:
            s3_put_file(client, s3_store(fake_s3), INSTANCE, write(src_dir / "src", b"new"), str(node / "dest"), 0)

        assert "HTTP status %d" % status in str(raised.value)
        assert "AccessDenied: Request has expired" in str(raised.value)
        assert "fleetops-test-host-id" not in str(raised.value)  # the rest of the error document is dropped
        assert read(node / "dest") == b"previous version"
        assert leftovers(node) == []
        assert fake_s3.objects == {}

    def test_a_download_that_does_not_match_is_never_saved(self, local, fake_s3):
        src_dir, node = local
        fake_s3.corrupt_get = True

        with pytest.raises(TransferError, match="does not match"):
            s3_put_file(LocalClient(), s3_store(fake_s3), INSTANCE, write(src_dir / "src", BINARY), str(node / "dest"), 0)

        assert not (node / "dest").exists()
        assert leftovers(node) == []

    @pytest.mark.parametrize("kind", NODE_CLIENTS)
    def test_an_unreachable_endpoint(self, local, fake_s3, node_without_curl, kind):
        src_dir, node = local
        store = s3_store(fake_s3)
        store.url_for_get = lambda key: "http://127.0.0.1:1/%s/%s" % (fake_s3.bucket, key)  # nothing listens there

        with pytest.raises(TransferError, match="downloading from S3 failed"):
            s3_put_file(node_client(kind, node_without_curl), store, INSTANCE, write(src_dir / "src", b"x"),
                        str(node / "dest"), 0)

        assert not (node / "dest").exists()
        assert leftovers(node) == []
        assert fake_s3.objects == {}

    def test_a_missing_bucket_fails_before_the_node_is_asked(self, local, fake_s3):
        src_dir, node = local
        client = LocalClient()

        with pytest.raises(TransferError, match=r"s3:PutObject.*NoSuchBucket"):
            s3_put_file(client, s3_store(fake_s3, bucket="no-such-bucket"), INSTANCE, write(src_dir / "src", b"x"),
                        str(node / "dest"), 0)

        assert client.calls == []

    def test_too_large_is_refused_before_any_upload(self, local, fake_s3):
        src_dir, node = local

        with pytest.raises(TransferError, match="max_transfer_size"):
            s3_put_file(LocalClient(), s3_store(fake_s3), INSTANCE, write(src_dir / "src", b"x" * 11), str(node / "d"), 10)

        assert fake_s3.requests == []

    def test_an_object_that_cannot_be_deleted_is_a_warning(self, local, fake_s3):
        src_dir, node = local
        fake_s3.delete_status = 403
        store = s3_store(fake_s3)

        s3_put_file(LocalClient(), store, INSTANCE, write(src_dir / "src", b"data"), str(node / "dest"), 0)

        assert read(node / "dest") == b"data"
        [warning] = store.leftovers
        assert "s3:DeleteObject" in warning and "AccessDenied" in warning

    def test_an_interrupted_put_cleans_up(self, local, fake_s3):
        src_dir, node = local
        client = LocalClient(interrupt_on=0)

        with pytest.raises(KeyboardInterrupt):
            s3_put_file(client, s3_store(fake_s3), INSTANCE, write(src_dir / "src", b"data"), str(node / "dest"), 0)

        assert client.calls[-1][0].startswith("rm -f -- ")
        assert fake_s3.objects == {}

    def test_a_dead_session_still_deletes_the_object(self, local, fake_s3):
        src_dir, node = local
        client = LocalClient(unreachable_on=0)

        with pytest.raises(SessionUnreachable):
            s3_put_file(client, s3_store(fake_s3), INSTANCE, write(src_dir / "src", b"data"), str(node / "dest"), 0)

        assert len(client.calls) == 1
        assert fake_s3.objects == {}


class TestS3Fetch:
    @pytest.mark.parametrize("kind", NODE_CLIENTS)
    def test_round_trip(self, local, fake_s3, node_without_curl, kind):
        local_dir, node = local
        data = random.Random(11).randbytes(200 * 1024) + BINARY
        write(node / "src ☃", data)
        store = s3_store(fake_s3, sse_mode="AES256")

        digest = s3_fetch_file(node_client(kind, node_without_curl), store, INSTANCE, str(node / "src ☃"),
                               str(local_dir / "dest"), 0)

        assert read(local_dir / "dest") == data
        assert digest == hashlib.sha256(data).hexdigest()
        [(method, key, dummy, headers)] = fake_s3.node_requests()
        assert method == "PUT"
        assert headers["x-amz-server-side-encryption"] == "AES256"  # signed into the URL: the node must send it
        # not a form (python's urllib would say so), which some S3-compatible servers parse
        assert headers.get("content-type", "application/octet-stream") == "application/octet-stream"
        assert fake_s3.objects == {}
        assert leftovers(local_dir) == []

    @pytest.mark.parametrize("kind", NODE_CLIENTS)
    def test_a_refused_upload(self, local, fake_s3, node_without_curl, kind):
        local_dir, node = local
        write(node / "src", b"data")
        fake_s3.put_status = 403

        with pytest.raises(TransferError, match=r"HTTP status 403.*AccessDenied"):
            s3_fetch_file(node_client(kind, node_without_curl), s3_store(fake_s3), INSTANCE, str(node / "src"),
                          str(local_dir / "dest"), 0)

        assert not (local_dir / "dest").exists()
        assert leftovers(local_dir) == []

    def test_a_missing_remote_file(self, local, fake_s3):
        local_dir, node = local

        with pytest.raises(TransferError, match="not a readable file"):
            s3_fetch_file(LocalClient(), s3_store(fake_s3), INSTANCE, str(node / "missing"), str(local_dir / "dest"), 0)

        assert fake_s3.node_requests() == []

    def test_larger_than_max_transfer_size(self, local, fake_s3):
        local_dir, node = local
        write(node / "src", b"x" * 101)

        with pytest.raises(TransferError, match="max_transfer_size"):
            s3_fetch_file(LocalClient(), s3_store(fake_s3), INSTANCE, str(node / "src"), str(local_dir / "dest"), 100)

        assert fake_s3.node_requests() == []
        assert not (local_dir / "dest").exists()

    def test_an_object_that_differs_from_the_node_file_is_never_saved(self, local, fake_s3):
        local_dir, node = local
        write(node / "src", b"the node's file")
        write(local_dir / "dest", b"previous version")
        store = s3_store(fake_s3)
        real_download = store.download

        def tampered(key, path):
            fake_s3.objects[key] = b"something else"
            real_download(key, path)

        store.download = tampered

        with pytest.raises(TransferError, match="does not match"):
            s3_fetch_file(LocalClient(), store, INSTANCE, str(node / "src"), str(local_dir / "dest"), 0)

        assert read(local_dir / "dest") == b"previous version"
        assert leftovers(local_dir) == []
        assert fake_s3.objects == {}


class TestS3Settings:
    @pytest.mark.parametrize("prefix, expected", [("", ""), ("a", "a/"), ("a/b/", "a/b/"), ("/a", "a/")])
    def test_prefix(self, prefix, expected):
        key = S3Settings("b", prefix=prefix).key(INSTANCE, "/home/ssm-user/.ansible/tmp/x/source")

        assert re.fullmatch(re.escape(expected + INSTANCE + "/") + "[0-9a-f]{24}-source", key)

    def test_keys_differ(self):
        settings = S3Settings("b")

        assert settings.key(INSTANCE, "f") != settings.key(INSTANCE, "f")

    def test_sse(self):
        assert S3Settings("b").sse_params() == {} and S3Settings("b").sse_headers() == {}
        kms = S3Settings("b", sse_mode="aws:kms", kms_key_id="k")
        assert kms.sse_params() == {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "k"}
        assert kms.sse_headers() == {"x-amz-server-side-encryption": "aws:kms",
                                     "x-amz-server-side-encryption-aws-kms-key-id": "k"}

    def test_the_bucket_region_signs_the_urls(self, fake_s3):
        # no endpoint: the bucket's region is asked for (the fake answers eu-west-1)
        store = s3_store(fake_s3, endpoint_url=None)
        store.cfg = dict(store.cfg, region="us-east-2")
        probe = []
        real = S3Store._bucket_region

        def spy(self, session, config, kwargs, region):
            probe.append(region)
            return "ap-southeast-2"

        S3Store._bucket_region = spy
        try:
            url = store.url_for_get("k")
        finally:
            S3Store._bucket_region = real

        assert probe == ["us-east-2"]
        assert "ap-southeast-2" in url
