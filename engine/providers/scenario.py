"""Scenarios: ordered rules that script what the simulated model answers (design section 8).

The same engine answers for the in-process simulated model and for the HTTP Messages-API simulator,
so a scenario behaves the same offline, in dry runs and through the real SDK.
"""

from __future__ import annotations

import json
import math
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import UsageError
from ..schema import minimal_instance


class Match(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str | None = None
    role: str | None = None
    prompt: str | None = None
    call: int | None = Field(None, ge=1)


class WebResult(BaseModel):
    """One search result the scripted web search returns."""

    model_config = ConfigDict(extra="forbid")

    url: str
    title: str = ""
    content: str = ""  # what the model reads of the page (sent back sealed, as the API's encrypted_content)
    page_age: str | None = None


class WebSearchScript(BaseModel):
    """A web search the model makes inside its turn (a ``server_tool_use`` and a ``web_search_tool_result``)."""

    model_config = ConfigDict(extra="forbid")

    query: str
    results: list[WebResult] = Field(default_factory=list)
    error: str | None = None  # an error code instead of results (unavailable, too_many_requests, …): not billed


class WebFetchScript(BaseModel):
    """A page the model fetches inside its turn (a ``server_tool_use`` and a ``web_fetch_tool_result``)."""

    model_config = ConfigDict(extra="forbid")

    url: str
    title: str | None = None
    content: str = ""
    error: str | None = None  # url_not_accessible, url_not_allowed, …


class CitationScript(BaseModel):
    """A citation on the answer's text: of a search result (by URL) or of a fetched page (by URL)."""

    model_config = ConfigDict(extra="forbid")

    url: str
    title: str | None = None
    cited_text: str


class Respond(BaseModel):
    text: str | None = None
    json_: Any = Field(None, alias="json")
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    tool_calls: list[dict[str, Any]] | None = None
    # server tools the model uses inside the turn (only when the request offers them, as on the API)
    web_search: WebSearchScript | list[WebSearchScript] | None = None
    web_fetch: WebFetchScript | list[WebFetchScript] | None = None
    citations: list[CitationScript] | None = None
    error: int | None = None
    retry_after: float | None = None
    stall_s: float | None = None
    disconnect: bool = False
    invalid_json: bool = False
    mid_stream: bool = False  # with ``error``: an in-band SSE error event after the stream started
    stop_reason: str | None = None
    message: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Respond:
        for call in self.tool_calls or []:
            if "name" not in call:
                raise ValueError("each tool call needs a 'name'")
        return self

    @property
    def searches(self) -> list[WebSearchScript]:
        return [self.web_search] if isinstance(self.web_search, WebSearchScript) else list(self.web_search or [])

    @property
    def fetches(self) -> list[WebFetchScript]:
        return [self.web_fetch] if isinstance(self.web_fetch, WebFetchScript) else list(self.web_fetch or [])

    @property
    def is_fault(self) -> bool:
        return bool(self.error or self.stall_s or self.disconnect or self.invalid_json)


_NO_RULE = Respond()  # the answer of no rule: shared, never mutated


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    match: Match = Field(default_factory=Match)
    respond: Respond = Field(default_factory=Respond)
    latency_ms: float = 0
    usage: dict[str, int] | None = None


class ScenarioModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: list[Rule] = Field(default_factory=list)
    default_latency_ms: float = 0


@dataclass
class Turn:
    """What the scenario engine is asked: one model turn."""

    label: str
    role: str
    prompt: str
    schema: dict[str, Any] | None
    answering_tools: bool  # the conversation's last message carries tool results
    input_text: str
    web: dict[str, dict[str, Any]] = field(default_factory=dict)  # the web tools offered: name -> tool spec


@dataclass
class Answer:
    """The scenario's reply to one turn."""

    rule_index: int | None
    respond: Respond
    latency_ms: float
    usage: dict[str, int] | None
    text: str
    tool_calls: list[dict[str, Any]]


def estimate_tokens(text: str) -> int:
    """The deterministic token count used by the simulators: one token per 4 UTF-8 bytes."""
    # surrogatepass: a hostile answer may hold a lone surrogate, and counting must not fail on it
    return max(1, math.ceil(len(text.encode("utf-8", "surrogatepass")) / 4)) if text else 0


class Scenario:
    """A loaded scenario with its per-rule call counters (thread-safe: the HTTP simulator is threaded)."""

    def __init__(self, model: ScenarioModel | None = None, source: str = "<default>") -> None:
        self.model = model or ScenarioModel()
        self.source = source
        self._patterns = [
            {k: re.compile(v) for k, v in (("label", r.match.label), ("role", r.match.role),
                                           ("prompt", r.match.prompt)) if v is not None}
            for r in self.model.rules
        ]
        self._calls = [0] * len(self.model.rules)
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: Path | str | None) -> Scenario:
        if path is None:
            return cls()
        p = Path(path)
        try:
            raw = p.read_text("utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read scenario {p}: {exc.strerror}") from None
        try:
            data = yaml.safe_load(raw) if p.suffix in (".yaml", ".yml") else json.loads(raw)
        except (json.JSONDecodeError, yaml.YAMLError) as exc:
            raise UsageError(f"scenario {p} is not valid {'YAML' if p.suffix != '.json' else 'JSON'}: {exc}") from None
        return cls.from_data(data, str(p))

    @classmethod
    def from_data(cls, data: Any, source: str = "<inline>") -> Scenario:
        try:
            return cls(ScenarioModel.model_validate(data), source)
        except ValidationError as exc:
            lines = [f"  {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
            raise UsageError(f"invalid scenario {source}:\n" + "\n".join(lines)) from None

    def answer(self, turn: Turn) -> Answer:
        # every rule whose patterns fit counts the call, even when an earlier rule answers it, so
        # rules with the same patterns and call 1, 2, 3 script a sequence of answers
        with self._lock:
            chosen: int | None = None
            for index, rule in enumerate(self.model.rules):
                if not self._fits(index, turn):
                    continue
                self._calls[index] += 1
                if chosen is None and (rule.match.call is None or rule.match.call == self._calls[index]):
                    chosen = index
        if chosen is None:
            return self._default(turn)
        return self._build(chosen, self.model.rules[chosen], turn)

    def _fits(self, index: int, turn: Turn) -> bool:
        values = {"label": turn.label, "role": turn.role, "prompt": turn.prompt}
        return all(p.search(values[key]) for key, p in self._patterns[index].items())

    def _build(self, index: int, rule: Rule, turn: Turn) -> Answer:
        respond = rule.respond
        tool_calls = list(respond.tool_calls or []) if not turn.answering_tools else []
        if respond.json_ is not None:
            text = json.dumps(respond.json_)
        elif respond.text is not None:
            text = respond.text
        else:
            text = self._default_text(turn)
        return Answer(index, respond, rule.latency_ms or self.model.default_latency_ms, rule.usage, text, tool_calls)

    def _default(self, turn: Turn) -> Answer:
        return Answer(None, _NO_RULE, self.model.default_latency_ms, None, self._default_text(turn), [])

    @staticmethod
    def _default_text(turn: Turn) -> str:
        if turn.schema is not None:
            return json.dumps(minimal_instance(turn.schema))
        subject = turn.label or " ".join(turn.prompt.split())[:60]
        return f"Simulated answer for: {subject}"
