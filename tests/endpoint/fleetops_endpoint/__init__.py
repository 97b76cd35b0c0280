"""The local SSM endpoint used to test the fleetops.ssm collection.

moto's server (S3, EC2, IAM, KMS, STS, SSM, ...) behind our WSGI middleware,
which adds a control API, call counting, fault injection, simulated access
denial, and our own implementation of the SSM operations moto lacks or gets
wrong (see ``fleetops_endpoint.ssm``).
"""

from .server import Endpoint

__all__ = ["Endpoint"]
