# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.fleetops.ssm.plugins.modules import command_info as module
from ansible_collections.fleetops.ssm.tests.unit.plugins.modules.test_command import COMMAND_ID
from ansible_collections.fleetops.ssm.tests.unit.plugins.modules.test_command import NODES
from ansible_collections.fleetops.ssm.tests.unit.plugins.modules.test_command import aws_command
from ansible_collections.fleetops.ssm.tests.unit.plugins.modules.test_command import aws_invocation

OTHER_ID = "99999999-2222-4333-8444-555555555555"


def args(**overrides):
    result = {"region": "us-east-1"}
    result.update(overrides)
    return result


class TestCommands:
    def test_every_command_newest_first_with_filters(self, ssm, run_module):
        filters = [{"key": "Status", "value": "Failed"}, {"key": "InvokedAfter", "value": "2026-01-01T00:00:00Z"}]
        ssm.add("list_commands", {"Commands": [aws_command("Failed")], "NextToken": "t"},
                {"Filters": filters, "MaxResults": 50})
        ssm.add("list_commands", {"Commands": [dict(aws_command("Failed"), CommandId=OTHER_ID)]},
                {"Filters": filters, "MaxResults": 50, "NextToken": "t"})
        run = run_module(module.main, args(filters={"Status": "Failed", "InvokedAfter": "2026-01-01T00:00:00Z"}), ssm.client)
        assert run.rc == 0, run.result
        assert [c["command_id"] for c in run.result["commands"]] == [COMMAND_ID, OTHER_ID]
        assert run.result["commands"][0]["parameters"] == {"commands": ["uname -a"]}
        assert "invocations" not in run.result and run.result["changed"] is False

    def test_limit(self, ssm, run_module):
        ssm.add("list_commands", {"Commands": [aws_command(), dict(aws_command(), CommandId=OTHER_ID)], "NextToken": "t"},
                {"MaxResults": 50})
        run = run_module(module.main, args(limit=1), ssm.client)
        assert [c["command_id"] for c in run.result["commands"]] == [COMMAND_ID]

    def test_one_command_with_the_output_of_every_node(self, ssm, run_module):
        ssm.add("list_commands", {"Commands": [aws_command()]}, {"CommandId": COMMAND_ID, "MaxResults": 50})
        ssm.add("list_command_invocations", {"CommandInvocations": [
            aws_invocation(NODES[0], "node-1", output="one\n"), aws_invocation(NODES[1], "node-2", "Failed", 3, output="x" * 2500)]},
            {"CommandId": COMMAND_ID, "Details": True, "MaxResults": 50})
        ssm.add("get_command_invocation", {"CommandId": COMMAND_ID, "InstanceId": NODES[1], "StandardOutputContent": "x" * 3000,
                                           "StandardErrorContent": "boom"},
                {"CommandId": COMMAND_ID, "InstanceId": NODES[1]})
        run = run_module(module.main, args(command_id=COMMAND_ID, invocations=True), ssm.client)
        assert run.rc == 0, run.result
        assert [(i["instance_id"], i["status"], len(i["stdout"]), i["stderr"]) for i in run.result["invocations"]] == [
            (NODES[0], "Success", 4, ""), (NODES[1], "Failed", 3000, "boom")]

    def test_a_node_without_output(self, ssm, run_module):
        ssm.add("list_commands", {"Commands": [aws_command()]}, {"InstanceId": NODES[0], "MaxResults": 50})
        ssm.add("list_command_invocations", {"CommandInvocations": [aws_invocation(NODES[0], "node-1", output="one\n")]},
                {"InstanceId": NODES[0], "Details": False, "MaxResults": 50})
        run = run_module(module.main, args(instance_id=NODES[0], invocations=True, output=False), ssm.client)
        assert run.rc == 0, run.result
        assert "stdout" not in run.result["invocations"][0] and run.result["invocations"][0]["computer_name"] == "node-1"

    def test_unknown_command(self, ssm, run_module):
        ssm.add_error("list_commands", "InvalidCommandId", "", {"CommandId": OTHER_ID, "MaxResults": 50})
        run = run_module(module.main, args(command_id=OTHER_ID, invocations=True), ssm.client)
        assert run.rc == 0 and run.result["commands"] == [] and run.result["invocations"] == []

    @pytest.mark.parametrize("overrides, text", [
        ({"command_id": "12"}, "command_id '12' is not a command id"),
        ({"instance_id": "web-1"}, "instance_id 'web-1' is not a managed node id"),
        ({"filters": {"Stat": "Failed"}}, "filters: unknown key 'Stat'"),
        ({"filters": {"ExecutionStage": "Complete"}, "invocations": True}, "ExecutionStage filters commands, not invocations"),
        ({"limit": -1}, "limit must be 0"),
    ])
    def test_bad_input_makes_no_call(self, ssm, run_module, overrides, text):
        run = run_module(module.main, args(**overrides), ssm.client)
        assert run.rc == 1 and text in run.result["msg"]
        assert ssm.operations == []

    def test_access_denied(self, ssm, run_module):
        ssm.add_error("list_commands", "AccessDeniedException", "no", {"MaxResults": 50})
        run = run_module(module.main, args(), ssm.client)
        assert run.rc == 1 and "ssm:ListCommands" in run.result["msg"]
