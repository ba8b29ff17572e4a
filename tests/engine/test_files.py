"""File-level rules of a workflow script: syntax, meta, size, encoding, file type — with exact positions."""

from __future__ import annotations

from pathlib import Path

from workcrew.engine import load_workflow


def problems(tmp_path: Path, text: str | bytes, name: str = "wf.py") -> list[str]:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return [f"{p.line}:{p.col}: {p.rule}: {p.message}" for p in load_workflow(path).problems]


def test_syntax_error_points_at_the_script_line(tmp_path: Path) -> None:
    found = problems(tmp_path, 'meta = {"name": "t", "description": "d"}\nx = (1,\ny = 2\n')
    assert len(found) == 1 and found[0].startswith("2:") and ": syntax: " in found[0]


def test_meta_must_come_first(tmp_path: Path) -> None:
    assert problems(tmp_path, 'x = 1\nmeta = {"name": "t", "description": "d"}\n') == [
        "1:1: meta-first: the first statement must be `meta = {...}` (a dict literal)"]


def test_meta_must_be_a_literal(tmp_path: Path) -> None:
    assert problems(tmp_path, 'meta = {"name": "t", "description": str(1)}\n') == [
        "1:1: meta-literal: meta must be a pure literal: no variables, calls or expressions"]


def test_meta_fields_are_validated(tmp_path: Path) -> None:
    found = problems(tmp_path, 'meta = {"name": "bad name!", "colour": 1}\n')
    assert any("meta: name: String should match pattern" in p for p in found)
    assert any("meta: description: Field required" in p for p in found)
    assert not any("colour" in p for p in found)  # an unknown key is a warning, not a problem


def test_unknown_meta_keys_are_warnings_not_problems(tmp_path: Path) -> None:
    path = tmp_path / "w.py"
    path.write_text('meta = {"name": "t", "description": "d", "version": 2, "phases": [{"title": "A", "icon": "x"}]}\n'
                    'return 1\n')
    workflow = load_workflow(path)
    assert workflow.problems == []
    assert [w.message for w in workflow.warnings] == [
        "meta key 'version' is not used by Workcrew and was ignored",
        "meta key 'phases.0.icon' is not used by Workcrew and was ignored"]
    assert all(w.severity == "warning" and w.line == 1 for w in workflow.warnings)


def test_meta_accepts_optional_fields_and_the_camel_case_alias(tmp_path: Path) -> None:
    text = ('meta = {"name": "t", "description": "d", "whenToUse": "always", '
            '"phases": [{"title": "Find", "model": "claude-haiku-5-5"}]}\nreturn 1\n')
    assert problems(tmp_path, text) == []
    workflow = load_workflow(tmp_path / "wf.py")
    assert workflow.meta is not None and workflow.meta.when_to_use == "always"
    assert workflow.meta.phase_model("Find") == "claude-haiku-5-5"


def test_script_size_limit(tmp_path: Path) -> None:
    big = 'meta = {"name": "t", "description": "d"}\n' + "# padding\n" * 60_000
    assert problems(tmp_path, big) == [f"1:1: script-size: the script is {len(big):,} bytes; the limit is 524,288"]


def test_encoding_and_file_type(tmp_path: Path) -> None:
    assert problems(tmp_path, b"meta = {'name': 't', 'description': '\xff'}\n")[0].startswith("1:1: encoding: not UTF-8")
    assert problems(tmp_path, "x", name="wf.txt") == [
        "1:1: file-type: workflow files end in .py or .js, not '.txt'"]


def test_multiline_strings_keep_their_text_and_lines(tmp_path: Path) -> None:
    text = 'meta = {"name": "t", "description": "d"}\nx = """a\n  b"""\ny = args.__class__\n'
    assert problems(tmp_path, text) == [
        "4:5: private-attribute: attribute '__class__' starts with '_'; introspection is not allowed"]
