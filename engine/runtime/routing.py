"""Which model an agent runs on, and which role it plays (for routing and cost priors)."""

from __future__ import annotations

import re

from ..cost.pricing import resolve_model
from ..settings import WORKFLOW_ROLES as ROLES
from ..settings import Settings
from ..workflows.meta import WorkflowMeta

_PHASE_WORDS = {
    "finder": ("find", "scan", "discover", "search", "sweep", "read", "understand", "audit", "scope", "map"),
    "verifier": ("verif", "refut", "review", "check", "judge", "vote", "skeptic", "validat"),
    "fixer": ("fix", "patch", "transform", "migrat", "implement", "repair", "edit"),
    "synthesizer": ("report", "synth", "summar", "merge", "combine", "final"),
}


# one regex per role: the same matches as testing each word, at a fraction of the cost per agent
_ROLE_PATTERNS = {role: re.compile("|".join(map(re.escape, words))) for role, words in _PHASE_WORDS.items()}


def infer_role(agent_type: str | None, phase: str | None, label: str | None) -> str | None:
    if agent_type in ROLES:
        return agent_type
    for text in (phase, label, agent_type):
        lowered = (text or "").lower()
        if not lowered:
            continue
        for role, pattern in _ROLE_PATTERNS.items():
            if pattern.search(lowered):
                return role
    return None


def route_model(
    settings: Settings,
    meta: WorkflowMeta | None,
    *,
    explicit: str | None,
    phase: str | None,
    role: str | None,
    phase_model: str | None = None,
    type_model: str | None = None,
) -> str:
    """agent(model=) > the agent type's model > meta.phases[].model > phase(title, {model}) > settings phase
    model > meta.model > settings role model > default."""
    if explicit:
        return resolve_model(explicit)
    if type_model:
        return resolve_model(type_model)
    if meta is not None and meta.phase_model(phase):
        return resolve_model(str(meta.phase_model(phase)))
    if phase_model:
        return resolve_model(phase_model)
    if phase and phase in settings.models.phases:
        return resolve_model(settings.models.phases[phase])
    if meta is not None and meta.model:
        return resolve_model(meta.model)
    if settings.provider == "simulated" and settings.models.default == "simulated":
        return "simulated"
    return resolve_model(settings.models.for_role(role))
