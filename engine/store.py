"""The run store: one SQLite database (WAL) per state folder.

Writes go through one writer thread in batches, so the event loop never waits on the disk and a
second process can read a run while it is being written.
"""

from __future__ import annotations

import collections
import functools
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .redaction import KNOWN
from .text import wellformed

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  workflow TEXT NOT NULL,
  description TEXT,
  script_path TEXT,
  script_source TEXT,
  dialect TEXT,
  workspace TEXT,
  args TEXT,
  status TEXT NOT NULL,
  created_at REAL NOT NULL,
  finished_at REAL,
  result TEXT,
  error TEXT,
  provider TEXT,
  settings TEXT,
  budget_tokens INTEGER,
  budget_usd REAL,
  estimate TEXT,
  launched INTEGER DEFAULT 0,
  succeeded INTEGER DEFAULT 0,
  failed INTEGER DEFAULT 0,
  cached INTEGER DEFAULT 0,
  input_tokens INTEGER DEFAULT 0,
  output_tokens INTEGER DEFAULT 0,
  cache_creation_input_tokens INTEGER DEFAULT 0,
  cache_read_input_tokens INTEGER DEFAULT 0,
  cost_usd REAL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS agents (
  run_id TEXT NOT NULL,
  id TEXT NOT NULL,
  seq INTEGER,
  label TEXT,
  phase TEXT,
  role TEXT,
  agent_type TEXT,
  model TEXT,
  state TEXT,
  prompt TEXT,
  queued_at REAL,
  started_at REAL,
  finished_at REAL,
  input_tokens INTEGER DEFAULT 0,
  output_tokens INTEGER DEFAULT 0,
  cache_creation_input_tokens INTEGER DEFAULT 0,
  cache_read_input_tokens INTEGER DEFAULT 0,
  cost_usd REAL DEFAULT 0,
  attempts INTEGER DEFAULT 0,
  retries INTEGER DEFAULT 0,
  turns INTEGER DEFAULT 0,
  tool_calls INTEGER DEFAULT 0,
  last_tool TEXT,
  error TEXT,
  error_kind TEXT,
  result TEXT,
  patch TEXT,
  key TEXT,
  PRIMARY KEY (run_id, id)
);
CREATE TABLE IF NOT EXISTS events (
  run_id TEXT NOT NULL, seq INTEGER NOT NULL, ts REAL NOT NULL, type TEXT NOT NULL, data TEXT,
  PRIMARY KEY (run_id, seq)
);
CREATE TABLE IF NOT EXISTS logs (
  run_id TEXT NOT NULL, seq INTEGER NOT NULL, ts REAL NOT NULL, message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS logs_run ON logs(run_id, seq);
CREATE TABLE IF NOT EXISTS findings (
  run_id TEXT NOT NULL, id TEXT NOT NULL, fingerprint TEXT NOT NULL, data TEXT NOT NULL, ts REAL NOT NULL,
  PRIMARY KEY (run_id, id)
);
CREATE INDEX IF NOT EXISTS findings_fp ON findings(fingerprint);
CREATE TABLE IF NOT EXISTS dismissals (
  fingerprint TEXT PRIMARY KEY, ts REAL NOT NULL, reason TEXT
);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS approvals (
  workspace TEXT NOT NULL,
  workflow TEXT NOT NULL,
  digest TEXT NOT NULL,
  scope TEXT NOT NULL,
  cap_usd REAL,
  cap_tokens INTEGER,
  script_path TEXT,
  provider TEXT,
  via TEXT,
  approved_at REAL NOT NULL,
  PRIMARY KEY (workspace, workflow)
);
"""

RUN_COLUMNS = (
    "id", "workflow", "description", "script_path", "script_source", "dialect", "workspace", "args", "status",
    "created_at", "finished_at", "result", "error", "provider", "settings", "budget_tokens", "budget_usd",
    "estimate", "launched", "succeeded", "failed", "cached", "input_tokens", "output_tokens",
    "cache_creation_input_tokens", "cache_read_input_tokens", "cost_usd",
)
JSON_COLUMNS = {"args", "result", "settings", "estimate", "patch", "data"}

_STOP = object()


def _encode(column: str, value: Any) -> Any:
    if column in JSON_COLUMNS and value is not None:
        return json.dumps(value)
    return value


def _storable(value: Any) -> Any:
    return wellformed(value) if isinstance(value, str) else value


def _decode_rows(rows: list[sqlite3.Row]) -> list[dict[str, Any]]:
    # the columns and which of them hold JSON are the same for every row of one query: look them up once
    # (a report reads 1000s of agent rows while the run's result waits for it)
    if not rows:
        return []
    keys = rows[0].keys()
    json_keys = [key for key in keys if key in JSON_COLUMNS]
    out = []
    for row in rows:
        item = dict(zip(keys, row, strict=True))
        for key in json_keys:
            value = item[key]
            if isinstance(value, str):
                try:
                    item[key] = json.loads(value)
                except json.JSONDecodeError:
                    pass
        out.append(item)
    return out


@functools.lru_cache(maxsize=64)
def _upsert_sql(cols: tuple[str, ...]) -> str:
    # the same few column sets recur for every agent: build each statement once
    placeholders = ", ".join("?" for _ in cols)
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols)
    return (f"INSERT INTO agents (run_id, id, {', '.join(cols)}) VALUES (?, ?, {placeholders}) "
            f"ON CONFLICT(run_id, id) DO UPDATE SET {updates}")


def _params(params: Any) -> tuple[Any, ...]:
    """Rows are queued as tuples; an event's data is queued as a dict and encoded here, off the event loop."""
    if isinstance(params, _Deferred):
        return params.encode()
    return tuple(params)


_EVENT_SQL = "INSERT OR REPLACE INTO events VALUES (?, ?, ?, ?, ?)"
_LOG_SQL = "INSERT INTO logs VALUES (?, ?, ?, ?)"
_AGENT = "agent upsert"  # queued as (run_id, agent_id, {column: value}); merged per agent by the writer


def _plan(rows: list[tuple[str, Any]]) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """Turn one batch of queued writes into few executemany calls.

    Several updates of one agent in a batch (queued, started, finished) become one row; events and
    logs are append-only and go in one call each; other statements keep their order.
    """
    ordered: list[tuple[str, list[tuple[Any, ...]]]] = []
    agents: dict[tuple[str, str], dict[str, Any]] = {}
    events: list[tuple[Any, ...]] = []
    logs: list[tuple[Any, ...]] = []
    for sql, params in rows:
        if sql == _AGENT:
            run_id, agent_id, fields = params
            agents.setdefault((run_id, agent_id), {}).update(fields)
        elif sql == _EVENT_SQL:
            events.append(_params(params))
        elif sql == _LOG_SQL:
            logs.append(_params(params))
        elif ordered and ordered[-1][0] == sql:
            ordered[-1][1].append(_params(params))
        else:
            ordered.append((sql, [_params(params)]))
    by_columns: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for (run_id, agent_id), fields in agents.items():
        cols = tuple(fields)
        by_columns.setdefault(cols, []).append((run_id, agent_id, *(_encode(c, fields[c]) for c in cols)))
    ordered += [(_upsert_sql(cols), params) for cols, params in by_columns.items()]
    ordered += [(sql, params) for sql, params in ((_EVENT_SQL, events), (_LOG_SQL, logs)) if params]
    return ordered


def _scrub(statements: list[tuple[str, list[tuple[Any, ...]]]]) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """The statements with every secret value the process knows taken out of their texts (JSON included:
    the values' escaped forms are known too). Nothing to do, and no copy, while no secret is known."""
    if not KNOWN.known:
        return statements
    redact = KNOWN.redact
    return [(sql, [tuple(redact(value) if isinstance(value, str) else value for value in row) for row in params])
            for sql, params in statements]


class _Deferred:
    """Parameters whose JSON encoding the writer thread does (narrowing an event's agent snapshot first)."""

    __slots__ = ("agent_keys", "json_index", "values")

    def __init__(self, values: tuple[Any, ...], json_index: int, agent_keys: tuple[str, ...] | None = None) -> None:
        self.values = values
        self.json_index = json_index
        self.agent_keys = agent_keys

    def encode(self) -> tuple[Any, ...]:
        values = list(self.values)
        data = values[self.json_index]
        if self.agent_keys is not None and isinstance(data, dict) and isinstance(data.get("agent"), dict):
            agent = data["agent"]
            data = {**data, "agent": {k: agent[k] for k in self.agent_keys if k in agent}}
        values[self.json_index] = json.dumps(data, default=str)
        return tuple(values)


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
        with self._read() as db:
            db.executescript(SCHEMA)
            db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            # stores made before agents had a call key (resume) get the column; older rows keep NULL
            if "key" not in {row[1] for row in db.execute("PRAGMA table_info(agents)")}:
                db.execute("ALTER TABLE agents ADD COLUMN key TEXT")
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
                if entry is _STOP:
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
            statements = _scrub(_plan(rows))
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
                statements = _scrub(_plan([entry]))
            except Exception as exc:
                self.write_errors.append(f"{type(exc).__name__}: {exc}")
                continue
            for sql, params in statements:
                for row in params:
                    try:
                        try:
                            db.execute(sql, row)
                        except UnicodeEncodeError:
                            db.execute(sql, tuple(_storable(value) for value in row))
                        db.commit()
                    except Exception as exc2:
                        db.rollback()
                        self.write_errors.append(f"{type(exc2).__name__}: {exc2}")

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

    def close(self) -> None:
        if self._writer is not None and self._writer.is_alive():
            self._pending.append(_STOP)
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
            tuple(_encode(c, fields[c]) for c in cols),
        )

    def update_run(self, run_id: str, **fields: Any) -> None:
        cols = [c for c in RUN_COLUMNS if c in fields and c != "id"]
        if not cols:
            return
        self._submit(
            f"UPDATE runs SET {', '.join(f'{c} = ?' for c in cols)} WHERE id = ?",
            (*(_encode(c, fields[c]) for c in cols), run_id),
        )

    def upsert_agent(self, run_id: str, agent_id: str, **fields: Any) -> None:
        self._submit(_AGENT, (run_id, agent_id, fields))

    def add_event(self, run_id: str, seq: int, ts: float, type_: str, data: dict[str, Any], *,
                  agent_keys: tuple[str, ...] | None = None) -> None:
        """Queue an event; with ``agent_keys`` only those keys of its ``agent`` snapshot are stored.

        Event data is not mutated after emit, so encoding (and narrowing) it later on the writer thread is safe.
        """
        self._submit(_EVENT_SQL, _Deferred((run_id, seq, ts, type_, data), 4, agent_keys))  # type: ignore[arg-type]

    def add_log(self, run_id: str, seq: int, message: str) -> None:
        self._submit(_LOG_SQL, (run_id, seq, time.time(), message))

    def add_finding(self, run_id: str, finding_id: str, fingerprint: str, data: dict[str, Any]) -> None:
        self._submit("INSERT OR REPLACE INTO findings VALUES (?, ?, ?, ?, ?)",
                     (run_id, finding_id, fingerprint, json.dumps(data), time.time()))

    def dismiss(self, fingerprint: str, reason: str | None = None) -> None:
        self._submit("INSERT OR REPLACE INTO dismissals VALUES (?, ?, ?)", (fingerprint, time.time(), reason))

    def set_value(self, key: str, value: Any) -> None:
        self._submit("INSERT OR REPLACE INTO kv VALUES (?, ?)", (key, json.dumps(value)))

    # -- reads ---------------------------------------------------------------------------------

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with self._read() as db:
            return _decode_rows(db.execute(sql, params).fetchall())

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        rows = self._query("SELECT * FROM runs WHERE id = ?", (run_id,))
        if not rows:
            rows = self._query("SELECT * FROM runs WHERE id LIKE ? ORDER BY created_at DESC", (run_id + "%",))
            if len(rows) != 1:
                return None
        return rows[0]

    def list_runs(self, limit: int = 50) -> list[dict[str, Any]]:
        return self._query(
            "SELECT id, workflow, status, created_at, finished_at, launched, succeeded, failed, cached, "
            "input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens, cost_usd, error "
            "FROM runs ORDER BY created_at DESC LIMIT ?", (limit,))

    def get_agents(self, run_id: str) -> list[dict[str, Any]]:
        return self._query("SELECT * FROM agents WHERE run_id = ? ORDER BY seq", (run_id,))

    def agent_results(self, run_id: str) -> list[dict[str, Any]]:
        """The run's agents in launch order with what resuming from it needs: call key, state, result, patch."""
        return self._query("SELECT seq, key, state, result, patch FROM agents WHERE run_id = ? ORDER BY seq",
                           (run_id,))

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

    def get_events(self, run_id: str, after_seq: int = 0) -> list[dict[str, Any]]:
        return self._query("SELECT * FROM events WHERE run_id = ? AND seq > ? ORDER BY seq", (run_id, after_seq))

    def get_logs(self, run_id: str) -> list[str]:
        return [r["message"] for r in self._query("SELECT message FROM logs WHERE run_id = ? ORDER BY seq", (run_id,))]

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
                   "via", "approved_at")
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
