# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: parameter
short_description: Read values from AWS Systems Manager Parameter Store
version_added: 0.1.0
author:
  - FleetOps SSM maintainers (@fleetops)
description:
  - Returns the value of each parameter named in the terms, reading them with C(GetParameters) in
    batches of 10.
  - A term that ends with V(/), or any term when O(bypath=true), is a path; it returns a dict of
    the parameters under it, keyed by their names relative to the path.
  - V(SecureString) values are decrypted by default.
options:
  _terms:
    description: Parameter names (a name may select a version or label, as in V(/app/key:3)), or paths.
    required: true
    type: list
    elements: str
  decrypt:
    description: Decrypt V(SecureString) values.
    type: bool
    default: true
  bypath:
    description: Treat every term as a path.
    type: bool
    default: false
  recursive:
    description: For paths, read every level below the path, not only the first.
    type: bool
    default: true
  on_missing:
    description:
      - What to do when a parameter does not exist, or a path holds none.
      - V(error) fails; V(warn) warns and returns V(None) in its place (an empty dict for a path);
        V(skip) does the same without a warning.
    type: str
    choices: [error, warn, skip]
    default: error
  on_denied:
    description:
      - What to do when access to a parameter is denied (IAM C(ssm:GetParameters) or
        C(ssm:GetParametersByPath), or C(kms:Decrypt) for a V(SecureString)). The same choices as O(on_missing).
    type: str
    choices: [error, warn, skip]
    default: error
extends_documentation_fragment:
  - amazon.aws.boto3
  - amazon.aws.common.plugins
  - amazon.aws.region.plugins
"""

EXAMPLES = r"""
- name: One value
  ansible.builtin.debug:
    msg: "{{ lookup('fleetops.ssm.parameter', '/app/prod/db/host') }}"

- name: Several values in one call, as a list
  ansible.builtin.set_fact:
    db: "{{ query('fleetops.ssm.parameter', '/app/prod/db/host', '/app/prod/db/port') }}"

- name: A whole tree, as a dict keyed by relative name
  ansible.builtin.set_fact:
    prod_config: "{{ lookup('fleetops.ssm.parameter', '/app/prod/') }}"

- name: A value that may not exist yet
  ansible.builtin.set_fact:
    banner: "{{ lookup('fleetops.ssm.parameter', '/app/prod/banner', on_missing='skip') | default('none', true) }}"

- name: The version a label points at, from another region
  ansible.builtin.set_fact:
    release: "{{ lookup('fleetops.ssm.parameter', '/app/prod/image:release-42', region='eu-west-1') }}"
"""

RETURN = r"""
_raw:
  description:
    - One element per term, in order. A name gives its value; a path gives a dict of relative
      names to values. A missing or denied term gives V(None) (an empty dict for a path) when
      O(on_missing) or O(on_denied) is not V(error).
  type: list
  elements: raw
"""

from ansible.errors import AnsibleLookupError

from ansible_collections.amazon.aws.plugins.plugin_utils.lookup import AWSLookupBase

from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError
from ansible_collections.fleetops.ssm.plugins.module_utils import _parameters as ps

DENIED = ("AccessDeniedException", "AccessDenied")


class LookupModule(AWSLookupBase):
    def run(self, terms, variables=None, **kwargs):
        super().run(terms, variables, **kwargs)
        client = self.client("ssm")
        paths = [term for term in terms if self.get_option("bypath") or term.endswith("/")]
        values = self._read_names(client, [term for term in terms if term not in paths])
        values.update({term: self._read_path(client, term) for term in paths})
        return [values.get(term) for term in terms]

    def _handle(self, option, term, message):
        action = self.get_option(option)
        if action == "error":
            raise AnsibleLookupError(message)
        if action == "warn":
            self.warn(f"Skipping {term}: {message}")

    def _read_names(self, client, names):
        values = {}
        decrypt = self.get_option("decrypt")
        for start in range(0, len(names), ps.BATCH_GET):
            batch = names[start:start + ps.BATCH_GET]
            try:
                found, missing = ps.get_parameters(client, batch, decrypt)
            except AnsibleSSMError as e:
                if e.error_code not in DENIED or self.get_option("on_denied") == "error":
                    raise AnsibleLookupError(str(e)) from e
                # One denied name fails the whole batch: read them one by one to find it.
                found, missing = self._read_one_by_one(client, batch, decrypt)
            for name in missing:
                self._handle("on_missing", name, f"parameter {name} was not found (ParameterNotFound)")
            for name in batch:
                if name in found:
                    values[name] = found[name]["Value"]
        return values

    def _read_one_by_one(self, client, names, decrypt):
        found, missing = {}, []
        for name in names:
            try:
                parameter = ps.get_parameter(client, name, decrypt)
            except AnsibleSSMError as e:
                if e.error_code not in DENIED:
                    raise AnsibleLookupError(str(e)) from e
                self._handle("on_denied", name, str(e))
                continue
            if parameter is None:
                missing.append(name)
            else:
                found[name] = parameter
        return found, missing

    def _read_path(self, client, path):
        prefix = path.rstrip("/") + "/"
        try:
            found = ps.get_parameters_by_path(client, prefix.rstrip("/") or "/", self.get_option("recursive"), self.get_option("decrypt"))
        except AnsibleSSMError as e:
            if e.error_code not in DENIED:
                raise AnsibleLookupError(str(e)) from e
            self._handle("on_denied", path, str(e))
            return {}
        if not found:
            self._handle("on_missing", path, f"no parameters were found under path {path}")
        return {item["Name"][len(prefix):] if item["Name"].startswith(prefix) else item["Name"]: item["Value"] for item in found}
