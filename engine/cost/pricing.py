"""Token usage and its price in USD, from the one price table in ``data/prices.toml``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from functools import cache
from importlib import resources

from ..errors import UnknownModel


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    # server tools run by the API inside a turn (``usage.server_tool_use``): priced per use, not per token
    web_search_requests: int = 0
    web_fetch_requests: int = 0

    def add(self, other: Usage) -> None:
        # spelled out: dataclasses.fields() per call was a visible cost at 1000s of agents per run
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cache_creation_input_tokens += other.cache_creation_input_tokens
        self.cache_read_input_tokens += other.cache_read_input_tokens
        self.web_search_requests += other.web_search_requests
        self.web_fetch_requests += other.web_fetch_requests

    @property
    def total_tokens(self) -> int:
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_creation_input_tokens
            + self.cache_read_input_tokens
        )

    def to_dict(self) -> dict[str, int]:
        out = {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
        }
        # web uses only when there were some: runs without web research keep their usage shape
        if self.web_search_requests:
            out["web_search_requests"] = self.web_search_requests
        if self.web_fetch_requests:
            out["web_fetch_requests"] = self.web_fetch_requests
        return out

    @classmethod
    def from_dict(cls, data: dict[str, object] | None) -> Usage:
        data = data or {}
        out = cls()
        for f in fields(cls):
            value = data.get(f.name)
            if isinstance(value, int):
                setattr(out, f.name, value)
        return out


@dataclass(frozen=True)
class Price:
    """USD per million tokens, and USD per use of the API's server tools (the ``[server_tools]`` table)."""

    input: float
    output: float
    cache_write: float
    cache_write_1h: float
    cache_read: float
    web_search: float = 0.0  # per search
    web_fetch: float = 0.0  # per fetch

    def cost(self, usage: Usage) -> float:
        return (
            usage.input_tokens * self.input
            + usage.output_tokens * self.output
            + usage.cache_creation_input_tokens * self.cache_write
            + usage.cache_read_input_tokens * self.cache_read
        ) / 1_000_000 + usage.web_search_requests * self.web_search + usage.web_fetch_requests * self.web_fetch


@dataclass(frozen=True)
class WebAllowance:
    """What the server tools of one request may add at most: uses (``max_uses``) and input tokens per use.

    Web fetch caps its content (``max_content_tokens``, approximate: a margin is added); web search has no
    such cap, so ``search_tokens`` is an allowance (``web_search_result_tokens``) the budget relies on."""

    searches: int = 0
    fetches: int = 0
    search_tokens: int = 0
    fetch_tokens: int = 0

    def extra_input_tokens(self, prompt_tokens: int, max_tokens: int) -> int:
        """The most input tokens the uses can add to one request. Each use is followed by one more sampling
        step of the model inside the same request, which reads the prompt, every result so far and the output
        so far again (results "are counted as input tokens, in search iterations executed during a single
        turn", docs/cost.md): with k uses of r tokens, k * (prompt + max_tokens) + r * k * (k + 1) / 2."""
        uses = self.searches + self.fetches
        if uses <= 0:
            return 0
        per_use = max(self.search_tokens if self.searches else 0, self.fetch_tokens if self.fetches else 0)
        return uses * (max(0, prompt_tokens) + max(0, max_tokens)) + per_use * uses * (uses + 1) // 2


@cache
def _table() -> tuple[dict[str, str], dict[str, Price]]:
    raw = tomllib.loads(resources.files("workcrew.engine").joinpath("data/prices.toml").read_text("utf-8"))
    aliases = {str(k): str(v) for k, v in raw.get("aliases", {}).items()}
    server_tools = {f"web_{k}": float(v) for k, v in raw.get("server_tools", {}).items() if k in ("search", "fetch")}
    # a model's own row may override the per-use prices; otherwise every model pays the [server_tools] ones
    prices = {name: Price(**{**server_tools, **values}) for name, values in raw.get("models", {}).items()}
    return aliases, prices


_table()  # every run prices its agents: read the table with the module, not inside the first run


def resolve_model(name: str) -> str:
    """Full model id for an alias (``haiku``) or the name itself."""
    aliases, _ = _table()
    return aliases.get(name, name)


def known_models() -> list[str]:
    return sorted(_table()[1])


def price_of(model: str) -> Price:
    _, prices = _table()
    resolved = resolve_model(model)
    if resolved in prices:
        return prices[resolved]
    # dated snapshots such as claude-sonnet-5-5-20260901 share their family's price
    for name, price in prices.items():
        if resolved.startswith(name + "-"):
            return price
    raise UnknownModel(
        f"no price for model {model!r}: add it to the price table or pick one of {', '.join(known_models())}"
    )


def cost_usd(model: str, usage: Usage) -> float:
    return price_of(model).cost(usage)


def money(value: float) -> str:
    """USD as the approval texts show it: four decimals under a dollar, two above."""
    if value == 0:
        return "$0"
    return f"${value:,.4f}" if value < 1 else f"${value:,.2f}"
