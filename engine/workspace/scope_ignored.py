"""What ``.gitignore`` leaves out of a whole-workspace scope that came from git's own listing.

The git fast path (:meth:`Collector.git_walk`) asks git only for the files it does not ignore, so what
``.gitignore`` leaves out is not counted there. An approval must show it all the same ("node_modules/:
default exclude"), so on request one more ``git ls-files --others --ignored --directory`` lists it: git
stops at an ignored folder and names the folder once, so this stays as cheap as the listing itself on
large trees. Each entry gets the reason the walk would give it (a secret, a default exclude, the excludes
setting), else ``gitignore``; entries inside a folder that is already left out are skipped
(that folder is the one counted), and the examples kept per reason are capped by ``Collector.exclude``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import TYPE_CHECKING

from .ignore import name_of
from .scope_types import GITIGNORE, SECRET, USER_EXCLUDE, VIRTUALENV

if TYPE_CHECKING:
    from .walk import Collector

GIT_TIMEOUT_S = 60.0


def record_git_ignored(collector: Collector) -> list[str]:
    """Record what git ignores under the workspace in ``collector``; returns notes when git could not say
    (the scope is still right, only the count of ignored entries is missing)."""
    repo = collector.repo
    git = shutil.which("git")
    if repo is None or git is None:
        return ["what .gitignore leaves out is not counted (git is not available)"]
    prefix = os.fsencode(collector._prefix_from(repo))
    try:
        done = subprocess.run([git, "ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory",
                               "--full-name"], cwd=collector.root_str, stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=GIT_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [f"what .gitignore leaves out is not counted (git ls-files failed: {exc})"]
    if done.returncode != 0:
        why = os.fsdecode(done.stderr).strip().splitlines()
        return [f"what .gitignore leaves out is not counted (git ls-files: {why[-1] if why else done.returncode})"]
    verdicts: dict[str, str | None] = {"": None}
    for raw in done.stdout.split(b"\0"):
        if not raw.startswith(prefix) or raw == prefix:
            continue
        rel = os.fsdecode(raw[len(prefix):])
        folder = rel.endswith("/")
        parent = rel.rstrip("/").rpartition("/")[0]
        if _folder_reason(collector, parent, verdicts) is not None:
            continue  # inside a folder that is left out already: that folder is what is counted
        # the walk's order: a secret, a default exclude (folders) or the excludes setting before .gitignore
        if folder:
            reason = collector.dir_reason(rel, name_of(rel).rstrip("/"), []) or GITIGNORE
            verdicts[rel.rstrip("/")] = reason  # git may list entries inside an ignored folder too: skip them
        else:
            reason = collector.file_reason(rel, name_of(rel), []) or GITIGNORE
            if reason not in (SECRET, USER_EXCLUDE):
                reason = GITIGNORE  # the walk checks .gitignore before the default suffixes (.log, .map …)
        collector.exclude(reason, rel)
    return []


def _folder_reason(collector: Collector, rel_dir: str, verdicts: dict[str, str | None]) -> str | None:
    """Why the walk would leave ``rel_dir`` out by its name or a pattern (not .gitignore), or None; cached."""
    if rel_dir in verdicts:
        return verdicts[rel_dir]
    cut = rel_dir.rfind("/")
    reason = _folder_reason(collector, rel_dir[:cut] if cut > 0 else "", verdicts)
    if reason is None:
        reason = collector.dir_reason(rel_dir + "/", rel_dir[cut + 1:], [])
        if reason is None and os.path.isfile(os.path.join(collector.root_str, rel_dir, "pyvenv.cfg")):
            reason = VIRTUALENV
    verdicts[rel_dir] = reason
    return reason
