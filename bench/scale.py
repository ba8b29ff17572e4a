"""Scale-out: a check-heavy fan-out on the local executor and on a Ray cluster with 1 and 2 workers.

The workload: N isolated agents (``isolation="worktree"``, default 48), each making one tool call (it writes
a note, so it has a patch) after a short simulated model turn, then one ``check()`` with its patch applied:
``python3 burn.py``, a loop of a fixed number of iterations (about 0.5 s of CPU here), in the sandbox.
It runs on the local executor, then on a cluster this script starts on this machine (a Ray head with no
CPUs of its own and ``workcrew worker`` processes, as tests/distributed/cluster.py starts them) with one
worker, then with two. Each worker is pinned to its own CPU (``--no-pin``: not), so that one worker stands
for a one-core machine and two workers for two of them; the local executor uses both CPUs.

Printed, from this one run: makespan and throughput (agents/s) of each set-up and the ratios distributed /
local and 2 workers / 1 worker (medians of ``--repeat`` runs, each distributed run alternating with a local
one so that load from elsewhere hits both alike); what a run of no agent costs (connecting, the snapshot, a
host per worker); the executor's overhead per agent beyond that, from the same workflow with a check that
does no work: makespan per agent, distributed minus local, and CPU — the run process's (the coordinator:
script host, model calls, scheduler, journal; on the local executor also the worktrees and copies) and the
workers' around each check (sampled from /proc, a lower bound: bench/proctree.py; the check's own CPU is
measured by running it directly, as a sandbox's CPU reaches no parent); and a projection to M machines of
C cores from those figures. Targets: 2 workers spread the checks evenly (each within 40–60 %); the
coordinator's CPU per agent on the distributed executor at most its CPU per agent on the local one.

What one 2-CPU machine cannot show: the head, the raylets, the run process and the workers share its two
cores, so two workers cannot reach twice one worker's throughput, nor beat the local executor, which has
the same two cores and no network hop. It shows that the work spreads and what the executor costs per
agent; the projection says what that cost means on many machines.

    .venv/bin/python bench/scale.py [--agents 48] [--iterations 10000000] [--latency-ms 20] [--repeat 2] [--no-pin]
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import anyio
from workcrew.engine import RunStore, Settings, freeze_startup_heap, load_workflow, start
from workcrew.engine.errors import WorkcrewError
from workcrew.engine.executors.cluster import ray_module
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulated import SimulatedModel

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from proctree import NodeMeter, tree_cpus, tree_pss_mb

from tests.distributed.cluster import Cluster, start_cluster  # the tests' real cluster: one way to start one

PYTHON = "/usr/bin/python3"  # the system interpreter: a pyenv or venv shim may not work inside the sandbox
BURN = "n = 0\nfor i in range({iterations}):\n    n += i\nprint(n % 7)\n"
SCRIPT = """meta = {"name": "scale-bench", "description": "isolated agents, each judged by a CPU-bound check"}

async def one(i):
    noted = await agent(f"Note that part {i} is done", label=f"part {i}", isolation="worktree")
    verdict = await check(args["check"], isolation=noted)
    return verdict["exit_code"]

codes = await parallel([lambda i=i: one(i) for i in range(args["n"])])
return sum(1 for code in codes if code == 0)
"""
NOTE = [{"name": "write_file", "input": {"path": "notes/done.txt", "content": "done\n"}}]


@dataclass
class Sample:
    makespan: float
    coordinator_cpu: float  # this process (all threads) and the script's host, on the run
    worker_cpu: float  # the worker nodes' processes, sampled (light runs only: see proctree.py)
    spread: Counter[str] = field(default_factory=Counter)  # checks per worker


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def measure(project: Path, state: Path, agents: int, latency_ms: float, check: str,
                  cluster: Cluster | None, metered: bool) -> Sample:
    """One run; with ``metered``, the worker nodes' CPU is sampled (which costs this machine a little CPU)."""
    workflow = load_workflow("<inline>", source=SCRIPT)
    settings = Settings(workspace=project, state_dir=state, concurrency=16, max_agents=max(agents, 1),
                        models={"default": "simulated"}, command_allowlist=[f"{PYTHON} burn.py"])
    if cluster is not None:
        settings = settings.model_copy(update={"executor": "distributed", "cluster": cluster.address})
    client = SimulatedModel(Scenario.from_data({"default_latency_ms": latency_ms, "rules": [
        {"match": {"label": "^part"}, "respond": {"tool_calls": NOTE, "text": "noted"}}]}))
    store = RunStore(state)
    spread: Counter[str] = Counter()
    meter = NodeMeter([process.pid for process in cluster.workers.values()] if cluster and metered else [])
    meter.start()
    cpu_before, started = time.process_time(), time.perf_counter()
    handle = start(workflow, {"n": agents, "check": check}, settings, client=client, store=store)
    handle.listen(lambda event: spread.update([event.data.get("worker", "here")]) if event.type == "check" else None)
    result = await handle.result()
    makespan, cpu_after = time.perf_counter() - started, time.process_time()
    worker_cpu = meter.stop()
    # this process and the script's host on the run; the meter's thread is the bench's, not the run's
    coordinator = cpu_after - cpu_before - meter.own_cpu + handle.state.script_cpu_s
    store.close()
    if result.status != "succeeded" or result.result != agents:
        sys.exit(f"benchmark run failed: {result.status} {result.error} {result.result} {result.logs[-3:]}")
    return Sample(makespan, coordinator, worker_cpu, spread)


def check_cpu(project: Path, repeat: int = 3) -> float:
    """CPU seconds of one check's command, run directly (median of ``repeat``)."""
    times = []
    for _ in range(repeat):
        before = children_cpu()
        subprocess.run([PYTHON, "burn.py"], cwd=project, check=True, capture_output=True)
        times.append(children_cpu() - before)
    return statistics.median(times)


def add_pinned_worker(cluster: Cluster, name: str, cpu: int | None) -> None:
    """Start a worker whose every process may use only ``cpu`` (a child inherits the CPUs of its parent)."""
    if cpu is None:
        cluster.add_worker(name)
        return
    mine = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        cluster.add_worker(name)
    finally:
        os.sched_setaffinity(0, mine)


def median_of(samples: list[Sample], attribute: str) -> float:
    return statistics.median(float(getattr(sample, attribute)) for sample in samples)


def project_folder(root: Path, name: str, iterations: int) -> Path:
    project = root / name
    (project / "src").mkdir(parents=True)
    (project / "burn.py").write_text(BURN.format(iterations=iterations))
    for i in range(20):  # a small repository for the worktrees and check copies
        (project / "src" / f"module_{i}.py").write_text(f'"""Module {i}."""\n\nVALUE = {i}\n' * 20)
    return project


class Bench:
    def __init__(self, ns: argparse.Namespace, folder: Path) -> None:
        self.ns = ns
        self.folder = folder
        self.heavy = project_folder(folder, "heavy", ns.iterations)
        self.light = project_folder(folder, "light", 0)
        self.runs = 0
        self.load_before = os.getloadavg()[0]
        self.samples: dict[str, list[Sample]] = {}

    def run(self, key: str, project: Path, cluster: Cluster | None, agents: int | None = None) -> None:
        self.runs += 1
        sample = anyio.run(measure, project, self.folder / f"state{self.runs}", self.ns.agents if agents is None
                           else agents, self.ns.latency_ms, f"{PYTHON} burn.py", cluster, project == self.light)
        self.samples.setdefault(key, []).append(sample)

    def alternate(self, cluster: Cluster, workers: int) -> None:
        """Local and distributed runs in turn: heavy checks; with two workers also checks that do no work
        and runs of no agent at all (what a run costs before its first agent)."""
        kinds: list[tuple[str, Path, int | None]] = [("heavy", self.heavy, None)]
        if workers == 2:
            kinds += [("light", self.light, None), ("empty", self.light, 0)]
        for kind, project, agents in kinds:
            for _ in range(self.ns.repeat):
                self.run(f"local {kind} {workers}", project, None, agents)
                self.run(f"distributed {kind} {workers}", project, cluster, agents)

    def median(self, key: str, attribute: str) -> float:
        return median_of(self.samples[key], attribute)

    def per_agent(self, key: str, attribute: str) -> float:
        """What one more agent costs: the run's figure minus an empty run's, per agent."""
        empty = key.rsplit(" ", 2)[0] + " empty 2"
        return (self.median(key, attribute) - self.median(empty, attribute)) / int(self.ns.agents)


def report(bench: Bench, check_s: float, memory: dict[str, float]) -> None:
    n = bench.ns.agents
    m = bench.median
    print(f"{n} isolated agents, each one tool call after a {bench.ns.latency_ms:g} ms model turn and one check "
          f"of {check_s:.2f} s CPU ({bench.ns.iterations} iterations); concurrency 16; medians of {bench.ns.repeat} "
          f"runs, each distributed run alternating with a local one")
    print(f"load average before the bench = {bench.load_before:.2f} on {os.cpu_count()} CPUs (other processes inflate "
          "every time)")
    print("set-up                  makespan  agents/s  vs local (same phase)  checks per worker")
    for workers in (1, 2):
        local = m(f"local heavy {workers}", "makespan")
        remote = m(f"distributed heavy {workers}", "makespan")
        spread = sum((s.spread for s in bench.samples[f"distributed heavy {workers}"]), Counter())
        print(f"local (phase {workers})         {local:7.2f} s  {n / local:7.2f}")
        print(f"distributed, {workers} worker{'s' if workers > 1 else ' '}  {remote:7.2f} s  {n / remote:7.2f}  "
              f"{local / remote:20.2f} x  {dict(sorted(spread.items()))}")
    one, two = m("distributed heavy 1", "makespan"), m("distributed heavy 2", "makespan")
    print(f"throughput 2 workers / 1 worker = {one / two:.2f}  (two pinned workers have twice the cores; the head, "
          "the raylets and this process share them)")
    spread = sum((s.spread for s in bench.samples["distributed heavy 2"]), Counter())
    shares = [count / sum(spread.values()) for count in spread.values()]
    print(f"2 workers: share of checks per worker {', '.join(f'{s:.0%}' for s in shares)}  (target 40-60 % each)")

    start_local, start_remote = m("local empty 2", "makespan"), m("distributed empty 2", "makespan")
    print(f"a run of no agent: {start_remote:.2f} s distributed (connect, snapshot, a host per worker), "
          f"{start_local:.2f} s local; worker CPU {m('distributed empty 2', 'worker_cpu'):.2f} s")
    light_local, light_remote = m("local light 2", "makespan"), m("distributed light 2", "makespan")
    overhead = bench.per_agent("distributed light 2", "makespan") - bench.per_agent("local light 2", "makespan")
    print(f"executor overhead, checks that do no work, 2 workers: makespan {light_remote:.2f} s against "
          f"{light_local:.2f} s locally; beyond the start, {overhead * 1000:+.1f} ms per agent")
    coordinator_local = bench.per_agent("local heavy 2", "coordinator_cpu")
    coordinator = bench.per_agent("distributed heavy 2", "coordinator_cpu")
    print(f"coordinator CPU per agent (the run process and its script host, beyond the start): local "
          f"{coordinator_local * 1000:.1f} ms, distributed {coordinator * 1000:.1f} ms  (target: distributed <= local)")
    worker_light = bench.per_agent("distributed light 2", "worker_cpu")
    worker = check_s + worker_light
    print(f"worker CPU per agent around its check (its host's share, worktree, tool call, check copy; sampled every "
          f"0.1 s, so a lower bound): {worker_light * 1000:.0f} ms; with the {check_s:.2f} s check: {worker:.2f} s")
    print(f"memory (PSS, idle): head {memory['head']:.0f} MB, each worker {memory['worker']:.0f} MB")
    limit = 1 / coordinator
    print(f"projection from these figures: M machines of C cores run about min(M x C / {worker:.2f} s, "
          f"1 / {coordinator * 1000:.1f} ms) = min(M x C x {1 / worker:.2f}, {limit:.0f}) agents/s; the second "
          "term is one run process's CPU per agent (with a model this fast; real model turns take seconds, and the "
          "agents in flight, not this, set the pace)")
    for machines, cores in ((1, 8), (4, 8), (16, 8), (64, 8)):
        rate = machines * cores / worker
        print(f"  {machines:3d} x {cores} cores: {min(rate, limit):6.1f} agents/s "
              f"({'the workers' if rate < limit else 'the run process'} the limit)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=48)
    parser.add_argument("--iterations", type=int, default=10_000_000, help="loop steps of each check (~0.5 s here)")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="the simulated model's time per turn")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each set-up; medians are printed")
    parser.add_argument("--no-pin", action="store_true", help="let every worker use every CPU")
    ns = parser.parse_args()
    if ns.agents < 1 or ns.iterations < 1 or ns.latency_ms < 0 or ns.repeat < 1:
        parser.error("--agents, --iterations and --repeat must be at least 1, --latency-ms at least 0")
    if not os.access(PYTHON, os.X_OK):
        sys.exit(f"{PYTHON} is needed: the checks run it inside the sandbox, which mounts /usr")
    pins: list[int | None] = [None, None]
    if not ns.no_pin:
        cpus = sorted(os.sched_getaffinity(0))
        pins = [cpus[0], cpus[1 % len(cpus)]]
    try:
        ray_module()
    except WorkcrewError as exc:
        sys.exit(str(exc))
    # a kill runs the clean-up below, as Ctrl-C does (once connected, Ray's own handler exits the same way)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    freeze_startup_heap()
    cluster: Cluster | None = None
    with tempfile.TemporaryDirectory() as name:
        bench = Bench(ns, Path(name))
        try:
            check_s = check_cpu(bench.heavy)
            cluster = start_cluster()
            add_pinned_worker(cluster, "w1", pins[0])
            bench.run("warm-up", bench.light, cluster)  # the worker fetches the snapshot and starts its processes
            bench.run("warm-up", bench.light, None)
            bench.alternate(cluster, 1)
            add_pinned_worker(cluster, "w2", pins[1])
            bench.run("warm-up", bench.light, cluster)
            bench.alternate(cluster, 2)
            memory = {"head": tree_pss_mb(cluster.head.pid),
                      "worker": statistics.mean(tree_pss_mb(p.pid) for p in cluster.workers.values())}
            if not ns.no_pin:
                print("worker CPUs: " + ", ".join(f"{worker} {sorted(tree_cpus(p.pid))}"
                                                  for worker, p in cluster.workers.items()))
            report(bench, check_s, memory)
        finally:
            stop(cluster)


def stop(cluster: Cluster | None) -> None:
    """Disconnect from the cluster and kill every process of it this script started."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
    try:
        import ray

        if ray.is_initialized():
            ray.shutdown()
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()
