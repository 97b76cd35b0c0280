# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.fleetops.ssm.plugins.modules import patch_baseline_info as module
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import WHEN

BASELINE_ID = "pb-0123456789abcdef0"
WIN_ID = "pb-0fedcba9876543210"
AWS_UBUNTU = "arn:aws:ssm:us-east-1:075727635805:patchbaseline/pb-0c7e89f711c3095f4"


def baseline(baseline_id=BASELINE_ID, name="web", os_name="UBUNTU", **fields):
    result = {
        "BaselineId": baseline_id, "Name": name, "OperatingSystem": os_name,
        "GlobalFilters": {"PatchFilters": [{"Key": "PRODUCT", "Values": ["*"]}]},
        "ApprovalRules": {"PatchRules": [{
            "PatchFilterGroup": {"PatchFilters": [{"Key": "PRIORITY", "Values": ["Required"]}]},
            "ComplianceLevel": "HIGH", "ApproveAfterDays": 0, "EnableNonSecurity": False}]},
        "ApprovedPatches": [], "ApprovedPatchesComplianceLevel": "UNSPECIFIED", "ApprovedPatchesEnableNonSecurity": False,
        "RejectedPatches": [], "RejectedPatchesAction": "ALLOW_AS_DEPENDENCY", "PatchGroups": ["web"], "Sources": [],
        "CreatedDate": WHEN, "ModifiedDate": WHEN,
    }
    result.update(fields)
    return result


def identity(baseline_id=BASELINE_ID, name="web", os_name="UBUNTU", default=False, description=None):
    result = {"BaselineId": baseline_id, "BaselineName": name, "OperatingSystem": os_name, "DefaultBaseline": default}
    if description:
        result["BaselineDescription"] = description
    return result


def args(**overrides):
    result = dict(baseline_ids=None, names=None, owner=None, operating_system=None, name_prefix=None, details=False,
                  effective_patches=False, patch_groups=False, patch_group_state=False, default_baselines=False)
    result.update(overrides)
    return result


def describe(ssm, filters, identities):
    ssm.add("describe_patch_baselines", {"BaselineIdentities": identities}, {"Filters": filters, "MaxResults": 100})


def show(ssm, current, tags=None, default_id=AWS_UBUNTU, fetch=True, default_call=True):
    if fetch:
        ssm.add("get_patch_baseline", current, {"BaselineId": current["BaselineId"]})
    if default_call:
        ssm.add("get_default_patch_baseline", {"BaselineId": default_id, "OperatingSystem": current["OperatingSystem"]},
                {"OperatingSystem": current["OperatingSystem"]})
    if not current["BaselineId"].startswith("arn:"):
        ssm.add("list_tags_for_resource", {"TagList": [{"Key": k, "Value": v} for k, v in (tags or {}).items()]},
                {"ResourceType": "PatchBaseline", "ResourceId": current["BaselineId"]})


class TestList:
    def test_summaries_with_filters(self, run_module, ssm):
        describe(ssm, [{"Key": "NAME_PREFIX", "Values": ["w"]}, {"Key": "OWNER", "Values": ["Self"]},
                       {"Key": "OPERATING_SYSTEM", "Values": ["UBUNTU"]}],
                 [identity(), identity(AWS_UBUNTU, "AWS-UbuntuDefaultPatchBaseline", default=True, description="d")])

        run = run_module(module.main, dict(name_prefix="w", owner="Self", operating_system="UBUNTU"), ssm.client)

        assert run.rc == 0 and run.result["missing"] == []
        assert run.result["patch_baselines"] == [
            {"baseline_id": AWS_UBUNTU, "name": "AWS-UbuntuDefaultPatchBaseline", "operating_system": "UBUNTU",
             "description": "d", "default": True, "owner": "AWS"},
            {"baseline_id": BASELINE_ID, "name": "web", "operating_system": "UBUNTU", "default": False, "owner": "Self"},
        ]
        assert "patch_groups" not in run.result and "default_baselines" not in run.result

    def test_details(self, ssm):
        describe(ssm, [{"Key": "OWNER", "Values": ["AWS"]}], [identity(AWS_UBUNTU, "AWS-UbuntuDefaultPatchBaseline")])
        fetched = {}
        full, listed, missing = module.select(ssm.client, args(owner="AWS", details=True), fetched)
        assert (full, listed, missing) == ([AWS_UBUNTU], [], [])
        show(ssm, baseline(AWS_UBUNTU, "AWS-UbuntuDefaultPatchBaseline"))

        result = module.show(ssm.client, AWS_UBUNTU, {}, args(), fetched)

        assert result["owner"] == "AWS" and result["default"] is True and result["tags"] == {}
        assert result["approval_rules"][0]["compliance_level"] == "HIGH"


class TestFull:
    def test_by_id_and_name(self, run_module, ssm):
        ssm.add("get_patch_baseline", baseline(), {"BaselineId": BASELINE_ID})
        ssm.add_error("get_patch_baseline", "DoesNotExistException", expected={"BaselineId": "pb-00000000000000000"})
        describe(ssm, [{"Key": "NAME_PREFIX", "Values": ["win"]}], [identity(WIN_ID, "win", "WINDOWS"), identity(
            "pb-0aaaaaaaaaaaaaaaa", "win-old", "WINDOWS")])
        describe(ssm, [{"Key": "NAME_PREFIX", "Values": ["gone"]}], [])
        show(ssm, baseline(), {"team": "ops"}, default_id=BASELINE_ID, fetch=False)
        show(ssm, baseline(WIN_ID, "win", "WINDOWS", PatchGroups=[]), default_id="arn:aws:ssm:us-east-1:075727635805:patchbaseline/pb-09ca3fb51f0412ec3")
        ssm.add("describe_effective_patches_for_patch_baseline", {"EffectivePatches": [{
            "Patch": {"Id": "KB1", "Title": "t", "ReleaseDate": WHEN},
            "PatchStatus": {"DeploymentStatus": "APPROVED", "ComplianceLevel": "CRITICAL", "ApprovalDate": WHEN}}]},
            {"BaselineId": WIN_ID, "MaxResults": 100})

        run = run_module(module.main, dict(baseline_ids=[BASELINE_ID, "pb-00000000000000000"], names=["win", "gone"],
                                           effective_patches=True), ssm.client)

        assert run.rc == 0, run.result
        assert run.result["missing"] == ["pb-00000000000000000", "gone"]
        web, win = run.result["patch_baselines"]
        assert web["default"] is True and web["tags"] == {"team": "ops"} and web["patch_groups"] == ["web"]
        assert web["effective_patches"] == [], "AWS answers effective patches for Windows only"
        assert win["name"] == "win" and win["effective_patches"][0]["status"]["deployment_status"] == "APPROVED"
        assert win["effective_patches"][0]["patch"]["id"] == "KB1"
        assert "DescribeEffectivePatchesForPatchBaseline" in ssm.operations
        reads = [call["BaselineId"] for call in ssm.params("GetPatchBaseline")]
        assert reads.count(BASELINE_ID) == 1, "a baseline read to check it exists is not read again"


class TestGroupsAndDefaults:
    def test_patch_groups_with_state_and_defaults(self, run_module, ssm):
        describe(ssm, [{"Key": "OPERATING_SYSTEM", "Values": ["UBUNTU"]}], [identity()])
        ssm.add("describe_patch_groups", {"Mappings": [
            {"PatchGroup": "web", "BaselineIdentity": identity()},
            {"PatchGroup": "db", "BaselineIdentity": identity(AWS_UBUNTU, "AWS-UbuntuDefaultPatchBaseline", default=True)},
        ]}, {"Filters": [{"Key": "OPERATING_SYSTEM", "Values": ["UBUNTU"]}], "MaxResults": 100})
        ssm.add("describe_patch_group_state", {"Instances": 3, "InstancesWithMissingPatches": 1}, {"PatchGroup": "web"})
        ssm.add("describe_patch_group_state", {"Instances": 0}, {"PatchGroup": "db"})
        ssm.add("get_default_patch_baseline", {"BaselineId": AWS_UBUNTU, "OperatingSystem": "UBUNTU"},
                {"OperatingSystem": "UBUNTU"})

        run = run_module(module.main, dict(operating_system="UBUNTU", patch_groups=True, patch_group_state=True,
                                           default_baselines=True), ssm.client)

        assert run.rc == 0, run.result
        assert run.result["patch_groups"] == [
            {"patch_group": "db", "baseline_id": AWS_UBUNTU, "baseline_name": "AWS-UbuntuDefaultPatchBaseline",
             "operating_system": "UBUNTU", "default_baseline": True, "state": {"instances": 0}},
            {"patch_group": "web", "baseline_id": BASELINE_ID, "baseline_name": "web", "operating_system": "UBUNTU",
             "default_baseline": False, "state": {"instances": 3, "instances_with_missing_patches": 1}},
        ]
        assert run.result["default_baselines"] == {"UBUNTU": AWS_UBUNTU}

    def test_default_baselines_of_every_os(self, ssm):
        from ansible_collections.fleetops.ssm.plugins.module_utils import _patching as pb

        for os_name in pb.OPERATING_SYSTEMS:
            ssm.add("get_default_patch_baseline", {"BaselineId": BASELINE_ID, "OperatingSystem": os_name},
                    {"OperatingSystem": os_name})

        assert {os_name: pb.get_default_patch_baseline(ssm.client, os_name) for os_name in pb.OPERATING_SYSTEMS} == {
            os_name: BASELINE_ID for os_name in pb.OPERATING_SYSTEMS}
