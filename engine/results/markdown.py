"""report.md: the run, its findings with their evidence, votes and fixes, failures and costs, as Markdown."""

from __future__ import annotations

import json
from typing import Any

from .records import (
    RunRecords,
    by_key,
    dropped_items,
    estimate_vs_actual,
    failed_agents,
    refuted_items,
    sorted_findings,
    summary,
    unfinished_agents,
)
from .resolution_md import resolution_lines

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
    if records.suppressed:
        lines.append(f"Suppressed by project rules: {len(records.suppressed)} (not shown; listed below).")
    a = s["agents"]
    lines.append(f"Agents: {a['launched']} launched, {a['succeeded']} succeeded, {a['failed']} failed"
                 + (f", {a['cached']} cached" if a["cached"] else "") + ".")
    lines.append(f"Tokens: {sum(s['tokens'].values()):,} · cost {_money(s['cost_usd'])}.")
    if s["web"]["searches"] or s["web"]["fetches"]:
        lines.append(f"Web research: {s['web']['searches']} searches, {s['web']['fetches']} page fetches "
                     "(in the cost: searches at their per-use price, results as input tokens).")
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

    findings = sorted_findings(records.findings)
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
    lines += _suppressed_lines(records.suppressed)
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

    lines += resolution_lines(records.resolution, records.closed)
    lines += _sources_lines(records.sources)

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


def _suppressed_lines(suppressed: list[dict[str, Any]]) -> list[str]:
    """Findings a project rule (.claude/workcrew-rules.md) covered: counted and named, never dropped silently
    (no section when there are none: most projects have no rules)."""
    if not suppressed:
        return []
    lines = [f"### Suppressed by project rules ({len(suppressed)})", "",
             "A rule in `.claude/workcrew-rules.md` covers each of these; `workcrew rules list` shows the rules.", ""]
    for item in suppressed:
        f, rule = item.get("finding") or {}, item.get("rule") or {}
        lines.append(f"- {_cell(f.get('title'))} — `{_where(f)}` — suppressed by rule {_cell(rule.get('id'))}"
                     + (f" ({_cell(rule.get('kind'))})" if rule.get("kind") else ""))
    return [*lines, ""]


def _sources_lines(sources: list[dict[str, Any]]) -> list[str]:
    """The web sources each agent's answer cites (its answer itself is kept as it came)."""
    if not sources:
        return []
    lines = ["## Sources", "", "What agents with web research cited in their answers.", ""]
    for agent in sources:
        who = _cell(agent.get("label") or agent.get("id"))
        lines += [f"**{who}**" + (f" ({_cell(agent['phase'])})" if agent.get("phase") else "") + f" · `{agent.get('id')}`"]
        for citation in agent.get("citations") or []:
            title, url = _cell(citation.get("title") or citation.get("url") or "source"), citation.get("url")
            link = f"[{title}](<{url}>)" if url else title
            quote = _cell(citation.get("cited_text"))
            lines.append(f"- {link}" + (f" — “{quote}”" if quote else ""))
        lines.append("")
    return lines


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
