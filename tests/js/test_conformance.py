"""The conformance suite: Claude-dialect scripts, each with its expected outcome beside it.

``scripts/`` holds the engine's own cases, one feature each; ``corpus/`` holds scripts written in the
style of real public ``.claude/workflows/*.js`` files (helpers around agent(), fan-outs inside
pipelines, budget loops, non-Latin-1 text everywhere, the options and meta keys Claude Code tolerates).

``NN_name.js`` runs against the in-process simulated model with ``NN_name.json``: ``args``,
``scenario``, ``settings`` overrides, extra ``workflows`` saved in the project, and ``expect``:
status, result, error, logs (``logs``: all of them; ``logs_contain``: substrings each found in some
line; ``logs_count``: substring → the number of lines holding it), agent counts, ``failure_kinds``
(kinds the run's ``failure_reasons`` must hold), the ``models`` agents ran on (label → model id), the
``findings`` reported (``[title, path, line]``), the order of selected events (``events``, ``orders``)
and happens-before pairs (``before``: what a barrier or its absence guarantees), what an agent's first
request carried (``requests``: label → ``model``, sorted ``tools``, ``system_contains``, ``system_lacks``,
and ``tool_results_contain``: texts in the tool results its requests answered)
and the tool calls refused as tool errors (``tool_errors``: label → tool names). ``fixture`` names a
folder of ``tests/fixtures`` copied into the workspace first (its ``.claude/agents``, ``.claude/skills``).

Every run, whatever its expectations, must account for its agents: launched = succeeded + failed +
cached (+ unfinished), and each failed agent leaves its reason in ``failure_reasons`` (counted by kind).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from workcrew.engine import RunResult

from .conftest import HERE, RunFile

FIXTURES = HERE.parent / "fixtures"

SCRIPTS = sorted((HERE / "scripts").glob("*.js"))
CORPUS = sorted((HERE / "corpus").glob("*.js"))
EVERY = SCRIPTS + CORPUS
DEFAULT_EVENT_TYPES = {"phase_started", "agent_queued", "agent_started", "agent_finished", "agent_failed"}


def test_the_suite_is_large_enough() -> None:
    assert len(SCRIPTS) >= 15


def test_the_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 40
    assert all(p.with_suffix(".json").is_file() for p in CORPUS)
    assert len({p.stem[:2] for p in CORPUS}) == len(CORPUS)  # NN_ numbers are unique


def assert_accounting(outcome: RunResult) -> None:
    """launched = succeeded + failed + cached (+ unfinished), and every failed agent leaves its reason."""
    agents = outcome.agents
    ended = sum(agents.get(key, 0) for key in ("succeeded", "failed", "cached", "unfinished"))
    assert agents.get("launched", 0) == ended, agents
    assert all(value >= 0 for value in agents.values()), agents
    if agents.get("failed", 0):
        assert outcome.failure_reasons, (agents, outcome.failure_reasons)
    assert sum(outcome.failure_reasons.values()) == agents.get("failed", 0), (agents, outcome.failure_reasons)


@pytest.mark.parametrize("script", EVERY, ids=[f"{p.parent.name}/{p.stem}" for p in EVERY])
async def test_script(script: Path, run_file: RunFile, workspace: Path, tmp_path: Path,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    spec: dict[str, Any] = json.loads(script.with_suffix(".json").read_text())
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no agent types or skills of the machine's user
    if "fixture" in spec:  # a project to run in: its .claude/agents, .claude/skills and sources
        shutil.copytree(FIXTURES / spec["fixture"], workspace, dirs_exist_ok=True)
    folder = workspace / ".claude" / "workflows"
    for name, text in spec.get("workflows", {}).items():
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    for name in spec.get("files", []):
        shutil.copy(script.parent / name, folder / name)
    path = workspace / script.name
    shutil.copy(script, path)
    run = await run_file(path, scenario=spec.get("scenario"), args=spec.get("args"), **spec.get("settings", {}))
    expect = spec["expect"]
    outcome = run.result
    assert_accounting(outcome)
    assert outcome.status == expect["status"], outcome.error
    if "result" in expect:
        assert outcome.result == expect["result"]
    if "error_suffix" in expect:
        assert outcome.error is not None
        assert outcome.error.endswith(expect["error_suffix"].format(path=path)), outcome.error
    if "error_contains" in expect:
        assert expect["error_contains"] in (outcome.error or "")
    if "logs" in expect:
        assert outcome.logs == expect["logs"]
    for text in expect.get("logs_contain", []):
        assert any(text in line for line in outcome.logs), (text, outcome.logs)
    for text, count in expect.get("logs_count", {}).items():
        assert sum(text in line for line in outcome.logs) == count, (text, count, outcome.logs)
    for kind in expect.get("failure_kinds", []):
        assert kind in outcome.failure_reasons, (kind, outcome.failure_reasons)
    if "models" in expect:
        models = {call["label"]: call["model"] for call in run.agent_calls()}
        assert {label: models.get(label) for label in expect["models"]} == expect["models"]
    if "findings" in expect:
        found = [e.data["finding"] for e in run.events if e.type == "finding"]
        assert [[f["title"], f["location"]["path"], f["location"]["start_line"]] for f in found] == expect["findings"]
        assert outcome.findings == len(expect["findings"])
    for key, value in expect.get("agents", {}).items():
        assert outcome.agents.get(key, 0) == value, (key, outcome.agents)
    if "events" in expect:
        types = set(expect.get("event_types", DEFAULT_EVENT_TYPES))
        assert run.compact(types) == [tuple(e) for e in expect["events"]]
    for order in expect.get("orders", []):  # the sequence of some event types
        assert run.compact(set(order["types"])) == [tuple(e) for e in order["events"]]
    for label, wanted in expect.get("requests", {}).items():  # what an agent's first request carried
        sent = next(r for r in run.requests if r["label"] == label)
        assert sent["tools"] == wanted.get("tools", sent["tools"]), (label, sent["tools"])
        assert sent["model"] == wanted.get("model", sent["model"]), (label, sent["model"])
        for text in wanted.get("system_contains", []):
            assert text in sent["system"], (label, text, sent["system"])
        for text in wanted.get("system_lacks", []):
            assert text not in sent["system"], (label, text, sent["system"])
        results = "\n".join(r for req in run.requests if req["label"] == label for r in req["tool_results"])
        for text in wanted.get("tool_results_contain", []):
            assert text in results, (label, text, results)
    for label, names in expect.get("tool_errors", {}).items():  # tool calls refused as tool errors
        refused = [e.data["tool_error"] for e in run.events
                   if e.type == "agent_progress" and "tool_error" in e.data and e.data["agent"]["label"] == label]
        assert refused == names, (label, refused)
    everything = run.compact()
    for first, second in expect.get("before", []):  # happens-before pairs, e.g. barrier or no barrier
        assert everything.index(tuple(first)) < everything.index(tuple(second)), (first, second)
