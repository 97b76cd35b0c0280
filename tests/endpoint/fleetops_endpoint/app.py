"""The WSGI application: our middleware in front of moto's server.

For every request, in this order:

1. ``/_fleetops/...`` goes to the control API (not counted);
2. the call is counted as ``service:Operation``;
3. a pending fault for it is applied (throttle / 5xx / added latency);
4. SSM operations we implement are answered by ``ssm.dispatch``;
5. a matching deny rule answers AccessDenied for anything else;
6. everything else is handed to moto unchanged.
"""

from __future__ import annotations

import base64
import time
from typing import Any, Iterable

from . import awsproto, control, tagging
from .authz import denied_message, principal_for
from .ssm import dispatch as ssm_dispatch
from .state import EndpointState


def make_moto_app():
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return DomainDispatcherApplication(create_backend_app)


def _kms_resources(info: awsproto.CallInfo) -> list[str]:
    body = info.json_body if isinstance(info.json_body, dict) else {}
    resources: list[str] = []
    key_id = body.get("KeyId") or body.get("DestinationKeyId")
    if not key_id and body.get("CiphertextBlob"):
        try:
            from moto.kms.utils import _deserialize_ciphertext_blob

            key_id = _deserialize_ciphertext_blob(base64.b64decode(body["CiphertextBlob"])).key_id
        except Exception:
            key_id = None
    if key_id:
        resources.append(key_id)
        try:
            from moto.kms.models import kms_backends

            backend = kms_backends[awsproto.ACCOUNT_ID][info.region]
            key = backend.keys.get(backend.any_id_to_key_id(key_id))
            if key is not None:
                resources = [key.arn, key.id, *key.aliases.keys(), *resources]
        except Exception:
            pass
    return resources


def _resources(info: awsproto.CallInfo) -> list[str]:
    if info.service == "kms":
        return _kms_resources(info)
    body = info.json_body if isinstance(info.json_body, dict) else {}
    found = []
    for key in ("Name", "DocumentName", "ResourceId", "InstanceId", "WindowId", "BaselineId"):
        if isinstance(body.get(key), str):
            found.append(body[key])
    return found


class EndpointApp:
    def __init__(self, state: EndpointState, moto_app: Any | None = None) -> None:
        self.state = state
        self.moto_app = moto_app if moto_app is not None else make_moto_app()

    def __call__(self, environ: dict, start_response) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == control.PREFIX or path.startswith(control.PREFIX + "/"):
            return control.handle(self.state, environ, start_response)

        info = awsproto.introspect(environ)
        key = info.key
        if key:
            self.state.calls.add(key)
            fault = self.state.faults.take(info.service, info.operation)
            if fault is not None:
                if fault.kind == "throttle":
                    return awsproto.throttle_response(start_response, info)
                if fault.kind == "error5xx":
                    return awsproto.server_error_response(start_response, info, fault.status)
                time.sleep(fault.latency_ms / 1000.0)

        if info.service == "ssm" and info.protocol == "json":
            info.host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME', '127.0.0.1')}:{environ.get('SERVER_PORT', '')}"
            answered = ssm_dispatch(info, self.state, start_response)
            if answered is not None:
                return answered

        if key:
            action = key
            resources = _resources(info)
            rule = self.state.deny.find(action, resources or ["*"])
            if rule is not None:
                message = denied_message(principal_for(info.access_key), action, (resources or ["*"])[0])
                return awsproto.access_denied_response(start_response, info, message)

        if info.service == "tagging" and info.protocol == "json":
            answered = tagging.answer(info, self.state, start_response)
            if answered is not None:
                return answered
        return self.moto_app(environ, start_response)
