"""What an approval covers of the workspace: the files and folders a run names (in its scope and its
arguments), whether a later run stays inside them, and how to say what grew."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

WHOLE_WORKSPACE = "."  # the scope of a run that names no file: the whole workspace


# -- the scope ------------------------------------------------------------------------------------------

# args keys whose strings are paths even when nothing exists there yet (a file to create, a glob):
# files, paths, path, file, modules, dir, folders, root, scope, include, glob, uri, test_file, sourcePaths...
_PATH_KEY = re.compile(r"(?:file|path|dir|director(?:y|ie)|folder|module|root|scope|include|glob|uri)s?$")
# elsewhere a string is a path when it names an existing file or folder, or looks like a file name
_LOOKS_LIKE_FILE = re.compile(r"[\w./-]*\w\.[A-Za-z][A-Za-z0-9]{0,7}")
_GLOB = re.compile(r"[*?\[]")
_MAX_DEPTH = 64


def _path_key(key: Any) -> bool:
    return bool(_PATH_KEY.search(str(key).lower().replace("_", "").replace("-", "")))


def scope_entry(raw: str, workspace: Path, *, named: bool = True) -> str | None:
    """One scope entry for a string that names a path: workspace-relative POSIX, ``/`` after a folder,
    ``.`` for the workspace itself, absolute outside it; a glob stands for the folder it starts in.
    ``None`` when the string is not a path (``named``: it is the value of a path-like key)."""
    return _entry(raw, Path(os.path.realpath(workspace)), named)


def _entry(raw: str, root: Path, named: bool) -> str | None:
    text = raw.strip()
    if not text or len(text) > 4096 or any(c in text for c in "\n\r\0"):
        return None
    if text.startswith("file:"):
        text = unquote(urlparse(text).path)
    glob = bool(_GLOB.search(text))
    if glob:
        head: list[str] = []
        for part in text.split("/"):
            if _GLOB.search(part):
                break
            head.append(part)
        text = "/".join(head) or ("/" if text.startswith("/") else ".")
    path = Path(text).expanduser()
    full = Path(os.path.realpath(path if path.is_absolute() else root / path))
    if not named and not glob and not (_LOOKS_LIKE_FILE.fullmatch(text) or full.exists()):
        return None
    folder = glob or text.endswith("/") or full.is_dir()
    try:
        relative = full.relative_to(root).as_posix()
    except ValueError:
        relative = None
    if relative == ".":
        return WHOLE_WORKSPACE
    entry = relative if relative is not None else full.as_posix()
    return entry.rstrip("/") + "/" if folder else entry


def _scope_paths(scope: Any) -> tuple[list[str], list[str]]:
    """The paths of an editor scope or of the estimate's scope input (paths, pairs, a mapping), as
    (entries as they are, paths to resolve): a ``Scope``'s files are already workspace-relative files."""
    if scope is None:
        return [], []
    if hasattr(scope, "files"):
        return [str(f.path) for f in scope.files], []
    items: Iterable[Any] = scope.keys() if isinstance(scope, Mapping) else scope
    out = []
    for item in items:
        if isinstance(item, tuple) and item:
            out.append(str(item[0]))
        elif hasattr(item, "path"):
            out.append(str(item.path))
        else:
            out.append(str(item))
    return [], out


def _arg_strings(args: Any) -> Iterable[tuple[str, bool]]:
    """Every string in the args with whether it is named as a path (the value, or an item of the list, of a
    path-like key). Iterative: deep args cannot overflow the stack."""
    stack: list[tuple[Any, bool, int]] = [(args, False, 0)]
    while stack:
        value, named, depth = stack.pop()
        if isinstance(value, str):
            yield value, named
        elif depth >= _MAX_DEPTH:
            continue
        elif isinstance(value, Mapping):
            stack.extend((item, _path_key(key), depth + 1) for key, item in value.items())
        elif isinstance(value, list | tuple):
            stack.extend((item, named, depth + 1) for item in value)


def scope_entries(args: Any, scope: Any, workspace: Path) -> tuple[str, ...]:
    """The scope a run is approved over: the editor scope's files plus the paths its args name; the whole
    workspace (``.``) when neither names any (the workflow then decides what to read)."""
    root = Path(os.path.realpath(workspace))
    known, to_resolve = _scope_paths(scope)
    entries: set[str] = set(known)
    resolved: dict[tuple[str, bool], str | None] = {}
    strings = [(path, True) for path in to_resolve] + list(_arg_strings(args))
    for text, named in strings:
        if text in entries:  # the editor scope's files are in the args too (args["files"]): no look-up
            continue
        if (text, named) not in resolved:
            resolved[text, named] = _entry(text, root, named)
        entry = resolved[text, named]
        if entry is not None:
            entries.add(entry)
    return tuple(sorted(entries)) if entries else (WHOLE_WORKSPACE,)


def _folders_of(entry: str) -> Iterable[str]:
    """The folders an entry lies in, outermost first (``a/b/c.py`` → ``a/``, ``a/b/``)."""
    parts = entry.rstrip("/").split("/")
    for end in range(1, len(parts)):
        yield "/".join(parts[:end]) + "/"


def covered(entry: str, approved: frozenset[str] | set[str]) -> bool:
    """Whether an approved scope covers an entry: the same path, a folder it lies in, or the whole workspace."""
    if entry in approved or (WHOLE_WORKSPACE in approved and not entry.startswith("/")):
        return True
    return any(folder in approved for folder in _folders_of(entry))


def scope_growth(before: Sequence[str], now: Sequence[str], limit: int = 5) -> list[str]:
    """What ``now`` adds to ``before``, like ``+src/new_module/ (3 files)``, ``+README.md``; empty when covered.

    New entries are grouped by the outermost folder that held nothing approved; a group of more than one is
    shown by the deepest folder they all lie in.
    """
    approved = frozenset(before)
    new = [entry for entry in now if not covered(entry, approved)]
    if not new:
        return []
    touched = {folder for entry in approved for folder in _folders_of(entry)} | {e for e in approved if e.endswith("/")}
    groups: dict[str, list[str]] = {}
    for entry in new:
        label = entry
        if entry != WHOLE_WORKSPACE:
            for folder in _folders_of(entry):
                if folder != "/" and folder not in touched:
                    label = folder
                    break
        groups.setdefault(label, []).append(entry)
    shown = []
    for label, entries in groups.items():
        if label == WHOLE_WORKSPACE:
            shown.append("+the whole workspace")
        elif len(entries) == 1:
            shown.append(f"+{entries[0]}")
        else:
            kind = "files" if not any(e.endswith("/") for e in entries) else "paths"
            shown.append(f"+{_common_folder(entries) or label} ({len(entries):,} {kind})")
    if len(shown) > limit:
        shown = [*shown[:limit], f"and {len(shown) - limit:,} more"]
    return shown


def _common_folder(entries: Sequence[str]) -> str | None:
    """The deepest folder every entry lies in (or is)."""
    folders = [[*_folders_of(e), e] if e.endswith("/") else list(_folders_of(e)) for e in entries]
    common = None
    for level in zip(*folders, strict=False):
        if len(set(level)) != 1:
            break
        common = level[0]
    return common


def describe_scope(entries: Sequence[str], limit: int = 4) -> str:
    """The scope for the prompt: ``calc.py, src/`` or ``the whole workspace``."""
    names = ["the whole workspace" if e == WHOLE_WORKSPACE else e for e in entries]
    if len(names) <= limit:
        return ", ".join(names)
    return f"{len(names):,} paths: " + ", ".join(names[:limit]) + f" and {len(names) - limit:,} more"
