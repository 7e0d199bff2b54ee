// The trace-search filter language: MLflow's `search_traces` filter (`trace.status = 'ERROR'`,
// `trace.timestamp_ms > ...`, `trace.execution_time_ms > 2000`, `tags.k = 'v'`,
// `metadata.k = 'v'`, `span.name`, `span.type = 'TOOL'`) with the run filter's OR, IN,
// NOT and parentheses, plus our rollups (tokens, cost, session, ...). This file says what the
// fields of a trace are; the grammar is search/filterGrammar.ts.

import type {
  FilterExpr,
  OrderByClause,
  SpanField,
  TraceAttribute,
  TraceFilterField,
  TraceOrderByField,
} from '../model/filter.ts';
import { NUMERIC_TRACE_ATTRIBUTES, SPAN_FIELDS, TRACE_ATTRIBUTES } from '../model/filter.ts';
import { SPAN_TYPES } from '../model/tracing.ts';
import {
  NULL_OPS,
  NUMERIC_OPS,
  parseFilter,
  parseOrderByClauses,
  STRING_OPS,
} from '../search/filterGrammar.ts';
import type { FieldRule, FilterGrammar } from '../search/filterGrammar.ts';

const PREFIXES: ReadonlyMap<string, TraceFilterField['kind']> = new Map([
  ['trace', 'trace'],
  ['attributes', 'trace'],
  ['attribute', 'trace'],
  ['attr', 'trace'],
  ['tags', 'tag'],
  ['tag', 'tag'],
  ['metadata', 'metadata'],
  ['request_metadata', 'metadata'],
  ['span', 'span'],
  ['spans', 'span'],
]);

// MLflow's names for the same attributes.
const ALIASES: ReadonlyMap<string, TraceAttribute> = new Map([
  ['timestamp', 'timestamp_ms'],
  ['start_time', 'timestamp_ms'],
  ['execution_time', 'execution_time_ms'],
  ['duration', 'execution_time_ms'],
  ['state', 'status'],
  ['session_id', 'session'],
  ['user_id', 'user'],
  ['run', 'run_id'],
]);

// Null until known: no token counts, no price, no streamed call, no link.
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

const numericRule = (nullable: boolean): FieldRule => ({
  ops: { ...NUMERIC_OPS, IN: 'number', 'NOT IN': 'number', ...(nullable ? NULL_OPS : {}) },
  allowed:
    'this attribute allows =, !=, <, <=, >, >=, IN, NOT IN with numbers' +
    (nullable ? ', and IS NULL / IS NOT NULL' : ''),
});
const stringRule = (nullable: boolean): FieldRule => ({
  ops: { ...STRING_OPS, ...(nullable ? NULL_OPS : {}) },
  allowed:
    'this attribute allows =, !=, LIKE, ILIKE, IN, NOT IN with quoted strings' +
    (nullable ? ', and IS NULL / IS NOT NULL' : ''),
});
const KEYED_RULE = (what: string): FieldRule => ({
  ops: { ...STRING_OPS, ...NULL_OPS },
  allowed: `${what} allow =, !=, LIKE, ILIKE, IN, NOT IN with a quoted string, and IS NULL / IS NOT NULL`,
});
const SPAN_RULE: FieldRule = {
  ops: STRING_OPS,
  allowed: `span fields allow =, !=, LIKE, ILIKE, IN, NOT IN with quoted strings (span.type: ${SPAN_TYPES.join(', ')}; span.status: OK, ERROR, UNSET)`,
};

function attribute(name: string): TraceAttribute | undefined {
  const lower = name.toLowerCase();
  if ((TRACE_ATTRIBUTES as readonly string[]).includes(lower)) return lower as TraceAttribute;
  return ALIASES.get(lower);
}

const TRACE_GRAMMAR: FilterGrammar<TraceFilterField> = {
  fieldHint: 'trace.status, trace.execution_time_ms, tags.k, metadata.k, span.name or span.type',
  example: "trace.status = 'ERROR'",
  orderByHint: 'trace.timestamp_ms, trace.execution_time_ms, trace.cost or tags.k',

  resolveField(tok, fail): TraceFilterField {
    const kind = PREFIXES.get(tok.prefix.toLowerCase());
    if (!kind) {
      return fail(
        tok.pos,
        tok.prefix,
        `unknown prefix '${tok.prefix}': fields look like ${this.fieldHint}`,
      );
    }
    if (kind === 'trace') {
      const name = attribute(tok.key);
      if (!name) {
        return fail(
          tok.keyPos,
          tok.key,
          `unknown trace attribute '${tok.key}'; valid ones are ${TRACE_ATTRIBUTES.join(', ')}`,
        );
      }
      return { kind, name };
    }
    if (kind === 'span') {
      const name = tok.key.toLowerCase();
      if (!(SPAN_FIELDS as readonly string[]).includes(name)) {
        return fail(
          tok.keyPos,
          tok.key,
          `unknown span field '${tok.key}'; valid fields are ${SPAN_FIELDS.join(', ')}`,
        );
      }
      return { kind, name: name as SpanField };
    }
    return { kind, key: tok.key };
  },

  rule(field) {
    switch (field.kind) {
      case 'tag':
        return KEYED_RULE('tags');
      case 'metadata':
        return KEYED_RULE('metadata');
      case 'span':
        return SPAN_RULE;
      case 'trace':
        return NUMERIC_TRACE_ATTRIBUTES.has(field.name)
          ? numericRule(NULLABLE.has(field.name))
          : stringRule(NULLABLE.has(field.name));
    }
  },

  bareField(word) {
    const name = attribute(word);
    return name ? { field: { kind: 'trace', name }, written: `trace.${name}` } : undefined;
  },

  coerce(field, expected, value) {
    // Experiment ids are strings in MLflow's API but numbers in the store: take either.
    if (
      expected === 'number' &&
      field.kind === 'trace' &&
      field.name === 'experiment_id' &&
      typeof value === 'string' &&
      /^\s*\d+\s*$/.test(value)
    ) {
      return Number(value);
    }
    return undefined;
  },

  numberHint(field) {
    if (field.kind !== 'trace') return '';
    if (field.name === 'timestamp_ms') return ' (milliseconds since the epoch)';
    if (field.name === 'execution_time_ms' || field.name === 'ttft_ms') return ' (milliseconds)';
    if (field.name === 'cost') return ' (US dollars)';
    return '';
  },

  unorderable(field) {
    return field.kind === 'span' ? 'traces cannot be ordered by a span field' : undefined;
  },
};

/** Parses a trace filter; `undefined` for an empty or blank one, which means "every trace". */
export function parseTraceFilter(text: string): FilterExpr<TraceFilterField> | undefined {
  return parseFilter(text, TRACE_GRAMMAR);
}

/** Parses order_by entries such as `timestamp_ms DESC` or `trace.cost`. */
export function parseTraceOrderBy(clauses: readonly string[]): OrderByClause<TraceOrderByField>[] {
  return parseOrderByClauses(clauses, TRACE_GRAMMAR) as OrderByClause<TraceOrderByField>[];
}
