"""The argument-aware allowlist: what each rule refuses, with which reason, and what it lets through."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from workcrew.engine.commands.rules import refusal, split
from workcrew.engine.settings import DEFAULT_COMMAND_ALLOWLIST, Settings

ALLOW = ["make", "make test V=1", "git", "git diff", "git log", "git ls-remote", "python -m pytest", "pytest",
         "python", "mypy", "npm test", "npm", "cargo test", "go test", "find", "grep", "cat", "ls", "sh", "env",
         "sed", "node", "awk"]


@pytest.fixture
def root(workspace: Path) -> Path:
    (workspace / "src").mkdir()
    (workspace / "src" / "app.py").write_text("x = 1\n")
    (workspace / ".env").write_text("K=v\n")
    (workspace / "Makefile").write_text("all:\n\ttrue\n")
    return workspace


def why(command: str, root: Path, allow: list[str] | None = None, cwd: Path | None = None) -> str | None:
    return refusal(split(command), Settings(workspace=root, command_allowlist=allow or ALLOW), root, cwd)


@pytest.mark.parametrize(("command", "reason"), [
    ("make --eval=x", "`make --eval` is refused"),
    ("make --ev=x", "`make --eval` is refused"),  # getopt accepts unique prefixes
    ("make -E x", "`make -E` is refused"),
    ("make -sE x", "`make -E` is refused"),
    ("make -f /dev/null", "absolute path outside the workspace"),
    ("make -sf/dev/null", "absolute path outside the workspace"),
    ("make --file=../Makefile", "leaves the workspace"),
    ("make -C ..", "leaves the workspace"),
    ("make -C/tmp", "absolute path outside the workspace"),
    ("make CC=sh", "make variable override 'CC=sh' is refused"),
    ("make SHELL=/bin/sh all", "make variable override"),
    ("git -c core.pager=sh log", "`git -c` is refused"),
    ("git -ccore.fsmonitor=x status", "`git -c` is refused"),
    ("git --config-env=core.pager=X log", "`git --config-env` is refused"),
    ("git diff --output=x.txt", "`git diff --output` is refused"),
    ("git diff --outp=x.txt", "`git diff --output` is refused"),
    ("git diff --no-index a b", "`git diff --no-index` is refused"),
    ("git diff --ext-diff", "`git diff --ext-diff` is refused"),
    ("git --exec-path=/tmp status", "`git --exec-path` is refused"),
    ("git -C / status", "absolute path outside the workspace"),
    ("git -C .. status", "leaves the workspace"),
    ("git ls-remote --upload-pack=touch .", "`git ls-remote --upload-pack` is refused"),
    ("git config core.pager sh", "`git config` is refused"),
    ("git submodule update", "`git submodule` is refused"),
    ("git grep -O less x", "`git -O` is refused"),
    ("python -m pytest -p evil", "`pytest -p evil` is refused"),
    ("python -m pytest -pevil", "`pytest -p evil` is refused"),
    ("pytest --rootdir=/", "`pytest --rootdir` is refused"),
    ("python -m pytest --basetemp=src", "`python -m pytest --basetemp` is refused"),
    ("python -m pytest -o addopts=-pevil", "`python -m pytest -o` is refused"),
    ("python -m pytest --override-ini=x=y", "`python -m pytest --override-ini` is refused"),
    ("python -m pytest /etc", "absolute path outside the workspace"),
    ("python -c 'print(1)'", "`python -c` is refused"),
    ("python -Ic 'print(1)'", "`python -c` is refused"),
    ("python -m pytest --pdbcls=os:x", "`python -m pytest --pdbcls` is refused"),
    ("mypy --python-executable=./x .", "`mypy --python-executable` is refused"),
    ("npm --script-shell=sh test", "`npm --script-shell` is refused"),
    ("cargo test --config=x", "`cargo test --config` is refused"),
    ("go test -exec=sh ./...", "`go test -exec` is refused"),
    ("go test --toolexec=sh ./...", "`go test --toolexec` is refused"),
    ("find . -exec id ;", "`find -exec` is refused"),
    ("find . -delete", "`find -delete` is refused"),
    ("sh -c id", "extra arguments to 'sh' are refused"),
    ("env FOO=1 id", "extra arguments to 'env' are refused"),
    ("awk 'BEGIN{system(\"id\")}'", "extra arguments to 'awk' are refused"),
    ("node -e 1", "`node -e` is refused"),
    ("sed 1e\\ id src/app.py", "without --sandbox is refused"),
    ("cat .env", "names a secret file"),
    ("cat .ENV", "names a secret file"),
    ("cat src/../.Env", "names a secret file"),
    ("cat ID_RSA", "names a secret file"),
    ("cat ~/.ssh/id_rsa", "names a home folder"),
    ("cat /etc/passwd", "absolute path outside the workspace"),
    ("cat ../x", "leaves the workspace"),
    ("cat --x=../../y", "leaves the workspace"),
    ("cat file:///etc/passwd", "absolute path outside the workspace"),
    ("ls -la /", "absolute path outside the workspace"),
    ("rm -rf src", "command 'rm' is not in the allowlist"),
])
def test_refused_with_a_reason(root: Path, command: str, reason: str) -> None:
    said = why(command, root)
    assert said is not None and reason in said, said


@pytest.mark.parametrize("command", [
    "make", "make all", "make -j4 -s all", "make -C src", "make -f Makefile all", "make test V=1",
    "git status", "git diff", "git diff --stat HEAD~1", "git log --oneline -n 5", "git log --grep=/api/secret",
    "git -C src status", "python -m pytest -q -p no:cacheprovider", "python -m pytest src/app.py::test_x -k 'not slow'",
    "pytest -x src", "python src/app.py", "python -m mypy src", "grep -rn /api/v1 src", "grep -e /usr -r src",
    "grep -r 'client_secret' src", "cat src/app.py", "ls -la src", "cat " + "src/./app.py", "find src -name '*.py'",
    "npm test", "cargo test", "go test ./...", "sed --sandbox -n 1p src/app.py", "env", "sh",
])
def test_allowed(root: Path, command: str) -> None:
    assert why(command, root) is None


def test_links_and_hard_links_are_resolved(root: Path, tmp_path: Path) -> None:
    (tmp_path / "outside.txt").write_text("private")
    os.symlink(tmp_path / "outside.txt", root / "out.txt")
    os.symlink(".env", root / "env-link")
    os.link(root / ".env", root / "notes.txt")
    assert "points outside the workspace" in (why("cat out.txt", root) or "")
    assert "link to a secret file" in (why("cat env-link", root) or "")
    assert "2 hard links" in (why("cat notes.txt", root) or "")
    assert "2 hard links" in (why("grep -r x notes.txt", root) or "")


def test_the_working_folder_must_be_inside(root: Path, tmp_path: Path) -> None:
    assert "outside the workspace" in (why("ls", root, cwd=tmp_path) or "")
    assert why("ls", root, cwd=root / "src") is None
    assert "leaves the workspace" in (why("cat ../../x", root, cwd=root / "src") or "")


def test_the_entry_is_trusted_only_as_written(root: Path) -> None:
    assert why("make test V=1", root, ["make test V=1"]) is None
    assert "variable override" in (why("make test V=1 X=2", root, ["make test V=1"]) or "")
    assert why("git -c color.ui=never log", root, ["git -c color.ui=never log"]) is None
    assert "`git log -c` is refused" in (why("git -c color.ui=never log -c x=y", root, ["git -c color.ui=never log"]) or "")


def test_the_default_allowlist_is_read_only_tools(root: Path) -> None:
    assert set(DEFAULT_COMMAND_ALLOWLIST) == {"git status", "git diff", "git log", "ls", "cat", "grep", "wc"}
    for command in ("make", "python -m pytest", "npm test", "sh"):
        assert "not in the allowlist" in (why(command, root, DEFAULT_COMMAND_ALLOWLIST) or "")
    assert why("git diff --stat", root, DEFAULT_COMMAND_ALLOWLIST) is None


def test_a_git_entry_with_options_but_no_subcommand_still_checks_the_subcommand(root: Path) -> None:
    allow = ["git -c color.ui=never", "git -c color.ui=never commit"]
    assert why("git -c color.ui=never status", root, allow) is None
    assert "`git config` is refused" in (why("git -c color.ui=never config x y", root, allow) or "")
    assert why("git -c color.ui=never commit -m x", root, allow) is None
