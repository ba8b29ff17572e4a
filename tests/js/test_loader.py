"""Loading Claude-dialect scripts: meta purity, imports, TypeScript, determinism and sandbox rules, limits.

Every script under rejected/ must be refused before the run with exactly the problems its first
line lists (``// expect: rule@line ...``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from workcrew.engine import ScriptError, load_workflow, start
from workcrew.engine.workflows.dialects import javascript
from workcrew.engine.workflows.dialects.js.tokens import TokenizeError, number_value, string_value, tokenize

from .conftest import HERE

REJECTED = sorted((HERE / "rejected").glob("*.js"))


@pytest.mark.parametrize("script", REJECTED, ids=[p.stem for p in REJECTED])
def test_rejected_before_the_run(script: Path) -> None:
    first = script.read_text().splitlines()[0]
    expected = sorted(tuple(item.split("@")) for item in first.removeprefix("// expect:").split())
    workflow = load_workflow(script)
    found = sorted((p.rule, str(p.line)) for p in workflow.problems)
    assert found == expected, [str(p) for p in workflow.problems]
    for problem in workflow.problems:
        assert problem.path == str(script)
        assert problem.col >= 1
    with pytest.raises(ScriptError):
        start(workflow)


def test_problem_messages_say_what_to_do() -> None:
    workflow = load_workflow(HERE / "rejected" / "determinism.js")
    assert workflow.problems and all("pass timestamps or seeds in args" in p.message for p in workflow.problems)
    typescript = load_workflow(HERE / "rejected" / "typescript_annotation.js").problems[0]
    assert "TypeScript syntax is not supported" in typescript.message
    assert "plain JavaScript" in typescript.message
    impure = load_workflow(HERE / "rejected" / "meta_call_spread_template.js").problems
    assert [re.sub(r" is not allowed$", "", p.message.split(": ", 1)[1]) for p in impure] == [
        "a call (String(...))", "a spread (...)", "template interpolation (${...})", "a computed key ([...])",
        "a method (method() {...})", "a shorthand property (args), which reads a variable",
    ]


def test_meta_is_read_without_running_anything(tmp_path: Path) -> None:
    path = tmp_path / "listed.js"
    path.write_text("export const meta = {name: 'listed', description: 'Read only', whenToUse: 'always',\n"
                    "  phases: [{title: 'A', detail: 'first', model: 'haiku'}]}\nwhile (true) {}\n")
    workflow = load_workflow(path)
    assert workflow.problems == []
    assert workflow.dialect == "javascript"
    assert workflow.meta is not None
    assert workflow.meta.when_to_use == "always"
    assert [(p.title, p.detail, p.model) for p in workflow.meta.phases] == [("A", "first", "haiku")]


def test_scripts_over_512_kib_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "big.js"
    head = "export const meta = {name: 'big', description: 'too big'}\n"
    path.write_text(head + "// " + "x" * (512 * 1024) + "\n")
    problems = load_workflow(path).problems
    assert [p.rule for p in problems] == ["script-size"]
    ok = tmp_path / "fits.js"
    ok.write_text(head + "// " + "x" * (500 * 1024) + "\nreturn 1\n")
    assert load_workflow(ok).problems == []


def test_inline_source_is_detected_as_javascript() -> None:
    workflow = load_workflow("<inline>", source="export const meta = {name: 'inline', description: 'd'}\nreturn 1\n")
    assert workflow.dialect == "javascript"
    assert workflow.problems == []


def test_syntax_errors_keep_the_line_and_column_of_the_file() -> None:
    meta, problems = javascript.read_meta("export const meta = {name: 'x', description: 'y'}\nlet a = ;\n", "f.js")
    assert meta is not None
    assert [(p.rule, p.line) for p in problems] == [("syntax", 2)]
    _, first_line = javascript.read_meta("let a = ;", "g.js")
    assert (first_line[-1].rule, first_line[-1].line, first_line[-1].col) == ("syntax", 1, 9)


def test_tokenizer_keeps_strings_comments_regexes_and_templates_apart() -> None:
    source = ("const r = /a\\/b[/]x/g.test(s) / 2 // Date.now()\n"
              "const t = `x${ {a: `in${Math.random()}`}.a }y` /* Math.random() */\n")
    tokens = tokenize(source)
    kinds = [(t.kind, t.value) for t in tokens]
    assert ("regex", "/a\\/b[/]x/g") in kinds
    assert ("punct", "/") in kinds  # the division after the call
    # code inside ${...} is code, even nested in another template
    assert [t.value for t in tokens if t.kind == "ident" and t.value in ("Math", "random", "Date")] == ["Math", "random"]
    with pytest.raises(TokenizeError) as raised:
        tokenize("const a = 1\n/* never closed")
    assert (raised.value.line, raised.value.message) == (2, "unterminated comment")


def test_literal_values_decode_like_javascript() -> None:
    assert string_value(r"'a\n\u0041\x41\u{1F600}\'b'") == "a\nAA\U0001F600'b"
    assert string_value("`plain`") == "plain"
    assert [number_value(v) for v in ("1_000", "0x1F", "0b101", "0o17", "2.5", "1e3", "10n")] == [
        1000, 31, 5, 15, 2.5, 1000.0, 10]


def test_python_values_cross_as_json_javascript_accepts() -> None:
    from workcrew.engine.workflows.dialects.js.host import to_json

    assert to_json({"a": [1.5, float("nan")], "b": float("inf"), "c": "x"}) == '{"a": [1.5, null], "b": null, "c": "x"}'
