"""Control API routes of the fleet: /_fleetops/nodes, /_fleetops/sessions, /_fleetops/settings, /_fleetops/agent.

    POST   /_fleetops/nodes                 register or update a managed node (see ssm/nodes.py)
    GET    /_fleetops/nodes                 -> {"nodes": [...]}, each with its live "ping_status"
    GET    /_fleetops/nodes/<id>            -> {"node": {...}}
    DELETE /_fleetops/nodes/<id>            deregister (200 also when it was not registered)
    DELETE /_fleetops/nodes                 deregister every node
    GET    /_fleetops/sessions              -> {"sessions": [...]} (no tokens)
    GET    /_fleetops/sessions/<id>         what the plugin stand-in needs; header X-Fleetops-Session-Token
    POST   /_fleetops/sessions/<id>/close   {"status": "Terminated"|"Failed", "details"}; same header
    GET    /_fleetops/settings              -> {"settings": {...}}
    POST   /_fleetops/settings              {"delivery_timeout_cap_seconds": 5, "latest_agent_version": "..."}
    DELETE /_fleetops/settings              back to the defaults
    POST   /_fleetops/agent/register        an agent registers with an activation (see ssm/activations.py)
    POST   /_fleetops/agent/heartbeat       a registered agent reports in
"""

from __future__ import annotations

from typing import Any

from .ssm import activations, nodes, sessions

ROUTES = ("nodes", "sessions", "settings", "agent")


def handles(route: str) -> bool:
    parts = route.split("/")
    return len(parts) > 1 and parts[1] in ROUTES


def handle(state: Any, method: str, route: str, data: dict, environ: dict) -> tuple[int, dict]:
    area, dummy, rest = route.lstrip("/").partition("/")
    rest = "/" + rest if rest else ""
    if area == "nodes":
        return nodes.control_nodes(method, rest, data)
    if area == "settings" and not rest:
        return nodes.control_settings(method, data)
    if area == "agent":
        return activations.control(state.ssm, method, rest, data, environ)
    if area == "sessions":
        token = environ.get("HTTP_" + sessions.TOKEN_HEADER.upper().replace("-", "_"))
        return sessions.control_sessions(state.ssm, method, rest, data, token)
    return 404, {"error": f"unknown control path /_fleetops{route}"}
