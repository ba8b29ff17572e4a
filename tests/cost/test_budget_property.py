"""Property: whatever the workflow shape, latencies and concurrency, a run never spends more than its budget.

Runs happen on the virtual-clock loop, so latencies of seconds cost no real time.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from workcrew.engine import Settings, load_workflow, start
from workcrew.engine.cost.dryrun import run_in_virtual_time
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulated import SimulatedModel

MAX_TOKENS = 300

group = st.one_of(
    st.tuples(st.just("par"), st.integers(1, 8)),
    st.tuples(st.just("pipe"), st.integers(1, 5)),
    st.tuples(st.just("nest"), st.integers(1, 4), st.integers(1, 3)),
)


def script(groups: list[tuple[Any, ...]]) -> str:
    lines = ['meta = {"name": "prop", "description": "random fan-out"}', "done = 0"]
    for g, spec in enumerate(groups):
        if spec[0] == "par":
            lines.append(f'r = await parallel([agent("group {g} task " + str(i), label="g{g}_" + str(i)) '
                         f"for i in range({spec[1]})])")
        elif spec[0] == "pipe":
            lines.append(f'r = await pipeline(list(range({spec[1]})), '
                         f'lambda x: agent("first " + str(x), label="g{g}_a" + str(x)), '
                         f'lambda prev, x: agent("second " + str(x) + " after " + str(prev)[:20], label="g{g}_b" + str(x)))')
        else:
            lines.append(f"r = await parallel([lambda i=i: pipeline(list(range({spec[2]})), "
                         f'lambda x, i=i: agent("nested " + str(i) + "/" + str(x), label="g{g}_n" + str(x))) '
                         f"for i in range({spec[1]})])")
        lines.append("done += r.launched")
    lines.append("return {'done': done, 'spent': budget.spent()}")
    return "\n".join(lines)


def scenario(groups: list[tuple[Any, ...]], latencies: list[int], outputs: list[int]) -> Scenario:
    rules = [
        {"match": {"label": f"^g{g}_"}, "respond": {"text": "ok"}, "latency_ms": latencies[g % len(latencies)],
         "usage": {"output_tokens": outputs[g % len(outputs)]}}
        for g in range(len(groups))
    ]
    return Scenario.from_data({"rules": rules})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    groups=st.lists(group, min_size=1, max_size=4),
    latencies=st.lists(st.integers(0, 5000), min_size=1, max_size=4),
    outputs=st.lists(st.integers(1, MAX_TOKENS), min_size=1, max_size=4),
    concurrency=st.integers(1, 32),
    budget_tokens=st.one_of(st.none(), st.integers(0, 12_000)),
    budget_usd=st.one_of(st.none(), st.floats(0, 0.03)),
)
def test_a_run_never_spends_more_than_its_budget(tmp_path_factory: Any, groups: list[tuple[Any, ...]],
                                                  latencies: list[int], outputs: list[int], concurrency: int,
                                                  budget_tokens: int | None, budget_usd: float | None) -> None:
    folder: Path = tmp_path_factory.mktemp("prop")
    path = folder / "prop.py"
    path.write_text(script(groups))
    workflow = load_workflow(path)
    assert not workflow.problems, workflow.problems
    run_settings = Settings(workspace=folder, concurrency=concurrency, max_tokens=MAX_TOKENS,
                            budget_tokens=budget_tokens, budget_usd=budget_usd,
                            models={"default": "claude-sonnet-5-5"})

    async def main(loop: Any) -> Any:
        handle = start(workflow, None, run_settings, client=SimulatedModel(scenario(groups, latencies, outputs)))
        await handle.result()
        return handle

    handle = run_in_virtual_time(main)
    state = handle.state
    budget = state.budget
    if budget_tokens is not None:
        assert budget.spent_tokens <= budget_tokens
    if budget_usd is not None:
        assert budget.spent_usd <= budget_usd + 1e-12
    assert budget.overruns == 0
    assert budget.reserved_tokens == 0 and abs(budget.reserved_usd) < 1e-9  # every reservation settled
    records = list(state.agents.values())
    assert state.launched == len(records) == state.succeeded + state.failed
    refused = [r for r in records if r.state == "failed"]
    # nothing but the budget can fail in this scenario, and every refusal says so
    assert all(r.error_kind == "budget" and "budget" in (r.error or "") for r in refused)
    assert budget.refused >= len(refused)
    # and only a turn that could not fit even with nothing in flight was refused: the spend settled by then
    # plus its worst case was over the cap (a turn that fits once others settle waits for them instead)
    for record in refused:
        numbers = [float(n.replace(",", "")) for n in re.findall(r"\$?([\d,]+(?:\.\d+)?)", record.error or "")]
        spent, _in_flight, cap, needed = numbers[:4]
        rounding = 0.0002 if "USD" in (record.error or "") else 0.5  # the message rounds USD to 4 places
        assert spent + needed > cap - rounding, record.error
    if budget_tokens is None and budget_usd is None:
        assert not refused
    event("some agents refused" if refused else "no agent refused")
    # what the records say was spent agrees with the budget's own count
    assert sum(r.usage.total_tokens for r in records if r.state == "succeeded") <= budget.spent_tokens
