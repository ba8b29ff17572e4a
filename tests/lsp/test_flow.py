"""The whole editor flow against the real server: create from selection → approval → run → fix → cleared."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from lsprotocol import types

from .conftest import SessionFactory, collect_details, pull_capabilities, push_capabilities

SELECT_AVERAGE = {"start": {"line": 0, "character": 0}, "end": {"line": 3, "character": 0}}


async def test_create_run_fix_with_push_diagnostics(lsp_session: SessionFactory) -> None:
    session = await lsp_session(capabilities=push_capabilities())
    details = collect_details(session)
    client = session.client
    uri = session.open("calc.py")
    finished = client.protocol.wait_for_notification_async("workcrew/runFinished")

    result = await session.command("workcrew.createWorkflowFromSelection",
                                   {"uri": uri, "range": SELECT_AVERAGE, "prompt": "find division by zero"})

    assert result["status"] == "running", result
    script = Path(result["path"])
    assert script.parent == session.workspace / ".claude" / "workflows"
    assert script.read_text().startswith("meta = {")
    # the script is shown before approval; approval names the workflow and the cost in one line
    assert [d.uri for d in client.shown_documents] == [script.as_uri()]
    assert len(session.approvals) == 1
    headline = session.approvals[0].message.splitlines()[0]
    # the estimate's ranges: agents, tokens, dollars, minutes, and the files it is pointed at (the selection's)
    assert headline.startswith("Run “review-division”: ") and " agents · " in headline
    assert re.search(r" tokens · <?\$[\d.]+(–\$[\d.]+)? · ~?<?\d+ min · 1 file$", headline), headline
    assert result["estimate"]["agents"]["expected"] >= 1
    assert [a.title for a in session.approvals[0].actions or []] == ["Run", "Details", "Always run", "Cancel"]
    # its details: the phases, and the selected lines of the one file in scope
    (shown,) = details
    assert [p["phase"] for p in shown["phases"]] == ["Find", "Verify", "Report"]
    assert shown["files"]["top"] == [{"path": "calc.py", "bytes": shown["files"]["bytes"],
                                      "tokens": shown["files"]["tokens"], "share": 100.0, "lines": [1, 3]}]

    done = await asyncio.wait_for(finished, 30)
    assert done.status == "succeeded" and done.findings == 1

    diagnostics = await session.wait_for(lambda: session.pushed(uri), what="pushed diagnostics")
    (diagnostic,) = diagnostics
    # the Problems panel's source names the workflow and the run; the message's last line the finding's age
    assert diagnostic.source == f"Workcrew · review-division · run {result['runId'].removeprefix('wf_')[:6]}"
    assert diagnostic.message.splitlines()[0] == "Division by zero when values is empty"
    assert diagnostic.message.splitlines()[-1] == "first seen just now"
    assert diagnostic.code == "division-by-zero"
    assert diagnostic.severity == types.DiagnosticSeverity.Error
    assert diagnostic.range.start == types.Position(line=2, character=4)  # where the snippet starts
    assert diagnostic.data["runId"] == result["runId"]
    assert [r.message for r in diagnostic.related_information or []] == ["values may be an empty list"]
    assert diagnostic.related_information[0].location.range.start.line == 0

    # progress: begin, reports with agents and cost, end
    tokens = [t for t, reports in client.progress_reports.items() if reports and reports[0].title == "Workcrew: review-division"]
    assert tokens, client.progress_reports
    kinds = [r.kind for r in client.progress_reports[tokens[0]]]
    assert kinds[0] == "begin" and kinds[-1] == "end" and "report" in kinds

    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=diagnostic.range,
        context=types.CodeActionContext(diagnostics=[diagnostic], only=[types.CodeActionKind.QuickFix])))
    titles = [a.title for a in actions or []]
    assert titles == ["Apply fix: return 0.0 for an empty list", "Preview fix: return 0.0 for an empty list…",
                      "Apply and verify fix: return 0.0 for an empty list", "Dismiss finding"]
    fix = actions[0]
    assert isinstance(fix, types.CodeAction) and fix.edit is not None  # no resolve support: eager edit
    (change,) = fix.edit.document_changes or []
    assert change.text_document.version == session.versions[uri]

    session.apply(fix.edit)
    assert "if values else 0.0" in session.texts[uri]
    await session.wait_for(lambda: uri in client.diagnostics and not client.diagnostics[uri],
                           what="diagnostics cleared after the fix")
    assert "if values" not in (session.workspace / "calc.py").read_text()  # nothing written to disk by us


async def test_create_run_fix_with_pull_diagnostics_and_resolve(lsp_session: SessionFactory) -> None:
    """VS Code's capabilities: pull diagnostics (nothing pushed) and edits filled in by codeAction/resolve."""
    session = await lsp_session(capabilities=pull_capabilities())
    client = session.client
    uri = session.open("calc.py")
    finished = client.protocol.wait_for_notification_async("workcrew/runFinished")
    result = await session.command("workcrew.createWorkflowFromSelection",
                                   {"uri": uri, "range": SELECT_AVERAGE, "prompt": "find division by zero"})
    assert result["status"] == "running", result
    await asyncio.wait_for(finished, 30)
    assert client.diagnostic_refresh_count >= 1

    report = await client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    (diagnostic,) = report.items
    assert diagnostic.code == "division-by-zero" and diagnostic.data["findingId"]
    assert client.diagnostics == {}  # a pull client is never pushed to

    # the same result id means nothing changed
    again = await client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
        text_document=types.TextDocumentIdentifier(uri=uri), previous_result_id=report.result_id))
    assert again.kind == "unchanged"

    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=diagnostic.range,
        context=types.CodeActionContext(diagnostics=[diagnostic])))
    by_title = {a.title: a for a in actions or []}
    fix = by_title["Apply fix: return 0.0 for an empty list"]
    assert fix.edit is None  # deferred to resolve
    assert "Workcrew: apply all confirmed fixes (1)" in by_title
    resolved = await client.code_action_resolve_async(fix)
    (change,) = resolved.edit.document_changes
    assert change.text_document.uri == uri and change.text_document.version == session.versions[uri]
    session.apply(resolved.edit)

    after = await client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
        text_document=types.TextDocumentIdentifier(uri=uri), previous_result_id=report.result_id))
    assert after.kind == "full" and list(after.items) == []

    workspace = await client.workspace_diagnostic_async(types.WorkspaceDiagnosticParams(previous_result_ids=[]))
    assert all(not item.items for item in workspace.items)


async def test_cancel_at_approval_spends_nothing(lsp_session: SessionFactory) -> None:
    session = await lsp_session(capabilities=push_capabilities(), answer="Cancel")
    uri = session.open("calc.py")
    result = await session.command("workcrew.createWorkflowFromSelection",
                                   {"uri": uri, "range": SELECT_AVERAGE, "prompt": "find division by zero"})
    assert result["status"] == "cancelled"
    assert len(session.approvals) == 1
    assert await session.command("workcrew.listRuns", {}) == []  # no run was recorded, no agent started

    session.answer = None  # the user closes the notification
    again = await session.command("workcrew.runWorkflow", {"name": "review-division",
                                                          "args": {"files": ["calc.py"]}})
    assert again["status"] == "cancelled"
    assert await session.command("workcrew.listRuns", {}) == []
    assert session.pushed(uri) == []


async def test_review_script_shows_it_and_does_not_run(lsp_session: SessionFactory) -> None:
    session = await lsp_session(capabilities=push_capabilities(), answer="Review script")
    uri = session.open("calc.py")
    result = await session.command("workcrew.createWorkflowFromSelection",
                                   {"uri": uri, "range": SELECT_AVERAGE, "prompt": "find division by zero"})
    assert result["status"] == "review"
    script = Path(result["path"]).as_uri()
    assert [d.uri for d in session.client.shown_documents] == [script, script]
    assert await session.command("workcrew.listRuns", {}) == []
