"""Bad input gets JSON-RPC errors that say what was wrong, the server keeps going, secrets stay out."""

from __future__ import annotations

import asyncio

import pytest
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from .conftest import SessionFactory, push_capabilities

SECRET = "sk-ant-api03-THIS-IS-A-TEST-SECRET-0123456789"


@pytest.mark.parametrize(("command", "arguments", "expected"), [
    ("workcrew.createWorkflowFromSelection", [{"uri": "file:///x.py"}], "prompt: Field required"),
    ("workcrew.createWorkflowFromSelection", ["find bugs"], "takes one object argument, not a string"),
    ("workcrew.createWorkflowFromSelection",
     [{"prompt": "x", "uri": "file:///x.py", "range": {"start": {"line": -1, "character": 0}}}], "range.start.line"),
    ("workcrew.runWorkflow", [{"args": {}}], "give the workflow's 'name' or its 'path'"),
    ("workcrew.cancelRun", [{}], "runId: Field required"),
    ("workcrew.dismissFinding", [{"findingId": 42}], "findingId: Input should be a valid string"),
])
async def test_bad_command_arguments_are_invalid_params(lsp_session: SessionFactory, command: str,
                                                        arguments: list, expected: str) -> None:
    session = await lsp_session(capabilities=push_capabilities())
    with pytest.raises(JsonRpcInvalidParams) as caught:
        await session.command(command, *arguments)
    assert expected in caught.value.message


async def test_unknown_targets_fail_with_a_reason_and_the_server_lives_on(lsp_session: SessionFactory) -> None:
    session = await lsp_session(capabilities=push_capabilities())
    with pytest.raises(JsonRpcException) as caught:
        await session.command("workcrew.runWorkflow", {"name": "no-such-workflow"})
    assert "no workflow named 'no-such-workflow'" in caught.value.message
    with pytest.raises(JsonRpcException) as caught:
        await session.command("workcrew.cancelRun", {"runId": "wf_nope"})
    assert "no run 'wf_nope'" in caught.value.message
    with pytest.raises(JsonRpcException):
        await session.command("workcrew.noSuchCommand", {})
    # malformed params of a typed request: an error response, not silence (pygls alone drops these)
    # (written raw: the client itself refuses to send such params)
    protocol = session.client.protocol
    answer: asyncio.Future = asyncio.get_running_loop().create_future()
    protocol._request_futures["bad-1"] = answer
    protocol._send_data({"jsonrpc": "2.0", "id": "bad-1", "method": "textDocument/codeAction",
                         "params": {"textDocument": 5, "range": "everything"}})
    with pytest.raises(JsonRpcInvalidParams) as caught:
        await asyncio.wait_for(answer, 10)
    assert "textDocument/codeAction" in caught.value.message
    # still serving
    workflows = await session.command("workcrew.listWorkflows", {})
    assert isinstance(workflows, list)


async def test_list_and_estimate_saved_workflows(lsp_session: SessionFactory) -> None:
    session = await lsp_session(capabilities=push_capabilities())
    uri = session.open("calc.py")
    session.answer = "Cancel"
    await session.command("workcrew.createWorkflowFromSelection", {"uri": uri, "prompt": "find division by zero"})
    names = {w["name"]: w for w in await session.command("workcrew.listWorkflows", {})}
    assert names["review-division"]["origin"] == "project"
    assert names["review-division"]["phases"] == ["Find", "Verify", "Report"]
    estimate = await session.command("workcrew.estimate", {"name": "review-division", "args": {"files": ["calc.py"]}})
    assert estimate["workflow"] == "review-division"
    assert set(estimate["estimate"]["agents"]) >= {"low", "expected", "high"}
    assert estimate["estimate"]["agents"]["expected"] >= 1
    assert "agents" in estimate["summary"]


async def test_the_api_key_never_reaches_the_client(lsp_session: SessionFactory) -> None:
    session = await lsp_session(capabilities=push_capabilities(), env={"ANTHROPIC_API_KEY": SECRET},
                                settings={"approvalPolicy": "always", "unknownThing": 1})
    client = session.client
    uri = session.open("calc.py")
    seen: list[str] = []
    original = client.protocol.handle_message

    def record(message):  # every message the server sends, as the client receives it
        seen.append(repr(message))
        return original(message)

    client.protocol.handle_message = record
    finished = client.protocol.wait_for_notification_async("workcrew/runFinished")
    await session.command("workcrew.createWorkflowFromSelection", {"uri": uri, "prompt": "find division by zero"})
    await asyncio.wait_for(finished, 30)
    await session.command("workcrew.listRuns", {})
    assert seen and not any(SECRET in m for m in seen)
    assert not any(SECRET in m.message for m in client.log_messages + client.messages)
    # an unknown editor setting is reported, not fatal
    assert any("unknownThing" in m.message for m in client.messages)


async def test_workspace_configuration_sets_the_approval_policy(lsp_session: SessionFactory) -> None:
    """The editor's `workcrew.approvalPolicy` = never: the run starts without a notification."""
    session = await lsp_session(capabilities=push_capabilities(), configuration={"approvalPolicy": "never"})
    uri = session.open("calc.py")
    finished = session.client.protocol.wait_for_notification_async("workcrew/runFinished")
    result = await session.command("workcrew.createWorkflowFromSelection", {"uri": uri, "prompt": "find bugs"})
    assert result["status"] == "running" and session.approvals == []
    await asyncio.wait_for(finished, 30)


async def test_a_model_with_no_price_is_refused_before_the_run(lsp_session: SessionFactory) -> None:
    session = await lsp_session(capabilities=push_capabilities())
    script = session.workspace / "pricey.py"
    script.write_text(
        'meta = {"name": "pricey", "description": "uses a model with no price"}\n'
        'return await agent("hello", model="claude-unpriced-9")\n'
    )
    session.answer = "Run"
    with pytest.raises(JsonRpcException) as caught:
        await session.command("workcrew.runWorkflow", {"path": str(script)})
    assert "no price for model 'claude-unpriced-9'" in caught.value.message
    runs = await session.command("workcrew.listRuns", {})
    assert all(r.get("workflow") != "pricey" for r in runs)
