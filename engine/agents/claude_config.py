"""Where Claude Code keeps agents, skills and plugins: the project's ``.claude/`` folders (from the
workspace up to the repository root) and the user's ``~/.claude/`` (``HOME``, read when asked)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..workspace.ignore import repository_root


def home_folder(home: Path | None = None) -> Path:
    """``~/.claude`` of ``home`` (default: the ``HOME`` of this process, read now). Without any home folder,
    a path that does not exist: no user agents, skills or plugins."""
    if home is None:
        try:
            home = Path.home()
        except (RuntimeError, KeyError):
            return Path("/nonexistent") / ".claude"
    return home / ".claude"


def project_folders(workspace: Path, kind: str, home: Path | None = None) -> list[Path]:
    """Every ``.claude/<kind>`` folder from the workspace up to the repository root, closest first (only the
    workspace's own when it is not in a repository). A folder that is also the user's is left out."""
    start = workspace.resolve()
    root = repository_root(start)
    try:
        personal: Path | None = (home_folder(home) / kind).resolve()
    except OSError:
        personal = None
    out: list[Path] = []
    for folder in [start, *start.parents]:
        candidate = folder / ".claude" / kind
        if candidate.is_dir() and candidate.resolve() != personal:
            out.append(candidate)
        if root is None or folder == root:
            break
    return out


def read_json(path: Path) -> Any:
    """A JSON file's value, or None when it is missing or not JSON (Claude Code's files are optional)."""
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None


def inside_project(path: Path, folder: Path) -> bool:
    """``path`` (a file or folder found in the project's ``folder``: ``.../.claude/agents``) resolves inside the
    project folder that holds that ``.claude``: a link planted in a repository cannot reach the home folder."""
    try:
        root = folder.parent.parent.resolve()
        target = path.resolve()
    except OSError:
        return False
    return target == root or root in target.parents
