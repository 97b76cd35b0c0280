"""Managed nodes: the control API, DescribeInstanceInformation, tags of type ManagedInstance, the fleet view."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from fleet_helpers import error

ENDPOINT_DIR = Path(__file__).resolve().parent.parent


def infos(ssm, **kwargs):
    return ssm.describe_instance_information(**kwargs)["InstanceInformationList"]


def by_id(ssm, **kwargs):
    return {i["InstanceId"]: i for i in infos(ssm, **kwargs)}


def test_registered_node_fields(ssm_client, managed_node):
    node = managed_node("node-1", tags={"Name": "node-1", "Environment": "sandbox", "Patch Group": "sandbox-a"})
    [info] = infos(ssm_client)
    assert info["InstanceId"] == node.instance_id
    assert info["PingStatus"] == "Online"
    assert info["AgentVersion"] == "3.3.0.0" and info["IsLatestVersion"] is True
    assert (info["PlatformType"], info["PlatformName"], info["PlatformVersion"]) == ("Linux", "Debian GNU/Linux", "12")
    assert (info["ResourceType"], info["Name"], info["ComputerName"]) == ("ManagedInstance", "node-1", "node-1")
    assert info["IPAddress"] == "127.0.0.1"
    assert (info["SourceId"], info["SourceType"]) == (node.instance_id, "AWS::SSM::ManagedInstance")
    assert info["RegistrationDate"] <= info["LastPingDateTime"]
    assert "ActivationId" not in info and "IamRole" not in info


def test_registration_update_keeps_the_registration_date(ssm_client, managed_node, clean_endpoint):
    node = managed_node("node-1")
    first = by_id(ssm_client)[node.instance_id]["RegistrationDate"]
    record = node.start()  # a reboot registers again
    assert record["last_registration"] >= record["registration_date"] == round(first.timestamp(), 3)
    again = by_id(ssm_client)[node.instance_id]
    assert again["RegistrationDate"] == first
    listed = clean_endpoint.control("GET", "/nodes")["nodes"]
    assert [n["instance_id"] for n in listed] == [node.instance_id]
    assert listed[0]["ping_status"] == "Online"


def test_ping_status_follows_the_leader_process(ssm_client, managed_node):
    node = managed_node("node-1")
    assert by_id(ssm_client)[node.instance_id]["PingStatus"] == "Online"
    node.stop()
    lost = by_id(ssm_client)[node.instance_id]
    assert lost["PingStatus"] == "ConnectionLost"
    node.start()
    back = by_id(ssm_client)[node.instance_id]
    assert back["PingStatus"] == "Online" and back["LastPingDateTime"] >= lost["LastPingDateTime"]
    offline = managed_node("node-2", online=False)  # registered with "leader_pid": null
    assert by_id(ssm_client)[offline.instance_id]["PingStatus"] == "ConnectionLost"


def test_filters(ssm_client, managed_node):
    web = managed_node("web", tags={"Name": "web", "Role": "web"})
    db = managed_node("db", tags={"Name": "db", "Role": "db"}, agent_version="3.2.0.0")
    down = managed_node("down", tags={"Name": "down"}, online=False)
    ec2 = managed_node("ec2", resource_type="EC2Instance", tags={"Name": "ec2", "Role": "web"})

    def ids(**kwargs):
        return sorted(by_id(ssm_client, **kwargs))

    assert ids(Filters=[{"Key": "PingStatus", "Values": ["ConnectionLost"]}]) == [down.instance_id]
    assert ids(Filters=[{"Key": "ResourceType", "Values": ["EC2Instance"]}]) == [ec2.instance_id]
    assert ids(Filters=[{"Key": "AgentVersion", "Values": ["3.2.0.0"]}]) == [db.instance_id]
    assert ids(Filters=[{"Key": "InstanceIds", "Values": [web.instance_id, db.instance_id]},
                        {"Key": "PingStatus", "Values": ["Online"]}]) == sorted([web.instance_id, db.instance_id])
    assert ids(Filters=[{"Key": "tag:Role", "Values": ["web"]}]) == sorted([web.instance_id, ec2.instance_id])
    assert ids(Filters=[{"Key": "tag-key", "Values": ["Role"]}]) == sorted([web.instance_id, db.instance_id,
                                                                            ec2.instance_id])
    assert ids(Filters=[{"Key": "PlatformTypes", "Values": ["Windows"]}]) == []
    assert ids(InstanceInformationFilterList=[{"key": "PingStatus", "valueSet": ["Online"]},
                                              {"key": "ResourceType", "valueSet": ["ManagedInstance"]}]) == \
        sorted([web.instance_id, db.instance_id])


@pytest.mark.parametrize("kwargs,code,message", [
    ({"Filters": [{"Key": "tag:Role", "Values": ["web"]}, {"Key": "PingStatus", "Values": ["Online"]}]},
     "ValidationException", "Cannot mix tag or inventory filter with any other filter."),
    ({"Filters": [{"Key": "ResourceType", "Values": ["ManagedInstance", "EC2Instance"]}]},
     "InvalidInstanceInformationFilterValue", "ResourceType filter may contain only one value."),
    ({"Filters": [{"Key": "ResourceType", "Values": ["Document"]}]},
     "InvalidInstanceInformationFilterValue", "ResourceType filter is invalid, valid values are EC2Instance, "
                                              "ManagedInstance"),
    ({"Filters": [{"Key": "PingStatus", "Values": ["Sleeping"]}]}, "InvalidInstanceInformationFilterValue", ""),
    ({"Filters": [{"Key": "Colour", "Values": ["red"]}]}, "InvalidFilterKey", ""),
    ({"Filters": [{"Key": "InstanceIds", "Values": ["web-1"]}]}, "InvalidInstanceId", ""),
    ({"Filters": [{"Key": "PingStatus", "Values": ["Online"]}],
      "InstanceInformationFilterList": [{"key": "PingStatus", "valueSet": ["Online"]}]}, "ValidationException", ""),
])
def test_filter_errors(aws_client, managed_node, kwargs, code, message):
    managed_node("node-1")
    raw = aws_client("ssm", parameter_validation=False)
    with pytest.raises(ClientError) as excinfo:
        raw.describe_instance_information(**kwargs)
    assert error(excinfo)[0] == code
    assert message in error(excinfo)[1]


def test_pagination(ssm_client, aws_client, managed_node):
    made = [managed_node(f"node-{i}").instance_id for i in range(7)]
    assert len(infos(ssm_client)) == 7  # default page: 10
    first = ssm_client.describe_instance_information(MaxResults=5)
    assert [i["InstanceId"] for i in first["InstanceInformationList"]] == made[:5]  # registration order
    second = ssm_client.describe_instance_information(MaxResults=5, NextToken=first["NextToken"])
    assert [i["InstanceId"] for i in second["InstanceInformationList"]] == made[5:]
    assert "NextToken" not in second
    raw = aws_client("ssm", parameter_validation=False)
    with pytest.raises(ClientError) as excinfo:
        raw.describe_instance_information(MaxResults=4)
    assert "Member must have value greater than or equal to 5" in error(excinfo)[1]
    with pytest.raises(ssm_client.exceptions.InvalidNextToken):
        ssm_client.describe_instance_information(NextToken="garbage")


def test_managed_instance_tags(ssm_client, managed_node, clean_endpoint):
    node = managed_node("node-1", tags={"Name": "node-1", "Environment": "sandbox"})

    def tags():
        listed = ssm_client.list_tags_for_resource(ResourceType="ManagedInstance", ResourceId=node.instance_id)
        return {t["Key"]: t["Value"] for t in listed["TagList"]}

    assert tags() == {"Name": "node-1", "Environment": "sandbox"}
    ssm_client.add_tags_to_resource(ResourceType="ManagedInstance", ResourceId=node.instance_id,
                                    Tags=[{"Key": "Role", "Value": "web"}, {"Key": "Environment", "Value": "prod"}])
    assert tags() == {"Name": "node-1", "Environment": "prod", "Role": "web"}
    assert sorted(by_id(ssm_client, Filters=[{"Key": "tag:Role", "Values": ["web"]}])) == [node.instance_id]
    ssm_client.remove_tags_from_resource(ResourceType="ManagedInstance", ResourceId=node.instance_id,
                                         TagKeys=["Environment"])
    assert tags() == {"Name": "node-1", "Role": "web"}
    node.start()  # a reboot re-registers: the registered tags come back, the added ones stay
    assert tags() == {"Name": "node-1", "Environment": "sandbox", "Role": "web"}
    clean_endpoint.reset()  # the node survives a reset, with its registered tags only
    assert tags() == {"Name": "node-1", "Environment": "sandbox"}
    for resource_id in ("mi-0ffffffffffffffff", "i-0123456789abcdef0"):
        with pytest.raises(ssm_client.exceptions.InvalidResourceId):
            ssm_client.list_tags_for_resource(ResourceType="ManagedInstance", ResourceId=resource_id)


def test_ec2_instance_nodes_live_in_moto_ec2(ssm_client, aws_client, managed_node):
    node = managed_node("ec2-node", resource_type="EC2Instance", tags={"Name": "ec2-node", "Role": "db"})
    info = by_id(ssm_client)[node.instance_id]
    assert info["ResourceType"] == "EC2Instance" and info["SourceType"] == "AWS::EC2::Instance"
    assert "Name" not in info and "RegistrationDate" not in info  # hybrid-node fields
    ec2 = aws_client("ec2")
    [reservation] = ec2.describe_instances(InstanceIds=[node.instance_id])["Reservations"]
    assert {t["Key"]: t["Value"] for t in reservation["Instances"][0]["Tags"]} == {"Name": "ec2-node", "Role": "db"}
    with pytest.raises(ssm_client.exceptions.InvalidResourceId):  # EC2 instances are tagged in EC2
        ssm_client.list_tags_for_resource(ResourceType="ManagedInstance", ResourceId=node.instance_id)
    ec2.create_tags(Resources=[node.instance_id], Tags=[{"Key": "Tier", "Value": "gold"}])
    assert list(by_id(ssm_client, Filters=[{"Key": "tag:Tier", "Values": ["gold"]}])) == [node.instance_id]


def test_control_api(clean_endpoint, ssm_client, managed_node):
    import urllib.error

    for bad in ({"instance_id": "node-1"}, {"instance_id": "i-0123456789abcdef0"},
                {"instance_id": "mi-0123456789abcdef0", "leader_pid": "12"},
                {"instance_id": "mi-0123456789abcdef0", "tags": ["a"]},
                {"instance_id": "mi-0123456789abcdef0", "platform_type": "Solaris"}):
        with pytest.raises(urllib.error.HTTPError) as excinfo:
            clean_endpoint.control("POST", "/nodes", bad)
        assert excinfo.value.code == 400
    answer = clean_endpoint.control("POST", "/nodes", {"instance_id": "mi-0123456789abcdef0", "future": 1})
    assert answer["created"] is True and answer["ignored"] == ["future"]
    assert answer["node"]["ping_status"] == "ConnectionLost"  # no leader yet
    assert clean_endpoint.control("DELETE", "/nodes/mi-0123456789abcdef0")["deleted"] is True
    assert clean_endpoint.control("DELETE", "/nodes/mi-0123456789abcdef0")["deleted"] is False
    node = managed_node("node-1")
    assert ssm_client.get_connection_status(Target=node.instance_id)["Status"] == "connected"
    assert ssm_client.get_connection_status(Target="mi-0ffffffffffffffff")["Status"] == "notconnected"
    clean_endpoint.control("POST", "/settings", {"latest_agent_version": "3.3.1142.0"})
    assert by_id(ssm_client)[node.instance_id]["IsLatestVersion"] is False
    clean_endpoint.reset()
    assert by_id(ssm_client)[node.instance_id]["IsLatestVersion"] is True
    with pytest.raises(urllib.error.HTTPError):
        clean_endpoint.control("POST", "/settings", {"no_such_knob": 1})


def test_nodes_are_per_region(aws_client, managed_node):
    node = managed_node("far", region="eu-west-1")
    assert infos(aws_client("ssm")) == []
    assert [i["InstanceId"] for i in infos(aws_client("ssm", region="eu-west-1"))] == [node.instance_id]


def test_fleet_command(clean_endpoint, managed_node):
    up = managed_node("node-1", tags={"Name": "web-1"})
    down = managed_node("node-2", online=False)
    env = dict(os.environ, PYTHON=sys.executable)
    env.pop("PYTHONPATH", None)
    result = subprocess.run([str(ENDPOINT_DIR / "ssm-endpoint"), "fleet", "--url", clean_endpoint.url],
                            capture_output=True, check=False, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "NAME", "PING", "PLATFORM", "IP"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows[up.instance_id][1:] == ["web-1", "Online", "Debian", "GNU/Linux", "12", "127.0.0.1"]
    assert rows[down.instance_id][1:3] == ["node-2", "ConnectionLost"]
    missing = subprocess.run([str(ENDPOINT_DIR / "ssm-endpoint"), "fleet", "--state-dir", "/nonexistent"],
                             capture_output=True, check=False, text=True, env=env, timeout=60)
    assert missing.returncode == 1 and "no endpoint recorded" in missing.stderr
