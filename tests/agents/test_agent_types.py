"""Custom agent types (Claude Code's ``.claude/agents/NAME.md``) through the real SDK against the simulator:
the definition's instructions reach the system prompt, its tools narrow what the API is offered (a call
outside them is a tool error the model reads), its model routes the request unless the call names one;
plugin types, unknown and broken types, and re-runs after a definition is edited."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from workcrew.engine import RunStore, Settings, load_workflow, start
from workcrew.engine.agents.catalog import AgentCatalog
from workcrew.engine.providers.simulator import SimulatorThread
from workcrew.engine.runtime.resume import ResumeCache

from .conftest import model_for

REVIEWER = """\
---
name: security-reviewer
description: Reviews a change for injection and secret-handling bugs.
tools: Read, Grep
model: opus
---
You are a security reviewer. Report only injection and leaked secrets, each with its file and line.
"""


def define(root: Path, name: str, text: str) -> Path:
    path = root / ".claude" / "agents" / f"{name}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def sent(sim: SimulatorThread, label: str) -> list[dict[str, Any]]:
    """The bodies of the requests one agent (by label) sent, in order."""
    return [r["body"] for r in sim.server.requests
            if unquote({k.lower(): v for k, v in r["headers"].items()}.get("x-workcrew-label", "")) == label]


def system_text(body: dict[str, Any]) -> str:
    return "\n".join(block["text"] for block in body["system"])


def tool_results(body: dict[str, Any]) -> list[dict[str, Any]]:
    last = body["messages"][-1]
    return [b for b in last["content"] if b.get("type") == "tool_result"] if isinstance(last["content"], list) else []


async def test_a_custom_types_instructions_tools_and_model_reach_the_api(
        simulator: Callable[..., SimulatorThread], run_api: Any, workspace: Path, home: Path) -> None:
    define(workspace, "security-reviewer", REVIEWER)
    (workspace / "auth.py").write_text("query = f\"SELECT * FROM users WHERE name = '{name}'\"\n")
    sim = simulator([
        {"match": {"label": "^typed$"}, "respond": {"tool_calls": [
            {"name": "read_file", "input": {"path": "auth.py"}},
            {"name": "write_file", "input": {"path": "auth.py", "content": "fixed"}}], "text": "auth.py:1 injection"}},
        {"respond": {"text": "ok"}}])
    result = await run_api(sim, """
        typed = await agent("Review auth.py", agent_type="security-reviewer", label="typed")
        cheap = await agent("Review auth.py", agent_type="security-reviewer", label="cheap", model="haiku")
        plain = await agent("Review auth.py", label="plain")
        return [typed, cheap, plain]
    """)
    assert result.status == "succeeded", result.error
    assert result.result == ["auth.py:1 injection", "ok", "ok"]
    first, answer = sent(sim, "typed")
    assert "You are a security reviewer. Report only injection" in system_text(first)
    assert "A program, not a person, reads your final answer" in system_text(first)  # Workcrew's rules stay
    assert sorted(t["name"] for t in first["tools"]) == ["grep", "read_file"]
    assert first["model"] == "claude-opus-5-5"  # the type's model
    read, write = tool_results(answer)
    assert not read.get("is_error") and "SELECT * FROM users" in read["content"]
    assert write["is_error"] and "'write_file' is not available to this agent" in write["content"]
    assert not (workspace / "auth.py").read_text().startswith("fixed")
    (cheap,) = sent(sim, "cheap")
    assert cheap["model"] == "claude-haiku-5-5"  # the call's model wins over the type's
    assert sorted(t["name"] for t in cheap["tools"]) == ["grep", "read_file"]
    (plain,) = sent(sim, "plain")
    assert "security reviewer" not in system_text(plain)
    assert sorted(t["name"] for t in plain["tools"]) == ["edit_file", "glob", "grep", "list_dir", "read_file",
                                                         "write_file"]


async def test_the_workflows_meta_tools_bound_every_agent_and_a_call_only_narrows_them(
        simulator: Callable[..., SimulatorThread], run_api: Any, home: Path, tmp_path: Path) -> None:
    sim = simulator([{"respond": {"text": "ok"}}])
    result = await run_api(sim, """
        await agent("x", label="bounded")
        await agent("y", label="asks for more", tools=["Read", "Write"])
        await agent("z", label="no tools", tools=[])
        return None
    """, meta='meta = {"name": "t", "description": "d", "tools": ["Read", "Grep"]}')
    assert result.status == "succeeded", result.error
    assert sorted(t["name"] for t in sent(sim, "bounded")[0]["tools"]) == ["grep", "read_file"]
    assert [t["name"] for t in sent(sim, "asks for more")[0]["tools"]] == ["read_file"]
    assert "tools" not in sent(sim, "no tools")[0] or not sent(sim, "no tools")[0]["tools"]
    assert any("asks for write_file, which the workflow's meta tools do not allow; left out" in line
               for line in result.logs), result.logs
    bad_call = await run_api(sim, 'return await agent("x", tools=["Raed"])')
    assert bad_call.status == "failed" and "agent(tools=…): unknown tool 'Raed'" in bad_call.error
    script = tmp_path / "typo.py"
    script.write_text('meta = {"name": "t", "description": "d", "tools": ["Read", "Raed"]}\nreturn 1\n')
    (problem,) = load_workflow(script).problems
    assert problem.rule == "meta" and "unknown tool 'Raed'" in problem.message


async def test_the_types_model_beats_the_phase_model_and_inherit_follows_the_workflow(
        simulator: Callable[..., SimulatorThread], run_api: Any, workspace: Path, home: Path) -> None:
    define(workspace, "security-reviewer", REVIEWER)
    define(workspace, "follower", "---\nname: follower\ndescription: d\nmodel: inherit\n---\nFollow.\n")
    sim = simulator([{"respond": {"text": "ok"}}])
    result = await run_api(sim, """
        phase("Verify", {"model": "haiku"})
        await agent("a", agent_type="security-reviewer", label="typed")
        await agent("b", agent_type="follower", label="inherits")
        return None
    """)
    assert result.status == "succeeded", result.error
    assert sent(sim, "typed")[0]["model"] == "claude-opus-5-5"
    assert sent(sim, "inherits")[0]["model"] == "claude-haiku-5-5"  # inherit: the phase's model


async def test_a_plugin_agent_resolves_from_the_installed_plugins(
        simulator: Callable[..., SimulatorThread], run_api: Any, home: Path) -> None:
    root = home / ".claude" / "plugins" / "cache" / "guru-market" / "refactor-kit" / "1.2.0"
    (root / ".claude-plugin").mkdir(parents=True)
    (root / ".claude-plugin" / "plugin.json").write_text(json.dumps({"name": "refactoring-guru", "version": "1.2.0"}))
    (root / "agents").mkdir()
    (root / "agents" / "refactoring-applier.md").write_text(
        "---\nname: refactoring-applier\ndescription: Applies one named refactoring.\ntools: Read, Edit\n---\n"
        "Apply exactly the refactoring you are asked for, nothing else.\n")
    (home / ".claude" / "plugins" / "installed_plugins.json").write_text(json.dumps({"version": 2, "plugins": {
        "refactor-kit@guru-market": [{"scope": "user", "installPath": str(root), "version": "1.2.0"}]}}))
    sim = simulator([{"respond": {"text": "done"}}])
    result = await run_api(sim, """
        return await agent("Extract method", agent_type="refactoring-guru:refactoring-applier", label="apply")
    """)
    assert result.status == "succeeded", result.error
    (body,) = sent(sim, "apply")
    assert "Apply exactly the refactoring you are asked for" in system_text(body)
    assert sorted(t["name"] for t in body["tools"]) == ["edit_file", "read_file"]
    # switched off in the user's settings: gone, and the error says which plugins are read
    (home / ".claude" / "settings.json").write_text(json.dumps({"enabledPlugins": {"refactor-kit@guru-market": False}}))
    again = await run_api(sim, 'return await agent("x", agent_type="refactoring-guru:refactoring-applier")')
    assert again.status == "failed"
    assert "no installed Claude Code plugin 'refactoring-guru' defines an agent 'refactoring-applier'" in again.error


@pytest.mark.parametrize("js", [False, True], ids=["python", "javascript"])
async def test_an_unknown_type_raises_at_the_call_listing_the_known_ones(
        simulator: Callable[..., SimulatorThread], run_api: Any, workspace: Path, home: Path, js: bool) -> None:
    define(workspace, "security-reviewer", REVIEWER)
    sim = simulator([{"respond": {"text": "ok"}}])
    body = ("""
        try { await agent("x", {agentType: "secutiry-reviewer", label: "typo"}) }
        catch (e) { return [e.name, e.message] }
    """ if js else """
        try:
            await agent("x", agent_type="secutiry-reviewer", label="typo")
        except Exception as exc:  # scripts catch it as any error; its class does not cross into them by name
            return [None, str(exc)]
    """)
    result = await run_api(sim, body, js=js)
    assert result.status == "succeeded", result.error
    name, message = result.result
    assert name == ("UnknownAgentType" if js else None)
    assert message.startswith("unknown agent type 'secutiry-reviewer': no .claude/agents/secutiry-reviewer.md")
    assert "Known types: " in message and "security-reviewer" in message and "general-purpose" in message
    assert "Explore" in message and "verifier" in message
    assert result.agents["launched"] == 0 and not sim.server.requests  # nothing started, nothing sent


async def test_the_built_in_names_need_no_file(simulator: Callable[..., SimulatorThread], run_api: Any,
                                               home: Path) -> None:
    sim = simulator([{"respond": {"text": "ok"}}])
    names = ["general-purpose", "workflow-subagent", "Explore", "Plan", "finder", "verifier", "fixer", "synthesizer"]
    result = await run_api(sim, f"return [await agent('x', agent_type=n, label=n) for n in {names!r}]")
    assert result.status == "succeeded", result.error
    assert result.agents["succeeded"] == len(names)
    explore = sent(sim, "Explore")[0]
    assert sorted(t["name"] for t in explore["tools"]) == ["glob", "grep", "list_dir", "read_file"]  # read-only


@pytest.mark.parametrize(("front", "line", "problem"), [
    ("name: broken\ndescription: d\ntools: [Read, Grep\n", 4, "invalid YAML in the front matter"),
    ("name: broken\ndescription: d\ntools:\n  - Read\n  - Raed\n", 6, "tools: unknown tool 'Raed'"),
    ("name: broken\ndescription: d\nmodel: gpt-9\n", 4, "model: no price for model 'gpt-9'"),
    ("name: broken\ntools: Read\n", 1, "no description"),
])
async def test_a_broken_definition_names_its_file_and_line_and_only_fails_its_callers(
        simulator: Callable[..., SimulatorThread], run_api: Any, workspace: Path, home: Path,
        front: str, line: int, problem: str) -> None:
    path = define(workspace, "broken", f"---\n{front}---\nInstructions.\n")
    define(workspace, "security-reviewer", REVIEWER)
    sim = simulator([{"respond": {"text": "ok"}}])
    fine = await run_api(sim, 'return await agent("x", agent_type="security-reviewer")')
    assert fine.status == "succeeded", fine.error
    result = await run_api(sim, 'return await agent("x", agent_type="broken")')
    assert result.status == "failed"
    assert f"agent type 'broken' cannot be used: {path}:{line}: {problem}" in result.error


def test_the_closest_definition_wins_and_the_users_come_after_the_projects(tmp_path: Path, home: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    workspace = repo / "services" / "api"
    workspace.mkdir(parents=True)
    outside = tmp_path / ".claude" / "agents"  # above the repository: never read
    outside.mkdir(parents=True)
    (outside / "stray.md").write_text("---\nname: stray\ndescription: d\n---\nx\n")
    for root, words in ((home, "user"), (repo, "repository root"), (workspace, "workspace")):
        define(root, "reviewer", f"---\nname: reviewer\ndescription: the {words} one\n---\nx\n")
    define(home, "only-mine", "---\nname: only-mine\ndescription: personal\n---\nx\n")
    define(repo, "shared", "---\nname: shared\ndescription: from the root\n---\nx\n")
    types = AgentCatalog.load(workspace).agent_types
    assert types.resolve("reviewer").description == "the workspace one"
    assert types.resolve("only-mine").origin == "user" and types.resolve("shared").origin == "project"
    assert "stray" not in types.names()
    assert any("overrides the user one" in note for note in types.overrides)


async def test_editing_a_definition_runs_the_agents_that_used_it_again(
        simulator: Callable[..., SimulatorThread], workspace: Path, home: Path, settings: Settings,
        store: RunStore, tmp_path: Path) -> None:
    path = define(workspace, "security-reviewer", REVIEWER)
    sim = simulator([{"respond": {"text": "ok"}}])
    script = tmp_path / "wf.py"
    script.write_text('meta = {"name": "typed", "description": "d"}\n'
                      'return [await agent("a", agent_type="security-reviewer", label="typed"),\n'
                      '        await agent("b", label="plain")]\n')
    run_settings = settings.model_copy(update={"provider": "anthropic", "base_url": sim.url})

    async def run(resume_from: str | None = None) -> Any:
        client = model_for(sim)
        cache = ResumeCache.load(store, resume_from, "typed", settings=run_settings) if resume_from else None
        try:
            return await start(load_workflow(script), None, run_settings, client=client, store=store,
                               resume=cache).result()
        finally:
            await client.aclose()

    first = await run()
    assert first.agents["succeeded"] == 2
    unchanged = await run(first.run_id)
    assert unchanged.agents["cached"] == 2 and len(sim.server.requests) == 2
    path.write_text(REVIEWER.replace("Report only injection", "Report only injection and path traversal"))
    edited = await run(unchanged.run_id)
    assert edited.agents["cached"] == 1 and edited.agents["succeeded"] == 1
    (again,) = sent(sim, "typed")[1:]
    assert "path traversal" in system_text(again)


def test_workcrew_list_agents_shows_types_and_skills(workspace: Path, home: Path) -> None:
    import os
    import subprocess
    import sys

    define(workspace, "security-reviewer", REVIEWER)
    define(workspace, "broken", "---\nname: broken\ndescription: d\ntools: Raed\n---\nx\n")
    folder = home / ".claude" / "skills" / "house-style"
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text("---\nname: house-style\ndescription: How we write commit messages.\n---\nx\n")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("WORKCREW_", "ANTHROPIC_"))},
           "HOME": str(home), "COLUMNS": "200"}

    def workcrew(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "workcrew.engine.cli", "list", "--agents", *argv], cwd=workspace,
                              env=env, capture_output=True, text=True, timeout=120, check=False)

    text = workcrew()
    assert text.returncode == 0, text.stderr
    assert "security-reviewer project" in text.stdout and "model: opus · tools: grep, read_file" in text.stdout
    assert "general-purpose built-in" in text.stdout and "house-style user" in text.stdout
    assert f"{workspace / '.claude' / 'agents' / 'broken.md'}:4: tools: unknown tool 'Raed'" in text.stdout
    listed = json.loads(workcrew("--json").stdout)
    assert {t["name"] for t in listed["agent_types"]} >= {"security-reviewer", "broken", "Explore", "verifier"}
    assert [s["name"] for s in listed["skills"]] == ["house-style"]
