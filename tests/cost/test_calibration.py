"""Calibration: a finished run's measured per-role figures move the next estimate of the same workflow."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from workcrew.engine import RunStore, Settings, Workflow, start
from workcrew.engine.cost.calibration import estimate_vs_actual, load_calibration
from workcrew.engine.cost.estimate import estimate
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulated import SimulatedModel

from .conftest import FINDERS

# the "real" model answers at length: far more output per finder than the prior assumes
VERBOSE = {"rules": [
    {"match": {"label": "^find"}, "respond": {"json": {"bugs": [{"line": 1}]}}, "usage": {"output_tokens": 4000}},
    {"match": {"label": "^verify"}, "respond": {"json": {"ok": True}}, "usage": {"output_tokens": 50}},
]}


def role(estimate_json_or_model: object, name: str) -> dict[str, float]:
    rows = getattr(estimate_json_or_model, "by_role", None)
    assert rows is not None
    return next(r.model_dump() for r in rows if r.role == name)


async def test_second_estimate_moves_toward_what_the_first_run_spent(
        tmp_path: Path, store: RunStore, write_workflow: Callable[..., Workflow]) -> None:
    workflow = write_workflow(FINDERS, name="calibrated")
    settings = Settings(workspace=tmp_path, provider="anthropic", state_dir=tmp_path / "state")
    args = {"files": ["a.py", "b.py"]}
    first = await estimate(workflow, args, None, settings, store=store)
    assert first.calibrated_runs == 0

    handle = start(workflow, args, settings, client=SimulatedModel(Scenario.from_data(VERBOSE)), store=store,
                   estimate=first.to_json())
    outcome = await handle.result()
    assert outcome.status == "succeeded"
    store.flush()
    agents = store.get_agents(outcome.run_id)
    actual_out = sum(a["output_tokens"] for a in agents if a["role"] == "finder") / 2

    second = await estimate(workflow, args, None, settings, store=store)
    assert second.calibrated_runs == 1
    before, after = role(first, "finder"), role(second, "finder")
    assert abs(after["output_per_agent"] - actual_out) < abs(before["output_per_agent"] - actual_out)
    assert after["output_per_agent"] == actual_out and after["calibrated"]
    # the uncalibrated figure is kept, so the next run's ratio is not compounded
    assert after["base_output_per_agent"] == before["base_output_per_agent"]
    assert second.output_tokens.expected > first.output_tokens.expected


async def test_calibration_is_per_workflow_and_provider(tmp_path: Path, store: RunStore,
                                                        write_workflow: Callable[..., Workflow]) -> None:
    workflow = write_workflow(FINDERS, name="mine")
    settings = Settings(workspace=tmp_path, provider="anthropic")
    args = {"files": ["a.py"]}
    first = await estimate(workflow, args, None, settings, store=store)
    handle = start(workflow, args, settings, client=SimulatedModel(Scenario.from_data(VERBOSE)), store=store,
                   estimate=first.to_json())
    await handle.result()
    store.flush()
    assert load_calibration(store, "mine", "anthropic", "priors")[1] == 1
    assert load_calibration(store, "other-workflow", "anthropic", "priors")[1] == 0
    assert load_calibration(store, "mine", "simulated", "priors")[1] == 0


async def test_a_run_keeps_its_estimate_next_to_its_actuals(tmp_path: Path, store: RunStore,
                                                            write_workflow: Callable[..., Workflow]) -> None:
    workflow = write_workflow('await parallel([agent("task " + str(i)) for i in range(3)])', name="kept")
    settings = Settings(workspace=tmp_path, provider="simulated")
    first = await estimate(workflow, None, None, settings)
    handle = start(workflow, None, settings, client=SimulatedModel(Scenario()), store=store, estimate=first.to_json())
    outcome = await handle.result()
    store.flush()
    compared = estimate_vs_actual(store.get_run(outcome.run_id) or {})
    assert compared is not None
    assert compared["tokens"]["error"] == 0 and compared["tokens"]["in_range"]
    assert compared["agents"]["actual"] == 3 and compared["cost_usd"]["in_range"]


async def test_show_prints_estimate_vs_actual(tmp_path: Path, store: RunStore,
                                             write_workflow: Callable[..., Workflow]) -> None:
    from click.testing import CliRunner
    from workcrew.engine.cli import cli

    workflow = write_workflow('await agent("one", label="one")', name="shown")
    settings = Settings(workspace=tmp_path, provider="simulated")
    first = await estimate(workflow, None, None, settings)
    handle = start(workflow, None, settings, client=SimulatedModel(Scenario()), store=store, estimate=first.to_json())
    outcome = await handle.result()
    store.flush()
    shown = CliRunner().invoke(cli, ["show", outcome.run_id, "--state-dir", str(store.state_dir)])
    assert shown.exit_code == 0, shown.output
    assert "estimate vs actual: tokens" in shown.output and "outside the estimated range" not in shown.output
