"""What changed, as a review's scope: the files, their changed lines and the functions around them.

Two questions a reviewer is asked every day: *what did I change?* (the uncommitted changes: staged,
unstaged and untracked files, against ``HEAD``) and *what does my branch change?* (against the merge-base
of ``HEAD`` and a base branch such as ``main``, work not committed yet included). :func:`find_changes`
answers either from git (read-only, :mod:`.git_diff`) and applies the scope's rules to the files:

* secret files (``secret_patterns``, also through a folder or a symlink) are left out before their
  contents are ever asked of git, and are counted, never named;
* deleted files are listed and not reviewed (there is nothing left to read);
* files the scope would refuse (binary, over the size cap, the ``excludes`` setting, hard links, links
  out of the workspace), default excludes (dependencies, build output, lock files) and submodules are
  dropped with the reason;
* past ``max_files`` the rest are dropped with the reason, never silently.

Each file kept gets its changed line ranges and the ranges of the functions enclosing them
(:mod:`.enclosing`). Blocking: the server calls it in a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..settings import Settings
from .enclosing import Range, enclosing_regions, merge
from .git_diff import (
    NameStatus,
    empty_tree,
    head_commit,
    hunks,
    merge_base,
    name_status,
    repository_top,
    untracked,
)
from .ignore import compile_patterns, name_of
from .scope import Scope, ScopeRequest, compute_scope
from .scope_types import DEFAULT_EXCLUDED_DIRS, DEFAULT_EXCLUDED_SUFFIXES

MAX_FILES = 50  # the built-in review's own default cap on files
STATUS = {"A": "added", "M": "modified", "R": "renamed", "C": "copied", "T": "type changed", "U": "unmerged"}


@dataclass(frozen=True)
class ChangesRequest:
    """What to compare: ``base`` None for the uncommitted changes, else a branch (or tag, commit)."""

    workspace: Path
    base: str | None = None
    max_files: int = MAX_FILES


@dataclass(frozen=True)
class FileChange:
    """One file to review: its changed lines and the functions around them (1-based, inclusive ranges)."""

    path: str
    status: str
    lines: tuple[Range, ...]
    functions: tuple[Range, ...]
    old_path: str | None = None

    @property
    def changed_lines(self) -> int:
        return sum(end - start + 1 for start, end in self.lines)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "status": self.status, "lines": [list(r) for r in self.lines],
                               "functions": [list(r) for r in self.functions], "changed_lines": self.changed_lines}
        if self.old_path is not None:
            out["old_path"] = self.old_path
        return out


@dataclass
class Changes:
    """The changed files to review and everything left out, with the reason."""

    workspace: Path
    base: str | None
    merge_base: str | None
    files: list[FileChange]
    scope: Scope  # the files to review, as the estimate and the approval's binding take them
    deleted: list[str] = field(default_factory=list)  # not reviewed; secret ones are only counted
    dropped: list[dict[str, str]] = field(default_factory=list)  # {"item", "reason"}; never a secret file
    secret_files: int = 0

    @property
    def changed_lines(self) -> int:
        return sum(f.changed_lines for f in self.files)

    @property
    def what(self) -> str:
        if self.base is None:
            return "the uncommitted changes (staged, unstaged and untracked files)"
        return f"the changes against {self.base} (since the merge-base {(self.merge_base or '')[:12]})"

    def args(self) -> dict[str, Any]:
        """The built-in review's arguments: the files, and per file the lines and functions to look at."""
        args: dict[str, Any] = {
            "files": [f.path for f in self.files],
            "changes": {f.path: {"lines": [list(r) for r in f.lines], "functions": [list(r) for r in f.functions]}
                        for f in self.files}}
        if len(self.files) > MAX_FILES:  # more than the review's own cap was asked for (--max-files)
            args["max_files"] = len(self.files)
        return args

    def summary(self) -> str:
        """One line: ``2 files, 14 changed lines in the uncommitted changes …; 1 deleted file not reviewed``."""
        head = (f"{_count(len(self.files), 'file')}, {_count(self.changed_lines, 'changed line')} in {self.what}")
        return "; ".join([head, *self.left_out()])

    def left_out(self) -> list[str]:
        parts = []
        if self.deleted:
            parts.append(f"{_count(len(self.deleted), 'deleted file')} not reviewed")
        if self.dropped:
            shown = ", ".join(f"{d['item']} ({d['reason']})" for d in self.dropped[:5])
            more = f" and {len(self.dropped) - 5} more" if len(self.dropped) > 5 else ""
            parts.append(f"{len(self.dropped)} left out: {shown}{more}")
        if self.secret_files:
            parts.append(f"{_count(self.secret_files, 'secret file')} left out (never sent to a model)")
        return parts

    def nothing_message(self) -> str:
        """Why there is nothing to review (when ``files`` is empty), and what to do."""
        if not (self.deleted or self.dropped or self.secret_files):
            return f"No changes to review: nothing differs in {self.what}."
        return f"Nothing to review in {self.what}: " + "; ".join(self.left_out()) + "."

    def to_json(self) -> dict[str, Any]:
        return {"workspace": str(self.workspace), "base": self.base, "merge_base": self.merge_base,
                "files": [f.to_json() for f in self.files], "changed_lines": self.changed_lines,
                "deleted": list(self.deleted), "dropped": list(self.dropped), "secret_files": self.secret_files,
                "summary": self.summary()}


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def find_changes(request: ChangesRequest, settings: Settings) -> Changes:
    """The changed files to review (see the module docstring). Raises :class:`UsageError` (a
    :class:`~.git_diff.GitError`) when the workspace is not in a git repository, the base is unknown, or
    git fails or times out; no changes is not an error: ``files`` is empty and :meth:`Changes.nothing_message`
    says why."""
    root = request.workspace.resolve()
    if not root.is_dir():
        raise UsageError(f"the workspace {request.workspace} is not a folder: open a folder or pass --workspace")
    if request.max_files < 1:
        raise UsageError(f"max_files must be at least 1, not {request.max_files}")
    repository_top(root)
    if request.base is not None:
        base_commit: str | None = merge_base(root, request.base)
        against = str(base_commit)
    else:
        base_commit = None
        against = head_commit(root) or empty_tree(root)
    listed = name_status(root, against) + [NameStatus("?", rel) for rel in untracked(root)]
    secret = _secret_test(settings)
    changes = Changes(root, request.base, base_commit, [], Scope(root, []))
    candidates: dict[str, NameStatus] = {}
    for entry in listed:
        if secret(entry.path):
            changes.secret_files += 1  # counted, never named, and its contents are never asked for
        elif entry.status == "D":
            changes.deleted.append(entry.path)
        elif _default_excluded(entry.path):
            changes.dropped.append({"item": entry.path, "reason": "a default exclude (dependencies, build output, "
                                    "caches, lock files and the like)"})
        elif (root / entry.path).is_dir():
            changes.dropped.append({"item": entry.path, "reason": "a submodule: review it in its own repository"})
        else:
            old = entry.old_path if entry.old_path is not None and not secret(entry.old_path) else None
            candidates[entry.path] = NameStatus(entry.status, entry.path, old)
    if not candidates:
        return changes
    scope = compute_scope(ScopeRequest(root, paths=list(candidates)), settings)
    for rel, why in scope.refused.items():
        if "secret" in why:  # a link to a secret file: the link's name may say what it is
            changes.secret_files += 1
        else:
            changes.dropped.append({"item": rel, "reason": why})
    kept = scope.files[:request.max_files]
    for extra in scope.files[request.max_files:]:
        changes.dropped.append({"item": extra.path, "reason": f"over the cap of {request.max_files} changed files "
                                "(raise max_files)"})
    tracked = [f.path for f in kept if candidates[f.path].status != "?"]
    sources = tracked + [old for p in tracked if (old := candidates[p].old_path) is not None]  # renames seen as such
    ranges = hunks(root, against, sources)
    reviewed = []
    for item in kept:
        entry = candidates[item.path]
        change = _file_change(root, entry, ranges.get(item.path, []))
        if change is None:
            reason = ("renamed without a change to its lines" if entry.status == "R" else
                      "no line changed (a change of mode or type only)")
            changes.dropped.append({"item": item.path, "reason": reason})
            continue
        changes.files.append(change)
        reviewed.append(item)
    changes.scope = Scope(root, reviewed, sources=[changes.what])
    return changes


def _file_change(root: Path, entry: NameStatus, lines: list[Range]) -> FileChange | None:
    try:
        text = (root / entry.path).read_text("utf-8", errors="replace")
    except OSError:
        return None
    total = max(len(text.splitlines()), 1)
    if entry.status == "?":  # untracked: every line is new
        lines = [(1, total)]
    lines = merge((max(1, min(s, total)), max(1, min(e, total))) for s, e in lines)
    if not lines:
        return None
    status = "untracked" if entry.status == "?" else STATUS.get(entry.status, "changed")
    return FileChange(entry.path, status, tuple(lines), tuple(enclosing_regions(entry.path, text, lines)),
                      entry.old_path)


def _secret_test(settings: Settings) -> Callable[[str], bool]:
    rules = compile_patterns(settings.secret_patterns, ignore_case=True)

    def secret(rel: str) -> bool:
        if rules is None:
            return False
        parts = rel.split("/")
        folders = ["/".join(parts[:i]) + "/" for i in range(1, len(parts))]
        return any(rules.decide(p, name_of(p)) for p in [rel, *folders])

    return secret


def _default_excluded(rel: str) -> bool:
    parts = rel.split("/")
    return any(part in DEFAULT_EXCLUDED_DIRS for part in parts[:-1]) or parts[-1].endswith(DEFAULT_EXCLUDED_SUFFIXES)
