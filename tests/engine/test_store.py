"""The run store: WAL SQLite that a second process can read while a run is being written."""

from __future__ import annotations

import json
import sqlite3
import sys
import textwrap

import anyio
from workcrew.engine import load_workflow, start
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulated import SimulatedModel

READER = textwrap.dedent("""
    import json, sys
    from workcrew.engine import RunStore
    store = RunStore(sys.argv[1])
    run = store.get_run(sys.argv[2])
    print(json.dumps({"status": run["status"], "agents": [a["state"] for a in store.get_agents(run["id"])]}))
""")


async def test_second_process_reads_a_run_in_progress(settings, store) -> None:
    source = ('meta = {"name": "slow", "description": "d"}\n'
              "await parallel([agent(f'a {i}', label=f'a{i}') for i in range(3)])\nreturn 'done'\n")
    client = SimulatedModel(Scenario.from_data({"default_latency_ms": 30_000}))
    handle = start(load_workflow("<inline>", source=source), None, settings, client=client, store=store)
    with anyio.fail_after(30):
        async for event in handle.events():
            if event.type == "agent_started" and event.data["agent"]["seq"] == 3:
                break
        await anyio.to_thread.run_sync(store.flush)
        done = await anyio.run_process(
            [sys.executable, "-c", READER, str(store.state_dir), handle.run_id], check=False)
        handle.cancel()
        result = await handle.result()
    assert done.returncode == 0, done.stderr.decode()
    seen = json.loads(done.stdout)
    assert seen == {"status": "running", "agents": ["running", "running", "running"]}
    assert result.status == "cancelled"


async def test_database_uses_wal(store) -> None:
    db = sqlite3.connect(store.path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


async def test_results_events_logs_and_agents_are_persisted(run_script, store) -> None:
    body = """
    phase("Work")
    log("hello")
    out = await agent("say hi", label="greeter")
    return {"said": out}
    """
    result = await run_script(body, scenario={"rules": [{"match": {"label": "greeter"}, "respond": {"text": "hi"}}]})
    store.flush()
    run = store.get_run(result.run_id)
    assert run is not None
    assert run["status"] == "succeeded" and run["result"] == {"said": "hi"}
    assert run["launched"] == 1 and run["succeeded"] == 1 and run["input_tokens"] > 0
    assert store.get_logs(result.run_id) == ["hello"]
    types = [e["type"] for e in store.get_events(result.run_id)]
    assert types[0] == "run_started" and types[-1] == "run_finished"
    assert {"phase_started", "log"} <= set(types)
    # an agent's lifecycle events are not stored: its row is the record (state, times, usage, result)
    assert not {"agent_queued", "agent_started", "agent_finished"} & set(types)
    (agent,) = store.get_agents(result.run_id)
    assert (agent["label"], agent["phase"], agent["state"], agent["result"]) == ("greeter", "Work", "succeeded", "hi")
    assert agent["output_tokens"] == 1 and agent["attempts"] == 0 and agent["started_at"] <= agent["finished_at"]
    # prefix lookup, as `workcrew show` accepts
    assert store.get_run(result.run_id[:8])["id"] == result.run_id


async def test_failed_agent_keeps_its_error(run_script, store) -> None:
    scenario = {"rules": [{"match": {"label": "bad"}, "respond": {"error": 401, "message": "invalid x-api-key"}}]}
    result = await run_script("return await agent('x', label='bad')\n", scenario=scenario)
    store.flush()
    (agent,) = store.get_agents(result.run_id)
    # refused credentials are the account's fault, not this agent's: the kind says the run stopped on it
    assert (agent["state"], agent["error"], agent["error_kind"]) == (
        "failed", "the API refused the credentials: check ANTHROPIC_API_KEY (invalid x-api-key)", "stopped")


def test_tokens_of_simulated_calls_are_deterministic(tmp_path) -> None:
    """The same script and scenario give the same token counts (costs are reproducible)."""
    from workcrew.engine.providers.scenario import estimate_tokens

    assert estimate_tokens("") == 0 and estimate_tokens("abcd") == 1 and estimate_tokens("abcde") == 2
    assert estimate_tokens("é" * 4) == 2  # UTF-8 bytes, not characters


async def test_usage_is_reproducible_across_runs(run_script) -> None:
    body = "out = await parallel([agent(f'task {i}', schema={'type': 'object', 'properties': {}}) for i in range(3)])\n"
    first = await run_script(body)
    second = await run_script(body)
    assert first.usage == second.usage and first.usage["input_tokens"] > 0
