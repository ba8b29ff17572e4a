"""A project's MCP servers start only once approved: the editor's approval notification names the ones not
approved yet (its details list every server and what it runs), **Run** approves them for that run, **Always run** for later runs too (recorded where Claude
Code records its own approvals)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
from pathlib import Path

import pytest
from workcrew.engine.commands import sandbox as command_sandbox

from .conftest import SessionFactory, collect_details, push_capabilities

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "mcp" / "server.py"
FLOW = """meta = {"name": "calc-flow", "description": "one agent adds with the project's calculator server"}
return await agent("Add 2 and 40 with the calculator", label="calc-mcp", tools=["mcp__calc"])
"""

needs_sandbox = pytest.mark.skipif(not command_sandbox.sandbox_status().available,
                                   reason="bubblewrap cannot run here: stdio MCP servers are refused (tested in test_mcp)")


def project_files() -> dict[str, str]:
    return {".mcp.json": json.dumps({"mcpServers": {"calc": {"command": sys.executable,
                                                             "args": ["tools/mcp_server.py"]}}}),
            "tools/mcp_server.py": FIXTURE.read_text(), "calc_flow.py": FLOW}


@needs_sandbox
@pytest.mark.parametrize("answer", ["Run", "Always run"])
async def test_approving_the_run_in_the_editor_starts_its_mcp_servers(lsp_session: SessionFactory,
                                                                       answer: str) -> None:
    files = project_files()
    session = await lsp_session(capabilities=push_capabilities(), answer=answer, files={
        name: text for name, text in files.items() if "/" not in name})
    (session.workspace / "tools").mkdir()
    (session.workspace / "tools" / "mcp_server.py").write_text(files["tools/mcp_server.py"])
    details = collect_details(session)
    finished = session.client.protocol.wait_for_notification_async("workcrew/runFinished")
    result = await session.command("workcrew.runWorkflow", {"path": str(session.workspace / "calc_flow.py")})
    assert result["status"] == "running", result
    (asked,) = session.approvals
    assert "⚠ MCP servers not approved yet: calc (Run starts them)" in asked.message.splitlines()
    ((server,),) = [shown["mcp"]["servers"] for shown in details]
    assert server["name"] == "calc" and server["what"].startswith("stdio: ") and not server["approved"]
    assert "MCP servers (.mcp.json)" in details[0]["markdown"]
    done = await asyncio.wait_for(finished, 60)
    assert done.status == "succeeded", done
    db = sqlite3.connect(session.workspace / ".workcrew" / "workcrew.db")
    try:
        (stored,) = db.execute("SELECT result FROM runs WHERE id = ?", (result["runId"],)).fetchone()
        logs = [m for (m,) in db.execute("SELECT message FROM logs WHERE run_id = ?", (result["runId"],))]
    finally:
        db.close()
    assert json.loads(stored) == "42"
    assert any(line.startswith("MCP calc/add: ok") for line in logs), logs
    local = session.workspace / ".claude" / "settings.local.json"
    if answer == "Always run":
        assert json.loads(local.read_text())["enabledMcpjsonServers"] == ["calc"]
    else:
        assert not local.exists()  # approved for that run only


@needs_sandbox
async def test_without_an_approval_prompt_an_unapproved_server_never_starts(lsp_session: SessionFactory) -> None:
    files = project_files()
    session = await lsp_session(capabilities=push_capabilities(), settings={"approvalPolicy": "never"},
                                files={name: text for name, text in files.items() if "/" not in name})
    (session.workspace / "tools").mkdir()
    (session.workspace / "tools" / "mcp_server.py").write_text(files["tools/mcp_server.py"])
    finished = session.client.protocol.wait_for_notification_async("workcrew/runFinished")
    result = await session.command("workcrew.runWorkflow", {"path": str(session.workspace / "calc_flow.py")})
    done = await asyncio.wait_for(finished, 60)
    assert not session.approvals and done.agents.failed == 1, done
    db = sqlite3.connect(session.workspace / ".workcrew" / "workcrew.db")
    try:
        (error,) = db.execute("SELECT error FROM agents WHERE run_id = ?", (result["runId"],)).fetchone()
    finally:
        db.close()
    assert "MCP server 'calc'" in error and "not" in error and "approv" in error, error
