"""Run control from the editor: the run tree, cancel (command and progress bar), pause, shutdown."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from .conftest import SessionFactory, push_capabilities

SLOW = {"prompt": "SLOW: read every file", "uris": []}


async def start_slow(session) -> dict:
    result = await session.command("workcrew.createWorkflowFromSelection",
                                   {**SLOW, "uris": [session.uri("calc.py"), session.uri("stats.py")]})
    assert result["status"] == "running", result
    return result


async def test_run_tree_updates_and_cancel_mid_run(lsp_session: SessionFactory) -> None:
    session = await lsp_session(capabilities=push_capabilities())
    client = session.client
    trees: list = []

    @client.feature("workcrew/runUpdate")
    def on_update(params) -> None:
        trees.append(params.tree)

    result = await start_slow(session)
    # the script starts in its host process; the tree fills in as its agents are queued and started
    tree = await session.wait_for(lambda: next((t for t in reversed(trees) if t.phases and
                                                t.phases[0].total == 2 and {a.state for a in t.phases[0].agents}
                                                == {"running"}), None), 10, "a tree with both agents running")
    assert tree.workflow == "slow-review"
    (phase,) = tree.phases
    assert phase.title == "Find" and phase.total == 2
    assert {a.state for a in phase.agents} == {"running"}
    assert {a.model for a in phase.agents} == {"simulated"}

    runs = await session.command("workcrew.listRuns", {})
    assert runs[0]["id"] == result["runId"] and runs[0]["live"] is True

    finished = client.protocol.wait_for_notification_async("workcrew/runFinished")
    answer = await session.command("workcrew.cancelRun", {"runId": result["runId"]})
    assert answer["status"] == "cancelling"
    done = await asyncio.wait_for(finished, 10)
    assert done.status == "cancelled"
    (stored,) = await session.command("workcrew.listRuns", {})
    assert stored["status"] == "cancelled" and stored["live"] is False


async def test_cancel_from_the_progress_bar(lsp_session: SessionFactory) -> None:
    session = await lsp_session(capabilities=push_capabilities())
    client = session.client
    finished = client.protocol.wait_for_notification_async("workcrew/runFinished")
    result = await start_slow(session)
    token = await session.wait_for(lambda: next((t for t, r in client.progress_reports.items()
                                                 if r and r[0].title == "Workcrew: slow-review"), None),
                                   what="the run's progress")
    assert client.progress_reports[token][0].cancellable is True
    client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    done = await asyncio.wait_for(finished, 10)
    assert done.runId == result["runId"] and done.status == "cancelled"
    assert client.progress_reports[token][-1].kind == "end"


async def test_pause_and_resume(lsp_session: SessionFactory) -> None:
    session = await lsp_session(capabilities=push_capabilities())
    result = await start_slow(session)
    assert (await session.command("workcrew.pauseRun", {"runId": result["runId"]}))["status"] == "paused"
    (live,) = [r for r in await session.command("workcrew.listRuns", {}) if r["live"]]
    assert live["status"] == "paused"
    assert (await session.command("workcrew.resumeRun", {"runId": result["runId"]}))["status"] == "running"
    await session.command("workcrew.cancelRun", {"runId": result["runId"]})


async def test_a_run_survives_closing_the_document(lsp_session: SessionFactory) -> None:
    session = await lsp_session(capabilities=push_capabilities())
    client = session.client
    uri = session.open("calc.py")
    finished = client.protocol.wait_for_notification_async("workcrew/runFinished")
    await session.command("workcrew.createWorkflowFromSelection", {"uri": uri, "prompt": "find division by zero"})
    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    done = await asyncio.wait_for(finished, 30)
    assert done.status == "succeeded" and done.findings == 1
    # a closed file's findings are still published, anchored in the file on disk
    (diagnostic,) = await session.wait_for(lambda: session.pushed(uri), what="diagnostics for the closed file")
    assert diagnostic.range.start.line == 2


async def test_ask_in_a_workflow_is_a_notification(lsp_session: SessionFactory) -> None:
    session = await lsp_session(capabilities=push_capabilities())
    uri = session.open("calc.py")
    finished = session.client.protocol.wait_for_notification_async("workcrew/runFinished")
    await session.command("workcrew.createWorkflowFromSelection", {"uri": uri, "prompt": "ASK FIRST, then report"})
    done = await asyncio.wait_for(finished, 30)
    approval, question = session.approvals
    assert [a.title for a in approval.actions] == ["Run", "Details", "Always run", "Cancel"]
    assert question.message == "Report the division finding?"
    assert [a.title for a in question.actions] == ["yes", "no"]
    assert done.status == "succeeded" and done.findings == 1
    (diagnostic,) = await session.wait_for(lambda: session.pushed(uri), what="the finding")
    assert diagnostic.message.splitlines()[0] == "Asked and reported" and diagnostic.range.start.line == 2


STEPS = """meta = {"name": "steps", "description": "five agents, one after another"}
out = []
for i in range(5):
    out.append(await agent(f"step {i}", label=f"step {i}"))
return out
"""


async def test_resume_from_an_earlier_run_reuses_its_matching_agents(lsp_session: SessionFactory) -> None:
    session = await lsp_session(capabilities=push_capabilities())
    client = session.client
    (session.workspace / "steps.py").write_text(STEPS)
    finished = client.protocol.wait_for_notification_async("workcrew/runFinished")
    first = await session.command("workcrew.runWorkflow", {"path": str(session.workspace / "steps.py")})
    assert (await asyncio.wait_for(finished, 10)).runId == first["runId"]

    finished = client.protocol.wait_for_notification_async("workcrew/runFinished")
    resumed = await session.command("workcrew.resumeFromRun", {"runId": first["runId"]})
    assert resumed["status"] == "running" and resumed["runId"] != first["runId"]
    await asyncio.wait_for(finished, 10)
    db = sqlite3.connect(session.workspace / ".workcrew" / "workcrew.db")
    states = [row[0] for row in db.execute("SELECT state FROM agents WHERE run_id = ? ORDER BY seq",
                                           (resumed["runId"],))]
    # every finished step reused; only step 3, which had failed, asked the model again (and is refused again)
    assert states == ["cached", "cached", "cached", "failed", "cached"]

    with pytest.raises(JsonRpcException) as caught:
        await session.command("workcrew.resumeFromRun", {"runId": "wf_nope"})
    assert "no run 'wf_nope'" in str(caught.value)
