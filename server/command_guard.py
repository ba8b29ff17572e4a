"""The one gate every ``workcrew.*`` command passes: its arguments' size and nesting checked before any work,
and whatever goes wrong answered with a message a person can act on, never a Python exception's text.

A command's own errors (InvalidParams, RequestFailed) pass through, shortened if they echo a long value. Any
other exception is a bug: its traceback goes to the log and the editor is told where to find it. Errors are
raised afresh, outside the ``except`` block and with the arguments dropped, so that no error the server keeps
while it answers refers to the request's arguments (a 2 MB argument must not outlive its request).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from .limits import SETTING, ServerLimits

if TYPE_CHECKING:
    from .protocol import Server

log = logging.getLogger(__name__)

INTERNAL_ERROR = -32603
MAX_MESSAGE = 2000  # characters of an error message: enough for any reason, never a whole argument echoed back
LOG_HINT = "see the Workcrew log (View → Output → Workcrew)"

Handler = Callable[..., Awaitable[Any]]


def argument_problem(args: tuple[Any, ...], command: str, limits: ServerLimits) -> str | None:
    """Why ``args`` are refused before the command sees them, or None. Walks them without recursion (a deeply
    nested value must not exhaust the stack) and stops as soon as a limit is passed."""
    if len(args) > 1:
        return f"{command} takes one object argument, not {len(args)} arguments"
    max_chars, max_depth = limits.command_argument_chars, limits.command_nesting
    size = 0
    stack: list[tuple[Any, int]] = [(value, 1) for value in args]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            size += len(value) + 2
        elif isinstance(value, dict):
            if depth > max_depth:
                return _too_deep(command, max_depth)
            size += 2 + sum(len(str(key)) + 4 for key in value)
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            if depth > max_depth:
                return _too_deep(command, max_depth)
            size += 2 + len(value)
            stack.extend((item, depth + 1) for item in value)
        else:  # numbers, booleans, null
            size += 8
        if size > max_chars:
            return (f"{command}: the arguments are larger than {limits.command_arguments_kb} KB of JSON; send less "
                    f"(for a Run, a narrower scope), or raise {SETTING}.commandArgumentsKb")
    return None


def _too_deep(command: str, levels: int) -> str:
    return (f"{command}: the arguments are nested more than {levels} levels deep; flatten them, or raise "
            f"{SETTING}.commandNesting")


def shortened(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE] + "… (message shortened)"


def guarded(server: Server, name: str, handler: Handler) -> Handler:
    """``handler`` behind the gate; pygls unpacks the command's arguments into ``*args``."""

    async def command(*args: Any) -> Any:
        problem = argument_problem(args, name, server.limits)
        if problem is not None:
            del args
            raise JsonRpcInvalidParams(problem)
        try:
            return await handler(server, *args)
        except asyncio.CancelledError:
            raise
        except JsonRpcException as exc:  # the command's own answer: kept, minus anything that holds the request
            message, code = shortened(str(exc.message)), exc.code
        except Exception:  # a bug: the traceback to the log, a sentence to the editor
            log.exception("%s failed", name)
            message, code = f"internal error in {name}: {LOG_HINT}", INTERNAL_ERROR
        del args
        raise JsonRpcException(message, code=code)

    command.__name__ = handler.__name__
    return command
