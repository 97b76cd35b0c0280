# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE: this file is internal to the fleetops.ssm collection. It is not a public API and may
# change at any time without notice. Do not import it from outside the collection.

"""The persistent session helper: one process per (run, host) that holds a Session Manager session.

Started by the connection plugin as ``python -c ...`` in a new process session. It reads its
configuration (credentials included) as one JSON document on stdin, never from argv, starts the
session, answers ``{"ok": true, ...}`` or ``{"ok": false, ...}`` on stdout, then serves tasks on
its unix socket, one request at a time, until it is idle for too long, the run that started it
ends, the session dies, or a task asks it to close. Every exit terminates the session.

Only the standard library and boto3 are imported here: this runs outside Ansible.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time

from ansible_collections.fleetops.ssm.plugins.plugin_utils import _session_protocol as protocol
from ansible_collections.fleetops.ssm.plugins.plugin_utils import _session_wire as wire

RESPONSE_ENV = "AWS_SSM_START_SESSION_RESPONSE"
# While a request is in flight, its helper marks the run busy this often (seconds).
ACTIVITY_TOUCH_SECONDS = 5
# How long after command_timeout the helper gives up on a command the node did not end.
TIMEOUT_GRACE_SECONDS = 15
# How long a session that ends normally may take to remove its files from the node.
FAREWELL_SECONDS = 5


class SessionDead(Exception):
    """The session can no longer run commands; the host is unreachable."""


class CommandTimeout(Exception):
    """The command ran longer than its ``command_timeout``."""


class StartFailed(Exception):
    def __init__(self, msg: str, unreachable: bool = True):
        super().__init__(msg)
        self.msg = msg
        self.unreachable = unreachable


def _log(cfg: dict, msg: str) -> None:
    path = cfg.get("log_path")
    if not path:
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a") as f:
            f.write("%s [%d] %s\n" % (time.strftime("%H:%M:%S"), os.getpid(), msg))
    except OSError:
        pass


def _touch(path) -> None:
    """Mark this helper busy: the mtime of its socket is the time of its last request."""
    if not path:
        return
    try:
        os.utime(path)
    except OSError:
        pass


def _run_activity(cfg: dict) -> float:
    """The time (epoch) of the last request of any helper of this run: the newest of their sockets."""
    directory = os.path.dirname(cfg.get("socket_path") or "")
    prefix = cfg.get("run_prefix")
    newest = 0.0
    if not directory or not prefix:
        return newest
    try:
        names = os.listdir(directory)
    except OSError:
        return newest
    for name in names:
        if name.startswith(prefix) and name.endswith(".sock"):
            try:
                newest = max(newest, os.stat(os.path.join(directory, name)).st_mtime)
            except OSError:
                pass
    return newest


def _unlink(path) -> None:
    if not path:
        return
    try:
        os.unlink(path)
    except OSError:
        pass


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def aws_session(cfg: dict):
    """The boto3 session of ``cfg`` (credentials, profile, assumed role) and the settings of its clients.

    Returns ``(session, client_kwargs)``; ``client_kwargs`` has no endpoint URL.
    """
    import boto3  # pylint: disable=import-outside-toplevel
    import botocore.config  # pylint: disable=import-outside-toplevel

    creds = dict(cfg.get("credentials") or {})
    session = boto3.session.Session(region_name=cfg.get("region") or None, **{k: v for k, v in creds.items() if v})
    kwargs = {}
    if cfg.get("verify") is not None:
        kwargs["verify"] = cfg["verify"]
    config = dict(cfg.get("aws_config") or {})
    config.setdefault("retries", {"mode": "standard", "max_attempts": 5})
    kwargs["config"] = botocore.config.Config(**config)
    if cfg.get("assume_role_arn"):
        sts = session.client("sts", endpoint_url=cfg.get("endpoint_url") or None, **kwargs)
        role = sts.assume_role(RoleArn=cfg["assume_role_arn"], RoleSessionName="fleetops-ssm-session")["Credentials"]
        session = boto3.session.Session(
            region_name=session.region_name,
            aws_access_key_id=role["AccessKeyId"],
            aws_secret_access_key=role["SecretAccessKey"],
            aws_session_token=role["SessionToken"],
        )
    return session, kwargs


def _boto_clients(cfg: dict):
    session, kwargs = aws_session(cfg)
    return session.client("ssm", endpoint_url=cfg.get("endpoint_url") or None, **kwargs)


class Helper:
    def __init__(self, cfg: dict):
        self.cfg = cfg
        self.client = None
        self.proc = None
        self.session_id = None
        self.warnings: list = []
        self.stderr_tail = b""
        self.pending = b""  # session output read but not yet parsed
        self.listener = None
        self.cache = protocol.BlobCache(enabled=False)
        # the shell waits for a request (the last one ended normally): it can be asked to clean up
        self.idle_shell = False

    # ------------------------------------------------------------------ start
    def version_check(self):
        """``session-manager-plugin --version``, started: it answers while boto3 loads."""
        try:
            # pylint: disable-next=consider-using-with
            return subprocess.Popen([self.cfg["plugin"], "--version"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                    stdin=subprocess.DEVNULL, close_fds=True)
        except OSError as e:
            raise StartFailed("cannot run %s --version: %s" % (self.cfg["plugin"], e), unreachable=False) from e

    def plugin_version(self, check=None) -> str:
        check = check or self.version_check()
        try:
            out = check.communicate(timeout=30)[0]
        except subprocess.TimeoutExpired as e:
            check.kill()
            check.wait()
            raise StartFailed("cannot run %s --version: %s" % (self.cfg["plugin"], e), unreachable=False) from e
        version = out.decode("utf-8", "replace").strip()
        if check.returncode != 0 or not version or not version[0].isdigit():
            raise StartFailed("%s --version did not print a version (exit %d): %s"
                              % (self.cfg["plugin"], check.returncode, version[:200]), unreachable=False)
        return version

    def _api_failure(self, error) -> StartFailed:
        import botocore.exceptions  # pylint: disable=import-outside-toplevel

        if isinstance(error, botocore.exceptions.ClientError):
            code = error.response.get("Error", {}).get("Code", "")
            msg = error.response.get("Error", {}).get("Message", "")
            return StartFailed("StartSession for %s failed: %s: %s" % (self.cfg["instance_id"], code, msg),
                               unreachable=code in ("TargetNotConnected", "ThrottlingException"))
        return StartFailed("StartSession for %s failed: %s" % (self.cfg["instance_id"], error))

    def start(self) -> None:
        check = self.version_check()
        try:
            import botocore.exceptions  # pylint: disable=import-outside-toplevel
        except ImportError:
            check.kill()
            check.wait()
            raise
        cfg = self.cfg
        try:
            self.client = _boto_clients(cfg)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError, ValueError) as e:
            check.kill()
            check.wait()
            raise self._api_failure(e) from e
        version = self.plugin_version(check)
        use_env = protocol.supports_env_response(version)
        if not use_env:
            self.warnings.append(
                "session-manager-plugin %s is not newer than %s: the session token is passed on its command "
                "line and is visible in the process list; upgrade the plugin" % (version, protocol.LAST_VERSION_WITHOUT_ENV))
        request = {"Target": cfg["instance_id"]}
        if cfg.get("document_name"):
            request["DocumentName"] = cfg["document_name"]
        if cfg.get("document_parameters"):
            request["Parameters"] = cfg["document_parameters"]
        try:
            response = self.client.start_session(**request)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError, ValueError) as e:
            raise self._api_failure(e) from e
        self.session_id = response["SessionId"]
        _log(cfg, "started session %s (plugin %s, token via %s)"
             % (self.session_id, version, "environment" if use_env else "argv"))
        payload = json.dumps({k: response[k] for k in ("SessionId", "TokenValue", "StreamUrl")})
        env = dict(os.environ)
        if use_env:
            env[RESPONSE_ENV] = payload
            first = RESPONSE_ENV
        else:
            first = payload
        argv = [cfg["plugin"], first, cfg["region"], "StartSession", cfg.get("profile") or "",
                json.dumps(request), self.client.meta.endpoint_url]
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, env=env, close_fds=True)
        except OSError as e:
            self.terminate_session()
            raise StartFailed("cannot run %s: %s" % (cfg["plugin"], e), unreachable=False) from e
        for fd in (self.proc.stdin.fileno(), self.proc.stdout.fileno(), self.proc.stderr.fileno()):
            os.set_blocking(fd, False)
        self.bootstrap()

    def bootstrap(self) -> None:
        nonce = protocol.new_nonce()
        marker = protocol.ready_marker(nonce)
        self._write_all(protocol.bootstrap_line(nonce), time.monotonic() + self.cfg["session_start_timeout"])
        deadline = time.monotonic() + self.cfg["session_start_timeout"]
        seen = b""
        while marker not in seen:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.shutdown()
                raise StartFailed("the session %s to %s did not give a shell within %s s (session_start_timeout)%s"
                                  % (self.session_id, self.cfg["instance_id"], self.cfg["session_start_timeout"],
                                     self._plugin_said(seen)))
            data = self._read_output(min(remaining, 1.0))
            if data is None:
                self.shutdown()
                raise StartFailed("session-manager-plugin exited (%s) before the shell of session %s was ready%s"
                                  % (self.proc.returncode, self.session_id, self._plugin_said(seen)))
            seen += data
        self.pending = seen[seen.index(marker) + len(marker):]
        self.setup()

    def setup(self) -> None:
        """The session's private blob directory on the node (module code sent once per session)."""
        marker = protocol.new_marker()
        try:
            rc = self.run(protocol.setup_request(marker), marker, lambda ev: None, None,
                          deadline=time.monotonic() + self.cfg["session_start_timeout"])
        except (protocol.ProtocolError, CommandTimeout) as e:
            self.shutdown()
            raise StartFailed("the shell of session %s to %s does not answer as expected: %s"
                              % (self.session_id, self.cfg["instance_id"], e)) from e
        self.cache = protocol.features(rc)
        if not self.cache.enabled:
            _log(self.cfg, "no blob directory on the node: module code is sent with every task")

    def _plugin_said(self, seen: bytes) -> str:
        text = (seen[-400:] + b" " + self.stderr_tail[-400:]).decode("utf-8", "replace").strip()
        return ": " + " ".join(text.split()) if text else ""

    # ------------------------------------------------------------------ io
    def _read_output(self, timeout: float):
        """Data from the plugin's stdout; b"" on timeout; None once the plugin is gone."""
        out = self.proc.stdout.fileno()
        err = None if self.proc.stderr.closed else self.proc.stderr.fileno()
        fds = [out] + ([err] if err is not None else [])
        ready = select.select(fds, [], [], timeout)[0]
        if err is not None and err in ready:
            self._read_stderr()
        if out in ready:
            try:
                data = os.read(out, 1024 * 1024)
            except BlockingIOError:
                return b""
            if not data:
                self.proc.wait()
                return None
            return data
        if self.proc.poll() is not None:
            return None
        return b""

    def _read_stderr(self) -> None:
        try:
            data = os.read(self.proc.stderr.fileno(), 65536)
        except BlockingIOError:
            return
        if not data:
            self.proc.stderr.close()
            return
        self.stderr_tail = (self.stderr_tail + data)[-4096:]

    def _write_all(self, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        while view:
            if time.monotonic() > deadline:
                raise SessionDead("session-manager-plugin does not read its input")
            if not select.select([], [self.proc.stdin.fileno()], [], 0.5)[1]:
                continue
            try:
                n = os.write(self.proc.stdin.fileno(), view[:65536])
            except BlockingIOError:
                continue
            except OSError as e:
                raise SessionDead("session-manager-plugin closed its input: %s" % e) from e
            view = view[n:]

    def check_alive(self) -> None:
        """Ask the service whether the node and the session are still there (after silence)."""
        import botocore.exceptions  # pylint: disable=import-outside-toplevel

        if self.proc.poll() is not None:
            raise SessionDead("session-manager-plugin exited (%s)" % self.proc.returncode)
        try:
            status = self.client.get_connection_status(Target=self.cfg["instance_id"]).get("Status")
            if status == "notconnected":
                raise SessionDead("the node %s is no longer connected to Session Manager (GetConnectionStatus: "
                                  "notconnected)" % self.cfg["instance_id"])
            found = self.client.describe_sessions(
                State="Active", Filters=[{"key": "SessionId", "value": self.session_id}]).get("Sessions", [])
            if not found:
                raise SessionDead("the session %s was terminated" % self.session_id)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            _log(self.cfg, "liveness check failed: %s" % e)

    def execute(self, cmd: str, data, timeout, emit, use_cache: bool = False) -> int:
        """Run one command: its stdout and stderr go to ``emit``; returns the exit code.

        A request that names blobs the node no longer has ran nothing: it is sent again with the data.
        """
        for dummy in range(2):
            marker = protocol.new_marker()
            request = protocol.build_request(cmd, marker, data, timeout, self.cache, keep_blobs=use_cache)
            rc = self.run(request, marker, emit, timeout)
            if rc is not None:
                return rc
            _log(self.cfg, "the node lost its blob directory: sending the data again")
            self.cache.stored.clear()
        raise protocol.ProtocolError("the node keeps losing the blobs of the session")

    def run(self, request: bytes, marker: str, emit, timeout, deadline=None):
        """Send one request and pass its events to ``emit`` until the exit code arrives.

        Returns the exit code, or None when the request named a blob the node does not have
        (nothing ran). ``deadline`` (monotonic) bounds the whole request.
        """
        self.idle_shell = False
        parser = protocol.ResponseParser(marker)
        cache = self.cache

        def take(events):
            for ev in events:
                if ev[0] == "C":
                    cache.confirm(*ev[1])
                elif ev[0] != "M":
                    emit(ev)
        interval = self.cfg["check_interval"]
        start = time.monotonic()
        last_output = start
        next_check = start + interval
        view = memoryview(request)
        infd = self.proc.stdin.fileno()
        out = self.proc.stdout.fileno()
        err = None if self.proc.stderr.closed else self.proc.stderr.fileno()
        if self.pending:
            data, self.pending = self.pending, b""
            take(parser.feed(data))
        next_touch = start + ACTIVITY_TOUCH_SECONDS
        while not parser.done:
            if time.monotonic() >= next_touch:
                next_touch = time.monotonic() + ACTIVITY_TOUCH_SECONDS
                _touch(self.cfg.get("socket_path"))
            if self.proc.stderr.closed:
                err = None
            rfds = [out] + ([err] if err is not None else [])
            wfds = [infd] if view else []
            ready_r, ready_w = select.select(rfds, wfds, [], 0.5)[:2]
            now = time.monotonic()
            # the node kills the command at the timeout (see exec_snippet); this is the backstop,
            # checked on every turn so that a command that keeps printing cannot outrun it
            if timeout and now - start > timeout + TIMEOUT_GRACE_SECONDS:
                raise CommandTimeout("the command did not finish within %s s (command_timeout)" % timeout)
            if deadline is not None and now > deadline:
                raise CommandTimeout("no answer from the session within the time allowed")
            if ready_w:
                try:
                    n = os.write(infd, view[:65536])
                    view = view[n:]
                except BlockingIOError:
                    pass
                except OSError as e:
                    raise SessionDead("session-manager-plugin closed its input: %s" % e) from e
            if err in ready_r:
                self._read_stderr()
            if out in ready_r:
                try:
                    data = os.read(out, 1024 * 1024)
                except BlockingIOError:
                    continue
                if not data:
                    self.proc.wait()
                    raise SessionDead("session-manager-plugin exited (%s) during the command%s"
                                      % (self.proc.returncode, self._plugin_said(b"")))
                last_output = now
                take(parser.feed(data))
                continue
            if self.proc.poll() is not None:
                raise SessionDead("session-manager-plugin exited (%s) during the command%s"
                                  % (self.proc.returncode, self._plugin_said(b"")))
            if now - last_output >= interval and now >= next_check:
                next_check = now + interval
                owner = self.cfg.get("owner_pid")
                if owner and not _pid_alive(owner):
                    raise SessionDead("the run (pid %s) ended during the command" % owner)
                self.check_alive()
        self.pending = parser.buf
        self.idle_shell = True
        return None if parser.missed else parser.rc

    def farewell(self) -> None:
        """Remove the session's blob directory from the node, if the shell can still be asked."""
        if not self.idle_shell or self.proc is None or self.proc.poll() is not None:
            return
        marker = protocol.new_marker()
        try:
            self.run(protocol.teardown_request(marker), marker, lambda ev: None, None,
                     deadline=time.monotonic() + FAREWELL_SECONDS)
        except (SessionDead, CommandTimeout, protocol.ProtocolError, OSError) as e:
            _log(self.cfg, "could not remove the blob directory: %s" % e)
        self.idle_shell = False

    # ------------------------------------------------------------------ end
    def terminate_session(self) -> None:
        if self.client is None or self.session_id is None:
            return
        import botocore.exceptions  # pylint: disable=import-outside-toplevel
        try:
            self.client.terminate_session(SessionId=self.session_id)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            # best effort on the way out: the helper must exit whatever the API says
            _log(self.cfg, "TerminateSession failed: %s" % e)

    def shutdown(self) -> None:
        self.farewell()
        self.terminate_session()
        if self.proc is not None and self.proc.poll() is None:
            deadline = time.monotonic() + 2
            while self.proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        if self.listener is not None:
            try:
                os.unlink(self.cfg["socket_path"])
            except OSError:
                pass
            self.listener.close()
            self.listener = None

    # ------------------------------------------------------------------ serve
    def listen(self) -> None:
        path = self.cfg["socket_path"]
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            self.listener.bind(path)
        finally:
            os.umask(old)
        self.listener.listen(64)

    def refuse_pending(self, reason: str) -> None:
        """Answer tasks already queued on the socket: their command did not start, retry elsewhere."""
        if self.listener is None:
            return
        try:
            os.unlink(self.cfg["socket_path"])
        except OSError:
            pass
        self.listener.setblocking(False)
        while True:
            try:
                conn = self.listener.accept()[0]
            except OSError:
                return
            try:
                conn.settimeout(5)
                wire.recv_json(conn)
                self._reply(conn, {"error": reason, "retry": True})
            except (wire.WireError, OSError):
                pass
            finally:
                conn.close()

    def idle_for(self, last_activity: float) -> float:
        """Seconds since the last request of any helper of this run (the run is idle, not just this host)."""
        since_own = time.monotonic() - last_activity
        run_mtime = _run_activity(self.cfg)
        since_run = time.time() - run_mtime if run_mtime else since_own
        return min(since_own, max(since_run, 0.0))

    def serve(self) -> str:
        """Serve tasks until the helper must exit; returns why."""
        cfg = self.cfg
        last_activity = time.monotonic()
        out = self.proc.stdout.fileno()
        while True:
            rfds = [self.listener, out] + ([self.proc.stderr.fileno()] if not self.proc.stderr.closed else [])
            ready = select.select(rfds, [], [], 1.0)[0]
            if self.listener in ready:
                conn = self.listener.accept()[0]
                _touch(cfg.get("socket_path"))
                try:
                    reason = self.handle(conn)
                finally:
                    conn.close()
                _touch(cfg.get("socket_path"))
                last_activity = time.monotonic()
                if reason:
                    return reason
                continue
            if not self.proc.stderr.closed and self.proc.stderr.fileno() in ready:
                self._read_stderr()
            if out in ready:
                data = self._read_output(0)
                if data is None:
                    return "session-manager-plugin exited (%s) while idle" % self.proc.returncode
                self.pending = (self.pending + data)[-65536:]
            if self.proc.poll() is not None:
                return "session-manager-plugin exited (%s) while idle" % self.proc.returncode
            if cfg.get("owner_pid") and not _pid_alive(cfg["owner_pid"]):
                return "the run (pid %s) ended" % cfg["owner_pid"]
            if self.idle_for(last_activity) > cfg["idle_timeout"]:
                return "no task of the run for %s s (persist_idle_timeout)" % cfg["idle_timeout"]

    def handle(self, conn: socket.socket) -> bool:
        """Serve one task's request; a reason when the helper must exit, else None."""
        conn.settimeout(60)
        try:
            req = wire.recv_json(conn)
            data = None
            if req.get("has_data"):
                kind, data = wire.recv_frame(conn)
                if kind != b"D":
                    raise wire.WireError("expected a data frame")
        except (wire.WireError, OSError) as e:
            _log(self.cfg, "bad request: %s" % e)
            return None
        conn.settimeout(None)
        op = req.get("op")
        if op == "ping":
            self._reply(conn, {"ok": True, "session_id": self.session_id})
            return None
        if op == "close":
            self._reply(conn, {"ok": True})
            return "closed on request (connection reset)"
        if op != "exec":
            self._reply(conn, {"error": "unknown request %r" % op})
            return None
        state = {"conn": conn}

        def emit(ev):
            kind, payload = ev
            if kind == "R" or state["conn"] is None:
                return
            try:
                wire.send_frame(state["conn"], kind.encode("ascii"), payload)
            except OSError:
                state["conn"] = None  # the task went away; keep reading to stay in step

        started = time.monotonic()
        try:
            rc = self.execute(req["cmd"], data, req.get("timeout"), emit, bool(req.get("cache")))
        except protocol.CommandTooLong as e:
            self._reply(conn, {"error": str(e)})
            return None
        except SessionDead as e:
            self._reply(state["conn"], {"error": str(e), "unreachable": True, "started": True})
            return "session dead: %s" % e
        except CommandTimeout as e:
            self._reply(state["conn"], {"error": "%s; the session was closed" % e, "unreachable": False,
                                        "started": True})
            return "command timeout: %s" % e
        except protocol.ProtocolError as e:
            # Garbled output: most often the node or the channel went down mid-command.
            try:
                self.check_alive()
                reason = "the session output is garbled (%s)" % e
            except SessionDead as dead:
                reason = str(dead)
            self._reply(state["conn"], {"error": reason, "unreachable": True, "started": True})
            return "session dead: %s" % reason
        timeout = req.get("timeout")
        if timeout and rc in (124, 137) and time.monotonic() - started >= timeout:
            self._reply(state["conn"], {"error": "the command did not finish within %s s (command_timeout) and "
                                                 "was killed" % timeout, "unreachable": False, "started": True})
            return None
        self._reply(state["conn"], {"rc": rc})
        return None

    @staticmethod
    def _reply(conn, obj: dict) -> None:
        if conn is None:
            return
        try:
            wire.send_json(conn, obj)
        except OSError:
            pass


def _on_sigterm(*dummy):
    raise SystemExit(0)


def main() -> int:
    cfg = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_IGN)
    helper = Helper(cfg)
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        helper.start()
        helper.listen()
    except StartFailed as e:
        sys.stdout.write(json.dumps({"ok": False, "msg": e.msg, "unreachable": e.unreachable}) + "\n")
        sys.stdout.flush()
        helper.shutdown()
        # the task that started this helper holds the lock and removes the lock file
        _unlink(cfg.get("log_path"))
        return 1
    except SessionDead as e:
        sys.stdout.write(json.dumps({"ok": False, "msg": str(e), "unreachable": True}) + "\n")
        sys.stdout.flush()
        helper.shutdown()
        # the task that started this helper holds the lock and removes the lock file
        _unlink(cfg.get("log_path"))
        return 1
    except OSError as e:  # the control socket cannot be bound: end the session just started
        msg = "cannot listen on the control socket %s (%s); use a shorter control_path_dir" % (cfg.get("socket_path"), e)
        sys.stdout.write(json.dumps({"ok": False, "msg": msg, "unreachable": False}) + "\n")
        sys.stdout.flush()
        helper.shutdown()
        _unlink(cfg.get("log_path"))
        return 1
    sys.stdout.write(json.dumps({"ok": True, "session_id": helper.session_id, "warnings": helper.warnings}) + "\n")
    sys.stdout.flush()
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    reason = "helper error"
    try:
        reason = helper.serve()
        helper.refuse_pending("the session helper is closing")
    except OSError as e:
        if e.errno not in (errno.EPIPE, errno.EBADF):
            reason = "helper error: %s" % e
    finally:
        _log(cfg, "closing: %s" % reason)
        helper.shutdown()
        cleanup_files(cfg)
    return 0


def cleanup_files(cfg: dict) -> None:
    """Remove this helper's files from the control directory: socket, lock and log."""
    _unlink(cfg.get("socket_path"))
    lock = cfg.get("lock_path")
    if lock:
        # Unlinked under the lock: a task waiting on the old file notices and opens the new one.
        try:
            fd = os.open(lock, os.O_RDWR)
        except OSError:
            fd = None
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                _unlink(lock)
            finally:
                os.close(fd)
    _unlink(cfg.get("log_path"))
