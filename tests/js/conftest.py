"""Fixtures for the JavaScript dialect: run a .js workflow on the simulated model and keep its events."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from workcrew.engine import Event, RunResult, RunStore, Settings, load_workflow, start
from workcrew.engine.providers.base import ModelRequest, ModelResponse
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulated import SimulatedModel

HERE = Path(__file__).resolve().parent


class RecordingModel(SimulatedModel):
    """The in-process simulated model, noting what each request carried (the model client is the network edge
    of these runs): label, model, system prompt, the names of the tools offered and the tool results it answers."""

    def __init__(self, scenario: Scenario) -> None:
        super().__init__(scenario)
        self.requests: list[dict[str, Any]] = []

    async def turn(self, request: ModelRequest) -> ModelResponse:
        self.requests.append({"label": request.label, "model": request.model,
                              "system": "\n".join(str(b.get("text", "")) for b in request.system),
                              "tools": sorted(str(t.get("name")) for t in request.tools),
                              "tool_results": _tool_results(request.messages[-1] if request.messages else None)})
        return await super().turn(request)


def _tool_results(message: dict[str, Any] | None) -> list[str]:
    content = message.get("content") if message and message.get("role") == "user" else None
    return [str(b.get("content")) for b in content or [] if isinstance(b, dict) and b.get("type") == "tool_result"]


@dataclass
class JsRun:
    result: RunResult
    events: list[Event] = field(default_factory=list)
    path: Path | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)  # what the model was sent, in order

    def compact(self, types: set[str] | None = None) -> list[tuple[str, Any]]:
        """(type, label | title | message) per event: enough to compare orders across runs and dialects."""
        out: list[tuple[str, Any]] = []
        for event in self.events:
            if types is not None and event.type not in types:
                continue
            data = event.data
            key = data["agent"]["label"] if "agent" in data else data.get("title", data.get("message"))
            out.append((event.type, key))
        return out

    def agent_calls(self) -> list[dict[str, Any]]:
        """What each agent was asked, in the order the agents were created."""
        seen: dict[str, dict[str, Any]] = {}
        for event in self.events:
            agent = event.data.get("agent")
            if event.type == "agent_queued" and agent and agent["id"] not in seen:
                seen[agent["id"]] = {k: agent[k] for k in ("id", "label", "phase", "model", "prompt_preview")}
        return list(seen.values())


RunFile = Callable[..., Coroutine[Any, Any, JsRun]]


@pytest.fixture
def run_file(settings: Settings, store: RunStore) -> RunFile:
    """``await run_file(path, scenario=..., args=..., **settings_overrides)`` → JsRun (result + all events)."""

    async def run(path: Path, *, scenario: dict[str, Any] | None = None, args: Any = None,
                  **overrides: Any) -> JsRun:
        workflow = load_workflow(path)
        assert not workflow.problems, [str(p) for p in workflow.problems]
        client = RecordingModel(Scenario.from_data(scenario or {"rules": []}))
        handle = start(workflow, args, settings.model_copy(update=overrides), client=client, store=store)
        events = handle.events()
        result = await handle.result()
        collected = [event async for event in events]
        return JsRun(result, collected, path, client.requests)

    return run


@pytest.fixture
def run_js(run_file: RunFile, workspace: Path) -> Callable[..., Coroutine[Any, Any, JsRun]]:
    """``await run_js(source, ...)``: writes the script into the workspace first."""

    async def run(source: str, *, name: str = "wf.js", **kwargs: Any) -> JsRun:
        path = workspace / name
        path.write_text(source)
        return await run_file(path, **kwargs)

    return run
