"""The files a built-in workflow works on when the run names none: the workspace's scope.

``workcrew run review`` with no ``--args`` (and the editor's "Run Workflow" with none) used to leave the
choice to a scout agent, which lists files by asking a model (and, on the simulated model, lists none).
The scope is known without a model: :func:`compute_scope` over the whole workspace (``.gitignore``, the
default excludes, secret, binary and oversized files left out). The CLI and the language server both call
:func:`default_args` before the estimate and the approval, so the approval shows the files and both get
the same default. The script still caps the list at its ``max_files`` (or ``max_modules``) and reports
every file past it as dropped; this module only chooses which files are candidates:

* ``review`` and ``understand`` get the source files (the scouts' own rule: program logic, no tests, docs
  or data), or every file in scope when there is no source file;
* ``skill-audit`` gets the files under ``.claude/skills/``.

Only the built-ins are filled in (a project workflow of the same name decides for itself), and only when
the args name no files (nor ``changes``, which review reads its files from).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..settings import Settings
from .scope import Scope, ScopeRequest, compute_scope

if TYPE_CHECKING:
    from ..workflows.workflow import Workflow

MAX_PASSED = 2000  # files passed in args at most: far past any built-in's max_files, small enough to store


@dataclass(frozen=True)
class Scoped:
    """How a built-in's files default to the scope: the argument, the arguments that replace it, what to pick."""

    key: str  # the argument filled in
    replaced_by: tuple[str, ...] = ()  # other arguments that name the files (review's ``changes``)
    sources_only: bool = True  # source files only (no tests, docs, data), unless there are none
    folder: str | None = None  # only this workspace folder (skill-audit's ``.claude/skills``)


SCOPED: dict[str, Scoped] = {
    "review": Scoped("files", ("changes",)),
    "understand": Scoped("modules"),
    "skill-audit": Scoped("paths", sources_only=False, folder=".claude/skills"),
}

_SOURCE_WORDS = """
py pyi pyx js jsx mjs cjs ts tsx mts cts vue svelte astro go rs java kt kts scala groovy c h cc cpp cxx hh hpp
hxx m mm cs fs fsx vb swift dart zig nim rb php pl pm lua r jl ex exs erl hrl hs elm clj cljs ml mli sql sh
bash zsh fish ps1 psm1 tf hcl nix sol
"""
SOURCE_SUFFIXES = frozenset(_SOURCE_WORDS.split())
_TEST = re.compile(r"(^|/)(tests?|__tests__|spec|specs|testing)/|(^|/)test_[^/]*$|_test\.[^/.]+$|"
                   r"\.(test|spec)\.[^/.]+$|(^|/)conftest\.py$")


@dataclass
class DefaultArgs:
    """The args to run with and, when the scope filled them in, what was filled in and from what."""

    args: Any
    key: str | None = None  # the argument filled in; None when the args were left as given
    files: list[str] = field(default_factory=list)  # the files passed
    in_scope: int = 0  # files in the scope it was computed over
    left_out: int = 0  # files in scope that are not candidates (tests, docs, data)
    not_passed: int = 0  # candidates past MAX_PASSED
    where: str = "the workspace"  # what the scope was computed over

    @property
    def note(self) -> str | None:
        """One line for the user: what the run works on and how to choose otherwise."""
        if self.key is None:
            return None
        if not self.files:
            return (f"no files given and none in scope for {self.key!r}: the workflow's scout agent will list them "
                    f"(pass --args '{{\"{self.key}\": [...]}}' to choose)")
        extra: list[str] = []
        if self.left_out:
            extra.append(f"{self.left_out:,} tests, docs and data files left out")
        if self.not_passed:
            extra.append(f"{self.not_passed:,} more past the first {MAX_PASSED:,} not passed")
        detail = f" ({'; '.join(extra)})" if extra else ""
        return (f"no files given, so {self.key} = {len(self.files):,} of the {self.in_scope:,} file(s) in scope in "
                f"{self.where}{detail}; past its limit the workflow reports the rest as dropped. "
                f"Pass --args '{{\"{self.key}\": [...]}}' to choose")

    def to_json(self) -> dict[str, Any] | None:
        if self.key is None:
            return None
        return {"key": self.key, "files": len(self.files), "in_scope": self.in_scope, "left_out": self.left_out,
                "not_passed": self.not_passed, "note": self.note}


def is_source(path: str) -> bool:
    """A file of program logic: a source suffix, not a test."""
    suffix = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    return suffix in SOURCE_SUFFIXES and not _TEST.search(path)


def needs_default(workflow: Workflow, args: Any) -> Scoped | None:
    """What to fill in for ``workflow`` run with ``args``, or None when the args already say (or it is not a
    built-in that works on files)."""
    scoped = SCOPED.get(workflow.name) if workflow.origin == "builtin" else None
    if scoped is None:
        return None
    if args is None or args == {}:
        return scoped
    if isinstance(args, dict) and not any(args.get(key) for key in (scoped.key, *scoped.replaced_by)):
        return scoped
    return None  # a list (the files themselves) or args that name the files


def default_args(workflow: Workflow, args: Any, settings: Settings) -> DefaultArgs:
    """``args`` with the built-in's files filled in from the workspace's scope when they name none.

    Computes the scope (reads the file tree; call it off an event loop). Raises what :func:`compute_scope`
    raises (a workspace that is not a folder)."""
    scoped = needs_default(workflow, args)
    if scoped is None:
        return DefaultArgs(args)
    request = ScopeRequest(settings.workspace)
    if scoped.folder is not None:
        folder = settings.workspace / scoped.folder
        if not folder.is_dir():
            return DefaultArgs(args, scoped.key)  # nothing there: the script's scout decides
        request = ScopeRequest(settings.workspace, paths=[folder])
    scope = compute_scope(request, settings)
    return fill(scoped, args, scope)


def fill(scoped: Scoped, args: Any, scope: Scope) -> DefaultArgs:
    """The args with ``scoped.key`` set to the candidates in ``scope`` (see the module docstring)."""
    paths = scope.paths
    candidates = [p for p in paths if is_source(p)] if scoped.sources_only else list(paths)
    if not candidates:
        candidates = list(paths)  # a workspace with no source files: review what there is
    passed = candidates[:MAX_PASSED]
    result = DefaultArgs(args, scoped.key, passed, len(paths), len(paths) - len(candidates),
                         len(candidates) - len(passed), f"{scoped.folder}/" if scoped.folder else "the workspace")
    if passed:
        result.args = {**(args if isinstance(args, dict) else {}), scoped.key: passed}
    return result


__all__ = ["SCOPED", "DefaultArgs", "Scoped", "default_args", "fill", "is_source", "needs_default"]
