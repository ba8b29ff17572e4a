"""In a git work tree the scope comes from git's listing of what it does not ignore; an approval asks for what
.gitignore leaves out too (``report_ignored``), with the reasons the walk gives."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from workcrew.engine import Settings
from workcrew.engine.workspace.scope import (
    DEFAULT,
    GITIGNORE,
    NO_GIT_VARIABLE,
    SECRET,
    ScopeRequest,
    compute_scope,
)

from .conftest import git, write

pytestmark = [pytest.mark.skipif(shutil.which("git") is None, reason="needs git"),
              pytest.mark.usefixtures("clean_git")]


def repository(root: Path) -> Settings:
    write(root, ".gitignore", "node_modules/\ngenerated/\n*.log\n.env\n")
    write(root, "src/app.py", "def main():\n    return 1\n")
    write(root, "node_modules/left-pad/index.js", "module.exports = pad;\n")
    write(root, "generated/a.py")
    write(root, "generated/deep/b.py")
    write(root, "debug.log", "started\n")
    write(root, ".env", "TOKEN=x\n")
    write(root, "notes.md", "untracked, not ignored\n")
    git(root, "init", "-q")
    git(root, "add", ".gitignore", "src/app.py")
    return Settings(workspace=root)


def test_report_ignored_counts_what_gitignore_leaves_out(tmp_path: Path) -> None:
    settings = repository(tmp_path)

    plain = compute_scope(ScopeRequest(tmp_path, whole_workspace=True), settings)
    told = compute_scope(ScopeRequest(tmp_path, whole_workspace=True, report_ignored=True), settings)

    assert plain.paths == told.paths == [".gitignore", "notes.md", "src/app.py"]
    assert plain.excluded_counts == {}  # git's listing says nothing of what it ignores
    # an ignored folder is counted once, as the walk counts a pruned folder, with the walk's reason
    assert told.excluded == {DEFAULT: ["node_modules/"], GITIGNORE: ["debug.log", "generated/"], SECRET: [".env"]}
    assert told.excluded_counts == {DEFAULT: 1, GITIGNORE: 2, SECRET: 1} and told.notes == []


def test_report_ignored_agrees_with_the_walk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = repository(tmp_path)
    told = compute_scope(ScopeRequest(tmp_path, whole_workspace=True, report_ignored=True), settings)
    monkeypatch.setenv(NO_GIT_VARIABLE, "1")
    walked = compute_scope(ScopeRequest(tmp_path, whole_workspace=True, report_ignored=True), settings)

    assert walked.paths == told.paths
    walked.excluded[DEFAULT].remove(".git/")  # the walk meets the repository's own folder; git never lists it
    walked.excluded_counts[DEFAULT] -= 1
    assert {k: sorted(v) for k, v in walked.excluded.items()} == {k: sorted(v) for k, v in told.excluded.items()}
    assert walked.excluded_counts == told.excluded_counts
