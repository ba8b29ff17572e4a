"""Overload (429/529): retries are jittered, never before retry-after, and the run's concurrency is lowered.

Agents of a fan-out that are refused together must not come back together: retried at one instant they are
one burst again, refused again, and every refusal halves the run's concurrency.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

import pytest
from workcrew.engine.agents.loop import BACKOFF_CAP_S, backoff_delay, call_model
from workcrew.engine.providers.base import ModelRequest
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulated import SimulatedModel
from workcrew.engine.providers.simulator import SimulatorThread
from workcrew.engine.runtime.scheduler import Scheduler

FAN_OUT = 16  # the default concurrency: every agent of the fan-out is in flight when the API refuses


def draws(attempt: int, retry_after: float | None, *, seed: int = 15, n: int = 2000) -> list[float]:
    rng = random.Random(seed)
    return [backoff_delay(attempt, retry_after, rng.uniform) for _ in range(n)]


@pytest.mark.parametrize("retry_after", [0.2, 1.0, 5.0, 30.0, 120.0])
@pytest.mark.parametrize("attempt", [0, 2, 5])
def test_a_retry_after_is_never_cut_short_and_retries_spread_after_it(attempt: int, retry_after: float) -> None:
    delays = draws(attempt, retry_after)
    window = min(BACKOFF_CAP_S, max(retry_after, 0.25 * 2**attempt))
    assert min(delays) >= retry_after  # a retry before retry-after would only be refused again
    assert max(delays) <= retry_after + window <= retry_after + BACKOFF_CAP_S  # a long retry-after is not doubled
    # spread over the whole window, not bunched: every tenth of it gets some retries
    tenths = {min(9, int((d - retry_after) / window * 10)) for d in delays}
    assert tenths == set(range(10))
    assert delays == draws(attempt, retry_after)  # the same random numbers give the same delays


def test_a_zero_retry_after_is_spread_too_and_wider_each_attempt() -> None:
    first, third = draws(0, 0.0), draws(2, 0.0)
    assert min(first) >= 0 and max(first) <= 0.25 and max(first) - min(first) > 0.2
    assert max(third) <= 1.0 and max(third) - min(third) > 0.8


def test_without_retry_after_the_exponential_window_is_jittered_and_capped() -> None:
    for attempt, window in [(0, 0.25), (1, 0.5), (3, 2.0), (5, 8.0), (9, 8.0), (10_000, 8.0)]:
        delays = draws(attempt, None)
        assert window / 2 <= min(delays) and max(delays) <= window
        assert max(delays) - min(delays) > 0.45 * window


def request(label: str) -> ModelRequest:
    return ModelRequest(model="simulated", system=[], messages=[{"role": "user", "content": "go"}],
                        max_tokens=100, label=label, prompt="go")


@pytest.mark.parametrize("status", [429, 529])
async def test_agents_refused_together_ask_for_different_delays_and_lower_the_cap(status: int) -> None:
    # each agent's first call is refused with retry-after: 2, its second answered
    # in flight together (5 ms each), as a real burst is, so that the refusals arrive as one burst
    rules: list[dict[str, Any]] = [{"match": {"label": f"^a{i}$", "call": 1}, "latency_ms": 5,
                                    "respond": {"error": status, "retry_after": 2}} for i in range(FAN_OUT)]
    client = SimulatedModel(Scenario.from_data({"rules": rules}))
    scheduler = Scheduler(FAN_OUT)
    asked: list[float] = []

    async def sleep(seconds: float) -> None:  # the requested delay is what is under test, not the clock
        asked.append(seconds)

    outcomes = await asyncio.gather(*(call_model(client, request(f"a{i}"), retries=3, sleep=sleep,
                                                 on_rate_limit=scheduler.on_rate_limit) for i in range(FAN_OUT)))
    assert [retries for _, retries in outcomes] == [1] * FAN_OUT
    assert len(asked) == FAN_OUT and min(asked) >= 2
    assert len(set(asked)) == FAN_OUT and max(asked) - min(asked) > 0.5  # not one instant: spread over [2, 4]
    # overload lowers the cap as a 429 does, and a burst of refusals together lowers it once, not 16 times
    assert scheduler.throttle_events == FAN_OUT and scheduler.cuts == 1 and scheduler.limit == FAN_OUT // 2


@pytest.mark.parametrize("status", [429, 529])
async def test_a_refused_fan_out_retries_spread_out_through_the_sdk(
        simulator: Callable[..., SimulatorThread], run_api: Any, status: int) -> None:
    retry_after = 0.5
    sim = simulator([{"match": {"label": f"^part {i}$", "call": 1},
                      "respond": {"error": status, "retry_after": retry_after}} for i in range(FAN_OUT)])
    result = await run_api(sim, f"""
        return await parallel([agent(f"Task {{i}}.", label=f"part {{i}}") for i in range({FAN_OUT})])
    """, concurrency=FAN_OUT)
    assert result.status == "succeeded", result.error
    arrivals: dict[str, list[float]] = {}
    for sent in sim.server.requests:
        arrivals.setdefault(sent["headers"]["x-workcrew-label"], []).append(sent["at"])
    assert sorted(arrivals) == sorted(f"part%20{i}" for i in range(FAN_OUT))
    assert all(len(times) == 2 for times in arrivals.values())  # refused once, then answered
    waits = [again - first for first, again in arrivals.values()]  # from a request's refusal to its retry
    assert min(waits) >= retry_after  # never before retry-after
    # spread over a good part of the [0.5, 1] s window; in lockstep they would differ by a round trip or so
    assert max(waits) - min(waits) >= 0.3 * retry_after
    scheduler = run_api.handle.state.scheduler
    assert scheduler.throttle_events == FAN_OUT and 1 <= scheduler.cuts < FAN_OUT and scheduler.limit < FAN_OUT
