"""Prompt caching across a fan-out: 20 agents sharing a 50,000-token context.

Each variant is a real workflow run (engine → AnthropicModel → anthropic SDK → HTTP → the Messages-API
simulator, which bills cache writes and reads like the API). Prints billed input-token-equivalents
(uncached input × 1, cache writes × 1.25, cache reads × 0.1) for:

* naive     — no cache_control at all
* cold      — breakpoints but no gate: all agents start cold and each writes the prefix (reference §2.5)
* Workcrew  — breakpoints plus the per-prefix gate (the first agent writes, the others read)
* optimum   — one write of the shared prefix + 19 reads, plus each agent's own uncached task tokens

Targets: Workcrew / optimum ≤ 1.10 and naive / Workcrew ≥ 5.

    .venv/bin/python bench/cache.py [--agents 20] [--context-tokens 50000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

import anthropic
import anyio
from workcrew.engine import RunStore, Settings, load_workflow, start
from workcrew.engine.agents.loop import SYSTEM_PROMPT
from workcrew.engine.agents.tools import TOOL_DEFINITIONS
from workcrew.engine.providers.anthropic import AnthropicModel, watched_http_client
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulator import SimulatorThread

SCRIPT = """meta = {"name": "cache-bench", "description": "agents sharing one large context"}
context = args["context"]
out = await parallel([agent(context + f"\\n\\nTask {i}: list the three most important facts for part {i}.",
                            label=f"part {i}") for i in range(args["n"])])
return out.succeeded
"""
WRITE, READ = 1.25, 0.1


def billed(usage: dict[str, Any]) -> float:
    return (usage["input_tokens"] + WRITE * usage["cache_creation_input_tokens"]
            + READ * usage["cache_read_input_tokens"])


def make_context(tokens: int) -> str:
    line = "Design note {:05d}: the scheduler hands out agent slots; budgets reserve worst cases first.\n"
    text, n = "", 0
    while len(text) < tokens * 4:
        text += line.format(n)
        n += 1
    return text[: tokens * 4]


async def run_variant(sim: SimulatorThread, folder: Path, context: str, agents: int, *, caching: bool,
                      gate: bool) -> dict[str, Any]:
    settings = Settings(workspace=folder, state_dir=folder / "state", provider="anthropic", base_url=sim.url,
                        models={"default": "claude-sonnet-5-5"})
    client = AnthropicModel(anthropic.AsyncAnthropic(api_key="bench", base_url=sim.url, max_retries=0,
                                                     http_client=watched_http_client()),
                            caching=caching, gate=gate)
    store = RunStore(settings.resolved_state_dir())
    try:
        handle = start(load_workflow("<inline>", source=SCRIPT), {"context": context, "n": agents}, settings,
                       client=client, store=store)
        result = await handle.result()
    finally:
        await client.aclose()
        store.close()
    if result.status != "succeeded" or result.result != agents:
        sys.exit(f"benchmark run failed: {result.status} {result.error} {result.result}")
    return result.usage


async def shared_prefix_tokens(sim: SimulatorThread, context: str) -> int:
    """Tokens of tools → system → the shared context, counted by the simulator's count_tokens."""
    client = anthropic.AsyncAnthropic(api_key="bench", base_url=sim.url, max_retries=0)
    try:
        counted = await client.messages.count_tokens(
            model="claude-sonnet-5-5", tools=TOOL_DEFINITIONS,  # type: ignore[arg-type]
            system=[{"type": "text", "text": SYSTEM_PROMPT}],
            messages=[{"role": "user", "content": context + "\n\n"}])
    finally:
        await client.close()
    return int(counted.input_tokens)


async def main(agents: int, context_tokens: int) -> int:
    context = make_context(context_tokens)
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for name, caching, gate in (("naive", False, False), ("cold", True, False), ("workcrew", True, True)):
            folder = Path(tmp) / name
            folder.mkdir()
            # a fresh simulator per variant: nothing cached from the previous one
            with SimulatorThread(Scenario.from_data({"rules": [{"respond": {"text": "ok"}, "latency_ms": 30}]}),
                                 thinking=False) as sim:
                results[name] = await run_variant(sim, folder, context, agents, caching=caching, gate=gate)
                prefix = await shared_prefix_tokens(sim, context)
    naive_total = results["naive"]["input_tokens"]
    own = naive_total - agents * prefix  # per-agent task tokens, never shareable
    optimum = WRITE * prefix + (agents - 1) * READ * prefix + own
    naive, cold, workcrew = billed(results["naive"]), billed(results["cold"]), billed(results["workcrew"])
    print(f"{agents} agents sharing a {context_tokens:,}-token context (shared prefix incl. tools and system: "
          f"{prefix:,} tokens)")
    print("billed input-token-equivalents (input x1, cache write x1.25, cache read x0.1):")
    print(f"  naive (no caching)         {naive:>12,.0f}")
    print(f"  cold parallel (no gate)    {cold:>12,.0f}")
    print(f"  Workcrew                   {workcrew:>12,.0f}   "
          f"(writes {results['workcrew']['cache_creation_input_tokens']:,}, "
          f"reads {results['workcrew']['cache_read_input_tokens']:,}, "
          f"uncached {results['workcrew']['input_tokens']:,})")
    print(f"  optimum (1 write + {agents - 1} reads) {optimum:>12,.0f}")
    ratio_opt, ratio_naive = workcrew / optimum, naive / workcrew
    ok = ratio_opt <= 1.10 and ratio_naive >= 5
    print(f"Workcrew / optimum = {ratio_opt:.3f} (target <= 1.10)")
    print(f"naive / Workcrew   = {ratio_naive:.2f} (target >= 5)")
    print(f"cold / Workcrew    = {cold / workcrew:.2f}")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--context-tokens", type=int, default=50_000)
    options = parser.parse_args()
    sys.exit(anyio.run(main, options.agents, options.context_tokens))
