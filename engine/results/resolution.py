"""What became of the findings a run reported, and of findings over time: fixed, dismissed (by the reason's
kind) or open, and the rates that say whether a workflow's findings are worth reading.

* fixed: a later run of the workflow covered the file, the file had changed and the finding was not reported
  again; or its fix was applied in the editor (``results/tracking.py``, the language server).
* dismissed: dismissed in the editor (or with ``RunStore.dismiss``); the reason's kind is the text before
  its first ``:`` when that is ``false-positive``, ``intended`` or ``wont-fix``, else ``dismissed``.
* open: neither. A fixed finding that a later run reports again is open again.

``rate`` (the resolution rate) is fixed / (fixed + dismissed + open); ``acted_on`` is
(fixed + dismissed) / (fixed + dismissed + open). Both are None without findings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ..store import RunStore
from ..store.finding_states import FIXED, closed_by, first_seen_outcomes, run_outcomes, runs_with_findings

REASON_KINDS = ("false-positive", "intended", "wont-fix")
OTHER_KIND = "dismissed"  # a dismissal whose reason names no kind (older ones: "dismissed in the editor")


def dismissal_kind(reason: str | None) -> str:
    kind = (reason or "").split(":", 1)[0].strip().lower()
    return kind if kind in REASON_KINDS else OTHER_KIND


@dataclass
class Resolution:
    fixed: int = 0
    open: int = 0
    dismissed_by: dict[str, int] = field(default_factory=dict)

    def count(self, row: dict[str, Any]) -> None:
        """Count one finding from a store row (``status``, ``dismissed``, ``reason``): a fixed finding counts as
        fixed even when it was dismissed too (the code changed), a dismissed open one as dismissed."""
        if row.get("status") == FIXED:
            self.fixed += 1
        elif row.get("dismissed"):
            kind = dismissal_kind(row.get("reason"))
            self.dismissed_by[kind] = self.dismissed_by.get(kind, 0) + 1
        else:
            self.open += 1

    @property
    def dismissed(self) -> int:
        return sum(self.dismissed_by.values())

    @property
    def total(self) -> int:
        return self.fixed + self.dismissed + self.open

    @property
    def rate(self) -> float | None:
        return self.fixed / self.total if self.total else None

    @property
    def acted_on(self) -> float | None:
        return (self.fixed + self.dismissed) / self.total if self.total else None

    def to_json(self) -> dict[str, Any]:
        return {"total": self.total, "fixed": self.fixed, "dismissed": self.dismissed,
                "dismissed_by": dict(sorted(self.dismissed_by.items())), "open": self.open,
                "rate": _round(self.rate), "acted_on": _round(self.acted_on)}

    def dismissed_text(self) -> str:
        """``2 dismissed (false-positive 1, intended 1)``."""
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(self.dismissed_by.items()))
        return f"{self.dismissed} dismissed" + (f" ({kinds})" if kinds else "")

    def describe(self) -> str:
        """``4 findings: 1 fixed, 1 dismissed (false-positive 1), 2 open; resolution rate 25%, acted on 50%``."""
        if not self.total:
            return "no findings"
        return (f"{self.total} finding{'s' if self.total != 1 else ''}: {self.fixed} fixed, {self.dismissed_text()}, "
                f"{self.open} open; resolution rate {percent(self.rate)}, acted on {percent(self.acted_on)}")


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def run_resolutions(store: RunStore, run_ids: list[str]) -> dict[str, Resolution]:
    """Each run's findings as they stand now (a run without findings: an empty Resolution)."""
    out = {run_id: Resolution() for run_id in run_ids}
    for row in run_outcomes(store, run_ids):
        out[str(row["run_id"])].count(row)
    return out


def run_resolution(store: RunStore, run_id: str) -> Resolution:
    return run_resolutions(store, [run_id])[run_id]


def closed_by_run(store: RunStore, run_id: str) -> list[dict[str, Any]]:
    """The earlier findings this run closed as fixed (fingerprint, path, reason)."""
    return closed_by(store, run_id)


# -- over time (workcrew stats) -----------------------------------------------------------------------------

def week_of(ts: float) -> str:
    """The ISO week a moment falls in, local time: ``2025-W07``."""
    year, week, _ = dt.datetime.fromtimestamp(ts).isocalendar()
    return f"{year}-W{week:02d}"


def by_week(store: RunStore, workflow: str | None = None) -> list[dict[str, Any]]:
    """Findings by the week they were first reported and their workflow (each finding once), as they stand
    now; newest week first."""
    groups: dict[tuple[str, str], Resolution] = {}
    for row in first_seen_outcomes(store, workflow):
        key = (week_of(float(row["first_seen"])), str(row["workflow"]))
        groups.setdefault(key, Resolution()).count(row)
    ordered = sorted(groups.items(), key=lambda item: (item[0][0], item[0][1]), reverse=True)
    return [{"week": week, "workflow": name, **resolution.to_json()} for (week, name), resolution in ordered]


def by_run(store: RunStore, limit: int = 20, workflow: str | None = None) -> list[dict[str, Any]]:
    """The latest ended runs that reported findings (of ``workflow``, or any), newest first, each with its
    findings as they stand now."""
    runs = runs_with_findings(store, limit, workflow)
    resolutions = run_resolutions(store, [str(run["id"]) for run in runs])
    return [{"run_id": run["id"], "workflow": run["workflow"], "status": run["status"],
             "created_at": run["created_at"], **resolutions[str(run["id"])].to_json()} for run in runs]


def overall(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The sum of :func:`by_week` rows (each finding counted once)."""
    total = Resolution()
    for row in rows:
        total.fixed += int(row["fixed"])
        total.open += int(row["open"])
        for kind, n in row["dismissed_by"].items():
            total.dismissed_by[kind] = total.dismissed_by.get(kind, 0) + int(n)
    return total.to_json()
