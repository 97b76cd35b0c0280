# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.fleetops.ssm.plugins.modules import compliance_info as module
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import WHEN

NODE = "mi-0123456789abcdef0"
NODE2 = "i-0fedcba9876543210"
SEVERITIES = {"CriticalCount": 0, "HighCount": 1, "MediumCount": 0, "LowCount": 0, "InformationalCount": 0,
              "UnspecifiedCount": 0}
DRIFT_FILTER = [{"Key": "ComplianceType", "Values": ["Custom:Drift"], "Type": "EQUAL"}]


def item(resource_id, item_id, status="COMPLIANT", compliance_type="Custom:Drift"):
    return {"ComplianceType": compliance_type, "ResourceType": "ManagedInstance", "ResourceId": resource_id,
            "Id": item_id, "Title": item_id, "Severity": "HIGH", "Status": status,
            "Details": {"DocumentName": "x"}, "ExecutionSummary": {"ExecutionTime": WHEN}}


def resource_summary(resource_id, status="NON_COMPLIANT"):
    return {"ComplianceType": "Custom:Drift", "ResourceType": "ManagedInstance", "ResourceId": resource_id,
            "Status": status, "OverallSeverity": "HIGH", "ExecutionSummary": {"ExecutionTime": WHEN},
            "CompliantSummary": {"CompliantCount": 0, "SeveritySummary": SEVERITIES},
            "NonCompliantSummary": {"NonCompliantCount": 1, "SeveritySummary": SEVERITIES}}


def items_request(resource_id, filters):
    return {"ResourceIds": [resource_id], "ResourceTypes": ["ManagedInstance"], "Filters": filters, "MaxResults": 50}


def test_fleet_wide_reads_items_of_every_reporting_node(run_module, ssm):
    filters = DRIFT_FILTER + [{"Key": "Status", "Values": ["NON_COMPLIANT"], "Type": "EQUAL"}]
    ssm.add("list_resource_compliance_summaries",
            {"ResourceComplianceSummaryItems": [resource_summary(NODE), resource_summary(NODE2)]},
            {"Filters": filters, "MaxResults": 50})
    ssm.add("list_compliance_items", {"ComplianceItems": [item(NODE, "a", "NON_COMPLIANT")]}, items_request(NODE, filters))
    ssm.add("list_compliance_items", {"ComplianceItems": [item(NODE2, "b", "NON_COMPLIANT")]},
            items_request(NODE2, filters))
    ssm.add("list_compliance_summaries", {"ComplianceSummaryItems": [{
        "ComplianceType": "Custom:Drift", "CompliantSummary": {"CompliantCount": 3},
        "NonCompliantSummary": {"NonCompliantCount": 2, "SeveritySummary": SEVERITIES}}]},
        {"Filters": DRIFT_FILTER, "MaxResults": 50})

    run = run_module(module.main, dict(compliance_types=["Custom:Drift"], statuses=["NON_COMPLIANT"]), ssm.client)

    assert run.rc == 0, run.result
    assert run.result["changed"] is False
    assert [(entry["resource_id"], entry["id"]) for entry in run.result["compliance_items"]] == [(NODE, "a"), (NODE2, "b")]
    first = run.result["compliance_items"][0]
    assert first["details"] == {"DocumentName": "x"}
    assert first["execution_summary"]["execution_time"] == "2026-01-02T03:04:05+00:00"
    summary = run.result["resource_compliance_summaries"][0]
    assert summary["status"] == "NON_COMPLIANT" and summary["overall_severity"] == "HIGH"
    assert summary["non_compliant_summary"]["severity_summary"]["high_count"] == 1
    assert run.result["compliance_summaries"][0]["non_compliant_summary"]["non_compliant_count"] == 2


def test_given_nodes_without_summaries(run_module, ssm):
    ssm.add("list_compliance_items", {"ComplianceItems": [item(NODE, "a")]}, items_request(NODE, []))

    run = run_module(module.main, dict(resource_ids=[NODE, NODE], summaries=False), ssm.client)

    assert run.rc == 0, run.result
    assert ssm.operations == ["ListComplianceItems"]
    assert run.result["resource_compliance_summaries"] == [] and run.result["compliance_summaries"] == []
    assert run.result["compliance_items"][0]["compliance_type"] == "Custom:Drift"


def test_summaries_only_are_filtered_to_the_given_nodes(run_module, ssm):
    ssm.add("list_resource_compliance_summaries",
            {"ResourceComplianceSummaryItems": [resource_summary(NODE), resource_summary(NODE2)]},
            {"Filters": [], "MaxResults": 50})
    ssm.add("list_compliance_summaries", {"ComplianceSummaryItems": []}, {"Filters": [], "MaxResults": 50})

    run = run_module(module.main, dict(resource_ids=[NODE2], items=False), ssm.client)

    assert run.rc == 0, run.result
    assert [entry["resource_id"] for entry in run.result["resource_compliance_summaries"]] == [NODE2]
    assert run.result["compliance_items"] == []


def test_bad_compliance_type_fails_before_any_call(run_module, ssm):
    run = run_module(module.main, dict(compliance_types=["Drift report"]), ssm.client)
    assert run.rc == 1 and "compliance_types" in run.result["msg"]
    run = run_module(module.main, dict(statuses=["BROKEN"]), ssm.client)
    assert run.rc == 1
    assert ssm.operations == []


def test_errors_are_typed(run_module, ssm):
    ssm.add_error("list_resource_compliance_summaries", "AccessDeniedException", "no")

    run = run_module(module.main, dict(), ssm.client)

    assert run.rc == 1
    assert run.result["error_code"] == "AccessDeniedException"
    assert run.result["iam_action"] == "ssm:ListResourceComplianceSummaries"
