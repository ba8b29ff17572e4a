"""``workcrew stats``: what became of the findings, over time — by the week each was first reported, or by run,
per workflow: fixed, dismissed (by reason), open, the resolution rate and how many were acted on
(definitions in ``results/resolution.py`` and docs/reports.md)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..results.resolution import by_run, by_week, overall, percent
from .common import emit_json, json_option, open_store, settings_from, state_dir_option, workspace_option

DEFINITIONS = ("resolution rate = fixed / findings; acted on = (fixed + dismissed) / findings. Fixed: a later run "
               "covered the file, the file had changed and the finding was not reported again, or its fix was "
               "applied in the editor.")


@click.command("stats")
@click.option("--by", "by", type=click.Choice(["week", "run"]), default="week", show_default=True,
              help="week: each finding once, in the week it was first reported; run: the findings each run reported.")
@click.option("--workflow", help="Only this workflow's findings.")
@click.option("--limit", type=click.IntRange(1), default=20, show_default=True, help="Runs shown with --by run.")
@workspace_option
@state_dir_option
@json_option
def stats_cmd(by: str, workflow: str | None, limit: int, workspace: Path | None, state_dir: Path | None,
              as_json: bool) -> None:
    """How findings were resolved over time: fixed, dismissed (by reason) and open, with the resolution rate."""
    settings = settings_from(workspace, state_dir=state_dir)
    store = open_store(settings)
    try:
        rows = by_week(store, workflow) if by == "week" else by_run(store, limit, workflow)
    finally:
        store.close()
    # each finding is counted once by week; by run, a finding that several runs reported counts in each of them
    total = overall(rows) if by == "week" else None
    if as_json:
        emit_json({"by": by, "workflow": workflow, "rows": rows, "total": total, "definitions": DEFINITIONS})
        return
    if not rows:
        click.echo("no findings yet" + (f" for workflow {workflow!r}" if workflow else "")
                   + ": run a workflow that reports findings (e.g. `workcrew run review`)")
        return
    Console().print(_table(rows, by, total))
    click.echo(DEFINITIONS)


def _table(rows: list[dict[str, Any]], by: str, total: dict[str, Any] | None) -> Table:
    first = ["week", "workflow"] if by == "week" else ["run", "workflow", "started"]
    table = Table(title=f"Findings by {by}, as they stand now", title_justify="left")
    for column in [*first, "findings", "fixed", "dismissed", "open", "resolution rate", "acted on"]:
        table.add_column(column, justify="left" if column in first else "right")
    for row in rows:
        lead = [row["week"], row["workflow"]] if by == "week" else [
            row["run_id"], row["workflow"], time.strftime("%Y-%m-%d %H:%M", time.localtime(row["created_at"]))]
        table.add_row(*(escape(str(cell)) for cell in lead), *_counts(row))
    if total is not None:
        table.add_section()
        table.add_row("total", "", *_counts(total))
    return table


def _counts(row: dict[str, Any]) -> list[str]:
    kinds = ", ".join(f"{kind} {n}" for kind, n in row["dismissed_by"].items())
    dismissed = f"{row['dismissed']}" + (f" ({kinds})" if kinds else "")
    return [str(row["total"]), str(row["fixed"]), escape(dismissed), str(row["open"]), percent(row["rate"]),
            percent(row["acted_on"])]
