"""Approval you can judge at a glance: a one-line question whose details (files in scope and their token share,
what was left out and why) are one click away — as data for the VS Code panel, as a Markdown page for clients
without views — and Edit scope, which narrows a run and asks again."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from .conftest import Session, SessionFactory, details_id, push_capabilities

FLOW = """meta = {"name": "read-all", "description": "One reader per file",
        "phases": [{"title": "Read"}], "args": {"files": "files to read (default: calc.py)"}}

opts = args if isinstance(args, dict) else {}
phase("Read")
results = await parallel([agent(f"Read {f}", label=f"read {f}") for f in opts.get("files") or ["calc.py"]])
return {"read": len(results)}
"""
NO_FILES_ARG = """meta = {"name": "no-files", "description": "Takes no files argument"}
return await agent("Say hi", label="hi")
"""
MAX_FILE_BYTES = 4000


def leave_out_one_of_each(workspace: Path) -> None:
    """A file left out for each reason: .gitignore, a default exclude, a secret, a binary, one over the size cap."""
    files: dict[str, str | bytes] = {
        ".gitignore": "generated/\n",
        "generated/schema.py": "SCHEMA = 1\n",
        "node_modules/left-pad/index.js": "module.exports = pad;\n",
        ".env": "API_TOKEN=not-for-models\n",
        "logo.png": b"\x89PNG\r\n\x1a\n\x00\x00",
        "big.py": "x = 1\n" * (MAX_FILE_BYTES // 5),
        "flow.py": FLOW,
        "no_files.py": NO_FILES_ARG,
    }
    for name, data in files.items():
        path = workspace / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data)


async def start(lsp_session: SessionFactory) -> Session:
    session = await lsp_session(capabilities=push_capabilities(), settings={"maxFileBytes": MAX_FILE_BYTES})
    leave_out_one_of_each(session.workspace)
    return session


def line_with(text: str, needle: str) -> str:
    lines = [line for line in text.splitlines() if needle in line]
    assert lines, f"no line with {needle!r} in:\n{text}"
    return lines[0]


async def test_details_opens_a_page_then_asks_again_and_run_starts(lsp_session: SessionFactory) -> None:
    session = await start(lsp_session)
    session.answers = ["Details"]  # then the default answer: Run
    finished = session.client.protocol.wait_for_notification_async("workcrew/runFinished")

    result = await session.command("workcrew.runWorkflow", {"path": str(session.workspace / "flow.py")})

    assert result["status"] == "running", result
    first, again = session.approvals
    assert [a.title for a in first.actions or []] == ["Run", "Details", "Always run", "Cancel"]
    assert [a.title for a in again.actions or []] == ["Run", "Always run", "Review script", "Cancel"]
    # the question is short: one line of totals and the id of its details
    headline, *rest = first.message.splitlines()
    assert re.fullmatch(r"Run “read-all”: 1 agent · [\d.]+k?(–[\d.]+k?)? tokens · <\$0\.01 · <1 min · 5 files", headline), \
        headline
    assert len(rest) == 1 and rest[0].startswith("(details: ")
    approval_id = details_id(first.message)

    # the details page, opened in the editor: files in scope and what was left out, each with its reason
    (shown,) = session.client.shown_documents
    page = Path(shown.uri.removeprefix("file://"))
    assert page == session.workspace / ".workcrew" / "approvals" / f"{approval_id}.md"
    text = page.read_text()
    assert "`calc.py`" in text and "`stats.py`" in text and "`flow.py`" in text
    assert "default exclude" in line_with(text, "`node_modules/`")
    assert "ignored by .gitignore" in line_with(text, "`generated/`")
    assert "secret file" in line_with(text, "`.env`")
    assert "binary" in line_with(text, "`logo.png`")
    assert "size cap" in line_with(text, "`big.py`")
    assert "opts.get(\"files\")" in text  # the script itself, at the end

    done = await asyncio.wait_for(finished, 30)
    assert done.runId == result["runId"] and done.status == "succeeded"
    # answered: its details are gone, and asking for them says what to do
    with pytest.raises(JsonRpcException) as caught:
        await session.command("workcrew.approvalDetails", {"id": approval_id})
    assert "run the workflow again" in str(caught.value)


async def test_approval_details_are_served_while_the_question_is_open(lsp_session: SessionFactory) -> None:
    session = await start(lsp_session)
    seen: list[dict[str, Any]] = []

    async def look_then_cancel(params: types.ShowMessageRequestParams) -> str:
        seen.append(await session.command("workcrew.approvalDetails",
                                          {"id": details_id(params.message), "allFiles": True}))
        return "Cancel"

    session.on_approval = look_then_cancel
    result = await session.command("workcrew.runWorkflow", {"path": str(session.workspace / "flow.py")})

    assert result["status"] == "cancelled"
    (data,) = seen
    assert data["workflow"] == "read-all" and data["id"] == details_id(session.approvals[0].message)
    assert data["headline"] == session.approvals[0].message.splitlines()[0]
    assert data["script"]["path"] == str(session.workspace / "flow.py") and data["script"]["source"] == FLOW
    (phase,) = data["phases"]
    assert phase["phase"] == "Read" and phase["agents"] == {"low": 1, "expected": 1, "high": 1}
    assert phase["models"] == [{"model": "simulated", "agents": 1}]
    assert data["narrowable"] and data["target"] == {"name": "read-all", "path": str(session.workspace / "flow.py")}
    listed = [f["path"] for f in data["files"]["all"]]
    assert {"calc.py", "stats.py", "flow.py", ".gitignore"} <= set(listed) and "big.py" not in listed
    assert data["files"]["total"] == len(listed)


async def test_estimate_details_says_what_is_left_out_and_why(lsp_session: SessionFactory) -> None:
    session = await start(lsp_session)

    data = await session.command("workcrew.estimateDetails", {"path": str(session.workspace / "flow.py")})

    assert data["id"] is None and session.approvals == []  # nothing asked, nothing run
    excluded = {row["reason"]: row for row in data["excluded"]}
    assert {"gitignore", "default-exclude", "secret", "binary", "too-large"} <= set(excluded)
    assert excluded["gitignore"]["examples"] == ["generated/"]
    assert "node_modules/" in excluded["default-exclude"]["examples"]
    assert excluded["secret"]["examples"] == [".env"]
    assert excluded["binary"]["examples"] == ["logo.png"]
    assert excluded["too-large"]["examples"] == ["big.py"]
    files = data["files"]
    shares = [f["share"] for f in files["top"]] + [files["rest"]["share"]]
    assert sum(shares) == pytest.approx(100, abs=0.1)
    assert [f["tokens"] for f in files["top"]] == sorted((f["tokens"] for f in files["top"]), reverse=True)
    assert files["tokens"] == sum(f["tokens"] for f in files["top"]) + files["rest"]["tokens"]
    assert data["totals"]["agents"]["expected"] == 1
    assert "## Left out" in data["markdown"] and "`node_modules/`" in data["markdown"]


async def test_edit_scope_narrows_the_files_and_asks_again(lsp_session: SessionFactory) -> None:
    session = await start(lsp_session)
    flow = str(session.workspace / "flow.py")

    narrowed = await session.command("workcrew.estimateDetails",
                                     {"path": flow, "exclude": ["/stats.py", "*.md"], "allFiles": True})
    kept = [f["path"] for f in narrowed["files"]["all"]]
    assert "stats.py" not in kept and "calc.py" in kept
    assert narrowed["args"]["files"] == sorted(kept)
    assert narrowed["totals"]["agents"]["expected"] == len(kept)  # one reader per file it is now given

    session.answer = "Cancel"
    result = await session.command("workcrew.runWorkflow", {"path": flow, "scope": ["calc.py", "stats.py"],
                                                            "exclude": ["/stats.py"]})
    assert result["status"] == "cancelled"
    assert session.approvals[-1].message.splitlines()[0].endswith("· 1 file")

    with pytest.raises(JsonRpcException) as caught:
        await session.command("workcrew.runWorkflow", {"path": str(session.workspace / "no_files.py"),
                                                       "exclude": ["/stats.py"]})
    assert "takes no `files` argument" in str(caught.value)
    with pytest.raises(JsonRpcException) as caught:
        await session.command("workcrew.estimateDetails", {"path": flow, "scope": ["calc.py"], "exclude": ["*.py"]})
    assert "nothing is left in scope" in str(caught.value)


async def test_a_built_in_given_no_files_shows_what_the_workspace_left_out(lsp_session: SessionFactory) -> None:
    session = await start(lsp_session)

    data = await session.command("workcrew.estimateDetails", {"name": "review"})

    # the workspace's source files were passed as its files (server/default_scope.py); the details show them,
    # what the workspace left out, and the files in scope that were not passed
    assert data["args"]["files"] == ["calc.py", "flow.py", "no_files.py", "stats.py"]
    assert sorted(f["path"] for f in data["files"]["top"]) == data["args"]["files"]
    excluded = {row["reason"]: row["examples"] for row in data["excluded"]}
    assert "node_modules/" in excluded["default-exclude"] and excluded["secret"] == [".env"]
    assert excluded["not-passed"] == [".gitignore"]
    assert any(note.startswith("no files given, so files = 4 of the 5 file(s) in scope") for note in data["notes"])
