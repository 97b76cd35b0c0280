# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE: this file is internal to the fleetops.ssm collection. It is not a public API and may
# change at any time without notice. Do not import it from outside the collection.

"""File transfer: in-band through the session (the default), or through an S3 bucket.

In-band put: the file goes in chunks of ``chunk_size`` bytes, each the stdin of ``cat`` into a
temporary file next to the destination; the last request also compares ``sha256sum`` with the
local digest and renames the file into place (or removes it). A file of one chunk takes one
request. Memory stays within one chunk on both sides. In-band fetch: ``cat`` streams the file,
written to a local temporary file as it arrives, and ``sha256sum`` (on stderr) is compared
with the digest of what was written before the file is renamed into place.

Through S3 (``s3_put_file``, ``s3_fetch_file``): the controller uploads (or downloads) the
object with boto3, the node downloads (or uploads) it with ``curl``, or ``python3`` when
there is no curl, from a presigned URL given on the command's stdin (never on a command line).
The HTTP status is checked, a download lands in a temporary file that is renamed into place
only when its size and SHA-256 match: an S3 error body is never saved as the file. The object
is deleted afterwards, whatever happened.

Whenever a transfer fails and the session still works, its temporary file on the node is
removed; a command interrupted on the node (hang-up, Ctrl-C) removes its own.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shlex

from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_client import SessionError
from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_client import SessionUnreachable
from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_s3 import S3Error

# exit codes of the node-side commands
EXIT_MISMATCH = 65
EXIT_TOO_LARGE = 66
EXIT_HTTP = 69

# The node's HTTP client when it has no curl: the same configuration lines on stdin.
# argv: GET <file to write> | PUT <file to send> <file for the response body>
_PY_HTTP = r"""
import os, shutil, sys, urllib.error, urllib.request
o, h = {}, {}
for line in sys.stdin:
    k, s, v = line.partition("=")
    k, v = k.strip(), v.strip()
    if v[:1] == '"':
        v = v[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    if k == "header":
        n, s, x = v.partition(":")
        h[n.strip()] = x.strip()
    elif k:
        o[k] = v
m, p = sys.argv[1], sys.argv[2]
d = None
if m == "PUT":
    d = open(p, "rb")
    h["Content-Length"] = str(os.fstat(d.fileno()).st_size)
    h.setdefault("Content-Type", "application/octet-stream")
try:
    r = urllib.request.build_opener().open(urllib.request.Request(o["url"], data=d, headers=h, method=m), timeout=300)
except urllib.error.HTTPError as e:
    r = e
except (OSError, ValueError) as e:
    sys.stderr.write("%s\n" % e)
    print("000")
    sys.exit(0)
with open(p if m == "GET" else sys.argv[3], "wb") as w:
    shutil.copyfileobj(r, w)
print(r.status if hasattr(r, "status") else r.code)
"""


class TransferError(SessionError):
    """A transfer failed (missing file, checksum mismatch, size limit, S3 error)."""


def _q(path: str) -> str:
    return shlex.quote(path)


def _part_name(path: str) -> str:
    return "%s.fleetops-%s.part" % (path, secrets.token_hex(6))


def _message(err: bytes) -> str:
    return err.decode("utf-8", "replace").strip()


def _discard(client, tmp: str) -> None:
    """Best effort: remove a temporary file on the node (only while the session works)."""
    try:
        client.exec_command("rm -f -- %s" % _q(tmp))
    except SessionError:
        pass


class _DiscardOnFailure:
    """Context manager: when the block fails once ``armed``, remove ``tmp`` on the node (best effort).

    Nothing is attempted when the session itself is gone, or for the exception types in ``keep_on``.
    """

    def __init__(self, client, tmp: str, keep_on: tuple = ()):
        self.client, self.tmp, self.armed = client, tmp, False
        self.keep_on = (SessionUnreachable,) + keep_on

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and self.armed and not issubclass(exc_type, self.keep_on):
            _discard(self.client, self.tmp)
        return False


def local_digest(path: str) -> tuple:
    """``(size, sha256 hex)`` of a local file, read in pieces."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while True:
            block = f.read(1024 * 1024)
            if not block:
                break
            size += len(block)
            digest.update(block)
    return size, digest.hexdigest()


def _local_size(path: str, max_size: int) -> int:
    try:
        size = os.path.getsize(path)
    except OSError as e:
        raise TransferError("cannot read %s: %s" % (path, e)) from e
    if max_size and size > max_size:
        raise TransferError("%s is %d bytes, more than max_transfer_size (%d)" % (path, size, max_size))
    return size


def _size_check(path: str, max_size: int) -> str:
    if not max_size:
        return ""
    return ('s=$(stat -c %%s -- %s) || exit 1; if [ "$s" -gt %d ]; then '
            'echo "the file is $s bytes, more than max_transfer_size (%d)" >&2; exit %d; fi; '
            % (_q(path), max_size, max_size, EXIT_TOO_LARGE))


def _finish(tmp: str, out_path: str, expected: str) -> str:
    """Shell: check the SHA-256 of ``tmp`` and rename it to ``out_path``, or remove it."""
    return (
        "h=$(sha256sum < {tmp} | cut -c1-64) || {{ rm -f -- {tmp}; exit 1; }}; "
        'if [ "$h" = {exp} ]; then mv -f -- {tmp} {out} || {{ rm -f -- {tmp}; exit 1; }}; '
        'else rm -f -- {tmp}; echo "checksum mismatch: $h" >&2; exit {code}; fi'
    ).format(tmp=_q(tmp), exp=expected, out=_q(out_path), code=EXIT_MISMATCH)


# ---------------------------------------------------------------------- in-band


def put_file(client, in_path: str, out_path: str, chunk_size: int, max_size: int, timeout=None) -> str:
    """Copy the local ``in_path`` to ``out_path`` on the node; returns the SHA-256 digest."""
    size = _local_size(in_path, max_size)
    tmp = _part_name(out_path)
    # a command interrupted on the node (hang-up, interrupt) removes what it wrote
    trap = "trap %s HUP INT TERM; " % _q("rm -f -- %s; exit 129" % _q(tmp))
    digest = hashlib.sha256()
    written = False
    cleanup = _DiscardOnFailure(client, tmp)  # the session gone: nothing can be removed through it
    try:
        with cleanup, open(in_path, "rb") as f:
            offset = 0
            while True:
                chunk = f.read(chunk_size)
                digest.update(chunk)
                offset += len(chunk)
                last = len(chunk) < chunk_size or offset >= size
                cmd = "%scat %s %s || { rm -f -- %s; exit 1; }" % (trap, ">>" if written else ">", _q(tmp), _q(tmp))
                if last:
                    cmd += "; " + _finish(tmp, out_path, digest.hexdigest())
                written = cleanup.armed = True
                rc, dummy, err = client.exec_command(cmd, chunk, timeout=timeout)
                if rc != 0:
                    if rc == EXIT_MISMATCH:
                        raise TransferError("putting %s to %s failed: %s" % (in_path, out_path, _message(err)))
                    raise TransferError("writing %s on the node failed (exit %d): %s" % (out_path, rc, _message(err)))
                if last:
                    break
    except OSError as e:
        raise TransferError("cannot read %s: %s" % (in_path, e)) from e
    return digest.hexdigest()


def fetch_file(client, in_path: str, out_path: str, max_size: int, timeout=None) -> str:
    """Copy ``in_path`` on the node to the local ``out_path``; returns the SHA-256 digest."""
    cmd = "%scat -- %s && sha256sum < %s >&2" % (_size_check(in_path, max_size), _q(in_path), _q(in_path))
    digest = hashlib.sha256()
    tmp = _part_name(out_path)
    done = False
    try:
        with open(tmp, "wb") as f:
            def sink(data: bytes) -> None:
                digest.update(data)
                f.write(data)
            rc, dummy, err = client.exec_command(cmd, timeout=timeout, stdout_sink=sink)
        text = _message(err)
        if rc != 0:
            raise TransferError("fetching %s failed (exit %d): %s" % (in_path, rc, text))
        remote = text.split()[0] if text else ""
        if remote != digest.hexdigest():
            raise TransferError("checksum mismatch fetching %s: node %s, received %s"
                                % (in_path, remote or "(none)", digest.hexdigest()))
        os.replace(tmp, out_path)
        done = True
    finally:
        if not done:
            _unlink(tmp)
    return digest.hexdigest()


def remote_size(client, path: str, timeout=None) -> int:
    """The size of a file on the node (for the ``auto`` transfer method)."""
    rc, out, err = client.exec_command("stat -c %%s -- %s" % _q(path), timeout=timeout)
    if rc != 0 or not out.strip().isdigit():
        raise TransferError("cannot read %s on the node (exit %d): %s" % (path, rc, _message(err)))
    return int(out.strip())


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


# ---------------------------------------------------------------------- through S3


def _curl_config(url: str, headers: dict) -> bytes:
    """curl's configuration (``-K -``): the URL stays off every command line."""
    lines = ['url = "%s"' % _config_quote(url)]
    lines.extend('header = "%s"' % _config_quote("%s: %s" % item) for item in sorted(headers.items()))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _config_quote(text: str) -> str:
    if any(c in text for c in "\r\n"):
        raise TransferError("a presigned URL or header with a line break")
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _http_client(mode: str, path: str, body: str = "") -> str:
    """Shell: GET into ``path`` or PUT ``path`` (the response body into ``body``) with curl, else python3.

    The configuration (URL, headers) is the command's stdin. Sets ``c`` (the HTTP status) and
    ``r`` (the client's exit code).
    """
    if mode == "GET":
        curl = "curl -sS -K - -o %s -w '%%{http_code}'" % path
        python = "GET %s" % path
    else:
        curl = "curl -sS -K - -T %s -o %s -w '%%{http_code}'" % (path, body)
        python = "PUT %s %s" % (path, body)
    return (
        "if command -v curl >/dev/null 2>&1; then c=$(%s); r=$?; "
        "elif command -v python3 >/dev/null 2>&1; then c=$(python3 -c %s %s); r=$?; "
        "else echo 'neither curl nor python3 on the node: cannot reach S3' >&2; exit 127; fi; "
        % (curl, _q(_PY_HTTP), python)
    )


_S3_ERROR = re.compile(r"<Code>([^<]*)</Code>.*?(?:<Message>([^<]*)</Message>)?", re.S)


def _node_error(what: str, rc: int, err: bytes) -> str:
    """The node's report, with the S3 error body reduced to its code and message."""
    text = _message(err)
    found = _S3_ERROR.search(text)
    if found:
        cut = text.find("<")
        text = (text[:cut].strip() + " S3 said: %s%s" % (found.group(1), ": " + found.group(2) if found.group(2) else ""))
    return "%s (exit %d): %s" % (what, rc, " ".join(text.split())[:1000])


def s3_put_file(client, store, instance_id: str, in_path: str, out_path: str, max_size: int, timeout=None) -> str:
    """Copy the local ``in_path`` to ``out_path`` on the node through S3; returns the SHA-256 digest.

    An object that could not be deleted afterwards is noted in ``store.leftovers`` (for a warning).
    """
    _local_size(in_path, max_size)
    try:
        size, expected = local_digest(in_path)
    except OSError as e:
        raise TransferError("cannot read %s: %s" % (in_path, e)) from e
    key = store.settings.key(instance_id, out_path)
    tmp = _part_name(out_path)
    uploaded = False
    # the command removes its temporary file itself, unless it never got to run
    cleanup = _DiscardOnFailure(client, tmp, keep_on=(S3Error,))
    try:
        with cleanup:
            store.upload(in_path, key)
            uploaded = cleanup.armed = True
            config = _curl_config(store.url_for_get(key), {})
            cmd = (
                "t=%(tmp)s; trap 'rm -f -- \"$t\"; exit 129' HUP INT TERM; %(get)s"
                'if [ "$r" -ne 0 ] || [ "$c" != 200 ]; then '
                'echo "downloading from S3 failed (exit $r, HTTP status ${c:-none})" >&2; '
                'if [ -f "$t" ]; then head -c 2000 "$t" >&2; fi; rm -f -- "$t"; exit %(http)d; fi; '
                's=$(wc -c < "$t") && h=$(sha256sum < "$t" | cut -c1-64) || { rm -f -- "$t"; exit 1; }; '
                'if [ "$h" = %(exp)s ] && [ "$s" -eq %(size)d ]; then mv -f -- "$t" %(out)s || { rm -f -- "$t"; exit 1; }; '
                'else rm -f -- "$t"; echo "the file downloaded from S3 does not match: $s bytes, sha256 $h '
                '(expected %(size)d bytes, sha256 %(exp)s)" >&2; exit %(mismatch)d; fi'
            ) % {"tmp": _q(tmp), "get": _http_client("GET", '"$t"'), "http": EXIT_HTTP, "exp": expected, "size": size,
                 "out": _q(out_path), "mismatch": EXIT_MISMATCH}
            rc, dummy, err = client.exec_command(cmd, config, timeout=timeout)
            if rc != 0:
                raise TransferError(_node_error("putting %s to %s through S3 failed" % (in_path, out_path), rc, err))
    except S3Error as e:
        raise TransferError(str(e)) from None  # the message says it all
    finally:
        if uploaded:
            _delete(store, key)
    return expected


def s3_fetch_file(client, store, instance_id: str, in_path: str, out_path: str, max_size: int, timeout=None) -> str:
    """Copy ``in_path`` on the node to the local ``out_path`` through S3; returns the SHA-256 digest."""
    key = store.settings.key(instance_id, in_path)
    tmp = _part_name(out_path)
    try:
        url, headers = store.url_for_put(key)
        config = _curl_config(url, headers)
        cmd = (
            "p=%(src)s; %(check)s"
            '[ -f "$p" ] && [ -r "$p" ] || { echo "$p: not a readable file" >&2; exit 1; }; '
            's=$(wc -c < "$p") && h=$(sha256sum < "$p" | cut -c1-64) || exit 1; '
            "b=$(mktemp) || exit 1; trap 'rm -f -- \"$b\"' EXIT; trap 'exit 129' HUP INT TERM; %(put)s"
            'if [ "$r" -ne 0 ] || [ "$c" != 200 ]; then '
            'echo "uploading to S3 failed (exit $r, HTTP status ${c:-none})" >&2; head -c 2000 "$b" >&2; '
            "exit %(http)d; fi; "
            'printf "%%s %%s\\n" "$h" "$s"'
        ) % {"src": _q(in_path), "check": _size_check(in_path, max_size), "put": _http_client("PUT", '"$p"', '"$b"'),
             "http": EXIT_HTTP}
        try:
            rc, out, err = client.exec_command(cmd, config, timeout=timeout)
            if rc != 0:
                raise TransferError(_node_error("fetching %s through S3 failed" % in_path, rc, err))
            words = out.decode("ascii", "replace").split()
            if len(words) != 2 or not words[1].isdigit():
                raise TransferError("fetching %s through S3 failed: the node answered %r" % (in_path, out[:200]))
            remote_digest, remote_bytes = words[0], int(words[1])
            store.download(key, tmp)
            size, digest = local_digest(tmp)
            if (size, digest) != (remote_bytes, remote_digest):
                raise TransferError("the file fetched through S3 does not match %s: %d bytes, sha256 %s (the node has "
                                    "%d bytes, sha256 %s)" % (in_path, size, digest, remote_bytes, remote_digest))
            os.replace(tmp, out_path)
        finally:
            _unlink(tmp)
            _delete(store, key)
    except S3Error as e:
        raise TransferError(str(e)) from None  # the message says it all
    except OSError as e:
        raise TransferError("cannot write %s: %s" % (out_path, e)) from e
    return digest


def _delete(store, key: str) -> None:
    """Delete the transfer's object; a failure is kept for a warning (the transfer itself is done)."""
    try:
        store.delete(key)
    except S3Error as e:
        store.leftovers.append(str(e))
