"""Starting a run and controlling it: ``start(workflow, args, settings) -> RunHandle``."""

from __future__ import annotations

import asyncio
import json
import secrets
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from ..agents.catalog import AgentCatalog
from ..cost.budget import Budget
from ..errors import ScriptError, describe_failure, leaf_error
from ..executors import LocalExecutor, executor_for
from ..providers.base import ModelClient
from ..providers.factory import make_client
from ..redaction import KNOWN
from ..results.report import write_report  # imported with the engine: not inside the first run's measured end
from ..results.tracking import FinishedRun, run_scope, track
from ..schema import to_jsonable
from ..settings import Settings
from ..store import RunStore, StoreError, owner
from ..workflows.workflow import Workflow
from .context import ScriptContext
from .events import Event
from .project_rules import load_for_run
from .resume import ResumeCache
from .scripthost import process as scripthost
from .state import Asker, EnvironmentFactory, RunState
from .tracing import trace_run


@dataclass
class RunResult:
    run_id: str
    status: str  # succeeded | failed | cancelled
    result: Any = None
    error: str | None = None
    agents: dict[str, int] = field(default_factory=dict)
    usage: dict[str, Any] = field(default_factory=dict)
    duration_s: float = 0.0
    logs: list[str] = field(default_factory=list)
    failure_reasons: dict[str, int] = field(default_factory=dict)
    findings: int = 0
    report_path: str | None = None  # <state_dir>/runs/<run_id>/report.md once written
    # fan-out slots that failed because script code threw (not a failed agent): how many, and why
    script_failures: int = 0
    script_failure_reasons: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        agents = {k: self.agents.get(k, 0) for k in ("launched", "succeeded", "failed", "cached")}
        return {
            "run_id": self.run_id, "status": self.status, "result": self.result, "error": self.error,
            "agents": agents, "usage": self.usage, "duration_s": round(self.duration_s, 3), "logs": self.logs,
            "failure_reasons": self.failure_reasons, "findings": self.findings, "report": self.report_path,
            "script_failures": {"count": self.script_failures, "reasons": self.script_failure_reasons},
        }


def new_run_id() -> str:
    return "wf_" + secrets.token_hex(6)


class RunHandle:
    """A run in progress: watch its events, pause, resume, cancel, skip or restart agents, await the result."""

    def __init__(self, state: RunState, workflow: Workflow, args: Any) -> None:
        self.state = state
        self.workflow = workflow
        self.args = args
        self.run_id = state.run_id
        self._task: asyncio.Task[RunResult] | None = None
        self._stopping: asyncio.Task[None] | None = None
        self._controls: asyncio.Task[None] | None = None

    def events(self, *, replay: bool = True) -> AsyncIterator[Event]:
        return self.state.bus.subscribe(replay=replay)

    async def result(self) -> RunResult:
        assert self._task is not None
        return await asyncio.shield(self._task)

    @property
    def done(self) -> bool:
        return self._task is not None and self._task.done()

    def cancel(self) -> None:
        """Cancel the run; a second call is ignored so it cannot interrupt the run's own cleanup."""
        if self.state.cancelled:
            return
        self.state.cancelled = True
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def _stop_script(self) -> None:
        """The circuit breaker tripped (``RunState.stop``): agents in flight finish (their results are kept,
        billed once), none starts, then the script is ended; the run ends ``stopped``."""
        self._stopping = asyncio.get_running_loop().create_task(self._end_when_settled())

    async def _end_when_settled(self) -> None:
        while any(record.state == "running" for record in self.state.agents.values()):
            await asyncio.sleep(0.05)
        if self._task is not None and not self._task.done() and not self.state.cancelled:
            self._task.cancel()

    def listen(self, callback: Callable[[Event], None]) -> None:
        """Call ``callback`` synchronously for every later event (for consumers that must never lag)."""
        self.state.bus.listen(callback)

    def pause(self) -> None:
        self.state.scheduler.pause()
        self.state.emit("run_paused")

    def resume(self) -> None:
        self.state.scheduler.resume()
        self.state.emit("run_resumed")

    @property
    def paused(self) -> bool:
        return self.state.scheduler.paused

    def skip(self, agent_id: str) -> bool:
        record = self.state.agents.get(agent_id)
        if record is None or record.interrupt is None:
            return False
        record.skip_requested = True
        record.interrupt()
        return True

    def restart(self, agent_id: str) -> bool:
        record = self.state.agents.get(agent_id)
        if record is None or record.interrupt is None:
            return False
        record.restart_requested = True
        record.interrupt()
        return True

    def tree(self) -> dict[str, Any]:
        tree = self.state.tree()
        tree["workflow"] = self.workflow.name
        tree["status"] = "paused" if self.paused else ("running" if not self.done else self._final_status())
        return tree

    def _final_status(self) -> str:
        if self._task is None or self._task.cancelled():
            return "cancelled"
        return self._task.result().status if self._task.exception() is None else "failed"


def start(
    workflow: Workflow,
    args: Any = None,
    settings: Settings | None = None,
    *,
    client: ModelClient | None = None,
    store: RunStore | None = None,
    asker: Asker | None = None,
    environment: EnvironmentFactory | None = None,
    run_id: str | None = None,
    estimate: dict[str, Any] | None = None,
    resume: ResumeCache | None = None,
) -> RunHandle:
    """Start ``workflow`` in the running event loop and return its handle at once.

    With ``resume`` (``ResumeCache.load(store, earlier_run_id, settings=settings)``), agents whose calls
    match finished agents of the earlier run (and whose reads are unchanged) are served from its results,
    in any order, each once (see ``resume.py``).
    Raises :class:`ScriptError` before anything is spent when the script has problems.
    """
    settings = settings or Settings()
    if workflow.problems:
        raise ScriptError(workflow.problems)
    workflow.compiled()  # problems surface here, before anything is spent
    client = client or make_client(settings)
    budget = Budget(settings.budget_tokens, settings.budget_usd)
    executor = executor_for(settings) if environment is None else LocalExecutor()  # a dry run brings its own
    state = RunState(run_id or new_run_id(), settings, client, store, budget, asker,
                     environment or executor.environment)
    state.executor = executor
    state.resume = resume
    def warn(mark: float, message: str) -> None:
        state.emit("budget_warning", fraction=mark, message=message, spent_tokens=budget.spent_tokens,
                   spent_usd=round(budget.spent_usd, 6))

    budget.on_warning = warn
    if store is not None:
        store.create_run(
            id=state.run_id, workflow=workflow.name,
            description=workflow.meta.description if workflow.meta else None,
            script_path=str(workflow.path) if workflow.path else None, script_source=workflow.source,
            dialect=workflow.dialect, workspace=str(settings.workspace), args=to_jsonable(args), status="running",
            created_at=time.time(), provider=settings.provider,
            settings=json.loads(settings.model_dump_json()), budget_tokens=settings.budget_tokens,
            budget_usd=settings.budget_usd, estimate=estimate, owner=owner.this_process(),
        )
    for warning in workflow.warnings:  # what the script asks for that is ignored: said once, not dropped
        if warning.rule != "agent-option":  # those are said when the call is made (options may be built then)
            state.warn_once(warning.message, f"{warning.line}:{warning.col}: {warning.message}")
    if resume is not None:
        stale = (f"; {resume.stale} of its finished agents read files that have changed since and run again"
                 if resume.stale else "")
        state.log(f"reusing {resume.run_id}: calls that match its finished agents take their results{stale}")
    trace_run(state)  # spans to an OTLP collector when one is configured (tracing.py); nothing otherwise
    handle = RunHandle(state, workflow, args)
    loop = asyncio.get_running_loop()
    handle._task = loop.create_task(_drive(handle), name=f"workcrew-run-{state.run_id}")
    state.on_stop = handle._stop_script
    if store is not None:  # `workcrew stop|pause|resume ID` from another process reach the run through the store
        handle._controls = loop.create_task(_watch_controls(handle, store), name=f"workcrew-controls-{state.run_id}")
    return handle


CONTROL_POLL_S = 0.25


async def _watch_controls(handle: RunHandle, store: RunStore) -> None:
    """Act on the control requests other processes leave for this run (``store/controls.py``)."""
    from ..store import controls

    while not handle.done:
        await asyncio.sleep(CONTROL_POLL_S)
        for action, reason in await anyio.to_thread.run_sync(controls.take, store, handle.run_id):
            handle.state.log(f"control: {action} requested{f' ({reason})' if reason else ''}")
            if action == "stop":
                handle.state.stop(reason or "stopped by the user")
            elif action == "cancel":
                handle.cancel()
            elif action == "pause":
                handle.pause()
            elif action == "resume":
                handle.resume()


async def _drive(handle: RunHandle) -> RunResult:
    state = handle.state
    workflow = handle.workflow
    context = ScriptContext(state, workflow, handle.args)
    state.emit("run_started", workflow=workflow.name,
               phases=[p.title for p in (workflow.meta.phases if workflow.meta else [])],
               description=workflow.meta.description if workflow.meta else "")
    status, result, error = "succeeded", None, None
    try:
        # learn the values in the workspace's secret files before any agent can send text to a model
        settings = state.settings
        KNOWN.learn_environment()
        await anyio.to_thread.run_sync(KNOWN.learn_workspace, settings.workspace, settings.secret_patterns)
        # the agent types and skills its agents may use, read once and off the event loop
        state.catalog = await anyio.to_thread.run_sync(AgentCatalog.load, settings.workspace)
        await load_for_run(state)  # the project's review rules (.claude/workcrew-rules.md), likewise
        value = await _with_executor(state, lambda: _with_mcp_servers(
            state, lambda: scripthost.execute(context, workflow, handle.args)))
        result = to_jsonable(value)
    except asyncio.CancelledError:
        status, error = "cancelled", "cancelled by the user"
        if state.stopped_because is not None and not state.cancelled:
            status, error = "stopped", state.stopped_because
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # the script's own error, possibly wrapped by a task group
        status, error = "failed", describe_failure(exc, workflow.display_path)
        if state.cancelled and leaf_error(exc) is None:
            status, error = "cancelled", "cancelled by the user"
    if status != "cancelled" and state.stopped_because is not None:
        # the script may have ended on its own before the stop reached it: the run still stopped short
        status, error = "stopped", state.stopped_because
    return await _finish(handle, status, result, error)


async def _with_executor(state: RunState, execute: Callable[[], Awaitable[Any]]) -> Any:
    """Run the script with its executor ready (a distributed one connects and ships the workspace snapshot
    first) and released afterwards, whatever happened."""
    executor = state.executor
    await executor.start(state)
    capacity = executor.capacity()
    if capacity is not None and capacity < state.settings.concurrency:
        state.log(f"concurrency {state.settings.concurrency} is more than the {capacity} slots of the "
                  f"{executor.name} executor's workers: at most {capacity} agents run at once")
        state.scheduler.cap(capacity)
    try:
        return await execute()
    finally:
        with anyio.CancelScope(shield=True):
            await executor.close()


async def _with_mcp_servers(state: RunState, execute: Callable[[], Awaitable[Any]]) -> Any:
    """Run the script (``execute``: in its confined child process) with the project's MCP servers at hand
    when it has a ``.mcp.json``: none starts before an agent that is allowed its tools asks, each starts at
    most once a run, and every one is stopped when the run ends."""
    if not (state.settings.workspace / ".mcp.json").is_file():
        return await execute()
    from ..agents.mcp import McpServers

    async with McpServers(state.settings, approved=state.settings.mcp_approved, log=state.log) as servers:
        state.mcp = servers
        try:
            return await execute()
        finally:
            state.mcp = None


async def _finish(handle: RunHandle, status: str, result: Any, error: str | None) -> RunResult:
    state = handle.state
    if handle._controls is not None:
        handle._controls.cancel()
    duration = time.time() - state.started
    if state.resume is not None:
        resume = state.resume
        live = (f"; {resume.live} ran live (new or changed calls, changed reads, or ones that had not finished)"
                if resume.live else "")
        replayed = f"; {resume.replayed} check()/ask() results replayed" if resume.replayed else ""
        state.log(f"resume: {resume.served} agents reused from {resume.run_id}{live}{replayed}")
    result, error = KNOWN.redact_value(result), KNOWN.redact(error) if error else error
    outcome = RunResult(
        run_id=state.run_id, status=status, result=result, error=error, agents=state.counts(),
        usage=state.usage_view(), duration_s=duration, logs=[KNOWN.redact(line) for line in state.logs],
        failure_reasons=dict(state.failure_reasons), findings=len(state.findings),
        script_failures=state.script_failures, script_failure_reasons=list(state.script_failure_reasons),
    )
    if state.unfinished:
        # agents stopped with the run: record why instead of leaving them "running" forever
        reason = "cancelled with the run" if status == "cancelled" else "stopped: the run ended"
        for record in state.agents.values():
            if record.state == "queued" and status == "stopped":  # never started: nothing was spent on it
                record.state, record.error_kind = "not_started", "not_started"
                record.error = f"not started: the run stopped ({state.stopped_because})"
                state.not_started += 1
            elif record.state in ("queued", "running"):
                record.state = "cancelled"
                record.error = reason
                record.error_kind = "cancelled"
            else:
                continue
            record.finished_at = time.time()
            state.save_agent(record, "state", "error", "error_kind", "finished_at")
        outcome.agents = state.counts()
        if state.unfinished:
            outcome.agents["unfinished"] = state.unfinished
    state.emit("run_finished", status=status, error=error, agents=outcome.agents, usage=outcome.usage,
               duration_s=round(duration, 3))
    store = state.store
    if store is not None:
        with anyio.CancelScope(shield=True):  # queued before the final status: a follower sees both at once
            await _track_findings(handle, store, outcome)
        store.update_run(
            state.run_id, status=status, finished_at=time.time(), result=result, error=error,
            launched=state.launched, succeeded=state.succeeded, failed=state.failed, cached=state.cached,
            cost_usd=state.cost_usd, **state.usage.to_dict(),
        )
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(_record, store, outcome)
    state.bus.close()
    return outcome


async def _track_findings(handle: RunHandle, store: RunStore, outcome: RunResult) -> None:
    """Open the findings the run reported and close the earlier ones it shows fixed (``results/tracking.py``):
    one batch for the store's writer, made in a worker thread (it reads the files), skipped when there is
    nothing to do."""
    state = handle.state
    scope = run_scope(outcome.result, handle.args, state.failed) if outcome.status == "succeeded" else None
    if not state.findings and scope is None:
        return
    run = FinishedRun(state.run_id, handle.workflow.name, state.settings.workspace, outcome.status,
                      list(state.findings.values()), scope)
    store.write_soon()  # the run's end (its run_finished event) reaches followers while the states are made
    try:
        await anyio.to_thread.run_sync(track, store, run)
    except Exception as exc:  # the run's outcome stands; what is missing is said in its log
        message = f"findings: could not record which are open or fixed: {type(exc).__name__}: {exc}"
        outcome.logs.append(message)
        store.add_log(state.run_id, len(state.logs) + 1, message)


def _record(store: RunStore, outcome: RunResult) -> None:
    """Wait for the store to hold the whole run, then write report.md from it (in a worker thread).

    Neither problem fails the run: the result is still returned, and the user learns what is missing.
    """
    try:
        store.flush()
    except StoreError as exc:
        # the record is incomplete (disk full, an I/O error): the run fails loudly, never "succeeded" over it,
        # and its whole result is kept in a file as well as returned
        saved = _save_result(store, outcome)
        where = f"the full result was saved to {saved}" if saved else "the full result could not be saved to a file"
        outcome.error = (f"{outcome.error + '; ' if outcome.error else ''}the run store could not record "
                         f"everything ({exc}); {where}")
        if outcome.status == "succeeded":
            outcome.status = "failed"
        store.update_run(outcome.run_id, status=outcome.status, error=outcome.error)
        outcome.logs.append(f"store: {outcome.error}")
    try:
        outcome.report_path = str(write_report(store, outcome.run_id))
    except Exception as exc:
        outcome.logs.append(f"report: could not write report.md: {type(exc).__name__}: {exc}")


def _save_result(store: RunStore, outcome: RunResult) -> str | None:
    """Write the run's result as JSON beside the store, or in the system's temp folder when the state
    folder cannot take it (it is the folder that is full); the path, or None when neither could."""
    text = json.dumps(outcome.to_json(), default=str)
    for folder in (store.state_dir / "runs" / outcome.run_id, Path(tempfile.gettempdir())):
        path = folder / (f"result-{outcome.run_id}.json" if folder.name != outcome.run_id else "result.json")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return str(path)
        except OSError:
            continue
    return None
