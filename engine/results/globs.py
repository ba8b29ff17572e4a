"""The globs a project rule's ``applies to`` holds: workspace-relative, ``/``-separated, several at once.

``*`` and ``?`` stay within one folder name, ``**`` crosses folders, ``{a,b}`` is either; a comma outside
braces separates globs (``src/**, lib/**``). A glob without a ``/`` matches a name anywhere (``*.py``,
``tests``), one with a ``/`` (or a leading ``/``) from the workspace's root; a glob that matches a folder
matches everything in it.
"""

from __future__ import annotations

import re
from functools import lru_cache


def split_globs(spec: str) -> list[str]:
    """``spec``'s globs: split on commas outside braces, blanks dropped."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in spec:
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        depth += 1 if char == "{" else -1 if char == "}" and depth else 0
        current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def glob_problem(spec: str) -> str | None:
    """What is wrong with ``spec`` (unbalanced braces, no glob at all), or None."""
    globs = split_globs(spec)
    if not globs:
        return "no glob; write e.g. `**` (everywhere), `src/**` or `*.py`"
    for glob in globs:
        if glob.count("{") != glob.count("}"):
            return f"unbalanced braces in {glob!r}"
    return None


@lru_cache(maxsize=512)
def compile_glob(spec: str) -> re.Pattern[str]:
    """One expression for every glob of ``spec`` (see the module's docstring)."""
    return re.compile("|".join(f"(?:{_one(glob)})" for glob in split_globs(spec)) or r"(?!)")


def matches_path(spec: str, path: str) -> bool:
    """``path`` (workspace-relative) or one of its folders matches a glob of ``spec``."""
    pattern = compile_glob(spec)
    path = path.replace("\\", "/").strip("/")
    while path.startswith("./"):
        path = path[2:]
    parts = path.split("/")
    return any(pattern.fullmatch("/".join(parts[:n])) for n in range(len(parts), 0, -1))


def _one(glob: str) -> str:
    anchored = glob.startswith("/") or "/" in glob.rstrip("/")
    glob = glob.strip("/")
    out: list[str] = []
    i = 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:[^/]+/)*")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        elif glob[i] == "{":
            close = _closing(glob, i)
            options = split_globs(glob[i + 1:close]) if close > i else []
            # each option is matched where the brace stands (a leading "/" keeps _one from prefixing folders)
            out.append("(?:" + "|".join(_one("/" + option) for option in options) + ")" if options else re.escape("{"))
            i = close + 1 if close > i else i + 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    body = "".join(out)
    return body if anchored else f"(?:[^/]+/)*{body}"


def _closing(glob: str, start: int) -> int:
    depth = 0
    for index in range(start, len(glob)):
        if glob[index] == "{":
            depth += 1
        elif glob[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    return -1
