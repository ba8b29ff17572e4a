"""``workcrew serve``: the language server over stdio (editors), or TCP for debugging."""

from __future__ import annotations

import logging
import os
import sys

import click

from .framing import DEFAULT_MAX_MESSAGE_MB


def _logging() -> None:
    # stdout carries the protocol: logs go to stderr, and never at a level that dumps message bodies
    level = os.environ.get("WORKCREW_LOG_LEVEL", "WARNING").upper()
    target = os.environ.get("WORKCREW_LOG_FILE")  # editors often swallow stderr: log to a file instead
    logging.basicConfig(level=getattr(logging, level, logging.WARNING),
                        format="%(asctime)s %(name)s %(levelname)s %(message)s",
                        **({"filename": target} if target else {"stream": sys.stderr}))
    logging.getLogger("pygls").setLevel(max(logging.WARNING, logging.getLogger().level))
    from workcrew.engine.redaction import KNOWN, LogFilter

    for handler in logging.getLogger().handlers:  # no secret value in the log, whoever logs it
        handler.addFilter(LogFilter(KNOWN))


@click.command("serve")
@click.option("--tcp", is_flag=True, help="Listen on TCP instead of stdio (for debugging).")
@click.option("--host", default="127.0.0.1", show_default=True, help="TCP address to bind.")
@click.option("--port", default=2087, show_default=True, type=click.IntRange(0, 65535), help="TCP port.")
@click.option("--max-message-mb", type=click.IntRange(1, 4096), default=DEFAULT_MAX_MESSAGE_MB, show_default=True,
              envvar="WORKCREW_MAX_MESSAGE_MB", show_envvar=True,
              help="The largest LSP message accepted on stdio, in MiB; larger ones are skipped unread and "
                   "refused with an error.")
def serve(tcp: bool, host: str, port: int, max_message_mb: int) -> None:
    """Run the Workcrew language server (editors start this; it speaks LSP on stdio)."""
    _logging()
    # the store writer and report threads hold the GIL in long stretches at the end of a big run; a
    # shorter switch interval lets the event loop (diagnostics, editor requests) get it back sooner
    sys.setswitchinterval(0.001)
    from workcrew.engine import freeze_startup_heap
    from workcrew.engine.runtime.scripthost.spawn import prewarm

    from .server import build

    server = build()
    freeze_startup_heap()
    prewarm()  # the first estimate or run does not wait for a script host to start
    reason = "the editor disconnected"
    try:
        if tcp:
            click.echo(f"workcrew: language server listening on {host}:{port}", err=True)
            server.start_tcp(host, port)
        else:
            from .stdio import serve_stdio

            stopped = serve_stdio(server, max_message_mb * 1024 * 1024)
            reason = "the editor ended the session without shutting the server down" if stopped.exited \
                else stopped.reason
    except BaseException as exc:  # a bug, not the client: the runs are still recorded for what they are
        logging.getLogger(__name__).critical("the language server failed", exc_info=exc)
        reason = f"the language server failed ({type(exc).__name__})"
    finally:
        if not server.protocol._shutdown:
            from .runs import mark_abandoned

            try:
                mark_abandoned(server.runs, reason)  # runs in their own process (detached) go on
            except Exception:
                logging.getLogger(__name__).exception("could not record the runs as interrupted")
    # the stdin reader thread may still block in a read and keep the process alive; runs were stopped and
    # the store closed during `shutdown` (or just marked above), so leave now
    sys.stderr.flush()
    os._exit(0 if server.protocol._shutdown else 1)


def main() -> None:
    serve.main(prog_name="workcrew serve")
