# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Action plugin of fleetops.ssm.document: reads ``src`` on the controller and passes its text as ``content``."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # tmp no longer has any effect
        args = dict(self._task.args)
        source = args.pop("src", None)
        if source is not None:
            if args.get("content") is not None:
                raise AnsibleActionFail("parameters are mutually exclusive: content|src")
            args["content"] = self._read_source(source)
        result.update(self._execute_module(module_name="fleetops.ssm.document", module_args=args,
                                           task_vars=task_vars))
        return result

    def _read_source(self, source):
        """The text of ``src``, found like copy's (files/ of the role and playbook), decrypted if vaulted."""
        try:
            path = self._find_needle("files", source)
            real = self._loader.get_real_file(path, decrypt=True)
        except AnsibleError as e:
            raise AnsibleActionFail(f"src {source}: {to_text(e)}")
        try:
            with open(real, "rb") as handle:
                data = handle.read()
        except OSError as e:
            raise AnsibleActionFail(f"src {source}: cannot read {path}: {to_text(e)}")
        finally:
            self._loader.cleanup_tmp_file(real)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise AnsibleActionFail(f"src {source}: {path} is not UTF-8 text; SSM documents are text.")
