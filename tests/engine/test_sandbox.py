"""The sandbox: every escape attempt is rejected before the run, and the runtime layer blocks it too.

Each corpus entry is (script body, the rule that must fire, the error the runtime layer raises when the
static check is bypassed — or None where only the static check applies, e.g. attribute names).
"""

from __future__ import annotations

import ast
import asyncio
from typing import Any

import pytest
from workcrew.engine.workflows.dialects import guards, instrument
from workcrew.engine.workflows.dialects import python as dialect

META = 'meta = {"name": "t", "description": "d"}\n'

# id -> (body, rule, runtime exception type or None)
CORPUS: dict[str, tuple[str, str, type[BaseException] | None]] = {
    # dunder walks and introspection attributes
    "subclasses walk": ("x = ().__class__.__bases__[0].__subclasses__()", "private-attribute", None),
    "instance dict": ("x = args.__dict__", "private-attribute", None),
    "bound method self": ("x = agent.__self__", "private-attribute", None),
    "budget internals": ("x = budget._budget", "private-attribute", None),
    "function globals": ("def f():\n    pass\nx = f.__globals__", "private-attribute", None),
    "generator frame": ("g = (i for i in [1])\nx = g.gi_frame.f_back.f_globals", "forbidden-attribute", None),
    "coroutine frame": ("async def f():\n    pass\nx = f().cr_frame", "forbidden-attribute", None),
    "async generator frame": ("async def f():\n    yield 1\nx = f().ag_frame", "forbidden-attribute", None),
    "traceback frame": ("try:\n    1 / 0\nexcept Exception as e:\n    x = e.__traceback__.tb_frame",
                        "private-attribute", None),
    "with_traceback": ("try:\n    1 / 0\nexcept Exception as e:\n    e.with_traceback(None)",
                       "forbidden-attribute", None),
    "mro": ("x = int.mro()", "forbidden-attribute", None),
    # attribute access hidden in strings
    "format attribute walk": ('x = "{0.__class__}".format(args)', "forbidden-attribute", None),
    "str.format unbound": ('x = str.format("{0.__class__}", 1)', "forbidden-attribute", None),
    "format_map": ('x = "{a.__class__}".format_map({"a": 1})', "forbidden-attribute", None),
    "f-string dunder": ('x = f"{args.__class__}"', "private-attribute", None),
    "format builtin": ('x = format(1, "x")', "forbidden-builtin", NameError),
    "match class keyword attribute": ("match ():\n    case tuple(__class__=c):\n        pass",
                                      "private-attribute", None),
    "match class frame attribute": ("g = (i for i in [1])\nmatch g:\n    case object(gi_frame=f):\n        pass",
                                    "forbidden-attribute", None),
    # builtins that are not there
    "getattr": ('x = getattr(args, "__class__")', "forbidden-builtin", NameError),
    "setattr": ('setattr(budget, "total", 1)', "forbidden-builtin", NameError),
    "delattr": ('delattr(budget, "total")', "forbidden-builtin", NameError),
    "vars": ("x = vars()", "forbidden-builtin", NameError),
    "globals": ("x = globals()", "forbidden-builtin", NameError),
    "locals": ("x = locals()", "forbidden-builtin", NameError),
    "eval": ('eval("1")', "forbidden-builtin", NameError),
    "exec": ('exec("x = 1")', "forbidden-builtin", NameError),
    "compile": ('compile("1", "f", "eval")', "forbidden-builtin", NameError),
    "open": ('open("/etc/passwd")', "forbidden-builtin", NameError),
    "dunder import": ('__import__("os")', "forbidden-builtin", ImportError),
    "type": ("x = type(args)", "forbidden-builtin", NameError),
    "object": ("x = object.__subclasses__()", "forbidden-builtin", NameError),
    "breakpoint": ("breakpoint()", "forbidden-builtin", NameError),
    "input": ("x = input()", "forbidden-builtin", NameError),
    "dir": ("x = dir(args)", "forbidden-builtin", NameError),
    "catch BaseException": ("try:\n    1 / 0\nexcept BaseException:\n    pass", "forbidden-builtin", NameError),
    "bare except": ("try:\n    pass\nexcept:\n    pass", "broad-except", None),
    # imports
    "import os": ("import os", "determinism", ImportError),
    "import sys": ("import sys", "import", ImportError),
    "import subprocess": ("import subprocess", "import", ImportError),
    "import importlib": ("import importlib", "import", ImportError),
    "import builtins": ("import builtins", "import", ImportError),
    "import ctypes": ("import ctypes", "import", ImportError),
    "from import submodule": ("from json import decoder", "import", ImportError),
    "dotted submodule": ("import collections.abc", "import", ImportError),
    "relative import": ("from . import x", "import", ImportError),
    "star import": ("from json import *", "import", SyntaxError),
    "json.codecs": ("import json\nx = json.codecs", "module-attribute", AttributeError),
    "re.sys": ("import re\nx = re.sys", "module-attribute", AttributeError),
    "typing.sys": ("import typing\nx = typing.sys", "module-attribute", AttributeError),
    "dataclasses.sys": ("import dataclasses\nx = dataclasses.sys", "module-attribute", AttributeError),
    "enum.sys": ("import enum as e\nx = e.sys", "module-attribute", AttributeError),
    "collections.abc attribute": ("import collections\nx = collections.abc", "module-attribute", AttributeError),
    "typing.get_type_hints": ("from typing import get_type_hints", "import", ImportError),
    # pydantic: importers, evaluators and attribute readers
    "pydantic.ImportString": ("import pydantic\nx = pydantic.ImportString", "module-attribute", AttributeError),
    "pydantic TypeAdapter": ("from pydantic import TypeAdapter", "import", ImportError),
    "parse_file": ("from pydantic import BaseModel\nclass M(BaseModel):\n    a: int = 0\nM.parse_file('/etc/passwd')",
                   "forbidden-attribute", None),
    "parse_raw pickle": ("from pydantic import BaseModel\nclass M(BaseModel):\n    a: int = 0\n"
                         "M.parse_raw(b'x', proto='pickle', allow_pickle=True)", "forbidden-attribute", None),
    "model_rebuild": ("from pydantic import BaseModel\nclass M(BaseModel):\n    a: int = 0\nM.model_rebuild()",
                      "forbidden-attribute", None),
    "string annotation": ("from pydantic import BaseModel\nclass M(BaseModel):\n    a: \"__import__('os')\"",
                          "string-annotation", None),
    "from_attributes call": ("from pydantic import BaseModel\nclass M(BaseModel):\n    a: int = 0\n"
                             "M.model_validate(args, from_attributes=True)", "forbidden-attribute", TypeError),
    "from_attributes config": ("from pydantic import BaseModel\nclass M(BaseModel):\n"
                               "    model_config = {'from_attributes': True}", "forbidden-attribute", TypeError),
    # clocks and randomness
    "import time": ("import time", "determinism", ImportError),
    "import random": ("import random", "determinism", ImportError),
    "import datetime": ("import datetime", "determinism", ImportError),
    "datetime.now": ("from datetime import datetime\nx = datetime.now()", "determinism", ImportError),
    "import uuid": ("import uuid", "determinism", ImportError),
    "import secrets": ("import secrets", "determinism", ImportError),
    "hash of text": ('x = hash("seeded per process")', "forbidden-builtin", NameError),
    # class and scope tricks
    "metaclass": ("class M(metaclass=list):\n    pass", "forbidden-class", None),
    "dunder getattr def": ("class C:\n    def __getattr__(self, n):\n        pass", "private-name", None),
    "init_subclass def": ("class C:\n    def __init_subclass__(cls):\n        pass", "private-name", None),
    "global": ("def f():\n    global x", "global", None),
    "private nonlocal": ("def f():\n    def g():\n        nonlocal _x", "private-name", None),
    "lambda default": ("f = lambda __x=budget: __x", "private-name", None),
    "match capture name": ("match args:\n    case _sneaky:\n        pass", "private-name", None),
    "match star name": ("match args:\n    case [*_rest]:\n        pass", "private-name", None),
    "match mapping rest": ("match args:\n    case {**_rest}:\n        pass", "private-name", None),
    "private keyword": ("agent('x', __schema=1)", "private-name", None),
    "dunder builtins name": ("x = __builtins__", "private-name", None),
    "tick name": ("__wc_tick__ = None", "private-name", None),
    # endless iterators consumed in one C call
    "list of count": ("import itertools\nx = list(itertools.count())", "unbounded", None),
    "in cycle": ("import itertools\nx = 0 in itertools.cycle([1])", "unbounded", None),
    "unpack repeat": ("import itertools\nx = [*itertools.repeat(1)]", "unbounded", None),
    "sum of iter sentinel": ("x = sum(iter(int, 1))", "unbounded", None),
    "imported count": ("from itertools import count as c\nx = max(c())", "unbounded", None),
}


def problems_of(body: str) -> list[Any]:
    return dialect.check(META + body, "wf.py")


@pytest.mark.parametrize(("body", "rule"), [(b, r) for b, r, _ in CORPUS.values()], ids=list(CORPUS))
def test_escape_is_rejected_before_the_run(body: str, rule: str) -> None:
    problems = problems_of(body)
    assert rule in {p.rule for p in problems}, [str(p) for p in problems]
    for problem in problems:
        assert str(problem).startswith(f"wf.py:{problem.line}:{problem.col}: {problem.rule}: ")
        assert problem.line >= 2  # the body starts on line 2, after meta


def test_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 40


def run_unchecked(body: str) -> Any:
    """Run a body with the static check skipped: only the runtime layer stands in the way."""
    tree = ast.parse(dialect.wrap(META + body))
    # dont_inherit: this test module's `from __future__ import annotations` must not leak into the script
    code = compile(instrument.instrument(tree), "wf.py", "exec", dont_inherit=True)
    namespace: dict[str, Any] = {
        "__builtins__": guards.safe_builtins(lambda *a, **k: None), instrument.TICK_NAME: lambda: True,
        **guards.GUARDS, "args": {"a": 1}, "budget": None, "agent": None,
    }
    exec(code, namespace)
    return asyncio.run(namespace[dialect.ENTRY]())


RUNTIME = [(body, error) for body, _, error in CORPUS.values() if error is not None]
RUNTIME_IDS = [name for name, (_, _, error) in CORPUS.items() if error is not None]


@pytest.mark.parametrize(("body", "error"), RUNTIME, ids=RUNTIME_IDS)
def test_runtime_layer_blocks_the_escape_when_the_check_is_bypassed(body: str, error: type[BaseException]) -> None:
    with pytest.raises(error):
        run_unchecked(body)


def test_text_annotation_through_a_variable_is_refused_at_runtime() -> None:
    """A name bound to text passes the static check; pydantic would eval() it, so the runtime refuses it."""
    body = "from pydantic import BaseModel\nT = \"__import__('os').getcwd()\"\nclass M(BaseModel):\n    a: T\n"
    assert problems_of(body) == []
    with pytest.raises(TypeError, match=r"annotation .* is text"):
        run_unchecked(body)
    nested = "import typing\nT = 'os'\nclass C(typing.TypedDict):\n    a: list[T]\n"
    with pytest.raises(TypeError, match="is text"):
        run_unchecked(nested)


def test_ordinary_scripts_pass_the_check_and_run() -> None:
    body = (
        "import json, re, math, itertools, collections, textwrap, enum, dataclasses, typing\n"
        "from pydantic import BaseModel, Field\n"
        "class Bug(BaseModel):\n    line: int\n    title: str = Field(description='what')\n"
        "    tags: typing.Literal['a', 'b'] = 'a'\n"
        "@dataclasses.dataclass\nclass P:\n    x: int\n"
        "class Color(enum.Enum):\n    RED = 1\n"
        "counts = collections.Counter('aab')\n"
        "pairs = list(zip(['a', 'b'], itertools.count()))\n"
        "match {'k': [1, 2]}:\n    case {'k': [first, *rest]}:\n        pass\n"
        "text = f\"{math.sqrt(16):.1f} {json.dumps({'a': 1})} {re.sub('a', 'b', 'aa')}\"\n"
        "try:\n    1 / 0\nexcept ZeroDivisionError as error:\n    caught = str(error)\n"
        "return [Bug(line=2 ** 10, title='x').line, P(3).x, Color.RED.value, counts['a'], pairs[-1], text, caught,"
        " 'ab' * 3, sorted(range(5), reverse=True)[0]]\n"
    )
    assert problems_of(body) == []
    assert run_unchecked(body) == [1024, 3, 1, 2, ("b", 1), "4.0 {\"a\": 1} bb", "division by zero", "ababab", 4]


def test_problem_positions_point_at_the_offending_code() -> None:
    problems = problems_of("x = 1\ny = args.__class__\n")
    assert [(p.line, p.col, p.rule) for p in problems] == [(3, 5, "private-attribute")]


def test_methods_named_like_itertools_are_fine() -> None:
    body = ("import itertools\ntext = 'a\\nb'\nlines = max(text.count('\\n'), 1)\n"
            "first = list(zip(['a'], itertools.count()))\nreturn [lines, first, list(itertools.repeat(0, 2))]\n")
    assert problems_of(body) == []
    assert run_unchecked(body) == [1, [("a", 0)], [0, 0]]


def test_mentions_in_strings_and_comments_are_fine() -> None:
    assert problems_of("# import os\nx = 'import time; eval(open(x))'\nlog('datetime.now() is banned')\n") == []
