"""Cost before you pay: agents, tokens, USD and minutes of a run, each as low / expected / high.

How an estimate is made (see docs/cost.md):

1. Dry runs. The script runs on the simulated model in virtual time (:mod:`.dryrun`): zero tokens,
   no network, no writes. That yields every agent it would start — label, phase, role, model — and
   the exact requests each would send. Data-dependent fan-out is bracketed by three dry runs: the
   scenario's answers (expected), minimal answers with empty arrays (low) and generous answers with
   three items per array (high).
2. Tokens per agent. When the model answering is a simulator driven by the same scenario (provider
   ``simulated``, or the Messages-API simulator on loopback) the dry run's counts *are* the run's
   counts. For a real model the prompt tokens are counted as sent (a calibrated local count, or the
   API's ``count_tokens`` once per shared prefix), plus the scope files the agent will read, plus
   role priors for tool-use turns and output size.
3. Cache-aware USD: the shared prefix (tools + system) is written once per model and read by the
   other agents when it is long enough to cache; later turns of one agent read their history.
4. Calibration (:mod:`.calibration`): finished runs of the same workflow replace the priors with
   measured per-role figures.
5. Minutes: the expected dry run waits each agent's latency prior on the virtual clock, under the
   real scheduler at the concurrency cap, so fan-out, barriers and pipelines are timed as they run.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

import anyio
from pydantic import BaseModel, Field

from .dryrun import DryAgent, DryRun, VariantScenario, dry_run_sync
from .errors import UnknownModel, UsageError
from .pricing import Price, known_models, price_of
from .scenario import Scenario
from .scope import is_secret
from .settings import Settings
from .workflow import Workflow

Basis = Literal["scenario", "priors"]
Level = Literal["low", "expected", "high"]
LEVELS: tuple[Level, ...] = ("low", "expected", "high")

# -- priors for a real model (replaced by measured figures once a workflow has run) ------------------


@dataclass(frozen=True)
class RolePrior:
    output_tokens: tuple[int, int, int]  # per agent: low, expected, high
    tool_turns: tuple[int, int, int]  # extra model turns spent on tool use


ROLE_PRIORS: dict[str, RolePrior] = {
    "finder": RolePrior((300, 900, 2500), (1, 4, 10)),
    "verifier": RolePrior((150, 450, 1200), (0, 2, 6)),
    "fixer": RolePrior((600, 2000, 6000), (2, 6, 15)),
    "synthesizer": RolePrior((400, 1500, 4000), (0, 1, 4)),
    "other": RolePrior((200, 800, 3000), (0, 2, 8)),
}
# the local count is ceil(bytes / 4); Claude 4.7+ / 5.x tokenizers give up to ~1.3x that
TOKENIZER_FACTOR = (1.0, 1.15, 1.35)
SCOPE_READ_FACTOR = (0.5, 1.0, 1.5)  # how much of the files an agent names it reads (partial reads, re-reads)
TOOL_CALL_TOKENS = 80  # a tool_use block plus its tool_result wrapper
MIN_CACHEABLE = (1024, 1024)  # shortest cached prompt (the API's documented floor) for the low and expected cost
FIRST_TOKEN_S = 1.5
TOOL_EXEC_S = 0.3
LATENCY_SCALE = (0.6, 1.0, 1.8)
SCENARIO_MARGIN = (0.9, 1.1)  # simulators answer exactly; the margin covers call-order effects
GENEROUS_ITEMS = 3
CHECK_PASS_RATE = 0.7  # how often a check() (the tests) passes first time; its outcome can change the fan-out


def output_speed(model: str) -> float:
    """Output tokens per second, by model family."""
    for family, speed in (("haiku", 150.0), ("sonnet", 80.0), ("opus", 50.0), ("fable", 40.0), ("mythos", 40.0)):
        if family in model:
            return speed
    return 70.0


# -- the estimate ----------------------------------------------------------------------------------------


class Range(BaseModel):
    low: float = 0.0
    expected: float = 0.0
    high: float = 0.0

    def ordered(self) -> Range:
        low, expected, high = sorted((self.low, self.expected, self.high))
        return Range(low=low, expected=expected, high=high)

    def scaled(self, low: float, high: float) -> Range:
        return Range(low=self.low * low, expected=self.expected, high=self.high * high)

    def capped(self, cap: float | None) -> Range:
        if cap is None:
            return self
        return Range(low=min(self.low, cap), expected=min(self.expected, cap), high=min(self.high, cap))

    def to_json(self, *, integer: bool = False, digits: int = 6) -> dict[str, float]:
        if integer:
            return {"low": round(self.low), "expected": round(self.expected), "high": round(self.high)}
        return {"low": round(self.low, digits), "expected": round(self.expected, digits),
                "high": round(self.high, digits)}

    def contains(self, value: float, slack: float = 1e-9) -> bool:
        return self.low - slack <= value <= self.high + slack


class Breakdown(BaseModel):
    """One phase's or one model's share of the estimate."""

    key: str
    agents: Range = Field(default_factory=Range)
    input_tokens: Range = Field(default_factory=Range)
    output_tokens: Range = Field(default_factory=Range)
    cost_usd: Range = Field(default_factory=Range)

    def to_json(self, name: str) -> dict[str, Any]:
        return {name: self.key or None, "agents": self.agents.to_json(integer=True),
                "input_tokens": self.input_tokens.to_json(integer=True),
                "output_tokens": self.output_tokens.to_json(integer=True), "cost_usd": self.cost_usd.to_json()}


class RoleFigures(BaseModel):
    """Per-role expected figures; ``base_*`` are before calibration, so a run can be compared with them."""

    role: str
    agents: int
    base_input_per_agent: float
    base_output_per_agent: float
    input_per_agent: float
    output_per_agent: float
    seconds_per_agent: float
    calibrated: bool = False


class Estimate(BaseModel):
    workflow: str
    basis: Basis
    provider: str
    concurrency: int
    agents: Range
    input_tokens: Range  # every prompt token, cached or not
    output_tokens: Range
    cache_read_tokens: Range
    cache_write_tokens: Range
    cost_usd: Range
    minutes: Range
    by_phase: list[Breakdown]
    by_model: list[Breakdown]
    by_role: list[RoleFigures]
    budget_usd: float  # the hard cap to approve: the high cost plus room for turns in flight
    budget_tokens: int
    calibrated_runs: int = 0
    notes: list[str] = Field(default_factory=list)

    @property
    def total_tokens(self) -> Range:
        return Range(low=self.input_tokens.low + self.output_tokens.low,
                     expected=self.input_tokens.expected + self.output_tokens.expected,
                     high=self.input_tokens.high + self.output_tokens.high)

    def to_json(self) -> dict[str, Any]:
        return {
            "workflow": self.workflow, "basis": self.basis, "provider": self.provider,
            "concurrency": self.concurrency,
            "agents": self.agents.to_json(integer=True),
            "input_tokens": self.input_tokens.to_json(integer=True),
            "output_tokens": self.output_tokens.to_json(integer=True),
            "cache_read_tokens": self.cache_read_tokens.to_json(integer=True),
            "cache_write_tokens": self.cache_write_tokens.to_json(integer=True),
            "total_tokens": self.total_tokens.to_json(integer=True),
            "cost_usd": self.cost_usd.to_json(),
            "minutes": self.minutes.to_json(digits=2),
            "by_phase": [b.to_json("phase") for b in self.by_phase],
            "by_model": [b.to_json("model") for b in self.by_model],
            "by_role": [r.model_dump() for r in self.by_role],
            "budget_usd": round(self.budget_usd, 6), "budget_tokens": self.budget_tokens,
            "calibrated_runs": self.calibrated_runs, "notes": self.notes,
        }


# -- scope ----------------------------------------------------------------------------------------------

ScopeInput = Mapping[str, int] | Iterable[Any] | None
_PATHISH = re.compile(r"[\w./-]+\.[A-Za-z0-9]{1,8}")


def _file_tokens(workspace: Path, relative: str, settings: Settings) -> int | None:
    root = workspace.resolve()
    try:
        path = (root / relative).resolve()
    except OSError:
        return None
    if root not in path.parents or not path.is_file() or is_secret(path.relative_to(root).as_posix(), settings):
        return None
    try:
        return math.ceil(path.stat().st_size / 4)
    except OSError:
        return None


def scope_tokens(scope: ScopeInput, settings: Settings) -> dict[str, int] | None:
    """``path -> tokens`` for the scope: a mapping path -> bytes, paths, ``(path, bytes)`` pairs or objects
    with ``path`` and ``size``/``bytes``. Secret files never count: agents cannot read them."""
    if scope is None:
        return None  # no scope given: the files the prompts name are looked up in the workspace
    out: dict[str, int] = {}
    items: Iterable[Any] = scope.items() if isinstance(scope, Mapping) else scope
    for item in items:
        size: int | None = None
        if isinstance(item, tuple) and len(item) == 2:
            name, size = str(item[0]), int(item[1])
        elif isinstance(item, str | Path):
            name = str(item)
        elif hasattr(item, "path"):
            name = str(item.path)
            raw = getattr(item, "size", getattr(item, "bytes", None))
            size = int(raw) if isinstance(raw, int) else None
        else:
            raise UsageError(f"scope entries are paths, (path, bytes) pairs or a path -> bytes mapping, not {item!r}")
        path = Path(name)
        relative = name
        if path.is_absolute():
            try:
                relative = str(path.resolve().relative_to(settings.workspace.resolve()))
            except ValueError:
                continue  # outside the workspace: no agent can read it
        if is_secret(relative, settings):
            continue
        tokens = math.ceil(size / 4) if size is not None else _file_tokens(settings.workspace, relative, settings)
        if tokens is not None:
            out[relative] = tokens
    return out


def files_read(agent: DryAgent, scope: dict[str, int] | None, settings: Settings) -> int:
    """Tokens of the files an agent's prompt names: the scope's, else workspace files it mentions."""
    prompt = agent.prompt
    total = 0
    if scope is not None:
        for relative, tokens in scope.items():
            name = Path(relative).name
            if relative in prompt or (len(name) >= 4 and "." in name and re.search(rf"\b{re.escape(name)}\b", prompt)):
                total += tokens
        return total
    seen: set[str] = set()
    for candidate in _PATHISH.findall(prompt):
        candidate = candidate.rstrip(".")
        if candidate in seen:
            continue
        seen.add(candidate)
        total += _file_tokens(settings.workspace, candidate, settings) or 0
    return total


# -- per-agent figures ------------------------------------------------------------------------------------


@dataclass
class Figures:
    agents: float = 0.0
    input_tokens: float = 0.0
    output_tokens: float = 0.0
    cache_read: float = 0.0
    cache_write: float = 0.0
    usd: float = 0.0

    def add(self, other: Figures) -> None:
        self.agents += other.agents
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cache_read += other.cache_read
        self.cache_write += other.cache_write
        self.usd += other.usd


@dataclass
class Calibrated:
    """Measured per-role ratios (actual / base) and seconds per agent from finished runs."""

    input_ratio: float = 1.0
    output_ratio: float = 1.0
    seconds_per_agent: float | None = None


@dataclass
class _Context:
    basis: Basis
    settings: Settings
    scope: dict[str, int] | None
    caching: bool  # the provider caches shared prefixes (the Anthropic API does; the in-process model does not)
    token_factor: dict[str, float]  # per prefix key: API count / local count, when counted online
    calibration: dict[str, Calibrated]
    _read: dict[str, int] = field(default_factory=dict)

    def files_read(self, agent: DryAgent) -> int:
        # one lookup per distinct prompt: the figure is needed for every level, and for time and roles
        if agent.prompt not in self._read:
            self._read[agent.prompt] = files_read(agent, self.scope, self.settings)
        return self._read[agent.prompt]


def _role(agent: DryAgent) -> str:
    return agent.role if agent.role in ROLE_PRIORS else "other"


def _index(level: Level) -> int:
    return LEVELS.index(level)


def base_tokens(agent: DryAgent, level: Level, ctx: _Context) -> tuple[float, float, int]:
    """(input tokens, output tokens, model turns) of one agent before calibration."""
    if ctx.basis == "scenario":
        usage = agent.usage
        return float(usage.input_tokens), float(usage.output_tokens), max(1, len(agent.turns))
    i = _index(level)
    prior = ROLE_PRIORS[_role(agent)]
    factor = TOKENIZER_FACTOR[i]
    if agent.turns and agent.turns[0].prefix_key in ctx.token_factor:
        factor = ctx.token_factor[agent.turns[0].prefix_key] * TOKENIZER_FACTOR[i] / TOKENIZER_FACTOR[1]
    prompt = agent.first_input_tokens * factor
    read = ctx.files_read(agent) * SCOPE_READ_FACTOR[i] * factor
    turns_measured = max(1, len(agent.turns))
    extra = prior.tool_turns[i] + (turns_measured - 1)
    if read and extra == 0:
        extra = 1  # reading a file takes a tool turn
    measured_out = sum(t.output_tokens for t in agent.turns)
    output = float(min(max(prior.output_tokens[i], measured_out), ctx.settings.max_tokens * (extra + 1)))
    per_turn_out = output / (extra + 1)
    history = read + TOOL_CALL_TOKENS * extra + per_turn_out * extra
    input_tokens = (extra + 1) * prompt + history * (extra + 1) / 2
    return input_tokens, output, extra + 1


def turn_inputs(agent: DryAgent, level: Level, ctx: _Context, input_tokens: float, turns: int) -> list[float]:
    """Prompt tokens of each model turn: measured when the scenario answers, else growing linearly."""
    if ctx.basis == "scenario" and len(agent.turns) == turns:
        return [float(t.input_tokens) for t in agent.turns]
    if turns <= 1:
        return [input_tokens]
    # input = turns * first + step * turns * (turns - 1) / 2  with turn k's prompt = first + k * step
    first = agent.first_input_tokens * (TOKENIZER_FACTOR[_index(level)] if ctx.basis == "priors" else 1.0)
    step = max(0.0, (input_tokens - turns * first) * 2 / (turns * (turns - 1)))
    return [first + k * step for k in range(turns)]


def agent_figures(agent: DryAgent, level: Level, ctx: _Context, prefixes_seen: set[str]) -> Figures:
    input_tokens, output, turns = base_tokens(agent, level, ctx)
    cal = ctx.calibration.get(_role(agent))
    if cal is not None:
        input_tokens *= cal.input_ratio
        output *= cal.output_ratio
    price = price_of(agent.model)
    read = write = 0.0
    if ctx.caching and level != "high" and agent.turns:
        first = agent.turns[0]
        scale = TOKENIZER_FACTOR[_index(level)] if ctx.basis == "priors" else 1.0
        read, write = cache_split(turn_inputs(agent, level, ctx, input_tokens, turns), first.shared_tokens * scale,
                                  first.shared_key, MIN_CACHEABLE[0 if level == "low" else 1], prefixes_seen)
        read, write = min(read, input_tokens), min(write, max(0.0, input_tokens - read))
    uncached = max(0.0, input_tokens - read - write)
    usd = (uncached * price.input + write * price.cache_write + read * price.cache_read
           + output * price.output) / 1_000_000
    if level == "high" and ctx.caching:
        # the dearest way the same tokens can be billed: every prompt token written to the cache
        usd = (input_tokens * max(price.input, price.cache_write) + output * price.output) / 1_000_000
    return Figures(1.0, input_tokens, output, read, write, usd)


def cache_split(inputs: list[float], shared: float, key: str | None, minimum: int,
                prefixes_seen: set[str]) -> tuple[float, float]:
    """(cache read, cache write) tokens of one agent, following the Anthropic provider's design.

    The shared prefix (tools, system, the shared head of the prompt) is written by the first agent that
    sends it and read by everyone after; from its second turn an agent's own history is read back and
    only the new tail is written. Nothing shorter than ``minimum`` tokens is cached.
    """
    base = shared if key is not None and shared >= minimum else 0.0
    read = write = 0.0
    for k, prompt in enumerate(inputs):
        if k == 0:
            if base and key in prefixes_seen:
                read += base
            elif base:
                assert key is not None
                prefixes_seen.add(key)
                write += base
            continue
        previous = inputs[k - 1]
        cached = previous if k >= 2 and previous >= minimum else base
        read += cached
        if prompt >= minimum:
            write += max(0.0, prompt - cached)
    return read, write


def agent_seconds(agent: DryAgent, level: Level, ctx: _Context) -> float:
    """How long one agent takes with a real model: per turn, time to first token plus output at the model's speed."""
    cal = ctx.calibration.get(_role(agent))
    if cal is not None and cal.seconds_per_agent is not None:
        return cal.seconds_per_agent
    if ctx.basis == "scenario":
        return (agent.finished_s or 0.0) - (agent.started_s or 0.0)
    _input, output, turns = base_tokens(agent, level, ctx)
    return turns * (FIRST_TOKEN_S + TOOL_EXEC_S) + output / output_speed(agent.model)


# -- putting it together ----------------------------------------------------------------------------------


def choose_basis(settings: Settings) -> Basis:
    """``scenario`` when a simulator driven by the scenario answers (so its counts are exact), else ``priors``."""
    if settings.provider == "simulated":
        return "scenario"
    if settings.base_url and settings.scenario is not None:
        host = urlparse(settings.base_url).hostname or ""
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if loopback:
            return "scenario"
    return "priors"


def _check_models(settings: Settings) -> None:
    """Every model the settings route to must have a price: an estimate of $0 would be a lie."""
    routing = settings.models
    names = [routing.default, *(getattr(routing, r) for r in ("finder", "verifier", "fixer", "synthesizer")),
             *routing.phases.values()]
    for name in names:
        if name and not (settings.provider == "simulated" and name == "simulated"):
            price_of(name)


def _total(agents: list[DryAgent], level: Level, ctx: _Context) -> tuple[Figures, dict[str, Figures],
                                                                        dict[str, Figures]]:
    total = Figures()
    by_phase: dict[str, Figures] = {}
    by_model: dict[str, Figures] = {}
    seen: set[str] = set()
    for agent in agents:
        figures = agent_figures(agent, level, ctx, seen)
        total.add(figures)
        by_phase.setdefault(agent.phase or "", Figures()).add(figures)
        by_model.setdefault(agent.model, Figures()).add(figures)
    return total, by_phase, by_model


_FIELDS = ("agents", "input_tokens", "output_tokens", "cache_read", "cache_write", "usd")


def _blend(level: Level, passing: Figures, failing: Figures) -> Figures:
    """low: the smaller, high: the larger, expected: weighted by how often checks pass."""
    out = Figures()
    for name in _FIELDS:
        a, b = getattr(passing, name), getattr(failing, name)
        value = min(a, b) if level == "low" else max(a, b) if level == "high" else (
            CHECK_PASS_RATE * a + (1 - CHECK_PASS_RATE) * b)
        setattr(out, name, value)
    return out


def _blend_map(level: Level, passing: dict[str, Figures], failing: dict[str, Figures]) -> dict[str, Figures]:
    return {key: _blend(level, passing.get(key, Figures()), failing.get(key, Figures()))
            for key in dict.fromkeys([*passing, *failing])}


def _range(values: dict[Level, Figures], attr: str) -> Range:
    return Range(**{level: float(getattr(values[level], attr)) for level in LEVELS}).ordered()


def _breakdowns(runs: dict[Level, dict[str, Figures]], order: list[str]) -> list[Breakdown]:
    keys = list(dict.fromkeys([*order, *runs["expected"], *runs["low"], *runs["high"]]))
    out = []
    for key in keys:
        values = {level: runs[level].get(key, Figures()) for level in LEVELS}
        if not any(v.agents for v in values.values()):
            continue
        out.append(Breakdown(key=key, agents=_range(values, "agents"), input_tokens=_range(values, "input_tokens"),
                             output_tokens=_range(values, "output_tokens"), cost_usd=_range(values, "usd")))
    return out


def _by_role(agents: list[DryAgent], ctx: _Context) -> list[RoleFigures]:
    groups: dict[str, list[DryAgent]] = {}
    for agent in agents:
        groups.setdefault(_role(agent), []).append(agent)
    out = []
    for role, members in groups.items():
        base_in = base_out = seconds = 0.0
        for agent in members:
            tokens_in, tokens_out, _turns = base_tokens(agent, "expected", ctx)
            base_in += tokens_in
            base_out += tokens_out
            seconds += agent_seconds(agent, "expected", ctx)
        n = len(members)
        cal = ctx.calibration.get(role)
        ratio_in = cal.input_ratio if cal else 1.0
        ratio_out = cal.output_ratio if cal else 1.0
        out.append(RoleFigures(role=role, agents=n, base_input_per_agent=round(base_in / n, 2),
                               base_output_per_agent=round(base_out / n, 2),
                               input_per_agent=round(base_in / n * ratio_in, 2),
                               output_per_agent=round(base_out / n * ratio_out, 2),
                               seconds_per_agent=round(seconds / n, 3), calibrated=cal is not None))
    return out


def _worst_turn(agents: list[DryAgent], settings: Settings) -> tuple[float, int]:
    """The most one model turn can cost (USD, tokens): what a budget reserves for each turn in flight."""
    usd, tokens = 0.0, 0
    for agent in agents:
        price: Price = price_of(agent.model)
        prompt = max((t.input_tokens for t in agent.turns), default=0) * TOKENIZER_FACTOR[2]
        usd = max(usd, (prompt * max(price.input, price.cache_write) + settings.max_tokens * price.output) / 1e6)
        tokens = max(tokens, int(prompt) + settings.max_tokens)
    return usd, tokens


def build_estimate(workflow: Workflow, settings: Settings, runs: dict[str, DryRun], ctx: _Context,
                   calibrated_runs: int = 0) -> Estimate:
    """Combine three dry runs into an estimate (pure: no I/O)."""
    totals: dict[Level, Figures] = {}
    phases: dict[Level, dict[str, Figures]] = {}
    models: dict[Level, dict[str, Figures]] = {}
    for level in LEVELS:
        totals[level], phases[level], models[level] = _total(runs[level].agents, level, ctx)
    elapsed = {level: runs[level].elapsed_s for level in LEVELS}
    failing = runs.get("checks_fail")
    if failing is not None:
        # the same run with every check() failing: bounds the range, weighs into the expectation
        for level in LEVELS:
            f_total, f_phases, f_models = _total(failing.agents, level, ctx)
            totals[level] = _blend(level, totals[level], f_total)
            phases[level] = _blend_map(level, phases[level], f_phases)
            models[level] = _blend_map(level, models[level], f_models)
        elapsed = {"low": min(elapsed["low"], failing.elapsed_s), "high": max(elapsed["high"], failing.elapsed_s),
                   "expected": CHECK_PASS_RATE * elapsed["expected"] + (1 - CHECK_PASS_RATE) * failing.elapsed_s}
    minutes = Range(**{level: elapsed[level] / 60 for level in LEVELS}).ordered()
    values = {
        name: _range(totals, attr)
        for name, attr in (("agents", "agents"), ("input", "input_tokens"), ("output", "output_tokens"),
                           ("read", "cache_read"), ("write", "cache_write"), ("usd", "usd"))
    }
    if ctx.basis == "scenario":
        low, high = SCENARIO_MARGIN
        for name in ("input", "output", "read", "write", "usd"):
            values[name] = values[name].scaled(low, high)
        minutes = minutes.scaled(low, high)
    notes: list[str] = []
    expected_run = runs["expected"]
    if expected_run.status != "succeeded":
        notes.append(f"the dry run stopped early ({expected_run.error}); the estimate counts the agents started "
                     "before that point")
    for level in ("low", "high"):
        if runs[level].status != "succeeded" and runs[level] is not expected_run:
            notes.append(f"the {level} dry run stopped early ({runs[level].error})")
    if settings.budget_usd is not None:
        if values["usd"].high > settings.budget_usd:
            notes.append(f"the USD budget ${settings.budget_usd:g} stops the run before its high estimate")
        values["usd"] = values["usd"].capped(settings.budget_usd)
    if settings.budget_tokens is not None:
        total = values["input"].high + values["output"].high
        if total > settings.budget_tokens:
            notes.append(f"the token budget {settings.budget_tokens:,} stops the run before its high estimate")
            share = settings.budget_tokens / total
            values["input"] = values["input"].capped(values["input"].high * share)
            values["output"] = values["output"].capped(values["output"].high * share)
    all_agents = [a for level in LEVELS for a in runs[level].agents]
    worst_usd, worst_tokens = _worst_turn(all_agents, settings)
    in_flight = max(1, min(settings.concurrency, int(values["agents"].high) or 1))
    budget_usd = values["usd"].high + in_flight * worst_usd
    budget_tokens = int(values["input"].high + values["output"].high) + in_flight * worst_tokens
    phase_order = [p for level in LEVELS for p in runs[level].phases]
    return Estimate(
        workflow=workflow.name, basis=ctx.basis, provider=settings.provider, concurrency=settings.concurrency,
        agents=values["agents"], input_tokens=values["input"], output_tokens=values["output"],
        cache_read_tokens=values["read"], cache_write_tokens=values["write"], cost_usd=values["usd"],
        minutes=minutes, by_phase=_breakdowns(phases, phase_order), by_model=_breakdowns(models, []),
        by_role=_by_role(expected_run.agents, ctx), budget_usd=budget_usd, budget_tokens=budget_tokens,
        calibrated_runs=calibrated_runs, notes=notes,
    )


def _latency(ctx: _Context, scale: float) -> Any:
    def latency(agent: DryAgent, first: bool) -> float:
        # the whole agent's modelled time is spent on its first turn; later dry turns (re-asks) add one turn
        seconds = agent_seconds(agent, "expected", ctx) * scale if first else (FIRST_TOKEN_S + TOOL_EXEC_S) * scale
        # an agent longer than its timeout would be cut off in the dry run and its tokens not counted
        return min(seconds, ctx.settings.agent_timeout_s * 0.9)

    return latency


def _context(basis: Basis, settings: Settings, scope: ScopeInput, calibration: dict[str, Calibrated] | None,
             token_factor: dict[str, float] | None) -> _Context:
    return _Context(basis, settings, scope_tokens(scope, settings), settings.provider == "anthropic",
                    token_factor or {}, calibration or {})


def estimate_sync(workflow: Workflow, args: Any, scope: ScopeInput, settings: Settings, *,
                  scenario: Scenario | Path | str | None = None, basis: Basis | None = None,
                  calibration: dict[str, Calibrated] | None = None, calibrated_runs: int = 0,
                  token_factor: dict[str, float] | None = None) -> tuple[Estimate, dict[str, DryRun]]:
    """The blocking part of :func:`estimate` (dry runs on their own virtual-clock loop)."""
    if workflow.problems:
        from .errors import ScriptError

        raise ScriptError(workflow.problems)
    _check_models(settings)
    chosen = basis or choose_basis(settings)
    source = scenario if scenario is not None else settings.scenario
    base = source if isinstance(source, Scenario) else (Scenario.load(source) if source is not None else None)
    ctx = _context(chosen, settings, scope, calibration, token_factor)

    def fresh(s: Scenario | None) -> Scenario:
        # each dry run gets its own call counters
        return Scenario(s.model, s.source) if s is not None else Scenario()

    runs: dict[str, DryRun] = {}
    if chosen == "scenario":
        latency = None
        runs["expected"] = dry_run_sync(workflow, args, settings, fresh(base), latency)
        runs["low"] = runs["high"] = runs["expected"]
    else:
        expected_scenario = fresh(base) if base is not None else VariantScenario(None, 1)
        runs["expected"] = dry_run_sync(workflow, args, settings, expected_scenario, _latency(ctx, LATENCY_SCALE[1]))
        runs["low"] = dry_run_sync(workflow, args, settings, VariantScenario(base, 0),
                                   _latency(ctx, LATENCY_SCALE[0]))
        runs["high"] = dry_run_sync(workflow, args, settings, VariantScenario(base, GENEROUS_ITEMS),
                                    _latency(ctx, LATENCY_SCALE[2]))
    if runs["expected"].checks:
        # the script looked at a check()'s result: try the other outcome too (commands never run here)
        latency = None if chosen == "scenario" else _latency(ctx, LATENCY_SCALE[1])
        runs["checks_fail"] = dry_run_sync(workflow, args, settings, fresh(base), latency, check_exit=1)
    return build_estimate(workflow, settings, runs, ctx, calibrated_runs), runs


async def estimate(workflow: Workflow, args: Any = None, scope: ScopeInput = None, settings: Settings | None = None,
                   *, store: Any = None, counter: Any = None, scenario: Scenario | Path | str | None = None,
                   basis: Basis | None = None) -> Estimate:
    """Agents, tokens, USD and minutes of running ``workflow`` with ``args``, each as low / expected / high.

    ``scope`` lists the files the agents work on (paths, ``(path, bytes)`` pairs or a mapping).
    ``store`` (a :class:`RunStore`) supplies calibration from earlier runs of the same workflow.
    ``counter`` is a model client whose ``count_tokens`` is asked once per distinct shared prefix
    (the Anthropic API's free count); without it a calibrated local count is used.
    Raises :class:`UnknownModel` (with the known models) before anything runs when a model has no price.
    The dry runs happen in a worker thread: the caller's event loop never blocks.
    """
    settings = settings or Settings()
    calibration: dict[str, Calibrated] = {}
    runs_used = 0
    chosen = basis or choose_basis(settings)
    if store is not None:
        from .calibration import load_calibration

        calibration, runs_used = await anyio.to_thread.run_sync(
            lambda: load_calibration(store, workflow.name, settings.provider, chosen))
    result, runs = await anyio.to_thread.run_sync(lambda: estimate_sync(
        workflow, args, scope, settings, scenario=scenario, basis=chosen, calibration=calibration,
        calibrated_runs=runs_used))
    if counter is not None and chosen == "priors":
        factors = await _count_online(counter, runs["expected"])
        if factors:
            # the counts change tokens and USD, not what the dry runs do (their latencies and fan-out
            # do not depend on them): rebuild from the same runs instead of dry-running again
            result = await anyio.to_thread.run_sync(lambda: build_estimate(
                workflow, settings, runs, _context(chosen, settings, scope, calibration, factors), runs_used))
    return result


async def _count_online(counter: Any, run: DryRun) -> dict[str, float]:
    """API count / local count for each shared prefix, from one representative request each."""
    from .providers.simulated import request_text
    from .scenario import estimate_tokens

    factors: dict[str, float] = {}
    for key, request in run.samples.items():
        try:
            counted = int(await counter.count_tokens(request))
        except Exception:
            continue  # offline or refused: keep the calibrated local count
        local = estimate_tokens(request_text(request))
        if counted > 0 and local > 0:
            factors[key] = counted / local
    return factors


def unknown_model_message(exc: UnknownModel) -> str:
    text = str(exc)
    return text if "pick one of" in text else f"{text}; known models: {', '.join(known_models())}"
