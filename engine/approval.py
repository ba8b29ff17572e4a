"""Approval before spending: the policy decision, remembered consent, and the prompt text with the estimate."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .estimate import Estimate, Range
from .settings import Settings
from .workflow import Workflow


@dataclass(frozen=True)
class Decision:
    ask: bool
    reason: str


def consent_key(workflow_name: str, workspace: Path) -> str:
    return f"approval:{workspace.resolve()}:{workflow_name}"


def remembered(store: Any, workflow_name: str, workspace: Path) -> bool:
    """True when the user answered "always" for this workflow in this project."""
    return store is not None and bool(store.get_value(consent_key(workflow_name, workspace)))


def remember(store: Any, workflow_name: str, workspace: Path) -> None:
    store.set_value(consent_key(workflow_name, workspace), True)


def forget(store: Any, workflow_name: str, workspace: Path) -> None:
    store.set_value(consent_key(workflow_name, workspace), False)


def decide(estimate: Estimate, settings: Settings, *, yes: bool = False, consent: bool = False) -> Decision:
    """Whether to ask before this run spends anything, and why."""
    if settings.provider == "simulated":
        return Decision(False, "the simulated model costs nothing")
    if yes:
        return Decision(False, "approved with --yes")
    if settings.approval == "never":
        return Decision(False, "the approval policy is 'never'")
    if consent:
        return Decision(False, "approved before for this workflow in this project")
    if settings.approval == "threshold":
        over_usd = estimate.cost_usd.high > settings.approval_threshold_usd
        over_agents = estimate.agents.high > settings.approval_threshold_agents
        if not (over_usd or over_agents):
            return Decision(False, f"under the approval threshold (${settings.approval_threshold_usd:g}, "
                                   f"{settings.approval_threshold_agents} agents)")
        what = []
        if over_usd:
            what.append(f"up to {money(estimate.cost_usd.high)} > ${settings.approval_threshold_usd:g}")
        if over_agents:
            what.append(f"up to {int(estimate.agents.high)} agents > {settings.approval_threshold_agents}")
        return Decision(True, "above the approval threshold: " + ", ".join(what))
    return Decision(True, "the approval policy is 'always'")


def approved_settings(settings: Settings, estimate: Estimate, *, budget_given: bool) -> Settings:
    """The run's settings once approved: the approved cap becomes its USD budget unless one was given."""
    if budget_given or settings.provider == "simulated":
        return settings
    return settings.model_copy(update={"budget_usd": round(estimate.budget_usd, 6)})


# -- text ------------------------------------------------------------------------------------------------


def money(value: float) -> str:
    if value == 0:
        return "$0"
    return f"${value:,.4f}" if value < 1 else f"${value:,.2f}"


def count(value: float) -> str:
    value = round(value)
    if value >= 1_000_000:
        return f"{value / 1_000_000:.2f}M"
    if value >= 10_000:
        return f"{value / 1000:.1f}k"
    return f"{value:,}"


def spread(r: Range, fmt: Any = count) -> str:
    """``expected (low – high)``, or one figure when the range is a point."""
    if fmt(r.low) == fmt(r.high):
        return str(fmt(r.expected))
    return f"{fmt(r.expected)} ({fmt(r.low)} – {fmt(r.high)})"


def summary_line(estimate: Estimate) -> str:
    """One line for notifications: agents, tokens, cost and time as ranges."""
    return (f"{spread(estimate.agents)} agents · {spread(estimate.total_tokens)} tokens · "
            f"{spread(estimate.cost_usd, money)} · {spread(estimate.minutes, _minutes)}")


def _minutes(value: float) -> str:
    return f"{value:.1f} min" if value >= 0.1 else "<0.1 min"


def estimate_text(estimate: Estimate) -> str:
    """The estimate as a few aligned lines (CLI prompt and `workcrew estimate`)."""
    lines = [
        f"  agents   {spread(estimate.agents)}",
        f"  tokens   {spread(estimate.total_tokens)}  (input {count(estimate.input_tokens.expected)}, "
        f"output {count(estimate.output_tokens.expected)}, cache read {count(estimate.cache_read_tokens.expected)})",
        f"  cost     {spread(estimate.cost_usd, money)}",
        f"  time     {spread(estimate.minutes, _minutes)} at {estimate.concurrency} agents at once",
    ]
    for title, rows in (("by phase", estimate.by_phase), ("by model", estimate.by_model)):
        if rows:
            parts = [f"{r.key or '(no phase)'}: {spread(r.agents)} agents, {spread(r.cost_usd, money)}" for r in rows]
            lines.append(f"  {title} " + "; ".join(parts))
    if estimate.calibrated_runs:
        lines.append(f"  calibrated from {estimate.calibrated_runs} earlier run(s) of this workflow")
    for note in estimate.notes:
        lines.append(f"  note: {note}")
    return "\n".join(lines)


def prompt_text(estimate: Estimate, workflow: Workflow, decision: Decision) -> str:
    meta = workflow.meta
    head = f"Run workflow {workflow.name!r}"
    if meta is not None:
        head += f": {meta.description}"
        if meta.phases:
            head += "\n  phases   " + " → ".join(p.title for p in meta.phases)
    return (f"{head}\n{estimate_text(estimate)}\n"
            f"  budget   hard cap {money(estimate.budget_usd)}: the run never spends more "
            f"(the high estimate plus room for the turns in flight)\n"
            f"Approval needed: {decision.reason}.")
