"""AWS-owned SSM documents: DescribeDocument, GetDocument, ListDocuments.

The AWS-owned (Owner "Amazon") documents are read from
``data/documents/*.json``; every account and region sees them.  Calls naming
any other document go to ``user_documents.py``, which keeps the documents users
create (in moto's store).  ListDocuments is answered here for both kinds, so the
Owner filter and pagination behave as AWS documents them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .registry import AwsError, Context, on_reset, operation, paginate, validation_error

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "documents"
LIST_DEFAULT_MAX_RESULTS = 50
FILTER_KEYS = ["Name", "Owner", "PlatformTypes", "DocumentType", "TargetType", "CloudProviders", "SearchKeyword"]
ALL_PLATFORMS = ["Windows", "Linux", "MacOS"]


def _epoch(value: Any) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return round(value.timestamp(), 3)
    raise TypeError(f"not a date: {value!r}")


def _parameter_list(content: dict) -> list[dict]:
    out = []
    for name, spec in (content.get("parameters") or {}).items():
        item: dict[str, Any] = {"Name": name, "Type": spec.get("type", "String")}
        if spec.get("description"):
            item["Description"] = spec["description"]
        if "default" in spec:
            default = spec["default"]
            if isinstance(default, str):
                item["DefaultValue"] = default
            elif isinstance(default, bool):
                item["DefaultValue"] = "true" if default else "false"
            else:
                item["DefaultValue"] = json.dumps(default)
        out.append(item)
    return out


def platforms_for(content: dict) -> list[str]:
    """Platform types AWS reports for a document, from the plugins it runs."""
    actions: set[str] = set()
    for step in content.get("mainSteps") or []:
        if isinstance(step, dict) and step.get("action"):
            actions.add(step["action"])
    runtime = content.get("runtimeConfig")
    if isinstance(runtime, dict):
        actions.update(runtime.keys())
    if not actions:
        return list(ALL_PLATFORMS)
    platforms: set[str] = set()
    for action in actions:
        if action == "aws:runShellScript":
            platforms.update(["Linux", "MacOS"])
        elif action in ("aws:runPowerShellScript",):
            platforms.update(ALL_PLATFORMS)
        elif action in ("aws:psModule", "aws:applications", "aws:domainJoin", "aws:updateAgent"):
            platforms.add("Windows")
        else:
            platforms.update(ALL_PLATFORMS)
    return [p for p in ALL_PLATFORMS if p in platforms]


@dataclass
class AwsDocument:
    name: str
    document_type: str
    document_format: str
    version: str
    platform_types: list[str]
    created: float
    content: dict
    content_text: str
    target_type: str | None = None

    @classmethod
    def load(cls, path: Path) -> "AwsDocument":
        data = json.loads(path.read_text(encoding="utf-8"))
        content = data["Content"]
        return cls(
            name=data["Name"],
            document_type=data.get("DocumentType", "Command"),
            document_format=data.get("DocumentFormat", "JSON"),
            version=str(data.get("DocumentVersion", "1")),
            platform_types=list(data.get("PlatformTypes") or platforms_for(content)),
            created=_epoch(data["CreatedDate"]),
            content=content,
            content_text=json.dumps(content, indent=2),
            target_type=data.get("TargetType"),
        )

    @property
    def schema_version(self) -> str:
        return str(self.content["schemaVersion"])

    @property
    def description(self) -> str:
        return str(self.content.get("description", ""))

    def identifier(self) -> dict:
        out: dict[str, Any] = {
            "Name": self.name,
            "CreatedDate": self.created,
            "Owner": "Amazon",
            "PlatformTypes": list(self.platform_types),
            "DocumentVersion": self.version,
            "DocumentType": self.document_type,
            "SchemaVersion": self.schema_version,
            "DocumentFormat": self.document_format,
            "Tags": [],
        }
        if self.target_type:
            out["TargetType"] = self.target_type
        return out

    def description_view(self) -> dict:
        out: dict[str, Any] = {
            "Hash": hashlib.sha256(self.content_text.encode("utf-8")).hexdigest(),
            "HashType": "Sha256",
            "Name": self.name,
            "Owner": "Amazon",
            "CreatedDate": self.created,
            "Status": "Active",
            "DocumentVersion": self.version,
            "Description": self.description,
            "Parameters": _parameter_list(self.content),
            "PlatformTypes": list(self.platform_types),
            "DocumentType": self.document_type,
            "SchemaVersion": self.schema_version,
            "LatestVersion": self.version,
            "DefaultVersion": self.version,
            "DocumentFormat": self.document_format,
            "Tags": [],
        }
        if self.target_type:
            out["TargetType"] = self.target_type
        return out


_docs_lock = threading.Lock()
_AWS_DOCUMENTS: dict[str, AwsDocument] = {}


def load_aws_documents() -> dict[str, AwsDocument]:
    docs = {}
    for path in sorted(DATA_DIR.glob("*.json")):
        doc = AwsDocument.load(path)
        docs[doc.name] = doc
    return docs


@on_reset
def reseed_aws_documents() -> None:
    """(Re)load the AWS-owned documents; called at import and on every reset."""
    docs = load_aws_documents()
    with _docs_lock:
        _AWS_DOCUMENTS.clear()
        _AWS_DOCUMENTS.update(docs)


def aws_documents() -> dict[str, AwsDocument]:
    with _docs_lock:
        return dict(_AWS_DOCUMENTS)


reseed_aws_documents()


def _document_name(ctx: Context, raw: str) -> str:
    if raw.startswith("arn:"):
        return raw.partition(":document/")[2] or raw
    return raw


def _document_arn(ctx: Context, name: str) -> str:
    return ctx.arn(f"document/{name}", account=False)


def _aws_document(ctx: Context, request: dict) -> AwsDocument | None:
    """The AWS-owned document the request names; None for any other document."""
    name = _document_name(ctx, request["Name"])
    doc = aws_documents().get(name)
    if doc is None:
        return None
    version = request.get("DocumentVersion")
    if version not in (None, "$LATEST", "$DEFAULT", doc.version):
        raise AwsError("InvalidDocumentVersion", "The document version is not valid or does not exist.")
    if request.get("VersionName"):
        raise AwsError("InvalidDocument", "The specified document does not exist.")
    return doc


@operation("DescribeDocument")
def describe_document(request: dict, ctx: Context) -> dict:
    doc = _aws_document(ctx, request)
    if doc is None:
        from .user_documents import describe_user_document

        return describe_user_document(request, ctx)
    ctx.authorize("ssm:DescribeDocument", _document_arn(ctx, doc.name), [doc.name])
    return {"Document": doc.description_view()}


@operation("GetDocument")
def get_document(request: dict, ctx: Context) -> dict:
    doc = _aws_document(ctx, request)
    if doc is None:
        from .user_documents import get_user_document

        return get_user_document(request, ctx)
    ctx.authorize("ssm:GetDocument", _document_arn(ctx, doc.name), [doc.name])
    fmt = request.get("DocumentFormat") or doc.document_format
    if fmt == "JSON":
        content = doc.content_text
    elif fmt == "YAML":
        content = yaml.safe_dump(doc.content, sort_keys=False, default_flow_style=False)
    else:
        raise validation_error(f"Invalid document format {fmt}")
    return {
        "Name": doc.name,
        "CreatedDate": doc.created,
        "DocumentVersion": doc.version,
        "Status": "Active",
        "Content": content,
        "DocumentType": doc.document_type,
        "DocumentFormat": fmt,
    }


RESERVED_DOCUMENT_PREFIXES = ("aws", "amazon", "amzn")


@operation("CreateDocument")
def create_document(request: dict, ctx: Context) -> dict:
    """Guards the names AWS reserves (so no document can hide an AWS-owned one), then creates it."""
    name = request["Name"]
    if name.lower().startswith(RESERVED_DOCUMENT_PREFIXES):
        raise validation_error(
            f"Invalid document name {name}. Document names can't start with the reserved prefixes "
            "aws, amazon or amzn (case-insensitive)."
        )
    from .user_documents import create_user_document

    return create_user_document(request, ctx)


# --------------------------------------------------------------------------
# ListDocuments


def _user_documents(ctx: Context) -> list[dict]:
    """Documents created in this account/region (kept in moto's store), as DocumentIdentifier entries."""
    from .user_documents import _backend, _meta, _sharing

    try:
        backend = _backend(ctx)
        entries = list(backend._documents.items())
    except (ImportError, AttributeError, KeyError):  # pragma: no cover - moto internals moved
        return []
    out = []
    for name, documents in sorted(entries):
        doc = documents.get_default_version()
        tags = backend._resource_tags.get("Document", {}).get(name, {})
        content = doc.content_json if isinstance(doc.content_json, dict) else {}
        item: dict[str, Any] = {
            "Name": doc.name,
            "CreatedDate": _meta(doc).created,
            "Owner": doc.owner,
            "PlatformTypes": platforms_for(content),
            "DocumentVersion": doc.document_version,
            "DocumentType": doc.document_type,
            "DocumentFormat": doc.document_format,
            "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
        }
        if doc.schema_version:
            item["SchemaVersion"] = str(doc.schema_version)
        if _meta(doc).display_name:
            item["DisplayName"] = _meta(doc).display_name
        if doc.version_name:
            item["VersionName"] = doc.version_name
        if doc.target_type:
            item["TargetType"] = doc.target_type
        if doc.requires:
            item["Requires"] = [dict(r) for r in doc.requires]
        if doc.document_type == "Automation.ChangeTemplate":
            item["ReviewStatus"] = _meta(doc).review_status or "NOT_REVIEWED"
        item["_shared_publicly"] = "all" in _sharing(documents)
        out.append(item)
    return out


def _normalize_filters(request: dict) -> list[dict]:
    filters = [dict(f) for f in (request.get("Filters") or [])]
    for legacy in request.get("DocumentFilterList") or []:
        filters.append({"Key": legacy["key"], "Values": [legacy["value"]]})
    for item in filters:
        key = item.get("Key")
        if not key or (key not in FILTER_KEYS and not key.startswith("tag:")):
            raise AwsError("InvalidFilterKey", f"The filter key {key} is not valid.")
        item["Values"] = list(item.get("Values") or [])
        if key == "Owner" and len(item["Values"]) != 1:
            raise validation_error("Owner filter can only have one value.")
    return filters


def _owner_matches(owner_filter: str, entry: dict, account_id: str) -> bool:
    owner = entry["Owner"]
    if owner_filter in ("All",):
        return True
    if owner_filter == "Amazon":
        return owner == "Amazon"
    if owner_filter in ("Self", "Private"):
        return owner == account_id
    if owner_filter == "Public":
        return owner == "Amazon" or entry.get("_shared_publicly", False)
    if owner_filter == "ThirdParty":
        return False
    return owner == owner_filter


def _entry_matches(item: dict, entry: dict, account_id: str) -> bool:
    key, values = item["Key"], item["Values"]
    if key == "Owner":
        return _owner_matches(values[0], entry, account_id)
    if key == "Name":
        return any(entry["Name"].startswith(v) for v in values)
    if key == "SearchKeyword":
        return any(v.lower() in entry["Name"].lower() for v in values)
    if key == "PlatformTypes":
        return any(v in entry.get("PlatformTypes", []) for v in values)
    if key == "DocumentType":
        return entry.get("DocumentType") in values
    if key == "TargetType":
        return entry.get("TargetType") in values
    if key == "CloudProviders":
        return "AWS" in values
    if key.startswith("tag:"):
        tag_key = key[4:]
        tags = {t["Key"]: t["Value"] for t in entry.get("Tags", [])}
        return tag_key in tags and (not values or tags[tag_key] in values)
    return True


@operation("ListDocuments")
def list_documents(request: dict, ctx: Context) -> dict:
    ctx.authorize("ssm:ListDocuments", "*")
    filters = _normalize_filters(request)
    entries = [doc.identifier() for doc in aws_documents().values()] + _user_documents(ctx)
    entries.sort(key=lambda e: e["Name"])
    matched = [e for e in entries if all(_entry_matches(f, e, ctx.account_id) for f in filters)]
    max_results = request.get("MaxResults") or LIST_DEFAULT_MAX_RESULTS
    page, token = paginate(matched, int(max_results), request.get("NextToken"), {"Filters": filters})
    for entry in page:
        entry.pop("_shared_publicly", None)
    out: dict[str, Any] = {"DocumentIdentifiers": page}
    if token:
        out["NextToken"] = token
    return out
