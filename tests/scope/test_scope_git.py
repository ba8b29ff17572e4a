"""Scope in a git work tree: git's listing plus the index (the fast path) against the Python walk."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from workcrew.engine import Settings
from workcrew.engine.workspace import git_index, walk
from workcrew.engine.workspace.scope import (
    BINARY,
    DEFAULT,
    NO_GIT_VARIABLE,
    SECRET,
    SYMLINK_OUTSIDE,
    TOO_LARGE,
    VIRTUALENV,
    Scope,
    ScopeRequest,
    compute_scope,
)

from .conftest import git, write

pytestmark = [pytest.mark.skipif(shutil.which("git") is None, reason="needs git"),
              pytest.mark.usefixtures("clean_git")]




def both(monkeypatch: pytest.MonkeyPatch, settings: Settings, *, expect_git: bool = True) -> tuple[Scope, Scope]:
    """(git path, walk) for the whole workspace; checks that the git path was (or was not) taken."""
    taken: list[bool] = []
    original = walk.Collector.git_walk

    def spy(self: walk.Collector) -> bool:
        taken.append(original(self))
        return taken[-1]

    with monkeypatch.context() as patch:
        patch.setattr(walk.Collector, "git_walk", spy)
        fast = compute_scope(ScopeRequest(settings.workspace, whole_workspace=True), settings)
    assert taken == [expect_git]
    with monkeypatch.context() as patch:
        patch.setenv(NO_GIT_VARIABLE, "1")
        slow = compute_scope(ScopeRequest(settings.workspace, whole_workspace=True), settings)
    return fast, slow


def listed(scope: Scope) -> list[tuple[str, int, int]]:
    return [(f.path, f.bytes, f.tokens) for f in scope.files]


def mixed_tree(root: Path) -> None:
    """Every kind of file the rules care about, with nested ignore files."""
    write(root, ".gitignore", "*.log\n/generated/\n**/cache/\n!keep.log\n")
    write(root, "src/.gitignore", "*.bak\n!important.bak\n")
    for rel in ["src/app.py", "src/pkg/mod.py", "src/notes.bak", "src/important.bak", "src/run.log",
                "src/keep.log", "src/pkg/cache/c.txt", "generated/g.py", "docs/readme.md", "README",
                "Makefile", "web/app.min.js", "dist/out.js", "node_modules/lib/index.js", "__init__.py",
                "deep/a/b/c/d.py", "empty.txt"]:
        write(root, rel, "" if rel == "empty.txt" else f"# {rel}\n")
    write(root, "logo.png", b"\x89PNG\r\n\x1a\n\0\0")
    write(root, "blob", b"\x7fELF\0\0\x01binary")
    write(root, "notes.tmp", "text without a known extension\n")
    write(root, "data/big.csv", "a,b\n" * 50)
    write(root, ".env", "API_KEY=1\n")
    write(root, "config/.env.production", "API_KEY=1\n")
    write(root, "keys/id_rsa", "-----BEGIN KEY-----\n")
    write(root, "home/.aws/credentials", "[default]\n")
    write(root, "tools/venv2/pyvenv.cfg", "home = /usr\n")
    write(root, "tools/venv2/lib/site.py")
    write(root, "fixtures/big.json", "{}")


def test_the_git_path_finds_what_the_walk_finds(workspace: Path, settings: Settings,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings.model_copy(update={"max_file_bytes": 150, "excludes": ["fixtures/"]})
    mixed_tree(workspace)
    git(workspace, "init", "-q")
    fast, slow = both(monkeypatch, settings, expect_git=False)  # nothing tracked: git would not help
    assert listed(fast) == listed(slow)
    git(workspace, "add", "src/app.py")  # one tracked file: every other file comes from --others
    fast, slow = both(monkeypatch, settings)
    assert listed(fast) == listed(slow)
    assert "src/app.py" in fast.paths and "empty.txt" in fast.paths and "notes.tmp" in fast.paths
    git(workspace, "add", "-A")  # staged: paths, modes and sizes from the index (version 2)
    fast, slow = both(monkeypatch, settings)
    assert listed(fast) == listed(slow)
    for reason in (BINARY, TOO_LARGE, SECRET, VIRTUALENV):
        assert sorted(fast.excluded[reason]) == sorted(slow.excluded[reason]), reason
    assert set(fast.excluded[BINARY]) == {"logo.png", "blob"}
    assert fast.excluded[TOO_LARGE] == ["data/big.csv"]
    assert fast.excluded[VIRTUALENV] == ["tools/venv2/"]
    assert {"web/app.min.js", "dist/"} <= set(fast.excluded[DEFAULT])


def test_index_version_3_and_4(workspace: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    mixed_tree(workspace)
    git(workspace, "init", "-q")
    git(workspace, "add", "-A")
    write(workspace, "later.py", "print('added with intent')\n")
    git(workspace, "add", "-N", "later.py")  # intent-to-add: an extended flag, so index version 3
    write(workspace, "src/pkg/local.py", "a = 1\n")
    git(workspace, "add", "src/pkg/local.py")
    git(workspace, "update-index", "--skip-worktree", "src/pkg/local.py")  # skipped, yet in the work tree
    assert (workspace / ".git" / "index").read_bytes()[4:8] == b"\0\0\0\3"
    fast, slow = both(monkeypatch, settings)
    assert listed(fast) == listed(slow)
    assert ("later.py", 27, 7) in listed(fast) and "src/pkg/local.py" in fast.paths
    git(workspace, "update-index", "--index-version", "4")  # compressed paths: not read, so the walk
    fast, slow = both(monkeypatch, settings, expect_git=False)
    assert listed(fast) == listed(slow)


def test_a_damaged_index_falls_back_to_the_walk(workspace: Path, settings: Settings,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    mixed_tree(workspace)
    git(workspace, "init", "-q")
    git(workspace, "add", "-A")
    index = workspace / ".git" / "index"
    index.write_bytes(index.read_bytes()[:-30])
    fast, slow = both(monkeypatch, settings, expect_git=False)
    assert listed(fast) == listed(slow) and "src/app.py" in fast.paths


def test_a_workspace_below_the_repository_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    write(repo, ".gitignore", "*.gen.py\nbuild-out/\n")
    git(repo, "init", "-q")
    write(repo, ".git/info/exclude", "private-notes.md\n")
    workspace = repo / "packages" / "app"
    for rel in ["private-notes.md", "model.gen.py", "model.py", "build-out/x.py", "sub/y.py", "sub/z.gen.py"]:
        write(workspace, rel)
    write(repo, "packages/other/o.py")
    write(repo, "top.py")
    git(repo, "add", "-A")
    write(workspace, "untracked.py")
    settings = Settings(workspace=workspace)
    fast, slow = both(monkeypatch, settings)
    assert fast.paths == slow.paths == ["model.py", "sub/y.py", "untracked.py"]
    assert listed(fast) == listed(slow)


def test_tracked_symlinks_submodules_and_nested_repositories(workspace: Path, tmp_path: Path, settings: Settings,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    outside = write(tmp_path / "outside", "passwords.txt", "hunter2\n")
    write(workspace, "real.py")
    (workspace / "escape.txt").symlink_to(outside)
    (workspace / "escape-dir").symlink_to(outside.parent, target_is_directory=True)
    (workspace / "alias.py").symlink_to(workspace / "real.py")
    (workspace / "loop").symlink_to(workspace, target_is_directory=True)
    nested = workspace / "vendor" / "lib"
    write(nested, "lib.py", "y = 2\n")
    write(nested, ".gitignore", "*.o\n")
    write(nested, "lib.o", "object\n")
    git(nested, "init", "-q")
    git(nested, "add", "-A")
    git(nested, "commit", "-q", "-m", "lib")
    other = workspace / "other-repo"
    write(other, "o.py")
    git(other, "init", "-q")  # untracked: git lists "other-repo/" and does not look inside
    git(workspace, "init", "-q")
    git(workspace, "add", "real.py", "escape.txt", "escape-dir", "alias.py", "loop", "vendor/lib")  # a gitlink
    assert "160000" in git(workspace, "ls-files", "-s", "vendor/lib")
    fast, slow = both(monkeypatch, settings)
    assert listed(fast) == listed(slow)
    assert fast.paths == ["alias.py", "other-repo/o.py", "real.py", "vendor/lib/.gitignore", "vendor/lib/lib.py"]
    assert set(fast.excluded[SYMLINK_OUTSIDE]) == {"escape.txt", "escape-dir"}


def test_a_sha256_repository(workspace: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    mixed_tree(workspace)
    made = subprocess.run(["git", "init", "-q", "--object-format=sha256"], cwd=workspace, capture_output=True)
    if made.returncode != 0:
        pytest.skip("this git cannot make SHA-256 repositories")
    git(workspace, "add", "-A")
    fast, slow = both(monkeypatch, settings)
    assert listed(fast) == listed(slow)


def test_git_path_rules_that_differ_from_the_walk(workspace: Path, settings: Settings,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Tracked files are in scope even when ignored (as in git); staged sizes; gone empty files left out."""
    write(workspace, ".gitignore", "*.out\n")
    write(workspace, "forced.out", "tracked anyway\n")
    write(workspace, "app.py", "x = 1\n")
    write(workspace, "gone.py", "")
    write(workspace, "node_modules/lib/index.js")  # default-excluded even when tracked
    git(workspace, "init", "-q")
    git(workspace, "add", "-A")
    git(workspace, "add", "-f", "forced.out", "node_modules/lib/index.js")
    (workspace / "gone.py").unlink()
    fast, slow = both(monkeypatch, settings)
    assert fast.paths == [".gitignore", "app.py", "forced.out"]
    assert slow.paths == [".gitignore", "app.py"]
    assert DEFAULT in fast.excluded_counts


def test_an_unmerged_path_is_listed_once_with_its_work_tree_size(workspace: Path, settings: Settings,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    write(workspace, "a.txt", "base\n")
    git(workspace, "init", "-q", "-b", "main")
    git(workspace, "add", "-A")
    git(workspace, "commit", "-q", "-m", "base")
    git(workspace, "checkout", "-q", "-b", "other")
    write(workspace, "a.txt", "other side\n")
    git(workspace, "commit", "-q", "-am", "other")
    git(workspace, "checkout", "-q", "main")
    write(workspace, "a.txt", "main side\n")
    git(workspace, "commit", "-q", "-am", "main")
    subprocess.run(["git", "merge", "other"], cwd=workspace, capture_output=True)  # conflicts: stages 1-3
    assert len(git(workspace, "ls-files", "-s", "a.txt").splitlines()) == 3
    fast, slow = both(monkeypatch, settings)
    assert listed(fast) == listed(slow)
    assert fast.paths == ["a.txt"] and fast.files[0].bytes == (workspace / "a.txt").stat().st_size


def test_tracked_virtualenvs_are_found_in_the_raw_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pyvenv.cfg is searched for in the index bytes: short and long paths (a long path's length fills the
    flags' high byte), a workspace below the repository root, and one at the workspace root (not a venv)."""
    repo = tmp_path / "repo"
    workspace = repo / "ws"
    long_folder = "/".join(["d" * 60] * 5)  # over 255 characters with the file name
    for rel in ["venv-a/pyvenv.cfg", "venv-a/lib/site.py", f"{long_folder}/pyvenv.cfg", f"{long_folder}/lib/x.py",
                "pyvenv.cfg", "app.py", "sub/app.py"]:
        write(workspace, rel, "home = /usr\n" if rel.endswith("pyvenv.cfg") else "x = 1\n")
    write(repo, "outside/pyvenv.cfg", "home = /usr\n")  # above the workspace: not its business
    write(repo, "outside/lib/y.py")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    write(workspace, "venv-c/pyvenv.cfg", "home = /usr\n")
    write(workspace, "venv-c/lib/z.py")
    git(repo, "add", "-N", "ws/venv-c/pyvenv.cfg", "ws/venv-c/lib/z.py")  # intent-to-add: extended flags (v3)
    settings = Settings(workspace=workspace)
    fast, slow = both(monkeypatch, settings)
    assert listed(fast) == listed(slow)
    assert fast.paths == ["app.py", "pyvenv.cfg", "sub/app.py"]
    assert sorted(fast.excluded[VIRTUALENV]) == sorted([f"{long_folder}/", "venv-a/", "venv-c/"])
    assert git_index.index_virtualenvs((repo / ".git" / "index").read_bytes(), b"", 20) == {
        "ws", "ws/venv-a", "ws/venv-c", f"ws/{long_folder}", "outside"}
