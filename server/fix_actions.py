"""The quick-fixes offered next to ``Apply fix``: ``Preview fix…`` and ``Apply and verify fix``.

``Preview fix…`` carries the same edit with a change annotation that needs confirmation (LSP 3.16), which VS
Code shows in its refactor preview: the diff first, applied only when accepted. It is offered only to
clients that advertise ``workspace.workspaceEdit.changeAnnotationSupport`` and documentChanges; the others
get the plain ``Apply fix``. ``Apply and verify fix`` is a command (``workcrew.applyAndVerify``,
:mod:`.fix_commands`): the edit reaches the editor through ``workspace/applyEdit`` once the check passed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types

from .edits import annotate

if TYPE_CHECKING:
    from .protocol import Server


def _fix_title(finding: dict[str, Any]) -> str:
    fix = finding.get("fix") or {}
    return str(fix.get("title") or finding.get("title") or "workcrew fix")


def can_preview(ls: Server) -> bool:
    return ls.features.change_annotations and ls.features.document_changes


def preview(edit: types.WorkspaceEdit, finding: dict[str, Any]) -> types.WorkspaceEdit:
    """``edit`` under an annotation that asks the user to confirm it after seeing the diff."""
    return annotate(edit, f"Workcrew: {_fix_title(finding)}",
                    f"fix for “{finding.get('title') or 'a finding'}”, proposed by workflow run {finding.get('run_id')}")


def fix_actions(ls: Server, finding: dict[str, Any], diagnostic: types.Diagnostic, edit: types.WorkspaceEdit,
                data: dict[str, Any]) -> list[types.CodeAction]:
    """The actions to offer after ``Apply fix`` (whose eager edit is ``edit`` and resolve data ``data``)."""
    out: list[types.CodeAction] = []
    title = _fix_title(finding)
    if can_preview(ls):
        out.append(types.CodeAction(
            title=f"Preview fix: {title}…",
            kind=types.CodeActionKind.QuickFix,
            diagnostics=[diagnostic],
            edit=None if ls.features.resolve_edits else preview(edit, finding),
            data={**data, "preview": True},
        ))
    if ls.features.apply_edit:
        out.append(types.CodeAction(
            title=f"Apply and verify fix: {title}",
            kind=types.CodeActionKind.QuickFix,
            diagnostics=[diagnostic],
            command=types.Command(title=f"Apply and verify fix: {title}", command="workcrew.applyAndVerify",
                                  arguments=[{"findingId": finding["id"]}]),
        ))
    return out
