"""An approval's details as data: what will run, what it costs, which files it is pointed at and what was left
out of them and why — the JSON behind ``workcrew.approvalDetails`` / ``workcrew.estimateDetails``, the editor's
details panel and the Markdown page plain clients open (:mod:`.approval_markdown`).

Everything here is blocking (the scope walk, ``.mcp.json``, the sandbox probe): callers run
:func:`build_details` in a worker thread.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from workcrew.engine import Settings, Workflow

TOP_FILES = 25  # files listed one by one in the details; the rest are summed in one row (all on request)
TOP_FOLDERS = 25  # top-level folders with their files' sums, most tokens first
NOT_PASSED = "not-passed"  # a reason of the details alone: workspace files a default scope did not pass

# why a path was left out of the scope, in the user's words (the reasons of engine/workspace/scope_types.py)
REASONS: dict[str, str] = {
    "gitignore": "ignored by .gitignore",
    "default-exclude": "default exclude (dependencies, build output, caches, VCS folders, lock files)",
    "virtualenv": "a Python virtual environment",
    "secret": "a secret file (secret_patterns): never sent to a model",
    "binary": "a binary file",
    "too-large": "over the size cap (max_file_bytes)",
    "excludes-setting": "matches the excludes setting",
    "symlink-outside-workspace": "a symlink that points outside the workspace",
    "symlinked-folder": "a symlink to a folder (not followed)",
    "unreadable": "cannot be read",
    "not-a-regular-file": "not a regular file",
    "hard-linked": "several hard links (it may be another name for a secret file)",
    NOT_PASSED: "in scope but not given to the workflow (tests, docs and data files, or past the limit)",
}


@dataclass
class DetailsInput:
    """What the approval is about: the run as it would start, its estimate and what approving binds."""

    workflow: Workflow
    args: Any
    settings: Settings
    estimate: Any = None  # an Estimate, or None with ``why_not``
    why_not: str | None = None
    bound: Any = None  # the cost.approval.Approval this run binds
    scope: Any = None  # the editor's Scope, when the run came with one
    phase_models: Mapping[str, Mapping[str, int]] = field(default_factory=dict)  # phase -> model -> agents
    changes: Sequence[str] = ()  # why it asks again, when an earlier "Always run" does not cover the run
    can_remember: bool = False
    # what the workspace's scope filled in for a built-in given no files (server/default_scope.py), if it did
    default_scope: Mapping[str, Any] | None = None


def details_scope(given: Any, bound: Any, settings: Settings, from_workspace: bool = False) -> Any:
    """The files the run is pointed at: the editor's scope, else the paths the approval binds (the paths its
    args name), else the whole workspace — with what was left out and why, .gitignore included.

    ``from_workspace``: the args' files were filled in from the workspace's scope (a built-in given none), so
    what the workspace left out is what the user needs to see, and the files not passed are a reason too.
    """
    from workcrew.engine.cost.approval_scope import WHOLE_WORKSPACE
    from workcrew.engine.workspace.scope import ScopeRequest, compute_scope
    from workcrew.engine.workspace.scope_types import SAMPLE_LIMIT

    if given is not None and hasattr(given, "files"):
        return given
    entries = list(bound.scope) if bound is not None else [WHOLE_WORKSPACE]
    if from_workspace:
        whole = compute_scope(ScopeRequest(settings.workspace, whole_workspace=True, report_ignored=True), settings)
        passed = set(entries)
        dropped = [f.path for f in whole.files if f.path not in passed]
        whole.files = [f for f in whole.files if f.path in passed]
        if dropped:
            whole.excluded[NOT_PASSED] = dropped[:SAMPLE_LIMIT]
            whole.excluded_counts[NOT_PASSED] = len(dropped)
        return whole
    if WHOLE_WORKSPACE in entries:
        request = ScopeRequest(settings.workspace, whole_workspace=True, report_ignored=True)
    else:
        request = ScopeRequest(settings.workspace, paths=[e.rstrip("/") for e in entries], report_ignored=True)
    return compute_scope(request, settings)


def build_details(given: DetailsInput) -> tuple[dict[str, Any], Any]:
    """(the details as JSON without the full file list, the scope they describe). Blocking."""
    from workcrew.engine.errors import WorkcrewError

    workflow, settings = given.workflow, given.settings
    try:
        scope = details_scope(given.scope, given.bound, settings, from_workspace=given.default_scope is not None)
        scope_problem = None
    except (WorkcrewError, OSError) as exc:  # the question is still asked; the details say why files are missing
        scope, scope_problem = None, f"the files in scope cannot be listed: {exc}"
    estimate = given.estimate
    files = files_json(scope, TOP_FILES)
    data: dict[str, Any] = {
        "workflow": workflow.name,
        "description": workflow.meta.description if workflow.meta else None,
        "target": target_of(workflow),
        "args": given.args,
        "narrowable": narrowable(workflow),
        "script": script_json(workflow, given.bound),
        "provider": getattr(estimate, "provider", None) or settings.provider,
        "phases": phases_json(workflow, estimate, given.phase_models),
        "models": [b.to_json("model") for b in estimate.by_model] if estimate is not None else [],
        "totals": totals_json(estimate, files["total"]),
        "estimate_unavailable": given.why_not if estimate is None else None,
        "notes": [*([given.default_scope["note"]] if given.default_scope and given.default_scope.get("note") else []),
                  *(estimate.notes if estimate is not None else [])],
        "cap": cap_json(estimate, given.bound),
        "scope": scope_json(scope, given.bound, scope_problem),
        "files": files,
        "excluded": excluded_json(scope),
        "mcp": mcp_json(settings),
        "web": web_json(estimate),
        "sandbox": sandbox_text(settings),
        "changes": list(given.changes),
        "can_remember": given.can_remember,
    }
    data["headline"] = headline(data)
    data["warning"] = warning_line(data)
    return data, scope


# -- the parts -----------------------------------------------------------------------------------------------


def target_of(workflow: Workflow) -> dict[str, Any]:
    """How ``workcrew.runWorkflow`` finds this workflow again (Edit scope starts it anew)."""
    if workflow.origin == "builtin" or workflow.path is None:
        return {"name": workflow.name, "path": None}
    return {"name": workflow.name, "path": str(workflow.path)}


def narrowable(workflow: Workflow) -> bool:
    """Edit scope narrows a run through its ``files`` argument: only workflows that document one take it,
    and only one that can be found again (saved, or built in) can be started anew."""
    takes_files = bool(workflow.meta and workflow.meta.args and "files" in workflow.meta.args)
    return takes_files and (workflow.path is not None or workflow.origin == "builtin")


def script_json(workflow: Workflow, bound: Any) -> dict[str, Any]:
    digest = bound.digest if bound is not None else hashlib.sha256(
        workflow.source.encode("utf-8", "surrogatepass")).hexdigest()
    return {"path": str(workflow.path) if workflow.path else None, "origin": workflow.origin, "sha256": digest,
            "lines": workflow.source.count("\n") + 1, "source": workflow.source}


def phases_json(workflow: Workflow, estimate: Any, phase_models: Mapping[str, Mapping[str, int]]) -> list[dict[str, Any]]:
    """The workflow's phases in order (its meta's, then any the dry run met), each with its agents, cost and the
    models its agents use."""
    breakdown = {b.key: b for b in estimate.by_phase} if estimate is not None else {}
    order = [p.title for p in workflow.meta.phases] if workflow.meta else []
    order += [key for key in [*breakdown, *phase_models] if key not in order]
    out = []
    for title in order:
        part = breakdown.get(title)
        models = phase_models.get(title, {})
        if part is None and not models and title == "":
            continue
        out.append({
            "phase": title or None,
            "agents": part.agents.to_json(integer=True) if part else {"low": 0, "expected": 0, "high": 0},
            "cost_usd": part.cost_usd.to_json() if part else {"low": 0.0, "expected": 0.0, "high": 0.0},
            "models": [{"model": model, "agents": count} for model, count in sorted(models.items(), key=lambda m: -m[1])],
        })
    return out


def totals_json(estimate: Any, files: int) -> dict[str, Any]:
    if estimate is None:
        return {"agents": None, "tokens": None, "cost_usd": None, "minutes": None, "files": files}
    return {"agents": estimate.agents.to_json(integer=True), "tokens": estimate.total_tokens.to_json(integer=True),
            "cost_usd": estimate.cost_usd.to_json(), "minutes": estimate.minutes.to_json(digits=2), "files": files,
            "reused": estimate.reused}


def cap_json(estimate: Any, bound: Any) -> dict[str, Any]:
    from workcrew.engine.cost.approval_text import cap_text

    usd = bound.cap_usd if bound is not None else (round(estimate.budget_usd, 6) if estimate is not None else None)
    tokens = bound.cap_tokens if bound is not None else None
    return {"usd": usd, "tokens": tokens, "text": cap_text(estimate, bound)}


def scope_json(scope: Any, bound: Any, problem: str | None) -> dict[str, Any]:
    from workcrew.engine.cost.approval_scope import describe_scope

    entries = list(bound.scope) if bound is not None else []
    return {"entries": entries, "described": describe_scope(entries) if entries else None,
            "workspace": str(scope.workspace) if scope is not None else (bound.workspace if bound else None),
            "sources": list(scope.sources) if scope is not None else [],
            "refused": [{"path": path, "why": why} for path, why in scope.refused.items()] if scope is not None else [],
            "notes": [*(scope.notes if scope is not None else []), *([problem] if problem else [])]}


def files_json(scope: Any, top: int | None) -> dict[str, Any]:
    """The files in scope, most tokens first: ``top`` of them one by one (all with ``None``), the rest summed;
    each with its share of the scope's tokens in percent; and the top-level folders with their files' sums."""
    files = list(scope.files) if scope is not None else []
    total_tokens = sum(f.tokens for f in files)
    ranked = sorted(files, key=lambda f: (-f.tokens, f.path))
    shown = ranked if top is None else ranked[:top]
    rest = ranked[len(shown):]

    def share(tokens: int) -> float:
        return round(100.0 * tokens / total_tokens, 2) if total_tokens else 0.0

    rest_tokens = sum(f.tokens for f in rest)
    folders: dict[str, list[int]] = {}  # top-level folder -> [files, bytes, tokens]
    for f in files:
        head, slash, _ = f.path.partition("/")
        if slash:
            sums = folders.setdefault(head + "/", [0, 0, 0])
            sums[0], sums[1], sums[2] = sums[0] + 1, sums[1] + f.bytes, sums[2] + f.tokens
    by_folder = sorted(folders.items(), key=lambda item: (-item[1][2], item[0]))[:TOP_FOLDERS]
    return {
        "total": len(files), "bytes": sum(f.bytes for f in files), "tokens": total_tokens,
        "folders": [{"path": path, "files": n, "bytes": size, "tokens": count, "share": share(count)}
                    for path, (n, size, count) in by_folder],
        "top": [{"path": f.path, "bytes": f.bytes, "tokens": f.tokens, "share": share(f.tokens),
                 **({"lines": list(f.lines)} if f.lines else {})} for f in shown],
        "rest": {"files": len(rest), "bytes": sum(f.bytes for f in rest), "tokens": rest_tokens,
                 "share": share(rest_tokens)},
    }


def excluded_json(scope: Any) -> list[dict[str, Any]]:
    """What was left out, by reason (most first): how many entries and examples (a folder counts once)."""
    if scope is None:
        return []
    out = [{"reason": reason, "label": REASONS.get(reason, reason), "count": count,
            "examples": list(scope.excluded.get(reason, []))}
           for reason, count in scope.excluded_counts.items()]
    return sorted(out, key=lambda r: (-r["count"], r["reason"]))


def mcp_json(settings: Settings) -> dict[str, Any] | None:
    """The project's MCP servers the run may start (``.mcp.json``): what each runs or reaches and whether it is
    approved; None without an ``.mcp.json``."""
    from workcrew.engine.agents.mcp_config import McpConfigError, approvals, load_config

    try:
        config = load_config(settings.workspace, settings)
    except McpConfigError as exc:
        return {"servers": [], "error": f"{exc} (agents that need an MCP server will fail)"}
    except OSError as exc:
        return {"servers": [], "error": f"cannot read .mcp.json ({exc})"}
    if not config.servers:
        return None
    decided = approvals(settings.workspace, list(config.servers))
    return {"servers": [{"name": s.name, "what": s.describe() if s.problem is None else f"cannot start: {s.problem}",
                         "approved": decided[s.name].approved, "why": decided[s.name].reason}
                        for s in config.servers.values()], "error": None}


def web_json(estimate: Any) -> dict[str, Any] | None:
    from workcrew.engine.cost.approval_text import web_research_line

    text = web_research_line(estimate)
    if text is None:
        return None
    return {"searches": estimate.web_searches.to_json(integer=True),
            "fetches": estimate.web_fetches.to_json(integer=True), "text": text}


def sandbox_text(settings: Settings) -> str | None:
    from workcrew.engine.cost.approval_text import sandbox_warning

    text: str | None = sandbox_warning(settings)
    return text


# -- the short question ----------------------------------------------------------------------------------------


def headline(data: Mapping[str, Any]) -> str:
    """``Run “review”: 24 agents · 180k–240k tokens · $0.40–$0.90 · ~3 min · 20 files``."""
    totals = data["totals"]
    files = f"{totals['files']:,} file{'' if totals['files'] == 1 else 's'}"
    if totals["agents"] is None:
        return f"Run “{data['workflow']}”: no estimate ({data.get('estimate_unavailable') or 'unavailable'}) · {files}"
    reused = f" (+{totals['reused']} reused)" if totals.get("reused") else ""
    agents = totals["agents"]
    count = (f"{agents['expected']:,}" if agents["low"] == agents["high"]
             else f"{agents['low']:,}–{agents['high']:,}")
    parts = [f"{count} agent{'' if agents['high'] == 1 else 's'}{reused}", f"{span(totals['tokens'], tokens)} tokens",
             span(totals["cost_usd"], dollars), about(totals["minutes"]["expected"]), files]
    return f"Run “{data['workflow']}”: " + " · ".join(parts)


def warning_line(data: Mapping[str, Any]) -> str | None:
    """At most one short line of what needs attention before saying yes; None when nothing does."""
    parts = []
    if data["changes"]:
        parts.append("asked again: " + "; ".join(data["changes"]))
    if data["sandbox"]:
        parts.append("commands run without an OS sandbox")
    mcp = data["mcp"]
    if mcp is not None and mcp["error"]:
        parts.append("the MCP servers of .mcp.json cannot be used")
    elif mcp is not None:
        waiting = [s["name"] for s in mcp["servers"] if not s["approved"]]
        if waiting:
            parts.append(f"MCP servers not approved yet: {', '.join(waiting)} (Run starts them)")
    if data["web"] is not None:
        parts.append("agents search and fetch the web")
    if not parts:
        return None
    line = " · ".join(parts)
    return "⚠ " + line[0].upper() + line[1:]


def span(values: Mapping[str, float], fmt: Any) -> str:
    low, high = fmt(values["low"]), fmt(values["high"])
    return low if low == high else f"{low}–{high}"


def tokens(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if value >= 100_000:
        return f"{value / 1000:.0f}k"
    if value >= 1000:
        return f"{value / 1000:.1f}k"
    return f"{round(value):,}"


def dollars(value: float) -> str:
    if value == 0:
        return "$0"
    return "<$0.01" if value < 0.01 else f"${value:,.2f}"


def minutes(value: float) -> str:
    return "<1 min" if value < 1 else f"{round(value):,} min"


def about(value: float) -> str:
    """The expected time: ``~3 min``, ``<1 min``."""
    return minutes(value) if value < 1 else "~" + minutes(value)


def message_with_id(text: str, approval_id: str | None) -> str:
    """The notification's text; the trailing ``(details: ID)`` lets a client fetch the details
    (``workcrew.approvalDetails``); the VS Code extension hides it."""
    return f"{text}\n(details: {approval_id})" if approval_id else text


__all__ = ["REASONS", "TOP_FILES", "DetailsInput", "build_details", "details_scope", "files_json", "headline",
           "message_with_id", "warning_line"]
