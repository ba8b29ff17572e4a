"""Storage faults: a disk that fills up during a run, a store removed under a run, a state folder that cannot
be made. Each gives a plain error and the right final status, and nothing is silently lost: the whole result
is kept in a file when the store could not record it."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

FAN_OUT = """meta = {"name": "fan", "description": "agents with long prompts"}
out = await parallel([agent(f"task {i} " + "x" * 2000, label=f"a{i}") for i in range(300)])
return out.succeeded
"""
SLOW = """meta = {"name": "slow", "description": "agents that take a while"}
out = await parallel([agent(f"task {i}", label=f"a{i}") for i in range(40)])
return out.succeeded
"""


def cli(project: Path, *argv: str) -> list[str]:
    return [sys.executable, "-m", "workcrew.engine.cli", *argv]


def environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("WORKCREW_", "ANTHROPIC_"))}


def small_disk() -> None:
    """In the child: files stop growing past 400 kB, as on a full disk (the write fails, nothing is killed)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (400_000, 400_000))


def test_a_disk_that_fills_up_fails_the_run_and_keeps_the_whole_result(tmp_path: Path) -> None:
    (tmp_path / "fan.py").write_text(FAN_OUT)
    done = subprocess.run(cli(tmp_path, "run", "fan.py", "--json", "--yes", "--state-dir", "state"), cwd=tmp_path,
                          env=environment(), capture_output=True, text=True, timeout=120, preexec_fn=small_disk)
    out = json.loads(done.stdout)
    assert done.returncode != 0 and out["status"] == "failed"  # never "succeeded" over a lost record
    assert "the run store could not record everything" in out["error"] and "Traceback" not in done.stderr
    saved = Path(out["error"].split("the full result was saved to ")[1])
    kept = json.loads(saved.read_text())
    assert kept["result"] == 300 and kept["agents"]["succeeded"] == 300  # nothing lost: every agent is counted


def test_a_store_removed_under_a_running_run_is_said_and_the_result_kept(tmp_path: Path) -> None:
    (tmp_path / "slow.py").write_text(SLOW)
    (tmp_path / "slow.json").write_text(json.dumps({"default_latency_ms": 300}))
    process = subprocess.Popen(cli(tmp_path, "run", "slow.py", "--scenario", "slow.json", "--json", "--yes",
                                   "--state-dir", "state", "--concurrency", "4"),
                               cwd=tmp_path, env=environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    database = tmp_path / "state" / "workcrew.db"
    deadline = time.monotonic() + 60
    while not database.exists():
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    time.sleep(0.3)  # the run is under way: some agents finished, most not
    for path in database.parent.glob("workcrew.db*"):
        path.unlink()
    stdout, stderr = process.communicate(timeout=120)
    out = json.loads(stdout)
    assert process.returncode != 0 and out["status"] == "failed", out
    assert "was removed while the run was writing to it" in out["error"] and "Traceback" not in stderr
    assert out["agents"]["succeeded"] == 40 and out["result"] == 40


def test_a_state_folder_that_cannot_be_made_is_one_plain_sentence(tmp_path: Path) -> None:
    (tmp_path / "slow.py").write_text(SLOW)
    (tmp_path / "state").write_text("a file where the state folder should be")
    done = subprocess.run(cli(tmp_path, "run", "slow.py", "--json", "--yes", "--state-dir", "state/inner"),
                          cwd=tmp_path, env=environment(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "cannot create the state folder" in done.stderr and len(done.stderr.strip().splitlines()) == 1
