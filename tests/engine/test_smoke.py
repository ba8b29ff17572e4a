"""The bundled example runs end to end on the simulated model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_example_runs_headless_with_json(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "workcrew.engine.cli", "run", "examples/review_files.py",
         "--scenario", "examples/review_files.scenario.json", "-C", "examples/workspace",
         "--state-dir", str(tmp_path), "--yes", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["status"] == "succeeded"
    assert out["agents"] == {"launched": 8, "succeeded": 8, "failed": 0, "cached": 0}
    assert [b["path"] for b in out["result"]["confirmed"]] == ["calc.py"]
    assert set(out["usage"]) >= {"input_tokens", "output_tokens", "cache_creation_input_tokens",
                                 "cache_read_input_tokens", "cost_usd"}


def test_triage_example_counts_its_failure_and_retries_the_flaky_one(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "workcrew.engine.cli", "run", "examples/triage_issues.py",
         "--scenario", "examples/triage_issues.scenario.json", "-C", "examples/workspace",
         "--state-dir", str(tmp_path), "--yes", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["agents"] == {"launched": 9, "succeeded": 8, "failed": 1, "cached": 0}
    assert out["result"]["problems"] == 2 and out["result"]["unclassified"] == [3]
    assert out["logs"][0] == "parallel(): 1 of 4 failed (first: classify #3: the report is too vague to classify)"
