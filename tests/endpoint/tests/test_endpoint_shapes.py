"""The response-shape validator, and every operation of ours checked against botocore's model."""

import json

import pytest
from botocore.exceptions import ClientError

from fleet_helpers import exercise_fleet_operations
from test_endpoint_compliance import exercise_compliance_operations
from test_endpoint_activations import exercise_activation_operations
from test_endpoint_documents_user import exercise_document_operations
from test_endpoint_inventory import exercise_inventory_operations
from test_endpoint_maintenance_windows import exercise_maintenance_window_operations
from fleetops_endpoint import shapes
from fleetops_endpoint.ssm import registry

GOOD_PARAMETER = {
    "Name": "/a", "Type": "String", "Value": "v", "Version": 1, "LastModifiedDate": 1700000000.5,
    "ARN": "arn:aws:ssm:us-east-1:123456789012:parameter/a", "DataType": "text",
}


def test_validator_accepts_a_good_body():
    assert shapes.validate_output("ssm", "GetParameter", {"Parameter": GOOD_PARAMETER}) == []


@pytest.mark.parametrize(
    "change,fragment",
    [
        ({"Extra": 1}, "unknown member 'Extra'"),
        ({"LastModifiedDate": "2024-01-01T00:00:00Z"}, "timestamp as epoch seconds"),
        ({"Version": "1"}, "expected an integer"),
        ({"Version": True}, "expected an integer"),
        ({"Type": "Secret"}, "not one of the enum values"),
        ({"Name": ""}, "below the model minimum 1"),
        ({"Selector": "x" * 129}, "above the model maximum 128"),
        ({"Value": None}, "null is never sent"),
    ],
)
def test_validator_rejects(change, fragment):
    body = {"Parameter": {**GOOD_PARAMETER, **change}}
    problems = shapes.validate_output("ssm", "GetParameter", body)
    assert any(fragment in p for p in problems), problems


def test_validator_checks_nested_lists_and_required_members():
    body = {"Parameters": [{"Name": "/a", "Labels": ["x"] * 11}]}
    problems = shapes.validate_output("ssm", "GetParameterHistory", body)
    assert any("above the model maximum 10" in p for p in problems)
    assert shapes.validate_error("ssm", {"__type": "ThrottlingException"}) != []  # Message is required
    assert shapes.validate_error("ssm", {"__type": "InvalidResourceId", "message": "x"}) != []
    assert shapes.validate_output("ssm", "ListDocuments", {"DocumentIdentifiers": [{"PlatformTypes": ["Solaris"]}]})


def test_input_messages_follow_aws_format():
    errors = shapes.validate_input("ssm", "GetParametersByPath", {"Path": "/a", "MaxResults": 11})
    assert errors == ["Value '11' at 'maxResults' failed to satisfy constraint: Member must have value less than or "
                      "equal to 10"]
    errors = shapes.validate_input("ssm", "PutParameter", {"Name": "/a"})
    assert errors == ["Value null at 'value' failed to satisfy constraint: Member must not be null"]
    errors = shapes.validate_input("ssm", "DescribeParameters", {"ParameterFilters": [{"Key": "Bad"}]})
    assert errors[0].startswith("Value 'Bad' at 'parameterFilters.1.member.key' failed to satisfy constraint: "
                                "Member must satisfy regular expression pattern:")
    assert shapes.validation_message(["a", "b"]) == "2 validation errors detected: a; b"


def test_strict_mode_turns_shape_errors_into_500(ssm_client, aws_client, monkeypatch, ssm_endpoint):
    assert ssm_endpoint.state.strict, "the test plugin turns strict mode on"
    monkeypatch.setitem(registry.OPERATIONS, "DescribeParameters", lambda request, ctx: {"Parameters": [{"Bogus": 1}]})
    client = aws_client("ssm", retries=0)
    with pytest.raises(ClientError) as excinfo:
        client.describe_parameters()
    err = excinfo.value.response["Error"]
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert err["Code"] == "InternalServerError"
    assert "does not match botocore's output shape" in err["Message"] and "Bogus" in err["Message"]


def test_every_operation_of_ours_matches_its_output_shape(ssm_client, aws_client, ssm_endpoint):
    """Calls each registered operation (success and typical errors) and checks the raw bodies."""
    raw_bodies = []

    def capture(operation_model, response_dict, **kwargs):
        ours = response_dict["headers"].get("x-fleetops-layer") == "ssm"
        raw_bodies.append((operation_model.name, response_dict["status_code"], response_dict["body"], ours))

    ssm = aws_client("ssm")
    ssm.meta.events.register("before-parse.ssm.*", capture)
    kms = aws_client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    policies = json.dumps([{"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": "2999-01-01T00:00:00.000Z"}}])

    ssm.put_parameter(Name="/shape/s", Value="v", Type="String", Description="d", AllowedPattern=".*",
                      Tags=[{"Key": "k", "Value": "v"}])
    ssm.put_parameter(Name="/shape/s", Value="v2", Overwrite=True)
    ssm.put_parameter(Name="/shape/l", Value="a,b", Type="StringList", DataType="text")
    ssm.put_parameter(Name="/shape/sec", Value="x", Type="SecureString", KeyId=key, Tier="Advanced", Policies=policies)
    ssm.get_parameter(Name="/shape/s")
    ssm.get_parameter(Name="/shape/s:1")
    ssm.get_parameter(Name="/shape/sec", WithDecryption=True)
    ssm.get_parameter(Name="/aws/service/global-infrastructure/regions/us-east-1")
    ssm.get_parameters(Names=["/shape/s", "/shape/l", "/shape/none", "/shape/sec"], WithDecryption=True)
    ssm.get_parameters_by_path(Path="/shape", Recursive=True, MaxResults=2)
    ssm.describe_parameters(MaxResults=1)
    ssm.describe_parameters(ParameterFilters=[{"Key": "tag:k"}])
    ssm.label_parameter_version(Name="/shape/s", Labels=["good", "1bad"])
    ssm.unlabel_parameter_version(Name="/shape/s", ParameterVersion=2, Labels=["good", "other"])
    ssm.get_parameter_history(Name="/shape/s")
    ssm.get_parameter_history(Name="/shape/sec", WithDecryption=True)
    ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId="/shape/s", Tags=[{"Key": "a", "Value": ""}])
    ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="/shape/s")
    ssm.remove_tags_from_resource(ResourceType="Parameter", ResourceId="/shape/s", TagKeys=["a"])
    ssm.describe_document(Name="AWS-ConfigureAWSPackage")
    ssm.get_document(Name="AWS-ApplyAnsiblePlaybooks", DocumentFormat="YAML")
    ssm.list_documents(MaxResults=2)
    ssm.create_document(Name="shape-doc", DocumentType="Command", Content=json.dumps(
        {"schemaVersion": "2.2", "description": "d", "mainSteps": [
            {"action": "aws:runShellScript", "name": "s", "inputs": {"runCommand": ["true"]}}]}))
    baseline = ssm.create_patch_baseline(Name="shape-pb", OperatingSystem="WINDOWS", ApprovedPatches=["KB9000001"],
                                         Tags=[{"Key": "k", "Value": "v"}])["BaselineId"]
    ssm.update_patch_baseline(BaselineId=baseline, Description="d")
    ssm.get_patch_baseline(BaselineId=baseline)
    ssm.describe_patch_baselines(MaxResults=2)
    ssm.register_patch_baseline_for_patch_group(BaselineId=baseline, PatchGroup="shape")
    ssm.get_patch_baseline_for_patch_group(PatchGroup="shape")
    ssm.describe_patch_groups()
    ssm.describe_patch_group_state(PatchGroup="shape")
    ssm.describe_effective_patches_for_patch_baseline(BaselineId=baseline)
    ssm.describe_instance_patch_states(InstanceIds=["i-0123456789abcdef0"])
    ssm.describe_instance_patch_states_for_patch_group(PatchGroup="shape")
    ssm.describe_instance_patches(InstanceId="i-0123456789abcdef0")
    ssm.deregister_patch_baseline_for_patch_group(BaselineId=baseline, PatchGroup="shape")
    ssm.register_default_patch_baseline(BaselineId=ssm.get_default_patch_baseline()["BaselineId"])
    ssm.delete_patch_baseline(BaselineId=baseline)
    ssm.delete_parameters(Names=["/shape/l", "/shape/none"])
    ssm.delete_parameter(Name="/shape/s")
    exercise_fleet_operations(ssm)  # managed nodes, sessions, Run Command (fleet_helpers.py)
    exercise_maintenance_window_operations(ssm, ssm_endpoint)
    exercise_inventory_operations(ssm, ssm_endpoint)
    exercise_document_operations(ssm)
    exercise_compliance_operations(ssm, ssm_endpoint)
    exercise_activation_operations(ssm, ssm_endpoint, aws_client)
    for call in (
        lambda: ssm.get_parameter(Name="/shape/none"),
        lambda: ssm.put_parameter(Name="/shape/sec", Value="x", Type="SecureString"),
        lambda: ssm.put_parameter(Name="/shape/x", Value="x", Type="SecureString", KeyId="alias/none"),
        lambda: ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="/shape/none"),
        lambda: ssm.describe_parameters(ParameterFilters=[{"Key": "Label", "Values": ["x"]}]),
        lambda: ssm.get_parameters_by_path(Path="/shape", NextToken="bad"),
        lambda: ssm.describe_document(Name="AWS-RunShellScript", DocumentVersion="7"),
        lambda: ssm.create_document(Name="AWS-Mine", DocumentType="Command", Content="{}"),
    ):
        with pytest.raises(ClientError):
            call()

    called = {entry[0] for entry in raw_bodies if entry[3]}
    assert set(registry.OPERATIONS) <= called, set(registry.OPERATIONS) - called
    problems = []
    for name, status, body, ours in raw_bodies:
        if not ours:  # moto answered (a fall-through); its shapes are not ours to check
            continue
        payload = json.loads(body or b"{}")
        if status == 200:
            problems += shapes.validate_output("ssm", name, payload)
        else:
            assert 400 <= status < 500, (name, status, payload)
            problems += shapes.validate_error("ssm", payload)
    assert problems == []


@pytest.mark.parametrize("body", [b"{not json", b'{"Name": 5}', b"[]"])
def test_malformed_requests(clean_endpoint, body):
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        clean_endpoint.url + "/", data=body, method="POST",
        headers={"X-Amz-Target": "AmazonSSM.GetParameter", "Content-Type": "application/x-amz-json-1.1"},
    )
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(request, timeout=10)
    assert excinfo.value.code == 400
    assert json.loads(excinfo.value.read())["__type"] == "SerializationException"
