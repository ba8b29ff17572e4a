"""A finished run as OpenTelemetry spans, sent over OTLP/HTTP (loaded only in a run's delivery thread, when
traces are configured: ``tracing.py``).

One root span per run, a child per phase, a child per agent under its phase (or the run), each with its real
start and end times: the run's and the phases' from its events, the agents' from their records. A batch
processor's thread sends them; the tracer provider is the run's own and is shut down once they are out.

What a span carries: counts, tokens, cost, times, models, outcomes, and labels (phase titles, agent labels,
the workflow's name) through ``KNOWN.redact``; a failure's reason, redacted and cut short, as the span's
status. Never a prompt, a result or an argument. No global tracer provider is installed, so the Anthropic
SDK's own spans of each API call, which may carry message content, stay with the no-op provider.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import OTELResourceDetector, Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.version import __version__ as sdk_version
from opentelemetry.trace import Span, Status, StatusCode, Tracer

from ..redaction import KNOWN

if TYPE_CHECKING:
    from .state import AgentRecord
    from .tracing import Timeline

# gen_ai.* where the semantic conventions name the figure; workcrew.* for the rest
OPERATION = "gen_ai.operation.name"
PROVIDER = "gen_ai.provider.name"
MODEL = "gen_ai.request.model"
AGENT_ID = "gen_ai.agent.id"
AGENT_NAME = "gen_ai.agent.name"
INPUT_TOKENS = "gen_ai.usage.input_tokens"  # every input token: uncached + cache reads + cache writes
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
CACHE_READ_TOKENS = "gen_ai.usage.cache_read.input_tokens"
CACHE_CREATION_TOKENS = "gen_ai.usage.cache_creation.input_tokens"
ERROR_TYPE = "error.type"
COST = "workcrew.cost_usd"

EXPORT_TIMEOUT_S = 5.0  # per batch, unless OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT says otherwise
MAX_REASON = 300  # characters of a failure's reason kept in a span's status
RUN_COUNTS = ("launched", "succeeded", "failed", "cached", "not_started")


def _ns(seconds: float) -> int:
    return int(seconds * 1e9)


# the exporter's message for a failed attempt; its cause is what the run's warning line says
_RETRYING = re.compile(r"^Transient error (.+) encountered while exporting \w+ batch, retrying in .*$", re.DOTALL)


def _reason(text: str | None) -> str:
    text = KNOWN.redact(text or "")
    retrying = _RETRYING.match(text)
    text = retrying.group(1) if retrying else text
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


def _usage(usage: Mapping[str, Any]) -> dict[str, int]:
    uncached = int(usage.get("input_tokens") or 0)
    read = int(usage.get("cache_read_input_tokens") or 0)
    created = int(usage.get("cache_creation_input_tokens") or 0)
    return {INPUT_TOKENS: uncached + read + created, OUTPUT_TOKENS: int(usage.get("output_tokens") or 0),
            CACHE_READ_TOKENS: read, CACHE_CREATION_TOKENS: created}


def shown(endpoint: str) -> str:
    """The endpoint as a log line may show it: no user, password or query (they can hold a token)."""
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return KNOWN.redact(urlunsplit((parts.scheme, netloc, parts.path, "", "")))


class _Captured(logging.Filter):
    """The exporter's own log lines, while one of our exports runs, are kept from stderr and handed to it:
    a collector that is down becomes one line in the run's logs, not a retry message per attempt."""

    local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        said: list[str] | None = getattr(self.local, "said", None)
        if said is None:
            return True
        said.append(record.getMessage())
        return False


_CAPTURED = _Captured()
for _name in ("opentelemetry.exporter.otlp.proto.http.trace_exporter", "opentelemetry.exporter.otlp.common.http",
              "opentelemetry.exporter.otlp.proto.http._common"):
    if _CAPTURED not in logging.getLogger(_name).filters:
        logging.getLogger(_name).addFilter(_CAPTURED)


class WatchedExporter(SpanExporter):
    """The OTLP exporter, watched: the first failure is reported, and the batches left are not sent to a
    collector that has just failed (each would wait out the timeout again)."""

    def __init__(self, inner: SpanExporter, on_failure: Callable[[str], None]) -> None:
        self.inner = inner
        self.on_failure = on_failure
        self.failure: str | None = None

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self.failure is not None:
            return SpanExportResult.FAILURE
        said: list[str] = []
        _Captured.local.said = said
        try:
            result = self.inner.export(spans)
        except Exception as exc:  # the exporter's bug must not end the batch thread quietly
            said.insert(0, f"{type(exc).__name__}: {exc}")
            result = SpanExportResult.FAILURE
        finally:
            _Captured.local.said = None
        if result is not SpanExportResult.SUCCESS:
            self.failure = said[0] if said else "the collector did not accept them"
            self.on_failure(self.failure)
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


def _exporter_timeout() -> float | None:
    """Our shorter default, unless the user set the standard variable (None: the exporter reads it)."""
    if os.environ.get("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT") or os.environ.get("OTEL_EXPORTER_OTLP_TIMEOUT"):
        return None
    return EXPORT_TIMEOUT_S


def _resource() -> Resource:
    """Who sends: workcrew, unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES say otherwise. Not
    Resource.create(): it runs its detectors on a thread pool, which a CLI process that is exiting (while
    this thread sends its run's spans) refuses."""
    defaults = Resource({"service.name": "workcrew", "telemetry.sdk.language": "python",
                         "telemetry.sdk.name": "opentelemetry", "telemetry.sdk.version": sdk_version})
    return defaults.merge(OTELResourceDetector().detect())


def send(timeline: Timeline, endpoint: str, warn: Callable[[str], None]) -> None:
    """Make the run's spans and send them; returns once they are out or given up on (a blocking call)."""
    exporter = WatchedExporter(OTLPSpanExporter(endpoint=endpoint, timeout=_exporter_timeout()),
                               lambda reason: warn(f"could not send spans to {shown(endpoint)}: {_reason(reason)}"))
    # shutdown_on_exit=False: no atexit hook per run (a language server makes many); shut down below.
    # The queue holds the whole run: spans are made faster than a batch goes out.
    provider = TracerProvider(resource=_resource(), shutdown_on_exit=False)
    provider.add_span_processor(BatchSpanProcessor(
        exporter, max_queue_size=max(2048, len(timeline.agents) + len(timeline.phases) + 1)))
    try:
        _RunSpans(timeline, provider.get_tracer("workcrew")).make()
    finally:
        provider.shutdown()  # the batch thread sends what is queued, then the exporter closes


@dataclass
class _PhaseTotals:
    span: Span
    until: float
    outcomes: dict[str, int] = field(default_factory=dict)
    usage: dict[str, int] = field(default_factory=dict)
    cost_usd: float = 0.0


class _RunSpans:
    def __init__(self, timeline: Timeline, tracer: Tracer) -> None:
        self.timeline = timeline
        self.tracer = tracer
        self.common = {"workcrew.run.id": timeline.run_id}
        # a root of its own: never parented under whatever span the caller's context holds
        self.run = tracer.start_span(
            f"invoke_workflow {KNOWN.redact(timeline.workflow)}".strip(), context=Context(),
            start_time=_ns(timeline.started), attributes={OPERATION: "invoke_workflow", PROVIDER: timeline.provider,
                                                          **self.common})
        self.phases: dict[str, _PhaseTotals] = {}
        for window in timeline.phases.values():
            self._phase(window.title, window.started).until = window.until

    def make(self) -> None:
        for record in self.timeline.agents:
            self._agent(record)
        for phase in self.phases.values():
            phase.span.set_attributes({
                **{f"workcrew.agents.{outcome}": count for outcome, count in phase.outcomes.items()},
                "workcrew.agents.launched": sum(phase.outcomes.values()), **phase.usage, COST: phase.cost_usd,
            })
            phase.span.end(end_time=_ns(phase.until))
        self._end_run()

    def _phase(self, title: str, ts: float) -> _PhaseTotals:
        phase = self.phases.get(title)
        if phase is None:
            label = KNOWN.redact(title)
            span = self.tracer.start_span(f"phase {label}", context=trace.set_span_in_context(self.run),
                                          start_time=_ns(ts), attributes={"workcrew.phase.title": label,
                                                                          **self.common})
            phase = self.phases[title] = _PhaseTotals(span, ts)
        return phase

    def _agent(self, record: AgentRecord) -> None:
        start = record.started_at or record.queued_at
        end = max(record.finished_at or self.timeline.ended, start)
        outcome = record.state  # succeeded, failed, skipped, cached, cancelled or not_started
        phase = self._phase(record.phase, start) if record.phase is not None else None
        label = KNOWN.redact(record.label) if record.label else None
        usage = _usage(record.usage.to_dict())
        attributes: dict[str, Any] = {
            OPERATION: "invoke_agent", AGENT_ID: record.id, PROVIDER: self.timeline.provider,
            MODEL: KNOWN.redact(record.model), **usage, COST: record.cost_usd,
            "workcrew.agent.outcome": outcome, "workcrew.agent.attempts": record.attempts,
            "workcrew.agent.retries": record.retries, "workcrew.agent.turns": record.turns,
            "workcrew.agent.tool_calls": record.tool_calls,
        }
        optional = {AGENT_NAME: label, "workcrew.agent.role": record.role,
                    "workcrew.agent.type": record.agent_type, "workcrew.agent.isolation": record.isolation,
                    "workcrew.agent.error_kind": record.error_kind, "workcrew.phase.title": record.phase,
                    "workcrew.agent.resumed_from": self.timeline.resumed_from if outcome == "cached" else None}
        attributes.update({key: KNOWN.redact(str(value)) for key, value in optional.items() if value})
        if record.started_at is not None:  # how long it waited for a slot
            attributes["workcrew.agent.queued_s"] = round(max(0.0, record.started_at - record.queued_at), 6)
        span = self.tracer.start_span(f"invoke_agent {label or record.id}", start_time=_ns(start),
                                      context=trace.set_span_in_context(phase.span if phase else self.run),
                                      attributes=attributes)
        if outcome == "failed":
            span.set_attribute(ERROR_TYPE, record.error_kind or "error")
            span.set_status(Status(StatusCode.ERROR, _reason(record.error)))
        span.end(end_time=_ns(end))
        if phase is not None:
            phase.until = max(phase.until, end)
            phase.outcomes[outcome] = phase.outcomes.get(outcome, 0) + 1
            for key, value in usage.items():
                phase.usage[key] = phase.usage.get(key, 0) + value
            phase.cost_usd += record.cost_usd

    def _end_run(self) -> None:
        timeline, outcome = self.timeline, self.timeline.outcome
        status = str(outcome.get("status"))
        agents: Mapping[str, Any] = outcome.get("agents") or {}
        usage: Mapping[str, Any] = outcome.get("usage") or {}
        attributes: dict[str, Any] = {
            "workcrew.workflow.name": KNOWN.redact(timeline.workflow), "workcrew.run.status": status,
            **{f"workcrew.agents.{key}": int(agents.get(key) or 0) for key in RUN_COUNTS},
            **_usage(usage), COST: float(usage.get("cost_usd") or 0.0), "workcrew.findings": timeline.findings,
        }
        if agents.get("unfinished"):  # cancelled while queued or running
            attributes["workcrew.agents.unfinished"] = int(agents["unfinished"])
        if timeline.resumed_from is not None:
            attributes["workcrew.run.resumed_from"] = timeline.resumed_from
        self.run.set_attributes(attributes)
        if status in ("failed", "stopped"):
            self.run.set_attribute(ERROR_TYPE, status)
            self.run.set_status(Status(StatusCode.ERROR, _reason(outcome.get("error"))))
        self.run.end(end_time=_ns(timeline.ended))
