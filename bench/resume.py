"""Crash and resume: tokens spent again on agents that had finished, and the journal's cost per agent.

A 1,000-agent fan-out (`workcrew run`, simulated model, latencies that vary by agent so agents finish out
of launch order, concurrency 16) is killed with SIGKILL once 25 %, 50 % and 75 % of its agents have
finished, then resumed with `--resume-from`. For each crash point it prints how many agents had finished,
how many the resumed run reused, and the tokens the resumed run spent on agents that had already finished
(target: 0 in all three). Then it measures the journal: the CPU one agent costs the run store (the run's
CPU with the store minus without it, all threads, the same 1,000 agents in this process; target ≤ 50 µs).

    .venv/bin/python bench/resume.py [--agents 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
from workcrew.engine import RunStore, Settings, freeze_startup_heap, load_workflow, start
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulated import SimulatedModel

SCRIPT = """meta = {{"name": "resume-bench", "description": "a fan-out to crash and resume"}}
out = await parallel([agent(f"review part {{i}}", label=f"part {{i}}") for i in range({n})])
return out.succeeded
"""
REPEAT = 9
SCENARIO = {"default_latency_ms": 20, "rules": [
    {"match": {"label": r"^part \d*[37]$"}, "respond": {"text": "a slower part"}, "latency_ms": 120},
]}


def cli(project: Path, *argv: str) -> list[str]:
    return [sys.executable, "-m", "workcrew.engine.cli", *argv, "--state-dir", str(project / "state")]


def crash_and_resume(folder: Path, agents: int, fraction: float) -> dict[str, float]:
    project = folder / f"crash-{int(fraction * 100)}"
    project.mkdir()
    (project / "fan.py").write_text(SCRIPT.format(n=agents))
    (project / "scenario.json").write_text(json.dumps(SCENARIO))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WORKCREW_", "ANTHROPIC_"))}
    args = ["fan.py", "--scenario", "scenario.json", "--concurrency", "16", "--max-agents", str(agents), "--json",
            "--yes"]
    process = subprocess.Popen(cli(project, "run", *args), cwd=project, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    store = RunStore(project / "state")
    try:
        while True:
            if process.poll() is not None:
                sys.exit(f"the run ended before {fraction:.0%} of its agents finished; raise --agents")
            runs = store.list_runs()
            if runs and store.agent_totals(runs[0]["id"]).get("succeeded", 0) >= fraction * agents:
                break
            time.sleep(0.02)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    killed = runs[0]["id"]
    finished = {row["label"] for row in store.get_agents(killed) if row["state"] == "succeeded"}
    done = subprocess.run(cli(project, "run", *args, "--resume-from", killed), cwd=project, env=env,
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        sys.exit(f"the resumed run failed: {done.stderr[-2000:]}")
    resumed = json.loads(done.stdout)
    again = [row for row in store.get_agents(resumed["run_id"])
             if row["state"] == "succeeded" and row["label"] in finished]
    store.close()
    return {"finished": len(finished), "reused": resumed["agents"]["cached"],
            "tokens_again": sum((row["input_tokens"] or 0) + (row["output_tokens"] or 0) for row in again)}


async def cpu_of_run(agents: int, folder: Path, with_store: bool) -> float:
    workflow = load_workflow("<inline>", source=SCRIPT.format(n=agents))
    settings = Settings(workspace=folder, state_dir=folder / "state", concurrency=16, max_agents=agents,
                        models={"default": "simulated"})
    store = RunStore(settings.resolved_state_dir()) if with_store else None
    client = SimulatedModel(Scenario.from_data({"rules": [{"respond": {"text": "ok"}}]}))
    cpu = time.process_time()
    handle = start(workflow, None, settings, client=client, store=store)
    await handle.result()
    if store is not None:
        store.close()  # the writer's last batch counts too
    return time.process_time() - cpu


def journal_cost(folder: Path, agents: int, repeat: int = REPEAT) -> tuple[float, float, float]:
    """(µs of CPU per agent the journal costs, µs with the store, µs without): the median of the differences
    of back-to-back pairs (a pair shares the machine's state of the moment, so its speed drifting between
    runs cancels out), and the medians of each."""
    with_store, without = [], []
    anyio.run(cpu_of_run, 50, folder / "warm", True)
    for round_ in range(repeat):
        with_store.append(anyio.run(cpu_of_run, agents, folder / f"with{round_}", True))
        without.append(anyio.run(cpu_of_run, agents, folder / f"without{round_}", False))
    differences = [a - b for a, b in zip(with_store, without, strict=True)]
    return (statistics.median(differences) / agents * 1e6, statistics.median(with_store) / agents * 1e6,
            statistics.median(without) / agents * 1e6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    ns = parser.parse_args()
    freeze_startup_heap()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        print(f"{ns.agents}-agent fan-out, concurrency 16, killed with SIGKILL, then --resume-from")
        worst = 0
        for fraction in (0.25, 0.5, 0.75):
            outcome = crash_and_resume(folder, ns.agents, fraction)
            worst = max(worst, int(outcome["tokens_again"]))
            print(f"  killed at {fraction:.0%}: {outcome['finished']:.0f} finished, {outcome['reused']:.0f} reused, "
                  f"tokens spent again on finished agents = {outcome['tokens_again']:.0f}")
        print(f"tokens re-spent on finished agents, worst of three = {worst}  (target 0)")
        for path in ("warm", *(f"with{i}" for i in range(REPEAT)), *(f"without{i}" for i in range(REPEAT))):
            (folder / path).mkdir()
        journal, with_store, without = journal_cost(folder, ns.agents)
        print(f"journal: {journal:.1f} us of CPU per agent (median of {REPEAT} back-to-back pairs; runs with the "
              f"store {with_store:.0f} us, without {without:.0f} us)  (target <= 50 us)")


if __name__ == "__main__":
    main()
