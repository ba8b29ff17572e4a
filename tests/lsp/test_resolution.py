"""Findings that are closed when fixed, seen from the editor: a re-run that no longer reports a finding in the
file it changed removes its diagnostic; a fix applied in the editor is recorded as fixed (listRuns says so);
a restored diagnostic names its workflow and run in its source and says how old it is."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from workcrew.server.finding_labels import age, is_workcrew, source_label

from .conftest import Session, SessionFactory, push_capabilities


async def review_calc(session: Session) -> dict[str, Any]:
    finished = session.client.protocol.wait_for_notification_async("workcrew/runFinished")
    result = await session.command("workcrew.createWorkflowFromSelection",
                                   {"uri": session.uri("calc.py"), "prompt": "find division by zero"})
    assert result["status"] == "running", result
    done = await asyncio.wait_for(finished, 30)
    assert done.status == "succeeded" and done.findings == 1
    return result


def query(workspace: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(workspace / ".workcrew" / "workcrew.db")
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


async def test_a_rerun_that_no_longer_reports_a_fixed_finding_removes_it(lsp_session: SessionFactory,
                                                                          tmp_path: Path) -> None:
    session = await lsp_session(capabilities=push_capabilities())
    calc = session.uri("calc.py")
    first = await review_calc(session)
    await session.wait_for(lambda: session.pushed(calc), what="the finding")

    # fixed outside the editor (the faulty line itself is kept: only a changed file tells a fix from a miss),
    # and the finder no longer reports it
    path = session.workspace / "calc.py"
    path.write_text(path.read_text().replace("    total = sum(values)\n",
                                             "    if not values:\n        return 0.0\n    total = sum(values)\n"))
    scenario_path = tmp_path / "scenario.json"
    scenario = json.loads(scenario_path.read_text())
    scenario["rules"].insert(0, {"match": {"label": "^find calc.py"}, "respond": {"json": {"bugs": []}}})
    scenario_path.write_text(json.dumps(scenario))

    (args,) = query(session.workspace, "SELECT args FROM runs WHERE id = ?", first["runId"])[0]
    finished = session.client.protocol.wait_for_notification_async("workcrew/runFinished")
    again = await session.command("workcrew.runWorkflow", {"path": first["path"], "args": json.loads(args)})
    assert again["status"] == "running", again
    done = await asyncio.wait_for(finished, 30)
    assert done.status == "succeeded" and done.findings == 0 and done.runId == again["runId"]
    await session.wait_for(lambda: session.pushed(calc) == [], what="the fixed finding to disappear")
    (state,) = query(session.workspace, "SELECT status, resolved_by_run FROM finding_states")
    assert state == ("fixed", again["runId"])
    (listed,) = [run for run in await session.command("workcrew.listRuns", {}) if run["id"] == first["runId"]]
    assert listed["resolution"] == {"total": 1, "fixed": 1, "dismissed": 0, "dismissed_by": {}, "open": 0,
                                    "rate": 1.0, "acted_on": 1.0}


async def test_a_fix_applied_in_the_editor_is_recorded_as_fixed(lsp_session: SessionFactory) -> None:
    session = await lsp_session(capabilities=push_capabilities())
    uri = session.open("calc.py")
    result = await review_calc(session)
    await session.wait_for(lambda: session.pushed(uri), what="the finding")
    applied = await session.command("workcrew.applyAllFixes", {"runId": result["runId"]})
    assert applied["applied"] is True
    await session.wait_for(lambda: session.pushed(uri) == [], what="the fixed finding to disappear")
    await session.wait_for(lambda: query(session.workspace, "SELECT status, reason FROM finding_states")
                           == [("fixed", "its fix was applied in the editor")], what="the fix recorded in the store")
    (listed,) = [run for run in await session.command("workcrew.listRuns", {}) if run["id"] == result["runId"]]
    assert listed["resolution"]["fixed"] == 1 and listed["resolution"]["open"] == 0


async def test_a_restored_finding_shows_its_run_and_age(lsp_session: SessionFactory) -> None:
    session = await lsp_session(capabilities=push_capabilities())
    calc = session.uri("calc.py")
    result = await review_calc(session)
    (before,) = await session.wait_for(lambda: session.pushed(calc), what="the finding")
    await asyncio.wait_for(session.client.shutdown_session(), 15)
    # as if it had been reported two and a half hours ago
    db = sqlite3.connect(session.workspace / ".workcrew" / "workcrew.db")
    db.execute("UPDATE finding_states SET first_seen = ?", (time.time() - 2.5 * 3600,))
    db.commit()
    db.close()

    again = await lsp_session(capabilities=push_capabilities(), workspace=session.workspace)
    (restored,) = await again.wait_for(lambda: again.pushed(calc), what="the finding restored after the restart")
    short = result["runId"].removeprefix("wf_")[:6]
    assert restored.source == before.source == f"Workcrew · review-division · run {short}"
    lines = restored.message.splitlines()
    assert lines[0] == "Division by zero when values is empty"  # the title stays the first line
    assert lines[-1] == "first seen 2 h ago" and before.message.splitlines()[-1] == "first seen just now"
    assert restored.data == before.data


def test_ages_and_sources_read_well_in_the_problems_panel() -> None:
    now = 1_000_000.0
    assert [age(now - seconds, now) for seconds in (5, 59, 60, 300, 3599, 3600, 9000, 86400, 3 * 86400, 15 * 86400)] \
        == ["just now", "just now", "1 min ago", "5 min ago", "59 min ago", "1 h ago", "2 h ago", "1 day ago",
            "3 days ago", "2 weeks ago"]
    assert source_label("review", "wf_3f2a9c8d1e2f") == "Workcrew · review · run 3f2a9c"
    assert is_workcrew("Workcrew · review · run 3f2a9c") and is_workcrew("workcrew")
    assert not is_workcrew("Pylance") and not is_workcrew(None)
