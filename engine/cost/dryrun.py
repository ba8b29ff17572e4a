"""Dry runs: a workflow executed on the simulated model in virtual time.

A dry run spends zero tokens, never touches the network and never writes the user's files, yet it
runs the real script under the real scheduler at the run's concurrency cap. Every agent the script
would start is recorded with its model, role and the exact requests it would send. Waiting (model
latency, retry back-off) happens on a virtual clock, so a run that would take an hour finishes in
milliseconds while its wall-clock length is still measured.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import hashlib
import json
import selectors
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio

from ..agents.environment import AgentEnvironment
from ..errors import UnknownModel, describe_failure
from ..providers.base import ModelRequest, ModelResponse
from ..providers.scenario import Scenario, estimate_tokens
from ..providers.simulated import SimulatedModel
from ..providers.web import web_limits
from ..runtime.context import ScriptContext
from ..runtime.resume import ResumeCache
from ..runtime.scripthost import process as scripthost
from ..runtime.state import AgentRecord, RunState
from ..settings import Settings
from ..workflows.workflow import Workflow
from .budget import Budget
from .pricing import Usage

LatencyPrior = Callable[["DryAgent", bool], float]
"""Seconds one model turn of ``agent`` takes; the flag says whether it is the agent's first turn."""


# -- virtual time ----------------------------------------------------------------------------------


class _VirtualSelector:
    """Wraps the loop's selector: when nothing is ready it jumps the clock instead of sleeping."""

    def __init__(self, real: selectors.BaseSelector, loop: VirtualClockLoop) -> None:
        self._real = real
        self._loop = loop

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        self._loop.on_idle()
        events = self._real.select(0)
        if events or timeout == 0:
            return events
        if timeout is None or self._loop.threads_busy():
            # a worker thread (a tool reading a file) is doing real work: time stands still until its
            # result wakes the loop, or the loop would skip ahead to some agent's timeout meanwhile
            return self._real.select(timeout)
        self._loop.advance(timeout)
        return []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """An asyncio loop whose clock only moves when every task waits on a timer."""

    def __init__(self) -> None:
        super().__init__()
        self._virtual_now = 0.0
        self.idle_hooks: list[Callable[[], None]] = []
        self.busy_hooks: list[Callable[[], bool]] = []
        self.thread_limiter: Any = None  # anyio's default thread limiter, captured from inside a task
        real: selectors.BaseSelector = getattr(self, "_selector")  # noqa: B009 - private asyncio attribute
        setattr(self, "_selector", _VirtualSelector(real, self))  # noqa: B010

    def time(self) -> float:
        return self._virtual_now

    def threads_busy(self) -> bool:
        """Real work is under way elsewhere (a worker thread, a script host child): time stands still."""
        limiter = self.thread_limiter
        return (limiter is not None and limiter.borrowed_tokens > 0) or any(busy() for busy in self.busy_hooks)

    def advance(self, seconds: float) -> None:
        self._virtual_now += max(0.0, seconds)

    def on_idle(self) -> None:
        for hook in self.idle_hooks:
            hook()


def run_in_virtual_time(factory: Callable[[VirtualClockLoop], Any]) -> Any:
    """Run the coroutine ``factory(loop)`` returns on a fresh virtual-clock loop (call from a worker thread)."""
    loop = VirtualClockLoop()
    try:
        return loop.run_until_complete(factory(loop))
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


# -- what a dry run records --------------------------------------------------------------------------


@dataclass
class DryTurn:
    input_tokens: int
    prefix_tokens: int  # tools + system: the part every agent with the same setup shares
    prefix_key: str
    output_tokens: int
    first: bool
    # what the Anthropic provider caches for this request: its shared-prefix key (None below the minimum)
    shared_tokens: int = 0
    shared_key: str | None = None
    # web research: the uses the request allowed (max_uses of web search, web fetch; 0: not offered) and made
    web_limits: tuple[int, int] = (0, 0)
    web_searches: int = 0
    web_fetches: int = 0


@dataclass
class DryAgent:
    """One agent the script would start, with the requests it would send."""

    id: str
    label: str | None
    phase: str | None
    role: str | None
    model: str
    prompt: str
    state: str = "queued"
    error_kind: str | None = None
    turns: list[DryTurn] = field(default_factory=list)
    started_s: float | None = None
    finished_s: float | None = None

    @property
    def usage(self) -> Usage:
        return Usage(input_tokens=sum(t.input_tokens for t in self.turns),
                     output_tokens=sum(t.output_tokens for t in self.turns),
                     web_search_requests=sum(t.web_searches for t in self.turns),
                     web_fetch_requests=sum(t.web_fetches for t in self.turns))

    @property
    def web_limits(self) -> tuple[int, int]:
        """The most searches and fetches one of its requests may make; (0, 0): no web research."""
        return (max((t.web_limits[0] for t in self.turns), default=0),
                max((t.web_limits[1] for t in self.turns), default=0))

    @property
    def first_input_tokens(self) -> int:
        return self.turns[0].input_tokens if self.turns else 0


@dataclass
class DryRun:
    agents: list[DryAgent]
    elapsed_s: float
    status: str  # succeeded | failed
    error: str | None = None
    peak_running: int = 0
    phases: list[str] = field(default_factory=list)
    samples: dict[str, ModelRequest] = field(default_factory=dict)
    checks: int = 0  # check() calls: their outcome can change what runs next
    reused: int = 0  # calls an earlier run's finished agents answer (see runtime/resume.py): they cost nothing


_probe: contextvars.ContextVar[DryAgent | None] = contextvars.ContextVar("dry_agent", default=None)


def _shared(request: ModelRequest) -> tuple[int, str | None]:
    """The shared prefix the Anthropic provider would mark for caching (its own rule, so the split matches)."""
    try:
        from ..providers.anthropic import build_params
    except ImportError:  # pragma: no cover - the SDK is a hard dependency
        return 0, None
    try:
        _params, key, tokens = build_params(request)
    except Exception:
        return 0, None
    return int(tokens), key


UNCAPPED_WEB_USES = 10  # a web tool offered without max_uses: the most the estimate assumes per request


def _cap(limits: dict[str, int | None], name: str) -> int:
    if name not in limits:
        return 0
    value = limits[name]
    return UNCAPPED_WEB_USES if value is None else value


def _prefix(request: ModelRequest) -> tuple[int, str]:
    text = "\n".join([json.dumps(t, sort_keys=True) for t in request.tools]
                     + [str(b.get("text", "")) for b in request.system])
    digest = hashlib.sha1(f"{request.model}\n{text}".encode()).hexdigest()[:16]
    return estimate_tokens(text), digest


class DryModel:
    """The simulated model, recording each turn and waiting the latency prior on the virtual clock."""

    name = "dry-run"

    def __init__(self, scenario: Scenario, latency: LatencyPrior | None, shared: bool = False) -> None:
        self.shared = shared  # record the Anthropic provider's cache split (only needed for that provider)
        self.inner = SimulatedModel(scenario)
        self.latency = latency
        self.samples: dict[str, ModelRequest] = {}  # one first request per shared prefix, for counting

    async def turn(self, request: ModelRequest) -> ModelResponse:
        agent = _probe.get()
        first = len(request.messages) == 1
        if self.latency is not None:
            await asyncio.sleep(self.latency(agent, first) if agent is not None else 0.0)
        response = await self.inner.turn(request)
        if agent is not None:
            prefix_tokens, key = _prefix(request)
            if first and key not in self.samples:
                # a snapshot: the agent loop keeps appending to the conversation it sent
                self.samples[key] = dataclasses.replace(request, messages=list(request.messages))
            shared_tokens, shared_key = _shared(request) if self.shared else (0, None)
            limits = web_limits(request.server_tools)
            agent.turns.append(DryTurn(response.usage.input_tokens, prefix_tokens, key,
                                       response.usage.output_tokens, first, shared_tokens, shared_key,
                                       (_cap(limits, "web_search"), _cap(limits, "web_fetch")),
                                       response.usage.web_search_requests, response.usage.web_fetch_requests))
        return response

    async def count_tokens(self, request: ModelRequest) -> int:
        return await self.inner.count_tokens(request)

    async def aclose(self) -> None:
        return None


# -- the script side -----------------------------------------------------------------------------------


class DryContext(ScriptContext):
    """The script's primitives, except that nothing outside the process happens."""

    def __init__(self, state: RunState, workflow: Workflow, args: Any, recorder: _Recorder,
                 *, depth: int = 0, check_exit: int = 0) -> None:
        super().__init__(state, workflow, args, depth=depth)
        self.recorder = recorder
        self.check_exit = check_exit

    async def agent(self, prompt: str, *, schema: Any = None, label: str | None = None, phase: str | None = None,
                    model: str | None = None, effort: str | None = None, isolation: str | None = None,
                    agent_type: str | None = None, timeout: float | None = None, tools: Any = None) -> Any:
        probe = DryAgent(id="", label=label, phase=None, role=None, model="", prompt=str(prompt))
        _probe.set(probe)
        try:
            return await super().agent(prompt, schema=schema, label=label, phase=phase, model=model, effort=effort,
                                       isolation=isolation, agent_type=agent_type, timeout=timeout, tools=tools)
        except UnknownModel as exc:
            self.recorder.unknown_models.append(str(exc))
            raise
        finally:
            if probe.id:
                record = self.state.agents[probe.id]
                probe.state, probe.error_kind = record.state, record.error_kind
                probe.finished_s = asyncio.get_running_loop().time()
                self.recorder.running -= 1

    async def check(self, command: str | list[str], *, cwd: str | None = None, timeout: float = 600,
                    isolation: Any = None) -> dict[str, Any]:
        # commands are never run in a dry run; the estimator tries both outcomes (see check_exit)
        self.state.ensure_alive()
        self.recorder.checks += 1
        self.state.emit("check", command=command, exit_code=self.check_exit, duration_s=0.0, dry_run=True)
        failed = "dry run: assumed to fail" if self.check_exit else ""
        return {"exit_code": self.check_exit, "stdout": failed, "stderr": "", "duration_s": 0.0, "dry_run": True}

    def child(self, workflow: Workflow, args: Any) -> ScriptContext:
        return DryContext(self.state, workflow, args, self.recorder, depth=self.depth + 1, check_exit=self.check_exit)


@dataclass
class _Recorder:
    agents: list[DryAgent] = field(default_factory=list)
    unknown_models: list[str] = field(default_factory=list)
    running: int = 0
    peak: int = 0
    checks: int = 0


_COMMAND_TOOL_WORDS = ("run", "command", "bash", "shell", "exec")


class _DryTools:
    """The real tools on the real workspace, with edits kept in memory (the overlay) and commands not run.

    Isolated agents see the same definitions as in a real run (their worktree adds ``run_command``), so
    prompts are counted as sent, and their edits still become a patch — no worktree is created.
    """

    def __init__(self, inner: Any, definitions: list[dict[str, Any]]) -> None:
        self.inner = inner
        self._definitions = definitions

    def definitions(self) -> list[dict[str, Any]]:
        return list(self._definitions)

    async def call(self, name: str, arguments: dict[str, Any]) -> tuple[str, bool]:
        if any(word in name.lower() for word in _COMMAND_TOOL_WORDS):
            return f"(dry run: {name} was not executed; assume it succeeded)", False
        result: tuple[str, bool] = await self.inner.call(name, arguments)
        return result


class _DryEnvironment(AgentEnvironment):
    def __init__(self, inner: AgentEnvironment | None, definitions: list[dict[str, Any]] | None) -> None:
        self.inner = inner
        self.toolbox = (_DryTools(inner.toolbox, definitions or inner.toolbox.definitions())
                        if inner is not None and inner.toolbox is not None else None)

    async def finish(self, succeeded: bool) -> Any:
        # the overlay's edits become the agent's patch, as a worktree's would; nothing was written
        return await self.inner.finish(succeeded) if self.inner is not None else None


def _environment(recorder: _Recorder) -> Callable[[RunState, AgentRecord], Any]:
    async def make(state: RunState, record: AgentRecord) -> AgentEnvironment:
        probe = _probe.get()
        if probe is not None and not probe.id:
            probe.id, probe.phase, probe.role, probe.model = record.id, record.phase, record.role, record.model
            probe.label = record.label
            probe.started_s = asyncio.get_running_loop().time()
            recorder.agents.append(probe)
            recorder.running += 1
            recorder.peak = max(recorder.peak, recorder.running)
        try:
            from ..agents.isolation import OverlayEnvironment
            from ..agents.tools import AgentToolBox

            # always the workspace with an in-memory overlay, never a worktree: nothing is written
            box = AgentToolBox(state.settings.workspace, state.settings, tools=record.tools, skills=record.skills)
            definitions = None
            if record.isolation == "worktree":
                definitions = AgentToolBox(state.settings.workspace, state.settings, worktree=True, tools=record.tools,
                                           skills=record.skills).definitions()
            return _DryEnvironment(OverlayEnvironment(box), definitions)
        except Exception:
            return _DryEnvironment(None, None)

    return make


async def dry_run(workflow: Workflow, args: Any, settings: Settings, scenario: Scenario,
                  latency: LatencyPrior | None = None, check_exit: int = 0,
                  reuse: ResumeCache | None = None) -> DryRun:
    """Run ``workflow`` on the simulated model in the current (virtual-clock) loop; see :func:`dry_run_sync`."""
    recorder = _Recorder()
    dry_settings = settings.model_copy(update={"provider": "simulated"})
    budget = Budget(settings.budget_tokens, settings.budget_usd)
    model = DryModel(scenario, latency, shared=settings.provider == "anthropic")
    state = RunState("dry_" + workflow.name, dry_settings, model, None, budget, None, _environment(recorder))
    # calls an earlier run answered are served as the real run will serve them: the script sees the same
    # answers, so the calls that depend on them match too, and only what will really run is counted
    state.resume = reuse.fork() if reuse is not None else None
    loop = asyncio.get_running_loop()
    if isinstance(loop, VirtualClockLoop):
        loop.thread_limiter = anyio.to_thread.current_default_thread_limiter()
    context = DryContext(state, workflow, args, recorder, check_exit=check_exit)
    started = loop.time()
    status, error = "succeeded", None
    try:
        await scripthost.execute(context, workflow, args)  # the script runs in its confined child process
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # the script's own error, possibly inside a task group's exception group
        status, error = "failed", describe_failure(exc, workflow.display_path)
    if recorder.unknown_models:
        raise UnknownModel(recorder.unknown_models[0])
    return DryRun(recorder.agents, loop.time() - started, status, error, recorder.peak, list(state.phases),
                  model.samples, recorder.checks, state.resume.served if state.resume is not None else 0)


def dry_run_sync(workflow: Workflow, args: Any, settings: Settings, scenario: Scenario,
                 latency: LatencyPrior | None = None, check_exit: int = 0,
                 reuse: ResumeCache | None = None) -> DryRun:
    """A dry run on its own virtual-clock loop; blocking, so call it from a worker thread."""
    workflow.compiled()  # script problems surface here, before anything runs

    async def main(loop: VirtualClockLoop) -> DryRun:
        return await dry_run(workflow, args, settings, scenario, latency, check_exit, reuse)

    result: DryRun = run_in_virtual_time(main)
    return result


# -- answer variants for the low and high bounds ---------------------------------------------------------


def sample_instance(schema: dict[str, Any], items: int, root: dict[str, Any] | None = None, depth: int = 0) -> Any:
    """A valid instance with ``items`` entries in every array (within minItems..maxItems) and every property."""
    from ..schema import minimal_instance

    root = root or schema
    if depth > 16 or not isinstance(schema, dict):
        return None
    if "$ref" in schema:
        target: Any = root
        for part in str(schema["$ref"]).lstrip("#/").split("/"):
            if part:
                target = target.get(part, {}) if isinstance(target, dict) else {}
        return sample_instance(target, items, root, depth + 1)
    if any(key in schema for key in ("const", "enum", "anyOf", "oneOf", "allOf")):
        return minimal_instance(schema, root, depth)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), kind[0] if kind else None)
    if kind == "object" or (kind is None and "properties" in schema):
        props = schema.get("properties", {})
        names = list(props) if items else list(schema.get("required", []))
        return {name: sample_instance(props.get(name, {}), items, root, depth + 1) for name in names}
    if kind == "array":
        count = max(int(schema.get("minItems", 0)), items)
        if "maxItems" in schema:
            count = min(count, int(schema["maxItems"]))
        return [sample_instance(schema.get("items", {}), items, root, depth + 1) for _ in range(count)]
    if kind in ("integer", "number") and items and "minimum" not in schema:
        # line numbers and counts: 1 is valid wherever 0 is not
        return 1 if kind == "integer" else 1.0
    return minimal_instance(schema, root, depth)


class VariantScenario(Scenario):
    """A scenario with no rules (only ``base``'s default latency) whose turns answer with ``items`` entries
    per array instead of the minimum."""

    def __init__(self, base: Scenario | None, items: int) -> None:
        from ..providers.scenario import ScenarioModel

        model = ScenarioModel(default_latency_ms=base.model.default_latency_ms if base is not None else 0)
        super().__init__(model, base.source if base is not None else "<variant>")
        self.items = items

    def _default_text(self, turn: Any) -> str:  # type: ignore[override]
        if turn.schema is not None:
            return json.dumps(sample_instance(turn.schema, self.items))
        subject = turn.label or " ".join(turn.prompt.split())[:60]
        return f"Simulated answer for: {subject}"
