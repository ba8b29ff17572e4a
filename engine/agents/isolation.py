"""Where agents and checks work: the workspace (read-only, edits in an overlay) or a private copy of it.

``isolation="worktree"`` gives an agent a temporary copy outside the user's tree: a detached ``git
worktree`` when the workspace is the top of a clean git repository, otherwise a plain copy honouring
``.gitignore``. Secret files are never copied (nor files with several hard links, which may be other
names of secret files), and are deleted from a git checkout. Whatever the agent changed becomes a patch (unified
diff plus exact-text edits) attached to its result; the copy is always removed afterwards and git's
worktree list pruned, so nothing is left behind in the user's repository.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from pydantic import ValidationError

from ..errors import UsageError, WorkcrewError
from ..results.findings import Patch
from ..settings import Settings
from .environment import AgentEnvironment
from .patches import Change, apply_patch, make_patch
from .tools import AgentToolBox, PathPolicy, is_binary, walk

if TYPE_CHECKING:  # the runtime hands agents its state; agents never import the runtime
    from ..runtime.state import AgentRecord, RunState

TEMP_PREFIX = "workcrew-wt-"


def confine(workspace: Path, relative: str | None) -> Path:
    """``relative`` inside ``workspace``, refusing anything that escapes it."""
    root = workspace.resolve()
    if not relative:
        return root
    target = (root / relative).resolve()
    if target != root and root not in target.parents:
        raise UsageError(f"{relative!r} is outside the workspace {root}")
    return target


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def _clean_git_top(workspace: Path) -> bool:
    """The workspace is the top of a git repository with no uncommitted changes (HEAD = what the user sees)."""
    if not (workspace / ".git").exists() or shutil.which("git") is None:
        return False
    top = _git(["rev-parse", "--show-toplevel"], workspace)
    if top.returncode != 0 or Path(top.stdout.strip()).resolve() != workspace.resolve():
        return False
    status = _git(["status", "--porcelain", "--untracked-files=normal"], workspace)
    return status.returncode == 0 and not status.stdout.strip()


def copy_tree(source: Path, dest: Path, settings: Settings) -> None:
    """Copy the workspace's files (gitignore-aware, no secrets, no VCS or tool folders) into ``dest``."""
    policy = PathPolicy(source, settings)
    for rel in walk(policy.root, policy):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copy2(policy.root / rel, target)
        except OSError:
            continue  # vanished or unreadable: the copy is best effort, like a checkout


def _read(path: Path) -> str | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return None if is_binary(data) else data.decode("utf-8", errors="replace")


class Worktree:
    """A private copy of the workspace; :meth:`changes` compares it with the workspace."""

    def __init__(self, workspace: Path, path: Path, settings: Settings, git: bool) -> None:
        self.workspace = workspace.resolve()
        self.path = path
        self.git = git
        self.policy = PathPolicy(path, settings)
        self.manifest: dict[str, tuple[int, int]] = {}

    @classmethod
    def create_sync(cls, workspace: Path, settings: Settings) -> Worktree:
        base = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX))
        try:
            return cls._populate(workspace, settings, base)
        except BaseException:
            shutil.rmtree(base, ignore_errors=True)
            raise

    @classmethod
    def _populate(cls, workspace: Path, settings: Settings, base: Path) -> Worktree:
        path = base / "tree"
        git = _clean_git_top(workspace)
        if git:
            done = _git(["worktree", "add", "--detach", "--quiet", str(path), "HEAD"], workspace)
            git = done.returncode == 0
        if not git:
            path.mkdir(exist_ok=True)
            copy_tree(workspace, path, settings)
        tree = cls(workspace, path, settings, git)
        if git:
            tree._drop_secrets()
        tree.manifest = tree._snapshot()
        return tree

    @classmethod
    async def create(cls, workspace: Path, settings: Settings) -> Worktree:
        return await anyio.to_thread.run_sync(cls.create_sync, workspace, settings)

    def _drop_secrets(self) -> None:
        """A checkout contains tracked secret files too; agents must not see them."""
        for folder, dirs, files in os.walk(self.path):
            dirs[:] = [d for d in dirs if d != ".git"]
            rel_folder = Path(folder).relative_to(self.path).as_posix()
            for name in files:
                rel = name if rel_folder == "." else f"{rel_folder}/{name}"
                if self.policy.is_secret(rel):
                    (Path(folder) / name).unlink(missing_ok=True)

    def _snapshot(self) -> dict[str, tuple[int, int]]:
        out = {}
        for rel in walk(self.policy.root, self.policy):
            try:
                info = (self.path / rel).stat()
            except OSError:
                continue
            out[rel] = (info.st_size, info.st_mtime_ns)
        return out

    def changes_sync(self) -> dict[str, Change]:
        now = self._snapshot()
        changes: dict[str, Change] = {}
        for rel, stamp in now.items():
            if self.manifest.get(rel) == stamp:
                continue
            new = _read(self.path / rel)
            old = _read(self.workspace / rel) if rel in self.manifest else None
            if new is None or (rel in self.manifest and old is None):
                continue  # binary: not expressible as a text patch
            if old != new:
                changes[rel] = (old, new)
        for rel in self.manifest.keys() - now.keys():
            old = _read(self.workspace / rel)
            if old is not None:
                changes[rel] = (old, None)
        return changes

    async def changes(self) -> dict[str, Change]:
        return await anyio.to_thread.run_sync(self.changes_sync)

    def remove_sync(self) -> None:
        if self.git:
            _git(["worktree", "remove", "--force", str(self.path)], self.workspace)
            _git(["worktree", "prune"], self.workspace)
        shutil.rmtree(self.path.parent, ignore_errors=True)

    async def remove(self) -> None:
        await anyio.to_thread.run_sync(self.remove_sync)


class OverlayEnvironment(AgentEnvironment):
    """An agent on the workspace itself: reads go to the user's files, edits to an in-memory overlay."""

    def __init__(self, toolbox: AgentToolBox) -> None:
        self.toolbox: AgentToolBox = toolbox

    async def finish(self, succeeded: bool) -> Patch | None:
        box = self.toolbox
        if not succeeded or not box.overlay:
            return None
        return make_patch({rel: (box.originals.get(rel), text) for rel, text in box.overlay.items()})


class WorktreeEnvironment(AgentEnvironment):
    """An agent in its own worktree; the worktree is removed once its changes are captured."""

    def __init__(self, tree: Worktree, toolbox: AgentToolBox) -> None:
        self.tree = tree
        self.toolbox: AgentToolBox = toolbox
        self._finished = False

    async def finish(self, succeeded: bool) -> Patch | None:
        if self._finished:
            return None
        self._finished = True
        try:
            return make_patch(await self.tree.changes()) if succeeded else None
        finally:
            with anyio.CancelScope(shield=True):
                await self.tree.remove()


async def workspace_environment(state: RunState, record: AgentRecord) -> AgentEnvironment:
    """The environment of one agent: tools on the workspace, or on a private worktree when isolated."""
    settings = state.settings
    if record.isolation == "worktree":
        try:
            tree = await Worktree.create(settings.workspace, settings)
        except (OSError, subprocess.SubprocessError) as exc:
            raise WorkcrewError(f"cannot create the agent's private worktree: {exc}") from None
        return WorktreeEnvironment(tree, AgentToolBox(tree.path, settings, worktree=True, tools=record.tools,
                                                      skills=record.skills))
    return OverlayEnvironment(AgentToolBox(settings.workspace, settings, tools=record.tools, skills=record.skills))


def patch_of(isolation: Any) -> Patch | None:
    """The patch a check() should run with: a Patch or a patch dict (the script host sends an isolated agent's
    result as its patch)."""
    if isinstance(isolation, Patch):
        return isolation
    if isinstance(isolation, dict) and "edits" in isolation:
        try:
            return Patch.model_validate(isolation)
        except ValidationError as exc:
            raise UsageError(f"check(isolation=...) got an invalid patch: {exc.errors()[0]['msg']}") from None
    if isinstance(isolation, str | dict):
        return None  # an isolated agent that changed nothing returns a plain answer: nothing to apply
    raise UsageError(
        "check(isolation=...) takes an isolated agent's result (its .patch is applied), a patch "
        f"({{'edits': [...]}}) or 'worktree', not {type(isolation).__name__}"
    )


@asynccontextmanager
async def check_folders(state: RunState, isolation: Any, cwd: str | None) -> AsyncIterator[tuple[Path, Path]]:
    """Where check() runs and what it may change: ``(working folder, root)``. Without isolation the root is the
    workspace; with it, a fresh temporary copy (secret and hard-linked files left out) with the patch applied.
    The root is what :func:`engine.commands.run_command` takes as ``writable``."""
    workspace = state.settings.workspace
    if isolation is None:
        yield confine(workspace, cwd), workspace.resolve()
        return
    patch = patch_of(isolation)
    if patch is None and isolation != "worktree":
        state.log("check(): the result given as isolation carries no patch (the agent changed nothing); "
                  "running on an unchanged copy of the workspace")
    async with patched_copy(workspace, state.settings, patch) as root:
        yield confine(root, cwd), root


@asynccontextmanager
async def patched_copy(workspace: Path, settings: Settings, patch: Patch | None) -> AsyncIterator[Path]:
    """A fresh temporary copy of ``workspace`` (secret and hard-linked files left out) with ``patch`` applied,
    removed afterwards whatever happened."""
    base = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX))
    try:
        await anyio.to_thread.run_sync(copy_tree, workspace, base, settings)
        if patch is not None:
            await anyio.to_thread.run_sync(apply_patch, base, patch)
        yield base.resolve()
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(lambda: shutil.rmtree(base, ignore_errors=True))
