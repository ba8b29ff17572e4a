"""Agent slots: the cap, first come first served, pause, cancellation while queued, rate-limit throttling."""

from __future__ import annotations

import asyncio

import pytest
from workcrew.engine.runtime.scheduler import Scheduler


async def settle() -> None:
    """Let every task that can run, run."""
    for _ in range(5):
        await asyncio.sleep(0)


class Crowd:
    """Tasks that each take a slot, note the order they got it in, and hold it until told to finish."""

    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler
        self.order: list[str] = []
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self._done: dict[str, asyncio.Event] = {}

    async def join(self, *names: str) -> None:
        for name in names:
            self._done[name] = asyncio.Event()
            self.tasks[name] = asyncio.get_running_loop().create_task(self._hold(name))
            await asyncio.sleep(0)  # queue in this order
        await settle()

    async def _hold(self, name: str) -> None:
        await self.scheduler.acquire()
        self.order.append(name)
        try:
            await self._done[name].wait()
        finally:
            self.scheduler.release()

    def finish(self, *names: str) -> None:
        for name in names:
            self._done[name].set()

    async def finish_all(self) -> None:
        """Finish every task, including those that only get a slot as others finish."""
        self.finish(*self._done)
        async with asyncio.timeout(5):  # a slot that leaked would leave a task waiting for ever
            await asyncio.gather(*(t for t in self.tasks.values() if not t.cancelled()),
                                 return_exceptions=True)


async def test_at_most_the_cap_hold_slots_and_the_rest_go_in_arrival_order() -> None:
    crowd = Crowd(Scheduler(2))
    await crowd.join("a", "b", "c", "d", "e")
    assert crowd.order == ["a", "b"] and crowd.scheduler.in_use == 2 and crowd.scheduler.waiting == 3
    crowd.finish("b")
    await settle()
    assert crowd.order == ["a", "b", "c"]
    crowd.finish("a", "c")
    await settle()
    assert crowd.order == ["a", "b", "c", "d", "e"] and crowd.scheduler.waiting == 0
    await crowd.finish_all()
    assert crowd.scheduler.in_use == 0


async def test_no_slot_is_granted_while_paused_and_every_free_one_is_on_resume() -> None:
    crowd = Crowd(Scheduler(3))
    await crowd.join("a")
    crowd.scheduler.pause()
    await crowd.join("b", "c", "d")
    crowd.finish("a")
    await settle()
    assert crowd.order == ["a"] and crowd.scheduler.in_use == 0 and crowd.scheduler.waiting == 3
    crowd.scheduler.resume()
    await settle()
    assert crowd.order == ["a", "b", "c", "d"] and crowd.scheduler.in_use == 3
    await crowd.finish_all()
    assert crowd.scheduler.in_use == 0


async def test_a_task_cancelled_while_queued_takes_no_slot_and_loses_none() -> None:
    crowd = Crowd(Scheduler(1))
    await crowd.join("a", "b", "c")
    crowd.tasks["b"].cancel()
    await settle()
    assert crowd.scheduler.waiting == 1
    crowd.finish("a")
    await settle()
    assert crowd.order == ["a", "c"] and crowd.scheduler.in_use == 1
    await crowd.finish_all()
    assert crowd.scheduler.in_use == 0


async def test_a_slot_granted_to_a_task_cancelled_before_it_ran_passes_to_the_next() -> None:
    crowd = Crowd(Scheduler(1))
    await crowd.join("a", "b", "c")
    crowd.finish("a")
    while crowd.scheduler.waiting == 2:  # until a has released its slot and granted it to b
        await asyncio.sleep(0)
    assert crowd.order == ["a"]  # b holds the slot but has not run yet
    crowd.tasks["b"].cancel()
    await settle()
    assert crowd.order == ["a", "c"] and crowd.scheduler.in_use == 1
    with pytest.raises(asyncio.CancelledError):
        await crowd.tasks["b"]
    await crowd.finish_all()
    assert crowd.scheduler.in_use == 0


async def test_a_rate_limit_halves_the_cap_and_successes_raise_it_back_for_queued_agents() -> None:
    crowd = Crowd(Scheduler(4))
    await crowd.join(*(f"w{i}" for i in range(10)))
    assert len(crowd.order) == 4
    crowd.scheduler.on_rate_limit()
    assert crowd.scheduler.limit == 2 and crowd.scheduler.throttle_events == 1
    crowd.finish(*crowd.order)
    await settle()
    assert len(crowd.order) == 6 and crowd.scheduler.in_use == 2  # four finished, only two follow
    for _ in range(Scheduler.RECOVER_AFTER - 1):
        crowd.scheduler.on_success()
    assert crowd.scheduler.limit == 2
    crowd.scheduler.on_success()
    await settle()
    assert crowd.scheduler.limit == 3 and crowd.scheduler.in_use == 3 and len(crowd.order) == 7
    await crowd.finish_all()
    assert len(crowd.order) == 10 and crowd.scheduler.in_use == 0


async def test_agents_held_back_by_a_lowered_cap_start_one_per_recovery_step_never_together() -> None:
    crowd = Crowd(Scheduler(8))
    await crowd.join(*(f"w{i}" for i in range(24)))
    for _ in range(3):  # a burst of refusals: 8 → 4 → 2 → 1
        crowd.scheduler.on_rate_limit()
    assert crowd.scheduler.limit == 1 and crowd.scheduler.throttle_events == 3
    crowd.finish(*crowd.order)
    await settle()
    assert len(crowd.order) == 9 and crowd.scheduler.in_use == 1  # eight slots freed, one agent follows
    while crowd.scheduler.limit < crowd.scheduler.configured:
        started = len(crowd.order)
        for _ in range(Scheduler.RECOVER_AFTER - 1):
            crowd.scheduler.on_success()
        await settle()
        assert len(crowd.order) == started  # no climb yet
        crowd.scheduler.on_success()
        await settle()
        assert len(crowd.order) == started + 1  # the cap climbed one step: one held-back agent starts, not all
    assert crowd.scheduler.in_use == 8 and crowd.scheduler.waiting == 24 - 9 - 7
    await crowd.finish_all()
    assert len(crowd.order) == 24 and crowd.scheduler.in_use == 0


def test_a_burst_of_refusals_halves_the_cap_once_and_a_later_refusal_again() -> None:
    import time

    scheduler = Scheduler(16)
    burst_sent = time.monotonic()  # sixteen requests in flight together, all refused
    for _ in range(16):
        scheduler.on_rate_limit(burst_sent)
    assert scheduler.limit == 8 and scheduler.cuts == 1 and scheduler.throttle_events == 16
    later = time.monotonic()  # a request sent after the cut and still refused: the cut was not enough
    scheduler.on_rate_limit(later)
    assert scheduler.limit == 4 and scheduler.cuts == 2
    scheduler.on_rate_limit()  # a caller that cannot tell when its request was sent always cuts
    assert scheduler.limit == 2 and scheduler.cuts == 3
