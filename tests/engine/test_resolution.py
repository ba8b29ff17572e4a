"""Findings that close when fixed: the built-in review run twice on the simulated model. A finding whose file
was edited and that the second run (which covered the file) no longer reports is closed as fixed; one in an
unchanged file, or in a file outside the second run's scope, stays open; a dismissed one counts as dismissed
by its reason's kind. The numbers come back in `workcrew stats`, the report's Resolution section and per run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from workcrew.engine import RunResult, RunStore, Settings, start
from workcrew.engine.cli import cli
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulated import SimulatedModel
from workcrew.engine.results.report import load_records, render
from workcrew.engine.results.resolution import dismissal_kind, run_resolution
from workcrew.engine.results.tracking import covers, run_scope
from workcrew.engine.store.finding_states import shown_states
from workcrew.engine.workflows.discovery import resolve

FILES = ("fixed.py", "unchanged.py", "elsewhere.py", "dismissed.py")


def bug(path: str) -> dict[str, Any]:
    return {"title": f"{path} divides by zero", "line": 2, "severity": "error", "category": "bug",
            "message": "n may be 0", "snippet": "return total / n"}


def scenario(reported: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    rules: list[dict[str, Any]] = [{"match": {"label": f"^find {path.replace('.', '[.]')}$"},
                                    "respond": {"json": {"findings": found}}} for path, found in reported.items()]
    rules.append({"match": {"label": "^verify "}, "respond": {"json": {"refuted": False, "reason": "it is real"}}})
    return {"rules": rules}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    for path in FILES:
        (root / path).write_text("def mean(total, n):\n    return total / n\n")
    return root


async def review(workspace: Path, files: list[str], reported: dict[str, list[dict[str, Any]]]) -> RunResult:
    settings = Settings(workspace=workspace, state_dir=workspace / ".workcrew", models={"default": "simulated"})
    store = RunStore(settings.resolved_state_dir())
    client = SimulatedModel(Scenario.from_data(scenario(reported)))
    try:
        handle = start(resolve("review", workspace, home=workspace.parent / "home"),
                       {"files": files, "skeptics": 1}, settings, client=client, store=store)
        outcome = await handle.result()
    finally:
        await client.aclose()
        store.close()
    assert outcome.status == "succeeded", outcome.error
    return outcome


def states(workspace: Path) -> dict[str, dict[str, Any]]:
    store = RunStore(workspace / ".workcrew")
    try:
        return {row["path"]: row for row in store._query("SELECT * FROM finding_states")}
    finally:
        store.close()


def stats(workspace: Path, *argv: str) -> dict[str, Any]:
    done = CliRunner().invoke(cli, ["stats", "--workspace", str(workspace), "--json", *argv])
    assert done.exit_code == 0, done.output
    data: dict[str, Any] = json.loads(done.output)
    return data


async def test_fixed_findings_close_and_the_rest_stay_open_or_dismissed(workspace: Path) -> None:
    first = await review(workspace, list(FILES), {path: [bug(path)] for path in FILES})
    assert first.findings == 4
    assert {path: row["status"] for path, row in states(workspace).items()} == dict.fromkeys(FILES, "open")

    # between the runs: one file fixed, another edited but not reviewed again, one finding dismissed
    (workspace / "fixed.py").write_text("def mean(total, n):\n    return total / n if n else 0.0\n")
    (workspace / "elsewhere.py").write_text("def mean(total, n):\n    return total / max(n, 1)\n")
    store = RunStore(workspace / ".workcrew")
    store.dismiss(states(workspace)["dismissed.py"]["fingerprint"], reason="false-positive: n is never 0")
    store.flush()
    store.close()

    # the second run covers fixed.py and unchanged.py and reports nothing in either
    second = await review(workspace, ["fixed.py", "unchanged.py"], {"fixed.py": [], "unchanged.py": []})
    after = states(workspace)
    assert after["fixed.py"]["status"] == "fixed" and after["fixed.py"]["resolved_by_run"] == second.run_id
    assert "its file changed" in after["fixed.py"]["reason"]
    assert after["unchanged.py"]["status"] == "open"  # missed this time, but the code is the same
    assert after["elsewhere.py"]["status"] == "open"  # changed, but the second run did not look at it
    assert after["dismissed.py"]["status"] == "open"  # dismissed: counted as such, never closed as fixed

    store = RunStore(workspace / ".workcrew")
    try:
        resolution = run_resolution(store, first.run_id)
        assert resolution.to_json() == {"total": 4, "fixed": 1, "dismissed": 1, "dismissed_by": {"false-positive": 1},
                                        "open": 2, "rate": 0.25, "acted_on": 0.5}
        assert run_resolution(store, second.run_id).total == 0
        # what an editor shows: open and not dismissed
        shown = {row["fingerprint"] for row in shown_states(store, str(workspace))}
        assert shown == {after["unchanged.py"]["fingerprint"], after["elsewhere.py"]["fingerprint"]}

        report = render(load_records(store, first.run_id), "md")  # what `workcrew report` prints
        assert "## Resolution" in report
        assert "| 4 | 1 | 1 | 2 | 25% | 50% |" in report and "Dismissed as: false-positive 1." in report
        closing = render(load_records(store, second.run_id), "md")
        assert "This run closed 1 earlier finding as fixed:" in closing and "- `fixed.py`" in closing
        assert json.loads(render(load_records(store, first.run_id), "json"))["resolution"]["fixed"] == 1
    finally:
        store.close()

    weekly = stats(workspace)
    assert [(row["workflow"], row["total"], row["fixed"], row["dismissed"], row["open"]) for row in weekly["rows"]] \
        == [("review", 4, 1, 1, 2)]
    assert weekly["total"]["rate"] == 0.25 and weekly["total"]["acted_on"] == 0.5
    assert weekly["total"]["dismissed_by"] == {"false-positive": 1}
    per_run = stats(workspace, "--by", "run")
    assert [(row["run_id"], row["fixed"], row["open"], row["rate"]) for row in per_run["rows"]] \
        == [(first.run_id, 1, 2, 0.25)]  # the second run reported nothing
    text = CliRunner().invoke(cli, ["stats", "--workspace", str(workspace)])
    assert text.exit_code == 0 and "review" in text.output and "25%" in text.output

    # the bug comes back: reported again, the fixed finding is open again
    (workspace / "fixed.py").write_text("def mean(total, n):\n    return total / n\n")
    await review(workspace, ["fixed.py"], {"fixed.py": [bug("fixed.py")]})
    again = states(workspace)["fixed.py"]
    assert again["status"] == "open" and again["resolved_at"] is None
    assert again["first_run"] == first.run_id  # first seen in the first run, still


def test_the_scope_a_run_covered() -> None:
    # what the result lists, minus what it dropped; a folder covers what is under it
    result = {"files": ["./src/", "a.py", "b.py"], "dropped": [{"item": "b.py", "reason": "not reviewed"}]}
    scope = run_scope(result, {"files": ["ignored.py"]}, failed_agents=3)
    assert scope == ["src", "a.py"]
    assert covers(scope, "src/deep/x.py") and covers(scope, "a.py")
    assert not covers(scope, "b.py") and not covers(scope, "src2/x.py")
    # else the args' files, but only when no agent failed (its file may not have been looked at)
    assert run_scope({"confirmed": 1}, {"files": ["a.py"]}, failed_agents=0) == ["a.py"]
    assert run_scope({"confirmed": 1}, {"files": ["a.py"]}, failed_agents=1) is None
    assert run_scope(None, ["a.py"], failed_agents=0) == ["a.py"]
    assert run_scope("done", {"focus": "bugs"}, failed_agents=0) is None  # says nothing: closes nothing


def test_dismissal_reasons_by_kind() -> None:
    assert dismissal_kind("false-positive: n is never 0") == "false-positive"
    assert dismissal_kind("intended") == "intended"
    assert dismissal_kind("wont-fix: legacy code") == "wont-fix"
    assert dismissal_kind("dismissed in the editor") == "dismissed"  # older rows: free text
    assert dismissal_kind(None) == "dismissed"
