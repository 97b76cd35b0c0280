# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from botocore.stub import ANY

from ansible_collections.fleetops.ssm.plugins.modules import compliance as module
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import WHEN

NODE = "mi-0123456789abcdef0"
TYPE = "Custom:Drift"
TIME = "2026-01-02T03:04:05Z"
LIST_REQUEST = {"ResourceIds": [NODE], "ResourceTypes": ["ManagedInstance"], "MaxResults": 50,
                "Filters": [{"Key": "ComplianceType", "Values": [TYPE], "Type": "EQUAL"}]}


def listed(item_id, status="COMPLIANT", compliance_type=TYPE, **extra):
    return dict({"ComplianceType": compliance_type, "ResourceType": "ManagedInstance", "ResourceId": NODE,
                 "Id": item_id, "Title": f"title {item_id}", "Severity": "UNSPECIFIED", "Status": status,
                 "ExecutionSummary": {"ExecutionTime": WHEN, "ExecutionType": "Ansible"}}, **extra)


def args(**overrides):
    result = dict(resource_id=NODE, compliance_type=TYPE,
                  execution_summary=dict(execution_time=TIME, execution_type="Ansible"),
                  items=[dict(id="a", title="title a", status="COMPLIANT"),
                         dict(id="b", title="title b", status="NON_COMPLIANT", severity="HIGH",
                              details={"diff": "+x"})])
    result.update(overrides)
    return result


def put_request(items, **extra):
    return dict({"ResourceId": NODE, "ResourceType": "ManagedInstance", "ComplianceType": TYPE,
                 "ExecutionSummary": {"ExecutionTime": WHEN, "ExecutionType": "Ansible"}, "Items": items}, **extra)


WANTED = [{"Id": "a", "Title": "title a", "Severity": "UNSPECIFIED", "Status": "COMPLIANT"},
          {"Id": "b", "Title": "title b", "Severity": "HIGH", "Status": "NON_COMPLIANT", "Details": {"diff": "+x"}}]
HELD = [listed("a"), listed("b", "NON_COMPLIANT", Severity="HIGH", Details={"diff": "+x"})]


class TestPresent:
    def test_first_report(self, run_module, ssm):
        ssm.add("list_compliance_items", {"ComplianceItems": []}, LIST_REQUEST)
        ssm.add("put_compliance_items", {}, put_request(WANTED))
        ssm.add("list_compliance_items", {"ComplianceItems": HELD}, LIST_REQUEST)

        run = run_module(module.main, args(), ssm.client)

        assert run.rc == 0, run.result
        assert run.result["changed"] is True
        compliance = run.result["compliance"]
        assert compliance["status"] == "NON_COMPLIANT"
        assert compliance["compliant_count"] == 1 and compliance["non_compliant_count"] == 1
        assert [item["id"] for item in compliance["items"]] == ["a", "b"]
        assert compliance["items"][1]["details"] == {"diff": "+x"}
        assert compliance["execution_summary"]["execution_type"] == "Ansible"
        assert run.result["diff"]["before"] == {"status": None, "items": []}
        assert run.result["diff"]["after"]["status"] == "NON_COMPLIANT"

    def test_same_items_in_another_order_change_nothing(self, run_module, ssm):
        ssm.add("list_compliance_items", {"ComplianceItems": list(reversed(HELD))}, LIST_REQUEST)

        run = run_module(module.main, args(execution_summary=dict(execution_time="2027-01-01T00:00:00Z")), ssm.client)

        assert run.rc == 0, run.result
        assert run.result["changed"] is False
        assert ssm.operations == ["ListComplianceItems"]
        assert run.result["compliance"]["non_compliant_count"] == 1

    def test_full_replace_drops_unlisted_items(self, run_module, ssm):
        ssm.add("list_compliance_items", {"ComplianceItems": HELD + [listed("c")]}, LIST_REQUEST)
        ssm.add("put_compliance_items", {}, put_request(WANTED))
        ssm.add("list_compliance_items", {"ComplianceItems": HELD}, LIST_REQUEST)

        run = run_module(module.main, args(), ssm.client)

        assert run.result["changed"] is True
        assert [item["id"] for item in run.result["diff"]["before"]["items"]] == ["a", "b", "c"]
        assert [item["id"] for item in run.result["diff"]["after"]["items"]] == ["a", "b"]

    def test_check_mode_predicts_without_writing(self, run_module, ssm):
        ssm.add("list_compliance_items", {"ComplianceItems": [listed("a")]}, LIST_REQUEST)

        run = run_module(module.main, args(_ansible_check_mode=True), ssm.client)

        assert run.rc == 0, run.result
        assert run.result["changed"] is True
        assert ssm.operations == ["ListComplianceItems"]
        predicted = run.result["compliance"]["items"]
        assert [(item["id"], item["status"]) for item in predicted] == [("a", "COMPLIANT"), ("b", "NON_COMPLIANT")]
        assert predicted[0]["execution_summary"]["execution_time"] == "2026-01-02T03:04:05+00:00"

    def test_partial_keeps_other_items(self, run_module, ssm):
        ssm.add("list_compliance_items", {"ComplianceItems": [listed("a"), listed("z")]}, LIST_REQUEST)
        ssm.add("put_compliance_items", {}, put_request([WANTED[1]], UploadType="PARTIAL"))
        ssm.add("list_compliance_items", {"ComplianceItems": [listed("a"), listed("z")] + HELD[1:]}, LIST_REQUEST)

        run = run_module(module.main, args(items=[args()["items"][1]], upload_type="PARTIAL"), ssm.client)

        assert run.result["changed"] is True
        assert [item["id"] for item in run.result["compliance"]["items"]] == ["a", "b", "z"]

    def test_partial_already_there(self, run_module, ssm):
        ssm.add("list_compliance_items", {"ComplianceItems": HELD + [listed("z")]}, LIST_REQUEST)

        run = run_module(module.main, args(items=[args()["items"][0]], upload_type="PARTIAL"), ssm.client)

        assert run.result["changed"] is False

    def test_execution_time_defaults_to_now(self, run_module, ssm):
        ssm.add("list_compliance_items", {"ComplianceItems": []}, LIST_REQUEST)
        ssm.add("put_compliance_items", {}, dict(put_request(WANTED), ExecutionSummary=ANY))
        ssm.add("list_compliance_items", {"ComplianceItems": HELD}, LIST_REQUEST)

        run = run_module(module.main, args(execution_summary=None), ssm.client)

        assert run.rc == 0, run.result
        summary = ssm.params("PutComplianceItems")[0]["ExecutionSummary"]
        assert set(summary) == {"ExecutionTime"} and summary["ExecutionTime"].tzinfo is not None

    def test_other_compliance_types_are_ignored(self, run_module, ssm):
        ssm.add("list_compliance_items", {"ComplianceItems": HELD + [listed("p", compliance_type="Patch")]},
                LIST_REQUEST)

        run = run_module(module.main, args(), ssm.client)

        assert run.result["changed"] is False

    def test_empty_list_clears(self, run_module, ssm):
        ssm.add("list_compliance_items", {"ComplianceItems": HELD}, LIST_REQUEST)
        ssm.add("put_compliance_items", {}, put_request([]))
        ssm.add("list_compliance_items", {"ComplianceItems": []}, LIST_REQUEST)

        run = run_module(module.main, args(items=[]), ssm.client)

        assert run.result["changed"] is True
        assert run.result["compliance"]["items"] == [] and run.result["compliance"]["status"] is None


class TestAbsent:
    def test_clears_the_type(self, run_module, ssm):
        ssm.add("list_compliance_items", {"ComplianceItems": HELD}, LIST_REQUEST)
        ssm.add("put_compliance_items", {}, put_request([]))

        run = run_module(module.main, args(state="absent", items=None), ssm.client)

        assert run.result["changed"] is True
        assert run.result["compliance"]["items"] == []
        assert len(run.result["diff"]["before"]["items"]) == 2

    def test_nothing_to_clear(self, run_module, ssm):
        ssm.add("list_compliance_items", {"ComplianceItems": []}, LIST_REQUEST)

        run = run_module(module.main, args(state="absent", items=None), ssm.client)

        assert run.result["changed"] is False
        assert ssm.writes == [] and "PutComplianceItems" not in ssm.operations

    def test_check_mode(self, run_module, ssm):
        ssm.add("list_compliance_items", {"ComplianceItems": HELD}, LIST_REQUEST)

        run = run_module(module.main, args(state="absent", items=None, _ansible_check_mode=True), ssm.client)

        assert run.result["changed"] is True
        assert ssm.operations == ["ListComplianceItems"]


class TestErrors:
    def test_bad_input_fails_before_any_call(self, run_module, ssm):
        for bad in (dict(compliance_type="Custom:my-drift"),
                    dict(items=[dict(id="a", status="COMPLIANT"), dict(id="a", status="NON_COMPLIANT")]),
                    dict(execution_summary=dict(execution_time="last tuesday")),
                    dict(items=[dict(status="COMPLIANT")], upload_type="PARTIAL")):
            run = run_module(module.main, args(**bad), ssm.client)
            assert run.rc == 1 and run.result["failed"] is True, bad
        assert ssm.operations == []

    def test_status_is_required_and_checked(self, run_module, ssm):
        run = run_module(module.main, args(items=[dict(id="a")]), ssm.client)
        assert run.rc == 1 and "status" in run.result["msg"]
        run = run_module(module.main, args(items=[dict(id="a", status="OK")]), ssm.client)
        assert run.rc == 1 and "COMPLIANT" in run.result["msg"]
        run = run_module(module.main, dict(resource_id=NODE, compliance_type=TYPE), ssm.client)
        assert run.rc == 1 and "items" in run.result["msg"]
        assert ssm.operations == []

    def test_unknown_node(self, run_module, ssm):
        ssm.add("list_compliance_items", {"ComplianceItems": []}, LIST_REQUEST)
        ssm.add_error("put_compliance_items", "InvalidResourceId")

        run = run_module(module.main, args(), ssm.client)

        assert run.rc == 1
        assert "must be a managed node" in run.result["msg"] and NODE in run.result["msg"]
        assert run.result["error_code"] == "InvalidResourceId"
        assert run.result["iam_action"] == "ssm:PutComplianceItems"

    def test_too_many_types(self, run_module, ssm):
        ssm.add("list_compliance_items", {"ComplianceItems": []}, LIST_REQUEST)
        ssm.add_error("put_compliance_items", "ComplianceTypeCountLimitExceededException", "maximum of 10")

        run = run_module(module.main, args(), ssm.client)

        assert run.rc == 1
        assert run.result["error_code"] == "ComplianceTypeCountLimitExceededException"
        assert "maximum of 10" in run.result["msg"]
