"""A finished run as stored (run, agents, findings, logs) and the accounting every report format shares:
failed and unfinished agents, verdicts, dropped and refuted items, the estimate against what was spent."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import WorkcrewError
from ..store import RunStore
from .resolution import Resolution, closed_by_run, run_resolution

FORMATS = ("md", "sarif", "json")
SARIF_SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
TOKEN_KEYS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
VERDICTS = ("confirmed", "unverified", "refuted")
SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note", "hint": "note"}
SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2, "hint": 3}


class ReportError(WorkcrewError):
    pass


@dataclass
class RunRecords:
    """What the store holds about one run, as plain data."""

    run: dict[str, Any]
    agents: list[dict[str, Any]]  # one row per agent, or per ``count`` agents (see RunStore.agent_summary)
    findings: list[dict[str, Any]]
    logs: list[str]
    dismissed: set[str] = field(default_factory=set)
    sources: list[dict[str, Any]] = field(default_factory=list)  # agents' web citations: id, label, phase, citations
    suppressed: list[dict[str, Any]] = field(default_factory=list)  # findings a project rule kept back: finding, rule
    resolution: Resolution | None = None  # what became of its findings since (resolution.py)
    closed: list[dict[str, Any]] = field(default_factory=list)  # earlier findings this run closed as fixed

    @property
    def run_id(self) -> str:
        return str(self.run["id"])

    @property
    def workspace(self) -> Path | None:
        value = self.run.get("workspace")
        return Path(value) if value else None

    @property
    def result(self) -> Any:
        return self.run.get("result")


def load_records(store: RunStore, run_id: str) -> RunRecords:
    try:
        run = store.get_run(run_id)
    except WorkcrewError as exc:  # a prefix several runs share: the message lists them
        raise ReportError(str(exc)) from None
    if run is None:
        raise ReportError(f"no run {run_id!r} in {store.path}; `workcrew runs` lists the runs there")
    rid = run["id"]
    return RunRecords(run, store.agent_summary(rid), store.get_findings(rid), store.get_logs(rid), store.dismissed(),
                      store.agent_citations(rid), store.events_of_type(rid, "finding_suppressed"),
                      resolution=run_resolution(store, rid), closed=closed_by_run(store, rid))


# -- accounting shared by every format -------------------------------------------------------------


def by_key(agents: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Agents, tokens and USD grouped by ``phase`` or ``model`` (first-seen order); a row may stand for
    ``count`` agents."""
    groups: dict[str, dict[str, Any]] = {}
    for agent in agents:
        name = str(agent.get(key) or "(none)")
        row = groups.setdefault(name, {key: name, "agents": 0, "succeeded": 0, "failed": 0, "cost_usd": 0.0,
                                       **dict.fromkeys(TOKEN_KEYS, 0)})
        count = int(agent.get("count", 1))
        row["agents"] += count
        if agent.get("state") in ("succeeded", "cached"):
            row["succeeded"] += count
        elif agent.get("state") in ("failed", "skipped"):
            row["failed"] += count
        row["cost_usd"] += float(agent.get("cost_usd") or 0)
        for k in TOKEN_KEYS:
            row[k] += int(agent.get(k) or 0)
    for row in groups.values():
        row["cost_usd"] = round(row["cost_usd"], 6)
    return list(groups.values())


def failed_agents(agents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"id": a["id"], "label": a.get("label"), "phase": a.get("phase"), "state": a.get("state"),
         "kind": a.get("error_kind") or "error", "reason": a.get("error") or "no reason recorded"}
        for a in agents if a.get("state") in ("failed", "skipped")
    ]


def unfinished_agents(agents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": a["id"], "label": a.get("label"), "phase": a.get("phase"), "state": a.get("state")}
            for a in agents if a.get("state") in ("queued", "running")]


def verdict_counts(findings: list[dict[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(VERDICTS, 0)
    for finding in findings:
        verdict = str(finding.get("verdict") or "unverified")
        counts[verdict] = counts.get(verdict, 0) + 1
    return counts


def _result_list(result: Any, key: str) -> list[Any]:
    if isinstance(result, dict) and isinstance(result.get(key), list):
        return list(result[key])
    return []


def dropped_items(records: RunRecords) -> list[dict[str, str]]:
    """What the workflow says it dropped (``result["dropped"]``: items it could not process, and why)."""
    out = []
    for item in _result_list(records.result, "dropped"):
        if isinstance(item, dict):
            out.append({"item": str(item.get("item", item.get("path", "?"))),
                        "reason": str(item.get("reason", "no reason given"))})
        else:
            out.append({"item": str(item), "reason": "no reason given"})
    return out


def refuted_items(records: RunRecords) -> list[dict[str, Any]]:
    """Refuted findings: reported ones plus those the workflow only returned (``result["refuted"]``)."""
    seen = {f.get("fingerprint") for f in records.findings if f.get("verdict") == "refuted"}
    out = [f for f in records.findings if f.get("verdict") == "refuted"]
    for item in _result_list(records.result, "refuted"):
        if isinstance(item, dict) and item.get("fingerprint") not in seen:
            out.append(item)
    return out


def sorted_findings(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def key(f: dict[str, Any]) -> tuple[int, int, str, int]:
        loc = f.get("location") or {}
        return (VERDICTS.index(f.get("verdict", "unverified")) if f.get("verdict") in VERDICTS else 1,
                SEVERITY_RANK.get(str(f.get("severity")), 4), str(loc.get("path", "")), int(loc.get("start_line") or 1))
    return sorted(findings, key=key)


def summary(records: RunRecords) -> dict[str, Any]:
    run = records.run
    agents = records.agents
    counts = verdict_counts(records.findings)
    counts["refuted"] = len(refuted_items(records))
    return {
        "run_id": records.run_id,
        "workflow": run.get("workflow"),
        "status": run.get("status"),
        "error": run.get("error"),
        "findings": len(records.findings),
        "verdicts": counts,
        "affected_files": affected_files(records.findings),
        "agents": {
            "launched": int(run.get("launched") or sum(a.get("count", 1) for a in agents)),
            "succeeded": int(run.get("succeeded") or 0),
            "failed": int(run.get("failed") or 0),
            "cached": int(run.get("cached") or 0),
        },
        "tokens": {k: int(run.get(k) or 0) for k in TOKEN_KEYS},
        "web": {"searches": int(run.get("web_search_requests") or 0),
                "fetches": int(run.get("web_fetch_requests") or 0)},
        "cost_usd": round(float(run.get("cost_usd") or 0), 6),
        "duration_s": round((run.get("finished_at") or run.get("created_at") or 0) - (run.get("created_at") or 0), 3),
    }


def affected_files(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    files: dict[str, dict[str, Any]] = {}
    for f in findings:
        path = str((f.get("location") or {}).get("path", "?"))
        row = files.setdefault(path, {"path": path, "findings": 0, **dict.fromkeys(VERDICTS, 0), "fixes": 0})
        row["findings"] += 1
        verdict = str(f.get("verdict") or "unverified")
        row[verdict] = row.get(verdict, 0) + 1
        row["fixes"] += 1 if f.get("fix") else 0
    return sorted(files.values(), key=lambda r: r["path"])


def estimate_vs_actual(records: RunRecords) -> dict[str, Any] | None:
    """The approved estimate (whatever shape the estimator stored) next to what the run used."""
    estimate = records.run.get("estimate")
    if not isinstance(estimate, dict):
        return None
    actual = summary(records)
    return {"estimate": estimate,
            "actual": {"agents": actual["agents"]["launched"], "tokens": sum(actual["tokens"].values()),
                       "cost_usd": actual["cost_usd"], "minutes": round(actual["duration_s"] / 60, 4)},
            "actual_by_phase": by_key(records.agents, "phase")}


def to_json(records: RunRecords) -> dict[str, Any]:
    run = dict(records.run)
    run.pop("script_source", None)
    run.pop("settings", None)
    return {
        "summary": summary(records),
        "run": run,
        "findings": sorted_findings(records.findings),
        "unverified": [f for f in records.findings if f.get("verdict", "unverified") == "unverified"],
        "refuted": refuted_items(records),
        "dropped": dropped_items(records),
        "failed_agents": failed_agents(records.agents),
        "unfinished_agents": unfinished_agents(records.agents),
        "by_phase": by_key(records.agents, "phase"),
        "by_model": by_key(records.agents, "model"),
        "estimate_vs_actual": estimate_vs_actual(records),
        "sources": records.sources,
        "suppressed": records.suppressed,
        "resolution": records.resolution.to_json() if records.resolution is not None else None,
        "closed": records.closed,
        "logs": records.logs,
    }
