# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fleetops.ssm.plugins.module_utils._errors import ParameterValidationError
from ansible_collections.fleetops.ssm.plugins.modules import parameter_path as module
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import CIPHERTEXT
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import metadata
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import parameter
from ansible_collections.fleetops.ssm.tests.unit.utils.ssm_stub import policy_text

PATH = "/app/prod"
RECURSIVE = [{"Key": "Path", "Option": "Recursive", "Values": [PATH]}]


def params(parameters=None, **overrides):
    """module.params as AnsibleModule builds them: every option, defaults filled in."""
    result = dict(
        path=PATH,
        parameters=parameters,
        type=None,
        key_id=None,
        tier=None,
        tags=None,
        purge_tags=True,
        purge=False,
        allow_secure_string_change=False,
        state="present",
    )
    result.update(overrides)
    return result


def full(relative):
    return f"{PATH}/{relative}"


def tag_list(tags):
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def by_name(results):
    return {item["name"]: item for item in results}


class TestHelpers:
    def test_full_name(self):
        assert module.full_name("/app/prod", "db/host") == "/app/prod/db/host"
        assert module.full_name("/app/prod/", "db") == "/app/prod/db"
        assert module.full_name("/", "db") == "/db"
        assert module.full_name("/app", 42) == "/app/42"

    @pytest.mark.parametrize("relative", ["/db/host", "", "/", "//"])
    def test_full_name_refuses_absolute_or_empty_names(self, relative):
        with pytest.raises(ParameterValidationError, match="relative to path /app/prod"):
            module.full_name("/app/prod", relative)

    def test_entry_options_from_a_scalar_take_the_task_defaults(self):
        options = module.entry_options("/app/prod/x", "v", params(type="SecureString", tier="Advanced", key_id="alias/k"))

        assert options == {"value": "v", "type": "SecureString", "tier": "Advanced", "key_id": "alias/k"}

    def test_entry_options_keep_their_own_settings(self):
        entry = {"value": "v", "type": "String", "tier": "Standard", "tags": {"team": "b"}}

        options = module.entry_options("/app/prod/x", entry, params(type="SecureString", key_id="alias/k", tags={"env": "prod", "team": "a"}))

        assert options["type"] == "String" and options["tier"] == "Standard"
        assert options.get("key_id") is None
        assert options["tags"] == {"env": "prod", "team": "b"}

    def test_entry_options_without_any_tags(self):
        assert "tags" not in module.entry_options("/app/prod/x", "v", params())

    def test_entry_options_refuse_unknown_keys(self):
        with pytest.raises(ParameterValidationError, match="unknown keys colour, size"):
            module.entry_options("/app/prod/x", {"value": "v", "colour": "red", "size": 1}, params())

    def test_secure_values(self):
        task = params(
            {
                "own": {"value": "from-entry", "type": "SecureString"},
                "plain": "not-secret",
                "known": "known-secure",
                "listed": {"value": ["x", "y"], "type": "SecureString"},
                "unset": {"type": "SecureString"},
            }
        )

        # A list value is masked as AWS stores it (comma-joined) and element by element.
        assert sorted(module.secure_values(task, ["known"])) == ["from-entry", "known-secure", "x", "x,y", "y"]
        assert sorted(module.secure_values(params({"a": "one", "b": {"value": 2}}, type="SecureString"))) == ["2", "one"]
        assert list(module.secure_values(params())) == []

    def test_secure_values_of_a_secure_string_list_include_every_element(self):
        task = params({"tokens": {"value": ["Alpha1x", 42], "type": "SecureString"}, "plain": ["p1", "p2"]})

        assert list(module.secure_values(task)) == ["Alpha1x,42", "Alpha1x", "42"]


class TestIdempotency:
    def test_matching_tree_makes_no_write(self, ssm):
        ssm.by_path(PATH, [
            parameter(full("db/host"), "db1", 2),
            parameter(full("db/port"), "5432", 1),
            parameter(full("flags"), "a,b", 1, "StringList"),
            parameter(full("unlisted"), "left alone", 1),
        ])
        for name in ("db/host", "db/port", "flags"):
            ssm.list_tags(full(name), {"env": "prod"})

        results, before, after = module.ensure(
            ssm.client, params({"db/host": "db1", "db/port": 5432, "flags": ["a", "b"]}, tags={"env": "prod"}), False
        )

        assert ssm.writes == []
        assert ssm.operations == ["GetParametersByPath"] + ["ListTagsForResource"] * 3
        assert [(item["name"], item["action"], item["changes"]) for item in results] == [
            (full("db/host"), "unchanged", []),
            (full("db/port"), "unchanged", []),
            (full("flags"), "unchanged", []),
        ]
        assert by_name(results)[full("db/host")]["version"] == 2
        assert before == {} and after == {}

    def test_managed_metadata_is_read_once_and_compared(self, ssm):
        expiry = [{"type": "Expiration", "timestamp": "2027-06-30T00:00:00Z"}]
        ssm.by_path(PATH, [parameter(full("token"), "t", 1)])
        ssm.describe(RECURSIVE, [metadata(full("token"), tier="Advanced", Description="d",
                                          policies=[policy_text("Expiration", Timestamp="2027-06-30T00:00:00.000Z")])])

        results, _before, _after = module.ensure(
            ssm.client, params({"token": {"value": "t", "description": "d", "policies": expiry}}, tier="Advanced"), False
        )

        assert results[0]["action"] == "unchanged"
        assert ssm.operations == ["GetParametersByPath", "DescribeParameters"]

    def test_empty_tree_skips_the_metadata_read(self, ssm):
        ssm.by_path(PATH, [])
        ssm.put({"Name": full("a"), "Value": "1", "Type": "String", "Tier": "Advanced"}, version=1, tier="Advanced")

        results, _before, _after = module.ensure(ssm.client, params({"a": 1}, tier="Advanced"), False)

        assert results[0]["action"] == "created"
        assert ssm.operations == ["GetParametersByPath", "PutParameter"]


class TestWrites:
    def test_create_update_and_unchanged(self, ssm):
        ssm.by_path(PATH, [parameter(full("banner"), "hi", 1), parameter(full("db/host"), "db1", 2)])
        # The update needs the attributes the task leaves unset, to send them again.
        ssm.describe([{"Key": "Name", "Option": "Equals", "Values": [full("db/host")]}],
                     [metadata(full("db/host"), 2, tier="Advanced", Description="kept")])
        ssm.put({"Name": full("db/host"), "Value": "db2", "Type": "String", "DataType": "text", "Description": "kept",
                 "Tier": "Advanced", "Overwrite": True}, version=3, tier="Advanced")
        ssm.put({"Name": full("new/key"), "Value": "n", "Type": "String"}, version=1)

        results, before, after = module.ensure(
            ssm.client, params({"banner": "hi", "db/host": "db2", "new/key": "n"}), False
        )

        assert [(item["name"], item["action"], item["changes"], item["version"]) for item in results] == [
            (full("banner"), "unchanged", [], 1),
            (full("db/host"), "updated", ["Value"], 3),
            (full("new/key"), "created", [], 1),
        ]
        assert ssm.writes == ["PutParameter", "PutParameter"]
        assert before[full("db/host")]["value"] == "db1" and after[full("db/host")]["value"] == "db2"
        assert before[full("new/key")] == {}
        assert full("banner") not in after

    def test_new_parameters_get_their_tags_with_the_write(self, ssm):
        ssm.by_path(PATH, [])
        ssm.put({"Name": full("a"), "Value": "1", "Type": "String",
                 "Tags": tag_list({"env": "prod", "team": "b"})}, version=1)

        module.ensure(ssm.client, params({"a": {"value": "1", "tags": {"team": "b"}}}, tags={"env": "prod"}), False)

        assert ssm.writes == ["PutParameter"]

    def test_tags_only_change_makes_no_put(self, ssm):
        ssm.by_path(PATH, [parameter(full("a"), "1", 4)])
        ssm.list_tags(full("a"), {"env": "prod", "old": "x"})
        ssm.add("remove_tags_from_resource", {}, {"ResourceType": "Parameter", "ResourceId": full("a"), "TagKeys": ["old"]})
        ssm.add("add_tags_to_resource", {}, {"ResourceType": "Parameter", "ResourceId": full("a"),
                                             "Tags": tag_list({"team": "b"})})

        results, _before, _after = module.ensure(ssm.client, params({"a": {"value": "1", "tags": {"team": "b"}}}, tags={"env": "prod"}), False)

        assert results == [{"name": full("a"), "action": "updated", "changes": ["Tags"], "type": "String", "version": 4}]
        assert ssm.writes == ["RemoveTagsFromResource", "AddTagsToResource"]
        # Nothing is sent again with PutParameter, so the unset attributes need not be read.
        assert ssm.operations == ["GetParametersByPath", "ListTagsForResource", "RemoveTagsFromResource", "AddTagsToResource"]

    def test_only_entries_with_more_than_a_tag_change_read_their_metadata(self, ssm):
        ssm.by_path(PATH, [parameter(full("a"), "1", 4), parameter(full("b"), "2", 1)])
        ssm.list_tags(full("a"), {"old": "x"})
        ssm.list_tags(full("b"), {"team": "b"})
        ssm.describe([{"Key": "Name", "Option": "Equals", "Values": [full("b")]}], [metadata(full("b"), 1, Description="kept")])
        ssm.add("remove_tags_from_resource", {}, {"ResourceType": "Parameter", "ResourceId": full("a"), "TagKeys": ["old"]})
        ssm.add("add_tags_to_resource", {}, {"ResourceType": "Parameter", "ResourceId": full("a"),
                                             "Tags": tag_list({"team": "b"})})
        ssm.put({"Name": full("b"), "Value": "3", "Type": "String", "DataType": "text", "Description": "kept",
                 "Tier": "Standard", "Overwrite": True}, version=2)

        results, _before, _after = module.ensure(ssm.client, params({"a": "1", "b": "3"}, tags={"team": "b"}), False)

        assert [(item["name"], item["changes"]) for item in results] == [(full("a"), ["Tags"]), (full("b"), ["Value"])]
        assert ssm.params("DescribeParameters") == [
            {"ParameterFilters": [{"Key": "Name", "Option": "Equals", "Values": [full("b")]}], "MaxResults": 50}
        ]
        assert ssm.writes == ["RemoveTagsFromResource", "AddTagsToResource", "PutParameter"]

    def test_new_entry_without_a_value_is_refused_before_any_write(self, ssm):
        ssm.by_path(PATH, [parameter(full("kept"), "k")])
        ssm.describe(RECURSIVE, [metadata(full("kept"))])

        # An existing parameter needs no value to be updated; a new one does.
        with pytest.raises(ParameterValidationError, match="/app/prod/x does not exist: set its value to create it"):
            module.ensure(ssm.client, params({"a": "1", "kept": {"description": "d"}, "x": {"description": "d"}}), False)
        assert ssm.operations == ["GetParametersByPath", "DescribeParameters"]

    def test_key_id_on_an_existing_string_is_refused_before_any_write(self, ssm):
        ssm.by_path(PATH, [parameter(full("a"), "1"), parameter(full("b"), "2")])
        ssm.describe(RECURSIVE, [metadata(full("a")), metadata(full("b"))])

        with pytest.raises(ParameterValidationError, match="/app/prod/b is String: key_id applies only to type SecureString"):
            module.ensure(ssm.client, params({"a": "changed", "b": {"value": "2", "key_id": "alias/k"}}), False)
        assert ssm.writes == []

    def test_tags_without_purge_only_add(self, ssm):
        ssm.by_path(PATH, [parameter(full("a"), "1")])
        ssm.list_tags(full("a"), {"env": "prod", "old": "x"})

        results, _before, _after = module.ensure(ssm.client, params({"a": "1"}, tags={"env": "prod"}, purge_tags=False), False)

        assert results[0]["action"] == "unchanged"
        assert ssm.writes == []

    def test_type_change_to_secure_string_is_refused_before_any_write(self, ssm):
        ssm.by_path(PATH, [parameter(full("a"), "1")])

        with pytest.raises(ParameterValidationError, match="allow_secure_string_change"):
            module.ensure(ssm.client, params({"a": "1", "b": "2"}, type="SecureString"), False)
        assert ssm.writes == []

    def test_type_change_from_secure_string_is_refused(self, ssm):
        ssm.by_path(PATH, [parameter(full("a"), "1", type="SecureString")])

        with pytest.raises(ParameterValidationError, match="is SecureString; changing it to String"):
            module.ensure(ssm.client, params({"a": {"value": "1", "type": "String"}}), False)
        assert ssm.writes == []

    def test_advanced_to_standard_is_refused_before_any_write(self, ssm):
        ssm.by_path(PATH, [parameter(full("a"), "1"), parameter(full("b"), "2")])
        ssm.describe(RECURSIVE, [metadata(full("a")), metadata(full("b"), tier="Advanced")])

        with pytest.raises(ParameterValidationError, match="/app/prod/b is in the Advanced tier"):
            module.ensure(ssm.client, params({"a": "changed", "b": "2"}, tier="Standard"), False)
        assert ssm.writes == []

    def test_large_value_reads_the_tier_and_is_refused_in_standard(self, ssm):
        ssm.by_path(PATH, [parameter(full("blob"), "small")])
        ssm.describe(RECURSIVE, [metadata(full("blob"))])

        with pytest.raises(ParameterValidationError, match="over the 4096-byte limit of the Standard tier.*tier: Advanced"):
            module.ensure(ssm.client, params({"blob": "x" * 4097}), False)
        assert ssm.writes == []

    def test_large_value_fits_an_advanced_parameter(self, ssm):
        ssm.by_path(PATH, [parameter(full("blob"), "small")])
        ssm.describe(RECURSIVE, [metadata(full("blob"), tier="Advanced")])
        ssm.put({"Name": full("blob"), "Value": "x" * 4097, "Type": "String", "DataType": "text", "Tier": "Advanced",
                 "Overwrite": True}, version=2, tier="Advanced")

        results, _before, _after = module.ensure(ssm.client, params({"blob": "x" * 4097}), False)

        assert results[0]["action"] == "updated"

    def test_secure_string_keeps_its_key_on_update(self, ssm):
        ssm.by_path(PATH, [parameter(full("pw"), "old-pw", 1, "SecureString")])
        ssm.describe([{"Key": "Name", "Option": "Equals", "Values": [full("pw")]}],
                     [metadata(full("pw"), 1, "SecureString", KeyId="alias/app")])
        ssm.put({"Name": full("pw"), "Value": "new-pw", "Type": "SecureString", "KeyId": "alias/app", "DataType": "text",
                 "Tier": "Standard", "Overwrite": True}, version=2)

        results, before, after = module.ensure(ssm.client, params({"pw": "new-pw"}), False)

        assert results[0]["type"] == "SecureString"
        assert before[full("pw")]["value"] == "********"
        assert after[full("pw")]["value"] == "******** (changed)"


class TestValidationBeforeAnyCall:
    @pytest.mark.parametrize(
        "parameters, message",
        [
            ({"good": "x", "/abs": "y"}, "may not start with '/'"),
            ({"good": "x", "list": ["a", "b,c"]}, "StringList element 'b,c' contains a comma"),
            ({"good": "x", "empty": ""}, "AWS does not store an empty value"),
            ({"good": "x", "bad name": "y"}, "Invalid parameter name"),
            ({"good": "x", "odd": {"value": "y", "colour": "red"}}, "unknown keys colour"),
            ({"good": "x", "exp": {"value": "y", "policies": [{"type": "Expiration"}]}}, "needs timestamp"),
            ({"/".join(["l"] * 15): "deep"}, "hierarchy levels, AWS allows 15"),
        ],
    )
    def test_bad_entry(self, ssm, parameters, message):
        with pytest.raises(ParameterValidationError, match=message):
            module.ensure(ssm.client, params(parameters), False)
        assert ssm.calls == []

    @pytest.mark.parametrize("path", ["app/prod", "/aws/prod", ""])
    def test_bad_path(self, ssm, path):
        with pytest.raises(ParameterValidationError):
            module.ensure(ssm.client, params({"a": "1"}, path=path), False)
        assert ssm.calls == []


class TestCheckMode:
    def test_predicts_without_writing(self, ssm):
        ssm.by_path(PATH, [parameter(full("a"), "1", 5), parameter(full("stale"), "x", 1)])
        ssm.describe([{"Key": "Name", "Option": "Equals", "Values": [full("a")]}], [metadata(full("a"), 5)])

        results, before, after = module.ensure(ssm.client, params({"a": "2", "b": "3"}, purge=True), True)

        assert ssm.writes == []
        assert [(item["name"], item["action"], item.get("version")) for item in results] == [
            (full("a"), "updated", 6),
            (full("b"), "created", 1),
            (full("stale"), "deleted", None),
        ]
        assert before[full("stale")]["value"] == "x"
        assert full("stale") not in after


class TestDeletion:
    def test_purge_deletes_in_batches_of_ten(self, ssm):
        stale = [full(f"old/{index:02d}") for index in range(23)]
        ssm.by_path(PATH, [parameter(full("keep"), "k")] + [parameter(name, "x") for name in stale])
        for start in (0, 10, 20):
            ssm.add("delete_parameters", {"DeletedParameters": stale[start:start + 10]}, {"Names": stale[start:start + 10]})

        results, before, _after = module.ensure(ssm.client, params({"keep": "k"}, purge=True), False)

        assert [len(p["Names"]) for p in ssm.params("DeleteParameters")] == [10, 10, 3]
        assert ssm.writes == ["DeleteParameters"] * 3
        assert [item["name"] for item in results] == [full("keep")] + stale
        assert {item["action"] for item in results if item["name"] != full("keep")} == {"deleted"}
        assert sorted(before) == stale

    def test_without_purge_unlisted_parameters_stay(self, ssm):
        ssm.by_path(PATH, [parameter(full("keep"), "k"), parameter(full("other"), "o")])

        results, _before, _after = module.ensure(ssm.client, params({"keep": "k"}), False)

        assert [item["name"] for item in results] == [full("keep")]
        assert ssm.writes == []

    def test_absent_deletes_the_whole_tree(self, ssm):
        names = [full(f"n{index:02d}") for index in range(12)]
        ssm.by_path(PATH, [parameter(name, "x") for name in names], decrypt=False)
        ssm.add("delete_parameters", {"DeletedParameters": names[:10]}, {"Names": names[:10]})
        ssm.add("delete_parameters", {"DeletedParameters": names[10:]}, {"Names": names[10:]})

        results, before, after = module.ensure(ssm.client, params(state="absent"), False)

        assert [item["action"] for item in results] == ["deleted"] * 12
        assert sorted(before) == names and after == {}

    def test_absent_deletes_only_listed_parameters_that_exist(self, ssm):
        ssm.by_path(PATH, [parameter(full("a"), "1"), parameter(full("b"), "2")], decrypt=False)
        ssm.add("delete_parameters", {"DeletedParameters": [full("a")]}, {"Names": [full("a")]})

        results, _before, _after = module.ensure(ssm.client, params({"a": None, "missing": None}, state="absent"), False)

        assert results == [{"name": full("a"), "action": "deleted", "changes": []}]

    def test_absent_of_nothing(self, ssm):
        ssm.by_path(PATH, [], decrypt=False)

        results, _before, _after = module.ensure(ssm.client, params(state="absent"), False)

        assert results == [] and ssm.writes == []

    def test_absent_in_check_mode(self, ssm):
        ssm.by_path(PATH, [parameter(full("a"), "1")], decrypt=False)

        results, _before, _after = module.ensure(ssm.client, params(state="absent"), True)

        assert results[0]["action"] == "deleted"
        assert ssm.writes == []

    def test_absent_reads_the_tree_without_decrypting(self, ssm):
        ssm.by_path(PATH, [parameter(full("pw"), CIPHERTEXT, 2, "SecureString")], decrypt=False)
        ssm.add("delete_parameters", {"DeletedParameters": [full("pw")]}, {"Names": [full("pw")]})

        results, before, _after = module.ensure(ssm.client, params({"pw": None}, state="absent"), False)

        assert ssm.params("GetParametersByPath") == [{"Path": PATH, "Recursive": True, "WithDecryption": False}]
        assert results == [{"name": full("pw"), "action": "deleted", "changes": []}]
        assert before[full("pw")]["value"] == "********"

    def test_absent_ignores_the_values_it_would_refuse_to_write(self, ssm):
        ssm.by_path(PATH, [parameter(full("x"), "1"), parameter(full("y"), "2"), parameter(full("z"), "3")], decrypt=False)
        names = [full("x"), full("y"), full("z")]
        ssm.add("delete_parameters", {"DeletedParameters": names}, {"Names": names})

        results, _before, _after = module.ensure(
            ssm.client, params({"x": "", "y": ["a,b"], "z": {"value": "v", "colour": "red"}}, state="absent"), False
        )

        assert [(item["name"], item["action"]) for item in results] == [(name, "deleted") for name in names]

    @pytest.mark.parametrize("parameters, message", [
        ({"a": None, "/abs": None}, "may not start with '/'"),
        ({"a": None, "bad name": None}, "Invalid parameter name"),
        ({"/".join(["l"] * 15): None}, "hierarchy levels, AWS allows 15"),
    ])
    def test_absent_still_validates_the_names(self, ssm, parameters, message):
        with pytest.raises(ParameterValidationError, match=message):
            module.ensure(ssm.client, params(parameters, state="absent"), False)
        assert ssm.calls == []

    def test_absent_validates_the_path(self, ssm):
        with pytest.raises(ParameterValidationError, match="must start with '/'"):
            module.ensure(ssm.client, params(path="app/prod", state="absent"), False)
        assert ssm.calls == []


class TestHide:
    def test_existing_secure_string_values_are_hidden_before_anything_is_written(self, ssm):
        hidden = []
        ssm.by_path(PATH, [parameter(full("pw"), "Old-Pa55", 1, "SecureString"), parameter(full("host"), "db1")])
        ssm.describe([{"Key": "Name", "Option": "Equals", "Values": [full("host"), full("pw")]}],
                     [metadata(full("host")), metadata(full("pw"), 1, "SecureString")])
        ssm.put({"Name": full("host"), "Value": "db2", "Type": "String", "DataType": "text", "Tier": "Standard",
                 "Overwrite": True}, version=2)
        ssm.put({"Name": full("pw"), "Value": "New-Pa55", "Type": "SecureString", "KeyId": "alias/aws/ssm",
                 "DataType": "text", "Tier": "Standard", "Overwrite": True}, version=2)

        def hide(*values):
            hidden.append((list(values), list(ssm.operations)))

        module.ensure(ssm.client, params({"pw": "New-Pa55", "host": "db2"}), False, hide=hide)

        # Once, with the untyped value of the existing SecureString only, right after the tree is read.
        assert hidden == [(["New-Pa55"], ["GetParametersByPath"])]

    def test_typed_secure_string_values_are_hidden_too(self, ssm):
        hidden = []
        ssm.by_path(PATH, [])
        ssm.put({"Name": full("a"), "Value": "A-s3cret", "Type": "SecureString"}, version=1)
        ssm.put({"Name": full("b"), "Value": "b1,b2", "Type": "SecureString"}, version=1)
        ssm.put({"Name": full("c"), "Value": "plain", "Type": "String"}, version=1)

        module.ensure(ssm.client, params({"a": {"value": "A-s3cret", "type": "SecureString"},
                                          "b": {"value": ["b1", "b2"], "type": "SecureString"}, "c": "plain"}),
                      False, hide=lambda *values: hidden.extend(values))

        assert sorted(hidden) == ["A-s3cret", "b1", "b1,b2", "b2"]

    def test_absent_hides_nothing_and_reads_no_values(self, ssm):
        ssm.by_path(PATH, [parameter(full("pw"), CIPHERTEXT, 1, "SecureString")], decrypt=False)

        def hide(*values):
            raise AssertionError(f"nothing to hide when deleting, got {values!r}")

        results, _before, _after = module.ensure(ssm.client, params({"pw": "Any-Pa55"}, state="absent"), True, hide=hide)

        assert [item["action"] for item in results] == ["deleted"]


class TestMain:
    def test_secure_string_values_never_appear_in_the_output(self, ssm, run_module):
        ssm.by_path(PATH, [parameter(full("db/password"), "Old-Pa55word", 1, "SecureString"),
                           parameter(full("db/host"), "db1", 1)])
        ssm.describe([{"Key": "Name", "Option": "Equals", "Values": [full("db/password")]}],
                     [metadata(full("db/password"), 1, "SecureString")])
        ssm.put({"Name": full("api/token"), "Value": "T0ken-Fr0m-Task", "Type": "SecureString"}, version=1)
        ssm.put({"Name": full("db/password"), "Value": "New-Pa55word", "Type": "SecureString", "KeyId": "alias/aws/ssm",
                 "DataType": "text", "Tier": "Standard", "Overwrite": True}, version=2)

        run = run_module(module.main, {
            "path": PATH,
            "parameters": {
                "db/host": "db1",
                "db/password": {"value": "New-Pa55word", "type": "SecureString"},
                "api/token": {"value": "T0ken-Fr0m-Task", "type": "SecureString"},
            },
            "_ansible_diff": True,
        }, ssm.client)

        assert run.rc == 0 and run.result["changed"] is True
        for secret in ("Old-Pa55word", "New-Pa55word", "T0ken-Fr0m-Task"):
            assert secret not in run.stdout
        entries = run.result["invocation"]["module_args"]["parameters"]
        assert entries["db/host"] == "db1"
        assert entries["db/password"]["value"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
        assert run.result["diff"]["after"][full("db/password")]["value"] == "******** (changed)"
        assert run.result["created"] == [full("api/token")]
        assert run.result["updated"] == [full("db/password")]
        assert run.result["unchanged"] == [full("db/host")]
        assert run.result["deleted"] == []

    def test_task_level_secure_string_type_masks_every_value(self, ssm, run_module):
        ssm.by_path(PATH, [])
        ssm.put({"Name": full("a"), "Value": "Alpha-s3cret", "Type": "SecureString"}, version=1)
        ssm.put({"Name": full("b"), "Value": "Bravo-s3cret", "Type": "SecureString"}, version=1)

        run = run_module(module.main, {"path": PATH, "type": "SecureString", "_ansible_diff": True,
                                       "parameters": {"a": "Alpha-s3cret", "b": "Bravo-s3cret"}}, ssm.client)

        assert run.rc == 0
        assert "s3cret" not in run.stdout
        assert run.result["diff"]["after"][full("a")]["value"] == "********"

    def test_existing_secure_string_without_a_type_in_the_task_is_masked(self, ssm, run_module):
        ssm.by_path(PATH, [parameter(full("pw"), "Old-Pa55word", 3, "SecureString")])

        run = run_module(module.main, {"path": PATH, "parameters": {"pw": "Old-Pa55word"}, "_ansible_diff": True,
                                       "_ansible_check_mode": True}, ssm.client)

        assert run.rc == 0 and run.result["changed"] is False
        assert "Old-Pa55word" not in run.stdout
        assert run.result["parameters"] == [
            {"name": full("pw"), "action": "unchanged", "changes": [], "type": "SecureString", "version": 3}
        ]

    def test_secure_string_value_is_masked_when_the_module_fails(self, ssm, run_module):
        ssm.by_path(PATH, [])
        ssm.add_error("put_parameter", "AccessDeniedException", "User is not authorized to perform: kms:Encrypt")

        run = run_module(module.main, {"path": PATH, "parameters": {"pw": {"value": "Fa1led-s3cret", "type": "SecureString"}}},
                         ssm.client)

        assert run.rc == 1
        assert run.result["iam_action"] == "kms:Encrypt"
        assert "Fa1led-s3cret" not in run.stdout

    def test_secure_string_list_elements_are_masked(self, ssm, run_module):
        ssm.by_path(PATH, [])
        ssm.put({"Name": full("tokens"), "Value": "Alpha1x,Beta2x", "Type": "SecureString"}, version=1)

        run = run_module(module.main, {"path": PATH, "_ansible_diff": True,
                                       "parameters": {"tokens": {"value": ["Alpha1x", "Beta2x"], "type": "SecureString"}}},
                         ssm.client)

        assert run.rc == 0 and run.result["created"] == [full("tokens")]
        for secret in ("Alpha1x", "Beta2x"):
            assert secret not in run.stdout

    def test_untyped_value_of_an_existing_secure_string_is_masked_when_the_module_fails(self, ssm, run_module):
        ssm.by_path(PATH, [parameter(full("pw"), "Old-Pa55", 1, "SecureString")])
        ssm.describe([{"Key": "Name", "Option": "Equals", "Values": [full("pw")]}], [metadata(full("pw"), 1, "SecureString")])
        ssm.add_error("put_parameter", "AccessDeniedException", "User is not authorized to perform: kms:Encrypt")

        run = run_module(module.main, {"path": PATH, "parameters": {"pw": "New-Pa55"}}, ssm.client)

        assert run.rc == 1
        assert run.result["iam_action"] == "kms:Encrypt"
        assert "New-Pa55" not in run.stdout and "Old-Pa55" not in run.stdout

    def test_new_entry_without_a_value_fails_the_module(self, ssm, run_module):
        ssm.by_path(PATH, [])

        run = run_module(module.main, {"path": PATH, "parameters": {"x": {"description": "d"}}}, ssm.client)

        assert run.rc == 1 and run.result["failed"] is True
        assert run.result["msg"] == "Parameter /app/prod/x does not exist: set its value to create it."
        assert ssm.writes == []

    def test_secure_string_values_stay_out_of_the_log(self, ssm, run_module, monkeypatch):
        logged = []
        monkeypatch.setattr(AnsibleModule, "log", lambda self, msg, log_args=None: logged.append(msg))
        ssm.by_path(PATH, [parameter(full("host"), "db-host-1"), parameter(full("pw"), "L0gged-s3cret", 1, "SecureString")])

        run = run_module(module.main, {"path": PATH, "parameters": {
            "host": "db-host-1", "pw": {"value": "L0gged-s3cret", "type": "SecureString"}}}, ssm.client)

        assert run.rc == 0
        assert len(logged) == 1 and "db-host-1" in logged[0]
        assert "L0gged-s3cret" not in logged[0]

    def test_check_mode_makes_no_write(self, ssm, run_module):
        ssm.by_path(PATH, [parameter(full("stale"), "x", 1)])

        run = run_module(module.main, {"path": PATH, "parameters": {"a": "1"}, "purge": True,
                                       "_ansible_check_mode": True}, ssm.client)

        assert run.rc == 0 and run.result["changed"] is True
        assert run.result["created"] == [full("a")] and run.result["deleted"] == [full("stale")]
        assert ssm.writes == []

    def test_idempotent_run_reports_no_change(self, ssm, run_module):
        ssm.by_path(PATH, [parameter(full("a"), "1", 2)])

        run = run_module(module.main, {"path": PATH, "parameters": {"a": "1"}}, ssm.client)

        assert run.rc == 0 and run.result["changed"] is False
        assert run.result["unchanged"] == [full("a")]
        assert ssm.operations == ["GetParametersByPath"]

    def test_validation_error_fails_the_module(self, ssm, run_module):
        run = run_module(module.main, {"path": PATH, "parameters": {"list": ["a,b"]}}, ssm.client)

        assert run.rc == 1 and run.result["failed"] is True
        assert "contains a comma" in run.result["msg"]
        assert ssm.calls == []

    def test_access_denied_on_delete(self, ssm, run_module):
        ssm.by_path(PATH, [parameter(full("a"), "1")], decrypt=False)
        ssm.add_error("delete_parameters", "AccessDeniedException", "not allowed")

        run = run_module(module.main, {"path": PATH, "state": "absent"}, ssm.client)

        assert run.rc == 1
        assert run.result["iam_action"] == "ssm:DeleteParameters"
        assert "the caller needs IAM permission for ssm:DeleteParameters" in run.result["msg"]
