"""Where agents and commands may look: paths confined to the workspace, and secret files never read.

A path is normalised and must stay inside the workspace root; links are resolved before the checks, so
one pointing outside or at a secret file is refused; a file with several hard links may be another name
for a secret file and is never read. Secret files match ``secret_patterns`` anywhere, case-insensitively.
"""

from __future__ import annotations

import functools
import os
import posixpath
import re
import stat
from pathlib import Path

import pathspec

from ..settings import DEFAULT_SECRET_PATTERNS, Settings


class ToolError(Exception):
    """A refused or failed tool call; its message goes back to the model."""


def _compile(patterns: list[str]) -> pathspec.GitIgnoreSpec:
    """Secret patterns, matched case-insensitively (paths are lowercased before matching)."""
    return _compile_cached(tuple(p.lower() for p in patterns))


@functools.lru_cache(maxsize=64)
def _compile_cached(patterns: tuple[str, ...]) -> pathspec.GitIgnoreSpec:
    # every agent builds a toolbox; compiling the same secret patterns each time cost ~1 ms per agent
    return pathspec.GitIgnoreSpec.from_lines(patterns)


_compile(list(DEFAULT_SECRET_PATTERNS))  # the rules nearly every run uses, compiled with the module (~1 ms)


@functools.lru_cache(maxsize=256)
def _resolved_root(root: Path) -> Path:
    # every agent of a run gets a toolbox on the same root; resolving it once saves two lstat calls each
    return root.resolve()


class PathPolicy:
    """Where an agent may look: confinement, secret files, size and binary limits."""

    def __init__(self, root: Path, settings: Settings) -> None:
        self.root = _resolved_root(root)
        self.secrets = _compile(settings.secret_patterns)
        self.max_bytes = settings.max_file_bytes

    def is_secret(self, rel: str) -> bool:
        # secret patterns apply wherever the file sits: test every tail of the path; case-insensitively,
        # as .ENV is .env on macOS and Windows
        parts = rel.lower().split("/")
        return any(self.secrets.match_file("/".join(parts[i:])) for i in range(len(parts)))

    def is_secret_path(self, rel: str) -> bool:
        """``rel`` is a secret file or folder (``.aws/**`` matches what is inside ``.aws``)."""
        return bool(rel) and (self.is_secret(rel) or self.is_secret(rel + "/x"))

    def relative(self, path: str) -> str:
        """The workspace-relative POSIX form of ``path``, or ToolError when it leaves the workspace."""
        if not isinstance(path, str):
            raise ToolError("path must be a string")
        text = path.strip().replace("\\", "/") or "."
        if text.startswith("/") or re.match(r"^[A-Za-z]:/", text):
            absolute = Path(text).resolve()
            if absolute != self.root and self.root not in absolute.parents:
                raise ToolError(f"{path!r} is outside the workspace: use a path relative to the workspace root")
            text = absolute.relative_to(self.root).as_posix() or "."
        rel = posixpath.normpath(text)
        if rel == ".." or rel.startswith("../"):
            raise ToolError(f"{path!r} leaves the workspace: '..' may not climb above the workspace root")
        return "" if rel == "." else rel

    def real(self, rel: str) -> Path:
        """The file on disk for ``rel``, refusing links that point outside the workspace or at a secret."""
        target = (self.root / rel) if rel else self.root
        resolved = target.resolve()
        if resolved != self.root and self.root not in resolved.parents:
            raise ToolError(f"{rel!r} is a link that points outside the workspace; refused")
        if resolved != target and self.is_secret_path(resolved.relative_to(self.root).as_posix()):
            raise ToolError(f"{rel!r} is a link to a secret file (matches secret_patterns) and is never read")
        return target

    @staticmethod
    def check_links(rel: str, info: os.stat_result) -> None:
        """A regular file with several hard links may be another name for a secret file: never read."""
        if stat.S_ISREG(info.st_mode) and info.st_nlink > 1:
            raise ToolError(f"{rel!r} has {info.st_nlink} hard links; a file with several names may be another "
                            "name for a secret file, so it is never read")

    def check_readable(self, rel: str) -> None:
        if rel and self.is_secret(rel):
            raise ToolError(f"{rel!r} is a secret file (matches secret_patterns) and is never read")
