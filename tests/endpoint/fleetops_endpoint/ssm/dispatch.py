"""Runs one SSM operation of ours and turns the outcome into a JSON 1.1 response."""

from __future__ import annotations

import logging
import traceback
from typing import Any, Iterable

from .. import awsproto, shapes
from ..authz import principal_for
from .registry import OPERATIONS, AwsError, Context, FallThrough

log = logging.getLogger("fleetops_endpoint.ssm")
OURS = {awsproto.LAYER_HEADER: "ssm"}


def _error(start_response, err: AwsError, strict: bool) -> Iterable[bytes]:
    key = shapes.error_message_key("ssm", err.code)
    body: dict[str, Any] = {"__type": err.code}
    if err.message is not None and key:
        body[key] = err.message
    if strict:
        problems = shapes.validate_error("ssm", body)
        if problems:
            return _shape_failure(start_response, f"error {err.code}", problems)
    return awsproto.json_error(start_response, err.status, err.code, err.message, key, OURS)


def _shape_failure(start_response, what: str, problems: list[str]) -> Iterable[bytes]:
    message = (
        f"fleetops endpoint: the {what} response does not match botocore's output shape: " + "; ".join(problems)
    )
    log.error(message)
    return awsproto.json_error(start_response, 500, "InternalServerError", message, "Message", OURS)


def dispatch(info: awsproto.CallInfo, state: Any, start_response) -> Iterable[bytes] | None:
    """Answer ``info`` with our handler; None means moto should answer it."""
    operation = info.operation or ""
    handler = OPERATIONS.get(operation)
    if handler is None:
        return None
    strict = state.strict
    body = info.json_body
    if body is None or not isinstance(body, dict):
        return awsproto.json_error(start_response, 400, "SerializationException", None, None, OURS)
    type_errors = shapes.input_type_errors("ssm", operation, body)
    if type_errors:
        return awsproto.json_error(
            start_response, 400, "SerializationException", "Invalid request body: " + "; ".join(type_errors),
            "Message", OURS,
        )
    errors = shapes.validate_input("ssm", operation, body)
    if errors:
        return _error(start_response, AwsError("ValidationException", shapes.validation_message(errors)), strict)
    ctx = Context(
        operation=operation,
        account_id=awsproto.ACCOUNT_ID,
        region=info.region,
        principal=principal_for(info.access_key),
        ssm=state.ssm,
        deny=state.deny,
        request_id=awsproto.request_id(),
        extra={"host": info.host},
    )
    try:
        with state.ssm.lock:
            result = handler(body, ctx)
    except FallThrough:
        return None
    except AwsError as err:
        return _error(start_response, err, strict)
    except Exception as exc:  # a bug in a handler: say so the way AWS reports a fault
        log.error("handler %s failed:\n%s", operation, traceback.format_exc())
        return awsproto.json_error(
            start_response, 500, "InternalServerError", f"fleetops endpoint: {operation} failed: {exc!r}", "Message",
            OURS,
        )
    if strict:
        problems = shapes.validate_output("ssm", operation, result)
        if problems:
            return _shape_failure(start_response, operation, problems)
    return awsproto.json_response(start_response, 200, result, extra=OURS)
