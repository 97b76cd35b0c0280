"""Patch Manager: baselines, patch groups, default baselines, patch compliance, the control API."""

import json
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from fleetops_endpoint import shapes
from fleetops_endpoint.ssm import patching

NODE = "i-0123456789abcdef0"
NODE2 = "i-0fedcba9876543210"
HYBRID = "mi-0123456789abcdef0"

UBUNTU_RULES = {"PatchRules": [{
    "PatchFilterGroup": {"PatchFilters": [{"Key": "PRIORITY", "Values": ["Required", "Important"]}]},
    "ApproveAfterDays": 0,
}]}
AL2023_RULES = {"PatchRules": [{
    "PatchFilterGroup": {"PatchFilters": [
        {"Key": "CLASSIFICATION", "Values": ["Security"]}, {"Key": "SEVERITY", "Values": ["Critical"]}]},
    "ApproveAfterDays": 7, "ComplianceLevel": "HIGH", "EnableNonSecurity": True,
}]}
WINDOWS_RULES = {"PatchRules": [{
    "PatchFilterGroup": {"PatchFilters": [
        {"Key": "CLASSIFICATION", "Values": ["SecurityUpdates", "CriticalUpdates"]},
        {"Key": "MSRC_SEVERITY", "Values": ["Critical"]}]},
    "ApproveAfterDays": 3, "ComplianceLevel": "CRITICAL",
}]}


def error(excinfo):
    err = excinfo.value.response["Error"]
    return err["Code"], err.get("Message", "")


def create(ssm, name="base-ubuntu", os_name="UBUNTU", rules=None, **extra):
    if rules is None:
        rules = {"UBUNTU": UBUNTU_RULES, "DEBIAN": UBUNTU_RULES, "WINDOWS": WINDOWS_RULES}.get(os_name, AL2023_RULES)
    return ssm.create_patch_baseline(Name=name, OperatingSystem=os_name, ApprovalRules=rules, **extra)["BaselineId"]


def aws_baseline(ssm, name):
    found = ssm.describe_patch_baselines(Filters=[{"Key": "NAME_PREFIX", "Values": [name]},
                                                  {"Key": "OWNER", "Values": ["AWS"]}])["BaselineIdentities"]
    return next(item for item in found if item["BaselineName"] == name)


def seed(endpoint, **body):
    return endpoint.control("POST", "/patch-states", body)


def control_error(endpoint, method, body):
    request = urllib.request.Request(
        endpoint.url + "/_fleetops/patch-states", data=json.dumps(body).encode(), method=method,
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(request, timeout=10)
    return excinfo.value.code, json.loads(excinfo.value.read())


# --------------------------------------------------------------------------- predefined baselines


def test_predefined_baselines_are_listed_with_aws_arns(ssm_client):
    identities = ssm_client.describe_patch_baselines(Filters=[{"Key": "OWNER", "Values": ["AWS"]}])["BaselineIdentities"]
    names = {item["BaselineName"] for item in identities}
    for name in ("AWS-DebianDefaultPatchBaseline", "AWS-UbuntuDefaultPatchBaseline",
                 "AWS-AmazonLinux2023DefaultPatchBaseline", "AWS-AmazonLinux2DefaultPatchBaseline",
                 "AWS-RedHatDefaultPatchBaseline", "AWS-DefaultPatchBaseline", "AWS-WindowsPredefinedPatchBaseline-OS",
                 "AWS-WindowsPredefinedPatchBaseline-OS-Applications"):
        assert name in names
    systems = {item["OperatingSystem"] for item in identities if item["DefaultBaseline"]}
    assert systems == set(patching.OPERATING_SYSTEMS), "AWS has a default baseline for every operating system"
    ubuntu = aws_baseline(ssm_client, "AWS-UbuntuDefaultPatchBaseline")
    assert ubuntu["BaselineId"] == "arn:aws:ssm:us-east-1:075727635805:patchbaseline/pb-0c7e89f711c3095f4"
    assert all(item["BaselineId"].startswith("arn:aws:ssm:us-east-1:") for item in identities)


def test_predefined_baseline_rules(ssm_client):
    debian = ssm_client.get_patch_baseline(BaselineId=aws_baseline(ssm_client, "AWS-DebianDefaultPatchBaseline")["BaselineId"])
    assert debian["OperatingSystem"] == "DEBIAN"
    rule = debian["ApprovalRules"]["PatchRules"][0]
    assert rule["PatchFilterGroup"]["PatchFilters"] == [
        {"Key": "PRIORITY", "Values": ["Required", "Important", "Standard", "Optional", "Extra"]}]
    al2023 = ssm_client.get_patch_baseline(
        BaselineId=aws_baseline(ssm_client, "AWS-AmazonLinux2023DefaultPatchBaseline")["BaselineId"])
    rules = al2023["ApprovalRules"]["PatchRules"]
    assert [r["ApproveAfterDays"] for r in rules] == [7, 7]
    assert {"Key": "SEVERITY", "Values": ["Critical", "Important"]} in rules[0]["PatchFilterGroup"]["PatchFilters"]
    assert {"Key": "CLASSIFICATION", "Values": ["Bugfix"]} in rules[1]["PatchFilterGroup"]["PatchFilters"]
    windows = ssm_client.get_patch_baseline(BaselineId=aws_baseline(ssm_client, "AWS-DefaultPatchBaseline")["BaselineId"])
    assert {"Key": "MSRC_SEVERITY", "Values": ["Critical", "Important"]} in \
        windows["ApprovalRules"]["PatchRules"][0]["PatchFilterGroup"]["PatchFilters"]


def test_predefined_baselines_in_another_region(aws_client):
    ssm = aws_client("ssm", region="eu-west-1")
    default = ssm.get_default_patch_baseline(OperatingSystem="DEBIAN")["BaselineId"]
    assert default.startswith("arn:aws:ssm:eu-west-1:") and ":patchbaseline/pb-" in default
    assert ssm.get_patch_baseline(BaselineId=default)["Name"] == "AWS-DebianDefaultPatchBaseline"


def test_predefined_baselines_need_their_full_arn(ssm_client):
    arn = aws_baseline(ssm_client, "AWS-UbuntuDefaultPatchBaseline")["BaselineId"]
    short = arn.rsplit("/", 1)[1]
    with pytest.raises(ssm_client.exceptions.DoesNotExistException):
        ssm_client.get_patch_baseline(BaselineId=short)
    with pytest.raises(ssm_client.exceptions.DoesNotExistException):
        ssm_client.update_patch_baseline(BaselineId=arn, Description="mine now")
    with pytest.raises(ssm_client.exceptions.InvalidResourceId):
        ssm_client.add_tags_to_resource(ResourceType="PatchBaseline", ResourceId=arn, Tags=[{"Key": "a", "Value": "b"}])


# --------------------------------------------------------------------------- create / get / update / delete


def test_create_and_get(ssm_client):
    sources = [{"Name": "internal-repo", "Products": ["AmazonLinux2023"],
                "Configuration": "[main]\nname=internal\nbaseurl=https://repo.example.com/al2023\nenabled=1"}]
    baseline_id = create(
        ssm_client, "al2023-full", "AMAZON_LINUX_2023", Description="Everything set",
        GlobalFilters={"PatchFilters": [{"Key": "PRODUCT", "Values": ["AmazonLinux2023"]}]},
        ApprovedPatches=["kernel-6.1*"], ApprovedPatchesComplianceLevel="MEDIUM", ApprovedPatchesEnableNonSecurity=True,
        RejectedPatches=["telnet*"], RejectedPatchesAction="BLOCK", Sources=sources,
    )
    assert baseline_id.startswith("pb-") and len(baseline_id) == 20
    got = ssm_client.get_patch_baseline(BaselineId=baseline_id)
    assert got["Name"] == "al2023-full" and got["OperatingSystem"] == "AMAZON_LINUX_2023"
    assert got["Description"] == "Everything set"
    assert got["ApprovalRules"]["PatchRules"][0]["ComplianceLevel"] == "HIGH"
    assert got["ApprovalRules"]["PatchRules"][0]["EnableNonSecurity"] is True
    assert got["ApprovedPatches"] == ["kernel-6.1*"] and got["ApprovedPatchesComplianceLevel"] == "MEDIUM"
    assert got["RejectedPatchesAction"] == "BLOCK" and got["Sources"] == sources
    assert got["PatchGroups"] == [] and got["CreatedDate"] == got["ModifiedDate"]
    # the full ARN of a custom baseline works as well
    assert ssm_client.get_patch_baseline(BaselineId=f"arn:aws:ssm:us-east-1:123456789012:patchbaseline/{baseline_id}")[
        "BaselineId"] == baseline_id


def test_create_defaults(ssm_client):
    baseline_id = ssm_client.create_patch_baseline(Name="defaults", ApprovedPatches=["KB123456"])["BaselineId"]
    got = ssm_client.get_patch_baseline(BaselineId=baseline_id)
    assert got["OperatingSystem"] == "WINDOWS"
    assert got["GlobalFilters"] == {"PatchFilters": []} and got["ApprovalRules"] == {"PatchRules": []}
    assert got["ApprovedPatchesComplianceLevel"] == "UNSPECIFIED"
    assert got["ApprovedPatchesEnableNonSecurity"] is False
    assert got["RejectedPatchesAction"] == "ALLOW_AS_DEPENDENCY"
    assert "Description" not in got and "AvailableSecurityUpdatesComplianceStatus" not in got
    rule_default = ssm_client.get_patch_baseline(BaselineId=create(ssm_client))["ApprovalRules"]["PatchRules"][0]
    assert rule_default["ComplianceLevel"] == "UNSPECIFIED" and rule_default["EnableNonSecurity"] is False


@pytest.mark.parametrize("os_name,rules,fragment", [
    ("UBUNTU", {"PatchRules": [{"PatchFilterGroup": {"PatchFilters": [{"Key": "SEVERITY", "Values": ["High"]}]},
                                "ApproveAfterDays": 1}]}, "SEVERITY is not valid for operating system UBUNTU"),
    ("WINDOWS", {"PatchRules": [{"PatchFilterGroup": {"PatchFilters": [{"Key": "PRIORITY", "Values": ["x"]}]},
                                 "ApproveAfterDays": 1}]}, "PRIORITY is not valid for operating system WINDOWS"),
    ("AMAZON_LINUX_2", {"PatchRules": [{"PatchFilterGroup": {"PatchFilters": []}, "ApproveAfterDays": 1,
                                        "ApproveUntilDate": "2030-01-01"}]}, "not both"),
    ("AMAZON_LINUX_2", {"PatchRules": [{"PatchFilterGroup": {"PatchFilters": []}}]},
     "either ApproveAfterDays or ApproveUntilDate"),
    ("AMAZON_LINUX_2", {"PatchRules": [{"PatchFilterGroup": {"PatchFilters": []}, "ApproveUntilDate": "2030-13-01"}]},
     "YYYY-MM-DD"),
    ("AMAZON_LINUX_2", {"PatchRules": [{"PatchFilterGroup": {"PatchFilters": [
        {"Key": "SEVERITY", "Values": ["a"]}, {"Key": "SEVERITY", "Values": ["b"]}]}, "ApproveAfterDays": 1}]},
     "more than once"),
    ("AMAZON_LINUX_2", {"PatchRules": []}, "at least one approval rule or one approved patch"),
])
def test_create_validation(ssm_client, os_name, rules, fragment):
    with pytest.raises(ClientError) as excinfo:
        create(ssm_client, "bad", os_name, rules)
    code, message = error(excinfo)
    assert code == "ValidationException" and fragment in message


def test_create_input_shape_is_checked(aws_client):
    raw = aws_client("ssm", parameter_validation=False)
    with pytest.raises(ClientError) as excinfo:
        raw.create_patch_baseline(Name="x", ApprovedPatches=["KB1"])
    assert "at 'name' failed to satisfy constraint" in error(excinfo)[1]
    with pytest.raises(ClientError) as excinfo:
        raw.create_patch_baseline(Name="good", OperatingSystem="BEOS", ApprovedPatches=["KB1"])
    assert "at 'operatingSystem' failed to satisfy constraint" in error(excinfo)[1]
    with pytest.raises(ClientError) as excinfo:
        raw.create_patch_baseline(Name="good", ApprovalRules={"PatchRules": [
            {"PatchFilterGroup": {"PatchFilters": []}, "ApproveAfterDays": 361}]})
    assert "Member must have value less than or equal to 360" in error(excinfo)[1]


def test_client_token_makes_create_idempotent(ssm_client):
    first = create(ssm_client, "tokened", ClientToken="token-1")
    assert create(ssm_client, "tokened", ClientToken="token-1") == first
    with pytest.raises(ssm_client.exceptions.IdempotentParameterMismatch):
        create(ssm_client, "tokened-other", ClientToken="token-1")
    names = [item["BaselineName"] for item in ssm_client.describe_patch_baselines(
        Filters=[{"Key": "OWNER", "Values": ["Self"]}])["BaselineIdentities"]]
    assert names == ["tokened"]


def test_names_are_not_unique(ssm_client):
    first, second = create(ssm_client, "twin"), create(ssm_client, "twin")
    assert first != second
    found = ssm_client.describe_patch_baselines(Filters=[{"Key": "NAME_PREFIX", "Values": ["twin"]}])["BaselineIdentities"]
    assert sorted(item["BaselineId"] for item in found) == sorted([first, second])


def test_baseline_quota(ssm_client, monkeypatch):
    monkeypatch.setattr(patching, "MAX_BASELINES", 2)
    create(ssm_client, "quota-1")
    create(ssm_client, "quota-2")
    with pytest.raises(ssm_client.exceptions.ResourceLimitExceededException):
        create(ssm_client, "quota-3")


def test_update_changes_only_what_is_given(ssm_client):
    baseline_id = create(ssm_client, "upd", "AMAZON_LINUX_2023", Description="first", RejectedPatches=["telnet"])
    updated = ssm_client.update_patch_baseline(BaselineId=baseline_id, Description="second",
                                               ApprovedPatches=["kernel"])
    assert updated["Description"] == "second" and updated["ApprovedPatches"] == ["kernel"]
    assert updated["RejectedPatches"] == ["telnet"] and updated["ApprovalRules"] == ssm_client.get_patch_baseline(
        BaselineId=baseline_id)["ApprovalRules"]
    assert "PatchGroups" not in updated
    got = ssm_client.get_patch_baseline(BaselineId=baseline_id)
    assert got["ModifiedDate"] >= got["CreatedDate"]


def test_update_with_replace_resets_unset_fields(ssm_client):
    baseline_id = create(ssm_client, "rep", "AMAZON_LINUX_2023", Description="gone soon", RejectedPatches=["telnet"],
                         RejectedPatchesAction="BLOCK")
    updated = ssm_client.update_patch_baseline(BaselineId=baseline_id, Name="rep-renamed", ApprovalRules=AL2023_RULES,
                                               Replace=True)
    assert updated["Name"] == "rep-renamed"
    assert "Description" not in updated and updated["RejectedPatches"] == []
    assert updated["RejectedPatchesAction"] == "ALLOW_AS_DEPENDENCY"
    with pytest.raises(ClientError) as excinfo:
        ssm_client.update_patch_baseline(BaselineId=baseline_id, ApprovalRules=AL2023_RULES, Replace=True)
    assert "requires the Name" in error(excinfo)[1]


def test_update_validates_against_the_baseline_os(ssm_client):
    baseline_id = create(ssm_client)
    with pytest.raises(ClientError) as excinfo:
        ssm_client.update_patch_baseline(BaselineId=baseline_id, GlobalFilters={
            "PatchFilters": [{"Key": "MSRC_SEVERITY", "Values": ["Critical"]}]})
    assert "MSRC_SEVERITY is not valid for operating system UBUNTU" in error(excinfo)[1]
    with pytest.raises(ssm_client.exceptions.DoesNotExistException):
        ssm_client.update_patch_baseline(BaselineId="pb-0123456789abcdef0", Description="x")


def test_get_missing(ssm_client):
    with pytest.raises(ssm_client.exceptions.DoesNotExistException) as excinfo:
        ssm_client.get_patch_baseline(BaselineId="pb-0123456789abcdef0")
    assert "pb-0123456789abcdef0 does not exist" in error(excinfo)[1]


def test_delete(ssm_client):
    baseline_id = create(ssm_client, Tags=[{"Key": "team", "Value": "ops"}])
    assert ssm_client.delete_patch_baseline(BaselineId=baseline_id)["BaselineId"] == baseline_id
    with pytest.raises(ssm_client.exceptions.DoesNotExistException):
        ssm_client.get_patch_baseline(BaselineId=baseline_id)
    # deleting again is not an error (DeletePatchBaseline has no DoesNotExistException)
    assert ssm_client.delete_patch_baseline(BaselineId=baseline_id)["BaselineId"] == baseline_id


def test_delete_refuses_a_default_or_registered_baseline(ssm_client):
    baseline_id = create(ssm_client)
    ssm_client.register_default_patch_baseline(BaselineId=baseline_id)
    with pytest.raises(ssm_client.exceptions.ResourceInUseException) as excinfo:
        ssm_client.delete_patch_baseline(BaselineId=baseline_id)
    assert "default patch baseline for UBUNTU" in error(excinfo)[1]
    ssm_client.register_default_patch_baseline(BaselineId=aws_baseline(ssm_client, "AWS-UbuntuDefaultPatchBaseline")["BaselineId"])
    ssm_client.register_patch_baseline_for_patch_group(BaselineId=baseline_id, PatchGroup="web")
    with pytest.raises(ssm_client.exceptions.ResourceInUseException) as excinfo:
        ssm_client.delete_patch_baseline(BaselineId=baseline_id)
    assert "patch groups web" in error(excinfo)[1]
    ssm_client.deregister_patch_baseline_for_patch_group(BaselineId=baseline_id, PatchGroup="web")
    ssm_client.delete_patch_baseline(BaselineId=baseline_id)


# --------------------------------------------------------------------------- describe


def test_describe_filters(ssm_client):
    create(ssm_client, "prod-web-ubuntu")
    create(ssm_client, "prod-db-al2023", "AMAZON_LINUX_2023")
    create(ssm_client, "test-web-ubuntu")

    def names(*filters):
        found = ssm_client.describe_patch_baselines(Filters=list(filters))["BaselineIdentities"]
        return sorted(item["BaselineName"] for item in found)

    # a prefix, not an exact name (moto matched NAME_PREFIX exactly)
    assert names({"Key": "NAME_PREFIX", "Values": ["prod-"]}) == ["prod-db-al2023", "prod-web-ubuntu"]
    assert names({"Key": "OWNER", "Values": ["Self"]}) == ["prod-db-al2023", "prod-web-ubuntu", "test-web-ubuntu"]
    assert names({"Key": "OWNER", "Values": ["Self"]}, {"Key": "OPERATING_SYSTEM", "Values": ["UBUNTU"]}) == [
        "prod-web-ubuntu", "test-web-ubuntu"]
    assert names({"Key": "OPERATING_SYSTEM", "Values": ["UBUNTU"]}) == [
        "AWS-UbuntuDefaultPatchBaseline", "prod-web-ubuntu", "test-web-ubuntu"]
    assert names({"Key": "NAME_PREFIX", "Values": ["AWS-Ubuntu"]}) == ["AWS-UbuntuDefaultPatchBaseline"]
    # without filters: AWS's and the account's baselines together
    everything = names()
    assert "AWS-DefaultPatchBaseline" in everything and "prod-web-ubuntu" in everything
    with pytest.raises(ClientError) as excinfo:
        names({"Key": "NAME", "Values": ["x"]})
    assert error(excinfo)[0] == "ValidationException"


def test_describe_pagination(ssm_client, aws_client):
    for index in range(5):
        create(ssm_client, f"page-{index}")
    pages = ssm_client.get_paginator("describe_patch_baselines").paginate(
        Filters=[{"Key": "OWNER", "Values": ["Self"]}], PaginationConfig={"PageSize": 2})
    sizes = [len(page["BaselineIdentities"]) for page in pages]
    assert sizes == [2, 2, 1]
    raw = aws_client("ssm", parameter_validation=False)
    with pytest.raises(ClientError) as excinfo:
        raw.describe_patch_baselines(MaxResults=101)
    assert "less than or equal to 100" in error(excinfo)[1]
    with pytest.raises(ssm_client.exceptions.InvalidNextToken):
        ssm_client.describe_patch_baselines(NextToken="bad")


# --------------------------------------------------------------------------- patch groups


def test_register_and_deregister_patch_groups(ssm_client):
    ubuntu = create(ssm_client)
    other = create(ssm_client, "other-ubuntu")
    windows = create(ssm_client, "win", "WINDOWS")
    result = ssm_client.register_patch_baseline_for_patch_group(BaselineId=ubuntu, PatchGroup="web")
    assert (result["BaselineId"], result["PatchGroup"]) == (ubuntu, "web")
    # one baseline per patch group and operating system
    with pytest.raises(ssm_client.exceptions.AlreadyExistsException) as excinfo:
        ssm_client.register_patch_baseline_for_patch_group(BaselineId=other, PatchGroup="web")
    assert ubuntu in error(excinfo)[1]
    ssm_client.register_patch_baseline_for_patch_group(BaselineId=windows, PatchGroup="web")
    assert ssm_client.get_patch_baseline(BaselineId=ubuntu)["PatchGroups"] == ["web"]
    assert ssm_client.get_patch_baseline_for_patch_group(PatchGroup="web", OperatingSystem="UBUNTU")["BaselineId"] == ubuntu
    assert ssm_client.get_patch_baseline_for_patch_group(PatchGroup="web")["BaselineId"] == windows
    # deregistering really removes the group (moto's was a no-op)
    ssm_client.deregister_patch_baseline_for_patch_group(BaselineId=ubuntu, PatchGroup="web")
    assert ssm_client.get_patch_baseline(BaselineId=ubuntu)["PatchGroups"] == []
    default = ssm_client.get_default_patch_baseline(OperatingSystem="UBUNTU")["BaselineId"]
    assert ssm_client.get_patch_baseline_for_patch_group(PatchGroup="web", OperatingSystem="UBUNTU")["BaselineId"] == default
    ssm_client.register_patch_baseline_for_patch_group(BaselineId=other, PatchGroup="web")
    with pytest.raises(ssm_client.exceptions.InvalidResourceId):
        ssm_client.deregister_patch_baseline_for_patch_group(BaselineId=ubuntu, PatchGroup="web")
    with pytest.raises(ssm_client.exceptions.DoesNotExistException):
        ssm_client.register_patch_baseline_for_patch_group(BaselineId="pb-0123456789abcdef0", PatchGroup="x")


def test_an_aws_baseline_can_serve_a_patch_group(ssm_client):
    arn = aws_baseline(ssm_client, "AWS-AmazonLinux2023DefaultPatchBaseline")["BaselineId"]
    ssm_client.register_patch_baseline_for_patch_group(BaselineId=arn, PatchGroup="db")
    assert ssm_client.get_patch_baseline(BaselineId=arn)["PatchGroups"] == ["db"]
    ssm_client.deregister_patch_baseline_for_patch_group(BaselineId=arn, PatchGroup="db")


def test_patch_group_quota(ssm_client, monkeypatch):
    monkeypatch.setattr(patching, "MAX_PATCH_GROUPS_PER_BASELINE", 2)
    baseline_id = create(ssm_client)
    ssm_client.register_patch_baseline_for_patch_group(BaselineId=baseline_id, PatchGroup="g1")
    ssm_client.register_patch_baseline_for_patch_group(BaselineId=baseline_id, PatchGroup="g2")
    with pytest.raises(ssm_client.exceptions.ResourceLimitExceededException):
        ssm_client.register_patch_baseline_for_patch_group(BaselineId=baseline_id, PatchGroup="g3")


def test_describe_patch_groups(ssm_client):
    ubuntu = create(ssm_client)
    windows = create(ssm_client, "win", "WINDOWS", Description="Windows servers")
    for group in ("web-a", "web-b", "db"):
        ssm_client.register_patch_baseline_for_patch_group(BaselineId=ubuntu, PatchGroup=group)
    ssm_client.register_patch_baseline_for_patch_group(BaselineId=windows, PatchGroup="web-a")
    mappings = ssm_client.describe_patch_groups()["Mappings"]
    assert [(m["PatchGroup"], m["BaselineIdentity"]["OperatingSystem"]) for m in mappings] == [
        ("db", "UBUNTU"), ("web-a", "UBUNTU"), ("web-a", "WINDOWS"), ("web-b", "UBUNTU")]
    windows_map = [m for m in mappings if m["BaselineIdentity"]["OperatingSystem"] == "WINDOWS"][0]
    assert windows_map["BaselineIdentity"] == {"BaselineId": windows, "BaselineName": "win", "OperatingSystem": "WINDOWS",
                                               "BaselineDescription": "Windows servers", "DefaultBaseline": False}
    prefixed = ssm_client.describe_patch_groups(Filters=[{"Key": "NAME_PREFIX", "Values": ["web"]},
                                                         {"Key": "OPERATING_SYSTEM", "Values": ["UBUNTU"]}])["Mappings"]
    assert [m["PatchGroup"] for m in prefixed] == ["web-a", "web-b"]
    pages = list(ssm_client.get_paginator("describe_patch_groups").paginate(PaginationConfig={"PageSize": 3}))
    assert [len(page["Mappings"]) for page in pages] == [3, 1]


# --------------------------------------------------------------------------- default baselines


def test_default_baseline_switch_and_back(ssm_client):
    aws_default = ssm_client.get_default_patch_baseline(OperatingSystem="DEBIAN")["BaselineId"]
    assert aws_default == aws_baseline(ssm_client, "AWS-DebianDefaultPatchBaseline")["BaselineId"]
    custom = create(ssm_client, "deb", "DEBIAN")
    assert ssm_client.register_default_patch_baseline(BaselineId=custom)["BaselineId"] == custom
    current = ssm_client.get_default_patch_baseline(OperatingSystem="DEBIAN")
    assert (current["BaselineId"], current["OperatingSystem"]) == (custom, "DEBIAN")
    identities = {item["BaselineId"]: item["DefaultBaseline"] for item in ssm_client.describe_patch_baselines(
        Filters=[{"Key": "OPERATING_SYSTEM", "Values": ["DEBIAN"]}])["BaselineIdentities"]}
    assert identities == {aws_default: False, custom: True}
    # back to AWS's baseline, by its full ARN
    ssm_client.register_default_patch_baseline(BaselineId=aws_default)
    assert ssm_client.get_default_patch_baseline(OperatingSystem="DEBIAN")["BaselineId"] == aws_default
    # other operating systems are untouched; WINDOWS is the default OS of the call
    assert "pb-" in ssm_client.get_default_patch_baseline()["BaselineId"]
    with pytest.raises(ssm_client.exceptions.DoesNotExistException):
        ssm_client.register_default_patch_baseline(BaselineId="pb-0123456789abcdef0")


# --------------------------------------------------------------------------- effective patches


def test_effective_patches_for_windows(ssm_client):
    baseline_id = create(ssm_client, "win", "WINDOWS", ApprovedPatches=["KB9000004"], RejectedPatches=["KB9000003"],
                         ApprovedPatchesComplianceLevel="LOW")
    found = ssm_client.describe_effective_patches_for_patch_baseline(BaselineId=baseline_id)["EffectivePatches"]
    status = {item["Patch"]["Id"]: item["PatchStatus"] for item in found}
    assert status["KB9000001"]["DeploymentStatus"] == "APPROVED"
    assert status["KB9000001"]["ComplianceLevel"] == "CRITICAL"
    assert status["KB9000003"]["DeploymentStatus"] == "EXPLICIT_REJECTED"
    assert status["KB9000004"] == {"DeploymentStatus": "EXPLICIT_APPROVED", "ComplianceLevel": "LOW",
                                   "ApprovalDate": status["KB9000004"]["ApprovalDate"]}
    assert "KB9000002" not in status, "Important is not approved by this rule"
    assert "KB9000007" not in status, "a rule without PATCH_SET covers the operating system only"
    paged = list(ssm_client.get_paginator("describe_effective_patches_for_patch_baseline").paginate(
        BaselineId=baseline_id, PaginationConfig={"PageSize": 1}))
    assert len(paged) == len(found)


def test_effective_patches_need_windows(ssm_client):
    with pytest.raises(ssm_client.exceptions.UnsupportedOperatingSystem):
        ssm_client.describe_effective_patches_for_patch_baseline(BaselineId=create(ssm_client))
    with pytest.raises(ssm_client.exceptions.DoesNotExistException):
        ssm_client.describe_effective_patches_for_patch_baseline(BaselineId="pb-0123456789abcdef0")


# --------------------------------------------------------------------------- tags


def test_tags_on_baselines(ssm_client):
    # tags at creation (moto rejected them) and later
    baseline_id = create(ssm_client, Tags=[{"Key": "env", "Value": "prod"}])
    ssm_client.add_tags_to_resource(ResourceType="PatchBaseline", ResourceId=baseline_id,
                                    Tags=[{"Key": "team", "Value": "ops"}])
    tags = ssm_client.list_tags_for_resource(ResourceType="PatchBaseline", ResourceId=baseline_id)["TagList"]
    assert {tag["Key"]: tag["Value"] for tag in tags} == {"env": "prod", "team": "ops"}
    ssm_client.remove_tags_from_resource(ResourceType="PatchBaseline", ResourceId=baseline_id, TagKeys=["env"])
    assert ssm_client.list_tags_for_resource(ResourceType="PatchBaseline", ResourceId=baseline_id)["TagList"] == [
        {"Key": "team", "Value": "ops"}]
    with pytest.raises(ssm_client.exceptions.InvalidResourceId):
        ssm_client.list_tags_for_resource(ResourceType="PatchBaseline", ResourceId="pb-0123456789abcdef0")
    with pytest.raises(ClientError) as excinfo:
        create(ssm_client, "reserved", Tags=[{"Key": "aws:owner", "Value": "x"}])
    assert error(excinfo)[0] == "ValidationException"


# --------------------------------------------------------------------------- patch compliance


def seed_fleet(endpoint, baseline_id):
    seed(endpoint, instance_id=NODE, patch_group="web", baseline_id=baseline_id, operation="Install",
         reboot_option="NoReboot", patches=[
             {"title": "openssl", "kb_id": "openssl", "classification": "Security", "severity": "Critical", "state": "Missing"},
             {"title": "bash", "kb_id": "bash", "classification": "Bugfix", "severity": "Low", "state": "Installed",
              "installed_time": "2026-01-02T03:04:05Z"},
             {"title": "linux-image", "kb_id": "linux-image", "classification": "Security", "severity": "High",
              "state": "InstalledPendingReboot", "cve_ids": ["CVE-2026-0001", "CVE-2026-0002"]},
         ])
    seed(endpoint, instance_id=NODE2, patch_group="web", baseline_id=baseline_id, installed=40, missing=0,
         not_applicable=300)
    seed(endpoint, instance_id=HYBRID, patch_group="db", operating_system="UBUNTU", failed=2, missing=1,
         installed=10)


def test_instance_patch_states(ssm_client, clean_endpoint):
    baseline_id = create(ssm_client)
    seed_fleet(clean_endpoint, baseline_id)
    states = ssm_client.describe_instance_patch_states(InstanceIds=[NODE, NODE2, HYBRID, "i-00000000000000000"])[
        "InstancePatchStates"]
    by_id = {state["InstanceId"]: state for state in states}
    assert set(by_id) == {NODE, NODE2, HYBRID}
    first = by_id[NODE]
    assert (first["MissingCount"], first["InstalledCount"], first["InstalledPendingRebootCount"]) == (1, 1, 1)
    assert first["CriticalNonCompliantCount"] == 1 and first["SecurityNonCompliantCount"] == 1
    assert first["Operation"] == "Install" and first["RebootOption"] == "NoReboot"
    assert first["BaselineId"] == baseline_id and first["PatchGroup"] == "web"
    assert by_id[NODE2]["NotApplicableCount"] == 300
    # without a baseline id, the node's patch group and OS pick the baseline (the default here)
    assert by_id[HYBRID]["BaselineId"] == ssm_client.get_default_patch_baseline(OperatingSystem="UBUNTU")["BaselineId"]
    paged = list(ssm_client.get_paginator("describe_instance_patch_states").paginate(
        InstanceIds=[NODE, NODE2, HYBRID], PaginationConfig={"PageSize": 10}))
    assert sum(len(page["InstancePatchStates"]) for page in paged) == 3


def test_instance_patch_states_limits(ssm_client, aws_client):
    raw = aws_client("ssm", parameter_validation=False)
    with pytest.raises(ClientError) as excinfo:
        raw.describe_instance_patch_states(InstanceIds=[f"i-{index:017x}" for index in range(51)])
    assert "less than or equal to 50" in error(excinfo)[1]
    with pytest.raises(ClientError) as excinfo:
        raw.describe_instance_patch_states(InstanceIds=[NODE], MaxResults=5)
    assert "greater than or equal to 10" in error(excinfo)[1]


def test_instance_patch_states_for_patch_group(ssm_client, clean_endpoint):
    baseline_id = create(ssm_client)
    seed_fleet(clean_endpoint, baseline_id)
    states = ssm_client.describe_instance_patch_states_for_patch_group(PatchGroup="web")["InstancePatchStates"]
    assert sorted(state["InstanceId"] for state in states) == sorted([NODE, NODE2])
    missing = ssm_client.describe_instance_patch_states_for_patch_group(
        PatchGroup="web", Filters=[{"Key": "MissingCount", "Values": ["0"], "Type": "GreaterThan"}])["InstancePatchStates"]
    assert [state["InstanceId"] for state in missing] == [NODE]
    with pytest.raises(ssm_client.exceptions.InvalidFilter):
        ssm_client.describe_instance_patch_states_for_patch_group(
            PatchGroup="web", Filters=[{"Key": "Color", "Values": ["1"], "Type": "Equal"}])
    with pytest.raises(ssm_client.exceptions.InvalidFilter):
        ssm_client.describe_instance_patch_states_for_patch_group(
            PatchGroup="web", Filters=[{"Key": "MissingCount", "Values": ["many"], "Type": "Equal"}])


def test_patch_group_states_page_at_most_five(ssm_client, clean_endpoint):
    baseline_id = create(ssm_client)
    for index in range(7):
        seed(clean_endpoint, instance_id=f"i-{index:017x}", patch_group="big", baseline_id=baseline_id, installed=1)
    pages = list(ssm_client.get_paginator("describe_instance_patch_states_for_patch_group").paginate(
        PatchGroup="big", PaginationConfig={"PageSize": 50}))
    assert [len(page["InstancePatchStates"]) for page in pages] == [5, 2]


def test_patch_group_state_counts(ssm_client, clean_endpoint):
    baseline_id = create(ssm_client)
    seed_fleet(clean_endpoint, baseline_id)
    state = ssm_client.describe_patch_group_state(PatchGroup="web")
    assert state["Instances"] == 2
    assert state["InstancesWithMissingPatches"] == 1
    assert state["InstancesWithInstalledPatches"] == 2
    assert state["InstancesWithInstalledPendingRebootPatches"] == 1
    assert state["InstancesWithNotApplicablePatches"] == 1
    assert state["InstancesWithCriticalNonCompliantPatches"] == 1
    assert state["InstancesWithFailedPatches"] == 0
    assert ssm_client.describe_patch_group_state(PatchGroup="db")["InstancesWithFailedPatches"] == 1
    assert ssm_client.describe_patch_group_state(PatchGroup="nobody")["Instances"] == 0


def test_instance_patches(ssm_client, clean_endpoint):
    seed_fleet(clean_endpoint, create(ssm_client))
    patches = ssm_client.describe_instance_patches(InstanceId=NODE)["Patches"]
    assert [patch["Title"] for patch in patches] == ["openssl", "bash", "linux-image"]
    assert patches[0]["State"] == "MISSING" and patches[0]["InstalledTime"].year == 1970
    assert patches[1]["InstalledTime"].year == 2026
    assert patches[2]["CVEIds"] == "CVE-2026-0001,CVE-2026-0002"

    def titles(*filters):
        return [p["Title"] for p in ssm_client.describe_instance_patches(InstanceId=NODE, Filters=list(filters))["Patches"]]

    assert titles({"Key": "State", "Values": ["Missing", "InstalledPendingReboot"]}) == ["openssl", "linux-image"]
    assert titles({"Key": "Classification", "Values": ["Security"]}, {"Key": "Severity", "Values": ["High"]}) == [
        "linux-image"]
    assert titles({"Key": "KBId", "Values": ["bash"]}) == ["bash"]
    with pytest.raises(ssm_client.exceptions.InvalidFilter):
        titles({"Key": "State", "Values": ["Broken"]})
    with pytest.raises(ssm_client.exceptions.InvalidFilter):
        titles({"Key": "Name", "Values": ["bash"]})
    assert ssm_client.describe_instance_patches(InstanceId=NODE2)["Patches"] == []
    paged = list(ssm_client.get_paginator("describe_instance_patches").paginate(
        InstanceId=NODE, PaginationConfig={"PageSize": 10}))
    assert sum(len(page["Patches"]) for page in paged) == 3


def test_control_api(ssm_client, clean_endpoint):
    baseline_id = create(ssm_client)
    answer = seed(clean_endpoint, instance_id=NODE, patch_group="web", baseline_id=baseline_id, installed=3)
    assert answer == {"instance_id": NODE, "baseline_id": baseline_id, "patches": 0}
    listed = clean_endpoint.control("GET", "/patch-states")["patch_states"]
    assert [(item["region"], item["InstanceId"], item["InstalledCount"]) for item in listed] == [("us-east-1", NODE, 3)]
    # a new report replaces the node's previous one
    seed(clean_endpoint, instance_id=NODE, patch_group="web", baseline_id=baseline_id, installed=4, operation="Install")
    state = ssm_client.describe_instance_patch_states(InstanceIds=[NODE])["InstancePatchStates"][0]
    assert state["InstalledCount"] == 4 and state["Operation"] == "Install"
    for body, fragment in (
        ({"patch_group": "web", "baseline_id": baseline_id}, "instance_id"),
        ({"instance_id": NODE, "baseline_id": baseline_id}, "patch_group"),
        ({"instance_id": NODE, "patch_group": "web"}, "baseline_id"),
        ({"instance_id": NODE, "patch_group": "web", "baseline_id": "pb-0123456789abcdef0"}, "does not exist"),
        ({"instance_id": NODE, "patch_group": "web", "baseline_id": baseline_id, "operation": "Reboot"}, "Scan or Install"),
        ({"instance_id": NODE, "patch_group": "web", "baseline_id": baseline_id, "missing": -1}, "integer"),
        ({"instance_id": NODE, "patch_group": "web", "baseline_id": baseline_id,
          "patches": [{"title": "x", "state": "Gone"}]}, "patch state"),
    ):
        status, payload = control_error(clean_endpoint, "POST", body)
        assert status == 400 and fragment in payload["error"], payload
    clean_endpoint.control("DELETE", "/patch-states")
    assert ssm_client.describe_instance_patch_states(InstanceIds=[NODE])["InstancePatchStates"] == []
    status, _payload = control_error(clean_endpoint, "PUT", {})
    assert status == 405


def test_seeded_states_are_per_region(ssm_client, clean_endpoint, aws_client):
    seed(clean_endpoint, instance_id=NODE, patch_group="web", operating_system="UBUNTU", region="eu-west-1", installed=1)
    assert ssm_client.describe_instance_patch_states(InstanceIds=[NODE])["InstancePatchStates"] == []
    eu = aws_client("ssm", region="eu-west-1")
    assert eu.describe_instance_patch_states(InstanceIds=[NODE])["InstancePatchStates"][0]["BaselineId"].startswith(
        "arn:aws:ssm:eu-west-1:")


def test_reset_drops_custom_baselines_and_states(ssm_client, clean_endpoint):
    baseline_id = create(ssm_client)
    ssm_client.register_default_patch_baseline(BaselineId=baseline_id)
    seed(clean_endpoint, instance_id=NODE, patch_group="web", baseline_id=baseline_id)
    clean_endpoint.reset()
    assert ssm_client.describe_patch_baselines(Filters=[{"Key": "OWNER", "Values": ["Self"]}])["BaselineIdentities"] == []
    assert "075727635805" in ssm_client.get_default_patch_baseline(OperatingSystem="UBUNTU")["BaselineId"]
    assert ssm_client.describe_instance_patch_states(InstanceIds=[NODE])["InstancePatchStates"] == []


def test_deny_rules_apply(ssm_client, clean_endpoint):
    clean_endpoint.control("POST", "/deny", {"action": "ssm:CreatePatchBaseline"})
    with pytest.raises(ClientError) as excinfo:
        create(ssm_client)
    code, message = error(excinfo)
    assert code == "AccessDeniedException" and "ssm:CreatePatchBaseline" in message


def test_throttling_is_injected_and_retried(ssm_client, clean_endpoint, aws_client):
    clean_endpoint.control("POST", "/faults", {"operation": "CreatePatchBaseline", "kind": "throttle", "count": 1})
    no_retry = aws_client("ssm", retries=0)
    with pytest.raises(ClientError) as excinfo:
        create(no_retry)
    assert error(excinfo)[0] == "ThrottlingException"
    clean_endpoint.control("POST", "/faults", {"operation": "CreatePatchBaseline", "kind": "throttle", "count": 1})
    assert create(ssm_client).startswith("pb-")


# --------------------------------------------------------------------------- shapes


def test_every_patching_operation_matches_its_output_shape(ssm_client, aws_client, clean_endpoint):
    """Calls each Patch Manager operation of ours (success and errors) and checks the raw bodies."""
    raw_bodies = []

    def capture(operation_model, response_dict, **kwargs):
        ours = response_dict["headers"].get("x-fleetops-layer") == "ssm"
        raw_bodies.append((operation_model.name, response_dict["status_code"], response_dict["body"], ours))

    ssm = aws_client("ssm")
    ssm.meta.events.register("before-parse.ssm.*", capture)
    windows = create(ssm, "shape-win", "WINDOWS", Description="d", AvailableSecurityUpdatesComplianceStatus="NON_COMPLIANT",
                     Tags=[{"Key": "k", "Value": "v"}])
    ubuntu = create(ssm, "shape-ubuntu", Sources=[{"Name": "repo", "Products": ["Ubuntu22.04"], "Configuration": "deb x"}])
    ssm.update_patch_baseline(BaselineId=windows, RejectedPatches=["KB9000001"])
    ssm.get_patch_baseline(BaselineId=windows)
    ssm.describe_patch_baselines(MaxResults=3)
    ssm.register_patch_baseline_for_patch_group(BaselineId=ubuntu, PatchGroup="shape")
    ssm.get_patch_baseline_for_patch_group(PatchGroup="shape", OperatingSystem="UBUNTU")
    ssm.describe_patch_groups()
    ssm.register_default_patch_baseline(BaselineId=windows)
    ssm.get_default_patch_baseline()
    ssm.describe_effective_patches_for_patch_baseline(BaselineId=windows)
    seed(clean_endpoint, instance_id=NODE, patch_group="shape", baseline_id=ubuntu, snapshot_id="0" * 8 + "-0000-0000-0000-" + "0" * 12,
         owner_information="team", install_override_list="https://example.com/list.yaml",
         last_no_reboot_install_operation_time="2026-01-01T00:00:00Z",
         patches=[{"title": "bash", "state": "Installed", "cve_ids": "CVE-2026-1"}])
    ssm.describe_instance_patch_states(InstanceIds=[NODE])
    ssm.describe_instance_patch_states_for_patch_group(PatchGroup="shape")
    ssm.describe_instance_patches(InstanceId=NODE)
    ssm.describe_patch_group_state(PatchGroup="shape")
    ssm.list_tags_for_resource(ResourceType="PatchBaseline", ResourceId=windows)
    ssm.deregister_patch_baseline_for_patch_group(BaselineId=ubuntu, PatchGroup="shape")
    ssm.delete_patch_baseline(BaselineId=ubuntu)
    for call in (
        lambda: ssm.get_patch_baseline(BaselineId="pb-0123456789abcdef0"),
        lambda: ssm.delete_patch_baseline(BaselineId=windows),
        lambda: ssm.register_patch_baseline_for_patch_group(BaselineId="pb-0123456789abcdef0", PatchGroup="x"),
        lambda: ssm.deregister_patch_baseline_for_patch_group(BaselineId=windows, PatchGroup="none"),
        lambda: ssm.describe_effective_patches_for_patch_baseline(BaselineId=create(ssm, "shape-u2")),
        lambda: ssm.describe_instance_patches(InstanceId=NODE, Filters=[{"Key": "Bad", "Values": ["x"]}]),
        lambda: create(ssm, "shape-bad", "UBUNTU", {"PatchRules": [{"PatchFilterGroup": {"PatchFilters": []}}]}),
        lambda: ssm.update_patch_baseline(BaselineId="pb-0123456789abcdef0", Description="x"),
    ):
        with pytest.raises(ClientError):
            call()

    called = {entry[0] for entry in raw_bodies if entry[3]}
    mine = {op for op in shapes.service_model("ssm").operation_names if op in called}
    expected = {
        "CreatePatchBaseline", "UpdatePatchBaseline", "GetPatchBaseline", "DeletePatchBaseline", "DescribePatchBaselines",
        "RegisterPatchBaselineForPatchGroup", "DeregisterPatchBaselineForPatchGroup", "GetPatchBaselineForPatchGroup",
        "DescribePatchGroups", "DescribePatchGroupState", "RegisterDefaultPatchBaseline", "GetDefaultPatchBaseline",
        "DescribeEffectivePatchesForPatchBaseline", "DescribeInstancePatchStates",
        "DescribeInstancePatchStatesForPatchGroup", "DescribeInstancePatches",
    }
    assert expected <= mine, expected - mine
    problems = []
    for name, status, body, ours in raw_bodies:
        assert ours, f"{name} was answered by moto"
        payload = json.loads(body or b"{}")
        if status == 200:
            problems += shapes.validate_output("ssm", name, payload)
        else:
            assert 400 <= status < 500, (name, status, payload)
            problems += shapes.validate_error("ssm", payload)
    assert problems == []
