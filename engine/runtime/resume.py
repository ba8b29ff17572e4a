"""Resuming a run: the agents of a new run whose calls match an earlier run's are served from its results.

Every ``agent()`` call gets a key chained on the key of the call launched before it, over its prompt and
the options that change an answer (schema, model, effort, isolation, agent type; not label, phase or
timeout), so equal keys mean equal calls all the way from the start. The new run re-executes the script
from the top; while its calls keep the earlier run's keys, position by position in launch order, and the
earlier agent had succeeded, the result is taken from the store instead of asking the model again. The
first call that differs, or whose earlier agent failed or never finished, ends that: it and every call
after it run live, as in Claude Code. Unlike Claude Code the store outlives the process, so a run the
CLI or the editor lost to a crash resumes too.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ..errors import UsageError
from ..store import RunStore

KEY_VERSION = "v1"
_SERVED = ("succeeded", "cached")


def call_key(previous: str, prompt: str, *, schema: str | None, model: str, effort: str | None,
             isolation: str | None, agent_type: str | None) -> str:
    """The key of one agent call: its prompt and the options that change an answer (``schema`` as its
    canonical JSON text), chained on the previous call's key. Each field is length-prefixed, so no prompt
    can make two different calls look alike."""
    fields = (previous, prompt, schema or "", model, effort or "", isolation or "", agent_type or "")
    text = "".join(f"{len(field)}:{field}" for field in fields)
    return f"{KEY_VERSION}:{hashlib.sha256(text.encode('utf-8')).hexdigest()}"


class ResumeCache:
    """The earlier run's agents, served while the new run's calls match them one by one."""

    def __init__(self, run_id: str, agents: list[dict[str, Any]]) -> None:
        self.run_id = run_id
        self._by_position = {int(agent["seq"]): agent for agent in agents}  # seq: the agent's launch position
        self.open = True
        self.served = 0
        self.ended_at: int | None = None  # the launch position of the first call that ran live

    @classmethod
    def load(cls, store: RunStore, run_id: str, workflow: str | None = None, *, force: bool = False) -> ResumeCache:
        """The cache of ``run_id`` in ``store``; :class:`UsageError` saying what to do when it cannot be."""
        run = store.get_run(run_id)
        if run is None:
            raise UsageError(f"no run {run_id!r} to resume from in {store.path}; `workcrew runs` lists the runs there")
        if workflow is not None and run.get("workflow") != workflow:
            raise UsageError(f"run {run['id']} ran workflow {run.get('workflow')!r}, not {workflow!r}; "
                             "resume a run of the same workflow")
        if run.get("status") == "running" and not force:
            raise UsageError(f"run {run['id']} is still running, or its process ended without recording an end. "
                             "Cancel it first, or pass --force if its process is gone")
        return cls(str(run["id"]), store.agent_results(str(run["id"])))

    def take(self, position: int, key: str) -> dict[str, Any] | None:
        """The earlier agent for the call launched ``position``-th (from 1) with ``key``, or None.

        None ends the cache for good: this call and every later one run live.
        """
        if not self.open:
            return None
        earlier = self._by_position.get(position)
        if earlier is None or earlier.get("key") != key or earlier.get("state") not in _SERVED:
            self.open = False
            self.ended_at = position
            return None
        self.served += 1
        return earlier
