"""Pull diagnostics (VS Code) for files that are not open: the workspace report is all the editor gets for them,
and it keeps a file's last report until a report names the file again. A finding that goes away (here
dismissed) must therefore come back as an empty report for its file, or it lingers in the Problems panel."""

from __future__ import annotations

import asyncio
import shutil

from lsprotocol import types

from .conftest import FIXTURES, SessionFactory, pull_capabilities


async def test_a_closed_files_findings_gone_clear_it_in_the_workspace_report(lsp_session: SessionFactory) -> None:
    session = await lsp_session(capabilities=pull_capabilities())
    client = session.client
    workflow = session.workspace / ".claude" / "workflows" / "review-division.py"
    workflow.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / "review_workflow.py", workflow)
    finished = client.protocol.wait_for_notification_async("workcrew/runFinished")
    started = await session.command("workcrew.runWorkflow", {"path": str(workflow), "args": {"files": ["calc.py"]}})
    assert started["status"] == "running", started
    assert (await asyncio.wait_for(finished, 60)).status == "succeeded"
    calc = session.uri("calc.py")  # never opened: only the workspace report carries its findings

    first = await client.workspace_diagnostic_async(types.WorkspaceDiagnosticParams(previous_result_ids=[]))
    (report,) = [item for item in first.items if item.uri == calc]
    assert isinstance(report, types.WorkspaceFullDocumentDiagnosticReport)
    (diagnostic,) = report.items
    assert report.result_id is not None

    answer = await session.command("workcrew.dismissFinding",
                                   {"findingId": diagnostic.data["findingId"], "reason": "wont-fix"})
    assert answer["dismissed"] is True, answer

    seen = [types.PreviousResultId(uri=calc, value=report.result_id)]
    second = await client.workspace_diagnostic_async(types.WorkspaceDiagnosticParams(previous_result_ids=seen))
    (cleared,) = [item for item in second.items if item.uri == calc]
    assert isinstance(cleared, types.WorkspaceFullDocumentDiagnosticReport) and list(cleared.items) == []

    # once the editor has the empty report, the file is reported unchanged rather than sent again
    assert cleared.result_id is not None
    seen = [types.PreviousResultId(uri=calc, value=cleared.result_id)]
    third = await client.workspace_diagnostic_async(types.WorkspaceDiagnosticParams(previous_result_ids=seen))
    (unchanged,) = [item for item in third.items if item.uri == calc]
    assert isinstance(unchanged, types.WorkspaceUnchangedDocumentDiagnosticReport)
