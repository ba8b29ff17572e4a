"""The provider interface: a model answers one turn of an agent's conversation.

Requests and responses use the Anthropic Messages shapes (content blocks as dicts) so that the
simulated model, the HTTP simulator and the real API are interchangeable under one agent loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..cost.pricing import Usage
from ..errors import WorkcrewError

if TYPE_CHECKING:
    pass


@dataclass
class ModelRequest:
    model: str
    system: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    max_tokens: int
    tools: list[dict[str, Any]] = field(default_factory=list)
    # the API's server tools (web search / web fetch specs from providers.web.WebTools): sent after ``tools``,
    # run by the API inside the request; none unless the agent was given them
    server_tools: list[dict[str, Any]] = field(default_factory=list)
    output_schema: dict[str, Any] | None = None
    effort: str | None = None
    # what the scenario engine and telemetry match on; never part of the prompt
    label: str | None = None
    role: str = "agent"
    agent_type: str | None = None
    prompt: str = ""
    # prompt caching: providers put cache breakpoints on the shared prefix (tools → system → the
    # shared head of the first prompt) and on the moving end of the agent's own history
    cache: bool = True


@dataclass
class ModelResponse:
    content: list[dict[str, Any]]
    stop_reason: str
    usage: Usage
    model: str
    request_id: str | None = None

    @property
    def text(self) -> str:
        return "".join(b.get("text", "") for b in self.content if b.get("type") == "text")

    @property
    def tool_uses(self) -> list[dict[str, Any]]:
        return [b for b in self.content if b.get("type") == "tool_use"]


RATE_LIMITED_STATUSES = frozenset({429, 529})  # rate limited, overloaded: both lower the run's concurrency


class TransientModelError(WorkcrewError):
    """A fault worth retrying: rate limit, overload, server error, dropped or stalled stream.

    ``rate_limited`` marks a fault that says the API is past its capacity (a 429 or a 529, on the status
    line or in the stream): the run's scheduler lowers its concurrency for it."""

    def __init__(self, reason: str, *, status: int | None = None, retry_after: float | None = None,
                 rate_limited: bool = False) -> None:
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
        self.rate_limited = rate_limited
        super().__init__(reason)


class FatalModelError(WorkcrewError):
    """A fault retrying cannot fix: bad request, authentication, refusal, context overflow.

    ``stops_run`` marks a fault of the account, not of the request (credentials, permission, billing, a
    usage limit): every other agent would meet it too, so the run stops instead of launching more."""

    def __init__(self, reason: str, *, status: int | None = None, stops_run: bool = False) -> None:
        self.reason = reason
        self.status = status
        self.stops_run = stops_run
        super().__init__(reason)


class ModelClient(Protocol):
    name: str

    async def turn(self, request: ModelRequest) -> ModelResponse: ...

    async def count_tokens(self, request: ModelRequest) -> int: ...

    async def aclose(self) -> None: ...


_USAGE_LIMIT = ("usage limit", "spend limit", "spending limit", "quota")
_BILLING = ("credit balance", "billing", "payment", "insufficient credit")


def account_problem(status: int, detail: str) -> str | None:
    """What is wrong with the account when a response says so (the run must stop), else None."""
    lowered = detail.lower()
    if status == 401:
        return "the API refused the credentials: check ANTHROPIC_API_KEY"
    if status == 403:
        return "the API key may not use this (permission denied): check the key's workspace and model access"
    if status == 402 or any(word in lowered for word in _BILLING):
        return "the account cannot pay for more requests (billing or credit): the run stopped; resume it later"
    if any(word in lowered for word in _USAGE_LIMIT):
        return "the account reached its usage limit: the run stopped; resume it when the limit lifts"
    return None
