"""pytest fixtures for tests that talk to the local SSM endpoint.

Load with ``-p fleetops_endpoint.pytest_plugin`` (``tests/endpoint`` on
``PYTHONPATH``).  Fixtures:

``ssm_endpoint``    session-wide ``Endpoint`` (strict shape checking on unless
                    FLEETOPS_ENDPOINT_STRICT says otherwise)
``clean_endpoint``  the same endpoint, reset to its freshly started state
``ssm_client``      boto3 SSM client against a clean endpoint (us-east-1,
                    dummy credentials ``test``/``test``)
``aws_client``      factory: ``aws_client("kms", retries=0)`` for any service
``managed_node``    factory of "fake" managed nodes: ``managed_node("node-1", tags={...})``
                    registers a node whose leader is a ``sleep`` of this host (so
                    commands and sessions run on the host itself, as root), with
                    ``.stop()`` / ``.start()`` (ConnectionLost / Online again); they
                    are deregistered after the test
"""

from __future__ import annotations

import hashlib
import os
import pwd
import secrets
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Callable

import pytest

from .server import Endpoint, environment_strict_default

REGION = "us-east-1"
ACCESS_KEY = "test"
SECRET_KEY = "test"


def bypass_proxies_for_loopback() -> None:
    """Keep clients from sending loopback requests through a proxy set in the environment."""
    for name in ("NO_PROXY", "no_proxy"):
        current = os.environ.get(name, "")
        entries = [e for e in current.split(",") if e]
        for host in ("127.0.0.1", "localhost"):
            if host not in entries:
                entries.append(host)
        os.environ[name] = ",".join(entries)


@pytest.fixture(scope="session")
def ssm_endpoint():
    environment_strict_default()
    bypass_proxies_for_loopback()
    endpoint = Endpoint(port=0)
    endpoint.start()
    try:
        yield endpoint
    finally:
        endpoint.stop()


@pytest.fixture
def clean_endpoint(ssm_endpoint: Endpoint) -> Endpoint:
    ssm_endpoint.reset()
    return ssm_endpoint


@pytest.fixture(scope="session")
def _boto3_session():
    import boto3

    return boto3.session.Session(
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION
    )


@pytest.fixture
def aws_client(clean_endpoint: Endpoint, _boto3_session) -> Callable[..., Any]:
    from botocore.config import Config

    def make(service: str, retries: int | None = None, region: str = REGION, **config: Any):
        if retries is not None:
            config["retries"] = {"total_max_attempts": retries + 1, "mode": "standard"}
        config.setdefault("connect_timeout", 5)
        config.setdefault("read_timeout", 30)
        return _boto3_session.client(
            service, endpoint_url=clean_endpoint.url, region_name=region, config=Config(**config)
        )

    return make


@pytest.fixture
def ssm_client(aws_client: Callable[..., Any]):
    return aws_client("ssm")


# --------------------------------------------------------------------------
# fake managed nodes

SESSION_MANAGER_PLUGIN = Path(__file__).resolve().parent.parent / "bin" / "session-manager-plugin"


def host_session_user() -> str:
    """ssm-user when this host has one, else nobody: a fake node never creates users on the host."""
    for name in ("ssm-user", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    return "nobody"


class FakeNode:
    """A managed node whose "machine" is this host: its leader is a ``sleep`` process of ours."""

    def __init__(self, endpoint: Endpoint, body: dict) -> None:
        self.endpoint = endpoint
        self.body = body
        self.instance_id: str = body["instance_id"]
        self.name: str = body["name"]
        self.agent_state_dir: str = body["agent_state_dir"]
        self.leader: subprocess.Popen | None = None

    def _spawn_leader(self) -> int:
        self.leader = subprocess.Popen(["sleep", "3600"], stdin=subprocess.DEVNULL, start_new_session=True)
        return self.leader.pid

    def register(self, online: bool = True) -> dict:
        if online and (self.leader is None or self.leader.poll() is not None):
            self._spawn_leader()
        body = dict(self.body, leader_pid=self.leader.pid if online and self.leader else None)
        return self.endpoint.control("POST", "/nodes", body)["node"]

    def stop(self) -> None:
        """The node goes down (its leader dies): PingStatus becomes ConnectionLost."""
        if self.leader is not None and self.leader.poll() is None:
            self.leader.kill()
            self.leader.wait()

    def start(self) -> dict:
        """The node boots again and registers, as the sandbox does on every boot."""
        return self.register(online=True)

    def remove(self) -> None:
        self.stop()
        try:
            self.endpoint.control("DELETE", f"/nodes/{self.instance_id}")
        except Exception:
            pass


@pytest.fixture
def managed_node(clean_endpoint: Endpoint) -> Any:
    made: list[FakeNode] = []
    state_root = tempfile.mkdtemp(prefix="fleetops-agent-")

    def make(name: str = "node-1", *, tags: dict | None = None, online: bool = True, **fields: Any) -> FakeNode:
        resource_type = fields.get("resource_type", "ManagedInstance")
        digest = hashlib.sha256(f"{name}:{secrets.token_hex(8)}".encode()).hexdigest()
        default_id = f"mi-{digest[:17]}" if resource_type == "ManagedInstance" else f"i-{digest[:17]}"
        body = {
            "instance_id": default_id, "resource_type": resource_type, "name": name, "computer_name": name,
            "ip_address": "127.0.0.1", "platform_type": "Linux", "platform_name": "Debian GNU/Linux",
            "platform_version": "12", "agent_version": "3.3.0.0",
            "tags": {"Name": name} if tags is None else dict(tags), "root": "/", "region": REGION,
            "session_user": host_session_user(), "agent_state_dir": os.path.join(state_root, name),
        }
        body.update(fields)
        node = FakeNode(clean_endpoint, body)
        made.append(node)
        node.register(online=online)
        return node

    yield make
    for node in made:
        node.remove()
    subprocess.run(["rm", "-rf", "--one-file-system", state_root], check=False)
