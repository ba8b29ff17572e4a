"""One agent's figures at one level: the tokens of its prompt and the scope files it reads, its turns, the
cache split of its input and its seconds, from its dry-run record, the priors and the calibration."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..settings import Settings
from ..workspace.ignore import is_secret
from .dryrun import DryAgent
from .figures import (
    FIRST_TOKEN_S,
    LEVELS,
    MIN_CACHEABLE,
    ROLE_PRIORS,
    SCOPE_READ_FACTOR,
    TOKENIZER_FACTOR,
    TOOL_CALL_TOKENS,
    TOOL_EXEC_S,
    WEB_FETCHES,
    WEB_RESULT_TOKENS,
    WEB_SEARCHES,
    Basis,
    Calibrated,
    Level,
    ScopeInput,
    output_speed,
)
from .pricing import price_of

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
    web_searches: float = 0.0
    web_fetches: float = 0.0

    def add(self, other: Figures) -> None:
        self.agents += other.agents
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cache_read += other.cache_read
        self.cache_write += other.cache_write
        self.usd += other.usd
        self.web_searches += other.web_searches
        self.web_fetches += other.web_fetches


@dataclass
class EstimateContext:
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


def role_key(agent: DryAgent) -> str:
    return agent.role if agent.role in ROLE_PRIORS else "other"


def _index(level: Level) -> int:
    return LEVELS.index(level)


def base_tokens(agent: DryAgent, level: Level, ctx: EstimateContext) -> tuple[float, float, int]:
    """(input tokens, output tokens, model turns) of one agent before calibration."""
    if ctx.basis == "scenario":
        usage = agent.usage
        return float(usage.input_tokens), float(usage.output_tokens), max(1, len(agent.turns))
    i = _index(level)
    prior = ROLE_PRIORS[role_key(agent)]
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
    searches, fetches = web_uses(agent, level, ctx)
    # each result is read by the next sampling step of its request and, on average, by half the later turns
    input_tokens += (searches + fetches) * WEB_RESULT_TOKENS[i] * (1 + extra / 2)
    return input_tokens, output, extra + 1


def web_uses(agent: DryAgent, level: Level, ctx: EstimateContext) -> tuple[float, float]:
    """(web searches, web fetches) of one agent: measured when the scenario answers, else the priors for an
    agent whose requests offer the web tools (high: one request's max_uses); (0, 0) without web research."""
    if ctx.basis == "scenario":
        usage = agent.usage
        return float(usage.web_search_requests), float(usage.web_fetch_requests)
    max_searches, max_fetches = agent.web_limits
    if level == "high":
        return float(max_searches), float(max_fetches)
    i = _index(level)
    return float(min(WEB_SEARCHES[i], max_searches)), float(min(WEB_FETCHES[i], max_fetches))


def turn_inputs(agent: DryAgent, level: Level, ctx: EstimateContext, input_tokens: float, turns: int) -> list[float]:
    """Prompt tokens of each model turn: measured when the scenario answers, else growing linearly."""
    if ctx.basis == "scenario" and len(agent.turns) == turns:
        return [float(t.input_tokens) for t in agent.turns]
    if turns <= 1:
        return [input_tokens]
    # input = turns * first + step * turns * (turns - 1) / 2  with turn k's prompt = first + k * step
    first = agent.first_input_tokens * (TOKENIZER_FACTOR[_index(level)] if ctx.basis == "priors" else 1.0)
    step = max(0.0, (input_tokens - turns * first) * 2 / (turns * (turns - 1)))
    return [first + k * step for k in range(turns)]


def agent_figures(agent: DryAgent, level: Level, ctx: EstimateContext, prefixes_seen: set[str]) -> Figures:
    input_tokens, output, turns = base_tokens(agent, level, ctx)
    cal = ctx.calibration.get(role_key(agent))
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
    searches, fetches = web_uses(agent, level, ctx)
    usd += searches * price.web_search + fetches * price.web_fetch  # per use, on top of the result tokens
    return Figures(1.0, input_tokens, output, read, write, usd, searches, fetches)


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


def agent_seconds(agent: DryAgent, level: Level, ctx: EstimateContext) -> float:
    """How long one agent takes with a real model: per turn, time to first token plus output at the model's speed."""
    cal = ctx.calibration.get(role_key(agent))
    if cal is not None and cal.seconds_per_agent is not None:
        return cal.seconds_per_agent
    if ctx.basis == "scenario":
        return (agent.finished_s or 0.0) - (agent.started_s or 0.0)
    _input, output, turns = base_tokens(agent, level, ctx)
    return turns * (FIRST_TOKEN_S + TOOL_EXEC_S) + output / output_speed(agent.model)


# -- putting it together ----------------------------------------------------------------------------------
