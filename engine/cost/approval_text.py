"""The words of an approval: the estimate, the script, the cap and what changed since the last yes, as the
CLI prints them and the editor's notification shows them."""

from __future__ import annotations

import json
from typing import Any

from ..settings import Settings
from ..workflows.workflow import Workflow
from .approval import Approval, Decision, describe_cap, script_digest, short_digest
from .approval_scope import describe_scope
from .estimate import Estimate, Range
from .pricing import money

# -- text ------------------------------------------------------------------------------------------------


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
    reused = f" (+{estimate.reused} reused, no cost)" if estimate.reused else ""
    return (f"{spread(estimate.agents)} agents{reused} · {spread(estimate.total_tokens)} tokens · "
            f"{spread(estimate.cost_usd, money)} · {spread(estimate.minutes, _minutes)}")


def _minutes(value: float) -> str:
    return f"{value:.1f} min" if value >= 0.1 else "<0.1 min"


def estimate_text(estimate: Estimate) -> str:
    """The estimate as a few aligned lines (CLI prompt and `workcrew estimate`)."""
    lines = [
        f"  agents   {spread(estimate.agents)}"
        + (f"  (+{estimate.reused} reused from an earlier run: no cost)" if estimate.reused else ""),
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


def _args_text(args: Any, limit: int = 300) -> str:
    try:
        text = json.dumps(args, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(args)
    return text if len(text) <= limit else text[:limit] + f"… ({len(text):,} characters)"


def script_text(workflow: Workflow, digest: str | None = None) -> str:
    """Which script runs: its path (or where it comes from) and the sha256 of its source."""
    digest = digest or script_digest(workflow.source)
    where = str(workflow.path) if workflow.path else f"{workflow.origin} script, not saved to a file"
    if workflow.origin == "builtin":
        where = f"built-in workflow ({where})"
    return f"{where} (sha256 {short_digest(digest)})"


def cap_text(estimate: Estimate | None, approval: Approval | None, *, why: bool = True) -> str:
    """``hard cap $0.1139: the run never spends more (...)``: the caps the run is approved at.

    ``why``: say where a cap taken from the estimate comes from.
    """
    room = " (the high estimate plus room for the turns in flight)" if why else ""
    if approval is None:
        return f"hard cap {money(estimate.budget_usd)}: the run never spends more{room}" if estimate else "no cap"
    if approval.cap_usd is None and approval.cap_tokens is None:
        return "no hard cap (no estimate and no budget set)"
    from_estimate = (estimate is not None and approval.cap_tokens is None and approval.cap_usd is not None
                     and round(approval.cap_usd, 6) == round(estimate.budget_usd, 6))
    return f"hard cap {describe_cap(approval)}: the run never spends more{room if from_estimate else ''}"


def prompt_text(estimate: Estimate, workflow: Workflow, decision: Decision, approval: Approval | None = None,
                args: Any = None, settings: Settings | None = None) -> str:
    """The terminal prompt: what will run (script, scope, args, provider, phases), the estimate, the cap, and
    why it asks (what changed since the remembered approval, when that is the reason)."""
    meta = workflow.meta
    head = f"Run workflow {workflow.name!r}"
    if meta is not None:
        head += f": {meta.description}"
    lines = [head, f"  script   {script_text(workflow, approval.digest if approval else None)}"]
    if approval is not None:
        lines.append(f"  scope    {describe_scope(approval.scope)} in {approval.workspace}")
    if args is not None:
        lines.append(f"  args     {_args_text(args)}")
    lines.append(f"  provider {estimate.provider}")
    if meta is not None and meta.phases:
        lines.append("  phases   " + " → ".join(p.title for p in meta.phases))
    lines.append(estimate_text(estimate))
    lines.append(f"  budget   {cap_text(estimate, approval)}")
    if decision.changes:
        lines.append("Asked again: you approved this workflow before, but")
        lines += [f"  - {change}" for change in decision.changes]
    else:
        lines.append(f"Approval needed: {decision.reason}.")
    lines.append('"always" runs it and stops asking until the script changes, the scope grows or the cap rises.')
    warning = sandbox_warning(settings) if settings is not None else None
    if warning is not None:
        lines.append(warning)
    servers = mcp_servers_line(settings) if settings is not None else None
    if servers is not None:
        lines.append(servers)
    web = web_research_line(estimate)
    if web is not None:
        lines.append(web)
    return "\n".join(lines)


def web_research_line(estimate: Estimate | None) -> str | None:
    """The line an approval text adds when agents of the run have web search or fetch (their dry run used them):
    how many uses, and what they mean for the workspace's text (a fetched URL is chosen by the model)."""
    if estimate is None or not (estimate.web_searches.high or estimate.web_fetches.high):
        return None
    parts = []
    if estimate.web_searches.high:
        parts.append(f"{spread(estimate.web_searches)} web searches")
    if estimate.web_fetches.high:
        parts.append(f"{spread(estimate.web_fetches)} page fetches")
    return (f"Web research: {' and '.join(parts)}, run by Anthropic's servers (in the cost above). The model picks "
            "what to search and which URLs to fetch: what the agents read can appear in them.")


def mcp_servers_line(settings: Settings) -> str | None:
    """The line every approval text adds when the project has MCP servers (``.mcp.json``): which servers the run
    may start, what each runs or reaches, and which are not approved (they do not start)."""
    from ..agents.mcp_config import approval_line

    try:
        return approval_line(settings)
    except OSError as exc:  # an unreadable settings file must not stop the question from being asked
        return f"MCP servers: cannot tell which are approved ({exc})"


def sandbox_warning(settings: Settings) -> str | None:
    """The line every approval text adds when commands (check(), agents' run_command) would run without an
    OS sandbox: ``allow_unsandboxed_commands`` is set and bubblewrap is missing or cannot run here."""
    from ..commands import risk

    text = risk(settings)
    return f"Warning: {text}" if text else None
