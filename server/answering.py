"""pygls's request bookkeeping, made to answer every request and to keep nothing once it is answered.

Besides the futures pygls never removes from ``_request_futures`` (request_futures.py), two things keep a
request alive after its response (tracemalloc and ``gc.DEBUG_SAVEALL`` on a server fed 2 MB arguments):

* ``future.result()`` re-raises a handler's exception inside frames that hold the future, a reference cycle
  (exception → traceback → frame → future → exception) that only a full garbage collection frees;
* exceptions travel with their tracebacks, and each frame of those holds the request's arguments.

Here results are read without re-raising, and an exception's tracebacks
are dropped once it is logged and answered. Errors that are bugs (not a ``JsonRpcException``) are answered
with a message that says what to do rather than the exception's text and a traceback in ``data``.
"""

from __future__ import annotations

import logging
from typing import Any

from lsprotocol.types import ResponseError
from pygls.exceptions import (
    FeatureNotificationError,
    FeatureRequestError,
    JsonRpcException,
    JsonRpcInternalError,
    JsonRpcMethodNotFound,
    JsonRpcRequestCancelled,
)
from pygls.protocol import LanguageServerProtocol

log = logging.getLogger(__name__)

MsgId = int | str
INTERNAL_ERROR_MESSAGE = ("the Workcrew language server failed on this request ({kind}); the details are in its "
                          "log (set WORKCREW_LOG_FILE to keep one) — please report it")


def drop_tracebacks(error: BaseException | None) -> None:
    """Cut an exception (and its causes and contexts) loose from the frames it was raised through."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        current.__traceback__ = None
        pending += [current.__cause__, current.__context__]


def finished_error(future: Any) -> BaseException | None:
    """The exception a done future ended with (None if it succeeded or was cancelled), without raising it."""
    if future.cancelled():
        return None
    error: BaseException | None = future.exception()
    return error


def response_error(error: BaseException) -> ResponseError:
    if isinstance(error, JsonRpcException):
        return error.to_response_error()
    return ResponseError(code=JsonRpcInternalError.CODE,
                         message=INTERNAL_ERROR_MESSAGE.format(kind=type(error).__name__))


class AnsweringProtocol(LanguageServerProtocol):
    """pygls's LSP protocol whose request futures and exceptions do not outlive the request."""

    def _send_handler_result(self, future: Any, *, msg_id: MsgId) -> None:
        self._request_futures.pop(msg_id, None)
        error = finished_error(future)
        try:
            if future.cancelled():
                self._send_response(msg_id, error=JsonRpcRequestCancelled(
                    f"request {msg_id!r} was cancelled").to_response_error())
            elif error is None:
                self._send_response(msg_id, result=future.result())
            else:
                if not isinstance(error, JsonRpcException):
                    log.error("request %r failed", msg_id, exc_info=error)
                self._send_response(msg_id, error=response_error(error))
                self._server._report_server_error(
                    error if isinstance(error, Exception) else JsonRpcInternalError(), FeatureRequestError)
        finally:
            drop_tracebacks(error)

    def _check_handler_result(self, future: Any) -> None:
        error = finished_error(future)
        if error is None:
            return
        try:
            log.error("a notification's handler failed", exc_info=error)
            self._server._report_server_error(
                JsonRpcInternalError(INTERNAL_ERROR_MESSAGE.format(kind=type(error).__name__)),
                FeatureNotificationError)
        finally:
            drop_tracebacks(error)

    def _get_handler(self, feature_name: str) -> Any:
        try:
            return super()._get_handler(feature_name)
        except JsonRpcMethodNotFound:
            raise JsonRpcMethodNotFound(f"unknown method {feature_name[:200]!r}: the Workcrew language server "
                                        "does not handle it") from None
