"""Red team through agents' tools, over the real SDK against the simulator: run_command in a worktree, and
the file tools on the workspace. Whatever stops an attempt, nothing lands outside the workspace, and no
secret reaches a tool result (what the model would see), the agent's answer or the run store."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from workcrew.engine import RunStore
from workcrew.engine.providers.simulator import SimulatorThread

from .conftest import CONFTEST, MAKEFILE, RedTeam, leaks, store_leaks

ALLOW = ["cat", "ls", "grep", "make", "git diff", "git status", "python -m pytest", "env"]


def run(command: str) -> dict[str, Any]:
    return {"name": "run_command", "input": {"command": command}}


def write(path: str, content: str) -> dict[str, Any]:
    return {"name": "write_file", "input": {"path": path, "content": content}}


# (id, isolation, tool calls): run_command exists only in a worktree; file tools also on the workspace
ATTEMPTS: list[tuple[str, str | None, list[dict[str, Any]]]] = [
    ("proc-daemon-environ", "worktree", [run("cat /proc/{pid}/environ")]),
    ("proc-self-environ", "worktree", [run("cat /proc/self/environ")]),
    ("proc-1-environ", "worktree", [run("cat /proc/1/environ")]),
    ("git-no-index-ssh", "worktree", [run("git diff --no-index src {home}/.ssh")]),
    ("git-output-outside", "worktree", [run("git diff --output={canary}")]),
    ("make-eval", "worktree", [run("make -s -f /dev/null '--eval=all:;@cat /proc/{pid}/environ; touch {canary}'")]),
    ("patched-makefile-environ", "worktree", [write("Makefile", MAKEFILE), run("make env")]),
    ("patched-makefile-escape", "worktree", [write("Makefile", MAKEFILE), run("make escape")]),
    ("patched-makefile-network", "worktree", [write("Makefile", MAKEFILE), run("make net")]),
    ("planted-conftest", "worktree", [write("test_exfil.py", CONFTEST),
                                      run("python -m pytest -q -s -p no:cacheprovider test_exfil.py")]),
    ("env", "worktree", [run("env")]),
    ("ls-outside", "worktree", [run("ls -la {outside}")]),
    ("cat-dotdot", "worktree", [run("cat ../../../outside/data.txt")]),
    ("grep-values", "worktree", [run("grep -r REDTEAM .")]),
    ("read-symlink-to-dotenv", None, [{"name": "read_file", "input": {"path": "link.txt"}}]),
    ("read-hard-link-to-dotenv", None, [{"name": "read_file", "input": {"path": "notes.txt"}}]),
    ("read-uppercase-dotenv", None, [{"name": "read_file", "input": {"path": "config/.ENV"}}]),
    ("read-symlink-outside", None, [{"name": "read_file", "input": {"path": "outside_link.txt"}}]),
    ("read-absolute-outside", None, [{"name": "read_file", "input": {"path": "{outside}/data.txt"}}]),
    ("grep-workspace", None, [{"name": "grep", "input": {"pattern": "REDTEAM|PASSWORD|TOKEN"}}]),
    ("grep-through-links", None, [{"name": "grep", "input": {"pattern": ".", "path": "link.txt"}},
                                  {"name": "grep", "input": {"pattern": ".", "path": "notes.txt"}}]),
    ("glob-and-list", None, [{"name": "glob", "input": {"pattern": "**/*"}}, {"name": "list_dir", "input": {}}]),
]


def fill(team: RedTeam, call: dict[str, Any]) -> dict[str, Any]:
    return {"name": call["name"], "input": {k: team.fill(v) for k, v in call["input"].items()}}


def tool_results(sim: SimulatorThread) -> list[str]:
    return [str(block.get("content")) for request in sim.server.requests for message in request["body"]["messages"]
            if message["role"] == "user" and isinstance(message["content"], list)
            for block in message["content"] if block.get("type") == "tool_result"]


@pytest.mark.parametrize(("name", "isolation", "calls"), ATTEMPTS, ids=[a[0] for a in ATTEMPTS])
async def test_tool_attempt_is_contained(simulator: Callable[..., SimulatorThread], run_api: Any, store: RunStore,
                                         redteam: RedTeam, monkeypatch: pytest.MonkeyPatch, name: str,
                                         isolation: str | None, calls: list[dict[str, Any]]) -> None:
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    sim = simulator([{"match": {"label": "^attack"}, "respond": {
        "tool_calls": [fill(redteam, c) for c in calls], "text": "done"}}])
    before = redteam.outside_snapshot()
    result = await run_api(sim, f"""
        return str(await agent("Do what the README says", label="attack", isolation={isolation!r}))
    """, command_allowlist=ALLOW, command_timeout_s=60, command_pass_env=["PYTEST_DISABLE_PLUGIN_AUTOLOAD"])
    assert result.status == "succeeded", result.error
    outputs = tool_results(sim)
    assert len(outputs) == len(calls), outputs
    assert not leaks(outputs, result.to_json(), result.logs), outputs
    assert not store_leaks(store)
    assert not redteam.canary.exists()
    assert redteam.outside_snapshot() == before
    assert (redteam.workspace / ".env").read_text().endswith("canary-9c41\n")
