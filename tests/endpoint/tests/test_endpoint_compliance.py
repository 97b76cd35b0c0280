"""SSM Compliance: PutComplianceItems, ListComplianceItems, ListResourceComplianceSummaries,
ListComplianceSummaries."""

from __future__ import annotations

import datetime as dt

import pytest
from botocore.exceptions import ClientError

from fleet_helpers import error

WHEN = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)


def item(item_id, status="COMPLIANT", severity="UNSPECIFIED", **extra):
    return {"Id": item_id, "Title": f"title of {item_id}", "Status": status, "Severity": severity, **extra}


def put(ssm, resource_id, items, compliance_type="Custom:Drift", when=WHEN, **extra):
    ssm.put_compliance_items(ResourceId=resource_id, ResourceType="ManagedInstance", ComplianceType=compliance_type,
                             ExecutionSummary={"ExecutionTime": when, "ExecutionType": "Ansible"}, Items=items, **extra)


def items_of(ssm, resource_id, **extra):
    pages = ssm.get_paginator("list_compliance_items").paginate(
        ResourceIds=[resource_id], ResourceTypes=["ManagedInstance"], **extra)
    return pages.build_full_result()["ComplianceItems"]


def summaries(ssm, **extra):
    pages = ssm.get_paginator("list_resource_compliance_summaries").paginate(**extra)
    return pages.build_full_result()["ResourceComplianceSummaryItems"]


def exercise_compliance_operations(ssm, endpoint):
    """Every compliance operation once, for the shape test (test_endpoint_shapes.py)."""
    instance_id = "mi-0c0000000000c0001"
    endpoint.control("POST", "/nodes", {"instance_id": instance_id, "leader_pid": None})
    try:
        put(ssm, instance_id, [item("a", Details={"k": "v"}), item("b", "NON_COMPLIANT", "HIGH")])
        ssm.list_compliance_items(ResourceIds=[instance_id], ResourceTypes=["ManagedInstance"])
        ssm.list_resource_compliance_summaries()
        ssm.list_compliance_summaries()
        with pytest.raises(ClientError):
            put(ssm, "mi-0c0000000000cffff", [item("a")])
        put(ssm, instance_id, [])
    finally:
        endpoint.control("DELETE", f"/nodes/{instance_id}")


def test_exercise_compliance_operations(ssm_client, ssm_endpoint):
    exercise_compliance_operations(ssm_client, ssm_endpoint)


def test_put_and_list_items(ssm_client, managed_node):
    node = managed_node("c-1")
    put(ssm_client, node.instance_id, [item("file:/etc/motd", Details={"diff": "+hello"}),
                                       item("package:nginx", "NON_COMPLIANT", "HIGH")])
    found = items_of(ssm_client, node.instance_id)
    assert [(entry["Id"], entry["Status"], entry["Severity"]) for entry in found] == [
        ("file:/etc/motd", "COMPLIANT", "UNSPECIFIED"), ("package:nginx", "NON_COMPLIANT", "HIGH")]
    first = found[0]
    assert first["ComplianceType"] == "Custom:Drift"
    assert first["ResourceType"] == "ManagedInstance" and first["ResourceId"] == node.instance_id
    assert first["Title"] == "title of file:/etc/motd"
    assert first["Details"] == {"diff": "+hello"}
    assert first["ExecutionSummary"] == {"ExecutionTime": WHEN, "ExecutionType": "Ansible"}


def test_complete_upload_replaces_every_item_of_the_type_only(ssm_client, managed_node):
    node = managed_node("c-2")
    put(ssm_client, node.instance_id, [item("a"), item("b"), item("c")])
    put(ssm_client, node.instance_id, [item("x")], compliance_type="Custom:Other")
    put(ssm_client, node.instance_id, [item("b", "NON_COMPLIANT")])
    found = items_of(ssm_client, node.instance_id)
    assert sorted((entry["ComplianceType"], entry["Id"], entry["Status"]) for entry in found) == [
        ("Custom:Drift", "b", "NON_COMPLIANT"), ("Custom:Other", "x", "COMPLIANT")]


def test_partial_upload_replaces_items_by_id(ssm_client, managed_node):
    node = managed_node("c-3")
    put(ssm_client, node.instance_id, [item("a"), item("b")])
    put(ssm_client, node.instance_id, [item("b", "NON_COMPLIANT"), item("c")], UploadType="PARTIAL")
    found = items_of(ssm_client, node.instance_id)
    assert [(entry["Id"], entry["Status"]) for entry in found] == [
        ("a", "COMPLIANT"), ("b", "NON_COMPLIANT"), ("c", "COMPLIANT")]
    with pytest.raises(ClientError) as excinfo:
        put(ssm_client, node.instance_id, [{"Status": "COMPLIANT", "Severity": "LOW"}], UploadType="PARTIAL")
    assert error(excinfo)[0] == "InvalidItemContentException"


def test_empty_upload_removes_the_type(ssm_client, managed_node):
    node = managed_node("c-4")
    put(ssm_client, node.instance_id, [item("a")])
    assert len(summaries(ssm_client)) == 1
    put(ssm_client, node.instance_id, [])
    assert items_of(ssm_client, node.instance_id) == []
    assert summaries(ssm_client) == []


def test_matching_content_hash_is_ignored(ssm_client, managed_node):
    node = managed_node("c-5")
    put(ssm_client, node.instance_id, [item("a")], ItemContentHash="h1")
    put(ssm_client, node.instance_id, [item("b")], ItemContentHash="h1")
    assert [entry["Id"] for entry in items_of(ssm_client, node.instance_id)] == ["a"]
    put(ssm_client, node.instance_id, [item("b")], ItemContentHash="h2")
    assert [entry["Id"] for entry in items_of(ssm_client, node.instance_id)] == ["b"]


def test_resource_errors(ssm_client, aws_client, managed_node):
    node = managed_node("c-6")
    with pytest.raises(ClientError) as excinfo:
        put(ssm_client, "mi-0c0000000000cdead", [item("a")])
    assert error(excinfo)[0] == "InvalidResourceId"
    with pytest.raises(ClientError) as excinfo:
        ssm_client.put_compliance_items(ResourceId=node.instance_id, ResourceType="EC2Instance",
                                        ComplianceType="Custom:Drift", ExecutionSummary={"ExecutionTime": WHEN},
                                        Items=[item("a")])
    assert error(excinfo)[0] == "InvalidResourceType"
    with pytest.raises(ClientError) as excinfo:
        ssm_client.list_compliance_items(ResourceIds=[node.instance_id, "mi-0c0000000000cdead"])
    assert error(excinfo)[0] == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        ssm_client.list_compliance_items(ResourceTypes=["Document"])
    assert error(excinfo)[0] == "InvalidResourceType"
    assert items_of(ssm_client, "mi-0c0000000000cdead") == []


@pytest.mark.parametrize("compliance_type", ["Custom:my-type", "Custom:", "Custom:x", "Drift stuff", "C" * 101])
def test_compliance_type_follows_the_model_pattern(aws_client, managed_node, compliance_type):
    node = managed_node("c-7")
    ssm = aws_client("ssm", parameter_validation=False)
    with pytest.raises(ClientError) as excinfo:
        put(ssm, node.instance_id, [item("a")], compliance_type=compliance_type)
    code, message = error(excinfo)
    assert code == "ValidationException"
    assert "complianceType" in message


def test_input_limits(aws_client, managed_node):
    node = managed_node("c-8")
    ssm = aws_client("ssm", parameter_validation=False)
    for bad, where in (
        ([item("a", Title="t" * 501)], "items.1.member.title"),
        ([item("a", Severity="SEVERE")], "items.1.member.severity"),
        ([item("a", Status="FAILED")], "items.1.member.status"),
        ([item("a")] * 10001, "items"),
    ):
        with pytest.raises(ClientError) as excinfo:
            put(ssm, node.instance_id, bad)
        code, message = error(excinfo)
        assert code == "ValidationException" and where in message, message
    with pytest.raises(ClientError) as excinfo:
        ssm.list_compliance_items(ResourceIds=[node.instance_id], MaxResults=51)
    assert "maxResults" in error(excinfo)[1]


def test_ten_custom_types_at_most(ssm_client, managed_node):
    first, second = managed_node("c-9"), managed_node("c-10")
    for number in range(10):
        put(ssm_client, first.instance_id, [item("a")], compliance_type=f"Custom:T{number}")
    put(ssm_client, second.instance_id, [item("a")], compliance_type="Custom:T3")  # an existing type
    put(ssm_client, second.instance_id, [item("a")], compliance_type="Association")  # not a custom type
    with pytest.raises(ClientError) as excinfo:
        put(ssm_client, second.instance_id, [item("a")], compliance_type="Custom:T10")
    assert error(excinfo)[0] == "ComplianceTypeCountLimitExceededException"
    put(ssm_client, first.instance_id, [], compliance_type="Custom:T0")
    put(ssm_client, second.instance_id, [item("a")], compliance_type="Custom:T10")


def test_item_filters(ssm_client, managed_node):
    node = managed_node("c-11")
    put(ssm_client, node.instance_id, [
        item("file:/a", Details={"Kind": "file"}), item("file:/b", "NON_COMPLIANT", "HIGH", Details={"Kind": "file"}),
        item("package:x", "NON_COMPLIANT", "LOW", Details={"Kind": "package"})])
    put(ssm_client, node.instance_id, [item("p")], compliance_type="Custom:Patch")

    def ids(*filters):
        return [entry["Id"] for entry in items_of(ssm_client, node.instance_id, Filters=list(filters))]

    assert ids({"Key": "ComplianceType", "Values": ["Custom:Patch"]}) == ["p"]
    assert ids({"Key": "Status", "Values": ["NON_COMPLIANT"], "Type": "EQUAL"}) == ["file:/b", "package:x"]
    assert ids({"Key": "Status", "Values": ["NON_COMPLIANT"], "Type": "NOT_EQUAL"}) == ["file:/a", "p"]
    assert ids({"Key": "Id", "Values": ["file:"], "Type": "BEGIN_WITH"},
               {"Key": "Severity", "Values": ["HIGH"]}) == ["file:/b"]
    assert ids({"Key": "Kind", "Values": ["package"]}) == ["package:x"]
    later = (WHEN + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert len(ids({"Key": "ExecutionTime", "Values": [later], "Type": "LESS_THAN"})) == 4
    assert ids({"Key": "ExecutionTime", "Values": [later], "Type": "GREATER_THAN"}) == []
    with pytest.raises(ClientError) as excinfo:
        ssm_client.list_compliance_items(ResourceIds=[node.instance_id], Filters=[{"Values": ["x"]}])
    assert error(excinfo)[0] == "InvalidFilter"


def test_pagination(ssm_client, managed_node):
    node = managed_node("c-12")
    put(ssm_client, node.instance_id, [item(f"i{n:03}") for n in range(23)])
    first = ssm_client.list_compliance_items(ResourceIds=[node.instance_id])
    assert len(first["ComplianceItems"]) == 10 and first["NextToken"]
    assert len(items_of(ssm_client, node.instance_id, PaginationConfig={"PageSize": 7})) == 23
    with pytest.raises(ClientError) as excinfo:
        ssm_client.list_compliance_items(ResourceIds=[node.instance_id], NextToken="garbage")
    assert error(excinfo)[0] == "InvalidNextToken"
    with pytest.raises(ClientError) as excinfo:  # a token of another query
        ssm_client.list_resource_compliance_summaries(NextToken=first["NextToken"])
    assert error(excinfo)[0] == "InvalidNextToken"


def test_resource_summaries(ssm_client, managed_node):
    good, bad = managed_node("c-13", tags={"Patch Group": "web"}), managed_node("c-14")
    put(ssm_client, good.instance_id, [item("a", severity="LOW"), item("b", severity="CRITICAL")])
    put(ssm_client, bad.instance_id, [item("a", "NON_COMPLIANT", "MEDIUM"), item("b", "NON_COMPLIANT", "LOW"),
                                      item("c", severity="CRITICAL")])
    found = {entry["ResourceId"]: entry for entry in summaries(ssm_client)}
    assert found[good.instance_id]["Status"] == "COMPLIANT"
    assert found[good.instance_id]["OverallSeverity"] == "CRITICAL"
    assert found[good.instance_id]["CompliantSummary"]["CompliantCount"] == 2
    assert found[good.instance_id]["NonCompliantSummary"]["NonCompliantCount"] == 0
    summary = found[bad.instance_id]
    assert summary["Status"] == "NON_COMPLIANT"
    assert summary["OverallSeverity"] == "MEDIUM"
    assert summary["NonCompliantSummary"] == {"NonCompliantCount": 2, "SeveritySummary": {
        "CriticalCount": 0, "HighCount": 0, "MediumCount": 1, "LowCount": 1, "InformationalCount": 0,
        "UnspecifiedCount": 0}}
    assert summary["CompliantSummary"]["SeveritySummary"]["CriticalCount"] == 1
    assert summary["ExecutionSummary"]["ExecutionTime"] == WHEN

    def ids(*filters):
        return sorted(entry["ResourceId"] for entry in summaries(ssm_client, Filters=list(filters)))

    assert ids({"Key": "Status", "Values": ["NON_COMPLIANT"]}) == [bad.instance_id]
    assert ids({"Key": "OverallSeverity", "Values": ["CRITICAL"]}) == [good.instance_id]
    assert ids({"Key": "InstanceId", "Values": [bad.instance_id]}) == [bad.instance_id]
    assert ids({"Key": "PatchGroup", "Values": ["web"]}) == [good.instance_id]
    assert ids({"Key": "AWS:InstanceInformation.PlatformType", "Values": ["Linux"]}) == sorted(found)
    assert ids({"Key": "AWS:InstanceInformation.PlatformType", "Values": ["Windows"]}) == []
    with pytest.raises(ClientError) as excinfo:
        ssm_client.list_resource_compliance_summaries(Filters=[{"Key": "Colour", "Values": ["x"]}])
    assert error(excinfo)[0] == "InvalidFilter"


def test_compliance_summaries_count_resources(ssm_client, managed_node):
    nodes = [managed_node(f"c-s{n}") for n in range(3)]
    put(ssm_client, nodes[0].instance_id, [item("a")])
    put(ssm_client, nodes[1].instance_id, [item("a"), item("b", "NON_COMPLIANT", "HIGH")])
    put(ssm_client, nodes[2].instance_id, [item("a", "NON_COMPLIANT", "CRITICAL")])
    put(ssm_client, nodes[2].instance_id, [item("x")], compliance_type="Custom:Patch")
    found = {entry["ComplianceType"]: entry for entry in ssm_client.list_compliance_summaries()["ComplianceSummaryItems"]}
    drift = found["Custom:Drift"]
    assert drift["CompliantSummary"]["CompliantCount"] == 1
    assert drift["NonCompliantSummary"]["NonCompliantCount"] == 2
    assert drift["NonCompliantSummary"]["SeveritySummary"]["CriticalCount"] == 1
    assert drift["NonCompliantSummary"]["SeveritySummary"]["HighCount"] == 1
    assert found["Custom:Patch"]["CompliantSummary"]["CompliantCount"] == 1
    only = ssm_client.list_compliance_summaries(Filters=[{"Key": "ComplianceType", "Values": ["Custom:Patch"]}])
    assert [entry["ComplianceType"] for entry in only["ComplianceSummaryItems"]] == ["Custom:Patch"]


def test_patch_states_show_as_patch_compliance(ssm_client, ssm_endpoint, managed_node):
    node = managed_node("c-patch")
    ssm_endpoint.control("POST", "/patch-states", {
        "instance_id": node.instance_id, "patch_group": "web", "operating_system": "DEBIAN", "operation": "Scan",
        "operation_end_time": "2026-01-01T00:00:00Z",
        "patches": [{"title": "openssl", "classification": "Security", "severity": "Critical", "state": "Missing"},
                    {"title": "bash", "state": "Installed", "installed_time": "2025-12-01T00:00:00Z"},
                    {"title": "foo", "state": "NotApplicable"}]})
    found = items_of(ssm_client, node.instance_id, Filters=[{"Key": "ComplianceType", "Values": ["Patch"]}])
    assert [(entry["Id"], entry["Status"]) for entry in found] == [("openssl", "NON_COMPLIANT"), ("bash", "COMPLIANT")]
    assert found[0]["Details"]["PatchState"] == "Missing"
    assert found[0]["Details"]["PatchGroup"] == "web"
    assert found[0]["Details"]["DocumentName"] == "AWS-RunPatchBaseline"
    assert found[1]["Details"]["InstalledTime"] == "2025-12-01T00:00:00Z"
    summary = summaries(ssm_client, Filters=[{"Key": "ComplianceType", "Values": ["Patch"]}])
    assert [(entry["ResourceId"], entry["Status"]) for entry in summary] == [(node.instance_id, "NON_COMPLIANT")]
    # a newer explicit report of type Patch wins, an older one does not
    put(ssm_client, node.instance_id, [item("openssl")], compliance_type="Patch",
        when=dt.datetime(2025, 6, 1, tzinfo=dt.timezone.utc))
    assert len(items_of(ssm_client, node.instance_id)) == 2
    put(ssm_client, node.instance_id, [item("openssl")], compliance_type="Patch",
        when=dt.datetime(2026, 2, 1, tzinfo=dt.timezone.utc))
    assert [(entry["Id"], entry["Status"]) for entry in items_of(ssm_client, node.instance_id)] == [
        ("openssl", "COMPLIANT")]


def test_access_denied(ssm_client, ssm_endpoint, managed_node):
    node = managed_node("c-deny")
    ssm_endpoint.control("POST", "/deny", {"action": "ssm:PutComplianceItems"})
    try:
        with pytest.raises(ClientError) as excinfo:
            put(ssm_client, node.instance_id, [item("a")])
        code, message = error(excinfo)
        assert code == "AccessDeniedException" and "ssm:PutComplianceItems" in message
        assert node.instance_id in message
    finally:
        ssm_endpoint.control("DELETE", "/deny")


def test_reset_drops_compliance(ssm_client, ssm_endpoint, managed_node):
    node = managed_node("c-reset")
    put(ssm_client, node.instance_id, [item("a")])
    ssm_endpoint.reset()
    assert items_of(ssm_client, node.instance_id) == []
