"""The AWS-owned documents seeded into every account and region."""

import json

import pytest
import yaml

SEEDED = [
    "AWS-ApplyAnsiblePlaybooks",
    "AWS-ConfigureAWSPackage",
    "AWS-GatherSoftwareInventory",
    "AWS-RunPatchBaseline",
    "AWS-RunPowerShellScript",
    "AWS-RunShellScript",
    "AWS-StartNonInteractiveCommand",
    "AWS-UpdateSSMAgent",
]


def parameters(client, name):
    return {p["Name"]: p for p in client.describe_document(Name=name)["Document"]["Parameters"]}


def test_list_amazon_documents(ssm_client):
    found = ssm_client.list_documents(Filters=[{"Key": "Owner", "Values": ["Amazon"]}])["DocumentIdentifiers"]
    assert [d["Name"] for d in found] == SEEDED
    assert {d["Owner"] for d in found} == {"Amazon"}
    assert {d["DocumentType"] for d in found} == {"Command", "Session"}
    assert {d["DocumentFormat"] for d in found} == {"JSON"}


def test_owner_self_excludes_amazon_documents(ssm_client):
    content = json.dumps({"schemaVersion": "2.2", "description": "mine", "mainSteps": [
        {"action": "aws:runShellScript", "name": "run", "inputs": {"runCommand": ["echo hi"]}}]})
    ssm_client.create_document(Name="fleetops-own", Content=content, DocumentType="Command")
    own = ssm_client.list_documents(Filters=[{"Key": "Owner", "Values": ["Self"]}])["DocumentIdentifiers"]
    assert [(d["Name"], d["Owner"], d["PlatformTypes"]) for d in own] == [("fleetops-own", "123456789012", ["Linux", "MacOS"])]
    everything = [d["Name"] for d in ssm_client.list_documents()["DocumentIdentifiers"]]
    assert "fleetops-own" in everything and "AWS-RunShellScript" in everything
    by_name = ssm_client.list_documents(Filters=[{"Key": "Name", "Values": ["AWS-Run"]}])["DocumentIdentifiers"]
    assert [d["Name"] for d in by_name] == ["AWS-RunPatchBaseline", "AWS-RunPowerShellScript", "AWS-RunShellScript"]
    windows = ssm_client.list_documents(Filters=[{"Key": "PlatformTypes", "Values": ["Windows"]},
                                                 {"Key": "Owner", "Values": ["Amazon"]}])["DocumentIdentifiers"]
    assert "AWS-ApplyAnsiblePlaybooks" not in [d["Name"] for d in windows]


def test_list_documents_pagination(ssm_client):
    pages = list(ssm_client.get_paginator("list_documents").paginate(
        Filters=[{"Key": "Owner", "Values": ["Amazon"]}], PaginationConfig={"PageSize": 3}))
    assert [len(p["DocumentIdentifiers"]) for p in pages] == [3, 3, 2]
    with pytest.raises(ssm_client.exceptions.InvalidNextToken):
        ssm_client.list_documents(NextToken="garbage")


def test_describe_run_shell_script(ssm_client):
    doc = ssm_client.describe_document(Name="AWS-RunShellScript")["Document"]
    assert doc["Owner"] == "Amazon"
    assert doc["SchemaVersion"] == "1.2"
    assert doc["DocumentType"] == "Command" and doc["Status"] == "Active"
    assert doc["HashType"] == "Sha256" and len(doc["Hash"]) == 64
    assert doc["DefaultVersion"] == doc["LatestVersion"] == doc["DocumentVersion"]
    params = parameters(ssm_client, "AWS-RunShellScript")
    assert params["commands"]["Type"] == "StringList" and "DefaultValue" not in params["commands"]
    assert params["workingDirectory"]["DefaultValue"] == ""
    assert params["executionTimeout"]["DefaultValue"] == "3600"


def test_schema_versions_and_parameters(ssm_client):
    expected = {
        "AWS-RunShellScript": ("1.2", {"commands", "workingDirectory", "executionTimeout"}),
        "AWS-RunPowerShellScript": ("1.2", {"commands", "workingDirectory", "executionTimeout"}),
        "AWS-RunPatchBaseline": (
            "2.2", {"Operation", "SnapshotId", "InstallOverrideList", "BaselineOverride", "RebootOption"}
        ),
        "AWS-ConfigureAWSPackage": ("2.2", {"action", "installationType", "name", "version", "additionalArguments"}),
        "AWS-UpdateSSMAgent": ("1.2", {"version", "allowDowngrade"}),
        "AWS-ApplyAnsiblePlaybooks": (
            "2.2",
            {"SourceType", "SourceInfo", "InstallDependencies", "PlaybookFile", "ExtraVariables", "Check", "Verbose",
             "TimeoutSeconds"},
        ),
        "AWS-GatherSoftwareInventory": (
            "2.0",
            {"applications", "awsComponents", "files", "networkConfig", "billingInfo", "windowsUpdates",
             "instanceDetailedInformation", "services", "windowsRegistry", "windowsRoles", "customInventory"},
        ),
    }
    for name, (schema, names) in expected.items():
        doc = ssm_client.describe_document(Name=name)["Document"]
        assert doc["SchemaVersion"] == schema, name
        assert set(parameters(ssm_client, name)) == names, name
    patch = parameters(ssm_client, "AWS-RunPatchBaseline")
    assert patch["RebootOption"]["DefaultValue"] == "RebootIfNeeded"
    assert "DefaultValue" not in patch["Operation"]
    package = parameters(ssm_client, "AWS-ConfigureAWSPackage")
    assert package["additionalArguments"]["Type"] == "StringMap"
    assert package["additionalArguments"]["DefaultValue"] == "{}"


def test_get_document_content(ssm_client):
    result = ssm_client.get_document(Name="AWS-RunPatchBaseline")
    content = json.loads(result["Content"])
    assert content["parameters"]["Operation"]["allowedValues"] == ["Scan", "Install"]
    assert content["parameters"]["RebootOption"]["allowedValues"] == ["RebootIfNeeded", "NoReboot"]
    assert result["DocumentFormat"] == "JSON" and result["Status"] == "Active"
    as_yaml = ssm_client.get_document(Name="AWS-RunPatchBaseline", DocumentFormat="YAML")
    assert yaml.safe_load(as_yaml["Content"]) == content
    assert as_yaml["DocumentFormat"] == "YAML"
    by_version = ssm_client.get_document(Name="AWS-RunShellScript", DocumentVersion="$LATEST")
    assert json.loads(by_version["Content"])["schemaVersion"] == "1.2"


def test_document_errors(ssm_client):
    with pytest.raises(ssm_client.exceptions.InvalidDocumentVersion):
        ssm_client.describe_document(Name="AWS-RunShellScript", DocumentVersion="99")
    with pytest.raises(ssm_client.exceptions.InvalidDocument):
        ssm_client.describe_document(Name="AWS-DoesNotExist")
    with pytest.raises(ssm_client.exceptions.InvalidDocument):
        ssm_client.get_document(Name="AWS-DoesNotExist")


def test_documents_visible_in_every_region(aws_client):
    west = aws_client("ssm", region="ap-southeast-2")
    assert west.describe_document(Name="AWS-UpdateSSMAgent")["Document"]["Name"] == "AWS-UpdateSSMAgent"


@pytest.mark.parametrize("name", ["AWS-RunShellScript", "aws-mine", "Amazon-Doc", "AMZN-x"])
def test_reserved_document_names(ssm_client, name):
    content = json.dumps({"schemaVersion": "2.2", "description": "x", "mainSteps": [
        {"action": "aws:runShellScript", "name": "run", "inputs": {"runCommand": ["true"]}}]})
    with pytest.raises(ssm_client.exceptions.ClientError) as excinfo:
        ssm_client.create_document(Name=name, Content=content, DocumentType="Command")
    assert excinfo.value.response["Error"]["Code"] == "ValidationException"
    assert ssm_client.describe_document(Name="AWS-RunShellScript")["Document"]["Owner"] == "Amazon"
