"""Agent slots: a concurrency cap that a pause can hold and rate limits can lower for everyone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio


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
