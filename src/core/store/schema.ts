// The store's relational schema and its numbered migrations. A store records the
// version it was written with in `PRAGMA user_version`; a newer one is refused.

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'experiments, runs, params, tags, metrics, datasets, checkpoints',
    sql: `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

CREATE TABLE experiments (
  experiment_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  artifact_location TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL DEFAULT 'active',
  creation_time INTEGER NOT NULL,
  last_update_time INTEGER NOT NULL
);
CREATE TABLE experiment_tags (
  experiment_id INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (experiment_id, key)
) WITHOUT ROWID;

-- rid is the compact internal key; run_uuid is the id users and MLflow see.
CREATE TABLE runs (
  rid INTEGER PRIMARY KEY,
  run_uuid TEXT NOT NULL UNIQUE,
  experiment_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  user_id TEXT NOT NULL,
  status TEXT NOT NULL,
  start_time INTEGER NOT NULL,
  end_time INTEGER,
  lifecycle_stage TEXT NOT NULL DEFAULT 'active',
  deleted_time INTEGER,
  parent_run_uuid TEXT,
  artifact_uri TEXT NOT NULL
);
CREATE INDEX runs_by_experiment ON runs (experiment_id, start_time);
CREATE INDEX runs_by_parent ON runs (parent_run_uuid) WHERE parent_run_uuid IS NOT NULL;

CREATE TABLE params (
  rid INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (rid, key)
) WITHOUT ROWID;

CREATE TABLE tags (
  rid INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (rid, key)
) WITHOUT ROWID;

-- Full history, append-only. NaN is stored as value NULL with is_nan = 1
-- (SQLite has no NaN); +-Infinity are stored as REAL infinities.
CREATE TABLE metrics (
  rid INTEGER NOT NULL,
  key TEXT NOT NULL,
  step INTEGER NOT NULL,
  timestamp INTEGER NOT NULL,
  value REAL,
  is_nan INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX metrics_by_run_key ON metrics (rid, key, step);

-- One row per (run, metric): the latest point by (step, timestamp, value) as MLflow
-- defines it, plus min / max over non-NaN values and the number of points.
CREATE TABLE latest_metrics (
  rid INTEGER NOT NULL,
  key TEXT NOT NULL,
  value REAL,
  is_nan INTEGER NOT NULL,
  timestamp INTEGER NOT NULL,
  step INTEGER NOT NULL,
  min_value REAL,
  max_value REAL,
  count INTEGER NOT NULL,
  PRIMARY KEY (rid, key)
) WITHOUT ROWID;
CREATE INDEX latest_metrics_by_key ON latest_metrics (key, value);

CREATE TABLE datasets (
  id INTEGER PRIMARY KEY,
  rid INTEGER NOT NULL,
  name TEXT NOT NULL,
  digest TEXT NOT NULL,
  source TEXT NOT NULL,
  source_type TEXT NOT NULL,
  size_bytes INTEGER,
  row_count INTEGER,
  context TEXT,
  logged_at INTEGER NOT NULL
);
CREATE INDEX datasets_by_run ON datasets (rid);

CREATE TABLE checkpoints (
  id INTEGER PRIMARY KEY,
  rid INTEGER NOT NULL,
  step INTEGER NOT NULL,
  artifact_path TEXT NOT NULL,
  timestamp INTEGER NOT NULL,
  metrics_json TEXT NOT NULL
);
CREATE INDEX checkpoints_by_run ON checkpoints (rid, step);
`,
  },
  {
    version: 2,
    description: 'metric history clustered by run, key and step',
    // A chart reads one (run, key) history in step order. In a rowid table with an
    // index, every point is an index entry plus a lookup into rows interleaved with
    // the run's other metrics; clustered, the history is one contiguous range.
    // Measured on 5 million points: reads 2.2x faster, inserts 17% faster, the
    // image 32% smaller. `seq` keeps duplicates and the order they were logged in.
    sql: `
CREATE TABLE metrics_clustered (
  rid INTEGER NOT NULL,
  key TEXT NOT NULL,
  step INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  timestamp INTEGER NOT NULL,
  value REAL,
  is_nan INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (rid, key, step, seq)
) WITHOUT ROWID;
INSERT INTO metrics_clustered (rid, key, step, seq, timestamp, value, is_nan)
  SELECT rid, key, step, rowid, timestamp, value, is_nan FROM metrics;
INSERT INTO meta (key, value)
  SELECT 'metric_seq', CAST(coalesce(max(rowid), 0) AS TEXT) FROM metrics
  WHERE 1 ON CONFLICT (key) DO UPDATE SET value = excluded.value;
DROP TABLE metrics;
ALTER TABLE metrics_clustered RENAME TO metrics;
`,
  },
  {
    version: 3,
    description: 'model and prompt registries',
    // Models and prompts share one shape (MLflow keeps prompts as registered models
    // too): entries with tags, numbered versions, aliases and the history of every
    // alias move. Versions are soft-deleted so a number is never given twice.
    sql: `
CREATE TABLE registry_entries (
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  description TEXT,
  creation_time INTEGER NOT NULL,
  last_update_time INTEGER NOT NULL,
  PRIMARY KEY (kind, name)
) WITHOUT ROWID;

CREATE TABLE registry_entry_tags (
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (kind, name, key)
) WITHOUT ROWID;

CREATE TABLE registry_versions (
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  user_id TEXT NOT NULL,
  creation_time INTEGER NOT NULL,
  last_update_time INTEGER NOT NULL,
  description TEXT,
  source TEXT,
  run_id TEXT,
  status TEXT NOT NULL,
  content_json TEXT,
  deleted INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (kind, name, version)
) WITHOUT ROWID;

CREATE TABLE registry_version_tags (
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (kind, name, version, key)
) WITHOUT ROWID;

CREATE TABLE registry_aliases (
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  alias TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (kind, name, alias)
) WITHOUT ROWID;

CREATE TABLE registry_alias_history (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  alias TEXT NOT NULL,
  from_version INTEGER,
  to_version INTEGER,
  user_id TEXT NOT NULL,
  time INTEGER NOT NULL,
  reason TEXT
);
CREATE INDEX registry_alias_history_by_name ON registry_alias_history (kind, name, id);
`,
  },
  {
    version: 4,
    description: 'traces: spans, rollups, tags, metadata, assessments',
    // OpenTelemetry traces as they arrive, a span at a time and in any order. `traces` holds
    // one row per trace with its rollups, recomputed from its spans on every write, so lists
    // and searches never read spans. Span times are kept exactly (nanoseconds as text) and
    // in microseconds for arithmetic (an integer below 2^53 until the year 2255). Span rows
    // hold their attributes as JSON and what they mean (type, model, tokens, cost) in columns.
    sql: `
CREATE TABLE traces (
  tid INTEGER PRIMARY KEY,
  trace_id TEXT NOT NULL UNIQUE,
  experiment_id INTEGER,
  name TEXT NOT NULL DEFAULT '',
  start_ms INTEGER NOT NULL DEFAULT 0,
  duration_ms REAL NOT NULL DEFAULT 0,
  state TEXT NOT NULL DEFAULT 'IN_PROGRESS',
  span_count INTEGER NOT NULL DEFAULT 0,
  error_count INTEGER NOT NULL DEFAULT 0,
  input_preview TEXT NOT NULL DEFAULT '',
  output_preview TEXT NOT NULL DEFAULT '',
  tokens_in INTEGER,
  tokens_out INTEGER,
  cost REAL,
  ttft_ms REAL,
  session_id TEXT,
  user_id TEXT,
  run_uuid TEXT,
  prompt_name TEXT,
  prompt_version INTEGER,
  eval_run_uuid TEXT,
  eval_case TEXT,
  flagged INTEGER NOT NULL DEFAULT 0,
  -- What a client said of the whole trace (MLflow's StartTraceV3 / EndTrace), when it did:
  -- it wins over what the spans say.
  info_state TEXT,
  info_start_ms INTEGER,
  info_duration_ms REAL,
  info_request_preview TEXT,
  info_response_preview TEXT,
  created_ms INTEGER NOT NULL
);
CREATE INDEX traces_by_start ON traces (start_ms, tid);
CREATE INDEX traces_by_experiment ON traces (experiment_id, start_ms);
CREATE INDEX traces_by_session ON traces (session_id, start_ms) WHERE session_id IS NOT NULL;
CREATE INDEX traces_by_run ON traces (run_uuid) WHERE run_uuid IS NOT NULL;
CREATE INDEX traces_by_eval ON traces (eval_run_uuid, eval_case) WHERE eval_run_uuid IS NOT NULL;

CREATE TABLE trace_tags (
  tid INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (tid, key)
) WITHOUT ROWID;

CREATE TABLE trace_metadata (
  tid INTEGER NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (tid, key)
) WITHOUT ROWID;

-- The resources spans came from (service.name, sdk, ...), stored once each.
CREATE TABLE span_resources (
  id INTEGER PRIMARY KEY,
  json TEXT NOT NULL UNIQUE
);

CREATE TABLE spans (
  sid INTEGER PRIMARY KEY,
  tid INTEGER NOT NULL,
  span_id TEXT NOT NULL,
  parent_span_id TEXT,
  name TEXT NOT NULL,
  kind INTEGER NOT NULL,
  start_ns TEXT NOT NULL,
  end_ns TEXT NOT NULL,
  start_us INTEGER NOT NULL,
  end_us INTEGER NOT NULL,
  status_code INTEGER NOT NULL,
  status_message TEXT NOT NULL,
  trace_state TEXT NOT NULL,
  span_type TEXT NOT NULL,
  model TEXT,
  tokens_in INTEGER,
  tokens_out INTEGER,
  cost REAL,
  ttft_ms REAL,
  session_id TEXT,
  user_id TEXT,
  flags TEXT,
  resource_id INTEGER,
  -- The large columns last: rollups read the columns above without walking these.
  preview_in TEXT,
  preview_out TEXT,
  scope TEXT,
  dropped TEXT,
  attributes TEXT NOT NULL,
  events TEXT NOT NULL,
  links TEXT NOT NULL
);
CREATE UNIQUE INDEX spans_by_trace ON spans (tid, span_id);

CREATE TABLE assessments (
  assessment_id TEXT PRIMARY KEY,
  tid INTEGER NOT NULL,
  span_id TEXT,
  name TEXT NOT NULL,
  value_json TEXT NOT NULL,
  rationale TEXT NOT NULL,
  source_type TEXT NOT NULL,
  source_id TEXT NOT NULL,
  created_ms INTEGER NOT NULL
);
CREATE INDEX assessments_by_trace ON assessments (tid);
`,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
