# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from unittest.mock import MagicMock

import botocore.exceptions
import pytest

from ansible_collections.amazon.aws.plugins.module_utils import cloud
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import ParameterValidationError
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import SSMErrorHandler
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import ssm_retry

KMS_DENIED = (
    "User: arn:aws:iam::123456789012:user/deployer is not authorized to perform: kms:Decrypt on resource: "
    "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
)


def client_error(code, operation="PutParameter", message="Denied"):
    return botocore.exceptions.ClientError({"Error": {"Code": code, "Message": message}}, operation)


def ssm_error(code, operation="PutParameter", message="Denied"):
    return AnsibleSSMError(message="Failed to put parameter", exception=client_error(code, operation, message))


class TestAnsibleSSMError:
    def test_access_denied_names_the_ssm_action(self):
        error = ssm_error("AccessDeniedException")

        assert error.error_code == "AccessDeniedException"
        assert error.operation == "PutParameter"
        assert error.iam_action == "ssm:PutParameter"
        text = str(error)
        assert text.startswith("Failed to put parameter (AccessDeniedException, ")
        assert "the caller needs IAM permission for ssm:PutParameter" in text
        assert text.endswith("Denied")

    @pytest.mark.parametrize("code", ["AccessDenied", "UnauthorizedOperation"])
    def test_other_denial_codes_name_the_permission(self, code):
        assert "the caller needs IAM permission for ssm:GetParameters" in str(ssm_error(code, "GetParameters"))

    def test_kms_denial_names_the_kms_action(self):
        error = ssm_error("AccessDeniedException", "GetParameter", KMS_DENIED)

        assert error.iam_action == "kms:Decrypt"
        assert "the caller needs IAM permission for kms:Decrypt" in str(error)
        assert "ssm:GetParameter" not in str(error)

    @pytest.mark.parametrize("action", ["kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"])
    def test_other_kms_actions(self, action):
        error = ssm_error("AccessDeniedException", "PutParameter", f"not authorized to perform: {action} on key")

        assert error.iam_action == action

    def test_other_errors_mention_the_action_without_blaming_permissions(self):
        error = ssm_error("ParameterLimitExceeded", message="Too many versions")

        assert error.error_code == "ParameterLimitExceeded"
        text = str(error)
        assert "(ParameterLimitExceeded, IAM action ssm:PutParameter)" in text
        assert "needs IAM permission" not in text

    def test_without_an_aws_exception(self):
        error = AnsibleSSMError(message="Something went wrong")

        assert error.error_code is None
        assert error.operation is None
        assert error.iam_action is None
        assert str(error) == "Something went wrong"

    def test_botocore_error_without_a_code(self):
        cause = botocore.exceptions.EndpointConnectionError(endpoint_url="https://ssm.us-east-1.amazonaws.com/")
        error = AnsibleSSMError(message="Failed to get parameter", exception=cause)

        assert error.error_code is None
        assert error.iam_action is None
        assert str(error).startswith("Failed to get parameter (EndpointConnectionError): Could not connect")

    def test_validation_error_is_an_ssm_error_with_only_a_message(self):
        error = ParameterValidationError("Invalid parameter name 'x y'.")

        assert isinstance(error, AnsibleSSMError)
        assert isinstance(error, AnsibleAWSError)
        assert error.exception is None
        assert error.error_code is None and error.iam_action is None
        assert str(error) == "Invalid parameter name 'x y'."


class TestSSMErrorHandler:
    def test_common_handler_wraps_client_errors(self):
        cause = client_error("AccessDeniedException")

        @SSMErrorHandler.common_error_handler("put parameter")
        def call():
            raise cause

        with pytest.raises(AnsibleSSMError) as raised:
            call()

        assert raised.value.exception is cause
        assert raised.value.__cause__ is cause
        assert raised.value.message == "Failed to put parameter"
        assert raised.value.iam_action == "ssm:PutParameter"

    def test_common_handler_does_not_hide_missing_resources(self):
        @SSMErrorHandler.common_error_handler("put parameter")
        def call():
            raise client_error("ParameterNotFound", "PutParameter")

        with pytest.raises(AnsibleSSMError) as raised:
            call()
        assert raised.value.error_code == "ParameterNotFound"

    def test_common_handler_reports_waiter_timeouts(self):
        @SSMErrorHandler.common_error_handler("wait for parameter")
        def call():
            raise botocore.exceptions.WaiterError(name="x", reason="timed out", last_response={})

        with pytest.raises(AnsibleSSMError, match="^Timeout trying to wait for parameter"):
            call()

    def test_common_handler_passes_results_through(self):
        @SSMErrorHandler.common_error_handler("put parameter")
        def call(value):
            return {"Version": value}

        assert call(3) == {"Version": 3}

    @pytest.mark.parametrize(
        "code",
        ["ParameterNotFound", "ParameterVersionNotFound", "InvalidDocument", "InvalidResourceId", "DoesNotExistException"],
    )
    def test_list_handler_returns_the_default_for_missing_resources(self, code):
        client = MagicMock()
        client.get_parameter.side_effect = client_error(code, "GetParameter")

        @SSMErrorHandler.list_error_handler("get parameter", default_value="fallback")
        def call():
            return client.get_parameter(Name="/x")

        assert call() == "fallback"
        client.get_parameter.assert_called_once_with(Name="/x")

    def test_list_handler_raises_other_errors(self):
        @SSMErrorHandler.list_error_handler("get parameter", default_value=[])
        def call():
            raise client_error("AccessDeniedException", "GetParameter")

        with pytest.raises(AnsibleSSMError) as raised:
            call()
        assert raised.value.iam_action == "ssm:GetParameter"

    def test_deletion_handler_treats_missing_as_already_gone(self):
        @SSMErrorHandler.deletion_error_handler("delete parameter")
        def call():
            raise client_error("ParameterNotFound", "DeleteParameter")

        assert call() is False

    def test_deletion_handler_raises_denials(self):
        @SSMErrorHandler.deletion_error_handler("delete parameter")
        def call():
            raise client_error("AccessDeniedException", "DeleteParameter")

        with pytest.raises(AnsibleSSMError, match="ssm:DeleteParameter"):
            call()


class TestSSMRetry:
    @pytest.fixture
    def sleeps(self, monkeypatch):
        sleeps = []
        monkeypatch.setattr(cloud.time, "sleep", sleeps.append)
        return sleeps

    def test_throttling_is_retried(self, sleeps):
        client = MagicMock()
        client.get_parameter.side_effect = [client_error("ThrottlingException", "GetParameter"), {"Parameter": {"Value": "v"}}]

        @ssm_retry()
        def call():
            return client.get_parameter(Name="/x")

        assert call() == {"Parameter": {"Value": "v"}}
        assert client.get_parameter.call_count == 2
        assert len(sleeps) == 1

    def test_denials_are_not_retried(self, sleeps):
        client = MagicMock()
        client.get_parameter.side_effect = client_error("AccessDeniedException", "GetParameter")

        @ssm_retry()
        def call():
            return client.get_parameter(Name="/x")

        with pytest.raises(botocore.exceptions.ClientError):
            call()
        assert client.get_parameter.call_count == 1
        assert sleeps == []

    def test_persistent_throttling_gives_up(self, sleeps):
        client = MagicMock()
        client.get_parameter.side_effect = client_error("ThrottlingException", "GetParameter")

        @SSMErrorHandler.common_error_handler("get parameter")
        @ssm_retry()
        def call():
            return client.get_parameter(Name="/x")

        with pytest.raises(AnsibleSSMError) as raised:
            call()
        assert raised.value.error_code == "ThrottlingException"
        assert client.get_parameter.call_count > 1
        assert len(sleeps) == client.get_parameter.call_count - 1
