"""Errors raised by the engine. Every message says what happened and what to do next."""

from __future__ import annotations

from dataclasses import dataclass


class WorkcrewError(Exception):
    """Base class of every error the engine raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One problem in a workflow script, printed as ``path:line:col: rule: message``."""

    path: str
    line: int
    col: int
    rule: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.rule}: {self.message}"


class ScriptError(WorkcrewError):
    """A workflow script that cannot run; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class WorkflowNotFound(WorkcrewError):
    pass


class UsageError(WorkcrewError):
    """Bad arguments or settings given by the user."""


class LimitExceeded(WorkcrewError):
    """A run limit (agent count, items per call, nesting) was hit."""


class BudgetExceeded(WorkcrewError):
    """The run's approved budget cannot fit another agent."""


class ScriptTimeout(WorkcrewError):
    """Synchronous script code ran too long without yielding."""


class AgentFailed(WorkcrewError):
    """An agent ended without a usable result; ``reason`` is recorded in the run store."""

    def __init__(self, reason: str, *, kind: str = "error") -> None:
        self.reason = reason
        self.kind = kind
        super().__init__(reason)


class RunCancelled(WorkcrewError):
    pass


class UnknownModel(WorkcrewError):
    """A model with no entry in the price table: refusing to guess its cost."""


class UnknownAgentType(UsageError):
    """``agent_type`` names no built-in type and no definition (``.claude/agents/NAME.md``); lists the known ones."""


class AgentDefinitionError(UsageError):
    """An agent type's definition file cannot be used: ``path:line: problem`` and what to do."""


class ScriptInterrupted(BaseException):
    """Stops a runaway script; a BaseException so `except Exception` in the script cannot swallow it."""

    def as_error(self) -> ScriptTimeout:
        return ScriptTimeout(str(self))


def leaf_error(exc: BaseException) -> BaseException | None:
    """The one meaningful error inside (nested) exception groups — a stopped script's first; None when there
    is only cancellation."""
    import asyncio

    if isinstance(exc, BaseExceptionGroup):
        leaves = [leaf for leaf in (leaf_error(e) for e in exc.exceptions) if leaf is not None]
        interrupted = [leaf for leaf in leaves if isinstance(leaf, ScriptInterrupted)]
        return (interrupted or leaves or [None])[0]
    if isinstance(exc, asyncio.CancelledError):
        return None
    return exc


def describe_failure(exc: BaseException, path: str) -> str:
    """What a run that ended with ``exc`` says: the engine's own message, or the script's error with the
    script's own frame (``path:line``), never the engine's frames."""
    import traceback

    leaf = leaf_error(exc) or exc
    if isinstance(leaf, ScriptInterrupted):
        return str(leaf.as_error())
    if isinstance(leaf, WorkcrewError):
        return str(leaf)
    frames = [f for f in traceback.extract_tb(leaf.__traceback__) if f.filename == path]
    where = f" at {frames[-1].filename}:{(frames[-1].lineno or 1) - 1}" if frames else ""  # the body is wrapped
    return f"{type(leaf).__name__}: {leaf}{where}"
