"""Tags of parameters; other resource types are still moto's."""

import pytest
from botocore.exceptions import ClientError


def error(excinfo):
    err = excinfo.value.response["Error"]
    return err["Code"], err.get("Message", "")


def test_tags_on_create_and_later(ssm_client):
    ssm_client.put_parameter(Name="/tg/p", Value="x", Type="String", Tags=[{"Key": "env", "Value": "prod"}])
    assert ssm_client.list_tags_for_resource(ResourceType="Parameter", ResourceId="/tg/p")["TagList"] == [
        {"Key": "env", "Value": "prod"}
    ]
    ssm_client.add_tags_to_resource(
        ResourceType="Parameter", ResourceId="/tg/p",
        Tags=[{"Key": "env", "Value": "dev"}, {"Key": "owner", "Value": "ops"}],
    )
    tags = ssm_client.list_tags_for_resource(ResourceType="Parameter", ResourceId="/tg/p")["TagList"]
    assert {t["Key"]: t["Value"] for t in tags} == {"env": "dev", "owner": "ops"}
    ssm_client.remove_tags_from_resource(ResourceType="Parameter", ResourceId="/tg/p", TagKeys=["env", "absent"])
    assert ssm_client.list_tags_for_resource(ResourceType="Parameter", ResourceId="/tg/p")["TagList"] == [
        {"Key": "owner", "Value": "ops"}
    ]


def test_tags_survive_overwrite(ssm_client):
    ssm_client.put_parameter(Name="/tg/keep", Value="x", Type="String", Tags=[{"Key": "a", "Value": "1"}])
    ssm_client.put_parameter(Name="/tg/keep", Value="y", Overwrite=True)
    assert ssm_client.list_tags_for_resource(ResourceType="Parameter", ResourceId="/tg/keep")["TagList"] == [
        {"Key": "a", "Value": "1"}
    ]


def test_unknown_parameter(ssm_client):
    for call in (
        lambda: ssm_client.list_tags_for_resource(ResourceType="Parameter", ResourceId="/tg/none"),
        lambda: ssm_client.add_tags_to_resource(ResourceType="Parameter", ResourceId="/tg/none",
                                                Tags=[{"Key": "a", "Value": "b"}]),
        lambda: ssm_client.remove_tags_from_resource(ResourceType="Parameter", ResourceId="/tg/none", TagKeys=["a"]),
    ):
        with pytest.raises(ssm_client.exceptions.InvalidResourceId):
            call()


def test_fifty_tags_per_parameter(ssm_client):
    ssm_client.put_parameter(Name="/tg/many", Value="x", Type="String",
                             Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    with pytest.raises(ssm_client.exceptions.TooManyTagsError):
        ssm_client.add_tags_to_resource(ResourceType="Parameter", ResourceId="/tg/many",
                                        Tags=[{"Key": "k50", "Value": "v"}])
    # replacing existing keys does not add to the count
    ssm_client.add_tags_to_resource(ResourceType="Parameter", ResourceId="/tg/many", Tags=[{"Key": "k1", "Value": "w"}])


def test_tag_key_rules(ssm_client, aws_client):
    ssm_client.put_parameter(Name="/tg/rules", Value="x", Type="String")
    with pytest.raises(ClientError) as excinfo:
        ssm_client.add_tags_to_resource(ResourceType="Parameter", ResourceId="/tg/rules",
                                        Tags=[{"Key": "aws:reserved", "Value": "v"}])
    assert error(excinfo)[0] == "ValidationException"
    raw = aws_client("ssm", parameter_validation=False)
    with pytest.raises(ClientError) as excinfo:
        raw.add_tags_to_resource(ResourceType="Parameter", ResourceId="/tg/rules",
                                 Tags=[{"Key": "k" * 129, "Value": "v"}])
    assert "at 'tags.1.member.key' failed to satisfy constraint" in error(excinfo)[1]
    with pytest.raises(ClientError) as excinfo:
        raw.add_tags_to_resource(ResourceType="Parameter", ResourceId="/tg/rules", Tags=[{"Key": "bad#key", "Value": "v"}])
    assert "regular expression pattern" in error(excinfo)[1]


def test_document_tags(ssm_client):
    content = '{"schemaVersion": "2.2", "description": "x", "mainSteps": [{"action": "aws:runShellScript", "name": "s", "inputs": {"runCommand": ["true"]}}]}'
    ssm_client.create_document(Name="my-doc", Content=content, DocumentType="Command")
    ssm_client.add_tags_to_resource(ResourceType="Document", ResourceId="my-doc", Tags=[{"Key": "a", "Value": "b"}])
    assert ssm_client.list_tags_for_resource(ResourceType="Document", ResourceId="my-doc")["TagList"] == [
        {"Key": "a", "Value": "b"}
    ]
