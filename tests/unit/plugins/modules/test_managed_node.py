# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.fleetops.ssm.plugins.modules import managed_node as module
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import WHEN

NODE = "mi-0123456789abcdef0"
ACTIVATION = "11111111-1111-4111-8111-111111111111"


def node_info(**extra):
    info = {"InstanceId": NODE, "PingStatus": "Online", "LastPingDateTime": WHEN, "AgentVersion": "3.3.0.0",
            "PlatformType": "Linux", "ResourceType": "ManagedInstance", "ComputerName": "web-1", "Name": "web",
            "ActivationId": ACTIVATION, "IamRole": "SSMServiceRole", "RegistrationDate": WHEN}
    info.update(extra)
    return info


def describe(ssm, found):
    ssm.add("describe_instance_information", {"InstanceInformationList": found},
            {"MaxResults": 50, "Filters": [{"Key": "InstanceIds", "Values": [NODE]}]})


def tags(ssm, found):
    ssm.add("list_tags_for_resource", {"TagList": [{"Key": k, "Value": v} for k, v in found.items()]},
            {"ResourceType": "ManagedInstance", "ResourceId": NODE})


def test_deregister(ssm, run_module):
    describe(ssm, [node_info()])
    tags(ssm, {"Role": "web"})
    ssm.add("deregister_managed_instance", {}, {"InstanceId": NODE})
    run = run_module(module.main, {"instance_id": NODE, "state": "absent", "_ansible_diff": True}, ssm.client)
    assert run.rc == 0 and run.result["changed"] is True, run.result
    assert run.result["managed_node"] == {}
    assert run.result["diff"] == {"before": {"instance_id": NODE, "registered": True, "tags": {"Role": "web"}}, "after": {}}


def test_deregister_again_changes_nothing(ssm, run_module):
    describe(ssm, [])
    run = run_module(module.main, {"instance_id": NODE, "state": "absent"}, ssm.client)
    assert run.result["changed"] is False
    assert ssm.operations == ["DescribeInstanceInformation"]


def test_gone_meanwhile(ssm, run_module):
    describe(ssm, [node_info()])
    tags(ssm, {})
    ssm.add_error("deregister_managed_instance", "InvalidInstanceId", expected={"InstanceId": NODE})
    run = run_module(module.main, {"instance_id": NODE, "state": "absent"}, ssm.client)
    assert run.rc == 0 and run.result["changed"] is False


def test_check_mode_deregisters_nothing(ssm, run_module):
    describe(ssm, [node_info()])
    tags(ssm, {})
    run = run_module(module.main, {"instance_id": NODE, "state": "absent", "_ansible_check_mode": True}, ssm.client)
    assert run.result["changed"] is True
    assert "DeregisterManagedInstance" not in ssm.operations


def test_tags(ssm, run_module):
    describe(ssm, [node_info()])
    tags(ssm, {"Role": "web", "Old": "x"})
    ssm.add("remove_tags_from_resource", {}, {"ResourceType": "ManagedInstance", "ResourceId": NODE, "TagKeys": ["Old"]})
    ssm.add("add_tags_to_resource", {}, {"ResourceType": "ManagedInstance", "ResourceId": NODE,
                                         "Tags": [{"Key": "Patch Group", "Value": "a"}]})
    describe(ssm, [node_info()])
    tags(ssm, {"Role": "web", "Patch Group": "a"})
    run = run_module(module.main, {"instance_id": NODE, "tags": {"Role": "web", "Patch Group": "a"}}, ssm.client)
    assert run.result["changed"] is True
    node = run.result["managed_node"]
    assert node["tags"] == {"Role": "web", "Patch Group": "a"}
    assert node["node_name"] == "web" and node["activation_id"] == ACTIVATION


def test_tags_unchanged(ssm, run_module):
    describe(ssm, [node_info()])
    tags(ssm, {"Role": "web"})
    run = run_module(module.main, {"instance_id": NODE, "tags": {"Role": "web"}}, ssm.client)
    assert run.result["changed"] is False


def test_present_needs_a_registered_node(ssm, run_module):
    describe(ssm, [])
    run = run_module(module.main, {"instance_id": NODE}, ssm.client)
    assert run.rc == 1 and "is not registered" in run.result["msg"]


def test_only_hybrid_ids(ssm, run_module):
    run = run_module(module.main, {"instance_id": "i-0123456789abcdef0", "state": "absent"}, ssm.client)
    assert run.rc == 1 and "mi-0123456789abcdef0" in run.result["msg"]
    assert ssm.operations == []
