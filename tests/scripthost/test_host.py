"""Scripts that crash, freeze or flood their host process: that run fails with a plain reason, nothing else does.

Each case is a real script run through the engine (the script host child, its confinement and the
parent's limits). After each one the engine answers: a well-behaved run started beside it finishes, and
the parent's memory stays bounded.
"""

from __future__ import annotations

import asyncio
import resource
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from workcrew.engine import RunResult, RunStore, Settings, load_workflow, start
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulated import SimulatedModel

PY_META = 'meta = {"name": "t", "description": "test workflow"}\n'
JS_META = "export const meta = {name: 't', description: 'test workflow'}\n"
FAST = {"sync_slice_s": 1.0, "script_cpu_s": 2.0}  # the limits, scaled down so the suite stays quick


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / (1 << 20)


async def run_source(settings: Settings, store: RunStore, folder: Path, source: str, suffix: str,
                     **overrides: Any) -> RunResult:
    path = folder / f"wf{suffix}"
    path.write_text(source)
    workflow = load_workflow(path)
    assert not workflow.problems, workflow.problems
    client = SimulatedModel(Scenario.from_data({"rules": []}))
    handle = start(workflow, None, settings.model_copy(update={**FAST, **overrides}), client=client, store=store)
    return await asyncio.wait_for(handle.result(), 60)


async def beside_a_steady_run(settings: Settings, store: RunStore, tmp_path: Path, source: str,
                              suffix: str, **overrides: Any) -> RunResult:
    """Run ``source`` while a steady run (ten sequential agents) goes on beside it on the same loop."""
    steady_folder, bad_folder = tmp_path / "steady", tmp_path / "bad"
    steady_folder.mkdir()
    bad_folder.mkdir()
    steady = run_source(settings, store, steady_folder,
                        PY_META + "out = []\nfor i in range(10):\n    out.append(await agent(f'step {i}', label='s'))\n"
                        "return len(out)\n", ".py")
    bad = run_source(settings, store, bad_folder, source, suffix, **overrides)
    before = rss_mb()
    steady_result, bad_result = await asyncio.gather(steady, bad)
    assert steady_result.status == "succeeded" and steady_result.result == 10, steady_result.error
    assert rss_mb() - before < 200, "the engine's memory grew with what the script did"
    # however it was stopped: a plain reason, never an engine traceback
    assert bad_result.status == "failed" and bad_result.error and "Traceback" not in bad_result.error
    return bad_result


FREEZES = {
    "endless C iterator": ("import itertools\nreturn any(itertools.repeat(0, 10 ** 15))\n", ".py",
                           "s of CPU without yielding"),
    "huge lcm": ("import math\nreturn math.lcm(*range(1, 10 ** 6))\n", ".py", "without yielding"),
    "big-integer power": ("return pow(3, 10 ** 8, 7 ** 10 ** 6) > 0\n", ".py", ""),  # refused by the sandbox
    "text wrap of megabytes": ("import textwrap\nreturn len(textwrap.wrap('word ' * 2_000_000, 7))\n", ".py",
                               "without yielding"),
    "js busy loop": ("let n = 0\nwhile (true) n++\n", ".js", "without awaiting"),
    "js endless promise jobs": ("const spin = () => Promise.resolve().then(spin)\nspin()\n"
                                "await new Promise(() => {})\n", ".js", "without"),
    "js huge bigint": ("let x = 7n ** 5000000n\nreturn String(x).length\n", ".js", ""),  # QuickJS refuses it
    "js bigint multiplications": ("let x = 3n ** 300000n\nfor (let i = 0; i < 200; i++) x = x * x % (7n ** 400000n)\n"
                                  "return String(x).length\n", ".js", ""),
    "js huge sort": ("const a = Array.from({length: 3000000}, (_, i) => (i * 7919) % 3000017)\n"
                     "for (let k = 0; k < 50; k++) a.sort((x, y) => x - y)\nreturn a.length\n", ".js", "without"),
}


@pytest.mark.parametrize("case", list(FREEZES), ids=list(FREEZES))
async def test_a_script_that_holds_the_cpu_is_stopped_and_the_engine_carries_on(
        case: str, settings: Settings, store: RunStore, tmp_path: Path) -> None:
    body, suffix, reason = FREEZES[case]
    started = time.monotonic()
    result = await beside_a_steady_run(settings, store, tmp_path, (PY_META if suffix == ".py" else JS_META) + body,
                                       suffix)
    assert result.status == "failed"
    assert reason in (result.error or ""), result.error
    assert time.monotonic() - started < 30


CRASHES = {
    "segfault in a C iterator chain": (
        "it = iter([1])\nfor i in range(10 ** 6):\n    it = map(abs, it)\nreturn next(it)\n", ".py",
        "the script crashed (signal 11: SIGSEGV)", {"sync_slice_s": 20.0}),
    "gigabytes in one call": ('return len("a".ljust(3 * 10 ** 9))\n', ".py",
                              "the script used more than 1 GiB of memory (the limit per script)", {}),
    "gigabytes of list": ("return len([0] * (400 * 10 ** 6))\n", ".py", "over the", {}),
    "gigabytes of dict": ("d = {}\nfor i in range(10 ** 9):\n    d[i] = str(i) * 50\n", ".py", "", {"sync_slice_s": 30.0}),
    "js out of memory": ("const hoard = []\nwhile (true) hoard.push('x'.repeat(1 << 20) + hoard.length)\n", ".js",
                         "out of memory", {}),
}


@pytest.mark.parametrize("case", list(CRASHES), ids=list(CRASHES))
async def test_a_script_that_crashes_or_exhausts_memory_fails_with_a_plain_reason(
        case: str, settings: Settings, store: RunStore, tmp_path: Path) -> None:
    body, suffix, reason, overrides = CRASHES[case]
    result = await beside_a_steady_run(settings, store, tmp_path, (PY_META if suffix == ".py" else JS_META) + body,
                                       suffix, **overrides)
    assert result.status == "failed"
    assert reason in (result.error or ""), result.error


FLOODS = {
    "python log flood": ("for i in range(10 ** 7):\n    log('x' * 100)\n", ".py", "lines (the limit per run)", {}),
    "python one huge log line": ("log('x' * 3_000_000)\n", ".py", "characters; the limit is", {}),
    "python log volume": ("for i in range(19_000):\n    log('x' * 10_000)\n", ".py", "characters (the limit per run)",
                          {"sync_slice_s": 20.0}),
    "js log flood": ("for (let i = 0; i < 1e5; i++) { log('spam ' + i); if (i % 1000 === 0) await null }\n", ".js",
                     "", {}),
    "js log flood in one stretch": ("for (let i = 0; i < 1e7; i++) log('spam ' + i)\n", ".js", "", {}),
    "js console flood": ("while (true) console.log('spam'.repeat(100))\n", ".js", "", {}),
    "huge result": ("return ['x' * 1_000_000] * 80\n", ".py", "the limit is 64 MiB", {}),
    "js huge result": ("return Array.from({length: 70}, () => 'y'.repeat(1 << 20))\n", ".js", "the limit is 64 MiB", {}),
    "too many pending calls": ("for (let i = 0; i < 25000; i++) setTimeout(() => {}, 1e9)\n"
                               "await new Promise(r => setTimeout(r, 1e9))\n", ".js", "waiting for an answer",
                               {"sync_slice_s": 20.0}),
}


@pytest.mark.parametrize("case", list(FLOODS), ids=list(FLOODS))
async def test_what_a_script_sends_is_capped(case: str, settings: Settings, store: RunStore, tmp_path: Path) -> None:
    body, suffix, reason, overrides = FLOODS[case]
    result = await beside_a_steady_run(settings, store, tmp_path, (PY_META if suffix == ".py" else JS_META) + body,
                                       suffix, **overrides)
    assert result.status == "failed"
    assert reason in (result.error or ""), result.error
    store.flush()
    assert len(store.get_logs(result.run_id)) <= 20_001  # the store holds no more than the cap


async def test_code_pydantic_evaluates_runs_only_inside_the_confined_host(
        settings: Settings, store: RunStore, tmp_path: Path) -> None:
    marker = tmp_path / "outside" / "pwned"
    marker.parent.mkdir()
    # the static rule refuses NamedTuple(...) by name; an alias gets past it, and pydantic then evaluates the
    # text with real builtins: only the host's confinement stands in the way
    body = (
        "import typing\nfrom pydantic import BaseModel\nNT = typing.NamedTuple\n"
        f"N = NT('N', [('x', \"__import__('os').system('touch {marker}') or int\")])\n"
        "class M(BaseModel):\n    n: N\n"
        "return M(n=(1,)).n.x\n"
    )
    path = tmp_path / "wf.py"
    path.write_text(PY_META + body)
    workflow = load_workflow(path)
    assert workflow.problems == []
    client = SimulatedModel(Scenario.from_data({"rules": []}))
    result = await start(workflow, None, settings, client=client, store=store).result()
    assert not marker.exists()
    assert result.status == "failed"  # os.system could not start a shell, and pydantic chokes on its exit code


async def test_the_host_child_has_no_api_key_even_when_the_parent_has_one(
        settings: Settings, store: RunStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-host-canary-123")
    # the script cannot import os, so it asks the one thing it can: what the sandbox lets it see of itself
    result = await run_source(settings, store, tmp_path, PY_META + "return str(args)\n", ".py")
    assert result.status == "succeeded"
    assert "sk-ant-host-canary" not in str(result.to_json())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux /proc")
async def test_a_killed_host_fails_only_its_run(settings: Settings, store: RunStore, tmp_path: Path) -> None:
    import os
    import signal

    from workcrew.engine.runtime.scripthost import spawn

    path = tmp_path / "wf.js"
    path.write_text(JS_META + "await new Promise(r => setTimeout(r, 60000))\n")
    workflow = load_workflow(path)
    handle = start(workflow, None, settings, client=SimulatedModel(Scenario.from_data({"rules": []})), store=store)
    await asyncio.sleep(0.5)
    spare = spawn.SPARES._spare
    victims = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or (spare is not None and int(entry.name) == spare.pid):
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == os.getpid() and b"scripthost.guest" in command:  # our own host children
            victims.append(int(entry.name))
    assert victims
    for pid in victims:
        os.killpg(pid, signal.SIGKILL)
    result = await asyncio.wait_for(handle.result(), 10)
    assert result.status == "failed"
    assert "the script crashed (signal 9: SIGKILL)" in (result.error or ""), result.error
