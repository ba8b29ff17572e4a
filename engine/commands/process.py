"""Running one command: output kept to its tail, a timeout that kills the whole process group.

The process is started in a new session, so its process group holds bwrap and, through bwrap's own
PID namespace and ``--die-with-parent``, everything the command started: killing the group ends it
all, and when the command itself exits bwrap's namespace takes every process left in it along.
Without a sandbox (``allow_unsandboxed_commands``) a timeout kills the group, which holds what did not
start a session of its own; background processes left behind by a command that exited are not
tracked (output is read for at most 2 s more).
"""

from __future__ import annotations

import os
import signal
import subprocess
from typing import Any

import anyio
from anyio.abc import ByteReceiveStream, Process

from ..redaction import redact
from .sandbox import Launch


class _Tail:
    """The last ``limit`` characters of a stream, without keeping the rest in memory."""

    def __init__(self, limit: int) -> None:
        self.keep = max(limit, 1) * 4
        self.limit = limit
        self.data = bytearray()
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        self.data += chunk
        if len(self.data) > 2 * self.keep:
            cut = len(self.data) - self.keep
            self.dropped += cut
            del self.data[:cut]

    def text(self) -> str:
        # secret values are redacted before the cut, and a cut starts at a whole line: the tail of a
        # line cut in two could be the tail of a secret value
        text = redact(self.data.decode("utf-8", "replace"))
        if len(text) > self.limit or self.dropped:
            shown = text[-self.limit:]
            shown = shown[shown.find("\n", 0, 4096) + 1:]  # unchanged when no line ends near the cut
            return f"[earlier output cut: showing the last {len(shown):,} characters]\n" + shown
        return text


async def _pump(stream: ByteReceiveStream | None, tail: _Tail, done: anyio.Event) -> None:
    try:
        if stream is not None:
            async for chunk in stream:
                tail.add(chunk)
    except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
        pass
    finally:
        done.set()


def _kill_group(process: Process) -> None:
    """SIGKILL the command's process group, only while its leader is not reaped: until then its id cannot
    belong to anyone else, so no unrelated process group is ever hit."""
    if process.returncode is None:
        try:
            if hasattr(os, "killpg"):
                os.killpg(process.pid, signal.SIGKILL)
            else:  # pragma: no cover - Windows, unsandboxed only
                process.kill()
        except (ProcessLookupError, PermissionError):
            pass


async def spawn(launch: Launch, timeout: float, limit: int) -> dict[str, Any]:
    """Run ``launch``; past ``timeout`` its whole process group (the sandbox) is killed."""
    out, err = _Tail(limit), _Tail(limit)
    timed_out = False
    process = await anyio.open_process(launch.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, cwd=launch.cwd, env=launch.env,
                                       start_new_session=True)
    try:
        async with anyio.create_task_group() as group:
            drained = [anyio.Event(), anyio.Event()]
            group.start_soon(_pump, process.stdout, out, drained[0])
            group.start_soon(_pump, process.stderr, err, drained[1])
            with anyio.move_on_after(timeout) as waiting:
                await process.wait()
            timed_out = waiting.cancelled_caught
            _kill_group(process)  # past the timeout: the sandbox (bwrap's PID namespace) and all in it
            with anyio.move_on_after(2):
                await process.wait()
                for event in drained:
                    await event.wait()
            group.cancel_scope.cancel()
    finally:
        with anyio.CancelScope(shield=True):
            _kill_group(process)
            await process.aclose()
    result: dict[str, Any] = {"exit_code": process.returncode if not timed_out else -1,
                              "stdout": out.text(), "stderr": err.text()}
    if timed_out:
        note = f"timed out after {timeout:g} s: the command and everything it started were stopped"
        result["stderr"] = f"{result['stderr']}\n{note}" if result["stderr"] else note
        result["timed_out"] = True
    return result
