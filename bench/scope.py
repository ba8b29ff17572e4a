"""Scope speed: compute_scope on a 100,000-file tree vs ``git ls-files --cached --others --exclude-standard``.

Generates (once per run, in a temporary folder) a git repository with nested .gitignore files (with
negations and anchored patterns), ignored folders holding many files, binaries, secrets, oversized
files and default-excluded folders; then times both listings in the same run (best of several) and
prints ``scope/git = X.XX`` (target <= 2). It also checks that both list the same files once the
files scope leaves out on purpose (secrets, binaries, over the size cap, default excludes) are taken
out of git's list, and prints the difference count (expected 0).

In a git work tree compute_scope takes its fast path (git's listing plus the index, see
``engine/scope.py``); the script also times the fallback walk (``WORKCREW_SCOPE_NO_GIT=1``) for
reference and checks that it finds the same files. CPU figures include subprocesses (git) on both sides.

    .venv/bin/python bench/scope.py [--files 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workcrew.engine.settings import Settings
from workcrew.engine.workspace.scope import NO_GIT_VARIABLE, ScopeRequest, compute_scope

TEXT = b"def f(x):\n    return x + 1\n"
BINARY = b"\x89PNG\r\n\x1a\n\0\0\0binary"


class Tree:
    """Writes the tree and remembers which files git lists but the scope leaves out on purpose."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.count = 0
        self.not_for_scope: set[str] = set()
        self.made: set[str] = set()

    def write(self, rel: str, data: bytes = TEXT, *, scoped: bool = True) -> None:
        path = os.path.join(self.root, rel)
        folder = os.path.dirname(path)
        if folder not in self.made:
            os.makedirs(folder, exist_ok=True)
            self.made.add(folder)
        with open(path, "wb") as handle:
            handle.write(data)
        self.count += 1
        if not scoped:
            self.not_for_scope.add(rel)


def generate(root: Path, total: int) -> Tree:
    tree = Tree(root)
    (root / ".gitignore").write_text(
        "# build output and dependencies\n"
        "node_modules/\n"
        "/generated/\n"
        "*.log\n"
        "*.tmp\n"
        "!keep.tmp\n"
        "**/cache/\n"
        "docs/_build/\n"
    )
    # ignored folders holding many files (a quarter of the tree): pruned, never descended into
    ignored = total // 4
    for i in range(ignored // 2):
        tree.write(f"node_modules/pkg{i // 200}/lib/file{i}.js")
    for i in range(ignored // 4):
        tree.write(f"generated/part{i // 250}/gen{i}.py")
    for i in range(ignored - ignored // 2 - ignored // 4):
        tree.write(f"src/pkg{i % 10}/cache/c{i}.txt")
    # the source tree: packages > modules > files, with nested .gitignore files
    remaining = total - tree.count - 200
    per_dir = 25
    dirs = max(1, remaining // per_dir)
    for d in range(dirs):
        folder = f"src/pkg{d % 10}/mod{d // 10 % 40}/sub{d // 400}"
        if d % 40 == 0:
            (root / folder).mkdir(parents=True, exist_ok=True)
            (root / folder / ".gitignore").write_text("*.bak\n!important.bak\n/local-only/\n")
            tree.count += 1
        for f in range(per_dir):
            n = d * per_dir + f
            kind = n % 50
            if kind == 0:
                tree.write(f"{folder}/notes{f}.bak")  # ignored by the nested .gitignore
            elif kind == 1:
                tree.write(f"{folder}/important.bak")  # re-included by the negation
            elif kind == 2:
                tree.write(f"{folder}/debug{f}.log")  # ignored by the root .gitignore
            elif kind == 3:
                tree.write(f"{folder}/keep.tmp")  # re-included
            elif kind == 4:
                tree.write(f"{folder}/icon{f}.png", BINARY, scoped=False)  # binary by extension
            elif kind == 5:
                tree.write(f"{folder}/blob{f}", BINARY, scoped=False)  # binary by content (sniffed)
            elif kind == 6:
                tree.write(f"{folder}/local-only/x{f}.py")  # anchored: ignored only at this level
            else:
                tree.write(f"{folder}/m{f}.py")
    # a few of everything else
    for i in range(5):
        tree.write(f"config/.env.{i}", b"TOKEN=x\n", scoped=False)
        tree.write(f"keys/id_rsa{i}", b"-----BEGIN KEY-----\n", scoped=False)
        tree.write(f"data/big{i}.csv", b"a,b\n" * 300_000, scoped=False)  # 1.2 MB, over the cap
        tree.write(f"src/pkg{i}/__pycache__/m.cpython-311.pyc", BINARY, scoped=False)
        tree.write(f"dist/pkg-{i}.tar.txt", scoped=False)  # default-excluded build output
        tree.write(f"web/app{i}.min.js", scoped=False)  # minified
    (root / "tools" / "venv2").mkdir(parents=True)
    (root / "tools" / "venv2" / "pyvenv.cfg").write_text("home = /usr\n")
    tree.not_for_scope.add("tools/venv2/pyvenv.cfg")
    tree.count += 1
    for i in range(20):
        tree.write(f"tools/venv2/lib/site{i}.py", scoped=False)
    while tree.count < total:
        tree.write(f"misc/extra{tree.count}.md")
    return tree


def git(root: Path, *argv: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(root.parent)}  # no user excludes file
    return subprocess.run(["git", *argv], cwd=root, env=env, capture_output=True, check=True)


@dataclass
class Timing:
    wall: float = float("inf")  # best wall-clock time
    cpu: float = float("inf")  # best CPU time (user + system), steadier on a busy machine
    out: Any = None


def _cpu(children: bool) -> float:
    """CPU time of this process, plus that of its finished subprocesses when ``children``."""
    if children:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + usage.ru_utime + usage.ru_stime
    return time.process_time()


def interleaved(repeat: int, *actions: tuple[Callable[[], Any], bool]) -> list[Timing]:
    """Best wall and CPU time of each action (``(callable, runs_a_subprocess)``) over alternating runs.

    Alternating means a busy machine slows every action alike, so the ratios stay fair.
    """
    timings = [Timing() for _ in actions]
    for _ in range(repeat):
        for timing, (action, children) in zip(timings, actions, strict=True):
            cpu, wall = _cpu(children), time.perf_counter()
            timing.out = action()
            timing.wall = min(timing.wall, time.perf_counter() - wall)
            timing.cpu = min(timing.cpu, _cpu(children) - cpu)
    return timings


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    if shutil.which("git") is None:
        print("git is not installed: this benchmark compares against git ls-files", file=sys.stderr)
        return 2
    base = Path(tempfile.mkdtemp(prefix="workcrew-bench-scope-"))
    try:
        root = base / "repo"
        root.mkdir()
        started = time.perf_counter()
        tree = generate(root, options.files)
        print(f"generated {tree.count:,} files in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        git(root, "init", "-q")
        git(root, "add", "-A")  # tracked files, as in a real repository (git lists them from the index)
        print(f"git add: {time.perf_counter() - started:.1f} s")

        os.environ["HOME"] = str(base)  # the same (absent) global excludes file for both
        os.environ.pop("XDG_CONFIG_HOME", None)
        settings = Settings(workspace=root)
        git_t, scope_t = interleaved(
            options.repeat,
            (lambda: git(root, "ls-files", "--cached", "--others", "--exclude-standard", "-z").stdout, True),
            # True: compute_scope runs git ls-files in a subprocess (its fast path), whose CPU counts too
            (lambda: compute_scope(ScopeRequest(root, whole_workspace=True), settings), True),
        )
        git_s, scope_s, scope = git_t.wall, scope_t.wall, scope_t.out
        git_files = {p.decode() for p in git_t.out.split(b"\0") if p}
        scope_files = set(scope.paths)
        expected = git_files - tree.not_for_scope
        missing, extra = expected - scope_files, scope_files - expected
        print(f"git ls-files: {len(git_files):,} files in {git_s * 1000:.0f} ms (CPU {git_t.cpu * 1000:.0f} ms)")
        print(f"compute_scope: {len(scope_files):,} files in {scope_s * 1000:.0f} ms (CPU {scope_t.cpu * 1000:.0f} ms) "
              f"(left out: {dict(sorted(scope.excluded_counts.items()))})")
        print(f"difference: {len(missing) + len(extra)} files "
              f"({len(missing)} only in git, {len(extra)} only in scope)")
        for path in sorted(missing)[:5]:
            print(f"  only in git: {path}")
        for path in sorted(extra)[:5]:
            print(f"  only in scope: {path}")
        # the part no implementation can skip: one stat per listed file for its size
        absolute = [os.path.join(root, p) for p in sorted(scope_files)]
        (stat_t,) = interleaved(options.repeat, (lambda: [os.lstat(p).st_size for p in absolute], False))
        print(f"stat of the listed files alone: {stat_t.wall * 1000:.0f} ms ({stat_t.wall / git_s:.2f}x git; "
              f"CPU {stat_t.cpu / git_t.cpu:.2f}x git)")
        # the fallback (no git, or an index it cannot read): the Python walk with a stat per file
        os.environ[NO_GIT_VARIABLE] = "1"
        try:
            (walk_t,) = interleaved(min(options.repeat, 3), (
                lambda: compute_scope(ScopeRequest(root, whole_workspace=True), settings), False))
        finally:
            os.environ.pop(NO_GIT_VARIABLE)
        walk_same = walk_t.out.paths == scope.paths
        print(f"fallback walk ({NO_GIT_VARIABLE}=1): {walk_t.wall * 1000:.0f} ms ({walk_t.wall / git_s:.2f}x git; "
              f"CPU {walk_t.cpu / git_t.cpu:.2f}x git); same files as the git path: {walk_same}")
        print(f"scope/git CPU = {scope_t.cpu / git_t.cpu:.2f}")
        ratio = scope_s / git_s
        print(f"scope/git = {ratio:.2f} (target <= 2)")
        print(f"load average (1, 5, 15 min): {_load()}")
        return 0 if not missing and not extra and walk_same else 1
    finally:
        subprocess.run(["rm", "-rf", str(base)], check=False)  # much faster than shutil.rmtree on 100k files


if __name__ == "__main__":
    sys.exit(main())
