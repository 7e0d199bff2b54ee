// Every change to the store is one of these mutations. They are applied to the
// in-memory database and appended to the journal; replaying the journal applies the
// same mutations in the same order, so every process ends with the same state.
// Mutations carry every id and timestamp they need: applying one is deterministic.

import type { Database, Statement } from 'sql.js';
import type { DatasetInput, TagValue } from '../model/tracking.ts';
import { applyRegistryMutation } from './registryStore.ts';
import type { RegistryMutation } from './registryStore.ts';
import { applyTraceMutation, tracesTouched } from './traceStore.ts';
import type { TraceMutation } from './traceStore.ts';
import { StatementCache } from './statements.ts';

/** [key, value, timestamp ms, step]. */
export type MetricPointTuple = [string, number, number, number];

export type DatasetRecord = Omit<DatasetInput, 'loggedAt'>;

export type Mutation =
  | RegistryMutation
  | TraceMutation
  | {
      t: 'experiment.create';
      id: number;
      name: string;
      artifactLocation: string;
      at: number;
      tags: TagValue[];
    }
  | { t: 'experiment.rename'; id: number; name: string; at: number }
  | { t: 'experiment.lifecycle'; id: number; stage: 'active' | 'deleted'; at: number }
  | { t: 'experiment.setTag'; id: number; key: string; value: string }
  | { t: 'experiment.deleteTag'; id: number; key: string }
  | {
      t: 'run.create';
      run: string;
      experimentId: number;
      name: string;
      user: string;
      startTime: number;
      parent: string | null;
      artifactUri: string;
      tags: TagValue[];
    }
  | {
      t: 'run.update';
      run: string;
      status?: string;
      endTime?: number | null;
      name?: string;
    }
  | { t: 'run.lifecycle'; run: string; stage: 'active' | 'deleted'; at: number }
  | { t: 'run.setTags'; run: string; tags: TagValue[] }
  | { t: 'run.deleteTag'; run: string; key: string }
  | { t: 'run.logParams'; run: string; params: TagValue[] }
  | { t: 'run.logMetrics'; run: string; points: MetricPointTuple[] }
  | { t: 'run.logDataset'; run: string; dataset: DatasetRecord; at: number }
  | {
      t: 'run.logCheckpoint';
      run: string;
      step: number;
      artifactPath: string;
      at: number;
      metrics: Record<string, number>;
    };

/** What a batch of mutations touched, for change events. */
export interface StoreChange {
  experiments: boolean;
  /** A registered model or prompt (or an alias) changed. */
  registry: boolean;
  runs: Set<string>;
  metrics: Set<string>;
  /** Trace ids whose spans, rollups, tags or assessments changed (or that were deleted). */
  traces: Set<string>;
  /** True when another process wrote it. */
  external: boolean;
}

export function emptyChange(external: boolean): StoreChange {
  return {
    experiments: false,
    registry: false,
    runs: new Set(),
    metrics: new Set(),
    traces: new Set(),
    external,
  };
}

export function noteChange(change: StoreChange, m: Mutation): void {
  if (m.t.startsWith('experiment.')) {
    change.experiments = true;
    return;
  }
  if (m.t.startsWith('registry.')) {
    change.registry = true;
    return;
  }
  if (isTraceMutation(m)) {
    for (const id of tracesTouched(m)) change.traces.add(id);
    return;
  }
  const run = (m as { run: string }).run;
  change.runs.add(run);
  if (m.t === 'run.logMetrics') change.metrics.add(run);
  if (m.t === 'run.create' || m.t === 'run.lifecycle' || m.t === 'run.update') {
    change.experiments = true;
  }
}

// Non-finite numbers have no JSON form; the journal writes them as strings.
function encodeNumber(v: number): number | string {
  return Number.isFinite(v) ? v : String(v);
}
function decodeNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  if (v === null) return NaN;
  throw new Error(`bad number in journal: ${JSON.stringify(v)}`);
}

/** Turns a mutation into a JSON-safe value (NaN and infinities become strings). */
export function encodeMutation(m: Mutation): unknown {
  if (m.t === 'run.logMetrics') {
    let finite = true;
    for (const p of m.points) {
      if (!Number.isFinite(p[1])) {
        finite = false;
        break;
      }
    }
    if (finite) return m;
    return { ...m, points: m.points.map((p) => [p[0], encodeNumber(p[1]), p[2], p[3]]) };
  }
  if (m.t === 'run.logCheckpoint') return { ...m, metrics: encodeMetrics(m.metrics) };
  return m;
}

export function decodeMutation(raw: unknown): Mutation {
  const m = raw as Mutation;
  if (typeof m !== 'object' || m === null || typeof m.t !== 'string') {
    throw new Error('journal record holds something that is not a mutation');
  }
  if (m.t === 'run.logMetrics') {
    for (const p of m.points) p[1] = decodeNumber(p[1]);
  } else if (m.t === 'run.logCheckpoint') {
    for (const k of Object.keys(m.metrics)) m.metrics[k] = decodeNumber(m.metrics[k]);
  }
  return m;
}

/** Applies mutations to the database, with its statements prepared once. */
function isRegistryMutation(m: Mutation): m is RegistryMutation {
  return m.t.startsWith('registry.');
}

function isTraceMutation(m: Mutation): m is TraceMutation {
  return m.t.startsWith('trace.');
}

export class MutationApplier {
  private readonly statements: StatementCache;

  constructor(db: Database) {
    this.statements = new StatementCache(db);
  }

  reset(): void {
    this.statements.reset();
  }

  private stmt(sql: string): Statement {
    return this.statements.get(sql);
  }

  private run(sql: string, params: (string | number | null)[]): void {
    const s = this.stmt(sql);
    s.run(params);
  }

  private rid(run: string): number {
    const s = this.stmt('SELECT rid FROM runs WHERE run_uuid = ?');
    s.bind([run]);
    const found = s.step();
    const rid = found ? (s.get()[0] as number) : undefined;
    s.reset();
    if (rid === undefined) throw new Error(`journal names an unknown run ${run}`);
    return rid;
  }

  apply(m: Mutation): void {
    if (isRegistryMutation(m)) {
      applyRegistryMutation(m, (sql, params) =>
        this.run(sql, params as (string | number | null)[]),
      );
      return;
    }
    if (isTraceMutation(m)) {
      applyTraceMutation(m, {
        run: (sql, params) => this.run(sql, params as (string | number | null)[]),
        one: (sql, params) => {
          const s = this.stmt(sql);
          s.bind(params);
          try {
            return s.step() ? s.getAsObject() : undefined;
          } finally {
            s.reset();
          }
        },
      });
      return;
    }
    switch (m.t) {
      case 'experiment.create':
        this.run(
          'INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time) VALUES (?, ?, ?, ?, ?, ?)',
          [m.id, m.name, m.artifactLocation, 'active', m.at, m.at],
        );
        for (const tag of m.tags) this.setExperimentTag(m.id, tag.key, tag.value);
        return;
      case 'experiment.rename':
        this.run('UPDATE experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?', [
          m.name,
          m.at,
          m.id,
        ]);
        return;
      case 'experiment.lifecycle':
        this.run(
          'UPDATE experiments SET lifecycle_stage = ?, last_update_time = ? WHERE experiment_id = ?',
          [m.stage, m.at, m.id],
        );
        return;
      case 'experiment.setTag':
        this.setExperimentTag(m.id, m.key, m.value);
        return;
      case 'experiment.deleteTag':
        this.run('DELETE FROM experiment_tags WHERE experiment_id = ? AND key = ?', [m.id, m.key]);
        return;
      case 'run.create': {
        this.run(
          'INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, end_time, lifecycle_stage, parent_run_uuid, artifact_uri) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)',
          [
            m.run,
            m.experimentId,
            m.name,
            m.user,
            'RUNNING',
            m.startTime,
            'active',
            m.parent,
            m.artifactUri,
          ],
        );
        const rid = this.rid(m.run);
        for (const tag of m.tags) this.setRunTag(rid, tag.key, tag.value);
        return;
      }
      case 'run.update': {
        const rid = this.rid(m.run);
        if (m.status !== undefined)
          this.run('UPDATE runs SET status = ? WHERE rid = ?', [m.status, rid]);
        if (m.endTime !== undefined)
          this.run('UPDATE runs SET end_time = ? WHERE rid = ?', [m.endTime, rid]);
        if (m.name !== undefined) {
          this.run('UPDATE runs SET name = ? WHERE rid = ?', [m.name, rid]);
          this.setRunTag(rid, 'mlflow.runName', m.name);
        }
        return;
      }
      case 'run.lifecycle':
        this.run('UPDATE runs SET lifecycle_stage = ?, deleted_time = ? WHERE run_uuid = ?', [
          m.stage,
          m.stage === 'deleted' ? m.at : null,
          m.run,
        ]);
        return;
      case 'run.setTags': {
        const rid = this.rid(m.run);
        for (const tag of m.tags) this.setRunTag(rid, tag.key, tag.value);
        return;
      }
      case 'run.deleteTag':
        this.run('DELETE FROM tags WHERE rid = ? AND key = ?', [this.rid(m.run), m.key]);
        return;
      case 'run.logParams': {
        const rid = this.rid(m.run);
        // Rules are checked before the mutation is made; replay keeps the first value.
        for (const p of m.params) {
          this.run('INSERT OR IGNORE INTO params (rid, key, value) VALUES (?, ?, ?)', [
            rid,
            p.key,
            p.value,
          ]);
        }
        return;
      }
      case 'run.logMetrics':
        this.logMetrics(this.rid(m.run), m.points);
        return;
      case 'run.logDataset':
        this.run(
          'INSERT INTO datasets (rid, name, digest, source, source_type, size_bytes, row_count, context, logged_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
          [
            this.rid(m.run),
            m.dataset.name,
            m.dataset.digest,
            m.dataset.source,
            m.dataset.sourceType,
            m.dataset.sizeBytes,
            m.dataset.rowCount,
            m.dataset.context,
            m.at,
          ],
        );
        return;
      case 'run.logCheckpoint':
        this.run(
          'INSERT INTO checkpoints (rid, step, artifact_path, timestamp, metrics_json) VALUES (?, ?, ?, ?, ?)',
          [this.rid(m.run), m.step, m.artifactPath, m.at, JSON.stringify(encodeMetrics(m.metrics))],
        );
        return;
      default: {
        const never: never = m;
        throw new Error(`unknown mutation ${(never as { t: string }).t}`);
      }
    }
  }

  private setExperimentTag(id: number, key: string, value: string): void {
    this.run(
      'INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?) ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value',
      [id, key, value],
    );
  }

  private setRunTag(rid: number, key: string, value: string): void {
    this.run(
      'INSERT INTO tags (rid, key, value) VALUES (?, ?, ?) ON CONFLICT (rid, key) DO UPDATE SET value = excluded.value',
      [rid, key, value],
    );
  }

  /**
   * The last `seq` given to a metric point: kept in meta so that every process that
   * applies the same journal numbers points in the same (logged) order.
   */
  private metricSeq(): number {
    const s = this.stmt("SELECT value FROM meta WHERE key = 'metric_seq'");
    const found = s.step();
    const v = found ? Number(s.get()[0]) : 0;
    s.reset();
    return v;
  }

  private logMetrics(rid: number, points: MetricPointTuple[]): void {
    const insert = this.stmt(
      'INSERT INTO metrics (rid, key, step, seq, timestamp, value, is_nan) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    let seq = this.metricSeq();
    // Fold the batch per key first so latest_metrics is touched once per key.
    const summary = new Map<
      string,
      { last: MetricPointTuple; min: number | null; max: number | null; count: number }
    >();
    for (const p of points) {
      const [key, value, timestamp, step] = p;
      const nan = Number.isNaN(value);
      insert.run([rid, key, step, ++seq, timestamp, nan ? null : value, nan ? 1 : 0]);
      let s = summary.get(key);
      if (!s) {
        s = { last: p, min: null, max: null, count: 0 };
        summary.set(key, s);
      } else if (isLater(p, s.last)) {
        s.last = p;
      }
      s.count++;
      if (!nan) {
        if (s.min === null || value < s.min) s.min = value;
        if (s.max === null || value > s.max) s.max = value;
      }
    }
    this.run(
      "INSERT INTO meta (key, value) VALUES ('metric_seq', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      [String(seq)],
    );
    for (const [key, s] of summary) {
      const [, value, timestamp, step] = s.last;
      const nan = Number.isNaN(value);
      this.run(
        `INSERT INTO latest_metrics (rid, key, value, is_nan, timestamp, step, min_value, max_value, count)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (rid, key) DO UPDATE SET
           value = CASE WHEN ${LATER} THEN excluded.value ELSE value END,
           is_nan = CASE WHEN ${LATER} THEN excluded.is_nan ELSE is_nan END,
           timestamp = CASE WHEN ${LATER} THEN excluded.timestamp ELSE timestamp END,
           step = CASE WHEN ${LATER} THEN excluded.step ELSE step END,
           min_value = CASE WHEN min_value IS NULL OR excluded.min_value < min_value THEN coalesce(excluded.min_value, min_value) ELSE min_value END,
           max_value = CASE WHEN max_value IS NULL OR excluded.max_value > max_value THEN coalesce(excluded.max_value, max_value) ELSE max_value END,
           count = count + excluded.count`,
        [rid, key, nan ? null : value, nan ? 1 : 0, timestamp, step, s.min, s.max, s.count],
      );
    }
  }
}

// The upsert's test for "the incoming point is later", in MLflow's order; NaN sorts lowest.
const LATER =
  '(excluded.step, excluded.timestamp, coalesce(excluded.value, -1e308)) >= (step, timestamp, coalesce(value, -1e308))';

function encodeMetrics(metrics: Record<string, number>): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const [k, v] of Object.entries(metrics)) out[k] = encodeNumber(v);
  return out;
}

export function decodeMetrics(json: string): Record<string, number> {
  const raw = JSON.parse(json) as Record<string, unknown>;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(raw)) out[k] = decodeNumber(v);
  return out;
}

/** MLflow's order for "latest": larger step, then later timestamp, then larger value. */
function isLater(a: MetricPointTuple, b: MetricPointTuple): boolean {
  if (a[3] !== b[3]) return a[3] > b[3];
  if (a[2] !== b[2]) return a[2] > b[2];
  const av = Number.isNaN(a[1]) ? -Infinity : a[1];
  const bv = Number.isNaN(b[1]) ? -Infinity : b[1];
  return av >= bv;
}
