"""SARIF fixes and accounting from hand-made run records (no run needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
from workcrew.engine.results.report import (
    RunRecords,
    render_markdown,
    sarif_fix,
    sarif_schema,
    to_json,
    to_sarif,
)


def records(workspace: Path, findings: list[dict[str, Any]], agents: list[dict[str, Any]] | None = None,
            result: Any = None) -> RunRecords:
    run = {"id": "wf_1", "workflow": "t", "status": "succeeded", "workspace": str(workspace), "created_at": 1.0,
           "finished_at": 2.0, "launched": len(agents or []), "succeeded": 0, "failed": 0, "result": result}
    return RunRecords(run, agents or [], findings, [])


def finding(path: str, verdict: str, fix: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": f"f_{path}", "fingerprint": f"fp{path}", "title": f"t {path}", "severity": "warning",
            "category": "bug", "location": {"path": path, "start_line": 2, "end_line": 2}, "verdict": verdict,
            "votes": {"confirm": 1, "refute": 0, "missing": 2}, "fix": fix, "evidence": []}


def test_multi_line_and_new_file_edits_become_sarif_replacements(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\ndef f():\n    return 1\n")
    fix = {"edits": [{"path": "a.py", "old": "def f():\n    return 1", "new": "def f():\n    return 2"},
                     {"path": "new.py", "old": "", "new": "print()\n"}]}
    made, why = sarif_fix(fix, tmp_path)
    assert why is None and made is not None
    by_uri = {c["artifactLocation"]["uri"]: c["replacements"][0] for c in made["artifactChanges"]}
    assert by_uri["a.py"]["deletedRegion"] == {"startLine": 2, "startColumn": 1, "endLine": 3, "endColumn": 13}
    assert by_uri["new.py"]["insertedContent"] == {"text": "print()\n"}
    log = to_sarif(records(tmp_path, [finding("a.py", "confirmed", fix)]))
    jsonschema.validate(log, sarif_schema())
    assert log["runs"][0]["results"][0]["fixes"][0] == made


def test_an_ambiguous_edit_is_not_offered(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\nx = 1\n")
    made, why = sarif_fix({"edits": [{"path": "a.py", "old": "x = 1", "new": "x = 2"}]}, tmp_path)
    assert made is None and why is not None and "not unique" in why


def test_unverified_is_never_counted_as_confirmed_or_refuted(tmp_path: Path) -> None:
    agents = [
        {"id": "a0001", "label": "verify a#0", "phase": "Verify", "model": "m", "state": "failed",
         "error": "simulated HTTP 500", "error_kind": "api"},
        {"id": "a0002", "label": "verify a#1", "phase": "Verify", "model": "m", "state": "running"},
    ]
    recs = records(tmp_path, [finding("a.py", "unverified"), finding("b.py", "confirmed")], agents,
                   {"dropped": [{"item": "c.py", "reason": "finder failed"}], "refuted": [
                       {"title": "not a bug", "location": {"path": "d.py", "start_line": 1}, "reason": "intended"}]})
    data = to_json(recs)
    assert data["summary"]["verdicts"] == {"confirmed": 1, "unverified": 1, "refuted": 1}
    assert [f["location"]["path"] for f in data["unverified"]] == ["a.py"]
    assert data["failed_agents"] == [{"id": "a0001", "label": "verify a#0", "phase": "Verify", "state": "failed",
                                      "kind": "api", "reason": "simulated HTTP 500"}]
    assert data["unfinished_agents"][0]["id"] == "a0002"
    md = render_markdown(recs)
    assert "1 confirmed, 1 unverified, 1 refuted" in md
    assert "- `c.py`: finder failed" in md and "- not a bug — `d.py:1`: intended" in md
    assert "1 agents never finished: a0002 (verify a#1, running)" in md
    log = to_sarif(recs)
    jsonschema.validate(log, sarif_schema())
    kinds = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r.get("kind", "fail")
             for r in log["runs"][0]["results"]}
    assert kinds == {"a.py": "review", "b.py": "fail"}
