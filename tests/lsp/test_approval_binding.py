"""A remembered approval in the editor ("Always run") binds the script, its scope and its cap.

The same script over the same (or a narrower) scope starts without a notification; an edited script or a
wider scope brings the notification back, and its warning line says what changed.
"""

from __future__ import annotations

import asyncio
import hashlib

from .conftest import Session, SessionFactory, collect_details, push_capabilities

READ = """meta = {"name": "read-files", "description": "One reader per file", "phases": [{"title": "Read"}]}

phase("Read")
results = await parallel([agent(f"Read {f}", label=f"read {f}") for f in args["files"]])
return {"read": len(results)}
"""


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def sha(text: str) -> str:
    return sha256(text)[:8]


async def run(session: Session, files: list[str]) -> dict:
    finished = session.client.protocol.wait_for_notification_async("workcrew/runFinished")
    result = await session.command("workcrew.runWorkflow", {"path": str(session.workspace / "read.py"),
                                                            "args": {"files": files}})
    if result["status"] == "running":  # one run at a time: wait for its end (how it ends is not the point here)
        done = await asyncio.wait_for(finished, 30)
        assert done.runId == result["runId"]
    return result


async def test_always_run_is_remembered_until_the_script_or_scope_changes(lsp_session: SessionFactory) -> None:
    session = await lsp_session(capabilities=push_capabilities(), answer="Always run")
    details = collect_details(session)
    script = session.workspace / "read.py"
    script.write_text(READ)

    first = await run(session, ["calc.py"])
    assert first["status"] == "running", first
    (asked,) = session.approvals
    assert [a.title for a in asked.actions or []] == ["Run", "Details", "Always run", "Cancel"]
    assert asked.message.startswith("Run “read-files”: 1 agent · ") and "· 1 file\n" in asked.message
    # what will run, in its details: the script and the digest of its text, the scope, the provider, the cap
    (shown,) = details
    assert shown["script"]["path"] == str(script) and shown["script"]["sha256"] == sha256(READ)
    assert shown["scope"]["described"] == "calc.py" and shown["scope"]["workspace"] == str(session.workspace.resolve())
    assert shown["provider"] == "simulated" and shown["cap"]["text"].startswith("hard cap $")
    assert shown["can_remember"] and shown["changes"] == [] and shown["warning"] is None
    assert "Asked again" not in asked.message

    # remembered: the same script over the same scope runs without a notification
    assert (await run(session, ["calc.py"]))["status"] == "running"
    assert len(session.approvals) == 1

    # the script changes: the notification comes back and names both digests
    edited = READ.replace("One reader per file", "One careful reader per file")
    script.write_text(edited)
    session.answer = "Cancel"
    again = await run(session, ["calc.py"])
    assert again["status"] == "cancelled"
    warning = session.approvals[-1].message.splitlines()[1]
    assert warning == f"⚠ Asked again: the script changed since you approved it (sha256 {sha(READ)}… → {sha(edited)}…)"
    assert details[-1]["script"]["sha256"] == sha256(edited)  # the details show what would run now

    # "Always run" on the edited script binds its digest; then a wider scope asks again, naming the new file
    session.answer = "Always run"
    assert (await run(session, ["calc.py"]))["status"] == "running"
    assert len(session.approvals) == 3
    session.answer = "Cancel"
    wider = await run(session, ["calc.py", "stats.py"])
    assert wider["status"] == "cancelled"
    # two files cost more than one: the cap rose too, and both are said
    assert "⚠ Asked again: the scope grew: +stats.py; the budget cap rose from $" in session.approvals[-1].message
    assert len(session.approvals) == 4
    # approved for both files: one of them (a narrower scope, a lower cap) reuses the approval
    session.answer = "Always run"
    assert (await run(session, ["calc.py", "stats.py"]))["status"] == "running"
    assert (await run(session, ["stats.py"]))["status"] == "running"
    assert len(session.approvals) == 5


async def test_run_once_is_not_remembered(lsp_session: SessionFactory) -> None:
    session = await lsp_session(capabilities=push_capabilities(), answer="Run")
    (session.workspace / "read.py").write_text(READ)
    assert (await run(session, ["calc.py"]))["status"] == "running"
    assert (await run(session, ["calc.py"]))["status"] == "running"
    assert len(session.approvals) == 2
    assert all("Asked again" not in a.message for a in session.approvals)

