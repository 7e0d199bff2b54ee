// Compiles a parsed run filter and order_by (model/filter.ts, parsed by tracking/runFilter.ts) to SQLite over the `runs`
// table aliased `r`. User values only ever travel as `?` parameters, never in the SQL text.

import type { ViewType } from '../model/tracking.ts';
import type { FilterExpr, FilterField, OrderByClause, RunAttribute } from '../model/filter.ts';

export type SqlParam = string | number | null;

export interface SqlFragment {
  sql: string;
  params: SqlParam[];
}

// Keyed entities live in side tables joined on rid; `value` is the column compared.
const KEYED_TABLES = {
  metric: { table: 'latest_metrics', alias: 'lm' },
  param: { table: 'params', alias: 'p' },
  tag: { table: 'tags', alias: 't' },
} as const;

const ATTRIBUTE_COLUMNS: Readonly<Record<RunAttribute, string>> = {
  run_id: 'r.run_uuid',
  run_name: 'r.name',
  status: 'r.status',
  user_id: 'r.user_id',
  start_time: 'r.start_time',
  end_time: 'r.end_time',
  artifact_uri: 'r.artifact_uri',
  experiment_id: 'r.experiment_id',
  created: 'r.start_time',
  duration: '(r.end_time - r.start_time)',
};

// Null while the run is active; every other attribute column is NOT NULL.
const NULLABLE_COLUMNS: ReadonlySet<RunAttribute> = new Set<RunAttribute>(['end_time', 'duration']);

const placeholders = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

/**
 * The condition on a value column for one comparison node. `column` is the value column;
 * `numericText` says the column holds text that a numeric comparison must cast.
 */
function valueCondition(
  expr: Exclude<FilterExpr, { type: 'and' | 'or' | 'not' | 'isNull' }>,
  column: string,
  numericText: boolean,
  params: SqlParam[],
): string {
  switch (expr.type) {
    case 'compare': {
      params.push(expr.value);
      if (numericText && typeof expr.value === 'number') {
        // `v = CAST(v AS REAL)` holds only when v is wholly a number: comparing text with a
        // REAL-affinity expression applies numeric affinity to the text, which converts it only
        // if it is a well-formed number ('0.01', '1e-3', '10'); 'abc' or '1.5x' stay text and
        // are unequal. Plain CAST would read 'abc' as 0 and '1.5x' as 1.5.
        return `(${column} = CAST(${column} AS REAL) AND CAST(${column} AS REAL) ${expr.op} ?)`;
      }
      return `${column} ${expr.op} ?`;
    }
    case 'like':
      params.push(expr.pattern);
      // The store runs with case_sensitive_like ON, as MLflow's LIKE is case-sensitive.
      return expr.caseInsensitive ? `lower(${column}) LIKE lower(?)` : `${column} LIKE ?`;
    case 'in':
      params.push(...expr.values);
      return `${column} ${expr.negated ? 'NOT IN' : 'IN'} (${placeholders(expr.values.length)})`;
  }
}

function leafCondition(
  expr: Exclude<FilterExpr, { type: 'and' | 'or' | 'not' }>,
  params: SqlParam[],
): string {
  const field: FilterField = expr.field;
  switch (field.kind) {
    case 'metric':
    case 'param':
    case 'tag': {
      const { table, alias } = KEYED_TABLES[field.kind];
      params.push(field.key);
      const scope = `SELECT 1 FROM ${table} ${alias} WHERE ${alias}.rid = r.rid AND ${alias}.key = ?`;
      if (expr.type === 'isNull') return `${expr.negated ? '' : 'NOT '}EXISTS (${scope})`;
      // A run without the key matches no comparison, `!=` and NOT IN included (as in MLflow).
      // NaN metric points are stored as NULL, so they match none either.
      const cond = valueCondition(expr, `${alias}.value`, field.kind !== 'metric', params);
      return `EXISTS (${scope} AND ${cond})`;
    }
    case 'dataset': {
      if (expr.type === 'isNull') throw new Error('datasets do not support IS NULL');
      const cond = valueCondition(expr, `d.${field.name}`, false, params);
      return `EXISTS (SELECT 1 FROM datasets d WHERE d.rid = r.rid AND ${cond})`;
    }
    case 'attribute': {
      const column = ATTRIBUTE_COLUMNS[field.name];
      if (expr.type === 'isNull') return `${column} IS ${expr.negated ? 'NOT ' : ''}NULL`;
      const cond = valueCondition(expr, column, false, params);
      // Guarding nullable columns keeps every condition strictly true or false, so that
      // NOT is the complement of what it wraps rather than SQL's NULL-propagating NOT.
      return NULLABLE_COLUMNS.has(field.name) ? `(${column} IS NOT NULL AND ${cond})` : cond;
    }
  }
}

function condition(expr: FilterExpr, params: SqlParam[]): string {
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

/** A boolean SQL expression over `runs r`; `1 = 1` when there is no filter. */
export function compileRunFilter(expr: FilterExpr | undefined): {
  where: string;
  params: SqlParam[];
} {
  if (!expr) return { where: '1 = 1', params: [] };
  const params: SqlParam[] = [];
  const where = condition(expr, params);
  return { where, params };
}

/**
 * LEFT JOINs (aliases o0, o1, ...) and an ORDER BY list. `params` belong to `joins`, so they
 * come before any WHERE parameters in the statement; compileRunQuery assembles it in order.
 */
export function compileOrderBy(clauses: readonly OrderByClause[]): {
  joins: string;
  orderBy: string;
  params: (string | number)[];
} {
  const joins: string[] = [];
  const terms: string[] = [];
  const params: (string | number)[] = [];
  clauses.forEach((clause, i) => {
    const dir = clause.descending ? 'DESC' : 'ASC';
    const field = clause.field;
    if (field.kind === 'attribute') {
      const column = ATTRIBUTE_COLUMNS[field.name];
      if (NULLABLE_COLUMNS.has(field.name)) terms.push(`${column} IS NULL`);
      terms.push(`${column} ${dir}`);
      return;
    }
    const alias = `o${i}`;
    const { table } = KEYED_TABLES[field.kind];
    joins.push(`LEFT JOIN ${table} ${alias} ON ${alias}.rid = r.rid AND ${alias}.key = ?`);
    params.push(field.key);
    // Runs without the key sort last whichever the direction, as in MLflow; for metrics a
    // NaN latest value sorts after real values and before a missing metric.
    if (field.kind === 'metric') {
      terms.push(
        `CASE WHEN ${alias}.rid IS NULL THEN 2 WHEN ${alias}.is_nan = 1 THEN 1 ELSE 0 END`,
      );
    } else {
      terms.push(`${alias}.rid IS NULL`);
    }
    terms.push(`${alias}.value ${dir}`);
  });
  // Ties fall back to MLflow's default order, and run_uuid makes paging deterministic.
  terms.push('r.start_time DESC', 'r.run_uuid ASC');
  return { joins: joins.join(' '), orderBy: terms.join(', '), params };
}

/**
 * The complete `SELECT r.rid FROM runs r ... WHERE ... ORDER BY ...` without LIMIT, with its
 * parameters in statement order. `scope` is the caller's own condition on `r` (experiment ids,
 * lifecycle stage); it is ANDed with the filter.
 */
export function compileRunQuery(query: {
  filter: FilterExpr | undefined;
  orderBy: readonly OrderByClause[];
  scope?: { where: string; params: readonly SqlParam[] };
}): SqlFragment {
  const order = compileOrderBy(query.orderBy);
  const filter = compileRunFilter(query.filter);
  const where = query.scope ? `(${query.scope.where}) AND (${filter.where})` : filter.where;
  const sql = [
    'SELECT r.rid FROM runs r',
    order.joins,
    `WHERE ${where}`,
    `ORDER BY ${order.orderBy}`,
  ]
    .filter((part) => part !== '')
    .join(' ');
  return { sql, params: [...order.params, ...(query.scope?.params ?? []), ...filter.params] };
}

/**
 * Which runs a search looks at before its filter: some experiments (none: all),
 * active / deleted / all, and optionally only top-level runs (`parentRunId: null`)
 * or the children of one run.
 */
export function runScope(scope: {
  experimentIds: readonly number[];
  viewType: ViewType;
  parentRunId?: string | null;
}): { where: string; params: SqlParam[] } {
  const clauses: string[] = [];
  const params: SqlParam[] = [];
  if (scope.experimentIds.length > 0) {
    clauses.push(`r.experiment_id IN (${scope.experimentIds.map(() => '?').join(',')})`);
    params.push(...scope.experimentIds);
  }
  if (scope.viewType !== 'ALL') {
    clauses.push('r.lifecycle_stage = ?');
    params.push(scope.viewType === 'DELETED_ONLY' ? 'deleted' : 'active');
  }
  if (scope.parentRunId === null) clauses.push('r.parent_run_uuid IS NULL');
  else if (scope.parentRunId !== undefined) {
    clauses.push('r.parent_run_uuid = ?');
    params.push(scope.parentRunId);
  }
  return { where: clauses.join(' AND ') || '1 = 1', params };
}
