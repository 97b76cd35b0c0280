"""SecureString: real encryption through the emulated KMS, key handling and reporting."""

import base64

import pytest
from botocore.exceptions import ClientError


def error(excinfo):
    err = excinfo.value.response["Error"]
    return err["Code"], err.get("Message", "")


def test_value_is_encrypted_with_the_default_key(ssm_client, aws_client):
    kms = aws_client("kms")
    ssm_client.put_parameter(Name="/sec/db/password", Value="hunter2", Type="SecureString")
    stored = ssm_client.get_parameter(Name="/sec/db/password")["Parameter"]
    assert stored["Type"] == "SecureString"
    assert stored["Value"] != "hunter2"
    blob = base64.b64decode(stored["Value"])
    assert b"hunter2" not in blob
    arn = "arn:aws:ssm:us-east-1:123456789012:parameter/sec/db/password"
    decrypted = kms.decrypt(CiphertextBlob=blob, EncryptionContext={"PARAMETER_ARN": arn})
    assert decrypted["Plaintext"] == b"hunter2"
    alias = next(a for a in kms.list_aliases()["Aliases"] if a["AliasName"] == "alias/aws/ssm")
    assert decrypted["KeyId"].endswith(alias["TargetKeyId"])
    key = kms.describe_key(KeyId="alias/aws/ssm")["KeyMetadata"]
    assert key["KeyManager"] == "AWS"
    assert ssm_client.get_parameter(Name="/sec/db/password", WithDecryption=True)["Parameter"]["Value"] == "hunter2"
    meta = ssm_client.describe_parameters()["Parameters"][0]
    assert meta["KeyId"] == "alias/aws/ssm"


def test_wrong_context_does_not_decrypt(ssm_client, aws_client):
    kms = aws_client("kms")
    ssm_client.put_parameter(Name="/sec/ctx", Value="v", Type="SecureString")
    blob = base64.b64decode(ssm_client.get_parameter(Name="/sec/ctx")["Parameter"]["Value"])
    with pytest.raises(ClientError):
        kms.decrypt(CiphertextBlob=blob, EncryptionContext={"PARAMETER_ARN": "arn:aws:ssm:us-east-1:123456789012:parameter/other"})


def test_customer_key_by_alias_id_and_arn(ssm_client, aws_client):
    kms = aws_client("kms")
    key = kms.create_key(Description="app key")["KeyMetadata"]
    kms.create_alias(AliasName="alias/app", TargetKeyId=key["KeyId"])
    for name, key_id in (("/k/alias", "alias/app"), ("/k/id", key["KeyId"]), ("/k/arn", key["Arn"])):
        ssm_client.put_parameter(Name=name, Value=f"value-{name}", Type="SecureString", KeyId=key_id)
        blob = base64.b64decode(ssm_client.get_parameter(Name=name)["Parameter"]["Value"])
        out = kms.decrypt(
            CiphertextBlob=blob, EncryptionContext={"PARAMETER_ARN": f"arn:aws:ssm:us-east-1:123456789012:parameter{name}"}
        )
        assert out["KeyId"] == key["Arn"]
    reported = {p["Name"]: p["KeyId"] for p in ssm_client.describe_parameters()["Parameters"]}
    assert reported == {"/k/alias": "alias/app", "/k/id": key["KeyId"], "/k/arn": key["Arn"]}
    history = ssm_client.get_parameter_history(Name="/k/alias", WithDecryption=True)["Parameters"]
    assert history[0]["KeyId"] == "alias/app" and history[0]["Value"] == "value-/k/alias"
    # the key id is kept when the value is overwritten without KeyId
    ssm_client.put_parameter(Name="/k/alias", Value="new", Overwrite=True)
    assert ssm_client.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": ["/k/alias"]}])[
        "Parameters"][0]["KeyId"] == "alias/app"


def test_key_id_filter(ssm_client, aws_client):
    kms = aws_client("kms")
    key = kms.create_key()["KeyMetadata"]
    ssm_client.put_parameter(Name="/kf/custom", Value="x", Type="SecureString", KeyId=key["KeyId"])
    ssm_client.put_parameter(Name="/kf/default", Value="x", Type="SecureString")
    ssm_client.put_parameter(Name="/kf/plain", Value="x", Type="String")
    found = ssm_client.describe_parameters(ParameterFilters=[{"Key": "KeyId", "Values": [key["KeyId"]]}])
    assert [p["Name"] for p in found["Parameters"]] == ["/kf/custom"]
    found = ssm_client.describe_parameters(ParameterFilters=[{"Key": "KeyId", "Values": ["alias/aws/ssm"]}])
    assert [p["Name"] for p in found["Parameters"]] == ["/kf/default"]
    legacy = ssm_client.describe_parameters(Filters=[{"Key": "KeyId", "Values": ["alias/aws/ssm"]}])
    assert [p["Name"] for p in legacy["Parameters"]] == ["/kf/default"]


@pytest.mark.parametrize(
    "key_id,fragment",
    [
        ("alias/nope", "Alias arn:aws:kms:us-east-1:123456789012:alias/nope is not found."),
        ("11111111-2222-3333-4444-555555555555", "does not exist"),
        ("arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555", "does not exist"),
        ("not-a-key", "Invalid keyId"),
    ],
)
def test_invalid_key_id(ssm_client, key_id, fragment):
    with pytest.raises(ssm_client.exceptions.InvalidKeyId) as excinfo:
        ssm_client.put_parameter(Name="/k/bad", Value="x", Type="SecureString", KeyId=key_id)
    assert fragment in error(excinfo)[1]
    with pytest.raises(ssm_client.exceptions.ParameterNotFound):
        ssm_client.get_parameter(Name="/k/bad")


def test_disabled_key(ssm_client, aws_client):
    kms = aws_client("kms")
    key = kms.create_key()["KeyMetadata"]
    kms.disable_key(KeyId=key["KeyId"])
    with pytest.raises(ssm_client.exceptions.InvalidKeyId) as excinfo:
        ssm_client.put_parameter(Name="/k/disabled", Value="x", Type="SecureString", KeyId=key["KeyId"])
    assert "DisabledException" in error(excinfo)[1]


def test_advanced_secure_string_uses_envelope_encryption(ssm_client):
    value = "s" * 6000
    result = ssm_client.put_parameter(Name="/sec/big", Value=value, Type="SecureString", Tier="Advanced")
    assert result["Tier"] == "Advanced"
    stored = ssm_client.get_parameter(Name="/sec/big")["Parameter"]["Value"]
    assert value not in stored and b"s" * 100 not in base64.b64decode(stored)
    assert ssm_client.get_parameter(Name="/sec/big", WithDecryption=True)["Parameter"]["Value"] == value


def test_decryption_flag_on_every_read(ssm_client):
    ssm_client.put_parameter(Name="/sec/r/a", Value="alpha", Type="SecureString")
    ssm_client.put_parameter(Name="/sec/r/b", Value="beta", Type="String")
    plain = ssm_client.get_parameters(Names=["/sec/r/a", "/sec/r/b"], WithDecryption=True)["Parameters"]
    assert [p["Value"] for p in plain] == ["alpha", "beta"]
    hidden = ssm_client.get_parameters(Names=["/sec/r/a", "/sec/r/b"])["Parameters"]
    assert hidden[0]["Value"] != "alpha" and hidden[1]["Value"] == "beta"
    by_path = ssm_client.get_parameters_by_path(Path="/sec/r", WithDecryption=True)["Parameters"]
    assert [p["Value"] for p in by_path] == ["alpha", "beta"]
    by_path = ssm_client.get_parameters_by_path(Path="/sec/r")["Parameters"]
    assert by_path[0]["Value"] != "alpha"
