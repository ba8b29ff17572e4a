"""``workcrew.listAgents``: the editor sees the agent types and skills a workflow's agents can use."""

from __future__ import annotations

from pathlib import Path

from .conftest import SessionFactory, copy_workspace, push_capabilities


async def test_list_agents_returns_the_types_and_skills_with_their_origins(lsp_session: SessionFactory,
                                                                           tmp_path: Path) -> None:
    workspace = copy_workspace(tmp_path / "project")
    agents = workspace / ".claude" / "agents"
    agents.mkdir(parents=True)
    (agents / "security-reviewer.md").write_text(
        "---\nname: security-reviewer\ndescription: Finds injection bugs.\ntools: Read, Grep\nmodel: opus\n---\nx\n")
    (agents / "broken.md").write_text("---\nname: broken\ndescription: d\ntools: Raed\n---\nx\n")
    home = tmp_path / "home"
    (home / ".claude" / "skills" / "house-style").mkdir(parents=True)
    (home / ".claude" / "skills" / "house-style" / "SKILL.md").write_text(
        "---\nname: house-style\ndescription: How we write commit messages.\n---\nImperative mood.\n")
    session = await lsp_session(capabilities=push_capabilities(), workspace=workspace, env={"HOME": str(home)})
    listed = await session.command("workcrew.listAgents", {})
    types = {t["name"]: t for t in listed["agent_types"]}
    assert types["security-reviewer"] == {
        "name": "security-reviewer", "origin": "project", "path": str(agents / "security-reviewer.md"),
        "description": "Finds injection bugs.", "model": "opus", "tools": ["grep", "read_file"], "skills": None,
        "ignored_tools": []}
    assert types["general-purpose"]["origin"] == "built-in"
    assert types["broken"]["error"].startswith(f"{agents / 'broken.md'}:4: tools: unknown tool 'Raed'")
    assert listed["skills"] == [{"name": "house-style", "origin": "user", "description": "How we write commit messages.",
                                 "path": str(home / ".claude" / "skills" / "house-style" / "SKILL.md")}]
