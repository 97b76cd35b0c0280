# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE: this file is internal to the fleetops.ssm collection. It is not a public API and may
# change at any time without notice. Do not import it from outside the collection.

"""The controller's side of file transfers through an S3 bucket (the ``s3`` transfer method).

The controller uploads, downloads and deletes objects with boto3; the node gets presigned
URLs for one object each, valid for ``URL_EXPIRY`` seconds. boto3 is imported only when a
transfer goes through S3.
"""

from __future__ import annotations

import os
import secrets
import time

from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_helper import aws_session

# How long a presigned URL works: the node uses it at once.
URL_EXPIRY = 900
# While a long transfer runs, the session helper is told that the run is busy this often (seconds).
TOUCH_SECONDS = 5

SSE_MODES = ("AES256", "aws:kms")
ADDRESSING_STYLES = ("auto", "path", "virtual")


class S3Error(Exception):
    """An S3 call failed; the message names the bucket, the error code and the IAM action."""


class S3Settings:
    """Where and how files go through S3: the connection's bucket options."""

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None, addressing_style: str = "auto",
                 sse_mode: str | None = None, kms_key_id: str | None = None):
        self.bucket = bucket
        prefix = (prefix or "").lstrip("/")
        self.prefix = prefix + "/" if prefix and not prefix.endswith("/") else prefix
        self.endpoint_url = endpoint_url or None
        self.addressing_style = addressing_style or "auto"
        self.sse_mode = sse_mode or None
        self.kms_key_id = kms_key_id or None

    def key(self, instance_id: str, path: str) -> str:
        """A new object key for one transfer: ``<prefix><instance id>/<random>-<file name>``."""
        name = os.path.basename(path.rstrip("/"))[-100:] or "file"
        return "%s%s/%s-%s" % (self.prefix, instance_id, secrets.token_hex(12), name)

    def sse_params(self) -> dict:
        params = {}
        if self.sse_mode:
            params["ServerSideEncryption"] = self.sse_mode
        if self.sse_mode == "aws:kms" and self.kms_key_id:
            params["SSEKMSKeyId"] = self.kms_key_id
        return params

    def sse_headers(self) -> dict:
        """The headers a presigned PUT must be sent with (they are part of its signature)."""
        headers = {}
        if self.sse_mode:
            headers["x-amz-server-side-encryption"] = self.sse_mode
        if self.sse_mode == "aws:kms" and self.kms_key_id:
            headers["x-amz-server-side-encryption-aws-kms-key-id"] = self.kms_key_id
        return headers


class S3Store:
    """Objects of one bucket, with the session's credentials (``cfg`` as the helper gets it)."""

    def __init__(self, cfg: dict, settings: S3Settings, touch=None):
        self.cfg = cfg
        self.settings = settings
        self.touch = touch or (lambda: None)
        self._client = None
        self._botocore = None
        # objects that could not be deleted after their transfer (the messages, for warnings)
        self.leftovers: list = []

    # ------------------------------------------------------------------ client
    @property
    def client(self):
        if self._client is None:
            self._client = self._make_client()
        return self._client

    def _make_client(self):
        try:
            import botocore.config  # pylint: disable=import-outside-toplevel
            import botocore.exceptions  # pylint: disable=import-outside-toplevel
        except ImportError as e:  # pragma: no cover - boto3 is a requirement of the plugin
            raise S3Error("the s3 transfer method needs boto3 and botocore on the controller") from e

        self._botocore = botocore
        settings = self.settings
        try:
            session, kwargs = aws_session(self.cfg)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
            raise S3Error("cannot get credentials for S3: %s" % e) from None
        config = kwargs.pop("config").merge(botocore.config.Config(
            signature_version="s3v4", s3={"addressing_style": settings.addressing_style}))
        region = session.region_name or self.cfg.get("region")
        if not settings.endpoint_url:
            region = self._bucket_region(session, config, kwargs, region)
        return session.client("s3", region_name=region, endpoint_url=settings.endpoint_url, config=config, **kwargs)

    def _bucket_region(self, session, config, kwargs, region):
        """The bucket's own region (presigned URLs are signed for it); the session's when it cannot be read."""
        probe = session.client("s3", region_name=region, config=config, **kwargs)
        try:
            found = probe.get_bucket_location(Bucket=self.settings.bucket).get("LocationConstraint")
        except (self._botocore.exceptions.BotoCoreError, self._botocore.exceptions.ClientError):
            return region
        if found in (None, ""):
            return "us-east-1"
        return "eu-west-1" if found == "EU" else found

    def _fail(self, what: str, action: str, key: str, error) -> S3Error:
        exceptions = self._botocore.exceptions
        if isinstance(error, exceptions.ClientError):
            info = error.response.get("Error", {})
            code = info.get("Code") or "Unknown"
            detail = "%s: %s" % (code, info.get("Message") or error)
        else:
            detail = str(error)
        return S3Error("%s s3://%s/%s failed (IAM action %s): %s" % (what, self.settings.bucket, key, action, detail))

    def _progress(self):
        state = {"next": time.monotonic() + TOUCH_SECONDS}

        def callback(dummy):
            if time.monotonic() >= state["next"]:
                state["next"] = time.monotonic() + TOUCH_SECONDS
                self.touch()
        return callback

    # ------------------------------------------------------------------ objects
    def upload(self, path: str, key: str) -> None:
        client = self.client
        try:
            from boto3.exceptions import S3UploadFailedError  # pylint: disable=import-outside-toplevel
        except ImportError:  # pragma: no cover
            S3UploadFailedError = OSError  # pylint: disable=invalid-name
        try:
            client.upload_file(path, self.settings.bucket, key, ExtraArgs=self.settings.sse_params() or None,
                               Callback=self._progress())
        except S3UploadFailedError as e:
            # boto3 wraps the ClientError that says what went wrong
            cause = e.__cause__ or e.__context__
            raise self._fail("uploading to", "s3:PutObject", key,
                             cause if isinstance(cause, self._botocore.exceptions.ClientError) else e) from None
        except (self._botocore.exceptions.BotoCoreError, self._botocore.exceptions.ClientError) as e:
            raise self._fail("uploading to", "s3:PutObject", key, e) from None

    def download(self, key: str, path: str) -> None:
        client = self.client
        try:
            client.download_file(self.settings.bucket, key, path, Callback=self._progress())
        except (self._botocore.exceptions.BotoCoreError, self._botocore.exceptions.ClientError) as e:
            raise self._fail("downloading", "s3:GetObject", key, e) from None

    def delete(self, key: str) -> None:
        client = self.client
        try:
            client.delete_object(Bucket=self.settings.bucket, Key=key)
        except (self._botocore.exceptions.BotoCoreError, self._botocore.exceptions.ClientError) as e:
            raise self._fail("deleting", "s3:DeleteObject", key, e) from None

    def url_for_get(self, key: str) -> str:
        return self._presign("get_object", {"Bucket": self.settings.bucket, "Key": key}, key)

    def url_for_put(self, key: str) -> tuple:
        """A presigned PUT URL and the headers to send with it."""
        params = {"Bucket": self.settings.bucket, "Key": key}
        params.update(self.settings.sse_params())
        return self._presign("put_object", params, key), self.settings.sse_headers()

    def _presign(self, method: str, params: dict, key: str) -> str:
        client = self.client
        try:
            return client.generate_presigned_url(method, Params=params, ExpiresIn=URL_EXPIRY)
        except (self._botocore.exceptions.BotoCoreError, self._botocore.exceptions.ClientError) as e:
            raise self._fail("presigning a URL for", "s3:%s" % ("GetObject" if method == "get_object" else "PutObject"),
                             key, e) from None
