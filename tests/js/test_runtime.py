"""Run-time behaviour of the JS engine host: faults, limits, cancellation, dry runs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
from workcrew.engine import Settings, load_workflow, start
from workcrew.engine.cost.dryrun import dry_run_sync
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulated import SimulatedModel

from .conftest import JsRun

RunJs = Callable[..., Coroutine[Any, Any, JsRun]]
META = "export const meta = {name: 'rt', description: 'runtime test'}\n"


async def test_memory_is_limited(run_js: RunJs) -> None:
    run = await run_js(META + "const hoard = []\nwhile (true) hoard.push(new Array(100000).fill(7))\n")
    assert run.result.status == "failed"
    assert run.result.error == f"InternalError: out of memory (the limit is 256 MiB per workflow) at {run.path}:3"


async def test_a_promise_that_never_settles_fails_the_run_instead_of_hanging(run_js: RunJs) -> None:
    run = await run_js(META + "await agent('one', {label: 'one'})\nawait new Promise(() => {})\nreturn 'never'\n")
    assert run.result.status == "failed"
    assert run.result.error == (
        "the script is waiting for a promise that can never settle (nothing it awaits is running)")


@pytest.mark.parametrize(("body", "error"), [
    ("throw 'plain string'", "the script threw plain string (throw an Error to see where)"),
    ("return {big: 10n}", "TypeError: the workflow's result is not JSON data: BigInt are forbidden in JSON.stringify"),
    ("undefinedFunction()", "ReferenceError: undefinedFunction is not defined at {path}:2"),
    ("await workflow({scriptPath: 'missing.js'})", "no workflow file at missing.js"),
])
async def test_failures_say_what_and_where(run_js: RunJs, body: str, error: str) -> None:
    run = await run_js(META + body + "\n")
    assert run.result.status == "failed"
    assert run.result.error == error.format(path=run.path)


async def test_results_cross_as_json(run_js: RunJs) -> None:
    run = await run_js(META + "return {u: undefined, f: () => 1, n: null, nested: [1, {d: new Date(0)}], nan: NaN}\n")
    assert run.result.result == {"n": None, "nested": [1, {"d": "1970-01-01T00:00:00.000Z"}], "nan": None}
    empty = await run_js(META + "await agent('x')\n", name="empty.js")
    assert empty.result.status == "succeeded"
    assert empty.result.result is None


async def test_cancelling_a_run_stops_the_script_and_its_agents(settings: Settings, workspace: Path) -> None:
    path = workspace / "slow.js"
    path.write_text(META + "await parallel([1, 2, 3].map(i => () => agent(`slow ${i}`, {label: `slow ${i}`})))\n"
                    "return 'finished'\n")
    client = SimulatedModel(Scenario.from_data({"rules": [{"match": {}, "respond": {"text": "late"},
                                                           "latency_ms": 30_000}]}))
    handle = start(load_workflow(path), None, settings, client=client)
    events = handle.events()
    async for event in events:
        if event.type == "agent_started":
            break
    handle.cancel()
    result = await asyncio.wait_for(handle.result(), 10)
    assert result.status == "cancelled"
    assert result.agents["succeeded"] == 0


def test_a_dry_run_counts_the_agents_a_js_workflow_would_start(workspace: Path, settings: Settings) -> None:
    path = workspace / "plan.js"
    path.write_text(META.replace("'rt'", "'plan'") + "phase('Find')\n"
                    "const found = await parallel(args.files.map(f => () => agent(`Find in ${f}`, {label: f})))\n"
                    "phase('Verify')\n"
                    "await pipeline(found, x => agent(`Verify ${x}`, {label: 'verify'}))\n")
    dry = dry_run_sync(load_workflow(path), {"files": ["a", "b", "c"]}, settings, Scenario.from_data({"rules": []}))
    assert dry.status == "succeeded", dry.error
    assert len(dry.agents) == 6
    assert dry.phases == ["Find", "Verify"]


async def test_agents_started_without_await_finish_before_the_run_ends(run_js: RunJs) -> None:
    run = await run_js(META + "agent('fire and forget', {label: 'floating'})\nreturn 'returned first'\n",
                       scenario={"rules": [{"match": {}, "respond": {"text": "done"}, "latency_ms": 50}]})
    assert run.result.status == "succeeded"
    assert run.result.result == "returned first"
    assert run.result.agents["succeeded"] == 1
    assert "unfinished" not in run.result.agents


async def test_waiting_on_a_cleared_timer_is_reported(run_js: RunJs) -> None:
    run = await run_js(META + "await new Promise(resolve => clearTimeout(setTimeout(resolve, 10)))\n")
    assert run.result.status == "failed"
    assert "can never settle" in (run.result.error or "")
