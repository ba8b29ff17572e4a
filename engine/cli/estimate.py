"""``workcrew estimate`` and the approval step of ``workcrew run``: show the cost before anything is spent."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import anyio
import click

from ..agents.mcp_config import approve_for_run
from ..cost.approval import approved_settings, binding, decide, recall, remember, remembered_text
from ..cost.approval_text import cap_text, estimate_text, prompt_text, summary_line
from ..cost.estimate import Estimate, estimate, unknown_model_message
from ..errors import UnknownModel, WorkcrewError
from ..providers.factory import make_client
from ..runtime.resume import ResumeCache
from ..settings import Settings
from ..store import StoreError
from ..workflows.workflow import Workflow
from .common import emit_json, fail, json_option, load_target, open_store
from .default_scope import with_default_scope
from .options import build_settings, parse_args_json, run_options


def compute_estimate(workflow: Workflow, args: Any, settings: Settings, scope: list[str] | None = None,
                     reuse: ResumeCache | None = None) -> Estimate:
    """The estimate, calibrated from this project's earlier runs; exits 2 with a clear message when it cannot be made."""
    # calibration needs earlier runs; an estimate alone never creates the state folder
    store = open_store(settings) if (settings.resolved_state_dir() / "workcrew.db").is_file() else None
    try:
        return anyio.run(lambda: _estimate_counted(workflow, args, scope, settings, store, reuse))
    except UnknownModel as exc:
        fail(f"{unknown_model_message(exc)}. Nothing was run.")
    except WorkcrewError as exc:
        fail(f"cannot estimate {workflow.name!r}: {exc}")
    finally:
        if store is not None:
            store.close()


async def _estimate_counted(workflow: Workflow, args: Any, scope: list[str] | None, settings: Settings,
                            store: Any, reuse: ResumeCache | None = None) -> Estimate:
    """With the Anthropic provider and a key, prompts are counted by the API (free, once per shared prefix)."""
    counter = None
    if settings.provider == "anthropic" and os.environ.get("ANTHROPIC_API_KEY"):
        try:
            counter = make_client(settings)
        except WorkcrewError:
            counter = None  # counting is an improvement, never a requirement: the local count stands in
    try:
        return await estimate(workflow, args, scope, settings, store=store, counter=counter, reuse=reuse)
    finally:
        if counter is not None:
            await counter.aclose()


@click.command("estimate")
@click.argument("target", metavar="SCRIPT_OR_NAME")
@run_options
@click.option("--scope", "scope", multiple=True, metavar="PATH",
              help="A file the agents work on (repeatable); counted as read by the agents that name it.")
@json_option
def estimate_cmd(target: str, args_json: str | None, provider: str | None, scenario: Path | None,
                 concurrency: int | None, max_agents: int | None, budget_tokens: int | None,
                 budget_usd: float | None, model: str | None, workspace: Path | None, state_dir: Path | None,
                 scope: tuple[str, ...], as_json: bool) -> None:
    """Estimate agents, tokens, USD and minutes of a run (low / expected / high) without spending anything."""
    from ..runtime.scripthost.spawn import prewarm

    prewarm()  # the dry runs' script host starts loading while the settings and the scope are made
    args = parse_args_json(args_json)
    settings = build_settings(workspace, provider, scenario, concurrency, max_agents, budget_tokens, budget_usd,
                              model, state_dir)
    workflow = load_target(target, settings)
    args = with_default_scope(workflow, args, settings, quiet=as_json)  # as `workcrew run` would run it
    result = compute_estimate(workflow, args, settings, list(scope) or None)
    if as_json:
        emit_json(result.to_json())
        return
    click.echo(f"Estimate for {workflow.name!r} ({result.provider}; "
               f"{'scenario answers' if result.basis == 'scenario' else 'priors for a real model'}):")
    click.echo(estimate_text(result))
    click.echo(f"  budget   a run approved at this estimate is capped at {result.budget_usd:.4f} USD")


# -- the approval step of `workcrew run` -------------------------------------------------------------------

ANSWERS = {"y": "yes", "yes": "yes", "a": "always", "always": "always"}


def approve_run(workflow: Workflow, args: Any, settings: Settings, *, yes: bool, budget_given: bool,
                quiet: bool, interactive: bool | None = None,
                reuse: ResumeCache | None = None) -> tuple[Settings, dict[str, Any]]:
    """Estimate, decide by policy, ask on a terminal; returns the run's settings and the estimate to store.

    A remembered approval ("always") is reused only for the script, scope and cap it was given for
    (engine/approval.py); otherwise the prompt says what changed.

    Exits 2 when approval is needed but nobody can give it (stdin is not a terminal and no --yes),
    when the user declines, or when the estimate cannot be made (an unknown model, for instance).
    """
    result = compute_estimate(workflow, args, settings, reuse=reuse)
    run_settings = approved_settings(settings, result, budget_given=budget_given)
    bound = binding(workflow, args, None, run_settings, result)
    store = open_store(settings)
    try:
        known = recall(store, bound)
        decision = decide(result, settings, yes=yes, consent=known.covers, changes=known.changes)
        if decision.ask:
            if not (sys.stdin.isatty() if interactive is None else interactive):
                fail(f"this run needs approval ({decision.reason}) and there is no terminal to ask on. "
                     f"Estimate: {summary_line(result)}; {cap_text(result, bound)}. Pass --yes to approve it, "
                     "or set approval = \"never\" or \"threshold\" in workcrew.toml. Nothing was spent.")
            click.echo(prompt_text(result, workflow, decision, bound, args, settings=settings), err=True)
            answer = click.prompt("Run it? [y/N/always]", default="N", show_default=False, err=True)
            choice = ANSWERS.get(str(answer).strip().lower())
            if choice is None:
                fail("not approved; nothing was spent.")
            # the prompt listed the project's MCP servers: approving the run approves them ("always": for later too)
            run_settings = approve_for_run(run_settings, remember=choice == "always")
            if choice == "always":
                try:
                    saved = remember(store, bound, via="cli")
                except StoreError as exc:  # the run is approved all the same; only remembering failed
                    click.echo(f"workcrew: {exc}", err=True)
                else:
                    click.echo(f"Will not ask again for {workflow.name!r} in {settings.workspace} until the script "
                               f"changes, the scope grows or the cap rises (approved: {remembered_text(saved)}).",
                               err=True)
        elif not quiet:
            click.echo(f"estimate: {summary_line(result)} ({decision.reason})", err=True)
    finally:
        store.close()
    return run_settings, result.to_json()
