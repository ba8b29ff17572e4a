"""An offline Anthropic Messages API on loopback, answering from a scenario.

Plain asyncio HTTP/1.1 with keep-alive and chunked SSE: no framework, hundreds of concurrent
streams on one event loop. Routes: ``POST /v1/messages`` (streaming and not), ``POST
/v1/messages/count_tokens``, ``GET /v1/models``. Faults come from the scenario (design section 8).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from ..scenario import Answer, Scenario, estimate_tokens
from ..simulated_web import said_tokens, server_usage
from .cache import CacheResult, PromptCache
from .wire import (
    BadRequest,
    count_input_tokens,
    message_body,
    new_id,
    prompt_blocks,
    signature_of,
    sse,
    stream_frames,
    thinking_block,
    turn_for,
    validate,
)

ERROR_TYPES = {
    400: "invalid_request_error", 401: "authentication_error", 402: "billing_error", 403: "permission_error",
    404: "not_found_error", 409: "conflict_error", 413: "request_too_large", 429: "rate_limit_error",
    500: "api_error", 503: "api_error", 504: "timeout_error", 529: "overloaded_error",
}
REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed",
           413: "Payload Too Large", 429: "Too Many Requests", 500: "Internal Server Error",
           503: "Service Unavailable", 504: "Gateway Timeout", 529: "Overloaded"}
MAX_BODY = 64 * 1024 * 1024
MODELS = ["claude-opus-5-5", "claude-sonnet-5-5", "claude-haiku-5-5"]


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    request_id: str = field(default_factory=lambda: new_id("req"))

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"{}")
        except json.JSONDecodeError as exc:
            raise BadRequest(f"the body is not valid JSON: {exc.msg}") from None


class _Closed(Exception):
    """The connection must be closed after this response (fault injection or client gone)."""


class SimulatorServer:
    """The Messages-API simulator. ``await start()``, read ``url``, ``await close()``."""

    def __init__(self, scenario: Scenario | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 api_key: str | None = None, cache_minimum_tokens: int = 1024, thinking: bool = True) -> None:
        self.scenario = scenario or Scenario()
        self.host = host
        self.port = port
        self.api_key = api_key
        self.cache = PromptCache(cache_minimum_tokens)
        self.thinking = thinking
        self.stats: Counter[str] = Counter()
        self.requests: deque[dict[str, Any]] = deque(maxlen=5000)
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[asyncio.StreamWriter] = set()
        self._inflight = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._connection, self.host, self.port, backlog=2048,
                                                  limit=MAX_BODY)
        self.port = self._server.sockets[0].getsockname()[1]

    async def serve_forever(self) -> None:
        assert self._server is not None
        await self._server.serve_forever()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._connections):
                writer.transport.abort()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    # -- HTTP/1.1 ----------------------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        try:
            while True:
                request = await self._read(reader)
                if request is None:
                    break
                if not await self._dispatch(request, writer):
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, _Closed):
            pass
        except asyncio.CancelledError:
            # the simulator is stopping with a response still stalled or streaming: end quietly (a cancelled
            # connection task makes asyncio's stream callback log a traceback for nothing)
            pass
        finally:
            self._connections.discard(writer)
            writer.close()

    async def _read(self, reader: asyncio.StreamReader) -> Request | None:
        line = await reader.readline()
        if not line:
            return None
        parts = line.decode("latin-1").strip().split(" ")
        if len(parts) != 3:
            raise _Closed
        method, target, _version = parts
        headers: dict[str, str] = {}
        while True:
            raw = await reader.readline()
            if raw in (b"\r\n", b"\n", b""):
                break
            name, _, value = raw.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = b""
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    await reader.readline()
                    break
                chunks.append(await reader.readexactly(size))
                await reader.readline()
            body = b"".join(chunks)
        elif headers.get("content-length"):
            length = int(headers["content-length"])
            if length > MAX_BODY:
                raise _Closed
            body = await reader.readexactly(length)
        return Request(method, target.split("?", 1)[0], headers, body)

    @staticmethod
    def _head(status: int, headers: dict[str, str]) -> bytes:
        lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def _send(self, writer: asyncio.StreamWriter, request: Request, status: int, body: bytes,
                    extra: dict[str, str] | None = None) -> None:
        headers = {"content-type": "application/json", "content-length": str(len(body)),
                   "request-id": request.request_id, "connection": "keep-alive", **(extra or {})}
        writer.write(self._head(status, headers) + body)
        await writer.drain()
        self.stats[f"status_{status}"] += 1

    async def _error(self, writer: asyncio.StreamWriter, request: Request, status: int, message: str,
                     extra: dict[str, str] | None = None) -> None:
        envelope = {"type": "error", "error": {"type": ERROR_TYPES.get(status, "api_error"), "message": message},
                    "request_id": request.request_id}
        await self._send(writer, request, status, json.dumps(envelope).encode(), extra)

    # -- routes ----------------------------------------------------------------------------------

    async def _dispatch(self, request: Request, writer: asyncio.StreamWriter) -> bool:
        self.stats["requests"] += 1
        if not self._authorized(request.headers):
            await self._error(writer, request, 401, "invalid x-api-key or Authorization bearer token")
            return True
        try:
            if request.method == "POST" and request.path == "/v1/messages":
                self._inflight += 1
                self.stats["peak_inflight"] = max(self.stats["peak_inflight"], self._inflight)
                try:
                    return await self._messages(request, writer)
                finally:
                    self._inflight -= 1
            if request.method == "POST" and request.path == "/v1/messages/count_tokens":
                body = request.json()
                if not isinstance(body, dict) or "messages" not in body:
                    raise BadRequest("messages: Field required")
                tokens = count_input_tokens(body, prompt_blocks(body))
                self.stats["count_tokens"] += 1
                await self._send(writer, request, 200, json.dumps({"input_tokens": tokens}).encode())
                return True
            if request.method == "GET" and request.path == "/v1/models":
                data = [{"type": "model", "id": m, "display_name": m, "created_at": "2026-09-22T00:00:00Z"}
                        for m in MODELS]
                page = {"data": data, "has_more": False, "first_id": MODELS[0], "last_id": MODELS[-1]}
                await self._send(writer, request, 200, json.dumps(page).encode())
                return True
        except BadRequest as exc:
            await self._error(writer, request, 400, str(exc))
            return True
        await self._error(writer, request, 404, f"no route for {request.method} {request.path}")
        return True

    def _authorized(self, headers: dict[str, str]) -> bool:
        key = headers.get("x-api-key") or ""
        auth = headers.get("authorization", "")
        if not key and auth.lower().startswith("bearer "):
            key = auth[7:].strip()
        if not key:
            return False
        return self.api_key is None or key == self.api_key

    async def _messages(self, request: Request, writer: asyncio.StreamWriter) -> bool:
        body = validate(request.json())
        self._check_thinking(body)
        blocks = prompt_blocks(body)
        turn = turn_for(body, request.headers)
        self.requests.append({"headers": dict(request.headers), "body": body, "request_id": request.request_id,
                              "at": time.monotonic()})  # when it arrived, for tests of retry timing
        streaming = bool(body.get("stream"))
        answer = self.scenario.answer(turn)
        respond = answer.respond
        if respond.error and not respond.mid_stream:
            if answer.latency_ms:
                await asyncio.sleep(answer.latency_ms / 1000)
            self.stats["faults"] += 1
            extra = {"x-should-retry": "true"} if respond.error in (408, 409, 429) or respond.error >= 500 else {}
            if respond.error == 429:
                extra |= {"anthropic-ratelimit-requests-limit": "50", "anthropic-ratelimit-requests-remaining": "0"}
            if respond.retry_after is not None:
                extra |= {"retry-after": f"{respond.retry_after:g}",
                          "retry-after-ms": str(int(respond.retry_after * 1000))}
            await self._error(writer, request, respond.error,
                              respond.message or f"simulated HTTP {respond.error}", extra)
            return True
        if respond.disconnect and not streaming:
            self.stats["faults"] += 1
            raise _Closed
        # the cache is looked up on arrival but written entries become readable only once this response
        # starts, after the latency: concurrent cold requests each pay a write, as on the real API
        cache = self.cache.account(str(body["model"]), blocks)
        if answer.latency_ms:
            try:
                await asyncio.sleep(answer.latency_ms / 1000)
            except BaseException:
                self.cache.abandon(cache)
                raise
        total = count_input_tokens(body, blocks)
        start_input = max(0, total - cache.read_tokens - cache.write_tokens)
        usage: dict[str, Any] = {
            "input_tokens": start_input,
            "output_tokens": 0,
            "cache_creation_input_tokens": cache.write_tokens,
            "cache_read_input_tokens": cache.read_tokens,
            "cache_creation": {"ephemeral_5m_input_tokens": cache.write_5m_tokens,
                               "ephemeral_1h_input_tokens": cache.write_1h_tokens},
            "service_tier": "standard",
        }
        content, stop_reason = self._content(answer, turn.label or turn.prompt, int(body["max_tokens"]), turn.web)
        usage["output_tokens"] = said_tokens(content)
        searches, fetches, result_tokens = server_usage(content)
        if turn.web:  # the results are read by one more sampling step of this request: input, known at its end
            usage["input_tokens"] = start_input + result_tokens
            usage["server_tool_use"] = {"web_search_requests": searches, "web_fetch_requests": fetches}
        if answer.usage:
            usage.update(answer.usage)
        usage["_start_input_tokens"] = min(start_input, usage["input_tokens"])
        model, message_id = str(body["model"]), new_id("msg")
        if not streaming:
            return await self._plain(request, writer, answer, cache, model, content, stop_reason, usage, message_id)
        return await self._stream(request, writer, answer, cache, model, content, stop_reason, usage, message_id)

    def _check_thinking(self, body: dict[str, Any]) -> None:
        """Thinking blocks must come back exactly as they were sent (reference §1.4)."""
        for index, message in enumerate(body.get("messages") or []):
            if message.get("role") != "assistant" or not isinstance(message.get("content"), list):
                continue
            for block in message["content"]:
                if isinstance(block, dict) and block.get("type") == "thinking" and \
                        block.get("signature") != signature_of(str(block.get("thinking", ""))):
                    raise BadRequest(f"messages.{index}.content: thinking blocks in the latest assistant "
                                     "message cannot be modified")

    def _content(self, answer: Answer, subject: str, max_tokens: int,
                 web: dict[str, dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
        from ..simulated import answer_blocks

        if max_tokens == 0:
            return [], "max_tokens"  # a cache pre-warm: prefill only
        blocks, stop_reason = answer_blocks(answer, web)
        for block in blocks:
            if block["type"] == "tool_use":
                block["id"] = new_id("toolu")
        if stop_reason != "tool_use" and blocks and blocks[0]["type"] == "text":
            text = blocks[0]["text"]
            if estimate_tokens(text) > max_tokens:
                blocks[0] = {"type": "text", "text": text.encode("utf-8")[: max_tokens * 4].decode("utf-8", "ignore")}
                stop_reason = "max_tokens"
        if self.thinking:
            blocks.insert(0, thinking_block(f"Working on: {' '.join(subject.split())[:80]}"))
        return blocks, stop_reason

    async def _plain(self, request: Request, writer: asyncio.StreamWriter, answer: Answer, cache: CacheResult,
                     model: str, content: list[dict[str, Any]], stop_reason: str, usage: dict[str, Any],
                     message_id: str) -> bool:
        respond = answer.respond
        if respond.error:  # mid_stream asked of a non-streaming request: the plain error
            self.cache.abandon(cache)
            self.stats["faults"] += 1
            await self._error(writer, request, respond.error, respond.message or f"simulated HTTP {respond.error}")
            return True
        if respond.stall_s:
            self.stats["faults"] += 1
            await asyncio.sleep(respond.stall_s)
        self.cache.started(cache)
        if respond.invalid_json:
            self.stats["faults"] += 1
            await self._send(writer, request, 200, b'{"id": "' + message_id.encode() + b'", "type": "message", "con')
            return True
        body = message_body(model, content, stop_reason, usage, message_id)
        self.stats["messages"] += 1
        await self._send(writer, request, 200, json.dumps(body).encode())
        return True

    async def _stream(self, request: Request, writer: asyncio.StreamWriter, answer: Answer, cache: CacheResult,
                      model: str, content: list[dict[str, Any]], stop_reason: str, usage: dict[str, Any],
                      message_id: str) -> bool:
        respond = answer.respond
        headers = {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache",
                   "transfer-encoding": "chunked", "request-id": request.request_id, "connection": "keep-alive"}
        writer.write(self._head(200, headers))
        frames = stream_frames(model, content, stop_reason, usage, message_id)
        self.cache.started(cache)
        head, rest = frames[:2], frames[2:]
        for frame in head:
            await self._chunk(writer, frame)
        if respond.stall_s:
            self.stats["faults"] += 1
            await asyncio.sleep(respond.stall_s)
        if respond.disconnect:
            self.stats["faults"] += 1
            for frame in rest[: len(rest) // 2]:
                await self._chunk(writer, frame)
            writer.transport.abort()
            raise _Closed
        if respond.invalid_json:
            self.stats["faults"] += 1
            await self._chunk(writer, b'event: content_block_delta\ndata: {"type": "content_block_delta", "ind\n\n')
            await self._chunk(writer, b"")
            return True
        if respond.error:  # mid_stream: the API's in-band error event after a 200
            self.stats["faults"] += 1
            for frame in rest[: len(rest) // 2]:
                await self._chunk(writer, frame)
            kind = ERROR_TYPES.get(respond.error, "api_error")
            await self._chunk(writer, sse("error", {"type": "error", "error": {
                "type": kind, "message": respond.message or f"simulated mid-stream {kind}"},
                "request_id": request.request_id}))
            await self._chunk(writer, b"")
            return True
        for frame in rest:
            await self._chunk(writer, frame)
        await self._chunk(writer, b"")
        self.stats["messages"] += 1
        self.stats["status_200"] += 1
        return True

    @staticmethod
    async def _chunk(writer: asyncio.StreamWriter, data: bytes) -> None:
        writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        await writer.drain()


class SimulatorThread:
    """The simulator on its own event loop in a background thread (for tests, benches and the SDK)."""

    def __init__(self, scenario: Scenario | None = None, **options: Any) -> None:
        self.server = SimulatorServer(scenario, **options)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="workcrew-simulator", daemon=True)
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return self.server.url

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.server.start())
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self.server.close())
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()

    def start(self) -> SimulatorThread:
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self) -> SimulatorThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
