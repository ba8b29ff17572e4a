"""The options ``workcrew run`` and ``workcrew estimate`` share, and the settings they make."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..settings import Settings, every_role
from .common import settings_from, state_dir_option, workspace_option


def parse_args_json(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not valid JSON: {exc.msg} at column {exc.colno}", param_hint="--args") from None


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    # where the run's work goes is the same for every command that runs or estimates: kept in the context
    # (not a parameter of each command) and read by build_settings
    if value is not None:
        ctx.meta[f"workcrew.{param.name}"] = value


def run_options(function: Any) -> Any:
    options = [
        click.option("--executor", type=click.Choice(["local", "distributed"]), envvar="WORKCREW_EXECUTOR",
                     expose_value=False, callback=_remember,
                     help="Where agents' tools, worktrees and checks run: this machine (default) or a cluster's "
                          "workers (docs/scale-out.md)."),
        click.option("--cluster", metavar="ADDRESS", envvar="WORKCREW_CLUSTER", expose_value=False, callback=_remember,
                     help="The Ray cluster of a distributed run: its head, HOST:6379."),
        click.option("--args", "args_json", metavar="JSON", help="The workflow's input, as JSON."),
        click.option("--provider", type=click.Choice(["simulated", "anthropic"]), envvar="WORKCREW_PROVIDER",
                     help="Model provider (default: simulated unless configured)."),
        click.option("--scenario", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     envvar="WORKCREW_SCENARIO", help="Scenario file for the simulated model."),
        click.option("--concurrency", type=click.IntRange(1, 256), help="Agents at once (default 16)."),
        click.option("--max-agents", type=click.IntRange(1), help="Agents per run (default 1000)."),
        click.option("--budget-tokens", type=click.IntRange(0), help="Hard token budget for the run."),
        click.option("--budget-usd", type=click.FloatRange(0), help="Hard USD budget for the run."),
        click.option("--model", help="Default model for every agent."),
        workspace_option,
        state_dir_option,
    ]
    for option in reversed(options):
        function = option(function)
    return function


def build_settings(workspace: Path | None, provider: str | None, scenario: Path | None, concurrency: int | None,
                   max_agents: int | None, budget_tokens: int | None, budget_usd: float | None,
                   model: str | None, state_dir: Path | None) -> Settings:
    overrides: dict[str, Any] = {
        "provider": provider, "scenario": scenario.resolve() if scenario else None, "concurrency": concurrency,
        "max_agents": max_agents, "budget_tokens": budget_tokens, "budget_usd": budget_usd,
        "state_dir": state_dir.resolve() if state_dir else None,
    }
    if model:
        overrides["models"] = every_role(model)  # "default model for every agent", roles included
    context = click.get_current_context(silent=True)
    if context is not None:
        for name in ("executor", "cluster"):
            overrides[name] = context.meta.get(f"workcrew.{name}")
    return settings_from(workspace, **overrides)
