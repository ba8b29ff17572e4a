"""Agent slots: a concurrency cap that a pause can hold and rate limits can lower for everyone."""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio


class Handover:
    """A slot given up by an agent whose end event is still to come.

    An agent that succeeded gives its slot up first and tells its end just after, so the agent that gets
    the slot reaches its model call without waiting for that bookkeeping. The start of an agent that got
    such a slot is held until that end is told, so the events never show more agents running than there
    are slots. Either side may settle: the agent that ended (right after giving the slot up) or the one
    that started (before it tells anything else).
    """

    __slots__ = ("_end", "_start")

    def __init__(self, end: Callable[[], object]) -> None:
        self._end: Callable[[], object] | None = end
        self._start: Callable[[], object] | None = None

    @property
    def pending(self) -> bool:
        return self._end is not None

    def settle(self) -> None:
        """Tell the end, then the start held behind it (each once)."""
        end, self._end = self._end, None
        if end is not None:
            end()
        start, self._start = self._start, None
        if start is not None:
            start()


class Scheduler:
    """Grants agent slots. An agent counts as started only once it holds one."""

    RECOVER_AFTER = 8  # successful agents before the cap climbs back one step after a rate limit

    def __init__(self, concurrency: int) -> None:
        self.configured = concurrency
        self._limiter = anyio.CapacityLimiter(concurrency)
        self._running = anyio.Event()
        self._running.set()
        self._successes_since_throttle = 0
        self.throttle_events = 0
        self._handovers: deque[Handover] = deque()

    @property
    def limit(self) -> int:
        return int(self._limiter.total_tokens)

    @property
    def in_use(self) -> int:
        return int(self._limiter.borrowed_tokens)

    @property
    def waiting(self) -> int:
        return int(self._limiter.statistics().tasks_waiting)

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def pause(self) -> None:
        if self._running.is_set():
            self._running = anyio.Event()

    def resume(self) -> None:
        self._running.set()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        borrower = object()
        try:
            # fast path (a free slot, nobody queued, not paused): no checkpoint, so an agent that can
            # start goes straight to its model call instead of queueing behind every other ready task
            if not self._running.is_set():
                raise anyio.WouldBlock
            self._limiter.acquire_on_behalf_of_nowait(borrower)
        except anyio.WouldBlock:
            while True:
                await self._running.wait()
                await self._limiter.acquire_on_behalf_of(borrower)
                if self._running.is_set():
                    break
                # paused while we waited: give the slot back and wait for resume
                self._limiter.release_on_behalf_of(borrower)
        try:
            yield
        finally:
            self._limiter.release_on_behalf_of(borrower)

    def hand_over(self, end: Callable[[], object]) -> Handover:
        """Called while still holding the slot: its end (``end``) is told after the slot is given up."""
        handover = Handover(end)
        self._handovers.append(handover)
        return handover

    def tell_start(self, start: Callable[[], object]) -> Handover | None:
        """Called once a slot is held: tell the start now, or hold it behind an end still to be told.

        Returns the handover the start waits for; settle it before telling anything else of the agent.
        """
        handovers = self._handovers
        while handovers:
            handover = handovers.popleft()
            if handover.pending:
                handover._start = start
                return handover
        start()
        return None

    def on_rate_limit(self) -> None:
        """The API said slow down: halve the cap for every agent of the run."""
        self.throttle_events += 1
        self._successes_since_throttle = 0
        self._limiter.total_tokens = max(1, self.limit // 2)

    def on_success(self) -> None:
        if self.limit >= self.configured:
            return
        self._successes_since_throttle += 1
        if self._successes_since_throttle >= self.RECOVER_AFTER:
            self._successes_since_throttle = 0
            self._limiter.total_tokens = min(self.configured, self.limit + 1)
