"""JavaScript workflows whose agents go through the real ``anthropic`` SDK to the Messages-API simulator."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from workcrew.engine import RunResult, RunStore, Settings, load_workflow, start
from workcrew.engine.providers.anthropic import AnthropicModel
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulator import SimulatorThread

from .conftest import HERE, RunFile

API_KEY = "sk-ant-test-js-dialect"
MODEL = "claude-sonnet-5-5"


async def run_over_http(path: Path, rules: list[dict[str, Any]], args: Any, settings: Settings,
                        store: RunStore) -> RunResult:
    sim = SimulatorThread(Scenario.from_data({"rules": rules})).start()
    try:
        run_settings = settings.model_copy(update={
            "provider": "anthropic", "base_url": sim.url,
            "models": settings.models.model_copy(update={"default": MODEL})})
        client = AnthropicModel.from_settings(run_settings, env={"ANTHROPIC_API_KEY": API_KEY})
        try:
            handle = start(load_workflow(path), args, run_settings, client=client, store=store)
            return await handle.result()
        finally:
            await client.aclose()
    finally:
        sim.stop()


async def test_the_review_workflow_gives_the_same_result_over_http(
        run_file: RunFile, workspace: Path, settings: Settings, store: RunStore) -> None:
    script = workspace / "review.js"
    shutil.copy(HERE / "parity" / "review.js", script)
    rules = json.loads((HERE / "parity" / "review.scenario.json").read_text())["rules"]
    args = {"files": ["a.py", "b.py", "c.py"]}
    in_process = await run_file(script, scenario={"rules": rules}, args=args)
    over_http = await run_over_http(script, rules, args, settings, store)
    assert over_http.status == "succeeded", over_http.error
    assert over_http.result == in_process.result.result
    assert over_http.agents == in_process.result.agents
    assert over_http.usage["input_tokens"] > 0
    assert over_http.usage["cost_usd"] > 0  # priced as the real model, not the free simulated one


async def test_transient_api_errors_are_retried_under_a_js_workflow(
        workspace: Path, settings: Settings, store: RunStore) -> None:
    script = workspace / "flaky.js"
    script.write_text(
        "export const meta = {name: 'flaky', description: 'Survives an overloaded API'}\n"
        "const [a, b] = await parallel([() => agent('first', {label: 'flaky'}), () => agent('second', {label: 'calm'})])\n"
        "return {a, b}\n")
    rules = [{"match": {"label": "flaky", "call": 1}, "respond": {"error": 529, "retry_after": 0}},
             {"match": {"label": "flaky"}, "respond": {"text": "after a retry"}},
             {"match": {"label": "calm"}, "respond": {"text": "first time"}}]
    result = await run_over_http(script, rules, None, settings, store)
    assert result.status == "succeeded", result.error
    assert result.result == {"a": "after a retry", "b": "first time"}
    rows = {row["label"]: row for row in store.get_agents(result.run_id)}
    assert rows["flaky"]["retries"] == 1
    assert rows["calm"]["retries"] == 0
