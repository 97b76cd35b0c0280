"""Parameter Store basics: create, read, overwrite, versions, selectors, deletes."""

import datetime as dt

import pytest
from botocore.exceptions import ClientError


def error(excinfo):
    err = excinfo.value.response["Error"]
    return err["Code"], err.get("Message", "")


def test_put_and_get_string(ssm_client):
    result = ssm_client.put_parameter(Name="/app/db/host", Value="db.internal", Type="String", Description="db host")
    assert result["Version"] == 1
    assert result["Tier"] == "Standard"
    param = ssm_client.get_parameter(Name="/app/db/host")["Parameter"]
    assert param["Name"] == "/app/db/host"
    assert param["Value"] == "db.internal"
    assert param["Type"] == "String"
    assert param["Version"] == 1
    assert param["DataType"] == "text"
    assert param["ARN"] == "arn:aws:ssm:us-east-1:123456789012:parameter/app/db/host"
    assert isinstance(param["LastModifiedDate"], dt.datetime)
    assert "Selector" not in param


def test_region_from_signature(aws_client):
    west = aws_client("ssm", region="eu-west-1")
    east = aws_client("ssm")
    west.put_parameter(Name="regional", Value="w", Type="String")
    assert west.get_parameter(Name="regional")["Parameter"]["ARN"] == (
        "arn:aws:ssm:eu-west-1:123456789012:parameter/regional"
    )
    with pytest.raises(ClientError) as excinfo:
        east.get_parameter(Name="regional")
    assert error(excinfo)[0] == "ParameterNotFound"


def test_missing_parameter_has_no_message(ssm_client):
    with pytest.raises(ssm_client.exceptions.ParameterNotFound) as excinfo:
        ssm_client.get_parameter(Name="/does/not/exist")
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error(excinfo) == ("ParameterNotFound", "")


def test_existing_without_overwrite(ssm_client):
    ssm_client.put_parameter(Name="dup", Value="1", Type="String")
    with pytest.raises(ssm_client.exceptions.ParameterAlreadyExists) as excinfo:
        ssm_client.put_parameter(Name="dup", Value="2", Type="String")
    assert "overwrite" in error(excinfo)[1]
    assert ssm_client.get_parameter(Name="dup")["Parameter"]["Value"] == "1"


def test_overwrite_increments_version_and_keeps_metadata(ssm_client):
    ssm_client.put_parameter(Name="/v/p", Value="1", Type="String", Description="first", AllowedPattern=r"\d+")
    assert ssm_client.put_parameter(Name="/v/p", Value="2", Overwrite=True)["Version"] == 2
    meta = ssm_client.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": ["/v/p"]}])["Parameters"][0]
    assert meta["Version"] == 2
    assert meta["Description"] == "first"
    assert meta["AllowedPattern"] == r"\d+"
    assert meta["Type"] == "String"
    with pytest.raises(ssm_client.exceptions.ParameterPatternMismatchException) as excinfo:
        ssm_client.put_parameter(Name="/v/p", Value="abc", Overwrite=True)
    assert r"\d+" in error(excinfo)[1]


def test_type_change_on_overwrite_is_allowed(ssm_client):
    ssm_client.put_parameter(Name="/t/change", Value="a,b", Type="StringList")
    ssm_client.put_parameter(Name="/t/change", Value="secret", Type="SecureString", Overwrite=True)
    param = ssm_client.get_parameter(Name="/t/change", WithDecryption=True)["Parameter"]
    assert param["Type"] == "SecureString"
    assert param["Value"] == "secret"


def test_type_required_on_create(aws_client):
    client = aws_client("ssm")
    with pytest.raises(ClientError) as excinfo:
        client.put_parameter(Name="notype", Value="x")
    assert error(excinfo) == ("ValidationException", "A parameter type is required when you create a parameter.")


def test_leading_slash_optional_for_single_level_names(ssm_client):
    ssm_client.put_parameter(Name="/single", Value="x", Type="String")
    assert ssm_client.get_parameter(Name="single")["Parameter"]["Value"] == "x"
    with pytest.raises(ssm_client.exceptions.ParameterAlreadyExists):
        ssm_client.put_parameter(Name="single", Value="y", Type="String")


def test_names_are_case_sensitive(ssm_client):
    ssm_client.put_parameter(Name="/Case/Name", Value="upper", Type="String")
    ssm_client.put_parameter(Name="/case/name", Value="lower", Type="String")
    assert ssm_client.get_parameter(Name="/Case/Name")["Parameter"]["Value"] == "upper"
    assert ssm_client.get_parameter(Name="/case/name")["Parameter"]["Value"] == "lower"


def test_version_and_label_selectors(ssm_client):
    for value in ("one", "two", "three"):
        ssm_client.put_parameter(Name="/sel/p", Value=value, Type="String", Overwrite=True)
    ssm_client.label_parameter_version(Name="/sel/p", ParameterVersion=2, Labels=["prod"])
    by_version = ssm_client.get_parameter(Name="/sel/p:1")["Parameter"]
    assert (by_version["Value"], by_version["Version"], by_version["Selector"]) == ("one", 1, ":1")
    assert by_version["Name"] == "/sel/p"
    by_label = ssm_client.get_parameter(Name="/sel/p:prod")["Parameter"]
    assert (by_label["Value"], by_label["Version"], by_label["Selector"]) == ("two", 2, ":prod")
    with pytest.raises(ssm_client.exceptions.ParameterVersionNotFound) as excinfo:
        ssm_client.get_parameter(Name="/sel/p:9")
    assert "could not find version 9 of /sel/p" in error(excinfo)[1]
    with pytest.raises(ssm_client.exceptions.ParameterNotFound):
        ssm_client.get_parameter(Name="/sel/p:nolabel")


def test_get_parameter_by_arn(ssm_client):
    ssm_client.put_parameter(Name="/arn/p", Value="v", Type="String")
    arn = "arn:aws:ssm:us-east-1:123456789012:parameter/arn/p"
    assert ssm_client.get_parameter(Name=arn)["Parameter"]["Name"] == "/arn/p"
    assert ssm_client.get_parameter_history(Name=arn)["Parameters"][0]["Value"] == "v"


def test_get_parameters_sorted_with_invalid(ssm_client):
    for name in ("/gp/b", "/gp/a", "/gp/c"):
        ssm_client.put_parameter(Name=name, Value=name[-1], Type="String")
    ssm_client.put_parameter(Name="/gp/a", Value="a2", Type="String", Overwrite=True)
    result = ssm_client.get_parameters(Names=["/gp/c", "/gp/missing", "/gp/a:1", "/gp/b", "/gp/b:7"])
    assert [(p["Name"], p["Value"]) for p in result["Parameters"]] == [("/gp/a", "a"), ("/gp/b", "b"), ("/gp/c", "c")]
    assert result["Parameters"][0]["Selector"] == ":1"
    assert result["InvalidParameters"] == ["/gp/missing", "/gp/b:7"]


def test_get_parameters_empty_invalid_list(ssm_client):
    ssm_client.put_parameter(Name="/gp2/a", Value="a", Type="String")
    result = ssm_client.get_parameters(Names=["/gp2/a"])
    assert result["InvalidParameters"] == []


def test_get_parameters_limit_is_ten(aws_client):
    client = aws_client("ssm", parameter_validation=False)
    names = [f"/many/p{i}" for i in range(11)]
    with pytest.raises(ClientError) as excinfo:
        client.get_parameters(Names=names)
    code, message = error(excinfo)
    assert code == "ValidationException"
    assert message.startswith("1 validation error detected: Value '[/many/p0, /many/p1")
    assert "at 'names' failed to satisfy constraint: Member must have length less than or equal to 10" in message
    with pytest.raises(ClientError) as excinfo:
        client.get_parameters(Names=[])
    assert "greater than or equal to 1" in error(excinfo)[1]


def test_delete_parameter(ssm_client):
    ssm_client.put_parameter(Name="/del/one", Value="x", Type="String", Tags=[{"Key": "k", "Value": "v"}])
    ssm_client.delete_parameter(Name="/del/one")
    with pytest.raises(ssm_client.exceptions.ParameterNotFound):
        ssm_client.get_parameter(Name="/del/one")
    with pytest.raises(ssm_client.exceptions.ParameterNotFound):
        ssm_client.delete_parameter(Name="/del/one")
    ssm_client.put_parameter(Name="/del/one", Value="again", Type="String")
    assert ssm_client.get_parameter(Name="/del/one")["Parameter"]["Version"] == 1
    assert ssm_client.list_tags_for_resource(ResourceType="Parameter", ResourceId="/del/one")["TagList"] == []


def test_delete_parameters(ssm_client, aws_client):
    for i in range(3):
        ssm_client.put_parameter(Name=f"/dp/{i}", Value="x", Type="String")
    result = ssm_client.delete_parameters(Names=["/dp/0", "/dp/nope", "/dp/2"])
    assert result["DeletedParameters"] == ["/dp/0", "/dp/2"]
    assert result["InvalidParameters"] == ["/dp/nope"]
    assert ssm_client.get_parameters(Names=["/dp/1"])["Parameters"][0]["Name"] == "/dp/1"
    raw = aws_client("ssm", parameter_validation=False)
    with pytest.raises(ClientError) as excinfo:
        raw.delete_parameters(Names=[f"/dp/x{i}" for i in range(11)])
    assert "less than or equal to 10" in error(excinfo)[1]


def test_history(ssm_client):
    ssm_client.put_parameter(Name="/h/p", Value="1", Type="String", Description="d1")
    ssm_client.put_parameter(Name="/h/p", Value="2", Type="String", Description="d2", Overwrite=True)
    ssm_client.label_parameter_version(Name="/h/p", ParameterVersion=1, Labels=["old"])
    history = ssm_client.get_parameter_history(Name="/h/p")["Parameters"]
    assert [(h["Version"], h["Value"], h["Description"], h["Labels"]) for h in history] == [
        (1, "1", "d1", ["old"]),
        (2, "2", "d2", []),
    ]
    assert history[0]["LastModifiedUser"] == "arn:aws:iam::123456789012:user/test"
    assert history[0]["Policies"] == [] and history[0]["Tier"] == "Standard"
    with pytest.raises(ssm_client.exceptions.ParameterNotFound):
        ssm_client.get_parameter_history(Name="/h/none")


def test_last_modified_user_from_iam_access_key(aws_client):
    iam = aws_client("iam")
    iam.create_user(UserName="deployer")
    key = iam.create_access_key(UserName="deployer")["AccessKey"]
    import boto3

    client = boto3.client(
        "ssm", endpoint_url=aws_client("ssm").meta.endpoint_url, region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
    )
    client.put_parameter(Name="/who", Value="x", Type="String")
    meta = client.describe_parameters()["Parameters"][0]
    assert meta["LastModifiedUser"] == "arn:aws:iam::123456789012:user/deployer"


def test_public_aws_service_parameters_are_readable(ssm_client):
    name = "/aws/service/global-infrastructure/regions/us-east-1"
    param = ssm_client.get_parameter(Name=name)["Parameter"]
    assert param["Value"] == "us-east-1"
    assert param["ARN"].startswith("arn:aws:ssm:us-east-1::parameter/aws/service/")
