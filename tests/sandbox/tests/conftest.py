"""pytest setup for the sandbox fleet tests: the ``sandbox`` marker and the fake endpoint."""

from __future__ import annotations

import pytest

from fleet_testlib import EndpointRecorder


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "sandbox: boots real Debian nodes with systemd-nspawn (root, slow)")


@pytest.fixture(scope="module")
def recorder():
    rec = EndpointRecorder().start()
    try:
        yield rec
    finally:
        rec.stop()
