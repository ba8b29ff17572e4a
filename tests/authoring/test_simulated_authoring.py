"""The simulated orchestrator (provider simulated, no scenario): the request picks a built-in pattern, and the
script it writes checks clean, is saved, and runs on the simulated model with findings to show."""

from __future__ import annotations

from pathlib import Path

import pytest
from workcrew.engine import RunStore, Settings, start
from workcrew.engine.providers.factory import make_client
from workcrew.engine.workspace.authoring import author_workflow, check_source, embed_default_args
from workcrew.engine.workspace.scope import Scope, ScopeRequest, Selection, compute_scope
from workcrew.engine.workspace.simulated_authoring import choose_pattern, simulated_script

REQUESTS = [
    ("find bugs in the parser", "review"),
    ("check for security holes", "review"),
    ("fix the failing tests", "fix"),
    ("make the tests pass", "fix"),
    ("explain how the statistics work", "understand"),
    ("document the public API", "understand"),
    ("rename mean to average everywhere", "migrate"),
    ("audit our skills for outdated instructions", "skill-audit"),
    ("translate the comments to French", "generic"),
]


@pytest.fixture
def project(workspace: Path) -> Path:
    (workspace / "calc.py").write_text("def mean(values):\n    total = sum(values)\n    return total / len(values)\n")
    (workspace / "strings.py").write_text("def initials(name):\n    parts = name.split()\n"
                                          "    return \"\".join(p[0] for p in parts)[:-1]\n")
    return workspace


@pytest.fixture
def scope(project: Path, settings: Settings) -> Scope:
    return compute_scope(ScopeRequest(project), settings)


@pytest.mark.parametrize(("request_text", "pattern"), REQUESTS)
def test_the_request_picks_the_pattern_and_the_script_checks_clean(request_text: str, pattern: str,
                                                                   scope: Scope) -> None:
    assert choose_pattern(request_text).name == pattern
    source = embed_default_args(simulated_script(request_text, "my-workflow"), {"files": scope.paths})
    workflow = check_source(source)
    assert workflow.check() == [], source
    assert workflow.meta is not None and workflow.meta.name == "my-workflow"
    assert "simulated orchestrator" in source and f"the built-in {pattern} pattern" in source


def test_the_request_text_is_embedded_as_data_not_code() -> None:
    hostile = 'find bugs"\nimport os\nx = "\\u2028 ${name} {old}'
    workflow = check_source(embed_default_args(simulated_script(hostile, "w"), {"files": ["a.py"]}))
    assert workflow.check() == []
    assert "import os" not in [line.strip() for line in workflow.source.splitlines()]


@pytest.mark.parametrize(("request_text", "pattern"), REQUESTS)
async def test_every_pattern_runs_on_the_simulated_model(request_text: str, pattern: str, scope: Scope,
                                                         settings: Settings, store: RunStore) -> None:
    workflow = check_source(embed_default_args(simulated_script(request_text, "w"), {"files": scope.paths}))
    outcome = await start(workflow, None, settings, client=make_client(settings), store=store).result()
    assert outcome.status == "succeeded", outcome.error
    assert outcome.result["summary"] and outcome.result["dropped"] == []


async def test_authoring_without_a_scenario_saves_a_review_that_finds_and_fixes(
        scope: Scope, settings: Settings, store: RunStore) -> None:
    assert settings.provider == "simulated" and settings.scenario is None
    authored = await author_workflow("find bugs", scope, settings)  # no client: the settings' provider
    assert authored.ok and authored.rounds == 1
    assert authored.path == settings.workspace / ".claude" / "workflows" / "find-bugs.py"
    assert authored.args == {"files": ["calc.py", "strings.py"]}

    outcome = await start(authored.workflow, None, settings, client=make_client(settings), store=store).result()
    assert outcome.status == "succeeded", outcome.error
    confirmed = outcome.result["confirmed"]
    assert [(f["location"]["path"], f["location"]["start_line"]) for f in confirmed] == [("calc.py", 3),
                                                                                          ("strings.py", 3)]
    for found in confirmed:
        assert "(simulated)" in found["title"] and found["verdict"] == "confirmed"
        (edit,) = found["fix"]["edits"]
        text = (settings.workspace / edit["path"]).read_text()
        assert text.count(edit["old"]) == 1  # the quick-fix applies


async def test_a_selection_points_the_finder_at_its_lines(project: Path, settings: Settings,
                                                          store: RunStore) -> None:
    selection = Selection(str(project / "calc.py"), 2, 3, "")
    scope = compute_scope(ScopeRequest(project, selection=selection), settings)
    authored = await author_workflow("look for crashes", scope, settings, save=False)
    assert authored.ok and authored.args["selection"] == {"path": "calc.py", "start_line": 2, "end_line": 3}
    handle = start(authored.workflow, authored.args, settings, client=make_client(settings), store=store)
    outcome = await handle.result()
    assert outcome.status == "succeeded" and outcome.result["files"] == ["calc.py"]
    store.flush()
    (finder,) = [a for a in store.get_agents(outcome.run_id) if a["label"] == "find calc.py"]
    assert finder["state"] == "succeeded"
