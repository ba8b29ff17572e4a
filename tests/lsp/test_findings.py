"""Findings as diagnostics over edits: re-anchoring, stale versions, dismissal across runs, fix-all."""

from __future__ import annotations

import asyncio
from typing import Any

from lsprotocol import types

from .conftest import Session, SessionFactory, push_capabilities

SELECT_AVERAGE = {"start": {"line": 0, "character": 0}, "end": {"line": 3, "character": 0}}


async def run_review(session: Session, uri: str) -> dict:
    finished = session.client.protocol.wait_for_notification_async("workcrew/runFinished")
    result = await session.command("workcrew.createWorkflowFromSelection",
                                   {"uri": uri, "range": SELECT_AVERAGE, "prompt": "find division by zero"})
    assert result["status"] == "running", result
    await asyncio.wait_for(finished, 30)
    return result


async def code_actions(session: Session, uri: str, diagnostic: types.Diagnostic) -> list[Any]:
    actions = await session.client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=diagnostic.range,
        context=types.CodeActionContext(diagnostics=[diagnostic], only=[types.CodeActionKind.QuickFix])))
    return list(actions or [])


async def test_edits_move_the_finding_and_a_stale_version_gets_no_fix(lsp_session: SessionFactory) -> None:
    session = await lsp_session(capabilities=push_capabilities())
    uri = session.open("calc.py")
    await run_review(session, uri)
    (old,) = await session.wait_for(lambda: session.pushed(uri), what="diagnostics")
    assert old.range.start.line == 2

    # two lines inserted above: the finding follows its snippet, and the fix targets the new version
    text = "import math\n\n" + session.texts[uri]
    version = session.change(uri, text)
    moved = await session.wait_for(lambda: [d for d in session.pushed(uri) if d.range.start.line == 4],
                                   what="the diagnostic to move")
    (fix, *_, dismiss) = await code_actions(session, uri, moved[0])  # Preview fix…, Apply and verify between
    assert fix.title.startswith("Apply fix") and dismiss.title == "Dismiss finding"
    assert fix.edit.document_changes[0].text_document.version == version
    assert fix.edit.document_changes[0].edits[0].range.start.line == 4

    # the code the finding is about is rewritten: it is stale, not shown, and its fix is not offered
    session.change(uri, text.replace("return total / len(values)", "return total / max(len(values), 1)"))
    await session.wait_for(lambda: session.pushed(uri) == [], what="the stale finding to disappear")
    titles = [a.title for a in await code_actions(session, uri, moved[0])]
    assert titles == ["Dismiss finding"]

    # undo: the snippet is back, so is the finding
    session.change(uri, text)
    await session.wait_for(lambda: session.pushed(uri), what="the finding to come back")


async def test_dismissed_findings_stay_dismissed_in_later_runs(lsp_session: SessionFactory) -> None:
    session = await lsp_session(capabilities=push_capabilities())
    uri = session.open("calc.py")
    await run_review(session, uri)
    (diagnostic,) = await session.wait_for(lambda: session.pushed(uri), what="diagnostics")
    (*_, dismiss) = await code_actions(session, uri, diagnostic)
    # (lsprotocol's client structures a command-only action ambiguously; Neovim's test runs it for real)
    assert dismiss.title == "Dismiss finding" and "workcrew.dismissFinding" in str(dismiss.command)
    answer = await session.command("workcrew.dismissFinding", {"findingId": diagnostic.data["findingId"]})
    assert answer["removed"] == [diagnostic.data["findingId"]]
    await session.wait_for(lambda: session.pushed(uri) == [], what="dismissal to clear the diagnostic")

    second = await run_review(session, uri)
    assert second["runId"] != diagnostic.data["runId"]
    await asyncio.sleep(0.3)  # two flush intervals: anything published would be here by now
    assert session.pushed(uri) == []


async def test_apply_all_fixes_of_a_run(lsp_session: SessionFactory) -> None:
    session = await lsp_session(capabilities=push_capabilities())
    uri = session.open("calc.py")
    result = await run_review(session, uri)
    await session.wait_for(lambda: session.pushed(uri), what="diagnostics")
    answer = await session.command("workcrew.applyAllFixes", {"runId": result["runId"]})
    assert answer == {"runId": result["runId"], "applied": True, "fixes": 1, "failureReason": None}
    assert "if values else 0.0" in session.texts[uri]
    await session.wait_for(lambda: session.pushed(uri) == [], what="fixed findings to clear")


async def test_a_new_run_replaces_the_previous_runs_findings(lsp_session: SessionFactory) -> None:
    session = await lsp_session(capabilities=push_capabilities())
    uri = session.open("calc.py")
    first = await run_review(session, uri)
    await session.wait_for(lambda: session.pushed(uri), what="diagnostics")
    second = await run_review(session, uri)
    await session.wait_for(
        lambda: [d for d in session.pushed(uri) if d.data["runId"] == second["runId"]], what="second run")
    assert first["runId"] != second["runId"]
    assert len(session.pushed(uri)) == 1
