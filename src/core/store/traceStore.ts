// The traces' part of the store: their journal mutations, how each is applied, and every
// read of their tables. Spans arrive in any order and any number of times (idempotent by
// trace and span id); after every write the trace's rollups are recomputed from its spans,
// so that lists and searches read one row per trace.

import type { SqlValue } from 'sql.js';
import type {
  FilterExpr,
  OrderByClause,
  TraceFilterField,
  TraceOrderByField,
} from '../model/filter.ts';
import type {
  Assessment,
  AttributeValue,
  Attributes,
  InstrumentationScope,
  SpanEvent,
  SpanLink,
  SpanType,
  StatusCode,
  TraceState,
  TraceSummary,
} from '../model/tracing.ts';
import type { TagValue } from '../model/tracking.ts';
import { compileTraceQuery } from './traceSearchSql.ts';

/** One span as the journal carries it: the record, with what it means already worked out. */
export interface SpanWrite {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: number;
  startNs: string;
  endNs: string;
  statusCode: StatusCode;
  statusMessage: string;
  traceState: string;
  attributes: Attributes;
  events: SpanEvent[];
  links: SpanLink[];
  /** Index into the mutation's `resources`, or -1. */
  resource: number;
  scope: InstrumentationScope | null;
  dropped: { attributes: number; events: number; links: number } | null;
  type: SpanType;
  model: string | null;
  tokensIn: number | null;
  tokensOut: number | null;
  cost: number | null;
  ttftMs: number | null;
  sessionId: string | null;
  userId: string | null;
  /** Root spans only: one-line renderings of the inputs and outputs. */
  previewIn: string | null;
  previewOut: string | null;
}

/** A guardrail's verdict on a span. */
export interface SpanFlag {
  check: string;
  action: 'flag' | 'redact' | 'block';
  reason: string;
  at: number;
}

export type TraceMutation =
  | {
      t: 'trace.spans';
      /** Where new traces go; a trace keeps the experiment it was first given. */
      experimentId: number | null;
      resources: Attributes[];
      spans: SpanWrite[];
      at: number;
    }
  | {
      /** What a client says of a whole trace (MLflow's StartTraceV3, EndTrace, a link). */
      t: 'trace.info';
      traceId: string;
      experimentId: number | null;
      state: TraceState | null;
      startMs: number | null;
      durationMs: number | null;
      requestPreview: string | null;
      responsePreview: string | null;
      tags: TagValue[];
      metadata: TagValue[];
      at: number;
    }
  | { t: 'trace.setTag'; traceId: string; key: string; value: string }
  | { t: 'trace.deleteTag'; traceId: string; key: string }
  | { t: 'trace.delete'; traceIds: string[] }
  | { t: 'trace.assess'; assessment: Assessment }
  | { t: 'trace.deleteAssessment'; traceId: string; assessmentId: string }
  | { t: 'trace.flag'; traceId: string; spanId: string; flags: SpanFlag[] };

type Row = Record<string, SqlValue>;

export interface TraceSql {
  run(sql: string, params: SqlValue[]): void;
  one(sql: string, params: SqlValue[]): Row | undefined;
}

/** Trace ids whose rows a mutation touches, for change events. */
export function tracesTouched(m: TraceMutation): string[] {
  switch (m.t) {
    case 'trace.spans':
      return [...new Set(m.spans.map((s) => s.traceId))];
    case 'trace.delete':
      return m.traceIds;
    case 'trace.assess':
      return [m.assessment.traceId];
    default:
      return [m.traceId];
  }
}

const nsToUs = (ns: string): number => Number(BigInt(ns) / 1000n);

function tidOf(sql: TraceSql, traceId: string): number | undefined {
  return sql.one('SELECT tid FROM traces WHERE trace_id = ?', [traceId])?.tid as number | undefined;
}

function ensureTrace(
  sql: TraceSql,
  traceId: string,
  experimentId: number | null,
  at: number,
): number {
  sql.run(
    `INSERT INTO traces (trace_id, experiment_id, created_ms) VALUES (?, ?, ?)
     ON CONFLICT (trace_id) DO UPDATE SET experiment_id = coalesce(traces.experiment_id, excluded.experiment_id)`,
    [traceId, experimentId, at],
  );
  return tidOf(sql, traceId)!;
}

export function applyTraceMutation(m: TraceMutation, sql: TraceSql): void {
  switch (m.t) {
    case 'trace.spans': {
      const resourceIds = m.resources.map((r) => {
        const json = JSON.stringify(r);
        sql.run('INSERT OR IGNORE INTO span_resources (json) VALUES (?)', [json]);
        return sql.one('SELECT id FROM span_resources WHERE json = ?', [json])!.id as number;
      });
      const tids = new Map<string, number>();
      for (const s of m.spans) {
        let tid = tids.get(s.traceId);
        if (tid === undefined) {
          tid = ensureTrace(sql, s.traceId, m.experimentId, m.at);
          tids.set(s.traceId, tid);
        }
        sql.run(
          `INSERT INTO spans (tid, span_id, parent_span_id, name, kind, start_ns, end_ns, start_us, end_us,
             status_code, status_message, trace_state, attributes, events, links, resource_id, scope, dropped,
             span_type, model, tokens_in, tokens_out, cost, ttft_ms, session_id, user_id, preview_in, preview_out)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (tid, span_id) DO UPDATE SET
             parent_span_id = excluded.parent_span_id, name = excluded.name, kind = excluded.kind,
             start_ns = excluded.start_ns, end_ns = excluded.end_ns, start_us = excluded.start_us,
             end_us = excluded.end_us, status_code = excluded.status_code,
             status_message = excluded.status_message, trace_state = excluded.trace_state,
             attributes = excluded.attributes, events = excluded.events, links = excluded.links,
             resource_id = excluded.resource_id, scope = excluded.scope, dropped = excluded.dropped,
             span_type = excluded.span_type, model = excluded.model, tokens_in = excluded.tokens_in,
             tokens_out = excluded.tokens_out, cost = excluded.cost, ttft_ms = excluded.ttft_ms,
             session_id = excluded.session_id, user_id = excluded.user_id,
             preview_in = excluded.preview_in, preview_out = excluded.preview_out`,
          [
            tid,
            s.spanId,
            s.parentSpanId,
            s.name,
            s.kind,
            s.startNs,
            s.endNs,
            nsToUs(s.startNs),
            nsToUs(s.endNs),
            s.statusCode,
            s.statusMessage,
            s.traceState,
            JSON.stringify(s.attributes),
            JSON.stringify(s.events),
            JSON.stringify(s.links),
            s.resource >= 0 ? (resourceIds[s.resource] ?? null) : null,
            s.scope ? JSON.stringify(s.scope) : null,
            s.dropped ? JSON.stringify(s.dropped) : null,
            s.type,
            s.model,
            s.tokensIn,
            s.tokensOut,
            s.cost,
            s.ttftMs,
            s.sessionId,
            s.userId,
            s.previewIn,
            s.previewOut,
          ],
        );
      }
      for (const tid of tids.values()) rollup(sql, tid);
      return;
    }
    case 'trace.info': {
      const tid = ensureTrace(sql, m.traceId, m.experimentId, m.at);
      sql.run(
        `UPDATE traces SET
           info_state = coalesce(?, info_state), info_start_ms = coalesce(?, info_start_ms),
           info_duration_ms = coalesce(?, info_duration_ms),
           info_request_preview = coalesce(?, info_request_preview),
           info_response_preview = coalesce(?, info_response_preview)
         WHERE tid = ?`,
        [m.state, m.startMs, m.durationMs, m.requestPreview, m.responsePreview, tid],
      );
      for (const tag of m.tags) setKeyed(sql, 'trace_tags', tid, tag);
      for (const entry of m.metadata) setKeyed(sql, 'trace_metadata', tid, entry);
      rollup(sql, tid);
      return;
    }
    case 'trace.setTag': {
      const tid = tidOf(sql, m.traceId);
      if (tid === undefined) return;
      setKeyed(sql, 'trace_tags', tid, m);
      rollup(sql, tid);
      return;
    }
    case 'trace.deleteTag': {
      const tid = tidOf(sql, m.traceId);
      if (tid === undefined) return;
      sql.run('DELETE FROM trace_tags WHERE tid = ? AND key = ?', [tid, m.key]);
      rollup(sql, tid);
      return;
    }
    case 'trace.delete':
      for (let i = 0; i < m.traceIds.length; i += 500) {
        const chunk = m.traceIds.slice(i, i + 500);
        const marks = chunk.map(() => '?').join(',');
        const sub = `(SELECT tid FROM traces WHERE trace_id IN (${marks}))`;
        for (const table of ['spans', 'trace_tags', 'trace_metadata', 'assessments']) {
          sql.run(`DELETE FROM ${table} WHERE tid IN ${sub}`, chunk);
        }
        sql.run(`DELETE FROM traces WHERE trace_id IN (${marks})`, chunk);
      }
      return;
    case 'trace.assess': {
      const a = m.assessment;
      const tid = tidOf(sql, a.traceId);
      if (tid === undefined) return;
      sql.run(
        `INSERT INTO assessments (assessment_id, tid, span_id, name, value_json, rationale, source_type, source_id, created_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (assessment_id) DO UPDATE SET value_json = excluded.value_json,
           rationale = excluded.rationale, name = excluded.name`,
        [
          a.assessmentId,
          tid,
          a.spanId,
          a.name,
          JSON.stringify(a.value),
          a.rationale,
          a.source.type,
          a.source.id,
          a.createdMs,
        ],
      );
      return;
    }
    case 'trace.deleteAssessment':
      sql.run('DELETE FROM assessments WHERE assessment_id = ?', [m.assessmentId]);
      return;
    case 'trace.flag': {
      const tid = tidOf(sql, m.traceId);
      if (tid === undefined) return;
      sql.run('UPDATE spans SET flags = ? WHERE tid = ? AND span_id = ?', [
        m.flags.length ? JSON.stringify(m.flags) : null,
        tid,
        m.spanId,
      ]);
      rollup(sql, tid);
      return;
    }
  }
}

function setKeyed(
  sql: TraceSql,
  table: 'trace_tags' | 'trace_metadata',
  tid: number,
  kv: TagValue,
) {
  sql.run(
    `INSERT INTO ${table} (tid, key, value) VALUES (?, ?, ?) ON CONFLICT (tid, key) DO UPDATE SET value = excluded.value`,
    [tid, kv.key, kv.value],
  );
}

/** `min(printf('%020d|', start_us) || x)`: the x of the earliest span, in one aggregate. */
const earliest = (expr: string, when = '1') =>
  `min(CASE WHEN ${when} THEN printf('%020d|', start_us) || ${expr} END)`;
const afterBar = (v: unknown): string | null =>
  typeof v === 'string' ? v.slice(v.indexOf('|') + 1) : null;

/**
 * Recomputes a trace's rollups from its spans, its metadata and what its client said: one
 * aggregate over the spans (the root and the first session and user picked by the earliest
 * start, without sorting), the root's row, the metadata, one update.
 */
function rollup(sql: TraceSql, tid: number): void {
  const agg = sql.one(
    `SELECT count(*) AS n, coalesce(sum(status_code = 2), 0) AS errors, min(start_us) AS s,
       max(end_us) AS e, sum(tokens_in) AS ti, sum(tokens_out) AS tout, sum(cost) AS cost,
       min(start_us / 1000.0 + ttft_ms) AS first_token, count(flags) AS flagged,
       ${earliest('span_id', 'parent_span_id IS NULL')} AS root,
       ${earliest('name')} AS name,
       ${earliest('session_id', 'session_id IS NOT NULL')} AS session,
       ${earliest('user_id', 'user_id IS NOT NULL')} AS user
     FROM spans WHERE tid = ?`,
    [tid],
  )!;
  const info = sql.one(
    `SELECT info_state, info_start_ms, info_duration_ms, info_request_preview,
       info_response_preview, created_ms FROM traces WHERE tid = ?`,
    [tid],
  )!;
  const rootId = afterBar(agg.root);
  const root =
    rootId === null
      ? undefined
      : sql.one(
          'SELECT name, status_code, preview_in, preview_out FROM spans WHERE tid = ? AND span_id = ?',
          [tid, rootId],
        );
  const meta = new Map<string, string>();
  for (const k of ['trace_metadata', 'trace_tags'] as const) {
    // Tags only for the name; metadata wins for everything else (it is read second below).
    const r = sql.one(`SELECT json_group_object(key, value) AS kv FROM ${k} WHERE tid = ?`, [tid]);
    const kv = JSON.parse((r?.kv as string | undefined) ?? '{}') as Record<string, string>;
    for (const [key, value] of Object.entries(kv))
      meta.set(`${k === 'trace_tags' ? 'tag:' : ''}${key}`, value);
  }
  const m = (key: string) => meta.get(key) ?? null;
  const n = agg.n as number;
  const startUs = agg.s as number | null;
  const endUs = agg.e as number | null;
  const startMs =
    startUs !== null
      ? Math.floor(startUs / 1000)
      : ((info.info_start_ms as number | null) ?? (info.created_ms as number));
  const durationMs =
    startUs !== null && endUs !== null
      ? (endUs - startUs) / 1000
      : ((info.info_duration_ms as number | null) ?? 0);
  const state =
    (info.info_state as string | null) ??
    (root ? (root.status_code === 2 ? 'ERROR' : 'OK') : 'IN_PROGRESS');
  const promptVersion = m('mlops.prompt.version');
  // The root's name; before the root arrived, the client's name for the trace, else the first span's.
  const name = root
    ? (root.name as string)
    : (m('tag:mlflow.traceName') ?? afterBar(agg.name) ?? '');
  sql.run(
    `UPDATE traces SET name = ?, start_ms = ?, duration_ms = ?, state = ?, span_count = ?, error_count = ?,
       input_preview = ?, output_preview = ?, tokens_in = ?, tokens_out = ?, cost = ?, ttft_ms = ?,
       session_id = ?, user_id = ?, run_uuid = ?, prompt_name = ?, prompt_version = ?,
       eval_run_uuid = ?, eval_case = ?, flagged = ?
     WHERE tid = ?`,
    [
      name,
      startMs,
      durationMs,
      state,
      n,
      agg.errors as number,
      (info.info_request_preview as string | null) ??
        (root?.preview_in as string | null | undefined) ??
        m('mlflow.traceInputs') ??
        '',
      (info.info_response_preview as string | null) ??
        (root?.preview_out as string | null | undefined) ??
        m('mlflow.traceOutputs') ??
        '',
      agg.ti as number | null,
      agg.tout as number | null,
      agg.cost as number | null,
      agg.first_token !== null && startUs !== null
        ? (agg.first_token as number) - startUs / 1000
        : null,
      m('mlflow.trace.session') ?? afterBar(agg.session),
      m('mlflow.trace.user') ?? afterBar(agg.user),
      m('mlflow.sourceRun') ?? m('mlops.run_id'),
      m('mlops.prompt.name'),
      promptVersion !== null && /^\d+$/.test(promptVersion) ? Number(promptVersion) : null,
      m('mlops.eval.run'),
      m('mlops.eval.case'),
      agg.flagged as number,
      tid,
    ],
  );
}

// ------------------------------------------------------------------ reads

/** A stored span as read back: the record's fields and the columns derived on write. */
export interface SpanRow {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: number;
  startNs: string;
  endNs: string;
  startUs: number;
  endUs: number;
  statusCode: StatusCode;
  statusMessage: string;
  traceState: string;
  attributes: Attributes;
  events: SpanEvent[];
  links: SpanLink[];
  resource: Attributes;
  scope: InstrumentationScope | null;
  dropped: { attributes: number; events: number; links: number };
  type: SpanType;
  model: string | null;
  tokensIn: number | null;
  tokensOut: number | null;
  cost: number | null;
  ttftMs: number | null;
  flags: SpanFlag[];
}

/**
 * What the inspector's tree and waterfall need of a span: the columns derived on write, so
 * reading a 10,000-span trace's outline parses no attributes.
 */
export type SpanOutline = Pick<
  SpanRow,
  | 'spanId'
  | 'parentSpanId'
  | 'name'
  | 'startUs'
  | 'endUs'
  | 'statusCode'
  | 'type'
  | 'model'
  | 'tokensIn'
  | 'tokensOut'
  | 'flags'
>;

export interface TraceQuery {
  filter?: FilterExpr<TraceFilterField>;
  orderBy?: readonly OrderByClause<TraceOrderByField>[];
  /** None: every experiment (and traces without one). */
  experimentIds?: readonly number[];
  /** Only the traces of this session (null: those without one). */
  sessionId?: string | null;
  limit: number;
  offset?: number;
}

type All = (sql: string, params?: SqlValue[]) => Row[];

export class TraceReader {
  private readonly resources = new Map<number, Attributes>();

  constructor(private readonly all: All) {}

  /** sql.js statements are freed on export; the resource cache stays valid. */
  count(): number {
    return this.all('SELECT count(*) AS n FROM traces')[0]!.n as number;
  }

  /** Spans stored, over every trace. */
  spanCount(): number {
    return this.all('SELECT count(*) AS n FROM spans')[0]!.n as number;
  }

  /** One page of traces and whether more follow. */
  search(q: TraceQuery): { traces: TraceSummary[]; more: boolean } {
    const { sql, params } = compileTraceQuery({
      filter: q.filter,
      orderBy: q.orderBy ?? [],
      experimentIds: q.experimentIds ?? [],
      sessionId: q.sessionId,
    });
    const rows = this.all(`${sql} LIMIT ? OFFSET ?`, [...params, q.limit + 1, q.offset ?? 0]);
    const more = rows.length > q.limit;
    return { traces: this.summaries(rows.slice(0, q.limit)), more };
  }

  /** How many traces match, for "n of m" labels. */
  countMatching(q: Omit<TraceQuery, 'limit' | 'offset'>): number {
    const { sql, params } = compileTraceQuery({
      filter: q.filter,
      orderBy: [],
      experimentIds: q.experimentIds ?? [],
    });
    return this.all(`SELECT count(*) AS n FROM (${sql})`, params)[0]!.n as number;
  }

  get(traceId: string): TraceSummary | undefined {
    const rows = this.all('SELECT * FROM traces WHERE trace_id = ?', [traceId]);
    return this.summaries(rows)[0];
  }

  getMany(traceIds: readonly string[]): TraceSummary[] {
    if (traceIds.length === 0) return [];
    const rows = this.all(
      `SELECT * FROM traces WHERE trace_id IN (${traceIds.map(() => '?').join(',')})`,
      [...traceIds],
    );
    const byId = new Map(this.summaries(rows).map((t) => [t.traceId, t]));
    return traceIds.map((id) => byId.get(id)).filter((t): t is TraceSummary => t !== undefined);
  }

  spans(traceId: string): SpanRow[] {
    return this.fullSpans('', [traceId]);
  }

  /** Every span's outline, in start order. */
  outline(traceId: string): SpanOutline[] {
    return this.all(
      `SELECT s.span_id, s.parent_span_id, s.name, s.start_us, s.end_us, s.status_code,
              s.span_type, s.model, s.tokens_in, s.tokens_out, s.flags
       FROM spans s JOIN traces t ON t.tid = s.tid
       WHERE t.trace_id = ? ORDER BY s.start_us, s.sid`,
      [traceId],
    ).map(toOutline);
  }

  /** One span in full, or the trace's spans of one type (its evaluators, say). */
  span(traceId: string, spanId: string): SpanRow | undefined {
    return this.fullSpans('AND s.span_id = ?', [traceId, spanId])[0];
  }

  spansOfType(traceId: string, type: SpanType): SpanRow[] {
    return this.fullSpans('AND s.span_type = ?', [traceId, type]);
  }

  /** A trace's spans in full, in start order, narrowed by `and`. */
  private fullSpans(and: string, params: (string | number)[]): SpanRow[] {
    return this.all(
      `SELECT s.*, t.trace_id FROM spans s JOIN traces t ON t.tid = s.tid
       WHERE t.trace_id = ? ${and} ORDER BY s.start_us, s.sid`,
      params,
    ).map((r) => this.toSpan(r));
  }

  assessments(traceId: string): Assessment[] {
    return this.all(
      `SELECT a.*, t.trace_id FROM assessments a JOIN traces t ON t.tid = a.tid
       WHERE t.trace_id = ? ORDER BY a.created_ms, a.assessment_id`,
      [traceId],
    ).map((r) => ({
      assessmentId: r.assessment_id as string,
      traceId: r.trace_id as string,
      spanId: r.span_id as string | null,
      name: r.name as string,
      value: JSON.parse(r.value_json as string) as Assessment['value'],
      rationale: r.rationale as string,
      source: { type: r.source_type as Assessment['source']['type'], id: r.source_id as string },
      createdMs: r.created_ms as number,
    }));
  }

  /** Spans flagged by each guardrail check, over the traces that started in [fromMs, toMs). */
  flagCounts(fromMs: number, toMs: number): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const r of this.all(
      `SELECT s.flags FROM spans s JOIN traces t ON t.tid = s.tid
       WHERE s.flags IS NOT NULL AND t.start_ms >= ? AND t.start_ms < ?`,
      [fromMs, toMs],
    )) {
      const checks = new Set((JSON.parse(r.flags as string) as SpanFlag[]).map((f) => f.check));
      for (const c of checks) counts[c] = (counts[c] ?? 0) + 1;
    }
    return counts;
  }

  /** Ids of traces that started before `ms`, oldest first. */
  startedBefore(ms: number, limit: number): string[] {
    return this.all('SELECT trace_id FROM traces WHERE start_ms < ? ORDER BY start_ms LIMIT ?', [
      ms,
      limit,
    ]).map((r) => r.trace_id as string);
  }

  /**
   * The matching traces' experiments or sessions with their counts, the most recently
   * active first (a null key: traces without one).
   */
  groups(
    by: 'experiment' | 'session',
    filter: FilterExpr<TraceFilterField> | undefined,
    limit: number,
  ): { key: string | null; count: number; lastMs: number }[] {
    const { sql, params } = compileTraceQuery({ filter, orderBy: [], experimentIds: [] });
    const column = by === 'experiment' ? 'experiment_id' : 'session_id';
    return this.all(
      `SELECT ${column} AS k, count(*) AS n, max(start_ms) AS last FROM (${sql})
       GROUP BY k ORDER BY last DESC LIMIT ?`,
      [...params, limit],
    ).map((r) => ({
      key: r.k === null ? null : String(r.k),
      count: r.n as number,
      lastMs: r.last as number,
    }));
  }

  private summaries(rows: Row[]): TraceSummary[] {
    if (rows.length === 0) return [];
    const tids = rows.map((r) => r.tid as number);
    const marks = tids.map(() => '?').join(',');
    const keyed = (table: string) => {
      const out = new Map<number, Record<string, string>>();
      for (const r of this.all(
        `SELECT tid, key, value FROM ${table} WHERE tid IN (${marks})`,
        tids,
      )) {
        const m = out.get(r.tid as number) ?? {};
        m[r.key as string] = r.value as string;
        out.set(r.tid as number, m);
      }
      return out;
    };
    const tags = keyed('trace_tags');
    const metadata = keyed('trace_metadata');
    return rows.map((r) => {
      const tid = r.tid as number;
      const traceId = r.trace_id as string;
      return {
        traceId,
        requestId: `tr-${traceId}`,
        experimentId: r.experiment_id === null ? null : String(r.experiment_id),
        name: r.name as string,
        startMs: (r.info_start_ms as number | null) ?? (r.start_ms as number),
        durationMs: (r.info_duration_ms as number | null) ?? (r.duration_ms as number),
        state: r.state as TraceState,
        spanCount: r.span_count as number,
        errorCount: r.error_count as number,
        inputPreview: r.input_preview as string,
        outputPreview: r.output_preview as string,
        tokensIn: r.tokens_in as number | null,
        tokensOut: r.tokens_out as number | null,
        cost: r.cost as number | null,
        ttftMs: r.ttft_ms as number | null,
        sessionId: r.session_id as string | null,
        userId: r.user_id as string | null,
        runId: r.run_uuid as string | null,
        promptName: r.prompt_name as string | null,
        promptVersion: r.prompt_version as number | null,
        evalRunId: r.eval_run_uuid as string | null,
        evalCase: r.eval_case as string | null,
        flagged: r.flagged as number,
        tags: tags.get(tid) ?? {},
        metadata: metadata.get(tid) ?? {},
      };
    });
  }

  private resource(id: SqlValue): Attributes {
    if (id === null) return {};
    const key = id as number;
    let r = this.resources.get(key);
    if (!r) {
      const row = this.all('SELECT json FROM span_resources WHERE id = ?', [key])[0];
      r = row ? (JSON.parse(row.json as string) as Attributes) : {};
      this.resources.set(key, r);
    }
    return r;
  }

  private toSpan(r: Row): SpanRow {
    const dropped = r.dropped ? (JSON.parse(r.dropped as string) as SpanRow['dropped']) : null;
    return {
      ...toOutline(r),
      traceId: r.trace_id as string,
      kind: r.kind as number,
      startNs: r.start_ns as string,
      endNs: r.end_ns as string,
      statusMessage: r.status_message as string,
      traceState: r.trace_state as string,
      attributes: JSON.parse(r.attributes as string) as Record<string, AttributeValue>,
      events: JSON.parse(r.events as string) as SpanEvent[],
      links: JSON.parse(r.links as string) as SpanLink[],
      resource: this.resource(r.resource_id ?? null),
      scope: r.scope ? (JSON.parse(r.scope as string) as InstrumentationScope) : null,
      dropped: dropped ?? { attributes: 0, events: 0, links: 0 },
      cost: r.cost as number | null,
      ttftMs: r.ttft_ms as number | null,
    };
  }
}

/** A span row's columns that the outline holds (the rest of a row is read by toSpan). */
function toOutline(r: Row): SpanOutline {
  return {
    spanId: r.span_id as string,
    parentSpanId: r.parent_span_id as string | null,
    name: r.name as string,
    startUs: r.start_us as number,
    endUs: r.end_us as number,
    statusCode: r.status_code as StatusCode,
    type: r.span_type as SpanType,
    model: r.model as string | null,
    tokensIn: r.tokens_in as number | null,
    tokensOut: r.tokens_out as number | null,
    flags: r.flags ? (JSON.parse(r.flags as string) as SpanFlag[]) : [],
  };
}
