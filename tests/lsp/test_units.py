"""The pure parts: snippet anchoring, UTF-16 columns, fixes → edits, editor settings → Settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pygls.workspace import PositionCodec
from workcrew.server.anchoring import Span, Text, locate, snippet_at
from workcrew.server.capabilities import ClientFeatures
from workcrew.server.config import editor_overrides, server_settings
from workcrew.server.documents import Documents, canonical
from workcrew.server.edits import FixNotApplicable, merge, plan, to_workspace_edit

SOURCE = "def f(xs):\n    total = sum(xs)\n    return total / len(xs)\n\n\ndef g(xs):\n    return total / len(xs)\n"


def test_exact_snippet_nearest_to_the_last_known_line() -> None:
    text = Text(SOURCE)
    assert locate(text, "return total / len(xs)", 2) == Span(2, 4, 2, 26)
    assert locate(text, "return total / len(xs)", 6) == Span(6, 4, 6, 26)
    assert locate(text, "return total / len(xs)", 5) == Span(6, 4, 6, 26)


def test_whitespace_insensitive_match_and_stale() -> None:
    text = Text(SOURCE.replace("    total = sum(xs)\n", "    total   =   sum( xs )\n"))
    assert locate(text, "total   =   sum( xs )", 0) == Span(1, 4, 1, 25)
    moved = Text("x = 1\n" + "def f(xs):\n        total = sum(xs)\n        return total  /  len(xs)\n")
    found = locate(moved, "total = sum(xs)\nreturn total / len(xs)", 1)
    assert found == Span(2, 8, 3, 32)
    assert locate(Text("nothing here\n"), "return total / len(xs)", 2) is None


def test_no_snippet_uses_the_reported_line_and_captures_it() -> None:
    text = Text(SOURCE)
    assert snippet_at(text, 1, 1) == "total = sum(xs)"
    assert locate(text, None, 1) == Span(1, 4, 1, 19)
    assert locate(text, None, 99) is None


def test_utf16_columns_after_non_ascii_text() -> None:
    text = Text("s = '😋é'; return 1 / n\n")
    span = locate(text, "return 1 / n", 0)
    assert span == Span(0, 10, 0, 22)  # code points
    lines = text.lines
    from pygls.workspace.position_codec import ServerTextPosition

    codec = PositionCodec(types.PositionEncodingKind.Utf16)
    # the emoji is two UTF-16 code units: the client's column is one more
    assert codec.position_to_client_units(lines, ServerTextPosition(0, span.start_col)).character == 11


def documents_with(tmp_path: Path, files: dict[str, str]) -> Documents:
    docs = Documents()
    texts = {}
    for name, source in files.items():
        (tmp_path / name).write_text(source)
        texts[canonical(tmp_path / name)] = source
    docs.store_disk(texts)
    return docs


def test_a_fix_becomes_a_versioned_or_plain_edit(tmp_path: Path) -> None:
    root = canonical(tmp_path)
    docs = documents_with(tmp_path, {"a.py": SOURCE, "b.py": "import a\n"})
    fix = {"edits": [{"path": "a.py", "old": "    total = sum(xs)\n", "new": "    total = sum(xs or [0])\n"},
                     {"path": "b.py", "old": "import a\n", "new": "import a  # checked\n"}]}
    codec = PositionCodec()
    versioned = to_workspace_edit(plan(fix, root, docs), docs, codec, ClientFeatures(document_changes=True))
    assert [c.text_document.uri.rsplit("/", 1)[1] for c in versioned.document_changes] == ["a.py", "b.py"]
    assert versioned.document_changes[0].edits[0].range == types.Range(types.Position(1, 0), types.Position(2, 0))
    plain = to_workspace_edit(plan(fix, root, docs), docs, codec, ClientFeatures(document_changes=False))
    assert plain.document_changes is None and len(plain.changes) == 2


def test_fixes_that_no_longer_apply_or_overlap(tmp_path: Path) -> None:
    root = canonical(tmp_path)
    docs = documents_with(tmp_path, {"a.py": SOURCE})
    with pytest.raises(FixNotApplicable, match="more than once"):
        plan({"edits": [{"path": "a.py", "old": "return total / len(xs)", "new": "x"}]}, root, docs)
    with pytest.raises(FixNotApplicable, match="has changed"):
        plan({"edits": [{"path": "a.py", "old": "gone", "new": "x"}]}, root, docs)
    with pytest.raises(FixNotApplicable, match="outside the workspace"):
        plan({"edits": [{"path": "../etc/passwd", "old": "root", "new": "x"}]}, root, docs)
    first = plan({"edits": [{"path": "a.py", "old": "total = sum(xs)", "new": "total = 0"}]}, root, docs)
    clash = plan({"edits": [{"path": "a.py", "old": "sum(xs)", "new": "sum(ys)"}]}, root, docs)
    other = plan({"edits": [{"path": "a.py", "old": "def g(xs)", "new": "def g(ys)"}]}, root, docs)
    merged, kept = merge([first, clash, other])
    assert kept == 2 and len(merged[root / "a.py"].edits) == 2


def test_editor_settings_map_camel_case_to_settings(tmp_path: Path) -> None:
    overrides, warnings = editor_overrides({"workcrew": {
        "interpreter": ["python3"], "approvalPolicy": "threshold", "defaultBudget": 2.5, "concurrency": 4,
        "models": {"finder": "claude-haiku-5-5"}, "secretPatterns": ["*.vault"], "excludes": ["build/**"],
        "frobnicate": True}})
    assert overrides == {"approval": "threshold", "budget_usd": 2.5, "concurrency": 4,
                         "models": {"finder": "claude-haiku-5-5"}, "secret_patterns": ["*.vault"],
                         "excludes": ["build/**"]}
    assert warnings == ["unknown workcrew setting 'frobnicate' ignored"]
    settings, problems = server_settings(tmp_path, {"concurrency": 4, "approvalPolicy": "never"}, env={})
    assert settings.concurrency == 4 and settings.approval == "never" and problems == []
    settings, problems = server_settings(tmp_path, {"concurrency": "lots"}, env={})
    assert settings.concurrency == 16 and "concurrency" in problems[0]


async def test_a_finding_reported_again_replaces_the_earlier_diagnostic(tmp_path: Path) -> None:
    """The same issue (fingerprint) reported twice for a workflow — a re-run, a second finder — is one
    diagnostic, the newest; another workflow's finding with that fingerprint is its own."""
    import anyio
    from workcrew.server.diagnostics import DiagnosticsStore, Publisher

    (tmp_path / "calc.py").write_text("def div(a, b):\n    return a / b\n")
    store = DiagnosticsStore(Documents(), Publisher(publish=lambda *a: None, refresh=lambda: None,
                                                    codec=lambda: PositionCodec(), pull=lambda: False),
                             anyio.CapacityLimiter(1))
    store.workspace = tmp_path

    def finding(finding_id: str) -> dict[str, object]:
        return {"id": finding_id, "fingerprint": "fp-div", "title": "division by zero", "verdict": "confirmed",
                "location": {"path": "calc.py", "start_line": 2}}

    assert store.add("run1", "review", finding("f1")) is not None
    assert store.add("run2", "review", finding("f2")) is not None
    assert [t.id for t in store.by_id.values()] == ["f2"]
    assert store.add("run3", "audit", finding("f3")) is not None
    assert sorted(t.id for t in store.by_id.values()) == ["f2", "f3"]
    store.stop()


async def test_a_note_without_a_line_points_at_its_finding(tmp_path: Path) -> None:
    """A skeptic's verdict carries no line: in the Problems panel it sits on the finding's line, not the file's
    first; a note with its own line or another file keeps them."""
    import anyio
    from workcrew.server.diagnostics import DiagnosticsStore, Publisher

    (tmp_path / "calc.py").write_text("import os\n\ndef div(a, b):\n    return a / b\n")
    (tmp_path / "use.py").write_text("div(1, 0)\n")
    store = DiagnosticsStore(Documents(), Publisher(publish=lambda *a: None, refresh=lambda: None,
                                                    codec=lambda: PositionCodec(), pull=lambda: True),
                             anyio.CapacityLimiter(1))
    store.workspace = tmp_path
    store.add("run1", "review", {
        "id": "f1", "fingerprint": "fp", "title": "division by zero", "verdict": "confirmed",
        "location": {"path": "calc.py", "start_line": 4, "snippet": "return a / b"},
        "evidence": [{"note": "skeptic: upheld"}, {"line": 3, "note": "b may be 0"},
                     {"path": "use.py", "note": "a caller passes 0"}]})
    await store.ensure_texts([tmp_path / "calc.py"])
    (diagnostic,) = store.diagnostics(tmp_path / "calc.py")
    lines = [(r["location"]["uri"].rsplit("/", 1)[-1], r["location"]["range"]["start"]["line"])
             for r in diagnostic["relatedInformation"]]
    assert lines == [("calc.py", 3), ("calc.py", 2), ("use.py", 0)]
    store.stop()
