"""Serving the endpoint with werkzeug's threaded server, in a thread or in the foreground."""

from __future__ import annotations

import json
import logging
import os
import threading
import urllib.request
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

from .app import EndpointApp
from .state import STATE, EndpointState, strict_from_env

# The endpoint is on loopback: never send control calls through a proxy from the environment.
_NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _request_handler(quiet: bool):
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    class Handler(MotoRequestHandler):
        def log_request(self, code: Any = "-", size: Any = "-") -> None:
            if not quiet:  # plain text: the log usually goes to a file
                self.log("info", '"%s" %s %s', self.requestline, getattr(code, "value", code), size)

    return Handler


def build_server(host: str = "127.0.0.1", port: int = 0, quiet: bool = True,
                 state: EndpointState = STATE) -> BaseWSGIServer:
    logging.getLogger("werkzeug").setLevel(logging.ERROR if quiet else logging.INFO)
    app = EndpointApp(state)
    return make_server(host, port, app, threaded=True, request_handler=_request_handler(quiet))


def server_url(server: BaseWSGIServer) -> str:
    host, port = server.server_address[:2]
    if ":" in str(host):
        host = f"[{host}]"
    return f"http://{host}:{port}"


class Endpoint:
    """The local SSM endpoint running in a background thread of this process.

    >>> with Endpoint() as ep:
    ...     boto3.client("ssm", endpoint_url=ep.url, ...)

    moto's data is global to the process, so all Endpoints of one process
    share one emulated AWS.  ``strict`` (default: env FLEETOPS_ENDPOINT_STRICT)
    makes every response our layer builds be checked against botocore's shape.
    """

    def __init__(self, port: int = 0, host: str = "127.0.0.1", strict: bool | None = None, quiet: bool = True):
        self.host = host
        self.port = port
        self.strict = strict_from_env() if strict is None else strict
        self.quiet = quiet
        self.state = STATE
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.url: str | None = None

    def start(self) -> "Endpoint":
        if self._server is not None:
            return self
        self.state.strict = self.strict
        self._server = build_server(self.host, self.port, self.quiet, self.state)
        self.url = server_url(self._server)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="fleetops-endpoint", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def reset(self) -> None:
        """Reset through the control API, like any other client would."""
        self.control("POST", "/reset")

    def control(self, method: str, path: str, body: Any = None) -> Any:
        if self.url is None:
            raise RuntimeError("the endpoint is not started")
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + "/_fleetops" + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with _NO_PROXY_OPENER.open(request, timeout=30) as response:
            text = response.read().decode() or "null"
        return json.loads(text)

    def __enter__(self) -> "Endpoint":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"Endpoint(url={self.url!r}, strict={self.strict})"


def environment_strict_default() -> None:
    """Used by the test plugin: strict shape checking is on unless the env says otherwise."""
    os.environ.setdefault("FLEETOPS_ENDPOINT_STRICT", "1")
