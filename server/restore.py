"""Findings that outlive the editor: when the server starts, the open findings of the workspace's latest
finished run of each workflow come back as diagnostics (with their quick-fixes), restored from the run
store; runs still going are followed instead (``runs.RunRegistry.attach``). Dismissed ones stay hidden, and a
new run of a workflow replaces its findings as before."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import anyio

if TYPE_CHECKING:
    from .protocol import Server

log = logging.getLogger(__name__)


async def restore_findings(ls: Server) -> int:
    """Put the stored findings of each workflow's latest ended run back in the diagnostics store; how many."""
    store, settings = ls.run_store, ls.settings
    if store is None or settings is None:
        return 0
    followed = {session.workflow_name for session in ls.runs.sessions.values()}

    def load() -> list[tuple[str, str, list[dict[str, Any]]]]:
        runs = store.latest_runs_with_findings(str(settings.workspace))
        return [(str(run["id"]), str(run["workflow"]), store.get_findings(str(run["id"])))
                for run in runs if run["workflow"] not in followed]

    restored = 0
    for run_id, workflow, findings in await anyio.to_thread.run_sync(load, limiter=ls.limiter):
        for finding in findings:
            if isinstance(finding, dict) and ls.diagnostics_store.add(run_id, workflow, finding) is not None:
                restored += 1
    if restored:
        log.info("restored %d findings from the run store", restored)
    return restored
