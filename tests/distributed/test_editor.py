"""The editor on a real two-worker cluster: with the settings ``executor: distributed`` and ``cluster`` a run
started from the editor goes to the workers, and the Runs view's tree says which worker ran each agent and
where the run went — for a run inside the server and for one in its own run process (the default)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from ..lsp.conftest import SessionFactory, lsp_session, push_capabilities  # noqa: F401  (lsp_session: a fixture)
from .cluster import Cluster

AGENTS = 4
FIX_CALC = """meta = {"name": "fix-calc", "description": "isolated agents that fix calc.py", "phases": [{"title": "Fix"}]}
phase("Fix")
fixes = await parallel([lambda i=i: agent(f"Guard average() #{i}", label=f"fix {i}", isolation="worktree")
                        for i in range(AGENTS)])
return len(fixes)
""".replace("AGENTS", str(AGENTS))
SCENARIO = {"rules": [{"match": {"label": "^fix "}, "respond": {"tool_calls": [
    {"name": "read_file", "input": {"path": "calc.py"}},
    {"name": "edit_file", "input": {"path": "calc.py", "old": "return total / len(values)",
                                    "new": "return total / len(values) if values else 0.0"}}],
    "text": "guarded"}}]}


@pytest.mark.parametrize("detach", [False, True], ids=["detachRuns-off", "detachRuns-on"])
async def test_the_runs_view_shows_the_worker_of_each_agent(cluster: Cluster, lsp_session: SessionFactory,  # noqa: F811
                                                            tmp_path: Path, detach: bool) -> None:
    scenario = tmp_path / "fix_scenario.json"
    scenario.write_text(json.dumps(SCENARIO))
    session = await lsp_session(
        capabilities=push_capabilities(), files={"fix_calc.py": FIX_CALC}, env={"WORKCREW_SCENARIO": str(scenario)},
        settings={"executor": "distributed", "cluster": cluster.address, "detachRuns": detach})
    client = session.client
    trees: list[Any] = []

    @client.feature("workcrew/runUpdate")
    def on_update(params: Any) -> None:
        trees.append(params.tree)

    finished = client.protocol.wait_for_notification_async("workcrew/runFinished")
    result = await session.command("workcrew.runWorkflow", {"path": str(session.workspace / "fix_calc.py")})
    assert result["status"] == "running", result
    done = await asyncio.wait_for(finished, 90)
    assert done.status == "succeeded", done.error

    final = trees[-1]  # the last update goes out before runFinished
    assert final.executor == f"distributed ({cluster.address})"
    (phase,) = final.phases
    workers = {agent.label: agent.worker for agent in phase.agents}
    assert len(workers) == AGENTS and set(workers.values()) <= {"w1", "w2"}, workers
    # the editor's copy was not touched: every agent worked on its own copy, on a worker
    assert "if values else" not in (session.workspace / "calc.py").read_text()
    # the run had its own process even with detachRuns off: a Ray driver dies with its cluster, the server must not
    server = session.client._server
    assert server is not None
    assert "_raylet" not in Path(f"/proc/{server.pid}/maps").read_text()
