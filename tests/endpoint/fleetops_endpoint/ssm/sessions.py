"""Session Manager: StartSession, ResumeSession, TerminateSession, DescribeSessions, GetConnectionStatus.

A session is a record here; the shell runs when a client hands the
StartSession response to ``tests/endpoint/bin/session-manager-plugin`` (the
stand-in for AWS's plugin, ``fleetops_endpoint/smp.py``).  The ``StreamUrl``
points back at this endpoint; the stand-in asks the control API
(``GET /_fleetops/sessions/<id>`` with the session token in the
``X-Fleetops-Session-Token`` header) for the node's leader process and the
user to run as, opens a pseudo-terminal and runs ``sh`` in the node with
``nsenter``.  ``POST /_fleetops/sessions/<id>/close`` (same header) records the
end; a ``TerminateSession`` is noticed by the stand-in within half a second.

Session documents: ``SSM-SessionManagerRunShell`` (the account's preferences,
when the account created it: ``inputs.runAsEnabled``, ``runAsDefaultUser``,
``shellProfile.linux``) is the default; any other ``Session`` document can be
named, ``AWS-StartNonInteractiveCommand`` (parameter ``command``) included.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from .doclookup import ResolvedDocument, parameter_values, resolve_document, substitute
from .nodes import NODES, Node
from .registry import AwsError, Context, operation, paginate, regional_store, validation_error

DEFAULT_SESSION_DOCUMENT = "SSM-SessionManagerRunShell"
ACTIVE_STATES = ("Connected", "Connecting", "Disconnected", "Terminating")
HISTORY_STATES = ("Terminated", "Failed")
SUPPORTED_SESSION_TYPES = ("Standard_Stream", "InteractiveCommands", "NonInteractiveCommands")
DESCRIBE_DEFAULT_MAX_RESULTS = 20
TOKEN_HEADER = "X-Fleetops-Session-Token"


@dataclass
class SessionRecord:
    session_id: str
    target: str
    region: str
    document_name: str
    session_type: str
    owner: str
    start: float
    run_as_user: str | None
    run_as_elevated: bool
    command: str | None
    shell_profile: str | None
    run_as_error: str | None
    reason: str | None = None
    status: str = "Connected"
    end: float | None = None
    details: str | None = None
    tokens: list[str] = field(default_factory=list)
    stream_url: str = ""
    max_session_duration: str | None = None
    idle_timeout_minutes: str | None = None

    def new_token(self) -> str:
        # 160 characters; AWS's are opaque, up to 300.  A client already connected keeps
        # working after a ResumeSession, so earlier tokens of the session stay valid here.
        token = secrets.token_urlsafe(120)
        self.tokens.append(token)
        return token

    def close(self, status: str, details: str | None = None) -> None:
        if self.status in HISTORY_STATES:
            return
        self.status = status
        self.end = round(time.time(), 3)
        if details:
            self.details = details[:1024]

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "SessionId": self.session_id,
            "Target": self.target,
            "Status": self.status,
            "StartDate": self.start,
            "DocumentName": self.document_name,
            "Owner": self.owner,
            "AccessType": "Standard",
        }
        if self.end is not None:
            out["EndDate"] = self.end
        if self.reason:
            out["Reason"] = self.reason
        if self.details:
            out["Details"] = self.details
        if self.max_session_duration:
            out["MaxSessionDuration"] = self.max_session_duration
        return out


@regional_store("sessions")
class SessionStore:
    def __init__(self, account_id: str, region: str) -> None:
        self.sessions: dict[str, SessionRecord] = {}


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _target_arn(ctx: Context, target: str) -> str:
    if target.startswith("i-"):
        return f"arn:{ctx.partition}:ec2:{ctx.region}:{ctx.account_id}:instance/{target}"
    return ctx.arn(f"managed-instance/{target}")


def _session_document(ctx: Context, name: str | None) -> tuple[str, ResolvedDocument | None]:
    if not name:
        # The account's preferences document, when it was created; AWS's defaults otherwise.
        return DEFAULT_SESSION_DOCUMENT, resolve_document(ctx, DEFAULT_SESSION_DOCUMENT)
    doc = resolve_document(ctx, name)
    if doc is None:
        raise AwsError("InvalidDocument", f"Document {name} does not exist in your account.")
    if doc.document_type != "Session":
        raise AwsError("InvalidDocument", f"Document {doc.name} is of type {doc.document_type}, not Session.")
    return doc.name, doc


@operation("StartSession")
def start_session(request: dict, ctx: Context) -> dict:
    target = request["Target"]
    ctx.authorize("ssm:StartSession", _target_arn(ctx, target), [target])
    node = NODES.get(target, ctx.region)
    if node is None or not node.online():
        raise AwsError("TargetNotConnected", f"{target} is not connected.")
    document_name, doc = _session_document(ctx, request.get("DocumentName"))
    content = doc.content if doc is not None else {}
    session_type = str(content.get("sessionType") or "Standard_Stream")
    params = parameter_values(doc, request.get("Parameters"), "ValidationException") if doc is not None else {}
    if doc is None and request.get("Parameters"):
        raise validation_error(f"Document {document_name} takes no parameters.")
    inputs = content.get("inputs") if isinstance(content.get("inputs"), dict) else {}
    linux = (content.get("properties") or {}).get("linux") if isinstance(content.get("properties"), dict) else None
    linux = linux if isinstance(linux, dict) else {}
    command = None
    if session_type in ("InteractiveCommands", "NonInteractiveCommands"):
        command = substitute(linux.get("commands", ""), params)
        command = "\n".join(command) if isinstance(command, list) else str(command)
    run_as_user, run_as_error = _run_as(inputs, node)
    profile = inputs.get("shellProfile") if isinstance(inputs.get("shellProfile"), dict) else {}
    session_id = f"{ctx.principal.name}-{secrets.token_hex(9)[:17]}"[-96:]
    record = SessionRecord(
        session_id=session_id, target=target, region=ctx.region, document_name=document_name,
        session_type=session_type, owner=ctx.principal.arn, start=ctx.now(), run_as_user=run_as_user,
        run_as_elevated=_truthy(linux.get("runAsElevated")), command=command,
        shell_profile=str(profile.get("linux") or "") or None, run_as_error=run_as_error,
        reason=request.get("Reason"),
        max_session_duration=str(inputs["maxSessionDuration"]) if inputs.get("maxSessionDuration") else None,
        idle_timeout_minutes=str(inputs["idleSessionTimeout"]) if inputs.get("idleSessionTimeout") else None,
    )
    host = ctx.extra.get("host") or "127.0.0.1"
    record.stream_url = f"ws://{host}/v1/data-channel/{session_id}?role=publish_subscribe"
    token = record.new_token()
    ctx.store("sessions").sessions[session_id] = record
    return {"SessionId": session_id, "TokenValue": token, "StreamUrl": record.stream_url}


def _run_as(inputs: dict, node: Node) -> tuple[str | None, str | None]:
    """The user the agent starts the shell as, or the error it ends the session with."""
    if _truthy(inputs.get("runAsEnabled")):
        user = str(inputs.get("runAsDefaultUser") or "").strip()
        if not user:
            return None, "please set the RunAs default user"
        return user, None
    return node.session_user, None


def _find(ctx: Context, session_id: str) -> SessionRecord | None:
    return ctx.store("sessions").sessions.get(session_id)


@operation("TerminateSession")
def terminate_session(request: dict, ctx: Context) -> dict:
    session_id = request["SessionId"]
    ctx.authorize("ssm:TerminateSession", ctx.arn(f"session/{session_id}"), [session_id])
    record = _find(ctx, session_id)
    if record is not None:
        record.close("Terminated")
    return {"SessionId": session_id}


@operation("ResumeSession")
def resume_session(request: dict, ctx: Context) -> dict:
    session_id = request["SessionId"]
    ctx.authorize("ssm:ResumeSession", ctx.arn(f"session/{session_id}"), [session_id])
    record = _find(ctx, session_id)
    if record is None or record.status in HISTORY_STATES:
        raise AwsError("DoesNotExistException", f"Session {session_id} does not exist or is terminated.")
    return {"SessionId": session_id, "TokenValue": record.new_token(), "StreamUrl": record.stream_url}


def _timestamp(value: str) -> float:
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise validation_error(f"Invalid filter value {value}: expected a timestamp such as 2024-08-29T00:00:00Z.")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.timestamp()


def _session_matches(record: SessionRecord, key: str, value: str) -> bool:
    if key == "InvokedAfter":
        return record.start >= _timestamp(value)
    if key == "InvokedBefore":
        return record.start <= _timestamp(value)
    if key == "Target":
        return record.target == value
    if key == "Owner":
        return record.owner == value
    if key == "Status":
        return record.status == value
    if key == "SessionId":
        return record.session_id == value
    if key == "AccessType":
        return value == "Standard"
    return True


@operation("DescribeSessions")
def describe_sessions(request: dict, ctx: Context) -> dict:
    ctx.authorize("ssm:DescribeSessions", ctx.arn("*"))
    wanted = ACTIVE_STATES if request["State"] == "Active" else HISTORY_STATES
    filters = [(f["key"], f["value"]) for f in request.get("Filters") or []]
    records = [r for r in ctx.store("sessions").sessions.values() if r.status in wanted]
    records = [r for r in records if all(_session_matches(r, k, v) for k, v in filters)]
    records.sort(key=lambda r: r.start, reverse=True)
    page_size = int(request.get("MaxResults") or DESCRIBE_DEFAULT_MAX_RESULTS)
    page, token = paginate([r.describe() for r in records], page_size,
                           request.get("NextToken"), {"op": "DescribeSessions", "state": request["State"],
                                                      "filters": filters})
    out: dict[str, Any] = {"Sessions": page}
    if token:
        out["NextToken"] = token
    return out


@operation("GetConnectionStatus")
def get_connection_status(request: dict, ctx: Context) -> dict:
    target = request["Target"]
    ctx.authorize("ssm:GetConnectionStatus", _target_arn(ctx, target), [target])
    node = NODES.get(target, ctx.region)
    return {"Target": target, "Status": "connected" if node is not None and node.online() else "notconnected"}


# --------------------------------------------------------------------------
# control API: /_fleetops/sessions


def _all_sessions(ssm_state: Any) -> list[SessionRecord]:
    found = []
    for _account, _region, store in ssm_state.existing_stores("sessions"):
        found.extend(store.sessions.values())
    return found


def connection_info(record: SessionRecord) -> dict[str, Any]:
    """What the plugin stand-in needs to run the session's shell in the node."""
    node = NODES.get(record.target)
    node_info = None
    if node is not None:
        node_info = {
            "instance_id": node.instance_id, "leader_pid": node.leader_pid, "leader_start": node.leader_start,
            "online": node.online(), "root": node.root, "platform_type": node.platform_type,
        }
    return {
        "session_id": record.session_id, "status": record.status, "session_type": record.session_type,
        "target": record.target, "region": record.region, "document_name": record.document_name,
        "run_as_user": record.run_as_user, "run_as_elevated": record.run_as_elevated,
        "run_as_error": record.run_as_error, "command": record.command, "shell_profile": record.shell_profile,
        "idle_timeout_minutes": record.idle_timeout_minutes, "node": node_info,
    }


def control_sessions(ssm_state: Any, method: str, rest: str, data: dict, token: str | None) -> tuple[int, dict]:
    """``rest`` is what follows /sessions: "", "/<id>" or "/<id>/close"."""
    parts = [p for p in rest.split("/") if p]
    with ssm_state.lock:
        if not parts:
            if method == "GET":
                return 200, {"sessions": [
                    {**r.describe(), "session_type": r.session_type, "run_as_user": r.run_as_user,
                     "region": r.region} for r in sorted(_all_sessions(ssm_state), key=lambda r: r.start)]}
            return 405, {"error": f"{method} is not supported on /_fleetops/sessions"}
        record = next((r for r in _all_sessions(ssm_state) if r.session_id == parts[0]), None)
        if record is None:
            return 404, {"error": f"no session {parts[0]}"}
        if not token or not any(secrets.compare_digest(token, t) for t in record.tokens):
            return 403, {"error": f"the {TOKEN_HEADER} header does not hold this session's token"}
        if len(parts) == 1 and method == "GET":
            return 200, connection_info(record)
        if len(parts) == 2 and parts[1] == "close" and method == "POST":
            status = data.get("status", "Terminated")
            if status not in HISTORY_STATES:
                return 400, {"error": f'"status" must be one of {list(HISTORY_STATES)}'}
            details = data.get("details")
            record.close(status, details if isinstance(details, str) and details else None)
            return 200, {"session": record.describe()}
    return 405, {"error": f"{method} is not supported on /_fleetops/sessions{rest}"}
