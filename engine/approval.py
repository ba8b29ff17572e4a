"""Approval before spending: the policy decision, remembered approvals, and the prompt text with the estimate.

A remembered approval ("always" at the terminal, **Always run** in the editor) binds what was approved:

* the script: the sha256 of its source, exactly the text that runs;
* the scope: the workspace and the files and folders the run works on, as the estimate sees them (the
  files of the editor's scope, the paths the args name), or the whole workspace when the args name none;
* the budget: the run's hard cap in USD and in tokens.

A later run reuses it only when the script is the same, every path in its scope was covered before and
its caps are no higher; otherwise :func:`what_changed` says what changed and the run asks again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from .estimate import Estimate, Range
from .settings import Settings
from .workflow import Workflow


@dataclass(frozen=True)
class Decision:
    ask: bool
    reason: str
    changes: tuple[str, ...] = ()  # what changed since a remembered approval, when that is why it asks


# -- what an approval binds -----------------------------------------------------------------------------

WHOLE_WORKSPACE = "."


@dataclass(frozen=True)
class Approval:
    """What is approved: this script, over this scope, up to these caps (``None``: no cap of that kind).

    ``scope`` holds workspace-relative POSIX paths (folders end with ``/``; ``.`` is the whole workspace)
    and absolute paths for anything outside the workspace, sorted.
    """

    workflow: str
    workspace: str
    digest: str
    scope: tuple[str, ...]
    cap_usd: float | None
    cap_tokens: int | None
    script_path: str | None = None
    provider: str | None = None
    via: str | None = None
    approved_at: float | None = field(default=None, compare=False)

    def to_record(self) -> dict[str, Any]:
        return {"workspace": self.workspace, "workflow": self.workflow, "digest": self.digest,
                "scope": list(self.scope), "cap_usd": self.cap_usd, "cap_tokens": self.cap_tokens,
                "script_path": self.script_path, "provider": self.provider, "via": self.via,
                "approved_at": self.approved_at if self.approved_at is not None else time.time()}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Approval:
        cap_usd, cap_tokens = record.get("cap_usd"), record.get("cap_tokens")
        return cls(workflow=str(record["workflow"]), workspace=str(record["workspace"]),
                   digest=str(record["digest"]), scope=tuple(record["scope"]),
                   cap_usd=float(cap_usd) if cap_usd is not None else None,
                   cap_tokens=int(cap_tokens) if cap_tokens is not None else None,
                   script_path=record.get("script_path"), provider=record.get("provider"),
                   via=record.get("via"), approved_at=record.get("approved_at"))


def script_digest(source: str) -> str:
    """sha256 of the script's source (UTF-8): the text that runs."""
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()


def workspace_key(workspace: Path) -> str:
    return str(Path(workspace).resolve())


def cap_of(run_settings: Settings, estimate: Estimate | None) -> tuple[float | None, int | None]:
    """The hard caps a run is approved at: the budgets it runs with, else the estimate's cap (the prompt's)."""
    if run_settings.budget_usd is not None or run_settings.budget_tokens is not None:
        return run_settings.budget_usd, run_settings.budget_tokens
    if estimate is not None:
        return round(estimate.budget_usd, 6), None
    return None, None


def binding(workflow: Workflow, args: Any, scope: Any, run_settings: Settings,
            estimate: Estimate | None = None) -> Approval:
    """What approving this run binds: the script's digest, the scope, and the caps it runs with.

    ``run_settings`` are the settings once approved (see :func:`approved_settings`): their budgets are the
    run's caps; with none, the estimate's cap is the one shown and approved.
    """
    cap_usd, cap_tokens = cap_of(run_settings, estimate)
    return Approval(
        workflow=workflow.name, workspace=workspace_key(run_settings.workspace),
        digest=script_digest(workflow.source), scope=scope_entries(args, scope, run_settings.workspace),
        cap_usd=cap_usd, cap_tokens=cap_tokens,
        script_path=str(workflow.path) if workflow.path else None, provider=run_settings.provider,
    )


# -- the scope ------------------------------------------------------------------------------------------

# args keys whose strings are paths even when nothing exists there yet (a file to create, a glob):
# files, paths, path, file, modules, dir, folders, root, scope, include, glob, uri, test_file, sourcePaths...
_PATH_KEY = re.compile(r"(?:file|path|dir|director(?:y|ie)|folder|module|root|scope|include|glob|uri)s?$")
# elsewhere a string is a path when it names an existing file or folder, or looks like a file name
_LOOKS_LIKE_FILE = re.compile(r"[\w./-]*\w\.[A-Za-z][A-Za-z0-9]{0,7}")
_GLOB = re.compile(r"[*?\[]")
_MAX_DEPTH = 64


def _path_key(key: Any) -> bool:
    return bool(_PATH_KEY.search(str(key).lower().replace("_", "").replace("-", "")))


def scope_entry(raw: str, workspace: Path, *, named: bool = True) -> str | None:
    """One scope entry for a string that names a path: workspace-relative POSIX, ``/`` after a folder,
    ``.`` for the workspace itself, absolute outside it; a glob stands for the folder it starts in.
    ``None`` when the string is not a path (``named``: it is the value of a path-like key)."""
    return _entry(raw, Path(os.path.realpath(workspace)), named)


def _entry(raw: str, root: Path, named: bool) -> str | None:
    text = raw.strip()
    if not text or len(text) > 4096 or any(c in text for c in "\n\r\0"):
        return None
    if text.startswith("file:"):
        text = unquote(urlparse(text).path)
    glob = bool(_GLOB.search(text))
    if glob:
        head: list[str] = []
        for part in text.split("/"):
            if _GLOB.search(part):
                break
            head.append(part)
        text = "/".join(head) or ("/" if text.startswith("/") else ".")
    path = Path(text).expanduser()
    full = Path(os.path.realpath(path if path.is_absolute() else root / path))
    if not named and not glob and not (_LOOKS_LIKE_FILE.fullmatch(text) or full.exists()):
        return None
    folder = glob or text.endswith("/") or full.is_dir()
    try:
        relative = full.relative_to(root).as_posix()
    except ValueError:
        relative = None
    if relative == ".":
        return WHOLE_WORKSPACE
    entry = relative if relative is not None else full.as_posix()
    return entry.rstrip("/") + "/" if folder else entry


def _scope_paths(scope: Any) -> tuple[list[str], list[str]]:
    """The paths of an editor scope or of the estimate's scope input (paths, pairs, a mapping), as
    (entries as they are, paths to resolve): a ``Scope``'s files are already workspace-relative files."""
    if scope is None:
        return [], []
    if hasattr(scope, "files"):
        return [str(f.path) for f in scope.files], []
    items: Iterable[Any] = scope.keys() if isinstance(scope, Mapping) else scope
    out = []
    for item in items:
        if isinstance(item, tuple) and item:
            out.append(str(item[0]))
        elif hasattr(item, "path"):
            out.append(str(item.path))
        else:
            out.append(str(item))
    return [], out


def _arg_strings(args: Any) -> Iterable[tuple[str, bool]]:
    """Every string in the args with whether it is named as a path (the value, or an item of the list, of a
    path-like key). Iterative: deep args cannot overflow the stack."""
    stack: list[tuple[Any, bool, int]] = [(args, False, 0)]
    while stack:
        value, named, depth = stack.pop()
        if isinstance(value, str):
            yield value, named
        elif depth >= _MAX_DEPTH:
            continue
        elif isinstance(value, Mapping):
            stack.extend((item, _path_key(key), depth + 1) for key, item in value.items())
        elif isinstance(value, list | tuple):
            stack.extend((item, named, depth + 1) for item in value)


def scope_entries(args: Any, scope: Any, workspace: Path) -> tuple[str, ...]:
    """The scope a run is approved over: the editor scope's files plus the paths its args name; the whole
    workspace (``.``) when neither names any (the workflow then decides what to read)."""
    root = Path(os.path.realpath(workspace))
    known, to_resolve = _scope_paths(scope)
    entries: set[str] = set(known)
    resolved: dict[tuple[str, bool], str | None] = {}
    strings = [(path, True) for path in to_resolve] + list(_arg_strings(args))
    for text, named in strings:
        if text in entries:  # the editor scope's files are in the args too (args["files"]): no look-up
            continue
        if (text, named) not in resolved:
            resolved[text, named] = _entry(text, root, named)
        entry = resolved[text, named]
        if entry is not None:
            entries.add(entry)
    return tuple(sorted(entries)) if entries else (WHOLE_WORKSPACE,)


def _folders_of(entry: str) -> Iterable[str]:
    """The folders an entry lies in, outermost first (``a/b/c.py`` → ``a/``, ``a/b/``)."""
    parts = entry.rstrip("/").split("/")
    for end in range(1, len(parts)):
        yield "/".join(parts[:end]) + "/"


def covered(entry: str, approved: frozenset[str] | set[str]) -> bool:
    """Whether an approved scope covers an entry: the same path, a folder it lies in, or the whole workspace."""
    if entry in approved or (WHOLE_WORKSPACE in approved and not entry.startswith("/")):
        return True
    return any(folder in approved for folder in _folders_of(entry))


def scope_growth(before: Sequence[str], now: Sequence[str], limit: int = 5) -> list[str]:
    """What ``now`` adds to ``before``, like ``+src/new_module/ (3 files)``, ``+README.md``; empty when covered.

    New entries are grouped by the outermost folder that held nothing approved; a group of more than one is
    shown by the deepest folder they all lie in.
    """
    approved = frozenset(before)
    new = [entry for entry in now if not covered(entry, approved)]
    if not new:
        return []
    touched = {folder for entry in approved for folder in _folders_of(entry)} | {e for e in approved if e.endswith("/")}
    groups: dict[str, list[str]] = {}
    for entry in new:
        label = entry
        if entry != WHOLE_WORKSPACE:
            for folder in _folders_of(entry):
                if folder != "/" and folder not in touched:
                    label = folder
                    break
        groups.setdefault(label, []).append(entry)
    shown = []
    for label, entries in groups.items():
        if label == WHOLE_WORKSPACE:
            shown.append("+the whole workspace")
        elif len(entries) == 1:
            shown.append(f"+{entries[0]}")
        else:
            kind = "files" if not any(e.endswith("/") for e in entries) else "paths"
            shown.append(f"+{_common_folder(entries) or label} ({len(entries):,} {kind})")
    if len(shown) > limit:
        shown = [*shown[:limit], f"and {len(shown) - limit:,} more"]
    return shown


def _common_folder(entries: Sequence[str]) -> str | None:
    """The deepest folder every entry lies in (or is)."""
    folders = [[*_folders_of(e), e] if e.endswith("/") else list(_folders_of(e)) for e in entries]
    common = None
    for level in zip(*folders, strict=False):
        if len(set(level)) != 1:
            break
        common = level[0]
    return common


def describe_scope(entries: Sequence[str], limit: int = 4) -> str:
    """The scope for the prompt: ``calc.py, src/`` or ``the whole workspace``."""
    names = ["the whole workspace" if e == WHOLE_WORKSPACE else e for e in entries]
    if len(names) <= limit:
        return ", ".join(names)
    return f"{len(names):,} paths: " + ", ".join(names[:limit]) + f" and {len(names) - limit:,} more"


# -- comparing with the remembered approval --------------------------------------------------------------


def short_digest(digest: str) -> str:
    return digest[:8] + "…"


def _money_pair(before: float, now: float) -> tuple[str, str]:
    a, b = money(before), money(now)
    return (a, b) if a != b else (f"${before:.6f}", f"${now:.6f}")


def what_changed(before: Approval, now: Approval) -> list[str]:
    """Why the remembered approval ``before`` does not cover ``now``; empty when it does.

    The same script, a scope inside the approved one and caps no higher reuse it; anything else is named.
    """
    changes = []
    if before.digest != now.digest:
        changes.append(f"the script changed since you approved it "
                       f"(sha256 {short_digest(before.digest)} → {short_digest(now.digest)})")
    grown = scope_growth(before.scope, now.scope)
    if grown:
        changes.append("the scope grew: " + ", ".join(grown))
    if before.cap_usd is not None:
        if now.cap_usd is None:
            changes.append(f"the run has no USD cap now (you approved up to {money(before.cap_usd)})")
        elif round(now.cap_usd, 6) > round(before.cap_usd, 6):
            old, new = _money_pair(before.cap_usd, now.cap_usd)
            changes.append(f"the budget cap rose from {old} to {new}")
    if before.cap_tokens is not None:
        if now.cap_tokens is None:
            changes.append(f"the run has no token cap now (you approved up to {before.cap_tokens:,} tokens)")
        elif now.cap_tokens > before.cap_tokens:
            changes.append(f"the token cap rose from {before.cap_tokens:,} to {now.cap_tokens:,} tokens")
    return changes


@dataclass(frozen=True)
class Recall:
    """The remembered approval for a run, if any, and what changed since (empty: it covers the run)."""

    approval: Approval | None
    changes: tuple[str, ...] = ()

    @property
    def covers(self) -> bool:
        return self.approval is not None and not self.changes


def legacy_key(workflow_name: str, workspace: Path) -> str:
    """The key-value entry of "always" answers made before approvals were bound (kept only to say so)."""
    return f"approval:{Path(workspace).resolve()}:{workflow_name}"


def recall(store: Any, now: Approval) -> Recall:
    """The approval remembered for this workflow in this workspace, compared with this run's binding."""
    if store is None:
        return Recall(None)
    record = store.get_approval(now.workspace, now.workflow)
    if record is None:
        if store.get_value(legacy_key(now.workflow, Path(now.workspace))):
            return Recall(None, ("your earlier \"always\" for this workflow was not tied to a script, scope or "
                                 "budget cap (it predates that), so it is asked once more",))
        return Recall(None)
    before = Approval.from_record(record)
    return Recall(before, tuple(what_changed(before, now)))


def remember(store: Any, approval: Approval, via: str) -> Approval:
    """Remember consent for this script, scope and caps (replacing this workflow's earlier approval)."""
    saved = replace(approval, via=via, approved_at=time.time())
    store.save_approval(saved.to_record())
    if store.get_value(legacy_key(approval.workflow, Path(approval.workspace))):
        store.set_value(legacy_key(approval.workflow, Path(approval.workspace)), False)
    return saved


def forget(store: Any, workflow_name: str, workspace: Path) -> None:
    store.delete_approval(workspace_key(workspace), workflow_name)
    store.set_value(legacy_key(workflow_name, workspace), False)


def remembered_text(approval: Approval) -> str:
    """What "don't ask again" covers, in one sentence."""
    return (f"script sha256 {short_digest(approval.digest)}, scope {describe_scope(approval.scope)}, "
            f"cap {describe_cap(approval)}")


def describe_cap(approval: Approval) -> str:
    parts = []
    if approval.cap_usd is not None:
        parts.append(money(approval.cap_usd))
    if approval.cap_tokens is not None:
        parts.append(f"{approval.cap_tokens:,} tokens")
    return " and ".join(parts) if parts else "none"


def decide(estimate: Estimate, settings: Settings, *, yes: bool = False, consent: bool = False,
           changes: Sequence[str] = ()) -> Decision:
    """Whether to ask before this run spends anything, and why.

    ``consent``: a remembered approval covers this run (same script, scope inside, caps no higher).
    ``changes``: what changed since the remembered approval that does not cover it; named in the reason.
    """
    if settings.provider == "simulated":
        return Decision(False, "the simulated model costs nothing")
    if yes:
        return Decision(False, "approved with --yes")
    if settings.approval == "never":
        return Decision(False, "the approval policy is 'never'")
    if consent:
        return Decision(False, "approved before for this script, scope and budget cap")
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
        if changes:  # both are why it asks
            return Decision(True, "; ".join([*changes, "above the approval threshold: " + ", ".join(what)]),
                            tuple(changes))
        return Decision(True, "above the approval threshold: " + ", ".join(what))
    if changes:
        return Decision(True, "; ".join(changes), tuple(changes))
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
    return "\n".join(lines)


def sandbox_warning(settings: Settings) -> str | None:
    """The line every approval text adds when commands (check(), agents' run_command) would run without an
    OS sandbox: ``allow_unsandboxed_commands`` is set and bubblewrap is missing or cannot run here."""
    from .commands import risk

    text = risk(settings)
    return f"Warning: {text}" if text else None
