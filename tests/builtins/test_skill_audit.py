"""The built-in `skill-audit` workflow: outdated, duplicated and conflicting skill instructions, verified."""

from __future__ import annotations

from .conftest import RunBuiltin


async def test_skill_audit_reports_outdated_duplicated_and_conflicting_instructions(run_builtin: RunBuiltin) -> None:
    run = await run_builtin("skill-audit")
    assert run.outcome.status == "succeeded", run.outcome.error
    # 3 readers + 1 comparer + 4 candidate issues x 3 skeptics
    assert run.outcome.agents["launched"] == 16 and run.outcome.agents["failed"] == 0
    found = {f["category"]: f for f in run.records.findings}
    assert set(found) == {"skill-outdated", "skill-duplicated", "skill-conflicting"}
    assert all(f["verdict"] == "confirmed" for f in found.values())
    outdated = found["skill-outdated"]
    assert outdated["location"]["path"] == ".claude/skills/testing/SKILL.md"
    assert outdated["location"]["start_line"] == 8
    assert outdated["fix"]["edits"] == [{"path": ".claude/skills/testing/SKILL.md", "old": "`make check`",
                                         "new": "`make test`"}]
    conflict = found["skill-conflicting"]
    assert conflict["severity"] == "warning"
    assert {"path": ".claude/skills/python/SKILL.md", "line": 8,
            "note": "conflicting: Indent with 4 spaces."} in conflict["evidence"]
    assert run.result["counts"] == {"candidates": 4, "confirmed": 3, "unverified": 0, "refuted": 1, "dropped": 0}
    assert run.result["affected_files"] == [".claude/skills/python/SKILL.md", ".claude/skills/style/SKILL.md",
                                            ".claude/skills/testing/SKILL.md"]

    md = run.report_md
    assert "3 confirmed issues (1 skill-conflicting, 1 skill-duplicated, 1 skill-outdated)" in md
    assert "- Line length rule conflicts with the formatter — `.claude/skills/style/SKILL.md:9`" in md
    assert "Recommended change: Say `make test` instead of `make check`." in md

    sarif = run.sarif()
    rules = {r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert rules == {"workcrew/skill-outdated", "workcrew/skill-duplicated", "workcrew/skill-conflicting"}
    outdated_result = next(r for r in sarif["runs"][0]["results"] if r["ruleId"] == "workcrew/skill-outdated")
    replacement = outdated_result["fixes"][0]["artifactChanges"][0]["replacements"][0]
    assert replacement["deletedRegion"] == {"startLine": 8, "startColumn": 28, "endLine": 8, "endColumn": 40}
    assert replacement["insertedContent"] == {"text": "`make test`"}
