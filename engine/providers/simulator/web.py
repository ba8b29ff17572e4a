"""The web research part of the Messages-API simulator: server tool specs checked as the API checks them, server
blocks sent back checked for tampering, and the SSE frames of server blocks and cited text."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..simulated_web import sealed

SEARCH_TYPES = ("web_search_20250305", "web_search_20260209", "web_search_20260318")
FETCH_TYPES = ("web_fetch_20250910", "web_fetch_20260209", "web_fetch_20260309", "web_fetch_20260318")
CALLERS = ("direct", "code_execution_20250825", "code_execution_20260120", "code_execution_20260521")
_COMMON = {"type", "name", "max_uses", "allowed_domains", "blocked_domains", "cache_control", "allowed_callers",
           "defer_loading", "strict", "response_inclusion"}
_KEYS = {"web_search": _COMMON | {"user_location"},
         "web_fetch": _COMMON | {"max_content_tokens", "citations", "use_cache", "url_sources"}}


class BadServerTool(Exception):
    """A request the API would refuse with 400 invalid_request_error (turned into one by the caller)."""


def check_server_tools(tools: Any) -> None:
    """Refuse malformed web tool specs (as the API does) so tests catch a wrong shape."""
    names: set[str] = set()
    for index, tool in enumerate(tools or []):
        if not isinstance(tool, dict):
            raise BadServerTool(f"tools.{index}: Input should be a valid dictionary")
        name, kind = tool.get("name"), tool.get("type")
        if name in names:
            raise BadServerTool("tools: Tool names must be unique.")
        names.add(str(name))
        if kind in (None, "custom"):
            continue
        where = f"tools.{index}.{kind}"
        family = "web_search" if kind in SEARCH_TYPES else "web_fetch" if kind in FETCH_TYPES else None
        if family is None:
            raise BadServerTool(f"tools.{index}: Input tag {kind!r} found using 'type' does not match any of the "
                                "expected tags")
        if name != family:
            raise BadServerTool(f"{where}.name: Input should be '{family}'")
        extra = sorted(set(tool) - _KEYS[family])
        if extra:
            raise BadServerTool(f"{where}.{extra[0]}: Extra inputs are not permitted")
        for key in ("max_uses", "max_content_tokens"):
            value = tool.get(key)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise BadServerTool(f"{where}.{key}: Input should be greater than 0")
        if tool.get("allowed_domains") and tool.get("blocked_domains"):
            raise BadServerTool(f"{where}: cannot specify both allowed_domains and blocked_domains")
        for key in ("allowed_domains", "blocked_domains"):
            values = tool.get(key)
            if values is None:
                continue
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise BadServerTool(f"{where}.{key}: Input should be a valid list of strings")
            if any("://" in v for v in values):
                raise BadServerTool(f"{where}.{key}: domains must not include the scheme (http:// or https://)")
        callers = tool.get("allowed_callers")
        if callers is not None and (not isinstance(callers, list) or any(c not in CALLERS for c in callers)):
            raise BadServerTool(f"{where}.allowed_callers: Input should be a list of {', '.join(CALLERS)}")
        citations = tool.get("citations")
        if citations is not None and not (isinstance(citations, dict) and isinstance(citations.get("enabled"), bool)):
            raise BadServerTool(f"{where}.citations.enabled: Field required")


def check_structured_output(body: dict[str, Any]) -> None:
    """Structured outputs are incompatible with citations (400), and web search always cites its results."""
    config = body.get("output_config")
    web = [t for t in body.get("tools") or [] if isinstance(t, dict) and t.get("type") in SEARCH_TYPES + FETCH_TYPES]
    if isinstance(config, dict) and config.get("format") is not None and web:
        raise BadServerTool("output_config.format: structured outputs are not supported together with citations "
                            f"(the {web[0].get('name')} tool cites its results)")


def check_server_blocks(messages: list[dict[str, Any]]) -> None:
    """Server blocks come back as they were sent: each result after its ``server_tool_use`` in the same assistant
    turn, search results and citations with their sealed payloads intact."""
    for index, message in enumerate(messages):
        content = message.get("content")
        if not isinstance(content, list):
            continue
        uses: set[str] = set()
        for block in content:
            if not isinstance(block, dict):
                continue
            kind = block.get("type")
            if kind in ("server_tool_use", "web_search_tool_result", "web_fetch_tool_result") and \
                    message.get("role") != "assistant":
                raise BadServerTool(f"messages.{index}.content: {kind} blocks may only appear in assistant messages")
            if kind == "server_tool_use":
                uses.add(str(block.get("id")))
            elif kind in ("web_search_tool_result", "web_fetch_tool_result"):
                if str(block.get("tool_use_id")) not in uses:
                    raise BadServerTool(f"messages.{index}.content: {kind} block(s) found without a corresponding "
                                        "server_tool_use block before it")
                results = block.get("content")
                if isinstance(results, list) and not all(sealed(r.get("encrypted_content")) for r in results
                                                         if isinstance(r, dict)):
                    raise BadServerTool(f"messages.{index}.content: web search result content cannot be modified")
            elif kind == "text":
                for citation in block.get("citations") or []:
                    if isinstance(citation, dict) and citation.get("type") == "web_search_result_location" and \
                            not sealed(citation.get("encrypted_index")):
                        raise BadServerTool(f"messages.{index}.content: citation encrypted_index is invalid")


def web_frames(index: int, block: dict[str, Any], sse: Callable[[str, dict[str, Any]], bytes],
               chunks: Callable[[str, int], list[str]]) -> list[bytes] | None:
    """The SSE frames of one server block, or of a text block with citations (``citations_delta`` events before
    its text); None for any other block."""
    kind = block["type"]

    def start(content_block: dict[str, Any]) -> bytes:
        return sse("content_block_start", {"type": "content_block_start", "index": index,
                                           "content_block": content_block})

    def delta(value: dict[str, Any]) -> bytes:
        return sse("content_block_delta", {"type": "content_block_delta", "index": index, "delta": value})

    if kind == "server_tool_use":
        frames = [start({**block, "input": {}})]
        frames += [delta({"type": "input_json_delta", "partial_json": piece})
                   for piece in chunks(json.dumps(block.get("input", {})), 48)]
        return frames
    if kind in ("web_search_tool_result", "web_fetch_tool_result"):
        return [start(block)]  # a result arrives whole
    if kind == "text" and block.get("citations"):
        frames = [start({"type": "text", "text": "", "citations": []})]
        frames += [delta({"type": "citations_delta", "citation": c}) for c in block["citations"]]
        frames += [delta({"type": "text_delta", "text": piece}) for piece in chunks(block["text"], 64)]
        return frames
    return None
