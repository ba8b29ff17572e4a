"""Scope: what the user pointed at → the files a workflow works on, and what was left out and why."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from workcrew.engine import Settings, UsageError
from workcrew.engine.providers.scenario import estimate_tokens
from workcrew.engine.workspace.scope import (
    BINARY,
    DEFAULT,
    GITIGNORE,
    NO_GIT_VARIABLE,
    SECRET,
    SYMLINK_OUTSIDE,
    TOO_LARGE,
    VIRTUALENV,
    ScopeRequest,
    Selection,
    compute_scope,
    is_secret,
)

from .conftest import write


def whole(settings: Settings) -> list[str]:
    return compute_scope(ScopeRequest(settings.workspace), settings).paths


def git_listing(root: Path) -> set[str]:
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=root,
                         capture_output=True, check=True, env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1",
                                                               "HOME": str(root.parent)}).stdout
    return {p.decode() for p in out.split(b"\0") if p}


@pytest.fixture
def rules_tree(workspace: Path) -> Path:
    write(workspace, ".gitignore", "*.out\n!important.out\n/only-root.txt\nbuild-out/\nsub/**/deep.txt\n")
    for rel in ["a.out", "important.out", "only-root.txt", "x.tmp", "main.py", "build-out/f.py",
                "sub/only-root.txt", "sub/debug.out", "sub/other.out", "sub/x.tmp", "sub/keep.py",
                "sub/a/b/deep.txt", "sub/a/b/shallow.txt", "sub/inner/.gitignore"]:
        write(workspace, rel)
    write(workspace, "sub/.gitignore", "!debug.out\n*.tmp\n")
    write(workspace, "sub/inner/.gitignore", "*\n!.gitignore\n!keep.md\n")
    write(workspace, "sub/inner/drop.py")
    write(workspace, "sub/inner/keep.md")
    return workspace


def test_nested_gitignores_with_negations_and_anchors(rules_tree: Path, settings: Settings) -> None:
    scope = compute_scope(ScopeRequest(rules_tree), settings)
    assert set(scope.paths) == {
        ".gitignore", "important.out", "x.tmp", "main.py", "sub/.gitignore", "sub/only-root.txt",
        "sub/debug.out", "sub/keep.py", "sub/a/b/shallow.txt", "sub/inner/.gitignore", "sub/inner/keep.md",
    }
    assert scope.excluded_counts[GITIGNORE] == 7
    # an ignored folder is pruned and reported once, as a folder
    assert "build-out/" in scope.excluded[GITIGNORE]
    assert "build-out/f.py" not in scope.excluded[GITIGNORE]


@pytest.fixture(params=["git-listing", "walk"])
def scope_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Run a test on both ways compute_scope lists a git work tree: git's listing and the Python walk."""
    monkeypatch.setenv("HOME", str(tmp_path))  # the same (absent) global excludes file for git and the walk
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    if request.param == "walk":
        monkeypatch.setenv(NO_GIT_VARIABLE, "1")
    else:
        monkeypatch.delenv(NO_GIT_VARIABLE, raising=False)
    return str(request.param)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git as the oracle")
def test_gitignore_handling_agrees_with_git(rules_tree: Path, settings: Settings, scope_path: str) -> None:
    subprocess.run(["git", "init", "-q"], cwd=rules_tree, check=True)
    write(rules_tree, ".git/info/exclude", "excluded-by-info.txt\n")
    write(rules_tree, "excluded-by-info.txt")
    # "dir/**" ignores what is inside; "!dir/sub/" re-includes the folder but not files dir/** matched
    write(rules_tree, "logs/.gitignore", "/**\n!keep.txt\n!sub/\n!.gitignore\n")
    for rel in ["logs/a.txt", "logs/keep.txt", "logs/sub/b.txt", "logs/sub/keep.txt"]:
        write(rules_tree, rel)
    write(rules_tree, "vendor/.gitignore", "*\n!*/\n!*.py\n")
    for rel in ["vendor/lib/mod.py", "vendor/lib/data.json", "vendor/top.py", "vendor/README"]:
        write(rules_tree, rel)
    assert set(whole(settings)) == git_listing(rules_tree)


def test_git_info_exclude_and_parent_gitignore_apply(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(repo, ".git/info/exclude", "private-notes.md\n")
    write(repo, ".gitignore", "*.gen.py\n")
    workspace = repo / "packages" / "app"
    for rel in ["private-notes.md", "model.gen.py", "model.py"]:
        write(workspace, rel)
    settings = Settings(workspace=workspace)
    assert whole(settings) == ["model.py"]


def test_default_excludes(workspace: Path, settings: Settings) -> None:
    write(workspace, "app.py")
    for rel in ["node_modules/lib/index.js", ".git/config", "__pycache__/app.cpython-311.pyc", "dist/app.js",
                "build/out.py", ".mypy_cache/x.json", ".workcrew/runs.db", "web/vendor.min.js"]:
        write(workspace, rel)
    write(workspace, "tools/myenv/pyvenv.cfg", "home = /usr/bin\n")
    write(workspace, "tools/myenv/lib/site.py")
    scope = compute_scope(ScopeRequest(workspace), settings)
    assert scope.paths == ["app.py"]
    assert {"node_modules/", ".git/", "__pycache__/", "dist/", "build/", ".mypy_cache/", ".workcrew/",
            "web/vendor.min.js"} <= set(scope.excluded[DEFAULT])
    assert scope.excluded[VIRTUALENV] == ["tools/myenv/"]


def test_binaries_by_extension_and_by_content(workspace: Path, settings: Settings) -> None:
    write(workspace, "logo.png", b"not even a real png")  # the extension decides: never opened
    write(workspace, "blob", b"\x7fELF\0\0\x01binary")
    write(workspace, "Makefile", "all:\n\techo ok\n")  # no extension, no NUL: text
    write(workspace, "script.py", "print('ok')\n")
    scope = compute_scope(ScopeRequest(workspace), settings)
    assert scope.paths == ["Makefile", "script.py"]
    assert sorted(scope.excluded[BINARY]) == ["blob", "logo.png"]


def test_files_over_the_size_cap(workspace: Path, settings: Settings) -> None:
    write(workspace, "small.py", "x" * 100)
    write(workspace, "large.py", "x" * 101)
    scope = compute_scope(ScopeRequest(workspace), settings.model_copy(update={"max_file_bytes": 100}))
    assert scope.paths == ["small.py"]
    assert scope.excluded[TOO_LARGE] == ["large.py"]


def test_secrets_are_never_included_and_only_named(workspace: Path, settings: Settings) -> None:
    write(workspace, ".env", "API_KEY=SUPERSECRET\n")
    write(workspace, "config/.env.production", "API_KEY=SUPERSECRET\n")
    write(workspace, "deploy/id_rsa", "-----BEGIN KEY-----\n")
    write(workspace, "home/.aws/credentials", "[default]\n")
    write(workspace, "app.py")
    scope = compute_scope(ScopeRequest(workspace, whole_workspace=True), settings)
    assert scope.paths == ["app.py"]
    assert set(scope.excluded[SECRET]) == {".env", "config/.env.production", "deploy/id_rsa", "home/.aws/"}
    # the orchestrator's text counts secrets but never names them
    summary = scope.summary()
    assert "secret 4" in summary
    assert "id_rsa" not in summary and ".env" not in summary and "SUPERSECRET" not in summary


def test_explicitly_picked_secret_is_refused_with_the_reason(workspace: Path, settings: Settings) -> None:
    write(workspace, ".env", "API_KEY=1\n")
    write(workspace, "keys/server.pem", "pem\n")
    write(workspace, "app.py")
    scope = compute_scope(ScopeRequest(workspace, paths=[workspace / ".env", Path("keys/server.pem")],
                                       open_files=["app.py"]), settings)
    assert scope.paths == ["app.py"]
    assert "secret" in scope.refused[".env"] and "never sent to a model" in scope.refused["keys/server.pem"]
    assert scope.excluded[SECRET] == [".env", "keys/server.pem"]


def test_the_excludes_setting_applies(workspace: Path, settings: Settings) -> None:
    write(workspace, "src/app.py")
    write(workspace, "fixtures/big.json", "{}")
    scope = compute_scope(ScopeRequest(workspace), settings.model_copy(update={"excludes": ["fixtures/"]}))
    assert scope.paths == ["src/app.py"]


def test_is_secret_matches_names_and_folders(settings: Settings) -> None:
    assert is_secret(".env", settings)
    assert is_secret("a/b/.env.local", settings)
    assert is_secret("x/.ssh", settings, is_dir=True)
    assert not is_secret("src/environment.py", settings)


def test_symlinks_that_leave_the_workspace_are_excluded(workspace: Path, tmp_path: Path,
                                                        settings: Settings) -> None:
    outside = write(tmp_path / "outside", "passwords.txt", "hunter2\n")
    write(workspace, "real.py")
    (workspace / "escape.txt").symlink_to(outside)
    (workspace / "escape-dir").symlink_to(outside.parent, target_is_directory=True)
    (workspace / "alias.py").symlink_to(workspace / "real.py")
    (workspace / "loop").symlink_to(workspace, target_is_directory=True)
    scope = compute_scope(ScopeRequest(workspace), settings)
    assert scope.paths == ["alias.py", "real.py"]
    assert set(scope.excluded[SYMLINK_OUTSIDE]) == {"escape.txt", "escape-dir"}
    picked = compute_scope(ScopeRequest(workspace, paths=["escape.txt"]), settings)
    assert picked.paths == [] and "outside the workspace" in picked.refused["escape.txt"]


def test_selection_gives_that_file_with_its_range(workspace: Path, settings: Settings) -> None:
    write(workspace, "src/calc.py", "".join(f"line {i}\n" for i in range(1, 21)))
    write(workspace, "src/other.py")
    selection = Selection(str(workspace / "src/calc.py"), 3, 5, "line 3\nline 4\nline 5\n")
    scope = compute_scope(ScopeRequest(workspace, selection=selection), settings)
    assert [(f.path, f.lines) for f in scope.files] == [("src/calc.py", (3, 5))]
    assert scope.selection == Selection("src/calc.py", 3, 5, "line 3\nline 4\nline 5\n")
    summary = scope.summary()
    assert "src/calc.py lines 3-5" in summary and "line 4" in summary
    assert scope.to_json()["files"][0]["lines"] == [3, 5]


def test_invalid_selection_lines_are_a_clear_error(workspace: Path, settings: Settings) -> None:
    write(workspace, "a.py")
    with pytest.raises(UsageError, match="1-based"):
        compute_scope(ScopeRequest(workspace, selection=Selection("a.py", 5, 2)), settings)


def test_explorer_folder_is_walked_with_the_same_rules(workspace: Path, settings: Settings) -> None:
    write(workspace, ".gitignore", "*.log\n")
    write(workspace, "src/pkg/.gitignore", "generated/\n")
    for rel in ["src/pkg/a.py", "src/pkg/run.log", "src/pkg/generated/g.py", "src/pkg/node_modules/m.js",
                "docs/readme.md", "top.py", "notes.log"]:
        write(workspace, rel)
    scope = compute_scope(ScopeRequest(workspace, paths=[workspace / "src", "notes.log"]), settings)
    # the folder's files pass the rules; a file the user picked by name is taken even though ignored
    assert scope.paths == ["notes.log", "src/pkg/.gitignore", "src/pkg/a.py"]
    assert set(scope.excluded[GITIGNORE]) == {"src/pkg/run.log", "src/pkg/generated/"}


def test_missing_and_outside_paths_are_refused(workspace: Path, tmp_path: Path, settings: Settings) -> None:
    write(tmp_path, "elsewhere.py")
    scope = compute_scope(ScopeRequest(workspace, paths=["nope.py", tmp_path / "elsewhere.py"]), settings)
    assert scope.files == []
    assert scope.refused["nope.py"] == "does not exist"
    assert scope.refused[str(tmp_path / "elsewhere.py")] == "outside the workspace"


def test_workspace_must_be_a_folder(tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(UsageError, match="not a folder"):
        compute_scope(ScopeRequest(tmp_path / "missing"), settings)


def test_sizes_and_tokens_come_from_stat(workspace: Path, settings: Settings) -> None:
    texts = {"a.py": "x" * 10, "b.py": "y" * 4, "c.py": "", "d.md": "é" * 3}
    for rel, text in texts.items():
        write(workspace, rel, text)
    scope = compute_scope(ScopeRequest(workspace), settings)
    by_path = {f.path: f for f in scope.files}
    for rel, text in texts.items():
        assert by_path[rel].bytes == len(text.encode())
        assert by_path[rel].tokens == estimate_tokens(text)  # the simulators' math
    assert scope.total_bytes == 10 + 4 + 0 + 6
    assert scope.total_tokens == 3 + 1 + 0 + 2


def test_summary_lists_up_to_the_limit_and_counts_the_rest(workspace: Path, settings: Settings) -> None:
    for i in range(12):
        write(workspace, f"m{i:02d}.py")
    write(workspace, "app.log")
    write(workspace, ".gitignore", "*.log\n")
    scope = compute_scope(ScopeRequest(workspace), settings)
    summary = scope.summary(limit=5)
    assert "Files in scope: 13" in summary
    assert "m03.py" in summary and "m09.py" not in summary
    assert "and 8 more files" in summary
    assert "gitignore 1 (e.g. app.log)" in summary
    data = scope.to_json()
    assert data["total_files"] == 13 and data["excluded_counts"] == {"gitignore": 1}
    assert data["sources"] == ["the whole workspace"]


PATTERN_POOL = ["*.out", "!keep.out", "out2/", "/root.txt", "a/**/b", "docs/*.md", "**/cache/", "*", "!*/",
                "!*.py", "foo/**", "!foo/keep.txt", "/*.txt", "sub/", "!sub/", "x?.py", "[ab].txt", "*.tmp",
                "**/deep", "\\!bang", "# comment", "nested/dir/", "*.md", "!README.md", "b", "!b/", "/a/"]
FILE_POOL = ["a.out", "keep.out", "root.txt", "x1.py", "xa.py", "a.txt", "b.txt", "c.md", "README.md", "keep.txt",
             "deep", "e.tmp", "!bang", "b"]
DIR_POOL = ["", "sub/", "a/b/", "a/x/b/", "docs/", "foo/", "foo/sub/", "out2/", "cache/", "nested/dir/", "deep2/",
            "q/a/"]


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git as the oracle")
@pytest.mark.parametrize("seed", range(25))
def test_random_gitignores_agree_with_git(seed: int, workspace: Path, settings: Settings, scope_path: str) -> None:
    import random

    rng = random.Random(seed)
    subprocess.run(["git", "init", "-q"], cwd=workspace, check=True)
    for folder in DIR_POOL:
        for name in rng.sample(FILE_POOL, 5):
            if not (workspace / folder / name).is_dir():
                write(workspace, folder + name, "text\n" * rng.randint(0, 3))
    for folder in rng.sample(DIR_POOL, 4):
        if (workspace / folder).is_dir() or folder == "":
            write(workspace, folder + ".gitignore", "\n".join(rng.sample(PATTERN_POOL, rng.randint(1, 6))) + "\n")
    assert set(whole(settings)) == git_listing(workspace)
    # once the files are staged, git's listing comes from the index (sizes too), and new files from
    # --others: still the same files
    subprocess.run(["git", "add", "-A"], cwd=workspace, check=True)
    for folder in rng.sample(DIR_POOL, 3):
        for name in rng.sample(FILE_POOL, 2):
            if not (workspace / folder / ("new-" + name)).is_dir():
                write(workspace, folder + "new-" + name, "new\n")
    scope = compute_scope(ScopeRequest(workspace), settings)
    assert set(scope.paths) == git_listing(workspace)
    assert all(f.bytes == (workspace / f.path).stat().st_size for f in scope.files)


def test_a_picked_secret_folder_is_refused_whole(workspace: Path, settings: Settings) -> None:
    write(workspace, ".ssh/config", "Host *\n")
    write(workspace, ".ssh/known_hosts", "example.com ssh-ed25519 AAAA\n")
    (workspace / "innocent").symlink_to(workspace / ".ssh", target_is_directory=True)
    scope = compute_scope(ScopeRequest(workspace, paths=[".ssh", "innocent", ".ssh/config"]), settings)
    assert scope.files == []
    assert set(scope.refused) == {".ssh", "innocent", ".ssh/config"}
    assert all("secret" in why for why in scope.refused.values())


def test_a_selection_in_a_secret_file_is_refused(workspace: Path, settings: Settings) -> None:
    write(workspace, "deploy/.env.production", "DB_PASSWORD=hunter2\n")
    selection = Selection("deploy/.env.production", 1, 1, "DB_PASSWORD=hunter2")
    scope = compute_scope(ScopeRequest(workspace, selection=selection), settings)
    assert scope.files == [] and scope.selection is None
    assert "secret" in scope.refused["deploy/.env.production"]
    assert "hunter2" not in scope.summary() and "hunter2" not in str(scope.to_json())


def test_overlapping_scopes_leave_the_garbage_collector_as_they_found_it(tmp_path: Path) -> None:
    import gc
    import threading

    from workcrew.engine.settings import Settings
    from workcrew.engine.workspace.scope import ScopeRequest, compute_scope

    for index in range(50):
        (tmp_path / f"f{index}.py").write_text("x = 1\n")
    settings = Settings(workspace=tmp_path)
    assert gc.isenabled()
    threads = [threading.Thread(target=lambda: compute_scope(ScopeRequest(workspace=tmp_path), settings))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert gc.isenabled()
