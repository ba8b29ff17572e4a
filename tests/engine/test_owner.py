"""Which process owns a running run: a dead owner on this host is detected, a live or unknown one is not."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from workcrew.engine.store import owner


def test_this_process_is_alive_and_a_reaped_one_is_gone() -> None:
    assert not owner.is_gone(owner.this_process())
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    token = f"{socket.gethostname()}:{child.pid}:{owner._start_ticks(child.pid)}"
    assert not owner.is_gone(token)
    child.kill()
    child.wait()
    assert owner.is_gone(token)  # even if its pid is reused by then: the start time differs


def test_a_recycled_pid_is_not_mistaken_for_the_owner() -> None:
    host, pid, start = owner.this_process().split(":")
    assert start, "Linux records the start time"
    assert owner.is_gone(f"{host}:{pid}:{int(start) + 1}")  # the pid is alive but started at another time


def test_what_cannot_be_told_is_never_called_gone() -> None:
    assert not owner.is_gone(None) and not owner.is_gone("")
    assert not owner.is_gone("another-host:1:1")  # another machine's process: nothing here can tell
    assert not owner.is_gone(f"{socket.gethostname()}:not-a-pid:")


def test_a_killed_process_not_reaped_yet_is_gone() -> None:
    """A run process killed after the daemon that started it died stays a zombie where nothing reaps it
    (a container without an init): its run must still be found interrupted."""
    import signal
    import socket
    import subprocess
    import sys

    from workcrew.engine.store.owner import _start_ticks, is_gone

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    token = f"{socket.gethostname()}:{child.pid}:{_start_ticks(child.pid)}"
    assert not is_gone(token)
    os.kill(child.pid, signal.SIGKILL)
    import time

    deadline = time.monotonic() + 10
    while not is_gone(token):  # a zombie until reaped below: is_gone must say so without the reaping
        assert time.monotonic() < deadline, "a killed, unreaped process was taken for alive"
    child.wait()
    assert is_gone(token)
