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
        server.command(name)(_bind(server, handler))


def _bind(server: Server, handler: Any) -> Any:
    # pygls unpacks the command's arguments into the handler's parameters: take them all, check them here
    async def command(*args: Any) -> Any:
        return await handler(server, *args)

    command.__name__ = handler.__name__
    return command
