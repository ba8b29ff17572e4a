"""Model routing: cheap models for sweeps and verifiers, the strong one for fixes and synthesis, overrides win."""

from __future__ import annotations

from pathlib import Path

from workcrew.engine import RunStore, Settings
from workcrew.engine.runtime.routing import infer_role, route_model
from workcrew.engine.settings import ModelRouting
from workcrew.engine.workflows.meta import WorkflowMeta


def test_roles_follow_the_phase_label_or_agent_type() -> None:
    assert infer_role(None, "Find", "find a.py") == "finder"
    assert infer_role(None, "Verify", None) == "verifier"
    assert infer_role(None, None, "fix calc.py:3#1") == "fixer"
    assert infer_role(None, "Report", None) == "synthesizer"
    assert infer_role("verifier", "Find", None) == "verifier"
    assert infer_role(None, None, "t1") is None


def test_precedence_explicit_then_meta_phase_then_settings_phase_then_role(tmp_path: Path) -> None:
    settings = Settings(workspace=tmp_path, provider="anthropic",
                        models={"phases": {"Deep": "claude-opus-5-5"}, "verifier": "claude-haiku-4-5"})
    meta = WorkflowMeta(name="w", description="d", phases=[{"title": "Find", "model": "sonnet"}])  # type: ignore[list-item]
    route = lambda **kw: route_model(settings, meta, **kw)  # noqa: E731
    assert route(explicit="opus", phase="Find", role="finder") == "claude-opus-5-5"
    assert route(explicit=None, phase="Find", role="finder") == "claude-sonnet-5-5"
    assert route(explicit=None, phase="Deep", role="verifier") == "claude-opus-5-5"
    assert route(explicit=None, phase="Check", role="verifier") == "claude-haiku-4-5"
    assert route(explicit=None, phase=None, role="finder") == "claude-haiku-5-5"
    assert route(explicit=None, phase=None, role="fixer") == "claude-sonnet-5-5"
    assert route(explicit=None, phase=None, role=None) == "claude-sonnet-5-5"


async def test_events_and_records_carry_per_agent_and_per_phase_cost(run_script, store: RunStore) -> None:  # type: ignore[no-untyped-def]
    outcome = await run_script(
        """
        phase("Find")
        await parallel([agent("look " + str(i), label="find " + str(i)) for i in range(3)])
        phase("Report")
        await agent("sum up", label="summary")
        """,
        models=ModelRouting(default="claude-sonnet-5-5"),
    )
    assert outcome.status == "succeeded", outcome.error
    handle = run_script.handle
    finished = [e.data["agent"] for e in handle.state.bus.history if e.type == "agent_finished"]
    assert len(finished) == 4 and all(a["cost_usd"] > 0 for a in finished)
    assert {a["model"] for a in finished if a["phase"] == "Find"} == {"claude-haiku-5-5"}
    assert {a["model"] for a in finished if a["phase"] == "Report"} == {"claude-sonnet-5-5"}
    phases = {p["title"]: p for p in handle.tree()["phases"]}
    assert phases["Find"]["cost_usd"] > 0 and phases["Report"]["cost_usd"] > 0
    total = sum(p["cost_usd"] for p in phases.values())
    assert abs(total - outcome.usage["cost_usd"]) < 1e-5


def test_a_default_model_the_user_names_applies_to_every_agent(tmp_path: Path) -> None:
    from workcrew.engine import load_settings

    settings = load_settings(tmp_path, env={"WORKCREW_MODEL": "claude-opus-5-5", "WORKCREW_PROVIDER": "anthropic"})
    for role in ("finder", "verifier", "fixer", "synthesizer", None):
        assert route_model(settings, None, explicit=None, phase=None, role=role) == "claude-opus-5-5"
    # a phase the settings route explicitly still wins over the named default
    (tmp_path / "workcrew.toml").write_text('[models.phases]\nSweep = "claude-haiku-5-5"\n')
    settings = load_settings(tmp_path, env={"WORKCREW_MODEL": "claude-opus-5-5"})
    assert route_model(settings, None, explicit=None, phase="Sweep", role="finder") == "claude-haiku-5-5"
