"""No silent failure through the bridge: what broke a run before, and what happens when the engine fails.

The first three are the minimal cases that failed, hung or reported a clean pass over nothing run
(non-Latin-1 text past QuickJS's rope threshold). The rest drive the engine's own failures: every one
ends counted, with its reason, and the run never hangs or ends "succeeded" over an engine fault.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
from workcrew.engine.runtime.context import ScriptContext

from .conftest import JsRun

RunJs = Callable[..., Coroutine[Any, Any, JsRun]]
META = "export const meta = {name: 'f', description: 'x'}\n"


async def test_a_long_log_line_with_an_em_dash(run_js: RunJs) -> None:
    run = await run_js(META + "log('—' + 'x'.repeat(600))\n")
    assert run.result.status == "succeeded", run.result.error
    assert run.result.logs == ["—" + "x" * 600]


async def test_a_long_log_line_after_an_await_ends_the_run(run_js: RunJs) -> None:
    run = await asyncio.wait_for(run_js(META + "await agent('one', {label: 'a'})\nlog('—' + 'x'.repeat(600))\n"), 10)
    assert run.result.status == "succeeded", run.result.error
    assert run.result.logs == ["—" + "x" * 600]
    assert run.result.agents["launched"] == run.result.agents["succeeded"] == 1


async def test_a_long_prompt_in_a_fan_out_really_runs(run_js: RunJs) -> None:
    prompt = "'Check app.py — list real bugs. ' + 'Be specific. '.repeat(45)"
    run = await run_js(META + f"const r = await parallel([() => agent({prompt}, {{label: 'a'}})])\n"
                       "return {r, launched: r.launched, failed: r.failed}\n",
                       scenario={"rules": [{"match": {"label": "^a$"}, "respond": {"text": "two bugs — see below"}}]})
    assert run.result.status == "succeeded", run.result.error
    assert run.result.result == {"r": ["two bugs — see below"], "launched": 1, "failed": 0}
    assert run.result.agents["launched"] == run.result.agents["succeeded"] == 1
    queued = next(e for e in run.events if e.type == "agent_queued")
    assert queued.data["agent"]["prompt_preview"].startswith("Check app.py — list real bugs.")


DEEP = "let d = []; for (let i = 0; i < 3000; i++) d = [d]\n"


async def test_call_arguments_nested_too_deeply_reject_the_call_not_the_run(run_js: RunJs) -> None:
    run = await run_js(META + DEEP + "let caught = null\n"
                       "try { await agent('x', {label: 'a', schema: {type: 'object', properties: {d: {const: d}}}}) }"
                       " catch (e) { caught = `${e.name}: ${e.message}` }\n"
                       "return {caught, after: await agent('still running', {label: 'b'})}\n")
    assert run.result.status == "succeeded", run.result.error
    assert run.result.result["caught"] == ("TypeError: agent(): the arguments are nested too deeply to pass to the "
                                           "engine (keep data under 500 levels)")
    assert run.result.result["after"] == "Simulated answer for: b"


async def test_a_result_nested_too_deeply_fails_the_run_with_the_reason(run_js: RunJs) -> None:
    run = await run_js(META + DEEP + "return d\n")
    assert run.result.status == "failed"
    assert run.result.error == "the workflow's result is nested too deeply to pass back (keep results under 500 levels)"


async def test_deep_json_within_the_limit_crosses_both_ways(run_js: RunJs, workspace: Path) -> None:
    nested: Any = "core — 核"
    for _ in range(240):  # 480 levels
        nested = {"k": [nested]}
    folder = workspace / ".claude" / "workflows"
    folder.mkdir(parents=True)
    (folder / "echo.js").write_text("export const meta = {name: 'echo', description: 'x'}\nreturn args\n")
    run = await run_js(META + "const d = args.d\nconst echoed = await workflow('echo', {d})\nreturn [d, echoed.d]\n",
                       args={"d": nested})
    assert run.result.status == "succeeded", run.result.error
    assert run.result.result == [nested, nested]


async def test_a_hostile_answer_nested_too_deeply_fails_that_agent_only(run_js: RunJs) -> None:
    deep = '{"a":' + "[" * 5000 + "]" * 5000 + "}"
    run = await run_js(META + "const r = await parallel([() => agent('x', {label: 'deep', schema: {type: 'object'}}),"
                       " () => agent('y', {label: 'fine'})])\nreturn {r: [...r], failed: r.failed, reasons: r.reasons}\n",
                       scenario={"rules": [{"match": {"label": "^deep$"}, "respond": {"text": deep}}]},
                       schema_attempts=1)
    assert run.result.status == "succeeded", run.result.error
    assert run.result.result["r"] == [None, "Simulated answer for: fine"]
    assert run.result.result["failed"] == 1
    assert "nested too deeply" in run.result.result["reasons"]["0"]
    assert run.result.agents == {"launched": 2, "succeeded": 1, "failed": 1, "cached": 0, "running": 0}
    assert run.result.failure_reasons == {"schema": 1}


async def test_an_engine_fault_handling_a_message_fails_the_run_at_once(
        run_js: RunJs, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_log(self: ScriptContext, message: Any) -> None:
        raise RuntimeError("the log sink is gone")

    monkeypatch.setattr(ScriptContext, "log", broken_log)
    run = await asyncio.wait_for(run_js(META + "await agent('one', {label: 'a'})\nlog('after the await')\n"
                                        "await agent('two', {label: 'b'})\n"), 5)
    assert run.result.status == "failed"
    assert run.result.error == ("the engine could not handle the script's 'log' message "
                                "(RuntimeError: the log sink is gone)")
    assert run.result.agents["launched"] == 1  # nothing started after the fault


async def test_thunks_that_throw_are_counted_on_the_run(run_js: RunJs) -> None:
    run = await run_js(META + "const r = await parallel([() => { throw new RangeError('no — such item') },"
                       " () => agent('ok', {label: 'a'})])\n"
                       "const p = await pipeline([1, 2], (x) => { if (x === 2) throw new Error('stage broke'); return x })\n"
                       "return [r.failed, p.failed]\n")
    assert run.result.status == "succeeded"
    assert run.result.result == [1, 1]
    assert run.result.script_failures == 2
    assert run.result.script_failure_reasons == [
        "parallel() slot 0: RangeError: no — such item",
        "pipeline() item 1: stage 1: Error: stage broke",
    ]
    assert run.result.to_json()["script_failures"]["count"] == 2


async def test_unknown_options_and_meta_keys_are_warned_once_per_run(run_js: RunJs) -> None:
    run = await run_js("export const meta = {name: 'f', description: 'x', version: 2}\n"
                       "for (let i = 0; i < 3; i++) await agent('x', {label: `a${i}`, retries: 2})\n"
                       "phase('Scan', {detail: 'every file'})\n")
    assert run.result.status == "succeeded"
    assert run.result.logs == [
        "warning: 1:1: meta key 'version' is not used by Workcrew and was ignored",
        "warning: agent(): unknown option 'retries' was ignored (the options are label, phase, schema, model, "
        "effort, isolation, agentType, timeout, tools)",
    ]
    phase = next(e for e in run.events if e.type == "phase_started")
    assert phase.data == {"title": "Scan", "options": {"detail": "every file"}, "detail": "every file"}
