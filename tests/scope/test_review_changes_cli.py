"""`workcrew review-changes`: the scope printed before the approval, the built-in review over the changed
lines, and nothing run when nothing changed."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from workcrew.engine.cli import cli

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

CODE = "def f(x):\n    return x\n\n\ndef g(y):\n    a = 1\n    return y / a\n"
SCENARIO = {"rules": [
    {"match": {"label": "^find code\\.py$"}, "respond": {"json": {"findings": [
        {"title": "g() divides by zero", "line": 7, "snippet": "return y / a"},
        {"title": "f() returns its argument", "line": 2, "snippet": "return x"}]}}},
    {"match": {"label": "^verify "}, "respond": {"json": {"refuted": False, "reason": "checked"}}},
]}


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("WORKCREW_STATE_DIR", raising=False)
    for name, value in (("GIT_AUTHOR_NAME", "t"), ("GIT_AUTHOR_EMAIL", "t@example.com"),
                        ("GIT_COMMITTER_NAME", "t"), ("GIT_COMMITTER_EMAIL", "t@example.com")):
        monkeypatch.setenv(name, value)
    root = tmp_path / "repo"
    root.mkdir()
    (root / "code.py").write_text(CODE)
    for argv in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "first"]):
        subprocess.run(["git", *argv], cwd=root, check=True, capture_output=True)
    (tmp_path / "scenario.json").write_text(json.dumps(SCENARIO))
    return root


def invoke(repo: Path, *argv: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["review-changes", "-C", str(repo), "--provider", "simulated",
                                      "--scenario", str(repo.parent / "scenario.json"),
                                      "--state-dir", str(repo.parent / "state"), *argv], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_nothing_changed_runs_nothing(repo: Path) -> None:
    code, out, _ = invoke(repo, "--yes")
    assert code == 0
    assert out.strip() == ("No changes to review: nothing differs in the uncommitted changes (staged, unstaged "
                           "and untracked files).")
    assert not (repo.parent / "state").exists()


def test_the_scope_is_printed_before_the_approval(repo: Path) -> None:
    (repo / "code.py").write_text(CODE.replace("a = 1", "a = 0"))
    code, _, err = invoke(repo)
    assert code == 0
    scope = err.index("Review Changes: 1 file, 1 changed line in the uncommitted changes")
    assert "  code.py: modified, lines 6" in err
    assert scope < err.index("estimate: 4 agents")  # the approval step shows the estimate (the simulated model is free)


def test_the_review_looks_at_the_changed_function_and_sets_the_rest_aside(repo: Path) -> None:
    (repo / "code.py").write_text(CODE.replace("a = 1", "a = 0"))
    code, out, _ = invoke(repo, "--yes", "--json", "--args", '{"skeptics": 1}')
    assert code == 0
    outcome = json.loads(out)
    assert outcome["status"] == "succeeded" and outcome["agents"]["launched"] == 2  # a finder, one skeptic
    result = outcome["result"]
    assert [f["title"] for f in result["confirmed"]] == ["g() divides by zero"]
    assert result["outside_changes"] == [{
        "path": "code.py", "line": 2, "title": "f() returns its argument",
        "reason": "line 2 is outside the changed lines and the functions around them (5-7)"}]
    code, _, err = invoke(repo, "--base", "main", "--uncommitted")
    assert code == 2 and "give --base BRANCH or --uncommitted, not both" in err
