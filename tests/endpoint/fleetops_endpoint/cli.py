"""Command line: ``serve`` (foreground), ``start`` / ``stop`` (background, with a state directory)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
PID_FILE = "endpoint.pid"
URL_FILE = "endpoint.url"
LOG_FILE = "endpoint.log"


def _error(message: str) -> None:
    print(f"ssm-endpoint: {message}", file=sys.stderr)


# --------------------------------------------------------------------------
# serve


def cmd_serve(args: argparse.Namespace) -> int:
    from .server import build_server, server_url
    from .state import STATE, strict_from_env

    STATE.strict = strict_from_env()
    try:
        server = build_server(args.host, args.port, quiet=args.quiet)
    except (OSError, SystemExit) as exc:  # werkzeug exits by itself when the port is taken
        _error(f"cannot listen on {args.host}:{args.port}: {exc if isinstance(exc, OSError) else 'address in use'}")
        return 1
    print(server_url(server), flush=True)

    stopping = threading.Event()

    def _on_signal(signum, frame):  # noqa: ARG001
        stopping.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    worker = threading.Thread(target=server.serve_forever, name="fleetops-endpoint", daemon=True)
    worker.start()
    while not stopping.wait(0.2):
        if not worker.is_alive():
            _error("the server thread stopped unexpectedly")
            server.server_close()
            return 1
    server.shutdown()
    server.server_close()
    worker.join(timeout=10)
    return 0


# --------------------------------------------------------------------------
# process helpers


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return True


def _is_endpoint(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return b"fleetops_endpoint" in fh.read()
    except OSError:
        return True  # no /proc: trust the pid file


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _healthy(url: str, timeout: float = 1.0) -> bool:
    try:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(url + "/_fleetops/health", timeout=timeout) as response:
            return json.loads(response.read() or b"{}").get("status") == "ok"
    except Exception:
        return False


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return not _alive(pid)


def _terminate(pid: int, timeout: float) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    if _wait_gone(pid, timeout):
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    _wait_gone(pid, 5)


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --------------------------------------------------------------------------
# start / stop


def cmd_start(args: argparse.Namespace) -> int:
    state_dir = Path(args.state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    pid_path, url_path, log_path = state_dir / PID_FILE, state_dir / URL_FILE, state_dir / LOG_FILE

    pid = _read_pid(pid_path)
    if pid is not None and _alive(pid) and _is_endpoint(pid):
        url = url_path.read_text().strip() if url_path.exists() else ""
        if url and _healthy(url):
            print(url, flush=True)
            return 0
        _error(f"process {pid} from {pid_path} is running but does not answer; stop it first")
        return 1
    for stale in (pid_path, url_path):
        stale.unlink(missing_ok=True)

    env = os.environ.copy()
    env["PYTHONPATH"] = str(PACKAGE_ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONUNBUFFERED"] = "1"
    command = [sys.executable, "-m", "fleetops_endpoint", "serve", "--host", args.host, "--port", str(args.port)]
    offset = log_path.stat().st_size if log_path.exists() else 0
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True, close_fds=True, cwd=str(state_dir),
        )
    deadline = time.monotonic() + args.timeout
    url = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            _error(f"the endpoint exited with code {process.returncode} while starting; log:\n{_log_tail(log_path)}")
            return 1
        if url is None:
            with open(log_path, "rb") as fh:
                fh.seek(offset)
                for line in fh.read().decode(errors="replace").splitlines():
                    if line.startswith("http://") or line.startswith("https://"):
                        url = line.strip()
                        break
        if url is not None and _healthy(url):
            pid_path.write_text(f"{process.pid}\n")
            url_path.write_text(f"{url}\n")
            print(url, flush=True)
            return 0
        time.sleep(0.1)
    _terminate(process.pid, 5)
    _error(f"the endpoint did not answer within {args.timeout:g} s; log:\n{_log_tail(log_path)}")
    return 1


def cmd_stop(args: argparse.Namespace) -> int:
    state_dir = Path(args.state_dir)
    pid_path, url_path = state_dir / PID_FILE, state_dir / URL_FILE
    pid = _read_pid(pid_path)
    if pid is None:
        url_path.unlink(missing_ok=True)
        pid_path.unlink(missing_ok=True)
        print("ssm-endpoint: not running")
        return 0
    if _alive(pid) and _is_endpoint(pid):
        _terminate(pid, args.timeout)
        if _alive(pid):
            _error(f"process {pid} did not exit")
            return 1
    pid_path.unlink(missing_ok=True)
    url_path.unlink(missing_ok=True)
    print("ssm-endpoint: stopped")
    return 0


# --------------------------------------------------------------------------
# fleet


def fleet_rows(url: str, region: str) -> list[dict]:
    """The managed nodes as the endpoint reports them (DescribeInstanceInformation + tags)."""
    import boto3

    session = boto3.session.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name=region)
    ssm = session.client("ssm", endpoint_url=url)
    ec2 = session.client("ec2", endpoint_url=url)
    rows = []
    for page in ssm.get_paginator("describe_instance_information").paginate(PaginationConfig={"PageSize": 50}):
        for info in page["InstanceInformationList"]:
            instance_id = info["InstanceId"]
            if info.get("ResourceType") == "EC2Instance":
                described = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [instance_id]}])
                tags = {t["Key"]: t["Value"] for t in described.get("Tags", [])}
            else:
                listed = ssm.list_tags_for_resource(ResourceType="ManagedInstance", ResourceId=instance_id)
                tags = {t["Key"]: t["Value"] for t in listed["TagList"]}
            rows.append({
                "instance_id": instance_id,
                "name": tags.get("Name") or info.get("Name") or info.get("ComputerName") or "",
                "ping_status": info.get("PingStatus", ""),
                "platform": " ".join(p for p in (info.get("PlatformName"), info.get("PlatformVersion")) if p)
                or info.get("PlatformType", ""),
                "ip_address": info.get("IPAddress", ""),
                "resource_type": info.get("ResourceType", ""),
                "agent_version": info.get("AgentVersion", ""),
                "tags": tags,
            })
    return rows


def cmd_fleet(args: argparse.Namespace) -> int:
    if args.url:
        url = args.url.rstrip("/")
    else:
        url_path = Path(args.state_dir) / URL_FILE
        try:
            url = url_path.read_text().strip()
        except OSError:
            _error(f"no endpoint recorded in {url_path}: start one with 'ssm-endpoint start --state-dir DIR'")
            return 1
    if not _healthy(url, timeout=5):
        _error(f"the endpoint at {url} does not answer")
        return 1
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    rows = fleet_rows(url, args.region)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"no managed nodes in {args.region}")
        return 0
    header = ("ID", "NAME", "PING", "PLATFORM", "IP")
    table = [header] + [(r["instance_id"], r["name"] or "-", r["ping_status"], r["platform"] or "-",
                         r["ip_address"] or "-") for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ssm-endpoint", description="The local SSM endpoint (moto plus our SSM layer).")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run in the foreground; prints the URL as the first line")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0 picks a free port")
    serve.add_argument("--quiet", action="store_true", help="do not log requests")
    serve.set_defaults(func=cmd_serve)

    start = sub.add_parser("start", help="run in the background, recording pid and URL in --state-dir")
    start.add_argument("--state-dir", required=True)
    start.add_argument("--host", default="127.0.0.1")
    start.add_argument("--port", type=int, default=0, help="0 picks a free port")
    start.add_argument("--timeout", type=float, default=20.0, help="seconds to wait for the endpoint to answer")
    start.set_defaults(func=cmd_start)

    stop = sub.add_parser("stop", help="stop the endpoint recorded in --state-dir")
    stop.add_argument("--state-dir", required=True)
    stop.add_argument("--timeout", type=float, default=10.0, help="seconds to wait after SIGTERM before SIGKILL")
    stop.set_defaults(func=cmd_stop)

    fleet = sub.add_parser("fleet", help="print the managed nodes as the endpoint sees them")
    where = fleet.add_mutually_exclusive_group(required=True)
    where.add_argument("--state-dir", help="the directory given to 'start'")
    where.add_argument("--url", help="the endpoint's URL")
    fleet.add_argument("--region", default="us-east-1")
    fleet.add_argument("--json", action="store_true", help="print JSON instead of a table")
    fleet.set_defaults(func=cmd_fleet)

    args = parser.parse_args(argv)
    return int(args.func(args))
