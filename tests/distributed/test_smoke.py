"""A distributed run on a real two-worker cluster: agents' tools and checks run on the workers."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from workcrew.engine import RunStore, Settings, load_workflow, start
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulated import SimulatedModel

from .cluster import WORKER_SHELL_KEY, Cluster, RecordingModel

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


async def test_no_secret_reaches_a_worker(cluster: Cluster, workspace: Path, settings: Settings, store: RunStore,
                                          tmp_path: Path) -> None:
    """The API key is not in any worker process's environment, secret files are not in the snapshot, and an
    agent or a check on a worker finds neither."""
    (workspace / "calc.py").write_text(CALC)
    (workspace / ".env").write_text("DB_PASSWORD=hunter2-secret-value\n")
    (workspace / "config").mkdir()
    (workspace / "config" / "ID_RSA").write_text("-----BEGIN PRIVATE KEY-----\nMIIEsecretkeymaterial\n")
    script = tmp_path / "wf.py"
    script.write_text('meta = {"name": "t", "description": "peek"}\n' + textwrap.dedent("""
        seen = await agent("Read the secrets", label="peek", isolation="worktree")
        found = await check("grep -r -l -e hunter2 -e secretkeymaterial .")
        listed = await check("find . -type f")
        return {"seen": seen, "grep": found["exit_code"], "files": sorted(listed["stdout"].split())}
    """))
    peek = [{"name": "read_file", "input": {"path": ".env"}}, {"name": "read_file", "input": {"path": "config/ID_RSA"}},
            {"name": "run_command", "input": {"command": "cat .env"}}]
    scenario = Scenario.from_data({"rules": [{"match": {"label": "^peek"}, "respond": {"tool_calls": peek,
                                                                                       "text": "done"}}]})
    client = RecordingModel(scenario)
    run_settings = settings.model_copy(update={"executor": "distributed", "cluster": cluster.address,
                                               "command_allowlist": ["grep", "find", "cat"]})
    result = await (start(load_workflow(script), None, run_settings, client=client, store=store)).result()
    assert result.status == "succeeded", (result.error, result.logs)
    assert result.result["grep"] == 1  # nothing found: the secret files are not on the worker
    assert result.result["files"] == ["./calc.py"]
    tool_results = json.dumps([m for request in client.requests for m in request.messages])
    assert "hunter2" not in tool_results and "secretkeymaterial" not in tool_results
    for name in ("w1", "w2"):
        for pid in cluster.worker_processes(name):
            try:
                environ = Path(f"/proc/{pid}/environ").read_bytes()
            except (FileNotFoundError, ProcessLookupError):
                continue
            assert WORKER_SHELL_KEY.encode() not in environ and b"ANTHROPIC_API_KEY" not in environ, pid


async def test_the_snapshot_goes_to_each_worker_once(cluster: Cluster, workspace: Path, settings: Settings,
                                                     store: RunStore, tmp_path: Path) -> None:
    """Content-addressed: a second run over the same files sends nothing; a changed file sends a new one."""
    (workspace / "calc.py").write_text(CALC)
    (workspace / "notes.md").write_text(f"unique to this test: {tmp_path.name}\n")
    script = tmp_path / "wf.py"
    script.write_text('meta = {"name": "t", "description": "one check"}\n'
                      'return (await check("grep -c a calc.py"))["exit_code"]\n')
    run_settings = settings.model_copy(update={"executor": "distributed", "cluster": cluster.address,
                                               "command_allowlist": ["grep"]})

    async def shipped() -> str:
        handle = start(load_workflow(script), None, run_settings, client=SimulatedModel(Scenario.from_data({})),
                       store=store)
        result = await handle.result()
        assert result.status == "succeeded", result.error
        return next(line for line in result.logs if "workspace snapshot" in line)

    assert "sent to 2 of 2 workers" in await shipped()
    assert "sent to 0 of 2 workers" in await shipped()
    (workspace / "notes.md").write_text("changed\n")
    assert "sent to 2 of 2 workers" in await shipped()
