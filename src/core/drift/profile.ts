// Column profiles: what a drift check needs to know about a reference dataset, kept
// small enough to store as a baseline (so later checks need no copy of the file).
// Numerical columns keep summary statistics and at most SAMPLE_SIZE order statistics;
// categorical ones keep their category counts; text keeps its derived numericals and
// the reference vocabulary.

import type { Column, ColumnKind, Table } from './readers.ts';

export const PROFILE_VERSION = 1;
/** Order statistics kept per numerical column of a baseline (the full column below this). */
export const SAMPLE_SIZE = 10_000;
/** Categories kept per column of a baseline; the rest are summed as OTHER_CATEGORY. */
export const MAX_CATEGORIES = 1000;
export const OTHER_CATEGORY = '(other)';
/** Words kept in a text column's reference vocabulary (the most frequent). */
export const MAX_VOCABULARY = 50_000;

export interface NumericSummary {
  /** Non-missing values in the column. */
  count: number;
  min: number;
  max: number;
  mean: number;
  /** Population standard deviation (ddof 0). */
  std: number;
  /** Percentiles 0, 1, ..., 100 (linear interpolation, as numpy). */
  quantiles: number[];
  /** Sorted values: the whole column, or SAMPLE_SIZE evenly spaced order statistics. */
  sample: number[];
  sampled: boolean;
}

export interface ColumnProfile {
  name: string;
  kind: ColumnKind;
  rows: number;
  missing: number;
  /** numerical, datetime. */
  numeric?: NumericSummary;
  /** categorical, binary: count per category (binary: per label). */
  categories?: Record<string, number>;
  /** text: length in characters and out-of-vocabulary share per row, and the vocabulary. */
  text?: { length: NumericSummary; oov: NumericSummary; vocabulary: string[] };
}

export interface BaselineProfile {
  version: number;
  /** The file as the user named it (workspace-relative where possible). */
  source: string;
  digest: string;
  rows: number;
  createdAt: number;
  columns: ColumnProfile[];
}

/** Values of a numerical column without its missing values, sorted. */
export function sortedValues(values: Float64Array): Float64Array {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i]!)) n++;
  const out = new Float64Array(n);
  let j = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isNaN(v)) out[j++] = v;
  }
  return out.sort();
}

/** numpy's default (linear) quantile of sorted values, q in 0..1. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (b - a) * (pos - lo);
}

export function summarize(sorted: Float64Array, sampleSize = SAMPLE_SIZE): NumericSummary {
  const n = sorted.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  const mean = n ? sum / n : NaN;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (sorted[i]! - mean) ** 2;
  const quantiles: number[] = [];
  for (let p = 0; p <= 100; p++) quantiles.push(quantileSorted(sorted, p / 100));
  let sample: number[];
  if (n <= sampleSize) sample = Array.from(sorted);
  else {
    // Evenly spaced order statistics: the reference's quantile function at
    // (i + 0.5) / k, which keeps its distribution (for Wasserstein, PSI bins, KS)
    // closer than a random sample of the same size would.
    sample = new Array<number>(sampleSize);
    for (let i = 0; i < sampleSize; i++) {
      sample[i] = sorted[Math.min(n - 1, Math.floor(((i + 0.5) * n) / sampleSize))]!;
    }
  }
  return {
    count: n,
    min: n ? sorted[0]! : NaN,
    max: n ? sorted[n - 1]! : NaN,
    mean,
    std: n ? Math.sqrt(ss / n) : NaN,
    quantiles,
    sample,
    sampled: n > sampleSize,
  };
}

/** Category counts of a categorical or binary column, by label. */
export function categoryCounts(column: Column): Map<string, number> {
  const out = new Map<string, number>();
  if (column.kind === 'binary' && column.values) {
    const labels = column.labels ?? ['0', '1'];
    let zeros = 0;
    let ones = 0;
    for (let i = 0; i < column.values.length; i++) {
      const v = column.values[i]!;
      if (v === 0) zeros++;
      else if (v === 1) ones++;
    }
    if (zeros) out.set(labels[0], zeros);
    if (ones) out.set(labels[1], ones);
    return out;
  }
  if (column.codes && column.dictionary) {
    const counts = new Float64Array(column.dictionary.length);
    for (let i = 0; i < column.codes.length; i++) {
      const c = column.codes[i]!;
      if (c >= 0) counts[c]!++;
    }
    column.dictionary.forEach((label, i) => {
      if (counts[i]) out.set(label, counts[i]!);
    });
    return out;
  }
  if (column.values) {
    // A numerical column treated as categories (few distinct values).
    for (let i = 0; i < column.values.length; i++) {
      const v = column.values[i]!;
      if (Number.isNaN(v)) continue;
      const k = String(v);
      out.set(k, (out.get(k) ?? 0) + 1);
    }
  }
  return out;
}

const WORD = /[\p{L}\p{N}']+/gu;

export function words(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}

/** The most frequent words of a text column, at most MAX_VOCABULARY. */
export function vocabularyOf(texts: Iterable<string>, max = MAX_VOCABULARY): Set<string> {
  const freq = new Map<string, number>();
  for (const t of texts) for (const w of words(t)) freq.set(w, (freq.get(w) ?? 0) + 1);
  if (freq.size <= max) return new Set(freq.keys());
  return new Set(
    [...freq.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, max)
      .map(([w]) => w),
  );
}

/** The strings of a text (or categorical) column, one per non-missing row. */
export function* textsOf(column: Column): Generator<string> {
  if (!column.codes || !column.dictionary) return;
  for (let i = 0; i < column.codes.length; i++) {
    const c = column.codes[i]!;
    if (c >= 0) yield column.dictionary[c]!;
  }
}

/** Length in characters and out-of-vocabulary share of each non-missing text, sorted each. */
export function textDerived(
  column: Column,
  vocabulary: Set<string>,
): { length: Float64Array; oov: Float64Array } {
  const lengths: number[] = [];
  const oov: number[] = [];
  for (const t of textsOf(column)) {
    lengths.push(t.length);
    const ws = words(t);
    let out = 0;
    for (const w of ws) if (!vocabulary.has(w)) out++;
    oov.push(ws.length ? out / ws.length : 0);
  }
  return { length: Float64Array.from(lengths).sort(), oov: Float64Array.from(oov).sort() };
}

/** A baseline profile of a table: everything a later drift check needs. */
export function profileTable(
  table: Table,
  meta: { source: string; digest: string; createdAt?: number },
): BaselineProfile {
  const columns: ColumnProfile[] = table.columns.map((c) => {
    const base = { name: c.name, kind: c.kind, rows: table.rowCount, missing: c.missing };
    if ((c.kind === 'numerical' || c.kind === 'datetime') && c.values) {
      return { ...base, numeric: summarize(sortedValues(c.values)) };
    }
    if (c.kind === 'text') {
      const vocabulary = vocabularyOf(textsOf(c));
      const d = textDerived(c, vocabulary);
      return {
        ...base,
        text: {
          length: summarize(d.length),
          oov: summarize(d.oov),
          vocabulary: [...vocabulary],
        },
      };
    }
    return { ...base, categories: capCategories(categoryCounts(c)) };
  });
  return {
    version: PROFILE_VERSION,
    source: meta.source,
    digest: meta.digest,
    rows: table.rowCount,
    createdAt: meta.createdAt ?? Date.now(),
    columns,
  };
}

function capCategories(counts: Map<string, number>): Record<string, number> {
  const entries = [...counts.entries()].sort((a, b) => b[1] - a[1]);
  const out: Record<string, number> = {};
  let other = 0;
  entries.forEach(([k, v], i) => {
    if (i < MAX_CATEGORIES) out[k] = v;
    else other += v;
  });
  if (other) out[OTHER_CATEGORY] = (out[OTHER_CATEGORY] ?? 0) + other;
  return out;
}

/** Checks a stored profile's shape before use; a clear error names what is wrong. */
export function parseProfile(value: unknown, where: string): BaselineProfile {
  const p = value as BaselineProfile;
  if (!p || typeof p !== 'object' || !Array.isArray(p.columns) || typeof p.rows !== 'number') {
    throw new Error(`${where} is not a baseline profile.`);
  }
  if (p.version > PROFILE_VERSION) {
    throw new Error(
      `${where} was written by a newer version of MLOps Workbench (profile version ${p.version}); update it.`,
    );
  }
  return p;
}
