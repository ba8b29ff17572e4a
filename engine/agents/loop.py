"""One agent: a fresh conversation run to a final answer, with tools, retries and schema re-asks."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import anyio

from ..cost.pricing import Usage, WebAllowance
from ..errors import AgentFailed, BudgetExceeded
from ..providers.base import FatalModelError, ModelClient, ModelRequest, ModelResponse, TransientModelError
from ..providers.web import WebTools, merge_citations
from ..redaction import redact
from ..schema import ResultSchema
from ..tool_names import DEFAULT_TOOLS

SYSTEM_PROMPT = """\
You are one agent inside a workflow script. A program, not a person, reads your final answer.
Work on exactly the task you are given, using the tools when you need to look at the workspace.
Your final message is returned verbatim to the script: give only the requested data, with no
greeting, no summary of what you did and no closing remarks."""

SCHEMA_PROMPT = """\
Your final message must be a single JSON value that validates against this JSON Schema, with no
prose and no code fences:
{schema}"""


READ_ONLY_TOOLS = frozenset({"read_file", "list_dir", "glob", "grep"})


class ToolBox(Protocol):
    """The tools an agent may call; see ``tools.py`` for the workspace tools."""

    def definitions(self) -> list[dict[str, Any]]: ...

    async def call(self, name: str, arguments: dict[str, Any]) -> tuple[str, bool]:
        """(result text, is_error)."""
        ...


class TurnBudget(Protocol):
    """Reserves the worst case of a model turn before it is sent; settles it with the real usage."""

    async def reserve_when_it_fits(self, model: str, input_tokens: int, max_tokens: int,
                                   web: WebAllowance | None = None) -> object: ...

    def settle(self, reservation: object, model: str, usage: Usage) -> None: ...


@dataclass
class AgentSpec:
    prompt: str
    model: str
    label: str | None = None
    schema: ResultSchema | None = None
    effort: str | None = None
    agent_type: str | None = None
    role: str = "agent"
    max_tokens: int = 8192
    max_turns: int = 40
    schema_attempts: int = 5
    retries: int = 6
    system_extra: str = ""  # the agent type's instructions and the skills list (runtime/agent_setup.py)
    tools: frozenset[str] = DEFAULT_TOOLS  # its effective tool names (tool_names.py): web and MCP check these
    web: WebTools | None = None  # the API's web search / fetch, sent with every request (providers/web.py)


@dataclass
class AgentOutcome:
    value: Any = None
    text: str = ""
    usage: Usage = field(default_factory=Usage)
    turns: int = 0
    attempts: int = 0
    retries: int = 0
    tool_calls: int = 0
    tool_errors: int = 0
    last_tool: str | None = None
    transcript: list[dict[str, Any]] = field(default_factory=list)
    citations: list[dict[str, Any]] = field(default_factory=list)  # web sources the answer cites: url, title, cited_text


ProgressHook = Callable[[dict[str, Any]], None]
RateLimitHook = Callable[[float], None]  # called with when the refused request was sent (time.monotonic)


BACKOFF_BASE_S = 0.25  # the window of the first retry; it doubles with each attempt
BACKOFF_CAP_S = 8.0  # no window grows wider, and no retry-after is stretched by more


def backoff_delay(attempt: int, retry_after: float | None,
                  uniform: Callable[[float, float], float] = random.uniform) -> float:
    """Seconds to wait before retrying a transient fault after ``attempt`` earlier retries: always jittered.

    The agents of a fan-out that meet a 429/529 meet it within milliseconds of each other. Retried at one
    instant, they are one burst again, are refused again, and every refusal halves the run's concurrency.

    * With a ``retry-after``: never sooner (a retry before it is refused and counts as one more rate limit),
      then spread over a window as wide as the retry-after itself — a burst that arrived at once comes back
      spread over that much time — but at least the exponential window (a ``retry-after: 0`` is spread too,
      wider each attempt) and at most ``BACKOFF_CAP_S`` (a 60 s retry-after does not become up to 120 s).
    * Without one: "equal jitter" over the exponential window ``w`` (``[w/2, w]``). Full jitter
      (``[0, w]``) would spread a little wider but can retry at once and would halve the patience the
      default six retries have (about 8 to 16 s in all) during a longer outage.
    """
    window = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** min(attempt, 16))
    if retry_after is None:
        return uniform(window / 2, window)
    floor = max(0.0, retry_after)
    return floor + uniform(0.0, min(BACKOFF_CAP_S, max(window, floor)))


async def call_model(
    client: ModelClient,
    request: ModelRequest,
    *,
    retries: int,
    on_rate_limit: RateLimitHook | None = None,
    on_retry: Callable[[str], None] | None = None,
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
) -> tuple[ModelResponse, int]:
    """One model turn with retries for transient faults; (response, retries taken)."""
    attempt = 0
    while True:
        sent = time.monotonic()
        try:
            return await client.turn(request), attempt
        except TransientModelError as exc:
            if exc.rate_limited and on_rate_limit is not None:
                on_rate_limit(sent)
            if attempt >= retries:
                raise AgentFailed(f"{exc.reason} (gave up after {attempt + 1} attempts)", kind="api") from None
            if on_retry is not None:
                on_retry(exc.reason)
            await sleep(backoff_delay(attempt, exc.retry_after))
            attempt += 1
        except FatalModelError as exc:
            raise AgentFailed(exc.reason, kind="stopped" if exc.stops_run else "api") from None


async def run_agent(
    client: ModelClient,
    spec: AgentSpec,
    *,
    tools: ToolBox | None = None,
    budget: TurnBudget | None = None,
    on_progress: ProgressHook | None = None,
    on_rate_limit: RateLimitHook | None = None,
) -> AgentOutcome:
    """Run ``spec`` to its final answer; raises :class:`AgentFailed` with the reason otherwise."""
    outcome = AgentOutcome()
    # nothing reaches the model with a secret value in it: the prompt, extra instructions, tool results
    system = [{"type": "text", "text": SYSTEM_PROMPT + ("\n\n" + redact(spec.system_extra) if spec.system_extra
                                                        else "")}]
    if spec.schema is not None:
        system.append({"type": "text", "text": redact(SCHEMA_PROMPT.format(schema=json.dumps(spec.schema.json_schema)))})
    prompt, label = redact(spec.prompt), redact(spec.label) if spec.label else spec.label
    messages: list[dict[str, Any]] = [{"role": "user", "content": prompt}]
    tool_defs = tools.definitions() if tools is not None else []
    continuations = 0
    reported = 0

    def report_turn() -> None:
        # a turn is reported when another follows or the agent fails; not a final answer, which the
        # agent_finished event reports with the same numbers (one event less per agent inside its slot)
        nonlocal reported
        if on_progress is not None and reported < outcome.turns:
            reported = outcome.turns
            on_progress({"turn": outcome.turns, "usage": outcome.usage.to_dict()})

    try:
        while True:
            report_turn()  # the previous turn led to this one
            if outcome.turns >= spec.max_turns:
                raise AgentFailed(f"no final answer after {spec.max_turns} model turns", kind="turns")
            request = ModelRequest(
                model=spec.model, system=system, messages=messages, max_tokens=spec.max_tokens, tools=tool_defs,
                output_schema=spec.schema.json_schema if spec.schema is not None else None, effort=spec.effort,
                label=label, role=spec.role, agent_type=spec.agent_type, prompt=prompt,
                server_tools=spec.web.specs() if spec.web is not None else [],  # web research
            )
            reservation = None
            if budget is not None:
                prompt_tokens = await client.count_tokens(request)
                try:
                    reservation = await budget.reserve_when_it_fits(
                        spec.model, prompt_tokens, spec.max_tokens,
                        web=spec.web.allowance() if spec.web is not None else None)  # web research
                except BudgetExceeded as exc:
                    raise AgentFailed(str(exc), kind="budget") from None
            try:
                response, retries = await call_model(client, request, retries=spec.retries, on_rate_limit=on_rate_limit)
            except BaseException:
                if budget is not None and reservation is not None:
                    budget.settle(reservation, spec.model, Usage())  # a failed call bills nothing
                raise
            if budget is not None and reservation is not None:
                budget.settle(reservation, spec.model, response.usage)
            outcome.turns += 1
            outcome.retries += retries
            outcome.usage.add(response.usage)
            merge_citations(outcome.citations, response.content)  # web research
            messages.append({"role": "assistant", "content": response.content})

            if response.stop_reason == "max_tokens" and response.tool_uses:
                # a cut-off tool call has partial input and cannot be answered or continued
                raise AgentFailed(f"a tool call did not fit in max_tokens={spec.max_tokens}", kind="max_tokens")
            if response.stop_reason == "tool_use" or response.tool_uses:
                report_turn()
                messages.append({"role": "user", "content": await _run_tools(response.tool_uses, tools, outcome,
                                                                             on_progress)})
                continue
            if response.stop_reason == "pause_turn":
                messages.pop()
                messages.append({"role": "assistant", "content": response.content})
                continue
            if response.stop_reason == "refusal":
                raise AgentFailed("the model refused the task", kind="refusal")
            if response.stop_reason == "model_context_window_exceeded":
                raise AgentFailed("the conversation outgrew the model's context window", kind="context")
            if response.stop_reason == "max_tokens":
                continuations += 1
                if continuations > 2 or spec.schema is not None:
                    raise AgentFailed(f"the answer did not fit in max_tokens={spec.max_tokens}", kind="max_tokens")
                messages.append({"role": "user", "content": "Continue exactly where you stopped."})
                continue

            text = _final_text(messages)
            outcome.text = text
            outcome.transcript = messages
            if spec.schema is None:
                outcome.value = text
                return outcome
            outcome.attempts += 1
            value, errors = spec.schema.validate(response.text)
            if not errors:
                outcome.value = value
                return outcome
            if outcome.attempts >= spec.schema_attempts:
                raise AgentFailed(
                    f"the answer did not match the schema after {outcome.attempts} attempts: {'; '.join(errors[:5])}",
                    kind="schema",
                )
            messages.append({
                "role": "user",
                "content": "Your answer does not validate against the schema:\n- " + "\n- ".join(errors[:20])
                + "\nAnswer again with only the corrected JSON.",
            })

    except Exception:  # a failure, or the agent's worker lost: what its turns spent is reported first
        report_turn()
        raise


async def _run_tools(uses: list[dict[str, Any]], tools: ToolBox | None, outcome: AgentOutcome,
                     on_progress: ProgressHook | None) -> list[dict[str, Any]]:
    """Parallel tool calls: read-only ones run concurrently, a batch with edits or commands runs in call order
    (so a command sees the edit asked before it). Results come back in call order, first in the user turn."""
    results: list[dict[str, Any]] = [{} for _ in uses]

    async def one(index: int, use: dict[str, Any]) -> None:
        name = str(use.get("name"))
        if tools is None:
            text, is_error = f"unknown tool {name!r}: this agent has no tools", True
        else:
            text, is_error = await tools.call(name, dict(use.get("input") or {}))
        if is_error:
            outcome.tool_errors += 1
            if on_progress is not None:
                on_progress({"tool_error": name, "message": text[:300]})
        results[index] = {"type": "tool_result", "tool_use_id": use.get("id"), "content": redact(text),
                          "is_error": is_error}

    for use in uses:
        outcome.tool_calls += 1
        outcome.last_tool = str(use.get("name"))
        if on_progress is not None:
            on_progress({"tool": outcome.last_tool, "input": use.get("input", {})})
    if all(use.get("name") in READ_ONLY_TOOLS for use in uses):
        async with anyio.create_task_group() as group:
            for index, use in enumerate(uses):
                group.start_soon(one, index, use)
    else:
        for index, use in enumerate(uses):
            await one(index, use)
    return results


def _final_text(messages: list[dict[str, Any]]) -> str:
    """The text of the trailing assistant turns (several when max_tokens continuations happened)."""
    parts: list[str] = []
    for message in reversed(messages):
        if message["role"] != "assistant":
            if isinstance(message["content"], str) and message["content"].startswith("Continue exactly"):
                continue
            break
        content = message["content"]
        parts.append("".join(b.get("text", "") for b in content if b.get("type") == "text"))
    return "".join(reversed(parts))
