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
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import anyio

from ..errors import UnknownModel
from ..providers.scenario import Scenario
from ..providers.web import FETCH_TOKEN_MARGIN
from ..runtime.resume import ResumeCache
from ..settings import Settings
from ..workflows.workflow import Workflow
from .dryrun import DryAgent, DryRun, VariantScenario, dry_run_sync
from .figures import (
    CHECK_PASS_RATE,
    FIRST_TOKEN_S,
    GENEROUS_ITEMS,
    LATENCY_SCALE,
    LEVELS,
    SCENARIO_MARGIN,
    TOKENIZER_FACTOR,
    TOOL_EXEC_S,
    Basis,
    Breakdown,
    Calibrated,
    Estimate,
    Level,
    Range,
    RoleFigures,
    ScopeInput,
)
from .per_agent import (
    EstimateContext,
    Figures,
    agent_figures,
    agent_seconds,
    base_tokens,
    role_key,
    scope_tokens,
)
from .pricing import Price, WebAllowance, known_models, price_of

__all__ = ["Estimate", "Range", "build_estimate", "choose_basis", "estimate", "estimate_sync", "unknown_model_message"]


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


def _total(agents: list[DryAgent], level: Level, ctx: EstimateContext) -> tuple[Figures, dict[str, Figures],
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


_FIELDS = ("agents", "input_tokens", "output_tokens", "cache_read", "cache_write", "usd", "web_searches",
           "web_fetches")


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


def _by_role(agents: list[DryAgent], ctx: EstimateContext) -> list[RoleFigures]:
    groups: dict[str, list[DryAgent]] = {}
    for agent in agents:
        groups.setdefault(role_key(agent), []).append(agent)
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
    """The most one model turn can cost (USD, tokens): what a budget reserves for each turn in flight (with web
    research, every use the request allows and the input its results may add, as ``Budget.worst_case``)."""
    usd, tokens = 0.0, 0
    for agent in agents:
        price: Price = price_of(agent.model)
        prompt = max((t.input_tokens for t in agent.turns), default=0) * TOKENIZER_FACTOR[2]
        searches, fetches = agent.web_limits
        web = WebAllowance(searches, fetches, settings.web_search_result_tokens,
                           int(settings.web_fetch_max_content_tokens * FETCH_TOKEN_MARGIN))
        prompt += web.extra_input_tokens(int(prompt), settings.max_tokens)
        uses = searches * price.web_search + fetches * price.web_fetch
        usd = max(usd, (prompt * max(price.input, price.cache_write) + settings.max_tokens * price.output) / 1e6
                  + uses)
        tokens = max(tokens, int(prompt) + settings.max_tokens)
    return usd, tokens


def build_estimate(workflow: Workflow, settings: Settings, runs: dict[str, DryRun], ctx: EstimateContext,
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
    if expected_run.reused:
        notes.append(f"{expected_run.reused} agents are reused from an earlier run (no cost); the figures count "
                     "only the agents that will run")
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
        calibrated_runs=calibrated_runs, notes=notes, reused=expected_run.reused,
        web_searches=_range(totals, "web_searches"), web_fetches=_range(totals, "web_fetches"),
    )


def _latency(ctx: EstimateContext, scale: float) -> Any:
    def latency(agent: DryAgent, first: bool) -> float:
        # the whole agent's modelled time is spent on its first turn; later dry turns (re-asks) add one turn
        seconds = agent_seconds(agent, "expected", ctx) * scale if first else (FIRST_TOKEN_S + TOOL_EXEC_S) * scale
        # an agent longer than its timeout would be cut off in the dry run and its tokens not counted
        return min(seconds, ctx.settings.agent_timeout_s * 0.9)

    return latency


def _context(basis: Basis, settings: Settings, scope: ScopeInput, calibration: dict[str, Calibrated] | None,
             token_factor: dict[str, float] | None) -> EstimateContext:
    return EstimateContext(basis, settings, scope_tokens(scope, settings), settings.provider == "anthropic",
                    token_factor or {}, calibration or {})


def estimate_sync(workflow: Workflow, args: Any, scope: ScopeInput, settings: Settings, *,
                  scenario: Scenario | Path | str | None = None, basis: Basis | None = None,
                  calibration: dict[str, Calibrated] | None = None, calibrated_runs: int = 0,
                  token_factor: dict[str, float] | None = None,
                  reuse: ResumeCache | None = None) -> tuple[Estimate, dict[str, DryRun]]:
    """The blocking part of :func:`estimate` (dry runs on their own virtual-clock loop)."""
    if workflow.problems:
        from ..errors import ScriptError

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
        runs["expected"] = dry_run_sync(workflow, args, settings, fresh(base), latency, reuse=reuse)
        runs["low"] = runs["high"] = runs["expected"]
    else:
        expected_scenario = fresh(base) if base is not None else VariantScenario(None, 1)
        runs["expected"] = dry_run_sync(workflow, args, settings, expected_scenario, _latency(ctx, LATENCY_SCALE[1]),
                                        reuse=reuse)
        runs["low"] = dry_run_sync(workflow, args, settings, VariantScenario(base, 0),
                                   _latency(ctx, LATENCY_SCALE[0]), reuse=reuse)
        runs["high"] = dry_run_sync(workflow, args, settings, VariantScenario(base, GENEROUS_ITEMS),
                                    _latency(ctx, LATENCY_SCALE[2]), reuse=reuse)
    if runs["expected"].checks:
        # the script looked at a check()'s result: try the other outcome too (commands never run here)
        latency = None if chosen == "scenario" else _latency(ctx, LATENCY_SCALE[1])
        runs["checks_fail"] = dry_run_sync(workflow, args, settings, fresh(base), latency, check_exit=1,
                                           reuse=reuse)
    return build_estimate(workflow, settings, runs, ctx, calibrated_runs), runs


async def estimate(workflow: Workflow, args: Any = None, scope: ScopeInput = None, settings: Settings | None = None,
                   *, store: Any = None, counter: Any = None, scenario: Scenario | Path | str | None = None,
                   basis: Basis | None = None, reuse: ResumeCache | None = None) -> Estimate:
    """Agents, tokens, USD and minutes of running ``workflow`` with ``args``, each as low / expected / high.

    ``scope`` lists the files the agents work on (paths, ``(path, bytes)`` pairs or a mapping).
    ``store`` (a :class:`RunStore`) supplies calibration from earlier runs of the same workflow.
    ``reuse`` (a loaded :class:`ResumeCache`): calls an earlier run's finished agents answer are not counted.
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
        calibrated_runs=runs_used, reuse=reuse))
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
    from ..providers.scenario import estimate_tokens
    from ..providers.simulated import request_text

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
