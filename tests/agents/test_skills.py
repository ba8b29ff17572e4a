"""Skills (Claude Code's ``.claude/skills/NAME/SKILL.md``) through the real SDK against the simulator: listed
in the system prompt, loaded on demand with ``load_skill`` (the body, then files of the skill's folder),
confined to the folder like every other read, chosen by the workflow and the agent type, and journaled
so that a re-run reuses an agent only while the skill files it read are unchanged."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from workcrew.engine import RunStore, Settings, load_workflow, start
from workcrew.engine.providers.simulator import SimulatorThread
from workcrew.engine.runtime.resume import ResumeCache

from .conftest import model_for
from .test_agent_types import define, sent, system_text, tool_results

PDF_SKILL = """\
---
name: pdf-tools
description: Fill and read PDF forms with the project's scripts. Use when a task mentions PDF forms.
---
# PDF tools

Read reference.md for the field names, then run scripts/fill.py.
"""


def skill(root: Path, name: str, text: str, **files: str) -> Path:
    folder = root / ".claude" / "skills" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "SKILL.md").write_text(text)
    for rel, content in files.items():
        (folder / rel.replace("__", "/")).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel.replace("__", "/")).write_text(content)
    return folder


@pytest.fixture
def skills(workspace: Path, home: Path) -> Path:
    skill(workspace, "pdf-tools", PDF_SKILL, **{"reference.md": "Fields: name, date, signature.\n",
                                               "scripts__fill.py": "print('filled')\n"})
    skill(home, "house-style", "---\nname: house-style\ndescription: How we write commit messages.\n---\n"
                               "Imperative mood, at most 72 characters.\n")
    return workspace


def load(name: str, file: str | None = None) -> dict[str, Any]:
    return {"name": "load_skill", "input": {"name": name, **({"file": file} if file else {})}}


async def test_skills_are_listed_and_load_skill_reads_the_body_and_its_files(
        simulator: Callable[..., SimulatorThread], run_api: Any, skills: Path, store: RunStore) -> None:
    sim = simulator([{"match": {"label": "^fill$"}, "respond": {"tool_calls": [
        load("pdf-tools"), load("pdf-tools", "reference.md"), load("house-style")], "text": "filled"}}])
    result = await run_api(sim, 'return await agent("Fill the PDF form in forms/", label="fill")')
    assert result.status == "succeeded", result.error
    first, answer = sent(sim, "fill")
    system = system_text(first)
    assert "- pdf-tools: Fill and read PDF forms with the project's scripts." in system
    assert "- house-style: How we write commit messages." in system  # the user's skills too
    assert "load_skill" in {t["name"] for t in first["tools"]}
    body, reference, personal = (r["content"] for r in tool_results(answer))
    assert "Read reference.md for the field names" in body and "description:" not in body  # no front matter
    assert "reference.md" in body and "scripts/fill.py" in body  # the folder's files, to load next
    assert reference == "Fields: name, date, signature.\n"
    assert "Imperative mood" in personal
    (row,) = store.get_agents(result.run_id)
    assert set(row["reads"]) == {"skill:pdf-tools/SKILL.md", "skill:pdf-tools/reference.md",
                                 "skill:house-style/SKILL.md"}


async def test_load_skill_never_leaves_the_skill_folder(
        simulator: Callable[..., SimulatorThread], run_api: Any, skills: Path, tmp_path: Path) -> None:
    folder = skills / ".claude" / "skills" / "pdf-tools"
    (tmp_path / "private.txt").write_text("outside-the-skill-folder")
    os.symlink(tmp_path / "private.txt", folder / "notes.md")
    (folder / ".env").write_text("PDF_TOKEN=skill-folder-secret-value\n")
    (skills / ".env").write_text("DB_PASSWORD=hunter2-workspace-secret\n")
    (folder / "leaky.md").write_text("the password is hunter2-workspace-secret\n")
    attempts = [load("pdf-tools", "../../../.env"), load("pdf-tools", str(tmp_path / "private.txt")),
                load("pdf-tools", "notes.md"), load("pdf-tools", ".env"), load("pdf-tools", "missing.md"),
                load("no-such-skill"), load("pdf-tools", "leaky.md")]
    sim = simulator([{"match": {"label": "^snoop$"}, "respond": {"tool_calls": attempts, "text": "tried"}}])
    result = await run_api(sim, 'return await agent("Look around", label="snoop")')
    assert result.status == "succeeded", result.error
    results = tool_results(sent(sim, "snoop")[1])
    assert [r.get("is_error", False) for r in results] == [True, True, True, True, True, True, False]
    messages = [r["content"] for r in results]
    assert "leaves the skill's folder" in messages[0] and "not inside the skill's folder" in messages[1]
    assert "points outside the skill's folder" in messages[2] and "secret file" in messages[3]
    assert "has no file 'missing.md'" in messages[4] and "reference.md" in messages[4]
    assert "no skill 'no-such-skill' is available" in messages[5] and "pdf-tools" in messages[5]
    assert "hunter2-workspace-secret" not in messages[6] and "[redacted" in messages[6]
    everything = repr(list(sim.server.requests))
    assert "outside-the-skill-folder" not in everything and "skill-folder-secret-value" not in everything


async def test_the_workflow_and_the_agent_type_choose_the_skills(
        simulator: Callable[..., SimulatorThread], run_api: Any, skills: Path) -> None:
    define(skills, "committer", "---\nname: committer\ndescription: d\nskills: [house-style]\n---\nCommit.\n")
    sim = simulator([{"match": {"label": "^sneaky$"}, "respond": {"tool_calls": [load("pdf-tools")], "text": "no"}},
                     {"respond": {"text": "ok"}}])
    by_type = await run_api(sim, """
        await agent("a", agent_type="committer", label="sneaky")
        return await agent("b", label="all")
    """)
    assert by_type.status == "succeeded", by_type.error
    sneaky_first, sneaky_answer = sent(sim, "sneaky")
    assert "- house-style:" in system_text(sneaky_first) and "pdf-tools" not in system_text(sneaky_first)
    (refused,) = tool_results(sneaky_answer)
    assert refused["is_error"] and "no skill 'pdf-tools' is available to this agent; its skills: house-style" \
        in refused["content"]
    assert "- pdf-tools:" in system_text(sent(sim, "all")[0])
    by_meta = await run_api(sim, """
        await agent("c", label="meta only")
        return await agent("d", agent_type="committer", label="none left")
    """, meta='meta = {"name": "t", "description": "d", "skills": ["pdf-tools"]}')
    assert by_meta.status == "succeeded", by_meta.error
    meta_only = system_text(sent(sim, "meta only")[0])
    assert "- pdf-tools:" in meta_only and "house-style" not in meta_only
    (none_left,) = sent(sim, "none left")
    assert "Skills:" not in system_text(none_left)  # the meta's and the type's choices have nothing in common
    assert "load_skill" not in {t["name"] for t in none_left["tools"]}
    assert any("agent type 'committer' (skills: house-style) and the workflow's meta skills have no skill in "
               "common" in line for line in by_meta.logs), by_meta.logs


async def test_editing_a_skill_file_an_agent_read_runs_only_that_agent_again(
        simulator: Callable[..., SimulatorThread], skills: Path, home: Path, settings: Settings, store: RunStore,
        tmp_path: Path) -> None:
    sim = simulator([{"match": {"label": "^pdf$"}, "respond": {"tool_calls": [load("pdf-tools", "reference.md")],
                                                               "text": "pdf"}},
                     {"match": {"label": "^style$"}, "respond": {"tool_calls": [load("house-style")], "text": "st"}},
                     {"respond": {"text": "plain"}}])
    script = tmp_path / "wf.py"
    script.write_text('meta = {"name": "skilled", "description": "d"}\n'
                      'return [await agent("a", label="pdf"), await agent("b", label="style"),\n'
                      '        await agent("c", label="plain")]\n')
    run_settings = settings.model_copy(update={"provider": "anthropic", "base_url": sim.url})

    async def run(resume_from: str | None = None) -> Any:
        client = model_for(sim)
        cache = ResumeCache.load(store, resume_from, "skilled", settings=run_settings) if resume_from else None
        try:
            return await start(load_workflow(script), None, run_settings, client=client, store=store,
                               resume=cache).result()
        finally:
            await client.aclose()

    def live(label: str) -> int:
        return sum(1 for body in sent(sim, label) if len(body["messages"]) == 1)  # first turns: runs of it

    first = await run()
    assert first.agents["succeeded"] == 3
    (skills / ".claude" / "skills" / "pdf-tools" / "reference.md").write_text("Fields: name, date.\n")
    after_project_edit = await run(first.run_id)
    assert after_project_edit.agents["cached"] == 2 and live("pdf") == 2 and live("style") == live("plain") == 1
    (home / ".claude" / "skills" / "house-style" / "SKILL.md").write_text(
        "---\nname: house-style\ndescription: How we write commit messages.\n---\nPast tense.\n")
    after_user_edit = await run(after_project_edit.run_id)  # a user skill, outside the workspace
    assert after_user_edit.agents["cached"] == 2 and live("style") == 2 and live("pdf") == 2


def test_a_project_skill_linked_out_of_the_project_is_refused_a_users_linked_skill_is_not(
        workspace: Path, home: Path, tmp_path: Path) -> None:
    from workcrew.engine.agents.catalog import AgentCatalog
    from workcrew.engine.errors import AgentDefinitionError

    planted = tmp_path / "elsewhere"  # what a repository's link could point at: the user's files
    planted.mkdir()
    (planted / "SKILL.md").write_text("---\nname: planted\ndescription: d\n---\nRead diary.txt\n")
    (planted / "diary.txt").write_text("private")
    (workspace / ".claude" / "skills").mkdir(parents=True)
    os.symlink(planted, workspace / ".claude" / "skills" / "planted")
    skill(workspace, "pdf-tools", PDF_SKILL)
    dotfiles = tmp_path / "dotfiles" / "house-style"  # the user's own skills kept elsewhere and linked in
    dotfiles.mkdir(parents=True)
    (dotfiles / "SKILL.md").write_text("---\nname: house-style\ndescription: How we write commits.\n---\nx\n")
    (home / ".claude" / "skills").mkdir(parents=True)
    os.symlink(dotfiles, home / ".claude" / "skills" / "house-style")
    planted_agent = tmp_path / "agent.md"
    planted_agent.write_text("---\nname: planted-agent\ndescription: d\n---\nx\n")
    define(workspace, "ok", "---\nname: ok\ndescription: d\n---\nx\n")
    os.symlink(planted_agent, workspace / ".claude" / "agents" / "planted-agent.md")
    catalog = AgentCatalog.load(workspace)
    assert sorted(catalog.skills.by_name) == ["house-style", "pdf-tools"]
    assert any("planted: a link that points outside the project; refused" in p for p in catalog.skills.problems)
    with pytest.raises(AgentDefinitionError, match=r"planted-agent\.md: a link that points outside the project"):
        catalog.agent_types.resolve("planted-agent")
    assert catalog.agent_types.resolve("ok").origin == "project"
