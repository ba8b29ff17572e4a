"""Where a run the editor shows does its work: the executor in its tree ("distributed (HOST:6379)") and
the worker in each agent's row, for the Runs view's descriptions and tooltips (docs/editors.md, "Runs").

Agents carry their workers in the tree of a run inside this server (``AgentRecord.view()``) and of a followed
one (``RunFollower``, from the agent rows) alike; the executor is added here.
"""

from __future__ import annotations

from typing import Any

from workcrew.engine import RunHandle
from workcrew.engine.runtime.follow import RunFollower
from workcrew.engine.store.placement import executor_label


def executor_of(handle: RunHandle | RunFollower) -> str | None:
    """``"distributed (ADDRESS)"`` for a run whose work goes to a cluster; None for a local one."""
    label: str | None
    if isinstance(handle, RunFollower):
        label = executor_label(handle.run.get("settings"))
    else:
        settings = handle.state.settings
        label = executor_label({"executor": settings.executor, "cluster": settings.cluster})
    return label


def placed(handle: RunHandle | RunFollower, tree: dict[str, Any]) -> dict[str, Any]:
    """``tree`` with its executor for a run whose work goes to a cluster (its agents carry their workers);
    a local run's tree is returned as it is."""
    executor = executor_of(handle)
    return tree if executor is None else {**tree, "executor": executor}
