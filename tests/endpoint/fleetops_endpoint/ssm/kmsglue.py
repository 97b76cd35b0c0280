"""SecureString encryption through the emulated KMS (moto's KMS backend, in-process).

Standard-tier values are encrypted with KMS ``Encrypt`` under the parameter's
key; advanced-tier values use envelope encryption (a ``GenerateDataKey`` data
key and AES-GCM), as Parameter Store does.  In both cases the KMS encryption
context is ``{"PARAMETER_ARN": <parameter ARN>}``, so a standard-tier
ciphertext returned by GetParameter (without decryption) can be decrypted
with KMS ``Decrypt`` and that context.
"""

from __future__ import annotations

import base64
import os
import re
import uuid
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..authz import denied_message
from .registry import AwsError, Context

DEFAULT_KEY_ALIAS = "alias/aws/ssm"
_MANAGED_KEY_DESCRIPTION = "Default key that protects my SSM parameters when no other key is defined"
_ENVELOPE_MAGIC = b"FOPSENV1"
_KEY_ID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$|^mrk-[0-9a-f]{32}$")


def _kms_backend(ctx: Context):
    from moto.kms.models import kms_backends

    return kms_backends[ctx.account_id][ctx.region]


def _kms_suffix(error_code: str) -> str:
    return (
        f" (Service: AWSKMS; Status Code: 400; Error Code: {error_code}; "
        f"Request ID: {uuid.uuid4()}; Proxy: null)"
    )


def _ensure_managed_key(ctx: Context):
    backend = _kms_backend(ctx)
    for key in backend.keys.values():
        if DEFAULT_KEY_ALIAS in key.aliases:
            if key.key_manager != "AWS":  # moto made it on a DescribeKey of the alias
                key.key_manager = "AWS"
                key.description = _MANAGED_KEY_DESCRIPTION
            return key
    key = backend.create_key(None, "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT", _MANAGED_KEY_DESCRIPTION, None)
    key.key_manager = "AWS"
    backend.create_alias(key.id, DEFAULT_KEY_ALIAS)
    return key


def resolve_key(ctx: Context, key_id: str):
    """The moto KMS key for a KeyId as Parameter Store accepts it, or InvalidKeyId."""
    backend = _kms_backend(ctx)
    prefix = f"arn:{ctx.partition}:kms:{ctx.region}:{ctx.account_id}:"
    raw = key_id
    if raw.startswith("arn:"):
        if not raw.startswith(prefix):
            raise AwsError("InvalidKeyId", f"Invalid arn {key_id}" + _kms_suffix("NotFoundException"))
        raw = raw[len(prefix):]
        if raw.startswith("key/"):
            raw = raw[len("key/"):]
        elif not raw.startswith("alias/"):
            raise AwsError("InvalidKeyId", f"Invalid arn {key_id}" + _kms_suffix("NotFoundException"))
    key = None
    if raw.startswith("alias/"):
        if raw == DEFAULT_KEY_ALIAS:
            key = _ensure_managed_key(ctx)
        else:
            for candidate in backend.keys.values():
                if raw in candidate.aliases:
                    key = candidate
                    break
        if key is None:
            raise AwsError(
                "InvalidKeyId",
                f"Alias arn:{ctx.partition}:kms:{ctx.region}:{ctx.account_id}:{raw} is not found."
                + _kms_suffix("NotFoundException"),
            )
    else:
        if not _KEY_ID_RE.match(raw):
            raise AwsError("InvalidKeyId", f"Invalid keyId '{key_id}'" + _kms_suffix("NotFoundException"))
        key = backend.keys.get(raw)
        if key is None:
            raise AwsError(
                "InvalidKeyId",
                f"Key '{prefix}key/{raw}' does not exist" + _kms_suffix("NotFoundException"),
            )
    _check_usable(key)
    return key


def _check_usable(key: Any) -> None:
    state = getattr(key, "key_state", "Enabled")
    if state == "Disabled":
        raise AwsError("InvalidKeyId", f"{key.arn} is disabled." + _kms_suffix("DisabledException"))
    if state == "PendingDeletion":
        raise AwsError("InvalidKeyId", f"{key.arn} is pending deletion." + _kms_suffix("KMSInvalidStateException"))
    if state not in ("Enabled",):
        raise AwsError("InvalidKeyId", f"{key.arn} is {state}." + _kms_suffix("KMSInvalidStateException"))
    usage = getattr(key, "key_usage", None) or "ENCRYPT_DECRYPT"
    spec = getattr(key, "key_spec", None) or "SYMMETRIC_DEFAULT"
    if usage != "ENCRYPT_DECRYPT" or spec != "SYMMETRIC_DEFAULT":
        raise AwsError(
            "InvalidKeyId",
            f"{key.arn} key usage is {usage} which is not valid for Encrypt."
            + _kms_suffix("InvalidKeyUsageException"),
        )


def _key_names(key: Any) -> list[str]:
    return [key.arn, key.id, *key.aliases.keys()]


def _authorize_kms(ctx: Context, action: str, key: Any, param_name: str, param_arn: str) -> None:
    rule = ctx.deny.find(action, [*_key_names(key), param_name, param_arn])
    if rule is not None:
        raise AwsError(
            "AccessDeniedException",
            denied_message(ctx.principal, action, key.arn) + _kms_suffix("AccessDeniedException"),
        )


def encrypt(ctx: Context, key: Any, plaintext: str, param_name: str, param_arn: str, tier: str) -> str:
    """Ciphertext (base64) of ``plaintext`` under ``key``; raises AwsError on denial."""
    backend = _kms_backend(ctx)
    context = {"PARAMETER_ARN": param_arn}
    data = plaintext.encode("utf-8")
    if tier == "Advanced":
        _authorize_kms(ctx, "kms:GenerateDataKey", key, param_name, param_arn)
        data_key, encrypted_key, _arn = backend.generate_data_key(key.id, context, 32, None)
        nonce = os.urandom(12)
        sealed = AESGCM(data_key).encrypt(nonce, data, param_arn.encode())
        blob = _ENVELOPE_MAGIC + len(encrypted_key).to_bytes(2, "big") + encrypted_key + nonce + sealed
    else:
        _authorize_kms(ctx, "kms:Encrypt", key, param_name, param_arn)
        blob, _arn = backend.encrypt(key.id, data, context)
    return base64.b64encode(blob).decode("ascii")


def decrypt(ctx: Context, ciphertext_b64: str, key_arn: str, param_name: str, param_arn: str) -> str:
    backend = _kms_backend(ctx)
    key = backend.keys.get(key_arn.rsplit("/", 1)[-1])
    if key is None:
        raise AwsError(
            "InvalidKeyId",
            f"Key '{key_arn}' does not exist" + _kms_suffix("NotFoundException"),
        )
    _authorize_kms(ctx, "kms:Decrypt", key, param_name, param_arn)
    _check_usable(key)
    context = {"PARAMETER_ARN": param_arn}
    blob = base64.b64decode(ciphertext_b64)
    try:
        if blob.startswith(_ENVELOPE_MAGIC):
            rest = blob[len(_ENVELOPE_MAGIC):]
            size = int.from_bytes(rest[:2], "big")
            encrypted_key = rest[2 : 2 + size]
            nonce = rest[2 + size : 14 + size]
            sealed = rest[14 + size :]
            data_key, _arn = backend.decrypt(encrypted_key, context)
            return AESGCM(data_key).decrypt(nonce, sealed, param_arn.encode()).decode("utf-8")
        plaintext, _arn = backend.decrypt(blob, context)
        return plaintext.decode("utf-8")
    except AwsError:
        raise
    except Exception:
        raise AwsError(
            "InvalidKeyId",
            "The ciphertext refers to a customer master key that does not exist, does not exist in this region, "
            "or you are not allowed to access." + _kms_suffix("AccessDeniedException"),
        )
