"""LSP framing over bytes: ``Content-Length`` header blocks, then that many bytes of body.

An incremental parser, fed whatever the pipe gave (:meth:`FrameParser.feed`), that turns bytes into
:class:`Frame` (a whole body, within the size cap) and :class:`Fault` (something the client must be told
about). It never raises on input and never waits for bytes that cannot come:

* header names are case-insensitive, lines may end in CRLF or LF, ``Content-Type`` is optional (UTF-8 only);
* a ``Content-Length`` that is missing, not a whole number, zero or over the cap is a fault, never a hang;
* a body over the cap is counted off as it streams in and dropped, never held in memory;
* bytes that are not a header block are skipped up to the next ``Content-Length:`` line (resynchronising),
  and a body that turns out to contain one (a client that lied about the length, or sent a message cut short)
  ends there: a raw ``Content-Length: N`` line can never be part of valid JSON (JSON strings hold no raw
  line breaks, and the words are not JSON outside a string), so it always starts the next message.

The id of a request whose body is broken is recovered from its first bytes where possible
(:func:`workcrew.server.envelope_scan.scan_envelope`), so the client's pending request gets its error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from .envelope_scan import MessageId, scan_envelope

# VS Code hands documents up to 50 MB to extensions (and so to language servers); 64 MiB leaves room for
# JSON escaping. Decoding a message costs several times its size in memory, so the cap is what keeps one
# message from costing the daemon gigabytes.
DEFAULT_MAX_MESSAGE_MB = 64

PARSE_ERROR = -32700
INVALID_REQUEST = -32600

MAX_HEADER_LINE = 8 * 1024  # no real header line comes close; longer ones are garbage, not a reason to buffer
MAX_HEADERS = 32
ID_PREFIX = 64 * 1024  # how much of a broken body is kept to find its request id
ID_SCAN = 4 * 1024  # an oversize body's first bytes, read for its id before the rest is dropped
_OVERLAP = 64  # bytes re-scanned at a chunk boundary, so a header split across two reads is still found

_HEADER_LINE = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]+)[ \t]*:[ \t]*(.*?)[ \t]*")
_LENGTH_LINE = re.compile(rb"content-length[ \t]*:[ \t]*\d+[ \t]*\r?\n")  # matched on lower-cased bytes
_LENGTH_WORD = b"content-length"
_CHARSET = re.compile(rb";\s*charset\s*=\s*\"?([^\";\s]+)", re.IGNORECASE)
UTF8_NAMES = (b"utf-8", b"utf8")


@dataclass(frozen=True)
class Frame:
    """One message's body, exactly as long as its header said and no longer than the cap."""

    body: bytes


@dataclass(frozen=True)
class Fault:
    """Input the server answers with a JSON-RPC error (``request_id`` when one could be recovered)."""

    code: int
    message: str
    request_id: MessageId | None = None


FrameEvent = Frame | Fault


class _State(Enum):
    HEADERS = "headers"
    BODY = "body"
    SKIP = "skip"  # a body over the cap, counted off and dropped
    RESYNC = "resync"  # garbage, dropped up to the next Content-Length line


def find_length_line(data: bytes | bytearray, start: int, end: int) -> int | None:
    """Where the first ``Content-Length: N`` line (case-insensitive, ended by LF) starts in
    ``data[start:end]`` (the line's end may lie a little past ``end``), else None."""
    window = bytes(data[start:min(len(data), end + _OVERLAP)]).lower()
    limit = end - start
    at = window.find(_LENGTH_WORD)
    while 0 <= at < limit:
        if _LENGTH_LINE.match(window, at):
            return start + at
        at = window.find(_LENGTH_WORD, at + 1)
    return None


class FrameParser:
    """Bytes in, frames and faults out; see the module's docstring for the rules."""

    def __init__(self, max_body: int) -> None:
        self.max_body = max_body
        self._buf = bytearray()
        self._state = _State.HEADERS
        self._headers: list[tuple[bytes, bytes]] = []
        self._length = 0  # the body's declared length (BODY, SKIP)
        self._scanned = 0  # how much of the buffered body was searched for a header already
        self._skipped = 0  # bytes of an oversize body dropped so far
        self._prefix = bytearray()  # the first bytes of a dropped body or garbage, to find a request id in
        self._pending: Fault | None = None  # a fault whose id may still show up in the bytes that follow
        self._quiet = False  # the garbage that follows a reported fault is part of it: not reported again

    @property
    def buffered(self) -> int:
        """Bytes held between calls (a body within the cap, or a little of a header or of skipped input)."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[FrameEvent]:
        self._buf += data
        events: list[FrameEvent] = []
        while self._step(events):
            pass
        return events

    def close(self) -> list[FrameEvent]:
        """End of input: a message cut short by the client leaving, and a fault still waiting for its id."""
        events: list[FrameEvent] = []
        if self._state is _State.BODY and self._buf:
            request_id, _, _ = scan_envelope(bytes(self._buf[:ID_PREFIX]))
            events.append(Fault(PARSE_ERROR, f"the input ended {self._length - len(self._buf)} bytes before the "
                                             "end of the message its Content-Length announced", request_id))
        elif self._state is _State.HEADERS and self._headers:
            events.append(Fault(PARSE_ERROR, "the input ended inside a message's headers"))
        elif self._state is _State.RESYNC:
            self._drop(len(self._buf))
            self._flush_pending(events)
        elif self._state is _State.SKIP:
            self._flush_pending(events)
        self._buf.clear()
        return events

    # -- one step of the state machine: True while there may be more to do with what is buffered ----------

    def _step(self, events: list[FrameEvent]) -> bool:
        if self._state is _State.HEADERS:
            return self._header_line(events)
        if self._state is _State.BODY:
            return self._body(events)
        if self._state is _State.SKIP:
            return self._skip(events)
        return self._resync(events)

    def _header_line(self, events: list[FrameEvent]) -> bool:
        end = self._buf.find(b"\n", 0, MAX_HEADER_LINE + 1)
        if end < 0:
            if len(self._buf) > MAX_HEADER_LINE:
                return self._garbage("a header line longer than 8 KiB")
            return False
        line = bytes(self._buf[:end]).rstrip(b"\r")
        if not line.strip():
            del self._buf[:end + 1]
            if self._headers:
                return self._end_of_headers(events)
            return True  # a blank line between messages: harmless, some clients send one
        match = _HEADER_LINE.fullmatch(line)
        if match is None or len(self._headers) >= MAX_HEADERS:
            return self._garbage("bytes that are not a message header" if match is None
                                 else f"more than {MAX_HEADERS} header lines")
        del self._buf[:end + 1]
        self._headers.append((match.group(1).lower(), match.group(2)))
        self._quiet = False  # a header: whatever follows is a new message
        return True

    def _end_of_headers(self, events: list[FrameEvent]) -> bool:
        headers, self._headers = self._headers, []
        lengths = {value for name, value in headers if name == b"content-length"}
        problem = None
        if not lengths:
            problem = "a message without a Content-Length header"
        elif len(lengths) > 1:
            problem = "a message with two different Content-Length headers"
        else:
            (raw,) = lengths
            if not raw.isdigit() or len(raw) > 20:
                problem = (f"Content-Length must be a whole number of bytes, got "
                           f"{raw[:40].decode('utf-8', 'replace')!r}")
        for name, value in headers:
            charset = _CHARSET.search(value) if name == b"content-type" else None
            if charset and charset.group(1).lower() not in UTF8_NAMES and problem is None:
                problem = (f"unsupported charset {charset.group(1)[:40].decode('utf-8', 'replace')!r} "
                           "in Content-Type: messages must be UTF-8")
        if problem is not None:  # the body's length is unknown: skip to the next message
            self._begin_resync(Fault(PARSE_ERROR, f"{problem}; the message was skipped"))
            return True
        length = int(next(iter(lengths)))
        if length == 0:
            events.append(Fault(PARSE_ERROR, "an empty message (Content-Length: 0)"))
            return True
        self._length, self._scanned = length, 0
        if length > self.max_body:
            self._state, self._skipped = _State.SKIP, 0
            self._prefix.clear()
            self._pending = Fault(INVALID_REQUEST, (
                f"a message of {length:,} bytes is over this server's limit of {self.max_body:,} bytes and was "
                "skipped unread; raise the limit with `workcrew serve --max-message-mb N` or WORKCREW_MAX_MESSAGE_MB"))
        else:
            self._state = _State.BODY
        return True

    def _body(self, events: list[FrameEvent]) -> bool:
        cut = find_length_line(self._buf, max(0, self._scanned - _OVERLAP), min(len(self._buf), self._length))
        if cut is not None:  # a new message began before this one's announced end: this one was cut short
            request_id, _, _ = scan_envelope(bytes(self._buf[:min(cut, ID_PREFIX)]))
            events.append(Fault(PARSE_ERROR, f"a message was cut short: its Content-Length announced {self._length:,} "
                                             f"bytes but the next message began after {cut:,}", request_id))
            del self._buf[:cut]
            self._state = _State.HEADERS
            return True
        if len(self._buf) < self._length:
            self._scanned = len(self._buf)
            return False
        with memoryview(self._buf) as view:  # one copy of the body, not two
            body = bytes(view[:self._length])
        del self._buf[:self._length]
        self._state = _State.HEADERS
        events.append(Frame(body))
        return True

    def _skip(self, events: list[FrameEvent]) -> bool:
        remaining = self._length - self._skipped
        window = min(len(self._buf), remaining)
        cut = find_length_line(self._buf, 0, window)
        if cut is not None:  # the announced size was a lie (or the client gave up): resume at that header
            self._drop(cut)
            self._skipped += cut
            self._flush_pending(events)
            self._state = _State.HEADERS
            return True
        # nothing but body in sight: drop it, keeping a tail that may begin a header split across two reads
        drop = window if window == remaining else max(0, window - _OVERLAP)
        self._drop(drop)
        self._skipped += drop
        if self._pending is not None and len(self._prefix) >= min(ID_SCAN, self._length):
            self._flush_pending(events)  # tell the client now, not after the rest has streamed past
        if self._skipped >= self._length:
            self._flush_pending(events)
            self._state = _State.HEADERS
            return True
        return False

    def _resync(self, events: list[FrameEvent]) -> bool:
        cut = find_length_line(self._buf, 0, len(self._buf))
        if cut is None:
            if self._pending is not None:
                sample = bytes(self._prefix) + bytes(self._buf[:ID_PREFIX])
                if scan_envelope(sample)[2]:  # the skipped body is a whole JSON object: answer its id now
                    self._flush_pending(events, sample)
            self._drop(max(0, len(self._buf) - _OVERLAP))
            return False
        self._drop(cut)
        self._flush_pending(events)
        self._state = _State.HEADERS
        return True

    # -- helpers ------------------------------------------------------------------------------------------

    def _garbage(self, what: str) -> bool:
        self._headers.clear()
        fault = None if self._quiet else Fault(PARSE_ERROR, f"{what} where a message should start; skipped "
                                                            "up to the next Content-Length header")
        self._begin_resync(fault)
        return True

    def _begin_resync(self, fault: Fault | None) -> None:
        self._state = _State.RESYNC
        self._pending = fault
        self._prefix.clear()

    def _drop(self, count: int) -> None:
        self._keep_prefix(count)
        del self._buf[:count]

    def _keep_prefix(self, count: int) -> None:
        room = ID_PREFIX - len(self._prefix)
        if self._pending is not None and room > 0 and count > 0:
            self._prefix += self._buf[:min(room, count)]

    def _flush_pending(self, events: list[FrameEvent], sample: bytes | None = None) -> None:
        fault, self._pending = self._pending, None
        if fault is not None:
            request_id, _, _ = scan_envelope(bytes(self._prefix) if sample is None else sample)
            events.append(Fault(fault.code, fault.message, request_id))
            self._quiet = True
        self._prefix.clear()
