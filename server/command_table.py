"""Every ``workspace/executeCommand`` handler, by id, and their registration (one module per concern)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from . import (
    approval_details,
    commands,
    dismissal,
    finding_commands,
    fix_commands,
    review_changes,
    rule_commands,
)
from .command_guard import guarded

if TYPE_CHECKING:
    from .protocol import Server

Handler = Callable[..., Awaitable[Any]]

TABLES: tuple[Mapping[str, Handler], ...] = (
    commands.COMMANDS,
    finding_commands.COMMANDS,
    fix_commands.COMMANDS,
    approval_details.COMMANDS,
    dismissal.COMMANDS,
    rule_commands.COMMANDS,
    review_changes.COMMANDS,
)


def all_commands() -> dict[str, Handler]:
    merged: dict[str, Handler] = {}
    for table in TABLES:
        for name, handler in table.items():
            if name in merged:
                raise RuntimeError(f"command {name} is registered twice")
            merged[name] = handler
    return merged


def register(server: Server) -> None:
    """Attach every command to the server (ids are advertised in executeCommandProvider)."""
    for name, handler in all_commands().items():
        # pygls unpacks the command's arguments into the handler's parameters: the guard takes them all and
        # checks their size and nesting before the handler parses them (command_guard.py)
        server.command(name)(guarded(server, name, handler))
