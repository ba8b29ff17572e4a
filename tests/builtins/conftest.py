"""Run a built-in workflow end to end on its fixture workspace with the simulated model."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from workcrew.engine import RunResult, RunStore, Settings, start
from workcrew.engine.providers.anthropic import AnthropicModel
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulated import SimulatedModel
from workcrew.engine.providers.simulator import SimulatorThread
from workcrew.engine.results.report import RunRecords, load_records, report_path, sarif_schema, to_sarif
from workcrew.engine.settings import DEFAULT_COMMAND_ALLOWLIST
from workcrew.engine.workflows.discovery import resolve

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "builtins"


@dataclass
class BuiltinRun:
    outcome: RunResult
    records: RunRecords
    workspace: Path
    report_md: str

    @property
    def result(self) -> Any:
        return self.outcome.result

    def sarif(self) -> dict[str, Any]:
        log = to_sarif(self.records)
        jsonschema.validate(log, SARIF_SCHEMA)
        return log


SARIF_SCHEMA = sarif_schema()

RunBuiltin = Callable[..., Coroutine[Any, Any, BuiltinRun]]


def fixture_scenario(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name / "scenario.json").read_text())
    return data


def fixture_args(name: str) -> Any:
    return json.loads((FIXTURES / name / "args.json").read_text())


@pytest.fixture
def run_builtin(tmp_path: Path) -> RunBuiltin:
    """``await run_builtin(name, scenario=None, args=None, **settings)``: the fixture's scenario and args
    unless given; the workspace is a fresh copy of ``tests/fixtures/builtins/<name>/workspace``."""
    stores: list[RunStore] = []
    simulators: list[SimulatorThread] = []

    async def run(name: str, *, scenario: dict[str, Any] | None = None, args: Any = None, http: bool = False,
                  **overrides: Any) -> BuiltinRun:
        workspace = tmp_path / f"{name}-ws"
        shutil.copytree(FIXTURES / name / "workspace", workspace)
        # the default allowlist runs read-only tools only: these projects declare their test runner, as a
        # project does in its workcrew.toml
        overrides.setdefault("command_allowlist", [*DEFAULT_COMMAND_ALLOWLIST, "python -m pytest"])
        overrides.setdefault("command_pass_env", ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"])
        rules = Scenario.from_data(scenario if scenario is not None else fixture_scenario(name))
        client: Any
        if http:
            # the production path: the real anthropic SDK over HTTP to the Messages-API simulator
            sim = SimulatorThread(rules).start()
            simulators.append(sim)
            settings = Settings(workspace=workspace, state_dir=tmp_path / "state", provider="anthropic",
                                base_url=sim.url, **overrides)
            client = AnthropicModel.from_settings(settings, env={"ANTHROPIC_API_KEY": "sk-ant-test-builtins"})
        else:
            settings = Settings(workspace=workspace, state_dir=tmp_path / "state", models={"default": "simulated"},
                                **overrides)
            client = SimulatedModel(rules)
        store = RunStore(settings.resolved_state_dir())
        stores.append(store)
        workflow = resolve(name, workspace, home=tmp_path / "home")
        assert workflow.origin == "builtin" and not workflow.problems, workflow.problems
        handle = start(workflow, fixture_args(name) if args is None else args, settings, client=client, store=store)
        try:
            outcome = await handle.result()
        finally:
            await client.aclose()
        records = load_records(store, outcome.run_id)
        md_path = report_path(store.state_dir, outcome.run_id)
        assert md_path.is_file(), f"the run did not write {md_path}: {outcome.logs}"
        return BuiltinRun(outcome, records, workspace, md_path.read_text())

    yield run
    for store in stores:
        store.close()
    for sim in simulators:
        sim.stop()
