"""The agent toolbox: confinement, secret files, limits, gitignore-aware search, overlay edits, commands."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from workcrew.engine.agents.tools import MAX_GREP_MATCHES, AgentToolBox
from workcrew.engine.settings import Settings


@pytest.fixture
def tree(workspace: Path) -> Path:
    (workspace / "src").mkdir()
    (workspace / "src" / "app.py").write_text("def add(a, b):\n    return a - b\n\nTODO = 1\n")
    (workspace / "src" / "util.py").write_text("# TODO: tidy\nX = 2\n")
    (workspace / "build").mkdir()
    (workspace / "build" / "gen.py").write_text("TODO generated\n")
    (workspace / ".gitignore").write_text("build/\n*.log\n")
    (workspace / "debug.log").write_text("TODO in a log\n")
    (workspace / ".env").write_text("API_KEY=hunter2\n")
    (workspace / "config").mkdir()
    (workspace / "config" / "id_rsa").write_text("-----BEGIN KEY-----\n")
    (workspace / "logo.png").write_bytes(b"\x89PNG\0\0\0binary")
    return workspace


def box(root: Path, **settings: object) -> AgentToolBox:
    return AgentToolBox(root, Settings(workspace=root, **settings))  # type: ignore[arg-type]


async def test_read_file_with_line_ranges(tree: Path) -> None:
    tools = box(tree)
    text, error = await tools.call("read_file", {"path": "src/app.py", "start_line": 2, "end_line": 2})
    assert not error and text.strip() == "2\t    return a - b"
    whole, _ = await tools.call("read_file", {"path": "./src/../src/app.py"})
    assert "def add" in whole and "TODO = 1" in whole


@pytest.mark.parametrize("path", ["../outside.txt", "src/../../outside.txt", "/etc/passwd", "..\\outside.txt"])
async def test_paths_outside_the_workspace_are_refused(tree: Path, path: str) -> None:
    (tree.parent / "outside.txt").write_text("private")
    tools = box(tree)
    text, error = await tools.call("read_file", {"path": path})
    assert error and "workspace" in text and "private" not in text
    assert tools.refusals == 1


async def test_absolute_paths_inside_the_workspace_work(tree: Path) -> None:
    text, error = await box(tree).call("read_file", {"path": str(tree / "src" / "util.py")})
    assert not error and "X = 2" in text


async def test_symlink_escapes_are_refused(tree: Path) -> None:
    (tree.parent / "private_outside.txt").write_text("outside data")
    os.symlink(tree.parent / "private_outside.txt", tree / "link.txt")
    os.symlink(tree.parent, tree / "up")
    tools = box(tree)
    for path in ("link.txt", "up/private_outside.txt"):
        text, error = await tools.call("read_file", {"path": path})
        assert error and "outside the workspace" in text and "outside data" not in text


@pytest.mark.parametrize("path", [".env", "config/id_rsa", "./config/../.env"])
async def test_secret_files_are_never_read(tree: Path, path: str) -> None:
    text, error = await box(tree).call("read_file", {"path": path})
    assert error and "secret" in text and "hunter2" not in text and "BEGIN" not in text


async def test_secret_patterns_are_configurable(tree: Path) -> None:
    (tree / "notes.private").write_text("mine")
    text, error = await box(tree, secret_patterns=["*.private"]).call("read_file", {"path": "notes.private"})
    assert error and "secret" in text


async def test_binary_and_huge_files_are_refused_clearly(tree: Path) -> None:
    (tree / "big.txt").write_text("x" * 5000)
    tools = box(tree, max_file_bytes=1000)
    text, error = await tools.call("read_file", {"path": "logo.png"})
    assert error and "binary" in text
    text, error = await tools.call("read_file", {"path": "big.txt"})
    assert error and "5,000 bytes" in text and "limit" in text


async def test_listing_and_search_hide_secrets_and_ignored_files(tree: Path) -> None:
    tools = box(tree)
    listing, _ = await tools.call("list_dir", {})
    assert "src/" in listing.splitlines() and ".env" not in listing
    found, _ = await tools.call("glob", {"pattern": "**/*.py"})
    assert found.splitlines() == ["src/app.py", "src/util.py"]
    hits, error = await tools.call("grep", {"pattern": "TODO"})
    assert not error
    assert hits.splitlines() == ["src/app.py:4: TODO = 1", "src/util.py:1: # TODO: tidy"]
    only, _ = await tools.call("grep", {"pattern": "TODO", "glob": "util.py"})
    assert only.splitlines() == ["src/util.py:1: # TODO: tidy"]
    hidden, _ = await tools.call("grep", {"pattern": "hunter2|BEGIN"})
    assert hidden == "no matches"


async def test_grep_cuts_off_with_a_truncation_note(workspace: Path) -> None:
    (workspace / "many.txt").write_text("match\n" * (MAX_GREP_MATCHES + 50))
    text, error = await box(workspace).call("grep", {"pattern": "match"})
    assert not error and text.count("many.txt:") == MAX_GREP_MATCHES and "truncated" in text


async def test_bad_regex_and_unknown_tool_are_tool_errors(tree: Path) -> None:
    tools = box(tree)
    text, error = await tools.call("grep", {"pattern": "("})
    assert error and "invalid regular expression" in text
    text, error = await tools.call("delete_everything", {})
    assert error and "unknown tool" in text
    text, error = await tools.call("read_file", {})
    assert error and "bad arguments" in text
    assert tools.refusals == 3


async def test_edits_go_to_the_overlay_never_the_users_files(tree: Path) -> None:
    tools = box(tree)
    _, error = await tools.call("edit_file", {"path": "src/app.py", "old": "a - b", "new": "a + b"})
    assert not error
    assert "a - b" in (tree / "src" / "app.py").read_text()  # the user's file is untouched
    seen, _ = await tools.call("read_file", {"path": "src/app.py"})
    assert "a + b" in seen  # the agent sees its own edit
    await tools.call("write_file", {"path": "src/new.py", "content": "NEW = 1\n"})
    assert not (tree / "src" / "new.py").exists()
    found, _ = await tools.call("glob", {"pattern": "src/*.py"})
    assert "src/new.py" in found.splitlines()
    text, error = await tools.call("edit_file", {"path": "src/util.py", "old": "", "new": "x"})
    assert error and "'old' is empty" in text


async def test_edits_that_do_not_apply_explain_why(tree: Path) -> None:
    tools = box(tree)
    (tree / "dup.py").write_text("x = 1\nx = 1\n")
    text, error = await tools.call("edit_file", {"path": "dup.py", "old": "x = 1", "new": "x = 2"})
    assert error and "occurs 2 times" in text
    text, error = await tools.call("edit_file", {"path": "src/app.py", "old": "nope", "new": "x"})
    assert error and "does not occur" in text
    text, error = await tools.call("write_file", {"path": ".env", "content": "stolen"})
    assert error and "secret" in text
    text, error = await tools.call("write_file", {"path": "../escape.py", "content": "x"})
    assert error and not (tree.parent / "escape.py").exists()


async def test_run_command_needs_a_worktree_the_allowlist_and_a_timeout(tree: Path) -> None:
    assert "run_command" not in {d["name"] for d in box(tree).definitions()}
    text, error = await box(tree).call("run_command", {"command": "ls"})
    assert error and "isolation='worktree'" in text
    tools = AgentToolBox(tree, Settings(workspace=tree, command_allowlist=["ls", "sleep"], command_timeout_s=0.5),
                         worktree=True)
    text, error = await tools.call("run_command", {"command": "ls src"})
    assert not error and "exit code 0" in text and "app.py" in text
    text, error = await tools.call("run_command", {"command": "rm -rf src"})
    assert error and "not an allowed command" in text and (tree / "src").exists()
    text, error = await tools.call("run_command", {"command": "ls .env"})
    assert error and "secret" in text
    text, error = await tools.call("run_command", {"command": "sleep 5"})
    assert error and "timed out after 0.5 s" in text


async def test_commands_do_not_inherit_credentials(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-should-not-leak")
    tools = AgentToolBox(tree, Settings(workspace=tree, command_allowlist=["env"]), worktree=True)
    text, error = await tools.call("run_command", {"command": "env"})
    assert not error and "sk-should-not-leak" not in text and "PATH=" in text


async def test_os_errors_are_tool_errors_not_crashes(tree: Path) -> None:
    tools = AgentToolBox(tree, Settings(workspace=tree), worktree=True)
    text, error = await tools.call("write_file", {"path": "src/app.py/inner.py", "content": "x"})
    assert error and text.startswith("write_file failed") and tools.refusals == 1
