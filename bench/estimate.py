"""Estimate accuracy: for every example and built-in workflow, estimate it, run it, compare.

For each workflow with a scenario (``examples/<name>.scenario.json``; built-ins: the fixture workspace,
args and scenario under ``tests/fixtures/builtins/<name>/``) this prints the estimate's expected tokens and
USD next to what the run really spent, the relative error |expected − actual| / actual, and whether the
actual fell inside low..high. Two providers are measured in the same run:

* ``anthropic`` — the real ``anthropic`` SDK over HTTP against the Messages-API simulator on loopback
  (streaming, prompt-cache accounting, the provider's own request layout), answering from the scenario;
* ``simulated`` — the in-process simulated model.

Targets: median error ≤ 25 %, actual within low..high in ≥ 90 % of cases.
Run: .venv/bin/python bench/estimate.py
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from workcrew.engine import RunStore, Settings, Workflow, load_workflow, start
from workcrew.engine.cost.estimate import estimate
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulated import SimulatedModel
from workcrew.engine.workflows.discovery import builtin_dir, resolve

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "builtins"


@dataclass
class Case:
    name: str
    workflow: Workflow
    workspace: Path
    args: Any
    scenario: Path


def cases() -> list[Case]:
    found: list[Case] = []
    for script in sorted((ROOT / "examples").glob("*.py")):
        scenario = script.with_name(script.stem + ".scenario.json")
        if scenario.is_file():
            found.append(Case(f"example {script.stem}", load_workflow(script), ROOT / "examples" / "workspace",
                              None, scenario))
    builtins = sorted(p.stem for p in builtin_dir().glob("*.py")) if builtin_dir().is_dir() else []
    if not builtins:
        print("note: no built-in workflows found in engine/workflows/builtin yet; skipped")
    for stem in builtins:
        folder = next((f for f in (FIXTURES / stem, FIXTURES / stem.replace("_", "-")) if f.is_dir()), None)
        if folder is None or not (folder / "scenario.json").is_file():
            print(f"note: built-in {stem!r} has no fixture under tests/fixtures/builtins/; skipped")
            continue
        workflow = resolve(folder.name, folder / "workspace", home=Path(tempfile.gettempdir()) / "no-home")
        args = json.loads((folder / "args.json").read_text()) if (folder / "args.json").is_file() else None
        found.append(Case(f"builtin {folder.name}", workflow, folder / "workspace", args, folder / "scenario.json"))
    return found


def total_tokens(usage: dict[str, Any]) -> int:
    return sum(int(v) for k, v in usage.items() if k.endswith("tokens"))


async def measure(case: Case, provider: str, scratch: Path) -> dict[str, Any]:
    workspace = scratch / "ws"
    shutil.copytree(case.workspace, workspace, ignore=shutil.ignore_patterns(".workcrew"))
    settings = Settings(workspace=workspace, state_dir=scratch / "state", provider=provider,  # type: ignore[arg-type]
                        scenario=case.scenario)
    simulator = None
    if provider == "anthropic":
        from workcrew.engine.providers.anthropic import AnthropicModel
        from workcrew.engine.providers.simulator import SimulatorThread

        simulator = SimulatorThread(Scenario.load(case.scenario)).start()
        settings = settings.model_copy(update={"base_url": simulator.url})
        client: Any = AnthropicModel.from_settings(settings, env={"ANTHROPIC_API_KEY": "sk-ant-bench-not-a-key"})
    else:
        client = SimulatedModel(Scenario.load(case.scenario))
    store = RunStore(settings.resolved_state_dir())
    try:
        began = time.perf_counter()
        predicted = await estimate(case.workflow, case.args, None, settings)
        estimate_s = time.perf_counter() - began
        handle = start(case.workflow, case.args, settings, client=client, store=store, estimate=predicted.to_json())
        outcome = await handle.result()
    finally:
        await client.aclose()
        store.close()
        if simulator is not None:
            simulator.stop()
    tokens = total_tokens(outcome.usage)
    usd = float(outcome.usage["cost_usd"])
    return {
        "case": case.name, "provider": provider, "status": outcome.status, "estimate_s": estimate_s,
        "agents": (predicted.agents.expected, outcome.agents.get("launched", 0)),
        "tokens": (predicted.total_tokens, tokens), "usd": (predicted.cost_usd, usd),
        "token_error": abs(predicted.total_tokens.expected - tokens) / tokens if tokens else 0.0,
        "usd_error": abs(predicted.cost_usd.expected - usd) / usd if usd else 0.0,
        "token_in": predicted.total_tokens.contains(tokens), "usd_in": predicted.cost_usd.contains(usd, 1e-6),
    }


async def calibration(case: Case, scratch: Path) -> tuple[float, float, float, float]:
    """Token and USD errors of real-model priors before and after one calibrating run (simulated model)."""
    workspace = scratch / "ws"
    shutil.copytree(case.workspace, workspace, ignore=shutil.ignore_patterns(".workcrew"))
    settings = Settings(workspace=workspace, state_dir=scratch / "state", provider="simulated", scenario=case.scenario)
    store = RunStore(settings.resolved_state_dir())
    try:
        before = await estimate(case.workflow, case.args, None, settings, store=store, basis="priors")
        handle = start(case.workflow, case.args, settings, client=SimulatedModel(Scenario.load(case.scenario)),
                       store=store, estimate=before.to_json())
        outcome = await handle.result()
        await anyio.to_thread.run_sync(store.flush)
        after = await estimate(case.workflow, case.args, None, settings, store=store, basis="priors")
    finally:
        store.close()
    tokens, usd = total_tokens(outcome.usage), float(outcome.usage["cost_usd"])

    def err(predicted: float, actual: float) -> float:
        return abs(predicted - actual) / actual if actual else 0.0

    return (err(before.total_tokens.expected, tokens), err(after.total_tokens.expected, tokens),
            err(before.cost_usd.expected, usd), err(after.cost_usd.expected, usd))


def main() -> int:
    rows: list[dict[str, Any]] = []
    providers = ["anthropic", "simulated"]
    try:
        import workcrew.engine.providers.simulator  # noqa: F401
    except ImportError:
        print("note: the Messages-API simulator is not available; measuring the in-process simulated model only")
        providers = ["simulated"]
    for case in cases():
        for provider in providers:
            with tempfile.TemporaryDirectory(prefix="wc-bench-") as scratch:
                rows.append(anyio.run(measure, case, provider, Path(scratch)))
    header = (f"{'workflow':<24} {'provider':<10} {'agents est/act':>14} {'tokens expected (low-high)':>30} "
              f"{'actual':>8} {'err':>6} {'in':>3} {'USD expected':>12} {'actual':>10} {'err':>6} {'in':>3} "
              f"{'est. s':>6}")
    print(header)
    print("-" * len(header))
    for r in rows:
        est_tokens, act_tokens = r["tokens"]
        est_usd, act_usd = r["usd"]
        print(f"{r['case']:<24} {r['provider']:<10} {r['agents'][0]:>6.0f}/{r['agents'][1]:<7} "
              f"{est_tokens.expected:>10,.0f} ({est_tokens.low:,.0f}-{est_tokens.high:,.0f})".ljust(77)
              + f"{act_tokens:>8,} {r['token_error']:>6.1%} {'yes' if r['token_in'] else 'NO':>3} "
              f"{est_usd.expected:>12.6f} {act_usd:>10.6f} {r['usd_error']:>6.1%} {'yes' if r['usd_in'] else 'NO':>3} "
              f"{r['estimate_s']:>6.2f}" + ("" if r["status"] == "succeeded" else f"  (run {r['status']})"))
    errors = [r["token_error"] for r in rows] + [r["usd_error"] for r in rows]
    inside = [r["token_in"] for r in rows] + [r["usd_in"] for r in rows]
    median = statistics.median(errors) if errors else 0.0
    share = sum(inside) / len(inside) if inside else 0.0
    print(f"\ncases: {len(rows)} ({len(rows) // max(1, len(providers))} workflows x {len(providers)} providers)")
    print(f"median |expected - actual| / actual (tokens and USD): {median:.1%}   (target <= 25%)")
    print(f"actual within low..high: {share:.0%} of {len(inside)} figures   (target >= 90%)")
    print("\nCalibration: priors for a real model (which over-predict the simulator's short answers), before and")
    print("after one finished run of the same workflow (in-process simulated model):")
    print(f"{'workflow':<24} {'tokens err before':>17} {'after':>8} {'USD err before':>15} {'after':>8}")
    befores, afters = [], []
    for case in cases():
        with tempfile.TemporaryDirectory(prefix="wc-bench-") as scratch:
            tb, ta, ub, ua = anyio.run(calibration, case, Path(scratch))
        befores += [tb, ub]
        afters += [ta, ua]
        print(f"{case.name:<24} {tb:>17.1%} {ta:>8.1%} {ub:>15.1%} {ua:>8.1%}")
    if befores:
        print(f"median error before calibration: {statistics.median(befores):.1%}, "
              f"after one run: {statistics.median(afters):.1%}")
    return 0 if median <= 0.25 and share >= 0.9 else 1


if __name__ == "__main__":
    sys.exit(main())
