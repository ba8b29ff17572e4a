"""What crosses between the engine and the script host: one ASCII JSON value per line, and nothing else.

A call whose arguments cannot cross (a set, data that contains itself) fails in the script, at the call,
with a reason the script can catch, instead of leaving the run waiting on a call that was never sent.
"""

from __future__ import annotations

import asyncio

import pytest
from workcrew.engine.runtime.scripthost.protocol import decode, encode, encode_many

from ..conftest import RunScript


def test_messages_cross_as_ascii_lines_and_come_back_the_same() -> None:
    messages = [{"t": "reply", "id": 1, "ok": True, "value": "caf\u00e9 \ud800 \U0001f600", "budget": [553, -1]},
                {"t": "call", "id": 2 ** 70, "op": "agent", "args": {"prompt": "x", "nested": [1.5, None, False]}}]
    data = encode_many(messages)
    assert data.isascii() and data.count(b"\n") == 2 and data.endswith(b"\n")
    assert [decode(line) for line in data.split(b"\n")[:-1]] == messages
    assert encode(messages[0]) == data.split(b"\n")[0] + b"\n"


@pytest.mark.parametrize("line", [b"", b"   ", b' {"t":"x"}', b'{"t":"x"} {"t":"y"}', b'{"t":', b"\xff\xfe", b"nope"])
def test_a_line_that_is_not_exactly_one_json_value_is_refused(line: bytes) -> None:
    # the parent stops the run with "malformed message" on exactly this ValueError
    with pytest.raises(ValueError):
        decode(line)


CANNOT_CROSS = {
    "a set as the prompt": ("return await agent({1, 2})", "agent() passes only JSON data"),
    "a list that contains itself": ("x = []\nx.append(x)\nreturn await check(x)", "check() was given data that contains itself"),
    "workflow args that contain themselves": ("a = {}\na['a'] = a\nreturn await workflow('other', a)",
                                              "workflow() was given data that contains itself"),
    "a set of choices": ("return await ask('which?', {'a', 'b'})", "ask() passes only JSON data"),
}


@pytest.mark.parametrize("case", list(CANNOT_CROSS), ids=list(CANNOT_CROSS))
async def test_a_call_with_data_that_cannot_cross_fails_at_the_call(case: str, run_script: RunScript) -> None:
    body, reason = CANNOT_CROSS[case]
    result = await asyncio.wait_for(run_script(body), 60)  # it used to wait for a reply forever
    assert result.status == "failed"
    assert reason in (result.error or ""), result.error


async def test_the_script_can_catch_it_and_carry_on(run_script: RunScript) -> None:
    result = await asyncio.wait_for(run_script(
        "try:\n    await agent({'not', 'json'})\nexcept TypeError as exc:\n    caught = str(exc)\n"
        "answer = await agent('a plain prompt')\nreturn [caught, answer is not None]"), 60)
    assert result.status == "succeeded", result.error
    caught, answered = result.result
    assert "agent() passes only JSON data" in caught and answered
