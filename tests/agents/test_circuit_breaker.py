"""The circuit breaker, over the real SDK against the simulator: when the API says the account cannot go on
(a usage limit, billing, credentials), no agent starts after the first such answer, the run ends `stopped`
with every finished result kept, and resuming once the limit lifts re-runs nothing that finished."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from workcrew.engine import RunStore, Settings, load_workflow, start
from workcrew.engine.providers.simulator import SimulatorThread
from workcrew.engine.runtime.resume import ResumeCache

from .conftest import model_for

FAN_OUT = """meta = {"name": "sweep", "description": "sixty agents"}
out = await parallel([agent(f"task {i}", label=f"a{i}") for i in range(60)])
return {"succeeded": out.succeeded, "answers": list(out)}
"""
LIMIT = "You have reached your specified API usage limits. You will regain access on 2027-01-01 at 00:00 UTC."
ACCOUNT_FAULTS = [
    (400, LIMIT, "usage limit"),
    (400, "Your credit balance is too low to access the Anthropic API.", "billing or credit"),
    (401, "invalid x-api-key", "refused the credentials"),
    (403, "This API key does not have permission to use the specified resource.", "permission denied"),
    (429, "This request would exceed your organization's monthly usage limit.", "usage limit"),
]


async def run(sim: SimulatorThread, settings: Settings, store: RunStore, path: Path,
              resume: ResumeCache | None = None) -> Any:
    path.write_text(FAN_OUT)
    run_settings = settings.model_copy(update={"provider": "anthropic", "base_url": sim.url, "concurrency": 4,
                                               "models": settings.models.model_copy(
                                                   update={"default": "claude-sonnet-5-5"})})
    client = model_for(sim)
    handle = start(load_workflow(path), None, run_settings, client=client, store=store, resume=resume)
    try:
        return await handle.result()
    finally:
        await client.aclose()


def from_agent(index: int) -> str:
    """A label pattern for agents a{index} and after (a20 … a59 for 20)."""
    tens, ones = divmod(index, 10)
    return rf"^a({tens}[{ones}-9]|[{tens + 1}-9][0-9])$"


@pytest.mark.parametrize(("status", "message", "reason"), ACCOUNT_FAULTS,
                         ids=["usage-limit", "billing", "credentials", "permission", "monthly-limit-429"])
async def test_no_agent_starts_after_the_account_says_stop(
        simulator: Callable[..., SimulatorThread], settings: Settings, store: RunStore, tmp_path: Path,
        status: int, message: str, reason: str) -> None:
    sim = simulator([{"match": {"label": from_agent(20)}, "respond": {"error": status, "message": message}},
                     {"respond": {"text": "done"}, "latency_ms": 20}])
    result = await run(sim, settings, store, tmp_path / "sweep.py")
    assert result.status == "stopped" and reason in (result.error or ""), result.error
    agents = {row["label"]: row for row in store.get_agents(result.run_id)}
    failed = [row for row in agents.values() if row["error_kind"] == "stopped"]
    first_stop = min(row["finished_at"] for row in failed)
    started = [row for row in agents.values() if row.get("started_at")]
    assert all(row["started_at"] <= first_stop for row in started), "an agent started after the account said stop"
    # the API saw no request for an agent that started after the stop, and no retry of the refused ones
    assert len(sim.server.requests) == len(started)
    # every finished result is kept; the rest are counted as not started, nothing unaccounted for
    counts = result.agents
    assert counts["succeeded"] == sum(row["state"] == "succeeded" for row in agents.values()) >= 20
    assert counts["launched"] == 60 == counts["succeeded"] + counts["failed"] + counts["cached"] + counts["not_started"]
    assert counts["not_started"] == sum(row["state"] == "not_started" for row in agents.values()) > 30
    assert len(failed) <= 4  # at most the agents already in flight at the concurrency of 4
    assert any("run stopped:" in line for line in result.logs)
    assert store.get_run(result.run_id)["status"] == "stopped"


async def test_resuming_after_the_limit_lifts_reruns_nothing_that_finished(
        simulator: Callable[..., SimulatorThread], settings: Settings, store: RunStore, tmp_path: Path) -> None:
    limited = simulator([{"match": {"label": from_agent(20)}, "respond": {"error": 400, "message": LIMIT}},
                         {"respond": {"text": "done"}, "latency_ms": 20}])
    stopped = await run(limited, settings, store, tmp_path / "sweep.py")
    assert stopped.status == "stopped"
    finished = {row["label"] for row in store.get_agents(stopped.run_id) if row["state"] == "succeeded"}
    lifted = simulator([{"respond": {"text": "done"}, "latency_ms": 5}])
    resumed = await run(lifted, settings, store, tmp_path / "sweep.py",
                        resume=ResumeCache.load(store, stopped.run_id, "sweep"))
    assert resumed.status == "succeeded", resumed.error
    assert resumed.result["succeeded"] == 60 and resumed.result["answers"] == ["done"] * 60
    assert resumed.agents["cached"] == len(finished)
    asked = {request["headers"].get("x-workcrew-label") for request in lifted.server.requests}
    assert not asked & finished, "a finished agent was asked (and billed) again"
    assert len(lifted.server.requests) == 60 - len(finished)


async def test_an_ordinary_bad_request_fails_one_agent_not_the_run(
        simulator: Callable[..., SimulatorThread], settings: Settings, store: RunStore, tmp_path: Path) -> None:
    sim = simulator([{"match": {"label": "^a7$"}, "respond": {"error": 400, "message": "messages: field required"}},
                     {"respond": {"text": "done"}}])
    result = await run(sim, settings, store, tmp_path / "sweep.py")
    assert result.status == "succeeded" and result.agents["failed"] == 1 and result.agents["succeeded"] == 59
    assert "not_started" not in result.agents
