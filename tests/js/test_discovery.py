"""Saved .js workflows: listed and run by name like Python ones; broken ones listed with their problem."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from workcrew.engine.cli import cli
from workcrew.engine.workflows.discovery import discover, resolve

GOOD = """export const meta = {name: 'triage', description: 'Sort the issues', whenToUse: 'Monday mornings'}
const sorted = await parallel((args?.issues ?? ['a', 'b']).map(i => () => agent(`Triage ${i}`, {label: `triage ${i}`})))
log(`${sorted.filter(Boolean).length} triaged`)
return {triaged: sorted.length}
"""
BROKEN = "export const meta = {name: 'broken', description: 'Uses the clock'}\nconst t = Date.now()\n"


def project(tmp_path: Path) -> tuple[Path, Path]:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    saved = repo / ".claude" / "workflows"
    saved.mkdir(parents=True)
    (saved / "triage.js").write_text(GOOD)
    (saved / "broken.js").write_text(BROKEN)
    (saved / "renamed.js").write_text(GOOD.replace("'triage'", "'sorted-issues'"))
    (saved / "skipped.mjs").write_text(GOOD.replace("'triage'", "'module'"))
    home = tmp_path / "home"
    (home / ".claude" / "workflows").mkdir(parents=True)
    (home / ".claude" / "workflows" / "mine.js").write_text(GOOD.replace("'triage'", "'mine'"))
    return repo, home


def test_js_workflows_are_listed_with_problems_and_warnings(tmp_path: Path) -> None:
    repo, home = project(tmp_path)
    sub = repo / "packages" / "app"
    sub.mkdir(parents=True)
    entries = {e.name: e for e in discover(sub, home=home)}
    assert {"triage", "broken", "sorted-issues", "mine"} <= set(entries)
    assert "module" not in entries  # .mjs is a near miss, not a workflow
    triage = entries["triage"]
    assert (triage.origin, triage.valid, triage.workflow.dialect) == ("project", True, "javascript")
    assert triage.workflow.meta is not None and triage.workflow.meta.when_to_use == "Monday mornings"
    assert entries["mine"].origin == "personal"
    broken = entries["broken"]
    assert not broken.valid
    assert [(p.rule, p.line) for p in broken.problems] == [("determinism", 2)]
    assert entries["sorted-issues"].warnings == [
        "renamed.js: file stem 'renamed' differs from meta.name 'sorted-issues'; run it as 'sorted-issues'"]
    assert resolve("triage", sub, home=home).path == repo / ".claude" / "workflows" / "triage.js"


def test_list_command_shows_js_workflows(tmp_path: Path) -> None:
    repo, _ = project(tmp_path)
    result = CliRunner().invoke(cli, ["list", "-C", str(repo), "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert rows["triage"]["dialect"] == "javascript"
    assert rows["broken"]["valid"] is False
    assert "Date.now() reads the clock" in rows["broken"]["problems"][0]


def test_run_a_saved_js_workflow_by_name(tmp_path: Path) -> None:
    repo, _ = project(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "workcrew.engine.cli", "run", "triage", "--args", '{"issues": ["x", "y", "z"]}',
         "--provider", "simulated", "-C", str(repo), "--state-dir", str(tmp_path / "state"), "--yes", "--json"],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["status"] == "succeeded"
    assert out["result"] == {"triaged": 3}
    assert out["agents"]["launched"] == 3
    assert out["logs"] == ["3 triaged"]


def test_running_a_broken_js_workflow_prints_its_problems(tmp_path: Path) -> None:
    repo, _ = project(tmp_path)
    result = CliRunner().invoke(cli, ["run", "broken", "-C", str(repo), "--provider", "simulated", "--yes"])
    assert result.exit_code != 0
    assert "broken.js:2:11: determinism: Date.now() reads the clock" in result.output
