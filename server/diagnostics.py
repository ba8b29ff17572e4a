"""The diagnostics store: live findings indexed by file, anchored by snippet, pushed or pulled.

Findings arrive from runs as they are reported. Each file's set is re-anchored when its text changes
(snippet found again → moved; gone → stale, not shown; the fix's new text present → fixed, dropped).
Publishing is coalesced per file and flushed at most every ~100 ms, and at once when a run ends.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from lsprotocol import types
from pygls.workspace import PositionCodec
from pygls.workspace.position_codec import ServerTextPosition

from .anchoring import Span, Text, locate, snippet_at
from .documents import Documents, canonical, read_files
from .finding_labels import age_line, source_label

log = logging.getLogger(__name__)

SOURCE = "workcrew"  # the source before it named the workflow and run (finding_labels.py); still recognised
FLUSH_INTERVAL_S = 0.1
REFRESH_INTERVAL_S = 0.5
INLINE_READS = 16  # files read on the loop at once at most; more go to a worker thread
INLINE_MAX_BYTES = 256 * 1024
SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}


@dataclass
class Tracked:
    """One finding as the editor sees it now."""

    finding: dict[str, Any]
    run_id: str
    workflow: str
    path: Path
    snippet: str | None
    hint_line: int  # 0-based, where it was last seen
    span_lines: int = 0  # how many lines after the first the finding covers
    span: Span | None = None
    state: str = "new"  # new | live | stale
    anchored_on: Any = None
    first_seen: float = field(default_factory=time.time)  # when its workflow first reported it (finding_labels.py)

    @property
    def id(self) -> str:
        return str(self.finding["id"])

    @property
    def fingerprint(self) -> str:
        return str(self.finding.get("fingerprint") or self.id)

    @property
    def title(self) -> str:
        return str(self.finding.get("title", ""))

    @property
    def fix(self) -> dict[str, Any] | None:
        fix = self.finding.get("fix")
        return fix if isinstance(fix, dict) and fix.get("edits") else None

    @property
    def confirmed(self) -> bool:
        return self.finding.get("verdict") == "confirmed"


@dataclass
class Publisher:
    """How the store talks to the client (the server provides these)."""

    publish: Callable[[str, list[dict[str, Any]], int | None], None]
    refresh: Callable[[], None]
    codec: Callable[[], PositionCodec]
    pull: Callable[[], bool]
    related_information: Callable[[], bool] = field(default=lambda: True)


class DiagnosticsStore:
    def __init__(self, documents: Documents, publisher: Publisher, limiter: anyio.CapacityLimiter) -> None:
        self.documents = documents
        self.publisher = publisher
        self.limiter = limiter
        self._workspace: Path = Path.cwd()
        self._resolved: dict[str, Path] = {}
        self.by_id: dict[str, Tracked] = {}
        self.by_path: dict[Path, dict[str, Tracked]] = {}
        self.dismissed: set[str] = set()
        self._by_fingerprint: dict[tuple[str, str], str] = {}  # (workflow, fingerprint) → the finding shown
        self.generation: dict[Path, int] = {}
        self._cache: dict[Path, tuple[Any, list[dict[str, Any]]]] = {}
        self._dirty: set[Path] = set()
        self._published: set[Path] = set()
        self._wake = asyncio.Event()
        self._flush_lock = asyncio.Lock()
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="workcrew-read")
        self._reading: dict[Path, Future[dict[Path, str | None]]] = {}
        self._refreshed = 0.0
        self._task: asyncio.Task[None] | None = None
        # told of findings whose fix was applied (in the editor or on disk): the server records them as fixed
        self.on_fixed: Callable[[list[Tracked]], None] | None = None

    @property
    def workspace(self) -> Path:
        return self._workspace

    @workspace.setter
    def workspace(self, value: Path) -> None:
        self._workspace = value
        self._resolved.clear()

    # -- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._flusher(), name="workcrew-diagnostics")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._reader.shutdown(wait=False, cancel_futures=True)

    async def _flusher(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.flush()
            except Exception:  # one bad file must not stop publishing for the others
                log.exception("publishing diagnostics failed")
            await asyncio.sleep(FLUSH_INTERVAL_S)

    def _touch(self, paths: Iterable[Path]) -> None:
        for path in paths:
            self._dirty.add(path)
            self.generation[path] = self.generation.get(path, 0) + 1
            self._cache.pop(path, None)
        self._wake.set()

    def resolve(self, relative: str) -> Path:
        """A workspace-relative path as a canonical absolute one (cached: thousands of findings share files)."""
        found = self._resolved.get(relative)
        if found is None:
            found = self._resolved[relative] = canonical(os.path.join(self.workspace, relative))
        return found

    # -- findings in ---------------------------------------------------------------------------------

    def add(self, run_id: str, workflow: str, finding: dict[str, Any], *,
            first_seen: float | None = None) -> Tracked | None:
        """Track a reported finding; None when it is dismissed, refuted or points outside the workspace.
        ``first_seen``: when its workflow first reported it (default: when the finding it replaces was, or now)."""
        location = finding.get("location") or {}
        relative = location.get("path")
        if not finding.get("id") or not isinstance(relative, str):
            return None
        if finding.get("fingerprint") in self.dismissed or finding.get("verdict") == "refuted":
            return None
        path = self.resolve(relative)
        if path != self.workspace and self.workspace not in path.parents:
            return None
        previous = self.by_id.pop(str(finding["id"]), None)
        if previous is not None:
            self.by_path.get(previous.path, {}).pop(previous.id, None)
        fingerprint = finding.get("fingerprint")
        if fingerprint:  # the same issue reported again (a re-run, a second finder): one diagnostic, the newest
            same = self._by_fingerprint.get((workflow, str(fingerprint)))
            earlier = self.by_id.get(same) if same is not None else None
            if first_seen is None and earlier is not None:
                first_seen = earlier.first_seen
            if same is not None and same != str(finding["id"]):
                self.remove([same])
            self._by_fingerprint[(workflow, str(fingerprint))] = str(finding["id"])
        start = int(location.get("start_line") or 1) - 1
        snippet = location.get("snippet")
        tracked = Tracked(finding, run_id, workflow, path, snippet if isinstance(snippet, str) else None,
                          max(0, start), max(0, int(location.get("end_line") or start + 1) - 1 - start))
        if first_seen is None and previous is not None:
            first_seen = previous.first_seen
        if first_seen is not None:
            tracked.first_seen = first_seen
        self.by_id[tracked.id] = tracked
        self.by_path.setdefault(path, {})[tracked.id] = tracked
        self._prefetch(path)
        self._touch([path])
        return tracked

    def _prefetch(self, path: Path) -> None:
        """Start reading a file that is not open as soon as it has a finding: a worker thread reads it
        while the run goes on, so publishing never waits for the disk."""
        if path in self._reading or self.documents.needs_disk({path}) == []:
            return
        try:
            self._reading[path] = self._reader.submit(read_files, [path])
        except RuntimeError:  # shutting down: ensure_texts reads it if anyone still asks
            pass

    def remove(self, finding_ids: Iterable[str]) -> None:
        touched: set[Path] = set()
        for finding_id in finding_ids:
            tracked = self.by_id.pop(finding_id, None)
            if tracked is not None:
                self.by_path.get(tracked.path, {}).pop(finding_id, None)
                touched.add(tracked.path)
        self._touch(touched)

    def dismiss(self, fingerprint: str) -> list[str]:
        """Forget every finding with this fingerprint, now and in later runs; the ids removed."""
        self.dismissed.add(fingerprint)
        ids = [t.id for t in self.by_id.values() if t.fingerprint == fingerprint]
        self.remove(ids)
        return ids

    def clear(self, keep: Callable[[Tracked], bool]) -> None:
        self.remove([t.id for t in self.by_id.values() if not keep(t)])

    def get(self, finding_id: str) -> Tracked | None:
        return self.by_id.get(finding_id)

    def run_findings(self, run_id: str) -> list[Tracked]:
        return [t for t in self.by_id.values() if t.run_id == run_id]

    def latest_run(self) -> str | None:
        latest = None
        for tracked in self.by_id.values():  # dicts keep insertion order: the last one seen is the newest
            latest = tracked.run_id
        return latest

    # -- documents -----------------------------------------------------------------------------------

    def document_changed(self, path: Path) -> None:
        if path in self.by_path or path in self._published:
            self._touch([path])

    def document_closed(self, path: Path) -> None:
        self.document_changed(path)

    def file_changed_on_disk(self, path: Path) -> None:
        self._reading.pop(path, None)
        self.documents.forget_disk(path)
        self.document_changed(path)

    # -- anchoring -------------------------------------------------------------------------------------

    def anchor_path(self, path: Path) -> Text | None:
        """Re-locate the file's findings against the text the editor shows; None if that text is unknown."""
        text = self.documents.text(path)
        if text is None:
            return None
        key = text.serial
        fixed: list[str] = []
        for tracked in list(self.by_path.get(path, {}).values()):
            if tracked.anchored_on == key:
                continue
            tracked.anchored_on = key
            if self._fix_applied(tracked, path, text):
                fixed.append(tracked.id)
                continue
            if tracked.snippet is None and tracked.state == "new":
                tracked.snippet = snippet_at(text, tracked.hint_line, tracked.hint_line + tracked.span_lines)
            span = locate(text, tracked.snippet, tracked.hint_line)
            if span is None:
                tracked.state, tracked.span = "stale", None
            else:
                tracked.state, tracked.span, tracked.hint_line = "live", span, span.start_line
        if fixed:
            closed = []
            for finding_id in fixed:
                gone = self.by_id.pop(finding_id, None)
                if gone is not None:
                    self.by_path.get(path, {}).pop(finding_id, None)
                    closed.append(gone)
            self._cache.pop(path, None)
            if closed and self.on_fixed is not None:
                self.on_fixed(closed)
        return text

    def _fix_applied(self, tracked: Tracked, path: Path, text: Text) -> bool:
        """The fix's edits for this file are in (their old text gone, their new text present)."""
        if tracked.state == "new" or tracked.fix is None:
            return False
        edits = [e for e in tracked.fix["edits"]
                 if isinstance(e, dict) and self.resolve(str(e.get("path", ""))) == path]
        if not edits:
            return False
        return all(_edit_in(str(e.get("old", "")), str(e.get("new", "")), text.source) for e in edits)

    async def ensure_texts(self, paths: Iterable[Path]) -> None:
        """Read files that are not open and not cached yet, off the event loop."""
        missing = self.documents.needs_disk(set(paths))
        if not missing:
            return
        reading = [self._reading.pop(p) for p in missing if p in self._reading]
        if all(f.done() for f in reading):
            results = [f.result() for f in reading]
        else:
            results = await asyncio.gather(*(asyncio.wrap_future(f) for f in reading))
        for texts in results:
            self.documents.store_disk(texts)
        missing = self.documents.needs_disk(set(missing))
        if not missing:
            return
        if len(missing) <= INLINE_READS:
            # a few small source files read in microseconds; a thread hop on a busy machine can take
            # far longer, and these files gate what the user sees (read_files caps each file's size)
            small = [p for p in missing if _size(p) <= INLINE_MAX_BYTES]
            self.documents.store_disk(read_files(small))
            read = set(small)
            missing = [p for p in missing if p not in read]
            if not missing:
                return
        texts = await anyio.to_thread.run_sync(read_files, missing, limiter=self.limiter)
        self.documents.store_disk(texts)

    # -- diagnostics out -------------------------------------------------------------------------------

    def diagnostics(self, path: Path) -> list[dict[str, Any]]:
        """The file's diagnostics as LSP JSON (plain dicts: thousands are built per run, and typed
        objects would cost a validator per position and a converter pass per publish)."""
        text = self.anchor_path(path)
        key = (text.serial if text is not None else None, self.generation.get(path, 0))
        cached = self._cache.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
        out: list[dict[str, Any]] = []
        if text is not None:
            codec = self.publisher.codec()
            live = [t for t in self.by_path.get(path, {}).values() if t.state == "live" and t.span is not None]
            live.sort(key=lambda t: (t.span.start_line, t.span.start_col) if t.span else (0, 0))
            for tracked in live:
                out.append(self.to_diagnostic(tracked, text, codec))
        self._cache[path] = (key, out)
        return out

    def to_diagnostic(self, tracked: Tracked, text: Text, codec: PositionCodec) -> dict[str, Any]:
        assert tracked.span is not None
        span = tracked.span
        lines = text.lines
        start = client_position(lines, span.start_line, span.start_col, codec)
        end = client_position(lines, span.end_line, span.end_col, codec)
        finding = tracked.finding
        message = tracked.title
        if finding.get("message"):
            message += f"\n{finding['message']}"
        if tracked.confirmed:
            votes = finding.get("votes") or {}
            if votes.get("confirm"):
                message += f" (confirmed by {votes['confirm']} of {votes['confirm'] + votes.get('refute', 0)})"
        message += f"\n{age_line(tracked.first_seen)}"  # as of this publish: no re-publish for the age alone
        diagnostic: dict[str, Any] = {
            "range": {"start": start, "end": end},
            "message": message,
            "severity": int(SEVERITY.get(str(finding.get("severity")), types.DiagnosticSeverity.Warning)),
            "source": source_label(tracked.workflow, tracked.run_id),
            "code": str(finding.get("category") or "finding"),
            "data": {"runId": tracked.run_id, "findingId": tracked.id},
        }
        related = self._related(tracked) if self.publisher.related_information() else None
        if related:
            diagnostic["relatedInformation"] = related
        return diagnostic

    def _related(self, tracked: Tracked) -> list[dict[str, Any]]:
        out = []
        for item in tracked.finding.get("evidence") or []:
            if not isinstance(item, dict):
                continue
            own_path = str(tracked.finding["location"]["path"])
            where = self.resolve(str(item.get("path") or own_path))
            if item.get("line"):
                line = max(0, int(item["line"]) - 1)
            else:  # a note with no line (a skeptic's verdict) is about the finding itself: its line, not the file's top
                same_file = str(item.get("path") or own_path) == own_path
                line = tracked.span.start_line if same_file and tracked.span is not None else 0
            position = {"line": line, "character": 0}
            out.append({"location": {"uri": self.documents.uri(where), "range": {"start": position, "end": position}},
                        "message": str(item.get("note") or "evidence")})
        return out

    async def flush(self, *, final: bool = False) -> None:
        """Publish every file whose findings or text changed (push), or ask pull clients to re-pull.

        ``final`` (a run ended, a finding was dismissed) skips the pull clients' refresh throttle.
        """
        async with self._flush_lock:
            if not self._dirty:
                return
            if self.publisher.pull() and not final and time.monotonic() - self._refreshed < REFRESH_INTERVAL_S:
                self._wake.set()  # a refresh makes the editor re-pull every open file: not 10 times a second
                return
            dirty, self._dirty = self._dirty, set()
            began = time.perf_counter()
            await self.ensure_texts(dirty)
            log.debug("flush: %d file(s), texts read in %.3f s", len(dirty), time.perf_counter() - began)
            if self.publisher.pull():
                for path in dirty:
                    self.anchor_path(path)
                self._refreshed = time.monotonic()
                self.publisher.refresh()
                return
            cpu = time.thread_time()
            log.debug("flush: %d file(s) at %.3f", len(dirty), time.time())
            for path in sorted(dirty):
                diagnostics = self.diagnostics(path)
                if not diagnostics and path not in self._published:
                    continue
                self.publisher.publish(self.documents.uri(path), diagnostics, self.documents.version(path))
                if diagnostics:
                    self._published.add(path)
                else:
                    self._published.discard(path)
            log.debug("flush: done at %.3f, %.1f ms of this thread's CPU", time.time(),
                      (time.thread_time() - cpu) * 1000)

    def result_id(self, path: Path) -> str:
        return f"{self.generation.get(path, 0)}@{self.documents.version(path)}"

    def paths(self) -> list[Path]:
        return [p for p, items in self.by_path.items() if items]

    def reported_paths(self) -> list[Path]:
        """The files a workspace diagnostic report names: every file that has had findings, also once they are
        gone (fixed, dismissed, closed by a run). An editor keeps a file's last report until a report names it
        again, so only an empty one clears it; after that its result id makes it an unchanged report."""
        return list(self.generation)


def _edit_in(old: str, new: str, source: str) -> bool:
    """The replacement is in the text: ``new`` is there and ``old`` only survives inside copies of ``new``."""
    if not new or new not in source:
        return False
    return source.count(old) <= source.count(new) * new.count(old) if old else True


def client_position(lines: list[str], line: int, col: int, codec: PositionCodec) -> dict[str, int]:
    """A code-point position in the client's units; ASCII lines (most code) need no conversion."""
    if line < len(lines) and lines[line].isascii():
        return {"line": line, "character": col}
    position = codec.position_to_client_units(lines, ServerTextPosition(line, col))
    return {"line": position.line, "character": position.character}


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # missing: read_files records it as empty, and its findings go stale
