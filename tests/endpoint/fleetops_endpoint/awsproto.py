"""Reading AWS requests and writing AWS-shaped responses at the WSGI level.

An incoming request is summarised as a ``CallInfo``: which service and
operation it is (``ssm:PutParameter``, ``sts:GetCallerIdentity``,
``s3:PUT``), the region and access key from the SigV4 credential scope, and
for JSON / query protocol requests the raw body (which is put back into the
WSGI environ so the next application can read it again).
"""

from __future__ import annotations

import io
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs

DEFAULT_REGION = "us-east-1"
ACCOUNT_ID = "123456789012"

# X-Amz-Target prefixes of JSON protocol services, for unsigned requests.
TARGET_PREFIXES = {
    "AmazonSSM": "ssm",
    "TrentService": "kms",
    "secretsmanager": "secretsmanager",
    "Logs_20140328": "logs",
    "AWSEvents": "events",
    "DynamoDB_20120810": "dynamodb",
}

# Query protocol actions that are sent unsigned.
UNSIGNED_ACTIONS = {"AssumeRoleWithWebIdentity": "sts", "AssumeRoleWithSAML": "sts"}

# Query protocol services whose errors use EC2's XML layout.
EC2_STYLE_QUERY = {"ec2"}

_CREDENTIAL_RE = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request")

StartResponse = Callable[..., Any]


@dataclass
class CallInfo:
    service: str | None
    operation: str | None
    region: str
    access_key: str | None
    protocol: str  # "json", "query", "rest"
    body: bytes = b""
    json_body: Any = None
    form: dict[str, list[str]] = field(default_factory=dict)
    host: str = ""  # the Host the client addressed (set by the app), for URLs pointing back here

    @property
    def key(self) -> str | None:
        if not self.service or not self.operation:
            return None
        return f"{self.service}:{self.operation}"


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = environ.get("CONTENT_LENGTH") or ""
    if length.strip().isdigit():
        body = stream.read(int(length))
    elif environ.get("wsgi.input_terminated"):
        body = stream.read()
    else:
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def introspect(environ: dict[str, Any]) -> CallInfo:
    auth = environ.get("HTTP_AUTHORIZATION", "")
    access_key = None
    region = DEFAULT_REGION
    service = None
    match = _CREDENTIAL_RE.search(auth)
    if not match and "X-Amz-Credential" in environ.get("QUERY_STRING", ""):  # presigned URLs
        credential = parse_qs(environ["QUERY_STRING"]).get("X-Amz-Credential", [""])[0]
        match = _CREDENTIAL_RE.search("Credential=" + credential)
    if match:
        access_key, region, service = match.group(1), match.group(3), match.group(4)
        service = service.lower()
    target = environ.get("HTTP_X_AMZ_TARGET")
    method = environ.get("REQUEST_METHOD", "GET").upper()
    content_type = environ.get("CONTENT_TYPE", "")

    if target:
        prefix, operation = target.rpartition(".")[::2]
        if not service:
            service = TARGET_PREFIXES.get(prefix, prefix.lower() or None)
        body = _read_body(environ)
        try:
            parsed = json.loads(body.decode("utf-8")) if body.strip() else {}
        except (ValueError, UnicodeDecodeError):
            parsed = None
        return CallInfo(service, operation, region, access_key, "json", body, parsed)

    if service == "s3" or (service is None and not auth and method != "POST"):
        return CallInfo(service or None, method if service else None, region, access_key, "rest")

    form: dict[str, list[str]] = {}
    body = b""
    if method == "POST" and content_type.startswith("application/x-www-form-urlencoded"):
        body = _read_body(environ)
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    action = (form.get("Action") or query.get("Action") or [None])[0]
    if action and service is None:
        service = UNSIGNED_ACTIONS.get(action)
    if action:
        merged = dict(query)
        merged.update(form)
        return CallInfo(service, action, region, access_key, "query", body, None, merged)
    return CallInfo(service, method if service else None, region, access_key, "rest", body)


def request_id() -> str:
    return str(uuid.uuid4())


# --------------------------------------------------------------------------
# response writers


def _respond(
    start_response: StartResponse, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None
) -> Iterable[bytes]:
    reason = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 500: "Internal Server Error",
              503: "Service Unavailable"}.get(status, "Error")
    rid = request_id()
    headers = [
        ("Content-Type", content_type),
        ("Content-Length", str(len(body))),
        ("x-amzn-RequestId", rid),
    ]
    for name, value in (extra or {}).items():
        headers.append((name, value))
    start_response(f"{status} {reason}", headers)
    return [body]


# Marks the responses our own layer built (moto's do not carry it); tests use it.
LAYER_HEADER = "x-fleetops-layer"


def json_response(start_response: StartResponse, status: int, payload: Any,
                  content_type: str = "application/x-amz-json-1.1",
                  extra: dict[str, str] | None = None) -> Iterable[bytes]:
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    return _respond(start_response, status, body, content_type, extra)


def json_error(start_response: StartResponse, status: int, code: str, message: str | None,
               message_key: str | None = "message", extra: dict[str, str] | None = None) -> Iterable[bytes]:
    payload: dict[str, Any] = {"__type": code}
    if message is not None and message_key:
        payload[message_key] = message
    return _respond(
        start_response,
        status,
        json.dumps(payload, separators=(",", ":")).encode("utf-8"),
        "application/x-amz-json-1.1",
        {"x-amzn-ErrorType": code, **(extra or {})},
    )


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def xml_error(start_response: StartResponse, info: CallInfo, status: int, code: str, message: str) -> Iterable[bytes]:
    rid = request_id()
    msg = _xml_escape(message)
    if info.service in EC2_STYLE_QUERY:
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{code}</Code>'
            f"<Message>{msg}</Message></Error></Errors><RequestID>{rid}</RequestID></Response>"
        )
    elif info.protocol == "rest":  # S3 and other REST-XML services
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{msg}</Message>'
            f"<RequestId>{rid}</RequestId></Error>"
        )
    else:
        kind = "Receiver" if status >= 500 else "Sender"
        body = (
            f'<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{msg}</Message></Error>'
            f"<RequestId>{rid}</RequestId></ErrorResponse>"
        )
    return _respond(start_response, status, body.encode("utf-8"), "text/xml")


def _json_errors(info: CallInfo) -> bool:
    """JSON 1.0/1.1 and REST-JSON services (everything but the XML protocols) answer errors in JSON."""
    if info.protocol == "json":
        return True
    return info.protocol == "rest" and info.service not in (None, "s3", "s3control", "cloudfront", "route53")


def throttle_response(start_response: StartResponse, info: CallInfo) -> Iterable[bytes]:
    """What AWS sends when it throttles a call, per protocol."""
    if _json_errors(info):
        return json_error(start_response, 400, "ThrottlingException", "Rate exceeded", "message")
    if info.service in EC2_STYLE_QUERY:
        return xml_error(start_response, info, 503, "RequestLimitExceeded", "Request limit exceeded.")
    if info.protocol == "rest":
        return xml_error(start_response, info, 503, "SlowDown", "Please reduce your request rate.")
    return xml_error(start_response, info, 400, "Throttling", "Rate exceeded")


_JSON_5XX = {
    ("ssm", 500): "InternalServerError",
    ("kms", 500): "KMSInternalException",
}


def server_error_response(start_response: StartResponse, info: CallInfo, status: int) -> Iterable[bytes]:
    if _json_errors(info):
        code = _JSON_5XX.get((info.service or "", status)) or (
            "ServiceUnavailableException" if status == 503 else "InternalFailure"
        )
        key = "Message" if code == "InternalServerError" else "message"
        return json_error(start_response, status, code, "Injected server error", key)
    code = "ServiceUnavailable" if status == 503 else "InternalError"
    if info.protocol == "query" and info.service not in EC2_STYLE_QUERY:
        code = "ServiceUnavailable" if status == 503 else "InternalFailure"
    return xml_error(start_response, info, status, code, "Injected server error")


def access_denied_response(start_response: StartResponse, info: CallInfo, message: str) -> Iterable[bytes]:
    if _json_errors(info):
        return json_error(start_response, 400, "AccessDeniedException", message, "Message")
    if info.service in EC2_STYLE_QUERY:
        return xml_error(start_response, info, 403, "UnauthorizedOperation", message)
    if info.protocol == "rest":
        return xml_error(start_response, info, 403, "AccessDenied", message)
    return xml_error(start_response, info, 403, "AccessDenied", message)
