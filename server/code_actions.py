"""Quick-fixes from findings, Ruff-style: rebuilt from ``Diagnostic.data`` on every request (no action cache).

``Apply fix: <title>`` (versioned documentChanges; edit deferred to codeAction/resolve when the client
supports it; next to it ``Preview fix…`` and ``Apply and verify fix``, :mod:`.fix_actions`), ``Dismiss finding``
(a command), and ``source.fixAll.workcrew`` (every confirmed fix of
the latest run). A fix whose code changed since the finding was anchored is not offered.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from .diagnostics import Tracked
from .documents import path_of
from .edits import FixNotApplicable, fix_paths, merge, plan, to_workspace_edit
from .finding_labels import is_workcrew
from .fix_actions import can_preview, fix_actions, preview

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from .protocol import Server

FIX_ALL = "source.fixAll.workcrew"
KINDS = [types.CodeActionKind.QuickFix, FIX_ALL]
REQUEST_FAILED = -32803


def wanted(kind: str, only: Sequence[str] | None) -> bool:
    """LSP kind matching: ``source`` selects ``source.fixAll.workcrew``."""
    if not only:
        return True
    return any(kind == k or kind.startswith(f"{k}.") for k in only)


def _finding(ls: Server, data: Any) -> tuple[Tracked | None, dict[str, Any] | None]:
    """(tracked finding, finding record) for a diagnostic's data; from the store if not live any more."""
    if not isinstance(data, dict) or not isinstance(data.get("findingId"), str):
        return None, None
    tracked = ls.diagnostics_store.get(data["findingId"])
    if tracked is not None:
        return tracked, tracked.finding
    if ls.run_store is not None:
        found = ls.run_store.find_finding(data["findingId"])
        if found is not None:
            return None, found[1]
    return None, None


def fix_title(finding: dict[str, Any]) -> str:
    fix = finding.get("fix") or {}
    return f"Apply fix: {fix.get('title') or finding.get('title') or 'workcrew fix'}"


async def fix_edit(ls: Server, fixes: list[dict[str, Any]]) -> tuple[types.WorkspaceEdit, int]:
    """One WorkspaceEdit for the given fixes against the current texts; (edit, fixes included)."""
    workspace = ls.diagnostics_store.workspace
    paths: set[Path] = set()
    for fix in fixes:
        paths |= fix_paths(fix, workspace)
    await ls.diagnostics_store.ensure_texts(paths)
    plans = []
    for fix in fixes:
        try:
            plans.append(plan(fix, workspace, ls.documents))
        except FixNotApplicable:
            continue
    if not plans:
        raise FixNotApplicable("none of the fixes applies to the current text")
    merged, kept = merge(plans)
    return to_workspace_edit(merged, ls.documents, ls.workspace.position_codec, ls.features), kept


def confirmed_fixes(ls: Server, run_id: str) -> list[dict[str, Any]]:
    out = []
    for tracked in ls.diagnostics_store.run_findings(run_id):
        if tracked.confirmed and tracked.fix is not None and tracked.state != "stale":
            out.append(tracked.fix)
    return out


async def code_actions(ls: Server, params: types.CodeActionParams) -> list[types.CodeAction] | None:
    only = params.context.only
    path = path_of(params.text_document.uri)
    if path is not None:
        ls.diagnostics_store.anchor_path(path)
    actions: list[types.CodeAction] = []
    if wanted(types.CodeActionKind.QuickFix, only):
        for diagnostic in params.context.diagnostics:
            if not is_workcrew(diagnostic.source):
                continue
            actions.extend(await _quick_fixes(ls, params, diagnostic))
    # without ``only`` the fix-all action rides along with our own diagnostics, like Ruff's
    if (only and wanted(FIX_ALL, only)) or (not only and any(is_workcrew(d.source) for d in params.context.diagnostics)):
        fix_all = await _fix_all(ls, params)
        if fix_all is not None:
            actions.append(fix_all)
    return actions or None


async def _quick_fixes(ls: Server, params: types.CodeActionParams,
                       diagnostic: types.Diagnostic) -> list[types.CodeAction]:
    tracked, finding = _finding(ls, diagnostic.data)
    if finding is None:
        return []
    out: list[types.CodeAction] = []
    fix = finding.get("fix")
    stale = tracked is not None and tracked.state == "stale"
    if isinstance(fix, dict) and fix.get("edits") and not stale:
        try:
            edit, _ = await fix_edit(ls, [fix])
        except FixNotApplicable as exc:
            log.info("fix for %s not offered: %s", finding["id"], exc)
            edit = None
        if edit is not None:
            data = {"findingId": finding["id"], "runId": finding.get("run_id"), "uri": params.text_document.uri}
            out.append(types.CodeAction(
                title=fix_title(finding),
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[diagnostic],
                is_preferred=True,
                edit=None if ls.features.resolve_edits else edit,
                data=data,
            ))
            out.extend(fix_actions(ls, finding, diagnostic, edit, data))  # Preview fix…, Apply and verify
    out.append(types.CodeAction(
        title="Dismiss finding",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        command=types.Command(title="Dismiss finding", command="workcrew.dismissFinding",
                              arguments=[{"findingId": finding["id"]}]),
    ))
    return out


async def _fix_all(ls: Server, params: types.CodeActionParams) -> types.CodeAction | None:
    run_id = ls.diagnostics_store.latest_run()
    if run_id is None:
        return None
    fixes = confirmed_fixes(ls, run_id)
    if not fixes:
        return None
    data = {"fixAll": run_id, "uri": params.text_document.uri}
    if ls.features.resolve_edits:  # planning every fix can be slow: only when the user picks the action
        return types.CodeAction(title=f"Workcrew: apply all confirmed fixes ({len(fixes)})", kind=FIX_ALL, data=data)
    try:
        edit, kept = await fix_edit(ls, fixes)
    except FixNotApplicable:
        return None
    return types.CodeAction(
        title=f"Workcrew: apply all confirmed fixes ({kept})",
        kind=FIX_ALL,
        edit=edit,
        data=data,
    )


async def resolve(ls: Server, action: types.CodeAction) -> types.CodeAction:
    """Fill in the edit of an action offered without one, against the text as it is now."""
    if action.edit is not None or action.command is not None:
        return action
    data = action.data
    if not isinstance(data, dict):
        raise JsonRpcInvalidParams("this code action has no workcrew data to resolve")
    try:
        if isinstance(data.get("fixAll"), str):
            action.edit, _ = await fix_edit(ls, confirmed_fixes(ls, data["fixAll"]))
            return action
        tracked, finding = _finding(ls, data)
        if finding is None or not isinstance(finding.get("fix"), dict):
            raise JsonRpcException(f"finding {data.get('findingId')!r} is unknown or has no fix", code=REQUEST_FAILED)
        if tracked is not None and tracked.state == "stale":
            raise FixNotApplicable("the code this finding is about has changed")
        action.edit, _ = await fix_edit(ls, [finding["fix"]])
        if data.get("preview") and can_preview(ls):
            action.edit = preview(action.edit, finding)
    except FixNotApplicable as exc:
        raise JsonRpcException(f"the fix no longer applies: {exc}", code=REQUEST_FAILED) from None
    return action
