"""Agent slots: a concurrency cap that a pause can hold and rate limits can lower for everyone."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable


class Handover:
    """A slot given up by an agent whose end event is still to come, or a start still to be told.

    An agent that succeeded gives its slot up first and tells its end just after, so the agent that gets
    the slot reaches its model call without waiting for that bookkeeping. The start of an agent that got
    such a slot is held until that end is told, so the events never show more agents running than there
    are slots. Either side may settle: the agent that ended (right after giving the slot up) or the one
    that started (before it tells anything else).
    """

    __slots__ = ("_end", "_start")

    def __init__(self, end: Callable[[], object] | None, start: Callable[[], object] | None = None) -> None:
        self._end = end
        self._start = start

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
    """Grants agent slots, first come first served. An agent counts as started only once it holds one.

    A plain counter and a queue of futures rather than ``anyio.CapacityLimiter``: a thousand agents queue
    here at once, and the limiter keeps a ``WouldBlock`` traceback alive for each of them while it waits.
    """

    RECOVER_AFTER = 8  # successful agents before the cap climbs back one step after a rate limit

    def __init__(self, concurrency: int) -> None:
        self.configured = concurrency
        self._limit = concurrency
        self._in_use = 0
        self._paused = False
        self._waiters: deque[asyncio.Future[None]] = deque()  # cancelled ones stay until _grant skips them
        self._successes_since_throttle = 0
        self.throttle_events = 0  # refusals for rate or overload
        self.cuts = 0  # times the cap was halved (once per burst of refusals)
        self._cut_at = float("-inf")
        self._handovers: deque[Handover] = deque()

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def in_use(self) -> int:
        return self._in_use

    @property
    def waiting(self) -> int:
        return sum(not waiter.done() for waiter in self._waiters)

    @property
    def paused(self) -> bool:
        return self._paused

    def pause(self) -> None:
        """Agents holding a slot go on; no agent gets one until :meth:`resume`."""
        self._paused = True

    def resume(self) -> None:
        self._paused = False
        self._grant()

    async def acquire(self) -> None:
        """Wait for a slot; pair every return with one :meth:`release`."""
        # fast path (a free slot, nobody queued, not paused): no checkpoint, so an agent that can start goes
        # straight to its model call instead of queueing behind every other ready task
        if not self._paused and self._in_use < self._limit and not self._waiters:
            self._in_use += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self._grant()  # a free slot behind waiters that were all cancelled goes to this one at once
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.release()  # granted, but cancelled before it could run: pass the slot on
            raise

    def release(self) -> None:
        self._in_use -= 1
        self._grant()

    def _grant(self) -> None:
        waiters = self._waiters
        while waiters and not self._paused and self._in_use < self._limit:
            waiter = waiters.popleft()
            if not waiter.done():  # done: its task was cancelled while queued
                self._in_use += 1
                waiter.set_result(None)

    def hand_over(self, end: Callable[[], object]) -> Handover:
        """Called while still holding the slot: its end (``end``) is told after the slot is given up."""
        handover = Handover(end)
        self._handovers.append(handover)
        return handover

    def tell_start(self, start: Callable[[], object]) -> Handover:
        """Called once a slot is held: the start is told behind an end still to be told, if there is one,
        else in the next loop step, once the agent has made its model call (it is the first thing an agent
        tells, not something its call should wait for).

        Returns the handover the start waits for; settle it before telling anything else of the agent.
        """
        handovers = self._handovers
        while handovers:
            handover = handovers.popleft()
            if handover.pending:
                handover._start = start
                return handover
        handover = Handover(None, start)
        asyncio.get_running_loop().call_soon(handover.settle)
        return handover

    def cap(self, limit: int) -> None:
        """No more than ``limit`` slots from now on (the executor's workers offer no more); agents holding
        a slot go on."""
        self.configured = max(1, min(self.configured, limit))
        self._limit = min(self._limit, self.configured)

    def on_rate_limit(self, sent_at: float | None = None) -> None:
        """The API said slow down: halve the cap for every agent of the run (running agents finish).

        A burst of refusals is one signal, not many: a refused request sent (``sent_at``, ``time.monotonic``)
        before the last cut was already answered by that cut, so sixteen agents refused together halve the
        cap once (16 → 8), not down to 1. A refusal of a request sent after the cut halves it again."""
        self.throttle_events += 1
        self._successes_since_throttle = 0
        now = time.monotonic()
        if sent_at is not None and sent_at < self._cut_at:
            return
        self._cut_at = now
        self.cuts += 1
        self._limit = max(1, self._limit // 2)

    def on_success(self) -> None:
        if self._limit >= self.configured:
            return
        self._successes_since_throttle += 1
        if self._successes_since_throttle >= self.RECOVER_AFTER:
            self._successes_since_throttle = 0
            self._limit = min(self.configured, self._limit + 1)
            self._grant()
