# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

import botocore.exceptions
import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.amazon.aws.plugins.module_utils.common import get_collection_info
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import ParameterValidationError
from ansible_collections.fleetops.ssm.plugins.module_utils._modules import FleetOpsSSMModule
from ansible_collections.fleetops.ssm.plugins.module_utils._version import COLLECTION_NAME

SPEC = dict(
    items=dict(type="dict"),
    label=dict(type="str"),
)
SECRET = "s3cr3t-in-a-dict"


def secrets_of(params):
    return [entry.get("secret") for entry in (params["items"] or {}).values()]


@pytest.fixture
def make_module(patch_ansible_module):
    def make(args, **kwargs):
        patch_ansible_module(args)
        return FleetOpsSSMModule(argument_spec=SPEC, supports_check_mode=True, **kwargs)

    return make


def finish(module, capsys, method="exit_json", **result):
    capsys.readouterr()
    with pytest.raises(SystemExit) as raised:
        getattr(module, method)(**result)
    return raised.value.code, json.loads(capsys.readouterr().out)


class TestSecrets:
    def test_secrets_are_masked_in_the_invocation_and_the_result(self, make_module, capsys):
        module = make_module({"items": {"db": {"secret": SECRET, "note": "plain"}}, "label": "x"}, secrets=secrets_of)

        assert SECRET in module._module.no_log_values
        rc, result = finish(module, capsys, echo=f"value was {SECRET}")

        assert rc == 0
        assert SECRET not in json.dumps(result)
        assert result["echo"] == "value was ********"
        assert result["invocation"]["module_args"]["items"]["db"]["note"] == "plain"
        assert result["invocation"]["module_args"]["items"]["db"]["secret"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"

    def test_secrets_are_masked_when_failing(self, make_module, capsys):
        module = make_module({"items": {"db": {"secret": SECRET}}}, secrets=secrets_of)

        rc, result = finish(module, capsys, "fail_json", msg=f"could not store {SECRET}")

        assert rc == 1
        assert result["failed"] is True
        assert SECRET not in json.dumps(result)

    def test_without_the_hook_nothing_is_masked(self, make_module, capsys):
        # The control case: proves the masking above comes from the secrets hook.
        module = make_module({"items": {"db": {"secret": SECRET}}})

        assert module._module.__class__ is AnsibleModule
        _rc, result = finish(module, capsys)
        assert result["invocation"]["module_args"]["items"]["db"]["secret"] == SECRET

    def test_empty_secrets_are_not_registered(self, make_module):
        module = make_module({"items": {"db": {"secret": ""}, "app": {"secret": None}}}, secrets=secrets_of)

        assert "" not in module._module.no_log_values
        assert None not in module._module.no_log_values

    def test_the_default_module_class_is_restored(self, make_module):
        make_module({"label": "x"}, secrets=secrets_of)

        assert AnsibleAWSModule.default_settings["module_class"] is AnsibleModule

    def test_the_default_module_class_is_restored_when_the_arguments_are_invalid(self, make_module, capsys):
        with pytest.raises(SystemExit):
            make_module({"label": "x", "unknown": 1}, secrets=secrets_of)

        assert AnsibleAWSModule.default_settings["module_class"] is AnsibleModule
        assert "unknown" in json.loads(capsys.readouterr().out)["msg"]

    def test_hide_masks_values_found_later(self, make_module, capsys):
        module = make_module({"label": "x"})
        module.hide("current-secret", "", None)

        assert "" not in module._module.no_log_values
        _rc, result = finish(module, capsys, echo="current-secret")
        assert result["echo"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def test_the_user_agent_names_the_collection(make_module, monkeypatch):
    info = get_collection_info()
    monkeypatch.setitem(info, "name", "amazon.aws")

    make_module({"label": "x"})

    assert info["name"] == COLLECTION_NAME == "fleetops.ssm"


class TestFailJsonAwsError:
    @pytest.fixture
    def failed(self, make_module, monkeypatch):
        module = make_module({"label": "x"})
        calls = []

        def fake_fail_json(**kwargs):
            calls.append(kwargs)
            raise SystemExit(1)

        monkeypatch.setattr(module, "fail_json", fake_fail_json)

        def fail(error):
            with pytest.raises(SystemExit):
                module.fail_json_aws_error(error)
            assert len(calls) == 1
            return calls[0]

        return fail

    def test_access_denied(self, failed):
        cause = botocore.exceptions.ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}, "ResponseMetadata": {"RequestId": "r-1"}},
            "PutParameter",
        )
        error = None
        try:
            raise cause  # gives the cause a traceback, as a real failure has
        except botocore.exceptions.ClientError as e:
            error = AnsibleSSMError(message="Failed to put parameter", exception=e)

        result = failed(error)

        assert result["msg"] == str(error)
        assert "ssm:PutParameter" in result["msg"]
        assert result["error_code"] == "AccessDeniedException"
        assert result["iam_action"] == "ssm:PutParameter"
        assert result["error"] == {"code": "AccessDeniedException", "message": "not allowed"}
        assert result["response_metadata"] == {"request_id": "r-1"}
        assert "botocore.exceptions.ClientError" in result["exception"]
        assert result["boto3_version"] and result["botocore_version"]

    def test_kms_denial(self, failed):
        cause = botocore.exceptions.ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "not authorized to perform: kms:Decrypt"}},
            "GetParameterHistory",
        )
        result = failed(AnsibleSSMError(message="Failed to get parameter history", exception=cause))

        assert result["iam_action"] == "kms:Decrypt"
        assert "kms:Decrypt" in result["msg"]

    def test_validation_error_has_only_a_message(self, failed):
        result = failed(ParameterValidationError("Invalid parameter name 'a b'."))

        assert result == {"msg": "Invalid parameter name 'a b'."}
