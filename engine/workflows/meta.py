"""The ``meta`` literal every workflow starts with, shared by both dialects."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..tool_names import tool_list


class PhaseMeta(BaseModel):
    # keys Claude Code does not know either are warnings (validate_meta), not errors: scripts written for a
    # newer version, or with notes of their own, still run
    model_config = ConfigDict(extra="ignore")

    title: str = Field(min_length=1)
    detail: str | None = None
    model: str | None = None


class WorkflowMeta(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
    description: str = Field(min_length=1)
    when_to_use: str | None = Field(None, alias="whenToUse")
    title: str | None = None
    phases: list[PhaseMeta] = Field(default_factory=list)
    args: dict[str, Any] | None = Field(None, description="documented arguments: name -> description")
    model: str | None = None
    # Workcrew's own keys: what this workflow's agents may use (each agent type and call narrows further)
    tools: list[str] | None = Field(None, description="tool names, Claude Code's (Read, Grep, WebSearch, "
                                                      "mcp__SERVER…) or Workcrew's; default: the workspace tools")
    skills: list[str] | None = Field(None, description="the skills agents are shown; default: every skill")
    check: str | list[str] | None = Field(
        None, description="the command that judges this workflow's fixes before the editor applies them (Apply and "
        "verify, Fix all), e.g. \"python -m pytest -q\"; it must be in command_allowlist")

    @field_validator("tools")
    @classmethod
    def _known_tools(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            tool_list(value)  # ValueError names the unknown tool and the accepted names
        return value

    @field_validator("description")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\n" in value.strip():
            raise ValueError("must be one line")
        return value.strip()

    def phase_model(self, title: str | None) -> str | None:
        for phase in self.phases:
            if phase.title == title:
                return phase.model
        return None


def _known_keys(model: type[BaseModel]) -> set[str]:
    return {key for name, field in model.model_fields.items() for key in (name, field.alias) if key}


def unknown_meta_keys(data: dict[str, Any]) -> list[str]:
    """The keys of a meta literal Workcrew does not use, as dotted paths (``version``, ``phases.0.icon``)."""
    known = _known_keys(WorkflowMeta)
    unknown = [str(key) for key in data if key not in known]
    phases = data.get("phases")
    if isinstance(phases, list):
        phase_keys = _known_keys(PhaseMeta)
        for index, phase in enumerate(phases):
            if isinstance(phase, dict):
                unknown += [f"phases.{index}.{key}" for key in phase if key not in phase_keys]
    return unknown


def validate_meta(data: Any) -> tuple[WorkflowMeta | None, list[str], list[str]]:
    """(meta, errors, warnings): errors like ``["field: problem"]`` (meta is None then); warnings name the
    keys that were ignored."""
    if not isinstance(data, dict):
        return None, [f"meta must be a dict literal, not {type(data).__name__}"], []
    warnings = [f"meta key {key!r} is not used by Workcrew and was ignored" for key in unknown_meta_keys(data)]
    try:
        return WorkflowMeta.model_validate(data), [], warnings
    except ValidationError as exc:
        errors = [f"{'.'.join(str(p) for p in e['loc']) or 'meta'}: {e['msg']}" for e in exc.errors()]
        return None, errors, warnings
