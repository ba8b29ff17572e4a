"""Property: any text and any JSON cross the QuickJS bridge intact, both ways, through every channel.

Python -> JS: ``args``, agent answers, a child workflow's result. JS -> Python: agent prompts and labels,
``log``, ``phase`` (title and options), fan-out values, the child's ``args`` and the returned value.
Strings cover every plane, surrogate pairs, lone surrogates and NUL; JSON nests and mixes types.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from workcrew.engine import RunStore, Settings, load_workflow, start
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulated import SimulatedModel
from workcrew.engine.text import wellformed

SCRIPT = r"""export const meta = {name: 'bridge', description: 'Every channel, both ways'}
const {text, data} = args
log(text)
phase(text, {detail: text, data})
const answer = await agent('p:' + text, {label: 'answer'})
const fan = await parallel([() => agent('q:' + text, {label: 'answer'}), () => data, async () => text])
const piped = await pipeline([data, text], (x) => x, async (x) => agent('r:' + text, {label: 'answer'}).then(() => x))
const child = await workflow('echo', {text, data})
return {text, data, answer, fan: [...fan], piped: [...piped], child, counts: [fan.launched, fan.failed, piped.failed]}
"""

CHILD = r"""export const meta = {name: 'echo', description: 'Returns its args'}
log(args.text)
return args
"""

ANY_CHAR = st.characters(codec=None, exclude_categories=())  # every plane, lone surrogates and NUL included
TEXT = st.text(ANY_CHAR, max_size=40) | st.text(ANY_CHAR, min_size=500, max_size=700)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(ANY_CHAR, max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(ANY_CHAR, max_size=8), children,
                                                                       max_size=4),
    max_leaves=25,
)


def _number_equal(value: Any) -> Any:
    """JSON numbers are doubles in JavaScript: 5.1e16 comes back as the integer JS prints for it."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, list):
        return [_number_equal(v) for v in value]
    return {k: _number_equal(v) for k, v in value.items()}


def _run(workspace: Path, text: str, data: Any, answer: str) -> tuple[Any, Any]:
    async def go() -> tuple[Any, Any]:
        path = workspace / "bridge.js"
        workflow = load_workflow(path)
        assert not workflow.problems, workflow.problems
        scenario = Scenario.from_data({"rules": [{"match": {"label": "^answer$"}, "respond": {"text": answer}}]})
        run_settings = Settings(workspace=workspace, provider="simulated", state_dir=workspace / ".state")
        store = RunStore(run_settings.resolved_state_dir())
        handle = start(workflow, {"text": text, "data": data}, run_settings, client=SimulatedModel(scenario),
                       store=store)
        events = handle.events()
        result = await handle.result()
        collected = [event async for event in events]
        store.flush()
        return (result, handle.state), collected

    return asyncio.run(go())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXT, data=JSON, answer=st.text(ANY_CHAR, min_size=1, max_size=600))
def test_any_text_and_json_cross_the_bridge_intact(text: str, data: Any, answer: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        workspace = Path(folder)
        (workspace / "bridge.js").write_text(SCRIPT)
        (workspace / ".claude" / "workflows").mkdir(parents=True)
        (workspace / ".claude" / "workflows" / "echo.js").write_text(CHILD)
        (result, state), events = _run(workspace, text, data, answer)

    assert result.status == "succeeded", result.error
    out = result.result
    assert out["text"] == text  # Python -> JS (args) -> Python (the return value)
    assert _number_equal(out["data"]) == _number_equal(data)
    assert out["answer"] == answer  # an agent's answer -> JS -> back
    assert _number_equal(out["fan"]) == _number_equal([answer, data, text])
    assert _number_equal(out["piped"]) == _number_equal([data, text])
    # JS -> the child's args -> the child's result -> JS
    assert _number_equal(out["child"]) == _number_equal({"text": text, "data": data})
    assert out["counts"] == [3, 0, 0]  # slots launched, failed; pipeline items failed
    assert result.agents["launched"] == 4 and result.agents["succeeded"] == 4
    # JS -> Python: log and phase as sent; prompts reach the model as UTF-8 can carry them
    assert result.logs[:2] == [text, "workflow echo started"]
    assert f"[echo] {text}" in result.logs
    phase = next(e for e in events if e.type == "phase_started")
    assert phase.data["title"] == text
    assert _number_equal(phase.data["options"]) == _number_equal({"detail": text, "data": data})
    prompts = sorted(record.prompt for record in state.agents.values())
    assert prompts == sorted(wellformed(p + text) for p in ("p:", "q:", "r:", "r:"))


@pytest.mark.parametrize("char", ["—", "┌", "🔍", "漢", "\x00", "\ud800", "a"])
def test_megabyte_strings_cross_in_both_directions(char: str) -> None:
    text = char * 350_000  # 350k characters: 1 MB of UTF-8 for the three-byte ones, 1.4 MB for the emoji
    with tempfile.TemporaryDirectory() as folder:
        workspace = Path(folder)
        (workspace / "bridge.js").write_text(SCRIPT)
        (workspace / ".claude" / "workflows").mkdir(parents=True)
        (workspace / ".claude" / "workflows" / "echo.js").write_text(CHILD)
        (result, _), _ = _run(workspace, text, [text], "ok")
    assert result.status == "succeeded", result.error
    assert result.result["text"] == text
    assert result.result["child"] == {"text": text, "data": [text]}
    assert result.logs[0] == text
