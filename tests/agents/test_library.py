"""The pattern library (scout, vote, finding, fix_loop) in both dialects, over the real SDK against the simulator:
majorities with missing votes, findings built from votes, the implement → check → fix loop on a real worktree."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from workcrew.engine import RunStore
from workcrew.engine.providers.simulator import SimulatorThread
from workcrew.engine.workflows.library import tally

CALC = "def mean(xs):\n    return sum(xs) / len(xs)\n\n\ndef add(a, b):\n    return a - b\n"
WRONG = [{"name": "edit_file", "input": {"path": "calc.py", "old": "return a - b", "new": "return a * b"}}]
RIGHT = [{"name": "edit_file", "input": {"path": "calc.py", "old": "return a - b", "new": "return a + b"}}]


pytestmark = pytest.mark.usefixtures("private_tmp")  # worktrees in this test's own temp folder


@pytest.fixture
def project(workspace: Path) -> Path:
    (workspace / "calc.py").write_text(CALC)
    return workspace


def ballots(*answers: str) -> list[dict[str, Any]]:
    """Simulator rules for skeptics #0.. of the claim labelled "claim": upheld, refuted or failed."""
    rules = []
    for index, answer in enumerate(answers):
        respond: dict[str, Any] = ({"error": 400, "message": "refused"} if answer == "fail" else
                                   {"json": {"refuted": answer == "refuted", "reason": f"{answer} by #{index}"}})
        rules.append({"match": {"label": f"^verify claim#{index}$"}, "respond": respond})
    return rules


VOTE_PY = """
    outcome = await vote("calc.py:5: add() subtracts", n=3, label="claim", context="add(2, 2) is 0")
    made = finding({"title": "add() subtracts", "line": 5, "message": "a - b", "snippet": "return a - b",
                    "fix": {"old": "return a - b", "new": "return a + b"}}, path="calc.py", outcome=outcome)
    report(made)
    return {"outcome": outcome, "finding": made}
"""
VOTE_JS = """
    const outcome = await vote("calc.py:5: add() subtracts", {n: 3, label: "claim", context: "add(2, 2) is 0"})
    const made = await finding({title: "add() subtracts", line: 5, message: "a - b", snippet: "return a - b",
                                fix: {old: "return a - b", new: "return a + b"}}, {path: "calc.py", outcome})
    await report(made)
    return {outcome, finding: made}
"""


@pytest.mark.parametrize("js", [False, True], ids=["python", "js"])
@pytest.mark.parametrize(("answers", "verdict", "votes", "severity"), [
    (("upheld", "upheld", "fail"), "confirmed", {"confirm": 2, "refute": 0, "missing": 1}, "warning"),
    (("upheld", "refuted", "fail"), "unverified", {"confirm": 1, "refute": 1, "missing": 1}, "info"),
    (("refuted", "fail", "refuted"), "refuted", {"confirm": 0, "refute": 2, "missing": 1}, "info"),
], ids=["majority-despite-a-missing-vote", "split-with-a-missing-vote", "refuted"])
async def test_vote_needs_a_majority_and_a_missing_vote_never_refutes(
        simulator: Callable[..., SimulatorThread], run_api: Any, project: Path, store: RunStore, js: bool,
        answers: tuple[str, ...], verdict: str, votes: dict[str, int], severity: str) -> None:
    sim = simulator(ballots(*answers))
    result = await run_api(sim, VOTE_JS if js else VOTE_PY, js=js)
    assert result.status == "succeeded", result.error
    outcome, made = result.result["outcome"], result.result["finding"]
    assert outcome["verdict"] == verdict and outcome["votes"] == votes
    assert outcome["confidence"] == round(votes["confirm"] / 3, 2)
    # each skeptic is its own agent, told the claim and the context, and counted like any other
    assert result.agents["launched"] == 3 and result.agents["failed"] == 1
    prompts = [r["body"]["messages"][0]["content"] for r in sim.server.requests]
    assert all("add() subtracts" in p and "add(2, 2) is 0" in p for p in prompts)
    # the finding carries the verdict, the votes and every skeptic's reason, the missing one's too
    assert made["verdict"] == verdict and made["votes"] == votes and made["severity"] == severity
    notes = [e["note"] for e in made["evidence"]]
    assert any("gave no vote" in note for note in notes) and sum("skeptic #" in note for note in notes) == 3
    assert made["fix"]["edits"] == [{"path": "calc.py", "old": "return a - b", "new": "return a + b"}]
    stored = store.get_findings(result.run_id)
    assert [f["verdict"] for f in stored] == [verdict] and stored[0]["location"]["start_line"] == 5


def test_tally_counts_only_returned_votes() -> None:
    assert tally([None, None, None], 3) == ("unverified", {"confirm": 0, "refute": 0, "missing": 3})
    assert tally([{"refuted": False}] * 3 + [None, None], 5) == ("confirmed", {"confirm": 3, "refute": 0, "missing": 2})
    assert tally([{"refuted": True}, {"refuted": False}, {"refuted": "yes"}], 3)[0] == "unverified"


FIX_PY = """
    done = await fix_loop("Fix add() in calc.py", "grep -c 'a + b' calc.py", rounds=3, label="fix calc")
    if done["ok"]:
        report({"title": "add() subtracts", "location": {"path": "calc.py", "start_line": 5}, "fix": done["fixed"]})
    return {k: v for k, v in done.items() if k != "fixed"}
"""
FIX_JS = """
    const done = await fixLoop("Fix add() in calc.py", "grep -c 'a + b' calc.py", {rounds: 3, label: "fix calc"})
    if (done.ok) await report({title: "add() subtracts", location: {path: "calc.py", start_line: 5}, fix: done.patch})
    return {ok: done.ok, patch: done.patch, check: done.check, attempts: done.attempts}
"""


@pytest.mark.parametrize("js", [False, True], ids=["python", "js"])
async def test_fix_loop_feeds_a_failed_check_back_until_a_patch_passes(
        simulator: Callable[..., SimulatorThread], run_api: Any, project: Path, store: RunStore, js: bool) -> None:
    sim = simulator([
        {"match": {"label": "^fix calc#1$"}, "respond": {"tool_calls": WRONG, "text": "multiplied"}},
        {"match": {"label": "^fix calc#2$"}, "respond": {"tool_calls": RIGHT, "text": "added"}},
    ])
    result = await run_api(sim, FIX_JS if js else FIX_PY, js=js, command_allowlist=["grep"])
    assert result.status == "succeeded", result.error
    done = result.result
    assert done["ok"] is True and done["check"] == "exit 0"
    assert [a["round"] for a in done["attempts"]] == [1, 2] and done["attempts"][0]["exit_code"] == 1
    assert done["patch"]["edits"] == [{"path": "calc.py", "old": "    return a - b\n", "new": "    return a + b\n"}]
    # round 2 was told what round 1 did and how the check failed
    second = next(r for r in sim.server.requests if r["headers"].get("x-workcrew-label") == "fix%20calc%232")
    assert "return a * b" in second["body"]["messages"][0]["content"]
    assert "previous attempt" in second["body"]["messages"][0]["content"]
    assert store.get_findings(result.run_id)[0]["fix"]["edits"][0]["new"] == "    return a + b\n"
    assert (project / "calc.py").read_text() == CALC  # never the user's files


async def test_fix_loop_gives_up_after_its_rounds_and_says_why(
        simulator: Callable[..., SimulatorThread], run_api: Any, project: Path) -> None:
    sim = simulator([{"match": {"label": "^fix calc#"}, "respond": {"tool_calls": WRONG, "text": "multiplied"}}])
    result = await run_api(sim, FIX_PY, command_allowlist=["grep"])
    assert result.status == "succeeded", result.error
    assert result.result["ok"] is False and result.result["patch"] is None
    assert [a["outcome"] for a in result.result["attempts"]] == ["exit 1"] * 3
    assert any("no patch passed" in line for line in result.logs)


@pytest.mark.parametrize("js", [False, True], ids=["python", "js"])
async def test_scout_uses_what_it_was_given_or_asks_a_scout_and_reports_what_it_drops(
        simulator: Callable[..., SimulatorThread], run_api: Any, project: Path, js: bool) -> None:
    sim = simulator([{"match": {"label": "^scope$"}, "respond": {"json": {"items": ["a.py", "b.py", "c.py"]}}}])
    body = ("""
        const given = await scout(["x.py", "y.py", "z.py"], "unused", {limit: 2})
        const asked = await scout(null, "List the source files.", {limit: 5})
        return {given, asked}
    """ if js else """
        given = await scout(["x.py", "y.py", "z.py"], "unused", limit=2)
        asked = await scout(None, "List the source files.", limit=5)
        return {"given": given, "asked": asked}
    """)
    result = await run_api(sim, body, js=js)
    assert result.status == "succeeded", result.error
    given, asked = result.result["given"], result.result["asked"]
    assert given["items"] == ["x.py", "y.py"] and given["dropped"] == [{"item": "z.py", "reason": "over the limit of 2"}]
    assert asked == {"items": ["a.py", "b.py", "c.py"], "dropped": [], "failed": None}
    assert result.agents["launched"] == 1  # only the second call asked an agent


async def test_a_failed_scout_says_so_instead_of_returning_nothing_silently(
        simulator: Callable[..., SimulatorThread], run_api: Any, project: Path) -> None:
    sim = simulator([{"match": {"label": "^scope$"}, "respond": {"error": 400, "message": "refused"}}])
    result = await run_api(sim, 'return await scout([], "List the source files.")')
    assert result.result["failed"] == "the scout agent failed" and result.result["items"] == []
    assert any("the scout agent failed" in line for line in result.logs)


@pytest.mark.parametrize(("body", "error"), [
    ('await vote("", n=3)', "vote(): the claim must be a non-empty string"),
    ('await vote("x", n=0)', "vote(): n must be between 1 and 15, not 0"),
    ('await fix_loop("fix it", "", rounds=2)', "fix_loop(): the command must be a string or a list of arguments"),
    ('finding({"line": 1}, path="a.py")', "finding(): the candidate must be an object with a title and a line"),
], ids=["empty-claim", "no-skeptics", "no-command", "no-title"])
async def test_bad_arguments_are_clear_errors(simulator: Callable[..., SimulatorThread], run_api: Any,
                                             project: Path, body: str, error: str) -> None:
    result = await run_api(simulator([]), body)
    assert result.status == "failed" and error in (result.error or ""), result.error


async def test_a_js_option_the_helper_does_not_know_is_named(simulator: Callable[..., SimulatorThread], run_api: Any,
                                                            project: Path) -> None:
    result = await run_api(simulator([]), 'return await vote("x", {skeptics: 3})', js=True)
    assert result.status == "failed" and "vote(): unknown option 'skeptics'" in (result.error or ""), result.error


@pytest.mark.parametrize("js", [False, True], ids=["python", "js"])
async def test_finders_answer_in_the_candidate_shape_finding_takes(
        simulator: Callable[..., SimulatorThread], run_api: Any, project: Path, js: bool) -> None:
    candidate = {"title": "add() subtracts", "line": 5, "path": "calc.py", "fix": {"old": "a - b", "new": "a + b"}}
    sim = simulator([{"match": {"label": "^find$"}, "respond": {"json": {"findings": [candidate]}}}])
    body = ("""
        const found = await agent("Find bugs", {label: "find", schema: {type: "object", required: ["findings"],
                                  properties: {findings: {type: "array", items: CANDIDATE}}}})
        return await verdicts(await Promise.all(found.findings.map((bug) => finding(bug))), {dropped: []})
    """ if js else """
        found = await agent("Find bugs", label="find", schema={"type": "object", "required": ["findings"],
                            "properties": {"findings": {"type": "array", "items": CANDIDATE}}})
        return verdicts([finding(bug) for bug in found["findings"]], [])
    """)
    result = await run_api(sim, body, js=js)
    assert result.status == "succeeded", result.error
    sent = json.dumps(sim.server.requests[0]["body"])
    assert '\\"snippet\\"' in sent or '"snippet"' in sent  # the candidate's shape reached the model as the schema
    assert result.result["counts"] == {"candidates": 1, "confirmed": 0, "unverified": 1, "refuted": 0, "dropped": 0}
    assert result.result["unverified"][0]["location"] == {"path": "calc.py", "start_line": 5, "end_line": 5,
                                                          "snippet": None}
