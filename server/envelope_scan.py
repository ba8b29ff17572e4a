"""The id and method of a JSON-RPC message whose body is broken (cut short, invalid JSON, over the cap).

A tolerant scan of the body's first bytes: tokens at the top level of an object, ``"id"`` and ``"method"``
taken when their values are an integer / a string. It never raises and reads nothing past a token it cannot
make sense of, so the worst a hostile body gets is no id (the error then goes out with ``id: null``).
"""

from __future__ import annotations

import json
import re

MessageId = int | str

_TOKEN = re.compile(rb'\s*(?:("(?:[^"\\\n]|\\.)*")|([{}\[\]:,])|(-?\d+)(?=[\s,}\]])|(true|false|null|-?[\d.eE+-]+))',
                    re.DOTALL)
MAX_ID_CHARS = 256  # an id longer than this is not worth echoing back


def scan_envelope(prefix: bytes) -> tuple[MessageId | None, str | None, bool]:
    """``(id, method, complete)`` from the start of a body; ``complete`` when the top-level object closed
    within ``prefix`` (the whole message was there)."""
    request_id: MessageId | None = None
    method: str | None = None
    depth, position = 0, 0
    key: bytes | None = None
    expect_key = False
    while True:
        match = _TOKEN.match(prefix, position)
        if match is None:
            return request_id, method, False
        position = match.end()
        string, punct, integer, other = match.groups()
        if depth == 0 and punct != b"{":
            return request_id, method, False  # not an object: nothing to recover
        if punct in (b"{", b"["):
            depth += 1
            expect_key = punct == b"{" and depth == 1
            key = None
            continue
        if punct in (b"}", b"]"):
            depth -= 1
            if depth == 0:
                return request_id, method, True
            continue
        if depth != 1:
            continue
        if punct == b",":
            expect_key, key = True, None
        elif punct == b":":
            expect_key = False
        elif expect_key and string is not None:
            key = string[1:-1]
        elif key == b"id" and request_id is None:
            request_id = _value(string, integer)
            key = None
        elif key == b"method" and method is None and string is not None:
            decoded = _value(string, None)
            method = decoded if isinstance(decoded, str) else None
            key = None
        elif other is not None:
            key = None


def _value(string: bytes | None, integer: bytes | None) -> MessageId | None:
    if integer is not None:
        return int(integer) if len(integer) <= 20 else None
    if string is None or len(string) > MAX_ID_CHARS + 2:
        return None
    try:
        value = json.loads(string)
    except ValueError:
        return None
    return value if isinstance(value, str) else None
