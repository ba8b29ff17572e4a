"""The pattern library's calls from JavaScript (``scout``, ``vote``, ``finding``, ``verdicts``, ``fixLoop``): the
options object checked by name, then the same helpers the Python dialect calls (``workflows/library.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ... import library

if TYPE_CHECKING:
    from .host import JsHost


def options(name: str, opts: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
    """A call's options object, refused with the names it may hold when it has any other (``check`` too)."""
    if opts is None:
        return {}
    if not isinstance(opts, dict):
        raise TypeError(f"{name}(): the options must be an object")
    unknown = sorted(set(opts) - set(allowed))
    if unknown:
        raise TypeError(f"{name}(): unknown option {unknown[0]!r}; the options are {', '.join(allowed)}")
    return dict(opts)


async def scout(host: JsHost, data: dict[str, Any]) -> Any:
    opts = options("scout", data.get("opts"), ("what", "limit", "limitName", "verb", "label", "phase"))
    if "limitName" in opts:
        opts["limit_name"] = opts.pop("limitName")
    return await library.scout(host.ctx, data.get("given"), data.get("prompt"), **opts)


async def vote(host: JsHost, data: dict[str, Any]) -> Any:
    opts = options("vote", data.get("opts"), ("n", "context", "label", "phase", "model"))
    return await library.vote(host.ctx, data.get("claim"), **opts)


async def finding(host: JsHost, data: dict[str, Any]) -> Any:
    opts = options("finding", data.get("opts"), ("path", "outcome", "category"))
    return library.finding(data.get("candidate"), **opts)


async def verdicts(host: JsHost, data: dict[str, Any]) -> Any:
    opts = options("verdicts", data.get("opts"), ("dropped",))
    return library.verdicts(data.get("findings"), **opts)


async def fix_loop(host: JsHost, data: dict[str, Any]) -> Any:
    opts = options("fixLoop", data.get("opts"), ("rounds", "schema", "label", "phase", "model"))
    done = await library.fix_loop(host.ctx, data.get("task"), data.get("command"), **opts)
    fixed = done["fixed"]  # the answer as data: JavaScript gets the patch as `patch`
    return {**done, "fixed": None if fixed is None else (str(fixed) if isinstance(fixed, str) else dict(fixed))}


CALLS = {"scout": scout, "vote": vote, "finding": finding, "verdicts": verdicts, "fixLoop": fix_loop}
