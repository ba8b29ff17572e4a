"""Dismissals that teach, against the real server: the reason is asked (or given) and stored, a false positive
becomes a project rule in .claude/workcrew-rules.md, the next run's agents are told the rule (the requests
the real SDK sends to the Messages-API simulator), the finding it covers is not published and the report
counts it as suppressed; rules are listed, added and removed through the server's commands."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from pygls.exceptions import JsonRpcException
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulator import SimulatorThread

from .conftest import FIND_CALC, FIXTURES, Session, SessionFactory, push_capabilities, scenario

API_KEY = "sk-ant-test-dismissal-rules"


@pytest.fixture
def simulator() -> Iterator[SimulatorThread]:
    sim = SimulatorThread(Scenario.from_data(scenario())).start()
    yield sim
    sim.stop()


def through(sim: SimulatorThread) -> dict[str, str]:
    """The server (and the run processes it starts) on the real SDK, pointed at the simulator."""
    return {"WORKCREW_PROVIDER": "anthropic", "ANTHROPIC_BASE_URL": sim.url, "ANTHROPIC_API_KEY": API_KEY}


def systems(sim: SimulatorThread, label: str) -> list[str]:
    """The system prompts of one agent's requests (by label), in order."""
    out = []
    for request in list(sim.server.requests):
        headers = {k.lower(): v for k, v in request["headers"].items()}
        if unquote(headers.get("x-workcrew-label", "")) == label:
            out.append("\n".join(block["text"] for block in request["body"]["system"]))
    return out


def save_workflow(session: Session) -> Path:
    path = session.workspace / ".claude" / "workflows" / "review-division.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / "review_workflow.py", path)
    return path


async def run(session: Session, workflow: Path, files: list[str] | None = None) -> tuple[str, Any]:
    finished = session.client.protocol.wait_for_notification_async("workcrew/runFinished")
    started = await session.command("workcrew.runWorkflow", {"path": str(workflow),
                                                              "args": {"files": files or ["calc.py"]}})
    assert started["status"] == "running", started
    done = await asyncio.wait_for(finished, 60)
    assert done.status == "succeeded", done
    return str(started["runId"]), done


def dismissals(session: Session) -> dict[str, str | None]:
    db = sqlite3.connect(session.workspace / ".workcrew" / "workcrew.db")
    try:
        return dict(db.execute("SELECT fingerprint, reason FROM dismissals").fetchall())
    finally:
        db.close()


async def stored(session: Session, expected: dict[str, str]) -> None:
    """Wait for the dismissals table to hold ``expected`` (the store writes from a queue, every 100 ms)."""
    await session.wait_for(lambda: dismissals(session) == expected, what=f"the dismissals {expected}")


async def test_a_false_positive_teaches_the_next_run(lsp_session: SessionFactory, simulator: SimulatorThread) -> None:
    session = await lsp_session(capabilities=push_capabilities(), env=through(simulator))
    workflow = save_workflow(session)
    uri = session.open("calc.py")
    await run(session, workflow)
    (diagnostic,) = await session.wait_for(lambda: session.pushed(uri), what="the finding")
    assert not any("Project review rules" in s for s in systems(simulator, "find calc.py"))

    answer = await session.command("workcrew.dismissFinding", {
        "findingId": diagnostic.data["findingId"], "reason": "false-positive",
        "note": "average() is only called with a non-empty list"})
    assert answer["dismissed"] is True and answer["removed"] == [diagnostic.data["findingId"]]
    assert answer["reason"] == "false-positive: average() is only called with a non-empty list"
    await stored(session, {answer["fingerprint"]: answer["reason"]})
    await session.wait_for(lambda: session.pushed(uri) == [], what="the dismissal to clear the diagnostic")
    rule = answer["rule"]
    rules_file = session.workspace / ".claude" / "workcrew-rules.md"
    assert rule["path"] == str(rules_file) and rule["category"] == "division-by-zero" and rule["glob"] == "**"
    text = rules_file.read_text()
    assert f"## {rule['id']} · Division by zero when values is empty" in text
    assert ("Not a bug in this project: division-by-zero findings like “Division by zero when values is empty”. "
            "Average() is only called with a non-empty list. Applies to `**`.") in text
    assert f"- fingerprint: `{answer['fingerprint']}`" in text and "at `calc.py:3`" in text

    run_id, done = await run(session, workflow)
    # every agent of the run was told the rule: the finder and both skeptics
    for label in ("find calc.py", "verify calc.py#0", "verify calc.py#1"):
        latest = systems(simulator, label)[-1]
        assert "Project review rules (.claude/workcrew-rules.md)" in latest, label
        assert f"- [{rule['id']}] (false-positive; applies to **; category division-by-zero)" in latest, label
    # the finder reported it again: counted as suppressed, not published, named in the report
    assert done.findings == 0 and done.suppressed == 1
    await asyncio.sleep(0.3)  # two flush intervals: anything published would be here by now
    assert session.pushed(uri) == []
    report = (session.workspace / ".workcrew" / "runs" / run_id / "report.md").read_text()
    assert f"— `calc.py:3` — suppressed by rule {rule['id']} (false-positive)" in report

    listed = await session.command("workcrew.listRules", {})
    assert [r["id"] for r in listed["rules"]] == [rule["id"]] and listed["problems"] == []


async def test_without_a_reason_the_server_asks_and_wont_fix_teaches_nothing(lsp_session: SessionFactory) -> None:
    session = await lsp_session(capabilities=push_capabilities())
    uri = session.open("calc.py")
    finished = session.client.protocol.wait_for_notification_async("workcrew/runFinished")
    await session.command("workcrew.createWorkflowFromSelection", {
        "uri": uri, "prompt": "find division by zero",
        "range": {"start": {"line": 0, "character": 0}, "end": {"line": 3, "character": 0}}})
    await asyncio.wait_for(finished, 30)
    (diagnostic,) = await session.wait_for(lambda: session.pushed(uri), what="the finding")
    finding_id = diagnostic.data["findingId"]

    won_t = await session.command("workcrew.dismissFinding", {"findingId": finding_id, "reason": "wont-fix",
                                                               "note": "  the module is  going away "})
    assert won_t["rule"] is None and won_t["reason"] == "wont-fix: the module is going away"
    assert not (session.workspace / ".claude" / "workcrew-rules.md").exists()
    await stored(session, {won_t["fingerprint"]: "wont-fix: the module is going away"})

    # no reason (what the code action sends): the server asks; this client picks the first choice
    asked = len(session.approvals)
    answer = await session.command("workcrew.dismissFinding", {"findingId": finding_id})
    question = session.approvals[asked]
    assert [a.title for a in question.actions or []] == ["False positive", "Intended", "Won't fix", "Cancel"]
    assert question.message.startswith("Why dismiss “Division by zero when values is empty” (calc.py:3)?")
    assert answer["reason"] == "false-positive" and answer["rule"]["kind"] == "false-positive"
    assert f"## {answer['rule']['id']} · " in (session.workspace / ".claude" / "workcrew-rules.md").read_text()
    await stored(session, {answer["fingerprint"]: "false-positive"})  # the reason given last is the one kept


async def test_rules_are_listed_added_and_removed_through_the_server(lsp_session: SessionFactory) -> None:
    session = await lsp_session(capabilities=push_capabilities())
    empty = await session.command("workcrew.listRules", {})
    assert empty["exists"] is False and empty["rules"] == []
    added = await session.command("workcrew.addRule", {"kind": "intended", "glob": "migrations/**",
                                                       "text": "Raw SQL is how migrations are written here."})
    assert added["line"] > 1 and added["origin"].startswith("added in the editor on ")
    rules_file = session.workspace / ".claude" / "workcrew-rules.md"
    rules_file.write_text(rules_file.read_text() + "\n## R-typo\n- kind: sometimes\n\nText.\n")
    listed = await session.command("workcrew.listRules", {})
    assert [r["id"] for r in listed["rules"]] == [added["id"]]
    (problem,) = listed["problems"]
    assert problem["text"].startswith(f"{rules_file}:{problem['line']}: rule 'R-typo': kind 'sometimes'")

    removed = await session.command("workcrew.removeRule", {"id": added["id"]})
    assert removed["removed"] == added["id"]
    assert added["id"] not in rules_file.read_text() and "R-typo" in rules_file.read_text()
    with pytest.raises(JsonRpcException, match=r"no rule 'R-gone' in .*rules there: R-typo"):
        await session.command("workcrew.removeRule", {"id": "R-gone"})
    with pytest.raises(JsonRpcException, match="unbalanced braces"):
        await session.command("workcrew.addRule", {"kind": "intended", "glob": "src/{a", "text": "x"})
    with pytest.raises(JsonRpcException, match="reason"):
        await session.command("workcrew.dismissFinding", {"findingId": "f_x", "reason": "because"})
    assert (await session.command("workcrew.listRules", {}))["rules"] == []


async def test_a_new_rule_also_dismisses_the_open_findings_it_covers(lsp_session: SessionFactory,
                                                                     tmp_path: Path) -> None:
    """The same class of false positive in a second file: dismissing one with a rule takes the other off the
    Problems panel too (dismissed for the rule's reason), and the next run reports neither."""
    both = tmp_path / "both.json"
    both.write_text(json.dumps({"rules": [
        {"match": {"label": "^find "}, "respond": {"json": FIND_CALC}},
        {"match": {"label": "^verify "}, "respond": {"json": {"refuted": False}}},
    ]}))
    session = await lsp_session(capabilities=push_capabilities(), env={"WORKCREW_SCENARIO": str(both)},
                                files={"mean.py": (FIXTURES / "workspace" / "calc.py").read_text()})
    workflow = save_workflow(session)
    calc, mean = session.open("calc.py"), session.open("mean.py")
    files = ["calc.py", "mean.py"]
    await run(session, workflow, files)
    (in_calc,) = await session.wait_for(lambda: session.pushed(calc), what="the finding in calc.py")
    (in_mean,) = await session.wait_for(lambda: session.pushed(mean), what="the finding in mean.py")

    answer = await session.command("workcrew.dismissFinding", {
        "findingId": in_calc.data["findingId"], "reason": "false-positive", "note": "inputs are never empty"})
    rule = answer["rule"]
    assert rule["glob"] == "**" and rule["category"] == "division-by-zero"
    (other,) = answer["alsoDismissed"]
    assert other != answer["fingerprint"]
    await session.wait_for(lambda: session.pushed(mean) == [], what="the covered finding to leave mean.py")
    await stored(session, {answer["fingerprint"]: "false-positive: inputs are never empty",
                           other: f"false-positive: rule {rule['id']}"})

    _, done = await run(session, workflow, files)
    assert done.findings == 0 and done.suppressed == 2
    # the user's own reason is kept; the rule does not overwrite it
    await stored(session, {answer["fingerprint"]: "false-positive: inputs are never empty",
                           other: f"false-positive: rule {rule['id']}"})
    assert session.pushed(calc) == [] and session.pushed(mean) == []
    assert in_mean.data["findingId"] != in_calc.data["findingId"]
