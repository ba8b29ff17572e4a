"""Runaway scripts are stopped with a clear error and never freeze the process."""

from __future__ import annotations

import time

import anyio
import pytest

RUNAWAYS = {
    "busy loop": "while True:\n    pass\n",
    "infinite comprehension": "import itertools\nx = [i for i in itertools.count()]\n",
    "busy loop swallowing Exception": "while True:\n    try:\n        while True:\n            pass\n    except Exception:\n        pass\n",
    "try/finally loop": "try:\n    while True:\n        pass\nfinally:\n    while True:\n        pass\n",
    "recursion that catches RecursionError": (
        "def f(n):\n    try:\n        return f(n + 1)\n    except RecursionError:\n        return f(n + 1)\nf(0)\n"
    ),
    "busy generator": "def g():\n    while True:\n        yield 1\nsum(1 for x in g())\n",
    "busy loop inside a parallel task": (
        "async def spin():\n    while True:\n        pass\n"
        "await parallel([lambda: agent('a'), spin])\n"
    ),
}


@pytest.mark.parametrize("body", RUNAWAYS.values(), ids=RUNAWAYS.keys())
async def test_runaway_script_is_stopped_with_a_clear_error(run_script, body: str) -> None:
    with anyio.fail_after(30):
        result = await run_script(body, sync_slice_s=0.5)
    assert result.status == "failed"
    assert "synchronous code for over 0.5 s" in (result.error or "")
    assert "busy loop" in (result.error or "")


async def test_runaway_recursion_fails_the_run_and_names_the_line(run_script) -> None:
    with anyio.fail_after(30):
        result = await run_script("def f(n):\n    return f(n + 1)\nf(0)\n")
    assert result.status == "failed"
    assert result.error is not None and result.error.startswith("RecursionError")
    assert "wf.py:2" in result.error  # the recursing function


async def test_default_limit_stops_a_busy_loop_within_ten_seconds_while_the_loop_stays_responsive(
    run_script,
) -> None:
    """A ticker task on the same event loop ticks before the script spins and keeps ticking once it is stopped."""
    ticks: list[bool] = []  # whether the run had finished when the tick happened
    outcome: list[tuple[object, float]] = []

    async def ticker() -> None:
        while sum(ticks) < 3:  # three ticks after the run ended prove the loop is alive again
            ticks.append(bool(outcome))
            await anyio.sleep(0.01)

    async def runner() -> None:
        started = time.monotonic()
        result = await run_script("log('spinning')\nwhile True:\n    pass\n")
        outcome.append((result, time.monotonic() - started))

    with anyio.fail_after(30):
        async with anyio.create_task_group() as group:
            group.start_soon(ticker)
            group.start_soon(runner)
    result, elapsed = outcome[0]
    assert result.status == "failed"  # type: ignore[attr-defined]
    assert "synchronous code for over 3 s" in result.error  # type: ignore[attr-defined]
    assert elapsed < 10
    assert ticks[0] is False and ticks[-3:] == [True, True, True]


async def test_a_stopped_script_does_not_take_down_another_run(run_script, settings, store) -> None:
    """Run B awaits agents while run A spins; A is stopped, B completes and is not blamed for A's stretch.

    B's own limit (0.5 s) is shorter than A's stretch (1 s): B must not count the time A held the loop.
    """
    from workcrew.engine import load_workflow, start
    from workcrew.engine.providers.scenario import Scenario
    from workcrew.engine.providers.simulated import SimulatedModel

    source = (
        'meta = {"name": "b", "description": "steady"}\n'
        "total = 0\nfor i in range(20):\n    r = await agent(f'step {i}')\n    total += 1\nreturn total\n"
    )
    steady = load_workflow("<inline>", source=source)
    client = SimulatedModel(Scenario.from_data({"default_latency_ms": 20}))
    with anyio.fail_after(30):
        other = start(steady, None, settings.model_copy(update={"sync_slice_s": 0.5}), client=client, store=store)
        spinning = await run_script("while True:\n    pass\n", sync_slice_s=1.0)
        steady_result = await other.result()
    assert spinning.status == "failed"
    assert steady_result.status == "succeeded", steady_result.error
    assert steady_result.result == 20


async def test_huge_power_is_refused_before_it_can_hang(run_script) -> None:
    with anyio.fail_after(30):
        result = await run_script("n = 8\nx = 10 ** 10 ** n\n")
    assert result.status == "failed"
    assert "OverflowError" in (result.error or "") and "cap" in (result.error or "")


async def test_huge_repetition_and_range_are_refused(run_script) -> None:
    with anyio.fail_after(30):
        repeated = await run_script("n = 10 ** 9\nx = 'ab' * n\n")
        ranged = await run_script("n = 10 ** 12\nx = sum(range(n))\n")
    assert repeated.status == "failed" and "MemoryError" in (repeated.error or "")
    assert ranged.status == "failed" and "range()" in (ranged.error or "")


async def test_huge_integer_products_and_factorials_are_refused(run_script) -> None:
    with anyio.fail_after(30):
        product = await run_script("x = 2 ** 999000\ny = x * x\n")
        factorial = await run_script("import math\nx = math.factorial(10 ** 7)\n")
        fine = await run_script("import math\nreturn [len(str(math.factorial(50))), (2 ** 100) * 3 > 0]\n")
    assert product.status == "failed" and "OverflowError" in (product.error or "")
    assert factorial.status == "failed" and "100,000 limit" in (factorial.error or "")
    assert fine.result == [65, True]


async def test_huge_sorts_and_products_are_refused_and_small_ones_work(run_script) -> None:
    # each is one C call no tick can interrupt: sorting 3 million items, or the product of a million integers
    with anyio.fail_after(30):
        by_function = await run_script("x = list(range(3_000_000))\nreturn len(sorted(x))\n")
        by_method = await run_script("x = list(range(3_000_000))\nx.sort(reverse=True)\n")
        product = await run_script("import math\nreturn math.prod(range(1, 10 ** 6))\n")
        fine = await run_script("import math\nx = [3, 1, 2]\nx.sort(key=lambda v: -v)\n"
                                "return [x, sorted({'b': 1, 'a': 2}), math.prod([2, 3, 4]), math.prod([2, 3], start=2)]\n")
    assert by_function.status == "failed" and "sorting 3,000,000 items is over the 2,000,000 limit" in by_function.error
    assert by_method.status == "failed" and "sorting 3,000,000 items" in by_method.error
    assert product.status == "failed" and "math.prod() of 999,999 items" in product.error
    assert fine.status == "succeeded" and fine.result == [[3, 2, 1], ["a", "b"], 24, 12]


async def test_a_catastrophic_regular_expression_is_stopped_while_another_run_goes_on(
        run_script, settings, store) -> None:
    """`(a|aa)+$` on 45 a's and a b backtracks for minutes in one C call with `re`; scripts get a time limit."""
    from workcrew.engine import load_workflow, start
    from workcrew.engine.providers.scenario import Scenario
    from workcrew.engine.providers.simulated import SimulatedModel

    body = ("import re\n"
            "text = 'a' * 45 + 'b'\n"
            "assert re.findall(r'a+', 'xaay') == ['aa'] and re.compile(r'(\\w)@').sub('-', 'a@b') == '-b'\n"
            "try:\n"
            "    re.match(r'(a|aa)+$', text)\n"
            "except TimeoutError as exc:\n"
            "    return str(exc)\n")
    other = load_workflow("<other>", source='meta = {"name": "o", "description": "o"}\n'
                          "return await parallel([agent(f'x {i}') for i in range(20)])\n")
    with anyio.fail_after(30):
        neighbour = start(other, None, settings, client=SimulatedModel(Scenario.from_data({"default_latency_ms": 50})),
                          store=store)
        started = time.monotonic()
        result = await run_script(body)
        elapsed = time.monotonic() - started
        finished = await neighbour.result()
    assert result.status == "succeeded", result.error
    assert "'(a|aa)+$' ran for over 2 s" in result.result and "catastrophic backtracking" in result.result
    assert elapsed < 10
    assert finished.status == "succeeded" and finished.agents["succeeded"] == 20
