# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

import pytest

from ansible_collections.fleetops.ssm.plugins.modules import document_info as module
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import ACCOUNT
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import WHEN

CONTENT = {"schemaVersion": "2.2", "mainSteps": [{"action": "aws:runShellScript", "name": "run",
                                                  "inputs": {"runCommand": ["true"]}}]}
CALENDAR = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"


def params(**overrides):
    result = dict(name=None, version=None, include_content=True, owner=None, document_types=None, name_prefix=None,
                  platform_types=None, tags=None)
    result.update(overrides)
    return result


def identifier(name, owner=ACCOUNT, tags=None):
    return {"Name": name, "Owner": owner, "DocumentVersion": "1", "DocumentType": "Command", "SchemaVersion": "2.2",
            "DocumentFormat": "JSON", "PlatformTypes": ["Linux"], "CreatedDate": WHEN,
            "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()]}


def described(name="doc", owner=ACCOUNT, version="2", default="2", fmt="JSON", doc_type="Command"):
    return {"Name": name, "Owner": owner, "DocumentVersion": version, "LatestVersion": "3", "DefaultVersion": default,
            "Status": "Active", "DocumentType": doc_type, "DocumentFormat": fmt, "CreatedDate": WHEN, "Tags": []}


def versions(name="doc"):
    return [{"Name": name, "DocumentVersion": n, "VersionName": f"r{n}", "IsDefaultVersion": n == "2",
             "Status": "Active", "DocumentFormat": "JSON", "CreatedDate": WHEN} for n in ("3", "2", "1")]


class TestFilters:
    def test_no_options_no_filters(self):
        assert module.list_filters(params()) == []

    def test_every_filter(self):
        filters = module.list_filters(params(owner="Self", document_types=["Command", "Automation"], name_prefix="app-",
                                             platform_types=["Linux"], tags={"team": "a", "env": None}))
        assert filters == [
            {"Key": "Owner", "Values": ["Self"]},
            {"Key": "DocumentType", "Values": ["Command", "Automation"]},
            {"Key": "Name", "Values": ["app-"]},
            {"Key": "PlatformTypes", "Values": ["Linux"]},
            {"Key": "tag:team", "Values": ["a"]},
            {"Key": "tag:env", "Values": []},
        ]

    def test_an_account_as_owner(self):
        assert module.list_filters(params(owner="444455556666")) == [{"Key": "Owner", "Values": ["444455556666"]}]


class TestReadOne:
    def test_missing(self, ssm):
        ssm.add_error("describe_document", "InvalidDocument", expected={"Name": "doc"})
        assert module.read_one(ssm.client, "doc", None, True) is None

    def test_own_document_at_a_version_name(self, ssm):
        ssm.add("describe_document", {"Document": described(version="1")}, {"Name": "doc", "VersionName": "r1"})
        ssm.add("list_document_versions", {"DocumentVersions": versions()}, {"Name": "doc", "MaxResults": 50})
        ssm.add("describe_document_permission", {"AccountIds": ["111122223333"]},
                {"Name": "doc", "PermissionType": "Share", "MaxResults": 200})
        ssm.add("get_document", {"Name": "doc", "Content": json.dumps(CONTENT), "DocumentFormat": "JSON"},
                {"Name": "doc", "DocumentVersion": "1"})
        found = module.read_one(ssm.client, "doc", "r1", True)
        assert found["document_version"] == "1" and found["default_version"] == "2"
        assert found["default_version_name"] == "r2" and found["permissions"] == ["111122223333"]
        assert [v["document_version"] for v in found["versions"]] == ["1", "2", "3"]
        assert found["versions"][1]["is_default_version"] is True
        assert found["content"] == CONTENT

    def test_aws_document_without_sharing_or_content(self, ssm):
        ssm.add("describe_document", {"Document": described("AWS-RunShellScript", "Amazon", "1", "1")},
                {"Name": "AWS-RunShellScript", "DocumentVersion": "$DEFAULT"})
        ssm.add("list_document_versions", {"DocumentVersions": versions("AWS-RunShellScript")[2:]},
                {"Name": "AWS-RunShellScript", "MaxResults": 50})
        found = module.read_one(ssm.client, "AWS-RunShellScript", "$DEFAULT", False)
        assert "permissions" not in found and "content" not in found
        assert ssm.operations == ["DescribeDocument", "ListDocumentVersions"]

    def test_shared_with_us(self, ssm):
        arn = "arn:aws:ssm:us-east-1:444455556666:document/theirs"
        ssm.add("describe_document", {"Document": described("theirs", "444455556666", "1", "1")}, {"Name": arn})
        ssm.add("list_document_versions", {"DocumentVersions": versions("theirs")[2:]}, {"Name": arn, "MaxResults": 50})
        ssm.add_error("describe_document_permission", "InvalidDocumentOperation")
        ssm.add("get_document", {"Name": "theirs", "Content": CALENDAR, "DocumentFormat": "TEXT"},
                {"Name": arn, "DocumentVersion": "1"})
        found = module.read_one(ssm.client, arn, None, True)
        assert "permissions" not in found and found["content"] == CALENDAR


class TestMain:
    def args(self, **extra):
        base = dict(region="us-east-1", access_key="unit-test-access-key", secret_key="unit-test-secret-key")
        base.update(extra)
        return base

    def test_list_sorted(self, run_module, ssm):
        ssm.add("list_documents", {"DocumentIdentifiers": [identifier("b-doc"), identifier("a-doc", tags={"t": "1"})]},
                {"Filters": [{"Key": "Owner", "Values": ["Self"]}], "MaxResults": 50})
        run = run_module(module.main, self.args(owner="Self"), ssm.client)
        assert run.rc == 0
        assert [d["name"] for d in run.result["documents"]] == ["a-doc", "b-doc"]
        assert run.result["documents"][0]["tags"] == {"t": "1"}

    def test_one_missing_document(self, run_module, ssm):
        ssm.add_error("describe_document", "InvalidDocument")
        run = run_module(module.main, self.args(name="nope"), ssm.client)
        assert run.rc == 0 and run.result["documents"] == []

    @pytest.mark.parametrize("extra,fragment", [
        (dict(name="doc", owner="Self"), "mutually exclusive"),
        (dict(version="1"), "missing parameter(s) required by 'version': name"),
        (dict(document_types=["Nope"]), "value of document_types must be one or more of"),
    ])
    def test_bad_options(self, run_module, ssm, extra, fragment):
        run = run_module(module.main, self.args(**extra), ssm.client)
        assert run.rc == 1 and fragment in run.result["msg"]
        assert ssm.operations == []
