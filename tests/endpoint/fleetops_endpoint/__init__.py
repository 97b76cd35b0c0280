"""The local SSM endpoint used to test the fleetops.ssm collection.

moto's server (S3, EC2, IAM, KMS, STS, SSM, ...) behind our WSGI middleware,
which adds a control API, call counting, fault injection, simulated access
denial, and our own implementation of the SSM operations moto lacks or gets
wrong (see ``fleetops_endpoint.ssm``).
"""

from typing import Any


def __getattr__(name: str) -> Any:
    # Imported on first use: the session-manager-plugin stand-in (fleetops_endpoint.smp)
    # runs with a bare python3 that has neither moto nor werkzeug.
    if name == "Endpoint":
        from .server import Endpoint

        return Endpoint
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
