"""A stand-in for AWS's ``session-manager-plugin``, for sessions to the local endpoint's nodes.

Run it as ``tests/endpoint/bin/session-manager-plugin``; it takes the real
plugin's command line::

    session-manager-plugin <response> <region> StartSession <profile> <parameters-json> <endpoint>
    session-manager-plugin --version
    session-manager-plugin

where ``<response>`` is the StartSession response as JSON, or (versions newer
than 1.2.497.0) the name of an environment variable holding it (the AWS CLI
uses ``AWS_SSM_START_SESSION_RESPONSE``), which is then removed from the
environment.  ``FLEETOPS_SMP_VERSION`` sets the version it claims to be
(default 1.2.707.0) and so whether it reads the variable: 1.2.497.0 and older
take the argument for the JSON itself.

Instead of a data channel to AWS, it asks the endpoint the ``StreamUrl``
points at (``GET /_fleetops/sessions/<id>``, the token in a header, never in
a command line) where the node is, and runs the session there itself with
``nsenter``, on a pseudo-terminal it allocates: ``sh`` as ``ssm-user`` (or the
RunAs user) with ``TERM=xterm-256color``, ``LANG=C.UTF-8``, ``HOME=/home/<user>``,
in ``/usr/bin``, as amazon-ssm-agent starts it.  What the real plugin shows
is kept: the banner, the raw terminal stream, stdin sent in reads of up to
1024 bytes with a lone ``\\n`` sent as ``\\r``, Ctrl-C/Ctrl-Z/Ctrl-\\ forwarded,
the closing line when the shell ends or the session is terminated, exit code
0; at end of input it exits at once (the shell stays until the session ends,
as on a real node); when the session cannot be joined (terminated, unknown,
node down) it prints the banner and then waits forever, as the real plugin
does when its data channel never comes up (``FLEETOPS_SMP_HANG_SECONDS`` bounds
that wait for tests: exit code 1 afterwards).

Standard library only: it runs with any ``python3``.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import select
import shlex
import signal
import struct
import subprocess
import sys
import termios
import time
import tty
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from . import nodeexec

DEFAULT_VERSION = "1.2.707.0"
# Versions newer than this one take the name of an environment variable for the response.
LAST_VERSION_WITHOUT_ENV_VAR = "1.2.497.0"
ENV_PREFIX = "AWS_SSM_START_SESSION_RESPONSE"
TOKEN_HEADER = "X-Fleetops-Session-Token"
STDIN_BUFFER_LIMIT = 1024
STATUS_POLL_SECONDS = 0.5
DEFAULT_SIZE = (100, 300)  # rows, cols: what the plugin reports when stdout is not a terminal
IDLE_TIMEOUT_MINUTES = 20  # Session Manager's default idleSessionTimeout
CONTROL_SIGNALS = {signal.SIGINT: b"\x03", signal.SIGTSTP: b"\x1a", signal.SIGQUIT: b"\x1c"}
NIL_POINTER_PANIC = (
    "panic: runtime error: invalid memory address or nil pointer dereference\n"
    "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x0]\n"
)


def _out(text: str) -> None:
    _write_all(1, text.encode())


def _write_all(fd: int, data: bytes) -> None:
    while data:
        try:
            written = os.write(fd, data)
        except InterruptedError:
            continue
        except BlockingIOError:
            select.select([], [fd], [], 1.0)
            continue
        data = data[written:]


def _version_tuple(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in text.strip().split("."))
    except ValueError:
        return (0,)


def _go_json_error(raw: str, exc: ValueError) -> str:
    """The text of Go's encoding/json error for the usual mistakes."""
    stripped = raw.strip()
    if not stripped:
        return "unexpected end of JSON input"
    pos = getattr(exc, "pos", 0) or 0
    if pos >= len(raw):
        return "unexpected end of JSON input"
    char = raw[pos]
    if raw[:pos].strip() == "":
        return f"invalid character '{char}' looking for beginning of value"
    return f"invalid character '{char}' after top-level value" if isinstance(exc, json.JSONDecodeError) and \
        exc.msg.startswith("Extra data") else f"invalid character '{char}' looking for beginning of value"


# --------------------------------------------------------------------------
# talking to the endpoint


class Endpoint:
    def __init__(self, stream_url: str, session_id: str, token: str) -> None:
        parts = urllib.parse.urlsplit(stream_url)
        scheme = "https" if parts.scheme in ("wss", "https") else "http"
        self.base = f"{scheme}://{parts.netloc}/_fleetops/sessions/{urllib.parse.quote(session_id)}"
        self.token = token
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def _call(self, method: str, suffix: str = "", body: dict | None = None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + suffix, data=data, method=method,
                                         headers={TOKEN_HEADER: self.token, "Content-Type": "application/json"})
        try:
            with self._opener.open(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            try:
                return exc.code, json.loads(exc.read() or b"{}")
            except ValueError:
                return exc.code, {}
        except (OSError, ValueError):
            return 0, {}

    def info(self) -> tuple[int, dict]:
        return self._call("GET")

    def close(self, status: str = "Terminated", details: str | None = None) -> None:
        body: dict[str, Any] = {"status": status}
        if details:
            body["details"] = details
        self._call("POST", "/close", body)


# --------------------------------------------------------------------------
# the session


class Session:
    def __init__(self, session_id: str, stream_url: str, token: str) -> None:
        self.session_id = session_id
        self.endpoint = Endpoint(stream_url, session_id, token)
        self.proc: subprocess.Popen | None = None
        self.master: int | None = None
        self.saved_tty: list | None = None
        self.leader: tuple[int, int | None] | None = None

    # ---- endings, as the real plugin shows them

    def channel_closed(self, output: str = "") -> int:
        """The agent/service closed the channel: the plugin prints this and exits 0."""
        if output:
            _out(f"\n\nSessionId: {self.session_id} : {output}\n\n")
        else:
            _out(f"\n\nExiting session with sessionId: {self.session_id}.\n\n")
        self.restore_terminal()
        return 0

    def hang(self) -> int:
        """The data channel never comes up: the real plugin retries, then waits forever."""
        limit = os.environ.get("FLEETOPS_SMP_HANG_SECONDS")
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        deadline = time.monotonic() + float(limit) if limit else None
        while deadline is None or time.monotonic() < deadline:
            time.sleep(1.0 if deadline is None else min(1.0, max(0.0, deadline - time.monotonic())))
        sys.stderr.write("session-manager-plugin (fleetops stand-in): the session never connected; gave up "
                         f"after FLEETOPS_SMP_HANG_SECONDS={limit}\n")
        return 1

    # ---- terminal handling

    def prepare_terminal(self) -> None:
        if os.isatty(0):
            try:
                self.saved_tty = termios.tcgetattr(0)
                tty.setcbreak(0)
                attrs = termios.tcgetattr(0)
                attrs[3] &= ~termios.ECHO
                termios.tcsetattr(0, termios.TCSANOW, attrs)
            except termios.error:
                self.saved_tty = None

    def restore_terminal(self) -> None:
        if self.saved_tty is not None:
            try:
                termios.tcsetattr(0, termios.TCSANOW, self.saved_tty)
            except termios.error:
                pass
            self.saved_tty = None

    def window_size(self) -> tuple[int, int]:
        try:
            rows, cols = struct.unpack("hhhh", fcntl.ioctl(1, termios.TIOCGWINSZ, b"\0" * 8))[:2]
            if rows > 0 and cols > 0:
                return rows, cols
        except OSError:
            pass
        return DEFAULT_SIZE

    def resize(self, *_: Any) -> None:
        if self.master is not None:
            rows, cols = self.window_size()
            try:
                fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            except OSError:
                pass

    # ---- running

    def node_alive(self) -> bool:
        return self.leader is not None and nodeexec.process_alive(*self.leader)

    def run(self) -> int:
        _out(f"\nStarting session with SessionId: {self.session_id}\n")
        status, info = self.endpoint.info()
        if status != 200 or info.get("status") != "Connected":
            return self.hang()
        node = info.get("node") or {}
        self.leader = (node.get("leader_pid"), node.get("leader_start"))
        if not node.get("online") or not self.node_alive():
            return self.hang()
        session_type = info.get("session_type")
        if session_type not in ("Standard_Stream", "InteractiveCommands", "NonInteractiveCommands"):
            self.endpoint.close("Failed", f"session type {session_type} is not supported by the sandbox")
            return self.channel_closed(f"fleetops sandbox: sessions of type {session_type} are not supported by "
                                       "the session-manager-plugin stand-in")
        if info.get("run_as_error"):
            self.endpoint.close("Failed", info["run_as_error"])
            return self.channel_closed(info["run_as_error"])
        argv, error = self.command_line(info)
        if error:
            self.endpoint.close("Failed", error)
            return self.channel_closed(error)
        if session_type == "NonInteractiveCommands":
            return self.run_piped(argv)
        return self.run_pty(argv, info.get("shell_profile"), info.get("idle_timeout_minutes"))

    def command_line(self, info: dict) -> tuple[list[str], str | None]:
        leader = self.leader[0] if self.leader else None
        assert leader is not None
        elevated = bool(info.get("run_as_elevated"))
        user = "root" if elevated else str(info.get("run_as_user") or nodeexec.DEFAULT_SESSION_USER)
        env = {"PATH": nodeexec.NODE_PATH, "TERM": "xterm-256color", "LANG": "C.UTF-8",
               "HOME": "/root" if elevated else f"/home/{user}"}
        prefix = nodeexec.nsenter_argv(leader)
        if not elevated:
            ids = []
            for flag in ("-u", "-g"):
                found = subprocess.run(nodeexec.nsenter_argv(leader) + ["id", flag, user], capture_output=True,
                                       env=_child_env(), timeout=30, check=False)
                if found.returncode != 0:
                    return [], f"failed to start pty since RunAs user {user} does not exist"
                ids.append(int(found.stdout.strip() or b"0"))
            uid, gid = ids
            if uid <= 0 or gid <= 0:
                return [], "invalid uid and gid"
            prefix += nodeexec.as_user_argv(uid, gid)
        prefix += nodeexec.clean_env_argv(env, nodeexec.AGENT_WORKING_DIRECTORY)
        command = info.get("command")
        session_type = info.get("session_type")
        if session_type == "NonInteractiveCommands":
            try:
                words = shlex.split(command or "")
            except ValueError as exc:
                return [], f"Failed to parse commands input: {exc}\n"
            return prefix + (words or ["sh"]), None
        # On a terminal the agent makes the shell a session leader with the terminal as its
        # controlling terminal (so job control and Ctrl-C work): setsid --ctty in the node.
        prefix += ["setsid", "-w", "-c"]
        if session_type == "InteractiveCommands" and command and command.strip():
            return prefix + ["sh", "-c", command], None
        return prefix + ["sh"], None

    def run_pty(self, argv: list[str], shell_profile: str | None, idle_minutes: Any) -> int:
        master, slave = nodeexec.open_pty(self.leader[0] if self.leader else None)
        self.master = master
        self.resize()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, close_fds=True,
                                     start_new_session=True, env=_child_env())
        os.close(slave)
        if shell_profile:
            _write_all(master, shell_profile.encode() + b"\n")
        return self.relay(master, pty=True, idle_minutes=idle_minutes)

    def run_piped(self, argv: list[str]) -> int:
        read_end, write_end = os.pipe()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=write_end, stderr=write_end,
                                     close_fds=True, start_new_session=True, env=_child_env())
        os.close(write_end)
        return self.relay(read_end, pty=False, idle_minutes=None)

    def relay(self, source: int, pty: bool, idle_minutes: Any) -> int:
        self.prepare_terminal()
        for sig, byte in CONTROL_SIGNALS.items():
            signal.signal(sig, self._forward(byte) if pty else signal.SIG_IGN)
        signal.signal(signal.SIGWINCH, self.resize)
        source_open = True
        next_poll = time.monotonic() + STATUS_POLL_SECONDS
        while True:
            fds = ([source] if source_open else []) + [0]
            try:
                ready, dummy, dummy = select.select(fds, [], [], 0.1)
            except InterruptedError:
                continue
            if source in ready:
                try:
                    data = os.read(source, 65536)
                except OSError as exc:
                    if exc.errno != errno.EIO:  # EIO: every process of the terminal is gone
                        raise
                    data = b""
                if data:
                    _write_all(1, data)
                else:
                    source_open = False
            if 0 in ready:
                chunk = os.read(0, STDIN_BUFFER_LIMIT)
                if not chunk:
                    # The plugin returns from main at end of input: no closing line, exit 0.
                    # The session (and its shell) stays on the node until it is terminated.
                    self.restore_terminal()
                    self.keep_session_after_exit(source, idle_minutes)
                    return 0
                if chunk == b"\n":  # the plugin sends a lone newline as a carriage return
                    chunk = b"\r"
                if pty:
                    self.send_input(chunk)
                time.sleep(0.001)
            if self.proc is not None:
                nodeexec.resume_if_stopped(self.proc.pid)
            if self.proc is not None and self.proc.poll() is not None and (not source_open or source not in ready):
                if source_open:
                    self.drain(source)
                return self.shell_ended()
            if time.monotonic() >= next_poll:
                next_poll = time.monotonic() + STATUS_POLL_SECONDS
                status, info = self.endpoint.info()
                if status in (403, 404) or info.get("status") in ("Terminated", "Failed"):
                    if source_open:
                        self.drain(source)
                    self.kill_shell()
                    return self.channel_closed()

    def _forward(self, data: bytes):
        """A signal handler that sends ``data`` (a control character) to the remote shell."""
        def handler(*args) -> None:
            self.send_input(data)
        return handler

    def send_input(self, data: bytes) -> None:
        if self.master is not None:
            try:
                _write_all(self.master, data)
            except OSError:
                pass

    def drain(self, source: int) -> None:
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            try:
                ready, dummy, dummy = select.select([source], [], [], 0.05)
                if not ready:
                    break
                data = os.read(source, 65536)
            except (OSError, ValueError):
                break
            if not data:
                break
            _write_all(1, data)

    def kill_shell(self) -> None:
        """End the shell as the agent does: hang up its terminal, then kill what is left."""
        if self.proc is None or self.proc.poll() is not None:
            return
        if self.master is not None:
            try:
                os.close(self.master)
            except OSError:
                pass
            self.master = None
            try:
                self.proc.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                pass
        nodeexec.kill_node_processes(self.proc.pid)
        self.proc.wait()

    def shell_ended(self) -> int:
        if not self.node_alive():
            # The node went down under the session: the real plugin hears nothing more and waits.
            self.endpoint.close("Terminated", "the managed node went down during the session")
            self.restore_terminal()
            return self.hang()
        self.endpoint.close("Terminated")
        return self.channel_closed()

    def keep_session_after_exit(self, source: int, idle_minutes: Any) -> None:
        """Leave the shell running in a detached keeper until the session ends, as the agent would."""
        if self.proc is None or self.proc.poll() is not None:
            self.endpoint.close("Terminated")
            return
        try:
            idle = float(idle_minutes) * 60 if idle_minutes else IDLE_TIMEOUT_MINUTES * 60
        except (TypeError, ValueError):
            idle = IDLE_TIMEOUT_MINUTES * 60
        if os.fork() != 0:
            return
        try:  # the keeper: a grandchild in its own session, output discarded
            os.setsid()
            if os.fork() != 0:
                os._exit(0)
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
            pid = self.proc.pid
            start = nodeexec.process_start_time(pid)
            deadline = time.monotonic() + idle
            unreachable = 0
            while nodeexec.process_alive(pid, start) and time.monotonic() < deadline and unreachable < 3:
                nodeexec.resume_if_stopped(pid)
                ready, dummy, dummy = select.select([source], [], [], STATUS_POLL_SECONDS)
                if ready:
                    try:
                        if not os.read(source, 65536):
                            time.sleep(STATUS_POLL_SECONDS)
                    except OSError:
                        time.sleep(STATUS_POLL_SECONDS)
                status, info = self.endpoint.info()
                unreachable = unreachable + 1 if status == 0 else 0  # the endpoint is gone: so is the session
                if status in (403, 404) or info.get("status") in ("Terminated", "Failed"):
                    break
            try:
                os.close(source)  # the terminal hangs up, as when the agent closes it
            except OSError:
                pass
            time.sleep(0.2)
            nodeexec.kill_node_processes(pid)
            self.endpoint.close("Terminated")
        finally:
            os._exit(0)


def _child_env() -> dict[str, str]:
    """What nsenter and its helpers get: a PATH, nothing else of ours (no response, no token)."""
    return {"PATH": os.environ.get("PATH") or nodeexec.NODE_PATH}


# --------------------------------------------------------------------------
# the command line


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv if argv is None else argv)
    version = os.environ.get("FLEETOPS_SMP_VERSION", DEFAULT_VERSION).strip() or DEFAULT_VERSION
    if len(args) == 1:
        _out("\nThe Session Manager plugin was installed successfully. Use the AWS CLI to start a session.\n\n")
        return 0
    if len(args) == 2 and args[1] == "--version":
        _out(f"{version}\n")
        return 0
    if len(args) < 4:
        _out(f"\nUnknown operation {args[1]}. \nUse session-manager-plugin --version to check the version.\n\n")
        return 0
    raw = args[1]
    if raw.startswith(ENV_PREFIX) and _version_tuple(version) > _version_tuple(LAST_VERSION_WITHOUT_ENV_VAR):
        raw = os.environ.pop(raw, "")
    operation = args[3]
    if len(args) > 5:
        try:
            request = json.loads(args[5])
        except ValueError:
            request = {}
        if not isinstance(request, dict) or not isinstance(request.get("Target"), str):
            sys.stderr.write("panic: interface conversion: interface {} is nil, not string\n")
            return 2
    if operation != "StartSession":
        _out("Invalid Operation")
        return 0
    try:
        response = json.loads(raw)
    except ValueError as exc:
        _out(f"Cannot perform start session: {_go_json_error(raw, exc)}\n")
        return 0
    if not isinstance(response, dict):
        kind = {list: "array", str: "string", int: "number", float: "number", bool: "bool"}.get(type(response), "null")
        if response is None:
            response = {}
        else:
            _out(f"Cannot perform start session: json: cannot unmarshal {kind} into Go value of type "
                 "ssm.StartSessionOutput\n")
            return 0
    session_id, stream_url, token = (response.get(k) for k in ("SessionId", "StreamUrl", "TokenValue"))
    if not all(isinstance(v, str) for v in (session_id, stream_url, token)):
        sys.stderr.write(NIL_POINTER_PANIC)
        return 2
    return Session(session_id, stream_url, token).run()


if __name__ == "__main__":
    sys.exit(main())
