"""The built-in `fix` and `migrate` workflows: patches made in worktrees, judged by the project's tests."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from .conftest import FIXTURES, RunBuiltin


@pytest.fixture(autouse=True)
def python_with_pytest(monkeypatch: pytest.MonkeyPatch) -> None:
    # check("python -m pytest ...") must find an interpreter that has pytest: this one
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    # the fixture projects need no plugins; loading this venv's (LSP, browsers) costs seconds per check
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


@pytest.mark.parametrize("http", [False, True], ids=["in-process", "sdk-over-http"])
async def test_fix_patches_pass_the_tests_and_failures_go_back_to_a_fixer(run_builtin: RunBuiltin, http: bool) -> None:
    run = await run_builtin("fix", http=http)
    assert run.outcome.status == "succeeded", run.outcome.error
    # stats: 1 round; parse: round 1 fails the tests, round 2 passes
    assert run.outcome.agents == {"launched": 3, "succeeded": 3, "failed": 0, "cached": 0, "running": 0}
    assert run.result["counts"] == {"findings": 3, "fixed": 2, "unfixed": 0, "dropped": 1}
    rounds = {f["location"]["path"]: f["rounds"] for f in run.result["fixed"]}
    assert rounds == {"stats.py": 1, "parse.py": 2}
    parse = next(f for f in run.result["fixed"] if f["location"]["path"] == "parse.py")
    assert parse["attempts"][0]["exit_code"] == 1 and "1 failed, 2 passed" in parse["attempts"][0]["outcome"]
    assert parse["check"] == "exit 0, 3 passed"

    findings = {f["location"]["path"]: f for f in run.records.findings}
    assert set(findings) == {"stats.py", "parse.py"}
    stats_fix = findings["stats.py"]["fix"]
    assert {e["path"] for e in stats_fix["edits"]} == {"stats.py", "test_stats.py"}
    assert "+        return 0.0" in stats_fix["diff"]
    assert stats_fix["title"] == "average() returns 0.0 for an empty list"
    assert stats_fix["evidence"] == [{"path": None, "line": None,
                                      "note": "`python -m pytest -q -p no:cacheprovider`: exit 0, 3 passed"}]
    assert "round 1: exit 0, 3 passed" in findings["stats.py"]["evidence"][-1]["note"]
    assert "round 1: exit 1, 1 failed, 2 passed; round 2: exit 0, 3 passed" in findings["parse.py"]["evidence"][-1]["note"]
    # the user's files are untouched until they accept a fix
    assert (run.workspace / "stats.py").read_text() == (FIXTURES / "fix" / "workspace" / "stats.py").read_text()

    md = run.report_md
    assert "Fixed 2 of 2 findings with patches that pass `python -m pytest -q -p no:cacheprovider`" in md
    assert "- `parse.py:11 parse_pairs() may mis-split values containing '='`: not fixed: its verdict is unverified" in md
    assert "+        return 0.0" in md

    sarif = run.sarif()
    for result in sarif["runs"][0]["results"]:
        paths = {c["artifactLocation"]["uri"] for c in result["fixes"][0]["artifactChanges"]}
        assert paths in ({"stats.py", "test_stats.py"}, {"parse.py", "test_parse.py"})


async def test_fix_offers_no_patch_when_every_round_fails_the_tests(run_builtin: RunBuiltin) -> None:
    args = json.loads((FIXTURES / "fix" / "args.json").read_text())
    args["findings"] = args["findings"][1:2]
    args["max_rounds"] = 1
    run = await run_builtin("fix", args=args)
    assert run.result["counts"] == {"findings": 1, "fixed": 0, "unfixed": 1, "dropped": 0}
    (finding,) = run.records.findings
    assert finding["fix"] is None and finding["verdict"] == "confirmed"
    assert "no patch offered: none passed" in run.report_md
    assert "fixes" not in run.sarif()["runs"][0]["results"][0]


async def test_migrate_transforms_each_file_and_verifies_it(run_builtin: RunBuiltin) -> None:
    run = await run_builtin("migrate")
    assert run.outcome.status == "succeeded", run.outcome.error
    counts = run.result["counts"]
    assert counts == {"files": 3, "migrated": 1, "unverified": 1, "rejected": 1, "dropped": 0}
    assert run.result["migrated"] == [{"path": "app/jobs.py", "summary": "log.warn -> log.warning (1 site)"}]
    assert run.result["rejected"][0]["path"] == "app/cleanup.py"
    assert "failed (exit 1)" in run.result["rejected"][0]["reason"]

    findings = {f["location"]["path"]: f for f in run.records.findings}
    assert findings["app/jobs.py"]["verdict"] == "confirmed"
    (edit,) = findings["app/jobs.py"]["fix"]["edits"]
    assert edit["path"] == "app/jobs.py"
    assert "log.warn(" in edit["old"] and "log.warning(" in edit["new"] and "log.warn(" not in edit["new"]
    assert findings["app/sync.py"]["verdict"] == "unverified" and findings["app/sync.py"]["fix"] is None
    assert "app/cleanup.py" not in findings

    md = run.report_md
    assert "Findings: 2 reported — 1 confirmed, 1 unverified, 0 refuted." in md
    assert "- `app/cleanup.py`: rejected: `python -m pytest -q -p no:cacheprovider` failed (exit 1)" in md
    assert "| review app/sync.py | Verify | api |" in md
    sarif = run.sarif()
    jobs = next(r for r in sarif["runs"][0]["results"] if r["properties"]["verdict"] == "confirmed")
    region = jobs["fixes"][0]["artifactChanges"][0]["replacements"][0]["deletedRegion"]
    assert region["startLine"] == 8


async def test_fix_says_why_when_the_check_command_is_not_allowed(run_builtin: RunBuiltin) -> None:
    args = json.loads((FIXTURES / "fix" / "args.json").read_text())
    args["findings"] = args["findings"][:1]
    args["test_command"] = "tox -q"
    run = await run_builtin("fix", args=args)
    assert run.result["counts"]["fixed"] == 0
    (attempt,) = run.result["unfixed"][0]["attempts"]
    assert "the check could not run" in attempt["outcome"] and "command_allowlist" in attempt["outcome"]
    assert run.outcome.agents["launched"] == 1  # no point retrying a check that cannot run
