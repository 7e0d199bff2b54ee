// The search filters' syntax tree: what a parsed filter or order_by says, with no logic.
// The parsers (search/filterGrammar.ts with the grammars of tracking/runFilter.ts and
// tracing/traceFilter.ts) build it; the store compiles it to SQL.

export const RUN_ATTRIBUTES = [
  'run_id',
  'run_name',
  'status',
  'user_id',
  'start_time',
  'end_time',
  'artifact_uri',
  'experiment_id',
  'created',
  'duration',
] as const;
export type RunAttribute = (typeof RUN_ATTRIBUTES)[number];

export const DATASET_FIELDS = ['name', 'digest', 'context'] as const;
export type DatasetField = (typeof DATASET_FIELDS)[number];

/** Attributes that hold numbers (epoch milliseconds, a duration, an id); the rest hold strings. */
export const NUMERIC_ATTRIBUTES: ReadonlySet<RunAttribute> = new Set<RunAttribute>([
  'start_time',
  'end_time',
  'created',
  'duration',
  'experiment_id',
]);

export type FilterField =
  | { kind: 'metric'; key: string }
  | { kind: 'param'; key: string }
  | { kind: 'tag'; key: string }
  | { kind: 'attribute'; name: RunAttribute }
  | { kind: 'dataset'; name: DatasetField };

/** `<>` is read as `!=`. */
export type ComparisonOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

/**
 * A value's JS type is its meaning: a number compares numerically (metrics, numeric
 * attributes, and params/tags with < <= > >=), a string compares as text.
 */
export type FilterValue = string | number;

/** A filter over fields of type F (FilterField for runs, TraceFilterField for traces). */
export type FilterExpr<F = FilterField> =
  | { type: 'and'; operands: FilterExpr<F>[] }
  | { type: 'or'; operands: FilterExpr<F>[] }
  | { type: 'not'; operand: FilterExpr<F> }
  | { type: 'compare'; field: F; op: ComparisonOp; value: FilterValue }
  | { type: 'like'; field: F; caseInsensitive: boolean; pattern: string }
  | { type: 'in'; field: F; negated: boolean; values: FilterValue[] }
  /** For keyed fields (metrics, params, tags, ...): no such key (`negated`: there is one). */
  | { type: 'isNull'; field: F; negated: boolean };

export type OrderByField = Exclude<FilterField, { kind: 'dataset' }>;

export interface OrderByClause<F = OrderByField> {
  field: F;
  descending: boolean;
}

// ---------------------------------------------------------------- traces

/** MLflow's trace attributes (`trace.status`, `trace.timestamp_ms`, ...) and ours. */
export const TRACE_ATTRIBUTES = [
  'trace_id',
  'request_id',
  'name',
  'status',
  'timestamp_ms',
  'execution_time_ms',
  'experiment_id',
  'span_count',
  'error_count',
  'tokens',
  'tokens_in',
  'tokens_out',
  'cost',
  'ttft_ms',
  'session',
  'user',
  'run_id',
  'prompt',
  'eval_run_id',
  'flagged',
] as const;
export type TraceAttribute = (typeof TRACE_ATTRIBUTES)[number];

export const NUMERIC_TRACE_ATTRIBUTES: ReadonlySet<TraceAttribute> = new Set<TraceAttribute>([
  'timestamp_ms',
  'execution_time_ms',
  'experiment_id',
  'span_count',
  'error_count',
  'tokens',
  'tokens_in',
  'tokens_out',
  'cost',
  'ttft_ms',
  'flagged',
]);

/** `span.<field>`: the trace has a span whose field matches. */
export const SPAN_FIELDS = ['name', 'type', 'model', 'status'] as const;
export type SpanField = (typeof SPAN_FIELDS)[number];

export type TraceFilterField =
  | { kind: 'trace'; name: TraceAttribute }
  | { kind: 'tag'; key: string }
  | { kind: 'metadata'; key: string }
  | { kind: 'span'; name: SpanField };

export type TraceOrderByField = Exclude<TraceFilterField, { kind: 'span' }>;
