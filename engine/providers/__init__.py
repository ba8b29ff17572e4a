"""Model providers: one model turn at a time, behind the :class:`ModelClient` protocol."""

from .base import (
    FatalModelError,
    ModelClient,
    ModelRequest,
    ModelResponse,
    TransientModelError,
    make_client,
)

__all__ = [
    "FatalModelError",
    "ModelClient",
    "ModelRequest",
    "ModelResponse",
    "TransientModelError",
    "make_client",
]
