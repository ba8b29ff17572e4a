"""Where agents and checks work: the workspace, or a private copy of it. (Extended by the agents issue.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import UsageError

if TYPE_CHECKING:
    from .runtime.state import AgentEnvironment, AgentRecord, RunState


def confine(workspace: Path, relative: str | None) -> Path:
    """``relative`` inside ``workspace``, refusing anything that escapes it."""
    root = workspace.resolve()
    if not relative:
        return root
    target = (root / relative).resolve()
    if target != root and root not in target.parents:
        raise UsageError(f"{relative!r} is outside the workspace {root}")
    return target


async def workspace_environment(state: RunState, record: AgentRecord) -> AgentEnvironment:
    from .runtime.state import AgentEnvironment

    return AgentEnvironment()


@asynccontextmanager
async def check_directory(state: RunState, isolation: Any, cwd: str | None) -> AsyncIterator[Path]:
    if isolation is not None:
        raise UsageError("check(isolation=...) needs workspace isolation, which is not available yet")
    yield confine(state.settings.workspace, cwd)
