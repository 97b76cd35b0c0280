"""Parameter Store limits and validation: names, values, tiers, policies, data types, labels, versions."""

import datetime as dt
import json
import time

import pytest
from botocore.exceptions import ClientError


def error(excinfo):
    err = excinfo.value.response["Error"]
    return err["Code"], err.get("Message", "")


@pytest.fixture
def raw_ssm(aws_client):
    """An SSM client that sends what it is given (botocore's own checks off)."""
    return aws_client("ssm", parameter_validation=False)


# ---------------------------------------------------------------- names


@pytest.mark.parametrize(
    "name",
    ["bad name", "with$dollar", "a/b", "/double//slash", "/trailing/", "ümlaut"],
)
def test_invalid_names(raw_ssm, name):
    with pytest.raises(ClientError) as excinfo:
        raw_ssm.put_parameter(Name=name, Value="x", Type="String")
    code, message = error(excinfo)
    assert code == "ValidationException"
    assert message.startswith("Parameter name:")


@pytest.mark.parametrize("name", ["aws-thing", "AWSthing", "ssm", "/SSM/thing", "/ssmx/y"])
def test_reserved_prefixes(raw_ssm, name):
    with pytest.raises(ClientError) as excinfo:
        raw_ssm.put_parameter(Name=name, Value="x", Type="String")
    code, message = error(excinfo)
    assert code == "ValidationException"
    assert "can't be prefixed with" in message


def test_reserved_aws_path_is_access_denied(raw_ssm):
    with pytest.raises(ClientError) as excinfo:
        raw_ssm.put_parameter(Name="/aws/service/mine", Value="x", Type="String")
    assert error(excinfo) == ("AccessDeniedException", "No access to reserved parameter name: /aws/service/mine.")


def test_hierarchy_levels(ssm_client):
    fifteen = "/" + "/".join(f"l{i}" for i in range(15))
    ssm_client.put_parameter(Name=fifteen, Value="ok", Type="String")
    with pytest.raises(ssm_client.exceptions.HierarchyLevelLimitExceededException):
        ssm_client.put_parameter(Name=fifteen + "/l15", Value="x", Type="String")


def test_name_length(raw_ssm):
    prefix_len = len("arn:aws:ssm:us-east-1:123456789012:parameter/")
    fits = "/" + "n" * (1011 - prefix_len)
    raw_ssm.put_parameter(Name=fits, Value="x", Type="String")
    with pytest.raises(ClientError) as excinfo:
        raw_ssm.put_parameter(Name=fits + "n", Value="x", Type="String")
    assert error(excinfo)[0] == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        raw_ssm.put_parameter(Name="/" + "n" * 2048, Value="x", Type="String")
    code, message = error(excinfo)
    assert code == "ValidationException"
    assert "at 'name' failed to satisfy constraint: Member must have length less than or equal to 2048" in message


def test_spaces_at_the_ends_are_removed(ssm_client):
    ssm_client.put_parameter(Name="  /trim/me  ", Value="x", Type="String")
    assert ssm_client.get_parameter(Name="/trim/me")["Parameter"]["Name"] == "/trim/me"


# ---------------------------------------------------------------- values and tiers


def test_empty_value(raw_ssm):
    with pytest.raises(ClientError) as excinfo:
        raw_ssm.put_parameter(Name="/empty", Value="", Type="String")
    code, message = error(excinfo)
    assert code == "ValidationException"
    assert "Value at 'value'" in message and "greater than or equal to 1" in message


def test_nested_reference_rejected(ssm_client):
    with pytest.raises(ClientError) as excinfo:
        ssm_client.put_parameter(Name="/nest", Value="{{ssm:/other}}", Type="String")
    assert error(excinfo)[0] == "ValidationException"


def test_standard_tier_limit(ssm_client):
    ssm_client.put_parameter(Name="/size/ok", Value="x" * 4096, Type="String")
    with pytest.raises(ClientError) as excinfo:
        ssm_client.put_parameter(Name="/size/big", Value="x" * 4097, Type="String")
    code, message = error(excinfo)
    assert code == "ValidationException"
    assert "Standard tier parameters support a maximum parameter value of 4096" in message
    # multi-byte characters count by their encoded size
    with pytest.raises(ClientError):
        ssm_client.put_parameter(Name="/size/utf8", Value="é" * 2049, Type="String")


def test_advanced_tier_limit(ssm_client):
    result = ssm_client.put_parameter(Name="/size/adv", Value="x" * 8192, Type="String", Tier="Advanced")
    assert result["Tier"] == "Advanced"
    with pytest.raises(ClientError) as excinfo:
        ssm_client.put_parameter(Name="/size/adv2", Value="x" * 8193, Type="String", Tier="Advanced")
    code, message = error(excinfo)
    assert code == "ValidationException" and "8192" in message


def test_intelligent_tiering(ssm_client):
    small = ssm_client.put_parameter(Name="/it/small", Value="x", Type="String", Tier="Intelligent-Tiering")
    assert small["Tier"] == "Standard"
    big = ssm_client.put_parameter(Name="/it/big", Value="x" * 5000, Type="String", Tier="Intelligent-Tiering")
    assert big["Tier"] == "Advanced"
    policies = json.dumps([{"Type": "NoChangeNotification", "Version": "1.0", "Attributes": {"After": "5", "Unit": "Days"}}])
    with_policy = ssm_client.put_parameter(
        Name="/it/policy", Value="x", Type="String", Tier="Intelligent-Tiering", Policies=policies
    )
    assert with_policy["Tier"] == "Advanced"
    tiers = {p["Name"]: p["Tier"] for p in ssm_client.describe_parameters()["Parameters"]}
    assert tiers == {"/it/small": "Standard", "/it/big": "Advanced", "/it/policy": "Advanced"}


def test_no_downgrade_from_advanced(ssm_client):
    ssm_client.put_parameter(Name="/tier/adv", Value="x", Type="String", Tier="Advanced")
    with pytest.raises(ClientError) as excinfo:
        ssm_client.put_parameter(Name="/tier/adv", Value="y", Type="String", Tier="Standard", Overwrite=True)
    code, message = error(excinfo)
    assert code == "ValidationException" and "can't downgrade" in message
    # without a tier the parameter stays advanced
    assert ssm_client.put_parameter(Name="/tier/adv", Value="z", Overwrite=True)["Tier"] == "Advanced"
    # a standard parameter can be upgraded
    ssm_client.put_parameter(Name="/tier/std", Value="x", Type="String")
    assert ssm_client.put_parameter(Name="/tier/std", Value="y", Tier="Advanced", Overwrite=True)["Tier"] == "Advanced"


def test_value_too_big_for_existing_standard_without_tier(ssm_client):
    ssm_client.put_parameter(Name="/tier/grow", Value="x", Type="String")
    with pytest.raises(ClientError) as excinfo:
        ssm_client.put_parameter(Name="/tier/grow", Value="x" * 5000, Overwrite=True)
    assert "Standard tier" in error(excinfo)[1]


def test_description_limit(raw_ssm):
    raw_ssm.put_parameter(Name="/desc/ok", Value="x", Type="String", Description="d" * 1024)
    with pytest.raises(ClientError) as excinfo:
        raw_ssm.put_parameter(Name="/desc/long", Value="x", Type="String", Description="d" * 1025)
    assert "at 'description' failed to satisfy constraint: Member must have length less than or equal to 1024" in (
        error(excinfo)[1]
    )


def test_invalid_type(raw_ssm):
    with pytest.raises(ClientError) as excinfo:
        raw_ssm.put_parameter(Name="/badtype", Value="x", Type="Text")
    code, message = error(excinfo)
    assert code == "ValidationException"
    assert "Value 'Text' at 'type' failed to satisfy constraint: Member must satisfy enum value set" in message


def test_tags_and_overwrite_conflict(ssm_client):
    ssm_client.put_parameter(Name="/tags/ow", Value="x", Type="String")
    with pytest.raises(ClientError) as excinfo:
        ssm_client.put_parameter(
            Name="/tags/ow", Value="y", Overwrite=True, Tags=[{"Key": "a", "Value": "b"}]
        )
    code, message = error(excinfo)
    assert code == "ValidationException" and "tags and overwrite can't be used together" in message


def test_allowed_pattern(ssm_client):
    with pytest.raises(ssm_client.exceptions.ParameterPatternMismatchException):
        ssm_client.put_parameter(Name="/ap/p", Value="abc", Type="String", AllowedPattern=r"^\d+$")
    ssm_client.put_parameter(Name="/ap/p", Value="123", Type="String", AllowedPattern=r"^\d+$")
    with pytest.raises(ssm_client.exceptions.InvalidAllowedPatternException):
        ssm_client.put_parameter(Name="/ap/bad", Value="x", Type="String", AllowedPattern="([")
    # the pattern is kept and still enforced when it is not sent again
    with pytest.raises(ssm_client.exceptions.ParameterPatternMismatchException):
        ssm_client.put_parameter(Name="/ap/p", Value="12a", Overwrite=True)
    # a new pattern replaces it
    ssm_client.put_parameter(Name="/ap/p", Value="abc", AllowedPattern="^[a-z]+$", Overwrite=True)


def test_key_id_only_for_secure_string(ssm_client):
    with pytest.raises(ClientError) as excinfo:
        ssm_client.put_parameter(Name="/kid/s", Value="x", Type="String", KeyId="alias/aws/ssm")
    assert error(excinfo)[0] == "ValidationException"


# ---------------------------------------------------------------- data types


def test_data_type_ec2_image(ssm_client):
    ssm_client.put_parameter(Name="/ami/id", Value="ami-0123456789abcdef0", Type="String", DataType="aws:ec2:image")
    param = ssm_client.get_parameter(Name="/ami/id")["Parameter"]
    assert param["DataType"] == "aws:ec2:image"
    with pytest.raises(ClientError) as excinfo:
        ssm_client.put_parameter(Name="/ami/bad", Value="i-123", Type="String", DataType="aws:ec2:image")
    assert error(excinfo)[0] == "ValidationException"
    with pytest.raises(ClientError):
        ssm_client.put_parameter(Name="/ami/list", Value="ami-12345678", Type="StringList", DataType="aws:ec2:image")
    with pytest.raises(ClientError) as excinfo:  # can't change from or to aws:ec2:image
        ssm_client.put_parameter(Name="/ami/id", Value="plain", DataType="text", Overwrite=True)
    assert error(excinfo)[0] == "ValidationException"


def test_unknown_data_type(ssm_client):
    with pytest.raises(ClientError) as excinfo:
        ssm_client.put_parameter(Name="/dt/x", Value="x", Type="String", DataType="Text")
    assert error(excinfo) == (
        "ValidationException", "The following data type is not supported: Text (Data type names are all lowercase.)"
    )


@pytest.mark.parametrize(
    "data_type,good,bad",
    [
        ("integer", "443", "4.5"),
        ("boolean", "true", "yes"),
        ("aws:account:id", "123456789012", "12345"),
        ("aws:region", "eu-west-1", "mars-north-1"),
        ("ipv4-address", "10.0.0.1", "10.0.0.256"),
    ],
)
def test_value_validated_against_data_type(ssm_client, data_type, good, bad):
    ssm_client.put_parameter(Name="/dt/good", Value=good, Type="String", DataType=data_type)
    with pytest.raises(ClientError) as excinfo:
        ssm_client.put_parameter(Name="/dt/bad", Value=bad, Type="String", DataType=data_type)
    assert error(excinfo)[0] == "ValidationException"


def test_json_data_type_needs_advanced(ssm_client):
    with pytest.raises(ClientError):
        ssm_client.put_parameter(Name="/dt/json", Value='{"a": 1}', Type="String", DataType="json", Tier="Standard")
    assert ssm_client.put_parameter(
        Name="/dt/json", Value='{"a": 1}', Type="String", DataType="json", Tier="Intelligent-Tiering"
    )["Tier"] == "Advanced"


def test_integration_data_type_needs_secure_string(ssm_client):
    name = "/d9d01087-4a3f-49e0-b0b4-d568d7826553/ssm/integrations/webhook/hook"
    with pytest.raises(ClientError):
        ssm_client.put_parameter(Name=name, Value="{}", Type="String", DataType="aws:ssm:integration")
    ssm_client.put_parameter(Name=name, Value="{}", Type="SecureString", DataType="aws:ssm:integration")


# ---------------------------------------------------------------- policies


def _future(seconds=86400):
    return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_policies_on_advanced(ssm_client):
    policies = [
        {"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": _future()}},
        {"Type": "ExpirationNotification", "Version": "1.0", "Attributes": {"Before": "15", "Unit": "Days"}},
    ]
    ssm_client.put_parameter(Name="/pol/p", Value="x", Type="String", Tier="Advanced", Policies=json.dumps(policies))
    meta = ssm_client.describe_parameters()["Parameters"][0]
    assert [(p["PolicyType"], p["PolicyStatus"]) for p in meta["Policies"]] == [
        ("Expiration", "Pending"), ("ExpirationNotification", "Pending"),
    ]
    assert json.loads(meta["Policies"][0]["PolicyText"])["Attributes"]["Timestamp"] == policies[0]["Attributes"]["Timestamp"]
    history = ssm_client.get_parameter_history(Name="/pol/p")["Parameters"]
    assert len(history[0]["Policies"]) == 2
    # kept on overwrite without Policies, removed with an empty list
    ssm_client.put_parameter(Name="/pol/p", Value="y", Overwrite=True)
    assert len(ssm_client.describe_parameters()["Parameters"][0]["Policies"]) == 2
    ssm_client.put_parameter(Name="/pol/p", Value="z", Overwrite=True, Policies="[]")
    assert ssm_client.describe_parameters()["Parameters"][0]["Policies"] == []


def test_policies_rejected_on_standard(ssm_client):
    policies = json.dumps([{"Type": "NoChangeNotification", "Version": "1.0", "Attributes": {"After": "1", "Unit": "Days"}}])
    with pytest.raises(ClientError) as excinfo:
        ssm_client.put_parameter(Name="/pol/std", Value="x", Type="String", Tier="Standard", Policies=policies)
    assert error(excinfo)[0] == "ValidationException"
    with pytest.raises(ClientError):  # no tier: the default (standard) tier applies
        ssm_client.put_parameter(Name="/pol/std", Value="x", Type="String", Policies=policies)


@pytest.mark.parametrize(
    "policies,code",
    [
        ([{"Type": "Rotate", "Version": "1.0", "Attributes": {}}], "InvalidPolicyTypeException"),
        ([{"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": "tomorrow"}}], "InvalidPolicyAttributeException"),
        ([{"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": "2001-01-01T00:00:00.000Z"}}],
         "InvalidPolicyAttributeException"),
        ([{"Type": "NoChangeNotification", "Version": "1.0", "Attributes": {"After": "1", "Unit": "Weeks"}}],
         "InvalidPolicyAttributeException"),
        ([{"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": "2999-01-01T00:00:00.000Z"}}] * 2,
         "IncompatiblePolicyException"),
        ([{"Type": "NoChangeNotification", "Version": "1.0", "Attributes": {"After": str(i + 1), "Unit": "Days"}}
          for i in range(11)], "PoliciesLimitExceededException"),
    ],
)
def test_policy_errors(ssm_client, policies, code):
    with pytest.raises(ClientError) as excinfo:
        ssm_client.put_parameter(Name="/pol/bad", Value="x", Type="String", Tier="Advanced", Policies=json.dumps(policies))
    assert error(excinfo)[0] == code


def test_expiration_deletes_parameter(ssm_client):
    policies = json.dumps([{"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": _future(1)}}])
    ssm_client.put_parameter(Name="/pol/short", Value="x", Type="String", Tier="Advanced", Policies=policies)
    ssm_client.get_parameter(Name="/pol/short")
    time.sleep(1.2)
    with pytest.raises(ssm_client.exceptions.ParameterNotFound):
        ssm_client.get_parameter(Name="/pol/short")


# ---------------------------------------------------------------- versions and labels


def test_hundred_versions_then_oldest_dropped(ssm_client):
    for i in range(100):
        ssm_client.put_parameter(Name="/ver/p", Value=str(i), Type="String", Overwrite=True)
    assert ssm_client.put_parameter(Name="/ver/p", Value="100", Overwrite=True)["Version"] == 101
    history = ssm_client.get_parameter_history(Name="/ver/p", MaxResults=50)
    versions = [h["Version"] for h in history["Parameters"]]
    token = history["NextToken"]
    while token:
        page = ssm_client.get_parameter_history(Name="/ver/p", MaxResults=50, NextToken=token)
        versions += [h["Version"] for h in page["Parameters"]]
        token = page.get("NextToken")
    assert versions == list(range(2, 102))
    with pytest.raises(ssm_client.exceptions.ParameterVersionNotFound):
        ssm_client.get_parameter(Name="/ver/p:1")


def test_labelled_oldest_version_blocks_new_version(ssm_client):
    for i in range(100):
        ssm_client.put_parameter(Name="/ver/l", Value=str(i), Type="String", Overwrite=True)
    ssm_client.label_parameter_version(Name="/ver/l", ParameterVersion=1, Labels=["keep"])
    with pytest.raises(ssm_client.exceptions.ParameterMaxVersionLimitExceeded) as excinfo:
        ssm_client.put_parameter(Name="/ver/l", Value="x", Overwrite=True)
    assert "Version 1, the oldest version" in error(excinfo)[1]
    ssm_client.label_parameter_version(Name="/ver/l", ParameterVersion=2, Labels=["keep"])  # move the label
    assert ssm_client.put_parameter(Name="/ver/l", Value="x", Overwrite=True)["Version"] == 101


def test_labels(ssm_client):
    ssm_client.put_parameter(Name="/lab/p", Value="1", Type="String")
    ssm_client.put_parameter(Name="/lab/p", Value="2", Overwrite=True)
    result = ssm_client.label_parameter_version(
        Name="/lab/p", Labels=["prod", "awsx", "SSMy", "1st", "bad label", "ok_label.v-1"]
    )
    assert result["ParameterVersion"] == 2
    assert result["InvalidLabels"] == ["awsx", "SSMy", "1st", "bad label"]
    # moving a label between versions
    ssm_client.label_parameter_version(Name="/lab/p", ParameterVersion=1, Labels=["prod"])
    history = {h["Version"]: h["Labels"] for h in ssm_client.get_parameter_history(Name="/lab/p")["Parameters"]}
    assert history == {1: ["prod"], 2: ["ok_label.v-1"]}
    with pytest.raises(ssm_client.exceptions.ParameterVersionNotFound):
        ssm_client.label_parameter_version(Name="/lab/p", ParameterVersion=5, Labels=["x"])
    with pytest.raises(ssm_client.exceptions.ParameterNotFound):
        ssm_client.label_parameter_version(Name="/lab/none", Labels=["x"])


def test_label_limits(ssm_client, raw_ssm):
    ssm_client.put_parameter(Name="/lab/many", Value="1", Type="String")
    ssm_client.label_parameter_version(Name="/lab/many", Labels=[f"l{i}" for i in range(10)])
    with pytest.raises(ssm_client.exceptions.ParameterVersionLabelLimitExceeded):
        ssm_client.label_parameter_version(Name="/lab/many", Labels=["one-more"])
    with pytest.raises(ClientError) as excinfo:
        raw_ssm.label_parameter_version(Name="/lab/many", Labels=["x" * 101])
    code, message = error(excinfo)
    assert code == "ValidationException" and "less than or equal to 100" in message


def test_unlabel(ssm_client):
    ssm_client.put_parameter(Name="/unl/p", Value="1", Type="String")
    ssm_client.label_parameter_version(Name="/unl/p", ParameterVersion=1, Labels=["a", "b"])
    result = ssm_client.unlabel_parameter_version(Name="/unl/p", ParameterVersion=1, Labels=["a", "zzz"])
    assert result["RemovedLabels"] == ["a"]
    assert result["InvalidLabels"] == ["zzz"]
    with pytest.raises(ssm_client.exceptions.ParameterVersionNotFound):
        ssm_client.unlabel_parameter_version(Name="/unl/p", ParameterVersion=3, Labels=["b"])


def test_parameter_quota(ssm_client, monkeypatch):
    from fleetops_endpoint.ssm import parameters

    monkeypatch.setattr(parameters, "MAX_STANDARD_PARAMETERS", 2)
    ssm_client.put_parameter(Name="/quota/1", Value="x", Type="String")
    ssm_client.put_parameter(Name="/quota/2", Value="x", Type="String")
    with pytest.raises(ssm_client.exceptions.ParameterLimitExceeded):
        ssm_client.put_parameter(Name="/quota/3", Value="x", Type="String")
    # overwriting an existing standard parameter is still fine
    ssm_client.put_parameter(Name="/quota/2", Value="y", Overwrite=True)
    # Intelligent-Tiering creates an advanced parameter instead
    assert ssm_client.put_parameter(
        Name="/quota/3", Value="x", Type="String", Tier="Intelligent-Tiering"
    )["Tier"] == "Advanced"
