"""Who is calling, and the simulated "access denied" switch.

There is no IAM policy evaluation here.  The control API registers deny rules
(``{"action": "ssm:PutParameter", "resource_prefix": "/denied/"}``); any call
whose action and resource match a rule fails with AccessDeniedException and the
message AWS uses for a missing identity-based permission.
"""

from __future__ import annotations

import fnmatch
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Iterable

from .awsproto import ACCOUNT_ID

DEFAULT_USER = "fleetops"
_USER_NAME_RE = re.compile(r"^[\w+=,.@-]{1,64}$")
_REAL_KEY_RE = re.compile(r"^(AKIA|ASIA|AROA|AIDA)[A-Z0-9]{12,}$")


@dataclass(frozen=True)
class Principal:
    arn: str
    name: str


def principal_for(access_key: str | None) -> Principal:
    """The IAM identity behind an access key.

    Keys issued by the emulated IAM (CreateAccessKey) or STS (AssumeRole) map
    to their user or assumed-role session.  A made-up key such as ``test``
    stands for an IAM user of that name; anything else is user ``fleetops``.
    """
    if access_key:
        try:
            from moto.sts.models import sts_backends

            for account_id, by_partition in list(sts_backends.items()):
                backend = by_partition.get("aws") if hasattr(by_partition, "get") else None
                if backend is None:
                    continue
                role = backend.get_assumed_role_from_access_key(access_key)
                if role is not None:
                    return Principal(role.arn, role.session_name)
        except Exception:  # pragma: no cover - moto internals moved
            pass
        try:
            from moto.iam.models import iam_backends

            for account_id, by_partition in list(iam_backends.items()):
                backend = by_partition.get("aws") if hasattr(by_partition, "get") else None
                if backend is None:
                    continue
                key = backend.access_keys.get(access_key)
                if key is not None and key.user_name:
                    return Principal(f"arn:aws:iam::{account_id}:user/{key.user_name}", key.user_name)
        except Exception:  # pragma: no cover - moto internals moved
            pass
        if _USER_NAME_RE.match(access_key) and not _REAL_KEY_RE.match(access_key):
            return Principal(f"arn:aws:iam::{ACCOUNT_ID}:user/{access_key}", access_key)
    return Principal(f"arn:aws:iam::{ACCOUNT_ID}:user/{DEFAULT_USER}", DEFAULT_USER)


@dataclass
class DenyRule:
    action: str
    resource_prefix: str | None = None
    id: int = 0

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "action": self.action}
        if self.resource_prefix is not None:
            out["resource_prefix"] = self.resource_prefix
        return out

    def matches(self, action: str, resources: Iterable[str]) -> bool:
        if not fnmatch.fnmatchcase(action.lower(), self.action.lower()):
            return False
        if not self.resource_prefix:
            return True
        prefix = self.resource_prefix
        for resource in resources:
            if resource and resource.startswith(prefix):
                return True
        return False


@dataclass
class DenyRules:
    rules: list[DenyRule] = field(default_factory=list)
    _next_id: int = 1
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, action: str, resource_prefix: str | None) -> DenyRule:
        with self._lock:
            rule = DenyRule(action, resource_prefix, self._next_id)
            self._next_id += 1
            self.rules.append(rule)
            return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.to_json() for r in self.rules]

    def find(self, action: str, resources: Iterable[str]) -> DenyRule | None:
        resources = list(resources)
        with self._lock:
            for rule in self.rules:
                if rule.matches(action, resources):
                    return rule
        return None


def denied_message(principal: Principal, action: str, resource: str) -> str:
    return (
        f"User: {principal.arn} is not authorized to perform: {action} on resource: {resource} "
        f"because no identity-based policy allows the {action} action"
    )
