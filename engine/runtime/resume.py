"""Resuming a run: every agent of a new run whose call matches a finished agent of an earlier run is served
from the store, in any order; nothing that finished is asked (or billed) again.

Every ``agent()`` call gets a key over its prompt and the options that change an answer (schema, model,
effort, isolation, agent type; not label, phase or timeout). The new run re-executes the script from the
top; each call whose key matches an earlier agent that succeeded takes that agent's result instead of
asking the model, whatever order the calls come in (a fan-out launches in one order and finishes in
another; a crash leaves finished and unfinished agents interleaved). Identical calls are matched one to
one, in launch order: ten equal calls reuse the earlier run's ten answers, not one answer ten times.
Calls that are new, changed, or whose earlier agent failed or never finished run live. Unlike Claude
Code's prefix rule, a gap no longer makes every later call run again.
"""

from __future__ import annotations

import collections
import hashlib
from typing import Any

from ..errors import UsageError
from ..store import RunStore

KEY_VERSION = "v2"  # v1 keys chained on the call before: they never match a v2 key, so nothing is misserved
_SERVED = ("succeeded", "cached")


def call_key(prompt: str, *, schema: str | None, model: str, effort: str | None, isolation: str | None,
             agent_type: str | None) -> str:
    """The key of one agent call: its prompt and the options that change an answer (``schema`` as its
    canonical JSON text). Each field is length-prefixed, so no prompt can make two different calls look
    alike."""
    fields = (prompt, schema or "", model, effort or "", isolation or "", agent_type or "")
    text = "".join(f"{len(field)}:{field}" for field in fields)
    return f"{KEY_VERSION}:{hashlib.sha256(text.encode('utf-8')).hexdigest()}"


class ResumeCache:
    """The earlier run's finished agents by key, each served once to a call with the same key."""

    def __init__(self, run_id: str, agents: list[dict[str, Any]]) -> None:
        self.run_id = run_id
        self._by_key: dict[str, collections.deque[dict[str, Any]]] = {}
        for agent in sorted(agents, key=lambda row: int(row.get("seq") or 0)):  # seq: the launch position
            if agent.get("key") and agent.get("state") in _SERVED:
                self._by_key.setdefault(str(agent["key"]), collections.deque()).append(agent)
        self.served = 0
        self.live = 0  # calls that found no finished agent to reuse

    @classmethod
    def load(cls, store: RunStore, run_id: str, workflow: str | None = None, *, force: bool = False) -> ResumeCache:
        """The cache of ``run_id`` in ``store``; :class:`UsageError` saying what to do when it cannot be."""
        store.reconcile_interrupted()  # a run whose process died is marked so, and can be resumed at once
        run = store.get_run(run_id)
        if run is None:
            raise UsageError(f"no run {run_id!r} to resume from in {store.path}; `workcrew runs` lists the runs there")
        if workflow is not None and run.get("workflow") != workflow:
            raise UsageError(f"run {run['id']} ran workflow {run.get('workflow')!r}, not {workflow!r}; "
                             "resume a run of the same workflow")
        if run.get("status") == "running" and not force:
            raise UsageError(f"run {run['id']} is still running (its process is alive). Cancel it first, or pass "
                             "--force to resume from what it has finished so far")
        return cls(str(run["id"]), store.agent_results(str(run["id"])))

    def take(self, key: str) -> dict[str, Any] | None:
        """A finished earlier agent for a call with ``key`` (each served once), or None: the call runs live."""
        matches = self._by_key.get(key)
        if not matches:
            self.live += 1
            return None
        self.served += 1
        return matches.popleft()
