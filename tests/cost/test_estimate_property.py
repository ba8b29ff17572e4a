"""Property: on the simulated model, the expected estimate is what the run spends, whatever its shape."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from workcrew.engine import Settings, load_workflow, start
from workcrew.engine.cost.dryrun import run_in_virtual_time
from workcrew.engine.cost.estimate import estimate_sync
from workcrew.engine.providers.simulated import SimulatedModel

from .test_budget_property import group, scenario, script


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    groups=st.lists(group, min_size=1, max_size=3),
    latencies=st.lists(st.integers(0, 3000), min_size=1, max_size=3),
    outputs=st.lists(st.integers(1, 300), min_size=1, max_size=3),
    concurrency=st.integers(1, 32),
)
def test_expected_estimate_matches_the_simulated_run(tmp_path_factory: Any, groups: list[tuple[Any, ...]],
                                                     latencies: list[int], outputs: list[int],
                                                     concurrency: int) -> None:
    folder: Path = tmp_path_factory.mktemp("est")
    path = folder / "prop.py"
    path.write_text(script(groups))
    workflow = load_workflow(path)
    run_settings = Settings(workspace=folder, concurrency=concurrency, max_tokens=300,
                            models={"default": "claude-sonnet-5-5"})
    predicted, _runs = estimate_sync(workflow, None, None, run_settings,
                                     scenario=scenario(groups, latencies, outputs))

    async def main(loop: Any) -> Any:
        handle = start(workflow, None, run_settings, client=SimulatedModel(scenario(groups, latencies, outputs)))
        return await handle.result(), loop.time()

    outcome, elapsed = run_in_virtual_time(main)
    tokens = sum(v for k, v in outcome.usage.items() if k.endswith("tokens"))
    assert predicted.agents.expected == outcome.agents["launched"]
    assert predicted.total_tokens.expected == tokens
    assert predicted.cost_usd.contains(outcome.usage["cost_usd"], 1e-6)
    # the dry run's virtual clock times the run as the scheduler will run it
    assert abs(predicted.minutes.expected * 60 - elapsed) <= 0.01 * elapsed + 0.01
