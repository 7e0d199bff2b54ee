// The small search language of MLflow's experiments/search, registered-models/search and
// model-versions/search: comparisons joined by AND (`name LIKE 'demo%' AND tags.team = 'nlp'`,
// `run_id IN ('a', 'b')`), order_by entries (`name ASC`) and offset page tokens. Runs have
// their own full grammar in core (Tracking.searchRuns); these lists are small and are
// filtered in memory.

import { invalidParameter } from './errors.ts';

export type FieldKind = 'string' | 'number';

export interface SearchSpec<T> {
  /** What is searched, for messages: 'experiments'. */
  what: string;
  attributes: Record<string, { kind: FieldKind; get: (item: T) => string | number | null }>;
  tags?: (item: T) => Record<string, string>;
}

type Token =
  | { kind: 'field'; prefix: string; key: string; text: string }
  | { kind: 'word'; upper: string; text: string }
  | { kind: 'string'; value: string; text: string }
  | { kind: 'number'; value: number; text: string }
  | { kind: 'op'; text: string }
  | { kind: 'punct'; text: string };

function tokenize(text: string, what: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw invalidParameter(
      `Invalid filter for ${what} at column ${i + 1}: ${why}. Filter: ${text}`,
    );
  };
  const quoted = (quote: string): string => {
    const end = text.indexOf(quote, i + 1);
    if (end < 0) fail(`unterminated ${quote}`);
    const value = text.slice(i + 1, end);
    i = end + 1;
    return value;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === "'" || c === '"') {
      const value = quoted(c);
      tokens.push({ kind: 'string', value, text: text.slice(start, i) });
    } else if (/[-\d]/.test(c) && /^-?\d/.test(text.slice(i, i + 2))) {
      const m = /^-?\d+(\.\d+)?/.exec(text.slice(i))!;
      i += m[0].length;
      tokens.push({ kind: 'number', value: Number(m[0]), text: m[0] });
    } else if (/[!<>=]/.test(c)) {
      const m = /^(!=|<>|<=|>=|=|<|>)/.exec(text.slice(i));
      if (!m) fail(`unexpected '${c}'`);
      i += m![0].length;
      tokens.push({ kind: 'op', text: m![0] === '<>' ? '!=' : m![0] });
    } else if (c === '(' || c === ')' || c === ',') {
      i++;
      tokens.push({ kind: 'punct', text: c });
    } else if (/[A-Za-z_`]/.test(c)) {
      let prefix = '';
      let key: string;
      if (c === '`') key = quoted('`');
      else {
        const m = /^[A-Za-z_]\w*/.exec(text.slice(i))!;
        key = m[0];
        i += key.length;
        if (text[i] === '.') {
          prefix = key;
          i++;
          const q = text[i];
          if (q === '`' || q === '"') key = quoted(q);
          else {
            const k = /^[\w\-./:]+/.exec(text.slice(i));
            if (!k) fail(`expected a key after '${prefix}.'`);
            key = k![0];
            i += key.length;
          }
        }
      }
      const raw = text.slice(start, i);
      if (!prefix && /^(AND|LIKE|ILIKE|IN|NOT)$/i.test(key) && c !== '`') {
        tokens.push({ kind: 'word', upper: key.toUpperCase(), text: raw });
      } else tokens.push({ kind: 'field', prefix: prefix.toLowerCase(), key, text: raw });
    } else fail(`unexpected '${c}'`);
  }
  return tokens;
}

type Predicate<T> = (item: T) => boolean;

function likeRegex(pattern: string, caseInsensitive: boolean): RegExp {
  const body = pattern
    .split('')
    .map((ch) => (ch === '%' ? '.*' : ch === '_' ? '.' : ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, caseInsensitive ? 'is' : 's');
}

/** Compiles a filter to a predicate; an empty filter matches everything. */
export function compileFilter<T>(text: string | undefined, spec: SearchSpec<T>): Predicate<T> {
  if (!text || text.trim() === '') return () => true;
  const tokens = tokenize(text, spec.what);
  let pos = 0;
  const fail = (why: string): never => {
    throw invalidParameter(`Invalid filter for ${spec.what}: ${why}. Filter: ${text}`);
  };
  const clauses: Predicate<T>[] = [];
  const names = Object.keys(spec.attributes);
  for (;;) {
    const field = tokens[pos++];
    if (!field || field.kind !== 'field') {
      fail(`expected a field (${names.join(', ')}${spec.tags ? ', tags.<key>' : ''})`);
    }
    const f = field as Extract<Token, { kind: 'field' }>;
    let kind: FieldKind;
    let get: (item: T) => string | number | null | undefined;
    if ((f.prefix === 'tags' || f.prefix === 'tag') && spec.tags) {
      const tags = spec.tags;
      kind = 'string';
      get = (item) => tags(item)[f.key];
    } else if (f.prefix === '' || f.prefix === 'attribute' || f.prefix === 'attributes') {
      const attr = spec.attributes[f.key];
      if (!attr) fail(`unknown field '${f.text}'; use ${names.join(', ')}`);
      kind = attr!.kind;
      get = attr!.get;
    } else {
      fail(`unknown field '${f.text}'`);
    }
    let opToken = tokens[pos++];
    let negated = false;
    if (opToken?.kind === 'word' && opToken.upper === 'NOT') {
      negated = true;
      opToken = tokens[pos++];
    }
    if (!opToken || (opToken.kind !== 'op' && opToken.kind !== 'word')) {
      fail(`expected a comparison after '${f.text}'`);
    }
    const op = opToken!.kind === 'word' ? opToken!.upper : opToken!.text;
    if (negated && op !== 'IN') fail(`NOT is only supported as NOT IN`);
    if (op === 'IN') {
      if (tokens[pos++]?.text !== '(') fail(`expected '(' after IN`);
      const values: (string | number)[] = [];
      for (;;) {
        const v = tokens[pos++];
        if (!v || (v.kind !== 'string' && v.kind !== 'number'))
          fail('expected a value in the IN list');
        values.push((v as { value: string | number }).value);
        const sep = tokens[pos++];
        if (sep?.text === ')') break;
        if (sep?.text !== ',') fail(`expected ',' or ')' in the IN list`);
      }
      const set = new Set(values.map(String));
      clauses.push((item) => {
        const actual = get(item);
        const hit = actual !== null && actual !== undefined && set.has(String(actual));
        return negated ? !hit : hit;
      });
    } else {
      const v = tokens[pos++];
      if (!v || (v.kind !== 'string' && v.kind !== 'number')) {
        fail(`expected a quoted string or a number after '${f.text} ${op}'`);
      }
      const value = (v as { value: string | number }).value;
      if (op === 'LIKE' || op === 'ILIKE') {
        if (kind! !== 'string') fail(`'${f.text}' is a number; LIKE compares strings`);
        const re = likeRegex(String(value), op === 'ILIKE');
        clauses.push((item) => {
          const actual = get(item);
          return typeof actual === 'string' && re.test(actual);
        });
      } else {
        if (kind! === 'string' && !['=', '!='].includes(op)) {
          fail(`'${f.text}' is a string; compare it with =, !=, LIKE, ILIKE or IN`);
        }
        const want = kind! === 'number' ? Number(value) : String(value);
        if (kind! === 'number' && Number.isNaN(want)) fail(`'${f.text}' compares with a number`);
        clauses.push((item) => {
          const actual = get(item);
          if (actual === null || actual === undefined) return op === '!=';
          const a = kind === 'number' ? Number(actual) : String(actual);
          switch (op) {
            case '=':
              return a === want;
            case '!=':
              return a !== want;
            case '<':
              return a < want;
            case '<=':
              return a <= want;
            case '>':
              return a > want;
            default:
              return a >= want;
          }
        });
      }
    }
    const next = tokens[pos++];
    if (!next) break;
    if (next.kind !== 'word' || next.upper !== 'AND') {
      fail(`expected AND or the end of the filter near '${next.text}' (OR is not supported)`);
    }
  }
  return (item) => clauses.every((c) => c(item));
}

/** Sorts by MLflow order_by entries (`name`, `creation_time DESC`), then by `fallback`'s. */
export function sortByOrder<T>(
  items: T[],
  orderBy: readonly string[] | undefined,
  spec: SearchSpec<T>,
  fallback: readonly string[],
): T[] {
  const keys = [...(orderBy ?? []), ...fallback]
    .filter((e) => e.trim() !== '')
    .map((entry) => {
      const m = /^\s*(?:attributes?\.)?(\w+)\s*(ASC|DESC)?\s*$/i.exec(entry);
      const attr = m && spec.attributes[m[1]!];
      if (!m || !attr) {
        throw invalidParameter(
          `Invalid order_by entry '${entry}' for ${spec.what}: use one of ${Object.keys(spec.attributes).join(', ')}, optionally followed by ASC or DESC.`,
        );
      }
      return { get: attr.get, sign: m[2]?.toUpperCase() === 'DESC' ? -1 : 1 };
    });
  return [...items].sort((a, b) => {
    for (const { get, sign } of keys) {
      const x = get(a);
      const y = get(b);
      if (x === y) continue;
      if (x === null) return 1;
      if (y === null) return -1;
      return (x < y ? -1 : 1) * sign;
    }
    return 0;
  });
}

export function encodeOffsetToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset }), 'utf8').toString('base64url');
}

export function decodeOffsetToken(token: string | undefined): number {
  if (!token) return 0;
  try {
    const { offset } = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      offset: unknown;
    };
    if (typeof offset === 'number' && Number.isSafeInteger(offset) && offset >= 0) return offset;
  } catch {
    // reported below
  }
  throw invalidParameter(
    `Invalid page_token '${token}': pass back the next_page_token of a previous page.`,
  );
}

/** One page of `items` and the token of the next, MLflow style. */
export function page<T>(
  items: T[],
  maxResults: number,
  pageToken: string | undefined,
): { items: T[]; nextPageToken?: string } {
  const offset = decodeOffsetToken(pageToken);
  const slice = items.slice(offset, offset + maxResults);
  const more = offset + maxResults < items.length;
  return more
    ? { items: slice, nextPageToken: encodeOffsetToken(offset + maxResults) }
    : { items: slice };
}

export function checkMaxResults(
  value: number | undefined,
  fallback: number,
  limit: number,
): number {
  const n = value ?? fallback;
  if (n < 1 || n > limit) {
    throw invalidParameter(
      `Invalid value ${n} for parameter 'max_results' supplied: it must be between 1 and ${limit}.`,
    );
  }
  return n;
}
