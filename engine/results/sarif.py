"""SARIF 2.1.0 for code-scanning tools: one result per finding, with its fix as a replacement when the
finding carries one."""

from __future__ import annotations

import json
from importlib import resources
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from .records import (
    SARIF_LEVEL,
    SARIF_SCHEMA_URI,
    RunRecords,
    dropped_items,
    failed_agents,
    sorted_findings,
    summary,
)

# -- SARIF 2.1.0 -------------------------------------------------------------------------------


def _tool_version() -> str:
    try:
        return version("workcrew")
    except PackageNotFoundError:
        return "0"


def sarif_schema() -> dict[str, Any]:
    text = resources.files("workcrew.engine").joinpath("data", "sarif-2.1.0.json").read_text("utf-8")
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
    for f in sorted_findings(records.findings):
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
