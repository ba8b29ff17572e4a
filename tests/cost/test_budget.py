"""Hard budgets: worst-case reservation per turn, refusals counted and shown, warnings, what scripts see."""

from __future__ import annotations

from typing import Any

import pytest
from workcrew.engine import BudgetExceeded, RunStore
from workcrew.engine.cost.budget import Budget
from workcrew.engine.cost.pricing import Usage, price_of

Runner = Any


async def test_refused_agents_fail_with_a_budget_error_and_the_run_stays_inside(run_script: Runner,
                                                                                store: RunStore) -> None:
    outcome = await run_script(
        """
        r = await parallel([agent("task " + str(i), label="t" + str(i)) for i in range(12)])
        return {"ok": r.succeeded, "failed": r.failed, "reasons": list(r.reasons.values())[:1]}
        """,
        scenario={"rules": [{"match": {}, "respond": {"text": "done"}, "usage": {"output_tokens": 100}}]},
        budget_tokens=2_500, max_tokens=200, concurrency=4,
    )
    state = run_script.handle.state
    assert state.budget.spent_tokens <= 2_500
    result = outcome.result
    assert result["ok"] >= 1 and result["failed"] >= 1 and result["ok"] + result["failed"] == 12
    assert "token budget exhausted" in result["reasons"][0]
    assert outcome.failure_reasons == {"budget": result["failed"]}
    store.flush()
    failed = [a for a in store.get_agents(outcome.run_id) if a["state"] == "failed"]
    assert len(failed) == result["failed"] and all(a["error_kind"] == "budget" for a in failed)


async def test_budget_warnings_at_75_and_90_percent_are_events(run_script: Runner) -> None:
    await run_script(
        'for i in range(400):\n    await agent("step " + str(i), label="s" + str(i))\n',
        scenario={"rules": [{"match": {}, "respond": {"text": "ok"}, "usage": {"output_tokens": 10}}]},
        budget_tokens=20_000, max_tokens=20,
    )
    warnings = [e.data for e in run_script.handle.state.bus.history if e.type == "budget_warning"]
    assert [w["fraction"] for w in warnings] == [0.75, 0.9]
    assert all(w["spent_tokens"] <= 20_000 for w in warnings)


async def test_scripts_see_real_usage_with_and_without_a_budget(run_script: Runner) -> None:
    body = """
        before = budget.spent()
        await agent("one", label="one")
        return {"before": before, "after": budget.spent(), "total": budget.total,
                "remaining": budget.remaining() if budget.total else None}
    """
    free = await run_script(body)
    assert free.result["before"] == 0 and free.result["after"] > 0 and free.result["total"] is None
    limited = await run_script(body, budget_tokens=50_000)
    assert limited.result["after"] == free.result["after"]
    assert limited.result["remaining"] == 50_000 - limited.result["after"]


def test_reservation_is_the_worst_case_and_refuses_what_does_not_fit() -> None:
    budget = Budget(total_tokens=None, total_usd=0.05)
    price = price_of("claude-sonnet-5-5")
    first = budget.reserve("claude-sonnet-5-5", 1_000, 4_000)
    # the prompt as if written to the cache (the dearest input rate), the whole max_tokens as output
    assert first.usd >= (1_000 * price.cache_write + 4_000 * price.output) / 1e6
    with pytest.raises(BudgetExceeded, match="USD budget exhausted"):
        budget.reserve("claude-sonnet-5-5", 1_000, 4_000)
    assert budget.refused == 1
    budget.settle(first, "claude-sonnet-5-5", Usage(input_tokens=1_000, output_tokens=100))
    assert budget.reserved_usd == pytest.approx(0) and budget.spent_usd == pytest.approx(
        (1_000 * price.input + 100 * price.output) / 1e6)
    budget.reserve("claude-sonnet-5-5", 1_000, 4_000)  # fits again once the first turn settled low
    assert budget.overruns == 0


async def test_a_turn_that_fits_once_others_settle_waits_instead_of_failing() -> None:
    import asyncio

    budget = Budget(total_tokens=10_000)
    first = budget.reserve("claude-sonnet-5-5", 1_000, 4_000)  # ~5,020 of 10,000 in flight
    waiting = asyncio.ensure_future(budget.reserve_when_it_fits("claude-sonnet-5-5", 1_000, 6_000))
    await asyncio.sleep(0)
    assert not waiting.done()  # 5,020 + 7,020 > 10,000 while the first is in flight, but it fits alone
    budget.settle(first, "claude-sonnet-5-5", Usage(input_tokens=1_000, output_tokens=200))
    second = await asyncio.wait_for(waiting, 5)
    assert budget.reserved_tokens == second.tokens and budget.spent_tokens == 1_200 and budget.refused == 0


async def test_a_turn_that_could_never_fit_fails_at_once() -> None:
    budget = Budget(total_tokens=10_000)
    budget.reserve("claude-sonnet-5-5", 1_000, 4_000)
    with pytest.raises(BudgetExceeded, match="token budget exhausted"):
        await budget.reserve_when_it_fits("claude-sonnet-5-5", 1_000, 12_000)  # more than the whole cap
    assert budget.refused == 1


async def test_a_tight_cap_with_many_agents_in_flight_fails_none_that_fit(run_script) -> None:
    """48 agents at concurrency 16 under a cap that holds about four worst cases at a time: each waits for
    room instead of failing, and all finish, since what they really use fits the cap many times over."""
    scenario = {"rules": [{"respond": {"text": "ok"}, "usage": {"input_tokens": 50, "output_tokens": 10},
                           "latency_ms": 5}]}
    result = await run_script("out = await parallel([agent(f'task {i}', label=f'a{i}') for i in range(48)])\n"
                              "return out.succeeded\n", scenario=scenario, budget_tokens=6_000, max_tokens=1_000,
                              concurrency=16)
    assert result.status == "succeeded", result.error
    assert result.result == 48 and result.agents["failed"] == 0
    budget = run_script.handle.state.budget
    assert budget.spent_tokens == 48 * 60 <= 6_000 and budget.overruns == 0 and budget.refused == 0
