"""The ``meta`` literal every workflow starts with, shared by both dialects."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class PhaseMeta(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1)
    detail: str | None = None
    model: str | None = None


class WorkflowMeta(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
    description: str = Field(min_length=1)
    when_to_use: str | None = Field(None, alias="whenToUse")
    title: str | None = None
    phases: list[PhaseMeta] = Field(default_factory=list)
    args: dict[str, Any] | None = Field(None, description="documented arguments: name -> description")
    model: str | None = None

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


def validate_meta(data: Any) -> tuple[WorkflowMeta | None, list[str]]:
    """(meta, []) or (None, ["field: problem", ...])."""
    if not isinstance(data, dict):
        return None, [f"meta must be a dict literal, not {type(data).__name__}"]
    try:
        return WorkflowMeta.model_validate(data), []
    except ValidationError as exc:
        return None, [f"{'.'.join(str(p) for p in e['loc']) or 'meta'}: {e['msg']}" for e in exc.errors()]
