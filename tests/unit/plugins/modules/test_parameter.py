# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json

import pytest

from ansible_collections.fleetops.ssm.plugins.module_utils import _tags
from ansible_collections.fleetops.ssm.plugins.module_utils import _parameters as ps
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import ParameterValidationError
from ansible_collections.fleetops.ssm.plugins.modules import parameter as module
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import CIPHERTEXT
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import history
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import parameter
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import policy_text

NAME = "/app/prod/db/host"
EXPIRY = [{"type": "Expiration", "timestamp": "2027-06-30T00:00:00Z", "before": None, "after": None, "unit": None}]


def params(**overrides):
    """module.params as AnsibleModule builds them: every option, defaults filled in."""
    result = dict(
        name=NAME,
        value=None,
        type=None,
        key_id=None,
        tier=None,
        data_type=None,
        allowed_pattern=None,
        description=None,
        policies=None,
        labels=None,
        tags=None,
        purge_tags=True,
        overwrite="changed",
        allow_secure_string_change=False,
        state="present",
    )
    result.update(overrides)
    return result


def existing(value="db1", version=3, **kwargs):
    return ps.current_from_history([history(NAME, value, version, **kwargs)], parameter(NAME, value, version))


def tags_request(**fields):
    return dict(ResourceType="Parameter", ResourceId=NAME, **fields)


class TestDescribe:
    def test_missing(self, ssm):
        ssm.get_history_missing(NAME)

        assert module.describe(ssm.client, NAME) == (None, None)
        assert ssm.operations == ["GetParameterHistory"]

    def test_existing(self, ssm):
        ssm.describe_existing([history(NAME, "db0", 1), history(NAME, "db1", 2, labels=["live"])], {"team": "a"})

        current, tags = module.describe(ssm.client, NAME)

        assert current["Value"] == "db1" and current["Version"] == 2 and current["Labels"] == ["live"]
        assert current["ARN"].endswith(":parameter/app/prod/db/host")
        assert tags == {"team": "a"}
        assert ssm.params("GetParameter") == [{"Name": NAME, "WithDecryption": False}]
        assert ssm.params("GetParameterHistory")[0]["WithDecryption"] is True


class TestEnsurePresent:
    def test_create(self, ssm):
        ssm.put({"Name": NAME, "Value": "db1", "Type": "String", "Tags": [{"Key": "team", "Value": "a"}]}, version=1)
        ssm.describe_existing([history(NAME, "db1", 1)], {"team": "a"})

        changed, final, tags, value_changed = module.ensure_present(
            ssm.client, None, None, params(value="db1", tags={"team": "a"}), check_mode=False
        )

        assert changed is True
        assert final["Version"] == 1 and final["Value"] == "db1"
        assert tags == {"team": "a"}
        assert value_changed is False
        # The tags went with PutParameter: no separate tagging call.
        assert ssm.operations == ["PutParameter", "GetParameterHistory", "GetParameter", "ListTagsForResource"]

    def test_create_in_check_mode_predicts_without_calls(self, ssm):
        changed, final, tags, _value_changed = module.ensure_present(
            ssm.client, None, None, params(value=["a", "b"], tags={"team": "a"}), check_mode=True
        )

        assert changed is True
        assert ssm.calls == []
        assert final["Version"] == 1
        assert final["Type"] == "StringList" and final["Value"] == "a,b" and final["Tier"] == "Standard"
        assert tags == {"team": "a"}

    def test_create_needs_a_value(self, ssm):
        with pytest.raises(ParameterValidationError, match="does not exist: set value to create it"):
            module.ensure_present(ssm.client, None, None, params(description="d"), check_mode=False)
        assert ssm.calls == []

    def test_idempotent_run_makes_no_call(self, ssm):
        current = existing(tier="Advanced", Description="Primary", labels=["live"])

        changed, final, tags, value_changed = module.ensure_present(
            ssm.client, current, {"team": "a"},
            params(value="db1", description="Primary", tier="Advanced", labels=["live"], tags={"team": "a"}),
            check_mode=False,
        )

        assert (changed, value_changed) == (False, False)
        assert final is current and tags == {"team": "a"}
        assert ssm.calls == []

    def test_update_resends_unset_attributes(self, ssm):
        current = existing(tier="Advanced", Description="Primary", AllowedPattern="^[a-z0-9.]+$",
                           policies=[policy_text("ExpirationNotification", Before="7", Unit="Days")])
        ssm.put(
            {
                "Name": NAME,
                "Value": "db2",
                "Type": "String",
                "DataType": "text",
                "AllowedPattern": "^[a-z0-9.]+$",
                "Description": "Primary",
                "Tier": "Advanced",
                "Policies": json.dumps([{"Type": "ExpirationNotification", "Version": "1.0",
                                         "Attributes": {"Before": "7", "Unit": "Days"}}]),
                "Overwrite": True,
            },
            version=4,
            tier="Advanced",
        )
        ssm.describe_existing([history(NAME, "db2", 4, tier="Advanced", Description="Primary")], {})

        changed, final, _tags, value_changed = module.ensure_present(ssm.client, current, {}, params(value="db2"), False)

        assert changed is True and value_changed is True
        assert final["Version"] == 4
        assert ssm.writes == ["PutParameter"]

    def test_update_of_a_description_keeps_the_secure_value_and_key(self, ssm):
        current = existing(value="s3cret", type="SecureString", KeyId="alias/app")
        ssm.put({"Name": NAME, "Value": "s3cret", "Type": "SecureString", "KeyId": "alias/app", "DataType": "text",
                 "Description": "new", "Tier": "Standard", "Overwrite": True}, version=4)
        ssm.describe_existing([history(NAME, "s3cret", 4, type="SecureString", Description="new")], {})

        changed, _final, _tags, value_changed = module.ensure_present(ssm.client, current, {}, params(description="new"), False)

        assert changed is True and value_changed is False

    def test_update_in_check_mode_predicts_the_next_version(self, ssm):
        current = existing(version=7, labels=["live"])

        changed, final, _tags, value_changed = module.ensure_present(ssm.client, current, {}, params(value="db2"), True)

        assert changed is True and value_changed is True
        assert ssm.calls == []
        assert final["Version"] == 8
        assert final["Value"] == "db2"
        assert final["Labels"] == []
        assert current["Version"] == 7 and current["Value"] == "db1"

    @pytest.mark.parametrize("before, after", [("String", "SecureString"), ("SecureString", "String")])
    def test_secure_string_change_is_refused_before_any_call(self, ssm, before, after):
        with pytest.raises(ParameterValidationError, match="allow_secure_string_change"):
            module.ensure_present(ssm.client, existing(type=before), {}, params(value="db1", type=after), False)
        assert ssm.calls == []

    def test_secure_string_change_when_allowed(self, ssm):
        ssm.put({"Name": NAME, "Value": "db1", "Type": "SecureString", "DataType": "text", "Tier": "Standard",
                 "Overwrite": True}, version=4)
        ssm.describe_existing([history(NAME, "db1", 4, type="SecureString")], {})

        changed, final, _tags, _value_changed = module.ensure_present(
            ssm.client, existing(), {}, params(value="db1", type="SecureString", allow_secure_string_change=True), False
        )

        assert changed is True and final["Type"] == "SecureString"

    def test_leaving_secure_string_in_check_mode_predicts_no_key(self, ssm):
        current = existing(value="s3cret", version=2, type="SecureString", KeyId="alias/app")

        changed, final, _tags, value_changed = module.ensure_present(
            ssm.client, current, {}, params(type="String", allow_secure_string_change=True), True
        )

        assert changed is True and value_changed is False
        assert ssm.calls == []
        assert final["Type"] == "String" and final["Version"] == 3
        assert "KeyId" not in final
        assert ps.describe_for_result(final)["key_id"] is None

    def test_key_id_without_a_type_on_a_string_is_refused_before_any_call(self, ssm):
        with pytest.raises(ParameterValidationError, match="is String: key_id applies only to type SecureString"):
            module.ensure_present(ssm.client, existing(), {}, params(value="db1", key_id="alias/k"), False)
        assert ssm.calls == []

    def test_key_id_without_a_type_on_a_secure_string_is_idempotent(self, ssm):
        current = existing(value="s3cret", type="SecureString", KeyId="alias/app")

        changed, final, _tags, _value_changed = module.ensure_present(
            ssm.client, current, {}, params(value="s3cret", key_id="alias/app"), False
        )

        assert changed is False and final is current
        assert ssm.calls == []

    def test_advanced_to_standard_is_refused_before_any_call(self, ssm):
        with pytest.raises(ParameterValidationError, match="cannot move it back to Standard"):
            module.ensure_present(ssm.client, existing(tier="Advanced"), {}, params(tier="Standard"), False)
        assert ssm.calls == []

    def test_large_value_in_standard_is_refused_with_a_hint(self, ssm):
        with pytest.raises(ParameterValidationError) as raised:
            module.ensure_present(ssm.client, None, None, params(value="x" * 5000), False)

        assert "5000 bytes, over the 4096-byte limit of the Standard tier" in str(raised.value)
        assert "tier: Advanced" in str(raised.value)
        assert ssm.calls == []

    def test_large_value_fits_an_existing_advanced_parameter(self, ssm):
        ssm.put({"Name": NAME, "Value": "x" * 5000, "Type": "String", "DataType": "text", "Tier": "Advanced",
                 "Overwrite": True}, version=4, tier="Advanced")
        ssm.describe_existing([history(NAME, "x" * 5000, 4, tier="Advanced")], {})

        changed, _final, _tags, _value_changed = module.ensure_present(
            ssm.client, existing(tier="Advanced"), {}, params(value="x" * 5000), False
        )
        assert changed is True

    def test_policies_on_standard_are_refused(self, ssm):
        with pytest.raises(ParameterValidationError, match="policies need tier Advanced or Intelligent-Tiering"):
            module.ensure_present(ssm.client, existing(), {}, params(policies=EXPIRY), False)
        assert ssm.calls == []

    def test_policies_in_another_format_are_not_a_change(self, ssm):
        current = existing(tier="Advanced", policies=[policy_text("Expiration", Timestamp="2027-06-30T00:00:00.000Z")])

        changed, _final, _tags, _value_changed = module.ensure_present(ssm.client, current, {}, params(policies=EXPIRY), False)

        assert changed is False
        assert ssm.calls == []

    def test_overwrite_never_leaves_the_value_but_manages_labels_and_tags(self, ssm):
        current = existing(version=3)
        ssm.add("label_parameter_version", {"ParameterVersion": 3},
                {"Name": NAME, "ParameterVersion": 3, "Labels": ["live"]})
        ssm.add("add_tags_to_resource", {}, tags_request(Tags=[{"Key": "team", "Value": "a"}]))
        ssm.describe_existing([history(NAME, "db1", 3, labels=["live"])], {"team": "a"})

        changed, final, tags, value_changed = module.ensure_present(
            ssm.client, current, {}, params(value="other", labels=["live"], tags={"team": "a"}, overwrite="never"), False
        )

        assert changed is True and value_changed is False
        assert "PutParameter" not in ssm.operations
        assert final["Value"] == "db1" and final["Labels"] == ["live"]
        assert tags == {"team": "a"}

    def test_overwrite_always_writes_an_unchanged_value(self, ssm):
        ssm.put({"Name": NAME, "Value": "db1", "Type": "String", "DataType": "text", "Tier": "Standard",
                 "Overwrite": True}, version=4)
        ssm.describe_existing([history(NAME, "db1", 4)], {})

        changed, final, _tags, value_changed = module.ensure_present(
            ssm.client, existing(), {}, params(value="db1", overwrite="always"), False
        )

        assert changed is True and value_changed is False
        assert final["Version"] == 4


class TestEnsureLabels:
    def test_only_missing_labels_are_added(self, ssm):
        state = existing(version=3, labels=["live"])
        ssm.add("label_parameter_version", {"ParameterVersion": 3},
                {"Name": NAME, "ParameterVersion": 3, "Labels": ["blue", "green"]})

        assert module.ensure_labels(ssm.client, NAME, state, ["live", "green", "blue"], False) is True
        assert state["Labels"] == ["blue", "green", "live"]

    def test_labels_present(self, ssm):
        assert module.ensure_labels(ssm.client, NAME, existing(labels=["live"]), ["live"], False) is False
        assert module.ensure_labels(ssm.client, NAME, existing(), None, False) is False
        assert ssm.calls == []

    def test_labels_move_to_the_new_version(self, ssm):
        # Version 3 holds "live"; the value changes, so version 4 must get it.
        current = existing(version=3, labels=["live"])
        ssm.put({"Name": NAME, "Value": "db2", "Type": "String", "DataType": "text", "Tier": "Standard",
                 "Overwrite": True}, version=4)
        ssm.add("label_parameter_version", {"ParameterVersion": 4},
                {"Name": NAME, "ParameterVersion": 4, "Labels": ["live"]})
        ssm.describe_existing([history(NAME, "db1", 3), history(NAME, "db2", 4, labels=["live"])], {})

        changed, final, _tags, _value_changed = module.ensure_present(
            ssm.client, current, {}, params(value="db2", labels=["live"]), False
        )

        assert changed is True
        assert final["Version"] == 4 and final["Labels"] == ["live"]

    def test_labels_in_check_mode(self, ssm):
        state = existing(version=3)

        assert module.ensure_labels(ssm.client, NAME, state, ["live"], True) is True
        assert state["Labels"] == ["live"]
        assert ssm.calls == []

    def test_refused_labels(self, ssm):
        ssm.add("label_parameter_version", {"InvalidLabels": ["1bad"], "ParameterVersion": 3},
                {"Name": NAME, "ParameterVersion": 3, "Labels": ["1bad"]})

        with pytest.raises(ParameterValidationError, match="AWS refused the labels 1bad"):
            module.ensure_labels(ssm.client, NAME, existing(version=3), ["1bad"], False)


class TestEnsureTags:
    def test_purge(self, ssm):
        ssm.add("remove_tags_from_resource", {}, tags_request(TagKeys=["old"]))
        ssm.add("add_tags_to_resource", {}, tags_request(Tags=[{"Key": "team", "Value": "b"}]))

        changed, final = _tags.ensure_tags(ssm.client, "Parameter", NAME, {"team": "a", "old": "x"}, {"team": "b"}, True, False)

        assert changed is True and final == {"team": "b"}
        assert ssm.operations == ["RemoveTagsFromResource", "AddTagsToResource"]

    def test_no_purge_only_adds(self, ssm):
        ssm.add("add_tags_to_resource", {}, tags_request(Tags=[{"Key": "env", "Value": "prod"}]))

        changed, final = _tags.ensure_tags(ssm.client, "Parameter", NAME, {"team": "a"}, {"env": "prod"}, False, False)

        assert changed is True and final == {"team": "a", "env": "prod"}
        assert ssm.operations == ["AddTagsToResource"]

    @pytest.mark.parametrize("tags", [None, {"team": "a"}])
    def test_nothing_to_do(self, ssm, tags):
        assert _tags.ensure_tags(ssm.client, "Parameter", NAME, {"team": "a"}, tags, True, False) == (False, {"team": "a"})
        assert ssm.calls == []

    def test_check_mode(self, ssm):
        changed, final = _tags.ensure_tags(ssm.client, "Parameter", NAME, {"team": "a", "old": "x"}, {"team": "b"}, True, True)

        assert changed is True and final == {"team": "b"}
        assert ssm.calls == []


class TestEnsureAbsent:
    def test_missing(self, ssm):
        assert module.ensure_absent(ssm.client, None, False) is False
        assert ssm.calls == []

    def test_delete(self, ssm):
        ssm.add("delete_parameter", {}, {"Name": NAME})

        assert module.ensure_absent(ssm.client, existing(), False) is True
        assert ssm.operations == ["DeleteParameter"]

    def test_check_mode(self, ssm):
        assert module.ensure_absent(ssm.client, existing(), True) is True
        assert ssm.calls == []


class TestMain:
    def test_create_in_check_mode(self, ssm, run_module):
        ssm.get_history_missing(NAME)

        run = run_module(module.main, {"name": NAME, "value": "db1", "tags": {"team": "a"}, "_ansible_check_mode": True}, ssm.client)

        assert run.rc == 0
        assert run.result["changed"] is True
        assert run.result["parameter"]["version"] == 1
        assert run.result["parameter"]["tags"] == {"team": "a"}
        assert ssm.writes == []
        assert run.result["diff"]["before"] == {}

    def test_idempotent(self, ssm, run_module):
        ssm.describe_existing([history(NAME, "db1", 2, Description="Primary")], {"team": "a"})

        run = run_module(module.main, {"name": NAME, "value": "db1", "description": "Primary", "tags": {"team": "a"}}, ssm.client)

        assert run.rc == 0 and run.result["changed"] is False
        assert ssm.operations == ["GetParameterHistory", "GetParameter", "ListTagsForResource"]
        assert run.result["parameter"]["version"] == 2
        assert run.result["diff"]["before"] == run.result["diff"]["after"]

    def test_secure_string_diff_shows_only_a_mask(self, ssm, run_module):
        ssm.describe_existing([history(NAME, "old-s3cret-value", 2, type="SecureString")], {})
        ssm.put({"Name": NAME, "Value": "new-s3cret-value", "Type": "SecureString", "KeyId": "alias/aws/ssm",
                 "DataType": "text", "Tier": "Standard", "Overwrite": True}, version=3)
        ssm.describe_existing([history(NAME, "new-s3cret-value", 3, type="SecureString")], {})

        run = run_module(module.main, {"name": NAME, "value": "new-s3cret-value", "type": "SecureString",
                                       "_ansible_diff": True}, ssm.client)

        assert run.rc == 0 and run.result["changed"] is True
        assert run.result["diff"]["before"]["value"] == "********"
        assert run.result["diff"]["after"]["value"] == "******** (changed)"
        assert "s3cret" not in run.stdout
        assert CIPHERTEXT not in run.stdout
        assert "value" not in run.result["parameter"]

    def test_secure_string_unchanged_value_is_masked_too(self, ssm, run_module):
        ssm.describe_existing([history(NAME, "kept-s3cret", 2, type="SecureString")], {})
        ssm.put({"Name": NAME, "Value": "kept-s3cret", "Type": "SecureString", "KeyId": "alias/aws/ssm",
                 "DataType": "text", "Description": "now described", "Tier": "Standard", "Overwrite": True}, version=3)
        ssm.describe_existing([history(NAME, "kept-s3cret", 3, type="SecureString", Description="now described")], {})

        run = run_module(module.main, {"name": NAME, "description": "now described", "_ansible_diff": True}, ssm.client)

        assert run.rc == 0 and run.result["changed"] is True
        assert run.result["diff"]["after"]["value"] == "********"
        assert run.result["diff"]["after"]["description"] == "now described"
        assert "kept-s3cret" not in run.stdout

    def test_leaving_secure_string_keeps_the_former_secret_out_of_the_diff(self, ssm, run_module):
        ssm.describe_existing([history(NAME, "Former-s3cret", 2, type="SecureString")], {})
        ssm.put({"Name": NAME, "Value": "Former-s3cret", "Type": "String", "DataType": "text", "Tier": "Standard",
                 "Overwrite": True}, version=3)
        ssm.describe_existing([history(NAME, "Former-s3cret", 3)], {})

        run = run_module(module.main, {"name": NAME, "type": "String", "allow_secure_string_change": True,
                                       "_ansible_diff": True}, ssm.client)

        assert run.rc == 0 and run.result["changed"] is True
        assert run.result["diff"]["before"]["value"] == "********"
        assert run.result["diff"]["after"]["type"] == "String"
        assert "Former-s3cret" not in run.stdout

    def test_leaving_secure_string_in_check_mode_shows_no_key_in_the_diff(self, ssm, run_module):
        ssm.describe_existing([history(NAME, "Former-s3cret", 2, type="SecureString", KeyId="alias/app")], {})

        run = run_module(module.main, {"name": NAME, "type": "String", "allow_secure_string_change": True,
                                       "_ansible_diff": True, "_ansible_check_mode": True}, ssm.client)

        assert run.rc == 0 and run.result["changed"] is True
        assert ssm.writes == []
        assert run.result["diff"]["before"]["key_id"] == "alias/app"
        assert run.result["diff"]["after"]["type"] == "String"
        assert "key_id" not in run.result["diff"]["after"]
        assert run.result["parameter"]["key_id"] is None

    def test_key_id_on_an_existing_string_fails_without_a_write(self, ssm, run_module):
        ssm.describe_existing([history(NAME, "db1", 2)], {})

        run = run_module(module.main, {"name": NAME, "value": "db1", "key_id": "alias/k"}, ssm.client)

        assert run.rc == 1
        assert run.result["msg"] == f"Parameter {NAME} is String: key_id applies only to type SecureString (set type: SecureString)."
        assert ssm.writes == []

    def test_access_denied_names_the_iam_action(self, ssm, run_module):
        ssm.get_history_missing(NAME)
        ssm.add_error("put_parameter", "AccessDeniedException", "User is not authorized to perform: ssm:PutParameter")

        run = run_module(module.main, {"name": NAME, "value": "db1"}, ssm.client)

        assert run.rc == 1
        assert run.result["failed"] is True
        assert run.result["error_code"] == "AccessDeniedException"
        assert run.result["iam_action"] == "ssm:PutParameter"
        assert "the caller needs IAM permission for ssm:PutParameter" in run.result["msg"]

    def test_kms_denial_names_kms_decrypt(self, ssm, run_module):
        ssm.add_error("get_parameter_history", "AccessDeniedException",
                      "User is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:us-east-1:123456789012:key/k")

        run = run_module(module.main, {"name": NAME, "value": "db1"}, ssm.client)

        assert run.rc == 1
        assert run.result["iam_action"] == "kms:Decrypt"
        assert "kms:Decrypt" in run.result["msg"]

    @pytest.mark.parametrize("name", ["app/prod/x", "/aws/x", "/app/bad name"])
    def test_invalid_name_fails_before_any_call(self, ssm, run_module, name):
        run = run_module(module.main, {"name": name, "value": "db1"}, ssm.client)

        assert run.rc == 1
        assert "Invalid parameter name" in run.result["msg"]
        assert "error_code" not in run.result
        assert ssm.calls == []

    def test_refused_tier_change_makes_no_write(self, ssm, run_module):
        ssm.describe_existing([history(NAME, "db1", 2, tier="Advanced")], {})

        run = run_module(module.main, {"name": NAME, "tier": "Standard"}, ssm.client)

        assert run.rc == 1 and "cannot move it back to Standard" in run.result["msg"]
        assert ssm.writes == []

    def test_absent(self, ssm, run_module):
        ssm.describe_existing([history(NAME, "db1", 2)], {})
        ssm.add("delete_parameter", {}, {"Name": NAME})

        run = run_module(module.main, {"name": NAME, "state": "absent"}, ssm.client)

        assert run.rc == 0 and run.result["changed"] is True
        assert run.result["parameter"] == {}
        assert run.result["diff"]["after"] == {}
        assert ssm.writes == ["DeleteParameter"]

    def test_absent_when_missing(self, ssm, run_module):
        ssm.get_history_missing(NAME)

        run = run_module(module.main, {"name": NAME, "state": "absent"}, ssm.client)

        assert run.rc == 0 and run.result["changed"] is False
        assert ssm.operations == ["GetParameterHistory"]
