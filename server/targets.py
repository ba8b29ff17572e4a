"""The workflow a command names: ``{name}`` or ``{path}`` (a path or a ``file:`` URI), resolved as ``workcrew
run`` resolves it (saved, built-in or a file), and refused with its problems when it cannot run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workcrew.engine import WorkcrewError, Workflow
from workcrew.engine.workflows.discovery import resolve

from .documents import path_of
from .params import TargetParams, failed

if TYPE_CHECKING:
    from .protocol import Server


def resolve_target(ls: Server, params: TargetParams, command: str) -> Workflow:
    settings = ls.require_settings()
    target = params.path or params.name or ""
    if params.path and params.path.startswith("file:"):
        file = path_of(params.path)
        if file is None:
            raise failed(f"{command}: {params.path!r} is not a file: URI")
        target = str(file)
    try:
        workflow = resolve(target, settings.workspace)
    except WorkcrewError as exc:
        raise failed(str(exc)) from None
    if workflow.problems:
        raise failed("the workflow has problems:\n" + "\n".join(str(p) for p in workflow.problems))
    return workflow
