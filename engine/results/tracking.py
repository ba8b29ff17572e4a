"""What a finished run does to the findings it and earlier runs of its workflow reported (once, at its end,
in a worker thread): every finding it reported is open (first seen now, or still open since its first run);
an open finding of an earlier run that it did not report again is closed as fixed when the run covered the
finding's file and that file has changed since the finding was last reported.

Both conditions guard against closing what nobody fixed. A run that reviewed three files says nothing about
the others, so only files in the run's scope count; and a reviewer that misses a finding this time while the
code is untouched has not seen it fixed, so an unchanged file keeps its findings open.

The scope is what the run says it covered: the workspace-relative ``files`` its result lists (a folder covers
what is under it) minus the items it lists as ``dropped``; without that, the ``files`` of its args when every
agent of the run succeeded. A run that did not succeed, or says nothing about its files, closes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..store import RunStore
from ..store.finding_states import Closed, Reported, open_states, record_run
from .findings import Finding

ABSENT = "absent"  # the file did not exist: its deletion is a change like any other


@dataclass(frozen=True)
class FinishedRun:
    run_id: str
    workflow: str
    workspace: Path
    status: str
    findings: list[Finding]
    scope: list[str] | None  # workspace-relative files and folders the run covered; None: it does not say


@dataclass(frozen=True)
class Tracking:
    """What one run changed: findings reported (new ones among them) and earlier ones closed as fixed."""

    reported: int
    new: int
    closed: list[str]


def run_scope(result: Any, args: Any, failed_agents: int) -> list[str] | None:
    """The files a run covered, from its result (``files`` minus ``dropped``) or else its args (``files``,
    or a list of them) when no agent failed; None when neither says."""
    if isinstance(result, dict) and _paths(result.get("files")) is not None:
        dropped = {str(item.get("item")) for item in result.get("dropped") or [] if isinstance(item, dict)}
        return [path for path in _paths(result.get("files")) or [] if path not in dropped]
    if failed_agents:  # a file whose reviewer failed was not reviewed, and args cannot say which one it was
        return None
    given = args.get("files") if isinstance(args, dict) else args
    return _paths(given)


def _paths(value: Any) -> list[str] | None:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return None
    return [_normal(item) for item in value]


def _normal(path: str) -> str:
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path.rstrip("/") or "."


def covers(scope: Iterable[str], path: str) -> bool:
    """``path`` (workspace-relative) is one of ``scope``'s files or under one of its folders."""
    return any(entry == "." or path == entry or path.startswith(entry + "/") for entry in scope)


def file_digest(workspace: Path, path: str) -> str | None:
    """The file's content fingerprint; ``ABSENT`` when it does not exist, None when it cannot be read."""
    target = workspace / path
    try:
        return hashlib.sha256(target.read_bytes()).hexdigest()[:32]
    except FileNotFoundError:
        return ABSENT
    except OSError:
        return None


def track(store: RunStore, run: FinishedRun) -> Tracking:
    """Record what ``run`` changed (queued for the store's writer; blocking: reads files and the store)."""
    newest: dict[str, Finding] = {}
    for finding in run.findings:
        if finding.verdict != "refuted":  # refuted: not a problem, never shown, nothing to resolve
            newest[finding.fingerprint] = finding  # a fingerprint reported twice: the later one
    digests: dict[str, str | None] = {}

    def digest(path: str) -> str | None:
        if path not in digests:
            digests[path] = file_digest(run.workspace, path)
        return digests[path]

    workspace = str(run.workspace)
    earlier = {str(row["fingerprint"]): row for row in open_states(store, workspace, run.workflow)}
    reported = [Reported(fingerprint, str(f.id), f.location.path, digest(f.location.path))
                for fingerprint, f in newest.items()]
    closed: list[Closed] = []
    if run.status == "succeeded" and run.scope is not None:
        for fingerprint, row in earlier.items():
            path = str(row["path"])
            if fingerprint in newest or not covers(run.scope, path):
                continue
            now, then = digest(path), row.get("file_digest")
            if now is None or then is None or now == then:
                continue  # unchanged (or unknown): the code it points at is still there
            why = "its file was deleted" if now == ABSENT else "its file changed"
            closed.append(Closed(fingerprint, f"not reported again by run {run.run_id}, which covered {path}; {why}"))
    record_run(store, workspace, run.workflow, run.run_id, reported, closed)
    return Tracking(len(reported), sum(1 for item in reported if item.fingerprint not in earlier),
                    [item.fingerprint for item in closed])
