"""The ssm-endpoint command: serve in the foreground, start/stop in the background."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3
import pytest

ENDPOINT_DIR = Path(__file__).resolve().parent.parent
WRAPPER = ENDPOINT_DIR / "ssm-endpoint"


def _env():
    env = os.environ.copy()
    env["PYTHON"] = sys.executable
    env.pop("PYTHONPATH", None)  # the wrapper must set it up by itself
    return env


def _health(url):
    with urllib.request.urlopen(url + "/_fleetops/health", timeout=5) as response:
        return json.loads(response.read())


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except OSError:
        return True


def test_wrapper_is_executable():
    assert os.access(WRAPPER, os.X_OK)
    assert "${PYTHON:-python3}" in WRAPPER.read_text()


def test_serve_prints_url_and_stops_on_sigterm():
    process = subprocess.Popen(
        [str(WRAPPER), "serve", "--port", "0", "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env()
    )
    try:
        url = process.stdout.readline().decode().strip()
        assert url.startswith("http://127.0.0.1:")
        assert _health(url) == {"status": "ok"}
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_start_stop(tmp_path):
    state_dir = tmp_path / "state"
    started = subprocess.run([str(WRAPPER), "start", "--state-dir", str(state_dir)], capture_output=True, text=True,
                             env=_env(), timeout=60, check=False)
    assert started.returncode == 0, started.stderr
    url = started.stdout.strip().splitlines()[-1]
    pid = int((state_dir / "endpoint.pid").read_text())
    try:
        assert (state_dir / "endpoint.url").read_text().strip() == url
        assert _alive(pid)
        client = boto3.client("ssm", endpoint_url=url, region_name="us-east-1",
                              aws_access_key_id="test", aws_secret_access_key="test")
        client.put_parameter(Name="/cli/p", Value="v", Type="String")
        assert client.get_parameter(Name="/cli/p")["Parameter"]["Value"] == "v"
        again = subprocess.run([str(WRAPPER), "start", "--state-dir", str(state_dir)], capture_output=True, text=True,
                               env=_env(), timeout=60, check=False)
        assert again.returncode == 0 and again.stdout.strip() == url
        assert int((state_dir / "endpoint.pid").read_text()) == pid
    finally:
        stopped = subprocess.run([str(WRAPPER), "stop", "--state-dir", str(state_dir)], capture_output=True,
                                 text=True, env=_env(), timeout=60, check=False)
    assert stopped.returncode == 0, stopped.stderr
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)
    assert not (state_dir / "endpoint.pid").exists()
    assert not (state_dir / "endpoint.url").exists()
    assert (state_dir / "endpoint.log").exists()
    twice = subprocess.run([str(WRAPPER), "stop", "--state-dir", str(state_dir)], capture_output=True, text=True,
                           env=_env(), timeout=60, check=False)
    assert twice.returncode == 0


def test_start_fails_clearly_when_the_port_is_taken(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = subprocess.run(
            [str(WRAPPER), "start", "--state-dir", str(tmp_path), "--port", str(port), "--timeout", "20"],
            capture_output=True, text=True, env=_env(), timeout=60, check=False,
        )
    assert result.returncode != 0
    assert "ssm-endpoint:" in result.stderr and "cannot listen" in result.stderr
    assert not (tmp_path / "endpoint.pid").exists()


@pytest.mark.parametrize("args", [["stop", "--state-dir", "does-not-exist-yet"]])
def test_stop_without_state_is_fine(tmp_path, args):
    args = [a if a != "does-not-exist-yet" else str(tmp_path / "nothing") for a in args]
    result = subprocess.run([str(WRAPPER), *args], capture_output=True, text=True, env=_env(), timeout=60, check=False)
    assert result.returncode == 0
