"""``workspace/executeCommand`` handlers for findings: apply a run's fixes, dismiss a finding."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types

from .code_actions import confirmed_fixes, fix_edit
from .edits import FixNotApplicable, fix_paths
from .params import FindingParams, RunIdParams, failed, parse

if TYPE_CHECKING:
    from .protocol import Server


# -- findings --------------------------------------------------------------------------------------

async def apply_all_fixes(ls: Server, *args: Any) -> dict[str, Any]:
    params = parse(RunIdParams, "workcrew.applyAllFixes", args)
    if not ls.features.apply_edit:
        raise failed("this editor cannot apply edits sent by the server (workspace/applyEdit)")
    fixes = confirmed_fixes(ls, params.run_id)
    if not fixes and ls.run_store is not None:
        fixes = [f["fix"] for f in ls.run_store.get_findings(params.run_id)
                 if f.get("verdict") == "confirmed" and isinstance(f.get("fix"), dict) and f["fix"].get("edits")
                 and f.get("fingerprint") not in ls.diagnostics_store.dismissed]
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
                ls.diagnostics_store.file_changed_on_disk(path)
    else:
        ls.window_show_message(types.ShowMessageParams(
            type=types.MessageType.Warning,
            message=f"Workcrew could not apply the fixes: {result.failure_reason or 'the editor refused the edit'}"))
    return {"runId": params.run_id, "applied": result.applied, "fixes": kept, "failureReason": result.failure_reason}


async def dismiss_finding(ls: Server, *args: Any) -> dict[str, Any]:
    params = parse(FindingParams, "workcrew.dismissFinding", args)
    tracked = ls.diagnostics_store.get(params.finding_id)
    fingerprint = tracked.fingerprint if tracked is not None else None
    if fingerprint is None and ls.run_store is not None:
        found = ls.run_store.find_finding(params.finding_id)
        fingerprint = found[1].get("fingerprint") if found else None
    if not fingerprint:
        raise failed(f"no finding {params.finding_id!r}")
    if ls.run_store is not None:
        ls.run_store.dismiss(fingerprint, reason="dismissed in the editor")
    removed = ls.diagnostics_store.dismiss(fingerprint)
    await ls.diagnostics_store.flush(final=True)
    return {"findingId": params.finding_id, "fingerprint": fingerprint, "removed": removed}


COMMANDS = {
    "workcrew.applyAllFixes": apply_all_fixes,
    "workcrew.dismissFinding": dismiss_finding,
}
