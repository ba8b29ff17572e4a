"""MCP servers for agents, against real MCP servers written for the tests (tests/fixtures/mcp/server.py, on the
official SDK's server API) started over stdio in the command sandbox, and over streamable HTTP on 127.0.0.1.

What is shown: a server starts on first use, once per run, shared by the run's agents (two agents over the real
anthropic SDK and the simulator); its tools are listed and called; it cannot read outside the workspace, see the
API key or reach the network; a slow tool times out; a server that fails to start fails only the agents that
need it, with its stderr; closing stops every process; results are redacted and capped."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from workcrew.engine.agents.loop import AgentSpec, run_agent
from workcrew.engine.agents.mcp import McpCall, McpServers, McpTools, McpUnavailable
from workcrew.engine.agents.mcp_tools import MAX_RESULT_CHARS
from workcrew.engine.commands import sandbox as command_sandbox
from workcrew.engine.providers.simulator import SimulatorThread
from workcrew.engine.redaction import KNOWN
from workcrew.engine.settings import Settings

from .conftest import model_for

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "mcp" / "server.py"
MODEL = "claude-sonnet-5-5"
API_KEY_VALUE = "sk-ant-api03-MCP-environ-canary-77e1"
TOKEN_VALUE = "ghp_MCPcanaryTokenValue000000000000000000"
SSH_VALUE = "MCP-ssh-private-key-canary-3f0a"
OUTSIDE_VALUE = "MCP-outside-file-canary-b71c"
DOTENV_VALUE = "MCP-dotenv-canary-90d2"
CANARIES = (API_KEY_VALUE, TOKEN_VALUE, SSH_VALUE, OUTSIDE_VALUE, DOTENV_VALUE)

needs_sandbox = pytest.mark.skipif(not command_sandbox.sandbox_status().available,
                                   reason="bubblewrap cannot run here: stdio MCP servers are refused (tested below)")


@dataclass
class Project:
    workspace: Path
    home: Path
    outside: Path
    settings: Settings

    def servers(self, servers: dict[str, Any], **settings: Any) -> Settings:
        (self.workspace / ".mcp.json").write_text(json.dumps({"mcpServers": servers}))
        self.settings = self.settings.model_copy(update=settings)
        return self.settings


def stdio(*args: str, **env: str) -> dict[str, Any]:
    """The fixture server as a project would declare it: its script in the workspace, run by this Python."""
    return {"command": sys.executable, "args": ["tools/mcp_server.py", *args], "env": env}


@pytest.fixture(autouse=True)
def secrets(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY_VALUE)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN_VALUE)
    KNOWN.forget()
    KNOWN.learn_environment()
    yield
    KNOWN.forget()
    KNOWN.learn_environment()


@pytest.fixture
def project(workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    home, outside = tmp_path / "home", tmp_path / "outside"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text(f"-----BEGIN OPENSSH PRIVATE KEY-----\n{SSH_VALUE}\n")
    outside.mkdir()
    (outside / "data.txt").write_text(OUTSIDE_VALUE)
    monkeypatch.setenv("HOME", str(home))
    (workspace / "tools").mkdir()
    shutil.copy(FIXTURE, workspace / "tools" / "mcp_server.py")
    (workspace / "data.json").write_text(json.dumps({"answer": "forty-two"}))
    (workspace / ".env").write_text(f"DB_PASSWORD={DOTENV_VALUE}\n")
    KNOWN.learn_workspace(workspace, Settings().secret_patterns)
    settings = Settings(workspace=workspace, state_dir=tmp_path / "state", mcp_start_timeout_s=60)
    return Project(workspace, home, outside, settings)


def processes_of(workspace: Path) -> dict[int, str]:
    """Live processes whose command line names ``workspace`` (bwrap's mounts do) and every process below them:
    the sandbox, its init and the server. A zombie is dead (it waits to be reaped, and runs nothing)."""
    parents: dict[int, int] = {}
    lines: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            line = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if fields[0] != "Z":
            parents[int(entry)], lines[int(entry)] = int(fields[1]), line
    found = {pid for pid, line in lines.items() if str(workspace) in line}
    grown = True
    while grown:
        below = {pid for pid, parent in parents.items() if parent in found} - found
        found |= below
        grown = bool(below)
    return {pid: f"{started(pid)} {lines[pid]}" for pid in found}


def started(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot), None when it is gone or a zombie: a pid alive with
    the same start is the same process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else fields[19]


def alive(processes: dict[int, str]) -> list[int]:
    return [pid for pid, line in processes.items() if started(pid) == line.split(" ", 1)[0]]


class McpToolBox:
    """What the agent toolbox does with MCP tools, for run_agent: the definitions, and calls routed by name."""

    def __init__(self, definitions: list[dict[str, Any]], tools: McpTools) -> None:
        self.defs, self.tools = definitions, tools

    def definitions(self) -> list[dict[str, Any]]:
        return self.defs

    async def call(self, name: str, arguments: dict[str, Any]) -> tuple[str, bool]:
        return await self.tools.call(name, arguments, timeout=60)


def tool_results(transcript: list[dict[str, Any]]) -> list[str]:
    return [block["content"] for message in transcript if message["role"] == "user" and isinstance(message["content"], list)
            for block in message["content"] if block.get("type") == "tool_result"]


# -- one server per run, shared, through the real SDK ------------------------------------------------------


@needs_sandbox
async def test_two_agents_share_one_server_started_on_first_use(
        project: Project, simulator: Callable[..., SimulatorThread]) -> None:
    settings = project.servers({"fx": stdio(LOOKUP_FILE="data.json")})
    sim = simulator([{"match": {"label": f"^{label}$"}, "respond": {
        "tool_calls": [{"name": "mcp__fx__whoami", "input": {}}, {"name": "mcp__fx__lookup", "input": {"key": "answer"}}],
        "text": f"{label} done"}} for label in ("first", "second")])
    model = model_for(sim)
    calls: list[McpCall] = []
    outcomes: dict[str, Any] = {}
    try:
        async with McpServers(settings, approved=["fx"], log=lambda line: None) as servers:
            assert servers.starts == {} and processes_of(project.workspace) == {}  # nothing runs before it is needed

            async def agent(label: str) -> None:
                tools = McpTools(servers, {"mcp__fx__whoami", "mcp__fx__lookup", "Read"}, on_call=calls.append)
                box = McpToolBox(await tools.definitions(), tools)
                outcomes[label] = await run_agent(model, AgentSpec(prompt="who answers?", model=MODEL, label=label),
                                                  tools=box)

            async with anyio.create_task_group() as group:
                group.start_soon(agent, "first")
                group.start_soon(agent, "second")
            running = processes_of(project.workspace)
            assert servers.starts == {"fx": 1}
            assert sum("bwrap" in line for line in running.values()) >= 1
            assert any("mcp_server.py" in line for line in running.values())
            assert servers.status() == {"fx": "running"}
    finally:
        await model.aclose()
    answers = {label: tool_results(outcome.transcript) for label, outcome in outcomes.items()}
    assert {label: outcome.value for label, outcome in outcomes.items()} == {"first": "first done",
                                                                            "second": "second done"}
    who = {label: json.loads(results[0]) for label, results in answers.items()}
    assert who["first"]["process"] == who["second"]["process"]  # one server process served both agents
    assert who["first"]["cwd"] == str(project.workspace)
    assert [results[1] for results in answers.values()] == ["forty-two", "forty-two"]  # env from .mcp.json
    assert sorted((c.name, c.ok) for c in calls) == [("mcp__fx__lookup", True)] * 2 + [("mcp__fx__whoami", True)] * 2
    # leaving the run's McpServers stopped the sandbox and the server: no process is left
    assert processes_of(project.workspace) == {}
    assert running and alive(running) == []
    # the simulator saw Claude Code's tool names with the server's input schema
    tools_sent = sim.server.requests[0]["body"]["tools"]
    lookup = next(t for t in tools_sent if t["name"] == "mcp__fx__lookup")
    assert lookup["input_schema"]["properties"]["key"]["type"] == "string"


@needs_sandbox
async def test_listing_and_calling_tools(project: Project) -> None:
    settings = project.servers({"fx": stdio(LOOKUP_FILE="data.json")})
    async with McpServers(settings, approved=["fx"]) as servers:
        every = McpTools(servers, {"mcp__fx"})
        names = [d["name"] for d in await every.definitions()]
        assert names == [f"mcp__fx__{t}" for t in ("add", "big", "echo", "environ", "fail", "lookup", "read", "slow",
                                                   "whoami")]
        add = next(d for d in await every.definitions() if d["name"] == "mcp__fx__add")
        assert add["description"] == "Add two integers."
        assert add["input_schema"]["required"] == ["a", "b"] and add["input_schema"]["type"] == "object"
        assert await every.call("mcp__fx__add", {"a": 2, "b": 40}) == ("42", False)
        assert await every.call("mcp__fx__lookup", {"key": "answer"}) == ("forty-two", False)
        text, error = await every.call("mcp__fx__fail", {"message": "boom"})
        assert error and "the tool failed on purpose: boom" in text
        text, error = await every.call("mcp__fx__add", {"a": "two"})
        assert error and "validation error" in text
        text, error = await every.call("mcp__fx__nothing", {})
        assert error and text.startswith("unknown MCP tool 'mcp__fx__nothing'; this agent may call: mcp__fx__add")
        one = McpTools(servers, {"mcp__fx__add"})
        assert [d["name"] for d in await one.definitions()] == ["mcp__fx__add"]
        text, error = await one.call("mcp__fx__lookup", {"key": "answer"})  # listed by the server, not allowed here
        assert error and "this agent may call: mcp__fx__add" in text
        with pytest.raises(McpUnavailable, match=r"MCP server 'fx' has no tool nope \(its tools: add, big"):
            await McpTools(servers, {"mcp__fx__nope"}).definitions()
        with pytest.raises(McpUnavailable, match=r"'mcp__docs' names no MCP server of .mcp.json \(its servers: mcp__fx\)"):
            await McpTools(servers, {"mcp__docs"}).definitions()
        assert servers.starts == {"fx": 1}


@needs_sandbox
async def test_the_server_runs_confined(project: Project) -> None:
    listener = socket.create_server(("127.0.0.1", 0))  # reachable from the engine, not from the sandbox
    port = listener.getsockname()[1]
    settings = project.servers({"fx": stdio(LOOKUP_FILE="data.json", PROBE_PORT=str(port))})
    try:
        async with McpServers(settings, approved=["fx"]) as servers:
            tools = McpTools(servers, {"mcp__fx__environ", "mcp__fx__read"})
            environ_text, _ = await tools.call("mcp__fx__environ", {})
            probe_text, _ = await tools.call("mcp__fx__read", {"paths": [
                str(project.home / ".ssh" / "id_rsa"), "~/.ssh/id_rsa", str(project.outside / "data.txt"), ".env",
                "/proc/1/environ", f"/proc/{os.getpid()}/environ", "data.json"]})
    finally:
        listener.close()
    environ = json.loads(environ_text)
    assert "ANTHROPIC_API_KEY" not in environ and "GITHUB_TOKEN" not in environ
    assert environ["HOME"] == "/tmp/home" and environ["LOOKUP_FILE"] == "data.json"
    assert not {"USER", "LOGNAME", "SHELL"} & environ.keys()  # nothing of the engine's environment
    probe = json.loads(probe_text)
    assert probe[str(project.home / ".ssh" / "id_rsa")].startswith("error:")  # no home folder
    assert probe["~/.ssh/id_rsa"].startswith("error:")
    assert probe[str(project.outside / "data.txt")].startswith("error:")  # nothing outside the workspace
    assert DOTENV_VALUE not in probe[".env"]  # secret files masked
    assert probe["data.json"] == json.dumps({"answer": "forty-two"})  # the workspace is readable
    assert probe["write"].startswith("error:") and not (project.workspace / "planted.txt").exists()  # read-only
    assert probe["network"].startswith("error:")  # no network
    for value in CANARIES:
        assert value not in environ_text and value not in probe_text


@needs_sandbox
async def test_a_server_named_in_mcp_network_reaches_the_network(project: Project) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    settings = project.servers({"fx": stdio(PROBE_PORT=str(listener.getsockname()[1]))}, mcp_network=["fx"])
    try:
        async with McpServers(settings, approved=["fx"]) as servers:
            text, error = await McpTools(servers, {"mcp__fx__read"}).call("mcp__fx__read", {"paths": []})
    finally:
        listener.close()
    assert not error and json.loads(text)["network"] == "connected"


# -- approval, failures, timeouts --------------------------------------------------------------------------


@needs_sandbox
async def test_an_unapproved_server_is_never_started(project: Project) -> None:
    settings = project.servers({"fx": stdio(), "other": stdio()})
    (project.workspace / ".claude").mkdir()
    (project.workspace / ".claude" / "settings.json").write_text(json.dumps({"enabledMcpjsonServers": ["other"],
                                                                             "disabledMcpjsonServers": ["fx"]}))
    async with McpServers(settings) as servers:
        with pytest.raises(McpUnavailable) as caught:
            await McpTools(servers, {"mcp__fx"}).definitions()
        assert caught.value.kind == "mcp"
        assert caught.value.reason == ("MCP server 'fx' of .mcp.json is not started: disabledMcpjsonServers in "
                                       ".claude/settings.json refuses it")
        text, error = await servers.call("fx", "add", {"a": 1, "b": 1})
        assert error and text == caught.value.reason
        assert servers.starts == {} and processes_of(project.workspace) == {}
        assert [d["name"] for d in await McpTools(servers, {"mcp__other__add"}).definitions()] == ["mcp__other__add"]
        assert servers.starts == {"other": 1}


@needs_sandbox
async def test_a_failing_server_fails_only_the_agents_that_need_it(project: Project) -> None:
    settings = project.servers({"fx": stdio(), "crash": stdio("--crash"),
                                "missing": {"command": "no-such-mcp-server-program"}})
    notes: list[str] = []
    async with McpServers(settings, approved=["fx", "crash", "missing"], log=notes.append) as servers:
        healthy = McpTools(servers, {"mcp__fx__add"})
        outcomes: dict[str, Any] = {}

        async def agent(label: str, allowed: set[str]) -> None:
            try:
                outcomes[label] = await McpTools(servers, allowed).definitions()
            except McpUnavailable as exc:
                outcomes[label] = exc

        async with anyio.create_task_group() as group:
            group.start_soon(agent, "crash", {"mcp__crash"})
            group.start_soon(agent, "both", {"mcp__fx__add", "mcp__missing"})
            group.start_soon(agent, "fx", {"mcp__fx__add"})
        assert [d["name"] for d in outcomes["fx"]] == ["mcp__fx__add"]
        crash = outcomes["crash"]
        assert isinstance(crash, McpUnavailable) and crash.reason.startswith(
            f"MCP server 'crash' (stdio: {sys.executable} tools/mcp_server.py --crash) failed to start: it exited (or "
            "closed its output) before the MCP handshake; its stderr ends with:\n")
        assert crash.reason.endswith("fixture server: cannot load its configuration (planted crash)")
        both = outcomes["both"]
        assert isinstance(both, McpUnavailable) and "MCP server 'missing'" in both.reason
        assert "no-such-mcp-server-program" in both.reason  # bwrap's own word on the missing program
        # the failures are final for the run (one start each), and the healthy server still serves
        assert servers.starts == {"fx": 1, "crash": 1, "missing": 1}
        with pytest.raises(McpUnavailable, match="planted crash"):
            await McpTools(servers, {"mcp__crash"}).definitions()
        assert await healthy.call("mcp__fx__add", {"a": 1, "b": 2}) == ("3", False)
        assert servers.status()["fx"] == "running" and servers.status()["crash"].startswith("failed: ")
    assert any("failed to start" in note for note in notes) and any("'fx' started" in note for note in notes)
    assert processes_of(project.workspace) == {}


@needs_sandbox
async def test_a_server_that_never_answers_is_stopped_after_the_start_timeout(project: Project) -> None:
    settings = project.servers({"mute": stdio("--mute")}, mcp_start_timeout_s=2)
    async with McpServers(settings, approved=["mute"]) as servers:
        with pytest.raises(McpUnavailable) as caught:
            await McpTools(servers, {"mcp__mute__anything"}).definitions()
        assert processes_of(project.workspace) == {}  # stopped when the handshake timed out, not at the run's end
    assert caught.value.reason == (
        f"MCP server 'mute' (stdio: {sys.executable} tools/mcp_server.py --mute) was stopped: it did not complete the "
        "MCP handshake within 2 s; its stderr ends with:\nfixture server: started, and will never answer")


@needs_sandbox
async def test_a_slow_tool_times_out_and_the_server_keeps_serving(project: Project) -> None:
    settings = project.servers({"fx": stdio()})
    async with McpServers(settings, approved=["fx"]) as servers:
        tools = McpTools(servers, {"mcp__fx__slow", "mcp__fx__add"})
        text, error = await tools.call("mcp__fx__slow", {"seconds": 600}, timeout=1)
        assert error and text == "the MCP tool 'slow' of server 'fx' did not answer within 1 s; the call was abandoned"
        assert tools.calls[-1].ok is False and tools.calls[-1].error == text
        capped = settings.model_copy(update={"mcp_tool_timeout_s": 1.5})
        servers.settings = capped  # mcp_tool_timeout_s caps a longer time left
        text, error = await tools.call("mcp__fx__slow", {"seconds": 600}, timeout=500)
        assert error and "did not answer within 1.5 s" in text
        text, error = await tools.call("mcp__fx__slow", {"seconds": 1}, timeout=0)
        assert error and text == "no time is left for the MCP tool 'slow'"
        assert await tools.call("mcp__fx__add", {"a": 1, "b": 1}) == ("2", False)


@needs_sandbox
async def test_a_server_that_dies_during_the_run_is_a_tool_error_then_fails_later_agents(project: Project) -> None:
    settings = project.servers({"fx": stdio()})
    async with McpServers(settings, approved=["fx"]) as servers:
        tools = McpTools(servers, {"mcp__fx"})
        await tools.definitions()
        server_pids = [pid for pid, line in processes_of(project.workspace).items() if "mcp_server.py" in line]
        assert server_pids
        for pid in server_pids:
            os.kill(pid, 9)
        text, error = await tools.call("mcp__fx__add", {"a": 1, "b": 1})
        assert error and text.startswith("MCP server 'fx' stopped during the run")
        with pytest.raises(McpUnavailable, match="stopped during the run"):
            await McpTools(servers, {"mcp__fx"}).definitions()
    assert processes_of(project.workspace) == {}


async def test_a_broken_mcp_json_fails_only_agents_that_ask_for_mcp_tools(project: Project) -> None:
    (project.workspace / ".mcp.json").write_text('{"mcpServers": {"fx": ')
    servers = McpServers(project.settings, approved=["fx"])
    with pytest.raises(McpUnavailable, match="the run's MCP servers are not open"):
        await servers.server("fx")
    async with servers:
        assert await McpTools(servers, {"Read", "web_search"}).definitions() == []  # no MCP tool asked for
        with pytest.raises(McpUnavailable) as caught:
            await McpTools(servers, {"mcp__fx"}).definitions()
    assert caught.value.reason.startswith(f"{project.workspace / '.mcp.json'}:1:") and "not valid JSON" in caught.value.reason


async def test_without_a_sandbox_stdio_servers_are_refused_unless_opted_in(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(command_sandbox, "find_bwrap", lambda: None)
    settings = project.servers({"fx": stdio()})
    async with McpServers(settings, approved=["fx"]) as servers:
        with pytest.raises(McpUnavailable) as caught:
            await McpTools(servers, {"mcp__fx"}).definitions()
    assert caught.value.reason.startswith("MCP server 'fx' is not started: no OS sandbox is available (bubblewrap "
                                          "(bwrap) is not installed")
    assert "allow_unsandboxed_commands = true" in caught.value.reason
    settings = project.servers({"fx": stdio()}, allow_unsandboxed_commands=True)
    async with McpServers(settings, approved=["fx"]) as servers:
        text, error = await McpTools(servers, {"mcp__fx__environ"}).call("mcp__fx__environ", {})
    environ = json.loads(text)
    assert not error and "ANTHROPIC_API_KEY" not in environ and "GITHUB_TOKEN" not in environ
    assert environ["HOME"] != str(project.home) and not os.path.exists(environ["HOME"])  # a fresh HOME, removed


# -- results ---------------------------------------------------------------------------------------------------


@needs_sandbox
async def test_results_are_redacted_and_capped(project: Project) -> None:
    settings = project.servers({"fx": stdio(SERVICE_TOKEN="literal-service-token-4b9e")})
    async with McpServers(settings, approved=["fx"]) as servers:
        tools = McpTools(servers, {"mcp__fx__echo", "mcp__fx__environ", "mcp__fx__big"})
        text, _ = await tools.call("mcp__fx__echo", {"text": f"key={API_KEY_VALUE} dotenv={DOTENV_VALUE}"})
        assert text == "key=[redacted: ANTHROPIC_API_KEY] dotenv=[redacted: .env]"
        text, _ = await tools.call("mcp__fx__environ", {})
        assert json.loads(text)["SERVICE_TOKEN"] == "[redacted: .mcp.json/fx.env.SERVICE_TOKEN]"
        text, error = await tools.call("mcp__fx__big", {"size": 200_000})
    assert not error and text.startswith("y" * 1000)
    assert text.endswith(f"[truncated: the tool answered 200,000 characters; the first {MAX_RESULT_CHARS:,} are shown]")
    assert len(text) < MAX_RESULT_CHARS + 200


# -- HTTP ------------------------------------------------------------------------------------------------------


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[str]:
    """The fixture server over streamable HTTP on 127.0.0.1 (a remote server, outside any sandbox)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, str(FIXTURE), "--http", str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):  # until it listens (at most a minute): readiness, not a timing assertion
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                if process.poll() is not None:
                    pytest.fail("the HTTP fixture server exited")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.kill()
        process.wait(timeout=10)


async def test_an_http_server_on_an_allowed_host(project: Project, http_server: str) -> None:
    settings = project.servers({"web": {"type": "http", "url": http_server, "headers": {"X-Client": "workcrew"}}},
                               mcp_allowed_hosts=["127.0.0.1"])
    async with McpServers(settings, approved=["web"]) as servers:
        tools = McpTools(servers, {"mcp__web__add", "mcp__web__whoami"})
        assert [d["name"] for d in await tools.definitions()] == ["mcp__web__add", "mcp__web__whoami"]
        assert await tools.call("mcp__web__add", {"a": 20, "b": 22}) == ("42", False)
    assert servers.starts == {"web": 1}


async def test_http_servers_elsewhere_are_not_reached(project: Project) -> None:
    settings = project.servers({
        "far": {"type": "http", "url": "https://mcp.example.com/mcp"},
        "plain": {"type": "sse", "url": "http://mcp.example.com/sse"},
        "wild": {"type": "http", "url": "https://evil.example.org.attacker.test/mcp"},
        "ftp": {"type": "http", "url": "ftp://mcp.example.com/mcp"},
    }, mcp_allowed_hosts=["*.example.org", "mcp.example.com"])
    async with McpServers(settings, approved=["far", "plain", "wild", "ftp"]) as servers:
        reasons = {}
        for name in ("plain", "wild", "ftp"):
            with pytest.raises(McpUnavailable) as caught:
                await McpTools(servers, {f"mcp__{name}"}).definitions()
            reasons[name] = caught.value.reason
        assert servers.starts == {}
    assert "is reached over plain http, which would send its headers unencrypted; use an https URL" in reasons["plain"]
    assert reasons["wild"] == ("MCP server 'wild' is not started: its host evil.example.org.attacker.test is not in "
                               'mcp_allowed_hosts; add "evil.example.org.attacker.test" to mcp_allowed_hosts in '
                               "workcrew.toml to reach it")
    assert "is not an http(s) URL" in reasons["ftp"]
