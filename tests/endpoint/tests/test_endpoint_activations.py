"""Hybrid activations (CreateActivation, DescribeActivations, DeleteActivation), registering a node
with one the way the agent does (POST /_fleetops/agent/register), its heartbeat, and
DeregisterManagedInstance."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from fleet_helpers import error, wait_invocation
from fleetops_endpoint.ssm import activations

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ssm.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
EC2_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def agent_call(endpoint, path, body):
    """POST a control call as the agent does: (HTTP status, JSON answer)."""
    request = urllib.request.Request(endpoint.url + "/_fleetops/agent" + path, data=json.dumps(body).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def make_role(aws_client, name="SSMServiceRole", trust=TRUST, path="/"):
    aws_client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=trust, Path=path)
    return name


def register(endpoint, activation, **extra):
    body = {"activation_code": activation["ActivationCode"], "activation_id": activation["ActivationId"],
            "region": "us-east-1", "computer_name": "host-1", "agent_version": "3.3.1142.0",
            "platform_name": "Debian GNU/Linux", "platform_version": "12", **extra}
    return agent_call(endpoint, "/register", body)


def exercise_activation_operations(ssm, endpoint, aws_client):
    """Every activation operation once, for the shape test (test_endpoint_shapes.py)."""
    role = make_role(aws_client, "ShapeActivationRole")
    created = ssm.create_activation(IamRole=role, Description="d", DefaultInstanceName="shape", RegistrationLimit=2,
                                    Tags=[{"Key": "k", "Value": "v"}])
    ssm.describe_activations(Filters=[{"FilterKey": "IamRole", "FilterValues": [role]}], MaxResults=1)
    status, answer = register(endpoint, created)
    assert status == 200, answer
    ssm.describe_activations()  # RegistrationsCount 1
    ssm.deregister_managed_instance(InstanceId=answer["instance_id"])
    ssm.delete_activation(ActivationId=created["ActivationId"])
    for call in (
        lambda: ssm.delete_activation(ActivationId=created["ActivationId"]),
        lambda: ssm.deregister_managed_instance(InstanceId=answer["instance_id"]),
        lambda: ssm.create_activation(IamRole="NoSuchRole"),
        lambda: ssm.describe_activations(NextToken="bad"),
    ):
        with pytest.raises(ClientError):
            call()


def test_exercise_activation_operations(ssm_client, ssm_endpoint, aws_client):
    exercise_activation_operations(ssm_client, ssm_endpoint, aws_client)


def test_create_and_describe(ssm_client, aws_client):
    role = make_role(aws_client)
    before = time.time()
    created = ssm_client.create_activation(IamRole=role, Description="web servers", DefaultInstanceName="web",
                                           RegistrationLimit=5, Tags=[{"Key": "team", "Value": "web"}])
    assert len(created["ActivationCode"]) == 20
    listed = ssm_client.describe_activations()["ActivationList"]
    assert len(listed) == 1
    found = listed[0]
    assert found["ActivationId"] == created["ActivationId"]
    assert "ActivationCode" not in found  # the code is only ever returned at creation
    assert found["Description"] == "web servers"
    assert found["DefaultInstanceName"] == "web"
    assert found["IamRole"] == role
    assert found["RegistrationLimit"] == 5
    assert found.get("RegistrationsCount", 0) == 0
    assert found["Expired"] is False
    assert found["Tags"] == [{"Key": "team", "Value": "web"}]
    # without ExpirationDate an activation lasts 24 hours
    lifetime = found["ExpirationDate"].timestamp() - found["CreatedDate"].timestamp()
    assert abs(lifetime - 24 * 3600) < 5
    assert found["CreatedDate"].timestamp() >= before - 1
    # the default registration limit is 1
    other = ssm_client.create_activation(IamRole=role)
    again = ssm_client.describe_activations(
        Filters=[{"FilterKey": "ActivationIds", "FilterValues": [other["ActivationId"]]}])["ActivationList"]
    assert again[0]["RegistrationLimit"] == 1
    assert "Description" not in again[0]


def test_the_role_must_exist_and_trust_ssm(ssm_client, aws_client):
    with pytest.raises(ClientError) as missing:
        ssm_client.create_activation(IamRole="Nobody")
    assert error(missing) == ("ValidationException", "Nonexistent role or missing ssm service principal in trust "
                              "policy: arn:aws:iam::123456789012:role/Nobody")
    make_role(aws_client, "Ec2Only", trust=EC2_TRUST)
    with pytest.raises(ClientError) as untrusted:
        ssm_client.create_activation(IamRole="Ec2Only")
    assert error(untrusted)[0] == "ValidationException"
    # a role with a path is named with it, as the AWS CLI documents ("service-role/...")
    make_role(aws_client, "HybridRole", path="/service-role/")
    ssm_client.create_activation(IamRole="service-role/HybridRole")
    with pytest.raises(ClientError):
        ssm_client.create_activation(IamRole="HybridRole")


def test_expiration_limits(ssm_client, aws_client):
    role = make_role(aws_client)
    now = dt.datetime.now(dt.timezone.utc)
    created = ssm_client.create_activation(IamRole=role, ExpirationDate=now + dt.timedelta(days=29))
    assert created["ActivationId"]
    for when in (now - dt.timedelta(minutes=1), now + dt.timedelta(days=31)):
        with pytest.raises(ClientError) as bad:
            ssm_client.create_activation(IamRole=role, ExpirationDate=when)
        assert error(bad)[0] == "ValidationException"


def test_input_rules(aws_client):
    ssm = aws_client("ssm", parameter_validation=False)
    make_role(aws_client)
    for kwargs, fragment in (
        ({"IamRole": "SSMServiceRole", "RegistrationLimit": 1001}, "registrationLimit"),
        ({"IamRole": "SSMServiceRole", "RegistrationLimit": 0}, "registrationLimit"),
        ({"IamRole": "SSMServiceRole", "DefaultInstanceName": "bad#name"}, "defaultInstanceName"),
        ({"IamRole": "SSMServiceRole", "Description": "x" * 257}, "description"),
        ({"IamRole": "x" * 65}, "iamRole"),
    ):
        with pytest.raises(ClientError) as bad:
            ssm.create_activation(**kwargs)
        code, message = error(bad)
        assert code == "ValidationException" and fragment in message, message
    with pytest.raises(ClientError) as reserved:
        ssm.create_activation(IamRole="SSMServiceRole", Tags=[{"Key": "aws:x", "Value": "v"}])
    assert error(reserved)[0] == "ValidationException"
    with pytest.raises(ClientError) as bad_filter:
        ssm.describe_activations(Filters=[{"FilterValues": ["x"]}])
    assert error(bad_filter)[0] == "InvalidFilter"
    with pytest.raises(ClientError) as bad_id:
        ssm.delete_activation(ActivationId="not-an-id")
    assert error(bad_id)[0] == "ValidationException"


def test_filters_and_pagination(ssm_client, aws_client):
    role = make_role(aws_client)
    make_role(aws_client, "OtherRole")
    ids = [ssm_client.create_activation(IamRole=role, DefaultInstanceName=f"n{i % 2}")["ActivationId"]
           for i in range(5)]
    ssm_client.create_activation(IamRole="OtherRole", DefaultInstanceName="n0")

    def listed(**kwargs):
        found, token = [], None
        while True:
            page = ssm_client.describe_activations(**kwargs, **({"NextToken": token} if token else {}))
            found += page["ActivationList"]
            token = page.get("NextToken")
            if not token:
                return found

    assert len(listed(MaxResults=2)) == 6
    assert [a["ActivationId"] for a in listed(MaxResults=1)][:5] == ids  # creation order
    by_name = listed(Filters=[{"FilterKey": "DefaultInstanceName", "FilterValues": ["n0"]}])
    assert len(by_name) == 4
    both = listed(Filters=[{"FilterKey": "DefaultInstanceName", "FilterValues": ["n0"]},
                           {"FilterKey": "IamRole", "FilterValues": [role]}])
    assert len(both) == 3
    by_id = listed(Filters=[{"FilterKey": "ActivationIds", "FilterValues": ids[1:3]}])
    assert [a["ActivationId"] for a in by_id] == ids[1:3]
    page = ssm_client.describe_activations(MaxResults=2)
    with pytest.raises(ClientError) as foreign:
        ssm_client.describe_activations(MaxResults=2, NextToken=page["NextToken"],
                                        Filters=[{"FilterKey": "IamRole", "FilterValues": [role]}])
    assert error(foreign)[0] == "InvalidNextToken"


def test_activations_are_regional(aws_client):
    make_role(aws_client)
    east, west = aws_client("ssm"), aws_client("ssm", region="eu-west-1")
    created = east.create_activation(IamRole="SSMServiceRole")
    assert west.describe_activations()["ActivationList"] == []
    with pytest.raises(ClientError) as other_region:
        west.delete_activation(ActivationId=created["ActivationId"])
    assert error(other_region)[0] == "InvalidActivation"


def test_register_a_node(ssm_client, aws_client, ssm_endpoint):
    role = make_role(aws_client)
    created = ssm_client.create_activation(IamRole=role, DefaultInstanceName="web", RegistrationLimit=2,
                                           Tags=[{"Key": "team", "Value": "web"}])
    status, answer = register(ssm_endpoint, created, ip_address="192.0.2.7")
    assert status == 200, answer
    instance_id = answer["instance_id"]
    assert instance_id.startswith("mi-") and len(instance_id) == 20
    try:
        info = ssm_client.describe_instance_information(
            Filters=[{"Key": "ActivationIds", "Values": [created["ActivationId"]]}])["InstanceInformationList"]
        assert [item["InstanceId"] for item in info] == [instance_id]
        node = info[0]
        assert node["PingStatus"] == "Online"
        assert node["Name"] == "web"  # the activation's DefaultInstanceName
        assert node["ComputerName"] == "host-1"
        assert node["IamRole"] == role
        assert node["ResourceType"] == "ManagedInstance"
        assert node["AgentVersion"] == "3.3.1142.0"
        assert node["IPAddress"] == "192.0.2.7"
        # the activation's tags are the node's
        tags = ssm_client.list_tags_for_resource(ResourceType="ManagedInstance", ResourceId=instance_id)["TagList"]
        assert tags == [{"Key": "team", "Value": "web"}]
        activation = ssm_client.describe_activations()["ActivationList"][0]
        assert activation["RegistrationsCount"] == 1
    finally:
        ssm_client.deregister_managed_instance(InstanceId=instance_id)


def test_registration_errors(ssm_client, aws_client, ssm_endpoint):
    role = make_role(aws_client)
    created = ssm_client.create_activation(IamRole=role)
    wrong_code = dict(created, ActivationCode="A" * 20)
    assert register(ssm_endpoint, wrong_code)[1]["code"] == "InvalidActivation"
    bad_id = dict(created, ActivationId="1234")
    assert register(ssm_endpoint, bad_id)[1]["code"] == "InvalidActivationId"
    assert register(ssm_endpoint, created, region="eu-west-1")[1]["code"] == "InvalidActivation"
    status, answer = register(ssm_endpoint, created)
    assert status == 200
    try:
        # the default limit is one registration
        status, limit = register(ssm_endpoint, created)
        assert (status, limit["code"]) == (400, "InvalidActivation")
        assert "registration limit" in limit["error"]
        # a deleted activation registers nothing more, and leaves its nodes alone
        ssm_client.delete_activation(ActivationId=created["ActivationId"])
        assert register(ssm_endpoint, created)[1]["code"] == "InvalidActivation"
        info = ssm_client.describe_instance_information(
            Filters=[{"Key": "InstanceIds", "Values": [answer["instance_id"]]}])["InstanceInformationList"]
        assert len(info) == 1
    finally:
        ssm_client.deregister_managed_instance(InstanceId=answer["instance_id"])
    assert register(ssm_endpoint, created, region="moon")[0] == 400


def test_an_expired_activation(ssm_client, aws_client, ssm_endpoint):
    role = make_role(aws_client)
    soon = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1.5)
    created = ssm_client.create_activation(IamRole=role, RegistrationLimit=3, ExpirationDate=soon)
    assert ssm_client.describe_activations()["ActivationList"][0]["Expired"] is False
    time.sleep(max(0.0, soon.timestamp() - time.time()) + 0.2)
    assert ssm_client.describe_activations()["ActivationList"][0]["Expired"] is True
    status, answer = register(ssm_endpoint, created)
    assert (status, answer["code"]) == (400, "ActivationExpired")


def test_heartbeat_keeps_the_node_online(ssm_client, aws_client, ssm_endpoint, monkeypatch):
    role = make_role(aws_client)
    created = ssm_client.create_activation(IamRole=role)
    answer = register(ssm_endpoint, created)[1]
    instance_id, token = answer["instance_id"], answer["token"]

    def ping_status():
        return ssm_client.describe_instance_information(
            Filters=[{"Key": "InstanceIds", "Values": [instance_id]}])["InstanceInformationList"][0]["PingStatus"]

    try:
        assert ping_status() == "Online"
        # reports update what the node says about itself (an upgraded agent)
        status, beat = agent_call(ssm_endpoint, "/heartbeat",
                                  {"instance_id": instance_id, "token": token, "agent_version": "3.3.2000.0"})
        assert (status, beat["ping_status"]) == (200, "Online")
        info = ssm_client.describe_instance_information(
            Filters=[{"Key": "InstanceIds", "Values": [instance_id]}])["InstanceInformationList"][0]
        assert info["AgentVersion"] == "3.3.2000.0"
        # a wrong token changes nothing
        assert agent_call(ssm_endpoint, "/heartbeat", {"instance_id": instance_id, "token": "x"})[0] == 403
        # an agent that stops says so: ConnectionLost at once
        assert agent_call(ssm_endpoint, "/heartbeat",
                          {"instance_id": instance_id, "token": token, "stopping": True})[1]["ping_status"] == \
            "ConnectionLost"
        assert ping_status() == "ConnectionLost"
        agent_call(ssm_endpoint, "/heartbeat", {"instance_id": instance_id, "token": token})
        assert ping_status() == "Online"
        # silence for longer than the timeout: ConnectionLost
        monkeypatch.setattr(activations, "HEARTBEAT_TIMEOUT", 0.5)
        agent_call(ssm_endpoint, "/heartbeat", {"instance_id": instance_id, "token": token})
        assert ping_status() == "Online"
        time.sleep(0.7)
        assert ping_status() == "ConnectionLost"
    finally:
        ssm_client.deregister_managed_instance(InstanceId=instance_id)
    status, gone = agent_call(ssm_endpoint, "/heartbeat", {"instance_id": instance_id, "token": token})
    assert (status, gone["code"]) == (404, "InvalidInstanceId")


def test_deregister(ssm_client, aws_client, ssm_endpoint):
    role = make_role(aws_client)
    created = ssm_client.create_activation(IamRole=role)
    instance_id = register(ssm_endpoint, created)[1]["instance_id"]
    ssm_client.deregister_managed_instance(InstanceId=instance_id)
    assert ssm_client.describe_instance_information(
        Filters=[{"Key": "InstanceIds", "Values": [instance_id]}])["InstanceInformationList"] == []
    with pytest.raises(ClientError) as again:
        ssm_client.deregister_managed_instance(InstanceId=instance_id)
    assert error(again)[0] == "InvalidInstanceId"
    with pytest.raises(ClientError) as ec2:
        aws_client("ssm", parameter_validation=False).deregister_managed_instance(InstanceId="i-0123456789abcdef0")
    assert error(ec2)[0] == "ValidationException"
    # the registration is counted still (deregistering does not give it back)
    assert ssm_client.describe_activations()["ActivationList"][0]["RegistrationsCount"] == 1


def test_issued_codes_are_listed_for_leak_tests(ssm_client, aws_client, ssm_endpoint):
    role = make_role(aws_client)
    first = ssm_client.create_activation(IamRole=role)
    second = ssm_client.create_activation(IamRole=role)
    ssm_client.delete_activation(ActivationId=first["ActivationId"])
    issued = ssm_endpoint.control("GET", "/agent/activations")["activations"]
    assert [(a["activation_id"], a["activation_code"]) for a in issued] == [
        (first["ActivationId"], first["ActivationCode"]), (second["ActivationId"], second["ActivationCode"])]
    ssm_endpoint.reset()
    assert ssm_endpoint.control("GET", "/agent/activations")["activations"] == []


def test_unknown_agent_calls(ssm_endpoint):
    assert agent_call(ssm_endpoint, "/nothing", {})[0] == 404
    assert agent_call(ssm_endpoint, "/register", {"region": 5})[0] == 400


AGENT_IN_A_NAMESPACE = textwrap.dedent("""
    import json, sys, time, urllib.request
    url, code, activation_id = sys.argv[1:4]
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    body = json.dumps({"activation_code": code, "activation_id": activation_id, "region": "us-east-1",
                       "computer_name": "ns-node"}).encode()
    request = urllib.request.Request(url + "/_fleetops/agent/register", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with opener.open(request) as response:
        print(json.load(response)["instance_id"], flush=True)
    time.sleep(60)
""")


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("nsenter"),
                    reason="needs root, unshare and nsenter")
def test_commands_reach_a_node_registered_by_its_agent(ssm_client, aws_client, ssm_endpoint, tmp_path):
    """The endpoint finds the node behind the agent's connection: Run Command runs there."""
    role = make_role(aws_client)
    created = ssm_client.create_activation(IamRole=role)
    script = tmp_path / "agent.py"
    script.write_text(AGENT_IN_A_NAMESPACE)
    # the "agent" is PID 1 of a PID namespace of its own, on the host's network, like a sandbox node's
    proc = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", sys.executable, str(script),
                             ssm_endpoint.url, created["ActivationCode"], created["ActivationId"]],
                            stdout=subprocess.PIPE, text=True)
    instance_id = None
    try:
        instance_id = proc.stdout.readline().strip()
        assert instance_id.startswith("mi-")
        command = ssm_client.send_command(InstanceIds=[instance_id], DocumentName="AWS-RunShellScript",
                                          Parameters={"commands": ["echo pid=$$; ps -o pid= -p 1 | tr -d ' '"]})
        result = wait_invocation(ssm_client, command["Command"]["CommandId"], instance_id)
        assert result["Status"] == "Success", result
        # inside the node's PID namespace: PID 1 exists and the shell is a small number, not the host's
        lines = result["StandardOutputContent"].split()
        assert lines[1] == "1", result["StandardOutputContent"]
        assert int(lines[0].split("=")[1]) < 100, result["StandardOutputContent"]
    finally:
        proc.kill()
        proc.wait()
        if instance_id:
            ssm_client.deregister_managed_instance(InstanceId=instance_id)
