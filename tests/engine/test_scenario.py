"""Scenarios drive the simulated model: rules by label, role, prompt and call count; latency, usage, faults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from workcrew.engine import UsageError
from workcrew.engine.providers.scenario import Scenario, Turn


def turn(label: str = "", role: str = "agent", prompt: str = "p", schema: dict | None = None) -> Turn:
    return Turn(label=label, role=role, prompt=prompt, schema=schema, answering_tools=False, input_text=prompt)


def test_first_fitting_rule_answers_by_label_role_and_prompt() -> None:
    scenario = Scenario.from_data({"rules": [
        {"match": {"role": "orchestrator"}, "respond": {"text": "script"}},
        {"match": {"label": "^find ", "prompt": "calc"}, "respond": {"json": {"bugs": [1]}}},
        {"match": {"label": "^find "}, "respond": {"text": "other"}},
    ]})
    assert scenario.answer(turn(role="orchestrator")).text == "script"
    assert json.loads(scenario.answer(turn(label="find a", prompt="look at calc.py")).text) == {"bugs": [1]}
    assert scenario.answer(turn(label="find a", prompt="strings.py")).text == "other"


def test_call_counts_script_a_sequence() -> None:
    scenario = Scenario.from_data({"rules": [
        {"match": {"label": "x", "call": 1}, "respond": {"text": "one"}},
        {"match": {"label": "x", "call": 2}, "respond": {"text": "two"}},
        {"match": {"label": "x"}, "respond": {"text": "later"}},
    ]})
    assert [scenario.answer(turn(label="x")).text for _ in range(4)] == ["one", "two", "later", "later"]


def test_default_answer_is_a_minimal_valid_instance() -> None:
    schema = {"type": "object", "required": ["kind", "items", "n"], "properties": {
        "kind": {"enum": ["bug", "nit"]}, "items": {"type": "array", "minItems": 2, "items": {"type": "string"}},
        "n": {"type": "integer", "minimum": 3}, "optional": {"type": "string"}}}
    answer = Scenario().answer(turn(schema=schema))
    assert json.loads(answer.text) == {"kind": "bug", "items": ["x", "x"], "n": 3}
    assert Scenario().answer(turn(label="summary")).text == "Simulated answer for: summary"


async def test_latency_usage_and_faults_reach_the_agent(run_script) -> None:
    body = """
    out = await parallel([agent("a", label="costly"), agent("b", label="flaky"), agent("c", label="denied")])
    return [list(out), out.reasons]
    """
    scenario = {"rules": [
        {"match": {"label": "costly"}, "respond": {"text": "ok"}, "usage": {"input_tokens": 1000, "output_tokens": 50}},
        {"match": {"label": "flaky", "call": 1}, "respond": {"error": 529, "retry_after": 0}},
        {"match": {"label": "flaky", "call": 2}, "respond": {"disconnect": True}},
        {"match": {"label": "flaky"}, "respond": {"text": "third time"}},
        {"match": {"label": "denied"}, "respond": {"error": 400, "message": "invalid request: empty text block"}},
    ]}
    result = await run_script(body, scenario=scenario, api_retries=3)
    values, reasons = result.result
    assert values == ["ok", "third time", None]
    assert reasons == {"2": "denied: invalid request: empty text block"}
    agents = {a.label: a for a in run_script.handle.state.agents.values()}
    assert agents["costly"].usage.input_tokens == 1000 and agents["costly"].usage.output_tokens == 50
    assert agents["flaky"].retries == 2


async def test_retries_run_out(run_script) -> None:
    scenario = {"rules": [{"match": {"label": "down"}, "respond": {"error": 500, "retry_after": 0}}]}
    result = await run_script("out = await parallel([agent('x', label='down')])\nreturn out.reasons\n",
                              scenario=scenario, api_retries=2)
    assert result.result == {"0": "down: simulated HTTP 500 (gave up after 3 attempts)"}


def test_invalid_scenarios_say_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"(?s)invalid scenario .*rules\.0\.match\.labl: Extra inputs"):
        Scenario.from_data({"rules": [{"match": {"labl": "x"}}]})
    broken = tmp_path / "s.json"
    broken.write_text("{not json")
    with pytest.raises(UsageError, match="is not valid JSON"):
        Scenario.load(broken)
    with pytest.raises(UsageError, match="cannot read scenario"):
        Scenario.load(tmp_path / "missing.json")
    yaml_file = tmp_path / "s.yaml"
    yaml_file.write_text("rules:\n  - match: {label: x}\n    respond: {text: from yaml}\n")
    assert Scenario.load(yaml_file).answer(turn(label="x")).text == "from yaml"
