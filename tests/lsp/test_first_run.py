"""The free first run in the editor: no API key, no scenario, provider simulated. Create a workflow from a
selection → approve → run → diagnostics → the quick-fix applies; then the built-in review, run with no
arguments, reviews the workspace's files in scope."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
from lsprotocol import types
from pytest_lsp import ClientServerConfig
from workcrew.engine.workflows.workflow import load_workflow

from .conftest import Session, push_capabilities, stop_run_processes

CALC = "def mean(values):\n    total = sum(values)\n    return total / len(values)\n"
STRINGS = "def initials(name):\n    parts = name.split()\n    return \"\".join(p[0] for p in parts)[:-1]\n"
SELECT_MEAN = {"start": {"line": 0, "character": 0}, "end": {"line": 3, "character": 0}}


@pytest_asyncio.fixture
async def first_run(tmp_path: Path) -> AsyncIterator[Session]:
    """A server on a fresh workspace with the simulated provider and nothing else: no scenario, no key."""
    workspace = tmp_path / "project"
    workspace.mkdir()
    (workspace / "calc.py").write_text(CALC)
    (workspace / "strings.py").write_text(STRINGS)
    env = {k: v for k, v in os.environ.items()
           if k not in ("WORKCREW_SCENARIO", "WORKCREW_STATE_DIR", "WORKCREW_MODEL", "ANTHROPIC_API_KEY")}
    env["WORKCREW_PROVIDER"] = "simulated"
    client = await ClientServerConfig(server_command=[sys.executable, "-m", "workcrew.server"],
                                      server_env=env).start()
    session = Session(client, workspace, answer="Run")

    @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    def show_message_request(params: types.ShowMessageRequestParams) -> types.MessageActionItem | None:
        session.approvals.append(params)
        return types.MessageActionItem(title="Run")

    await client.initialize_session(types.InitializeParams(
        capabilities=push_capabilities(), root_uri=workspace.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name="project")]))
    try:
        yield session
    finally:
        try:
            await asyncio.wait_for(client.shutdown_session(), 15)
        finally:
            if client._server is not None and client._server.returncode is None:
                client._server.kill()  # never hang the suite on a stuck server
            await client.stop()
            stop_run_processes(workspace / ".workcrew")


async def run_and_wait(session: Session, command: str, arguments: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    finished = session.client.protocol.wait_for_notification_async("workcrew/runFinished")
    started = await session.command(command, arguments)
    assert started["status"] == "running", started
    done = await asyncio.wait_for(finished, 60)
    assert done.status == "succeeded" and done.runId == started["runId"], done
    return started, done


async def quick_fix(session: Session, uri: str, diagnostic: types.Diagnostic) -> Any:
    actions = await session.client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=diagnostic.range,
        context=types.CodeActionContext(diagnostics=[diagnostic], only=[types.CodeActionKind.QuickFix])))
    fixes = [a for a in actions or [] if getattr(a, "title", "").startswith("Apply fix")]
    assert len(fixes) == 1, [getattr(a, "title", a) for a in actions or []]
    return fixes[0]


async def test_create_approve_run_diagnose_and_fix_with_no_key_and_no_scenario(first_run: Session) -> None:
    session = first_run
    calc = session.open("calc.py")
    started, done = await run_and_wait(session, "workcrew.createWorkflowFromSelection",
                                       {"uri": calc, "range": SELECT_MEAN, "prompt": "find bugs in this function"})
    assert done.findings == 1
    # the approval was asked (and answered Run) before anything ran
    assert next(a.title for a in session.approvals[0].actions or []) == "Run"
    saved = Path(started["path"])
    assert saved == session.workspace / ".claude" / "workflows" / "find-bugs-in-this-function.py"
    assert load_workflow(saved).problems == []  # a valid, runnable script, not a broken draft

    (diagnostic,) = await session.wait_for(lambda: session.pushed(calc), what="the finding as a diagnostic")
    assert diagnostic.range.start.line == 2 and "Division by zero" in diagnostic.message
    assert "(simulated)" in diagnostic.message
    fix = await quick_fix(session, calc, diagnostic)
    session.apply(fix.edit)
    assert session.texts[calc] == CALC.replace("len(values)\n", "len(values) if values else 0.0\n")
    await session.wait_for(lambda: session.pushed(calc) == [], what="the fixed finding to clear")


async def test_the_builtin_review_with_no_args_reviews_the_workspace(first_run: Session) -> None:
    session = first_run
    strings = session.open("strings.py")
    started, done = await run_and_wait(session, "workcrew.runWorkflow", {"name": "review"})
    assert started["defaultScope"]["files"] == 2 and started["defaultScope"]["key"] == "files"
    assert done.findings == 2  # one in calc.py, one in strings.py: every file in scope was reviewed
    (diagnostic,) = await session.wait_for(lambda: session.pushed(strings), what="the finding in strings.py")
    assert diagnostic.range.start.line == 2
    fix = await quick_fix(session, strings, diagnostic)
    session.apply(fix.edit)
    assert session.texts[strings].endswith('return "".join(p[0] for p in parts)\n')
