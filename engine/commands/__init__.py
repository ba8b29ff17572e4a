"""Commands from scripts (``check()``) and agents (``run_command``): one door, two layers.

1. :func:`refusal` — the argument-aware allowlist (:mod:`.rules`), the sandbox settings, and
   whether there is a sandbox at all (without one, commands are refused unless the user set
   ``allow_unsandboxed_commands``).
2. :func:`run_command` — checks :func:`refusal` again (so a caller cannot skip it), then runs the command
   in the bubblewrap sandbox of :mod:`.sandbox` with a scrubbed environment, capped output and a
   timeout that kills the whole sandbox.

:func:`risk` is the sentence an approval prompt shows when commands would run without a sandbox.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import anyio

from ..settings import Settings
from . import rules as command_rules
from . import sandbox as command_sandbox
from .process import spawn
from .rules import split
from .sandbox import CommandRefused, SandboxStatus, sandbox_status

OUTPUT_LIMIT = 64_000  # characters kept of stdout and of stderr (the last ones)

__all__ = ["OUTPUT_LIMIT", "CommandRefused", "SandboxStatus", "refusal", "risk", "run_command", "sandbox_status",
           "split"]


def refusal(argv: list[str], settings: Settings, root: Path, cwd: Path | None = None) -> str | None:
    """Why ``argv`` may not run with ``root`` as its workspace (and ``cwd``, default ``root``, as its working
    folder), or None. Blocking only on the first call of the process (the sandbox probe, ~10 ms)."""
    return (command_rules.refusal(argv, settings, root, cwd) or command_sandbox.root_refusal(root)
            or command_sandbox.settings_refusal(settings) or command_sandbox.unavailable_refusal(settings))


def risk(settings: Settings) -> str | None:
    """What an approval prompt must say when commands would run without an OS sandbox; else None."""
    return command_sandbox.risk(settings)


async def run_command(argv: list[str], cwd: Path, *, settings: Settings, writable: Path, timeout: float,
                      limit: int = OUTPUT_LIMIT) -> dict[str, Any]:
    """Run ``argv`` in ``cwd`` with ``writable`` (the worktree, the scratch copy or the workspace) as the only
    folder it may change; ``{"exit_code", "stdout", "stderr"}`` plus ``"timed_out": True`` when it was
    stopped after ``timeout`` seconds (exit code -1). Raises :class:`CommandRefused` with the reason when
    :func:`refusal` refuses it; a program that is not found answers exit code 127."""
    status = await anyio.to_thread.run_sync(sandbox_status)
    why = refusal(argv, settings, writable, cwd)
    if why is not None:
        raise CommandRefused(why)
    if status.available and status.bwrap is not None:
        launch = await anyio.to_thread.run_sync(command_sandbox.plan, argv, cwd, writable, settings, status.bwrap)
    else:
        launch = command_sandbox.plan_unsandboxed(argv, cwd, settings)
    program = argv[0] if "/" in argv[0] else shutil.which(argv[0], path=launch.path)
    missing = program is None or ("/" in argv[0] and not os.path.exists(os.path.join(cwd, argv[0])))
    try:
        if not missing:
            return await spawn(launch, timeout, limit)
        why = f"not found on the PATH commands get ({launch.path})"
    except OSError as exc:  # bwrap itself, or the program without a sandbox, could not be started
        why = exc.strerror or str(exc)
    finally:
        if launch.temp_home:
            shutil.rmtree(launch.temp_home, ignore_errors=True)
    return {"exit_code": 127, "stdout": "", "stderr": f"cannot run {argv[0]!r}: {why}"}
