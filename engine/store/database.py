"""The run store: one SQLite database (WAL) per state folder.

Writes go through one writer thread in batches, so the event loop never waits on the disk and a
second process can read a run while it is being written.
"""

from __future__ import annotations

import collections
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import run_ids
from .owner import is_gone
from .rows import AGENT_UPSERT, EVENT_SQL, LOG_SQL, STOP, Deferred, decode_rows, encode, plan, scrub, storable
from .schema import ADDED_COLUMNS, RUN_COLUMNS, SCHEMA, SCHEMA_VERSION

_TOTALS_SQL = (
    "SELECT COUNT(*) AS launched, SUM(state = 'succeeded') AS succeeded, SUM(state = 'failed') AS failed, "
    "SUM(state = 'cached') AS cached, SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens, "
    "SUM(cache_creation_input_tokens) AS cache_creation_input_tokens, "
    "SUM(cache_read_input_tokens) AS cache_read_input_tokens, SUM(cost_usd) AS cost_usd, "
    "SUM(web_search_requests) AS web_search_requests, SUM(web_fetch_requests) AS web_fetch_requests "
    "FROM agents WHERE run_id = ?")
_INTERRUPTED_RUN = ("the run's process ended without finishing it (killed, crashed or the machine stopped); what "
                    "its agents finished is kept: resume it with --resume-from")
_INTERRUPTED_AGENT = "interrupted: the run's process ended while this agent was queued or running"


class StoreError(Exception):
    pass


class RunStore:
    """Runs, agents, events, logs and findings under ``state_dir/workcrew.db``."""

    WRITE_INTERVAL_S = 0.1  # how often queued writes reach the disk (a reader sees a run at most this late)

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir)
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the state folder {self.state_dir}: {exc.strerror}") from None
        self.path = self.state_dir / "workcrew.db"
        self._local = threading.local()
        with self._opening() as db:
            db.executescript(SCHEMA)
            db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            # stores made before a column existed get it; older rows keep its default: agents' call key (resume)
            # and reads (incremental re-runs), runs' owner (interrupted runs), web uses and citations
            for table, columns in ADDED_COLUMNS.items():
                present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
                for name, kind in columns:
                    if name not in present:
                        db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
            db.commit()
        self._pending: collections.deque[Any] = collections.deque()
        self._wake = threading.Event()
        self._writer: threading.Thread | None = None
        self._writer_lock = threading.Lock()
        self.write_errors: list[str] = []

    # -- connections ---------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA busy_timeout=30000")
        return db

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._connect()
            self._local.db = db
        yield db

    @contextmanager
    def _opening(self) -> Iterator[sqlite3.Connection]:
        """The connection that makes or updates the schema when the store is opened. A store that cannot be
        written (a read-only folder or file, a full disk, a file that is no database) is one plain
        :class:`StoreError`, said before a run starts, not an sqlite3 traceback."""
        try:
            with self._read() as db:
                yield db
        except sqlite3.Error as exc:
            opened = getattr(self._local, "db", None)
            if opened is not None:
                opened.close()
                self._local.db = None
            if not os.access(self.state_dir, os.W_OK):  # also false for root on a read-only file system
                why = f"the state folder {self.state_dir} cannot be written"
            elif self.path.exists() and not os.access(self.path, os.W_OK):
                why = f"{self.path} cannot be written"
            else:
                why = str(exc)
            raise StoreError(f"cannot open the run store {self.path}: {why} (choose another with --state-dir "
                             "or WORKCREW_STATE_DIR)") from None

    # -- writes (queued, batched) --------------------------------------------------------------

    def _ensure_writer(self) -> None:
        with self._writer_lock:
            if self._writer is None or not self._writer.is_alive():
                self._writer = threading.Thread(target=self._write_loop, name="workcrew-store", daemon=True)
                self._writer.start()

    def _submit(self, sql: str, params: tuple[Any, ...]) -> None:
        # a plain deque append: no lock hand-off or thread wake-up per row, so the event loop pays
        # almost nothing per write; the writer drains the queue every WRITE_INTERVAL_S
        if self._writer is None:
            self._ensure_writer()
        self._pending.append((sql, params))

    def _write_loop(self) -> None:
        db = self._connect()
        while True:
            self._wake.wait(self.WRITE_INTERVAL_S)
            self._wake.clear()
            batch: list[Any] = []
            while self._pending:
                batch.append(self._pending.popleft())
            stop = False
            flushes: list[threading.Event] = []
            rows: list[tuple[str, Any]] = []
            for entry in batch:
                if entry is STOP:
                    stop = True
                elif isinstance(entry, threading.Event):
                    flushes.append(entry)
                else:
                    rows.append(entry)
            self._write(db, rows)
            for event in flushes:
                event.set()
            if stop:
                db.close()
                return

    def _write(self, db: sqlite3.Connection, rows: list[tuple[str, Any]]) -> None:
        if not rows:
            return
        try:
            statements = scrub(plan(rows))
            for sql, params in statements:
                db.executemany(sql, params)
            db.commit()
        except Exception:  # the writer thread must never die: a lost writer would lose every later row
            db.rollback()
            self._write_one_by_one(db, rows)  # records each row that still fails

    def _write_one_by_one(self, db: sqlite3.Connection, rows: list[tuple[str, Any]]) -> None:
        """Retry a failed batch row by row, so one bad row does not lose the others; text SQLite cannot
        store (a lone surrogate, which UTF-8 cannot encode) is stored with U+FFFD in its place."""
        for entry in rows:
            try:
                statements = scrub(plan([entry]))
            except Exception as exc:
                self.write_errors.append(f"{type(exc).__name__}: {exc}")
                continue
            for sql, params in statements:
                for row in params:
                    try:
                        try:
                            db.execute(sql, row)
                        except UnicodeEncodeError:
                            db.execute(sql, tuple(storable(value) for value in row))
                        db.commit()
                    except Exception as exc2:
                        db.rollback()
                        self.write_errors.append(f"{type(exc2).__name__}: {exc2}")

    def write_soon(self) -> None:
        """Have the writer write what is queued now rather than at its next interval (nothing waits for it)."""
        self._wake.set()

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until every queued write is on disk."""
        if self._writer is None:
            return
        done = threading.Event()
        self._pending.append(done)
        self._wake.set()
        if not done.wait(timeout):
            raise StoreError(f"the run store did not finish writing within {timeout:g} s")
        if self.write_errors:
            errors, self.write_errors = self.write_errors, []
            raise StoreError("writing the run store failed: " + "; ".join(errors[:3]))
        if not self.path.exists():  # SQLite goes on writing to the deleted file: everything would be lost
            raise StoreError(f"the run store {self.path} was removed while the run was writing to it")

    def close(self) -> None:
        if self._writer is not None and self._writer.is_alive():
            self._pending.append(STOP)
            self._wake.set()
            self._writer.join(30)
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    # -- run records ---------------------------------------------------------------------------

    def create_run(self, **fields: Any) -> None:
        cols = [c for c in RUN_COLUMNS if c in fields]
        self._submit(
            f"INSERT INTO runs ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
            tuple(encode(c, fields[c]) for c in cols),
        )

    def update_run(self, run_id: str, **fields: Any) -> None:
        cols = [c for c in RUN_COLUMNS if c in fields and c != "id"]
        if not cols:
            return
        self._submit(
            f"UPDATE runs SET {', '.join(f'{c} = ?' for c in cols)} WHERE id = ?",
            (*(encode(c, fields[c]) for c in cols), run_id),
        )

    def upsert_agent(self, run_id: str, agent_id: str, **fields: Any) -> None:
        self._submit(AGENT_UPSERT, (run_id, agent_id, fields))

    def add_event(self, run_id: str, seq: int, ts: float, type_: str, data: dict[str, Any], *,
                  agent_keys: tuple[str, ...] | None = None) -> None:
        """Queue an event; with ``agent_keys`` only those keys of its ``agent`` snapshot are stored.

        Event data is not mutated after emit, so encoding (and narrowing) it later on the writer thread is safe.
        """
        self._submit(EVENT_SQL, Deferred((run_id, seq, ts, type_, data), 4, agent_keys))  # type: ignore[arg-type]

    def add_log(self, run_id: str, seq: int, message: str) -> None:
        self._submit(LOG_SQL, (run_id, seq, time.time(), message))

    def add_finding(self, run_id: str, finding_id: str, fingerprint: str, data: dict[str, Any]) -> None:
        self._submit("INSERT OR REPLACE INTO findings VALUES (?, ?, ?, ?, ?)",
                     (run_id, finding_id, fingerprint, json.dumps(data), time.time()))

    def journal(self, run_id: str, seq: int, kind: str, key: str, answer: Any) -> None:
        """Journal what a ``check()`` or ``ask()`` returned, so resuming the run replays it."""
        self._submit("INSERT OR REPLACE INTO journal VALUES (?, ?, ?, ?, ?, ?)",
                     (run_id, seq, kind, key, json.dumps(answer, default=str), time.time()))

    def journaled(self, run_id: str) -> list[dict[str, Any]]:
        return self._query("SELECT seq, kind, key, answer FROM journal WHERE run_id = ? ORDER BY seq", (run_id,))

    def dismiss(self, fingerprint: str, reason: str | None = None, *, keep_earlier: bool = False) -> None:
        """Dismiss a finding by fingerprint; ``keep_earlier`` leaves an earlier dismissal (and its reason) as it was."""
        verb = "INSERT OR IGNORE" if keep_earlier else "INSERT OR REPLACE"
        self._submit(f"{verb} INTO dismissals VALUES (?, ?, ?)", (fingerprint, time.time(), reason))

    def set_value(self, key: str, value: Any) -> None:
        self._submit("INSERT OR REPLACE INTO kv VALUES (?, ?)", (key, json.dumps(value)))

    # -- reads ---------------------------------------------------------------------------------

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with self._read() as db:
            return decode_rows(db.execute(sql, params).fetchall())

    def get_run(self, run_id: str, *, prefix: bool = True) -> dict[str, Any] | None:
        """The run ``run_id`` names; with ``prefix`` (people typing ids) also the one run whose id starts with it,
        matched literally (``run_ids.py``). Raises :class:`~.run_ids.AmbiguousRunId` when several runs do.
        Ids that come from a program (the editor) are looked up with ``prefix=False``: exactly."""
        run = run_ids.exact(self._query, run_id)
        if run is None and prefix:
            run = run_ids.by_prefix(self._query, run_id)
        return run

    def list_runs(self, limit: int = 50) -> list[dict[str, Any]]:
        """The latest runs; runs whose process died are marked ``interrupted`` first, and a run still going
        shows what its agent rows hold so far (its own totals are written when it ends)."""
        self.reconcile_interrupted()
        runs = self._query(
            "SELECT id, workflow, status, created_at, finished_at, launched, succeeded, failed, cached, "
            "input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens, cost_usd, error "
            "FROM runs ORDER BY created_at DESC LIMIT ?", (limit,))
        for run in runs:
            if run["status"] == "running":
                run.update(self.agent_totals(run["id"]))
        return runs

    def agent_totals(self, run_id: str) -> dict[str, Any]:
        """Counts, tokens and cost of a run from its agent rows: the truth while it runs and after a crash."""
        rows = self._query(_TOTALS_SQL, (run_id,))
        return {key: (value or 0) for key, value in rows[0].items()} if rows else {}

    def reconcile_interrupted(self) -> list[str]:
        """Mark runs still ``running`` whose process on this host is gone as ``interrupted``, with the totals
        their agent rows hold; their unfinished agents too. Returns the run ids marked."""
        marked = []
        for run in self._query("SELECT id, owner FROM runs WHERE status = 'running'"):
            if not is_gone(run.get("owner")):
                continue
            totals = self.agent_totals(run["id"])
            last = self._query("SELECT MAX(finished_at) AS at FROM agents WHERE run_id = ?", (run["id"],))
            try:
                with self._read() as db:
                    db.execute("UPDATE agents SET state = 'interrupted', error_kind = 'interrupted', error = ? "
                               "WHERE run_id = ? AND state IN ('queued', 'running')", (_INTERRUPTED_AGENT, run["id"]))
                    cols = ", ".join(f"{col} = ?" for col in totals)
                    db.execute(f"UPDATE runs SET status = 'interrupted', error = ?, finished_at = ?, {cols} "
                               "WHERE id = ? AND status = 'running'",
                               (_INTERRUPTED_RUN, (last[0]["at"] if last else None) or time.time(),
                                *totals.values(), run["id"]))
                    db.commit()
            except sqlite3.Error:  # a read-only store: the run is shown as it is, with its live totals
                continue
            marked.append(str(run["id"]))
        return marked

    def get_agents(self, run_id: str) -> list[dict[str, Any]]:
        return self._query("SELECT * FROM agents WHERE run_id = ? ORDER BY seq", (run_id,))

    def agent_views(self, run_id: str) -> list[dict[str, Any]]:
        """The run's agents as a progress view draws them (no prompts, results or patches), in launch order."""
        return self._query(
            "SELECT id, label, phase, role, model, state, started_at, finished_at, input_tokens, output_tokens, "
            "cache_creation_input_tokens, cache_read_input_tokens, cost_usd, last_tool, error, worker FROM agents "
            "WHERE run_id = ? ORDER BY seq", (run_id,))

    def agent_results(self, run_id: str) -> list[dict[str, Any]]:
        """The run's agents in launch order with what resuming from it needs: call key, state, result, patch."""
        return self._query("SELECT seq, id, key, state, result, patch, reads FROM agents WHERE run_id = ? "
                           "ORDER BY seq", (run_id,))

    def agent_summary(self, run_id: str) -> list[dict[str, Any]]:
        """The run's agents for a report, in launch order: the succeeded and cached ones folded into one row
        per phase, model and state (``count`` agents, summed cost and tokens), every other one on its own row.

        A report of a thousand agents that went well reads a few rows, not a thousand.
        """
        totals = "SUM(cost_usd), SUM(input_tokens), SUM(output_tokens), SUM(cache_creation_input_tokens), " \
                 "SUM(cache_read_input_tokens)"
        return self._query(
            "SELECT id, label, phase, model, state, error, error_kind, cost_usd, input_tokens, output_tokens, "
            "cache_creation_input_tokens, cache_read_input_tokens, 1 AS count, seq AS first FROM agents "
            "WHERE run_id = ? AND state NOT IN ('succeeded', 'cached') "
            "UNION ALL "
            f"SELECT NULL, NULL, phase, model, state, NULL, NULL, {totals}, COUNT(*), MIN(seq) FROM agents "
            "WHERE run_id = ? AND state IN ('succeeded', 'cached') GROUP BY phase, model, state "
            "ORDER BY first", (run_id, run_id))

    def agent_citations(self, run_id: str) -> list[dict[str, Any]]:
        """The web sources agents cited (id, label, phase, citations), in launch order; agents without any left out."""
        return self._query("SELECT id, label, phase, citations FROM agents WHERE run_id = ? AND citations IS NOT NULL "
                           "ORDER BY seq", (run_id,))

    def get_events(self, run_id: str, after_seq: int = 0) -> list[dict[str, Any]]:
        return self._query("SELECT * FROM events WHERE run_id = ? AND seq > ? ORDER BY seq", (run_id, after_seq))

    def events_of_type(self, run_id: str, type_: str) -> list[dict[str, Any]]:
        """The data of one kind of event of a run, in order (e.g. ``finding_suppressed`` for its report)."""
        return [r["data"] for r in self._query("SELECT data FROM events WHERE run_id = ? AND type = ? ORDER BY seq",
                                               (run_id, type_))]

    def get_logs(self, run_id: str) -> list[str]:
        return [r["message"] for r in self._query("SELECT message FROM logs WHERE run_id = ? ORDER BY seq", (run_id,))]

    def latest_runs_with_findings(self, workspace: str) -> list[dict[str, Any]]:
        """The newest run of each workflow of ``workspace`` that has ended and reported findings (what the editor
        shows again when it starts), newest first."""
        rows = self._query(
            "SELECT id, workflow, status, created_at FROM runs WHERE workspace = ? AND status != 'running' AND "
            "EXISTS (SELECT 1 FROM findings WHERE findings.run_id = runs.id) ORDER BY created_at DESC", (workspace,))
        newest: dict[str, dict[str, Any]] = {}
        for row in rows:
            newest.setdefault(str(row["workflow"]), row)
        return list(newest.values())

    def get_findings(self, run_id: str) -> list[dict[str, Any]]:
        return [r["data"] for r in self._query("SELECT data FROM findings WHERE run_id = ? ORDER BY ts", (run_id,))]

    def find_finding(self, finding_id: str) -> tuple[str, dict[str, Any]] | None:
        rows = self._query("SELECT run_id, data FROM findings WHERE id = ? ORDER BY ts DESC LIMIT 1", (finding_id,))
        return (rows[0]["run_id"], rows[0]["data"]) if rows else None

    def dismissed(self) -> set[str]:
        return {r["fingerprint"] for r in self._query("SELECT fingerprint FROM dismissals")}

    def runs_with_estimate(self, workflow: str, provider: str, limit: int = 5) -> list[dict[str, Any]]:
        """The latest succeeded runs of ``workflow`` on ``provider`` that carry an estimate (for calibration)."""
        return self._query(
            "SELECT * FROM runs WHERE workflow = ? AND provider = ? AND status = 'succeeded' "
            "AND estimate IS NOT NULL ORDER BY created_at DESC LIMIT ?", (workflow, provider, limit))

    def get_value(self, key: str) -> Any:
        rows = self._query("SELECT value FROM kv WHERE key = ?", (key,))
        return json.loads(rows[0]["value"]) if rows else None

    # -- remembered approvals (engine/approval.py) ---------------------------------------------
    # Written at once on the caller's connection, not queued for the writer: the next run (often in
    # another process, a moment later) must see an approval, and one must never be lost in a batch.
    # Stores made before this table get it from SCHEMA (CREATE TABLE IF NOT EXISTS) when opened.

    def save_approval(self, record: dict[str, Any]) -> None:
        """Remember an approval (replacing the one for the same workspace and workflow); ``scope`` is a list."""
        columns = ("workspace", "workflow", "digest", "scope", "cap_usd", "cap_tokens", "script_path", "provider",
                   "via", "approved_at", "capabilities")
        values = tuple(json.dumps(list(record["scope"])) if column == "scope" else record.get(column)
                       for column in columns)
        with self._read() as db:
            try:
                db.execute(f"INSERT OR REPLACE INTO approvals ({', '.join(columns)}) "
                           f"VALUES ({', '.join('?' for _ in values)})", values)
                db.commit()
            except sqlite3.Error as exc:
                db.rollback()
                raise StoreError(f"cannot remember the approval in {self.path}: {exc}") from None

    def get_approval(self, workspace: str, workflow: str) -> dict[str, Any] | None:
        rows = self._query("SELECT * FROM approvals WHERE workspace = ? AND workflow = ?", (workspace, workflow))
        if not rows:
            return None
        record = rows[0]
        try:
            scope = json.loads(record["scope"])
        except (TypeError, json.JSONDecodeError):
            scope = None
        # a record whose scope cannot be read binds nothing: treated as no approval at all
        if not isinstance(scope, list) or not all(isinstance(entry, str) for entry in scope):
            return None
        record["scope"] = scope
        return record

    def delete_approval(self, workspace: str, workflow: str) -> None:
        with self._read() as db:
            db.execute("DELETE FROM approvals WHERE workspace = ? AND workflow = ?", (workspace, workflow))
            db.commit()
