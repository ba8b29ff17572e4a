"""Paths, URIs and document text: open documents from the editor, other files from disk."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

from pygls import uris

from .anchoring import Text

if TYPE_CHECKING:
    from pygls.workspace import TextDocument, Workspace


def canonical(path: str | Path) -> Path:
    return _canonical(str(path))


@lru_cache(maxsize=65536)
def _canonical(path: str) -> Path:
    # realpath costs syscalls per component, and every finding and evidence item needs it
    return Path(os.path.realpath(path))


def path_of(uri: str) -> Path | None:
    """The file a ``file:`` URI names; None for other schemes (untitled:, notebook cells)."""
    fs_path = uris.to_fs_path(uri)
    if not fs_path or "\x00" in fs_path:  # file:///a%00b names no file any system takes
        return None
    return canonical(fs_path)


@lru_cache(maxsize=65536)
def uri_of(path: Path) -> str:
    return uris.from_fs_path(str(path)) or path.as_uri()


class Documents:
    """Which files the editor has open (by canonical path) and a cache of the others' text on disk."""

    def __init__(self) -> None:
        self.open_uris: dict[Path, str] = {}
        self._open_uri_set: set[str] = set()  # the URIs of open_uris, as the editor spelled them
        self._disk: dict[Path, Text] = {}
        self._texts: dict[Path, tuple[int | None, Text]] = {}
        self.workspace: Workspace | None = None

    def opened(self, uri: str) -> Path | None:
        path = path_of(uri)
        if path is not None:
            previous = self.open_uris.get(path)
            if previous is not None:
                self._open_uri_set.discard(previous)
            self.open_uris[path] = uri
            self._open_uri_set.add(uri)
            self._disk.pop(path, None)
        return path

    def is_open(self, uri: str) -> bool:
        """Whether the editor's copy of ``uri`` is followed (by its exact URI: no path work for unknown ones)."""
        return uri in self._open_uri_set

    def closed(self, uri: str) -> Path | None:
        path = path_of(uri)
        if path is not None:
            self._open_uri_set.discard(self.open_uris.pop(path, uri))
            self._texts.pop(path, None)
            self._disk.pop(path, None)  # unsaved edits are gone: read the file again
        return path

    def forget_disk(self, path: Path) -> None:
        self._disk.pop(path, None)

    def document(self, path: Path) -> TextDocument | None:
        uri = self.open_uris.get(path)
        if uri is None or self.workspace is None:
            return None
        document: TextDocument | None = self.workspace.text_documents.get(unquote(uri))
        return document

    def uri(self, path: Path) -> str:
        return self.open_uris.get(path) or uri_of(path)

    def version(self, path: Path) -> int | None:
        doc = self.document(path)
        return doc.version if doc is not None else None

    def text(self, path: Path) -> Text | None:
        """The text the editor shows: the open document, else the cached disk text (None if not read yet)."""
        doc = self.document(path)
        if doc is not None:
            cached = self._texts.get(path)
            if cached is not None and cached[0] == doc.version and cached[1].source is doc.source:
                return cached[1]
            text = Text(doc.source)
            self._texts[path] = (doc.version, text)
            return text
        return self._disk.get(path)

    def needs_disk(self, paths: set[Path]) -> list[Path]:
        return [p for p in paths if p not in self.open_uris and p not in self._disk]

    def store_disk(self, texts: dict[Path, str | None]) -> None:
        for path, source in texts.items():
            if path not in self.open_uris:
                self._disk[path] = Text(source if source is not None else "")


def read_files(paths: list[Path], max_bytes: int = 2_000_000) -> dict[Path, str | None]:
    """Disk text of each file (None when missing, unreadable, too large or not UTF-8). Runs in a worker thread."""
    out: dict[Path, str | None] = {}
    for path in paths:
        try:
            if path.stat().st_size > max_bytes:
                out[path] = None
                continue
            out[path] = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            out[path] = None
    return out
