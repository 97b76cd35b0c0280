"""AddTagsToResource / RemoveTagsFromResource / ListTagsForResource.

Tags of every resource type live in one per-region ``TagStore``.  An area
makes its resource type taggable with ``taggable("Parameter", resolve)``,
where ``resolve(ctx, resource_id)`` returns the canonical id of an existing
resource or raises ``AwsError("InvalidResourceId")``, and ``arn(ctx, id)``
gives the ARN used for authorization.  Resource types no area registered
(OpsItem, ... for now) fall through to moto.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .registry import AwsError, Context, FallThrough, operation, regional_store

MAX_TAGS_PER_RESOURCE = 50


@dataclass
class TaggableType:
    resolve: Callable[[Context, str], str]
    arn: Callable[[Context, str], str]
    max_tags: int = MAX_TAGS_PER_RESOURCE
    # A type that keeps its tags itself (managed nodes: their tags outlive a reset)
    # gives both; otherwise they live in the per-region TagStore.
    get_tags: Callable[[Context, str], dict[str, str]] | None = None
    set_tags: Callable[[Context, str, dict[str, str]], None] | None = None

    def read(self, ctx: Context, resource_type: str, resource_id: str) -> dict[str, str]:
        if self.get_tags is not None:
            return dict(self.get_tags(ctx, resource_id))
        return ctx.store("tags").get(resource_type, resource_id)

    def write(self, ctx: Context, resource_type: str, resource_id: str, tags: dict[str, str]) -> None:
        if self.set_tags is not None:
            self.set_tags(ctx, resource_id, dict(tags))
        else:
            ctx.store("tags").set(resource_type, resource_id, tags)


TAGGABLE: dict[str, TaggableType] = {}


def taggable(resource_type: str, resolve: Callable[[Context, str], str], arn: Callable[[Context, str], str],
             max_tags: int = MAX_TAGS_PER_RESOURCE,
             get_tags: Callable[[Context, str], dict[str, str]] | None = None,
             set_tags: Callable[[Context, str, dict[str, str]], None] | None = None) -> None:
    TAGGABLE[resource_type] = TaggableType(resolve, arn, max_tags, get_tags, set_tags)


@regional_store("tags")
class TagStore:
    def __init__(self, account_id: str, region: str) -> None:
        self._tags: dict[tuple[str, str], dict[str, str]] = {}

    def get(self, resource_type: str, resource_id: str) -> dict[str, str]:
        return dict(self._tags.get((resource_type, resource_id), {}))

    def set(self, resource_type: str, resource_id: str, tags: dict[str, str]) -> None:
        if tags:
            self._tags[(resource_type, resource_id)] = dict(tags)
        else:
            self._tags.pop((resource_type, resource_id), None)

    def drop(self, resource_type: str, resource_id: str) -> None:
        self._tags.pop((resource_type, resource_id), None)


def check_tag_keys(tags: list[dict]) -> None:
    for tag in tags:
        key = tag.get("Key", "")
        if key.lower().startswith("aws:"):
            raise AwsError(
                "ValidationException",
                f"Tag key {key} is not valid: tag keys can't start with the reserved prefix \"aws:\".",
            )


def merged_tags(existing: dict[str, str], new: list[dict], max_tags: int) -> dict[str, str]:
    check_tag_keys(new)
    result = dict(existing)
    for tag in new:
        result[tag["Key"]] = tag.get("Value", "")
    if len(result) > max_tags:
        raise AwsError("TooManyTagsError", None)
    return result


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def _target(request: dict, ctx: Context) -> tuple[str, str, TaggableType]:
    resource_type = request["ResourceType"]
    kind = TAGGABLE.get(resource_type)
    if kind is None:
        raise FallThrough()
    resource_id = kind.resolve(ctx, request["ResourceId"])
    return resource_type, resource_id, kind


@operation("AddTagsToResource")
def add_tags_to_resource(request: dict, ctx: Context) -> dict:
    resource_type, resource_id, kind = _target(request, ctx)
    ctx.authorize("ssm:AddTagsToResource", kind.arn(ctx, resource_id), [resource_id])
    kind.write(ctx, resource_type, resource_id,
               merged_tags(kind.read(ctx, resource_type, resource_id), request["Tags"], kind.max_tags))
    return {}


@operation("RemoveTagsFromResource")
def remove_tags_from_resource(request: dict, ctx: Context) -> dict:
    resource_type, resource_id, kind = _target(request, ctx)
    ctx.authorize("ssm:RemoveTagsFromResource", kind.arn(ctx, resource_id), [resource_id])
    tags = kind.read(ctx, resource_type, resource_id)
    for key in request["TagKeys"]:
        tags.pop(key, None)
    kind.write(ctx, resource_type, resource_id, tags)
    return {}


@operation("ListTagsForResource")
def list_tags_for_resource(request: dict, ctx: Context) -> dict:
    resource_type, resource_id, kind = _target(request, ctx)
    ctx.authorize("ssm:ListTagsForResource", kind.arn(ctx, resource_id), [resource_id])
    return {"TagList": tag_list(kind.read(ctx, resource_type, resource_id))}
