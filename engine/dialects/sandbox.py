"""The Python dialect's sandbox: static rules checked before a run, and the runtime traps behind them.

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
import builtins
import collections
import dataclasses
import enum
import itertools
import json
import math
import textwrap
import types
import typing
from collections.abc import Callable
from typing import Any

import pydantic

from ..errors import Problem
from . import patterns

NONDETERMINISTIC_MODULES = {
    "time": "reads the clock",
    "random": "is random",
    "datetime": "reads the clock",
    "uuid": "is random",
    "secrets": "is random",
    "os": "reads the environment and os.urandom",
    "timeit": "reads the clock",
}

FORBIDDEN_BUILTINS = {
    "open", "exec", "eval", "compile", "__import__", "globals", "locals", "vars", "getattr", "setattr",
    "delattr", "input", "breakpoint", "help", "memoryview", "type", "object", "dir", "id", "exit", "quit",
    "__build_class__", "__loader__", "__spec__", "copyright", "credits", "license", "bytearray",
    "BaseException", "SystemExit", "KeyboardInterrupt", "GeneratorExit", "hash", "format",
}
BUILTIN_HINTS = {
    "BaseException": "catch Exception instead: BaseException would also catch the engine's stop signal",
    "hash": "hash() of text changes from process to process, so a replay would differ",
    "format": "use an f-string",
    "getattr": "name the attribute directly",
    "type": "use isinstance()",
}

FORBIDDEN_ATTRIBUTE_PREFIXES = ("gi_", "cr_", "ag_", "f_", "tb_", "co_", "func_", "im_")
FORBIDDEN_ATTRIBUTES = {
    "mro", "format", "format_map", "with_traceback", "im_class", "im_func", "im_self", "parse_file",
    "parse_raw", "parse_obj_as", "from_orm", "update_forward_refs", "model_rebuild", "from_attributes",
}
# itertools shapes that never end (repeat only without `times`); consumed inside one C call they
# cannot be interrupted
UNBOUNDED_ITERATORS = {"count", "cycle"}
C_CONSUMERS = {"list", "tuple", "set", "frozenset", "dict", "sorted", "sum", "max", "min", "all", "any", "bytes",
               "join", "extend", "update", "prod", "fsum", "Counter", "deque", "OrderedDict"}
MAX_INT_BITS = 1_000_000  # about 300,000 decimal digits
MAX_REPEAT = 10_000_000  # elements or characters made by one `*` or range()
MAX_SORT = 2_000_000  # items in one sort: about a second of C that no tick can interrupt
MAX_PRODUCT = 20_000  # items in one math.prod(): a product of many integers grows for minutes

SAFE_BUILTIN_NAMES = [
    "abs", "all", "any", "ascii", "bin", "bool", "bytes", "callable", "chr", "dict", "divmod", "enumerate",
    "filter", "float", "frozenset", "hex", "int", "isinstance", "issubclass", "iter", "len", "list",
    "map", "max", "min", "next", "oct", "ord", "pow", "range", "repr", "reversed", "round", "set", "slice",
    "sorted", "str", "sum", "tuple", "zip", "property", "classmethod", "staticmethod", "super", "aiter", "anext",
    "complex", "NotImplemented", "Ellipsis", "Exception", "ArithmeticError", "AssertionError", "AttributeError",
    "IndexError", "KeyError", "LookupError", "NotImplementedError", "OverflowError", "RecursionError",
    "RuntimeError", "StopIteration", "StopAsyncIteration", "TypeError", "ValueError", "ZeroDivisionError",
    "UnicodeError", "TimeoutError",
]

# Public names a script may use from each allowed module (no submodules, no importers, no eval hooks).
MODULE_EXPORTS: dict[str, list[str]] = {
    "json": ["dumps", "loads", "JSONDecodeError"],
    "re": ["compile", "search", "match", "fullmatch", "findall", "finditer", "sub", "subn", "split", "escape",
           "IGNORECASE", "MULTILINE", "DOTALL", "VERBOSE", "ASCII", "I", "M", "S", "X", "A", "Pattern", "Match",
           "error"],
    "math": [n for n in dir(math) if not n.startswith("_")],
    "itertools": [n for n in dir(itertools) if not n.startswith("_")],
    "collections": ["Counter", "defaultdict", "OrderedDict", "deque", "namedtuple", "ChainMap"],
    "textwrap": ["dedent", "indent", "shorten", "wrap", "fill"],
    "enum": ["Enum", "IntEnum", "StrEnum", "Flag", "IntFlag", "auto", "unique"],
    "dataclasses": ["dataclass", "field", "asdict", "astuple", "replace", "fields", "is_dataclass"],
    "typing": ["Any", "Optional", "Union", "Literal", "List", "Dict", "Tuple", "Set", "FrozenSet", "Sequence",
               "Mapping", "Iterable", "Annotated", "TypedDict", "NamedTuple", "Callable", "cast"],
    "pydantic": ["BaseModel", "Field", "ValidationError", "ConfigDict", "field_validator", "model_validator",
                 "conlist", "constr", "conint", "confloat", "PositiveInt", "NonNegativeInt", "PositiveFloat",
                 "StrictStr", "StrictInt", "StrictBool"],
}


class ScriptModel(pydantic.BaseModel):
    """The ``pydantic.BaseModel`` scripts see: it never reads attributes of arbitrary objects.

    ``from_attributes`` validation calls ``getattr`` with names taken from field aliases, which are
    plain strings, so it would walk into dunder attributes the static check forbids by name.
    """

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if cls.model_config.get("from_attributes"):
            raise TypeError("from_attributes is not available in workflow scripts; validate dicts instead")

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("from_attributes"):
            raise TypeError("from_attributes is not available in workflow scripts; validate dicts instead")
        return super().model_validate(obj, *args, **kwargs)


ScriptModel.__name__ = ScriptModel.__qualname__ = "BaseModel"

_MODULES: dict[str, types.ModuleType] = {
    "json": json, "re": patterns, "math": math, "itertools": itertools, "collections": collections,
    "textwrap": textwrap, "enum": enum, "dataclasses": dataclasses, "typing": typing, "pydantic": pydantic,
}
MAX_FACTORIAL_N = 100_000


def _bounded(function: Callable[..., Any]) -> Callable[..., Any]:
    """math.factorial/comb/perm with n capped: one call on a huge n runs for minutes in C."""

    def call(n: Any, *rest: Any) -> Any:
        if isinstance(n, int) and n > MAX_FACTORIAL_N:
            raise OverflowError(f"math.{function.__name__}({n:,}) is over the {MAX_FACTORIAL_N:,} limit for workflow scripts")
        return function(n, *rest)

    call.__name__ = function.__name__
    return call


def _bounded_prod(iterable: Any, /, *, start: Any = 1) -> Any:
    """math.prod over a list or range runs in C from start to end; a generator ticks between items."""
    if hasattr(iterable, "__len__") and len(iterable) > MAX_PRODUCT:
        raise OverflowError(f"math.prod() of {len(iterable):,} items is over the {MAX_PRODUCT:,} limit for workflow "
                            "scripts; multiply in a loop instead")
    return math.prod(iterable, start=start)


_OVERRIDES: dict[str, dict[str, Any]] = {
    "pydantic": {"BaseModel": ScriptModel},
    "math": {**{name: _bounded(getattr(math, name)) for name in ("factorial", "comb", "perm")},
             "prod": _bounded_prod},
}
ALLOWED_MODULES = set(MODULE_EXPORTS)


class SafeModule:
    """A read-only view of an allowed module's curated names."""

    __slots__ = ("_values", "_wc_name")

    def __init__(self, name: str) -> None:
        module = _MODULES[name]
        values = {n: getattr(module, n) for n in MODULE_EXPORTS[name] if hasattr(module, n)}
        values.update(_OVERRIDES.get(name, {}))
        object.__setattr__(self, "_wc_name", name)
        object.__setattr__(self, "_values", values)

    def __getattr__(self, item: str) -> Any:
        values = object.__getattribute__(self, "_values")
        if item in values:
            return values[item]
        name = object.__getattribute__(self, "_wc_name")
        raise AttributeError(f"{name}.{item} is not available in workflow scripts")

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("modules are read-only in workflow scripts")

    def __repr__(self) -> str:
        return f"<module {object.__getattribute__(self, '_wc_name')!r} (workflow view)>"


_SAFE_MODULES = {name: SafeModule(name) for name in ALLOWED_MODULES}


def _safe_import(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0) -> Any:
    if level != 0 or name not in _SAFE_MODULES:
        raise ImportError(f"import of {name!r} is not allowed in workflow scripts")
    return _SAFE_MODULES[name]


# -- runtime guards: operations whose one C call could run for minutes ----------------------------------


def _int_bits(value: Any) -> int:
    return value.bit_length() if isinstance(value, int) and not isinstance(value, bool) else 0


def guarded_pow(base: Any, exponent: Any, modulo: Any = None) -> Any:
    if modulo is None and isinstance(exponent, int) and exponent > 1 and _int_bits(base) > 1:
        bits = int(math.log2(abs(base)) * exponent) + 1
        if bits > MAX_INT_BITS:
            raise OverflowError(
                f"{base if _int_bits(base) < 64 else f'a {_int_bits(base)}-bit integer'} ** {exponent:,} would "
                f"have about {bits:,} bits; workflow scripts cap "
                f"integers at {MAX_INT_BITS:,} bits because one such step cannot be interrupted"
            )
    return pow(base, exponent, modulo) if modulo is not None else base**exponent


def guarded_lshift(value: Any, count: Any) -> Any:
    if isinstance(count, int) and _int_bits(value) and _int_bits(value) + count > MAX_INT_BITS:
        raise OverflowError(f"<< {count:,} would make an integer over {MAX_INT_BITS:,} bits")
    return value << count


# call forms that make a type out of field types given as values (text among them would be evaluated)
FUNCTIONAL_TYPES = frozenset({"NamedTuple", "TypedDict", "create_model", "ForwardRef", "make_dataclass", "NewType",
                              "TypeAliasType", "TypeVar", "get_type_hints", "TypeAdapter"})


def guarded_mul(left: Any, right: Any) -> Any:
    bits = _int_bits(left) + _int_bits(right)
    if bits > MAX_INT_BITS and _int_bits(left) and _int_bits(right):
        raise OverflowError(f"multiplying these integers would make about {bits:,} bits; workflow scripts cap "
                            f"integers at {MAX_INT_BITS:,} bits because one such step cannot be interrupted")
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, str | bytes | list | tuple) and isinstance(times, int) and len(seq) * times > MAX_REPEAT:
            raise MemoryError(
                f"repeating {len(seq):,} items {times:,} times is over the {MAX_REPEAT:,} limit for workflow scripts"
            )
    return left * right


def _check_sort_size(items: Any) -> None:
    if isinstance(items, list | tuple | set | frozenset | dict | range) and len(items) > MAX_SORT:
        raise OverflowError(f"sorting {len(items):,} items is over the {MAX_SORT:,} limit for workflow scripts: "
                            "one sort runs in C and cannot be interrupted")


def guarded_sorted(iterable: Any, /, *, key: Any = None, reverse: bool = False) -> list[Any]:
    _check_sort_size(iterable)
    return sorted(iterable, key=key, reverse=reverse)


def sortable(value: Any) -> Any:
    """``x.sort(...)`` runs as ``sortable(x).sort(...)``."""
    _check_sort_size(value)
    return value


def guarded_range(*args: int) -> range:
    made = range(*args)
    if len(made) > MAX_REPEAT:
        raise MemoryError(f"range() of {len(made):,} numbers is over the {MAX_REPEAT:,} limit for workflow scripts")
    return made


def checked_type(value: Any) -> Any:
    """An annotation's value, refused when it holds text: pydantic would eval() that text later."""
    _check_type(value, 0)
    return value


def _check_type(value: Any, depth: int) -> None:
    if depth > 20:
        return
    if isinstance(value, str | typing.ForwardRef):
        raise TypeError(
            f"annotation {value!r} is text; pydantic would evaluate it as code. Write the type itself"
        )
    if isinstance(value, list | tuple):
        for item in value:
            _check_type(item, depth + 1)
        return
    origin = typing.get_origin(value)
    if origin is typing.Literal:
        return
    arguments = typing.get_args(value)
    if origin is typing.Annotated:
        arguments = arguments[:1]
    for item in arguments:
        _check_type(item, depth + 1)


GUARDS: dict[str, Any] = {
    "__wc_pow__": guarded_pow, "__wc_lshift__": guarded_lshift, "__wc_mul__": guarded_mul,
    "__wc_type__": checked_type, "__wc_sortable__": sortable,
}


def safe_builtins(print_fn: Callable[..., None]) -> dict[str, Any]:
    table: dict[str, Any] = {name: getattr(builtins, name) for name in SAFE_BUILTIN_NAMES}
    table["print"] = print_fn
    table["pow"] = guarded_pow
    table["range"] = guarded_range
    table["sorted"] = guarded_sorted
    table["__import__"] = _safe_import
    # class statements need these two; scripts cannot name them (no leading underscores)
    table["__build_class__"] = builtins.__build_class__
    table["__name__"] = "workflow"
    return table


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


# -- instrumentation: a watchdog tick in every loop and function body ---------------------------------

TICK_NAME = "__wc_tick__"


class _Instrument(ast.NodeTransformer):
    def _tick(self, node: ast.AST) -> ast.stmt:
        call = ast.Expr(ast.Call(ast.Name(TICK_NAME, ast.Load()), [], []))
        return ast.copy_location(call, node)

    def _prefix(self, node: Any) -> Any:
        self.generic_visit(node)
        node.body.insert(0, self._tick(node))
        if getattr(node, "returns", None) is not None:
            node.returns = self._checked(node.returns)
        return node

    visit_For = visit_AsyncFor = visit_While = _prefix
    visit_FunctionDef = visit_AsyncFunctionDef = _prefix

    def visit_Lambda(self, node: ast.Lambda) -> Any:
        self.generic_visit(node)
        # (tick(), body)[1] keeps lambdas interruptible without changing their value
        tick = ast.Call(ast.Name(TICK_NAME, ast.Load()), [], [])
        node.body = ast.Subscript(ast.Tuple([tick, node.body], ast.Load()), ast.Constant(1), ast.Load())
        return node

    def _comprehension(self, node: Any) -> Any:
        self.generic_visit(node)
        for generator in node.generators:
            tick = ast.Call(ast.Name(TICK_NAME, ast.Load()), [], [])
            # `if tick()` is always true: tick returns True or raises
            generator.ifs.insert(0, tick)
        return node

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension

    # `a ** b`, `a << b` and `seq * n` go through guards: one such C step cannot be interrupted by a tick
    _GUARDED_OPS: dict[type[ast.operator], str] = {ast.Pow: "__wc_pow__", ast.LShift: "__wc_lshift__",
                                                   ast.Mult: "__wc_mul__"}

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        self.generic_visit(node)
        guard = self._GUARDED_OPS.get(type(node.op))
        if guard is None:
            return node
        return ast.copy_location(ast.Call(ast.Name(guard, ast.Load()), [node.left, node.right], []), node)

    def visit_Call(self, node: ast.Call) -> Any:
        self.generic_visit(node)
        function = node.func
        if isinstance(function, ast.Attribute) and function.attr == "sort":
            # `x.sort()` sorts in one C call: the size is checked first (`sorted` is guarded the same way)
            function.value = ast.copy_location(
                ast.Call(ast.Name("__wc_sortable__", ast.Load()), [function.value], []), function.value)
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> Any:
        self.generic_visit(node)
        guard = self._GUARDED_OPS.get(type(node.op))
        if guard is None or not isinstance(node.target, ast.Name):
            return node
        value = ast.Call(ast.Name(guard, ast.Load()), [ast.Name(node.target.id, ast.Load()), node.value], [])
        return ast.copy_location(ast.Assign([node.target], value), node)

    # annotations pass through a check that refuses text, which pydantic would otherwise eval()
    def _checked(self, annotation: ast.expr) -> ast.expr:
        return ast.copy_location(ast.Call(ast.Name("__wc_type__", ast.Load()), [annotation], []), annotation)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> Any:
        self.generic_visit(node)
        node.annotation = self._checked(node.annotation)
        return node

    def visit_arg(self, node: ast.arg) -> Any:
        self.generic_visit(node)
        if node.annotation is not None:
            node.annotation = self._checked(node.annotation)
        return node


def instrument(tree: ast.Module) -> ast.Module:
    out = _Instrument().visit(tree)
    assert isinstance(out, ast.Module)
    return ast.fix_missing_locations(out)
