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

    def add(self, other: Usage) -> None:
        # spelled out: dataclasses.fields() per call was a visible cost at 1000s of agents per run
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cache_creation_input_tokens += other.cache_creation_input_tokens
        self.cache_read_input_tokens += other.cache_read_input_tokens

    @property
    def total_tokens(self) -> int:
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_creation_input_tokens
            + self.cache_read_input_tokens
        )

    def to_dict(self) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
        }

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
    """USD per million tokens."""

    input: float
    output: float
    cache_write: float
    cache_write_1h: float
    cache_read: float

    def cost(self, usage: Usage) -> float:
        return (
            usage.input_tokens * self.input
            + usage.output_tokens * self.output
            + usage.cache_creation_input_tokens * self.cache_write
            + usage.cache_read_input_tokens * self.cache_read
        ) / 1_000_000


@cache
def _table() -> tuple[dict[str, str], dict[str, Price]]:
    raw = tomllib.loads(resources.files("workcrew.engine").joinpath("data/prices.toml").read_text("utf-8"))
    aliases = {str(k): str(v) for k, v in raw.get("aliases", {}).items()}
    prices = {name: Price(**values) for name, values in raw.get("models", {}).items()}
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
