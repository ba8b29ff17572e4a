"""Messages-API shapes for the simulator: request bodies in, message bodies and SSE frames out.

A request is flattened into its cacheable *blocks* in prefix order (tools → system → messages), the
unit both the token count and the prompt-cache accounting work on.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from ..base import ModelRequest
from ..scenario import Turn, estimate_tokens
from ..simulated import turn_of
from .web import BadServerTool, check_server_blocks, check_server_tools, check_structured_output, web_frames


class BadRequest(Exception):
    """A request the real API would answer with 400 invalid_request_error."""


@dataclass
class Block:
    """One cacheable unit of the prompt: a tool, a system block or a message content block."""

    canonical: str  # byte-exact identity for cache hashing (cache_control removed)
    tokens: int
    cache_ttl: str | None  # "5m" / "1h" when the block carries a cache_control breakpoint


def _ttl(block: dict[str, Any]) -> str | None:
    control = block.get("cache_control")
    if not isinstance(control, dict):
        return None
    ttl = control.get("ttl", "5m")
    if ttl not in ("5m", "1h"):
        raise BadRequest(f"cache_control.ttl must be '5m' or '1h', not {ttl!r}")
    return str(ttl)


def _block_text(block: dict[str, Any]) -> str:
    """What the deterministic tokenizer reads of a block (mirrors providers.simulated.request_text)."""
    kind = block.get("type")
    if kind == "text":
        return str(block.get("text", ""))
    if kind == "tool_use":
        return json.dumps(block.get("input", {}), sort_keys=True)
    if kind == "tool_result":
        inner = block.get("content", "")
        return inner if isinstance(inner, str) else json.dumps(inner, sort_keys=True)
    if kind in ("thinking", "redacted_thinking"):
        return str(block.get("thinking", block.get("data", "")))
    return json.dumps(block, sort_keys=True)


def _canonical(block: dict[str, Any], role: str = "") -> str:
    stripped = {k: v for k, v in block.items() if k != "cache_control"}
    return role + ":" + json.dumps(stripped, sort_keys=True, separators=(",", ":"))


def _content_blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, list):
        return [b for b in content if isinstance(b, dict)]
    raise BadRequest("messages[].content must be a string or a list of content blocks")


def system_blocks(body: dict[str, Any]) -> list[dict[str, Any]]:
    system = body.get("system")
    if system is None:
        return []
    if isinstance(system, str):
        return [{"type": "text", "text": system}]
    if isinstance(system, list):
        return [b for b in system if isinstance(b, dict)]
    raise BadRequest("system must be a string or a list of text blocks")


def prompt_blocks(body: dict[str, Any]) -> list[Block]:
    """Every block of the prompt in cache-prefix order, with breakpoints marked."""
    blocks: list[Block] = []
    for tool in body.get("tools") or []:
        text = json.dumps({k: v for k, v in tool.items() if k != "cache_control"}, sort_keys=True)
        blocks.append(Block(_canonical(tool, "tool"), estimate_tokens(text), _ttl(tool)))
    for block in system_blocks(body):
        blocks.append(Block(_canonical(block, "system"), estimate_tokens(_block_text(block)), _ttl(block)))
    for message in body.get("messages") or []:
        role = str(message.get("role", ""))
        for block in _content_blocks(message.get("content")):
            blocks.append(Block(_canonical(block, role), estimate_tokens(_block_text(block)), _ttl(block)))
    top = body.get("cache_control")
    if isinstance(top, dict) and blocks:
        # automatic caching: the breakpoint sits on the last cacheable block
        last = blocks[-1]
        blocks[-1] = Block(last.canonical, last.tokens, _ttl({"cache_control": top}))
    if sum(b.cache_ttl is not None for b in blocks) > 4:
        raise BadRequest("A maximum of 4 blocks with cache_control may be provided.")
    return blocks


def output_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    config = body.get("output_config") or {}
    fmt = config.get("format") if isinstance(config, dict) else None
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        schema = fmt.get("schema")
        if not isinstance(schema, dict):
            raise BadRequest("output_config.format.schema must be a JSON Schema object")
        return schema
    return None


def count_input_tokens(body: dict[str, Any], blocks: list[Block]) -> int:
    schema = output_schema(body)
    extra = estimate_tokens(json.dumps(schema, sort_keys=True)) if schema is not None else 0
    return sum(b.tokens for b in blocks) + extra


def first_user_text(body: dict[str, Any]) -> str:
    for message in body.get("messages") or []:
        if message.get("role") == "user":
            return "".join(str(b.get("text", "")) for b in _content_blocks(message.get("content"))
                           if b.get("type") == "text")
    return ""


def validate(body: Any) -> dict[str, Any]:
    """The checks the real API makes that a client bug could trip (checklist §7.3 item 7, in part)."""
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    for key in ("model", "max_tokens", "messages"):
        if key not in body:
            raise BadRequest(f"{key}: Field required")
    if not isinstance(body["max_tokens"], int) or body["max_tokens"] < 0:
        raise BadRequest("max_tokens: must be a non-negative integer")
    messages = body["messages"]
    if not isinstance(messages, list) or not messages:
        raise BadRequest("messages: at least one message is required")
    if messages[-1].get("role") == "assistant" and body["max_tokens"] > 0 and not _model_made(messages[-1]):
        raise BadRequest("This model does not support assistant message prefill. "
                         "The conversation must end with a user message.")
    for key in ("temperature", "top_p", "top_k"):
        if key in body:
            raise BadRequest(f"{key}: is not supported in API version 2026-10-21")
    choice = body.get("tool_choice") or {}
    if isinstance(choice, dict) and choice.get("type") in ("any", "tool"):
        raise BadRequest('tool_choice: type "tool" and "any" are not supported for this model.')
    if body["max_tokens"] == 0 and (body.get("stream") or output_schema(body) is not None):
        raise BadRequest("max_tokens: 0 cannot be combined with stream or output_config.format")
    _check_tool_results(messages)
    try:
        check_server_tools(body.get("tools"))
        check_structured_output(body)
        check_server_blocks(messages)
    except BadServerTool as exc:
        raise BadRequest(str(exc)) from None
    return body


def _model_made(message: dict[str, Any]) -> bool:
    """A trailing assistant turn the model produced (a ``pause_turn`` being resumed), not a client prefill."""
    content = message.get("content")
    return isinstance(content, list) and any(
        isinstance(b, dict) and ((b.get("type") == "thinking" and b.get("signature") == signature_of(
            str(b.get("thinking", "")))) or b.get("type") == "server_tool_use") for b in content)


def _check_tool_results(messages: list[dict[str, Any]]) -> None:
    """Every tool_use needs its tool_result at the start of the next user message."""
    for index, message in enumerate(messages):
        if message.get("role") != "assistant" or not isinstance(message.get("content"), list):
            continue
        wanted = [b.get("id") for b in message["content"] if isinstance(b, dict) and b.get("type") == "tool_use"]
        if not wanted or index + 1 >= len(messages):
            continue
        following = _content_blocks(messages[index + 1].get("content"))
        leading = [b.get("tool_use_id") for b in following[: len(wanted)] if b.get("type") == "tool_result"]
        if sorted(map(str, leading)) != sorted(map(str, wanted)):
            raise BadRequest(f"messages.{index + 1}: Did not find {len(wanted)} tool_result block(s) at the "
                             "beginning of this message")


def turn_for(body: dict[str, Any], headers: dict[str, str]) -> Turn:
    """The scenario's view of a request: label and role come from Workcrew's headers."""
    tools = [t for t in body.get("tools") or [] if isinstance(t, dict)]
    request = ModelRequest(
        model=str(body.get("model")), system=system_blocks(body), messages=list(body.get("messages") or []),
        max_tokens=int(body.get("max_tokens", 0)), tools=[t for t in tools if t.get("type") in (None, "custom")],
        server_tools=[t for t in tools if t.get("type") not in (None, "custom")],
        output_schema=output_schema(body), label=unquote(headers.get("x-workcrew-label", "")),
        role=unquote(headers.get("x-workcrew-role", "")) or "agent", prompt=first_user_text(body),
    )
    return turn_of(request)


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


def message_body(model: str, content: list[dict[str, Any]], stop_reason: str | None, usage: dict[str, Any],
                 message_id: str) -> dict[str, Any]:
    usage = {k: v for k, v in usage.items() if not k.startswith("_")}  # _start_input_tokens: for streams
    return {"id": message_id, "type": "message", "role": "assistant", "model": model, "content": content,
            "stop_reason": stop_reason, "stop_sequence": None, "usage": usage}


def sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def stream_frames(model: str, content: list[dict[str, Any]], stop_reason: str, usage: dict[str, Any],
                  message_id: str) -> list[bytes]:
    """The full SSE event sequence of one message, deltas split the way the API splits them. With server tools
    the input grows during the message: ``message_start`` has the prompt's, ``message_delta`` the final count."""
    start_usage = {**usage, "output_tokens": 1, "input_tokens": usage.get("_start_input_tokens", usage["input_tokens"])}
    start_usage.pop("server_tool_use", None)
    frames = [sse("message_start", {"type": "message_start", "message": message_body(
        model, [], None, start_usage, message_id)})]
    frames.append(sse("ping", {"type": "ping"}))
    for index, block in enumerate(content):
        kind = block["type"]
        web = web_frames(index, block, sse, _chunks)
        if web is not None:
            frames += web
        elif kind == "text":
            frames.append(sse("content_block_start", {"type": "content_block_start", "index": index,
                                                      "content_block": {"type": "text", "text": ""}}))
            for piece in _chunks(block["text"], 64):
                frames.append(sse("content_block_delta", {"type": "content_block_delta", "index": index,
                                                          "delta": {"type": "text_delta", "text": piece}}))
        elif kind == "tool_use":
            frames.append(sse("content_block_start", {"type": "content_block_start", "index": index,
                                                      "content_block": {**block, "input": {}}}))
            for piece in _chunks(json.dumps(block.get("input", {})), 48):
                frames.append(sse("content_block_delta", {"type": "content_block_delta", "index": index,
                                                          "delta": {"type": "input_json_delta",
                                                                    "partial_json": piece}}))
        elif kind == "thinking":
            frames.append(sse("content_block_start", {"type": "content_block_start", "index": index,
                                                      "content_block": {"type": "thinking", "thinking": "",
                                                                        "signature": ""}}))
            frames.append(sse("content_block_delta", {"type": "content_block_delta", "index": index,
                                                      "delta": {"type": "thinking_delta",
                                                                "thinking": block.get("thinking", "")}}))
            frames.append(sse("content_block_delta", {"type": "content_block_delta", "index": index,
                                                      "delta": {"type": "signature_delta",
                                                                "signature": block.get("signature", "")}}))
        frames.append(sse("content_block_stop", {"type": "content_block_stop", "index": index}))
    final = {"output_tokens": usage["output_tokens"]}
    if "server_tool_use" in usage:
        final |= {"input_tokens": usage["input_tokens"], "server_tool_use": usage["server_tool_use"]}
    frames.append(sse("message_delta", {"type": "message_delta",
                                        "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                                        "usage": final}))
    frames.append(sse("message_stop", {"type": "message_stop"}))
    return frames


def _chunks(text: str, size: int) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


def thinking_block(text: str) -> dict[str, Any]:
    """A thinking block with a signature bound to its text, so a client that edits it is caught."""
    return {"type": "thinking", "thinking": text, "signature": signature_of(text)}


def signature_of(text: str) -> str:
    return hashlib.sha256(b"workcrew-sim:" + text.encode("utf-8")).hexdigest()
