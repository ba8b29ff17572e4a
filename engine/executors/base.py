"""The executor interface: what a run asks of whatever runs its agents' work."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from ..errors import WorkcrewError

if TYPE_CHECKING:  # the runtime hands executors its state; executors never import the runtime
    from ..agents.environment import AgentEnvironment
    from ..runtime.state import AgentRecord, RunState


class WorkerLost(WorkcrewError):
    """The worker running an agent's tools or a check went away mid-call (crashed, killed, cut off).

    The run re-queues the agent on another worker; nothing it finished earlier is run again."""

    def __init__(self, worker: str, detail: str = "") -> None:
        self.worker = worker
        super().__init__(f"worker {worker} was lost{f' ({detail})' if detail else ''}")


class Executor(Protocol):
    """Runs an agent's environment (tools, private copy, patch) and ``check()`` commands."""

    name: str

    async def start(self, state: RunState) -> None:
        """Get ready for a run (connect, ship the workspace snapshot); raise with what to do when it cannot."""

    async def close(self) -> None:
        """Release everything the run held (remote hosts, temporary copies)."""

    def capacity(self) -> int | None:
        """Agents it can serve at once (``None``: no limit of its own beyond the run's concurrency)."""

    async def environment(self, state: RunState, record: AgentRecord) -> AgentEnvironment:
        """The environment one agent works in; ``record.worker`` names where, when it is not here."""

    async def check(self, state: RunState, argv: list[str], *, isolation: Any, cwd: str | None,
                    timeout: float) -> dict[str, Any]:
        """Run an allowlisted command (already refused or admitted by the caller); its exit code and output."""


