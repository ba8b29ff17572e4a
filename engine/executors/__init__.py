"""Where an agent's work runs: its tools, its copy of the workspace, its patch, and ``check()``.

Two executors share one interface (:class:`Executor`): ``local`` (this machine, the default, nothing to
install) and ``distributed`` (the workers of a Ray cluster, ``distributed.py``). Whichever runs the work,
the run process keeps the model calls, the budget, the scheduler's accounting and the journal, so estimates,
hard budgets, progress, findings and resume behave the same.
"""

from __future__ import annotations

from ..settings import Settings
from .base import Executor, WorkerLost
from .local import LocalExecutor

__all__ = ["Executor", "LocalExecutor", "WorkerLost", "executor_for"]


def executor_for(settings: Settings) -> Executor:
    """The executor a run's settings ask for (``executor = "distributed"`` needs ``cluster``)."""
    if settings.executor == "distributed":
        from .distributed import DistributedExecutor

        return DistributedExecutor(settings)
    return LocalExecutor()
