# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime
from unittest.mock import MagicMock

import pytest
from botocore.exceptions import ClientError

from ansible_collections.fleetops.ssm.plugins.module_utils import _activations as act
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError

NOW = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
ACTIVATION_ID = "3f8a1c6e-1b2d-4e5f-8a9b-0c1d2e3f4a5b"


def client_error(code, operation):
    return ClientError({"Error": {"Code": code, "Message": "m"}}, operation)


def aws_activation(**extra):
    activation = {"ActivationId": ACTIVATION_ID, "IamRole": "SSMServiceRole", "DefaultInstanceName": "web",
                  "Description": "web tier", "RegistrationLimit": 3, "RegistrationsCount": 1,
                  "ExpirationDate": NOW + datetime.timedelta(hours=12), "Expired": False,
                  "CreatedDate": NOW - datetime.timedelta(hours=12), "Tags": [{"Key": "Role", "Value": "web"}]}
    activation.update(extra)
    return activation


def params(**extra):
    base = {"state": "present", "activation_id": None, "iam_role": None, "description": None,
            "default_instance_name": None, "registration_limit": None, "expiration_date": None, "tags": None}
    base.update(extra)
    return base


class TestValidate:
    def test_good_options_pass(self):
        act.validate(params(iam_role="service-role/SSMServiceRole", description="d" * 256, default_instance_name="web 1.a:b/c=d+e-f@g",
                            registration_limit=1000, expiration_date="2026-01-20T00:00:00Z", tags={"Patch Group": "a"}),
                     now=NOW)

    @pytest.mark.parametrize("changes,fragment", [
        ({"activation_id": "1234"}, "Invalid activation_id"),
        ({"iam_role": "x" * 65}, "iam_role has 65 characters"),
        ({"iam_role": "arn:aws:iam::123456789012:role/SSMServiceRole"}, "not its ARN"),
        ({"iam_role": ""}, "Invalid iam_role"),
        ({"description": "x" * 257}, "at most 256"),
        ({"default_instance_name": "web#1"}, "Invalid default_instance_name"),
        ({"registration_limit": 0}, "1 to 1000"),
        ({"registration_limit": 1001}, "1 to 1000"),
        ({"expiration_date": "tomorrow"}, "ISO 8601"),
        ({"expiration_date": "2026-01-01T00:00:00Z"}, "in the past"),
        ({"expiration_date": "2026-02-02T00:00:00Z"}, "more than 30 days"),
        ({"tags": {"aws:owner": "x"}}, "reserved"),
        ({"tags": {"": "x"}}, "1 to 128"),
        ({"tags": {"k": "v" * 257}}, "at most 256"),
        ({"tags": {"k": "a;b"}}, "Invalid the value of tag"),
    ])
    def test_refused(self, changes, fragment):
        with pytest.raises(act.ActivationValidationError) as raised:
            act.validate(params(**changes), now=NOW)
        assert fragment in str(raised.value)

    def test_a_past_expiration_is_fine_for_a_deletion(self):
        act.validate(params(state="absent", expiration_date="2020-01-01T00:00:00Z"), now=NOW)

    def test_instance_ids(self):
        act.validate_instance_id("mi-0123456789abcdef0")
        for bad in ("i-0123456789abcdef0", "mi-123", None):
            with pytest.raises(act.ActivationValidationError):
                act.validate_instance_id(bad)

    def test_dates(self):
        assert act.parse_date("2026-01-02T03:04:05") == NOW
        assert act.parse_date("2026-01-02T04:04:05+01:00") == NOW


class TestMatching:
    def test_unset_options_match_anything(self):
        assert act.differences(aws_activation(), params()) == []

    def test_every_set_option_is_compared(self):
        found = act.differences(aws_activation(), params(
            iam_role="Other", description="other", default_instance_name="db", registration_limit=5,
            expiration_date="2026-01-10T00:00:00Z", tags={"Role": "db"}))
        assert found == ["iam_role", "description", "default_instance_name", "registration_limit", "expiration_date",
                         "tags"]

    def test_same_values_match(self):
        expiration = (NOW + datetime.timedelta(hours=12)).isoformat()
        assert act.differences(aws_activation(), params(
            iam_role="SSMServiceRole", description="web tier", default_instance_name="web", registration_limit=3,
            expiration_date=expiration, tags={"Role": "web"})) == []

    def test_tags_must_be_the_same_set(self):
        assert act.differences(aws_activation(), params(tags={})) == ["tags"]
        assert act.differences(aws_activation(Tags=[]), params(tags={})) == []

    def test_an_empty_description_matches_none(self):
        activation = aws_activation()
        del activation["Description"]
        assert act.differences(activation, params(description="")) == []

    def test_usable(self):
        assert act.usable(aws_activation(), now=NOW)
        assert not act.usable(aws_activation(RegistrationsCount=3), now=NOW)
        assert not act.usable(aws_activation(Expired=True), now=NOW)
        assert not act.usable(aws_activation(), now=NOW + datetime.timedelta(days=1))
        # AWS leaves RegistrationsCount out (or 0) before the first registration
        fresh = aws_activation()
        del fresh["RegistrationsCount"]
        assert act.registrations_left(fresh) == 3

    def test_filters(self):
        assert act.server_filters(params(activation_id=ACTIVATION_ID, iam_role="R", default_instance_name="web")) == [
            {"FilterKey": "ActivationIds", "FilterValues": [ACTIVATION_ID]},
            {"FilterKey": "IamRole", "FilterValues": ["R"]},
            {"FilterKey": "DefaultInstanceName", "FilterValues": ["web"]},
        ]
        assert act.server_filters(params(description="only local")) == []

    def test_newest_first(self):
        old = aws_activation(ActivationId="a", CreatedDate=NOW - datetime.timedelta(days=1))
        new = aws_activation(ActivationId="b", CreatedDate=NOW)
        assert [a["ActivationId"] for a in act.newest_first([old, new])] == ["b", "a"]


class TestRequestsAndResults:
    def test_create_request(self):
        request = act.create_request(params(iam_role="R", description="d", default_instance_name="n", registration_limit=2,
                                            expiration_date="2026-01-03T00:00:00Z", tags={"a": 1}))
        assert request == {"IamRole": "R", "Description": "d", "DefaultInstanceName": "n", "RegistrationLimit": 2,
                           "ExpirationDate": datetime.datetime(2026, 1, 3, tzinfo=datetime.timezone.utc),
                           "Tags": [{"Key": "a", "Value": "1"}]}
        assert act.create_request(params(iam_role="R")) == {"IamRole": "R"}

    def test_predict_uses_aws_defaults(self):
        predicted = act.predict({"IamRole": "R"}, now=NOW)
        assert predicted["RegistrationLimit"] == 1
        assert predicted["ExpirationDate"] == NOW + datetime.timedelta(hours=24)
        assert act.to_ansible(predicted, now=NOW)["activation_id"] is None

    def test_to_ansible(self):
        result = act.to_ansible(aws_activation(), now=NOW)
        assert result == {
            "activation_id": ACTIVATION_ID, "description": "web tier", "default_instance_name": "web",
            "iam_role": "SSMServiceRole", "registration_limit": 3, "registrations_count": 1,
            "expiration_date": "2026-01-02T15:04:05+00:00", "expired": False,
            "created_date": "2026-01-01T15:04:05+00:00", "tags": {"Role": "web"},
        }
        assert "activation_code" not in act.to_ansible(dict(aws_activation(), ActivationCode="secret"), now=NOW)
        assert act.to_ansible(None) == {}


class TestCalls:
    def test_describe_pages_fifty_at_a_time(self):
        client = MagicMock()
        client.get_paginator.return_value.paginate.return_value.build_full_result.return_value = {
            "ActivationList": [aws_activation()]}
        found = act.describe_activations(client, [{"FilterKey": "IamRole", "FilterValues": ["R"]}])
        assert found == [aws_activation()]
        client.get_paginator.assert_called_once_with("describe_activations")
        client.get_paginator.return_value.paginate.assert_called_once_with(
            PaginationConfig={"PageSize": 50}, Filters=[{"FilterKey": "IamRole", "FilterValues": ["R"]}])

    def test_create_returns_id_and_code_only(self):
        client = MagicMock()
        client.create_activation.return_value = {"ActivationId": ACTIVATION_ID, "ActivationCode": "c" * 20,
                                                 "ResponseMetadata": {}}
        assert act.create_activation(client, {"IamRole": "R"}) == {"ActivationId": ACTIVATION_ID, "ActivationCode": "c" * 20}

    def test_create_errors_name_the_code_and_action(self):
        client = MagicMock()
        client.create_activation.side_effect = client_error("ValidationException", "CreateActivation")
        with pytest.raises(AnsibleSSMError) as raised:
            act.create_activation(client, {"IamRole": "R"})
        assert raised.value.error_code == "ValidationException"
        assert raised.value.iam_action == "ssm:CreateActivation"

    def test_deleting_a_missing_activation_is_no_error(self):
        client = MagicMock()
        client.delete_activation.side_effect = client_error("InvalidActivation", "DeleteActivation")
        assert act.delete_activation(client, ACTIVATION_ID) is False
        client.delete_activation.side_effect = None
        assert act.delete_activation(client, ACTIVATION_ID) is True

    def test_deregistering_an_unknown_node_is_no_error(self):
        client = MagicMock()
        client.deregister_managed_instance.side_effect = client_error("InvalidInstanceId", "DeregisterManagedInstance")
        assert act.deregister_managed_instance(client, "mi-0123456789abcdef0") is False
        client.deregister_managed_instance.side_effect = client_error("AccessDeniedException", "DeregisterManagedInstance")
        with pytest.raises(AnsibleSSMError) as raised:
            act.deregister_managed_instance(client, "mi-0123456789abcdef0")
        assert "ssm:DeregisterManagedInstance" in str(raised.value)
