"""Which commands may run: ``command_allowlist`` entries, then argument rules.

An entry (``"git diff"``, ``"python -m pytest"``) is a prefix of whole words; the longest entry that
matches the command is used. The project wrote the entry, so its words are taken as written; every
argument *after* it (the "extra" arguments, which a script or an agent chose) must pass

* the rules of the program: options that run other programs or code (``make --eval``, ``git -c``,
  ``pytest -p``, ``go test -exec``…), write anywhere (``git diff --output``) or read outside the
  repository (``git diff --no-index``) are refused, and so is any extra argument to a shell or other
  launcher (``sh``, ``env``, ``xargs``…);
* the rules for every argument: no home folder (``~``), no absolute path and no ``..`` outside the
  root, no link that points outside it, no secret file (``secret_patterns``, case-insensitively, by
  its own name and through links), no file with several hard links (it may be another name for a
  secret file).

Each refusal is one sentence saying what was refused and why. These rules are the first layer: an
allowed program still runs inside the OS sandbox of :mod:`.command_sandbox`.
"""

from __future__ import annotations

import os
import re
import shlex
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..settings import Settings
from ..workspace.paths import PathPolicy

Check = Callable[[list[str], list[str]], str | None]  # (entry, extra) -> why refused
NonPaths = Callable[[list[str]], set[int]]  # extra -> indexes of arguments that are not paths


@dataclass(frozen=True)
class Program:
    """The argument rules of one program."""

    refuse: dict[str, str] = field(default_factory=dict)  # option -> why (``--opt``, ``--opt=…``, ``-oVALUE``)
    not_paths: frozenset[str] = frozenset()  # options whose value is a pattern or text, not a path
    check: Check | None = None
    positional_not_paths: NonPaths | None = None


def split(command: str) -> list[str]:
    """The argv of a command line: ``shlex`` words, no shell (no pipes, redirections or ``$(…)``)."""
    return shlex.split(command)


def matching_entry(argv: list[str], allowlist: list[str]) -> list[str] | None:
    best: list[str] | None = None
    for entry in allowlist:
        try:
            prefix = shlex.split(entry)
        except ValueError:
            continue
        if prefix and argv[: len(prefix)] == prefix and (best is None or len(prefix) > len(best)):
            best = prefix
    return best


# -- per-program rules -------------------------------------------------------------------------------

_RUNS = "runs any command"
_SHELL_OUT = ("it is a shell or launcher: it runs exactly as the allowlist entry is written, with no "
              "extra arguments")


def _refused_option(program: Program, arg: str) -> str | None:
    """The refused option ``arg`` is (or abbreviates: getopt, git and argparse accept unique prefixes)."""
    name = arg.split("=", 1)[0]
    if name in program.refuse:
        return name
    if name.startswith("--") and len(name) > 3:
        return next((opt for opt in program.refuse if opt.startswith(name)), None)
    if len(arg) > 2 and arg[0] == "-" and arg[1] != "-" and arg[:2] in program.refuse:
        return arg[:2]  # a short option with its value attached: -cNAME=VALUE
    return None


def _option_refusal(program: Program, extra: list[str], label: str) -> str | None:
    for arg in extra:
        if arg == "--":
            break
        option = _refused_option(program, arg)
        if option is not None:
            return f"`{label} {option}` is refused: {program.refuse[option]}"
    return None


_GIT_READ_ONLY = frozenset({
    "status", "diff", "log", "show", "blame", "grep", "ls-files", "ls-tree", "rev-parse", "rev-list", "describe",
    "shortlog", "diff-tree", "diff-files", "diff-index", "cat-file", "show-ref", "for-each-ref", "name-rev",
    "merge-base", "whatchanged", "version", "check-ignore", "check-attr", "count-objects", "branch", "tag",
    "range-diff", "annotate", "show-branch", "var"})
_GIT_GLOBAL_WITH_VALUE = frozenset({"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--config-env",
                                     "--super-prefix", "--list-cmds", "--attr-source"})


def _git_check(entry: list[str], extra: list[str]) -> str | None:
    words = entry[1:] + extra
    i = 0
    while i < len(words):
        word = words[i]
        if word in _GIT_GLOBAL_WITH_VALUE:
            i += 2
            continue
        if word.startswith("-"):
            i += 1
            continue
        if i < len(entry) - 1 or word in _GIT_READ_ONLY:
            return None  # the project's entry names the subcommand ("git diff", "git commit"), or it reads only
        return (f"`git {word}` is refused: after a git entry without a subcommand only read-only git commands run "
                f"({', '.join(sorted(_GIT_READ_ONLY))}); add 'git {word}' to command_allowlist to allow it")
    return None


def _make_check(entry: list[str], extra: list[str]) -> str | None:
    value_next = {"--file", "--makefile", "--directory", "--include-dir", "--old-file", "--assume-old",
                  "--new-file", "--what-if", "--assume-new"}
    i = 0
    while i < len(extra):
        arg = extra[i]
        if arg.startswith("--"):
            if arg in value_next:
                i += 1  # its value is checked as a path like every other argument
        elif arg.startswith("-") and len(arg) > 1:
            for pos, letter in enumerate(arg[1:], start=1):
                if letter == "E":
                    return ("`make -E` is refused: it evaluates its text as Makefile code, which can run "
                            "any shell command")
                if letter in "CfIoW":
                    if pos == len(arg) - 1:
                        i += 1  # the value is the next argument
                    break
        elif "=" in arg:
            return (f"the make variable override {arg!r} is refused: command-line variables can replace "
                    "any command the Makefile runs (SHELL=…, CC=…); write the override into the allowlist "
                    "entry (\"make test V=1\") if the project needs it")
        i += 1
    return None


def _pytest_check(entry: list[str], extra: list[str]) -> str | None:
    for i, arg in enumerate(extra):
        plugin = extra[i + 1] if arg == "-p" and i + 1 < len(extra) else arg[2:] if arg.startswith("-p") and \
            not arg.startswith("--") and len(arg) > 2 else None
        if plugin is not None and not plugin.startswith("no:"):
            return (f"`pytest -p {plugin}` is refused: it loads a plugin module (code) chosen on the command "
                    "line; only `-p no:NAME` (disabling a plugin) is allowed")
    return None


_PYTEST = Program(
    refuse={"--rootdir": "it moves pytest's root (and the conftest.py files it imports) outside the workspace",
            "--basetemp": "pytest deletes the folder given as --basetemp",
            "-o": "ini overrides can load plugins and change where pytest writes (addopts, cache_dir)",
            "--override-ini": "ini overrides can load plugins and change where pytest writes",
            "--pdbcls": "it imports the module given as the debugger class"},
    not_paths=frozenset({"-k", "-m"}), check=_pytest_check)
_MYPY = Program(refuse={"--python-executable": "mypy runs the interpreter given"})
_MODULES = {"pytest": _PYTEST, "py.test": _PYTEST, "mypy": _MYPY}


def _python(entry: list[str], extra: list[str]) -> tuple[str | None, Program | None, int]:
    """(why refused, the rules of the ``-m`` module, where its arguments start in ``extra``)."""
    words, given = entry[1:] + extra, len(entry) - 1  # words[given:] came from the script or agent
    i = 0
    while i < len(words):
        arg = words[i]
        if arg == "-" or not arg.startswith("-"):
            return None, None, 0  # a script (or stdin): the rest are its own arguments
        letters = arg[1:] if not arg.startswith("--") else ""
        for pos, letter in enumerate(letters):
            if letter == "c":
                return ("`python -c` is refused: it runs the code given on the command line"
                        if i >= given else None), None, 0
            if letter == "m":
                module = letters[pos + 1:] or (words[i + 1] if i + 1 < len(words) else "")
                start = max(i + (1 if letters[pos + 1:] else 2), given)
                rules = _MODULES.get(module)
                if rules is None:
                    return None, None, 0
                offset = start - given
                why = _program_refusal(rules, ["python", "-m", module], extra[offset:], f"python -m {module}")
                return why, rules, offset
            if letter in "WX":
                i += pos == len(letters) - 1  # the value is the next word
                break
        i += 1
    return None, None, 0


def _grep_not_paths(extra: list[str]) -> set[int]:
    """The pattern (the first operand, or each -e/--regexp value) is text, not a path."""
    with_value = {"-f", "-m", "-A", "-B", "-C", "-d", "-D", "--file", "--max-count", "--label", "--context",
                  "--after-context", "--before-context"}
    found = any(a in ("-e", "--regexp", "-f", "--file") or a.startswith(("--regexp=", "--file=")) for a in extra)
    skip: set[int] = set()
    i = 0
    while i < len(extra):
        arg = extra[i]
        if arg == "--":
            if not found and i + 1 < len(extra):
                skip.add(i + 1)
            break
        if arg in ("-e", "--regexp"):
            skip.add(i + 1)
            i += 2
            continue
        if arg.startswith("--regexp=") or (arg.startswith("-e") and len(arg) > 2):
            skip.add(i)
        elif arg in with_value:
            i += 1  # its value (a -f file) is checked as a path
        elif (arg == "-" or not arg.startswith("-")) and not found:
            skip.add(i)
            found = True
        i += 1
    return skip


def _launcher(name: str) -> Program:
    def check(entry: list[str], extra: list[str]) -> str | None:
        return f"extra arguments to {name!r} are refused: {_SHELL_OUT}" if extra else None
    return Program(check=check)


_NPM = Program(refuse={"--script-shell": "it replaces the shell that runs package scripts",
                       "--node-options": "it passes options (--require …) to every node process",
                       "--userconfig": "a config file can set script-shell and other commands",
                       "--globalconfig": "a config file can set script-shell and other commands",
                       "-c": "`npm exec -c` runs a shell command", "--call": "`npm exec --call` runs a shell command"})
_INTERPRETER = Program(refuse=dict.fromkeys(
    ["-e", "-E", "--eval", "-p", "--print", "-r", "--require", "--import", "--loader", "--experimental-loader"],
    "it runs code given on the command line"))

PROGRAMS: dict[str, Program] = {
    "git": Program(
        refuse={"-c": "it sets git configuration for this call (core.pager, core.fsmonitor, alias.* can run "
                      "any command)",
                "--config-env": "it sets git configuration for this call", "--config": "it sets git configuration",
                "--exec-path": "it points git at other programs to run",
                "--upload-pack": _RUNS, "--receive-pack": _RUNS, "--exec": _RUNS, "-O": _RUNS,
                "--open-files-in-pager": _RUNS, "--ext-diff": "it runs an external diff program",
                "--output": "it writes the output to any file",
                "--no-index": "it compares any two files on disk, also outside the repository",
                "--template": "it installs hooks from the given folder",
                "--separate-git-dir": "it moves the repository"},
        not_paths=frozenset({"--grep", "--author", "--committer", "-S", "-G", "--format", "--pretty", "-m",
                             "--message", "--since", "--until", "--before", "--after"}),
        check=_git_check),
    "make": Program(refuse={"--eval": "it evaluates its text as Makefile code, which can run any shell command",
                            "--jobserver-auth": "it is make's internal option",
                            "--jobserver-fds": "it is make's internal option"}, check=_make_check),
    "pytest": _PYTEST, "py.test": _PYTEST, "mypy": _MYPY,
    "npm": _NPM, "pnpm": _NPM, "yarn": _NPM,
    "cargo": Program(refuse={"--config": "cargo configuration can name programs to run (target runners)",
                             "-Z": "unstable flags change what cargo runs"}),
    "go": Program(refuse=dict.fromkeys([f"{dash}{name}" for name in ("toolexec", "exec", "ldflags", "gccgoflags")
                                        for dash in ("-", "--")],
                                       "it names a program to run or linker flags that can run one")),
    "find": Program(refuse=dict.fromkeys(["-exec", "-execdir", "-ok", "-okdir", "-delete", "-fprint", "-fprint0",
                                          "-fprintf", "-fls"], "it runs commands or writes or deletes files")),
    "grep": Program(positional_not_paths=_grep_not_paths),
    "egrep": Program(positional_not_paths=_grep_not_paths),
    "fgrep": Program(positional_not_paths=_grep_not_paths),
    "rg": Program(refuse={"--pre": _RUNS}, positional_not_paths=_grep_not_paths),
    "sed": Program(check=lambda entry, extra: None if not extra or "--sandbox" in entry + extra else
                   "`sed` without --sandbox is refused: its e command and s///e flag run shell commands"),
    **{name: _INTERPRETER for name in ("node", "nodejs", "deno", "bun", "perl", "ruby", "php")},
    **{name: _launcher(name) for name in (
        "sh", "bash", "dash", "zsh", "ksh", "fish", "csh", "tcsh", "env", "xargs", "sudo", "su", "doas", "nohup",
        "nice", "ionice", "timeout", "stdbuf", "setsid", "chroot", "busybox", "unshare", "nsenter", "script",
        "watch", "flock", "ssh", "scp", "sftp", "rsync", "curl", "wget", "nc", "ncat", "socat", "telnet",
        "awk", "gawk", "mawk", "nawk", "bwrap", "strace", "gdb")},
}


def _program_name(argv0: str) -> str:
    name = os.path.basename(argv0)
    if re.fullmatch(r"(python|pypy)[0-9.]*", name):
        return "python"
    return name


def _program_refusal(program: Program, entry: list[str], extra: list[str], label: str) -> str | None:
    why = _option_refusal(program, extra, label)
    if why is None and program.check is not None:
        why = program.check(entry, extra)
    return why


def _not_paths(program: Program | None, extra: list[str]) -> set[int]:
    if program is None:
        return set()
    skip = program.positional_not_paths(extra) if program.positional_not_paths else set()
    for i, arg in enumerate(extra):
        name = arg.split("=", 1)[0]
        if name in program.not_paths:
            skip.add(i if "=" in arg else i + 1)
        elif len(arg) > 2 and arg[0] == "-" and arg[1] != "-" and arg[:2] in program.not_paths:
            skip.add(i)
    return skip


# -- arguments as paths --------------------------------------------------------------------------------

def _pieces(arg: str) -> list[str]:
    """What in one argument could name a path: the argument, an option's value, parts split at = : ,."""
    if arg.startswith("--"):
        value = arg.split("=", 1)[1] if "=" in arg else ""
    elif arg.startswith("-") and len(arg) > 1:
        cut = next((i for i, ch in enumerate(arg[1:], start=1) if ch in "/~."), 2)
        value = arg[cut:]  # a short option with a value attached, even behind other flags: -sf/dev/null
    else:
        value = arg
    pieces = [value, *re.split(r"[=:,]", value)] if value else []
    return list(dict.fromkeys(p for p in pieces if p))


class _Paths:
    def __init__(self, root: Path, cwd: Path, settings: Settings) -> None:
        self.root = os.path.realpath(root)
        self.cwd = os.path.realpath(cwd)
        self.policy = PathPolicy(Path(self.root), settings)

    def inside(self, path: str) -> bool:
        return path == self.root or path.startswith(self.root.rstrip("/") + "/")

    def secret(self, absolute: str) -> bool:
        rel = os.path.relpath(absolute, self.root).replace(os.sep, "/")
        return rel != "." and (self.policy.is_secret(rel) or self.policy.is_secret(rel + "/x"))

    def refusal(self, piece: str, arg: str) -> str | None:
        text = piece.replace("\\", "/")
        shown = repr(arg)
        if text.startswith("~"):
            return f"{shown} names a home folder; commands see only the workspace"
        absolute = os.path.normpath(text if text.startswith("/") else os.path.join(self.cwd, text))
        if not self.inside(absolute):
            if text.startswith("/"):
                return f"{shown} is an absolute path outside the workspace; use a path inside the workspace"
            if ".." in text.split("/"):
                return f"{shown} leaves the workspace: '..' may not climb above the workspace root"
            return None
        if self.secret(absolute):
            return f"{shown} names a secret file (matches secret_patterns); commands may not touch secret files"
        if not os.path.lexists(absolute):
            return None
        real = os.path.realpath(absolute)
        if not self.inside(real):
            return f"{shown} is a link that points outside the workspace; refused"
        if self.secret(real):
            return f"{shown} is a link to a secret file; commands may not touch secret files"
        try:
            info = os.stat(real)
        except OSError:
            return None
        if stat.S_ISREG(info.st_mode) and info.st_nlink > 1:
            return (f"{shown} has {info.st_nlink} hard links; a file with several names may be another name "
                    "for a secret file, so commands may not name it")
        return None


def refusal(argv: list[str], settings: Settings, root: Path, cwd: Path | None = None) -> str | None:
    """Why ``argv`` may not run in ``cwd`` (default: ``root``), or None when the rules allow it."""
    if not argv or not argv[0]:
        return "the command is empty"
    if any("\0" in arg for arg in argv):
        return "the command contains a NUL character"
    entry = matching_entry(argv, settings.command_allowlist)
    if entry is None:
        allowed = ", ".join(settings.command_allowlist) or "none"
        return (f"command {argv[0]!r} is not in the allowlist ({allowed}): it is not an allowed command until "
                "you add it to command_allowlist in workcrew.toml")
    paths = _Paths(root, cwd or root, settings)
    if not paths.inside(paths.cwd):
        return f"the working folder {str(cwd)!r} is outside the workspace"
    extra = argv[len(entry):]
    name = _program_name(argv[0])
    offset = 0
    if name == "python":
        why, program, offset = _python(entry, extra)
    else:
        program = PROGRAMS.get(name)
        label = name if len(entry) == 1 or entry[-1].startswith("-") or "=" in entry[-1] else f"{name} {entry[-1]}"
        why = _program_refusal(program, entry, extra, label) if program is not None else None
    if why is not None:
        return why
    skip = {i + offset for i in _not_paths(program, extra[offset:])}
    for i, arg in enumerate(extra):
        if i in skip:
            continue
        for piece in _pieces(arg):
            why = paths.refusal(piece, arg)
            if why is not None:
                return why
    return None
