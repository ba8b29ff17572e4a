"""The approval's details as Markdown and as one line: workspace names cannot break out of a cell, a code span or
the script's fence, and the short question reads as intended."""

from __future__ import annotations

from pathlib import Path

import pytest
from workcrew.engine import Settings, load_workflow
from workcrew.engine.workspace.scope_types import Scope, ScopeFile
from workcrew.server.approval_data import DetailsInput, build_details, headline, warning_line
from workcrew.server.approval_markdown import code, render_markdown, text

SCRIPT = 'meta = {"name": "tricky", "description": "# not a heading | not a cell"}\n' \
         '# ```\n# </details>\nreturn await agent("hi", label="hi")\n'


def details(tmp_path: Path, files: list[ScopeFile]) -> dict:
    settings = Settings(workspace=tmp_path)
    scope = Scope(tmp_path, files, excluded={"secret": [".env"]}, excluded_counts={"secret": 1})
    data, _ = build_details(DetailsInput(load_workflow("tricky", source=SCRIPT), None, settings, scope=scope))
    return data


def test_names_stay_inside_their_cell_and_the_script_inside_its_fence(tmp_path: Path) -> None:
    evil = "a|b`c`*d*.py"
    data = details(tmp_path, [ScopeFile(evil, 400, 100), ScopeFile("ok.py", 400, 100)])
    page = render_markdown(data)

    row = next(line for line in page.splitlines() if "a\\|b" in line)
    assert row.count(" | ") == 3  # four cells: the name's own bar is escaped
    assert "``a\\|b`c`*d*.py``" in row
    fence = "````"  # one longer than the script's own ```
    assert f"\n{fence}python\n{SCRIPT.rstrip()}\n{fence}\n" in page
    assert "\n\\# not a heading \\| not a cell\n" in page  # the description is text, not a heading
    assert "- **a secret file (secret\\_patterns): never sent to a model**: 1 — `.env`" in page


def test_text_and_code_escape_what_markdown_would_read() -> None:
    assert text("1. not a list") == "1\\. not a list"
    assert text("<img src=x>") == "\\<img src=x>"
    assert text("a_b*c~d") == "a\\_b\\*c\\~d"
    assert code("x`y") == "``x`y``"
    assert code("a|b") == "`a|b`" and code("a|b", cell=True) == "`a\\|b`"


def test_the_short_question() -> None:
    data = {"workflow": "review", "estimate_unavailable": None, "changes": [], "sandbox": None, "web": None,
            "mcp": None, "totals": {"agents": {"low": 20, "expected": 24, "high": 28},
                                    "tokens": {"low": 180_000, "expected": 200_000, "high": 240_000},
                                    "cost_usd": {"low": 0.4, "expected": 0.6, "high": 0.9},
                                    "minutes": {"low": 2.0, "expected": 3.2, "high": 5.0}, "files": 20}}
    assert headline(data) == "Run “review”: 20–28 agents · 180k–240k tokens · $0.40–$0.90 · ~3 min · 20 files"
    assert warning_line(data) is None
    data["mcp"] = {"error": None, "servers": [{"name": "calc", "approved": False}, {"name": "db", "approved": True}]}
    data["changes"] = ["the scope grew: +stats.py"]
    assert warning_line(data) == ("⚠ Asked again: the scope grew: +stats.py · "
                                  "MCP servers not approved yet: calc (Run starts them)")
    data["totals"] = {"agents": None, "files": 1}
    data["estimate_unavailable"] = "estimate unavailable (boom)"
    assert headline(data) == "Run “review”: no estimate (estimate unavailable (boom)) · 1 file"


def test_the_pages_clean_up_removes_only_its_own_pages(tmp_path: Path) -> None:
    """Only the newest pages are kept, and only files named as pages are ever removed: a user's notes in the
    folder stay; a linked folder (planted in a repository's state folder) is refused, not cleaned."""
    import os

    from workcrew.server.approval_details import KEEP_PAGES, write_page

    folder = tmp_path / "approvals"
    folder.mkdir()
    (folder / "notes.md").write_text("mine")
    for n in range(KEEP_PAGES + 5):
        page = write_page(folder, f"{n:012x}", f"page {n}")
        os.utime(page, (n, n))
    newest = write_page(folder, "f" * 12, "newest")
    pages = sorted(p.name for p in folder.iterdir() if p.name != "notes.md")
    assert len(pages) == KEEP_PAGES and newest.name in pages and (folder / "notes.md").read_text() == "mine"

    elsewhere = tmp_path / "docs"
    elsewhere.mkdir()
    for n in range(KEEP_PAGES + 3):
        (elsewhere / f"{n:012x}.md").write_text("a user's file")
    linked = tmp_path / "state" / "approvals"
    linked.parent.mkdir()
    linked.symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(OSError, match="is a link"):
        write_page(linked, "e" * 12, "page")
    assert len(list(elsewhere.iterdir())) == KEEP_PAGES + 3
