"""The in-process simulated model: answers from a scenario at zero cost, in microseconds.

Without a scenario (``provider = simulated`` and no ``scenario`` setting: the free first run) it answers
what no rule answers with :mod:`.simulated_free`: finders read their file and report pattern matches,
skeptics uphold them, every answer saying it is simulated.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import anyio

from ..cost.pricing import Usage
from ..settings import Settings
from .base import (
    RATE_LIMITED_STATUSES,
    FatalModelError,
    ModelRequest,
    ModelResponse,
    TransientModelError,
    account_problem,
)
from .scenario import Answer, Scenario, Turn, estimate_tokens
from .simulated_free import free_answer
from .simulated_web import WebAnswer, said_tokens, server_usage, web_answer
from .web import SERVER_BLOCK_TYPES

_TOOL_TEXT: dict[tuple[str, str], str] = {}


def _tool_text(tool: dict[str, Any]) -> str:
    # every agent sends the same tool definitions; encoding them once per (name, description) keeps the
    # simulated model's per-turn cost down (it runs 1000s of turns in dry runs and benchmarks)
    key = (str(tool.get("name")), str(tool.get("description")))
    text = _TOOL_TEXT.get(key)
    if text is None:
        text = _TOOL_TEXT[key] = json.dumps(tool, sort_keys=True)
    return text


def request_text(request: ModelRequest) -> str:
    """Everything the model would read, flattened, for the deterministic token count."""
    parts: list[str] = [_tool_text(t) for t in request.tools]
    parts += [json.dumps(t, sort_keys=True) for t in request.server_tools]
    parts += [str(b.get("text", "")) for b in request.system]
    for message in request.messages:
        content = message["content"]
        if isinstance(content, str):
            parts.append(content)
            continue
        for block in content:
            kind = block.get("type")
            if kind == "text":
                parts.append(str(block.get("text", "")))
            elif kind == "tool_use":
                parts.append(json.dumps(block.get("input", {}), sort_keys=True))
            elif kind == "tool_result":
                inner = block.get("content", "")
                parts.append(inner if isinstance(inner, str) else json.dumps(inner, sort_keys=True))
            elif kind in SERVER_BLOCK_TYPES:  # web research echoed back: read whole, as the HTTP simulator does
                parts.append(json.dumps(block, sort_keys=True))
    if request.output_schema is not None:
        parts.append(json.dumps(request.output_schema, sort_keys=True))
    return "\n".join(parts)


def turn_of(request: ModelRequest) -> Turn:
    last = request.messages[-1] if request.messages else {"content": ""}
    content = last.get("content")
    answering = isinstance(content, list) and any(b.get("type") == "tool_result" for b in content)
    return Turn(
        label=request.label or "",
        role=request.role,
        prompt=request.prompt,
        schema=request.output_schema,
        answering_tools=answering,
        input_text=request_text(request),
        web={str(t["name"]): t for t in request.server_tools if t.get("name") in ("web_search", "web_fetch")},
    )


_IDS = itertools.count(1)  # ids need only be unique; a counter is cheaper than uuid4 and reproducible


def answer_blocks(answer: Answer, web: dict[str, dict[str, Any]] | None = None) -> tuple[list[dict[str, Any]], str]:
    """The content blocks of an answer; ``web``: the web tools the request offers (name -> spec), which the
    scenario's ``web_search`` / ``web_fetch`` may use."""
    respond = answer.respond
    server = web_answer(respond, web or {}) if respond.web_search or respond.web_fetch else WebAnswer()
    if answer.tool_calls:
        blocks = [
            {"type": "tool_use", "id": f"toolu_{next(_IDS):016x}", "name": c["name"], "input": c.get("input", {})}
            for c in answer.tool_calls
        ]
        return server.blocks + blocks, "tool_use"
    stop_reason = respond.stop_reason or "end_turn"
    if server.blocks and stop_reason == "pause_turn" and respond.text is None and respond.json_ is None:
        return server.blocks, stop_reason  # paused right after its searches: no text yet
    text: dict[str, Any] = {"type": "text", "text": answer.text}
    if server.citations:
        text["citations"] = server.citations
    return [*server.blocks, text], stop_reason


def _response(request: ModelRequest, turn: Turn, answer: Answer) -> ModelResponse:
    blocks, stop_reason = answer_blocks(answer, turn.web)
    searches, fetches, result_tokens = server_usage(blocks)
    web = any(b["type"] in SERVER_BLOCK_TYPES for b in blocks)
    usage = Usage(
        input_tokens=estimate_tokens(turn.input_text) + result_tokens,
        output_tokens=said_tokens(blocks) if web else estimate_tokens(json.dumps(blocks)) if answer.tool_calls
        else estimate_tokens(answer.text),
        web_search_requests=searches, web_fetch_requests=fetches,
    )
    if answer.usage:
        usage = Usage.from_dict({**usage.to_dict(), **answer.usage})
    return ModelResponse(blocks, stop_reason, usage, request.model, request_id=f"req_sim_{next(_IDS):012x}")


class SimulatedModel:
    name = "simulated"

    def __init__(self, scenario: Scenario, *, free_answers: bool = False) -> None:
        self.scenario = scenario
        # answers for turns no rule answers (simulated_free); off for scenarios and dry runs, whose
        # unanswered turns keep the minimal default the estimator and the tests count on
        self.free_answers = free_answers

    @classmethod
    def from_settings(cls, settings: Settings) -> SimulatedModel:
        return cls(Scenario.load(settings.scenario), free_answers=settings.scenario is None)

    async def turn(self, request: ModelRequest) -> ModelResponse:
        turn = turn_of(request)
        answer = self.scenario.answer(turn)
        if self.free_answers and answer.rule_index is None:
            answer = free_answer(request, turn) or answer
        # the response is ready before the latency has passed, as a server's would be: once it arrives, the
        # engine's own work is all that stands between it and the next agent's call (what the benchmarks
        # measure), not the simulator's bookkeeping
        response = _response(request, turn, answer)
        if answer.latency_ms:
            await anyio.sleep(answer.latency_ms / 1000)
        respond = answer.respond
        if respond.stall_s:
            await anyio.sleep(respond.stall_s)
            raise TransientModelError(f"the model stream stalled for {respond.stall_s:g} s")
        if respond.error:
            status = respond.error
            message = respond.message or f"simulated HTTP {status}"
            account = account_problem(status, message)
            if account is not None:
                raise FatalModelError(f"{account} ({message})", status=status, stops_run=True)
            if status == 429 or status >= 500:  # 529 (overloaded) lowers concurrency as a 429 does
                raise TransientModelError(message, status=status, retry_after=respond.retry_after,
                                          rate_limited=status in RATE_LIMITED_STATUSES)
            raise FatalModelError(message, status=status)
        if respond.disconnect:
            raise TransientModelError("the connection dropped mid-response")
        if respond.invalid_json:
            raise TransientModelError("the response body was not valid JSON")
        return response

    async def count_tokens(self, request: ModelRequest) -> int:
        return estimate_tokens(request_text(request))

    async def aclose(self) -> None:
        return None
