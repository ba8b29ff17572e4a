"""Command arguments: one JSON object per command, validated with pydantic.

Malformed arguments are answered with a JSON-RPC InvalidParams error that says what was wrong; a command
that cannot do what was asked raises :func:`failed` (RequestFailed) with the reason.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

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


class FixAllParams(RunIdParams):
    verify: bool = Field(True, description="check the fixes on a scratch copy first (false: workcrew.applyAllFixes)")


# -- approval details and Edit scope (server/approval_details.py) ---------------------------------------------

class ScopedTargetParams(TargetParams):
    """A workflow to run or estimate, optionally narrowed (the details panel's Edit scope): the files it is
    pointed at, minus ``exclude``, become its ``files`` argument, so a fresh estimate and approval follow."""

    exclude: list[Annotated[str, Field(min_length=1, max_length=1000)]] = Field(
        default_factory=list, max_length=10_000,
        description="gitignore-style patterns left out of the run's files (`/src/gen/`, `*.min.js`, `/a/b.py`)")
    scope: list[Annotated[str, Field(min_length=1, max_length=4096)]] | None = Field(
        None, max_length=100_000, description="workspace-relative files and folders to run on instead of the args' files")


class EstimateDetailsParams(ScopedTargetParams):
    all_files: bool = Field(False, alias="allFiles", description="list every file in scope, not only the top ones")


class ApprovalDetailsParams(Params):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    all_files: bool = Field(False, alias="allFiles", description="list every file in scope, not only the top ones")


# -- dismissals and project rules (server/dismissal.py, server/rule_commands.py) --------------------

DismissKind = Literal["false-positive", "intended", "wont-fix"]


class DismissParams(FindingParams):
    reason: DismissKind | None = Field(None, description="why; without one the server asks (showMessageRequest)")
    note: str | None = Field(None, max_length=2000, description="the user's words, kept with the reason and the rule")
    rule: bool | None = Field(None, description="teach a project rule (default: yes for false-positive and intended)")
    glob: str | None = Field(None, min_length=1, max_length=1000, description="where the rule applies (default: "
                                                                              "the finding's folder)")


class RuleIdParams(Params):
    id: str = Field(min_length=1, max_length=200)


class AddRuleParams(Params):
    kind: DismissKind
    text: str = Field(min_length=1, max_length=4000)
    glob: str = Field("**", min_length=1, max_length=1000)
    category: str | None = Field(None, max_length=200)
    matches: str | None = Field(None, max_length=500)


# -- review what changed (server/review_changes.py) -------------------------------------------------

class ReviewChangesParams(Params):
    base: str | None = Field(None, min_length=1, max_length=250,
                             description="a branch to compare with, from its merge-base with HEAD (default: the "
                                         "uncommitted changes)")
    uncommitted: bool = Field(False, description="the uncommitted changes: staged, unstaged and untracked files")

    @model_validator(mode="after")
    def _one_mode(self) -> ReviewChangesParams:
        if self.base and self.uncommitted:
            raise ValueError("give 'base' (a branch) or 'uncommitted: true', not both")
        return self
