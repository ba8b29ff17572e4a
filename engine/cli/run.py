"""``workcrew run``: run a workflow with live progress, or headless with ``--json``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import anyio
import click
from rich.console import Console
from rich.live import Live
from rich.table import Table

from ..errors import ScriptError, UsageError, WorkcrewError
from ..providers.factory import make_client
from ..runtime.heap import freeze_startup_heap
from ..runtime.resume import ResumeCache
from ..runtime.run import RunHandle, RunResult, start
from ..runtime.scripthost.spawn import prewarm
from ..settings import Settings
from ..store import RunStore
from .common import (
    EXIT_FAILED,
    EXIT_OK,
    emit_json,
    fail,
    json_option,
    load_target,
    money,
    open_store,
    tokens,
)
from .default_scope import with_default_scope
from .options import build_settings, parse_args_json, run_options
from .tables import progress_table


@click.command("run")
@click.argument("target", metavar="SCRIPT_OR_NAME")
@run_options
@click.option("--yes", "-y", is_flag=True, help="Do not ask for approval before spending.")
@click.option("--reuse", "reuse_from", metavar="[RUN_ID|last]", is_flag=False, flag_value="last", default=None,
              help="Reuse the finished agents of an earlier run of this workflow (default: the last one) whose "
                   "calls match and whose files are unchanged, in any order; only the rest run, and the estimate "
                   "counts only them. Also resumes an interrupted or stopped run.")
@click.option("--resume-from", "resume_from", metavar="RUN_ID",
              help="The same as --reuse RUN_ID (kept for Claude Code users).")
@click.option("--force", is_flag=True, help="With --reuse/--resume-from: reuse a run still marked running.")
@click.option("--detach", is_flag=True,
              help="Run it in its own process and return at once: it outlives this terminal. Follow it with "
                   "`workcrew attach RUN_ID`, control it with `workcrew stop|pause|resume RUN_ID`.")
@json_option
def run_cmd(target: str, args_json: str | None, provider: str | None, scenario: Path | None,
            concurrency: int | None, max_agents: int | None, budget_tokens: int | None, budget_usd: float | None,
            model: str | None, workspace: Path | None, state_dir: Path | None, yes: bool, reuse_from: str | None,
            resume_from: str | None, force: bool, detach: bool, as_json: bool) -> None:
    """Run a workflow script (a path) or a saved / built-in workflow (a name)."""
    prewarm()  # a script host starts loading now, while settings, scope and the estimate are made
    args = parse_args_json(args_json)
    settings = build_settings(workspace, provider, scenario, concurrency, max_agents, budget_tokens, budget_usd,
                              model, state_dir)
    workflow = load_target(target, settings)
    args = with_default_scope(workflow, args, settings, quiet=as_json)  # a built-in given no files: the scope
    if reuse_from is not None and resume_from is not None:
        fail("give --reuse or --resume-from, not both")
    opened, resume = _resume_cache(settings, workflow.name, reuse_from or resume_from, force)
    # -- approval (cost, issue #4): estimate → policy / --yes / remembered consent → ask on a terminal;
    #    exits 2 when approval is needed and cannot be given; the approved cap becomes the USD budget
    from .estimate import approve_run

    settings, estimate = approve_run(workflow, args, settings, yes=yes, quiet=as_json,
                                     budget_given=budget_tokens is not None or budget_usd is not None, reuse=resume)
    # -- end of the approval step
    if detach:
        _detach(workflow, args, settings, estimate, reuse_from or resume_from, force, opened, as_json)
    console = Console(stderr=True)
    if settings.provider == "simulated" and not as_json:
        console.print("[dim]Using the simulated model (no API calls, no cost). "
                      "Use --provider anthropic with ANTHROPIC_API_KEY for real agents.[/dim]")
    try:
        client = make_client(settings)
    except WorkcrewError as exc:
        fail(str(exc))
    store = opened if opened is not None else open_store(settings)
    freeze_startup_heap()
    try:
        outcome = anyio.run(_run, workflow, args, settings, client, store, console, as_json, yes, estimate, resume)
    except ScriptError as exc:
        fail(str(exc))
    except UsageError as exc:
        fail(str(exc))
    finally:
        store.close()
    if as_json:
        emit_json(outcome.to_json())
    else:
        _print_summary(console, outcome)
    sys.exit(EXIT_OK if outcome.status == "succeeded" else EXIT_FAILED)


def _detach(workflow: Any, args: Any, settings: Settings, estimate: dict[str, Any] | None, reuse_from: str | None,
            force: bool, opened: RunStore | None, as_json: bool) -> None:
    """Start the approved run in its own process, say how to follow it, and exit."""
    from ..runtime.detached import launch

    if opened is not None:
        opened.close()
    try:
        run_id = launch(workflow, args, settings, estimate=estimate, reuse_from=reuse_from, force=force)
    except WorkcrewError as exc:
        fail(str(exc))
    if as_json:
        emit_json({"run_id": run_id, "status": "running", "detached": True})
    else:
        click.echo(f"{run_id} started in its own process; follow it with `workcrew attach {run_id}`, stop it with "
                   f"`workcrew stop {run_id}`")
    sys.exit(EXIT_OK)


def _resume_cache(settings: Settings, workflow: str, resume_from: str | None,
                  force: bool) -> tuple[RunStore | None, ResumeCache | None]:
    """The earlier run to resume from (checked before any estimate or approval) and the store it is in."""
    if resume_from is None:
        if force:
            fail("--force only goes with --reuse or --resume-from")
        return None, None
    store = open_store(settings)
    try:
        return store, ResumeCache.load(store, resume_from, workflow, force=force, settings=settings)
    except UsageError as exc:
        store.close()
        fail(str(exc))


async def _run(workflow: Any, args: Any, settings: Settings, client: Any, store: Any, console: Console,
               as_json: bool, yes: bool, estimate: dict[str, Any] | None = None,
               resume: ResumeCache | None = None) -> RunResult:
    handle = start(workflow, args, settings, client=client, store=store, estimate=estimate, resume=resume)
    try:
        if as_json or not console.is_terminal:
            return await handle.result()
        return await _live(handle, console)
    except BaseException:
        handle.cancel()
        with anyio.CancelScope(shield=True):
            await handle.result()
        raise
    finally:
        await client.aclose()


async def _live(handle: RunHandle, console: Console) -> RunResult:
    with Live(_render(handle), console=console, refresh_per_second=8, transient=False) as live:
        async for _event in handle.events(replay=False):
            live.update(_render(handle))
        live.update(_render(handle))
    return await handle.result()


def _render(handle: RunHandle) -> Table:
    return progress_table(handle.tree(), f"{handle.workflow.name} · {handle.run_id}")


def _cached(agents: dict[str, int]) -> str:
    return f", {agents['cached']} cached (reused, no cost)" if agents.get("cached") else ""


def _print_summary(console: Console, outcome: RunResult) -> None:
    for line in outcome.logs:
        console.print(f"[dim]log[/dim] {line}", markup=True, highlight=False)
    agents, usage = outcome.agents, outcome.usage
    style = "green" if outcome.status == "succeeded" else "red"
    console.print(
        f"[{style}]{outcome.status}[/{style}] {outcome.run_id} in {outcome.duration_s:.1f}s · agents: "
        f"{agents.get('launched', 0)} launched, {agents.get('succeeded', 0)} succeeded, "
        f"{agents.get('failed', 0)} failed{_cached(agents)} · tokens: {tokens(usage.get('input_tokens'))} in, "
        f"{tokens(usage.get('output_tokens'))} out, {tokens(usage.get('cache_read_input_tokens'))} cache read · "
        f"{money(usage.get('cost_usd'))}"
    )
    if outcome.failure_reasons:
        console.print("failed agents by reason: " + ", ".join(f"{k}: {v}" for k, v in outcome.failure_reasons.items()))
    if outcome.script_failures:
        first = outcome.script_failure_reasons[0] if outcome.script_failure_reasons else ""
        console.print(f"fan-out slots whose script code threw: {outcome.script_failures} (first: {first})",
                      markup=False)
    if outcome.error:
        console.print(f"[red]error:[/red] {outcome.error}", highlight=False)
    if outcome.result is not None:
        click.echo(json.dumps(outcome.result, indent=2, default=str))
