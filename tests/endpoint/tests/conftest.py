"""Makes ``python -m pytest tests/endpoint/tests`` work without extra options."""

import sys
from pathlib import Path

ENDPOINT_DIR = Path(__file__).resolve().parent.parent
if str(ENDPOINT_DIR) not in sys.path:
    sys.path.insert(0, str(ENDPOINT_DIR))

PLUGIN = "fleetops_endpoint.pytest_plugin"


def pytest_configure(config):
    if not config.pluginmanager.has_plugin(PLUGIN):
        config.pluginmanager.import_plugin(PLUGIN)
    from fleetops_endpoint.pytest_plugin import bypass_proxies_for_loopback

    bypass_proxies_for_loopback()
    config.addinivalue_line("markers", "sandbox: boots real nodes with tests/sandbox/fleet (root, systemd-nspawn)")
