"""``workcrew simulate-api``: the Anthropic Messages API on loopback, answering from a scenario."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from ..errors import WorkcrewError
from ..providers.scenario import Scenario
from .common import fail


@click.command("simulate-api")
@click.option("--port", type=click.IntRange(0, 65535), default=8787, show_default=True,
              help="Port on 127.0.0.1 (0 picks a free one).")
@click.option("--scenario", type=click.Path(exists=True, dir_okay=False, path_type=Path), envvar="WORKCREW_SCENARIO",
              help="Scenario file (JSON or YAML) the simulated model answers from.")
@click.option("--api-key", envvar="WORKCREW_SIMULATOR_KEY", default=None,
              help="Accept only this key (default: any non-empty key).")
@click.option("--cache-min-tokens", type=click.IntRange(0), default=1024, show_default=True,
              help="Shortest prefix the simulated prompt cache stores.")
def simulate_cmd(port: int, scenario: Path | None, api_key: str | None, cache_min_tokens: int) -> None:
    """Serve the Anthropic Messages API offline (streaming, tools, structured output, prompt caching, faults).

    Point the SDK or `workcrew run --provider anthropic` at it with ANTHROPIC_BASE_URL=<printed URL> and any
    ANTHROPIC_API_KEY.
    """
    try:
        loaded = Scenario.load(scenario)
    except WorkcrewError as exc:
        fail(str(exc))
    try:
        asyncio.run(_serve(loaded, port, api_key, cache_min_tokens))
    except OSError as exc:
        fail(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}; pick another --port")
    except KeyboardInterrupt:
        click.echo("simulator stopped", err=True)


async def _serve(scenario: Scenario, port: int, api_key: str | None, cache_min_tokens: int) -> None:
    from ..providers.simulator import SimulatorServer

    server = SimulatorServer(scenario, port=port, api_key=api_key, cache_minimum_tokens=cache_min_tokens)
    await server.start()
    click.echo(f"Messages-API simulator listening on {server.url}")
    sys.stdout.flush()  # a parent process waits for this line to learn the port
    click.echo(f"  export ANTHROPIC_BASE_URL={server.url} ANTHROPIC_API_KEY=test   (Ctrl-C stops it)", err=True)
    try:
        await server.serve_forever()
    finally:
        await server.close()
