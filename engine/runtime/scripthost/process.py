"""The parent's side of the script host: start the confined child, serve its calls, enforce the limits.

:func:`execute` runs one workflow script in a child process and returns its result (or raises
:class:`HostFailed` with a plain reason). Every call the script makes is served by the parent's own
:class:`~workcrew.engine.runtime.context.ScriptContext` (or a dry run's), so budget, store, scheduler and
agents never leave this process. Nothing the child sends is trusted: each message is checked, and
what a script may send is capped (``protocol.Limits``).
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ...errors import ScriptError, WorkcrewError
from ...schema import to_jsonable
from .fanout import slot_failures
from .protocol import Limits, Lines, MessageTooLong, decode, encode_many, error_of
from .spawn import SPARES, kill_child, signal_of, tree_cpu

if TYPE_CHECKING:
    from ...workflows.workflow import Workflow
    from ..context import ScriptContext

CPU_POLL_S = 0.25
# Replies wait for the loop's other ready callbacks, at most this many loop iterations, before they are
# written: agents finishing in one burst reach the child in one write. A write wakes the child (tens of
# microseconds of CPU on each side); this halves the writes of a fan-out, and adds no timer or delay
# beyond work the loop has already queued.
FLUSH_DEFERRALS = 4


class HostFailed(WorkcrewError):
    """The script host stopped: a crash, a limit, or a malformed message. The run fails with this reason."""


# -- serving one script --------------------------------------------------------------------------------

Handler = Callable[["_Host", "ScriptContext", dict[str, Any]], Awaitable[Any]]


class _Host:
    def __init__(self, context: ScriptContext, workflow: Workflow, args: Any, limits: Limits) -> None:
        self.root = context
        self.state = context.state
        self.workflow = workflow
        self.args = args
        self.limits = limits
        self.levels: dict[int, ScriptContext] = {0: context}  # 0: the run's script, then child workflows
        self.calls: dict[int, asyncio.Task[None]] = {}
        self.loop = asyncio.get_running_loop()
        self.finished: asyncio.Future[Any] = self.loop.create_future()
        self.outgoing: list[dict[str, Any]] = []
        self.flush_scheduled = False
        self.idle = False
        self.report_idle = True
        self.sent = 0  # messages sent after the start message (the child's idle says how many it read)
        self.messages = 0
        self.log_lines = 0
        self.log_chars = 0
        self.stopped_because: str | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.writer: asyncio.WriteTransport | None = None
        self.stderr_tail = b""

    # -- lifecycle ------------------------------------------------------------------------------

    async def run(self) -> Any:
        process = self.process = await asyncio.to_thread(SPARES.take)
        assert process.stdin is not None and process.stdout is not None and process.stderr is not None
        cpu_at_start = tree_cpu(process.pid)  # what the child spent starting up is not this script's
        busy = getattr(self.loop, "busy_hooks", None)
        probe = self._busy
        if busy is not None:
            busy.append(probe)
        transports: list[asyncio.BaseTransport] = []
        ended = asyncio.Event()
        try:
            out, _ = await self.loop.connect_read_pipe(lambda: _ChildOutput(self, ended), process.stdout)
            transports.append(out)
            self.writer, _ = await self.loop.connect_write_pipe(asyncio.Protocol, process.stdin)
            transports.append(self.writer)
            errors = asyncio.StreamReader()
            err, _ = await self.loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(errors), process.stderr)
            transports.append(err)
            # the child says when it waits on us only where someone needs to know: a dry run's virtual
            # clock, or a watchdog without CPU figures (one message and wake-up less per reply otherwise)
            self.report_idle = busy is not None or cpu_at_start is None
            self.writer.write(encode_many([self._start_message()]))
            watch_end = self.loop.create_task(self._wait_end(ended))
            tail = self.loop.create_task(self._tail(errors))
            stop = threading.Event()
            watchdog = threading.Thread(target=self._watchdog, args=(stop,), name="workcrew-host-watchdog", daemon=True)
            watchdog.start()
            try:
                return await self.finished
            finally:
                stop.set()
                for task in (watch_end, tail, *self.calls.values()):
                    task.cancel()
        finally:
            cpu_at_end = tree_cpu(process.pid)
            if cpu_at_start is not None and cpu_at_end is not None:
                self.state.script_cpu_s += max(0.0, cpu_at_end - cpu_at_start)
            if busy is not None:
                busy.remove(probe)
            for transport in transports:
                transport.close()
            await asyncio.to_thread(kill_child, process)

    def _busy(self) -> bool:
        return not self.idle and not self.finished.done()

    def _budget(self) -> list[float]:
        """The budget figures the child's ``budget`` answers with: spent, and remaining (-1: no limit)."""
        budget = self.root.budget
        remaining = budget.remaining()
        return [budget.spent(), -1 if remaining == float("inf") else remaining]

    def _start_message(self) -> dict[str, Any]:
        try:
            args = to_jsonable(self.args)
        except RecursionError as exc:
            raise WorkcrewError(f"the workflow's args cannot be passed to the script: {exc}") from None
        return {"t": "start", "run_id": self.state.run_id, "name": self.workflow.name,
                "path": self.workflow.display_path, "source": self.workflow.source, "dialect": self.workflow.dialect,
                "args": args, "budget": [self.root.budget.total, *self._budget()],
                "limits": self.limits.to_json(), "report_idle": self.report_idle}

    def _stop(self, reason: str) -> None:
        """End the run with ``reason`` (the child is killed on the way out)."""
        if self.stopped_because is None:
            self.stopped_because = reason
        if not self.finished.done():
            self.finished.set_exception(HostFailed(reason))

    # -- the child's messages -------------------------------------------------------------------

    def _received(self, lines: Lines, chunk: bytes) -> None:
        """A chunk of the child's output (straight from the pipe's protocol); no message may outgrow the limit."""
        if self.finished.done():
            return
        try:
            complete = lines.feed(chunk)
        except MessageTooLong:
            limit = self.limits.message_bytes
            self._stop(f"the script sent a message over {limit // (1 << 20)} MiB (the limit per message)")
            return
        for line in complete:
            if self.finished.done():
                return
            self._handle(line)

    async def _wait_end(self, ended: asyncio.Event) -> None:
        await ended.wait()
        if not self.finished.done():
            await self._ended()

    def _handle(self, line: bytes) -> None:
        self.messages += 1
        kind = None
        try:
            message = decode(line)
            kind = message["t"]
            self._message(message, len(line))
        except HostFailed as exc:
            self._stop(str(exc))
        except (ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError) as exc:
            self._stop(f"the script host sent a malformed message ({type(exc).__name__}: {exc})")
        except Exception as exc:  # the engine's own failure on a message: the run ends, and says why
            self._stop(f"the engine could not handle the script's {kind!r} message ({type(exc).__name__}: {exc})")

    async def _ended(self) -> None:
        """The child closed its output: it exited, crashed or was killed."""
        process = self.process
        assert process is not None
        try:
            code = await asyncio.wait_for(asyncio.to_thread(process.wait), 2)
        except TimeoutError:
            code = None
        if self.finished.done():
            return
        text = self.stderr_tail.decode("utf-8", "replace")
        if self.stopped_because is not None:
            reason = self.stopped_because
        elif "MemoryError" in text:
            reason = self.limits.out_of_memory()
        elif (number := signal_of(code)) is not None:
            name = signal.Signals(number).name if number in signal.valid_signals() else "?"
            reason = f"the script crashed (signal {number}: {name})"
        else:
            last = [line for line in text.strip().splitlines() if line.strip()][-1:] or [""]
            reason = f"the script host exited unexpectedly (code {code}){': ' + last[0] if last[0] else ''}"
        self._stop(reason)

    async def _tail(self, errors: asyncio.StreamReader) -> None:
        while chunk := await errors.read(1 << 16):
            self.stderr_tail = (self.stderr_tail + chunk)[-8192:]

    def _message(self, message: dict[str, Any], size: int) -> None:
        kind = message["t"]
        if kind == "call":
            self._call(int(message["id"]), str(message["op"]), self._level(message), dict(message["args"]))
        elif kind == "log":
            self._log(self._level(message), message["message"])
        elif kind == "idle":  # idle only if it has read everything sent to it
            self.idle = int(message.get("n", -1)) == self.sent
        elif kind == "ready":  # the child finished loading (unless prewarm() read this already)
            pass
        elif kind == "phase":
            self._level(message).phase(str(message["title"]), message.get("options"))
        elif kind == "report":
            self._report(self._level(message), message["finding"])
        elif kind == "warn":
            text = str(message["message"])[:10_000]
            self.state.warn_once(text, text)
        elif kind == "script_failure":
            self.state.note_script_failure(str(message["reason"])[:10_000])
        elif kind == "workflow_end":
            name = self._level(message).workflow.name
            error = message.get("error")
            self.state.log(f"workflow {name} failed: {error}" if error else f"workflow {name} finished")
        elif kind == "done":
            if size > self.limits.result_bytes:
                raise HostFailed(f"the workflow's result is {size / (1 << 20):.1f} MiB as JSON; the limit is "
                                 f"{self.limits.result_bytes // (1 << 20)} MiB")
            if not self.finished.done():
                self.finished.set_result(message.get("result"))
        elif kind == "fail":
            error = str(message["error"])[:100_000]
            if message.get("memory"):
                error = self.limits.out_of_memory()
            raise HostFailed(error)
        else:
            raise ValueError(f"unknown message {kind!r}")

    def _level(self, message: dict[str, Any]) -> ScriptContext:
        return self.levels[int(message.get("level", 0))]

    def _log(self, context: ScriptContext, message: Any) -> None:
        text = str(message)
        self.log_lines += 1
        self.log_chars += len(text)
        overflow = self.limits.log_overflow(text, self.log_lines, self.log_chars)
        if overflow is not None:
            raise HostFailed(overflow)
        context.log(text)

    def _report(self, context: ScriptContext, finding: Any) -> None:
        try:
            context.report(finding)
        except WorkcrewError as exc:  # the child validated it the same way; a mismatch is said, not lost
            self.state.log(f"report(): {exc}")

    # -- the child's calls ------------------------------------------------------------------------

    def _call(self, call_id: int, op: str, context: ScriptContext, args: dict[str, Any]) -> None:
        handler = _HANDLERS.get(op)
        if handler is None:
            raise ValueError(f"unknown call {op!r}")
        overflow = self.limits.pending_overflow(len(self.calls))
        if overflow is not None:
            raise HostFailed(overflow)
        self.calls[call_id] = self.loop.create_task(self._serve(call_id, handler, context, args))

    async def _serve(self, call_id: int, handler: Handler, context: ScriptContext, args: dict[str, Any]) -> None:
        failures: list[str] = []
        slot_failures.set(failures)  # a failed agent's reason goes back with the reply
        reply: dict[str, Any]
        try:
            try:
                value = await handler(self, context, args)
                reply = {"t": "reply", "id": call_id, "ok": True, "value": to_jsonable(value)}
                patch = None if type(value) is str else getattr(value, "patch", None)  # a plain text has none
                if patch is not None:
                    reply["patch"] = patch.model_dump()
                    reply["agent_id"] = getattr(value, "agent_id", None)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                reply = {"t": "reply", "id": call_id, "ok": False, "error": error_of(exc)}
            if failures:
                reply["failure"] = failures[-1]
            reply["budget"] = self._budget()
            self._send(reply)
        finally:
            self.calls.pop(call_id, None)

    def _send(self, message: dict[str, Any]) -> None:
        self.outgoing.append(message)
        if not self.flush_scheduled:
            self.flush_scheduled = True
            self.loop.call_soon(self._flush)

    def _flush(self, deferred: int = 0) -> None:
        # asyncio's ready queue (another loop without one is flushed at once)
        if deferred < FLUSH_DEFERRALS and getattr(self.loop, "_ready", None):
            self.loop.call_soon(self._flush, deferred + 1)
            return
        self.flush_scheduled = False
        if self.outgoing and self.writer is not None and not self.writer.is_closing():
            self.sent += len(self.outgoing)
            data, self.outgoing = encode_many(self.outgoing), []
            self.idle = False  # the child has work again until it says otherwise
            self.writer.write(data)

    # -- the CPU watchdog ---------------------------------------------------------------------------

    def _watchdog(self, stop: threading.Event) -> None:
        """Kill a child that holds the CPU for ``cpu_s`` without a word: a single C call the script's own
        watchdog cannot interrupt (a huge power, a catastrophic regex, an endless C iterator).

        A thread on real time, not a task: a dry run's loop keeps virtual time, which stands still while
        the child computes."""
        process = self.process
        assert process is not None
        seen, baseline, since = -1, tree_cpu(process.pid), time.monotonic()
        while not stop.wait(CPU_POLL_S):
            used = tree_cpu(process.pid)
            if self.messages != seen:
                seen, baseline, since = self.messages, used, time.monotonic()
                continue
            spent = (used - baseline) if used is not None and baseline is not None else (
                time.monotonic() - since if not self.idle else 0.0)
            if spent > self.limits.cpu_s:
                reason = (f"the script was stopped after {self.limits.cpu_s:g} s of CPU without yielding (one long "
                          "computation it cannot be interrupted in)")
                self.stopped_because = reason
                kill_child(process)
                try:
                    self.loop.call_soon_threadsafe(self._stop, reason)
                except RuntimeError:  # the loop closed meanwhile: nothing is waiting for this run any more
                    pass
                return


class _ChildOutput(asyncio.Protocol):
    """The child's stdout: each chunk handled as it arrives, the end noted."""

    def __init__(self, host: _Host, ended: asyncio.Event) -> None:
        self.host = host
        self.lines = Lines(host.limits.message_bytes)
        self.ended = ended

    def data_received(self, data: bytes) -> None:
        self.host._received(self.lines, data)

    def eof_received(self) -> bool | None:
        self.ended.set()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended.set()


# -- what the child may ask for ----------------------------------------------------------------------------


_AGENT_OPTIONS = frozenset(("schema", "label", "phase", "model", "effort", "isolation", "agent_type", "timeout", "tools"))


def _agent(host: _Host, context: ScriptContext, args: dict[str, Any]) -> Awaitable[Any]:
    # the agent's own coroutine, awaited by _serve: no frame of this one's on every resumption of it.
    # The child sends only the options a script set; any other key is ignored
    options = {key: value for key, value in args.items() if key in _AGENT_OPTIONS}
    return context.agent(args.get("prompt"), **options)  # type: ignore[arg-type]


async def _check(host: _Host, context: ScriptContext, args: dict[str, Any]) -> Any:
    command = args.get("command")
    if not isinstance(command, str | list):
        raise TypeError("check() takes a command string (or a list of arguments)")
    timeout = args.get("timeout")
    return await context.check(command, cwd=args.get("cwd"), timeout=600 if timeout is None else float(timeout),
                               isolation=args.get("isolation"))


async def _ask(host: _Host, context: ScriptContext, args: dict[str, Any]) -> Any:
    choices = args.get("choices")
    return await context.ask(str(args.get("question")), [str(c) for c in choices] if choices else None)


async def _sleep(host: _Host, context: ScriptContext, args: dict[str, Any]) -> None:
    await asyncio.sleep(min(float(args.get("s") or 0), 24 * 3600))


async def _workflow(host: _Host, context: ScriptContext, args: dict[str, Any]) -> dict[str, Any]:
    """Resolve and check a child workflow here; the child process runs it at the next level."""
    child_context = context.open_workflow(str(args.get("target")), args.get("args"))
    level = len(host.levels)
    host.levels[level] = child_context
    child = child_context.workflow
    return {"level": level, "name": child.name, "path": child.display_path, "source": child.source,
            "dialect": child.dialect}


_HANDLERS: dict[str, Handler] = {"agent": _agent, "check": _check, "ask": _ask, "sleep": _sleep,
                                 "workflow": _workflow}


async def execute(context: ScriptContext, workflow: Workflow, args: Any, limits: Limits | None = None) -> Any:
    """Run ``workflow`` in a confined child process, serving its calls with ``context``; its result."""
    if workflow.problems:
        raise ScriptError(workflow.problems)
    settings = context.state.settings
    limits = limits or Limits(sync_slice_s=settings.sync_slice_s, max_items=settings.max_items,
                              cpu_s=max(settings.script_cpu_s, settings.sync_slice_s * 2),
                              memory_bytes=settings.script_memory_mb << 20)
    return await _Host(context, workflow, args, limits).run()
