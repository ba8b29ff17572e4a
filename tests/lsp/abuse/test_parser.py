"""The framing parser on its own: the same events however the bytes are split, oversize bodies never held,
and request ids recovered from broken bodies."""

from __future__ import annotations

import json

import pytest
from workcrew.server.envelope_scan import scan_envelope
from workcrew.server.framing import INVALID_REQUEST, PARSE_ERROR, Fault, Frame, FrameEvent, FrameParser

from .rawclient import frame

GOOD = frame({"jsonrpc": "2.0", "id": 1, "method": "a"})
STREAM = b"".join([
    GOOD,
    b"content-length: 2\n\n{}",
    b"Content-Length: abc\r\n\r\n" + json.dumps({"jsonrpc": "2.0", "id": 2, "method": "b"}).encode(),
    b"Content-Length: 0\r\n\r\n",
    b"Content-Length: 400\r\n\r\n{\"jsonrpc\": \"2.0\", \"id\": 3, \"me",  # cut short by the next message
    GOOD,
    b"Content-Length: 99999999999\r\n\r\n{\"id\": 4}",  # over the cap: skipped, resynchronised
    GOOD,
])


def events(parser: FrameParser, data: bytes, step: int) -> list[FrameEvent]:
    found: list[FrameEvent] = []
    for start in range(0, len(data), step):
        found += parser.feed(data[start:start + step])
    return found + parser.close()


@pytest.mark.parametrize("step", [1, 2, 3, 7, 64, 1 << 20])
def test_the_same_events_however_the_input_is_split(step: int) -> None:
    assert events(FrameParser(1024), STREAM, step) == [
        Frame(GOOD.split(b"\r\n\r\n", 1)[1]),
        Frame(b"{}"),
        Fault(PARSE_ERROR, "Content-Length must be a whole number of bytes, got 'abc'; the message was skipped", 2),
        Fault(PARSE_ERROR, "an empty message (Content-Length: 0)"),
        Fault(PARSE_ERROR, "a message was cut short: its Content-Length announced 400 bytes but the next "
                           "message began after 31", 3),
        Frame(GOOD.split(b"\r\n\r\n", 1)[1]),
        Fault(INVALID_REQUEST, "a message of 99,999,999,999 bytes is over this server's limit of 1,024 bytes and was "
                               "skipped unread; raise the limit with `workcrew serve --max-message-mb N` or "
                               "WORKCREW_MAX_MESSAGE_MB", 4),
        Frame(GOOD.split(b"\r\n\r\n", 1)[1]),
    ]


def test_an_oversize_body_streams_past_without_being_held() -> None:
    parser = FrameParser(1024 * 1024)
    start = b'{"jsonrpc": "2.0", "id": 7, "params": "'
    chunk = b"x" * (256 * 1024)
    size = len(start) + 256 * len(chunk)  # 64 MiB and a little
    found = parser.feed(b"Content-Length: %d\r\n\r\n" % size + start)
    most = 0
    for _ in range(256):
        found += parser.feed(chunk)
        most = max(most, parser.buffered)
    found += parser.feed(GOOD)
    assert most < len(chunk) + 1024
    assert [type(e) for e in found] == [Fault, Frame] and isinstance(found[0], Fault) and found[0].request_id == 7


@pytest.mark.parametrize(("prefix", "expected"), [
    (b'{"jsonrpc": "2.0", "id": 5, "method": "m", "params": {}}', (5, "m", True)),
    (b'{"params": {"id": 1, "method": "inner"}, "id": "abc", "method": "outer"', ("abc", "outer", False)),
    (b'{"id": 1.5, "method": 3}', (None, None, True)),
    (b'{"id": 12', (None, None, False)),  # digits at the very end may be cut: not trusted
    (b'[{"id": 1}]', (None, None, False)),
    (b'garbage {"id": 1}', (None, None, False)),
])
def test_ids_are_recovered_from_broken_bodies(prefix: bytes, expected: tuple) -> None:
    assert scan_envelope(prefix) == expected
