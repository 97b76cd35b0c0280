# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
from unittest.mock import MagicMock

import pytest

from ansible_collections.fleetops.ssm.plugins.module_utils._modules import FleetOpsSSMModule
from ansible_collections.fleetops.ssm.plugins.modules import managed_node_info as module
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import WHEN

RETURN_KEYS = {"instance_id", "ping_status", "last_ping_date_time", "agent_version", "is_latest_version",
               "platform_type", "platform_name", "platform_version", "ip_address", "computer_name", "resource_type",
               "source_id", "source_type", "tags", "region"}


def info(instance_id, **extra):
    result = {"InstanceId": instance_id, "PingStatus": "Online", "LastPingDateTime": WHEN, "AgentVersion": "3.3.0.0",
              "IsLatestVersion": True, "PlatformType": "Linux", "PlatformName": "Debian GNU/Linux",
              "PlatformVersion": "12", "ResourceType": "ManagedInstance", "ComputerName": "web-1",
              "IPAddress": "192.0.2.1", "SourceId": instance_id, "SourceType": "AWS::SSM::ManagedInstance"}
    result.update(extra)
    return result


def test_filters_without_tags(run_module, ssm):
    ssm.add("describe_instance_information",
            {"InstanceInformationList": [info("mi-00000000000000001")]},
            {"MaxResults": 50, "Filters": [{"Key": "PlatformTypes", "Values": ["Linux"]},
                                           {"Key": "InstanceIds", "Values": ["mi-00000000000000001"]}]})
    run = run_module(module.main, dict(filters={"PlatformTypes": "Linux"}, instance_ids=["mi-00000000000000001"],
                                       include_tags=False, region="us-east-1"), ssm.client)
    assert run.rc == 0, run.result
    assert run.result["changed"] is False
    node = run.result["managed_nodes"][0]
    assert RETURN_KEYS <= set(node)
    assert node["tags"] == {} and node["region"] == "us-east-1"


def test_bad_filter_key_fails_before_any_call(run_module, ssm):
    run = run_module(module.main, dict(filters={"Bogus": "x"}, region="us-east-1"), ssm.client)
    assert run.rc == 1
    assert "filters: unknown filter key 'Bogus'" in run.result["msg"]


def test_api_error(run_module, ssm):
    ssm.add_error("describe_instance_information", "InvalidFilterKey")
    run = run_module(module.main, dict(include_tags=False, region="us-east-1"), ssm.client)
    assert run.rc == 1
    assert run.result["error_code"] == "InvalidFilterKey"


def test_tags_through_the_tagging_api(patch_ansible_module, monkeypatch, capsys):
    clients = {"ssm": MagicMock(), "sts": MagicMock(), "resourcegroupstaggingapi": MagicMock()}
    clients["ssm"].describe_instance_information.return_value = {"InstanceInformationList": [
        info("mi-00000000000000001"), info("i-00000000000000002", ResourceType="EC2Instance")]}
    clients["sts"].get_caller_identity.return_value = {"Account": "123456789012"}
    clients["resourcegroupstaggingapi"].get_resources.return_value = {"ResourceTagMappingList": [
        {"ResourceARN": "arn:aws:ssm:eu-west-1:123456789012:managed-instance/mi-00000000000000001",
         "Tags": [{"Key": "Name", "Value": "web-1"}]}]}
    monkeypatch.setattr(FleetOpsSSMModule, "client", lambda self, service, **kw: clients[service])
    patch_ansible_module(dict(region="eu-west-1"))
    with pytest.raises(SystemExit):
        module.main()
    result = json.loads(capsys.readouterr().out)
    assert [node["tags"] for node in result["managed_nodes"]] == [{"Name": "web-1"}, {}]
    arns = clients["resourcegroupstaggingapi"].get_resources.call_args.kwargs["ResourceARNList"]
    assert arns == ["arn:aws:ssm:eu-west-1:123456789012:managed-instance/mi-00000000000000001",
                    "arn:aws:ec2:eu-west-1:123456789012:instance/i-00000000000000002"]
    assert not clients["ssm"].describe_instance_information.call_args.kwargs.get("Filters")
