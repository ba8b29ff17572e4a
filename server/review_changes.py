"""``workcrew.reviewChanges`` ``{base?, uncommitted?}``: the built-in review over what changed, and the
optional re-review when a reviewed file is saved (``review_on_save``, the editor's ``reviewOnSave``).

The changed files, lines and enclosing functions come from git in a worker thread
(``workspace.changes.find_changes``); the run goes through the normal approval (``commands.approve_and_run``),
bound to the changed files. With ``review_on_save`` a save of a file that the last review covered starts
the same review again, 2 s after the last such save (a newer save restarts the wait), never while a run of it
is going (it waits for that run to end), reusing through the run journal every agent whose call and reads
are unchanged, and asking for approval as any run does: an approval remembered with "Always run" lets it
start at once, otherwise the notification comes back; nothing is spent silently.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from lsprotocol import types
from workcrew.engine import WorkcrewError, Workflow, load_workflow
from workcrew.engine.runtime.resume import ResumeCache
from workcrew.engine.settings import Settings
from workcrew.engine.workflows.discovery import builtin_dir
from workcrew.engine.workspace.changes import Changes, ChangesRequest, find_changes

from .commands import approve_and_run
from .documents import canonical
from .params import ReviewChangesParams, failed, parse

if TYPE_CHECKING:
    from .protocol import Server

log = logging.getLogger(__name__)

DEBOUNCE_S = 2.0  # after the last save of a reviewed file: a burst of saves starts one review


@dataclass
class LastReview:
    """What the last Review Changes of a server covered: what a save re-reviews, and the run it reuses."""

    base: str | None
    paths: set[Path]
    run_id: str
    pending: asyncio.Task[None] | None = None  # waiting out the debounce (a newer save cancels it)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one re-review at a time


_LAST: weakref.WeakKeyDictionary[Any, LastReview] = weakref.WeakKeyDictionary()


async def review_changes(ls: Server, *args: Any) -> dict[str, Any]:
    params = parse(ReviewChangesParams, "workcrew.reviewChanges", args)
    return await _review(ls, params.base)


async def _review(ls: Server, base: str | None, reuse_from: str | None = None) -> dict[str, Any]:
    """Find the changes off the loop; nothing changed: say so and run nothing; else approve and run."""
    settings = ls.require_settings()
    try:
        changes, workflow, cache = await anyio.to_thread.run_sync(
            lambda: _prepare(settings, base, ls.run_store, reuse_from), limiter=ls.limiter)
    except WorkcrewError as exc:
        raise failed(str(exc)) from None
    if not changes.files:
        _LAST.pop(ls, None)  # nothing left to re-review on save
        message = changes.nothing_message()
        ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Info, message=f"Workcrew: {message}"))
        return {"status": "nothing", "message": message, "changes": changes.to_json()}
    result = await approve_and_run(ls, workflow, changes.args(), changes.scope, resume=cache)
    if result.get("status") == "running":
        previous = _LAST.get(ls)
        last = LastReview(base, {canonical(changes.workspace / f.path) for f in changes.files}, str(result["runId"]))
        if previous is not None:  # a save that came in meanwhile stays pending; one re-review at a time
            last.pending, last.lock = previous.pending, previous.lock
        _LAST[ls] = last
    return {**result, "summary": changes.summary(), "changes": changes.to_json(),
            "reused": cache.run_id if cache is not None else None}


def _prepare(settings: Settings, base: str | None, store: Any,
             reuse_from: str | None) -> tuple[Changes, Workflow, ResumeCache | None]:
    """Blocking: git, the built-in review (a project's own ``review`` need not take ``changes``), and the
    earlier run's journal when re-reviewing."""
    changes = find_changes(ChangesRequest(settings.workspace, base=base), settings)
    workflow = load_workflow(builtin_dir() / "review.py", origin="builtin")
    if workflow.problems:
        raise WorkcrewError("the built-in review has problems:\n" + "\n".join(str(p) for p in workflow.problems))
    cache = None
    if reuse_from is not None and store is not None and changes.files:
        try:
            cache = ResumeCache.load(store, reuse_from, workflow.name, settings=settings)
        except WorkcrewError as exc:  # the earlier run is gone: the review runs whole, and the log says why
            log.warning("re-review on save: not reusing %s: %s", reuse_from, exc)
    return changes, workflow, cache


# -- re-review on save -----------------------------------------------------------------------------------

def document_saved(ls: Server, path: Path) -> None:
    """``textDocument/didSave``: with ``review_on_save``, a save of a file the last Review Changes covered
    (re)starts the debounce that re-reviews the changes."""
    settings, last = ls.settings, _LAST.get(ls)
    if settings is None or not settings.review_on_save or last is None or canonical(path) not in last.paths:
        return
    if last.pending is not None and not last.pending.done():
        last.pending.cancel()
    last.pending = asyncio.get_running_loop().create_task(_review_after_saves(ls, last), name="review-on-save")


async def _review_after_saves(ls: Server, last: LastReview) -> None:
    await asyncio.sleep(DEBOUNCE_S)
    if ls.settings is None or not ls.settings.review_on_save:  # turned off while waiting
        return
    async with last.lock:
        current = _LAST.get(ls, last)
        if current.pending is asyncio.current_task():
            current.pending = None  # from here on a newer save waits its turn rather than cancelling this one
        session = ls.runs.get(current.run_id)
        if session is not None and not session.handle.done and session.pump is not None:
            await asyncio.wait([session.pump])  # never while a run of it is active: after it ends
        try:
            result = await _review(ls, current.base, reuse_from=current.run_id)
        except Exception as exc:  # a task nobody awaits: the user must learn why nothing ran
            message = getattr(exc, "message", None) or str(exc)
            log.warning("re-review on save failed: %s", message)
            ls.window_show_message(types.ShowMessageParams(
                type=types.MessageType.Warning, message=f"Workcrew: the review on save did not start: {message}"))
            return
        log.info("re-review on save: %s", {k: result.get(k) for k in ("status", "runId", "reused", "summary")})


COMMANDS = {
    "workcrew.reviewChanges": review_changes,
}
