"""No secret value reaches the editor: the daemon redacts every message it sends, whatever carries it
(a log line, a phase title, a finding, an agent's label, the run's result)."""

from __future__ import annotations

import json
from typing import Any

from .conftest import SessionFactory, push_capabilities

TOKEN = "tok-lsp-canary-3141592653"  # in the daemon's environment
PASSWORD = "dotenv-lsp-canary-2718281828"  # in the workspace's .env


async def test_secret_values_never_reach_the_editor(lsp_session: SessionFactory) -> None:
    session = await lsp_session(capabilities=push_capabilities(), env={"WORKCREW_E2E_TOKEN": TOKEN},
                                files={".env": f"DB_PASSWORD={PASSWORD}\n", "notes.txt": f"pasted: {PASSWORD}\n"})
    received: list[str] = []
    structure = session.client.protocol.structure_message

    def spy(data: dict[str, Any]) -> Any:  # every object of every message the editor receives
        received.append(json.dumps(data))
        return structure(data)

    session.client.protocol.structure_message = spy  # type: ignore[method-assign]
    finished = session.client.protocol.wait_for_notification_async("workcrew/runFinished")
    started = await session.command("workcrew.createWorkflowFromSelection",
                                     {"prompt": "LEAK", "uris": [session.uri("calc.py")]})
    assert started["status"] == "running", started
    done = await finished
    assert done.status == "succeeded", done.error
    run = await session.command("workcrew.listRuns", {})
    wire = "\n".join(received) + json.dumps(run, default=str)
    assert TOKEN not in wire and PASSWORD not in wire
    # what carried them arrived, redacted
    assert "[redacted: WORKCREW_E2E_TOKEN]" in wire and "[redacted: .env]" in wire
    assert "leaked [redacted: .env]" in wire  # the finding's title
