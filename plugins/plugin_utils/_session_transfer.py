# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE: this file is internal to the fleetops.ssm collection. It is not a public API and may
# change at any time without notice. Do not import it from outside the collection.

"""In-band file transfer through the session: chunked, binary-safe, checked with SHA-256.

put: the file goes in chunks of ``chunk_size`` bytes, each the stdin of ``cat >>`` into a
temporary file next to the destination; a last command compares ``sha256sum`` with the local
digest and renames the file into place (or removes it). Memory stays within one chunk on both
sides. fetch: ``cat`` streams the file, written to the local file as it arrives, and
``sha256sum`` (on stderr) is compared with the digest of what was written.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shlex

from ansible_collections.fleetops.ssm.plugins.plugin_utils._session_client import SessionError


class TransferError(SessionError):
    """A transfer failed (missing file, checksum mismatch, size limit)."""


def _q(path: str) -> str:
    return shlex.quote(path)


def put_file(client, in_path: str, out_path: str, chunk_size: int, max_size: int, timeout=None) -> str:
    """Copy the local ``in_path`` to ``out_path`` on the node; returns the SHA-256 digest."""
    try:
        size = os.path.getsize(in_path)
    except OSError as e:
        raise TransferError("cannot read %s: %s" % (in_path, e)) from e
    if max_size and size > max_size:
        raise TransferError("%s is %d bytes, more than max_transfer_size (%d)" % (in_path, size, max_size))
    tmp = "%s.fleetops-%s.part" % (out_path, secrets.token_hex(6))
    digest = hashlib.sha256()
    first = True
    try:
        with open(in_path, "rb") as f:
            while True:
                chunk = f.read(chunk_size)
                if not chunk and not first:
                    break
                digest.update(chunk)
                rc, dummy, err = client.exec_command("cat %s %s" % (">" if first else ">>", _q(tmp)), chunk,
                                                     timeout=timeout)
                if rc != 0:
                    raise TransferError("writing %s on the node failed (exit %d): %s"
                                        % (out_path, rc, err.decode("utf-8", "replace").strip()))
                first = False
                if len(chunk) < chunk_size:
                    break
    except OSError as e:
        _discard(client, tmp)
        raise TransferError("cannot read %s: %s" % (in_path, e)) from e
    except TransferError:
        _discard(client, tmp)
        raise
    expected = digest.hexdigest()
    finish = (
        "h=$(sha256sum < {tmp} | cut -c1-64) || exit 1; "
        'if [ "$h" = {exp} ]; then mv -f -- {tmp} {out}; '
        'else rm -f -- {tmp}; echo "checksum mismatch: $h" >&2; exit 65; fi'
    ).format(tmp=_q(tmp), exp=expected, out=_q(out_path))
    rc, dummy, err = client.exec_command(finish, timeout=timeout)
    if rc != 0:
        _discard(client, tmp)
        raise TransferError("putting %s to %s failed (exit %d): %s"
                            % (in_path, out_path, rc, err.decode("utf-8", "replace").strip()))
    return expected


def _discard(client, tmp: str) -> None:
    try:
        client.exec_command("rm -f -- %s" % _q(tmp))
    except SessionError:
        pass


def fetch_file(client, in_path: str, out_path: str, max_size: int, timeout=None) -> str:
    """Copy ``in_path`` on the node to the local ``out_path``; returns the SHA-256 digest."""
    check = ""
    if max_size:
        check = ('s=$(stat -c %%s -- %s) || exit 1; if [ "$s" -gt %d ]; then '
                 'echo "the file is $s bytes, more than max_transfer_size (%d)" >&2; exit 66; fi; '
                 % (_q(in_path), max_size, max_size))
    cmd = "%scat -- %s && sha256sum < %s >&2" % (check, _q(in_path), _q(in_path))
    digest = hashlib.sha256()
    tmp = "%s.fleetops-%s.part" % (out_path, secrets.token_hex(6))
    done = False
    try:
        with open(tmp, "wb") as f:
            def sink(data: bytes) -> None:
                digest.update(data)
                f.write(data)
            rc, dummy, err = client.exec_command(cmd, timeout=timeout, stdout_sink=sink)
        text = err.decode("utf-8", "replace").strip()
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
            try:
                os.unlink(tmp)
            except OSError:
                pass
    return digest.hexdigest()
