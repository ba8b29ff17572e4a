"""Resuming a run: every call that matches a finished agent of the earlier run reuses its result, in any
order; only new, changed or unfinished calls run live."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from workcrew.engine import RunResult, RunStore, Settings, UsageError, load_workflow, start
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulated import SimulatedModel
from workcrew.engine.runtime.resume import ResumeCache, call_key

from .test_cli import workcrew

STEPS = """
meta = {"name": "steps", "description": "five agents, one after another"}
out = []
for i in range(5):
    out.append(await agent(f"step {i} of {args['topic']}", label=f"step {i}"))
return out
"""
REFUSE_STEP_3 = {"rules": [{"match": {"label": "^step 3$"}, "respond": {"error": 400, "message": "refused"}}]}


async def run(source: str, settings: Settings, store: RunStore, *, args: Any = None,
              scenario: dict[str, Any] | None = None, resume_from: str | None = None) -> tuple[RunResult, list[Any]]:
    workflow = load_workflow("<inline>", source=textwrap.dedent(source).lstrip())
    assert not workflow.problems, workflow.problems
    resume = ResumeCache.load(store, resume_from, workflow.name) if resume_from else None
    handle = start(workflow, args, settings, client=SimulatedModel(Scenario.from_data(scenario or {})), store=store,
                   resume=resume)
    result = await handle.result()
    return result, list(handle.state.bus.history)


def of_type(events: list[Any], kind: str) -> list[str]:
    return [e.data["agent"]["label"] for e in events if e.type == kind]


async def test_every_finished_agent_is_reused_and_only_the_rest_runs_live(settings: Settings,
                                                                          store: RunStore) -> None:
    first, _ = await run(STEPS, settings, store, args={"topic": "x"}, scenario=REFUSE_STEP_3)
    assert first.agents["failed"] == 1 and first.result[3] is None

    second, events = await run(STEPS, settings, store, args={"topic": "x"}, resume_from=first.run_id)
    assert second.status == "succeeded" and None not in second.result
    assert second.result[:3] == first.result[:3] and second.result[4] == first.result[4]
    # step 3 failed before, so only it asks the model again: step 4, which succeeded, is reused after it
    assert of_type(events, "agent_cached") == ["step 0", "step 1", "step 2", "step 4"]
    assert of_type(events, "agent_started") == ["step 3"]
    assert second.agents == {"launched": 5, "succeeded": 1, "failed": 0, "cached": 4, "running": 0}
    assert all(e.data["resumed_from"] == first.run_id for e in events if e.type == "agent_cached")
    assert f"resume: 4 agents reused from {first.run_id}; 1 ran live" in second.logs[-1]
    # reused agents cost nothing: the run's usage is that of its one live agent
    live = [a for a in store.get_agents(second.run_id) if a["state"] == "succeeded"]
    assert second.usage["input_tokens"] == sum(a["input_tokens"] for a in live) > 0
    assert second.usage["cost_usd"] == pytest.approx(sum(a["cost_usd"] for a in live))

    # a resumed run is itself a complete record: resuming from it reuses all five
    third, events = await run(STEPS, settings, store, args={"topic": "x"}, resume_from=second.run_id)
    assert third.agents["cached"] == 5 and not of_type(events, "agent_started")
    assert third.result == second.result


async def test_a_changed_call_runs_live_and_the_others_are_reused(settings: Settings, store: RunStore) -> None:
    first, _ = await run(STEPS, settings, store, args={"topic": "x"})
    changed = STEPS.replace("of {args['topic']}", "of {args['topic']}{'!' if i == 2 else ''}")
    assert changed != STEPS  # the prompt of step 2 gains a "!"
    second, events = await run(changed, settings, store, args={"topic": "x"}, resume_from=first.run_id)
    assert second.agents["cached"] == 4
    assert of_type(events, "agent_cached") == ["step 0", "step 1", "step 3", "step 4"]
    assert of_type(events, "agent_started") == ["step 2"]
    # other args change every prompt: nothing matches
    third, events = await run(STEPS, settings, store, args={"topic": "y"}, resume_from=first.run_id)
    assert third.agents["cached"] == 0 and len(of_type(events, "agent_started")) == 5


async def test_identical_calls_are_matched_one_to_one(settings: Settings, store: RunStore) -> None:
    source = """
    meta = {"name": "same", "description": "the same call three times"}
    return [await agent("the same prompt", label=f"copy {i}") for i in range(3)]
    """
    first, _ = await run(source, settings, store)
    more = source.replace("range(3)", "range(5)")
    second, events = await run(more, settings, store, resume_from=first.run_id)
    assert second.agents["cached"] == 3 and of_type(events, "agent_started") == ["copy 3", "copy 4"]


async def test_a_fan_out_with_schemas_resumes_whole_and_gives_the_same_values(settings: Settings,
                                                                             store: RunStore) -> None:
    source = """
    meta = {"name": "fan", "description": "parallel agents with a pydantic schema"}
    from pydantic import BaseModel
    class Verdict(BaseModel):
        ok: bool
        reason: str
    out = await parallel([agent(f"check {i}", label=f"check {i}", schema=Verdict) for i in range(20)])
    return [[isinstance(v, Verdict), v.reason] for v in out]
    """
    first, _ = await run(source, settings, store)
    second, events = await run(source, settings, store, resume_from=first.run_id)
    assert second.agents["cached"] == 20 and not of_type(events, "agent_started")
    assert second.result == first.result and all(is_model for is_model, _ in second.result)


def test_the_key_holds_what_changes_an_answer_and_nothing_else() -> None:
    options: dict[str, Any] = {"schema": None, "model": "m", "effort": None, "isolation": None, "agent_type": None}
    key = call_key("p", **options)
    assert key == call_key("p", **options)  # the same call, wherever and whenever it is made
    for name, other in (("model", "other"), ("schema", '{"type":"object"}'), ("effort", "high"),
                        ("isolation", "worktree"), ("agent_type", "reviewer"),
                        ("tools", frozenset({"read_file", "grep"})),  # what the agent could do
                        ("definition", "sha256-of-the-edited-agent-definition"),  # what its agent type told it
                        ("skills", "digest-of-the-skills-it-was-shown")):
        assert key != call_key("p", **{**options, name: other}), name
    assert key.startswith("v3:")  # v2 keys (no tools, definitions or skills) never match
    assert key != call_key("q", **options)
    # fields cannot run into each other: a prompt that ends like the next field does not collide
    assert call_key("pm", **{**options, "model": ""}) != call_key("p", **options)


async def test_resume_is_refused_with_what_to_do(settings: Settings, store: RunStore) -> None:
    first, _ = await run(STEPS, settings, store, args={"topic": "x"})
    with pytest.raises(UsageError, match="no run 'wf_nope' to reuse"):
        ResumeCache.load(store, "wf_nope", "steps")
    with pytest.raises(UsageError, match="ran workflow 'steps', not 'other'"):
        ResumeCache.load(store, first.run_id, "other")
    store.update_run(first.run_id, status="running")
    store.flush()
    with pytest.raises(UsageError, match=r"still running \(its process is alive\).*--force"):
        ResumeCache.load(store, first.run_id, "steps")
    assert ResumeCache.load(store, first.run_id, "steps", force=True).run_id == first.run_id


def test_the_cli_resumes_a_run_of_an_earlier_process(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "steps.py").write_text(textwrap.dedent(STEPS).lstrip())
    (project / "refuse.json").write_text(json.dumps(REFUSE_STEP_3))
    args = ["--args", '{"topic": "x"}', "--json", "--yes"]
    done = workcrew(project, "run", "steps.py", "--scenario", "refuse.json", *args)
    first = json.loads(done.stdout)
    assert done.returncode == 0 and first["agents"]["failed"] == 1
    done = workcrew(project, "run", "steps.py", "--resume-from", first["run_id"], *args)
    second = json.loads(done.stdout)
    assert done.returncode == 0, done.stderr
    assert second["agents"] == {"launched": 5, "succeeded": 1, "failed": 0, "cached": 4}
    assert second["result"][:3] == first["result"][:3] and None not in second["result"]
    done = workcrew(project, "run", "steps.py", "--resume-from", "wf_nope", *args)
    assert done.returncode == 2 and "no run 'wf_nope' to reuse" in done.stderr


async def test_the_javascript_dialect_resumes_the_same_way(settings: Settings, store: RunStore,
                                                           tmp_path: Path) -> None:
    source = """export const meta = {name: 'js-steps', description: 'three agents'}
const out = []
for (let i = 0; i < 3; i++) out.push(await agent(`step ${i}`, {label: `step ${i}`}))
return out
"""
    path = tmp_path / "steps.js"
    path.write_text(source)
    workflow = load_workflow(path)
    refuse = {"rules": [{"match": {"label": "^step 2$"}, "respond": {"error": 400, "message": "no"}}]}
    first = await start(workflow, None, settings, client=SimulatedModel(Scenario.from_data(refuse)),
                        store=store).result()
    handle = start(workflow, None, settings, client=SimulatedModel(Scenario.from_data({})), store=store,
                   resume=ResumeCache.load(store, first.run_id, workflow.name))
    second = await handle.result()
    assert first.result[2] is None and None not in second.result
    assert second.agents["cached"] == 2 and second.agents["succeeded"] == 1


CHECK_AND_ASK = """
meta = {"name": "gate", "description": "a check and a question decide what the agents do"}
tests = await check("grep -c TODO notes.txt")
go = await ask("Fix the TODOs?", ["yes", "no"])
out = [await agent(f"{tests['stdout'].strip()} TODOs, answer {go}: step {i}", label=f"step {i}") for i in range(3)]
return [tests["exit_code"], go, out]
"""


async def test_check_results_and_answers_are_replayed_on_resume(settings: Settings, store: RunStore) -> None:
    (settings.workspace / "notes.txt").write_text("TODO one\nTODO two\n")
    settings = settings.model_copy(update={"command_allowlist": ["grep"]})
    asked: list[str] = []

    async def asker(question: str, choices: list[str] | None) -> str:
        asked.append(question)
        return "yes"

    async def gate(resume_from: str | None, scenario: dict[str, Any] | None = None) -> tuple[RunResult, list[Any]]:
        workflow = load_workflow("<inline>", source=CHECK_AND_ASK.lstrip())
        cache = ResumeCache.load(store, resume_from, "gate", settings=settings) if resume_from else None
        handle = start(workflow, None, settings, client=SimulatedModel(Scenario.from_data(scenario or {})),
                       store=store, asker=asker, resume=cache)
        return await handle.result(), list(handle.state.bus.history)

    first, _ = await gate(None, {"rules": [{"match": {"label": "^step 2$"}, "respond": {"error": 400}}]})
    assert first.result[:2] == [0, "yes"] and first.agents["failed"] == 1 and asked == ["Fix the TODOs?"]

    second, events = await gate(first.run_id)
    checks = [e.data for e in events if e.type == "check"]
    assert asked == ["Fix the TODOs?"]  # the answer was replayed, nobody was asked again
    assert checks == [{"command": "grep -c TODO notes.txt", "exit_code": 0, "duration_s": checks[0]["duration_s"],
                       "replayed": True}]
    assert (second.agents["launched"], second.agents["succeeded"], second.agents["cached"]) == (3, 1, 2)
    assert second.result[:2] == [0, "yes"] and second.result[2][:2] == first.result[2][:2]
    assert any("2 check()/ask() results replayed" in line for line in second.logs), second.logs

    # an edited workspace makes the command run again (its key holds the workspace's fingerprint)
    (settings.workspace / "notes.txt").write_text("TODO one\n")
    third, events = await gate(second.run_id)
    assert [e.data.get("replayed") for e in events if e.type == "check"] == [None]
    assert third.agents["cached"] == 0  # the prompts quote the new count: every agent runs again
