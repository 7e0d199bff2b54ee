// The search filters' syntax tree: what a parsed filter or order_by says, with no logic.
// The parsers (tracking/runFilter.ts) build it; the store compiles it to SQL.

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

export type FilterExpr =
  | { type: 'and'; operands: FilterExpr[] }
  | { type: 'or'; operands: FilterExpr[] }
  | { type: 'not'; operand: FilterExpr }
  | { type: 'compare'; field: FilterField; op: ComparisonOp; value: FilterValue }
  | { type: 'like'; field: FilterField; caseInsensitive: boolean; pattern: string }
  | { type: 'in'; field: FilterField; negated: boolean; values: FilterValue[] }
  /** For metrics, params and tags: the run has no such key (`negated`: it has one). */
  | { type: 'isNull'; field: FilterField; negated: boolean };

export type OrderByField = Exclude<FilterField, { kind: 'dataset' }>;

export interface OrderByClause {
  field: OrderByField;
  descending: boolean;
}
