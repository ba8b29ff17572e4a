"""What a user hears when the cluster is not there: at once, and what to do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from workcrew.engine import RunStore, Settings, load_workflow, start
from workcrew.engine.errors import UsageError

from .cluster import free_port


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "wf.py"
    path.write_text('meta = {"name": "t", "description": "one agent"}\nreturn await agent("hello")\n')
    return path


def test_a_distributed_run_without_a_cluster_is_refused_before_it_starts(script: Path, settings: Settings) -> None:
    with pytest.raises(UsageError, match="needs the cluster's address: --cluster HOST:6379"):
        start(load_workflow(script), None, settings.model_copy(update={"executor": "distributed"}))


async def test_an_unreachable_cluster_fails_the_run_at_once(script: Path, settings: Settings,
                                                            store: RunStore) -> None:
    address = f"127.0.0.1:{free_port()}"
    run_settings = settings.model_copy(update={"executor": "distributed", "cluster": address})
    result = await start(load_workflow(script), None, run_settings, store=store).result()
    assert result.status == "failed"
    assert f"cannot reach the cluster at {address}" in (result.error or "")
    assert "`ray start --head`" in (result.error or "")
    assert result.agents["launched"] == 0  # nothing was spent


def test_a_worker_for_an_unreachable_cluster_says_so_and_exits(tmp_path: Path) -> None:
    address = f"127.0.0.1:{free_port()}"
    done = subprocess.run([str(Path(sys.executable).parent / "workcrew"), "worker", "--cluster", address],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert f"cannot reach the cluster at {address}" in done.stderr
