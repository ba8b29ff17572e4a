"""Fixes tried on a scratch copy of the workspace before the editor applies them (Apply and verify, Fix all).

Each fix is planned against the text the editor shows (open buffers, saved or not; other files from disk),
exactly as the quick-fix would apply it. A :class:`FixTrial` holds one scratch copy (the engine's
:class:`~workcrew.engine.agents.scratch.ScratchCopy`, with every open buffer written over it) and tries sets of
those fixes: it writes the files the set changes, restores the others, and runs the check command in the
command sandbox. Only a set whose check passed is ever sent to the editor, and only while the files it
changes still hold the text the check saw.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from lsprotocol import types
from workcrew.engine.agents.scratch import (
    CheckCommand,
    CheckOutcome,
    ScratchCopy,
    check_command,
    run_check_command,
)

from .documents import read_files
from .edits import (
    FileEdits,
    FixNotApplicable,
    fix_paths,
    merge,
    plan,
    sources,
    texts_after,
    to_workspace_edit,
)

if TYPE_CHECKING:
    from .protocol import Server

log = logging.getLogger(__name__)


@dataclass
class Candidate:
    """One finding's fix, planned against the text the editor showed then (``before``)."""

    finding_id: str
    title: str
    plan: dict[Path, FileEdits] = field(default_factory=dict)
    before: dict[Path, str | None] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"findingId": self.finding_id, "title": self.title}


def describe(finding: dict[str, Any]) -> str:
    fix = finding.get("fix") or {}
    return str(fix.get("title") or finding.get("title") or finding.get("id") or "fix")


async def plan_candidates(ls: Server, findings: list[dict[str, Any]]) -> tuple[list[Candidate], list[dict[str, Any]]]:
    """(fixes that apply to the current text, refusals ``{findingId, title, reason}`` of those that do not)."""
    workspace = ls.diagnostics_store.workspace
    paths: set[Path] = set()
    for finding in findings:
        paths |= fix_paths(finding["fix"], workspace)
    await ls.diagnostics_store.ensure_texts(paths)
    planned: list[Candidate] = []
    refused: list[dict[str, Any]] = []
    for finding in findings:
        candidate = Candidate(str(finding["id"]), describe(finding))
        try:
            candidate.plan = plan(finding["fix"], workspace, ls.documents)
        except FixNotApplicable as exc:
            refused.append({**candidate.to_json(), "reason": f"the fix no longer applies: {exc}"})
            continue
        candidate.before = sources(candidate.plan, ls.documents)
        planned.append(candidate)
    return planned, refused


def check_command_of(ls: Server, run_id: str | None) -> CheckCommand:
    """The run's check command (blocking: reads the run and its script's meta; call it in a worker thread).
    UsageError says how to set one when there is none."""
    settings = ls.require_settings()
    run = ls.run_store.get_run(run_id) if ls.run_store is not None and run_id else None
    if run is None and run_id:  # a run that lives in this server only (no store): its workflow object
        handle = getattr(ls.runs.get(run_id), "handle", None)
        workflow = getattr(handle, "workflow", None)
        if workflow is not None and workflow.meta is not None:
            return check_command(workflow.meta.check, getattr(handle, "args", None), settings,
                                 f"workflow “{workflow.name}”")
    return run_check_command(run, settings)


def open_buffers(ls: Server) -> dict[str, str]:
    """The editor's texts of the open files inside the workspace, by workspace-relative path (saved or not)."""
    workspace = ls.diagnostics_store.workspace
    out: dict[str, str] = {}
    for path in list(ls.documents.open_uris):
        if workspace not in path.parents:
            continue
        text = ls.documents.text(path)
        if text is not None:
            out[path.relative_to(workspace).as_posix()] = text.source
    return out


def combined(fixes: list[Candidate]) -> tuple[dict[Path, FileEdits], dict[Path, str | None]]:
    """The fixes' plans in one, and the text each of their files had; FixNotApplicable if they overlap."""
    merged, kept = merge([c.plan for c in fixes])
    if kept != len(fixes):
        raise FixNotApplicable("the fixes overlap")
    before: dict[Path, str | None] = {}
    for candidate in fixes:
        before.update(candidate.before)
    return merged, before


def overlapping(candidate: Candidate, chosen: list[Candidate]) -> Candidate | None:
    """The first of ``chosen`` whose edits overlap ``candidate``'s, or None."""
    for other in chosen:
        if merge([other.plan, candidate.plan])[1] != 2:
            return other
    return None


class FixTrial:
    """One scratch copy on which sets of fixes are tried; each set's check runs once."""

    def __init__(self, ls: Server, scratch: ScratchCopy, command: CheckCommand) -> None:
        self.workspace = ls.diagnostics_store.workspace
        self.scratch = scratch
        self.command = command
        self.tried: dict[tuple[str, ...], CheckOutcome] = {}
        self.base: dict[Path, str | None] = {}  # every file a tried set changed: its text before any fix

    async def outcome(self, fixes: list[Candidate]) -> CheckOutcome:
        """The check with exactly ``fixes`` made, and no other fix."""
        key = tuple(c.finding_id for c in fixes)
        if key in self.tried:
            return self.tried[key]
        merged, before = combined(fixes)
        for path, text in before.items():
            self.base.setdefault(path, text)
        after = texts_after(merged, before)
        # files an earlier set changed and this one does not go back to their text (None: removed again)
        await self.scratch.write({path.relative_to(self.workspace).as_posix(): after.get(path, text)
                                  for path, text in self.base.items()})
        result = self.tried[key] = await self.scratch.check(self.command)
        log.info("check %s with %s: exit %s", self.command.text, key or "no fix", result.exit_code)
        return result


async def changed_since(ls: Server, before: dict[Path, str | None]) -> list[Path]:
    """Files whose text is no longer what the fixes were planned on (edited while the check ran)."""
    closed = [p for p in before if p not in ls.documents.open_uris]
    on_disk = await anyio.to_thread.run_sync(read_files, closed, limiter=ls.limiter) if closed else {}
    changed = []
    for path, then in before.items():
        if path in on_disk:
            now = on_disk[path]
        else:
            text = ls.documents.text(path)
            now = text.source if text is not None else None
        if (now or None) != (then or None):
            changed.append(path)
    return changed


async def apply_verified(ls: Server, fixes: list[Candidate], label: str) -> types.ApplyWorkspaceEditResult:
    """Send the verified fixes to the editor in one edit, unless a file they change was edited meanwhile."""
    workspace = ls.diagnostics_store.workspace
    merged, before = combined(fixes)
    changed = await changed_since(ls, before)
    if changed:
        names = ", ".join(p.relative_to(workspace).as_posix() for p in changed)
        return types.ApplyWorkspaceEditResult(
            applied=False, failure_reason=f"{names} changed while the check ran: nothing was applied; run it again")
    await ls.diagnostics_store.ensure_texts(merged.keys())
    edit = to_workspace_edit(merged, ls.documents, ls.workspace.position_codec, ls.features)
    with anyio.CancelScope(shield=True):  # once sent, the answer says what happened: a late cancel must not hide it
        result = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit=edit, label=label))
    if result.applied:
        for path in merged:
            ls.diagnostics_store.file_changed_on_disk(path)
    return result


def scratch_copy(ls: Server) -> Any:  # an async context manager of ScratchCopy
    """The scratch copy's context (``async with scratch_copy(ls) as scratch``): the workspace plus open buffers."""
    return ScratchCopy.open(ls.require_settings(), open_buffers(ls), ls.limiter)
