"""Findings that persist and never repeat: a restarted server shows the open findings of the workspace's last
runs again (from the run store), and a review run twice shows each finding once."""

from __future__ import annotations

import asyncio
import json
import sqlite3

from lsprotocol import types

from .conftest import SessionFactory, push_capabilities


async def review_division(session) -> dict:
    uri = session.uri("calc.py")
    finished = session.client.protocol.wait_for_notification_async("workcrew/runFinished")
    result = await session.command("workcrew.createWorkflowFromSelection", {"uri": uri, "prompt": "find division by zero"})
    assert result["status"] == "running", result
    done = await asyncio.wait_for(finished, 30)
    assert done.status == "succeeded" and done.findings == 1
    return result


async def test_a_restarted_server_restores_the_open_findings(lsp_session: SessionFactory) -> None:
    session = await lsp_session(capabilities=push_capabilities())
    calc = session.uri("calc.py")
    await review_division(session)
    (before,) = await session.wait_for(lambda: session.pushed(calc), what="the finding")
    await asyncio.wait_for(session.client.shutdown_session(), 15)

    again = await lsp_session(capabilities=push_capabilities(), workspace=session.workspace)
    (restored,) = await again.wait_for(lambda: again.pushed(calc), what="the finding restored after the restart")
    assert (restored.message, restored.range, restored.source) == (before.message, before.range, before.source)
    assert restored.data == before.data  # the same finding: its quick-fix resolves as before
    actions = await again.client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=calc), range=restored.range,
        context=types.CodeActionContext(diagnostics=[restored])))
    assert any("Apply fix" in getattr(action, "title", "") for action in actions or [])


async def test_the_same_review_twice_shows_each_finding_once(lsp_session: SessionFactory) -> None:
    session = await lsp_session(capabilities=push_capabilities())
    calc = session.uri("calc.py")
    first = await review_division(session)
    await session.wait_for(lambda: session.pushed(calc), what="the finding")
    finished = session.client.protocol.wait_for_notification_async("workcrew/runFinished")
    db = sqlite3.connect(session.workspace / ".workcrew" / "workcrew.db")
    try:
        (args,) = db.execute("SELECT args FROM runs WHERE id = ?", (first["runId"],)).fetchone()
    finally:
        db.close()
    again = await session.command("workcrew.runWorkflow", {"path": first["path"], "args": json.loads(args)})
    assert again["status"] == "running", again
    done = await asyncio.wait_for(finished, 30)
    assert done.status == "succeeded" and done.findings == 1 and done.runId == again["runId"], (done.error, first)
    (only,) = await session.wait_for(lambda: (d := session.pushed(calc)) and d[0].data["runId"] == again["runId"]
                                     and d, what="the second run's finding")
    assert only.data["runId"] == again["runId"]  # one diagnostic, now the second run's
