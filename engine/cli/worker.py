"""``workcrew worker``: join this machine to a cluster as a Workcrew worker (see docs/scale-out.md)."""

from __future__ import annotations

import os

import click

from ..errors import WorkcrewError
from ..executors.cluster import join_command
from ..redaction import secret_variable
from .common import fail

RAY_AUTH_PREFIX = "RAY_AUTH_"  # RAY_AUTH_MODE, RAY_AUTH_TOKEN: token authentication between Ray nodes


@click.command("worker")
@click.option("--cluster", "address", required=True, envvar="WORKCREW_CLUSTER", metavar="ADDRESS",
              help="The cluster's head: HOST:6379 (the address `ray start --head` printed). With token "
                   "authentication, RAY_AUTH_MODE and RAY_AUTH_TOKEN are passed on to Ray.")
@click.option("--slots", type=click.IntRange(1, 256), default=None,
              help="Agents and checks this machine serves at once (default: 2 per CPU).")
@click.option("--name", default=None, help="This worker's name in `workcrew show` and the Runs view (default: host name).")
@click.option("--cpus", type=click.IntRange(1), default=None, help="CPUs Ray may use here (default: all).")
def worker_cmd(address: str, slots: int | None, name: str | None, cpus: int | None) -> None:
    """Serve agents' tools, worktrees and checks for distributed runs until stopped (Ctrl-C or SIGTERM).

    The worker never needs the API key: model calls stay with the machine that runs `workcrew run`. Secret-looking
    variables of this shell are not passed on to it."""
    name = name or os.uname().nodename
    slots = slots or 2 * (cpus or os.cpu_count() or 1)
    try:
        argv = join_command(address, slots=slots, name=name, cpus=cpus)
    except WorkcrewError as exc:
        fail(str(exc))
    # Ray's own cluster token is the one secret a worker needs: it proves the worker to the head
    environment = {key: value for key, value in os.environ.items()
                   if not secret_variable(key) or key.startswith(RAY_AUTH_PREFIX)}
    environment["RAY_USAGE_STATS_ENABLED"] = "0"
    click.echo(f"workcrew: worker {name} joining {address} with {slots} slots (stop with Ctrl-C)", err=True)
    os.execve(argv[0], argv, environment)  # Ray's node process takes over: signals reach it directly
