"""The CLI through real processes: exit codes, the --json shapes, check output, clear usage errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONSOLE_SCRIPT = Path(sys.executable).parent / "workcrew"

OK = 'meta = {"name": "ok", "description": "d"}\nlog("hi")\nreturn {"answer": await agent("x", label="one")}\n'
FAILS = 'meta = {"name": "fails", "description": "d"}\nraise ValueError("boom")\n'
BAD = 'meta = {"name": "bad", "description": "d"}\nimport os\nx = args.__class__\n'


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "ok.py").write_text(OK)
    (folder / "fails.py").write_text(FAILS)
    (folder / "bad.py").write_text(BAD)
    saved = folder / ".claude" / "workflows"
    saved.mkdir(parents=True)
    (saved / "greet.py").write_text('meta = {"name": "greet", "description": "d"}\nreturn args\n')
    return folder


def workcrew(project: Path, *argv: str, console_script: bool = False) -> subprocess.CompletedProcess[str]:
    command = [str(CONSOLE_SCRIPT)] if console_script else [sys.executable, "-m", "workcrew.engine.cli"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WORKCREW_", "ANTHROPIC_"))}
    return subprocess.run([*command, *argv], cwd=project, capture_output=True, text=True, timeout=120, env=env)


def run_json(project: Path, *argv: str, console_script: bool = False) -> tuple[int, dict[str, Any]]:
    done = workcrew(project, "run", *argv, "--yes", "--json", "--state-dir", "state", console_script=console_script)
    return done.returncode, json.loads(done.stdout)


def test_successful_run_prints_the_json_object_and_exits_0(project: Path) -> None:
    code, out = run_json(project, "ok.py", console_script=True)
    assert code == 0
    assert {"run_id", "status", "result", "agents", "usage", "duration_s", "logs"} <= set(out)
    assert out["status"] == "succeeded" and out["result"] == {"answer": "Simulated answer for: one"}
    assert out["agents"] == {"launched": 1, "succeeded": 1, "failed": 0, "cached": 0}
    assert set(out["usage"]) == {"input_tokens", "output_tokens", "cache_creation_input_tokens",
                                 "cache_read_input_tokens", "cost_usd"}
    assert out["usage"]["input_tokens"] > 0 and isinstance(out["duration_s"], float)
    assert out["logs"] == ["hi"] and out["run_id"].startswith("wf_")


def test_failed_workflow_exits_1_with_the_error(project: Path) -> None:
    code, out = run_json(project, "fails.py")
    assert code == 1
    assert out["status"] == "failed" and out["error"].startswith("ValueError: boom at ")


def test_script_problems_exit_2_before_running(project: Path) -> None:
    done = workcrew(project, "run", "bad.py", "--yes", "--state-dir", "state")
    assert done.returncode == 2 and done.stdout == ""
    assert "bad.py:2:1: determinism: module 'os'" in done.stderr
    assert not (project / "state" / "workcrew.db").exists() or "bad" not in workcrew(
        project, "runs", "--json", "--state-dir", "state").stdout


def test_check_prints_path_line_col_rule_message_and_exits_2(project: Path) -> None:
    done = workcrew(project, "check", "bad.py")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "bad.py:2:1: determinism: module 'os' reads the environment and os.urandom; scripts must be "
        "deterministic so a run can be replayed — pass timestamps or seeds in args",
        "bad.py:3:5: private-attribute: attribute '__class__' starts with '_'; introspection is not allowed",
    ]
    fine = workcrew(project, "check", "ok.py")
    assert fine.returncode == 0 and "ok" in fine.stdout


def test_bad_args_json_exits_2_with_a_clear_message(project: Path) -> None:
    done = workcrew(project, "run", "ok.py", "--args", "{bad", "--yes", "--state-dir", "state")
    assert done.returncode == 2
    assert "--args" in done.stderr and "not valid JSON" in done.stderr


def test_unknown_workflow_name_exits_2_listing_known_names(project: Path) -> None:
    done = workcrew(project, "run", "nosuch", "--yes", "--state-dir", "state")
    assert done.returncode == 2
    assert "no workflow named 'nosuch'" in done.stderr and "greet" in done.stderr


def test_saved_workflow_runs_by_name_with_args(project: Path) -> None:
    code, out = run_json(project, "greet", "--args", '{"who": "you"}')
    assert code == 0 and out["result"] == {"who": "you"}


def test_limits_from_flags_reach_the_run(project: Path) -> None:
    (project / "many.py").write_text('meta = {"name": "many", "description": "d"}\n'
                                     "for i in range(3):\n    await agent(f'a {i}')\n")
    code, out = run_json(project, "many.py", "--max-agents", "2", "--concurrency", "1")
    assert code == 1 and "more than 2 times" in out["error"]


def test_runs_and_show_json_shapes(project: Path) -> None:
    _, first = run_json(project, "ok.py")
    _, second = run_json(project, "fails.py")
    runs = json.loads(workcrew(project, "runs", "--json", "--state-dir", "state").stdout)
    assert [r["id"] for r in runs] == [second["run_id"], first["run_id"]]  # newest first
    assert {"id", "workflow", "status", "created_at", "finished_at", "launched", "succeeded", "failed", "cached",
            "input_tokens", "output_tokens", "cost_usd", "error"} <= set(runs[0])
    shown = workcrew(project, "show", first["run_id"], "--json", "--state-dir", "state")
    assert shown.returncode == 0
    detail = json.loads(shown.stdout)
    assert {"run", "agents", "logs", "findings", "by_phase", "by_model"} <= set(detail)
    assert detail["run"]["status"] == "succeeded" and detail["run"]["result"] == first["result"]
    assert [a["label"] for a in detail["agents"]] == ["one"] and detail["logs"] == ["hi"]
    missing = workcrew(project, "show", "wf_nope", "--state-dir", "state")
    assert missing.returncode == 2 and "no run 'wf_nope'" in missing.stderr


def test_list_shows_saved_workflows_with_problems(project: Path) -> None:
    (project / ".claude" / "workflows" / "broken.py").write_text('meta = {"name": "broken"}\n')
    entries = {e["name"]: e for e in json.loads(workcrew(project, "list", "--json").stdout)}
    assert entries["greet"]["valid"] and entries["greet"]["origin"] == "project"
    assert not entries["broken"]["valid"] and "description" in entries["broken"]["problems"][0]


def test_busy_loop_is_stopped_in_a_cli_run(project: Path) -> None:
    (project / "spin.py").write_text('meta = {"name": "spin", "description": "d"}\nwhile True:\n    pass\n')
    code, out = run_json(project, "spin.py")
    assert code == 1 and out["status"] == "failed"
    assert "synchronous code for over 3 s" in out["error"]
    assert out["duration_s"] < 10
