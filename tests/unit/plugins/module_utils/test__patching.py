# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime
from unittest.mock import MagicMock

import pytest

from ansible_collections.amazon.aws.plugins.module_utils import cloud

from ansible_collections.fleetops.ssm.plugins.module_utils import _tags
from ansible_collections.fleetops.ssm.plugins.module_utils import _patching as pb
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import WHEN
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import client_error

BASELINE_ID = "pb-0123456789abcdef0"
OTHER_ID = "pb-0fedcba9876543210"
AWS_UBUNTU = "arn:aws:ssm:us-east-1:075727635805:patchbaseline/pb-0c7e89f711c3095f4"
NODE = "i-0123456789abcdef0"


def options(**overrides):
    """patch_baseline's module.params: every option, defaults filled in."""
    result = dict(
        name="web", baseline_id=None, operating_system=None, description=None, approval_rules=None,
        global_filters=None, approved_patches=None, approved_patches_compliance_level=None,
        approved_patches_enable_non_security=None, rejected_patches=None, rejected_patches_action=None,
        sources=None, available_security_updates_compliance_status=None, patch_groups=None,
        force_patch_groups=False, default=None, tags=None, purge_tags=True, state="present",
    )
    result.update(overrides)
    return result


def rule(filters=None, days=None, until=None, level=None, non_security=None):
    return dict(patch_filters=filters or [], approve_after_days=days, approve_until_date=until,
                compliance_level=level, enable_non_security=non_security)


def api_baseline(os_name="UBUNTU", **fields):
    """A baseline as GetPatchBaseline returns it, with AWS's defaults."""
    result = {
        "BaselineId": BASELINE_ID, "Name": "web", "OperatingSystem": os_name,
        "GlobalFilters": {"PatchFilters": []},
        "ApprovalRules": {"PatchRules": [{
            "PatchFilterGroup": {"PatchFilters": [{"Key": "PRIORITY", "Values": ["Required", "Important"]}]},
            "ComplianceLevel": "UNSPECIFIED", "ApproveAfterDays": 0, "EnableNonSecurity": False,
        }]},
        "ApprovedPatches": [], "ApprovedPatchesComplianceLevel": "UNSPECIFIED", "ApprovedPatchesEnableNonSecurity": False,
        "RejectedPatches": [], "RejectedPatchesAction": "ALLOW_AS_DEPENDENCY", "PatchGroups": [], "Sources": [],
        "CreatedDate": WHEN, "ModifiedDate": WHEN,
    }
    result.update(fields)
    return result


def identity(baseline_id=BASELINE_ID, name="web", os_name="UBUNTU", default=False):
    return {"BaselineId": baseline_id, "BaselineName": name, "OperatingSystem": os_name, "DefaultBaseline": default}


# ---------------------------------------------------------------------------------------------
# API calls
# ---------------------------------------------------------------------------------------------


class TestApiCalls:
    def test_describe_patch_baselines_pages(self, ssm):
        filters = [{"Key": "OWNER", "Values": ["Self"]}]
        ssm.add("describe_patch_baselines", {"BaselineIdentities": [identity()], "NextToken": "t"},
                {"Filters": filters, "MaxResults": 100})
        ssm.add("describe_patch_baselines", {"BaselineIdentities": [identity(OTHER_ID, "dbs")]},
                {"Filters": filters, "MaxResults": 100, "NextToken": "t"})

        found = pb.describe_patch_baselines(ssm.client, filters)

        assert [item["BaselineName"] for item in found] == ["web", "dbs"]

    def test_get_missing_baseline_is_none(self, ssm):
        ssm.add_error("get_patch_baseline", "DoesNotExistException", expected={"BaselineId": BASELINE_ID})

        assert pb.get_patch_baseline(ssm.client, BASELINE_ID) is None

    def test_get_drops_the_response_metadata(self, ssm):
        ssm.add("get_patch_baseline", api_baseline(), {"BaselineId": BASELINE_ID})

        found = pb.get_patch_baseline(ssm.client, BASELINE_ID)

        assert found["Name"] == "web" and "ResponseMetadata" not in found

    def test_create_returns_the_id(self, ssm):
        request = {"Name": "web", "OperatingSystem": "UBUNTU", "ApprovedPatches": ["bash"], "ClientToken": "tok"}
        ssm.add("create_patch_baseline", {"BaselineId": BASELINE_ID}, request)

        assert pb.create_patch_baseline(ssm.client, request) == BASELINE_ID

    def test_deregister_a_missing_group_is_not_an_error(self, ssm):
        ssm.add_error("deregister_patch_baseline_for_patch_group", "InvalidResourceId",
                      expected={"BaselineId": BASELINE_ID, "PatchGroup": "web"})

        assert pb.deregister_patch_group(ssm.client, BASELINE_ID, "web") is False

    def test_delete_refused_raises_with_the_code(self, ssm):
        ssm.add_error("delete_patch_baseline", "ResourceInUseException", "default", expected={"BaselineId": BASELINE_ID})

        with pytest.raises(AnsibleSSMError) as raised:
            pb.delete_patch_baseline(ssm.client, BASELINE_ID)

        assert raised.value.error_code == "ResourceInUseException"
        assert raised.value.iam_action == "ssm:DeletePatchBaseline"

    def test_instance_patch_states_in_batches_of_50(self, ssm):
        nodes = [f"i-{index:017x}" for index in range(120)]
        for start in (0, 50, 100):
            batch = nodes[start:start + 50]
            ssm.add("describe_instance_patch_states", {"InstancePatchStates": [patch_state(batch[0])]},
                    {"InstanceIds": batch, "MaxResults": 100})

        states = pb.describe_instance_patch_states(ssm.client, nodes + nodes[:3])

        assert [state["InstanceId"] for state in states] == [nodes[0], nodes[50], nodes[100]]

    def test_patch_group_states_and_patches(self, ssm):
        filters = [{"Key": "MissingCount", "Values": ["0"], "Type": "GreaterThan"}]
        ssm.add("describe_instance_patch_states_for_patch_group", {"InstancePatchStates": [patch_state(NODE)]},
                {"PatchGroup": "web", "Filters": filters, "MaxResults": 100})
        ssm.add("describe_instance_patches", {"Patches": [patch("openssl", "MISSING")]},
                {"InstanceId": NODE, "Filters": [{"Key": "State", "Values": ["Missing"]}], "MaxResults": 100})

        assert pb.describe_instance_patch_states_for_patch_group(ssm.client, "web", filters)[0]["InstanceId"] == NODE
        assert pb.describe_instance_patches(ssm.client, NODE, [{"Key": "State", "Values": ["Missing"]}])[0]["State"] == "MISSING"

    def test_tags(self, ssm):
        ssm.add("list_tags_for_resource", {"TagList": [{"Key": "team", "Value": "ops"}]},
                {"ResourceType": "PatchBaseline", "ResourceId": BASELINE_ID})
        ssm.add("add_tags_to_resource", {}, {"ResourceType": "PatchBaseline", "ResourceId": BASELINE_ID,
                                             "Tags": [{"Key": "env", "Value": "prod"}]})
        ssm.add("remove_tags_from_resource", {}, {"ResourceType": "PatchBaseline", "ResourceId": BASELINE_ID,
                                                  "TagKeys": ["team"]})

        assert _tags.list_tags(ssm.client, pb.RESOURCE_TYPE, BASELINE_ID) == {"team": "ops"}
        _tags.add_tags(ssm.client, pb.RESOURCE_TYPE, BASELINE_ID, {"env": "prod"})
        _tags.remove_tags(ssm.client, pb.RESOURCE_TYPE, BASELINE_ID, ["team"])

    def test_throttled_writes_are_retried(self, monkeypatch):
        sleeps = []
        monkeypatch.setattr(cloud.time, "sleep", sleeps.append)
        client = MagicMock()
        client.register_patch_baseline_for_patch_group.side_effect = [
            client_error("ThrottlingException", "RegisterPatchBaselineForPatchGroup"), {}]

        pb.register_patch_group(client, BASELINE_ID, "web")

        assert client.register_patch_baseline_for_patch_group.call_count == 2 and len(sleeps) == 1

    def test_access_denied_names_the_action(self):
        client = MagicMock()
        client.register_default_patch_baseline.side_effect = client_error(
            "AccessDeniedException", "RegisterDefaultPatchBaseline", "no")

        with pytest.raises(AnsibleSSMError) as raised:
            pb.register_default_patch_baseline(client, BASELINE_ID)

        assert "ssm:RegisterDefaultPatchBaseline" in str(raised.value)


def patch_state(instance_id, **counts):
    state = {"InstanceId": instance_id, "PatchGroup": "web", "BaselineId": BASELINE_ID,
             "OperationStartTime": WHEN, "OperationEndTime": WHEN, "Operation": "Scan"}
    state.update(counts)
    return state


def patch(title, state, **extra):
    item = {"Title": title, "KBId": title, "Classification": "Security", "Severity": "Critical", "State": state,
            "InstalledTime": WHEN}
    item.update(extra)
    return item


# ---------------------------------------------------------------------------------------------
# Finding baselines
# ---------------------------------------------------------------------------------------------


class TestFindBaseline:
    FILTERS = [{"Key": "NAME_PREFIX", "Values": ["web"]}, {"Key": "OWNER", "Values": ["Self"]}]

    def test_by_name_exact_match_only(self, ssm):
        ssm.add("describe_patch_baselines", {"BaselineIdentities": [identity(OTHER_ID, "web-old"), identity()]},
                {"Filters": self.FILTERS, "MaxResults": 100})
        ssm.add("get_patch_baseline", api_baseline(), {"BaselineId": BASELINE_ID})

        assert pb.find_baseline(ssm.client, "web")["BaselineId"] == BASELINE_ID

    def test_by_name_none(self, ssm):
        ssm.add("describe_patch_baselines", {"BaselineIdentities": [identity(OTHER_ID, "web-old")]},
                {"Filters": self.FILTERS, "MaxResults": 100})

        assert pb.find_baseline(ssm.client, "web") is None

    def test_ambiguous_name_fails_and_lists_the_baselines(self, ssm):
        ssm.add("describe_patch_baselines", {"BaselineIdentities": [identity(), identity(OTHER_ID, os_name="WINDOWS")]},
                {"Filters": self.FILTERS, "MaxResults": 100})

        with pytest.raises(pb.PatchBaselineValidationError) as raised:
            pb.find_baseline(ssm.client, "web")

        message = str(raised.value)
        assert "2 patch baselines of this account are named 'web'" in message
        assert f"{BASELINE_ID} (UBUNTU)" in message and f"{OTHER_ID} (WINDOWS)" in message
        assert "baseline_id" in message

    def test_by_id(self, ssm):
        ssm.add("get_patch_baseline", api_baseline(), {"BaselineId": BASELINE_ID})

        assert pb.find_baseline(ssm.client, "ignored", BASELINE_ID)["Name"] == "web"
        assert ssm.operations == ["GetPatchBaseline"]

    def test_aws_default_baseline(self, ssm):
        ssm.add("describe_patch_baselines", {"BaselineIdentities": [
            identity("arn:aws:ssm:us-east-1:075727635805:patchbaseline/pb-0000000000000000a",
                     "AWS-WindowsPredefinedPatchBaseline-OS", "WINDOWS"),
            identity("arn:aws:ssm:us-east-1:075727635805:patchbaseline/pb-0000000000000000b",
                     "AWS-DefaultPatchBaseline", "WINDOWS"),
        ]}, {"Filters": [{"Key": "OWNER", "Values": ["AWS"]}, {"Key": "OPERATING_SYSTEM", "Values": ["WINDOWS"]}],
             "MaxResults": 100})

        assert pb.aws_default_baseline_id(ssm.client, "WINDOWS").endswith("pb-0000000000000000b")

    def test_patch_group_owners(self, ssm):
        ssm.add("describe_patch_groups", {"Mappings": [
            {"PatchGroup": "web", "BaselineIdentity": identity()},
            {"PatchGroup": "db", "BaselineIdentity": identity(OTHER_ID)},
        ]}, {"Filters": [{"Key": "OPERATING_SYSTEM", "Values": ["UBUNTU"]}], "MaxResults": 100})

        assert pb.patch_group_owners(ssm.client, "UBUNTU") == {"web": BASELINE_ID, "db": OTHER_ID}

    @pytest.mark.parametrize("first,second,same", [
        (BASELINE_ID, f"arn:aws:ssm:us-east-1:123456789012:patchbaseline/{BASELINE_ID}", True),
        (BASELINE_ID, OTHER_ID, False),
        (None, BASELINE_ID, False),
    ])
    def test_same_baseline(self, first, second, same):
        assert pb.same_baseline(first, second) is same

    def test_is_aws_owned(self):
        assert pb.is_aws_owned(AWS_UBUNTU) and not pb.is_aws_owned(BASELINE_ID)


# ---------------------------------------------------------------------------------------------
# Validation: every rule breaks before any call
# ---------------------------------------------------------------------------------------------


class TestValidation:
    @pytest.mark.parametrize("params,fragment", [
        (options(approval_rules=[rule(days=1, until="2030-01-01")]),
         "approval_rules[0]: set either approve_after_days or approve_until_date, not both"),
        (options(approval_rules=[rule()]), "approval_rules[0]: set approve_after_days or approve_until_date"),
        (options(approval_rules=[rule(until="31/12/2030")]), "is not a date in the form YYYY-MM-DD"),
        (options(approval_rules=[rule(until="2030-02-30")]), "is not a date in the form YYYY-MM-DD"),
        (options(approval_rules=[rule(days=361)]), "AWS allows 0 to 360"),
        (options(operating_system="UBUNTU", approval_rules=[rule([{"key": "SEVERITY", "values": ["High"]}], days=0)]),
         "the patch filter key SEVERITY is not valid for UBUNTU; UBUNTU baselines take PRODUCT, PRIORITY, SECTION"),
        (options(operating_system="DEBIAN", global_filters=[{"key": "MSRC_SEVERITY", "values": ["Critical"]}]),
         "global_filters: the patch filter key MSRC_SEVERITY is not valid for DEBIAN"),
        (options(operating_system="AMAZON_LINUX_2023", global_filters=[{"key": "PRIORITY", "values": ["x"]}]),
         "PRIORITY is not valid for AMAZON_LINUX_2023"),
        (options(operating_system="MACOS", global_filters=[{"key": "SEVERITY", "values": ["x"]}]),
         "SEVERITY is not valid for MACOS"),
        (options(global_filters=[{"key": "NAME", "values": ["x"]}]), "unknown patch filter key 'NAME'"),
        (options(global_filters=[{"key": "PRODUCT", "values": ["a"]}, {"key": "PRODUCT", "values": ["b"]}]),
         "appears more than once"),
        (options(global_filters=[{"key": "PRODUCT", "values": []}]), "needs 1 to 20 values"),
        (options(global_filters=[{"key": "PRODUCT", "values": [str(i) for i in range(21)]}]), "needs 1 to 20 values"),
        (options(global_filters=[{"key": k, "values": ["x"]} for k in ("PRODUCT", "CLASSIFICATION", "SEVERITY", "PRIORITY", "SECTION")]),
         "5 patch filters, AWS allows 4"),
        (options(operating_system="WINDOWS", global_filters=[{"key": "PATCH_SET", "values": ["EVERYTHING"]}]),
         "PATCH_SET takes the values OS and APPLICATION"),
        (options(approval_rules=[rule(days=1)] * 11), "11 rules, AWS allows 10"),
        (options(approved_patches=[f"p{i}" for i in range(51)]), "approved_patches: 51 patches, AWS allows 50"),
        (options(rejected_patches=[""]), "rejected_patches: patch names are 1 to 100 characters"),
        (options(operating_system="WINDOWS", sources=[{"name": "repo", "products": ["x"], "configuration": "y"}]),
         "alternative patch repositories are for Linux baselines, not WINDOWS"),
        (options(sources=[{"name": "r", "products": ["x"], "configuration": "y"}]), "must be 3 to 50 letters"),
        (options(sources=[{"name": "repo", "products": [], "configuration": "y"}]), "needs 1 to 20 products"),
        (options(sources=[{"name": "repo", "products": ["x"], "configuration": "y" * 1025}]), "1 to 1024 characters"),
        (options(sources=[{"name": "repo", "products": ["x"], "configuration": "y"}] * 2), "is used twice"),
        (options(operating_system="UBUNTU", available_security_updates_compliance_status="COMPLIANT"),
         "applies to WINDOWS baselines only"),
        (options(name="ab"), "Invalid patch baseline name 'ab'"),
        (options(name="has space"), "Invalid patch baseline name"),
        (options(description="d" * 1025), "description: 1025 characters"),
        (options(patch_groups=["bad\ngroup"]), "is not a valid patch group"),
        (options(patch_groups=[f"g{i}" for i in range(26)]), "26 patch groups, AWS allows 25"),
    ])
    def test_refused(self, params, fragment):
        with pytest.raises(pb.PatchBaselineValidationError) as raised:
            pb.validate_options(params)
        assert fragment in str(raised.value)

    def test_os_specific_checks_wait_for_the_os(self):
        params = options(global_filters=[{"key": "MSRC_SEVERITY", "values": ["Critical"]}],
                         available_security_updates_compliance_status="COMPLIANT")
        assert pb.validate_options(params)["GlobalFilters"] == {
            "PatchFilters": [{"Key": "MSRC_SEVERITY", "Values": ["Critical"]}]}
        with pytest.raises(pb.PatchBaselineValidationError):
            pb.desired_baseline(params, "UBUNTU")

    def test_absent_checks_only_patch_groups(self):
        assert pb.validate_options(options(state="absent", approval_rules=[rule()])) is None

    def test_desired_baseline_translates_every_option(self):
        params = options(
            operating_system="AMAZON_LINUX_2023", description="d",
            approval_rules=[rule([{"key": "classification", "values": ["Security"]}], days=7, level="HIGH", non_security=True),
                            rule(until=datetime.date(2030, 1, 31))],
            global_filters=[{"key": "PRODUCT", "values": ["AmazonLinux2023"]}],
            approved_patches=["kernel"], approved_patches_compliance_level="LOW", approved_patches_enable_non_security=True,
            rejected_patches=["telnet"], rejected_patches_action="BLOCK",
            sources=[{"name": "repo", "products": ["AmazonLinux2023"], "configuration": "[main]"}],
        )

        desired = pb.desired_baseline(params, "AMAZON_LINUX_2023")

        assert desired["ApprovalRules"] == {"PatchRules": [
            {"PatchFilterGroup": {"PatchFilters": [{"Key": "CLASSIFICATION", "Values": ["Security"]}]},
             "ApproveAfterDays": 7, "ComplianceLevel": "HIGH", "EnableNonSecurity": True},
            {"PatchFilterGroup": {"PatchFilters": []}, "ApproveUntilDate": "2030-01-31"},
        ]}
        assert desired["GlobalFilters"] == {"PatchFilters": [{"Key": "PRODUCT", "Values": ["AmazonLinux2023"]}]}
        assert desired["Sources"] == [{"Name": "repo", "Products": ["AmazonLinux2023"], "Configuration": "[main]"}]
        assert desired["RejectedPatchesAction"] == "BLOCK" and desired["ApprovedPatchesEnableNonSecurity"] is True

    def test_every_os_of_the_model_has_filter_keys(self):
        import botocore.session

        model = botocore.session.get_session().get_service_model("ssm")
        assert set(model.shape_for("OperatingSystem").enum) == set(pb.OPERATING_SYSTEMS) == set(pb.FILTER_KEYS)
        assert set(pb.ALL_FILTER_KEYS) <= set(model.shape_for("PatchFilterKey").enum)


# ---------------------------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------------------------


class TestCompare:
    def desired(self, **overrides):
        return pb.desired_baseline(options(**overrides), "UBUNTU")

    def test_new_baseline_differs_everywhere(self):
        assert pb.compare_baseline(self.desired(), None) == list(pb.ATTRIBUTES)

    def test_order_of_values_filters_rules_and_patches_does_not_count(self):
        current = api_baseline(
            ApprovalRules={"PatchRules": [
                {"PatchFilterGroup": {"PatchFilters": [{"Key": "PRIORITY", "Values": ["Required", "Important"]},
                                                       {"Key": "SECTION", "Values": ["net", "admin"]}]},
                 "ComplianceLevel": "UNSPECIFIED", "ApproveAfterDays": 0, "EnableNonSecurity": False},
                {"PatchFilterGroup": {"PatchFilters": [{"Key": "PRODUCT", "Values": ["*"]}]},
                 "ComplianceLevel": "HIGH", "ApproveAfterDays": 3, "EnableNonSecurity": False},
            ]},
            RejectedPatches=["b", "a"],
            Sources=[{"Name": "repo1", "Products": ["Ubuntu22.04", "Ubuntu20.04"], "Configuration": "deb x\n"},
                     {"Name": "repo2", "Products": ["Ubuntu22.04"], "Configuration": "deb y"}],
        )
        desired = self.desired(
            approval_rules=[
                rule([{"key": "PRODUCT", "values": ["*"]}], days=3, level="HIGH"),
                rule([{"key": "SECTION", "values": ["admin", "net"]}, {"key": "PRIORITY", "values": ["Important", "Required"]}],
                     days=0),
            ],
            rejected_patches=["a", "b", "a"],
            sources=[{"name": "repo2", "products": ["Ubuntu22.04"], "configuration": "deb y"},
                     {"name": "repo1", "products": ["Ubuntu20.04", "Ubuntu22.04"], "configuration": "deb x"}],
        )

        assert pb.compare_baseline(desired, current) == []

    def test_unset_rule_settings_count_as_aws_defaults(self):
        desired = self.desired(approval_rules=[rule([{"key": "PRIORITY", "values": ["Required", "Important"]}], days=0)])
        assert pb.compare_baseline(desired, api_baseline()) == []
        desired = self.desired(approval_rules=[rule([{"key": "PRIORITY", "values": ["Required", "Important"]}], days=0,
                                                    level="UNSPECIFIED", non_security=False)])
        assert pb.compare_baseline(desired, api_baseline()) == []

    def test_unset_options_are_left_alone(self):
        current = api_baseline(Description="keep", RejectedPatches=["telnet"], RejectedPatchesAction="BLOCK")
        assert pb.compare_baseline(self.desired(), current) == []

    @pytest.mark.parametrize("overrides,changed", [
        (dict(description="new"), ["Description"]),
        (dict(approval_rules=[rule([{"key": "PRIORITY", "values": ["Required"]}], days=0)]), ["ApprovalRules"]),
        (dict(approval_rules=[rule([{"key": "PRIORITY", "values": ["Required", "Important"]}], days=2)]), ["ApprovalRules"]),
        (dict(approval_rules=[rule([{"key": "PRIORITY", "values": ["Required", "Important"]}], days=0, level="LOW")]),
         ["ApprovalRules"]),
        (dict(approval_rules=[]), ["ApprovalRules"]),
        (dict(global_filters=[{"key": "PRODUCT", "values": ["Ubuntu22.04"]}]), ["GlobalFilters"]),
        (dict(rejected_patches_action="BLOCK"), ["RejectedPatchesAction"]),
        (dict(approved_patches_compliance_level="HIGH"), ["ApprovedPatchesComplianceLevel"]),
        (dict(approved_patches_enable_non_security=True), ["ApprovedPatchesEnableNonSecurity"]),
        (dict(name="renamed"), ["Name"]),
    ])
    def test_differences(self, overrides, changed):
        assert pb.compare_baseline(self.desired(**overrides), api_baseline()) == changed

    def test_empty_description_removes_it(self):
        assert pb.compare_baseline(self.desired(description=""), api_baseline(Description="old")) == ["Description"]
        assert pb.compare_baseline(self.desired(description=""), api_baseline()) == []
        merged = pb.merged_baseline(self.desired(description=""), api_baseline(Description="old"))
        assert merged["Description"] is None

    def test_windows_status(self):
        desired = pb.desired_baseline(options(available_security_updates_compliance_status="NON_COMPLIANT"), "WINDOWS")
        assert pb.compare_baseline(desired, api_baseline("WINDOWS")) == ["AvailableSecurityUpdatesComplianceStatus"]


class TestRequests:
    def test_merged_keeps_what_the_task_leaves_alone(self):
        current = api_baseline(Description="keep", RejectedPatches=["telnet"])
        desired = pb.desired_baseline(options(approved_patches=["bash"]), "UBUNTU")

        merged = pb.merged_baseline(desired, current)

        assert merged["Description"] == "keep" and merged["RejectedPatches"] == ["telnet"]
        assert merged["ApprovedPatches"] == ["bash"] and merged["ApprovalRules"] == current["ApprovalRules"]

    def test_update_request_replaces_the_whole_baseline(self):
        merged = pb.merged_baseline(pb.desired_baseline(options(description=""), "UBUNTU"), api_baseline(Description="x"))

        request = pb.update_request(BASELINE_ID, merged)

        assert request["Replace"] is True and request["BaselineId"] == BASELINE_ID
        assert "Description" not in request and request["Name"] == "web"
        assert "AvailableSecurityUpdatesComplianceStatus" not in request

    def test_create_request(self):
        merged = pb.merged_baseline(pb.desired_baseline(options(approved_patches=["KB1"]), "WINDOWS"), None)

        request = pb.create_request(merged, "WINDOWS", {"team": "ops"}, "token")

        assert request == {"Name": "web", "ApprovedPatches": ["KB1"], "OperatingSystem": "WINDOWS", "ClientToken": "token",
                           "Tags": [{"Key": "team", "Value": "ops"}]}
        assert len(pb.create_request(merged, "WINDOWS")["ClientToken"]) == 36

    def test_a_baseline_needs_a_rule_or_an_approved_patch(self):
        merged = pb.merged_baseline(pb.desired_baseline(options(approval_rules=[]), "UBUNTU"), None)
        with pytest.raises(pb.PatchBaselineValidationError, match="at least one approval rule or one approved patch"):
            pb.check_complete(merged, "web")

    def test_prediction_fills_in_aws_defaults(self):
        merged = pb.merged_baseline(pb.desired_baseline(
            options(approval_rules=[rule([{"key": "PRIORITY", "values": ["Required"]}], days=0)]), "UBUNTU"), None)

        predicted = pb.predict_baseline(merged, None, "UBUNTU")

        assert predicted["RejectedPatchesAction"] == "ALLOW_AS_DEPENDENCY"
        assert predicted["ApprovalRules"]["PatchRules"][0]["ComplianceLevel"] == "UNSPECIFIED"
        assert predicted["PatchGroups"] == [] and predicted["BaselineId"] is None
        assert pb.compare_baseline(pb.desired_baseline(options(), "UBUNTU"), predicted) == []


class TestPatchGroups:
    def test_changes(self):
        assert pb.patch_group_changes(["web", "db"], None) == ([], [])
        assert pb.patch_group_changes(["web", "db"], ["web", "cache"]) == (["cache"], ["db"])
        assert pb.patch_group_changes([], []) == ([], [])

    def test_moving_needs_force(self):
        owners = {"cache": OTHER_ID, "web": BASELINE_ID}
        with pytest.raises(pb.PatchBaselineValidationError) as raised:
            pb.patch_group_moves(["cache", "new"], owners, BASELINE_ID, False, "UBUNTU")
        message = str(raised.value)
        assert f"'cache' (registered to {OTHER_ID})" in message and "force_patch_groups: true" in message
        assert "UBUNTU" in message

    def test_forced_moves(self):
        owners = {"cache": OTHER_ID}
        assert pb.patch_group_moves(["cache", "new"], owners, BASELINE_ID, True, "UBUNTU") == {"cache": OTHER_ID}
        assert pb.patch_group_moves(["new"], owners, None, False, "UBUNTU") == {}


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------


class TestOutput:
    def test_baseline_to_ansible(self):
        current = api_baseline(Description="d", PatchGroups=["web", "db"],
                               Sources=[{"Name": "r", "Products": ["Ubuntu22.04"], "Configuration": "deb x"}])

        result = pb.baseline_to_ansible(current, {"team": "ops"}, True)

        assert result["baseline_id"] == BASELINE_ID and result["owner"] == "Self" and result["default"] is True
        assert result["approval_rules"] == [{"patch_filters": [{"key": "PRIORITY", "values": ["Required", "Important"]}],
                                             "approve_after_days": 0, "approve_until_date": None,
                                             "compliance_level": "UNSPECIFIED", "enable_non_security": False}]
        assert result["patch_groups"] == ["db", "web"] and result["tags"] == {"team": "ops"}
        assert result["sources"] == [{"name": "r", "products": ["Ubuntu22.04"], "configuration": "deb x"}]
        assert result["created_date"] == WHEN.isoformat()
        assert pb.baseline_to_ansible(None) == {}

    def test_diff_leaves_out_dates_and_unset_values(self):
        result = pb.baseline_for_diff(api_baseline(), {}, False)
        assert "created_date" not in result and "description" not in result and result["default"] is False

    def test_identity(self):
        assert pb.identity_to_ansible(identity(AWS_UBUNTU, "AWS-UbuntuDefaultPatchBaseline", default=True)) == {
            "baseline_id": AWS_UBUNTU, "name": "AWS-UbuntuDefaultPatchBaseline", "operating_system": "UBUNTU",
            "description": None, "default": True, "owner": "AWS"}

    def test_patch_and_state(self):
        state = pb.patch_state_to_ansible(patch_state(NODE, MissingCount=2, InstalledPendingRebootCount=1))
        assert state["instance_id"] == NODE and state["missing_count"] == 2
        assert state["installed_pending_reboot_count"] == 1 and state["operation_end_time"] == WHEN.isoformat()
        item = pb.patch_to_ansible(patch("openssl", "INSTALLED_PENDING_REBOOT", CVEIds="CVE-1"))
        assert item["kb_id"] == "openssl" and item["state_name"] == "InstalledPendingReboot" and item["cve_ids"] == "CVE-1"

    def test_effective_patch(self):
        item = pb.effective_patch_to_ansible({"Patch": {"Id": "KB1", "KbNumber": "KB1", "MsrcSeverity": "Critical"},
                                              "PatchStatus": {"DeploymentStatus": "APPROVED", "ApprovalDate": WHEN}})
        assert item == {"patch": {"id": "KB1", "kb_number": "KB1", "msrc_severity": "Critical"},
                        "status": {"deployment_status": "APPROVED", "approval_date": WHEN.isoformat()}}

    def test_fleet_summary(self):
        states = [
            patch_state("i-00000000000000001", InstalledCount=10, MissingCount=2, CriticalNonCompliantCount=1),
            patch_state("i-00000000000000002", InstalledCount=5, InstalledPendingRebootCount=1, Operation="Install"),
            patch_state("i-00000000000000003", InstalledCount=7, PatchGroup="db"),
        ]

        summary = pb.fleet_summary(states)

        assert summary["nodes"] == 3 and summary["compliant_nodes"] == 1 and summary["non_compliant_nodes"] == 2
        assert summary["patches"]["installed"] == 22 and summary["patches"]["missing"] == 2
        assert summary["nodes_with"]["missing"] == 1 and summary["nodes_with"]["installed_pending_reboot"] == 1
        assert summary["nodes_with"]["critical_non_compliant"] == 1
        assert summary["operations"] == {"Scan": 2, "Install": 1}
        assert summary["patch_groups"] == {"web": {"nodes": 2, "non_compliant_nodes": 2},
                                           "db": {"nodes": 1, "non_compliant_nodes": 0}}
        assert pb.fleet_summary([])["nodes"] == 0

    def test_is_compliant(self):
        assert pb.is_compliant(patch_state(NODE, InstalledCount=3, InstalledOtherCount=2, NotApplicableCount=9))
        for key in ("MissingCount", "FailedCount", "InstalledPendingRebootCount", "InstalledRejectedCount"):
            assert not pb.is_compliant(patch_state(NODE, **{key: 1}))
