"""A Ray head and two Workcrew workers for the whole session (starting a cluster takes seconds)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .cluster import WORKER_SHELL_KEY, Cluster, start_cluster


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    cluster = start_cluster()
    try:
        # the shell the workers are started from holds an API key: `workcrew worker` must not pass it on
        cluster.add_worker("w1", env={"ANTHROPIC_API_KEY": WORKER_SHELL_KEY})
        cluster.add_worker("w2", env={"ANTHROPIC_API_KEY": WORKER_SHELL_KEY})
        yield cluster
    finally:
        cluster.stop()
