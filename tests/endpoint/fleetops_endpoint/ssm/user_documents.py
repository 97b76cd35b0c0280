"""The documents an account creates: their versions, sharing, reviews and tags.

``CreateDocument``, ``UpdateDocument``, ``DeleteDocument``, ``UpdateDocumentDefaultVersion``,
``ListDocumentVersions``, ``UpdateDocumentMetadata``, ``DescribeDocumentPermission``,
``ModifyDocumentPermission`` and tags of type ``Document`` are answered here, and
``DescribeDocument`` / ``GetDocument`` for every document that is not AWS-owned
(``documents.py`` hands those over).

The documents stay in moto's store (``ssm_backends[account][region]._documents``, one
moto ``Documents`` per name holding a moto ``Document`` per version) so that everything
else reading it (Run Command, Session Manager, ListDocuments, the tagging API) sees them;
the rules are ours, from the API reference and botocore's model:

* content: at most 64 KB (``MaxDocumentSizeExceeded``); JSON, YAML, or TEXT for change
  calendars; a mapping with ``schemaVersion`` that the document type supports
  (``InvalidDocumentSchemaVersion``); Command documents need ``mainSteps`` (schema 2.x,
  each step with ``action`` and ``name``) or ``runtimeConfig`` (schema 1.2), Automation
  documents ``mainSteps`` (``InvalidDocumentContent``);
* a new version is ``Creating`` / ``Updating`` for a moment, then ``Active``;
* ``UpdateDocument`` only on the latest version, ``DuplicateDocumentContent`` when the
  content and target type are the latest version's, version names unique across versions
  (``DuplicateDocumentVersionName``), at most 1,000 versions, 500 documents;
* ``DeleteDocument`` refuses a shared document (``InvalidDocumentOperation``) and the
  default version; one version by number or name, or every version;
* sharing: 20 account ids per call, 1,000 accounts per document, ``all`` for public
  sharing of at most 5 documents per account and region.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

import yaml

from .documents import _epoch, _parameter_list, aws_documents, platforms_for
from .registry import AwsError, Context, operation, paginate, validation_error
from .tags import merged_tags, tag_list, taggable

MAX_CONTENT_BYTES = 64 * 1024
MAX_DOCUMENTS = 500
MAX_VERSIONS = 1000
MAX_SHARED_ACCOUNTS = 1000
MAX_PUBLIC_DOCUMENTS = 5
MAX_TAGS = 50
PROCESSING_SECONDS = 0.3  # how long a new version stays Creating / Updating
LIST_VERSIONS_DEFAULT_MAX_RESULTS = 50
PERMISSIONS_DEFAULT_MAX_RESULTS = 200
RESOURCE_TYPE = "Document"

# The schema versions each document type takes (AWS's "SSM document schemas and features").
SCHEMA_VERSIONS = {
    "Command": ("1.2", "2.0", "2.2"),
    "Policy": ("2.0",),
    "Automation": ("0.3",),
    "Automation.ChangeTemplate": ("0.3",),
    "Session": ("1.0",),
    "Package": ("2.0",),
}
SCHEMA_VERSION_RE = re.compile(r"^([0-9]+)\.([0-9]+)$")
CHANGE_TEMPLATE = "Automation.ChangeTemplate"
FORCE_DELETE_TYPES = ("ApplicationConfigurationSchema",)

NOT_FOUND = "The specified document does not exist."
BAD_VERSION = "The document version is not valid or does not exist."
STILL_SHARED = ("You attempted to delete a document while it is still shared. You must stop sharing the document "
                "before you can delete it.")


class _StringDatesLoader(yaml.SafeLoader):
    """YAML 1.1 without timestamps: dates stay strings, as in a JSON document."""


_StringDatesLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass
class VersionMeta:
    """What moto's Document does not keep about a version."""

    created: float
    ready_at: float
    pending_status: str  # Creating / Updating until ready_at
    display_name: str | None = None
    review_status: str | None = None
    reviews: list[dict] = field(default_factory=list)


@dataclass
class Sharing:
    """One account (or ``all``) a document is shared with."""

    account_id: str
    version: str
    added: float


def _backend(ctx: Context) -> Any:
    from moto.ssm.models import ssm_backends

    return ssm_backends[ctx.account_id][ctx.region]


def _meta(doc: Any) -> VersionMeta:
    meta = getattr(doc, "fleetops_meta", None)
    if meta is None:
        created = _epoch(doc.created_date)
        meta = VersionMeta(created=created, ready_at=created, pending_status="Active")
        doc.fleetops_meta = meta
    return meta


def status_of(doc: Any) -> str:
    meta = _meta(doc)
    return meta.pending_status if time.time() < meta.ready_at else "Active"


def _sharing(documents: Any) -> dict[str, Sharing]:
    """The accounts the document is shared with, in the order they were added (kept on moto's container)."""
    found = getattr(documents, "fleetops_sharing", None)
    if found is None:
        found = {}
        documents.fleetops_sharing = found
    # moto's own view (used by ListDocuments' Public filter and moto's code) follows ours.
    documents.permissions = dict(found)
    return found


def document_name(raw: str) -> str:
    if raw.startswith("arn:") and ":document/" in raw:
        return raw.partition(":document/")[2]
    return raw


def document_arn(ctx: Context, name: str) -> str:
    return ctx.arn(f"document/{name}")


def find_documents(ctx: Context, raw_name: str) -> Any | None:
    return _backend(ctx)._documents.get(document_name(raw_name))


def _require(ctx: Context, raw_name: str) -> Any:
    documents = find_documents(ctx, raw_name)
    if documents is None:
        raise AwsError("InvalidDocument", NOT_FOUND)
    return documents


def _refuse_aws_owned(raw_name: str, what: str) -> None:
    if document_name(raw_name) in aws_documents():
        raise AwsError("InvalidDocumentOperation", f"{document_name(raw_name)} is owned by AWS; you can't {what} it.")


def select_version(documents: Any, version: str | None, version_name: str | None) -> Any:
    """The version asked for: a number, $LATEST, $DEFAULT (or nothing), and/or a version name."""
    if version == "$LATEST":
        doc = documents.get_latest_version()
    elif version in (None, "$DEFAULT"):
        doc = None if version_name else documents.get_default_version()
    else:
        doc = documents.versions.get(version)
        if doc is None:
            raise AwsError("InvalidDocumentVersion", BAD_VERSION)
    if version_name:
        if doc is None:
            doc = next((d for d in documents.versions.values() if d.version_name == version_name), None)
        if doc is None or doc.version_name != version_name:
            raise AwsError("InvalidDocumentVersion", BAD_VERSION)
    return doc


# --------------------------------------------------------------------------
# content


def parse_content(text: str, fmt: str, document_type: str) -> dict | None:
    """The content as data (None for TEXT), checked as AWS checks it."""
    size = len(text.encode("utf-8"))
    if size > MAX_CONTENT_BYTES:
        raise AwsError("MaxDocumentSizeExceeded",
                       f"The document is {size} bytes; the size limit of a document is 64 KB ({MAX_CONTENT_BYTES} bytes).")
    if fmt == "TEXT":
        if document_type != "ChangeCalendar":
            raise AwsError("InvalidDocumentContent",
                           f"The TEXT document format is only supported for ChangeCalendar documents, not {document_type}.")
        return None
    try:
        data = json.loads(text) if fmt == "JSON" else yaml.load(text, Loader=_StringDatesLoader)  # noqa: S506
    except (ValueError, yaml.YAMLError) as exc:
        raise AwsError("InvalidDocumentContent", f"The content for the document is not valid {fmt}: {exc}")
    if not isinstance(data, dict):
        raise AwsError("InvalidDocumentContent", f"The content for the document is not valid: a {fmt} object is expected.")
    if "schemaVersion" not in data:
        raise AwsError("InvalidDocumentContent", "The content for the document is not valid: schemaVersion is missing.")
    schema = str(data["schemaVersion"])
    allowed = SCHEMA_VERSIONS.get(document_type)
    if not SCHEMA_VERSION_RE.match(schema) or (allowed and schema not in allowed):
        raise AwsError("InvalidDocumentSchemaVersion",
                       f"Schema version {schema} is not supported for {document_type} documents"
                       + (f" (supported: {', '.join(allowed)})." if allowed else "."))
    _check_steps(data, document_type, schema)
    return data


def _check_steps(data: dict, document_type: str, schema: str) -> None:
    if document_type == "Command" and schema == "1.2":
        if not isinstance(data.get("runtimeConfig"), dict) or not data["runtimeConfig"]:
            raise AwsError("InvalidDocumentContent",
                           "The content for the document is not valid: a schema 1.2 document needs runtimeConfig.")
        return
    if document_type in ("Command", "Automation", CHANGE_TEMPLATE):
        steps = data.get("mainSteps")
        if not isinstance(steps, list) or not steps:
            raise AwsError("InvalidDocumentContent",
                           f"The content for the document is not valid: a {document_type} document with schema "
                           f"{schema} needs mainSteps.")
        for index, step in enumerate(steps):
            if not isinstance(step, dict) or not step.get("action") or not step.get("name"):
                raise AwsError("InvalidDocumentContent",
                               f"The content for the document is not valid: mainSteps[{index}] needs an action and a name.")


def content_as(doc: Any, fmt: str) -> str:
    if fmt == doc.document_format:
        return doc.content
    if doc.document_format == "TEXT" or fmt == "TEXT":
        raise validation_error(f"A {doc.document_format} document can't be returned as {fmt}.")
    if fmt == "JSON":
        return json.dumps(doc.content_json, indent=2)
    return yaml.safe_dump(doc.content_json, sort_keys=False, default_flow_style=False, allow_unicode=True)


def _new_version(ctx: Context, *, name: str, text: str, data: dict | None, fmt: str, document_type: str,
                 version: str, version_name: str | None, target_type: str | None, requires: list | None,
                 display_name: str | None, pending_status: str) -> Any:
    """A moto Document for one version, built without moto's own (narrower) checks."""
    from moto.core.utils import utcnow
    from moto.ssm.models import Document

    doc = Document.__new__(Document)
    content = data or {}
    doc.name = name
    doc.version_name = version_name
    doc.content = text
    doc.document_type = document_type
    doc.document_format = fmt
    doc.requires = requires
    doc.attachments = []
    doc.target_type = target_type
    doc.status = "Active"
    doc.document_version = version
    doc.owner = ctx.account_id
    doc.created_date = utcnow()
    doc.content_json = content
    doc.schema_version = str(content["schemaVersion"]) if "schemaVersion" in content else None
    doc.description = content.get("description")
    doc.outputs = content.get("outputs")
    doc.files = content.get("files")
    doc.platform_types = platforms_for(content)
    doc.parameter_list = _parameter_list(content)
    if doc.schema_version in {"0.3", "2.0", "2.2"}:
        doc.mainSteps = content.get("mainSteps")
    elif doc.schema_version == "1.2":
        doc.runtimeConfig = content.get("runtimeConfig")
    now = ctx.now()
    doc.fleetops_meta = VersionMeta(
        created=now, ready_at=now + PROCESSING_SECONDS, pending_status=pending_status, display_name=display_name,
        review_status="NOT_REVIEWED" if document_type == CHANGE_TEMPLATE else None,
    )
    return doc


# --------------------------------------------------------------------------
# views


def _tags(ctx: Context, name: str) -> dict[str, str]:
    return dict(_backend(ctx)._resource_tags.get(RESOURCE_TYPE, {}).get(name, {}))


def _set_tags(ctx: Context, name: str, tags: dict[str, str]) -> None:
    store = _backend(ctx)._resource_tags[RESOURCE_TYPE]
    if tags:
        store[name] = dict(tags)
    else:
        store.pop(name, None)


def description_view(ctx: Context, documents: Any, doc: Any, status: str | None = None) -> dict:
    """A DocumentDescription of one version."""
    meta = _meta(doc)
    out: dict[str, Any] = {
        "Hash": hashlib.sha256(doc.content.encode("utf-8")).hexdigest(),
        "HashType": "Sha256",
        "Name": doc.name,
        "Owner": doc.owner,
        "CreatedDate": meta.created,
        "Status": status or status_of(doc),
        "DocumentVersion": doc.document_version,
        "Parameters": list(doc.parameter_list or []),
        "PlatformTypes": list(doc.platform_types),
        "DocumentType": doc.document_type,
        "LatestVersion": documents.latest_version,
        "DefaultVersion": documents.default_version,
        "DocumentFormat": doc.document_format,
        "Tags": tag_list(_tags(ctx, doc.name)),
    }
    if doc.schema_version:
        out["SchemaVersion"] = doc.schema_version
    if doc.description:
        out["Description"] = str(doc.description)
    if meta.display_name:
        out["DisplayName"] = meta.display_name
    if doc.version_name:
        out["VersionName"] = doc.version_name
    if doc.target_type:
        out["TargetType"] = doc.target_type
    if doc.requires:
        out["Requires"] = [dict(r) for r in doc.requires]
    if doc.document_type == CHANGE_TEMPLATE:
        out.update(_review_view(documents, doc))
    return out


def _review_view(documents: Any, doc: Any) -> dict:
    meta = _meta(doc)
    out: dict[str, Any] = {"ReviewStatus": meta.review_status or "NOT_REVIEWED"}
    if meta.reviews:
        out["ReviewInformation"] = [dict(r) for r in meta.reviews]
    for version, other in documents.versions.items():
        other_status = _meta(other).review_status
        if other_status == "APPROVED":
            out["ApprovedVersion"] = version
        elif other_status == "PENDING":
            out["PendingReviewVersion"] = version
    return out


def version_info(documents: Any, doc: Any) -> dict:
    meta = _meta(doc)
    out: dict[str, Any] = {
        "Name": doc.name,
        "DocumentVersion": doc.document_version,
        "CreatedDate": meta.created,
        "IsDefaultVersion": doc.document_version == documents.default_version,
        "DocumentFormat": doc.document_format,
        "Status": status_of(doc),
    }
    if meta.display_name:
        out["DisplayName"] = meta.display_name
    if doc.version_name:
        out["VersionName"] = doc.version_name
    if doc.document_type == CHANGE_TEMPLATE:
        out["ReviewStatus"] = meta.review_status or "NOT_REVIEWED"
    return out


def describe_user_document(request: dict, ctx: Context) -> dict:
    """DescribeDocument for a document of the account (called by documents.py)."""
    documents = _require(ctx, request["Name"])
    doc = select_version(documents, request.get("DocumentVersion"), request.get("VersionName"))
    ctx.authorize("ssm:DescribeDocument", document_arn(ctx, doc.name), [doc.name])
    return {"Document": description_view(ctx, documents, doc)}


def get_user_document(request: dict, ctx: Context) -> dict:
    """GetDocument for a document of the account (called by documents.py)."""
    documents = _require(ctx, request["Name"])
    doc = select_version(documents, request.get("DocumentVersion"), request.get("VersionName"))
    ctx.authorize("ssm:GetDocument", document_arn(ctx, doc.name), [doc.name])
    fmt = request.get("DocumentFormat") or doc.document_format
    meta = _meta(doc)
    out: dict[str, Any] = {
        "Name": doc.name,
        "CreatedDate": meta.created,
        "DocumentVersion": doc.document_version,
        "Status": status_of(doc),
        "Content": content_as(doc, fmt),
        "DocumentType": doc.document_type,
        "DocumentFormat": fmt,
    }
    if meta.display_name:
        out["DisplayName"] = meta.display_name
    if doc.version_name:
        out["VersionName"] = doc.version_name
    if doc.requires:
        out["Requires"] = [dict(r) for r in doc.requires]
    if doc.document_type == CHANGE_TEMPLATE:
        out["ReviewStatus"] = meta.review_status or "NOT_REVIEWED"
    return out


# --------------------------------------------------------------------------
# create, update, delete


def create_user_document(request: dict, ctx: Context) -> dict:
    """CreateDocument (documents.py has already refused the reserved names)."""
    name = request["Name"]
    ctx.authorize("ssm:CreateDocument", document_arn(ctx, name), [name])
    backend = _backend(ctx)
    if name in backend._documents:
        raise AwsError("DocumentAlreadyExists", "The specified document already exists.")
    document_type = request.get("DocumentType") or "Command"
    fmt = request.get("DocumentFormat") or "JSON"
    data = parse_content(request["Content"], fmt, document_type)
    if len(backend._documents) >= MAX_DOCUMENTS:
        raise AwsError("DocumentLimitExceeded", f"You can have at most {MAX_DOCUMENTS} active SSM documents.")
    tags = merged_tags({}, request.get("Tags") or [], MAX_TAGS)
    doc = _new_version(
        ctx, name=name, text=request["Content"], data=data, fmt=fmt, document_type=document_type, version="1",
        version_name=request.get("VersionName"), target_type=request.get("TargetType"),
        requires=[dict(r) for r in request.get("Requires") or []] or None,
        display_name=request.get("DisplayName"), pending_status="Creating",
    )
    from moto.ssm.models import Documents

    documents = Documents(doc)
    documents.fleetops_counter = 1
    _sharing(documents)
    backend._documents[name] = documents
    _set_tags(ctx, name, tags)
    return {"DocumentDescription": description_view(ctx, documents, doc, "Creating")}


@operation("UpdateDocument")
def update_document(request: dict, ctx: Context) -> dict:
    _refuse_aws_owned(request["Name"], "update")
    documents = _require(ctx, request["Name"])
    latest = documents.get_latest_version()
    ctx.authorize("ssm:UpdateDocument", document_arn(ctx, latest.name), [latest.name])
    if request.get("DocumentVersion") not in (None, "$LATEST", documents.latest_version):
        raise AwsError("InvalidDocumentVersion",
                       f"{BAD_VERSION} Only the latest version ({documents.latest_version}) can be updated.")
    fmt = request.get("DocumentFormat") or "JSON"
    text = request["Content"]
    data = parse_content(text, fmt, latest.document_type)
    version_name = request.get("VersionName")
    if version_name and any(d.version_name == version_name for d in documents.versions.values()):
        raise AwsError("DuplicateDocumentVersionName", "The specified version name is a duplicate.")
    target_type = request.get("TargetType") or latest.target_type
    if text == latest.content and target_type == latest.target_type:
        raise AwsError("DuplicateDocumentContent", "The content of the association document matches another "
                                                   "document. Change the content of the document and try again.")
    if len(documents.versions) >= MAX_VERSIONS:
        raise AwsError("DocumentVersionLimitExceeded",
                       "The document has too many versions. Delete one or more document versions and try again.")
    counter = max([getattr(documents, "fleetops_counter", 0)] + [int(v) for v in documents.versions]) + 1
    doc = _new_version(
        ctx, name=latest.name, text=text, data=data, fmt=fmt, document_type=latest.document_type,
        version=str(counter), version_name=version_name, target_type=target_type, requires=latest.requires,
        display_name=request.get("DisplayName") or _meta(latest).display_name, pending_status="Updating",
    )
    documents.fleetops_counter = counter
    documents.add_new_version(doc)
    return {"DocumentDescription": description_view(ctx, documents, doc, "Updating")}


@operation("DeleteDocument")
def delete_document(request: dict, ctx: Context) -> dict:
    _refuse_aws_owned(request["Name"], "delete")
    documents = _require(ctx, request["Name"])
    default = documents.get_default_version()
    ctx.authorize("ssm:DeleteDocument", document_arn(ctx, default.name), [default.name])
    if _sharing(documents):
        raise AwsError("InvalidDocumentOperation", STILL_SHARED)
    if default.document_type in FORCE_DELETE_TYPES and not request.get("Force"):
        raise AwsError("InvalidDocumentOperation",
                       f"Deleting a document of type {default.document_type} needs the Force flag.")
    version, version_name = request.get("DocumentVersion"), request.get("VersionName")
    if version or version_name:
        try:
            doc = select_version(documents, version, version_name)
        except AwsError:
            raise AwsError("InvalidDocument", NOT_FOUND)
        if doc.document_version == documents.default_version:
            raise AwsError("InvalidDocumentOperation",
                           "The default version of a document can't be deleted. Make another version the default "
                           "first, or delete every version of the document.")
        documents.delete(doc.document_version)
        documents.latest_version = str(max(int(v) for v in documents.versions))
        return {}
    del _backend(ctx)._documents[default.name]
    _set_tags(ctx, default.name, {})
    return {}


@operation("UpdateDocumentDefaultVersion")
def update_document_default_version(request: dict, ctx: Context) -> dict:
    _refuse_aws_owned(request["Name"], "change the default version of")
    documents = _require(ctx, request["Name"])
    doc = documents.versions.get(request["DocumentVersion"])
    ctx.authorize("ssm:UpdateDocumentDefaultVersion", document_arn(ctx, documents.get_latest_version().name))
    if doc is None:
        raise AwsError("InvalidDocumentVersion", BAD_VERSION)
    documents.default_version = doc.document_version
    out: dict[str, Any] = {"Name": doc.name, "DefaultVersion": doc.document_version}
    if doc.version_name:
        out["DefaultVersionName"] = doc.version_name
    return {"Description": out}


@operation("ListDocumentVersions")
def list_document_versions(request: dict, ctx: Context) -> dict:
    name = document_name(request["Name"])
    owned = aws_documents().get(name)
    ctx.authorize("ssm:ListDocumentVersions", document_arn(ctx, name), [name])
    if owned is not None:
        items = [{"Name": owned.name, "DocumentVersion": owned.version, "CreatedDate": owned.created,
                  "IsDefaultVersion": True, "DocumentFormat": owned.document_format, "Status": "Active"}]
    else:
        documents = _require(ctx, name)
        ordered = sorted(documents.versions.values(), key=lambda d: int(d.document_version), reverse=True)
        items = [version_info(documents, doc) for doc in ordered]
    max_results = int(request.get("MaxResults") or LIST_VERSIONS_DEFAULT_MAX_RESULTS)
    page, token = paginate(items, max_results, request.get("NextToken"), {"Name": name})
    out: dict[str, Any] = {"DocumentVersions": page}
    if token:
        out["NextToken"] = token
    return out


REVIEW_ACTIONS = {"SendForReview": "PENDING", "UpdateReview": "PENDING", "Approve": "APPROVED", "Reject": "REJECTED"}


@operation("UpdateDocumentMetadata")
def update_document_metadata(request: dict, ctx: Context) -> dict:
    """Change Manager reviews of a change template version."""
    _refuse_aws_owned(request["Name"], "review")
    documents = _require(ctx, request["Name"])
    doc = select_version(documents, request.get("DocumentVersion"), None)
    ctx.authorize("ssm:UpdateDocumentMetadata", document_arn(ctx, doc.name), [doc.name])
    if doc.document_type != CHANGE_TEMPLATE:
        raise AwsError("InvalidDocumentOperation",
                       f"Reviews are for change templates ({CHANGE_TEMPLATE} documents), not {doc.document_type} "
                       "documents.")
    review = request["DocumentReviews"]
    action = review["Action"]
    meta = _meta(doc)
    if action == "UpdateReview" and meta.review_status != "PENDING":
        raise AwsError("InvalidDocumentOperation", "Only a version pending review can have its review updated.")
    meta.review_status = REVIEW_ACTIONS[action]
    entry: dict[str, Any] = {"ReviewedTime": ctx.now(), "Status": meta.review_status, "Reviewer": ctx.principal.name}
    meta.reviews.append(entry)
    return {}


# --------------------------------------------------------------------------
# sharing


@operation("DescribeDocumentPermission")
def describe_document_permission(request: dict, ctx: Context) -> dict:
    _refuse_aws_owned(request["Name"], "describe the permissions of")
    documents = _require(ctx, request["Name"])
    name = documents.get_default_version().name
    ctx.authorize("ssm:DescribeDocumentPermission", document_arn(ctx, name), [name])
    shared = sorted(_sharing(documents).values(), key=lambda s: s.added)
    max_results = int(request.get("MaxResults") or PERMISSIONS_DEFAULT_MAX_RESULTS)
    page, token = paginate(shared, max_results, request.get("NextToken"), {"Name": name})
    out: dict[str, Any] = {
        "AccountIds": [s.account_id for s in page],
        "AccountSharingInfoList": [{"AccountId": s.account_id, "SharedDocumentVersion": s.version} for s in page],
    }
    if token:
        out["NextToken"] = token
    return out


def _public_documents(ctx: Context) -> int:
    return sum(1 for documents in _backend(ctx)._documents.values() if "all" in _sharing(documents))


@operation("ModifyDocumentPermission")
def modify_document_permission(request: dict, ctx: Context) -> dict:
    _refuse_aws_owned(request["Name"], "share")
    documents = _require(ctx, request["Name"])
    name = documents.get_default_version().name
    ctx.authorize("ssm:ModifyDocumentPermission", document_arn(ctx, name), [name])
    add = [a.lower() for a in request.get("AccountIdsToAdd") or []]
    remove = [a.lower() for a in request.get("AccountIdsToRemove") or []]
    version = request.get("SharedDocumentVersion") or "$DEFAULT"
    shared = _sharing(documents)
    if "all" in add and "all" not in shared and _public_documents(ctx) >= MAX_PUBLIC_DOCUMENTS:
        raise AwsError("DocumentPermissionLimit",
                       f"You can share at most {MAX_PUBLIC_DOCUMENTS} documents publicly. Stop sharing another "
                       "document publicly first.")
    if ctx.account_id in add:
        raise validation_error(f"The document is owned by account {ctx.account_id}; it can't be shared with its owner.")
    for account in remove:
        shared.pop(account, None)
    now = ctx.now()
    for account in add:
        if account in shared:
            shared[account] = Sharing(account, version, shared[account].added)
        else:
            shared[account] = Sharing(account, version, now)
    if len([a for a in shared if a != "all"]) > MAX_SHARED_ACCOUNTS:
        for account in add:
            shared.pop(account, None)
        raise AwsError("DocumentPermissionLimit",
                       f"The document can't be shared with more accounts: at most {MAX_SHARED_ACCOUNTS} accounts.")
    _sharing(documents)
    return {}


# --------------------------------------------------------------------------
# tags of type Document


def _resolve_for_tags(ctx: Context, resource_id: str) -> str:
    name = document_name(resource_id)
    if find_documents(ctx, name) is None:
        raise AwsError("InvalidResourceId", None)
    return name


taggable(RESOURCE_TYPE, _resolve_for_tags, document_arn, MAX_TAGS, get_tags=_tags, set_tags=_set_tags)
