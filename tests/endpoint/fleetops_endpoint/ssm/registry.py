"""The registry of SSM operations this endpoint answers itself.

An area module (``parameters.py``, ``documents.py`` ...) registers handlers::

    from .registry import operation, AwsError

    @operation("GetFoo")
    def get_foo(request: dict, ctx: Context) -> dict:
        ...
        return {"Foo": ...}

A handler receives the request body (already checked against the botocore
input shape) and a ``Context`` and returns the response body as a dict with
timestamps as epoch seconds.  It raises ``AwsError`` for an AWS error and
``FallThrough`` to let moto answer the call instead.

Per-account/region data lives in stores registered with ``@regional_store``;
``ctx.store("parameters")`` returns the store for the caller's account and
region.  ``POST /_fleetops/reset`` drops every store.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

from ..authz import Principal, denied_message

Handler = Callable[[dict, "Context"], dict]

OPERATIONS: dict[str, Handler] = {}
_STORE_FACTORIES: dict[str, Callable[[str, str], Any]] = {}
_RESET_HOOKS: list[Callable[[], None]] = []


def operation(name: str) -> Callable[[Handler], Handler]:
    """Register ``fn`` as the handler of SSM operation ``name``."""

    def register(fn: Handler) -> Handler:
        if name in OPERATIONS:
            raise RuntimeError(f"SSM operation {name} is registered twice")
        OPERATIONS[name] = fn
        return fn

    return register


def regional_store(name: str) -> Callable[[type], type]:
    """Register a class whose instances hold one account/region's data.

    The class is called as ``cls(account_id, region)`` on first use.
    """

    def register(cls: type) -> type:
        if name in _STORE_FACTORIES:
            raise RuntimeError(f"store {name} is registered twice")
        _STORE_FACTORIES[name] = cls
        return cls

    return register


def on_reset(fn: Callable[[], None]) -> Callable[[], None]:
    """Run ``fn`` whenever the endpoint state is reset (after stores are dropped)."""
    _RESET_HOOKS.append(fn)
    return fn


class FallThrough(Exception):
    """Raised by a handler that wants moto to answer this call."""


class AwsError(Exception):
    """An AWS error response: ``{"__type": code, "message": ...}`` with ``status``."""

    def __init__(self, code: str, message: str | None = None, status: int = 400):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


def validation_error(message: str) -> AwsError:
    return AwsError("ValidationException", message)


class SsmState:
    """All data of our SSM layer: stores per (store name, account, region)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._stores: dict[tuple[str, str, str], Any] = {}

    def store(self, name: str, account_id: str, region: str) -> Any:
        key = (name, account_id, region)
        with self.lock:
            found = self._stores.get(key)
            if found is None:
                found = _STORE_FACTORIES[name](account_id, region)
                self._stores[key] = found
            return found

    def existing_stores(self, name: str) -> list[tuple[str, str, Any]]:
        with self.lock:
            return [(a, r, s) for (n, a, r), s in self._stores.items() if n == name]

    def reset(self) -> None:
        with self.lock:
            self._stores.clear()
            for hook in _RESET_HOOKS:
                hook()


@dataclass
class Context:
    """What a handler knows about the call besides its body."""

    operation: str
    account_id: str
    region: str
    principal: Principal
    ssm: SsmState
    deny: Any  # authz.DenyRules
    request_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def store(self, name: str) -> Any:
        return self.ssm.store(name, self.account_id, self.region)

    @property
    def partition(self) -> str:
        if self.region.startswith("cn-"):
            return "aws-cn"
        if self.region.startswith("us-gov-"):
            return "aws-us-gov"
        return "aws"

    def arn(self, resource: str, *, account: bool = True) -> str:
        acct = self.account_id if account else ""
        return f"arn:{self.partition}:ssm:{self.region}:{acct}:{resource}"

    def authorize(self, action: str, resource_arn: str, also_match: Iterable[str] = ()) -> None:
        """Raise AccessDeniedException when a deny rule matches ``action`` on the resource.

        A rule's ``resource_prefix`` is compared with the resource ARN and with
        the extra strings in ``also_match`` (for a parameter: its name).
        """
        rule = self.deny.find(action, [resource_arn, *also_match])
        if rule is not None:
            raise AwsError("AccessDeniedException", denied_message(self.principal, action, resource_arn))

    def now(self) -> float:
        return round(time.time(), 3)


# --------------------------------------------------------------------------
# pagination


def _fingerprint(query: Any) -> str:
    text = json.dumps(query, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def paginate(items: Sequence[Any], max_results: int, next_token: str | None, query: Any) -> tuple[list[Any], str | None]:
    """Slice ``items`` for one page; tokens are bound to the query that made them."""
    offset = 0
    fingerprint = _fingerprint(query)
    if next_token is not None:
        try:
            decoded = json.loads(base64.urlsafe_b64decode(next_token.encode()).decode())
            offset = int(decoded["o"])
            if decoded["q"] != fingerprint or offset < 0:
                raise ValueError("token of another query")
        except Exception:
            raise AwsError("InvalidNextToken", "The specified token isn't valid.")
    page = list(items[offset : offset + max_results])
    new_offset = offset + len(page)
    token = None
    if new_offset < len(items):
        token = base64.urlsafe_b64encode(json.dumps({"o": new_offset, "q": fingerprint}).encode()).decode()
    return page, token
