// Reading MLflow requests: the JSON body (with the NaN and Infinity that Python's json
// writes) or the query string, and zod field types that accept what MLflow clients
// send (int64 as numbers or strings, metric values as numbers or "NaN"). A bad field
// becomes INVALID_PARAMETER_VALUE naming it, as MLflow words it.

import { z } from 'zod';
import type { ViewType } from '../core/model/tracking.ts';
import { invalidParameter, missingParameter } from './errors.ts';
import type { MlflowError } from './errors.ts';

// ---------------------------------------------------------------- field types

/** An int64: a JSON number, or a string of digits (protobuf's JSON form). */
export const int64 = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const n = typeof v === 'number' ? v : /^\s*-?\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) {
    ctx.addIssue({ code: 'custom', message: 'expected an integer' });
    return z.NEVER;
  }
  return n;
});

/** An id the proto types as a string that some clients send as a number (experiment ids, versions). */
export const idString = z
  .union([z.string(), z.number().int()])
  .transform((v) => (typeof v === 'number' ? String(v) : v));

const SPECIAL_DOUBLES: Record<string, number> = {
  nan: NaN,
  infinity: Infinity,
  '+infinity': Infinity,
  inf: Infinity,
  '+inf': Infinity,
  '-infinity': -Infinity,
  '-inf': -Infinity,
};

/** A double: a JSON number, or "NaN", "Infinity", "-Infinity" or a numeric string. */
export const double = z.union([z.number(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  const special = SPECIAL_DOUBLES[v.trim().toLowerCase()];
  if (special !== undefined) return special;
  const n = v.trim() === '' ? NaN : Number(v);
  if (Number.isNaN(n)) {
    ctx.addIssue({
      code: 'custom',
      message: 'expected a number, "NaN", "Infinity" or "-Infinity"',
    });
    return z.NEVER;
  }
  return n;
});

/** A repeated field: a query string gives a lone value for a one-element list. */
export function list<T extends z.ZodType>(item: T) {
  return z.preprocess(
    (v) => (v === undefined || v === null ? undefined : Array.isArray(v) ? v : [v]),
    z.array(item).optional(),
  );
}

export const keyValue = z.object({ key: z.string().min(1), value: z.string() });
export const keyValueList = list(keyValue);

/** MLflow's ViewType, by name or by its enum number (1, 2, 3). */
export const viewType = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const byNumber: Record<string, ViewType> = {
    '1': 'ACTIVE_ONLY',
    '2': 'DELETED_ONLY',
    '3': 'ALL',
  };
  const name = byNumber[String(v)] ?? String(v).toUpperCase();
  if (name !== 'ACTIVE_ONLY' && name !== 'DELETED_ONLY' && name !== 'ALL') {
    ctx.addIssue({ code: 'custom', message: 'expected ACTIVE_ONLY, DELETED_ONLY or ALL' });
    return z.NEVER;
  }
  return name as ViewType;
});

// ---------------------------------------------------------------- parsing

function fieldName(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v = raw;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 100 ? `${text.slice(0, 100)}...` : text;
}

/** Validates request arguments; the first problem becomes MLflow's INVALID_PARAMETER_VALUE. */
export function parseArgs<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  throw issueError(result.error.issues[0]!, raw);
}

function issueError(issue: z.core.$ZodIssue, raw: unknown): MlflowError {
  const name = fieldName(issue.path);
  const value = valueAt(raw, issue.path);
  if (name === '') return invalidParameter(`The request is not a JSON object: ${issue.message}.`);
  if (value === undefined || value === null || value === '') return missingParameter(name);
  return invalidParameter(
    `Invalid value ${describe(value)} for parameter '${name}' supplied: ${issue.message}.`,
  );
}

/** `run_id`, or the deprecated `run_uuid` that clients still send beside it. */
export function requireRunId(args: { run_id?: string; run_uuid?: string }): string {
  const id = args.run_id || args.run_uuid;
  if (!id) throw missingParameter('run_id');
  return id;
}

/** A required field whose empty string is a value (a param or tag value). */
export function present<T>(value: T | undefined | null, name: string): T {
  if (value === undefined || value === null) throw missingParameter(name);
  return value;
}

/** A required field: '' counts as missing, as in MLflow. */
export function required<T>(value: T | undefined | null | '', name: string): T {
  if (value === undefined || value === null || value === '') throw missingParameter(name);
  return value;
}

// ---------------------------------------------------------------- bodies and query strings

/**
 * Parses a JSON body. Python's `json.dumps` writes NaN, Infinity and -Infinity as bare
 * words, which JSON.parse refuses; outside strings they are read as "NaN" etc.
 */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    try {
      return JSON.parse(quoteSpecialNumbers(text));
    } catch (e) {
      throw invalidParameter(`The request body is not valid JSON: ${(e as Error).message}.`);
    }
  }
}

const SPECIAL_WORDS = ['-Infinity', 'Infinity', 'NaN'];

function quoteSpecialNumbers(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      continue;
    }
    const word = SPECIAL_WORDS.find((w) => text.startsWith(w, i));
    if (word) {
      out += `"${word}"`;
      i += word.length - 1;
      continue;
    }
    out += c;
  }
  return out;
}

/** Query-string arguments: repeated keys (also `key[]`) become lists. */
export function queryArgs(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [rawKey, value] of params) {
    const key = rawKey.endsWith('[]') ? rawKey.slice(0, -2) : rawKey;
    const prior = out[key];
    if (prior === undefined) out[key] = value;
    else if (Array.isArray(prior)) prior.push(value);
    else out[key] = [prior, value];
  }
  return out;
}
