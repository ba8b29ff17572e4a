"""The run store's tables (SQLite, WAL): runs, agents, events, logs, findings, dismissals, approvals, a
key-value table and finding_states (each finding's resolution across runs: ``finding_states.py``), and which
columns hold JSON."""

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
  cost_usd REAL DEFAULT 0,
  owner TEXT,
  web_search_requests INTEGER DEFAULT 0,
  web_fetch_requests INTEGER DEFAULT 0
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
  reads TEXT,
  web_search_requests INTEGER DEFAULT 0,
  web_fetch_requests INTEGER DEFAULT 0,
  citations TEXT,
  worker TEXT,
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
CREATE TABLE IF NOT EXISTS journal (
  run_id TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL, answer TEXT, ts REAL NOT NULL,
  PRIMARY KEY (run_id, seq)
);
CREATE TABLE IF NOT EXISTS controls (
  id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, action TEXT NOT NULL, reason TEXT, ts REAL NOT NULL
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
  capabilities TEXT,
  PRIMARY KEY (workspace, workflow)
);
CREATE TABLE IF NOT EXISTS finding_states (
  workspace TEXT NOT NULL,
  workflow TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  path TEXT NOT NULL,
  status TEXT NOT NULL,
  reason TEXT,
  finding_id TEXT,
  first_run TEXT,
  last_run TEXT,
  first_seen REAL,
  last_seen REAL,
  file_digest TEXT,
  resolved_at REAL,
  resolved_by_run TEXT,
  PRIMARY KEY (workspace, workflow, fingerprint)
);
CREATE INDEX IF NOT EXISTS finding_states_open ON finding_states(workspace, status);
"""

RUN_COLUMNS = (
    "id", "workflow", "description", "script_path", "script_source", "dialect", "workspace", "args", "status",
    "created_at", "finished_at", "result", "error", "provider", "settings", "budget_tokens", "budget_usd",
    "estimate", "launched", "succeeded", "failed", "cached", "input_tokens", "output_tokens",
    "cache_creation_input_tokens", "cache_read_input_tokens", "cost_usd", "owner", "web_search_requests",
    "web_fetch_requests",
)
JSON_COLUMNS = {"args", "result", "settings", "estimate", "patch", "data", "reads", "answer", "citations"}
# columns added after the first schema, with their type: a store made before them gets them when opened
ADDED_COLUMNS = {
    "agents": (("key", "TEXT"), ("reads", "TEXT"), ("web_search_requests", "INTEGER DEFAULT 0"),
               ("web_fetch_requests", "INTEGER DEFAULT 0"), ("citations", "TEXT"), ("worker", "TEXT")),
    "runs": (("owner", "TEXT"), ("web_search_requests", "INTEGER DEFAULT 0"),
             ("web_fetch_requests", "INTEGER DEFAULT 0")),
    "approvals": (("capabilities", "TEXT"),),
}
