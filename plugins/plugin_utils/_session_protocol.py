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
   encoded, then the snippet's own data: base64 (gzip first when the node has it and that
   pays), except long runs of base64 characters, sent as they are (the zip inside an Ansible
   module payload is one). Every byte sent after the bootstrap is in ``[0-9A-Za-z+/=]``: no
   control characters, no newlines.
3. The snippet prints ``<marker> O``, the command's stdout in base64, ``<marker> E``, its
   stderr in base64 and ``<marker> R <exit code>``. The marker is random per request and
   contains characters that base64 never produces.
4. The first request (``setup_request``) makes a private blob directory for the session and
   reports what the node has. Long runs of a request may be kept there (``<marker> C <name>
   <size>`` confirms one) and later requests name them instead of sending them; a request
   naming a blob the node no longer has runs nothing and answers ``<marker> M``. The last
   request of a session that ends normally (``teardown_request``) removes the directory.

Only POSIX sh, ``stty``, ``head``, ``base64`` and ``mktemp`` are needed on the node: no Python
(``raw`` works), bash and dash alike; ``gzip`` is used when present. Only this module knows the shell syntax: another shell
type (PowerShell) would bring another implementation of ``bootstrap_line``,
``build_request`` and ``ResponseParser``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
import shlex
import zlib
from collections import OrderedDict

READY_PREFIX = b"FLEETOPS-READY-"
HEADER_DIGITS = 10
MAX_SNIPPET = 10 ** HEADER_DIGITS - 1

# The request loop. ``eval`` runs each snippet in the loop's shell, so a snippet must not
# ``exit``; the user's command always runs in a child ``sh``.
_LOOP = 'while n=$(head -c %d) && [ -n "$n" ]; do eval "$(head -c "$n" | base64 -d)"; done; exit' % HEADER_DIGITS


class ProtocolError(Exception):
    """The session's output does not follow the protocol."""


class CommandTooLong(ProtocolError):
    """A command does not fit in one request (nothing was sent)."""


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


# Long runs of base64 characters in a command's input (the zip inside an Ansible module
# payload is one) cross the channel as they are instead of being encoded again: they are
# already in the alphabet the protocol allows. Runs of at least CACHE_MIN characters of
# requests that allow it are also kept on the node for the rest of the session, in a private
# directory, and later requests name them instead of sending them again.
RAW_MIN = 4096
CACHE_MIN = 16384
_RAW_RUN = re.compile(rb"[A-Za-z0-9+/]{%d,}={0,2}" % RAW_MIN)


def data_parts(data: bytes) -> list:
    """``data`` as ``("b64", bytes)`` pieces (sent encoded) and ``("raw", bytes)`` runs (sent as they are)."""
    parts = []
    pos = 0
    for match in _RAW_RUN.finditer(data):
        if match.start() > pos:
            parts.append(("b64", data[pos:match.start()]))
        parts.append(("raw", match.group()))
        pos = match.end()
    if pos < len(data) or not parts:
        parts.append(("b64", data[pos:]))
    return parts


def blob_name(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# Encoded pieces of at least this size are compressed (gzip) when that makes them smaller and
# the node has gzip: script text (module wrappers, their arguments) and text files shrink to a
# third or less.
GZIP_MIN = 512
_GZIP_GAIN = 0.85


def gzip_bytes(data: bytes) -> bytes:
    packer = zlib.compressobj(6 if len(data) < 1024 * 1024 else 1, zlib.DEFLATED, 31)
    return packer.compress(data) + packer.flush()


class BlobCache:
    """What the helper knows of the session's shell: its blob directory and whether it has gzip.

    A blob counts as stored only once the node confirmed it (a ``C`` line); the oldest ones
    are removed when the directory would hold more than ``limit`` bytes.
    """

    def __init__(self, enabled: bool = False, limit: int = 32 * 1024 * 1024, gzip: bool = False):
        self.enabled = enabled
        self.gzip = gzip
        self.limit = limit
        self.stored: OrderedDict = OrderedDict()  # name -> size, oldest first
        self.evict: list = []  # names to remove with the next request

    def has(self, name: str) -> bool:
        if name in self.stored:
            self.stored.move_to_end(name)
            return True
        return False

    def confirm(self, name: str, size: int) -> None:
        self.stored[name] = size
        self.stored.move_to_end(name)
        while sum(self.stored.values()) > self.limit and len(self.stored) > 1:
            old, dummy = self.stored.popitem(last=False)
            self.evict.append(old)

    def forget(self, names) -> None:
        for name in names:
            self.stored.pop(name, None)


def setup_request(marker: str) -> bytes:
    """The first request of a session: the private blob directory, removed when the shell ends.

    Runs in the request loop's shell itself (the variable and the traps stay). The exit code
    says what the node has: 1 the directory, 2 gzip (see ``features``).
    """
    mk = shlex.quote(marker)
    snippet = "\n".join([
        # directories of this user's sessions that ended without removing theirs (the node went down)
        'find "${TMPDIR:-/tmp}" -maxdepth 1 -name "fleetops-ssm.*" -user "$(id -u)" -mtime +1 -exec rm -rf {} + '
        '>/dev/null 2>&1',
        'fo_c=$(umask 077 && mktemp -d "${TMPDIR:-/tmp}/fleetops-ssm.XXXXXXXX" 2>/dev/null) || fo_c=""',
        "trap '[ -z \"$fo_c\" ] || rm -rf \"$fo_c\"' EXIT",
        "trap '[ -z \"$fo_c\" ] || rm -rf \"$fo_c\"; exit 129' HUP",
        "trap '[ -z \"$fo_c\" ] || rm -rf \"$fo_c\"; exit 143' TERM",
        "printf '%%s O\\n%%s E\\n' %s %s" % (mk, mk),
        'r=0; [ -z "$fo_c" ] || r=1; ! command -v gzip >/dev/null 2>&1 || r=$((r + 2))',
        "printf '%%s R %%s\\n' %s \"$r\"" % mk,
    ]) + "\n"
    return _frame(snippet)


def features(rc: int) -> BlobCache:
    """The session's features from the exit code of ``setup_request``."""
    return BlobCache(enabled=bool(rc & 1), gzip=bool(rc & 2))


def teardown_request(marker: str) -> bytes:
    """The last request of a session that ends normally: the blob directory goes."""
    mk = shlex.quote(marker)
    return _frame('[ -z "$fo_c" ] || rm -rf "$fo_c"; fo_c=""\nprintf \'%%s O\\n%%s E\\n%%s R 0\\n\' %s %s %s\n'
                  % (mk, mk, mk))


def exec_snippet(cmd: str, marker: str, stdin: list | None, timeout: int | None = None, evict=()) -> str:
    """The shell snippet that runs ``cmd`` and reports its streams and exit code.

    ``stdin`` is None (the command reads ``/dev/null``) or the steps that make it, in order:
    ``("b64", n)`` (n bytes of base64 follow in the stream), ``("gz", n)`` (the same, of gzip
    data), ``("raw", n)`` (n bytes taken as
    they are), ``("store", n, name)`` (a raw run also kept in the blob directory, confirmed
    with a ``C`` line) and ``("cached", name)`` (a blob of the directory). Everything is read
    before the command starts, so that nothing of it is left in the stream. A blob missing
    from the directory answers ``M`` and runs nothing: the helper sends the request again
    with the data.
    stderr is kept in a private temporary file until the command ends; stdout is streamed.
    With ``timeout``, the node's ``timeout`` (coreutils or busybox), when it exists, kills the
    command after that many seconds (exit code 124); the session stays usable.
    """
    quoted = shlex.quote(cmd)
    mk = shlex.quote(marker)
    # stderr waits in the session's directory (requests run one at a time), else in a temporary file
    lines = ["exec 4>&1", 'if [ -n "$fo_c" ]; then f="$fo_c/stderr"; '
             'else f=$(mktemp 2>/dev/null || mktemp /tmp/fleetops-err.XXXXXXXX 2>/dev/null) || f=""; fi', "m=''"]
    for name in evict:
        lines.append('[ -z "$fo_c" ] || rm -f "$fo_c/%s"' % name)
    limit = ""
    if timeout:
        lines.append('if command -v timeout >/dev/null 2>&1; then t="timeout -k 5 %d"; else t=""; fi' % int(timeout))
        limit = "$t "
    variables = []
    if stdin is None:
        feed = ""
        redirect = " </dev/null"
    else:
        pieces = []
        for index, step in enumerate(stdin):
            var = "i%d" % index
            if step[0] == "cached":
                lines.append('[ -n "$fo_c" ] && [ -r "$fo_c/%s" ] || m=1' % step[1])
                pieces.append('cat "$fo_c/%s"' % step[1])
                continue
            variables.append(var)
            lines.append("%s=$(head -c %d)" % (var, step[1]))
            if step[0] == "b64":
                pieces.append('printf %%s "$%s" | base64 -d' % var)
                continue
            if step[0] == "gz":
                pieces.append('printf %%s "$%s" | base64 -d | gzip -dc' % var)
                continue
            pieces.append('printf %%s "$%s"' % var)
            if step[0] == "store":
                path = '"$fo_c/%s"' % step[2]
                lines.append(
                    'if [ -n "$fo_c" ] && printf %%s "$%s" >%s.t && mv -f %s.t %s; then printf \'%%s C %s %d\\n\' %s; '
                    'else rm -f %s.t 2>/dev/null; fi' % (var, path, path, path, step[2], step[1], mk, path))
        feed = "{ %s; } | " % "; ".join(pieces) if pieces else ""
        redirect = "" if pieces else " </dev/null"
    run = [
        "printf '%%s O\\n' %s" % mk,
        'r=$( { { %s%ssh -c %s%s 2>"${f:-/dev/null}" 3>&- 4>&-; echo $? >&3; } | base64 >&4 3>&-; } 3>&1 )'
        % (feed, limit, quoted, redirect),
        "printf '%%s E\\n' %s" % mk,
        'if [ -s "$f" ]; then base64 "$f"; fi',
        "printf '%%s R %%s\\n' %s \"$r\"" % mk,
    ]
    lines.append('if [ -n "$m" ]; then printf \'%%s M\\n\' %s; else' % mk)
    lines.extend("  " + line for line in run)
    lines.append("fi")
    lines.append('if [ -n "$fo_c" ]; then : >"$f"; elif [ -n "$f" ]; then rm -f "$f"; fi')
    if variables:
        lines.append("unset %s" % " ".join(variables))
    return "\n".join(lines) + "\n"


def _frame(snippet: str, data: bytes = b"") -> bytes:
    snippet_b64 = base64.b64encode(snippet.encode("utf-8"))
    if len(snippet_b64) > MAX_SNIPPET:
        raise CommandTooLong("command too long for the session protocol")
    return (b"%0*d" % (HEADER_DIGITS, len(snippet_b64))) + snippet_b64 + data


def build_request(cmd: str, marker: str, in_data: bytes | None = None, timeout: int | None = None,
                  cache: BlobCache | None = None, keep_blobs: bool = True) -> bytes:
    """Everything to write to the session for one command (ASCII only, no newline).

    ``cache`` is what the session's shell has (``features``): with gzip, encoded pieces are
    compressed when that pays; with a blob directory and ``keep_blobs``, long base64 runs of
    ``in_data`` are kept on the node, or named when the node has them already.
    """
    steps = None if in_data is None else []
    stream = []
    for kind, piece in data_parts(in_data) if in_data is not None else ():
        if kind == "b64":
            step = "b64"
            if cache is not None and cache.gzip and len(piece) >= GZIP_MIN:
                packed = gzip_bytes(piece)
                if len(packed) < len(piece) * _GZIP_GAIN:
                    step, piece = "gz", packed
            encoded = base64.b64encode(piece)
            steps.append((step, len(encoded)))
            stream.append(encoded)
            continue
        if cache is not None and cache.enabled and keep_blobs and len(piece) >= CACHE_MIN:
            name = blob_name(piece)
            if cache.has(name):
                steps.append(("cached", name))
                continue
            steps.append(("store", len(piece), name))
        else:
            steps.append(("raw", len(piece)))
        stream.append(piece)
    request = _frame(exec_snippet(cmd, marker, steps, timeout, cache.evict if cache else ()), b"".join(stream))
    # the evicted blobs are removed by this request
    if cache is not None:
        cache.evict = []
    return request


class ResponseParser:
    """Turns the session's output for one request into events.

    ``feed(data)`` returns a list of ``("O", bytes)``, ``("E", bytes)``, ``("C", (name, size))``
    (a blob is stored on the node) and, once, ``("R", int)`` or ``("M", names)`` (a blob the
    request named is missing: nothing ran). Output before the request's first marker (stray
    terminal output) is ignored.
    """

    def __init__(self, marker: str):
        self.marker = marker.encode("ascii")
        self.state = "pre"
        self.buf = b""
        self.rc: int | None = None
        self.missed = False

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

    def _pre(self, events: list) -> bool:
        """Before the streams: noise, ``C`` and ``M`` lines, then ``O``. False when more data is needed."""
        idx = self.buf.find(self.marker)
        if idx < 0:
            # keep a tail that may be the start of the marker
            self.buf = self.buf[-(len(self.marker) - 1):]
            return False
        end = self.buf.find(b"\n", idx)
        if end < 0:
            self.buf = self.buf[idx:]
            return False
        line = self.buf[idx + len(self.marker): end]
        self.buf = self.buf[end + 1:]
        words = line.split()
        if not line.startswith(b" ") or not words:
            return True  # another marker that starts like this one: noise
        if words == [b"O"]:
            self.state = "O"
        elif words[0] == b"C" and len(words) == 3 and words[2].isdigit():
            events.append(("C", (words[1].decode("ascii", "replace"), int(words[2]))))
        elif words == [b"M"]:
            self.missed = True
            events.append(("M", None))
            self.state = "done"
        else:
            raise ProtocolError("unexpected marker line in the session output: %r" % line)
        return True

    def feed(self, data: bytes) -> list:
        events: list = []
        self.buf += data
        while self.state != "done":
            if self.state == "pre":
                if not self._pre(events):
                    break
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
