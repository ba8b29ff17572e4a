"""``workcrew attach|stop|pause|resume RUN_ID``: follow and control a run, whichever process owns it
(a run process started with ``--detach`` or by the editor, another terminal's ``workcrew run``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import anyio
import click
from rich.console import Console
from rich.live import Live
from rich.table import Table

from ..runtime.follow import FINAL, RunFollower
from ..store import RunStore, StoreError, controls
from .common import (
    EXIT_FAILED,
    EXIT_OK,
    emit_json,
    fail,
    find_run,
    json_option,
    money,
    open_store,
    settings_from,
    state_dir_option,
    workspace_option,
)
from .tables import progress_table


def _store(workspace: Path | None, state_dir: Path | None) -> RunStore:
    return open_store(settings_from(workspace, state_dir=state_dir.resolve() if state_dir else None))


def _run(store: RunStore, run_id: str) -> dict[str, Any]:
    store.reconcile_interrupted()
    run = find_run(store, run_id)
    if run is None:
        store.close()
        fail(f"no run {run_id!r} in {store.path}; `workcrew runs` lists the runs there")
    return run


@click.command("attach")
@click.argument("run_id")
@workspace_option
@state_dir_option
@json_option
def attach_cmd(run_id: str, workspace: Path | None, state_dir: Path | None, as_json: bool) -> None:
    """Follow a run until it ends (Ctrl-C leaves it running). Exit 0 when it succeeded, 1 otherwise."""
    store = _store(workspace, state_dir)
    run = _run(store, run_id)
    follower = RunFollower(store, str(run["id"]))
    console = Console(stderr=True)
    try:
        outcome = anyio.run(_follow, follower, console, as_json)
    except KeyboardInterrupt:
        console.print(f"detached; run {run['id']} goes on (`workcrew attach {run['id']}` to follow it again, "
                      f"`workcrew stop {run['id']}` to stop it)")
        sys.exit(EXIT_OK)
    finally:
        store.close()
    if as_json:
        emit_json(outcome)
    else:
        agents, usage = outcome["agents"], outcome["usage"]
        console.print(f"{outcome['status']} {outcome['run_id']} · agents: {agents['launched']} launched, "
                      f"{agents['succeeded']} succeeded, {agents['failed']} failed, {agents['cached']} cached · "
                      f"{money(usage.get('cost_usd'))}" + (f" · {outcome['error']}" if outcome.get("error") else ""),
                      highlight=False, markup=False)
    sys.exit(EXIT_OK if outcome["status"] == "succeeded" else EXIT_FAILED)


async def _follow(follower: RunFollower, console: Console, quiet: bool) -> dict[str, Any]:
    asked = 0
    if quiet or not console.is_terminal:
        async for event in follower.events():
            if event.type == "log" and not quiet:
                console.print(f"log {event.data.get('message', '')}", highlight=False, markup=False)
        return await follower.result()
    with Live(_render(follower), console=console, refresh_per_second=4, transient=False) as live:
        async for event in follower.events():
            if event.type == "ask":
                asked += 1
                live.stop()
                await _answer(follower, asked, event.data)
                live.start()
            live.update(_render(follower))
        live.update(_render(follower))
    return await follower.result()


async def _answer(follower: RunFollower, number: int, question: dict[str, Any]) -> None:
    """The run's ``ask()``, answered here unless someone (the editor) already did."""
    found, _ = await anyio.to_thread.run_sync(controls.answered, follower.store, follower.run_id, number)
    if found or not sys.stdin.isatty():
        return
    choices = question.get("choices") or None
    text = str(question.get("question") or "")
    hint = f" [{'/'.join(choices)}]" if choices else ""
    answer = await anyio.to_thread.run_sync(lambda: click.prompt(text + hint, default="", show_default=False,
                                                                 err=True))
    await anyio.to_thread.run_sync(controls.answer, follower.store, follower.run_id, number, answer or None)


def _render(follower: RunFollower) -> Table:
    tree = follower.tree()
    return progress_table(tree, f"{tree['workflow']} · {follower.run_id} · {tree['status']}")


def _control(action: str, run_id: str, workspace: Path | None, state_dir: Path | None, reason: str | None) -> None:
    store = _store(workspace, state_dir)
    try:
        run = _run(store, run_id)
        if run.get("status") in FINAL:
            fail(f"run {run['id']} has already ended ({run['status']})")
        controls.request(store, str(run["id"]), action, reason)
    except StoreError as exc:
        fail(str(exc))
    finally:
        store.close()
    said = {"stop": "to stop: agents in flight finish, no new one starts; resume it later with --reuse",
            "cancel": "to cancel now", "pause": "to pause: agents in flight finish, no new one starts until "
            "`workcrew resume`", "resume": "to go on"}[action]
    click.echo(f"asked run {run['id']} {said}")


@click.command("stop")
@click.argument("run_id")
@click.option("--now", is_flag=True, help="Cancel at once, agents in flight included (their partial spend is lost).")
@workspace_option
@state_dir_option
def stop_cmd(run_id: str, now: bool, workspace: Path | None, state_dir: Path | None) -> None:
    """Stop a run: no new agent starts, agents in flight finish, the run ends `stopped` (resumable)."""
    _control("cancel" if now else "stop", run_id, workspace, state_dir, "stopped by the user (workcrew stop)")


@click.command("pause")
@click.argument("run_id")
@workspace_option
@state_dir_option
def pause_cmd(run_id: str, workspace: Path | None, state_dir: Path | None) -> None:
    """Pause a run: agents in flight finish, no new agent starts until `workcrew resume`."""
    _control("pause", run_id, workspace, state_dir, None)


@click.command("resume")
@click.argument("run_id")
@workspace_option
@state_dir_option
def resume_cmd(run_id: str, workspace: Path | None, state_dir: Path | None) -> None:
    """Let a paused run go on."""
    _control("resume", run_id, workspace, state_dir, None)
