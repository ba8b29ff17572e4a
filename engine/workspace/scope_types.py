"""What a scope request and its result are, and what is left out by default (folders, suffixes,
binary files) with the reasons a file is left out."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    # also count what .gitignore leaves out when the listing comes from git (one more `git ls-files`; the
    # walk counts it anyway): an approval shows it, other callers do not need it (scope_ignored.py)
    report_ignored: bool = False

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
    notes: list[str] = field(default_factory=list)  # what the scope could not tell (e.g. git failed)

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
            **({"notes": list(self.notes)} if self.notes else {}),
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


def looks_binary(path: str) -> bool:
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
