"""200 isolated agents and their checks on two workers; one worker is killed mid-run.

The run completes, every agent that had finished is kept (its model turns were made once), the agents in
flight on the lost worker run again on the other one, what the lost attempts spent is counted once, and the
result equals a local run's."""

from __future__ import annotations

import asyncio
import textwrap
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from workcrew.engine import RunStore, Settings, load_workflow, start
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulated import SimulatedModel

from .cluster import Cluster, RecordingModel, start_cluster

AGENTS = 200
KILL_AFTER = 60  # finished agents
CALC = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n"
SCRIPT = textwrap.dedent(f"""
    meta = {{"name": "fix-and-check", "description": "isolated fixers, each judged by a check"}}

    async def one(i):
        fixed = await agent(f"Fix add() in calc.py, attempt {{i}}", label=f"fix {{i}}", isolation="worktree")
        verdict = await check("grep -c 'a + b' calc.py", isolation=fixed)
        return {{"i": i, "exit": verdict["exit_code"], "out": verdict["stdout"].strip(),
                "patch": fixed.patch.diff if fixed.patch else None}}

    results = await parallel([lambda i=i: one(i) for i in range({AGENTS})])
    return {{"passed": sum(1 for r in results if r["exit"] == 0), "results": results}}
""")
RULES = {"default_latency_ms": 40, "rules": [{"match": {"label": "^fix"}, "respond": {"tool_calls": [
    {"name": "read_file", "input": {"path": "calc.py"}},
    {"name": "edit_file", "input": {"path": "calc.py", "old": "return a - b", "new": "return a + b"}}],
    "text": "fixed add()"}}]}


@pytest.fixture
def own_cluster() -> Iterator[Cluster]:
    """Its own cluster: this test kills a worker."""
    cluster = start_cluster()
    try:
        cluster.add_worker("w1")
        cluster.add_worker("w2")
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def project(workspace: Path) -> Path:
    (workspace / "calc.py").write_text(CALC)
    (workspace / "README.md").write_text("calculator\n")
    return workspace


async def _run(settings: Settings, store: RunStore, tmp_path: Path, client: SimulatedModel,
               on_event: Any = None) -> Any:
    script = tmp_path / "fix_and_check.py"
    script.write_text(SCRIPT)
    handle = start(load_workflow(script), None, settings, client=client, store=store)
    if on_event is not None:
        handle.listen(on_event)
    return await handle.result()


async def test_a_worker_killed_mid_run_loses_nothing_finished(own_cluster: Cluster, project: Path, settings: Settings,
                                                               store: RunStore, tmp_path: Path) -> None:
    base = settings.model_copy(update={"command_allowlist": ["grep"], "concurrency": 16})
    local = await _run(base, store, tmp_path, SimulatedModel(Scenario.from_data(RULES)))
    assert local.status == "succeeded", local.error

    client = RecordingModel(Scenario.from_data(RULES))
    finished_before_kill: set[str] = set()
    finished: list[str] = []
    killed: list[asyncio.Future[None]] = []
    loop = asyncio.get_running_loop()

    def on_event(event: Any) -> None:
        if event.type == "agent_finished":
            finished.append(event.data["agent"]["label"])
            if len(finished) == KILL_AFTER and not killed:
                finished_before_kill.update(finished)
                killed.append(loop.run_in_executor(None, own_cluster.kill_worker, "w2"))

    distributed = base.model_copy(update={"executor": "distributed", "cluster": own_cluster.address})
    result = await _run(distributed, store, tmp_path, client, on_event)
    await asyncio.gather(*killed)
    assert killed, "the worker was never killed: the run ended too soon"
    assert result.status == "succeeded", (result.error, result.logs[-5:])
    assert result.result == local.result  # the same answer as on this machine
    assert result.result["passed"] == AGENTS

    rows = store.get_agents(result.run_id)
    assert len(rows) == AGENTS and {r["state"] for r in rows} == {"succeeded"}
    by_label = {r["label"]: r for r in rows}
    # agents that finished before the kill: kept, never run again (one first turn each)
    assert {by_label[label]["worker"] for label in finished_before_kill} == {"w1", "w2"}
    first_turns = client.first_turns
    assert all(first_turns[label] == 1 for label in finished_before_kill)
    # the agents in flight on w2 ran again, on w1; every other agent ran once
    rerun = {label for label, count in first_turns.items() if count > 1}
    assert rerun, "no agent was in flight on the killed worker"
    assert all(first_turns[label] == 2 and by_label[label]["worker"] == "w1" for label in rerun)
    assert sum(first_turns.values()) == AGENTS + len(rerun)
    print(f"finished before the kill: {len(finished_before_kill)}; run again after the kill: {len(rerun)}; "
          f"agents per worker: {dict(Counter(r['worker'] for r in rows))}")
    assert any("worker w2 was lost" in line for line in result.logs)
    # what the lost attempts spent is counted once, in the run and in their agents' rows
    run = store.get_run(result.run_id)
    assert run is not None
    assert run["input_tokens"] == sum(r["input_tokens"] for r in rows)
    assert run["input_tokens"] > local.usage["input_tokens"]
