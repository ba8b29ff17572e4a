"""The local executor: agents' tools, worktrees and checks on this machine (the default)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..agents.isolation import check_folders, workspace_environment
from ..settings import Settings

if TYPE_CHECKING:
    from ..agents.environment import AgentEnvironment
    from ..runtime.state import AgentRecord, RunState


class LocalExecutor:
    name = "local"

    async def start(self, state: RunState) -> None:
        return None

    async def close(self) -> None:
        return None

    def capacity(self) -> int | None:
        return None

    async def environment(self, state: RunState, record: AgentRecord) -> AgentEnvironment:
        return await workspace_environment(state, record)

    async def check(self, state: RunState, argv: list[str], *, isolation: Any, cwd: str | None,
                    timeout: float) -> dict[str, Any]:
        async with check_folders(state, isolation, cwd) as (folder, root):
            return await timed_command(argv, folder, root, state.settings, timeout)


async def timed_command(argv: list[str], folder: Path, root: Path, settings: Settings,
                        timeout: float) -> dict[str, Any]:
    """A check's command in ``folder`` (``root`` writable), with its duration; on this machine or a worker."""
    from .. import commands

    started = time.monotonic()
    result = await commands.run_command(argv, folder, settings=settings, writable=root, timeout=timeout)
    result["duration_s"] = round(time.monotonic() - started, 3)
    return result
