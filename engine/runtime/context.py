"""The parent's side of the primitives a script calls: agent, phase, log, workflow, check, report, ask.

The script runs in the script host child (``engine/scripthost``); its calls arrive here. ``parallel`` and
``pipeline`` run in the child (``scripthost/fanout.py``).
"""

from __future__ import annotations

import asyncio
import time
from functools import partial
from typing import Any

import anyio

from ..agents.loop import AgentSpec, run_agent
from ..cost.budget import ScriptBudget
from ..cost.pricing import Usage, price_of
from ..errors import AgentFailed, BudgetExceeded, LimitExceeded, ScriptError, UsageError, WorkcrewError
from ..executors import WorkerLost
from ..providers.web import web_tools_from_names
from ..results.findings import Patch, make_finding
from ..schema import ResultSchema, to_jsonable
from ..text import wellformed
from ..workflows.workflow import Workflow
from .agent_setup import setup_agent
from .lost_workers import LOST_RETRIES, requeue_lost
from .project_rules import suppressed
from .resume import ask_key, call_key, check_key, workspace_fingerprint
from .routing import infer_role, route_model
from .scheduler import Handover
from .scripthost.fanout import AgentDict, AgentText, note_agent_failure
from .state import AgentRecord, RunState


def _interrupt(scope: asyncio.Timeout, loop: asyncio.AbstractEventLoop) -> None:
    scope.reschedule(loop.time())  # expires at the next loop step: the agent's attempt ends as a timeout would


class ScriptContext:
    """One workflow level (the run's script, or a child started by ``workflow()``)."""

    def __init__(self, state: RunState, workflow: Workflow, args: Any, *, depth: int = 0) -> None:
        self.state = state
        self.workflow = workflow
        self.args = args
        self.depth = depth
        self.current_phase: str | None = None
        self.prefix = f"[{workflow.name}] " if depth else ""
        self.group = f"▸ {workflow.name}" if depth else None
        self.budget = ScriptBudget(state.budget)
        self.phase_models: dict[str, str] = {}  # phase(title, {model}) overrides

    def print(self, *values: Any, sep: str = " ", end: str = "") -> None:
        self.log(sep.join(str(v) for v in values))

    # -- display ---------------------------------------------------------------------------------

    def phase(self, title: str, options: Any = None) -> None:
        """Start a progress group. ``options`` (e.g. ``{"detail": ..., "model": ...}``) is recorded with it;
        its ``model`` is the default for the phase's agents where ``meta.phases`` names none."""
        self.state.ensure_alive()
        if self.depth:
            return  # a child's agents group under "▸ name"
        title = str(title)
        self.current_phase = title
        if title not in self.state.phases:
            self.state.phases.append(title)
        if options is None:
            self.state.emit("phase_started", title=title)
            return
        options = to_jsonable(options)
        if isinstance(options, dict) and isinstance(options.get("model"), str):
            self.phase_models[title] = options["model"]
        detail = options.get("detail") if isinstance(options, dict) else None
        self.state.emit("phase_started", title=title, options=options,
                        **({"detail": str(detail)} if detail is not None else {}))

    def log(self, message: Any) -> None:
        self.state.ensure_alive()
        self.state.log(self.prefix + str(message))

    # -- agents ----------------------------------------------------------------------------------

    async def agent(
        self,
        prompt: str,
        *,
        schema: Any = None,
        label: str | None = None,
        phase: str | None = None,
        model: str | None = None,
        effort: str | None = None,
        isolation: str | None = None,
        agent_type: str | None = None,
        timeout: float | None = None,
        tools: Any = None,
    ) -> Any:
        state = self.state
        state.ensure_alive()
        if not isinstance(prompt, str) or not prompt.strip():
            raise TypeError("agent() needs a non-empty prompt string")
        # the API and the store take UTF-8 only: a lone surrogate becomes U+FFFD
        prompt = wellformed(prompt)
        label = wellformed(label) if isinstance(label, str) else label
        phase = wellformed(phase) if isinstance(phase, str) else phase
        if isolation not in (None, "worktree"):
            raise ValueError(f"isolation must be None or 'worktree', not {isolation!r}")
        if effort not in (None, "low", "medium", "high", "xhigh", "max"):
            raise ValueError(f"effort must be one of low, medium, high, xhigh, max, not {effort!r}")
        result_schema = ResultSchema(schema) if schema is not None else None
        if state.launched >= state.settings.max_agents:
            raise LimitExceeded(
                f"agent() was called more than {state.settings.max_agents} times in this run (the lifetime cap). "
                "A loop on budget.remaining() without a budget runs until this cap: give the run a budget or "
                "bound the loop."
            )
        group = phase or self.group or self.current_phase
        # agent type, tools, skills: an unknown type or tool raises here, before anything is launched
        setup = setup_agent(state, self.workflow.meta, agent_type=agent_type, tools=tools, isolation=isolation,
                            prompt=prompt)
        role = infer_role(agent_type, group, label)
        model_id = route_model(state.settings, self.workflow.meta, explicit=model, phase=group, role=role,
                               phase_model=self.phase_models.get(group) if group and self.phase_models else None,
                               type_model=setup.model)
        price_of(model_id)  # unknown model: fail loudly here rather than cost $0 later
        key = call_key(prompt, schema=result_schema.canonical if result_schema else None, model=model_id,
                       effort=effort, isolation=isolation, agent_type=agent_type, tools=setup.tools,
                       definition=setup.definition_digest, skills=setup.skills.digest, rules=setup.rules_digest)
        state.launched += 1
        record = AgentRecord(
            id=f"a{state.launched:04d}", seq=state.launched, label=label, phase=group, role=role,
            agent_type=agent_type, model=model_id, prompt=prompt, isolation=isolation, key=key,
            tools=setup.tools, skills=setup.skills,
        )
        state.agents[record.id] = record
        earlier = state.resume.take(key) if state.resume is not None else None
        if earlier is not None:
            return self._from_earlier_run(record, result_schema, earlier)
        state.save_agent(record)
        state.emit("agent_queued", agent=record.view())
        spec = AgentSpec(
            prompt=prompt, model=model_id, label=label, schema=result_schema, effort=effort, agent_type=agent_type,
            max_tokens=state.settings.max_tokens, max_turns=state.settings.max_turns,
            schema_attempts=state.settings.schema_attempts, retries=state.settings.api_retries,
            tools=setup.tools, system_extra=setup.system_extra,
            web=web_tools_from_names(setup.tools, state.settings),  # off unless WebSearch / WebFetch is given
        )
        return await self._execute(record, spec, timeout if timeout is not None else state.settings.agent_timeout_s)

    def _from_earlier_run(self, record: AgentRecord, schema: ResultSchema | None, earlier: dict[str, Any]) -> Any:
        """Serve a resumed run's agent from the earlier run's result: no model call, no cost."""
        state = self.state
        assert state.resume is not None
        value = earlier.get("result")
        if schema is not None:
            value, _ = schema.validate(value)  # a pydantic schema gets its model back (the key holds the schema)
        record.state = "cached"
        record.started_at = record.finished_at = time.time()
        record.patch = Patch.model_validate(earlier["patch"]) if earlier.get("patch") else None
        state.cached += 1
        state.save_agent(record)
        if state.store is not None:
            state.store.upsert_agent(state.run_id, record.id, started_at=record.started_at,
                                     finished_at=record.finished_at, result=earlier.get("result"),
                                     patch=earlier.get("patch"), reads=earlier.get("reads"))
        state.emit("agent_cached", agent=record.view(), resumed_from=state.resume.run_id)
        return self._value(record, value)

    async def _execute(self, record: AgentRecord, spec: AgentSpec, timeout: float) -> Any:
        state = self.state
        while True:
            outcome = None
            failure: AgentFailed | None = None
            lost: WorkerLost | None = None
            await state.scheduler.acquire()
            try:
                state.ensure_alive()
                if state.stopped_because is not None:  # the run stopped while this agent waited: it never starts
                    return self._not_started(record)
                record.state = "running"
                record.started_at = time.time()
                record.restart_requested = False
                record.attempt_usage = None
                # told once the model call is made, or just after the end of the agent whose slot this was
                # when that one has not told it yet (see Scheduler.hand_over); anything else this agent
                # tells comes after its start
                started = state.scheduler.tell_start(partial(self._started, record))
                # one scope serves the per-agent timeout (its deadline) and skip/restart (an early deadline);
                # asyncio's own rather than anyio's: its enter and exit sit on every agent's critical path
                loop = asyncio.get_running_loop()
                deadline = loop.time() + timeout
                scope = asyncio.timeout_at(deadline)
                try:
                    async with scope:
                        record.interrupt = partial(_interrupt, scope, loop)
                        environment = None
                        try:
                            environment = await state.environment(state, record)
                            toolbox = await self._with_mcp(environment.toolbox, spec, deadline, loop)
                            outcome = await run_agent(
                                state.client, spec, tools=toolbox,
                                budget=state.budget if state.budget.limited else None,
                                on_progress=partial(self._progress, record, started=started),
                                on_rate_limit=state.scheduler.on_rate_limit,
                            )
                            record.patch = await environment.finish(True)
                            record.reads = getattr(environment.toolbox, "reads", None) or None  # {}: read nothing
                        except WorkerLost as exc:  # the agent's tools went with their worker: run it elsewhere
                            lost = exc
                        except AgentFailed as exc:
                            failure = exc
                        except TimeoutError as exc:  # a timeout inside the provider or a tool
                            failure = AgentFailed(f"timed out: {exc}" if str(exc) else "timed out", kind="timeout")
                        except WorkcrewError as exc:
                            failure = AgentFailed(str(exc), kind="error")
                        except Exception as exc:  # an engine or SDK bug must still end as a counted failure
                            failure = AgentFailed(f"internal error: {type(exc).__name__}: {exc}", kind="error")
                        finally:
                            if outcome is None and environment is not None:
                                with anyio.CancelScope(shield=True):
                                    await environment.finish(False)
                except TimeoutError:
                    if not scope.expired():
                        raise
                record.interrupt = None
                started.settle()
                if lost is not None and not scope.expired():
                    if requeue_lost(state, record, lost):
                        continue
                    failure = AgentFailed(f"{lost}; it was run {LOST_RETRIES + 1} times", kind="error")
                if scope.expired():
                    if record.restart_requested:
                        record.state = "queued"
                        record.skip_requested = False
                        state.emit("agent_queued", agent=record.view(), restarted=True)
                        continue
                    if record.skip_requested or loop.time() < deadline:
                        failure = AgentFailed("skipped by the user", kind="skipped")
                    else:
                        failure = AgentFailed(f"timed out after {timeout:g} s", kind="timeout")
                if failure is not None:
                    return self._fail(record, outcome, failure)
                # the end of a success is told just after the slot is handed over, so that the agent getting
                # it reaches its model call first (see Scheduler.hand_over)
                handover = state.scheduler.hand_over(partial(self._succeed, record, outcome))
            finally:
                state.scheduler.release()
            try:
                # the agent that got the slot runs in the next loop step; this one's bookkeeping waits one
                # more, so that the other slots freed in the same step start their model calls first too
                await asyncio.sleep(0)
                await asyncio.sleep(0)
            finally:  # even when the run is cancelled right here: the agent did succeed
                handover.settle()
                self._store_result(record, outcome)
            assert outcome is not None  # no failure, so the agent loop returned one
            return self._value(record, outcome.value)

    async def _with_mcp(self, toolbox: Any, spec: AgentSpec, deadline: float,
                        loop: asyncio.AbstractEventLoop) -> Any:
        """The agent's toolbox, plus the tools of the MCP servers it is allowed (``mcp__SERVER[__TOOL]``):
        their servers start now if this run has not started them yet; one that cannot fails this agent only
        (``McpUnavailable`` is an ``AgentFailed``)."""
        state = self.state
        if state.mcp is None or toolbox is None or not any(name.startswith("mcp__") for name in spec.tools):
            return toolbox
        from ..agents.mcp_tools import McpTools, WithMcp

        mcp = McpTools(state.mcp, spec.tools, on_call=lambda call: state.log(call.describe()))
        return WithMcp(toolbox, mcp, await mcp.definitions(), lambda: deadline - loop.time())

    def _started(self, record: AgentRecord) -> None:
        self.state.save_agent(record, "state", "started_at")
        self.state.emit("agent_started", agent=record.view())

    def _progress(self, record: AgentRecord, data: dict[str, Any], *, started: Handover | None = None) -> None:
        if started is not None:
            started.settle()
        if "tool" in data:
            record.tool_calls += 1
            record.last_tool = str(data["tool"])
        if "turn" in data:
            record.turns = int(data["turn"])
        if "usage" in data:
            record.attempt_usage = data["usage"]
        self.state.emit("agent_progress", agent=record.view(), **{k: v for k, v in data.items() if k != "usage"})

    def _account(self, record: AgentRecord, outcome: Any) -> None:
        state = self.state
        record.finished_at = time.time()
        if outcome is not None:
            record.usage = outcome.usage
            if record.lost_usage is not None:  # attempts lost with their worker are part of what it cost
                record.usage = Usage()
                record.usage.add(outcome.usage)
                record.usage.add(record.lost_usage)
            record.attempts = outcome.attempts
            record.retries = outcome.retries
            record.turns = outcome.turns
            record.tool_calls = outcome.tool_calls
            record.last_tool = outcome.last_tool
            record.citations = outcome.citations or None  # web research
            price = price_of(record.model)
            record.cost_usd = price.cost(record.usage)
            state.usage.add(outcome.usage)
            state.cost_usd += price.cost(outcome.usage)  # lost attempts were added when they were lost
            if not state.budget.limited:
                # without limits no turn is reserved; budget.spent() in scripts must still report usage
                state.budget.charge(record.model, outcome.usage)
        elif record.lost_usage is not None:
            record.usage = record.lost_usage
            record.cost_usd = price_of(record.model).cost(record.usage)

    def _fail(self, record: AgentRecord, outcome: Any, failure: AgentFailed) -> None:
        state = self.state
        self._account(record, outcome)
        record.state = "skipped" if failure.kind == "skipped" else "failed"
        record.error = failure.reason
        record.error_kind = failure.kind
        state.failed += 1
        state.failure_reasons[failure.kind] = state.failure_reasons.get(failure.kind, 0) + 1
        state.save_agent(record, "state", "finished_at", "error", "error_kind", "usage", "cost_usd",
                         "attempts", "retries", "turns", "tool_calls", "last_tool")
        state.emit("agent_failed", agent=record.view())
        note_agent_failure(f"{record.label or record.id}: {failure.reason}")
        if failure.kind == "stopped":
            state.stop(failure.reason)
        if failure.kind == "budget":
            raise BudgetExceeded(failure.reason)

    def _not_started(self, record: AgentRecord) -> None:
        """An agent the stopped run never started: counted as such, never billed."""
        state = self.state
        record.state = "not_started"
        record.error = f"not started: the run stopped ({state.stopped_because})"
        record.error_kind = "not_started"
        record.finished_at = time.time()
        state.not_started += 1
        state.save_agent(record, "state", "finished_at", "error", "error_kind")
        state.emit("agent_failed", agent=record.view(), not_started=True)
        note_agent_failure(f"{record.label or record.id}: {record.error}")

    def _succeed(self, record: AgentRecord, outcome: Any) -> None:
        state = self.state
        self._account(record, outcome)
        record.state = "succeeded"
        state.succeeded += 1
        state.scheduler.on_success()
        state.emit("agent_finished", agent=record.view())

    @staticmethod
    def _value(record: AgentRecord, value: Any) -> Any:
        if record.patch is not None:
            if isinstance(value, str):
                value = AgentText(value)
            elif isinstance(value, dict):
                value = AgentDict(value)
            if isinstance(value, AgentText | AgentDict):
                value.patch = record.patch
                value.agent_id = record.id
        return value

    def _store_result(self, record: AgentRecord, outcome: Any) -> None:
        """The succeeded agent's row; the writer thread merges it with the queued updates of the same agent."""
        state = self.state
        if state.store is not None:
            state.store.upsert_agent(
                state.run_id, record.id, state="succeeded", finished_at=record.finished_at,
                result=to_jsonable(outcome.value), patch=record.patch.model_dump() if record.patch else None,
                reads=record.reads,
                cost_usd=record.cost_usd, attempts=record.attempts, retries=record.retries, turns=record.turns,
                tool_calls=record.tool_calls, last_tool=record.last_tool, **record.usage.to_dict(),
                citations=record.citations,  # web research
            )

    # -- nesting -----------------------------------------------------------------------------------

    def open_workflow(self, name_or_path: str, args: Any = None) -> ScriptContext:
        """A child workflow's context (``workflow(name, args)``): resolved, checked and announced here; the
        script host runs its script at the next level."""
        self.state.ensure_alive()
        if self.depth >= 1:
            raise LimitExceeded(
                "workflow() nests only one level: this workflow was itself started by workflow(). "
                "Inline the inner workflow's steps instead."
            )
        from ..workflows.discovery import resolve

        child = resolve(str(name_or_path), self.state.settings.workspace)
        if child.problems:
            raise ScriptError(child.problems)
        for warning in child.warnings:  # e.g. meta keys the child declares that are ignored
            if warning.rule != "agent-option":
                self.state.warn_once(warning.message, f"[{child.name}] {warning.line}:{warning.col}: {warning.message}")
        self.state.log(f"workflow {child.name} started")
        return self.child(child, args)

    def child(self, workflow: Workflow, args: Any) -> ScriptContext:
        return ScriptContext(self.state, workflow, args, depth=self.depth + 1)

    # -- beyond Claude Code's set --------------------------------------------------------------------

    async def check(self, command: str | list[str], *, cwd: str | None = None, timeout: float = 600,
                    isolation: Any = None) -> dict[str, Any]:
        """Run an allowlisted command (the tests, a linter) and return its exit code and output."""
        self.state.ensure_alive()
        settings = self.state.settings
        from .. import commands
        from ..agents.isolation import confine

        try:
            argv = commands.split(command) if isinstance(command, str) else [str(a) for a in command]
        except ValueError as exc:
            raise UsageError(f"check(): the command cannot be split into arguments ({exc})") from None
        if not argv:
            raise UsageError("check() needs a command")
        await anyio.to_thread.run_sync(commands.sandbox_status)  # probes bubblewrap once, off the event loop
        why = commands.refusal(argv, settings, settings.workspace, confine(settings.workspace, cwd))
        if why is not None:
            raise UsageError(why)
        # a check that ran in the run this one resumes, on the same files, is replayed, not run again
        workspace = await anyio.to_thread.run_sync(workspace_fingerprint, settings)
        key = check_key(argv, cwd, isolation, workspace)
        replayed, earlier = self.state.resume.replay(key) if self.state.resume is not None else (False, None)
        if replayed and isinstance(earlier, dict):
            result = dict(earlier)
            self.state.emit("check", command=command, exit_code=result.get("exit_code"),
                            duration_s=result.get("duration_s"), replayed=True)
        else:
            result = await self.state.executor.check(self.state, argv, isolation=isolation, cwd=cwd,
                                                     timeout=min(timeout, settings.command_timeout_s))
            where = {"worker": result.pop("worker")} if "worker" in result else {}
            self.state.emit("check", command=command, exit_code=result["exit_code"], duration_s=result["duration_s"],
                            **where)
        self._journal("check", key, result)
        return result

    def _journal(self, kind: str, key: str, answer: Any) -> None:
        state = self.state
        state.journal_seq += 1
        if state.store is not None:
            state.store.journal(state.run_id, state.journal_seq, kind, key, answer)

    def report(self, finding: Any) -> str:
        """Emit a finding now; the editor shows it while the run goes on. Returns its id.

        ``finding`` is plain data: the script host turned models and fixers' results into dicts already."""
        self.state.ensure_alive()
        made = make_finding(finding, run_id=self.state.run_id)
        state = self.state
        if suppressed(state, made):  # a project rule covers it: logged and counted, not published
            return made.id
        state.findings[made.id] = made
        data = made.model_dump(mode="json")
        if state.store is not None:
            state.store.add_finding(state.run_id, made.id, made.fingerprint, data)
        state.emit("finding", finding=data)
        return made.id

    async def ask(self, question: str, choices: list[str] | None = None) -> str | None:
        """Ask the person running the workflow; None when nobody can answer (headless runs)."""
        self.state.ensure_alive()
        state = self.state
        choices = [str(c) for c in choices] if choices else None
        key = ask_key(str(question), choices)
        resume = state.resume
        replayed, earlier = resume.replay(key) if resume is not None else (False, None)
        if replayed and resume is not None:
            state.log(f"ask(): {question!r} → {earlier!r} (the answer given in {resume.run_id})")
            self._journal("ask", key, earlier)
            return None if earlier is None else str(earlier)
        state.emit("ask", question=question, choices=choices)
        if state.asker is None:
            state.log(f"ask(): no one to answer {question!r} in a headless run; continuing with None")
            return None  # not journaled: a resumed run with someone to answer asks again
        answer = await state.asker(str(question), choices)
        state.log(f"ask(): {question!r} → {answer!r}")
        if answer is not None:
            self._journal("ask", key, answer)
        return answer
