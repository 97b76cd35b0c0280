# -*- coding: utf-8 -*-

# Copyright: Contributors to the fleetops.ssm collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The framing protocol without a shell: requests as bytes, responses as bytes."""

from __future__ import annotations

import base64
import gzip
import random
import re

import pytest

from ansible_collections.fleetops.ssm.plugins.plugin_utils import _session_protocol as protocol

PAYLOADS = {
    "empty": b"",
    "text": b"hello world\n",
    "nul": b"a\x00b\x00\x00c",
    "cr": b"line\rover\r",
    "crlf": b"one\r\ntwo\r\n",
    "high-bytes": b"\xff\xfe\x80\x00\xff",
    "no-newline-at-end": b"no newline",
    "utf-8": "Grüße, 世界, ☃\n".encode("utf-8"),
    "all-bytes": bytes(range(256)) * 3,
    "long-lines": b"x-" * 2500 + b"\n" + b"y" * 77,  # no run of base64 characters (see TestDataParts)
}

# What the node prints for one command: ``base64`` wraps its output at 76 columns.


def response(marker, stdout=b"", stderr=b"", rc=0):
    return (
        marker.encode() + b" O\n" + base64.encodebytes(stdout)
        + marker.encode() + b" E\n" + base64.encodebytes(stderr)
        + marker.encode() + b" R %d\n" % rc
    )


def parse(marker, chunks):
    parser = protocol.ResponseParser(marker)
    events = []
    for chunk in chunks:
        assert not parser.done, "events after the exit code"
        events.extend(parser.feed(chunk))
    return parser, events


def streams(events):
    out = b"".join(p for k, p in events if k == "O")
    err = b"".join(p for k, p in events if k == "E")
    rcs = [p for k, p in events if k == "R"]
    return out, err, rcs


def split_randomly(data, seed, largest=97):
    rng = random.Random(seed)
    pieces, start = [], 0
    while start < len(data):
        size = rng.randint(1, largest)
        pieces.append(data[start:start + size])
        start += size
    return pieces


class TestRequest:
    def test_header_is_the_length_of_the_encoded_snippet(self):
        request = protocol.build_request("echo hi", protocol.new_marker())

        header, rest = request[:protocol.HEADER_DIGITS], request[protocol.HEADER_DIGITS:]
        assert re.fullmatch(rb"[0-9]{10}", header)
        assert int(header) == len(rest)

    @pytest.mark.parametrize("name", sorted(PAYLOADS))
    def test_data_follows_the_snippet_in_base64(self, name):
        data = PAYLOADS[name]
        request = protocol.build_request("cat", protocol.new_marker(), data)

        size = int(request[:protocol.HEADER_DIGITS])
        tail = request[protocol.HEADER_DIGITS + size:]
        assert base64.b64decode(tail, validate=True) == data

    def test_long_base64_runs_travel_as_they_are(self):
        run = base64.b64encode(random.Random(1).randbytes(9000))
        data = b"z = '" + run + b"'\n\x00tail"
        request = protocol.build_request("python3", protocol.new_marker(), data)

        size = int(request[:protocol.HEADER_DIGITS])
        snippet = base64.b64decode(request[protocol.HEADER_DIGITS:protocol.HEADER_DIGITS + size]).decode()
        tail = request[protocol.HEADER_DIGITS + size:]
        head, rest = b"z = '", b"'\n\x00tail"
        # encoded head, the run itself, encoded rest: one third less than encoding the run again
        assert tail == base64.b64encode(head) + run + base64.b64encode(rest)
        assert len(request) < len(base64.b64encode(data))
        assert "head -c %d" % len(run) in snippet

    @pytest.mark.parametrize("cmd", ["echo hi", "printf '%s\\n' \"$HOME\"; exit 3", "x=$'\\n\\r'; echo \"$x\"",
                                     "echo 'Grüße ☃'", "cat <<'EOF'\nline\r\nEOF\n", "\x00\x7f\x1b[0m"])
    def test_only_base64_and_digits_travel_after_the_bootstrap(self, cmd):
        # no newline (the plugin turns a lone one into CR), no control characters
        request = protocol.build_request(cmd, protocol.new_marker(), PAYLOADS["all-bytes"])

        assert re.fullmatch(rb"[0-9A-Za-z+/=]*", request)

    def test_snippet_carries_the_command_and_the_marker(self):
        marker = protocol.new_marker()
        request = protocol.build_request("uname -a; exit 7", marker)

        size = int(request[:protocol.HEADER_DIGITS])
        snippet = base64.b64decode(request[protocol.HEADER_DIGITS:protocol.HEADER_DIGITS + size]).decode()
        assert marker in snippet
        assert "uname -a; exit 7" in snippet

    def test_no_data_means_no_stdin(self):
        marker = protocol.new_marker()
        request = protocol.build_request("cat", marker)

        size = int(request[:protocol.HEADER_DIGITS])
        assert len(request) == protocol.HEADER_DIGITS + size
        assert "/dev/null" in protocol.exec_snippet("cat", marker, None)

    def test_a_command_too_long_for_the_header_is_refused(self, monkeypatch):
        monkeypatch.setattr(protocol, "MAX_SNIPPET", 64)

        with pytest.raises(protocol.CommandTooLong, match="too long"):
            protocol.build_request("echo " + "x" * 100, protocol.new_marker())

    def test_markers_are_random_and_outside_the_base64_alphabet(self):
        markers = {protocol.new_marker() for dummy in range(200)}

        assert len(markers) == 200
        for marker in markers:
            assert re.search(r"[^0-9A-Za-z+/=]", marker)


def long_run(seed, size=20000):
    return base64.b64encode(random.Random(seed).randbytes(size * 3 // 4))


class TestDataParts:
    def test_short_data_is_one_encoded_piece(self):
        assert protocol.data_parts(b"abc") == [("b64", b"abc")]
        assert protocol.data_parts(b"") == [("b64", b"")]

    def test_runs_of_base64_characters_are_raw(self):
        run = long_run(2, 6000)
        data = b"\x00before " + run + b" after\xff"

        parts = protocol.data_parts(data)

        assert parts == [("b64", b"\x00before "), ("raw", run), ("b64", b" after\xff")]
        assert b"".join(p for k, p in parts) == data

    def test_the_run_threshold(self):
        below = b"A" * (protocol.RAW_MIN - 1)
        at = b"A" * protocol.RAW_MIN

        assert protocol.data_parts(below) == [("b64", below)]
        assert protocol.data_parts(at) == [("raw", at)]

    def test_padding_belongs_to_the_run(self):
        run = b"Q" * protocol.RAW_MIN + b"=="

        assert protocol.data_parts(run + b"'") == [("raw", run), ("b64", b"'")]

    @pytest.mark.parametrize("seed", range(10))
    def test_any_data_is_split_losslessly(self, seed):
        rng = random.Random(seed)
        pieces = [rng.randbytes(rng.randint(0, 3000)) if rng.random() < 0.5 else long_run(seed, rng.randint(3000, 12000))
                  for dummy in range(rng.randint(1, 6))]
        data = b"".join(pieces)

        parts = protocol.data_parts(data)

        assert b"".join(p for k, p in parts) == data
        assert all(re.fullmatch(rb"[A-Za-z0-9+/]+={0,2}", p) for k, p in parts if k == "raw")


def request_parts(request):
    size = int(request[:protocol.HEADER_DIGITS])
    snippet = base64.b64decode(request[protocol.HEADER_DIGITS:protocol.HEADER_DIGITS + size]).decode()
    return snippet, request[protocol.HEADER_DIGITS + size:]


class TestBlobCache:
    def test_a_disabled_cache_stores_nothing(self):
        run = long_run(3)
        snippet, tail = request_parts(protocol.build_request("python3", "#fo-x", b"a" + run, cache=protocol.BlobCache()))

        assert " C " not in snippet
        assert run in tail

    def test_a_run_is_stored_then_named(self):
        cache = protocol.BlobCache(enabled=True)
        run = long_run(4)
        name = protocol.blob_name(run)
        data = b"z='" + run + b"'"

        first, tail = request_parts(protocol.build_request("python3", "#fo-1", data, cache=cache))
        assert run in tail
        assert name in first and " C %s %d" % (name, len(run)) in first
        # not stored until the node confirms it
        assert not cache.has(name)
        again, tail = request_parts(protocol.build_request("python3", "#fo-2", data, cache=cache))
        assert run in tail

        cache.confirm(name, len(run))
        named, tail = request_parts(protocol.build_request("python3", "#fo-3", data, cache=cache))

        assert run not in tail
        assert len(tail) < 100
        assert 'cat "$fo_c/%s"' % name in named
        assert "m=1" in named  # a missing blob runs nothing

    def test_runs_below_the_cache_threshold_are_not_stored(self):
        cache = protocol.BlobCache(enabled=True)
        run = b"B" * (protocol.CACHE_MIN - 1)

        snippet, tail = request_parts(protocol.build_request("cat", "#fo-1", run, cache=cache))

        assert " C " not in snippet
        assert tail == run

    def test_the_oldest_blobs_go_beyond_the_limit(self):
        cache = protocol.BlobCache(enabled=True, limit=50000)
        for name in ("a", "b", "c"):
            cache.confirm(name, 20000)

        assert cache.evict == ["a"]
        assert not cache.has("a")
        assert cache.has("b") and cache.has("c")
        snippet, dummy = request_parts(protocol.build_request("true", "#fo-1", cache=cache))
        assert 'rm -f "$fo_c/a"' in snippet
        assert cache.evict == []

    def test_a_blob_used_again_is_kept(self):
        cache = protocol.BlobCache(enabled=True, limit=50000)
        cache.confirm("a", 20000)
        cache.confirm("b", 20000)
        assert cache.has("a")  # used: now the newest

        cache.confirm("c", 20000)

        assert cache.evict == ["b"]

    def test_forget(self):
        cache = protocol.BlobCache(enabled=True)
        cache.confirm("a", 1)

        cache.forget(["a", "unknown"])

        assert not cache.has("a")

    @pytest.mark.parametrize("builder", [protocol.setup_request, protocol.teardown_request])
    def test_setup_and_teardown_are_plain_requests(self, builder):
        request = builder(protocol.new_marker())

        assert re.fullmatch(rb"[0-9A-Za-z+/=]*", request)
        assert int(request[:protocol.HEADER_DIGITS]) == len(request) - protocol.HEADER_DIGITS


class TestCompression:
    TEXT = b"".join(b"line %d of a script that compresses well\n" % i for i in range(200))

    def test_text_is_sent_compressed_when_the_node_has_gzip(self):
        cache = protocol.features(2)

        snippet, tail = request_parts(protocol.build_request("python3", "#fo-1", self.TEXT, cache=cache))

        assert "gzip -dc" in snippet
        assert gzip.decompress(base64.b64decode(tail)) == self.TEXT
        assert len(tail) < len(base64.b64encode(self.TEXT)) // 4

    @pytest.mark.parametrize("rc", [0, 1])
    def test_never_without_gzip_on_the_node(self, rc):
        snippet, tail = request_parts(protocol.build_request("cat", "#fo-1", self.TEXT, cache=protocol.features(rc)))

        assert "gzip" not in snippet
        assert base64.b64decode(tail) == self.TEXT

    @pytest.mark.parametrize("data", [b"x" * (protocol.GZIP_MIN - 1), random.Random(3).randbytes(5000)],
                             ids=["small", "incompressible"])
    def test_only_when_it_pays(self, data):
        snippet, tail = request_parts(protocol.build_request("cat", "#fo-1", data, cache=protocol.features(3)))

        assert "gzip" not in snippet
        assert base64.b64decode(tail) == data

    def test_features_from_the_setup_exit_code(self):
        assert [(f.enabled, f.gzip) for f in map(protocol.features, range(4))] == [
            (False, False), (True, False), (False, True), (True, True)]


class TestBootstrap:
    def test_one_short_line(self):
        line = protocol.bootstrap_line(protocol.new_nonce())

        assert line.endswith(b"\n")
        assert line.count(b"\n") == 1
        assert b"\r" not in line
        # typed in canonical mode: far below the 4095 bytes a terminal line may hold
        assert len(line) < 1024
        line.decode("ascii")

    def test_the_echoed_line_does_not_contain_the_ready_marker(self):
        nonce = protocol.new_nonce()

        assert protocol.ready_marker(nonce) not in protocol.bootstrap_line(nonce)
        # not even with CRLF echo
        assert protocol.ready_marker(nonce).rstrip(b"\n") not in protocol.bootstrap_line(nonce).replace(b"\n", b"\r\n")

    def test_nonces_differ(self):
        assert len({protocol.new_nonce() for dummy in range(100)}) == 100


class TestResponseParser:
    @pytest.mark.parametrize("name", sorted(PAYLOADS))
    def test_exact_streams_in_one_piece(self, name):
        marker = protocol.new_marker()
        data = PAYLOADS[name]

        parser, events = parse(marker, [response(marker, data, data[::-1], 3)])

        assert streams(events) == (data, data[::-1], [3])
        assert parser.done
        assert parser.rc == 3

    @pytest.mark.parametrize("name", sorted(PAYLOADS))
    def test_byte_by_byte(self, name):
        marker = protocol.new_marker()
        data = PAYLOADS[name]
        wire = response(marker, data, b"err:" + data, 1)

        parser, events = parse(marker, [wire[i:i + 1] for i in range(len(wire))])

        assert streams(events) == (data, b"err:" + data, [1])
        assert parser.buf == b""

    @pytest.mark.parametrize("seed", range(25))
    def test_random_chunk_sizes(self, seed):
        rng = random.Random(seed)
        marker = protocol.new_marker()
        stdout = bytes(rng.randrange(256) for dummy in range(rng.randint(0, 3000)))
        stderr = bytes(rng.randrange(256) for dummy in range(rng.randint(0, 500)))
        rc = rng.choice([0, 1, 2, 127, 255])

        parser, events = parse(marker, split_randomly(response(marker, stdout, stderr, rc), seed))

        assert streams(events) == (stdout, stderr, [rc])
        assert parser.done

    @pytest.mark.parametrize("rc", [0, 1, 2, 127, 255])
    def test_exit_codes(self, rc):
        marker = protocol.new_marker()

        parser, events = parse(marker, [response(marker, rc=rc)])

        assert events == [("R", rc)]
        assert parser.rc == rc

    def test_stdout_and_stderr_never_mix(self):
        marker = protocol.new_marker()

        dummy, events = parse(marker, [response(marker, b"OUT" * 100, b"ERR" * 100, 0)])

        data = [(k, p) for k, p in events if k != "R"]
        assert {k for k, p in data if b"OUT" in p} == {"O"}
        assert {k for k, p in data if b"ERR" in p} == {"E"}

    def test_streams_are_delivered_as_they_arrive(self):
        # stdout of a long command is streamed, not held until the end
        marker = protocol.new_marker()
        parser = protocol.ResponseParser(marker)

        first = parser.feed(marker.encode() + b" O\n" + base64.encodebytes(b"x" * 57 * 3))

        assert streams(first)[0] == b"x" * 57 * 3
        assert not parser.done

    def test_noise_before_the_first_marker_is_ignored(self):
        marker = protocol.new_marker()
        noise = (b"\r\n\x1b[?2004h$ stty raw -echo\r\n" + b"FLEETOPS-READY-0000\n#fo-0000000000000000 O\n"
                 + marker.encode()[:-1] + b"\r\n")

        dummy, events = parse(marker, [noise, response(marker, b"data", b"", 0)])

        assert streams(events) == (b"data", b"", [0])

    def test_marker_text_in_the_output_is_content(self):
        marker = protocol.new_marker()
        tricky = b"".join(marker.encode() + suffix for suffix in (b" O\n", b" E\n", b" R 99\n", b" R x\n"))
        tricky += b"FLEETOPS-READY-" + b"\n#fo-"

        dummy, events = parse(marker, split_randomly(response(marker, tricky, tricky, 4), 1, 13))

        assert streams(events) == (tricky, tricky, [4])

    def test_another_requests_marker_is_not_this_ones(self):
        mine, other = protocol.new_marker(), protocol.new_marker()

        parser, events = parse(mine, [response(other, b"old", b"", 9)])

        assert events == []
        assert not parser.done

    def test_what_follows_the_exit_code_is_left_for_the_next_request(self):
        marker = protocol.new_marker()
        after = b"next request's bytes\r\n"

        parser, dummy = parse(marker, [response(marker, b"x", b"", 0) + after])

        assert parser.buf == after

    def test_a_bad_exit_code_line_is_a_protocol_error(self):
        marker = protocol.new_marker()
        parser = protocol.ResponseParser(marker)
        wire = marker.encode() + b" O\n" + marker.encode() + b" E\n" + marker.encode() + b" R \n"

        with pytest.raises(protocol.ProtocolError):
            parser.feed(wire)

    def test_an_unexpected_marker_line_is_a_protocol_error(self):
        marker = protocol.new_marker()
        parser = protocol.ResponseParser(marker)

        with pytest.raises(protocol.ProtocolError):
            parser.feed(marker.encode() + b" O\n" + marker.encode() + b" R 0\n")

    def test_undecodable_data_is_a_protocol_error(self):
        marker = protocol.new_marker()
        parser = protocol.ResponseParser(marker)

        with pytest.raises(protocol.ProtocolError):
            parser.feed(marker.encode() + b" O\nabc\n" + marker.encode() + b" E\n")


class TestCacheEvents:
    def test_stored_blobs_are_reported_before_the_streams(self):
        marker = protocol.new_marker()
        wire = (b"noise\r\n" + marker.encode() + b" C abc123 20000\n" + marker.encode() + b" C def 7\n"
                + response(marker, b"out", b"", 0))

        parser, events = parse(marker, split_randomly(wire, 5, 11))

        assert [p for k, p in events if k == "C"] == [("abc123", 20000), ("def", 7)]
        assert streams(events) == (b"out", b"", [0])

    def test_a_missing_blob_ends_the_request_without_an_exit_code(self):
        marker = protocol.new_marker()
        after = marker.encode()[:5]

        parser, events = parse(marker, [b"x\r\n" + marker.encode() + b" M\n" + after])

        assert events == [("M", None)]
        assert parser.done
        assert parser.missed
        assert parser.rc is None
        assert parser.buf == after

    def test_a_longer_marker_is_noise(self):
        marker = protocol.new_marker()

        dummy, events = parse(marker, [marker.encode() + b"00 O\n", response(marker, b"mine", b"", 0)])

        assert streams(events) == (b"mine", b"", [0])

    @pytest.mark.parametrize("line", [b" C name\n", b" C name size\n", b" X\n", b" R 0\n"])
    def test_an_unexpected_line_before_the_streams_is_a_protocol_error(self, line):
        marker = protocol.new_marker()
        parser = protocol.ResponseParser(marker)

        with pytest.raises(protocol.ProtocolError):
            parser.feed(marker.encode() + line)


class TestVersions:
    @pytest.mark.parametrize("version, newer", [
        ("1.2.497.0", False),
        ("1.2.496.99", False),
        ("1.1.999.0", False),
        ("1.2.497", False),
        ("1.2.497.0\n", False),
        ("1.2.497.1", True),
        ("1.2.498.0", True),
        ("1.2.536.0", True),
        ("1.2.707.0", True),
        ("1.2.1000.0", True),  # numeric, not text, comparison
        ("1.10.0.0", True),
        ("2.0.0.0", True),
    ])
    def test_env_var_token_only_after_1_2_497_0(self, version, newer):
        assert protocol.supports_env_response(version) is newer

    def test_version_tuple_is_numeric(self):
        assert protocol.version_tuple("1.2.707.0") == (1, 2, 707, 0)
        assert protocol.version_tuple("1.2.1000.0") > protocol.version_tuple("1.2.999.0")
