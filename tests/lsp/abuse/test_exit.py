"""How the server ends when the client does not say ``exit``: the client gone (stdin closed, mid-message or
not; stdout closed), SIGTERM, SIGHUP. It leaves promptly and quietly, records the runs it owned as
interrupted (never as cancelled by the user), and leaves runs in their own process running."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from ..conftest import SessionFactory, push_capabilities
from ..test_detached_runs import alive, run_row
from ..test_runs import start_slow
from .rawclient import RawServer, frame, request


def quiet_exit(server: RawServer) -> None:
    assert server.wait_exit(15) == 1  # no `shutdown` first: LSP's exit code for that
    assert "Traceback" not in server.log()


@pytest.mark.parametrize("tail", [b"", b"Content-Len", b"Content-Length: 80\r\n\r\n{\"jsonrpc\": \"2.0\", \"id\": 1"],
                         ids=["between messages", "inside a header", "inside a body"])
def test_stdin_closed(tmp_path: Path, tail: bytes) -> None:
    server = RawServer.started(tmp_path)
    try:
        server.write(tail)
        server.stdin.close()
        quiet_exit(server)
    finally:
        server.stop()


def test_stdout_closed_by_the_client(tmp_path: Path) -> None:
    server = RawServer.started(tmp_path)
    try:
        server.stdout.close()
        server.write(frame(request(1, "workcrew/noSuchMethod")))  # its answer finds nobody reading
        quiet_exit(server)
    finally:
        server.stop()


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_signal_when_idle(tmp_path: Path, number: signal.Signals) -> None:
    server = RawServer.started(tmp_path)
    try:
        server.process.send_signal(number)
        quiet_exit(server)
    finally:
        server.stop()


async def _killed_mid_run(lsp_session: SessionFactory, how: str, detach: bool) -> tuple[dict, tuple]:
    session = await lsp_session(capabilities=push_capabilities(), settings={"detachRuns": detach})
    result = await start_slow(session)
    process = session.client._server
    assert process is not None and process.stdin is not None
    if how == "stdin closed mid-message":
        process.stdin.write(b"Content-Length: 300\r\n\r\n{\"jsonrpc\": \"2.0\", \"id\": 99, \"method\": \"workspace/")
        process.stdin.close()
    else:
        process.send_signal(getattr(signal, how))
    assert await asyncio.wait_for(process.wait(), 20) == 1
    await session.client.stop()
    return result, run_row(session.workspace, result["runId"])


@pytest.mark.parametrize("how", ["SIGTERM", "SIGHUP", "stdin closed mid-message"])
async def test_a_run_inside_the_server_is_recorded_interrupted(lsp_session: SessionFactory, how: str) -> None:
    _, (status, error, _) = await _killed_mid_run(lsp_session, how, detach=False)
    assert status == "interrupted", error
    assert error is not None and "cancelled by the user" not in error
    assert (how in error) if how.startswith("SIG") else ("disconnected" in error)


async def test_a_detached_run_outlives_a_sigterm(lsp_session: SessionFactory) -> None:
    _, (status, _, owner) = await _killed_mid_run(lsp_session, "SIGTERM", detach=True)
    assert status == "running" and alive(owner)  # its own process owns it (the fixture stops it)
