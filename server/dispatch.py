"""Every message read from the client gets its due: decoded ones go to pygls, the rest get their error.

Run on the event loop, one message at a time, in the order they came. Before pygls sees a message this
answers what pygls would drop or answer badly (LSP 3.17, "Lifecycle Messages"):

* faults from framing and decoding: -32700 (or -32600 for a message over the size cap), with the request's
  id when it could be recovered, else ``id: null``;
* an envelope that is not JSON-RPC 2.0 (version, id, method, params, batches): -32600;
* a request before ``initialize``: -32002; a second ``initialize``: -32600; notifications then are dropped;
* a request after ``shutdown``: -32600 (pygls drops it silently and the client waits forever);
* params that do not fit the method's type: -32602 (WorkcrewProtocol.structure_message);
* a handler that raises: -32603 with a message that says what to do (answering.py).

Responses from the client to the server's own requests are never answered, even when malformed.
"""

from __future__ import annotations

import logging
from typing import Any

from .framing import INVALID_REQUEST, Fault
from .messages import Decoded, is_response, problems, valid_id

log = logging.getLogger(__name__)

Item = Decoded | Fault
SERVER_NOT_INITIALIZED = -32002
INTERNAL_ERROR = -32603


class Dispatcher:
    def __init__(self, protocol: Any) -> None:
        self.protocol = protocol
        self.initialized = False

    def dispatch(self, item: Item) -> bool:
        """Handle one message; True once the client's ``exit`` has been handled (serving is over)."""
        if isinstance(item, Fault):
            log.warning("client input refused: %s", item.message)
            self.send_error(item.request_id, item.code, item.message)
            return False
        value = item.value
        faults = problems(value)
        if faults:
            if is_response(value):
                log.warning("a malformed response from the client was ignored: %s", faults[0].message)
                return False
            for fault in faults:
                self.send_error(fault.request_id, fault.code, fault.message)
            return False
        request_id = value.get("id") if "method" in value and valid_id(value.get("id")) else None
        if "method" in value and not self._admitted(value["method"], request_id):
            return False
        if "method" in value:
            value.setdefault("params", None)  # JSON-RPC lets a request leave params out; pygls's generic types do not
        try:
            message = self.protocol.structure_message(value)
            del value
            if getattr(message, "jsonrpc", None) != "2.0":
                return False  # already answered (invalid params)
            if getattr(message, "method", None) == "initialize":
                self.initialized = True
            self.protocol.handle_message(message)
        except SystemExit:  # pygls's `exit` handler ends the process this way: here it ends serving
            return True
        except Exception as exc:
            log.error("a message from the client could not be handled", exc_info=exc)
            if request_id is not None:
                self.send_error(request_id, INTERNAL_ERROR, (
                    f"the Workcrew language server could not handle this request ({type(exc).__name__}); the "
                    "details are in its log (set WORKCREW_LOG_FILE to keep one) — please report it"))
            exc.__traceback__ = None
        return False

    def _admitted(self, method: str, request_id: int | str | None) -> bool:
        """Whether the server's lifecycle lets this request or notification through now."""
        if method == "exit":
            return True
        if self.protocol._shutdown:
            if request_id is not None:
                self.send_error(request_id, INVALID_REQUEST, (
                    f"the server is shutting down ('shutdown' was received), so {method!r} was not run; only the "
                    "'exit' notification is accepted now"))
            return False
        if method == "initialize" and self.initialized:
            if request_id is not None:
                self.send_error(request_id, INVALID_REQUEST, "'initialize' was already received; it is sent once")
            return False
        if not self.initialized and method != "initialize":
            if request_id is not None:
                self.send_error(request_id, SERVER_NOT_INITIALIZED,
                                f"the server is not initialized yet: send 'initialize' before {method!r}")
            return False
        return True

    def send_error(self, request_id: int | str | None, code: int, message: str) -> None:
        # a plain dict: pygls's typed error message leaves out an id that is null, which JSON-RPC requires
        self.protocol._send_data({"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}})
