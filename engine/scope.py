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
(see :meth:`_Collector.git_walk` for where this differs from the walk: staged sizes, tracked files
that ``.gitignore`` would match are kept, ``.gitignore`` exclusions are not counted). Anywhere else,
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
import re
import shutil
import struct
import subprocess
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_ISLNK, S_ISREG
from typing import Any

from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

from .errors import UsageError
from .settings import Settings

# -- what is left out by default -----------------------------------------------------------------

def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


DEFAULT_EXCLUDED_DIRS = frozenset({
    ".git", ".hg", ".svn", ".bzr", "_darcs", ".jj",
    ".venv", "venv", "env", ".env",  # also any folder holding pyvenv.cfg (see _is_virtualenv)
    "node_modules", "bower_components", "__pycache__", ".tox", ".nox", ".mypy_cache", ".pytest_cache",
    ".ruff_cache", ".hypothesis", ".eggs", "build", "dist", "target", "out", ".next", ".nuxt",
    ".gradle", ".idea", ".vs", ".cache", ".parcel-cache", ".turbo", ".terraform", ".workcrew",
    ".claude",  # worktrees and saved workflows: not the user's code
    "coverage", "htmlcov", ".coverage_html",
})
DEFAULT_EXCLUDED_SUFFIXES = (
    ".min.js", ".min.css", ".map", ".pyc", ".pyo", ".lock", "-lock.json", ".lockb", ".log",
    ".egg-info", ".DS_Store", ".coverage",
)
BINARY_EXTENSIONS = _words("""
png jpg jpeg gif bmp ico icns webp tiff tif psd heic avif svgz
mp3 mp4 m4a m4v mov avi mkv webm wav flac ogg opus aac wma wmv
zip gz tgz bz2 xz zst 7z rar tar jar war ear whl egg apk ipa dmg iso img deb rpm msi cab
exe dll so dylib a lib o obj bin dat class pyd pdb wasm node
pdf doc docx xls xlsx ppt pptx odt ods odp epub
ttf otf woff woff2 eot
sqlite sqlite3 db mdb parquet feather arrow avro orc npy npz pkl pickle h5 hdf5 pt pth onnx ckpt safetensors
pyc pyo
""")
# Extensions known to be text: no need to open the file to sniff for a NUL byte.
TEXT_EXTENSIONS = _words("""
py pyi pyx pxd ipynb js jsx mjs cjs ts tsx mts cts vue svelte astro json jsonc json5 yaml yml toml ini cfg conf
md markdown rst txt adoc org tex bib csv tsv xml html htm xhtml css scss sass less svg
c h cc cpp cxx hh hpp hxx m mm cs fs fsx vb java kt kts scala groovy gradle go rs swift dart zig nim
rb php pl pm lua r jl ex exs erl hrl hs elm clj cljs edn ml mli sql graphql gql proto thrift
sh bash zsh fish ps1 psm1 bat cmd mk cmake make dockerfile tf tfvars hcl nix
gitignore gitattributes editorconfig env example sample template tpl j2 jinja mustache hbs
lock sum mod properties gemspec podspec rake cabal patch diff
""")
SNIFF_BYTES = 8192
SAMPLE_LIMIT = 20  # sample paths kept per exclusion reason

# Reasons, as they appear in ``Scope.excluded`` and ``Scope.excluded_counts``.
GITIGNORE = "gitignore"
DEFAULT = "default-exclude"
VIRTUALENV = "virtualenv"
BINARY = "binary"
TOO_LARGE = "too-large"
SECRET = "secret"
USER_EXCLUDE = "excludes-setting"
SYMLINK_OUTSIDE = "symlink-outside-workspace"
SYMLINK_DIR = "symlinked-folder"
UNREADABLE = "unreadable"
SPECIAL = "not-a-regular-file"
# a file with several names may be another name for a secret file (tools.py never reads one either);
# files the git index lists are not stat-ed, so only the walk, untracked files and picks get this
HARD_LINK = "hard-linked"


# -- the request and the result ------------------------------------------------------------------

@dataclass(frozen=True)
class Selection:
    """A range of lines the user selected in one file.

    ``path`` is absolute or relative to the workspace; lines are 1-based and inclusive (an LSP range
    ``{start: {line: 9}, end: {line: 19}}`` is ``start_line=10, end_line=20``). ``text`` is the
    selected text as the editor has it (possibly unsaved).
    """

    path: str
    start_line: int
    end_line: int
    text: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "start_line": self.start_line, "end_line": self.end_line, "text": self.text}


@dataclass
class ScopeRequest:
    """What the user pointed at. With nothing set, the whole workspace is the scope."""

    workspace: Path
    selection: Selection | None = None
    paths: Sequence[Path | str] = ()  # explorer selection: files and folders
    open_files: Sequence[Path | str] = ()
    whole_workspace: bool = False

    @property
    def empty(self) -> bool:
        return self.selection is None and not self.paths and not self.open_files


@dataclass(slots=True)
class ScopeFile:
    """One file in scope: workspace-relative POSIX path, size, estimated tokens, selected lines if any."""

    path: str
    bytes: int
    tokens: int
    lines: tuple[int, int] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "bytes": self.bytes, "tokens": self.tokens}
        if self.lines is not None:
            out["lines"] = list(self.lines)
        return out


@dataclass
class Scope:
    """The files a workflow works on, and what was left out and why."""

    workspace: Path
    files: list[ScopeFile]
    selection: Selection | None = None
    excluded: dict[str, list[str]] = field(default_factory=dict)  # reason -> sample paths (capped)
    excluded_counts: dict[str, int] = field(default_factory=dict)  # reason -> how many entries
    refused: dict[str, str] = field(default_factory=dict)  # explicit pick -> why it is not in scope
    sources: list[str] = field(default_factory=list)  # what the user pointed at, for display

    @property
    def total_bytes(self) -> int:
        return sum(f.bytes for f in self.files)

    @property
    def total_tokens(self) -> int:
        return sum(f.tokens for f in self.files)

    @property
    def paths(self) -> list[str]:
        return [f.path for f in self.files]

    def to_json(self) -> dict[str, Any]:
        return {
            "workspace": str(self.workspace),
            "sources": list(self.sources),
            "files": [f.to_json() for f in self.files],
            "selection": self.selection.to_json() if self.selection else None,
            "total_files": len(self.files),
            "total_bytes": self.total_bytes,
            "total_tokens": self.total_tokens,
            "excluded": {k: list(v) for k, v in self.excluded.items()},
            "excluded_counts": dict(self.excluded_counts),
            "refused": dict(self.refused),
        }

    def summary(self, limit: int = 200) -> str:
        """Plain text for the orchestrator's prompt: what was pointed at, the files, what was left out.

        Secret files are counted, never named. At most ``limit`` files are listed; the rest are counted.
        """
        lines = [f"Workspace: {self.workspace}"]
        if self.sources:
            lines.append("The user pointed at: " + "; ".join(self.sources))
        lines.append(f"Files in scope: {len(self.files):,} ({self.total_bytes:,} bytes, "
                     f"about {self.total_tokens:,} tokens)")
        for item in self.files[:limit]:
            extra = f"  [lines {item.lines[0]}-{item.lines[1]} selected]" if item.lines else ""
            lines.append(f"  {item.path}  ({item.bytes:,} bytes, ~{item.tokens:,} tokens){extra}")
        if len(self.files) > limit:
            lines.append(f"  ... and {len(self.files) - limit:,} more files (not listed here; all are in args['files'])")
        if self.excluded_counts:
            parts = []
            for reason, count in sorted(self.excluded_counts.items()):
                samples = "" if reason == SECRET else ", ".join(self.excluded.get(reason, [])[:3])
                parts.append(f"{reason} {count:,}" + (f" (e.g. {samples})" if samples else ""))
            lines.append("Left out: " + "; ".join(parts))
        for pick, why in self.refused.items():
            lines.append(f"Refused: {pick}: {why}")
        if self.selection is not None and self.selection.text:
            sel = self.selection
            lines.append(f"Selected text ({sel.path} lines {sel.start_line}-{sel.end_line}):")
            lines.append("<<<SELECTION")
            lines.append(sel.text if len(sel.text) <= 20_000 else sel.text[:20_000] + "\n[... selection truncated]")
            lines.append("SELECTION>>>")
        return "\n".join(lines)


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
class _FileFilter:
    """The fast test for files in one folder: a file that passes it is excluded by no pattern.

    ``reject`` joins every positive pattern that can match a file by its name (secrets, the excludes
    setting, every .gitignore level in force, the default suffixes); ``paths`` are the few path
    patterns, each with its ignore file for the relative path. A file that fails the fast test gets
    the precise (slower) verdict, which also names the reason.
    """

    reject: re.Pattern[str] | None
    paths: list[tuple[re.Pattern[str], IgnoreFile]]

    @classmethod
    def build(cls, rules: Sequence[IgnoreFile | None]) -> _FileFilter:
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


def _name(rel: str) -> str:
    """The last component of a relative path, keeping a folder's trailing slash."""
    return rel[rel.rstrip("/").rfind("/") + 1:]


def _read_patterns(path: Path) -> list[str]:
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
    return bool(rules is not None and rules.decide(rel, _name(rel)))


def estimate_file_tokens(size: int) -> int:
    """Tokens for ``size`` bytes, the same math as ``engine.scenario.estimate_tokens`` (bytes / 4)."""
    return (size + 3) // 4 if size > 0 else 0


def _git_dir(root: Path) -> Path | None:
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


def _global_excludes_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "git" / "ignore"


# -- the walk ------------------------------------------------------------------------------------

class _Collector:
    """Walks folders with the ignore rules in force, filling the file list and the exclusion record."""

    def __init__(self, root: Path, settings: Settings) -> None:
        self.root = root
        self.root_str = str(root)
        self.max_bytes = settings.max_file_bytes
        self.secrets = compile_patterns(settings.secret_patterns, ignore_case=True)
        self.user_excludes = compile_patterns(settings.excludes, anywhere=False)
        self.files: dict[str, ScopeFile] = {}
        self.excluded: dict[str, list[str]] = {}
        self.counts: dict[str, int] = {}
        self.repo: Path | None = None
        self.base_rules = self._outer_rules()

    # -- rules that apply above and at the workspace root ---------------------------------------

    def _outer_rules(self) -> list[IgnoreFile]:
        """Global excludes, .git/info/exclude and .gitignore files from the repository root down to the workspace."""
        from .discovery import repository_root

        rules: list[IgnoreFile] = []
        repo = self.repo = repository_root(self.root)
        global_file = IgnoreFile.compile(_read_patterns(_global_excludes_file()),
                                         prefix=self._prefix_from(repo) if repo else "")
        if global_file is not None:
            rules.append(global_file)
        if repo is None:
            return rules
        git_dir = _git_dir(repo)
        if git_dir is not None:
            info = IgnoreFile.compile(_read_patterns(git_dir / "info" / "exclude"), prefix=self._prefix_from(repo))
            if info is not None:
                rules.append(info)
        # .gitignore files above the workspace, farthest first; the workspace's own is read by the walk
        ancestors = [p for p in self.root.parents if p == repo or repo in p.parents]
        for folder in reversed(ancestors):
            compiled = IgnoreFile.compile(_read_patterns(folder / ".gitignore"), prefix=self._prefix_from(folder))
            if compiled is not None:
                rules.append(compiled)
        return rules

    def _prefix_from(self, folder: Path) -> str:
        rel = self.root.relative_to(folder).as_posix()
        return "" if rel == "." else rel + "/"

    def rules_for(self, rel_dir: str) -> list[IgnoreFile]:
        """The rules in force inside ``rel_dir`` (excluding its own .gitignore, which the walk reads)."""
        rules = list(self.base_rules)
        if not rel_dir:
            return rules
        parts = rel_dir.split("/")
        for depth in range(len(parts)):
            folder = "/".join(parts[:depth])
            compiled = self._dir_ignore(folder)
            if compiled is not None:
                rules.append(compiled)
        return rules

    def _dir_ignore(self, rel_dir: str) -> IgnoreFile | None:
        folder = self.root / rel_dir if rel_dir else self.root
        prefix_len = len(rel_dir) + 1 if rel_dir else 0
        return IgnoreFile.compile(_read_patterns(folder / ".gitignore"), strip=prefix_len)

    # -- bookkeeping -----------------------------------------------------------------------------

    def exclude(self, reason: str, rel: str) -> None:
        count = self.counts.get(reason, 0)
        self.counts[reason] = count + 1
        if count < SAMPLE_LIMIT:
            self.excluded.setdefault(reason, []).append(rel)

    @staticmethod
    def ignored(rel: str, name: str, rules: list[IgnoreFile]) -> bool:
        # deeper files win, and within a file the last matching pattern wins
        for rules_file in reversed(rules):
            decision = rules_file.decide(rel, name)
            if decision is not None:
                return decision
        return False

    # -- walking ---------------------------------------------------------------------------------

    def file_reason(self, rel: str, name: str, rules: list[IgnoreFile]) -> str | None:
        """Why a file is left out by a pattern (secret, excludes setting, .gitignore, default), or None."""
        if self.secrets is not None and self.secrets.decide(rel, name):
            return SECRET
        if self.user_excludes is not None and self.user_excludes.decide(rel, name):
            return USER_EXCLUDE
        if self.ignored(rel, name, rules):
            return GITIGNORE
        if name.endswith(DEFAULT_EXCLUDED_SUFFIXES):
            return DEFAULT
        return None

    def dir_reason(self, rel_slash: str, name: str, rules: list[IgnoreFile]) -> str | None:
        """Why a folder is pruned (``rel_slash`` and the checks carry its trailing slash), or None."""
        name_slash = name + "/"
        if self.secrets is not None and self.secrets.decide(rel_slash, name_slash):
            return SECRET
        if name in DEFAULT_EXCLUDED_DIRS:
            return DEFAULT
        if self.user_excludes is not None and self.user_excludes.decide(rel_slash, name_slash):
            return USER_EXCLUDE
        if self.ignored(rel_slash, name_slash, rules):
            return GITIGNORE
        return None  # virtual environments are recognised by walk(), from the folder's own listing

    def walk(self, rel_dir: str, rules: list[IgnoreFile], fast: _FileFilter | None = None) -> None:
        """Everything under ``rel_dir`` (workspace-relative, '' for the root) that passes the rules.

        Runs once per file of the tree, so the common case (a regular file no pattern can match) is
        one regular-expression test, one ``stat`` and a set lookup; the precise checks run only for
        files the fast test flags.
        """
        abs_dir = os.path.join(self.root_str, rel_dir) if rel_dir else self.root_str
        try:
            with os.scandir(abs_dir) as it:
                entries = list(it)
        except OSError:
            self.exclude(UNREADABLE, rel_dir + "/")
            return
        prefix = rel_dir + "/" if rel_dir else ""
        names = {entry.name for entry in entries}
        if rel_dir and "pyvenv.cfg" in names:
            self.exclude(VIRTUALENV, prefix)  # a virtualenv, whatever its folder is called
            return
        if ".gitignore" in names:
            own = IgnoreFile.compile(_read_patterns(Path(abs_dir, ".gitignore")), strip=len(prefix))
            if own is not None:
                rules = [*rules, own]
                fast = None
        if fast is None:
            fast = _FileFilter.build([self.secrets, self.user_excludes, *rules])
        reject = fast.reject.match if fast.reject is not None else None
        path_checks = fast.paths
        text_extensions = TEXT_EXTENSIONS
        exclude, files, max_bytes = self.exclude, self.files, self.max_bytes
        subdirs: list[str] = []
        for entry in entries:
            name = entry.name
            rel = prefix + name
            try:
                is_file = entry.is_file(follow_symlinks=False)  # d_type: no system call
            except OSError:
                exclude(UNREADABLE, rel)
                continue
            if is_file:
                if (reject is not None and reject(name) is not None) or (path_checks and fast.suspect(rel, name)):
                    reason = self.file_reason(rel, name, rules)
                    if reason is not None:
                        exclude(reason, rel)
                        continue
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    exclude(UNREADABLE, rel)
                    continue
                size = info.st_size
                if info.st_nlink > 1:
                    exclude(HARD_LINK, rel)
                    continue
                _, dot, ext = name.rpartition(".")
                if dot and ext in text_extensions:  # the common case: one set lookup
                    if size > max_bytes:
                        exclude(TOO_LARGE, rel)
                    else:
                        files[rel] = ScopeFile(rel, size, (size + 3) >> 2)
                    continue
                ext = ext.lower() if dot else ""
                if ext in BINARY_EXTENSIONS:
                    exclude(BINARY, rel)
                elif size > max_bytes:
                    exclude(TOO_LARGE, rel)
                elif size and ext not in text_extensions and _looks_binary(entry.path):
                    exclude(BINARY, rel)
                else:
                    files[rel] = ScopeFile(rel, size, (size + 3) >> 2)
                continue
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_link = not is_dir and entry.is_symlink()
            except OSError:
                exclude(UNREADABLE, rel)
                continue
            if is_dir:
                reason = self.dir_reason(rel + "/", name, rules)
                if reason is None:
                    subdirs.append(rel)
                else:
                    exclude(reason, rel + "/")
            elif is_link:
                reason = self.file_reason(rel, name, rules)
                if reason is None:
                    self.add_link(entry.path, rel)
                else:
                    exclude(reason, rel)
            else:
                exclude(SPECIAL, rel)
        for sub in subdirs:
            self.walk(sub, rules, fast)

    def add_link(self, abs_path: str, rel: str) -> None:
        """A symlink: kept when it points at a regular file inside the workspace; never followed into folders."""
        try:
            target = Path(abs_path).resolve(strict=True)
        except (OSError, RuntimeError):
            self.exclude(SYMLINK_OUTSIDE if not self._inside(Path(os.path.realpath(abs_path))) else UNREADABLE, rel)
            return
        if not self._inside(target):
            self.exclude(SYMLINK_OUTSIDE, rel)
            return
        if target.is_dir():
            self.exclude(SYMLINK_DIR, rel)
            return
        target_rel = target.relative_to(self.root).as_posix()
        if self.secrets is not None and self.secrets.decide(target_rel, _name(target_rel)):
            self.exclude(SECRET, rel)
            return
        self.add_path(target, rel)

    def _inside(self, target: Path) -> bool:
        return target == self.root or self.root in target.parents

    def add_path(self, path: Path, rel: str, lines: tuple[int, int] | None = None) -> str | None:
        try:
            info = path.stat()
        except OSError:
            self.exclude(UNREADABLE, rel)
            return UNREADABLE
        return self._add(str(path), info, rel, lines)

    def _add(self, abs_path: str, info: os.stat_result, rel: str, lines: tuple[int, int] | None) -> str | None:
        """Add a regular file after the size and binary checks; returns the exclusion reason, if any."""
        if not S_ISREG(info.st_mode):
            self.exclude(SPECIAL, rel)
            return SPECIAL
        if info.st_nlink > 1:
            self.exclude(HARD_LINK, rel)
            return HARD_LINK
        size = info.st_size
        name = _name(rel)
        dot = name.rfind(".")
        ext = name[dot + 1:].lower() if dot >= 0 else ""  # ".gitignore" -> "gitignore"
        if ext in BINARY_EXTENSIONS:
            self.exclude(BINARY, rel)
            return BINARY
        if size > self.max_bytes:
            self.exclude(TOO_LARGE, rel)
            return TOO_LARGE
        if size and ext not in TEXT_EXTENSIONS and _looks_binary(abs_path):
            self.exclude(BINARY, rel)
            return BINARY
        self.files[rel] = ScopeFile(rel, size, estimate_file_tokens(size), lines)
        return None

    # -- the git fast path -------------------------------------------------------------------------

    def walk_workspace(self) -> None:
        """The whole workspace: from git's own listing when possible (see :meth:`git_walk`), else the walk."""
        if not self.git_walk():
            self.walk("", list(self.base_rules))

    def git_walk(self) -> bool:
        """The whole workspace from git: tracked files and their sizes from the index, untracked ones from
        ``git ls-files --others --exclude-standard``; False (nothing recorded) when that is not possible.

        Ignore rules are git's own, so they agree with git by construction, and tracked files are never
        ``stat``-ed (git does not either: that is most of the walk's cost). The price: sizes are the staged
        sizes, so a file modified since it was staged gets a stale token estimate, and a tracked file
        deleted from the work tree but not from the index stays listed (files whose index size is 0 are
        ``stat``-ed and left out when gone). Files git tracks are in scope even when a ``.gitignore``
        pattern matches them, as in git (ignore rules do not apply to tracked files); the walk cannot
        tell them apart. What ``.gitignore`` leaves out is not counted (git does not say). Submodules and
        repositories nested in the workspace are walked. With nothing tracked in the workspace (no index
        yet) there is nothing to gain and this returns False.
        """
        repo = self.repo
        if repo is None or os.environ.get(NO_GIT_VARIABLE) or any(os.environ.get(name) for name in _GIT_ENVIRONMENT):
            return False
        git = shutil.which("git")
        git_dir = _git_dir(repo)
        if git is None or git_dir is None:
            return False
        id_length = _object_id_length(git_dir)
        if id_length is None:
            return False
        prefix = os.fsencode(self._prefix_from(repo))
        try:  # git walks the work tree for untracked files while this process handles the tracked ones
            process = subprocess.Popen([git, "ls-files", "-z", "--others", "--exclude-standard", "--full-name"],
                                       cwd=self.root_str, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                       stderr=subprocess.DEVNULL)
        except OSError:
            return False
        saved = dict(self.files), {reason: list(paths) for reason, paths in self.excluded.items()}, dict(self.counts)
        try:
            index = _load_index(git_dir / "index")
            virtualenvs = _index_virtualenvs(index, prefix, id_length) if index is not None else None
            if index is None or virtualenvs is None:
                return False
            listing = _Listing(self, virtualenvs)
            if not listing.add_index(index, prefix, id_length):
                # nothing tracked here (git would list every file, each then stat-ed: walking is faster),
                # or an index in a form not read here
                self.files, self.excluded, self.counts = saved
                return False
            output = process.communicate()[0]
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        listed = [raw for raw in output.split(b"\0") if raw]
        if process.returncode != 0 or not all(raw.startswith(prefix) for raw in listed):
            self.files, self.excluded, self.counts = saved  # git failed, or sees another repository
            return False
        others = [os.fsdecode(raw[len(prefix):]) for raw in listed]
        more = _virtualenvs(others) - listing.virtualenvs
        if more:  # an untracked pyvenv.cfg next to tracked files: start again, knowing it
            self.files, self.excluded, self.counts = saved
            listing = _Listing(self, listing.virtualenvs | more)
            listing.add_index(index, prefix, id_length)
        listing.add_others(others)
        for rel in listing.folders:
            if os.path.isdir(os.path.join(self.root_str, rel)):
                self.walk(rel, self.rules_for(rel))
        return True

    def _add_from_lstat(self, abs_path: str, rel: str) -> None:
        """A listed file whose size the index does not give; gone since git listed it: left out silently."""
        try:
            info = os.lstat(abs_path)
        except OSError:
            return
        if S_ISLNK(info.st_mode):
            self.add_link(abs_path, rel)
        else:
            self._add(abs_path, info, rel, None)


def _virtualenvs(paths: Iterable[str]) -> set[str]:
    return {rel[: -len("/pyvenv.cfg")] for rel in paths if rel.endswith("/pyvenv.cfg")}


class _Listing:
    """Workcrew's own rules on git's listing: default excludes, virtualenvs, secrets, the excludes
    setting, symlinks, binaries and the size cap (everything the walk applies except ``.gitignore``),
    recorded in the collector. Submodules and nested repositories are collected in ``folders``."""

    def __init__(self, collector: _Collector, virtualenvs: set[str]) -> None:
        self.collector = collector
        self.virtualenvs = virtualenvs
        self.fast = _FileFilter.build([collector.secrets, collector.user_excludes])
        self.verdicts: dict[str, str | None] = {"": None}
        self.folders: list[str] = []
        # without path patterns a folder's verdict depends on its name alone, and names repeat (src, tests)
        self.by_name: dict[str, str | None] | None = None if any(
            rules is not None and rules.path_any is not None for rules in (collector.secrets, collector.user_excludes)) else {}

    def folder_reason(self, rel_dir: str) -> str | None:
        """Why a folder is left out (recorded once, for the highest such folder), or None."""
        known = self.verdicts.get(rel_dir, _UNKNOWN)
        if known is not _UNKNOWN:
            return known
        cut = rel_dir.rfind("/")
        reason = self.folder_reason(rel_dir[:cut] if cut > 0 else "")
        if reason is None:
            name, by_name = rel_dir[cut + 1:], self.by_name
            if by_name is None:
                reason = self.collector.dir_reason(rel_dir + "/", name, [])
            else:
                reason = by_name.get(name, _UNKNOWN)
                if reason is _UNKNOWN:
                    reason = by_name[name] = self.collector.dir_reason(rel_dir + "/", name, [])
            if reason is None and rel_dir in self.virtualenvs:
                reason = VIRTUALENV
            if reason is not None:
                self.collector.exclude(reason, rel_dir + "/")
        self.verdicts[rel_dir] = reason
        return reason

    def add_index(self, data: bytes, prefix: bytes, id_length: int) -> bool:
        """Tracked files under ``prefix`` from the git index (see :func:`_load_index`), sizes from the index;
        True when there were any. False also for an index not read here (its entries or extensions),
        possibly after recording some files: the caller restores what was recorded and walks.

        The index is parsed and the rules applied in one pass (no list of entries in between): it runs
        once per tracked file, so it is kept to local names, set and dict lookups, and most files take
        the fast lane (known text extension, no name pattern, regular, size within the cap). An entry is
        its stat data (mode and size are used), its object id, 16-bit flags and its NUL-padded path. A
        file is ``stat``-ed where the index gives no size: unmerged, intent-to-add, skip-worktree (a
        sparse checkout leaves those out of the work tree) or 0 (git writes 0 for entries it could not
        trust, so empty and "racily clean" files are ``stat``-ed, and left out when gone).
        """
        collector, fast = self.collector, self.fast
        reject = fast.reject.match if fast.reject is not None else None
        path_checks, verdicts, folder_reason = fast.paths, self.verdicts, self.folder_reason
        exclude, files, max_bytes = collector.exclude, collector.files, collector.max_bytes
        root = collector.root_str + os.sep
        make, looks_binary, regular, symlink, gitlink = ScopeFile, _looks_binary, _REGULAR, _SYMLINK, _GITLINK
        text_extensions, binary_extensions = TEXT_EXTENSIONS, BINARY_EXTENSIONS
        classes: dict[str, int] = {}  # names repeat (__init__.py, index.ts): each is classified once
        last_dir, last_reason = "", None
        if not data:
            return False
        version, count = struct.unpack_from(">II", data, 4)
        entry = struct.Struct(f">24xI8xI{id_length}xH")  # mode, size, flags
        unpack, fixed, skip = entry.unpack_from, entry.size, len(prefix)
        last = b""
        pos = 12
        seen = not skip and count > 0
        plain = -1 if path_checks else 0  # a known text file no name pattern matches (path patterns are rare)
        plain_modes = _PLAIN_MODES
        try:
            for _ in range(count):
                mode, size, flags = unpack(data, pos)
                start = pos + fixed
                if flags < 0xFFF:  # the common entry: no extended or stage flags, a short path
                    stop = start + flags
                    pos += (fixed + flags + 8) & ~7
                else:
                    extended = 0
                    if flags & 0x4000:  # extended flags (version 3)
                        if version < 3:
                            return False
                        extended = data[start] << 8 | data[start + 1]
                        start += 2
                    length = flags & 0xFFF
                    stop = start + length if length < 0xFFF else data.index(b"\0", start)
                    pos += (stop - pos + 8) & ~7
                    if extended & 0x6000:  # skip-worktree (may be absent from the work tree), intent-to-add
                        size = 0
                    if flags & 0x3000:  # unmerged: stages 1-3 of one path, each listed once
                        if data[start:stop] == last:
                            continue
                        last, size = data[start:stop], 0
                if skip:
                    if not data.startswith(prefix, start, stop):
                        continue
                    seen = True
                rel = data[start + skip:stop].decode("utf-8", "surrogateescape")
                rel_dir, _, name = rel.rpartition("/")  # one call: cheaper than finding the slash and slicing
                if rel_dir != last_dir:  # the index is sorted: a folder's files come together
                    known = verdicts.get(rel_dir, _UNKNOWN)
                    last_dir, last_reason = rel_dir, folder_reason(rel_dir) if known is _UNKNOWN else known
                if last_reason is not None:
                    continue
                kind = classes.get(name)
                if kind is None:  # +4: a pattern may exclude it; 0 text, 1 binary, 2 unknown (sniffed)
                    _, dot, ext = name.rpartition(".")
                    if dot and ext in text_extensions:
                        kind = 0
                    else:
                        ext = ext.lower() if dot else ""
                        kind = 1 if ext in binary_extensions else 0 if ext in text_extensions else 2
                    if reject is not None and reject(name) is not None:
                        kind += 4
                    classes[name] = kind
                if kind == plain and mode in plain_modes and 0 < size <= max_bytes:  # most files: in, no checks
                    files[rel] = make(rel, size, (size + 3) >> 2)
                    continue
                if kind > 3 or (path_checks and fast.suspect(rel, name)):
                    reason = collector.file_reason(rel, name, [])
                    if reason is not None:
                        exclude(reason, rel)
                        continue
                    kind &= 3
                mode >>= 12
                if mode == regular and size > 0:
                    if kind == 1:
                        exclude(BINARY, rel)
                    elif size > max_bytes:
                        exclude(TOO_LARGE, rel)
                    elif kind == 2 and looks_binary(root + rel):
                        exclude(BINARY, rel)
                    else:
                        files[rel] = make(rel, size, (size + 3) >> 2)
                elif mode == symlink:
                    collector.add_link(root + rel, rel)
                elif mode == regular:  # no size in the index
                    collector._add_from_lstat(root + rel, rel)
                elif mode == gitlink:  # a submodule
                    if folder_reason(rel) is None:
                        self.folders.append(rel)
                else:
                    return False  # a sparse-index folder entry, or something newer
        except (struct.error, ValueError, IndexError):
            return False
        return seen and _extensions_end(data, pos, id_length)

    def add_others(self, others: list[str]) -> None:
        """Untracked files (not ignored): few, each ``stat``-ed."""
        collector, fast = self.collector, self.fast
        reject = fast.reject.match if fast.reject is not None else None
        root = collector.root_str + os.sep
        for rel in others:
            if rel.endswith("/"):  # a repository inside the workspace: git does not look into it
                if self.folder_reason(rel[:-1]) is None:
                    self.folders.append(rel[:-1])
                continue
            cut = rel.rfind("/")
            if cut > 0 and self.folder_reason(rel[:cut]) is not None:
                continue
            name = rel[cut + 1:]
            if (reject is not None and reject(name) is not None) or (fast.paths and fast.suspect(rel, name)):
                reason = collector.file_reason(rel, name, [])
                if reason is not None:
                    collector.exclude(reason, rel)
                    continue
            collector._add_from_lstat(root + rel, rel)


_UNKNOWN = "?"  # not a reason: marks a folder not decided yet
_GITLINK = 0o160000 >> 12
_SYMLINK = 0o120000 >> 12
_REGULAR = 0o100000 >> 12
_PLAIN_MODES = frozenset({0o100644, 0o100755})  # the regular files' modes git writes
NO_GIT_VARIABLE = "WORKCREW_SCOPE_NO_GIT"  # set (non-empty): always walk, never ask git
_GIT_ENVIRONMENT = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY")


def _object_id_length(git_dir: Path) -> int | None:
    """20 (SHA-1) or 32 (SHA-256) bytes per object id in the index, from the repository's config;
    None when the config sets something the fast path does not handle (``core.worktree``)."""
    common = git_dir
    try:
        pointer = (git_dir / "commondir").read_text("utf-8").strip()
    except OSError:
        pointer = ""
    if pointer:
        common = Path(pointer) if Path(pointer).is_absolute() else git_dir / pointer
    try:
        text = (common / "config").read_text("utf-8", errors="replace")
    except OSError:
        return None
    length = 20
    for line in text.splitlines():
        key, equals, value = line.partition("=")
        key = key.strip().lower()
        if not equals:
            continue
        if key == "worktree":
            return None
        if key == "objectformat":
            value = value.strip().strip('"').lower()
            if value not in ("sha1", "sha256"):
                return None
            length = 32 if value == "sha256" else 20
    return length


def _load_index(path: Path) -> bytes | None:
    """The git index file when this module reads it (versions 2 and 3), b"" when there is no index yet,
    None for anything else (version 4's compressed paths, a damaged file), which sends the caller back
    to the walk. A split or sparse index is recognised by its extensions, after the entries."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return b""
    except OSError:
        return None
    if data[:4] != b"DIRC" or len(data) < 12 or struct.unpack_from(">I", data, 4)[0] not in (2, 3):
        return None
    return data


_PYVENV = b"/pyvenv.cfg\0"


def _index_virtualenvs(data: bytes, prefix: bytes, id_length: int) -> set[str] | None:
    """Folders (workspace-relative) holding a tracked ``pyvenv.cfg``, found by searching the raw index, so
    that virtualenvs need no look at each path (and most indexes have none). A path holds no NUL and
    its entry is recognised around it: 8-byte aligned, a file mode, flags giving the path's length.
    None when a match cannot be placed exactly once that way (the caller then walks)."""
    out: set[str] = set()
    found = data.find(_PYVENV, 12)
    while found >= 0:
        stop = found + len(_PYVENV) - 1
        first = data.rfind(b"\0", 12, found) + 1  # the path starts here or after (header bytes may not be NUL)
        starts = []
        for fixed, extended in ((62 + id_length - 20, False), (64 + id_length - 20, True)):  # v3: 2 more bytes
            start = found - (found - fixed - 12) % 8  # entries start 8-byte aligned (from byte 12 on)
            while start >= max(first, fixed + 12):
                flags_at = start - (4 if extended else 2)
                flags = data[flags_at] << 8 | data[flags_at + 1]
                if (flags & 0xFFF == min(stop - start, 0xFFF) and bool(flags & 0x4000) == extended
                        and data[start - fixed + 24:start - fixed + 28] in (b"\0\0\x81\xa4", b"\0\0\x81\xed", b"\0\0\xa0\0")):
                    starts.append(start)
                start -= 8
        if len(starts) != 1:
            return None
        start = starts[0]
        if data.startswith(prefix, start, stop) and found > start + len(prefix):
            out.add(data[start + len(prefix):found].decode("utf-8", "surrogateescape"))
        found = data.find(_PYVENV, stop)
    return out


def _extensions_end(data: bytes, pos: int, id_length: int) -> bool:
    """Whether the index's extensions run from ``pos`` to its checksum, none of them one the fast path
    cannot use (a split or sparse index lists only part of the files)."""
    end = len(data) - id_length
    while pos + 8 <= end:
        if data[pos:pos + 4] in (b"link", b"sdir"):
            return False
        pos += 8 + struct.unpack_from(">I", data, pos + 4)[0]
    return pos == end


def _looks_binary(path: str) -> bool:
    """A NUL byte in the first 8 KiB (what git and grep go by); low-level calls, as this runs per unknown file."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        return b"\0" in os.read(fd, SNIFF_BYTES)
    except OSError:
        return False
    finally:
        os.close(fd)


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
    collector = _Collector(root, settings)
    refused: dict[str, str] = {}
    sources: list[str] = []
    scope_selection: Selection | None = None

    def secret_or_excluded(rel: str, is_dir: bool) -> str | None:
        """Why an explicit pick may not be used by pattern: it, or a folder above it, is secret or excluded."""
        own = rel + "/" if is_dir else rel
        secrets, user_excludes = collector.secrets, collector.user_excludes
        if secrets is not None and (secrets.decide(own, _name(own)) or any(
                secrets.decide(part + "/", _name(part + "/")) for part in _ancestors(rel))):
            collector.exclude(SECRET, own)
            return "a secret file (matches secret_patterns): never sent to a model"
        if user_excludes is not None and user_excludes.decide(own, _name(own)):
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
    if request.whole_workspace or request.empty:
        collector.walk_workspace()
        sources.append("the whole workspace")

    found = collector.files
    order = sorted(found)
    files = list(found.values()) if order == list(found) else [found[path] for path in order]  # often sorted already
    return Scope(root, files, scope_selection, collector.excluded, collector.counts, refused, sources)


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
