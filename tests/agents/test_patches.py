"""Patches: exact-text edits that re-apply, git-compatible diffs, and applying them to a copy only."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from workcrew.engine.agents.patches import apply_patch, file_edits, make_patch
from workcrew.engine.errors import UsageError
from workcrew.engine.results.findings import Patch

LINES = st.lists(st.sampled_from(["a\n", "b\n", "x = 1\n", "\n", "return y\n", "c"]), max_size=12)


@settings(max_examples=300, deadline=None)
@given(LINES, LINES)
def test_edits_turn_the_old_text_into_the_new_text(old_lines: list[str], new_lines: list[str]) -> None:
    old, new = "".join(old_lines), "".join(new_lines)
    text = old
    for edit in file_edits("f.py", old, new):
        if edit.old == "":
            text = edit.new
            continue
        assert text.count(edit.old) == 1  # each edit is unambiguous when applied in order
        text = text.replace(edit.old, edit.new, 1)
    assert text == new


def test_diffs_apply_with_git_including_new_files_and_missing_final_newlines(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("one\ntwo\nthree")
    patch = make_patch({"a.py": ("one\ntwo\nthree", "one\n2\nthree"), "b/new.py": (None, "fresh\n")})
    assert patch is not None and patch.diff is not None
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    applied = subprocess.run(["git", "apply", "-"], input=patch.diff, text=True, cwd=tmp_path, capture_output=True,
                             check=False)
    assert applied.returncode == 0, applied.stderr
    assert (tmp_path / "a.py").read_text() == "one\n2\nthree"
    assert (tmp_path / "b" / "new.py").read_text() == "fresh\n"


def test_no_change_is_no_patch() -> None:
    assert make_patch({"a.py": ("same\n", "same\n")}) is None


def test_apply_patch_keeps_crlf_and_refuses_what_does_not_apply(tmp_path: Path) -> None:
    (tmp_path / "w.txt").write_bytes(b"left\r\nright\r\n")
    apply_patch(tmp_path, Patch.model_validate({"edits": [{"path": "w.txt", "old": "right", "new": "RIGHT"}]}))
    assert (tmp_path / "w.txt").read_bytes() == b"left\r\nRIGHT\r\n"
    with pytest.raises(UsageError, match=r"missing from w\.txt"):
        apply_patch(tmp_path, Patch.model_validate({"edits": [{"path": "w.txt", "old": "nope", "new": "x"}]}))
    with pytest.raises(UsageError, match="outside the workspace"):
        apply_patch(tmp_path, Patch.model_validate({"edits": [{"path": "../up.txt", "old": "", "new": "x"}]}))
    assert not (tmp_path.parent / "up.txt").exists()
