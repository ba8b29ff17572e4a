"""Overhead per agent() call through the JavaScript bridge, against the Python dialect.

The same workflow in both dialects fans 1000 agents out with parallel() on the in-process simulated
model at zero latency, so nearly all the time is the engine's per-agent work (scheduler, events, run
store, agent loop) plus, for JavaScript, the bridge: the guest's outbox, the asyncio task per call,
the settle and the job queue. Both run with the same settings and a real run store; each is measured
several times, alternating, and the best run of each is compared.

The figure is the CPU time of the event-loop thread (``time.thread_time``) from start to result, plus
the CPU the script's host process spent on the run (the script and, for JavaScript, the bridge run
there; the engine's work per agent runs on the event-loop thread), while the store's writer and the
report run on other threads. CPU time, not wall time, so other processes on a busy machine do not decide
the ratio; the wall-clock run duration is printed beside it.

The process is set up as ``workcrew run`` and ``workcrew serve`` set theirs up: the start-up heap is
frozen before the runs (``freeze_startup_heap``), so full collections scan only what the runs made.

Target: JS / Python per-agent time ≤ 1.5.

    .venv/bin/python bench/js_bridge.py [--agents 1000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from workcrew.engine import RunStore, Settings, freeze_startup_heap, load_workflow, start
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulated import SimulatedModel

sys.path.insert(0, str(Path(__file__).resolve().parent))
from inprocess import in_process

PYTHON = """meta = {"name": "bridge-bench", "description": "many zero-latency agents"}
out = await parallel([agent(f"Task {i}", label=f"task {i}") for i in range(args["n"])])
return out.succeeded
"""
JAVASCRIPT = """export const meta = {name: 'bridge-bench', description: 'many zero-latency agents'}
const out = await parallel(Array.from({length: args.n}, (_, i) => () => agent(`Task ${i}`, {label: `task ${i}`})))
return out.succeeded
"""
TARGET = 1.5


async def measure(path: Path, agents: int, settings: Settings) -> tuple[float, float]:
    """(event-loop thread CPU seconds, run duration in seconds)."""
    workflow = load_workflow(path)
    if workflow.problems:
        sys.exit(f"bench script has problems: {workflow.problems}")
    store = RunStore(settings.resolved_state_dir())
    try:
        client = SimulatedModel(Scenario.from_data({"rules": [{"match": {}, "respond": {"text": "ok"}}]}))
        cpu = time.thread_time()
        handle = start(workflow, {"n": agents}, settings, client=client, store=store)
        result = await handle.result()
        cpu = time.thread_time() - cpu + handle.state.script_cpu_s  # the script host child's CPU too
    finally:
        store.close()
    if result.status != "succeeded" or result.result != agents:
        sys.exit(f"{path.name}: run {result.status}: {result.error or result.result}")
    return cpu, result.duration_s


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "ws").mkdir()
        python, javascript = root / "bench.py", root / "bench.js"
        python.write_text(PYTHON)
        javascript.write_text(JAVASCRIPT)
        settings = Settings(workspace=root / "ws", state_dir=root / "state", models={"default": "simulated"},
                            max_agents=max(1000, options.agents))
        await measure(python, 50, settings)  # warm up imports, the store and the script host's spare
        await measure(javascript, 50, settings)
        cpu: dict[str, list[float]] = {"python": [], "javascript": [], "python here": [], "javascript here": []}
        wall: dict[str, list[float]] = {name: [] for name in cpu}
        for _ in range(options.repeat):
            for name, path in (("python", python), ("javascript", javascript)):
                used, duration = await measure(path, options.agents, settings)
                cpu[name].append(used)
                wall[name].append(duration)
                with in_process():  # the reference: the script in this process, as before the script host
                    used, duration = await measure(path, options.agents, settings)
                cpu[f"{name} here"].append(used)
                wall[f"{name} here"].append(duration)
    per_agent = {name: min(values) / options.agents * 1e6 for name, values in cpu.items()}
    wall_per_agent = {name: min(values) / options.agents * 1e6 for name, values in wall.items()}
    ratio = per_agent["javascript"] / per_agent["python"]
    print(f"{options.agents} zero-latency agents via parallel(), best of {options.repeat} "
          "(event-loop CPU time; wall-clock run duration in brackets)")
    for name, title in (("python", "Python dialect"), ("javascript", "JavaScript dialect")):
        print(f"  {title:<20}{per_agent[name]:8.1f} µs per agent   [{wall_per_agent[name]:7.1f} µs]")
    print(f"  {'bridge overhead':<20}{per_agent['javascript'] - per_agent['python']:8.1f} µs per agent")
    print(f"ratio JS / Python: {ratio:.2f} (target ≤ {TARGET}); "
          f"wall-clock ratio {wall_per_agent['javascript'] / wall_per_agent['python']:.2f}")
    print("in-process reference (the script in this process, as before the script host):")
    for name, title in (("python", "Python dialect"), ("javascript", "JavaScript dialect")):
        here = per_agent[f"{name} here"]
        print(f"  {title:<20}{here:8.1f} µs per agent   [{wall_per_agent[name + ' here']:7.1f} µs]   "
              f"host / in-process {per_agent[name] / here:.2f} (target ≤ 1.30)")


if __name__ == "__main__":
    freeze_startup_heap()
    asyncio.run(main())
