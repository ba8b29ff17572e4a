"""Each finding's resolution across runs, per workspace and workflow: ``open`` from the first run that reports
it, ``fixed`` once a later run closes it or its fix is applied in the editor (``results/tracking.py`` decides,
the language server records fixes). Dismissals keep their own table (by fingerprint, with the reason) and
are joined in when read, so a finding dismissed anywhere reads as dismissed everywhere.

Writes go through the store's writer thread (``RunStore._submit``), queued in order with the run's other
rows: the states a run leaves are on disk no later than its final status, so whoever follows the run from
the store sees both together. Reads are plain queries.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .database import RunStore

OPEN, FIXED = "open", "fixed"

_REPORTED_SQL = (
    "INSERT INTO finding_states (workspace, workflow, fingerprint, path, status, reason, finding_id, first_run, "
    "last_run, first_seen, last_seen, file_digest, resolved_at, resolved_by_run) "
    "VALUES (?, ?, ?, ?, 'open', NULL, ?, ?, ?, ?, ?, ?, NULL, NULL) "
    "ON CONFLICT(workspace, workflow, fingerprint) DO UPDATE SET path = excluded.path, status = 'open', "
    "reason = NULL, finding_id = excluded.finding_id, last_run = excluded.last_run, last_seen = excluded.last_seen, "
    "file_digest = excluded.file_digest, resolved_at = NULL, resolved_by_run = NULL")
_CLOSE_SQL = (
    "UPDATE finding_states SET status = 'fixed', reason = ?, resolved_at = ?, resolved_by_run = ? "
    "WHERE workspace = ? AND workflow = ? AND fingerprint = ? AND status = 'open'")
# a fix applied in the editor: a finding first tracked before this table existed gets its row here
_FIXED_ELSEWHERE_SQL = (
    "INSERT INTO finding_states (workspace, workflow, fingerprint, path, status, reason, finding_id, first_run, "
    "last_run, first_seen, last_seen, file_digest, resolved_at, resolved_by_run) "
    "VALUES (?, ?, ?, ?, 'fixed', ?, ?, ?, ?, ?, ?, NULL, ?, NULL) "
    "ON CONFLICT(workspace, workflow, fingerprint) DO UPDATE SET status = 'fixed', reason = excluded.reason, "
    "resolved_at = excluded.resolved_at, resolved_by_run = NULL WHERE finding_states.status = 'open'")
_NOT_REFUTED = "json_extract(f.data, '$.verdict') IS NOT 'refuted'"


@dataclass(frozen=True)
class Reported:
    """A finding a run reported (the newest of its fingerprint in that run)."""

    fingerprint: str
    finding_id: str
    path: str
    file_digest: str | None  # the file's content when the run ended: a later change is what closes it


@dataclass(frozen=True)
class Closed:
    fingerprint: str
    reason: str


def record_run(store: RunStore, workspace: str, workflow: str, run_id: str, reported: Iterable[Reported],
               closed: Iterable[Closed], now: float | None = None) -> None:
    """Queue what a run ended with: the findings it reported are open (new ones first seen now), the ones
    it closed are fixed by it."""
    now = time.time() if now is None else now
    for item in reported:
        store._submit(_REPORTED_SQL, (workspace, workflow, item.fingerprint, item.path, item.finding_id, run_id,
                                      run_id, now, now, item.file_digest))
    for gone in closed:
        store._submit(_CLOSE_SQL, (gone.reason, now, run_id, workspace, workflow, gone.fingerprint))


def record_fixed(store: RunStore, workspace: str, workflow: str, fingerprint: str, *, path: str, finding_id: str,
                 run_id: str, reason: str, now: float | None = None) -> None:
    """Queue a finding closed as fixed outside a run (its fix applied in the editor); a no-op unless it is open."""
    now = time.time() if now is None else now
    store._submit(_FIXED_ELSEWHERE_SQL, (workspace, workflow, fingerprint, path, reason, finding_id, run_id, run_id,
                                         now, now, now))


def open_states(store: RunStore, workspace: str, workflow: str) -> list[dict[str, Any]]:
    """The open findings of one workflow (dismissed ones included: closing does not look at dismissals)."""
    return store._query(
        "SELECT fingerprint, path, file_digest, finding_id, last_run, first_seen FROM finding_states "
        "WHERE workspace = ? AND workflow = ? AND status = 'open'", (workspace, workflow))


def shown_states(store: RunStore, workspace: str, workflow: str | None = None) -> list[dict[str, Any]]:
    """What an editor shows: the open, not dismissed findings (of one workflow, or all), without their data."""
    where = "" if workflow is None else " AND s.workflow = ?"
    return store._query(
        "SELECT s.workflow, s.fingerprint, s.finding_id, s.last_run, s.first_seen FROM finding_states s "
        "WHERE s.workspace = ? AND s.status = 'open' AND s.fingerprint NOT IN (SELECT fingerprint FROM dismissals)"
        + where, (workspace,) if workflow is None else (workspace, workflow))


def shown_findings(store: RunStore, workspace: str, workflow: str | None = None,
                   fingerprints: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """:func:`shown_states` with each finding's data as its last run reported it (``data``), oldest first;
    only ``fingerprints`` when given."""
    where = "" if workflow is None else " AND s.workflow = ?"
    params: tuple[Any, ...] = (workspace,) if workflow is None else (workspace, workflow)
    rows = store._query(
        "SELECT s.workflow, s.fingerprint, s.last_run, s.first_seen, f.data FROM finding_states s "
        "JOIN findings f ON f.run_id = s.last_run AND f.id = s.finding_id "  # the findings table's primary key
        "WHERE s.workspace = ? AND s.status = 'open' AND s.fingerprint NOT IN (SELECT fingerprint FROM dismissals)"
        + where + " ORDER BY s.first_seen", params)
    if fingerprints is None:
        return rows
    wanted = set(fingerprints)
    return [row for row in rows if row["fingerprint"] in wanted]


def tracked_workflows(store: RunStore, workspace: str) -> set[str]:
    """The workflows of ``workspace`` with any tracked finding (others ran before tracking existed)."""
    return {str(row["workflow"]) for row in store._query(
        "SELECT DISTINCT workflow FROM finding_states WHERE workspace = ?", (workspace,))}


def run_outcomes(store: RunStore, run_ids: list[str]) -> list[dict[str, Any]]:
    """For each finding the runs reported (one row per run and fingerprint, refuted ones left out): its state
    now (``status``: open, fixed, or None when it was never tracked) and its dismissal (``dismissed``, ``reason``)."""
    if not run_ids:
        return []
    marks = ", ".join("?" for _ in run_ids)
    return store._query(
        "SELECT f.run_id, f.fingerprint, s.status, d.fingerprint IS NOT NULL AS dismissed, d.reason "
        f"FROM (SELECT DISTINCT f.run_id, f.fingerprint FROM findings f WHERE f.run_id IN ({marks}) AND {_NOT_REFUTED}) f "
        "JOIN runs r ON r.id = f.run_id "
        "LEFT JOIN finding_states s ON s.workspace = r.workspace AND s.workflow = r.workflow "
        "AND s.fingerprint = f.fingerprint "
        "LEFT JOIN dismissals d ON d.fingerprint = f.fingerprint", tuple(run_ids))


def first_seen_outcomes(store: RunStore, workflow: str | None = None) -> list[dict[str, Any]]:
    """Every finding ever reported (refuted ones left out), once per workspace, workflow and fingerprint:
    when it was first reported (``first_seen``), its state now and its dismissal."""
    where = "" if workflow is None else " AND r.workflow = ?"
    return store._query(
        "SELECT r.workflow, f.fingerprint, MIN(f.ts) AS first_seen, s.status, d.fingerprint IS NOT NULL AS dismissed, "
        "d.reason FROM findings f JOIN runs r ON r.id = f.run_id "
        "LEFT JOIN finding_states s ON s.workspace = r.workspace AND s.workflow = r.workflow "
        "AND s.fingerprint = f.fingerprint "
        "LEFT JOIN dismissals d ON d.fingerprint = f.fingerprint "
        f"WHERE {_NOT_REFUTED}{where} GROUP BY r.workspace, r.workflow, f.fingerprint",
        () if workflow is None else (workflow,))


def runs_with_findings(store: RunStore, limit: int, workflow: str | None = None) -> list[dict[str, Any]]:
    """The latest ended runs that reported findings (of ``workflow``, or any), newest first."""
    where = "" if workflow is None else " AND workflow = ?"
    return store._query(
        "SELECT id, workflow, status, created_at FROM runs WHERE status != 'running' "
        f"AND EXISTS (SELECT 1 FROM findings WHERE findings.run_id = runs.id){where} "
        "ORDER BY created_at DESC LIMIT ?", (workflow, limit) if workflow is not None else (limit,))


def closed_by(store: RunStore, run_id: str) -> list[dict[str, Any]]:
    """The findings of earlier runs that ``run_id`` closed as fixed."""
    return store._query("SELECT fingerprint, path, reason FROM finding_states WHERE resolved_by_run = ? "
                        "ORDER BY path", (run_id,))
