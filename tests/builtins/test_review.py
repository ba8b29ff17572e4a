"""The built-in `review` workflow end to end on its fixture, and its honest accounting under failures."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import BuiltinRun, RunBuiltin, fixture_scenario


def by_title(run: BuiltinRun) -> dict[str, dict[str, Any]]:
    return {f["title"]: f for f in run.records.findings}


@pytest.mark.parametrize("http", [False, True], ids=["in-process", "sdk-over-http"])
async def test_review_confirms_by_majority_and_reports_files_verdicts_and_fixes(run_builtin: RunBuiltin,
                                                                               http: bool) -> None:
    run = await run_builtin("review", http=http)
    assert run.outcome.status == "succeeded", run.outcome.error
    # 3 finders + 3 findings x 3 skeptics
    assert run.outcome.agents["launched"] == 12 and run.outcome.agents["failed"] == 0
    findings = by_title(run)
    assert set(findings) == {"average() divides by zero on an empty list", "parse_pairs() skips the last line"}
    assert {f["verdict"] for f in findings.values()} == {"confirmed"}
    assert findings["parse_pairs() skips the last line"]["votes"] == {"confirm": 3, "refute": 0, "missing": 0}
    assert run.result["counts"] == {"candidates": 3, "confirmed": 2, "unverified": 0, "refuted": 1, "dropped": 0}
    assert [r["title"] for r in run.result["refuted"]] == ["last_word() crashes on an empty sentence"]

    md = run.report_md
    assert "Findings: 2 reported — 2 confirmed, 0 unverified, 1 refuted." in md
    assert "Agents: 12 launched, 12 succeeded, 0 failed." in md
    assert "| `calc.py` | 1 | 1 | 0 | 0 | 1 |" in md and "| `parse.py` | 1 | 1 | 0 | 0 | 1 |" in md
    assert "`util.py`" not in md.split("## Findings")[0]
    assert "- last_word() crashes on an empty sentence — `parse.py:18` (votes: 0 upheld, 3 refuted, 0 missing): the conditional expression guards the empty case" in md
    assert "+    return sum(values) / len(values) if values else 0.0" in md
    assert "| Find | 3 | 3 | 0 |" in md and "| Verify | 9 | 9 | 0 |" in md

    sarif = run.sarif()  # validates against the official schema
    results = sarif["runs"][0]["results"]
    assert len(results) == 2 and {r["level"] for r in results} == {"error", "warning"}
    calc = next(r for r in results if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "calc.py")
    assert calc["properties"]["verdict"] == "confirmed"
    change = calc["fixes"][0]["artifactChanges"][0]
    assert change["replacements"][0]["deletedRegion"] == {"startLine": 5, "startColumn": 1, "endLine": 5,
                                                          "endColumn": 37}
    assert change["replacements"][0]["insertedContent"]["text"].endswith("if values else 0.0")


@pytest.mark.parametrize("http", [False, True], ids=["in-process", "sdk-over-http"])
async def test_missing_votes_make_findings_unverified_and_failed_agents_are_reported(run_builtin: RunBuiltin,
                                                                                    http: bool) -> None:
    rules = fixture_scenario("review")["rules"]
    faults = [
        # two of calc.py's three skeptics fail: one HTTP 500, one times out -> 1 upheld, 2 missing
        {"match": {"label": "^verify calc\\.py:5#1"}, "respond": {"error": 500, "retry_after": 0}},
        {"match": {"label": "^verify calc\\.py:5#2"}, "respond": {"json": {"refuted": False, "reason": "late"}},
         "latency_ms": 5000},
        # one parse.py skeptic fails: 2 upheld still decide it (a majority of the 3 launched)
        {"match": {"label": "^verify parse\\.py:7#0"}, "respond": {"error": 500, "retry_after": 0}},
        # util.py's finder fails: the file is reported as not reviewed
        {"match": {"label": "^find util"}, "respond": {"error": 500, "retry_after": 0}},
    ]
    run = await run_builtin("review", scenario={"rules": faults + rules}, api_retries=1, agent_timeout_s=0.5, http=http)
    assert run.outcome.status == "succeeded", run.outcome.error
    findings = by_title(run)
    calc = findings["average() divides by zero on an empty list"]
    assert calc["verdict"] == "unverified" and calc["severity"] == "info"
    assert calc["votes"] == {"confirm": 1, "refute": 0, "missing": 2}
    assert findings["parse_pairs() skips the last line"]["verdict"] == "confirmed"
    assert findings["parse_pairs() skips the last line"]["votes"] == {"confirm": 2, "refute": 0, "missing": 1}
    assert run.result["counts"]["confirmed"] == 1 and run.result["counts"]["unverified"] == 1
    assert run.result["dropped"][0]["item"] == "util.py"

    md = run.report_md
    assert "Findings: 2 reported — 1 confirmed, 1 unverified, 1 refuted." in md
    assert "Agents: 12 launched, 8 succeeded, 4 failed." in md
    unverified = md.split("### Unverified findings (1)")[1].split("### Refuted")[0]
    assert "average() divides by zero" in unverified and "1 upheld, 0 refuted, 2 missing" in unverified
    confirmed = md.split("## Findings")[1].split("## Unverified")[0]
    assert "average() divides by zero" not in confirmed
    (dropped,) = [line for line in md.splitlines() if line.startswith("- `util.py`: not reviewed: find util.py: ")]
    assert "simulated HTTP 500" in dropped
    failed = md.split("### Failed agents (4)")[1].split("## Cost")[0]
    assert "| verify calc.py:5#2 | Verify | timeout | timed out after 0.5 s |" in failed
    (finder,) = [line for line in failed.splitlines() if "| find util.py | Find | api |" in line]
    assert "simulated HTTP 500" in finder and "(gave up after 2 attempts)" in finder

    sarif = run.sarif()
    levels = {r["properties"]["verdict"]: (r.get("kind"), r["level"]) for r in sarif["runs"][0]["results"]}
    assert levels == {"confirmed": (None, "warning"), "unverified": ("review", "none")}
    notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert sum("failed" in n["message"]["text"] for n in notes) == 4


async def test_a_scout_lists_the_files_and_a_cap_is_reported_never_silent(run_builtin: RunBuiltin) -> None:
    scout = {"match": {"label": "^scope$"}, "respond": {"json": {"files": ["calc.py", "parse.py", "util.py"]}}}
    run = await run_builtin("review", scenario={"rules": [scout, *fixture_scenario("review")["rules"]]},
                            args={"max_files": 2})
    assert run.result["files"] == ["calc.py", "parse.py"]
    assert run.result["dropped"] == [{"item": "util.py", "reason": "over max_files=2"}]
    assert "reviewing the first 2 of 3 files; 1 dropped (raise max_files)" in run.records.logs
    assert "- `util.py`: over max_files=2" in run.report_md
    assert run.outcome.agents["launched"] == 1 + 2 + 9
