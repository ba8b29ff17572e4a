"""A real Ray cluster on this machine for the distributed executor's tests: a head and Workcrew workers
started the way users start them (`ray start --head`, `workcrew worker --cluster`), each in its own process
group so that a test can kill one as a crash or a pulled cable would."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from workcrew.engine.providers.base import ModelRequest, ModelResponse
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulated import SimulatedModel

BIN = Path(sys.executable).parent
WORKER_SHELL_KEY = "sk-ant-api03-worker-shell-key-never-on-a-worker-0123456789"  # in the shell workers start from
# a lost node is declared dead after ~3 missed 1 s health checks instead of Ray's default ~30 s
FAST_FAILURE_DETECTION = {"RAY_health_check_period_ms": "1000", "RAY_health_check_failure_threshold": "3",
                          "RAY_health_check_timeout_ms": "1000", "RAY_health_check_initial_delay_ms": "1000"}


def free_port() -> int:
    """A port nothing listens on (the socket that found it is closed again)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    address: str
    temp: Path
    head: subprocess.Popen[bytes]
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    cache: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="wc-snapshots-")))

    def add_worker(self, name: str, *, slots: int = 8, cpus: int = 1, env: dict[str, str] | None = None) -> None:
        """Start ``workcrew worker`` and wait until it has joined (one at a time: Ray nodes started at the same
        moment on one machine can fail to register)."""
        env = {**os.environ, **(env or {}), **FAST_FAILURE_DETECTION, "RAY_USAGE_STATS_ENABLED": "0",
               "WORKCREW_SNAPSHOT_CACHE": str(self.cache / name)}
        self.workers[name] = subprocess.Popen(
            [str(BIN / "workcrew"), "worker", "--cluster", self.address, "--name", name, "--slots", str(slots),
             "--cpus", str(cpus)], env=env, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.wait_for_workers({name})

    def wait_for_workers(self, names: set[str], timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if names <= self.live_workers():
                return
            time.sleep(0.5)
        raise TimeoutError(f"workers {sorted(names - self.live_workers())} did not join {self.address}")

    def live_workers(self) -> set[str]:
        from workcrew.engine.executors.cluster import connect, worker_nodes

        connect(self.address)
        return {node.name for node in worker_nodes()}

    def worker_processes(self, name: str) -> list[int]:
        """Every process of the worker's group: its Ray node, raylet and the processes serving agents."""
        group = os.getpgid(self.workers[name].pid)
        out = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if os.getpgid(int(entry.name)) == group:
                        out.append(int(entry.name))
                except ProcessLookupError:
                    continue
        return out

    def kill_worker(self, name: str) -> None:
        """SIGKILL the worker's whole process group: its Ray node and every process on it, no goodbye."""
        process = self.workers.pop(name)
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()

    def stop(self) -> None:
        from workcrew.engine.executors.cluster import disconnect

        disconnect(self.address)  # a Ray driver left connected to a dead cluster terminates its process
        for name in list(self.workers):
            self.kill_worker(name)
        try:
            os.killpg(self.head.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.head.wait()
        shutil.rmtree(self.temp, ignore_errors=True)
        shutil.rmtree(self.cache, ignore_errors=True)


def start_cluster() -> Cluster:
    port = free_port()
    temp = Path(tempfile.mkdtemp(prefix="wcray-", dir="/tmp"))  # Ray's socket paths must stay short
    env = {**os.environ, **FAST_FAILURE_DETECTION, "RAY_USAGE_STATS_ENABLED": "0"}
    head = subprocess.Popen(
        [str(BIN / "ray"), "start", "--head", "--block", "--port", str(port), "--num-cpus", "0",
         "--include-dashboard=false", "--disable-usage-stats", "--temp-dir", str(temp)],
        env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cluster = Cluster(f"127.0.0.1:{port}", temp, head)
    deadline = time.monotonic() + 120
    while True:  # the head listens once its GCS is up; workers and runs probe it and refuse a closed port
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return cluster
        except OSError:
            if head.poll() is not None or time.monotonic() > deadline:
                cluster.stop()
                raise RuntimeError(f"the Ray head did not start on port {port}") from None
            time.sleep(0.2)


class RecordingModel(SimulatedModel):
    """The simulated model, keeping every request: what agents sent, and each agent's first turns (a finished
    agent billed twice would show two)."""

    def __init__(self, scenario: Scenario) -> None:
        super().__init__(scenario)
        self.requests: list[ModelRequest] = []
        self.first_turns: Counter[str] = Counter()

    async def turn(self, request: ModelRequest) -> ModelResponse:
        self.requests.append(request)
        if len(request.messages) == 1:  # counted now: the agent's loop goes on appending to this list
            self.first_turns[request.label or ""] += 1
        return await super().turn(request)
