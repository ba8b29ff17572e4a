""".mcp.json (Claude Code's format) and the approval of a project's MCP servers: parsing, ${VAR} expansion, the
errors a user reads, Claude Code's approval settings, and the line the approval text shows; and what MCP looks
like to the model (tool names, results). The servers themselves: test_mcp.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from workcrew.engine.agents import mcp_config
from workcrew.engine.agents.mcp_config import McpConfigError, approvals, load_config, parse_config
from workcrew.engine.agents.mcp_tools import result_text, tool_name
from workcrew.engine.errors import UsageError
from workcrew.engine.redaction import KNOWN
from workcrew.engine.settings import Settings


@pytest.fixture(autouse=True)
def forget_secrets() -> Iterator[None]:
    KNOWN.forget()
    yield
    KNOWN.forget()
    KNOWN.learn_environment()



def write(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def parse(data: object, settings: Settings, environ: dict[str, str] | None = None) -> mcp_config.McpConfig:
    return parse_config(json.dumps(data), settings.workspace / ".mcp.json", settings, environ or {})


# -- .mcp.json -------------------------------------------------------------------------------------------


def test_stdio_and_remote_servers_with_claude_codes_variable_expansion(settings: Settings) -> None:
    environ = {"TOOLS": "/opt/tools", "REGION": "eu", "EMPTY": "", "API_BASE": "https://mcp.example.com"}
    config = parse({"mcpServers": {
        "docs": {"command": "${TOOLS}/bin/docs", "args": ["--region=${REGION}", "--level=${LEVEL:-info}", "$REGION"],
                 "env": {"INDEX": "${INDEX_DIR:-docs/index}", "BLANK": "${EMPTY:-fallback}"}},
        "typed": {"type": "stdio", "command": "python", "args": ["server.py"]},
        "search": {"type": "http", "url": "${API_BASE:-https://fallback.example.com}/mcp",
                   "headers": {"X-Region": "${REGION}"}},
        "events": {"type": "sse", "url": "https://events.example.com/sse"},
    }}, settings, environ)
    docs = config.servers["docs"]
    assert docs.problem is None and docs.transport == "stdio"
    assert docs.command == "/opt/tools/bin/docs"
    # ${VAR} and ${VAR:-default} expand; a bare $VAR does not (as in Claude Code)
    assert docs.args == ("--region=eu", "--level=info", "$REGION")
    # a variable that is set, even to "", wins over its default
    assert dict(docs.env) == {"INDEX": "docs/index", "BLANK": ""}
    assert docs.passed == ("TOOLS", "REGION", "EMPTY")
    assert config.servers["typed"].transport == "stdio" and config.servers["typed"].args == ("server.py",)
    search = config.servers["search"]
    assert (search.transport, search.url, dict(search.headers)) == ("http", "https://mcp.example.com/mcp",
                                                                    {"X-Region": "eu"})
    assert config.servers["events"].transport == "sse"
    assert docs.describe() == ("stdio: /opt/tools/bin/docs --region=eu --level=info $REGION, gets $TOOLS, $REGION, "
                               "$EMPTY")
    assert search.describe().startswith("http: https://mcp.example.com/mcp")


def test_a_missing_file_is_no_servers_and_a_broken_one_says_where_and_what_to_do(settings: Settings) -> None:
    assert load_config(settings.workspace, settings).servers == {}
    path = write(settings.workspace / ".mcp.json", '{"mcpServers": {"docs": {"command": "x",}}}')
    with pytest.raises(McpConfigError) as caught:
        load_config(settings.workspace, settings)
    said = str(caught.value)
    assert said.startswith(f"{path}:1:") and "not valid JSON" in said and "fix it" in said
    write(path, {"mcpServers": ["docs"]})
    with pytest.raises(McpConfigError, match='expected an object with an "mcpServers" object'):
        load_config(settings.workspace, settings)
    write(path, {"mcpServers": {"bad/name": {"command": "x"}}})
    with pytest.raises(McpConfigError, match="server name 'bad/name' is not usable"):
        load_config(settings.workspace, settings)


def test_a_bad_entry_is_a_problem_of_that_server_only(settings: Settings) -> None:
    config = parse({"mcpServers": {
        "fine": {"command": "python"},
        "nothing": {},
        "args": {"command": "python", "args": "server.py"},
        "env": {"command": "python", "env": {"PORT": 8080}},
        "kind": {"type": "websocket", "url": "wss://x"},
        "remote": {"type": "http"},
        "unset": {"command": "python", "env": {"TOKEN_FILE": "${NOT_SET_ANYWHERE}"}},
        "scalar": "python server.py",
    }}, settings)
    assert config.servers["fine"].problem is None
    problems = {name: server.problem for name, server in config.servers.items() if name != "fine"}
    path = str(settings.workspace / ".mcp.json")
    assert all(problem is not None and problem.startswith(f'{path}: server "{name}"') for name, problem in problems.items())
    assert 'needs "command"' in str(problems["nothing"])
    assert '"args" must be a list of strings' in str(problems["args"])
    assert '"env" must be an object of strings' in str(problems["env"])
    assert '"type" \'websocket\' is not supported; use "stdio", "http" or "sse"' in str(problems["kind"])
    assert 'needs "url"' in str(problems["remote"])
    assert ("env.TOKEN_FILE uses ${NOT_SET_ANYWHERE}, which is not set in Workcrew's environment and has no default; "
            "set it, or write ${NOT_SET_ANYWHERE:-default}") in str(problems["unset"])
    assert "is not an object" in str(problems["scalar"])


def test_secret_variables_are_expanded_only_when_named_and_the_api_key_never(settings: Settings) -> None:
    environ = {"GITHUB_TOKEN": "ghp_expandedTokenValue0000000000000000", "ANTHROPIC_API_KEY": "sk-ant-never-passed-1"}
    entry = {"mcpServers": {
        "github": {"command": "github-mcp", "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${GITHUB_TOKEN}"}},
        "leak": {"type": "http", "url": "https://mcp.example.com/mcp",
                 "headers": {"Authorization": "Bearer ${ANTHROPIC_API_KEY}"}},
    }}
    config = parse(entry, settings, environ)
    assert ('uses ${GITHUB_TOKEN}, which looks like a secret; to pass it to this server, add "GITHUB_TOKEN" to '
            "mcp_pass_env in workcrew.toml") in str(config.servers["github"].problem)
    assert "Workcrew's own API credentials are never passed to an MCP server" in str(config.servers["leak"].problem)
    allowed = settings.model_copy(update={"mcp_pass_env": ["GITHUB_TOKEN", "ANTHROPIC_API_KEY"]})
    config = parse(entry, allowed, environ)
    github = config.servers["github"]
    assert github.problem is None and github.env["GITHUB_PERSONAL_ACCESS_TOKEN"] == environ["GITHUB_TOKEN"]
    assert github.passed == ("GITHUB_TOKEN",)
    assert "never passed" in str(config.servers["leak"].problem)  # even when listed


def test_secret_values_written_in_the_file_are_redacted_everywhere(settings: Settings) -> None:
    parse({"mcpServers": {
        "db": {"command": "db-mcp", "env": {"DB_PASSWORD": "literal-db-password-77c1", "LOG_LEVEL": "verbose-mode"}},
        "api": {"type": "http", "url": "https://mcp.example.com/mcp",
                "headers": {"Authorization": "Bearer literal-bearer-token-5e2a"}},
    }}, settings)
    text = KNOWN.redact("pw=literal-db-password-77c1 token=literal-bearer-token-5e2a level=verbose-mode")
    assert text == ("pw=[redacted: .mcp.json/db.env.DB_PASSWORD] token=[redacted: .mcp.json/api.headers.Authorization] "
                    "level=verbose-mode")


# -- approval --------------------------------------------------------------------------------------------


def test_nothing_approves_a_server_by_default_and_the_reason_says_what_to_do(settings: Settings, home: Path) -> None:
    decided = approvals(settings.workspace, ["docs"], home=home)["docs"]
    assert not decided.approved
    assert decided.reason == ("not approved: approve it when the run asks, or add it to enabledMcpjsonServers in "
                              ".claude/settings.local.json")


def test_claude_codes_approval_settings(settings: Settings, home: Path) -> None:
    ws = settings.workspace
    names = ["listed", "everything", "refused", "local"]
    write(ws / ".claude" / "settings.json", {"enabledMcpjsonServers": ["listed", "refused"]})
    write(ws / ".claude" / "settings.local.json", {"enabledMcpjsonServers": ["local"],
                                                   "disabledMcpjsonServers": ["refused"]})
    decided = approvals(ws, names, home=home)
    assert decided["listed"].approved and decided["listed"].reason == "enabledMcpjsonServers in .claude/settings.json"
    assert decided["local"].reason == "enabledMcpjsonServers in .claude/settings.local.json"
    assert not decided["everything"].approved
    # a refusal wins over an approval in any file, and over enableAllProjectMcpServers
    assert not decided["refused"].approved
    assert decided["refused"].reason == "disabledMcpjsonServers in .claude/settings.local.json refuses it"
    write(home / ".claude" / "settings.json", {"enableAllProjectMcpServers": True})
    decided = approvals(ws, names, home=home)
    assert decided["everything"].approved
    assert decided["everything"].reason == "enableAllProjectMcpServers in ~/.claude/settings.json"
    assert not decided["refused"].approved
    # the most specific file that sets enableAllProjectMcpServers decides
    write(ws / ".claude" / "settings.local.json", {"enableAllProjectMcpServers": False})
    assert not approvals(ws, ["everything"], home=home)["everything"].approved


def test_claude_codes_record_of_the_project_and_the_runs_own_approval(settings: Settings, home: Path) -> None:
    ws = settings.workspace
    write(home / ".claude.json", {"projects": {str(ws.resolve()): {"enabledMcpjsonServers": ["docs"],
                                                                  "disabledMcpjsonServers": ["evil"]},
                                               "/elsewhere": {"enabledMcpjsonServers": ["other"]}}})
    decided = approvals(ws, ["docs", "other", "evil", "asked"], approved_now=["asked", "evil"], home=home)
    assert decided["docs"].approved and "~/.claude.json" in decided["docs"].reason
    assert not decided["other"].approved  # approved for another project only
    assert decided["asked"].approved and decided["asked"].reason == "approved for this run"
    assert not decided["evil"].approved  # the user's refusal is not overridden by the run's approval
    write(ws / ".claude" / "settings.json", "{not json")  # a broken settings file approves nothing and breaks nothing
    assert approvals(ws, ["docs"], home=home)["docs"].approved


def test_unapproved_servers_and_remembering_an_approval(settings: Settings, home: Path) -> None:
    ws = settings.workspace
    write(ws / ".mcp.json", {"mcpServers": {"a": {"command": "x"}, "b": {"command": "y"}, "c": {"command": "z"}}})
    write(ws / ".claude" / "settings.local.json", {"disabledMcpjsonServers": ["b"], "permissions": {"allow": ["Read"]}})
    assert mcp_config.unapproved_servers(ws, settings=settings, home=home) == ["a", "b", "c"]
    assert mcp_config.unapproved_servers(ws, ["c"], approved_now=["c"], home=home) == []
    path = mcp_config.remember_approval(ws, ["a", "b"])
    data = json.loads(path.read_text())
    assert data == {"disabledMcpjsonServers": [], "permissions": {"allow": ["Read"]}, "enabledMcpjsonServers": ["a", "b"]}
    assert mcp_config.unapproved_servers(ws, settings=settings, home=home) == ["c"]
    write(path, "{broken")
    with pytest.raises(UsageError, match="not valid JSON"):
        mcp_config.remember_approval(ws, ["c"])
    assert path.read_text() == "{broken"  # never overwritten


def test_the_approval_text_lists_the_servers_and_which_are_not_approved(settings: Settings, home: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from workcrew.engine.cost.approval_text import mcp_servers_line

    ws = settings.workspace
    assert mcp_servers_line(settings) is None  # no .mcp.json: nothing to say
    monkeypatch.setenv("DOCS_REGION", "eu-west")
    write(ws / ".mcp.json", {"mcpServers": {
        "docs": {"command": "python", "args": ["tools/docs.py", "--region", "${DOCS_REGION}"]},
        "search": {"type": "http", "url": "https://mcp.example.com/mcp"},
        "old": {"command": "old-server"}}})
    write(ws / ".claude" / "settings.local.json", {"enabledMcpjsonServers": ["docs"], "disabledMcpjsonServers": ["old"]})
    line = mcp_servers_line(settings)
    assert line == ("MCP servers the run may start (.mcp.json): docs (stdio: python tools/docs.py --region eu-west, "
                    "gets $DOCS_REGION); search (http: https://mcp.example.com/mcp); old (stdio: old-server). "
                    "Not approved yet: search, old (disabledMcpjsonServers in .claude/settings.local.json refuses it) "
                    "— approving this run starts them for this run (\"always\": for later runs too, recorded in "
                    ".claude/settings.local.json as Claude Code does); a server disabledMcpjsonServers names never "
                    "starts.")
    write(ws / ".mcp.json", {"mcpServers": {"half": {"args": ["x"]}}})
    assert f'half (cannot start: {ws / ".mcp.json"}: server "half": a stdio server needs "command"' in str(
        mcp_servers_line(settings))
    write(ws / ".mcp.json", "[")
    broken = mcp_servers_line(settings)
    assert broken is not None and "not valid JSON" in broken and "agents that need an MCP server will fail" in broken


# -- what the model sees ---------------------------------------------------------------------------------


def test_result_blocks_become_text_for_the_model() -> None:
    from mcp import types

    result = types.CallToolResult(content=[
        types.TextContent(type="text", text="first"),
        types.ImageContent(type="image", data="aGVsbG8gd29ybGQh", mime_type="image/png"),
        types.EmbeddedResource(type="resource", resource=types.TextResourceContents(uri="file:///a.txt", text="body")),
        types.EmbeddedResource(type="resource", resource=types.BlobResourceContents(uri="file:///b.bin", blob="AAAA",
                                                                                     mime_type="application/zip")),
        types.ResourceLink(type="resource_link", uri="https://example.com/doc", name="doc"),
    ])
    text, error = result_text(result)
    assert not error and text.splitlines() == [
        "first", "[image (image/png, 12 bytes): not shown]", "[resource file:///a.txt]", "body",
        "[resource file:///b.bin (application/zip): not shown]", "[resource link: https://example.com/doc (doc)]"]
    assert result_text(types.CallToolResult(content=[], structured_content={"n": 1})) == ('{"n": 1}', False)
    assert result_text(types.CallToolResult(content=[], is_error=True)) == ("(the tool returned nothing)", True)


def test_tool_names_follow_claude_code_and_fit_the_api() -> None:
    assert tool_name("my.server", "get data") == "mcp__my_server__get_data"
    long = tool_name("a-very-long-server-name-for-documents", "search_every_document_in_the_index_quickly")
    assert len(long) == 64 and long.startswith("mcp__a-very-long-server-name-for-documents__search_")
    assert long != tool_name("a-very-long-server-name-for-documents", "search_every_document_in_the_index_slowly")


def test_approving_a_run_approves_its_servers_for_that_run_and_always_for_later(tmp_path: Path) -> None:
    from workcrew.engine.agents.mcp_config import approve_for_run, unapproved_servers

    ws = tmp_path / "ws"
    ws.mkdir()
    write(ws / ".mcp.json", {"mcpServers": {"docs": {"command": "docs-server"}, "old": {"command": "old-server"},
                                            "calc": {"command": "calc-server"}}})
    write(ws / ".claude" / "settings.json", {"disabledMcpjsonServers": ["old"]})
    settings = Settings(workspace=ws)
    assert unapproved_servers(ws, settings=settings) == ["calc", "docs", "old"]
    approved = approve_for_run(settings)  # "y": this run only
    assert approved.mcp_approved == ["calc", "docs"]  # the refused one stays refused
    assert not (ws / ".claude" / "settings.local.json").exists()
    assert unapproved_servers(ws, settings=settings) == ["calc", "docs", "old"]  # nothing remembered
    remembered = approve_for_run(settings, remember=True)  # "always"
    assert remembered.mcp_approved == ["calc", "docs"]
    assert json.loads((ws / ".claude" / "settings.local.json").read_text())["enabledMcpjsonServers"] == ["calc", "docs"]
    assert unapproved_servers(ws, settings=settings) == ["old"]
    assert approve_for_run(settings).mcp_approved == []  # nothing left to approve
