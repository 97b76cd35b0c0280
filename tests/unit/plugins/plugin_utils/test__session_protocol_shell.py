# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The protocol against real shells on a pseudo-terminal: dash, bash, and bash as ``sh``.

The node gives the session an interactive ``sh`` on a pty. These tests run the real bootstrap
line, requests and response parser against such shells, so they prove that the streams and
the exit code come back exact whichever shell ``sh`` is.
"""

from __future__ import annotations

import base64
import hashlib
import os
import random
import shlex
import sys
import time

import pytest

from ansible_collections.fleetops.ssm.plugins.plugin_utils import _session_protocol as protocol
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import ProtocolShell
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import PtyShell
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import shell_home
from ansible_collections.fleetops.ssm.tests.unit.plugins.plugin_utils.session_fakes import shells

SHELLS = shells()
BINARY = b"\x00NUL\x00 CR\r CRLF\r\n LF\n \xff\xfe high " + bytes(range(256)) + "Grüße ☃".encode("utf-8")


@pytest.fixture(params=SHELLS, ids=[s[0] for s in SHELLS])
def shell(request, node_home):
    dummy, path, argv0 = request.param
    pty_shell = PtyShell(path, argv0, node_home)
    try:
        yield ProtocolShell(pty_shell)
    finally:
        pty_shell.close()


def printf_octal(data):
    """A printf format that prints ``data`` exactly, in any POSIX shell."""
    return "printf '%s'" % "".join("\\%03o" % b for b in data)


def test_start_up_noise_and_echo_are_ignored(shell):
    # the shells did print their start-up files and echo the typed line before the marker
    assert b"Welcome to the node" in shell.noise
    assert b"stty raw -echo" in shell.noise

    assert shell.exec_command("echo ready") == (0, b"ready\n", b"")


def test_exact_stdout_stderr_and_exit_code(shell):
    cmd = "%s; %s >&2; exit 3" % (printf_octal(b"a\x00b\r\n\xff"), printf_octal(b"e\r\n\x00"))

    assert shell.exec_command(cmd) == (3, b"a\x00b\r\n\xff", b"e\r\n\x00")


@pytest.mark.parametrize("cmd, rc", [
    ("true", 0),
    ("false", 1),
    ("exit 2", 2),
    ("fleetops-no-such-command", 127),
    ("exit 255", 255),
    ("kill -9 $$", 137),
])
def test_exit_codes(shell, cmd, rc):
    result = shell.exec_command(cmd)

    assert result[0] == rc
    assert result[1] == b""
    if rc == 127:
        assert b"fleetops-no-such-command" in result[2]
    # the session stays usable after any of them
    assert shell.exec_command("echo still here") == (0, b"still here\n", b"")


def test_binary_stdout_and_stderr(shell):
    cmd = "%s; %s >&2" % (printf_octal(BINARY), printf_octal(BINARY[::-1]))

    assert shell.exec_command(cmd) == (0, BINARY, BINARY[::-1])


def test_stderr_is_kept_apart_from_interleaved_stdout(shell):
    cmd = "echo o1; echo e1 >&2; echo o2; echo e2 >&2; echo o3"

    assert shell.exec_command(cmd) == (0, b"o1\no2\no3\n", b"e1\ne2\n")


@pytest.mark.parametrize("data", [b"", b"x", b"\n", b"\r", b"\r\n", b"\x00", b"\xff", BINARY],
                         ids=["empty", "x", "lf", "cr", "crlf", "nul", "ff", "binary"])
def test_stdin_passthrough(shell, data):
    assert shell.exec_command("cat", data) == (0, data, b"")


def test_pipelining_a_script_to_the_interpreter(shell):
    script = b"echo from-stdin\necho to-stderr >&2\nexit 5\n"

    assert shell.exec_command("sh", script) == (5, b"from-stdin\n", b"to-stderr\n")


def test_pipelining_a_python_module(shell):
    # what Ansible does with pipelining: the module on the interpreter's stdin, nothing on disk
    module = b"import sys, json\nprint(json.dumps({'changed': False, 'argv': sys.argv[1:]}))\nsys.exit(0)\n"

    rc, out, err = shell.exec_command("%s -" % shlex.quote(sys.executable), module)

    assert (rc, out, err) == (0, b'{"changed": false, "argv": []}\n', b"")


def test_without_data_the_command_reads_end_of_input(shell):
    # stdin is not the session stream: a command that reads stdin must not eat the next request
    assert shell.exec_command("cat; echo done") == (0, b"done\n", b"")
    assert shell.exec_command("echo next") == (0, b"next\n", b"")


def test_large_stdin_and_large_stdout(shell):
    data = random.Random(7).randbytes(300 * 1024)

    rc, out, err = shell.exec_command("sha256sum", data)

    assert (rc, err) == (0, b"")
    assert out.split()[0].decode() == hashlib.sha256(data).hexdigest()
    assert shell.exec_command("wc -c", data) == (0, b"%d\n" % len(data), b"")

    rc, out, err = shell.exec_command("dd if=/dev/zero bs=1024 count=2048 2>/dev/null; head -c 50000 /dev/zero >&2")

    assert (rc, len(out), len(err)) == (0, 2048 * 1024, 50000)
    assert out.count(b"\x00") == len(out)


def test_marker_text_in_the_output_is_content(shell):
    marker = protocol.new_marker()
    text = "%s O\n%s E\n%s R 0\nFLEETOPS-READY-0000\n" % (marker, marker, marker)

    result = shell.exec_command("printf '%%s' %s; printf '%%s' %s >&2; exit 6" % (shlex.quote(text), shlex.quote(text)),
                                marker=marker)

    assert result == (6, text.encode(), text.encode())


def test_unicode_commands_and_output(shell):
    assert shell.exec_command("printf '%s\\n' 'Grüße, 世界 ☃'") == (0, "Grüße, 世界 ☃\n".encode(), b"")


def test_quoting_of_the_command(shell):
    cmd = """printf '%s|' "a b" 'c'"'"'d' "$((1+2))" '$HOME' "x\\"y"; echo"""

    assert shell.exec_command(cmd) == (0, b"a b|c'd|3|$HOME|x\"y|\n", b"")


@pytest.mark.parametrize("write_size", [1, 7, 1024, 65536])
def test_requests_split_anywhere_on_the_way_to_the_terminal(shell, write_size):
    shell.write_size = write_size
    data = BINARY * 3

    assert shell.exec_command("cat; echo err >&2; exit 4", data) == (4, data, b"err\n")


def test_many_commands_stay_in_step(shell):
    rng = random.Random(11)
    for index in range(25):
        data = rng.randbytes(rng.randint(0, 3000)) if index % 2 else None
        rc = rng.choice([0, 1, 2, 127, 255])
        cmd = "%s; echo %d >&2; exit %d" % ("cat" if data is not None else "printf 'n%d'" % index, index, rc)

        expected_out = data if data is not None else b"n%d" % index
        assert shell.exec_command(cmd, data) == (rc, expected_out, b"%d\n" % index), "command %d" % index


def test_the_command_runs_in_the_session_users_home(shell, node_home):
    assert shell.exec_command("pwd") == (0, os.path.realpath(node_home).encode() + b"\n", b"")


def test_command_timeout_kills_the_command_on_the_node(shell):
    started = time.monotonic()

    rc, out, dummy = shell.exec_command("echo started; sleep 4; echo late", command_timeout=1)

    assert time.monotonic() - started < 3.5
    assert (rc, out) == (124, b"started\n")  # the exit code of timeout(1)
    assert shell.exec_command("echo usable") == (0, b"usable\n", b"")


def test_command_timeout_with_stdin(shell):
    assert shell.exec_command("cat", b"\x00data\r\n", command_timeout=30) == (0, b"\x00data\r\n", b"")
    assert shell.exec_command("cat; sleep 5", b"x", command_timeout=1)[0] == 124


def test_command_timeout_of_a_command_that_keeps_printing(shell):
    started = time.monotonic()

    rc, out, dummy = shell.exec_command("while :; do head -c 40000 /dev/zero; sleep 0.1; done", command_timeout=1)

    assert rc in (124, 137)
    assert time.monotonic() - started < 8
    assert out and out.count(b"\x00") == len(out)


@pytest.fixture
def shell_without_timeout(node_home_without_timeout):
    dummy, path, argv0 = SHELLS[0]
    pty_shell = PtyShell(path, argv0, node_home_without_timeout)
    try:
        yield ProtocolShell(pty_shell)
    finally:
        pty_shell.close()


def test_a_node_without_the_timeout_command_still_runs_commands(shell_without_timeout):
    # the limit then falls to the helper (the session is closed); the command itself runs as usual
    assert shell_without_timeout.exec_command("command -v timeout || echo none") == (0, b"none\n", b"")
    assert shell_without_timeout.exec_command("echo ok; exit 3", command_timeout=5) == (3, b"ok\n", b"")


# ---------------------------------------------------------------------- raw runs and the blob directory


def base64_run(seed, size=30000):
    return base64.b64encode(random.Random(seed).randbytes(size * 3 // 4))


def module_like(run, args=b"{}"):
    """What a pipelined module looks like: a script around a long base64 string."""
    return b"import sys\nZIP = '" + run + b"'\nARGS = " + args + b"\nsys.stdout.write(ARGS + ' ' + str(len(ZIP)))\n"


def blob_dir(shell):
    """The session's blob directory, as the session user's shell sees it."""
    rc, out, dummy = shell.exec_command("ls -d \"${TMPDIR:-/tmp}\"/fleetops-ssm.* 2>/dev/null; true")
    return out.decode().split()


def test_raw_runs_in_stdin_are_exact(shell):
    data = b"\x00\xff before " + base64_run(1, 9000) + b"=\r\n after \x00" + base64_run(2, 5000)

    assert shell.exec_command("cat", data) == (0, data, b"")


def test_the_blob_directory_is_private_and_removed_by_the_teardown(shell):
    before = set(blob_dir(shell))
    cache = shell.setup()
    [directory] = set(blob_dir(shell)) - before

    assert cache.enabled
    rc, out, dummy = shell.exec_command("stat -c %a " + shlex.quote(directory))
    assert (rc, out) == (0, b"700\n")

    assert shell.teardown() == 0
    assert directory not in blob_dir(shell)
    # commands still work without it
    assert shell.exec_command("echo err >&2; echo out") == (0, b"out\n", b"err\n")


def test_module_code_is_sent_once_per_session(shell):
    cache = shell.setup()
    run = base64_run(3)
    name = protocol.blob_name(run)
    python = shlex.quote(sys.executable)

    first = shell.exec_command(python, module_like(run, b"'one'"), cache=cache)
    second = shell.exec_command(python, module_like(run, b"'two'"), cache=cache)

    assert first == (0, b"one %d" % len(run), b"")
    assert second == (0, b"two %d" % len(run), b"")
    assert cache.has(name)
    assert run in shell.requests[-2]
    assert run not in shell.requests[-1]
    assert len(shell.requests[-1]) < 3000
    shell.teardown()


def test_a_lost_blob_runs_nothing_and_the_request_is_sent_again(shell, tmp_path):
    cache = shell.setup()
    run = base64_run(4)
    marker_file = tmp_path / "ran"
    cmd = "touch %s; cat" % shlex.quote(str(marker_file))
    assert shell.exec_command(cmd, run, cache=cache) == (0, run, b"")
    marker_file.unlink()
    for directory in blob_dir(shell):
        shell.exec_command("rm -f %s/*" % shlex.quote(directory))

    assert shell.exec_command(cmd, run, cache=cache) == (None, b"", b"")
    assert not marker_file.exists()  # nothing ran

    cache.forget([protocol.blob_name(run)])
    assert shell.exec_command(cmd, run, cache=cache) == (0, run, b"")
    assert shell.exec_command(cmd, run, cache=cache) == (0, run, b"")
    shell.teardown()


def test_stderr_does_not_stay_on_the_node(shell):
    shell.setup()
    [directory] = blob_dir(shell)

    assert shell.exec_command("echo secret-on-stderr >&2") == (0, b"", b"secret-on-stderr\n")

    rc, out, dummy = shell.exec_command("cat %s/stderr; ls %s" % (shlex.quote(directory), shlex.quote(directory)))
    assert b"secret-on-stderr" not in out
    shell.teardown()


def test_without_a_blob_directory_requests_still_run(shell):
    # mktemp -d fails in the loop's shell (TMPDIR does not exist): nothing is stored, commands work
    marker = protocol.new_marker()
    mk = shlex.quote(marker)
    loop_shell = "TMPDIR=/nonexistent/dir\nprintf '%%s O\\n%%s E\\n%%s R 0\\n' %s %s %s\n" % (mk, mk, mk)
    assert shell._send(protocol._frame(loop_shell), marker, None, None)[0] == 0  # pylint: disable=protected-access

    cache = shell.setup()
    run = base64_run(5)

    assert not cache.enabled
    assert shell.exec_command("cat", run, cache=cache) == (0, run, b"")
    assert shell.exec_command("cat", run, cache=cache) == (0, run, b"")
    assert run in shell.requests[-1]
    assert shell.exec_command("echo e >&2; exit 3") == (3, b"", b"e\n")


def test_compressed_stdin_is_exact(shell):
    cache = shell.setup()
    text = "".join("Grüße line %d \x00\r\n" % i for i in range(3000)).encode("utf-8")

    assert cache.gzip
    assert shell.exec_command("cat", text, cache=cache) == (0, text, b"")
    assert len(shell.requests[-1]) < len(text) // 4
    shell.teardown()


def test_a_node_without_gzip(tmp_path):
    home = shell_home(str(tmp_path / "home-without-gzip"), hide=("gzip",))
    dummy, path, argv0 = SHELLS[0]
    pty_shell = PtyShell(path, argv0, home)
    try:
        shell = ProtocolShell(pty_shell)
        cache = shell.setup()
        text = b"plain text\n" * 500

        assert cache.enabled and not cache.gzip
        assert shell.exec_command("cat", text, cache=cache) == (0, text, b"")
    finally:
        pty_shell.close()
