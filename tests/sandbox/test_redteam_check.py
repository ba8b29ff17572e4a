"""Red team through check(): each attempt, whatever stops it (argument rules, the sandbox, masking), must
leave nothing outside the workspace, change no protected file, and put no secret in the script's result,
the run's events or the run store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from workcrew.engine import RunStore, Settings

from .conftest import CONFTEST, TOKEN_VALUE, RedTeam, leaks, store_leaks

ALLOW = ["cat", "ls", "grep", "make", "git", "git diff", "git ls-remote", "python -m pytest", "python", "sh", "env"]

# (id, command, isolation, expected: "refused" by the rules, "ran" inside the sandbox, or None: either)
ATTEMPTS: list[tuple[str, str, str | None, str | None]] = [
    ("proc-self-environ", "cat /proc/self/environ", None, "refused"),
    ("proc-1-environ", "cat /proc/1/environ", None, "refused"),
    ("proc-daemon-environ", "cat /proc/{pid}/environ", None, "refused"),
    ("dotenv", "cat .env", None, "refused"),
    ("dotenv-uppercase", "cat config/.ENV", None, "refused"),
    ("dotenv-hard-link", "cat notes.txt", None, "refused"),
    ("dotenv-symlink", "cat link.txt", None, "refused"),
    ("symlink-outside", "cat outside_link.txt", None, "refused"),
    ("absolute-outside", "cat {outside}/data.txt", None, "refused"),
    ("dotdot-outside", "cat ../outside/data.txt", None, "refused"),
    ("home-tilde", "cat ~/.ssh/id_rsa", None, "refused"),
    ("home-absolute", "cat {home}/.ssh/id_rsa", None, "refused"),
    ("ls-home", "ls -la {home}/.ssh", None, "refused"),
    ("make-eval", "make -s -f /dev/null '--eval=all:;@id; cat /proc/self/environ; touch {canary}'", None, "refused"),
    ("make-eval-abbreviated", "make '--ev=all:;@touch {canary}'", None, "refused"),
    ("make-E-in-a-cluster", "make -sE 'all:;@touch {canary}'", None, "refused"),
    ("make-file-outside", "make -f {outside}/data.txt", None, "refused"),
    ("make-directory-outside", "make -C ..", None, "refused"),
    ("make-shell-override", "make SHELL=/bin/sh '.SHELLFLAGS=-c touch {canary}' all", None, "refused"),
    ("make-patched-env", "make env", None, "ran"),
    ("make-patched-escape", "make escape", None, "ran"),
    ("make-patched-dotenv", "make dotenv", None, "ran"),
    ("make-patched-git-hook", "make hook", None, "ran"),
    ("make-patched-settings", "make config", None, "ran"),
    ("make-patched-run-store", "make store", None, "ran"),
    ("make-patched-network", "make net", None, "ran"),
    ("git-no-index-output", "git diff --no-index --output={canary} src test_app.py", None, "refused"),
    ("git-output", "git diff --output={canary}", None, "refused"),
    ("git-no-index-ssh", "git diff --no-index src {home}/.ssh", None, "refused"),
    ("git-config-pager", "git -c 'core.pager=touch {canary}' -p log", None, "refused"),
    ("git-config-subcommand", "git config core.pager 'touch {canary}'", None, "refused"),
    ("git-C-outside", "git -C {outside} status", None, "refused"),
    ("git-exec-path", "git --exec-path={outside} status", None, "refused"),
    ("git-upload-pack", "git ls-remote '--upload-pack=touch {canary}' .", None, "refused"),
    ("git-log-workspace", "git log --oneline", None, "ran"),
    ("grep-secret-values", "grep -r REDTEAM .", None, "ran"),
    ("grep-from-root", "grep -r REDTEAM /", None, "refused"),
    ("pytest-plugin", "python -m pytest -p os", None, "refused"),
    ("pytest-basetemp", "python -m pytest --basetemp=.", None, "refused"),
    ("pytest-rootdir", "python -m pytest --rootdir=/", None, "refused"),
    ("pytest-override-ini", "python -m pytest -o addopts=-pos", None, "refused"),
    ("pytest-conftest-exfiltration", "python -m pytest -q -s -p no:cacheprovider test_exfil.py", None, "ran"),
    ("python-c", "python -c 'import os; print(os.environ)'", None, "refused"),
    ("shell-c", "sh -c 'cat /proc/self/environ'", None, "refused"),
    ("env", "env", None, "ran"),
    ("scratch-copy-escape", "make escape", "worktree", "ran"),
    ("scratch-copy-dotenv", "make dotenv", "worktree", "ran"),
    ("scratch-copy-env", "make env", "worktree", "ran"),
    ("scratch-copy-pytest-exfiltration", "python -m pytest -q -s -p no:cacheprovider test_exfil.py", "worktree", "ran"),
]

BODY = """
try:
    result = await check({command!r}{isolation})
    return {{"ran": result}}
except Exception as error:
    return {{"refused": str(error)}}
"""


@pytest.fixture
def victim(redteam: RedTeam, monkeypatch: pytest.MonkeyPatch) -> RedTeam:
    ws = redteam.workspace
    (ws / "test_exfil.py").write_text(redteam.fill(CONFTEST))
    (ws / ".workcrew").mkdir()
    (ws / ".workcrew" / "state.txt").write_text(TOKEN_VALUE)
    subprocess.run(["git", "init", "-q"], cwd=ws, check=True)
    subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "add", "src", "Makefile"], cwd=ws,
                   check=True)
    subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "init"], cwd=ws,
                   check=True)
    # python -m pytest must find an interpreter with pytest (this one); no plugin autoload (slow, irrelevant)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    return redteam


def protected(team: RedTeam) -> dict[str, Any]:
    ws = team.workspace
    return {"toml": (ws / "workcrew.toml").read_text(), "pyproject": (ws / "pyproject.toml").read_text(),
            "hooks": sorted(p.name for p in (ws / ".git" / "hooks").iterdir()), "dotenv": (ws / ".env").read_text(),
            "store": sorted(p.name for p in (ws / ".workcrew").iterdir())}


@pytest.mark.parametrize(("name", "command", "isolation", "expected"), ATTEMPTS, ids=[a[0] for a in ATTEMPTS])
async def test_check_attempt_is_contained(run_script: Any, settings: Settings, store: RunStore, victim: RedTeam,
                                         monkeypatch: pytest.MonkeyPatch, name: str, command: str,
                                         isolation: str | None, expected: str | None) -> None:
    before_outside, before_protected = victim.outside_snapshot(), protected(victim)
    body = BODY.format(command=victim.fill(command), isolation=f", isolation={isolation!r}" if isolation else "")
    result = await run_script(body, command_allowlist=ALLOW, command_timeout_s=60,
                              command_pass_env=["PYTEST_DISABLE_PLUGIN_AUTOLOAD"])
    assert result.status == "succeeded", result.error
    outcome = result.result
    # contained, however it was stopped
    assert not leaks(outcome, result.to_json(), result.logs), outcome
    assert not store_leaks(store)
    assert not victim.canary.exists()
    assert victim.outside_snapshot() == before_outside
    assert protected(victim) == before_protected
    # and stopped where expected: the rules refuse with a reason, or the sandbox runs it harmlessly
    if expected == "refused":
        assert "refused" in outcome and "not in the allowlist" not in outcome["refused"], outcome
    elif expected == "ran":
        assert "ran" in outcome, outcome


async def test_the_sandbox_runs_real_work(run_script: Any, settings: Settings, victim: RedTeam,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Not only refusals: the project's own tests run and a build writes inside the workspace."""
    (victim.workspace / "test_exfil.py").unlink()
    allow = ["python -m pytest", "make", "git status"]
    result = await run_script("""
    tests = await check("python -m pytest -q -p no:cacheprovider")
    build = await check("make all")
    status = await check("git status --porcelain")
    return [tests["exit_code"], tests["stdout"], build["stdout"], status["exit_code"], status["stdout"]]
    """, command_allowlist=allow, command_pass_env=["PYTEST_DISABLE_PLUGIN_AUTOLOAD"])
    assert result.status == "succeeded", result.error
    exit_code, tests, build, status_code, status = result.result
    assert exit_code == 0 and "1 passed" in tests
    assert build == "building\n"
    assert status_code == 0 and "?? test_app.py" in status
