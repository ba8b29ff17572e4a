"""Collecting a scope: the walk of a tree (one ``os.scandir`` pass, ignored folders pruned) or, in a git
work tree, git's own listing with Workcrew's rules applied to it."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from stat import S_ISLNK, S_ISREG

from ..settings import Settings
from .git_index import (
    GIT_ENVIRONMENT,
    NO_GIT_VARIABLE,
    GitListing,
    index_virtualenvs,
    load_index,
    object_id_length,
)
from .ignore import (
    FileFilter,
    IgnoreFile,
    compile_patterns,
    estimate_file_tokens,
    git_dir_of,
    global_excludes_file,
    name_of,
    read_patterns,
    repository_root,
)
from .scope_types import (
    BINARY,
    BINARY_EXTENSIONS,
    DEFAULT,
    DEFAULT_EXCLUDED_DIRS,
    DEFAULT_EXCLUDED_SUFFIXES,
    GITIGNORE,
    HARD_LINK,
    SAMPLE_LIMIT,
    SECRET,
    SPECIAL,
    SYMLINK_DIR,
    SYMLINK_OUTSIDE,
    TEXT_EXTENSIONS,
    TOO_LARGE,
    UNREADABLE,
    USER_EXCLUDE,
    VIRTUALENV,
    ScopeFile,
    looks_binary,
)

# -- the walk ------------------------------------------------------------------------------------

class Collector:
    """Walks folders with the ignore rules in force, filling the file list and the exclusion record."""

    def __init__(self, root: Path, settings: Settings) -> None:
        self.root = root
        self.root_str = str(root)
        self.max_bytes = settings.max_file_bytes
        self.secrets = compile_patterns(settings.secret_patterns, ignore_case=True)
        self.user_excludes = compile_patterns(settings.excludes, anywhere=False)
        self.files: dict[str, ScopeFile] = {}
        self.excluded: dict[str, list[str]] = {}
        self.counts: dict[str, int] = {}
        self.repo: Path | None = None
        self.base_rules = self._outer_rules()

    # -- rules that apply above and at the workspace root ---------------------------------------

    def _outer_rules(self) -> list[IgnoreFile]:
        """Global excludes, .git/info/exclude and .gitignore files from the repository root down to the workspace."""

        rules: list[IgnoreFile] = []
        repo = self.repo = repository_root(self.root)
        global_file = IgnoreFile.compile(read_patterns(global_excludes_file()),
                                         prefix=self._prefix_from(repo) if repo else "")
        if global_file is not None:
            rules.append(global_file)
        if repo is None:
            return rules
        git_dir = git_dir_of(repo)
        if git_dir is not None:
            info = IgnoreFile.compile(read_patterns(git_dir / "info" / "exclude"), prefix=self._prefix_from(repo))
            if info is not None:
                rules.append(info)
        # .gitignore files above the workspace, farthest first; the workspace's own is read by the walk
        ancestors = [p for p in self.root.parents if p == repo or repo in p.parents]
        for folder in reversed(ancestors):
            compiled = IgnoreFile.compile(read_patterns(folder / ".gitignore"), prefix=self._prefix_from(folder))
            if compiled is not None:
                rules.append(compiled)
        return rules

    def _prefix_from(self, folder: Path) -> str:
        rel = self.root.relative_to(folder).as_posix()
        return "" if rel == "." else rel + "/"

    def rules_for(self, rel_dir: str) -> list[IgnoreFile]:
        """The rules in force inside ``rel_dir`` (excluding its own .gitignore, which the walk reads)."""
        rules = list(self.base_rules)
        if not rel_dir:
            return rules
        parts = rel_dir.split("/")
        for depth in range(len(parts)):
            folder = "/".join(parts[:depth])
            compiled = self._dir_ignore(folder)
            if compiled is not None:
                rules.append(compiled)
        return rules

    def _dir_ignore(self, rel_dir: str) -> IgnoreFile | None:
        folder = self.root / rel_dir if rel_dir else self.root
        prefix_len = len(rel_dir) + 1 if rel_dir else 0
        return IgnoreFile.compile(read_patterns(folder / ".gitignore"), strip=prefix_len)

    # -- bookkeeping -----------------------------------------------------------------------------

    def exclude(self, reason: str, rel: str) -> None:
        count = self.counts.get(reason, 0)
        self.counts[reason] = count + 1
        if count < SAMPLE_LIMIT:
            self.excluded.setdefault(reason, []).append(rel)

    @staticmethod
    def ignored(rel: str, name: str, rules: list[IgnoreFile]) -> bool:
        # deeper files win, and within a file the last matching pattern wins
        for rules_file in reversed(rules):
            decision = rules_file.decide(rel, name)
            if decision is not None:
                return decision
        return False

    # -- walking ---------------------------------------------------------------------------------

    def file_reason(self, rel: str, name: str, rules: list[IgnoreFile]) -> str | None:
        """Why a file is left out by a pattern (secret, excludes setting, .gitignore, default), or None."""
        if self.secrets is not None and self.secrets.decide(rel, name):
            return SECRET
        if self.user_excludes is not None and self.user_excludes.decide(rel, name):
            return USER_EXCLUDE
        if self.ignored(rel, name, rules):
            return GITIGNORE
        if name.endswith(DEFAULT_EXCLUDED_SUFFIXES):
            return DEFAULT
        return None

    def dir_reason(self, rel_slash: str, name: str, rules: list[IgnoreFile]) -> str | None:
        """Why a folder is pruned (``rel_slash`` and the checks carry its trailing slash), or None."""
        name_slash = name + "/"
        if self.secrets is not None and self.secrets.decide(rel_slash, name_slash):
            return SECRET
        if name in DEFAULT_EXCLUDED_DIRS:
            return DEFAULT
        if self.user_excludes is not None and self.user_excludes.decide(rel_slash, name_slash):
            return USER_EXCLUDE
        if self.ignored(rel_slash, name_slash, rules):
            return GITIGNORE
        return None  # virtual environments are recognised by walk(), from the folder's own listing

    def walk(self, rel_dir: str, rules: list[IgnoreFile], fast: FileFilter | None = None) -> None:
        """Everything under ``rel_dir`` (workspace-relative, '' for the root) that passes the rules.

        Runs once per file of the tree, so the common case (a regular file no pattern can match) is
        one regular-expression test, one ``stat`` and a set lookup; the precise checks run only for
        files the fast test flags.
        """
        abs_dir = os.path.join(self.root_str, rel_dir) if rel_dir else self.root_str
        try:
            with os.scandir(abs_dir) as it:
                entries = list(it)
        except OSError:
            self.exclude(UNREADABLE, rel_dir + "/")
            return
        prefix = rel_dir + "/" if rel_dir else ""
        names = {entry.name for entry in entries}
        if rel_dir and "pyvenv.cfg" in names:
            self.exclude(VIRTUALENV, prefix)  # a virtualenv, whatever its folder is called
            return
        if ".gitignore" in names:
            own = IgnoreFile.compile(read_patterns(Path(abs_dir, ".gitignore")), strip=len(prefix))
            if own is not None:
                rules = [*rules, own]
                fast = None
        if fast is None:
            fast = FileFilter.build([self.secrets, self.user_excludes, *rules])
        reject = fast.reject.match if fast.reject is not None else None
        path_checks = fast.paths
        text_extensions = TEXT_EXTENSIONS
        exclude, files, max_bytes = self.exclude, self.files, self.max_bytes
        subdirs: list[str] = []
        for entry in entries:
            name = entry.name
            rel = prefix + name
            try:
                is_file = entry.is_file(follow_symlinks=False)  # d_type: no system call
            except OSError:
                exclude(UNREADABLE, rel)
                continue
            if is_file:
                if (reject is not None and reject(name) is not None) or (path_checks and fast.suspect(rel, name)):
                    reason = self.file_reason(rel, name, rules)
                    if reason is not None:
                        exclude(reason, rel)
                        continue
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    exclude(UNREADABLE, rel)
                    continue
                size = info.st_size
                if info.st_nlink > 1:
                    exclude(HARD_LINK, rel)
                    continue
                _, dot, ext = name.rpartition(".")
                if dot and ext in text_extensions:  # the common case: one set lookup
                    if size > max_bytes:
                        exclude(TOO_LARGE, rel)
                    else:
                        files[rel] = ScopeFile(rel, size, (size + 3) >> 2)
                    continue
                ext = ext.lower() if dot else ""
                if ext in BINARY_EXTENSIONS:
                    exclude(BINARY, rel)
                elif size > max_bytes:
                    exclude(TOO_LARGE, rel)
                elif size and ext not in text_extensions and looks_binary(entry.path):
                    exclude(BINARY, rel)
                else:
                    files[rel] = ScopeFile(rel, size, (size + 3) >> 2)
                continue
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_link = not is_dir and entry.is_symlink()
            except OSError:
                exclude(UNREADABLE, rel)
                continue
            if is_dir:
                reason = self.dir_reason(rel + "/", name, rules)
                if reason is None:
                    subdirs.append(rel)
                else:
                    exclude(reason, rel + "/")
            elif is_link:
                reason = self.file_reason(rel, name, rules)
                if reason is None:
                    self.add_link(entry.path, rel)
                else:
                    exclude(reason, rel)
            else:
                exclude(SPECIAL, rel)
        for sub in subdirs:
            self.walk(sub, rules, fast)

    def add_link(self, abs_path: str, rel: str) -> None:
        """A symlink: kept when it points at a regular file inside the workspace; never followed into folders."""
        try:
            target = Path(abs_path).resolve(strict=True)
        except (OSError, RuntimeError):
            self.exclude(SYMLINK_OUTSIDE if not self._inside(Path(os.path.realpath(abs_path))) else UNREADABLE, rel)
            return
        if not self._inside(target):
            self.exclude(SYMLINK_OUTSIDE, rel)
            return
        if target.is_dir():
            self.exclude(SYMLINK_DIR, rel)
            return
        target_rel = target.relative_to(self.root).as_posix()
        if self.secrets is not None and self.secrets.decide(target_rel, name_of(target_rel)):
            self.exclude(SECRET, rel)
            return
        self.add_path(target, rel)

    def _inside(self, target: Path) -> bool:
        return target == self.root or self.root in target.parents

    def add_path(self, path: Path, rel: str, lines: tuple[int, int] | None = None) -> str | None:
        try:
            info = path.stat()
        except OSError:
            self.exclude(UNREADABLE, rel)
            return UNREADABLE
        return self._add(str(path), info, rel, lines)

    def _add(self, abs_path: str, info: os.stat_result, rel: str, lines: tuple[int, int] | None) -> str | None:
        """Add a regular file after the size and binary checks; returns the exclusion reason, if any."""
        if not S_ISREG(info.st_mode):
            self.exclude(SPECIAL, rel)
            return SPECIAL
        if info.st_nlink > 1:
            self.exclude(HARD_LINK, rel)
            return HARD_LINK
        size = info.st_size
        name = name_of(rel)
        dot = name.rfind(".")
        ext = name[dot + 1:].lower() if dot >= 0 else ""  # ".gitignore" -> "gitignore"
        if ext in BINARY_EXTENSIONS:
            self.exclude(BINARY, rel)
            return BINARY
        if size > self.max_bytes:
            self.exclude(TOO_LARGE, rel)
            return TOO_LARGE
        if size and ext not in TEXT_EXTENSIONS and looks_binary(abs_path):
            self.exclude(BINARY, rel)
            return BINARY
        self.files[rel] = ScopeFile(rel, size, estimate_file_tokens(size), lines)
        return None

    # -- the git fast path -------------------------------------------------------------------------

    def walk_workspace(self) -> None:
        """The whole workspace: from git's own listing when possible (see :meth:`git_walk`), else the walk."""
        if not self.git_walk():
            self.walk("", list(self.base_rules))

    def git_walk(self) -> bool:
        """The whole workspace from git: tracked files and their sizes from the index, untracked ones from
        ``git ls-files --others --exclude-standard``; False (nothing recorded) when that is not possible.

        Ignore rules are git's own, so they agree with git by construction, and tracked files are never
        ``stat``-ed (git does not either: that is most of the walk's cost). The price: sizes are the staged
        sizes, so a file modified since it was staged gets a stale token estimate, and a tracked file
        deleted from the work tree but not from the index stays listed (files whose index size is 0 are
        ``stat``-ed and left out when gone). Files git tracks are in scope even when a ``.gitignore``
        pattern matches them, as in git (ignore rules do not apply to tracked files); the walk cannot
        tell them apart. What ``.gitignore`` leaves out is not counted (git does not say). Submodules and
        repositories nested in the workspace are walked. With nothing tracked in the workspace (no index
        yet) there is nothing to gain and this returns False.
        """
        repo = self.repo
        if repo is None or os.environ.get(NO_GIT_VARIABLE) or any(os.environ.get(name) for name in GIT_ENVIRONMENT):
            return False
        git = shutil.which("git")
        git_dir = git_dir_of(repo)
        if git is None or git_dir is None:
            return False
        id_length = object_id_length(git_dir)
        if id_length is None:
            return False
        prefix = os.fsencode(self._prefix_from(repo))
        try:  # git walks the work tree for untracked files while this process handles the tracked ones
            process = subprocess.Popen([git, "ls-files", "-z", "--others", "--exclude-standard", "--full-name"],
                                       cwd=self.root_str, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                       stderr=subprocess.DEVNULL)
        except OSError:
            return False
        saved = dict(self.files), {reason: list(paths) for reason, paths in self.excluded.items()}, dict(self.counts)
        try:
            index = load_index(git_dir / "index")
            virtualenvs = index_virtualenvs(index, prefix, id_length) if index is not None else None
            if index is None or virtualenvs is None:
                return False
            listing = GitListing(self, virtualenvs)
            if not listing.add_index(index, prefix, id_length):
                # nothing tracked here (git would list every file, each then stat-ed: walking is faster),
                # or an index in a form not read here
                self.files, self.excluded, self.counts = saved
                return False
            output = process.communicate()[0]
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        listed = [raw for raw in output.split(b"\0") if raw]
        if process.returncode != 0 or not all(raw.startswith(prefix) for raw in listed):
            self.files, self.excluded, self.counts = saved  # git failed, or sees another repository
            return False
        others = [os.fsdecode(raw[len(prefix):]) for raw in listed]
        more = virtualenvs_in(others) - listing.virtualenvs
        if more:  # an untracked pyvenv.cfg next to tracked files: start again, knowing it
            self.files, self.excluded, self.counts = saved
            listing = GitListing(self, listing.virtualenvs | more)
            listing.add_index(index, prefix, id_length)
        listing.add_others(others)
        for rel in listing.folders:
            if os.path.isdir(os.path.join(self.root_str, rel)):
                self.walk(rel, self.rules_for(rel))
        return True

    def _add_from_lstat(self, abs_path: str, rel: str) -> None:
        """A listed file whose size the index does not give; gone since git listed it: left out silently."""
        try:
            info = os.lstat(abs_path)
        except OSError:
            return
        if S_ISLNK(info.st_mode):
            self.add_link(abs_path, rel)
        else:
            self._add(abs_path, info, rel, None)


def virtualenvs_in(paths: Iterable[str]) -> set[str]:
    return {rel[: -len("/pyvenv.cfg")] for rel in paths if rel.endswith("/pyvenv.cfg")}
