# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime
import json
from unittest.mock import MagicMock

import botocore.exceptions
import pytest

from ansible_collections.amazon.aws.plugins.module_utils import cloud

from ansible_collections.fleetops.ssm.plugins.module_utils import _tags
from ansible_collections.fleetops.ssm.plugins.module_utils import _parameters as ps
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import ParameterValidationError
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import WHEN
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import arn
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import client_error
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import history
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import metadata
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import parameter
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import policy_text


def desired(name="/app/key", **options):
    return ps.desired_parameter(name, options)


def current(name="/app/key", value="old", **kwargs):
    return ps.current_from_history([history(name, value, **kwargs)])


def names(count, prefix="/app/p"):
    return [f"{prefix}{index:03d}" for index in range(count)]


# ---------------------------------------------------------------------------------------------
# API calls
# ---------------------------------------------------------------------------------------------


class TestGetParameter:
    def test_returns_the_parameter(self, ssm):
        ssm.add("get_parameter", {"Parameter": parameter("/app/key", "v", 3)}, {"Name": "/app/key", "WithDecryption": True})

        result = ps.get_parameter(ssm.client, "/app/key")

        assert result["Value"] == "v" and result["Version"] == 3

    def test_without_decryption(self, ssm):
        ssm.add("get_parameter", {"Parameter": parameter("/app/key", "v")}, {"Name": "/app/key", "WithDecryption": False})

        assert ps.get_parameter(ssm.client, "/app/key", decrypt=False)["Name"] == "/app/key"

    def test_missing_parameter_is_none(self, ssm):
        ssm.add_error("get_parameter", "ParameterNotFound", expected={"Name": "/app/key", "WithDecryption": True})

        assert ps.get_parameter(ssm.client, "/app/key") is None

    def test_missing_parameter_is_none_with_a_mock_client(self):
        client = MagicMock()
        client.get_parameter.side_effect = client_error("ParameterNotFound", "GetParameter")

        assert ps.get_parameter(client, "/app/key") is None
        client.get_parameter.assert_called_once_with(Name="/app/key", WithDecryption=True)

    def test_access_denied_raises_with_the_iam_action(self):
        client = MagicMock()
        client.get_parameter.side_effect = client_error("AccessDeniedException", "GetParameter", "no")

        with pytest.raises(AnsibleSSMError) as raised:
            ps.get_parameter(client, "/app/key")

        assert raised.value.iam_action == "ssm:GetParameter"
        assert "ssm:GetParameter" in str(raised.value)

    def test_kms_denial_names_kms_decrypt(self):
        client = MagicMock()
        client.get_parameter.side_effect = client_error(
            "AccessDeniedException", "GetParameter", "User is not authorized to perform: kms:Decrypt on resource: key"
        )

        with pytest.raises(AnsibleSSMError) as raised:
            ps.get_parameter(client, "/app/key")

        assert raised.value.iam_action == "kms:Decrypt"
        assert "kms:Decrypt" in str(raised.value)


class TestGetParameters:
    def test_batches_of_ten(self, ssm):
        wanted = names(23)
        for start in (0, 10, 20):
            batch = wanted[start:start + 10]
            found = [parameter(name, name.upper()) for name in batch if name != "/app/p012"]
            invalid = ["/app/p012"] if "/app/p012" in batch else []
            ssm.add(
                "get_parameters",
                {"Parameters": found, "InvalidParameters": invalid} if invalid else {"Parameters": found},
                {"Names": batch, "WithDecryption": True},
            )

        found, missing = ps.get_parameters(ssm.client, wanted)

        assert ssm.operations == ["GetParameters"] * 3
        assert [len(params["Names"]) for params in ssm.params("GetParameters")] == [10, 10, 3]
        assert missing == ["/app/p012"]
        assert sorted(found) == sorted(set(wanted) - {"/app/p012"})
        assert found["/app/p022"]["Value"] == "/APP/P022"

    def test_exactly_ten_names_make_one_call(self, ssm):
        ssm.add("get_parameters", {"Parameters": [], "InvalidParameters": names(10)}, {"Names": names(10), "WithDecryption": False})

        found, missing = ps.get_parameters(ssm.client, names(10), decrypt=False)

        assert found == {} and missing == names(10)
        assert ssm.operations == ["GetParameters"]

    def test_no_names_no_call(self, ssm):
        assert ps.get_parameters(ssm.client, []) == ({}, [])
        assert ssm.calls == []

    def test_selector_terms_are_keyed_by_the_requested_name(self, ssm):
        by_version = dict(parameter("/app/key", "three", 3), Selector=":3")
        by_label = dict(parameter("/app/key", "live", 2), Selector=":live")
        plain = parameter("/app/other", "o", 5)
        wanted = ["/app/key:3", "/app/key:live", "/app/other", "/app/key:9"]
        # AWS answers with the bare name plus the selector of the request.
        ssm.add("get_parameters", {"Parameters": [plain, by_label, by_version], "InvalidParameters": ["/app/key:9"]},
                {"Names": wanted, "WithDecryption": True})

        found, missing = ps.get_parameters(ssm.client, wanted)

        assert sorted(found) == ["/app/key:3", "/app/key:live", "/app/other"]
        assert found["/app/key:3"]["Value"] == "three" and found["/app/key:live"]["Value"] == "live"
        assert found["/app/other"] is plain
        assert missing == ["/app/key:9"]

    def test_arn_terms_are_keyed_by_the_requested_arn(self, ssm):
        key_arn = arn("/app/key")
        versioned_arn = arn("/app/other") + ":2"
        wanted = [key_arn, versioned_arn]
        ssm.add("get_parameters", {"Parameters": [parameter("/app/key", "k"), dict(parameter("/app/other", "o2", 2), Selector=":2")]},
                {"Names": wanted, "WithDecryption": False})

        found, missing = ps.get_parameters(ssm.client, wanted, decrypt=False)

        assert list(found) == wanted
        assert found[key_arn]["Name"] == "/app/key" and found[versioned_arn]["Value"] == "o2"
        assert missing == []

    def test_every_requested_name_not_answered_is_missing(self, ssm):
        wanted = ["/app/a", "/app/b:4", "/app/c"]
        # No InvalidParameters in the answer, and a parameter answered under a selector nobody asked for.
        ssm.add("get_parameters", {"Parameters": [parameter("/app/a", "A"), dict(parameter("/app/b", "B", 3), Selector=":3")]},
                {"Names": wanted, "WithDecryption": True})

        found, missing = ps.get_parameters(ssm.client, wanted)

        assert list(found) == ["/app/a"]
        assert missing == ["/app/b:4", "/app/c"]

    def test_the_same_parameter_under_two_terms(self, ssm):
        wanted = ["/app/key", "/app/key:1"]
        ssm.add("get_parameters", {"Parameters": [parameter("/app/key", "v2", 2), dict(parameter("/app/key", "v1", 1), Selector=":1")]},
                {"Names": wanted, "WithDecryption": True})

        found, missing = ps.get_parameters(ssm.client, wanted)

        assert (found["/app/key"]["Value"], found["/app/key:1"]["Value"]) == ("v2", "v1")
        assert missing == []

    def test_denied_batch_raises(self):
        client = MagicMock()
        client.get_parameters.side_effect = client_error("AccessDeniedException", "GetParameters")

        with pytest.raises(AnsibleSSMError) as raised:
            ps.get_parameters(client, ["/a", "/b"])
        assert raised.value.iam_action == "ssm:GetParameters"


class TestReadTrees:
    def test_get_parameters_by_path_follows_pages(self, ssm):
        ssm.by_path("/app", [parameter("/app/a", "1")], next_token="t1")
        ssm.by_path("/app", [parameter("/app/b/c", "2")], token="t1")

        result = ps.get_parameters_by_path(ssm.client, "/app")

        assert [item["Name"] for item in result] == ["/app/a", "/app/b/c"]
        assert ssm.operations == ["GetParametersByPath"] * 2

    def test_get_parameters_by_path_passes_options_and_filters(self, ssm):
        filters = [{"Key": "Type", "Option": "Equals", "Values": ["SecureString"]}]
        ssm.by_path("/app", [], recursive=False, decrypt=False, filters=filters)

        assert ps.get_parameters_by_path(ssm.client, "/app", recursive=False, decrypt=False, filters=filters) == []

    def test_get_parameters_by_path_denied(self):
        client = MagicMock()
        client.get_paginator.return_value.paginate.side_effect = client_error("AccessDeniedException", "GetParametersByPath")

        with pytest.raises(AnsibleSSMError) as raised:
            ps.get_parameters_by_path(client, "/app")
        assert raised.value.iam_action == "ssm:GetParametersByPath"

    def test_describe_parameters_by_name_in_batches_of_fifty(self, ssm):
        wanted = names(120, "/app/n")
        for start in (0, 50, 100):
            batch = wanted[start:start + 50]
            ssm.describe([{"Key": "Name", "Option": "Equals", "Values": batch}], [metadata(name) for name in batch])

        result = ps.describe_parameters_by_name(ssm.client, wanted)

        assert sorted(result) == wanted
        assert [len(p["ParameterFilters"][0]["Values"]) for p in ssm.params("DescribeParameters")] == [50, 50, 20]

    def test_describe_parameters_follows_pages(self, ssm):
        filters = [{"Key": "Path", "Option": "Recursive", "Values": ["/app"]}]
        ssm.describe(filters, [metadata("/app/a")], next_token="n")
        ssm.describe(filters, [metadata("/app/b")], token="n")

        assert sorted(ps.describe_parameters_under_path(ssm.client, "/app")) == ["/app/a", "/app/b"]

    def test_describe_parameters_under_path_one_level(self, ssm):
        ssm.describe([{"Key": "Path", "Option": "OneLevel", "Values": ["/app"]}], [metadata("/app/a", tier="Advanced")])

        result = ps.describe_parameters_under_path(ssm.client, "/app", recursive=False)

        assert result["/app/a"]["Tier"] == "Advanced"

    def test_history_of_a_missing_parameter_is_none(self, ssm):
        ssm.get_history_missing("/app/key")

        assert ps.get_parameter_history(ssm.client, "/app/key") is None

    def test_history(self, ssm):
        ssm.get_history("/app/key", [history("/app/key", "a", 1), history("/app/key", "b", 2)], decrypt=False)

        assert [item["Value"] for item in ps.get_parameter_history(ssm.client, "/app/key", decrypt=False)] == ["a", "b"]


class TestWrites:
    def test_put_parameter_sends_the_request(self, ssm):
        request = {"Name": "/app/key", "Value": "v", "Type": "String", "Overwrite": True}
        ssm.put(request, version=4)

        assert ps.put_parameter(ssm.client, request)["Version"] == 4

    def test_put_parameter_denied(self):
        client = MagicMock()
        client.put_parameter.side_effect = client_error("AccessDeniedException", "PutParameter", "not allowed")

        with pytest.raises(AnsibleSSMError) as raised:
            ps.put_parameter(client, {"Name": "/app/key", "Value": "v"})

        assert raised.value.error_code == "AccessDeniedException"
        assert raised.value.iam_action == "ssm:PutParameter"
        assert "the caller needs IAM permission for ssm:PutParameter" in str(raised.value)

    def test_put_parameter_retries_throttling(self, monkeypatch):
        sleeps = []
        monkeypatch.setattr(cloud.time, "sleep", sleeps.append)
        client = MagicMock()
        client.put_parameter.side_effect = [client_error("ThrottlingException", "PutParameter"), {"Version": 2}]

        assert ps.put_parameter(client, {"Name": "/app/key", "Value": "v"}) == {"Version": 2}
        assert client.put_parameter.call_count == 2 and len(sleeps) == 1

    def test_delete_parameter(self, ssm):
        ssm.add("delete_parameter", {}, {"Name": "/app/key"})

        assert ps.delete_parameter(ssm.client, "/app/key") is True

    def test_delete_parameter_already_gone(self, ssm):
        ssm.add_error("delete_parameter", "ParameterNotFound", expected={"Name": "/app/key"})

        assert ps.delete_parameter(ssm.client, "/app/key") is False

    def test_delete_parameters_in_batches_of_ten(self, ssm):
        wanted = names(25)
        for start in (0, 10, 20):
            batch = wanted[start:start + 10]
            ssm.add("delete_parameters", {"DeletedParameters": batch}, {"Names": batch})

        assert ps.delete_parameters(ssm.client, wanted) == wanted
        assert [len(p["Names"]) for p in ssm.params("DeleteParameters")] == [10, 10, 5]

    def test_delete_parameters_reports_only_what_was_deleted(self, ssm):
        ssm.add("delete_parameters", {"DeletedParameters": ["/a"], "InvalidParameters": ["/b"]}, {"Names": ["/a", "/b"]})

        assert ps.delete_parameters(ssm.client, ["/a", "/b"]) == ["/a"]

    def test_delete_parameters_nothing_to_do(self, ssm):
        assert ps.delete_parameters(ssm.client, []) == []
        assert ssm.calls == []

    def test_label_parameter_version(self, ssm):
        ssm.add(
            "label_parameter_version",
            {"ParameterVersion": 2},
            {"Name": "/app/key", "ParameterVersion": 2, "Labels": ["blue"]},
        )

        assert ps.label_parameter_version(ssm.client, "/app/key", 2, ["blue"])["ParameterVersion"] == 2

    def test_tags(self, ssm):
        ssm.list_tags("/app/key", {"team": "a", "env": "prod"})
        ssm.add(
            "add_tags_to_resource",
            {},
            {"ResourceType": "Parameter", "ResourceId": "/app/key", "Tags": [{"Key": "team", "Value": "b"}]},
        )
        ssm.add("remove_tags_from_resource", {}, {"ResourceType": "Parameter", "ResourceId": "/app/key", "TagKeys": ["env"]})

        assert _tags.list_tags(ssm.client, ps.RESOURCE_TYPE, "/app/key") == {"team": "a", "env": "prod"}
        _tags.add_tags(ssm.client, ps.RESOURCE_TYPE, "/app/key", {"team": "b"})
        _tags.remove_tags(ssm.client, ps.RESOURCE_TYPE, "/app/key", {"env"})
        assert ssm.operations == ["ListTagsForResource", "AddTagsToResource", "RemoveTagsFromResource"]

    def test_tags_of_a_missing_parameter(self, ssm):
        ssm.add_error("list_tags_for_resource", "InvalidResourceId", expected={"ResourceType": "Parameter", "ResourceId": "/x"})

        assert _tags.list_tags(ssm.client, ps.RESOURCE_TYPE, "/x") == {}


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


class TestValidateName:
    @pytest.mark.parametrize(
        "name",
        [
            "/app/prod/db/host",
            "plain_name",
            "a.b-c_d",
            "/A/b.c/d-e/f_g/0",
            "/" + "/".join(["l"] * 15),
            "/app/awsome",
            "/app/ssm",
            "/" + "a" * 1010,
        ],
    )
    def test_valid(self, name):
        ps.validate_name(name)

    @pytest.mark.parametrize(
        "name, message",
        [
            ("", "Parameter names use only"),
            ("/app/db host", "Parameter names use only"),
            ("/app/db$", "Parameter names use only"),
            ("/app/db:1", "Parameter names use only"),
            ("/app/é", "Parameter names use only"),
            ("app/db", "a hierarchical name must start with '/' (use '/app/db')"),
            ("/app//db", "empty hierarchy level"),
            ("/app/", "empty hierarchy level"),
            ("awsParameter", "may not begin with 'aws' or 'ssm'"),
            ("/aws/reference/x", "may not begin with 'aws' or 'ssm'"),
            ("SSM-param", "may not begin with 'aws' or 'ssm'"),
            ("/ssm/x", "may not begin with 'aws' or 'ssm'"),
            ("/" + "/".join(["l"] * 16), "16 hierarchy levels, AWS allows 15"),
            ("/" + "a" * 1011, "1012 characters long, AWS allows 1011"),
        ],
    )
    def test_invalid(self, name, message):
        with pytest.raises(ParameterValidationError) as raised:
            ps.validate_name(name)
        assert message in str(raised.value)

    def test_validate_path(self):
        ps.validate_path("/")
        ps.validate_path("/app/prod")
        ps.validate_path("/app/prod/")
        for bad in ("", "app/prod", "/aws/x", "/app//x"):
            with pytest.raises(ParameterValidationError):
                ps.validate_path(bad)


class TestJoinValue:
    def test_list_is_comma_joined(self):
        assert ps.join_value("/n", ["a", "b", 3]) == "a,b,3"
        assert ps.join_value("/n", ("x",)) == "x"

    def test_element_with_a_comma_is_refused(self):
        with pytest.raises(ParameterValidationError) as raised:
            ps.join_value("/app/list", ["ok", "not,ok"])
        assert "Parameter /app/list: StringList element 'not,ok' contains a comma" in str(raised.value)

    @pytest.mark.parametrize("value, expected", [(True, "true"), (False, "false"), (5432, "5432"), (1.5, "1.5"), ("s", "s"), (None, None)])
    def test_scalars(self, value, expected):
        assert ps.join_value("/n", value) == expected


class TestPolicies:
    def test_build_all_types(self):
        built = ps.build_policies(
            "/n",
            [
                {"type": "Expiration", "timestamp": "2027-06-30T00:00:00Z"},
                {"type": "ExpirationNotification", "before": 7, "unit": "Days"},
                {"type": "NoChangeNotification", "after": 20, "unit": "Hours"},
            ],
        )

        assert built == [
            {"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": "2027-06-30T00:00:00.000Z"}},
            {"Type": "ExpirationNotification", "Version": "1.0", "Attributes": {"Before": "7", "Unit": "Days"}},
            {"Type": "NoChangeNotification", "Version": "1.0", "Attributes": {"After": "20", "Unit": "Hours"}},
        ]

    @pytest.mark.parametrize(
        "timestamp",
        ["2027-06-30T00:00:00Z", "2027-06-30T02:00:00+02:00", "2027-06-30T00:00:00", "2027-06-30 00:00:00.000+00:00"],
    )
    def test_timestamps_are_normalised_to_utc(self, timestamp):
        built = ps.build_policies("/n", [{"type": "Expiration", "timestamp": timestamp}])

        assert built[0]["Attributes"]["Timestamp"] == "2027-06-30T00:00:00.000Z"

    def test_none_and_empty(self):
        assert ps.build_policies("/n", None) is None
        assert ps.build_policies("/n", []) == []

    def test_unknown_type(self):
        with pytest.raises(ParameterValidationError, match="unknown policy type 'Rotation'"):
            ps.build_policies("/n", [{"type": "Rotation"}])

    @pytest.mark.parametrize(
        "policy, missing",
        [
            ({"type": "Expiration"}, "timestamp"),
            ({"type": "ExpirationNotification", "unit": "Days"}, "before"),
            ({"type": "NoChangeNotification"}, "after and unit"),
        ],
    )
    def test_missing_attributes(self, policy, missing):
        with pytest.raises(ParameterValidationError, match=f"policy needs {missing}"):
            ps.build_policies("/n", [policy])

    def test_order_and_format_do_not_count(self):
        built = ps.build_policies(
            "/n",
            [
                {"type": "ExpirationNotification", "before": 7, "unit": "Days"},
                {"type": "Expiration", "timestamp": "2027-06-30T02:00:00+02:00"},
            ],
        )
        from_aws = [
            policy_text("Expiration", Timestamp="2027-06-30T00:00:00.000Z"),
            policy_text("ExpirationNotification", Before="7", Unit="Days"),
        ]

        assert ps.normalise_policies(built) == ps.normalise_policies(from_aws)

    def test_different_policies_differ(self):
        built = ps.build_policies("/n", [{"type": "ExpirationNotification", "before": 8, "unit": "Days"}])

        assert ps.normalise_policies(built) != ps.normalise_policies([policy_text("ExpirationNotification", Before="7", Unit="Days")])

    def test_policies_to_ansible(self):
        result = ps.policies_to_ansible(
            [policy_text("NoChangeNotification", After="3", Unit="Days"), policy_text("Expiration", Timestamp="2027-06-30T00:00:00Z")]
        )

        assert sorted(result, key=lambda item: item["type"]) == [
            {"type": "Expiration", "timestamp": "2027-06-30T00:00:00.000Z"},
            {"type": "NoChangeNotification", "after": 3, "unit": "Days"},
        ]


class TestDesiredParameter:
    def test_unset_options_are_none(self):
        assert desired(value="v") == {
            "Name": "/app/key",
            "Value": "v",
            "Type": None,
            "KeyId": None,
            "Tier": None,
            "DataType": None,
            "AllowedPattern": None,
            "Description": None,
            "Policies": None,
        }

    def test_a_list_makes_a_string_list(self):
        assert desired(value=["a", "b"])["Type"] == "StringList"
        assert desired(value=["a", "b"], type="SecureString")["Type"] == "SecureString"

    def test_invalid_name_is_refused(self):
        with pytest.raises(ParameterValidationError, match="may not begin with 'aws'"):
            desired("/aws/x", value="v")

    def test_string_list_element_with_a_comma(self):
        with pytest.raises(ParameterValidationError, match="contains a comma"):
            desired(value=["a,b"])

    def test_empty_value(self):
        with pytest.raises(ParameterValidationError, match="AWS does not store an empty value"):
            desired(value="")
        with pytest.raises(ParameterValidationError, match="AWS does not store an empty value"):
            desired(value=[])

    def test_description_limit(self):
        assert desired(description="d" * 1024)["Description"] == "d" * 1024
        with pytest.raises(ParameterValidationError, match="1025 characters, AWS allows 1024"):
            desired(description="d" * 1025)

    def test_key_id_needs_secure_string(self):
        assert desired(value="v", type="SecureString", key_id="alias/k")["KeyId"] == "alias/k"
        with pytest.raises(ParameterValidationError, match="key_id applies only to type SecureString"):
            desired(value="v", type="String", key_id="alias/k")


class TestCheckTier:
    def test_standard_value_over_4096_bytes_suggests_advanced(self):
        with pytest.raises(ParameterValidationError) as raised:
            ps.check_tier(desired(value="x" * 4097), None)

        message = str(raised.value)
        assert "the value is 4097 bytes, over the 4096-byte limit of the Standard tier" in message
        assert "set tier: Advanced" in message

    def test_limit_counts_bytes_not_characters(self):
        with pytest.raises(ParameterValidationError, match="4098 bytes"):
            ps.check_tier(desired(value="é" * 2049), None)

    def test_exactly_4096_bytes_fit(self):
        ps.check_tier(desired(value="x" * 4096, tier="Standard"), None)

    def test_advanced_and_intelligent_tiering_hold_8192_bytes(self):
        ps.check_tier(desired(value="x" * 8192, tier="Advanced"), None)
        ps.check_tier(desired(value="x" * 5000, tier="Intelligent-Tiering"), None)
        with pytest.raises(ParameterValidationError, match="at most 8 KB.*S3"):
            ps.check_tier(desired(value="x" * 8193, tier="Advanced"), None)

    def test_an_unset_tier_keeps_the_current_one(self):
        ps.check_tier(desired(value="x" * 5000), current(tier="Advanced"))
        with pytest.raises(ParameterValidationError, match="Standard tier"):
            ps.check_tier(desired(value="x" * 5000), current(tier="Standard"))

    def test_an_unset_value_is_checked_as_the_current_one(self):
        with pytest.raises(ParameterValidationError, match="5000 bytes"):
            ps.check_tier(desired(tier="Standard"), current(value="x" * 5000, tier="Standard"))
        ps.check_tier(desired(description="d"), None)

    def test_policies_need_a_higher_tier(self):
        policies = [{"type": "Expiration", "timestamp": "2027-01-01T00:00:00Z"}]
        with pytest.raises(ParameterValidationError, match="policies need tier Advanced or Intelligent-Tiering"):
            ps.check_tier(desired(value="v", policies=policies), None)
        with pytest.raises(ParameterValidationError, match="policies need tier"):
            ps.check_tier(desired(value="v", policies=policies), current(tier="Standard"))
        ps.check_tier(desired(value="v", policies=policies), current(tier="Advanced"))
        ps.check_tier(desired(value="v", policies=policies, tier="Intelligent-Tiering"), None)

    def test_advanced_to_standard_is_refused(self):
        with pytest.raises(ParameterValidationError, match="is in the Advanced tier and AWS cannot move it back to Standard"):
            ps.check_tier(desired(value="old", tier="Standard"), current(tier="Advanced"))

    def test_standard_is_fine_for_a_standard_or_new_parameter(self):
        ps.check_tier(desired(value="old", tier="Standard"), current(tier="Standard"))
        ps.check_tier(desired(value="old", tier="Standard"), None)

    def test_removing_policies_is_fine_in_standard(self):
        ps.check_tier(desired(value="v", policies=[]), current(tier="Standard"))


# ---------------------------------------------------------------------------------------------
# Current state and comparison
# ---------------------------------------------------------------------------------------------


class TestCurrentState:
    def test_current_from_history_takes_the_newest_version(self):
        versions = [history("/app/key", "v3", 3, labels=["blue"]), history("/app/key", "v1", 1), history("/app/key", "v2", 2)]

        state = ps.current_from_history(versions, parameter("/app/key", "v3", 3))

        assert state["Value"] == "v3" and state["Version"] == 3 and state["Labels"] == ["blue"]
        assert state["ARN"] == "arn:aws:ssm:us-east-1:123456789012:parameter/app/key"
        assert state["Policies"] == []

    def test_current_from_history_empty(self):
        assert ps.current_from_history([]) is None
        assert ps.current_from_history(None) is None

    def test_current_from_path(self):
        item = parameter("/app/key", "v", 2, "SecureString")

        plain = ps.current_from_path(item)
        assert plain["Value"] == "v" and plain["Type"] == "SecureString"
        assert "Tier" not in plain and "Policies" not in plain

        full = ps.current_from_path(item, metadata("/app/key", 2, "SecureString", tier="Advanced", Description="d"))
        assert full["Tier"] == "Advanced" and full["KeyId"] == "alias/aws/ssm" and full["Description"] == "d"
        assert full["Policies"] == []


class TestCompareParameter:
    def test_new_parameter(self):
        assert ps.compare_parameter(desired(value="v"), None) == ["Name"]

    def test_same_value(self):
        assert ps.compare_parameter(desired(value="old"), current()) == []

    def test_unset_attributes_are_not_drift(self):
        existing = current(tier="Advanced", Description="kept", AllowedPattern="^.*$")

        assert ps.compare_parameter(desired(value="old"), existing) == []

    def test_every_set_attribute_is_compared(self):
        wanted = desired(value="new", data_type="aws:ec2:image", allowed_pattern="^n", description="d", tier="Advanced")

        assert ps.compare_parameter(wanted, current()) == ["Value", "DataType", "AllowedPattern", "Description", "Tier"]

    @pytest.mark.parametrize("before, after", [("String", "SecureString"), ("SecureString", "String"), ("StringList", "SecureString")])
    def test_secure_string_change_is_refused(self, before, after):
        with pytest.raises(ParameterValidationError) as raised:
            ps.compare_parameter(desired(value="old", type=after), current(type=before))

        assert f"is {before}; changing it to {after}" in str(raised.value)
        assert "allow_secure_string_change: true" in str(raised.value)

    def test_secure_string_change_when_allowed(self):
        assert ps.compare_parameter(desired(value="old", type="SecureString"), current(), allow_secure_string_change=True) == ["Type"]

    def test_key_id_without_a_type_on_a_string_is_refused(self):
        # Never sent for a String, so it would be reported as a change on every run.
        with pytest.raises(ParameterValidationError, match="/app/key is String: key_id applies only to type SecureString"):
            ps.compare_parameter(desired(value="old", key_id="alias/k"), current())
        with pytest.raises(ParameterValidationError, match="is StringList: key_id applies only to type SecureString"):
            ps.compare_parameter(desired(value="old", key_id="alias/k"), current(type="StringList"))

    def test_key_id_without_a_type_on_a_new_parameter_is_refused(self):
        # A new parameter without a type is a String: the key would be dropped silently.
        with pytest.raises(ParameterValidationError, match="/app/key would be String: key_id applies only to type SecureString"):
            ps.compare_parameter(desired(value="v", key_id="alias/k"), None)
        assert ps.compare_parameter(desired(value="v", type="SecureString", key_id="alias/k"), None) == ["Name"]

    def test_key_id_without_a_type_on_a_secure_string_is_compared(self):
        existing = current(type="SecureString")

        assert ps.compare_parameter(desired(value="old", key_id="alias/aws/ssm"), existing) == []
        assert ps.compare_parameter(desired(value="old", key_id="alias/k"), existing) == ["KeyId"]

    def test_key_id_with_the_move_to_secure_string(self):
        wanted = desired(value="old", type="SecureString", key_id="alias/k")

        assert ps.compare_parameter(wanted, current(), allow_secure_string_change=True) == ["Type", "KeyId"]

    def test_other_type_changes_need_no_permission(self):
        assert ps.compare_parameter(desired(value="old", type="StringList"), current()) == ["Type"]

    def test_tier_changes(self):
        assert ps.compare_parameter(desired(value="old", tier="Advanced"), current()) == ["Tier"]
        assert ps.compare_parameter(desired(value="old", tier="Standard"), current()) == []
        assert ps.compare_parameter(desired(value="old", tier="Intelligent-Tiering"), current()) == []
        assert ps.compare_parameter(desired(value="old", tier="Intelligent-Tiering"), current(tier="Advanced")) == []

    def test_policies_order_and_format_do_not_count(self):
        existing = current(
            tier="Advanced",
            policies=[
                policy_text("ExpirationNotification", Before="7", Unit="Days"),
                policy_text("Expiration", Timestamp="2027-06-30T00:00:00.000Z"),
            ],
        )
        wanted = desired(
            value="old",
            policies=[
                {"type": "Expiration", "timestamp": "2027-06-30T00:00:00Z"},
                {"type": "ExpirationNotification", "before": 7, "unit": "Days"},
            ],
        )

        assert ps.compare_parameter(wanted, existing) == []

    def test_changed_or_removed_policies(self):
        existing = current(tier="Advanced", policies=[policy_text("ExpirationNotification", Before="7", Unit="Days")])

        changed = desired(value="old", policies=[{"type": "ExpirationNotification", "before": 1, "unit": "Days"}])
        assert ps.compare_parameter(changed, existing) == ["Policies"]
        assert ps.compare_parameter(desired(value="old", policies=[]), existing) == ["Policies"]
        assert ps.compare_parameter(desired(value="old", policies=[]), current()) == []
        assert ps.compare_parameter(desired(value="old"), existing) == []


class TestPutRequest:
    def test_new_parameter(self):
        request = ps.put_request(desired(value="v"), None, {"team": "a"})

        assert request == {"Name": "/app/key", "Value": "v", "Type": "String", "Tags": [{"Key": "team", "Value": "a"}]}

    def test_new_parameter_without_tags(self):
        assert "Tags" not in ps.put_request(desired(value="v"), None, {})

    def test_update_resends_what_the_user_left_unset(self):
        existing = current(
            tier="Advanced",
            Description="kept",
            AllowedPattern="^.*$",
            policies=[policy_text("ExpirationNotification", Before="7", Unit="Days")],
        )

        request = ps.put_request(desired(value="new"), existing, {"ignored": "on update"})

        assert request["Overwrite"] is True
        assert request["Value"] == "new"
        assert request["Type"] == "String"
        assert request["Tier"] == "Advanced"
        assert request["Description"] == "kept"
        assert request["AllowedPattern"] == "^.*$"
        assert request["DataType"] == "text"
        assert json.loads(request["Policies"]) == [
            {"Type": "ExpirationNotification", "Version": "1.0", "Attributes": {"Before": "7", "Unit": "Days"}}
        ]
        assert "Tags" not in request
        assert "KeyId" not in request

    def test_update_of_a_secure_string_keeps_its_key(self):
        existing = current(type="SecureString", KeyId="alias/app")

        assert ps.put_request(desired(description="d"), existing)["KeyId"] == "alias/app"
        assert ps.put_request(desired(description="d", key_id="alias/other", type="SecureString"), existing)["KeyId"] == "alias/other"

    def test_no_key_when_leaving_secure_string(self):
        request = ps.put_request(desired(value="v", type="String"), current(type="SecureString", KeyId="alias/app"))

        assert request["Type"] == "String" and "KeyId" not in request

    def test_no_current_key_when_entering_secure_string(self):
        assert "KeyId" not in ps.put_request(desired(type="SecureString"), current(KeyId="alias/stale"))

    def test_removing_policies_sends_an_empty_list(self):
        existing = current(tier="Advanced", policies=[policy_text("Expiration", Timestamp="2027-01-01T00:00:00.000Z")])

        assert ps.put_request(desired(value="v", policies=[]), existing)["Policies"] == "[]"
        assert "Policies" not in ps.put_request(desired(value="v", policies=[]), current())

    def test_the_request_passes_botocore_validation(self, ssm):
        existing = current(type="SecureString", tier="Advanced", Description="d",
                           policies=[policy_text("Expiration", Timestamp="2027-01-01T00:00:00.000Z")])
        request = ps.put_request(desired(value="new"), existing)
        ssm.put(request, version=2, tier="Advanced")

        assert ps.put_parameter(ssm.client, request)["Version"] == 2


class TestPredictParameter:
    def test_new_parameter(self):
        request = ps.put_request(desired(value="v"), None)

        predicted = ps.predict_parameter(request, None)

        assert predicted["Version"] == 1
        assert predicted["Tier"] == "Standard"
        assert predicted["DataType"] == "text"
        assert predicted["Labels"] == []

    def test_update_is_the_next_version_without_labels(self):
        existing = current(version=6, labels=["blue"], tier="Advanced", Description="kept")

        predicted = ps.predict_parameter(ps.put_request(desired(value="new"), existing), existing)

        assert predicted["Version"] == 7
        assert predicted["Value"] == "new"
        assert predicted["Tier"] == "Advanced" and predicted["Description"] == "kept"
        assert predicted["Labels"] == []
        assert "Overwrite" not in predicted

    def test_intelligent_tiering(self):
        small = ps.predict_parameter(ps.put_request(desired(value="v", tier="Intelligent-Tiering"), None), None)
        large = ps.predict_parameter(ps.put_request(desired(value="x" * 4097, tier="Intelligent-Tiering"), None), None)
        policies = [{"type": "Expiration", "timestamp": "2027-01-01T00:00:00Z"}]
        with_policies = ps.predict_parameter(
            ps.put_request(desired(value="v", tier="Intelligent-Tiering", policies=policies), None), None
        )

        assert small["Tier"] == "Standard"
        assert large["Tier"] == "Advanced"
        assert with_policies["Tier"] == "Advanced"
        assert ps.policies_to_ansible(with_policies["Policies"]) == [{"type": "Expiration", "timestamp": "2027-01-01T00:00:00.000Z"}]

    def test_secure_string_default_key(self):
        predicted = ps.predict_parameter(ps.put_request(desired(value="v", type="SecureString"), None), None)

        assert predicted["KeyId"] == "alias/aws/ssm"
        keyed = ps.predict_parameter(ps.put_request(desired(value="v", type="SecureString", key_id="alias/k"), None), None)
        assert keyed["KeyId"] == "alias/k"

    def test_no_key_after_leaving_secure_string(self):
        existing = current(value="v1", type="SecureString", KeyId="alias/app")

        predicted = ps.predict_parameter(ps.put_request(desired(value="v1", type="String"), existing), existing)

        assert predicted["Type"] == "String"
        assert "KeyId" not in predicted
        assert existing["KeyId"] == "alias/app"

    def test_a_secure_string_update_keeps_its_key(self):
        existing = current(type="SecureString", KeyId="alias/app")

        predicted = ps.predict_parameter(ps.put_request(desired(value="new"), existing), existing)

        assert predicted["Type"] == "SecureString" and predicted["KeyId"] == "alias/app"


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------


class TestOutput:
    def test_describe_for_result_never_holds_the_value(self):
        state = ps.current_from_history(
            [history("/app/key", "top-secret", 2, "SecureString", labels=["b", "a"],
                     policies=[policy_text("ExpirationNotification", Before="7", Unit="Days")])],
            parameter("/app/key", "top-secret", 2, "SecureString"),
        )

        result = ps.describe_for_result(state, {"team": "a"})

        assert "top-secret" not in json.dumps(result)
        assert result == {
            "name": "/app/key",
            "arn": "arn:aws:ssm:us-east-1:123456789012:parameter/app/key",
            "type": "SecureString",
            "version": 2,
            "tier": "Standard",
            "data_type": "text",
            "key_id": "alias/aws/ssm",
            "description": None,
            "allowed_pattern": None,
            "policies": [{"type": "ExpirationNotification", "before": 7, "unit": "Days"}],
            "labels": ["a", "b"],
            "last_modified_date": WHEN.isoformat(),
            "last_modified_user": "arn:aws:iam::123456789012:user/deployer",
            "tags": {"team": "a"},
        }

    def test_describe_for_result_without_tags_or_state(self):
        assert "tags" not in ps.describe_for_result(current())
        assert ps.describe_for_result(None) == {}

    def test_diff_masks_secure_strings(self):
        state = current(value="top-secret", type="SecureString")

        before = ps.describe_for_diff(state)
        after = ps.describe_for_diff(state, value_changed=True)

        assert before["value"] == "********"
        assert after["value"] == "******** (changed)"
        assert "top-secret" not in json.dumps([before, after])

    def test_diff_shows_plain_values_and_only_managed_attributes(self):
        diff = ps.describe_for_diff(current(value="plain", Description="d"), {"team": "a"})

        assert diff == {"name": "/app/key", "type": "String", "tier": "Standard", "data_type": "text",
                        "description": "d", "tags": {"team": "a"}, "value": "plain"}

    def test_diff_of_nothing(self):
        assert ps.describe_for_diff(None) == {}

    def test_isoformat(self):
        assert ps.isoformat(datetime.datetime(2026, 1, 2, tzinfo=datetime.timezone.utc)) == "2026-01-02T00:00:00+00:00"
        assert ps.isoformat("already text") == "already text"
        assert ps.isoformat(None) is None


def test_client_errors_are_never_swallowed_by_the_read_helpers():
    client = MagicMock()
    client.get_paginator.return_value.paginate.return_value.build_full_result.side_effect = botocore.exceptions.ClientError(
        {"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetParameterHistory"
    )

    with pytest.raises(AnsibleSSMError) as raised:
        ps.get_parameter_history(client, "/app/key")
    assert raised.value.iam_action == "ssm:GetParameterHistory"
