"""SSM Inventory (PutInventory, GetInventory, ListInventoryEntries, GetInventorySchema) and the
Resource Groups Tagging API's GetResources for managed nodes."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from fleet_helpers import error

CAPTURE = "2026-01-02T03:04:05Z"


def put_applications(ssm, instance_id, names):
    ssm.put_inventory(InstanceId=instance_id, Items=[{
        "TypeName": "AWS:Application", "SchemaVersion": "1.1", "CaptureTime": CAPTURE,
        "Content": [{"Name": name, "Version": "1.0", "ApplicationType": "utils"} for name in names],
    }])


def exercise_inventory_operations(ssm, endpoint):
    """Every inventory operation once, for the shape test (test_endpoint_shapes.py)."""
    instance_id = "mi-0e00000000000e001"
    endpoint.control("POST", "/nodes", {"instance_id": instance_id, "leader_pid": None})
    try:
        put_applications(ssm, instance_id, ["bash"])
        ssm.get_inventory(ResultAttributes=[{"TypeName": "AWS:Application"}])
        ssm.list_inventory_entries(InstanceId=instance_id, TypeName="AWS:Application")
        ssm.get_inventory_schema(TypeName="AWS:Application")
        with pytest.raises(ClientError):
            ssm.list_inventory_entries(InstanceId="mi-0e00000000000efff", TypeName="AWS:Application")
    finally:
        endpoint.control("DELETE", f"/nodes/{instance_id}")


def test_exercise_inventory_operations(ssm_client, ssm_endpoint):
    exercise_inventory_operations(ssm_client, ssm_endpoint)


def test_instance_information_for_every_node(ssm_client, managed_node):
    node = managed_node("inv-1")
    found = ssm_client.get_inventory()["Entities"]
    entity = next(item for item in found if item["Id"] == node.instance_id)
    content = entity["Data"]["AWS:InstanceInformation"]["Content"][0]
    assert content["ComputerName"] == "inv-1"
    assert content["InstanceStatus"] == "Active"
    assert content["PlatformType"] == "Linux"


def test_put_then_get_and_list(ssm_client, managed_node):
    first, second = managed_node("inv-a"), managed_node("inv-b")
    put_applications(ssm_client, first.instance_id, ["bash", "curl", "openssl"])
    put_applications(ssm_client, second.instance_id, ["bash"])
    found = ssm_client.get_inventory(ResultAttributes=[{"TypeName": "AWS:Application"}])["Entities"]
    counts = {item["Id"]: len(item["Data"]["AWS:Application"]["Content"]) for item in found}
    assert counts == {first.instance_id: 3, second.instance_id: 1}

    filtered = ssm_client.get_inventory(
        Filters=[{"Key": "AWS:Application.Name", "Values": ["curl"], "Type": "Equal"}])["Entities"]
    assert [item["Id"] for item in filtered] == [first.instance_id]

    entries = ssm_client.list_inventory_entries(InstanceId=first.instance_id, TypeName="AWS:Application",
                                                MaxResults=2)
    assert len(entries["Entries"]) == 2 and entries["NextToken"]
    assert entries["CaptureTime"] == CAPTURE and entries["SchemaVersion"] == "1.1"
    rest = ssm_client.list_inventory_entries(InstanceId=first.instance_id, TypeName="AWS:Application",
                                             MaxResults=2, NextToken=entries["NextToken"])
    assert [row["Name"] for row in entries["Entries"] + rest["Entries"]] == ["bash", "curl", "openssl"]

    begin = ssm_client.list_inventory_entries(
        InstanceId=first.instance_id, TypeName="AWS:Application",
        Filters=[{"Key": "Name", "Values": ["op"], "Type": "BeginWith"}])
    assert [row["Name"] for row in begin["Entries"]] == ["openssl"]


def test_pages_of_at_most_50(ssm_client, managed_node):
    for index in range(3):
        managed_node(f"page-{index}")
    first = ssm_client.get_inventory(MaxResults=2)
    assert len(first["Entities"]) == 2 and first["NextToken"]
    with pytest.raises(ClientError) as raised:
        ssm_client.get_inventory(MaxResults=2, NextToken="bogus")
    assert error(raised)[0] == "InvalidNextToken"


def test_custom_types_and_schema(ssm_client, managed_node):
    node = managed_node("custom")
    ssm_client.put_inventory(InstanceId=node.instance_id, Items=[{
        "TypeName": "Custom:RackInfo", "SchemaVersion": "1.0", "CaptureTime": CAPTURE,
        "Content": [{"Rack": "r12", "Slot": "4"}],
    }])
    schemas = ssm_client.get_inventory_schema(TypeName="Custom:")["Schemas"]
    assert schemas == [{"TypeName": "Custom:RackInfo", "Version": "1.0",
                        "Attributes": [{"Name": "Rack", "DataType": "string"}, {"Name": "Slot", "DataType": "string"}]}]
    aws = ssm_client.get_inventory_schema(TypeName="AWS:Application")["Schemas"]
    assert aws[0]["Version"] == "1.1"


@pytest.mark.parametrize("item, code", [
    ({"TypeName": "AWS:Application", "SchemaVersion": "9.9", "CaptureTime": CAPTURE, "Content": []},
     "UnsupportedInventorySchemaVersionException"),
    ({"TypeName": "AWS:Application", "SchemaVersion": "1.1", "CaptureTime": CAPTURE, "Content": [{"Bogus": "x"}]},
     "InvalidItemContentException"),
    ({"TypeName": "AWS:InstanceInformation", "SchemaVersion": "1.0", "CaptureTime": CAPTURE, "Content": []},
     "InvalidTypeNameException"),
])
def test_put_inventory_errors(ssm_client, managed_node, item, code):
    node = managed_node("errors")
    with pytest.raises(ClientError) as raised:
        ssm_client.put_inventory(InstanceId=node.instance_id, Items=[item])
    assert error(raised)[0] == code


def test_unknown_node(ssm_client):
    with pytest.raises(ClientError) as raised:
        ssm_client.list_inventory_entries(InstanceId="mi-0123456789abcdef0", TypeName="AWS:Application")
    assert error(raised)[0] == "InvalidInstanceId"


def test_get_resources_by_arn(aws_client, managed_node):
    hybrid = managed_node("tagged-mi", tags={"Name": "tagged-mi", "Env": "prod"})
    ec2 = managed_node("tagged-ec2", tags={"Name": "tagged-ec2"}, resource_type="EC2Instance")
    untagged = managed_node("untagged", tags={})
    tagging = aws_client("resourcegroupstaggingapi")
    arns = [
        f"arn:aws:ssm:us-east-1:123456789012:managed-instance/{hybrid.instance_id}",
        f"arn:aws:ec2:us-east-1:123456789012:instance/{ec2.instance_id}",
        f"arn:aws:ssm:us-east-1:123456789012:managed-instance/{untagged.instance_id}",
    ]
    found = tagging.get_resources(ResourceARNList=arns)
    tags = {item["ResourceARN"]: {tag["Key"]: tag["Value"] for tag in item["Tags"]}
            for item in found["ResourceTagMappingList"]}
    assert tags == {arns[0]: {"Name": "tagged-mi", "Env": "prod"}, arns[1]: {"Name": "tagged-ec2"}}
    assert not found.get("PaginationToken")

    with pytest.raises(ClientError) as raised:
        tagging.get_resources(ResourceARNList=arns, ResourcesPerPage=10)
    assert error(raised)[0] == "InvalidParameterException"


def test_get_resources_managed_instance_type(aws_client, managed_node):
    for index in range(3):
        managed_node(f"typed-{index}", tags={"Team": "a" if index else "b"})
    tagging = aws_client("resourcegroupstaggingapi")
    pages = tagging.get_paginator("get_resources").paginate(
        ResourceTypeFilters=["ssm:managed-instance"], TagFilters=[{"Key": "Team", "Values": ["a"]}],
        ResourcesPerPage=1)
    found = [item for page in pages for item in page["ResourceTagMappingList"]]
    assert len(found) == 2
