"""The sandbox for a normal user: the engine run as an unprivileged user (uid 65534, via setpriv) either runs
commands in bubblewrap (user namespaces) with the same guarantees, or refuses them with the plain reason."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import API_KEY_VALUE, DOTENV_VALUE, SSH_VALUE, TOKEN_VALUE

NOBODY = 65534
pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None or not sys.platform.startswith("linux"),
    reason="needs root and setpriv to become an unprivileged user (as a normal user, the whole suite is that path)")

DRIVER = r"""
import asyncio, json, sys
from pathlib import Path
from workcrew.engine import commands
from workcrew.engine.settings import Settings

ws = Path(sys.argv[1])
settings = Settings(workspace=ws, state_dir=ws.parent / "state", command_allowlist=["make", "cat", "env"])
status = commands.sandbox_status()
out = {"available": status.available, "reason": status.reason, "uid": __import__("os").getuid(), "runs": {}}

async def main():
    for command in ["make env", "make escape", "cat /proc/1/environ", "cat .env", "env"]:
        argv = commands.split(command)
        why = commands.refusal(argv, settings, ws)
        if why is not None:
            out["runs"][command] = {"refused": why}
            continue
        out["runs"][command] = await commands.run_command(argv, ws, settings=settings, writable=ws, timeout=30)

asyncio.run(main())
print(json.dumps(out))
"""

MAKEFILE = """\
env:
\t@env; cat /proc/[0-9]*/environ; echo
escape:
\t@touch {canary}; cat .env; cat {home}/.ssh/id_rsa; echo done
"""


@pytest.fixture
def nobody_tree() -> Iterator[Path]:
    """A workspace, home and canary folder an unprivileged user can reach (pytest's tmp_path is root-only)."""
    base = Path(tempfile.mkdtemp(prefix="workcrew-unpriv-", dir="/tmp"))
    try:
        ws, home = base / "ws", base / "home"
        (home / ".ssh").mkdir(parents=True)
        (home / ".ssh" / "id_rsa").write_text(SSH_VALUE)
        ws.mkdir()
        (ws / ".env").write_text(f"DB_PASSWORD={DOTENV_VALUE}\n")
        (ws / "Makefile").write_text(MAKEFILE.format(canary=base / "pwned", home=home))
        for path in [base, *base.rglob("*")]:
            os.chown(path, NOBODY, NOBODY)
        base.chmod(0o755)
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def as_nobody(*argv: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "ANTHROPIC_API_KEY": API_KEY_VALUE,
           "GITHUB_TOKEN": TOKEN_VALUE, "LANG": "C.UTF-8"}
    return subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *argv],
                          capture_output=True, text=True, env=env, timeout=120, check=False)


def test_an_unprivileged_engine_sandboxes_commands_or_refuses_them_plainly(nobody_tree: Path) -> None:
    importable = as_nobody(sys.executable, "-c", "import workcrew.engine.commands", home=nobody_tree / "home")
    if importable.returncode != 0:  # e.g. a checkout under /root: the engine itself is unreadable to uid 65534
        pytest.skip(f"the engine cannot be imported by an unprivileged user here: {importable.stderr[-300:]}")
    done = as_nobody(sys.executable, "-c", DRIVER, str(nobody_tree / "ws"), home=nobody_tree / "home")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["uid"] == NOBODY
    text = json.dumps(out)
    for value in (API_KEY_VALUE, TOKEN_VALUE, DOTENV_VALUE, SSH_VALUE):
        assert value not in text
    assert not (nobody_tree / "pwned").exists()
    runs = out["runs"]
    assert "refused" in runs["cat /proc/1/environ"] and "refused" in runs["cat .env"]
    if out["available"]:
        assert runs["make env"]["exit_code"] == 0 and "HOME=/tmp/home" in runs["make env"]["stdout"]
        assert runs["make escape"]["stdout"].strip() == "done"
        assert runs["env"]["exit_code"] == 0 and "PATH=" in runs["env"]["stdout"]
    else:  # no user namespaces for this user: refused, and the reason says so
        assert out["reason"]
        assert runs["env"]["refused"].startswith("commands are refused: no OS sandbox is available")


def test_bwrap_itself_runs_for_an_unprivileged_user(nobody_tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandbox layout the engine uses, started by bwrap as uid 65534 (no setuid bwrap needed)."""
    from workcrew.engine.commands import sandbox as command_sandbox
    from workcrew.engine.settings import Settings

    bwrap = command_sandbox.find_bwrap()
    if bwrap is None:
        pytest.skip("bubblewrap is not installed")
    ws = nobody_tree / "ws"
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no toolchain folders an unprivileged user may not read
    settings = Settings(workspace=ws, state_dir=nobody_tree / "state", command_allowlist=["cat"])
    launch = command_sandbox.plan(["cat", ".env", "Makefile"], ws, ws, settings, bwrap)
    done = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *launch.argv],
                          capture_output=True, text=True, env=launch.env, timeout=60, check=False)
    if done.returncode != 0 and "namespace" in done.stderr:
        pytest.skip(f"unprivileged user namespaces are disabled here: {done.stderr.strip()}")
    assert "escape:" in done.stdout  # the workspace is there
    assert DOTENV_VALUE not in done.stdout and ".env: Permission denied" in done.stderr  # the secret is masked
