"""Where a stored run's work ran: its executor (from the run's ``settings``) and each agent's worker.

Read for ``workcrew runs`` / ``workcrew show`` and for the editor's Runs view; a local run has no worker
anywhere, so everything here is empty for it.
"""

from __future__ import annotations

from typing import Any

from .database import RunStore

_CHUNK = 500  # run ids per query: well under SQLite's limit on bound parameters


def executor_label(settings: Any) -> str | None:
    """``"distributed (HOST:6379)"`` for a run whose settings sent its work to a cluster; None for a local run."""
    if not isinstance(settings, dict) or settings.get("executor") != "distributed":
        return None
    cluster = settings.get("cluster")
    return f"distributed ({cluster})" if cluster else "distributed"


def executors(store: RunStore, run_ids: list[str]) -> dict[str, str]:
    """The distributed runs among ``run_ids``, with their executor label (local runs are left out)."""
    labels: dict[str, str] = {}
    for start in range(0, len(run_ids), _CHUNK):
        chunk = run_ids[start:start + _CHUNK]
        # two keys of the settings JSON only: a run row also holds the script's source, which is not read here
        rows = store._query("SELECT id, json_extract(settings, '$.executor') AS executor, "
                            "json_extract(settings, '$.cluster') AS cluster FROM runs "
                            f"WHERE id IN ({', '.join('?' for _ in chunk)})", tuple(chunk))
        for row in rows:
            label = executor_label({"executor": row["executor"], "cluster": row["cluster"]})
            if label is not None:
                labels[str(row["id"])] = label
    return labels
