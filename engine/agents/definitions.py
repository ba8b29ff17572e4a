"""Agent types: the built-in ones and Claude Code's subagent definitions, by name.

``agent(..., agent_type="x")`` uses the definition Claude Code uses: ``.claude/agents/x.md`` in the project
(from the workspace up to the repository root, the closest winning), then ``~/.claude/agents/x.md``, and
``plugin:x`` from an installed plugin (``plugins.py``). A definition is YAML front matter — ``name``,
``description``, ``tools`` (a list or a comma-separated string of Claude Code's tool names),
``disallowedTools``, ``model`` (``sonnet``, ``opus``, ``haiku``, ``inherit`` or a model id of the price
table) and ``skills`` — and a Markdown body: the agent's instructions, added to Workcrew's system prompt.
Other keys Claude Code knows (``color``, ``permissionMode``, ``mcpServers``…) are kept, not used here.

A definition that cannot be used is kept with its error (``path:line: problem``) and raised only by a
call that names it, so a broken file never fails the runs that do not use it. Parsed files are cached by
path, size and modification time: an edit is seen by the next run, an unchanged file is never re-read.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..cost.pricing import price_of, resolve_model
from ..errors import AgentDefinitionError, UnknownAgentType, UnknownModel
from ..tool_names import DEFAULT_TOOLS, LOAD_SKILL, READ_ONLY_TOOLS, RUN_COMMAND, split_tool_names, tool_list
from .claude_config import home_folder, inside_project, project_folders
from .frontmatter import FrontMatter, FrontMatterError, parse_front_matter, read_markdown
from .plugins import installed_plugins

# names scripts use without a file: Claude Code's built-in subagents and Workcrew's roles (routing, cost priors)
BUILTIN_TYPES: dict[str, tuple[str, frozenset[str] | None]] = {
    "general-purpose": ("Claude Code's general agent: the default tools", None),
    "workflow-subagent": ("a workflow's agent: the default tools", None),
    "Explore": ("Claude Code's read-only explorer: reads, lists, globs and greps", READ_ONLY_TOOLS | {LOAD_SKILL}),
    "Plan": ("Claude Code's read-only planner: reads, lists, globs and greps", READ_ONLY_TOOLS | {LOAD_SKILL}),
    "finder": ("role: looks for candidates (models.finder)", None),
    "verifier": ("role: tries to refute a claim (models.verifier)", None),
    "fixer": ("role: changes code (models.fixer)", None),
    "synthesizer": ("role: merges results (models.synthesizer)", None),
}
ORIGINS = ("built-in", "plugin", "user", "project")  # lowest precedence first


@dataclass(frozen=True)
class AgentType:
    name: str
    origin: str  # one of ORIGINS
    description: str = ""
    path: Path | None = None
    prompt: str = ""  # the definition's Markdown body
    tools: frozenset[str] | None = None  # None: not narrowed
    disallowed: frozenset[str] = frozenset()
    model: str | None = None  # a priced model id; None: routing decides (``inherit``)
    model_alias: str | None = None  # as written (``sonnet``)
    skills: tuple[str, ...] | None = None  # None: every skill
    left_out_tools: tuple[str, ...] = ()  # Claude Code tools it lists that Workcrew does not have
    digest: str = ""  # sha256 of the definition file ("" for built-ins)
    front_matter: Mapping[str, Any] = field(default_factory=dict)

    @property
    def allowed_tools(self) -> frozenset[str] | None:
        """What this type allows (its ``tools`` less ``disallowedTools``); None: it does not narrow."""
        if self.tools is None and not self.disallowed:
            return None
        base = self.tools if self.tools is not None else DEFAULT_TOOLS | {RUN_COMMAND}
        return base - self.disallowed


@dataclass(frozen=True)
class BrokenAgentType:
    name: str
    origin: str
    path: Path
    error: str  # path:line: problem


AnyAgentType = AgentType | BrokenAgentType


class AgentTypes:
    """Every agent type visible from a workspace, the winner per name."""

    def __init__(self, found: list[AnyAgentType]) -> None:
        self.by_name: dict[str, AnyAgentType] = {}
        self.overrides: list[str] = []  # "project 'x' (path) overrides the user one" notes
        for kind in found:  # lowest precedence first: later ones win
            previous = self.by_name.get(kind.name)
            if previous is not None:
                where = f" at {previous.path}" if getattr(previous, "path", None) else ""
                self.overrides.append(f"the {kind.origin} agent type {kind.name!r} ({kind.path}) overrides the "
                                      f"{previous.origin} one{where}")
            self.by_name[kind.name] = kind

    def names(self) -> list[str]:
        return sorted(self.by_name, key=str.lower)

    def listing(self) -> list[AnyAgentType]:
        return [self.by_name[name] for name in self.names()]

    def resolve(self, name: str) -> AgentType:
        """The type called ``name``; UnknownAgentType (listing the known ones) or AgentDefinitionError."""
        if not isinstance(name, str) or not name.strip():
            raise TypeError(f"agent_type must be a non-empty string, not {name!r}")
        kind = self.by_name.get(name)
        if isinstance(kind, AgentType):
            return kind
        if isinstance(kind, BrokenAgentType):
            raise AgentDefinitionError(f"agent type {name!r} cannot be used: {kind.error}")
        known = ", ".join(n for n in self.names() if isinstance(self.by_name[n], AgentType))
        if ":" in name:
            plugin, _, agent = name.partition(":")
            where = (f"no installed Claude Code plugin {plugin!r} defines an agent {agent!r} (plugins are read from "
                     "~/.claude/plugins/installed_plugins.json)")
        else:
            where = (f"no .claude/agents/{name}.md in the project (from the workspace up to the repository root) "
                     f"or in ~/.claude/agents/")
        raise UnknownAgentType(f"unknown agent type {name!r}: {where}. Known types: {known}. Define it in "
                               f".claude/agents/{name.split(':')[-1]}.md (front matter: name, description, tools, "
                               "model; the body is its instructions) or use a known type")


def load_agent_types(workspace: Path, home: Path | None = None) -> AgentTypes:
    """Built-in < plugin < user (``~/.claude/agents``) < project (farthest first, so the closest wins)."""
    found: list[AnyAgentType] = [AgentType(name, "built-in", about, tools=tools)
                                 for name, (about, tools) in BUILTIN_TYPES.items()]
    for plugin in installed_plugins(workspace, home):
        found += [_load(path, "plugin", plugin.name) for path in plugin.agent_files()]
    found += _folder(home_folder(home) / "agents", "user")
    for folder in reversed(project_folders(workspace, "agents", home)):
        found += _folder(folder, "project")
    return AgentTypes(found)


def _folder(folder: Path, origin: str) -> list[AnyAgentType]:
    try:
        files = sorted(p for p in folder.glob("*.md") if p.is_file() and not p.name.startswith("."))
    except OSError:
        return []
    return [_load(path, origin) if origin != "project" or inside_project(path, folder) else
            BrokenAgentType(path.stem, origin, path, f"{path}: a link that points outside the project; refused")
            for path in files]


def _load(path: Path, origin: str, plugin: str = "") -> AnyAgentType:
    try:
        info = path.stat()
    except OSError as exc:
        return BrokenAgentType(_named(plugin, path.stem), origin, path, f"{path}: cannot be read ({exc.strerror})")
    return _parse_cached(path, origin, plugin, info.st_mtime_ns, info.st_size)


def _named(plugin: str, name: str) -> str:
    return f"{plugin}:{name}" if plugin else name


@functools.lru_cache(maxsize=2048)
def _parse_cached(path: Path, origin: str, plugin: str, mtime_ns: int, size: int) -> AnyAgentType:
    # mtime and size are part of the key: an edited file is parsed again, an unchanged one never
    name = _named(plugin, path.stem)
    try:
        text = read_markdown(path)
        front = parse_front_matter(text, path)
        name = _named(plugin, _name_of(front, path))
        return _definition(front, path, origin, name, hashlib.sha256(text.encode("utf-8")).hexdigest())
    except FrontMatterError as exc:
        return BrokenAgentType(name, origin, path, str(exc))
    except OSError as exc:
        return BrokenAgentType(name, origin, path, f"{path}: cannot be read ({exc.strerror})")


def _name_of(front: FrontMatter, path: Path) -> str:
    name = front.data.get("name", path.stem)
    if not isinstance(name, str) or not name.strip() or any(c.isspace() or c in ":/\\" for c in name.strip()):
        raise FrontMatterError(path, front.line_of("name"), f"name must be one word (letters, digits, '-'), not "
                                                            f"{name!r}")
    return name.strip()


def _definition(front: FrontMatter, path: Path, origin: str, name: str, digest: str) -> AgentType:
    data = front.data
    description = data.get("description")
    if not isinstance(description, str) or not description.strip():
        raise FrontMatterError(path, front.line_of("description"),
                               "no description: add `description: when to use this agent` to the front matter")
    tools, left_out = _tools(front, path, "tools")
    disallowed, _ = _tools(front, path, "disallowedTools")
    model, alias = _model(front, path)
    skills = data.get("skills")
    if skills is not None:
        try:
            skills = tuple(split_tool_names(skills))  # the same shapes: a list, or a comma-separated string
        except ValueError:
            raise FrontMatterError(path, front.line_of("skills"), "skills must be a list of skill names") from None
    return AgentType(name, origin, " ".join(description.split()), path, front.body.strip(), tools,
                     disallowed or frozenset(), model, alias, skills, left_out, digest, dict(data))


def _tools(front: FrontMatter, path: Path, key: str) -> tuple[frozenset[str] | None, tuple[str, ...]]:
    value = front.data.get(key)
    if value is None:
        return None, ()
    try:
        names = split_tool_names(value)
    except ValueError as exc:
        raise FrontMatterError(path, front.line_of(key), f"{key}: {exc}") from None
    for index, item in enumerate(names):
        try:
            tool_list([item])
        except ValueError as exc:
            line = front.line_of(key, index if isinstance(value, list) else None)
            raise FrontMatterError(path, line, f"{key}: {exc}") from None
    parsed = tool_list(names)
    return parsed.names, parsed.left_out


def _model(front: FrontMatter, path: Path) -> tuple[str | None, str | None]:
    value = front.data.get("model")
    if value is None:
        return None, None
    if not isinstance(value, str) or not value.strip():
        raise FrontMatterError(path, front.line_of("model"), "model must be sonnet, opus, haiku, inherit or a model id")
    alias = value.strip()
    if alias == "inherit":
        return None, alias
    try:
        price_of(alias)
    except UnknownModel as exc:
        raise FrontMatterError(path, front.line_of("model"), f"model: {exc}") from None
    return resolve_model(alias), alias
