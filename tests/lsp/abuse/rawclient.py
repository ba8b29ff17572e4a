"""A raw-stdio client for the language server: writes any bytes, reads the server's framed replies.

It speaks just enough LSP to initialize and to send a cheap request, so the abuse tests can check that the
server still answers after each fault. The server's own output is always well framed; anything else there
fails the test.
"""

from __future__ import annotations

import json
import os
import re
import selectors
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "lsp"
_HEADER = re.compile(rb"Content-Length: (\d+)\r\n(?:[^\r\n]+\r\n)*\r\n")


def frame(body: bytes | str | dict[str, Any] | list[Any], header: bytes | None = None) -> bytes:
    """``body`` framed with a correct Content-Length (or with ``header``, a whole header block, as given)."""
    data = body if isinstance(body, bytes) else (body if isinstance(body, str) else json.dumps(body)).encode()
    return (header if header is not None else b"Content-Length: %d\r\n\r\n" % len(data)) + data


def request(request_id: int | str, method: str, params: Any = None) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        message["params"] = params
    return message


def cheap_request(request_id: int | str) -> dict[str, Any]:
    """The request each case ends with: the run list (the store, a worker thread, a response)."""
    return request(request_id, "workspace/executeCommand", {"command": "workcrew.listRuns", "arguments": [{"limit": 1}]})


class RawServer:
    def __init__(self, workspace: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.workspace = workspace
        self.log_path = workspace.parent / f"{workspace.name}-server.log"
        server_env = {**os.environ, "WORKCREW_PROVIDER": "simulated", "WORKCREW_MODEL": "simulated",
                      "WORKCREW_LOG_LEVEL": "WARNING", **(env or {})}
        server_env.pop("WORKCREW_STATE_DIR", None)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "workcrew.server", *args], cwd=workspace,
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=server_env)
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin = self.process.stdin
        self.stdout = self.process.stdout
        self._buffer = bytearray()
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.stdout, selectors.EVENT_READ)

    @classmethod
    def started(cls, tmp: Path, *args: str, env: dict[str, str] | None = None) -> RawServer:
        """A server on a copy of the fixture workspace, initialized."""
        workspace = tmp / "ws"
        if not workspace.exists():
            shutil.copytree(FIXTURES / "workspace", workspace)
        server = cls(workspace, *args, env=env)
        server.initialize()
        return server

    # -- writing -------------------------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        self.stdin.write(data)
        self.stdin.flush()

    def send(self, message: dict[str, Any] | list[Any]) -> None:
        self.write(frame(message))

    def initialize(self) -> None:
        self.send(request("init", "initialize", {"processId": None, "rootUri": self.workspace.as_uri(),
                                                  "capabilities": {}, "initializationOptions": {"workcrew": {}}}))
        response = self.response("init", timeout=60)
        assert "result" in response, response
        self.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})

    # -- reading -------------------------------------------------------------------------------------------

    def message(self, timeout: float) -> dict[str, Any]:
        """The server's next message (its framing checked), or AssertionError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            match = _HEADER.match(self._buffer)
            if match is None:
                assert not self._buffer or self._buffer[:1] == b"C", f"bad framing from the server: {self._buffer[:80]!r}"
            elif len(self._buffer) >= match.end() + int(match.group(1)):
                end = match.end() + int(match.group(1))
                body = bytes(self._buffer[match.end():end])
                del self._buffer[:end]
                value: dict[str, Any] = json.loads(body)
                return value
            left = deadline - time.monotonic()
            if left <= 0 or not self._selector.select(left):
                raise AssertionError(f"no message from the server within {timeout} s")
            chunk = os.read(self.stdout.fileno(), 1 << 20)
            if not chunk:
                raise AssertionError(f"the server closed its output (exit code {self.process.poll()})")
            self._buffer += chunk

    def response(self, request_id: int | str, timeout: float,
                 errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """The response to ``request_id``; error responses to other ids (or to none) go to ``errors``."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.message(max(0.0, deadline - time.monotonic()))
            if "method" in message:
                if "id" in message:  # a request from the server (progress, configuration): answer it
                    self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})
                continue
            if message.get("id") == request_id:
                return message
            if errors is not None and "error" in message:
                errors.append(message)

    def errors_then_answer(self, ping_id: str, timeout: float = 1.0) -> list[dict[str, Any]]:
        """Send the cheap request and wait ``timeout`` s for its answer; the errors that came before it."""
        errors: list[dict[str, Any]] = []
        self.send(cheap_request(ping_id))
        answer = self.response(ping_id, timeout, errors)
        assert "result" in answer and isinstance(answer["result"], list), answer
        assert self.alive()
        return errors

    # -- the process ---------------------------------------------------------------------------------------

    def alive(self) -> bool:
        return self.process.poll() is None

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def wait_exit(self, timeout: float) -> int:
        return self.process.wait(timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.alive():
            self.process.kill()
            self.process.wait(10)
        for stream in (self.stdin, self.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self._selector.close()
