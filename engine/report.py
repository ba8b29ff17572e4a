"""Run reports from the run store: Markdown (report.md), SARIF 2.1.0 (with fixes) and JSON.

Everything is computed from the stored records (run, agents, findings, logs), so a report can be
made again at any time with ``workcrew report RUN_ID``. The accounting is the point: unverified
findings and failed agents are listed as such and never counted as confirmed or refuted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from .errors import WorkcrewError
from .store import RunStore

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
    run = store.get_run(run_id)
    if run is None:
        raise ReportError(f"no run {run_id!r} in {store.path}; `workcrew runs` lists the runs there")
    rid = run["id"]
    return RunRecords(run, store.agent_summary(rid), store.get_findings(rid), store.get_logs(rid), store.dismissed())


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


def _sorted_findings(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
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
        "findings": _sorted_findings(records.findings),
        "unverified": [f for f in records.findings if f.get("verdict", "unverified") == "unverified"],
        "refuted": refuted_items(records),
        "dropped": dropped_items(records),
        "failed_agents": failed_agents(records.agents),
        "unfinished_agents": unfinished_agents(records.agents),
        "by_phase": by_key(records.agents, "phase"),
        "by_model": by_key(records.agents, "model"),
        "estimate_vs_actual": estimate_vs_actual(records),
        "logs": records.logs,
    }


# -- Markdown ----------------------------------------------------------------------------------


def _money(value: float) -> str:
    return f"${value:,.4f}" if value < 1 else f"${value:,.2f}"


def _cell(text: Any) -> str:
    return " ".join(str(text if text is not None else "").split()).replace("|", "\\|")


def _fence(text: str, lang: str = "") -> str:
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}{lang}\n{text.rstrip()}\n{ticks}"


def _votes(f: dict[str, Any]) -> str:
    v = f.get("votes") or {}
    if not any(v.get(k) for k in ("confirm", "refute", "missing")):
        return ""
    return f" (votes: {v.get('confirm', 0)} upheld, {v.get('refute', 0)} refuted, {v.get('missing', 0)} missing)"


def _where(f: dict[str, Any]) -> str:
    loc = f.get("location") or {}
    start, end = loc.get("start_line") or 1, loc.get("end_line")
    lines = f"{start}" if not end or end == start else f"{start}-{end}"
    return f"{loc.get('path', '?')}:{lines}"


def _fix_lines(fix: dict[str, Any]) -> list[str]:
    lines = [f"**Recommended fix**{': ' + _cell(fix['title']) if fix.get('title') else ''}"]
    if fix.get("diff"):
        lines.append(_fence(str(fix["diff"]), "diff"))
    else:
        for edit in fix.get("edits") or []:
            old = "".join(f"-{line}\n" for line in str(edit.get("old", "")).splitlines())
            new = "".join(f"+{line}\n" for line in str(edit.get("new", "")).splitlines())
            lines.append(f"In `{edit.get('path')}`:")
            lines.append(_fence(old + new, "diff"))
    for ev in fix.get("evidence") or []:
        lines.append(f"- fix evidence: {_cell(ev.get('note'))}")
    return lines


def _finding_md(index: int, f: dict[str, Any], dismissed: set[str]) -> list[str]:
    title = _cell(f.get("title"))
    head = f"### {index}. [{f.get('severity', 'warning')}] {title} — `{_where(f)}`"
    lines = [head, "", f"Verdict: **{f.get('verdict', 'unverified')}**{_votes(f)} · category `{f.get('category', 'finding')}`"
             + (f" · confidence {f['confidence']:.2f}" if isinstance(f.get("confidence"), int | float) else "")
             + (" · dismissed" if f.get("fingerprint") in dismissed else "")
             + f" · id `{f.get('id', '')}`"]
    if f.get("message"):
        lines += ["", str(f["message"]).strip()]
    snippet = (f.get("location") or {}).get("snippet")
    if snippet:
        lines += ["", _fence(str(snippet))]
    evidence = f.get("evidence") or []
    if evidence:
        lines += ["", "Evidence:"]
        for ev in evidence:
            where = f"`{ev.get('path')}{':' + str(ev['line']) if ev.get('line') else ''}` — " if ev.get("path") else ""
            lines.append(f"- {where}{_cell(ev.get('note'))}")
    if f.get("fix"):
        lines += ["", *_fix_lines(f["fix"])]
    return [*lines, ""]


def render_markdown(records: RunRecords) -> str:
    s = summary(records)
    run = records.run
    lines = [f"# Workcrew report: {run.get('workflow')} · {records.run_id}", ""]
    lines += ["## Summary", ""]
    status = f"Status: **{s['status']}**" + (f" — {_cell(s['error'])}" if s["error"] else "")
    lines += [status + f" · duration {s['duration_s']:.1f} s · provider {run.get('provider') or '-'}", ""]
    v = s["verdicts"]
    lines.append(f"Findings: {s['findings']} reported — {v['confirmed']} confirmed, {v['unverified']} unverified, "
                 f"{v['refuted']} refuted. Unverified findings were neither confirmed nor refuted "
                 "(votes missing or split) and are not counted as either.")
    a = s["agents"]
    lines.append(f"Agents: {a['launched']} launched, {a['succeeded']} succeeded, {a['failed']} failed"
                 + (f", {a['cached']} cached" if a["cached"] else "") + ".")
    lines.append(f"Tokens: {sum(s['tokens'].values()):,} · cost {_money(s['cost_usd'])}.")
    result_summary = records.result.get("summary") if isinstance(records.result, dict) else None
    if isinstance(result_summary, str) and result_summary.strip():
        lines += ["", result_summary.strip()]
    lines.append("")

    lines += ["## Affected files", ""]
    if s["affected_files"]:
        lines += ["| file | findings | confirmed | unverified | refuted | fixes |", "|---|---|---|---|---|---|"]
        for r in s["affected_files"]:
            lines.append(f"| `{_cell(r['path'])}` | {r['findings']} | {r['confirmed']} | {r['unverified']} | "
                         f"{r['refuted']} | {r['fixes']} |")
    else:
        lines.append("No findings were reported.")
    lines.append("")

    findings = _sorted_findings(records.findings)
    confirmed = [f for f in findings if f.get("verdict") == "confirmed"]
    unverified = [f for f in findings if f.get("verdict", "unverified") == "unverified"]
    lines += ["## Findings", ""]
    if not confirmed:
        lines += ["No confirmed findings.", ""]
    for i, f in enumerate(confirmed, start=1):
        lines += _finding_md(i, f, records.dismissed)

    lines += ["## Unverified and dropped", ""]
    lines += [f"### Unverified findings ({len(unverified)})", ""]
    if unverified:
        lines += ["Not enough skeptic votes came back to confirm or refute these; check them by hand.", ""]
        for i, f in enumerate(unverified, start=1):
            lines += _finding_md(i, f, records.dismissed)
    else:
        lines += ["None.", ""]
    refuted = refuted_items(records)
    lines += [f"### Refuted ({len(refuted)})", ""]
    for f in refuted:
        reason = f.get("reason") or f.get("message") or ""
        lines.append(f"- {_cell(f.get('title'))} — `{_where(f)}`{_votes(f)}" + (f": {_cell(reason)}" if reason else ""))
    lines += [""] if refuted else ["None.", ""]
    dropped = dropped_items(records)
    lines += [f"### Dropped work ({len(dropped)})", ""]
    for d in dropped:
        lines.append(f"- `{_cell(d['item'])}`: {_cell(d['reason'])}")
    lines += ["None.", ""] if not dropped else [""]
    failed = failed_agents(records.agents)
    lines += [f"### Failed agents ({len(failed)})", ""]
    if failed:
        lines += ["| agent | label | phase | kind | reason |", "|---|---|---|---|---|"]
        for fa in failed:
            lines.append(f"| {fa['id']} | {_cell(fa['label'])} | {_cell(fa['phase'])} | {fa['kind']} | {_cell(fa['reason'])} |")
    else:
        lines.append("None.")
    unfinished = unfinished_agents(records.agents)
    if unfinished:
        lines += ["", f"{len(unfinished)} agents never finished: "
                  + ", ".join(f"{u['id']} ({_cell(u['label'])}, {u['state']})" for u in unfinished)]
    lines.append("")

    lines += ["## Cost", ""]
    for key in ("phase", "model"):
        rows = by_key(records.agents, key)
        lines += [f"By {key}:", "", f"| {key} | agents | ok | failed | input | output | cache write | cache read | USD |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in rows:
            lines.append(f"| {_cell(r[key])} | {r['agents']} | {r['succeeded']} | {r['failed']} | {r['input_tokens']:,} | "
                         f"{r['output_tokens']:,} | {r['cache_creation_input_tokens']:,} | "
                         f"{r['cache_read_input_tokens']:,} | {_money(r['cost_usd'])} |")
        if not rows:
            lines.append("| (no agents) | 0 | 0 | 0 | 0 | 0 | 0 | 0 | $0.0000 |")
        lines.append("")
    comparison = estimate_vs_actual(records)
    lines += ["Estimate vs actual:", ""]
    if comparison is None:
        lines.append("No estimate was recorded for this run.")
    else:
        lines += _estimate_lines(comparison)
    lines.append("")

    if records.logs:
        lines += ["## Log", "", _fence("\n".join(records.logs)), ""]
    lines += ["---", f"Regenerate with `workcrew report {records.run_id}` (`--format sarif` or `--format json` "
              "for machines).", ""]
    return "\n".join(lines)


def _pick(data: dict[str, Any], *names: str) -> Any:
    for name in names:
        if name in data:
            return data[name]
    return None


def _range_text(value: Any, money: bool = False) -> str:
    def one(x: Any) -> str:
        if isinstance(x, int | float):
            return _money(float(x)) if money else f"{x:,.0f}"
        return str(x)
    if isinstance(value, dict):
        parts = [f"{k} {one(value[k])}" for k in ("low", "expected", "high") if k in value]
        return ", ".join(parts) if parts else json.dumps(value)
    return one(value) if value is not None else "-"


def _estimate_lines(comparison: dict[str, Any]) -> list[str]:
    est, act = comparison["estimate"], comparison["actual"]
    rows = [
        ("agents", _pick(est, "agents"), f"{act['agents']:,}", False),
        ("tokens", _pick(est, "tokens", "total_tokens"), f"{act['tokens']:,}", False),
        ("USD", _pick(est, "usd", "cost_usd"), _money(act["cost_usd"]), True),
    ]
    if "minutes" in est:
        rows.append(("minutes", est["minutes"], f"{act['minutes']:.2f}", False))
    lines = ["| | estimate | actual |", "|---|---|---|"]
    for name, value, actual, money in rows:
        text = _range_text(value, money) if name != "minutes" else _range_text(
            {k: f"{v:.2f}" for k, v in value.items()} if isinstance(value, dict) else value)
        lines.append(f"| {name} | {text} | {actual} |")
    phases = [p for p in est.get("by_phase") or [] if isinstance(p, dict)]
    if phases:
        actual_phases = {r["phase"]: r for r in comparison["actual_by_phase"]}
        lines += ["", "| phase | agents (expected) | agents (actual) | USD (expected) | USD (actual) |",
                  "|---|---|---|---|---|"]
        for p in phases:
            name = str(p.get("phase") or "(none)")
            got = actual_phases.get(name, {"agents": 0, "cost_usd": 0.0})
            agents, usd = p.get("agents"), p.get("cost_usd")
            lines.append(f"| {_cell(name)} | {_range_text(agents.get('expected') if isinstance(agents, dict) else agents)} "
                         f"| {got['agents']} | {_range_text(usd.get('expected') if isinstance(usd, dict) else usd, True)} "
                         f"| {_money(float(got['cost_usd']))} |")
    return lines


# -- SARIF 2.1.0 -------------------------------------------------------------------------------


def _tool_version() -> str:
    try:
        return version("workcrew")
    except PackageNotFoundError:
        return "0"


def sarif_schema() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("data", "sarif-2.1.0.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _artifact(path: str) -> dict[str, Any]:
    return {"uri": path, "uriBaseId": "SRCROOT"}


def _region(loc: dict[str, Any]) -> dict[str, Any]:
    start = int(loc.get("start_line") or 1)
    region: dict[str, Any] = {"startLine": start, "endLine": max(start, int(loc.get("end_line") or start))}
    if loc.get("snippet"):
        region["snippet"] = {"text": str(loc["snippet"])}
    return region


def _position(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a character offset."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def sarif_fix(fix: dict[str, Any], workspace: Path | None) -> tuple[dict[str, Any] | None, str | None]:
    """A SARIF ``fix`` from exact-text edits checked against the workspace files, or (None, why not)."""
    changes: dict[str, list[dict[str, Any]]] = {}
    for edit in fix.get("edits") or []:
        path, old, new = str(edit.get("path")), str(edit.get("old", "")), str(edit.get("new", ""))
        if old == "":
            region: dict[str, Any] = {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 1}
        else:
            if workspace is None:
                return None, "the run's workspace is unknown"
            try:
                text = (workspace / path).read_text("utf-8")
            except (OSError, UnicodeDecodeError):
                return None, f"{path} cannot be read in the workspace"
            start = text.find(old)
            if start < 0 or text.find(old, start + 1) >= 0:
                return None, f"the text to replace is {'missing from' if start < 0 else 'not unique in'} {path} (stale)"
            start_line, start_col = _position(text, start)
            end_line, end_col = _position(text, start + len(old))
            region = {"startLine": start_line, "startColumn": start_col, "endLine": end_line, "endColumn": end_col}
        changes.setdefault(path, []).append({"deletedRegion": region, "insertedContent": {"text": new}})
    if not changes:
        return None, "the fix has no edits"
    description = str(fix.get("title") or "Apply the proposed patch")
    return {
        "description": {"text": description},
        "artifactChanges": [{"artifactLocation": _artifact(p), "replacements": r} for p, r in sorted(changes.items())],
    }, None


def _rule_id(category: str) -> str:
    return "workcrew/" + ("".join(c if c.isalnum() or c in "-_." else "-" for c in category) or "finding")


def to_sarif(records: RunRecords) -> dict[str, Any]:
    rules: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    workspace = records.workspace
    for f in _sorted_findings(records.findings):
        category = str(f.get("category") or "finding")
        rule_id = _rule_id(category)
        if rule_id not in rules:
            rules[rule_id] = {"id": rule_id, "name": category,
                              "shortDescription": {"text": f"Workcrew finding: {category}"},
                              "properties": {"tags": ["workcrew", category]}}
        loc = f.get("location") or {}
        verdict = str(f.get("verdict") or "unverified")
        result: dict[str, Any] = {
            "ruleId": rule_id,
            "ruleIndex": list(rules).index(rule_id),
            "message": {"text": str(f.get("title")) + (f"\n\n{f['message']}" if f.get("message") else "")},
            "locations": [{"physicalLocation": {"artifactLocation": _artifact(str(loc.get("path"))),
                                                "region": _region(loc)}}],
            "partialFingerprints": {"workcrew/v1": str(f.get("fingerprint", ""))},
            "properties": {"verdict": verdict, "votes": f.get("votes") or {}, "fingerprint": f.get("fingerprint"),
                           "findingId": f.get("id"), "severity": f.get("severity", "warning")},
        }
        if verdict == "confirmed":
            result["level"] = SARIF_LEVEL.get(str(f.get("severity")), "warning")
        else:
            # not confirmed: a human should look (SARIF: kind "review" goes with level "none")
            result["kind"] = "review"
            result["level"] = "none"
        if isinstance(f.get("confidence"), int | float):
            result["properties"]["confidence"] = f["confidence"]
        if verdict == "refuted":
            result["suppressions"] = [{"kind": "external", "status": "accepted",
                                       "justification": "refuted by the workflow's skeptics"}]
        related = []
        for n, ev in enumerate(f.get("evidence") or [], start=1):
            rel: dict[str, Any] = {"id": n, "message": {"text": str(ev.get("note") or "evidence")}}
            if ev.get("path"):
                physical: dict[str, Any] = {"artifactLocation": _artifact(str(ev["path"]))}
                if ev.get("line"):
                    physical["region"] = {"startLine": max(1, int(ev["line"]))}
                rel["physicalLocation"] = physical
            related.append(rel)
        if related:
            result["relatedLocations"] = related
        if f.get("fix"):
            fix, why_not = sarif_fix(f["fix"], workspace)
            if fix is not None:
                result["fixes"] = [fix]
            else:
                result["properties"]["fixNotOffered"] = why_not
        results.append(result)
    failed = failed_agents(records.agents)
    run = records.run
    invocation: dict[str, Any] = {
        "executionSuccessful": run.get("status") == "succeeded",
        "toolExecutionNotifications": [
            {"level": "warning", "message": {"text": f"agent {fa['id']} ({fa['label'] or 'unlabelled'}) {fa['state']}: "
                                                     f"{fa['kind']}: {fa['reason']}"},
             "properties": {"agentId": fa["id"], "phase": fa["phase"], "kind": fa["kind"]}}
            for fa in failed
        ] + [
            {"level": "note", "message": {"text": f"dropped {d['item']}: {d['reason']}"}} for d in dropped_items(records)
        ],
    }
    if run.get("error"):
        invocation["exitCodeDescription"] = str(run["error"])
    sarif_run: dict[str, Any] = {
        "tool": {"driver": {"name": "workcrew", "version": _tool_version(),
                            "informationUri": "https://pypi.org/project/workcrew/", "rules": list(rules.values())}},
        "automationDetails": {"id": f"{run.get('workflow')}/{records.run_id}"},
        "invocations": [invocation],
        "results": results,
        "properties": {"summary": summary(records)},
    }
    if workspace is not None:
        sarif_run["originalUriBaseIds"] = {"SRCROOT": {"uri": workspace.resolve().as_uri() + "/"}}
    return {"$schema": SARIF_SCHEMA_URI, "version": "2.1.0", "runs": [sarif_run]}
