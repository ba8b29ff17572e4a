"""The same workflow written in both dialects: same result, same agent calls, same events in the same order."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from .conftest import HERE, JsRun, RunFile

PARITY = HERE / "parity"
FILES = ["a.py", "b.py", "c.py"]


def scenario(slow_finder: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PARITY / "review.scenario.json").read_text())
    if slow_finder:  # b.py's finder answers late, so pipelining and barriers order events differently
        for rule in data["rules"]:
            if rule["match"].get("label") == "^find b":
                rule["latency_ms"] = 1500
    return data


async def both(run_file: RunFile, workspace: Path, args: Any, data: dict[str, Any]) -> tuple[JsRun, JsRun]:
    python = workspace / "review.py"
    shutil.copy(PARITY / "review.py.txt", python)
    javascript = workspace / "review.js"
    shutil.copy(PARITY / "review.js", javascript)
    return (await run_file(python, scenario=data, args=args), await run_file(javascript, scenario=data, args=args))


@pytest.mark.parametrize("barrier", [False, True], ids=["pipeline", "barrier"])
async def test_same_result_calls_and_event_order(barrier: bool, run_file: RunFile, workspace: Path) -> None:
    py, js = await both(run_file, workspace, {"files": FILES, "barrier": barrier}, scenario())
    assert py.result.status == js.result.status == "succeeded", (py.result.error, js.result.error)
    assert js.result.result == py.result.result
    assert [b["line"] for b in js.result.result["confirmed"]] == [3, 9]
    assert js.result.logs == py.result.logs
    assert js.result.agents == py.result.agents
    assert (js.result.agents["launched"], js.result.agents["failed"]) == (12, 2)
    assert js.agent_calls() == py.agent_calls()
    assert js.compact() == py.compact()
    assert js.result.failure_reasons == py.result.failure_reasons


async def test_pipeline_has_no_barrier_and_parallel_has_one(run_file: RunFile, workspace: Path) -> None:
    slow = scenario(slow_finder=True)
    for barrier in (False, True):
        py, js = await both(run_file, workspace, {"files": ["a.py", "b.py"], "barrier": barrier}, slow)
        events = js.compact({"agent_queued", "agent_finished"})
        assert events == py.compact({"agent_queued", "agent_finished"})
        first_verify = events.index(("agent_queued", "verify a.py:3#0"))
        slow_find_done = events.index(("agent_finished", "find b.py"))
        # pipeline: a.py is verified while b.py is still being searched; parallel: verification waits for all
        assert (first_verify < slow_find_done) is (not barrier)
