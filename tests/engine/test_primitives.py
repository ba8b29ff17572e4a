"""Semantics of the script primitives, shown by results and by the run's event history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from workcrew.engine import Event


def agent_events(handle: Any, *types: str) -> list[tuple[str, str]]:
    history: list[Event] = handle.state.bus.history
    return [(e.type, e.data["agent"]["label"]) for e in history if e.type in types]


async def test_parallel_is_a_barrier(run_script) -> None:
    body = """
    first = await parallel([agent(f"one {i}", label=f"s1-{i}") for i in range(4)])
    second = await parallel([agent(f"two {i}", label=f"s2-{i}") for i in range(4)])
    return [len(first), len(second)]
    """
    scenario = {"rules": [{"match": {"label": "^s1-0$"}, "latency_ms": 150}], "default_latency_ms": 5}
    result = await run_script(body, scenario=scenario)
    assert result.status == "succeeded" and result.result == [4, 4]
    order = agent_events(run_script.handle, "agent_started", "agent_finished")
    last_stage1_finish = max(i for i, (t, label) in enumerate(order) if t == "agent_finished" and label.startswith("s1"))
    first_stage2_start = min(i for i, (t, label) in enumerate(order) if t == "agent_started" and label.startswith("s2"))
    assert order[last_stage1_finish] == ("agent_finished", "s1-0")  # the slow one ends stage 1
    assert last_stage1_finish < first_stage2_start


async def test_pipeline_has_no_barrier(run_script) -> None:
    body = """
    out = await pipeline(
        [0, 1, 2, 3],
        lambda item: agent(f"one {item}", label=f"s1-{item}"),
        lambda prev, item: agent(f"two {item}", label=f"s2-{item}"),
        lambda prev, item, index: f"{index}:{prev}",
    )
    return out
    """
    scenario = {"rules": [{"match": {"label": "^s1-0$"}, "latency_ms": 500}], "default_latency_ms": 5}
    result = await run_script(body, scenario=scenario)
    assert result.status == "succeeded"
    order = agent_events(run_script.handle, "agent_started", "agent_finished")
    slow_stage1_done = order.index(("agent_finished", "s1-0"))
    fast_stage2_start = order.index(("agent_started", "s2-1"))
    assert fast_stage2_start < slow_stage1_done  # item 1 reached stage 2 while item 0 was still in stage 1
    assert [r.split(":")[0] for r in result.result] == ["0", "1", "2", "3"]  # stages got the index


async def test_results_keep_input_order_whatever_the_finishing_order(run_script) -> None:
    body = """
    out = await parallel([agent(f"n {i}", label=f"n{i}") for i in range(5)])
    done = [e for e in out]
    return done
    """
    rules = [{"match": {"label": f"^n{i}$"}, "respond": {"text": f"answer {i}"}, "latency_ms": 600 - 150 * i}
             for i in range(5)]
    result = await run_script(body, scenario={"rules": rules})
    assert result.result == [f"answer {i}" for i in range(5)]
    finished = [label for _, label in agent_events(run_script.handle, "agent_finished")]
    assert finished == ["n4", "n3", "n2", "n1", "n0"]


async def test_failures_become_none_with_counted_reasons(run_script) -> None:
    body = """
    def boom():
        raise ValueError("bad input")
    out = await parallel([agent("fine", label="ok"), agent("x", label="broken"), boom, lambda: 7])
    return [list(out), out.launched, out.succeeded, out.failed, out.reasons]
    """
    scenario = {"rules": [{"match": {"label": "broken"}, "respond": {"error": 400, "message": "bad request"}}]}
    result = await run_script(body, scenario=scenario)
    values, launched, succeeded, failed, reasons = result.result
    assert values[0].startswith("Simulated answer") and values[1] is None and values[2] is None and values[3] == 7
    assert (launched, succeeded, failed) == (4, 2, 2)
    assert reasons == {"1": "broken: bad request", "2": "ValueError: bad input"}
    assert result.agents["launched"] == 2 and result.agents["failed"] == 1
    assert result.failure_reasons == {"api": 1}
    assert any("parallel(): 2 of 4 failed" in line for line in result.logs)  # never silent


async def test_pipeline_stage_failure_skips_later_stages(run_script) -> None:
    body = """
    seen = []
    def second(prev, item):
        if item == "b":
            raise KeyError("no b")
        return prev + "!"
    def third(prev):
        seen.append(prev)
        return prev
    out = await pipeline(["a", "b", "c"], lambda item: item.upper(), second, third)
    return [list(out), out.reasons, sorted(seen)]
    """
    result = await run_script(body)
    assert result.result == [["A!", None, "C!"], {"1": "stage 2: KeyError: 'no b'"}, ["A!", "C!"]]


async def test_agent_count_cap_names_the_cap(run_script) -> None:
    body = """
    await parallel([agent(f"a {i}") for i in range(1000)])
    try:
        await agent("one too many")
    except Exception as error:
        return str(error)
    """
    result = await run_script(body)
    assert result.status == "succeeded"
    assert "more than 1000 times" in result.result and "lifetime cap" in result.result
    assert result.agents["launched"] == 1000


async def test_configured_agent_cap_fails_an_uncaught_run(run_script) -> None:
    result = await run_script("for i in range(4):\n    await agent(f'a {i}')\n", max_agents=3)
    assert result.status == "failed"
    assert "more than 3 times" in (result.error or "")


async def test_item_cap_per_call(run_script) -> None:
    for call in ("parallel([lambda: 1] * 4097)", "pipeline(list(range(4097)), lambda x: x)"):
        result = await run_script(f"await {call}\n")
        assert result.status == "failed"
        assert "at most 4096 items per call; got 4097" in (result.error or "")
    ok = await run_script("out = await parallel([lambda: 1] * 4096)\nreturn out.succeeded\n")
    assert ok.result == 4096


def write_child(workspace: Path, name: str, body: str) -> None:
    folder = workspace / ".claude" / "workflows"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(f'meta = {{"name": "{name}", "description": "child"}}\n{body}')


async def test_nested_workflow_shares_counter_and_budget(run_script, workspace: Path) -> None:
    write_child(workspace, "child", (
        "phase('ignored in a child')\n"
        "out = await parallel([agent(f'child {i}', label=f'c{i}') for i in range(args['n'])])\n"
        "log('child done')\nreturn {'spent': budget.spent(), 'answers': out.succeeded}\n"
    ))
    body = """
    await agent("parent", label="p")
    before = budget.spent()
    child = await workflow("child", {"n": 2})
    return {"before": before, "child": child, "after": budget.spent(), "total": budget.total}
    """
    result = await run_script(body, budget_tokens=1_000_000)
    assert result.status == "succeeded", result.error
    out = result.result
    assert out["child"]["answers"] == 2 and out["total"] == 1_000_000
    assert out["before"] < out["child"]["spent"] == out["after"]
    assert result.agents["launched"] == 3  # the child's agents count in the parent's run
    assert "[child] child done" in result.logs
    groups = {a.label: a.phase for a in run_script.handle.state.agents.values()}
    assert groups["c0"] == "▸ child"


async def test_workflow_nests_one_level_only(run_script, workspace: Path) -> None:
    write_child(workspace, "inner", "return 1\n")
    write_child(workspace, "middle", "return await workflow('inner')\n")
    body = """
    try:
        await workflow("middle")
    except Exception as error:
        return str(error)
    """
    result = await run_script(body)
    assert "nests only one level" in result.result


async def test_unknown_child_workflow_is_a_catchable_error(run_script, workspace: Path) -> None:
    write_child(workspace, "known", "return 1\n")
    result = await run_script("try:\n    await workflow('nope')\nexcept Exception as e:\n    return str(e)\n")
    assert "no workflow named 'nope'" in result.result and "known" in result.result


async def test_budget_total_spent_remaining(run_script) -> None:
    body = """
    start = [budget.total, budget.spent(), budget.remaining()]
    await agent("count my tokens")
    return start + [budget.spent(), budget.remaining()]
    """
    result = await run_script(body, budget_tokens=50_000)
    total, spent0, remaining0, spent1, remaining1 = result.result
    assert (total, spent0, remaining0) == (50_000, 0, 50_000)
    assert spent1 > 0 and remaining1 == total - spent1
    assert spent1 == result.usage["input_tokens"] + result.usage["output_tokens"]
    unlimited = await run_script("return [budget.total, budget.remaining()]")
    assert unlimited.result == [None, None]  # remaining() is math.inf; JSON results carry it as null


SCHEMA = {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}}


async def test_schema_answers_are_retried_with_the_errors_then_accepted(run_script, store) -> None:
    body = f"return await agent('give n', schema={SCHEMA!r}, label='retry')\n"
    scenario = {"rules": [
        {"match": {"label": "retry", "call": 1}, "respond": {"text": "not json"}},
        {"match": {"label": "retry", "call": 2}, "respond": {"json": {"n": "two"}}},
        {"match": {"label": "retry", "call": 3}, "respond": {"json": {"n": 3}}},
    ]}
    result = await run_script(body, scenario=scenario)
    assert result.result == {"n": 3}
    store.flush()
    (row,) = store.get_agents(result.run_id)
    assert row["attempts"] == 3 and row["state"] == "succeeded"


async def test_schema_failing_five_times_makes_the_agent_none(run_script) -> None:
    body = f"out = await parallel([agent('n', schema={SCHEMA!r}, label='never')])\nreturn [out[0], out.reasons]\n"
    scenario = {"rules": [{"match": {"label": "never"}, "respond": {"json": {"n": "x"}}}]}
    result = await run_script(body, scenario=scenario)
    assert result.result[0] is None
    assert "did not match the schema after 5 attempts" in result.result[1]["0"]


async def test_pydantic_model_schema_returns_a_model(run_script) -> None:
    body = """
    from pydantic import BaseModel
    class Bug(BaseModel):
        line: int
        title: str
    bug = await agent("find", schema=Bug, label="bug")
    return [bug.line, bug.title]
    """
    scenario = {"rules": [{"match": {"label": "bug"}, "respond": {"json": {"line": 4, "title": "t"}}}]}
    result = await run_script(body, scenario=scenario)
    assert result.result == [4, "t"]


async def test_per_agent_timeout_gives_none_with_reason(run_script) -> None:
    body = "out = await parallel([agent('slow', label='slow', timeout=0.2)])\nreturn [out[0], out.reasons]\n"
    scenario = {"rules": [{"match": {"label": "slow"}, "latency_ms": 5000}]}
    with anyio.fail_after(10):
        result = await run_script(body, scenario=scenario)
    assert result.result == [None, {"0": "slow: timed out after 0.2 s"}]
    assert result.failure_reasons == {"timeout": 1}


async def test_started_only_when_holding_a_slot(run_script) -> None:
    body = "await parallel([agent(f'a {i}', label=f'a{i}') for i in range(12)])\n"
    await run_script(body, scenario={"default_latency_ms": 10}, concurrency=3)
    running = peak = 0
    for kind, _ in agent_events(run_script.handle, "agent_started", "agent_finished", "agent_failed"):
        running += 1 if kind == "agent_started" else -1
        peak = max(peak, running)
    assert peak == 3
    queued = agent_events(run_script.handle, "agent_queued")
    assert len(queued) == 12


INSTANT_TOOLS = {"rules": [{"match": {"label": "[02468]$"},
                            "respond": {"tool_calls": [{"name": "list_dir", "input": {"path": "."}}], "text": "ok"}}]}


@pytest.mark.parametrize("scenario", [{"default_latency_ms": 0}, INSTANT_TOOLS], ids=["answers", "tools"])
async def test_started_events_never_outnumber_slots_with_instant_agents(run_script, scenario) -> None:
    # a succeeded agent tells its end after handing its slot over; the next agent's start waits for it
    body = "await parallel([agent(f'a {i}', label=f'a{i}') for i in range(40)])\n"
    result = await run_script(body, scenario=scenario, concurrency=3)
    assert result.status == "succeeded"
    running = peak = 0
    seen: list[str] = []
    for kind, label in agent_events(run_script.handle, "agent_started", "agent_progress", "agent_finished"):
        if kind == "agent_started":
            running += 1
            seen.append(label)
        else:
            assert label in seen  # nothing of an agent is told before its start
            running -= kind == "agent_finished"
        peak = max(peak, running)
    assert peak <= 3
    assert sorted(seen) == sorted(f"a{i}" for i in range(40))
    if scenario is INSTANT_TOOLS:
        assert len(agent_events(run_script.handle, "agent_progress")) == 40  # 20 tool calls and their turns


async def wait_for(handle: Any, predicate: Any) -> Event:
    async for event in handle.events():
        if predicate(event):
            return event
    raise AssertionError("the run ended before the awaited event")


def start_script(settings: Any, store: Any, body: str, scenario: dict[str, Any], **overrides: Any) -> Any:
    import textwrap

    from workcrew.engine import load_workflow, start
    from workcrew.engine.providers.scenario import Scenario
    from workcrew.engine.providers.simulated import SimulatedModel

    source = 'meta = {"name": "ctl", "description": "control"}\n' + textwrap.dedent(body)
    workflow = load_workflow("<inline>", source=source)
    client = SimulatedModel(Scenario.from_data(scenario))
    return start(workflow, None, settings.model_copy(update=overrides), client=client, store=store)


async def test_cancel_ends_running_agents_and_records_cancelled(settings, store) -> None:
    with anyio.fail_after(20):
        handle = start_script(settings, store, "await parallel([agent(f'a {i}') for i in range(4)])\n",
                              {"default_latency_ms": 30_000})
        await wait_for(handle, lambda e: e.type == "agent_started")
        handle.cancel()
        result = await handle.result()
    assert result.status == "cancelled"
    store.flush()
    assert store.get_run(result.run_id)["status"] == "cancelled"
    states = {row["state"] for row in store.get_agents(result.run_id)}
    assert states == {"cancelled"}


async def test_no_agent_starts_while_paused(settings, store) -> None:
    with anyio.fail_after(20):
        handle = start_script(settings, store, "await parallel([agent(f'a {i}') for i in range(3)])\n",
                              {"default_latency_ms": 5})
        handle.pause()
        await wait_for(handle, lambda e: e.type == "agent_queued" and e.data["agent"]["seq"] == 3)
        await anyio.sleep(0.1)  # give the scheduler every chance to (wrongly) start one
        types = [e.type for e in handle.state.bus.history]
        assert "agent_started" not in types
        handle.resume()
        result = await handle.result()
    assert result.status == "succeeded"
    types = [e.type for e in handle.state.bus.history]
    assert types.index("run_resumed") < types.index("agent_started")


async def test_skip_makes_the_agent_none_with_a_reason(settings, store) -> None:
    body = "out = await parallel([agent('slow', label='slow'), agent('quick', label='quick')])\nreturn out.reasons\n"
    scenario = {"rules": [{"match": {"label": "slow"}, "latency_ms": 30_000}]}
    with anyio.fail_after(20):
        handle = start_script(settings, store, body, scenario)
        started = await wait_for(handle, lambda e: e.type == "agent_started" and e.data["agent"]["label"] == "slow")
        assert handle.skip(started.data["agent"]["id"])
        result = await handle.result()
    assert result.status == "succeeded"
    assert result.result == {"0": "slow: skipped by the user"}
    assert result.failure_reasons == {"skipped": 1}


async def test_uncaught_script_error_fails_the_run_with_the_line(run_script) -> None:
    result = await run_script("x = 1\nraise ValueError('nope')\n")
    assert result.status == "failed"
    assert result.error is not None and result.error.startswith("ValueError: nope at ") and result.error.endswith("wf.py:3")


async def test_log_phase_and_report(run_script) -> None:
    body = """
    phase("Find")
    log("looking")
    fid = report({"title": "t", "location": {"path": "a.py", "start_line": 1}})
    return fid
    """
    result = await run_script(body)
    assert result.status == "succeeded" and result.findings == 1
    types = [e.type for e in run_script.handle.state.bus.history]
    assert types[:2] == ["run_started", "phase_started"] and "finding" in types
    assert result.logs == ["looking"]


async def test_args_are_passed_verbatim(run_script) -> None:
    result = await run_script("return args", args={"files": ["a", "b"], "n": 2})
    assert result.result == {"files": ["a", "b"], "n": 2}


async def test_check_runs_allowlisted_commands_only(run_script, workspace) -> None:
    (workspace / "hello.txt").write_text("hi\n")
    body = """
    listing = await check("ls")
    try:
        await check("rm -rf hello.txt")
    except Exception as error:
        refused = str(error)
    return [listing["exit_code"], listing["stdout"], refused, sorted(listing)]
    """
    result = await run_script(body)
    exit_code, stdout, refused, keys = result.result
    assert exit_code == 0 and "hello.txt" in stdout
    assert "command 'rm' is not in the allowlist" in refused
    assert keys == ["duration_s", "exit_code", "stderr", "stdout"]
    assert (workspace / "hello.txt").exists()


async def test_ask_without_anyone_to_answer_returns_none(run_script) -> None:
    result = await run_script("return await ask('Proceed?', ['yes', 'no'])\n")
    assert result.status == "succeeded" and result.result is None
    assert "no one to answer" in result.logs[0]


async def test_ask_with_an_asker_returns_the_answer(settings, store) -> None:
    from workcrew.engine import load_workflow, start
    from workcrew.engine.providers.scenario import Scenario
    from workcrew.engine.providers.simulated import SimulatedModel

    async def asker(question: str, choices: list[str] | None) -> str:
        return f"{question} -> {choices[-1] if choices else ''}"

    workflow = load_workflow("<inline>", source='meta = {"name": "q", "description": "d"}\n'
                                                 "return await ask('Which?', ['a', 'b'])\n")
    handle = start(workflow, None, settings, client=SimulatedModel(Scenario()), store=store, asker=asker)
    assert (await handle.result()).result == "Which? -> b"


async def test_multiline_strings_and_print(run_script) -> None:
    result = await run_script('text = """first\n  indented"""\nprint("a", 1, sep="-")\nreturn text\n')
    assert result.result == "first\n  indented"
    assert result.logs == ["a-1"]


async def test_restart_runs_the_agent_again(settings, store) -> None:
    body = "return await agent('work', label='stuck')\n"
    scenario = {"rules": [
        {"match": {"label": "stuck", "call": 1}, "respond": {"text": "never"}, "latency_ms": 30_000},
        {"match": {"label": "stuck"}, "respond": {"text": "second try"}},
    ]}
    with anyio.fail_after(20):
        handle = start_script(settings, store, body, scenario)
        started = await wait_for(handle, lambda e: e.type == "agent_started")
        assert handle.restart(started.data["agent"]["id"])
        result = await handle.result()
    assert result.result == "second try"
    assert result.agents["launched"] == 1 and result.agents["succeeded"] == 1
    assert [e.type for e in handle.state.bus.history].count("agent_started") == 2
