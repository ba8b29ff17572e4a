"""Scripted web research for both simulators: a scenario's ``web_search`` / ``web_fetch`` / ``citations`` become
the blocks the API returns — ``server_tool_use``, ``web_search_tool_result`` / ``web_fetch_tool_result`` and
citations on the answer's text — with the uses counted as ``usage.server_tool_use`` counts them.

As on the API, a tool the request does not offer is never used, a use past ``max_uses`` comes back as a
``max_uses_exceeded`` error, and neither errors nor refused uses are billed. Search results and citations carry a
sealed payload (the API's ``encrypted_content`` / ``encrypted_index``), so the HTTP simulator can refuse a
conversation that sends them back modified.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from .scenario import Respond, estimate_tokens

RETRIEVED_AT = "2026-11-20T09:00:00Z"  # a fixed time: simulated answers are reproducible


def seal(text: str) -> str:
    """An opaque, tamper-evident payload: base64 of the text and a digest bound to it."""
    raw = base64.b64encode(text.encode("utf-8", "surrogatepass")).decode("ascii")
    return raw + "." + hashlib.sha256(b"workcrew-sim-web:" + raw.encode("ascii")).hexdigest()[:24]


def sealed(value: Any) -> bool:
    if not isinstance(value, str) or "." not in value:
        return False
    raw, _, digest = value.rpartition(".")
    return hashlib.sha256(b"workcrew-sim-web:" + raw.encode("ascii", "replace")).hexdigest()[:24] == digest


def _server_id() -> str:
    return f"srvtoolu_{uuid.uuid4().hex[:24]}"


@dataclass
class WebAnswer:
    blocks: list[dict[str, Any]] = field(default_factory=list)  # server_tool_use and result blocks, in order
    citations: list[dict[str, Any]] = field(default_factory=list)  # for the answer's text block


def _max_uses(spec: dict[str, Any]) -> int | None:
    value = spec.get("max_uses")
    return value if isinstance(value, int) else None


def web_answer(respond: Respond, offered: dict[str, dict[str, Any]]) -> WebAnswer:
    """The server-tool blocks and citations of a scripted turn, given the web tools the request offers
    (name -> tool spec)."""
    out = WebAnswer()
    sources: dict[str, dict[str, Any]] = {}  # url -> what a citation of it needs
    documents = 0
    if "web_search" in offered:
        limit, used = _max_uses(offered["web_search"]), 0
        for search in respond.searches:
            use_id = _server_id()
            out.blocks.append({"type": "server_tool_use", "id": use_id, "name": "web_search",
                               "input": {"query": search.query}, "caller": {"type": "direct"}})
            content: Any
            if limit is not None and used >= limit:
                content = {"type": "web_search_tool_result_error", "error_code": "max_uses_exceeded"}
            elif search.error:
                content = {"type": "web_search_tool_result_error", "error_code": search.error}
            else:
                used += 1
                content = [{"type": "web_search_result", "url": r.url, "title": r.title,
                            "encrypted_content": seal(r.content), "page_age": r.page_age} for r in search.results]
                for r in search.results:
                    sources.setdefault(r.url, {"kind": "search", "title": r.title})
            out.blocks.append({"type": "web_search_tool_result", "tool_use_id": use_id, "content": content,
                               "caller": {"type": "direct"}})
    if "web_fetch" in offered:
        limit, used = _max_uses(offered["web_fetch"]), 0
        max_content_tokens = offered["web_fetch"].get("max_content_tokens")
        for fetch in respond.fetches:
            use_id = _server_id()
            out.blocks.append({"type": "server_tool_use", "id": use_id, "name": "web_fetch",
                               "input": {"url": fetch.url}, "caller": {"type": "direct"}})
            if limit is not None and used >= limit:
                result: dict[str, Any] = {"type": "web_fetch_tool_result_error", "error_code": "max_uses_exceeded"}
            elif fetch.error:
                result = {"type": "web_fetch_tool_result_error", "error_code": fetch.error}
            else:
                used += 1
                text = fetch.content
                if isinstance(max_content_tokens, int) and estimate_tokens(text) > max_content_tokens:
                    text = text.encode("utf-8")[: max_content_tokens * 4].decode("utf-8", "ignore")
                result = {"type": "web_fetch_result", "url": fetch.url, "retrieved_at": RETRIEVED_AT,
                          "content": {"type": "document", "title": fetch.title, "citations": {"enabled": True},
                                      "source": {"type": "text", "media_type": "text/plain", "data": text}}}
                sources[fetch.url] = {"kind": "fetch", "title": fetch.title, "index": documents, "text": text}
                documents += 1
            out.blocks.append({"type": "web_fetch_tool_result", "tool_use_id": use_id, "content": result,
                               "caller": {"type": "direct"}})
    for citation in respond.citations or []:
        source = sources.get(citation.url)
        if source is None:
            continue  # the model cites only what it searched or fetched in this turn
        if source["kind"] == "search":
            out.citations.append({"type": "web_search_result_location", "url": citation.url,
                                  "title": citation.title or source["title"], "cited_text": citation.cited_text,
                                  "encrypted_index": seal(citation.url + "\n" + citation.cited_text)})
        else:
            start = max(0, str(source["text"]).find(citation.cited_text))
            out.citations.append({"type": "char_location", "document_index": source["index"],
                                  "document_title": citation.title or source["title"],
                                  "start_char_index": start, "end_char_index": start + len(citation.cited_text),
                                  "cited_text": citation.cited_text})
    return out


def server_usage(blocks: list[dict[str, Any]]) -> tuple[int, int, int]:
    """(searches, fetches, result tokens) of a response: successful uses only (errors are not billed), and the
    tokens of the results, which one more sampling step of the same request reads as input."""
    searches = fetches = tokens = 0
    for block in blocks:
        kind = block.get("type")
        if kind == "web_search_tool_result" and isinstance(block.get("content"), list):
            searches += 1
        elif kind == "web_fetch_tool_result" and (block.get("content") or {}).get("type") == "web_fetch_result":
            fetches += 1
        else:
            continue
        tokens += estimate_tokens(json.dumps(block, sort_keys=True))
    return searches, fetches, tokens


def said_tokens(blocks: list[dict[str, Any]]) -> int:
    """Output tokens of a response: tool inputs, text and thinking; results are the API's, not the model's."""
    total = 0
    for block in blocks:
        kind = block.get("type")
        if kind in ("tool_use", "server_tool_use"):
            total += estimate_tokens(json.dumps(block.get("input", {})))
        elif kind in ("text", "thinking"):
            total += estimate_tokens(str(block.get("text", block.get("thinking", ""))))
    return total
