"""One workflow whose agents use every capability at once, through the real SDK against the simulator: a
custom agent type from `.claude/agents/`, a skill, a tool of a stdio MCP server written for the test
(running in the command sandbox) and a web search; the run's result, usage and cost account for each."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from workcrew.engine import RunStore
from workcrew.engine.commands import sandbox as command_sandbox
from workcrew.engine.cost.pricing import cost_usd
from workcrew.engine.providers.simulator import SimulatorThread

from .test_agent_types import REVIEWER, define, sent, system_text, tool_results

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "mcp" / "server.py"
CHANGELOG_SKILL = """\
---
name: changelog
description: How this project writes changelog entries.
---
Write one line per change, in the imperative, with the issue number at the end.
"""
SEARCH = {"query": "python 3.14 release date", "results": [
    {"url": "https://python.org/news", "title": "Python News", "content": "Python 3.14.0 was released on 7 October 2025."}]}
CITED = {"url": "https://python.org/news", "cited_text": "Python 3.14.0 was released on 7 October 2025."}

needs_sandbox = pytest.mark.skipif(not command_sandbox.sandbox_status().available,
                                   reason="bubblewrap cannot run here: stdio MCP servers are refused (tested in test_mcp)")


@needs_sandbox
async def test_a_custom_type_a_skill_an_mcp_tool_and_a_web_search_in_one_run(
        simulator: Callable[..., SimulatorThread], run_api: Any, workspace: Path, home: Path,
        store: RunStore) -> None:
    define(workspace, "security-reviewer", REVIEWER)
    (workspace / "auth.py").write_text("query = f\"SELECT * FROM users WHERE name = '{name}'\"\n")
    skill = workspace / ".claude" / "skills" / "changelog" / "SKILL.md"
    skill.parent.mkdir(parents=True)
    skill.write_text(CHANGELOG_SKILL)
    (workspace / "tools").mkdir()
    shutil.copy(FIXTURE, workspace / "tools" / "mcp_server.py")
    (workspace / ".mcp.json").write_text(json.dumps({"mcpServers": {"calc": {
        "command": sys.executable, "args": ["tools/mcp_server.py"], "env": {}}}}))
    (workspace / ".claude" / "settings.json").write_text(json.dumps({"enabledMcpjsonServers": ["calc"]}))
    sim = simulator([
        {"match": {"label": "^typed$"}, "respond": {"tool_calls": [{"name": "read_file", "input": {"path": "auth.py"}}],
                                                     "text": "auth.py:1 injection"}},
        {"match": {"label": "^skilled$"}, "respond": {"tool_calls": [{"name": "load_skill",
                                                                      "input": {"name": "changelog"}}],
                                                       "text": "Fix the injection in auth.py (#16)"}},
        {"match": {"label": "^mcp$"}, "respond": {"tool_calls": [{"name": "mcp__calc__add", "input": {"a": 2, "b": 40}}],
                                                   "text": "42"}},
        {"match": {"label": "^web$"}, "respond": {"web_search": SEARCH, "text": "7 October 2025",
                                                   "citations": [CITED]}},
    ])
    result = await run_api(sim, """
        typed = await agent("Review auth.py", agent_type="security-reviewer", label="typed")
        skilled = await agent("Write the changelog line for that fix", label="skilled")
        added = await agent("Add 2 and 40 with the calculator", label="mcp", tools=["mcp__calc"])
        searched = await agent("When was Python 3.14 released?", label="web", tools=["WebSearch"])
        return [typed, skilled, added, searched]
    """)
    assert result.status == "succeeded", result.error
    assert result.result == ["auth.py:1 injection", "Fix the injection in auth.py (#16)", "42", "7 October 2025"]

    # the custom type: its instructions in the system prompt, its tools only, its model
    typed = sent(sim, "typed")[0]
    assert "You are a security reviewer." in system_text(typed)
    assert sorted(t["name"] for t in typed["tools"]) == ["grep", "read_file"] and typed["model"] == "claude-opus-5-5"
    # the skill: listed in the system prompt, its body returned by load_skill
    first, answer = sent(sim, "skilled")
    assert "changelog" in system_text(first) and "How this project writes changelog entries." in system_text(first)
    (loaded,) = tool_results(answer)
    assert not loaded.get("is_error") and "Write one line per change, in the imperative" in loaded["content"]
    # the MCP tool: offered under Claude Code's name, called in the server running in the sandbox
    first, answer = sent(sim, "mcp")
    assert "mcp__calc__add" in {t["name"] for t in first["tools"]}
    (added,) = tool_results(answer)
    assert not added.get("is_error") and "42" in str(added["content"])
    assert any(line.startswith("MCP calc/add: ok") for line in result.logs), result.logs  # every call is logged
    # the web search: the server tool sent only to the agent that was given it, billed per use
    (searching,) = sent(sim, "web")
    assert [t["name"] for t in searching["tools"] if t.get("type", "").startswith("web_search")] == ["web_search"]
    assert not any(t.get("type", "").startswith("web_") for t in typed.get("tools", []))
    assert result.usage["web_search_requests"] == 1
    store.flush()
    rows = {row["label"]: row for row in store.get_agents(result.run_id)}
    assert rows["web"]["citations"] == [{"url": CITED["url"], "title": "Python News",
                                         "cited_text": CITED["cited_text"]}]
    tokens_only = cost_usd("claude-sonnet-5-5", _usage_of(rows["web"], searches=0))
    assert rows["web"]["cost_usd"] == pytest.approx(tokens_only + 0.01, abs=1e-9)  # $10 per 1,000 searches
    assert result.usage["cost_usd"] == pytest.approx(sum(row["cost_usd"] for row in rows.values()), abs=1e-9)


def _usage_of(row: dict[str, Any], *, searches: int) -> Any:
    from workcrew.engine.cost.pricing import Usage

    return Usage(input_tokens=row["input_tokens"], output_tokens=row["output_tokens"],
                 cache_creation_input_tokens=row["cache_creation_input_tokens"],
                 cache_read_input_tokens=row["cache_read_input_tokens"], web_search_requests=searches)
