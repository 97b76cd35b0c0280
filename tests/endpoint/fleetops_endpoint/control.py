"""The control API under ``/_fleetops/`` (JSON in, JSON out; never counted as a call).

    GET    /_fleetops/health   -> {"status": "ok"}
    POST   /_fleetops/faults   {"operation", "kind", "count", "service", "status", "latency_ms"}
    GET    /_fleetops/faults   -> {"faults": [...]} (pending)
    DELETE /_fleetops/faults
    GET    /_fleetops/calls    -> {"ssm:PutParameter": 3, ...}
    DELETE /_fleetops/calls
    POST   /_fleetops/reset
    POST   /_fleetops/deny     {"action": "ssm:PutParameter", "resource_prefix": "/denied/"}
    GET    /_fleetops/deny     -> {"rules": [...]}
    DELETE /_fleetops/deny
    /_fleetops/nodes, /_fleetops/sessions, /_fleetops/settings  managed nodes, sessions, knobs (fleetcontrol.py)
    POST   /_fleetops/patch-states  {"instance_id", "patch_group", "baseline_id", ...} (ssm/patching.py)
    GET    /_fleetops/patch-states  -> {"patch_states": [...]}
    DELETE /_fleetops/patch-states
    POST   /_fleetops/maintenance-windows/<window-id>/run  {"status", "tasks": {...}} (ssm/maintenance_windows.py)
"""

from __future__ import annotations

import json
from typing import Any, Iterable

from . import fleetcontrol
from .awsproto import ACCOUNT_ID
from .ssm import maintenance_windows, patching
from .state import FAULT_KINDS, EndpointState

PREFIX = "/_fleetops"


class BadRequest(Exception):
    pass


def _reply(start_response, status: int, payload: Any) -> Iterable[bytes]:
    body = json.dumps(payload).encode("utf-8")
    reason = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
              405: "Method Not Allowed"}.get(status, "OK")
    start_response(f"{status} {reason}", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def _json_body(environ: dict) -> dict:
    length = environ.get("CONTENT_LENGTH") or "0"
    raw = environ["wsgi.input"].read(int(length)) if length.isdigit() and int(length) > 0 else b""
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise BadRequest(f"body is not JSON: {exc}")
    if not isinstance(data, dict):
        raise BadRequest("body must be a JSON object")
    return data


def _int(data: dict, key: str, default: int, minimum: int) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise BadRequest(f"{key} must be an integer >= {minimum}")
    return value


def _add_fault(state: EndpointState, data: dict) -> dict:
    operation = data.get("operation")
    if not isinstance(operation, str) or not operation:
        raise BadRequest('"operation" is required (an operation name as in X-Amz-Target, or "*")')
    kind = data.get("kind")
    if kind not in FAULT_KINDS:
        raise BadRequest(f'"kind" must be one of {list(FAULT_KINDS)}')
    service = data.get("service", "ssm")
    if not isinstance(service, str) or not service:
        raise BadRequest('"service" must be a service name such as "ssm" or "*"')
    count = _int(data, "count", 1, 1)
    status = 500
    latency_ms = 0
    if kind == "error5xx":
        status = _int(data, "status", 500, 500)
        if status > 599:
            raise BadRequest('"status" must be a 5xx status code')
    if kind == "latency":
        if "latency_ms" not in data:
            raise BadRequest('"latency_ms" is required for kind "latency"')
        latency_ms = _int(data, "latency_ms", 0, 0)
    fault = state.faults.add(service.lower(), operation, kind, count, status, latency_ms)
    return {"fault": fault.to_json()}


def handle(state: EndpointState, environ: dict, start_response) -> Iterable[bytes]:
    path = environ.get("PATH_INFO", "").rstrip("/")
    method = environ.get("REQUEST_METHOD", "GET").upper()
    route = path[len(PREFIX):] or "/"
    try:
        if route == "/health" and method == "GET":
            return _reply(start_response, 200, {"status": "ok"})
        if route == "/faults":
            if method == "POST":
                return _reply(start_response, 200, _add_fault(state, _json_body(environ)))
            if method == "GET":
                return _reply(start_response, 200, {"faults": state.faults.pending()})
            if method == "DELETE":
                state.faults.clear()
                return _reply(start_response, 200, {"faults": []})
        elif route == "/calls":
            if method == "GET":
                return _reply(start_response, 200, state.calls.snapshot())
            if method == "DELETE":
                state.calls.clear()
                return _reply(start_response, 200, {})
        elif route == "/reset":
            if method == "POST":
                state.reset()
                return _reply(start_response, 200, {"reset": True})
        elif route == "/deny":
            if method == "POST":
                data = _json_body(environ)
                action = data.get("action")
                if not isinstance(action, str) or ":" not in action:
                    raise BadRequest('"action" must be an IAM action such as "ssm:PutParameter"')
                prefix = data.get("resource_prefix")
                if prefix is not None and not isinstance(prefix, str):
                    raise BadRequest('"resource_prefix" must be a string')
                return _reply(start_response, 200, {"rule": state.deny.add(action, prefix).to_json()})
            if method == "GET":
                return _reply(start_response, 200, {"rules": state.deny.list()})
            if method == "DELETE":
                state.deny.clear()
                return _reply(start_response, 200, {"rules": []})
        elif route == patching.CONTROL_PATH:
            body = _json_body(environ) if method == "POST" else {}
            return _reply(start_response, *patching.control(state.ssm, method, body, ACCOUNT_ID))
        elif fleetcontrol.handles(route):
            body = _json_body(environ) if method == "POST" else {}
            return _reply(start_response, *fleetcontrol.handle(state, method, route, body, environ))
        elif route.startswith(maintenance_windows.CONTROL_PREFIX):
            body = _json_body(environ) if method == "POST" else {}
            return _reply(start_response, *maintenance_windows.control(state.ssm, method, route, body, ACCOUNT_ID))
        else:
            return _reply(start_response, 404, {"error": f"unknown control path {path}"})
        return _reply(start_response, 405, {"error": f"{method} is not supported on {path}"})
    except BadRequest as exc:
        return _reply(start_response, 400, {"error": str(exc)})
