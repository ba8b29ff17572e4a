"""What a Python script runs with: the allowed modules (as curated proxies), the builtins it gets, a
guarded pydantic ``BaseModel``, and the runtime guards on operations whose one C call could run for
minutes (``**``, ``<<``, ``*``, ``range``, sorting) or that evaluate text (annotations)."""

from __future__ import annotations

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
