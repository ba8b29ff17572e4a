"""Messages to the editor that a flood of bad input must not multiply: each told once, errors rationed."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class Notices:
    """Warnings for the editor, each key told once; at most ``limit`` keys remembered (then one last notice)."""

    def __init__(self, send: Callable[[str], None], limit: int = 64) -> None:
        self.send = send
        self.limit = limit
        self._told: set[str] = set()
        self._silenced = False

    def once(self, key: str, message: str) -> None:
        if key in self._told or self._silenced:
            log.debug("%s", message)
            return
        if len(self._told) >= self.limit:
            self._silenced = True
            self.send("Workcrew: more documents were refused; further refusals are only in the log (debug level)")
            return
        self._told.add(key)
        self.send(message)


class ErrorReports:
    """At most ``burst`` error messages to the editor per ``window_s`` seconds; past that one message says the
    rest are in the log. (A notification that fails 10,000 times must not send 10,000 messages.)"""

    def __init__(self, burst: int = 10, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.burst = burst
        self.window_s = window_s
        self.clock = clock
        self._window_start = -window_s
        self._sent = 0

    def admit(self) -> tuple[bool, bool]:
        """(send this error, send the "more are in the log" notice instead)."""
        now = self.clock()
        if now - self._window_start >= self.window_s:
            self._window_start, self._sent = now, 0
        self._sent += 1
        return self._sent <= self.burst, self._sent == self.burst + 1
