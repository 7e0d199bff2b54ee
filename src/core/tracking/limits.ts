// MLflow's naming rules and size limits, checked before anything is written.

import { ValidationError } from '../model/errors.ts';

export const MAX_KEY_LENGTH = 250;
export const MAX_PARAM_VALUE_LENGTH = 6000;
export const MAX_TAG_VALUE_LENGTH = 8000;
export const MAX_RUN_NAME_LENGTH = 250;
export const MAX_EXPERIMENT_NAME_LENGTH = 500;
export const MAX_BATCH_METRICS = 1000;
export const MAX_BATCH_PARAMS = 100;
export const MAX_BATCH_TAGS = 100;
export const MAX_SEARCH_RESULTS = 50_000;

const KEY_CHARS = /^[A-Za-z0-9_\-. /]+$/;

// Keys already checked; a training loop logs the same few keys many times.
const validKeys = new Set<string>();

/** Checks a metric, param or tag key; `kind` names it in the message. */
export function checkKey(kind: 'metric' | 'param' | 'tag', key: unknown): string {
  if (typeof key === 'string' && validKeys.has(key)) return key;
  if (typeof key !== 'string' || key.length === 0) {
    throw new ValidationError(
      `A ${kind} key must be a non-empty string (got ${JSON.stringify(key)}).`,
    );
  }
  if (key.length > MAX_KEY_LENGTH) {
    throw new ValidationError(
      `The ${kind} key '${key.slice(0, 40)}...' has ${key.length} characters; the limit is ${MAX_KEY_LENGTH}.`,
    );
  }
  if (!KEY_CHARS.test(key)) {
    const bad = [...key].find((c) => !KEY_CHARS.test(c));
    throw new ValidationError(
      `The ${kind} key '${key}' contains ${JSON.stringify(bad)}; keys may hold only letters, digits, underscores (_), dashes (-), periods (.), spaces ( ) and slashes (/).`,
    );
  }
  if (key.startsWith('/') || key.split('/').some((part) => part === '..' || part === '.')) {
    throw new ValidationError(
      `The ${kind} key '${key}' is not a valid relative path: it may not start with '/' or contain '.' or '..' segments.`,
    );
  }
  if (validKeys.size < 10_000) validKeys.add(key);
  return key;
}

export function checkValue(kind: 'param' | 'tag', key: string, value: unknown): string {
  if (typeof value !== 'string') {
    throw new ValidationError(
      `The value of ${kind} '${key}' must be a string (got ${typeof value}).`,
    );
  }
  const max = kind === 'param' ? MAX_PARAM_VALUE_LENGTH : MAX_TAG_VALUE_LENGTH;
  if (value.length > max) {
    throw new ValidationError(
      `The value of ${kind} '${key}' has ${value.length} characters; the limit is ${max}.`,
    );
  }
  return value;
}

export function checkMetricValue(key: string, value: unknown): number {
  if (typeof value !== 'number') {
    throw new ValidationError(
      `The value of metric '${key}' must be a number (got ${JSON.stringify(value)}); NaN and Infinity are allowed.`,
    );
  }
  return value;
}

export function checkInteger(what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new ValidationError(`${what} must be an integer (got ${JSON.stringify(value)}).`);
  }
  return value;
}

export function checkName(what: string, name: unknown, max: number): string {
  if (typeof name !== 'string' || name.trim().length === 0) {
    throw new ValidationError(`${what} must be a non-empty string.`);
  }
  if (name.length > max) {
    throw new ValidationError(`${what} has ${name.length} characters; the limit is ${max}.`);
  }
  return name;
}

export function checkBatch(metrics: number, params: number, tags: number): void {
  const over: string[] = [];
  if (metrics > MAX_BATCH_METRICS) over.push(`${metrics} metrics (limit ${MAX_BATCH_METRICS})`);
  if (params > MAX_BATCH_PARAMS) over.push(`${params} params (limit ${MAX_BATCH_PARAMS})`);
  if (tags > MAX_BATCH_TAGS) over.push(`${tags} tags (limit ${MAX_BATCH_TAGS})`);
  if (over.length > 0) {
    throw new ValidationError(`A batch holds ${over.join(', ')}; split it into smaller batches.`);
  }
}
