"""Resilience: 200 agents through the real SDK against the simulator with injected faults.

10 % of the agents first get a 429 (retry-after 0.2 s), 5 % a 529, 2 % an error event in the middle of
their stream and 1 % a stalled stream (the watchdog aborts it). A further 1 % keep failing with 529
(every attempt) so the failed-with-reason path is exercised too. Every agent must end succeeded or
failed-with-reason, launched == succeeded + failed, and the run must complete.

Prints the counts, the rate-limit throttling the scheduler did, and the makespan against a fault-free
run of the same 200 agents measured in the same process.

    .venv/bin/python bench/faults.py [--agents 200] [--concurrency 16] [--latency-ms 40]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anthropic
import anyio
from workcrew.engine import RunStore, Settings, load_workflow, start
from workcrew.engine.providers.anthropic import AnthropicModel, watched_http_client
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulator import SimulatorThread

SCRIPT = """meta = {"name": "fault-bench", "description": "many agents, injected API faults"}
out = await parallel([agent(f"Task {i}: answer briefly.", label=f"a{i}") for i in range(args["n"])])
return {"launched": out.launched, "succeeded": out.succeeded, "failed": out.failed,
        "reasons": len(out.reasons)}
"""
STALL_TIMEOUT_S = 0.5


def _labels(indices: range) -> str:
    return "^a(" + "|".join(str(i) for i in indices) + ")$"


def fault_rules(agents: int, latency_ms: float) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Deterministic fault assignment by agent index: the same agents fault in every run."""
    shares = [("429", 0.10, {"error": 429, "retry_after": 0.2}),
              ("529", 0.05, {"error": 529}),
              ("mid-stream", 0.02, {"error": 529, "mid_stream": True}),
              ("stall", 0.01, {"stall_s": 30})]
    rules: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    start_index = 0
    for name, share, respond in shares:
        n = max(1, round(agents * share))
        counts[name] = n
        indices = range(start_index, start_index + n)
        start_index += n
        rules.append({"match": {"label": _labels(indices), "call": 1}, "respond": respond,
                      "latency_ms": latency_ms})
    doomed = range(start_index, start_index + max(1, round(agents * 0.01)))
    counts["persistent 529"] = len(doomed)
    rules.insert(0, {"match": {"label": _labels(doomed)}, "respond": {"error": 529, "retry_after": 0.05}})
    rules.append({"respond": {"text": "ok"}, "latency_ms": latency_ms})
    return rules, counts


async def run(rules: list[dict[str, Any]], folder: Path, agents: int, concurrency: int) -> tuple[Any, float, tuple[int, int]]:
    settings = Settings(workspace=folder, state_dir=folder / "state", provider="anthropic",
                        models={"default": "claude-haiku-5-5"}, concurrency=concurrency, api_retries=4,
                        stall_timeout_s=STALL_TIMEOUT_S)
    with SimulatorThread(Scenario.from_data({"rules": rules}), thinking=False) as sim:
        client = AnthropicModel(anthropic.AsyncAnthropic(api_key="bench", base_url=sim.url, max_retries=0,
                                                         http_client=watched_http_client()),
                                stall_timeout_s=STALL_TIMEOUT_S)
        store = RunStore(settings.resolved_state_dir())
        began = time.perf_counter()
        try:
            handle = start(load_workflow("<inline>", source=SCRIPT), {"n": agents}, settings, client=client,
                           store=store)
            result = await handle.result()
            throttles = (handle.state.scheduler.throttle_events, handle.state.scheduler.cuts)
        finally:
            await client.aclose()
        elapsed = time.perf_counter() - began
        rows = store.get_agents(result.run_id)
        store.close()
    unexplained = [r["id"] for r in rows if r["state"] == "failed" and not r["error"]]
    if result.status != "succeeded" or unexplained:
        sys.exit(f"run failed: {result.status} {result.error}; failed without a reason: {unexplained}")
    return result, elapsed, throttles


async def main(agents: int, concurrency: int, latency_ms: float) -> int:
    rules, counts = fault_rules(agents, latency_ms)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "clean").mkdir()
        (Path(tmp) / "faulty").mkdir()
        clean, clean_s, _ = await run([{"respond": {"text": "ok"}, "latency_ms": latency_ms}], Path(tmp) / "clean",
                                      agents, concurrency)
        faulty, faulty_s, throttles = await run(rules, Path(tmp) / "faulty", agents, concurrency)
    out = faulty.result
    print(f"{agents} agents, concurrency {concurrency}, {latency_ms:g} ms model latency")
    print("injected: " + ", ".join(f"{name} {n}" for name, n in counts.items()))
    print(f"launched {out['launched']} = succeeded {out['succeeded']} + failed {out['failed']}"
          f"  (failures with a recorded reason: {out['reasons']}; by kind: {faulty.failure_reasons})")
    print(f"rate-limit or overload refusals {throttles[0]}; the scheduler halved its cap {throttles[1]} times "
          "(once per burst)")
    print(f"makespan: fault-free {clean_s:.2f} s, with faults {faulty_s:.2f} s, ratio {faulty_s / clean_s:.2f}")
    ok = (out["launched"] == out["succeeded"] + out["failed"] == agents and out["failed"] == out["reasons"]
          and out["failed"] == counts["persistent 529"] and clean.result["succeeded"] == agents)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency-ms", type=float, default=40)
    options = parser.parse_args()
    sys.exit(anyio.run(main, options.agents, options.concurrency, options.latency_ms))
