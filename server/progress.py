"""Cancellable work-done progress ($/progress begin/report/end) for one run."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING

from lsprotocol import types

if TYPE_CHECKING:
    from .protocol import Server

log = logging.getLogger(__name__)


class RunProgress:
    """Does nothing for clients without window.workDoneProgress."""

    def __init__(self, ls: Server, on_cancel: Callable[[], None]) -> None:
        self.ls = ls
        self.on_cancel = on_cancel
        self.token: str | None = None
        self._last: str | None = None

    async def begin(self, title: str, message: str) -> None:
        if not self.ls.features.work_done_progress:
            return
        token = "workcrew-" + secrets.token_hex(6)
        try:
            await self.ls.work_done_progress.create_async(token)
        except Exception as exc:  # the client refused: the run goes on without a progress bar
            log.info("no progress bar: %s", exc)
            return
        self.token = token
        self.ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(
            title=title, message=message, cancellable=True, percentage=0))
        future = self.ls.work_done_progress.tokens.get(token)
        if future is not None:
            future.add_done_callback(lambda f: self.on_cancel() if f.cancelled() else None)

    def report(self, message: str, percentage: int | None) -> None:
        if self.token is None or message == self._last:
            return
        self._last = message
        self.ls.work_done_progress.report(self.token, types.WorkDoneProgressReport(
            message=message, percentage=percentage, cancellable=True))

    def end(self, message: str) -> None:
        if self.token is None:
            return
        self.ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
        self.ls.work_done_progress.tokens.pop(self.token, None)
        self.token = None
