"""Reading git's index file directly: tracked files and their staged sizes without a ``stat`` each, and
the rules the walk applies, applied to that listing."""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .walk import Collector
from .ignore import FileFilter
from .scope_types import (
    BINARY,
    BINARY_EXTENSIONS,
    TEXT_EXTENSIONS,
    TOO_LARGE,
    VIRTUALENV,
    ScopeFile,
    looks_binary,
)


class GitListing:
    """Workcrew's own rules on git's listing: default excludes, virtualenvs, secrets, the excludes
    setting, symlinks, binaries and the size cap (everything the walk applies except ``.gitignore``),
    recorded in the collector. Submodules and nested repositories are collected in ``folders``."""

    def __init__(self, collector: Collector, virtualenvs: set[str]) -> None:
        self.collector = collector
        self.virtualenvs = virtualenvs
        self.fast = FileFilter.build([collector.secrets, collector.user_excludes])
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
        """Tracked files under ``prefix`` from the git index (see :func:`load_index`), sizes from the index;
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
        make, sniff, regular, symlink, gitlink = ScopeFile, looks_binary, _REGULAR, _SYMLINK, _GITLINK
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
                    elif kind == 2 and sniff(root + rel):
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
GIT_ENVIRONMENT = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY")


def object_id_length(git_dir: Path) -> int | None:
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


def load_index(path: Path) -> bytes | None:
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


def index_virtualenvs(data: bytes, prefix: bytes, id_length: int) -> set[str] | None:
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
