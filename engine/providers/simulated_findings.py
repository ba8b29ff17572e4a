"""What the simulated model "finds" in a file when no scenario scripts its answers.

A handful of textual checks for common, objectively checkable mistakes (division by ``len(x)`` without a
guard, a bare ``except:``, ``== None``, a ``"".join(...)[:-1]`` that drops the last character, a mutable
default argument). Each hit becomes a finder's candidate on the real line, with the exact snippet and,
when the line can be rewritten on its own, an exact-text fix whose ``old`` occurs once in the file, so the
editor's quick-fix applies. Every title and message says "(simulated)": these come from patterns, not
from a model, and are there so a first run without an API key has something real to show.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_PER_FILE = 3  # a demo, not a linter: the first few hits are enough to show the flow
SIMULATED = "(simulated)"
NOTE = ("Found by Workcrew's simulated model, which matches a few common patterns instead of reading the code "
        "like a model would; use the anthropic provider for a real review.")

_NUMBERED = re.compile(r"^\s*(\d+)\t(.*)$")  # read_file's output: "     3\treturn total / len(values)"
_DIVIDE_BY_LEN = re.compile(r"/\s*len\((\w+)\)")
_BARE_EXCEPT = re.compile(r"^(\s*)except\s*:")
_NONE_COMPARE = re.compile(r"(\s)(==|!=)(\s*)None\b")
_JOIN_DROPS_LAST = re.compile(r"\.join\(.*\)\[:-1\]")
_MUTABLE_DEFAULT = re.compile(r"^\s*(?:async\s+)?def\s+\w+\(.*\b(\w+)\s*=\s*(\[\]|\{\}|set\(\))")
_REWRITABLE = re.compile(r"^(\s*)(return\s+|\w+\s*=\s*)(.+)$")  # "return EXPR" or "name = EXPR"


@dataclass(frozen=True)
class Hit:
    """One pattern's hit on a line: what the finder reports."""

    title: str
    message: str
    severity: str
    new_line: str | None  # the line rewritten (the fix), or None when no local fix is safe


def numbered_lines(tool_output: str) -> dict[int, str]:
    """``read_file``'s numbered listing back as {line number: text}."""
    lines: dict[int, str] = {}
    for raw in tool_output.splitlines():
        match = _NUMBERED.match(raw)
        if match:
            lines[int(match.group(1))] = match.group(2)
    return lines


def _guarded(lines: dict[int, str], number: int, name: str) -> bool:
    """Whether the few lines above (or the line itself) already handle an empty ``name``."""
    guard = re.compile(rf"\bif\s+(not\s+)?{re.escape(name)}\b|len\({re.escape(name)}\)\s*(==|<|>|!=)|"
                       rf"\bif\s+{re.escape(name)}\s+else\b")
    return any(guard.search(lines.get(n, "")) for n in range(max(1, number - 3), number + 1))


def _divide_by_len(lines: dict[int, str], number: int, text: str) -> Hit | None:
    match = _DIVIDE_BY_LEN.search(text)
    if match is None or "#" in text:
        return None
    name = match.group(1)
    if _guarded(lines, number, name):
        return None
    rewritable = _REWRITABLE.match(text)
    fix = f"{text} if {name} else 0.0" if rewritable and not text.rstrip().endswith((":", "\\", ",", "(")) else None
    return Hit(f"Division by zero when `{name}` is empty {SIMULATED}",
               f"`len({name})` is 0 for an empty `{name}`, so this line raises ZeroDivisionError. {NOTE}",
               "error", fix)


def _bare_except(lines: dict[int, str], number: int, text: str) -> Hit | None:
    match = _BARE_EXCEPT.match(text)
    if match is None:
        return None
    return Hit(f"Bare `except:` also catches KeyboardInterrupt and SystemExit {SIMULATED}",
               "A bare `except:` swallows Ctrl-C and interpreter exit along with real errors; catch `Exception` "
               f"(or something narrower). {NOTE}",
               "warning", _BARE_EXCEPT.sub(lambda m: f"{m.group(1)}except Exception:", text, count=1))


def _none_compare(lines: dict[int, str], number: int, text: str) -> Hit | None:
    if _NONE_COMPARE.search(text) is None or text.lstrip().startswith("#"):
        return None
    fixed = _NONE_COMPARE.sub(lambda m: f"{m.group(1)}{'is' if m.group(2) == '==' else 'is not'}{m.group(3) or ' '}None",
                              text)
    return Hit(f"Comparison with None using `==`/`!=` {SIMULATED}",
               "`== None` calls the left operand's `__eq__`, which may say anything (NumPy arrays, ORM columns); "
               f"`is None` is the reliable test. {NOTE}",
               "warning", fixed)


def _join_drops_last(lines: dict[int, str], number: int, text: str) -> Hit | None:
    if _JOIN_DROPS_LAST.search(text) is None:
        return None
    return Hit(f"`[:-1]` drops the last character of the joined result {SIMULATED}",
               "The slice cuts the last element's contribution off the joined string (an off-by-one); nothing "
               f"is appended after it that needs trimming. {NOTE}",
               "error", text.replace(")[:-1]", ")", 1))


def _mutable_default(lines: dict[int, str], number: int, text: str) -> Hit | None:
    match = _MUTABLE_DEFAULT.match(text)
    if match is None:
        return None
    name, default = match.group(1), match.group(2)
    return Hit(f"Mutable default argument `{name}={default}` is shared between calls {SIMULATED}",
               f"The default `{default}` is created once, when the function is defined; every call that mutates "
               f"it changes it for the next call. Default to None and create it inside. {NOTE}",
               "warning", None)  # the fix spans the body: no one-line quick-fix


CHECKS: tuple[Callable[[dict[int, str], int, str], Hit | None], ...] = (
    _divide_by_len, _join_drops_last, _bare_except, _none_compare, _mutable_default,
)


def find_candidates(path: str, lines: dict[int, str]) -> list[dict[str, Any]]:
    """The finder's candidates for ``path``: at most :data:`MAX_PER_FILE`, in line order, each with the
    snippet and, when its rewritten line is unique in the file, ``fix: {old, new}``."""
    text = "\n".join(lines[n] for n in sorted(lines))
    out: list[dict[str, Any]] = []
    for number in sorted(lines):
        line = lines[number]
        for check in CHECKS:
            hit = check(lines, number, line)
            if hit is None:
                continue
            candidate: dict[str, Any] = {
                "path": path, "line": number, "title": hit.title, "message": hit.message,
                "snippet": line.strip(), "severity": hit.severity, "category": "bug",
                "evidence": [{"line": number, "note": f"{SIMULATED} pattern match on: {line.strip()}"}],
            }
            if hit.new_line is not None and hit.new_line != line and text.count(line) == 1:
                candidate["fix"] = {"old": line, "new": hit.new_line}
            out.append(candidate)
            break  # one finding per line
        if len(out) >= MAX_PER_FILE:
            break
    return out
