"""Gitignore-style rules: ignore files compiled into one regular expression each, the settings' exclude
and secret patterns (matched anywhere, secrets case-insensitively), and the repository around a folder."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

from ..settings import Settings
from .scope_types import DEFAULT_EXCLUDED_SUFFIXES

# -- pattern matching ----------------------------------------------------------------------------

_NAMED_GROUP = re.compile(r"\(\?P<[A-Za-z_][A-Za-z0-9_]*>")
_ANYWHERE = "^(?:.+/)?"


@dataclass(frozen=True, slots=True)
class _Pattern:
    regex: str
    include: bool  # False for a negation (``!pattern``)
    on_name: bool  # no inner slash: matched against the entry's name alone (much faster than the path)
    dir_only: bool  # trailing slash: can only match folders, so never a file the walk reaches


def _pattern(line: str) -> _Pattern | None:
    """One gitignore line compiled (by pathspec's GitIgnoreSpec rules), or None for blanks and comments.

    pathspec's expressions also match everything below a matching folder (it has no walk); the walk
    here prunes ignored folders instead, so each expression is made to match the entry itself only
    (a folder is tested with its trailing slash). That is what lets ``!dir/`` re-include a folder
    without re-including files that ``dir/**`` matched, exactly as git does.
    """
    regex, include = GitIgnoreSpecPattern.pattern_to_regex(line)
    if regex is None or include is None:
        return None
    regex = _NAMED_GROUP.sub("(?:", regex)  # names would clash once several patterns share one expression
    # pathspec searches; a few expressions rely on that ("*" -> ".", "*/" -> "/"): state them anchored
    if regex == ".":
        return _Pattern("^[^/]+/?$", bool(include), True, False)
    if regex == "(?:/)":
        return _Pattern("^[^/]+/$", bool(include), True, True)
    if not regex.startswith("^"):
        return _Pattern("^.*?(?:" + regex + ")", bool(include), False, False)
    body = line.strip()
    dir_only = False
    if regex.endswith("(?:(?:/)|$)"):
        head, tail = regex[: -len("(?:(?:/)|$)")], "/?$"
    elif regex.endswith("(?:/)"):
        head, tail, dir_only = regex[: -len("(?:/)")], "/$", True
    elif body.endswith("/**") and regex.endswith("/"):
        # "dir/**" matches what is inside dir, not dir itself: git still descends, so "!dir/keep" works
        head, tail = regex, ".+"
    else:
        head, tail = regex, ""
    if head.startswith(_ANYWHERE) and "/" not in head[len(_ANYWHERE):].replace("[^/]", "") and tail != ".+":
        return _Pattern("^" + head[len(_ANYWHERE):] + tail, bool(include), True, dir_only)
    return _Pattern(head + tail, bool(include), False, dir_only)


def _join(regexes: Iterable[str]) -> re.Pattern[str] | None:
    parts = [f"(?:{r})" for r in regexes]
    return re.compile("|".join(parts)) if parts else None


@dataclass(slots=True)
class IgnoreFile:
    """One compiled ignore file (or pattern list), matched relative to its folder.

    ``decide(rel, name)`` takes the workspace-relative path and the entry's name (both with a trailing
    ``/`` for folders) and returns True (ignored), False (re-included by a negation) or None (no
    pattern matched). To get the path relative to the file's folder, ``strip`` characters are removed
    and ``prefix`` is put in front (``prefix`` serves ignore files above the workspace).
    """

    strip: int
    prefix: str
    patterns: list[_Pattern]
    name_any: re.Pattern[str] | None
    path_any: re.Pattern[str] | None
    ordered: list[tuple[re.Pattern[str], bool, bool]] | None  # only with negations: the last match wins
    file_path_any: re.Pattern[str] | None  # positive path patterns that can match a file

    @classmethod
    def compile(cls, lines: Iterable[str], *, strip: int = 0, prefix: str = "",
                ignore_case: bool = False) -> IgnoreFile | None:
        parsed = [p for p in (_pattern(line) for line in lines) if p is not None]
        if not parsed:
            return None
        if ignore_case:  # scoped flags: these expressions are also joined with case-sensitive ones
            parsed = [_Pattern(f"(?i:{p.regex})", p.include, p.on_name, p.dir_only) for p in parsed]
        negations = any(not p.include for p in parsed)
        ordered = [(re.compile(p.regex), p.include, p.on_name) for p in parsed] if negations else None
        return cls(
            strip, prefix, parsed,
            _join(p.regex for p in parsed if p.on_name), _join(p.regex for p in parsed if not p.on_name), ordered,
            _join(p.regex for p in parsed if not p.on_name and p.include and not p.dir_only),
        )

    @property
    def file_name_regexes(self) -> list[str]:
        """Positive name patterns that can match a file: a file matching none of them is not ignored by name."""
        return [p.regex for p in self.patterns if p.on_name and p.include and not p.dir_only]

    def decide(self, rel: str, name: str) -> bool | None:
        name_any, path_any = self.name_any, self.path_any
        if not ((name_any is not None and name_any.match(name) is not None)
                or (path_any is not None and path_any.match(self.prefix + rel[self.strip:]) is not None)):
            return None
        if self.ordered is None:
            return True
        local = self.prefix + rel[self.strip:]
        for regex, include, on_name in reversed(self.ordered):
            if regex.match(name if on_name else local) is not None:
                return include
        return None  # pragma: no cover - a combined match implies one pattern matches


@dataclass(slots=True)
class FileFilter:
    """The fast test for files in one folder: a file that passes it is excluded by no pattern.

    ``reject`` joins every positive pattern that can match a file by its name (secrets, the excludes
    setting, every .gitignore level in force, the default suffixes); ``paths`` are the few path
    patterns, each with its ignore file for the relative path. A file that fails the fast test gets
    the precise (slower) verdict, which also names the reason.
    """

    reject: re.Pattern[str] | None
    paths: list[tuple[re.Pattern[str], IgnoreFile]]

    @classmethod
    def build(cls, rules: Sequence[IgnoreFile | None]) -> FileFilter:
        names = [r"^.*(?:" + "|".join(re.escape(s) for s in DEFAULT_EXCLUDED_SUFFIXES) + r")$"]
        paths: list[tuple[re.Pattern[str], IgnoreFile]] = []
        for rules_file in rules:
            if rules_file is None:
                continue
            names += rules_file.file_name_regexes
            if rules_file.file_path_any is not None:
                paths.append((rules_file.file_path_any, rules_file))
        return cls(_join(names), paths)

    def suspect(self, rel: str, name: str) -> bool:
        if self.reject is not None and self.reject.match(name) is not None:
            return True
        return any(regex.match(f.prefix + rel[f.strip:]) is not None for regex, f in self.paths)


def name_of(rel: str) -> str:
    """The last component of a relative path, keeping a folder's trailing slash."""
    return rel[rel.rstrip("/").rfind("/") + 1:]


def read_patterns(path: Path) -> list[str]:
    try:
        return path.read_text("utf-8", errors="replace").splitlines()
    except OSError:
        return []


def compile_patterns(patterns: Iterable[str], *, anywhere: bool = True,
                     ignore_case: bool = False) -> IgnoreFile | None:
    """Settings patterns (gitignore syntax, relative to the workspace).

    With ``anywhere``, a pattern with an inner slash (``.aws/**``) also matches below any folder, as
    a secret pattern must: a credentials folder is a secret wherever it sits. With ``ignore_case``
    (secret patterns), ``.ENV`` and ``ID_RSA`` match too: on macOS and Windows they are the same files.
    """
    out: list[str] = []
    for pattern in patterns:
        p = pattern.strip()
        if not p or p.startswith("#"):
            continue
        negated = p.startswith("!")
        body = p[1:] if negated else p
        if anywhere and "/" in body.rstrip("/") and not body.startswith(("/", "**/")):
            body = "**/" + body
        if anywhere and body.endswith("/**"):
            body = body[:-2]  # a secret folder is pruned whole, not file by file
        out.append(("!" if negated else "") + body)
    return IgnoreFile.compile(out, ignore_case=ignore_case)


def is_secret(rel_path: str, settings: Settings, *, is_dir: bool = False) -> bool:
    """Whether a workspace-relative POSIX path matches ``settings.secret_patterns`` (case-insensitively)."""
    rules = compile_patterns(settings.secret_patterns, ignore_case=True)
    rel = rel_path + ("/" if is_dir else "")
    return bool(rules is not None and rules.decide(rel, name_of(rel)))


def estimate_file_tokens(size: int) -> int:
    """Tokens for ``size`` bytes, the same math as ``engine.scenario.estimate_tokens`` (bytes / 4)."""
    return (size + 3) // 4 if size > 0 else 0


def git_dir_of(root: Path) -> Path | None:
    """The repository's git folder (``.git`` may be a file pointing elsewhere, for worktrees)."""
    dot_git = root / ".git"
    if dot_git.is_dir():
        return dot_git
    if dot_git.is_file():
        text = dot_git.read_text("utf-8", errors="replace").strip()
        if text.startswith("gitdir:"):
            target = Path(text[len("gitdir:"):].strip())
            return target if target.is_absolute() else (root / target).resolve()
    return None


def global_excludes_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "git" / "ignore"


def repository_root(start: Path) -> Path | None:
    for folder in [start, *start.parents]:
        if (folder / ".git").exists():
            return folder
    return None
