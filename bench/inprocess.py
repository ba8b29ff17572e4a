"""The reference the script host is measured against: the script run inside the engine's own process.

Before the script host, a workflow script ran on the engine's event loop, instrumented, against the
engine's primitives. This module puts that path back for the benchmarks only (the engine itself has no
way to run a script in-process): :func:`in_process` swaps ``scripthost.execute`` for a function that runs
the dialect right here against the parent's ``ScriptContext``, with the same fan-out code the child uses.
Everything else (scheduler, agents, store, report) is the engine's own, so the difference between the
two runs is the process boundary: spawning aside, the pipe, the JSON and the child's CPU.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from workcrew.engine.runtime import run as run_module
from workcrew.engine.runtime.context import ScriptContext
from workcrew.engine.runtime.scripthost import fanout
from workcrew.engine.workflows.workflow import Workflow, dialect_module


class _InProcess:
    """The script's view of the engine when both share a process (what GuestContext is in the child)."""

    def __init__(self, context: ScriptContext, workflow: Workflow, args: Any) -> None:
        self.context = context
        self.state = context.state
        self.args = args
        self.budget = context.budget
        self.max_items = context.state.settings.max_items
        self.path = workflow.display_path

    def script_globals(self) -> dict[str, Any]:
        return {"agent": self.agent, "parallel": self.parallel, "pipeline": self.pipeline, "phase": self.phase,
                "log": self.log, "args": self.args, "budget": self.budget}

    def tick(self) -> bool:
        return True

    def ensure_alive(self) -> None:
        self.state.ensure_alive()

    def note_script_failure(self, reason: str) -> None:
        self.state.note_script_failure(reason)

    def print(self, *values: Any, sep: str = " ", end: str = "") -> None:
        self.context.log(sep.join(str(v) for v in values))

    def log(self, message: Any) -> None:
        self.context.log(message)

    def phase(self, title: Any, options: Any = None) -> None:
        self.context.phase(title, options)

    async def agent(self, prompt: str, **options: Any) -> Any:
        return await self.context.agent(prompt, **options)

    async def sleep(self, seconds: float) -> None:
        import asyncio

        await asyncio.sleep(seconds)

    async def parallel(self, tasks: Any) -> Any:
        return await fanout.parallel(self, tasks)

    async def pipeline(self, items: Any, *stages: Any) -> Any:
        return await fanout.pipeline(self, items, *stages)


async def _execute_here(context: ScriptContext, workflow: Workflow, args: Any, limits: Any = None) -> Any:
    module = dialect_module(workflow.dialect)
    return await module.execute(module.compile_body(workflow.source, workflow.display_path),
                                _InProcess(context, workflow, args))  # type: ignore[arg-type]


@contextlib.contextmanager
def in_process() -> Iterator[None]:
    """Runs started inside this block execute their script in this process (benchmarks only)."""
    original = run_module.scripthost.execute
    run_module.scripthost.execute = _execute_here  # type: ignore[assignment]
    try:
        yield
    finally:
        run_module.scripthost.execute = original  # type: ignore[assignment]
