// Compiles a parsed trace filter and order_by (model/filter.ts, parsed by
// tracing/traceFilter.ts) to SQLite over the `traces` table aliased `t`. User values only
// ever travel as `?` parameters, never in the SQL text.

import type {
  FilterExpr,
  OrderByClause,
  TraceAttribute,
  TraceFilterField,
  TraceOrderByField,
} from '../model/filter.ts';

type SqlParam = string | number | null;

const COLUMNS: Readonly<Record<TraceAttribute, string>> = {
  trace_id: 't.trace_id',
  request_id: "('tr-' || t.trace_id)",
  name: 't.name',
  status: 't.state',
  timestamp_ms: 'coalesce(t.info_start_ms, t.start_ms)',
  execution_time_ms: 'coalesce(t.info_duration_ms, t.duration_ms)',
  experiment_id: 't.experiment_id',
  span_count: 't.span_count',
  error_count: 't.error_count',
  tokens:
    '(CASE WHEN t.tokens_in IS NULL AND t.tokens_out IS NULL THEN NULL ELSE coalesce(t.tokens_in, 0) + coalesce(t.tokens_out, 0) END)',
  tokens_in: 't.tokens_in',
  tokens_out: 't.tokens_out',
  cost: 't.cost',
  ttft_ms: 't.ttft_ms',
  session: 't.session_id',
  user: 't.user_id',
  run_id: 't.run_uuid',
  prompt: 't.prompt_name',
  eval_run_id: 't.eval_run_uuid',
  flagged: 't.flagged',
};

const NULLABLE: ReadonlySet<TraceAttribute> = new Set<TraceAttribute>([
  'experiment_id',
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
]);

const SPAN_STATUS: Readonly<Record<string, number>> = { UNSET: 0, OK: 1, ERROR: 2 };

const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');

function valueCondition(
  expr: Exclude<FilterExpr<TraceFilterField>, { type: 'and' | 'or' | 'not' | 'isNull' }>,
  column: string,
  params: SqlParam[],
): string {
  switch (expr.type) {
    case 'compare':
      params.push(expr.value);
      return `${column} ${expr.op} ?`;
    case 'like':
      params.push(expr.pattern);
      // The store runs with case_sensitive_like ON, as MLflow's LIKE is case-sensitive.
      return expr.caseInsensitive ? `lower(${column}) LIKE lower(?)` : `${column} LIKE ?`;
    case 'in':
      params.push(...expr.values);
      return `${column} ${expr.negated ? 'NOT IN' : 'IN'} (${placeholders(expr.values.length)})`;
  }
}

/** span.status compares names (OK, ERROR, UNSET) with the stored codes. */
function spanStatusExpr(
  expr: Exclude<FilterExpr<TraceFilterField>, { type: 'and' | 'or' | 'not' | 'isNull' }>,
): typeof expr {
  const code = (v: string | number) => SPAN_STATUS[String(v).toUpperCase()] ?? -1;
  if (expr.type === 'compare') return { ...expr, value: code(expr.value) };
  if (expr.type === 'in') return { ...expr, values: expr.values.map(code) };
  return expr;
}

function leafCondition(
  expr: Exclude<FilterExpr<TraceFilterField>, { type: 'and' | 'or' | 'not' }>,
  params: SqlParam[],
): string {
  const field = expr.field;
  switch (field.kind) {
    case 'tag':
    case 'metadata': {
      const table = field.kind === 'tag' ? 'trace_tags' : 'trace_metadata';
      params.push(field.key);
      const scope = `SELECT 1 FROM ${table} k WHERE k.tid = t.tid AND k.key = ?`;
      if (expr.type === 'isNull') return `${expr.negated ? '' : 'NOT '}EXISTS (${scope})`;
      return `EXISTS (${scope} AND ${valueCondition(expr, 'k.value', params)})`;
    }
    case 'span': {
      if (expr.type === 'isNull') throw new Error('span fields do not support IS NULL');
      const column = {
        name: 's.name',
        type: 's.span_type',
        model: 's.model',
        status: 's.status_code',
      }[field.name];
      const e = field.name === 'status' ? spanStatusExpr(expr) : expr;
      return `EXISTS (SELECT 1 FROM spans s WHERE s.tid = t.tid AND ${valueCondition(e, column, params)})`;
    }
    case 'trace': {
      const column = COLUMNS[field.name];
      if (expr.type === 'isNull') return `${column} IS ${expr.negated ? 'NOT ' : ''}NULL`;
      const cond = valueCondition(expr, column, params);
      // Guarding nullable columns keeps NOT the complement of what it wraps.
      return NULLABLE.has(field.name) ? `(${column} IS NOT NULL AND ${cond})` : cond;
    }
  }
}

function condition(expr: FilterExpr<TraceFilterField>, params: SqlParam[]): string {
  switch (expr.type) {
    case 'and':
    case 'or':
      return `(${expr.operands.map((e) => condition(e, params)).join(` ${expr.type.toUpperCase()} `)})`;
    case 'not':
      return `NOT (${condition(expr.operand, params)})`;
    default:
      return leafCondition(expr, params);
  }
}

/**
 * `SELECT t.* FROM traces t ... WHERE ... ORDER BY ...` without LIMIT, with its parameters in
 * statement order. Newest first unless ordered otherwise; trace_id makes paging deterministic.
 */
export function compileTraceQuery(query: {
  filter: FilterExpr<TraceFilterField> | undefined;
  orderBy: readonly OrderByClause<TraceOrderByField>[];
  experimentIds: readonly number[];
  /** Only the traces of this session (null: those without one). */
  sessionId?: string | null;
}): { sql: string; params: SqlParam[] } {
  const joinParams: SqlParam[] = [];
  const joins: string[] = [];
  const terms: string[] = [];
  query.orderBy.forEach((clause, i) => {
    const dir = clause.descending ? 'DESC' : 'ASC';
    const field = clause.field;
    if (field.kind === 'trace') {
      const column = COLUMNS[field.name];
      if (NULLABLE.has(field.name)) terms.push(`${column} IS NULL`);
      terms.push(`${column} ${dir}`);
      return;
    }
    const alias = `o${i}`;
    const table = field.kind === 'tag' ? 'trace_tags' : 'trace_metadata';
    joins.push(`LEFT JOIN ${table} ${alias} ON ${alias}.tid = t.tid AND ${alias}.key = ?`);
    joinParams.push(field.key);
    terms.push(`${alias}.tid IS NULL`, `${alias}.value ${dir}`);
  });
  terms.push('t.start_ms DESC', 't.tid DESC');
  const params: SqlParam[] = [...joinParams];
  const where: string[] = [];
  if (query.experimentIds.length > 0) {
    where.push(`t.experiment_id IN (${placeholders(query.experimentIds.length)})`);
    params.push(...query.experimentIds);
  }
  if (query.sessionId === null) where.push('t.session_id IS NULL');
  else if (query.sessionId !== undefined) {
    where.push('t.session_id = ?');
    params.push(query.sessionId);
  }
  if (query.filter) where.push(condition(query.filter, params));
  const sql = [
    'SELECT t.* FROM traces t',
    ...joins,
    where.length ? `WHERE ${where.join(' AND ')}` : '',
    `ORDER BY ${terms.join(', ')}`,
  ]
    .filter((p) => p !== '')
    .join(' ');
  return { sql, params };
}
