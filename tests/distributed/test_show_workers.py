"""`workcrew show` and `workcrew runs` say where a distributed run's work ran: its executor and each agent's
worker; a local run's output has neither. The rows are written as a distributed run writes them (no cluster)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from workcrew.engine import RunStore
from workcrew.engine.cli import cli

CLUSTER = "10.1.2.3:6379"


def _run(store: RunStore, run_id: str, workers: list[str | None], *, executor: str = "local") -> None:
    store.create_run(id=run_id, workflow="fan-out", status="succeeded", created_at=time.time(),
                     settings={"executor": executor, "cluster": CLUSTER if executor == "distributed" else None},
                     launched=len(workers), succeeded=len(workers))
    for seq, worker in enumerate(workers):
        store.upsert_agent(run_id, f"a{seq}", seq=seq, label=f"fix {seq}", phase="Fix", model="simulated",
                           state="succeeded", started_at=100.0, finished_at=101.5, input_tokens=10,
                           output_tokens=5, cost_usd=0.001, worker=worker)


@pytest.fixture
def state(tmp_path: Path) -> Path:
    folder = tmp_path / "state"
    store = RunStore(folder)
    _run(store, "wf_distributed0", ["w1", "w2", "w1", None], executor="distributed")
    _run(store, "wf_local0000000", [None, None])
    store.flush()
    store.close()
    return folder


def workcrew(state: Path, *argv: str) -> str:
    done = CliRunner().invoke(cli, [*argv, "--state-dir", str(state), "-C", str(state.parent)],
                              env={"COLUMNS": "200"}, catch_exceptions=False)
    assert done.exit_code == 0, done.output
    return done.stdout


def test_show_has_a_worker_column_and_the_executor_for_a_distributed_run(state: Path) -> None:
    out = workcrew(state, "show", "wf_distributed0")
    assert f"executor: distributed ({CLUSTER})" in out
    header = next(line for line in out.splitlines() if " agent " in line and " label " in line)
    assert "worker" in header
    rows = {line.split("│")[3].strip(): line for line in out.splitlines() if "fix " in line}
    assert [cell.strip() for cell in rows["fix 0"].split("│")][9] == "w1"
    assert [cell.strip() for cell in rows["fix 1"].split("│")][9] == "w2"
    assert [cell.strip() for cell in rows["fix 3"].split("│")][9] == "-"  # never placed on a worker
    assert "by worker: w1 2 agents" in out and "w2 1 agents" in out

    data = json.loads(workcrew(state, "show", "wf_distributed0", "--json"))
    assert [a["worker"] for a in data["agents"]] == ["w1", "w2", "w1", None]
    assert data["executor"] == f"distributed ({CLUSTER})"
    assert {r["key"]: r["agents"] for r in data["by_worker"]} == {"w1": 2, "w2": 1, "": 1}


def test_a_local_run_is_shown_as_before(state: Path) -> None:
    out = workcrew(state, "show", "wf_local0000000")
    assert "executor" not in out and "worker" not in out
    header = next(line for line in out.splitlines() if " agent " in line and " label " in line)
    assert [cell.strip() for cell in header.split("┃")][1:-1] == [  # rich draws the header with heavy lines
        "agent", "phase", "label", "model", "state", "tokens", "cost", "time", "error"]
    data = json.loads(workcrew(state, "show", "wf_local0000000", "--json"))
    assert "executor" not in data and "by_worker" not in data
    assert [a["worker"] for a in data["agents"]] == [None, None]


def test_runs_lists_the_executor_only_when_a_run_went_to_a_cluster(state: Path, tmp_path: Path) -> None:
    out = workcrew(state, "runs")
    by_run = {line.split("│")[1].strip(): line for line in out.splitlines() if "│ wf_" in line}
    assert f"distributed ({CLUSTER})" in by_run["wf_distributed0"]
    assert by_run["wf_local0000000"].rstrip("│ ").endswith("local")
    listed = {r["id"]: r for r in json.loads(workcrew(state, "runs", "--json"))}
    assert listed["wf_distributed0"]["executor"] == f"distributed ({CLUSTER})"
    assert "executor" not in listed["wf_local0000000"]

    only_local = tmp_path / "local-state"
    store = RunStore(only_local)
    _run(store, "wf_local1111111", [None])
    store.flush()
    store.close()
    assert "executor" not in workcrew(only_local, "runs")
