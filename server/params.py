"""Command arguments: one JSON object per command, validated with pydantic.

Malformed arguments are answered with a JSON-RPC InvalidParams error that says what was wrong; a command
that cannot do what was asked raises :func:`failed` (RequestFailed) with the reason.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from .code_actions import REQUEST_FAILED


class Params(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


# -- text the user cannot mean: ids, names and paths that no file system or run store takes ------------------

RUN_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


def _run_id(value: str) -> str:
    if not 1 <= len(value) <= 64 or not RUN_ID_CHARS.issuperset(value):
        raise ValueError("must be a run id like wf_3f2a9c81b0d4 (letters, digits, '_', '-' and '.'; at most "
                         "64 characters), as workcrew.listRuns gives it")
    return value


def _plain(value: str) -> str:
    """No NUL (no path or store takes one) and no unpaired surrogate (not text: JSON's \\ud800 alone)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (it holds an unpaired surrogate)") from None
    return value


RunId = Annotated[str, AfterValidator(_run_id)]
Plain = AfterValidator(_plain)
Name = Annotated[str, Field(min_length=1, max_length=200), Plain]  # a workflow's name
PathText = Annotated[str, Field(min_length=1, max_length=8192), Plain]  # a path or a file: URI


class LspPosition(Params):
    line: int = Field(ge=0)
    character: int = Field(ge=0)


class LspRange(Params):
    start: LspPosition
    end: LspPosition


class CreateParams(Params):
    prompt: Annotated[str, Field(min_length=1, max_length=100_000), Plain]
    uri: PathText | None = None
    range: LspRange | None = None
    uris: list[PathText] = Field(default_factory=list, max_length=100_000,
                                 description="explorer selection: files and folders")
    open_editors: list[PathText] = Field(default_factory=list, alias="openEditors", max_length=10_000)
    whole_workspace: bool = Field(False, alias="wholeWorkspace")
    name: Name | None = None


class TargetParams(Params):
    name: Name | None = None
    path: PathText | None = None
    args: Any = None

    @model_validator(mode="after")
    def _one_target(self) -> TargetParams:
        if not (self.name or self.path):
            raise ValueError("give the workflow's 'name' or its 'path'")
        return self


class RunIdParams(Params):
    run_id: RunId = Field(alias="runId", description="exactly as the server gave it: no prefix, no pattern")


class ResumeParams(RunIdParams):
    force: bool = Field(False, description="resume from a run still marked running (its process is gone)")


class FindingParams(Params):
    finding_id: Annotated[str, Field(min_length=1, max_length=200), Plain] = Field(alias="findingId")


class ListRunsParams(Params):
    limit: int = Field(50, ge=1, le=1000)


P = TypeVar("P", bound=Params)


def parse(model: type[P], command: str, args: tuple[Any, ...]) -> P:
    """The command's one argument object, validated; InvalidParams with the reasons otherwise."""
    raw = args[0] if args else {}
    if not isinstance(raw, dict):
        raise JsonRpcInvalidParams(f"{command} takes one object argument, not {json_kind(raw)}")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        reasons = "; ".join(_reason(error) for error in exc.errors(include_url=False, include_input=False)[:10])
    raise JsonRpcInvalidParams(f"{command}: invalid arguments: {reasons}")  # outside except: holds no arguments


def json_kind(value: Any) -> str:
    """What a JSON value is, in JSON's words (the editor's user never wrote Python)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    kinds = {str: "a string", int: "a number", float: "a number", list: "an array", dict: "an object"}
    return next((name for kind, name in kinds.items() if isinstance(value, kind)), "a value of another kind")


def _reason(error: Any) -> str:
    """``field: what is wrong`` without pydantic's wording of our own checks (\"Value error, \")."""
    where = ".".join(str(part)[:100] for part in error["loc"]) or "arguments"
    return f"{where}: {str(error['msg']).removeprefix('Value error, ')}"


def failed(message: str) -> JsonRpcException:
    return JsonRpcException(message, code=REQUEST_FAILED)


class FixAllParams(RunIdParams):
    verify: bool = Field(True, description="check the fixes on a scratch copy first (false: workcrew.applyAllFixes)")


# -- approval details and Edit scope (server/approval_details.py) ---------------------------------------------

class ScopedTargetParams(TargetParams):
    """A workflow to run or estimate, optionally narrowed (the details panel's Edit scope): the files it is
    pointed at, minus ``exclude``, become its ``files`` argument, so a fresh estimate and approval follow."""

    exclude: list[Annotated[str, Field(min_length=1, max_length=1000), Plain]] = Field(
        default_factory=list, max_length=10_000,
        description="gitignore-style patterns left out of the run's files (`/src/gen/`, `*.min.js`, `/a/b.py`)")
    scope: list[Annotated[str, Field(min_length=1, max_length=4096), Plain]] | None = Field(
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
    note: Annotated[str, Field(max_length=2000), Plain] | None = Field(None, description="the user's words, kept with the reason and the rule")
    rule: bool | None = Field(None, description="teach a project rule (default: yes for false-positive and intended)")
    glob: Annotated[str, Field(min_length=1, max_length=1000), Plain] | None = Field(None, description="where the rule applies (default: "
                                                                              "the finding's folder)")


class RuleIdParams(Params):
    id: Annotated[str, Field(min_length=1, max_length=200), Plain]


class AddRuleParams(Params):
    kind: DismissKind
    text: Annotated[str, Field(min_length=1, max_length=4000), Plain]
    glob: Annotated[str, Field(min_length=1, max_length=1000), Plain] = "**"
    category: Annotated[str, Field(max_length=200), Plain] | None = None
    matches: Annotated[str, Field(max_length=500), Plain] | None = None


# -- review what changed (server/review_changes.py) -------------------------------------------------

class ReviewChangesParams(Params):
    base: Annotated[str, Field(min_length=1, max_length=250), Plain] | None = Field(None,
                             description="a branch to compare with, from its merge-base with HEAD (default: the "
                                         "uncommitted changes)")
    uncommitted: bool = Field(False, description="the uncommitted changes: staged, unstaged and untracked files")

    @model_validator(mode="after")
    def _one_mode(self) -> ReviewChangesParams:
        if self.base and self.uncommitted:
            raise ValueError("give 'base' (a branch) or 'uncommitted: true', not both")
        return self
