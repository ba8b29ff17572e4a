"""Runs that outlive the terminal: `workcrew run --detach` hands the run to its own process; `attach`
follows it from the store; `stop|pause|resume` control it from any other process; a run process killed
with `kill -9` is found interrupted and resumed without paying again for a finished agent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from workcrew.engine import RunStore
from workcrew.engine.store import owner

FAN_OUT = """meta = {"name": "sweep", "description": "agents in a fan-out"}
out = await parallel([agent(f"review part {i}", label=f"part {i}") for i in range(int(args["n"]))])
return list(out)
"""


def cli(project: Path, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WORKCREW_", "ANTHROPIC_"))}
    return subprocess.run([sys.executable, "-m", "workcrew.engine.cli", *argv, "--state-dir", str(project / "state")],
                          cwd=project, env=env, capture_output=True, text=True, timeout=timeout)


def setup(tmp_path: Path, latency_ms: int) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "sweep.py").write_text(FAN_OUT)
    (project / "scenario.json").write_text(json.dumps({"default_latency_ms": latency_ms}))
    return project


def detach(project: Path, n: int, *extra: str) -> str:
    done = cli(project, "run", "sweep.py", "--args", json.dumps({"n": n}), "--scenario", "scenario.json", "--yes",
               "--json", "--detach", *extra)
    assert done.returncode == 0, done.stderr
    started = json.loads(done.stdout)
    assert started["status"] == "running" and started["detached"] is True
    return str(started["run_id"])


def wait_for(store: RunStore, run_id: str, ready: Any, what: str) -> None:
    deadline = time.monotonic() + 60
    while not ready(store.agent_totals(run_id)):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_detached_run_goes_on_alone_and_attach_follows_it_to_the_end(tmp_path: Path) -> None:
    project = setup(tmp_path, 50)
    run_id = detach(project, 30, "--concurrency", "4")
    store = RunStore(project / "state")
    try:
        run = store.get_run(run_id)
        assert run is not None and run["status"] == "running"
        assert run["owner"] != owner.this_process()  # owned by its run process, not by this one or the CLI
    finally:
        store.close()
    followed = cli(project, "attach", run_id, "--json")
    assert followed.returncode == 0, followed.stderr
    outcome = json.loads(followed.stdout)
    assert outcome["status"] == "succeeded" and outcome["agents"]["succeeded"] == 30
    assert len(outcome["result"]) == 30 and outcome["usage"]["input_tokens"] > 0
    assert (project / "state" / "runs" / run_id / "report.md").is_file()


def test_pause_resume_and_stop_from_another_process(tmp_path: Path) -> None:
    project = setup(tmp_path, 150)
    agents = 150  # enough that the run is still going when a slow machine's `stop` arrives
    run_id = detach(project, agents, "--concurrency", "2")
    store = RunStore(project / "state")
    try:
        wait_for(store, run_id, lambda t: (t.get("succeeded") or 0) >= 2, "two agents to finish")
        assert cli(project, "pause", run_id).returncode == 0
        wait_for(store, run_id, lambda t: not any(r["state"] == "running" for r in store.get_agents(run_id)),
                 "the agents in flight to finish after the pause")
        held = store.agent_totals(run_id)["succeeded"]
        # paused: no agent starts however long it waits (a slow machine can only make this easier to pass)
        for _ in range(4):
            assert "run_paused" in [e["type"] for e in store.get_events(run_id)]
            assert not any(r["state"] == "running" for r in store.get_agents(run_id))
            assert store.agent_totals(run_id)["succeeded"] == held
            time.sleep(0.25)
        assert cli(project, "resume", run_id).returncode == 0
        wait_for(store, run_id, lambda t: (t.get("succeeded") or 0) >= held + 4, "the run to go on after resume")

        stopped = cli(project, "stop", run_id)
        assert stopped.returncode == 0 and "to stop" in stopped.stdout
        followed = cli(project, "attach", run_id, "--json")
        outcome = json.loads(followed.stdout)
        assert followed.returncode == 1 and outcome["status"] == "stopped", outcome
        assert "stopped by the user (workcrew stop)" in outcome["error"]
        finished = outcome["agents"]["succeeded"]
        assert 0 < finished < agents
        rows = store.get_agents(run_id)
        assert not [r for r in rows if r["state"] in ("queued", "running")]

        # a stopped run is resumed with --reuse: every finished agent reused, none billed again
        resumed = cli(project, "run", "sweep.py", "--args", json.dumps({"n": agents}), "--scenario", "scenario.json",
                      "--yes", "--json", "--reuse", run_id, "--concurrency", "16")
        assert resumed.returncode == 0, resumed.stderr
        again = json.loads(resumed.stdout)
        assert again["agents"]["cached"] == finished and again["agents"]["succeeded"] == agents - finished
        assert cli(project, "stop", run_id).returncode == 2  # it has ended: said plainly
    finally:
        store.close()


def test_a_killed_run_process_is_found_interrupted_and_resumed_without_paying_twice(tmp_path: Path) -> None:
    project = setup(tmp_path, 80)
    run_id = detach(project, 120, "--concurrency", "8")
    store = RunStore(project / "state")
    try:
        wait_for(store, run_id, lambda t: (t.get("succeeded") or 0) >= 24, "some agents to finish")
        run = store.get_run(run_id)
        assert run is not None
        os.kill(int(str(run["owner"]).split(":")[1]), signal.SIGKILL)
        followed = cli(project, "attach", run_id, "--json")
        outcome = json.loads(followed.stdout)
        assert outcome["status"] == "interrupted" and followed.returncode == 1
        finished = {r["label"] for r in store.get_agents(run_id) if r["state"] == "succeeded"}
        assert outcome["agents"]["succeeded"] == len(finished) >= 24
        resumed = cli(project, "run", "sweep.py", "--args", json.dumps({"n": 120}), "--scenario", "scenario.json",
                      "--yes", "--json", "--reuse", "last", "--concurrency", "16")
        assert resumed.returncode == 0, resumed.stderr
        again = json.loads(resumed.stdout)
        live = {r["label"] for r in store.get_agents(again["run_id"]) if r["state"] == "succeeded"}
        assert again["agents"]["cached"] == len(finished) and not live & finished
        assert len(live) + len(finished) == 120
    finally:
        store.close()


def test_runs_in_several_processes_share_one_store_without_losing_a_row(tmp_path: Path) -> None:
    """Two run processes and a terminal's run write one store at once while it is read: no "database is
    locked", no lost row."""
    project = setup(tmp_path, 5)
    detached = [detach(project, 150, "--concurrency", "16") for _ in range(2)]
    here = cli(project, "run", "sweep.py", "--args", json.dumps({"n": 150}), "--scenario", "scenario.json", "--yes",
               "--json", "--concurrency", "16")
    assert here.returncode == 0, here.stderr
    listed = cli(project, "runs")
    assert listed.returncode == 0 and "locked" not in listed.stderr + listed.stdout
    outcomes = [json.loads(cli(project, "attach", run_id, "--json").stdout) for run_id in detached]
    outcomes.append(json.loads(here.stdout))
    store = RunStore(project / "state")
    try:
        for outcome in outcomes:
            assert outcome["status"] == "succeeded" and outcome["agents"]["succeeded"] == 150, outcome
            rows = store.get_agents(outcome["run_id"])
            assert len(rows) == 150 and {r["state"] for r in rows} == {"succeeded"}
            assert store.agent_totals(outcome["run_id"])["input_tokens"] == outcome["usage"]["input_tokens"]
        for run_id in detached:
            log = (project / "state" / "runs" / run_id / "process.log").read_text()
            assert "locked" not in log and "Traceback" not in log, log
    finally:
        store.close()
