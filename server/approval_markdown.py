"""An approval's details as one Markdown page: for clients without custom views (Neovim, Helix …), written to
``.workcrew/approvals/<id>.md`` and opened with ``window/showDocument``, and returned as ``markdown`` by the
details commands. File names and script text come from the workspace, so every piece of it is escaped: a name
cannot close a table cell, a code span or the script's fence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .approval_data import about, dollars, minutes, span, tokens

# what could start emphasis, a code span, a link, a table cell, strikethrough or an HTML tag inside a line
_SPECIAL = re.compile(r"([\\`*_\[\]|~]|<(?=[A-Za-z/!?]))")
_LEADING = re.compile(r"^(\d*)([#>+=.)-])")  # what makes a line a heading, quote, list or rule


def text(value: Any) -> str:
    """Plain text that Markdown shows as is, on one line (still readable as plain text: few escapes)."""
    escaped = _SPECIAL.sub(r"\\\1", " ".join(str(value).split()))
    lead = _LEADING.match(escaped)
    if lead is None or (lead.group(1) and lead.group(2) not in ".)") or (not lead.group(1) and lead.group(2) in ".)"):
        return escaped
    return f"{lead.group(1)}\\{escaped[len(lead.group(1)):]}"


def code(value: Any, *, cell: bool = False) -> str:
    """A code span that holds any text (a fence longer than its longest run of backticks); in a table ``cell``
    a ``|`` is escaped too (GFM splits cells before it reads code spans)."""
    raw = " ".join(str(value).split())
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", raw)), default=0) + 1)
    pad = " " if raw.startswith("`") or raw.endswith("`") or not raw else ""
    span = f"{ticks}{pad}{raw}{pad}{ticks}"
    return span.replace("|", "\\|") if cell else span


def _fence(source: str) -> str:
    return "`" * max(3, max((len(run) for run in re.findall(r"`{3,}", source)), default=0) + 1)


def _range(values: Mapping[str, float] | None, fmt: Any) -> str:
    if values is None:
        return "—"
    return span(values, fmt)


def render_markdown(data: Mapping[str, Any]) -> str:
    lines = [f"# {text(data['headline'])}", ""]
    if data.get("warning"):
        lines += [f"> {text(data['warning'])}", ""]
    if data.get("description"):
        lines += [text(data["description"]), ""]
    lines += _overview(data) + _phases(data) + _files(data) + _excluded(data) + _capabilities(data) + _script(data)
    return "\n".join(lines).rstrip() + "\n"


def _overview(data: Mapping[str, Any]) -> list[str]:
    totals, script, cap = data["totals"], data["script"], data["cap"]
    where = code(script["path"]) if script["path"] else "not saved to a file"
    if script["origin"] == "builtin":
        where += " (built in)"
    lines = ["## What runs", "",
             f"- Workflow: {code(data['workflow'])}",
             f"- Script: {where}, sha256 {code(script['sha256'])}",
             f"- Provider: {text(data['provider'])}{' (no cost)' if data['provider'] == 'simulated' else ''}"]
    if data.get("args") is not None:
        import json

        lines.append(f"- Args: {code(json.dumps(data['args'], ensure_ascii=False, default=str)[:500])}")
    if data["scope"]["described"]:
        lines.append(f"- Scope: {text(data['scope']['described'])}")
    if totals["agents"] is not None:
        lines += [f"- Agents: {_range(totals['agents'], lambda v: f'{round(v):,}')}"
                  + (f" (+{totals['reused']} reused from an earlier run, no cost)" if totals.get("reused") else ""),
                  f"- Tokens: {_range(totals['tokens'], tokens)}",
                  f"- Cost: {_range(totals['cost_usd'], dollars)}",
                  f"- Time: {about(totals['minutes']['expected'])} ({_range(totals['minutes'], minutes)})"]
    else:
        lines.append(f"- Estimate: unavailable ({text(data.get('estimate_unavailable') or 'unknown reason')})")
    lines.append(f"- Cap: {text(cap['text'])}")
    for note in data.get("notes") or []:
        lines.append(f"- Note: {text(note)}")
    for change in data.get("changes") or []:
        lines.append(f"- Asked again: {text(change)}")
    return [*lines, ""]


def _phases(data: Mapping[str, Any]) -> list[str]:
    if not data["phases"]:
        return []
    lines = ["## Phases", "", "| Phase | Agents | Cost | Models |", "|---|---:|---:|---|"]
    for phase in data["phases"]:
        models = ", ".join(f"{code(m['model'], cell=True)} × {m['agents']}" for m in phase["models"]) or "—"
        lines.append(f"| {text(phase['phase'] or '(no phase)')} | {_range(phase['agents'], lambda v: f'{round(v):,}')} "
                     f"| {_range(phase['cost_usd'], dollars)} | {models} |")
    return [*lines, ""]


def _bar(share: float, width: int = 20) -> str:
    filled = max(0, min(width, round(share / 100 * width)))
    return "█" * filled + "░" * (width - filled)


def _files(data: Mapping[str, Any]) -> list[str]:
    files = data["files"]
    count = f"{files['total']:,} file{'' if files['total'] == 1 else 's'}"
    lines = [f"## Files in scope ({count}, {files['bytes']:,} bytes, ~{tokens(files['tokens'])} tokens)", ""]
    if not files["total"]:
        lines.append("No file is in scope: the workflow decides what to read.")
    else:
        lines += ["| File | Size | Tokens | Share |", "|---|---:|---:|---|"]
        rows = files.get("all") or files["top"]
        for row in rows:
            lines.append(f"| {code(row['path'], cell=True)} | {row['bytes']:,} B | {row['tokens']:,} "
                         f"| {_bar(row['share'])} {row['share']:.1f}% |")
        rest = files["rest"]
        if rest["files"] and not files.get("all"):
            lines.append(f"| … {rest['files']:,} more files | {rest['bytes']:,} B | {rest['tokens']:,} "
                         f"| {_bar(rest['share'])} {rest['share']:.1f}% |")
        if len(files.get("folders") or []) > 1:
            lines += ["", "| Folder | Files | Tokens | Share |", "|---|---:|---:|---|"]
            for row in files["folders"]:
                lines.append(f"| {code(row['path'], cell=True)} | {row['files']:,} | {row['tokens']:,} "
                             f"| {_bar(row['share'])} {row['share']:.1f}% |")
    for refused in data["scope"]["refused"]:
        lines.append(f"- Not in scope: {code(refused['path'])}: {text(refused['why'])}")
    for note in data["scope"]["notes"]:
        lines.append(f"- Note: {text(note)}")
    return [*lines, ""]


def _excluded(data: Mapping[str, Any]) -> list[str]:
    excluded = data["excluded"]
    if not excluded:
        return ["## Left out", "", "Nothing was left out.", ""]
    lines = ["## Left out", ""]
    for row in excluded:
        examples = ", ".join(code(e) for e in row["examples"][:10])
        more = row["count"] - min(len(row["examples"]), 10)
        lines.append(f"- **{text(row['label'])}**: {row['count']:,}"
                     + (f" — {examples}" if examples else "") + (f" and {more:,} more" if more > 0 else ""))
    return [*lines, ""]


def _capabilities(data: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    mcp = data.get("mcp")
    if mcp is not None:
        lines += ["## MCP servers (.mcp.json)", ""]
        if mcp["error"]:
            lines.append(text(mcp["error"]))
        for server in mcp["servers"]:
            state = "approved" if server["approved"] else "not approved yet: approving this run starts it"
            lines.append(f"- {code(server['name'])}: {code(server['what'])} — {text(state)} ({text(server['why'])})")
        lines.append("")
    if data.get("web"):
        lines += ["## Web research", "", text(data["web"]["text"]), ""]
    if data.get("sandbox"):
        lines += ["## Commands", "", text(data["sandbox"]), ""]
    return lines


def _script(data: Mapping[str, Any]) -> list[str]:
    source = data["script"]["source"]
    fence = _fence(source)
    language = "javascript" if str(data["script"]["path"] or "").endswith((".js", ".mjs")) else "python"
    return ["## Script", "", f"{fence}{language}", source.rstrip("\n"), fence, ""]
