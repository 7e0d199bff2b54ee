// Every read of the store's tables, as typed methods. Callers above the store never
// see SQL; the store keeps its statements prepared between calls.

import type { Database, SqlValue } from 'sql.js';
import type {
  Checkpoint,
  DatasetInput,
  Experiment,
  LifecycleStage,
  MetricPoint,
  MetricSummary,
  RunInfo,
  RunStatus,
  ViewType,
} from '../model/tracking.ts';
import { decodeMetrics } from './mutations.ts';
import { RegistryReader } from './registryStore.ts';
import { StatementCache } from './statements.ts';
import { TraceReader } from './traceStore.ts';

type Row = Record<string, SqlValue>;

function stageFilter(view: ViewType, column: string): string {
  if (view === 'ALL') return '1 = 1';
  return `${column} = '${view === 'DELETED_ONLY' ? 'deleted' : 'active'}'`;
}

export class StoreReader {
  private readonly statements: StatementCache;

  /** Reads of the model and prompt registries. */
  readonly registry: RegistryReader;
  /** Reads of traces and spans. */
  readonly traces: TraceReader;

  constructor(private readonly db: Database) {
    this.statements = new StatementCache(db);
    this.registry = new RegistryReader((sql, params) => this.all(sql, params));
    this.traces = new TraceReader((sql, params) => this.all(sql, params));
  }

  /** sql.js frees statements when the image is exported. */
  reset(): void {
    this.statements.reset();
  }

  all(sql: string, params: SqlValue[] = []): Row[] {
    const s = this.statements.get(sql);
    s.bind(params);
    const rows: Row[] = [];
    try {
      while (s.step()) rows.push(s.getAsObject());
    } finally {
      s.reset();
    }
    return rows;
  }

  private one(sql: string, params: SqlValue[] = []): Row | undefined {
    return this.all(sql, params)[0];
  }

  // ---- experiments

  maxExperimentId(): number {
    return Number(this.one('SELECT max(experiment_id) AS id FROM experiments')?.id ?? -1);
  }

  experimentById(id: number): Experiment | undefined {
    const row = this.one('SELECT * FROM experiments WHERE experiment_id = ?', [id]);
    return row && this.toExperiment(row);
  }

  experimentByName(name: string): Experiment | undefined {
    const row = this.one('SELECT * FROM experiments WHERE name = ?', [name]);
    return row && this.toExperiment(row);
  }

  experiments(view: ViewType): Experiment[] {
    return this.all(
      `SELECT * FROM experiments WHERE ${stageFilter(view, 'lifecycle_stage')} ORDER BY experiment_id`,
    ).map((r) => this.toExperiment(r));
  }

  private toExperiment(row: Row): Experiment {
    const tags: Record<string, string> = {};
    for (const t of this.all('SELECT key, value FROM experiment_tags WHERE experiment_id = ?', [
      row.experiment_id as number,
    ])) {
      tags[t.key as string] = t.value as string;
    }
    return {
      experimentId: String(row.experiment_id),
      name: row.name as string,
      artifactLocation: row.artifact_location as string,
      lifecycleStage: row.lifecycle_stage as LifecycleStage,
      creationTime: row.creation_time as number,
      lastUpdateTime: row.last_update_time as number,
      tags,
    };
  }

  runCounts(view: ViewType): Map<string, number> {
    const out = new Map<string, number>();
    for (const r of this.all(
      `SELECT experiment_id, count(*) AS n FROM runs WHERE ${stageFilter(view, 'lifecycle_stage')} GROUP BY experiment_id`,
    )) {
      out.set(String(r.experiment_id), r.n as number);
    }
    return out;
  }

  // ---- runs

  runInfo(runId: string): (RunInfo & { rid: number }) | undefined {
    const row = this.one('SELECT * FROM runs WHERE run_uuid = ?', [runId]);
    return row && toRunInfo(row);
  }

  runInfosByRid(rids: number[]): (RunInfo & { rid: number })[] {
    if (rids.length === 0) return [];
    const rows = this.db.exec(
      `SELECT * FROM runs WHERE rid IN (${rids.map(() => '?').join(',')})`,
      rids,
    )[0];
    if (!rows) return [];
    const byRid = new Map<number, RunInfo & { rid: number }>();
    for (const values of rows.values) {
      const row: Row = {};
      rows.columns.forEach((c, i) => (row[c] = values[i]!));
      const info = toRunInfo(row);
      byRid.set(info.rid, info);
    }
    return rids.map((rid) => byRid.get(rid)!).filter(Boolean);
  }

  /** Runs of the given search as ordered rids. `sql` comes from compileRunQuery. */
  runRids(sql: string, params: SqlValue[], limit: number, offset: number): number[] {
    return this.all(`${sql} LIMIT ? OFFSET ?`, [...params, limit, offset]).map(
      (r) => r.rid as number,
    );
  }

  countRids(sql: string, params: SqlValue[]): number {
    return Number(this.all(`SELECT count(*) AS n FROM (${sql})`, params)[0]?.n ?? 0);
  }

  runIdsWithPrefix(prefix: string, limit: number): string[] {
    return this.all('SELECT run_uuid FROM runs WHERE substr(run_uuid, 1, ?) = ? LIMIT ?', [
      prefix.length,
      prefix,
      limit,
    ]).map((r) => r.run_uuid as string);
  }

  childRunIds(parentRunId: string): string[] {
    return this.all('SELECT run_uuid FROM runs WHERE parent_run_uuid = ?', [parentRunId]).map(
      (r) => r.run_uuid as string,
    );
  }

  params(rid: number): Record<string, string> {
    const out: Record<string, string> = {};
    for (const r of this.all('SELECT key, value FROM params WHERE rid = ? ORDER BY key', [rid])) {
      out[r.key as string] = r.value as string;
    }
    return out;
  }

  param(rid: number, key: string): string | undefined {
    return this.one('SELECT value FROM params WHERE rid = ? AND key = ?', [rid, key])?.value as
      string | undefined;
  }

  tags(rid: number): Record<string, string> {
    const out: Record<string, string> = {};
    for (const r of this.all('SELECT key, value FROM tags WHERE rid = ? ORDER BY key', [rid])) {
      out[r.key as string] = r.value as string;
    }
    return out;
  }

  latestMetrics(rid: number): Record<string, MetricSummary> {
    const out: Record<string, MetricSummary> = {};
    for (const r of this.all('SELECT * FROM latest_metrics WHERE rid = ? ORDER BY key', [rid])) {
      out[r.key as string] = toMetricSummary(r);
    }
    return out;
  }

  /**
   * Params, tags, latest metrics and datasets of many runs in four queries (not
   * four per run): listing a page of 1000 runs stays well under 100 ms.
   */
  runDetails(rids: number[]): Map<number, RunDetails> {
    const out = new Map<number, RunDetails>();
    for (const rid of rids) out.set(rid, { params: {}, tags: {}, metrics: {}, datasets: [] });
    if (rids.length === 0) return out;
    const ids = [JSON.stringify(rids)];
    const inList = 'rid IN (SELECT value FROM json_each(?))';
    for (const r of this.all(
      `SELECT rid, key, value FROM params WHERE ${inList} ORDER BY rid, key`,
      ids,
    )) {
      out.get(r.rid as number)!.params[r.key as string] = r.value as string;
    }
    for (const r of this.all(
      `SELECT rid, key, value FROM tags WHERE ${inList} ORDER BY rid, key`,
      ids,
    )) {
      out.get(r.rid as number)!.tags[r.key as string] = r.value as string;
    }
    for (const r of this.all(
      `SELECT * FROM latest_metrics WHERE ${inList} ORDER BY rid, key`,
      ids,
    )) {
      out.get(r.rid as number)!.metrics[r.key as string] = toMetricSummary(r);
    }
    for (const r of this.all(`SELECT * FROM datasets WHERE ${inList} ORDER BY rid, id`, ids)) {
      out.get(r.rid as number)!.datasets.push(toDataset(r));
    }
    return out;
  }

  metricHistory(rid: number, key: string, limit: number, offset: number): MetricPoint[] {
    return this.all(
      'SELECT step, timestamp, value, is_nan FROM metrics WHERE rid = ? AND key = ? ORDER BY step, timestamp, seq LIMIT ? OFFSET ?',
      [rid, key, limit, offset],
    ).map((r) => ({
      key,
      value: r.is_nan ? NaN : (r.value as number),
      timestamp: r.timestamp as number,
      step: r.step as number,
    }));
  }

  /**
   * A metric's history as columns in (step, timestamp) order, optionally only the
   * points whose step or timestamp lies in [from, to], or whose step is after
   * `afterStep`. Rows are read as arrays into typed arrays: an object per point
   * would cost more than the read itself for the long histories charts ask for.
   */
  metricColumns(
    rid: number,
    key: string,
    range?: { column: 'step' | 'timestamp'; from: number; to: number },
    afterStep?: number,
  ): { step: Float64Array; time: Float64Array; value: Float64Array } {
    let where = 'rid = ? AND key = ?';
    const params: SqlValue[] = [rid, key];
    if (range) {
      where += ` AND ${range.column} >= ? AND ${range.column} <= ?`;
      params.push(range.from, range.to);
    }
    if (afterStep !== undefined) {
      where += ' AND step > ?';
      params.push(afterStep);
    }
    const countRow = this.one('SELECT count FROM latest_metrics WHERE rid = ? AND key = ?', [
      rid,
      key,
    ]);
    let capacity = Math.max(16, Number(countRow?.count ?? 16));
    let step: Float64Array = new Float64Array(capacity);
    let time: Float64Array = new Float64Array(capacity);
    let value: Float64Array = new Float64Array(capacity);
    let n = 0;
    const s = this.statements.get(
      // The table's own order: no sort. Points of one step stay in the order logged.
      // value is NULL only for NaN: reading is_nan too would cost a column per point.
      `SELECT step, timestamp, value FROM metrics WHERE ${where} ORDER BY step, seq`,
    );
    s.bind(params);
    try {
      while (s.step()) {
        if (n === capacity) {
          capacity *= 2;
          const grow = (a: Float64Array): Float64Array => {
            const b = new Float64Array(capacity);
            b.set(a);
            return b;
          };
          step = grow(step);
          time = grow(time);
          value = grow(value);
        }
        const r = s.get();
        step[n] = r[0] as number;
        time[n] = r[1] as number;
        value[n] = r[2] === null ? NaN : (r[2] as number);
        n++;
      }
    } finally {
      s.reset();
    }
    // Copies, not views: a view would carry its whole buffer to the webview.
    return { step: step.slice(0, n), time: time.slice(0, n), value: value.slice(0, n) };
  }

  datasets(rid: number): DatasetInput[] {
    return this.all('SELECT * FROM datasets WHERE rid = ? ORDER BY id', [rid]).map(toDataset);
  }

  checkpoints(rid: number): Checkpoint[] {
    return this.all('SELECT * FROM checkpoints WHERE rid = ? ORDER BY step, id', [rid]).map(
      (r) => ({
        step: r.step as number,
        artifactPath: r.artifact_path as string,
        timestamp: r.timestamp as number,
        metrics: decodeMetrics(r.metrics_json as string),
      }),
    );
  }

  /** No runs and at most the Default experiment: what the welcome view is for. */
  isEmpty(): boolean {
    const r = this.one(
      'SELECT (SELECT count(*) FROM experiments) AS e, EXISTS (SELECT 1 FROM runs) AS r',
    )!;
    return !r.r && (r.e as number) <= 1;
  }

  /** Totals for `mlops store info`, the store summary and the benchmarks. */
  counts(): { experiments: number; runs: number; metricPoints: number } {
    const r = this.one(
      'SELECT (SELECT count(*) FROM experiments) AS e, (SELECT count(*) FROM runs) AS r, (SELECT count(*) FROM metrics) AS m',
    )!;
    return { experiments: r.e as number, runs: r.r as number, metricPoints: r.m as number };
  }

  integrityCheck(): string[] {
    return this.all('PRAGMA quick_check').map((r) => String(Object.values(r)[0]));
  }
}

export interface RunDetails {
  params: Record<string, string>;
  tags: Record<string, string>;
  metrics: Record<string, MetricSummary>;
  datasets: DatasetInput[];
}

function toMetricSummary(r: Row): MetricSummary {
  return {
    key: r.key as string,
    value: r.is_nan ? NaN : (r.value as number),
    timestamp: r.timestamp as number,
    step: r.step as number,
    min: (r.min_value as number | null) ?? null,
    max: (r.max_value as number | null) ?? null,
    count: r.count as number,
  };
}

function toDataset(r: Row): DatasetInput {
  return {
    name: r.name as string,
    digest: r.digest as string,
    source: r.source as string,
    sourceType: r.source_type as string,
    sizeBytes: (r.size_bytes as number | null) ?? null,
    rowCount: (r.row_count as number | null) ?? null,
    context: (r.context as string | null) ?? null,
    loggedAt: r.logged_at as number,
  };
}

function toRunInfo(row: Row): RunInfo & { rid: number } {
  return {
    rid: row.rid as number,
    runId: row.run_uuid as string,
    runName: row.name as string,
    experimentId: String(row.experiment_id),
    userId: row.user_id as string,
    status: row.status as RunStatus,
    startTime: row.start_time as number,
    endTime: (row.end_time as number | null) ?? null,
    lifecycleStage: row.lifecycle_stage as LifecycleStage,
    artifactUri: row.artifact_uri as string,
    parentRunId: (row.parent_run_uuid as string | null) ?? null,
  };
}
