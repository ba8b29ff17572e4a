"""``workcrew rules``: the project's review rules (``.claude/workcrew-rules.md``) — list, add, remove, edit."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import cast

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..results.globs import glob_problem
from ..results.rules import (
    EVERYWHERE,
    HEADER,
    KINDS,
    Kind,
    RulesError,
    RuleSet,
    add_rule,
    load_rules,
    remove_rule,
    written_rule,
)
from ..results.rules import rules_path as path_of_rules
from .common import EXIT_FAILED, emit_json, fail, json_option, settings_from, workspace_option


def _workspace(workspace: Path | None) -> Path:
    return settings_from(workspace).workspace


def _report_problems(rules: RuleSet) -> None:
    for problem in rules.problems:
        click.echo(f"workcrew: {problem}", err=True)


@click.group("rules")
def rules_cmd() -> None:
    """The project's review rules (.claude/workcrew-rules.md): what every agent of a run is told, and the
    findings that are not shown. Dismissing a finding in the editor as a false positive or intended adds one."""


@rules_cmd.command("list")
@workspace_option
@json_option
def list_cmd(workspace: Path | None, as_json: bool) -> None:
    """Every rule: id, kind, where it applies, its text and origin (exit 1 when the file has problems)."""
    rules = load_rules(_workspace(workspace))
    if as_json:
        emit_json({"path": str(rules.path), "exists": rules.exists, "rules": [r.to_json() for r in rules.rules],
                   "problems": [{"line": p.line, "message": p.message, "text": str(p)} for p in rules.problems]})
        sys.exit(EXIT_FAILED if rules.problems else 0)
    if not rules.rules:
        click.echo(f"No project rules in {rules.path}. Dismiss a finding in the editor as a false positive or "
                   "intended, or use `workcrew rules add`." if not rules.problems else f"No usable rules in {rules.path}.")
    else:
        plural = "s" if len(rules.rules) != 1 else ""
        table = Table(title=f"{len(rules.rules)} rule{plural} in {rules.path}", title_justify="left")
        for column in ("id", "kind", "applies to", "text", "origin"):
            table.add_column(column, overflow="fold")
        for rule in rules.rules:
            scope = rule.glob + (f" · {rule.category}" if rule.category else "") + \
                (f" · title has “{rule.matches}”" if rule.matches else "")
            table.add_row(escape(rule.id), rule.kind, escape(scope), escape(" ".join(rule.text.split())),
                          escape(rule.origin or f"line {rule.line}"))
        Console(soft_wrap=False).print(table)
    _report_problems(rules)
    sys.exit(EXIT_FAILED if rules.problems else 0)


@rules_cmd.command("add")
@click.option("--kind", type=click.Choice(KINDS), required=True,
              help="false-positive (not a bug here), intended (works as designed) or wont-fix (accepted).")
@click.option("--glob", default=EVERYWHERE, show_default=True,
              help="Where it applies: workspace-relative globs, comma-separated (src/**, *.sql).")
@click.option("--category", default=None,
              help="The findings' category it covers; with it, covered findings are not shown (else it only guides agents).")
@click.option("--matches", default=None, help="Words a covered finding's title must contain (with --category).")
@click.argument("text", nargs=-1, required=True)
@workspace_option
def add_cmd(kind: str, glob: str, category: str | None, matches: str | None, text: tuple[str, ...],
            workspace: Path | None) -> None:
    """Add a rule whose TEXT tells reviewers what not to report, e.g.
    `workcrew rules add --kind intended --glob 'migrations/**' "Raw SQL is how migrations are written here."`"""
    problem = glob_problem(glob)
    if problem is not None:
        fail(f"--glob {glob!r}: {problem}")
    if matches and not category:
        fail("--matches narrows what --category covers: give --category too")
    rule = written_rule(cast(Kind, kind), " ".join(text), glob=glob, category=category, matches=matches,
                        added_by="with `workcrew rules add`")
    root = _workspace(workspace)
    try:
        written = add_rule(root, rule)
    except RulesError as exc:
        fail(str(exc), EXIT_FAILED)
    click.echo(f"Added rule {written.id} to {path_of_rules(root)}:{written.line}")


@rules_cmd.command("remove")
@click.argument("rule_id")
@workspace_option
def remove_cmd(rule_id: str, workspace: Path | None) -> None:
    """Remove the rule RULE_ID (its whole section of the file)."""
    root = _workspace(workspace)
    try:
        section = remove_rule(root, rule_id)
    except RulesError as exc:
        fail(str(exc), EXIT_FAILED)
    click.echo(f"Removed rule {section.id} (lines {section.line}-{section.end_line} of {path_of_rules(root)})")


@rules_cmd.command("edit")
@click.option("--path", "print_path", is_flag=True, help="Only print the file's path.")
@workspace_option
def edit_cmd(print_path: bool, workspace: Path | None) -> None:
    """Open the rules file in $VISUAL / $EDITOR (without one, or not at a terminal: print its path)."""
    root = _workspace(workspace)
    path = path_of_rules(root)
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if print_path or not editor or not sys.stdin.isatty():
        click.echo(str(path))
        if not print_path and not editor:
            click.echo("workcrew: set $EDITOR to open it from here", err=True)
        return
    if not path.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(HEADER, encoding="utf-8")
        except OSError as exc:
            fail(f"cannot create {path}: {exc}", EXIT_FAILED)
    click.edit(filename=str(path), editor=editor)
    rules = load_rules(root)
    _report_problems(rules)
    click.echo(f"{len(rules.rules)} rules in {path}" + (f"; {len(rules.problems)} problems" if rules.problems else ""))
    sys.exit(EXIT_FAILED if rules.problems else 0)
