# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.fleetops.ssm.plugins.module_utils import _tags


class TestTagChanges:
    def test_no_tags_means_leave_alone(self):
        assert _tags.tag_changes({"a": "1"}, None, True) == ({}, [])

    def test_purge(self):
        to_set, to_remove = _tags.tag_changes({"a": "1", "b": "2"}, {"a": "1", "c": "3"}, True)
        assert to_set == {"c": "3"} and to_remove == ["b"]

    def test_no_purge(self):
        to_set, to_remove = _tags.tag_changes({"a": "1", "b": "2"}, {"a": "9"}, False)
        assert to_set == {"a": "9"} and to_remove == []

    def test_same_tags(self):
        assert _tags.tag_changes({"a": "1"}, {"a": "1"}, True) == ({}, [])

    def test_no_current_tags(self):
        assert _tags.tag_changes(None, {"a": "1"}, True) == ({"a": "1"}, [])


class TestApplyTagChanges:
    def test_writes_removals_then_additions(self, ssm):
        ssm.add("remove_tags_from_resource", {}, {"ResourceType": "PatchBaseline", "ResourceId": "pb-1", "TagKeys": ["old"]})
        ssm.add("add_tags_to_resource", {}, {"ResourceType": "PatchBaseline", "ResourceId": "pb-1",
                                             "Tags": [{"Key": "new", "Value": "2"}]})

        final = _tags.apply_tag_changes(ssm.client, "PatchBaseline", "pb-1", {"old": "1", "keep": "k"}, {"new": "2"}, ["old"], False)

        assert final == {"keep": "k", "new": "2"}
        assert ssm.operations == ["RemoveTagsFromResource", "AddTagsToResource"]

    def test_check_mode_predicts_without_writing(self, ssm):
        final = _tags.apply_tag_changes(ssm.client, "Parameter", "/a", {"old": "1"}, {"new": "2"}, ["old"], True)

        assert final == {"new": "2"}
        assert ssm.operations == []


class TestEnsureTags:
    def test_none_leaves_tags_alone(self, ssm):
        assert _tags.ensure_tags(ssm.client, "MaintenanceWindow", "mw-1", {"a": "1"}, None, True, False) == (False, {"a": "1"})
        assert ssm.operations == []

    def test_changes_are_written(self, ssm):
        ssm.add("add_tags_to_resource", {}, {"ResourceType": "MaintenanceWindow", "ResourceId": "mw-1",
                                             "Tags": [{"Key": "a", "Value": "2"}]})

        assert _tags.ensure_tags(ssm.client, "MaintenanceWindow", "mw-1", {"a": "1"}, {"a": "2"}, True, False) == (True, {"a": "2"})
