"""``re`` for workflow scripts: the standard API on the ``regex`` engine, every call limited in time.

One regular-expression call runs in C. A pattern that backtracks catastrophically (``(a|aa)+$`` on a long
line of ``a``) would hold the event loop — every run and the editor with it — for minutes, and the ticks
that stop busy scripts cannot interrupt a C call. ``regex`` speaks ``re``'s syntax (its default VERSION0
mode), avoids much of that backtracking, and stops a call that runs past a timeout; the script then gets
a ``TimeoutError`` that says which pattern it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import regex

TIMEOUT_S = 2.0  # per call; below the sync slice (3 s), so a runaway pattern never reaches the watchdog

IGNORECASE = I = regex.IGNORECASE  # noqa: E741 - re's own short names
MULTILINE = M = regex.MULTILINE
DOTALL = S = regex.DOTALL
VERBOSE = X = regex.VERBOSE
ASCII = A = regex.ASCII
error = regex.error
Match = regex.Match


def _limited(pattern: Any, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return call(*args, timeout=TIMEOUT_S, **kwargs)
    except TimeoutError:
        text = pattern.pattern if isinstance(pattern, Pattern | regex.Pattern) else pattern
        raise TimeoutError(
            f"the regular expression {str(text)[:80]!r} ran for over {TIMEOUT_S:g} s in one call "
            "(catastrophic backtracking?); make it stricter, e.g. without a repeat inside a repeat"
        ) from None


def _raw(pattern: Any) -> Any:
    return pattern.compiled if isinstance(pattern, Pattern) else pattern


class Pattern:
    """A compiled pattern whose every search is limited in time (``re.Pattern``'s methods)."""

    __slots__ = ("compiled",)

    def __init__(self, compiled: regex.Pattern[str]) -> None:
        self.compiled = compiled

    @property
    def pattern(self) -> Any:
        return self.compiled.pattern

    @property
    def flags(self) -> int:
        return int(self.compiled.flags)

    @property
    def groups(self) -> int:
        return int(self.compiled.groups)

    @property
    def groupindex(self) -> dict[str, int]:
        return dict(self.compiled.groupindex)

    def search(self, string: Any, pos: int = 0, endpos: int | None = None) -> Any:
        return _limited(self, self.compiled.search, string, pos, endpos)

    def match(self, string: Any, pos: int = 0, endpos: int | None = None) -> Any:
        return _limited(self, self.compiled.match, string, pos, endpos)

    def fullmatch(self, string: Any, pos: int = 0, endpos: int | None = None) -> Any:
        return _limited(self, self.compiled.fullmatch, string, pos, endpos)

    def findall(self, string: Any, pos: int = 0, endpos: int | None = None) -> list[Any]:
        return list(_limited(self, self.compiled.findall, string, pos, endpos))

    def finditer(self, string: Any, pos: int = 0, endpos: int | None = None) -> Iterator[Any]:
        return _limited(self, self.compiled.finditer, string, pos, endpos)  # type: ignore[no-any-return]

    def split(self, string: Any, maxsplit: int = 0) -> list[Any]:
        return list(_limited(self, self.compiled.split, string, maxsplit))

    def sub(self, repl: Any, string: Any, count: int = 0) -> Any:
        return _limited(self, self.compiled.sub, repl, string, count)

    def subn(self, repl: Any, string: Any, count: int = 0) -> Any:
        return _limited(self, self.compiled.subn, repl, string, count)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pattern) and other.compiled == self.compiled

    def __hash__(self) -> int:
        return hash(self.compiled)

    def __repr__(self) -> str:
        return f"re.compile({self.compiled.pattern!r})"


def compile(pattern: Any, flags: int = 0) -> Pattern:
    if isinstance(pattern, Pattern):
        return pattern
    return Pattern(regex.compile(pattern, flags))


def search(pattern: Any, string: Any, flags: int = 0) -> Any:
    return _limited(pattern, regex.search, _raw(pattern), string, flags)


def match(pattern: Any, string: Any, flags: int = 0) -> Any:
    return _limited(pattern, regex.match, _raw(pattern), string, flags)


def fullmatch(pattern: Any, string: Any, flags: int = 0) -> Any:
    return _limited(pattern, regex.fullmatch, _raw(pattern), string, flags)


def findall(pattern: Any, string: Any, flags: int = 0) -> list[Any]:
    return list(_limited(pattern, regex.findall, _raw(pattern), string, flags))


def finditer(pattern: Any, string: Any, flags: int = 0) -> Iterator[Any]:
    return _limited(pattern, regex.finditer, _raw(pattern), string, flags)  # type: ignore[no-any-return]


def split(pattern: Any, string: Any, maxsplit: int = 0, flags: int = 0) -> list[Any]:
    return list(_limited(pattern, regex.split, _raw(pattern), string, maxsplit, flags))


def sub(pattern: Any, repl: Any, string: Any, count: int = 0, flags: int = 0) -> Any:
    return _limited(pattern, regex.sub, _raw(pattern), repl, string, count, flags)


def subn(pattern: Any, repl: Any, string: Any, count: int = 0, flags: int = 0) -> Any:
    return _limited(pattern, regex.subn, _raw(pattern), repl, string, count, flags)


def escape(pattern: Any) -> Any:
    return regex.escape(pattern, special_only=True)
