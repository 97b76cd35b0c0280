"""pytest fixtures for tests that talk to the local SSM endpoint.

Load with ``-p fleetops_endpoint.pytest_plugin`` (``tests/endpoint`` on
``PYTHONPATH``).  Fixtures:

``ssm_endpoint``    session-wide ``Endpoint`` (strict shape checking on unless
                    FLEETOPS_ENDPOINT_STRICT says otherwise)
``clean_endpoint``  the same endpoint, reset to its freshly started state
``ssm_client``      boto3 SSM client against a clean endpoint (us-east-1,
                    dummy credentials ``test``/``test``)
``aws_client``      factory: ``aws_client("kms", retries=0)`` for any service
"""

from __future__ import annotations

import os
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
