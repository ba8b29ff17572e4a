"""``workspace/executeCommand`` handlers for findings: apply a run's fixes (dismissing one: ``dismissal.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types

from .code_actions import confirmed_fixes, fix_edit
from .edits import FixNotApplicable, fix_paths
from .params import RunIdParams, failed, parse
from .restore import record_applied

if TYPE_CHECKING:
    from .protocol import Server


# -- findings --------------------------------------------------------------------------------------

async def apply_all_fixes(ls: Server, *args: Any) -> dict[str, Any]:
    params = parse(RunIdParams, "workcrew.applyAllFixes", args)
    if not ls.features.apply_edit:
        raise failed("this editor cannot apply edits sent by the server (workspace/applyEdit)")
    fixes = confirmed_fixes(ls, params.run_id)
    stored: list[dict[str, Any]] = []  # findings not shown whose fixes are applied: recorded as fixed below
    if not fixes and ls.run_store is not None:
        stored = [f for f in ls.run_store.get_findings(params.run_id)
                  if f.get("verdict") == "confirmed" and isinstance(f.get("fix"), dict) and f["fix"].get("edits")
                  and f.get("fingerprint") not in ls.diagnostics_store.dismissed]
        fixes = [f["fix"] for f in stored]
    if not fixes:
        return {"runId": params.run_id, "applied": False, "fixes": 0, "failureReason": "no confirmed fixes"}
    try:
        edit, kept = await fix_edit(ls, fixes)
    except FixNotApplicable as exc:
        raise failed(str(exc)) from None
    result = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(
        edit=edit, label=f"Workcrew: apply {kept} confirmed fix(es)"))
    if result.applied:
        for fix in fixes:
            for path in fix_paths(fix, ls.diagnostics_store.workspace):
                ls.diagnostics_store.file_changed_on_disk(path)  # shown findings whose fix is in: fixed (restore.py)
        if kept == len(fixes):
            await record_applied(ls, params.run_id, stored)
    else:
        ls.window_show_message(types.ShowMessageParams(
            type=types.MessageType.Warning,
            message=f"Workcrew could not apply the fixes: {result.failure_reason or 'the editor refused the edit'}"))
    return {"runId": params.run_id, "applied": result.applied, "fixes": kept, "failureReason": result.failure_reason}


COMMANDS = {
    "workcrew.applyAllFixes": apply_all_fixes,
}
