"""Saving a run's script and finding workflows again: built-in < personal < project, closest folder wins."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from workcrew.engine.cli import cli
from workcrew.engine.workflows.discovery import discover, resolve

SCRIPT = '''meta = {"name": "count-files", "description": "Count the files it is given"}
log(f"counting {len(args['files'])} files")
return {"count": len(args["files"])}
'''


def git_repo(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    return folder


def workflow_file(folder: Path, name: str, description: str, body: str = "return 1") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.py"
    path.write_text(f'meta = {{"name": "{name}", "description": "{description}"}}\n{body}\n')
    return path



class Workcrew:
    def __init__(self, workspace: Path, state: Path) -> None:
        self.workspace, self.state = workspace, state

    def __call__(self, *argv: str) -> Result:
        return CliRunner().invoke(cli, list(argv), catch_exceptions=False)

    def run(self, target: str, args: Any) -> dict[str, Any]:
        done = self("run", target, "--args", json.dumps(args), "-C", str(self.workspace),
                    "--state-dir", str(self.state), "--yes", "--json")
        assert done.exit_code == 0, done.output
        out: dict[str, Any] = json.loads(done.stdout)
        return out

    def save(self, run_id: str, *flags: str) -> Result:
        return self("save", run_id, "-C", str(self.workspace), "--state-dir", str(self.state), *flags)


@pytest.fixture
def workcrew(tmp_path: Path, home: Path) -> Workcrew:
    return Workcrew(git_repo(tmp_path / "repo"), tmp_path / "state")


def test_save_then_rerun_by_name(workcrew: Workcrew, home: Path) -> None:
    script = workcrew.workspace / "scratch.py"
    script.write_text(SCRIPT)
    first = workcrew.run(str(script), {"files": ["a", "b"]})
    saved = workcrew.save(first["run_id"])
    assert saved.exit_code == 0, saved.output
    target = workcrew.workspace / ".claude" / "workflows" / "count-files.py"
    assert target.read_text() == SCRIPT
    assert f"saved project workflow 'count-files' to {target}" in saved.output
    assert """run it again with: workcrew run count-files --args '{"files": ["a", "b"]}'""" in saved.output
    again = workcrew.run("count-files", {"files": ["x", "y", "z"]})
    assert again["status"] == "succeeded" and again["result"] == {"count": 3}
    assert not (home / ".claude").exists()


def test_save_refuses_to_overwrite_a_different_script(workcrew: Workcrew) -> None:
    script = workcrew.workspace / "scratch.py"
    script.write_text(SCRIPT)
    run_id = workcrew.run(str(script), {"files": []})["run_id"]
    assert workcrew.save(run_id).exit_code == 0
    same = workcrew.save(run_id)
    assert same.exit_code == 0 and "already holds this script" in same.output
    target = workcrew.workspace / ".claude" / "workflows" / "count-files.py"
    target.write_text(SCRIPT.replace("Count the files", "Count files, edited by hand"))
    refused = workcrew.save(run_id)
    assert refused.exit_code == 2
    assert "already exists with a different script" in refused.output and "--name" in refused.output
    assert "edited by hand" in target.read_text()
    renamed = workcrew.save(run_id, "--name", "Count Again")
    assert renamed.exit_code == 0, renamed.output
    other = workcrew.workspace / ".claude" / "workflows" / "count-again.py"
    assert other.read_text().startswith('meta = {"name": \'count-again\', "description"')
    assert resolve("count-again", workcrew.workspace).problems == []
    forced = workcrew.save(run_id, "--force")
    assert forced.exit_code == 0 and target.read_text() == SCRIPT


def test_save_personal_goes_to_home_and_project_wins_over_it(workcrew: Workcrew, home: Path) -> None:
    script = workcrew.workspace / "scratch.py"
    script.write_text(SCRIPT)
    run_id = workcrew.run(str(script), {"files": []})["run_id"]
    saved = workcrew.save(run_id, "--personal")
    assert saved.exit_code == 0, saved.output
    personal = home / ".claude" / "workflows" / "count-files.py"
    assert personal.read_text() == SCRIPT
    entry = next(e for e in discover(workcrew.workspace) if e.name == "count-files")
    assert entry.origin == "personal"
    project = workflow_file(workcrew.workspace / ".claude" / "workflows", "count-files", "project copy")
    entry = next(e for e in discover(workcrew.workspace) if e.name == "count-files")
    assert entry.origin == "project" and entry.path == project
    assert [e.path for e in entry.shadowed] == [personal]
    assert any("overrides the personal workflow" in w for w in entry.warnings)


def test_project_beats_personal_beats_builtin(tmp_path: Path, home: Path) -> None:
    repo = git_repo(tmp_path / "repo")
    assert next(e for e in discover(repo) if e.name == "review").origin == "builtin"
    workflow_file(home / ".claude" / "workflows", "review", "my review")
    assert next(e for e in discover(repo) if e.name == "review").origin == "personal"
    workflow_file(repo / ".claude" / "workflows", "review", "team review")
    winner = next(e for e in discover(repo) if e.name == "review")
    assert winner.origin == "project" and winner.workflow.meta is not None
    assert winner.workflow.meta.description == "team review"
    assert [e.origin for e in winner.shadowed] == ["builtin", "personal"]


def test_closest_project_folder_wins_and_the_walk_stops_at_the_repository_root(tmp_path: Path, home: Path) -> None:
    repo = git_repo(tmp_path / "outer" / "repo")
    workflow_file(tmp_path / "outer" / ".claude" / "workflows", "above", "outside the repository")
    workflow_file(repo / ".claude" / "workflows", "shared", "from the root")
    workflow_file(repo / ".claude" / "workflows", "tool", "root version")
    workflow_file(repo / "pkg" / ".claude" / "workflows", "tool", "package version")
    workspace = repo / "pkg" / "src"
    workspace.mkdir(parents=True)
    found = {e.name: e for e in discover(workspace)}
    assert "above" not in found
    assert found["shared"].origin == "project"
    assert found["tool"].workflow.meta is not None and found["tool"].workflow.meta.description == "package version"
    # saving goes to the closest existing folder
    from workcrew.engine.workflows.discovery import save_target

    assert save_target(workspace) == repo / "pkg" / ".claude" / "workflows"


def test_invalid_saved_workflows_are_listed_with_their_problem(workcrew: Workcrew) -> None:
    folder = workcrew.workspace / ".claude" / "workflows"
    folder.mkdir(parents=True)
    (folder / "broken.py").write_text('meta = {"name": "broken", "description": "x"}\nimport os\nreturn 1\n')
    (folder / "nometa.py").write_text("return 1\n")
    listed = workcrew("list", "-C", str(workcrew.workspace), "--json")
    assert listed.exit_code == 0, listed.output
    entries = {e["name"]: e for e in json.loads(listed.stdout)}
    assert entries["broken"]["valid"] is False and entries["broken"]["origin"] == "project"
    assert "broken.py:2:1: determinism: module 'os'" in entries["broken"]["problems"][0]
    assert entries["nometa"]["valid"] is False and "meta" in entries["nometa"]["problems"][0]
    assert {"review", "fix", "migrate", "skill-audit", "understand"} <= set(entries)
    assert all(entries[n]["valid"] and entries[n]["when_to_use"] for n in ("review", "fix", "migrate",
                                                                           "skill-audit", "understand"))
    assert entries["skill-audit"]["warnings"] == []
    assert set(entries["review"]["args"]) == {"files", "focus", "skeptics", "max_files", "changes"}
    ran = workcrew("run", "broken", "-C", str(workcrew.workspace), "--state-dir", str(workcrew.state), "--yes")
    assert ran.exit_code == 2 and "broken.py:2" in ran.output


def test_builtins_document_their_args() -> None:
    for name in ("review", "fix", "migrate", "skill-audit", "understand"):
        workflow = resolve(name, Path.cwd())
        assert not workflow.problems and workflow.meta is not None and workflow.meta.args, name
        assert all(isinstance(v, str) and v for v in workflow.meta.args.values())


def test_rename_changes_only_the_meta_name() -> None:
    from workcrew.engine.workflows.discovery import rename_meta

    js = "export const meta = {name: 'scratch', description: 'x'}\nconst label = 'scratch'\n"
    assert rename_meta(js, "javascript", "scratch", "kept") == (
        "export const meta = {name: \"kept\", description: 'x'}\nconst label = 'scratch'\n")
    py = 'meta = {\n    "name": "scratch",\n    "description": "x",\n}\nlog("scratch")\n'
    assert rename_meta(py, "python", "scratch", "kept") == (
        "meta = {\n    \"name\": 'kept',\n    \"description\": \"x\",\n}\nlog(\"scratch\")\n")


def test_saving_a_builtin_run_says_what_it_overrides(workcrew: Workcrew) -> None:
    run_id = workcrew.run("understand", {"modules": ["a.py"]})["run_id"]
    saved = workcrew.save(run_id)
    assert saved.exit_code == 0, saved.output
    assert "overrides the builtin workflow 'understand'" in saved.stderr
    entry = next(e for e in discover(workcrew.workspace) if e.name == "understand")
    assert entry.origin == "project" and entry.path.parent == workcrew.workspace / ".claude" / "workflows"
