"""Workcrew's engine: load, check, estimate and run workflow scripts with many agents in parallel.

The public API the CLI and the language server call::

    workflow = load_workflow("review.py")
    problems = workflow.check()
    handle = start(workflow, args, settings, store=RunStore(settings.resolved_state_dir()))
    async for event in handle.events(): ...
    result = await handle.result()
"""

from .errors import (
    AgentFailed,
    BudgetExceeded,
    LimitExceeded,
    Problem,
    ScriptError,
    ScriptTimeout,
    UnknownModel,
    UsageError,
    WorkcrewError,
    WorkflowNotFound,
)
from .estimate import Estimate, Range, estimate
from .events import Event
from .findings import Finding, Patch, make_finding
from .pricing import Usage, cost_usd, price_of
from .runtime.heap import freeze_startup_heap
from .runtime.run import RunHandle, RunResult, start
from .settings import Settings, load_settings
from .store import RunStore
from .workflow import Workflow, load_workflow

__all__ = [
    "AgentFailed",
    "BudgetExceeded",
    "Estimate",
    "Event",
    "Finding",
    "LimitExceeded",
    "Patch",
    "Problem",
    "Range",
    "RunHandle",
    "RunResult",
    "RunStore",
    "ScriptError",
    "ScriptTimeout",
    "Settings",
    "UnknownModel",
    "Usage",
    "UsageError",
    "WorkcrewError",
    "Workflow",
    "WorkflowNotFound",
    "cost_usd",
    "estimate",
    "freeze_startup_heap",
    "load_settings",
    "load_workflow",
    "make_finding",
    "price_of",
    "start",
]
