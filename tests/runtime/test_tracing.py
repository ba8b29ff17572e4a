"""Traces: a run's spans, as a real OTLP/HTTP collector receives them (docs/traces.md).

The collector is a tiny HTTP server on 127.0.0.1 that decodes what arrives with OpenTelemetry's own
protobuf types: the network edge, nothing of ours is mocked.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from workcrew.engine import RunStore, Settings, load_workflow, start
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulated import SimulatedModel
from workcrew.engine.redaction import KNOWN
from workcrew.engine.runtime.tracing import traces_endpoint, wait_for_traces
from workcrew.engine.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
SECRET = "sk-ant-api03-tracing-Q8vX2mR7kP4wL9nB"  # what redaction knows once it is ANTHROPIC_API_KEY's value
REDACTED = "[redacted: ANTHROPIC_API_KEY]"
OTEL_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED",
                  "OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "WORKCREW_OTLP_ENDPOINT",
                  "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_TRACES_SAMPLER")

SCRIPT = f"""
plan = await agent("plan the review of the files", label="plan")
phase("Find")
found = await parallel([agent(f"look for bugs in {{name}}", label=f"find {{name}}") for name in ("a.py", "b.py")]
                       + [agent("look for bugs in c.py with key {SECRET}", label="find c.py {SECRET}")])
phase("Verify")
verdict = await agent("verify what was found", label="verify")
return {{"found": found.succeeded}}
"""
SCENARIO = {"rules": [
    {"match": {"label": "^find b", "call": 1}, "respond": {"error": 529, "retry_after": 0}},
    {"match": {"label": "^find c"}, "respond": {"error": 400, "message": f"rejected: the request quoted {SECRET}"}},
    {"match": {"label": "^verify$"}, "respond": {"text": "confirmed"},
     "usage": {"input_tokens": 1000, "output_tokens": 50, "cache_read_input_tokens": 400,
               "cache_creation_input_tokens": 100}},
]}


class Collector:
    """An OTLP/HTTP receiver: every POST's path and body, answered 200 as a collector does."""

    def __init__(self, port: int = 0) -> None:
        self.requests: list[tuple[str, bytes]] = []
        received = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append((self.path, body))
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def spans(self) -> list[Span]:
        spans: list[Span] = []
        for path, body in self.requests:
            assert path == "/v1/traces"
            request = ExportTraceServiceRequest.FromString(body)
            for resource in request.resource_spans:
                assert {a.key: a.value.string_value for a in resource.resource.attributes}["service.name"] == "workcrew"
                for scope in resource.scope_spans:
                    spans.extend(scope.spans)
        return spans

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def attributes(span: Span) -> dict[str, Any]:
    return {a.key: getattr(a.value, a.value.WhichOneof("value")) for a in span.attributes}


@pytest.fixture(autouse=True)
def no_otel_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in OTEL_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def collector() -> Iterator[Collector]:
    receiver = Collector()
    yield receiver
    receiver.close()


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    KNOWN.learn_environment()
    return SECRET


async def delivered() -> None:
    """Wait for the runs' last spans (off the loop), then let the loop run what their threads scheduled."""
    assert await anyio.to_thread.run_sync(wait_for_traces, 30.0)
    await asyncio.sleep(0)


async def test_a_run_is_one_trace_of_run_phase_and_agent_spans(run_script: Any, store: RunStore,
                                                               collector: Collector, secret: str) -> None:
    outcome = await run_script(SCRIPT, scenario=SCENARIO, otlp_endpoint=collector.url)
    await delivered()
    assert outcome.status == "succeeded"
    assert outcome.agents == {"launched": 5, "succeeded": 4, "failed": 1, "cached": 0, "running": 0}
    store.flush()
    rows = {row["id"]: row for row in store.get_agents(outcome.run_id)}
    spans = collector.spans()
    assert len({span.trace_id for span in spans}) == 1

    (run,) = [s for s in spans if attributes(s).get("gen_ai.operation.name") == "invoke_workflow"]
    run_attributes = attributes(run)
    assert run.name == "invoke_workflow t" and run.parent_span_id == b""
    assert run.status.code == Status.STATUS_CODE_UNSET
    assert run_attributes["workcrew.run.id"] == outcome.run_id
    assert run_attributes["workcrew.run.status"] == "succeeded"
    for key in ("launched", "succeeded", "failed", "cached"):
        assert run_attributes[f"workcrew.agents.{key}"] == outcome.agents[key]
    usage = outcome.usage
    assert run_attributes["gen_ai.usage.output_tokens"] == usage["output_tokens"]
    assert run_attributes["gen_ai.usage.cache_read.input_tokens"] == usage["cache_read_input_tokens"]
    assert run_attributes["gen_ai.usage.cache_creation.input_tokens"] == usage["cache_creation_input_tokens"]
    assert run_attributes["gen_ai.usage.input_tokens"] == (usage["input_tokens"] + usage["cache_read_input_tokens"]
                                                          + usage["cache_creation_input_tokens"])
    assert run_attributes["workcrew.cost_usd"] == pytest.approx(usage["cost_usd"], abs=1e-6)
    assert usage["cost_usd"] > 0

    phases = {attributes(s)["workcrew.phase.title"]: s for s in spans if s.name.startswith("phase ")}
    assert set(phases) == {"Find", "Verify"}
    assert all(phase.parent_span_id == run.span_id for phase in phases.values())
    assert attributes(phases["Find"])["workcrew.agents.failed"] == 1
    assert attributes(phases["Find"])["workcrew.agents.succeeded"] == 2

    agents = [s for s in spans if attributes(s).get("gen_ai.operation.name") == "invoke_agent"]
    assert len(agents) == len(rows) == 5
    for span in agents:
        found = attributes(span)
        row = rows[found["gen_ai.agent.id"]]
        expected_parent = phases[row["phase"]].span_id if row["phase"] else run.span_id
        assert span.parent_span_id == expected_parent, row["label"]
        assert found["gen_ai.request.model"] == row["model"] == "simulated"
        assert found["gen_ai.usage.output_tokens"] == row["output_tokens"]
        assert found["gen_ai.usage.cache_read.input_tokens"] == row["cache_read_input_tokens"]
        assert found["gen_ai.usage.input_tokens"] == (row["input_tokens"] + row["cache_read_input_tokens"]
                                                      + row["cache_creation_input_tokens"])
        assert found["workcrew.cost_usd"] == pytest.approx(row["cost_usd"], abs=1e-9)
        assert found["workcrew.agent.outcome"] == row["state"]
        for key in ("attempts", "retries", "turns", "tool_calls"):
            assert found[f"workcrew.agent.{key}"] == row[key], key
        # the real times of the agent, as the run store has them
        assert abs(span.start_time_unix_nano - row["started_at"] * 1e9) < 1e4
        assert abs(span.end_time_unix_nano - row["finished_at"] * 1e9) < 1e4
        if row["state"] == "failed":
            assert span.status.code == Status.STATUS_CODE_ERROR
            assert "rejected: the request quoted" in span.status.message and REDACTED in span.status.message
            assert found["error.type"] == row["error_kind"]
        else:
            assert span.status.code == Status.STATUS_CODE_UNSET
    by_label = {attributes(s).get("gen_ai.agent.name"): attributes(s) for s in agents}
    assert by_label["find b.py"]["workcrew.agent.retries"] == 1
    assert by_label["verify"]["gen_ai.usage.input_tokens"] == 1500
    assert f"find c.py {REDACTED}" in by_label
    assert by_label["plan"].get("workcrew.phase.title") is None


async def test_no_secret_and_no_prompt_reaches_the_collector(run_script: Any, collector: Collector,
                                                             secret: str) -> None:
    await run_script(SCRIPT, scenario=SCENARIO, otlp_endpoint=collector.url)
    await delivered()
    sent = b"".join(body for _, body in collector.requests)
    assert sent and REDACTED.encode() in sent
    assert secret.encode() not in sent
    for prompt in (b"plan the review", b"look for bugs", b"verify what was found", b"confirmed"):
        assert prompt not in sent  # prompts and results are never span data


async def test_the_standard_otel_variable_names_the_collector(run_script: Any, collector: Collector,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url)
    outcome = await run_script('await agent("hello", label="one")\nreturn 1')
    await delivered()
    names = sorted(span.name for span in collector.spans())
    assert names == ["invoke_agent one", "invoke_workflow t"]
    assert outcome.status == "succeeded"


async def test_a_cancelled_run_sends_its_unfinished_agents_as_cancelled(
        settings: Settings, store: RunStore, tmp_path: Path, collector: Collector) -> None:
    script = tmp_path / "slow.py"
    script.write_text('meta = {"name": "slow", "description": "one agent that never answers"}\n'
                      'phase("Wait")\nreturn await agent("wait for it", label="slow")\n')
    client = SimulatedModel(Scenario.from_data({"rules": [{"match": {"label": "slow"}, "respond": {"stall_s": 60}}]}))
    handle = start(load_workflow(script), None, settings.model_copy(update={"otlp_endpoint": collector.url}),
                   client=client, store=store)
    async for event in handle.events():
        if event.type == "agent_started":
            break
    handle.cancel()
    outcome = await handle.result()
    await delivered()
    assert outcome.status == "cancelled"
    spans = {span.name: span for span in collector.spans()}
    assert set(spans) == {"invoke_workflow slow", "phase Wait", "invoke_agent slow"}
    agent = spans["invoke_agent slow"]
    assert attributes(agent)["workcrew.agent.outcome"] == "cancelled"
    assert agent.parent_span_id == spans["phase Wait"].span_id
    # a user's cancel is what happened, not an error
    assert agent.status.code == spans["invoke_workflow slow"].status.code == Status.STATUS_CODE_UNSET
    assert attributes(spans["invoke_workflow slow"])["workcrew.run.status"] == "cancelled"


async def test_an_unreachable_collector_costs_one_log_line_and_no_time(
        run_script: Any, store: RunStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    # a collector that takes the connection and never answers: every export waits for its timeout
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "2")
    endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
    try:
        with caplog.at_level(logging.DEBUG):
            outcome = await run_script(SCRIPT, scenario=SCENARIO, otlp_endpoint=endpoint)
            handle = run_script.handle
            assert outcome.status == "succeeded"
            # the result came back while the spans were still waiting on the collector
            assert not [line for line in handle.state.logs if "traces" in line]
            await delivered()
    finally:
        silent.close()
    warnings = [line for line in handle.state.logs if line.startswith("warning: traces:")]
    assert len(warnings) == 1
    assert f"could not send spans to {endpoint}/v1/traces" in warnings[0]
    store.flush()
    assert warnings[0] in store.get_logs(outcome.run_id)
    # the exporter's own retry and failure messages are folded into that line, not printed
    assert not [r for r in caplog.records if r.name.startswith("opentelemetry")]


DRIVER = """
import asyncio, atexit, json, sys, threading
from pathlib import Path
from workcrew.engine import RunStore, load_workflow, start
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulated import SimulatedModel
from workcrew.engine.settings import load_settings

async def main():
    workspace, script, state = (Path(a) for a in sys.argv[1:4])
    settings = load_settings(workspace, overrides={"state_dir": state, "models": {"default": "simulated"}})
    store = RunStore(settings.resolved_state_dir())
    handle = start(load_workflow(script), None, settings, client=SimulatedModel(Scenario.from_data({"rules": []})),
                   store=store)
    outcome = await handle.result()
    store.close()
    return outcome.status, sorted(thread.name for thread in threading.enumerate())

status, threads = asyncio.run(main())
print(json.dumps({"status": status, "threads": threads}))
# at exit, after the threads that are not daemons (a run's spans on their way) have ended, as in the CLI
atexit.register(lambda: print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] == "opentelemetry"))))
"""


def drive(tmp_path: Path, **env: str) -> dict[str, Any]:
    """A run in a fresh interpreter (settings from the environment, as the CLI loads them): what it loaded."""
    workspace = tmp_path / "driven"
    workspace.mkdir(exist_ok=True)
    script = workspace / "wf.py"
    script.write_text(textwrap.dedent("""\
        meta = {"name": "driven", "description": "one agent"}
        phase("Only")
        return await agent("say hello", label="hello")
    """))
    clean = {k: v for k, v in os.environ.items() if k not in OTEL_VARIABLES}
    done = subprocess.run([sys.executable, "-c", DRIVER, str(workspace), str(script), str(tmp_path / "state")],
                          env={**clean, **env}, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    first, last = done.stdout.splitlines()
    result: dict[str, Any] = {**json.loads(first), "modules": json.loads(last)}
    assert result["status"] == "succeeded"
    return result


def test_without_an_endpoint_nothing_is_sent_loaded_or_started(tmp_path: Path) -> None:
    # listen where the exporter would send by default (localhost:4318), when that port is free
    try:
        receiver = Collector(4318)
    except OSError:
        receiver = Collector()
    try:
        quiet = drive(tmp_path)
        assert quiet["modules"] == []  # not even the API: the simulated provider never needs it
        assert not [name for name in quiet["threads"] if name.startswith(("OtelBatch", "workcrew-traces"))]
        assert receiver.requests == []
        # the control: the same run with the collector named does load, start and send, with no call to
        # wait for the spans: the process ends after them
        traced = drive(tmp_path, WORKCREW_OTLP_ENDPOINT=receiver.url)
        assert "opentelemetry.sdk.trace" in traced["modules"]
        assert {span.name for span in receiver.spans()} == {"invoke_workflow driven", "phase Only",
                                                           "invoke_agent hello"}
    finally:
        receiver.close()


def test_where_the_collector_is(tmp_path: Path) -> None:
    bare = Settings(workspace=tmp_path)
    assert traces_endpoint(bare, {}) is None
    assert traces_endpoint(bare, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318/"}) == "http://c:4318/v1/traces"
    assert traces_endpoint(bare, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318",
                                  "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://t:9/x"}) == "http://t:9/x"
    named = bare.model_copy(update={"otlp_endpoint": "http://w:4318"})
    assert traces_endpoint(named, {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://t:9/x"}) == "http://w:4318/v1/traces"
    full = bare.model_copy(update={"otlp_endpoint": "https://w/v1/traces"})
    assert traces_endpoint(full, {}) == "https://w/v1/traces"
    assert traces_endpoint(named, {"OTEL_SDK_DISABLED": "true"}) is None
    # workcrew.toml, and the environment over it
    (tmp_path / "workcrew.toml").write_text('otlp_endpoint = "http://from-file:4318"\n')
    assert load_settings(tmp_path, env={}).otlp_endpoint == "http://from-file:4318"
    assert load_settings(tmp_path, env={"WORKCREW_OTLP_ENDPOINT": "http://env:4318"}).otlp_endpoint == "http://env:4318"
