"""The MCP servers of a project: ``.mcp.json`` in Claude Code's format, and which of them the user approved.

``.mcp.json`` (at the workspace root, as Claude Code's project scope)::

    {"mcpServers": {
        "docs":   {"command": "python", "args": ["tools/docs_server.py"], "env": {"INDEX": "${DOCS_INDEX:-docs}"}},
        "search": {"type": "http", "url": "https://mcp.example.com/mcp", "headers": {"Authorization": "Bearer ${TOKEN}"}}
    }}

A server is stdio (``command``, ``args``, ``env``; ``"type": "stdio"`` may be given) or remote (``"type": "http"``
— streamable HTTP — or ``"sse"``, with ``url`` and ``headers``). ``${VAR}`` and ``${VAR:-default}`` are expanded
in ``command``, ``args``, ``env``, ``url`` and ``headers`` from Workcrew's environment, as Claude Code does; a
variable that is unset with no default is an error for that server. Beyond Claude Code: a secret-looking
variable (``*TOKEN*``, ``*KEY*``…) is expanded only when ``mcp_pass_env`` names it, and Workcrew's own
``ANTHROPIC*`` credentials never are. A file that cannot be read fails every agent that needs an MCP server;
a bad server entry fails only the agents that need that server.

A project's servers run only once approved, as in Claude Code: ``enabledMcpjsonServers`` (names),
``disabledMcpjsonServers`` (names; a refusal wins) and ``enableAllProjectMcpServers`` (true) in
``.claude/settings.local.json``, ``.claude/settings.json``, ``~/.claude/settings.json`` or Claude Code's own
record of the project in ``~/.claude.json``; or for one run, the names the run's approval gives.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from ..errors import UsageError
from ..redaction import KNOWN, secret_variable
from ..settings import Settings

MCP_FILE = ".mcp.json"
MAX_CONFIG_BYTES = 1_000_000
MAX_CLAUDE_JSON_BYTES = 4_000_000  # ~/.claude.json keeps Claude Code's history too; a larger one is not read
_EXPANSION = re.compile(r"\$\{([^}:]*)(?::-([^}]*))?\}")
_OWN_CREDENTIALS = re.compile(r"^ANTHROPIC", re.IGNORECASE)
_SECRET_HEADERS = re.compile(r"authorization|cookie|token|key|secret", re.IGNORECASE)

Transport = Literal["stdio", "http", "sse"]


class McpConfigError(UsageError):
    """``.mcp.json`` cannot be used at all; the message names the file, what is wrong and what to do."""


@dataclass(frozen=True)
class McpServerConfig:
    """One server of ``.mcp.json``, its variables expanded. ``problem``: why it cannot start (a bad entry, a
    variable that cannot be expanded); only the agents that need this server fail with it."""

    name: str
    transport: Transport
    command: str = ""
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    url: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    passed: tuple[str, ...] = ()  # variables of Workcrew's environment expanded into it
    problem: str | None = None

    def describe(self) -> str:
        """``stdio: python tools/server.py`` or ``http: https://host/mcp``, plus the variables it gets."""
        if self.transport == "stdio":
            what = "stdio: " + " ".join([self.command, *self.args])[:160]
        else:
            what = f"{self.transport}: {self.url[:160]}"
        what += ", gets " + ", ".join("$" + name for name in self.passed) if self.passed else ""
        return KNOWN.redact(what)  # an expanded value shows as [redacted: NAME]


@dataclass(frozen=True)
class McpConfig:
    """The servers of one ``.mcp.json`` (none when the file does not exist)."""

    path: Path
    servers: Mapping[str, McpServerConfig] = field(default_factory=dict)
    exists: bool = False


# -- .mcp.json -------------------------------------------------------------------------------------------


def load_config(workspace: Path, settings: Settings, environ: Mapping[str, str] | None = None) -> McpConfig:
    """The servers of ``workspace/.mcp.json``; raises :class:`McpConfigError` when the file cannot be used."""
    path = Path(workspace) / MCP_FILE
    if not path.is_file():
        return McpConfig(path)
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise McpConfigError(f"{path}: the file is over {MAX_CONFIG_BYTES:,} bytes; an .mcp.json lists servers, "
                                 "it should be a few hundred bytes")
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise McpConfigError(f"{path}: cannot be read ({exc}); fix its permissions or remove it") from None
    return parse_config(text, path, settings, os.environ if environ is None else environ)


def parse_config(text: str, path: Path, settings: Settings, environ: Mapping[str, str]) -> McpConfig:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise McpConfigError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg}); fix it (Claude Code's "
                             'format: {"mcpServers": {"name": {"command": …}}}) or remove the file') from None
    if not isinstance(data, dict) or not isinstance(data.get("mcpServers", {}), dict):
        raise McpConfigError(f'{path}: expected an object with an "mcpServers" object (Claude Code\'s format: '
                             '{"mcpServers": {"name": {"command": "…", "args": […]}}}); fix the file or remove it')
    servers: dict[str, McpServerConfig] = {}
    for name, entry in data.get("mcpServers", {}).items():
        if not re.fullmatch(r"[A-Za-z0-9_.\- ]{1,64}", name):
            raise McpConfigError(f"{path}: server name {name[:80]!r} is not usable: use 1 to 64 letters, digits, "
                                 "'_', '-', '.' or spaces")
        servers[name] = _server(name, entry, path, settings, environ)
    return McpConfig(path, servers, True)


def _server(name: str, entry: Any, path: Path, settings: Settings, environ: Mapping[str, str]) -> McpServerConfig:
    where = f'{path}: server "{name}"'
    if not isinstance(entry, dict):
        return _broken(name, f"{where} is not an object; give it \"command\" (stdio) or \"type\" and \"url\"")
    kind = entry.get("type", "stdio" if "command" in entry or "url" not in entry else "http")
    if kind not in ("stdio", "http", "sse"):
        return _broken(name, f'{where}: "type" {str(kind)[:40]!r} is not supported; use "stdio", "http" or "sse"')
    expander = _Expander(where, settings, environ)
    try:
        if kind == "stdio":
            command, args, env = entry.get("command"), entry.get("args", []), entry.get("env", {})
            if not isinstance(command, str) or not command.strip():
                raise _EntryError(f'{where}: a stdio server needs "command" (a program, e.g. "npx" or "python")')
            if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
                raise _EntryError(f'{where}: "args" must be a list of strings')
            config = McpServerConfig(name, "stdio", expander.expand(command, "command"),
                                     tuple(expander.expand(a, "args") for a in args),
                                     _strings(env, "env", where, expander))
        else:
            url = entry.get("url")
            if not isinstance(url, str) or not url.strip():
                raise _EntryError(f'{where}: an {kind} server needs "url"')
            config = McpServerConfig(name, kind, url=expander.expand(url, "url"),
                                     headers=_strings(entry.get("headers", {}), "headers", where, expander))
    except _EntryError as exc:
        return _broken(name, str(exc), kind)
    _learn_literal_secrets(config)
    return replace(config, passed=tuple(dict.fromkeys(expander.passed)))


class _EntryError(Exception):
    pass


def _broken(name: str, problem: str, kind: Any = "stdio") -> McpServerConfig:
    return McpServerConfig(name, kind if kind in ("stdio", "http", "sse") else "stdio", problem=problem)


def _strings(value: Any, key: str, where: str, expander: _Expander) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise _EntryError(f'{where}: "{key}" must be an object of strings ({{"NAME": "value"}})')
    return {k: expander.expand(v, f"{key}.{k}") for k, v in value.items()}


class _Expander:
    """``${VAR}`` and ``${VAR:-default}`` from Workcrew's environment, with the secret rules above."""

    def __init__(self, where: str, settings: Settings, environ: Mapping[str, str]) -> None:
        self.where, self.settings, self.environ = where, settings, environ
        self.passed: list[str] = []

    def expand(self, text: str, key: str) -> str:
        def one(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name not in self.environ:
                if default is not None:
                    return default
                raise _EntryError(f"{self.where}: {key} uses ${{{name}}}, which is not set in Workcrew's environment "
                                  f"and has no default; set it, or write ${{{name}:-default}}")
            if _OWN_CREDENTIALS.match(name):
                raise _EntryError(f"{self.where}: {key} uses ${{{name}}}: Workcrew's own API credentials are never "
                                  "passed to an MCP server; give the server a key of its own")
            if secret_variable(name) and name not in self.settings.mcp_pass_env:
                raise _EntryError(f"{self.where}: {key} uses ${{{name}}}, which looks like a secret; to pass it to "
                                  f'this server, add "{name}" to mcp_pass_env in workcrew.toml')
            self.passed.append(name)
            return self.environ[name]

        return _EXPANSION.sub(one, text)


def _learn_literal_secrets(config: McpServerConfig) -> None:
    """Values written in .mcp.json under secret-looking names (an ``env`` key, an ``Authorization`` header) are
    redacted wherever they turn up, like those of secret files (expanded ones are known from the environment)."""
    pairs = [(f"{MCP_FILE}/{config.name}.env.{k}", v) for k, v in config.env.items() if secret_variable(k)]
    for header, value in config.headers.items():
        if _SECRET_HEADERS.search(header):
            pairs.append((f"{MCP_FILE}/{config.name}.headers.{header}", value))
            pairs.append((f"{MCP_FILE}/{config.name}.headers.{header}", value.split(" ", 1)[-1]))
    if pairs:
        KNOWN.learn(pairs)


# -- approval --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Approval:
    approved: bool
    reason: str  # where the approval or the refusal comes from; for a server not approved, what to do


def settings_sources(workspace: Path, home: Path | None = None) -> list[tuple[str, dict[str, Any]]]:
    """The Claude Code settings that approve project MCP servers, most specific first: (label, settings)."""
    home = Path.home() if home is None else home
    sources: list[tuple[str, dict[str, Any]]] = []
    for label, path in ((".claude/settings.local.json", workspace / ".claude" / "settings.local.json"),
                        ("Claude Code's record of this project in ~/.claude.json", home / ".claude.json"),
                        (".claude/settings.json", workspace / ".claude" / "settings.json"),
                        ("~/.claude/settings.json", home / ".claude" / "settings.json")):
        data = _read_json(path, MAX_CLAUDE_JSON_BYTES)
        if path.name == ".claude.json" and data is not None:
            projects = data.get("projects")
            data = projects.get(str(Path(workspace).resolve())) if isinstance(projects, dict) else None
        if isinstance(data, dict):
            sources.append((label, data))
    return sources


def _read_json(path: Path, limit: int) -> dict[str, Any] | None:
    try:
        if not path.is_file() or path.stat().st_size > limit:
            return None
        data = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None  # a settings file that cannot be read approves nothing
    return data if isinstance(data, dict) else None


def approvals(workspace: Path, names: Iterable[str], *, approved_now: Iterable[str] = (),
              home: Path | None = None) -> dict[str, Approval]:
    """Whether each server may start, and why (Claude Code's rules; a refusal in any file wins)."""
    sources = settings_sources(workspace, home)
    now = set(approved_now)
    out: dict[str, Approval] = {}
    enable_all = next(((label, value) for label, data in sources
                       if isinstance(value := data.get("enableAllProjectMcpServers"), bool)), None)
    for name in names:
        refused = next((label for label, data in sources if _lists(data, "disabledMcpjsonServers", name)), None)
        listed = next((label for label, data in sources if _lists(data, "enabledMcpjsonServers", name)), None)
        if refused is not None:
            out[name] = Approval(False, f"disabledMcpjsonServers in {refused} refuses it")
        elif name in now:
            out[name] = Approval(True, "approved for this run")
        elif listed is not None:
            out[name] = Approval(True, f"enabledMcpjsonServers in {listed}")
        elif enable_all is not None and enable_all[1]:
            out[name] = Approval(True, f"enableAllProjectMcpServers in {enable_all[0]}")
        else:
            out[name] = Approval(False, "not approved: approve it when the run asks, or add it to "
                                        "enabledMcpjsonServers in .claude/settings.local.json")
    return out


def _lists(data: dict[str, Any], key: str, name: str) -> bool:
    value = data.get(key)
    return isinstance(value, list) and name in value


def unapproved_servers(workspace: Path, names: Iterable[str] | None = None, *, approved_now: Iterable[str] = (),
                       settings: Settings | None = None, home: Path | None = None) -> list[str]:
    """The servers of ``.mcp.json`` (or of ``names``) that would not start for want of approval, sorted."""
    if names is None:
        try:
            names = load_config(workspace, settings or Settings(workspace=workspace)).servers
        except McpConfigError:
            return []
    decided = approvals(workspace, names, approved_now=approved_now, home=home)
    return sorted(name for name, approval in decided.items() if not approval.approved)


def remember_approval(workspace: Path, names: Iterable[str]) -> Path:
    """Approve ``names`` for later runs as Claude Code's approval dialog does: add them to
    ``enabledMcpjsonServers`` (and take them off ``disabledMcpjsonServers``) in ``.claude/settings.local.json``,
    keeping everything else in the file. Returns the file's path; raises UsageError rather than overwrite a
    file that is not valid JSON."""
    path = Path(workspace) / ".claude" / "settings.local.json"
    data: dict[str, Any] = {}
    if path.exists():
        try:
            loaded = json.loads(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise UsageError(f"{path}: cannot record the MCP approval: the file is not valid JSON ({exc}); fix it "
                             "first") from None
        if not isinstance(loaded, dict):
            raise UsageError(f"{path}: cannot record the MCP approval: the file is not a JSON object")
        data = loaded
    wanted = list(names)
    enabled = [n for n in data.get("enabledMcpjsonServers", []) if isinstance(n, str)]
    data["enabledMcpjsonServers"] = sorted({*enabled, *wanted})
    if isinstance(data.get("disabledMcpjsonServers"), list):
        data["disabledMcpjsonServers"] = [n for n in data["disabledMcpjsonServers"] if n not in wanted]
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".workcrew-tmp")
    temp.write_text(json.dumps(data, indent=2) + "\n", "utf-8")
    os.replace(temp, path)
    return path


def approval_line(settings: Settings, names: Iterable[str] | None = None, *, approved_now: Iterable[str] = (),
                  home: Path | None = None) -> str | None:
    """The line an approval text shows about MCP servers: the servers the run may start (all of ``.mcp.json``,
    or ``names``), what each is, and which are not approved; None when the project has none."""
    try:
        config = load_config(settings.workspace, settings)
    except McpConfigError as exc:
        return f"MCP servers: {exc} (agents that need an MCP server will fail)"
    servers = [config.servers[n] for n in (names if names is not None else config.servers) if n in config.servers]
    if not servers:
        return None
    decided = approvals(settings.workspace, [s.name for s in servers], approved_now=approved_now, home=home)
    listed = "; ".join(f"{s.name} ({s.describe() if s.problem is None else 'cannot start: ' + s.problem})"
                       for s in servers)
    refused = [s.name + (f" ({decided[s.name].reason})" if "disabledMcpjsonServers" in decided[s.name].reason else "")
               for s in servers if not decided[s.name].approved]
    line = f"MCP servers the run may start (.mcp.json): {listed}."
    if refused:
        line += (f" Not approved yet: {', '.join(refused)} — approving this run starts them for this run (\"always\": "
                 "for later runs too, recorded in .claude/settings.local.json as Claude Code does); a server "
                 "disabledMcpjsonServers names never starts.")
    return line


def approve_for_run(settings: Settings, *, remember: bool = False) -> Settings:
    """The run's settings once the user approved the run in a prompt that listed its MCP servers (the CLI's
    question, the editor's notification): the servers not approved yet start for this run (``mcp_approved``);
    with ``remember`` ("always") for later runs too, as Claude Code's dialog records them. A server a settings
    file refuses (``disabledMcpjsonServers``) stays refused: the user said no to it where it counts."""
    try:
        names = load_config(settings.workspace, settings).servers
    except McpConfigError:
        return settings
    decided = approvals(settings.workspace, names)
    pending = sorted(name for name, approval in decided.items()
                     if not approval.approved and "disabledMcpjsonServers" not in approval.reason)
    if not pending:
        return settings
    if remember:
        remember_approval(settings.workspace, pending)
    return settings.model_copy(update={"mcp_approved": sorted({*settings.mcp_approved, *pending})})
