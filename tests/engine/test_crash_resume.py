"""A run killed with `kill -9` mid fan-out: the store marks it interrupted with the totals its agent rows hold,
and resuming it reuses every agent that had finished, in whatever order they finished, re-billing none."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from workcrew.engine import RunStore

FAN_OUT = """meta = {"name": "sweep", "description": "two hundred agents"}
out = await parallel([agent(f"review part {i}", label=f"part {i}") for i in range(200)])
return list(out)
"""
# latencies that vary by agent, so agents finish out of launch order and the finished set has gaps
SCENARIO = {"default_latency_ms": 60, "rules": [
    {"match": {"label": r"^part \d*[37]$"}, "respond": {"text": "slow part"}, "latency_ms": 400},
]}


def cli(project: Path, *argv: str) -> list[str]:
    return [sys.executable, "-m", "workcrew.engine.cli", *argv, "--state-dir", str(project / "state")]


def environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("WORKCREW_", "ANTHROPIC_"))}


def test_kill_9_mid_fan_out_then_resume_reuses_every_finished_agent(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "sweep.py").write_text(FAN_OUT)
    (project / "scenario.json").write_text(json.dumps(SCENARIO))
    run_args = ["sweep.py", "--scenario", "scenario.json", "--concurrency", "16", "--json", "--yes"]
    process = subprocess.Popen(cli(project, "run", *run_args), cwd=project, env=environment(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    store = RunStore(project / "state")
    try:
        deadline = time.monotonic() + 60
        while True:  # until some agents are finished, some in flight and most still queued
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the run never got going"
            runs = store.list_runs()
            if runs and store.agent_totals(runs[0]["id"]).get("succeeded", 0) >= 40:
                break
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    run_id = runs[0]["id"]

    # the store tells the truth: interrupted, with what the agent rows hold
    (killed,) = [run for run in store.list_runs() if run["id"] == run_id]
    rows = store.get_agents(run_id)
    finished = {row["label"] for row in rows if row["state"] == "succeeded"}
    assert killed["status"] == "interrupted" and "resume it with --resume-from" in killed["error"]
    assert killed["launched"] == len(rows) > killed["succeeded"] == len(finished) >= 40
    assert killed["cost_usd"] == sum(row["cost_usd"] or 0 for row in rows)
    assert killed["input_tokens"] == sum(row["input_tokens"] or 0 for row in rows) > 0
    assert not [row for row in rows if row["state"] in ("queued", "running")]  # none left "running" forever
    launch_order = [row["label"] for row in sorted(rows, key=lambda row: row["seq"])]
    first_gap = next(i for i, label in enumerate(launch_order) if label not in finished)
    assert finished - set(launch_order[:first_gap]), "no agent finished after a gap: the test proves nothing"

    # resume without --force: every finished agent is reused, only the rest asks the model
    done = subprocess.run(cli(project, "run", *run_args, "--resume-from", run_id), cwd=project, env=environment(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    resumed = json.loads(done.stdout)
    assert resumed["status"] == "succeeded" and resumed["agents"]["cached"] == len(finished)
    live = {row["label"] for row in store.get_agents(resumed["run_id"]) if row["state"] == "succeeded"}
    assert not live & finished, "a finished agent was asked (and billed) again"
    assert len(live) + len(finished) == 200
    # the result is the one an uninterrupted run gives
    whole = subprocess.run(cli(project, "run", *run_args), cwd=project, env=environment(), capture_output=True,
                           text=True, timeout=120)
    assert resumed["result"] == json.loads(whole.stdout)["result"]
    store.close()
