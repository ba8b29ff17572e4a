"""The Python dialect: ``meta = {...}`` first, then a body that runs as an async function."""

from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass, field
from types import CodeType
from typing import TYPE_CHECKING, Any

from ...errors import Problem, ScriptError
from ..meta import WorkflowMeta, validate_meta
from . import guards, instrument, sandbox

if TYPE_CHECKING:
    from ...runtime.scripthost.guest import GuestContext as ScriptContext

ENTRY = "__wc_workflow__"
_INDENT = "    "


@dataclass
class Parsed:
    tree: ast.Module | None  # the wrapped module: one async def holding the body
    meta: WorkflowMeta | None
    problems: list[Problem]
    warnings: list[Problem] = field(default_factory=list)  # e.g. meta keys that were ignored


def _string_continuation_lines(source: str) -> set[int]:
    """1-based lines that start inside a multi-line string: indenting them would change the string."""
    inside: set[int] = set()
    middle = getattr(tokenize, "FSTRING_MIDDLE", None)
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type in (tokenize.STRING, middle) and tok.end[0] > tok.start[0]:
                inside.update(range(tok.start[0] + 1, tok.end[0] + 1))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    return inside


def wrap(source: str) -> str:
    keep = _string_continuation_lines(source)
    lines = source.splitlines()
    body = [line if (i in keep or not line.strip()) else _INDENT + line for i, line in enumerate(lines, start=1)]
    return f"async def {ENTRY}():\n" + "\n".join(body) + "\n" + _INDENT + "pass\n"


def parse(source: str, path: str) -> Parsed:
    problems: list[Problem] = []
    warnings: list[Problem] = []
    try:
        tree = ast.parse(wrap(source), filename=path)
    except SyntaxError as exc:
        line = max(1, (exc.lineno or 2) - 1)
        col = max(1, (exc.offset or 1) - len(_INDENT))
        return Parsed(None, None, [Problem(path, line, col, "syntax", exc.msg)])
    function = tree.body[0]
    assert isinstance(function, ast.AsyncFunctionDef)
    body = function.body
    first = body[0] if body else None
    meta: WorkflowMeta | None = None
    if not (
        isinstance(first, ast.Assign)
        and len(first.targets) == 1
        and isinstance(first.targets[0], ast.Name)
        and first.targets[0].id == "meta"
    ):
        node = first or function
        problems.append(Problem(path, max(1, getattr(node, "lineno", 2) - 1), 1, "meta-first",
                                "the first statement must be `meta = {...}` (a dict literal)"))
    else:
        try:
            value = ast.literal_eval(first.value)
        except (ValueError, SyntaxError, TypeError):
            problems.append(Problem(path, first.lineno - 1, 1, "meta-literal",
                                    "meta must be a pure literal: no variables, calls or expressions"))
        else:
            meta, errors, notes = validate_meta(value)
            problems += [Problem(path, first.lineno - 1, 1, "meta", e) for e in errors]
            warnings += [Problem(path, first.lineno - 1, 1, "meta", n, "warning") for n in notes]
    modules = sandbox.module_aliases(function)
    for statement in body:
        problems += sandbox.check_tree(statement, path, line_offset=1, col_offset=len(_INDENT), modules=modules)
    return Parsed(tree, meta, problems, warnings)


def check(source: str, path: str) -> list[Problem]:
    return parse(source, path).problems


def read_meta(source: str, path: str) -> tuple[WorkflowMeta | None, list[Problem]]:
    parsed = parse(source, path)
    return parsed.meta, parsed.problems + parsed.warnings


def compile_body(source: str, path: str) -> CodeType:
    parsed = parse(source, path)
    if parsed.problems or parsed.tree is None:
        raise ScriptError(parsed.problems)
    return compile(instrument.instrument(parsed.tree), path, "exec", dont_inherit=True)


async def execute(code: CodeType, ctx: ScriptContext) -> Any:
    namespace: dict[str, Any] = {
        "__builtins__": guards.safe_builtins(ctx.print),
        instrument.TICK_NAME: ctx.tick,
        **guards.GUARDS,
        **ctx.script_globals(),
    }
    exec(code, namespace)
    return await namespace[ENTRY]()
