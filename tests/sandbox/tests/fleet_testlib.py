"""Helpers for the sandbox fleet tests: run the CLI, check PIDs, a fake endpoint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SANDBOX_DIR = Path(__file__).resolve().parent.parent
FLEET_PY = SANDBOX_DIR / "fleet.py"


def run_fleet(*args, env=None, timeout=300, check=False):
    """Run the fleet CLI with the interpreter running the tests; returns CompletedProcess."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    result = subprocess.run([sys.executable, str(FLEET_PY), *map(str, args)], env=full_env,
                            stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=timeout, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"fleet {' '.join(map(str, args))} failed ({result.returncode}):\n"
                             f"{result.stdout}\n{result.stderr}")
    return result


def pid_alive(pid):
    """A live process (a zombie counts as dead)."""
    if not pid:
        return False
    try:
        raw = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return raw[raw.rindex(")") + 2:].split()[0] not in ("Z", "X")


class EndpointRecorder:
    """A tiny HTTP server standing in for the endpoint's control API: it records every
    request (with whether the leader PID in the body was alive when it arrived) and
    answers with ``status``."""

    def __init__(self):
        self.calls = []
        self.status = 200
        self.lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                leader = body.get("leader_pid") if isinstance(body, dict) else None
                call = {"method": self.command, "path": self.path, "body": body,
                        "leader_alive": pid_alive(leader) if leader else None}
                with recorder.lock:
                    recorder.calls.append(call)
                    status = recorder.status
                payload = json.dumps({"ok": status == 200}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_POST = _record  # noqa: N815
            do_DELETE = _record  # noqa: N815

            def log_message(self, *args):  # keep the test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def take(self, method=None):
        """Recorded calls (optionally of one method), removing them from the record."""
        with self.lock:
            taken = [c for c in self.calls if method is None or c["method"] == method]
            self.calls = [c for c in self.calls if c not in taken]
        return taken
