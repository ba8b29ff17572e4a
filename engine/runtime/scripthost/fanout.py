"""What the script's fan-out primitives return and how they run: ``parallel`` and ``pipeline``.

They run where the script runs (the script host child), on the script's own coroutines; only the agents
they start cross to the parent. A slot's failure reason is its failed agent's reason when one failed,
else the exception its own code raised (counted on the run as a script failure).
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

from ...errors import LimitExceeded, WorkcrewError

if TYPE_CHECKING:
    from ...results.findings import Patch

# failure reasons of agents awaited inside one parallel()/pipeline() slot
slot_failures: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("slot_failures", default=None)


class AgentText(str):
    """An agent's text answer; ``.patch`` holds what it changed when it ran isolated."""

    patch: Patch | None = None
    agent_id: str | None = None


class AgentDict(dict[str, Any]):
    """An agent's structured answer; ``.patch`` holds what it changed when it ran isolated."""

    patch: Patch | None = None
    agent_id: str | None = None


class ParallelResult(list[Any]):
    """Results in input order (``None`` where a task failed) with the accounting of the call."""

    def __init__(self, values: list[Any], reasons: dict[int, str]) -> None:
        super().__init__(values)
        self.launched = len(values)
        self.failed = len(reasons)
        self.succeeded = self.launched - self.failed
        self.reasons = dict(sorted(reasons.items()))

    def __repr__(self) -> str:
        return f"{list.__repr__(self)} (launched={self.launched}, succeeded={self.succeeded}, failed={self.failed})"


def note_agent_failure(reason: str) -> None:
    """Attribute a failed agent's reason to the fan-out slot it ran in (if any)."""
    slot = slot_failures.get()
    if slot is not None:
        slot.append(reason)


def describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, WorkcrewError) else f"{type(exc).__name__}: {text}"


def _stage_arity(stage: Callable[..., Any]) -> int:
    try:
        params = inspect.signature(stage).parameters.values()
    except (TypeError, ValueError):
        return 3
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return 3
    return min(3, sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params))


class FanOutHost(Protocol):
    """What the fan-out needs from the context it runs in."""

    max_items: int

    def ensure_alive(self) -> None: ...

    def log(self, message: Any) -> None: ...

    def note_script_failure(self, reason: str) -> None: ...


SPAWN_BATCH = 16


async def _spaced(index: int) -> None:
    """Yield to the event loop after every batch of spawned tasks, so set-up never holds the loop for long."""
    if index % SPAWN_BATCH == SPAWN_BATCH - 1:
        await asyncio.sleep(0)


def _check_items(host: FanOutHost, what: str, count: int) -> None:
    if count > host.max_items:
        raise LimitExceeded(
            f"{what}() takes at most {host.max_items} items per call; got {count}. Split the list into batches."
        )


def _note_failures(host: FanOutHost, what: str, outcome: ParallelResult) -> None:
    if outcome.failed:
        first = next(iter(outcome.reasons.values()))
        host.log(f"{what}(): {outcome.failed} of {outcome.launched} failed (first: {first})")


async def parallel(host: FanOutHost, tasks: Iterable[Any]) -> ParallelResult:
    """Run awaitables or zero-argument callables concurrently; a barrier. Failures become None."""
    host.ensure_alive()
    items = list(tasks)
    try:
        _check_items(host, "parallel", len(items))
    except LimitExceeded:
        for item in items:
            if inspect.iscoroutine(item):
                item.close()
        raise
    results: list[Any] = [None] * len(items)
    reasons: dict[int, str] = {}

    async def run_one(index: int, task: Any) -> None:
        failures: list[str] = []
        slot_failures.set(failures)
        try:
            value = task() if callable(task) and not inspect.isawaitable(task) else task
            if inspect.isawaitable(value):
                value = await value
        except Exception as exc:
            reasons[index] = describe(exc)
            if not failures:  # not a failed agent (counted already): the script's own code threw
                host.note_script_failure(f"parallel() slot {index}: {reasons[index]}")
            return
        results[index] = value
        if value is None and failures:
            reasons[index] = failures[-1]

    async with asyncio.TaskGroup() as group:
        for index, task in enumerate(items):
            group.create_task(run_one(index, task))
            await _spaced(index)
    outcome = ParallelResult(results, reasons)
    _note_failures(host, "parallel", outcome)
    return outcome


async def pipeline(host: FanOutHost, items: Iterable[Any], *stages: Callable[..., Any]) -> ParallelResult:
    """Each item runs through the stages on its own (no barrier). A raising stage makes the item None."""
    host.ensure_alive()
    values = list(items)
    _check_items(host, "pipeline", len(values))
    for stage in stages:
        if not callable(stage):
            raise TypeError(f"pipeline() stages must be callables, not {type(stage).__name__}")
    arities = [_stage_arity(s) for s in stages]
    results: list[Any] = [None] * len(values)
    reasons: dict[int, str] = {}

    async def run_item(index: int, item: Any) -> None:
        failures: list[str] = []
        slot_failures.set(failures)
        previous = item
        for number, (stage, arity) in enumerate(zip(stages, arities, strict=True), start=1):
            try:
                value = stage(*(previous, item, index)[:arity])
                if inspect.isawaitable(value):
                    value = await value
            except Exception as exc:
                reasons[index] = f"stage {number}: {describe(exc)}"
                if not failures:  # not a failed agent (counted already): the script's own code threw
                    host.note_script_failure(f"pipeline() item {index}: {reasons[index]}")
                return
            previous = value
        results[index] = previous
        if previous is None and failures:
            reasons[index] = failures[-1]

    async with asyncio.TaskGroup() as group:
        for index, item in enumerate(values):
            group.create_task(run_item(index, item))
            await _spaced(index)
    outcome = ParallelResult(results, reasons)
    _note_failures(host, "pipeline", outcome)
    return outcome
