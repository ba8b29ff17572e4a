"""Run reports from the run store: Markdown (report.md), SARIF 2.1.0 (with fixes) and JSON.

Everything is computed from the stored records (run, agents, findings, logs), so a report can be
made again at any time with ``workcrew report RUN_ID``. The accounting is the point: unverified
findings and failed agents are listed as such and never counted as confirmed or refuted.
"""


from __future__ import annotations

import json
from pathlib import Path

from ..store import RunStore
from .markdown import render_markdown
from .records import FORMATS, ReportError, RunRecords, load_records, to_json
from .sarif import sarif_fix, sarif_schema, to_sarif


def report_path(state_dir: Path, run_id: str) -> Path:
    return state_dir / "runs" / run_id / "report.md"


def write_report(store: RunStore, run_id: str) -> Path:
    """Write ``<state_dir>/runs/<run_id>/report.md`` from the store (blocking: call it in a thread)."""
    records = load_records(store, run_id)
    path = report_path(store.state_dir, records.run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(render_markdown(records), encoding="utf-8")
    tmp.replace(path)
    return path


def render(records: RunRecords, fmt: str) -> str:
    if fmt == "md":
        return render_markdown(records)
    if fmt == "sarif":
        return json.dumps(to_sarif(records), indent=2) + "\n"
    if fmt == "json":
        return json.dumps(to_json(records), indent=2, default=str) + "\n"
    raise ReportError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")


__all__ = ["FORMATS", "ReportError", "RunRecords", "load_records", "render", "render_markdown", "report_path",
           "sarif_fix", "sarif_schema", "to_json", "to_sarif", "write_report"]
