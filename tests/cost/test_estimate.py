"""The estimator: dry runs give the agents, ranges bracket data-dependent fan-out, the simulator's run matches."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest
from workcrew.engine import RunStore, Settings, UnknownModel, Workflow, load_workflow, start
from workcrew.engine.cost.estimate import Estimate, estimate
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulated import SimulatedModel

from .conftest import FINDERS, ROOT

EXAMPLE = ROOT / "examples" / "review_files.py"
EXAMPLE_SCENARIO = ROOT / "examples" / "review_files.scenario.json"


def sim_settings(workspace: Path, **extra: object) -> Settings:
    return Settings(workspace=workspace, provider="simulated", **extra)  # type: ignore[arg-type]


def api_settings(workspace: Path, **extra: object) -> Settings:
    return Settings(workspace=workspace, provider="anthropic", **extra)  # type: ignore[arg-type]


async def test_simulated_run_spends_exactly_the_expected_estimate(settings: Settings, store: RunStore) -> None:
    workflow = load_workflow(EXAMPLE)
    run_settings = settings.model_copy(update={"workspace": ROOT / "examples" / "workspace",
                                               "scenario": EXAMPLE_SCENARIO, "models": Settings().models})
    result = await estimate(workflow, None, None, run_settings)
    assert result.basis == "scenario"
    handle = start(workflow, None, run_settings, client=SimulatedModel(Scenario.load(EXAMPLE_SCENARIO)), store=store,
                   estimate=result.to_json())
    outcome = await handle.result()
    assert outcome.status == "succeeded"
    usage = outcome.usage
    actual_tokens = sum(v for k, v in usage.items() if k.endswith("tokens"))
    assert result.agents.expected == outcome.agents["launched"] == 8
    assert result.total_tokens.expected == actual_tokens
    assert result.cost_usd.expected == pytest.approx(usage["cost_usd"], rel=1e-3)  # usage is rounded to 1e-6
    assert result.total_tokens.contains(actual_tokens) and result.cost_usd.contains(usage["cost_usd"])


async def test_breakdown_by_phase_and_model_follows_routing(tmp_path: Path,
                                                            write_workflow: Callable[..., Workflow]) -> None:
    workflow = write_workflow("""
        phase("Find")
        await parallel([agent("sweep " + str(i), label="find " + str(i)) for i in range(4)])
        phase("Report")
        await agent("write the summary", label="summary")
        await agent("deep one", label="special", model="opus")
    """)
    result = await estimate(workflow, None, None, sim_settings(tmp_path))
    phases = {b.key: b for b in result.by_phase}
    assert phases["Find"].agents.expected == 4 and phases["Report"].agents.expected == 2
    models = {b.key: b.agents.expected for b in result.by_model}
    # cheap model for the sweep, the strong one for synthesis, the script's own choice wins
    assert models == {"claude-haiku-5-5": 4, "claude-sonnet-5-5": 1, "claude-opus-5-5": 1}
    assert sum(b.cost_usd.expected for b in result.by_model) == pytest.approx(result.cost_usd.expected)
    roles = {r.role: r.agents for r in result.by_role}
    assert roles == {"finder": 4, "synthesizer": 2}  # the role follows the phase


async def test_data_dependent_fan_out_is_bracketed_low_to_high(tmp_path: Path,
                                                               write_workflow: Callable[..., Workflow]) -> None:
    workflow = write_workflow(FINDERS)
    scenario = Scenario.from_data({"rules": [
        {"match": {"label": "^find a"}, "respond": {"json": {"bugs": [{"line": 1}, {"line": 2}]}}},
    ]})
    args = {"files": ["a.py", "b.py", "c.py"]}
    result = await estimate(workflow, args, None, api_settings(tmp_path), scenario=scenario)
    assert result.basis == "priors"
    # low: every finder finds nothing; expected: the scenario's two bugs; high: three bugs per file
    assert (result.agents.low, result.agents.expected, result.agents.high) == (3, 5, 12)
    verify = next(b for b in result.by_phase if b.key == "Verify")
    assert (verify.agents.low, verify.agents.expected, verify.agents.high) == (0, 2, 9)
    for value in (result.input_tokens, result.output_tokens, result.cost_usd, result.minutes):
        assert value.low <= value.expected <= value.high
    assert result.cost_usd.low > 0


async def test_minutes_come_from_the_scheduler_at_the_concurrency_cap(
        tmp_path: Path, write_workflow: Callable[..., Workflow]) -> None:
    workflow = write_workflow('await parallel([agent("task " + str(i), label="t" + str(i)) for i in range(32)])')
    scenario = Scenario.from_data({"rules": [{"match": {}, "respond": {"text": "ok"}, "latency_ms": 60_000}]})
    wide = await estimate(workflow, None, None, sim_settings(tmp_path, concurrency=32), scenario=scenario)
    narrow = await estimate(workflow, None, None, sim_settings(tmp_path, concurrency=16), scenario=scenario)
    # one minute per agent, in virtual time: one wave at 32 at once, two waves at 16
    assert wide.minutes.expected == pytest.approx(1.0, abs=0.01)
    assert narrow.minutes.expected == pytest.approx(2.0, abs=0.01)


async def test_dry_run_writes_nothing_and_runs_no_commands(tmp_path: Path,
                                                          write_workflow: Callable[..., Workflow]) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "a.py").write_text("x = 1\n")
    (workspace / "Makefile").write_text("all:\n\ttouch ran.txt\n")  # what a real check would leave behind
    workflow = write_workflow("""
        result = await check("make all")
        edit = await agent("Change a.py", label="fixer", isolation="worktree")
        return result
    """)
    before = sorted(p.relative_to(workspace) for p in workspace.rglob("*"))
    result = await estimate(workflow, None, None, sim_settings(workspace))
    assert result.agents.expected == 1
    assert sorted(p.relative_to(workspace) for p in workspace.rglob("*")) == before
    assert (workspace / "a.py").read_text() == "x = 1\n"
    assert not (workspace / "ran.txt").exists()


async def test_unknown_model_is_an_error_before_the_run_with_the_known_models(
        tmp_path: Path, write_workflow: Callable[..., Workflow]) -> None:
    workflow = write_workflow('await parallel([agent("x", model="gpt-9")])')
    with pytest.raises(UnknownModel) as caught:
        await estimate(workflow, None, None, api_settings(tmp_path))
    assert "gpt-9" in str(caught.value) and "claude-haiku-5-5" in str(caught.value)
    configured = write_workflow('await agent("x")', name="plain")
    with pytest.raises(UnknownModel, match="mystery-model"):
        await estimate(configured, None, None, api_settings(tmp_path, models={"default": "mystery-model"}))


async def test_scope_files_an_agent_names_add_their_tokens(tmp_path: Path,
                                                           write_workflow: Callable[..., Workflow]) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "big.py").write_text("x = 1\n" * 8000)  # 48,000 bytes ≈ 12,000 tokens
    (workspace / ".env").write_text("SECRET=1\n" * 1000)
    workflow = write_workflow('await agent("Find bugs in big.py", label="find big.py")')
    plain = await estimate(workflow, None, [], api_settings(workspace))
    scoped = await estimate(workflow, None, ["big.py", ".env"], api_settings(workspace))
    added = scoped.input_tokens.expected - plain.input_tokens.expected
    # the file is read once and stays in the conversation for the agent's later turns
    assert 12_000 <= added <= 12_000 * 10
    secret_only = await estimate(workflow, None, [".env"], api_settings(workspace))
    assert secret_only.input_tokens.expected == plain.input_tokens.expected
    # without a scope, the workspace files a prompt names are the ones it reads
    named = await estimate(workflow, None, None, api_settings(workspace))
    assert named.input_tokens.expected == scoped.input_tokens.expected


async def test_shared_prefix_is_written_once_and_read_by_the_other_agents(
        tmp_path: Path, write_workflow: Callable[..., Workflow]) -> None:
    context = "shared context line\\n" * 400  # ~2,000 tokens, one byte-identical head for every agent
    workflow = write_workflow(f"""
        CONTEXT = "{context}"
        await parallel([agent(CONTEXT + "\\n\\nReview part " + str(i), label="review " + str(i)) for i in range(10)])
    """)
    result = await estimate(workflow, None, None, api_settings(tmp_path))
    assert result.cache_write_tokens.expected > 0
    # nine of ten agents read the shared head instead of paying for it again
    assert result.cache_read_tokens.expected >= 9 * 1900
    cold = await estimate(workflow, None, None, api_settings(tmp_path))
    assert cold.cost_usd.expected < cold.cost_usd.high


async def test_a_budget_caps_the_estimate(tmp_path: Path, write_workflow: Callable[..., Workflow]) -> None:
    workflow = write_workflow('await parallel([agent("task " + str(i)) for i in range(20)])')
    free = await estimate(workflow, None, None, api_settings(tmp_path))
    capped = await estimate(workflow, None, None, api_settings(tmp_path, budget_usd=free.cost_usd.expected / 2))
    assert capped.cost_usd.high <= free.cost_usd.expected / 2 + 1e-12
    assert any("budget" in note for note in capped.notes)


async def test_json_shape(tmp_path: Path, write_workflow: Callable[..., Workflow]) -> None:
    workflow = write_workflow(FINDERS)
    result = await estimate(workflow, {"files": ["a.py"]}, None, api_settings(tmp_path))
    data = json.loads(json.dumps(result.to_json()))
    for key in ("agents", "input_tokens", "output_tokens", "cost_usd", "minutes"):
        assert set(data[key]) == {"low", "expected", "high"}
        assert data[key]["low"] <= data[key]["expected"] <= data[key]["high"]
    assert isinstance(data["agents"]["expected"], int)
    assert [p["phase"] for p in data["by_phase"]] == ["Find", "Verify"]
    assert [m["model"] for m in data["by_model"]] == ["claude-haiku-5-5"]
    assert Estimate.model_validate(result.model_dump()) == result
    assert data["budget_usd"] >= data["cost_usd"]["high"] and math.isfinite(data["budget_usd"])


async def test_counted_tokens_replace_the_local_count(tmp_path: Path, write_workflow: Callable[..., Workflow]) -> None:
    class DoubleCounter(SimulatedModel):
        """A model whose tokenizer counts twice the local count (like a denser tokenizer would)."""

        async def count_tokens(self, request):  # type: ignore[no-untyped-def]
            return 2 * await super().count_tokens(request)

    workflow = write_workflow('await agent("Summarise the answer", label="s")')
    local = await estimate(workflow, None, None, api_settings(tmp_path))
    counted = await estimate(workflow, None, None, api_settings(tmp_path), counter=DoubleCounter(Scenario()))
    assert counted.input_tokens.expected > 1.3 * local.input_tokens.expected  # prompts double, outputs do not
