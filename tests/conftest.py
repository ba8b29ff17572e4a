"""Shared fixtures: settings in a temporary workspace, a run store, and a helper that runs a script."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
from workcrew.engine import RunResult, RunStore, Settings, load_workflow, start
from workcrew.engine.providers.scenario import Scenario


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "ws"
    folder.mkdir()
    return folder


@pytest.fixture
def settings(workspace: Path, tmp_path: Path) -> Settings:
    return Settings(workspace=workspace, state_dir=tmp_path / "state", models={"default": "simulated"})


@pytest.fixture
def store(settings: Settings) -> RunStore:
    db = RunStore(settings.resolved_state_dir())
    yield db
    db.close()


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Scratch copies and worktrees in this test's own temp folder (other processes' do not count)."""
    import tempfile

    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


RunScript = Callable[..., Coroutine[Any, Any, RunResult]]


@pytest.fixture
def run_script(settings: Settings, store: RunStore, tmp_path: Path) -> RunScript:
    """``await run_script(body, scenario=..., args=..., **settings_overrides)`` → RunResult.

    ``body`` is the script without its meta line; a default meta is prepended.
    """
    from workcrew.engine.providers.simulated import SimulatedModel

    async def run(body: str, *, scenario: dict[str, Any] | None = None, args: Any = None,
                  meta: str | None = None, **overrides: Any) -> RunResult:
        source = (meta or 'meta = {"name": "t", "description": "test workflow"}') + "\n" + textwrap.dedent(body)
        path = tmp_path / "wf.py"
        path.write_text(source)
        workflow = load_workflow(path)
        assert not workflow.problems, workflow.problems
        run_settings = settings.model_copy(update=overrides)
        client = SimulatedModel(Scenario.from_data(scenario or {"rules": []}))
        handle = start(workflow, args, run_settings, client=client, store=store)
        run.handle = handle  # type: ignore[attr-defined]
        return await handle.result()

    return run


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user home of the test's own: ~/.claude (agents, skills, plugins, settings) is what the test puts there."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    return folder
