"""pytest-lsp sessions against the real ``python -m workcrew.server`` subprocess on the simulated model.

Each session gets a fresh copy of the fixture workspace (a file with a division-by-zero bug) and a
scenario in which the orchestrator writes a small review workflow that reports a confirmed finding
with a fix. The client answers the approval notification with a scripted action and applies edits.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest_asyncio
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lsp"

FIND_CALC = {"bugs": [{
    "line": 3,
    "title": "Division by zero when values is empty",
    "snippet": "return total / len(values)",
    "old": "    return total / len(values)\n",
    "new": "    return total / len(values) if values else 0.0\n",
}]}


def scenario() -> dict[str, Any]:
    return {"rules": [
        {"match": {"role": "orchestrator", "prompt": "ASK FIRST"},
         "respond": {"text": (FIXTURES / "ask_workflow.py").read_text()}},
        {"match": {"role": "orchestrator", "prompt": "HOG"},
         "respond": {"text": (FIXTURES / "hog_workflow.py").read_text()}},
        {"match": {"role": "orchestrator", "prompt": "LEAK"},
         "respond": {"text": (FIXTURES / "leak_workflow.py").read_text()}},
        {"match": {"label": "^leak "}, "respond": {"text": "the token is tok-lsp-canary-3141592653"}},
        {"match": {"role": "orchestrator", "prompt": "SPIN"},
         "respond": {"text": (FIXTURES / "spin_workflow.py").read_text()}},
        {"match": {"role": "orchestrator", "prompt": "SLOW"},
         "respond": {"text": (FIXTURES / "slow_workflow.py").read_text()}},
        {"match": {"role": "orchestrator"}, "respond": {"text": (FIXTURES / "review_workflow.py").read_text()}},
        {"match": {"label": "^slow "}, "respond": {"text": "done"}, "latency_ms": 30000},
        {"match": {"label": "^wait "}, "respond": {"text": "done"}, "latency_ms": 2500},
        {"match": {"label": "^part "}, "respond": {"text": "looked"}, "latency_ms": 400},
        {"match": {"label": "^calc-mcp$"}, "respond": {"tool_calls": [{"name": "mcp__calc__add",
                                                                      "input": {"a": 2, "b": 40}}], "text": "42"}},
        {"match": {"label": "^step 3$"}, "respond": {"error": 400, "message": "refused"}},
        {"match": {"label": "^find calc.py"}, "respond": {"json": FIND_CALC}, "latency_ms": 30},
        {"match": {"label": "^verify "}, "respond": {"json": {"refuted": False}}, "latency_ms": 10},
    ]}


def pull_capabilities() -> types.ClientCapabilities:
    """A current VS Code: pull diagnostics with refresh, deferred edits (the bundled 1.65 predates pull)."""
    caps = client_capabilities("visual-studio-code")
    assert caps.text_document is not None and caps.workspace is not None
    caps.text_document.diagnostic = types.DiagnosticClientCapabilities(related_document_support=False)
    caps.workspace.diagnostics = types.DiagnosticWorkspaceClientCapabilities(refresh_support=True)
    return caps


def push_capabilities() -> types.ClientCapabilities:
    """VS Code's capabilities without pull diagnostics or deferred edits: the push / eager path."""
    caps = client_capabilities("visual-studio-code")
    assert caps.text_document is not None
    caps.text_document.diagnostic = None
    if caps.text_document.code_action is not None:
        caps.text_document.code_action.resolve_support = None
    return caps


@dataclass
class Session:
    client: LanguageClient
    workspace: Path
    approvals: list[types.ShowMessageRequestParams] = field(default_factory=list)
    answer: str | None = "Run"
    answers: list[str] = field(default_factory=list)  # given first, one per approval question, before ``answer``
    # decides each approval question itself when set (it may send requests of its own while the question is open)
    on_approval: Callable[[types.ShowMessageRequestParams], Awaitable[str | None]] | None = None
    versions: dict[str, int] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)

    def uri(self, name: str) -> str:
        return (self.workspace / name).as_uri()

    def open(self, name: str) -> str:
        uri = self.uri(name)
        text = (self.workspace / name).read_text()
        self.versions[uri] = 1
        self.texts[uri] = text
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
        return uri

    def change(self, uri: str, text: str) -> int:
        self.versions[uri] += 1
        self.texts[uri] = text
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
        return self.versions[uri]

    def apply(self, edit: types.WorkspaceEdit) -> None:
        """Apply an edit the way an editor does: to the open document (and send didChange), else to disk."""
        per_uri: dict[str, list[types.TextEdit]] = {}
        for change in edit.document_changes or []:
            assert isinstance(change, types.TextDocumentEdit)
            uri = change.text_document.uri
            if uri in self.versions and change.text_document.version is not None:
                assert change.text_document.version == self.versions[uri], "stale versioned edit"
            per_uri.setdefault(uri, []).extend(e for e in change.edits if isinstance(e, types.TextEdit))
        for uri, edits in (edit.changes or {}).items():
            per_uri.setdefault(uri, []).extend(edits)
        for uri, edits in per_uri.items():
            if uri in self.texts:
                self.change(uri, apply_text_edits(self.texts[uri], edits))
            else:
                path = Path(uri.removeprefix("file://"))
                path.write_text(apply_text_edits(path.read_text(), edits))

    async def command(self, name: str, *arguments: Any) -> Any:
        return await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=name, arguments=list(arguments)))

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            await asyncio.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what}")

    def pushed(self, uri: str) -> list[types.Diagnostic]:
        return list(self.client.diagnostics.get(uri, []))


def details_id(message: str) -> str:
    """The id an approval question carries for its details (``(details: ID)`` at its end)."""
    found = re.search(r"\(details: ([A-Za-z0-9_-]+)\)\s*$", message)
    assert found, f"no details id in the approval question: {message!r}"
    return found.group(1)


def collect_details(session: Session) -> list[dict[str, Any]]:
    """Fetch each approval question's details (workcrew.approvalDetails) while it is open, then answer it as
    the session would; returns the list they are collected in."""
    seen: list[dict[str, Any]] = []

    async def look_then_answer(params: types.ShowMessageRequestParams) -> str | None:
        seen.append(await session.command("workcrew.approvalDetails", {"id": details_id(params.message)}))
        return session.answers.pop(0) if session.answers else session.answer

    session.on_approval = look_then_answer
    return seen


def apply_text_edits(text: str, edits: list[types.TextEdit]) -> str:
    lines = text.splitlines(True)

    def offset(position: types.Position) -> int:
        # the fixture files are ASCII, so UTF-16 columns are code points
        return sum(len(line) for line in lines[:position.line]) + position.character

    for edit in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        start, end = offset(edit.range.start), offset(edit.range.end)
        text = text[:start] + edit.new_text + text[end:]
    return text


def copy_workspace(target: Path) -> Path:
    shutil.copytree(FIXTURES / "workspace", target)
    return target


SessionFactory = Callable[..., Awaitable[Session]]


@pytest_asyncio.fixture
async def lsp_session(tmp_path: Path) -> AsyncIterator[SessionFactory]:
    """``await lsp_session(capabilities=..., answer="Run", settings=...)`` → a connected Session."""
    scenario_path = tmp_path / "scenario.json"
    scenario_path.write_text(json.dumps(scenario()))
    started: list[Session] = []

    async def make(capabilities: types.ClientCapabilities | None = None, answer: str | None = "Run",
                   settings: dict[str, Any] | None = None, env: dict[str, str] | None = None,
                   configuration: dict[str, Any] | None = None, files: dict[str, str] | None = None,
                   workspace: Path | None = None) -> Session:
        # a given workspace is reused as it is: a server started again on it (after a restart or a crash)
        workspace = workspace or copy_workspace(tmp_path / f"ws{len(started)}")
        for name, text in (files or {}).items():  # e.g. a workcrew.toml, in place before the server starts
            (workspace / name).write_text(text)
        server_env = {**os.environ, "WORKCREW_PROVIDER": "simulated", "WORKCREW_SCENARIO": str(scenario_path),
                      "WORKCREW_MODEL": "simulated", **(env or {})}
        server_env.pop("WORKCREW_STATE_DIR", None)
        config = ClientServerConfig(server_command=[sys.executable, "-m", "workcrew.server"], server_env=server_env)
        client = await config.start()
        session = Session(client, workspace, answer=answer)

        @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
        async def show_message_request(params: types.ShowMessageRequestParams) -> types.MessageActionItem | None:
            session.approvals.append(params)
            titles = [a.title for a in params.actions or []]
            if "Run" not in titles and titles:  # a question from the workflow's ask(): the first choice
                return types.MessageActionItem(title=titles[0])
            if session.on_approval is not None:
                title = await session.on_approval(params)
                return types.MessageActionItem(title=title) if title else None
            if session.answers:
                return types.MessageActionItem(title=session.answers.pop(0))
            return types.MessageActionItem(title=session.answer) if session.answer else None

        @client.feature(types.WORKSPACE_APPLY_EDIT)
        def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
            session.apply(params.edit)
            return types.ApplyWorkspaceEditResult(applied=True)

        if configuration is not None:  # what the editor answers to workspace/configuration
            client.set_configuration(configuration, section="workcrew")
        await client.initialize_session(types.InitializeParams(
            capabilities=capabilities or client_capabilities("visual-studio-code"),
            root_uri=workspace.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name="ws")],
            initialization_options={"workcrew": settings or {}},
        ))
        started.append(session)
        return session

    yield make
    try:
        await _teardown(started)
    finally:
        for session in started:  # runs in their own processes outlive the server: end them with the test
            stop_run_processes(session.workspace / ".workcrew")


def stop_run_processes(state_dir: Path) -> None:
    """Kill the run processes that still own a run in ``state_dir`` (tests must not leave them running)."""
    import signal
    import sqlite3

    if not (state_dir / "workcrew.db").is_file():
        return
    db = sqlite3.connect(state_dir / "workcrew.db")
    try:
        owners = [row[0] for row in db.execute("SELECT owner FROM runs WHERE status = 'running'")]
    finally:
        db.close()
    for owner in owners:
        pid = str(owner or "").split(":")[1:2]
        if pid and pid[0].isdigit() and int(pid[0]) != os.getpid():
            try:
                os.kill(int(pid[0]), signal.SIGKILL)
            except ProcessLookupError:
                pass


async def _teardown(started: list[Session]) -> None:
    for session in started:
        if session.client.stopped:  # the test shut the server down itself
            continue
        try:
            await asyncio.wait_for(session.client.shutdown_session(), 15)
        finally:
            process = session.client._server
            if process is not None and process.returncode is None:
                process.kill()  # the test fails on its own; never hang the suite on a stuck server
            await session.client.stop()
