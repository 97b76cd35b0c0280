# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass

import pytest

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.fleetops.ssm.plugins.module_utils._modules import FleetOpsSSMModule
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import SSMStub

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core before 2.19
    patch_module_args = None


@pytest.fixture
def ssm():
    """A real SSM client behind botocore's Stubber; every queued response must be used."""
    stub = SSMStub()
    stub.activate()
    yield stub
    stub.deactivate()
    stub.assert_done()


@pytest.fixture
def patch_ansible_module(monkeypatch):
    """Returns a function that sets the arguments the next AnsibleModule reads."""
    with contextlib.ExitStack() as stack:

        def patch(args):
            if patch_module_args is not None:
                stack.enter_context(patch_module_args(args))
            else:
                monkeypatch.setattr(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args})))

        yield patch


@dataclass
class ModuleRun:
    rc: int
    result: dict
    stdout: str


@pytest.fixture
def run_module(patch_ansible_module, monkeypatch, capsys):
    """Run a module's main() with these arguments and this client: its exit code and JSON result."""

    def run(main, args, client):
        def fake_client(self, service, retry_decorator=None, **extra):
            assert service == "ssm"
            return client

        monkeypatch.setattr(FleetOpsSSMModule, "client", fake_client)
        patch_ansible_module(args)
        capsys.readouterr()
        with pytest.raises(SystemExit) as raised:
            main()
        stdout = capsys.readouterr().out
        return ModuleRun(rc=raised.value.code, result=json.loads(stdout), stdout=stdout)

    return run
