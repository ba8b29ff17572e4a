"""The distributed executor: agents' tools, private copies and checks on the workers of a Ray cluster.

The run process stays the single source of truth: it runs the script host, the scheduler, every model call
(so the API key never leaves it and budgets reserve per turn exactly as locally), the journal and the store.
What costs CPU and disk — an agent's copy of the repository, its Read/Grep/Edit/Bash tools, ``check()``
builds and tests — runs on a worker: one :class:`host.WorkspaceHost` actor per worker machine, pinned to it.
The workspace goes out once per run as a content-addressed snapshot (``snapshot.py``) through Ray's object
store; a worker that has those files already never fetches them. A worker lost mid-call raises
:class:`WorkerLost`: the run re-queues that agent on another worker (its finished agents are never run
again) and re-runs a check elsewhere.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio

from ..agents.environment import AgentEnvironment
from ..agents.isolation import patch_of
from ..errors import UsageError, WorkcrewError
from ..results.findings import Patch
from ..settings import Settings
from .base import WorkerLost
from .cluster import connect, release, worker_nodes
from .snapshot import pack

if TYPE_CHECKING:
    from ..runtime.state import AgentRecord, RunState

log = logging.getLogger(__name__)


@dataclass
class _Host:
    name: str
    node_id: str
    slots: int
    actor: Any
    active: int = 0
    alive: bool = True


class DistributedExecutor:
    name = "distributed"

    def __init__(self, settings: Settings) -> None:
        if not settings.cluster:
            raise UsageError('executor = "distributed" needs the cluster\'s address: --cluster HOST:6379 (or '
                             '"cluster" in workcrew.toml, or the editor\'s workcrew.cluster setting)')
        self.address = settings.cluster
        self.hosts: list[_Host] = []
        self.connected = False

    async def start(self, state: RunState) -> None:
        ray = await anyio.to_thread.run_sync(connect, self.address)
        self.connected = True
        nodes = await anyio.to_thread.run_sync(worker_nodes)
        if not nodes:
            raise WorkcrewError(f"the cluster at {self.address} has no Workcrew workers: start one on each machine "
                                f"with `workcrew worker --cluster {self.address}`")
        settings = state.settings
        snapshot = await anyio.to_thread.run_sync(pack, settings.workspace, settings)
        reference = await anyio.to_thread.run_sync(ray.put, snapshot.data)
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        from .host import WorkspaceHost

        actor_class = ray.remote(WorkspaceHost)
        shipped = settings.model_dump(mode="json")
        for node in nodes:
            actor = actor_class.options(
                num_cpus=0, max_concurrency=4096, max_restarts=0, max_task_retries=0,
                scheduling_strategy=NodeAffinitySchedulingStrategy(node.node_id, soft=False),
            ).remote(shipped)
            self.hosts.append(_Host(node.name, node.node_id, node.slots, actor))
        fetched = 0
        for host in list(self.hosts):
            try:
                answer = await host.actor.prepare.remote(snapshot.digest, [reference])
                fetched += bool(answer["fetched"])
            except Exception as exc:  # a worker that cannot take the snapshot serves nothing in this run
                host.alive = False
                state.log(f"distributed: worker {host.name} is left out of this run: {_reason(exc)}")
                continue
            if not answer["sandbox"]:
                # what was approved is commands in an OS sandbox: a worker without one serves no agent, even
                # where this machine allows unsandboxed commands (the approval looked at this machine only)
                host.alive = False
                state.log(f"distributed: worker {host.name} is left out of this run: it has no OS sandbox for "
                          f"commands ({answer['sandbox_problem']})")
        live = [h for h in self.hosts if h.alive]
        if not live:
            raise WorkcrewError(f"no worker of the cluster at {self.address} could take the workspace snapshot")
        state.log(f"distributed: {len(live)} workers ({', '.join(f'{h.name}: {h.slots} slots' for h in live)}); "
                  f"workspace snapshot {snapshot.files} files, {len(snapshot.data) / 1e6:.1f} MB, "
                  f"sha256 {snapshot.digest[:12]}, sent to {fetched} of {len(live)} workers (the rest had it)")

    async def close(self) -> None:
        import ray

        for host in self.hosts:
            try:
                ray.kill(host.actor)
            except Exception:  # already gone with its worker
                log.debug("could not stop the host on %s", host.name)
        self.hosts.clear()
        if self.connected:
            self.connected = False
            await anyio.to_thread.run_sync(release)

    def capacity(self) -> int | None:
        return sum(h.slots for h in self.hosts if h.alive)

    def _pick(self, avoid: set[str] | None = None) -> _Host:
        live = [h for h in self.hosts if h.alive and h.name not in (avoid or set())]
        if not live:
            live = [h for h in self.hosts if h.alive]
        if not live:
            raise WorkcrewError(f"every worker of the cluster at {self.address} was lost: start workers with "
                                f"`workcrew worker --cluster {self.address}` and run again (finished agents are "
                                "reused)")
        return min(live, key=lambda h: (h.active / max(h.slots, 1), h.active))

    def _lost(self, host: _Host, exc: BaseException) -> WorkerLost:
        host.alive = False
        return WorkerLost(host.name, _reason(exc))

    async def environment(self, state: RunState, record: AgentRecord) -> AgentEnvironment:
        host = self._pick()
        tools = sorted(record.tools) if record.tools is not None else None
        host.active += 1
        try:
            definitions = await host.actor.open.remote(record.id, record.isolation == "worktree", tools)
        except Exception as exc:
            host.active -= 1
            raise self._remote_failure(host, exc) from None
        record.worker = host.name
        state.save_agent(record, "worker")
        return RemoteEnvironment(self, host, record, definitions, state.settings)

    def _remote_failure(self, host: _Host, exc: BaseException) -> WorkcrewError:
        from ray.exceptions import RayActorError

        if isinstance(exc, RayActorError):
            return self._lost(host, exc)
        return WorkcrewError(f"worker {host.name}: {_reason(exc)}")

    async def check(self, state: RunState, argv: list[str], *, isolation: Any, cwd: str | None,
                    timeout: float) -> dict[str, Any]:
        patch = patch_of(isolation) if isolation is not None and isolation != "worktree" else None
        tried: set[str] = set()
        while True:
            host = self._pick(tried)
            host.active += 1
            try:
                result: dict[str, Any] = await host.actor.check.remote(
                    argv, cwd, patch.model_dump() if patch is not None else None, timeout)
                result["worker"] = host.name
                return result
            except Exception as exc:
                failure = self._remote_failure(host, exc)
                if not isinstance(failure, WorkerLost):
                    raise failure from None
                tried.add(host.name)
                state.log(f"check {' '.join(argv)[:80]}: {failure}; running it on another worker")
            finally:
                host.active -= 1


class RemoteEnvironment(AgentEnvironment):
    """One agent's tools on a worker: each call is sent to its host and the text comes back."""

    def __init__(self, executor: DistributedExecutor, host: _Host, record: AgentRecord,
                 definitions: list[dict[str, Any]], settings: Settings) -> None:
        self.executor = executor
        self.host = host
        self.record = record
        self.toolbox: RemoteToolBox = RemoteToolBox(self, definitions, record, settings)
        self._finished = False

    async def finish(self, succeeded: bool) -> Patch | None:
        if self._finished:
            return None
        self._finished = True
        self.host.active -= 1
        if not self.host.alive:
            return None
        try:
            answer = await self.host.actor.finish.remote(self.record.id, succeeded)
        except Exception as exc:
            if succeeded:
                raise self.executor._remote_failure(self.host, exc) from None
            return None  # a failed agent's copy goes with its worker
        self.toolbox.reads = answer.get("reads") or {}
        return Patch.model_validate(answer["patch"]) if answer.get("patch") else None


class RemoteToolBox:
    """The agent loop's toolbox for an agent whose tools run on a worker; skills load here (they are the
    user's files, not the workspace's)."""

    def __init__(self, environment: RemoteEnvironment, definitions: list[dict[str, Any]],
                 record: AgentRecord, settings: Settings) -> None:
        from ..agents.tools import LOAD_SKILL_DEFINITION
        from ..tool_names import LOAD_SKILL

        self.environment = environment
        self._definitions = list(definitions)
        self.skill_box: Any = None
        if record.skills and (record.tools is None or LOAD_SKILL in record.tools):
            self._definitions.append(LOAD_SKILL_DEFINITION)
        self.record = record
        self.settings = settings
        self.reads: dict[str, str] = {}

    def definitions(self) -> list[dict[str, Any]]:
        return list(self._definitions)

    async def call(self, name: str, arguments: dict[str, Any]) -> tuple[str, bool]:
        from ..agents.tools import AgentToolBox
        from ..tool_names import LOAD_SKILL

        if name == LOAD_SKILL and self.record.skills:
            if self.skill_box is None:
                self.skill_box = AgentToolBox(self.settings.workspace, self.settings, tools=frozenset({LOAD_SKILL}),
                                              skills=self.record.skills)
            result: tuple[str, bool] = await self.skill_box.call(name, arguments)
            return result
        host = self.environment.host
        try:
            answer = await host.actor.call.remote(self.record.id, name, arguments)
        except Exception as exc:
            raise self.environment.executor._remote_failure(host, exc) from None
        return str(answer[0]), bool(answer[1])


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    first = text.split(". ")[0] if text else type(exc).__name__
    return first[:300]
