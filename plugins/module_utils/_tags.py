# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE: this file is internal to the fleetops.ssm collection. It is not a public API and may
# change at any time without notice. Do not import it from outside the collection.

"""Tags of SSM resources (parameters, patch baselines, maintenance windows, managed nodes...).

SSM tags every resource type through the same three calls, naming the type (``Parameter``,
``PatchBaseline``, ``MaintenanceWindow``, ``ManagedInstance``, ...) and the resource's id.
"""

from __future__ import annotations

from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.fleetops.ssm.plugins.module_utils._errors import SSMErrorHandler
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import ssm_retry


@SSMErrorHandler.list_error_handler("list tags", default_value={})
@ssm_retry()
def list_tags(client, resource_type, resource_id):
    result = client.list_tags_for_resource(ResourceType=resource_type, ResourceId=resource_id)
    return boto3_tag_list_to_ansible_dict(result.get("TagList", []))


@SSMErrorHandler.common_error_handler("add tags")
@ssm_retry()
def add_tags(client, resource_type, resource_id, tags):
    client.add_tags_to_resource(ResourceType=resource_type, ResourceId=resource_id, Tags=ansible_dict_to_boto3_tag_list(tags))


@SSMErrorHandler.common_error_handler("remove tags")
@ssm_retry()
def remove_tags(client, resource_type, resource_id, keys):
    client.remove_tags_from_resource(ResourceType=resource_type, ResourceId=resource_id, TagKeys=list(keys))


def tag_changes(current_tags, tags, purge_tags):
    """(tags to set, tag keys to remove); nothing when the user did not give tags."""
    if tags is None:
        return {}, []
    return compare_aws_tags(current_tags or {}, tags, purge_tags)


def apply_tag_changes(client, resource_type, resource_id, current_tags, to_set, to_remove, check_mode):
    """Write tag changes (unless in check mode); returns the tags the resource ends up with."""
    if not check_mode:
        if to_remove:
            remove_tags(client, resource_type, resource_id, to_remove)
        if to_set:
            add_tags(client, resource_type, resource_id, to_set)
    final = {key: value for key, value in (current_tags or {}).items() if key not in to_remove}
    final.update(to_set)
    return final


def ensure_tags(client, resource_type, resource_id, current_tags, tags, purge_tags, check_mode):
    """Make the resource's tags match ``tags`` (None: leave alone); returns (changed, final tags)."""
    to_set, to_remove = tag_changes(current_tags, tags, purge_tags)
    final = apply_tag_changes(client, resource_type, resource_id, current_tags, to_set, to_remove, check_mode)
    return bool(to_set or to_remove), final
