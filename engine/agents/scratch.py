"""A scratch copy of the workspace where fixes are checked before they reach the user's files.

The copy is made like ``check(isolation=…)``'s (:func:`.isolation.copy_tree`: gitignore-aware, no secret or
multiply-linked files, no VCS or tool folders such as ``.venv`` and ``node_modules``), then the texts the
caller gives (the editor's unsaved buffers, the fixed files) are written over it, so the check sees what
the user would have after the fix. The check runs through :func:`engine.commands.run_command`: the same
allowlist, argument rules and bubblewrap sandbox as a script's ``check()``, with the copy as the only
folder it may change. The copy is removed when the context ends, also when the caller is cancelled.

Which command judges a fix: :func:`check_command` (the workflow's meta ``check``, else the run's
``test_command`` argument, else the ``check_command`` setting).
"""

from __future__ import annotations

import os
import shlex
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from .. import commands
from ..errors import UsageError
from ..settings import Settings
from ..workflows.workflow import load_workflow
from ..workspace.paths import PathPolicy
from .isolation import TEMP_PREFIX, confine, copy_tree

TAIL_LINES = 25
TAIL_CHARS = 2000

NO_CHECK_COMMAND = (
    "no check command to verify fixes with: set check_command in workcrew.toml (e.g. check_command = "
    "\"python -m pytest -q\", and allow it: command_allowlist = [\"python -m pytest\"]), or the editor setting "
    "workcrew.checkCommand, or give the workflow a meta \"check\"")


@dataclass(frozen=True)
class CheckCommand:
    """The command that judges fixes, and where it was declared (said in messages)."""

    argv: list[str]
    origin: str

    @property
    def text(self) -> str:
        return shlex.join(self.argv)


@dataclass(frozen=True)
class CheckOutcome:
    command: str
    exit_code: int
    output: str  # stdout then stderr, redacted and capped by run_command
    duration_s: float
    timed_out: bool = False

    @property
    def passed(self) -> bool:
        return self.exit_code == 0 and not self.timed_out

    def tail(self, lines: int = TAIL_LINES, chars: int = TAIL_CHARS) -> str:
        """The end of the output, where test runners put their summary."""
        kept = "\n".join(self.output.rstrip().splitlines()[-lines:])
        return kept[-chars:]

    def to_json(self) -> dict[str, Any]:
        return {"command": self.command, "exitCode": self.exit_code, "passed": self.passed,
                "durationS": round(self.duration_s, 3), "timedOut": self.timed_out, "outputTail": self.tail()}


def _argv(value: Any, where: str) -> list[str] | None:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, list) and all(isinstance(a, str) for a in value):
        return [str(a) for a in value]
    if isinstance(value, str):
        try:
            argv = commands.split(value)
        except ValueError as exc:
            raise UsageError(f"{where} {value!r} cannot be split into arguments ({exc})") from None
        return argv or None
    raise UsageError(f"{where} must be a command line (a string) or a list of arguments, not {type(value).__name__}")


def check_command(meta_check: Any, run_args: Any, settings: Settings, workflow: str = "the workflow") -> CheckCommand:
    """The command that judges a run's fixes: its workflow's meta ``check`` (the author knows what judges
    its fixes), else the run's ``test_command`` argument (what the built-in fix and migrate workflows judged
    their patches with), else the ``check_command`` setting. UsageError says how to set one when none is."""
    argv = _argv(meta_check, f"the meta \"check\" of {workflow}")
    if argv is not None:
        return CheckCommand(argv, f"the meta \"check\" of {workflow}")
    test_command = run_args.get("test_command") if isinstance(run_args, dict) else None
    argv = _argv(test_command, "the run's test_command argument")
    if argv is not None:
        return CheckCommand(argv, "the run's test_command argument")
    argv = _argv(settings.check_command, "the check_command setting")
    if argv is not None:
        return CheckCommand(argv, "the check_command setting")
    raise UsageError(NO_CHECK_COMMAND)


def run_check_command(run: Mapping[str, Any] | None, settings: Settings) -> CheckCommand:
    """:func:`check_command` for a stored run (its row from the run store): the meta of the script it ran."""
    meta_check = None
    name = "the workflow"
    if run is not None:
        name = f"workflow “{run.get('workflow') or 'workflow'}”"
        source = run.get("script_source")
        if isinstance(source, str) and source:
            loaded = load_workflow(str(run.get("workflow") or "workflow"), source=source)
            meta_check = loaded.meta.check if loaded.meta is not None else None
    return check_command(meta_check, run.get("args") if run is not None else None, settings, name)


def _newer_than(path: Path, previous_ns: int) -> None:
    """Moves a rewritten file's mtime into a later second than its previous one. Caches keyed on the mtime in
    whole seconds and the size (Python's ``.pyc``, pytest's rewritten asserts) would otherwise run the old text
    when a check follows a rewrite in the same second at the same size (``== None`` → ``is None``)."""
    second = 1_000_000_000
    if path.stat().st_mtime_ns // second <= previous_ns // second:
        later = (previous_ns // second + 1) * second
        os.utime(path, ns=(later, later))


class ScratchCopy:
    """A throwaway copy of the workspace; :meth:`write` sets files, :meth:`check` runs the check in it."""

    def __init__(self, root: Path, settings: Settings, limiter: anyio.CapacityLimiter | None) -> None:
        self.root = root
        self.settings = settings
        self.limiter = limiter

    @classmethod
    @asynccontextmanager
    async def open(cls, settings: Settings, texts: Mapping[str, str] | None = None,
                   limiter: anyio.CapacityLimiter | None = None) -> AsyncIterator[ScratchCopy]:
        """A copy of ``settings.workspace`` with ``texts`` (workspace-relative path → text: the editor's unsaved
        buffers) written over the files that were copied; secret files are never written. Removed on exit."""
        base = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX))
        try:
            root = base / "tree"
            root.mkdir()
            await anyio.to_thread.run_sync(copy_tree, settings.workspace, root, settings, limiter=limiter)
            scratch = cls(root.resolve(), settings, limiter)
            if texts:
                policy = PathPolicy(settings.workspace, settings)
                # a buffer of a file the copy left out (ignored, secret) stays out: the check sees the scope
                await scratch.write({rel: text for rel, text in texts.items()
                                     if not policy.is_secret(rel) and (root / rel).is_file()})
            yield scratch
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(lambda: shutil.rmtree(base, ignore_errors=True))

    def _write_sync(self, files: Mapping[str, str | None]) -> None:
        for rel, text in files.items():
            target = confine(self.root, rel)
            if text is None:
                target.unlink(missing_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            previous = target.stat().st_mtime_ns if target.is_file() else None
            target.write_bytes(text.encode("utf-8"))  # bytes: the editor's line endings as they are
            if previous is not None:
                _newer_than(target, previous)

    async def write(self, files: Mapping[str, str | None]) -> None:
        """Set files of the copy (workspace-relative path → text; None removes the file)."""
        if files:
            await anyio.to_thread.run_sync(self._write_sync, files, limiter=self.limiter)

    async def check(self, command: CheckCommand, timeout: float | None = None) -> CheckOutcome:
        """Run ``command`` at the copy's root in the command sandbox; CommandRefused says why it may not run."""
        await anyio.to_thread.run_sync(commands.sandbox_status, limiter=self.limiter)  # probed once, off the loop
        why = commands.refusal(command.argv, self.settings, self.root)
        if why is not None:
            raise commands.CommandRefused(f"the check command `{command.text}` ({command.origin}) is refused: {why}")
        started = time.monotonic()
        result = await commands.run_command(command.argv, self.root, settings=self.settings, writable=self.root,
                                            timeout=timeout or self.settings.command_timeout_s)
        output = "\n".join(part for part in (result.get("stdout", ""), result.get("stderr", "")) if part)
        return CheckOutcome(command.text, int(result["exit_code"]), output, time.monotonic() - started,
                            bool(result.get("timed_out")))
