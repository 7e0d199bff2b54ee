// The tracing domain's types: OpenTelemetry's trace model as received (ids in lowercase hex,
// times in nanoseconds as decimal strings, attributes as JSON values), MLflow's span types,
// and the rollups kept per trace. The mapping from attribute conventions to what a span
// means lives in tracing/conventions.ts; these are only its shapes.

/** MLflow's span types. */
export const SPAN_TYPES = [
  'LLM',
  'CHAT_MODEL',
  'CHAIN',
  'AGENT',
  'TOOL',
  'RETRIEVER',
  'EMBEDDING',
  'RERANKER',
  'PARSER',
  'MEMORY',
  'GUARDRAIL',
  'EVALUATOR',
  'WORKFLOW',
  'TASK',
  'UNKNOWN',
] as const;
export type SpanType = (typeof SPAN_TYPES)[number];

/**
 * An OTLP AnyValue as JSON: strings, booleans, numbers (an int64 beyond 2^53 stays a decimal
 * string), arrays, key-value lists as objects, and null for an empty value. Bytes are kept
 * as `{ "bytes": "<base64>" }`.
 */
export type AttributeValue =
  string | number | boolean | null | AttributeValue[] | { [key: string]: AttributeValue };
export type Attributes = Record<string, AttributeValue>;

/** OpenTelemetry's SpanKind numbers: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
export const SPAN_KINDS = [
  'UNSPECIFIED',
  'INTERNAL',
  'SERVER',
  'CLIENT',
  'PRODUCER',
  'CONSUMER',
] as const;
export type SpanKindName = (typeof SPAN_KINDS)[number];

/** OpenTelemetry's status codes: 0 unset, 1 ok, 2 error. */
export type StatusCode = 0 | 1 | 2;

export interface SpanEvent {
  name: string;
  timeNs: string;
  attributes: Attributes;
}

export interface SpanLink {
  traceId: string;
  spanId: string;
  traceState: string;
  attributes: Attributes;
}

export interface InstrumentationScope {
  name: string;
  version: string;
  attributes: Attributes;
}

/** One span as a client sent it (OTLP, MLflow, our own recorders). */
export interface SpanRecord {
  /** 32 lowercase hex digits. */
  traceId: string;
  /** 16 lowercase hex digits. */
  spanId: string;
  /** null for a root span. */
  parentSpanId: string | null;
  name: string;
  kind: number;
  /** Nanoseconds since the epoch, as a decimal string (JS numbers cannot hold them exactly). */
  startNs: string;
  endNs: string;
  statusCode: StatusCode;
  statusMessage: string;
  traceState: string;
  attributes: Attributes;
  events: SpanEvent[];
  links: SpanLink[];
  /** The attributes of the resource that produced the span (service.name, ...). */
  resource: Attributes;
  scope: InstrumentationScope | null;
  dropped: { attributes: number; events: number; links: number };
}

/** A chat message as the inspector shows it, whatever convention carried it. */
export interface ChatMessage {
  role: string;
  content: string;
  name?: string;
  toolCalls?: { id?: string; name: string; arguments: string }[];
  toolCallId?: string;
}

export interface RetrievedDocument {
  id?: string;
  content: string;
  score?: number;
  metadata?: Record<string, AttributeValue>;
}

/** What a span means, read from its attributes by tracing/conventions.ts. */
export interface SpanMeaning {
  type: SpanType;
  /** The convention the type came from, for the inspector ("mlflow", "openinference", ...). */
  convention: 'mlflow' | 'openinference' | 'gen_ai' | 'mlops' | 'none';
  model: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  inputs: AttributeValue | undefined;
  outputs: AttributeValue | undefined;
  inputMessages: ChatMessage[];
  outputMessages: ChatMessage[];
  documents: RetrievedDocument[];
  toolName: string | null;
  sessionId: string | null;
  userId: string | null;
  /** Milliseconds from the span's start to its first streamed token. */
  ttftMs: number | null;
}

/** MLflow's trace states. */
export type TraceState = 'OK' | 'ERROR' | 'IN_PROGRESS';

/** A trace's rollups, kept on write; what lists and searches read. */
export interface TraceSummary {
  /** 32 lowercase hex digits (OpenTelemetry's trace id). */
  traceId: string;
  /** MLflow's id for the trace: `tr-` + traceId. */
  requestId: string;
  experimentId: string | null;
  /** The root span's name, else the first span's. */
  name: string;
  /** Milliseconds since the epoch. */
  startMs: number;
  /** From the first start to the last end, in milliseconds. */
  durationMs: number;
  state: TraceState;
  spanCount: number;
  errorCount: number;
  inputPreview: string;
  outputPreview: string;
  tokensIn: number | null;
  tokensOut: number | null;
  /** USD, summed over the spans whose model has a price; null when none has. */
  cost: number | null;
  ttftMs: number | null;
  sessionId: string | null;
  userId: string | null;
  runId: string | null;
  promptName: string | null;
  promptVersion: number | null;
  evalRunId: string | null;
  evalCase: string | null;
  /** Spans a guardrail flagged. */
  flagged: number;
  tags: Record<string, string>;
  metadata: Record<string, string>;
}

/** A stored span: the record plus what it means and what it cost. */
export interface StoredSpan extends SpanRecord {
  meaning: SpanMeaning;
  cost: number | null;
}

/** Human or automatic judgement of a trace or a span, as MLflow's assessments. */
export interface Assessment {
  assessmentId: string;
  traceId: string;
  spanId: string | null;
  name: string;
  /** Feedback values: true / false for thumbs, a number, or a string. */
  value: boolean | number | string | null;
  rationale: string;
  source: { type: 'HUMAN' | 'LLM_JUDGE' | 'CODE'; id: string };
  createdMs: number;
}
