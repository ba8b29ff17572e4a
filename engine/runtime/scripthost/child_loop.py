"""The script host child's event loop: which one, chosen from the start message read before any loop exists."""

from __future__ import annotations

import os
from typing import Any


def first_line() -> tuple[bytes, bytes]:
    """The start message, read before there is an event loop (it decides which loop); and what came after it."""
    data = b""
    while b"\n" not in data:
        chunk = os.read(0, 1 << 16)
        if not chunk:
            raise SystemExit("the parent closed the pipe before the start message")
        data += chunk
    line, _, rest = data.partition(b"\n")
    return line, rest


def loop_factory(start: dict[str, Any]) -> Any:
    """uvloop where it is installed (libuv's loop: the child's share of every call costs less CPU), else asyncio's.

    A child that reports idle (a dry run's virtual clock, a watchdog without CPU figures) needs asyncio's loop:
    idle is "nothing but the probe is ready to run", read from asyncio's ready queue, which uvloop does not show.
    """
    if start.get("report_idle", True):
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop
