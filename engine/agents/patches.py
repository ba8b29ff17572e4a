"""Patches from what an agent changed: a unified diff plus exact-text edits, and applying them to a copy."""

from __future__ import annotations

import difflib
import posixpath
from pathlib import Path

from ..errors import UsageError
from ..results.findings import Edit, Patch

# (text before, text after); None = the file did not exist / no longer exists
Change = tuple[str | None, str | None]


def _apply(text: str, edits: list[Edit]) -> str | None:
    for edit in edits:
        if text.count(edit.old) != 1:
            return None
        text = text.replace(edit.old, edit.new, 1)
    return text


def file_edits(path: str, old: str | None, new: str | None) -> list[Edit]:
    """Small exact-text edits turning ``old`` into ``new``; each ``old`` occurs once when it is applied."""
    if old is None or old == "":
        return [Edit(path=path, old="", new=new or "")]
    if new is None:
        return [Edit(path=path, old=old, new="")]
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    edits: list[Edit] = []
    for group in matcher.get_grouped_opcodes(0):
        lo, hi, jlo, jhi = group[0][1], group[-1][2], group[0][3], group[-1][4]
        # widen with unchanged lines on both sides until the old text is non-empty and unique
        while True:
            chunk = "".join(a[lo:hi])
            if chunk and old.count(chunk) == 1:
                break
            if lo == 0 and hi == len(a):
                break
            if lo > 0:
                lo, jlo = lo - 1, jlo - 1
            if hi < len(a):
                hi, jhi = hi + 1, jhi + 1
        edits.append(Edit(path=path, old="".join(a[lo:hi]), new="".join(b[jlo:jhi])))
    if _apply(old, edits) != new:
        return [Edit(path=path, old=old, new=new)]  # overlapping hunks: one whole-file replacement
    return edits


def _lines(text: str | None) -> list[str]:
    return [] if text is None else text.splitlines(keepends=True)


def file_diff(path: str, old: str | None, new: str | None) -> str:
    """A git-style unified diff of one file (``git apply`` accepts it)."""
    header = f"diff --git a/{path} b/{path}\n"
    if old is None:
        header += "new file mode 100644\n"
    elif new is None:
        header += "deleted file mode 100644\n"
    out = []
    for line in difflib.unified_diff(_lines(old), _lines(new), "/dev/null" if old is None else f"a/{path}",
                                     "/dev/null" if new is None else f"b/{path}"):
        if line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n\\ No newline at end of file\n")
    return header + "".join(out) if out else ""


def make_patch(changes: dict[str, Change], title: str | None = None) -> Patch | None:
    """The patch for ``changes`` (path → (before, after)); None when nothing really changed."""
    edits: list[Edit] = []
    diffs: list[str] = []
    for path in sorted(changes):
        old, new = changes[path]
        if old == new:
            continue
        edits.extend(file_edits(path, old, new))
        diffs.append(file_diff(path, old, new))
    if not edits:
        return None
    return Patch(edits=edits, diff="".join(diffs), title=title)


def _confined(root: Path, rel: str) -> Path:
    norm = posixpath.normpath(rel.replace("\\", "/"))
    if norm.startswith(("/", "../")) or norm in ("..", "."):
        raise UsageError(f"patch path {rel!r} is outside the workspace")
    target = (root / norm).resolve()
    if root.resolve() not in target.parents:
        raise UsageError(f"patch path {rel!r} is outside the workspace")
    return target


def apply_patch(root: Path, patch: Patch) -> list[str]:
    """Apply ``patch``'s edits to the files under ``root`` (a copy, never the user's tree); the paths changed."""
    touched: list[str] = []
    for edit in patch.edits:
        target = _confined(root, edit.path)
        exists = target.is_file()
        text = target.read_bytes().decode("utf-8") if exists else ""  # bytes: keep CRLF as is
        if edit.old == "":
            if exists and text:
                raise UsageError(f"the patch creates {edit.path}, which already exists")
            text = edit.new
        else:
            count = text.count(edit.old)
            if count != 1:
                where = "is missing from" if count == 0 else f"occurs {count} times in"
                raise UsageError(f"the patch does not apply: the text to replace {where} {edit.path}")
            text = text.replace(edit.old, edit.new, 1)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))
        if edit.path not in touched:
            touched.append(edit.path)
    return touched
