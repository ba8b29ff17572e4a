"""Approval before anything is spent: one short line you can judge at a glance, the details one click away.

The question (window/showMessageRequest) is ``Run “review”: 24 agents · 180k–240k tokens · $0.40–$0.90 · ~3 min ·
20 files``, at most one warning line, and ``(details: ID)``; the actions are Run, Details, Always run (when it
can be remembered) and Cancel; dismissing it is Cancel. The details (files in scope and their token share, what
was left out and why, phases and models, the script) are data (:mod:`.approval_data`): the VS Code extension
fetches them with ``workcrew.approvalDetails`` and shows its own panel; for other clients **Details** opens a
Markdown page and asks again, offering Review script (:mod:`.approval_details`).

"Always run" remembers the approval in the run store, bound to the script's digest, the scope and the cap
(engine/cost/approval.py): a later run of the same script over that scope, within that cap, starts without
asking; anything wider asks again and the warning line says what changed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import anyio
from lsprotocol import types
from workcrew.engine import Settings, Workflow
from workcrew.engine.errors import UnknownModel

if TYPE_CHECKING:
    from .protocol import Server

log = logging.getLogger(__name__)

RUN, ALWAYS, REVIEW, CANCEL, DETAILS = "Run", "Always run", "Review script", "Cancel", "Details"


PhaseModels = dict[str, dict[str, int]]  # phase ("" for none) -> model -> agents of the expected dry run


async def compute_estimate(workflow: Workflow, args: Any, scope: Any, settings: Settings,
                           store: Any = None, reuse: Any = None) -> tuple[Any, str | None]:
    """(Estimate, None) or (None, why it is unavailable). Never spends: the estimator dry-runs off the loop.
    With ``reuse`` (a loaded ``ResumeCache``) the agents it answers are not counted."""
    found, why_not, _models = await estimate_with_models(workflow, args, scope, settings, store, reuse)
    return found, why_not


async def estimate_with_models(workflow: Workflow, args: Any, scope: Any, settings: Settings, store: Any = None,
                               reuse: Any = None) -> tuple[Any, str | None, PhaseModels]:
    """:func:`compute_estimate` plus which models each phase's agents use (the details show them): what
    ``cost.estimate.estimate`` does, keeping the expected dry run it otherwise drops."""
    try:
        from workcrew.engine.cost.calibration import load_calibration
        from workcrew.engine.cost.estimate import choose_basis, estimate_sync
    except ImportError:
        return None, "estimate unavailable (this engine has no estimator)", {}
    files = [(f.path, f.bytes) for f in scope.files] if scope is not None and hasattr(scope, "files") else scope
    basis = choose_basis(settings)

    def work() -> tuple[Any, Any]:
        calibration, used = load_calibration(store, workflow.name, settings.provider, basis) if store is not None \
            else ({}, 0)
        result: tuple[Any, Any] = estimate_sync(workflow, args, files, settings, basis=basis,
                                                calibration=calibration, calibrated_runs=used, reuse=reuse)
        return result

    try:
        found, runs = await anyio.to_thread.run_sync(work)
    except UnknownModel:
        raise  # a model with no price stops the run before anything is spent, never a silent $0
    except Exception as exc:  # the user still decides; they just see why there is no estimate
        log.warning("estimate failed: %s", exc)
        return None, f"estimate unavailable ({exc})", {}
    models: PhaseModels = {}
    for agent in runs["expected"].agents:
        per_model = models.setdefault(agent.phase or "", {})
        per_model[agent.model] = per_model.get(agent.model, 0) + 1
    return found, None, models


def estimate_json(estimate: Any) -> dict[str, Any] | None:
    return estimate.to_json() if estimate is not None else None


def describe_estimate(estimate: Any) -> str:
    from workcrew.engine.cost.approval_text import summary_line

    return str(summary_line(estimate))


def bind(workflow: Workflow, args: Any, scope: Any, run_settings: Settings, estimate: Any) -> Any:
    """What approving this run binds (script digest, scope, caps); stats the scope's paths, so call it off the loop."""
    from workcrew.engine.cost.approval import binding

    return binding(workflow, args, scope, run_settings, estimate)


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


def first_titles(can_remember: bool) -> tuple[str, ...]:
    """The short question's actions."""
    return (RUN, DETAILS, ALWAYS, CANCEL) if can_remember else (RUN, DETAILS, CANCEL)


def again_titles(can_remember: bool) -> tuple[str, ...]:
    """The question asked again once the details are shown: Review script takes the place of Details."""
    return (RUN, ALWAYS, REVIEW, CANCEL) if can_remember else (RUN, REVIEW, CANCEL)


async def ask_approval(ls: Server, message: str, titles: Sequence[str]) -> str:
    """The title picked; a dismissed notification, a title not offered or a client that cannot answer is Cancel.

    Review script is honoured even when not offered: clients written for the earlier question (Run, Always run,
    Review script, Cancel) answer it, and it never spends anything.
    """
    try:
        answer = await ls.window_show_message_request_async(types.ShowMessageRequestParams(
            type=types.MessageType.Info, message=message,
            actions=[types.MessageActionItem(title=t) for t in titles],
        ))
    except Exception as exc:  # the client failed the request: never spend without a yes
        log.warning("approval request failed: %s", exc)
        return CANCEL
    title = getattr(answer, "title", None)
    return str(title) if (title in titles or title == REVIEW) and title != CANCEL else CANCEL
