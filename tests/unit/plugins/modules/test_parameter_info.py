# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.fleetops.ssm.plugins.module_utils._errors import ParameterValidationError
from ansible_collections.fleetops.ssm.plugins.modules import parameter_info as module
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import CIPHERTEXT
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import WHEN
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import arn
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import history
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import metadata
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import parameter
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import policy_text


def params(**overrides):
    result = dict(
        names=None,
        path=None,
        recursive=True,
        parameter_filters=None,
        include_values=False,
        decrypt=False,
        include_tags=False,
        history=False,
    )
    result.update(overrides)
    return result


def name_filter(names):
    return [{"Key": "Name", "Option": "Equals", "Values": list(names)}]


def test_boto3_filters():
    filters = [
        {"key": "Type", "option": "Equals", "values": ["SecureString"]},
        {"key": "tag:team", "option": None, "values": None},
    ]

    assert module.boto3_filters(filters) == [
        {"Key": "Type", "Option": "Equals", "Values": ["SecureString"]},
        {"Key": "tag:team"},
    ]
    assert module.boto3_filters(None) == []


class TestRead:
    def test_names_in_batches_of_ten(self, ssm):
        wanted = [f"/app/k{index:02d}" for index in range(12)]
        ssm.add("get_parameters", {"Parameters": [parameter(name, "v") for name in wanted[:10]]},
                {"Names": wanted[:10], "WithDecryption": False})
        ssm.add("get_parameters", {"Parameters": [parameter(wanted[10], "v")], "InvalidParameters": [wanted[11]]},
                {"Names": wanted[10:], "WithDecryption": False})
        ssm.describe(name_filter(wanted[:11]), [metadata(name) for name in wanted[:11]])

        found, missing = module.read(ssm.client, params(names=wanted))

        assert missing == [wanted[11]]
        assert [item["Name"] for item, _metadata in found] == wanted[:11]
        assert all(meta["Tier"] == "Standard" for _item, meta in found)
        assert ssm.operations == ["GetParameters", "GetParameters", "DescribeParameters"]

    def test_describe_filter_names_are_sorted(self, ssm):
        wanted = ["/app/c", "/app/a", "/app/b"]
        ssm.add("get_parameters", {"Parameters": [parameter(name, "v") for name in wanted]},
                {"Names": wanted, "WithDecryption": False})
        ssm.describe(name_filter(["/app/a", "/app/b", "/app/c"]), [metadata(name) for name in wanted])

        found, missing = module.read(ssm.client, params(names=wanted))

        assert sorted(item["Name"] for item, _metadata in found) == ["/app/a", "/app/b", "/app/c"]
        assert missing == []

    def test_selector_and_arn_terms(self, ssm):
        wanted = ["/app/b:2", "/app/a:live", arn("/app/c"), "/app/b:9"]
        ssm.add("get_parameters", {"Parameters": [
            dict(parameter("/app/a", "A", 5), Selector=":live"),
            dict(parameter("/app/b", "B", 2), Selector=":2"),
            parameter("/app/c", "C", 1),
        ], "InvalidParameters": ["/app/b:9"]}, {"Names": wanted, "WithDecryption": False})
        # Metadata is described by the bare names, once each.
        ssm.describe(name_filter(["/app/a", "/app/b", "/app/c"]),
                     [metadata("/app/a", 5, tier="Advanced"), metadata("/app/b", 3), metadata("/app/c")])

        found, missing = module.read(ssm.client, params(names=wanted))

        assert sorted((item["Name"], item["Version"], meta["Name"]) for item, meta in found) == [
            ("/app/a", 5, "/app/a"), ("/app/b", 2, "/app/b"), ("/app/c", 1, "/app/c"),
        ]
        assert {item["Name"]: meta["Tier"] for item, meta in found}["/app/a"] == "Advanced"
        assert missing == ["/app/b:9"]

    def test_two_terms_of_one_parameter_describe_it_once(self, ssm):
        wanted = ["/app/a", "/app/a:1"]
        ssm.add("get_parameters", {"Parameters": [parameter("/app/a", "A2", 2), dict(parameter("/app/a", "A1", 1), Selector=":1")]},
                {"Names": wanted, "WithDecryption": False})
        ssm.describe(name_filter(["/app/a"]), [metadata("/app/a", 2)])

        found, missing = module.read(ssm.client, params(names=wanted))

        assert sorted(item["Version"] for item, _metadata in found) == [1, 2]
        assert missing == []

    def test_names_of_which_none_exist_make_no_describe_call(self, ssm):
        ssm.add("get_parameters", {"Parameters": [], "InvalidParameters": ["/nope"]}, {"Names": ["/nope"], "WithDecryption": True})

        assert module.read(ssm.client, params(names=["/nope"], decrypt=True)) == ([], ["/nope"])
        assert ssm.operations == ["GetParameters"]

    def test_path(self, ssm):
        filters = [{"Key": "Type", "Option": "Equals", "Values": ["String"]}]
        ssm.by_path("/app", [parameter("/app/a", "1")], recursive=False, decrypt=False, filters=filters)
        ssm.describe([{"Key": "Path", "Option": "OneLevel", "Values": ["/app"]}], [metadata("/app/a", tier="Advanced")])

        found, missing = module.read(ssm.client, params(path="/app", recursive=False,
                                                        parameter_filters=[{"key": "Type", "option": "Equals", "values": ["String"]}]))

        assert missing == []
        assert found[0][0]["Name"] == "/app/a" and found[0][1]["Tier"] == "Advanced"

    def test_empty_path_makes_no_describe_call(self, ssm):
        ssm.by_path("/app", [], decrypt=False)

        assert module.read(ssm.client, params(path="/app")) == ([], [])
        assert ssm.operations == ["GetParametersByPath"]

    def test_invalid_path_is_refused_before_any_call(self, ssm):
        with pytest.raises(ParameterValidationError, match="must start with '/'"):
            module.read(ssm.client, params(path="app"))
        assert ssm.calls == []

    def test_filters_only_list_with_describe(self, ssm):
        ssm.describe([{"Key": "tag:team", "Values": ["payments"]}], [metadata("/app/a")])

        found, missing = module.read(ssm.client, params(parameter_filters=[{"key": "tag:team", "option": None, "values": ["payments"]}]))

        assert found == [(None, metadata("/app/a"))] and missing == []


class TestDescribe:
    def test_metadata_without_values(self, ssm):
        result = module.describe(
            ssm.client,
            parameter("/app/a", "secret-value", 4, "SecureString"),
            metadata("/app/a", 4, "SecureString", tier="Advanced", Description="d",
                     policies=[policy_text("ExpirationNotification", Before="7", Unit="Days")]),
            params(),
        )

        assert result == {
            "name": "/app/a",
            "arn": "arn:aws:ssm:us-east-1:123456789012:parameter/app/a",
            "type": "SecureString",
            "version": 4,
            "tier": "Advanced",
            "data_type": "text",
            "key_id": "alias/aws/ssm",
            "description": "d",
            "policies": [{"type": "ExpirationNotification", "before": 7, "unit": "Days"}],
            "last_modified_date": WHEN.isoformat(),
            "last_modified_user": "arn:aws:iam::123456789012:user/deployer",
        }
        assert ssm.calls == []

    def test_values_tags_and_history(self, ssm):
        ssm.list_tags("/app/a", {"team": "a"})
        ssm.get_history("/app/a", [history("/app/a", "two", 2, labels=["live"]), history("/app/a", "one", 1, Description="first")],
                        decrypt=False)

        result = module.describe(ssm.client, parameter("/app/a", "two", 2), metadata("/app/a", 2),
                                 params(include_values=True, include_tags=True, history=True))

        assert result["value"] == "two"
        assert result["policies"] == []
        assert result["tags"] == {"team": "a"}
        assert result["history"] == [
            {"version": 1, "labels": [], "type": "String", "last_modified_date": WHEN.isoformat(),
             "last_modified_user": "arn:aws:iam::123456789012:user/deployer", "description": "first", "value": "one"},
            {"version": 2, "labels": ["live"], "type": "String", "last_modified_date": WHEN.isoformat(),
             "last_modified_user": "arn:aws:iam::123456789012:user/deployer", "value": "two"},
        ]

    def test_history_without_values(self, ssm):
        ssm.get_history("/app/a", [history("/app/a", "one", 1)], decrypt=True)

        result = module.describe(ssm.client, None, metadata("/app/a"), params(history=True, decrypt=True))

        assert "value" not in result and "value" not in result["history"][0]


class TestMain:
    def test_by_names(self, ssm, run_module):
        ssm.add("get_parameters", {"Parameters": [parameter("/app/b", "B"), parameter("/app/a", "A")],
                                   "InvalidParameters": ["/app/gone"]},
                {"Names": ["/app/a", "/app/b", "/app/gone"], "WithDecryption": False})
        ssm.describe(name_filter(["/app/a", "/app/b"]), [metadata("/app/a"), metadata("/app/b")])

        run = run_module(module.main, {"names": ["/app/a", "/app/b", "/app/gone"], "_ansible_check_mode": True}, ssm.client)

        assert run.rc == 0 and run.result["changed"] is False
        assert [item["name"] for item in run.result["parameters"]] == ["/app/a", "/app/b"]
        assert run.result["missing"] == ["/app/gone"]
        assert all("value" not in item for item in run.result["parameters"])

    def test_by_names_with_a_version_selector(self, ssm, run_module):
        ssm.add("get_parameters", {"Parameters": [dict(parameter("/app/a", "A", 3), Selector=":3")]},
                {"Names": ["/app/z", "/app/a:3"], "WithDecryption": False})
        ssm.describe(name_filter(["/app/a"]), [metadata("/app/a", 4)])

        run = run_module(module.main, {"names": ["/app/z", "/app/a:3"]}, ssm.client)

        assert run.rc == 0
        assert [(item["name"], item["version"]) for item in run.result["parameters"]] == [("/app/a", 3)]
        assert run.result["missing"] == ["/app/z"]

    def test_values_only_when_asked(self, ssm, run_module):
        ssm.by_path("/app", [parameter("/app/pw", CIPHERTEXT, 1, "SecureString")], decrypt=False)
        ssm.describe([{"Key": "Path", "Option": "Recursive", "Values": ["/app"]}], [metadata("/app/pw", 1, "SecureString")])

        run = run_module(module.main, {"path": "/app", "include_values": True}, ssm.client)

        assert run.result["parameters"][0]["value"] == CIPHERTEXT

    def test_names_and_path_are_mutually_exclusive(self, ssm, run_module):
        run = run_module(module.main, {"names": ["/a"], "path": "/a"}, ssm.client)

        assert run.rc == 1 and "mutually exclusive" in run.result["msg"]
        assert ssm.calls == []

    def test_access_denied(self, ssm, run_module):
        ssm.add_error("get_parameters", "AccessDeniedException", "not allowed")

        run = run_module(module.main, {"names": ["/app/a"]}, ssm.client)

        assert run.rc == 1
        assert run.result["iam_action"] == "ssm:GetParameters"
        assert "the caller needs IAM permission for ssm:GetParameters" in run.result["msg"]
