"""The details behind an approval, and the question itself.

* Every question asked (:func:`prepare`, :func:`ask`) keeps its details in memory under an id the message
  carries (``(details: ID)``) until it is answered: ``workcrew.approvalDetails {id}`` returns them (the VS Code
  extension's panel). A client without views that picks **Details** gets them as Markdown, written to
  ``<state dir>/approvals/<id>.md`` and opened with ``window/showDocument``; then the question is asked again,
  with Review script instead of Details.
* ``workcrew.estimateDetails {name | path, args}`` computes the same details for any workflow without running it.
* Edit scope: ``workcrew.runWorkflow`` / ``workcrew.estimateDetails`` take ``exclude`` (patterns) and ``scope``
  (paths); :func:`narrow` turns them into the workflow's ``files`` argument and the run's scope.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from lsprotocol import types
from workcrew.engine import WorkcrewError, Workflow
from workcrew.engine.redaction import redact

from . import approval
from .approval_data import DetailsInput, build_details, files_json, message_with_id, narrowable
from .approval_markdown import render_markdown
from .default_scope import with_default_scope
from .params import ApprovalDetailsParams, EstimateDetailsParams, ScopedTargetParams, failed, parse
from .targets import resolve_target

if TYPE_CHECKING:
    from .protocol import Server

log = logging.getLogger(__name__)

KEEP_PAGES = 20  # Markdown pages kept in <state dir>/approvals (the newest); older ones are removed
MAX_PENDING = 64  # questions awaiting an answer at once; beyond that the oldest details are dropped


@dataclass
class Pending:
    """A question awaiting its answer: its details (JSON, with ``markdown``) and the scope they describe."""

    id: str
    data: dict[str, Any]
    scope: Any

    def view(self, all_files: bool = False) -> dict[str, Any]:
        if not all_files:
            return self.data
        return {**self.data, "files": {**self.data["files"], "all": files_json(self.scope, None)["top"]}}


# One language server per process: the questions it is asking, by id (random, so ids never collide).
_PENDING: dict[str, Pending] = {}


def pending(approval_id: str) -> Pending | None:
    return _PENDING.get(approval_id)


def forget(approval_id: str) -> None:
    _PENDING.pop(approval_id, None)


async def details(ls: Server, given: DetailsInput) -> tuple[dict[str, Any], Any]:
    """(details with their Markdown, scope), computed off the loop (the scope walk, .mcp.json, the sandbox)."""
    def work() -> tuple[dict[str, Any], Any]:
        data, scope = build_details(given)
        data["markdown"] = render_markdown(data)
        return data, scope

    return await anyio.to_thread.run_sync(work, limiter=ls.limiter)


async def prepare(ls: Server, given: DetailsInput) -> Pending:
    """The details of the question about to be asked, kept until :func:`forget`."""
    data, scope = await details(ls, given)
    entry = Pending(secrets.token_hex(6), data, scope)
    data["id"] = entry.id
    while len(_PENDING) >= MAX_PENDING:
        _PENDING.pop(next(iter(_PENDING)))
    _PENDING[entry.id] = entry
    return entry


def question(entry: Pending) -> str:
    """The short question: the headline, at most one warning line, and the id of its details."""
    data = entry.data
    text = data["headline"] + (f"\n{data['warning']}" if data.get("warning") else "")
    return message_with_id(text, entry.id)


async def ask(ls: Server, entry: Pending, can_remember: bool) -> str:
    """Run | Always run | Details | Cancel; Details shows the Markdown page (plain clients; the VS Code extension
    answers Details itself) and asks again with Run | Always run | Review script | Cancel."""
    message = question(entry)
    answer = await approval.ask_approval(ls, message, approval.first_titles(can_remember))
    if answer != approval.DETAILS:
        return answer
    await show_page(ls, entry)
    return await approval.ask_approval(ls, message, approval.again_titles(can_remember))


async def show_page(ls: Server, entry: Pending) -> None:
    """Write the details' Markdown page and open it; a client that cannot open documents is told where it is."""
    folder = ls.require_settings().resolved_state_dir() / "approvals"
    try:
        page = await anyio.to_thread.run_sync(lambda: write_page(folder, entry.id, entry.data["markdown"]),
                                              limiter=ls.limiter)
    except OSError as exc:
        ls.window_show_message(types.ShowMessageParams(
            type=types.MessageType.Warning,
            message=f"Workcrew cannot write the approval details to {folder}: {exc}; "
                    f"`workcrew.approvalDetails` with id {entry.id} returns them"))
        return
    if ls.features.show_document:
        try:
            shown = await ls.window_show_document_async(types.ShowDocumentParams(uri=page.as_uri(), take_focus=True))
            if shown is not None and shown.success:
                return
        except Exception as exc:  # the page is on disk either way: say where
            log.info("showDocument failed: %s", exc)
    ls.window_show_message(types.ShowMessageParams(
        type=types.MessageType.Info, message=f"Workcrew: the details of this run are in {page}"))


PAGE_NAME = re.compile(r"[0-9a-f]{12}\.md")  # secrets.token_hex(6): the only files this folder's clean-up removes


def write_page(folder: Path, approval_id: str, markdown: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if folder.is_symlink():  # a link planted in the repository's state folder would take the clean-up elsewhere
        raise OSError(f"{folder} is a link; remove it and Workcrew makes the folder again")
    page = folder / f"{approval_id}.md"
    page.write_text(redact(markdown), "utf-8")  # args and scripts may quote a secret value: never on disk
    pages = sorted((p for p in folder.iterdir() if PAGE_NAME.fullmatch(p.name) and p.is_file() and not p.is_symlink()),
                   key=lambda p: p.stat().st_mtime, reverse=True)
    for old in pages[KEEP_PAGES:]:
        old.unlink(missing_ok=True)  # the pages of questions long answered
    return page


# -- Edit scope ------------------------------------------------------------------------------------------------


def _named_files(args: Any) -> list[str]:
    """The files a run's args name (``{"files": [...]}``, a list, or one string)."""
    value = args.get("files") if isinstance(args, dict) else args
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


async def narrow(ls: Server, workflow: Workflow, params: ScopedTargetParams) -> tuple[Any, Any]:
    """(args, scope) of a run narrowed with ``exclude`` / ``scope``; the args unchanged and no scope without them.

    The files the run was pointed at (``scope``, else the files its args name, else the whole workspace), minus
    what ``exclude`` matches (with the rules of every scope: .gitignore, default excludes, secrets …), become its
    ``files`` argument; a workflow without one cannot be narrowed and is refused with what to do instead.
    """
    if not params.exclude and params.scope is None:
        return params.args, None
    if not narrowable(workflow):
        raise failed(f"the workflow “{workflow.name}” takes no `files` argument, so its scope cannot be narrowed: "
                     "pass what it should work on in its args instead (see its meta's args)")
    from workcrew.engine.workspace.scope import ScopeRequest, compute_scope

    settings = ls.require_settings()
    narrowed = settings.model_copy(update={"excludes": [*settings.excludes, *params.exclude]})
    named = params.scope if params.scope is not None else _named_files(params.args)
    request = (ScopeRequest(settings.workspace, paths=named) if named
               else ScopeRequest(settings.workspace, whole_workspace=True))
    try:
        scope = await anyio.to_thread.run_sync(lambda: compute_scope(request, narrowed), limiter=ls.limiter)
    except WorkcrewError as exc:
        raise failed(str(exc)) from None
    if not scope.files:
        raise failed("nothing is left in scope once narrowed: every file is excluded, refused or missing; "
                     "tick at least one file, or run the workflow without Edit scope")
    args = dict(params.args) if isinstance(params.args, dict) else {}
    args["files"] = scope.paths
    return args, scope


# -- commands --------------------------------------------------------------------------------------------------


async def approval_details(ls: Server, *args: Any) -> dict[str, Any]:
    """The details of a question being asked now (the id its message carries)."""
    params = parse(ApprovalDetailsParams, "workcrew.approvalDetails", args)
    entry = pending(params.id)
    if entry is None:
        raise failed(f"no approval {params.id!r} is waiting for an answer: it was answered, or the server restarted; "
                     "run the workflow again to be asked again")
    if not params.all_files:
        return entry.data
    # every file of a large workspace, sorted and summed: off the loop
    return await anyio.to_thread.run_sync(lambda: entry.view(all_files=True), limiter=ls.limiter)


async def estimate_details(ls: Server, *args: Any) -> dict[str, Any]:
    """What running a workflow would cost and read, without running it or asking anything."""
    params = parse(EstimateDetailsParams, "workcrew.estimateDetails", args)
    workflow = resolve_target(ls, params, "workcrew.estimateDetails")
    run_args, scope = await narrow(ls, workflow, params)
    run_args, filled = await with_default_scope(ls, workflow, run_args)  # as workcrew.runWorkflow runs it
    settings = ls.require_settings()
    try:
        found, why_not, models = await approval.estimate_with_models(workflow, run_args, scope, settings, ls.run_store)
    except WorkcrewError as exc:
        raise failed(str(exc)) from None
    run_settings = approval.approved(settings, found)
    bound = await anyio.to_thread.run_sync(lambda: approval.bind(workflow, run_args, scope, run_settings, found),
                                           limiter=ls.limiter)
    data, described = await details(ls, DetailsInput(workflow, run_args, settings, found, why_not, bound, scope, models,
                                                     default_scope=filled))
    data["id"] = None
    if not params.all_files:
        return data
    return await anyio.to_thread.run_sync(lambda: Pending("", data, described).view(all_files=True),
                                          limiter=ls.limiter)


COMMANDS = {
    "workcrew.approvalDetails": approval_details,
    "workcrew.estimateDetails": estimate_details,
}
