// The grammar the search filters share (runs, traces): MLflow's filter and order_by syntax
// with AND / OR / NOT, parentheses, IN / NOT IN, LIKE / ILIKE and IS [NOT] NULL, read into
// the syntax tree of model/filter.ts. What the fields are, and which operators and value
// types each takes, is the caller's: a FilterGrammar (tracking/runFilter.ts,
// tracing/traceFilter.ts). Errors name the column and the token, with a caret.

import { FilterError } from '../model/errors.ts';
import type { ComparisonOp, FilterExpr, FilterValue, OrderByClause } from '../model/filter.ts';

// ---------------------------------------------------------------- tokens

export type Token =
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

export function tokenize(text: string): Token[] {
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

// ---------------------------------------------------------------- operators and rules

export type OpName = ComparisonOp | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN' | 'IS NULL' | 'IS NOT NULL';

export type ValueKind = 'number' | 'string' | 'none';

export interface FieldRule {
  ops: Partial<Record<OpName, ValueKind>>;
  /** Said in every type error, so the user sees what would work. */
  allowed: string;
}

export const NUMERIC_OPS = {
  '=': 'number',
  '!=': 'number',
  '<': 'number',
  '<=': 'number',
  '>': 'number',
  '>=': 'number',
} as const;
export const STRING_OPS = {
  '=': 'string',
  '!=': 'string',
  LIKE: 'string',
  ILIKE: 'string',
  IN: 'string',
  'NOT IN': 'string',
} as const;
export const NULL_OPS = { 'IS NULL': 'none', 'IS NOT NULL': 'none' } as const;

export type FieldToken = Extract<Token, { kind: 'field' }>;
export type Fail = (position: number, token: string, reason: string) => never;

/** What one kind of search (runs, traces) says about its fields. */
export interface FilterGrammar<F> {
  /** `prefix.key` to a field, or `fail` naming what is allowed. */
  resolveField(tok: FieldToken, fail: Fail): F;
  /** The operators and value types `field` takes. */
  rule(field: F): FieldRule;
  /** Shown where a field was expected, e.g. "metrics.acc, params.lr or tags.team". */
  fieldHint: string;
  /** An example condition, shown for an empty filter. */
  example: string;
  /** A bare word that names a field without its prefix: the field (order_by takes it) and how to write it. */
  bareField?(word: string): { field: F; written: string } | undefined;
  /** A value of the other type that still means what the user wrote (an id given as text). */
  coerce?(field: F, expected: ValueKind, value: FilterValue): FilterValue | undefined;
  /** Added to "takes a number" errors, e.g. " (milliseconds since the epoch)". */
  numberHint?(field: F): string;
  /** Added to "takes a quoted string" errors. */
  stringHint?(field: F): string;
  /** Why `field` cannot be ordered by, or undefined when it can. */
  unorderable?(field: F): string | undefined;
  /** The fields order_by suggests. */
  orderByHint: string;
}

interface Located<T> {
  value: T;
  tok: Token;
}

const COMPARISON_HINT = 'expected a comparison operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, IS)';
const VALUE_HINT = 'expected a value: a number or a quoted string';

class Parser<F> {
  private index = 0;
  private readonly tokens: Token[];

  constructor(
    private readonly text: string,
    private readonly what: 'filter' | 'order_by',
    private readonly grammar: FilterGrammar<F>,
  ) {
    this.tokens = tokenize(text);
  }

  readonly fail: Fail = (position, token, reason) => {
    throw new FilterError(position, token, reason, this.text, this.what);
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

  parseFilter(): FilterExpr<F> {
    const expr = this.parseOr();
    const tok = this.peek();
    if (tok.kind === ')') this.failAt(tok, "unmatched ')'");
    if (tok.kind !== 'eof') this.failAt(tok, 'expected AND, OR or the end of the filter');
    return expr;
  }

  parseOr(): FilterExpr<F> {
    const operands = [this.parseAnd()];
    while (this.isWord(this.peek(), 'OR')) {
      this.next();
      operands.push(this.parseAnd());
    }
    return operands.length === 1 ? operands[0]! : { type: 'or', operands };
  }

  parseAnd(): FilterExpr<F> {
    const operands = [this.parseNot()];
    while (this.isWord(this.peek(), 'AND')) {
      this.next();
      operands.push(this.parseNot());
    }
    return operands.length === 1 ? operands[0]! : { type: 'and', operands };
  }

  parseNot(): FilterExpr<F> {
    if (this.isWord(this.peek(), 'NOT')) {
      this.next();
      return { type: 'not', operand: this.parseNot() };
    }
    return this.parsePrimary();
  }

  parsePrimary(): FilterExpr<F> {
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
    if (tok.kind === 'word') {
      const bare = this.grammar.bareField?.(tok.text);
      if (bare) this.failAt(tok, `a field needs a prefix: write ${bare.written}`);
    }
    if (tok.kind === 'eof')
      this.failAt(tok, `expected a condition such as ${this.grammar.example}`);
    return this.failAt(tok, `expected a field such as ${this.grammar.fieldHint}`);
  }

  parseComparison(fieldTok: FieldToken): FilterExpr<F> {
    const field = this.grammar.resolveField(fieldTok, this.fail);
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

    const rule = this.grammar.rule(field);
    const expected = rule.ops[op];
    if (!expected) this.failAt(opTok, `${fieldTok.text} does not support ${op}; ${rule.allowed}`);
    const typed = (v: Located<FilterValue>) =>
      this.typedValue(field, fieldTok.text, op, expected, v);

    switch (op) {
      case 'IS NULL':
      case 'IS NOT NULL':
        return { type: 'isNull', field, negated: op === 'IS NOT NULL' };
      case 'IN':
      case 'NOT IN': {
        const values = this.parseList().map(typed);
        return { type: 'in', field, negated: op === 'NOT IN', values };
      }
      case 'LIKE':
      case 'ILIKE': {
        const pattern = typed(this.parseValue());
        return { type: 'like', field, caseInsensitive: op === 'ILIKE', pattern: pattern as string };
      }
      default: {
        const value = typed(this.parseValue());
        return { type: 'compare', field, op, value };
      }
    }
  }

  /** Checks a value against the field's rule for the operator; returns it in its meaning's type. */
  typedValue(
    field: F,
    fieldText: string,
    op: OpName,
    expected: ValueKind,
    v: Located<FilterValue>,
  ): FilterValue {
    const coerced = this.grammar.coerce?.(field, expected, v.value);
    if (coerced !== undefined) return coerced;
    if (expected === 'number' && typeof v.value !== 'number') {
      return this.fail(
        v.tok.pos,
        v.tok.text,
        `'${fieldText} ${op}' takes a number${this.grammar.numberHint?.(field) ?? ''}: write the value without quotes`,
      );
    }
    if (expected === 'string' && typeof v.value !== 'string') {
      return this.fail(
        v.tok.pos,
        v.tok.text,
        `'${fieldText} ${op}' takes a quoted string, as in '${v.tok.text}'${this.grammar.stringHint?.(field) ?? ''}`,
      );
    }
    return v.value;
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

  parseOrderBy(): OrderByClause<F> {
    const tok = this.next();
    let field: F;
    if (tok.kind === 'field') {
      field = this.grammar.resolveField(tok, this.fail);
    } else {
      // MLflow takes a bare attribute name in order_by (not in filters).
      const bare = tok.kind === 'word' ? this.grammar.bareField?.(tok.text) : undefined;
      if (!bare) return this.failAt(tok, `expected a field such as ${this.grammar.orderByHint}`);
      field = bare.field;
    }
    const why = this.grammar.unorderable?.(field);
    if (why) this.failAt(tok, why);
    let descending = false;
    const dir = this.next();
    if (this.isWord(dir, 'ASC', 'DESC')) {
      descending = (dir as { upper: string }).upper === 'DESC';
    } else if (dir.kind !== 'eof') {
      this.failAt(dir, 'expected ASC, DESC or the end of the order_by entry');
    }
    const end = this.next();
    if (end.kind !== 'eof') this.failAt(end, 'expected the end of the order_by entry');
    return { field, descending };
  }
}

/** Parses a filter; `undefined` for an empty or blank one, which means "everything". */
export function parseFilter<F>(text: string, grammar: FilterGrammar<F>): FilterExpr<F> | undefined {
  if (text.trim() === '') return undefined;
  return new Parser(text, 'filter', grammar).parseFilter();
}

/**
 * Parses order_by entries (`metrics.acc DESC`, `start_time ASC`). Blank entries are skipped;
 * an entry's error positions are within that entry.
 */
export function parseOrderByClauses<F>(
  clauses: readonly string[],
  grammar: FilterGrammar<F>,
): OrderByClause<F>[] {
  return clauses
    .filter((clause) => clause.trim() !== '')
    .map((clause) => new Parser(clause, 'order_by', grammar).parseOrderBy());
}
