# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime
from unittest.mock import MagicMock

import pytest
from botocore.exceptions import ClientError

from ansible_collections.fleetops.ssm.plugins.module_utils import _compliance as cp
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError

NODE = "mi-0123456789abcdef0"
WHEN = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)


def client_error(code, operation):
    return ClientError({"Error": {"Code": code, "Message": f"{code} happened"}}, operation)


def paginating_client(method, result):
    client = MagicMock()
    client.get_paginator.return_value.paginate.return_value.build_full_result.return_value = result
    return client


def entry(item_id, status="COMPLIANT", **extra):
    return dict({"Id": item_id, "Severity": "UNSPECIFIED", "Status": status}, **extra)


class TestApiCalls:
    def test_put_sends_the_request(self):
        client = MagicMock()
        cp.put_compliance_items(client, {"ResourceId": NODE})
        client.put_compliance_items.assert_called_once_with(ResourceId=NODE)

    def test_put_error_is_typed_with_code_and_action(self):
        client = MagicMock()
        client.put_compliance_items.side_effect = client_error("InvalidResourceId", "PutComplianceItems")
        with pytest.raises(AnsibleSSMError) as raised:
            cp.put_compliance_items(client, {"ResourceId": NODE})
        assert raised.value.error_code == "InvalidResourceId"
        assert raised.value.iam_action == "ssm:PutComplianceItems"

    def test_access_denied_names_the_permission(self):
        client = MagicMock()
        client.put_compliance_items.side_effect = client_error("AccessDeniedException", "PutComplianceItems")
        with pytest.raises(AnsibleSSMError) as raised:
            cp.put_compliance_items(client, {})
        assert "the caller needs IAM permission for ssm:PutComplianceItems" in str(raised.value)

    def test_list_items_pages_one_resource(self):
        client = paginating_client("list_compliance_items", {"ComplianceItems": [entry("a")]})
        assert cp.list_compliance_items(client, NODE, None, [{"Key": "Status"}]) == [entry("a")]
        client.get_paginator.assert_called_once_with("list_compliance_items")
        client.get_paginator.return_value.paginate.assert_called_once_with(
            ResourceIds=[NODE], ResourceTypes=["ManagedInstance"], Filters=[{"Key": "Status"}],
            PaginationConfig={"PageSize": 50})

    def test_list_items_of_an_unknown_resource_is_empty(self):
        client = MagicMock()
        client.get_paginator.return_value.paginate.return_value.build_full_result.side_effect = client_error(
            "InvalidResourceId", "ListComplianceItems")
        assert cp.list_compliance_items(client, NODE) == []

    def test_list_errors_other_than_missing_raise(self):
        client = MagicMock()
        client.get_paginator.return_value.paginate.return_value.build_full_result.side_effect = client_error(
            "InvalidFilter", "ListResourceComplianceSummaries")
        with pytest.raises(AnsibleSSMError) as raised:
            cp.list_resource_compliance_summaries(client, [])
        assert raised.value.error_code == "InvalidFilter"

    def test_summaries(self):
        client = paginating_client("x", {"ComplianceSummaryItems": [{"ComplianceType": "Custom:Drift"}]})
        assert cp.list_compliance_summaries(client) == [{"ComplianceType": "Custom:Drift"}]
        client = paginating_client("x", {"ResourceComplianceSummaryItems": [{"ResourceId": NODE}]})
        assert cp.list_resource_compliance_summaries(client) == [{"ResourceId": NODE}]


class TestValidation:
    @pytest.mark.parametrize("name", ["Custom:Drift", "Custom:my_type", "Custom:-x1", "Patch", "Association",
                                      "Custom:" + "x" * 93])
    def test_good_compliance_types(self, name):
        cp.validate_compliance_type(name)

    @pytest.mark.parametrize("name", ["", "Custom:", "Custom:x", "Custom:my-type", "custom drift", "Custom:Dr:ift",
                                      "Custom:" + "x" * 94])
    def test_bad_compliance_types(self, name):
        with pytest.raises(cp.ComplianceValidationError) as raised:
            cp.validate_compliance_type(name)
        assert "Custom:Drift" in str(raised.value)

    def test_resource(self):
        cp.validate_resource(NODE, "ManagedInstance")
        with pytest.raises(cp.ComplianceValidationError, match="resource_id must have 1 to 100"):
            cp.validate_resource("i" * 101, "ManagedInstance")
        with pytest.raises(cp.ComplianceValidationError, match="resource_type"):
            cp.validate_resource(NODE, "")

    def test_items_become_entries(self):
        entries = cp.desired_items([
            {"id": "a", "title": "A", "severity": "HIGH", "status": "NON_COMPLIANT",
             "details": {"diff": "+x", "count": 3, "ok": False, "list": [1, 2], "none": None}},
            {"id": None, "title": None, "severity": None, "status": "COMPLIANT", "details": None},
        ], "COMPLETE")
        assert entries == [
            {"Id": "a", "Title": "A", "Severity": "HIGH", "Status": "NON_COMPLIANT",
             "Details": {"diff": "+x", "count": "3", "ok": "false", "list": "[1, 2]", "none": ""}},
            {"Severity": "UNSPECIFIED", "Status": "COMPLIANT"},
        ]

    @pytest.mark.parametrize("items,upload,fragment", [
        ([{"id": "a", "status": "COMPLIANT"}, {"id": "a", "status": "COMPLIANT"}], "COMPLETE", "more than once"),
        ([{"status": "COMPLIANT"}], "PARTIAL", "PARTIAL upload replaces items by their id"),
        ([{"id": "a", "title": "t" * 501, "status": "COMPLIANT"}], "COMPLETE", "at most 500"),
        ([{"id": "a", "status": "COMPLIANT", "details": {"k" * 65: "v"}}], "COMPLETE", "1 to 64 characters"),
        ([{"id": "a", "status": "COMPLIANT", "details": {"k": "v" * 4097}}], "COMPLETE", "at most 4096"),
        ([{"status": "COMPLIANT"}] * 10001, "COMPLETE", "at most 10000"),
    ])
    def test_bad_items(self, items, upload, fragment):
        with pytest.raises(cp.ComplianceValidationError) as raised:
            cp.desired_items(items, upload)
        assert fragment in str(raised.value)

    def test_parse_time(self):
        assert cp.parse_time("2026-01-02T03:04:05Z") == WHEN
        assert cp.parse_time("2026-01-02T03:04:05") == WHEN
        assert cp.parse_time("2026-01-02T04:04:05+01:00") == WHEN
        with pytest.raises(cp.ComplianceValidationError, match="not an ISO 8601"):
            cp.parse_time("yesterday")

    def test_execution_summary(self):
        assert cp.execution_summary(None, now=WHEN) == {"ExecutionTime": WHEN}
        assert cp.execution_summary({"execution_time": "2026-01-02T03:04:05Z", "execution_id": "run-1",
                                     "execution_type": None}) == {"ExecutionTime": WHEN, "ExecutionId": "run-1"}
        with pytest.raises(cp.ComplianceValidationError, match="execution_type has 51 characters"):
            cp.execution_summary({"execution_type": "x" * 51})

    def test_put_request(self):
        request = cp.put_request(NODE, "ManagedInstance", "Custom:Drift", {"ExecutionTime": WHEN}, [], "COMPLETE")
        assert "UploadType" not in request and request["Items"] == []
        assert cp.put_request(NODE, "ManagedInstance", "Custom:Drift", {}, [], "PARTIAL")["UploadType"] == "PARTIAL"

    def test_status_filters(self):
        assert cp.status_filters(["Custom:Drift", "Custom:Drift"], ["COMPLIANT"]) == [
            {"Key": "ComplianceType", "Values": ["Custom:Drift"], "Type": "EQUAL"},
            {"Key": "Status", "Values": ["COMPLIANT"], "Type": "EQUAL"}]
        assert cp.status_filters() == []
        with pytest.raises(cp.ComplianceValidationError, match="At most 20"):
            cp.status_filters([f"Custom:T{n}" for n in range(21)])


class TestComparison:
    def test_same_items_ignores_order_and_execution_summary(self):
        current = [entry("b", ExecutionSummary={"ExecutionTime": WHEN}), entry("a", Title="")]
        assert cp.same_items(current, [entry("a"), entry("b")])
        assert not cp.same_items(current, [entry("a"), entry("b", "NON_COMPLIANT")])
        assert not cp.same_items(current, [entry("a")])
        assert not cp.same_items([entry("a", Details={"x": "1"})], [entry("a", Details={"x": "2"})])
        assert cp.same_items([], [])

    def test_merged_items(self):
        current = [entry("a"), entry("b")]
        assert cp.merged_items(current, [entry("c")], "COMPLETE") == [entry("c")]
        assert cp.merged_items(current, [entry("b", "NON_COMPLIANT"), entry("c")], "PARTIAL") == [
            entry("a"), entry("b", "NON_COMPLIANT"), entry("c")]

    def test_predict(self):
        assert cp.predict([entry("a")], {"ExecutionTime": WHEN}) == [entry("a", ExecutionSummary={"ExecutionTime": WHEN})]


class TestOutput:
    def test_compliance_to_ansible(self):
        items = [
            entry("b", "NON_COMPLIANT", Title="B", Details={"DocumentName": "x"}, ComplianceType="Custom:Drift",
                  ExecutionSummary={"ExecutionTime": WHEN, "ExecutionType": "Ansible"}),
            entry("a", ExecutionSummary={"ExecutionTime": WHEN}),
        ]
        result = cp.compliance_to_ansible(NODE, "ManagedInstance", "Custom:Drift", items)
        assert result["status"] == "NON_COMPLIANT"
        assert result["compliant_count"] == 1 and result["non_compliant_count"] == 1
        assert [item["id"] for item in result["items"]] == ["a", "b"]
        assert result["items"][1]["details"] == {"DocumentName": "x"}  # detail keys are kept as they are
        assert "compliance_type" not in result["items"][1]
        assert result["items"][1]["execution_summary"] == {
            "execution_time": "2026-01-02T03:04:05+00:00", "execution_id": None, "execution_type": "Ansible"}
        assert result["execution_summary"]["execution_time"] == "2026-01-02T03:04:05+00:00"

    def test_no_items(self):
        result = cp.compliance_to_ansible(NODE, "ManagedInstance", "Custom:Drift", [])
        assert result["status"] is None and result["items"] == [] and result["execution_summary"] is None
        assert cp.compliance_for_diff(result) == {"status": None, "items": []}

    def test_diff_leaves_out_execution_summaries(self):
        result = cp.compliance_to_ansible(NODE, "ManagedInstance", "Custom:Drift",
                                          [entry("a", ExecutionSummary={"ExecutionTime": WHEN})])
        assert cp.compliance_for_diff(result) == {"status": "COMPLIANT", "items": [
            {"id": "a", "title": None, "severity": "UNSPECIFIED", "status": "COMPLIANT", "details": {}}]}

    def test_item_of_a_listing_keeps_its_resource(self):
        item = cp.item_to_ansible(entry("a", ComplianceType="Patch", ResourceType="ManagedInstance", ResourceId=NODE))
        assert (item["compliance_type"], item["resource_type"], item["resource_id"]) == ("Patch", "ManagedInstance", NODE)

    def test_summary_to_ansible(self):
        result = cp.summary_to_ansible({
            "ComplianceType": "Custom:Drift", "ResourceId": NODE, "OverallSeverity": "HIGH",
            "ExecutionSummary": {"ExecutionTime": WHEN},
            "CompliantSummary": {"CompliantCount": 1, "SeveritySummary": {"HighCount": 1}}})
        assert result == {
            "compliance_type": "Custom:Drift", "resource_id": NODE, "overall_severity": "HIGH",
            "compliant_summary": {"compliant_count": 1, "severity_summary": {"high_count": 1}},
            "execution_summary": {"execution_time": "2026-01-02T03:04:05+00:00", "execution_id": None,
                                  "execution_type": None}}
