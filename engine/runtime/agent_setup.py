"""What one ``agent()`` call gets before it runs: its agent type, tools, skills and extra instructions.

The run loads the workspace's agent types and skills once (:func:`catalog_of`); each call resolves its
``agent_type`` (an unknown or broken type raises here, before anything is launched), computes its
effective tools from the call's ``tools=``, the type's ``tools`` and the workflow's meta ``tools``
(``tool_names.effective_tools``), restricts its skills by the meta's and the type's ``skills``, and
writes the system prompt's additions: the type's instructions, the list of skills and the project's review
rules (``project_rules.py``; their section's digest is part of the call key, so an agent run before a rule
was added is not reused).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..agents.catalog import AgentCatalog
from ..agents.definitions import AgentType
from ..agents.skills import Skills
from ..tool_names import LOAD_SKILL, effective_tools, tool_list
from ..workflows.meta import WorkflowMeta
from .project_rules import rules_prompt
from .state import RunState

NO_SKILLS = Skills()


@dataclass(frozen=True)
class AgentSetup:
    agent_type: AgentType | None
    tools: frozenset[str]
    skills: Skills
    system_extra: str
    rules_digest: str = ""  # of the "Project review rules" section it is shown ("" without rules)

    @property
    def model(self) -> str | None:
        """The agent type's model (None: routing decides)."""
        return self.agent_type.model if self.agent_type is not None else None

    @property
    def definition_digest(self) -> str:
        return self.agent_type.digest if self.agent_type is not None else ""


def catalog_of(state: RunState) -> AgentCatalog:
    """The run's agent types and skills (a run loads them in a worker thread before its script starts;
    a dry run here, on first use)."""
    if state.catalog is None:
        state.catalog = AgentCatalog.load(state.settings.workspace)
    return state.catalog


def setup_agent(state: RunState, meta: WorkflowMeta | None, *, agent_type: Any, tools: Any,
                isolation: str | None, prompt: str = "") -> AgentSetup:
    """Raises UnknownAgentType / AgentDefinitionError for the type, ValueError or TypeError for ``tools``."""
    catalog = catalog_of(state)
    kind = catalog.agent_types.resolve(agent_type) if agent_type is not None else None
    if kind is not None and kind.left_out_tools:
        state.warn_once(f"agent type tools {kind.name}",
                        f"agent type {kind.name!r} ({kind.path}) lists {', '.join(kind.left_out_tools)}, which Workcrew "
                        "does not have; its agents run without them")
    call_tools = None
    if tools is not None:
        try:
            listed = tool_list(tools)
        except ValueError as exc:
            raise ValueError(f"agent(tools=…): {exc}") from None
        call_tools = listed.names
        if listed.left_out:
            state.warn_once(f"call tools {listed.left_out}", f"agent(tools=…) lists {', '.join(listed.left_out)}, "
                                                             "which Workcrew does not have; left out")
    workflow_tools = tool_list(meta.tools).names if meta is not None and meta.tools is not None else None
    chosen = effective_tools(call=call_tools, agent_type=kind.allowed_tools if kind is not None else None,
                             workflow=workflow_tools, worktree=isolation == "worktree")
    if chosen.refused:
        limits = [f"agent type {kind.name!r}"] if kind is not None and kind.allowed_tools is not None else []
        limits += ["the workflow's meta tools"] if workflow_tools is not None else []
        state.warn_once(f"refused tools {chosen.refused} {agent_type}",
                        f"agent(tools=…) asks for {', '.join(chosen.refused)}, which {' and '.join(limits)} do not "
                        "allow; left out")
    skills = _skills(state, catalog, meta, kind) if LOAD_SKILL in chosen.names else NO_SKILLS
    rules, rules_digest = rules_prompt(state, prompt)
    extra = "\n\n".join(part for part in (_instructions(kind, skills), rules) if part)
    return AgentSetup(kind, chosen.names, skills, extra, rules_digest)


def _skills(state: RunState, catalog: AgentCatalog, meta: WorkflowMeta | None, kind: AgentType | None) -> Skills:
    """Every skill, or those both the workflow's meta ``skills`` and the agent type's ``skills`` name."""
    skills = catalog.skills
    restrictions: list[tuple[Sequence[str], str]] = []
    if meta is not None and meta.skills is not None:
        restrictions.append((meta.skills, "the workflow's meta skills"))
    if kind is not None and kind.skills is not None:
        restrictions.append((kind.skills, f"agent type {kind.name!r} (skills: {', '.join(kind.skills)})"))
    for names, whose in restrictions:
        missing = [name for name in names if name not in catalog.skills.by_name]
        if missing:
            state.warn_once(f"missing skills {whose} {missing}", f"{whose} names {', '.join(missing)}, which no "
                            ".claude/skills/NAME/SKILL.md (project or ~/.claude) defines; left out")
        skills, _ = skills.only(names)
    if len(restrictions) == 2 and not skills and all(restriction for restriction, _ in restrictions):
        state.warn_once(f"no common skills {kind.name if kind else ''}",
                        f"{restrictions[1][1]} and {restrictions[0][1]} have no skill in common; its agents get none")
    return skills


def _instructions(kind: AgentType | None, skills: Skills) -> str:
    parts = []
    if kind is not None and kind.prompt:
        parts.append(f"You act as the agent type {kind.name!r} ({kind.origin} definition). Its instructions follow; "
                     "the rules above about your final answer still hold.\n\n" + kind.prompt)
    if skills.prompt_section:
        parts.append(skills.prompt_section)
    return "\n\n".join(parts)
