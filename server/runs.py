"""The runs this server follows: their event pumps, progress, run-tree notifications and control.

A run started from the editor is owned by its own run process (``detach_runs``, the default), so closing
the editor leaves it running; the server follows it from the run store (``RunFollower``) and, when it
starts again, re-attaches to every run of its workspace that is still going, restoring its progress,
findings and quick-fixes. With ``detach_runs = false`` the run is an asyncio task inside this process.
Either way one more task per run turns its events into diagnostics (live), a progress bar and
``workcrew/runUpdate`` notifications (at most every 250 ms).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from lsprotocol import types
from workcrew.engine import Event, RunHandle, RunStore, Settings, Workflow, start
from workcrew.engine.runtime.follow import RunFollower
from workcrew.engine.runtime.resume import ResumeCache
from workcrew.engine.store import controls

from .progress import RunProgress
from .restore import sync_workflow
from .run_placement import placed

if TYPE_CHECKING:
    from .protocol import Server

log = logging.getLogger(__name__)

UPDATE_INTERVAL_S = 0.25
# a big tree is sent less often (still never more than every 250 ms): each update carries every agent
AGENTS_PER_INTERVAL = 200
MAX_UPDATE_INTERVAL_S = 2.0
TREE_AGENT_FIELDS = ("id", "label", "phase", "role", "model", "state", "tokens", "cost_usd", "elapsed_s",
                     "last_tool", "error", "worker")
RUN_UPDATE = "workcrew/runUpdate"
RUN_FINISHED = "workcrew/runFinished"
AGENT_DONE = {"agent_finished", "agent_failed", "agent_cached"}
# a run that ended this way recorded its findings' states in the store (an interrupted one did not)
RECORDED_FINDINGS = ("succeeded", "failed", "cancelled", "stopped")


@dataclass
class RunSession:
    handle: RunHandle | RunFollower
    workflow_name: str
    expected_agents: int | None
    progress: RunProgress
    started: float = field(default_factory=time.monotonic)
    done_agents: int = 0
    findings: int = 0
    suppressed: int = 0  # findings a project rule kept back (.claude/workcrew-rules.md): counted, not shown
    dirty: bool = True
    pump: asyncio.Task[None] | None = None
    outcome: dict[str, Any] | None = None
    ended_at: float | None = None  # wall clock of the engine's run_finished event
    final_flush: asyncio.Task[None] | None = None
    questions: int = 0  # ask() events seen (a followed run's questions are answered through the store)

    @property
    def run_id(self) -> str:
        return str(self.handle.run_id)

    @property
    def detached(self) -> bool:
        return isinstance(self.handle, RunFollower)


class RunRegistry:
    def __init__(self, ls: Server) -> None:
        self.ls = ls
        self.sessions: dict[str, RunSession] = {}
        self.closing = False
        self._last_sent: dict[str, float] = {}
        self.attaching: asyncio.Future[list[str]] | None = None  # re-attaching to runs at start-up

    async def attached(self) -> None:
        """Wait until the runs found running at start-up are followed (requests about runs see them)."""
        if self.attaching is not None and not self.attaching.done():
            await asyncio.wait([self.attaching])

    def get(self, run_id: str) -> RunSession | None:
        if run_id in self.sessions:
            return self.sessions[run_id]
        matches = [s for key, s in self.sessions.items() if key.startswith(run_id)]
        return matches[0] if len(matches) == 1 else None

    def active(self) -> list[RunSession]:
        return [s for s in self.sessions.values() if not s.handle.done]

    async def start(self, workflow: Workflow, args: Any, settings: Settings, store: RunStore | None,
                    estimate: dict[str, Any] | None, resume: ResumeCache | None = None) -> RunSession:
        handle: RunHandle | RunFollower
        # a distributed run always gets its own process: a Ray driver dies with its cluster, and the language
        # server must not
        if (settings.detach_runs or settings.executor == "distributed") and store is not None:
            from workcrew.engine.runtime.detached import launch

            reuse = resume.run_id if resume is not None else None
            run_id = await anyio.to_thread.run_sync(lambda: launch(
                workflow, args, settings, estimate=estimate, reuse_from=reuse, force=True), limiter=self.ls.limiter)
            handle = RunFollower(store, run_id)
        else:
            handle = start(workflow, args, settings, store=store, asker=self._asker, estimate=estimate,
                           resume=resume)
        expected = None
        if estimate and isinstance(estimate.get("agents"), dict):
            value = estimate["agents"].get("expected")
            expected = int(value) if isinstance(value, int | float) and value > 0 else None
        return await self._follow(handle, workflow.name, expected)

    async def attach(self, store: RunStore) -> list[str]:
        """Follow every run of this workspace that another process still owns (after the editor restarted):
        its progress, findings and quick-fixes come back. Returns the run ids attached to."""
        settings = self.ls.require_settings()
        rows = await anyio.to_thread.run_sync(lambda: store.list_runs(200), limiter=self.ls.limiter)
        attached = []
        for row in rows:
            if row["status"] != "running" or row["id"] in self.sessions:
                continue
            run = await anyio.to_thread.run_sync(store.get_run, row["id"], limiter=self.ls.limiter)
            if run is None or Path(str(run.get("workspace") or "")) != settings.workspace:
                continue
            estimate = run.get("estimate") if isinstance(run.get("estimate"), dict) else None
            expected = (estimate or {}).get("agents", {}).get("expected") if estimate else None
            await self._follow(RunFollower(store, str(row["id"])), str(row["workflow"]),
                               int(expected) if isinstance(expected, int | float) and expected > 0 else None)
            attached.append(str(row["id"]))
        return attached

    async def _follow(self, handle: RunHandle | RunFollower, workflow_name: str, expected: int | None) -> RunSession:
        session = RunSession(handle, workflow_name, expected, RunProgress(self.ls, handle.cancel))
        self.sessions[handle.run_id] = session
        if isinstance(handle, RunHandle):
            # attached before the run task first runs, so no event is missed
            handle.listen(lambda event: self._on_event(session, event))
        if self.ls.run_store is None:  # nothing to tell which findings stay open: a new run supersedes them all
            store_view = self.ls.diagnostics_store
            store_view.clear(lambda t: t.workflow != workflow_name or t.run_id == handle.run_id)
        # with a store the earlier findings stay while the run goes on; at its end only the open ones remain
        await session.progress.begin(f"Workcrew: {workflow_name}", "starting")
        session.pump = asyncio.get_running_loop().create_task(self._pump(session), name=f"pump-{handle.run_id}")
        return session

    async def _asker(self, question: str, choices: list[str] | None) -> str | None:
        try:
            answer = await self.ls.window_show_message_request_async(types.ShowMessageRequestParams(
                type=types.MessageType.Info, message=question,
                actions=[types.MessageActionItem(title=c) for c in choices or []] or None,
            ))
        except Exception:
            return None
        return getattr(answer, "title", None)

    async def _pump(self, session: RunSession) -> None:
        handle = session.handle
        ticker = asyncio.get_running_loop().create_task(self._ticker(session))
        try:
            if isinstance(handle, RunFollower):
                async for event in handle.events():  # from the store: every event since the run started
                    self._on_event(session, event)
                outcome = await handle.result()
            else:
                outcome = (await handle.result()).to_json()
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
            outcome = {"run_id": handle.run_id, "status": "cancelled"}  # the run task itself was cancelled
        except Exception as exc:  # the run's own failure is in its result; this is a bug in the engine
            log.exception("run %s", handle.run_id)
            outcome = {"run_id": handle.run_id, "status": "failed", "error": str(exc)}
        finally:
            ticker.cancel()
        session.outcome = outcome
        with anyio.CancelScope(shield=True):
            if outcome.get("status") in RECORDED_FINDINGS:  # only the open findings stay (restore.py)
                await sync_workflow(self.ls, session.workflow_name)
            await self.ls.diagnostics_store.flush(final=True)
            elapsed = time.monotonic() - session.started
            await self._update(session, final=True)
            suppressed = f", {session.suppressed} suppressed by project rules" if session.suppressed else ""
            session.progress.end(f"{outcome.get('status')}: {session.findings} findings{suppressed} in {elapsed:.1f} s")
            self.ls.protocol.notify(RUN_FINISHED, {
                "runId": handle.run_id, "workflow": session.workflow_name, "status": outcome.get("status"),
                "error": outcome.get("error"), "findings": session.findings, "suppressed": session.suppressed,
                "usage": outcome.get("usage"),
                "agents": outcome.get("agents"), "endedAt": session.ended_at,
            })

    def _on_event(self, session: RunSession, event: Event) -> None:
        """Called inside the engine's emit(): findings reach the diagnostics store the moment they are
        reported, with no queue to fall behind when a script reports thousands at once."""
        try:
            if event.type == "finding":
                finding = event.data.get("finding")
                if isinstance(finding, dict) and self.ls.diagnostics_store.add(
                        session.run_id, session.workflow_name, finding) is not None:
                    session.findings += 1
            elif event.type == "finding_suppressed":
                session.suppressed += 1
            elif event.type in AGENT_DONE:
                session.done_agents += 1
            elif event.type == "ask" and isinstance(session.handle, RunFollower):
                session.questions += 1
                asyncio.get_running_loop().create_task(self._answer(session, session.questions, event.data))
            elif event.type == "run_finished":
                session.ended_at = event.ts
                # publish now: the run still waits for its store writes, the editor need not
                session.final_flush = asyncio.get_running_loop().create_task(self.ls.diagnostics_store.flush(final=True))
            session.dirty = True
        except Exception:  # a bad finding must never break the run that reported it
            log.exception("run %s: event %s", session.run_id, event.type)

    async def _answer(self, session: RunSession, number: int, question: dict[str, Any]) -> None:
        """A followed run's ``ask()``: asked here unless it was answered already (before a restart, or in
        a terminal), and answered through the store."""
        store = session.handle.state.store
        if store is None:
            return
        found, _ = await anyio.to_thread.run_sync(controls.answered, store, session.run_id, number)
        if found:
            return
        choices = question.get("choices")
        answer = await self._asker(str(question.get("question") or ""),
                                   [str(c) for c in choices] if isinstance(choices, list) else None)
        await anyio.to_thread.run_sync(controls.answer, store, session.run_id, number, answer)

    async def _ticker(self, session: RunSession) -> None:
        while True:
            await asyncio.sleep(UPDATE_INTERVAL_S)
            # a followed run's agents change in the store's rows, between events: its view is redrawn each tick
            if session.dirty or isinstance(session.handle, RunFollower):
                await self._update(session)

    def _interval(self, session: RunSession) -> float:
        agents = len(session.handle.state.agents)
        return min(MAX_UPDATE_INTERVAL_S, max(UPDATE_INTERVAL_S, UPDATE_INTERVAL_S * agents / AGENTS_PER_INTERVAL))

    async def _update(self, session: RunSession, *, final: bool = False) -> None:
        """Send the run tree and the progress line, never more often than every 250 ms."""
        interval = UPDATE_INTERVAL_S if final else self._interval(session)
        wait = interval - (time.monotonic() - self._last_sent.get(session.run_id, 0.0))
        if wait > 0:
            if not final:
                return
            await asyncio.sleep(wait)
        session.dirty = False
        self._last_sent[session.run_id] = time.monotonic()
        tree = placed(session.handle, session.handle.tree())  # with the executor, when distributed
        if isinstance(session.handle, RunFollower):  # its agents' ends are in the rows, not in events
            session.done_agents = session.handle.done_agents
        self.ls.protocol.notify(RUN_UPDATE, {"runId": session.run_id, "tree": slim(tree)})
        usage = tree.get("usage") or {}
        tokens = int(usage.get("input_tokens", 0)) + int(usage.get("output_tokens", 0))
        expected = max(session.expected_agents or 0, tree.get("counts", {}).get("launched", 0)) or None
        agents = f"{session.done_agents}/{expected}" if expected else f"{session.done_agents}"
        percentage = min(100, int(100 * session.done_agents / expected)) if expected else None
        session.progress.report(
            f"{agents} agents · {tokens:,} tokens · ${float(usage.get('cost_usd', 0)):.4f}"
            + (f" · {session.findings} findings" if session.findings else ""), percentage)

    async def shutdown(self, timeout: float = 5.0) -> None:
        """Stop following (the client is going away): runs in their own process go on; runs inside this one
        are cancelled and recorded as interrupted."""
        self.closing = True
        running = [s for s in self.active() if isinstance(s.handle, RunHandle)]
        for session in self.active():
            if isinstance(session.handle, RunFollower) and session.pump is not None:
                session.pump.cancel()
        for session in running:
            handle = session.handle
            assert isinstance(handle, RunHandle)
            if not handle.state.cancelled:  # a second cancel would interrupt the run's own cleanup
                handle.cancel()
        for session in running:
            handle = session.handle
            assert isinstance(handle, RunHandle)
            try:
                with anyio.fail_after(timeout):
                    await handle.result()
            except BaseException as exc:
                log.info("run %s ended on shutdown: %r", session.run_id, exc)
            store = handle.state.store
            if store is not None:
                store.update_run(session.run_id, status="interrupted",
                                 error="interrupted: the language server shut down")
        pumps = [s.pump for s in self.sessions.values() if s.pump is not None and not s.pump.done()]
        if pumps:  # their last notifications go out before the shutdown response
            await asyncio.wait(pumps, timeout=timeout)
        stores = {s.handle.state.store for s in running if s.handle.state.store is not None}
        for store in stores:
            await anyio.to_thread.run_sync(store.flush)


def slim(tree: dict[str, Any]) -> dict[str, Any]:
    """The run tree for the editor: every phase and agent, with the fields a tree view shows."""
    phases = []
    for phase in tree.get("phases", []):
        agents = [{k: agent.get(k) for k in TREE_AGENT_FIELDS} for agent in phase.get("agents", [])]
        phases.append({**phase, "agents": agents})
    return {**tree, "phases": phases}


def mark_abandoned(registry: RunRegistry, reason: str = "the editor disconnected") -> None:
    """After the connection dropped without ``shutdown`` (the editor crashed, the server got SIGTERM): the
    event loop is gone and its teardown cancelled the runs; record the ones the user did not cancel as
    interrupted, with ``reason``."""
    stores = set()
    for session in registry.sessions.values():
        if isinstance(session.handle, RunFollower):
            continue  # its own process owns it: it goes on
        store = session.handle.state.store
        status = (session.outcome or {}).get("status")
        if store is None or session.handle.state.cancelled or status in ("succeeded", "failed"):
            continue
        store.update_run(session.run_id, status="interrupted", error=f"interrupted: {reason}")
        stores.add(store)
    for store in stores:
        store.flush()
