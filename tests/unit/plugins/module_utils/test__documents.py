# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import hashlib
import json
from unittest.mock import MagicMock

import pytest
import yaml

from ansible_collections.fleetops.ssm.plugins.module_utils import _documents as dm
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import client_error

STEP = {"action": "aws:runShellScript", "name": "run", "inputs": {"runCommand": ["echo hi"]}}
DOC = {"schemaVersion": "2.2", "description": "Say hi", "parameters": {"msg": {"type": "String", "default": "hi"}},
       "mainSteps": [STEP]}
YAML_TEXT = """\
# a comment AWS keeps
mainSteps:
  - name: run
    inputs:
      runCommand: [echo hi]
    action: aws:runShellScript
parameters:
  msg: {default: hi, type: String}
description: Say hi
schemaVersion: '2.2'
"""
CALENDAR = "BEGIN:VCALENDAR\r\nPRODID:-//AWS//Change Calendar 1.0//EN\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"


def description(**extra):
    item = {"Name": "doc", "DocumentVersion": "1", "LatestVersion": "1", "DefaultVersion": "1", "Status": "Active",
            "DocumentType": "Command", "DocumentFormat": "JSON"}
    item.update(extra)
    return item


class TestApiCalls:
    def test_version_arguments(self):
        assert dm.version_arguments() == {}
        assert dm.version_arguments("3") == {"DocumentVersion": "3"}
        assert dm.version_arguments("$LATEST") == {"DocumentVersion": "$LATEST"}
        assert dm.version_arguments("$DEFAULT") == {"DocumentVersion": "$DEFAULT"}
        assert dm.version_arguments("release-1") == {"VersionName": "release-1"}
        assert dm.version_arguments("0") == {"VersionName": "0"}
        assert dm.version_arguments(None, "v2") == {"VersionName": "v2"}

    def test_describe_document_missing_is_none(self):
        client = MagicMock()
        client.describe_document.side_effect = client_error("InvalidDocument", "DescribeDocument")
        assert dm.describe_document(client, "doc") is None

    def test_describe_document_by_version_name(self):
        client = MagicMock()
        client.describe_document.return_value = {"Document": description()}
        assert dm.describe_document(client, "doc", "release-1") == description()
        client.describe_document.assert_called_once_with(Name="doc", VersionName="release-1")

    def test_describe_document_access_denied_names_the_action(self):
        client = MagicMock()
        client.describe_document.side_effect = client_error("AccessDeniedException", "DescribeDocument", "no")
        with pytest.raises(AnsibleSSMError) as raised:
            dm.describe_document(client, "doc")
        assert raised.value.error_code == "AccessDeniedException"
        assert "ssm:DescribeDocument" in str(raised.value)

    def test_bad_version_is_an_error_not_a_missing_document(self):
        client = MagicMock()
        client.describe_document.side_effect = client_error("InvalidDocumentVersion", "DescribeDocument")
        with pytest.raises(AnsibleSSMError):
            dm.describe_document(client, "doc", "7")

    def test_get_document_with_format(self, ssm):
        ssm.add("get_document", {"Name": "doc", "Content": "{}", "DocumentFormat": "YAML", "DocumentVersion": "2"},
                {"Name": "doc", "DocumentVersion": "2", "DocumentFormat": "YAML"})
        assert dm.get_document(ssm.client, "doc", "2", "YAML")["DocumentFormat"] == "YAML"

    def test_list_document_versions_pages(self, ssm):
        first = {"Name": "doc", "DocumentVersion": "2", "IsDefaultVersion": False}
        second = {"Name": "doc", "DocumentVersion": "1", "IsDefaultVersion": True}
        ssm.add("list_document_versions", {"DocumentVersions": [first], "NextToken": "t"}, {"Name": "doc", "MaxResults": 50})
        ssm.add("list_document_versions", {"DocumentVersions": [second]}, {"Name": "doc", "MaxResults": 50, "NextToken": "t"})
        assert dm.list_document_versions(ssm.client, "doc") == [first, second]

    def test_list_document_versions_missing_is_none(self, ssm):
        ssm.add_error("list_document_versions", "InvalidDocument")
        assert dm.list_document_versions(ssm.client, "doc") is None

    def test_list_documents_with_filters(self, ssm):
        filters = [{"Key": "Owner", "Values": ["Self"]}]
        ssm.add("list_documents", {"DocumentIdentifiers": [{"Name": "doc"}]}, {"Filters": filters, "MaxResults": 50})
        assert dm.list_documents(ssm.client, filters) == [{"Name": "doc"}]

    def test_describe_document_permission_pages_and_lowercases(self, ssm):
        expected = {"Name": "doc", "PermissionType": "Share", "MaxResults": 200}
        ssm.add("describe_document_permission", {"AccountIds": ["444455556666"], "NextToken": "t"}, expected)
        ssm.add("describe_document_permission", {"AccountIds": ["All"]}, dict(expected, NextToken="t"))
        assert dm.describe_document_permission(ssm.client, "doc") == ["444455556666", "all"]

    def test_modify_document_permission_batches_of_twenty(self):
        client = MagicMock()
        add = [f"{n:012d}" for n in range(1, 46)]
        dm.modify_document_permission(client, "doc", add=add, remove=["999999999999"])
        calls = client.modify_document_permission.call_args_list
        assert [len(c.kwargs.get("AccountIdsToAdd", [])) for c in calls] == [20, 20, 5]
        assert [c.kwargs.get("AccountIdsToRemove") for c in calls] == [["999999999999"], None, None]
        assert {c.kwargs["PermissionType"] for c in calls} == {"Share"}

    def test_sharing_of_a_document_not_owned(self):
        client = MagicMock()
        client.describe_document_permission.side_effect = client_error("InvalidDocumentOperation", "DescribeDocumentPermission")
        assert dm.sharing_of(client, "arn:aws:ssm:us-east-1:444455556666:document/theirs") is None
        client.describe_document_permission.side_effect = client_error("AccessDeniedException", "DescribeDocumentPermission")
        with pytest.raises(AnsibleSSMError):
            dm.sharing_of(client, "doc")

    def test_delete_document_one_version_or_all(self):
        client = MagicMock()
        assert dm.delete_document(client, "doc", "3") is True
        assert dm.delete_document(client, "doc") is True
        assert [c.kwargs for c in client.delete_document.call_args_list] == [
            {"Name": "doc", "DocumentVersion": "3"}, {"Name": "doc"}]
        client.delete_document.side_effect = client_error("InvalidDocument", "DeleteDocument")
        assert dm.delete_document(client, "doc") is False

    def test_create_and_update_requests_satisfy_the_model(self, ssm):
        content = dm.desired_content(DOC, "YAML", "Command")
        create = dm.create_request("doc", content, "Command", "/AWS::EC2::Instance", "v1",
                                   [{"Name": "schema", "Version": "1"}], {"team": "a"})
        ssm.add("create_document", {"DocumentDescription": {"Name": "doc", "DocumentVersion": "1"}}, create)
        assert dm.create_document(ssm.client, create)["DocumentVersion"] == "1"
        update = dm.update_request("doc", content, None, "v2")
        assert update["DocumentVersion"] == "$LATEST" and update["DocumentFormat"] == "YAML"
        ssm.add("update_document", {"DocumentDescription": {"Name": "doc", "DocumentVersion": "2"}}, update)
        assert dm.update_document(ssm.client, update)["DocumentVersion"] == "2"
        ssm.add("update_document_default_version", {"Description": {"Name": "doc", "DefaultVersion": "2"}},
                {"Name": "doc", "DocumentVersion": "2"})
        assert dm.update_document_default_version(ssm.client, "doc", 2)["DefaultVersion"] == "2"


class TestWait:
    def run(self, statuses, timeout=60):
        client = MagicMock()
        client.describe_document.side_effect = [
            {"Document": description(Status=status, **({"StatusInformation": "bad step"} if status == "Failed" else {}))}
            for status in statuses
        ]
        slept = []
        now = [0.0]

        def sleep(seconds):
            slept.append(seconds)
            now[0] += seconds

        return client, slept, lambda: dm.wait_until_active(client, "doc", "1", timeout, sleep=sleep, clock=lambda: now[0])

    def test_waits_until_active(self):
        client, slept, wait = self.run(["Creating", "Creating", "Active"])
        assert wait()["Status"] == "Active"
        assert slept == [0.5, 1]
        assert {c.kwargs["DocumentVersion"] for c in client.describe_document.call_args_list} == {"1"}

    def test_failed_surfaces_status_information(self):
        _client, _slept, wait = self.run(["Updating", "Failed"])
        with pytest.raises(dm.DocumentFailedError, match="doc version 1 failed: bad step"):
            wait()

    def test_timeout(self):
        _client, slept, wait = self.run(["Creating"] * 10, timeout=3)
        with pytest.raises(dm.DocumentFailedError, match="still Creating after 3 seconds"):
            wait()
        assert sum(slept) >= 3

    def test_disappearing_document(self):
        client = MagicMock()
        client.describe_document.side_effect = client_error("InvalidDocument", "DescribeDocument")
        with pytest.raises(dm.DocumentFailedError, match="disappeared"):
            dm.wait_until_active(client, "doc", "1", 5, sleep=lambda s: None)


class TestContent:
    def test_mapping_becomes_json_by_default(self):
        content = dm.desired_content(DOC)
        assert content.document_format == "JSON"
        assert json.loads(content.text) == DOC and content.data == DOC
        assert content.hash == hashlib.sha256(content.text.encode()).hexdigest()

    def test_yaml_text_is_sent_as_written(self):
        content = dm.desired_content(YAML_TEXT)
        assert content.document_format == "YAML" and content.text == YAML_TEXT and content.data == DOC

    def test_json_text_is_detected(self):
        content = dm.desired_content(json.dumps(DOC))
        assert content.document_format == "JSON" and content.data == DOC

    def test_text_converted_to_the_asked_format(self):
        content = dm.desired_content(YAML_TEXT, "JSON")
        assert content.document_format == "JSON" and json.loads(content.text) == DOC
        content = dm.desired_content(json.dumps(DOC), "YAML")
        assert yaml.safe_load(content.text) == DOC

    def test_semantic_equality(self):
        stored = dm.parse_stored(json.dumps(DOC, indent=4), "JSON")
        assert dm.desired_content(YAML_TEXT).same_as(stored, json.dumps(DOC), "JSON")
        reordered = dict(reversed(list(DOC.items())))
        assert dm.desired_content(reordered, "YAML").same_as(stored, "", "JSON")
        swapped = dict(DOC, mainSteps=[STEP, dict(STEP, name="again")])
        assert not dm.desired_content(swapped).same_as(stored, "", "JSON")
        assert not dm.desired_content(dict(DOC, description="Say hello")).same_as(stored, "", "JSON")

    def test_yaml_dates_stay_strings(self):
        content = dm.desired_content("schemaVersion: '2.2'\ndescription: 2026-01-02\nmainSteps:\n  - {action: a, name: b}\n")
        assert content.data["description"] == "2026-01-02"
        assert dm.parse_stored("schemaVersion: '0.3'\nwhen: 2026-01-02\n", "YAML")["when"] == "2026-01-02"

    def test_ansible_values_are_plain(self):
        class Unsafe(str):
            pass

        content = dm.desired_content({Unsafe("schemaVersion"): Unsafe("2.2"), "mainSteps": [STEP]}, "YAML")
        assert yaml.safe_load(content.text)["schemaVersion"] == "2.2"

    def test_change_calendar_text(self):
        content = dm.desired_content(CALENDAR, None, "ChangeCalendar")
        assert content.document_format == "TEXT" and content.data is None and content.text == CALENDAR
        assert content.same_as(None, CALENDAR.replace("\r\n", "\n") + "\n\n", "TEXT")
        assert not content.same_as(None, CALENDAR.replace("2.0", "3.0"), "TEXT")
        assert not content.same_as(DOC, "", "JSON")

    @pytest.mark.parametrize("value,fmt,doc_type,fragment", [
        ("", None, None, "content is empty"),
        ("[1, 2]", None, None, "neither a JSON object nor a YAML mapping"),
        ("a: [", None, None, "neither a JSON object nor a YAML mapping (while parsing"),
        ("just words", None, "Command", "neither a JSON object"),
        (["a"], None, None, "not list"),
        (5, None, None, "not int"),
        (CALENDAR, "TEXT", "Command", "TEXT is only for ChangeCalendar"),
        (DOC, "TEXT", "ChangeCalendar", "needs the document as text"),
    ])
    def test_unreadable_content(self, value, fmt, doc_type, fragment):
        with pytest.raises(dm.DocumentValidationError) as raised:
            dm.desired_content(value, fmt, doc_type)
        assert fragment in str(raised.value)

    def test_change_calendar_hint_without_type(self):
        with pytest.raises(dm.DocumentValidationError, match="document_type: ChangeCalendar"):
            dm.desired_content(CALENDAR)


class TestValidateContent:
    def check(self, data, doc_type="Command", fmt=None):
        dm.desired_content(data, fmt, doc_type)

    def test_size_limit_is_64_kb(self):
        base = len(dm.desired_content(dict(DOC, description="")).text.encode())
        self.check(dict(DOC, description="x" * (dm.MAX_CONTENT_BYTES - base)))
        with pytest.raises(dm.DocumentValidationError, match="65,537 bytes as JSON; AWS's limit is 64 KB"):
            self.check(dict(DOC, description="x" * (dm.MAX_CONTENT_BYTES - base + 1)))

    def test_size_counts_bytes(self):
        base = len(dm.desired_content(dict(DOC, description="")).text.encode())
        with pytest.raises(dm.DocumentValidationError, match="64 KB"):
            self.check(dict(DOC, description="é" * ((dm.MAX_CONTENT_BYTES - base) // 2 + 1)))

    @pytest.mark.parametrize("data,doc_type,fragment", [
        ({"mainSteps": [STEP]}, "Command", "no schemaVersion"),
        ({"schemaVersion": "two", "mainSteps": [STEP]}, "Command", "not a schema version"),
        ({"schemaVersion": "3.0", "mainSteps": [STEP]}, "Command", "not a Command document schema"),
        ({"schemaVersion": "2.2"}, "Command", "needs mainSteps"),
        ({"schemaVersion": "2.2", "mainSteps": []}, "Command", "needs mainSteps"),
        ({"schemaVersion": "2.2", "mainSteps": "run"}, "Command", "needs mainSteps"),
        ({"schemaVersion": "2.2", "mainSteps": [{"action": "aws:runShellScript"}]}, "Command", "mainSteps[0] has no name"),
        ({"schemaVersion": "2.2", "mainSteps": [STEP, "x"]}, "Command", "mainSteps[1] has no action and no name"),
        ({"schemaVersion": "1.2", "mainSteps": [STEP]}, "Command", "needs runtimeConfig"),
        ({"schemaVersion": "0.3"}, "Automation", "Automation document with schemaVersion 0.3 needs mainSteps"),
        ({"schemaVersion": "0.3"}, "Automation.ChangeTemplate", "needs mainSteps"),
    ])
    def test_refused(self, data, doc_type, fragment):
        with pytest.raises(dm.DocumentValidationError) as raised:
            self.check(data, doc_type)
        assert fragment in str(raised.value)

    @pytest.mark.parametrize("data,doc_type", [
        (DOC, "Command"),
        ({"schemaVersion": "1.2", "runtimeConfig": {"aws:runShellScript": {"properties": []}}}, "Command"),
        ({"schemaVersion": 2.0, "mainSteps": [STEP]}, "Command"),
        ({"schemaVersion": "0.3", "mainSteps": [{"name": "s", "action": "aws:sleep"}]}, "Automation"),
        ({"schemaVersion": "1.0", "sessionType": "Standard_Stream", "inputs": {}}, "Session"),
        ({"schemaVersion": "2.0", "mainSteps": []}, "Package"),
    ])
    def test_accepted(self, data, doc_type):
        self.check(data, doc_type)

    def test_without_a_type_only_the_shared_checks(self):
        automation = {"schemaVersion": "0.3", "mainSteps": [{"name": "s", "action": "aws:sleep"}]}
        content = dm.desired_content(automation, None, None)
        with pytest.raises(dm.DocumentValidationError, match="not a Command document schema"):
            dm.validate_content(content, "Command")
        dm.validate_content(content, "Automation")
        with pytest.raises(dm.DocumentValidationError, match="no schemaVersion"):
            dm.desired_content({"mainSteps": []}, None, None)


class TestOptions:
    @pytest.mark.parametrize("name", ["ab", "a" * 129, "has space", "slash/name", "AWS-Mine", "amazon-x", "AMZN.y"])
    def test_bad_names(self, name):
        with pytest.raises(dm.DocumentValidationError):
            dm.validate_name(name)

    @pytest.mark.parametrize("name", ["abc", "My_doc-1.2", "a" * 128, "awsome"[1:] + "x"])
    def test_good_names(self, name):
        dm.validate_name(name)

    def test_reserved_prefix_message(self):
        with pytest.raises(dm.DocumentValidationError, match="prefix AWS reserves"):
            dm.validate_name("Amazon-Patch")

    def test_version_names_and_versions(self):
        dm.validate_version_name("release-12.6")
        dm.validate_version("3", "version")
        for bad in ("release 12", "a" * 129, "x/y"):
            with pytest.raises(dm.DocumentValidationError, match="not a valid version name"):
                dm.validate_version(bad, "default_version")

    def test_target_types(self):
        for good in ("/", "/AWS::EC2::Instance", "/AWS::IAM::Role"):
            dm.validate_target_type(good)
        for bad in ("AWS::EC2::Instance", "/has space", "/" + "a" * 200):
            with pytest.raises(dm.DocumentValidationError, match="target_type"):
                dm.validate_target_type(bad)

    def test_permissions(self):
        assert dm.normalise_permissions(None) is None
        assert dm.normalise_permissions([]) == []
        assert dm.normalise_permissions(["444455556666", "111122223333", "111122223333"]) == ["111122223333", "444455556666"]
        assert dm.normalise_permissions(["All"]) == ["all"]
        with pytest.raises(dm.DocumentValidationError, match="not an AWS account id"):
            dm.normalise_permissions(["12345"])
        with pytest.raises(dm.DocumentValidationError, match="either 'all' alone or the account ids"):
            dm.normalise_permissions(["all", "111122223333"])

    def test_validate_options(self):
        params = dict(name="doc", version_name="v1", target_type="/", default_version="release-1", version=None,
                      permissions=["111122223333"])
        assert dm.validate_options(params) == ["111122223333"]
        for key, value in (("default_version", "bad name"), ("version", "x y"), ("target_type", "x"),
                           ("version_name", "a b"), ("name", "aws-x")):
            with pytest.raises(dm.DocumentValidationError):
                dm.validate_options(dict(params, **{key: value}))
        dm.validate_options(dict(params, default_version="keep"))

    def test_requires(self):
        assert dm.requires_request(None) is None
        wanted = dm.requires_request([{"name": "schema", "version": "1", "require_type": None, "version_name": None}])
        assert wanted == [{"Name": "schema", "Version": "1"}]
        assert dm.same_requires(wanted, [{"Version": "1", "Name": "schema"}])
        assert not dm.same_requires(wanted, None)
        assert dm.same_requires([], None)


class TestVersionsAndOutput:
    VERSIONS = [{"DocumentVersion": "10", "VersionName": "ten"}, {"DocumentVersion": "9"},
                {"DocumentVersion": "2", "VersionName": "two"}]

    def test_resolve_version(self):
        assert dm.resolve_version("ten", self.VERSIONS) == "10"
        assert dm.resolve_version("9", self.VERSIONS) == "9"
        assert dm.resolve_version("3", self.VERSIONS) is None
        assert dm.version_numbers(self.VERSIONS) == ["2", "9", "10"]

    def test_predict_description(self):
        content = dm.desired_content(DOC, "YAML")
        current = description(VersionName="old", Tags=[{"Key": "a", "Value": "b"}], CreatedDate="x",
                              DocumentFormat="JSON", Description="old")
        predicted = dm.predict_description(current, "doc", content, None, "2", version_name=None, default_version="1")
        assert predicted["DocumentVersion"] == predicted["LatestVersion"] == "2"
        assert predicted["DefaultVersion"] == "1" and predicted["DocumentFormat"] == "YAML"
        assert "VersionName" not in predicted and "CreatedDate" not in predicted
        assert predicted["Hash"] == content.hash and predicted["Description"] == "Say hi"
        assert predicted["Parameters"] == [{"Name": "msg", "Type": "String", "DefaultValue": "hi"}]
        assert predicted["Tags"] == [{"Key": "a", "Value": "b"}]

    def test_parameters_of(self):
        data = {"parameters": {"n": {"type": "Integer", "default": 5}, "b": {"type": "Boolean", "default": False},
                               "l": {"type": "StringList", "default": ["a"], "description": "d"}}}
        assert dm.parameters_of(data) == [
            {"Name": "n", "Type": "Integer", "DefaultValue": "5"},
            {"Name": "b", "Type": "Boolean", "DefaultValue": "false"},
            {"Name": "l", "Type": "StringList", "Description": "d", "DefaultValue": '["a"]'},
        ]

    def test_document_to_ansible(self):
        versions = [{"DocumentVersion": "1", "VersionName": "first"}, {"DocumentVersion": "2"}]
        result = dm.document_to_ansible(description(Tags=[{"Key": "team", "Value": "a"}], LatestVersion="2"),
                                        versions, ["111122223333"], DOC, include_content=False)
        assert result["tags"] == {"team": "a"} and result["permissions"] == ["111122223333"]
        assert result["default_version_name"] == "first" and result["latest_version"] == "2"
        assert result["version_name"] is None and result["parameters"] == [] and "content" not in result
        with_content = dm.document_to_ansible(description(), versions, None, DOC, include_content=True)
        assert with_content["content"] == DOC and "permissions" not in with_content
        assert dm.document_to_ansible(None) == {}

    def test_versions_to_ansible_oldest_first(self):
        items = [{"DocumentVersion": "10", "IsDefaultVersion": False}, {"DocumentVersion": "9", "IsDefaultVersion": True}]
        assert [v["document_version"] for v in dm.versions_to_ansible(items)] == ["9", "10"]
        assert "tags" not in dm.versions_to_ansible(items)[0]

    def test_diff_is_yaml_with_the_content(self):
        text = dm.document_for_diff(description(VersionName="v1"), ["111122223333"], DOC, {"team": "a"})
        shown = yaml.safe_load(text)
        assert shown["content"] == DOC and shown["permissions"] == ["111122223333"] and shown["tags"] == {"team": "a"}
        assert "target_type" not in shown
        assert text.index("name: doc") < text.index("content:")
        assert dm.document_for_diff(None) == ""
