"""Approval before anything is spent: the workflow, its phases and the estimate in one notification.

Actions are Run, Review script and Cancel; dismissing the notification is Cancel.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from workcrew.engine import Settings, Workflow
from workcrew.engine.errors import UnknownModel

if TYPE_CHECKING:
    from .server import WorkcrewServer

log = logging.getLogger(__name__)

RUN, REVIEW, CANCEL = "Run", "Review script", "Cancel"


async def compute_estimate(workflow: Workflow, args: Any, scope: Any, settings: Settings,
                           store: Any = None) -> tuple[Any, str | None]:
    """(Estimate, None) or (None, why it is unavailable). Never spends: the estimator dry-runs off the loop."""
    try:
        from workcrew.engine.estimate import estimate
    except ImportError:
        return None, "estimate unavailable (this engine has no estimator)"
    files = [(f.path, f.bytes) for f in scope.files] if scope is not None and hasattr(scope, "files") else scope
    try:
        return await estimate(workflow, args, files, settings, store=store), None
    except UnknownModel:
        raise  # a model with no price stops the run before anything is spent, never a silent $0
    except Exception as exc:  # the user still decides; they just see why there is no estimate
        log.warning("estimate failed: %s", exc)
        return None, f"estimate unavailable ({exc})"


def estimate_json(estimate: Any) -> dict[str, Any] | None:
    return estimate.to_json() if estimate is not None else None


def describe_estimate(estimate: Any) -> str:
    from workcrew.engine.approval import summary_line

    return str(summary_line(estimate))


def approval_message(workflow: Workflow, estimate: Any, why_not: str | None) -> str:
    meta = workflow.meta
    phases = " → ".join(p.title for p in meta.phases) if meta and meta.phases else "one phase"
    head = f"Run workflow “{workflow.name}”"
    if meta is not None:
        head += f": {meta.description}"
    if estimate is not None:
        from workcrew.engine.approval import money

        cost = (f"Estimate: {describe_estimate(estimate)}.\n"
                f"Hard cap {money(estimate.budget_usd)}: the run never spends more.")
    else:
        cost = f"Cost: {why_not or 'estimate unavailable'}."
    # the editor opens this path for "Review script" and asks again (vscode-extension/src/approval.ts)
    script = f"\nScript: `{workflow.path}`" if workflow.path else ""
    return f"{head}\nPhases: {phases}.\n{cost}{script}\nNothing is spent until you choose Run."


def approved(settings: Settings, estimate: Any) -> Settings:
    """The run's settings once approved: the approved cap becomes its budget unless one was set."""
    if estimate is None:
        return settings
    from workcrew.engine.approval import approved_settings

    given = settings.budget_usd is not None or settings.budget_tokens is not None
    result: Settings = approved_settings(settings, estimate, budget_given=given)
    return result


def needs_approval(settings: Settings, estimate: Any) -> bool:
    """The editor asks even for the free simulated model unless the policy says otherwise."""
    if settings.approval == "never":
        return False
    if settings.approval == "always" or estimate is None:
        return True
    high_usd = float(estimate.cost_usd.high)
    high_agents = float(estimate.agents.high)
    return bool(high_usd > settings.approval_threshold_usd or high_agents > settings.approval_threshold_agents)


async def ask_approval(ls: WorkcrewServer, message: str) -> str:
    """Run | Review script | Cancel; a dismissed notification or a client that cannot answer is Cancel."""
    try:
        answer = await ls.window_show_message_request_async(types.ShowMessageRequestParams(
            type=types.MessageType.Info, message=message,
            actions=[types.MessageActionItem(title=t) for t in (RUN, REVIEW, CANCEL)],
        ))
    except Exception as exc:  # the client failed the request: never spend without a yes
        log.warning("approval request failed: %s", exc)
        return CANCEL
    title = getattr(answer, "title", None)
    return str(title) if title in (RUN, REVIEW) else CANCEL
