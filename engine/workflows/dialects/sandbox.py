"""The Python dialect's sandbox: static rules checked before a run (this module), and the runtime traps
behind them (``guards``, ``instrument``).

First line: an AST check that rejects imports outside an allowlist, names and attributes that start
with ``_``, introspection attributes (frames, code objects, generators), string formatting that can
walk attributes, dangerous builtins, and clocks or randomness. Second line: the script runs with a
restricted ``__builtins__``, curated module proxies and a guarded pydantic ``BaseModel``, so a missed
rule still finds nothing to call; annotations and the operators that can start one endless C call
(``**``, ``<<``, ``*``, ``range``) go through runtime guards. Third: a tick in every loop, call and
comprehension step lets the run stop a busy script (see ``runtime/state.py``).
"""

from __future__ import annotations

import ast

from ...errors import Problem
from .guards import (
    ALLOWED_MODULES,
    BUILTIN_HINTS,
    C_CONSUMERS,
    FORBIDDEN_ATTRIBUTE_PREFIXES,
    FORBIDDEN_ATTRIBUTES,
    FORBIDDEN_BUILTINS,
    FUNCTIONAL_TYPES,
    MODULE_EXPORTS,
    NONDETERMINISTIC_MODULES,
    UNBOUNDED_ITERATORS,
)

# -- static check -------------------------------------------------------------------------------------


class _Checker(ast.NodeVisitor):
    def __init__(self, path: str, line_offset: int, col_offset: int, modules: dict[str, str],
                 from_itertools: dict[str, str]) -> None:
        self.path = path
        self.line_offset = line_offset
        self.col_offset = col_offset
        self.modules = modules  # local name -> allowed module it is bound to by `import`
        self.from_itertools = from_itertools  # local name -> itertools function (`from itertools import count`)
        self.problems: list[Problem] = []

    def add(self, node: ast.AST, rule: str, message: str) -> None:
        line = max(1, getattr(node, "lineno", 1) - self.line_offset)
        col = getattr(node, "col_offset", 0)
        col = max(1, col - self.col_offset + 1)
        self.problems.append(Problem(self.path, line, col, rule, message))

    def _check_name(self, node: ast.AST, name: str, what: str) -> None:
        if name.startswith("_"):
            self.add(node, "private-name", f"{what} {name!r} starts with '_'; names with a leading underscore are reserved")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._check_module(node, alias.name)
            if alias.asname:
                self._check_name(node, alias.asname, "alias")
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            self.add(node, "import", "relative imports are not allowed in workflow scripts")
            return
        self._check_module(node, node.module or "")
        root = (node.module or "").split(".")[0]
        for alias in node.names:
            if alias.name == "*":
                self.add(node, "import", "'import *' is not allowed; import the names you use")
            elif root in MODULE_EXPORTS and "." not in (node.module or "") and alias.name not in MODULE_EXPORTS[root]:
                self.add(node, "import", f"{root}.{alias.name} is not available in workflow scripts")
            self._check_name(node, alias.name, "imported name")
            if alias.asname:
                self._check_name(node, alias.asname, "alias")
        self.generic_visit(node)

    def _check_module(self, node: ast.AST, module: str) -> None:
        root = module.split(".")[0]
        if root in NONDETERMINISTIC_MODULES:
            self.add(node, "determinism", f"module {root!r} {NONDETERMINISTIC_MODULES[root]}; scripts must be "
                     "deterministic so a run can be replayed — pass timestamps or seeds in args")
        elif root not in ALLOWED_MODULES:
            self.add(node, "import", f"module {module!r} is not allowed; scripts may import only "
                     + ", ".join(sorted(ALLOWED_MODULES)))
        elif "." in module:
            self.add(node, "import", f"submodule {module!r} is not allowed; import {root!r} itself")

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in FORBIDDEN_BUILTINS:
            hint = f" ({BUILTIN_HINTS[node.id]})" if node.id in BUILTIN_HINTS else ""
            self.add(node, "forbidden-builtin", f"{node.id!r} is not available in workflow scripts{hint}")
        else:
            self._check_name(node, node.id, "name")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        attr = node.attr
        if attr.startswith("_"):
            self.add(node, "private-attribute", f"attribute {attr!r} starts with '_'; introspection is not allowed")
        elif attr in FORBIDDEN_ATTRIBUTES or attr.startswith(FORBIDDEN_ATTRIBUTE_PREFIXES):
            hint = " (use an f-string)" if attr in ("format", "format_map") else ""
            self.add(node, "forbidden-attribute", f"attribute {attr!r} is not allowed in workflow scripts{hint}")
        if isinstance(node.value, ast.Name) and node.value.id in NONDETERMINISTIC_MODULES:
            self.add(node, "determinism", f"{node.value.id}.{attr} is not deterministic")
        elif isinstance(node.value, ast.Name) and node.value.id in self.modules and not attr.startswith("_"):
            module = self.modules[node.value.id]
            if attr not in MODULE_EXPORTS[module]:
                self.add(node, "module-attribute", f"{module}.{attr} is not available in workflow scripts "
                         "(only the documented names of allowed modules are)")
        self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._check_function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._check_function(node)

    def _check_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._check_name(node, node.name, "function")
        self._check_args(node.args)
        for annotation in _annotations(node):
            self._check_annotation(annotation)
        self.generic_visit(node)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._check_args(node.args)
        self.generic_visit(node)

    def _check_args(self, args: ast.arguments) -> None:
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
        every += [a for a in (args.vararg, args.kwarg) if a is not None]
        for arg in every:
            self._check_name(arg, arg.arg, "parameter")

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._check_name(node, node.name, "class")
        for keyword in node.keywords:
            if keyword.arg == "metaclass":
                self.add(node, "forbidden-class", "metaclasses are not allowed in workflow scripts")
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._check_annotation(node.annotation)
        self.generic_visit(node)

    def _check_annotation(self, node: ast.expr) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            self.add(node, "string-annotation", "string annotations are evaluated later; write the type itself")
            return
        if isinstance(node, ast.Subscript):
            head = node.value
            name = head.attr if isinstance(head, ast.Attribute) else head.id if isinstance(head, ast.Name) else ""
            if name == "Literal":
                return  # Literal["a", "b"] holds values, not types
            if name == "Annotated":
                first = node.slice.elts[0] if isinstance(node.slice, ast.Tuple) and node.slice.elts else node.slice
                self._check_annotation(first)  # the metadata after the type may be any value
                return
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self._check_annotation(child)

    def visit_keyword(self, node: ast.keyword) -> None:
        if node.arg is not None:
            self._check_name(node, node.arg, "keyword")
            if node.arg == "from_attributes":
                self.add(node, "forbidden-attribute", "from_attributes is not available in workflow scripts "
                         "(it reads attributes by name); validate dicts instead")
        self.generic_visit(node)

    def visit_Global(self, node: ast.Global) -> None:
        self.add(node, "global", "'global' is not allowed; keep state in variables of the script body")

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        for name in node.names:
            self._check_name(node, name, "name")

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is None:
            self.add(node, "broad-except", "a bare 'except:' would also catch the engine's stop signal; "
                     "write 'except Exception:'")
        if node.name:
            self._check_name(node, node.name, "exception name")
        self.generic_visit(node)

    def visit_Dict(self, node: ast.Dict) -> None:
        for key in node.keys:
            if isinstance(key, ast.Constant) and key.value == "from_attributes":
                self.add(key, "forbidden-attribute", "from_attributes is not available in workflow scripts "
                         "(it reads attributes by name); validate dicts instead")
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        for op, right in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.In | ast.NotIn) and self._unbounded(right):
                self._unbounded_problem(right, "'in'")
        self.generic_visit(node)

    def visit_Starred(self, node: ast.Starred) -> None:
        if self._unbounded(node.value):
            self._unbounded_problem(node.value, "'*' unpacking")
        self.generic_visit(node)

    def _unbounded(self, node: ast.expr) -> bool:
        """An iterator that never ends: itertools.count(), cycle(), repeat(x), iter(f, sentinel)."""
        if not isinstance(node, ast.Call):
            return False
        func = node.func
        if isinstance(func, ast.Name) and func.id == "iter":
            return len(node.args) == 2
        # only itertools' own functions: `text.count("a")` is a number, not an iterator
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            name = func.attr if self.modules.get(func.value.id) == "itertools" else ""
        elif isinstance(func, ast.Name):
            name = self.from_itertools.get(func.id, "")
        else:
            name = ""
        if name == "repeat":
            return len(node.args) < 2 and not any(k.arg == "times" for k in node.keywords)
        return name in UNBOUNDED_ITERATORS

    def _unbounded_problem(self, node: ast.expr, how: str) -> None:
        self.add(node, "unbounded", f"{how} consumes an endless iterator in one step that cannot be interrupted; "
                 "bound it (zip with a list, itertools.islice) or loop with 'for'")

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            dotted = f"{func.value.id}.{func.attr}"
            if dotted in {"datetime.now", "datetime.utcnow", "date.today", "os.urandom"}:
                self.add(node, "determinism", f"{dotted}() is not deterministic")
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in FUNCTIONAL_TYPES:
            # types built from a call take their field types as values: text there is evaluated like a
            # string annotation (pydantic eval()s it with real builtins), so the class syntax is required
            self.add(node, "string-annotation", f"{name}(...) builds a type from values, where text would be "
                                                "evaluated; write it as a class")
        if name in C_CONSUMERS:
            for arg in node.args:
                if self._unbounded(arg):
                    self._unbounded_problem(arg, f"{name}()")
        self.generic_visit(node)

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        if node.name:
            self._check_name(node, node.name, "name")
        self.generic_visit(node)

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        if node.name:
            self._check_name(node, node.name, "name")
        self.generic_visit(node)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        if node.rest:
            self._check_name(node, node.rest, "name")
        self.generic_visit(node)

    def visit_MatchClass(self, node: ast.MatchClass) -> None:
        # `case C(attr=x)` reads x = subject.attr: the same rules as writing the attribute out
        for attr in node.kwd_attrs:
            if attr.startswith("_"):
                self.add(node, "private-attribute", f"attribute {attr!r} starts with '_'; introspection is not allowed")
            elif attr in FORBIDDEN_ATTRIBUTES or attr.startswith(FORBIDDEN_ATTRIBUTE_PREFIXES):
                self.add(node, "forbidden-attribute", f"attribute {attr!r} is not allowed in workflow scripts")
        self.generic_visit(node)


def _annotations(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.expr]:
    args = node.args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs, *(a for a in (args.vararg, args.kwarg) if a)]
    out = [a.annotation for a in every if a.annotation is not None]
    if node.returns is not None:
        out.append(node.returns)
    return out


def module_aliases(tree: ast.AST) -> dict[str, str]:
    """Names bound by imports anywhere in the script: ``import m [as n]`` gives ``n -> m``;
    ``from itertools import f [as g]`` gives ``g -> itertools.f``."""
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in MODULE_EXPORTS:
                    out[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module == "itertools" and not node.level:
            for alias in node.names:
                out[alias.asname or alias.name] = f"itertools.{alias.name}"
    return out


def check_tree(tree: ast.AST, path: str, *, line_offset: int = 0, col_offset: int = 0,
               modules: dict[str, str] | None = None) -> list[Problem]:
    bound = module_aliases(tree) if modules is None else modules
    checker = _Checker(path, line_offset, col_offset,
                       {k: v for k, v in bound.items() if "." not in v},
                       {k: v.split(".", 1)[1] for k, v in bound.items() if v.startswith("itertools.")})
    checker.visit(tree)
    unique = {(p.line, p.col, p.rule, p.message): p for p in checker.problems}
    return sorted(unique.values(), key=lambda p: (p.line, p.col))
