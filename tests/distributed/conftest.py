"""A Ray head and two Workcrew workers for the whole session (starting a cluster takes seconds)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .cluster import Cluster, start_cluster


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    cluster = start_cluster()
    try:
        cluster.add_worker("w1")
        cluster.add_worker("w2")
        yield cluster
    finally:
        cluster.stop()
