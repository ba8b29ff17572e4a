"""Finding a run by what a person typed: its id, or the start of it, matched literally.

No SQL pattern (LIKE, GLOB) ever sees a user's text: ``%`` and ``_`` are ordinary characters in an id, so
``%`` matches no run rather than every run. A prefix that several runs share is refused with the candidates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import UsageError

Query = Callable[[str, tuple[Any, ...]], list[dict[str, Any]]]

MAX_RUN_ID = 64  # ids are "wf_" + 12 hex digits; anything much longer is not a run id
_CANDIDATES = 5


class AmbiguousRunId(UsageError):
    """A run id prefix that matches more than one run."""

    def __init__(self, prefix: str, candidates: list[str]) -> None:
        self.prefix = prefix
        self.candidates = candidates
        shown = ", ".join(candidates[:_CANDIDATES]) + (", …" if len(candidates) > _CANDIDATES else "")
        super().__init__(f"run id {prefix!r} is the start of several runs ({shown}): give more of the id")


def storable(run_id: str) -> bool:
    """Whether ``run_id`` can be looked up at all (SQLite takes UTF-8: no lone surrogates, no NUL)."""
    if not run_id or len(run_id) > MAX_RUN_ID or "\x00" in run_id:
        return False
    try:
        run_id.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def exact(query: Query, run_id: str) -> dict[str, Any] | None:
    if not storable(run_id):
        return None
    rows = query("SELECT * FROM runs WHERE id = ?", (run_id,))
    return rows[0] if rows else None


def by_prefix(query: Query, prefix: str) -> dict[str, Any] | None:
    """The one run whose id starts with ``prefix`` (compared character by character, no wildcards); None when
    none does; :class:`AmbiguousRunId` when several do."""
    if not storable(prefix):
        return None
    ids = [str(r["id"]) for r in query("SELECT id FROM runs WHERE substr(id, 1, ?) = ? ORDER BY created_at DESC "
                                       "LIMIT ?", (len(prefix), prefix, _CANDIDATES + 1))]
    if len(ids) > 1:
        raise AmbiguousRunId(prefix, ids)
    return exact(query, ids[0]) if ids else None
