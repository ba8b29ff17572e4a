"""``workcrew list --agents``: the agent types and skills agents of this workspace can use."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape


def print_catalog(view: dict[str, Any]) -> None:
    """``AgentCatalog.describe()`` for a terminal: one entry per agent type, then per skill."""
    console = Console()
    console.print("[bold]Agent types[/bold] [dim](agent_type= / agentType:)[/dim]", highlight=False)
    for kind in view["agent_types"]:
        where = f" · {kind['path']}" if kind.get("path") else ""
        console.print(f"  [bold]{escape(kind['name'])}[/bold] [dim]{kind['origin']}{escape(where)}[/dim]",
                      highlight=False)
        if kind.get("error"):
            console.print(f"    [red]{escape(kind['error'])}[/red]", highlight=False)
            continue
        console.print(f"    {escape(kind['description'])}", highlight=False)
        details = [f"model: {kind['model']}" if kind.get("model") else "model: routed",
                   "tools: " + (", ".join(kind["tools"]) if kind.get("tools") is not None else "default")]
        if kind.get("skills") is not None:
            details.append("skills: " + (", ".join(kind["skills"]) or "none"))
        if kind.get("ignored_tools"):
            details.append("not in Workcrew: " + ", ".join(kind["ignored_tools"]))
        console.print(f"    [dim]{escape(' · '.join(details))}[/dim]", highlight=False)
    console.print("[bold]Skills[/bold] [dim](load_skill / Skill)[/dim]", highlight=False)
    if not view["skills"]:
        console.print("  [dim]none (.claude/skills/NAME/SKILL.md in the project or ~/.claude/skills)[/dim]")
    for skill in view["skills"]:
        console.print(f"  [bold]{escape(skill['name'])}[/bold] [dim]{skill['origin']} · {escape(skill['path'])}[/dim]",
                      highlight=False)
        console.print(f"    {escape(skill['description'])}", highlight=False)
    for line in [*view["problems"], *view["notes"]]:
        console.print(f"  [yellow]{escape(line)}[/yellow]", highlight=False)
