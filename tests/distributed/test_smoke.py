"""A distributed run on a real two-worker cluster: agents' tools and checks run on the workers."""

from __future__ import annotations

import textwrap
from pathlib import Path

from workcrew.engine import RunStore, Settings, load_workflow, start
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulated import SimulatedModel

from .cluster import Cluster

CALC = "def add(a, b):\n    return a - b\n"
FIX = [{"name": "read_file", "input": {"path": "calc.py"}},
       {"name": "edit_file", "input": {"path": "calc.py", "old": "return a - b", "new": "return a + b"}}]


async def test_isolated_agents_and_checks_run_on_both_workers(cluster: Cluster, workspace: Path, settings: Settings,
                                                              store: RunStore, tmp_path: Path) -> None:
    (workspace / "calc.py").write_text(CALC)
    (workspace / ".env").write_text("DB_PASSWORD=hunter2-secret-value\n")
    script = tmp_path / "wf.py"
    script.write_text('meta = {"name": "t", "description": "fan-out"}\n' + textwrap.dedent("""
        fixes = await parallel([lambda i=i: agent(f"Fix calc.py #{i}", label=f"fix {i}", isolation="worktree")
                                for i in range(12)])
        checks = await parallel([lambda f=f: check("grep -c 'a + b' calc.py", isolation=f) for f in fixes])
        return [c["exit_code"] for c in checks]
    """))
    scenario = Scenario.from_data({"rules": [{"match": {"label": "^fix"}, "respond": {"tool_calls": FIX, "text": "ok"}}]})
    run_settings = settings.model_copy(update={"executor": "distributed", "cluster": cluster.address,
                                               "command_allowlist": ["grep"]})
    handle = start(load_workflow(script), None, run_settings, client=SimulatedModel(scenario), store=store)
    result = await handle.result()
    assert result.status == "succeeded", (result.error, result.logs)
    assert result.result == [0] * 12
    workers = {row["worker"] for row in store.get_agents(result.run_id)}
    assert workers == {"w1", "w2"}, workers
    assert (workspace / "calc.py").read_text() == CALC
