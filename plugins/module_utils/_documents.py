# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE: this file is internal to the fleetops.ssm collection. It is not a public API and may
# change at any time without notice. Do not import it from outside the collection.

"""SSM documents: one function per API call, content parsing, validation and semantic comparison."""

from __future__ import annotations

import hashlib
import json
import re
import time
import traceback

try:
    import yaml
except ImportError:  # PyYAML comes with ansible-core, but a module may run on a host without it
    yaml = None
    YAML_IMPORT_ERROR = traceback.format_exc()
else:
    YAML_IMPORT_ERROR = None

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.transformation import boto3_resource_to_ansible_dict

from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import SSMErrorHandler
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import ssm_retry

# botocore's DocumentType enum.
DOCUMENT_TYPES = (
    "Command", "Policy", "Automation", "Session", "Package", "ApplicationConfiguration",
    "ApplicationConfigurationSchema", "DeploymentStrategy", "ChangeCalendar", "Automation.ChangeTemplate",
    "ProblemAnalysis", "ProblemAnalysisTemplate", "CloudFormation", "ConformancePackTemplate", "QuickSetup",
    "ManualApprovalPolicy", "AutoApprovalPolicy",
)
DOCUMENT_FORMATS = ("JSON", "YAML", "TEXT")
DEFAULT_TYPE = "Command"
DEFAULT_FORMAT = "JSON"  # AWS's default
TEXT_TYPES = ("ChangeCalendar",)  # the only documents whose content is plain text (iCalendar)
COMMAND_SCHEMA_VERSIONS = ("1.2", "2.0", "2.2")
STEP_TYPES = ("Command", "Automation", "Automation.ChangeTemplate")  # documents made of mainSteps

# Limits from botocore's model and the API reference (MaxDocumentSizeExceeded: 64 KB).
MAX_CONTENT_BYTES = 64 * 1024
MAX_ACCOUNTS_PER_CALL = 20  # ModifyDocumentPermission's AccountIdsToAdd / AccountIdsToRemove
MAX_TARGET_TYPE = 200
RESERVED_PREFIXES = ("aws", "amazon", "amzn")
RESOURCE_TYPE = "Document"  # for the tagging API
PUBLIC = "all"
LATEST = "latest"
KEEP = "keep"

_NAME_RE = re.compile(r"^[a-zA-Z0-9_\-.]{3,128}$")
_VERSION_NAME_RE = re.compile(r"^[a-zA-Z0-9_\-.]{1,128}$")
_VERSION_NUMBER_RE = re.compile(r"^[1-9][0-9]*$")
_VERSION_RE = re.compile(r"^([$]LATEST|[$]DEFAULT|[1-9][0-9]*)$")
_SCHEMA_VERSION_RE = re.compile(r"^[0-9]+\.[0-9]+$")
_TARGET_TYPE_RE = re.compile(r"^/[\w.\-:/]*$")
_ACCOUNT_RE = re.compile(r"^[0-9]{12}$")

# Waiting for a new version to become Active: seconds between DescribeDocument calls.
_WAIT_DELAYS = (0.5, 1, 2, 3, 5)


class DocumentValidationError(AnsibleSSMError):
    """The input breaks an SSM document rule; raised before the call that would act on it."""


class DocumentFailedError(AnsibleSSMError):
    """A document version ended up Failed (or never became Active)."""


# ---------------------------------------------------------------------------------------------
# API calls. Each one is a single SSM operation; none takes a module.
# ---------------------------------------------------------------------------------------------


def version_arguments(version=None, version_name=None):
    """DocumentVersion / VersionName arguments: a number, $LATEST or $DEFAULT is a version, anything else a name."""
    arguments = {}
    if version is not None and _VERSION_RE.match(str(version)):
        arguments["DocumentVersion"] = str(version)
    elif version is not None:
        arguments["VersionName"] = str(version)
    if version_name is not None:
        arguments["VersionName"] = version_name
    return arguments


@SSMErrorHandler.list_error_handler("describe document", default_value=None)
@ssm_retry()
def describe_document(client, name, version=None):
    """The Document of DescribeDocument, or None when the document does not exist.

    ``version`` is a version number, ``$LATEST``, ``$DEFAULT`` or a version name; unset means the
    default version.
    """
    return client.describe_document(Name=name, **version_arguments(version))["Document"]


@SSMErrorHandler.list_error_handler("get document", default_value=None)
@ssm_retry()
def get_document(client, name, version=None, document_format=None):
    """GetDocument's answer (content and its format), or None when the document does not exist."""
    arguments = version_arguments(version)
    if document_format:
        arguments["DocumentFormat"] = document_format
    result = client.get_document(Name=name, **arguments)
    result.pop("ResponseMetadata", None)
    return result


@SSMErrorHandler.list_error_handler("list documents", default_value=[])
@ssm_retry()
def list_documents(client, filters=None):
    paginator = client.get_paginator("list_documents")
    arguments = {"PaginationConfig": {"PageSize": 50}}
    if filters:
        arguments["Filters"] = filters
    return paginator.paginate(**arguments).build_full_result().get("DocumentIdentifiers", [])


@SSMErrorHandler.list_error_handler("list document versions", default_value=None)
@ssm_retry()
def list_document_versions(client, name):
    """Every version of the document, or None when it does not exist."""
    paginator = client.get_paginator("list_document_versions")
    result = paginator.paginate(Name=name, PaginationConfig={"PageSize": 50}).build_full_result()
    return result.get("DocumentVersions", [])


@SSMErrorHandler.common_error_handler("create document")
@ssm_retry()
def create_document(client, request):
    return client.create_document(**request)["DocumentDescription"]


@SSMErrorHandler.common_error_handler("update document")
@ssm_retry()
def update_document(client, request):
    return client.update_document(**request)["DocumentDescription"]


@SSMErrorHandler.common_error_handler("update document default version")
@ssm_retry()
def update_document_default_version(client, name, version):
    return client.update_document_default_version(Name=name, DocumentVersion=str(version))["Description"]


@SSMErrorHandler.deletion_error_handler("delete document")
@ssm_retry()
def delete_document(client, name, version=None):
    """Delete every version of the document, or one (a number or a version name); False when it was gone."""
    client.delete_document(Name=name, **version_arguments(version))
    return True


@SSMErrorHandler.common_error_handler("describe document permission")
@ssm_retry()
def _describe_document_permission(client, name, next_token=None):
    arguments = {"Name": name, "PermissionType": "Share", "MaxResults": 200}
    if next_token:
        arguments["NextToken"] = next_token
    return client.describe_document_permission(**arguments)


def describe_document_permission(client, name):
    """The accounts the document is shared with (``all`` when public), lower-cased, sorted."""
    accounts, token = [], None
    while True:
        page = _describe_document_permission(client, name, token)
        accounts.extend(page.get("AccountIds") or [])
        token = page.get("NextToken")
        if not token:
            return sorted(account.lower() for account in accounts)


_NOT_OWNER_CODES = ("InvalidDocumentOperation", "InvalidDocument", "InvalidPermissionType")


def sharing_of(client, name):
    """The accounts an owned document is shared with; None for a document the caller does not own."""
    try:
        return describe_document_permission(client, name)
    except AnsibleSSMError as e:
        if e.error_code in _NOT_OWNER_CODES:
            return None
        raise


@SSMErrorHandler.common_error_handler("modify document permission")
@ssm_retry()
def _modify_document_permission(client, name, add, remove):
    arguments = {"Name": name, "PermissionType": "Share"}
    if add:
        arguments["AccountIdsToAdd"] = add
    if remove:
        arguments["AccountIdsToRemove"] = remove
    client.modify_document_permission(**arguments)


def modify_document_permission(client, name, add=(), remove=()):
    """Share with and unshare from these accounts, 20 of each per call as AWS allows."""
    add, remove = sorted(add), sorted(remove)
    step = MAX_ACCOUNTS_PER_CALL
    for start in range(0, max(len(add), len(remove)), step):
        _modify_document_permission(client, name, add[start:start + step], remove[start:start + step])


def wait_until_active(client, name, version, timeout, sleep=time.sleep, clock=time.monotonic):
    """DescribeDocument of the version until it is Active; a Failed version raises with AWS's reason."""
    deadline = clock() + timeout
    attempt = 0
    while True:
        document = describe_document(client, name, version)
        if document is None:
            raise DocumentFailedError(f"Document {name} version {version} disappeared while waiting for it to become Active.")
        status = document.get("Status")
        if status == "Active":
            return document
        if status == "Failed":
            reason = document.get("StatusInformation") or "AWS gave no reason (StatusInformation is empty)"
            raise DocumentFailedError(f"Document {name} version {version} failed: {reason}")
        if clock() >= deadline:
            raise DocumentFailedError(
                f"Document {name} version {version} is still {status} after {timeout} seconds; raise wait_timeout "
                "or check the document in the Systems Manager console."
            )
        sleep(_WAIT_DELAYS[min(attempt, len(_WAIT_DELAYS) - 1)])
        attempt += 1


# ---------------------------------------------------------------------------------------------
# Content: parsing, validation, comparison.
# ---------------------------------------------------------------------------------------------


if yaml is not None:
    class _Loader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
        """YAML without implicit timestamps: a date stays the string it is in a JSON document."""

    _Loader.yaml_implicit_resolvers = {
        key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


def check_yaml(module):
    """Fail the module when PyYAML is missing on the host that runs it (documents and diffs are YAML)."""
    if yaml is None:
        module.fail_json(msg=missing_required_lib("PyYAML"), exception=YAML_IMPORT_ERROR)


def _yaml_load(text):
    return yaml.load(text, Loader=_Loader)  # nosec B506 - a SafeLoader subclass


def plain(value):
    """The value as plain JSON data (Ansible hands over str subclasses and may hand over dates)."""
    return json.loads(json.dumps(value, default=str))


def parse_text(text):
    """(data, format) of a document's text: JSON first, then YAML; (None, None) when neither gives a mapping."""
    try:
        data = json.loads(text)
        if isinstance(data, dict):
            return data, "JSON"
    except ValueError:
        pass
    try:
        data = _yaml_load(text)
    except yaml.YAMLError:
        return None, None
    if isinstance(data, dict):
        return plain(data), "YAML"
    return None, None


def parse_stored(text, document_format):
    """The data of a stored version's content (as GetDocument returns it); None for TEXT."""
    if document_format == "TEXT":
        return None
    try:
        data = json.loads(text) if document_format == "JSON" else _yaml_load(text)
    except (ValueError, yaml.YAMLError):
        return None
    return plain(data) if isinstance(data, dict) else None


def dump(data, document_format):
    if document_format == "JSON":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True)


def _yaml_error(text):
    try:
        _yaml_load(text)
    except yaml.YAMLError as e:
        return str(e).replace("\n", " ")
    return None


class DesiredContent:
    """The content a task asks for: its data (None for TEXT), the text to send, and its format."""

    def __init__(self, data, text, document_format):
        self.data = data
        self.text = text
        self.document_format = document_format

    @property
    def size(self):
        return len(self.text.encode("utf-8"))

    @property
    def hash(self):
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def same_as(self, data, text, document_format):
        """Semantic equality with a stored version: key order, YAML versus JSON and whitespace do not count."""
        if self.document_format == "TEXT" or document_format == "TEXT":
            return self.document_format == document_format and normalise_text(self.text) == normalise_text(text)
        return data is not None and self.data == data


def normalise_text(text):
    return "\n".join(line.rstrip() for line in (text or "").strip().splitlines())


def desired_content(content, document_format=None, document_type=None):
    """Read the task's content (a dict, or YAML/JSON/iCalendar text) into a DesiredContent, checked.

    Without ``document_type`` (an existing document keeps its type) the checks that depend on the
    type wait for ``validate_content`` with the document's type.
    """
    kind = document_type or DEFAULT_TYPE
    if document_format == "TEXT" and kind not in TEXT_TYPES:
        raise DocumentValidationError(
            f"document_format TEXT is only for {', '.join(TEXT_TYPES)} documents (iCalendar content); a {kind} "
            "document is JSON or YAML."
        )
    if isinstance(content, dict):
        if document_format == "TEXT":
            raise DocumentValidationError("content is a mapping, but document_format TEXT needs the document as text.")
        data = plain(content)
        fmt = document_format or DEFAULT_FORMAT
        result = DesiredContent(data, dump(data, fmt), fmt)
    elif isinstance(content, str):
        if not content.strip():
            raise DocumentValidationError("content is empty: give the document as a mapping or as YAML/JSON text.")
        if document_format == "TEXT" or (document_format is None and kind in TEXT_TYPES and parse_text(content)[0] is None):
            result = DesiredContent(None, content, "TEXT")
        else:
            data, detected = parse_text(content)
            if data is None:
                problem = _yaml_error(content)
                raise DocumentValidationError(
                    "content is neither a JSON object nor a YAML mapping"
                    + (f" ({problem})" if problem else "")
                    + ". Give the document as a mapping, or as JSON or YAML text whose top level is a mapping"
                    + ("; change calendars (iCalendar text) need document_type: ChangeCalendar." if document_type is None else ".")
                )
            fmt = document_format or detected
            text = content if fmt == detected else dump(data, fmt)
            result = DesiredContent(data, text, fmt)
    else:
        raise DocumentValidationError(
            f"content must be a mapping or YAML/JSON text, not {type(content).__name__}."
        )
    validate_content(result, document_type)
    return result


def validate_content(content, document_type):
    """The checks AWS makes on a document's content, made before any API call.

    With ``document_type`` None only the checks every type shares are made.
    """
    if content.size > MAX_CONTENT_BYTES:
        raise DocumentValidationError(
            f"The document is {content.size:,} bytes as {content.document_format}; AWS's limit is 64 KB "
            f"({MAX_CONTENT_BYTES:,} bytes). Split it, or move scripts into files the document downloads."
        )
    if content.data is None:
        return
    data = content.data
    if "schemaVersion" not in data:
        raise DocumentValidationError(
            "The content has no schemaVersion. Every SSM document declares its schema, for example "
            "schemaVersion: '2.2' for a Command document or '0.3' for an Automation runbook."
        )
    schema = str(data["schemaVersion"])
    if not _SCHEMA_VERSION_RE.match(schema):
        raise DocumentValidationError(f"schemaVersion {schema!r} is not a schema version such as '2.2'.")
    if document_type == "Command":
        if schema not in COMMAND_SCHEMA_VERSIONS:
            raise DocumentValidationError(
                f"schemaVersion {schema} is not a Command document schema; use one of {', '.join(COMMAND_SCHEMA_VERSIONS)}."
            )
        if schema == "1.2":
            if not isinstance(data.get("runtimeConfig"), dict) or not data["runtimeConfig"]:
                raise DocumentValidationError(
                    "A Command document with schemaVersion 1.2 needs runtimeConfig (the plugins it runs); "
                    "schemaVersion 2.2 documents use mainSteps instead."
                )
            return
    if document_type in STEP_TYPES:
        _validate_steps(data.get("mainSteps"), document_type, schema)


def _validate_steps(steps, document_type, schema):
    if not isinstance(steps, list) or not steps:
        raise DocumentValidationError(
            f"A {document_type} document with schemaVersion {schema} needs mainSteps: a list of steps, each with an "
            "action (for example aws:runShellScript) and a name."
        )
    for index, step in enumerate(steps):
        missing = [key for key in ("action", "name") if not (isinstance(step, dict) and step.get(key))]
        if missing:
            raise DocumentValidationError(f"mainSteps[{index}] has no {' and no '.join(missing)}; every step needs both.")


def content_for_display(data, text, document_format):
    """The content as it is shown in results and diffs: data for JSON/YAML, the text for TEXT."""
    if document_format == "TEXT":
        return text
    return data


# ---------------------------------------------------------------------------------------------
# Option checks.
# ---------------------------------------------------------------------------------------------


def validate_name(name):
    if not _NAME_RE.match(name or ""):
        raise DocumentValidationError(
            f"Document name {name!r} is not valid: use 3 to 128 letters, digits, '_', '-' or '.'."
        )
    if name.lower().startswith(RESERVED_PREFIXES):
        raise DocumentValidationError(
            f"Document name {name!r} starts with a prefix AWS reserves for its own documents "
            f"({', '.join(RESERVED_PREFIXES)}, in any case); choose another name."
        )


def validate_version_name(value, option="version_name"):
    if not _VERSION_NAME_RE.match(value):
        raise DocumentValidationError(
            f"{option} {value!r} is not a valid version name: use 1 to 128 letters, digits, '_', '-' or '.'."
        )


def validate_version(value, option):
    """A version number or a version name (``default_version`` also takes latest and keep)."""
    if _VERSION_NUMBER_RE.match(value):
        return
    validate_version_name(value, option)


def validate_target_type(value):
    if len(value) > MAX_TARGET_TYPE or not _TARGET_TYPE_RE.match(value):
        raise DocumentValidationError(
            f"target_type {value!r} is not valid: it is a resource type path such as / (every type), "
            "/AWS::EC2::Instance or /AWS::IAM::Role, at most 200 characters."
        )


def normalise_permissions(permissions):
    """The account ids (and ``all``) to share with, checked, lower-cased, sorted; None when unset."""
    if permissions is None:
        return None
    result = set()
    for item in permissions:
        value = str(item).strip().lower()
        if value != PUBLIC and not _ACCOUNT_RE.match(value):
            raise DocumentValidationError(
                f"permissions entry {item!r} is not an AWS account id (12 digits) or 'all' (shares the document publicly)."
            )
        result.add(value)
    if PUBLIC in result and len(result) > 1:
        raise DocumentValidationError(
            "permissions lists 'all' and account ids: 'all' shares the document publicly with every account, "
            "so list either 'all' alone or the account ids."
        )
    return sorted(result)


def requires_request(requires):
    """The task's requires as AWS's DocumentRequires list; None when unset."""
    if requires is None:
        return None
    result = []
    for item in requires:
        entry = {"Name": item["name"]}
        if item.get("version"):
            entry["Version"] = str(item["version"])
        if item.get("require_type"):
            entry["RequireType"] = item["require_type"]
        if item.get("version_name"):
            entry["VersionName"] = item["version_name"]
        result.append(entry)
    return result


def same_requires(wanted, current):
    def key(items):
        return sorted(json.dumps(item, sort_keys=True) for item in (items or []))
    return key(wanted) == key(current)


def validate_options(params):
    """Every check that needs no API call."""
    validate_name(params["name"])
    if params.get("version_name"):
        validate_version_name(params["version_name"])
    if params.get("target_type"):
        validate_target_type(params["target_type"])
    default_version = params.get("default_version")
    if default_version and default_version not in (LATEST, KEEP):
        validate_version(default_version, "default_version")
    if params.get("version"):
        validate_version(params["version"], "version")
    return normalise_permissions(params.get("permissions"))


# ---------------------------------------------------------------------------------------------
# Requests and predictions.
# ---------------------------------------------------------------------------------------------


def create_request(name, content, document_type, target_type=None, version_name=None, requires=None, tags=None):
    request = {
        "Name": name,
        "Content": content.text,
        "DocumentType": document_type or DEFAULT_TYPE,
        "DocumentFormat": content.document_format,
    }
    if target_type:
        request["TargetType"] = target_type
    if version_name:
        request["VersionName"] = version_name
    if requires:
        request["Requires"] = requires
    if tags:
        request["Tags"] = ansible_dict_to_boto3_tag_list(tags)
    return request


def update_request(name, content, target_type=None, version_name=None):
    request = {
        "Name": name,
        "Content": content.text,
        "DocumentVersion": "$LATEST",
        "DocumentFormat": content.document_format,
    }
    if target_type:
        request["TargetType"] = target_type
    if version_name:
        request["VersionName"] = version_name
    return request


def resolve_version(wanted, versions):
    """The version number ``wanted`` names (a number or a version name) among ``versions``; None if none."""
    for item in versions or []:
        if wanted in (item.get("DocumentVersion"), item.get("VersionName")):
            return item["DocumentVersion"]
    return None


def version_numbers(versions):
    return sorted((item["DocumentVersion"] for item in versions or []), key=int)


def predict_description(current, name, content, document_type, version, target_type=None, version_name=None,
                        requires=None, default_version=None):
    """DescribeDocument as AWS will answer after a create or update: check mode's answer."""
    predicted = dict(current or {})
    predicted.update({
        "Name": name,
        "DocumentType": (current or {}).get("DocumentType") or document_type or DEFAULT_TYPE,
        "DocumentFormat": content.document_format,
        "DocumentVersion": version,
        "LatestVersion": version,
        "DefaultVersion": default_version or version,
        "Status": "Active",
        "Hash": content.hash,
        "HashType": "Sha256",
    })
    predicted.pop("StatusInformation", None)
    predicted.pop("CreatedDate", None)
    if version_name:
        predicted["VersionName"] = version_name
    else:
        predicted.pop("VersionName", None)
    if target_type:
        predicted["TargetType"] = target_type
    if requires:
        predicted["Requires"] = requires
    if content.data is not None:
        predicted["SchemaVersion"] = str(content.data.get("schemaVersion"))
        if content.data.get("description"):
            predicted["Description"] = str(content.data["description"])
        else:
            predicted.pop("Description", None)
        predicted["Parameters"] = parameters_of(content.data)
    return predicted


def parameters_of(data):
    """DocumentParameter entries for a content's parameters, as DescribeDocument lists them."""
    result = []
    for name, spec in ((data or {}).get("parameters") or {}).items():
        spec = spec if isinstance(spec, dict) else {}
        item = {"Name": name, "Type": spec.get("type", "String")}
        if spec.get("description"):
            item["Description"] = spec["description"]
        if "default" in spec:
            default = spec["default"]
            if isinstance(default, bool):
                item["DefaultValue"] = "true" if default else "false"
            elif isinstance(default, str):
                item["DefaultValue"] = default
            else:
                item["DefaultValue"] = json.dumps(default)
        result.append(item)
    return result


# ---------------------------------------------------------------------------------------------
# Output.
# ---------------------------------------------------------------------------------------------


def versions_to_ansible(versions):
    """ListDocumentVersions entries, oldest first, snake_case."""
    ordered = sorted(versions or [], key=lambda item: int(item["DocumentVersion"]))
    return [boto3_resource_to_ansible_dict(item, force_tags=False) for item in ordered]


def document_to_ansible(description, versions=None, permissions=None, content=None, include_content=False):
    """A document as the modules return it: snake_case, tags as a dict."""
    if not description:
        return {}
    result = boto3_resource_to_ansible_dict(description, force_tags=True)
    result.setdefault("parameters", [])
    result.setdefault("platform_types", [])
    for key in ("version_name", "target_type", "description", "status_information", "schema_version"):
        result.setdefault(key, None)
    default_name = None
    for item in versions or []:
        if item.get("DocumentVersion") == description.get("DefaultVersion"):
            default_name = item.get("VersionName")
    result["default_version_name"] = default_name
    if permissions is not None:
        result["permissions"] = list(permissions)
    if include_content:
        result["content"] = content
    return result


def document_for_diff(description, permissions=None, content=None, tags=None):
    """The document as YAML text for diff mode: the settings, then the content."""
    if not description:
        return ""
    shown = {
        "name": description.get("Name"),
        "document_type": description.get("DocumentType"),
        "document_format": description.get("DocumentFormat"),
        "target_type": description.get("TargetType"),
        "version_name": description.get("VersionName"),
        "default_version": description.get("DefaultVersion"),
        "latest_version": description.get("LatestVersion"),
        "permissions": list(permissions or []),
        "tags": dict(tags or {}),
        "content": content,
    }
    shown = {key: value for key, value in shown.items() if value is not None}
    return yaml.safe_dump(plain(shown), sort_keys=False, default_flow_style=False, allow_unicode=True)


def identifier_to_ansible(identifier):
    """A ListDocuments entry, snake_case, tags as a dict."""
    return boto3_resource_to_ansible_dict(identifier, force_tags=True)
