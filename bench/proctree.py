"""A Ray node and everything it started, read from ``/proc`` (Linux): CPU, memory, allowed CPUs.

For bench/scale.py, which measures what a Workcrew worker node spends. Ray's worker processes and the
sandboxes they start each open sessions of their own, so a session or process group does not hold them;
parentage does. The CPU of processes that ended cannot be collected from their parents: the raylet does
not wait for its workers, and bubblewrap's sandbox does not pass its command's CPU on to whoever waits for
it (a local run's ``RUSAGE_CHILDREN`` misses it too). So :class:`NodeMeter` samples the tree while a run
goes on and counts each process's own CPU as last seen: what a process spends after the last sample, and
processes shorter than a sampling period, escape it — a lower bound.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path


def _table() -> dict[int, tuple[int, str, list[str]]]:
    """pid → (parent pid, name, the fields of /proc/PID/stat after the name)."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # ended meanwhile
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        table[int(entry)] = (int(fields[1]), name, fields)
    return table


def tree(root: int) -> dict[int, tuple[str, list[str]]]:
    """``root`` and its live descendants: pid → (name, stat fields)."""
    table = _table()
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in table.items():
        children.setdefault(parent, []).append(pid)
    found: dict[int, tuple[str, list[str]]] = {}
    stack = [root]
    while stack:
        pid = stack.pop()
        if pid in table and pid not in found:
            found[pid] = (table[pid][1], table[pid][2])
            stack.extend(children.get(pid, []))
    return found


def _counts(root: int) -> dict[tuple[int, str], int]:
    """(pid, start time) → its own CPU ticks so far, for the tree under ``root``."""
    return {(pid, fields[19]): int(fields[11]) + int(fields[12]) for pid, (_, fields) in tree(root).items()}


class NodeMeter:
    """CPU seconds the trees under ``roots`` spend between ``start()`` and ``stop()``, sampled every ``period``
    (one sample reads every process's stat: ~2.5 ms of this process's CPU here, taken off its own figure)."""

    def __init__(self, roots: list[int], period: float = 0.1) -> None:
        self.roots = roots
        self.period = period
        self.baseline: dict[tuple[int, str], int] = {}
        self.last: dict[tuple[int, str], int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.own_cpu = 0.0  # what sampling cost this process (to take off its own CPU figure)

    def _sample(self) -> None:
        for root in self.roots:
            self.last.update(_counts(root))

    def start(self) -> None:
        for root in self.roots:
            self.baseline.update(_counts(root))
        self.last = dict(self.baseline)
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.period):
            self._sample()
        self.own_cpu = time.thread_time()

    def stop(self) -> float:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()
        ticks = sum(value - self.baseline.get(key, 0) for key, value in self.last.items())
        return ticks / os.sysconf("SC_CLK_TCK")


def tree_pss_mb(root: int) -> float:
    """Proportional set size of the tree: pages its processes share (Ray's object store) counted once."""
    total = 0
    for pid in tree(root):
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
            total += next(int(line.split()[1]) for line in rollup if line.startswith("Pss:"))  # KiB
        except (OSError, StopIteration):
            continue
    return total / 1024


def tree_cpus(root: int) -> set[int]:
    """The CPUs the tree's processes may run on."""
    cpus: set[int] = set()
    for pid in tree(root):
        try:
            cpus |= os.sched_getaffinity(pid)
        except OSError:
            continue
    return cpus
