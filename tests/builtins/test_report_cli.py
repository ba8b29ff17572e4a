"""`workcrew report` regenerates reports from the run store; report.md is written at the end of every run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from workcrew.engine.cli import cli
from workcrew.engine.results.report import (
    RunRecords,
    load_records,
    render_markdown,
    report_path,
    sarif_schema,
    to_json,
)

from .conftest import FIXTURES


@pytest.fixture
def review_run(tmp_path: Path) -> tuple[Path, Path, str]:
    workspace = tmp_path / "ws"
    shutil.copytree(FIXTURES / "review" / "workspace", workspace)
    state = tmp_path / "state"
    done = CliRunner().invoke(cli, [
        "run", "review", "--args", (FIXTURES / "review" / "args.json").read_text(),
        "--scenario", str(FIXTURES / "review" / "scenario.json"), "-C", str(workspace),
        "--state-dir", str(state), "--yes", "--json"], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    out = json.loads(done.stdout)
    assert out["report"] == str(report_path(state.resolve(), out["run_id"]))
    return workspace, state, out["run_id"]


def report(state: Path, *argv: str) -> tuple[int, str, str]:
    done = CliRunner().invoke(cli, ["report", *argv, "--state-dir", str(state)], catch_exceptions=False)
    return done.exit_code, done.stdout, done.stderr


def test_report_formats_come_from_the_store(review_run: tuple[Path, Path, str], tmp_path: Path) -> None:
    workspace, state, run_id = review_run
    code, md, _ = report(state, run_id[:9])  # a unique prefix is enough
    assert code == 0
    assert md == report_path(state.resolve(), run_id).read_text()
    assert "2 confirmed, 0 unverified, 1 refuted" in md
    # the CLI approved an estimate before the run: the report sets it against what was used
    estimate = md.split("Estimate vs actual:")[1]
    assert any(line.startswith("| agents | ") and line.endswith(" | 12 |") for line in estimate.splitlines())
    assert any(line.startswith("| Verify | ") and "| 9 | $" in line for line in estimate.splitlines())

    code, text, _ = report(state, run_id, "--format", "json")
    data = json.loads(text)
    assert data["summary"]["verdicts"] == {"confirmed": 2, "unverified": 0, "refuted": 1}
    assert [f["path"] for f in data["summary"]["affected_files"]] == ["calc.py", "parse.py"]
    assert {r["phase"]: r["agents"] for r in data["by_phase"]} == {"Find": 3, "Verify": 9}
    assert "script_source" not in data["run"]

    out = tmp_path / "out" / "review.sarif"
    code, _, err = report(state, run_id, "--format", "sarif", "--output", str(out))
    assert code == 0 and f"wrote {out}" in err
    log = json.loads(out.read_text())
    jsonschema.validate(log, sarif_schema())
    run = log["runs"][0]
    assert run["tool"]["driver"]["name"] == "workcrew"
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"] == workspace.resolve().as_uri() + "/"
    assert sorted(len(r["fixes"]) for r in run["results"]) == [1, 1]
    assert all(r["partialFingerprints"]["workcrew/v1"] == r["properties"]["fingerprint"] for r in run["results"])


def test_a_fix_whose_text_changed_is_not_offered_in_sarif(review_run: tuple[Path, Path, str]) -> None:
    workspace, state, run_id = review_run
    (workspace / "calc.py").write_text("def average(values):\n    return statistics.mean(values)\n")
    code, text, _ = report(state, run_id, "--format", "sarif")
    assert code == 0
    results = json.loads(text)["runs"][0]["results"]
    calc = next(r for r in results if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "calc.py")
    assert "fixes" not in calc
    assert "stale" in calc["properties"]["fixNotOffered"]


def test_unknown_run_is_a_clear_usage_error(tmp_path: Path) -> None:
    code, _, err = report(tmp_path / "state", "wf_nope")
    assert code == 2 and "no run 'wf_nope'" in err and "workcrew runs" in err


async def test_a_report_that_cannot_be_written_never_fails_the_run(run_script, settings) -> None:  # type: ignore[no-untyped-def]
    runs = settings.resolved_state_dir() / "runs"
    runs.parent.mkdir(parents=True, exist_ok=True)
    runs.write_text("a file where the runs folder should be")
    outcome = await run_script("return 42")
    assert outcome.status == "succeeded" and outcome.result == 42
    assert outcome.report_path is None
    assert any(line.startswith("report: could not write report.md") for line in outcome.logs)


async def test_folded_agent_rows_report_what_one_row_per_agent_does(run_script, store) -> None:  # type: ignore[no-untyped-def]
    # the report folds agents that went well into one row per phase, model and state; every count, cost and
    # failure must come out as from the agents one by one
    body = """
    phase("Find")
    await parallel([agent(f"find {i}", label=f"find {i}") for i in range(7)])
    phase("Check")
    await parallel([agent(f"check {i}", label=f"check {i}", model="haiku" if i % 2 else None)
                    for i in range(6)])
    await agent("summarise", label="summary", phase="Report")
    """
    scenario = {"rules": [{"match": {"label": "find [25]|check 3"}, "respond": {"error": 400}},
                          {"match": {"label": "check"}, "usage": {"output_tokens": 321}}]}
    outcome = await run_script(body, scenario=scenario)
    assert outcome.status == "succeeded" and outcome.agents["failed"] == 3
    store.flush()
    folded = load_records(store, outcome.run_id)
    assert len(folded.agents) < 14  # 11 succeeded agents fold into 4 rows, the 3 failed stay apart
    one_by_one = RunRecords(folded.run, store.get_agents(outcome.run_id), folded.findings, folded.logs,
                            resolution=folded.resolution, closed=folded.closed)
    assert to_json(folded) == to_json(one_by_one)
    assert render_markdown(folded) == render_markdown(one_by_one)
    by_phase = {row["phase"]: row for row in to_json(folded)["by_phase"]}
    assert list(by_phase) == ["Find", "Check", "Report"]
    assert (by_phase["Find"]["agents"], by_phase["Find"]["failed"], by_phase["Check"]["failed"]) == (7, 2, 1)
    assert [a["label"] for a in to_json(folded)["failed_agents"]] == ["find 2", "find 5", "check 3"]
    by_model = {row["model"]: row["agents"] for row in to_json(folded)["by_model"]}
    assert by_model == {"simulated": 11, "claude-haiku-5-5": 3}
