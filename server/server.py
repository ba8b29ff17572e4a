"""The Workcrew language server: a pygls LanguageServer subclass holding the stores, and its features.

Everything long-running (authoring, estimates, runs) is an asyncio task; file walks and disk reads go
to worker threads under a private limiter, never to pygls' own pool (it also reads stdin).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import anyio
from lsprotocol import types
from pygls.exceptions import FeatureRequestError, JsonRpcException, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol import default_converter
from workcrew.engine import RunStore, Settings
from workcrew.engine.redaction import KNOWN

from . import code_actions, command_table, request_futures, review_changes
from .answering import AnsweringProtocol
from .capabilities import ClientFeatures
from .config import server_settings
from .diagnostics import DiagnosticsStore, Publisher
from .document_limits import BoundedWorkspace
from .documents import Documents, path_of
from .limits import ServerLimits, limits_from
from .notices import ErrorReports, Notices
from .restore import record_fixes, restore_findings
from .runs import RunRegistry

log = logging.getLogger(__name__)


def _version() -> str:
    try:
        return version("workcrew")
    except PackageNotFoundError:
        return "0"


_PENDING_WRITES: set[asyncio.Future[Any]] = set()
_APPLY_EDIT = types.WORKSPACE_APPLY_EDIT


class WorkcrewProtocol(AnsweringProtocol):
    """Answers requests whose params do not even parse with InvalidParams instead of dropping them.

    (pygls logs such a message and sends nothing, which leaves the client waiting forever.)
    Diagnostics are published as ready-made JSON (see diagnostics.py), so that notification is untyped.
    """

    def get_message_type(self, method: str) -> Any:  # type: ignore[override]  # base is lru_cache-wrapped
        if method == types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS:
            return None  # sent as plain JSON; a server never receives it
        return super().get_message_type(method)

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if isinstance(data, dict) and "id" in data and "method" in data:
                cause = exc.__cause__ or exc
                detail = " ".join(str(cause).split())[:300]
                error = JsonRpcInvalidParams(f"invalid params for {data['method']}: {detail}")
                self._send_response(data["id"], None, error.to_response_error())
                return _Answered()
            raise


    def _send_data(self, data: Any) -> None:
        """Every message to the editor leaves without a secret value the process knows (findings, logs,
        run results and errors all pass here); the framing is pygls's own."""
        if not data or self.writer is None or not KNOWN.known or getattr(data, "method", None) == _APPLY_EDIT:
            # an edit the user approved writes their own text back: redacting it would write placeholders
            # over their values (its new text comes from agents, which never saw a secret value)
            super()._send_data(data)
            return
        try:
            body = KNOWN.redact(json.dumps(data, default=self._serialize_message))
        except Exception:
            log.exception("cannot encode a message for the editor")
            return
        frame = (f"Content-Length: {len(body.encode(self.CHARSET))}\r\n"
                 f"Content-Type: {self.CONTENT_TYPE}; charset={self.CHARSET}\r\n\r\n" if self._include_headers
                 else "") + body
        try:
            written = self.writer.write(frame.encode(self.CHARSET))
            if inspect.isawaitable(written):  # a websocket writer: keep the write alive until it is done
                pending = asyncio.ensure_future(written)
                _PENDING_WRITES.add(pending)
                pending.add_done_callback(_PENDING_WRITES.discard)
        except BrokenPipeError:
            raise  # the editor is gone: pygls shuts down
        except Exception:
            log.exception("cannot send a message to the editor")


class _Answered:
    """A request already answered with an error; handle_message ignores it (not JSON-RPC 2.0)."""

    jsonrpc = "answered"


class WorkcrewServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("workcrew", _version(), protocol_cls=WorkcrewProtocol,
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.features = ClientFeatures()
        self.settings: Settings | None = None
        self.init_options: dict[str, Any] | None = None
        self.run_store: RunStore | None = None
        self.documents = Documents()
        self.limiter = anyio.CapacityLimiter(4)
        self.diagnostics_store = DiagnosticsStore(self.documents, Publisher(
            publish=self._publish, refresh=self._refresh,
            codec=lambda: self.workspace.position_codec,
            pull=lambda: self.features.pull_diagnostics,
            related_information=lambda: self.features.related_information,
        ), self.limiter)
        self.runs = RunRegistry(self)
        self.converter: Any = default_converter()  # type: ignore[no-untyped-call]
        self.limits = ServerLimits()
        self.notices = Notices(lambda message: self.say(message, types.MessageType.Warning))
        self.error_reports = ErrorReports()
        request_futures.install(self.protocol)  # finished requests and notifications are forgotten (issue #19)

    def require_settings(self) -> Settings:
        if self.settings is None:
            raise JsonRpcException("the server is not initialized yet", code=-32002)
        return self.settings

    def report_server_error(self, error: Exception, source: Any) -> None:
        # errors in requests are in their responses; the rest goes to the log, not a popup per error
        log.error("%s", error)
        if source is FeatureRequestError or self.protocol._shutdown:
            return
        send, notice = self.error_reports.admit()  # a flood of failing notifications: a few messages, not one each
        if not send:
            if notice:
                self.say("workcrew: more errors; they are only in the Workcrew log", types.MessageType.Error)
            return
        try:
            self.window_log_message(types.LogMessageParams(type=types.MessageType.Error, message=f"workcrew: {error}"))
        except Exception:
            log.debug("could not send the error to the client")

    def _publish(self, uri: str, diagnostics: list[dict[str, Any]], version: int | None) -> None:
        params: dict[str, Any] = {"uri": uri, "diagnostics": diagnostics}
        if version is not None and self.features.versioned_publish:
            params["version"] = version
        self.protocol.notify(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS, params)

    def typed(self, diagnostics: list[dict[str, Any]]) -> list[types.Diagnostic]:
        """Pull responses are typed; they hold one file's diagnostics, so converting is cheap."""
        result: list[types.Diagnostic] = self.converter.structure(diagnostics, list[types.Diagnostic])
        return result

    def _refresh(self) -> None:
        if self.features.diagnostic_refresh:
            self.workspace_diagnostic_refresh(None)

    def say(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        self.window_log_message(types.LogMessageParams(type=kind, message=message))

    def configure(self, root: Path, raw: Any) -> None:
        settings, warnings = server_settings(root, raw)
        section = raw.get("workcrew", raw) if isinstance(raw, dict) else None
        self.limits, limit_warnings = limits_from(section.get("limits") if isinstance(section, dict) else None)
        warnings += limit_warnings
        self.settings = settings
        self.diagnostics_store.workspace = settings.workspace
        for warning in warnings:
            self.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning,
                                                             message=f"Workcrew: {warning}"))
            self.say(warning, types.MessageType.Warning)
        try:
            if self.run_store is None:
                self.run_store = RunStore(settings.resolved_state_dir())
                self.diagnostics_store.dismissed |= self.run_store.dismissed()
                self.diagnostics_store.on_fixed = lambda fixed: record_fixes(self, fixed)  # fixes applied: closed
        except Exception as exc:  # runs still work without history; the user learns why
            self.say(f"the run store is unavailable: {exc}", types.MessageType.Error)
        self.say(f"workspace {settings.workspace}, provider {settings.provider}, "
                 f"state in {settings.resolved_state_dir()}")


def workspace_root(params: types.InitializeParams) -> Path:
    for uri in [f.uri for f in params.workspace_folders or []] + [params.root_uri or ""]:
        path = path_of(uri) if uri else None
        if path is not None:
            return path
    if params.root_path:
        return Path(params.root_path)
    return Path.cwd()


def build() -> WorkcrewServer:
    server = WorkcrewServer()
    command_table.register(server)

    @server.feature(types.INITIALIZE)
    def initialize(params: types.InitializeParams) -> None:
        server.features = ClientFeatures.from_capabilities(params.capabilities)
        # the editor's documents within workcrew.limits (document_limits.py), in place of pygls's own workspace
        server.protocol._workspace = BoundedWorkspace.replacing(server.workspace, lambda: server.limits,
                                                                server.notices)
        server.documents.workspace = server.workspace
        options = params.initialization_options
        server.init_options = options.get("workcrew", options) if isinstance(options, dict) else None
        server.configure(workspace_root(params), options)
        log.info("client features: %s", json.dumps(server.features.__dict__))

    @server.feature(types.INITIALIZED)
    async def initialized(params: types.InitializedParams) -> None:
        server.diagnostics_store.start()
        if server.run_store is not None:  # runs that outlived the last editor session: follow them again
            server.runs.attaching = asyncio.ensure_future(server.runs.attach(server.run_store))
        await pull_configuration()
        if server.settings is not None:  # secret values of the workspace kept out of every message from now on
            settings = server.settings
            await anyio.to_thread.run_sync(KNOWN.learn_workspace, settings.workspace, settings.secret_patterns,
                                           limiter=server.limiter)
        if server.runs.attaching is not None:
            try:
                attached = await server.runs.attaching
                await restore_findings(server)  # the ended runs' open findings: after the live runs are followed
            except Exception as exc:  # the editor works without them; the user learns why
                server.say(f"could not re-attach to running runs: {exc}", types.MessageType.Warning)
            else:
                if attached:
                    server.say(f"re-attached to {len(attached)} running run(s): {', '.join(attached)}")

    async def pull_configuration() -> None:
        """The ``workcrew`` section from the editor (esbonio-style), over the initializationOptions."""
        workspace_caps = server.client_capabilities.workspace
        if not (workspace_caps and workspace_caps.configuration) or server.settings is None:
            return
        try:
            values = await server.workspace_configuration_async(types.ConfigurationParams(
                items=[types.ConfigurationItem(section="workcrew")]))
        except Exception as exc:  # an editor without the section: keep what we have
            log.info("workspace/configuration failed: %s", exc)
            return
        if values and isinstance(values[0], dict) and values[0]:
            server.configure(server.settings.workspace, {**(server.init_options or {}), **values[0]})

    @server.feature(types.SHUTDOWN)
    async def shutdown(params: Any) -> None:
        log.info("shutdown: stopping %d run(s)", len(server.runs.active()))
        await server.runs.shutdown()
        server.diagnostics_store.stop()
        if server.run_store is not None:
            await anyio.to_thread.run_sync(server.run_store.close)
        log.info("shutdown: done")

    @server.feature(types.EXIT)
    def exit_(params: Any) -> None:
        log.info("exit")

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: types.DidOpenTextDocumentParams) -> None:
        uri = params.text_document.uri
        if not kept(uri):  # refused (workcrew.limits): followed on disk like a closed file
            forget_document(uri)
            return
        path = server.documents.opened(uri)
        if path is not None:
            server.diagnostics_store.document_changed(path)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        if not kept(uri):  # never opened (ignored), or dropped by this change (too large)
            forget_document(uri)
            return
        path = path_of(uri)
        if path is not None:
            server.diagnostics_store.document_changed(path)

    def kept(uri: str) -> bool:
        workspace = server.workspace
        return workspace.holds(uri) if isinstance(workspace, BoundedWorkspace) else True

    def forget_document(uri: str) -> None:
        """A document whose editor copy is no longer kept is read from disk again; one never open: nothing."""
        if server.documents.is_open(uri):
            did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(params: types.DidSaveTextDocumentParams) -> None:
        path = path_of(params.text_document.uri)
        if path is not None:
            server.documents.forget_disk(path)
            review_changes.document_saved(server, path)  # with review_on_save: the changes reviewed again

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(params: types.DidCloseTextDocumentParams) -> None:
        if not server.documents.is_open(params.text_document.uri):  # never opened, or refused: nothing to forget
            return
        path = server.documents.closed(params.text_document.uri)
        if path is not None:
            server.diagnostics_store.document_closed(path)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(params: types.DidChangeConfigurationParams) -> None:
        settings = params.settings
        if isinstance(settings, dict) and isinstance(settings.get("workcrew"), dict) and server.settings is not None:
            server.configure(server.settings.workspace, {**(server.init_options or {}), **settings["workcrew"]})
        else:
            await pull_configuration()

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=code_actions.KINDS, resolve_provider=True))
    async def code_action(params: types.CodeActionParams) -> list[types.CodeAction] | None:
        return await code_actions.code_actions(server, params)

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def code_action_resolve(params: types.CodeAction) -> types.CodeAction:
        return await code_actions.resolve(server, params)

    @server.feature(types.TEXT_DOCUMENT_DIAGNOSTIC, types.DiagnosticOptions(
        identifier="workcrew", inter_file_dependencies=False, workspace_diagnostics=True))
    async def document_diagnostic(params: types.DocumentDiagnosticParams) -> types.DocumentDiagnosticReport:
        path = path_of(params.text_document.uri)
        if path is None:
            return types.RelatedFullDocumentDiagnosticReport(items=[])
        await server.diagnostics_store.ensure_texts([path])
        diagnostics = server.diagnostics_store.diagnostics(path)  # re-anchors first
        result_id = server.diagnostics_store.result_id(path)
        if params.previous_result_id == result_id:
            return types.RelatedUnchangedDocumentDiagnosticReport(result_id=result_id)
        return types.RelatedFullDocumentDiagnosticReport(items=server.typed(diagnostics), result_id=result_id)

    @server.feature(types.WORKSPACE_DIAGNOSTIC)
    async def workspace_diagnostic(params: types.WorkspaceDiagnosticParams) -> types.WorkspaceDiagnosticReport:
        store = server.diagnostics_store
        await store.ensure_texts(store.paths())
        previous = {p.uri: p.value for p in params.previous_result_ids}
        reports: list[types.WorkspaceFullDocumentDiagnosticReport | types.WorkspaceUnchangedDocumentDiagnosticReport]
        reports = []
        for path in store.reported_paths():  # with the files whose findings are gone: their report clears them
            uri = server.documents.uri(path)
            diagnostics = store.diagnostics(path)  # re-anchors first
            result_id = store.result_id(path)
            version = server.documents.version(path)
            if previous.get(uri) == result_id:
                reports.append(types.WorkspaceUnchangedDocumentDiagnosticReport(
                    uri=uri, result_id=result_id, version=version))
            else:
                reports.append(types.WorkspaceFullDocumentDiagnosticReport(
                    uri=uri, items=server.typed(diagnostics), result_id=result_id, version=version))
        return types.WorkspaceDiagnosticReport(items=reports)

    return server
