# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# PRIVATE: this file is internal to the fleetops.ssm collection. It is not a public API and may
# change at any time without notice. Do not import it from outside the collection.

"""Frames exchanged between a task and the session helper over the helper's unix socket.

A frame is one type byte, a 4-byte big-endian length and the payload. Types:

* ``J``: a JSON object (requests, results, errors);
* ``D``: request data (stdin of a command);
* ``O`` / ``E``: a piece of the command's stdout / stderr.
"""

from __future__ import annotations

import json
import socket
import struct

_HEADER = struct.Struct(">cI")
MAX_FRAME = 64 * 1024 * 1024


class WireError(Exception):
    """The other end closed the socket or sent something that is not a frame."""


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks = []
    while size:
        chunk = sock.recv(min(size, 1024 * 1024))
        if not chunk:
            raise WireError("connection closed")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def send_frame(sock: socket.socket, kind: bytes, payload: bytes) -> None:
    sock.sendall(_HEADER.pack(kind, len(payload)) + payload if len(payload) < 65536 else _HEADER.pack(kind, len(payload)))
    if len(payload) >= 65536:
        sock.sendall(payload)


def send_json(sock: socket.socket, obj: dict) -> None:
    send_frame(sock, b"J", json.dumps(obj).encode("utf-8"))


def recv_frame(sock: socket.socket) -> tuple:
    kind, size = _HEADER.unpack(_recv_exact(sock, _HEADER.size))
    if size > MAX_FRAME:
        raise WireError("frame too large (%d bytes)" % size)
    return kind, _recv_exact(sock, size)


def recv_json(sock: socket.socket) -> dict:
    kind, payload = recv_frame(sock)
    if kind != b"J":
        raise WireError("expected a JSON frame, got %r" % kind)
    try:
        obj = json.loads(payload)
    except ValueError as e:
        raise WireError("bad JSON frame: %s" % e) from e
    if not isinstance(obj, dict):
        raise WireError("bad JSON frame: not an object")
    return obj
