"""Model providers: one model turn at a time, behind the :class:`ModelClient` protocol — the Anthropic API
(``anthropic``), the simulated model (``simulated``, answering from a ``scenario``) and the HTTP
simulator of the Messages API the tests point the real SDK at (``simulator``); ``factory`` picks one.

May use: cost's ``pricing`` (usage), settings and errors. Never the runtime or agents."""

from .base import FatalModelError, ModelClient, ModelRequest, ModelResponse, TransientModelError
from .factory import make_client

__all__ = [
    "FatalModelError",
    "ModelClient",
    "ModelRequest",
    "ModelResponse",
    "TransientModelError",
    "make_client",
]
