// The run-search filter language: MLflow's `search_runs` filter and order_by syntax plus our
// extensions (numeric params/tags, duration, created, ILIKE everywhere), parsed to a typed AST.
// This file says what the fields of a run are; the grammar is search/filterGrammar.ts.
// Pure: turning the AST into SQL is the store's job (runSearchSql.ts).

import type {
  DatasetField,
  FilterExpr,
  FilterField,
  OrderByClause,
  OrderByField,
  RunAttribute,
} from '../model/filter.ts';
import { DATASET_FIELDS, NUMERIC_ATTRIBUTES, RUN_ATTRIBUTES } from '../model/filter.ts';
import {
  NULL_OPS,
  NUMERIC_OPS,
  parseFilter,
  parseOrderByClauses,
  STRING_OPS,
} from '../search/filterGrammar.ts';
import type { FieldRule, FilterGrammar } from '../search/filterGrammar.ts';

// end_time is null while a run is active, and so is duration; the other columns never are.
const NULLABLE_ATTRIBUTES: ReadonlySet<RunAttribute> = new Set<RunAttribute>([
  'end_time',
  'duration',
]);

// A Map, not an object literal, so that `constructor.x` or `toString.x` is an unknown prefix.
const PREFIXES: ReadonlyMap<string, FilterField['kind']> = new Map([
  ['metrics', 'metric'],
  ['metric', 'metric'],
  ['params', 'param'],
  ['param', 'param'],
  ['parameters', 'param'],
  ['parameter', 'param'],
  ['tags', 'tag'],
  ['tag', 'tag'],
  ['attributes', 'attribute'],
  ['attribute', 'attribute'],
  ['attr', 'attribute'],
  ['run', 'attribute'],
  ['datasets', 'dataset'],
  ['dataset', 'dataset'],
]);

const METRIC_RULE: FieldRule = {
  ops: { ...NUMERIC_OPS, ...NULL_OPS },
  allowed: 'metrics allow =, !=, <, <=, >, >= with a number, and IS NULL / IS NOT NULL',
};
const KEYED_STRING_RULE = (what: string): FieldRule => ({
  ops: { ...STRING_OPS, '<': 'number', '<=': 'number', '>': 'number', '>=': 'number', ...NULL_OPS },
  allowed:
    `${what} allow =, !=, LIKE, ILIKE, IN, NOT IN with a quoted string, ` +
    '<, <=, >, >= with a number, and IS NULL / IS NOT NULL',
});
const PARAM_RULE = KEYED_STRING_RULE('params');
const TAG_RULE = KEYED_STRING_RULE('tags');
const STRING_ATTRIBUTE_RULE: FieldRule = {
  ops: STRING_OPS,
  allowed: 'this attribute allows =, !=, LIKE, ILIKE, IN, NOT IN with quoted strings',
};
const NUMERIC_ATTRIBUTE_RULE: FieldRule = {
  ops: { ...NUMERIC_OPS, IN: 'number', 'NOT IN': 'number' },
  allowed: 'this attribute allows =, !=, <, <=, >, >=, IN, NOT IN with numbers',
};
const NULLABLE_NUMERIC_ATTRIBUTE_RULE: FieldRule = {
  ops: { ...NUMERIC_ATTRIBUTE_RULE.ops, ...NULL_OPS },
  allowed:
    'this attribute allows =, !=, <, <=, >, >=, IN, NOT IN with numbers, and IS NULL / IS NOT NULL',
};
const DATASET_RULE: FieldRule = {
  ops: STRING_OPS,
  allowed: 'datasets allow =, !=, LIKE, ILIKE, IN, NOT IN with quoted strings',
};

const isRunAttribute = (name: string): name is RunAttribute =>
  (RUN_ATTRIBUTES as readonly string[]).includes(name);

const RUN_GRAMMAR: FilterGrammar<FilterField> = {
  fieldHint: 'metrics.acc, params.lr, tags.team, attributes.status or datasets.name',
  example: 'metrics.acc > 0.9',
  orderByHint: 'metrics.acc, params.lr, tags.team or attributes.start_time',

  resolveField(tok, fail): FilterField {
    const kind = PREFIXES.get(tok.prefix.toLowerCase());
    if (!kind) {
      return fail(
        tok.pos,
        tok.prefix,
        `unknown prefix '${tok.prefix}': fields look like ${this.fieldHint}`,
      );
    }
    if (kind === 'attribute') {
      const name = tok.key.toLowerCase();
      if (!isRunAttribute(name)) {
        return fail(
          tok.keyPos,
          tok.key,
          `unknown attribute '${tok.key}'; valid attributes are ${RUN_ATTRIBUTES.join(', ')}`,
        );
      }
      return { kind, name };
    }
    if (kind === 'dataset') {
      const name = tok.key.toLowerCase();
      if (!(DATASET_FIELDS as readonly string[]).includes(name)) {
        return fail(
          tok.keyPos,
          tok.key,
          `unknown dataset field '${tok.key}'; valid fields are ${DATASET_FIELDS.join(', ')}`,
        );
      }
      return { kind, name: name as DatasetField };
    }
    return { kind, key: tok.key } as FilterField;
  },

  rule(field) {
    switch (field.kind) {
      case 'metric':
        return METRIC_RULE;
      case 'param':
        return PARAM_RULE;
      case 'tag':
        return TAG_RULE;
      case 'dataset':
        return DATASET_RULE;
      case 'attribute':
        if (!NUMERIC_ATTRIBUTES.has(field.name)) return STRING_ATTRIBUTE_RULE;
        return NULLABLE_ATTRIBUTES.has(field.name)
          ? NULLABLE_NUMERIC_ATTRIBUTE_RULE
          : NUMERIC_ATTRIBUTE_RULE;
    }
  },

  bareField(word) {
    const name = word.toLowerCase();
    if (!isRunAttribute(name)) return undefined;
    return { field: { kind: 'attribute', name }, written: `attributes.${name}` };
  },

  // Experiment ids are strings in MLflow's API but numbers in the store: take either.
  coerce(field, expected, value) {
    if (
      expected === 'number' &&
      field.kind === 'attribute' &&
      field.name === 'experiment_id' &&
      typeof value === 'string' &&
      /^\s*\d+\s*$/.test(value)
    ) {
      return Number(value);
    }
    return undefined;
  },

  numberHint(field) {
    if (field.kind !== 'attribute' || field.name === 'experiment_id') return '';
    return field.name === 'duration' ? ' (milliseconds)' : ' (milliseconds since the epoch)';
  },

  stringHint(field) {
    return field.kind === 'param' || field.kind === 'tag'
      ? '; use <, <=, >, >= to compare as numbers'
      : '';
  },

  unorderable(field) {
    return field.kind === 'dataset' ? 'runs cannot be ordered by a dataset field' : undefined;
  },
};

/** Parses a filter; `undefined` for an empty or blank one, which means "every run". */
export function parseRunFilter(text: string): FilterExpr | undefined {
  return parseFilter(text, RUN_GRAMMAR);
}

/**
 * Parses MLflow order_by entries (`metrics.acc DESC`, `params.lr`, `start_time ASC`).
 * Blank entries are skipped; an entry's error positions are within that entry.
 */
export function parseOrderBy(clauses: readonly string[]): OrderByClause[] {
  return parseOrderByClauses(clauses, RUN_GRAMMAR) as OrderByClause<OrderByField>[];
}
