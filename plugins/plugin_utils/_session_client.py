# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE: this file is internal to the fleetops.ssm collection. It is not a public API and may
# change at any time without notice. Do not import it from outside the collection.

"""The task side of a persistent Session Manager session: find or start the helper, talk to it.

Like SSH's ControlPersist: the first task to a host starts a helper process (see
``_session_helper``) that holds the session; every task reaches it through a unix socket in a
private (0700) directory. The socket name is a hash of everything that selects the session (the
run, the node, region, endpoint, identity, document), so one run makes one session per host.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import select
import shlex
import socket
import stat
import subprocess
import sys
import time

from ansible_collections.fleetops.ssm.plugins.plugin_utils import _session_wire as wire

_HELPER_CODE = (
    "import sys; "
    "from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_helper import main; "
    "sys.exit(main())"
)


class SessionError(Exception):
    """A request failed; the host may still be reachable."""


class SessionUnreachable(SessionError):
    """The session cannot be started or died; ``started`` tells whether the command may have run."""

    def __init__(self, msg: str, started: bool = False):
        super().__init__(msg)
        self.started = started


def _collections_root() -> str:
    # .../ansible_collections/fleetops/ssm/plugins/plugin_utils/_session_client.py
    path = os.path.abspath(__file__)
    for dummy in range(6):
        path = os.path.dirname(path)
    return path


def private_dir(path: str) -> str:
    """Create (if needed) and check the 0700 directory that holds the sockets."""
    path = os.path.expanduser(path)
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.lstat(path)
    except OSError as e:
        raise SessionError("cannot use %s as the control directory: %s" % (path, e)) from e
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
        raise SessionError("%s is not a directory owned by the current user" % path)
    if stat.S_IMODE(st.st_mode) != 0o700:
        os.chmod(path, 0o700)
    return path


def session_key(cfg: dict) -> str:
    fields = [cfg.get(k) for k in ("owner_pid", "instance_id", "region", "endpoint_url", "profile",
                                   "document_name", "document_parameters", "assume_role_arn", "plugin")]
    fields.append((cfg.get("credentials") or {}).get("aws_access_key_id"))
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode("utf-8")).hexdigest()[:24]


def run_key(cfg: dict) -> str:
    """What the sessions of one run (one ansible-playbook process) share in their names."""
    return hashlib.sha256(json.dumps([cfg.get("owner_pid")]).encode("utf-8")).hexdigest()[:10]


def _lock(path: str) -> int:
    """An exclusive flock on ``path``; a file removed by an exiting helper meanwhile is opened again."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
        except OSError:
            os.close(fd)
            raise
        if same:
            return fd
        os.close(fd)


class SessionClient:
    def __init__(self, cfg: dict, control_dir: str, warn=None):
        self.cfg = dict(cfg)
        self.dir = private_dir(control_dir)
        # <run>-<session>: the helpers of one run find each other's sockets (see the helper's idle
        # timer: a long task on one host keeps the other hosts' helpers).
        run = run_key(cfg)
        key = run + "-" + session_key(cfg)
        self.socket_path = os.path.join(self.dir, key + ".sock")
        self.lock_path = os.path.join(self.dir, key + ".lock")
        self.cfg["socket_path"] = self.socket_path
        self.cfg["lock_path"] = self.lock_path
        self.cfg["log_path"] = os.path.join(self.dir, key + ".log")
        self.cfg["run_prefix"] = run + "-"
        self.warn = warn or (lambda msg: None)
        self.session_id = None

    # ------------------------------------------------------------------ helper
    def _try_connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(self.socket_path)
        except OSError:
            sock.close()
            return None
        return sock

    def connect(self) -> socket.socket:
        """A socket to this host's helper, starting the helper (and the session) if needed."""
        sock = self._try_connect()
        if sock is not None:
            return sock
        fd = _lock(self.lock_path)
        try:
            sock = self._try_connect()
            if sock is None:
                try:
                    self._start_helper()
                except SessionError:
                    # no helper: its lock file goes too (removed under the lock, see _lock)
                    try:
                        os.unlink(self.lock_path)
                    except OSError:
                        pass
                    raise
                sock = self._try_connect()
                if sock is None:
                    raise SessionUnreachable("the session helper started but its socket does not answer")
            return sock
        finally:
            os.close(fd)

    def _start_helper(self) -> None:
        env = dict(os.environ)
        root = _collections_root()
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        log_fd = os.open(self.cfg["log_path"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            # pylint: disable-next=consider-using-with
            proc = subprocess.Popen([sys.executable, "-c", _HELPER_CODE], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=log_fd, close_fds=True, start_new_session=True,
                                    env=env, cwd="/")
        finally:
            os.close(log_fd)
        # The configuration (credentials included) goes through a pipe, never argv.
        try:
            proc.stdin.write(json.dumps(self.cfg).encode("utf-8"))
            proc.stdin.close()
        except OSError as e:
            raise SessionUnreachable("the session helper did not start: %s" % e) from e
        deadline = time.monotonic() + self.cfg["session_start_timeout"] + 30
        line = b""
        fd = proc.stdout.fileno()
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                proc.kill()
                raise SessionUnreachable("the session to %s was not ready within %s s"
                                         % (self.cfg["instance_id"], self.cfg["session_start_timeout"]))
            if not select.select([fd], [], [], remaining)[0]:
                continue
            data = os.read(fd, 65536)
            if not data:
                break
            line += data
        proc.stdout.close()
        try:
            answer = json.loads(line)
        except ValueError:
            proc.wait()
            raise SessionUnreachable("the session helper failed (exit %s): %s"
                                     % (proc.returncode, self._log_tail())) from None
        if not answer.get("ok"):
            proc.wait()
            if answer.get("unreachable"):
                raise SessionUnreachable(answer.get("msg", "the session could not be started"))
            raise SessionError(answer.get("msg", "the session could not be started"))
        self.session_id = answer.get("session_id")
        for msg in answer.get("warnings") or []:
            self.warn(msg)

    def _log_tail(self) -> str:
        """The end of the helper's log (a crash before it answered), removed afterwards."""
        path = self.cfg["log_path"]
        try:
            with open(path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - 2000))
                text = f.read().decode("utf-8", "replace").strip()
            os.unlink(path)
        except OSError:
            text = ""
        return " ".join(text.split()[-200:]) or "no output"

    def close_helper(self) -> bool:
        """Ask this host's helper (if any) to terminate its session and exit."""
        sock = self._try_connect()
        if sock is None:
            return False
        try:
            sock.settimeout(30)
            wire.send_json(sock, {"op": "close"})
            wire.recv_json(sock)
        except (wire.WireError, OSError):
            pass
        finally:
            sock.close()
        # wait for the socket to go away: the next connect must start a new session
        deadline = time.monotonic() + 10
        while os.path.exists(self.socket_path) and time.monotonic() < deadline:
            time.sleep(0.05)
        return True

    def touch(self) -> None:
        """Tell the helpers of the run that a task is busy (a long transfer outside the session)."""
        try:
            os.utime(self.socket_path)
        except OSError:
            pass

    # ------------------------------------------------------------------ requests
    def exec_command(self, cmd: str, in_data: bytes | None = None, timeout=None, stdout_sink=None, cache=False):
        """Run ``cmd`` on the node: ``(rc, stdout, stderr)``; stdout goes to ``stdout_sink`` if given.

        ``cache``: long base64 runs of ``in_data`` (module code) may be kept on the node for the
        session's later requests.
        """
        for dummy in range(3):
            sock = self.connect()
            try:
                result = self._request(sock, cmd, in_data, timeout, stdout_sink, cache)
            finally:
                sock.close()
            if result is not None:
                return result
        raise SessionUnreachable("the session helper kept closing before the command started")

    def _request(self, sock, cmd, in_data, timeout, stdout_sink, cache=False):
        out, err = [], []
        got_output = False
        try:
            wire.send_json(sock, {"op": "exec", "cmd": cmd, "has_data": in_data is not None, "timeout": timeout,
                                  "cache": bool(cache)})
            if in_data is not None:
                wire.send_frame(sock, b"D", in_data)
            while True:
                kind, payload = wire.recv_frame(sock)
                if kind == b"O":
                    got_output = True
                    if stdout_sink is not None:
                        stdout_sink(payload)
                    else:
                        out.append(payload)
                elif kind == b"E":
                    got_output = True
                    err.append(payload)
                elif kind == b"J":
                    answer = json.loads(payload)
                    break
                else:
                    raise wire.WireError("unexpected frame %r" % kind)
        except (wire.WireError, OSError, ValueError) as e:
            # Once the request is sent the command may have started: never run it again.
            raise SessionUnreachable("lost the session helper during the command: %s" % e, started=True) from e
        if answer.get("retry") and not got_output:
            return None
        if "rc" in answer:
            return answer["rc"], b"".join(out), b"".join(err)
        if answer.get("unreachable"):
            raise SessionUnreachable(answer.get("error", "the session died"), started=answer.get("started", True))
        raise SessionError(answer.get("error", "the request failed"))


def quote(path: str) -> str:
    return shlex.quote(path)
