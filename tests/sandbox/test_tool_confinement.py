"""Secret files in the tools, the worktree copy and the scope: case-insensitive patterns, links resolved
before the checks, hard-linked files never read (they may be other names of secret files)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from workcrew.engine.agents.isolation import Worktree, copy_tree
from workcrew.engine.agents.tools import AgentToolBox
from workcrew.engine.settings import Settings
from workcrew.engine.workspace.scope import HARD_LINK, SECRET, ScopeRequest, compute_scope, is_secret

VALUE = "hunter2-secret-value"


@pytest.fixture
def tree(workspace: Path, tmp_path: Path) -> Path:
    (workspace / "src").mkdir()
    (workspace / "src" / "app.py").write_text("def add(a, b):\n    return a + b\n")
    (workspace / ".env").write_text(f"PASSWORD={VALUE}\n")
    (workspace / ".ENV.local").write_text(f"PASSWORD={VALUE}\n")
    (workspace / "deploy").mkdir()
    (workspace / "deploy" / "ID_RSA").write_text(f"{VALUE}\n")
    (workspace / "deploy" / "Server.PEM").write_text(f"{VALUE}\n")
    (workspace / ".AWS").mkdir()
    (workspace / ".AWS" / "config").write_text(f"{VALUE}\n")
    os.symlink(".env", workspace / "settings.txt")  # a link inside the workspace to a secret
    os.symlink(".AWS", workspace / "cloud")  # a link to a secret folder
    os.link(workspace / ".env", workspace / "notes.txt")  # another name for the secret
    (tmp_path / "outside.txt").write_text(VALUE)
    os.symlink(tmp_path / "outside.txt", workspace / "outside.txt")
    return workspace


def box(root: Path, **settings: object) -> AgentToolBox:
    return AgentToolBox(root, Settings(workspace=root, **settings))  # type: ignore[arg-type]


@pytest.mark.parametrize(("path", "reason"), [
    (".ENV.local", "secret file"), ("deploy/ID_RSA", "secret file"), ("deploy/Server.PEM", "secret file"),
    (".AWS/config", "secret file"), ("settings.txt", "link to a secret file"), ("cloud/config", "link to a secret"),
    ("notes.txt", "2 hard links"), ("outside.txt", "outside the workspace"),
])
async def test_read_file_refuses(tree: Path, path: str, reason: str) -> None:
    text, error = await box(tree).call("read_file", {"path": path})
    assert error and reason in text and VALUE not in text


async def test_grep_glob_and_list_never_show_secret_contents(tree: Path) -> None:
    tools = box(tree)
    outputs = [await tools.call("grep", {"pattern": "hunter2|PASSWORD"}),
               await tools.call("grep", {"pattern": ".", "ignore_case": True}),
               await tools.call("grep", {"pattern": ".", "path": "settings.txt"}),
               await tools.call("grep", {"pattern": ".", "path": "notes.txt"}),
               await tools.call("glob", {"pattern": "**/*"}),
               await tools.call("list_dir", {}),
               await tools.call("list_dir", {"path": "cloud"})]
    assert all(VALUE not in text for text, _ in outputs)
    assert outputs[0] == ("no matches", False)
    listed, _ = outputs[5]
    assert ".env" not in listed.split("\n") and ".AWS/" not in listed and "src/" in listed
    assert outputs[6][1] and "link to a secret" in outputs[6][0]


async def test_writes_through_a_link_to_a_secret_are_refused(tree: Path) -> None:
    text, error = await box(tree).call("write_file", {"path": "settings.txt", "content": "x"})
    assert error and "secret" in text
    assert (tree / ".env").read_text() == f"PASSWORD={VALUE}\n"


def test_the_worktree_copy_has_no_secret_under_any_name(tree: Path) -> None:
    settings = Settings(workspace=tree)
    worktree = Worktree.create_sync(tree, settings)
    try:
        copied = {p.relative_to(worktree.path).as_posix() for p in worktree.path.rglob("*")}
        assert copied == {"src", "src/app.py"}
        assert all(VALUE not in p.read_text() for p in worktree.path.rglob("*") if p.is_file())
    finally:
        worktree.remove_sync()


def test_copy_tree_leaves_hard_links_out(tree: Path, tmp_path: Path) -> None:
    dest = tmp_path / "copy"
    dest.mkdir()
    copy_tree(tree, dest, Settings(workspace=tree))
    assert not (dest / "notes.txt").exists() and (dest / "src" / "app.py").exists()


def test_scope_secrets_are_case_insensitive_and_links_resolved(tree: Path) -> None:
    settings = Settings(workspace=tree)
    for path in (".ENV", ".Env.production", "a/b/ID_RSA", "deploy/x.PEM", "My_Credentials.json"):
        assert is_secret(path, settings), path
    assert is_secret(".AWS", settings, is_dir=True)
    assert not is_secret("src/environment.py", settings)
    scope = compute_scope(ScopeRequest(tree), settings)
    assert [f.path for f in scope.files] == ["src/app.py"]
    assert "notes.txt" in scope.excluded[HARD_LINK]
    assert {".env", ".ENV.local", "deploy/ID_RSA", "deploy/Server.PEM", "settings.txt"} <= set(scope.excluded[SECRET])
    picked = compute_scope(ScopeRequest(tree, paths=[tree / "notes.txt", tree / "settings.txt"]), settings)
    assert picked.files == [] and "hard links" in picked.refused["notes.txt"]
    assert "secret" in picked.refused["settings.txt"]
