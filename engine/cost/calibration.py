"""Calibration: finished runs teach later estimates of the same workflow their real per-role figures.

Every run started with an estimate keeps it (``runs.estimate``) next to its actual usage and per-agent
records. When the same workflow is estimated again on the same provider, the latest succeeded runs
give, per role, the ratio of measured tokens per agent to the estimate's uncalibrated figure and the
measured seconds per agent; the estimator multiplies its per-agent figures by those ratios and uses
those seconds instead of its latency priors.
"""

from __future__ import annotations

import statistics
from typing import Any

from .figures import ROLE_PRIORS, Calibrated, Range

RUNS_USED = 5


def _role(value: Any) -> str:
    return value if isinstance(value, str) and value in ROLE_PRIORS else "other"


def actual_by_role(agents: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per role: agents, input and output tokens per agent, seconds per agent, from succeeded agents."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for agent in agents:
        if agent.get("state") == "succeeded":
            groups.setdefault(_role(agent.get("role")), []).append(agent)
    out: dict[str, dict[str, float]] = {}
    for role, members in groups.items():
        n = len(members)
        tokens_in = sum(int(a.get(k) or 0) for a in members
                        for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"))
        tokens_out = sum(int(a.get("output_tokens") or 0) for a in members)
        seconds = [float(a["finished_at"]) - float(a["started_at"]) for a in members
                   if a.get("finished_at") and a.get("started_at")]
        out[role] = {"agents": n, "input_per_agent": tokens_in / n, "output_per_agent": tokens_out / n,
                     "seconds_per_agent": statistics.fmean(seconds) if seconds else 0.0}
    return out


def run_ratios(run: dict[str, Any], agents: list[dict[str, Any]]) -> dict[str, Calibrated]:
    """Per role: measured / estimated-before-calibration, for one finished run."""
    estimate = run.get("estimate")
    if not isinstance(estimate, dict):
        return {}
    base = {str(r.get("role")): r for r in estimate.get("by_role", []) if isinstance(r, dict)}
    out: dict[str, Calibrated] = {}
    for role, actual in actual_by_role(agents).items():
        figures = base.get(role)
        if figures is None:
            continue
        base_in = float(figures.get("base_input_per_agent") or 0)
        base_out = float(figures.get("base_output_per_agent") or 0)
        out[role] = Calibrated(
            input_ratio=actual["input_per_agent"] / base_in if base_in > 0 else 1.0,
            output_ratio=actual["output_per_agent"] / base_out if base_out > 0 else 1.0,
            seconds_per_agent=actual["seconds_per_agent"] or None,
        )
    return out


def load_calibration(store: Any, workflow: str, provider: str, basis: str) -> tuple[dict[str, Calibrated], int]:
    """(per-role calibration, runs it came from) for ``workflow`` on ``provider``; empty when never run."""
    per_role: dict[str, list[Calibrated]] = {}
    used = 0
    for run in store.runs_with_estimate(workflow, provider, RUNS_USED):
        estimate = run.get("estimate")
        if not isinstance(estimate, dict) or estimate.get("basis") != basis:
            continue
        ratios = run_ratios(run, store.get_agents(run["id"]))
        if ratios:
            used += 1
        for role, value in ratios.items():
            per_role.setdefault(role, []).append(value)
    combined: dict[str, Calibrated] = {}
    for role, values in per_role.items():
        seconds = [v.seconds_per_agent for v in values if v.seconds_per_agent is not None]
        # the median resists one odd run (a retry storm, a cancelled agent)
        combined[role] = Calibrated(
            input_ratio=statistics.median(v.input_ratio for v in values),
            output_ratio=statistics.median(v.output_ratio for v in values),
            seconds_per_agent=statistics.median(seconds) if seconds else None,
        )
    return combined, used


def estimate_vs_actual(run: dict[str, Any]) -> dict[str, Any] | None:
    """A stored run's estimate next to what it really spent; None when it was started without an estimate."""
    estimate = run.get("estimate")
    if not isinstance(estimate, dict) or "cost_usd" not in estimate:
        return None
    tokens = Range(**estimate.get("total_tokens", {"low": 0, "expected": 0, "high": 0}))
    usd = Range(**estimate["cost_usd"])
    agents = Range(**estimate.get("agents", {"low": 0, "expected": 0, "high": 0}))
    actual_tokens = sum(int(run.get(k) or 0) for k in ("input_tokens", "output_tokens",
                                                         "cache_creation_input_tokens", "cache_read_input_tokens"))
    actual_usd = float(run.get("cost_usd") or 0.0)
    actual_agents = int(run.get("launched") or 0)

    def error(expected: float, actual: float) -> float | None:
        return abs(expected - actual) / actual if actual else None

    return {
        "tokens": {"estimate": tokens.to_json(integer=True), "actual": actual_tokens,
                   "error": error(tokens.expected, actual_tokens), "in_range": tokens.contains(actual_tokens)},
        "cost_usd": {"estimate": usd.to_json(), "actual": round(actual_usd, 6),
                     "error": error(usd.expected, actual_usd), "in_range": usd.contains(actual_usd, 1e-6)},
        "agents": {"estimate": agents.to_json(integer=True), "actual": actual_agents,
                   "in_range": agents.contains(actual_agents)},
    }
