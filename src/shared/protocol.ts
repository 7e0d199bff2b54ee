// The messages between the extension host and its webviews, each declared once with
// its direction and payload. The host and webview-ui import these declarations;
// nothing else spells a method name. Messages from a webview are untrusted input:
// the host validates each with its zod schema before acting on it. Schemas are
// written as functions of `z`, so the webview bundle (which never validates) does
// not carry zod: only the host calls them.

import type { z } from 'zod';

/** A zod schema, built on first use by whoever validates (the host). */
export type SchemaOf<P> = (zod: typeof z) => z.ZodType<P>;

const built = new WeakMap<SchemaOf<unknown>, z.ZodType<unknown>>();

/** The schema of a message, built once with the given zod. */
export function schemaFor<P>(factory: SchemaOf<P>, zod: typeof z): z.ZodType<P> {
  let schema = built.get(factory as SchemaOf<unknown>);
  if (!schema) {
    schema = factory(zod);
    built.set(factory as SchemaOf<unknown>, schema);
  }
  return schema as z.ZodType<P>;
}

// ------------------------------------------------------------------ descriptors

/** Host -> webview. The host is trusted, so no schema. */
export interface HostNotification<P> {
  readonly method: string;
  readonly direction: 'toWebview';
  /** Phantom: carries the payload type. */
  readonly _params?: P;
}

/** Webview -> host, fire and forget. */
export interface WebviewNotification<P> {
  readonly method: string;
  readonly direction: 'toHost';
  readonly params: SchemaOf<P>;
}

/** Webview -> host, answered with a result or an error message. */
export interface WebviewRequest<P, R> {
  readonly method: string;
  readonly direction: 'toHost';
  readonly params: SchemaOf<P>;
  /** Phantom: carries the result type. */
  readonly _result?: R;
}

function hostNotification<P>(method: string): HostNotification<P> {
  return { method, direction: 'toWebview' };
}
function webviewNotification<P>(method: string, params: SchemaOf<P>): WebviewNotification<P> {
  return { method, direction: 'toHost', params };
}
function webviewRequest<P, R>(method: string, params: SchemaOf<P>): WebviewRequest<P, R> {
  return { method, direction: 'toHost', params };
}

// ------------------------------------------------------------------ envelopes

/** What travels through postMessage. `id` is set on requests and their responses. */
export type Envelope =
  | { kind: 'notification'; method: string; params: unknown }
  | { kind: 'request'; id: number; method: string; params: unknown }
  | { kind: 'response'; id: number; result?: unknown; error?: string };

export const envelopeSchema: SchemaOf<Envelope> = (z) =>
  z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('notification'), method: z.string().max(100), params: z.unknown() }),
    z.object({
      kind: z.literal('request'),
      id: z.number().int().nonnegative(),
      method: z.string().max(100),
      params: z.unknown(),
    }),
    z.object({
      kind: z.literal('response'),
      id: z.number().int().nonnegative(),
      result: z.unknown().optional(),
      error: z.string().optional(),
    }),
  ]);

// ------------------------------------------------------------------ shared payloads

export type XAxis = 'step' | 'time' | 'relative';
export type Direction = 'max' | 'min';

/** What the compare view knows of a run: its summary, not its metric history. */
export interface CompareRun {
  runId: string;
  runName: string;
  experimentId: string;
  experimentName: string;
  status: string;
  startTime: number;
  endTime: number | null;
  userId: string;
  gitCommit: string | null;
  params: Record<string, string>;
  /** Latest value with its range and length; NaN / Infinity travel as strings. */
  metrics: Record<
    string,
    { last: number | string; min: number | null; max: number | null; step: number; count: number }
  >;
  tags: Record<string, string>;
  datasets: { name: string; digest: string; context: string | null; rowCount: number | null }[];
  checkpoints: { step: number; artifactPath: string; metrics: Record<string, number | string> }[];
}

/**
 * One run's history of one metric, as columns (never an object per point), already
 * decimated by the host to at most the number of points the chart has pixels for.
 * Non-finite values are NaN in `value` (a gap in the line).
 */
export interface SeriesColumns {
  runId: string;
  step: Float64Array;
  time: Float64Array;
  value: Float64Array;
  /** Points in the store for this range, before decimation. */
  total: number;
}

export interface SeriesBlock {
  metric: string;
  series: SeriesColumns[];
}

/** What a compare panel is about; kept by the page so a window reload restores it. */
export interface CompareViewState {
  runIds: string[];
  /** Restrict the charts to one metric: the single-metric view. */
  metric?: string;
  title?: string;
}

export const compareViewStateSchema: SchemaOf<CompareViewState> = (z) =>
  z.object({
    runIds: z.array(z.string().max(64)).max(100_000),
    metric: z.string().max(250).optional(),
    title: z.string().max(500).optional(),
  });

// ------------------------------------------------------------------ common messages

/** The first message of every webview; the host queues everything until it arrives. */
export const Ready = webviewNotification('ready', (z) =>
  z.object({
    /** Width in CSS pixels of one chart's plot area: the host's decimation budget. */
    chartPixels: z.number().int().min(50).max(8192),
  }),
);

/** The webview could not do something; the host shows and logs it. */
export const ShowError = webviewNotification('showError', (z) =>
  z.object({ message: z.string().max(2000) }),
);

/** Timings the webview measured, logged by the host (the benchmarks read them). */
export const Painted = webviewNotification('painted', (z) =>
  z.object({
    what: z.string().max(100),
    charts: z.number().int().nonnegative(),
    points: z.number().int().nonnegative(),
  }),
);

export const SaveFile = webviewNotification('file/save', (z) =>
  z.object({
    suggestedName: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[^/\\]+$/, 'a file name, not a path'),
    content: z.string().max(50_000_000),
  }),
);

export const CopyText = webviewNotification('clipboard/copy', (z) =>
  z.object({ text: z.string().max(50_000_000), what: z.string().max(100) }),
);

export const OpenRun = webviewNotification('run/open', (z) =>
  z.object({ runId: z.string().min(1).max(64) }),
);

// ------------------------------------------------------------------ compare panel

export const CompareInit = hostNotification<{
  /** What the page saves with setState, so the serializer can reopen the panel. */
  view: CompareViewState;
  title: string;
  runs: CompareRun[];
  /** Metrics to chart, in order. */
  metrics: string[];
  /** Set for the single-metric view. */
  focusMetric: string | null;
  /** Metrics whose lower values are better by default (losses, errors...). */
  lowerIsBetter: string[];
  /** Metric that checkpoints are ranked by at first. */
  keyMetric: string | null;
  /** Runs asked for that no longer exist. */
  missing: string[];
}>('compare/init');

/** The runs changed (a tag, a status, a new metric key): the table is rebuilt. */
export const CompareRunsChanged = hostNotification<{ runs: CompareRun[]; metrics: string[] }>(
  'compare/runsChanged',
);

/** Histories for one metric, sent metric by metric after init. */
export const SeriesData = hostNotification<SeriesBlock>('series/data');

/** New points of a running run: appended to the charts without a redraw. */
export const SeriesAppend = hostNotification<SeriesBlock>('series/append');

/** Full detail of an x range (zoom): decimated to the pixels again, but only within it. */
export const SeriesRange = webviewRequest<
  { metric: string; runIds: string[]; axis: XAxis; from: number; to: number; maxPoints: number },
  SeriesBlock
>('series/range', (z) =>
  z.object({
    metric: z.string().min(1).max(250),
    runIds: z.array(z.string().min(1).max(64)).min(1).max(100_000),
    axis: z.enum(['step', 'time', 'relative']),
    from: z.number().finite(),
    to: z.number().finite(),
    maxPoints: z.number().int().min(2).max(20_000),
  }),
);

// ------------------------------------------------------------------ eval results panel

/** One graded answer, as the results page shows it. */
export interface EvalCaseView {
  index: number;
  repeat: number;
  id: string | null;
  vars: Record<string, unknown>;
  /** The chat messages sent, after rendering. */
  input: { role: string; content: string }[];
  output: string | null;
  status: 'passed' | 'failed' | 'errored';
  error: string | null;
  /** `errored`: the grader could not decide (a judge call failed). */
  verdicts: { name: string; pass: boolean; score: number; reason: string; errored?: boolean }[];
  tokens: { input: number; output: number; cached: number; reasoning: number } | null;
  /** The provider sent no usage: `tokens` were counted with a tokenizer. */
  tokensEstimated: boolean;
  /** USD for the call under test (null: the model has no price). */
  costUsd: number | null;
  /** USD the judge's calls cost for this case. */
  judgeCostUsd: number | null;
  latencyMs: number | null;
  ttftMs: number | null;
  /** The answer came from the response cache: nothing was billed. */
  cached: boolean;
  /** The case's trace, when the run recorded one. */
  traceId: string | null;
}

export interface EvalSummaryView {
  resultCounts: { total: number; passed: number; failed: number; errored: number };
  perCriterion: Record<string, { passed: number; failed: number; errored: number }>;
  passRate: number;
  latencyMs: { p50: number | null; p95: number | null };
  ttftMs: { p50: number | null; p95: number | null };
  tokens: { input: number; output: number; cached: number; reasoning: number };
  costUsd: number | null;
  judgeCostUsd: number | null;
  /** Some token counts (and so costs) are tokenizer estimates. */
  costEstimated: boolean;
  /** Where the prices came from, e.g. "gpt-tokenizer 4.0.0 catalog, 2025-..." or "settings". */
  priceSource: string | null;
  repeat: number;
  passAtK: number | null;
  passHatK: number | null;
  cachedCalls: number;
  durationMs: number;
}

export interface EvalComparisonView {
  previousRunId: string;
  passRateChange: number;
  flipped: { index: number; repeat: number; from: string; to: string }[];
  outputTokensChange: number | null;
  costChange: number | null;
  latencyP50Change: number | null;
  /** Output tokens or cost grew 30% or more. */
  costRegression: boolean;
}

export interface EvalRunView {
  runId: string;
  suite: string;
  /** The suite file, relative to the workspace. */
  suiteFile: string;
  model: string;
  baseUrl: string;
  prompt: { label: string; name: string | null; version: number | null };
  startedAt: number;
  criteria: string[];
  summary: EvalSummaryView;
  comparison: EvalComparisonView | null;
  cases: EvalCaseView[];
}

/** Another run of the same suite, for the side-by-side picker. */
export interface EvalRunChoice {
  runId: string;
  label: string;
  startedAt: number;
  passRate: number | null;
}

/** What an eval results panel shows; kept by the page so a window reload restores it. */
export interface EvalViewState {
  runId: string;
  /** The run shown side by side, when one is. */
  compareWith?: string;
}

export const evalViewStateSchema: SchemaOf<EvalViewState> = (z) =>
  z.object({
    runId: z.string().min(1).max(64),
    compareWith: z.string().min(1).max(64).optional(),
  });

export const EvalInit = hostNotification<{
  view: EvalViewState;
  run: EvalRunView;
  /** Other runs of the same suite, newest first. */
  otherRuns: EvalRunChoice[];
  /** The run shown side by side, when the view names one. */
  compareRun: EvalRunView | null;
  /** A case to scroll to and open. */
  focus: { index: number; repeat: number } | null;
}>('eval/init');

/** The panel is showing and the user picked a case in the Evals view. */
export const EvalFocusCase = hostNotification<{ index: number; repeat: number }>('eval/focus');

/** A run of the same suite finished or was deleted: the picker is refreshed. */
export const EvalRunsChanged = hostNotification<{ otherRuns: EvalRunChoice[] }>('eval/runs');

/** The run to show side by side (null: none); the host remembers it for a reload. */
export const EvalLoadRun = webviewRequest<{ runId: string | null }, EvalRunView | null>(
  'eval/load',
  (z) => z.object({ runId: z.string().min(1).max(64).nullable() }),
);

// ------------------------------------------------------------------ helpers

/** NaN and ±Infinity have no JSON form; metric values travel through this. */
export function encodeNumber(v: number): number | string {
  return Number.isFinite(v) ? v : String(v);
}

export function decodeNumber(v: number | string | null): number | null {
  if (v === null) return null;
  return typeof v === 'number' ? v : Number(v);
}

/** Size of a message as it travels: typed arrays by their bytes, the rest as JSON. */
export function messageBytes(value: unknown): number {
  if (ArrayBuffer.isView(value)) return value.byteLength;
  if (value instanceof ArrayBuffer) return value.byteLength;
  if (Array.isArray(value)) return value.reduce<number>((n, v) => n + messageBytes(v) + 1, 2);
  if (value && typeof value === 'object') {
    let n = 2;
    for (const [k, v] of Object.entries(value)) n += k.length + 4 + messageBytes(v);
    return n;
  }
  return JSON.stringify(value ?? null).length;
}

// ------------------------------------------------------------------ drift report panel

export type DriftVerdictView = 'none' | 'possible' | 'drift';

/** Shares per bin (edges: one more than the shares) or per category, for the overlaid chart. */
export type DriftChartView =
  | { kind: 'histogram'; edges: number[]; reference: number[]; current: number[] }
  | { kind: 'categories'; labels: string[]; reference: number[]; current: number[] };

/** One tested column of a drift report (src/core/drift/check.ts ColumnDrift), as the page shows it. */
export interface DriftColumnView {
  /** The column, or for text a derived one: `review (length)`. */
  column: string;
  sourceColumn: string;
  kind: string;
  /** ks, psi, chi2, wasserstein, js or z. */
  test: string;
  chosenBy: 'auto' | 'column' | 'global';
  /** Why the automatic choice picked the test. */
  reason: string;
  statistic: number | null;
  pValue: number | null;
  threshold: number;
  possibleThreshold: number;
  drift: boolean;
  verdict: DriftVerdictView;
  bins: number[] | null;
  reference: { count: number; missing: number; sampled: boolean };
  current: { count: number; missing: number };
  chart: DriftChartView | null;
  /** The column could not be tested (no values on one side). */
  error?: string;
}

/** A drift check's report (src/core/drift/check.ts DriftReport), as the page shows it. */
export interface DriftReportView {
  reference: { source: string; rows: number; digest: string | null; baseline: string | null };
  current: { source: string; rows: number; digest: string | null };
  columns: DriftColumnView[];
  missingColumns: string[];
  newColumns: string[];
  driftedColumns: number;
  checkedColumns: number;
  driftedShare: number;
  driftShareThreshold: number;
  datasetDrift: boolean;
  datasetVerdict: DriftVerdictView;
  createdAt: number;
}

/** What a drift report panel shows; kept by the page so a window reload restores it. */
export interface DriftViewState {
  /** The drift check run whose report is shown. */
  runId: string;
}

export const driftViewStateSchema: SchemaOf<DriftViewState> = (z) =>
  z.object({ runId: z.string().min(1).max(64) });

export const DriftInit = hostNotification<{
  view: DriftViewState;
  /** The drift check run's name, '' when the run is gone. */
  runName: string;
  report: DriftReportView;
}>('drift/init');

/** Retrain on the drifted data: the host runs the retrain command with the panel's run. */
export const DriftRetrain = webviewNotification('drift/retrain', (z) => z.object({}));

/** Open the trace of an eval case (or any trace id) in the trace inspector. */
export const OpenTrace = webviewNotification('trace/openTrace', (z) =>
  z.object({ traceId: z.string().regex(/^[0-9a-f]{32}$/) }),
);

// ------------------------------------------------------------------ trace inspector

export type SpanTypeView =
  | 'LLM'
  | 'CHAT_MODEL'
  | 'CHAIN'
  | 'AGENT'
  | 'TOOL'
  | 'RETRIEVER'
  | 'EMBEDDING'
  | 'RERANKER'
  | 'PARSER'
  | 'MEMORY'
  | 'GUARDRAIL'
  | 'EVALUATOR'
  | 'WORKFLOW'
  | 'TASK'
  | 'UNKNOWN';

/** What the tree and the waterfall need of every span; the rest comes on demand. */
export interface SpanRowView {
  spanId: string;
  parentSpanId: string | null;
  name: string;
  type: SpanTypeView;
  /** Microseconds from the trace's start. */
  startUs: number;
  durationUs: number;
  /** 0 unset, 1 ok, 2 error. */
  status: number;
  /** Guardrail checks that flagged the span. */
  flags: string[];
  /** Eval criteria that judged the span, with their verdicts. */
  verdicts: { name: string; pass: boolean; reason: string }[];
}

/**
 * Every span's row as it travels to the page, column by column: a 10,000-span trace posts
 * as a few arrays instead of 10,000 objects, a third of the bytes and far less to copy on the
 * way (shared/traceView.ts packs and unpacks it).
 */
export interface SpanColumns {
  /** Names and types, each once; `name` and `type` index into it. */
  strings: string[];
  spanId: string[];
  /** The parent's index in these columns; null: a root; a string: a parent not in the trace. */
  parent: (number | string | null)[];
  name: number[];
  type: number[];
  startUs: number[];
  durationUs: number[];
  status: number[];
  /** The rows with guardrail flags or eval verdicts: [index, flags, verdicts]. */
  marks: [number, string[], SpanRowView['verdicts']][];
}

export interface ChatMessageView {
  role: string;
  content: string;
  name?: string;
  toolCalls?: { id?: string; name: string; arguments: string }[];
  toolCallId?: string;
}

export interface SpanDetailView {
  spanId: string;
  name: string;
  type: SpanTypeView;
  kind: string;
  convention: string;
  startNs: string;
  endNs: string;
  durationUs: number;
  status: number;
  statusMessage: string;
  model: string | null;
  tokensIn: number | null;
  tokensOut: number | null;
  costUsd: number | null;
  ttftMs: number | null;
  toolName: string | null;
  /** JSON text of the inputs and outputs (null: none recorded). */
  inputs: string | null;
  outputs: string | null;
  inputMessages: ChatMessageView[];
  outputMessages: ChatMessageView[];
  documents: { id?: string; content: string; score?: number; metadata?: string }[];
  /** Attribute key -> JSON text of its value. */
  attributes: [string, string][];
  resource: [string, string][];
  events: { name: string; offsetUs: number; attributes: [string, string][] }[];
  exceptions: { type: string; message: string; stacktrace: string }[];
  flags: { check: string; action: string; reason: string }[];
  /** This span's LLM call can become an eval case. */
  canAddToDataset: boolean;
}

export interface AssessmentView {
  assessmentId: string;
  spanId: string | null;
  name: string;
  value: boolean | number | string | null;
  rationale: string;
  source: string;
  createdMs: number;
}

export interface TraceView {
  traceId: string;
  name: string;
  state: string;
  startMs: number;
  durationMs: number;
  spanCount: number;
  errorCount: number;
  tokensIn: number | null;
  tokensOut: number | null;
  costUsd: number | null;
  ttftMs: number | null;
  sessionId: string | null;
  experimentId: string | null;
  runId: string | null;
  prompt: { name: string; version: number | null } | null;
  evalRunId: string | null;
  evalCase: string | null;
  flagged: number;
  tags: [string, string][];
  spans: SpanColumns;
  assessments: AssessmentView[];
}

/** What a trace inspector keeps so a window reload reopens it. */
export interface TraceViewState {
  traceId: string;
}

export const traceViewStateSchema: SchemaOf<TraceViewState> = (z) =>
  z.object({ traceId: z.string().regex(/^[0-9a-f]{32}$/) });

export const TraceInit = hostNotification<{
  view: TraceViewState;
  trace: TraceView;
  /** The span to select first (null: the root). */
  focusSpanId: string | null;
}>('trace/init');

/** New spans or rollups arrived for the trace shown. */
export const TraceUpdated = hostNotification<{ trace: TraceView }>('trace/updated');

export const TraceSpanDetail = webviewRequest<{ spanId: string }, SpanDetailView>(
  'trace/span',
  (z) => z.object({ spanId: z.string().regex(/^[0-9a-f]{16}$/) }),
);

/** Thumbs up or down, with a comment, on the trace or one span. */
export const TraceFeedback = webviewRequest<
  { spanId: string | null; value: boolean; comment: string },
  AssessmentView[]
>('trace/feedback', (z) =>
  z.object({
    spanId: z
      .string()
      .regex(/^[0-9a-f]{16}$/)
      .nullable(),
    value: z.boolean(),
    comment: z.string().max(10_000),
  }),
);

export const TraceAddToDataset = webviewNotification('trace/addToDataset', (z) =>
  z.object({ spanId: z.string().regex(/^[0-9a-f]{16}$/) }),
);

export const TraceOpenPrompt = webviewNotification('trace/openPrompt', (z) => z.object({}));

export const TraceOpenEval = webviewNotification('trace/openEval', (z) => z.object({}));
