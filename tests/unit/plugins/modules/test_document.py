# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

import pytest
import yaml

from ansible_collections.fleetops.ssm.plugins.module_utils import _documents as dm
from ansible_collections.fleetops.ssm.plugins.modules import document as module
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import ACCOUNT
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import WHEN

NAME = "restart-app"
STEP = {"action": "aws:runShellScript", "name": "run", "inputs": {"runCommand": ["systemctl restart app"]}}
V1 = {"schemaVersion": "2.2", "description": "Restart", "mainSteps": [STEP]}
V2 = {"schemaVersion": "2.2", "description": "Restart, then check", "mainSteps": [STEP, dict(STEP, name="check")]}
V1_YAML = "mainSteps:\n- name: run\n  action: aws:runShellScript\n  inputs: {runCommand: [systemctl restart app]}\n" \
          "description: Restart\nschemaVersion: '2.2'\n"
WRITES = ("CreateDocument", "UpdateDocument", "UpdateDocumentDefaultVersion", "DeleteDocument",
          "ModifyDocumentPermission", "AddTagsToResource", "RemoveTagsFromResource")


def params(**overrides):
    """module.params as AnsibleModule builds them: every option, defaults filled in."""
    result = dict(
        name=NAME, content=None, src=None, document_format=None, document_type=None, target_type=None,
        version_name=None, requires=None, default_version="latest", permissions=None, purge_permissions=True,
        version=None, return_content=False, wait_timeout=300, tags=None, purge_tags=True, state="present",
    )
    result.update(overrides)
    return result


def desc(version="1", latest=None, default=None, status="Active", fmt="JSON", tags=None, version_name=None, **extra):
    """A DocumentDescription as DescribeDocument returns it."""
    item = {
        "Name": NAME, "Owner": ACCOUNT, "CreatedDate": WHEN, "Status": status, "DocumentVersion": version,
        "LatestVersion": latest or version, "DefaultVersion": default or version, "DocumentType": "Command",
        "DocumentFormat": fmt, "SchemaVersion": "2.2", "Hash": "0" * 64, "HashType": "Sha256", "Parameters": [],
        "PlatformTypes": ["Linux", "MacOS"], "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
    }
    if version_name:
        item["VersionName"] = version_name
    item.update(extra)
    return item


def version_entry(number, name=None, default=False):
    item = {"Name": NAME, "DocumentVersion": number, "IsDefaultVersion": default, "Status": "Active",
            "DocumentFormat": "JSON", "CreatedDate": WHEN}
    if name:
        item["VersionName"] = name
    return item


def writes(ssm):
    return [name for name in ssm.operations if name in WRITES]


def queue_describe(ssm, current, versions, accounts=(), text=None, fmt="JSON"):
    """The four reads of the module's describe(): latest version, versions, sharing, content."""
    number = current["DocumentVersion"]
    ssm.add("describe_document", {"Document": current}, {"Name": NAME, "DocumentVersion": "$LATEST"})
    ssm.add("list_document_versions", {"DocumentVersions": versions}, {"Name": NAME, "MaxResults": 50})
    ssm.add("describe_document_permission", {"AccountIds": list(accounts)},
            {"Name": NAME, "PermissionType": "Share", "MaxResults": 200})
    ssm.add("get_document", {"Name": NAME, "DocumentVersion": number, "Content": text or json.dumps(V1),
                             "DocumentFormat": fmt}, {"Name": NAME, "DocumentVersion": number})


def queue_active(ssm, version):
    ssm.add("describe_document", {"Document": desc(version, status="Active")}, {"Name": NAME, "DocumentVersion": version})


def existing(ssm, **kwargs):
    """A document with version 1 (V1, JSON) and its state as the module reads it."""
    versions = kwargs.pop("versions", [version_entry("1", "v1", True)])
    accounts = kwargs.pop("accounts", ())
    text = kwargs.pop("text", json.dumps(V1))
    fmt = kwargs.pop("fmt", "JSON")
    current = desc(fmt=fmt, **kwargs)
    queue_describe(ssm, current, versions, accounts, text, fmt)
    return module.describe(ssm.client, NAME)


class TestDescribe:
    def test_missing(self, ssm):
        ssm.add_error("describe_document", "InvalidDocument", expected={"Name": NAME, "DocumentVersion": "$LATEST"})
        assert module.describe(ssm.client, NAME) is None

    def test_existing(self, ssm):
        current = existing(ssm, tags={"team": "a"}, accounts=["111122223333"])
        assert current.data == V1 and current.tags == {"team": "a"} and current.permissions == ["111122223333"]
        assert current.content == V1

    def test_waits_for_a_pending_latest_version(self, ssm):
        ssm.add("describe_document", {"Document": desc(status="Creating")}, {"Name": NAME, "DocumentVersion": "$LATEST"})
        queue_active(ssm, "1")
        ssm.add("list_document_versions", {"DocumentVersions": [version_entry("1")]}, {"Name": NAME, "MaxResults": 50})
        ssm.add("describe_document_permission", {"AccountIds": []},
                {"Name": NAME, "PermissionType": "Share", "MaxResults": 200})
        ssm.add("get_document", {"Name": NAME, "Content": json.dumps(V1), "DocumentFormat": "JSON"},
                {"Name": NAME, "DocumentVersion": "1"})
        current = module.describe(ssm.client, NAME, timeout=30)
        assert current.description["Status"] == "Active"


class TestCreate:
    def test_check_mode_predicts_and_writes_nothing(self, ssm):
        content = dm.desired_content(V1, None, "Command")
        changed, warnings, final = module.apply(
            ssm.client, None, params(content=V1, version_name="v1", tags={"team": "a"}), content, ["111122223333"], True)
        assert changed and warnings == [] and ssm.operations == []
        result = module.result(final, True)
        assert result["document_version"] == result["latest_version"] == result["default_version"] == "1"
        assert result["version_name"] == "v1" and result["tags"] == {"team": "a"}
        assert result["permissions"] == ["111122223333"] and result["content"] == V1
        assert result["hash"] == content.hash

    def test_create_waits_and_shares(self, ssm):
        content = dm.desired_content(V1_YAML, None, "Command")
        request = dm.create_request(NAME, content, None, None, "v1", None, {"team": "a"})
        assert request["DocumentType"] == "Command" and request["DocumentFormat"] == "YAML"
        assert request["Content"] == V1_YAML
        ssm.add("create_document", {"DocumentDescription": desc(status="Creating")}, request)
        ssm.add("describe_document", {"Document": desc(status="Creating")}, {"Name": NAME, "DocumentVersion": "1"})
        queue_active(ssm, "1")
        ssm.add("modify_document_permission", {}, {"Name": NAME, "PermissionType": "Share",
                                                   "AccountIdsToAdd": ["111122223333"]})
        result = module.ensure_created(ssm.client, params(version_name="v1", tags={"team": "a"}, wait_timeout=30),
                                       content, ["111122223333"], False)
        assert result is None

    def test_content_needed(self, ssm):
        with pytest.raises(dm.DocumentValidationError, match="does not exist: give content or src"):
            module.ensure_created(ssm.client, params(), None, None, False)

    def test_default_version_of_a_new_document(self, ssm):
        content = dm.desired_content(V1)
        with pytest.raises(dm.DocumentValidationError, match="default_version 2 is not a version"):
            module.ensure_created(ssm.client, params(default_version="2"), content, None, True)
        module.ensure_created(ssm.client, params(default_version="v1", version_name="v1"), content, None, True)
        module.ensure_created(ssm.client, params(default_version="keep"), content, None, True)
        assert ssm.operations == []


class TestUpdate:
    def test_same_content_as_yaml_is_no_change(self, ssm):
        current = existing(ssm)
        content = dm.desired_content(V1_YAML)
        changed, predicted, warnings = module.ensure_updated(ssm.client, current, params(), content, None, False)
        assert not changed and predicted is None and warnings == []
        assert writes(ssm) == []

    def test_new_version_becomes_default(self, ssm):
        current = existing(ssm)
        content = dm.desired_content(V2)
        ssm.add("update_document", {"DocumentDescription": desc("2", status="Updating", default="1")},
                dm.update_request(NAME, content, None, "v2"))
        queue_active(ssm, "2")
        ssm.add("update_document_default_version", {"Description": {"Name": NAME, "DefaultVersion": "2"}},
                {"Name": NAME, "DocumentVersion": "2"})
        changed, _predicted, _warnings = module.ensure_updated(
            ssm.client, current, params(version_name="v2", wait_timeout=30), content, None, False)
        assert changed
        assert writes(ssm) == ["UpdateDocument", "UpdateDocumentDefaultVersion"]
        assert ssm.params("UpdateDocument")[0]["DocumentVersion"] == "$LATEST"

    def test_keep_leaves_the_default(self, ssm):
        current = existing(ssm)
        content = dm.desired_content(V2)
        ssm.add("update_document", {"DocumentDescription": desc("2", default="1")}, dm.update_request(NAME, content))
        queue_active(ssm, "2")
        module.ensure_updated(ssm.client, current, params(default_version="keep", wait_timeout=30), content, None, False)
        assert writes(ssm) == ["UpdateDocument"]

    def test_check_mode_predicts_the_new_version(self, ssm):
        current = existing(ssm, versions=[version_entry("1", "v1", True), version_entry("9")], latest="9")
        content = dm.desired_content(V2, "YAML")
        changed, predicted, _warnings = module.ensure_updated(
            ssm.client, current, params(version_name="v10", tags={"team": "b"}), content, ["all"], True)
        assert changed and writes(ssm) == []
        result = module.result(predicted, True)
        assert result["document_version"] == result["latest_version"] == result["default_version"] == "10"
        assert result["version_name"] == "v10" and result["document_format"] == "YAML"
        assert result["content"] == V2 and result["tags"] == {"team": "b"} and result["permissions"] == ["all"]
        assert result["default_version_name"] == "v10"

    def test_roll_back_by_version_name(self, ssm):
        current = existing(ssm, version="2", default="2",
                           versions=[version_entry("1", "release-1"), version_entry("2", "release-2", True)])
        ssm.add("update_document_default_version", {"Description": {"Name": NAME, "DefaultVersion": "1"}},
                {"Name": NAME, "DocumentVersion": "1"})
        changed, _predicted, _warnings = module.ensure_updated(
            ssm.client, current, params(default_version="release-1"), None, None, False)
        assert changed and writes(ssm) == ["UpdateDocumentDefaultVersion"]

    def test_roll_back_is_idempotent(self, ssm):
        current = existing(ssm, version="2", default="1", versions=[version_entry("1", "r1", True), version_entry("2")])
        changed, _predicted, _warnings = module.ensure_updated(ssm.client, current, params(default_version="1"),
                                                               dm.desired_content(V1), None, False)
        assert not changed and writes(ssm) == []

    def test_unknown_default_version_fails_before_any_write(self, ssm):
        current = existing(ssm)
        with pytest.raises(dm.DocumentValidationError, match=r"versions are 1 \(v1\)"):
            module.ensure_updated(ssm.client, current, params(default_version="release-9"), dm.desired_content(V2),
                                  None, False)
        assert writes(ssm) == []

    def test_the_new_version_name_can_be_the_default(self, ssm):
        current = existing(ssm)
        _changed, predicted, _warnings = module.ensure_updated(
            ssm.client, current, params(version_name="v2", default_version="v2"), dm.desired_content(V2), None, True)
        assert predicted.description["DefaultVersion"] == "2"

    def test_duplicate_version_name_fails_before_any_write(self, ssm):
        current = existing(ssm)
        with pytest.raises(dm.DocumentValidationError, match="already names version 1"):
            module.ensure_updated(ssm.client, current, params(version_name="v1"), dm.desired_content(V2), None, False)
        assert writes(ssm) == []

    def test_version_name_of_unchanged_content_warns(self, ssm):
        current = existing(ssm, version_name="v1")
        changed, _predicted, warnings = module.ensure_updated(
            ssm.client, current, params(version_name="v7"), dm.desired_content(V1), None, False)
        assert not changed
        assert "version_name v7 was not used" in warnings[0] and "keeps its name (v1)" in warnings[0]

    def test_type_and_requires_cannot_change(self, ssm):
        current = existing(ssm)
        with pytest.raises(dm.DocumentValidationError, match="AWS cannot change the type"):
            module.plan_update(current, params(document_type="Automation"), None)
        requires = [{"name": "schema", "version": "1", "require_type": None, "version_name": None}]
        with pytest.raises(dm.DocumentValidationError, match="sets them only when a document is created"):
            module.plan_update(current, params(requires=requires), None)
        assert module.plan_update(current, params(document_type="Command", requires=[]), None) == (None, [])

    def test_new_target_type_resends_the_content(self, ssm):
        current = existing(ssm)
        new_content, _warnings = module.plan_update(current, params(target_type="/AWS::EC2::Instance"), None)
        assert new_content.text == json.dumps(V1) and new_content.document_format == "JSON"

    def test_format_change_alone_is_no_version(self, ssm):
        current = existing(ssm)
        assert module.plan_update(current, params(), dm.desired_content(V1, "YAML")) == (None, [])

    def test_permissions_and_tags(self, ssm):
        current = existing(ssm, accounts=["111122223333", "444455556666"], tags={"team": "a", "old": "x"})
        ssm.add("remove_tags_from_resource", {}, {"ResourceType": "Document", "ResourceId": NAME, "TagKeys": ["old"]})
        ssm.add("add_tags_to_resource", {}, {"ResourceType": "Document", "ResourceId": NAME,
                                             "Tags": [{"Key": "team", "Value": "b"}]})
        ssm.add("modify_document_permission", {}, {"Name": NAME, "PermissionType": "Share",
                                                   "AccountIdsToAdd": ["777788889999"],
                                                   "AccountIdsToRemove": ["444455556666"]})
        changed, _predicted, _warnings = module.ensure_updated(
            ssm.client, current, params(tags={"team": "b"}), None, ["111122223333", "777788889999"], False)
        assert changed

    def test_permissions_without_purge(self, ssm):
        current = existing(ssm, accounts=["111122223333"])
        changed, _predicted, _warnings = module.ensure_updated(
            ssm.client, current, params(purge_permissions=False), None, ["444455556666"], True)
        assert changed
        assert module.permission_changes(["111122223333"], ["444455556666"], False) == (["444455556666"], [])
        assert module.permission_changes(["111122223333"], [], True) == ([], ["111122223333"])
        assert module.permission_changes(["111122223333"], None, True) == ([], [])


class TestAbsent:
    def test_missing_document(self, ssm):
        assert module.ensure_absent(ssm.client, None, None, False) == (False, None)

    def test_shared_document_is_refused(self, ssm):
        current = existing(ssm, accounts=["111122223333"])
        with pytest.raises(dm.DocumentValidationError, match="shared with 111122223333, and AWS does not delete"):
            module.ensure_absent(ssm.client, current, None, False)
        with pytest.raises(dm.DocumentValidationError, match="permissions: \\[\\]"):
            module.ensure_absent(ssm.client, current, None, True)
        assert writes(ssm) == []

    def test_public_document_is_refused(self, ssm):
        current = existing(ssm, accounts=["all"])
        with pytest.raises(dm.DocumentValidationError, match="shared publicly"):
            module.ensure_absent(ssm.client, current, None, False)

    def test_delete_everything(self, ssm):
        current = existing(ssm)
        ssm.add("delete_document", {}, {"Name": NAME})
        assert module.ensure_absent(ssm.client, current, None, False) == (True, None)

    def test_delete_one_version_by_name(self, ssm):
        current = existing(ssm, version="2", versions=[version_entry("1", "old"), version_entry("2", None, True)])
        ssm.add("delete_document", {}, {"Name": NAME, "DocumentVersion": "1"})
        assert module.ensure_absent(ssm.client, current, "old", False) == (True, "1")

    def test_default_version_is_refused(self, ssm):
        current = existing(ssm, version="2", default="1", versions=[version_entry("1", None, True), version_entry("2")])
        with pytest.raises(dm.DocumentValidationError, match="Version 1 is the default version"):
            module.ensure_absent(ssm.client, current, "1", False)
        assert writes(ssm) == []

    def test_missing_version_is_no_change(self, ssm):
        current = existing(ssm)
        assert module.ensure_absent(ssm.client, current, "5", False) == (False, None)


class TestMain:
    def args(self, **extra):
        base = dict(name=NAME, region="us-east-1", access_key="unit-test-access-key", secret_key="unit-test-secret-key")
        base.update(extra)
        return base

    @pytest.mark.parametrize("extra,fragment", [
        (dict(content={"mainSteps": [STEP]}), "no schemaVersion"),
        (dict(content="a: ["), "neither a JSON object nor a YAML mapping"),
        (dict(content={"schemaVersion": "2.2"}, document_type="Command"), "needs mainSteps"),
        (dict(content={"schemaVersion": "1.2"}, document_type="Command"), "needs runtimeConfig"),
        (dict(content=dict(V1, description="x" * 70000)), "AWS's limit is 64 KB"),
        (dict(name="AWS-Mine", content=V1), "prefix AWS reserves"),
        (dict(content=V1, permissions=["1234"]), "not an AWS account id"),
        (dict(content=V1, default_version="not a version"), "not a valid version name"),
        (dict(content=V1, target_type="EC2"), "target_type"),
        (dict(content=V1, version="1"), "version selects the version to delete"),
        (dict(src="doc.yml"), "src is read on the controller"),
    ])
    def test_bad_input_fails_before_any_call(self, run_module, ssm, extra, fragment):
        run = run_module(module.main, self.args(**extra), ssm.client)
        assert run.rc == 1 and fragment in run.result["msg"]
        assert ssm.operations == []

    def test_create_end_to_end_with_diff(self, run_module, ssm):
        ssm.add_error("describe_document", "InvalidDocument", expected={"Name": NAME, "DocumentVersion": "$LATEST"})
        ssm.add("create_document", {"DocumentDescription": desc(status="Creating")})
        queue_active(ssm, "1")
        queue_describe(ssm, desc(), [version_entry("1", None, True)])
        run = run_module(module.main, self.args(content=V1, return_content=True), ssm.client)
        assert run.rc == 0 and run.result["changed"]
        assert run.result["document"]["content"] == V1
        assert run.result["diff"]["before"] == ""
        assert yaml.safe_load(run.result["diff"]["after"])["content"] == V1

    def test_failed_version_fails_with_status_information(self, run_module, ssm):
        queue_describe(ssm, desc(), [version_entry("1", None, True)])
        ssm.add("update_document", {"DocumentDescription": desc("2", status="Updating")})
        ssm.add("describe_document", {"Document": desc("2", status="Failed", StatusInformation="step run is invalid")},
                {"Name": NAME, "DocumentVersion": "2"})
        run = run_module(module.main, self.args(content=V2), ssm.client)
        assert run.rc == 1
        assert run.result["msg"] == f"Document {NAME} version 2 failed: step run is invalid"
        assert writes(ssm) == ["UpdateDocument"]

    def test_unchanged_document(self, run_module, ssm):
        queue_describe(ssm, desc(tags={"team": "a"}), [version_entry("1", None, True)])
        run = run_module(module.main, self.args(content=V1_YAML, tags={"team": "a"}), ssm.client)
        assert run.rc == 0 and not run.result["changed"]
        assert run.result["diff"]["before"] == run.result["diff"]["after"]
        assert "content" not in run.result["document"]

    def test_delete_one_version_in_check_mode_describes_the_new_latest(self, run_module, ssm):
        versions = [version_entry("1", None, True), version_entry("2")]
        queue_describe(ssm, desc("2", default="1"), versions)
        ssm.add("describe_document", {"Document": desc("1", latest="2")}, {"Name": NAME, "DocumentVersion": "1"})
        ssm.add("list_document_versions", {"DocumentVersions": versions}, {"Name": NAME, "MaxResults": 50})
        ssm.add("describe_document_permission", {"AccountIds": []},
                {"Name": NAME, "PermissionType": "Share", "MaxResults": 200})
        ssm.add("get_document", {"Name": NAME, "Content": json.dumps(V1), "DocumentFormat": "JSON"},
                {"Name": NAME, "DocumentVersion": "1"})
        run = run_module(module.main, self.args(state="absent", version="2", _ansible_check_mode=True), ssm.client)
        assert run.rc == 0 and run.result["changed"]
        assert run.result["document"]["latest_version"] == "1"
        assert writes(ssm) == []

    def test_delete_whole_document(self, run_module, ssm):
        queue_describe(ssm, desc(), [version_entry("1", None, True)])
        ssm.add("delete_document", {}, {"Name": NAME})
        run = run_module(module.main, self.args(state="absent"), ssm.client)
        assert run.rc == 0 and run.result["changed"] and run.result["document"] == {}
        assert run.result["diff"]["after"] == ""

    def test_access_denied_names_the_iam_action(self, run_module, ssm):
        ssm.add_error("describe_document", "AccessDeniedException", "not authorized")
        run = run_module(module.main, self.args(content=V1), ssm.client)
        assert run.rc == 1 and run.result["iam_action"] == "ssm:DescribeDocument"
