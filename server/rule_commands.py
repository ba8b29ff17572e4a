"""``workcrew.listRules`` / ``addRule`` / ``removeRule``: the project's review rules
(``.claude/workcrew-rules.md``, ``engine/results/rules.py``) from the editor. File work runs off the loop."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from pygls.exceptions import JsonRpcInvalidParams
from workcrew.engine.results.globs import glob_problem
from workcrew.engine.results.rules import (
    RulesError,
    RuleSet,
    add_rule,
    load_rules,
    remove_rule,
    rules_path,
    written_rule,
)

from .params import AddRuleParams, RuleIdParams, failed, parse

if TYPE_CHECKING:
    from .protocol import Server


def _file(path: Path) -> dict[str, Any]:
    return {"path": str(path), "uri": path.as_uri()}


def rules_json(rules: RuleSet) -> dict[str, Any]:
    return {**_file(rules.path), "exists": rules.exists, "rules": [rule.to_json() for rule in rules.rules],
            "problems": [{"line": p.line, "message": p.message, "text": str(p)} for p in rules.problems]}


async def list_rules(ls: Server, *args: Any) -> dict[str, Any]:
    """Every rule, and the file's problems (each with its line) for the editor to show."""
    workspace = ls.require_settings().workspace
    rules = await anyio.to_thread.run_sync(load_rules, workspace, limiter=ls.limiter)
    return rules_json(rules)


async def add_rule_command(ls: Server, *args: Any) -> dict[str, Any]:
    params = parse(AddRuleParams, "workcrew.addRule", args)
    problem = glob_problem(params.glob)
    if problem is not None:
        raise JsonRpcInvalidParams(f"workcrew.addRule: glob {params.glob!r}: {problem}")
    rule = written_rule(params.kind, params.text, glob=params.glob, category=params.category,
                        matches=params.matches, added_by="in the editor")
    workspace = ls.require_settings().workspace
    try:
        written = await anyio.to_thread.run_sync(add_rule, workspace, rule, limiter=ls.limiter)
    except RulesError as exc:
        raise failed(str(exc)) from None
    return {**written.to_json(), **_file(rules_path(workspace))}


async def remove_rule_command(ls: Server, *args: Any) -> dict[str, Any]:
    params = parse(RuleIdParams, "workcrew.removeRule", args)
    workspace = ls.require_settings().workspace
    try:
        section = await anyio.to_thread.run_sync(remove_rule, workspace, params.id, limiter=ls.limiter)
    except RulesError as exc:
        raise failed(str(exc)) from None
    return {"removed": section.id, "line": section.line, "endLine": section.end_line, **_file(rules_path(workspace))}


COMMANDS = {
    "workcrew.listRules": list_rules,
    "workcrew.addRule": add_rule_command,
    "workcrew.removeRule": remove_rule_command,
}
