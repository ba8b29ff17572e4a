"""Starting script host children: a warm spare, killing a child and its sandbox, reading its CPU time."""

from __future__ import annotations

import atexit
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from ... import confine

GUEST = [sys.executable, "-I", "-m", "workcrew.engine.runtime.scripthost.guest"]


class _Spare:
    """One child started ahead of need, so a run does not wait for the interpreter to start and import.

    Children are started by one long-lived thread: bubblewrap's ``--die-with-parent`` ties a child's life
    to the *thread* that started it, and worker threads come and go (a dry run's loop closes its own).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spare: subprocess.Popen[bytes] | None = None
        self._requests: queue.SimpleQueue[tuple[threading.Event, list[Any]]] = queue.SimpleQueue()
        self._spawner: threading.Thread | None = None
        self.layer = "none"
        atexit.register(self.close)

    def _spawn_here(self) -> subprocess.Popen[bytes]:
        command, self.layer = confine.host_command(GUEST)
        return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env={}, cwd="/", start_new_session=True, close_fds=True)

    def _serve_spawns(self) -> None:
        while True:
            done, box = self._requests.get()
            try:
                box.append(self._spawn_here())
            except BaseException as exc:  # reported to the caller, never lost with this thread
                box.append(exc)
            done.set()

    def _spawn(self) -> subprocess.Popen[bytes]:
        with self._lock:
            if self._spawner is None or not self._spawner.is_alive():
                self._spawner = threading.Thread(target=self._serve_spawns, name="workcrew-host-spawner", daemon=True)
                self._spawner.start()
        done, box = threading.Event(), list[Any]()
        self._requests.put((done, box))
        done.wait()
        result = box[0]
        if isinstance(result, BaseException):
            raise result
        process: subprocess.Popen[bytes] = result
        return process

    def take(self) -> subprocess.Popen[bytes]:
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is None or spare.poll() is not None:
            spare = self._spawn()
        self.prewarm()
        return spare

    def prewarm(self, wait: float = 0.0) -> None:
        """Start the next spare now; with ``wait``, block up to that many seconds until it has loaded."""
        with self._lock:
            spare = self._spare
        if spare is None or spare.poll() is not None:
            spare = self._spawn()
            with self._lock:
                if self._spare is None:
                    self._spare = spare
                else:  # another thread made one meanwhile
                    extra, spare = spare, self._spare
                    kill_child(extra)
        if wait > 0 and spare.stdout is not None:
            await_ready(spare.stdout.fileno(), wait)

    def close(self) -> None:
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is not None:
            kill_child(spare)


SPARES = _Spare()


def prewarm(wait: float = 0.0) -> None:
    """Start a script host ahead of the first run (the CLI and the language server do at start-up), so the
    first run does not wait for an interpreter to start; with ``wait``, until it is ready."""
    SPARES.prewarm(wait)


def await_ready(fd: int, timeout: float) -> None:
    """Read the child's ``ready`` line (byte by byte: nothing after it may be consumed here)."""
    import select

    deadline = time.monotonic() + timeout
    line = b""
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return
        byte = os.read(fd, 1)
        if not byte:
            return
        line += byte


def kill_child(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            process.kill()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            try:
                stream.close()
            except OSError:
                pass


def signal_of(code: int | None) -> int | None:
    """The signal that ended the child: -N from Python, 128+N from bubblewrap passing its child's death on."""
    if code is None:
        return None
    if code < 0:
        return -code
    if 128 < code < 128 + 65:
        return code - 128
    return None


def _process_cpu(pid: int, tick: int) -> float:
    """CPU seconds of one process: the scheduler's own nanosecond count summed over its threads
    (``/proc/PID/task/TID/schedstat``), else ``/proc/PID/stat``'s clock ticks (10 ms steps: a run's child
    spends a few tens of ms, which ticks would measure to ±30 %)."""
    try:
        total = 0
        for thread in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{thread}/schedstat", "rb") as schedstat:
                total += int(schedstat.read().split()[0])
        return total / 1e9
    except (OSError, IndexError, ValueError):
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick


def tree_cpu(pid: int) -> float | None:
    """CPU seconds of a process and its descendants (Linux /proc); None where that cannot be read."""
    total, todo, tick = 0.0, [pid], os.sysconf("SC_CLK_TCK")
    try:
        while todo:
            current = todo.pop()
            total += _process_cpu(current, tick)
            try:
                with open(f"/proc/{current}/task/{current}/children", "rb") as children:
                    todo += [int(child) for child in children.read().split()]
            except OSError:
                pass
    except (OSError, IndexError, ValueError):
        return None
    return total


