"""Run events: what happened, in order, with enough data to redraw a progress view from scratch."""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

EventType = Literal[
    "run_started",
    "phase_started",
    "agent_queued",
    "agent_started",
    "agent_progress",
    "agent_finished",
    "agent_failed",
    "agent_cached",
    "finding",
    "finding_suppressed",
    "log",
    "budget_warning",
    "check",
    "ask",
    "run_paused",
    "run_resumed",
    "run_finished",
]


@dataclass(slots=True)
class Event:
    """One event; treat it as immutable (subscribers share it). Not frozen: frozen init costs ~1 µs more
    per event, and a run emits several per agent."""

    type: EventType
    run_id: str
    seq: int
    ts: float
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "run_id": self.run_id, "seq": self.seq, "ts": self.ts, **self.data}


class EventBus:
    """Numbers events and fans them out to listeners (sync callbacks) and async subscribers."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self._seq = 0
        self._listeners: list[Callable[[Event], None]] = []
        self._streams: list[MemoryObjectSendStream[Event]] = []
        self._closed = False
        self.history: list[Event] = []

    def listen(self, callback: Callable[[Event], None]) -> None:
        self._listeners.append(callback)

    def emit(self, type_: EventType, **data: Any) -> Event:
        self._seq += 1
        event = Event(type_, self.run_id, self._seq, time.time(), data)
        self.history.append(event)
        for callback in self._listeners:
            callback(event)
        if not self._streams:
            return event
        for stream in list(self._streams):
            try:
                stream.send_nowait(event)
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                self._streams.remove(stream)
        return event

    def subscribe(self, *, replay: bool = True) -> AsyncIterator[Event]:
        send, receive = anyio.create_memory_object_stream[Event](math.inf)
        if replay:
            for event in self.history:
                send.send_nowait(event)
        if self._closed:
            send.close()
        else:
            self._streams.append(send)
        return _iterate(receive)

    def close(self) -> None:
        self._closed = True
        for stream in self._streams:
            stream.close()
        self._streams.clear()


async def _iterate(receive: MemoryObjectReceiveStream[Event]) -> AsyncIterator[Event]:
    async with receive:
        async for event in receive:
            yield event
