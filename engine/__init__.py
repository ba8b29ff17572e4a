"""Workcrew's engine: load, check, estimate and run workflow scripts with many agents in parallel.

The public API the CLI and the language server call::

    workflow = load_workflow("review.py")
    problems = workflow.check()
    handle = start(workflow, args, settings, store=RunStore(settings.resolved_state_dir()))
    async for event in handle.events(): ...
    result = await handle.result()
"""

from typing import TYPE_CHECKING, Any

# The names below load on first use: a script host child imports engine.dialects.* without paying for
# the estimator, the store and the run machinery (hundreds of milliseconds of imports).
_LAZY = {
    "AgentFailed": "errors", "BudgetExceeded": "errors", "LimitExceeded": "errors", "Problem": "errors",
    "ScriptError": "errors", "ScriptTimeout": "errors", "UnknownModel": "errors", "UsageError": "errors",
    "WorkcrewError": "errors", "WorkflowNotFound": "errors",
    "Estimate": "estimate", "Range": "estimate", "estimate": "estimate",
    "Event": "events",
    "Finding": "findings", "Patch": "findings", "make_finding": "findings",
    "Usage": "pricing", "cost_usd": "pricing", "price_of": "pricing",
    "freeze_startup_heap": "runtime.heap",
    "RunHandle": "runtime.run", "RunResult": "runtime.run", "start": "runtime.run",
    "Settings": "settings", "load_settings": "settings",
    "RunStore": "store",
    "Workflow": "workflow", "load_workflow": "workflow",
}

if TYPE_CHECKING:
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


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


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
