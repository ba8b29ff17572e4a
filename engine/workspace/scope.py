"""Scope: the files a workflow works on, from what the user pointed at.

The user points at a selection in one file, files and folders in the explorer, their open editors, or
the whole workspace. :func:`compute_scope` turns that into a file list with sizes and a token
estimate, and says what it left out and why: ``.gitignore`` rules (every level, negations, anchored
patterns, plus ``.git/info/exclude`` and the global excludes file), default excludes (VCS folders,
virtual environments, ``node_modules``, build output, caches), binaries, files over the size cap, the
user's ``excludes`` and secret files (patterns matched case-insensitively; a symlink is also judged by
its target), which are never included and never read, nor files with several hard links (one of their
other names may be a secret file).

It is fast on large trees. In a git work tree (``git`` on PATH), the whole workspace comes from git:
``git ls-files --others --exclude-standard`` (run while this process reads the index) lists the
untracked files git does not ignore, and the tracked files, with their sizes, come from the index
file itself, read here; no tracked file is ``stat``-ed. Workcrew's own rules then apply to that list
(see :meth:`Collector.git_walk` for where this differs from the walk: staged sizes, tracked files
that ``.gitignore`` would match are kept, ``.gitignore`` exclusions are not counted unless
``ScopeRequest.report_ignored`` asks git for them too: :mod:`.scope_ignored`). Anywhere else,
or when the index is in a form not read here (version 4, split, sparse), or ``WORKCREW_SCOPE_NO_GIT``
is set, it walks: one ``os.scandir`` pass, ignored folders pruned before descending, each ignore file
compiled once into a single regular expression, sizes from ``stat``. Either way contents are read
only to sniff a small prefix of files whose extension says nothing, and tokens are bytes / 4.

Rules for explicit picks: a file the user names (selection, explorer, open editor) is included even if
``.gitignore`` or a default exclude would drop it during a walk (they chose it), but secret, binary,
over-size, outside-the-workspace and the ``excludes`` setting still apply; a refused pick is reported
in :attr:`Scope.refused` with the reason. Folders the user names are walked with the same rules as
the whole workspace.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import UsageError
from ..settings import Settings
from .git_index import NO_GIT_VARIABLE
from .ignore import estimate_file_tokens, is_secret, name_of
from .scope_ignored import record_git_ignored
from .scope_types import (
    BINARY,
    DEFAULT,
    GITIGNORE,
    HARD_LINK,
    SECRET,
    SPECIAL,
    SYMLINK_OUTSIDE,
    TOO_LARGE,
    UNREADABLE,
    USER_EXCLUDE,
    VIRTUALENV,
    Scope,
    ScopeFile,
    ScopeRequest,
    Selection,
)
from .walk import Collector

# -- entry point ---------------------------------------------------------------------------------

def _relative(root: Path, target: Path | str) -> tuple[str | None, Path]:
    """(workspace-relative POSIX path or None when outside, absolute path) without following the last link."""
    path = Path(target)
    if not path.is_absolute():
        path = root / path
    absolute = Path(os.path.normpath(path))
    try:
        parent = absolute.parent.resolve()
    except (OSError, RuntimeError):
        return None, absolute
    candidate = parent / absolute.name if absolute.name else parent
    if candidate == root:
        return "", candidate
    if root not in candidate.parents:
        return None, candidate
    return candidate.relative_to(root).as_posix(), candidate


def compute_scope(request: ScopeRequest, settings: Settings) -> Scope:
    """The files in scope for ``request``; see the module docstring for the rules.

    Raises :class:`UsageError` when the workspace is not a folder or the selection's lines are invalid.
    Explicit picks that cannot be used (secret, missing, outside the workspace, binary, too large)
    are not errors: they are listed in ``Scope.refused`` with the reason.
    """
    # the scope of a large tree allocates one small object per file and none of them form cycles: the
    # cyclic garbage collector would only rescan them, repeatedly (a quarter of the time on 100,000 files)
    with _collector_paused():
        return _compute_scope(request, settings)


_pause_lock = threading.Lock()
_pause_depth = 0
_collector_was_enabled = False


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic collector; overlapping scopes (the server computes them in worker threads)
    share one pause, and the collector's earlier state comes back when the last one ends."""
    global _pause_depth, _collector_was_enabled
    with _pause_lock:
        if _pause_depth == 0:
            _collector_was_enabled = gc.isenabled()
            gc.disable()
        _pause_depth += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pause_depth -= 1
            if _pause_depth == 0 and _collector_was_enabled:
                gc.enable()


def _compute_scope(request: ScopeRequest, settings: Settings) -> Scope:
    root = Path(request.workspace).resolve()
    if not root.is_dir():
        raise UsageError(f"the workspace {request.workspace} is not a folder: open a folder or pass --workspace")
    selection = request.selection
    if selection is not None and (selection.start_line < 1 or selection.end_line < selection.start_line):
        raise UsageError(f"invalid selection lines {selection.start_line}-{selection.end_line} in {selection.path}: "
                         "lines are 1-based and the end may not come before the start")
    collector = Collector(root, settings)
    refused: dict[str, str] = {}
    sources: list[str] = []
    scope_selection: Selection | None = None

    def secret_or_excluded(rel: str, is_dir: bool) -> str | None:
        """Why an explicit pick may not be used by pattern: it, or a folder above it, is secret or excluded."""
        own = rel + "/" if is_dir else rel
        secrets, user_excludes = collector.secrets, collector.user_excludes
        if secrets is not None and (secrets.decide(own, name_of(own)) or any(
                secrets.decide(part + "/", name_of(part + "/")) for part in _ancestors(rel))):
            collector.exclude(SECRET, own)
            return "a secret file (matches secret_patterns): never sent to a model"
        if user_excludes is not None and user_excludes.decide(own, name_of(own)):
            collector.exclude(USER_EXCLUDE, own)
            return "matches the excludes setting"
        return None

    def pick_file(target: Path | str, lines: tuple[int, int] | None = None) -> str | None:
        """Check one explicit pick; a file is added, a folder is returned as ``rel/`` for walking."""
        rel, absolute = _relative(root, target)
        shown = str(target)
        if rel is None:
            refused[shown] = "outside the workspace"
            return None
        if rel == "":
            refused[shown] = "is the workspace folder itself; use the whole workspace instead"
            return None
        why = secret_or_excluded(rel, absolute.is_dir() and not absolute.is_symlink())
        if why is not None:
            refused[rel] = why
            return None
        if absolute.is_symlink():
            try:
                resolved = absolute.resolve(strict=True)
            except (OSError, RuntimeError):
                refused[rel] = "a broken symlink"
                return None
            if not collector._inside(resolved):
                refused[rel] = "a symlink that points outside the workspace"
                collector.exclude(SYMLINK_OUTSIDE, rel)
                return None
            if resolved == root:
                refused[rel] = "a link to the workspace folder itself; use the whole workspace instead"
                return None
            target_rel = resolved.relative_to(root).as_posix()
            why = secret_or_excluded(target_rel, resolved.is_dir())
            if why is not None:
                refused[rel] = why
                return None
            if resolved.is_dir():  # walk the real folder, so its files have their real paths
                rel, absolute = target_rel, resolved
        if not absolute.exists():
            refused[rel] = "does not exist"
            return None
        if absolute.is_dir():
            return rel + "/"
        why = collector.add_path(absolute, rel, lines)
        if why is not None:
            refused[rel] = {BINARY: "a binary file", TOO_LARGE: f"over the size cap of {settings.max_file_bytes:,} bytes",
                            SPECIAL: "not a regular file", UNREADABLE: "cannot be read",
                            HARD_LINK: "a file with several hard links (it may be another name for a secret file)",
                            }.get(why, why)
            return None
        return rel

    def pick(target: Path | str) -> None:
        got = pick_file(target)
        if got is not None and got.endswith("/"):
            folder = got.rstrip("/")
            collector.walk(folder, collector.rules_for(folder))

    if selection is not None:
        got = pick_file(selection.path, (selection.start_line, selection.end_line))
        if got is not None and not got.endswith("/"):
            scope_selection = Selection(got, selection.start_line, selection.end_line, selection.text)
            sources.append(f"a selection in {got} (lines {selection.start_line}-{selection.end_line})")
        elif got is not None:
            refused[got] = "a selection must be inside a file, not a folder"
    if request.paths:
        for target in request.paths:
            pick(target)
        sources.append(f"{len(request.paths)} path(s) in the explorer")
    if request.open_files:
        for target in request.open_files:
            got = pick_file(target)
            if got is not None and got.endswith("/"):
                refused[got] = "an open editor must be a file"
        sources.append(f"{len(request.open_files)} open editor(s)")
    notes: list[str] = []
    if request.whole_workspace or request.empty:
        if not collector.git_walk():
            collector.walk("", list(collector.base_rules))
        elif request.report_ignored:  # git listed only what it does not ignore: ask it for the rest
            notes += record_git_ignored(collector)
        sources.append("the whole workspace")

    found = collector.files
    order = sorted(found)
    files = list(found.values()) if order == list(found) else [found[path] for path in order]  # often sorted already
    return Scope(root, files, scope_selection, collector.excluded, collector.counts, refused, sources, notes)


def _ancestors(rel: str) -> list[str]:
    parts = rel.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


__all__ = [
    "BINARY",
    "DEFAULT",
    "GITIGNORE",
    "HARD_LINK",
    "NO_GIT_VARIABLE",
    "SECRET",
    "SYMLINK_OUTSIDE",
    "TOO_LARGE",
    "VIRTUALENV",
    "Scope",
    "ScopeFile",
    "ScopeRequest",
    "Selection",
    "compute_scope",
    "estimate_file_tokens",
    "is_secret",
]
