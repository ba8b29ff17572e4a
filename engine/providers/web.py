"""Web research: the Anthropic API's server tools for web search and web fetch, off unless an agent is given them.

The API runs these tools itself inside one model request: the response holds a ``server_tool_use`` block (what
the model asked), the matching ``web_search_tool_result`` / ``web_fetch_tool_result`` block, and text whose
blocks may carry ``citations``. The agent loop sends the tool specs in every request of an agent that has them,
echoes the blocks back unmodified on the next turn (like thinking blocks), resends on ``pause_turn``, counts the
uses (``usage.server_tool_use``) and keeps the citations.

Tool versions (the ``type`` strings): ``web_search_20260318`` and ``web_fetch_20260318``, the newest the installed
SDK (anthropic 2.17) types in its non-beta ``ToolUnionParam`` (``types/web_search_tool_20260318_param.py``,
``types/web_fetch_tool_20260318_param.py``), so no ``anthropic-beta`` header is needed; the platform docs list
``web_search_20250305`` (basic), ``_20260209`` (dynamic filtering) and ``_20260318`` (response inclusion control)
(https://platform.claude.com/docs/en/agents-and-tools/tool-use/web-search-tool). ``allowed_callers: ["direct"]``
keeps the calls with the model itself: no code-execution container filters the results (dynamic filtering), so a
turn holds only the blocks above and its cost stays what the price table says.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..cost.pricing import WebAllowance
from ..errors import UsageError

if TYPE_CHECKING:
    from ..settings import Settings

WEB_SEARCH_TYPE = "web_search_20260318"
WEB_FETCH_TYPE = "web_fetch_20260318"
SERVER_BLOCK_TYPES = frozenset({"server_tool_use", "web_search_tool_result", "web_fetch_tool_result"})
# an agent's tool names that give it a web tool: Claude Code's (WebSearch, WebFetch; any case) and Workcrew's own
TOOL_NAMES = {"websearch": "search", "webfetch": "fetch", "web_search": "search", "web_fetch": "fetch"}
FETCH_TOKEN_MARGIN = 1.1  # max_content_tokens "is approximate": the budget allows 10 % more


def _domains(values: Iterable[str], what: str) -> tuple[str, ...]:
    out = []
    for value in values:
        domain = str(value).strip()
        if not domain or "://" in domain:
            raise UsageError(f"{what}: {value!r} is not a domain (write example.com or example.com/docs, no scheme)")
        out.append(domain)
    return tuple(out)


@dataclass(frozen=True)
class WebTools:
    """Which web tools an agent has and their limits; ``specs()`` are the tool definitions the API reads."""

    search: bool = False
    fetch: bool = False
    search_max_uses: int = 5
    fetch_max_uses: int = 3
    fetch_max_content_tokens: int = 10_000
    search_result_tokens: int = 10_000  # the budget's allowance per search (the API caps nothing)
    allowed_domains: tuple[str, ...] = ()
    blocked_domains: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not (self.search or self.fetch):
            raise UsageError("web tools need search, fetch or both")
        if self.search_max_uses < 1 or self.fetch_max_uses < 1:
            raise UsageError("web tools' max_uses must be at least 1")
        if self.allowed_domains and self.blocked_domains:
            # the API refuses both on one tool: "Cannot be used alongside blocked_domains"
            raise UsageError("web tools take allowed domains or blocked domains, not both")
        object.__setattr__(self, "allowed_domains", _domains(self.allowed_domains, "web_allowed_domains"))
        object.__setattr__(self, "blocked_domains", _domains(self.blocked_domains, "web_blocked_domains"))

    def specs(self) -> list[dict[str, Any]]:
        """The server tool definitions sent in ``tools`` with every request of the agent."""
        domains: dict[str, Any] = {}
        if self.allowed_domains:
            domains["allowed_domains"] = list(self.allowed_domains)
        if self.blocked_domains:
            domains["blocked_domains"] = list(self.blocked_domains)
        out: list[dict[str, Any]] = []
        if self.search:
            out.append({"type": WEB_SEARCH_TYPE, "name": "web_search", "max_uses": self.search_max_uses,
                        "allowed_callers": ["direct"], **domains})
        if self.fetch:
            out.append({"type": WEB_FETCH_TYPE, "name": "web_fetch", "max_uses": self.fetch_max_uses,
                        "max_content_tokens": self.fetch_max_content_tokens, "citations": {"enabled": True},
                        "allowed_callers": ["direct"], **domains})
        return out

    def allowance(self) -> WebAllowance:
        """The most one request's uses may cost: what the hard budget reserves on top of the turn's tokens."""
        return WebAllowance(searches=self.search_max_uses if self.search else 0,
                            fetches=self.fetch_max_uses if self.fetch else 0,
                            search_tokens=self.search_result_tokens,
                            fetch_tokens=int(self.fetch_max_content_tokens * FETCH_TOKEN_MARGIN))


def web_tools_from_names(names: Iterable[str], settings: Settings) -> WebTools | None:
    """The web tools for an agent whose effective tool set is ``names`` (Claude Code's ``WebSearch`` /
    ``WebFetch`` or Workcrew's ``web_search`` / ``web_fetch``), with the limits and domains of ``settings``;
    None when it has neither (the default: no agent searches or fetches unless given the tool)."""
    wanted = {TOOL_NAMES[name.lower()] for name in names if isinstance(name, str) and name.lower() in TOOL_NAMES}
    if not wanted:
        return None
    return WebTools(search="search" in wanted, fetch="fetch" in wanted,
                    search_max_uses=settings.web_search_max_uses, fetch_max_uses=settings.web_fetch_max_uses,
                    fetch_max_content_tokens=settings.web_fetch_max_content_tokens,
                    search_result_tokens=settings.web_search_result_tokens,
                    allowed_domains=tuple(settings.web_allowed_domains),
                    blocked_domains=tuple(settings.web_blocked_domains))


def web_limits(server_tools: Iterable[dict[str, Any]]) -> dict[str, int | None]:
    """``{"web_search": max_uses, "web_fetch": max_uses}`` (None: no limit) for the web tools among ``server_tools``."""
    out: dict[str, int | None] = {}
    for tool in server_tools:
        name = tool.get("name")
        if name in ("web_search", "web_fetch"):
            value = tool.get("max_uses")
            out[str(name)] = int(value) if isinstance(value, int) else None
    return out


# -- citations -------------------------------------------------------------------------------------------


def _fetched(content: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The documents web fetch returned in a response, in order: what ``document_index`` citations point at."""
    docs = []
    for block in content:
        inner = block.get("content") if block.get("type") == "web_fetch_tool_result" else None
        if isinstance(inner, dict) and inner.get("type") == "web_fetch_result":
            document = inner.get("content")
            title = document.get("title") if isinstance(document, dict) else None
            docs.append({"url": inner.get("url"), "title": title})
    return docs


def citations_of(content: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The citations of a response's text blocks as ``{"url", "title", "cited_text"}``.

    A search result's citation (``web_search_result_location``) names its URL; a fetched page's
    (``char_location`` / ``page_location``) names its document by index, resolved against the pages the same
    response fetched (by index, then by title); a citation that cannot be resolved keeps its title only."""
    docs = _fetched(content)
    out: list[dict[str, Any]] = []
    for block in content:
        if block.get("type") != "text":
            continue
        for citation in block.get("citations") or []:
            if not isinstance(citation, dict):
                continue
            url, title = citation.get("url"), citation.get("title") or citation.get("document_title")
            index = citation.get("document_index")
            if url is None and isinstance(index, int):
                match = docs[index] if 0 <= index < len(docs) else next(
                    (d for d in docs if title and d["title"] == title), None)
                if match is not None:
                    url, title = match["url"], title or match["title"]
            out.append({"url": url, "title": title, "cited_text": str(citation.get("cited_text", ""))})
    return out


def merge_citations(kept: list[dict[str, Any]], content: list[dict[str, Any]]) -> None:
    """Add the citations of ``content`` to ``kept``, each (url, cited text) once, in order of appearance."""
    seen = {(c.get("url"), c.get("cited_text")) for c in kept}
    for citation in citations_of(content):
        key = (citation["url"], citation["cited_text"])
        if key not in seen:
            seen.add(key)
            kept.append(citation)
