"""Workcrew's engine: load, check, estimate and run workflow scripts with many agents in parallel.

The public API the CLI and the language server call::

    workflow = load_workflow("review.py")
    problems = workflow.check()
    handle = start(workflow, args, settings, store=RunStore(settings.resolved_state_dir()))
    async for event in handle.events(): ...
    result = await handle.result()
"""

from typing import TYPE_CHECKING, Any

# The names below load on first use: a script host child imports engine.workflows.dialects.* without paying for
# the estimator, the store and the run machinery (hundreds of milliseconds of imports).
_LAZY = {
    "AgentFailed": "errors", "BudgetExceeded": "errors", "LimitExceeded": "errors", "Problem": "errors",
    "ScriptError": "errors", "ScriptTimeout": "errors", "UnknownModel": "errors", "UsageError": "errors",
    "WorkcrewError": "errors", "WorkflowNotFound": "errors",
    "Estimate": "cost.estimate", "Range": "cost.estimate", "estimate": "cost.estimate",
    "Event": "runtime.events",
    "Finding": "results.findings", "Patch": "results.findings", "make_finding": "results.findings",
    "Usage": "cost.pricing", "cost_usd": "cost.pricing", "price_of": "cost.pricing",
    "freeze_startup_heap": "runtime.heap",
    "RunHandle": "runtime.run", "RunResult": "runtime.run", "start": "runtime.run",
    "Settings": "settings", "load_settings": "settings",
    "RunStore": "store",
    "Workflow": "workflows.workflow", "load_workflow": "workflows.workflow",
}

if TYPE_CHECKING:
    from .cost.estimate import Estimate, Range, estimate
    from .cost.pricing import Usage, cost_usd, price_of
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
    from .results.findings import Finding, Patch, make_finding
    from .runtime.events import Event
    from .runtime.heap import freeze_startup_heap
    from .runtime.run import RunHandle, RunResult, start
    from .settings import Settings, load_settings
    from .store import RunStore
    from .workflows.workflow import Workflow, load_workflow


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
