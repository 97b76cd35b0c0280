"""Process-wide endpoint state: call counts, pending faults, deny rules, our SSM data.

moto keeps its backends in module globals, so one process holds one emulated
AWS; ``STATE`` mirrors that for the parts added here.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

from .authz import DenyRules
from .ssm.registry import SsmState

FAULT_KINDS = ("throttle", "error5xx", "latency")


def strict_from_env() -> bool:
    """FLEETOPS_ENDPOINT_STRICT: "1" (the default when unset) checks every response we build; "0" does not."""
    value = os.environ.get("FLEETOPS_ENDPOINT_STRICT", "").strip().lower()
    return value not in ("0", "false", "no", "off")


class CallCounter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def add(self, key: str) -> None:
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._counts.items()))

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


@dataclass
class Fault:
    id: int
    service: str
    operation: str
    kind: str
    remaining: int
    status: int = 500
    latency_ms: int = 0

    def applies_to(self, service: str | None, operation: str | None) -> bool:
        if self.service != "*" and self.service != (service or ""):
            return False
        return self.operation == "*" or self.operation == (operation or "")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "service": self.service,
            "operation": self.operation,
            "kind": self.kind,
            "count": self.remaining,
        }
        if self.kind == "error5xx":
            out["status"] = self.status
        if self.kind == "latency":
            out["latency_ms"] = self.latency_ms
        return out


class FaultQueue:
    """Faults are used in the order they were added; each call uses at most one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._next_id = 1

    def add(self, service: str, operation: str, kind: str, count: int, status: int = 500,
            latency_ms: int = 0) -> Fault:
        with self._lock:
            fault = Fault(self._next_id, service, operation, kind, count, status, latency_ms)
            self._next_id += 1
            self._faults.append(fault)
            return fault

    def take(self, service: str | None, operation: str | None) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.applies_to(service, operation):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_json() for f in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()


class EndpointState:
    def __init__(self) -> None:
        self.calls = CallCounter()
        self.faults = FaultQueue()
        self.deny = DenyRules()
        self.ssm = SsmState()
        self.strict = strict_from_env()
        self._reset_lock = threading.Lock()

    def reset(self) -> None:
        """Back to the freshly started condition: moto backends, our data, faults, counts, deny rules."""
        from moto.moto_api._internal.models import moto_api_backend

        with self._reset_lock, self.ssm.lock:
            moto_api_backend.reset()
            self.ssm.reset()
            self.faults.clear()
            self.calls.clear()
            self.deny.clear()


STATE = EndpointState()
