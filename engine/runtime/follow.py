"""Following a run owned by another process (a run process, a terminal's `workcrew run`, another editor's
daemon) from the store it writes: its events in order, its progress tree and its outcome; controlling it
through the store (``store/controls.py``).

The store is the source of truth: whoever follows sees what was journaled, at most a writer interval plus
one poll late, and sees the run end however it ends — finished, stopped, cancelled, or its process gone
(then the store marks it ``interrupted`` with what its agents spent).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio

from ..store import RunStore, controls, owner
from .events import Event

POLL_S = 0.2
FINAL = ("succeeded", "failed", "cancelled", "stopped", "interrupted")
_DONE_STATES = ("succeeded", "failed", "cached", "skipped", "not_started", "cancelled", "interrupted")


class _FollowedState:
    """What a progress view reads of a run: enough of ``RunState``'s shape for the editor's run registry."""

    def __init__(self, store: RunStore) -> None:
        self.store = store
        self.cancelled = False
        self.agents: dict[str, dict[str, Any]] = {}


class RunFollower:
    """A run in another process, seen through ``store``."""

    def __init__(self, store: RunStore, run_id: str, *, poll_s: float = POLL_S) -> None:
        self.store = store
        self.run_id = run_id
        self.poll_s = poll_s
        self.state = _FollowedState(store)
        self.run: dict[str, Any] = {}
        self.workflow_name = ""
        self._seq = 0
        self._done = asyncio.Event()
        self._tree: dict[str, Any] = {"run_id": run_id, "phases": [], "counts": {}, "usage": {}, "paused": False}
        self._phases: list[str] = []
        self.paused = False

    @property
    def done(self) -> bool:
        return self._done.is_set()

    async def events(self) -> AsyncIterator[Event]:
        """Every event the run journals from the start (or from where this follower got to), until it ends."""
        while True:
            events, run = await anyio.to_thread.run_sync(self._poll)
            for row in events:
                self._seq = int(row["seq"])
                raw = row.get("data")
                data: dict[str, Any] = raw if isinstance(raw, dict) else {}
                if row["type"] == "run_started":
                    self._phases = list(data.get("phases") or [])
                elif row["type"] == "phase_started" and data.get("title") not in self._phases:
                    self._phases.append(str(data.get("title")))
                elif row["type"] in ("run_paused", "run_resumed"):
                    self.paused = row["type"] == "run_paused"
                yield Event(row["type"], self.run_id, int(row["seq"]), float(row["ts"]), data)
            if run is not None and run.get("status") in FINAL and not events:
                self._done.set()
                return
            await asyncio.sleep(self.poll_s)

    def _poll(self) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """(new events, the run row) — blocking, in a worker thread."""
        run = self.store.get_run(self.run_id)
        if run is not None and run.get("status") == "running" and owner.is_gone(run.get("owner")):
            # its process is gone: the store marks it interrupted with its real spend, and following ends here
            # (checked here first, so a live run's poll does not scan every running run of the store)
            self.store.reconcile_interrupted()
            run = self.store.get_run(self.run_id)
        events = self.store.get_events(self.run_id, self._seq)
        if run is not None:
            self.run = run
            self.workflow_name = str(run.get("workflow") or "")
            self._tree = self._build_tree(self.store.agent_views(self.run_id))
        return events, run

    @property
    def done_agents(self) -> int:
        """Agents that have ended (however), from the rows as of the last poll."""
        return sum(phase["done"] for phase in self._tree["phases"])

    def _build_tree(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        groups: dict[str, list[dict[str, Any]]] = {}
        now = time.time()
        for row in rows:
            tokens = int(row.get("input_tokens") or 0) + int(row.get("output_tokens") or 0)
            started = row.get("started_at")
            elapsed = round(((row.get("finished_at") or now) - started), 3) if started else 0.0
            view = {"id": row["id"], "label": row.get("label"), "phase": row.get("phase"), "role": row.get("role"),
                    "model": row.get("model"), "state": row.get("state"), "tokens": tokens,
                    "cost_usd": float(row.get("cost_usd") or 0), "elapsed_s": elapsed,
                    "last_tool": row.get("last_tool"), "error": row.get("error"), "worker": row.get("worker")}
            groups.setdefault(row.get("phase") or "", []).append(view)
        self.state.agents = {view["id"]: view for group in groups.values() for view in group}
        order = [p for p in self._phases if p in groups] + [p for p in groups if p not in self._phases]
        phases = [{"title": title or "(no phase)", "agents": groups[title],
                   "done": sum(a["state"] in _DONE_STATES for a in groups[title]), "total": len(groups[title]),
                   "tokens": sum(a["tokens"] for a in groups[title]),
                   "cost_usd": round(sum(a["cost_usd"] for a in groups[title]), 6)} for title in order]
        views = list(self.state.agents.values())
        counts = {"launched": len(views), **{key: sum(a["state"] == key for a in views)
                                             for key in ("succeeded", "failed", "cached", "running")}}
        usage: dict[str, Any] = {key: sum(int(row.get(key) or 0) for row in rows)
                                 for key in ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")}
        usage["cost_usd"] = round(sum(float(row.get("cost_usd") or 0) for row in rows), 6)
        return {"run_id": self.run_id, "phases": phases, "counts": counts, "usage": usage, "paused": self.paused}

    def tree(self) -> dict[str, Any]:
        status = str(self.run.get("status") or "running")
        return {**self._tree, "workflow": self.workflow_name,
                "status": "paused" if self.paused and status == "running" else status}

    async def result(self) -> dict[str, Any]:
        """The run's outcome as ``RunResult.to_json()`` gives it, once it has ended."""
        await self._done.wait()
        run = self.run
        agents = {key: int(run.get(key) or 0) for key in ("launched", "succeeded", "failed", "cached")}
        usage = {key: run.get(key) or 0 for key in ("input_tokens", "output_tokens", "cache_creation_input_tokens",
                                                   "cache_read_input_tokens", "cost_usd")}
        return {"run_id": self.run_id, "status": run.get("status"), "result": run.get("result"),
                "error": run.get("error"), "agents": agents, "usage": usage}

    # -- control (through the store: the owning process acts within a quarter of a second) -----------

    def cancel(self) -> None:
        self.state.cancelled = True
        controls.request(self.store, self.run_id, "cancel")

    def stop(self, reason: str = "stopped by the user") -> None:
        controls.request(self.store, self.run_id, "stop", reason)

    def pause(self) -> None:
        controls.request(self.store, self.run_id, "pause")
        self.paused = True  # shown at once: the request is durable and the owner acts on it within 250 ms

    def resume(self) -> None:
        controls.request(self.store, self.run_id, "resume")
        self.paused = False
