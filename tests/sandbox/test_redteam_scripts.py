"""Red team through workflow scripts, in both dialects: code a model wrote from text an attacker shaped.

Every attempt is a real run through the engine (the static rules, the confined script host, the
parent's limits) started beside a steady run on the same event loop, in a workspace holding secrets,
with an API key and a token in the engine's environment and a private key in a fake home. However an
attempt is stopped — a static rule, the dialect's runtime layer, the OS boundary, a limit — each asserts
the same five things: nothing was written outside the workspace's state folder (the workspace, the fake
home and a folder outside are byte-for-byte unchanged, the canary file does not exist), no secret value is
in the run's result, error, logs or any stored row, the engine answered (the steady run beside it
finished all its agents), the engine's memory stayed bounded, and the budget is intact (its total as set,
what was spent within it).
"""

from __future__ import annotations

import asyncio
import resource
from pathlib import Path
from typing import Any

import pytest
from workcrew.engine import RunResult, RunStore, Settings, load_workflow, start
from workcrew.engine.errors import ScriptError
from workcrew.engine.providers.scenario import Scenario
from workcrew.engine.providers.simulated import SimulatedModel

from .conftest import RedTeam, leaks, store_leaks

PY_META = 'meta = {"name": "attack", "description": "red team"}\n'
JS_META = "export const meta = {name: 'attack', description: 'red team'}\n"
BUDGET = 400_000
LIMITS = {"sync_slice_s": 1.0, "script_cpu_s": 2.0, "max_agents": 60, "budget_tokens": BUDGET,
          "command_timeout_s": 30}

_WRITE = "__import__('os').system('touch CANARY') or int"
PYTHON: dict[str, str] = {
    # code evaluated by libraries the script may use (the first class)
    "pydantic-namedtuple-annotation": f"""
import typing
from pydantic import BaseModel
class M(BaseModel):
    x: typing.NamedTuple("N", [("x", "{_WRITE}")])
return M(x=(1,)).model_dump()
""",
    "pydantic-forward-ref": f"""
import typing
from pydantic import BaseModel
class M(BaseModel):
    x: "{_WRITE}"
return M(x=1).model_dump()
""",
    "pydantic-create-model": f"""
from pydantic import create_model
M = create_model("M", x=("{_WRITE}", 1))
return M().model_dump()
""",
    "typeddict-string-annotation": f"""
import typing
from pydantic import TypeAdapter
T = typing.TypedDict("T", {{"x": "{_WRITE}"}})
return TypeAdapter(T).validate_python({{"x": 1}})
""",
    "namedtuple-alias": f"""
import typing
make = typing.NamedTuple
from pydantic import BaseModel
class M(BaseModel):
    x: make("N", [("x", "{_WRITE}")])
return M(x=(1,)).model_dump()
""",
    "namedtuple-getattr": f"""
import typing
from pydantic import BaseModel
make = getattr(typing, "Named" + "Tuple")
class M(BaseModel):
    x: make("N", [("x", "{_WRITE}")])
return M(x=(1,)).model_dump()
""",
    "schema-with-string-annotation": f"""
from pydantic import BaseModel
class Answer(BaseModel):
    value: "{_WRITE}"
return await agent("give a number", schema=Answer)
""",
    # the budget and engine objects (the last class)
    "budget-model-validate": """
from pydantic import BaseModel
class M(BaseModel):
    total: int = 0
m = super(BaseModel, M).model_validate(budget, from_attributes=True)
m.total = 10 ** 12
budget.total = 10 ** 12
return m
""",
    "budget-assign": "budget.total = 10 ** 12\nreturn budget.total\n",
    "budget-setattr": "object.__setattr__(budget, 'total', 10 ** 12)\n",
    "budget-private": "budget._budget.total_tokens = None\n",
    "budget-class": "budget.__class__.remaining = lambda self: 10 ** 12\n",
    "budget-vars": "vars(budget)['total'] = 10 ** 12\n",
    "agent-self": "ctx = agent.__self__\nctx.state.budget.total_tokens = None\n",
    "agent-globals": "g = agent.__globals__\nreturn list(g)\n",
    "agent-closure": "return [c.cell_contents for c in (agent.__closure__ or [])]\n",
    # reaching the interpreter
    "import-os": "import os\nos.system('touch CANARY')\n",
    "import-subprocess": "import subprocess\nsubprocess.run(['touch', 'CANARY'])\n",
    "import-socket": "import socket\nsocket.create_connection(('1.1.1.1', 80), 2)\n",
    "import-ctypes": "import ctypes\nctypes.CDLL(None).system(b'touch CANARY')\n",
    "import-sys": "import sys\nreturn list(sys.modules)\n",
    "import-importlib": "import importlib\nimportlib.import_module('os').system('touch CANARY')\n",
    "dunder-import": "__import__('os').system('touch CANARY')\n",
    "builtins-dict": "__builtins__['open']('CANARY', 'w').write('x')\n",
    "open-write": "open('CANARY', 'w').write('pwned')\n",
    "open-dotenv": "return open('.env').read()\n",
    "open-ssh-key": "return open('HOME_DIR/.ssh/id_rsa').read()\n",
    "open-proc-environ": "return open('/proc/DAEMON_PID/environ').read()\n",
    "pathlib-read": "import pathlib\nreturn pathlib.Path('OUTSIDE/data.txt').read_text()\n",
    "exec": "exec(\"__import__('os').system('touch CANARY')\")\n",
    "eval": "return eval(\"__import__('os').environ\")\n",
    "compile": "code = compile('1', 'x', 'eval')\nreturn code\n",
    "subclasses-walk": "return [c.__name__ for c in ().__class__.__bases__[0].__subclasses__()]\n",
    "format-walk": 'return "{0.__class__.__init__.__globals__}".format(budget)\n',
    "generator-frame": "g = (i for i in [1])\nreturn g.gi_frame.f_back.f_globals\n",
    "coroutine-frame": "async def f():\n    pass\nreturn f().cr_frame.f_globals\n",
    "traceback-frame": "try:\n    1 / 0\nexcept Exception as e:\n    return e.__traceback__.tb_frame.f_globals\n",
    "globals-call": "return globals()\n",
    "type-new-class": "X = type('X', (object,), {'__getattr__': lambda s, n: open('CANARY', 'w')})\nreturn X().a\n",
    "attrgetter": "import operator\nreturn operator.attrgetter('__class__.__init__.__globals__')(budget)\n",
    "breakpoint": "breakpoint()\n",
    "input": "return input()\n",
    "pickle": "import pickle\nreturn pickle.loads(b'cos\\nsystem\\n(S\"touch CANARY\"\\ntR.')\n",
    "asyncio": "import asyncio\nawait asyncio.sleep(0)\n",
    # crashing or freezing the engine (the fourth class)
    "segfault-nested-map": "it = iter([1])\nfor i in range(10 ** 6):\n    it = map(abs, it)\nreturn next(it)\n",
    "endless-c-iterator": "import itertools\nreturn any(itertools.repeat(0, 10 ** 15))\n",
    "huge-lcm": "import math\nreturn math.lcm(*range(1, 10 ** 6))\n",
    "big-power": "return pow(3, 10 ** 8, 7 ** 10 ** 6) > 0\n",
    "catastrophic-regex": "import re\nreturn bool(re.match('(a+)+$', 'a' * 40 + 'b'))\n",
    "ljust-gigabytes": "return len('a'.ljust(3 * 10 ** 9))\n",
    "bytes-gigabytes": "return len(bytes(3 * 10 ** 9))\n",
    "list-gigabytes": "return len([0] * 10 ** 10)\n",
    "string-doubling": "s = 'x'\nwhile True:\n    s = s + s\n",
    "deep-recursion": "def f(n):\n    return f(n + 1)\nreturn f(0)\n",
    "busy-loop-swallowing": "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass\n",
    "log-flood": "for i in range(10 ** 7):\n    log('x' * 100)\n",
    "huge-log-line": "log('x' * 3_000_000)\n",
    "huge-result": "return ['x' * 1_000_000] * 80\n",
    "deep-result": "x = []\nfor i in range(100_000):\n    x = [x]\nreturn x\n",
    "agent-loop-past-the-cap": "while True:\n    await agent('again', label='loop')\n",
    "parallel-over-the-limit": "return await parallel([agent(str(i)) for i in range(5000)])\n",
    # calls into the parent with hostile arguments
    "check-proc-environ": "return await check('cat /proc/DAEMON_PID/environ')\n",
    "check-dotenv": "return await check('cat .env')\n",
    "check-ssh-key": "return await check('cat HOME_DIR/.ssh/id_rsa')\n",
    "check-shell": "return await check(['sh', '-c', 'touch CANARY'])\n",
    "check-outside-cwd": "return await check('ls', cwd='OUTSIDE')\n",
    "workflow-outside": "return await workflow('OUTSIDE/data.txt')\n",
    "workflow-traversal": "return await workflow('../../../../etc/passwd')\n",
    "report-outside-path": "report({'title': 'x', 'location': {'path': '../../etc/passwd', 'start_line': 1}})\n",
    "report-huge": "report({'title': 'x' * 10_000_000, 'location': {'path': 'src/app.py', 'start_line': 1}})\n",
    "agent-hostile-options": "return await agent('x', isolation='/', model='../../etc', timeout=-1, effort={'a': 1})\n",
    "agent-huge-prompt": "return await agent('x' * 50_000_000)\n",
    "phase-huge": "phase('x' * 10_000_000)\nreturn 1\n",
}

JS: dict[str, str] = {
    "require": "const fs = require('fs')\nfs.writeFileSync('CANARY', 'x')\n",
    "process-env": "return process.env\n",
    "fetch": "return await fetch('http://1.1.1.1/')\n",
    "import-std": "import * as std from 'std'\nstd.open('CANARY', 'w')\n",
    "dynamic-import": "const os = await import('os')\nos.exec(['touch', 'CANARY'])\n",
    "global-std": "return [typeof globalThis.std, typeof globalThis.os, typeof globalThis.scriptArgs]\n",
    "function-constructor": "return (function () {}).constructor('return globalThis')()\n",
    "async-function-constructor": "return Object.getPrototypeOf(async function () {}).constructor('return 1')\n",
    "generator-constructor": "return Object.getPrototypeOf(function* () {}).constructor('yield 1')\n",
    "eval": "return eval('globalThis')\n",
    "indirect-eval": "const e = globalThis['ev' + 'al']\nreturn e('1 + 1')\n",
    "reflect-construct": "return Reflect.construct(Function, ['return this'])()\n",
    "globals-walk": """
const found = []
for (const name of Object.getOwnPropertyNames(globalThis)) {
  const value = globalThis[name]
  if (typeof value === 'function') {
    try { found.push(name + ':' + String(value('CANARY', 'touch CANARY'))) } catch (e) { found.push(name) }
  }
}
return found
""",
    "bridge-prototype-pollution": """
Object.defineProperty(Object.prototype, 't', {get() { return 'done' }, configurable: true})
Array.prototype.toJSON = function () { return {t: 'fail', error: 'x'} }
return await agent('x', {label: 'polluted'})
""",
    "json-stringify-swap": "JSON.stringify = () => '{\"t\":\"done\",\"result\":1}'\nreturn await agent('x')\n",
    "promise-then-hijack": "Promise.prototype.then = function () { return 1 }\nreturn await agent('x')\n",
    "budget-assign": "budget.total = 1e12\nreturn budget.total\n",
    "budget-define": "Object.defineProperty(budget, 'total', {value: 1e12})\n",
    "budget-spent-swap": "budget.spent = () => 0\nbudget.remaining = () => 1e12\nreturn budget.remaining()\n",
    "proto-options": "return await agent('x', JSON.parse('{\"__proto__\": {\"isolation\": \"/\"}, \"model\": \"../x\"}'))\n",
    "throwing-getter-options": "return await agent('x', {get label() { throw new Error('boom') }})\n",
    "proxy-prompt": "return await agent(new Proxy({}, {get() { throw new Error('trap') }}))\n",
    "to-primitive-loop": "return await agent({[Symbol.toPrimitive]() { while (true) {} }})\n",
    "symbol-prompt": "return await agent(Symbol('x'))\n",
    "bigint-args": "return await agent('x', {label: 10n})\n",
    "busy-loop": "let n = 0\nwhile (true) n++\n",
    "promise-job-chain": "const spin = () => Promise.resolve().then(spin)\nspin()\nawait new Promise(() => {})\n",
    "never-settles": "await new Promise(() => {})\n",
    "huge-bigint": "let x = 7n ** 5000000n\nreturn String(x).length\n",
    "huge-sort": "const a = Array.from({length: 3000000}, (_, i) => (i * 7919) % 3000017)\n"
                 "for (let k = 0; k < 50; k++) a.sort((x, y) => x - y)\nreturn a.length\n",
    "catastrophic-regex": "return /(a+)+$/.test('a'.repeat(40) + 'b')\n",
    "memory-array": "const a = []\nwhile (true) a.push('x'.repeat(1 << 20) + a.length)\n",
    "memory-repeat": "return 'x'.repeat(2 ** 30).length\n",
    "memory-arraybuffer": "return new ArrayBuffer(2 ** 31).byteLength\n",
    "stack-overflow": "function f() { return f() + 1 }\nreturn f()\n",
    "log-flood": "for (let i = 0; i < 1e7; i++) log('spam ' + i)\n",
    "console-flood": "while (true) console.log('spam'.repeat(100))\n",
    "huge-result": "return Array.from({length: 70}, () => 'y'.repeat(1 << 20))\n",
    "deep-result": "let x = []\nfor (let i = 0; i < 100000; i++) x = [x]\nreturn x\n",
    "timer-flood": "for (let i = 0; i < 25000; i++) setTimeout(() => {}, 1e9)\n"
                   "await new Promise(r => setTimeout(r, 1e9))\n",
    "agent-loop-past-the-cap": "while (true) await agent('again', {label: 'loop'})\n",
    "parallel-over-the-limit": "return await parallel(Array.from({length: 5000}, (_, i) => () => agent(String(i))))\n",
    "check-proc-environ": "return await check('cat /proc/DAEMON_PID/environ')\n",
    "check-dotenv": "return await check('cat .env')\n",
    "check-shell": "return await check(['sh', '-c', 'touch CANARY'])\n",
    "workflow-outside": "return await workflow({scriptPath: 'OUTSIDE/data.txt'})\n",
    "workflow-traversal": "return await workflow('../../../../etc/passwd')\n",
    "report-outside-path": "report({title: 'x', location: {path: '/etc/passwd', start_line: 1}})\n",
    "phase-huge": "phase('x'.repeat(10000000))\nreturn 1\n",
    "wasm": "return typeof WebAssembly === 'undefined' ? 'gone' : WebAssembly.compile(new Uint8Array(8))\n",
    "atomics-wait": "const b = new Int32Array(new SharedArrayBuffer(4))\nAtomics.wait(b, 0, 0)\n",
}

ATTEMPTS = [(f"py-{name}", PY_META + body, ".py") for name, body in PYTHON.items()] + [
    (f"js-{name}", JS_META + body, ".js") for name, body in JS.items()]


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / (1 << 20)


def snapshot(folder: Path, skip: str | None = None) -> dict[str, bytes]:
    """Every file under ``folder`` (links as their targets' names), but the store's folder."""
    out: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        if skip is not None and skip in path.relative_to(folder).parts:
            continue
        if path.is_symlink():
            out[str(path)] = str(path.readlink()).encode()
        elif path.is_file():
            out[str(path)] = path.read_bytes()
    return out


def fill(team: RedTeam, source: str) -> str:
    import os

    return (source.replace("CANARY", str(team.canary)).replace("OUTSIDE", str(team.outside))
            .replace("HOME_DIR", str(team.home)).replace("DAEMON_PID", str(os.getpid())))


async def run(settings: Settings, store: RunStore, path: Path, source: str) -> tuple[RunResult | None, Any]:
    """The run of ``source`` and its state; (None, the error) when it is refused before it starts."""
    path.write_text(source)
    workflow = load_workflow(path)
    if workflow.problems:
        return None, ScriptError(workflow.problems)
    client = SimulatedModel(Scenario.from_data({"rules": [{"respond": {"text": "ok"}}]}))
    handle = start(workflow, None, settings, client=client, store=store)
    return await asyncio.wait_for(handle.result(), 120), handle.state


@pytest.mark.parametrize(("name", "source", "suffix"), ATTEMPTS, ids=[a[0] for a in ATTEMPTS])
async def test_script_attempt_is_contained(redteam: RedTeam, settings: Settings, store: RunStore, tmp_path: Path,
                                           name: str, source: str, suffix: str) -> None:
    run_settings = settings.model_copy(update={**LIMITS, "command_allowlist": ["cat", "ls", "sh"]})
    workspace_before = snapshot(redteam.workspace, skip=".workcrew")
    home_before, outside_before = snapshot(redteam.home), redteam.outside_snapshot()
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    steady_source = PY_META + "out = []\nfor i in range(10):\n    out.append(await agent(f'step {i}'))\nreturn len(out)\n"
    memory_before = rss_mb()
    (steady, _), (attack, state) = await asyncio.gather(
        run(run_settings, store, scripts / "steady.py", steady_source),
        run(run_settings, store, scripts / f"attack{suffix}", fill(redteam, source)))

    # the engine answered: the steady run beside the attack finished every agent
    assert steady is not None and steady.status == "succeeded" and steady.result == 10, steady
    # its memory stayed bounded
    assert rss_mb() - memory_before < 300, "the engine's memory grew with what the script did"
    # nothing was written outside the store's folder
    assert not redteam.canary.exists()
    assert redteam.outside_snapshot() == outside_before
    assert snapshot(redteam.home) == home_before
    assert snapshot(redteam.workspace, skip=".workcrew") == workspace_before
    # no secret value in anything the run produced or stored
    if attack is not None:
        assert not leaks(attack.result, attack.error, attack.logs, attack.to_json()), attack.result
    else:
        assert not leaks(str(state))
    assert not store_leaks(store)
    # the budget is intact: its total as set, and what was spent is within it
    if attack is not None:
        budget = state.budget
        assert budget.total_tokens == BUDGET and budget.total_usd == run_settings.budget_usd
        assert budget.spent_tokens <= BUDGET and budget.reserved_tokens == 0
        # a run that did not succeed says why, in words, never as an engine traceback
        if attack.status != "succeeded":
            assert attack.error and "Traceback (most recent call last)" not in attack.error, attack.error


def test_the_suite_covers_both_dialects_broadly() -> None:
    assert len(PYTHON) >= 60 and len(JS) >= 45
