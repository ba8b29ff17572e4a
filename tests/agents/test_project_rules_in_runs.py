"""Project review rules in a run, through the real SDK against the simulator: every agent's system prompt
states them, a finding a rule covers is counted as suppressed (log, event, report) instead of published,
and an agent that ran before a rule was added is not reused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from workcrew.engine import RunStore, Settings, load_workflow, start
from workcrew.engine.providers.simulator import SimulatorThread
from workcrew.engine.results.report import load_records, report_path
from workcrew.engine.results.rules import add_rule, rule_from_finding, rules_path
from workcrew.engine.runtime.resume import ResumeCache

from .conftest import model_for
from .test_agent_types import sent, system_text

COVERED = {"title": "Division by zero when values is empty", "category": "division-by-zero",
           "location": {"path": "src/calc.py", "start_line": 3, "snippet": "return total / len(values)"}}
OTHER = {"title": "Off by one in spread", "category": "division-by-zero",
         "location": {"path": "src/calc.py", "start_line": 9, "snippet": "return max(values) - min(values)"}}
SCRIPT = f"""meta = {{"name": "review-calc", "description": "d"}}
answer = await agent("Review src/calc.py for bugs", label="find")
report({COVERED!r})
report({OTHER!r})
return answer
"""


async def test_rules_reach_every_agent_and_suppress_what_they_cover(
        simulator: Callable[..., SimulatorThread], workspace: Path, home: Path, settings: Settings,
        store: RunStore, tmp_path: Path) -> None:
    sim = simulator([{"respond": {"text": "two bugs"}}])
    script = tmp_path / "wf.py"
    script.write_text(SCRIPT)
    run_settings = settings.model_copy(update={"provider": "anthropic", "base_url": sim.url})

    async def run(resume_from: str | None = None) -> Any:
        client = model_for(sim)
        cache = ResumeCache.load(store, resume_from, "review-calc", settings=run_settings) if resume_from else None
        try:
            return await start(load_workflow(script), None, run_settings, client=client, store=store,
                               resume=cache).result()
        finally:
            await client.aclose()

    before = await run()
    assert before.findings == 2
    assert "Project review rules" not in system_text(sent(sim, "find")[0])
    stored = {f["title"]: f for f in store.get_findings(before.run_id)}

    # the first finding is dismissed as a false positive: its rule is in the repository's rules file
    rule = add_rule(workspace, rule_from_finding(stored[COVERED["title"]], "false-positive",
                                                 "callers never pass an empty list"))
    assert rules_path(workspace).is_file()

    after = await run(before.run_id)
    # the agent from before the rule is not reused: its prompt now says something new
    assert after.agents["cached"] == 0 and len(sent(sim, "find")) == 2
    system = system_text(sent(sim, "find")[1])
    assert "Project review rules (.claude/workcrew-rules.md)" in system
    assert f"- [{rule.id}] (false-positive; applies to src/**; category division-by-zero) Not a bug in this project" \
           in system and "Callers never pass an empty list." in system
    # the covered finding is not published, and says so; the other one is
    assert after.findings == 1
    assert [f["title"] for f in store.get_findings(after.run_id)] == [OTHER["title"]]
    assert any(line.startswith(f"finding “{COVERED['title']}” at src/calc.py:3 suppressed by rule {rule.id} "
                               f"(workcrew-rules.md:{rule.line})") for line in after.logs)
    (event,) = store.events_of_type(after.run_id, "finding_suppressed")
    assert event["rule"]["id"] == rule.id and event["finding"]["title"] == COVERED["title"]
    report = report_path(store.state_dir, after.run_id).read_text()
    assert "Suppressed by project rules: 1 (not shown; listed below)." in report
    assert "### Suppressed by project rules (1)" in report
    assert f"- {COVERED['title']} — `src/calc.py:3` — suppressed by rule {rule.id} (false-positive)" in report
    assert load_records(store, after.run_id).suppressed == [event]

    # with the same rules, the agent that saw them is reused
    again = await run(after.run_id)
    assert again.agents["cached"] == 1 and len(sent(sim, "find")) == 2


async def test_a_broken_rules_file_warns_and_the_good_rules_still_apply(
        simulator: Callable[..., SimulatorThread], workspace: Path, home: Path, settings: Settings,
        store: RunStore, tmp_path: Path) -> None:
    path = rules_path(workspace)
    path.parent.mkdir(parents=True)
    path.write_text("## R-good\n- kind: intended\n- applies to: src/**\n\nZero is handled by the callers.\n\n"
                    "## R-bad\n- kind: maybe\n\nText.\n")
    sim = simulator([{"respond": {"text": "ok"}}])
    script = tmp_path / "wf.py"
    script.write_text('meta = {"name": "t", "description": "d"}\nreturn await agent("Review src/calc.py", label="find")\n')
    client = model_for(sim)
    try:
        result = await start(load_workflow(script), None, settings.model_copy(
            update={"provider": "anthropic", "base_url": sim.url}), client=client, store=store).result()
    finally:
        await client.aclose()
    assert result.status == "succeeded"
    assert f"warning: project rules: {path}:7: rule 'R-bad': kind 'maybe' is not one of" in "\n".join(result.logs)
    system = system_text(sent(sim, "find")[0])
    assert "[R-good] (intended; applies to src/**) Zero is handled by the callers." in system
    assert "R-bad" not in system
