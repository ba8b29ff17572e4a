"""Hard budgets: every model turn reserves its worst case before it is sent, so the total never overshoots."""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import BudgetExceeded
from .pricing import Usage, WebAllowance, price_of


@dataclass
class Reservation:
    tokens: int
    usd: float


class Budget:
    """Token and USD limits shared by a run and its nested workflow.

    ``spent`` counts settled usage; ``reserved`` counts turns in flight at their worst case
    (prompt tokens plus ``max_tokens`` output, priced at the dearer input rate, plus every server-tool use
    the request allows and what its results may add). A reservation that
    does not fit is refused, so ``spent`` can never pass the limit under any concurrency.
    """

    WARN_AT = (0.75, 0.9)
    # the prompt is reserved a little above its count: the count (the API's, or the local one offline)
    # is an estimate of what is billed, and the guarantee must hold even when it is slightly low
    INPUT_MARGIN = 0.02

    def __init__(self, total_tokens: int | None = None, total_usd: float | None = None,
                 on_warning: Callable[[float, str], None] | None = None) -> None:
        self.total_tokens = total_tokens
        self.total_usd = total_usd
        self.spent_tokens = 0
        self.spent_usd = 0.0
        self.reserved_tokens = 0
        self.reserved_usd = 0.0
        self.refused = 0
        self.overruns = 0  # turns billed above their reservation (must stay 0; tests/cost checks it)
        self.on_warning = on_warning
        self._warned: set[float] = set()
        self._lock = threading.Lock()
        self._waiters: list[asyncio.Future[None]] = []  # turns waiting for room (reserve_when_it_fits)

    @property
    def limited(self) -> bool:
        return self.total_tokens is not None or self.total_usd is not None

    def worst_case(self, model: str, input_tokens: int, max_tokens: int,
                   web: WebAllowance | None = None) -> tuple[int, float]:
        """(tokens, USD) a turn may cost at most: the prompt (with a margin) written to the cache, the dearest
        input rate, plus the whole ``max_tokens`` as output; with server tools (``web``), every use the request
        allows (``max_uses``) at its per-use price and the input tokens its results may add."""
        price = price_of(model)
        prompt = math.ceil(max(0, input_tokens) * (1 + self.INPUT_MARGIN))
        if web is not None:
            prompt += web.extra_input_tokens(prompt, max_tokens)
        tokens = prompt + max(0, max_tokens)
        usd = (prompt * max(price.input, price.cache_write) + max(0, max_tokens) * price.output) / 1_000_000
        if web is not None:
            usd += web.searches * price.web_search + web.fetches * price.web_fetch
        return tokens, usd

    def fits_when_settled(self, tokens: int, usd: float) -> bool:
        """Whether a turn of this worst case would fit with nothing in flight (on what is spent alone)."""
        with self._lock:
            return ((self.total_tokens is None or self.spent_tokens + tokens <= self.total_tokens)
                    and (self.total_usd is None or self.spent_usd + usd <= self.total_usd + 1e-12))

    async def reserve_when_it_fits(self, model: str, input_tokens: int, max_tokens: int,
                                   web: WebAllowance | None = None) -> Reservation:
        """Reserve the turn's worst case, waiting while turns in flight hold the room it needs. It is refused
        (:class:`BudgetExceeded`) only when it could not fit even with nothing in flight: a cap of $1 with 16
        agents in flight lets each wait for the others instead of failing them all at once."""
        tokens, usd = self.worst_case(model, input_tokens, max_tokens, web)
        while True:
            try:
                return self.reserve(model, input_tokens, max_tokens, count_refusal=False, web=web)
            except BudgetExceeded:
                if not self.fits_when_settled(tokens, usd) or not self._in_flight():
                    with self._lock:
                        self.refused += 1
                    raise
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter  # a settle may have made room: try again
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)

    def _in_flight(self) -> bool:
        with self._lock:
            return self.reserved_tokens > 0 or self.reserved_usd > 0

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def reserve(self, model: str, input_tokens: int, max_tokens: int, *, count_refusal: bool = True,
                web: WebAllowance | None = None) -> Reservation:
        tokens, usd = self.worst_case(model, input_tokens, max_tokens, web)
        with self._lock:
            if self.total_tokens is not None and self.spent_tokens + self.reserved_tokens + tokens > self.total_tokens:
                self.refused += count_refusal
                raise BudgetExceeded(
                    f"token budget exhausted: {self.spent_tokens:,} spent + {self.reserved_tokens:,} in flight"
                    f" of {self.total_tokens:,}; this turn needs up to {tokens:,}"
                )
            if self.total_usd is not None and self.spent_usd + self.reserved_usd + usd > self.total_usd + 1e-12:
                self.refused += count_refusal
                raise BudgetExceeded(
                    f"USD budget exhausted: ${self.spent_usd:.4f} spent + ${self.reserved_usd:.4f} in flight"
                    f" of ${self.total_usd:.4f}; this turn needs up to ${usd:.4f}"
                )
            self.reserved_tokens += tokens
            self.reserved_usd += usd
            return Reservation(tokens, usd)

    def settle(self, reservation: object, model: str, usage: Usage) -> None:
        assert isinstance(reservation, Reservation)
        cost = price_of(model).cost(usage)
        with self._lock:
            self.reserved_tokens -= reservation.tokens
            self.reserved_usd -= reservation.usd
            if usage.total_tokens > reservation.tokens or cost > reservation.usd + 1e-12:
                self.overruns += 1
            self.spent_tokens += usage.total_tokens
            self.spent_usd += cost
        self._wake()
        self._maybe_warn()

    def charge(self, model: str, usage: Usage) -> None:
        """Record usage that was not reserved (a run without limits reserves nothing; see ScriptContext._account)."""
        with self._lock:
            self.spent_tokens += usage.total_tokens
            self.spent_usd += price_of(model).cost(usage)
        self._maybe_warn()

    def fraction_used(self) -> float:
        parts = []
        if self.total_tokens:
            parts.append(self.spent_tokens / self.total_tokens)
        if self.total_usd:
            parts.append(self.spent_usd / self.total_usd)
        return max(parts, default=0.0)

    def _maybe_warn(self) -> None:
        if self.on_warning is None or not self.limited:
            return
        used = self.fraction_used()
        for mark in self.WARN_AT:
            if used >= mark and mark not in self._warned:
                self._warned.add(mark)
                self.on_warning(mark, f"{used:.0%} of the budget spent")


class ScriptBudget:
    """What a script sees as ``budget``: tokens, like Claude Code, plus the USD view."""

    def __init__(self, budget: Budget) -> None:
        self._budget = budget

    @property
    def total(self) -> int | None:
        return self._budget.total_tokens

    def spent(self) -> int:
        return self._budget.spent_tokens

    def remaining(self) -> float:
        if self._budget.total_tokens is None:
            return math.inf
        return max(0, self._budget.total_tokens - self._budget.spent_tokens)

    @property
    def total_usd(self) -> float | None:
        return self._budget.total_usd

    def spent_usd(self) -> float:
        return self._budget.spent_usd

    def remaining_usd(self) -> float:
        if self._budget.total_usd is None:
            return math.inf
        return max(0.0, self._budget.total_usd - self._budget.spent_usd)

    def __repr__(self) -> str:
        return f"budget(total={self.total}, spent={self.spent()})"
