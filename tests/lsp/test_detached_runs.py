"""Runs that outlive the editor: a run started from the editor is owned by its own run process; shutting
the server down or killing it leaves the run going, and a server started again on the workspace
re-attaches to it, restoring its progress and its diagnostics. With ``detachRuns: false`` the run lives
inside the server and ends with it, recorded as interrupted."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
from pathlib import Path

from .conftest import SessionFactory, push_capabilities
from .test_runs import start_slow

TWO_FINDINGS = """meta = {"name": "two-findings", "description": "one finding, a long agent, another finding"}
report({"title": "Early finding", "location": {"path": "calc.py", "start_line": 3}, "category": "bug"})
await agent("wait for the slow part", label="wait 1")
report({"title": "Late finding", "location": {"path": "stats.py", "start_line": 2}, "category": "bug"})
return "done"
"""


def run_row(workspace: Path, run_id: str) -> tuple[str, str | None, str | None]:
    db = sqlite3.connect(workspace / ".workcrew" / "workcrew.db")
    try:
        status, error, owner = db.execute("SELECT status, error, owner FROM runs WHERE id = ?", (run_id,)).fetchone()
    finally:
        db.close()
    return status, error, owner


def alive(owner: str | None) -> bool:
    pid = int(str(owner).split(":")[1])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_shutdown_leaves_the_run_going_and_a_new_server_reattaches(lsp_session: SessionFactory) -> None:
    session = await lsp_session(capabilities=push_capabilities())
    result = await start_slow(session)
    await asyncio.wait_for(session.client.shutdown_session(), 15)
    status, _, owner = run_row(session.workspace, result["runId"])
    assert status == "running" and alive(owner)  # its own process owns it, not the server that stopped

    again = await lsp_session(capabilities=push_capabilities(), workspace=session.workspace)
    listed = await again.command("workcrew.listRuns", {})
    (followed,) = [r for r in listed if r["id"] == result["runId"]]
    assert followed["live"] is True and followed["workflow"] == "slow-review"
    finished = again.client.protocol.wait_for_notification_async("workcrew/runFinished")
    assert (await again.command("workcrew.cancelRun", {"runId": result["runId"]}))["status"] == "cancelling"
    done = await asyncio.wait_for(finished, 20)
    assert done.runId == result["runId"] and done.status == "cancelled"
    assert run_row(session.workspace, result["runId"])[0] == "cancelled"


async def test_a_killed_server_restarts_with_the_runs_diagnostics_restored(lsp_session: SessionFactory) -> None:
    session = await lsp_session(capabilities=push_capabilities(), files={"two_findings.py": TWO_FINDINGS})
    calc, stats = session.uri("calc.py"), session.uri("stats.py")
    result = await session.command("workcrew.runWorkflow", {"path": str(session.workspace / "two_findings.py")})
    assert result["status"] == "running", result
    (early,) = await session.wait_for(lambda: session.pushed(calc), what="the early finding")
    assert "Early finding" in early.message
    process = session.client._server
    assert process is not None
    process.send_signal(signal.SIGKILL)  # the editor's daemon dies mid-run, with no shutdown
    await asyncio.wait_for(process.wait(), 10)
    await session.client.stop()
    status, _, owner = run_row(session.workspace, result["runId"])
    assert status == "running" and alive(owner)

    again = await lsp_session(capabilities=push_capabilities(), workspace=session.workspace)
    finished = again.client.protocol.wait_for_notification_async("workcrew/runFinished")
    # the finding reported before the crash is back, without running anything again
    (restored,) = await again.wait_for(lambda: again.pushed(calc), what="the restored finding")
    assert "Early finding" in restored.message and restored.range.start.line == 2
    done = await asyncio.wait_for(finished, 30)
    assert done.runId == result["runId"] and done.status == "succeeded" and done.findings == 2
    (late,) = await again.wait_for(lambda: again.pushed(stats), what="the finding reported after the restart")
    assert "Late finding" in late.message
    assert run_row(session.workspace, result["runId"])[0] == "succeeded"


async def test_without_detached_runs_shutdown_interrupts_the_run(lsp_session: SessionFactory) -> None:
    session = await lsp_session(capabilities=push_capabilities(), settings={"detachRuns": False})
    result = await start_slow(session)
    await asyncio.wait_for(session.client.shutdown_session(), 15)
    status, error, _ = run_row(session.workspace, result["runId"])
    assert status == "interrupted" and error is not None and "shut down" in error


async def test_without_detached_runs_a_crashed_editor_leaves_the_run_interrupted(
        lsp_session: SessionFactory) -> None:
    """The connection drops without shutdown: the server exits and records the run as interrupted."""
    session = await lsp_session(capabilities=push_capabilities(), settings={"detachRuns": False})
    result = await start_slow(session)
    process = session.client._server
    assert process is not None and process.stdin is not None
    process.stdin.close()
    await asyncio.wait_for(process.wait(), 20)
    status, error, _ = run_row(session.workspace, result["runId"])
    assert status == "interrupted" and error is not None and "disconnected" in error


FAN_FINDINGS = """meta = {"name": "fan-findings", "description": "each agent's answer becomes a finding"}
async def one(i):
    text = await agent(f"inspect part {i}", label=f"part {i}")
    report({"title": f"Part {i} {text}", "location": {"path": "calc.py", "start_line": 1 + i % 3}, "category": "bug"})
await parallel([one(i) for i in range(24)])
return "done"
"""


async def test_a_killed_server_and_run_process_resume_from_the_editor_without_paying_twice(
        lsp_session: SessionFactory) -> None:
    """The daemon and the run process both die mid fan-out; the editor starts again, shows the run
    interrupted, and Run Again reuses every agent that had finished (no token spent on them again) and
    restores every finding."""
    session = await lsp_session(capabilities=push_capabilities(), settings={"concurrency": 4},
                                files={"fan_findings.py": FAN_FINDINGS})
    calc = session.uri("calc.py")
    result = await session.command("workcrew.runWorkflow", {"path": str(session.workspace / "fan_findings.py")})
    run_id = result["runId"]
    await session.wait_for(lambda: len(session.pushed(calc)) >= 4, what="some findings before the crash")
    process = session.client._server
    assert process is not None
    _, _, owner = run_row(session.workspace, run_id)
    os.kill(int(str(owner).split(":")[1]), signal.SIGKILL)  # the run process
    process.send_signal(signal.SIGKILL)  # and the editor's daemon
    await asyncio.wait_for(process.wait(), 10)
    await session.client.stop()

    again = await lsp_session(capabilities=push_capabilities(), workspace=session.workspace,
                              settings={"concurrency": 4})
    (earlier,) = [r for r in await again.command("workcrew.listRuns", {}) if r["id"] == run_id]
    assert earlier["status"] == "interrupted" and earlier["live"] is False
    db = sqlite3.connect(session.workspace / ".workcrew" / "workcrew.db")
    finished = {label for (label,) in db.execute(
        "SELECT label FROM agents WHERE run_id = ? AND state = 'succeeded'", (run_id,))}
    assert 4 <= len(finished) < 24
    finished_event = again.client.protocol.wait_for_notification_async("workcrew/runFinished")
    rerun = await again.command("workcrew.resumeFromRun", {"runId": run_id})
    assert rerun["status"] == "running", rerun
    assert rerun["estimate"]["reused"] == len(finished)  # the approval counted only what will run
    done = await asyncio.wait_for(finished_event, 30)
    assert done.status == "succeeded" and done.findings == 24 and done.agents.cached == len(finished)
    live = {label for (label,) in db.execute(
        "SELECT label FROM agents WHERE run_id = ? AND state = 'succeeded'", (rerun["runId"],))}
    db.close()
    assert not live & finished and len(live) + len(finished) == 24  # no finished agent asked (or billed) again
    restored = await again.wait_for(lambda: (d := again.pushed(calc)) and len(d) == 24 and d, what="all 24 findings")
    assert {d.message.split(" ")[1] for d in restored} == {str(i) for i in range(24)}
