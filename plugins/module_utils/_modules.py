# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE: this file is internal to the fleetops.ssm collection. It is not a public API and may
# change at any time without notice. Do not import it from outside the collection.

"""The module base class of the fleetops.ssm collection."""

from __future__ import annotations

import traceback

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.common import set_collection_info
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.fleetops.ssm.plugins.module_utils._version import COLLECTION_NAME
from ansible_collections.fleetops.ssm.plugins.module_utils._version import COLLECTION_VERSION


def _secret_aware_module_class(secrets):
    """An AnsibleModule that masks the strings ``secrets(params)`` names from the start.

    Ansible masks options marked no_log. Some secrets sit inside options that are not secret as
    a whole (a SecureString value in a dict of parameters); registering them before the module
    logs its invocation keeps them out of the target's log as well as out of the result.
    """

    class SecretAwareModule(AnsibleModule):
        def _log_invocation(self):
            self.no_log_values.update(value for value in secrets(self.params) if value)
            super()._log_invocation()

    return SecretAwareModule


class FleetOpsSSMModule(AnsibleAWSModule):
    """AnsibleAWSModule that names the collection in the user agent and reports typed errors.

    ``secrets``, when given, is a function of the module parameters that returns the secret
    strings among them; they are masked in the log and in the result.
    """

    def __init__(self, secrets=None, **kwargs):
        if secrets is None:
            super().__init__(**kwargs)
        else:
            # AnsibleAWSModule accepts a module_class setting but builds its module from the class
            # default, so the default is swapped for the duration of the constructor only.
            settings = AnsibleAWSModule.default_settings
            original = settings["module_class"]
            settings["module_class"] = _secret_aware_module_class(secrets)
            try:
                super().__init__(**kwargs)
            finally:
                settings["module_class"] = original
        set_collection_info(collection_name=COLLECTION_NAME, collection_version=COLLECTION_VERSION)

    def hide(self, *values):
        """Mask these strings wherever they would appear in the result (secret values)."""
        for value in values:
            if value:
                self._module.no_log_values.add(value)

    def fail_json_aws_error(self, exception):
        """Fail with the AWS error code and the IAM action of an AnsibleSSMError in the result."""
        extra = {}
        for key in ("error_code", "iam_action"):
            value = getattr(exception, key, None)
            if value:
                extra[key] = value
        cause = getattr(exception, "exception", None)
        if cause is not None:
            extra["exception"] = "".join(traceback.format_exception(type(cause), cause, cause.__traceback__))
            extra.update(self._gather_versions())
            response = getattr(cause, "response", None)
            if response:
                extra.update(camel_dict_to_snake_dict(response))
        self.fail_json(msg=str(exception), **extra)
