"""A worker's side of a distributed run: one host per worker machine serves every agent placed there.

It holds the run's workspace snapshot (unpacked once per worker, reused by later runs with the same files),
each agent's tools and private copy, and runs ``check()`` commands in the worker's own OS sandbox. It never
sees the API key, the budget or the journal: model calls stay with the run process, which sends tool calls
here and gets their text back. Only JSON-able values cross.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import anyio
import platformdirs

from ..agents.environment import AgentEnvironment
from ..agents.isolation import OverlayEnvironment, Worktree, WorktreeEnvironment, confine, patched_copy
from ..results.findings import Patch
from ..settings import Settings
from .local import timed_command
from .snapshot import is_unpacked, unpacked


def snapshot_cache() -> Path:
    return Path(os.environ.get("WORKCREW_SNAPSHOT_CACHE") or platformdirs.user_cache_dir("workcrew")) / "snapshots"


class WorkspaceHost:
    """Wrapped as a Ray actor by ``distributed.py``; plain Python here so it can be tested without a cluster."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = Settings.model_validate(settings)
        self.root: Path | None = None
        self.agents: dict[str, AgentEnvironment] = {}

    async def prepare(self, digest: str, holder: list[Any]) -> dict[str, Any]:
        """Unpack the snapshot ``digest`` unless this worker has it; ``holder`` wraps the object reference so
        that the data is fetched only when it is missing here."""
        cache = snapshot_cache()
        fetched = False
        if not is_unpacked(cache, digest):
            data = await holder[0]
            await anyio.to_thread.run_sync(unpacked, cache, digest, data)
            fetched = True
        self.root = cache / digest
        self.settings = self.settings.model_copy(update={"workspace": self.root})
        from ..commands import sandbox_status

        sandbox = await anyio.to_thread.run_sync(sandbox_status)
        return {"fetched": fetched, "sandbox": sandbox.available, "sandbox_problem": None if sandbox.available else sandbox.reason}

    def _workspace(self) -> Path:
        if self.root is None:
            raise RuntimeError("the host was not given the run's workspace snapshot")
        return self.root

    async def open(self, agent_id: str, worktree: bool, tools: list[str] | None) -> list[dict[str, Any]]:
        from ..agents.tools import AgentToolBox

        root, settings = self._workspace(), self.settings
        allowed = frozenset(tools) if tools is not None else None
        environment: AgentEnvironment
        if worktree:
            tree = await Worktree.create(root, settings)
            environment = WorktreeEnvironment(tree, AgentToolBox(tree.path, settings, worktree=True, tools=allowed))
        else:
            environment = OverlayEnvironment(AgentToolBox(root, settings, tools=allowed))
        self.agents[agent_id] = environment
        assert environment.toolbox is not None
        return environment.toolbox.definitions()

    async def call(self, agent_id: str, name: str, arguments: dict[str, Any]) -> tuple[str, bool]:
        environment = self.agents.get(agent_id)
        if environment is None or environment.toolbox is None:
            return f"{name} failed: this agent's tools were closed", True
        return await environment.toolbox.call(name, arguments)

    async def finish(self, agent_id: str, succeeded: bool) -> dict[str, Any]:
        environment = self.agents.pop(agent_id, None)
        if environment is None:
            return {"patch": None, "reads": None}
        patch = await environment.finish(succeeded)
        reads = getattr(environment.toolbox, "reads", None) or None
        return {"patch": patch.model_dump() if patch is not None else None, "reads": reads}

    async def check(self, argv: list[str], cwd: str | None, patch: dict[str, Any] | None,
                    timeout: float) -> dict[str, Any]:
        """A command in a fresh copy of the snapshot (with ``patch`` applied): the snapshot stays pristine for
        the agents and checks that follow."""
        shipped = Patch.model_validate(patch) if patch is not None else None
        async with patched_copy(self._workspace(), self.settings, shipped) as root:
            return await timed_command(argv, confine(root, cwd), root, self.settings, timeout)
