# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE: this file is internal to the fleetops.ssm collection. It is not a public API and may
# change at any time without notice. Do not import it from outside the collection.

"""Parameter Store: one function per API call, and the comparison logic the modules share."""

from __future__ import annotations

import datetime
import json
import re

from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list

from ansible_collections.fleetops.ssm.plugins.module_utils._errors import ParameterValidationError
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import SSMErrorHandler
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import ssm_retry

# Limits from AWS's documentation and botocore's model.
TIER_LIMITS = {"Standard": 4096, "Advanced": 8192, "Intelligent-Tiering": 8192}
MAX_NAME_LENGTH = 1011
MAX_HIERARCHY_LEVELS = 15
MAX_DESCRIPTION_LENGTH = 1024
BATCH_GET = 10  # GetParameters and DeleteParameters take at most 10 names
BATCH_DESCRIBE_NAMES = 50  # a ParameterStringFilter takes at most 50 values
SECURE = "SecureString"
RESOURCE_TYPE = "Parameter"  # for the tagging API
MASK = "********"

_NAME_RE = re.compile(r"^[a-zA-Z0-9_.\-/]+$")
_RESERVED_PREFIX_RE = re.compile(r"^/?(aws|ssm)", re.IGNORECASE)
POLICY_TYPES = {
    "Expiration": ("timestamp",),
    "ExpirationNotification": ("before", "unit"),
    "NoChangeNotification": ("after", "unit"),
}


# ---------------------------------------------------------------------------------------------
# API calls. Each one is a single SSM operation; none takes a module.
# ---------------------------------------------------------------------------------------------


@SSMErrorHandler.list_error_handler("get parameter")
@ssm_retry()
def get_parameter(client, name, decrypt=True):
    return client.get_parameter(Name=name, WithDecryption=decrypt)["Parameter"]


@SSMErrorHandler.common_error_handler("get parameters")
@ssm_retry()
def _get_parameters(client, names, decrypt):
    return client.get_parameters(Names=names, WithDecryption=decrypt)


def get_parameters(client, names, decrypt=True):
    """GetParameters in batches of 10: returns ({requested name: parameter}, [names not found]).

    A requested name may be an ARN and may select a version or label (``name:3``); AWS answers
    with the bare name plus a ``Selector``, which is matched back to the request here.
    """
    found, missing = {}, []
    for start in range(0, len(names), BATCH_GET):
        batch = list(names[start:start + BATCH_GET])
        result = _get_parameters(client, batch, decrypt)
        for parameter in result.get("Parameters", []):
            selector = parameter.get("Selector") or ""
            for requested in (parameter["Name"] + selector, parameter.get("ARN", "") + selector):
                if requested in batch:
                    found[requested] = parameter
        missing.extend(name for name in batch if name not in found and name not in missing)
    return found, missing


@SSMErrorHandler.list_error_handler("get parameters by path", default_value=[])
@ssm_retry()
def get_parameters_by_path(client, path, recursive=True, decrypt=True, filters=None):
    kwargs = dict(Path=path, Recursive=recursive, WithDecryption=decrypt)
    if filters:
        kwargs["ParameterFilters"] = filters
    paginator = client.get_paginator("get_parameters_by_path")
    return paginator.paginate(**kwargs).build_full_result().get("Parameters", [])


@SSMErrorHandler.list_error_handler("describe parameters", default_value=[])
@ssm_retry()
def describe_parameters(client, filters):
    paginator = client.get_paginator("describe_parameters")
    result = paginator.paginate(ParameterFilters=filters, PaginationConfig={"PageSize": 50})
    return result.build_full_result().get("Parameters", [])


def describe_parameters_by_name(client, names):
    """Parameter metadata (tier, key, description, pattern, policies) for these names."""
    metadata = {}
    names = list(names)
    for start in range(0, len(names), BATCH_DESCRIBE_NAMES):
        batch = names[start:start + BATCH_DESCRIBE_NAMES]
        for item in describe_parameters(client, [{"Key": "Name", "Option": "Equals", "Values": batch}]):
            metadata[item["Name"]] = item
    return metadata


def describe_parameters_under_path(client, path, recursive=True):
    option = "Recursive" if recursive else "OneLevel"
    items = describe_parameters(client, [{"Key": "Path", "Option": option, "Values": [path]}])
    return {item["Name"]: item for item in items}


@SSMErrorHandler.list_error_handler("get parameter history", default_value=None)
@ssm_retry()
def get_parameter_history(client, name, decrypt=True):
    paginator = client.get_paginator("get_parameter_history")
    result = paginator.paginate(Name=name, WithDecryption=decrypt, PaginationConfig={"PageSize": 50})
    return result.build_full_result().get("Parameters", [])


@SSMErrorHandler.common_error_handler("put parameter")
@ssm_retry()
def put_parameter(client, request):
    return client.put_parameter(**request)


@SSMErrorHandler.deletion_error_handler("delete parameter")
@ssm_retry()
def delete_parameter(client, name):
    client.delete_parameter(Name=name)
    return True


@SSMErrorHandler.common_error_handler("delete parameters")
@ssm_retry()
def _delete_parameters(client, names):
    return client.delete_parameters(Names=names)


def delete_parameters(client, names):
    """DeleteParameters in batches of 10: returns the names deleted."""
    deleted = []
    names = list(names)
    for start in range(0, len(names), BATCH_GET):
        result = _delete_parameters(client, names[start:start + BATCH_GET])
        deleted.extend(result.get("DeletedParameters", []))
    return deleted


@SSMErrorHandler.common_error_handler("label parameter version")
@ssm_retry()
def label_parameter_version(client, name, version, labels):
    return client.label_parameter_version(Name=name, ParameterVersion=version, Labels=labels)


# ---------------------------------------------------------------------------------------------
# Input: validation and translation to the API's form. Nothing here calls AWS.
# ---------------------------------------------------------------------------------------------


def validate_name(name):
    """Raise ParameterValidationError when a full parameter name breaks AWS's naming rules."""
    hint = "Parameter names use only a-z, A-Z, 0-9, '_', '.', '-' and '/'"
    if not name or not _NAME_RE.match(name):
        raise ParameterValidationError(f"Invalid parameter name {name!r}: {hint}.")
    if len(name) > MAX_NAME_LENGTH:
        raise ParameterValidationError(
            f"Invalid parameter name {name[:40]!r}...: it is {len(name)} characters long, AWS allows {MAX_NAME_LENGTH}."
        )
    if "/" in name and not name.startswith("/"):
        raise ParameterValidationError(
            f"Invalid parameter name {name!r}: a hierarchical name must start with '/' (use '/{name}')."
        )
    if "//" in name or (name.endswith("/") and len(name) > 1):
        raise ParameterValidationError(f"Invalid parameter name {name!r}: empty hierarchy level.")
    if _RESERVED_PREFIX_RE.match(name):
        raise ParameterValidationError(
            f"Invalid parameter name {name!r}: names may not begin with 'aws' or 'ssm' (reserved by AWS)."
        )
    if name.count("/") > MAX_HIERARCHY_LEVELS:
        raise ParameterValidationError(
            f"Invalid parameter name {name!r}: {name.count('/')} hierarchy levels, AWS allows {MAX_HIERARCHY_LEVELS}."
        )


def validate_path(path):
    if not path or not path.startswith("/"):
        raise ParameterValidationError(f"Invalid path {path!r}: a parameter path must start with '/'.")
    if path != "/":
        validate_name(path.rstrip("/"))


def join_value(name, value):
    """A StringList given as a list becomes AWS's comma-joined string."""
    if isinstance(value, (list, tuple)):
        items = [str(item) for item in value]
        bad = [item for item in items if "," in item]
        if bad:
            raise ParameterValidationError(
                f"Parameter {name}: StringList element {bad[0]!r} contains a comma, which AWS uses as the separator."
            )
        return ",".join(items)
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else str(value)


def _policy_timestamp(value):
    text = str(value).strip()
    try:
        parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def build_policies(name, policies):
    """Structured policies (type plus timestamp/before/after/unit) in AWS's JSON form."""
    if policies is None:
        return None
    result = []
    for policy in policies:
        kind = policy.get("type")
        if kind not in POLICY_TYPES:
            raise ParameterValidationError(
                f"Parameter {name}: unknown policy type {kind!r}; use one of {', '.join(POLICY_TYPES)}."
            )
        missing = [key for key in POLICY_TYPES[kind] if policy.get(key) in (None, "")]
        if missing:
            raise ParameterValidationError(f"Parameter {name}: a {kind} policy needs {' and '.join(missing)}.")
        if kind == "Expiration":
            attributes = {"Timestamp": _policy_timestamp(policy["timestamp"])}
        else:
            key = "before" if kind == "ExpirationNotification" else "after"
            attributes = {key.capitalize(): str(policy[key]), "Unit": policy["unit"]}
        result.append({"Type": kind, "Version": "1.0", "Attributes": attributes})
    return result


def normalise_policies(policies):
    """A comparable form of policies, from build_policies() output or from AWS's Policies list."""
    normalised = []
    for policy in policies or []:
        if "PolicyText" in policy:
            policy = json.loads(policy["PolicyText"])
        attributes = dict(policy.get("Attributes") or {})
        if "Timestamp" in attributes:
            attributes["Timestamp"] = _policy_timestamp(attributes["Timestamp"])
        normalised.append(json.dumps({"Type": policy.get("Type"), "Attributes": attributes}, sort_keys=True))
    return sorted(normalised)


def policies_to_ansible(policies):
    """AWS's Policies list as structured policies, the way the modules take them."""
    result = []
    for text in normalise_policies(policies):
        policy = json.loads(text)
        item = {"type": policy["Type"]}
        for key, value in policy["Attributes"].items():
            item[key.lower()] = int(value) if key in ("Before", "After") and str(value).isdigit() else value
        result.append(item)
    return result


def desired_parameter(name, options):
    """The desired state in the API's terms from module-style options (None: leave alone).

    ``options`` holds value, type, key_id, tier, data_type, allowed_pattern, description and
    policies; validation happens here, before any call.
    """
    validate_name(name)
    desired = {
        "Name": name,
        "Value": join_value(name, options.get("value")),
        "Type": options.get("type"),
        "KeyId": options.get("key_id"),
        "Tier": options.get("tier"),
        "DataType": options.get("data_type"),
        "AllowedPattern": options.get("allowed_pattern"),
        "Description": options.get("description"),
        "Policies": build_policies(name, options.get("policies")),
    }
    if isinstance(options.get("value"), (list, tuple)) and desired["Type"] in (None, "String"):
        desired["Type"] = "StringList" if desired["Type"] is None else desired["Type"]
    if desired["Value"] == "":
        raise ParameterValidationError(f"Parameter {name}: AWS does not store an empty value.")
    if desired["Description"] is not None and len(desired["Description"]) > MAX_DESCRIPTION_LENGTH:
        raise ParameterValidationError(
            f"Parameter {name}: the description has {len(desired['Description'])} characters, AWS allows {MAX_DESCRIPTION_LENGTH}."
        )
    if desired["KeyId"] and desired["Type"] not in (None, SECURE):
        raise ParameterValidationError(f"Parameter {name}: key_id applies only to type SecureString.")
    return desired


def check_tier(desired, current):
    """Raise when the value or the policies do not fit the tier the parameter will be in.

    Without a tier the parameter keeps its current one, and a new one gets Standard.
    """
    if desired["Tier"] == "Standard" and (current or {}).get("Tier") == "Advanced":
        raise ParameterValidationError(
            f"Parameter {desired['Name']} is in the Advanced tier and AWS cannot move it back to Standard: "
            "delete it and create it again, or keep tier: Advanced."
        )
    tier = desired["Tier"] or (current or {}).get("Tier") or "Standard"
    if desired["Policies"] and tier == "Standard":
        raise ParameterValidationError(
            f"Parameter {desired['Name']}: policies need tier Advanced or Intelligent-Tiering (the Standard tier has no policies)."
        )
    value = desired["Value"] if desired["Value"] is not None else (current or {}).get("Value")
    if value is None:
        return
    size = len(value.encode("utf-8"))
    if size > TIER_LIMITS[tier]:
        if tier == "Standard":
            hint = "set tier: Advanced (up to 8 KB) or tier: Intelligent-Tiering"
        else:
            hint = "AWS stores at most 8 KB in a parameter; keep large data in S3 and store its location"
        raise ParameterValidationError(
            f"Parameter {desired['Name']}: the value is {size} bytes, over the {TIER_LIMITS[tier]}-byte limit of the {tier} tier; {hint}."
        )


# ---------------------------------------------------------------------------------------------
# Current state and comparison.
# ---------------------------------------------------------------------------------------------


def current_from_history(history, parameter=None):
    """The current state of a parameter from GetParameterHistory (its newest version)."""
    if not history:
        return None
    newest = max(history, key=lambda item: item["Version"])
    current = {key: newest.get(key) for key in (
        "Name", "Value", "Type", "KeyId", "Tier", "DataType", "AllowedPattern", "Description",
        "Version", "LastModifiedDate", "LastModifiedUser", "Labels",
    )}
    current["Policies"] = newest.get("Policies") or []
    if parameter:
        current["ARN"] = parameter.get("ARN")
    return current


def current_from_path(parameter, metadata=None):
    """The current state of a parameter from GetParametersByPath plus optional DescribeParameters."""
    current = {key: parameter.get(key) for key in ("Name", "Value", "Type", "Version", "DataType", "ARN", "LastModifiedDate")}
    if metadata:
        for key in ("KeyId", "Tier", "AllowedPattern", "Description", "LastModifiedUser"):
            current[key] = metadata.get(key)
        current["Policies"] = metadata.get("Policies") or []
    return current


def _tier_differs(wanted, current):
    """Intelligent-Tiering lets AWS choose, so it never differs; check_tier() refuses downgrades."""
    return wanted not in (None, "Intelligent-Tiering", current)


def compare_parameter(desired, current, allow_secure_string_change=False):
    """The attributes that differ between the desired and the current state (a list of API keys).

    Only attributes the user set count, so nothing left unset is ever reported as drift.
    """
    name = desired["Name"]
    effective_type = desired["Type"] or (current or {}).get("Type") or "String"
    if desired["KeyId"] and effective_type != SECURE:
        state = "is" if current else "would be"
        raise ParameterValidationError(
            f"Parameter {name} {state} {effective_type}: key_id applies only to type SecureString (set type: SecureString)."
        )
    if current is None:
        return ["Name"]
    wanted_type = desired["Type"]
    if wanted_type and wanted_type != current["Type"] and SECURE in (wanted_type, current["Type"]):
        if not allow_secure_string_change:
            raise ParameterValidationError(
                f"Parameter {name} is {current['Type']}; changing it to {wanted_type} changes whether the value "
                "is encrypted. Set allow_secure_string_change: true to do so."
            )
    changed = []
    for key in ("Value", "Type", "KeyId", "DataType", "AllowedPattern", "Description"):
        if desired[key] is not None and desired[key] != current.get(key):
            changed.append(key)
    if _tier_differs(desired["Tier"], current.get("Tier")):
        changed.append("Tier")
    if desired["Policies"] is not None and normalise_policies(desired["Policies"]) != normalise_policies(current.get("Policies")):
        changed.append("Policies")
    return changed


def put_request(desired, current, tags=None):
    """The PutParameter request: what the user set, and the current value of everything else.

    Unset attributes are sent again as they are, so an update never resets what the user
    did not ask to change (AWS would otherwise fall back to its defaults, e.g. the tier).
    """
    current = current or {}
    request = {"Name": desired["Name"]}
    for key in ("Value", "Type", "DataType", "AllowedPattern", "Description", "Tier"):
        value = desired[key] if desired[key] is not None else current.get(key)
        if value is not None:
            request[key] = value
    request.setdefault("Type", "String")
    if request["Type"] == SECURE:
        key_id = desired["KeyId"] or (current.get("KeyId") if current.get("Type") == SECURE else None)
        if key_id:
            request["KeyId"] = key_id
    if desired["Policies"] is not None:
        if desired["Policies"] or current.get("Policies"):
            request["Policies"] = json.dumps(desired["Policies"])
    elif current.get("Policies"):
        request["Policies"] = json.dumps([json.loads(item["PolicyText"]) for item in current["Policies"]])
    if current:
        request["Overwrite"] = True
    elif tags:
        request["Tags"] = ansible_dict_to_boto3_tag_list(tags)
    return request


def predict_parameter(request, current, tags=None):
    """What AWS will hold after the PutParameter request: check mode's answer."""
    predicted = dict(current or {})
    predicted.update({key: value for key, value in request.items() if key not in ("Overwrite", "Tags", "Policies")})
    if "Policies" in request:
        predicted["Policies"] = [{"PolicyText": json.dumps(item)} for item in json.loads(request["Policies"])]
    if predicted.get("Tier") in (None, "Intelligent-Tiering"):
        large = len(request["Value"].encode("utf-8")) > TIER_LIMITS["Standard"]
        predicted["Tier"] = "Advanced" if large or predicted.get("Policies") else "Standard"
    if predicted.get("Type") != SECURE:
        predicted.pop("KeyId", None)
    elif not predicted.get("KeyId"):
        predicted["KeyId"] = "alias/aws/ssm"
    predicted["DataType"] = predicted.get("DataType") or "text"
    predicted["Version"] = (current or {}).get("Version", 0) + 1
    predicted["Labels"] = []
    return predicted


# ---------------------------------------------------------------------------------------------
# Output.
# ---------------------------------------------------------------------------------------------


def describe_for_result(state, tags=None):
    """A parameter as the modules return it: snake_case, tags as a dict, never the value."""
    if not state:
        return {}
    result = {
        "name": state.get("Name"),
        "arn": state.get("ARN"),
        "type": state.get("Type"),
        "version": state.get("Version"),
        "tier": state.get("Tier"),
        "data_type": state.get("DataType"),
        "key_id": state.get("KeyId"),
        "description": state.get("Description"),
        "allowed_pattern": state.get("AllowedPattern"),
        "policies": policies_to_ansible(state.get("Policies")),
        "labels": sorted(state.get("Labels") or []),
        "last_modified_date": isoformat(state.get("LastModifiedDate")),
        "last_modified_user": state.get("LastModifiedUser"),
    }
    if tags is not None:
        result["tags"] = tags
    return result


def describe_for_diff(state, tags=None, value_changed=False):
    """A parameter for diff mode: SecureString values are never shown, only whether they changed."""
    if not state:
        return {}
    result = describe_for_result(state, tags)
    for key in ("arn", "version", "last_modified_date", "last_modified_user", "labels"):
        result.pop(key, None)
    result = {key: value for key, value in result.items() if value not in (None, [])}
    if state.get("Type") == SECURE:
        result["value"] = MASK + (" (changed)" if value_changed else "")
    else:
        result["value"] = state.get("Value")
    return result


def isoformat(value):
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return value
