"""MCP servers' tools for agents, through the official ``mcp`` SDK as client.

:class:`McpServers` (one per run, ``async with``) starts each server of ``.mcp.json`` on first use, once, and
shares it among the run's agents. A stdio server runs in the command sandbox (``commands.sandbox``): the
workspace read-only with secret files masked, no home folder, a private ``/tmp`` and ``/proc``, no network
unless ``mcp_network`` names it, an environment built from scratch plus the server's declared ``env`` (never
Workcrew's API key); without an OS sandbox it is refused unless ``allow_unsandboxed_commands``. An HTTP or
SSE server is reached only when its host is in ``mcp_allowed_hosts``. Servers the user did not approve
(``mcp_config.approvals``) never start. A server that fails to start (a bad command, a crash, no handshake
within ``mcp_start_timeout_s``) fails each agent that needs it with the reason and the tail of its stderr,
and nothing else. Leaving the ``async with`` closes every session and stops every process.

:class:`McpTools` is one agent's view: the tools it is allowed (``mcp__SERVER`` or ``mcp__SERVER__TOOL``, Claude
Code's names) as Anthropic tool definitions, and calls with a timeout; results are text, redacted and capped.
"""

from __future__ import annotations

import functools
import math
import os
import shutil
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import anyio
from anyio.abc import TaskGroup

from ..commands import sandbox as command_sandbox
from ..redaction import KNOWN, redact
from ..settings import Settings
from .mcp_config import (
    MCP_FILE,
    Approval,
    McpConfig,
    McpConfigError,
    McpServerConfig,
    approval_line,
    approvals,
    load_config,
    remember_approval,
    unapproved_servers,
)
from .mcp_tools import McpCall, McpTool, McpTools, McpUnavailable, result_text, tool_name

MAX_TOOLS_PER_SERVER = 128
MAX_DESCRIPTION_CHARS = 2_000
STDERR_KEEP = 16_384
STDERR_SHOWN = 1_500
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})

__all__ = ["McpCall", "McpConfigError", "McpServers", "McpTool", "McpTools", "McpUnavailable", "approval_line",
           "load_config", "remember_approval", "result_text", "tool_name", "unapproved_servers"]


class _Tail:
    """The last bytes a server wrote to stderr (shown when it fails)."""

    def __init__(self) -> None:
        self.data = bytearray()

    def add(self, chunk: bytes) -> None:
        self.data += chunk
        if len(self.data) > 2 * STDERR_KEEP:
            del self.data[:-STDERR_KEEP]

    def text(self) -> str:
        shown = redact(self.data.decode("utf-8", "replace")).strip()[-STDERR_SHOWN:]
        return f"; its stderr ends with:\n{shown}" if shown else "; it wrote nothing to stderr"


class _Server:
    """One server's state in a run."""

    def __init__(self, config: McpServerConfig) -> None:
        self.config = config
        self.ready = anyio.Event()
        self.stop = anyio.Event()
        self.session: Any = None
        self.tools: list[McpTool] = []
        self.error: str | None = None
        self.stderr = _Tail()
        self.stderr_fd: int | None = None
        self.pump: anyio.CancelScope | None = None
        self.handshake: anyio.CancelScope | None = None
        self.temp_home: str | None = None


class McpServers:
    """The MCP servers of one run: ``async with McpServers(settings) as servers: …``; entering reads
    ``.mcp.json`` and the approval settings (in a worker thread), nothing starts before an agent asks.

    ``approved``: servers the run's approval approved besides the Claude Code settings (``mcp_config``).
    ``log``: lifecycle lines (started, failed). A missing ``.mcp.json`` is no error; one that cannot be read fails
    only the agents that ask for an MCP server."""

    def __init__(self, settings: Settings, *, config: McpConfig | None = None, approved: Iterable[str] = (),
                 log: Callable[[str], None] | None = None, home: Path | None = None) -> None:
        self.settings = settings
        self.config_error: str | None = None
        self.config = config or McpConfig(Path(settings.workspace) / MCP_FILE)
        self.approvals: dict[str, Approval] = {}
        self._given, self._approved, self._home = config is not None, tuple(approved), home
        self.starts: dict[str, int] = {}  # processes or connections started, per server: at most one a run
        self._servers: dict[str, _Server] = {}
        self._group: TaskGroup | None = None
        self._closed = False
        self._log = log

    @property
    def names(self) -> list[str]:
        return list(self.config.servers)

    def status(self) -> dict[str, str]:
        """Each server's state: ``not started``, ``starting``, ``running``, ``failed: …`` or ``stopped``."""
        out = dict.fromkeys(self.config.servers, "not started")
        for name, srv in self._servers.items():
            out[name] = (f"failed: {srv.error}" if srv.error else "running" if srv.session is not None
                         else "stopped" if srv.stop.is_set() else "starting")
        return out

    def _load(self) -> None:
        """Read .mcp.json and the approval settings (blocking: a few small files, and ~/.claude.json)."""
        if not self._given:
            try:
                self.config = load_config(self.settings.workspace, self.settings)
            except McpConfigError as exc:
                self.config_error = str(exc)
        self.approvals = approvals(self.settings.workspace, self.config.servers, approved_now=self._approved,
                                   home=self._home)

    async def __aenter__(self) -> McpServers:
        await anyio.to_thread.run_sync(self._load)
        self._group = anyio.create_task_group()
        await self._group.__aenter__()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> bool | None:
        self._closed = True
        for srv in self._servers.values():
            srv.stop.set()  # each server task leaves its session and transport: the SDK stops the process
            if not srv.ready.is_set() and srv.handshake is not None:
                srv.handshake.cancel()
        assert self._group is not None
        return await self._group.__aexit__(exc_type, exc, tb)

    # -- starting --------------------------------------------------------------------------------------

    async def server(self, name: str) -> _Server:
        """The running server ``name``, started now if it is the first use; raises :class:`McpUnavailable`."""
        if self._group is None:
            raise McpUnavailable(f"MCP server {name!r} is not started: the run's MCP servers are not open "
                                 "(async with McpServers(…))")
        if self.config_error is not None:
            raise McpUnavailable(self.config_error)
        config = self.config.servers.get(name)
        if config is None:
            known = ", ".join(self.config.servers) or "none"
            raise McpUnavailable(f"there is no MCP server {name!r} in {self.config.path} (its servers: {known})")
        if config.problem is not None:
            raise McpUnavailable(f"MCP server {name!r} cannot start: {config.problem}")
        approval = self.approvals[name]
        if not approval.approved:
            raise McpUnavailable(f"MCP server {name!r} of {MCP_FILE} is not started: {approval.reason}")
        srv = self._servers.get(name)
        if srv is None:
            if self._closed:
                raise McpUnavailable(f"MCP server {name!r} is not started: the run's MCP servers are closed")
            srv = self._servers[name] = _Server(config)
            self._group.start_soon(self._serve, srv)
        await srv.ready.wait()
        if srv.error is not None:
            raise McpUnavailable(srv.error)
        return srv

    async def tools(self, name: str) -> list[McpTool]:
        """The tools of server ``name`` (listed once per run); starts it if needed."""
        return list((await self.server(name)).tools)

    async def _serve(self, srv: _Server) -> None:
        name, timeout = srv.config.name, self.settings.mcp_start_timeout_s
        began = time.monotonic()
        try:
            transport = await self._transport(srv)
            self.starts[name] = self.starts.get(name, 0) + 1
            with anyio.CancelScope(deadline=anyio.current_time() + timeout) as srv.handshake:
                try:
                    async with AsyncExitStack() as stack:
                        read, write = await stack.enter_async_context(transport)
                        session = await stack.enter_async_context(_client_session(read, write))
                        await session.initialize()
                        srv.tools = await _list_tools(session, name)
                        srv.handshake.deadline = math.inf
                        srv.session = session
                        srv.ready.set()
                        self._note(f"MCP server {name!r} started ({srv.config.describe()}; {len(srv.tools)} tools, "
                                   f"{time.monotonic() - began:.1f} s)")
                        await srv.stop.wait()
                        srv.session = None
                except BaseException as exc:
                    if _cancelled_only(exc):
                        raise
                    srv.session = None
                    _drain_stderr(srv)
                    srv.error = (self._failure(srv, exc) if not srv.ready.is_set() else
                                 f"MCP server {name!r} stopped during the run: {_leaf_text(exc)}{srv.stderr.text()}")
            if srv.handshake.cancelled_caught and not srv.ready.is_set():
                _drain_stderr(srv)
                why = ("the run ended first" if srv.stop.is_set()
                       else f"it did not complete the MCP handshake within {timeout:g} s")
                srv.error = f"MCP server {name!r} ({srv.config.describe()}) was stopped: {why}{srv.stderr.text()}"
        except McpUnavailable as exc:
            srv.error = exc.reason
        except Exception as exc:  # preparing the sandbox failed (an unreadable toolchain folder…): this server only
            srv.error = f"MCP server {name!r} cannot start: {_leaf_text(exc)}"
        finally:
            srv.session = None
            if srv.pump is not None:  # what is left in the pipe is read within a second, then it is closed
                srv.pump.deadline = min(srv.pump.deadline, anyio.current_time() + 1)
            if srv.temp_home:
                shutil.rmtree(srv.temp_home, ignore_errors=True)
            if srv.error and not srv.ready.is_set():
                self._note(srv.error)
            srv.ready.set()

    def _failure(self, srv: _Server, exc: BaseException) -> str:
        said = _leaf_text(exc)
        if _connection_closed(_leaf(exc)):
            said = "it exited (or closed its output) before the MCP handshake"
        return (f"MCP server {srv.config.name!r} ({srv.config.describe()}) failed to start: {said}"
                + (srv.stderr.text() if srv.config.transport == "stdio" else ""))

    def _note(self, line: str) -> None:
        if self._log is not None:
            self._log(line)

    async def _transport(self, srv: _Server) -> Any:
        """The SDK's transport context manager for ``srv``; raises McpUnavailable with a refusal."""
        config = srv.config
        if config.transport != "stdio":
            return _http_transport(config, self.settings)
        from mcp.client.stdio import DEFAULT_INHERITED_ENV_VARS, StdioServerParameters, stdio_client

        status = await anyio.to_thread.run_sync(command_sandbox.sandbox_status)
        if not status.available and not self.settings.allow_unsandboxed_commands:
            raise McpUnavailable(
                f"MCP server {config.name!r} is not started: no OS sandbox is available ({status.reason}). Install "
                "bubblewrap, or set allow_unsandboxed_commands = true in workcrew.toml to run stdio MCP servers "
                "without one (they could then read your home folder, your secrets and the network)")
        root = Path(self.settings.workspace).resolve()
        argv = [config.command, *config.args]
        try:
            if status.available and status.bwrap is not None:
                plan = functools.partial(command_sandbox.plan, argv, root, root, self.settings, status.bwrap,
                                         read_only=True, network=config.name in self.settings.mcp_network,
                                         env=dict(config.env))
                launch = await anyio.to_thread.run_sync(plan)
                # the SDK adds the engine's HOME, PATH, SHELL, TERM, USER, LOGNAME to the environment bwrap gets:
                # the sandbox's own values replace some, bwrap drops the rest before the server starts
                unset = [flag for var in DEFAULT_INHERITED_ENV_VARS if var not in launch.env
                         for flag in ("--unsetenv", var)]
                launch.argv[1:1] = unset
            else:
                launch = command_sandbox.plan_unsandboxed(argv, root, self.settings, env=dict(config.env))
                srv.temp_home = launch.temp_home
        except command_sandbox.CommandRefused as exc:
            raise McpUnavailable(f"MCP server {config.name!r} is not started: {exc}") from None
        params = StdioServerParameters(command=launch.argv[0], args=launch.argv[1:], env=launch.env, cwd=launch.cwd,
                                       encoding_error_handler="replace")
        return self._stdio_transport(stdio_client, params, srv)

    @asynccontextmanager
    async def _stdio_transport(self, stdio_client: Any, params: Any, srv: _Server) -> AsyncIterator[Any]:
        """The SDK's stdio transport, the server's stderr going to a pipe read into ``srv.stderr``."""
        read_fd, write_fd = os.pipe()
        srv.stderr_fd = read_fd
        errlog = os.fdopen(write_fd, "w")
        assert self._group is not None
        self._group.start_soon(_pump_stderr, srv)
        try:
            async with stdio_client(params, errlog=errlog) as streams:
                errlog.close()  # the server holds its own copy: the pipe ends when the server does
                yield streams
        finally:
            errlog.close()

    # -- calling ---------------------------------------------------------------------------------------

    async def call(self, server: str, tool: str, arguments: dict[str, Any],
                   timeout: float | None = None) -> tuple[str, bool]:
        """Call ``tool`` of ``server``: ``(text, is_error)``. Never raises for the server's or the tool's faults:
        they are tool errors the model can read. ``timeout``: the agent's remaining time (``mcp_tool_timeout_s``
        caps it)."""
        try:
            srv = await self.server(server)
        except McpUnavailable as exc:
            return exc.reason, True
        session = srv.session
        if session is None:
            return srv.error or f"MCP server {server!r} was stopped", True
        limit = self.settings.mcp_tool_timeout_s if timeout is None else min(timeout, self.settings.mcp_tool_timeout_s)
        if limit <= 0:
            return f"no time is left for the MCP tool {tool!r}", True
        with anyio.move_on_after(limit) as waiting:
            try:
                result = await session.call_tool(tool, arguments)
            except Exception as exc:
                if _connection_closed(exc):  # the server is gone
                    _drain_stderr(srv)
                    srv.error = f"MCP server {server!r} stopped during the run{srv.stderr.text()}"
                    srv.session = None
                    return srv.error, True
                return f"MCP server {server!r} could not run {tool!r}: {redact(str(exc))[:2000]}", True
        if waiting.cancelled_caught:
            return (f"the MCP tool {tool!r} of server {server!r} did not answer within {limit:g} s; the call was "
                    "abandoned", True)
        return result_text(result)


def _client_session(read: Any, write: Any) -> Any:
    from mcp import ClientSession
    from mcp.types import Implementation

    # no sampling, elicitation or roots callbacks: a server cannot spend the run's model budget or ask the user
    return ClientSession(read, write, client_info=Implementation(name="workcrew", version="0.1.0"))


async def _list_tools(session: Any, server: str) -> list[McpTool]:
    from mcp.types import PaginatedRequestParams

    found: list[McpTool] = []
    cursor: str | None = None
    for _ in range(50):
        listing = await session.list_tools(params=PaginatedRequestParams(cursor=cursor) if cursor else None)
        for tool in listing.tools:
            schema = tool.input_schema if isinstance(tool.input_schema, dict) else {}
            schema = KNOWN.redact_value({"type": "object", **schema})
            found.append(McpTool(server, tool.name, redact(tool.description or "")[:MAX_DESCRIPTION_CHARS], schema))
        cursor = listing.next_cursor
        if not cursor or len(found) >= MAX_TOOLS_PER_SERVER:
            break
    return found[:MAX_TOOLS_PER_SERVER]


async def _pump_stderr(srv: _Server) -> None:
    """Read the server's stderr into its tail until the server is gone (a full pipe would block it); once the
    server's task ends, a second more at most (a process that escaped with the pipe cannot hold the run)."""
    fd = srv.stderr_fd
    assert fd is not None
    os.set_blocking(fd, False)
    try:
        with anyio.CancelScope() as srv.pump:
            while True:
                await anyio.wait_readable(fd)
                if not _drain_stderr(srv):
                    return
    except Exception:  # the tail is for messages: losing it must not touch the run
        return
    finally:
        srv.stderr_fd = None
        os.close(fd)


def _drain_stderr(srv: _Server) -> bool:
    """Read what the pipe holds now; False at its end (or when it is closed)."""
    while srv.stderr_fd is not None:
        try:
            chunk = os.read(srv.stderr_fd, 65536)
        except BlockingIOError:
            return True
        except OSError:
            return False
        if not chunk:
            return False
        srv.stderr.add(chunk)
    return False


def _http_transport(config: McpServerConfig, settings: Settings) -> Any:
    parts = urlsplit(config.url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise McpUnavailable(f"MCP server {config.name!r}: {config.url[:200]!r} is not an http(s) URL")
    if not _host_allowed(host, settings.mcp_allowed_hosts):
        raise McpUnavailable(f"MCP server {config.name!r} is not started: its host {host} is not in "
                             f'mcp_allowed_hosts; add "{host}" to mcp_allowed_hosts in workcrew.toml to reach it')
    if parts.scheme == "http" and host not in LOOPBACK:
        raise McpUnavailable(f"MCP server {config.name!r} is not started: {host} is reached over plain http, which "
                             "would send its headers unencrypted; use an https URL")
    return _remote(config)


def _host_allowed(host: str, allowed: list[str]) -> bool:
    for entry in (a.strip().lower().rstrip(".") for a in allowed):
        if entry == host or (entry.startswith("*.") and host.endswith(entry[1:])):
            return True
    return False


@asynccontextmanager
async def _remote(config: McpServerConfig) -> AsyncIterator[Any]:
    import httpx2

    headers = dict(config.headers)
    if config.transport == "sse":
        from mcp.client.sse import sse_client

        async with sse_client(config.url, headers=headers, timeout=30, sse_read_timeout=300) as streams:
            yield streams
        return
    from mcp.client.streamable_http import streamable_http_client

    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=300)) as client, \
            streamable_http_client(config.url, http_client=client) as (read, write):
        yield read, write


def _leaf(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        errors = [e for e in exc.exceptions if not isinstance(e, anyio.get_cancelled_exc_class())]
        exc = (errors or list(exc.exceptions))[0]
    return exc


def _leaf_text(exc: BaseException) -> str:
    leaf = _leaf(exc)
    return redact(str(leaf) or type(leaf).__name__)[:1000]


def _connection_closed(exc: BaseException) -> bool:
    from mcp import MCPError
    from mcp.types import CONNECTION_CLOSED

    if isinstance(exc, MCPError):
        return exc.code == CONNECTION_CLOSED
    return isinstance(exc, anyio.ClosedResourceError | anyio.BrokenResourceError | anyio.EndOfStream)


def _cancelled_only(exc: BaseException) -> bool:
    if isinstance(exc, BaseExceptionGroup):
        return all(_cancelled_only(e) for e in exc.exceptions)
    return isinstance(exc, anyio.get_cancelled_exc_class())


