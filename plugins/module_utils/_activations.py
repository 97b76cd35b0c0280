# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE: this file is internal to the fleetops.ssm collection. It is not a public API and may
# change at any time without notice. Do not import it from outside the collection.

"""Hybrid activations and the registrations they make: one function per API call, the checks of
the options before any call, and how an activation is matched and shown.

An activation cannot be changed once created (AWS has no update call, and activation tags are set
at creation only), and its code is returned once, by CreateActivation. So "the activation a task
describes" is found by its attributes, and a task that needs the code has to create one.
"""

from __future__ import annotations

import datetime
import re

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.fleetops.ssm.plugins.module_utils._errors import AnsibleSSMError
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import SSMErrorHandler
from ansible_collections.fleetops.ssm.plugins.module_utils._errors import ssm_retry

# Limits from botocore's model and the CreateActivation reference.
PAGE_SIZE = 50  # DescribeActivations MaxResults 1-50
MAX_REGISTRATION_LIMIT = 1000
MAX_DESCRIPTION = 256
MAX_INSTANCE_NAME = 256
MAX_IAM_ROLE = 64
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256
MAX_TAGS = 1000
MAX_LIFETIME = datetime.timedelta(days=30)  # ExpirationDate is at most 30 days ahead
DEFAULT_LIFETIME = datetime.timedelta(hours=24)  # what AWS gives an activation without ExpirationDate
DEFAULT_REGISTRATION_LIMIT = 1
FILTER_KEYS = ("ActivationIds", "DefaultInstanceName", "IamRole")

_ACTIVATION_ID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_MANAGED_INSTANCE_ID_RE = re.compile(r"^mi-[0-9a-f]{17}$")
# AWS's pattern is ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$: letters, spaces, digits and _ . : / = + - @.
_NAME_RE = re.compile(r"^[\w .:/=+\-@\u00a0]*$", re.UNICODE)


class ActivationValidationError(AnsibleSSMError):
    """The input breaks an activation rule; raised before any API call is made."""


class ActivationConflictError(AnsibleSSMError):
    """What AWS holds cannot be made to match the task (activations cannot be changed)."""


class _ActivationErrorHandler(SSMErrorHandler):
    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code(["InvalidActivation", "InvalidActivationId"])


class _ManagedInstanceErrorHandler(SSMErrorHandler):
    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("InvalidInstanceId")


# ---------------------------------------------------------------------------------------------
# API calls. Each one is a single SSM operation; none takes a module.
# ---------------------------------------------------------------------------------------------


@SSMErrorHandler.list_error_handler("describe activations", default_value=[])
@ssm_retry()
def describe_activations(client, filters=None):
    kwargs = {"PaginationConfig": {"PageSize": PAGE_SIZE}}
    if filters:
        kwargs["Filters"] = filters
    paginator = client.get_paginator("describe_activations")
    return paginator.paginate(**kwargs).build_full_result().get("ActivationList", [])


@SSMErrorHandler.common_error_handler("create activation")
@ssm_retry()
def create_activation(client, request):
    result = client.create_activation(**request)
    return {"ActivationId": result["ActivationId"], "ActivationCode": result["ActivationCode"]}


@_ActivationErrorHandler.deletion_error_handler("delete activation")
@ssm_retry()
def delete_activation(client, activation_id):
    client.delete_activation(ActivationId=activation_id)
    return True


@_ManagedInstanceErrorHandler.deletion_error_handler("deregister managed instance")
@ssm_retry()
def deregister_managed_instance(client, instance_id):
    client.deregister_managed_instance(InstanceId=instance_id)
    return True


# ---------------------------------------------------------------------------------------------
# Checks of the options, before any call.
# ---------------------------------------------------------------------------------------------


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def parse_date(value, option="expiration_date"):
    """An ISO 8601 date and time as an aware datetime (UTC when it has no offset)."""
    text = str(value).strip()
    try:
        parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ActivationValidationError(
            f"Invalid {option} {value!r}: use an ISO 8601 date and time such as 2026-01-01T00:00:00Z."
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed


def validate_activation_id(activation_id):
    if activation_id is not None and not _ACTIVATION_ID_RE.match(activation_id):
        raise ActivationValidationError(
            f"Invalid activation_id {activation_id!r}: an activation id looks like 3f8a1c6e-1b2d-4e5f-8a9b-0c1d2e3f4a5b."
        )


def validate_instance_id(instance_id):
    if not _MANAGED_INSTANCE_ID_RE.match(instance_id or ""):
        raise ActivationValidationError(
            f"Invalid managed node id {instance_id!r}: hybrid nodes registered with an activation have ids such as "
            "mi-0123456789abcdef0 (EC2 instances are not deregistered, they leave with their instance)."
        )


def _check_text(value, option, maximum, pattern=None):
    if value is None:
        return
    if len(value) > maximum:
        raise ActivationValidationError(f"{option} has {len(value)} characters; AWS allows at most {maximum}.")
    if pattern is not None and not pattern.match(value):
        raise ActivationValidationError(
            f"Invalid {option} {value!r}: use letters, digits, spaces and the characters _ . : / = + - @."
        )


def validate_tags(tags):
    if tags is None:
        return
    if len(tags) > MAX_TAGS:
        raise ActivationValidationError(f"An activation takes at most {MAX_TAGS} tags, not {len(tags)}.")
    for key, value in tags.items():
        key, value = str(key), str(value)
        if not key or len(key) > MAX_TAG_KEY:
            raise ActivationValidationError(f"Tag key {key!r} must have 1 to {MAX_TAG_KEY} characters.")
        if key.lower().startswith("aws:"):
            raise ActivationValidationError(f"Tag key {key!r} is not valid: the prefix 'aws:' is reserved for AWS.")
        _check_text(key, f"tag key {key!r}", MAX_TAG_KEY, _NAME_RE)
        _check_text(value, f"the value of tag {key!r}", MAX_TAG_VALUE, _NAME_RE)


def validate(params, now=None):
    """Every rule AWS applies to the options, checked before the first call."""
    now = now or _utcnow()
    validate_activation_id(params.get("activation_id"))
    _check_text(params.get("iam_role"), "iam_role", MAX_IAM_ROLE)
    if params.get("iam_role") is not None and (not params["iam_role"] or params["iam_role"].startswith("arn:")):
        raise ActivationValidationError(
            f"Invalid iam_role {params['iam_role']!r}: give the role's name (with its path, if it has one, such as "
            "service-role/SSMServiceRole), not its ARN."
        )
    _check_text(params.get("description"), "description", MAX_DESCRIPTION)
    _check_text(params.get("default_instance_name"), "default_instance_name", MAX_INSTANCE_NAME, _NAME_RE)
    limit = params.get("registration_limit")
    if limit is not None and not 1 <= limit <= MAX_REGISTRATION_LIMIT:
        raise ActivationValidationError(f"registration_limit must be 1 to {MAX_REGISTRATION_LIMIT}, not {limit}.")
    validate_tags(params.get("tags"))
    if params.get("expiration_date") is not None and params.get("state", "present") == "present":
        expiration = parse_date(params["expiration_date"])
        if expiration <= now:
            raise ActivationValidationError(
                f"expiration_date {params['expiration_date']} is in the past; an activation must expire in the future."
            )
        if expiration > now + MAX_LIFETIME:
            raise ActivationValidationError(
                f"expiration_date {params['expiration_date']} is more than 30 days ahead, the most AWS allows."
            )


# ---------------------------------------------------------------------------------------------
# Matching, requests and results.
# ---------------------------------------------------------------------------------------------


def _timestamp(value):
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    if isinstance(value, (int, float)):
        return datetime.datetime.fromtimestamp(value, datetime.timezone.utc)
    if isinstance(value, str):
        return parse_date(value)
    return None


def expired(activation, now=None):
    expiration = _timestamp(activation.get("ExpirationDate"))
    if activation.get("Expired"):
        return True
    return expiration is not None and expiration <= (now or _utcnow())


def registrations_left(activation):
    return int(activation.get("RegistrationLimit") or DEFAULT_REGISTRATION_LIMIT) - int(activation.get("RegistrationsCount") or 0)


def usable(activation, now=None):
    """Whether more nodes can still register with the activation."""
    return not expired(activation, now) and registrations_left(activation) > 0


def differences(activation, params):
    """The options the task sets whose values differ from the activation's (unset options match anything)."""
    found = []
    for option, key in (("iam_role", "IamRole"), ("description", "Description"),
                        ("default_instance_name", "DefaultInstanceName"), ("registration_limit", "RegistrationLimit")):
        wanted = params.get(option)
        if wanted is not None and wanted != activation.get(key, "" if option != "registration_limit" else None):
            found.append(option)
    if params.get("expiration_date") is not None:
        wanted = parse_date(params["expiration_date"])
        current = _timestamp(activation.get("ExpirationDate"))
        if current is None or abs((current - wanted).total_seconds()) >= 1:
            found.append("expiration_date")
    if params.get("tags") is not None:
        wanted = {str(k): str(v) for k, v in params["tags"].items()}
        if wanted != boto3_tag_list_to_ansible_dict(activation.get("Tags") or []):
            found.append("tags")
    return found


def server_filters(params):
    """DescribeActivations filters for what the options pin down (the rest is compared locally)."""
    filters = []
    if params.get("activation_id"):
        filters.append({"FilterKey": "ActivationIds", "FilterValues": [params["activation_id"]]})
    if params.get("iam_role"):
        filters.append({"FilterKey": "IamRole", "FilterValues": [params["iam_role"]]})
    if params.get("default_instance_name"):
        filters.append({"FilterKey": "DefaultInstanceName", "FilterValues": [params["default_instance_name"]]})
    return filters


def newest_first(activations):
    return sorted(activations, key=lambda a: _timestamp(a.get("CreatedDate")) or _utcnow(), reverse=True)


def create_request(params, now=None):
    request = {"IamRole": params["iam_role"]}
    if params.get("description") is not None:
        request["Description"] = params["description"]
    if params.get("default_instance_name") is not None:
        request["DefaultInstanceName"] = params["default_instance_name"]
    if params.get("registration_limit") is not None:
        request["RegistrationLimit"] = params["registration_limit"]
    if params.get("expiration_date") is not None:
        request["ExpirationDate"] = parse_date(params["expiration_date"])
    if params.get("tags"):
        request["Tags"] = ansible_dict_to_boto3_tag_list({str(k): str(v) for k, v in params["tags"].items()})
    return request


def predict(request, now=None):
    """The activation CreateActivation would make (check mode); its id is not known."""
    now = now or _utcnow()
    predicted = dict(request, RegistrationLimit=request.get("RegistrationLimit", DEFAULT_REGISTRATION_LIMIT),
                     RegistrationsCount=0, Expired=False, CreatedDate=now,
                     ExpirationDate=request.get("ExpirationDate") or now + DEFAULT_LIFETIME)
    predicted.setdefault("Tags", [])
    return predicted


def _iso(value):
    stamp = _timestamp(value)
    return stamp.isoformat() if stamp is not None else None


def to_ansible(activation, now=None):
    """One activation in snake_case, tags as a dict, dates in ISO 8601 (never the code)."""
    if not activation:
        return {}
    return {
        "activation_id": activation.get("ActivationId"),
        "description": activation.get("Description"),
        "default_instance_name": activation.get("DefaultInstanceName"),
        "iam_role": activation.get("IamRole"),
        "registration_limit": activation.get("RegistrationLimit"),
        "registrations_count": int(activation.get("RegistrationsCount") or 0),
        "expiration_date": _iso(activation.get("ExpirationDate")),
        "expired": expired(activation, now),
        "created_date": _iso(activation.get("CreatedDate")),
        "tags": boto3_tag_list_to_ansible_dict(activation.get("Tags") or []),
    }
