"""The code around changed lines: the function (or class) each change sits in, so a reviewer reads whole
units rather than bare diff lines.

Python is parsed with :mod:`ast`: each changed range gets the innermost ``def``/``class`` that overlaps it
(decorators included). Other languages, and Python that does not parse, use the layout: the closest line
above the change that is indented less and reads like a function header (``function``, ``func``, ``fn``,
``def``, ``name(args) {``, an arrow function …), and the block under it down to its closing line. Both
fall back to the changed lines with a few lines of context when no unit encloses them (top-level code)
or when the unit is huge (a 2,000-line class says nothing about where to look).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence

Range = tuple[int, int]  # 1-based, inclusive

CONTEXT_LINES = 3  # around a change that no function encloses
MAX_BLOCK_LINES = 300  # an enclosing unit longer than this is replaced by the change and some context
WIDE_CONTEXT_LINES = 10  # the context kept in place of a unit over MAX_BLOCK_LINES
PYTHON_SUFFIXES = (".py", ".pyi", ".pyw")
MAX_HEADER_CHARS = 300

_CONTROL = re.compile(r"(?:if|else|elif|for|foreach|while|switch|case|catch|try|do|return|with|match|when|"
                      r"unless|until|loop|select|defer|go|await|yield|throw|new|sizeof|typeof)\b")
_FUNCTION_WORD = re.compile(r"(?:^|[^\w$.])(?:def|function\*?|func|fn|fun|sub|proc|method|procedure|lambda)\b")
_ARROW = re.compile(r"=>\s*\{?\s*$")
# `name(args) {`, `Type name(args) const {`, `public static int name(args) throws X {` (no `;`: not a call)
_SIGNATURE = re.compile(r"[\w$~:<>\[\],*&.\s]*[\w$~]\s*\([^;]*\)\s*(?:const\s*)?(?:throws\s+[\w.,\s]+)?"
                        r"(?:->\s*[^{;]+)?\s*(?:\{|:)?\s*$")
_CLOSER = re.compile(r"(?:[}\])]|end\b|fi\b|done\b|esac\b)")


def merge(ranges: Iterable[Range]) -> list[Range]:
    """Sorted ranges with overlapping and touching ones joined."""
    out: list[Range] = []
    for start, end in sorted(ranges):
        if out and start <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def enclosing_regions(path: str, text: str, changed: Sequence[Range]) -> list[Range]:
    """The merged regions to review in ``text`` (the file at ``path``, for its language) for ``changed``:
    each change's enclosing function or class, or the change with context; every change is inside them."""
    lines = text.splitlines()
    total = max(len(lines), 1)
    clipped = [(max(1, min(s, total)), max(1, min(e, total))) for s, e in changed]
    units: dict[Range, Range | None] = {}
    if path.endswith(PYTHON_SUFFIXES):
        python = _python_units(text)
        if python is not None:
            units = {change: _innermost(python, change) for change in clipped}
    if not units:
        units = {change: _layout_unit(lines, change) for change in clipped}
    regions: list[Range] = []
    for change, unit in units.items():
        start, end = change
        if unit is None:
            regions.append((max(1, start - CONTEXT_LINES), min(total, end + CONTEXT_LINES)))
        elif unit[1] - unit[0] + 1 > MAX_BLOCK_LINES:
            regions.append((max(1, start - WIDE_CONTEXT_LINES), min(total, end + WIDE_CONTEXT_LINES)))
        else:
            regions.append((min(unit[0], start), max(unit[1], end)))
    return merge(regions)


# -- Python ---------------------------------------------------------------------------------------------

def _python_units(text: str) -> list[Range] | None:
    """Every def and class as (first line with decorators, last line); None when the text does not parse."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    units: list[Range] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            units.append((first, node.end_lineno or node.lineno))
    return units


def _innermost(units: list[Range], change: Range) -> Range | None:
    """The units overlapping ``change`` that hold no other overlapping unit, joined; None when none does.

    A change inside one method gives that method (not its class); a change across two functions gives both."""
    start, end = change
    hits = [u for u in units if u[0] <= end and u[1] >= start]
    inner = [u for u in hits if not any(o != u and u[0] <= o[0] and o[1] <= u[1] for o in hits)]
    if not inner:
        return None
    return min(u[0] for u in inner), max(u[1] for u in inner)


# -- other languages: the layout --------------------------------------------------------------------------

def _indent(line: str) -> int | None:
    """Leading whitespace in columns (a tab counts 4); None for a blank line."""
    stripped = line.lstrip()
    if not stripped:
        return None
    head = line[: len(line) - len(stripped)]
    return head.count("\t") * 4 + len(head) - head.count("\t")


def looks_like_function(line: str) -> bool:
    """Whether a line reads like the header of a function or method in a C-like, scripting or ML language."""
    stripped = line.strip()
    if not stripped or stripped.startswith(("//", "#", "/*", "*", "--")):
        return False
    if _FUNCTION_WORD.search(stripped) or _ARROW.search(stripped):
        return True
    # long lines are data or minified code, and the signature pattern need not scan them
    return len(stripped) <= MAX_HEADER_CHARS and not _CONTROL.match(stripped) and bool(_SIGNATURE.fullmatch(stripped))


def _layout_unit(lines: list[str], change: Range) -> Range | None:
    """The block around ``change`` judged by indentation: its innermost function-like header above, or the
    top-level statement that holds it; None when the change is top-level code of its own."""
    start, end = change
    levels = [lvl for lvl in (_indent(lines[i - 1]) for i in range(start, end + 1)) if lvl is not None]
    if not levels:  # only blank lines changed: judge by the next line that has code
        below = next((i for i in range(end + 1, len(lines) + 1) if _indent(lines[i - 1]) is not None), None)
        if below is None:
            return None
        levels = [_indent(lines[below - 1]) or 0]
    bound = min(levels)
    chain: list[int] = []  # the headers above, each indented less than the last: the blocks around the change
    first = next((i for i in range(start, end + 1) if _indent(lines[i - 1]) == bound), start)
    if looks_like_function(lines[first - 1]):
        chain.append(first)  # the change starts at a header: its own block
    for number in range(start - 1, 0, -1):
        if bound == 0:
            break
        level = _indent(lines[number - 1])
        if level is None or level >= bound or _CLOSER.match(lines[number - 1].lstrip()):
            continue
        chain.append(number)
        bound = level
    header = next((h for h in chain if looks_like_function(lines[h - 1])), None)
    if header is None:
        top = [h for h in chain if _indent(lines[h - 1]) == 0]
        if not top:
            return None
        header = top[-1]
    return header, _block_end(lines, header)


def _block_end(lines: list[str], header: int) -> int:
    """The last line of the block a header opens: the lines indented deeper, then its closing line."""
    own = _indent(lines[header - 1]) or 0
    last = header
    for number in range(header + 1, len(lines) + 1):
        text = lines[number - 1]
        level = _indent(text)
        if level is None:
            continue
        if level > own:
            last = number
            continue
        if level == own and _CLOSER.match(text.lstrip()):
            last = number
        break
    return last
