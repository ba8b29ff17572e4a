"""The messages between the parent and the script host child: one JSON object per line, ASCII only.

Parent to child::

    {"t": "start", "run_id", "source", "dialect", "path", "args", "budget": [total, spent, remaining], "limits",
     "report_idle"}
    {"t": "reply", "id", "ok": true, "value", "patch"?, "agent_id"?, "budget": [spent, remaining]}
    {"t": "reply", "id", "ok": false, "error": {"type", "message"}, "failure"?, "budget": [spent, remaining]}

Child to parent::

    {"t": "call", "id", "op", "level", "args"}        op: agent | check | ask | workflow | sleep
    {"t": "log" | "phase" | "report" | "warn" | "script_failure" | "workflow_end", "level", ...}
    {"t": "idle", "n"}                                  nothing runs until the next reply (n: replies read);
                                                        sent only when the start message asks for it
    {"t": "done", "result"} | {"t": "fail", "error", "memory"}

``level`` is 0 for the run's script and the id the parent gave a child workflow otherwise. ASCII JSON
(``json.dumps``' escapes) carries any string, a lone surrogate included, over a byte pipe.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ...errors import (
    AgentDefinitionError,
    AgentFailed,
    BudgetExceeded,
    LimitExceeded,
    ScriptError,
    ScriptTimeout,
    UnknownAgentType,
    UnknownModel,
    UsageError,
    WorkcrewError,
    WorkflowNotFound,
)


@dataclass(frozen=True)
class Limits:
    """What one script may do and send; each limit is enforced with a plain reason when exceeded."""

    sync_slice_s: float = 3.0  # synchronous stretch before the script's own watchdog stops it
    cpu_s: float = 10.0  # CPU seconds the child may spend without a message to the parent before it is killed
    memory_bytes: int = 1 << 30  # address space of the child
    max_items: int = 4096  # items per parallel()/pipeline() call
    message_bytes: int = 128 << 20  # one message from the child (ASCII JSON: up to 12 bytes a character)
    log_line_chars: int = 2_000_000
    log_lines: int = 20_000  # log and print lines per run
    log_chars: int = 64_000_000  # all log lines of a run together
    result_bytes: int = 64 << 20  # the workflow's result, as ASCII JSON
    pending_calls: int = 20_000  # calls the script has made that have not been answered

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def out_of_memory(self) -> str:
        return f"the script used more than {self.memory_bytes / (1 << 30):g} GiB of memory (the limit per script)"

    def pending_overflow(self, pending: int) -> str | None:
        """Why one more call is over the limit of calls waiting for an answer, if it is."""
        if pending >= self.pending_calls:
            return f"the script has more than {self.pending_calls:,} calls waiting for an answer (the limit per run)"
        return None

    def log_overflow(self, line: str, lines: int, chars: int) -> str | None:
        """Why one more log line (the ``lines``-th, making ``chars`` in all) is over the limits, if it is."""
        if len(line) > self.log_line_chars:
            return f"the script logged a line of {len(line):,} characters; the limit is {self.log_line_chars:,} per line"
        if lines > self.log_lines:
            return f"the script logged more than {self.log_lines:,} lines (the limit per run)"
        if chars > self.log_chars:
            return f"the script logged more than {self.log_chars:,} characters (the limit per run)"
        return None


class MessageTooLong(ValueError):
    """A line longer than the limit, ended or not."""


class Lines:
    """A byte stream, fed in whatever chunks a pipe gives, as complete lines (at most ``limit`` bytes each).

    Both sides read with it straight from their pipe protocol's ``data_received``: no stream reader, no
    task woken per chunk."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit
        self._partial: list[bytes] = []  # a line that has not ended yet, in pieces (joined once, when it ends)
        self._size = 0

    def feed(self, chunk: bytes) -> list[bytes]:
        limit = self.limit
        if b"\n" not in chunk:
            self._partial.append(chunk)
            self._size += len(chunk)
            if limit is not None and self._size > limit:
                raise MessageTooLong(self._size)
            return []
        lines = (b"".join(self._partial) + chunk if self._partial else chunk).split(b"\n")
        rest = lines.pop()
        self._partial, self._size = ([rest], len(rest)) if rest else ([], 0)
        if limit is not None and (self._size > limit or any(len(line) > limit for line in lines)):
            raise MessageTooLong(max(self._size, *map(len, lines)))
        return lines


# Every message is encoded and decoded once on each side of every call, so both use json's C
# encoder and scanner directly: json.dumps builds an encoder object per call and json.loads sniffs the
# bytes' encoding first, together about half the cost of a small message. The encoder does not look
# for cycles (a message that contains itself raises RecursionError instead of ValueError).
_ENCODER = json.JSONEncoder(separators=(",", ":"), check_circular=False)
_c_encoder = getattr(json.encoder, "c_make_encoder", None)
_encode_chunks: Callable[[Any, int], Sequence[str]] | None = None if _c_encoder is None else _c_encoder(
    None, _ENCODER.default, json.encoder.encode_basestring_ascii, None, ":", ",", False, False, True)
_scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def encode_text(message: dict[str, Any]) -> str:
    """One message as ASCII JSON text, without its newline."""
    if _encode_chunks is None:  # an interpreter without json's C accelerator
        return _ENCODER.encode(message)
    return "".join(_encode_chunks(message, 0))


def encode(message: dict[str, Any]) -> bytes:
    return encode_text(message).encode("ascii") + b"\n"


def encode_many(messages: list[dict[str, Any]]) -> bytes:
    return "".join([encode_text(m) + "\n" for m in messages]).encode("ascii")


def decode(line: bytes) -> Any:
    """One message line (without its newline) as data; ValueError when it is not exactly one JSON value."""
    text = line.decode()  # UnicodeDecodeError is a ValueError
    try:
        value, end = _scan(text, 0)
    except StopIteration as exc:
        raise json.JSONDecodeError("Expecting value", text, exc.value) from None
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return value


# errors that cross as themselves (by class name), so scripts can catch them as in-process
ERRORS: dict[str, type[WorkcrewError]] = {
    cls.__name__: cls for cls in (AgentFailed, BudgetExceeded, LimitExceeded, ScriptError, ScriptTimeout,
                                  UnknownModel, UsageError, WorkcrewError, WorkflowNotFound, UnknownAgentType,
                                  AgentDefinitionError)
}
BUILTIN_ERRORS: dict[str, type[Exception]] = {
    cls.__name__: cls for cls in (TypeError, ValueError, KeyError, IndexError, RuntimeError, LookupError)
}


def error_of(exc: BaseException) -> dict[str, Any]:
    """An exception as a reply's ``error``: its class name and message."""
    if isinstance(exc, ScriptError):
        return {"type": "ScriptError", "message": str(exc)}
    return {"type": type(exc).__name__, "message": str(exc) if str(exc) else type(exc).__name__}


def exception_from(error: dict[str, Any]) -> Exception:
    """A reply's ``error`` as the exception the script sees."""
    name, message = str(error.get("type") or "WorkcrewError"), str(error.get("message") or "")
    if name == "AgentFailed":
        return AgentFailed(message)
    if name == "ScriptError":  # its problems are already in the message
        script_error = ScriptError.__new__(ScriptError)
        Exception.__init__(script_error, message)
        script_error.problems = []
        return script_error
    if name in ERRORS:
        return ERRORS[name](message)
    if name in BUILTIN_ERRORS:
        return BUILTIN_ERRORS[name](message)
    return WorkcrewError(message if name in message else f"{name}: {message}")
