"""The conformance suite: Claude-dialect scripts under scripts/, each with its expected outcome beside it.

``NN_name.js`` runs against the in-process simulated model with ``NN_name.json``: ``args``,
``scenario``, ``settings`` overrides, extra ``workflows`` saved in the project, and ``expect``:
status, result, error, logs, agent counts, the order of selected events (``events``, ``orders``) and
happens-before pairs (``before``: what a barrier or its absence guarantees).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from .conftest import HERE, RunFile

SCRIPTS = sorted((HERE / "scripts").glob("*.js"))
DEFAULT_EVENT_TYPES = {"phase_started", "agent_queued", "agent_started", "agent_finished", "agent_failed"}


def test_the_suite_is_large_enough() -> None:
    assert len(SCRIPTS) >= 15


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
async def test_script(script: Path, run_file: RunFile, workspace: Path) -> None:
    spec: dict[str, Any] = json.loads(script.with_suffix(".json").read_text())
    folder = workspace / ".claude" / "workflows"
    for name, text in spec.get("workflows", {}).items():
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    for name in spec.get("files", []):
        shutil.copy(HERE / "scripts" / name, folder / name)
    path = workspace / script.name
    shutil.copy(script, path)
    run = await run_file(path, scenario=spec.get("scenario"), args=spec.get("args"), **spec.get("settings", {}))
    expect = spec["expect"]
    outcome = run.result
    assert outcome.status == expect["status"], outcome.error
    if "result" in expect:
        assert outcome.result == expect["result"]
    if "error_suffix" in expect:
        assert outcome.error is not None
        assert outcome.error.endswith(expect["error_suffix"].format(path=path)), outcome.error
    if "error_contains" in expect:
        assert expect["error_contains"] in (outcome.error or "")
    if "logs" in expect:
        assert outcome.logs == expect["logs"]
    for key, value in expect.get("agents", {}).items():
        assert outcome.agents.get(key, 0) == value, (key, outcome.agents)
    if "events" in expect:
        types = set(expect.get("event_types", DEFAULT_EVENT_TYPES))
        assert run.compact(types) == [tuple(e) for e in expect["events"]]
    for order in expect.get("orders", []):  # the sequence of some event types
        assert run.compact(set(order["types"])) == [tuple(e) for e in order["events"]]
    everything = run.compact()
    for first, second in expect.get("before", []):  # happens-before pairs, e.g. barrier or no barrier
        assert everything.index(tuple(first)) < everything.index(tuple(second)), (first, second)
