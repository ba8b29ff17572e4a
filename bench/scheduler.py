"""Scheduler overhead: 1000 agents with 20 ms simulated latency at concurrency 16, with the run store.

Prints makespan / ideal, where ideal = ceil(1000 / 16) x 20 ms (perfect packing, zero overhead), and the
peak RSS of the process. Targets: ratio <= 1.10, peak RSS < 300 MB.

The script runs in its script host process, as every run does. The same workload is also run with the
script inside this process (``bench/inprocess.py``: how scripts ran before the script host), and both
figures are printed: the engine's CPU per agent (this process and the host child together) and its time
over the bare floor. Target: the host's CPU per agent at most 1.3 x the in-process figure.

The process is set up as ``workcrew run`` and ``workcrew serve`` set theirs up: the start-up heap is frozen
(``freeze_startup_heap``) before the run. ``--no-freeze`` measures a program that embeds the engine without
doing so (a full collection of the start-up heap may then land inside the run).

    .venv/bin/python bench/scheduler.py [--agents 1000] [--concurrency 16] [--latency-ms 20] [--mode parallel]
                                        [--no-freeze] [--repeat 9]
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio
from workcrew.engine import RunStore, Settings, freeze_startup_heap, load_workflow, start
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulated import SimulatedModel
from workcrew.engine.runtime.scripthost.spawn import prewarm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from inprocess import in_process

SCRIPTS = {
    "parallel": "out = await parallel([agent(f'task {i}', label=f'a{i}') for i in range(args['n'])])\n"
                "return out.succeeded\n",
    "pipeline": "out = await pipeline(list(range(args['n'])), lambda i: agent(f'task {i}', label=f'a{i}'))\n"
                "return out.succeeded\n",
}


async def measure(mode: str, agents: int, concurrency: int, latency_ms: float, state: Path) -> tuple[float, float]:
    """(makespan, CPU seconds of this process and of the script's host) of one run."""
    source = 'meta = {"name": "bench", "description": "scheduler benchmark"}\n' + SCRIPTS[mode]
    workflow = load_workflow("<inline>", source=source)
    settings = Settings(workspace=state, state_dir=state / "state", concurrency=concurrency, max_agents=agents,
                        models={"default": "simulated"})
    store = RunStore(settings.resolved_state_dir())
    client = SimulatedModel(Scenario.from_data({"default_latency_ms": latency_ms}))
    started, cpu = time.perf_counter(), time.process_time()
    handle = start(workflow, {"n": agents}, settings, client=client, store=store)
    result = await handle.result()  # includes flushing the store to disk
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    cpu += handle.state.script_cpu_s  # the host child's CPU on this run (not its start-up, done ahead)
    store.close()
    if result.status != "succeeded" or result.result != agents:
        sys.exit(f"benchmark run failed: {result.status} {result.error} {result.result}")
    return elapsed, cpu


async def reference(agents: int, concurrency: int, latency_ms: float) -> float:
    """The same shape with no engine at all: a bare anyio limiter around a sleep (the floor on this machine)."""
    limiter = anyio.CapacityLimiter(concurrency)

    async def one() -> None:
        async with limiter:
            await anyio.sleep(latency_ms / 1000)

    started = time.perf_counter()
    async with anyio.create_task_group() as group:
        for _ in range(agents):
            group.start_soon(one)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--mode", choices=sorted(SCRIPTS), default="parallel")
    parser.add_argument("--no-freeze", action="store_true", help="leave the start-up heap to the collector")
    parser.add_argument("--repeat", type=int, default=9,
                        help="runs of each set-up; medians are printed (with 5, the ratio still moved by 0.1 "
                             "between invocations on a shared 2-CPU machine)")
    ns = parser.parse_args()
    if ns.agents < 1 or ns.concurrency < 1 or ns.latency_ms <= 0 or ns.repeat < 1:
        parser.error("--agents, --concurrency and --repeat must be at least 1, --latency-ms above 0")
    ideal = math.ceil(ns.agents / ns.concurrency) * ns.latency_ms / 1000
    if not ns.no_freeze:
        freeze_startup_heap()
    local: list[tuple[float, float]] = []
    hosted: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as folder:
        with in_process():
            anyio.run(measure, ns.mode, 50, ns.concurrency, ns.latency_ms, Path(folder) / "warm")
        anyio.run(measure, ns.mode, 50, ns.concurrency, ns.latency_ms, Path(folder) / "warm2")
        # the two set-ups alternate, so a burst of load elsewhere on the machine hits both alike
        for round_ in range(ns.repeat):
            with in_process():
                local.append(anyio.run(measure, ns.mode, ns.agents, ns.concurrency, ns.latency_ms,
                                       Path(folder) / f"in{round_}"))
            prewarm(wait=30)  # as `workcrew run` and `workcrew serve` start a script host ahead of each run
            hosted.append(anyio.run(measure, ns.mode, ns.agents, ns.concurrency, ns.latency_ms,
                                    Path(folder) / f"out{round_}"))
    # CPU time of identical runs varies by 15 % on a shared machine: the median of each set-up
    local_makespan, local_cpu = (statistics.median(column) for column in zip(*local, strict=True))
    makespan, cpu = (statistics.median(column) for column in zip(*hosted, strict=True))
    floor = anyio.run(reference, ns.agents, ns.concurrency, ns.latency_ms)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"{ns.agents} agents, {ns.latency_ms:g} ms latency, concurrency {ns.concurrency}, {ns.mode}; "
          f"medians of {ns.repeat} runs of each set-up, alternating")
    print(f"makespan = {makespan * 1000:.0f} ms, ideal = {ideal * 1000:.0f} ms (script in its host process)")
    print(f"engine CPU = {cpu * 1000:.0f} ms ({cpu / ns.agents * 1e6:.0f} us per agent, this process and the host)")
    print(f"load average = {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs (other processes inflate the makespan)")
    print("start-up heap: " + ("left to the collector (--no-freeze)" if ns.no_freeze else
                               "frozen, as `workcrew run` and `workcrew serve` do"))
    print(f"reference (bare limiter + sleep, same run) = {floor * 1000:.0f} ms = {floor / ideal:.2f} x ideal")
    print(f"engine over the reference = {(makespan - floor) * 1000:.0f} ms "
          f"({(makespan - floor) / ns.agents * 1e6:.0f} us per agent)")
    print(f"in-process reference (the script in this process, as before the host): makespan "
          f"{local_makespan * 1000:.0f} ms = {local_makespan / ideal:.2f} x ideal, CPU {local_cpu / ns.agents * 1e6:.0f} us "
          f"per agent, {(local_makespan - floor) / ns.agents * 1e6:.0f} us per agent over the reference")
    print(f"host / in-process CPU per agent = {cpu / local_cpu:.2f}  (target <= 1.30)")
    print(f"makespan/ideal = {makespan / ideal:.2f}  (target <= 1.10)")
    print(f"peak RSS = {peak_mb:.0f} MB  (target < 300 MB)")


if __name__ == "__main__":
    main()
