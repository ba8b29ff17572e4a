"""Reading what changed from git, read-only: which files (``git diff --name-status``, ``git ls-files
--others``), where in them (``git diff --unified=0`` hunk headers), against what (``HEAD``, or the
merge-base of ``HEAD`` and a branch).

Every call has a timeout and leaves the repository as it was: no optional locks (``git diff`` would
otherwise refresh the index), no external diff or text conversion programs, no fsmonitor hook, and
pathspecs taken literally. Blocking: callers on an event loop run it in a worker thread.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError

GIT_TIMEOUT_S = 30.0
_SAFE = ("-c", "core.fsmonitor=false", "-c", "core.quotePath=false", "--no-pager", "--literal-pathspecs")
_DIFF = ("--no-color", "--no-ext-diff", "--no-textconv", "--find-renames", "--relative", "--src-prefix=a/",
         "--dst-prefix=b/")
_HUNK = re.compile(rb"@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


class GitError(UsageError):
    """git could not answer: not a repository, an unknown branch, a timeout. The message says what to do."""


@dataclass(frozen=True)
class NameStatus:
    """One changed path: ``status`` is git's letter (A added, M modified, D deleted, R renamed, C copied,
    T type changed, U unmerged), ``path`` workspace-relative, ``old_path`` the source of a rename or copy."""

    status: str
    path: str
    old_path: str | None = None


def run_git(workspace: Path, *argv: str, timeout: float = GIT_TIMEOUT_S, stdin: bytes | None = None
            ) -> subprocess.CompletedProcess[bytes]:
    """git ``argv`` in ``workspace`` (its output as bytes); raises :class:`GitError` when git is missing or
    slower than ``timeout`` (the process is killed)."""
    git = shutil.which("git")
    if git is None:
        raise GitError("git is not on PATH: reviewing changes needs git (install it, or review files with "
                       "`workcrew run review`)")
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"}
    try:
        return subprocess.run([git, *_SAFE, *argv], cwd=workspace, input=stdin, capture_output=True,
                              timeout=timeout, env=env, stdin=None if stdin is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise GitError(f"`git {argv[0]}` took longer than {timeout:.0f} s in {workspace}; try again, or "
                       "review fewer files with `workcrew run review`") from None
    except OSError as exc:
        raise GitError(f"cannot run git in {workspace}: {exc}") from None


def _checked(workspace: Path, *argv: str) -> bytes:
    done = run_git(workspace, *argv)
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"`git {' '.join(argv[:2])}` failed in {workspace}: {detail[-1] if detail else 'no message'}")
    return done.stdout


def repository_top(workspace: Path) -> Path:
    """The work tree's top folder; :class:`GitError` when ``workspace`` is not inside one."""
    done = run_git(workspace, "rev-parse", "--show-toplevel")
    if done.returncode != 0:
        raise GitError(f"{workspace} is not in a git repository: reviewing changes compares with git. Open a "
                       "folder under git (`git init` and a first commit), or review files with `workcrew run review`")
    return Path(os.fsdecode(done.stdout.strip()))


def head_commit(workspace: Path) -> str | None:
    """HEAD's commit, or None in a repository with no commit yet."""
    done = run_git(workspace, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    if done.returncode != 0:
        return None
    return done.stdout.decode().strip() or None


def empty_tree(workspace: Path) -> str:
    """The empty tree's id in this repository's hash (what an unborn HEAD is compared with)."""
    done = run_git(workspace, "hash-object", "-t", "tree", "--stdin", stdin=b"")
    if done.returncode != 0:
        raise GitError(f"git cannot name the empty tree in {workspace}: {done.stderr.decode('utf-8', 'replace').strip()}")
    return done.stdout.decode().strip()


def merge_base(workspace: Path, base: str) -> str:
    """The merge-base of HEAD and ``base`` (a branch, tag or commit); :class:`GitError` saying what to do."""
    if base.startswith("-") or not base.strip():
        raise GitError(f"{base!r} is not a branch name")
    if head_commit(workspace) is None:
        raise GitError("the repository has no commit yet, so there is no branch to compare with; "
                       "review the uncommitted changes instead")
    known = run_git(workspace, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
    if known.returncode != 0:
        names = branches(workspace)[:12]
        hint = f" Branches: {', '.join(names)}." if names else ""
        raise GitError(f"no branch or commit {base!r} in this repository.{hint}")
    done = run_git(workspace, "merge-base", "HEAD", base)
    if done.returncode != 0:
        raise GitError(f"HEAD and {base!r} have no common ancestor: there is no diff of this branch against it")
    return done.stdout.decode().strip()


def branches(workspace: Path) -> list[str]:
    """Local branches, then remote-tracking ones (what a user picks a base from)."""
    done = run_git(workspace, "for-each-ref", "--format=%(refname:short)", "refs/heads", "refs/remotes")
    if done.returncode != 0:
        return []
    names = [line for line in done.stdout.decode("utf-8", "replace").splitlines() if line and not line.endswith("/HEAD")]
    return names


def name_status(workspace: Path, against: str) -> list[NameStatus]:
    """The tracked files that differ between ``against`` and the work tree (staged or not)."""
    raw = _checked(workspace, "diff", "--name-status", "-z", *_DIFF, against, "--")
    return parse_name_status(raw)


def untracked(workspace: Path) -> list[str]:
    """Untracked files git does not ignore, relative to the workspace."""
    raw = _checked(workspace, "ls-files", "-z", "--others", "--exclude-standard")
    return [os.fsdecode(item) for item in raw.split(b"\0") if item]


def hunks(workspace: Path, against: str, paths: list[str]) -> dict[str, list[tuple[int, int]]]:
    """Changed line ranges (new side, 1-based inclusive) of ``paths``; a pure deletion marks the line it
    follows. Only the named paths' contents pass through git's output."""
    if not paths:
        return {}
    raw = _checked(workspace, "diff", "--unified=0", *_DIFF, against, "--", *paths)
    return parse_hunks(raw)


# -- parsing ----------------------------------------------------------------------------------------------

def parse_name_status(raw: bytes) -> list[NameStatus]:
    """``git diff --name-status -z`` output: status, path (two paths for a rename or copy), NUL-separated."""
    fields = raw.split(b"\0")
    if fields and fields[-1] == b"":
        fields.pop()
    out: list[NameStatus] = []
    index = 0
    while index < len(fields):
        letter = fields[index].decode("ascii", "replace")[:1]
        index += 1
        if letter in ("R", "C") and index + 1 < len(fields):
            out.append(NameStatus(letter, os.fsdecode(fields[index + 1]), os.fsdecode(fields[index])))
            index += 2
        elif index < len(fields):
            out.append(NameStatus(letter, os.fsdecode(fields[index])))
            index += 1
    return out


def parse_hunks(raw: bytes) -> dict[str, list[tuple[int, int]]]:
    """Per file (its ``+++ b/`` name), the new-side ranges of ``git diff --unified=0`` hunks."""
    out: dict[str, list[tuple[int, int]]] = {}
    current: str | None = None
    in_header = False
    for line in raw.split(b"\n"):
        if line.startswith(b"diff --git "):
            current, in_header = None, True
        elif in_header and line.startswith(b"+++ "):
            target = unquote(line[4:].rstrip(b"\t"))
            current = os.fsdecode(target[2:]) if target.startswith(b"b/") else None
            if current is not None:
                out.setdefault(current, [])
        elif line.startswith(b"@@ "):
            in_header = False  # from here on "+++ " is content, never a header
            match = _HUNK.match(line)
            if match is None or current is None:
                continue
            start, count = int(match[1]), int(match[2]) if match[2] is not None else 1
            if count == 0:  # lines removed after line `start`: the change is where they were
                out[current].append((max(start, 1), max(start, 1)))
            else:
                out[current].append((start, start + count - 1))
    return out


_ESCAPES = {ord("a"): 7, ord("b"): 8, ord("t"): 9, ord("n"): 10, ord("v"): 11, ord("f"): 12, ord("r"): 13,
            ord('"'): 34, ord("\\"): 92}


def unquote(name: bytes) -> bytes:
    """A path as git prints it: C-quoted (``"b/tab\\there"``, octal bytes) when it holds special characters."""
    if not (len(name) >= 2 and name.startswith(b'"') and name.endswith(b'"')):
        return name
    body, out, index = name[1:-1], bytearray(), 0
    while index < len(body):
        char = body[index]
        if char != 92 or index + 1 >= len(body):
            out.append(char)
            index += 1
            continue
        following = body[index + 1]
        octal = body[index + 1:index + 4]
        if len(octal) == 3 and all(48 <= c <= 55 for c in octal):
            out.append(int(octal, 8))
            index += 4
        else:
            out.append(_ESCAPES.get(following, following))
            index += 2
    return bytes(out)
