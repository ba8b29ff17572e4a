"""The simulator over raw HTTP: routes, both auth styles, count_tokens, error envelopes, SSE framing, caching."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx2
from workcrew.engine.providers.scenario import estimate_tokens
from workcrew.engine.providers.simulator import SimulatorThread

BODY = {"model": "claude-sonnet-5-5", "max_tokens": 256, "messages": [{"role": "user", "content": "say hello"}]}


def post(sim: SimulatorThread, path: str, body: Any, **headers: str) -> httpx2.Response:
    return httpx2.post(sim.url + path, json=body, headers={"anthropic-version": "2023-06-01", **headers}, timeout=10)


def test_both_auth_header_styles_are_accepted_and_none_is_refused(simulator: Callable[..., SimulatorThread]) -> None:
    sim = simulator([{"respond": {"text": "hello"}}])
    by_key = post(sim, "/v1/messages", BODY, **{"x-api-key": "k1"})
    by_bearer = post(sim, "/v1/messages?beta=true", BODY, authorization="Bearer k2",
                     **{"anthropic-version": "2026-10-21", "anthropic-beta": "a,b"})
    assert by_key.status_code == by_bearer.status_code == 200
    for response in (by_key, by_bearer):
        message = response.json()
        assert message["type"] == "message" and message["role"] == "assistant"
        assert [b["text"] for b in message["content"] if b["type"] == "text"] == ["hello"]
        assert set(message["usage"]) >= {"input_tokens", "output_tokens", "cache_creation_input_tokens",
                                         "cache_read_input_tokens"}
    refused = post(sim, "/v1/messages", BODY)
    assert refused.status_code == 401
    assert refused.json()["error"]["type"] == "authentication_error"


def test_a_configured_key_must_match(simulator: Callable[..., SimulatorThread]) -> None:
    sim = simulator(api_key="right")
    assert post(sim, "/v1/messages", BODY, **{"x-api-key": "wrong"}).status_code == 401
    assert post(sim, "/v1/messages", BODY, **{"x-api-key": "right"}).status_code == 200


def test_count_tokens_matches_usage_of_the_same_prompt(simulator: Callable[..., SimulatorThread]) -> None:
    sim = simulator(thinking=False)
    text = "x" * 4000
    body = {"model": "claude-sonnet-5-5", "messages": [{"role": "user", "content": text}], "system": "be brief"}
    counted = post(sim, "/v1/messages/count_tokens", body, **{"x-api-key": "k"})
    assert counted.status_code == 200
    assert counted.json() == {"input_tokens": estimate_tokens(text) + estimate_tokens("be brief")}
    message = post(sim, "/v1/messages", {**body, "max_tokens": 50}, **{"x-api-key": "k"}).json()
    assert message["usage"]["input_tokens"] == counted.json()["input_tokens"]


def test_error_envelope_carries_the_request_id_and_retry_after(simulator: Callable[..., SimulatorThread]) -> None:
    sim = simulator([{"respond": {"error": 429, "retry_after": 1.5}}])
    response = post(sim, "/v1/messages", BODY, **{"x-api-key": "k"})
    assert response.status_code == 429
    envelope = response.json()
    assert envelope["type"] == "error" and envelope["error"]["type"] == "rate_limit_error"
    assert envelope["request_id"] == response.headers["request-id"] and envelope["request_id"].startswith("req_")
    assert response.headers["retry-after"] == "1.5" and response.headers["retry-after-ms"] == "1500"


def test_bad_requests_get_400_with_the_reason(simulator: Callable[..., SimulatorThread]) -> None:
    sim = simulator()
    missing = post(sim, "/v1/messages", {"model": "m", "messages": []}, **{"x-api-key": "k"})
    assert missing.status_code == 400 and "max_tokens" in missing.json()["error"]["message"]
    prefill = post(sim, "/v1/messages", {**BODY, "messages": [*BODY["messages"], {"role": "assistant",
                                                                                  "content": "Sure"}]},
                   **{"x-api-key": "k"})
    assert prefill.status_code == 400 and "prefill" in prefill.json()["error"]["message"]
    forced = post(sim, "/v1/messages", {**BODY, "tool_choice": {"type": "any"}}, **{"x-api-key": "k"})
    assert forced.status_code == 400
    blocks = [{"type": "text", "text": f"b{i}", "cache_control": {"type": "ephemeral"}} for i in range(5)]
    too_many = post(sim, "/v1/messages", {**BODY, "system": blocks}, **{"x-api-key": "k"})
    assert too_many.status_code == 400 and "4 blocks" in too_many.json()["error"]["message"]
    assert post(sim, "/v1/nothing", {}, **{"x-api-key": "k"}).status_code == 404


def _events(raw: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for frame in raw.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in frame.splitlines())
        out.append((lines["event"], json.loads(lines["data"])))
    return out


def test_streaming_uses_named_sse_events_in_api_order(simulator: Callable[..., SimulatorThread]) -> None:
    sim = simulator([{"respond": {"tool_calls": [{"name": "grep", "input": {"pattern": "TODO"}}]}}])
    response = post(sim, "/v1/messages", {**BODY, "stream": True}, **{"x-api-key": "k"})
    assert response.headers["content-type"].startswith("text/event-stream")
    events = _events(response.text)
    names = [name for name, _ in events]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    assert all(name == data["type"] for name, data in events)
    partial = "".join(d["delta"]["partial_json"] for n, d in events
                      if n == "content_block_delta" and d["delta"]["type"] == "input_json_delta")
    assert json.loads(partial) == {"pattern": "TODO"}
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"


def test_prompt_cache_accounting_write_then_read(simulator: Callable[..., SimulatorThread]) -> None:
    sim = simulator(thinking=False)
    shared = "shared context line\n" * 400  # 2000 tokens
    system = [{"type": "text", "text": shared, "cache_control": {"type": "ephemeral"}}]

    def ask(task: str) -> dict[str, int]:
        body = {**BODY, "system": system, "messages": [{"role": "user", "content": task}]}
        return dict(post(sim, "/v1/messages", body, **{"x-api-key": "k"}).json()["usage"])

    first, second = ask("task one"), ask("task two, a different one")
    assert first["cache_creation_input_tokens"] == estimate_tokens(shared) and first["cache_read_input_tokens"] == 0
    assert second["cache_read_input_tokens"] == estimate_tokens(shared) and second["cache_creation_input_tokens"] == 0
    assert second["input_tokens"] == estimate_tokens("task two, a different one")
    short = [{"type": "text", "text": "tiny", "cache_control": {"type": "ephemeral"}}]
    tiny = post(sim, "/v1/messages", {**BODY, "system": short}, **{"x-api-key": "k"}).json()["usage"]
    assert tiny["cache_creation_input_tokens"] == 0  # below the minimum: silently not cached


def test_faults_over_raw_http(simulator: Callable[..., SimulatorThread]) -> None:
    sim = simulator([
        {"match": {"label": "^bad-json$"}, "respond": {"invalid_json": True}},
        {"match": {"label": "^midstream$"}, "respond": {"error": 529, "mid_stream": True}},
        {"match": {"label": "^drop$"}, "respond": {"disconnect": True}},
    ])
    bad = post(sim, "/v1/messages", BODY, **{"x-api-key": "k", "x-workcrew-label": "bad-json"})
    assert bad.status_code == 200
    try:
        bad.json()
        raise AssertionError("the body should not be valid JSON")
    except json.JSONDecodeError:
        pass
    mid = post(sim, "/v1/messages", {**BODY, "stream": True}, **{"x-api-key": "k", "x-workcrew-label": "midstream"})
    assert mid.status_code == 200
    names = [name for name, _ in _events(mid.text)]
    assert names[0] == "message_start" and names[-1] == "error"
    plain = post(sim, "/v1/messages", BODY, **{"x-api-key": "k", "x-workcrew-label": "midstream"})
    assert plain.status_code == 529 and plain.json()["error"]["type"] == "overloaded_error"
    try:
        post(sim, "/v1/messages", BODY, **{"x-api-key": "k", "x-workcrew-label": "drop"})
        raise AssertionError("the connection should have been dropped")
    except httpx2.TransportError:
        pass
