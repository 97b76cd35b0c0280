# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE: this file is internal to the fleetops.ssm collection. It is not a public API and may
# change at any time without notice. Do not import it from outside the collection.

"""The framing protocol spoken with the shell of a Session Manager session.

A Standard_Stream session gives a POSIX ``sh`` on a pseudo-terminal: echo, ``\\r\\n`` line ends,
a line discipline that limits canonical lines to 4095 bytes, and a plugin that turns a lone
``\\n`` into ``\\r``. None of that must leak into results, so the session is driven like this:

1. Bootstrap (the only line typed in canonical mode, well under 1024 bytes): the terminal is
   switched to raw mode without echo (``stty raw -echo``: no echo, no output processing, no
   signals, no line editing), a ready marker is printed, and the shell enters a loop that
   reads requests with ``head -c``, which never reads past what it is asked for.
2. A request is ``%010d`` (the length of the next field), then a shell snippet, base64
   encoded, then the snippet's own data (base64 too). Every byte sent after the bootstrap
   is in ``[0-9A-Za-z+/=]``: no control characters, no newlines.
3. The snippet prints ``<marker> O``, the command's stdout in base64, ``<marker> E``, its
   stderr in base64 and ``<marker> R <exit code>``. The marker is random per request and
   contains characters that base64 never produces.

Only POSIX sh, ``stty``, ``head``, ``base64`` and ``mktemp`` are needed on the node: no Python
(``raw`` works), bash and dash alike. Only this module knows the shell syntax: another shell
type (PowerShell) would bring another implementation of ``bootstrap_line``,
``build_request`` and ``ResponseParser``.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import shlex

READY_PREFIX = b"FLEETOPS-READY-"
HEADER_DIGITS = 10
MAX_SNIPPET = 10 ** HEADER_DIGITS - 1

# The request loop. ``eval`` runs each snippet in the loop's shell, so a snippet must not
# ``exit``; the user's command always runs in a child ``sh``.
_LOOP = 'while n=$(head -c %d) && [ -n "$n" ]; do eval "$(head -c "$n" | base64 -d)"; done; exit' % HEADER_DIGITS


class ProtocolError(Exception):
    """The session's output does not follow the protocol."""


def new_nonce() -> str:
    return secrets.token_hex(8)


def bootstrap_line(nonce: str) -> bytes:
    """The line typed into the fresh shell: raw mode, no echo, ready marker, request loop.

    The echoed line shows ``'FLEET%s\\n' OPS-READY-<nonce>``; only the output of ``printf``
    contains ``FLEETOPS-READY-<nonce>``.
    """
    line = "stty raw -echo -iexten 2>/dev/null; printf 'FLEET%%s\\n' OPS-READY-%s; %s\n" % (nonce, _LOOP)
    return line.encode("ascii")


def ready_marker(nonce: str) -> bytes:
    return READY_PREFIX + nonce.encode("ascii") + b"\n"


def new_marker() -> str:
    # '#' and '-' are outside the base64 alphabet: a marker never appears inside encoded data.
    return "#fo-" + secrets.token_hex(8)


def exec_snippet(cmd: str, marker: str, stdin_b64_len: int | None, timeout: int | None = None) -> str:
    """The shell snippet that runs ``cmd`` and reports its streams and exit code.

    stdin is the request's data (``stdin_b64_len`` bytes of base64, read in full before the
    command starts so that nothing of it is left in the stream) or ``/dev/null``.
    stderr is kept in a private temporary file until the command ends; stdout is streamed.
    With ``timeout``, the node's ``timeout`` (coreutils or busybox), when it exists, kills the
    command after that many seconds (exit code 124); the session stays usable.
    """
    quoted = shlex.quote(cmd)
    mk = shlex.quote(marker)
    lines = ["exec 4>&1", 'f=$(mktemp 2>/dev/null) || f=""']
    limit = ""
    if timeout:
        lines.append('if command -v timeout >/dev/null 2>&1; then t="timeout -k 5 %d"; else t=""; fi' % int(timeout))
        limit = "$t "
    if stdin_b64_len is None:
        stdin = ""
        redirect = " </dev/null"
    else:
        lines.append("i=$(head -c %d)" % stdin_b64_len)
        stdin = 'printf %s "$i" | base64 -d | '
        redirect = ""
    lines.append("printf '%%s O\\n' %s" % mk)
    lines.append(
        'r=$( { { %s%ssh -c %s%s 2>"${f:-/dev/null}" 3>&- 4>&-; echo $? >&3; } | base64 >&4 3>&-; } 3>&1 )'
        % (stdin, limit, quoted, redirect)
    )
    lines.append("unset i")
    lines.append("printf '%%s E\\n' %s" % mk)
    lines.append('if [ -n "$f" ]; then base64 "$f"; rm -f "$f"; fi')
    lines.append("printf '%%s R %%s\\n' %s \"$r\"" % mk)
    return "\n".join(lines) + "\n"


def build_request(cmd: str, marker: str, in_data: bytes | None = None, timeout: int | None = None) -> bytes:
    """Everything to write to the session for one command (ASCII only, no newline)."""
    data_b64 = base64.b64encode(in_data) if in_data is not None else b""
    snippet = exec_snippet(cmd, marker, len(data_b64) if in_data is not None else None, timeout)
    snippet_b64 = base64.b64encode(snippet.encode("utf-8"))
    if len(snippet_b64) > MAX_SNIPPET:
        raise ProtocolError("command too long for the session protocol")
    return (b"%0*d" % (HEADER_DIGITS, len(snippet_b64))) + snippet_b64 + data_b64


class ResponseParser:
    """Turns the session's output for one request into events.

    ``feed(data)`` returns a list of ``("O", bytes)``, ``("E", bytes)`` and, once, ``("R", int)``.
    Output before the request's first marker (stray terminal output) is ignored.
    """

    def __init__(self, marker: str):
        self.marker = marker.encode("ascii")
        self.state = "pre"
        self.buf = b""
        self.rc: int | None = None

    @property
    def done(self) -> bool:
        return self.state == "done"

    def _decode(self, stream: str, data: bytes, events: list) -> None:
        if not data.strip():
            return
        try:
            decoded = binascii.a2b_base64(data)
        except binascii.Error as e:
            raise ProtocolError("undecodable %s data in the session output: %s" % (stream, e)) from e
        if decoded:
            events.append((stream, decoded))

    def feed(self, data: bytes) -> list:
        events: list = []
        self.buf += data
        while self.state != "done":
            if self.state == "pre":
                start = self.marker + b" O\n"
                idx = self.buf.find(start)
                if idx < 0:
                    # keep a tail that may be the start of the marker
                    self.buf = self.buf[-(len(start) - 1):]
                    break
                self.buf = self.buf[idx + len(start):]
                self.state = "O"
                continue
            idx = self.buf.find(self.marker)
            if idx < 0:
                cut = self.buf.rfind(b"\n")
                if cut >= 0:
                    self._decode(self.state, self.buf[: cut + 1], events)
                    self.buf = self.buf[cut + 1:]
                break
            end = self.buf.find(b"\n", idx)
            if end < 0:
                self._decode(self.state, self.buf[:idx], events)
                self.buf = self.buf[idx:]
                break
            self._decode(self.state, self.buf[:idx], events)
            line = self.buf[idx + len(self.marker): end].strip()
            self.buf = self.buf[end + 1:]
            if self.state == "O" and line == b"E":
                self.state = "E"
            elif self.state == "E" and line.startswith(b"R "):
                try:
                    self.rc = int(line[2:].strip())
                except ValueError as e:
                    raise ProtocolError("bad exit code line in the session output: %r" % line) from e
                events.append(("R", self.rc))
                self.state = "done"
            else:
                raise ProtocolError("unexpected marker line in the session output: %r" % line)
        return events


def version_tuple(text: str) -> tuple:
    parts = []
    for part in text.strip().split("."):
        digits = "".join(c for c in part if c.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


# Versions newer than this one accept the name of an environment variable instead of the
# StartSession response itself (the AWS CLI's rule).
LAST_VERSION_WITHOUT_ENV = "1.2.497.0"


def supports_env_response(version: str) -> bool:
    return version_tuple(version) > version_tuple(LAST_VERSION_WITHOUT_ENV)
