"""WORKCREW_EXECUTOR and WORKCREW_CLUSTER choose where a run's work goes, over workcrew.toml and under
explicit overrides (the CLI's flags, the editor's settings)."""

from __future__ import annotations

from pathlib import Path

import pytest
from workcrew.engine.errors import UsageError
from workcrew.engine.settings import load_settings

ENV = {"WORKCREW_EXECUTOR": "distributed", "WORKCREW_CLUSTER": "10.0.0.5:6379"}


def test_the_environment_sends_runs_to_a_cluster(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, env=ENV)
    assert (settings.executor, settings.cluster) == ("distributed", "10.0.0.5:6379")
    assert (load_settings(tmp_path, env={}).executor, load_settings(tmp_path, env={}).cluster) == ("local", None)


def test_the_environment_comes_after_workcrew_toml_and_before_overrides(tmp_path: Path) -> None:
    (tmp_path / "workcrew.toml").write_text('executor = "local"\ncluster = "head.example:6379"\n')
    assert load_settings(tmp_path, env=ENV).cluster == "10.0.0.5:6379"
    assert load_settings(tmp_path, env={"WORKCREW_EXECUTOR": "distributed"}).cluster == "head.example:6379"
    assert load_settings(tmp_path, {"executor": "local"}, env=ENV).executor == "local"


def test_an_unknown_executor_in_the_environment_says_which_setting(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="executor"):
        load_settings(tmp_path, env={"WORKCREW_EXECUTOR": "kubernetes"})
