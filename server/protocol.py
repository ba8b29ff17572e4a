"""What the server's feature modules need from the language server, and nothing more.

``commands``, ``code_actions``, ``approval``, ``progress`` and ``runs`` take a :class:`Server`: the stores
they share, the client's features, and the few requests they send. ``server.py`` registers them and its
``WorkcrewServer`` is one such server; the feature modules never import it, so the layers stay one-way
(``.importlinter``) and a feature can be tested against anything shaped like this.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import anyio
from lsprotocol import types
from workcrew.engine import RunStore, Settings

from .capabilities import ClientFeatures
from .diagnostics import DiagnosticsStore
from .documents import Documents
from .limits import ServerLimits

if TYPE_CHECKING:  # the run registry takes a Server itself
    from .runs import RunRegistry

F = TypeVar("F", bound=Callable[..., Any])


class Server(Protocol):
    features: ClientFeatures
    settings: Settings | None
    run_store: RunStore | None
    documents: Documents
    limiter: anyio.CapacityLimiter
    diagnostics_store: DiagnosticsStore
    runs: RunRegistry
    limits: ServerLimits  # per editor: command arguments, open documents (limits.py)

    @property
    def protocol(self) -> Any: ...  # notifications the LSP types do not cover (workcrew/runFinished …)

    @property
    def work_done_progress(self) -> Any: ...

    @property
    def workspace(self) -> Any: ...

    def require_settings(self) -> Settings: ...

    def command(self, command_name: str) -> Callable[[F], F]: ...

    def window_show_message(self, params: types.ShowMessageParams) -> None: ...

    async def window_show_message_request_async(
            self, params: types.ShowMessageRequestParams) -> types.MessageActionItem | None: ...

    async def window_show_document_async(self, params: types.ShowDocumentParams) -> types.ShowDocumentResult: ...

    async def workspace_apply_edit_async(
            self, params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult: ...
