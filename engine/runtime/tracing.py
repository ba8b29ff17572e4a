"""Traces: every run, phase and agent as an OpenTelemetry span, sent to an OTLP/HTTP collector when the user
names one; nothing is set up otherwise (no OpenTelemetry import, no thread, no listener).

Where the collector is, first match wins: ``otlp_endpoint`` (workcrew.toml, ``WORKCREW_OTLP_ENDPOINT``),
then the standard ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` (used as given) and ``OTEL_EXPORTER_OTLP_ENDPOINT``
(``/v1/traces`` appended); ``OTEL_SDK_DISABLED=true`` turns it all off.

The run store stays the record of a run; spans are a view of it. On the event loop a listener only notes
what the records do not keep (when the run and each phase started, the workflow's name, a few fields per
event); when the run has finished, a worker thread of its own loads OpenTelemetry, makes the spans from
those notes and the agents' records (``spans.py``) and sends them, so neither the loop nor the run's result
waits on the SDK or the collector. A collector that fails costs the run one warning line in its logs.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..redaction import redact
from .events import Event

if TYPE_CHECKING:
    from ..settings import Settings
    from .state import AgentRecord, RunState

TRACES_PATH = "/v1/traces"

_deliveries: list[threading.Thread] = []  # runs' spans on their way to the collector
_deliveries_lock = threading.Lock()


def traces_endpoint(settings: Settings, environ: Mapping[str, str] | None = None) -> str | None:
    """The URL spans are POSTed to, or None when no collector is configured."""
    environ = os.environ if environ is None else environ
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    if settings.otlp_endpoint and settings.otlp_endpoint.strip():
        return _with_traces_path(settings.otlp_endpoint.strip())
    signal = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
    if signal:
        return signal  # the OTLP spec: a signal's own endpoint is the whole URL
    base = environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    if base:
        return base.rstrip("/") + TRACES_PATH
    return None


def _with_traces_path(url: str) -> str:
    """``otlp_endpoint`` may name the collector (``http://host:4318``) or its traces URL: both work."""
    if urlsplit(url).path.rstrip("/").endswith(TRACES_PATH):
        return url
    return url.rstrip("/") + TRACES_PATH


@dataclass
class PhaseWindow:
    title: str
    started: float
    until: float  # when the next phase started (or the run ended); its agents' ends extend it


@dataclass
class Timeline:
    """What the spans are made of beyond the agents' records, noted on the event loop as the run goes."""

    run_id: str
    provider: str
    workflow: str = ""
    started: float = 0.0
    phases: dict[str, PhaseWindow] = field(default_factory=dict)  # in the order they started
    current_phase: str | None = None
    ended: float = 0.0
    outcome: dict[str, Any] = field(default_factory=dict)  # run_finished's data: status, error, agents, usage
    agents: list[AgentRecord] = field(default_factory=list)  # every agent, final, as the run ended
    findings: int = 0
    resumed_from: str | None = None

    def phase(self, title: str, ts: float) -> PhaseWindow:
        window = self.phases.get(title)
        if window is None:
            window = self.phases[title] = PhaseWindow(title, ts, ts)
        return window


class RunTracer:
    """Listens to one run's events on the event loop (a dict lookup for most: this sits on every event's
    path) and, when the run has finished, sends its spans from a thread of their own."""

    def __init__(self, state: RunState, endpoint: str) -> None:
        self.state = state
        self.endpoint = endpoint
        self.loop = asyncio.get_running_loop()
        self.timeline = Timeline(state.run_id, state.settings.provider, started=state.started)
        self.handlers = {"run_started": self._run_started, "phase_started": self._phase_started,
                         "agent_queued": self._agent_seen, "agent_cached": self._agent_seen,
                         "run_finished": self._run_finished}
        self._warned = False  # the run's one warning line is said (from any thread: under the lock)
        self._warn_lock = threading.Lock()
        state.bus.listen(self._on_event)

    def _on_event(self, event: Event) -> None:
        handler = self.handlers.get(event.type)
        if handler is None:
            return
        try:
            handler(event)
        except Exception as exc:  # a bug here must never fail the run: its tracing stops, and says so
            self.handlers = {}
            self.warn(f"stopped tracing this run: {type(exc).__name__}: {redact(str(exc))}")

    def _run_started(self, event: Event) -> None:
        self.timeline.workflow = str(event.data.get("workflow") or "")
        self.timeline.started = event.ts

    def _phase_started(self, event: Event) -> None:
        timeline = self.timeline
        title = str(event.data.get("title"))
        if timeline.current_phase is not None and timeline.current_phase != title:
            previous = timeline.phases[timeline.current_phase]
            previous.until = max(previous.until, event.ts)
        timeline.phase(title, event.ts)
        timeline.current_phase = title

    def _agent_seen(self, event: Event) -> None:
        phase = event.data["agent"].get("phase")
        if phase is not None:  # a group no phase() started: an agent's own phase=, a child workflow
            self.timeline.phase(str(phase), event.ts)

    def _run_finished(self, event: Event) -> None:
        timeline, state = self.timeline, self.state
        timeline.ended = event.ts
        if timeline.current_phase is not None:
            current = timeline.phases[timeline.current_phase]
            current.until = max(current.until, event.ts)
        timeline.outcome = dict(event.data)
        timeline.agents = list(state.agents.values())
        timeline.findings = len(state.findings)
        timeline.resumed_from = state.resume.run_id if state.resume is not None else None
        # sent once the run's task is done: making the spans takes CPU, and the run's result comes first
        task = asyncio.current_task()  # the run's own: run_finished is told from inside it
        if task is None:
            self._start_delivery()
        else:
            task.add_done_callback(lambda _: self._start_delivery())

    def _start_delivery(self) -> None:
        # not a daemon: a CLI process sends its spans before it exits (at most the exporter's timeout later)
        thread = threading.Thread(target=self._deliver, name=f"workcrew-traces-{self.state.run_id}")
        thread.start()
        with _deliveries_lock:
            _deliveries[:] = [other for other in _deliveries if other.is_alive()]
            _deliveries.append(thread)

    def _deliver(self) -> None:
        try:
            from .spans import send  # the SDK and the exporter load here, off the event loop

            send(self.timeline, self.endpoint, self.warn)
        except Exception as exc:  # a broken install or a bad setting: the run is done and recorded anyway
            self.warn(f"not sent: {type(exc).__name__}: {redact(str(exc))}")

    def warn(self, message: str) -> None:
        """One warning line in the run's logs, from whichever thread: on the event loop, which owns the
        run's state; once the loop is closed (a CLI run that has returned), on the process's log instead."""
        with self._warn_lock:
            if self._warned:
                return
            self._warned = True
        line = f"warning: traces: {message}"
        try:
            self.loop.call_soon_threadsafe(self.state.log, line)
        except RuntimeError:  # the loop is closed: the run's logs were written already
            logging.getLogger(__name__).warning("%s (run %s)", line, self.state.run_id)


def trace_run(state: RunState) -> None:
    """Send ``state``'s run as spans when a collector is configured (call before the run's first event)."""
    endpoint = traces_endpoint(state.settings)
    if endpoint is not None:
        RunTracer(state, endpoint)


def wait_for_traces(timeout: float | None = None) -> bool:
    """Wait until every finished run's spans were sent or given up on (blocking: call it off the event
    loop). True when none is still on its way."""
    deadline = None if timeout is None else time.monotonic() + timeout
    with _deliveries_lock:
        pending = list(_deliveries)
    for thread in pending:
        thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
    return not any(thread.is_alive() for thread in pending)
