"""The editor's documents within limits: floods of notifications for documents never opened cost nothing and
say nothing; open documents and their size are capped, each refusal told once and explained (issue #19)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from ..conftest import Session, SessionFactory, push_capabilities


def rss_kb(session: Session) -> int:
    process = session.client._server
    assert process is not None
    for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def said(session: Session) -> list[str]:
    return [m.message for m in session.client.log_messages + session.client.messages]


async def cheap_answer(session: Session) -> None:
    """Once what was sent before is handled (messages are handled in order), a cheap request answers at once."""
    await asyncio.wait_for(session.command("workcrew.listRules", {}), 60)
    answer = await asyncio.wait_for(session.command("workcrew.listRules", {}), 1.0)
    assert "rules" in answer


def change(session: Session, uri: str, text: str, version: int = 2) -> None:
    session.client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))


def open_text(session: Session, uri: str, text: str) -> None:
    session.client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the server's RSS from /proc")
async def test_floods_for_unopened_documents_and_unknown_methods_cost_nothing(lsp_session: SessionFactory) -> None:
    session = await lsp_session(capabilities=push_capabilities())
    await cheap_answer(session)
    for index in range(500):  # warm-up: whatever a first message allocates once
        change(session, session.uri(f"warm{index}.py"), "x")
    await cheap_answer(session)
    before, messages = rss_kb(session), len(said(session))
    for index in range(10_000):
        change(session, session.uri(f"never-opened-{index}.py"), "text " * 20)
        session.client.text_document_did_close(types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=session.uri(f"closed-{index}.py"))))
        session.client.protocol.notify("$/foo", {"index": index})
    await cheap_answer(session)
    grown = rss_kb(session) - before
    assert said(session)[messages:] == []  # no error, no KeyError, no warning per notification
    assert grown < 8_000, f"the server grew by {grown} KB over 30,000 notifications"


async def test_open_documents_beyond_the_limit_are_refused_with_one_warning(lsp_session: SessionFactory) -> None:
    session = await lsp_session(capabilities=push_capabilities(), settings={"limits": {"openDocuments": 3}})
    uris = [session.uri(f"doc{index}.py") for index in range(6)]
    for index in range(6):
        (session.workspace / f"doc{index}.py").write_text("x = 1\n")
    for uri in uris:
        open_text(session, uri, "x = 1\n")
    await cheap_answer(session)
    warnings = [m for m in said(session) if "documents are open" in m]
    assert len(warnings) == 1
    assert "3 documents are open" in warnings[0] and "workcrew.limits.openDocuments" in warnings[0]
    for uri in uris:  # changes to refused documents: ignored without a word
        change(session, uri, "y = 2\n")
    await cheap_answer(session)
    assert len([m for m in said(session) if "documents are open" in m]) == 1
    selection = {"prompt": "p", "uri": uris[4], "range": {"start": {"line": 0, "character": 0},
                                                           "end": {"line": 0, "character": 5}}}
    with pytest.raises(JsonRpcException) as caught:
        await session.command("workcrew.createWorkflowFromSelection", selection)
    assert "cannot take the selection" in caught.value.message and "workcrew.limits.openDocuments" in caught.value.message
    # closing one makes room for the next
    session.client.text_document_did_close(types.DidCloseTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=uris[0])))
    open_text(session, uris[4], "x = 1\n")
    session.answer = None  # the selection is taken now; the approval is declined, nothing runs
    result = await session.command("workcrew.createWorkflowFromSelection", selection)
    assert result["status"] in {"cancelled", "invalid", "review"}


async def test_a_document_over_the_size_limit_is_not_kept_and_features_say_why(lsp_session: SessionFactory) -> None:
    session = await lsp_session(capabilities=push_capabilities(), settings={"limits": {"documentMb": 1}})
    big, small = session.uri("big.py"), session.uri("small.py")
    open_text(session, big, "a" * (1024 * 1024 + 10))
    open_text(session, small, "x = 1\n")
    change(session, small, "b" * (1024 * 1024 + 10))  # grows past the limit: dropped too
    await cheap_answer(session)
    too_large = [m for m in said(session) if "too large for Workcrew" in m]
    assert len(too_large) == 2 and all("workcrew.limits.documentMb" in m for m in too_large)
    for uri in (big, small):
        with pytest.raises(JsonRpcException) as caught:
            await session.command("workcrew.createWorkflowFromSelection", {
                "prompt": "p", "uri": uri,
                "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 3}}})
        assert "too large for Workcrew" in caught.value.message
    for _ in range(50):  # more changes to a dropped document: ignored, not told again
        change(session, big, "c")
    await cheap_answer(session)
    assert len([m for m in said(session) if "too large for Workcrew" in m]) == 2
