"""What a run and its nested workflow share: settings, model client, slots, counters, budget, store, events."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from ..agents.catalog import AgentCatalog
from ..agents.environment import AgentEnvironment
from ..agents.skills import Skills
from ..cost.budget import Budget
from ..cost.pricing import Usage
from ..errors import ScriptInterrupted
from ..executors import Executor, LocalExecutor
from ..providers.base import ModelClient
from ..results.findings import Finding, Patch
from ..results.rules import RuleSet
from ..settings import Settings
from ..store import RunStore
from .events import Event, EventBus, EventType
from .resume import ResumeCache
from .scheduler import Scheduler

Asker = Callable[[str, list[str] | None], Awaitable[str | None]]


@dataclass
class AgentRecord:
    id: str
    seq: int
    label: str | None
    phase: str | None
    role: str | None
    agent_type: str | None
    model: str
    prompt: str
    isolation: str | None = None
    key: str | None = None  # the call's resume key (see resume.py)
    state: str = "queued"  # queued | running | succeeded | failed | cached | skipped
    queued_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0
    attempts: int = 0
    retries: int = 0
    turns: int = 0
    tool_calls: int = 0
    last_tool: str | None = None
    error: str | None = None
    error_kind: str | None = None
    patch: Patch | None = None
    citations: list[dict[str, Any]] | None = None  # web sources its answer cites (web research; report.md Sources)
    reads: dict[str, str] | None = None  # what its tools saw: "file:REL" → fingerprint (see resume.py)
    tools: frozenset[str] | None = None  # its effective tool names (tool_names.py); None: the default set
    skills: Skills | None = None  # the skills it may load (its environment's toolbox offers them)
    worker: str | None = None  # the cluster worker its tools ran on (distributed executor); None: this machine
    interrupt: Callable[[], object] | None = None  # stops the agent's current attempt (set while it runs)
    restart_requested: bool = False
    lost_attempts: int = 0  # attempts that ended with their worker lost (distributed executor)
    attempt_usage: dict[str, int] | None = None  # what the current attempt's turns spent so far
    lost_usage: Usage | None = None  # what lost attempts spent: billed once, part of its usage
    skip_requested: bool = False

    def elapsed(self) -> float:
        if self.started_at is None:
            return 0.0
        return (self.finished_at or time.time()) - self.started_at

    def view(self) -> dict[str, Any]:
        """The agent as the progress views draw it (a new dict: events keep it as a snapshot)."""
        usage = self.usage
        started = self.started_at
        # elapsed() inlined, and no rounding of values that are still 0: two views sit on each agent's
        # critical path (started, finished)
        elapsed = 0.0 if started is None else round((self.finished_at or time.time()) - started, 3)
        cost = self.cost_usd
        inputs, outputs = usage.input_tokens, usage.output_tokens
        created, read = usage.cache_creation_input_tokens, usage.cache_read_input_tokens
        return {
            "id": self.id, "seq": self.seq, "label": self.label, "phase": self.phase, "role": self.role,
            "model": self.model, "state": self.state,
            "tokens": inputs + outputs + created + read,
            "usage": {"input_tokens": inputs, "output_tokens": outputs, "cache_creation_input_tokens": created,
                      "cache_read_input_tokens": read},
            "cost_usd": round(cost, 6) if cost else cost, "elapsed_s": elapsed,
            "attempts": self.attempts, "retries": self.retries, "tool_calls": self.tool_calls,
            "last_tool": self.last_tool, "error": self.error, "error_kind": self.error_kind,
            "prompt_preview": self.prompt[:160], "has_patch": self.patch is not None, "worker": self.worker,
        }


PERSISTED_AGENT_KEYS = ("id", "label", "phase", "state", "tokens", "cost_usd", "error", "error_kind")
_TURN_ONLY = frozenset({"agent", "turn"})
# an agent's lifecycle is its row in the agents table (state, times, usage, error): its events are not stored
_ROW_ONLY = frozenset({"agent_queued", "agent_started", "agent_finished", "agent_failed", "agent_cached"})


EnvironmentFactory = Callable[["RunState", AgentRecord], Awaitable[AgentEnvironment]]


async def no_tools(state: RunState, record: AgentRecord) -> AgentEnvironment:
    return AgentEnvironment()


class RunState:
    def __init__(self, run_id: str, settings: Settings, client: ModelClient, store: RunStore | None,
                 budget: Budget, asker: Asker | None = None,
                 environment: EnvironmentFactory | None = None) -> None:
        self.run_id = run_id
        self.settings = settings
        self.client = client
        self.store = store
        self.bus = EventBus(run_id)
        self.scheduler = Scheduler(settings.concurrency)
        self.budget = budget
        self.asker = asker
        self.environment: EnvironmentFactory = environment or no_tools
        self.executor: Executor = LocalExecutor()  # where check() runs and, in a run, agents' environments
        self.agents: dict[str, AgentRecord] = {}
        self.findings: dict[str, Finding] = {}
        self.logs: list[str] = []
        self.phases: list[str] = []
        self.usage = Usage()
        self.cost_usd = 0.0
        self.launched = 0
        self.journal_seq = 0  # check() results and ask() answers journaled so far
        self.mcp: Any = None  # the run's MCP servers (agents/mcp.py McpServers), when the project has .mcp.json
        self.succeeded = 0
        self.failed = 0
        self.cached = 0
        self.not_started = 0  # agents a stopped run never started (queued when it stopped)
        self.failure_reasons: dict[str, int] = {}
        # fan-out slots that failed in script code (a thunk or stage threw), not through a failed agent
        self.script_cpu_s = 0.0  # CPU the script's host process spent on it (Linux; 0 where unknown)
        self.script_failures = 0
        self.script_failure_reasons: list[str] = []
        self._warned: set[str] = set()
        self.resume: ResumeCache | None = None  # an earlier run whose matching agents are served from the store
        self.catalog: AgentCatalog | None = None  # the workspace's agent types and skills, loaded once per run
        self.rules: RuleSet | None = None  # the project's review rules, read once per run (project_rules.py)
        self.started = time.time()
        self.script_dead: str | None = None
        self.cancelled = False
        # the circuit breaker: a fault of the account (credentials, billing, a usage limit) stops the run;
        # start() sets on_stop to end the script, and no agent starts once this is set
        self.stopped_because: str | None = None
        self.on_stop: Callable[[], None] | None = None
        if store is not None:
            self.bus.listen(self._persist)

    # -- events ----------------------------------------------------------------------------------

    def emit(self, type_: EventType, **data: Any) -> Event:
        return self.bus.emit(type_, **data)

    def _persist(self, event: Event) -> None:
        assert self.store is not None
        data = event.data
        type_ = event.type
        if type_ in _ROW_ONLY or (type_ == "agent_progress" and data.keys() <= _TURN_ONLY):
            # a bare turn count, or an agent queued, started or ended: its row holds that (state, times, usage,
            # error), and a follower draws agents from the rows; tool calls and tool errors are kept as events
            return
        # the agents table holds the full record; the stored event keeps what a timeline needs (narrowed
        # on the writer thread, off the event loop: agent events sit between an agent's slot and its model call)
        self.store.add_event(self.run_id, event.seq, event.ts, event.type, data,
                             agent_keys=PERSISTED_AGENT_KEYS if data.get("agent") is not None else None)

    def log(self, message: str) -> None:
        self.logs.append(message)
        if self.store is not None:
            self.store.add_log(self.run_id, len(self.logs), message)
        self.emit("log", message=message)

    def warn_once(self, key: str, message: str) -> None:
        """Log ``warning: message`` the first time ``key`` comes up in this run (and its child workflows)."""
        if key not in self._warned:
            self._warned.add(key)
            self.log(f"warning: {message}")

    def note_script_failure(self, reason: str) -> None:
        """Count a fan-out slot that failed in script code; the run's result reports them."""
        self.script_failures += 1
        if len(self.script_failure_reasons) < self.KEPT_SCRIPT_FAILURES:
            self.script_failure_reasons.append(reason)

    KEPT_SCRIPT_FAILURES = 50

    def stop(self, reason: str) -> None:
        """Stop the run for ``reason`` (the first one counts): no new agent starts, the script ends, and
        the run ends ``stopped`` with every finished result kept."""
        if self.stopped_because is not None:
            return
        self.stopped_because = reason
        self.log(f"run stopped: {reason}; no agent starts after this, finished results are kept")
        if self.on_stop is not None:
            self.on_stop()

    # -- liveness (the script's own watchdog runs in its host process: scripthost/guest.py) ---------

    def ensure_alive(self) -> None:
        if self.script_dead is not None:
            raise ScriptInterrupted(self.script_dead)

    # -- agents --------------------------------------------------------------------------------

    def save_agent(self, record: AgentRecord, *fields: str) -> None:
        if self.store is None:
            return
        row: dict[str, Any] = {}
        names = fields or ("seq", "label", "phase", "role", "agent_type", "model", "state", "prompt", "queued_at",
                           "key")
        for name in names:
            if name == "usage":
                row.update(record.usage.to_dict())
            elif name == "patch":
                row["patch"] = record.patch.model_dump() if record.patch else None
            else:
                row[name] = getattr(record, name)
        self.store.upsert_agent(self.run_id, record.id, **row)

    def tree(self) -> dict[str, Any]:
        """The whole run as phases → agents, for progress views."""
        groups: dict[str, list[dict[str, Any]]] = {}
        for record in self.agents.values():
            groups.setdefault(record.phase or "", []).append(record.view())
        order = [p for p in self.phases if p in groups] + [p for p in groups if p not in self.phases]
        phases = []
        for title in order:
            agents = groups[title]
            phases.append({
                "title": title or "(no phase)",
                "agents": agents,
                "done": sum(a["state"] in ("succeeded", "failed", "cached", "skipped") for a in agents),
                "total": len(agents),
                "tokens": sum(a["tokens"] for a in agents),
                "cost_usd": round(sum(a["cost_usd"] for a in agents), 6),
            })
        return {"run_id": self.run_id, "phases": phases, "counts": self.counts(), "usage": self.usage_view(),
                "paused": self.scheduler.paused}

    @property
    def unfinished(self) -> int:
        """Agents launched that have not ended in any counted way (still queued or running, or cancelled)."""
        return self.launched - self.succeeded - self.failed - self.cached - self.not_started

    def counts(self) -> dict[str, int]:
        running = sum(r.state == "running" for r in self.agents.values())
        counts = {"launched": self.launched, "succeeded": self.succeeded, "failed": self.failed,
                  "cached": self.cached, "running": running}
        if self.not_started:
            counts["not_started"] = self.not_started
        return counts

    def usage_view(self) -> dict[str, Any]:
        return {**self.usage.to_dict(), "cost_usd": round(self.cost_usd, 6)}




@asynccontextmanager
async def noop() -> AsyncIterator[None]:
    yield
