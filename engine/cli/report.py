"""``workcrew report`` (Markdown, SARIF 2.1.0 or JSON from the run store) and ``workcrew save``."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import click

from ..results.report import FORMATS, ReportError, load_records, render
from ..workflows.discovery import SaveError, save_workflow
from .common import EXIT_OK, fail, find_run, open_store, settings_from, state_dir_option, workspace_option


@click.command("report")
@click.argument("run_id")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="md", show_default=True,
              help="md: the human report; sarif: SARIF 2.1.0 for code-scanning tools; json: everything, for scripts.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")
@workspace_option
@state_dir_option
def report_cmd(run_id: str, fmt: str, output: Path | None, workspace: Path | None, state_dir: Path | None) -> None:
    """Print a run's report, made again from the run store (unique run-id prefixes work)."""
    settings = settings_from(workspace, state_dir=state_dir)
    store = open_store(settings)
    try:
        text = render(load_records(store, run_id), fmt)
    except ReportError as exc:
        fail(str(exc))
    finally:
        store.close()
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror}")
    click.echo(f"wrote {output}", err=True)


@click.command("save")
@click.argument("run_id")
@click.option("--name", help="Save under this name (default: the workflow's meta name).")
@click.option("--personal", is_flag=True, help="Save to ~/.claude/workflows (yours only) instead of the project.")
@click.option("--force", is_flag=True, help="Replace an existing saved workflow of that name.")
@workspace_option
@state_dir_option
def save_cmd(run_id: str, name: str | None, personal: bool, force: bool, workspace: Path | None,
             state_dir: Path | None) -> None:
    """Save a run's script as a named workflow you can run again with `workcrew run NAME`."""
    settings = settings_from(workspace, state_dir=state_dir)
    store = open_store(settings)
    try:
        run = find_run(store, run_id)
    finally:
        store.close()
    if run is None:
        fail(f"no run {run_id!r} in {store.path}; `workcrew runs` lists the runs there")
    source = run.get("script_source")
    if not source:
        fail(f"run {run['id']} has no stored script to save")
    try:
        saved = save_workflow(source, run.get("dialect") or "python", settings.workspace, name=name,
                              personal=personal, force=force)
    except SaveError as exc:
        fail(str(exc))
    where = "personal" if personal else "project"
    if saved.unchanged:
        click.echo(f"{saved.path} already holds this script ({where} workflow {saved.name!r})")
    else:
        click.echo(f"saved {where} workflow {saved.name!r} to {saved.path}")
    for hidden in saved.shadows:
        click.echo(f"note: it overrides the {hidden.origin} workflow {saved.name!r} at {hidden.path}", err=True)
    args = run.get("args")
    rerun = f"workcrew run {saved.name}"
    if args is not None:
        rerun += " --args " + shlex.quote(json.dumps(args))
    click.echo(f"run it again with: {rerun}")
    sys.exit(EXIT_OK)
