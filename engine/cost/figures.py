"""What an estimate says: low / expected / high ranges of agents, tokens, USD and minutes, per phase and
role, and the priors and calibrated ratios the figures start from."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

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
# web research, per agent that has the web tools (priors basis): searches and fetches over its run (low, expected;
# the high is the max_uses of one request), and the input tokens each result adds (a search's result set, a page)
WEB_SEARCHES = (1, 3)
WEB_FETCHES = (0, 1)
WEB_RESULT_TOKENS = (1_500, 4_000, 10_000)
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
    reused: int = 0  # agents an earlier run already answered (--reuse / --resume-from): not run, not counted
    web_searches: Range = Field(default_factory=Range)  # the API's web searches (in cost_usd at their price)
    web_fetches: Range = Field(default_factory=Range)

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
            "calibrated_runs": self.calibrated_runs, "notes": self.notes, "reused": self.reused,
            # only for workflows whose agents have web research: the shape of the others is unchanged
            **({"web_searches": self.web_searches.to_json(integer=True),
                "web_fetches": self.web_fetches.to_json(integer=True)}
               if self.web_searches.high or self.web_fetches.high else {}),
        }


# -- scope ----------------------------------------------------------------------------------------------

ScopeInput = Mapping[str, int] | Iterable[Any] | None


@dataclass
class Calibrated:
    """Measured per-role ratios (actual / base) and seconds per agent from finished runs."""

    input_ratio: float = 1.0
    output_ratio: float = 1.0
    seconds_per_agent: float | None = None
