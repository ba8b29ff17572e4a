"""Built-ins given no files work on the workspace's scope: `workcrew run review` with no --args reviews the
source files in scope (ignored, secret and test files left out), capped at max_files with the rest dropped."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from workcrew.engine import Settings
from workcrew.engine.workflows.discovery import resolve
from workcrew.engine.workflows.workflow import load_workflow
from workcrew.engine.workspace.default_scope import default_args, is_source


@pytest.fixture
def project(workspace: Path) -> Path:
    (workspace / "src").mkdir()
    (workspace / "src" / "calc.py").write_text("def mean(values):\n    return sum(values) / len(values)\n")
    (workspace / "src" / "text.py").write_text("def shout(text):\n    return text.upper()\n")
    (workspace / "app.js").write_text("export const half = (x) => x / 2;\n")
    (workspace / "tests").mkdir()
    (workspace / "tests" / "test_calc.py").write_text("def test_mean():\n    assert True\n")
    (workspace / "README.md").write_text("# Project\n")
    (workspace / ".gitignore").write_text("generated/\n")
    (workspace / "generated").mkdir()
    (workspace / "generated" / "big.py").write_text("x = 1\n")
    (workspace / ".env").write_text("API_KEY=SUPERSECRET\n")
    return workspace


SOURCES = ["app.js", "src/calc.py", "src/text.py"]


def builtin(name: str, workspace: Path) -> Any:
    return resolve(name, workspace)


def test_review_and_understand_default_to_the_source_files_in_scope(project: Path, settings: Settings) -> None:
    filled = default_args(builtin("review", project), None, settings)
    assert filled.args == {"files": SOURCES} and filled.key == "files"
    assert filled.in_scope == 6 and filled.left_out == 3  # tests/test_calc.py, README.md, .gitignore
    assert filled.note is not None and "files = 3 of the 6 file(s) in scope" in filled.note
    assert default_args(builtin("understand", project), {"question": "where?"}, settings).args == {
        "question": "where?", "modules": SOURCES}


def test_a_builtin_named_by_its_path_defaults_to_the_scope_too(project: Path, settings: Settings) -> None:
    # the editor's Saved Workflows view and Run Workflow… send the built-in's path, not its name
    by_path = resolve(str(builtin("review", project).path), project)
    assert by_path.origin == "builtin"
    assert default_args(by_path, None, settings).args == {"files": SOURCES}


def test_given_files_changes_or_a_list_are_left_alone(project: Path, settings: Settings) -> None:
    review = builtin("review", project)
    for args in ({"files": ["src/calc.py"]}, ["src/calc.py"], {"changes": {"src/calc.py": [[1, 2]]}}):
        filled = default_args(review, args, settings)
        assert filled.args == args and filled.key is None and filled.note is None
    # only the built-ins: a project workflow, even one named review, decides for itself
    (project / "mine.py").write_text('meta = {"name": "review", "description": "mine"}\nreturn args\n')
    assert default_args(load_workflow(project / "mine.py", origin="project"), None, settings).args is None
    assert default_args(builtin("fix", project), None, settings).args is None  # works on findings, not files


def test_skill_audit_defaults_to_the_skill_files(project: Path, settings: Settings) -> None:
    assert default_args(builtin("skill-audit", project), None, settings).args is None  # no skills folder
    skill = project / ".claude" / "skills" / "deploy"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text("---\nname: deploy\ndescription: d\n---\nRun make deploy.\n")
    filled = default_args(builtin("skill-audit", project), None, settings)
    assert filled.args == {"paths": [".claude/skills/deploy/SKILL.md"]}


def test_a_workspace_without_source_files_reviews_what_there_is(workspace: Path, settings: Settings) -> None:
    (workspace / "notes.md").write_text("# Notes\n")
    assert default_args(builtin("review", workspace), {}, settings).args == {"files": ["notes.md"]}


def test_what_counts_as_source() -> None:
    assert is_source("src/a.py") and is_source("web/App.tsx") and is_source("Main.java")
    assert not any(is_source(p) for p in ("tests/test_a.py", "src/a_test.go", "web/a.spec.ts", "README.md",
                                          "data.json", "Makefile", "src/conftest.py"))


def workcrew(project: Path, state: Path, *argv: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "workcrew.engine.cli", *argv, "-C", str(project), "--provider",
                           "simulated", "--state-dir", str(state), "--yes", "--json"],
                          capture_output=True, text=True, timeout=120, env=clean_env())
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def clean_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k not in ("WORKCREW_SCENARIO", "WORKCREW_PROVIDER")}


def test_run_review_with_no_args_reviews_the_files_in_scope(project: Path, tmp_path: Path) -> None:
    ran = workcrew(project, tmp_path / "state", "run", "review")
    assert ran["status"] == "succeeded"
    result = ran["result"]
    assert result["files"] == SOURCES and result["reviewed"] == len(SOURCES) and result["dropped"] == []
    # the simulated finder read each file and reported the unguarded division, which the skeptics upheld
    (found,) = result["confirmed"]
    assert found["location"]["path"] == "src/calc.py" and "(simulated)" in found["title"]


def test_past_max_files_the_rest_are_dropped_with_the_reason(project: Path, tmp_path: Path) -> None:
    ran = workcrew(project, tmp_path / "state", "run", "review", "--args", '{"max_files": 2}')
    result = ran["result"]
    assert result["files"] == SOURCES[:2] and result["reviewed"] == 2
    assert result["dropped"] == [{"item": "src/text.py", "reason": "over max_files=2"}]
    assert any("reviewing the first 2 of 3 files" in line for line in ran["logs"])
