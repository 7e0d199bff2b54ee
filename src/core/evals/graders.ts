// Deterministic graders for eval criteria: text matches, similarity, JSON shape, cost and
// latency budgets and the PII guardrail. Each gives pass, a 0..1 score and a short reason.

import { ValidationError } from '../model/errors.ts';
import { findPii, PII_KINDS } from './pii.ts';
import type { PiiKind } from './pii.ts';

export interface GradeInput {
  output: string;
  expected?: unknown;
  vars: Record<string, unknown>;
  latencyMs?: number;
  ttftMs?: number;
  costUsd?: number;
}

export interface GradeResult {
  pass: boolean;
  /** 0..1 */
  score: number;
  reason: string;
}

export type DeterministicCriterion =
  /** `value` defaults to the case's expected value (stringified). */
  | { type: 'equals'; value?: string; ignoreCase?: boolean; trim?: boolean }
  /** `mode` defaults to 'any'. */
  | { type: 'contains' | 'icontains'; value: string | string[]; mode?: 'any' | 'all' }
  | { type: 'starts-with'; value: string; ignoreCase?: boolean }
  | { type: 'regex'; pattern: string; flags?: string }
  /** Passes when 1 - distance / max(length) >= threshold; the score is that similarity. */
  | { type: 'levenshtein'; value?: string; threshold: number }
  /** Passes when the F1 of lowercase word tokens (as in SQuAD) >= threshold; the score is the F1. */
  | { type: 'token-overlap'; value?: string; threshold: number }
  | { type: 'is-json' }
  /** A JSON Schema (a draft 2020-12 subset, see SCHEMA_KEYWORDS). */
  | { type: 'json-schema'; schema: Record<string, unknown> }
  /** The output is a JSON object with these fields (dotted paths; numeric segments index arrays). */
  | { type: 'has-fields'; fields: string[] }
  | { type: 'max-cost'; usd: number }
  | { type: 'max-latency'; ms: number }
  | { type: 'max-ttft'; ms: number }
  /** Passes when no PII or secret of these kinds (default: all) is in the output. */
  | { type: 'pii'; kinds?: PiiKind[] };

/**
 * Regex criteria run on JavaScript's own RegExp engine, which backtracks: a pathological
 * pattern can still be slow, so only this many characters of the output are searched.
 */
export const REGEX_OUTPUT_LIMIT = 100_000;

/** Reasons quote at most this many characters of the output or an expected value. */
const PREVIEW_CHARS = 80;

const TYPES = [
  'equals',
  'contains',
  'icontains',
  'starts-with',
  'regex',
  'levenshtein',
  'token-overlap',
  'is-json',
  'json-schema',
  'has-fields',
  'max-cost',
  'max-latency',
  'max-ttft',
  'pii',
] as const;

// A verdict that could not be reached (no measurement, no expected value) fails even
// under `not`: "not within budget" must not pass because the budget was never measured.
interface Verdict extends GradeResult {
  undecided?: boolean;
}

// Checked criteria, so a suite's criteria are validated once, not once per case.
const checked = new WeakSet<object>();

export function gradeDeterministic(
  criterion: DeterministicCriterion & { not?: boolean; name?: string },
  input: GradeInput,
): GradeResult {
  if (!checked.has(criterion)) {
    checkCriterion(criterion);
    checked.add(criterion);
  }
  const v = grade(criterion, input);
  if (!criterion.not) return { pass: v.pass, score: round(v.score), reason: v.reason };
  if (v.undecided) return { pass: false, score: 0, reason: `not: ${v.reason}` };
  return { pass: !v.pass, score: round(1 - v.score), reason: `not: ${v.reason}` };
}

function grade(c: DeterministicCriterion, input: GradeInput): Verdict {
  const output = input.output;
  switch (c.type) {
    case 'equals':
      return gradeEquals(c, input);
    case 'contains':
    case 'icontains':
      return gradeContains(c, output);
    case 'starts-with':
      return gradeStartsWith(c, output);
    case 'regex':
      return gradeRegex(c, output);
    case 'levenshtein':
      return gradeLevenshtein(c, input);
    case 'token-overlap':
      return gradeTokenOverlap(c, input);
    case 'is-json': {
      const j = parseJson(output);
      return j.ok
        ? verdict(true, `valid JSON (${jsonType(j.value)})`)
        : verdict(false, notJson(j.error, output));
    }
    case 'json-schema': {
      const j = parseJson(output);
      if (!j.ok) return verdict(false, notJson(j.error, output));
      const error = validateSchema(c.schema, j.value, '$');
      return error ? verdict(false, error) : verdict(true, 'matches the schema');
    }
    case 'has-fields':
      return gradeHasFields(c, output);
    case 'max-cost':
      return budget(input.costUsd, c.usd, 'cost', (n) => `$${Number(n.toPrecision(6))}`);
    case 'max-latency':
      return budget(input.latencyMs, c.ms, 'latency', (n) => `${Math.round(n)} ms`);
    case 'max-ttft':
      return budget(input.ttftMs, c.ms, 'ttft', (n) => `${Math.round(n)} ms`);
    case 'pii':
      return gradePii(c, output);
  }
}

function verdict(pass: boolean, reason: string, score = pass ? 1 : 0): Verdict {
  return { pass, score, reason };
}

function undecided(reason: string): Verdict {
  return { pass: false, score: 0, reason, undecided: true };
}

// ---- text ------------------------------------------------------------------------

/** The criterion's value, else the case's expected value as text. */
function reference(value: string | undefined, input: GradeInput): string | undefined {
  if (value !== undefined) return value;
  const e = input.expected;
  if (e === undefined) return undefined;
  if (typeof e === 'string') return e;
  if (typeof e === 'number' || typeof e === 'boolean' || typeof e === 'bigint') return String(e);
  return JSON.stringify(e);
}

const NO_EXPECTED = 'no expected value: set "value" on the criterion or "expected" on the case';

function gradeEquals(
  c: Extract<DeterministicCriterion, { type: 'equals' }>,
  input: GradeInput,
): Verdict {
  const want = reference(c.value, input);
  if (want === undefined) return undecided(NO_EXPECTED);
  const norm = (s: string, trim: boolean, fold: boolean): string => {
    const t = trim ? s.trim() : s;
    return fold ? t.toLowerCase() : t;
  };
  const trim = c.trim ?? false;
  const fold = c.ignoreCase ?? false;
  if (norm(input.output, trim, fold) === norm(want, trim, fold)) {
    return verdict(true, `equals ${preview(want)}`);
  }
  // Say when an option would have made them equal: the usual surprise is a trailing newline.
  let hint = '';
  if (!trim && norm(input.output, true, fold) === norm(want, true, fold)) {
    hint = ' (they differ only in surrounding whitespace: set trim: true)';
  } else if (!fold && norm(input.output, trim, true) === norm(want, trim, true)) {
    hint = ' (they differ only in case: set ignoreCase: true)';
  }
  return verdict(false, `expected ${preview(want)}, found ${preview(input.output)}${hint}`);
}

function gradeContains(
  c: Extract<DeterministicCriterion, { type: 'contains' | 'icontains' }>,
  output: string,
): Verdict {
  const needles = typeof c.value === 'string' ? [c.value] : c.value;
  const fold = c.type === 'icontains' ? (s: string) => s.toLowerCase() : (s: string) => s;
  const hay = fold(output);
  const found = needles.filter((n) => hay.includes(fold(n)));
  const missing = needles.filter((n) => !hay.includes(fold(n)));
  const verb = c.type === 'icontains' ? 'contains (ignoring case)' : 'contains';
  if ((c.mode ?? 'any') === 'any') {
    if (found.length > 0) return verdict(true, `${verb} ${preview(found[0]!)}`);
    const what = needles.length === 1 ? preview(needles[0]!) : `any of ${list(needles)}`;
    return verdict(false, `expected output that ${verb} ${what}, found ${preview(output)}`);
  }
  const score = found.length / needles.length;
  if (missing.length === 0) {
    return verdict(
      true,
      needles.length === 1 ? `${verb} ${preview(needles[0]!)}` : `${verb} all ${needles.length}`,
    );
  }
  return verdict(
    false,
    `missing ${list(missing)} (${found.length} of ${needles.length} found) in ${preview(output)}`,
    score,
  );
}

function gradeStartsWith(
  c: Extract<DeterministicCriterion, { type: 'starts-with' }>,
  output: string,
): Verdict {
  // Leading whitespace from the model is noise unless the value itself starts with some.
  const out = /^\s/.test(c.value) ? output : output.trimStart();
  const fold = (s: string): string => (c.ignoreCase ? s.toLowerCase() : s);
  return fold(out).startsWith(fold(c.value))
    ? verdict(true, `starts with ${preview(c.value)}`)
    : verdict(false, `expected to start with ${preview(c.value)}, found ${preview(out)}`);
}

function gradeRegex(
  c: Extract<DeterministicCriterion, { type: 'regex' }>,
  output: string,
): Verdict {
  // A fresh RegExp per case: with the g or y flag, exec() carries lastIndex over.
  const re = new RegExp(c.pattern, c.flags ?? '');
  const capped = output.length > REGEX_OUTPUT_LIMIT;
  const m = re.exec(capped ? output.slice(0, REGEX_OUTPUT_LIMIT) : output);
  const shown = `/${clip(c.pattern)}/${c.flags ?? ''}`;
  if (m) return verdict(true, `matched ${shown} at ${m.index}: ${preview(m[0])}`);
  const note = capped ? ` (searched the first ${REGEX_OUTPUT_LIMIT} characters)` : '';
  return verdict(false, `no match for ${shown} in ${preview(output)}${note}`);
}

// ---- similarity ------------------------------------------------------------------

/** Edit distance over code points, two rows: O(n·m) time, O(min) memory. */
export function levenshtein(a: string, b: string): number {
  let s = Array.from(a);
  let t = Array.from(b);
  if (s.length < t.length) [s, t] = [t, s];
  if (t.length === 0) return s.length;
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  let cur = new Array<number>(t.length + 1).fill(0);
  for (let i = 1; i <= s.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[t.length]!;
}

// Similarities like 1 - 3/10 land a hair under 0.7 in floating point.
const EPSILON = 1e-9;

function gradeLevenshtein(
  c: Extract<DeterministicCriterion, { type: 'levenshtein' }>,
  input: GradeInput,
): Verdict {
  const want = reference(c.value, input);
  if (want === undefined) return undecided(NO_EXPECTED);
  const d = levenshtein(input.output, want);
  const max = Math.max(Array.from(input.output).length, Array.from(want).length);
  const similarity = max === 0 ? 1 : 1 - d / max;
  const pass = similarity >= c.threshold - EPSILON;
  return verdict(
    pass,
    `similarity ${fmt(similarity)} ${pass ? '>=' : '<'} ${c.threshold} (edit distance ${d} to ${preview(want)})`,
    similarity,
  );
}

function tokens(s: string): string[] {
  return s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** SQuAD-style F1: precision and recall over the multiset of shared tokens. */
export function tokenF1(prediction: string, reference: string): number {
  const p = tokens(prediction);
  const r = tokens(reference);
  if (p.length === 0 || r.length === 0) return p.length === r.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const t of r) counts.set(t, (counts.get(t) ?? 0) + 1);
  let common = 0;
  for (const t of p) {
    const n = counts.get(t) ?? 0;
    if (n > 0) {
      common++;
      counts.set(t, n - 1);
    }
  }
  if (common === 0) return 0;
  const precision = common / p.length;
  const recall = common / r.length;
  return (2 * precision * recall) / (precision + recall);
}

function gradeTokenOverlap(
  c: Extract<DeterministicCriterion, { type: 'token-overlap' }>,
  input: GradeInput,
): Verdict {
  const want = reference(c.value, input);
  if (want === undefined) return undecided(NO_EXPECTED);
  const f1 = tokenF1(input.output, want);
  const pass = f1 >= c.threshold - EPSILON;
  return verdict(
    pass,
    `token F1 ${fmt(f1)} ${pass ? '>=' : '<'} ${c.threshold} against ${preview(want)}`,
    f1,
  );
}

// ---- JSON ------------------------------------------------------------------------

function parseJson(output: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(output) as unknown };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

function notJson(error: string, output: string): string {
  // Models often wrap JSON in a Markdown fence; strict parsing is the point, but say so.
  const fence = /^\s*```/.test(output) ? ' (the output is wrapped in a ``` code fence)' : '';
  return `not valid JSON${fence}: ${clip(error)}; found ${preview(output)}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function gradeHasFields(
  c: Extract<DeterministicCriterion, { type: 'has-fields' }>,
  output: string,
): Verdict {
  const j = parseJson(output);
  if (!j.ok) return verdict(false, notJson(j.error, output));
  if (!isObject(j.value))
    return verdict(false, `expected a JSON object, found ${jsonType(j.value)}`);
  const root = j.value;
  // A field that is present with the value null counts as present.
  const has = (field: string): boolean => {
    let cur: unknown = root;
    for (const seg of field.split('.')) {
      if (Array.isArray(cur) && /^\d+$/.test(seg) && Number(seg) < cur.length)
        cur = cur[Number(seg)];
      else if (isObject(cur) && Object.hasOwn(cur, seg)) cur = cur[seg];
      else return false;
    }
    return true;
  };
  const missing = c.fields.filter((f) => !has(f));
  if (missing.length === 0) return verdict(true, `has ${list(c.fields)}`);
  return verdict(
    false,
    `missing ${list(missing)} (${c.fields.length - missing.length} of ${c.fields.length} present)`,
    (c.fields.length - missing.length) / c.fields.length,
  );
}

// ---- JSON Schema (a small subset validator) ---------------------------------------

// Written here rather than zod's fromJSONSchema: zod marks that semi-experimental, and a
// reason must name the first failing path as `$.items[2].price: expected number`.
const SCHEMA_KEYWORDS = [
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'minItems',
  'maxItems',
  'enum',
  'const',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'pattern',
  'anyOf',
  'oneOf',
  'allOf',
];
// Annotations change nothing in validation (`format` is annotation-only by default in 2020-12).
const SCHEMA_ANNOTATIONS = new Set([
  '$schema',
  '$id',
  '$comment',
  'title',
  'description',
  'default',
  'examples',
  'format',
  'deprecated',
  'readOnly',
  'writeOnly',
]);
const JSON_TYPES = new Set(['null', 'boolean', 'object', 'array', 'number', 'integer', 'string']);

function schemaError(at: string, problem: string): ValidationError {
  return new ValidationError(`json-schema criterion: "schema" at ${at}: ${problem}.`);
}

/** Rejects what the validator would misread. Unknown keywords are refused, not ignored, so a
 * schema never validates less than its author thinks. */
function checkSchema(schema: unknown, at: string): void {
  if (typeof schema === 'boolean') return;
  if (!isObject(schema)) {
    throw schemaError(at, `expected a schema object or a boolean, found ${jsonType(schema)}`);
  }
  const sub = (v: unknown, key: string): void => checkSchema(v, `${at}/${key}`);
  const count = (key: string): void => {
    const v = schema[key];
    if (v !== undefined && !(Number.isInteger(v) && (v as number) >= 0)) {
      throw schemaError(`${at}/${key}`, `expected a non-negative integer, found ${preview(v)}`);
    }
  };
  for (const [key, v] of Object.entries(schema)) {
    if (SCHEMA_ANNOTATIONS.has(key)) continue;
    if (!SCHEMA_KEYWORDS.includes(key)) {
      const why = key === '$ref' || key === '$defs' ? ' (inline the referenced schema)' : '';
      throw schemaError(
        at,
        `unsupported keyword "${key}"${why}; supported: ${SCHEMA_KEYWORDS.join(', ')}`,
      );
    }
    switch (key) {
      case 'type': {
        const types = Array.isArray(v) ? v : [v];
        const bad = types.find((t) => typeof t !== 'string' || !JSON_TYPES.has(t));
        if (types.length === 0 || bad !== undefined) {
          throw schemaError(
            `${at}/type`,
            `expected one of ${[...JSON_TYPES].join(', ')} (or a list of them), found ${preview(bad ?? v)}`,
          );
        }
        break;
      }
      case 'properties':
        if (!isObject(v))
          throw schemaError(
            `${at}/properties`,
            `expected an object of schemas, found ${jsonType(v)}`,
          );
        for (const [name, s] of Object.entries(v)) sub(s, `properties/${name}`);
        break;
      case 'required':
        if (!Array.isArray(v) || v.some((r) => typeof r !== 'string')) {
          throw schemaError(
            `${at}/required`,
            `expected a list of property names, found ${preview(v)}`,
          );
        }
        break;
      case 'additionalProperties':
        sub(v, key);
        break;
      case 'items':
        if (Array.isArray(v)) {
          throw schemaError(
            `${at}/items`,
            'a list of schemas (the draft-07 tuple form) is not supported; give one schema for every item',
          );
        }
        sub(v, key);
        break;
      case 'enum':
        if (!Array.isArray(v) || v.length === 0) {
          throw schemaError(
            `${at}/enum`,
            `expected a non-empty list of values, found ${preview(v)}`,
          );
        }
        break;
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
        if (typeof v !== 'number' || !Number.isFinite(v)) {
          throw schemaError(`${at}/${key}`, `expected a number, found ${preview(v)}`);
        }
        break;
      case 'minLength':
      case 'maxLength':
      case 'minItems':
      case 'maxItems':
        count(key);
        break;
      case 'pattern':
        if (typeof v !== 'string')
          throw schemaError(`${at}/pattern`, `expected a string, found ${jsonType(v)}`);
        try {
          new RegExp(v, 'u');
        } catch (e) {
          throw schemaError(
            `${at}/pattern`,
            `${preview(v)} is not a valid regular expression: ${(e as Error).message}`,
          );
        }
        break;
      case 'anyOf':
      case 'oneOf':
      case 'allOf':
        if (!Array.isArray(v) || v.length === 0) {
          throw schemaError(
            `${at}/${key}`,
            `expected a non-empty list of schemas, found ${preview(v)}`,
          );
        }
        v.forEach((s, i) => sub(s, `${key}/${i}`));
        break;
    }
  }
}

function isType(v: unknown, type: string): boolean {
  switch (type) {
    case 'null':
      return v === null;
    case 'boolean':
      return typeof v === 'boolean';
    case 'object':
      return isObject(v);
    case 'array':
      return Array.isArray(v);
    case 'number':
      return typeof v === 'number';
    case 'integer':
      return Number.isInteger(v);
    case 'string':
      return typeof v === 'string';
  }
  return false;
}

function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return (
      ka.length === Object.keys(b).length &&
      ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]))
    );
  }
  return false;
}

function childPath(path: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function found(v: unknown): string {
  if (v === null || Array.isArray(v) || isObject(v)) return jsonType(v);
  return `${jsonType(v)} ${preview(v)}`;
}

/** The first place `value` breaks `schema`, as `path: expected ..., found ...`, or null. */
function validateSchema(schema: unknown, value: unknown, path: string): string | null {
  if (schema === true) return null;
  if (schema === false) return `${path}: not allowed here (the schema is false)`;
  if (!isObject(schema)) return null;
  const s = schema;
  if (s.type !== undefined) {
    const types = (Array.isArray(s.type) ? s.type : [s.type]) as string[];
    if (!types.some((t) => isType(value, t))) {
      return `${path}: expected ${types.join(' or ')}, found ${found(value)}`;
    }
  }
  if ('const' in s && !jsonEqual(value, s.const)) {
    return `${path}: expected ${preview(s.const)}, found ${preview(value)}`;
  }
  if (Array.isArray(s.enum) && !s.enum.some((e) => jsonEqual(value, e))) {
    return `${path}: expected one of ${list(s.enum)}, found ${preview(value)}`;
  }
  if (typeof value === 'number') {
    const num = (k: string): number | undefined => s[k] as number | undefined;
    const min = num('minimum');
    const max = num('maximum');
    const xmin = num('exclusiveMinimum');
    const xmax = num('exclusiveMaximum');
    if (min !== undefined && value < min) return `${path}: expected >= ${min}, found ${value}`;
    if (max !== undefined && value > max) return `${path}: expected <= ${max}, found ${value}`;
    if (xmin !== undefined && value <= xmin) return `${path}: expected > ${xmin}, found ${value}`;
    if (xmax !== undefined && value >= xmax) return `${path}: expected < ${xmax}, found ${value}`;
  }
  if (typeof value === 'string') {
    const len = Array.from(value).length;
    const minLength = s.minLength as number | undefined;
    const maxLength = s.maxLength as number | undefined;
    if (minLength !== undefined && len < minLength) {
      return `${path}: expected at least ${minLength} characters, found ${len}`;
    }
    if (maxLength !== undefined && len > maxLength) {
      return `${path}: expected at most ${maxLength} characters, found ${len}`;
    }
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(value)) {
      return `${path}: expected to match /${clip(s.pattern)}/, found ${preview(value)}`;
    }
  }
  if (Array.isArray(value)) {
    const minItems = s.minItems as number | undefined;
    const maxItems = s.maxItems as number | undefined;
    if (minItems !== undefined && value.length < minItems) {
      return `${path}: expected at least ${minItems} items, found ${value.length}`;
    }
    if (maxItems !== undefined && value.length > maxItems) {
      return `${path}: expected at most ${maxItems} items, found ${value.length}`;
    }
    if (s.items !== undefined) {
      for (let i = 0; i < value.length; i++) {
        const e = validateSchema(s.items, value[i], `${path}[${i}]`);
        if (e) return e;
      }
    }
  }
  if (isObject(value)) {
    for (const r of (s.required as string[] | undefined) ?? []) {
      if (!Object.hasOwn(value, r)) return `${childPath(path, r)}: missing (required)`;
    }
    const props = isObject(s.properties) ? s.properties : {};
    for (const [k, sub] of Object.entries(props)) {
      if (!Object.hasOwn(value, k)) continue;
      const e = validateSchema(sub, value[k], childPath(path, k));
      if (e) return e;
    }
    if (s.additionalProperties !== undefined) {
      for (const k of Object.keys(value)) {
        if (Object.hasOwn(props, k)) continue;
        if (s.additionalProperties === false) {
          return `${childPath(path, k)}: not allowed (additionalProperties is false)`;
        }
        const e = validateSchema(s.additionalProperties, value[k], childPath(path, k));
        if (e) return e;
      }
    }
  }
  if (Array.isArray(s.allOf)) {
    for (const sub of s.allOf) {
      const e = validateSchema(sub, value, path);
      if (e) return e;
    }
  }
  if (Array.isArray(s.anyOf)) {
    const errors = s.anyOf.map((sub) => validateSchema(sub, value, path));
    if (errors.every((e) => e !== null)) {
      return `${path}: matches no anyOf alternative (first: ${errors[0]})`;
    }
  }
  if (Array.isArray(s.oneOf)) {
    const errors = s.oneOf.map((sub) => validateSchema(sub, value, path));
    const matched = errors.filter((e) => e === null).length;
    if (matched === 0) return `${path}: matches no oneOf alternative (first: ${errors[0]})`;
    if (matched > 1)
      return `${path}: expected exactly 1 oneOf alternative to match, found ${matched}`;
  }
  return null;
}

// ---- budgets and guardrails -------------------------------------------------------

function budget(
  measured: number | undefined,
  limit: number,
  what: string,
  show: (n: number) => string,
): Verdict {
  if (typeof measured !== 'number' || Number.isNaN(measured)) {
    return undecided(`no ${what} measured`);
  }
  return measured <= limit
    ? verdict(true, `${what} ${show(measured)} <= ${show(limit)}`)
    : verdict(false, `${what} ${show(measured)} > ${show(limit)}`);
}

/** All but the last 4 characters masked (at most 12 stars, so a key block stays short). */
function mask(secret: string): string {
  const chars = Array.from(secret.replace(/\s+/g, ' '));
  const keep = chars.length > 4 ? chars.slice(-4).join('') : '';
  return '*'.repeat(Math.min(chars.length - keep.length, 12)) + keep;
}

function gradePii(c: Extract<DeterministicCriterion, { type: 'pii' }>, output: string): Verdict {
  const findings = findPii(output, c.kinds);
  const scope = c.kinds ? c.kinds.join(', ') : 'PII or secrets';
  if (findings.length === 0) return verdict(true, `no ${scope} found`);
  const shown = findings
    .slice(0, 5)
    .map((f) => `${f.kind} at ${f.index} (${mask(f.match)})`)
    .join(', ');
  const more = findings.length > 5 ? `, and ${findings.length - 5} more` : '';
  return verdict(false, `expected no ${scope}, found ${findings.length}: ${shown}${more}`);
}

// ---- configuration ----------------------------------------------------------------

function configError(type: string, field: string, problem: string, fix: string): ValidationError {
  return new ValidationError(`${type} criterion: "${field}" ${problem}. ${fix}`);
}

function describeValue(v: unknown): string {
  return `${jsonType(v)}${v === null || typeof v === 'object' ? '' : ` ${preview(v)}`}`;
}

/** Validates a criterion's configuration before any case runs; throws ValidationError. */
export function checkCriterion(criterion: DeterministicCriterion): void {
  if (!isObject(criterion)) {
    throw new ValidationError(
      `a criterion must be an object with a "type", found ${jsonType(criterion)}.`,
    );
  }
  const c = criterion as Record<string, unknown>;
  const type = c.type;
  if (typeof type !== 'string' || !(TYPES as readonly string[]).includes(type)) {
    throw new ValidationError(
      `unknown criterion type ${preview(type)}. Use one of ${TYPES.join(', ')}.`,
    );
  }
  const optionalBoolean = (field: string): void => {
    if (c[field] !== undefined && typeof c[field] !== 'boolean') {
      throw configError(
        type,
        field,
        `must be true or false (found ${describeValue(c[field])})`,
        `Write ${field}: true or leave it out.`,
      );
    }
  };
  const optionalString = (field: string, fix: string): void => {
    if (c[field] !== undefined && typeof c[field] !== 'string') {
      throw configError(type, field, `must be a string (found ${describeValue(c[field])})`, fix);
    }
  };
  const nonEmptyString = (field: string, fix: string): void => {
    if (typeof c[field] !== 'string' || c[field] === '') {
      throw configError(
        type,
        field,
        `must be a non-empty string (found ${describeValue(c[field])})`,
        fix,
      );
    }
  };
  const threshold = (): void => {
    const t = c.threshold;
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 0 || t > 1) {
      throw configError(
        type,
        'threshold',
        `must be a number from 0 to 1 (found ${describeValue(t)})`,
        'Use e.g. 0.8 to require 80%.',
      );
    }
  };
  const limit = (field: string, allowZero: boolean, unit: string): void => {
    const v = c[field];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
      throw configError(
        type,
        field,
        `must be a ${allowZero ? 'non-negative' : 'positive'} number (found ${describeValue(v)})`,
        `Give the budget in ${unit}.`,
      );
    }
  };

  optionalBoolean('not');
  switch (type) {
    case 'equals':
      optionalString(
        'value',
        "Quote it, or leave it out to compare with the case's expected value.",
      );
      optionalBoolean('ignoreCase');
      optionalBoolean('trim');
      break;
    case 'contains':
    case 'icontains': {
      const v = c.value;
      const values = typeof v === 'string' ? [v] : v;
      if (!Array.isArray(values) || values.some((x) => typeof x !== 'string')) {
        throw configError(
          type,
          'value',
          `must be a string or a list of strings (found ${describeValue(v)})`,
          'Give the text to look for.',
        );
      }
      if (values.length === 0) {
        throw configError(
          type,
          'value',
          'is an empty list',
          'Give at least one string to look for.',
        );
      }
      if (values.includes('')) {
        throw configError(
          type,
          'value',
          'has an empty string, which every output contains',
          'Remove it.',
        );
      }
      if (c.mode !== undefined && c.mode !== 'any' && c.mode !== 'all') {
        throw configError(
          type,
          'mode',
          `must be "any" or "all" (found ${describeValue(c.mode)})`,
          'Leave it out for "any".',
        );
      }
      break;
    }
    case 'starts-with':
      nonEmptyString('value', 'Give the text the output must start with.');
      optionalBoolean('ignoreCase');
      break;
    case 'regex': {
      nonEmptyString(
        'pattern',
        'Give a JavaScript regular expression, without the surrounding slashes.',
      );
      const flags = c.flags ?? '';
      if (
        typeof flags !== 'string' ||
        !/^[dgimsuvy]*$/.test(flags) ||
        new Set(flags).size !== flags.length
      ) {
        throw configError(
          type,
          'flags',
          `${preview(flags)} is not a set of regular expression flags`,
          'Use letters from d, g, i, m, s, u, v, y, each once (e.g. "i").',
        );
      }
      try {
        new RegExp(c.pattern as string, flags);
      } catch (e) {
        throw configError(
          type,
          'pattern',
          `${preview(c.pattern)} is not a valid JavaScript regular expression: ${(e as Error).message}`,
          'Fix the pattern; it runs on JavaScript\'s RegExp engine (no inline flags like (?i): put them in "flags").',
        );
      }
      break;
    }
    case 'levenshtein':
    case 'token-overlap':
      optionalString(
        'value',
        "Quote it, or leave it out to compare with the case's expected value.",
      );
      threshold();
      break;
    case 'is-json':
      break;
    case 'json-schema':
      if (!isObject(c.schema)) {
        throw configError(
          type,
          'schema',
          `must be a JSON Schema object (found ${describeValue(c.schema)})`,
          'Give an object such as { "type": "object", "required": ["answer"] }.',
        );
      }
      checkSchema(c.schema, '#');
      break;
    case 'has-fields': {
      const f = c.fields;
      if (!Array.isArray(f) || f.length === 0 || f.some((x) => typeof x !== 'string')) {
        throw configError(
          type,
          'fields',
          `must be a non-empty list of field names (found ${describeValue(f)})`,
          'List the fields, e.g. ["answer", "sources.0.url"].',
        );
      }
      const bad = (f as string[]).find((x) => x.split('.').some((seg) => seg === ''));
      if (bad !== undefined) {
        throw configError(
          type,
          'fields',
          `has ${preview(bad)}, which has an empty path segment`,
          'Write dotted paths like "a.b.c".',
        );
      }
      break;
    }
    case 'max-cost':
      limit('usd', true, 'US dollars');
      break;
    case 'max-latency':
    case 'max-ttft':
      limit('ms', false, 'milliseconds');
      break;
    case 'pii': {
      const k = c.kinds;
      if (k === undefined) break;
      if (!Array.isArray(k) || k.length === 0) {
        throw configError(
          type,
          'kinds',
          `must be a non-empty list (found ${describeValue(k)})`,
          `Leave it out to check every kind, or pick from ${PII_KINDS.join(', ')}.`,
        );
      }
      const bad = k.find((x) => !(PII_KINDS as readonly unknown[]).includes(x));
      if (bad !== undefined) {
        throw configError(
          type,
          'kinds',
          `has unknown kind ${preview(bad)}`,
          `Pick from ${PII_KINDS.join(', ')}.`,
        );
      }
      break;
    }
  }
}

// ---- formatting ---------------------------------------------------------------------

function clip(s: string, max = PREVIEW_CHARS): string {
  if (s.length <= max) return s;
  // Count code points, not UTF-16 units, so an emoji is never cut in half.
  const chars = Array.from(s.slice(0, max * 2));
  if (chars.length <= max && s.length <= max * 2) return s;
  return `${chars.slice(0, max - 1).join('')}…`;
}

/** A value quoted for a reason: strings JSON-quoted (so whitespace shows), clipped. */
function preview(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(clip(v));
  const text = v === undefined ? 'undefined' : JSON.stringify(v);
  return clip(text ?? String(v));
}

function list(values: unknown[], max = 5): string {
  const shown = values.slice(0, max).map(preview).join(', ');
  return values.length > max ? `${shown} and ${values.length - max} more` : shown;
}

function fmt(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
