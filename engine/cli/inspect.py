"""``workcrew check``, ``runs``, ``show`` and ``list``."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..agents.catalog import AgentCatalog
from ..cost.calibration import estimate_vs_actual
from ..errors import WorkcrewError
from ..store.placement import executor_label, executors
from ..workflows.discovery import discover
from ..workflows.workflow import load_workflow
from .agents import print_catalog
from .common import (
    EXIT_USAGE,
    emit_json,
    fail,
    find_run,
    json_option,
    money,
    open_store,
    settings_from,
    state_dir_option,
    tokens,
    workspace_option,
)


@click.command("check")
@click.argument("script", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
def check_cmd(script: Path, as_json: bool) -> None:
    """Validate a workflow script without running it (exit 2 with the problems)."""
    try:
        workflow = load_workflow(script)
    except WorkcrewError as exc:
        fail(str(exc))
    problems = workflow.check()
    if as_json:
        emit_json({"ok": not problems, "name": workflow.name, "dialect": workflow.dialect,
                   "problems": [p.__dict__ for p in problems], "warnings": [w.__dict__ for w in workflow.warnings]})
    else:
        for problem in problems:
            click.echo(str(problem), err=True)
        for warning in workflow.warnings:
            click.echo(f"{warning} (warning)", err=True)
        if not problems:
            phases = ", ".join(p.title for p in workflow.meta.phases) if workflow.meta else ""
            click.echo(f"{script}: ok ({workflow.dialect} workflow {workflow.name!r}{'; phases: ' + phases if phases else ''})")
    sys.exit(EXIT_USAGE if problems else 0)


@click.command("runs")
@click.option("--limit", type=click.IntRange(1), default=30, show_default=True)
@workspace_option
@state_dir_option
@json_option
def runs_cmd(limit: int, workspace: Path | None, state_dir: Path | None, as_json: bool) -> None:
    """List recent runs."""
    settings = settings_from(workspace, state_dir=state_dir)
    store = open_store(settings)
    rows = store.list_runs(limit)
    # an executor column only when a listed run went to a cluster: a machine that never did sees no change
    distributed = executors(store, [str(row["id"]) for row in rows])
    if as_json:
        emit_json([{**row, "executor": distributed[row["id"]]} if row["id"] in distributed else row for row in rows])
        return
    if not rows:
        click.echo("no runs yet")
        return
    table = Table()
    for column in ("run", "workflow", "status", "started", "agents ok/failed", "tokens", "cost"):
        table.add_column(column)
    if distributed:
        table.add_column("executor")
    for row in rows:
        total = sum(row[k] or 0 for k in ("input_tokens", "output_tokens", "cache_creation_input_tokens",
                                           "cache_read_input_tokens"))
        cells = [row["id"], row["workflow"], row["status"],
                 time.strftime("%Y-%m-%d %H:%M", time.localtime(row["created_at"])),
                 f"{row['succeeded']}/{row['failed']} of {row['launched']}", tokens(total), money(row["cost_usd"])]
        table.add_row(*cells, *([distributed.get(str(row["id"]), "local")] if distributed else []))
    Console().print(table)


@click.command("show")
@click.argument("run_id")
@workspace_option
@state_dir_option
@json_option
def show_cmd(run_id: str, workspace: Path | None, state_dir: Path | None, as_json: bool) -> None:
    """Show one run: status, result, agents with their cost, logs."""
    settings = settings_from(workspace, state_dir=state_dir)
    store = open_store(settings)
    run = find_run(store, run_id)
    if run is None:
        fail(f"no run {run_id!r} in {store.path}; see `workcrew runs`")
    agents = store.get_agents(run["id"])
    logs = store.get_logs(run["id"])
    findings = store.get_findings(run["id"])
    executor = executor_label(run.get("settings"))
    on_workers = any(a.get("worker") for a in agents)  # a local run's agents ran here: no worker column
    if as_json:
        run.pop("script_source", None)
        emit_json({"run": run, "agents": agents, "logs": logs, "findings": findings,
                   "by_phase": _by(agents, "phase"), "by_model": _by(agents, "model"),
                   **({"executor": executor} if executor else {}),
                   **({"by_worker": _by(agents, "worker")} if on_workers else {}),
                   "estimate_vs_actual": estimate_vs_actual(run)})
        return
    console = Console()
    console.print(f"[bold]{run['workflow']}[/bold] {run['id']} · {run['status']}"
                  + (f" · [red]{run['error']}[/red]" if run["error"] else ""), highlight=False)
    console.print(f"agents: {run['launched']} launched, {run['succeeded']} succeeded, {run['failed']} failed · "
                  f"cost {money(run['cost_usd'])}")
    if executor:
        console.print(f"executor: {executor}", highlight=False)
    compared = estimate_vs_actual(run)  # cost issue #4: what the run was approved at vs what it spent
    if compared is not None:
        tok, usd = compared["tokens"], compared["cost_usd"]
        console.print(f"estimate vs actual: tokens {tokens(tok['estimate']['expected'])} "
                      f"({tokens(tok['estimate']['low'])}–{tokens(tok['estimate']['high'])}) vs {tokens(tok['actual'])}"
                      f" · cost {money(usd['estimate']['expected'])} ({money(usd['estimate']['low'])}–"
                      f"{money(usd['estimate']['high'])}) vs {money(usd['actual'])}"
                      + ("" if tok["in_range"] and usd["in_range"] else " · outside the estimated range"),
                      highlight=False)
    table = Table()
    columns = ("agent", "phase", "label", "model", "state", "tokens", "cost", "time")
    for column in (*columns, *(("worker",) if on_workers else ()), "error"):
        table.add_column(column)
    for a in agents:
        total = sum(a[k] or 0 for k in ("input_tokens", "output_tokens", "cache_creation_input_tokens",
                                         "cache_read_input_tokens"))
        elapsed = (a["finished_at"] or 0) - (a["started_at"] or 0) if a["started_at"] and a["finished_at"] else 0
        # an agent that never got a worker (still queued, cached from an earlier run) is marked "-"
        where = [a.get("worker") or "-"] if on_workers else []
        table.add_row(a["id"], a["phase"] or "", a["label"] or "", a["model"] or "", a["state"] or "",
                      tokens(total), money(a["cost_usd"]), f"{elapsed:.1f}s", *where, (a["error"] or "")[:80])
    console.print(table)
    groups = [("phase", _by(agents, "phase")), ("model", _by(agents, "model"))]
    for group, rows in groups + ([("worker", _by(agents, "worker"))] if on_workers else []):
        console.print(f"by {group}: " + ", ".join(f"{r['key'] or '-'} {r['agents']} agents {money(r['cost_usd'])}"
                                                   for r in rows))
    for line in logs:
        console.print(f"[dim]log[/dim] {line}", highlight=False)
    if findings:
        console.print(f"{len(findings)} findings; `workcrew report {run['id']}` for the report")


def _by(agents: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for agent in agents:
        name = str(agent.get(key) or "")
        row = groups.setdefault(name, {"key": name, "agents": 0, "cost_usd": 0.0, "input_tokens": 0,
                                       "output_tokens": 0})
        row["agents"] += 1
        row["cost_usd"] += float(agent.get("cost_usd") or 0)
        row["input_tokens"] += int(agent.get("input_tokens") or 0)
        row["output_tokens"] += int(agent.get("output_tokens") or 0)
    return list(groups.values())


@click.command("list")
@workspace_option
@json_option
@click.option("--agents", "agents", is_flag=True,
              help="List the agent types (.claude/agents, ~/.claude/agents, plugins, built-in) and skills instead.")
def list_cmd(workspace: Path | None, as_json: bool, agents: bool) -> None:
    """List saved and built-in workflows, with any problems they have (--agents: agent types and skills)."""
    settings = settings_from(workspace)
    if agents:
        view = AgentCatalog.load(settings.workspace).describe()
        if as_json:
            emit_json(view)
        else:
            print_catalog(view)
        return
    entries = discover(settings.workspace)
    if as_json:
        emit_json([{
            "name": e.name, "origin": e.origin, "path": str(e.path), "valid": e.valid,
            "description": e.workflow.meta.description if e.workflow.meta else None,
            "when_to_use": e.workflow.meta.when_to_use if e.workflow.meta else None,
            "args": e.workflow.meta.args if e.workflow.meta else None,
            "dialect": e.workflow.dialect, "problems": [str(p) for p in e.problems], "warnings": e.warnings,
        } for e in entries])
        return
    if not entries:
        click.echo("no workflows found (built-in, ~/.claude/workflows or .claude/workflows)")
        return
    console = Console()
    for e in entries:
        meta = e.workflow.meta
        status = "" if e.valid else " [red](invalid)[/red]"
        console.print(f"[bold]{e.name}[/bold] [dim]{e.origin} · {e.path}[/dim]{status}", highlight=False)
        if meta:
            console.print(f"  {meta.description}", highlight=False)
            if meta.when_to_use:
                console.print(f"  [dim]when: {meta.when_to_use}[/dim]", highlight=False)
            for arg, about in (meta.args or {}).items():
                console.print(f"  [dim]args.{escape(str(arg))}: {escape(str(about))}[/dim]", highlight=False)
        for problem in e.problems:
            console.print(f"  [red]{problem}[/red]", highlight=False)
        for warning in e.warnings:
            console.print(f"  [yellow]{warning}[/yellow]", highlight=False)
