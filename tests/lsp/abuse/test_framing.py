"""A hostile or buggy client on raw stdio: every fault gets its error, and the server answers right after.

One server (size cap 1 MiB, so oversize cases stay cheap) takes every case in turn; after each, a cheap
request (``workcrew.listRuns``) must be answered within 1 s, with exactly the expected errors before it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .rawclient import RawServer, frame, request

PARSE, INVALID, NO_METHOD, BAD_PARAMS, NOT_INITIALIZED = -32700, -32600, -32601, -32602, -32002
MIB = 1024 * 1024
Id = int | str | None


@dataclass(frozen=True)
class Case:
    name: str
    payload: bytes
    errors: list[tuple[int, Id]]  # (code, id) of each error response expected before the cheap request's answer
    says: str = ""  # in the first error's message
    extra: dict[str, Any] = field(default_factory=dict)


def unknown(request_id: int | str, **params: Any) -> dict[str, Any]:
    return request(request_id, "workcrew/noSuchMethod", params or None)


def body(request_id: int | str) -> bytes:
    return json.dumps(unknown(request_id)).encode()


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def raw(request_id: int, params: str) -> bytes:
    return b'{"jsonrpc": "2.0", "id": %d, "method": "workcrew/noSuchMethod", "params": %s}' % (
        request_id, params.encode())


def sized(request_id: int, size: int) -> bytes:
    """An unknown-method request of exactly ``size`` bytes."""
    empty = json.dumps(unknown(request_id, pad="")).encode()
    return json.dumps(unknown(request_id, pad="x" * (size - len(empty)))).encode()


CASES = [
    # -- headers ------------------------------------------------------------------------------------------
    Case("content-length short", frame(body(1), b"Content-Length: 10\r\n\r\n"), [(PARSE, None), (PARSE, None)],
         "not valid JSON"),
    Case("content-length short, id recoverable", frame(body(2), b"Content-Length: 32\r\n\r\n"),
         [(PARSE, 2), (PARSE, None)]),
    Case("content-length long", frame(body(3), b"Content-Length: 500\r\n\r\n"), [(PARSE, 3)], "cut short"),
    Case("content-length not a number", frame(body(4), b"Content-Length: abc\r\n\r\n"), [(PARSE, 4)],
         "whole number"),
    Case("content-length negative", frame(body(5), b"Content-Length: -5\r\n\r\n"), [(PARSE, 5)], "whole number"),
    Case("content-length zero", frame(body(6), b"Content-Length: 0\r\n\r\n"), [(PARSE, None), (PARSE, 6)],
         "empty message"),
    Case("content-length 21 digits", frame(body(7), b"Content-Length: 100000000000000000000\r\n\r\n"), [(PARSE, 7)]),
    Case("content-length 3 GB", frame(body(8), b"Content-Length: 3000000000\r\n\r\n"), [(INVALID, 8)],
         "--max-message-mb"),
    Case("content-length 1e14", frame(body(9), b"Content-Length: 100000000000000\r\n\r\n"), [(INVALID, 9)]),
    Case("no content-length", frame(body(10), b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n"),
         [(PARSE, 10)], "without a Content-Length"),
    Case("two content-lengths", frame(body(11), b"Content-Length: 10\r\nContent-Length: 12\r\n\r\n"), [(PARSE, 11)]),
    Case("charset latin-1", frame(body(12), b"Content-Length: %d\r\nContent-Type: text/json; charset=latin-1\r\n\r\n"
                                  % len(body(12))), [(PARSE, 12)], "charset"),
    Case("lowercase header", frame(body(13), b"content-length: %d\r\n\r\n" % len(body(13))), [(NO_METHOD, 13)]),
    Case("uppercase header", frame(body(14), b"CONTENT-LENGTH: %d\r\n\r\n" % len(body(14))), [(NO_METHOD, 14)]),
    Case("LF-only lines", frame(body(15), b"Content-Length: %d\n\n" % len(body(15))), [(NO_METHOD, 15)]),
    Case("mixed line ends", frame(body(16), b"Content-Length: %d\n"
                                  b"Content-Type: application/vscode-jsonrpc; charset=utf8\r\n\n" % len(body(16))),
         [(NO_METHOD, 16)]),
    Case("content-type first, extra header", frame(body(17), b"Content-Type: application/json\r\nX-Trace: 1\r\n"
                                                   b"Content-Length:%d  \r\n\r\n" % len(body(17))), [(NO_METHOD, 17)]),
    Case("malformed header line", frame(body(18), b"Content-Length: %d\r\nthis is not a header\r\n\r\n"
                                        % len(body(18))), [(PARSE, None)], "not a message header"),
    Case("header line over 8 KiB", b"X" * 9000, [(PARSE, None)], "8 KiB"),
    Case("text between messages", b"hello, server\r\n", [(PARSE, None)], "not a message header"),
    Case("binary garbage", bytes(range(256)) * 4, [(PARSE, None)]),
    Case("blank lines between messages", b"\r\n\r\n\n", []),
    Case("a header without its colon", b"Content-Length 12\r\n\r\n{}", [(PARSE, None)]),
    Case("many messages in one write", b"".join(frame(body(f"m{i}")) for i in range(10)),
         [(NO_METHOD, f"m{i}") for i in range(10)]),
    # -- sizes --------------------------------------------------------------------------------------------
    Case("body at the cap", frame(sized(30, MIB)), [(NO_METHOD, 30)]),
    Case("body over the cap", frame(sized(31, MIB + 1)), [(INVALID, 31)], "over this server's limit"),
    Case("body 3 MiB over the cap", frame(sized(32, 3 * MIB)), [(INVALID, 32)]),
    # -- encodings ----------------------------------------------------------------------------------------
    Case("invalid UTF-8", frame(raw(40, '"BYTES"').replace(b"BYTES", b"\xff\xfe")), [(PARSE, 40)], "UTF-8"),
    Case("UTF-16 body", frame(json.dumps(unknown(41)).encode("utf-16-le")), [(PARSE, None)]),
    Case("UTF-8 byte order mark", frame(b"\xef\xbb\xbf" + body(42)), [(PARSE, None)]),
    Case("encoded surrogate", frame(raw(43, '"x"').replace(b'"x"', b'"\xed\xa0\x80"')), [(PARSE, 43)]),
    Case("multibyte text counted in bytes", frame(raw(44, '{"t": "\u00e9\u4e2d\U0001f600"}')), [(NO_METHOD, 44)]),
    Case("lone surrogate escape", frame(raw(45, '{"t": "\\ud800"}')), [(NO_METHOD, 45)]),
    # -- JSON ---------------------------------------------------------------------------------------------
    Case("truncated JSON", frame(b'{"jsonrpc": "2.0", "id": 50, "method": '), [(PARSE, 50)], "not valid JSON"),
    Case("NaN", frame(raw(51, '{"x": NaN}')), [(PARSE, 51)], "NaN"),
    Case("5,000-digit number", frame(raw(52, '{"x": ' + "9" * 5000 + "}")), [(PARSE, 52)]),
    Case("nested 5,000 deep", frame(raw(53, nested(5000))), [(PARSE, 53)], "nested too deeply"),
    Case("nested 150 deep", frame(raw(54, nested(150))), [(PARSE, 54)], "nested too deeply"),
    Case("nested 50 deep", frame(raw(55, nested(50))), [(NO_METHOD, 55)]),
    Case("empty object", frame({}), [(INVALID, None)]),
    Case("a string", frame('"hello"'), [(INVALID, None)], "JSON object"),
    Case("null", frame("null"), [(INVALID, None)]),
    Case("empty batch", frame([]), [(INVALID, None)], "batches are not supported"),
    Case("batch", frame([unknown(60), {"jsonrpc": "2.0", "method": "x"}, unknown("61")]),
         [(INVALID, 60), (INVALID, "61")], "batches are not supported"),
    Case("batch of notifications", frame([{"jsonrpc": "2.0", "method": "x"}]), [(INVALID, None)]),
    Case("jsonrpc 1.0", frame({**unknown(62), "jsonrpc": "1.0"}), [(INVALID, 62)], '"2.0"'),
    Case("jsonrpc missing", frame({k: v for k, v in unknown(63).items() if k != "jsonrpc"}), [(INVALID, 63)]),
    Case("id a float", frame({**unknown(0), "id": 1.5}), [(INVALID, None)], '"id"'),
    Case("id an object", frame({**unknown(0), "id": {"a": 1}}), [(INVALID, None)]),
    Case("method a number", frame({**unknown(64), "method": 7}), [(INVALID, 64)], '"method"'),
    Case("params a string", frame({**unknown(65), "params": "x"}), [(INVALID, 65)], '"params"'),
    Case("unknown method", frame(unknown(66)), [(NO_METHOD, 66)], "unknown method"),
    Case("unknown notification", frame({"jsonrpc": "2.0", "method": "workcrew/noSuchNotification"}), []),
    Case("typed params that do not fit", frame(request(67, "textDocument/codeAction", {"textDocument": 5})),
         [(BAD_PARAMS, 67)], "textDocument/codeAction"),
    Case("a second initialize", frame(request(68, "initialize", {"capabilities": {}})), [(INVALID, 68)],
         "already"),
    Case("response to nothing", frame({"jsonrpc": "2.0", "id": 69, "result": 1}), []),
    Case("malformed response", frame({"jsonrpc": "2.0", "id": 70, "result": 1, "error": {}}), []),
    Case("cancel an unknown request", frame({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 71}}),
         []),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RawServer]:
    started = RawServer.started(tmp_path_factory.mktemp("abuse"), "--max-message-mb", "1")
    yield started
    started.stop()


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_fault_is_answered_and_the_server_answers_next(server: RawServer, case: Case) -> None:
    server.write(case.payload)
    errors = server.errors_then_answer(f"after {case.name}")
    assert [(e["error"]["code"], e["id"]) for e in errors] == case.errors, errors
    if case.says:
        assert case.says in errors[0]["error"]["message"]
    for error in errors:  # a message a person can act on: no traceback, no Python repr
        message = error["error"]["message"]
        assert "Traceback" not in message and "Error(" not in message and len(message) < 600
        assert "data" not in error["error"]


def test_a_message_dribbled_in_byte_by_byte(server: RawServer) -> None:
    for byte in frame(unknown(80)):
        server.write(bytes([byte]))
    assert [(e["error"]["code"], e["id"]) for e in server.errors_then_answer("after dribble")] == [(NO_METHOD, 80)]


def test_a_body_cut_short_then_garbage_then_a_message(server: RawServer) -> None:
    server.write(b"Content-Length: 200\r\n\r\n" + body(81)[:30] + b"\x00\xffjunk\r\n" + frame(unknown(82)))
    errors = server.errors_then_answer("after cut and junk")
    assert [(e["error"]["code"], e["id"]) for e in errors] == [(PARSE, 81), (NO_METHOD, 82)]


def test_the_cap_comes_from_the_environment(tmp_path: Path) -> None:
    small = RawServer.started(tmp_path, env={"WORKCREW_MAX_MESSAGE_MB": "1"})
    try:
        small.write(frame(sized(90, MIB + 10)))
        errors = small.errors_then_answer("after env cap")
        assert [(e["error"]["code"], e["id"]) for e in errors] == [(INVALID, 90)]
        assert "1,048,576 bytes" in errors[0]["error"]["message"]
    finally:
        small.stop()


def test_a_bad_cap_is_refused_at_start(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    bad = RawServer(tmp_path / "ws", env={"WORKCREW_MAX_MESSAGE_MB": "lots"})
    try:
        assert bad.wait_exit(30) != 0
        assert "WORKCREW_MAX_MESSAGE_MB" in bad.log() or "--max-message-mb" in bad.log()
    finally:
        bad.stop()


def test_requests_before_initialize_and_after_shutdown(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    fresh = RawServer(tmp_path / "ws")
    try:
        fresh.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})  # dropped: not initialized yet
        fresh.send(request("early", "workspace/executeCommand", {"command": "workcrew.listRuns", "arguments": []}))
        early = fresh.response("early", 30)
        assert early["error"]["code"] == NOT_INITIALIZED and "initialize" in early["error"]["message"]
        fresh.initialize()
        fresh.errors_then_answer("initialized")
        fresh.send(request("bye", "shutdown"))
        assert fresh.response("bye", 30)["result"] is None
        fresh.send(unknown("late"))
        late = fresh.response("late", 1)
        assert late["error"]["code"] == INVALID and "shutting down" in late["error"]["message"]
        fresh.send({"jsonrpc": "2.0", "method": "exit"})
        assert fresh.wait_exit(10) == 0
    finally:
        fresh.stop()
