"""Workflows whose agents run on the real SDK against the simulator: tools, patches, isolation, caching, faults."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from workcrew.engine import RunStore
from workcrew.engine.agents.patches import apply_patch
from workcrew.engine.providers.simulator import SimulatorThread
from workcrew.engine.results.findings import Patch

from .conftest import API_KEY

CALC = "def mean(xs):\n    return sum(xs) / len(xs)\n\n\ndef add(a, b):\n    return a - b\n"
FIX = [{"name": "read_file", "input": {"path": "calc.py"}},
       {"name": "grep", "input": {"pattern": "def "}},
       {"name": "edit_file", "input": {"path": "calc.py", "old": "return a - b", "new": "return a + b"}}]


pytestmark = pytest.mark.usefixtures("private_tmp")  # worktrees in this test's own temp folder


def leftovers() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("workcrew-wt-*")}


@pytest.fixture
def project(workspace: Path) -> Path:
    (workspace / "calc.py").write_text(CALC)
    (workspace / ".env").write_text("DB_PASSWORD=hunter2\n")
    return workspace


@pytest.mark.parametrize("isolation", ["worktree", None])
async def test_a_tool_using_agent_edits_into_a_patch_and_user_files_stay_untouched(
        simulator: Callable[..., SimulatorThread], run_api: Any, project: Path, store: RunStore,
        isolation: str | None) -> None:
    sim = simulator([{"match": {"label": "^fix"}, "respond": {"tool_calls": FIX, "text": "fixed add()"}}])
    before = leftovers()
    result = await run_api(sim, f"""
        fixed = await agent("Fix the bug in calc.py", label="fix calc", isolation={isolation!r})
        return {{"text": str(fixed), "patch": fixed.patch.model_dump() if fixed.patch else None}}
    """)
    assert result.status == "succeeded", result.error
    patch = result.result["patch"]
    assert patch["edits"] == [{"path": "calc.py", "old": "    return a - b\n", "new": "    return a + b\n"}]
    assert "-    return a - b\n+    return a + b\n" in patch["diff"] and "--- a/calc.py" in patch["diff"]
    assert (project / "calc.py").read_text() == CALC  # never the user's files
    rows = store.get_agents(result.run_id)
    assert rows[0]["patch"]["edits"] == patch["edits"] and rows[0]["tool_calls"] == 3
    assert leftovers() == before == set()  # the worktree is removed once its patch is captured
    # the patch applies to a fresh copy (what the editor's quick-fix and check() do)
    copy = project.parent / "copy"
    copy.mkdir()
    (copy / "calc.py").write_text(CALC)
    apply_patch(copy, Patch.model_validate(patch))
    assert "return a + b" in (copy / "calc.py").read_text()
    git_apply = subprocess.run(["git", "apply", "--check", "-"], input=patch["diff"], text=True, cwd=project,
                               capture_output=True, check=False)
    assert git_apply.returncode == 0, git_apply.stderr


async def test_an_unchanged_worktree_gives_no_patch(simulator: Callable[..., SimulatorThread], run_api: Any,
                                                   project: Path, store: RunStore) -> None:
    sim = simulator([{"respond": {"tool_calls": [{"name": "read_file", "input": {"path": "calc.py"}}],
                                  "text": "looks fine"}}])
    before = leftovers()
    result = await run_api(sim, """
        return await agent("Review calc.py", label="review", isolation="worktree")
    """)
    assert result.status == "succeeded" and result.result == "looks fine"
    assert store.get_agents(result.run_id)[0]["patch"] is None
    assert leftovers() == before


async def test_check_runs_in_a_copy_with_the_fixers_patch(simulator: Callable[..., SimulatorThread],
                                                          run_api: Any, project: Path) -> None:
    sim = simulator([{"match": {"label": "^fix"}, "respond": {"tool_calls": FIX, "text": "fixed"}}])
    result = await run_api(sim, """
        fixed = await agent("Fix calc.py", label="fix", isolation="worktree")
        patched = await check("grep -c 'a + b' calc.py", isolation=fixed)
        plain = await check("grep -c 'a + b' calc.py")
        return [patched["exit_code"], patched["stdout"].strip(), plain["exit_code"]]
    """, command_allowlist=["grep"])
    assert result.status == "succeeded", result.error
    assert result.result == [0, "1", 1]
    assert (project / "calc.py").read_text() == CALC


async def test_js_results_carry_the_patch_to_check_and_report(simulator: Callable[..., SimulatorThread],
                                                               run_api: Any, project: Path, store: RunStore) -> None:
    sim = simulator([{"match": {"label": "^fix"}, "respond": {"tool_calls": FIX, "text": "fixed add() — done"}},
                     {"match": {"label": "^shaped"}, "respond": {"tool_calls": FIX, "text": '{"ok": true}'}}])
    result = await run_api(sim, """
        const fixed = await agent('Fix calc.py', {label: 'fix', isolation: 'worktree'})
        const patched = await check("grep -c 'a + b' calc.py", {isolation: fixed})
        const plain = await check("grep -c 'a + b' calc.py")
        const id = await report({title: 'add() subtracts', path: 'calc.py', line: 6, fix: fixed})
        const [shaped] = await parallel([() => agent('Fix calc.py', {label: 'shaped', isolation: 'worktree',
                                                                     schema: {type: 'object'}})])
        return {fixed, patched: [patched.exit_code, patched.stdout.trim()], plain: plain.exit_code, id,
                shaped, shapedPatch: shaped.patch.edits.map(e => e.path), keys: Object.keys(shaped)}
    """, js=True, command_allowlist=["grep"])
    assert result.status == "succeeded", result.error
    out = result.result
    assert out["fixed"] == "fixed add() — done"  # still a plain string to the script
    assert out["patched"] == [0, "1"] and out["plain"] == 1  # the patch applied to check()'s copy only
    assert out["shaped"] == {"ok": True} and out["keys"] == ["ok"]  # .patch is there, but not enumerable
    assert out["shapedPatch"] == ["calc.py"]
    finding = store.get_findings(result.run_id)[0]
    assert finding["fix"]["edits"] == [
        {"path": "calc.py", "old": "    return a - b\n", "new": "    return a + b\n"}]
    assert (project / "calc.py").read_text() == CALC


async def test_worktree_in_a_clean_git_repo_is_a_git_worktree_and_is_pruned(
        simulator: Callable[..., SimulatorThread], run_api: Any, project: Path) -> None:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=project, capture_output=True, text=True, check=True).stdout

    (project / ".gitignore").write_text(".env\n.workcrew/\n")
    git("init", "-q")
    git("-c", "user.email=t@example.com", "-c", "user.name=t", "add", ".")
    git("-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "init")
    sim = simulator([{"match": {"label": "^fix"}, "respond": {"tool_calls": [
        *FIX, {"name": "run_command", "input": {"command": "git status --porcelain"}}], "text": "fixed"}}])
    result = await run_api(sim, """
        fixed = await agent("Fix calc.py", label="fix", isolation="worktree")
        return fixed.patch.model_dump()
    """)
    assert result.status == "succeeded", result.error
    assert result.result["edits"][0]["new"].endswith("return a + b\n")
    status_output = [b for r in sim.server.requests for m in r["body"]["messages"] if m["role"] == "user"
                     and isinstance(m["content"], list) for b in m["content"] if b.get("type") == "tool_result"
                     and "exit code" in str(b.get("content"))]
    assert status_output and " M calc.py" in str(status_output[0]["content"])  # it ran inside a git checkout
    assert len(git("worktree", "list").splitlines()) == 1
    assert git("status", "--porcelain") == ""


async def test_path_escape_and_secret_attempts_are_refused_and_never_reach_the_model(
        simulator: Callable[..., SimulatorThread], run_api: Any, project: Path, store: RunStore) -> None:
    (project.parent / "neighbour.txt").write_text("not yours")
    attempts = [{"name": "read_file", "input": {"path": "../neighbour.txt"}},
                {"name": "read_file", "input": {"path": str(project.parent / "neighbour.txt")}},
                {"name": "read_file", "input": {"path": ".env"}},
                {"name": "grep", "input": {"pattern": "PASSWORD"}},
                {"name": "edit_file", "input": {"path": "../neighbour.txt", "old": "not", "new": "now"}}]
    sim = simulator([{"respond": {"tool_calls": attempts, "text": "tried"}}])
    result = await run_api(sim, 'return await agent("Snoop around", label="snoop")')
    assert result.status == "succeeded" and result.result == "tried"
    results = [b for r in sim.server.requests for m in r["body"]["messages"] if isinstance(m["content"], list)
               for b in m["content"] if b.get("type") == "tool_result"]
    assert [b["is_error"] for b in results] == [True, True, True, False, True]
    assert "outside the workspace" in results[1]["content"] and "secret" in results[2]["content"]
    everything_sent = repr(list(sim.server.requests))
    assert "hunter2" not in everything_sent and "not yours" not in everything_sent
    assert (project.parent / "neighbour.txt").read_text() == "not yours"
    events = store.get_events(result.run_id)
    assert sum(e["type"] == "agent_progress" and "tool_error" in e["data"] for e in events) == 4


async def test_a_failing_agent_is_recorded_with_its_reason(simulator: Callable[..., SimulatorThread],
                                                           run_api: Any, store: RunStore) -> None:
    sim = simulator([{"match": {"label": "doomed"}, "respond": {"error": 529, "retry_after": 0}},
                     {"respond": {"text": "fine"}}])
    result = await run_api(sim, """
        out = await parallel([agent("a", label="doomed"), agent("b", label="ok")])
        return [out.launched, out.succeeded, out.failed, out[1]]
    """, api_retries=2)
    assert result.status == "succeeded" and result.result == [2, 1, 1, "fine"]
    assert result.failure_reasons == {"api": 1}
    failed = next(r for r in store.get_agents(result.run_id) if r["label"] == "doomed")
    assert failed["state"] == "failed" and "HTTP 529 overloaded_error" in failed["error"]
    assert "gave up after 3 attempts" in failed["error"]


async def test_the_api_key_never_reaches_the_run_store(simulator: Callable[..., SimulatorThread], run_api: Any,
                                                       store: RunStore) -> None:
    sim = simulator([{"match": {"call": 1}, "respond": {"error": 401}}, {"respond": {"text": "ok"}}])
    result = await run_api(sim, 'return [await agent("a", label="x"), await agent("b", label="y")]')
    # refused credentials stop the run (the circuit breaker): the second agent never starts
    assert result.status == "stopped" and "refused the credentials" in (result.error or "")
    assert result.agents["failed"] == 1 and result.agents["succeeded"] == 0 and len(sim.server.requests) == 1
    store.flush()
    for path in store.state_dir.glob("workcrew.db*"):
        assert API_KEY.encode() not in path.read_bytes()
    assert API_KEY not in repr(result.to_json())


async def test_a_fan_out_writes_the_shared_prefix_once_and_reads_it_after(
        simulator: Callable[..., SimulatorThread], run_api: Any, store: RunStore) -> None:
    sim = simulator([{"respond": {"text": "done"}}])
    result = await run_api(sim, """
        context = "Shared design notes, line after line.\\n" * 800
        return await parallel([agent(context + f"\\n\\nTask {i}: summarise part {i}.", label=f"part {i}")
                               for i in range(10)])
    """)
    assert result.status == "succeeded", result.error
    rows = store.get_agents(result.run_id)
    writes = [r["cache_creation_input_tokens"] for r in rows]
    reads = [r["cache_read_input_tokens"] for r in rows]
    assert sum(w > 0 for w in writes) == 1, writes
    prefix = max(writes)
    assert prefix > 8000 and sorted(reads) == [0] + [prefix] * 9
    assert all(r["input_tokens"] < 100 for r in rows if r["cache_read_input_tokens"])


async def test_when_the_first_writer_fails_another_agent_writes_and_the_rest_still_read(
        simulator: Callable[..., SimulatorThread], run_api: Any, store: RunStore) -> None:
    sim = simulator([{"match": {"call": 1}, "respond": {"error": 429, "retry_after": 0.2}, "latency_ms": 50},
                     {"respond": {"text": "done"}, "latency_ms": 50}])
    result = await run_api(sim, """
        context = "Shared design notes, line after line.\\n" * 800
        return await parallel([agent(context + f"\\n\\nTask {i}.", label=f"part {i}") for i in range(6)])
    """)
    assert result.status == "succeeded", result.error
    rows = store.get_agents(result.run_id)
    assert sum(r["cache_creation_input_tokens"] > 0 for r in rows) == 1
    assert sum(r["cache_read_input_tokens"] > 0 for r in rows) == 5
    assert sum(r["retries"] for r in rows) == 1


async def test_check_with_a_bad_isolation_value_is_a_clear_error(simulator: Callable[..., SimulatorThread],
                                                                 run_api: Any, project: Path) -> None:
    sim = simulator()
    result = await run_api(sim, """
        unchanged = await check("cat calc.py", isolation="plain text answer")
        bad = await check("cat calc.py", isolation=42)
        return unchanged["exit_code"]
    """)
    assert result.status == "failed"
    assert "check(isolation=...) takes an isolated agent's result" in result.error
    assert any("carries no patch" in line for line in result.logs)
