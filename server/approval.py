"""Approval before anything is spent: what will run, its estimate and its cap in one notification.

Actions are Run, Always run, Review script and Cancel; dismissing the notification is Cancel. "Always run"
remembers the approval in the run store, bound to the script's digest, the scope and the cap
(engine/approval.py): a later run of the same script over that scope, within that cap, starts without
asking; anything wider asks again and the notification says what changed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from workcrew.engine import Settings, Workflow
from workcrew.engine.errors import UnknownModel

if TYPE_CHECKING:
    from .protocol import Server

log = logging.getLogger(__name__)

RUN, ALWAYS, REVIEW, CANCEL = "Run", "Always run", "Review script", "Cancel"


async def compute_estimate(workflow: Workflow, args: Any, scope: Any, settings: Settings,
                           store: Any = None, reuse: Any = None) -> tuple[Any, str | None]:
    """(Estimate, None) or (None, why it is unavailable). Never spends: the estimator dry-runs off the loop.
    With ``reuse`` (a loaded ``ResumeCache``) the agents it answers are not counted."""
    try:
        from workcrew.engine.cost.estimate import estimate
    except ImportError:
        return None, "estimate unavailable (this engine has no estimator)"
    files = [(f.path, f.bytes) for f in scope.files] if scope is not None and hasattr(scope, "files") else scope
    try:
        return await estimate(workflow, args, files, settings, store=store, reuse=reuse), None
    except UnknownModel:
        raise  # a model with no price stops the run before anything is spent, never a silent $0
    except Exception as exc:  # the user still decides; they just see why there is no estimate
        log.warning("estimate failed: %s", exc)
        return None, f"estimate unavailable ({exc})"


def estimate_json(estimate: Any) -> dict[str, Any] | None:
    return estimate.to_json() if estimate is not None else None


def describe_estimate(estimate: Any) -> str:
    from workcrew.engine.cost.approval_text import summary_line

    return str(summary_line(estimate))


def bind(workflow: Workflow, args: Any, scope: Any, run_settings: Settings, estimate: Any) -> Any:
    """What approving this run binds (script digest, scope, caps); stats the scope's paths, so call it off the loop."""
    from workcrew.engine.cost.approval import binding

    return binding(workflow, args, scope, run_settings, estimate)


def approval_message(workflow: Workflow, estimate: Any, why_not: str | None, bound: Any = None,
                     changes: Sequence[str] = (), can_remember: bool = False, settings: Settings | None = None) -> str:
    from workcrew.engine.cost.approval import script_digest, short_digest
    from workcrew.engine.cost.approval_scope import describe_scope
    from workcrew.engine.cost.approval_text import (
        cap_text,
        mcp_servers_line,
        sandbox_warning,
        web_research_line,
    )

    meta = workflow.meta
    phases = " → ".join(p.title for p in meta.phases) if meta and meta.phases else "one phase"
    head = f"Run workflow “{workflow.name}”"
    if meta is not None:
        head += f": {meta.description}"
    # what will run: the script (the editor opens this path for "Review script" and asks again:
    # vscode-extension/src/approval.ts), with the digest of exactly the text that runs, and its scope
    digest = bound.digest if bound is not None else script_digest(workflow.source)
    where = f"`{workflow.path}`" if workflow.path else "not saved to a file"
    if workflow.origin == "builtin":
        where += " (built in)"
    lines = [head, f"Script: {where} (sha256 {short_digest(digest)})"]
    if bound is not None:
        lines.append(f"Scope: {describe_scope(bound.scope)} in {bound.workspace}.")
    provider = getattr(estimate, "provider", None) or (bound.provider if bound is not None else None)
    if provider:
        lines.append(f"Provider: {provider}{' (no cost)' if provider == 'simulated' else ''}.")
    lines.append(f"Phases: {phases}.")
    if estimate is not None:
        lines.append(f"Estimate: {describe_estimate(estimate)}.")
        cap = cap_text(estimate, bound, why=False)
        lines.append(f"{cap[0].upper()}{cap[1:]}.")
    else:
        lines.append(f"Cost: {why_not or 'estimate unavailable'}.")
    warning = sandbox_warning(settings) if settings is not None else None
    if warning:  # commands would run without an OS sandbox: the user opted in, and sees it here
        lines.append(warning)
    servers = mcp_servers_line(settings) if settings is not None else None
    if servers:  # the project's MCP servers the run may start, and which are not approved
        lines.append(servers)
    web = web_research_line(estimate) if estimate is not None else None
    if web:  # agents that search or fetch the web: how much, and that URLs can carry what they read
        lines.append(web)
    if changes:
        lines.append("Asked again: " + "; ".join(changes) + ".")
    if can_remember:
        lines.append(f"“{ALWAYS}” skips this question until the script changes, the scope grows or the cap rises.")
    lines.append("Nothing is spent until you choose Run.")
    return "\n".join(lines)


def approved(settings: Settings, estimate: Any) -> Settings:
    """The run's settings once approved: the approved cap becomes its budget unless one was set."""
    if estimate is None:
        return settings
    from workcrew.engine.cost.approval import approved_settings

    given = settings.budget_usd is not None or settings.budget_tokens is not None
    result: Settings = approved_settings(settings, estimate, budget_given=given)
    return result


def needs_approval(settings: Settings, estimate: Any, remembered: bool = False) -> bool:
    """The editor asks even for the free simulated model unless the policy says otherwise, or an approval
    remembered for this script, scope and cap covers the run."""
    if settings.approval == "never":
        return False
    if remembered:
        return False
    if settings.approval == "always" or estimate is None:
        return True
    high_usd = float(estimate.cost_usd.high)
    high_agents = float(estimate.agents.high)
    return bool(high_usd > settings.approval_threshold_usd or high_agents > settings.approval_threshold_agents)


async def ask_approval(ls: Server, message: str, can_remember: bool = False) -> str:
    """Run | Always run | Review script | Cancel; a dismissed notification or a client that cannot answer is Cancel.

    "Always run" is offered only when the approval can be remembered: a run store and a cap to bind.
    """
    titles = (RUN, ALWAYS, REVIEW, CANCEL) if can_remember else (RUN, REVIEW, CANCEL)
    try:
        answer = await ls.window_show_message_request_async(types.ShowMessageRequestParams(
            type=types.MessageType.Info, message=message,
            actions=[types.MessageActionItem(title=t) for t in titles],
        ))
    except Exception as exc:  # the client failed the request: never spend without a yes
        log.warning("approval request failed: %s", exc)
        return CANCEL
    title = getattr(answer, "title", None)
    return str(title) if title in titles and title != CANCEL else CANCEL
