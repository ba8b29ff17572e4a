"""Fixes you can preview and verify: Preview fix… (change annotations), Apply and verify, Fix all.

The workspace holds calc.py and its unittest tests; the workflow fix-calc (meta ``check``: ``python -m unittest
-q``, allowlisted in workcrew.toml) reports a fix that breaks the tests, one that mends them and one that makes
them hang. The checks run for real in the bubblewrap command sandbox on a scratch copy of the workspace.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from lsprotocol import types

from .conftest import FIXTURES, Session, SessionFactory, push_capabilities

BREAKS = "clamp the divisor to 1"
MENDS = "return 0.0 for an empty list"
HANGS = "wait before adding"
CHECK = "python -m unittest -q"
# the sandbox runs `python` from the PATH it is given: this interpreter's, as a project's virtualenv would be
ENV = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


async def start(lsp_session: SessionFactory, tmp_path: Path, capabilities: types.ClientCapabilities,
                toml: str | None = None) -> tuple[Session, str, dict[str, types.Diagnostic]]:
    """A session on a copy of the fixture workspace with calc.py open and fix-calc's findings shown (by fix title)."""
    workspace = tmp_path / f"verify{len(list(tmp_path.glob('verify*')))}"
    shutil.copytree(FIXTURES / "verify_workspace", workspace)
    if toml is not None:
        (workspace / "workcrew.toml").write_text(toml)
    session = await lsp_session(capabilities=capabilities, workspace=workspace, env=ENV)
    uri = session.open("calc.py")
    finished = session.client.protocol.wait_for_notification_async("workcrew/runFinished")
    started = await session.command("workcrew.runWorkflow", {"path": str(workspace / ".claude/workflows/fix-calc.py")})
    assert started["status"] == "running", started
    done = await asyncio.wait_for(finished, 30)
    assert done.status == "succeeded", done.error
    shown = await session.wait_for(lambda: len(session.pushed(uri)) == 3 and session.pushed(uri), what="3 findings")
    by_fix = {}
    for diagnostic in shown:
        actions = await code_actions(session, uri, diagnostic)
        title = next(a.title for a in actions if a.title.startswith("Apply fix: "))
        by_fix[title.removeprefix("Apply fix: ")] = diagnostic
    return session, uri, by_fix


async def code_actions(session: Session, uri: str, diagnostic: types.Diagnostic) -> list[Any]:
    actions = await session.client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=diagnostic.range,
        context=types.CodeActionContext(diagnostics=[diagnostic], only=[types.CodeActionKind.QuickFix])))
    return list(actions or [])


def record_edits(session: Session) -> list[types.WorkspaceEdit]:
    """Every workspace/applyEdit the server sends, still applied as an editor would."""
    received: list[types.WorkspaceEdit] = []
    apply = session.apply

    def recording(edit: types.WorkspaceEdit) -> None:
        received.append(edit)
        apply(edit)

    session.apply = recording  # type: ignore[method-assign]
    return received


def new_texts(edit: types.WorkspaceEdit) -> list[str]:
    return [e.new_text for change in edit.document_changes or [] if isinstance(change, types.TextDocumentEdit)
            for e in change.edits]


async def test_fix_all_keeps_the_fix_that_passes_and_refuses_the_one_that_breaks(
        lsp_session: SessionFactory, tmp_path: Path) -> None:
    session, uri, findings = await start(lsp_session, tmp_path, push_capabilities())
    edits = record_edits(session)
    run_id = findings[MENDS].data["runId"]

    answer = await session.command("workcrew.fixAll", {"runId": run_id})
    assert [k["title"] for k in answer["kept"]] == [MENDS], answer
    (refused,) = answer["refused"]
    assert refused["title"] == BREAKS and f"`{CHECK}` fails with this fix" in refused["reason"], refused
    assert "test_ratio_of_negatives" in refused["check"]["outputTail"]
    assert answer["applied"] is True and answer["check"]["origin"] == "the meta \"check\" of workflow “fix-calc”"
    (edit,) = edits  # one edit, with the mending fix only
    assert new_texts(edit) == ["    return total / len(values) if values else 0.0\n"]
    assert "if values else 0.0" in session.texts[uri] and "max(b, 1)" not in session.texts[uri]
    assert any(m.type == types.MessageType.Warning and "applied 1 of 2" in m.message and BREAKS in m.message
               for m in session.client.messages)

    # the mended average() is only in the editor's buffer: the check sees it, so the breaking fix is now
    # known to break a passing check
    answer = await session.command("workcrew.applyAndVerify", {"findingId": findings[BREAKS].data["findingId"]})
    assert answer["applied"] is False, answer
    assert answer["reason"] == f"the fix breaks the check: `{CHECK}` fails with the fix (exit 1) and passes without it"
    assert "test_ratio_of_negatives" in answer["check"]["outputTail"]
    assert len(edits) == 1 and "max(b, 1)" not in session.texts[uri]
    assert any("did not apply “clamp the divisor to 1”" in m.message for m in session.client.messages)


async def test_preview_and_apply_and_verify(lsp_session: SessionFactory, tmp_path: Path) -> None:
    session, uri, findings = await start(lsp_session, tmp_path, push_capabilities())
    edits = record_edits(session)
    actions = await code_actions(session, uri, findings[MENDS])
    assert [a.title for a in actions] == [f"Apply fix: {MENDS}", f"Preview fix: {MENDS}…",
                                          f"Apply and verify fix: {MENDS}", "Dismiss finding"]

    # Preview fix…: the same edit under an annotation that needs confirmation (VS Code's refactor preview)
    preview = actions[1]
    (change,) = preview.edit.document_changes
    (text_edit,) = change.edits
    assert isinstance(text_edit, types.AnnotatedTextEdit)
    annotation = preview.edit.change_annotations[text_edit.annotation_id]
    assert annotation.needs_confirmation is True and MENDS in annotation.label
    assert text_edit.new_text == "    return total / len(values) if values else 0.0\n"
    # deferred to codeAction/resolve (editors that resolve edits): the resolved edit is annotated the same way
    resolved = await session.client.code_action_resolve_async(types.CodeAction(
        title=preview.title, kind=preview.kind, data=preview.data))
    assert resolved.edit.change_annotations[text_edit.annotation_id].needs_confirmation is True
    assert isinstance(resolved.edit.document_changes[0].edits[0], types.AnnotatedTextEdit)

    # Apply and verify: the check sees the editor's unsaved buffers: here a test that expects None, which the fix does not return
    tests = session.open("test_calc.py")
    saved = session.texts[tests]
    session.change(tests, saved.replace("average([]), 0.0", "average([]), None"))
    answer = await session.command("workcrew.applyAndVerify", {"findingId": findings[MENDS].data["findingId"]})
    assert answer["applied"] is False and "0.0 != None" in answer["check"]["outputTail"], answer
    assert edits == []

    session.change(tests, saved)  # the test as on disk again: now the fix passes and is applied
    answer = await session.command("workcrew.applyAndVerify", {"findingId": findings[MENDS].data["findingId"]})
    assert answer["applied"] is True and answer["check"]["passed"] is True, answer
    (edit,) = edits
    assert new_texts(edit) == ["    return total / len(values) if values else 0.0\n"]
    assert edit.document_changes[0].text_document.version is not None  # a stale buffer rejects it
    assert "if values else 0.0" in session.texts[uri]
    assert (session.workspace / "calc.py").read_text().count("if values") == 0  # the editor saves, not the server
    progress = [r for reports in session.client.progress_reports.values() for r in reports]
    assert any(isinstance(r, types.WorkDoneProgressBegin) and MENDS in r.title for r in progress)


async def test_a_hanging_check_is_cancelled_from_its_progress_and_nothing_is_applied(
        lsp_session: SessionFactory, tmp_path: Path) -> None:
    session, uri, findings = await start(lsp_session, tmp_path, push_capabilities())
    edits = record_edits(session)
    before = session.texts[uri]
    verifying = asyncio.ensure_future(
        session.command("workcrew.applyAndVerify", {"findingId": findings[HANGS].data["findingId"]}))

    def running() -> str | None:
        for token, reports in session.client.progress_reports.items():
            if any(isinstance(r, types.WorkDoneProgressReport) and "with the fix" in (r.message or "")
                   for r in reports):
                return str(token)
        return None

    token = await session.wait_for(running, what="the check to run")
    session.client.protocol.notify(types.WINDOW_WORK_DONE_PROGRESS_CANCEL,
                                   types.WorkDoneProgressCancelParams(token=token))
    answer = await asyncio.wait_for(verifying, 30)  # the check sleeps 120 s: only the cancel ends it this soon
    assert answer["applied"] is False and answer["cancelled"] is True, answer
    assert edits == [] and session.texts[uri] == before


async def test_without_annotation_support_or_an_allowed_check_nothing_is_touched(
        lsp_session: SessionFactory, tmp_path: Path) -> None:
    caps = push_capabilities()
    assert caps.workspace is not None and caps.workspace.workspace_edit is not None
    caps.workspace.workspace_edit.change_annotation_support = None
    session, uri, findings = await start(lsp_session, tmp_path, caps, toml="")  # nothing allowlisted
    edits = record_edits(session)
    titles = [a.title for a in await code_actions(session, uri, findings[MENDS])]
    assert titles == [f"Apply fix: {MENDS}", f"Apply and verify fix: {MENDS}", "Dismiss finding"]

    try:
        await session.command("workcrew.applyAndVerify", {"findingId": findings[MENDS].data["findingId"]})
    except Exception as exc:  # the request fails with the reason and what to do
        message = str(exc)
    else:
        raise AssertionError("a check command that is not allowlisted must not run")
    assert f"`{CHECK}`" in message and "not in the allowlist" in message and "command_allowlist" in message
    assert "Nothing was applied" in message
    assert edits == [] and "if values" not in session.texts[uri]
