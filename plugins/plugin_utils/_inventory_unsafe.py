# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE: this file is internal to the fleetops.ssm collection. It is not a public API and may
# change at any time without notice. Do not import it from outside the collection.

"""Marking API data as unsafe, so that Ansible never templates it.

Strings without ``{`` or ``}`` cannot start a template and are left as they are: unsafe strings
elsewhere (host names, group names) confuse some ansible-core versions. Every other string, at any
depth of dicts, lists, tuples and sets, becomes an AnsibleUnsafeText (ansible-core 2.17 and 2.18 rely
on it; 2.19 and later never trust inventory data as templates in the first place).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from collections.abc import Set

from ansible.utils.unsafe_proxy import AnsibleUnsafe
from ansible.utils.unsafe_proxy import wrap_var

_TEMPLATE_CHARS = re.compile("[{}]")
_TEMPLATE_BYTES = re.compile(b"[{}]")


def make_unsafe(value):
    """``value`` with every string that could hold a template marked unsafe."""
    kind = type(value)
    if kind is str:  # the common case first: inventories hold many thousands of these
        return wrap_var(value) if ("{" in value or "}" in value) else value
    if kind is dict:
        return {make_unsafe(key): make_unsafe(item) for key, item in value.items()}
    if value is None or isinstance(value, AnsibleUnsafe):
        return value
    if isinstance(value, Mapping):
        return {make_unsafe(key): make_unsafe(item) for key, item in value.items()}
    if isinstance(value, Set):
        return {make_unsafe(item) for item in value}
    if isinstance(value, (list, tuple)):
        return type(value)(make_unsafe(item) for item in value)
    if isinstance(value, str):
        return wrap_var(value) if _TEMPLATE_CHARS.search(value) else value
    if isinstance(value, bytes):
        return wrap_var(value) if _TEMPLATE_BYTES.search(value) else value
    return value
