"""Command arguments: one JSON object per command, validated with pydantic.

Malformed arguments are answered with a JSON-RPC InvalidParams error that says what was wrong; a command
that cannot do what was asked raises :func:`failed` (RequestFailed) with the reason.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from .code_actions import REQUEST_FAILED


class Params(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class LspPosition(Params):
    line: int = Field(ge=0)
    character: int = Field(ge=0)


class LspRange(Params):
    start: LspPosition
    end: LspPosition


class CreateParams(Params):
    prompt: str = Field(min_length=1)
    uri: str | None = None
    range: LspRange | None = None
    uris: list[str] = Field(default_factory=list, description="explorer selection: files and folders")
    open_editors: list[str] = Field(default_factory=list, alias="openEditors")
    whole_workspace: bool = Field(False, alias="wholeWorkspace")
    name: str | None = None


class TargetParams(Params):
    name: str | None = None
    path: str | None = None
    args: Any = None

    @model_validator(mode="after")
    def _one_target(self) -> TargetParams:
        if not (self.name or self.path):
            raise ValueError("give the workflow's 'name' or its 'path'")
        return self


class RunIdParams(Params):
    run_id: str = Field(alias="runId", min_length=1)


class ResumeParams(RunIdParams):
    force: bool = Field(False, description="resume from a run still marked running (its process is gone)")


class FindingParams(Params):
    finding_id: str = Field(alias="findingId", min_length=1)


class ListRunsParams(Params):
    limit: int = Field(50, ge=1, le=1000)


P = TypeVar("P", bound=Params)


def parse(model: type[P], command: str, args: tuple[Any, ...]) -> P:
    """The command's one argument object, validated; InvalidParams with the reasons otherwise."""
    raw = args[0] if args else {}
    if not isinstance(raw, dict):
        raise JsonRpcInvalidParams(f"{command} takes one object argument, not {type(raw).__name__}")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        reasons = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors())
        raise JsonRpcInvalidParams(f"{command}: invalid arguments: {reasons}") from None


def failed(message: str) -> JsonRpcException:
    return JsonRpcException(message, code=REQUEST_FAILED)
