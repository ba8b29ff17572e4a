"""The script host child: runs one workflow script and asks the parent for everything else.

``python -I -m workcrew.engine.runtime.scripthost.guest`` reads the parent's messages on stdin and writes its own
on stdout (see ``protocol``). It confines itself first (``confine.apply``), then compiles and runs the
script with a :class:`GuestContext` per workflow level: the same primitives the dialects call in-process,
where ``agent``, ``check``, ``ask``, ``workflow`` and ``sleep`` are calls to the parent and ``parallel`` /
``pipeline`` run here. Budget, store, scheduler and agents never enter this process.
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
import os
import sys
import time
from typing import Any

from ...errors import ScriptInterrupted, WorkcrewError, describe_failure
from ...workflows import library
from . import fanout
from .fanout import AgentDict, AgentText, ParallelResult
from .protocol import Limits, Lines, decode, encode_text, exception_from


class GuestState:
    """What the dialects read from ``ctx.state``: the liveness watchdog, warnings, log lines."""

    TICK_GAP_S = 1.0

    def __init__(self, guest: Guest, limits: Limits) -> None:
        self.guest = guest
        self.settings = limits  # sync_slice_s and max_items, under the names the dialects use
        self.script_dead: str | None = None
        self._warned: set[str] = set()
        self.beat = time.monotonic()
        self._seen_beat = self.beat
        self._slice_start = self.beat
        self._last_tick = self.beat
        self._tick_gap = min(self.TICK_GAP_S, limits.sync_slice_s / 2)

    def tick(self) -> bool:
        """Called by the instrumented Python script in every loop, call and comprehension step: a
        synchronous stretch longer than ``sync_slice_s`` stops the script with a clear reason. (A single
        long C call never ticks; the parent's CPU watchdog stops those.)"""
        if self.script_dead is not None:
            raise ScriptInterrupted(self.script_dead)
        now = time.monotonic()
        if self.beat != self._seen_beat or now - self._last_tick > self._tick_gap:
            self._seen_beat = self.beat
            self._slice_start = now
        self._last_tick = now
        if now - self._slice_start > self.settings.sync_slice_s:
            self.script_dead = (
                f"the script ran synchronous code for over {self.settings.sync_slice_s:g} s without awaiting "
                "(a busy loop or runaway recursion?); it was stopped"
            )
            raise ScriptInterrupted(self.script_dead)
        return True

    async def heartbeat(self) -> None:
        while True:
            self.beat = time.monotonic()
            await asyncio.sleep(0.05)

    def ensure_alive(self) -> None:
        if self.script_dead is not None:
            raise ScriptInterrupted(self.script_dead)

    def warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self.guest.notify({"t": "warn", "message": message})

    def note_script_failure(self, reason: str) -> None:
        self.guest.notify({"t": "script_failure", "reason": reason})


class GuestBudget:
    """``budget`` in scripts: the parent's figures as of its latest reply."""

    def __init__(self, guest: Guest, total: int | None) -> None:
        self._guest = guest
        self.total = total

    def spent(self) -> int:
        return self._guest.spent

    def remaining(self) -> float:
        return math.inf if self._guest.remaining is None else self._guest.remaining


class GuestContext:
    """One workflow level's primitives, as the dialects call them (``ScriptContext``'s interface)."""

    def __init__(self, guest: Guest, name: str, path: str, args: Any, *, level: int = 0, depth: int = 0) -> None:
        self.guest = guest
        self.state = guest.state
        self.name = name
        self.path = path
        self.args = args
        self.level = level
        self.depth = depth
        self.budget = guest.budget
        self.max_items = guest.limits.max_items

    def script_globals(self) -> dict[str, Any]:
        return {
            "agent": self.agent, "parallel": self.parallel, "pipeline": self.pipeline, "phase": self.phase,
            "log": self.log, "workflow": self.run_workflow, "args": self.args, "budget": self.budget,
            "check": self.check, "report": self.report, "ask": self.ask,
            # the pattern library (library.py): the same for both dialects
            "scout": functools.partial(library.scout, self), "vote": functools.partial(library.vote, self),
            "finding": library.finding, "verdicts": library.verdicts, "CANDIDATE": library.CANDIDATE,
            "fix_loop": functools.partial(library.fix_loop, self),
        }

    def tick(self) -> bool:
        return self.state.tick()

    def ensure_alive(self) -> None:
        self.state.ensure_alive()

    def note_script_failure(self, reason: str) -> None:
        self.state.note_script_failure(reason)

    # -- display ---------------------------------------------------------------------------------

    def print(self, *values: Any, sep: str = " ", end: str = "") -> None:
        self.log(sep.join(str(v) for v in values))

    def log(self, message: Any) -> None:
        self.state.ensure_alive()
        text = str(message)
        self.guest.count_log(text)
        self.guest.notify({"t": "log", "level": self.level, "message": text})

    def phase(self, title: Any, options: Any = None) -> None:
        self.state.ensure_alive()
        from ...schema import to_jsonable

        self.guest.notify({"t": "phase", "level": self.level, "title": str(title),
                           "options": None if options is None else to_jsonable(options)})

    # -- calls to the parent ---------------------------------------------------------------------

    async def agent(self, prompt: Any, *, schema: Any = None, label: Any = None, phase: Any = None,
                    model: Any = None, effort: Any = None, isolation: Any = None, agent_type: Any = None,
                    timeout: Any = None, tools: Any = None) -> Any:
        self.state.ensure_alive()
        result_schema = None
        if schema is not None:
            from ...schema import ResultSchema

            result_schema = ResultSchema(schema)  # a bad schema raises here, in the script, as in-process
        # options left out are None on the parent's side too: a shorter message to encode and decode
        args: dict[str, Any] = {"prompt": prompt}
        if label is not None:
            args["label"] = label
        if result_schema is not None or phase is not None or model is not None or effort is not None or (
                isolation is not None or agent_type is not None or timeout is not None or tools is not None):
            options = {"schema": result_schema.json_schema if result_schema else None, "phase": phase,
                       "model": model, "effort": effort, "isolation": isolation, "agent_type": agent_type,
                       "timeout": timeout, "tools": sorted(tools) if isinstance(tools, set | frozenset) else tools}
            args.update((key, value) for key, value in options.items() if value is not None)
        reply = await self.guest.call("agent", self.level, args)
        value = reply.get("value")
        if value is None:
            return None
        if result_schema is not None and result_schema.model is not None:
            value, errors = result_schema.validate(value)
            if errors:
                raise WorkcrewError(f"the agent's answer does not fit {result_schema.model.__name__}: {errors[0]}")
        if reply.get("patch") is not None:
            from ...results.findings import Patch

            patched: AgentText | AgentDict | Any = value
            if isinstance(value, str):
                patched = AgentText(value)
            elif isinstance(value, dict):
                patched = AgentDict(value)
            if isinstance(patched, AgentText | AgentDict):
                patched.patch = Patch.model_validate(reply["patch"])
                patched.agent_id = reply.get("agent_id")
                return patched
        return value

    async def parallel(self, tasks: Any) -> ParallelResult:
        return await fanout.parallel(self, tasks)

    async def pipeline(self, items: Any, *stages: Any) -> ParallelResult:
        return await fanout.pipeline(self, items, *stages)

    async def run_workflow(self, name_or_path: Any, args: Any = None) -> Any:
        """A child workflow: the parent resolves and reads it; it runs here, at the next level."""
        self.state.ensure_alive()
        reply = await self.guest.call("workflow", self.level, {"target": str(name_or_path), "args": args})
        child = reply["value"]
        context = GuestContext(self.guest, child["name"], child["path"], args, level=int(child["level"]),
                               depth=self.depth + 1)
        try:
            result = await self.guest.execute(child["source"], child["dialect"], child["path"], context)
        except BaseException as exc:
            self.guest.notify({"t": "workflow_end", "level": context.level, "error": fanout.describe(exc)})
            raise
        self.guest.notify({"t": "workflow_end", "level": context.level, "error": None})
        return result

    async def check(self, command: Any, *, cwd: Any = None, timeout: Any = 600, isolation: Any = None) -> Any:
        self.state.ensure_alive()
        reply = await self.guest.call("check", self.level, {"command": command, "cwd": cwd, "timeout": timeout,
                                                            "isolation": _patch_data(isolation)})
        return reply["value"]

    def report(self, finding: Any) -> str:
        """Emit a finding (validated here, so a bad one raises in the script); returns its id."""
        self.state.ensure_alive()
        from pydantic import BaseModel

        from ...results.findings import make_finding

        if isinstance(finding, BaseModel):
            finding = finding.model_dump()
        if isinstance(finding, dict):
            finding = dict(finding)
            if "fix" in finding:
                finding["fix"] = _patch_data(finding["fix"])
        made = make_finding(finding, run_id=self.guest.run_id)
        self.guest.notify({"t": "report", "level": self.level, "finding": finding})
        return made.id

    async def ask(self, question: Any, choices: Any = None) -> Any:
        self.state.ensure_alive()
        reply = await self.guest.call("ask", self.level, {"question": str(question), "choices": choices})
        return reply["value"]

    async def sleep(self, seconds: float) -> None:
        """A timer on the parent's clock (virtual in a dry run)."""
        await self.guest.call("sleep", self.level, {"s": max(0.0, float(seconds))})


def _patch_data(value: Any) -> Any:
    """An isolated agent's result as its patch (a dict) for the parent; other values as they are."""
    from pydantic import BaseModel

    if isinstance(value, AgentText | AgentDict):  # without a patch, the answer itself: nothing to apply
        return value.patch.model_dump() if value.patch is not None else value
    if isinstance(value, BaseModel):
        return value.model_dump()
    return value


class Guest:
    """The child's side of the pipe: pending calls, outgoing messages, the idle signal."""

    def __init__(self) -> None:
        self.limits = Limits()
        self.state = GuestState(self, self.limits)
        self.budget = GuestBudget(self, None)
        self.run_id: str | None = None
        self.spent = 0
        self.remaining: float | None = None
        self._next = 0
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._out: list[str] = []  # messages encoded as they are made (a bad one raises where it was made)
        self._flush_scheduled = False
        self._busy = False
        self._probing = False
        self._report_idle = True
        self._received = 0
        self._log_lines = 0
        self._log_chars = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._run_task: asyncio.Task[None] | None = None

    # -- outgoing ---------------------------------------------------------------------------------

    def count_log(self, text: str) -> None:
        """The parent enforces the log limits; saying so here stops a flood before it is queued at all."""
        self._log_lines += 1
        self._log_chars += len(text)
        overflow = self.limits.log_overflow(text, self._log_lines, self._log_chars)
        if overflow is not None:
            raise WorkcrewError(overflow)

    def notify(self, message: dict[str, Any]) -> None:
        try:
            text = encode_text(message)
        except RecursionError:
            raise ValueError(f"{message.get('op') or message['t']}() was given data that contains itself (or is "
                             "nested too deeply) to pass to the engine") from None
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{message.get('op') or message['t']}() passes only JSON data to the engine (str, int, "
                            f"float, bool, None, list, dict): {exc}") from None
        self._out.append(text)
        if not self._flush_scheduled and self._loop is not None:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self._out:
            data, self._out = ("\n".join(self._out) + "\n").encode("ascii"), []
            _write_all(data)
        if self._busy and self._report_idle and not self._probing:
            self._probing = True
            self._probe_idle()

    def _probe_idle(self) -> None:
        # idle: nothing but this probe is ready to run, so the script waits on the parent (asyncio keeps
        # ready callbacks in the loop's _ready queue; its own timers, like the heartbeat, do not count).
        # One probe at a time: it re-queues itself behind whatever else is ready.
        loop = self._loop
        assert loop is not None
        ready = getattr(loop, "_ready", None)
        if (ready is not None and len(ready) > 0) or self._flush_scheduled:
            loop.call_soon(self._probe_idle)
            return
        self._probing = False
        if self._out:
            self._flush()
            return
        self._busy = False
        # with the number of messages read: the parent may have sent more since, and is not idle-bound by this
        _write_all(b'{"t":"idle","n":%d}\n' % self._received)

    async def call(self, op: str, level: int, args: dict[str, Any]) -> dict[str, Any]:
        overflow = self.limits.pending_overflow(len(self._pending))
        if overflow is not None:
            raise WorkcrewError(overflow)
        self._next += 1
        call_id = self._next
        assert self._loop is not None
        self.notify({"t": "call", "id": call_id, "op": op, "level": level, "args": args})  # raises on bad args
        future: asyncio.Future[dict[str, Any]] = self._loop.create_future()
        self._pending[call_id] = future
        try:
            reply = await future
        finally:
            self._pending.pop(call_id, None)
        if reply.get("failure"):
            fanout.note_agent_failure(str(reply["failure"]))
        if not reply.get("ok"):
            raise exception_from(reply.get("error") or {})
        return reply

    # -- incoming ---------------------------------------------------------------------------------

    def _on_message(self, message: dict[str, Any]) -> None:
        if message.get("t") != "reply":
            return
        budget = message.get("budget")
        if budget:
            self.spent, remaining = int(budget[0]), budget[1]
            self.remaining = None if remaining is None or remaining < 0 else float(remaining)
        future = self._pending.get(int(message["id"]))
        if future is not None and not future.done():
            future.set_result(message)

    async def serve(self, start: dict[str, Any], rest: bytes = b"") -> None:
        """Run the script the start message names; ``rest``: what was read after that message's line."""
        loop = self._loop = asyncio.get_running_loop()
        _, parent = await loop.connect_read_pipe(lambda: _ParentInput(self), sys.stdin)
        if rest:
            parent.data_received(rest)
        self.limits = Limits(**start.get("limits", {}))
        from ...confine import limit_memory

        limit_memory(self.limits.memory_bytes)
        self.state = GuestState(self, self.limits)
        self.run_id = start.get("run_id")
        self._report_idle = bool(start.get("report_idle", True))
        total, self.spent, remaining = start.get("budget") or [None, 0, -1]
        self.remaining = None if remaining is None or remaining < 0 else float(remaining)
        self.budget = GuestBudget(self, total)
        context = GuestContext(self, start.get("name") or "", start["path"], start.get("args"))
        run = self._run_task = loop.create_task(self._run(start["source"], start["dialect"], start["path"], context))
        self._busy = True
        loop.call_soon(self._flush)
        try:
            await run
        except asyncio.CancelledError:
            pass

    def _replies(self, lines: list[bytes]) -> None:
        """The parent's replies, a batch of lines at a time."""
        for line in lines:
            self._busy = True
            self._received += 1
            self._on_message(decode(line))
        # the flush after them probes for idle (whatever the replies start queues its own flush anyway)
        if lines and self._report_idle and not self._flush_scheduled and self._loop is not None:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)

    def _parent_gone(self) -> None:
        """The parent closed the pipe: it wants this run gone."""
        if self._run_task is not None:
            self._run_task.cancel()

    async def _run(self, source: str, dialect: str, path: str, context: GuestContext) -> None:
        heartbeat = asyncio.get_running_loop().create_task(self.state.heartbeat())
        try:
            value = await self.execute(source, dialect, path, context)
            from ...schema import to_jsonable

            result = to_jsonable(value)
            message: dict[str, Any] = {"t": "done", "result": result}
        except BaseException as exc:  # the script's own error: reported with its script frames only
            message = {"t": "fail", "error": describe_failure(exc, path), "memory": _out_of_memory(exc)}
        finally:
            heartbeat.cancel()
        self.notify(message)
        self._flush()

    async def execute(self, source: str, dialect: str, path: str, context: GuestContext) -> Any:
        from ...workflows.workflow import dialect_module

        module = dialect_module(dialect)  # type: ignore[arg-type]
        compiled = module.compile_body(source, path)
        return await module.execute(compiled, context)


class _ParentInput(asyncio.Protocol):
    """stdin after the start message: the parent's replies, each chunk handled as it arrives."""

    def __init__(self, guest: Guest) -> None:
        self.guest = guest
        self.lines = Lines()  # the parent is trusted: no limit on its lines

    def data_received(self, data: bytes) -> None:
        self.guest._replies(self.lines.feed(data))

    def eof_received(self) -> bool | None:
        self.guest._parent_gone()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.guest._parent_gone()


def _out_of_memory(exc: BaseException) -> bool:
    """The allocator gave up (the address-space limit), as opposed to a guard's own MemoryError with a reason."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return isinstance(exc, MemoryError) and not str(exc)


def _write_all(data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(1, view)
        view = view[written:]


def main() -> None:
    from ...confine import apply_inside
    from ...workflows.dialects.js import syntax
    from .child_loop import first_line, loop_factory
    from .preload import preload

    syntax.IN_HOST = True  # confined already: JS bodies are compiled in place, not in another child
    preload()
    from ..heap import freeze_startup_heap

    freeze_startup_heap()  # the engine's modules are not rescanned by every full collection in the run
    apply_inside()
    try:  # the engine, not the script, is on a run's critical path: a script's wake-ups never preempt it
        os.nice(5)
    except OSError:
        pass
    _write_all(b'{"t":"ready"}\n')
    line, rest = first_line()
    start = json.loads(line)
    with asyncio.Runner(loop_factory=loop_factory(start)) as runner:
        runner.run(Guest().serve(start, rest))


if __name__ == "__main__":
    main()
