"""Finding a document to run (SendCommand, StartSession): AWS-owned ones or the account's (moto's)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .documents import aws_documents, platforms_for
from .registry import AwsError, Context

PARAM_REF = re.compile(r"\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}")


@dataclass
class ResolvedDocument:
    name: str
    version: str
    document_type: str
    content: dict
    platform_types: list[str]
    owner: str

    @property
    def parameters(self) -> dict[str, dict]:
        params = self.content.get("parameters") or {}
        return params if isinstance(params, dict) else {}


def document_name(raw: str) -> str:
    """A document name from a name or an ARN (``arn:aws:ssm:us-east-1::document/AWS-RunShellScript``)."""
    if raw.startswith("arn:") and ":document/" in raw:
        return raw.partition(":document/")[2]
    return raw


def resolve_document(ctx: Context, raw_name: str, version: str | None = None) -> ResolvedDocument | None:
    """The document, or None when it does not exist; InvalidDocumentVersion for a bad version."""
    name = document_name(raw_name)
    owned = aws_documents().get(name)
    if owned is not None:
        if version not in (None, "$LATEST", "$DEFAULT", owned.version):
            raise AwsError("InvalidDocumentVersion", "The document version is not valid or does not exist.")
        return ResolvedDocument(name, owned.version, owned.document_type, owned.content,
                                list(owned.platform_types), "Amazon")
    try:
        from moto.ssm.models import ssm_backends

        backend = ssm_backends[ctx.account_id][ctx.region]
        documents = backend._documents.get(name)
    except Exception:  # pragma: no cover - moto internals moved
        documents = None
    if documents is None:
        return None
    if version in (None, "$DEFAULT"):
        doc = documents.get_default_version()
    elif version == "$LATEST":
        doc = documents.get_latest_version()
    else:
        doc = documents.find_by_version(version)
        if doc is None:
            raise AwsError("InvalidDocumentVersion", "The document version is not valid or does not exist.")
    content = doc.content_json if isinstance(doc.content_json, dict) else {}
    return ResolvedDocument(doc.name, str(doc.document_version), doc.document_type, content,
                            platforms_for(content), doc.owner)


def parameter_values(doc: ResolvedDocument, given: dict[str, list[str]] | None,
                     error_code: str = "InvalidParameters") -> dict[str, Any]:
    """The document's parameters with the request's values and the defaults, checked as AWS checks them.

    String parameters become one string, StringList parameters a list of strings.
    """
    given = dict(given or {})
    spec = doc.parameters
    unknown = sorted(set(given) - set(spec))
    if unknown:
        raise AwsError(error_code, f"Parameter \"{unknown[0]}\" is not declared in document {doc.name}.")
    values: dict[str, Any] = {}
    for name, definition in spec.items():
        definition = definition if isinstance(definition, dict) else {}
        kind = definition.get("type", "String")
        if name in given:
            raw = list(given[name])
        elif "default" in definition:
            default = definition["default"]
            raw = [str(v) for v in default] if isinstance(default, list) else [
                ("true" if default else "false") if isinstance(default, bool) else str(default)]
            if kind == "StringList" and isinstance(default, str):
                raw = [default] if default else []
        else:
            raise AwsError(error_code, f"Missing required parameter \"{name}\" for document {doc.name}.")
        if kind == "StringList":
            value: Any = raw
            count = len(raw)
            if "minItems" in definition and count < int(definition["minItems"]) and name in given:
                raise AwsError(error_code, f"Parameter \"{name}\" needs at least {definition['minItems']} value(s).")
            if "maxItems" in definition and count > int(definition["maxItems"]):
                raise AwsError(error_code, f"Parameter \"{name}\" takes at most {definition['maxItems']} values.")
            checked = raw
        else:
            if len(raw) > 1:
                raise AwsError(error_code, f"Parameter \"{name}\" of type {kind} takes one value.")
            value = raw[0] if raw else ""
            checked = [value] if name in given else []
        allowed = definition.get("allowedValues")
        pattern = definition.get("allowedPattern")
        for item in checked:
            if allowed and item not in [str(a) for a in allowed]:
                raise AwsError(error_code, f"Parameter \"{name}\" value \"{item}\" is not one of {allowed}.")
            if pattern and re.fullmatch(pattern, item) is None:
                raise AwsError(error_code, f"Parameter \"{name}\" value \"{item}\" does not match the allowed "
                                           f"pattern {pattern}.")
        values[name] = value
    return values


def substitute(value: Any, params: dict[str, Any]) -> Any:
    """Replace ``{{ name }}`` references; a string that is one reference takes the value as is (lists stay lists)."""
    if isinstance(value, str):
        whole = PARAM_REF.fullmatch(value.strip())
        if whole and whole.group(1) in params:
            return params[whole.group(1)]

        def one(match: re.Match) -> str:
            name = match.group(1)
            if name not in params:
                return match.group(0)
            found = params[name]
            return "\n".join(found) if isinstance(found, list) else str(found)

        return PARAM_REF.sub(one, value)
    if isinstance(value, list):
        out: list[Any] = []
        for item in value:
            replaced = substitute(item, params)
            # A StringList parameter inside a list (runCommand: ["{{ commands }}"]) is spliced in.
            if isinstance(replaced, list) and isinstance(item, str) and PARAM_REF.fullmatch(item.strip()):
                out.extend(replaced)
            else:
                out.append(replaced)
        return out
    if isinstance(value, dict):
        return {k: substitute(v, params) for k, v in value.items()}
    return value
