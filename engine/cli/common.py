"""Shared CLI plumbing: settings from flags, the store, exit codes, JSON output."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from ..errors import WorkcrewError
from ..settings import Settings, load_settings
from ..store import RunStore, StoreError
from ..workflows.discovery import resolve
from ..workflows.workflow import Workflow

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

state_dir_option = click.option(
    "--state-dir", type=click.Path(file_okay=False, path_type=Path), envvar="WORKCREW_STATE_DIR",
    help="Where runs are stored (default: <workspace>/.workcrew).",
)
workspace_option = click.option(
    "--workspace", "-C", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
    help="The project the workflow works on (default: the current folder).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    click.echo(f"workcrew: {message}", err=True)
    sys.exit(code)


def settings_from(workspace: Path | None, **overrides: Any) -> Settings:
    try:
        return load_settings(workspace, overrides)
    except WorkcrewError as exc:
        fail(str(exc))


def open_store(settings: Settings) -> RunStore:
    try:
        return RunStore(settings.resolved_state_dir())
    except StoreError as exc:
        fail(str(exc))


def find_run(store: RunStore, run_id: str) -> dict[str, Any] | None:
    """The run an id or the start of one names (None: no such run); several runs sharing the start: exit 2 with them."""
    try:
        return store.get_run(run_id)
    except WorkcrewError as exc:  # AmbiguousRunId: the message lists the candidates
        store.close()
        fail(str(exc))


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def money(value: float | None) -> str:
    if value is None:
        return "-"
    return f"${value:,.4f}" if value < 1 else f"${value:,.2f}"


def tokens(value: int | None) -> str:
    value = value or 0
    if value >= 1_000_000:
        return f"{value / 1_000_000:.2f}M"
    if value >= 10_000:
        return f"{value / 1000:.1f}k"
    return str(value)


def load_target(target: str, settings: Settings) -> Workflow:
    """The workflow a command names (path or name); exits 2 with every problem when it cannot run."""
    try:
        workflow = resolve(target, settings.workspace)
    except WorkcrewError as exc:
        fail(str(exc))
    if workflow.problems:
        for problem in workflow.problems:
            click.echo(str(problem), err=True)
        sys.exit(EXIT_USAGE)
    return workflow
