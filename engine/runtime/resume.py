"""Resuming and re-running: every agent of a new run whose call matches a finished agent of an earlier run
is served from the store, in any order; nothing that finished is asked (or billed) again.

Every ``agent()`` call gets a key over its prompt and the options that change an answer (schema, model,
effort, isolation, agent type and its definition, tools, the skills and project review rules it is shown;
not label, phase or timeout). The new run re-executes the script from the
top; each call whose key matches an earlier agent that succeeded takes that agent's result instead of
asking the model, whatever order the calls come in (a fan-out launches in one order and finishes in
another; a crash leaves finished and unfinished agents interleaved). Identical calls are matched one to
one, in launch order: ten equal calls reuse the earlier run's ten answers, not one answer ten times.
Calls that are new, changed, or whose earlier agent failed or never finished run live. Unlike Claude
Code's prefix rule, a gap no longer makes every later call run again.

An earlier agent is reused only while what it read is unchanged: each agent's row holds the fingerprints
of the files, folder listings and file walks its tools saw (``AgentToolBox.reads``). After an edit to one
file, the agents that read it run again, and so do the agents whose prompts quote their (new) answers;
the rest are reused. ``check()`` results are journaled with a fingerprint of the workspace and ``ask()``
answers with the question, and are replayed the same way.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
from typing import Any

from ..agents.tools import AgentToolBox, walk
from ..errors import UsageError
from ..settings import Settings
from ..store import RunStore
from ..tool_names import DEFAULT_TOOLS

# v1 keys chained on the call before; v2 keys lacked the tools, the agent type's definition and the skills.
# An older key never matches a v3 key, so nothing is misserved (those agents run again once).
KEY_VERSION = "v3"
_SERVED = ("succeeded", "cached")
_FINAL = ("succeeded", "failed", "cancelled", "stopped", "interrupted")


def _digest(*fields: str) -> str:
    # each field is length-prefixed, so no prompt can make two different calls look alike
    text = "".join(f"{len(field)}:{field}" for field in fields)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def call_key(prompt: str, *, schema: str | None, model: str, effort: str | None, isolation: str | None,
             agent_type: str | None, tools: frozenset[str] = DEFAULT_TOOLS, definition: str = "",
             skills: str = "", rules: str = "") -> str:
    """The key of one agent call: its prompt and the options that change an answer (``schema`` as its
    canonical JSON text), its effective tool names, the digest of its agent type's definition file
    (an edited definition runs its agents again), that of the skills it is shown and that of the project
    review rules it is shown (a new or edited rule runs it again)."""
    # without rules the fields are those of v3 keys from before rules existed: those agents are still reused
    rules_field = (rules,) if rules else ()
    digest = _digest(prompt, schema or "", model, effort or "", isolation or "", agent_type or "",
                     "\n".join(sorted(tools)), definition, skills, *rules_field)
    return f"{KEY_VERSION}:{digest}"


def ask_key(question: str, choices: list[str] | None) -> str:
    return "ask:" + _digest(question, json.dumps(choices))


def check_key(argv: list[str], cwd: str | None, isolation: Any, workspace: str) -> str:
    """A ``check()`` call's key: the command, where it runs, the patch it runs on (``isolation``) and the
    workspace's fingerprint (:func:`workspace_fingerprint`): any edit makes the command run again."""
    return "check:" + _digest(json.dumps(argv), cwd or "", json.dumps(isolation, sort_keys=True, default=str),
                              workspace)


def workspace_fingerprint(settings: Settings) -> str:
    """The paths, sizes and modification times of the files an agent could see (blocking: a worker thread)."""
    box = AgentToolBox(settings.workspace, settings)
    digest = hashlib.sha256()
    for rel in walk(box.root, box.policy):
        try:
            info = os.stat(box.root / rel)
        except OSError:
            continue
        digest.update(f"{rel}\0{info.st_size}\0{info.st_mtime_ns}\n".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def changed_reads(agents: list[dict[str, Any]], settings: Settings) -> set[str]:
    """The ids of the ``agents`` (store rows) that read something that differs now (blocking)."""
    box = AgentToolBox(settings.workspace, settings)
    now: dict[str, str] = {}
    changed = set()
    for agent in agents:
        for read, seen in (agent.get("reads") or {}).items():
            if read not in now:
                now[read] = box.fingerprint(read)
            if now[read] != seen:
                changed.add(str(agent["id"]))
                break
    return changed


class ResumeCache:
    """The earlier run's finished agents by key, each served once to a call with the same key, and its
    journaled ``check()`` results and ``ask()`` answers, each replayed once."""

    def __init__(self, run_id: str, agents: list[dict[str, Any]], journal: list[dict[str, Any]] | None = None,
                 *, changed: set[str] | None = None) -> None:
        self.run_id = run_id
        self._agents = agents
        self._journal = journal or []
        self._changed = changed or set()
        self._by_key: dict[str, collections.deque[dict[str, Any]]] = {}
        self.stale = 0  # finished agents left out because something they read has changed
        for agent in sorted(agents, key=lambda row: int(row.get("seq") or 0)):  # seq: the launch position
            if agent.get("key") and agent.get("state") in _SERVED:
                if str(agent.get("id")) in self._changed:
                    self.stale += 1
                    continue
                self._by_key.setdefault(str(agent["key"]), collections.deque()).append(agent)
        self._answers: dict[str, collections.deque[Any]] = {}
        for entry in self._journal:
            self._answers.setdefault(str(entry["key"]), collections.deque()).append(entry.get("answer"))
        self.served = 0
        self.live = 0  # calls that found no finished agent to reuse
        self.replayed = 0

    @classmethod
    def load(cls, store: RunStore, run_id: str, workflow: str | None = None, *, force: bool = False,
             settings: Settings | None = None) -> ResumeCache:
        """The cache of ``run_id`` in ``store`` (``last``: the latest finished run of ``workflow``); with
        ``settings``, agents whose reads changed in its workspace are left out. Blocking (reads files).
        Raises :class:`UsageError` saying what to do when it cannot be."""
        store.reconcile_interrupted()  # a run whose process died is marked so, and can be resumed at once
        if run_id == "last":
            run_id = cls.last_run(store, workflow)
        run = store.get_run(run_id)
        if run is None:
            raise UsageError(f"no run {run_id!r} to reuse in {store.path}; `workcrew runs` lists the runs there")
        if workflow is not None and run.get("workflow") != workflow:
            raise UsageError(f"run {run['id']} ran workflow {run.get('workflow')!r}, not {workflow!r}; "
                             "reuse a run of the same workflow")
        if run.get("status") == "running" and not force:
            raise UsageError(f"run {run['id']} is still running (its process is alive). Stop it first "
                             f"(`workcrew stop {run['id']}`), or pass --force to reuse what it has finished so far")
        agents = store.agent_results(str(run["id"]))
        changed = changed_reads(agents, settings) if settings is not None else set()
        return cls(str(run["id"]), agents, store.journaled(str(run["id"])), changed=changed)

    @staticmethod
    def last_run(store: RunStore, workflow: str | None) -> str:
        for run in store.list_runs(limit=200):
            if (workflow is None or run.get("workflow") == workflow) and run.get("status") in _FINAL:
                return str(run["id"])
        raise UsageError(f"no earlier run of {workflow or 'any workflow'!r} to reuse in {store.path}; "
                         "run it once without --reuse")

    def fork(self) -> ResumeCache:
        """A fresh copy with nothing served yet (the estimate's dry run consumes its own)."""
        return ResumeCache(self.run_id, self._agents, self._journal, changed=self._changed)

    def take(self, key: str) -> dict[str, Any] | None:
        """A finished earlier agent for a call with ``key`` (each served once), or None: the call runs live."""
        matches = self._by_key.get(key)
        if not matches:
            self.live += 1
            return None
        self.served += 1
        return matches.popleft()

    def replay(self, key: str) -> tuple[bool, Any]:
        """(True, the earlier answer) for a journaled ``check()``/``ask()`` with ``key`` (each once), else
        (False, None): it runs (or is asked) again."""
        answers = self._answers.get(key)
        if not answers:
            return False, None
        self.replayed += 1
        return True, answers.popleft()
