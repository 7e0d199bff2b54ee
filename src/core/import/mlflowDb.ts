// Reads an `mlflow.db`: MLflow's SQLAlchemy tracking and registry store on SQLite
// (tables as declared in mlflow/store/tracking/dbmodels/models.py and
// mlflow/store/model_registry/dbmodels/models.py). Opened with the store's sql.js
// loader, read-only: the file is loaded into memory and never written. Columns are
// read by name, so the schemas of older and newer MLflow versions both work.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Database, SqlValue } from 'sql.js';
import { loadSqlJs } from '../store/sqlite.ts';
import {
  METRIC_CHUNK,
  millis,
  MlflowSourceError,
  resolveArtifactUri,
  runStatus,
} from './source.ts';
import type {
  ArtifactSource,
  ImportIssues,
  MlflowSource,
  SourceExperiment,
  SourceMetricChunk,
  SourceMetricPoint,
  SourceModel,
  SourceModelVersion,
  SourceRun,
  SourceRunHead,
} from './source.ts';

const SQLITE_HEADER = 'SQLite format 3\0';
// SqlAlchemyStore stores +/-Inf as +/-max float ("Sql can not represent Infs").
const FLOAT_MAX = 1.7976931348623157e308;
const DELETED_STAGE = 'Deleted_Internal';
// MLflow 3 workspaces: rows of other workspaces are not imported (names repeat across them).
const DEFAULT_WORKSPACE = 'default';

type Row = Record<string, SqlValue>;

export function isSqliteFile(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const header = Buffer.alloc(16);
    return fs.readSync(fd, header, 0, 16, 0) === 16 && header.toString('latin1') === SQLITE_HEADER;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

export async function openMlflowDb(file: string, issues: ImportIssues): Promise<MlflowSource> {
  const location = path.resolve(file);
  if (!isSqliteFile(location)) {
    throw new MlflowSourceError(`${location} is not a SQLite database.`, location);
  }
  const SQL = await loadSqlJs();
  let db: Database;
  try {
    db = new SQL.Database(fs.readFileSync(location));
  } catch (e) {
    throw new MlflowSourceError(`${location} cannot be opened: ${(e as Error).message}`, location);
  }
  try {
    return new MlflowDbReader(db, location, issues);
  } catch (e) {
    db.close();
    throw e;
  }
}

class MlflowDbReader implements MlflowSource {
  readonly format = 'mlflow.db' as const;
  private readonly tables: Set<string>;
  private readonly columnCache = new Map<string, Set<string>>();
  private readonly label: string;

  constructor(
    private readonly db: Database,
    readonly location: string,
    private readonly issues: ImportIssues,
  ) {
    this.label = path.basename(location);
    let names: string[];
    try {
      names = this.all("SELECT name FROM sqlite_master WHERE type = 'table'").map((r) =>
        String(r.name),
      );
    } catch (e) {
      throw new MlflowSourceError(
        `${location} cannot be read as a database: ${(e as Error).message}`,
        location,
      );
    }
    this.tables = new Set(names);
    for (const required of ['experiments', 'runs']) {
      if (!this.tables.has(required)) {
        throw new MlflowSourceError(
          `${location} is not an MLflow tracking database: it has no '${required}' table` +
            ` (tables: ${names.length ? names.sort().join(', ') : 'none'}). Give the mlflow.db that MLflow writes (tracking URI sqlite:///mlflow.db).`,
          location,
        );
      }
    }
    const wal = `${location}-wal`;
    if (fs.existsSync(wal) && fs.statSync(wal).size > 0) {
      issues.note(
        `${wal} holds changes not yet written into ${this.label}; they are not imported. Stop the MLflow server (or open the database once with sqlite3) and import again to include them.`,
      );
    }
  }

  private all(sql: string, params: SqlValue[] = []): Row[] {
    return [...this.iterate(sql, params)];
  }

  private *iterate(sql: string, params: SqlValue[] = []): Generator<Row> {
    const stmt = this.db.prepare(sql);
    try {
      stmt.bind(params);
      while (stmt.step()) yield stmt.getAsObject();
    } finally {
      stmt.free();
    }
  }

  private columns(table: string): Set<string> {
    let cols = this.columnCache.get(table);
    if (!cols) {
      cols = new Set(
        this.tables.has(table)
          ? this.all(`PRAGMA table_info("${table}")`).map((r) => String(r.name))
          : [],
      );
      this.columnCache.set(table, cols);
    }
    return cols;
  }

  /** ` AND <alias>workspace = 'default'` when the table has workspaces. */
  private inDefaultWorkspace(table: string, alias = ''): string {
    return this.columns(table).has('workspace')
      ? ` AND ${alias}workspace = '${DEFAULT_WORKSPACE}'`
      : '';
  }

  private keyValues(sql: string, params: SqlValue[], keyColumn = 'key'): Record<string, string> {
    const out: Record<string, string> = {};
    for (const r of this.iterate(sql, params)) out[String(r[keyColumn])] = text(r.value) ?? '';
    return out;
  }

  experiments(): SourceExperiment[] {
    const workspaces = this.columns('experiments').has('workspace');
    const list: SourceExperiment[] = [];
    for (const r of this.all('SELECT * FROM experiments ORDER BY experiment_id')) {
      const id = String(r.experiment_id);
      const name = text(r.name) ?? '';
      if (workspaces && r.workspace !== DEFAULT_WORKSPACE) {
        this.issues.skip(
          `experiment '${name}' (${this.label} id ${id})`,
          `it is in MLflow workspace '${String(r.workspace)}'; only the default workspace is imported`,
        );
        continue;
      }
      list.push({
        id,
        name,
        lifecycleStage: r.lifecycle_stage === 'deleted' ? 'deleted' : 'active',
        tags: this.tables.has('experiment_tags')
          ? this.keyValues('SELECT key, value FROM experiment_tags WHERE experiment_id = ?', [
              r.experiment_id ?? null,
            ])
          : {},
      });
    }
    return list;
  }

  runHeads(): SourceRunHead[] {
    const parent = this.tables.has('tags')
      ? "(SELECT value FROM tags t WHERE t.run_uuid = r.run_uuid AND t.key = 'mlflow.parentRunId')"
      : 'NULL';
    const scope = this.columns('experiments').has('workspace')
      ? ` WHERE r.experiment_id IN (SELECT experiment_id FROM experiments WHERE 1 = 1${this.inDefaultWorkspace('experiments')})`
      : '';
    return this.all(
      `SELECT r.run_uuid AS run_uuid, r.experiment_id AS experiment_id, ${parent} AS parent
       FROM runs r${scope} ORDER BY r.start_time, r.run_uuid`,
    ).map((r) => ({
      runId: String(r.run_uuid),
      experimentId: String(r.experiment_id),
      parentRunId: text(r.parent) || null,
      where: `${this.label} run ${String(r.run_uuid)}`,
    }));
  }

  run(head: SourceRunHead): SourceRun | undefined {
    const r = this.all('SELECT * FROM runs WHERE run_uuid = ?', [head.runId])[0];
    if (!r) return undefined;
    let status = runStatus(r.status);
    if (!status) {
      this.issues.note(
        `run ${head.runId}: status ${JSON.stringify(r.status)} in ${this.label} is not an MLflow run status; imported as RUNNING`,
      );
      status = 'RUNNING';
    }
    return {
      ...head,
      runName: text(r.name) || null,
      userId: text(r.user_id) ?? null,
      status,
      startTime: millis(r.start_time),
      endTime: millis(r.end_time),
      lifecycleStage: r.lifecycle_stage === 'deleted' ? 'deleted' : 'active',
      artifactUri: text(r.artifact_uri) || null,
      params: this.tables.has('params')
        ? this.keyValues('SELECT key, value FROM params WHERE run_uuid = ?', [head.runId])
        : {},
      tags: this.tables.has('tags')
        ? this.keyValues('SELECT key, value FROM tags WHERE run_uuid = ?', [head.runId])
        : {},
    };
  }

  *metrics(run: SourceRun): Iterable<SourceMetricChunk> {
    if (!this.tables.has('metrics')) return;
    const cols = this.columns('metrics');
    // `step` and `is_nan` came with later migrations (451aebb31d03, 181f10493468).
    const step = cols.has('step') ? 'step' : '0';
    const isNan = cols.has('is_nan') ? 'is_nan' : '0';
    let key: string | undefined;
    let points: SourceMetricPoint[] = [];
    let missingTime = 0;
    const sql = `SELECT key, value, timestamp, ${step} AS step, ${isNan} AS is_nan
      FROM metrics WHERE run_uuid = ? ORDER BY key, timestamp, step`;
    for (const r of this.iterate(sql, [run.runId])) {
      const k = String(r.key);
      if (k !== key) {
        if (key !== undefined && points.length > 0) yield { key, points };
        key = k;
        points = [];
      }
      const timestamp = millis(r.timestamp);
      if (timestamp === null) {
        missingTime++;
        continue;
      }
      points.push({
        value: metricValue(r.value ?? null, r.is_nan ?? null),
        timestamp,
        step: millis(r.step) ?? 0,
      });
      if (points.length === METRIC_CHUNK) {
        yield { key: k, points };
        points = [];
      }
    }
    if (key !== undefined && points.length > 0) yield { key, points };
    if (missingTime > 0) {
      this.issues.skip(
        `${missingTime} metric point${missingTime === 1 ? '' : 's'} of run ${run.runId}`,
        `${this.label} has no timestamp for ${missingTime === 1 ? 'it' : 'them'}`,
      );
    }
  }

  artifacts(run: SourceRun): ArtifactSource {
    if (!run.artifactUri) return { kind: 'none' };
    // Relative locations and mlflow-artifacts:/ are taken from the database's folder,
    // where `mlflow server` / `mlflow ui` are usually started.
    return resolveArtifactUri(run.artifactUri, path.dirname(this.location), (p) => {
      try {
        return fs.statSync(p).isDirectory();
      } catch {
        return false;
      }
    });
  }

  models(): SourceModel[] {
    if (!this.tables.has('registered_models')) return [];
    const scope = (table: string): string => this.inDefaultWorkspace(table);
    const models: SourceModel[] = [];
    for (const m of this.all(
      `SELECT * FROM registered_models WHERE 1 = 1${scope('registered_models')} ORDER BY name`,
    )) {
      const name = String(m.name);
      const versions: SourceModelVersion[] = [];
      if (this.tables.has('model_versions')) {
        for (const v of this.all(
          `SELECT * FROM model_versions WHERE name = ?${scope('model_versions')} ORDER BY version`,
          [name],
        )) {
          const version = millis(v.version);
          if (version === null) continue;
          versions.push({
            version,
            source: text(v.source) ?? null,
            runId: text(v.run_id) || null,
            status: text(v.status) ?? 'READY',
            description: text(v.description) ?? null,
            deleted: v.current_stage === DELETED_STAGE,
            tags: this.tables.has('model_version_tags')
              ? this.keyValues(
                  `SELECT key, value FROM model_version_tags WHERE name = ? AND version = ?${scope('model_version_tags')}`,
                  [name, version],
                )
              : {},
          });
        }
      }
      const aliases: Record<string, number> = {};
      if (this.tables.has('registered_model_aliases')) {
        for (const a of this.iterate(
          `SELECT alias, version FROM registered_model_aliases WHERE name = ?${scope('registered_model_aliases')}`,
          [name],
        )) {
          const version = millis(a.version);
          if (version !== null) aliases[String(a.alias)] = version;
        }
      }
      models.push({
        name,
        description: text(m.description) ?? null,
        tags: this.tables.has('registered_model_tags')
          ? this.keyValues(
              `SELECT key, value FROM registered_model_tags WHERE name = ?${scope('registered_model_tags')}`,
              [name],
            )
          : {},
        versions,
        aliases,
      });
    }
    return models;
  }

  close(): void {
    this.db.close();
  }
}

function text(v: SqlValue | undefined): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  return String(v);
}

/** NaN is stored as 0 with is_nan set; +/-Inf as +/-max float (SqlAlchemyStore). */
function metricValue(value: SqlValue, isNan: SqlValue): number {
  if (isNan === 1 || isNan === '1' || value === null) return NaN;
  const n = Number(value);
  if (n >= FLOAT_MAX) return Infinity;
  if (n <= -FLOAT_MAX) return -Infinity;
  return n;
}
