"""One agent's MCP tools, and what MCP looks like to the model: tool names, definitions and results.

:class:`McpTools` takes Claude Code's names for what an agent may use — ``mcp__SERVER`` (every tool of a
server, also ``mcp__SERVER__*``) or ``mcp__SERVER__TOOL`` — and gives Anthropic tool definitions named
``mcp__SERVER__TOOL`` with the servers' own input schemas, and calls with a timeout. The servers themselves
are the run's :class:`~.mcp.McpServers`.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio

from ..errors import AgentFailed
from ..redaction import redact
from .mcp_config import MCP_FILE

if TYPE_CHECKING:
    from .mcp import McpServers

PREFIX = "mcp__"
NAME_LIMIT = 64  # the API's limit on a tool's name
MAX_RESULT_CHARS = 50_000

__all__ = ["McpCall", "McpTool", "McpTools", "McpUnavailable", "normalize", "result_text", "tool_name"]


class McpUnavailable(AgentFailed):
    """An MCP server an agent needs cannot serve it (not approved, not allowed, failed to start); the agent
    fails with this reason (``kind="mcp"``), other agents are not affected."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, kind="mcp")


@dataclass(frozen=True)
class McpTool:
    server: str
    name: str  # the server's own name for it
    description: str
    input_schema: dict[str, Any]


@dataclass(frozen=True)
class McpCall:
    """One tool call, for the run's log and the agent's progress."""

    server: str
    tool: str
    name: str  # the name the model used (mcp__server__tool)
    duration_s: float
    ok: bool
    error: str | None = None

    def describe(self) -> str:
        said = f"MCP {self.server}/{self.tool}: {'ok' if self.ok else 'error'} in {self.duration_s:.2f} s"
        return said + (f": {self.error[:200]}" if self.error else "")


def normalize(name: str) -> str:
    """Claude Code's normalisation of server and tool names: anything but letters, digits, _ and - becomes _."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", name)


def tool_name(server: str, tool: str) -> str:
    """``mcp__SERVER__TOOL`` as Claude Code names it, shortened with a digest past the API's 64 characters."""
    name = f"{PREFIX}{normalize(server)}__{normalize(tool)}"
    if len(name) <= NAME_LIMIT:
        return name
    digest = hashlib.sha256(f"{server}\0{tool}".encode()).hexdigest()[:8]
    return f"{name[:NAME_LIMIT - 9]}_{digest}"


def result_text(result: Any) -> tuple[str, bool]:
    """A ``CallToolResult`` as ``(text, is_error)`` for the model: text blocks as they are, structured content as
    JSON when there is no text, other blocks named; secret values redacted, then cut to ``MAX_RESULT_CHARS``."""
    parts: list[str] = []
    for block in getattr(result, "content", None) or []:
        kind = getattr(block, "type", "?")
        if kind == "text":
            parts.append(str(block.text))
        elif kind in ("image", "audio"):
            parts.append(f"[{kind} ({block.mime_type}, {len(block.data) * 3 // 4:,} bytes): not shown]")
        elif kind == "resource":
            resource = block.resource
            text = getattr(resource, "text", None)
            parts.append(f"[resource {resource.uri}]\n{text}" if isinstance(text, str)
                         else f"[resource {resource.uri} ({getattr(resource, 'mime_type', None) or 'binary'}): not shown]")
        elif kind == "resource_link":
            parts.append(f"[resource link: {block.uri}" + (f" ({block.name})]" if getattr(block, "name", None) else "]"))
        else:
            parts.append(f"[{kind} content: not shown]")
    structured = getattr(result, "structured_content", None)
    if not parts and structured is not None:
        parts.append(json.dumps(structured, ensure_ascii=False, default=str))
    text = redact("\n".join(parts)) or "(the tool returned nothing)"
    if len(text) > MAX_RESULT_CHARS:
        text = (text[:MAX_RESULT_CHARS] + f"\n[truncated: the tool answered {len(text):,} characters; the first "
                f"{MAX_RESULT_CHARS:,} are shown]")
    return text, bool(getattr(result, "is_error", False))


class McpTools:
    """The MCP tools one agent may call. ``allowed``: Claude Code's names, ``mcp__SERVER`` (every tool of the
    server; ``mcp__SERVER__*`` too) or ``mcp__SERVER__TOOL``; other names are ignored. ``on_call`` hears of every
    call (log it, count it in the agent's progress)."""

    def __init__(self, servers: McpServers, allowed: Iterable[str], *,
                 on_call: Callable[[McpCall], None] | None = None) -> None:
        self.servers = servers
        self.allowed = frozenset(name for name in allowed if name.startswith(PREFIX))
        self.on_call = on_call
        self.calls: list[McpCall] = []
        self._names: dict[str, tuple[str, str]] = {}
        self._definitions: list[dict[str, Any]] | None = None

    def selection(self) -> dict[str, set[str] | None]:
        """server → the normalised tool names allowed (None: all of them); raises McpUnavailable for a name
        that matches no server of .mcp.json."""
        if self.allowed and self.servers.config_error is not None:
            raise McpUnavailable(self.servers.config_error)
        by_norm = sorted(((normalize(n), n) for n in self.servers.names), key=lambda p: -len(p[0]))
        chosen: dict[str, set[str] | None] = {}
        for entry in sorted(self.allowed):
            rest = entry[len(PREFIX):]
            match = next(((norm, name) for norm, name in by_norm if rest == norm or rest.startswith(norm + "__")), None)
            if match is None:
                known = ", ".join(PREFIX + normalize(n) for n in self.servers.names) or "none"
                raise McpUnavailable(f"{entry!r} names no MCP server of {MCP_FILE} (its servers: {known})")
            norm, name = match
            tool = rest[len(norm) + 2:]
            before = chosen.get(name, set())
            chosen[name] = None if not tool or tool == "*" or before is None else {*before, normalize(tool)}
        return chosen

    async def definitions(self) -> list[dict[str, Any]]:
        """Anthropic tool definitions (``name``, ``description``, ``input_schema``). Starts the servers this agent
        needs (concurrently, each once per run); raises :class:`McpUnavailable` with every reason when one cannot
        serve it."""
        if self._definitions is not None:
            return list(self._definitions)
        selection = self.selection()
        listed: dict[str, list[McpTool]] = {}
        failed: list[str] = []

        async def fetch(server: str) -> None:
            try:
                listed[server] = await self.servers.tools(server)
            except McpUnavailable as exc:
                failed.append(exc.reason)

        async with anyio.create_task_group() as group:
            for server in selection:
                group.start_soon(fetch, server)
        if failed:
            raise McpUnavailable("; ".join(sorted(failed)))
        definitions: list[dict[str, Any]] = []
        for server, wanted in selection.items():
            tools = {normalize(t.name): t for t in listed[server]}
            missing = sorted(set(wanted or ()) - tools.keys())
            if missing:
                raise McpUnavailable(f"MCP server {server!r} has no tool {', '.join(missing)} (its tools: "
                                     f"{', '.join(sorted(tools)) or 'none'})")
            for norm in sorted(tools if wanted is None else wanted):
                tool = tools[norm]
                name = tool_name(server, tool.name)
                if name in self._names:  # two names that normalise alike: the second gets a digest
                    name = f"{name[:NAME_LIMIT - 9]}_{hashlib.sha256(f'{server}/{tool.name}'.encode()).hexdigest()[:8]}"
                self._names[name] = (server, tool.name)
                definitions.append({"name": name, "description": tool.description or f"{tool.name} ({server})",
                                    "input_schema": tool.input_schema})
        self._definitions = definitions
        return list(definitions)

    def owns(self, name: str) -> bool:
        """Whether a tool call named ``name`` is for these tools (the toolbox routes ``mcp__`` names here)."""
        return name.startswith(PREFIX)

    async def call(self, name: str, arguments: dict[str, Any], timeout: float | None = None) -> tuple[str, bool]:
        """``(text, is_error)``; ``timeout``: the agent's remaining seconds. Every call is recorded in
        :attr:`calls` and given to ``on_call``."""
        if self._definitions is None:
            try:
                await self.definitions()
            except McpUnavailable as exc:
                return exc.reason, True
        target = self._names.get(name)
        if target is None:
            offered = ", ".join(sorted(self._names)) or "none"
            return f"unknown MCP tool {name!r}; this agent may call: {offered}", True
        server, tool = target
        began = time.monotonic()
        text, is_error = await self.servers.call(server, tool, arguments, timeout)
        record = McpCall(server, tool, name, time.monotonic() - began, not is_error, text[:300] if is_error else None)
        self.calls.append(record)
        if self.on_call is not None:
            self.on_call(record)
        return text, is_error


class WithMcp:
    """An agent's toolbox and the MCP tools it is allowed, as one toolbox: MCP names go to their servers
    (each call bounded by what is left of the agent's time), the rest to the workspace toolbox."""

    def __init__(self, box: Any, mcp: McpTools, definitions: list[dict[str, Any]],
                 remaining: Callable[[], float]) -> None:
        self.box = box
        self.mcp = mcp
        self._definitions = definitions
        self._remaining = remaining

    def definitions(self) -> list[dict[str, Any]]:
        return [*self.box.definitions(), *self._definitions]

    async def call(self, name: str, arguments: dict[str, Any]) -> tuple[str, bool]:
        if self.mcp.owns(name):
            return await self.mcp.call(name, arguments, timeout=max(0.1, self._remaining()))
        result: tuple[str, bool] = await self.box.call(name, arguments)
        return result
