"""Hybrid activations: CreateActivation, DescribeActivations, DeleteActivation,
DeregisterManagedInstance, and what the agent does with an activation.

An activation lets up to ``RegistrationLimit`` machines register as managed nodes
(``mi-`` ids) until it expires.  Its code is a secret that AWS returns once, from
``CreateActivation``; ``DescribeActivations`` never shows it.  Activation tags are
set at creation only (``ResourceTypeForTagging`` has no activation type) and are
copied to every node that registers with the activation.

The agent side (``amazon-ssm-agent -register`` calls the service's anonymous
``RegisterManagedInstance``, a running agent reports in with
``UpdateInstanceInformation``) is emulated by two control calls, which the test
agent package (``tests/agent_package/``) makes:

    POST /_fleetops/agent/register   {"activation_code", "activation_id", "region",
                                      "computer_name", "ip_address", "platform_name",
                                      "platform_version", "agent_version"}
         -> 200 {"instance_id": "mi-...", "region", "token"}
         -> 400 {"code": "InvalidActivation" | "InvalidActivationId" | "ActivationExpired", "error"}
    POST /_fleetops/agent/heartbeat  {"instance_id", "token", "agent_version", "stopping": false, ...}
         -> 200 {"instance_id", "ping_status"}; 404 {"code": "InvalidInstanceId"} once deregistered
    GET  /_fleetops/agent/activations
         -> {"activations": [{"activation_id", "region", "activation_code"}, ...]}: every code issued
            since the last reset, deleted activations included, for tests that prove a code never
            reached a log (AWS itself never shows a code again)

A node registered this way is ``Online`` while its agent reports in (every few seconds;
``HEARTBEAT_TIMEOUT`` without a report, or a report with ``"stopping": true``, makes it
``ConnectionLost``).  When the endpoint runs as root on the machine that hosts the nodes,
it also finds the node's leader process from the agent's connection (the client socket's
owner, then PID 1 of its PID namespace), so Run Command and sessions reach the node as
they reach sandbox nodes registered through ``POST /_fleetops/nodes``.
"""

from __future__ import annotations

import os
import re
import secrets
import string
import time
import uuid
from typing import Any

from ..awsproto import ACCOUNT_ID
from .nodes import KNOWN_FIELDS, NODES, ControlError
from .registry import AwsError, Context, on_reset, operation, paginate, regional_store, validation_error
from .tags import check_tag_keys

DEFAULT_LIFETIME_SECONDS = 24 * 3600  # an activation without ExpirationDate expires in 24 hours
MAX_LIFETIME_SECONDS = 30 * 24 * 3600  # ExpirationDate is at most 30 days ahead
DEFAULT_REGISTRATION_LIMIT = 1
DESCRIBE_DEFAULT_MAX_RESULTS = 50  # not documented by AWS
FILTER_KEYS = ("ActivationIds", "DefaultInstanceName", "IamRole")
CODE_LENGTH = 20  # AWS's codes: 20 characters of the base64 alphabet, e.g. "QC2CV0/lRfn+LTqf23Bf"
HEARTBEAT_TIMEOUT = 30.0  # seconds without a report before the node is ConnectionLost
ACTIVATION_ID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_CODE_ALPHABET = string.ascii_letters + string.digits + "+/"
# Every code issued since the last reset (GET /_fleetops/agent/activations), for secret-leak tests.
ISSUED: list[dict[str, str]] = []


@on_reset
def _forget_issued() -> None:
    ISSUED.clear()


@regional_store("activations")
class ActivationStore:
    def __init__(self, account_id: str, region: str) -> None:
        self.activations: dict[str, dict[str, Any]] = {}  # in creation order


def _role_arn(ctx: Context, role: str) -> str:
    return f"arn:{ctx.partition}:iam::{ctx.account_id}:role/{role}"


def _check_role(ctx: Context, role: str) -> None:
    """The role must exist in IAM and trust ssm.amazonaws.com; service-linked roles are refused."""
    path, dummy, name = role.rpartition("/")
    path = f"/{path}/" if path else "/"
    found = None
    try:
        from moto.iam.models import iam_backends

        backend = iam_backends[ctx.account_id][ctx.partition]
        for candidate in backend.roles.values():
            if candidate.name == name:
                found = candidate
                break
    except Exception:  # moto's IAM not available: nothing to check against
        return
    if found is not None and found.path.startswith("/aws-service-role/"):
        raise validation_error(f"You can't specify an IAM service-linked role for this parameter: {found.arn}")
    trusted = found is not None and path == found.path and "ssm.amazonaws.com" in str(found.assume_role_policy_document)
    if not trusted:
        raise validation_error(f"Nonexistent role or missing ssm service principal in trust policy: {_role_arn(ctx, role)}")


def _new_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for dummy in range(CODE_LENGTH))


def _expired(activation: dict[str, Any], now: float) -> bool:
    return now >= activation["ExpirationDate"]


def _describe(activation: dict[str, Any], now: float) -> dict[str, Any]:
    out = {key: activation[key] for key in ("ActivationId", "IamRole", "RegistrationLimit", "ExpirationDate",
                                            "CreatedDate", "Tags")}
    for key in ("Description", "DefaultInstanceName"):
        if key in activation:
            out[key] = activation[key]
    # AWS reports 0 for an activation nobody used yet, but botocore's model gives
    # RegistrationsCount a minimum of 1, which strict mode enforces: 0 is left out.
    if activation["RegistrationsCount"]:
        out["RegistrationsCount"] = activation["RegistrationsCount"]
    out["Expired"] = _expired(activation, now)
    return out


@operation("CreateActivation")
def create_activation(request: dict, ctx: Context) -> dict:
    ctx.authorize("ssm:CreateActivation", ctx.arn("*"))
    role = request["IamRole"]
    now = ctx.now()
    expiration = request.get("ExpirationDate")
    if expiration is None:
        expiration = now + DEFAULT_LIFETIME_SECONDS
    expiration = round(float(expiration), 3)
    if expiration <= now:
        raise validation_error("ExpirationDate must be in the future.")
    if expiration > now + MAX_LIFETIME_SECONDS + 60:
        raise validation_error("ExpirationDate can't be more than 30 days from now.")
    tags = request.get("Tags") or []
    check_tag_keys(tags)
    _check_role(ctx, role)
    activation_id = str(uuid.uuid4())
    activation: dict[str, Any] = {
        "ActivationId": activation_id,
        "ActivationCode": _new_code(),
        "IamRole": role,
        "RegistrationLimit": int(request.get("RegistrationLimit") or DEFAULT_REGISTRATION_LIMIT),
        "RegistrationsCount": 0,
        "ExpirationDate": expiration,
        "CreatedDate": now,
        "Tags": [{"Key": tag["Key"], "Value": tag["Value"]} for tag in tags],
    }
    for key in ("Description", "DefaultInstanceName"):
        if key in request:
            activation[key] = request[key]
    ctx.store("activations").activations[activation_id] = activation
    ISSUED.append({"activation_id": activation_id, "region": ctx.region, "activation_code": activation["ActivationCode"]})
    return {"ActivationId": activation_id, "ActivationCode": activation["ActivationCode"]}


def _filters(request: dict) -> list[tuple[str, list[str]]]:
    found = []
    for item in request.get("Filters") or []:
        key = item.get("FilterKey")
        if key not in FILTER_KEYS:
            raise AwsError("InvalidFilter", f"The filter key {key!r} is not valid. Valid keys: {', '.join(FILTER_KEYS)}.")
        found.append((key, list(item.get("FilterValues") or [])))
    return found


def _matches(activation: dict[str, Any], filters: list[tuple[str, list[str]]]) -> bool:
    fields = {"ActivationIds": "ActivationId", "DefaultInstanceName": "DefaultInstanceName", "IamRole": "IamRole"}
    return all(activation.get(fields[key]) in values for key, values in filters)


@operation("DescribeActivations")
def describe_activations(request: dict, ctx: Context) -> dict:
    ctx.authorize("ssm:DescribeActivations", ctx.arn("*"))
    filters = _filters(request)
    now = ctx.now()
    found = [a for a in ctx.store("activations").activations.values() if _matches(a, filters)]
    max_results = int(request.get("MaxResults") or DESCRIBE_DEFAULT_MAX_RESULTS)
    page, token = paginate(found, max_results, request.get("NextToken"),
                           {"op": "DescribeActivations", "filters": filters, "region": ctx.region})
    out: dict[str, Any] = {"ActivationList": [_describe(a, now) for a in page]}
    if token:
        out["NextToken"] = token
    return out


@operation("DeleteActivation")
def delete_activation(request: dict, ctx: Context) -> dict:
    activation_id = request["ActivationId"]
    ctx.authorize("ssm:DeleteActivation", ctx.arn("*"), [activation_id])
    if ctx.store("activations").activations.pop(activation_id, None) is None:
        raise AwsError("InvalidActivation", f"Activation ID {activation_id} doesn't exist.")
    return {}


@operation("DeregisterManagedInstance")
def deregister_managed_instance(request: dict, ctx: Context) -> dict:
    instance_id = request["InstanceId"]
    ctx.authorize("ssm:DeregisterManagedInstance", ctx.arn(f"managed-instance/{instance_id}"), [instance_id])
    node = NODES.get(instance_id, ctx.region)
    if node is None or node.resource_type != "ManagedInstance":
        raise AwsError("InvalidInstanceId", f"Instance Id {instance_id} doesn't exist.")
    NODES.deregister(instance_id)
    return {}


# --------------------------------------------------------------------------
# the agent's side: registration with an activation, and reporting in


class AgentError(Exception):
    """An error the agent receives from the service: (HTTP status, AWS error code, message)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _text(data: dict, key: str, default: str | None = None, max_len: int = 255) -> str | None:
    value = data.get(key, default)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_len:
        raise ControlError(f'"{key}" must be a string of at most {max_len} characters')
    return value


def _new_instance_id() -> str:
    while True:
        candidate = "mi-" + secrets.token_hex(9)[:17]
        if NODES.get(candidate) is None:
            return candidate


def register_node(ssm_state: Any, data: dict, environ: dict) -> dict:
    """What the service does for ``amazon-ssm-agent -register``: a new managed node, or AgentError."""
    region = _text(data, "region") or ""
    if not REGION_RE.match(region):
        raise ControlError('"region" must be a region name such as "us-east-1"')
    activation_id = _text(data, "activation_id") or ""
    code = _text(data, "activation_code") or ""
    if not ACTIVATION_ID_RE.match(activation_id):
        raise AgentError(400, "InvalidActivationId", f"Activation ID {activation_id} is not valid.")
    now = round(time.time(), 3)
    with ssm_state.lock:
        activation = ssm_state.store("activations", ACCOUNT_ID, region).activations.get(activation_id)
        if activation is None or not secrets.compare_digest(activation["ActivationCode"], code):
            raise AgentError(400, "InvalidActivation", "The activation isn't valid. The activation might have been "
                             "deleted, or the ActivationId and the ActivationCode don't match.")
        if _expired(activation, now):
            raise AgentError(400, "ActivationExpired", "")
        if activation["RegistrationsCount"] >= activation["RegistrationLimit"]:
            raise AgentError(400, "InvalidActivation", f"Activation {activation_id} has reached its registration limit "
                             f"of {activation['RegistrationLimit']}.")
        computer_name = _text(data, "computer_name") or ""
        instance_id = _new_instance_id()
        record = {
            "instance_id": instance_id, "resource_type": "ManagedInstance", "region": region,
            "name": activation.get("DefaultInstanceName") or computer_name or instance_id,
            "computer_name": computer_name or instance_id,
            "tags": {tag["Key"]: tag["Value"] for tag in activation["Tags"]},
            "iam_role": activation["IamRole"], "activation_id": activation_id,
            "leader_pid": peer_leader(environ),
        }
        for key in ("ip_address", "platform_type", "platform_name", "platform_version", "agent_version"):
            if data.get(key) is not None:
                record[key] = data[key]
        node, _created, _ignored = NODES.register(record)
        activation["RegistrationsCount"] += 1
    token = secrets.token_hex(16)
    node.extra["agent_token"] = token
    node.online_until = time.time() + HEARTBEAT_TIMEOUT
    return {"instance_id": instance_id, "region": region, "token": token}


def heartbeat(data: dict, environ: dict) -> dict:
    """What a running agent reports (UpdateInstanceInformation); keeps its node online."""
    instance_id = _text(data, "instance_id") or ""
    node = NODES.get(instance_id)
    token = node.extra.get("agent_token") if node is not None else None
    if node is None or token is None:
        raise AgentError(404, "InvalidInstanceId", f"Instance Id {instance_id} doesn't exist.")
    if not secrets.compare_digest(token, _text(data, "token") or ""):
        raise AgentError(403, "AccessDeniedException", "The agent's registration does not match this node.")
    if data.get("stopping"):
        node.online_until = time.time()
    else:
        changes = {}
        for key in ("agent_version", "ip_address", "platform_name", "platform_version", "computer_name"):
            value = data.get(key)
            if isinstance(value, str) and value:
                changes[key] = value
        if node.leader_pid is None or not node.online():
            leader = peer_leader(environ)
            if leader:
                changes["leader_pid"] = leader
        if changes:
            NODES.register({**_registration_of(node), **changes})
        node.online_until = time.time() + HEARTBEAT_TIMEOUT
    return {"instance_id": instance_id, "ping_status": node.ping_status()}


def _registration_of(node: Any) -> dict:
    """The registration that recreates ``node`` as it is (every field the registry knows)."""
    data = {key: getattr(node, key) for key in KNOWN_FIELDS if key != "tags" and hasattr(node, key)}
    data["tags"] = dict(node.registered_tags)
    return {key: value for key, value in data.items() if value is not None or key == "leader_pid"}


def control(ssm_state: Any, method: str, rest: str, data: dict, environ: dict) -> tuple[int, dict]:
    """``/_fleetops/agent/register``, ``/_fleetops/agent/heartbeat`` (POST), ``/_fleetops/agent/activations`` (GET)."""
    if rest == "/activations":
        if method != "GET":
            return 405, {"error": f"{method} /_fleetops/agent/activations is not supported; GET it"}
        with ssm_state.lock:
            return 200, {"activations": [dict(item) for item in ISSUED]}
    if method != "POST" or rest not in ("/register", "/heartbeat"):
        return 404 if rest not in ("/register", "/heartbeat") else 405, {
            "error": f"{method} /_fleetops/agent{rest} is not supported; POST /register or /heartbeat"}
    try:
        if rest == "/register":
            return 200, register_node(ssm_state, data, environ)
        return 200, heartbeat(data, environ)
    except AgentError as exc:
        return exc.status, {"code": exc.code, "error": exc.message}
    except ControlError as exc:
        return 400, {"error": str(exc)}


# --------------------------------------------------------------------------
# which node an agent's request comes from


def _socket_inode(local_port: int, remote_port: int) -> str | None:
    """The inode of the TCP socket local_port -> remote_port (the client's end of a loopback connection)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as fh:
                lines = fh.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10:
                continue
            local, remote = fields[1], fields[2]
            if int(local.rsplit(":", 1)[1], 16) == local_port and int(remote.rsplit(":", 1)[1], 16) == remote_port:
                return fields[9]
    return None


def _socket_owner(inode: str) -> int | None:
    target = f"socket:[{inode}]"
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            for fd in os.listdir(f"/proc/{entry}/fd"):
                if os.readlink(f"/proc/{entry}/fd/{fd}") == target:
                    return int(entry)
        except OSError:
            continue
    return None


def _namespace_init(pid: int) -> int | None:
    """PID 1 of ``pid``'s PID namespace as the host sees it; None for a process of our own namespace."""
    try:
        namespace = os.readlink(f"/proc/{pid}/ns/pid")
        if namespace == os.readlink("/proc/self/ns/pid"):
            return None
    except OSError:
        return None
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.readlink(f"/proc/{entry}/ns/pid") != namespace:
                continue
            with open(f"/proc/{entry}/status", encoding="ascii", errors="replace") as fh:
                for line in fh:
                    if line.startswith("NSpid:") and line.split()[-1] == "1":
                        return int(entry)
        except OSError:
            continue
    return None


def peer_leader(environ: dict) -> int | None:
    """The leader of the node an agent's loopback request comes from, when it can be found (root only)."""
    if environ.get("REMOTE_ADDR") not in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
        return None
    try:
        inode = _socket_inode(int(environ.get("REMOTE_PORT") or 0), int(environ.get("SERVER_PORT") or 0))
    except ValueError:
        return None
    owner = _socket_owner(inode) if inode and inode != "0" else None
    return _namespace_init(owner) if owner else None
