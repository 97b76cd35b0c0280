# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE: this file is internal to the fleetops.ssm collection. It is not a public API and may
# change at any time without notice. Do not import it from outside the collection.

"""Typed errors for the SSM API helpers, shared by modules and plugins."""

from __future__ import annotations

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

# The SSM API names its operations after the IAM actions that allow them, so the action a
# failed call needs is "ssm:" + the operation name. Errors that another service raises
# through SSM (KMS for SecureString values) name their own action in AWS's message.
_ACCESS_DENIED_CODES = ("AccessDeniedException", "AccessDenied", "UnauthorizedOperation")
_KMS_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey")


# Throttling codes amazon.aws's AWSRetry does not retry by itself: SSM's ThrottlingException and
# the Resource Groups Tagging API's ThrottledException.
THROTTLING_CODES = ["ThrottlingException", "ThrottledException"]


def ssm_retry():
    """amazon.aws's jittered backoff, retrying SSM's and the tagging API's throttling as well."""
    return AWSRetry.jittered_backoff(catch_extra_error_codes=THROTTLING_CODES)


class AnsibleSSMError(AnsibleAWSError):
    """An SSM API call failed.

    ``error_code`` is AWS's error code and ``iam_action`` the IAM action the call needs (for
    example ``ssm:PutParameter``); both are None when the failure did not come from AWS.
    """

    @property
    def error_code(self):
        response = getattr(self.exception, "response", None) or {}
        return response.get("Error", {}).get("Code")

    @property
    def operation(self):
        return getattr(self.exception, "operation_name", None)

    @property
    def iam_action(self):
        message = str(self.exception or "")
        for action in _KMS_ACTIONS:
            if action in message:
                return action
        if self.operation:
            return f"ssm:{self.operation}"
        return None

    def __str__(self):
        if self.exception is None:
            return self.message or super().__str__()
        details = [self.error_code or type(self.exception).__name__]
        if self.error_code in _ACCESS_DENIED_CODES and self.iam_action:
            details.append(f"the caller needs IAM permission for {self.iam_action}")
        elif self.iam_action:
            details.append(f"IAM action {self.iam_action}")
        return f"{self.message} ({', '.join(details)}): {self.exception}"


class ParameterValidationError(AnsibleSSMError):
    """The input breaks an SSM rule; raised before any API call is made."""


class SSMErrorHandler(AWSErrorHandler):
    """amazon.aws's error handler, raising AnsibleSSMError."""

    _CUSTOM_EXCEPTION = AnsibleSSMError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code(
            [
                "ParameterNotFound",
                "ParameterVersionNotFound",
                "InvalidDocument",
                "InvalidResourceId",
                "DoesNotExistException",
            ]
        )
