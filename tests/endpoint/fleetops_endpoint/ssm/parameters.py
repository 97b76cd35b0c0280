"""Parameter Store: PutParameter, GetParameter(s), GetParametersByPath,
DeleteParameter(s), DescribeParameters, GetParameterHistory,
LabelParameterVersion, UnlabelParameterVersion, and tags of type Parameter.

Behaviour follows the botocore model and the AWS API reference: name rules,
tiers and their size limits, SecureString encryption through KMS, versions
(100 kept), labels, policies, data types, filters and page sizes.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import ipaddress
import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable
from urllib.parse import urlparse

from . import kmsglue
from .registry import AwsError, Context, operation, paginate, regional_store, validation_error
from .tags import check_tag_keys, taggable

MAX_VERSIONS = 100
MAX_LABELS_PER_VERSION = 10
MAX_HIERARCHY_LEVELS = 15
MAX_NAME_WITH_ARN = 1011
STANDARD_VALUE_LIMIT = 4096
ADVANCED_VALUE_LIMIT = 8192
MAX_STANDARD_PARAMETERS = 10_000
MAX_ADVANCED_PARAMETERS = 100_000
MAX_POLICIES = 10
MAX_TAGS = 50
DEFAULT_TIER = "Standard"  # the account's default-tier setting when nothing changed it
WEBHOOK_NAMESPACE = "/d9d01087-4a3f-49e0-b0b4-d568d7826553/ssm/integrations/webhook/"

NAME_RULES = (
    'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can '
    "consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers "
    "and the following 3 symbols .-_"
)
NAME_PREFIX_RULES = 'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive).'
PATH_PREFIX_RULES = (
    'Parameter name: can\'t be prefixed with "ssm" (case-insensitive). If formed as a path, it can consist of '
    "sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the "
    "following 3 symbols .-_"
)
PATH_RULES = (
    'The parameter doesn\'t meet the parameter name requirements. The parameter name must begin with a forward '
    'slash "/". It can\'t be prefixed with \\"aws\\" or \\"ssm\\" (case-insensitive). It must use only letters, '
    "numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not "
    'allowed. All sub-paths, if specified, must use the forward slash symbol "/". Valid example: '
    "/get/parameters2-/by1./path0_."
)
COMMON_FILTER_PREFIX = (
    'Filters for common parameters can\'t be prefixed with "aws" or "ssm" (case-insensitive). When using global '
    "parameters, please specify within a global namespace."
)
HIERARCHY_LIMIT = (
    "A hierarchy can have a maximum of 15 levels. For more information, see "
    "https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-su-create.html"
    "#sysman-parameter-name-constraints"
)
STANDARD_TOO_LARGE = (
    "Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger "
    "parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see "
    "https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html"
)
ADVANCED_TOO_LARGE = (
    "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length less "
    "than or equal to 8192"
)
NO_DOWNGRADE = (
    "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the "
    "advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced "
    "parameter and recreate it as a standard parameter."
)
POLICIES_NEED_ADVANCED = (
    "Parameter policies are supported only for advanced-tier parameters. To attach policies, use the "
    "Advanced or Intelligent-Tiering tier."
)
ALREADY_EXISTS = (
    "The parameter already exists. To overwrite this value, set the overwrite option in the request to true."
)
TAGS_WITH_OVERWRITE = (
    "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please "
    "remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or "
    "RemoveTagsFromResource."
)
EMPTY_VALUE = (
    "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length "
    "greater than or equal to 1."
)
NESTED_VALUE = 'Parameter value can\'t nest another parameter. Do not use "{{}}" in the value.'

VALID_TYPES = ("String", "StringList", "SecureString")
DATA_TYPES = (
    "text", "aws:ec2:image", "aws:ssm:integration", "aws:region", "aws:account:id", "boolean", "integer",
    "float", "binary", "hostname", "email", "ipv4-address", "ipv6-address", "url", "json", "jsonc",
)
ADVANCED_ONLY_DATA_TYPES = ("url", "json", "jsonc")
FIXED_DATA_TYPES = ("aws:ec2:image", "aws:ssm:integration")
POLICY_TYPES = ("Expiration", "ExpirationNotification", "NoChangeNotification")

_NAME_CHARS = re.compile(r"^[a-zA-Z0-9_.\-/]+$")
_LABEL_CHARS = re.compile(r"^[a-zA-Z0-9_.\-]+$")
_AMI_RE = re.compile(r"^ami-([0-9a-f]{8}|[0-9a-f]{17})$")


# --------------------------------------------------------------------------
# data


@dataclass
class Version:
    version: int
    type: str
    value: str  # plaintext, or base64 ciphertext for SecureString
    data_type: str
    tier: str
    modified: float
    modified_user: str
    key_id: str | None = None  # as the caller named it (SecureString only)
    key_arn: str | None = None
    description: str | None = None
    allowed_pattern: str | None = None
    policies: list[dict] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)


@dataclass
class Parameter:
    name: str
    versions: list[Version] = field(default_factory=list)

    @property
    def latest(self) -> Version:
        return self.versions[-1]

    def version(self, number: int) -> Version | None:
        for item in self.versions:
            if item.version == number:
                return item
        return None

    def labelled(self, label: str) -> Version | None:
        for item in self.versions:
            if label in item.labels:
                return item
        return None


def storage_key(name: str) -> str:
    """'/foo' and 'foo' name the same parameter; deeper paths keep their slash."""
    if name.startswith("/") and "/" not in name[1:]:
        return name[1:]
    return name


@regional_store("parameters")
class ParameterStore:
    def __init__(self, account_id: str, region: str) -> None:
        self.params: dict[str, Parameter] = {}

    def get(self, name: str) -> Parameter | None:
        return self.params.get(storage_key(name))

    def put(self, param: Parameter) -> None:
        self.params[storage_key(param.name)] = param

    def delete(self, name: str) -> Parameter | None:
        return self.params.pop(storage_key(name), None)

    def sorted(self) -> list[Parameter]:
        return sorted(self.params.values(), key=lambda p: p.name)

    def count_tier(self, tier: str) -> int:
        return sum(1 for p in self.params.values() if p.latest.tier == tier)


def _store(ctx: Context) -> ParameterStore:
    store: ParameterStore = ctx.store("parameters")
    _expire(ctx, store)
    return store


def _expire(ctx: Context, store: ParameterStore) -> None:
    """Delete parameters whose Expiration policy has passed, as Parameter Store does."""
    now = ctx.now()
    for param in list(store.params.values()):
        for policy in param.latest.policies:
            if policy["type"] == "Expiration" and policy["expires"] <= now:
                store.delete(param.name)
                ctx.store("tags").drop("Parameter", storage_key(param.name))
                break


def parameter_arn(ctx: Context, name: str) -> str:
    return ctx.arn("parameter/" + name.lstrip("/"))


# --------------------------------------------------------------------------
# names


def check_name_for_write(ctx: Context, raw: str) -> str:
    name = raw.strip()
    if " " in name or not name:
        raise validation_error(NAME_RULES)
    bare = name[1:] if name.startswith("/") else name
    first = bare.split("/", 1)[0].lower()
    is_path = "/" in bare
    if first.startswith("aws") or first.startswith("ssm"):
        if is_path and first.startswith("aws"):
            raise AwsError("AccessDeniedException", f"No access to reserved parameter name: {name}.")
        raise validation_error(PATH_PREFIX_RULES if is_path else NAME_PREFIX_RULES)
    if not _NAME_CHARS.match(name):
        raise validation_error(NAME_RULES)
    if is_path and not name.startswith("/"):
        raise validation_error(NAME_RULES)
    if "//" in name or name.endswith("/") or name == "/":
        raise validation_error(NAME_RULES)
    levels = len(bare.split("/")) if name.startswith("/") else 1
    if levels > MAX_HIERARCHY_LEVELS:
        raise AwsError("HierarchyLevelLimitExceededException", HIERARCHY_LIMIT)
    arn = parameter_arn(ctx, name)
    if len(arn) > MAX_NAME_WITH_ARN:
        raise validation_error(
            f"Parameter name: {name[:64]}... is too long. The name, including the {len(arn) - len(name.lstrip('/'))}"
            f" characters of the ARN prefix arn:...:parameter/, can have at most {MAX_NAME_WITH_ARN} characters."
        )
    return name


_ARN_RE = re.compile(r"^arn:[a-z-]+:ssm:([^:]*):([^:]*):parameter(/.*)$")


def parse_reference(ctx: Context, raw: str) -> tuple[str, str | None] | None:
    """Name and selector (version or label) from a Get* name; None if it can't name a parameter here."""
    ref = raw.strip()
    if " " in ref:
        raise validation_error(NAME_RULES)
    if ref.startswith("arn:"):
        match = _ARN_RE.match(ref)
        if not match:
            return None
        region, account, rest = match.groups()
        if region != ctx.region or account not in ("", ctx.account_id):
            return None
        ref = rest
    name, sep, selector = ref.partition(":")
    if not name or ":" in selector or (sep and not selector):
        return None
    return name, (selector if sep else None)


def is_public_name(name: str) -> bool:
    return name.lower().startswith("/aws/")


def _public_parameter(ctx: Context, name: str, selector: str | None, decrypt: bool) -> dict | None:
    """AWS-owned public parameters (/aws/service/...), as moto provides them."""
    try:
        from moto.ssm.models import ssm_backends

        backend = ssm_backends[ctx.account_id][ctx.region]
        ref = name + (f":{selector}" if selector else "")
        found = backend.get_parameter(ref)
    except Exception:
        return None
    if found is None:
        return None
    value = found.decrypt(found.value) if decrypt else found.value
    modified = found.last_modified_date
    if isinstance(modified, dt.datetime):
        if modified.tzinfo is None:
            modified = modified.replace(tzinfo=dt.timezone.utc)
        modified = round(modified.timestamp(), 3)
    out = {
        "Name": found.name,
        "Type": found.parameter_type,
        "Value": value if value is not None else "",
        "Version": int(found.version),
        "LastModifiedDate": modified,
        "ARN": f"arn:{ctx.partition}:ssm:{ctx.region}::parameter/{found.name.lstrip('/')}",
        "DataType": found.data_type or "text",
    }
    if selector:
        out["Selector"] = f":{selector}"
    return out


# --------------------------------------------------------------------------
# data types and policies


def _hostname_ok(value: str) -> bool:
    if len(value) > 253 or not value:
        return False
    labels = value.rstrip(".").split(".")
    return all(re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?", label) for label in labels)


def _regions() -> set[str]:
    import botocore.session

    session = botocore.session.get_session()
    names: set[str] = set()
    for partition in session.get_available_partitions():
        names.update(session.get_available_regions("ssm", partition_name=partition))
    return names


def _item_matches_data_type(data_type: str, item: str) -> bool:
    if data_type == "boolean":
        return item.lower() in ("true", "false")
    if data_type == "integer":
        return re.fullmatch(r"[+-]?\d+", item) is not None
    if data_type == "float":
        try:
            float(item)
            return item.strip().lower() not in ("nan", "inf", "-inf", "+inf", "infinity", "-infinity")
        except ValueError:
            return False
    if data_type == "aws:account:id":
        return re.fullmatch(r"\d{12}", item) is not None
    if data_type == "aws:region":
        return item in _regions()
    if data_type == "hostname":
        return _hostname_ok(item)
    if data_type == "email":
        return re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", item) is not None
    if data_type == "ipv4-address":
        try:
            ipaddress.IPv4Address(item)
            return True
        except ValueError:
            return False
    if data_type == "ipv6-address":
        try:
            ipaddress.IPv6Address(item)
            return True
        except ValueError:
            return False
    if data_type == "url":
        parsed = urlparse(item)
        return bool(parsed.scheme and parsed.netloc)
    return True


def _strip_json_comments(text: str) -> str:
    out, i, in_string = [], 0, False
    while i < len(text):
        ch = text[i]
        if in_string:
            out.append(ch)
            if ch == "\\" and i + 1 < len(text):
                out.append(text[i + 1])
                i += 1
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
            out.append(ch)
        elif text.startswith("//", i):
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = len(text) if end < 0 else end + 2
            continue
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def check_data_type(ctx: Context, name: str, data_type: str, param_type: str, value: str) -> None:
    if data_type not in DATA_TYPES:
        raise validation_error(
            f"The following data type is not supported: {data_type} (Data type names are all lowercase.)"
        )
    if data_type == "aws:ec2:image":
        if param_type != "String":
            raise validation_error("The aws:ec2:image data type is supported only for String parameters.")
        if not _AMI_RE.match(value):
            raise validation_error(
                f"Invalid value for the aws:ec2:image data type: {value}. The value must be an AMI ID such as "
                "ami-12345abcdeEXAMPLE."
            )
        return
    if data_type == "aws:ssm:integration":
        if param_type != "SecureString":
            raise validation_error("The aws:ssm:integration data type is supported only for SecureString parameters.")
        if not name.startswith(WEBHOOK_NAMESPACE):
            raise validation_error(
                f"Parameters of the aws:ssm:integration data type must be named {WEBHOOK_NAMESPACE}<integration>."
            )
        return
    if data_type == "text":
        return
    if data_type in ("json", "jsonc", "binary") and param_type == "StringList":
        raise validation_error(f"The {data_type} data type isn't supported for StringList parameters.")
    if data_type in ("json", "jsonc"):
        try:
            json.loads(_strip_json_comments(value) if data_type == "jsonc" else value)
        except ValueError:
            raise validation_error(f"The parameter value isn't valid for the {data_type} data type.")
        return
    if data_type == "binary":
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise validation_error("The parameter value isn't valid for the binary data type (base64 expected).")
        return
    items = value.split(",") if param_type == "StringList" else [value]
    for item in items:
        if not _item_matches_data_type(data_type, item):
            raise validation_error(f"The parameter value {item} isn't valid for the {data_type} data type.")


def _parse_timestamp(text: Any) -> float:
    if not isinstance(text, str):
        raise ValueError("not a string")
    when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.timestamp()


def parse_policies(ctx: Context, text: str) -> list[dict]:
    try:
        data = json.loads(text)
    except ValueError:
        raise AwsError("InvalidPolicyAttributeException", "Policies must be a JSON array of parameter policies.")
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise AwsError("InvalidPolicyAttributeException", "Policies must be a JSON array of parameter policies.")
    if len(data) > MAX_POLICIES:
        raise AwsError(
            "PoliciesLimitExceededException",
            f"You specified {len(data)} policies. A parameter can have at most {MAX_POLICIES} policies.",
        )
    policies: list[dict] = []
    for item in data:
        if not isinstance(item, dict):
            raise AwsError("InvalidPolicyAttributeException", "Each policy must be a JSON object.")
        ptype = item.get("Type")
        if ptype not in POLICY_TYPES:
            raise AwsError(
                "InvalidPolicyTypeException",
                f"The following policy type is not supported: {ptype}. Valid policy types are: "
                + ", ".join(POLICY_TYPES) + ".",
            )
        if item.get("Version") != "1.0":
            raise AwsError("InvalidPolicyAttributeException", f"Policy {ptype}: Version must be 1.0.")
        attributes = item.get("Attributes")
        if not isinstance(attributes, dict):
            raise AwsError("InvalidPolicyAttributeException", f"Policy {ptype}: Attributes are missing.")
        entry = {"type": ptype, "text": json.dumps(item, separators=(",", ":")), "expires": None}
        if ptype == "Expiration":
            try:
                expires = _parse_timestamp(attributes.get("Timestamp"))
            except (ValueError, TypeError):
                raise AwsError(
                    "InvalidPolicyAttributeException",
                    "Policy Expiration: Timestamp must be an ISO 8601 date and time, such as 2030-12-02T21:34:33.000Z.",
                )
            if expires <= ctx.now():
                raise AwsError("InvalidPolicyAttributeException", "Policy Expiration: Timestamp must be in the future.")
            entry["expires"] = expires
        else:
            amount_key = "Before" if ptype == "ExpirationNotification" else "After"
            amount = attributes.get(amount_key)
            if not (isinstance(amount, str) and amount.isdigit() and int(amount) > 0):
                raise AwsError(
                    "InvalidPolicyAttributeException",
                    f"Policy {ptype}: {amount_key} must be a positive whole number given as a string.",
                )
            if attributes.get("Unit") not in ("Days", "Hours"):
                raise AwsError("InvalidPolicyAttributeException", f"Policy {ptype}: Unit must be Days or Hours.")
        policies.append(entry)
    kinds = [p["type"] for p in policies]
    for kind in POLICY_TYPES:
        if kinds.count(kind) > 1:
            raise AwsError(
                "IncompatiblePolicyException",
                f"A parameter can have only one {kind} policy. Review your policies, and try again.",
            )
    if "ExpirationNotification" in kinds and "Expiration" not in kinds:
        raise AwsError(
            "IncompatiblePolicyException",
            "An ExpirationNotification policy requires an Expiration policy on the same parameter.",
        )
    return policies


def policies_view(version: Version) -> list[dict]:
    return [
        {"PolicyText": p["text"], "PolicyType": p["type"], "PolicyStatus": "Pending"} for p in version.policies
    ]


# --------------------------------------------------------------------------
# views


def _value_of(ctx: Context, param: Parameter, version: Version, decrypt: bool) -> str:
    if version.type == "SecureString" and decrypt:
        return kmsglue.decrypt(ctx, version.value, version.key_arn or "", param.name, parameter_arn(ctx, param.name))
    return version.value


def parameter_view(ctx: Context, param: Parameter, version: Version, decrypt: bool,
                   selector: str | None = None) -> dict:
    out = {
        "Name": param.name,
        "Type": version.type,
        "Value": _value_of(ctx, param, version, decrypt),
        "Version": version.version,
        "LastModifiedDate": version.modified,
        "ARN": parameter_arn(ctx, param.name),
        "DataType": version.data_type,
    }
    if selector is not None:
        out["Selector"] = f":{selector}"
    return out


def _common_metadata(version: Version) -> dict:
    out: dict[str, Any] = {
        "Type": version.type,
        "LastModifiedDate": version.modified,
        "LastModifiedUser": version.modified_user,
        "Version": version.version,
        "Tier": version.tier,
        "Policies": policies_view(version),
        "DataType": version.data_type,
    }
    if version.type == "SecureString" and version.key_id:
        out["KeyId"] = version.key_id
    if version.description is not None:
        out["Description"] = version.description
    if version.allowed_pattern is not None:
        out["AllowedPattern"] = version.allowed_pattern
    return out


def metadata_view(ctx: Context, param: Parameter) -> dict:
    out = _common_metadata(param.latest)
    out["Name"] = param.name
    out["ARN"] = parameter_arn(ctx, param.name)
    return out


def history_view(ctx: Context, param: Parameter, version: Version, decrypt: bool) -> dict:
    out = _common_metadata(version)
    out["Name"] = param.name
    out["Value"] = _value_of(ctx, param, version, decrypt)
    out["Labels"] = list(version.labels)
    return out


# --------------------------------------------------------------------------
# PutParameter


def _resolve_tier(requested: str | None, existing: Version | None, value_size: int, policies: list[dict],
                  data_type: str, standard_full: bool) -> str:
    needs_advanced = (
        value_size > STANDARD_VALUE_LIMIT
        or bool(policies)
        or data_type in ADVANCED_ONLY_DATA_TYPES
        or (existing is None and standard_full)  # Intelligent-Tiering moves past the standard-parameter quota
    )
    current = existing.tier if existing else None
    if requested == "Advanced":
        tier = "Advanced"
    elif requested == "Intelligent-Tiering":
        tier = "Advanced" if needs_advanced or current == "Advanced" else "Standard"
    elif requested == "Standard":
        if current == "Advanced":
            raise validation_error(NO_DOWNGRADE)
        tier = "Standard"
    else:  # no tier in the request: keep the parameter's tier, or use the default tier for new ones
        tier = current or DEFAULT_TIER
    if tier == "Standard":
        if value_size > STANDARD_VALUE_LIMIT:
            raise validation_error(STANDARD_TOO_LARGE)
        if policies:
            raise validation_error(POLICIES_NEED_ADVANCED)
        if data_type in ADVANCED_ONLY_DATA_TYPES:
            raise validation_error(
                f"The {data_type} data type is supported only for advanced-tier parameters. Use the Advanced or "
                "Intelligent-Tiering tier."
            )
    elif value_size > ADVANCED_VALUE_LIMIT:
        raise validation_error(ADVANCED_TOO_LARGE)
    return tier


@operation("PutParameter")
def put_parameter(request: dict, ctx: Context) -> dict:
    name = check_name_for_write(ctx, request["Name"])
    arn = parameter_arn(ctx, name)
    ctx.authorize("ssm:PutParameter", arn, [name])
    overwrite = bool(request.get("Overwrite"))
    tags = request.get("Tags") or []
    if overwrite and tags:
        raise validation_error(TAGS_WITH_OVERWRITE)
    value = request["Value"]
    if value == "":
        raise validation_error(EMPTY_VALUE)
    if re.search(r"\{\{.*\}\}", value, re.S):
        raise validation_error(NESTED_VALUE)

    store = _store(ctx)
    param = store.get(name)
    previous = param.latest if param else None
    if param is not None and not overwrite:
        raise AwsError("ParameterAlreadyExists", ALREADY_EXISTS)

    param_type = request.get("Type") or (previous.type if previous else None)
    if param_type is None:
        raise validation_error("A parameter type is required when you create a parameter.")

    data_type = request.get("DataType")
    if data_type is None or data_type == "":
        data_type = previous.data_type if previous else "text"
    if previous and previous.data_type != data_type and (
        previous.data_type in FIXED_DATA_TYPES or data_type in FIXED_DATA_TYPES
    ):
        raise validation_error(
            f"You can't change the data type of a parameter from {previous.data_type} to {data_type}."
        )

    key_id = request.get("KeyId")
    if key_id is not None and param_type != "SecureString":
        raise validation_error(
            f"KeyId is supported only for SecureString parameters. The parameter type is {param_type}."
        )
    if param_type == "SecureString" and key_id is None:
        key_id = previous.key_id if previous and previous.type == "SecureString" and previous.key_id else None
        key_id = key_id or kmsglue.DEFAULT_KEY_ALIAS

    description = request.get("Description")
    if description is None and previous:
        description = previous.description
    allowed_pattern = request.get("AllowedPattern")
    if allowed_pattern is None and previous:
        allowed_pattern = previous.allowed_pattern
    if allowed_pattern is not None:
        try:
            compiled = re.compile(allowed_pattern)
        except re.error:
            raise AwsError("InvalidAllowedPatternException", "The request doesn't meet the regular expression requirement.")
        if compiled.fullmatch(value) is None:
            raise AwsError(
                "ParameterPatternMismatchException",
                f"Parameter value, cannot be validated against allowedPattern: {allowed_pattern}",
            )

    if request.get("Policies") is not None:
        policies = parse_policies(ctx, request["Policies"])
    else:
        policies = list(previous.policies) if previous else []

    standard_full = store.count_tier("Standard") >= MAX_STANDARD_PARAMETERS
    tier = _resolve_tier(request.get("Tier"), previous, len(value.encode("utf-8")), policies, data_type, standard_full)
    check_data_type(ctx, name, data_type, param_type, value)

    if param is not None and len(param.versions) >= MAX_VERSIONS:
        oldest = param.versions[0]
        if oldest.labels:
            raise AwsError(
                "ParameterMaxVersionLimitExceeded",
                f"You attempted to create a new version of {name} by calling the PutParameter API with the "
                f"overwrite flag. Version {oldest.version}, the oldest version, can't be deleted because it has "
                "a label associated with it. Move the label to another version of the parameter, and try again.",
            )
    if param is None:
        limit = MAX_STANDARD_PARAMETERS if tier == "Standard" else MAX_ADVANCED_PARAMETERS
        if store.count_tier(tier) >= limit:
            raise AwsError(
                "ParameterLimitExceeded",
                "You have exceeded the number of parameters for this AWS account. Delete one or more parameters "
                "and try again.",
            )
    if tags:
        check_tag_keys(tags)
        if len({t["Key"] for t in tags}) > MAX_TAGS:
            raise AwsError("TooManyTagsError")

    key_arn = None
    stored_value = value
    if param_type == "SecureString":
        key = kmsglue.resolve_key(ctx, key_id)
        key_arn = key.arn
        stored_value = kmsglue.encrypt(ctx, key, value, name, arn, tier)

    number = previous.version + 1 if previous else 1
    version = Version(
        version=number,
        type=param_type,
        value=stored_value,
        data_type=data_type,
        tier=tier,
        modified=ctx.now(),
        modified_user=ctx.principal.arn,
        key_id=key_id if param_type == "SecureString" else None,
        key_arn=key_arn,
        description=description,
        allowed_pattern=allowed_pattern,
        policies=policies,
    )
    if param is None:
        param = Parameter(name=name)
        store.put(param)
        if tags:
            ctx.store("tags").set("Parameter", storage_key(name), {t["Key"]: t.get("Value", "") for t in tags})
    elif len(param.versions) >= MAX_VERSIONS:
        param.versions.pop(0)
    param.versions.append(version)
    return {"Version": number, "Tier": tier}


# --------------------------------------------------------------------------
# reads


def _find_version(param: Parameter, selector: str | None, ref: str) -> Version:
    if selector is None:
        return param.latest
    if selector.isdigit():
        found = param.version(int(selector))
        if found is None:
            raise AwsError(
                "ParameterVersionNotFound",
                f"Systems Manager could not find version {selector} of {param.name}. Verify the version and try again.",
            )
        return found
    found = param.labelled(selector)
    if found is None:
        raise AwsError("ParameterNotFound")
    return found


@operation("GetParameter")
def get_parameter(request: dict, ctx: Context) -> dict:
    decrypt = bool(request.get("WithDecryption"))
    parsed = parse_reference(ctx, request["Name"])
    if parsed is None:
        raise AwsError("ParameterNotFound")
    name, selector = parsed
    if is_public_name(name):
        ctx.authorize("ssm:GetParameter", ctx.arn("parameter/" + name.lstrip("/"), account=False), [name])
        found = _public_parameter(ctx, name, selector, decrypt)
        if found is None:
            raise AwsError("ParameterNotFound")
        return {"Parameter": found}
    ctx.authorize("ssm:GetParameter", parameter_arn(ctx, name), [name])
    param = _store(ctx).get(name)
    if param is None:
        raise AwsError("ParameterNotFound")
    version = _find_version(param, selector, request["Name"])
    return {"Parameter": parameter_view(ctx, param, version, decrypt, selector)}


@operation("GetParameters")
def get_parameters(request: dict, ctx: Context) -> dict:
    decrypt = bool(request.get("WithDecryption"))
    names: list[str] = []
    for raw in request["Names"]:
        if raw not in names:
            names.append(raw)
    parsed = {raw: parse_reference(ctx, raw) for raw in names}
    for raw, ref in parsed.items():
        if ref is not None:
            ctx.authorize("ssm:GetParameters", parameter_arn(ctx, ref[0]), [ref[0]])
    store = _store(ctx)
    found: list[dict] = []
    invalid: list[str] = []
    for raw in names:
        ref = parsed[raw]
        item = None
        if ref is not None:
            name, selector = ref
            if is_public_name(name):
                item = _public_parameter(ctx, name, selector, decrypt)
            else:
                param = store.get(name)
                if param is not None:
                    try:
                        item = parameter_view(ctx, param, _find_version(param, selector, raw), decrypt, selector)
                    except AwsError as err:
                        if err.code not in ("ParameterVersionNotFound", "ParameterNotFound"):
                            raise
        if item is None:
            invalid.append(raw)
        else:
            found.append(item)
    found.sort(key=lambda p: (p["Name"], p.get("Selector", "")))
    return {"Parameters": found, "InvalidParameters": invalid}


# --------------------------------------------------------------------------
# filters


def _filter_error_key(key: str, valid: list[str]) -> AwsError:
    return AwsError(
        "InvalidFilterKey",
        f"The following filter key is not valid: {key}. Valid filter keys include: [{', '.join(valid)}].",
    )


def _check_path_value(value: str) -> str:
    if value.lower().startswith(("/aws", "/ssm")):
        raise validation_error(COMMON_FILTER_PREFIX)
    if not value.startswith("/") or "//" in value or not _NAME_CHARS.match(value):
        raise validation_error(PATH_RULES)
    return value


def check_filters(filters: list[dict], by_path: bool) -> list[dict]:
    if by_path:
        valid_keys = ["Type", "KeyId", "Label"]
    else:
        valid_keys = ["Path", "Name", "Type", "KeyId", "Tier", "DataType"]
    checked: list[dict] = []
    seen: set[str] = set()
    for item in filters:
        key = item["Key"]
        is_tag = key.startswith("tag:")
        if (is_tag and by_path) or (not is_tag and key not in valid_keys):
            raise _filter_error_key(key, valid_keys)
        if key in seen:
            raise AwsError(
                "InvalidFilterKey",
                f"The following filter is duplicated in the request: {key}. A request can contain only one "
                "occurrence of a specific filter.",
            )
        seen.add(key)
        values = item.get("Values") or []
        if key == "Path":
            allowed = ["Recursive", "OneLevel"]
            option = item.get("Option") or "OneLevel"
        elif key == "Label":
            allowed = ["Equals"]
            option = item.get("Option") or "Equals"
        elif key == "Name" and not by_path:
            allowed = ["BeginsWith", "Contains", "Equals"]
            option = item.get("Option") or "Equals"
        else:
            allowed = ["BeginsWith", "Equals"]
            option = item.get("Option") or "Equals"
        if option not in allowed:
            raise AwsError(
                "InvalidFilterOption",
                f"The following filter option is not valid: {option}. Valid options include: [{', '.join(allowed)}].",
            )
        if not values and not is_tag:
            raise AwsError(
                "InvalidFilterValue", f"The following filter values are missing : null for filter key {key}."
            )
        if key == "Type" and option == "Equals":
            for value in values:
                if value not in VALID_TYPES:
                    raise AwsError(
                        "InvalidFilterOption",
                        f"The following filter value is not valid: {value}. Valid values include: "
                        "[String, StringList, SecureString].",
                    )
        if key == "Tier" and option == "Equals":
            for value in values:
                if value not in ("Standard", "Advanced", "Intelligent-Tiering"):
                    raise AwsError(
                        "InvalidFilterOption",
                        f"The following filter value is not valid: {value}. Valid values include: "
                        "[Standard, Advanced, Intelligent-Tiering].",
                    )
        if key == "Path":
            values = [_check_path_value(v) for v in values]
        checked.append({"Key": key, "Option": option, "Values": values})
    return checked


def _compare(option: str, subject: str, values: Iterable[str]) -> bool:
    if option == "BeginsWith":
        return any(subject.startswith(v) for v in values)
    if option == "Contains":
        return any(v in subject for v in values)
    return any(subject == v for v in values)


def _slashed(name: str) -> str:
    return "/" + name.lstrip("/")


def _under_path(name: str, path: str, recursive: bool) -> bool:
    full = _slashed(name)
    base = path.rstrip("/")
    if not full.startswith(base + "/"):
        return False
    rest = full[len(base) + 1:]
    return bool(rest) and (recursive or "/" not in rest)


def _key_names(version: Version) -> list[str]:
    names = [n for n in (version.key_id, version.key_arn) if n]
    if version.key_arn:
        names.append(version.key_arn.rsplit("/", 1)[-1])
    return names


def _matches(item: dict, param: Parameter, version: Version, tags: dict[str, str]) -> bool:
    key, option, values = item["Key"], item["Option"], item["Values"]
    if key == "Name":
        if option == "Contains":
            return _compare(option, param.name, values)
        return _compare(option, _slashed(param.name), [_slashed(v) for v in values])
    if key == "Path":
        return any(_under_path(param.name, v, option == "Recursive") for v in values)
    if key == "Type":
        return _compare(option, version.type, values)
    if key == "KeyId":
        return version.type == "SecureString" and any(_compare(option, n, values) for n in _key_names(version))
    if key == "Tier":
        return _compare(option, version.tier, values)
    if key == "DataType":
        return _compare(option, version.data_type, values)
    if key.startswith("tag:"):
        tag_key = key[4:]
        if tag_key not in tags:
            return False
        return not values or _compare(option, tags[tag_key], values)
    return True


def _max_results(request: dict, default: int) -> int:
    value = request.get("MaxResults")
    return default if value is None else int(value)


@operation("GetParametersByPath")
def get_parameters_by_path(request: dict, ctx: Context) -> dict:
    from .registry import FallThrough

    path = request["Path"].strip()
    if is_public_name(path.rstrip("/") + "/"):
        raise FallThrough()  # AWS public parameters: moto has them
    if path != "/":
        if not path.startswith("/") or "//" in path or not _NAME_CHARS.match(path):
            raise validation_error(PATH_RULES)
        if path.lower().startswith("/ssm"):
            raise validation_error(PATH_RULES)
        if len(path.strip("/").split("/")) > MAX_HIERARCHY_LEVELS:
            raise AwsError("HierarchyLevelLimitExceededException", HIERARCHY_LIMIT)
    elif not path.startswith("/"):
        raise validation_error(PATH_RULES)
    ctx.authorize("ssm:GetParametersByPath", parameter_arn(ctx, path.rstrip("/") or "/"), [path])
    filters = check_filters(request.get("ParameterFilters") or [], by_path=True)
    recursive = bool(request.get("Recursive"))
    decrypt = bool(request.get("WithDecryption"))
    label_filter = next((f for f in filters if f["Key"] == "Label"), None)
    other = [f for f in filters if f["Key"] != "Label"]
    tags_store = ctx.store("tags")
    matched: list[tuple[Parameter, Version]] = []
    for param in _store(ctx).sorted():
        if path == "/":
            if not recursive and "/" in param.name.lstrip("/"):
                continue
        elif not _under_path(param.name, path, recursive):
            continue
        version = param.latest
        if label_filter is not None:
            chosen = None
            for candidate in reversed(param.versions):
                if any(label in candidate.labels for label in label_filter["Values"]):
                    chosen = candidate
                    break
            if chosen is None:
                continue
            version = chosen
        tags = tags_store.get("Parameter", storage_key(param.name))
        if all(_matches(f, param, version, tags) for f in other):
            matched.append((param, version))
    query = {"Path": path, "Recursive": recursive, "Filters": filters}
    page, token = paginate(matched, _max_results(request, 10), request.get("NextToken"), query)
    out: dict[str, Any] = {"Parameters": [parameter_view(ctx, p, v, decrypt) for p, v in page]}
    if token:
        out["NextToken"] = token
    return out


@operation("DescribeParameters")
def describe_parameters(request: dict, ctx: Context) -> dict:
    ctx.authorize("ssm:DescribeParameters", ctx.arn("*"))
    legacy = request.get("Filters") or []
    modern = request.get("ParameterFilters") or []
    if legacy and modern:
        raise validation_error("You can use either Filters or ParameterFilters in a single request.")
    if modern:
        filters = check_filters(modern, by_path=False)
    else:
        filters = [{"Key": f["Key"], "Option": "BeginsWith" if f["Key"] == "Name" else "Equals",
                    "Values": f["Values"]} for f in legacy]
    store = _store(ctx)
    tags_store = ctx.store("tags")
    matched: list[Parameter] = []
    if not request.get("Shared"):  # nothing is shared with this account here
        for param in store.sorted():
            tags = tags_store.get("Parameter", storage_key(param.name))
            if all(_matches(f, param, param.latest, tags) for f in filters):
                matched.append(param)
    query = {"Filters": filters, "Shared": bool(request.get("Shared"))}
    page, token = paginate(matched, _max_results(request, 10), request.get("NextToken"), query)
    out: dict[str, Any] = {"Parameters": [metadata_view(ctx, p) for p in page]}
    if token:
        out["NextToken"] = token
    return out


@operation("GetParameterHistory")
def get_parameter_history(request: dict, ctx: Context) -> dict:
    decrypt = bool(request.get("WithDecryption"))
    parsed = parse_reference(ctx, request["Name"])
    if parsed is None or parsed[1] is not None:
        raise AwsError("ParameterNotFound")
    name = parsed[0]
    ctx.authorize("ssm:GetParameterHistory", parameter_arn(ctx, name), [name])
    param = _store(ctx).get(name)
    if param is None:
        raise AwsError("ParameterNotFound")
    query = {"Name": param.name}
    page, token = paginate(param.versions, _max_results(request, 50), request.get("NextToken"), query)
    out: dict[str, Any] = {"Parameters": [history_view(ctx, param, v, decrypt) for v in page]}
    if token:
        out["NextToken"] = token
    return out


# --------------------------------------------------------------------------
# deletes


def _delete(ctx: Context, store: ParameterStore, name: str) -> bool:
    removed = store.delete(name)
    if removed is None:
        return False
    ctx.store("tags").drop("Parameter", storage_key(removed.name))
    return True


@operation("DeleteParameter")
def delete_parameter(request: dict, ctx: Context) -> dict:
    name = request["Name"].strip()
    ctx.authorize("ssm:DeleteParameter", parameter_arn(ctx, name), [name])
    if not _delete(ctx, _store(ctx), name):
        raise AwsError("ParameterNotFound")
    return {}


@operation("DeleteParameters")
def delete_parameters(request: dict, ctx: Context) -> dict:
    names = [n.strip() for n in request["Names"]]
    for name in names:
        ctx.authorize("ssm:DeleteParameters", parameter_arn(ctx, name), [name])
    store = _store(ctx)
    deleted: list[str] = []
    invalid: list[str] = []
    for name in dict.fromkeys(names):
        (deleted if _delete(ctx, store, name) else invalid).append(name)
    # AWS sends both lists, empty ones included, although the model sets min 1.
    return {"DeletedParameters": deleted, "InvalidParameters": invalid}


# --------------------------------------------------------------------------
# labels


def label_is_valid(label: str) -> bool:
    low = label.lower()
    return bool(_LABEL_CHARS.match(label)) and not low.startswith(("aws", "ssm")) and not label[:1].isdigit()


@operation("LabelParameterVersion")
def label_parameter_version(request: dict, ctx: Context) -> dict:
    name = request["Name"].strip()
    ctx.authorize("ssm:LabelParameterVersion", parameter_arn(ctx, name), [name])
    param = _store(ctx).get(name)
    if param is None:
        raise AwsError("ParameterNotFound")
    number = request.get("ParameterVersion")
    target = param.latest if number is None else param.version(int(number))
    if target is None:
        raise AwsError(
            "ParameterVersionNotFound",
            f"Systems Manager could not find version {number} of {param.name}. Verify the version and try again.",
        )
    labels = list(dict.fromkeys(request["Labels"]))
    invalid = [label for label in labels if not label_is_valid(label)]
    valid = [label for label in labels if label_is_valid(label)]
    new = [label for label in valid if label not in target.labels]
    if len(target.labels) + len(new) > MAX_LABELS_PER_VERSION:
        raise AwsError(
            "ParameterVersionLabelLimitExceeded",
            "A parameter version can have maximum 10 labels.Move one or more labels to another version and try again.",
        )
    for label in new:
        for other in param.versions:
            if label in other.labels:
                other.labels.remove(label)
        target.labels.append(label)
    return {"InvalidLabels": invalid, "ParameterVersion": target.version}


@operation("UnlabelParameterVersion")
def unlabel_parameter_version(request: dict, ctx: Context) -> dict:
    name = request["Name"].strip()
    ctx.authorize("ssm:UnlabelParameterVersion", parameter_arn(ctx, name), [name])
    param = _store(ctx).get(name)
    if param is None:
        raise AwsError("ParameterNotFound")
    number = int(request["ParameterVersion"])
    target = param.version(number)
    if target is None:
        raise AwsError(
            "ParameterVersionNotFound",
            f"Systems Manager could not find version {number} of {param.name}. Verify the version and try again.",
        )
    removed: list[str] = []
    invalid: list[str] = []
    for label in dict.fromkeys(request["Labels"]):
        if label in target.labels:
            target.labels.remove(label)
            removed.append(label)
        else:
            invalid.append(label)
    return {"RemovedLabels": removed, "InvalidLabels": invalid}


# --------------------------------------------------------------------------
# tags of type Parameter


def _resolve_for_tags(ctx: Context, resource_id: str) -> str:
    param = _store(ctx).get(resource_id.strip())
    if param is None:
        raise AwsError("InvalidResourceId")
    return storage_key(param.name)


def _tag_arn(ctx: Context, key: str) -> str:
    param = ctx.store("parameters").get(key)
    return parameter_arn(ctx, param.name if param else key)


taggable("Parameter", _resolve_for_tags, _tag_arn, MAX_TAGS)
