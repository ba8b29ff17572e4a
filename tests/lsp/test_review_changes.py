"""Review Changes from the editor: the built-in review over the changed lines of a git repository, and the
re-review when a reviewed file is saved (reusing the agents whose calls did not change)."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from .conftest import Session, SessionFactory, push_capabilities

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

CALC = '''"""Calculator helpers."""


def average(values):
    total = sum(values)
    return total / len(values)


def clamp(value, low, high):
    return max(low, min(value, high))
'''
STATS = '''def spread(values):
    return max(values) - min(values)


def ratio(a, b):
    return a / b
'''
FIND_CALC = {"findings": [
    {"title": "average() divides by zero on an empty list", "line": 6, "severity": "error",
     "message": "len(values) is 0 for an empty list", "snippet": "return total / len(values)"},
    {"title": "clamp() accepts low > high", "line": 10, "severity": "warning",
     "message": "nothing checks the bounds", "snippet": "return max(low, min(value, high))"},
]}
SCENARIO = {"rules": [
    {"match": {"label": "^find calc\\.py$"}, "respond": {"json": FIND_CALC}},
    {"match": {"label": "^find "}, "respond": {"json": {"findings": []}}},
    {"match": {"label": "^verify "}, "respond": {"json": {"refuted": False, "reason": "checked"}}},
]}


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A committed repository (calc.py, stats.py) with no user or system git configuration."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name, value in (("GIT_AUTHOR_NAME", "t"), ("GIT_AUTHOR_EMAIL", "t@example.com"),
                        ("GIT_COMMITTER_NAME", "t"), ("GIT_COMMITTER_EMAIL", "t@example.com")):
        monkeypatch.setenv(name, value)
    root = tmp_path / "repo"
    root.mkdir()
    (root / "calc.py").write_text(CALC)
    (root / "stats.py").write_text(STATS)
    (root / ".gitignore").write_text(".workcrew/\n")
    for argv in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "first"]):
        subprocess.run(["git", *argv], cwd=root, check=True, capture_output=True)
    return root


async def start(lsp_session: SessionFactory, repo: Path, tmp_path: Path, **settings: Any) -> Session:
    scenario = tmp_path / "review-changes.json"
    scenario.write_text(json.dumps(SCENARIO))
    return await lsp_session(capabilities=push_capabilities(), workspace=repo, settings=settings,
                             env={"WORKCREW_SCENARIO": str(scenario)})


def rows(session: Session, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(session.workspace / ".workcrew" / "workcrew.db")
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


async def review(session: Session, **params: Any) -> tuple[dict[str, Any], Any]:
    finished = session.client.protocol.wait_for_notification_async("workcrew/runFinished")
    result = await session.command("workcrew.reviewChanges", params)
    assert result["status"] == "running", result
    done = await asyncio.wait_for(finished, 60)
    assert done.runId == result["runId"] and done.status == "succeeded", done
    return result, done


async def test_review_changes_reviews_the_changed_function_only(lsp_session: SessionFactory, repo: Path,
                                                                tmp_path: Path) -> None:
    session = await start(lsp_session, repo, tmp_path)

    nothing = await session.command("workcrew.reviewChanges", {"uncommitted": True})
    assert nothing["status"] == "nothing" and nothing["message"].startswith("No changes to review")
    await session.wait_for(lambda: any("No changes to review" in m.message for m in session.client.messages),
                           what="the message")
    assert session.approvals == [] and rows(session, "SELECT id FROM runs") == []

    (repo / "calc.py").write_text(CALC.replace("total = sum(values)", "total = sum(v for v in values)"))
    result, done = await review(session, uncommitted=True)
    assert result["changes"]["files"] == [{"path": "calc.py", "status": "modified", "lines": [[5, 5]],
                                           "functions": [[4, 6]], "changed_lines": 1}]
    assert len(session.approvals) == 1  # asked before anything was spent

    ((args, outcome),) = rows(session, "SELECT args, result FROM runs WHERE id = ?", result["runId"])
    assert json.loads(args) == {"files": ["calc.py"], "changes": {"calc.py": {"lines": [[5, 5]],
                                                                             "functions": [[4, 6]]}}}
    ((prompt,),) = rows(session, "SELECT prompt FROM agents WHERE run_id = ? AND label = 'find calc.py'",
                        result["runId"])
    assert "the changed lines are 5, inside the code at lines 4-6" in prompt
    # the finding in average() is verified; the one in clamp(), which the change did not touch, is set aside
    outcome = json.loads(outcome)
    assert [f["title"] for f in outcome["confirmed"]] == ["average() divides by zero on an empty list"]
    (aside,) = outcome["outside_changes"]
    assert aside["title"] == "clamp() accepts low > high" and aside["line"] == 10
    assert done.findings == 1
    labels = {label for (label,) in rows(session, "SELECT label FROM agents WHERE run_id = ?", result["runId"])}
    assert not any(":10#" in label for label in labels)  # no skeptic was spent on it


async def test_a_save_re_reviews_the_changes_reusing_the_unchanged_agents(lsp_session: SessionFactory, repo: Path,
                                                                        tmp_path: Path) -> None:
    session = await start(lsp_session, repo, tmp_path, reviewOnSave=True)
    (repo / "calc.py").write_text(CALC.replace("total = sum(values)", "total = sum(v for v in values)"))
    (repo / "stats.py").write_text(STATS.replace("return a / b", "return a / b if b else 0"))
    first, _ = await review(session, uncommitted=True)
    assert sorted(first["changes"]["files"][i]["path"] for i in range(2)) == ["calc.py", "stats.py"]

    # another function of stats.py changes and is saved twice in a row: one re-review, after the last save
    (repo / "stats.py").write_text(STATS.replace("return a / b", "return a / b if b else 0")
                                   .replace("max(values) - min(values)", "max(values) - min(values, default=0)"))
    finished = session.client.protocol.wait_for_notification_async("workcrew/runFinished")
    for _ in range(2):
        session.client.text_document_did_save(types.DidSaveTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=session.uri("stats.py"))))
    done = await asyncio.wait_for(finished, 60)
    assert done.status == "succeeded" and done.runId != first["runId"]
    assert len(session.approvals) == 2  # asked again: nothing is spent without an approval

    runs = await session.command("workcrew.listRuns", {})
    assert [r["id"] for r in runs] == [done.runId, first["runId"]]  # one re-review for the two saves
    assert runs[0]["cached"] > 0
    ((args,),) = rows(session, "SELECT args FROM runs WHERE id = ?", done.runId)
    assert json.loads(args)["changes"]["stats.py"]["lines"] == [[2, 2], [6, 6]]
    states = rows(session, "SELECT label, state FROM agents WHERE run_id = ?", done.runId)
    live = sorted(label for label, state in states if state != "cached")
    cached = sorted(label for label, state in states if state == "cached")
    assert live == ["find stats.py"]  # only the changed file's finder ran; calc.py's finder and skeptics were reused
    assert cached == ["find calc.py", "verify calc.py:6#0", "verify calc.py:6#1", "verify calc.py:6#2"]
