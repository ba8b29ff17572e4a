"""Fixtures: the Messages-API simulator on 127.0.0.1:0 in a background thread, and the real SDK pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from workcrew.engine import RunResult, RunStore, Settings, load_workflow, start
from workcrew.engine.providers.anthropic import AnthropicModel
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulator import SimulatorThread

API_KEY = "sk-ant-test-5f2c9d1e-never-log-me"


@pytest.fixture
def simulator() -> Iterator[Callable[..., SimulatorThread]]:
    """``simulator(rules, **options)`` starts a simulator answering from ``rules``; all are stopped after."""
    started: list[SimulatorThread] = []

    def make(rules: list[dict[str, Any]] | None = None, **options: Any) -> SimulatorThread:
        sim = SimulatorThread(Scenario.from_data({"rules": rules or []}), **options).start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()


def model_for(sim: SimulatorThread, **settings: Any) -> AnthropicModel:
    """The production client path: settings + environment → AsyncAnthropic over HTTP to the simulator."""
    base = Settings(provider="anthropic", base_url=sim.url, **settings)
    return AnthropicModel.from_settings(base, env={"ANTHROPIC_API_KEY": API_KEY})


@pytest.fixture
def run_api(settings: Settings, store: RunStore, tmp_path: Path) -> Callable[..., Any]:
    """``await run_api(sim, body, args=..., js=False, meta=None, **settings)`` runs a script through the real
    SDK → RunResult (``meta``: the script's meta line instead of the default one)."""

    async def run(sim: SimulatorThread, body: str, *, args: Any = None, js: bool = False, meta: str | None = None,
                  **overrides: Any) -> RunResult:
        import textwrap

        if js:  # Claude Code's dialect
            path = tmp_path / "wf.js"
            path.write_text((meta or "export const meta = {name: 't', description: 'test workflow'}") + "\n"
                            + textwrap.dedent(body))
        else:
            path = tmp_path / "wf.py"
            path.write_text((meta or 'meta = {"name": "t", "description": "test workflow"}') + "\n"
                            + textwrap.dedent(body))
        workflow = load_workflow(path)
        assert not workflow.problems, workflow.problems
        run_settings = settings.model_copy(update={"provider": "anthropic", "base_url": sim.url,
                                                   "models": settings.models.model_copy(
                                                       update={"default": "claude-sonnet-5-5"}), **overrides})
        client = model_for(sim, stall_timeout_s=run_settings.stall_timeout_s)
        handle = start(workflow, args, run_settings, client=client, store=store)
        run.handle = handle  # type: ignore[attr-defined]
        try:
            return await handle.result()
        finally:
            await client.aclose()

    return run

