"""The CLI's side of a built-in's default scope: fill the files in before the estimate, and say so."""

from __future__ import annotations

from typing import Any

import click

from ..errors import WorkcrewError
from ..settings import Settings
from ..workflows.workflow import Workflow
from ..workspace.default_scope import default_args
from .common import fail


def with_default_scope(workflow: Workflow, args: Any, settings: Settings, *, quiet: bool) -> Any:
    """``args``, or the built-in's files from the workspace's scope when they name none (told on stderr)."""
    try:
        filled = default_args(workflow, args, settings)
    except WorkcrewError as exc:
        fail(str(exc))
    if filled.note is not None and not quiet:
        click.echo(f"{workflow.name}: {filled.note}", err=True)
    return filled.args
