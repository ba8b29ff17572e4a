"""The Python side of the QuickJS bridge: one JS context per workflow level, run on the event loop.

Python enters the engine (start the body, settle a promise, run a fan-out slot), runs the jobs that
became ready, then drains the guest's outbox of JSON messages (``prelude.js``). Async calls in it
become asyncio tasks that await the same :class:`ScriptContext` methods the Python dialect calls;
when one ends, its result settles the guest's promise. Every entry runs under QuickJS's time limit
(which is why the guest never calls Python directly: the binding refuses callables under a limit),
so a busy loop is interrupted after ``sync_slice_s``; the interrupt cannot be caught by the script.
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
import re
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

import _quickjs

from ....errors import (
    AgentDefinitionError,
    AgentFailed,
    BudgetExceeded,
    LimitExceeded,
    ScriptInterrupted,
    ScriptTimeout,
    UnknownAgentType,
    UnknownModel,
    UsageError,
    WorkcrewError,
    WorkflowNotFound,
)
from ... import library
from . import library_calls
from .checks import AGENT_OPTIONS, UNSUPPORTED_AGENT_OPTIONS
from .wire import BridgeFault, TooDeep, decode_outbox, to_json

if TYPE_CHECKING:
    from ....runtime.scripthost.guest import GuestContext as ScriptContext

# the prelude is evaluated this many lines down, so its stack frames never look like the script's
PRELUDE_LINE = 600_000
MEMORY_LIMIT = 256 * 1024 * 1024  # bytes per workflow level
STACK_LIMIT = 1024 * 1024
BODY_PREFIX = "(async function __wc_body() {"
BODY_SUFFIX = "\n})"

_ERRORS: dict[str, Callable[[str], WorkcrewError]] = {
    "LimitExceeded": LimitExceeded, "BudgetExceeded": BudgetExceeded, "UsageError": UsageError,
    "WorkflowNotFound": WorkflowNotFound, "ScriptTimeout": ScriptTimeout, "UnknownModel": UnknownModel,
    "AgentFailed": AgentFailed, "UnknownAgentType": UnknownAgentType, "AgentDefinitionError": AgentDefinitionError,
}
_FRAME = re.compile(r"<input>:(\d+):(\d+)")


@functools.cache
def prelude_source() -> str:
    text = resources.files(__package__).joinpath("prelude.js").read_text(encoding="utf-8")
    return "\n" * (PRELUDE_LINE - 1) + text


class JsError(WorkcrewError):
    """An exception thrown by script code: its JS name and message (``where`` adds the script line)."""

    def __init__(self, name: str | None, message: str, line: int | None = None, path: str | None = None) -> None:
        self.js_name = name
        self.js_message = message
        self.line = line
        self.path = path
        super().__init__(f"{name}: {message}" if name else f"the script threw {message} (throw an Error to see where)")

    def where(self) -> str:
        """The message with the script's file and line, like the Python dialect's uncaught errors."""
        if self.line is None or self.path is None:
            return str(self)
        return f"{self} at {self.path}:{self.line}"


class UncaughtJsError(WorkcrewError):
    """The body threw and nothing caught it: the run fails with the JS message and line.

    A child workflow's uncaught error reaches its parent script as the error it was (``RangeError``…).
    """

    def __init__(self, error: JsError) -> None:
        self.js_error = error
        super().__init__(error.where())


class _JsValue:
    """Stands in Python for a value that stays in the JS context (a fan-out slot's result)."""

    def __repr__(self) -> str:
        return "<js value>"


JS_VALUE = _JsValue()


def script_line(stack: str) -> int | None:
    """The innermost frame of the stack that is in the script, not in the prelude."""
    for match in _FRAME.finditer(stack):
        line = int(match.group(1))
        if line < PRELUDE_LINE:
            return line
    return None


def error_payload(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, UncaughtJsError):
        exc = exc.js_error
    if isinstance(exc, JsError):
        return {"name": exc.js_name or "Error", "message": exc.js_message, "wc": None}
    if isinstance(exc, WorkcrewError):
        return {"name": type(exc).__name__, "message": str(exc), "wc": True}
    return {"name": type(exc).__name__, "message": str(exc) or type(exc).__name__, "wc": None}


@dataclass
class Compiled:
    path: str
    wrapped: str  # the body as one async function expression; line numbers as in the file


class JsHost:
    """Runs one compiled script at one workflow level and bridges it to ``ctx``."""

    def __init__(self, compiled: Compiled, ctx: ScriptContext) -> None:
        self.compiled = compiled
        self.ctx = ctx
        self.loop = asyncio.get_running_loop()
        self.finished: asyncio.Future[Any] = self.loop.create_future()
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self.timers: set[int] = set()
        self.slots: dict[tuple[int, int, int], asyncio.Future[Any]] = {}
        self.bound: dict[int, list[tuple[int, int, int]]] = {}  # call id -> the slots that end with it
        self._cancelled = False
        self.late_fault: BaseException | None = None
        self.js: Any = None
        self._settle: Any = None
        self._run_slot: Any = None
        self._drain: Any = None

    # -- lifecycle -------------------------------------------------------------------------------

    async def run(self) -> Any:
        settings = self.ctx.state.settings
        js = _quickjs.Context()
        self.js = js
        js.set_memory_limit(MEMORY_LIMIT)
        js.set_max_stack_size(STACK_LIMIT)
        js.set_time_limit(settings.sync_slice_s)
        try:
            self._enter(js.eval, prelude_source())
            self._settle = js.get("__wc_settle")
            self._run_slot = js.get("__wc_run")
            self._drain = js.get("__wc_drain")
            start = js.get("__wc_start")
            args = self.ctx.args
            total = self.ctx.budget.total
            self._enter(js.get("__wc_init"), "" if args is None else to_json(args),
                        "" if total is None else json.dumps(total), json.dumps(library.CANDIDATE))
            body = self._enter(js.eval, self.compiled.wrapped)
            self._enter(start, body, *self._budget(), outbox=True)
            self._check_stuck()
            result = await self.finished
            # agents the script started without awaiting finish and are accounted for, like in-flight ones
            floating = [t for i, t in self.tasks.items() if i not in self.timers]
            if floating:
                await asyncio.gather(*floating, return_exceptions=True)
            if self.late_fault is not None:  # e.g. a busy loop in a continuation that ran after the return
                raise self.late_fault
            return result
        finally:
            for task in list(self.tasks.values()):
                task.cancel()
            self.tasks.clear()
            for future in self.slots.values():
                future.cancel()
            # drop the context (and the callables that point back here) now, not at the next GC
            self._settle = self._run_slot = self._drain = self.js = None

    def _fail(self, exc: BaseException) -> None:
        if not self.finished.done():
            self.finished.set_exception(exc)
        elif self.late_fault is None and not isinstance(exc, JsError | UncaughtJsError):
            self.late_fault = exc

    def _check_stuck(self) -> None:
        if not self.tasks and not self.finished.done():
            self._fail(WorkcrewError(
                "the script is waiting for a promise that can never settle (nothing it awaits is running)"))

    # -- entering the engine --------------------------------------------------------------------------

    def _enter(self, function: Callable[..., Any], *args: Any, outbox: bool = False) -> Any:
        """Call into QuickJS, run the jobs that became ready, act on the outbox; engine faults end the run.

        ``outbox``: the function returns what it posted itself (the prelude's entry points do), so the
        outbox needs draining again only when queued jobs ran. Raises :class:`BridgeFault` (or the
        script's uncaught error) after recording it as the run's failure.
        """
        js = self.js
        if js is None:
            return None
        texts: list[str] = []
        try:
            value = function(*args)
            if outbox and value:
                texts.append(value)
            ran = False
            deadline = 0.0
            while js.execute_pending_job():  # each job has its own time limit; the chain of them shares one
                if not ran:
                    deadline = time.monotonic() + self.ctx.state.settings.sync_slice_s
                elif time.monotonic() > deadline:
                    raise self._engine_fault("InternalError: interrupted (an endless chain of promise jobs)")
                ran = True
            if (ran or not outbox) and self._drain is not None:
                texts.append(self._drain())
        except _quickjs.JSException as exc:
            raise self._engine_fault(str(exc)) from None
        except Exception as exc:  # the binding could not hand a value over: never lose it silently
            raise self._bridge_fault(f"a value could not cross from the script to the engine "
                                     f"({type(exc).__name__}: {exc})") from None
        for text in texts:
            try:
                messages = decode_outbox(text)
            except BridgeFault as exc:
                raise self._bridge_fault(str(exc)) from None
            for message in messages:
                self._message(message)
        if self._cancelled:  # a cleared timer may have been the last thing the script waited for
            self._cancelled = False
            self._check_stuck()
        return value

    def _bridge_fault(self, reason: str) -> BridgeFault:
        error = BridgeFault(reason)
        self._fail(error)
        return error

    def _budget(self) -> tuple[int, float]:
        remaining = self.ctx.budget.remaining()
        return self.ctx.budget.spent(), -1 if math.isinf(remaining) else remaining

    def _engine_fault(self, text: str) -> BaseException:
        state = self.ctx.state
        if "interrupted" in text.split("\n", 1)[0]:
            state.script_dead = state.script_dead or (
                f"the script ran synchronous code for over {state.settings.sync_slice_s:g} s without awaiting "
                "(a busy loop or runaway recursion?); it was stopped"
            )
            error: BaseException = ScriptInterrupted(state.script_dead)
        elif "out of memory" in text:
            error = WorkcrewError(
                f"the script ran out of memory (the limit is {MEMORY_LIMIT // (1024 * 1024)} MiB per workflow)")
        else:
            first = text.split("\n", 1)[0]
            name, _, message = first.partition(": ")
            error = UncaughtJsError(JsError(name or None, message or first, script_line(text),
                                            self.compiled.path))
        self._fail(error)
        return error

    def _settle_js(self, call_id: int, ok: bool, payload: str, patch: str = "") -> None:
        if self._settle is not None:
            self._enter(self._settle, call_id, ok, payload, *self._budget(), patch, outbox=True)

    # -- the guest's outbox ---------------------------------------------------------------------------

    def _message(self, message: Any) -> None:
        if isinstance(message, TooDeep):
            self._too_deep(message)
            return
        kind = message[0]
        ctx = self.ctx
        try:
            if kind == "call":
                self._start_call(int(message[1]), str(message[2]), message[3])  # the call's arguments
            elif kind == "log":
                ctx.log(message[1])
            elif kind == "print":
                ctx.print(message[1])
            elif kind == "phase":
                ctx.phase(message[1], message[2] if len(message) > 2 else None)
            elif kind == "slot":
                self._slot_done(message[1:])
            elif kind == "bind":
                self.bound.setdefault(int(message[1]), []).append((int(message[2]), int(message[3]), int(message[4])))
            elif kind == "done":
                if not self.finished.done():
                    self.finished.set_result(message[1])
            elif kind == "fail":
                error = self._from_js(message[1])
                self._fail(UncaughtJsError(error) if isinstance(error, JsError) else error)
            elif kind == "cancel":
                call_id = int(message[1])
                self.timers.discard(call_id)
                task = self.tasks.pop(call_id, None)
                if task is not None:
                    task.cancel()
                self._cancelled = True
            else:
                self._fail(BridgeFault(f"the script broke the engine bridge (an unknown message {kind!r})"))
        except ScriptInterrupted as exc:
            self._fail(exc)
        except WorkcrewError as exc:  # e.g. a cap on what a script may send
            self._fail(exc)
        except Exception as exc:  # a malformed message or an engine bug: the run fails and says why
            self._fail(BridgeFault(f"the engine could not handle the script's {kind!r} message "
                                   f"({type(exc).__name__}: {exc})"))

    def _too_deep(self, message: TooDeep) -> None:
        if message.kind == "call" and message.call_id is not None:
            # the call fails in the script (catchable there), like any call with bad arguments
            name = message.name or "call"
            self._start_call(message.call_id, "__too_deep", {"name": name})
        elif message.kind == "done":
            self._fail(BridgeFault("the workflow's result is nested too deeply to pass back "
                                   "(keep results under 500 levels)"))
        else:
            self._fail(BridgeFault(f"the script sent a {message.kind!r} message nested too deeply to read"))

    def _start_call(self, call_id: int, name: str, payload: Any) -> None:
        handler = self._ASYNC.get(name)
        if handler is None:
            self._fail(WorkcrewError(f"internal error: unknown host call {name!r}"))
            return
        if name == "sleep":
            self.timers.add(call_id)
        # created in whatever coroutine entered the engine, so the task inherits its context: an agent
        # started by a parallel() slot reports its failure to that slot, as in the Python dialect
        self.tasks[call_id] = self.loop.create_task(self._run_call(call_id, handler, payload))

    async def _run_call(self, call_id: int, handler: Callable[[JsHost, Any], Coroutine[Any, Any, Any]],
                        data: Any) -> None:
        try:
            try:
                value = await handler(self, data)
            except asyncio.CancelledError:
                raise
            except (ScriptInterrupted, BaseExceptionGroup) as exc:
                self._fail(exc)
                return
            except Exception as exc:
                self._reject(call_id, error_payload(exc))
            else:
                try:
                    payload = to_json(value)
                except ValueError as exc:  # e.g. an agent's answer nested too deeply for the script
                    self._reject(call_id, error_payload(TypeError(f"the result could not be passed to the script: {exc}")))
                else:
                    patch = getattr(value, "patch", None)  # an isolated agent's answer carries what it changed
                    self._settle_js(call_id, True, payload, "" if patch is None else json.dumps(patch.model_dump()))
                    self._end_bound(call_id, value, None)
        except (ScriptInterrupted, BridgeFault, UncaughtJsError):
            return  # already recorded as the run's failure (_engine_fault, _bridge_fault)
        except WorkcrewError as exc:
            self._fail(exc)
            return
        except Exception as exc:  # nothing a call's task raises may go unseen: the run fails and says why
            self._fail(BridgeFault(f"the engine failed after a host call ({type(exc).__name__}: {exc})"))
            return
        finally:
            self.tasks.pop(call_id, None)
            self.timers.discard(call_id)
        self._check_stuck()

    def _reject(self, call_id: int, payload: dict[str, Any]) -> None:
        self._settle_js(call_id, False, json.dumps(payload))
        self._end_bound(call_id, None, payload)

    # -- async host calls --------------------------------------------------------------------------

    async def _agent(self, data: dict[str, Any]) -> Any:
        options: dict[str, Any] = {}
        state = self.ctx.state
        for key, value in (data.get("opts") or {}).items():
            if key in AGENT_OPTIONS:
                options[AGENT_OPTIONS[key]] = value
            elif key in UNSUPPORTED_AGENT_OPTIONS:
                state.warn_once(f"agent option {key}", f"agent(): option {key!r} is not supported by Workcrew "
                                "and was ignored")
            else:  # lenient like Claude Code, but never silent: once per run
                state.warn_once(f"agent option {key}", f"agent(): unknown option {key!r} was ignored (the options "
                                f"are {', '.join(AGENT_OPTIONS)})")
        return await self.ctx.agent(data.get("prompt"), **options)

    async def _parallel(self, data: dict[str, Any]) -> dict[str, Any]:
        call, count = int(data["call"]), int(data["n"])
        tasks = [functools.partial(self._slot, call, i, 0, JS_VALUE) for i in range(count)]
        return self._accounting(await self.ctx.parallel(tasks))

    async def _pipeline(self, data: dict[str, Any]) -> dict[str, Any]:
        call, count, stages = int(data["call"]), int(data["n"]), int(data["stages"])

        def stage_runner(stage: int) -> Callable[[Any, Any, int], Coroutine[Any, Any, Any]]:
            def run(previous: Any, item: Any, index: int) -> Coroutine[Any, Any, Any]:
                return self._slot(call, index, stage, previous)
            return run

        outcome = await self.ctx.pipeline([JS_VALUE] * count, *(stage_runner(k) for k in range(stages)))
        return self._accounting(outcome)

    @staticmethod
    def _accounting(outcome: Any) -> dict[str, Any]:
        return {
            "nulls": [i for i, value in enumerate(outcome) if value is None],
            "launched": outcome.launched, "succeeded": outcome.succeeded, "failed": outcome.failed,
            "reasons": {str(k): v for k, v in outcome.reasons.items()},
        }

    async def _slot(self, call: int, index: int, stage: int, previous: Any) -> Any:
        """One thunk or pipeline stage: run it in JS and wait until its promise settles."""
        future: asyncio.Future[Any] = self.loop.create_future()
        self.slots[(call, index, stage)] = future
        self._enter(self._run_slot, call, index, stage, previous is None, *self._budget(), outbox=True)
        return await future

    def _end_bound(self, call_id: int, value: Any, error: dict[str, Any] | None) -> None:
        """End the slots bound to a call that just settled, as the guest's own message would have."""
        for key in self.bound.pop(call_id, ()):
            future = self.slots.pop(key, None)
            if future is None or future.done():
                continue
            if error is None:
                null = value is None or (isinstance(value, float) and not math.isfinite(value))  # JSON's null
                future.set_result(None if null else JS_VALUE)
            else:  # what the guest would describe after turning the payload into its error
                future.set_exception(self._from_js({**error, "wc": error["name"] if error["wc"] else None}))

    def _slot_done(self, data: list[Any]) -> None:
        call, index, stage, ok, detail = data
        future = self.slots.pop((int(call), int(index), int(stage)), None)
        if future is None or future.done():
            return
        if ok:
            future.set_result(None if detail else JS_VALUE)
        else:
            future.set_exception(self._from_js(detail))

    async def _workflow(self, data: dict[str, Any]) -> Any:
        return await self.ctx.run_workflow(str(data["target"]), data.get("args"))

    async def _sleep(self, data: dict[str, Any]) -> None:
        await self.ctx.sleep(max(0.0, float(data.get("ms") or 0)) / 1000)  # the engine's clock (virtual in dry runs)

    async def _check(self, data: dict[str, Any]) -> Any:
        opts = library_calls.options("check", data.get("opts"), ("cwd", "timeout", "isolation"))
        command = data.get("command")
        if not isinstance(command, str | list):
            raise TypeError("check() takes a command string (or a list of arguments)")
        return await self.ctx.check(command, **opts)

    async def _ask(self, data: dict[str, Any]) -> Any:
        return await self.ctx.ask(data["question"], data.get("choices"))

    async def _report(self, data: Any) -> Any:
        try:
            return self.ctx.report(data)
        except Exception as exc:
            # the script may not await report(): say what went wrong in the log as well
            self.ctx.log(f"report(): {exc}")
            raise

    async def _too_deep_call(self, data: dict[str, Any]) -> Any:
        raise TypeError(f"{data['name']}(): the arguments are nested too deeply to pass to the engine "
                        "(keep data under 500 levels)")

    _ASYNC: dict[str, Callable[[JsHost, Any], Coroutine[Any, Any, Any]]] = {
        "agent": _agent, "parallel": _parallel, "pipeline": _pipeline, "workflow": _workflow,
        "sleep": _sleep, "check": _check, "ask": _ask, "report": _report, "__too_deep": _too_deep_call,
        **library_calls.CALLS,
    }

    # -- errors from JS ------------------------------------------------------------------------------

    def _from_js(self, data: dict[str, Any]) -> WorkcrewError:
        """A thrown JS value as a Python error; Workcrew's own errors come back as themselves."""
        kind = data.get("wc")
        if kind:
            maker = _ERRORS.get(str(kind), WorkcrewError)
            return maker(str(data.get("message", "")))
        message = str(data.get("message", ""))
        if data.get("name") == "InternalError" and message == "out of memory":
            message += f" (the limit is {MEMORY_LIMIT // (1024 * 1024)} MiB per workflow)"
        return JsError(data.get("name"), message, script_line(str(data.get("stack") or "")), self.compiled.path)
