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
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..settings import Settings
from ..workflows.workflow import Workflow
from .approval_scope import WHOLE_WORKSPACE, covered, describe_scope, scope_entries, scope_entry, scope_growth
from .estimate import Estimate
from .pricing import money


@dataclass(frozen=True)
class Decision:
    ask: bool
    reason: str
    changes: tuple[str, ...] = ()  # what changed since a remembered approval, when that is why it asks


# -- what an approval binds -----------------------------------------------------------------------------


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
    # what else decides what the agents can do and reach: the project's agent types, skills and MCP servers,
    # and whether the run does web research (capabilities_digest); "" for a project with none of them
    capabilities: str = ""

    def to_record(self) -> dict[str, Any]:
        return {"workspace": self.workspace, "workflow": self.workflow, "digest": self.digest,
                "scope": list(self.scope), "cap_usd": self.cap_usd, "cap_tokens": self.cap_tokens,
                "script_path": self.script_path, "provider": self.provider, "via": self.via,
                "approved_at": self.approved_at if self.approved_at is not None else time.time(),
                "capabilities": self.capabilities}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Approval:
        cap_usd, cap_tokens = record.get("cap_usd"), record.get("cap_tokens")
        return cls(workflow=str(record["workflow"]), workspace=str(record["workspace"]),
                   digest=str(record["digest"]), scope=tuple(record["scope"]),
                   cap_usd=float(cap_usd) if cap_usd is not None else None,
                   cap_tokens=int(cap_tokens) if cap_tokens is not None else None,
                   script_path=record.get("script_path"), provider=record.get("provider"),
                   via=record.get("via"), approved_at=record.get("approved_at"),
                   capabilities=str(record.get("capabilities") or ""))


def script_digest(source: str) -> str:
    """sha256 of the script's source (UTF-8): the text that runs."""
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()


def capabilities_digest(workspace: Path, estimate: Estimate | None = None) -> str:
    """sha256 of what, besides the script, decides what the run's agents can do and reach: the project's agent
    types (their tools, models, instructions) and skills — from every ``.claude/`` folder the run reads them
    from, the workspace's up to the repository root (``claude_config.project_folders``) — its MCP servers, and
    whether the estimate's dry run saw web research. A repository that gains an agent type with WebFetch, or a
    new MCP server, asks again even where "always" was answered. "" for a project with none of them and no
    web research."""
    from ..agents.claude_config import project_folders

    root = Path(workspace)
    files = [path for kind, pattern in (("agents", "**/*.md"), ("skills", "**/*"))
             for folder in project_folders(root, kind) for path in sorted(folder.glob(pattern))]
    files.append(root / ".mcp.json")
    digest = hashlib.sha256()
    seen = False
    for path in files:
        if not path.is_file() or path.stat().st_size > 1_000_000:
            continue
        seen = True
        digest.update(str(path).encode("utf-8", "surrogatepass") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    if estimate is not None and (estimate.web_searches.high or estimate.web_fetches.high):
        seen = True
        digest.update(b"web research\0")
    return digest.hexdigest() if seen else ""


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
        capabilities=capabilities_digest(run_settings.workspace, estimate),
    )


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
    if before.capabilities != now.capabilities:
        changes.append("the project's agent types, skills or MCP servers, or the run's web research, changed since "
                       "you approved it")
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


__all__ = ["WHOLE_WORKSPACE", "Approval", "Decision", "approved_settings", "binding", "cap_of", "covered", "decide",
           "forget", "recall", "remember", "remembered_text", "scope_entry", "script_digest", "what_changed",
           "workspace_key"]
