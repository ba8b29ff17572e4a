"""The editor's open documents, held within limits (``workcrew.limits``): how many, and how large.

pygls keeps every document the editor opens and applies each change to it. Here that copy is bounded:

- past ``openDocuments`` documents, a newly opened one is not kept (those already open stay correct: a
  document dropped to make room could never be brought back in sync, since the editor does not resend it);
- a document over ``documentMb`` (counted in characters), at open or after a change, is not kept;
- ``didChange``/``didClose`` for a document that is not kept (never opened, refused, or a URI too long to be
  one) are ignored with a debug line: no error to the editor, nothing stored.

A document not kept is read from disk like any closed file; commands that need the editor's text of it say
why they cannot have it (:meth:`BoundedWorkspace.refusal`). Each document refused is told once (the open-documents limit once
in all), as a warning in the log (:class:`Notices`), never once per message.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from lsprotocol import types
from pygls.workspace import Workspace

from .limits import SETTING, ServerLimits
from .notices import Notices

log = logging.getLogger(__name__)

MAX_URI = 8192  # longer than any path a file system takes: not a document's URI
_REMEMBERED_REFUSALS = 256


def short(uri: str) -> str:
    return uri if len(uri) <= 200 else uri[:200] + "…"


class BoundedWorkspace(Workspace):
    """pygls's workspace with the limits above; ``limits`` is read at every open, so settings apply at once."""

    def __init__(self, *args: Any, limits: Callable[[], ServerLimits], notices: Notices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limits = limits
        self._notices = notices
        self._refused: OrderedDict[str, str] = OrderedDict()  # uri → why its editor copy is not kept (bounded)

    @classmethod
    def replacing(cls, workspace: Workspace, limits: Callable[[], ServerLimits], notices: Notices) -> BoundedWorkspace:
        """This workspace in place of the one pygls made at ``initialize`` (same root, folders and encoding)."""
        bounded = cls(workspace.root_uri, workspace._sync_kind, list(workspace.folders.values()),
                      workspace.position_encoding, limits=limits, notices=notices)
        for key, document in workspace.text_documents.items():
            bounded._text_documents[key] = document
        return bounded

    def holds(self, uri: str) -> bool:
        """Whether the editor's copy of ``uri`` is kept (opened, within the limits)."""
        return len(uri) <= MAX_URI and unquote(uri) in self._text_documents

    def refusal(self, uri: str) -> str | None:
        """Why the editor's copy of ``uri`` is not kept, if it was refused."""
        return self._refused.get(unquote(uri)) if len(uri) <= MAX_URI else None

    def _refuse(self, key: str, reason: str, notice: str | None = None) -> None:
        self._text_documents.pop(key, None)
        self._refused[key] = reason
        self._refused.move_to_end(key)
        while len(self._refused) > _REMEMBERED_REFUSALS:
            self._refused.popitem(last=False)
        self._notices.once(notice or key, f"Workcrew: {reason}")

    def _too_large(self, uri: str, chars: int) -> str:
        limit = self._limits().document_mb
        return (f"{short(uri)} is too large for Workcrew ({chars / (1024 * 1024):.1f} Mi characters; the limit is "
                f"{limit} Mi, setting {SETTING}.documentMb): its findings follow the file on disk, not unsaved edits")

    def put_text_document(self, text_document: types.TextDocumentItem, notebook_uri: str | None = None) -> None:
        uri = text_document.uri
        if len(uri) > MAX_URI:
            log.debug("didOpen with a %d-character URI ignored", len(uri))
            return
        key = unquote(uri)
        limits = self._limits()
        if len(text_document.text) > limits.document_chars:
            self._refuse(key, self._too_large(uri, len(text_document.text)))
            return
        if key not in self._text_documents and len(self._text_documents) >= limits.open_documents:
            # one warning however many are refused: the first says what happens to the others
            self._refuse(key, f"{limits.open_documents} documents are open, the most Workcrew follows (setting "
                              f"{SETTING}.openDocuments): {short(uri)} and documents opened after it are read "
                              "from disk, without unsaved edits", notice="open documents")
            return
        self._refused.pop(key, None)
        super().put_text_document(text_document, notebook_uri)

    def update_text_document(self, text_doc: types.VersionedTextDocumentIdentifier,
                             change: types.TextDocumentContentChangeEvent) -> None:
        uri = text_doc.uri
        document = self._text_documents.get(unquote(uri)) if len(uri) <= MAX_URI else None
        if document is None:  # never opened, refused, or closed: nothing to update
            log.debug("didChange for %s, which is not open: ignored", short(uri))
            return
        try:
            document.apply_change(change)
        except Exception:  # a change that does not fit the text: the copy is out of sync, so it is dropped
            log.warning("a change to %s could not be applied; its editor copy is dropped", short(uri), exc_info=True)
            self._refuse(unquote(uri), f"a change to {short(uri)} could not be applied: reopen it so Workcrew "
                                       "follows its unsaved edits again")
            return
        document.version = text_doc.version
        size = len(document.source)
        if size > self._limits().document_chars:
            self._refuse(unquote(uri), self._too_large(uri, size))

    def remove_text_document(self, doc_uri: str) -> None:
        if len(doc_uri) > MAX_URI:
            return
        key = unquote(doc_uri)
        self._refused.pop(key, None)
        super().remove_text_document(doc_uri)
