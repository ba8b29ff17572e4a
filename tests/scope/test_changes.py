"""Review Changes' scope: changed files, lines and enclosing functions from a real git repository."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from workcrew.engine import Settings
from workcrew.engine.workspace.changes import Changes, ChangesRequest, find_changes
from workcrew.engine.workspace.enclosing import enclosing_regions
from workcrew.engine.workspace.git_diff import GitError, parse_hunks, parse_name_status

from .conftest import git, write

pytestmark = [pytest.mark.skipif(shutil.which("git") is None, reason="needs git"),
              pytest.mark.usefixtures("clean_git")]

CALC = '''"""Helpers."""
import math


def average(values):
    total = sum(values)
    return total / len(values)


class Shape:
    sides = 0

    @staticmethod
    def area(r):
        return math.pi * r * r

    def name(self):
        return "shape"
'''




@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository on branch main with one commit: calc.py, util.py, old.py, gone.py and a .env."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write(root, "calc.py", CALC)
    write(root, "util.py", "def twice(x):\n    return 2 * x\n")
    write(root, "old.py", "".join(f"line_{i} = {i}\n" for i in range(20)))
    write(root, "gone.py", "x = 1\n")
    write(root, ".env", "TOKEN=first\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "first")
    return root


def changes_in(root: Path, base: str | None = None, max_files: int = 50) -> Changes:
    return find_changes(ChangesRequest(root, base=base, max_files=max_files), Settings(workspace=root))


def by_path(changes: Changes) -> dict[str, dict[str, object]]:
    return {f.path: f.to_json() for f in changes.files}


def test_uncommitted_staged_unstaged_and_untracked_files_with_their_functions(repo: Path) -> None:
    write(repo, "calc.py", CALC.replace("total / len(values)", "total / max(len(values), 1)"))  # unstaged
    write(repo, "util.py", "def twice(x):\n    return x + x\n")
    git(repo, "add", "util.py")  # staged
    write(repo, "fresh.py", "def new():\n    return 1\n\n\nprint(new())\n")  # untracked
    changes = changes_in(repo)
    files = by_path(changes)
    assert list(files) == ["calc.py", "fresh.py", "util.py"]
    calc = files["calc.py"]
    assert calc["status"] == "modified" and calc["lines"] == [[7, 7]]
    assert calc["functions"] == [[5, 7]]  # the whole of average(), from its def line
    assert files["util.py"]["status"] == "modified" and files["util.py"]["lines"] == [[2, 2]]
    assert files["fresh.py"]["status"] == "untracked" and files["fresh.py"]["lines"] == [[1, 5]]
    assert changes.args()["changes"]["calc.py"] == {"lines": [[7, 7]], "functions": [[5, 7]]}
    assert changes.args()["files"] == ["calc.py", "fresh.py", "util.py"]
    assert changes.scope.paths == ["calc.py", "fresh.py", "util.py"]
    assert changes.summary().startswith("3 files, 7 changed lines in the uncommitted changes")


def test_a_change_in_a_method_gives_the_method_with_its_decorator_not_the_class(repo: Path) -> None:
    write(repo, "calc.py", CALC.replace("math.pi * r * r", "math.pi * r ** 2"))
    (calc,) = changes_in(repo).files
    assert calc.lines == ((15, 15),) and calc.functions == ((13, 15),)  # @staticmethod … return
    # a class attribute: no method holds it, so the class does
    write(repo, "calc.py", CALC.replace("sides = 0", "sides = 1"))
    (calc,) = changes_in(repo).files
    assert calc.functions == ((10, 18),)
    # a module-level line: no function, a few lines of context
    write(repo, "calc.py", CALC.replace("import math", "import cmath as math"))
    (calc,) = changes_in(repo).files
    assert calc.lines == ((2, 2),) and calc.functions == ((1, 5),)


def test_against_a_base_branch_from_the_merge_base_with_work_not_committed(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, "calc.py", CALC.replace("return \"shape\"", "return \"circle\""))
    git(repo, "commit", "-q", "-am", "feature work")
    fork = git(repo, "rev-parse", "main").strip()
    git(repo, "checkout", "-q", "main")  # main moves on after the fork: its changes are not this branch's
    write(repo, "gone.py", "x = 2\n")
    git(repo, "commit", "-q", "-am", "main moves on")
    git(repo, "checkout", "-q", "feature")
    write(repo, "util.py", "def twice(x):\n    return x * 2\n")  # not committed yet
    changes = changes_in(repo, base="main")
    assert changes.merge_base == fork
    files = by_path(changes)
    assert list(files) == ["calc.py", "util.py"]
    assert files["calc.py"]["lines"] == [[18, 18]] and files["calc.py"]["functions"] == [[17, 18]]
    assert "against main (since the merge-base" in changes.summary()
    with pytest.raises(GitError, match=r"no branch or commit 'mian'.*Branches: feature, main"):
        changes_in(repo, base="mian")


def test_deleted_files_are_listed_not_reviewed_and_a_rename_reviews_only_its_changed_lines(repo: Path) -> None:
    git(repo, "rm", "-q", "gone.py")
    git(repo, "mv", "old.py", "new_name.py")
    text = (repo / "new_name.py").read_text().replace("line_10 = 10", "line_10 = 100")
    write(repo, "new_name.py", text)
    git(repo, "add", "-A")
    changes = changes_in(repo)
    assert changes.deleted == ["gone.py"]
    (renamed,) = changes.files
    assert (renamed.path, renamed.status, renamed.old_path, renamed.lines) == ("new_name.py", "renamed", "old.py",
                                                                               ((11, 11),))
    assert "1 deleted file not reviewed" in changes.summary()
    # a pure rename changes no line: nothing to review, and it says so
    git(repo, "commit", "-q", "-m", "rename")
    git(repo, "mv", "util.py", "helpers.py")
    changes = changes_in(repo)
    assert changes.files == []
    assert changes.dropped == [{"item": "helpers.py", "reason": "renamed without a change to its lines"}]


def test_secret_files_are_never_listed_only_counted(repo: Path) -> None:
    write(repo, ".env", "TOKEN=second\n")  # tracked secret, modified
    write(repo, "keys/deploy.pem", "-----BEGIN PRIVATE KEY-----\n")  # untracked secret
    write(repo, ".ssh/config", "Host x\n")  # secret through its folder
    (repo / "settings.txt").symlink_to(repo / ".env")  # a harmless name for a secret file
    write(repo, "calc.py", CALC.replace("sides = 0", "sides = 4"))
    changes = changes_in(repo)
    assert [f.path for f in changes.files] == ["calc.py"]
    assert changes.secret_files == 4
    shown = json.dumps(changes.to_json()) + changes.summary() + json.dumps(changes.args())
    for name in (".env", "deploy.pem", ".ssh", "settings.txt", "TOKEN"):
        assert name not in shown
    # a deleted secret file is not named either
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "all")
    (repo / "keys" / "deploy.pem").unlink()
    changes = changes_in(repo)
    assert changes.deleted == [] and changes.secret_files == 1 and "deploy.pem" not in changes.summary()


def test_binaries_default_excludes_and_the_file_cap_are_dropped_with_reasons(repo: Path) -> None:
    write(repo, "logo.png", b"\x89PNG\0\0")
    write(repo, "node_modules/lib/index.js", "module.exports = 1;\n")
    write(repo, "package-lock.json", "{}\n")
    for name in ("a.py", "b.py", "c.py"):
        write(repo, name, "x = 1\n")
    changes = changes_in(repo, max_files=2)
    assert [f.path for f in changes.files] == ["a.py", "b.py"]
    reasons = {d["item"]: d["reason"] for d in changes.dropped}
    assert reasons["logo.png"] == "a binary file"
    assert reasons["node_modules/lib/index.js"].startswith("a default exclude")
    assert reasons["package-lock.json"].startswith("a default exclude")
    assert reasons["c.py"] == "over the cap of 2 changed files (raise max_files)"


def test_no_changes_is_a_message_and_no_repository_is_an_error(repo: Path, tmp_path: Path) -> None:
    changes = changes_in(repo)
    assert changes.files == [] and changes.nothing_message() == (
        "No changes to review: nothing differs in the uncommitted changes (staged, unstaged and untracked files).")
    git(repo, "rm", "-q", "gone.py")
    assert changes_in(repo).nothing_message().startswith("Nothing to review in the uncommitted changes")
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(GitError, match=r"is not in a git repository.*`workcrew run review`"):
        changes_in(plain)


def test_a_repository_without_commits_reviews_everything_as_new(tmp_path: Path) -> None:
    root = tmp_path / "unborn"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write(root, "main.go", "package main\n\nfunc main() {\n\tprintln(1)\n}\n")
    git(root, "add", "main.go")
    write(root, "more.go", "package main\n")
    changes = changes_in(root)
    assert by_path(changes)["main.go"]["status"] == "added" and by_path(changes)["main.go"]["lines"] == [[1, 5]]
    assert [f.path for f in changes.files] == ["main.go", "more.go"]
    with pytest.raises(GitError, match="no commit yet"):
        changes_in(root, base="main")


def test_a_workspace_below_the_repository_root_sees_its_own_files(repo: Path) -> None:
    write(repo, "pkg/mod.py", "def f():\n    return 1\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "pkg")
    write(repo, "pkg/mod.py", "def f():\n    return 2\n")
    write(repo, "calc.py", CALC + "\n# outside the workspace\n")
    changes = changes_in(repo / "pkg")
    assert [(f.path, f.lines, f.functions) for f in changes.files] == [("mod.py", ((2, 2),), ((1, 2),))]


# -- enclosing blocks in other languages, and git's output -------------------------------------------------

def test_layout_based_blocks_for_brace_languages() -> None:
    js = ("import x from 'x';\n\nclass A {\n  run(a) {\n    if (a) {\n      return 1;\n    }\n    return 2;\n  }\n}\n\n"
          "const f = (b) => {\n  return b;\n};\n")
    assert enclosing_regions("a.js", js, [(6, 6)]) == [(4, 9)]  # the method, not the if, not the class
    assert enclosing_regions("a.js", js, [(13, 13)]) == [(12, 14)]  # an arrow function with its closing line
    assert enclosing_regions("a.js", js, [(1, 1)]) == [(1, 4)]  # top-level code: the change and some context
    go = "package main\n\nfunc (s *S) Name(a int) error {\n\tif a > 0 {\n\t\treturn nil\n\t}\n\treturn err\n}\n"
    assert enclosing_regions("m.go", go, [(5, 5)]) == [(3, 8)]
    broken = "def f(:\n    return 1\n"  # not Python that parses: the layout still finds the def
    assert enclosing_regions("b.py", broken, [(2, 2)]) == [(1, 2)]


def test_git_output_parsing_quoted_names_renames_and_plus_lines_in_content() -> None:
    statuses = parse_name_status(b"M\0a.py\0R087\0old name.py\0new name.py\0D\0gone.py\0")
    assert [(s.status, s.path, s.old_path) for s in statuses] == [
        ("M", "a.py", None), ("R", "new name.py", "old name.py"), ("D", "gone.py", None)]
    diff = (b'diff --git "a/tab\\there.py" "b/tab\\there.py"\n--- "a/tab\\there.py"\n+++ "b/tab\\there.py"\n'
            b"@@ -3 +3,2 @@ def f():\n-x\n+++ y\n+z\n@@ -10,2 +11,0 @@\n-a\n-b\n"
            b"diff --git a/gone.py b/gone.py\n--- a/gone.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n"
            b'diff --git a/caf\\303\\251.py b/caf\\303\\251.py\n+++ "b/caf\\303\\251.py"\n@@ -0,0 +1 @@\n+print()\n')
    assert parse_hunks(diff) == {"tab\there.py": [(3, 4), (11, 11)], "café.py": [(1, 1)]}


def test_more_files_than_the_reviews_own_cap_raise_its_cap(repo: Path) -> None:
    for index in range(52):
        write(repo, f"m{index:02}.py", "x = 1\n")
    assert "max_files" not in changes_in(repo).args()  # 50: the review's default cap holds them
    args = changes_in(repo, max_files=60).args()
    assert len(args["files"]) == 52 and args["max_files"] == 52
