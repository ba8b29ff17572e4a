"""Rows on their way to the database: JSON encoding, one batch planned into few statements (an agent's
updates merged into one row), secret values taken out, and rows read back decoded."""

from __future__ import annotations

import functools
import json
import sqlite3
from typing import Any

from ..redaction import KNOWN
from ..text import wellformed
from .schema import JSON_COLUMNS

STOP = object()


def encode(column: str, value: Any) -> Any:
    if column in JSON_COLUMNS and value is not None:
        return json.dumps(value)
    return value


def storable(value: Any) -> Any:
    return wellformed(value) if isinstance(value, str) else value


def decode_rows(rows: list[sqlite3.Row]) -> list[dict[str, Any]]:
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
    if isinstance(params, Deferred):
        return params.encode()
    return tuple(params)


EVENT_SQL = "INSERT OR REPLACE INTO events VALUES (?, ?, ?, ?, ?)"
LOG_SQL = "INSERT INTO logs VALUES (?, ?, ?, ?)"
AGENT_UPSERT = "agent upsert"  # queued as (run_id, agent_id, {column: value}); merged per agent by the writer


def plan(rows: list[tuple[str, Any]]) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """Turn one batch of queued writes into few executemany calls.

    Several updates of one agent in a batch (queued, started, finished) become one row; events and
    logs are append-only and go in one call each; other statements keep their order.
    """
    ordered: list[tuple[str, list[tuple[Any, ...]]]] = []
    agents: dict[tuple[str, str], dict[str, Any]] = {}
    events: list[tuple[Any, ...]] = []
    logs: list[tuple[Any, ...]] = []
    for sql, params in rows:
        if sql == AGENT_UPSERT:
            run_id, agent_id, fields = params
            agents.setdefault((run_id, agent_id), {}).update(fields)
        elif sql == EVENT_SQL:
            events.append(_params(params))
        elif sql == LOG_SQL:
            logs.append(_params(params))
        elif ordered and ordered[-1][0] == sql:
            ordered[-1][1].append(_params(params))
        else:
            ordered.append((sql, [_params(params)]))
    by_columns: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for (run_id, agent_id), fields in agents.items():
        cols = tuple(fields)
        by_columns.setdefault(cols, []).append((run_id, agent_id, *(encode(c, fields[c]) for c in cols)))
    ordered += [(_upsert_sql(cols), params) for cols, params in by_columns.items()]
    ordered += [(sql, params) for sql, params in ((EVENT_SQL, events), (LOG_SQL, logs)) if params]
    return ordered


def scrub(statements: list[tuple[str, list[tuple[Any, ...]]]]) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """The statements with every secret value the process knows taken out of their texts (JSON included:
    the values' escaped forms are known too). Nothing to do, and no copy, while no secret is known."""
    if not KNOWN.known:
        return statements
    redact = KNOWN.redact
    return [(sql, [tuple(redact(value) if isinstance(value, str) else value for value in row) for row in params])
            for sql, params in statements]


class Deferred:
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
