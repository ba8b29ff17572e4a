"""Agents through the real anthropic SDK over HTTP against the simulator: turns, stop reasons, schemas, faults."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel
from workcrew.engine.agents.loop import AgentSpec, run_agent
from workcrew.engine.errors import AgentFailed, UsageError
from workcrew.engine.providers.anthropic import AnthropicModel
from workcrew.engine.providers.simulator import SimulatorThread
from workcrew.engine.runtime.scheduler import Scheduler
from workcrew.engine.schema import ResultSchema
from workcrew.engine.settings import Settings

from .conftest import API_KEY, model_for

MODEL = "claude-sonnet-5-5"
VERDICT = {"type": "object", "required": ["refuted", "why"],
           "properties": {"refuted": {"type": "boolean"}, "why": {"type": "string"}}}


async def ask(sim: SimulatorThread, prompt: str = "hello", *, label: str = "a", retries: int = 3,
              schema: Any = None, stall_timeout_s: float = 30.0, scheduler: Scheduler | None = None) -> Any:
    model = model_for(sim, stall_timeout_s=stall_timeout_s)
    try:
        spec = AgentSpec(prompt=prompt, model=MODEL, label=label, retries=retries,
                         schema=ResultSchema(schema) if schema is not None else None)
        return await run_agent(model, spec, on_rate_limit=scheduler.on_rate_limit if scheduler else None)
    finally:
        await model.aclose()


async def test_a_plain_answer_streams_back_with_usage(simulator: Callable[..., SimulatorThread]) -> None:
    sim = simulator([{"match": {"label": "^greeter$"}, "respond": {"text": "Hello, script."}}])
    outcome = await ask(sim, "Greet the script", label="greeter")
    assert outcome.value == "Hello, script."
    assert outcome.usage.input_tokens > 0 and outcome.usage.output_tokens > 0
    sent = sim.server.requests[-1]
    assert sent["body"]["stream"] is True  # every turn streams, so the stall watchdog sees bytes
    assert sent["headers"]["x-workcrew-label"] == "greeter"
    assert "returned verbatim to the script" in json.dumps(sent["body"]["system"])


async def test_missing_api_key_is_a_usage_error_before_anything_runs() -> None:
    with pytest.raises(UsageError, match="set ANTHROPIC_API_KEY or use --provider simulated"):
        AnthropicModel.from_settings(Settings(provider="anthropic"), env={})


async def test_structured_output_is_reasked_until_it_validates(simulator: Callable[..., SimulatorThread]) -> None:
    sim = simulator([
        {"match": {"label": "judge", "call": 1}, "respond": {"json": {"refuted": "maybe"}}},
        {"match": {"label": "judge", "call": 2}, "respond": {"text": "I think it is fine."}},
        {"match": {"label": "judge"}, "respond": {"json": {"refuted": False, "why": "reproduced"}}},
    ])
    outcome = await ask(sim, "Refute the claim", label="judge", schema=VERDICT)
    assert outcome.value == {"refuted": False, "why": "reproduced"}
    assert outcome.attempts == 3
    first, second, third = list(sim.server.requests)[-3:]
    fmt = first["body"]["output_config"]["format"]
    assert fmt["type"] == "json_schema" and fmt["schema"]["additionalProperties"] is False
    re_ask = second["body"]["messages"][-1]["content"]
    text = re_ask if isinstance(re_ask, str) else re_ask[-1]["text"]
    assert "refuted" in text and "does not validate" in text
    assert "not valid JSON" in json.dumps(third["body"]["messages"][-1])


async def test_a_pydantic_schema_is_validated_against_the_model(simulator: Callable[..., SimulatorThread]) -> None:
    class Score(BaseModel):
        score: int

    sim = simulator([{"match": {"label": "s", "call": 1}, "respond": {"json": {"score": "high"}}},
                     {"match": {"label": "s"}, "respond": {"json": {"score": 7}}}])
    outcome = await ask(sim, "Score it", label="s", schema=Score)
    assert outcome.value == Score(score=7) and outcome.attempts == 2


async def test_schema_failure_after_five_attempts_fails_with_the_errors(
        simulator: Callable[..., SimulatorThread]) -> None:
    sim = simulator([{"match": {"label": "x"}, "respond": {"json": {"refuted": 3}}}])
    with pytest.raises(AgentFailed, match="after 5 attempts") as failure:
        await ask(sim, "Refute", label="x", schema=VERDICT)
    assert failure.value.kind == "schema"


@pytest.mark.parametrize("fault,reason", [
    ({"error": 429, "retry_after": 0}, "HTTP 429 rate_limit_error"),
    ({"error": 529, "retry_after": 0}, "HTTP 529 overloaded_error"),
    ({"error": 500, "retry_after": 0}, "HTTP 500 api_error"),
    ({"error": 529, "mid_stream": True}, "mid-response"),
    ({"disconnect": True}, "connection dropped"),
    ({"invalid_json": True}, "malformed"),
])
async def test_every_fault_is_retried_then_succeeds(simulator: Callable[..., SimulatorThread],
                                                    fault: dict[str, Any], reason: str) -> None:
    sim = simulator([{"match": {"label": "flaky", "call": 1}, "respond": fault},
                     {"match": {"label": "flaky"}, "respond": {"text": "recovered"}}])
    outcome = await ask(sim, label="flaky")
    assert outcome.value == "recovered" and outcome.retries == 1
    with pytest.raises(AgentFailed) as failure:
        await ask(simulator([{"respond": fault}]), label="flaky", retries=1)
    assert reason in failure.value.reason and "gave up after 2 attempts" in failure.value.reason
    assert API_KEY not in failure.value.reason


async def test_rate_limits_lower_concurrency_for_everyone(simulator: Callable[..., SimulatorThread]) -> None:
    sim = simulator([{"match": {"call": 1}, "respond": {"error": 429, "retry_after": 0}},
                     {"respond": {"text": "ok"}}])
    scheduler = Scheduler(16)
    outcome = await ask(sim, scheduler=scheduler)
    assert outcome.value == "ok"
    assert scheduler.throttle_events == 1 and scheduler.limit == 8


async def test_retry_after_is_honoured(simulator: Callable[..., SimulatorThread]) -> None:
    import time

    sim = simulator([{"match": {"call": 1}, "respond": {"error": 429, "retry_after": 0.4}},
                     {"respond": {"text": "ok"}}])
    began = time.monotonic()
    outcome = await ask(sim)
    assert outcome.value == "ok" and time.monotonic() - began >= 0.4


async def test_a_stalled_stream_is_aborted_and_retried(simulator: Callable[..., SimulatorThread]) -> None:
    sim = simulator([{"match": {"call": 1}, "respond": {"stall_s": 30}},
                     {"respond": {"text": "after the stall"}}])
    outcome = await ask(sim, stall_timeout_s=0.3)
    assert outcome.value == "after the stall" and outcome.retries == 1
    with pytest.raises(AgentFailed, match=r"stalled: no bytes for 0\.3 s"):
        await ask(simulator([{"respond": {"stall_s": 30}}]), stall_timeout_s=0.3, retries=0)


@pytest.mark.parametrize("stop_reason,kind", [("refusal", "refusal"), ("model_context_window_exceeded", "context")])
async def test_refusal_and_context_overflow_fail_with_the_reason(simulator: Callable[..., SimulatorThread],
                                                                 stop_reason: str, kind: str) -> None:
    sim = simulator([{"respond": {"text": "", "stop_reason": stop_reason}}])
    with pytest.raises(AgentFailed) as failure:
        await ask(sim)
    assert failure.value.kind == kind


async def test_pause_turn_is_resent_and_continues(simulator: Callable[..., SimulatorThread]) -> None:
    sim = simulator([{"match": {"call": 1}, "respond": {"text": "partial ", "stop_reason": "pause_turn"}},
                     {"respond": {"text": "done"}}])
    outcome = await ask(sim)
    assert outcome.turns == 2 and outcome.text.endswith("done")
    resent = sim.server.requests[-1]["body"]["messages"]
    assert resent[-1]["role"] == "assistant" and "partial " in json.dumps(resent[-1])  # resent as it came


async def test_max_tokens_continues_a_text_answer(simulator: Callable[..., SimulatorThread]) -> None:
    long_text = "word " * 3000  # 3750 tokens, over max_tokens
    sim = simulator([{"match": {"call": 1}, "respond": {"text": long_text}}, {"respond": {"text": "THE END"}}])
    model = model_for(sim)
    try:
        outcome = await run_agent(model, AgentSpec(prompt="write", model=MODEL, max_tokens=1000))
    finally:
        await model.aclose()
    assert outcome.turns == 2 and outcome.text.endswith("THE END") and outcome.text.startswith("word word")
    assert "Continue" in json.dumps(sim.server.requests[-1]["body"]["messages"][-1])


async def test_thinking_blocks_are_echoed_back_unchanged(simulator: Callable[..., SimulatorThread],
                                                         workspace: Any) -> None:
    from workcrew.engine.agents.tools import AgentToolBox

    (workspace / "a.py").write_text("x = 1\n")
    sim = simulator([{"respond": {"tool_calls": [{"name": "read_file", "input": {"path": "a.py"}}],
                                  "text": "read it"}}])
    model = model_for(sim)
    try:
        outcome = await run_agent(model, AgentSpec(prompt="look", model=MODEL),
                                  tools=AgentToolBox(workspace, Settings(workspace=workspace)))
    finally:
        await model.aclose()
    assert outcome.value == "read it" and outcome.tool_calls == 1
    second = sim.server.requests[-1]["body"]["messages"]
    thinking = [b for b in second[1]["content"] if b["type"] == "thinking"]
    assert thinking and thinking[0]["signature"] and second[1]["content"][0]["type"] == "thinking"
    assert second[2]["content"][0]["type"] == "tool_result" and "x = 1" in second[2]["content"][0]["content"]


async def test_two_hundred_concurrent_streams(simulator: Callable[..., SimulatorThread]) -> None:
    import anyio
    from workcrew.engine.providers.base import ModelRequest

    sim = simulator([{"respond": {"text": "ok"}, "latency_ms": 200}])
    model = model_for(sim)
    answers: list[str] = []

    async def one(i: int) -> None:
        response = await model.turn(ModelRequest(model=MODEL, system=[], messages=[
            {"role": "user", "content": f"task {i}"}], max_tokens=64, label=f"a{i}"))
        answers.append(response.text)

    try:
        async with anyio.create_task_group() as group:
            for i in range(200):
                group.start_soon(one, i)
    finally:
        await model.aclose()
    assert answers == ["ok"] * 200
    assert sim.server.stats["messages"] == 200
    assert sim.server.stats["peak_inflight"] >= 150  # they really were open at the same time


async def test_warm_writes_the_shared_prefix_once_for_later_readers(
        simulator: Callable[..., SimulatorThread]) -> None:
    from workcrew.engine.providers.base import ModelRequest

    sim = simulator([{"respond": {"text": "ok"}}], thinking=False)
    model = model_for(sim)
    shared = [{"type": "text", "text": "shared instructions\n" * 500}]

    def request(task: str) -> ModelRequest:
        return ModelRequest(model=MODEL, system=shared, messages=[{"role": "user", "content": task}],
                            max_tokens=64)

    try:
        warmed = await model.warm(request("warmup"))
        first = await model.turn(request("task one"))
    finally:
        await model.aclose()
    assert warmed.cache_creation_input_tokens > 2000 and warmed.output_tokens == 0
    assert first.usage.cache_read_input_tokens == warmed.cache_creation_input_tokens
    assert first.usage.cache_creation_input_tokens == 0


def test_bedrock_and_vertex_use_the_sdks_own_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    import anthropic

    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.delenv("CLOUD_ML_REGION", raising=False)
    bedrock = AnthropicModel.from_settings(Settings(provider="anthropic", anthropic_platform="bedrock"), env={})
    assert isinstance(bedrock.client, anthropic.AsyncAnthropicBedrock)
    with pytest.raises(UsageError, match="cannot set up the vertex client"):
        AnthropicModel.from_settings(Settings(provider="anthropic", anthropic_platform="vertex"), env={})


async def test_an_agents_own_history_is_cached_between_its_turns(simulator: Callable[..., SimulatorThread],
                                                                 workspace: Any) -> None:
    from workcrew.engine.agents.tools import AgentToolBox

    (workspace / "big.py").write_text("value = 1  # a line of the file\n" * 400)
    # turn 1 reads the file, turn 2 answers off-schema, turn 3 (the re-ask) answers right
    sim = simulator([{"match": {"call": 1}, "respond": {"tool_calls": [{"name": "read_file",
                                                                         "input": {"path": "big.py"}}]}},
                     {"match": {"call": 2}, "respond": {"json": {"refuted": "perhaps"}}},
                     {"respond": {"json": {"refuted": True, "why": "done"}}}])
    model = model_for(sim)
    try:
        outcome = await run_agent(model, AgentSpec(prompt="study big.py", model=MODEL, schema=ResultSchema(VERDICT)),
                                  tools=AgentToolBox(workspace, Settings(workspace=workspace)))
    finally:
        await model.aclose()
    assert outcome.value == {"refuted": True, "why": "done"} and outcome.turns == 3
    bodies = [r["body"] for r in sim.server.requests]
    for body in bodies:
        for message in body["messages"]:
            if message["role"] == "assistant":
                assert "cache_control" not in repr(message)  # echoed back exactly as received
    assert "cache_control" in repr(bodies[1]["messages"][-1])
    assert outcome.usage.cache_read_input_tokens > 3000  # the third turn read the history the second wrote
