"""Documents the account creates: content rules, versions, default version, sharing, reviews, tags."""

import hashlib
import json
import time

import pytest
import yaml
from botocore.exceptions import ClientError

from fleetops_endpoint.ssm import user_documents

STEP = {"action": "aws:runShellScript", "name": "run", "inputs": {"runCommand": ["echo hi"]}}


def command(description="d", **extra):
    return json.dumps({"schemaVersion": "2.2", "description": description, "mainSteps": [STEP], **extra})


def error(excinfo):
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"].get("Message", "")


@pytest.fixture(autouse=True)
def instant(monkeypatch):
    """New versions become Active at once, unless a test asks otherwise."""
    monkeypatch.setattr(user_documents, "PROCESSING_SECONDS", 0)


def test_create_reports_creating_then_active(ssm_client, monkeypatch):
    monkeypatch.setattr(user_documents, "PROCESSING_SECONDS", 0.3)
    content = command(parameters={"msg": {"type": "String", "default": "hi", "description": "what to say"}})
    created = ssm_client.create_document(Name="doc-a", Content=content, DocumentType="Command",
                                         VersionName="v1")["DocumentDescription"]
    assert created["Status"] == "Creating"
    assert ssm_client.describe_document(Name="doc-a")["Document"]["Status"] == "Creating"
    time.sleep(0.4)
    doc = ssm_client.describe_document(Name="doc-a")["Document"]
    assert doc["Status"] == "Active"
    assert doc["Hash"] == hashlib.sha256(content.encode()).hexdigest() and doc["HashType"] == "Sha256"
    assert doc["PlatformTypes"] == ["Linux", "MacOS"]
    assert doc["Owner"] == "123456789012" and doc["VersionName"] == "v1"
    assert doc["DocumentVersion"] == doc["LatestVersion"] == doc["DefaultVersion"] == "1"
    assert doc["Parameters"] == [{"Name": "msg", "Type": "String", "Description": "what to say", "DefaultValue": "hi"}]
    assert doc["Tags"] == [] and doc["SchemaVersion"] == "2.2" and doc["Description"] == "d"


def test_document_type_defaults_to_command_and_every_type_is_accepted(ssm_client):
    ssm_client.create_document(Name="doc-default", Content=command())
    assert ssm_client.describe_document(Name="doc-default")["Document"]["DocumentType"] == "Command"
    template = json.dumps({"schemaVersion": "0.3", "templateInformation": "x", "mainSteps": [
        {"name": "approve", "action": "aws:approve", "inputs": {"Approvers": ["x"]}}]})
    ssm_client.create_document(Name="doc-template", Content=template, DocumentType="Automation.ChangeTemplate")
    calendar = "BEGIN:VCALENDAR\r\nPRODID:-//AWS//Change Calendar 1.0//EN\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    ssm_client.create_document(Name="doc-calendar", Content=calendar, DocumentType="ChangeCalendar",
                               DocumentFormat="TEXT")
    got = ssm_client.get_document(Name="doc-calendar")
    assert got["Content"] == calendar and got["DocumentFormat"] == "TEXT"
    assert "SchemaVersion" not in ssm_client.describe_document(Name="doc-calendar")["Document"]
    listed = ssm_client.list_documents(Filters=[{"Key": "Owner", "Values": ["Self"]}])["DocumentIdentifiers"]
    assert {d["Name"] for d in listed} == {"doc-default", "doc-template", "doc-calendar"}


@pytest.mark.parametrize("content,fmt,doc_type,code,fragment", [
    ("{", "JSON", "Command", "InvalidDocumentContent", "not valid JSON"),
    ("a: [", "YAML", "Command", "InvalidDocumentContent", "not valid YAML"),
    ("[1]", "JSON", "Command", "InvalidDocumentContent", "object is expected"),
    (json.dumps({"mainSteps": [STEP]}), "JSON", "Command", "InvalidDocumentContent", "schemaVersion is missing"),
    (json.dumps({"schemaVersion": "3.0", "mainSteps": [STEP]}), "JSON", "Command", "InvalidDocumentSchemaVersion", "3.0"),
    (json.dumps({"schemaVersion": "2.2"}), "JSON", "Command", "InvalidDocumentContent", "needs mainSteps"),
    (json.dumps({"schemaVersion": "2.2", "mainSteps": [{"action": "aws:runShellScript"}]}), "JSON", "Command",
     "InvalidDocumentContent", "mainSteps[0]"),
    (json.dumps({"schemaVersion": "1.2"}), "JSON", "Command", "InvalidDocumentContent", "runtimeConfig"),
    (json.dumps({"schemaVersion": "0.3"}), "JSON", "Automation", "InvalidDocumentContent", "needs mainSteps"),
    ("BEGIN:VCALENDAR", "TEXT", "Command", "InvalidDocumentContent", "ChangeCalendar"),
    (command("x" * 66000), "JSON", "Command", "MaxDocumentSizeExceeded", "64 KB"),
])
def test_content_rules(ssm_client, content, fmt, doc_type, code, fragment):
    with pytest.raises(ClientError) as excinfo:
        ssm_client.create_document(Name="doc-bad", Content=content, DocumentFormat=fmt, DocumentType=doc_type)
    assert error(excinfo)[0] == code
    assert fragment in error(excinfo)[1]
    with pytest.raises(ClientError) as excinfo:
        ssm_client.describe_document(Name="doc-bad")
    assert error(excinfo)[0] == "InvalidDocument"


def test_size_limit_is_64_kb_of_content(ssm_client):
    base = command("")
    fits = command("x" * (65536 - len(base)))
    assert len(fits.encode()) == 65536
    ssm_client.create_document(Name="doc-fits", Content=fits)
    with pytest.raises(ClientError) as excinfo:
        ssm_client.update_document(Name="doc-fits", Content=fits + " ", DocumentVersion="$LATEST")
    assert error(excinfo)[0] == "MaxDocumentSizeExceeded"


def test_create_twice_and_reserved_names(ssm_client):
    ssm_client.create_document(Name="doc-b", Content=command())
    with pytest.raises(ClientError) as excinfo:
        ssm_client.create_document(Name="doc-b", Content=command("other"))
    assert error(excinfo)[0] == "DocumentAlreadyExists"


def test_update_rules(ssm_client):
    ssm_client.create_document(Name="doc-u", Content=command("one"), VersionName="v1")
    with pytest.raises(ClientError) as excinfo:
        ssm_client.update_document(Name="doc-u", Content=command("one"), DocumentVersion="$LATEST")
    assert error(excinfo)[0] == "DuplicateDocumentContent"
    with pytest.raises(ClientError) as excinfo:
        ssm_client.update_document(Name="doc-u", Content=command("two"), DocumentVersion="$LATEST", VersionName="v1")
    assert error(excinfo)[0] == "DuplicateDocumentVersionName"
    # the same content with another target type is a new version
    moved = ssm_client.update_document(Name="doc-u", Content=command("one"), DocumentVersion="1",
                                       TargetType="/AWS::EC2::Instance")["DocumentDescription"]
    assert moved["DocumentVersion"] == "2" and moved["TargetType"] == "/AWS::EC2::Instance"
    assert moved["Status"] == "Updating" and moved["DefaultVersion"] == "1" and moved["LatestVersion"] == "2"
    with pytest.raises(ClientError) as excinfo:
        ssm_client.update_document(Name="doc-u", Content=command("three"), DocumentVersion="1")
    assert error(excinfo)[0] == "InvalidDocumentVersion"
    yaml_text = "schemaVersion: '2.2'\ndescription: three\nmainSteps:\n  - action: aws:runShellScript\n    name: run\n" \
                "    inputs:\n      runCommand: [echo hi]\n"
    third = ssm_client.update_document(Name="doc-u", Content=yaml_text, DocumentVersion="$LATEST",
                                       DocumentFormat="YAML", VersionName="v3")["DocumentDescription"]
    assert third["DocumentVersion"] == "3" and third["DocumentFormat"] == "YAML"
    assert third["TargetType"] == "/AWS::EC2::Instance", "the target type carries over"
    as_json = json.loads(ssm_client.get_document(Name="doc-u", DocumentVersion="3", DocumentFormat="JSON")["Content"])
    assert as_json["description"] == "three"
    as_yaml = yaml.safe_load(ssm_client.get_document(Name="doc-u", DocumentVersion="1", DocumentFormat="YAML")["Content"])
    assert as_yaml == json.loads(command("one"))
    with pytest.raises(ClientError) as excinfo:
        ssm_client.update_document(Name="missing-doc", Content=command(), DocumentVersion="$LATEST")
    assert error(excinfo)[0] == "InvalidDocument"
    with pytest.raises(ClientError) as excinfo:
        ssm_client.update_document(Name="AWS-RunShellScript", Content=command(), DocumentVersion="$LATEST")
    assert error(excinfo)[0] == "InvalidDocumentOperation"


def test_versions_default_version_and_selection(ssm_client):
    ssm_client.create_document(Name="doc-v", Content=command("one"), VersionName="v1")
    ssm_client.update_document(Name="doc-v", Content=command("two"), DocumentVersion="$LATEST", VersionName="v2")
    ssm_client.update_document(Name="doc-v", Content=command("three"), DocumentVersion="$LATEST")
    versions = ssm_client.list_document_versions(Name="doc-v")["DocumentVersions"]
    assert [(v["DocumentVersion"], v.get("VersionName"), v["IsDefaultVersion"]) for v in versions] == [
        ("3", None, False), ("2", "v2", False), ("1", "v1", True)]
    assert {v["Status"] for v in versions} == {"Active"} and {v["DocumentFormat"] for v in versions} == {"JSON"}
    pages = list(ssm_client.get_paginator("list_document_versions").paginate(
        Name="doc-v", PaginationConfig={"PageSize": 1}))
    assert [len(p["DocumentVersions"]) for p in pages] == [1, 1, 1]

    answer = ssm_client.update_document_default_version(Name="doc-v", DocumentVersion="2")["Description"]
    assert answer == {"Name": "doc-v", "DefaultVersion": "2", "DefaultVersionName": "v2"}
    assert ssm_client.describe_document(Name="doc-v")["Document"]["Description"] == "two"
    assert ssm_client.describe_document(Name="doc-v", DocumentVersion="$LATEST")["Document"]["Description"] == "three"
    assert ssm_client.describe_document(Name="doc-v", VersionName="v1")["Document"]["DocumentVersion"] == "1"
    assert json.loads(ssm_client.get_document(Name="doc-v")["Content"])["description"] == "two"
    listed = ssm_client.list_documents(Filters=[{"Key": "Name", "Values": ["doc-v"]}])["DocumentIdentifiers"]
    assert listed[0]["DocumentVersion"] == "2" and listed[0]["VersionName"] == "v2"
    for call in (lambda: ssm_client.update_document_default_version(Name="doc-v", DocumentVersion="9"),
                 lambda: ssm_client.describe_document(Name="doc-v", DocumentVersion="9"),
                 lambda: ssm_client.describe_document(Name="doc-v", VersionName="nope"),
                 lambda: ssm_client.describe_document(Name="doc-v", DocumentVersion="1", VersionName="v2")):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error(excinfo)[0] == "InvalidDocumentVersion"
    with pytest.raises(ClientError) as excinfo:
        ssm_client.list_document_versions(Name="missing-doc")
    assert error(excinfo)[0] == "InvalidDocument"
    owned = ssm_client.list_document_versions(Name="AWS-RunShellScript")["DocumentVersions"]
    assert [v["IsDefaultVersion"] for v in owned] == [True]


def test_delete_versions_and_numbers_are_not_reused(ssm_client):
    ssm_client.create_document(Name="doc-d", Content=command("one"), Tags=[{"Key": "k", "Value": "v"}])
    ssm_client.update_document(Name="doc-d", Content=command("two"), DocumentVersion="$LATEST", VersionName="two")
    ssm_client.update_document(Name="doc-d", Content=command("three"), DocumentVersion="$LATEST")
    with pytest.raises(ClientError) as excinfo:
        ssm_client.delete_document(Name="doc-d", DocumentVersion="1")
    assert error(excinfo)[0] == "InvalidDocumentOperation" and "default version" in error(excinfo)[1]
    ssm_client.delete_document(Name="doc-d", DocumentVersion="3")
    ssm_client.delete_document(Name="doc-d", VersionName="two")
    assert ssm_client.describe_document(Name="doc-d")["Document"]["LatestVersion"] == "1"
    with pytest.raises(ClientError) as excinfo:
        ssm_client.delete_document(Name="doc-d", DocumentVersion="3")
    assert error(excinfo)[0] == "InvalidDocument"
    again = ssm_client.update_document(Name="doc-d", Content=command("four"), DocumentVersion="$LATEST")
    assert again["DocumentDescription"]["DocumentVersion"] == "4"
    ssm_client.delete_document(Name="doc-d")
    with pytest.raises(ClientError) as excinfo:
        ssm_client.describe_document(Name="doc-d")
    assert error(excinfo)[0] == "InvalidDocument"
    ssm_client.create_document(Name="doc-d", Content=command("one"))
    assert ssm_client.list_tags_for_resource(ResourceType="Document", ResourceId="doc-d")["TagList"] == []
    with pytest.raises(ClientError) as excinfo:
        ssm_client.delete_document(Name="AWS-RunShellScript")
    assert error(excinfo)[0] == "InvalidDocumentOperation"


def test_sharing(ssm_client, aws_client):
    ssm_client.create_document(Name="doc-s", Content=command())
    empty = ssm_client.describe_document_permission(Name="doc-s", PermissionType="Share")
    assert empty["AccountIds"] == [] and empty["AccountSharingInfoList"] == []
    ssm_client.modify_document_permission(Name="doc-s", PermissionType="Share",
                                          AccountIdsToAdd=["111122223333", "444455556666"])
    shared = ssm_client.describe_document_permission(Name="doc-s", PermissionType="Share")
    assert shared["AccountIds"] == ["111122223333", "444455556666"]
    assert shared["AccountSharingInfoList"][0] == {"AccountId": "111122223333", "SharedDocumentVersion": "$DEFAULT"}
    first = ssm_client.describe_document_permission(Name="doc-s", PermissionType="Share", MaxResults=1)
    assert first["AccountIds"] == ["111122223333"] and first["NextToken"]
    with pytest.raises(ClientError) as excinfo:
        ssm_client.delete_document(Name="doc-s")
    assert error(excinfo) == ("InvalidDocumentOperation", user_documents.STILL_SHARED)
    with pytest.raises(ClientError) as excinfo:
        ssm_client.modify_document_permission(Name="doc-s", PermissionType="Share", AccountIdsToAdd=["123456789012"])
    assert error(excinfo)[0] == "ValidationException"
    raw = aws_client("ssm", parameter_validation=False)
    with pytest.raises(ClientError) as excinfo:
        raw.modify_document_permission(Name="doc-s", PermissionType="Share",
                                       AccountIdsToAdd=[f"{n:012d}" for n in range(1, 22)])
    assert error(excinfo)[0] == "ValidationException"
    ssm_client.modify_document_permission(Name="doc-s", PermissionType="Share",
                                          AccountIdsToRemove=["111122223333", "444455556666"])
    ssm_client.delete_document(Name="doc-s")


def test_public_sharing_and_its_quota(ssm_client):
    for n in range(6):
        ssm_client.create_document(Name=f"doc-p{n}", Content=command(str(n)))
    for n in range(5):
        ssm_client.modify_document_permission(Name=f"doc-p{n}", PermissionType="Share", AccountIdsToAdd=["All"])
    assert ssm_client.describe_document_permission(Name="doc-p0", PermissionType="Share")["AccountIds"] == ["all"]
    with pytest.raises(ClientError) as excinfo:
        ssm_client.modify_document_permission(Name="doc-p5", PermissionType="Share", AccountIdsToAdd=["all"])
    assert error(excinfo)[0] == "DocumentPermissionLimit"
    public = ssm_client.list_documents(Filters=[{"Key": "Owner", "Values": ["Public"]}])["DocumentIdentifiers"]
    assert {"doc-p0", "doc-p4"} <= {d["Name"] for d in public} and "doc-p5" not in {d["Name"] for d in public}


def test_document_tags(ssm_client):
    ssm_client.create_document(Name="doc-t", Content=command(), Tags=[{"Key": "team", "Value": "a"}])
    ssm_client.add_tags_to_resource(ResourceType="Document", ResourceId="doc-t", Tags=[{"Key": "env", "Value": "b"}])
    assert ssm_client.describe_document(Name="doc-t")["Document"]["Tags"] == [
        {"Key": "team", "Value": "a"}, {"Key": "env", "Value": "b"}]
    ssm_client.remove_tags_from_resource(ResourceType="Document", ResourceId="doc-t", TagKeys=["team"])
    assert ssm_client.list_tags_for_resource(ResourceType="Document", ResourceId="doc-t")["TagList"] == [
        {"Key": "env", "Value": "b"}]
    tagged = ssm_client.list_documents(Filters=[{"Key": "tag:env", "Values": ["b"]}])["DocumentIdentifiers"]
    assert [d["Name"] for d in tagged] == ["doc-t"]
    with pytest.raises(ClientError) as excinfo:
        ssm_client.list_tags_for_resource(ResourceType="Document", ResourceId="missing-doc")
    assert error(excinfo)[0] == "InvalidResourceId"
    with pytest.raises(ClientError) as excinfo:
        ssm_client.add_tags_to_resource(ResourceType="Document", ResourceId="doc-t",
                                        Tags=[{"Key": f"k{n}", "Value": "v"} for n in range(50)])
    assert error(excinfo)[0] == "TooManyTagsError"
    with pytest.raises(ClientError) as excinfo:
        ssm_client.create_document(Name="doc-t2", Content=command(), Tags=[{"Key": "aws:x", "Value": "v"}])
    assert error(excinfo)[0] == "ValidationException"


def test_change_template_reviews(ssm_client):
    template = json.dumps({"schemaVersion": "0.3", "templateInformation": "x", "mainSteps": [
        {"name": "approve", "action": "aws:approve", "inputs": {"Approvers": ["x"]}}]})
    ssm_client.create_document(Name="doc-ct", Content=template, DocumentType="Automation.ChangeTemplate")
    assert ssm_client.describe_document(Name="doc-ct")["Document"]["ReviewStatus"] == "NOT_REVIEWED"
    with pytest.raises(ClientError) as excinfo:
        ssm_client.update_document_metadata(Name="doc-ct", DocumentReviews={"Action": "UpdateReview"})
    assert error(excinfo)[0] == "InvalidDocumentOperation"
    ssm_client.update_document_metadata(Name="doc-ct", DocumentVersion="1", DocumentReviews={"Action": "SendForReview"})
    pending = ssm_client.describe_document(Name="doc-ct")["Document"]
    assert pending["ReviewStatus"] == "PENDING" and pending["PendingReviewVersion"] == "1"
    ssm_client.update_document_metadata(Name="doc-ct", DocumentReviews={"Action": "Approve"})
    approved = ssm_client.describe_document(Name="doc-ct")["Document"]
    assert approved["ReviewStatus"] == "APPROVED" and approved["ApprovedVersion"] == "1"
    assert [r["Status"] for r in approved["ReviewInformation"]] == ["PENDING", "APPROVED"]
    assert ssm_client.list_document_versions(Name="doc-ct")["DocumentVersions"][0]["ReviewStatus"] == "APPROVED"
    ssm_client.create_document(Name="doc-cmd", Content=command())
    with pytest.raises(ClientError) as excinfo:
        ssm_client.update_document_metadata(Name="doc-cmd", DocumentReviews={"Action": "Approve"})
    assert error(excinfo)[0] == "InvalidDocumentOperation"


def exercise_document_operations(ssm):
    """Every document operation of ours, for the shape test (test_endpoint_shapes.py)."""
    template = json.dumps({"schemaVersion": "0.3", "mainSteps": [
        {"name": "approve", "action": "aws:approve", "inputs": {"Approvers": ["x"]}}]})
    ssm.create_document(Name="shape-doc-2", Content=command("one"), VersionName="v1", DisplayName="Shape doc",
                        TargetType="/", Tags=[{"Key": "k", "Value": "v"}])
    ssm.update_document(Name="shape-doc-2", Content=command("two"), DocumentVersion="$LATEST", VersionName="v2")
    ssm.describe_document(Name="shape-doc-2", VersionName="v1")
    ssm.get_document(Name="shape-doc-2", DocumentFormat="YAML")
    ssm.list_document_versions(Name="shape-doc-2", MaxResults=1)
    ssm.update_document_default_version(Name="shape-doc-2", DocumentVersion="2")
    ssm.modify_document_permission(Name="shape-doc-2", PermissionType="Share", AccountIdsToAdd=["111122223333"])
    ssm.describe_document_permission(Name="shape-doc-2", PermissionType="Share", MaxResults=1)
    ssm.list_documents(Filters=[{"Key": "Owner", "Values": ["Self"]}])
    ssm.create_document(Name="shape-template", Content=template, DocumentType="Automation.ChangeTemplate")
    ssm.update_document_metadata(Name="shape-template", DocumentReviews={"Action": "Approve", "Comment": [
        {"Type": "Comment", "Content": "ok"}]})
    ssm.describe_document(Name="shape-template")
    for call in (
        lambda: ssm.delete_document(Name="shape-doc-2"),
        lambda: ssm.update_document(Name="shape-doc-2", Content=command("two"), DocumentVersion="$LATEST"),
        lambda: ssm.create_document(Name="shape-big", Content=command("x" * 70000)),
        lambda: ssm.update_document_metadata(Name="shape-doc-2", DocumentReviews={"Action": "Approve"}),
    ):
        with pytest.raises(ClientError):
            call()
    ssm.modify_document_permission(Name="shape-doc-2", PermissionType="Share", AccountIdsToRemove=["111122223333"])
    ssm.delete_document(Name="shape-doc-2", DocumentVersion="1")
    ssm.delete_document(Name="shape-doc-2")
    ssm.delete_document(Name="shape-template")
