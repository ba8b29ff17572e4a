"""The ``workcrew`` command line. Subcommands from other packages (``serve``) plug in via entry points."""

from __future__ import annotations

import sys
from importlib.metadata import entry_points

import click

from .common import EXIT_USAGE
from .control import attach_cmd, pause_cmd, resume_cmd, stop_cmd
from .estimate import estimate_cmd
from .inspect import check_cmd, list_cmd, runs_cmd, show_cmd
from .new import new_cmd
from .report import report_cmd, save_cmd
from .review_changes import review_changes_cmd
from .rules import rules_cmd
from .run import run_cmd
from .simulate import simulate_cmd
from .stats import stats_cmd
from .worker import worker_cmd


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="workcrew", prog_name="workcrew")
def cli() -> None:
    """Run dynamic workflows: many LLM agents in parallel, verified, within a budget you approve."""


for command in (run_cmd, review_changes_cmd, check_cmd, runs_cmd, show_cmd, list_cmd, new_cmd, simulate_cmd,
                estimate_cmd, report_cmd, save_cmd, attach_cmd, stop_cmd, pause_cmd, resume_cmd, rules_cmd, stats_cmd,
                worker_cmd):
    cli.add_command(command)


def _load_plugins() -> None:
    for entry in entry_points(group="workcrew.cli"):
        if entry.name in cli.commands:
            continue
        try:
            command = entry.load()
        except ImportError as exc:  # a missing optional part must not break the rest of the CLI
            click.echo(f"workcrew: command {entry.name!r} is unavailable: {exc}", err=True)
            continue
        cli.add_command(command, entry.name)


def main(argv: list[str] | None = None) -> None:
    _load_plugins()
    try:
        cli.main(args=argv, prog_name="workcrew", standalone_mode=True)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)


__all__ = ["EXIT_USAGE", "cli", "main"]
