"""What agents can be made of in one workspace: its agent types and skills, loaded once per run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .definitions import AgentType, AgentTypes, BrokenAgentType, load_agent_types
from .skills import Skills, load_skills


@dataclass(frozen=True)
class AgentCatalog:
    agent_types: AgentTypes
    skills: Skills

    @classmethod
    def load(cls, workspace: Path, home: Path | None = None) -> AgentCatalog:
        """Scan the project's and the user's ``.claude`` folders and the installed plugins (blocking: a
        worker thread in a run). Files are parsed once per version (see ``definitions.py``)."""
        return cls(load_agent_types(workspace, home), load_skills(workspace, home))

    def describe(self) -> dict[str, Any]:
        """Agent types and skills as ``workcrew list --agents --json`` and the editor show them."""
        types: list[dict[str, Any]] = []
        for kind in self.agent_types.listing():
            if isinstance(kind, BrokenAgentType):
                types.append({"name": kind.name, "origin": kind.origin, "path": str(kind.path), "error": kind.error})
                continue
            types.append(_type_view(kind))
        skills = [{"name": s.name, "origin": s.origin, "path": str(s.path), "description": s.description}
                  for s in (self.skills.by_name[n] for n in self.skills.names())]
        return {"agent_types": types, "skills": skills, "problems": [*self.skills.problems],
                "notes": list(self.agent_types.overrides)}


def _type_view(kind: AgentType) -> dict[str, Any]:
    allowed = kind.allowed_tools
    return {
        "name": kind.name, "origin": kind.origin, "path": str(kind.path) if kind.path else None,
        "description": kind.description, "model": kind.model_alias or None,
        "tools": sorted(allowed) if allowed is not None else None,
        "skills": list(kind.skills) if kind.skills is not None else None,
        "ignored_tools": list(kind.left_out_tools),
    }
