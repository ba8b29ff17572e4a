"""A JavaScript tokenizer good enough to check scripts without running them.

It separates code from strings, comments, template text and regular-expression literals, so the
static checks (meta purity, imports, determinism, sandbox) look only at real code: a string or a
comment that mentions ``Date.now()`` is fine. Template substitutions (``${...}``) are tokenized as
code. It does not build a syntax tree; the embedded engine reports real syntax errors.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["ident", "num", "str", "template", "regex", "punct", "private"]

# longest first, so ">>>=" wins over ">>" and "?." over "?"
PUNCTUATORS = sorted(
    [">>>=", "...", "===", "!==", "**=", "<<=", ">>=", ">>>", "&&=", "||=", "??=", "=>", "==", "!=", "<=", ">=", "&&", "||", "??", "?.", "++", "--", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "**", "<<", ">>", "{", "}", "(", ")", "[", "]", ";", ",", "<", ">", "+", "-", "*", "/", "%", "&", "|", "^", "!", "~", "?", ":", "=", ".", "@"],
    key=len, reverse=True,
)

# after these keywords an expression starts, so "/" begins a regular expression
_EXPRESSION_KEYWORDS = {
    "return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case", "do", "else",
    "yield", "await",
}
_IDENT_START = re.compile(r"[A-Za-z_$\u0080-\uffff]")
_IDENT = re.compile(r"[A-Za-z0-9_$\u0080-\uffff]*")
_NUMBER = re.compile(
    r"0[xX][0-9a-fA-F_]+n?|0[oO][0-7_]+n?|0[bB][01_]+n?|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?n?"
)
_LINE_BREAKS = "\n\r\u2028\u2029"
_SPACES = re.compile(r"[ \t\f\v\ufeff\u00a0]+")
_WORD = re.compile(r"[A-Za-z_$\u0080-\uffff\\][A-Za-z0-9_$\u0080-\uffff\\]*")
# "?." before a digit is a conditional ("a?.5:b"), not optional chaining
_PUNCT = re.compile("|".join(r"\?\.(?!\d)" if p == "?." else re.escape(p) for p in PUNCTUATORS))


@dataclass(slots=True)
class Token:
    kind: Kind
    value: str  # source text (for strings and templates: the raw text, quotes included)
    line: int  # 1-based
    col: int  # 1-based
    start: int  # offset in the source
    end: int
    newline_before: bool = False
    # templates: True when this piece is followed by a ${...} substitution or follows one
    substitution: bool = False


class TokenizeError(Exception):
    def __init__(self, message: str, line: int, col: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.col = col


class _Lines:
    """Offset → (line, col), 1-based."""

    def __init__(self, source: str) -> None:
        self.starts = [0]
        for match in re.finditer(r"\r\n|[\n\r\u2028\u2029]", source):
            self.starts.append(match.end())

    def at(self, offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(self.starts, offset) - 1
        return index + 1, offset - self.starts[index] + 1


def _regex_allowed(previous: Token | None) -> bool:
    if previous is None:
        return True
    if previous.kind == "ident":
        return previous.value in _EXPRESSION_KEYWORDS
    if previous.kind == "punct":
        return previous.value not in (")", "]", "}")
    if previous.kind == "template":
        return not previous.value.endswith("`")  # after "${" an expression starts
    return False


def tokenize(source: str) -> list[Token]:
    """All code tokens of ``source``; raises :class:`TokenizeError` on an unterminated literal."""
    lines = _Lines(source)
    tokens: list[Token] = []
    braces: list[str] = []  # "{" for blocks and objects, "${" for template substitutions
    i = 0
    n = len(source)
    newline = False
    if source.startswith("#!"):
        while i < n and source[i] not in _LINE_BREAKS:
            i += 1

    def fail(message: str, offset: int) -> TokenizeError:
        line, col = lines.at(offset)
        return TokenizeError(message, line, col)

    def add(kind: Kind, start: int, end: int, substitution: bool = False) -> None:
        nonlocal newline
        line, col = lines.at(start)
        tokens.append(Token(kind, source[start:end], line, col, start, end, newline, substitution))
        newline = False

    def scan_template(start: int, opening: int) -> int:
        """From just after "`" or "}" inside a template, up to and including "`" or "${"."""
        j = start
        while j < n:
            char = source[j]
            if char == "\\":
                j += 2
                continue
            if char == "`":
                add("template", opening, j + 1, substitution=source[opening] == "}")
                return j + 1
            if char == "$" and j + 1 < n and source[j + 1] == "{":
                add("template", opening, j + 2, substitution=True)
                braces.append("${")
                return j + 2
            j += 1
        raise fail("unterminated template literal", opening)

    while i < n:
        char = source[i]
        if char in _LINE_BREAKS:
            newline = True
            i += 1
            continue
        spaces = _SPACES.match(source, i)
        if spaces is not None:
            i = spaces.end()
            continue
        if char.isspace():
            i += 1
            continue
        if source.startswith("//", i):
            while i < n and source[i] not in _LINE_BREAKS:
                i += 1
            continue
        if source.startswith("/*", i):
            end = source.find("*/", i + 2)
            if end < 0:
                raise fail("unterminated comment", i)
            if any(c in _LINE_BREAKS for c in source[i:end]):
                newline = True
            i = end + 2
            continue
        if char in "'\"":
            j = i + 1
            while j < n and source[j] != char:
                if source[j] == "\\":
                    j += 1
                elif source[j] in "\n\r":
                    raise fail("unterminated string literal", i)
                j += 1
            if j >= n:
                raise fail("unterminated string literal", i)
            add("str", i, j + 1)
            i = j + 1
            continue
        if char == "`":
            i = scan_template(i + 1, i)
            continue
        if char == "}" and braces and braces[-1] == "${":
            braces.pop()
            i = scan_template(i + 1, i)
            continue
        if char == "/" and _regex_allowed(tokens[-1] if tokens else None):
            j = i + 1
            in_class = False
            while j < n:
                c = source[j]
                if c in "\n\r":
                    raise fail("unterminated regular expression", i)
                if c == "\\":
                    j += 2
                    continue
                if c == "[":
                    in_class = True
                elif c == "]":
                    in_class = False
                elif c == "/" and not in_class:
                    break
                j += 1
            if j >= n:
                raise fail("unterminated regular expression", i)
            j += 1
            flags = _IDENT.match(source, j)
            j = flags.end() if flags else j
            add("regex", i, j)
            i = j
            continue
        if char.isdigit() or (char == "." and i + 1 < n and source[i + 1].isdigit()):
            match = _NUMBER.match(source, i)
            assert match is not None
            add("num", i, match.end())
            i = match.end()
            continue
        word = _WORD.match(source, i)
        if word is not None:
            add("ident", i, word.end())
            i = word.end()
            continue
        if char == "#" and i + 1 < n and _IDENT_START.match(source[i + 1]):
            match = _IDENT.match(source, i + 1)
            end = match.end() if match else i + 1
            add("private", i, end)
            i = end
            continue
        punct = _PUNCT.match(source, i)
        if punct is None:
            raise fail(f"unexpected character {char!r}", i)
        if char == "{":
            braces.append("{")
        elif char == "}" and braces:
            braces.pop()
        add("punct", i, punct.end())
        i = punct.end()
    return tokens


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


def string_value(raw: str) -> str:
    """The value of a string literal or a substitution-free template literal (quotes included in ``raw``)."""
    body = raw[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        char = body[i]
        if char != "\\":
            out.append(char)
            i += 1
            continue
        i += 1
        if i >= len(body):
            break
        esc = body[i]
        if esc in _ESCAPES and not (esc == "0" and i + 1 < len(body) and body[i + 1].isdigit()):
            out.append(_ESCAPES[esc])
            i += 1
        elif esc == "x":
            out.append(chr(int(body[i + 1 : i + 3], 16)))
            i += 3
        elif esc == "u" and i + 1 < len(body) and body[i + 1] == "{":
            close = body.index("}", i)
            out.append(chr(int(body[i + 2 : close], 16)))
            i = close + 1
        elif esc == "u":
            out.append(chr(int(body[i + 1 : i + 5], 16)))
            i += 5
        elif esc == "\r":
            i += 2 if body[i : i + 2] == "\r\n" else 1  # line continuation
        elif esc in "\n\u2028\u2029":
            i += 1
        else:
            out.append(esc)
            i += 1
    return "".join(out)


def number_value(raw: str) -> int | float:
    text = raw.replace("_", "")
    if text.endswith("n"):
        return int(text[:-1], 0)
    if text[:2].lower() in ("0x", "0o", "0b"):
        return int(text, 0)
    value = float(text)
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value
