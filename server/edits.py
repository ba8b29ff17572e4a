"""Fixes (exact-text edits ``{path, old, new}``) → an LSP WorkspaceEdit against the text the editor shows.

Versioned ``documentChanges`` when the client supports them (so a stale edit is rejected), ``changes``
otherwise. A fix applies only when each ``old`` occurs exactly once; otherwise it is not offered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.workspace import PositionCodec
from pygls.workspace.position_codec import ServerTextPosition

from .anchoring import Text
from .capabilities import ClientFeatures
from .documents import Documents, canonical


class FixNotApplicable(Exception):
    """The code a fix replaces is no longer there as it was (or is there more than once)."""


@dataclass
class FileEdits:
    path: Path
    created: bool = False
    edits: list[tuple[int, int, str]] = field(default_factory=list)  # (start offset, end offset, new text)


def fix_paths(fix: dict[str, Any], workspace: Path) -> set[Path]:
    return {canonical(workspace / str(e.get("path", ""))) for e in fix.get("edits", []) if isinstance(e, dict)}


def plan(fix: dict[str, Any], workspace: Path, documents: Documents) -> dict[Path, FileEdits]:
    """Where each edit of one fix lands, in code-point offsets; raises FixNotApplicable."""
    out: dict[Path, FileEdits] = {}
    for edit in fix.get("edits", []):
        path = canonical(workspace / str(edit.get("path", "")))
        if path != workspace and workspace not in path.parents:
            raise FixNotApplicable(f"{edit.get('path')!r} is outside the workspace")
        old, new = str(edit.get("old", "")), str(edit.get("new", ""))
        text = documents.text(path)
        entry = out.setdefault(path, FileEdits(path))
        if old == "":
            if text is not None and text.source:
                raise FixNotApplicable(f"{edit.get('path')} already exists")
            entry.created = True
            entry.edits.append((0, 0, new))
            continue
        if text is None:
            raise FixNotApplicable(f"{edit.get('path')} cannot be read")
        first = text.source.find(old)
        if first == -1:
            raise FixNotApplicable(f"the code this fix replaces in {edit.get('path')} has changed")
        if text.source.find(old, first + 1) != -1:
            raise FixNotApplicable(f"the code this fix replaces occurs more than once in {edit.get('path')}")
        entry.edits.append((first, first + len(old), new))
    for entry in out.values():
        entry.edits.sort()
        for (_, end, _), (start, _, _) in zip(entry.edits, entry.edits[1:], strict=False):
            if start < end:
                raise FixNotApplicable(f"the fix's edits overlap in {entry.path.name}")
    return out


def merge(plans: list[dict[Path, FileEdits]]) -> tuple[dict[Path, FileEdits], int]:
    """Several fixes' plans in one; a fix overlapping an earlier one is left out. (merged, fixes kept)."""
    merged: dict[Path, FileEdits] = {}
    kept = 0
    for one in plans:
        clash = False
        for path, entry in one.items():
            have = merged.get(path)
            if have is None:
                continue
            if entry.created or have.created or any(
                    a < d and c < b for a, b, _ in entry.edits for c, d, _ in have.edits):
                clash = True
                break
        if clash:
            continue
        kept += 1
        for path, entry in one.items():
            target = merged.setdefault(path, FileEdits(path, entry.created))
            target.edits.extend(entry.edits)
            target.edits.sort()
    return merged, kept


def to_workspace_edit(merged: dict[Path, FileEdits], documents: Documents, codec: PositionCodec,
                      features: ClientFeatures) -> types.WorkspaceEdit:
    document_changes: list[types.TextDocumentEdit | types.CreateFile | types.RenameFile | types.DeleteFile] = []
    changes: dict[str, list[types.TextEdit]] = {}
    for path, entry in sorted(merged.items()):
        uri = documents.uri(path)
        if entry.created:
            if not (features.document_changes and features.create_files):
                raise FixNotApplicable(f"this editor cannot create files ({path.name})")
            document_changes.append(types.CreateFile(uri=uri, options=types.CreateFileOptions(ignore_if_exists=True)))
            text = Text("")
        else:
            found = documents.text(path)
            assert found is not None
            text = found
        text_edits = [types.TextEdit(range=_range(text, start, end, codec), new_text=new)
                      for start, end, new in entry.edits]
        version = None if entry.created else documents.version(path)
        document_changes.append(types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
            edits=list(text_edits),
        ))
        changes[uri] = text_edits
    if features.document_changes:
        return types.WorkspaceEdit(document_changes=document_changes)
    return types.WorkspaceEdit(changes=changes)


def _range(text: Text, start: int, end: int, codec: PositionCodec) -> types.Range:
    lines = text.lines
    sl, sc = text.position(start)
    el, ec = text.position(end)
    if start == len(text.source) and text.source.endswith("\n"):
        sl, sc = len(lines), 0
    if end == len(text.source) and text.source.endswith("\n"):
        el, ec = len(lines), 0
    return types.Range(
        start=_client(lines, sl, sc, codec),
        end=_client(lines, el, ec, codec),
    )


def _client(lines: list[str], line: int, col: int, codec: PositionCodec) -> types.Position:
    if line >= len(lines):
        return types.Position(line=line, character=0)
    return codec.position_to_client_units(lines, ServerTextPosition(line, col))


def annotate(edit: types.WorkspaceEdit, label: str, description: str) -> types.WorkspaceEdit:
    """The same edit with every change under one change annotation that needs confirmation: clients that support
    annotations (LSP 3.16; VS Code's refactor preview) show the diff and apply it only once the user accepts."""
    if not edit.document_changes:
        return edit  # annotations ride on documentChanges; a plain ``changes`` edit has no place for them
    annotation_id = "workcrew.preview"
    changes: list[types.TextDocumentEdit | types.CreateFile | types.RenameFile | types.DeleteFile] = []
    for change in edit.document_changes:
        if isinstance(change, types.TextDocumentEdit):
            changes.append(types.TextDocumentEdit(text_document=change.text_document, edits=[
                types.AnnotatedTextEdit(annotation_id=annotation_id, range=e.range, new_text=e.new_text)
                for e in change.edits if isinstance(e, types.TextEdit | types.AnnotatedTextEdit)]))
        elif isinstance(change, types.CreateFile):
            changes.append(types.CreateFile(uri=change.uri, options=change.options, annotation_id=annotation_id))
        else:
            changes.append(change)
    return types.WorkspaceEdit(document_changes=changes, change_annotations={annotation_id: types.ChangeAnnotation(
        label=label, needs_confirmation=True, description=description)})


def sources(merged: dict[Path, FileEdits], documents: Documents) -> dict[Path, str | None]:
    """The text each planned file has now, which the plan's offsets refer to (None: the fix creates it)."""
    out: dict[Path, str | None] = {}
    for path, entry in merged.items():
        found = None if entry.created else documents.text(path)
        out[path] = found.source if found is not None else None
    return out


def texts_after(merged: dict[Path, FileEdits], before: dict[Path, str | None]) -> dict[Path, str]:
    """Each planned file's whole text once its edits are made to ``before`` (what the editor will then hold)."""
    out: dict[Path, str] = {}
    for path, entry in merged.items():
        text = before.get(path) or ""
        for start, end, new in sorted(entry.edits, reverse=True):
            text = text[:start] + new + text[end:]
        out[path] = text
    return out
