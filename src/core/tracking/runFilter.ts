// The run-search filter language: MLflow's `search_runs` filter and order_by syntax plus our
// extensions (numeric params/tags, duration, created, ILIKE everywhere), parsed to a typed AST.
// Pure: turning the AST into SQL is the store's job (runSearchSql.ts).

import { RunFilterError } from '../model/errors.ts';
import type {
  ComparisonOp,
  DatasetField,
  FilterExpr,
  FilterField,
  FilterValue,
  OrderByClause,
  OrderByField,
  RunAttribute,
} from '../model/filter.ts';
import { DATASET_FIELDS, NUMERIC_ATTRIBUTES, RUN_ATTRIBUTES } from '../model/filter.ts';

// end_time is null while a run is active, and so is duration; the other columns never are.
const NULLABLE_ATTRIBUTES: ReadonlySet<RunAttribute> = new Set<RunAttribute>([
  'end_time',
  'duration',
]);

// ---------------------------------------------------------------- tokens

type Token =
  | { kind: 'field'; pos: number; text: string; prefix: string; key: string; keyPos: number }
  | { kind: 'word'; pos: number; text: string; upper: string }
  | { kind: 'number'; pos: number; text: string; value: number }
  | { kind: 'string'; pos: number; text: string; value: string }
  | { kind: 'op'; pos: number; text: string }
  | { kind: '(' | ')' | ','; pos: number; text: string }
  | { kind: 'eof'; pos: number; text: '' }
  // Lexing errors surface only when the parser reaches them, so an earlier mistake is
  // reported first.
  | { kind: 'error'; pos: number; text: string; reason: string };

const IDENT_START = /[A-Za-z_]/;
const IDENT = /[A-Za-z0-9_]*/y;
const BARE_KEY = /[A-Za-z0-9_\-./]+/y;
const NUMBER = /-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const OPERATOR_CHARS = /[<>=!]+/y;
const WHITESPACE = /\s*/y;

function matchAt(re: RegExp, text: string, pos: number): string | undefined {
  re.lastIndex = pos;
  return re.exec(text)?.[0];
}

/**
 * Reads a quoted run starting at `start` (the opening quote). A backslash escapes a quote or
 * a backslash, and a doubled quote stands for one; any other backslash is kept, so Windows
 * paths such as 'C:\data' need no doubling.
 */
function readQuoted(text: string, start: number): { value: string; end: number } | undefined {
  const quote = text[start]!;
  let value = '';
  let i = start + 1;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\\') {
      const next = text[i + 1];
      if (next === quote || next === '\\') {
        value += next;
        i += 2;
        continue;
      }
      value += c;
      i += 1;
      continue;
    }
    if (c === quote) {
      if (text[i + 1] === quote) {
        value += quote;
        i += 2;
        continue;
      }
      return { value, end: i + 1 };
    }
    value += c;
    i += 1;
  }
  return undefined;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  for (;;) {
    pos += matchAt(WHITESPACE, text, pos)!.length;
    if (pos >= text.length) {
      tokens.push({ kind: 'eof', pos: text.length, text: '' });
      return tokens;
    }
    const c = text[pos]!;
    const start = pos;
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: c, pos, text: c });
      pos += 1;
    } else if (c === "'" || c === '"') {
      const quoted = readQuoted(text, pos);
      if (!quoted) {
        tokens.push({
          kind: 'error',
          pos,
          text: text.slice(pos),
          reason: `unclosed string: add the closing ${c}`,
        });
        return tokens;
      }
      tokens.push({ kind: 'string', pos, text: text.slice(pos, quoted.end), value: quoted.value });
      pos = quoted.end;
    } else if (/[-.\d]/.test(c) && matchAt(NUMBER, text, pos)) {
      const raw = matchAt(NUMBER, text, pos)!;
      const value = Number(raw);
      pos += raw.length;
      if (!Number.isFinite(value)) {
        tokens.push({ kind: 'error', pos: start, text: raw, reason: 'number out of range' });
        return tokens;
      }
      tokens.push({ kind: 'number', pos: start, text: raw, value });
    } else if (/[<>=!]/.test(c)) {
      // A whole run of operator characters is one token, so `>>` is reported as itself.
      const raw = matchAt(OPERATOR_CHARS, text, pos)!;
      tokens.push({ kind: 'op', pos, text: raw });
      pos += raw.length;
    } else if (IDENT_START.test(c)) {
      const word = matchAt(IDENT, text, pos)!;
      pos += word.length;
      if (text[pos] !== '.') {
        tokens.push({ kind: 'word', pos: start, text: word, upper: word.toUpperCase() });
        continue;
      }
      pos += 1;
      const keyPos = pos;
      const q = text[pos];
      if (q === '"' || q === '`') {
        const quoted = readQuoted(text, pos);
        if (!quoted) {
          tokens.push({
            kind: 'error',
            pos,
            text: text.slice(pos),
            reason: `unclosed quoted key: add the closing ${q}`,
          });
          return tokens;
        }
        pos = quoted.end;
        const key = quoted.value;
        tokens.push({
          kind: 'field',
          pos: start,
          text: text.slice(start, pos),
          prefix: word,
          key,
          keyPos,
        });
      } else {
        const key = matchAt(BARE_KEY, text, pos);
        if (!key) {
          tokens.push({
            kind: 'error',
            pos: start,
            text: text.slice(start, pos),
            reason: `expected a key after '${word}.' (quote it with " or \` if it has spaces)`,
          });
          return tokens;
        }
        pos += key.length;
        tokens.push({
          kind: 'field',
          pos: start,
          text: text.slice(start, pos),
          prefix: word,
          key,
          keyPos,
        });
      }
    } else {
      tokens.push({ kind: 'error', pos, text: c, reason: `unexpected character '${c}'` });
      return tokens;
    }
  }
}

// ---------------------------------------------------------------- fields and type rules

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

const FIELD_HINT = 'metrics.acc, params.lr, tags.team, attributes.status or datasets.name';

type FieldToken = Extract<Token, { kind: 'field' }>;

function resolveField(tok: FieldToken, fail: Fail): FilterField {
  const kind = PREFIXES.get(tok.prefix.toLowerCase());
  if (!kind) {
    return fail(
      tok.pos,
      tok.prefix,
      `unknown prefix '${tok.prefix}': fields look like ${FIELD_HINT}`,
    );
  }
  if (kind === 'attribute') {
    const name = tok.key.toLowerCase();
    if (!(RUN_ATTRIBUTES as readonly string[]).includes(name)) {
      return fail(
        tok.keyPos,
        tok.key,
        `unknown attribute '${tok.key}'; valid attributes are ${RUN_ATTRIBUTES.join(', ')}`,
      );
    }
    return { kind, name: name as RunAttribute };
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
  return { kind, key: tok.key };
}

type OpName = ComparisonOp | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN' | 'IS NULL' | 'IS NOT NULL';

type ValueKind = 'number' | 'string' | 'none';

interface FieldRule {
  ops: Partial<Record<OpName, ValueKind>>;
  /** Said in every type error, so the user sees what would work. */
  allowed: string;
}

const NUMERIC_OPS = {
  '=': 'number',
  '!=': 'number',
  '<': 'number',
  '<=': 'number',
  '>': 'number',
  '>=': 'number',
} as const;
const STRING_OPS = {
  '=': 'string',
  '!=': 'string',
  LIKE: 'string',
  ILIKE: 'string',
  IN: 'string',
  'NOT IN': 'string',
} as const;
const NULL_OPS = { 'IS NULL': 'none', 'IS NOT NULL': 'none' } as const;

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

function ruleFor(field: FilterField): FieldRule {
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
}

type Fail = (position: number, token: string, reason: string) => never;

interface Located<T> {
  value: T;
  tok: Token;
}

/** Checks a value against the field's rule for the operator; returns it in its meaning's type. */
function typedValue(
  field: FilterField,
  fieldText: string,
  op: OpName,
  expected: ValueKind,
  v: Located<FilterValue>,
  fail: Fail,
): FilterValue {
  // Experiment ids are strings in MLflow's API but numbers in the store: take either.
  if (
    expected === 'number' &&
    field.kind === 'attribute' &&
    field.name === 'experiment_id' &&
    typeof v.value === 'string' &&
    /^\s*\d+\s*$/.test(v.value)
  ) {
    return Number(v.value);
  }
  if (expected === 'number' && typeof v.value !== 'number') {
    const unit =
      field.kind === 'attribute' && field.name !== 'experiment_id'
        ? field.name === 'duration'
          ? ' (milliseconds)'
          : ' (milliseconds since the epoch)'
        : '';
    return fail(
      v.tok.pos,
      v.tok.text,
      `'${fieldText} ${op}' takes a number${unit}: write the value without quotes`,
    );
  }
  if (expected === 'string' && typeof v.value !== 'string') {
    const numeric =
      field.kind === 'param' || field.kind === 'tag'
        ? '; use <, <=, >, >= to compare as numbers'
        : '';
    return fail(
      v.tok.pos,
      v.tok.text,
      `'${fieldText} ${op}' takes a quoted string, as in '${v.tok.text}'${numeric}`,
    );
  }
  return v.value;
}

// ---------------------------------------------------------------- parser

const COMPARISON_HINT = 'expected a comparison operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, IS)';
const VALUE_HINT = 'expected a value: a number or a quoted string';

class Parser {
  private index = 0;
  private readonly tokens: Token[];

  constructor(
    private readonly text: string,
    private readonly what: 'filter' | 'order_by',
  ) {
    this.tokens = tokenize(text);
  }

  readonly fail: Fail = (position, token, reason) => {
    throw new RunFilterError(position, token, reason, this.text, this.what);
  };

  peek(): Token {
    const tok = this.tokens[this.index] ?? this.tokens[this.tokens.length - 1]!;
    if (tok.kind === 'error') this.fail(tok.pos, tok.text, tok.reason);
    return tok;
  }

  next(): Token {
    const tok = this.peek();
    if (tok.kind !== 'eof') this.index += 1;
    return tok;
  }

  isWord(tok: Token, ...words: string[]): boolean {
    return tok.kind === 'word' && words.includes(tok.upper);
  }

  failAt(tok: Token, reason: string): never {
    return this.fail(tok.pos, tok.text, reason);
  }

  parseFilter(): FilterExpr {
    const expr = this.parseOr();
    const tok = this.peek();
    if (tok.kind === ')') this.failAt(tok, "unmatched ')'");
    if (tok.kind !== 'eof') this.failAt(tok, 'expected AND, OR or the end of the filter');
    return expr;
  }

  parseOr(): FilterExpr {
    const operands = [this.parseAnd()];
    while (this.isWord(this.peek(), 'OR')) {
      this.next();
      operands.push(this.parseAnd());
    }
    return operands.length === 1 ? operands[0]! : { type: 'or', operands };
  }

  parseAnd(): FilterExpr {
    const operands = [this.parseNot()];
    while (this.isWord(this.peek(), 'AND')) {
      this.next();
      operands.push(this.parseNot());
    }
    return operands.length === 1 ? operands[0]! : { type: 'and', operands };
  }

  parseNot(): FilterExpr {
    if (this.isWord(this.peek(), 'NOT')) {
      this.next();
      return { type: 'not', operand: this.parseNot() };
    }
    return this.parsePrimary();
  }

  parsePrimary(): FilterExpr {
    const tok = this.next();
    if (tok.kind === '(') {
      const inner = this.parseOr();
      const close = this.peek();
      if (close.kind !== ')') {
        this.failAt(
          close,
          `expected ')' to close the '(' at column ${tok.pos + 1}` +
            (close.kind === 'eof' ? '' : ', or AND / OR to continue'),
        );
      }
      this.next();
      return inner;
    }
    if (tok.kind === 'field') return this.parseComparison(tok);
    if (
      tok.kind === 'word' &&
      (RUN_ATTRIBUTES as readonly string[]).includes(tok.text.toLowerCase())
    ) {
      this.failAt(tok, `a field needs a prefix: write attributes.${tok.text.toLowerCase()}`);
    }
    if (tok.kind === 'eof') this.failAt(tok, `expected a condition such as metrics.acc > 0.9`);
    return this.failAt(tok, `expected a field such as ${FIELD_HINT}`);
  }

  parseComparison(fieldTok: FieldToken): FilterExpr {
    const field = resolveField(fieldTok, this.fail);
    const opTok = this.next();
    let op: OpName;
    if (opTok.kind === 'op') {
      if (!['=', '!=', '<>', '<', '<=', '>', '>='].includes(opTok.text)) {
        this.failAt(opTok, COMPARISON_HINT);
      }
      op = opTok.text === '<>' ? '!=' : (opTok.text as ComparisonOp);
    } else if (this.isWord(opTok, 'LIKE', 'ILIKE', 'IN')) {
      op = (opTok as { upper: OpName }).upper;
    } else if (this.isWord(opTok, 'NOT')) {
      const inTok = this.next();
      if (!this.isWord(inTok, 'IN')) this.failAt(inTok, 'expected IN after NOT');
      op = 'NOT IN';
    } else if (this.isWord(opTok, 'IS')) {
      let negated = false;
      let nullTok = this.next();
      if (this.isWord(nullTok, 'NOT')) {
        negated = true;
        nullTok = this.next();
      }
      if (!this.isWord(nullTok, 'NULL')) {
        this.failAt(nullTok, 'expected NULL or NOT NULL after IS');
      }
      op = negated ? 'IS NOT NULL' : 'IS NULL';
    } else {
      return this.failAt(opTok, COMPARISON_HINT);
    }

    const rule = ruleFor(field);
    const expected = rule.ops[op];
    if (!expected) this.failAt(opTok, `${fieldTok.text} does not support ${op}; ${rule.allowed}`);

    switch (op) {
      case 'IS NULL':
      case 'IS NOT NULL':
        return { type: 'isNull', field, negated: op === 'IS NOT NULL' };
      case 'IN':
      case 'NOT IN': {
        const values = this.parseList().map((v) =>
          typedValue(field, fieldTok.text, op, expected, v, this.fail),
        );
        return { type: 'in', field, negated: op === 'NOT IN', values };
      }
      case 'LIKE':
      case 'ILIKE': {
        const pattern = typedValue(
          field,
          fieldTok.text,
          op,
          expected,
          this.parseValue(),
          this.fail,
        );
        return { type: 'like', field, caseInsensitive: op === 'ILIKE', pattern: pattern as string };
      }
      default: {
        const value = typedValue(field, fieldTok.text, op, expected, this.parseValue(), this.fail);
        return { type: 'compare', field, op, value };
      }
    }
  }

  parseValue(): Located<FilterValue> {
    const tok = this.next();
    if (tok.kind === 'number' || tok.kind === 'string') return { value: tok.value, tok };
    return this.failAt(tok, VALUE_HINT);
  }

  parseList(): Located<FilterValue>[] {
    const open = this.next();
    if (open.kind !== '(')
      this.failAt(open, "expected '(' to start the IN list, as in IN ('a', 'b')");
    const values = [this.parseValue()];
    for (;;) {
      const tok = this.next();
      if (tok.kind === ')') return values;
      if (tok.kind !== ',') this.failAt(tok, "expected ',' or ')' in the IN list");
      values.push(this.parseValue());
    }
  }

  parseOrderBy(): OrderByClause {
    const tok = this.next();
    let field: FilterField;
    if (tok.kind === 'field') {
      field = resolveField(tok, this.fail);
    } else if (
      tok.kind === 'word' &&
      (RUN_ATTRIBUTES as readonly string[]).includes(tok.text.toLowerCase())
    ) {
      // MLflow takes a bare attribute name in order_by (not in filters).
      field = { kind: 'attribute', name: tok.text.toLowerCase() as RunAttribute };
    } else {
      return this.failAt(
        tok,
        `expected a field such as metrics.acc, params.lr, tags.team or attributes.start_time`,
      );
    }
    if (field.kind === 'dataset') {
      this.failAt(tok, 'runs cannot be ordered by a dataset field');
    }
    let descending = false;
    const dir = this.next();
    if (this.isWord(dir, 'ASC', 'DESC')) {
      descending = (dir as { upper: string }).upper === 'DESC';
    } else if (dir.kind !== 'eof') {
      this.failAt(dir, 'expected ASC, DESC or the end of the order_by entry');
    }
    const end = this.next();
    if (end.kind !== 'eof') this.failAt(end, 'expected the end of the order_by entry');
    return { field: field as OrderByField, descending };
  }
}

/** Parses a filter; `undefined` for an empty or blank one, which means "every run". */
export function parseRunFilter(text: string): FilterExpr | undefined {
  if (text.trim() === '') return undefined;
  return new Parser(text, 'filter').parseFilter();
}

/**
 * Parses MLflow order_by entries (`metrics.acc DESC`, `params.lr`, `start_time ASC`).
 * Blank entries are skipped; an entry's error positions are within that entry.
 */
export function parseOrderBy(clauses: readonly string[]): OrderByClause[] {
  return clauses
    .filter((clause) => clause.trim() !== '')
    .map((clause) => new Parser(clause, 'order_by').parseOrderBy());
}
