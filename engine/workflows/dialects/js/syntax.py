"""JavaScript syntax checks, done where script code may run: in a confined child, never in the daemon.

Compiling a script is evaluating text an attacker may have written; a body crafted to close the
function it is wrapped in would run at list time. So the daemon and the CLI hand the wrapped bodies to a
short-lived child confined like the script host and get each one's first syntax error back. Results are
cached by content, so listing the same workflows again costs nothing.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
from collections import OrderedDict

from .... import confine

IN_HOST = False  # set by the script host child: it is confined already and compiles in place

_CHECKER = r"""
import json, sys
from workcrew.engine.confine import apply_inside, limit_memory
apply_inside()
limit_memory(512 << 20)
import _quickjs
out = []
for wrapped in json.loads(sys.stdin.read()):
    js = _quickjs.Context()
    js.set_time_limit(2.0)
    js.set_memory_limit(64 << 20)
    js.set_max_stack_size(1 << 20)
    try:
        js.eval(wrapped)  # a function expression: compiled, never called
        out.append(None)
    except _quickjs.JSException as exc:
        out.append(str(exc))
    except Exception as exc:
        out.append(f"SyntaxError: {type(exc).__name__}: {exc}")
sys.stdout.write(json.dumps(out))
"""

_CACHE: OrderedDict[str, str | None] = OrderedDict()
_LOCK = threading.Lock()
_CACHE_SIZE = 1024


class SyntaxCheckFailed(Exception):
    """The checker child could not answer (it crashed or timed out)."""


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def engine_errors(wrapped: list[str]) -> list[str | None]:
    """QuickJS's error text for each wrapped body (None where it compiles)."""
    if IN_HOST:
        return [_compile_here(text) for text in wrapped]
    keys = [_key(text) for text in wrapped]
    with _LOCK:
        missing = {key: text for key, text in zip(keys, wrapped, strict=True) if key not in _CACHE}
    if missing:
        answers = _ask_child(list(missing.values()))
        with _LOCK:
            for key, answer in zip(missing, answers, strict=True):
                _CACHE[key] = answer
                _CACHE.move_to_end(key)
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
    with _LOCK:
        return [_CACHE.get(key) for key in keys]


def _compile_here(wrapped: str) -> str | None:
    import _quickjs

    js = _quickjs.Context()
    js.set_time_limit(2.0)
    js.set_memory_limit(64 << 20)
    js.set_max_stack_size(1 << 20)
    try:
        js.eval(wrapped)
    except _quickjs.JSException as exc:
        return str(exc)
    return None


def _ask_child(wrapped: list[str]) -> list[str | None]:
    command, _ = confine.host_command([sys.executable, "-I", "-c", _CHECKER])
    try:
        done = subprocess.run(command, input=json.dumps(wrapped).encode("ascii"), capture_output=True, env={}, cwd="/",
                              timeout=30 + 2 * len(wrapped), check=False)
    except subprocess.TimeoutExpired:
        raise SyntaxCheckFailed("the syntax check did not finish in time") from None
    try:
        answers = json.loads(done.stdout)
    except ValueError:
        last = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
        raise SyntaxCheckFailed(f"the syntax check failed ({last[0]})") from None
    if not isinstance(answers, list) or len(answers) != len(wrapped):
        raise SyntaxCheckFailed("the syntax check gave a malformed answer")
    return [None if a is None else str(a) for a in answers]
