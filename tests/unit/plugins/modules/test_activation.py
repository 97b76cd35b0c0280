# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime

import pytest

from ansible_collections.fleetops.ssm.plugins.modules import activation as module

ID_OLD = "11111111-1111-4111-8111-111111111111"
ID_NEW = "22222222-2222-4222-8222-222222222222"
ID_CREATED = "33333333-3333-4333-8333-333333333333"
CODE = "Ab1CdE2fGh3IjK4lMn5o"


def now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def aws_activation(activation_id=ID_OLD, age_hours=2, **extra):
    created = now() - datetime.timedelta(hours=age_hours)
    activation = {"ActivationId": activation_id, "IamRole": "SSMServiceRole", "DefaultInstanceName": "web",
                  "RegistrationLimit": 2, "RegistrationsCount": 1, "ExpirationDate": created + datetime.timedelta(hours=24),
                  "Expired": False, "CreatedDate": created, "Tags": [{"Key": "Role", "Value": "web"}]}
    activation.update(extra)
    if activation["RegistrationsCount"] is None:  # AWS leaves it out before the first registration
        del activation["RegistrationsCount"]
    return activation


ROLE_FILTERS = [{"FilterKey": "IamRole", "FilterValues": ["SSMServiceRole"]},
                {"FilterKey": "DefaultInstanceName", "FilterValues": ["web"]}]


def describe(ssm, found, filters=None):
    expected = {"MaxResults": 50, "Filters": filters or ROLE_FILTERS}
    ssm.add("describe_activations", {"ActivationList": found}, expected)


def args(**extra):
    base = {"iam_role": "SSMServiceRole", "default_instance_name": "web", "tags": {"Role": "web"}}
    base.update(extra)
    return base


class TestPresent:
    def test_a_usable_match_is_reused_without_a_code(self, ssm, run_module):
        describe(ssm, [aws_activation(ID_OLD, age_hours=5), aws_activation(ID_NEW, age_hours=1)])
        run = run_module(module.main, args(), ssm.client)
        assert run.rc == 0 and run.result["changed"] is False, run.result
        assert run.result["activation"]["activation_id"] == ID_NEW  # the newest
        assert "activation_code" not in run.result["activation"]
        assert ssm.operations == ["DescribeActivations"]

    @pytest.mark.parametrize("unusable", [
        {"RegistrationsCount": 2},
        {"Expired": True},
        {"Tags": [{"Key": "Role", "Value": "db"}]},
        {"RegistrationLimit": 5},
    ])
    def test_used_up_expired_or_different_activations_are_not_reused(self, ssm, run_module, unusable):
        describe(ssm, [aws_activation(**unusable)])
        ssm.add("create_activation", {"ActivationId": ID_CREATED, "ActivationCode": CODE},
                {"IamRole": "SSMServiceRole", "DefaultInstanceName": "web", "RegistrationLimit": 2,
                 "Tags": [{"Key": "Role", "Value": "web"}]})
        describe(ssm, [aws_activation(ID_CREATED, age_hours=0, RegistrationsCount=None)],
                 [{"FilterKey": "ActivationIds", "FilterValues": [ID_CREATED]}])
        run = run_module(module.main, dict(args(registration_limit=2), _ansible_no_log=True), ssm.client)
        assert run.rc == 0 and run.result["changed"] is True, run.result
        assert run.result["activation"]["activation_id"] == ID_CREATED
        assert run.result["activation"]["activation_code"] == CODE

    def test_the_code_is_masked_unless_the_task_has_no_log(self, ssm, run_module):
        describe(ssm, [])
        ssm.add("create_activation", {"ActivationId": ID_CREATED, "ActivationCode": CODE})
        describe(ssm, [aws_activation(ID_CREATED, RegistrationsCount=None)],
                 [{"FilterKey": "ActivationIds", "FilterValues": [ID_CREATED]}])
        run = run_module(module.main, args(), ssm.client)
        assert run.rc == 0 and run.result["changed"] is True
        assert CODE not in run.stdout
        assert run.result["activation"]["activation_code"] != CODE
        assert "no_log: true on the task" in str(run.result["warnings"])
        assert run.result["activation"]["activation_id"] == ID_CREATED

    def test_force_create_ignores_matches(self, ssm, run_module):
        ssm.add("create_activation", {"ActivationId": ID_CREATED, "ActivationCode": CODE},
                {"IamRole": "SSMServiceRole", "DefaultInstanceName": "web", "Tags": [{"Key": "Role", "Value": "web"}]})
        describe(ssm, [aws_activation(ID_CREATED)], [{"FilterKey": "ActivationIds", "FilterValues": [ID_CREATED]}])
        run = run_module(module.main, dict(args(force_create=True), _ansible_no_log=True, _ansible_diff=True), ssm.client)
        assert run.result["changed"] is True
        assert run.result["activation"]["activation_code"] == CODE
        assert CODE not in str(run.result["diff"])
        assert run.result["diff"]["before"] == {}

    def test_check_mode_predicts_without_creating(self, ssm, run_module):
        describe(ssm, [])
        run = run_module(module.main, dict(args(expiration_date=(now() + datetime.timedelta(hours=2)).isoformat()),
                                           _ansible_check_mode=True, _ansible_diff=True), ssm.client)
        assert run.result["changed"] is True
        assert ssm.operations == ["DescribeActivations"]
        predicted = run.result["activation"]
        assert predicted["activation_id"] is None and "activation_code" not in predicted
        assert predicted["registration_limit"] == 1 and predicted["tags"] == {"Role": "web"}
        assert run.result["diff"]["after"]["default_instance_name"] == "web"

    def test_an_existing_id_is_reported(self, ssm, run_module):
        describe(ssm, [aws_activation()], [{"FilterKey": "ActivationIds", "FilterValues": [ID_OLD]}])
        run = run_module(module.main, {"activation_id": ID_OLD, "iam_role": "SSMServiceRole"}, ssm.client)
        assert run.result["changed"] is False and run.result["activation"]["activation_id"] == ID_OLD

    def test_an_existing_id_cannot_be_changed(self, ssm, run_module):
        describe(ssm, [aws_activation()], [{"FilterKey": "ActivationIds", "FilterValues": [ID_OLD]}])
        run = run_module(module.main, {"activation_id": ID_OLD, "description": "new"}, ssm.client)
        assert run.rc == 1
        assert "has other values for description" in run.result["msg"]
        assert "AWS cannot change" in run.result["msg"]

    def test_a_missing_id_is_not_created(self, ssm, run_module):
        describe(ssm, [], [{"FilterKey": "ActivationIds", "FilterValues": [ID_OLD]}])
        run = run_module(module.main, {"activation_id": ID_OLD}, ssm.client)
        assert run.rc == 1 and "does not exist" in run.result["msg"]
        assert ssm.operations == ["DescribeActivations"]

    @pytest.mark.parametrize("bad,fragment", [
        ({"registration_limit": 0}, "registration_limit must be 1 to 1000"),
        ({"expiration_date": "2001-01-01T00:00:00Z"}, "in the past"),
        ({"default_instance_name": "web!"}, "Invalid default_instance_name"),
        ({"activation_id": "x"}, "Invalid activation_id"),
    ])
    def test_bad_input_is_refused_before_any_call(self, ssm, run_module, bad, fragment):
        run = run_module(module.main, args(**bad), ssm.client)
        assert run.rc == 1 and fragment in run.result["msg"]
        assert ssm.operations == []

    def test_creating_needs_a_role(self, ssm, run_module):
        run = run_module(module.main, {"description": "x"}, ssm.client)
        assert run.rc == 1 and "activation_id, iam_role" in run.result["msg"]

    def test_aws_errors_name_the_code(self, ssm, run_module):
        describe(ssm, [])
        ssm.add_error("create_activation", "ValidationException",
                      "Nonexistent role or missing ssm service principal in trust policy: arn:aws:iam::1:role/SSMServiceRole")
        run = run_module(module.main, args(), ssm.client)
        assert run.rc == 1
        assert run.result["error_code"] == "ValidationException"
        assert run.result["iam_action"] == "ssm:CreateActivation"
        assert "trust policy" in run.result["msg"]


class TestAbsent:
    def test_deletes_every_match(self, ssm, run_module):
        describe(ssm, [aws_activation(ID_OLD, Expired=True), aws_activation(ID_NEW, Tags=[])])
        ssm.add("delete_activation", {}, {"ActivationId": ID_OLD})
        run = run_module(module.main, dict(args(state="absent"), _ansible_diff=True), ssm.client)
        assert run.result["changed"] is True
        assert run.result["deleted_activation_ids"] == [ID_OLD]  # the other has other tags
        assert run.result["activation"] == {}
        assert [a["activation_id"] for a in run.result["diff"]["before"]["activations"]] == [ID_OLD]

    def test_by_id(self, ssm, run_module):
        describe(ssm, [aws_activation()], [{"FilterKey": "ActivationIds", "FilterValues": [ID_OLD]}])
        ssm.add("delete_activation", {}, {"ActivationId": ID_OLD})
        run = run_module(module.main, {"activation_id": ID_OLD, "state": "absent"}, ssm.client)
        assert run.result["changed"] is True

    def test_gone_meanwhile_is_no_change(self, ssm, run_module):
        describe(ssm, [aws_activation()], [{"FilterKey": "ActivationIds", "FilterValues": [ID_OLD]}])
        ssm.add_error("delete_activation", "InvalidActivation", expected={"ActivationId": ID_OLD})
        run = run_module(module.main, {"activation_id": ID_OLD, "state": "absent"}, ssm.client)
        assert run.result["changed"] is False and run.result["deleted_activation_ids"] == []

    def test_check_mode_deletes_nothing(self, ssm, run_module):
        describe(ssm, [aws_activation()], [{"FilterKey": "ActivationIds", "FilterValues": [ID_OLD]}])
        run = run_module(module.main, {"activation_id": ID_OLD, "state": "absent", "_ansible_check_mode": True}, ssm.client)
        assert run.result["changed"] is True
        assert ssm.operations == ["DescribeActivations"]

    def test_nothing_to_delete(self, ssm, run_module):
        describe(ssm, [])
        run = run_module(module.main, args(state="absent"), ssm.client)
        assert run.result["changed"] is False

    def test_needs_something_to_select(self, ssm, run_module):
        run = run_module(module.main, {"state": "absent"}, ssm.client)
        assert run.rc == 1 and "state is absent" in run.result["msg"]
