"""The agent toolbox: read, list, glob and grep the workspace; edit and write into the agent's own overlay;
run an allowlisted command in the agent's worktree (through :mod:`.commands`: argument rules, OS sandbox);
load a skill (``skills.py``). Only the agent's effective tools (``tool_names.py``) are offered or executed.

Every path is confined to the workspace (no ``..``, no absolute path outside it, no symlink escape),
secret files are never read or listed (patterns match case-insensitively, links are resolved first and
a file with several hard links is never read: it may be another name for a secret file), binary and
huge files are refused, and every refusal is a tool error the model can read (``is_error=True``),
counted, never a crash. File work runs in worker threads so the event loop never blocks.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pathspec

from ..redaction import redact
from ..settings import Settings
from ..tool_names import DEFAULT_TOOLS, LOAD_SKILL, MCP_PREFIX, RUN_COMMAND, WORKCREW_TOOLS
from ..workspace.paths import PathPolicy, ToolError
from .skills import Skills, read_skill, skill_fingerprint

__all__ = ["AgentToolBox", "PathPolicy", "ToolError", "is_binary", "walk"]

SKIP_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".mypy_cache",
                       ".pytest_cache", ".ruff_cache", ".tox", ".workcrew", ".eggs"})
MAX_READ_LINES = 2000
MAX_OUTPUT_CHARS = 60_000
MAX_GREP_MATCHES = 200
MAX_GLOB_RESULTS = 500
MAX_WALK_FILES = 50_000
ABSENT = "absent"  # the fingerprint of a path that does not exist (or is not a file)


def content_digest(data: bytes) -> str:
    """A file's content fingerprint, as journaled for incremental re-runs (see runtime/resume.py)."""
    return hashlib.sha256(data).hexdigest()[:32]


def listing_digest(names: list[str]) -> str:
    return hashlib.sha256("\n".join(names).encode("utf-8", "surrogatepass")).hexdigest()[:32]


class Ignore:
    """gitignore rules of one tree: every ``.gitignore`` applies below its folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._specs: dict[str, pathspec.GitIgnoreSpec | None] = {}

    def _spec(self, rel_dir: str) -> pathspec.GitIgnoreSpec | None:
        if rel_dir not in self._specs:
            file = self.root / rel_dir / ".gitignore"
            try:
                lines = file.read_text("utf-8", errors="replace").splitlines()
            except OSError:
                lines = []
            self._specs[rel_dir] = pathspec.GitIgnoreSpec.from_lines(lines) if lines else None
        return self._specs[rel_dir]

    def ignored(self, rel: str, is_dir: bool) -> bool:
        parts = rel.split("/")
        for depth in range(len(parts)):
            base = "/".join(parts[:depth])
            spec = self._spec(base)
            if spec is not None and spec.match_file("/".join(parts[depth:]) + ("/" if is_dir else "")):
                return True
        return False


def walk(root: Path, policy: PathPolicy, start: str = "") -> Iterator[str]:
    """Workspace-relative files under ``start``: gitignore-aware, no VCS or tool folders, no secrets."""
    ignore = Ignore(root)
    stack = [start]
    seen = 0
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(root / folder), key=lambda e: e.name)
        except OSError:
            continue
        subdirs = []
        for entry in entries:
            rel = f"{folder}/{entry.name}" if folder else entry.name
            if entry.name == ".git":
                continue  # a folder in a repository, a file in a git worktree
            if entry.is_dir(follow_symlinks=False):
                if entry.name in SKIP_DIRS or ignore.ignored(rel, True) or policy.is_secret(rel + "/x"):
                    continue
                subdirs.append(rel)
            elif entry.is_file(follow_symlinks=False):
                if ignore.ignored(rel, False) or policy.is_secret(rel):
                    continue
                try:
                    if entry.stat(follow_symlinks=False).st_nlink > 1:
                        continue  # several names: maybe another name for a secret file (PathPolicy.check_links)
                except OSError:
                    continue
                seen += 1
                if seen > MAX_WALK_FILES:
                    return
                yield rel
        stack.extend(reversed(subdirs))


def is_binary(data: bytes) -> bool:
    return b"\0" in data[:8192]


def _truncate(text: str, note: str) -> str:
    if len(text) <= MAX_OUTPUT_CHARS:
        return text
    return text[:MAX_OUTPUT_CHARS] + f"\n[truncated: {note}]"


TOOL_DEFINITIONS: list[dict[str, Any]] = [
    {"name": "read_file", "description": "Read a text file of the workspace, with line numbers. Use start_line and "
     "end_line (1-based, inclusive) for long files.",
     "input_schema": {"type": "object", "properties": {
         "path": {"type": "string", "description": "path relative to the workspace root"},
         "start_line": {"type": "integer"}, "end_line": {"type": "integer"}}, "required": ["path"]}},
    {"name": "list_dir", "description": "List a folder of the workspace (folders end with '/').",
     "input_schema": {"type": "object", "properties": {"path": {"type": "string", "description": "default: root"}}}},
    {"name": "glob", "description": "Find files by glob pattern, e.g. 'src/**/*.py' (gitignored files skipped).",
     "input_schema": {"type": "object", "properties": {"pattern": {"type": "string"}}, "required": ["pattern"]}},
    {"name": "grep", "description": "Search file contents with a regular expression; answers 'path:line: text'.",
     "input_schema": {"type": "object", "properties": {
         "pattern": {"type": "string"}, "path": {"type": "string", "description": "folder or file to search"},
         "glob": {"type": "string", "description": "only files matching this glob, e.g. '*.py'"},
         "ignore_case": {"type": "boolean"}}, "required": ["pattern"]}},
    {"name": "edit_file", "description": "Replace the exact text 'old' (which must occur exactly once) with 'new'. "
     "Changes go to your private copy, never to the user's files; they become your patch.",
     "input_schema": {"type": "object", "properties": {
         "path": {"type": "string"}, "old": {"type": "string"}, "new": {"type": "string"}},
         "required": ["path", "old", "new"]}},
    {"name": "write_file", "description": "Create or overwrite a file in your private copy with 'content'.",
     "input_schema": {"type": "object", "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
                      "required": ["path", "content"]}},
]
RUN_COMMAND_DEFINITION: dict[str, Any] = {
    "name": "run_command", "description": "Run an allowlisted command (tests, linters) in your private copy of the "
    "workspace; answers the exit code and output.",
    "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}}
LOAD_SKILL_DEFINITION: dict[str, Any] = {
    "name": LOAD_SKILL, "description": "Read a skill listed in your instructions: its SKILL.md, or with 'file' a file "
    "of the skill's folder that its instructions point to.",
    "input_schema": {"type": "object", "properties": {
        "name": {"type": "string", "description": "the skill's name, as listed"},
        "file": {"type": "string", "description": "a path inside the skill's folder, e.g. reference.md"}},
        "required": ["name"]}}


class AgentToolBox:
    """The :class:`agent_loop.ToolBox` of one agent.

    ``root`` is what the agent sees. Without a ``worktree`` the root is the user's workspace and edits go
    to an in-memory overlay; with one, the root *is* the worktree and edits are written there (so
    commands see them). Either way :attr:`changes` says what differs from the original.
    """

    def __init__(self, root: Path, settings: Settings, *, worktree: bool = False, tools: frozenset[str] | None = None,
                 skills: Skills | None = None) -> None:
        # only ``tools`` (tool_names.py; default: the workspace tools) are offered and executed; load_skill
        # only with skills to load, run_command only in a worktree
        self.allowed = tools if tools is not None else DEFAULT_TOOLS | ({RUN_COMMAND} if worktree else set())
        self.skills = skills
        self._definitions = [d for d in TOOL_DEFINITIONS if d["name"] in self.allowed]
        self._definitions += [RUN_COMMAND_DEFINITION] if worktree and RUN_COMMAND in self.allowed else []
        self._definitions += [LOAD_SKILL_DEFINITION] if skills and LOAD_SKILL in self.allowed else []
        self.offered = frozenset(d["name"] for d in self._definitions)
        self.policy = PathPolicy(root, settings)
        self.root = self.policy.root
        self.settings = settings
        self.worktree = worktree
        self.overlay: dict[str, str] = {}  # rel → content (overlay mode only)
        self.originals: dict[str, str | None] = {}  # rel → text before the agent's first edit (None: new)
        self.calls = 0
        self.refusals = 0
        # what the agent's answer depends on: "file:REL", "dir:REL" or "walk:REL" → its fingerprint when
        # first seen (before the agent's own edits). A later run reuses the answer only while all still match.
        self.reads: dict[str, str] = {}

    def definitions(self) -> list[dict[str, Any]]:
        return list(self._definitions)

    async def call(self, name: str, arguments: dict[str, Any]) -> tuple[str, bool]:
        self.calls += 1
        try:
            if name not in self.offered:
                raise ToolError(self._not_offered(name))
            if name == "run_command":
                return await self._run_command(arguments), False
            handler = getattr(self, f"_tool_{name}")
            text: str = await anyio.to_thread.run_sync(handler, arguments)
            return text, False
        except ToolError as exc:
            self.refusals += 1
            return str(exc), True
        except (TypeError, KeyError, ValueError) as exc:
            self.refusals += 1
            return f"bad arguments for {name}: {exc}", True
        except OSError as exc:  # unreadable file, vanished folder, full disk: the model hears why
            self.refusals += 1
            return f"{name} failed: {exc.strerror or exc}", True

    def _not_offered(self, name: str) -> str:
        available = ", ".join(d["name"] for d in self._definitions) or "none"
        if name == RUN_COMMAND and not self.worktree:
            return "run_command needs a private worktree: this agent was not started with isolation='worktree'"
        if name in WORKCREW_TOOLS or name.startswith(MCP_PREFIX):
            return f"tool {name!r} is not available to this agent (not in its tools); its tools: {available}"
        return f"unknown tool {name!r}; available: {available}"

    def _tool_load_skill(self, args: dict[str, Any]) -> str:
        if not self.skills:
            raise ToolError("no skills are available to this agent")
        text = read_skill(self.skills, args.get("name"), args.get("file"), self.settings, self.reads)
        return _truncate(text, "load a smaller file of the skill")

    # -- reading ---------------------------------------------------------------------------------

    def read_text(self, rel: str) -> str:
        """The agent's view of a file (overlay first), with every read rule applied and secret values
        redacted (before any slicing: a line range or a grep match cut short could hold part of one)."""
        return redact(self._file_text(rel))

    def _file_text(self, rel: str) -> str:
        """The file as it is (edits apply to this, never to the redacted view)."""
        self.policy.check_readable(rel)
        if rel in self.overlay:
            return self.overlay[rel]
        path = self.policy.real(rel)
        seen = "file:" + rel not in self.reads and rel not in self.originals
        try:
            info = path.stat()
        except OSError:
            if seen:
                self.reads["file:" + rel] = ABSENT
            raise ToolError(f"{rel!r} does not exist") from None
        if not path.is_file():
            if seen:
                self.reads["file:" + rel] = ABSENT
            raise ToolError(f"{rel!r} is a folder, not a file: use list_dir")
        self.policy.check_links(rel, info)
        if info.st_size > self.policy.max_bytes:
            if seen:
                self.reads["file:" + rel] = self.fingerprint("file:" + rel)
            raise ToolError(f"{rel!r} is {info.st_size:,} bytes, over the {self.policy.max_bytes:,}-byte limit for "
                            "reading; use grep to find the part you need")
        data = path.read_bytes()
        if seen:
            self.reads["file:" + rel] = content_digest(data)
        if is_binary(data):
            raise ToolError(f"{rel!r} is a binary file; only text files can be read")
        return data.decode("utf-8", errors="replace")

    def _tool_read_file(self, args: dict[str, Any]) -> str:
        rel = self.policy.relative(args["path"])
        lines = self.read_text(rel).splitlines()
        start = max(1, int(args.get("start_line") or 1))
        wanted = min(int(args.get("end_line") or len(lines)), len(lines))
        if lines and start > len(lines):
            raise ToolError(f"{rel!r} has {len(lines)} lines; start_line {start} is past the end")
        end = min(wanted, start + MAX_READ_LINES - 1)
        shown = [f"{n:>6}\t{lines[n - 1]}" for n in range(start, end + 1)]
        text = "\n".join(shown) if shown else "(empty file)"
        if end < wanted:
            text += f"\n[{len(lines) - end} more lines: read from start_line={end + 1}]"
        return _truncate(text, "ask for a smaller line range")

    def _tool_list_dir(self, args: dict[str, Any]) -> str:
        rel = self.policy.relative(args.get("path") or ".")
        if rel and self.policy.is_secret(rel):
            raise ToolError(f"{rel!r} is a secret folder and is never listed")
        folder = self.policy.real(rel)
        if not folder.is_dir():
            raise ToolError(f"{rel or '.'!r} is not a folder")
        names = self._listing(rel, folder)
        self.reads.setdefault("dir:" + rel, listing_digest(sorted(names)))
        prefix = rel + "/" if rel else ""
        for path in self.overlay:
            if path.startswith(prefix):
                names.add(path[len(prefix):].split("/")[0] + ("/" if "/" in path[len(prefix):] else ""))
        return "\n".join(sorted(names)) or "(empty folder)"

    def _listing(self, rel: str, folder: Path) -> set[str]:
        names: set[str] = set()
        for entry in os.scandir(folder):
            child = f"{rel}/{entry.name}" if rel else entry.name
            if entry.name in (".git",) or self.policy.is_secret_path(child):
                continue
            names.add(entry.name + ("/" if entry.is_dir() else ""))
        return names

    def _files(self, start: str = "") -> Iterator[str]:
        found = list(walk(self.root, self.policy, start))  # whole: which files exist is part of the answer
        self.reads.setdefault("walk:" + start, listing_digest(found))
        seen = set(found)
        yield from found
        for rel in sorted(self.overlay):
            if rel not in seen and (not start or rel.startswith(start + "/")):
                yield rel

    def _tool_glob(self, args: dict[str, Any]) -> str:
        pattern = str(args["pattern"]).strip().lstrip("./") or "**"
        if ".." in pattern.split("/"):
            raise ToolError("glob patterns may not contain '..'")
        spec = pathspec.GitIgnoreSpec.from_lines(["/" + pattern if "/" in pattern else pattern])
        found = []
        for rel in self._files():
            if spec.match_file(rel):
                found.append(rel)
                if len(found) >= MAX_GLOB_RESULTS:
                    return "\n".join(found) + f"\n[truncated at {MAX_GLOB_RESULTS} files: narrow the pattern]"
        return "\n".join(found) or f"no files match {pattern!r}"

    def _tool_grep(self, args: dict[str, Any]) -> str:
        flags = re.IGNORECASE if args.get("ignore_case") else 0
        try:
            regex = re.compile(str(args["pattern"]), flags)
        except re.error as exc:
            raise ToolError(f"invalid regular expression: {exc}") from None
        start = self.policy.relative(args.get("path") or ".")
        name_glob = args.get("glob")
        if start and (self.policy.real(start).is_file() or start in self.overlay):
            candidates: Iterator[str] = iter([start])
        else:
            candidates = self._files(start)
        out: list[str] = []
        for rel in candidates:
            if name_glob and not (fnmatch.fnmatch(rel, name_glob) or fnmatch.fnmatch(rel.rsplit("/", 1)[-1],
                                                                                     name_glob)):
                continue
            try:
                text = self.read_text(rel)
            except ToolError:
                continue  # binary, huge or secret: grep skips what read_file would refuse
            for number, line in enumerate(text.splitlines(), start=1):
                if regex.search(line):
                    out.append(f"{rel}:{number}: {line[:300]}")
                    if len(out) >= MAX_GREP_MATCHES:
                        return "\n".join(out) + f"\n[truncated at {MAX_GREP_MATCHES} matches: narrow the pattern]"
        return "\n".join(out) or "no matches"

    def fingerprint(self, read: str) -> str:
        """What ``read`` ("file:REL", "dir:REL", "walk:REL", "skill:NAME/FILE") looks like now, computed as the tools
        record it; a changed fingerprint means an answer that depended on it may differ."""
        kind, _, rel = read.partition(":")
        try:
            if kind == "file":
                path = self.policy.real(rel)
                if not path.is_file():
                    return ABSENT
                digest = hashlib.sha256()
                with path.open("rb") as handle:
                    for chunk in iter(lambda: handle.read(1 << 20), b""):
                        digest.update(chunk)
                return digest.hexdigest()[:32]
            if kind == "dir":
                folder = self.policy.real(rel)
                return listing_digest(sorted(self._listing(rel, folder))) if folder.is_dir() else ABSENT
            if kind == "walk":
                return listing_digest(list(walk(self.root, self.policy, rel)))
            if kind == "skill":  # "skill:NAME/FILE": a file of a skill folder, wherever it lives
                return skill_fingerprint(self.settings, rel)
        except (OSError, ToolError):
            return ABSENT
        return "unknown:" + kind  # a kind this version does not know never matches: the agent runs again

    # -- writing (never the user's files) -------------------------------------------------------

    def _writable(self, path: Any) -> str:
        rel = self.policy.relative(str(path))
        if not rel:
            raise ToolError("a file path is required")
        if self.policy.is_secret(rel):
            raise ToolError(f"{rel!r} is a secret file; agents may not read or write it")
        if rel.split("/")[0] in (".git", ".workcrew"):
            raise ToolError(f"{rel!r} is inside {rel.split('/')[0]}/, which agents may not change")
        self.policy.real(rel)
        return rel

    def _current(self, rel: str) -> str | None:
        try:
            return self._file_text(rel)
        except ToolError:
            if rel in self.overlay or (self.root / rel).exists():
                raise
            return None

    def _store(self, rel: str, content: str, before: str | None) -> None:
        if rel not in self.originals and "file:" + rel not in self.reads:  # what it wrote over counts as read
            self.reads["file:" + rel] = ABSENT if before is None else self.fingerprint("file:" + rel)
        self.originals.setdefault(rel, before)
        if self.worktree:
            target = self.root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content.encode("utf-8"))
        else:
            self.overlay[rel] = content

    def _tool_edit_file(self, args: dict[str, Any]) -> str:
        rel = self._writable(args["path"])
        old, new = str(args["old"]), str(args["new"])
        current = self._current(rel)
        if current is None:
            if old:
                raise ToolError(f"{rel!r} does not exist; use write_file to create it")
            self._store(rel, new, None)
            return f"created {rel}"
        if not old:
            raise ToolError("'old' is empty: give the exact text to replace, or use write_file")
        count = current.count(old)
        if count == 0:
            raise ToolError(f"'old' does not occur in {rel!r}; read the file and copy the text exactly")
        if count > 1:
            raise ToolError(f"'old' occurs {count} times in {rel!r}; include more surrounding lines to make it unique")
        self._store(rel, current.replace(old, new, 1), current)
        return f"edited {rel}"

    def _tool_write_file(self, args: dict[str, Any]) -> str:
        rel = self._writable(args["path"])
        content = str(args["content"])
        if len(content.encode("utf-8")) > self.policy.max_bytes:
            raise ToolError(f"content is over the {self.policy.max_bytes:,}-byte file limit")
        self._store(rel, content, self._current(rel))
        return f"wrote {rel} ({len(content)} characters)"

    # -- commands --------------------------------------------------------------------------------

    async def _run_command(self, args: dict[str, Any]) -> str:
        from .. import commands  # commands uses PathPolicy from workspace.paths: imported when first used

        if not self.worktree:
            raise ToolError("run_command needs a private worktree: this agent was not started with "
                            "isolation='worktree'")
        command = args.get("command")
        if not isinstance(command, str) or not command.strip():
            raise ToolError("command must be a non-empty string")
        try:
            argv = commands.split(command)
        except ValueError as exc:
            raise ToolError(f"cannot parse the command: {exc}") from None
        timeout = self.settings.command_timeout_s
        try:
            done = await commands.run_command(argv, self.root, settings=self.settings, writable=self.root,
                                              timeout=timeout, limit=MAX_OUTPUT_CHARS // 2)
        except commands.CommandRefused as exc:
            raise ToolError(str(exc)) from None
        except OSError as exc:
            raise ToolError(f"cannot run {argv[0]!r}: {exc.strerror or exc}") from None
        output = f"--- stdout ---\n{done['stdout']}\n--- stderr ---\n{done['stderr']}"
        if done.get("timed_out"):
            raise ToolError(f"the command timed out after {timeout:g} s and was stopped\n{output}")
        return f"exit code {done['exit_code']}\n{output}"
