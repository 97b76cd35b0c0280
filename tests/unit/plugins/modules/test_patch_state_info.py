# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.fleetops.ssm.plugins.modules import patch_state_info as module
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import WHEN

BASELINE_ID = "pb-0123456789abcdef0"
NODE = "i-0123456789abcdef0"
NODE2 = "i-0fedcba9876543210"
HYBRID = "mi-0123456789abcdef0"


def state(instance_id, group="web", operation="Scan", **counts):
    result = {"InstanceId": instance_id, "PatchGroup": group, "BaselineId": BASELINE_ID, "OperationStartTime": WHEN,
              "OperationEndTime": WHEN, "Operation": operation, "InstalledCount": 0, "MissingCount": 0,
              "FailedCount": 0, "InstalledOtherCount": 0, "NotApplicableCount": 0}
    result.update(counts)
    return result


def patch(title, patch_state, **extra):
    result = {"Title": title, "KBId": title, "Classification": "Security", "Severity": "Critical", "State": patch_state,
              "InstalledTime": WHEN}
    result.update(extra)
    return result


class TestByNodes:
    def test_batches_missing_nodes_and_summary(self, run_module, ssm):
        nodes = [f"i-{index:017x}" for index in range(60)]
        ssm.add("describe_instance_patch_states", {"InstancePatchStates": [
            state(nodes[1], InstalledCount=10, MissingCount=2), state(nodes[0], InstalledCount=5)]},
            {"InstanceIds": nodes[:50], "MaxResults": 100})
        ssm.add("describe_instance_patch_states", {"InstancePatchStates": [
            state(nodes[55], group="db", operation="Install", InstalledPendingRebootCount=1)]},
            {"InstanceIds": nodes[50:], "MaxResults": 100})

        run = run_module(module.main, dict(instance_ids=nodes), ssm.client)

        assert run.rc == 0, run.result
        assert [item["instance_id"] for item in run.result["patch_states"]] == [nodes[0], nodes[1], nodes[55]]
        assert [item["compliant"] for item in run.result["patch_states"]] == [True, False, False]
        assert len(run.result["missing"]) == 57 and nodes[2] in run.result["missing"]
        summary = run.result["summary"]
        assert summary["nodes"] == 3 and summary["compliant_nodes"] == 1 and summary["non_compliant_nodes"] == 2
        assert summary["patches"]["installed"] == 15 and summary["nodes_with"]["installed_pending_reboot"] == 1
        assert summary["operations"] == {"Scan": 2, "Install": 1}
        assert summary["patch_groups"]["db"] == {"nodes": 1, "non_compliant_nodes": 1}

    def test_patches_by_state(self, run_module, ssm):
        ssm.add("describe_instance_patch_states", {"InstancePatchStates": [state(HYBRID, MissingCount=1)]},
                {"InstanceIds": [HYBRID], "MaxResults": 100})
        ssm.add("describe_instance_patches", {"Patches": [patch("openssl", "MISSING", CVEIds="CVE-2026-1")]}, {
            "InstanceId": HYBRID, "MaxResults": 100, "Filters": [
                {"Key": "Severity", "Values": ["Critical"]},
                {"Key": "State", "Values": ["Missing", "Failed"]}]})

        run = run_module(module.main, dict(instance_ids=[HYBRID], include_patches=True, patch_states=["Missing", "Failed"],
                                           patch_filters=[{"key": "Severity", "values": ["Critical"]}]), ssm.client)

        assert run.rc == 0, run.result
        patches = run.result["patch_states"][0]["patches"]
        assert patches == [{"title": "openssl", "kb_id": "openssl", "classification": "Security", "severity": "Critical",
                            "state": "MISSING", "state_name": "Missing", "installed_time": WHEN.isoformat(),
                            "cve_ids": "CVE-2026-1"}]


class TestByPatchGroup:
    def test_filters_on_counts(self, run_module, ssm):
        ssm.add("describe_instance_patch_states_for_patch_group", {"InstancePatchStates": [state(NODE2), state(NODE)]}, {
            "PatchGroup": "web", "MaxResults": 100,
            "Filters": [{"Key": "MissingCount", "Type": "GreaterThan", "Values": ["0"]}]})

        run = run_module(module.main, dict(patch_group="web", patch_group_filters=[
            {"key": "MissingCount", "type": "GreaterThan", "value": 0}]), ssm.client)

        assert run.rc == 0, run.result
        assert [item["instance_id"] for item in run.result["patch_states"]] == [NODE, NODE2]
        assert run.result["missing"] == [] and run.result["summary"]["patch_groups"] == {
            "web": {"nodes": 2, "non_compliant_nodes": 0}}

    def test_empty_group(self, run_module, ssm):
        # the model's InstancePatchStatesList has a minimum of 1: no nodes, no list
        ssm.add("describe_instance_patch_states_for_patch_group", {},
                {"PatchGroup": "nobody", "MaxResults": 100, "Filters": []})

        run = run_module(module.main, dict(patch_group="nobody"), ssm.client)

        assert run.result["patch_states"] == [] and run.result["summary"]["nodes"] == 0


class TestArguments:
    def test_nodes_or_group(self, run_module, ssm):
        run = run_module(module.main, dict(), ssm.client)
        assert run.rc == 1 and "one of the following is required: instance_ids, patch_group" in run.result["msg"]
        run = run_module(module.main, dict(instance_ids=[NODE], patch_group="web"), ssm.client)
        assert run.rc == 1 and "mutually exclusive" in run.result["msg"]
        run = run_module(module.main, dict(instance_ids=[NODE], patch_group_filters=[
            {"key": "MissingCount", "type": "Equal", "value": 0}]), ssm.client)
        assert run.rc == 1 and "patch_group" in run.result["msg"]
        run = run_module(module.main, dict(instance_ids=[NODE], patch_states=["Broken"]), ssm.client)
        assert run.rc == 1 and "patch_states" in run.result["msg"]
        assert ssm.calls == []

    def test_denied(self, run_module, ssm):
        ssm.add_error("describe_instance_patch_states", "AccessDeniedException", "no",
                      expected={"InstanceIds": [NODE], "MaxResults": 100})

        run = run_module(module.main, dict(instance_ids=[NODE]), ssm.client)

        assert run.rc == 1 and run.result["iam_action"] == "ssm:DescribeInstancePatchStates"
