"""``workspace/executeCommand`` handlers for workflows and runs (design section 7): create, run, estimate,
list, and control a run. Arguments are one JSON object each (:mod:`.params`).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from workcrew.engine import RunStore, WorkcrewError, Workflow, load_workflow
from workcrew.engine.agents.catalog import AgentCatalog
from workcrew.engine.results.resolution import run_resolutions
from workcrew.engine.runtime.resume import ResumeCache
from workcrew.engine.store import StoreError, controls
from workcrew.engine.workflows.discovery import discover

from . import approval, approval_details
from .approval_data import DetailsInput
from .default_scope import with_default_scope
from .documents import path_of
from .params import (
    CreateParams,
    ListRunsParams,
    ResumeParams,
    RunIdParams,
    ScopedTargetParams,
    TargetParams,
    failed,
    parse,
)
from .progress import RunProgress
from .targets import resolve_target

if TYPE_CHECKING:
    from .protocol import Server

log = logging.getLogger(__name__)


# -- create, run, estimate -------------------------------------------------------------------------

async def create_workflow_from_selection(ls: Server, *args: Any) -> dict[str, Any]:
    params = parse(CreateParams, "workcrew.createWorkflowFromSelection", args)
    from workcrew.engine.workspace.authoring import AuthoringError, author_workflow

    settings = ls.require_settings()
    request = _scope_request(ls, params)
    try:
        scope = await anyio.to_thread.run_sync(lambda: _compute_scope(request, settings), limiter=ls.limiter)
    except WorkcrewError as exc:
        raise failed(str(exc)) from None
    if not scope.files:
        raise failed("nothing to work on: the selection has no readable files in the workspace "
                     "(secret, ignored or binary files are left out)")
    task = asyncio.current_task()
    def cancel() -> None:
        if task is not None:
            task.cancel()

    progress = RunProgress(ls, cancel)
    await progress.begin("Workcrew: writing the workflow", f"{len(scope.files)} file(s) in scope")
    try:
        authored = await author_workflow(params.prompt, scope, settings, name=params.name,
                                         on_progress=lambda message: progress.report(message, None))
    except (AuthoringError, WorkcrewError) as exc:
        raise failed(str(exc)) from None
    except asyncio.CancelledError:
        return {"status": "cancelled", "reason": "authoring was cancelled"}
    finally:
        progress.end("done")
    if authored.path is not None:
        await _show(ls, authored.path)
    if authored.problems:
        return {"status": "invalid", "path": str(authored.path) if authored.path else None,
                "problems": [str(p) for p in authored.problems]}
    return await approve_and_run(ls, authored.workflow, authored.args, scope)


def _compute_scope(request: Any, settings: Any) -> Any:
    from workcrew.engine.workspace.scope import compute_scope

    return compute_scope(request, settings)


def _scope_request(ls: Server, params: CreateParams) -> Any:
    from workcrew.engine.workspace.scope import ScopeRequest, Selection

    settings = ls.require_settings()
    selection = None
    if params.uri is not None:
        path = path_of(params.uri)
        if path is None:
            raise JsonRpcInvalidParams(f"workcrew.createWorkflowFromSelection: {params.uri!r} is not a file: URI")
        refused = getattr(ls.workspace, "refusal", lambda uri: None)(params.uri)
        if params.range is not None and refused is not None:  # the selection is in the editor's copy, not kept
            raise failed(f"cannot take the selection: {refused}")
        if params.range is not None:
            start, end = params.range.start, params.range.end
            if (end.line, end.character) < (start.line, start.character):
                raise JsonRpcInvalidParams("workcrew.createWorkflowFromSelection: range ends before it starts")
            end_line = end.line if end.character == 0 and end.line > start.line else end.line + 1
            doc = ls.documents.document(path)
            text = doc.text_in_client_range(types.Range(
                start=types.Position(start.line, start.character),
                end=types.Position(end.line, end.character))) if doc is not None else ""
            selection = Selection(str(path), start.line + 1, end_line, text)
    paths = [p for p in (path_of(u) for u in params.uris) if p is not None]
    if params.uri is not None and selection is None:
        paths.append(path_of(params.uri) or Path(params.uri))
    open_files = [p for p in (path_of(u) for u in params.open_editors) if p is not None]
    return ScopeRequest(settings.workspace, selection=selection, paths=paths, open_files=open_files,
                        whole_workspace=params.whole_workspace)


async def _show(ls: Server, path: Path) -> None:
    if not ls.features.show_document:
        return
    try:
        await ls.window_show_document_async(types.ShowDocumentParams(uri=path.as_uri(), take_focus=True))
    except Exception as exc:  # showing the script is a courtesy; the run does not depend on it
        log.info("showDocument failed: %s", exc)


async def run_workflow(ls: Server, *args: Any) -> dict[str, Any]:
    params = parse(ScopedTargetParams, "workcrew.runWorkflow", args)
    workflow = resolve_target(ls, params, "workcrew.runWorkflow")
    run_args, scope = await approval_details.narrow(ls, workflow, params)  # Edit scope: exclude / scope
    run_args, filled = await with_default_scope(ls, workflow, run_args)  # a built-in given no files: the scope
    started = await approve_and_run(ls, workflow, run_args, scope, default_scope=filled)
    return {**started, "defaultScope": filled} if filled is not None else started


async def estimate(ls: Server, *args: Any) -> dict[str, Any]:
    params = parse(TargetParams, "workcrew.estimate", args)
    workflow = resolve_target(ls, params, "workcrew.estimate")
    run_args, _filled = await with_default_scope(ls, workflow, params.args)  # as runWorkflow would run it
    try:
        found, why_not = await approval.compute_estimate(workflow, run_args, None, ls.require_settings(),
                                                         ls.run_store)
    except WorkcrewError as exc:
        raise failed(str(exc)) from None
    return {"workflow": workflow.name, "estimate": approval.estimate_json(found), "unavailable": why_not,
            "summary": approval.describe_estimate(found) if found is not None else why_not}


async def resume_from_run(ls: Server, *args: Any) -> dict[str, Any]:
    """Run an earlier run's workflow again with its args, reusing the agents whose calls still match and
    whose files are unchanged ("Run Again"; also resumes an interrupted or stopped run)."""
    params = parse(ResumeParams, "workcrew.resumeFromRun", args)
    store = ls.run_store
    if store is None:
        raise failed("no run store yet: open a workspace folder first")
    earlier = store.get_run(params.run_id, prefix=False)  # the editor gives whole ids: matched exactly
    if earlier is None:
        raise failed(f"no run {params.run_id!r} in {store.path}")
    live = ls.runs.get(str(earlier["id"]))
    if live is not None and not live.handle.done:
        raise failed(f"run {earlier['id']} is still running; cancel it first")
    path = earlier.get("script_path")
    if path and Path(path).is_file():
        # the script as it is now: edited or not
        workflow = resolve_target(ls, TargetParams(path=str(path)), "workcrew.createWorkflowFromSelection")
    else:  # a script that was never saved, or is gone: the one the run ran
        workflow = load_workflow(str(earlier.get("workflow") or "workflow"), source=earlier.get("script_source") or "")
        if workflow.problems:
            raise failed("the run's script has problems:\n" + "\n".join(str(p) for p in workflow.problems))
    settings = ls.require_settings()
    try:  # off the loop: it fingerprints every file the earlier agents read
        cache = await anyio.to_thread.run_sync(lambda: ResumeCache.load(
            store, str(earlier["id"]), workflow.name, force=params.force, settings=settings), limiter=ls.limiter)
    except WorkcrewError as exc:
        raise failed(str(exc)) from None
    return await approve_and_run(ls, workflow, earlier.get("args"), None, resume=cache)


async def approve_and_run(ls: Server, workflow: Workflow, args: Any, scope: Any,
                          resume: ResumeCache | None = None, default_scope: dict[str, Any] | None = None) -> dict[str, Any]:
    """Estimate, ask (Run / Details / Always run / Cancel), and only on Run start the run.

    An approval remembered with "Always run" is reused only for the same script, a scope inside the
    approved one and a cap no higher; otherwise the notification says what changed. ``default_scope``: what the
    workspace's scope filled in for a built-in given no files (its details then show what the workspace left out).
    """
    from workcrew.engine.cost.approval import recall, remember

    settings = ls.require_settings()
    try:
        found, why_not, models = await approval.estimate_with_models(workflow, args, scope, settings, ls.run_store,
                                                                     resume)
    except WorkcrewError as exc:  # e.g. a model with no price: refuse before anything is spent
        raise failed(str(exc)) from None
    data = approval.estimate_json(found)
    path = str(workflow.path) if workflow.path else None
    base = {"workflow": workflow.name, "path": path, "estimate": data}
    run_settings = approval.approved(settings, found)
    bound = await anyio.to_thread.run_sync(lambda: approval.bind(workflow, args, scope, run_settings, found),
                                           limiter=ls.limiter)
    store = ls.run_store
    known = recall(store, bound)
    if approval.needs_approval(settings, found, remembered=known.covers):
        can_remember = store is not None and (bound.cap_usd is not None or bound.cap_tokens is not None)
        pending = await approval_details.prepare(ls, DetailsInput(
            workflow, args, settings, found, why_not, bound, scope, models, known.changes, can_remember,
            default_scope))
        try:  # the details stay fetchable (workcrew.approvalDetails) while the question is open
            answer = await approval_details.ask(ls, pending, can_remember)
        finally:
            approval_details.forget(pending.id)
        if answer == approval.REVIEW:
            if workflow.path is not None:
                await _show(ls, workflow.path)
            return {**base, "status": "review"}
        if answer not in (approval.RUN, approval.ALWAYS):
            return {**base, "status": "cancelled", "reason": "not approved"}
        # the notification listed the project's MCP servers: approving the run approves them ("Always run": later too)
        from workcrew.engine.agents.mcp_config import approve_for_run

        approved_settings, remember_it = run_settings, answer == approval.ALWAYS
        try:
            run_settings = await anyio.to_thread.run_sync(
                lambda: approve_for_run(approved_settings, remember=remember_it), limiter=ls.limiter)
        except WorkcrewError as exc:  # a settings.local.json that is not JSON: approved for this run only
            ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=f"Workcrew: {exc}"))
            run_settings = await anyio.to_thread.run_sync(lambda: approve_for_run(approved_settings),
                                                          limiter=ls.limiter)
        if answer == approval.ALWAYS and store is not None:
            try:
                remember(store, bound, via="editor")
            except StoreError as exc:  # approved all the same; only remembering it failed
                log.warning("%s", exc)
                ls.window_show_message(types.ShowMessageParams(
                    type=types.MessageType.Warning, message=f"Workcrew runs it, but cannot remember the approval: {exc}"))
    if ls.runs.closing:
        return {**base, "status": "cancelled", "reason": "the server is shutting down"}
    try:
        session = await ls.runs.start(workflow, args, run_settings, store, data, resume=resume)
    except WorkcrewError as exc:
        raise failed(str(exc)) from None
    return {**base, "status": "running", "runId": session.run_id}


# -- listing ---------------------------------------------------------------------------------------

async def list_workflows(ls: Server, *args: Any) -> list[dict[str, Any]]:
    settings = ls.require_settings()
    entries = await anyio.to_thread.run_sync(lambda: discover(settings.workspace), limiter=ls.limiter)
    out = []
    for entry in entries:
        meta = entry.workflow.meta
        out.append({
            "name": entry.name, "origin": entry.origin, "path": str(entry.path),
            "description": meta.description if meta else None,
            "when_to_use": meta.when_to_use if meta else None, "args": meta.args if meta else None,
            "phases": [p.title for p in meta.phases] if meta else [],
            "problems": [str(p) for p in entry.problems], "warnings": entry.warnings,
        })
    return out


async def list_agents(ls: Server, *args: Any) -> dict[str, Any]:
    """The agent types and skills of the workspace (what `workcrew list --agents --json` prints)."""
    settings = ls.require_settings()
    catalog = await anyio.to_thread.run_sync(AgentCatalog.load, settings.workspace, limiter=ls.limiter)
    view: dict[str, Any] = catalog.describe()
    return view


async def list_runs(ls: Server, *args: Any) -> list[dict[str, Any]]:
    await ls.runs.attached()  # runs found running at start-up are followed first
    params = parse(ListRunsParams, "workcrew.listRuns", args)
    store = ls.run_store
    rows = await anyio.to_thread.run_sync(_ended_with_resolution, store, params.limit,
                                          limiter=ls.limiter) if store is not None else []
    seen = set()
    out = []
    for session in ls.runs.sessions.values():
        if not session.handle.done:
            tree = session.handle.tree()
            out.append({"id": session.run_id, "workflow": session.workflow_name, "status": tree["status"],
                        "counts": tree["counts"], "usage": tree["usage"], "live": True})
            seen.add(session.run_id)
    out += [{**row, "live": False} for row in rows if row["id"] not in seen]
    return out


def _ended_with_resolution(store: RunStore, limit: int) -> list[dict[str, Any]]:
    """The latest runs; each ended one with ``resolution``: its findings fixed, dismissed (``dismissed_by``
    reason kind), open, ``rate`` and ``acted_on`` (engine/results/resolution.py), as they stand now."""
    rows = store.list_runs(limit)
    resolutions = run_resolutions(store, [str(row["id"]) for row in rows if row["status"] != "running"])
    return [{**row, "resolution": resolutions[row["id"]].to_json()} if row["id"] in resolutions else row
            for row in rows]


# -- run control -----------------------------------------------------------------------------------

def _session(ls: Server, command: str, args: tuple[Any, ...]) -> Any:
    params = parse(RunIdParams, command, args)
    session = ls.runs.get(params.run_id)
    if session is None:
        raise failed(f"no run {params.run_id!r} is running in this server")
    return session


def _elsewhere(ls: Server, command: str, args: tuple[Any, ...], action: str) -> dict[str, Any] | None:
    """A run this server does not follow (started in a terminal) is controlled through the store."""
    params = parse(RunIdParams, command, args)
    if ls.runs.get(params.run_id) is not None or ls.run_store is None:
        return None
    run = ls.run_store.get_run(params.run_id, prefix=False)  # exactly: never another run that starts alike
    if run is None or run.get("status") != "running":
        return None
    controls.request(ls.run_store, str(run["id"]), action, "asked from the editor")
    return {"runId": run["id"], "status": {"cancel": "cancelling", "pause": "paused", "resume": "running"}[action]}


async def cancel_run(ls: Server, *args: Any) -> dict[str, Any]:
    await ls.runs.attached()  # runs found running at start-up are followed first
    other = _elsewhere(ls, "workcrew.cancelRun", args, "cancel")
    if other is not None:
        return other
    session = _session(ls, "workcrew.cancelRun", args)
    session.handle.cancel()
    return {"runId": session.run_id, "status": "cancelling" if not session.handle.done else "finished"}


def _unfinished_session(ls: Server, command: str, args: tuple[Any, ...]) -> Any:
    session = _session(ls, command, args)
    if session.handle.done:
        raise failed(f"run {session.run_id} has finished")
    return session


async def pause_run(ls: Server, *args: Any) -> dict[str, Any]:
    await ls.runs.attached()  # runs found running at start-up are followed first
    other = _elsewhere(ls, "workcrew.pauseRun", args, "pause")
    if other is not None:
        return other
    session = _unfinished_session(ls, "workcrew.pauseRun", args)
    session.handle.pause()
    return {"runId": session.run_id, "status": "paused"}


async def resume_run(ls: Server, *args: Any) -> dict[str, Any]:
    await ls.runs.attached()  # runs found running at start-up are followed first
    other = _elsewhere(ls, "workcrew.resumeRun", args, "resume")
    if other is not None:
        return other
    session = _unfinished_session(ls, "workcrew.resumeRun", args)
    session.handle.resume()
    return {"runId": session.run_id, "status": "running"}


COMMANDS = {
    "workcrew.createWorkflowFromSelection": create_workflow_from_selection,
    "workcrew.runWorkflow": run_workflow,
    "workcrew.estimate": estimate,
    "workcrew.listWorkflows": list_workflows,
    "workcrew.listAgents": list_agents,
    "workcrew.listRuns": list_runs,
    "workcrew.cancelRun": cancel_run,
    "workcrew.pauseRun": pause_run,
    "workcrew.resumeRun": resume_run,
    "workcrew.resumeFromRun": resume_from_run,
}
