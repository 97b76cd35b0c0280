"""Managed nodes: DescribeInstanceInformation, tags of type ManagedInstance, the node registry.

Nodes are registered through the control API (``POST /_fleetops/nodes``), by
the sandbox fleet (``tests/sandbox/fleet``) on every boot of a node, or by
tests with "fake nodes" (any host process as the node's leader).  A record
names the node's leader process; ``PingStatus`` is computed when asked:
``Online`` while that process lives, ``ConnectionLost`` otherwise.

The registry is process-wide and survives ``POST /_fleetops/reset`` (the nodes
are machines, not API state): a reset only puts their tags back to the
registered ones.  ``DELETE /_fleetops/nodes`` drops every node.

Nodes registered as ``EC2Instance`` (``i-`` ids) also get an instance in moto's
EC2 carrying the same tags, so EC2 calls see them; their tags are EC2's, as in
AWS (``ResourceType=ManagedInstance`` tags are for ``mi-`` nodes only).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from .. import nodeexec
from ..awsproto import ACCOUNT_ID
from .registry import AwsError, Context, on_reset, operation, paginate, validation_error
from .tags import taggable

log = logging.getLogger("fleetops_endpoint.nodes")

RESOURCE_TYPES = ("ManagedInstance", "EC2Instance")
PLATFORM_TYPES = ("Windows", "Linux", "MacOS")
PING_STATUSES = ("Online", "ConnectionLost", "Inactive")
EXECUTORS = ("nsenter", "instant")
ASSOCIATION_STATUSES = ("Success", "Pending", "Failed")
SOURCE_TYPES = ("AWS::EC2::Instance", "AWS::SSM::ManagedInstance", "AWS::IoT::Thing",
                "Microsoft.Compute/virtualMachines", "compute.googleapis.com/Instance")
ID_PATTERNS = {"ManagedInstance": re.compile(r"^mi-\w{17}$"), "EC2Instance": re.compile(r"^i-(\w{8}|\w{17})$")}
INSTANCE_ID_RE = re.compile(r"(^i-(\w{8}|\w{17})$)|(^mi-\w{17}$)")
VERSION_RE = re.compile(r"^[0-9]{1,6}(\.[0-9]{1,6}){2,3}$")
ACTIVATION_ID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
DEFAULT_REGION = "us-east-1"
DEFAULT_AGENT_VERSION = "3.3.0.0"
DESCRIBE_DEFAULT_MAX_RESULTS = 10
STRING_FILTER_KEYS = ("ActivationIds", "AgentVersion", "AssociationStatus", "IamRole", "InstanceIds", "PingStatus",
                      "PlatformTypes", "ResourceType", "SourceIds", "SourceTypes")


class ControlError(Exception):
    """A bad control API request (HTTP 400)."""


# --------------------------------------------------------------------------
# settings (control API knobs for tests)


class Settings:
    """``GET/POST /_fleetops/settings``; back to the defaults on every reset."""

    DEFAULTS: dict[str, Any] = {
        # Caps how long an invocation waits for an offline node before DeliveryTimedOut
        # (and how long an invocation whose node went down stays InProgress); None: the
        # command's TimeoutSeconds, as AWS.
        "delivery_timeout_cap_seconds": None,
        # The agent version IsLatestVersion compares with; None: every node is up to date.
        "latest_agent_version": None,
    }

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values = dict(self.DEFAULTS)

    def get(self, key: str) -> Any:
        with self._lock:
            return self._values[key]

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._values)

    def update(self, data: dict) -> dict[str, Any]:
        unknown = sorted(set(data) - set(self.DEFAULTS))
        if unknown:
            raise ControlError(f"unknown settings {unknown}; known: {sorted(self.DEFAULTS)}")
        if "delivery_timeout_cap_seconds" in data:
            value = data["delivery_timeout_cap_seconds"]
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
                raise ControlError('"delivery_timeout_cap_seconds" must be a number of seconds >= 0, or null')
        if "latest_agent_version" in data:
            value = data["latest_agent_version"]
            if value is not None and (not isinstance(value, str) or not VERSION_RE.match(value)):
                raise ControlError('"latest_agent_version" must be a version such as "3.3.1142.0", or null')
        with self._lock:
            self._values.update(data)
            return dict(self._values)

    def reset(self) -> None:
        with self._lock:
            self._values = dict(self.DEFAULTS)


SETTINGS = Settings()


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


# --------------------------------------------------------------------------
# the registry


@dataclass
class Node:
    instance_id: str
    resource_type: str
    region: str
    name: str
    computer_name: str
    ip_address: str | None
    platform_type: str
    platform_name: str
    platform_version: str
    agent_version: str
    tags: dict[str, str]
    registered_tags: dict[str, str]
    leader_pid: int | None
    leader_start: int | None
    root: str | None
    session_user: str
    agent_state_dir: str
    iam_role: str | None
    activation_id: str | None
    registration_date: float
    last_registration: float
    last_seen_online: float
    order: int
    extra: dict[str, Any] = field(default_factory=dict)
    # A node registered by its agent with an activation (ssm/activations.py) is online while the
    # agent reports in: until this time, and while its leader (when known) lives. None: the leader decides.
    online_until: float | None = None
    # How Run Command runs on the node: "nsenter" (for real, in the node) or "instant" (scale tests:
    # every step ends at once, printing the computer name, with ``instant_exit_code``).
    executor: str = "nsenter"
    instant_exit_code: int = 0

    def online(self) -> bool:
        if self.online_until is None:
            alive = nodeexec.process_alive(self.leader_pid, self.leader_start)
        else:
            alive = time.time() < self.online_until and (
                self.leader_pid is None or nodeexec.process_alive(self.leader_pid, self.leader_start))
        if alive:
            self.last_seen_online = time.time()
        return alive

    def ping_status(self) -> str:
        return "Online" if self.online() else "ConnectionLost"

    def last_ping(self) -> float:
        # An online agent pings all the time; an offline one was last heard when we last saw it up.
        return round(time.time() if self.online() else self.last_seen_online, 3)

    def to_json(self) -> dict[str, Any]:
        return {
            "instance_id": self.instance_id, "resource_type": self.resource_type, "region": self.region,
            "name": self.name, "computer_name": self.computer_name, "ip_address": self.ip_address,
            "platform_type": self.platform_type, "platform_name": self.platform_name,
            "platform_version": self.platform_version, "agent_version": self.agent_version,
            "tags": dict(self.tags), "leader_pid": self.leader_pid, "root": self.root,
            "session_user": self.session_user, "agent_state_dir": self.agent_state_dir,
            "iam_role": self.iam_role, "activation_id": self.activation_id,
            "executor": self.executor, "instant_exit_code": self.instant_exit_code,
            "ping_status": self.ping_status(), "registration_date": self.registration_date,
            "last_registration": self.last_registration, "last_ping": self.last_ping(),
        }


def _string(data: dict, key: str, default: str | None, *, max_len: int | None = None,
            allowed: tuple[str, ...] | None = None, pattern: re.Pattern | None = None) -> str | None:
    value = data.get(key, default)
    if value is None:
        return None
    if not isinstance(value, str) or (value == "" and default is not None):
        raise ControlError(f'"{key}" must be a non-empty string')
    if max_len is not None and len(value) > max_len:
        raise ControlError(f'"{key}" must be at most {max_len} characters')
    if allowed is not None and value not in allowed:
        raise ControlError(f'"{key}" must be one of {list(allowed)}')
    if pattern is not None and not pattern.match(value):
        raise ControlError(f'"{key}" {value!r} does not match {pattern.pattern}')
    return value


def _exit_code(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 255:
        raise ControlError('"instant_exit_code" must be an exit status from 0 to 255')
    return value


KNOWN_FIELDS = {
    "instance_id", "resource_type", "name", "computer_name", "ip_address", "platform_type", "platform_name",
    "platform_version", "agent_version", "tags", "leader_pid", "root", "region", "session_user",
    "agent_state_dir", "iam_role", "activation_id", "executor", "instant_exit_code",
}


class NodeRegistry:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._nodes: dict[str, Node] = {}
        self._order = 0

    def register(self, data: dict) -> tuple[Node, bool, list[str]]:
        resource_type = _string(data, "resource_type", "ManagedInstance", allowed=RESOURCE_TYPES)
        assert resource_type is not None
        instance_id = data.get("instance_id")
        if not isinstance(instance_id, str) or not ID_PATTERNS[resource_type].match(instance_id):
            expected = "mi-<17 characters>" if resource_type == "ManagedInstance" else "i-<8 or 17 characters>"
            raise ControlError(f'"instance_id" must be {expected} for resource_type {resource_type}, '
                               f"got {instance_id!r}")
        tags = data.get("tags") or {}
        if not isinstance(tags, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items()):
            raise ControlError('"tags" must be an object of string keys and values')
        if len(tags) > 50:
            raise ControlError('"tags": at most 50 tags per node')
        leader_pid = data.get("leader_pid")
        if leader_pid is not None and (isinstance(leader_pid, bool) or not isinstance(leader_pid, int)
                                       or leader_pid <= 0):
            raise ControlError('"leader_pid" must be a process id or null')
        agent_state_dir = _string(data, "agent_state_dir", nodeexec.DEFAULT_AGENT_STATE_DIR)
        if not agent_state_dir or not agent_state_dir.startswith("/"):
            raise ControlError('"agent_state_dir" must be an absolute path')
        fields = {
            "region": _string(data, "region", DEFAULT_REGION, pattern=re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")),
            "name": _string(data, "name", instance_id, max_len=255),
            "computer_name": _string(data, "computer_name", data.get("name") or instance_id, max_len=255),
            "ip_address": _string(data, "ip_address", None, max_len=46),
            "platform_type": _string(data, "platform_type", "Linux", allowed=PLATFORM_TYPES),
            "platform_name": data.get("platform_name") if isinstance(data.get("platform_name"), str) else "",
            "platform_version": data.get("platform_version") if isinstance(data.get("platform_version"), str) else "",
            "agent_version": _string(data, "agent_version", DEFAULT_AGENT_VERSION, pattern=VERSION_RE),
            "root": _string(data, "root", None),
            "session_user": _string(data, "session_user", nodeexec.DEFAULT_SESSION_USER, max_len=32),
            "agent_state_dir": agent_state_dir,
            "iam_role": _string(data, "iam_role", None, max_len=64),
            "activation_id": _string(data, "activation_id", None, pattern=ACTIVATION_ID_RE),
            "executor": _string(data, "executor", "nsenter", allowed=EXECUTORS),
            "instant_exit_code": _exit_code(data.get("instant_exit_code", 0)),
        }
        ignored = sorted(set(data) - KNOWN_FIELDS)
        now = round(time.time(), 3)
        leader_start = nodeexec.process_start_time(leader_pid) if leader_pid else None
        with self._lock:
            node = self._nodes.get(instance_id)
            created = node is None
            if node is None:
                self._order += 1
                node = Node(instance_id=instance_id, resource_type=resource_type, tags=dict(tags),
                            registered_tags=dict(tags), leader_pid=leader_pid, leader_start=leader_start,
                            registration_date=now, last_registration=now, last_seen_online=now, order=self._order,
                            **fields)  # type: ignore[arg-type]
                self._nodes[instance_id] = node
            else:
                node.resource_type = resource_type
                for key, value in fields.items():
                    setattr(node, key, value)
                # Tags the registration names win; tags added through the API stay (they survive a reboot in AWS).
                node.tags.update(tags)
                node.registered_tags = dict(tags)
                node.leader_pid, node.leader_start = leader_pid, leader_start
                node.last_registration = now
            if node.online():
                node.last_seen_online = now
        if resource_type == "EC2Instance":
            mirror_ec2_instance(node)
        return node, created, ignored

    def deregister(self, instance_id: str) -> bool:
        with self._lock:
            return self._nodes.pop(instance_id, None) is not None

    def clear(self) -> list[str]:
        with self._lock:
            gone = list(self._nodes)
            self._nodes.clear()
            return gone

    def get(self, instance_id: str, region: str | None = None) -> Node | None:
        with self._lock:
            node = self._nodes.get(instance_id)
        if node is None or (region is not None and node.region != region):
            return None
        return node

    def list(self, region: str | None = None) -> list[Node]:
        with self._lock:
            nodes = sorted(self._nodes.values(), key=lambda n: n.order)
        return [n for n in nodes if region is None or n.region == region]

    def set_tags(self, instance_id: str, tags: dict[str, str]) -> None:
        with self._lock:
            node = self._nodes.get(instance_id)
            if node is not None:
                node.tags = dict(tags)

    def reset_tags(self) -> None:
        with self._lock:
            for node in self._nodes.values():
                node.tags = dict(node.registered_tags)


NODES = NodeRegistry()


# --------------------------------------------------------------------------
# moto EC2 instances for EC2Instance nodes


def mirror_ec2_instance(node: Node) -> None:
    """Best effort: an instance with the node's id and tags in moto's EC2."""
    try:
        from moto.ec2.models import ec2_backends

        backend = ec2_backends[ACCOUNT_ID][node.region]
        instance = None
        try:
            instance = backend.get_instance(node.instance_id)
        except Exception:
            instance = None
        if instance is None:
            reservation = backend.run_instances(
                "ami-12c6146b", 1, None, [], instance_type="t3.micro", is_instance_type_default=False,
                region_name=node.region, placement=None, subnet_id=None, key_name=None, security_group_ids=[],
                nics=[], private_ip=None, associate_public_ip=None, tags={}, ebs_optimized=False,
            )
            instance = reservation.instances[0]
            instance.id = node.instance_id
        if node.tags:
            backend.create_tags([node.instance_id], dict(node.tags))
    except Exception as exc:  # moto internals moved: the node still works for SSM
        log.warning("could not mirror %s into moto's EC2: %r", node.instance_id, exc)


def _ec2_tags(node: Node) -> dict[str, str] | None:
    try:
        from moto.ec2.models import ec2_backends

        backend = ec2_backends[ACCOUNT_ID][node.region]
        tags = backend.tags.get(node.instance_id)
        if tags:  # by id: describe_tags and get_instance look at every instance of the region
            return dict(tags)
        backend.get_instance(node.instance_id)  # raises when the instance is gone
        return {}
    except Exception:
        return None


def node_tags(node: Node) -> dict[str, str]:
    """The tags SSM sees on a node: its ManagedInstance tags, or for EC2 instances EC2's."""
    if node.resource_type == "EC2Instance":
        found = _ec2_tags(node)
        if found is not None:
            return found
    return dict(node.tags)


@on_reset
def _after_reset() -> None:
    NODES.reset_tags()
    SETTINGS.reset()
    _LISTINGS.clear()
    for node in NODES.list():
        if node.resource_type == "EC2Instance":
            mirror_ec2_instance(node)


# --------------------------------------------------------------------------
# tags of type ManagedInstance


def _resolve_managed_instance(ctx: Context, resource_id: str) -> str:
    node = NODES.get(resource_id, ctx.region)
    if node is None or node.resource_type != "ManagedInstance":
        raise AwsError("InvalidResourceId", None)
    return node.instance_id


def _get_node_tags(ctx: Context, resource_id: str) -> dict[str, str]:
    node = NODES.get(resource_id, ctx.region)
    return dict(node.tags) if node is not None else {}


def _set_node_tags(ctx: Context, resource_id: str, tags: dict[str, str]) -> None:
    NODES.set_tags(resource_id, tags)


taggable(
    "ManagedInstance", _resolve_managed_instance, lambda ctx, iid: ctx.arn(f"managed-instance/{iid}"),
    get_tags=_get_node_tags, set_tags=_set_node_tags,
)


# --------------------------------------------------------------------------
# DescribeInstanceInformation


def instance_information(node: Node) -> dict[str, Any]:
    latest = SETTINGS.get("latest_agent_version")
    is_latest = True
    if latest:
        is_latest = _version_tuple(node.agent_version) >= _version_tuple(latest)
    hybrid = node.resource_type == "ManagedInstance"
    online = node.online()  # one look at the node's process per answer
    out: dict[str, Any] = {
        "InstanceId": node.instance_id,
        "PingStatus": "Online" if online else "ConnectionLost",
        "LastPingDateTime": round(time.time() if online else node.last_seen_online, 3),
        "AgentVersion": node.agent_version,
        "IsLatestVersion": is_latest,
        "PlatformType": node.platform_type,
        "PlatformName": node.platform_name,
        "PlatformVersion": node.platform_version,
        "ResourceType": node.resource_type,
        "ComputerName": node.computer_name,
        "SourceId": node.instance_id,
        "SourceType": "AWS::SSM::ManagedInstance" if hybrid else "AWS::EC2::Instance",
    }
    if node.activation_id:
        out["ActivationId"] = node.activation_id
    if node.iam_role:
        out["IamRole"] = node.iam_role
    if hybrid:  # the activation's DefaultInstanceName and the registration date are hybrid-node fields
        out["RegistrationDate"] = node.registration_date
        out["Name"] = node.name
    if node.ip_address:
        out["IPAddress"] = node.ip_address
    return out


def _normalized_filters(request: dict) -> list[tuple[str, list[str]]]:
    legacy = request.get("InstanceInformationFilterList") or []
    modern = request.get("Filters") or []
    if legacy and modern:
        raise validation_error("InstanceInformationFilterList and Filters can't be used in the same request.")
    filters = [(f["key"], list(f["valueSet"])) for f in legacy]
    for item in modern:
        key = item["Key"]
        if key not in STRING_FILTER_KEYS and key != "tag-key" and not (key.startswith("tag:") and len(key) > 4):
            raise AwsError("InvalidFilterKey", None)
        filters.append((key, list(item["Values"])))
    tag_filters = [k for k, dummy in filters if k == "tag-key" or k.startswith("tag:")]
    if tag_filters and len(tag_filters) != len(filters):
        raise validation_error("Cannot mix tag or inventory filter with any other filter.")
    for key, values in filters:
        _check_filter_values(key, values)
    return filters


def _invalid_value(message: str) -> AwsError:
    return AwsError("InvalidInstanceInformationFilterValue", message)


def _check_filter_values(key: str, values: list[str]) -> None:
    allowed = {
        "PingStatus": PING_STATUSES, "PlatformTypes": PLATFORM_TYPES, "ResourceType": RESOURCE_TYPES,
        "AssociationStatus": ASSOCIATION_STATUSES, "SourceTypes": SOURCE_TYPES,
    }.get(key)
    if key == "ResourceType" and len(values) != 1:
        raise _invalid_value("ResourceType filter may contain only one value.")
    if allowed is not None:
        for value in values:
            if value not in allowed:
                raise _invalid_value(f"{key} filter is invalid, valid values are {', '.join(sorted(allowed))}")
    if key == "InstanceIds":
        bad = [v for v in values if not INSTANCE_ID_RE.match(v)]
        if bad:
            raise AwsError("InvalidInstanceId", f"Invalid instance id(s): {', '.join(bad)}")


def _matches(node: Node, info: dict, key: str, values: list[str]) -> bool:
    if key == "tag-key":
        return any(v in node_tags(node) for v in values)
    if key.startswith("tag:"):
        tags = node_tags(node)
        tag_key = key[4:]
        return tag_key in tags and tags[tag_key] in values
    field_of = {
        "InstanceIds": "InstanceId", "AgentVersion": "AgentVersion", "PingStatus": "PingStatus",
        "PlatformTypes": "PlatformType", "ActivationIds": "ActivationId", "IamRole": "IamRole",
        "ResourceType": "ResourceType", "AssociationStatus": "AssociationStatus", "SourceIds": "SourceId",
        "SourceTypes": "SourceType",
    }[key]
    return info.get(field_of) in values


# The answer a query's first page was cut from, by (region, token of the next page): later pages
# are sliced from it instead of looking at every node again (tokens do not name the region).
_LISTINGS: dict[tuple[str, str], list[dict[str, Any]]] = {}
_MAX_LISTINGS = 64


@operation("DescribeInstanceInformation")
def describe_instance_information(request: dict, ctx: Context) -> dict:
    ctx.authorize("ssm:DescribeInstanceInformation", ctx.arn("*"))
    filters = _normalized_filters(request)
    next_token = request.get("NextToken")
    found = _LISTINGS.pop((ctx.region, next_token), None) if next_token else None
    if found is None:
        found = []
        for node in NODES.list(ctx.region):
            info = instance_information(node)
            if all(_matches(node, info, key, values) for key, values in filters):
                found.append(info)
    max_results = request.get("MaxResults") or DESCRIBE_DEFAULT_MAX_RESULTS
    # The token is bound to the filters, not to the (changing) ping states.
    page, token = paginate(found, int(max_results), next_token,
                           {"op": "DescribeInstanceInformation", "filters": filters})
    if token:
        while len(_LISTINGS) >= _MAX_LISTINGS:
            _LISTINGS.pop(next(iter(_LISTINGS)))
        _LISTINGS[(ctx.region, token)] = found
    out: dict[str, Any] = {"InstanceInformationList": page}
    if token:
        out["NextToken"] = token
    return out


# --------------------------------------------------------------------------
# control API: /_fleetops/nodes and /_fleetops/settings


def control_nodes(method: str, rest: str, data: dict) -> tuple[int, dict]:
    """``rest`` is what follows /nodes ("" or "/<instance-id>")."""
    instance_id = rest.lstrip("/")
    try:
        if not instance_id:
            if method == "POST":
                node, created, ignored = NODES.register(data)
                out = {"node": node.to_json(), "created": created}
                if ignored:
                    out["ignored"] = ignored
                return 200, out
            if method == "GET":
                return 200, {"nodes": [n.to_json() for n in NODES.list(data.get("region"))]}
            if method == "DELETE":
                return 200, {"deleted": NODES.clear()}
            return 405, {"error": f"{method} is not supported on /_fleetops/nodes"}
        if method == "GET":
            node = NODES.get(instance_id)
            if node is None:
                return 404, {"error": f"no node {instance_id} is registered"}
            return 200, {"node": node.to_json()}
        if method == "DELETE":
            # 200 either way: deregistering twice (fleet down after a failed up) is fine.
            return 200, {"instance_id": instance_id, "deleted": NODES.deregister(instance_id)}
        return 405, {"error": f"{method} is not supported on /_fleetops/nodes/{instance_id}"}
    except ControlError as exc:
        return 400, {"error": str(exc)}


def control_settings(method: str, data: dict) -> tuple[int, dict]:
    try:
        if method == "GET":
            return 200, {"settings": SETTINGS.snapshot()}
        if method == "POST":
            return 200, {"settings": SETTINGS.update(data)}
        if method == "DELETE":
            SETTINGS.reset()
            return 200, {"settings": SETTINGS.snapshot()}
        return 405, {"error": f"{method} is not supported on /_fleetops/settings"}
    except ControlError as exc:
        return 400, {"error": str(exc)}
