# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime

from ansible_collections.fleetops.ssm.plugins.modules import activation_info as module

FIRST = "11111111-1111-4111-8111-111111111111"
SECOND = "22222222-2222-4222-8222-222222222222"
THIRD = "33333333-3333-4333-8333-333333333333"
RETURN_KEYS = {"activation_id", "description", "default_instance_name", "iam_role", "registration_limit",
               "registrations_count", "expiration_date", "expired", "created_date", "tags"}


def aws_activation(activation_id, age_hours, **extra):
    created = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=age_hours)
    activation = {"ActivationId": activation_id, "IamRole": "SSMServiceRole", "DefaultInstanceName": "web",
                  "Description": "d", "RegistrationLimit": 2, "ExpirationDate": created + datetime.timedelta(hours=24),
                  "Expired": False, "CreatedDate": created, "Tags": [{"Key": "Role", "Value": "web"}]}
    activation.update(extra)
    return activation


def test_filters_go_to_aws_and_results_are_oldest_first(ssm, run_module):
    ssm.add("describe_activations", {"ActivationList": [aws_activation(FIRST, 1), aws_activation(SECOND, 3)]}, {
        "MaxResults": 50, "Filters": [
            {"FilterKey": "ActivationIds", "FilterValues": [FIRST, SECOND]},
            {"FilterKey": "DefaultInstanceName", "FilterValues": ["web"]},
            {"FilterKey": "IamRole", "FilterValues": ["SSMServiceRole"]}]})
    run = run_module(module.main, {"activation_ids": [FIRST, SECOND], "default_instance_names": ["web"],
                                   "iam_roles": ["SSMServiceRole"]}, ssm.client)
    assert run.rc == 0 and run.result["changed"] is False
    assert [a["activation_id"] for a in run.result["activations"]] == [SECOND, FIRST]
    assert set(run.result["activations"][0]) == RETURN_KEYS
    assert run.result["activations"][0]["registrations_count"] == 0


def test_local_selection(ssm, run_module):
    found = [aws_activation(FIRST, 30, Expired=True), aws_activation(SECOND, 2, RegistrationsCount=2),
             aws_activation(THIRD, 1, Tags=[{"Key": "Role", "Value": "db"}])]
    for selection, expected in (
        ({"expired": True}, [FIRST]),
        ({"expired": False}, [SECOND, THIRD]),
        ({"usable": True}, [THIRD]),
        ({"usable": False}, [FIRST, SECOND]),
        ({"tags": {"Role": "web"}}, [FIRST, SECOND]),
        ({"tags": {"Role": "web"}, "expired": False}, [SECOND]),
    ):
        ssm.add("describe_activations", {"ActivationList": found}, {"MaxResults": 50})
        run = run_module(module.main, selection, ssm.client)
        assert [a["activation_id"] for a in run.result["activations"]] == expected, selection


def test_a_bad_id_is_refused_before_any_call(ssm, run_module):
    run = run_module(module.main, {"activation_ids": ["nope"]}, ssm.client)
    assert run.rc == 1 and "Invalid activation_id 'nope'" in run.result["msg"]
    assert ssm.operations == []
