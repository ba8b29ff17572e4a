"""``workcrew review-changes``: the built-in review over what changed (uncommitted, or against a branch)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ..errors import WorkcrewError
from ..workflows.discovery import builtin_dir
from ..workspace.changes import MAX_FILES, Changes, ChangesRequest, find_changes
from .common import EXIT_OK, emit_json, fail, json_option
from .options import build_settings, parse_args_json, run_options
from .run import run_cmd


@click.command("review-changes")
@click.option("--base", metavar="BRANCH",
              help="Review what this branch changes against BRANCH (main, origin/main …): the diff from the "
                   "merge-base of HEAD and BRANCH to the work tree, work not committed yet included.")
@click.option("--uncommitted", is_flag=True,
              help="Review the uncommitted changes: staged, unstaged and untracked files (the default).")
@click.option("--max-files", type=click.IntRange(1), default=MAX_FILES, show_default=True,
              help="Changed files to review at most; the rest are listed as dropped.")
@run_options
@click.option("--yes", "-y", is_flag=True, help="Do not ask for approval before spending.")
@click.option("--detach", is_flag=True, help="Run it in its own process and return at once (as `workcrew run`).")
@json_option
@click.pass_context
def review_changes_cmd(ctx: click.Context, base: str | None, uncommitted: bool, max_files: int, args_json: str | None,
                       provider: str | None, scenario: Path | None, concurrency: int | None, max_agents: int | None,
                       budget_tokens: int | None, budget_usd: float | None, model: str | None,
                       workspace: Path | None, state_dir: Path | None, yes: bool, detach: bool, as_json: bool) -> None:
    """Review what changed: the changed lines and the functions around them, with the built-in review.

    The scope is printed before the approval. Secret files are never included (only counted), deleted files
    are not reviewed, and files refused by the scope's rules or over --max-files are listed with the reason.
    Other review arguments (focus, skeptics) can be given with --args.
    """
    if base is not None and uncommitted:
        fail("give --base BRANCH or --uncommitted, not both")
    extra = parse_args_json(args_json)
    if extra is not None and not isinstance(extra, dict):
        fail("--args must be a JSON object for review-changes, e.g. '{\"skeptics\": 5}'")
    settings = build_settings(workspace, provider, scenario, concurrency, max_agents, budget_tokens, budget_usd,
                              model, state_dir)
    try:
        changes = find_changes(ChangesRequest(settings.workspace, base=base, max_files=max_files), settings)
    except WorkcrewError as exc:
        fail(str(exc))
    if not changes.files:
        if as_json:
            emit_json({"status": "nothing", "message": changes.nothing_message(), "changes": changes.to_json()})
        else:
            click.echo(changes.nothing_message())
        sys.exit(EXIT_OK)
    if not as_json:
        click.echo(describe(changes), err=True)
    args: dict[str, Any] = {**(extra or {}), **changes.args()}
    ctx.invoke(run_cmd, target=str(builtin_dir() / "review.py"), args_json=json.dumps(args), provider=provider,
               scenario=scenario, concurrency=concurrency, max_agents=max_agents, budget_tokens=budget_tokens,
               budget_usd=budget_usd, model=model, workspace=workspace, state_dir=state_dir, yes=yes,
               reuse_from=None, resume_from=None, force=False, detach=detach, as_json=as_json)


def describe(changes: Changes, limit: int = 30) -> str:
    """The scope as printed before the approval: a summary line, then each file's changed lines."""
    lines = [f"Review Changes: {changes.summary()}"]
    for item in changes.files[:limit]:
        spans = ", ".join(f"{s}-{e}" if e != s else str(s) for s, e in item.lines[:8])
        more = f" and {len(item.lines) - 8} more" if len(item.lines) > 8 else ""
        renamed = f" (renamed from {item.old_path})" if item.old_path else ""
        lines.append(f"  {item.path}{renamed}: {item.status}, lines {spans}{more}")
    if len(changes.files) > limit:
        lines.append(f"  … and {len(changes.files) - limit} more files")
    return "\n".join(lines)
