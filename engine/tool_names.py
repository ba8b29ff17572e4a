"""The tools an agent may be given, by name: Workcrew's own names, Claude Code's, and how an agent's
effective set follows from its call, its agent type and its workflow.

Every layer speaks these names. The toolbox (``agents/tools.py``) offers and executes the workspace tools
and ``load_skill``; server tools (``web_search``, ``web_fetch``) and MCP tools (``mcp__SERVER`` for every
tool of a server, ``mcp__SERVER__TOOL`` for one) are carried as names so that the code that provides
them asks :func:`allows` whether an agent may have them. Nothing but the six workspace tools and
``load_skill`` is ever given by default.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce

READ_FILE = "read_file"
LIST_DIR = "list_dir"
GLOB = "glob"
GREP = "grep"
EDIT_FILE = "edit_file"
WRITE_FILE = "write_file"
RUN_COMMAND = "run_command"  # only in a private worktree (isolation="worktree")
LOAD_SKILL = "load_skill"
WEB_SEARCH = "web_search"  # the Anthropic API's server tools
WEB_FETCH = "web_fetch"
MCP_PREFIX = "mcp__"

READ_ONLY_TOOLS = frozenset({READ_FILE, LIST_DIR, GLOB, GREP})
WORKSPACE_TOOLS = READ_ONLY_TOOLS | {EDIT_FILE, WRITE_FILE}
DEFAULT_TOOLS = WORKSPACE_TOOLS | {LOAD_SKILL}  # what an agent gets when nothing narrows it
SERVER_TOOLS = frozenset({WEB_SEARCH, WEB_FETCH})
WORKCREW_TOOLS = WORKSPACE_TOOLS | {RUN_COMMAND, LOAD_SKILL} | SERVER_TOOLS

# Claude Code's tool names (as a subagent's ``tools:`` lists them), matched without regard to case
CLAUDE_CODE_TOOLS = {
    "read": READ_FILE, "grep": GREP, "glob": GLOB, "ls": LIST_DIR, "edit": EDIT_FILE, "multiedit": EDIT_FILE,
    "write": WRITE_FILE, "bash": RUN_COMMAND, "skill": LOAD_SKILL, "websearch": WEB_SEARCH, "webfetch": WEB_FETCH,
}
# Claude Code tools with no Workcrew counterpart: a definition that lists them still loads (they are left out)
CLAUDE_CODE_ONLY = frozenset({
    "task", "agent", "todowrite", "todoread", "notebookedit", "notebookread", "bashoutput", "killshell", "killbash",
    "exitplanmode", "enterplanmode", "slashcommand", "askuserquestion", "listmcpresourcestool",
    "readmcpresourcetool", "taskoutput", "taskstop", "toolsearch", "lsp",
})
_MCP_NAME = re.compile(r"^mcp__([A-Za-z0-9_-]+?)(?:__([A-Za-z0-9_.-]+))?$")
KNOWN_NAMES_HELP = ("Claude Code's names (Read, Grep, Glob, LS, Edit, MultiEdit, Write, Bash, Skill, WebSearch, "
                    "WebFetch), mcp__SERVER or mcp__SERVER__TOOL, or Workcrew's (" + ", ".join(sorted(WORKCREW_TOOLS))
                    + ")")


def canonical_tool(name: str) -> str | None:
    """Workcrew's name for ``name``; None for a Claude Code tool Workcrew does not have (``TodoWrite``).

    A permission specifier (``Bash(git diff:*)``) is dropped: commands always pass the allowlist.
    Raises ValueError naming the accepted names for anything else."""
    if not isinstance(name, str):
        raise ValueError(f"a tool name must be a string, not {type(name).__name__}")
    text = name.strip()
    base = text.split("(", 1)[0].strip() if text.endswith(")") and "(" in text else text
    if base.startswith(MCP_PREFIX):
        if not _MCP_NAME.match(base):
            raise ValueError(f"{name!r} is not an MCP tool name: write mcp__SERVER or mcp__SERVER__TOOL")
        return base
    lowered = base.lower()
    if lowered in WORKCREW_TOOLS:
        return lowered
    if lowered in CLAUDE_CODE_TOOLS:
        return CLAUDE_CODE_TOOLS[lowered]
    if lowered in CLAUDE_CODE_ONLY:
        return None
    raise ValueError(f"unknown tool {name!r}: use {KNOWN_NAMES_HELP}")


@dataclass(frozen=True)
class ToolList:
    """Tool names as Workcrew knows them, and the Claude Code tools that were left out (no counterpart)."""

    names: frozenset[str]
    left_out: tuple[str, ...] = ()


def split_tool_names(value: object) -> list[str]:
    """A ``tools`` value as names: a list of strings, or one comma-separated string (``"Read, Grep"``)."""
    if isinstance(value, str):
        parts = [part.strip() for part in re.split(r",(?![^(]*\))", value)]
        out: list[str] = []
        for part in parts:  # "Read Grep Glob" (space-separated) is seen in the wild too
            out += [part] if "(" in part else part.split()
        return [part for part in out if part]
    if isinstance(value, list | tuple | set | frozenset):
        if not all(isinstance(item, str) for item in value):
            raise ValueError("tools must be a list of tool names (strings)")
        return [str(item).strip() for item in value if str(item).strip()]
    raise ValueError(f"tools must be a list of tool names or a comma-separated string, not {type(value).__name__}")


def tool_list(value: object) -> ToolList:
    """Parse a ``tools`` value (see :func:`split_tool_names`); ValueError names the first unknown tool."""
    names: set[str] = set()
    left_out: list[str] = []
    for item in split_tool_names(value):
        known = canonical_tool(item)
        if known is None:
            left_out.append(item)
        else:
            names.add(known)
    return ToolList(frozenset(names), tuple(left_out))


def mcp_server_of(name: str) -> str | None:
    match = _MCP_NAME.match(name)
    return match.group(1) if match else None


def allows(tools: Iterable[str], name: str) -> bool:
    """``tools`` gives ``name``: listed itself, or an MCP tool whose whole server is listed."""
    allowed = tools if isinstance(tools, frozenset | set) else frozenset(tools)
    if name in allowed:
        return True
    match = _MCP_NAME.match(name)
    return bool(match and match.group(2) and f"{MCP_PREFIX}{match.group(1)}" in allowed)


def narrow(outer: frozenset[str], inner: frozenset[str]) -> frozenset[str]:
    """What both allow (``mcp__github`` and ``mcp__github__create_issue`` meet at the latter)."""
    return frozenset({n for n in outer if allows(inner, n)} | {n for n in inner if allows(outer, n)})


@dataclass(frozen=True)
class EffectiveTools:
    names: frozenset[str]
    refused: tuple[str, ...] = ()  # asked for by the call, not allowed by its agent type or workflow


def effective_tools(*, call: frozenset[str] | None = None, agent_type: frozenset[str] | None = None,
                    workflow: frozenset[str] | None = None, worktree: bool = False) -> EffectiveTools:
    """An agent's tools: every list that is given (the workflow's meta ``tools``, the agent type's
    ``tools``, the call's ``tools=``) narrows the others; with none, :data:`DEFAULT_TOOLS`. ``run_command``
    exists only in a worktree, where the default set includes it."""
    given = [layer for layer in (workflow, agent_type, call) if layer is not None]
    if not given:
        names = DEFAULT_TOOLS | ({RUN_COMMAND} if worktree else frozenset())
        return EffectiveTools(frozenset(names))
    names = reduce(narrow, given)
    refused: tuple[str, ...] = ()
    if call is not None:
        limits = [layer for layer in (workflow, agent_type) if layer is not None]
        if limits:
            allowed_by_limits = reduce(narrow, limits)
            refused = tuple(sorted(n for n in call if not allows(allowed_by_limits, n)
                                   and not (n == RUN_COMMAND and not worktree)))
    if not worktree:
        names = names - {RUN_COMMAND}
    return EffectiveTools(frozenset(names), refused)
