// Traces in the store: ingesting spans from any client (checked one by one, so a bad span is
// refused with its reason and the rest kept), what a client says of a whole trace (MLflow's
// StartTraceV3), searching, reading a trace with what each span means, tags, assessments,
// guardrail flags, deletion and retention. What a span means is worked out here, on write
// (tracing/conventions.ts), and stored with it.

import { NotFoundError, ValidationError } from '../model/errors.ts';
import type {
  Assessment,
  AttributeValue,
  Attributes,
  SpanMeaning,
  SpanRecord,
  TraceState,
  TraceSummary,
} from '../model/tracing.ts';
import type { TagValue } from '../model/tracking.ts';
import type { ModelPrice } from '../evals/pricing.ts';
import { costOf, priceFor } from '../evals/pricing.ts';
import type { Mutation } from '../store/mutations.ts';
import type { StoreReader } from '../store/queries.ts';
import type { Store } from '../store/store.ts';
import type { SpanFlag, SpanOutline, SpanRow, SpanWrite } from '../store/traceStore.ts';
import { meaningOf, parseMaybeJson, preview, spanEssentials } from './conventions.ts';
import { parseTraceFilter, parseTraceOrderBy } from './traceFilter.ts';

export type { SpanFlag, SpanOutline } from '../store/traceStore.ts';

/** A span of a stored trace, with what it means. */
export interface TraceSpan extends SpanRow {
  meaning: SpanMeaning;
}

export interface TraceDetail {
  summary: TraceSummary;
  spans: TraceSpan[];
  assessments: Assessment[];
}

/**
 * A trace as its inspector first draws it: every span's outline (no attributes read), and in
 * full only the evaluator spans, whose verdicts go on the rows they judged.
 */
export interface TraceOutline {
  summary: TraceSummary;
  spans: SpanOutline[];
  evaluators: TraceSpan[];
  assessments: Assessment[];
}

export interface IngestResult {
  accepted: number;
  rejected: { traceId: string; spanId: string; reason: string }[];
  /** The traces that got spans. */
  traceIds: string[];
}

/** What a client says of a whole trace (MLflow's trace_info). */
export interface TraceInfoInput {
  traceId: string;
  experimentId?: string | null;
  state?: TraceState | null;
  startMs?: number | null;
  durationMs?: number | null;
  requestPreview?: string | null;
  responsePreview?: string | null;
  tags?: Record<string, string>;
  metadata?: Record<string, string>;
}

export interface TraceSearchOptions {
  filter?: string;
  orderBy?: string[];
  experimentIds?: string[];
  /** Only the traces of this session (null: those without one). */
  sessionId?: string | null;
  maxResults?: number;
  pageToken?: string;
}

export interface TracesOptions {
  clock?: () => number;
  /** The user's price overrides (the `mlops.evals.prices` setting). */
  prices?: Record<string, ModelPrice>;
}

export const MAX_TRACE_RESULTS = 1000;
const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;

/**
 * Attributes a client sets on a span to link its trace (to a run, a prompt version, an eval
 * case, a session), kept as the trace's metadata under these keys.
 */
const LINK_ATTRIBUTES: ReadonlyMap<string, string> = new Map([
  ['mlflow.sourceRun', 'mlflow.sourceRun'],
  ['mlops.run_id', 'mlflow.sourceRun'],
  ['mlops.prompt.name', 'mlops.prompt.name'],
  ['mlops.prompt.version', 'mlops.prompt.version'],
  ['mlops.eval.run', 'mlops.eval.run'],
  ['mlops.eval.case', 'mlops.eval.case'],
  ['mlflow.trace.session', 'mlflow.trace.session'],
  ['mlflow.trace.user', 'mlflow.trace.user'],
]);

/** `tr-<32 hex>` (MLflow's request id) or the 32 hex of OpenTelemetry: the 32 hex, or undefined. */
export function normalizeTraceId(id: string): string | undefined {
  const s = id.trim().toLowerCase();
  const hex = s.startsWith('tr-') ? s.slice(3) : s;
  return HEX32.test(hex) ? hex : undefined;
}

function encodePageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset }), 'utf8').toString('base64url');
}

function decodePageToken(token: string | undefined): number {
  if (!token) return 0;
  try {
    const { offset } = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      offset: unknown;
    };
    if (typeof offset === 'number' && Number.isSafeInteger(offset) && offset >= 0) return offset;
  } catch {
    // fall through
  }
  throw new ValidationError(
    `The page token '${token}' is not valid; pass back the next_page_token of a previous page.`,
  );
}

function parseExperimentId(id: string): number {
  if (!/^\d+$/.test(String(id))) {
    throw new ValidationError(
      `'${id}' is not an experiment id; experiment ids are whole numbers such as '0' or '12'.`,
    );
  }
  return Number(id);
}

const tagList = (m: Record<string, string> | undefined): TagValue[] =>
  Object.entries(m ?? {}).map(([key, value]) => ({ key, value: String(value) }));

/** Why a span cannot be stored, or undefined. */
function spanProblem(s: SpanRecord): string | undefined {
  if (!HEX32.test(s.traceId) || /^0+$/.test(s.traceId)) {
    return `trace id '${s.traceId}' is not 16 bytes (32 hex digits) other than all zeros`;
  }
  if (!HEX16.test(s.spanId) || /^0+$/.test(s.spanId)) {
    return `span id '${s.spanId}' is not 8 bytes (16 hex digits) other than all zeros`;
  }
  if (s.parentSpanId !== null && !HEX16.test(s.parentSpanId)) {
    return `parent span id '${s.parentSpanId}' is not 8 bytes (16 hex digits)`;
  }
  if (s.parentSpanId === s.spanId) return 'a span cannot be its own parent';
  if (!/^\d{1,20}$/.test(s.startNs) || !/^\d{1,20}$/.test(s.endNs)) {
    return 'start and end times must be nanoseconds since the epoch';
  }
  if (s.endNs !== '0' && BigInt(s.endNs) < BigInt(s.startNs))
    return 'the span ends before it starts';
  return undefined;
}

export class Traces {
  private readonly clock: () => number;
  private prices: Record<string, ModelPrice> | undefined;

  constructor(
    private readonly store: Store,
    options: TracesOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
    this.prices = options.prices;
  }

  /** New prices apply to spans stored from now on. */
  setPriceOverrides(prices: Record<string, ModelPrice> | undefined): void {
    this.prices = prices;
  }

  private get reader(): StoreReader {
    return this.store.reader;
  }

  /** What a span means and costs, as stored with it. */
  private toWrite(s: SpanRecord, resource: number): SpanWrite {
    const root = s.parentSpanId === null;
    const meaning = spanEssentials(s, root);
    let cost: number | null = null;
    if (meaning.model && (meaning.inputTokens !== null || meaning.outputTokens !== null)) {
      const match = priceFor(meaning.model, this.prices);
      if (match) {
        cost = costOf(
          {
            input: meaning.inputTokens ?? 0,
            output: meaning.outputTokens ?? 0,
            cached: 0,
            reasoning: 0,
          },
          match.price,
        );
      }
    }
    return {
      traceId: s.traceId,
      spanId: s.spanId,
      parentSpanId: s.parentSpanId,
      name: s.name,
      kind: s.kind,
      startNs: s.startNs,
      endNs: s.endNs === '0' ? s.startNs : s.endNs,
      statusCode: s.statusCode,
      statusMessage: s.statusMessage,
      traceState: s.traceState,
      attributes: s.attributes,
      events: s.events,
      links: s.links,
      resource,
      scope: s.scope,
      dropped: s.dropped.attributes || s.dropped.events || s.dropped.links ? s.dropped : null,
      type: meaning.type,
      model: meaning.model,
      tokensIn: meaning.inputTokens,
      tokensOut: meaning.outputTokens,
      cost,
      ttftMs: meaning.ttftMs,
      sessionId: meaning.sessionId,
      userId: meaning.userId,
      previewIn: root ? preview(meaning.inputs) : null,
      previewOut: root ? preview(meaning.outputs) : null,
    };
  }

  /**
   * Stores spans as they arrive: a child before its parent, a trace over several calls, the
   * same span twice (the later copy wins). Each span is checked on its own; the refused ones
   * come back with their reasons. New traces go to `experimentId` (default: 0, Default).
   */
  async ingest(
    spans: SpanRecord[],
    options: { experimentId?: string | null } = {},
  ): Promise<IngestResult> {
    const experimentId =
      options.experimentId === undefined ||
      options.experimentId === null ||
      options.experimentId === ''
        ? 0
        : parseExperimentId(options.experimentId);
    const rejected: IngestResult['rejected'] = [];
    const resources: Attributes[] = [];
    const resourceIndex = new Map<string, number>();
    const writes: SpanWrite[] = [];
    const links = new Map<string, Map<string, string>>();
    for (const s of spans) {
      const problem = spanProblem(s);
      if (problem) {
        rejected.push({ traceId: s.traceId, spanId: s.spanId, reason: problem });
        continue;
      }
      let resource = -1;
      if (Object.keys(s.resource).length > 0) {
        const key = JSON.stringify(s.resource);
        resource = resourceIndex.get(key) ?? -1;
        if (resource < 0) {
          resource = resources.push(s.resource) - 1;
          resourceIndex.set(key, resource);
        }
      }
      writes.push(this.toWrite(s, resource));
      for (const [attr, key] of LINK_ATTRIBUTES) {
        const v = parseMaybeJson(s.attributes[attr] ?? s.resource[attr]);
        if (v === undefined || v === null || v === '') continue;
        const m = links.get(s.traceId) ?? new Map<string, string>();
        m.set(key, typeof v === 'string' ? v : JSON.stringify(v));
        links.set(s.traceId, m);
      }
    }
    const traceIds = [...new Set(writes.map((w) => w.traceId))];
    if (writes.length === 0) return { accepted: 0, rejected, traceIds };
    await this.store.write((r) => {
      const now = this.clock();
      const mutations: Mutation[] = [];
      if (!r.experimentById(experimentId)) {
        if (experimentId !== 0) {
          throw new NotFoundError(
            `Experiment '${experimentId}' does not exist: create it first, or send the traces without an experiment id (they go to Default).`,
          );
        }
        mutations.push({
          t: 'experiment.create',
          id: 0,
          name: 'Default',
          artifactLocation: 'artifacts',
          at: now,
          tags: [],
        });
      }
      mutations.push({ t: 'trace.spans', experimentId, resources, spans: writes, at: now });
      for (const [traceId, m] of links) {
        mutations.push({
          t: 'trace.info',
          traceId,
          experimentId,
          state: null,
          startMs: null,
          durationMs: null,
          requestPreview: null,
          responsePreview: null,
          tags: [],
          metadata: [...m].map(([key, value]) => ({ key, value })),
          at: now,
        });
      }
      return { mutations, result: undefined };
    });
    return { accepted: writes.length, rejected, traceIds };
  }

  /** Records what a client says of a whole trace; creates the trace if no span came yet. */
  async setInfo(info: TraceInfoInput): Promise<TraceSummary> {
    const traceId = normalizeTraceId(info.traceId);
    if (!traceId) {
      throw new ValidationError(
        `'${info.traceId}' is not a trace id: use 32 hex digits, or MLflow's tr-<32 hex digits>.`,
      );
    }
    const experimentId =
      info.experimentId === undefined || info.experimentId === null
        ? null
        : parseExperimentId(info.experimentId);
    await this.store.write((r) => {
      if (experimentId !== null && !r.experimentById(experimentId)) {
        throw new NotFoundError(`Experiment '${experimentId}' does not exist.`);
      }
      return {
        mutations: [
          {
            t: 'trace.info',
            traceId,
            experimentId,
            state: info.state ?? null,
            startMs: info.startMs ?? null,
            durationMs: info.durationMs ?? null,
            requestPreview: info.requestPreview ?? null,
            responsePreview: info.responsePreview ?? null,
            tags: tagList(info.tags),
            metadata: tagList(info.metadata),
            at: this.clock(),
          },
        ],
        result: undefined,
      };
    });
    return this.reader.traces.get(traceId)!;
  }

  /** Sets metadata on several traces in one write (links to a run, an eval run...). */
  async addMetadata(traceIds: string[], metadata: Record<string, string>): Promise<void> {
    const ids = [
      ...new Set(traceIds.map((t) => normalizeTraceId(t)).filter((t): t is string => !!t)),
    ];
    if (ids.length === 0) return;
    await this.store.write((r) => ({
      mutations: r.traces.getMany(ids).map((t) => ({
        t: 'trace.info' as const,
        traceId: t.traceId,
        experimentId: null,
        state: null,
        startMs: null,
        durationMs: null,
        requestPreview: null,
        responsePreview: null,
        tags: [],
        metadata: tagList(metadata),
        at: this.clock(),
      })),
      result: undefined,
    }));
  }

  /** Newest first by default; `filter` is MLflow's trace filter (see traceFilter.ts). */
  search(options: TraceSearchOptions = {}): { traces: TraceSummary[]; nextPageToken?: string } {
    const limit = Math.min(Math.max(1, options.maxResults ?? 100), MAX_TRACE_RESULTS);
    const offset = decodePageToken(options.pageToken);
    const { traces, more } = this.reader.traces.search({
      filter: parseTraceFilter(options.filter ?? ''),
      orderBy: parseTraceOrderBy(options.orderBy ?? []),
      experimentIds: (options.experimentIds ?? []).map(parseExperimentId),
      sessionId: options.sessionId,
      limit,
      offset,
    });
    return { traces, nextPageToken: more ? encodePageToken(offset + limit) : undefined };
  }

  /** The matching traces by experiment or session, most recently active first. */
  groups(
    by: 'experiment' | 'session',
    filter = '',
    limit = 200,
  ): { key: string | null; count: number; lastMs: number }[] {
    return this.reader.traces.groups(by, parseTraceFilter(filter), limit);
  }

  /** How many traces match the filter. */
  count(options: Omit<TraceSearchOptions, 'maxResults' | 'pageToken'> = {}): number {
    return this.reader.traces.countMatching({
      filter: parseTraceFilter(options.filter ?? ''),
      experimentIds: (options.experimentIds ?? []).map(parseExperimentId),
    });
  }

  /** A trace's id from its full id, `tr-` form, or a unique prefix of 6+ hex digits. */
  resolveId(idOrPrefix: string): string {
    const full = normalizeTraceId(idOrPrefix);
    if (full && this.reader.traces.get(full)) return full;
    const s = idOrPrefix.trim().toLowerCase().replace(/^tr-/, '');
    if (/^[0-9a-f]{6,31}$/.test(s)) {
      const found = this.search({ filter: `trace.trace_id LIKE '${s}%'`, maxResults: 2 }).traces;
      if (found.length === 1) return found[0]!.traceId;
      if (found.length > 1) {
        throw new ValidationError(
          `'${idOrPrefix}' is the start of several trace ids; give more digits.`,
        );
      }
    }
    throw new NotFoundError(`Trace '${idOrPrefix}' not found.`);
  }

  summary(traceId: string): TraceSummary | undefined {
    const id = normalizeTraceId(traceId);
    return id ? this.reader.traces.get(id) : undefined;
  }

  get(traceId: string): TraceDetail | undefined {
    const id = normalizeTraceId(traceId);
    const summary = id ? this.reader.traces.get(id) : undefined;
    if (!id || !summary) return undefined;
    return {
      summary,
      spans: this.reader.traces.spans(id).map((s) => ({ ...s, meaning: meaningOf(s) })),
      assessments: this.reader.traces.assessments(id),
    };
  }

  /** The outline of a trace, for a view of a large one (see TraceOutline). */
  outline(traceId: string): TraceOutline | undefined {
    const id = normalizeTraceId(traceId);
    const summary = id ? this.reader.traces.get(id) : undefined;
    if (!id || !summary) return undefined;
    return {
      summary,
      spans: this.reader.traces.outline(id),
      evaluators: this.reader.traces
        .spansOfType(id, 'EVALUATOR')
        .map((s) => ({ ...s, meaning: meaningOf(s) })),
      assessments: this.reader.traces.assessments(id),
    };
  }

  /** One span of a trace with what it means. */
  span(traceId: string, spanId: string): TraceSpan | undefined {
    const id = normalizeTraceId(traceId);
    const s = id ? this.reader.traces.span(id, spanId) : undefined;
    return s ? { ...s, meaning: meaningOf(s) } : undefined;
  }

  private must(traceId: string): string {
    const id = normalizeTraceId(traceId);
    if (!id || !this.reader.traces.get(id))
      throw new NotFoundError(`Trace '${traceId}' not found.`);
    return id;
  }

  async setTag(traceId: string, key: string, value: string): Promise<void> {
    const id = this.must(traceId);
    if (key.trim() === '') throw new ValidationError('A trace tag needs a key.');
    await this.store.write(() => ({
      mutations: [{ t: 'trace.setTag', traceId: id, key, value: String(value) }],
      result: undefined,
    }));
  }

  async deleteTag(traceId: string, key: string): Promise<void> {
    const id = this.must(traceId);
    await this.store.write(() => ({
      mutations: [{ t: 'trace.deleteTag', traceId: id, key }],
      result: undefined,
    }));
  }

  /** Deletes traces with their spans, tags and assessments; returns how many existed. */
  async delete(traceIds: string[]): Promise<number> {
    const ids = traceIds.map((t) => normalizeTraceId(t)).filter((t): t is string => !!t);
    return this.store.write((r) => {
      const existing = r.traces.getMany(ids).map((t) => t.traceId);
      return {
        mutations: existing.length ? [{ t: 'trace.delete', traceIds: existing }] : [],
        result: existing.length,
      };
    });
  }

  /** Deletes the traces that started more than `olderThanMs` ago; returns how many. */
  async prune(olderThanMs: number, options: { dryRun?: boolean } = {}): Promise<number> {
    if (!Number.isFinite(olderThanMs) || olderThanMs < 0) {
      throw new ValidationError('The age to prune at must be a positive duration.');
    }
    const cutoff = this.clock() - olderThanMs;
    let removed = 0;
    for (;;) {
      const batch = this.reader.traces.startedBefore(cutoff, 5000);
      if (batch.length === 0 || options.dryRun)
        return removed + (options.dryRun ? this.countBefore(cutoff) : 0);
      removed += await this.delete(batch);
    }
  }

  private countBefore(cutoff: number): number {
    return this.reader.traces.countMatching({
      filter: parseTraceFilter(`trace.timestamp_ms < ${cutoff}`),
    });
  }

  /** Records (or replaces, by id) an assessment: human feedback, a judge's verdict. */
  async assess(
    input: Omit<Assessment, 'assessmentId' | 'createdMs'> & { assessmentId?: string },
  ): Promise<Assessment> {
    const id = this.must(input.traceId);
    if (input.name.trim() === '')
      throw new ValidationError('An assessment needs a name, such as "user_feedback".');
    const assessment: Assessment = {
      ...input,
      traceId: id,
      assessmentId:
        input.assessmentId ??
        `a-${id.slice(0, 8)}-${this.clock().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
      createdMs: this.clock(),
    };
    await this.store.write(() => ({
      mutations: [{ t: 'trace.assess', assessment }],
      result: undefined,
    }));
    return assessment;
  }

  async deleteAssessment(traceId: string, assessmentId: string): Promise<void> {
    const id = this.must(traceId);
    await this.store.write(() => ({
      mutations: [{ t: 'trace.deleteAssessment', traceId: id, assessmentId }],
      result: undefined,
    }));
  }

  /** Sets what guardrails found on a span (an empty list clears it). */
  async flag(traceId: string, spanId: string, flags: SpanFlag[]): Promise<void> {
    const id = this.must(traceId);
    await this.store.write(() => ({
      mutations: [{ t: 'trace.flag', traceId: id, spanId, flags }],
      result: undefined,
    }));
  }
}

/** A JSON value's text for a dataset file or a message: strings as they are. */
export function valueText(v: AttributeValue | undefined): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}
