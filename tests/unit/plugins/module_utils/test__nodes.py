# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime
from unittest.mock import MagicMock

import botocore.exceptions
import pytest

from ansible_collections.fleetops.ssm.plugins.module_utils import _nodes as nodes
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError

WHEN = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)


def info(instance_id, **extra):
    result = {"InstanceId": instance_id, "PingStatus": "Online", "LastPingDateTime": WHEN, "AgentVersion": "3.3.0.0",
              "IsLatestVersion": True, "PlatformType": "Linux", "PlatformName": "Debian GNU/Linux",
              "PlatformVersion": "12", "ResourceType": "ManagedInstance" if instance_id.startswith("mi-") else
              "EC2Instance", "ComputerName": instance_id, "IPAddress": "192.0.2.1"}
    result.update(extra)
    return result


def client_error(code, operation="DescribeInstanceInformation"):
    return botocore.exceptions.ClientError({"Error": {"Code": code, "Message": code}}, operation)


class TestFilters:
    def test_dict_to_api_filters(self):
        assert nodes.build_filters({"PlatformTypes": "Linux", "tag:Role": ["web", "db"]}) == [
            {"Key": "PlatformTypes", "Values": ["Linux"]}, {"Key": "tag:Role", "Values": ["web", "db"]}]

    @pytest.mark.parametrize("filters, text", [
        ({"PingState": "Online"}, "filters: unknown filter key 'PingState'"),
        ({"tag:": "x"}, "unknown filter key 'tag:'"),
        ({"PlatformTypes": "Solaris"}, "PlatformTypes Solaris is not valid"),
        ({"ResourceType": ["EC2Instance", "ManagedInstance"]}, "exactly one value"),
        ({"InstanceIds": ["i-bogus"]}, "is not a managed node id"),
        ({"AgentVersion": []}, "needs 1 to 100 values"),
    ])
    def test_rejected_before_any_call(self, filters, text):
        with pytest.raises(nodes.NodeFilterError, match=text):
            nodes.build_filters(filters)

    def test_tag_filters_are_sent_and_the_others_applied(self):
        filters = nodes.build_filters({"tag:Role": "web", "PingStatus": "Online"})
        sent, local = nodes.split_filters(filters)
        assert sent == [{"Key": "tag:Role", "Values": ["web"]}]
        assert local == [{"Key": "PingStatus", "Values": ["Online"]}]
        assert nodes.matches_filters({"PingStatus": "Online"}, local)
        assert not nodes.matches_filters({"PingStatus": "ConnectionLost"}, local)

    def test_without_tag_filters_everything_is_sent(self):
        filters = nodes.build_filters({"PlatformTypes": "Linux"})
        assert nodes.split_filters(filters) == (filters, [])

    def test_online_only_by_default(self):
        sent, local = nodes.FetchSettings().api_filters()
        assert sent == [{"Key": "PingStatus", "Values": ["Online"]}] and local == []
        assert nodes.FetchSettings(include_offline=True).api_filters() == ([], [])


class TestNormalisation:
    def test_node_to_ansible(self):
        result = nodes.node_to_ansible(info("mi-0123456789abcdef0", Name="web-1", RegistrationDate=WHEN))
        assert result["ip_address"] == "192.0.2.1"
        assert result["last_ping_date_time"] == "2026-01-02T03:04:05+00:00"
        assert result["node_name"] == "web-1" and "name" not in result
        assert result["is_latest_version"] is True

    @pytest.mark.parametrize("instance_id, region, arn", [
        ("mi-0123456789abcdef0", "eu-west-1", "arn:aws:ssm:eu-west-1:123456789012:managed-instance/mi-0123456789abcdef0"),
        ("i-0123456789abcdef0", "cn-north-1", "arn:aws-cn:ec2:cn-north-1:123456789012:instance/i-0123456789abcdef0"),
        ("i-01234567", "us-gov-west-1", "arn:aws-us-gov:ec2:us-gov-west-1:123456789012:instance/i-01234567"),
    ])
    def test_node_arn(self, instance_id, region, arn):
        assert nodes.node_arn(instance_id, region, "123456789012") == arn

    def test_inventory_entity_counts_applications(self):
        entity = {"Id": "mi-0123456789abcdef0", "Data": {
            "AWS:Application": {"TypeName": "AWS:Application", "SchemaVersion": "1.1", "Content": [{"Name": "a"}] * 3},
            "Custom:Rack": {"TypeName": "Custom:Rack", "SchemaVersion": "1.0", "Content": [{"RackId": "r1"}]}}}
        data = nodes.inventory_entity_to_ansible(entity, counts_only=("AWS:Application",))["data"]
        assert data["AWS:Application"]["count"] == 3 and "content" not in data["AWS:Application"]
        assert data["Custom:Rack"]["content"] == [{"rack_id": "r1"}]


class TestCalls:
    def test_describe_pages_of_50(self):
        client = MagicMock()
        client.describe_instance_information.side_effect = [
            {"InstanceInformationList": [info("mi-00000000000000001")], "NextToken": "t1"},
            {"InstanceInformationList": [info("mi-00000000000000002")]},
        ]
        found = nodes.describe_instance_information(client, [{"Key": "PingStatus", "Values": ["Online"]}])
        assert [item["InstanceId"] for item in found] == ["mi-00000000000000001", "mi-00000000000000002"]
        calls = client.describe_instance_information.call_args_list
        assert calls[0].kwargs == {"MaxResults": 50, "Filters": [{"Key": "PingStatus", "Values": ["Online"]}]}
        assert calls[1].kwargs["NextToken"] == "t1"

    def test_describe_error_is_typed(self):
        client = MagicMock()
        client.describe_instance_information.side_effect = client_error("InvalidFilterKey")
        with pytest.raises(AnsibleSSMError) as raised:
            nodes.describe_instance_information(client)
        assert raised.value.error_code == "InvalidFilterKey"

    def test_resource_tags_by_arn(self):
        client = MagicMock()
        client.get_resources.return_value = {"ResourceTagMappingList": [
            {"ResourceARN": "arn:a", "Tags": [{"Key": "Name", "Value": "web-1"}]}]}
        assert nodes.get_resource_tags(client, ["arn:a", "arn:b"]) == {"arn:a": {"Name": "web-1"}}
        client.get_resources.assert_called_once_with(ResourceARNList=["arn:a", "arn:b"])


def fake_clients(infos, tags=None, states=None):
    clients = {"ssm": MagicMock(), "resourcegroupstaggingapi": MagicMock(), "sts": MagicMock(), "ec2": MagicMock()}
    pages = [infos[start:start + 50] for start in range(0, len(infos), 50)] or [[]]
    clients["ssm"].describe_instance_information.side_effect = [
        dict({"InstanceInformationList": page}, **({"NextToken": f"t{index}"} if index < len(pages) - 1 else {}))
        for index, page in enumerate(pages)]
    clients["sts"].get_caller_identity.return_value = {"Account": "123456789012"}

    def get_resources(ResourceARNList):
        return {"ResourceTagMappingList": [
            {"ResourceARN": arn, "Tags": [{"Key": "Name", "Value": arn.rsplit("/", 1)[1]}]} for arn in ResourceARNList
            if tags is None or arn.rsplit("/", 1)[1] in tags]}

    clients["resourcegroupstaggingapi"].get_resources.side_effect = get_resources
    clients["ssm"].get_paginator.return_value.paginate.return_value.build_full_result.return_value = {
        "InstancePatchStates": states or []}
    return clients


class TestFetchRegion:
    def test_calls_are_batched(self):
        ids = [f"mi-{index:017d}" for index in range(120)] + [f"i-{index:017d}" for index in range(130)]
        clients = fake_clients([info(iid) for iid in ids])
        account = nodes.AccountId(lambda: clients["sts"])
        records = nodes.fetch_region("us-east-1", clients.__getitem__, nodes.FetchSettings(max_workers=3), account)
        assert len(records) == 250
        assert clients["ssm"].describe_instance_information.call_count == 5  # 250 / 50
        assert clients["resourcegroupstaggingapi"].get_resources.call_count == 3  # 250 / 100
        assert clients["sts"].get_caller_identity.call_count == 1
        assert records[0]["tags"] == {"Name": ids[0]} and records[-1]["tags"] == {"Name": ids[-1]}
        assert records[0]["region"] == "us-east-1"

    def test_local_filters_after_tag_filters(self):
        clients = fake_clients([info("mi-00000000000000001"), info("mi-00000000000000002", PingStatus="ConnectionLost")])
        settings = nodes.FetchSettings(filters=nodes.build_filters({"tag:Role": "web"}), include_tags=False)
        records = nodes.fetch_region("us-east-1", clients.__getitem__, settings, None)
        assert [record["info"]["instance_id"] for record in records] == ["mi-00000000000000001"]
        sent = clients["ssm"].describe_instance_information.call_args.kwargs["Filters"]
        assert sent == [{"Key": "tag:Role", "Values": ["web"]}]

    def test_patch_summary(self):
        state = {"InstanceId": "mi-00000000000000001", "PatchGroup": "web", "BaselineId": "pb-0123456789abcdef0",
                 "Operation": "Scan", "OperationStartTime": WHEN, "OperationEndTime": WHEN, "MissingCount": 2}
        clients = fake_clients([info("mi-00000000000000001"), info("mi-00000000000000002")], states=[state])
        settings = nodes.FetchSettings(include_tags=False, include_patch_summary=True)
        records = nodes.fetch_region("us-east-1", clients.__getitem__, settings, None)
        assert records[0]["patch_state"]["missing_count"] == 2 and records[0]["patch_state"]["compliant"] is False
        assert "patch_state" not in records[1]

    def test_no_nodes_no_other_call(self):
        clients = fake_clients([])
        records = nodes.fetch_region("us-east-1", clients.__getitem__, nodes.FetchSettings(), None)
        assert records == [] and not clients["resourcegroupstaggingapi"].get_resources.called
