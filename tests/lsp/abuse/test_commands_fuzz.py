"""Every ``workcrew.*`` command, fed arguments no editor should send: each gets a JSON-RPC error a person can act
on (never a Python exception's text), and the server answers a cheap request within 1 s after each (issue #19).

One server serves every case (a fresh one per case would cost minutes); approvals are declined, so nothing runs.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from workcrew.server.command_table import all_commands

from ..conftest import Session, SessionFactory, push_capabilities

COMMANDS = sorted(all_commands())
BIG = "x" * 2_000_000  # over the 1 MiB argument cap
LONG = "y" * 100_000  # under the cap: each command's own checks see it
FIELDS = ("runId", "findingId", "id", "name", "path", "prompt", "uri", "base", "text", "glob", "note", "kind",
          "reason", "category", "matches")
# what must never reach the user: exception class names, tracebacks, OS and SQLite wording, pydantic's links
LEAKS = re.compile(r"\b[A-Z][A-Za-z]*(Error|Exception)\b|Traceback|Errno|sqlite3?\b|KeyError|File \"|"
                   r"errors\.pydantic\.dev|pydantic|object at 0x|\bNoneType\b|\bdict\b|\bstr\b")


def nested(levels: int) -> Any:
    value: Any = "bottom"
    for _ in range(levels):
        value = {"a": [value]}
    return value


def shapes() -> list[tuple[str, list[Any]]]:
    """(label, arguments) for every command: the bad shapes the issue lists."""
    cases: list[tuple[str, list[Any]]] = [
        ("no arguments", []), ("null", [None]), ("string", ["find bugs"]), ("number", [42]), ("list", [[{}]]),
        ("two objects", [{}, {}]), ("unknown keys", [{"zzz": 1, "runId!": "%"}]),
        ("140 levels deep", [{"args": nested(70), "runId": "wf_x"}]),  # the client library recurses: no deeper
        ("numbers everywhere", [{f: n for f, n in zip(FIELDS, [-1, 1e308, -(10 ** 30), 0, 2 ** 64] * 3, strict=False)}]),
        ("negative limit", [{"limit": -5}]), ("huge limit", [{"limit": 10 ** 30}]),
        ("nested objects in fields", [{f: {"nested": [1]} for f in FIELDS}]),
    ]
    for field in FIELDS:
        cases.append((f"2 MB {field}", [{field: BIG}]))
        cases.append((f"100 KB {field}", [{field: LONG, "prompt": "p", "kind": "intended", "text": "t"}]))
        cases.append((f"NUL in {field}", [{field: "a\x00b", "prompt": "p"}]))
        cases.append((f"lone surrogate in {field}", [{field: "wf_\ud800", "prompt": "p"}]))
    cases += [
        ("pattern id", [{"runId": "%", "findingId": "%", "id": "%"}]),
        ("path outside the workspace", [{"path": "/etc/passwd", "name": "../../../../etc/hosts"}]),
        ("relative escape", [{"path": "../../../../../etc/hosts"}]),
        ("non-file URIs", [{"path": "untitled:Untitled-1", "uri": "https://example.com/a.py", "prompt": "p",
                            "uris": ["vscode-notebook-cell:/x#1"], "openEditors": ["git:/a.py"]}]),
        ("file URI with NUL", [{"path": "file:///tmp/a%00b.py", "uri": "file:///tmp/a%00b.py", "prompt": "p"}]),
        ("range ends first", [{"prompt": "p", "uri": "file:///nope.py", "range": {
            "start": {"line": 5, "character": 0}, "end": {"line": 1, "character": 0}}}]),
        ("huge position", [{"prompt": "p", "uri": "file:///nope.py", "range": {
            "start": {"line": 10 ** 30, "character": -1}, "end": {"line": 2 ** 63, "character": 0}}}]),
        ("bad scope", [{"name": "review", "scope": ["\x00", "../../etc"], "exclude": [""] * 3}]),
    ]
    return cases


def clean(message: str) -> bool:
    return not LEAKS.search(message) and len(message) < 2200


async def cheap_answer(session: Session) -> None:
    """The server still answers at once: a command that only reads the rules file."""
    answer = await asyncio.wait_for(session.command("workcrew.listRules", {}), 1.0)
    assert "rules" in answer


async def test_every_command_refuses_bad_arguments_cleanly(lsp_session: SessionFactory) -> None:
    session = await lsp_session(capabilities=push_capabilities(), answer=None)  # every approval: declined
    failures: list[str] = []
    errors = 0
    for command in COMMANDS:
        for label, arguments in shapes():
            try:
                await asyncio.wait_for(session.command(command, *arguments), 30)
            except JsonRpcException as exc:
                errors += 1
                if not clean(exc.message):
                    failures.append(f"{command} / {label}: {exc.message[:300]!r}")
            await cheap_answer(session)
    assert not failures, "\n".join(failures)
    assert errors > len(COMMANDS) * 20  # nearly every shape is refused (a few are valid for listing commands)


async def _raw_request(session: Session, request_id: str, body: bytes) -> asyncio.Future[Any]:
    """Write a request the client library would refuse to encode (5,000 levels); its answer's future."""
    protocol = session.client.protocol
    answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    protocol._request_futures[request_id] = answer
    written = protocol.writer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    if inspect.isawaitable(written):
        await written
    return answer


async def test_argument_limits_deep_nesting_and_settings(lsp_session: SessionFactory) -> None:
    session = await lsp_session(capabilities=push_capabilities(), answer=None,
                                settings={"limits": {"commandArgumentsKb": 4, "commandNesting": 8}})
    with pytest.raises(JsonRpcException) as caught:
        await session.command("workcrew.estimate", {"name": "review", "args": {"files": ["a" * 5000]}})
    assert "larger than 4 KB" in caught.value.message and "workcrew.limits.commandArgumentsKb" in caught.value.message
    with pytest.raises(JsonRpcException) as caught:
        await session.command("workcrew.estimate", {"name": "review", "args": nested(8)})
    assert "nested more than 8 levels" in caught.value.message
    assert "workcrew.limits.commandNesting" in caught.value.message
    # 5,000 levels: refused somewhere between the transport and the command, never with RecursionError text
    deep = "[" * 5000 + "]" * 5000
    body = ('{"jsonrpc": "2.0", "id": "deep-1", "method": "workspace/executeCommand", "params": {"command": '
            '"workcrew.estimate", "arguments": [{"name": "review", "args": ' + deep + '}]}}').encode()
    answer = await _raw_request(session, "deep-1", body)
    await cheap_answer(session)
    if answer.done():
        with pytest.raises(JsonRpcException) as caught:
            answer.result()
        assert clean(caught.value.message), caught.value.message
    else:
        answer.cancel()
    # a bad limits setting is reported and the default kept
    await session.command("workcrew.listRules", {})
    session.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"workcrew": {"limits": {"commandNesting": "deep", "bogus": 1}}}))
    await session.wait_for(lambda: any("workcrew.limits.commandNesting must be a whole number" in m.message
                                       for m in session.client.log_messages), 10, "the bad-setting warning")
    assert any("unknown setting workcrew.limits.bogus" in m.message for m in session.client.log_messages)
    # the default nesting (64) is back: 8 levels are fine now
    with pytest.raises(JsonRpcException) as caught:
        await session.command("workcrew.cancelRun", {"runId": "wf_nope", "x": nested(8)})
    assert "no run 'wf_nope'" in caught.value.message
    json.dumps(caught.value.message)


async def test_run_ids_from_the_editor_are_matched_exactly(lsp_session: SessionFactory) -> None:
    """`%` is not a wildcard and a prefix is not an id: neither resumes (or cancels) a stored run."""
    import time

    from workcrew.engine import RunStore

    session = await lsp_session(capabilities=push_capabilities(), answer=None)
    await session.command("workcrew.listRuns", {})  # the server's store exists
    store = RunStore(session.workspace / ".workcrew")
    try:
        store.create_run(id="wf_aaaa11112222", workflow="tiny", status="stopped", created_at=time.time(),
                         script_source='meta = {"name": "tiny", "description": "d"}\nreturn 1\n')
        store.flush()
    finally:
        store.close()
    with pytest.raises(JsonRpcException) as caught:
        await session.command("workcrew.resumeFromRun", {"runId": "%"})
    assert "runId: must be a run id like wf_" in caught.value.message
    for command in ("workcrew.resumeFromRun", "workcrew.cancelRun", "workcrew.pauseRun"):
        with pytest.raises(JsonRpcException) as caught:
            await session.command(command, {"runId": "wf_aaaa"})
        assert "no run 'wf_aaaa'" in caught.value.message, caught.value.message
    # the whole id finds it (and, the approval declined, nothing runs)
    result = await session.command("workcrew.resumeFromRun", {"runId": "wf_aaaa11112222"})
    assert result["status"] == "cancelled"


async def test_unknown_run_ids_do_not_grow_the_server(lsp_session: SessionFactory) -> None:
    """Issue #19: each cancelRun for an unknown run kept ~7.7 KB (pygls's table of finished futures)."""
    from pathlib import Path

    session = await lsp_session(capabilities=push_capabilities())

    def rss_kb() -> int:
        process = session.client._server
        assert process is not None
        status = Path(f"/proc/{process.pid}/status").read_text()
        return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1])

    async def cancel_unknown(count: int) -> None:
        calls = [session.command("workcrew.cancelRun", {"runId": f"wf_nope{index}"}) for index in range(count)]
        answers = await asyncio.gather(*calls, return_exceptions=True)
        assert all(isinstance(a, JsonRpcException) and "no run" in a.message for a in answers)

    await cancel_unknown(300)  # warm-up
    before = rss_kb()
    await cancel_unknown(3000)
    grown = rss_kb() - before
    assert grown < 8_000, f"the server grew by {grown} KB over 3,000 unknown cancelRun calls"
    await cheap_answer(session)
