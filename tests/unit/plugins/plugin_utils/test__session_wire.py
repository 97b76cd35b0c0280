# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Frames between a task and its session helper, over a real socket pair."""

from __future__ import annotations

import json
import socket
import struct
import threading

import pytest

from ansible_collections.fleetops.ssm.plugins.plugin_utils import _session_wire as wire

BINARY = b"\x00\r\n\r\xff\xfe" + bytes(range(256))


@pytest.fixture
def pair():
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    a.settimeout(10)
    b.settimeout(10)
    yield a, b
    a.close()
    b.close()


def in_thread(func, *args):
    thread = threading.Thread(target=func, args=args, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("size", [0, 1, 65535, 65536, 3 * 1024 * 1024 + 7])
@pytest.mark.parametrize("kind", [b"D", b"O", b"E"])
def test_data_frames_round_trip(pair, kind, size):
    payload = (BINARY * (size // len(BINARY) + 1))[:size]
    sender = in_thread(wire.send_frame, pair[0], kind, payload)

    assert wire.recv_frame(pair[1]) == (kind, payload)
    sender.join(10)


def test_json_round_trip(pair):
    obj = {"op": "exec", "cmd": "echo 'Grüße ☃' \x00", "has_data": True, "timeout": None, "n": [1, 2]}

    wire.send_json(pair[0], obj)

    assert wire.recv_json(pair[1]) == obj


def test_frames_keep_their_boundaries(pair):
    wire.send_frame(pair[0], b"O", b"first")
    wire.send_frame(pair[0], b"E", b"")
    wire.send_frame(pair[0], b"O", BINARY)
    wire.send_json(pair[0], {"rc": 2})

    assert [wire.recv_frame(pair[1]) for dummy in range(3)] == [(b"O", b"first"), (b"E", b""), (b"O", BINARY)]
    assert wire.recv_json(pair[1]) == {"rc": 2}


def test_a_frame_arriving_byte_by_byte(pair):
    raw = struct.pack(">cI", b"O", len(BINARY)) + BINARY

    def trickle():
        for index in range(len(raw)):
            pair[0].sendall(raw[index:index + 1])

    sender = in_thread(trickle)

    assert wire.recv_frame(pair[1]) == (b"O", BINARY)
    sender.join(10)


@pytest.mark.parametrize("raw", [b"", b"O\x00", b"O\x00\x00\x00\x05abc"], ids=["nothing", "half-header", "half-payload"])
def test_a_closed_connection_is_a_wire_error(pair, raw):
    pair[0].sendall(raw)
    pair[0].close()

    with pytest.raises(wire.WireError):
        wire.recv_frame(pair[1])


def test_an_oversized_frame_is_refused_before_reading_it(pair):
    pair[0].sendall(struct.pack(">cI", b"D", wire.MAX_FRAME + 1))

    with pytest.raises(wire.WireError, match="too large"):
        wire.recv_frame(pair[1])


def test_json_expected_but_data_frame_received(pair):
    wire.send_frame(pair[0], b"O", b"{}")

    with pytest.raises(wire.WireError):
        wire.recv_json(pair[1])


@pytest.mark.parametrize("payload", [b"{not json", json.dumps([1, 2]).encode(), b"\xff\xfe"],
                         ids=["broken", "list", "not-utf8"])
def test_bad_json_frames(pair, payload):
    wire.send_frame(pair[0], b"J", payload)

    with pytest.raises(wire.WireError):
        wire.recv_json(pair[1])
