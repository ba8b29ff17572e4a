"""The scratch copy fixes are checked on, and which command checks them (engine/agents/scratch.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from workcrew.engine import Settings
from workcrew.engine.agents.scratch import NO_CHECK_COMMAND, ScratchCopy, check_command, run_check_command
from workcrew.engine.commands import CommandRefused
from workcrew.engine.errors import UsageError

META_CHECK = '''meta = {"name": "m", "description": "d", "check": "python -m unittest -q"}
return 1
'''


def test_the_workflows_meta_check_comes_first_then_the_runs_test_command_then_the_setting(settings: Settings) -> None:
    configured = settings.model_copy(update={"check_command": "make test"})
    first = check_command("python -m pytest -q", {"test_command": "npm test"}, configured, "workflow “m”")
    assert (first.argv, first.origin) == (["python", "-m", "pytest", "-q"], "the meta \"check\" of workflow “m”")
    second = check_command(None, {"test_command": "npm test"}, configured)
    assert (second.text, second.origin) == ("npm test", "the run's test_command argument")
    third = check_command(None, {"files": ["a.py"]}, configured)
    assert (third.text, third.origin) == ("make test", "the check_command setting")


def test_without_a_check_command_the_error_says_how_to_set_one(settings: Settings) -> None:
    with pytest.raises(UsageError) as caught:
        check_command(None, None, settings)
    assert str(caught.value) == NO_CHECK_COMMAND
    assert "check_command" in NO_CHECK_COMMAND and "workcrew.checkCommand" in NO_CHECK_COMMAND
    with pytest.raises(UsageError, match="cannot be split"):
        check_command("python -m 'unterminated", None, settings)


def test_a_stored_runs_check_is_read_from_the_script_it_ran(settings: Settings) -> None:
    run = {"workflow": "m", "script_source": META_CHECK, "args": {"test_command": "npm test"}}
    assert run_check_command(run, settings).text == "python -m unittest -q"
    assert run_check_command({**run, "script_source": None}, settings).text == "npm test"


async def test_the_copy_holds_the_buffers_not_secrets_and_is_removed_after(settings: Settings, workspace: Path) -> None:
    (workspace / "app.py").write_text("on disk\n")
    (workspace / ".env").write_text("TOKEN=on-disk\n")
    (workspace / ".gitignore").write_text("build/\n")
    (workspace / "build").mkdir()
    (workspace / "build" / "out.txt").write_text("ignored\n")
    buffers = {"app.py": "unsaved\r\n", ".env": "TOKEN=unsaved\n", "build/out.txt": "edited\n"}
    async with ScratchCopy.open(settings, buffers) as scratch:
        root = scratch.root
        assert (root / "app.py").read_bytes() == b"unsaved\r\n"  # the editor's text, line endings as they are
        assert not (root / ".env").exists() and not (root / "build").exists()
        await scratch.write({"new/mod.py": "x = 1\n", "app.py": None})
        assert (root / "new" / "mod.py").read_text() == "x = 1\n" and not (root / "app.py").exists()
        with pytest.raises(UsageError, match="outside"):
            await scratch.write({"../escape.py": "x"})
    assert not root.exists() and not root.parent.exists()
    assert (workspace / "app.py").read_text() == "on disk\n"


async def test_the_check_runs_in_the_sandbox_on_the_copy_and_refuses_what_is_not_allowed(
        settings: Settings, workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    (workspace / "test_one.py").write_text("import unittest\n\nclass T(unittest.TestCase):\n"
                                           "    def test_it(self):\n        self.assertTrue(True)\n")
    allowed = settings.model_copy(update={"command_allowlist": ["python -m unittest"]})
    command = check_command("python -m unittest -q", None, allowed)
    async with ScratchCopy.open(allowed) as scratch:
        passed = await scratch.check(command)
        assert passed.passed and "Ran 1 test" in passed.tail()
        await scratch.write({"test_one.py": "raise SystemExit(3)\n"})
        failed = await scratch.check(command)
        assert (failed.passed, failed.exit_code) == (False, 1)
        with pytest.raises(CommandRefused, match="not in the allowlist"):
            await ScratchCopy(scratch.root, settings, None).check(command)
    assert "SystemExit" not in (workspace / "test_one.py").read_text()


async def test_a_file_rewritten_in_the_same_second_at_the_same_size_is_not_run_from_stale_bytecode(
        settings: Settings, workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Apply and verify checks a fix, then the same files without it: `== None` → `is None` keeps the size,
    # and Python's .pyc (mtime in whole seconds + size) would run the fixed text again
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    (workspace / "flag.py").write_text("VALUE = 1\n")
    (workspace / "test_flag.py").write_text("import unittest\n\nimport flag\n\nclass T(unittest.TestCase):\n"
                                            "    def test_it(self):\n        self.assertEqual(flag.VALUE, 1)\n")
    allowed = settings.model_copy(update={"command_allowlist": ["python -m unittest"]})
    command = check_command("python -m unittest -q", None, allowed)
    async with ScratchCopy.open(allowed) as scratch:
        assert (await scratch.check(command)).passed
        await scratch.write({"flag.py": "VALUE = 2\n"})
        assert not (await scratch.check(command)).passed
        await scratch.write({"flag.py": "VALUE = 1\n"})
        assert (await scratch.check(command)).passed
