#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: activation
short_description: Manage AWS Systems Manager hybrid activations, which register on-premises nodes
version_added: 0.1.0
description:
  - Create and delete hybrid activations. An activation lets up to O(registration_limit) machines
    outside EC2 register as managed nodes (V(mi-...) ids) with its code and id, until it expires;
    each node gets the activation's IAM role, O(default_instance_name) and O(tags).
  - AWS cannot change an activation, and returns its code only once, when it creates it. So with
    O(state=present) the module looks for a B(usable) activation that matches the task (not expired,
    with registrations left, and the same values for every option the task sets; unset options
    match any value). When one exists nothing changes and it is returned B(without a code). When
    none does, the module creates one and returns its code in RV(activation.activation_code).
  - To obtain a code on every run, for example to register new machines, set O(force_create=true).
    M(fleetops.ssm.activation_info) lists activations; the C(fleetops.ssm.agent) role registers nodes with
    them.
  - The activation code is a secret. The module returns it only when the task runs with C(no_log);
    otherwise RV(activation.activation_code) holds a masked value and the module warns, so that the
    code never reaches the output or a log by accident.
  - O(state=absent) deletes the activation O(activation_id), or every activation that matches the
    task (expired and used ones included). Deleting an activation does not deregister the nodes
    that registered with it.
author:
  - FleetOps SSM maintainers (@fleetops)
options:
  state:
    description: Whether a matching activation should exist.
    type: str
    choices: [present, absent]
    default: present
  activation_id:
    description:
      - An existing activation, such as V(3f8a1c6e-1b2d-4e5f-8a9b-0c1d2e3f4a5b).
      - With O(state=present) the module only checks that it exists and matches the other options
        (an activation cannot be changed); it never creates one with a chosen id.
    type: str
  iam_role:
    description:
      - The name of the IAM service role the registered nodes get, with its path when it has one
        (V(service-role/SSMServiceRole)), not its ARN. The role must trust C(ssm.amazonaws.com);
        AWS checks that it exists.
      - Required to create an activation.
    type: str
  description:
    description: A description of up to 256 characters.
    type: str
  default_instance_name:
    description:
      - "The name the registered nodes get in Systems Manager (up to 256 letters, digits, spaces and
        V(_ . : / = + - @))."
    type: str
  registration_limit:
    description:
      - How many nodes can register with the activation (1 to 1000). AWS's default is 1.
    type: int
  expiration_date:
    description:
      - When the activation expires (ISO 8601, at most 30 days ahead), such as V(2026-07-01T00:00:00Z).
        Without it AWS makes the activation expire after 24 hours.
      - It matches an activation expiring at the same second; leave it unset to accept any usable activation.
    type: str
  tags:
    description:
      - Tags of the activation, which AWS copies to every node that registers with it.
      - AWS sets an activation's tags when it creates it only; an activation with other tags does not match.
    type: dict
    aliases: [resource_tags]
  force_create:
    description:
      - Create a new activation even when a matching usable one exists, to obtain an activation code.
        Not idempotent; use it in a task that runs only when a code is needed.
    type: bool
    default: false
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - fleetops.ssm.attributes
attributes:
  check_mode:
    support: full
    details:
      - Predicts the activation it would create, without an id or a code, or the activations it would delete.
  diff_mode:
    support: full
    details:
      - Shows the activation before and after, never its code.
  idempotent:
    support: partial
    details:
      - Idempotent, except with O(force_create=true), which creates an activation on every run.
notes:
  - IAM actions used are C(ssm:DescribeActivations), C(ssm:CreateActivation) and C(ssm:DeleteActivation), and
    C(iam:PassRole) on O(iam_role).
  - Ansible cannot mark one returned value as secret; set C(no_log) on the task that creates an
    activation, and hand the code on in tasks that have C(no_log) too.
  - The module learns about C(no_log) from Ansible, which also reports it as set when the
    C(DEFAULT_NO_TARGET_SYSLOG) setting is on; the code is then returned unmasked, and only the
    task's own C(no_log) keeps it out of the output.
seealso:
  - module: fleetops.ssm.activation_info
  - module: fleetops.ssm.managed_node
  - module: fleetops.ssm.managed_node_info
"""

EXAMPLES = r"""
- name: Create an activation for ten web servers, valid one day (the code is a secret)
  fleetops.ssm.activation:
    iam_role: SSMServiceRole
    default_instance_name: web
    description: Web tier of the Berlin data centre
    registration_limit: 10
    tags:
      Role: web
  register: web_activation
  no_log: true

- name: Hand the code to the registration (it only exists in this run)
  ansible.builtin.command:
    argv: [amazon-ssm-agent, -register, -y, -code, "{{ web_activation.activation.activation_code }}",
           -id, "{{ web_activation.activation.activation_id }}", -region, eu-central-1]
  no_log: true
  become: true
  when: web_activation.activation.activation_code is defined

- name: A fresh activation on every run, expiring at a given time
  fleetops.ssm.activation:
    iam_role: service-role/SSMServiceRole
    expiration_date: "2026-07-01T00:00:00Z"
    force_create: true
  register: fresh
  no_log: true

- name: Delete every activation of the web tier
  fleetops.ssm.activation:
    default_instance_name: web
    iam_role: SSMServiceRole
    state: absent
"""

RETURN = r"""
activation:
  description:
    - The activation after the task (predicted in check mode); empty after a deletion.
  returned: always
  type: dict
  contains:
    activation_id:
      description: The activation id (null for an activation check mode predicts).
      returned: success
      type: str
      sample: 3f8a1c6e-1b2d-4e5f-8a9b-0c1d2e3f4a5b
    activation_code:
      description:
        - The activation code, a secret that AWS returns only when it creates the activation.
        - Masked unless the task runs with C(no_log).
      returned: when the module created the activation (not in check mode)
      type: str
      sample: Ab1CdE2fGh3IjK4lMn5o
    description:
      description: The description.
      returned: success
      type: str
      sample: Web tier of the Berlin data centre
    default_instance_name:
      description: The name the registered nodes get.
      returned: success
      type: str
      sample: web
    iam_role:
      description: The IAM role the registered nodes get.
      returned: success
      type: str
      sample: SSMServiceRole
    registration_limit:
      description: How many nodes can register.
      returned: success
      type: int
      sample: 10
    registrations_count:
      description: How many nodes registered.
      returned: success
      type: int
      sample: 3
    expiration_date:
      description: When the activation expires (ISO 8601).
      returned: success
      type: str
      sample: "2026-07-01T00:00:00+00:00"
    expired:
      description: Whether it expired.
      returned: success
      type: bool
      sample: false
    created_date:
      description: When it was created (ISO 8601).
      returned: success
      type: str
      sample: "2026-06-30T00:00:00+00:00"
    tags:
      description: The tags, as a dict.
      returned: success
      type: dict
      sample: {"Role": "web"}
deleted_activation_ids:
  description: The activations the task deleted (or would delete, in check mode).
  returned: when O(state=absent)
  type: list
  elements: str
  sample: ["3f8a1c6e-1b2d-4e5f-8a9b-0c1d2e3f4a5b"]
"""

from ansible_collections.fleetops.ssm.plugins.module_utils import _activations as act
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError
from ansible_collections.fleetops.ssm.plugins.module_utils._modules import FleetOpsSSMModule

MASK_WARNING = (
    "The activation code is a secret and this task does not run with no_log, so the module masked it in its "
    "result. Set no_log: true on the task to receive the code."
)


def matching(client, params, usable_only):
    """The activations that match every option the task sets, newest first."""
    found = act.describe_activations(client, act.server_filters(params))
    found = [item for item in found if not act.differences(item, params)]
    if usable_only:
        found = [item for item in found if act.usable(item)]
    return act.newest_first(found)


def ensure_present(client, params, check_mode):
    """Returns (changed, activation before, activation after, code or None)."""
    if params["activation_id"]:
        found = act.describe_activations(client, act.server_filters({"activation_id": params["activation_id"]}))
        if not found:
            raise act.ActivationValidationError(
                f"Activation {params['activation_id']} does not exist. AWS chooses activation ids: to create an "
                "activation, leave activation_id unset."
            )
        differing = act.differences(found[0], params)
        if differing:
            raise act.ActivationConflictError(
                f"Activation {params['activation_id']} has other values for {', '.join(differing)}, and AWS cannot change "
                "an activation. Delete it and create a new one (without activation_id)."
            )
        return False, found[0], found[0], None
    if not params["force_create"]:
        candidates = matching(client, params, usable_only=True)
        if candidates:
            return False, candidates[0], candidates[0], None
    if not params["iam_role"]:
        raise act.ActivationValidationError("iam_role is required to create an activation.")
    request = act.create_request(params)
    if check_mode:
        return True, None, act.predict(request), None
    created = act.create_activation(client, request)
    final = act.describe_activations(client, act.server_filters({"activation_id": created["ActivationId"]}))
    return True, None, final[0] if final else dict(act.predict(request), **created), created["ActivationCode"]


def ensure_absent(client, params, check_mode):
    """Returns (changed, the activations deleted)."""
    found = matching(client, params, usable_only=False)
    if not check_mode:
        found = [item for item in found if act.delete_activation(client, item["ActivationId"])]
    return bool(found), found


def main():
    argument_spec = dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        activation_id=dict(type="str"),
        iam_role=dict(type="str"),
        description=dict(type="str"),
        default_instance_name=dict(type="str"),
        registration_limit=dict(type="int"),
        expiration_date=dict(type="str"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        force_create=dict(type="bool", default=False),
    )
    identifying = ["activation_id", "iam_role", "description", "default_instance_name", "tags"]
    module = FleetOpsSSMModule(argument_spec=argument_spec, supports_check_mode=True,
                               required_if=[("state", "present", ["activation_id", "iam_role"], True),
                                            ("state", "absent", identifying, True)],
                               mutually_exclusive=[("activation_id", "force_create")])
    client = module.client("ssm")
    params = module.params
    try:
        act.validate(params)
        if params["state"] == "absent":
            changed, deleted = ensure_absent(client, params, module.check_mode)
            module.exit_json(changed=changed, activation={}, deleted_activation_ids=[a["ActivationId"] for a in deleted],
                             diff=dict(before={"activations": [act.to_ansible(a) for a in deleted]},
                                       after={"activations": []}))
        changed, before, after, code = ensure_present(client, params, module.check_mode)
    except AnsibleSSMError as e:
        module.fail_json_aws_error(e)
    result = act.to_ansible(after)
    if code is not None:
        if not module.no_log:
            module.hide(code)
            module.warn(MASK_WARNING)
        result["activation_code"] = code
    module.exit_json(changed=changed, activation=result, diff=dict(before=act.to_ansible(before), after=act.to_ansible(after)))


if __name__ == "__main__":
    main()
