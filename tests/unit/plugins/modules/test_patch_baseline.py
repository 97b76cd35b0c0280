# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest
from botocore.stub import ANY

from ansible_collections.amazon.aws.plugins.module_utils import cloud

from ansible_collections.fleetops.ssm.plugins.module_utils import _patching as pb
from ansible_collections.fleetops.ssm.plugins.modules import patch_baseline as module
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import WHEN

BASELINE_ID = "pb-0123456789abcdef0"
OTHER_ID = "pb-0fedcba9876543210"
AWS_UBUNTU = "arn:aws:ssm:us-east-1:075727635805:patchbaseline/pb-0c7e89f711c3095f4"
RULES = [{"patch_filters": [{"key": "PRIORITY", "values": ["Important", "Required"]}], "approve_after_days": 0,
          "approve_until_date": None, "compliance_level": None, "enable_non_security": None}]
API_RULES = {"PatchRules": [{
    "PatchFilterGroup": {"PatchFilters": [{"Key": "PRIORITY", "Values": ["Required", "Important"]}]},
    "ComplianceLevel": "UNSPECIFIED", "ApproveAfterDays": 0, "EnableNonSecurity": False,
}]}
SELF_FILTERS = [{"Key": "NAME_PREFIX", "Values": ["web"]}, {"Key": "OWNER", "Values": ["Self"]}]


def params(**overrides):
    """module.params as AnsibleModule builds them: every option, defaults filled in."""
    result = dict(
        name="web", baseline_id=None, operating_system="UBUNTU", description=None, approval_rules=None,
        global_filters=None, approved_patches=None, approved_patches_compliance_level=None,
        approved_patches_enable_non_security=None, rejected_patches=None, rejected_patches_action=None,
        sources=None, available_security_updates_compliance_status=None, patch_groups=None,
        force_patch_groups=False, default=None, tags=None, purge_tags=True, state="present",
    )
    result.update(overrides)
    return result


def baseline(baseline_id=BASELINE_ID, os_name="UBUNTU", **fields):
    result = {
        "BaselineId": baseline_id, "Name": "web", "OperatingSystem": os_name,
        "GlobalFilters": {"PatchFilters": []}, "ApprovalRules": API_RULES,
        "ApprovedPatches": [], "ApprovedPatchesComplianceLevel": "UNSPECIFIED", "ApprovedPatchesEnableNonSecurity": False,
        "RejectedPatches": [], "RejectedPatchesAction": "ALLOW_AS_DEPENDENCY", "PatchGroups": [], "Sources": [],
        "CreatedDate": WHEN, "ModifiedDate": WHEN,
    }
    result.update(fields)
    return result


def updated(**fields):
    """UpdatePatchBaseline's answer: the baseline without its patch groups."""
    result = baseline(**fields)
    del result["PatchGroups"]
    return result


def identity(baseline_id=BASELINE_ID, name="web", os_name="UBUNTU"):
    return {"BaselineId": baseline_id, "BaselineName": name, "OperatingSystem": os_name, "DefaultBaseline": False}


# -- canned calls, queued in the order the module makes them ------------------------------------


def find_by_name(ssm, identities):
    ssm.add("describe_patch_baselines", {"BaselineIdentities": identities}, {"Filters": SELF_FILTERS, "MaxResults": 100})


def read_by_id(ssm, current, tags=None, default_id=AWS_UBUNTU):
    ssm.add("get_patch_baseline", current, {"BaselineId": current["BaselineId"]})
    if not current["BaselineId"].startswith("arn:"):
        ssm.add("list_tags_for_resource", {"TagList": [{"Key": k, "Value": v} for k, v in (tags or {}).items()]},
                {"ResourceType": "PatchBaseline", "ResourceId": current["BaselineId"]})
    ssm.add("get_default_patch_baseline", {"BaselineId": default_id, "OperatingSystem": current["OperatingSystem"]},
            {"OperatingSystem": current["OperatingSystem"]})


def group_owners(ssm, owners, os_name="UBUNTU"):
    mappings = [{"PatchGroup": group, "BaselineIdentity": identity(owner)} for group, owner in owners.items()]
    ssm.add("describe_patch_groups", {"Mappings": mappings},
            {"Filters": [{"Key": "OPERATING_SYSTEM", "Values": [os_name]}], "MaxResults": 100})


def aws_defaults(ssm, os_name="UBUNTU", arn=AWS_UBUNTU):
    ssm.add("describe_patch_baselines", {"BaselineIdentities": [identity(arn, "AWS-UbuntuDefaultPatchBaseline")]},
            {"Filters": [{"Key": "OWNER", "Values": ["AWS"]}, {"Key": "OPERATING_SYSTEM", "Values": [os_name]}],
             "MaxResults": 100})


# ---------------------------------------------------------------------------------------------


class TestDescribe:
    def test_missing(self, ssm):
        find_by_name(ssm, [identity(OTHER_ID, "web-old")])

        assert module.describe(ssm.client, "web") == (None, None, None)

    def test_existing(self, ssm):
        find_by_name(ssm, [identity()])
        read_by_id(ssm, baseline(), {"team": "ops"}, default_id=f"arn:aws:ssm:us-east-1:123456789012:patchbaseline/{BASELINE_ID}")

        current, tags, default = module.describe(ssm.client, "web")

        assert current["BaselineId"] == BASELINE_ID and tags == {"team": "ops"} and default is True
        assert ssm.operations == ["DescribePatchBaselines", "GetPatchBaseline", "ListTagsForResource",
                                  "GetDefaultPatchBaseline"]

    def test_aws_baseline_has_no_tags_call(self, ssm):
        read_by_id(ssm, baseline(AWS_UBUNTU, Name="AWS-UbuntuDefaultPatchBaseline"))

        current, tags, default = module.describe(ssm.client, baseline_id=AWS_UBUNTU)

        assert tags == {} and default is True
        assert "ListTagsForResource" not in ssm.operations


class TestCreate:
    def test_create_with_everything(self, ssm):
        group_owners(ssm, {"db": AWS_UBUNTU})
        ssm.add("create_patch_baseline", {"BaselineId": BASELINE_ID}, {
            "Name": "web", "OperatingSystem": "UBUNTU", "Description": "d", "ApprovalRules": {"PatchRules": [{
                "PatchFilterGroup": {"PatchFilters": [{"Key": "PRIORITY", "Values": ["Important", "Required"]}]},
                "ApproveAfterDays": 0}]},
            "RejectedPatches": ["telnetd"], "RejectedPatchesAction": "BLOCK", "ClientToken": ANY,
            "Tags": [{"Key": "team", "Value": "ops"}],
        })
        ssm.add("register_patch_baseline_for_patch_group", {}, {"BaselineId": BASELINE_ID, "PatchGroup": "web"})
        ssm.add("register_default_patch_baseline", {"BaselineId": BASELINE_ID}, {"BaselineId": BASELINE_ID})
        read_by_id(ssm, baseline(Description="d", PatchGroups=["web"]), {"team": "ops"}, default_id=BASELINE_ID)

        changed, final, tags, default = module.ensure_present(ssm.client, None, None, None, params(
            description="d", approval_rules=RULES, rejected_patches=["telnetd"], rejected_patches_action="BLOCK",
            patch_groups=["web"], default=True, tags={"team": "ops"}), check_mode=False)

        assert changed is True and final["BaselineId"] == BASELINE_ID
        assert tags == {"team": "ops"} and default is True and final["PatchGroups"] == ["web"]
        assert [op for op in ssm.operations if op.startswith(("Create", "Register", "Update", "Add"))] == [
            "CreatePatchBaseline", "RegisterPatchBaselineForPatchGroup", "RegisterDefaultPatchBaseline"]

    def test_create_in_check_mode_only_reads(self, ssm):
        group_owners(ssm, {})

        changed, final, tags, default = module.ensure_present(ssm.client, None, None, None, params(
            approval_rules=RULES, patch_groups=["web"], default=True, tags={"team": "ops"}), check_mode=True)

        assert changed is True and ssm.operations == ["DescribePatchGroups"]
        assert final["BaselineId"] is None and final["OperatingSystem"] == "UBUNTU"
        assert final["PatchGroups"] == ["web"] and default is True and tags == {"team": "ops"}
        assert final["RejectedPatchesAction"] == "ALLOW_AS_DEPENDENCY"

    def test_windows_is_aws_default_os(self, ssm):
        changed, final, _tags, _default = module.ensure_present(
            ssm.client, None, None, None, params(operating_system=None, approved_patches=["KB1"]), check_mode=True)

        assert final["OperatingSystem"] == "WINDOWS" and ssm.calls == []

    def test_create_needs_a_rule_or_an_approved_patch(self, ssm):
        with pytest.raises(pb.PatchBaselineValidationError, match="at least one approval rule or one approved patch"):
            module.ensure_present(ssm.client, None, None, None, params(description="x"), check_mode=False)
        assert ssm.calls == []

    def test_a_missing_baseline_id_is_not_created(self, ssm):
        with pytest.raises(pb.PatchBaselineValidationError, match="AWS chooses the id of a new baseline"):
            module.ensure_present(ssm.client, None, None, None, params(baseline_id=BASELINE_ID, approval_rules=RULES),
                                  check_mode=False)


class TestUpdate:
    def test_idempotent_makes_no_call(self, ssm):
        current = baseline(Description="d", PatchGroups=["web"])

        changed, final, tags, default = module.ensure_present(ssm.client, current, {"team": "ops"}, True, params(
            description="d", approval_rules=RULES, patch_groups=["web"], default=True, tags={"team": "ops"}),
            check_mode=False)

        assert (changed, final, tags, default) == (False, current, {"team": "ops"}, True)
        assert ssm.calls == []

    def test_update_replaces_with_the_merged_baseline(self, ssm):
        current = baseline(Description="keep", RejectedPatches=["telnetd"])
        ssm.add("update_patch_baseline", updated(), {
            "BaselineId": BASELINE_ID, "Replace": True, "Name": "web", "Description": "keep",
            "GlobalFilters": {"PatchFilters": []}, "ApprovalRules": API_RULES, "ApprovedPatches": ["bash"],
            "ApprovedPatchesComplianceLevel": "UNSPECIFIED", "ApprovedPatchesEnableNonSecurity": False,
            "RejectedPatches": ["telnetd"], "RejectedPatchesAction": "ALLOW_AS_DEPENDENCY", "Sources": [],
        })
        read_by_id(ssm, baseline(Description="keep", RejectedPatches=["telnetd"], ApprovedPatches=["bash"]))

        changed, final, _tags, default = module.ensure_present(
            ssm.client, current, {}, False, params(approved_patches=["bash"]), check_mode=False)

        assert changed is True and final["ApprovedPatches"] == ["bash"] and default is False

    def test_update_in_check_mode_predicts(self, ssm):
        current = baseline(Description="old")

        changed, final, _tags, _default = module.ensure_present(
            ssm.client, current, {}, False, params(description="", rejected_patches_action="BLOCK"), check_mode=True)

        assert changed is True and ssm.calls == []
        assert "Description" not in final and final["RejectedPatchesAction"] == "BLOCK"

    def test_tags_only(self, ssm):
        ssm.add("remove_tags_from_resource", {}, {"ResourceType": "PatchBaseline", "ResourceId": BASELINE_ID,
                                                  "TagKeys": ["old"]})
        ssm.add("add_tags_to_resource", {}, {"ResourceType": "PatchBaseline", "ResourceId": BASELINE_ID,
                                             "Tags": [{"Key": "team", "Value": "dev"}]})
        read_by_id(ssm, baseline(), {"team": "dev"})

        changed, _final, tags, _default = module.ensure_present(
            ssm.client, baseline(), {"team": "ops", "old": "x"}, False, params(tags={"team": "dev"}), check_mode=False)

        assert changed is True and tags == {"team": "dev"}

    def test_the_operating_system_cannot_change(self, ssm):
        with pytest.raises(pb.PatchBaselineValidationError, match="AWS cannot change the operating system"):
            module.ensure_present(ssm.client, baseline(), {}, False, params(operating_system="DEBIAN"), check_mode=False)

    def test_filter_keys_are_checked_against_the_current_os(self, ssm):
        with pytest.raises(pb.PatchBaselineValidationError, match="CLASSIFICATION is not valid for UBUNTU"):
            module.ensure_present(ssm.client, baseline(), {}, False, params(
                operating_system=None, global_filters=[{"key": "CLASSIFICATION", "values": ["Security"]}]),
                check_mode=False)
        assert ssm.calls == []

    def test_aws_baselines_cannot_be_changed(self, ssm):
        current = baseline(AWS_UBUNTU, Name="AWS-UbuntuDefaultPatchBaseline")
        with pytest.raises(pb.PatchBaselineValidationError, match="predefined baselines, which cannot be changed"):
            module.ensure_present(ssm.client, current, {}, True, params(
                name=None, baseline_id=AWS_UBUNTU, description="mine"), check_mode=False)

    def test_aws_baseline_as_default_again(self, ssm):
        current = baseline(AWS_UBUNTU, Name="AWS-UbuntuDefaultPatchBaseline")
        ssm.add("register_default_patch_baseline", {"BaselineId": AWS_UBUNTU}, {"BaselineId": AWS_UBUNTU})
        read_by_id(ssm, current)

        changed, _final, _tags, default = module.ensure_present(
            ssm.client, current, {}, False, params(name=None, baseline_id=AWS_UBUNTU, operating_system=None, default=True),
            check_mode=False)

        assert changed is True and default is True


class TestPatchGroups:
    def test_register_and_deregister(self, ssm):
        current = baseline(PatchGroups=["old", "web"])
        group_owners(ssm, {"web": BASELINE_ID, "old": BASELINE_ID})
        ssm.add("deregister_patch_baseline_for_patch_group", {}, {"BaselineId": BASELINE_ID, "PatchGroup": "old"})
        ssm.add("register_patch_baseline_for_patch_group", {}, {"BaselineId": BASELINE_ID, "PatchGroup": "new"})
        read_by_id(ssm, baseline(PatchGroups=["new", "web"]))

        changed, final, _tags, _default = module.ensure_present(
            ssm.client, current, {}, False, params(patch_groups=["web", "new"]), check_mode=False)

        assert changed is True and final["PatchGroups"] == ["new", "web"]

    def test_a_group_of_another_baseline_is_refused_before_any_change(self, ssm):
        group_owners(ssm, {"db": OTHER_ID})

        with pytest.raises(pb.PatchBaselineValidationError) as raised:
            module.ensure_present(ssm.client, baseline(), {}, False, params(
                description="changed too", patch_groups=["db"]), check_mode=False)

        assert f"'db' (registered to {OTHER_ID})" in str(raised.value)
        assert "force_patch_groups: true" in str(raised.value)
        assert ssm.operations == ["DescribePatchGroups"]

    def test_force_moves_the_group(self, ssm):
        group_owners(ssm, {"db": OTHER_ID})
        ssm.add("deregister_patch_baseline_for_patch_group", {}, {"BaselineId": OTHER_ID, "PatchGroup": "db"})
        ssm.add("register_patch_baseline_for_patch_group", {}, {"BaselineId": BASELINE_ID, "PatchGroup": "db"})
        read_by_id(ssm, baseline(PatchGroups=["db"]))

        changed, final, _tags, _default = module.ensure_present(
            ssm.client, baseline(), {}, False, params(patch_groups=["db"], force_patch_groups=True), check_mode=False)

        assert changed is True and final["PatchGroups"] == ["db"]

    def test_force_in_check_mode_only_reads(self, ssm):
        group_owners(ssm, {"db": OTHER_ID})

        changed, final, _tags, _default = module.ensure_present(
            ssm.client, baseline(), {}, False, params(patch_groups=["db"], force_patch_groups=True), check_mode=True)

        assert changed is True and final["PatchGroups"] == ["db"] and ssm.operations == ["DescribePatchGroups"]

    def test_remove_every_group(self, ssm):
        ssm.add("deregister_patch_baseline_for_patch_group", {}, {"BaselineId": BASELINE_ID, "PatchGroup": "web"})
        read_by_id(ssm, baseline())

        changed, final, _tags, _default = module.ensure_present(
            ssm.client, baseline(PatchGroups=["web"]), {}, False, params(patch_groups=[]), check_mode=False)

        assert changed is True and final["PatchGroups"] == []


class TestDefault:
    def test_make_default(self, ssm):
        ssm.add("register_default_patch_baseline", {"BaselineId": BASELINE_ID}, {"BaselineId": BASELINE_ID})
        read_by_id(ssm, baseline(), default_id=BASELINE_ID)

        changed, _final, _tags, default = module.ensure_present(
            ssm.client, baseline(), {}, False, params(default=True), check_mode=False)

        assert changed is True and default is True

    def test_not_default_hands_back_to_aws(self, ssm):
        aws_defaults(ssm)
        ssm.add("register_default_patch_baseline", {"BaselineId": AWS_UBUNTU}, {"BaselineId": AWS_UBUNTU})
        read_by_id(ssm, baseline())

        changed, _final, _tags, default = module.ensure_present(
            ssm.client, baseline(), {}, True, params(default=False), check_mode=False)

        assert changed is True and default is False

    def test_not_default_in_check_mode(self, ssm):
        aws_defaults(ssm)

        changed, _final, _tags, default = module.ensure_present(
            ssm.client, baseline(), {}, True, params(default=False), check_mode=True)

        assert changed is True and default is False and ssm.operations == ["DescribePatchBaselines"]

    def test_aws_default_cannot_be_undone(self, ssm):
        current = baseline(AWS_UBUNTU, Name="AWS-UbuntuDefaultPatchBaseline")
        with pytest.raises(pb.PatchBaselineValidationError, match="make another baseline the default instead"):
            module.ensure_present(ssm.client, current, {}, True, params(
                name=None, baseline_id=AWS_UBUNTU, default=False), check_mode=False)

    def test_unchanged(self, ssm):
        for current_default, wanted in ((True, True), (False, False), (True, None)):
            changed, _f, _t, default = module.ensure_present(
                ssm.client, baseline(), {}, current_default, params(default=wanted), check_mode=False)
            assert changed is False and default is current_default
        assert ssm.calls == []


class TestAbsent:
    def test_missing(self, ssm):
        assert module.ensure_absent(ssm.client, None, None, check_mode=False) is False

    def test_deregisters_groups_then_deletes(self, ssm):
        ssm.add("deregister_patch_baseline_for_patch_group", {}, {"BaselineId": BASELINE_ID, "PatchGroup": "db"})
        ssm.add("deregister_patch_baseline_for_patch_group", {}, {"BaselineId": BASELINE_ID, "PatchGroup": "web"})
        ssm.add("delete_patch_baseline", {"BaselineId": BASELINE_ID}, {"BaselineId": BASELINE_ID})

        assert module.ensure_absent(ssm.client, baseline(PatchGroups=["db", "web"]), False, check_mode=False) is True

    def test_check_mode(self, ssm):
        assert module.ensure_absent(ssm.client, baseline(PatchGroups=["web"]), False, check_mode=True) is True
        assert ssm.calls == []

    def test_a_default_baseline_is_refused(self, ssm):
        with pytest.raises(pb.PatchBaselineValidationError) as raised:
            module.ensure_absent(ssm.client, baseline(), True, check_mode=True)
        assert "is the default baseline for UBUNTU" in str(raised.value) and "default: false" in str(raised.value)
        assert ssm.calls == []

    def test_aws_baselines_are_refused(self, ssm):
        with pytest.raises(pb.PatchBaselineValidationError, match="cannot be deleted"):
            module.ensure_absent(ssm.client, baseline(AWS_UBUNTU, Name="AWS-UbuntuDefaultPatchBaseline"), False,
                                 check_mode=False)


class TestMain:
    ARGS = dict(name="web", operating_system="UBUNTU", approval_rules=[
        {"patch_filters": [{"key": "PRIORITY", "values": ["Required"]}], "approve_after_days": 0}])

    @pytest.mark.parametrize("args,fragment", [
        (dict(ARGS, approval_rules=[{"approve_after_days": 1, "approve_until_date": "2030-01-01"}]),
         "set either approve_after_days or approve_until_date, not both"),
        (dict(ARGS, approval_rules=[{"patch_filters": [{"key": "CLASSIFICATION", "values": ["Security"]}],
                                     "approve_after_days": 1}]),
         "the patch filter key CLASSIFICATION is not valid for UBUNTU"),
        (dict(ARGS, operating_system="BEOS"), "value of operating_system must be one of"),
        (dict(ARGS, patch_groups=["bad\ngroup"]), "is not a valid patch group"),
        (dict(ARGS, approval_rules=[{"approve_until_date": "tomorrow"}]), "not a date in the form YYYY-MM-DD"),
    ])
    def test_bad_input_fails_before_any_call(self, run_module, ssm, args, fragment):
        run = run_module(module.main, args, ssm.client)

        assert run.rc == 1 and fragment in run.result["msg"]
        assert ssm.calls == []

    def test_result_and_diff(self, run_module, ssm):
        find_by_name(ssm, [identity()])
        read_by_id(ssm, baseline(Description="old"))
        ssm.add("update_patch_baseline", updated())
        read_by_id(ssm, baseline(Description="new"))

        run = run_module(module.main, dict(self.ARGS, description="new", _ansible_diff=True), ssm.client)

        assert run.rc == 0 and run.result["changed"] is True
        assert run.result["patch_baseline"]["description"] == "new"
        assert run.result["patch_baseline"]["default"] is False and run.result["patch_baseline"]["tags"] == {}
        assert run.result["diff"]["before"]["description"] == "old"
        assert run.result["diff"]["after"]["description"] == "new"

    def test_throttled_create_is_retried(self, run_module, ssm, monkeypatch):
        sleeps = []
        monkeypatch.setattr(cloud.time, "sleep", sleeps.append)
        find_by_name(ssm, [])
        ssm.add_error("create_patch_baseline", "ThrottlingException", "Rate exceeded")
        ssm.add("create_patch_baseline", {"BaselineId": BASELINE_ID})
        read_by_id(ssm, baseline())

        run = run_module(module.main, self.ARGS, ssm.client)

        assert run.rc == 0 and run.result["patch_baseline"]["baseline_id"] == BASELINE_ID
        tokens = [call["ClientToken"] for call in ssm.params("CreatePatchBaseline")]
        assert len(tokens) == 2 and tokens[0] == tokens[1], "a retried create reuses its client token"
        assert len(sleeps) == 1

    def test_absent_of_a_default_fails(self, run_module, ssm):
        find_by_name(ssm, [identity()])
        read_by_id(ssm, baseline(), default_id=BASELINE_ID)

        run = run_module(module.main, dict(name="web", state="absent"), ssm.client)

        assert run.rc == 1 and "is the default baseline for UBUNTU" in run.result["msg"]
        assert "DeletePatchBaseline" not in ssm.operations

    def test_name_or_id_is_required(self, run_module, ssm):
        run = run_module(module.main, dict(operating_system="UBUNTU"), ssm.client)
        assert run.rc == 1 and "one of the following is required: name, baseline_id" in run.result["msg"]
