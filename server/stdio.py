"""``workcrew serve`` on stdio: our own reading side in place of pygls's ``start_io``.

pygls 2.1 reads stdin with ``readline()``/``read(n)`` calls on its thread pool and a case-sensitive
``Content-Length: N\\r\\n`` match: one bad header leaves it deaf, a huge length makes it read (and allocate)
that much, and an exception there ends the process. Here one daemon thread reads the pipe in chunks, frames
them (:mod:`.framing`: validated headers, a size cap, resynchronisation) and decodes them (:mod:`.messages`);
the event loop gets whole messages and faults through a small queue (so a fast client cannot make the
reader run ahead without bound) and answers every one (:mod:`.dispatch`). Writing stays pygls's, through
a writer that notices when the editor is gone.

The loop ends on ``exit``, at the end of input (the editor closed the pipe or died), when a write finds the
editor gone, or on SIGTERM / SIGHUP / SIGINT — never because of what the client sent. The caller learns
which (:class:`Stopped`) and records the runs this process owned as interrupted.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, BinaryIO

from .dispatch import Dispatcher, Item
from .framing import Frame, FrameParser
from .messages import decode

log = logging.getLogger(__name__)

READ_SIZE = 1024 * 1024
QUEUE_BATCHES = 4  # chunks decoded ahead of the event loop; the reader waits beyond that
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


@dataclass(frozen=True)
class Stopped:
    """Why serving ended: ``exited`` after the client's ``exit``, else ``reason`` (for the runs' records)."""

    exited: bool
    reason: str


class StdoutWriter:
    """pygls's writer interface over stdout; a write to an editor that is gone ends serving, not the process."""

    def __init__(self, stream: BinaryIO, gone: Callable[[], None]) -> None:
        self._stream = stream
        self._gone = gone
        self.closed = False

    def write(self, data: bytes) -> None:
        if self.closed:
            return
        try:
            self._stream.write(data)
            self._stream.flush()
        except (OSError, ValueError):  # EPIPE, a reset, or a closed file: nobody is reading any more
            self.closed = True
            self._gone()

    def close(self) -> None:
        self.closed = True
        try:
            self._stream.close()
        except (OSError, ValueError):
            pass


def return_freed_memory() -> None:
    """Make glibc hand big freed blocks back to the system.

    glibc raises its mmap threshold each time a large block is freed (up to 32 MiB), after which blocks of
    a few MB come from the heap and stay in the process when freed: a daemon that reads a few large
    messages keeps their size in RSS for the day. A fixed threshold keeps them in mmap, returned on free.
    """
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt(-3, 256 * 1024)  # M_MMAP_THRESHOLD (fixing it also turns the dynamic adjustment off)
    except (OSError, AttributeError):  # not glibc (musl, macOS): their allocators behave differently
        log.debug("mallopt is not available")


def serve_stdio(server: Any, max_message_bytes: int, stdin: BinaryIO | None = None,
                stdout: BinaryIO | None = None) -> Stopped:
    """Serve the LSP on stdin/stdout until the client leaves; returns why it ended."""
    return_freed_memory()
    source = stdin or sys.stdin.buffer
    return asyncio.run(_serve(server, source.fileno(), stdout or sys.stdout.buffer, max_message_bytes))


async def _serve(server: Any, fd: int, stdout: BinaryIO, max_message_bytes: int) -> Stopped:
    loop = asyncio.get_running_loop()
    stopped: asyncio.Future[Stopped] = loop.create_future()

    def stop(reason: str) -> None:
        if not stopped.done():
            stopped.set_result(Stopped(False, reason))

    def gone() -> None:  # a write found the pipe closed (writes happen on the loop, but may come from a thread)
        loop.call_soon_threadsafe(stop, "the editor disconnected (its end of the pipe is closed)")

    server.protocol.set_writer(StdoutWriter(stdout, gone))
    for number in _STOP_SIGNALS:
        loop.add_signal_handler(number, stop, f"the language server was stopped ({signal.Signals(number).name})")
    queue: asyncio.Queue[list[Item] | None] = asyncio.Queue(QUEUE_BATCHES)
    reader = threading.Thread(target=_read, args=(fd, FrameParser(max_message_bytes), loop, queue),
                              name="workcrew-stdin", daemon=True)
    reader.start()
    dispatcher = Dispatcher(server.protocol)
    try:
        while True:
            batch = await _next(queue, stopped)
            if batch is None:
                return stopped.result() if stopped.done() else Stopped(False, "the editor disconnected")
            for item in batch:
                if dispatcher.dispatch(item):
                    return Stopped(True, "exit")
            del batch  # the bodies go now, not when the next one comes in
    finally:
        for number in _STOP_SIGNALS:
            loop.remove_signal_handler(number)
        # serving is over: asyncio.run now cancels the handlers still running, and pygls reads each one's
        # result in a callback, where the cancellation is "an exception in a callback" — expected, not news
        loop.set_exception_handler(_quiet_about_cancellation)


def _quiet_about_cancellation(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    if isinstance(context.get("exception"), asyncio.CancelledError):
        log.debug("cancelled at exit: %s", context.get("message"))
        return
    loop.default_exception_handler(context)


async def _next(queue: asyncio.Queue[list[Item] | None], stopped: asyncio.Future[Stopped]) -> list[Item] | None:
    if stopped.done():
        return None
    if not queue.empty():
        return queue.get_nowait()
    getting = asyncio.ensure_future(queue.get())
    await asyncio.wait((getting, stopped), return_when=asyncio.FIRST_COMPLETED)
    if getting.done():
        return getting.result()
    getting.cancel()
    return None


def _read(fd: int, parser: FrameParser, loop: asyncio.AbstractEventLoop,
          queue: asyncio.Queue[list[Item] | None]) -> None:
    """The reader thread: chunks in, decoded messages and faults out, in order, with backpressure."""
    while True:
        try:
            chunk = os.read(fd, READ_SIZE)
        except OSError as exc:
            log.warning("reading stdin failed: %s", exc)
            chunk = b""
        events = parser.feed(chunk) if chunk else parser.close()
        batch: list[Item] = [decode(event.body) if isinstance(event, Frame) else event for event in events]
        del events
        if batch and not _hand_over(loop, queue, batch):
            return
        del batch
        if not chunk:
            _hand_over(loop, queue, None)
            return


def _hand_over(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[list[Item] | None],
               batch: list[Item] | None) -> bool:
    try:
        done: Future[None] = asyncio.run_coroutine_threadsafe(queue.put(batch), loop)
    except RuntimeError:  # the loop is closed: serving is over
        return False
    try:
        done.result()
    except Exception:  # the put was cancelled as the loop shut down
        return False
    return True
