"""Storage faults: a disk that fills up during a run, a store removed under a run, a state folder that cannot
be made, a state folder or store that cannot be written. Each gives a plain error and the right final status,
and nothing is silently lost: the whole result is kept in a file when the store could not record it.

The tests run as root, which a file's mode does not stop: a folder is made really read-only with a read-only
bind mount in a private mount namespace (``unshare -m``), and the user's own path — a folder that belongs to
someone else — is taken as an unprivileged user (``setpriv``, uid 65534)."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from workcrew.engine import RunStore

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


def finished_agents(database: Path) -> int:
    """Agents the store holds as succeeded, read without writing anything beside the database."""
    if not database.exists():
        return 0
    import sqlite3

    try:
        db = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)
        try:
            (count,) = db.execute("SELECT COUNT(*) FROM agents WHERE state = 'succeeded'").fetchone()
        finally:
            db.close()
    except sqlite3.Error:  # not created yet
        return 0
    return int(count)


def test_a_store_removed_under_a_running_run_is_said_and_the_result_kept(tmp_path: Path) -> None:
    (tmp_path / "slow.py").write_text(SLOW)
    (tmp_path / "slow.json").write_text(json.dumps({"default_latency_ms": 300}))
    process = subprocess.Popen(cli(tmp_path, "run", "slow.py", "--scenario", "slow.json", "--json", "--yes",
                                   "--state-dir", "state", "--concurrency", "4"),
                               cwd=tmp_path, env=environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    database = tmp_path / "state" / "workcrew.db"
    deadline = time.monotonic() + 60
    while finished_agents(database) < 4:  # the run is under way: some agents finished, most not
        assert time.monotonic() < deadline and process.poll() is None, "the run never got going"
        time.sleep(0.05)
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


NOBODY = 65534
as_root = pytest.mark.skipif(
    os.geteuid() != 0 or not sys.platform.startswith("linux"),
    reason="a read-only mount (and becoming another user) needs root on Linux; as a normal user, the mode of a "
           "folder is what makes it read-only")
QUICK = """meta = {"name": "quick", "description": "a few agents"}
out = await parallel([agent(f"task {i}", label=f"q{i}") for i in range(3)])
return out.succeeded
"""


def read_only(folder: Path, argv: list[str]) -> list[str]:
    """``argv`` in a private mount namespace where ``folder`` is a read-only bind mount: every write under it
    fails with EROFS, for root too."""
    return ["unshare", "-m", "--propagation", "private", "sh", "-c", 'mount --bind -o ro "$0" "$0" && exec "$@"',
            str(folder), *argv]


def one_plain_line(stderr: str) -> str:
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1, stderr
    return stderr.strip()


@as_root
def test_a_read_only_state_folder_is_said_before_a_run_starts_and_nothing_changes(tmp_path: Path) -> None:
    (tmp_path / "slow.py").write_text(SLOW)
    (tmp_path / "quick.py").write_text(QUICK)
    fresh, used = tmp_path / "fresh", tmp_path / "used"  # no store in it yet / a store with one run
    fresh.mkdir()
    earlier = subprocess.run(cli(tmp_path, "run", "quick.py", "--json", "--yes", "--state-dir", "used"),
                             cwd=tmp_path, env=environment(), capture_output=True, text=True, timeout=60)
    assert earlier.returncode == 0, earlier.stderr
    before = {p.name: p.read_bytes() for p in used.glob("workcrew.db*")}
    for state in (fresh, used):
        for argv in (["run", "slow.py", "--json", "--yes"], ["runs"]):
            done = subprocess.run(read_only(state, cli(tmp_path, *argv, "--state-dir", state.name)), cwd=tmp_path,
                                  env=environment(), capture_output=True, text=True, timeout=60)
            assert done.returncode == 2 and done.stdout == "", (argv, done.stdout)  # no run, no listing
            line = one_plain_line(done.stderr)
            assert line == (f"workcrew: cannot open the run store {state / 'workcrew.db'}: the state folder {state} "
                            "cannot be written (choose another with --state-dir or WORKCREW_STATE_DIR)")
    assert list(fresh.iterdir()) == []
    assert {p.name: p.read_bytes() for p in used.glob("workcrew.db*")} == before
    store = RunStore(used)
    try:
        assert [run["workflow"] for run in store.list_runs()] == ["quick"]  # the earlier run, and only it
    finally:
        store.close()


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A folder an unprivileged user can reach (pytest's tmp_path is root's alone), owned by root."""
    base = Path(tempfile.mkdtemp(prefix="workcrew-ro-", dir="/tmp"))
    base.chmod(0o755)
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def as_nobody(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd / "home"), "LANG": "C.UTF-8"}
    return subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *argv], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=60, check=False)


@as_root
def test_a_state_folder_that_belongs_to_someone_else_is_one_plain_sentence(shared_tmp: Path) -> None:
    (shared_tmp / "home").mkdir()
    os.chown(shared_tmp / "home", NOBODY, NOBODY)
    (shared_tmp / "quick.py").write_text(QUICK)
    made = subprocess.run(cli(shared_tmp, "run", "quick.py", "--json", "--yes", "--state-dir", "theirs"),
                          cwd=shared_tmp, env=environment(), capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    theirs = shared_tmp / "theirs"  # root's: 0755, its store 0644 — readable, not writable, by the user
    done = as_nobody(cli(shared_tmp, "runs", "--state-dir", "theirs"), shared_tmp)
    assert done.returncode == 2 and done.stdout == ""
    assert one_plain_line(done.stderr) == (
        f"workcrew: cannot open the run store {theirs / 'workcrew.db'}: the state folder {theirs} cannot be "
        "written (choose another with --state-dir or WORKCREW_STATE_DIR)")
    os.chown(theirs, NOBODY, NOBODY)  # the folder is the user's, the store in it is not
    done = as_nobody(cli(shared_tmp, "runs", "--state-dir", "theirs"), shared_tmp)
    assert done.returncode == 2 and done.stdout == ""
    assert one_plain_line(done.stderr) == (
        f"workcrew: cannot open the run store {theirs / 'workcrew.db'}: {theirs / 'workcrew.db'} cannot be "
        "written (choose another with --state-dir or WORKCREW_STATE_DIR)")
    done = as_nobody(cli(shared_tmp, "runs", "--state-dir", "theirs/inner"), shared_tmp)
    assert done.returncode == 0  # a folder the user can make: a new, empty store
    done = as_nobody(cli(shared_tmp, "runs", "--state-dir", "new"), shared_tmp)  # under root's folder
    assert done.returncode == 2
    assert one_plain_line(done.stderr) == f"workcrew: cannot create the state folder {shared_tmp / 'new'}: " \
                                          "Permission denied"
    store = RunStore(theirs)
    try:
        assert [(run["workflow"], run["status"]) for run in store.list_runs()] == [("quick", "succeeded")]
    finally:
        store.close()


def succeeded_agents(database: Path) -> int:
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as db:
            return int(db.execute("SELECT COUNT(*) FROM agents WHERE state = 'succeeded'").fetchone()[0])
    except sqlite3.Error:  # not made yet
        return 0


@as_root
def test_a_state_folder_made_read_only_during_a_run_loses_nothing_and_the_missing_report_is_said(
        tmp_path: Path) -> None:
    (tmp_path / "slow.py").write_text(SLOW)
    (tmp_path / "slow.json").write_text(json.dumps({"default_latency_ms": 300}))
    state = tmp_path / "state"
    process = subprocess.Popen(["unshare", "-m", "--propagation", "private",
                                *cli(tmp_path, "run", "slow.py", "--scenario", "slow.json", "--json", "--yes",
                                     "--state-dir", "state", "--concurrency", "4")],
                               cwd=tmp_path, env=environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        deadline = time.monotonic() + 60
        while succeeded_agents(state / "workcrew.db") < 4:  # the run is under way: some agents recorded
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.05)
        # the folder turns read-only for the run's process (a read-only mount over it, in its namespace)
        subprocess.run(["nsenter", "-t", str(process.pid), "-m", "mount", "--bind", "-o", "ro", str(state),
                        str(state)], check=True, timeout=30)
        probe = subprocess.run(["nsenter", "-t", str(process.pid), "-m", "touch", str(state / "probe")],
                               capture_output=True, text=True, timeout=30)
        assert probe.returncode != 0 and "Read-only file system" in probe.stderr
        assert process.poll() is None, "the run ended before its folder turned read-only"
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    out = json.loads(stdout)
    assert "Traceback" not in stderr
    # the store was open before the folder turned read-only and SQLite writes through the files it holds open, so
    # the run is recorded whole and did succeed; the report, a new file, could not be written, and that is said
    assert process.returncode == 0 and out["status"] == "succeeded" and out["result"] == 40, out
    assert out["report"] is None
    assert any("could not write report.md" in line and "Read-only file system" in line for line in out["logs"])
    store = RunStore(state)  # outside that namespace the folder can be written
    try:
        run = store.get_run(out["run_id"])
        assert run is not None and run["status"] == "succeeded" and run["result"] == 40 and run["succeeded"] == 40
        assert [agent["state"] for agent in store.get_agents(out["run_id"])] == ["succeeded"] * 40
    finally:
        store.close()


LONG_LIVED = r"""
import json, subprocess, sys
from pathlib import Path
import anyio
from workcrew.engine import RunStore, Settings, load_workflow, start
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulated import SimulatedModel

state, script = Path(sys.argv[1]), Path(sys.argv[2])
store = RunStore(state)  # opened while it could be written, as a long-lived process (the editor's server) does
store.list_runs()
subprocess.run(["mount", "--bind", "-o", "ro", str(state), str(state)], check=True)  # then it cannot


async def main():
    settings = Settings(workspace=script.parent, state_dir=state)
    handle = start(load_workflow(script), None, settings, client=SimulatedModel(Scenario()), store=store)
    return await handle.result()


print(json.dumps(anyio.run(main).to_json()))
"""


@as_root
def test_a_store_that_turned_read_only_before_a_run_fails_it_with_the_reason_and_keeps_the_result(
        tmp_path: Path) -> None:
    (tmp_path / "slow.py").write_text(SLOW)
    state, scratch = tmp_path / "state", tmp_path / "tmp"
    scratch.mkdir()
    done = subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable, "-c", LONG_LIVED, str(state),
                           str(tmp_path / "slow.py")], cwd=tmp_path, env={**environment(), "TMPDIR": str(scratch)},
                          capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    out = json.loads(done.stdout)
    assert out["status"] == "failed"  # never "succeeded" over a record that was not written
    assert "the run store could not record everything" in out["error"]
    assert "attempt to write a readonly database" in out["error"]
    saved = Path(out["error"].split("the full result was saved to ")[1])
    assert saved.parent == scratch  # the state folder could not take it: the temp folder did
    kept = json.loads(saved.read_text())
    assert kept["result"] == 40 and kept["agents"]["succeeded"] == 40
