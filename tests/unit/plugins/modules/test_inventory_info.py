# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.fleetops.ssm.plugins.modules import inventory_info as module

NODE = "mi-00000000000000001"
NODE2 = "i-00000000000000002"
CAPTURE = "2026-01-02T03:04:05Z"


def item(type_name, rows):
    return {"TypeName": type_name, "SchemaVersion": "1.1", "CaptureTime": CAPTURE, "Content": rows}


def test_fleet_one_pagination_per_type(run_module, ssm):
    ssm.add("get_inventory", {"Entities": [{"Id": NODE2, "Data": {"AWS:Application": item("AWS:Application", [
        {"Name": "bash", "Version": "5.2"}])}}], "NextToken": "t1"},
        {"MaxResults": 50, "ResultAttributes": [{"TypeName": "AWS:Application"}],
         "Filters": [{"Key": "AWS:Application.Name", "Values": ["bash"], "Type": "Equal"}]})
    ssm.add("get_inventory", {"Entities": [{"Id": NODE, "Data": {"AWS:Application": item("AWS:Application", [
        {"Name": "bash", "Version": "5.1"}])}}]},
        {"MaxResults": 50, "ResultAttributes": [{"TypeName": "AWS:Application"}], "NextToken": "t1",
         "Filters": [{"Key": "AWS:Application.Name", "Values": ["bash"], "Type": "Equal"}]})
    run = run_module(module.main, dict(type_names=["AWS:Application"], region="us-east-1",
                                       filters=[{"key": "AWS:Application.Name", "values": ["bash"]}]), ssm.client)
    assert run.rc == 0, run.result
    assert [node["id"] for node in run.result["inventory"]] == [NODE2, NODE]  # sorted by id
    data = run.result["inventory"][1]["data"]["AWS:Application"]
    assert set(data) == {"type_name", "schema_version", "capture_time", "content"}
    assert data["content"] == [{"name": "bash", "version": "5.1"}]


def test_one_node_entries_per_type(run_module, ssm):
    ssm.add("list_inventory_entries", {"TypeName": "AWS:Application", "InstanceId": NODE, "SchemaVersion": "1.1",
                                       "CaptureTime": CAPTURE, "Entries": [{"Name": "openssl"}]},
            {"InstanceId": NODE, "TypeName": "AWS:Application", "MaxResults": 50,
             "Filters": [{"Key": "Name", "Values": ["open"], "Type": "BeginWith"}]})
    ssm.add("list_inventory_entries", {"TypeName": "Custom:Rack", "InstanceId": NODE, "Entries": []},
            {"InstanceId": NODE, "TypeName": "Custom:Rack", "MaxResults": 50})
    run = run_module(module.main, dict(instance_id=NODE, type_names=["AWS:Application", "Custom:Rack"],
                                       region="us-east-1",
                                       filters=[{"key": "AWS:Application.Name", "values": ["open"],
                                                 "type": "BeginWith"}]), ssm.client)
    assert run.rc == 0, run.result
    data = run.result["inventory"][0]["data"]
    assert data["AWS:Application"]["content"] == [{"name": "openssl"}]
    assert data["Custom:Rack"]["content"] == []


def test_unknown_node(run_module, ssm):
    ssm.add_error("list_inventory_entries", "InvalidInstanceId")
    run = run_module(module.main, dict(instance_id=NODE, region="us-east-1"), ssm.client)
    assert run.rc == 1 and run.result["error_code"] == "InvalidInstanceId"


def test_bad_type_name(run_module, ssm):
    run = run_module(module.main, dict(type_names=["Application"], region="us-east-1"), ssm.client)
    assert run.rc == 1 and "type_names" in run.result["msg"]
