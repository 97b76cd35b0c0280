"""Resource Groups Tagging API ``GetResources`` for managed nodes (moto does not know them).

Answered here:

* ``ResourceARNList`` (1-100 ARNs) whose ARNs are all EC2 instances (``arn:aws:ec2:<region>:<account>:
  instance/i-...``) or hybrid nodes (``arn:aws:ssm:<region>:<account>:managed-instance/mi-...``): one
  response with every tagged resource among them (an unknown or untagged ARN is left out, no error),
  as AWS documents it; combined with ``ResourceTypeFilters``, ``TagFilters``, ``ResourcesPerPage``,
  ``TagsPerPage`` or ``PaginationToken`` it is ``InvalidParameterException``.
* ``ResourceTypeFilters`` of exactly ``ssm:managed-instance``: the region's tagged hybrid nodes,
  ``ResourcesPerPage`` (1-100, default 100) per page, with ``TagFilters``.

Anything else goes to moto.  EC2 instances' tags are read from moto's EC2 (the mirror of ``i-`` nodes
and any other instance); hybrid nodes' tags from the node registry.

Wired into the WSGI application by ``answer()`` (``app.py``), before moto, for the ``tagging`` service.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

from . import awsproto, shapes
from .ssm.nodes import NODES, node_tags
from .ssm.registry import AwsError, paginate

SERVICE = "resourcegroupstaggingapi"
_ARN_RE = re.compile(r"^arn:(aws|aws-cn|aws-us-gov):(ec2|ssm):([a-z0-9-]+):(\d{12}):(instance|managed-instance)/(\S+)$")
MANAGED_INSTANCE = "ssm:managed-instance"
_PAGINATION = ("ResourcesPerPage", "TagsPerPage", "PaginationToken")
OURS = {awsproto.LAYER_HEADER: "tagging"}


def _ec2_tags(region: str, instance_id: str) -> dict[str, str]:
    try:
        from moto.ec2.models import ec2_backends

        return dict(ec2_backends[awsproto.ACCOUNT_ID][region].tags.get(instance_id) or {})
    except (KeyError, AttributeError, ImportError):
        return {}


def _mapping(arn: str, tags: dict[str, str]) -> dict[str, Any]:
    return {"ResourceARN": arn, "Tags": [{"Key": key, "Value": value} for key, value in tags.items()]}


def _by_arns(body: dict, region: str) -> dict | None:
    arns = body["ResourceARNList"]
    if any(body.get(key) for key in ("ResourceTypeFilters", "TagFilters", *_PAGINATION)):
        raise AwsError("InvalidParameterException",
                       "ResourceARNList can't be used with ResourceTypeFilters, TagFilters or pagination parameters.")
    if not 1 <= len(arns) <= 100:
        raise AwsError("InvalidParameterException", "ResourceARNList must have 1 to 100 ARNs.")
    parsed = [_ARN_RE.match(arn) for arn in arns]
    if not all(parsed):
        return None  # other resource types: moto's
    found = []
    for arn, match in zip(arns, parsed):
        service, arn_region, account, kind, resource_id = match.group(2, 3, 4, 5, 6)
        if arn_region != region or account != awsproto.ACCOUNT_ID:
            continue
        if service == "ec2" and kind == "instance":
            tags = _ec2_tags(region, resource_id)
        elif service == "ssm" and kind == "managed-instance":
            node = NODES.get(resource_id, region)
            tags = node_tags(node) if node is not None and node.resource_type == "ManagedInstance" else {}
        else:
            continue
        if tags:
            found.append(_mapping(arn, tags))
    return {"ResourceTagMappingList": found, "PaginationToken": ""}


def _tag_filter_matches(tags: dict[str, str], filters: list[dict]) -> bool:
    return all(item["Key"] in tags and (not item.get("Values") or tags[item["Key"]] in item["Values"])
               for item in filters)


def _managed_instances(body: dict, region: str) -> dict:
    per_page = body.get("ResourcesPerPage", 100)
    if not 1 <= per_page <= 100:
        raise AwsError("InvalidParameterException", "ResourcesPerPage must be between 1 and 100.")
    filters = body.get("TagFilters") or []
    mappings = []
    for node in NODES.list(region):
        tags = node_tags(node) if node.resource_type == "ManagedInstance" else {}
        if tags and _tag_filter_matches(tags, filters):
            arn = f"arn:aws:ssm:{region}:{awsproto.ACCOUNT_ID}:managed-instance/{node.instance_id}"
            mappings.append(_mapping(arn, tags))
    try:
        page, token = paginate(mappings, per_page, body.get("PaginationToken") or None,
                               {"op": "GetResources", "filters": filters})
    except AwsError:
        raise AwsError("PaginationTokenExpiredException", "The pagination token is not valid.")
    return {"ResourceTagMappingList": page, "PaginationToken": token or ""}


def answer(info: awsproto.CallInfo, state: Any, start_response) -> Iterable[bytes] | None:
    """Answer ``GetResources`` for managed nodes; None lets moto answer the call."""
    if info.service != "tagging" or info.operation != "GetResources" or not isinstance(info.json_body, dict):
        return None
    body = info.json_body
    try:
        if body.get("ResourceARNList"):
            result = _by_arns(body, info.region)
        elif body.get("ResourceTypeFilters") == [MANAGED_INSTANCE]:
            result = _managed_instances(body, info.region)
        else:
            return None
    except AwsError as err:
        return awsproto.json_error(start_response, err.status, err.code, err.message, "Message", OURS)
    if result is None:
        return None
    if state.strict:
        problems = shapes.validate_output(SERVICE, "GetResources", result)
        if problems:
            return awsproto.json_error(start_response, 500, "InternalServiceException",
                                       "fleetops endpoint: GetResources does not match its output shape: "
                                       + "; ".join(problems), "Message", OURS)
    return awsproto.json_response(start_response, 200, result, extra=OURS)
