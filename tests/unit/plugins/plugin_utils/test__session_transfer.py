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
import subprocess

import pytest

from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_client import SessionError
from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_client import SessionUnreachable
from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_transfer import TransferError
from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_transfer import fetch_file
from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_transfer import put_file
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import ProtocolShell
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import PtyShell
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import shells

BINARY = b"\x00NUL\r\n\r\xff\xfe" + bytes(range(256))


class LocalClient:
    """SessionClient's exec_command, run by the local sh. ``calls`` records (cmd, data size)."""

    def __init__(self, corrupt_chunk=None, corrupt_stdout=False, fail_on=None, unreachable_on=None):
        self.calls = []
        self.data = []
        self.corrupt_chunk = corrupt_chunk
        self.corrupt_stdout = corrupt_stdout
        self.fail_on = fail_on
        self.unreachable_on = unreachable_on
        self.rng = random.Random(3)

    def exec_command(self, cmd, in_data=None, timeout=None, stdout_sink=None):
        index = len(self.calls)
        self.calls.append((cmd, None if in_data is None else len(in_data)))
        self.data.append(in_data)
        if self.unreachable_on == index:
            raise SessionUnreachable("the session died", started=True)
        if self.fail_on == index:
            return 1, b"", b"cat: No space left on device\n"
        if in_data and self.corrupt_chunk == index:
            in_data = bytes([in_data[0] ^ 0x01]) + in_data[1:]
        proc = subprocess.run(["sh", "-c", cmd], input=in_data if in_data is not None else b"",
                              capture_output=True, check=False, timeout=60)
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
        writes = client.calls[:-1]
        assert len(writes) == max(1, -(-size // 7))
        assert all(n is not None and n <= 7 for cmd, n in writes)  # memory: one chunk at a time
        assert sum(n for cmd, n in writes) == size
        assert client.calls[-1][1] is None  # the verification step carries no data
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

        with pytest.raises(SessionUnreachable):
            put_file(LocalClient(unreachable_on=1), write(src_dir / "src", BINARY * 4), str(node / "dest"), 256, 0)

        assert not (node / "dest").exists()


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
