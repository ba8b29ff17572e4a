"""Red-team fixtures: a workspace with secrets, a fake home with a private key, canaries outside the workspace,
a fake API key in the environment, and a check() wired to engine.commands."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from workcrew.engine import RunStore, Settings
from workcrew.engine.commands import sandbox as command_sandbox

from ..agents.conftest import run_api, simulator  # noqa: F401  (fixtures used by the run_command attempts)

API_KEY_VALUE = "sk-ant-api03-REDTEAM-environ-canary-4d1f"
TOKEN_VALUE = "ghp_REDTEAMtokenCanary0000000000000000"
DOTENV_VALUE = "dotenv-REDTEAM-canary-9c41"
SSH_VALUE = "REDTEAM-ssh-private-key-canary-77aa"
OUTSIDE_VALUE = "REDTEAM-outside-file-canary-51be"
SECRETS = (API_KEY_VALUE, TOKEN_VALUE, DOTENV_VALUE, SSH_VALUE, OUTSIDE_VALUE)

MAKEFILE = """\
all:
\t@echo building
env:
\t@env; cat /proc/self/environ; for f in /proc/[0-9]*/environ; do cat $$f; done; echo
escape:
\t@touch {canary} ; echo pwned > {canary}; cp .env {canary} ; cat {home}/.ssh/id_rsa; cat {outside}/data.txt; \
ls -la ~ {home}
hook:
\t@mkdir -p .git/hooks; echo 'touch {canary}' > .git/hooks/pre-commit; chmod +x .git/hooks/pre-commit
config:
\t@echo 'allow_unsandboxed_commands = true' >> workcrew.toml; echo '[tool.workcrew]' >> pyproject.toml
store:
\t@ls -la .workcrew; cat .workcrew/*; echo x > .workcrew/planted
dotenv:
\t@cat .env; cat notes.txt; cat config/.ENV; cat link.txt; grep -r REDTEAM . ; echo
net:
\t@python3 -c 'import socket; socket.create_connection(("1.1.1.1", 80), 2); print("NETWORK OPEN")'
"""
CONFTEST = """\
import os, glob, pathlib
def test_exfiltrate():
    found = dict(os.environ)
    for path in glob.glob('/proc/[0-9]*/environ'):
        try:
            found[path] = open(path, 'rb').read().decode('utf-8', 'replace')
        except OSError:
            pass
    for path in ('{home}/.ssh/id_rsa', '{outside}/data.txt', '.env', 'notes.txt'):
        try:
            found[path] = open(path).read()
        except OSError as exc:
            found[path] = str(exc)
    try:
        pathlib.Path('{canary}').write_text('pwned')
    except OSError as exc:
        found['write'] = str(exc)
    print(found)
"""


@dataclass
class RedTeam:
    workspace: Path
    home: Path
    outside: Path
    canary: Path
    state_dir: Path

    def outside_snapshot(self) -> dict[str, bytes]:
        return {str(p): p.read_bytes() for p in sorted(self.outside.rglob("*")) if p.is_file()}

    def fill(self, text: str) -> str:
        return text.format(canary=self.canary, home=self.home, outside=self.outside, ws=self.workspace,
                           pid=os.getpid())


@pytest.fixture
def redteam(workspace: Path, tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> RedTeam:
    home, outside = tmp_path / "home", tmp_path / "outside"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text(f"-----BEGIN OPENSSH PRIVATE KEY-----\n{SSH_VALUE}\n")
    outside.mkdir()
    (outside / "data.txt").write_text(OUTSIDE_VALUE)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY_VALUE)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN_VALUE)
    team = RedTeam(workspace, home, outside, outside / "pwned", settings.resolved_state_dir())
    (workspace / "src").mkdir()
    (workspace / "src" / "app.py").write_text("def add(a, b):\n    return a + b\n")
    (workspace / "test_app.py").write_text("from src.app import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n")
    (workspace / ".env").write_text(f"DB_PASSWORD={DOTENV_VALUE}\n")
    (workspace / "config").mkdir()
    (workspace / "config" / ".ENV").write_text(f"TOKEN={DOTENV_VALUE}\n")
    os.link(workspace / ".env", workspace / "notes.txt")  # a hard link: another name for the secret
    os.symlink(".env", workspace / "link.txt")
    os.symlink(outside / "data.txt", workspace / "outside_link.txt")
    (workspace / "Makefile").write_text(team.fill(MAKEFILE))
    (workspace / "workcrew.toml").write_text('command_allowlist = ["make"]\n')
    (workspace / "pyproject.toml").write_text('[project]\nname = "victim"\n')
    (workspace / ".git" / "hooks").mkdir(parents=True)
    (workspace / ".vscode").mkdir()  # a protected (read-only) folder: secrets in it are masked all the same
    (workspace / ".vscode" / "secrets.json").write_text(f'{{"token": "{DOTENV_VALUE}"}}')
    return team


@pytest.fixture(autouse=True)
def _private_tmp(private_tmp: Path) -> Path:
    """Every red-team test keeps its scratch copies and worktrees in its own temp folder."""
    return private_tmp


@pytest.fixture(autouse=True)
def fresh_probe() -> Iterator[None]:
    command_sandbox._status.clear()
    yield
    command_sandbox._status.clear()


def leaks(*texts: Any) -> list[str]:
    """The secret values found in any of ``texts`` (reprs of results, tool outputs, rows)."""
    blob = "\n".join(t if isinstance(t, str) else repr(t) for t in texts)
    return [value for value in SECRETS if value in blob]


def store_leaks(store: RunStore) -> list[str]:
    store.flush()
    blob = b"".join(p.read_bytes() for p in store.state_dir.glob("workcrew.db*") if p.is_file())
    return [value for value in SECRETS if value.encode() in blob]
