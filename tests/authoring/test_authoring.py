"""Authoring: the orchestrator writes a workflow from the request and the scope; checked, repaired, saved."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from workcrew.engine import RunStore, Settings, load_workflow, start
from workcrew.engine.providers.base import ModelRequest, ModelResponse
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulated import SimulatedModel
from workcrew.engine.workspace.authoring import (
    AuthoringError,
    author_workflow,
    check_source,
    embed_default_args,
    extract_script,
    save_workflow,
    slugify,
    system_prompt,
)
from workcrew.engine.workspace.scope import Scope, ScopeRequest, Selection, compute_scope

FIXTURES = Path(__file__).parent / "fixtures"


class Recording:
    """The simulated model, keeping every request the orchestrator sent."""

    name = "recording"

    def __init__(self, scenario: str | dict[str, Any]) -> None:
        loaded = Scenario.load(FIXTURES / scenario) if isinstance(scenario, str) else Scenario.from_data(scenario)
        self.model = SimulatedModel(loaded)
        self.requests: list[ModelRequest] = []

    async def turn(self, request: ModelRequest) -> ModelResponse:
        self.requests.append(request)
        return await self.model.turn(request)

    async def count_tokens(self, request: ModelRequest) -> int:
        return await self.model.count_tokens(request)

    async def aclose(self) -> None:
        return None


def good_script() -> str:
    data = yaml.safe_load((FIXTURES / "author_ok.scenario.yaml").read_text())
    return extract_script(data["rules"][0]["respond"]["text"])


@pytest.fixture
def project(workspace: Path) -> Path:
    (workspace / "src").mkdir()
    (workspace / "src" / "calc.py").write_text("def mean(xs):\n    return sum(xs) / len(xs)\n")
    (workspace / "src" / "text.py").write_text("def last(s):\n    return s[:-1]\n")
    (workspace / ".env").write_text("API_KEY=SUPERSECRET\n")
    return workspace


@pytest.fixture
def scope(project: Path, settings: Settings) -> Scope:
    return compute_scope(ScopeRequest(project), settings)


async def test_happy_path_saves_a_clean_script_with_the_scope_as_args(
        scope: Scope, settings: Settings, store: RunStore) -> None:
    client = Recording("author_ok.scenario.yaml")
    authored = await author_workflow("find bugs in my code", scope, settings, client=client)
    assert authored.ok and authored.rounds == 1 and authored.problems == []
    assert authored.path == settings.workspace / ".claude" / "workflows" / "find-bugs.py"
    saved = authored.path.read_text()
    assert saved == authored.source
    assert '"name": "find-bugs"' in saved  # meta.name follows the file name, so it runs by that name
    assert load_workflow(authored.path).check() == []
    assert authored.args == {"files": ["src/calc.py", "src/text.py"]}
    assert "DEFAULT_ARGS = {'files': ['src/calc.py', 'src/text.py']}" in saved
    assert authored.usage.input_tokens > 0 and authored.usage.output_tokens > 0 and authored.cost_usd > 0
    # one orchestrator turn, with the dialect reference as its system prompt and the scope in its prompt
    (request,) = client.requests
    assert request.role == "orchestrator" and request.model == settings.models.orchestrator
    assert system_prompt() in request.system[0]["text"]
    assert "find bugs in my code" in request.prompt and "src/calc.py" in request.prompt
    # the saved workflow runs, on the returned args and on its embedded defaults
    for args in (authored.args, None):
        handle = start(authored.workflow, args, settings, client=SimulatedModel(client.model.scenario), store=store)
        result = await handle.result()
        assert result.status == "succeeded", result.error
        assert result.result == {"files": ["src/calc.py", "src/text.py"], "confirmed": 2}


async def test_secret_files_never_reach_the_orchestrator(scope: Scope, settings: Settings) -> None:
    client = Recording("author_ok.scenario.yaml")
    await author_workflow("audit everything", scope, settings, client=client, save=False)
    sent = "\n".join(r.prompt + "".join(b["text"] for b in r.system) for r in client.requests)
    assert "SUPERSECRET" not in sent and ".env" not in sent
    assert "secret 1" in sent  # counted, not named


async def test_repair_round_fixes_a_sandbox_violation(scope: Scope, settings: Settings) -> None:
    client = Recording("author_repair.scenario.yaml")
    progress: list[str] = []
    authored = await author_workflow("find bugs", scope, settings, client=client, on_progress=progress.append)
    assert authored.ok and authored.rounds == 2
    assert [p.rule for p in authored.history[0]] == ["determinism", "determinism"]
    assert authored.history[1] == []
    # the repair prompt carried the problems as path:line:col: rule: message, and the script to fix
    repair = client.requests[1].prompt
    assert re.search(r"workflow\.py:\d+:\d+: determinism: module 'os'", repair)
    assert "import os" in repair
    assert "import os" not in authored.path.read_text()  # type: ignore[union-attr]
    assert any("round 1 of 3" in line for line in progress)


@pytest.mark.parametrize("max_repairs", [3, 2])
async def test_gives_up_after_the_repair_rounds_and_returns_the_problems(
        scope: Scope, settings: Settings, max_repairs: int) -> None:
    client = Recording("author_broken.scenario.yaml")
    authored = await author_workflow("find bugs", scope, settings, client=client, max_repairs=max_repairs)
    assert not authored.ok
    assert authored.rounds == len(client.requests) == max_repairs + 1
    assert [p.rule for p in authored.problems] == ["syntax"]
    # saved anyway so the user can fix it by hand; still named from its meta
    assert authored.path is not None and authored.path.name == "find-bugs.py"
    assert load_workflow(authored.path).check()[0].rule == "syntax"


async def test_a_name_collision_never_overwrites_another_workflow(scope: Scope, settings: Settings) -> None:
    folder = settings.workspace / ".claude" / "workflows"
    folder.mkdir(parents=True)
    (folder / "find-bugs.py").write_text("# the user's own workflow\n")
    first = await author_workflow("find bugs", scope, settings, client=Recording("author_ok.scenario.yaml"))
    assert first.path == folder / "find-bugs-2.py"
    assert (folder / "find-bugs.py").read_text() == "# the user's own workflow\n"
    assert first.workflow.name == "find-bugs-2" and first.ok
    # the very same script again is the same file, not a third copy
    again = await author_workflow("find bugs", scope, settings, client=Recording("author_ok.scenario.yaml"))
    assert again.path == first.path
    assert sorted(p.name for p in folder.iterdir()) == ["find-bugs-2.py", "find-bugs.py"]


async def test_an_explicit_name_sets_file_and_meta(scope: Scope, settings: Settings) -> None:
    authored = await author_workflow("find bugs", scope, settings, client=Recording("author_ok.scenario.yaml"),
                                     name="Nightly Audit")
    assert authored.path is not None and authored.path.name == "nightly-audit.py"
    assert authored.workflow.name == "nightly-audit" and authored.ok


async def test_orchestrator_failure_is_an_error_and_saves_nothing(scope: Scope, settings: Settings) -> None:
    client = Recording({"rules": [{"match": {"role": "orchestrator"},
                                   "respond": {"error": 400, "message": "bad request: prompt too long"}}]})
    with pytest.raises(AuthoringError, match="prompt too long"):
        await author_workflow("find bugs", scope, settings, client=client)
    assert not (settings.workspace / ".claude").exists()


async def test_the_budget_bounds_authoring(scope: Scope, settings: Settings) -> None:
    client = Recording("author_ok.scenario.yaml")
    tight = settings.model_copy(update={"budget_tokens": 1000})
    with pytest.raises(AuthoringError, match="budget"):
        await author_workflow("find bugs", scope, tight, client=client)
    assert client.requests == []  # refused before anything was sent


async def test_empty_request_is_refused(scope: Scope, settings: Settings) -> None:
    with pytest.raises(AuthoringError, match="empty"):
        await author_workflow("   ", scope, settings, client=Recording("author_ok.scenario.yaml"))


def test_extract_script_takes_the_python_block() -> None:
    answer = "Sure! Here it is:\n```python\nmeta = {}\nx = 1\n```\nAnd a note:\n```\nnot code\n```\n"
    assert extract_script(answer) == "meta = {}\nx = 1\n"
    assert extract_script("meta = {}\n") == "meta = {}\n"
    assert extract_script("```py\nmeta = {}\n") == "meta = {}\n"  # an unclosed fence (cut-off answer)


def test_slugify() -> None:
    assert slugify("Find_Bugs in SRC!") == "find-bugs-in-src"
    assert slugify("???") == "workflow"


def test_save_never_writes_outside_the_workflows_folder(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="invalid workflow file name"):
        save_workflow("meta = {}\n", tmp_path, "../escape")
    assert save_workflow("a\n", tmp_path, "x") == tmp_path / ".claude" / "workflows" / "x.py"
    assert save_workflow("b\n", tmp_path, "x") == tmp_path / ".claude" / "workflows" / "x-2.py"
    assert save_workflow("a\n", tmp_path, "x") == tmp_path / ".claude" / "workflows" / "x.py"


def test_default_args_are_embedded_after_meta_and_large_scopes_are_not() -> None:
    source = good_script()
    embedded = embed_default_args(source, {"files": ["a.py"]})
    assert check_source(embedded).check() == []
    lines = embedded.splitlines()
    assert lines[lines.index("}") + 3] == "DEFAULT_ARGS = {'files': ['a.py']}"
    big = embed_default_args(source, {"files": [f"f{i}.py" for i in range(5000)]})
    assert "DEFAULT_ARGS = {'files': []}" in big and "too large to embed" in big


def test_the_prompt_examples_pass_the_check() -> None:
    blocks = re.findall(r"```python\n(.*?)\n```", system_prompt(), re.S)
    assert len(blocks) == 3
    for block in blocks:
        workflow = check_source(embed_default_args(block + "\n", {"files": ["a.py"]}))
        assert workflow.check() == [], workflow.name


@pytest.mark.parametrize("name", ["find-bugs", "map-codebase"])
async def test_the_prompt_examples_run(name: str, settings: Settings, store: RunStore) -> None:
    blocks = {check_source(b + "\n").name: b + "\n" for b in re.findall(r"```python\n(.*?)\n```", system_prompt(), re.S)}
    workflow = check_source(embed_default_args(blocks[name], {"files": ["a.py", "b.py"]}))
    handle = start(workflow, None, settings, client=SimulatedModel(Scenario()), store=store)
    result = await handle.result()
    assert result.status == "succeeded", result.error
    assert result.result["files"] == 2


async def test_an_invalid_meta_name_is_fixed_without_a_repair_round(scope: Scope, settings: Settings) -> None:
    script = good_script().replace('"name": "Find_Bugs"', '"name": "Find Bugs!"')
    assert check_source(script).check()[0].rule == "meta"  # as written it would not pass
    client = Recording({"rules": [{"match": {"role": "orchestrator"}, "respond": {"text": script}}]})
    authored = await author_workflow("find bugs", scope, settings, client=client)
    assert authored.ok and authored.rounds == 1 and authored.name == "find-bugs"


async def test_a_selection_reaches_the_prompt_and_the_args(project: Path, settings: Settings) -> None:
    selection = Selection("src/calc.py", 2, 2, "    return sum(xs) / len(xs)")
    scope = compute_scope(ScopeRequest(project, selection=selection), settings)
    client = Recording("author_ok.scenario.yaml")
    authored = await author_workflow("is this line safe?", scope, settings, client=client, save=False)
    assert authored.path is None and not (project / ".claude").exists()
    assert authored.args == {"files": ["src/calc.py"],
                             "selection": {"path": "src/calc.py", "start_line": 2, "end_line": 2}}
    assert "return sum(xs) / len(xs)" in client.requests[0].prompt


def test_save_refuses_a_workflows_folder_that_leads_outside(tmp_path: Path) -> None:
    workspace, elsewhere = tmp_path / "ws", tmp_path / "elsewhere"
    workspace.mkdir()
    elsewhere.mkdir()
    (workspace / ".claude").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(Exception, match="outside the workspace"):
        save_workflow("meta = {}\n", workspace, "x")
    assert list(elsewhere.iterdir()) == []
