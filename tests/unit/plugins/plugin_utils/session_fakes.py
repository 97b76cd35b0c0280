# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Test doubles for the session connection plugin: no AWS, no network, no real node.

* ``PtyShell`` runs a POSIX shell on a pseudo-terminal the way amazon-ssm-agent runs it for a
  Standard_Stream session (session leader, the terminal as controlling terminal, an
  interactive shell that prints its start-up noise and echoes what is typed).
* ``ProtocolShell`` speaks the session protocol with such a shell, with the real request
  builder and response parser: it is a ``SessionClient`` stand-in for the transfer code.
* ``FakeSSM`` answers the SSM API calls the helper makes (StartSession, TerminateSession,
  GetConnectionStatus, DescribeSessions) on 127.0.0.1 and records them.
* ``write_fake_plugin`` writes a ``session-manager-plugin`` stand-in: ``--version``, the
  StartSession response from the environment variable or from argv, and a shell on a pty
  relayed the way the real plugin relays it (input in reads of up to 1024 bytes, a lone
  newline sent as a carriage return, a banner first, a closing line at the end).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pty
import re
import select
import shutil
import signal
import stat
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

import pytest

from ansible_collections.fleetops.ssm.plugins.plugin_utils import _session_protocol as protocol

INSTANCE_ID = "i-0123456789abcdef0"
REGION = "eu-west-1"
ACCESS_KEY = "AKIAFLEETOPSTEST0001"
SECRET_KEY = "fleetopsTESTsecretKEY/do+not+log+0123456789"
TOKEN_PREFIX = "fleetopsTESTsessionTOKEN"
NEW_VERSION = "1.2.707.0"
OLD_VERSION = "1.2.497.0"

# Start-up files that make the interactive shells noisy, as on a real node (motd-like banner,
# a coloured prompt, CRLF line ends, text that looks like the protocol's markers).
NOISE = "printf 'Welcome to the node\\r\\n#fo-0000 O\\r\\nFLEETOPS-READY-0000\\r\\n'\nPS1='\\033[1;32mnode\\033[0m$ '\n"


def shells():
    """The shells a node's ``sh`` may be: (id, path, argv0), those present on this machine."""
    found = []
    dash = shutil.which("dash")
    bash = shutil.which("bash")
    if dash:
        found.append(("dash", dash, "sh"))
    if bash:
        found.append(("bash", bash, "bash"))
        found.append(("bash-as-sh", bash, "sh"))
    if not found:
        found.append(("sh", "/bin/sh", "sh"))
    return found


def shell_home(path, hide=()):
    """A home directory whose start-up files print noise for bash and for dash/sh ($ENV).

    ``hide``: commands the node does not have (the start-up files set a PATH without them).
    """
    os.makedirs(os.path.join(path, "tmp"), exist_ok=True)
    rc = NOISE
    if hide:
        bindir = os.path.join(path, "node-bin")
        os.makedirs(bindir, exist_ok=True)
        for directory in ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"):
            if not os.path.isdir(directory):
                continue
            for name in os.listdir(directory):
                target = os.path.join(bindir, name)
                if name not in hide and not os.path.lexists(target):
                    os.symlink(os.path.join(directory, name), target)
        rc += "PATH=%s; export PATH\n" % bindir
    for name in (".bashrc", ".shrc", ".profile"):
        with open(os.path.join(path, name), "w", encoding="utf-8") as f:
            f.write(rc)
    return path


def shell_env(home):
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "HOME": home,
        "ENV": os.path.join(home, ".shrc"),
        # the node's temporary directory: the session's blob directory goes there, apart from other tests'
        "TMPDIR": os.path.join(home, "tmp"),
    }


def within(seconds, func, *args, **kwargs):
    """Run ``func`` in a thread: its result or exception, or AssertionError if it takes longer."""
    box = {}

    def target():
        try:
            box["result"] = func(*args, **kwargs)
        except BaseException as e:  # pylint: disable=broad-exception-caught
            box["error"] = e

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise AssertionError("%s did not return within %s s" % (getattr(func, "__name__", func), seconds))
    if "error" in box:
        raise box["error"]
    return box["result"]


def wait_for(predicate, seconds, what="the condition"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("%s did not happen within %s s" % (what, seconds))


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


# ---------------------------------------------------------------------- a shell on a pty


class PtyShell:
    """An interactive shell on a pseudo-terminal, as the agent starts it."""

    def __init__(self, path, argv0, home):
        env = shell_env(home)
        pid, fd = pty.fork()
        if pid == 0:  # pragma: no cover - the child only execs
            try:
                os.chdir(home)
                os.execve(path, [argv0], env)
            finally:
                os._exit(127)
        self.pid = pid
        self.fd = fd

    def write(self, data):
        view = memoryview(data)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]

    def read(self, timeout):
        """Bytes (maybe b"") within ``timeout``; None once the shell is gone."""
        if not select.select([self.fd], [], [], timeout)[0]:
            return b""
        try:
            data = os.read(self.fd, 65536)
        except OSError:
            return None
        return data or None

    def close(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
        try:
            os.close(self.fd)
        except OSError:
            pass


class ProtocolShell:
    """The session protocol spoken with a ``PtyShell``: ``exec_command`` like SessionClient's.

    ``noise`` keeps what the shell printed before its ready marker; ``write_size`` is the
    size of the writes to the terminal (the plugin relays input in reads of up to 1024 bytes).
    """

    def __init__(self, shell, write_size=1024, start_timeout=20):
        self.shell = shell
        self.write_size = write_size
        self.requests = []
        nonce = protocol.new_nonce()
        ready = protocol.ready_marker(nonce)
        shell.write(protocol.bootstrap_line(nonce))
        seen = b""
        deadline = time.monotonic() + start_timeout
        while ready not in seen:
            if time.monotonic() > deadline:
                raise AssertionError("no ready marker from the shell; it said %r" % seen[-500:])
            data = shell.read(0.5)
            if data is None:
                raise AssertionError("the shell exited during the bootstrap; it said %r" % seen[-500:])
            seen += data
        self.noise = seen[: seen.index(ready)]
        self.pending = seen[seen.index(ready) + len(ready):]

    def setup(self):
        """The session's blob directory (as the helper does after the bootstrap): a BlobCache."""
        marker = protocol.new_marker()
        rc = self._send(protocol.setup_request(marker), marker, None, None)[0]
        self.cache = protocol.features(rc)
        return self.cache

    def teardown(self):
        marker = protocol.new_marker()
        return self._send(protocol.teardown_request(marker), marker, None, None)[0]

    def exec_command(self, cmd, in_data=None, timeout=None, stdout_sink=None, marker=None, command_timeout=None,
                     cache=None):
        """``(rc, stdout, stderr)``; rc is None when the request named a blob the node lost (nothing ran)."""
        marker = marker or protocol.new_marker()
        if command_timeout or cache is not None:
            request = protocol.build_request(cmd, marker, in_data, command_timeout, cache)
        else:
            request = protocol.build_request(cmd, marker, in_data)
        self.requests.append(request)
        return self._send(request, marker, timeout, stdout_sink, cache)

    def _send(self, request, marker, timeout, stdout_sink, cache=None):
        parser = protocol.ResponseParser(marker)
        out, err = [], []

        def take(events):
            for kind, payload in events:
                if kind == "C" and cache is not None:
                    cache.confirm(*payload)
                elif kind == "O":
                    if stdout_sink is not None:
                        stdout_sink(payload)
                    else:
                        out.append(payload)
                elif kind == "E":
                    err.append(payload)

        data, self.pending = self.pending, b""
        take(parser.feed(data))
        view = memoryview(request)
        deadline = time.monotonic() + (timeout or 120)
        while not parser.done:
            if time.monotonic() > deadline:
                raise AssertionError("no complete response from the shell; last bytes %r" % parser.buf[-300:])
            wfds = [self.shell.fd] if view else []
            ready_r, ready_w = select.select([self.shell.fd], wfds, [], 0.5)[:2]
            if ready_w:
                n = os.write(self.shell.fd, view[: self.write_size])
                view = view[n:]
            if ready_r:
                try:
                    data = os.read(self.shell.fd, 65536)
                except OSError:
                    data = b""
                if not data:
                    raise AssertionError("the shell exited during the command")
                take(parser.feed(data))
        self.pending = parser.buf
        return parser.rc, b"".join(out), b"".join(err)


# ---------------------------------------------------------------------- the SSM API


class FakeSSM:
    """The SSM API calls of the session helper, on 127.0.0.1, recorded in ``calls``."""

    def __init__(self, state_dir):
        self.state_dir = state_dir
        self.calls = []
        self.sessions = {}
        self.connection_status = "connected"
        self.start_error = None  # (http status, error code, message)
        self.status_error = None
        self.token_values = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):  # pylint: disable=invalid-name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                operation = (self.headers.get("X-Amz-Target") or ".").split(".", 1)[1]
                status, answer = fake.answer(operation, json.loads(body or b"{}"))
                payload = json.dumps(answer).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("x-amzn-RequestId", "00000000-0000-0000-0000-000000000000")
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def count(self, operation):
        with self.lock:
            return sum(1 for op, dummy in self.calls if op == operation)

    def requests(self, operation):
        with self.lock:
            return [body for op, body in self.calls if op == operation]

    def active(self):
        with self.lock:
            return [sid for sid, state in self.sessions.items() if state == "Active"]

    @staticmethod
    def error(status, code, message):
        return status, {"__type": code, "message": message}

    def answer(self, operation, body):
        with self.lock:
            self.calls.append((operation, body))
            if operation == "StartSession":
                if self.start_error:
                    return self.error(*self.start_error)
                session_id = "fleetops-test-%04d" % (len(self.sessions) + 1)
                token = "%s-%04d-%s" % (TOKEN_PREFIX, len(self.sessions) + 1, base64.b32encode(os.urandom(10)).decode())
                self.sessions[session_id] = "Active"
                self.token_values.append(token)
                return 200, {
                    "SessionId": session_id,
                    "TokenValue": token,
                    "StreamUrl": "wss://ssmmessages.%s.amazonaws.com/v1/data-channel/%s?role=publish_subscribe"
                                 % (REGION, session_id),
                }
            if operation == "TerminateSession":
                session_id = body.get("SessionId")
                if session_id in self.sessions:
                    self.sessions[session_id] = "Terminated"
                    with open(os.path.join(self.state_dir, "terminated-" + session_id), "w", encoding="ascii"):
                        pass
                return 200, {"SessionId": session_id}
            if operation == "GetConnectionStatus":
                if self.status_error:
                    return self.error(*self.status_error)
                return 200, {"Target": body.get("Target"), "Status": self.connection_status}
            if operation == "DescribeSessions":
                wanted = [f["value"] for f in body.get("Filters", []) if f.get("key") == "SessionId"]
                sessions = [
                    {"SessionId": sid, "Target": INSTANCE_ID, "Status": "Connected"}
                    for sid, state in self.sessions.items()
                    if state == "Active" and (not wanted or sid in wanted)
                ]
                return 200, {"Sessions": sessions}
            return self.error(400, "InvalidAction", "not faked: %s" % operation)


# ---------------------------------------------------------------------- S3


class FakeS3:
    """Enough of S3 on 127.0.0.1 for transfers: objects by path-style URL, boto3's and presigned requests.

    ``requests`` records ``(method, key, presigned, headers)``. Faults hit presigned requests
    (the node's) only: ``get_status``/``put_status`` answer with that status and an S3 error
    document, ``corrupt_get`` serves other bytes with 200. ``delete_status`` fails DeleteObject.
    """

    ERROR = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message>'
             b'<RequestId>0000</RequestId><HostId>fleetops-test-host-id</HostId></Error>')

    def __init__(self, bucket="fleetops-transfers"):
        self.bucket = bucket
        self.objects = {}
        self.requests = []
        self.get_status = None
        self.put_status = None
        self.corrupt_get = False
        self.delete_status = None
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _target(self):
                path, dummy, query = self.path.partition("?")
                parts = path.lstrip("/").split("/", 1)
                key = urllib.parse.unquote(parts[1]) if len(parts) > 1 else ""
                return parts[0], key, urllib.parse.parse_qs(query, keep_blank_values=True)

            def _send(self, status, body=b"", headers=None):
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _error(self, status, code, message):
                self._send(status, fake.ERROR % (code.encode(), message.encode()), {"Content-Type": "application/xml"})

            def _body(self):
                data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if "aws-chunked" in (self.headers.get("Content-Encoding") or "") or \
                        (self.headers.get("x-amz-content-sha256") or "").startswith("STREAMING"):
                    decoded, rest = b"", data
                    while rest:
                        size_line, dummy, rest = rest.partition(b"\r\n")
                        size = int(size_line.split(b";")[0], 16)
                        if size == 0:
                            break
                        decoded, rest = decoded + rest[:size], rest[size + 2:]
                    data = decoded
                return data

            def _handle(self):
                bucket, key, query = self._target()
                presigned = "X-Amz-Signature" in query
                body = self._body() if self.command == "PUT" else b""
                with fake.lock:
                    fake.requests.append((self.command, key, presigned, {k.lower(): v for k, v in self.headers.items()}))
                if bucket != fake.bucket:
                    return self._error(404, "NoSuchBucket", "The specified bucket does not exist")
                if not key:
                    if "location" in query:
                        return self._send(200, b'<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint '
                                               b'xmlns="http://s3.amazonaws.com/doc/2006-03-01/">eu-west-1'
                                               b'</LocationConstraint>', {"Content-Type": "application/xml"})
                    return self._error(400, "InvalidRequest", "not faked")
                if self.command == "PUT":
                    if presigned and fake.put_status:
                        return self._error(fake.put_status, "AccessDenied", "Request has expired")
                    with fake.lock:
                        fake.objects[key] = body
                    return self._send(200, b"", {"ETag": '"%s"' % hashlib.md5(body).hexdigest()})  # nosec
                if self.command == "DELETE":
                    if fake.delete_status:
                        return self._error(fake.delete_status, "AccessDenied", "Access Denied")
                    with fake.lock:
                        fake.objects.pop(key, None)
                    return self._send(204)
                with fake.lock:
                    data = fake.objects.get(key)
                if presigned and fake.get_status:
                    return self._error(fake.get_status, "AccessDenied", "Request has expired")
                if data is None:
                    return self._error(404, "NoSuchKey", "The specified key does not exist.")
                if presigned and fake.corrupt_get:
                    data = data[::-1] + b"?"
                headers = {"ETag": '"%s"' % hashlib.md5(data).hexdigest(),  # nosec
                           "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT", "Content-Type": "binary/octet-stream",
                           "Accept-Ranges": "bytes"}
                found = re.match(r"bytes=(\d+)-(\d*)", self.headers.get("Range") or "")
                if found:
                    start = int(found.group(1))
                    end = int(found.group(2)) if found.group(2) else len(data) - 1
                    headers["Content-Range"] = "bytes %d-%d/%d" % (start, end, len(data))
                    return self._send(206, data[start:end + 1], headers)
                return self._send(200, data, headers)

            do_GET = do_PUT = do_DELETE = do_HEAD = _handle  # noqa: N815 pylint: disable=invalid-name

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def node_requests(self):
        with self.lock:
            return [r for r in self.requests if r[2]]

    def controller_requests(self, method=None):
        with self.lock:
            return [r for r in self.requests if not r[2] and (method is None or r[0] == method)]


# ---------------------------------------------------------------------- the plugin binary

_FAKE_PLUGIN = r'''
import json, os, pty, select, signal, sys, time

CONFIG = json.loads(%(config)r)
ENV_NAME = "AWS_SSM_START_SESSION_RESPONSE"


def vt(text):
    return tuple(int("".join(c for c in p if c.isdigit()) or 0) for p in text.strip().split("."))


def write_all(fd, data):
    while data:
        try:
            n = os.write(fd, data)
        except BlockingIOError:
            select.select([], [fd], [], 1.0)
            continue
        data = data[n:]


if sys.argv[1:] == ["--version"]:
    sys.stdout.write(CONFIG["version"] + "\n")
    sys.exit(0)

first = sys.argv[1]
via = "argv"
raw = first
if vt(CONFIG["version"]) > vt("1.2.497.0") and first == ENV_NAME:
    via = "env"
    raw = os.environ.get(ENV_NAME, "")
response = json.loads(raw)
with open("/proc/%%d/cmdline" %% os.getppid(), "rb") as f:
    parent_cmdline = f.read().decode("utf-8", "replace")
with open(CONFIG["record"], "a") as f:
    f.write(json.dumps({"pid": os.getpid(), "argv": sys.argv, "via": via, "response": response,
                        "env_set": ENV_NAME in os.environ, "parent_cmdline": parent_cmdline}) + "\n")
sid = response["SessionId"]
flag = os.path.join(CONFIG["state_dir"], "terminated-" + sid)
mode = CONFIG["mode"]
if mode == "fail":
    sys.stderr.write("An error occurred (TargetNotConnected): the data channel could not be opened\n")
    sys.exit(255)
sys.stdout.write("\nStarting session with SessionId: %%s\n" %% sid)
sys.stdout.flush()
if mode == "hang":
    while not os.path.exists(flag):
        if select.select([0], [], [], 0.1)[0] and not os.read(0, 1024):
            sys.exit(0)
    sys.exit(0)

pid, master = pty.fork()
if pid == 0:
    os.chdir(CONFIG["home"])
    os.execve(CONFIG["shell"], [CONFIG["argv0"]], CONFIG["env"])
pending = b""
while True:
    if os.path.exists(flag):
        os.kill(pid, signal.SIGKILL)
        write_all(1, ("\n\nExiting session with sessionId: %%s.\n\n" %% sid).encode())
        sys.exit(0)
    wfds = [master] if pending else []
    rfds = [master] + ([0] if not pending else [])
    r, w, dummy = select.select(rfds, wfds, [], 0.1)
    if master in w:
        n = os.write(master, pending)
        pending = pending[n:]
    if master in r:
        try:
            data = os.read(master, 65536)
        except OSError:
            data = b""
        if not data:
            write_all(1, ("\n\nExiting session with sessionId: %%s.\n\n" %% sid).encode())
            sys.exit(0)
        write_all(1, data)
    if 0 in r:
        chunk = os.read(0, 1024)
        if not chunk:
            os.kill(pid, signal.SIGKILL)
            sys.exit(0)
        if chunk == b"\n":
            chunk = b"\r"
        pending += chunk
'''


def write_fake_plugin(directory, state_dir, home, shell=None, version=NEW_VERSION, mode="pty", name="session-manager-plugin"):
    """Write the stand-in (a small shell script running a Python relay); returns (path, record file)."""
    path_, argv0 = (shell or shells()[0][1:])
    record = os.path.join(state_dir, "plugin-record.jsonl")
    config = {
        "version": version, "record": record, "state_dir": state_dir, "mode": mode,
        "shell": path_, "argv0": argv0, "home": home, "env": shell_env(home),
    }
    relay = os.path.join(directory, name + ".py")
    with open(relay, "w", encoding="utf-8") as f:
        f.write(_FAKE_PLUGIN % {"config": json.dumps(config)})
    path = os.path.join(directory, name)
    write_script(path, "exec '%s' '%s' \"$@\"\n" % (sys.executable, relay))
    return path, record


def write_script(path, body):
    with open(path, "w", encoding="utf-8") as f:
        f.write("#!/bin/sh\n" + body)
    os.chmod(path, stat.S_IRWXU)
    return path


def version_script(path, output, rc=0):
    """A fake binary that only answers ``--version``."""
    return write_script(path, 'if [ "$1" = --version ]; then printf \'%%s\\n\' %s; exit %d; fi\nexit 2\n'
                        % ("'%s'" % output if output else "''", rc))


def plugin_records(record):
    if not os.path.exists(record):
        return []
    with open(record, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def helper_config(ssm, plugin, socket_dir, **overrides):
    """The helper's configuration, as the connection plugin builds it."""
    cfg = {
        "owner_pid": os.getpid(),
        "instance_id": INSTANCE_ID,
        "region": REGION,
        "endpoint_url": ssm.url,
        "credentials": {"aws_access_key_id": ACCESS_KEY, "aws_secret_access_key": SECRET_KEY,
                        "aws_session_token": None, "profile_name": None},
        "profile": None,
        "verify": None,
        "aws_config": {"retries": {"mode": "standard", "max_attempts": 1}},
        "assume_role_arn": None,
        "plugin": plugin,
        "document_name": None,
        "session_start_timeout": 15,
        "idle_timeout": 30,
        "check_interval": 5,
        "socket_path": os.path.join(socket_dir, "helper.sock"),
        "log_path": os.path.join(socket_dir, "helper.log"),
    }
    cfg.update(overrides)
    return cfg


def isolate_aws_environment(monkeypatch, directory):
    """No AWS settings of the machine or the user reach the code under test."""
    for name in list(os.environ):
        if name.startswith("AWS_") or name.startswith("FLEETOPS_SSM_") or name.lower().endswith("_proxy"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.path.join(directory, "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.path.join(directory, "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


# ---------------------------------------------------------------------- fixtures (imported by the conftest files)


@pytest.fixture
def aws_env(monkeypatch, tmp_path):
    isolate_aws_environment(monkeypatch, str(tmp_path))


@pytest.fixture
def short_dir():
    """A directory with a short path: unix socket paths are limited to 107 bytes."""
    path = tempfile.mkdtemp(prefix="fo-", dir="/tmp")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def node_home(tmp_path):
    return shell_home(str(tmp_path / "home"))


@pytest.fixture
def node_home_without_timeout(tmp_path):
    """A node without the ``timeout`` command (some minimal images)."""
    return shell_home(str(tmp_path / "home-without-timeout"), hide=("timeout",))


@pytest.fixture
def fake_s3(aws_env):  # pylint: disable=redefined-outer-name,unused-argument
    s3 = FakeS3()
    yield s3
    s3.stop()


@pytest.fixture
def fake_ssm(tmp_path, aws_env):  # pylint: disable=redefined-outer-name,unused-argument
    state = tmp_path / "ssm-state"
    state.mkdir()
    ssm = FakeSSM(str(state))
    yield ssm
    ssm.stop()
