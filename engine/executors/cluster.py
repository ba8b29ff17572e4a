"""Ray, as Workcrew uses it: connecting a run to a cluster, its Workcrew workers, and joining one.

A Workcrew worker is a Ray node started by ``workcrew worker --cluster ADDRESS``: it offers the custom
resource ``workcrew_worker`` (its slots: agents and checks at once) and is named ``--name`` (default: the
host name). Ray is imported only here and only when a distributed run or a worker needs it, so the
default local mode needs nothing installed.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import sys
from dataclasses import dataclass
from types import ModuleType

from ..errors import UsageError, WorkcrewError

WORKER_RESOURCE = "workcrew_worker"
NAMESPACE = "workcrew"
_connected: str | None = None  # the address this process is connected to
_users = 0  # runs of this process using that connection


@dataclass(frozen=True)
class WorkerNode:
    name: str
    node_id: str
    slots: int


def ray_module() -> ModuleType:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage reports leave the user's machines
    try:
        import ray
    except ImportError:
        raise UsageError("the distributed executor runs on Ray, which is not installed here: "
                         "pip install 'workcrew[distributed]'") from None
    return ray


def connect(address: str) -> ModuleType:
    """Connect this process to the cluster at ``address``; pair with :func:`release` when the run ends.

    The connection lasts only while runs use it: a Ray driver whose cluster goes away terminates its whole
    process about a minute later, which must not happen to a program that outlives its runs."""
    global _connected, _users
    ray = ray_module()
    if ray.is_initialized():
        if _connected in (None, address):
            _users += 1
            return ray
        ray.shutdown()  # one cluster per process at a time: a run asking for another one moves this process
        _users = 0
    _probe(address)
    try:
        ray.init(address=address, namespace=NAMESPACE, logging_level=logging.ERROR, log_to_driver=False,
                 configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        detail = " ".join(str(exc).split())[:300]
        raise WorkcrewError(f"cannot reach the cluster at {address}: {detail}. Is its head running "
                            "(`ray start --head` on the head machine) and is the address right?") from None
    _connected, _users = address, 1
    return ray


def release() -> None:
    """A run is done with the cluster; the last one disconnects this process from it."""
    global _connected, _users
    _users = max(0, _users - 1)
    if _users == 0 and _connected is not None:
        import ray

        _connected = None
        ray.shutdown()


def disconnect(address: str) -> None:
    """Drop this process's connection to ``address`` whoever uses it (its cluster is being taken down)."""
    global _connected, _users
    if _connected == address:
        import ray

        _connected, _users = None, 0
        ray.shutdown()


def _probe(address: str, timeout: float = 5.0) -> None:
    """Fail at once when nothing listens at ``HOST:PORT`` (Ray itself would wait for the head indefinitely)."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        return  # not HOST:PORT ("auto", a Ray-specific form): left to Ray
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise WorkcrewError(f"cannot reach the cluster at {address}: {exc.strerror or exc}. Is its head running "
                            "(`ray start --head` on the head machine) and is the address right?") from None


def worker_nodes() -> list[WorkerNode]:
    """The cluster's live Workcrew workers; names made unique when two share a host name."""
    import ray

    nodes = [n for n in ray.nodes()  # type: ignore[no-untyped-call]
             if n.get("Alive") and n.get("Resources", {}).get(WORKER_RESOURCE)]
    names = [str(n.get("NodeName") or n.get("NodeManagerAddress") or "worker") for n in nodes]
    out = []
    for node, name in zip(nodes, names, strict=True):
        unique = name if names.count(name) == 1 else f"{name}-{node['NodeID'][:6]}"
        out.append(WorkerNode(unique, node["NodeID"], int(node["Resources"][WORKER_RESOURCE])))
    return out


def join_command(address: str, *, slots: int, name: str, cpus: int | None) -> list[str]:
    """``ray start`` joining this machine to the cluster as a Workcrew worker, blocking until stopped."""
    ray_module()
    _probe(address)
    executable = shutil.which("ray", path=os.path.dirname(sys.executable)) or shutil.which("ray")
    if executable is None:
        raise UsageError("the `ray` command is not on PATH: install Workcrew with pip install 'workcrew[distributed]'")
    argv = [executable, "start", "--address", address, "--block", "--disable-usage-stats",
            "--node-name", name, "--resources", f'{{"{WORKER_RESOURCE}": {slots}}}']
    if cpus is not None:
        argv += ["--num-cpus", str(cpus)]
    return argv
