"""A distributed run behaves as a local one: the hard budget holds and a later run reuses finished agents."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from workcrew.engine import RunStore, Settings, load_workflow, start
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulated import SimulatedModel
from workcrew.engine.runtime.resume import ResumeCache

from .cluster import Cluster, start_cluster

FIX = [{"name": "read_file", "input": {"path": "calc.py"}},
       {"name": "edit_file", "input": {"path": "calc.py", "old": "return a - b", "new": "return a + b"}}]
SCENARIO = {"rules": [{"match": {"label": "^fix"}, "respond": {"tool_calls": FIX, "text": "fixed"}}]}


def _script(tmp_path: Path, agents: int) -> Path:
    script = tmp_path / "fixers.py"
    script.write_text('meta = {"name": "fixers", "description": "isolated fixers"}\n' + textwrap.dedent(f"""
        done = await parallel([lambda i=i: agent(f"Fix calc.py, take {{i}}", label=f"fix {{i}}",
                                                 isolation="worktree") for i in range({agents})])
        return len([d for d in done if d])
    """))
    return script


async def test_the_hard_budget_holds_on_workers(cluster: Cluster, workspace: Path, settings: Settings,
                                                store: RunStore, tmp_path: Path) -> None:
    (workspace / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    cap = 6_000
    run_settings = settings.model_copy(update={"executor": "distributed", "cluster": cluster.address,
                                               "budget_tokens": cap, "concurrency": 1, "max_tokens": 256})
    result = await start(load_workflow(_script(tmp_path, 40)), None, run_settings,
                         client=SimulatedModel(Scenario.from_data(SCENARIO)), store=store).result()
    # agents that would not fit fail with the budget's reason; the cap is never crossed
    assert set(result.failure_reasons) == {"budget"} and result.agents["succeeded"] >= 1
    spent = sum(result.usage[k] for k in ("input_tokens", "output_tokens", "cache_creation_input_tokens",
                                           "cache_read_input_tokens"))
    assert 0 < spent <= cap
    assert result.agents["succeeded"] < 40


async def test_a_later_run_reuses_what_workers_finished(cluster: Cluster, workspace: Path, settings: Settings,
                                                        store: RunStore, tmp_path: Path) -> None:
    (workspace / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    run_settings = settings.model_copy(update={"executor": "distributed", "cluster": cluster.address})
    script = _script(tmp_path, 8)
    first = await start(load_workflow(script), None, run_settings,
                        client=SimulatedModel(Scenario.from_data(SCENARIO)), store=store).result()
    assert first.status == "succeeded" and first.result == 8, first.error
    again = await start(load_workflow(script), None, run_settings, client=SimulatedModel(Scenario.from_data(SCENARIO)),
                        store=store, resume=ResumeCache.load(store, first.run_id, "fixers", settings=run_settings)
                        ).result()
    assert again.status == "succeeded" and again.result == 8
    assert again.agents["cached"] == 8 and again.usage["input_tokens"] == 0
    assert [row["patch"] for row in store.get_agents(again.run_id)] == [row["patch"] for row in
                                                                        store.get_agents(first.run_id)]


async def test_concurrency_256_is_held_to_the_workers_slots(cluster: Cluster, workspace: Path, settings: Settings,
                                                            store: RunStore, tmp_path: Path) -> None:
    (workspace / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    run_settings = settings.model_copy(update={"executor": "distributed", "cluster": cluster.address,
                                               "concurrency": 256})
    scenario = Scenario.from_data({**SCENARIO, "default_latency_ms": 30})
    handle = start(load_workflow(_script(tmp_path, 40)), None, run_settings, client=SimulatedModel(scenario),
                   store=store)
    running, peak = 0, 0

    def count(event: object) -> None:
        nonlocal running, peak
        kind = getattr(event, "type", "")
        running += {"agent_started": 1, "agent_finished": -1, "agent_failed": -1}.get(kind, 0)
        peak = max(peak, running)

    handle.listen(count)
    result = await handle.result()
    assert result.status == "succeeded" and result.result == 40, result.error
    slots = 16  # two workers of 8 slots (conftest)
    assert any(f"at most {slots} agents run at once" in line for line in result.logs), result.logs
    assert slots // 2 < peak <= slots


async def test_a_worker_without_an_os_sandbox_serves_no_agent(workspace: Path, settings: Settings, store: RunStore,
                                                               tmp_path: Path) -> None:
    """Even where this machine would allow unsandboxed commands: the approval judged this machine only."""
    cluster = start_cluster()
    try:
        cluster.add_worker("boxed")
        # no bubblewrap on its PATH (Ray and Workcrew are found by absolute path)
        cluster.add_worker("nobox", env={"PATH": str(Path(sys.executable).parent)})
        (workspace / "calc.py").write_text("def add(a, b):\n    return a - b\n")
        run_settings = settings.model_copy(update={"executor": "distributed", "cluster": cluster.address,
                                                   "allow_unsandboxed_commands": True})
        result = await start(load_workflow(_script(tmp_path, 6)), None, run_settings,
                             client=SimulatedModel(Scenario.from_data(SCENARIO)), store=store).result()
        assert result.status == "succeeded" and result.result == 6, result.error
        assert {row["worker"] for row in store.get_agents(result.run_id)} == {"boxed"}
        assert any("worker nobox is left out of this run: it has no OS sandbox" in line for line in result.logs)
    finally:
        cluster.stop()
