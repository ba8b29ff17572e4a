"""Claude Code's JavaScript dialect: ``export const meta = {...}`` first, then a body that runs as an
async function in an embedded QuickJS engine, on the same scheduler, budget, store and events as the
Python dialect. Install with ``pip install 'workcrew[js]'``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...errors import Problem, ScriptError
from ..meta import WorkflowMeta, validate_meta
from .js.checks import agent_option_warnings, code_problems, read_meta_literal, typescript_problem
from .js.host import BODY_PREFIX, BODY_SUFFIX, Compiled, JsHost
from .js.tokens import Token, TokenizeError, tokenize

if TYPE_CHECKING:
    from ...runtime.scripthost.guest import GuestContext as ScriptContext



def _unbalanced(tokens: list[Token], path: str) -> Problem | None:
    """A closing bracket with no opening one: it would close the function the body runs in."""
    pairs = {")": "(", "]": "[", "}": "{"}
    stack: list[str] = []
    for token in tokens:
        if token.kind != "punct":
            continue
        if token.value in "([{":
            stack.append(token.value)
        elif token.value in pairs:
            if not stack or stack[-1] != pairs[token.value]:
                return Problem(path, token.line, token.col, "syntax", f"unexpected {token.value!r}")
            stack.pop()
    return None


def _engine_syntax(wrapped: str, path: str) -> Problem | None:
    """Compile the body without running it, in a confined child (see ``js.syntax``); the engine's
    SyntaxError with the line, if any."""
    from .js.syntax import SyntaxCheckFailed, engine_errors

    try:
        text = engine_errors([wrapped])[0]
    except SyntaxCheckFailed as exc:
        return Problem(path, 1, 1, "syntax", f"{exc}; the script cannot be checked")
    if text is not None:
        first = text.split("\n", 1)[0]
        line, col = 1, 1
        if "at <input>:" in text:
            where = text.split("at <input>:", 1)[1].split("\n", 1)[0].rstrip(")")
            parts = where.split(":")
            if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
                line, col = int(parts[0]), int(parts[1])
        if line == 1:
            col = max(1, col - len(BODY_PREFIX))
        message = first.removeprefix("SyntaxError: ")
        lines = wrapped[len(BODY_PREFIX) : -len(BODY_SUFFIX)].splitlines()
        if line > len(lines):  # past the end: the script stops in the middle of something
            filled = [n for n, text in enumerate(lines, start=1) if text.strip()]
            line, col = (filled[-1] if filled else 1), 1
            message = f"unexpected end of the script ({message})"
        return Problem(path, line, col, "syntax", message)
    return None


def analyse(source: str, path: str) -> tuple[WorkflowMeta | None, list[Problem], str, list[Problem]]:
    """(meta, every problem, the wrapped body, warnings)."""
    try:
        tokens = tokenize(source)
    except TokenizeError as exc:
        return None, [Problem(path, exc.line, exc.col, "syntax", exc.message)], "", []
    problems: list[Problem] = []
    warnings: list[Problem] = []
    literal = read_meta_literal(tokens, path)
    problems += literal.problems
    meta: WorkflowMeta | None = None
    if literal.value is not None and literal.start is not None:
        meta, errors, notes = validate_meta(literal.value)
        problems += [Problem(path, literal.start.line, literal.start.col, "meta", e) for e in errors]
        warnings += [Problem(path, literal.start.line, literal.start.col, "meta", n, "warning") for n in notes]
    code = code_problems(tokens, path, literal.end_index if literal.start is not None else 0)
    problems += code
    # `export` of meta becomes blanks: the meta statement runs as a plain const, columns unchanged (a
    # late meta is blanked too, so it is reported once, as meta-first, not again as a syntax error)
    body = source
    exports = [t for i, t in enumerate(tokens) if t.value == "export" and t.kind == "ident"
               and [x.value for x in tokens[i + 1 : i + 4]] == ["const", "meta", "="]]
    for token in reversed(exports):
        body = body[: token.start] + " " * len("export") + body[token.end :]
    wrapped = BODY_PREFIX + body + BODY_SUFFIX
    unbalanced = _unbalanced(tokens, path)
    if unbalanced is not None:
        problems.append(unbalanced)
    else:
        syntax = _engine_syntax(wrapped, path)
        if syntax is not None:
            typescript = typescript_problem(tokens, path)
            flagged = {p.line for p in code if p.rule == "import"}
            if typescript is not None:
                problems.append(typescript)
            elif syntax.line not in flagged:
                problems.append(syntax)
    warnings += agent_option_warnings(tokens, path)
    unique = {(p.line, p.col, p.rule, p.message): p for p in problems}
    return meta, sorted(unique.values(), key=lambda p: (p.line, p.col)), wrapped, warnings


def read_meta(source: str, path: str) -> tuple[WorkflowMeta | None, list[Problem]]:
    meta, problems, _, warnings = analyse(source, path)
    return meta, problems + warnings


def compile_body(source: str, path: str) -> Compiled:
    _, problems, wrapped, _ = analyse(source, path)
    if problems:
        raise ScriptError(problems)
    return Compiled(path=path, wrapped=wrapped)


async def execute(compiled: Compiled, ctx: ScriptContext) -> Any:
    return await JsHost(compiled, ctx).run()
