"""From a frame's body to a JSON-RPC message, or to the error the client is owed (JSON-RPC 2.0, LSP 3.17).

``decode`` turns bytes into JSON (strict UTF-8, no NaN, nesting capped) and ``problems`` checks the envelope:
the ``jsonrpc`` version, the id's type, the method's, the params' shape, batches. Both are pure and run on
the reader thread (decoding) or the event loop (the checks that depend on nothing but the message).

Batches: LSP has none (one message per Content-Length frame), so a batch is refused, and so that no client
waits forever each request in it gets its own -32600 error (as separate messages, never as an array, which
no LSP client reads); a batch with no request in it gets one error with ``id: null``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .envelope_scan import MessageId, scan_envelope
from .framing import INVALID_REQUEST, PARSE_ERROR, Fault

MAX_DEPTH = 100  # arrays and objects inside each other; real LSP messages stay under 20
_ID_SCAN = 64 * 1024


@dataclass(frozen=True)
class Decoded:
    """A body that is JSON; ``size`` is its length in bytes (for the memory bookkeeping)."""

    value: Any
    size: int


def decode(body: bytes, max_depth: int = MAX_DEPTH) -> Decoded | Fault:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _broken(body, f"the message is not valid UTF-8 (byte {exc.start:,} of {len(body):,}); "
                             "LSP messages are UTF-8 JSON")
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        return _broken(body, f"the message is nested too deeply to read (at most {max_depth} levels of "
                             "arrays and objects)")
    except json.JSONDecodeError as exc:
        return _broken(body, f"the message is not valid JSON: {exc.msg} at character {exc.pos:,}")
    except ValueError as exc:  # NaN / Infinity, or an integer with thousands of digits
        reason = str(exc) if isinstance(exc, _Constant) else "a number too long to read"
        return _broken(body, f"the message is not valid JSON: {reason}")
    del text
    if _too_deep(body, value, max_depth):
        return _broken(body, f"the message is nested too deeply (at most {max_depth} levels of arrays and objects)")
    return Decoded(value, len(body))


class _Constant(ValueError):
    pass


def _no_constant(name: str) -> Any:
    raise _Constant(f"{name} is not a JSON value")


def _too_deep(body: bytes, value: Any, limit: int) -> bool:
    if body.count(b"[") + body.count(b"{") <= limit:  # cannot be deeper than it has brackets
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _broken(body: bytes, message: str) -> Fault:
    request_id, _, _ = scan_envelope(body[:_ID_SCAN])
    return Fault(PARSE_ERROR, message, request_id)


def valid_id(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def problems(value: Any) -> list[Fault]:
    """What is wrong with a decoded message's envelope, as the errors to send; empty when it is fine."""
    if isinstance(value, list):
        return _batch(value)
    if not isinstance(value, dict):
        return [Fault(INVALID_REQUEST, f"a message must be a JSON object, not {_kind(value)}")]
    request_id = value.get("id")
    answerable = request_id if valid_id(request_id) and "method" in value else None
    if value.get("jsonrpc") != "2.0":
        return [Fault(INVALID_REQUEST, f'"jsonrpc" must be "2.0", not {_shown(value.get("jsonrpc"))}', answerable)]
    if "id" in value and request_id is not None and not valid_id(request_id):
        return [Fault(INVALID_REQUEST, f'"id" must be a string or an integer, not {_kind(request_id)}')]
    if "method" in value:
        if not isinstance(value["method"], str):
            return [Fault(INVALID_REQUEST, f'"method" must be a string, not {_kind(value["method"])}', answerable)]
        params = value.get("params")
        if params is not None and not isinstance(params, dict | list):
            return [Fault(INVALID_REQUEST, f'"params" must be an object or an array, not {_kind(params)}', answerable)]
        return []
    if "id" in value and ("result" in value) != ("error" in value):
        return []  # a response to one of the server's requests
    return [Fault(INVALID_REQUEST, 'a message must have a "method" (a request or a notification) or an "id" with '
                                   'a "result" or an "error" (a response)')]


def is_response(value: Any) -> bool:
    return isinstance(value, dict) and "method" not in value and "id" in value


def _batch(items: list[Any]) -> list[Fault]:
    message = ("batches are not supported: the Language Server Protocol sends one message per Content-Length "
               "frame; send each request on its own")
    ids: list[MessageId] = [item["id"] for item in items
                            if isinstance(item, dict) and "method" in item and valid_id(item.get("id"))]
    if not ids:
        return [Fault(INVALID_REQUEST, message)]
    return [Fault(INVALID_REQUEST, message, request_id) for request_id in dict.fromkeys(ids)]


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def _shown(value: Any) -> str:
    if isinstance(value, str) and len(value) <= 20:
        return json.dumps(value)
    return _kind(value) if value is not None else "missing or null"
