"""The README flow: `workcrew simulate-api` in one process, `workcrew run --provider anthropic` in another."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_run_example_against_the_simulator_end_to_end(tmp_path: Path) -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "workcrew.engine.cli", "simulate-api", "--port", "0",
         "--scenario", "examples/review_files.scenario.json"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert "listening on http://127.0.0.1:" in line, line
        url = line.rsplit(" ", 1)[1].strip()
        env = {**os.environ, "ANTHROPIC_BASE_URL": url, "ANTHROPIC_API_KEY": "test"}
        env.pop("WORKCREW_PROVIDER", None)
        done = subprocess.run(
            [sys.executable, "-m", "workcrew.engine.cli", "run", "examples/review_files.py", "--provider",
             "anthropic", "-C", "examples/workspace", "--state-dir", str(tmp_path), "--yes", "--json"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    finally:
        server.terminate()
        server.wait(10)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["status"] == "succeeded"
    assert out["agents"]["launched"] == out["agents"]["succeeded"] == 8
    assert [b["path"] for b in out["result"]["confirmed"]] == ["calc.py"]
    assert out["usage"]["input_tokens"] > 0


def test_run_with_the_anthropic_provider_and_no_key_fails_before_running(tmp_path: Path) -> None:
    from click.testing import CliRunner
    from workcrew.engine.cli import cli

    done = CliRunner().invoke(
        cli, ["run", str(ROOT / "examples/review_files.py"), "--provider", "anthropic", "-C",
              str(ROOT / "examples/workspace"), "--state-dir", str(tmp_path), "--yes", "--json"],
        env={"ANTHROPIC_API_KEY": None, "ANTHROPIC_AUTH_TOKEN": None, "WORKCREW_PROVIDER": None})
    assert done.exit_code == 2
    assert "set ANTHROPIC_API_KEY or use --provider simulated" in done.output
    if (tmp_path / "workcrew.db").exists():
        from workcrew.engine import RunStore

        store = RunStore(tmp_path)
        assert store.list_runs() == []  # nothing ran
        store.close()
