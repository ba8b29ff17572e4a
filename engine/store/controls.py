"""Run control across processes: ``workcrew stop|pause|resume RUN_ID`` from a terminal, or the editor,
asks the process that owns the run — whichever started it — through the store, and that process acts
within a quarter of a second (``runtime/run.py`` watches for requests while the run lives).

Requests are written at once (not through the writer thread: the caller is usually another process that
exits right after) and taken once by the owner.
"""

from __future__ import annotations

import json
import sqlite3
import time

from .database import RunStore, StoreError

ACTIONS = ("stop", "cancel", "pause", "resume")


def request(store: RunStore, run_id: str, action: str, reason: str | None = None) -> None:
    """Ask the owner of ``run_id`` to ``stop`` (no new agent starts, those in flight finish, the run ends
    ``stopped`` and can be resumed), ``cancel`` (at once), ``pause`` or ``resume``."""
    if action not in ACTIONS:
        raise ValueError(f"unknown run control {action!r}; one of {', '.join(ACTIONS)}")
    try:
        with store._read() as db:
            db.execute("INSERT INTO controls (run_id, action, reason, ts) VALUES (?, ?, ?, ?)",
                       (run_id, action, reason, time.time()))
            db.commit()
    except sqlite3.Error as exc:
        raise StoreError(f"cannot ask run {run_id} to {action}: the run store {store.path} cannot be written "
                         f"({exc})") from None


def take(store: RunStore, run_id: str) -> list[tuple[str, str | None]]:
    """The requests for ``run_id`` not taken yet, oldest first, as (action, reason); each is taken once."""
    try:
        with store._read() as db:
            rows = db.execute("SELECT id, action, reason FROM controls WHERE run_id = ? ORDER BY id",
                              (run_id,)).fetchall()
            if rows:
                db.execute(f"DELETE FROM controls WHERE id IN ({', '.join('?' for _ in rows)})",
                           [row[0] for row in rows])
                db.commit()
    except sqlite3.Error:
        return []  # a store that cannot be read now is tried again at the next look
    return [(str(row[1]), row[2]) for row in rows]


# -- questions: a run process's ask() answered by whoever follows it (the editor, `workcrew attach`) -------

def _answer_key(run_id: str, number: int) -> str:
    return f"answer:{run_id}:{number}"


def answer(store: RunStore, run_id: str, number: int, value: str | None) -> None:
    """Answer the run's ``number``-th question (1-based, in the order of its ``ask`` events)."""
    try:
        with store._read() as db:
            db.execute("INSERT OR IGNORE INTO kv VALUES (?, ?)", (_answer_key(run_id, number),
                                                                  json.dumps({"answer": value})))
            db.commit()
    except sqlite3.Error as exc:
        raise StoreError(f"cannot answer run {run_id}'s question: the run store {store.path} cannot be written "
                         f"({exc})") from None


def answered(store: RunStore, run_id: str, number: int) -> tuple[bool, str | None]:
    """(True, the answer) once the ``number``-th question has one (the first answer counts), else (False, None)."""
    value = store.get_value(_answer_key(run_id, number))
    if not isinstance(value, dict):
        return False, None
    given = value.get("answer")
    return True, None if given is None else str(given)
