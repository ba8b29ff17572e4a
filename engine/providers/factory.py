"""Choosing the model client a run's settings ask for (the one module that knows every provider)."""

from __future__ import annotations

from ..errors import UsageError
from ..settings import Settings
from .base import ModelClient


def make_client(settings: Settings) -> ModelClient:
    """The model client the settings ask for."""
    if settings.provider == "simulated":
        from .simulated import SimulatedModel

        return SimulatedModel.from_settings(settings)
    if settings.provider == "anthropic":
        try:
            from .anthropic import AnthropicModel
        except ImportError as exc:  # pragma: no cover - the SDK is a hard dependency
            raise UsageError(f"the anthropic provider is unavailable: {exc}") from None
        client: ModelClient = AnthropicModel.from_settings(settings)
        return client
    raise UsageError(f"unknown provider {settings.provider!r}: use 'simulated' or 'anthropic'")
