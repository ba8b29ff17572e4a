"""The simulated model without a scenario: finders read their file and report pattern hits with fixes that
apply, skeptics uphold them, everything says "(simulated)"; with a scenario nothing changes."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from workcrew.engine import RunStore, Settings, load_workflow, start
from workcrew.engine.providers.factory import make_client
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulated import SimulatedModel
from workcrew.engine.providers.simulated_findings import find_candidates
from workcrew.engine.providers.simulated_free import findings_key, path_in_prompt

CALC = '''\
def mean(values):
    total = sum(values)
    return total / len(values)


def safe_mean(values):
    if not values:
        return 0.0
    return sum(values) / len(values)


def first(items, seen=[]):
    try:
        return items[0]
    except:
        return None


def is_missing(value):
    return value == None
'''

FIND_ONLY = """
FINDINGS = {"type": "object", "required": ["findings"],
            "properties": {"findings": {"type": "array", "items": CANDIDATE}}}
found = await agent("Review calc.py for real bugs.", schema=FINDINGS, label="find calc.py")
"""
FIND = FIND_ONLY + """
outcome = await vote(f"calc.py line {found['findings'][0]['line']}: {found['findings'][0]['title']}", n=3)
return {"found": found, "outcome": outcome}
"""


def lines_of(text: str) -> dict[int, str]:
    return dict(enumerate(text.splitlines(), start=1))


def apply(text: str, fix: dict[str, str]) -> str:
    assert text.count(fix["old"]) == 1, "the fix's old text must occur exactly once"
    return text.replace(fix["old"], fix["new"])


def test_patterns_hit_real_lines_with_fixes_that_apply() -> None:
    found = find_candidates("calc.py", lines_of(CALC))
    assert [(c["line"], c["title"].split(" ")[0]) for c in found] == [(3, "Division"), (12, "Mutable"), (15, "Bare")]
    assert all("(simulated)" in c["title"] and "simulated model" in c["message"] for c in found)
    division, mutable, bare = found
    assert division["snippet"] == "return total / len(values)"
    fixed = apply(CALC, division["fix"])
    assert "    return total / len(values) if values else 0.0\n" in fixed
    compile(fixed, "calc.py", "exec")  # the patched file is still Python
    assert "fix" not in mutable  # a fix that spans the body is not offered as a one-line edit
    assert apply(CALC, bare["fix"]).count("except Exception:") == 1


def test_at_most_three_per_file_and_a_guarded_division_is_not_reported() -> None:
    assert all(c["line"] != 9 for c in find_candidates("calc.py", lines_of(CALC)))  # safe_mean checks first
    tail = "\n".join(CALC.splitlines()[17:]) + "\n"
    (compare,) = find_candidates("calc.py", lines_of(tail))
    assert apply(tail, compare["fix"]).endswith("return value is None\n")


def test_a_line_that_occurs_twice_gets_no_fix() -> None:
    text = "def a(xs):\n    return sum(xs) / len(xs)\n\ndef b(xs):\n    return sum(xs) / len(xs)\n"
    found = find_candidates("twice.py", lines_of(text))
    assert [c["line"] for c in found] == [2, 5] and not any("fix" in c for c in found)


def test_prompt_paths_and_finder_schemas_are_recognised() -> None:
    assert path_in_prompt("Review src/calc.py for real bugs, e.g. crashes.") == "src/calc.py"
    assert path_in_prompt("Review it for bugs: {old, new}") is None
    assert findings_key({"type": "object", "properties": {"bugs": {"type": "array", "items": {
        "type": "object", "properties": {"line": {"type": "integer"}, "title": {"type": "string"}}}}}}) == "bugs"
    assert findings_key({"type": "object", "properties": {"refuted": {"type": "boolean"}}}) is None


@pytest.fixture
def calc_workspace(settings: Settings) -> Settings:
    (settings.workspace / "calc.py").write_text(CALC)
    return settings


async def run(settings: Settings, store: RunStore, tmp_path: Path, client: Any, body: str = FIND) -> Any:
    path = tmp_path / "wf.py"
    path.write_text('meta = {"name": "t", "description": "test"}\n' + textwrap.dedent(body))
    workflow = load_workflow(path)
    assert not workflow.problems, workflow.problems
    return await start(workflow, None, settings, client=client, store=store).result()


async def test_without_a_scenario_the_finder_reads_its_file_and_skeptics_uphold(
        calc_workspace: Settings, store: RunStore, tmp_path: Path) -> None:
    client = make_client(calc_workspace)  # provider simulated, no scenario: the free first run
    assert isinstance(client, SimulatedModel) and client.free_answers
    outcome = await run(calc_workspace, store, tmp_path, client)
    assert outcome.status == "succeeded", outcome.error
    findings = outcome.result["found"]["findings"]
    assert [f["line"] for f in findings] == [3, 12, 15]
    assert findings[0]["path"] == "calc.py" and findings[0]["fix"]["old"] == "    return total / len(values)"
    vote = outcome.result["outcome"]
    assert vote["verdict"] == "confirmed" and vote["votes"] == {"confirm": 3, "refute": 0, "missing": 0}
    assert all("(simulated)" in note for note in vote["notes"])
    store.flush()
    finder = next(a for a in store.get_agents(outcome.run_id) if a["label"] == "find calc.py")
    assert finder["tool_calls"] == 1 and finder["turns"] == 2  # it read the file through its toolbox


async def test_a_missing_file_gets_an_empty_list(settings: Settings, store: RunStore, tmp_path: Path) -> None:
    outcome = await run(settings, store, tmp_path, make_client(settings), FIND_ONLY + "return found\n")
    assert outcome.status == "succeeded" and outcome.result == {"findings": []}


async def test_with_a_scenario_unanswered_turns_keep_the_minimal_default(
        calc_workspace: Settings, store: RunStore, tmp_path: Path) -> None:
    client = SimulatedModel(Scenario.from_data({"rules": []}))
    outcome = await run(calc_workspace, store, tmp_path, client, FIND_ONLY + "return found\n")
    assert outcome.status == "succeeded" and outcome.result == {"findings": []}


async def test_other_schemas_say_they_are_simulated(settings: Settings, store: RunStore, tmp_path: Path) -> None:
    body = """
    NOTES = {"type": "object", "required": ["summary", "kind", "tags"],
             "properties": {"summary": {"type": "string"}, "kind": {"enum": ["a", "b"]},
                            "tags": {"type": "array", "items": {"type": "string"}}}}
    return [await agent("Summarise the project", schema=NOTES), await agent("Say hello", label="hello")]
    """
    outcome = await run(settings, store, tmp_path, make_client(settings), body)
    assert outcome.result == [{"summary": "(simulated summary)", "kind": "a", "tags": []},
                              "Simulated answer for: hello"]
