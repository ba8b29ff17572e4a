"""Incremental re-runs (`workcrew run NAME --reuse`): after an edit, only the agents that read the edited
file, and the agents whose prompts carry their changed answers, run again; the rest are reused at no
cost, and the estimate before the run counts only what will run."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from workcrew.engine import RunStore, Settings, load_workflow, start
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulated import SimulatedModel
from workcrew.engine.runtime.resume import ResumeCache

from .test_cli import workcrew

FILES = [f"src/mod{i:02d}.py" for i in range(20)]
BUGGY = "src/mod03.py"


def scenario(bug_line: int) -> dict[str, Any]:
    """Each finder reads its own file; the finder of BUGGY reports one bug at ``bug_line`` (a changed
    answer changes the skeptics' prompts); skeptics read nothing and uphold it."""
    rules: list[dict[str, Any]] = []
    for path in FILES:
        findings = [{"title": "off by one", "line": bug_line, "message": "the loop skips the last item"}] \
            if path == BUGGY else []
        rules.append({"match": {"label": f"^find {path}$"}, "respond": {
            "tool_calls": [{"name": "read_file", "input": {"path": path}}], "json": {"findings": findings}}})
    rules.append({"match": {"label": "^verify "}, "respond": {"json": {"refuted": False, "reason": "it is real"}}})
    return {"rules": rules}


def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    for index, path in enumerate(FILES):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(f"def f{index}(items):\n    return [x for x in items[:-1]]\n")
    return root


def review(root: Path, bug_line: int, *extra: str) -> dict[str, Any]:
    scenario_file = root.parent / f"scenario-{bug_line}.json"
    scenario_file.write_text(json.dumps(scenario(bug_line)))
    done = workcrew(root, "run", "review", "--args", json.dumps({"files": FILES, "skeptics": 2}),
                    "--scenario", str(scenario_file), "--yes", "--json", *extra)
    assert done.returncode == 0, done.stderr
    outcome: dict[str, Any] = json.loads(done.stdout)
    return outcome


def live_labels(root: Path, run_id: str) -> list[str]:
    store = RunStore(root / ".workcrew")
    try:
        return sorted(row["label"] for row in store._query(
            "SELECT label FROM agents WHERE run_id = ? AND state = 'succeeded'", (run_id,)))
    finally:
        store.close()


def test_after_editing_one_file_of_twenty_only_its_reader_and_dependants_run(tmp_path: Path) -> None:
    root = project(tmp_path)
    first = review(root, 2)
    assert first["agents"] == {"launched": 22, "succeeded": 22, "failed": 0, "cached": 0}  # 20 finders, 2 skeptics
    assert len(first["result"]["confirmed"]) == 1

    # nothing changed: everything is reused, nothing is billed
    again = review(root, 2, "--reuse")
    assert again["agents"] == {"launched": 22, "succeeded": 0, "failed": 0, "cached": 22}
    assert again["usage"]["cost_usd"] == 0 and again["result"] == first["result"]

    # one file without findings edited: its finder alone runs (its answer is the same, so nothing after it)
    (root / "src/mod07.py").write_text("def f7(items):\n    return list(items)\n")
    edited = review(root, 2, "--reuse", again["run_id"])
    assert edited["agents"] == {"launched": 22, "succeeded": 1, "failed": 0, "cached": 21}
    assert live_labels(root, edited["run_id"]) == ["find src/mod07.py"]
    assert edited["result"]["confirmed"] == first["result"]["confirmed"]

    # the buggy file edited, and its finder now answers differently: the finder and both skeptics, whose
    # prompts quote the new answer, run; the other 19 finders are reused
    (root / BUGGY).write_text("def f3(items):\n\n    return [x for x in items[:-1]]\n")
    moved = review(root, 3, "--reuse", "last")
    assert moved["agents"] == {"launched": 22, "succeeded": 3, "failed": 0, "cached": 19}
    assert live_labels(root, moved["run_id"]) == [f"find {BUGGY}", *(f"verify {BUGGY}:3#{i}" for i in range(2))]
    assert moved["result"]["confirmed"][0]["location"]["start_line"] == 3

    # the estimate made before that run counted only the three agents that ran
    store = RunStore(root / ".workcrew")
    try:
        estimate = store.get_run(moved["run_id"])["estimate"]  # type: ignore[index]
    finally:
        store.close()
    assert estimate["reused"] == 19 and estimate["agents"]["expected"] == 3, estimate


def test_a_deleted_or_created_file_counts_as_a_change(tmp_path: Path) -> None:
    root = project(tmp_path)
    first = review(root, 2)
    (root / "src/mod11.py").unlink()
    after = review(root, 2, "--reuse")
    assert after["agents"]["cached"] == 21 and live_labels(root, after["run_id"]) == ["find src/mod11.py"]
    assert first["run_id"] != after["run_id"]


LISTER = """
meta = {"name": "lister", "description": "one agent looks at the files"}
return await agent("what is in src?", label="look")
"""


async def test_listings_and_walks_are_reads_too(tmp_path: Path) -> None:
    """An agent that listed a folder or grepped the tree depends on which files exist: a new file there
    makes it run again; an edit to a file it never saw does not."""
    root = project(tmp_path)
    (root / "docs").mkdir()
    (root / "docs/notes.md").write_text("notes\n")
    settings = Settings(workspace=root, state_dir=tmp_path / "state")
    store = RunStore(tmp_path / "state")
    model = {"rules": [{"match": {"label": "^look$"}, "respond": {"tool_calls": [
        {"name": "list_dir", "input": {"path": "src"}}, {"name": "grep", "input": {"pattern": "def f1\\b"}}],
        "text": "twenty modules"}}]}
    workflow = load_workflow("<inline>", source=textwrap.dedent(LISTER).lstrip())

    async def run(reuse: str | None) -> Any:
        cache = ResumeCache.load(store, reuse, "lister", settings=settings) if reuse else None
        handle = start(workflow, None, settings, client=SimulatedModel(Scenario.from_data(model)), store=store,
                       resume=cache)
        return await handle.result()

    try:
        first = await run(None)
        assert first.agents["succeeded"] == 1
        (root / "docs/notes.md").write_text("other notes\n")  # outside what it listed, but grep read it
        assert (await run(first.run_id)).agents["cached"] == 0
        second = await run("last")
        assert second.agents["cached"] == 1  # nothing changed since
        (root / "src/new.py").write_text("x = 1\n")  # a new file in the listed folder
        assert (await run("last")).agents["cached"] == 0
    finally:
        store.close()
