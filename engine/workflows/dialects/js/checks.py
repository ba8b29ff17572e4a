"""Static checks of a Claude-dialect script, on its tokens: meta first and pure, no other import or
export, no clock or randomness, no escape hatches out of the sandbox, and no TypeScript."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ....errors import Problem
from .tokens import Token, number_value, string_value

META_HINT = "the first statement must be `export const meta = {...}` (an object literal)"
DETERMINISM_HINT = "workflow scripts must be deterministic so a run can be resumed; pass timestamps or seeds in args"


@dataclass
class MetaLiteral:
    value: Any = None
    start: Token | None = None  # the `export` token
    end_index: int = 0  # index of the first token after the literal
    problems: list[Problem] = field(default_factory=list)


class _Impure(Exception):
    def __init__(self, token: Token, what: str) -> None:
        super().__init__(what)
        self.token = token
        self.what = what


class _LiteralParser:
    """Reads one object literal made only of JSON-like values; anything computed is a problem."""

    def __init__(self, tokens: list[Token], index: int, path: str) -> None:
        self.tokens = tokens
        self.i = index
        self.path = path
        self.problems: list[Problem] = []

    def peek(self, offset: int = 0) -> Token | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            last = self.tokens[-1]
            raise _Impure(last, "the literal is not closed")
        self.i += 1
        return token

    def is_punct(self, value: str, offset: int = 0) -> bool:
        token = self.peek(offset)
        return token is not None and token.kind == "punct" and token.value == value

    def report(self, error: _Impure) -> None:
        self.problems.append(Problem(self.path, error.token.line, error.token.col, "meta-literal",
                                     f"meta must be a pure literal: {error.what} is not allowed"))

    def skip_value(self) -> None:
        """After a problem: skip to the next `,` or closing bracket at this nesting level."""
        depth = 0
        while (token := self.peek()) is not None:
            if token.kind == "punct" and token.value in "([{":
                depth += 1
            elif token.kind == "punct" and token.value in ")]}":
                if depth == 0:
                    return
                depth -= 1
            elif token.kind == "punct" and token.value == "," and depth == 0:
                return
            self.i += 1

    def value(self) -> Any:
        token = self.take()
        result: Any
        if token.kind == "punct" and token.value == "{":
            result = self.object_body()
        elif token.kind == "punct" and token.value == "[":
            result = self.array_body()
        elif token.kind == "str":
            result = string_value(token.value)
        elif token.kind == "template":
            if token.substitution:
                raise _Impure(token, "template interpolation (${...})")
            result = string_value(token.value)
        elif token.kind == "num":
            result = number_value(token.value)
        elif token.kind == "punct" and token.value == "-" and (nxt := self.peek()) is not None and nxt.kind == "num":
            self.i += 1
            result = -number_value(nxt.value)
        elif token.kind == "ident" and token.value in ("true", "false", "null"):
            result = {"true": True, "false": False, "null": None}[token.value]
        elif token.kind == "ident":
            if self.is_punct("("):
                raise _Impure(token, f"a call ({token.value}(...))")
            raise _Impure(token, f"a variable ({token.value})")
        elif token.kind == "punct" and token.value == "...":
            raise _Impure(token, "a spread (...)")
        elif token.kind == "regex":
            raise _Impure(token, "a regular expression")
        else:
            raise _Impure(token, f"{token.value!r}")
        after = self.peek()
        if after is not None and after.kind == "punct" and after.value not in (",", "}", "]", ";"):
            if after.value == "(":
                raise _Impure(after, "a call")
            raise _Impure(after, f"an expression (operator {after.value!r})")
        return result

    def object_body(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        while not self.is_punct("}"):
            try:
                key = self.key()
                out[key] = self.value()
            except _Impure as error:
                self.report(error)
                self.skip_value()
            if self.is_punct(","):
                self.i += 1
            elif not self.is_punct("}"):
                token = self.take()
                raise _Impure(token, f"{token.value!r} here")
        self.i += 1
        return out

    def key(self) -> str:
        token = self.take()
        if token.kind == "punct" and token.value == "[":
            self.skip_value()  # to the matching "]", so the rest of the literal is still checked
            if self.is_punct("]"):
                self.i += 1
            raise _Impure(token, "a computed key ([...])")
        if token.kind == "punct" and token.value == "...":
            raise _Impure(token, "a spread (...)")
        if token.kind == "ident" and token.value in ("get", "set", "async") and (
            (nxt := self.peek()) is not None and nxt.kind in ("ident", "str")
        ):
            raise _Impure(token, f"an accessor or method ({token.value} ...)")
        if token.kind == "punct" and token.value == "*":
            raise _Impure(token, "a generator method")
        if token.kind == "ident":
            name = token.value
        elif token.kind == "str" or (token.kind == "template" and not token.substitution):
            name = string_value(token.value)
        elif token.kind == "num":
            name = str(number_value(token.value))
        else:
            raise _Impure(token, f"the key {token.value!r}")
        if self.is_punct("("):
            raise _Impure(token, f"a method ({name}() {{...}})")
        if self.is_punct(",") or self.is_punct("}"):
            raise _Impure(token, f"a shorthand property ({name}), which reads a variable")
        if not self.is_punct(":"):
            after = self.take()
            raise _Impure(after, f"{after.value!r} after the key {name!r}")
        self.i += 1
        return name

    def array_body(self) -> list[Any]:
        out: list[Any] = []
        while not self.is_punct("]"):
            if self.is_punct(","):
                raise _Impure(self.take(), "an array hole")
            try:
                out.append(self.value())
            except _Impure as error:
                self.report(error)
                self.skip_value()
            if self.is_punct(","):
                self.i += 1
            elif not self.is_punct("]"):
                token = self.take()
                raise _Impure(token, f"{token.value!r} here")
        self.i += 1
        return out


def read_meta_literal(tokens: list[Token], path: str) -> MetaLiteral:
    """The value of ``export const meta = {...}``, which must open the script."""
    out = MetaLiteral()
    values = [t.value for t in tokens[:5]]
    if values[:4] != ["export", "const", "meta", "="] or len(tokens) < 5 or tokens[4].value != "{":
        first = tokens[0] if tokens else None
        where = (first.line, first.col) if first else (1, 1)
        if values[:3] == ["const", "meta", "="] or values[:3] == ["let", "meta", "="]:
            message = f"{META_HINT}; add `export` and use const"
        elif len(values) >= 4 and values[:4] == ["export", "const", "meta", "="]:
            message = "meta must be a pure object literal: `export const meta = {...}`"
        else:
            message = META_HINT
        out.problems.append(Problem(path, where[0], where[1], "meta-first", message))
        return out
    out.start = tokens[0]
    parser = _LiteralParser(tokens, 5, path)
    try:
        out.value = parser.object_body()
    except _Impure as error:
        parser.report(error)
        out.value = None
    out.problems += parser.problems
    if parser.problems:
        out.value = None
    out.end_index = parser.i
    after = parser.peek()
    if after is not None and not (after.kind == "punct" and after.value == ";") and not after.newline_before:
        if not parser.problems:
            out.problems.append(Problem(path, after.line, after.col, "meta-literal",
                                        f"meta must be a pure literal: {after.value!r} after it is not allowed"))
        out.value = None
    elif after is not None and after.kind == "punct" and after.value in (".", "?.", "[", "("):
        out.problems.append(Problem(path, after.line, after.col, "meta-literal",
                                    "meta must be a pure literal, not an expression built on one"))
        out.value = None
    return out


# -- code rules over the whole token stream -----------------------------------------------------------


def _is(token: Token | None, kind: str, *values: str) -> bool:
    return token is not None and token.kind == kind and (not values or token.value in values)


def _property_position(tokens: list[Token], i: int) -> bool:
    """``obj.name``, ``obj?.name``, ``{name: ...}`` or a method name: not a reference to a global."""
    before = tokens[i - 1] if i > 0 else None
    after = tokens[i + 1] if i + 1 < len(tokens) else None
    if _is(before, "punct", ".", "?."):
        return True
    return _is(after, "punct", ":") and _is(before, "punct", "{", ",")


def code_problems(tokens: list[Token], path: str, skip_until: int = 0) -> list[Problem]:
    """Imports, exports, determinism and sandbox rules; ``skip_until`` skips the meta statement."""
    problems: list[Problem] = []

    def add(token: Token, rule: str, message: str) -> None:
        problems.append(Problem(path, token.line, token.col, rule, message))

    count = len(tokens)

    def at(j: int) -> Token | None:
        return tokens[j] if 0 <= j < count else None

    def member(j: int, name: str) -> bool:
        """tokens[j:] read ``.name``, ``?.name`` or ``["name"]``, and not as an assignment target."""
        if _is(at(j), "punct", ".", "?.") and _is(at(j + 1), "ident", name):
            return not _is(at(j + 2), "punct", "=")
        nxt = at(j + 1)
        return (_is(at(j), "punct", "[") and nxt is not None and nxt.kind == "str"
                and string_value(nxt.value) == name and _is(at(j + 2), "punct", "]")
                and not _is(at(j + 3), "punct", "="))

    for i in range(skip_until, count):
        token = tokens[i]
        if token.kind != "ident" or _property_position(tokens, i):
            continue
        name = token.value
        nxt = at(i + 1)
        if name == "import":
            if _is(nxt, "punct", "("):
                add(token, "sandbox", "import() is not allowed: workflow scripts cannot load modules")
            elif _is(nxt, "punct", "."):
                add(token, "import", "import.meta is not available in workflow scripts")
            else:
                add(token, "import", "import statements are not allowed: the only top-level export is "
                    "`export const meta`, and scripts cannot load modules")
        elif name == "export":
            if [t.value for t in tokens[i + 1 : i + 4]] == ["const", "meta", "="]:
                continue  # a late meta: reported as meta-first
            add(token, "import", "only `export const meta = {...}` may be exported; remove this export")
        elif name == "require" and _is(nxt, "punct", "("):
            add(token, "sandbox", "require() is not available: workflow scripts cannot load modules")
        elif name == "eval" and not _is(at(i - 1), "ident", "function", "let", "const", "var"):
            add(token, "sandbox", "eval is not available in workflow scripts")
        elif name == "Function" and (_is(nxt, "punct", "(") or _is(at(i - 1), "ident", "new")):
            add(token, "sandbox", "the Function constructor is not available in workflow scripts")
        elif name == "Date":
            if member(i + 1, "now"):
                add(token, "determinism", f"Date.now() reads the clock; {DETERMINISM_HINT}")
            elif _is(at(i - 1), "ident", "new") and (not _is(nxt, "punct", "(") or _is(at(i + 2), "punct", ")")):
                add(at(i - 1) or token, "determinism",
                    f"new Date() without arguments reads the clock; {DETERMINISM_HINT}")
            elif _is(nxt, "punct", "(") and not _is(at(i - 1), "ident", "new", "function", "class"):
                add(token, "determinism", f"Date() reads the clock; {DETERMINISM_HINT}")
        elif name == "Math" and member(i + 1, "random"):
            add(token, "determinism", f"Math.random() is random; {DETERMINISM_HINT}")
        elif name == "performance" and member(i + 1, "now"):
            add(token, "determinism", f"performance.now() reads the clock; {DETERMINISM_HINT}")
        elif name == "crypto" and (member(i + 1, "getRandomValues") or member(i + 1, "randomUUID")):
            add(token, "determinism", f"crypto randomness is not deterministic; {DETERMINISM_HINT}")
    return problems


# -- TypeScript: only consulted when the engine could not parse the script -------------------------------


def typescript_problem(tokens: list[Token], path: str) -> Problem | None:
    """The first construct that is TypeScript, not JavaScript, with its line."""
    count = len(tokens)

    def at(j: int) -> Token | None:
        return tokens[j] if 0 <= j < count else None

    def statement_start(j: int) -> bool:
        before = at(j - 1)
        return before is None or _is(before, "punct", ";", "{", "}") or tokens[j].newline_before

    def declaration(j: int) -> str | None:
        token = tokens[j]
        if token.kind != "ident" or not statement_start(j):
            return None
        nxt, third = at(j + 1), at(j + 2)
        if token.value == "interface" and _is(nxt, "ident") and _is(third, "punct", "{", "<"):
            return f"an interface declaration (interface {nxt.value if nxt else ''})"
        if token.value == "type" and _is(nxt, "ident") and _is(third, "punct", "=", "<"):
            return f"a type alias (type {nxt.value if nxt else ''} = ...)"
        if token.value == "enum" and _is(nxt, "ident") and _is(third, "punct", "{"):
            return "an enum declaration"
        if token.value in ("declare", "namespace", "abstract") and _is(nxt, "ident"):
            return f"a {token.value!r} declaration"
        return None

    def annotation(j: int) -> str | None:
        token = tokens[j]
        # const x: T = ..., let x: T
        if _is(token, "ident", "const", "let", "var") and _is(at(j + 1), "ident") and _is(at(j + 2), "punct", ":"):
            return "a type annotation on a variable (`name: Type`)"
        # (a: string, b?: number) in a parameter list, and ): Type { / ): Type =>
        if _is(token, "punct", ")") and _is(at(j + 1), "punct", ":") and _is(at(j + 2), "ident"):
            k = j + 3
            while _is(at(k), "punct", "[", "]", "|", "<", ">", ".") or _is(at(k), "ident"):
                k += 1
            if _is(at(k), "punct", "{", "=>"):
                return "a return type annotation (`): Type`)"
        if _is(token, "punct", "(", ",") and _is(at(j + 1), "ident") and _is(at(j + 2), "punct", ":", "?"):
            third = at(j + 3)
            if _is(at(j + 2), "punct", "?") and not _is(third, "punct", ":"):
                return None
            type_token = at(j + 4) if _is(at(j + 2), "punct", "?") else third
            if _is(type_token, "ident", "string", "number", "boolean", "any", "unknown", "void", "never",
                   "object", "Record", "Array", "Promise"):
                return "a type annotation on a parameter (`name: Type`)"
        return None

    def cast(j: int) -> str | None:
        token = tokens[j]
        before = at(j - 1)
        target = at(j + 1)
        if (
            _is(token, "ident", "as") and before is not None and target is not None
            and (before.kind in ("ident", "str", "num") or _is(before, "punct", ")", "]", "}"))
            and target.kind == "ident" and not _is(before, "ident", "import", "export")
            and (target.value[:1].isupper()
                 or target.value in ("const", "string", "number", "boolean", "any", "unknown"))
        ):
            return f"a type assertion (`as {target.value}`)"
        if _is(token, "ident", "function") and _is(at(j + 1), "ident") and _is(at(j + 2), "punct", "<"):
            return "a generic function (`function f<T>`)"
        if _is(token, "ident", "private", "public", "protected", "readonly") and _is(at(j + 1), "ident") \
                and statement_start(j):
            return f"a {token.value!r} modifier"
        if _is(token, "ident", "implements") and _is(before, "ident"):
            return "an `implements` clause"
        return None

    checks: list[Callable[[int], str | None]] = [declaration, annotation, cast]
    for j in range(count):
        for check in checks:
            what = check(j)
            if what:
                token = tokens[j]
                return Problem(path, token.line, token.col, "typescript",
                               f"TypeScript syntax is not supported ({what}); workflows are plain JavaScript")
    return None


# agent(prompt, opts): Claude Code's option names -> ScriptContext.agent's keyword
AGENT_OPTIONS = {
    "label": "label", "phase": "phase", "schema": "schema", "model": "model", "effort": "effort",
    "isolation": "isolation", "agentType": "agent_type", "timeout": "timeout", "tools": "tools",
}
# Claude Code options Workcrew does not implement: a warning, never silently dropped
UNSUPPORTED_AGENT_OPTIONS = frozenset({"disallowedTools", "bashCommandClamp", "stallMs"})


def agent_option_warnings(tokens: list[Token], path: str) -> list[Problem]:
    """Keys of object literals passed as ``agent(prompt, {...})`` that Workcrew ignores (warnings).

    Options built at run time are warned about when the call is made, once per run.
    """
    warnings: list[Problem] = []
    for i, token in enumerate(tokens):
        if not (token.kind == "ident" and token.value == "agent" and _is(_at(tokens, i + 1), "punct", "(")
                and not _is(_at(tokens, i - 1), "punct", ".")):
            continue
        depth, j = 0, i + 1
        while j < len(tokens):  # the second argument starts after the first comma at the call's own depth
            value = tokens[j].value if tokens[j].kind == "punct" else ""
            if value in ("(", "[", "{"):
                depth += 1
            elif value in (")", "]", "}"):
                depth -= 1
                if depth == 0:
                    break
            elif value == "," and depth == 1:
                break
            j += 1
        if _is(_at(tokens, j), "punct", ",") and _is(_at(tokens, j + 1), "punct", "{"):
            warnings += _unknown_keys(tokens, j + 1, path)
    return warnings


def _at(tokens: list[Token], i: int) -> Token | None:
    return tokens[i] if 0 <= i < len(tokens) else None


def _unknown_keys(tokens: list[Token], opening: int, path: str) -> list[Problem]:
    out: list[Problem] = []
    depth, j = 0, opening
    while j < len(tokens):
        token = tokens[j]
        if token.kind == "punct" and token.value in ("(", "[", "{"):
            depth += 1
        elif token.kind == "punct" and token.value in (")", "]", "}"):
            depth -= 1
            if depth == 0:
                break
        elif depth == 1 and token.kind in ("ident", "str") and _is(_at(tokens, j - 1), "punct", "{", ","):
            after = _at(tokens, j + 1)
            if _is(after, "punct", ":", ",", "}"):
                key = string_value(token.value) if token.kind == "str" else token.value
                if key in UNSUPPORTED_AGENT_OPTIONS:
                    out.append(Problem(path, token.line, token.col, "agent-option",
                                       f"agent() option {key!r} is not supported by Workcrew and is ignored",
                                       "warning"))
                elif key not in AGENT_OPTIONS:
                    out.append(Problem(path, token.line, token.col, "agent-option",
                                       f"agent() option {key!r} is unknown and is ignored (the options are "
                                       f"{', '.join(AGENT_OPTIONS)})", "warning"))
        j += 1
    return out
