"""Provider ``anthropic``: one model turn on the official SDK (``AsyncAnthropic``), streamed.

Design choices:

* The SDK's own retries are off (``max_retries=0``): :func:`agent_loop.call_model` retries every
  transient fault itself, honouring ``retry-after``, so that each 429/529 reaches the scheduler,
  which lowers concurrency for the whole run. SDK retries would hide rate limits from it.
* Every turn streams, and a watchdog sees the raw bytes (through a transport wrapper): no byte for
  ``stall_timeout_s`` aborts the turn as a transient fault.
* Prompt caching: one byte-identical prefix per fan-out (tools → system → the shared head of the first
  prompt) ends in a ``cache_control`` breakpoint; a second, moving breakpoint covers an agent's own
  history from its second turn. A per-prefix gate lets the first request with a new prefix go first;
  concurrent requests with that prefix wait until its response has started, then read the cache
  instead of each writing it.
* Web research (``providers/web.py``): server tool specs go after the client tools; the response's
  ``server_tool_use`` / ``web_*_tool_result`` blocks are kept as they came (the loop echoes them back) and
  ``usage.server_tool_use`` is counted in :class:`Usage`.
* The API key never appears in errors, logs or the run store: only SDK error messages, status codes and
  request ids are reported.
"""

from __future__ import annotations

import contextvars
import copy
import dataclasses
import hashlib
import json
import os
import time
from typing import Any
from urllib.parse import quote

import anthropic
import anyio
import httpx2
from pydantic import ValidationError

from ..cost.pricing import Usage
from ..errors import UsageError
from ..settings import Settings
from .base import (
    RATE_LIMITED_STATUSES,
    FatalModelError,
    ModelRequest,
    ModelResponse,
    TransientModelError,
    account_problem,
)
from .scenario import estimate_tokens
from .simulated import request_text

TTL_SECONDS = {"5m": 300.0, "1h": 3600.0}
MIN_CACHE_TOKENS = 1024  # below this the API silently caches nothing; don't gate or split for it
TRANSIENT_STATUSES = {408, 409, 429, 500, 502, 503, 504, 529}


# -- the stall watchdog's view of the wire ---------------------------------------------------------

class _Activity:
    def __init__(self) -> None:
        self.last = time.monotonic()

    def touch(self) -> None:
        self.last = time.monotonic()


_activity: contextvars.ContextVar[_Activity | None] = contextvars.ContextVar("workcrew_activity", default=None)


class _WatchedStream(httpx2.AsyncByteStream):
    def __init__(self, inner: Any, activity: _Activity) -> None:
        self._inner = inner
        self._activity = activity

    async def __aiter__(self) -> Any:
        async for chunk in self._inner:
            self._activity.touch()
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


class WatchedTransport(httpx2.AsyncBaseTransport):
    """Marks the current turn alive on every byte received, for the stall watchdog."""

    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        activity = _activity.get()
        response = await self._inner.handle_async_request(request)
        if activity is None:
            return response
        activity.touch()
        return httpx2.Response(status_code=response.status_code, headers=response.headers,
                               stream=_WatchedStream(response.stream, activity), extensions=response.extensions,
                               request=request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def watched_http_client() -> httpx2.AsyncClient:
    transport = WatchedTransport(httpx2.AsyncHTTPTransport(limits=anthropic.DEFAULT_CONNECTION_LIMITS))
    client: httpx2.AsyncClient = anthropic.DefaultAsyncHttpxClient(transport=transport)
    return client


# -- request shaping -------------------------------------------------------------------------------

def _control(ttl: str) -> dict[str, str]:
    return {"type": "ephemeral", "ttl": ttl}


def split_shared_head(prompt: str, minimum_tokens: int = MIN_CACHE_TOKENS) -> tuple[str, str] | None:
    """(shared head, own task) of a long prompt, split before its last paragraph.

    Fan-out scripts put the shared context first and each agent's task last; the head is then
    byte-identical across the agents and worth a cache breakpoint.
    """
    cut = prompt.rstrip().rfind("\n\n")
    if cut <= 0:
        return None
    head, tail = prompt[: cut + 2], prompt[cut + 2:]
    if estimate_tokens(head) < minimum_tokens or not tail.strip():
        return None
    return head, tail


def build_params(request: ModelRequest, ttl: str = "5m") -> tuple[dict[str, Any], str | None, int]:
    """SDK keyword arguments for one turn; also the shared-prefix key and its size in tokens."""
    tools = [dict(t) for t in request.tools] + [dict(t) for t in request.server_tools]  # web tools after the rest
    system = [dict(b) for b in request.system]
    messages = list(request.messages)
    shared_key: str | None = None
    shared_tokens = 0
    if request.cache:
        if system:
            system[-1]["cache_control"] = _control(ttl)
        elif tools:
            tools[-1]["cache_control"] = _control(ttl)
        shared_parts: list[Any] = [request.model, tools, system]
        first = messages[0] if messages else None
        if first is not None and first.get("role") == "user" and isinstance(first.get("content"), str):
            split = split_shared_head(first["content"])
            if split is not None:
                head, tail = split
                messages[0] = {"role": "user", "content": [
                    {"type": "text", "text": head, "cache_control": _control(ttl)}, {"type": "text", "text": tail}]}
                shared_parts.append(head)
        shared_tokens = estimate_tokens(json.dumps(shared_parts[1:], sort_keys=True))
        if shared_tokens >= MIN_CACHE_TOKENS:
            canonical = json.dumps(shared_parts, sort_keys=True, separators=(",", ":"))
            shared_key = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        users = [i for i, m in enumerate(messages) if m.get("role") == "user"]
        if len(messages) > 1 and users and users[-1] > 0:
            # the agent's own history: each turn reads what the previous one wrote. The breakpoint goes on
            # the last *user* turn: assistant turns (thinking blocks) must be echoed back unmodified
            index = users[-1]
            last = copy.deepcopy(messages[index])
            content = last["content"]
            if isinstance(content, str):
                content = [{"type": "text", "text": content}]
                last["content"] = content
            if content and content[-1].get("type") in ("text", "tool_result"):
                content[-1]["cache_control"] = _control(ttl)
            messages[index] = last
    params: dict[str, Any] = {"model": request.model, "max_tokens": request.max_tokens, "messages": messages}
    if system:
        params["system"] = system
    if tools:
        params["tools"] = tools
    output_config: dict[str, Any] = {}
    # structured outputs are refused (400) with citations, which web search always makes: with server tools the
    # schema stays in the system prompt only, and the agent loop validates the answer and asks again
    if request.output_schema is not None and not request.server_tools:
        output_config["format"] = {"type": "json_schema", "schema": anthropic.transform_schema(request.output_schema)}
    if request.effort:
        output_config["effort"] = request.effort
    if output_config:
        params["output_config"] = output_config
    headers = {"x-workcrew-role": quote(request.role or "agent")}
    if request.label:
        headers["x-workcrew-label"] = quote(request.label)
    params["extra_headers"] = headers
    return params, shared_key, shared_tokens


def _retry_after(headers: Any) -> float | None:
    if headers is None:
        return None
    try:
        if headers.get("retry-after-ms"):
            return float(headers["retry-after-ms"]) / 1000
        if headers.get("retry-after"):
            return float(headers["retry-after"])
    except ValueError:
        return None
    return None


def map_error(exc: BaseException) -> TransientModelError | FatalModelError:
    """SDK and transport failures as the agent loop's transient / fatal faults."""
    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        kind = exc.type or "error"
        detail = exc.api_message or str(exc)
        rid = f" (request {exc.request_id})" if exc.request_id else ""
        if status == 200:  # an in-band `event: error` after the stream started
            return TransientModelError(f"the stream failed mid-response: {kind}: {detail}{rid}",
                                       rate_limited=kind in ("overloaded_error", "rate_limit_error"))
        account = account_problem(status, detail)
        if account is not None:  # no retry and no other agent can succeed: the run stops (see agent_loop)
            return FatalModelError(f"{account} (HTTP {status} {kind}: {detail}){rid}", status=status, stops_run=True)
        should_retry = exc.response.headers.get("x-should-retry")
        if (status in TRANSIENT_STATUSES or status >= 500 or should_retry == "true") and should_retry != "false":
            return TransientModelError(f"HTTP {status} {kind}: {detail}{rid}", status=status,
                                       retry_after=_retry_after(exc.response.headers),
                                       rate_limited=status in RATE_LIMITED_STATUSES)
        lowered = detail.lower()
        if status == 413 or "context window" in lowered or "prompt is too long" in lowered:
            return FatalModelError(f"the conversation does not fit the model's context window: {detail}{rid}",
                                   status=status)
        return FatalModelError(f"HTTP {status} {kind}: {detail}{rid}", status=status)
    if isinstance(exc, anthropic.APITimeoutError):
        return TransientModelError("the API did not answer in time")
    if isinstance(exc, anthropic.APIConnectionError | httpx2.TransportError):
        return TransientModelError(f"the connection dropped: {type(exc).__name__}")
    if isinstance(exc, json.JSONDecodeError | ValidationError | anthropic.APIResponseValidationError):
        return TransientModelError("the API sent a malformed response (not valid JSON)")
    return TransientModelError(f"{type(exc).__name__}: {exc}")


def _usage(message: Any) -> Usage:
    usage = message.usage
    server = getattr(usage, "server_tool_use", None)  # web searches / fetches the API ran in this request
    return Usage(
        input_tokens=int(usage.input_tokens or 0),
        output_tokens=int(usage.output_tokens or 0),
        cache_creation_input_tokens=int(getattr(usage, "cache_creation_input_tokens", 0) or 0),
        cache_read_input_tokens=int(getattr(usage, "cache_read_input_tokens", 0) or 0),
        web_search_requests=int(getattr(server, "web_search_requests", 0) or 0),
        web_fetch_requests=int(getattr(server, "web_fetch_requests", 0) or 0),
    )


class _PrefixGate:
    """Lets the first request with a new shared prefix write the cache while the others wait for it."""

    def __init__(self, ttl: str, wait_s: float) -> None:
        self.ttl_s = TTL_SECONDS[ttl]
        self.wait_s = wait_s
        self._warm: dict[str, float] = {}
        self._writing: dict[str, anyio.Event] = {}

    async def enter(self, key: str | None) -> bool:
        """True when this request is the writer and must call :meth:`started` or :meth:`failed`."""
        if key is None:
            return False
        deadline = time.monotonic() + self.wait_s
        while True:
            if self._warm.get(key, 0.0) > time.monotonic():
                return False
            event = self._writing.get(key)
            if event is None:
                # first with this prefix, or the previous writer failed before its response began
                self._writing[key] = anyio.Event()
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False  # waited long enough: go cold rather than stall the fan-out
            with anyio.move_on_after(remaining):
                await event.wait()

    def started(self, key: str | None) -> None:
        if key is None:
            return
        # the cache TTL runs from the start of the request; refresh margin of 10 %
        self._warm[key] = time.monotonic() + self.ttl_s * 0.9
        self._release(key)

    def failed(self, key: str | None) -> None:
        if key is not None:
            self._release(key)

    def _release(self, key: str) -> None:
        event = self._writing.pop(key, None)
        if event is not None:
            event.set()


class AnthropicModel:
    name = "anthropic"

    def __init__(self, client: Any, *, stall_timeout_s: float = 60.0, cache_ttl: str = "5m",
                 gate: bool = True, caching: bool = True) -> None:
        if cache_ttl not in TTL_SECONDS:
            raise UsageError(f"cache TTL must be '5m' or '1h', not {cache_ttl!r}")
        self.client = client
        self.stall_timeout_s = stall_timeout_s
        self.cache_ttl = cache_ttl
        self.caching = caching  # False: no breakpoints at all (the naive baseline of bench/cache.py)
        self.gate = _PrefixGate(cache_ttl, stall_timeout_s) if gate and caching else None

    @classmethod
    def from_settings(cls, settings: Settings, env: dict[str, str] | None = None) -> AnthropicModel:
        environ = dict(os.environ) if env is None else env
        platform = settings.anthropic_platform
        http_client = watched_http_client()
        client: Any
        if platform in ("bedrock", "vertex"):
            try:
                client = (_bedrock if platform == "bedrock" else _vertex)(http_client, settings)
            except Exception as exc:  # the SDK reports missing region / project / credentials
                raise UsageError(f"cannot set up the {platform} client of the anthropic SDK: {exc}") from None
        else:
            key = environ.get("ANTHROPIC_API_KEY") or environ.get("ANTHROPIC_AUTH_TOKEN")
            if not key:
                raise UsageError("ANTHROPIC_API_KEY is not set: set ANTHROPIC_API_KEY or use --provider simulated")
            base_url = settings.base_url or environ.get("ANTHROPIC_BASE_URL") or None
            client = anthropic.AsyncAnthropic(api_key=key, base_url=base_url, max_retries=0,
                                              http_client=http_client)
        return cls(client, stall_timeout_s=settings.stall_timeout_s)

    # -- one turn --------------------------------------------------------------------------------

    def _params(self, request: ModelRequest) -> tuple[dict[str, Any], str | None, int]:
        return build_params(request if self.caching else dataclasses.replace(request, cache=False), self.cache_ttl)

    async def turn(self, request: ModelRequest) -> ModelResponse:
        params, key, _tokens = self._params(request)
        writer = await self.gate.enter(key) if self.gate is not None else False
        activity = _Activity()
        token = _activity.set(activity)
        message: Any = None
        error: Exception | None = None
        try:
            with anyio.CancelScope() as scope:
                async with anyio.create_task_group() as group:
                    group.start_soon(self._watch, activity, scope)
                    try:
                        message = await self._stream(params, key if writer else None)
                    except Exception as exc:  # mapped below, outside the task group (no ExceptionGroup)
                        error = exc
                    group.cancel_scope.cancel()
        finally:
            _activity.reset(token)
            if writer and self.gate is not None:
                self.gate.failed(key)  # no-op when the stream started
        if scope.cancelled_caught:
            raise TransientModelError(f"the stream stalled: no bytes for {self.stall_timeout_s:g} s")
        if error is not None:
            raise map_error(error) from None
        content = [b.model_dump(mode="json", exclude_none=True) for b in message.content]
        return ModelResponse(content, str(message.stop_reason or "end_turn"), _usage(message), str(message.model),
                             request_id=getattr(message, "_request_id", None))

    async def _watch(self, activity: _Activity, scope: anyio.CancelScope) -> None:
        while True:
            idle = time.monotonic() - activity.last
            if idle >= self.stall_timeout_s:
                scope.cancel()
                return
            await anyio.sleep(self.stall_timeout_s - idle)

    async def _stream(self, params: dict[str, Any], writer_key: str | None) -> Any:
        async with self.client.messages.stream(**params) as stream:
            async for event in stream:
                if event.type == "message_start" and writer_key is not None and self.gate is not None:
                    self.gate.started(writer_key)
            message = await stream.get_final_message()
            message._request_id = stream.request_id
            return message

    async def warm(self, request: ModelRequest) -> Usage:
        """Write the shared prefix to the cache once (``max_tokens: 0``) before a fan-out."""
        params, key, _tokens = self._params(request)
        params["max_tokens"] = 0
        params.pop("output_config", None)
        try:
            message = await self.client.messages.create(**params)
        except Exception as exc:
            raise map_error(exc) from None
        if self.gate is not None:
            self.gate.started(key)
        return _usage(message)

    async def count_tokens(self, request: ModelRequest) -> int:
        params, _key, _tokens = self._params(request)
        params.pop("max_tokens", None)
        try:
            counted = await self.client.messages.count_tokens(**params)
            return int(counted.input_tokens)
        except Exception:
            # an estimate with a margin keeps the budget reservation safe when counting is unavailable
            return int(estimate_tokens(request_text(request)) * 1.3) + 1

    async def aclose(self) -> None:
        await self.client.close()


def _bedrock(http_client: httpx2.AsyncClient, settings: Settings) -> Any:
    return anthropic.AsyncAnthropicBedrock(max_retries=0, http_client=http_client, base_url=settings.base_url)


def _vertex(http_client: httpx2.AsyncClient, settings: Settings) -> Any:
    return anthropic.AsyncAnthropicVertex(max_retries=0, http_client=http_client, base_url=settings.base_url)
