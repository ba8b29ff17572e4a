"""Which process owns a running run, and whether it is still there.

A run records ``host:pid:start`` when it starts (``start`` is the process's start time in clock ticks
since boot on Linux, so a recycled pid is not mistaken for the run's process). A run still marked
``running`` whose owner is on this host and gone was killed or crashed: the store marks it
``interrupted`` with the totals its agent rows hold (``RunStore.reconcile_interrupted``). A run owned by
another host, or recorded before owners were, is left as it is: nothing here can tell.
"""

from __future__ import annotations

import functools
import os
import socket


def _stat(pid: int) -> list[str]:
    """The fields of ``/proc/PID/stat`` after the command name (state first), or [] where there is none."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def _start_ticks(pid: int) -> str:
    fields = _stat(pid)
    return fields[19] if len(fields) > 19 else ""


@functools.cache
def this_process() -> str:
    """The owner token of this process."""
    return f"{socket.gethostname()}:{os.getpid()}:{_start_ticks(os.getpid())}"


def is_gone(owner: str | None) -> bool:
    """Whether ``owner``'s process is certainly gone (False when it is alive or when this cannot tell)."""
    if not owner:
        return False
    host, _, rest = owner.partition(":")
    pid_text, _, start = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    fields = _stat(pid)
    if fields and fields[0] in ("Z", "X"):  # killed, and not reaped yet (its parent died too): gone all the same
        return True
    return bool(start) and _start_ticks(pid) not in ("", start)  # the pid now belongs to another process
