"""Run Command at scale on "instant" nodes (nothing runs: each step ends at once), and target resolution.

These need no root: instant nodes are never entered.
"""

import hashlib
import json
import subprocess
import urllib.error

import pytest
from botocore.exceptions import ClientError

from fleet_helpers import error, wait_command


@pytest.fixture
def instant_nodes(clean_endpoint):
    """Factory: register N instant nodes sharing one leader process; returns their ids. Deregistered after."""
    leader = subprocess.Popen(["sleep", "600"], stdin=subprocess.DEVNULL)
    made = []

    def make(count, prefix="node", tags=None, exit_code=0, resource_type="ManagedInstance"):
        ids = []
        for index in range(count):
            digest = hashlib.sha256(f"{prefix}-{index}-{leader.pid}".encode()).hexdigest()
            instance_id = ("mi-" if resource_type == "ManagedInstance" else "i-") + digest[:17]
            name = f"{prefix}-{index}"
            clean_endpoint.control("POST", "/nodes", {
                "instance_id": instance_id, "resource_type": resource_type, "name": name, "computer_name": name,
                "leader_pid": leader.pid, "executor": "instant", "instant_exit_code": exit_code,
                "tags": {"Name": name, "Fleet": prefix, **(tags or {})}})
            ids.append(instance_id)
        made.extend(ids)
        return ids

    yield make
    for instance_id in made:
        clean_endpoint.control("DELETE", f"/nodes/{instance_id}")
    leader.kill()
    leader.wait()


def send(ssm, **kwargs):
    kwargs.setdefault("Parameters", {"commands": ["uname -a"]})
    return ssm.send_command(DocumentName="AWS-RunShellScript", **kwargs)["Command"]["CommandId"]


def invocations(ssm, command_id, **kwargs):
    paginator = ssm.get_paginator("list_command_invocations")
    pages = list(paginator.paginate(CommandId=command_id, PaginationConfig={"PageSize": 50}, **kwargs))
    return [inv for page in pages for inv in page["CommandInvocations"]], len(pages)


def test_registration_of_the_executor(clean_endpoint, instant_nodes):
    [instance_id] = instant_nodes(1)
    node = clean_endpoint.control("GET", f"/nodes/{instance_id}")["node"]
    assert (node["executor"], node["instant_exit_code"]) == ("instant", 0)
    for bad in ({"executor": "ssh"}, {"instant_exit_code": 256}, {"instant_exit_code": True}):
        with pytest.raises(urllib.error.HTTPError) as excinfo:
            clean_endpoint.control("POST", "/nodes", {"instance_id": "mi-0ccccccccccccccc1", **bad})
        assert excinfo.value.code == 400


def test_a_thousand_nodes_by_tag_in_one_command(ssm_client, instant_nodes):
    ids = instant_nodes(1000, prefix="big")
    command_id = send(ssm_client, Targets=[{"Key": "tag:Fleet", "Values": ["big"]}])
    command = wait_command(ssm_client, command_id, timeout=60)
    assert (command["Status"], command["TargetCount"], command["CompletedCount"], command["ErrorCount"]) == (
        "Success", 1000, 1000, 0)
    found, pages = invocations(ssm_client, command_id, Details=True)
    assert pages == 20 and sorted(inv["InstanceId"] for inv in found) == sorted(ids)
    assert all(inv["CommandPlugins"][0]["Output"] == f"{inv['InstanceName']}\n" for inv in found)
    one = ssm_client.get_command_invocation(CommandId=command_id, InstanceId=ids[7])
    assert (one["Status"], one["ResponseCode"], one["StandardOutputContent"]) == ("Success", 0, "big-7\n")


def test_max_errors_stops_sending(ssm_client, instant_nodes):
    ids = instant_nodes(10, prefix="bad", exit_code=3)
    command_id = send(ssm_client, InstanceIds=ids, MaxConcurrency="1", MaxErrors="2")
    command = wait_command(ssm_client, command_id)
    assert (command["Status"], command["StatusDetails"], command["ErrorCount"], command["CompletedCount"]) == (
        "Failed", "Failed", 3, 10)
    found, dummy = invocations(ssm_client, command_id)
    statuses = {inv["InstanceId"]: (inv["Status"], inv["StatusDetails"]) for inv in found}
    assert [statuses[i] for i in ids] == [("Failed", "Failed")] * 3 + [("Cancelled", "Terminated")] * 7
    failed = ssm_client.get_command_invocation(CommandId=command_id, InstanceId=ids[0])
    assert (failed["ResponseCode"], failed["StandardErrorContent"]) == (3, "failed to run commands: exit status 3")


@pytest.mark.parametrize("max_errors, failed", [("10%", 2), ("0%", 1), ("100%", 10)])
def test_max_errors_percentage_rounds_down(ssm_client, instant_nodes, max_errors, failed):
    ids = instant_nodes(10, prefix="pct", exit_code=1)
    command_id = send(ssm_client, InstanceIds=ids, MaxConcurrency="1", MaxErrors=max_errors)
    command = wait_command(ssm_client, command_id)
    assert command["ErrorCount"] == failed  # 10% of 10 is 1 allowed error: the second one stops the command


def test_max_concurrency_percentage_of_targets(ssm_client, instant_nodes):
    ids = instant_nodes(4, prefix="conc")
    command_id = send(ssm_client, InstanceIds=ids, MaxConcurrency="30%", MaxErrors="1")
    command = wait_command(ssm_client, command_id)
    assert (command["Status"], command["MaxConcurrency"], command["MaxErrors"]) == ("Success", "30%", "1")


def test_targets_never_reach_ec2_instances_that_are_not_managed(ssm_client, aws_client, instant_nodes):
    ec2 = aws_client("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    ec2.run_instances(ImageId=image, MinCount=3, MaxCount=3, TagSpecifications=[
        {"ResourceType": "instance", "Tags": [{"Key": "Role", "Value": "web"}]}])
    [managed] = instant_nodes(1, prefix="ec2", tags={"Role": "web"}, resource_type="EC2Instance")
    command_id = send(ssm_client, Targets=[{"Key": "tag:Role", "Values": ["web"]}])
    wait_command(ssm_client, command_id)
    found, dummy = invocations(ssm_client, command_id)
    assert [inv["InstanceId"] for inv in found] == [managed]


def test_target_keys(ssm_client, aws_client, instant_nodes):
    web = instant_nodes(3, prefix="web", tags={"Role": "web"})
    db = instant_nodes(2, prefix="db", tags={"Role": "db", "Backup": "daily"})

    def targeted(targets):
        command_id = send(ssm_client, Targets=targets)
        wait_command(ssm_client, command_id)
        return sorted(inv["InstanceId"] for inv in invocations(ssm_client, command_id)[0])

    assert targeted([{"Key": "tag:Role", "Values": ["web", "db"]}]) == sorted(web + db)
    assert targeted([{"Key": "tag-key", "Values": ["Backup"]}]) == sorted(db)
    assert targeted([{"Key": "InstanceIds", "Values": [web[0], db[1]]}]) == sorted([web[0], db[1]])
    assert targeted([{"Key": "tag:Role", "Values": ["web"]}, {"Key": "InstanceIds", "Values": [web[1], db[0]]}]) == [web[1]]
    groups = aws_client("resource-groups")
    groups.create_group(Name="databases", ResourceQuery={"Type": "TAG_FILTERS_1_0", "Query": json.dumps(
        {"ResourceTypeFilters": ["AWS::SSM::ManagedInstance"], "TagFilters": [{"Key": "Role", "Values": ["db"]}]})})
    assert targeted([{"Key": "resource-groups:Name", "Values": ["databases"]}]) == sorted(db)


def test_cancel_some_instances(ssm_client, instant_nodes):
    ids = instant_nodes(2, prefix="cancel")
    command_id = send(ssm_client, InstanceIds=ids)
    wait_command(ssm_client, command_id)
    ssm_client.cancel_command(CommandId=command_id, InstanceIds=[ids[0]])  # ended already: nothing changes
    assert wait_command(ssm_client, command_id)["Status"] == "Success"
    with pytest.raises(ClientError) as excinfo:
        ssm_client.cancel_command(CommandId=command_id, InstanceIds=["mi-0ddddddddddddddd1"])
    assert error(excinfo)[0] == "InvalidInstanceId"


def test_listing_pages_of_fifty_at_most(ssm_client, aws_client, instant_nodes):
    ids = instant_nodes(60, prefix="page")
    command_id = send(ssm_client, Targets=[{"Key": "tag:Fleet", "Values": ["page"]}])
    wait_command(ssm_client, command_id)
    first = ssm_client.list_command_invocations(CommandId=command_id, MaxResults=50, Details=True)
    assert len(first["CommandInvocations"]) == 50 and "NextToken" in first
    rest = ssm_client.list_command_invocations(CommandId=command_id, MaxResults=50, Details=True,
                                               NextToken=first["NextToken"])
    assert len(rest["CommandInvocations"]) == 10 and "NextToken" not in rest
    raw = aws_client("ssm", parameter_validation=False)
    with pytest.raises(ClientError) as excinfo:
        raw.list_command_invocations(CommandId=command_id, MaxResults=51)
    assert error(excinfo)[0] == "ValidationException"
    by_node = ssm_client.list_command_invocations(InstanceId=ids[5], Details=True)["CommandInvocations"]
    assert [inv["CommandId"] for inv in by_node] == [command_id]
