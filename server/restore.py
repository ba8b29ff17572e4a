"""Findings that outlive the editor, kept in step with the run store's finding states
(``engine/store/finding_states.py``): the editor shows exactly the open, not dismissed findings of the workspace.

* When the server starts, the open findings of every workflow come back as diagnostics (with their
  quick-fixes), from whichever run last reported each, with the age of the first report. Workflows whose runs
  predate finding states show their latest run's findings, as before.
* When a run ends, its workflow's diagnostics become its open findings: the ones the run closed as fixed
  (their file changed in its scope and it did not report them again) disappear, the ones outside its scope stay.
* A fix applied in the editor (its edits are in the file) is recorded as fixed, so the CLI agrees.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import anyio
from workcrew.engine.store.finding_states import record_fixed, shown_findings, shown_states, tracked_workflows

if TYPE_CHECKING:
    from .diagnostics import Tracked
    from .protocol import Server

log = logging.getLogger(__name__)

FIXED_IN_EDITOR = "its fix was applied in the editor"


async def restore_findings(ls: Server) -> int:
    """Put the workspace's open findings back in the diagnostics store (after the live runs are followed: a
    finding a live run reported again keeps that run's diagnostic); how many."""
    store, settings = ls.run_store, ls.settings
    if store is None or settings is None:
        return 0
    workspace = str(settings.workspace)

    def load() -> tuple[list[dict[str, Any]], list[tuple[str, str, float, list[dict[str, Any]]]]]:
        tracked = tracked_workflows(store, workspace)
        before_states = [(str(run["id"]), str(run["workflow"]), float(run["created_at"]), store.get_findings(str(run["id"])))
                         for run in store.latest_runs_with_findings(workspace) if run["workflow"] not in tracked]
        return shown_findings(store, workspace), before_states

    rows, before_states = await anyio.to_thread.run_sync(load, limiter=ls.limiter)
    diagnostics = ls.diagnostics_store
    live = {(t.workflow, t.fingerprint) for t in diagnostics.by_id.values()}
    restored = 0
    for row in rows:
        data = row["data"]
        if isinstance(data, dict) and (row["workflow"], row["fingerprint"]) not in live and diagnostics.add(
                str(row["last_run"]), str(row["workflow"]), data, first_seen=row["first_seen"]) is not None:
            restored += 1
    for run_id, workflow, created_at, findings in before_states:
        for finding in findings:
            if isinstance(finding, dict) and diagnostics.add(run_id, workflow, finding, first_seen=created_at) is not None:
                restored += 1
    if restored:
        log.info("restored %d findings from the run store", restored)
    return restored


async def sync_workflow(ls: Server, workflow: str) -> None:
    """After a run of ``workflow`` ended (and recorded its finding states): its diagnostics become its open
    findings — closed and dismissed ones removed, open ones of earlier runs that are not shown added."""
    store, settings = ls.run_store, ls.settings
    if store is None or settings is None:
        return
    workspace = str(settings.workspace)
    try:
        states = await anyio.to_thread.run_sync(shown_states, store, workspace, workflow, limiter=ls.limiter)
    except Exception:  # the diagnostics stay as the run left them; the log says why
        log.exception("could not read the open findings of %s from the run store", workflow)
        return
    open_now = {str(row["fingerprint"]): row for row in states}
    diagnostics = ls.diagnostics_store
    shown = [t for t in diagnostics.by_id.values() if t.workflow == workflow]
    diagnostics.remove([t.id for t in shown if t.fingerprint not in open_now])
    for tracked in shown:
        row = open_now.get(tracked.fingerprint)
        if row is not None and row["first_seen"] is not None:  # a restart or a re-report: the first report's age
            tracked.first_seen = min(tracked.first_seen, float(row["first_seen"]))
    missing = set(open_now) - {t.fingerprint for t in shown}
    if not missing:
        return
    rows = await anyio.to_thread.run_sync(lambda: shown_findings(store, workspace, workflow, missing),
                                          limiter=ls.limiter)
    for row in rows:
        if isinstance(row["data"], dict):
            diagnostics.add(str(row["last_run"]), workflow, row["data"], first_seen=row["first_seen"])


def record_fixes(ls: Server, fixed: list[Tracked]) -> None:
    """Findings whose fix is now in their file: fixed, for the CLI and the next editor session too (queued for
    the store's writer, never blocking the event loop)."""
    store, settings = ls.run_store, ls.settings
    if store is None or settings is None:
        return
    for tracked in fixed:
        location = tracked.finding.get("location") or {}
        record_fixed(store, str(settings.workspace), tracked.workflow, tracked.fingerprint,
                     path=str(location.get("path") or ""), finding_id=tracked.id, run_id=tracked.run_id,
                     reason=FIXED_IN_EDITOR)


async def record_applied(ls: Server, run_id: str, findings: list[dict[str, Any]]) -> None:
    """Findings of ``run_id`` (not shown in the editor) whose fixes ``workcrew.applyAllFixes`` applied: fixed."""
    store, settings = ls.run_store, ls.settings
    if store is None or settings is None or not findings:
        return
    run = await anyio.to_thread.run_sync(store.get_run, run_id, limiter=ls.limiter)
    if run is None:
        return
    for finding in findings:
        record_fixed(store, str(settings.workspace), str(run["workflow"]), str(finding.get("fingerprint")),
                     path=str((finding.get("location") or {}).get("path") or ""), finding_id=str(finding.get("id")),
                     run_id=str(run["id"]), reason=FIXED_IN_EDITOR)
