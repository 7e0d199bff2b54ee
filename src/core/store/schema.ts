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
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
