"""``workcrew new``: scope from --scope, the orchestrator writes, the check decides the exit code."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from workcrew.engine.cli import cli

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def project(workspace: Path) -> Path:
    (workspace / "src").mkdir()
    (workspace / "src" / "calc.py").write_text("def mean(xs):\n    return sum(xs) / len(xs)\n")
    (workspace / "docs").mkdir()
    (workspace / "docs" / "guide.md").write_text("# Guide\n")
    (workspace / ".env").write_text("API_KEY=SUPERSECRET\n")
    return workspace


def invoke(*argv: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(argv), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_new_saves_a_checked_workflow_for_the_scope(project: Path) -> None:
    # a relative --scope that is not under the current folder is taken relative to the workspace
    assert not Path("src").exists()
    code, out, err = invoke("new", "find bugs in src", "--scope", "src", "-C", str(project),
                            "--scenario", str(FIXTURES / "author_ok.scenario.yaml"), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["ok"] is True and data["rounds"] == 1 and data["problems"] == []
    assert data["path"] == str(project / ".claude" / "workflows" / "find-bugs.py")
    assert data["args"] == {"files": ["src/calc.py"]}
    assert data["scope"]["total_files"] == 1 and data["scope"]["sources"] == ["1 path(s) in the explorer"]


def test_new_prints_the_path_and_the_check_result(project: Path) -> None:
    code, out, err = invoke("new", "find bugs", "-C", str(project),
                            "--scenario", str(FIXTURES / "author_repair.scenario.yaml"))
    assert code == 0, err
    assert f"Saved {project / '.claude' / 'workflows' / 'find-bugs.py'}" in out
    assert "2 round(s)" in out and "Check: ok" in out and "workcrew run find-bugs" in out
    assert "Scope: 2 files" in err and "secret 1" in err


def test_new_exits_2_with_the_problems_when_repairs_fail(project: Path) -> None:
    code, out, err = invoke("new", "find bugs", "-C", str(project), "--max-repairs", "1",
                            "--scenario", str(FIXTURES / "author_broken.scenario.yaml"))
    assert code == 2
    assert "1 problem(s) remain after 1 repair round(s)" in err
    assert re.search(r"find-bugs\.py:\d+:\d+: syntax: ", err)
    saved = project / ".claude" / "workflows" / "find-bugs.py"
    assert f"Saved {saved}" in out and saved.is_file()
    assert f"It will not run until they are fixed: edit {saved} by hand and run `workcrew check {saved}`" in err
    # the saved script is what `workcrew check` rejects, with the same problem
    check = CliRunner().invoke(cli, ["check", str(saved)])
    assert check.exit_code == 2 and re.search(r"find-bugs\.py:\d+:\d+: syntax: ", check.output)


def test_new_without_a_scenario_saves_a_review_that_checks_clean_and_runs(project: Path, tmp_path: Path) -> None:
    # the free first run: provider simulated, no scenario, no API key
    runner = CliRunner(env={"WORKCREW_SCENARIO": None, "ANTHROPIC_API_KEY": None})
    made = runner.invoke(cli, ["new", "find bugs", "-C", str(project), "--provider", "simulated"])
    saved = project / ".claude" / "workflows" / "find-bugs.py"
    assert made.exit_code == 0, made.stderr
    assert f"Saved {saved}" in made.stdout and "Check: ok" in made.stdout and "no cost (simulated)" in made.stdout
    assert "the built-in review pattern" in saved.read_text()
    assert runner.invoke(cli, ["check", str(saved)]).exit_code == 0
    ran = runner.invoke(cli, ["run", "find-bugs", "-C", str(project), "--provider", "simulated", "--yes", "--json",
                              "--state-dir", str(tmp_path / "state")])
    assert ran.exit_code == 0, ran.stderr
    result = json.loads(ran.stdout)["result"]
    assert result["files"] == ["docs/guide.md", "src/calc.py"] and result["reviewed"] == 2
    (found,) = result["confirmed"]  # sum(xs) / len(xs) with no guard
    assert found["location"] == {"path": "src/calc.py", "start_line": 2, "end_line": 2,
                                 "snippet": "return sum(xs) / len(xs)"}


def test_new_refuses_a_scope_of_only_secrets(project: Path) -> None:
    code, _out, err = invoke("new", "audit", "-C", str(project), "--scope", str(project / ".env"),
                             "--scenario", str(FIXTURES / "author_ok.scenario.yaml"))
    assert code == 2
    assert "nothing in scope" in err and "secret" in err
    assert not (project / ".claude").exists()


def test_new_then_run_end_to_end(project: Path, tmp_path: Path) -> None:
    scenario = str(FIXTURES / "author_ok.scenario.yaml")
    base = [sys.executable, "-m", "workcrew.engine.cli"]
    made = subprocess.run([*base, "new", "find bugs", "-C", str(project), "--scenario", scenario, "--json"],
                          capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    ran = subprocess.run([*base, "run", "find-bugs", "-C", str(project), "--scenario", scenario,
                          "--state-dir", str(tmp_path / "state"), "--yes", "--json"],
                         capture_output=True, text=True, timeout=120, cwd=project)
    assert ran.returncode == 0, ran.stderr
    result = json.loads(ran.stdout)
    assert result["status"] == "succeeded"
    assert result["result"] == {"files": ["docs/guide.md", "src/calc.py"], "confirmed": 2}
