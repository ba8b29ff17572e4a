"""The editor's side of a built-in's default scope: "Run Workflow" on ``review`` with no args reviews the
workspace's files in scope, as ``workcrew run review`` does (workcrew.engine.workspace.default_scope)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import anyio
from workcrew.engine import WorkcrewError, Workflow
from workcrew.engine.workspace.default_scope import default_args

from .params import failed

if TYPE_CHECKING:
    from .protocol import Server

log = logging.getLogger(__name__)


async def with_default_scope(ls: Server, workflow: Workflow, args: Any) -> tuple[Any, dict[str, Any] | None]:
    """(the args to run with, what the scope filled in or None); the scope is computed off the event loop."""
    settings = ls.require_settings()
    try:
        filled = await anyio.to_thread.run_sync(lambda: default_args(workflow, args, settings), limiter=ls.limiter)
    except WorkcrewError as exc:
        raise failed(str(exc)) from None
    if filled.note is not None:
        log.info("%s: %s", workflow.name, filled.note)
    return filled.args, filled.to_json()
