"""Finding the code a finding is about again after the file changed: its snippet is the anchor.

Exact match first, then a whitespace-insensitive match, each time nearest to the line the finding was
last seen on. Positions are code points (Python string indexes); the caller converts to client units.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from itertools import count


@dataclass(frozen=True)
class Span:
    start_line: int  # 0-based
    start_col: int  # code points
    end_line: int
    end_col: int


class Text:
    """A document's text with its line starts, so offsets map to lines in O(log n).

    ``serial`` identifies this text for good (``id()`` can be reused once a text is freed).
    """

    _serials = count(1)

    def __init__(self, source: str) -> None:
        self.serial = next(Text._serials)
        self.source = source
        self.lines = source.splitlines(True)
        self.starts: list[int] = []
        offset = 0
        for line in self.lines:
            self.starts.append(offset)
            offset += len(line)

    def position(self, offset: int) -> tuple[int, int]:
        if not self.starts:
            return 0, 0
        line = max(0, bisect_right(self.starts, offset) - 1)
        return line, offset - self.starts[line]

    def line_text(self, line: int) -> str:
        return self.lines[line].rstrip("\r\n") if 0 <= line < len(self.lines) else ""


def _norm(text: str) -> str:
    return " ".join(text.split())


def snippet_at(text: Text, start_line: int, end_line: int) -> str | None:
    """The code at the reported lines (0-based, inclusive), used as the anchor when none was given."""
    if not 0 <= start_line < len(text.lines):
        return None
    end_line = min(max(end_line, start_line), len(text.lines) - 1)
    body = "".join(text.lines[start_line:end_line + 1]).strip()
    return body or None


def line_span(text: Text, line: int) -> Span:
    """A whole line, from its first non-blank character to its end."""
    content = text.line_text(line)
    first = len(content) - len(content.lstrip())
    return Span(line, first, line, len(content))


def locate(text: Text, snippet: str | None, hint_line: int) -> Span | None:
    """Where ``snippet`` is now, nearest to ``hint_line``; None when it is gone (the finding is stale)."""
    if snippet is None or not snippet.strip():
        return line_span(text, hint_line) if 0 <= hint_line < len(text.lines) else None
    needle = snippet.strip()
    exact = _exact(text, needle, hint_line)
    if exact is not None:
        return exact
    return _normalized(text, needle, hint_line)


def _exact(text: Text, needle: str, hint_line: int) -> Span | None:
    best: tuple[int, int] | None = None  # (distance, offset)
    start = text.source.find(needle)
    while start != -1:
        line, _ = text.position(start)
        distance = abs(line - hint_line)
        if best is None or distance < best[0]:
            best = (distance, start)
        if line > hint_line:  # later matches are only farther away
            break
        start = text.source.find(needle, start + 1)
    if best is None:
        return None
    offset = best[1]
    start_line, start_col = text.position(offset)
    end_line, end_col = text.position(offset + len(needle))
    return Span(start_line, start_col, end_line, end_col)


def _normalized(text: Text, needle: str, hint_line: int) -> Span | None:
    wanted = [_norm(line) for line in needle.splitlines() if line.strip()]
    if not wanted:
        return None
    normalized = [_norm(line) for line in text.lines]
    best: tuple[int, int, int] | None = None  # (distance, first line, last line)
    for first in range(len(normalized)):
        if wanted[0] not in normalized[first]:
            continue
        last = _match_from(normalized, first, wanted)
        if last is None:
            continue
        distance = abs(first - hint_line)
        if best is None or distance < best[0]:
            best = (distance, first, last)
    if best is None:
        return None
    _, first, last = best
    head = line_span(text, first)
    return Span(first, head.start_col, last, len(text.line_text(last)))


def _match_from(normalized: list[str], first: int, wanted: list[str]) -> int | None:
    """The last line of a match of ``wanted`` starting at ``first`` (blank lines skipped), or None."""
    index = first + 1
    for position, want in enumerate(wanted[1:], start=1):
        while index < len(normalized) and not normalized[index]:
            index += 1
        if index >= len(normalized):
            return None
        line = normalized[index]
        is_last = position == len(wanted) - 1
        if not (line == want or (is_last and line.startswith(want))):
            return None
        index += 1
    return index - 1
