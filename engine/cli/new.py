"""``workcrew new "REQUEST"``: have the orchestrator write a workflow for the scope, check it, save it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import anyio
import click

from ..errors import WorkcrewError
from ..settings import Settings
from ..workspace.authoring import AuthoredWorkflow, AuthoringError, author_workflow
from ..workspace.scope import Scope, ScopeRequest, compute_scope
from .common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    emit_json,
    fail,
    json_option,
    money,
    settings_from,
    tokens,
)
from .common import workspace_option as workspace_opt


@click.command("new")
@click.argument("request")
@click.option("--scope", "scope_paths", multiple=True, type=click.Path(path_type=Path), metavar="PATH",
              help="A file or folder the workflow works on (repeatable; default: the whole workspace).")
@click.option("--name", help="The workflow's name and file name (default: the name the orchestrator picks).")
@click.option("--provider", type=click.Choice(["simulated", "anthropic"]), envvar="WORKCREW_PROVIDER",
              help="Model provider for the orchestrator (default: simulated unless configured).")
@click.option("--scenario", type=click.Path(exists=True, dir_okay=False, path_type=Path), envvar="WORKCREW_SCENARIO",
              help="Scenario file for the simulated model.")
@click.option("--model", help="The orchestrator's model (default: models.orchestrator in the settings).")
@click.option("--max-repairs", type=click.IntRange(0, 10), default=3, show_default=True,
              help="Rounds in which the orchestrator may fix problems the check finds.")
@workspace_opt
@json_option
def new_cmd(request: str, scope_paths: tuple[Path, ...], name: str | None, provider: str | None,
            scenario: Path | None, model: str | None, max_repairs: int, workspace: Path | None,
            as_json: bool) -> None:
    """Write a new workflow for REQUEST and save it to .claude/workflows/<name>.py.

    The orchestrator agent turns the request and the scope (the --scope files and folders, or the
    whole workspace, minus ignored, binary, oversized and secret files) into a script; the script is
    checked and repaired up to --max-repairs times. Exits 2 when problems remain (they are shown and
    the script is saved for you to fix).
    """
    if not request.strip():
        fail("the request is empty: say what the workflow should do, e.g. workcrew new \"find bugs in src/\"")
    overrides: dict[str, Any] = {"provider": provider, "scenario": scenario.resolve() if scenario else None}
    if model:
        overrides["models"] = {"orchestrator": model}
    settings = settings_from(workspace, **overrides)
    try:
        picks = [_scope_path(p, settings.workspace) for p in scope_paths]
        scope = compute_scope(ScopeRequest(settings.workspace, paths=picks), settings)
    except WorkcrewError as exc:
        fail(str(exc))
    if scope_paths and not scope.files:
        reasons = "; ".join(f"{k}: {v}" for k, v in scope.refused.items()) or "no usable files under them"
        fail(f"nothing in scope from --scope: {reasons}")
    if not as_json:
        _print_scope(scope)
        if settings.provider == "simulated":
            how = ("the simulated orchestrator fills in the built-in pattern that fits the request" if
                   settings.scenario is None else f"the orchestrator answers from the scenario {settings.scenario}")
            click.echo(f"Using the simulated model: {how} (no API calls, no cost). "
                       "Use --provider anthropic with ANTHROPIC_API_KEY for a real orchestrator.", err=True)
    try:
        authored = anyio.run(_author, request, scope, settings, name, max_repairs, as_json)
    except AuthoringError as exc:
        fail(str(exc), EXIT_FAILED)
    except WorkcrewError as exc:
        fail(str(exc))
    if as_json:
        emit_json({**authored.to_json(), "scope": _scope_json(scope)})
    else:
        _print_result(authored, simulated=settings.provider == "simulated")
        if not authored.ok:
            _simulated_hint(settings)
    sys.exit(EXIT_OK if authored.ok else EXIT_USAGE)


def _scope_path(path: Path, workspace: Path) -> Path:
    """A --scope path: relative to the current folder, or else to the workspace (as with -C elsewhere)."""
    if path.is_absolute() or path.exists() or not (workspace / path).exists():
        return path.absolute()
    return workspace / path


async def _author(request: str, scope: Scope, settings: Settings, name: str | None, max_repairs: int,
                  quiet: bool) -> AuthoredWorkflow:
    # author_workflow makes the settings' client and closes it afterwards
    return await author_workflow(
        request, scope, settings, name=name, max_repairs=max_repairs,
        on_progress=None if quiet else (lambda message: click.echo(f"… {message}", err=True)),
    )


def _scope_json(scope: Scope) -> dict[str, Any]:
    data = scope.to_json()
    data.pop("files", None)  # the list is in args.files already
    return data


def _print_scope(scope: Scope) -> None:
    left_out = sum(scope.excluded_counts.values())
    click.echo(f"Scope: {len(scope.files):,} files, {scope.total_bytes:,} bytes, ~{tokens(scope.total_tokens)} tokens"
               + (f" ({left_out:,} left out: " + ", ".join(f"{k} {v}" for k, v in sorted(scope.excluded_counts.items()))
                  + ")" if left_out else ""), err=True)
    for pick, why in scope.refused.items():
        click.echo(f"  refused {pick}: {why}", err=True)


def _print_result(authored: AuthoredWorkflow, *, simulated: bool) -> None:
    where = authored.path if authored.path is not None else "(not saved)"
    click.echo(f"Saved {where}")
    spent = "no cost (simulated)" if simulated else money(authored.cost_usd)
    click.echo(f"Orchestrator: {authored.model}, {authored.rounds} round(s), "
               f"{tokens(authored.usage.total_tokens)} tokens, {spent}")
    if authored.ok:
        click.echo("Check: ok")
        click.echo(f"Run it with: workcrew run {authored.name}")
        return
    click.echo(f"Check: {len(authored.problems)} problem(s) remain after {authored.rounds - 1} repair round(s) "
               f"in {where}:", err=True)
    for problem in authored.problems:
        click.echo(f"  {problem}", err=True)
    click.echo(f"It will not run until they are fixed: edit {where} by hand and run `workcrew check {where}`, "
               "or ask again with more --max-repairs or a clearer request.", err=True)


def _simulated_hint(settings: Settings) -> None:
    if settings.provider == "simulated" and settings.scenario is not None:
        click.echo(f"Note: the orchestrator's answers come from the scenario {settings.scenario}; without "
                   "--scenario the simulated orchestrator fills in a built-in pattern, and --provider anthropic "
                   "(with ANTHROPIC_API_KEY) writes a script for the request.", err=True)
