// A drift check: every column of the current data against the reference (a file or a
// stored baseline), with the statistical test chosen per column as Evidently does
// (overridable per column and globally), a three-level verdict per column, and the
// dataset verdict from the share of drifted columns.

import { ValidationError } from '../model/errors.ts';
import {
  categoryCounts,
  OTHER_CATEGORY,
  sortedValues,
  textDerived,
  textsOf,
  vocabularyOf,
} from './profile.ts';
import type { BaselineProfile, ColumnProfile } from './profile.ts';
import type { Column, ColumnKind, Table } from './readers.ts';
import {
  chiSquare,
  jensenShannon,
  ks2Sample,
  psi,
  psiCategorical,
  wassersteinNormed,
  zTestProportions,
} from './stats.ts';
import type { Binning } from './stats.ts';

export const DRIFT_TESTS = ['ks', 'psi', 'chi2', 'wasserstein', 'js', 'z'] as const;
export type DriftTest = (typeof DRIFT_TESTS)[number];
export type Verdict = 'none' | 'possible' | 'drift';

/** Tests whose statistic is a p-value's test (drift when p < threshold). */
const P_VALUE_TESTS: ReadonlySet<DriftTest> = new Set(['ks', 'chi2', 'z']);

/** Default thresholds: p-values for ks / chi2 / z, distances for the others (Evidently's). */
export const DEFAULT_THRESHOLDS: Record<DriftTest, number> = {
  ks: 0.05,
  chi2: 0.05,
  z: 0.05,
  wasserstein: 0.1,
  js: 0.1,
  psi: 0.25,
};

/**
 * Where "possible drift" starts, from the drift threshold: p below twice the threshold;
 * a distance above half of it; PSI from 0.1 when drift is at 0.25 (the usual bands:
 * < 0.1 none, 0.1-0.25 moderate, >= 0.25 significant).
 */
export function possibleThreshold(test: DriftTest, threshold: number): number {
  if (P_VALUE_TESTS.has(test)) return Math.min(1, threshold * 2);
  if (test === 'psi') return threshold * 0.4;
  return threshold / 2;
}

/** At or below this many reference values, the p-value tests are used (Evidently's rule). */
export const SMALL_REFERENCE = 1000;
/** A numerical column with at most this many distinct reference values is tested as categories. */
export const FEW_VALUES = 5;
/** Share of drifted columns at which the dataset is said to drift. */
export const DEFAULT_DRIFT_SHARE = 0.5;
const CHART_BINS = 20;
const CHART_CATEGORIES = 20;

export interface DriftOptions {
  /** Check only these columns. */
  columns?: string[];
  /** Test per column, over the automatic choice. */
  tests?: Record<string, DriftTest>;
  /** Test for every column without its own. */
  test?: DriftTest;
  /** Drift threshold per column, over the test's default. */
  thresholds?: Record<string, number>;
  /** Drift threshold for every column without its own. */
  threshold?: number;
  /** Bins for PSI (and for chi-square / Jensen-Shannon on numerical columns); default 10. */
  bins?: number;
  binning?: Binning;
  /** Share of drifted columns for dataset drift (default 0.5). */
  driftShare?: number;
  signal?: AbortSignal;
}

export type ColumnChart =
  | { kind: 'histogram'; edges: number[]; reference: number[]; current: number[] }
  | { kind: 'categories'; labels: string[]; reference: number[]; current: number[] };

export interface ColumnDrift {
  /** The column, or for text a derived one: `review (length)`, `review (out-of-vocabulary share)`. */
  column: string;
  sourceColumn: string;
  kind: ColumnKind;
  test: DriftTest;
  /** How the test was chosen. */
  chosenBy: 'auto' | 'column' | 'global';
  /** Why the automatic choice picked the test. */
  reason: string;
  statistic: number | null;
  pValue: number | null;
  threshold: number;
  possibleThreshold: number;
  drift: boolean;
  verdict: Verdict;
  /** Bin edges of a binned test (PSI; chi-square / JS on numbers), else null. */
  bins: number[] | null;
  reference: { count: number; missing: number; sampled: boolean };
  current: { count: number; missing: number };
  chart: ColumnChart | null;
  /** Set when the column could not be tested (no values on one side); it is then left out of the share. */
  error?: string;
}

export interface DriftReport {
  /** `skipped`: rows skipped as malformed (read with skipMalformed), when there were any. */
  reference: {
    source: string;
    rows: number;
    digest: string | null;
    baseline: string | null;
    skipped?: number;
  };
  current: { source: string; rows: number; digest: string | null; skipped?: number };
  columns: ColumnDrift[];
  /** Columns of the reference absent from the current data (and the reverse). */
  missingColumns: string[];
  newColumns: string[];
  driftedColumns: number;
  checkedColumns: number;
  driftedShare: number;
  driftShareThreshold: number;
  datasetDrift: boolean;
  datasetVerdict: Verdict;
  createdAt: number;
}

/** One side of a column, as the tests need it. */
type Side =
  | { type: 'num'; sorted: Float64Array; count: number; missing: number; sampled: boolean }
  | { type: 'cat'; counts: Map<string, number>; count: number; missing: number };

interface Prepared {
  column: string;
  sourceColumn: string;
  kind: ColumnKind;
  ref: Side;
  cur: Side;
}

export type DriftReference =
  | { table: Table; source?: string; digest?: string | null }
  | { profile: BaselineProfile; baseline: string };

/** Runs the check. The current table should be read with the reference's column kinds. */
export function checkDrift(
  reference: DriftReference,
  current: Table,
  meta: { currentSource?: string; currentDigest?: string | null } = {},
  options: DriftOptions = {},
): DriftReport {
  for (const [col, t] of Object.entries(options.tests ?? {})) {
    if (!DRIFT_TESTS.includes(t)) {
      throw new ValidationError(
        `Unknown test '${t}' for column ${col}; use one of ${DRIFT_TESTS.join(', ')}.`,
      );
    }
  }
  if (options.test && !DRIFT_TESTS.includes(options.test)) {
    throw new ValidationError(
      `Unknown test '${options.test}'; use one of ${DRIFT_TESTS.join(', ')}.`,
    );
  }
  const bins = options.bins ?? 10;
  if (!Number.isInteger(bins) || bins < 2 || bins > 1000) {
    throw new ValidationError(`bins must be a whole number from 2 to 1000 (got ${bins}).`);
  }
  const driftShare = options.driftShare ?? DEFAULT_DRIFT_SHARE;
  if (!(driftShare > 0 && driftShare <= 1)) {
    throw new ValidationError(`The drift share must be above 0 and at most 1 (got ${driftShare}).`);
  }
  const refNames =
    'table' in reference
      ? reference.table.columns.map((c) => c.name)
      : reference.profile.columns.map((c) => c.name);
  const curByName = new Map(current.columns.map((c) => [c.name, c]));
  let names = refNames.filter((n) => curByName.has(n));
  if (options.columns?.length) {
    for (const c of options.columns) {
      const where = [];
      if (!refNames.includes(c)) where.push('the reference');
      if (!curByName.has(c)) where.push('the current data');
      if (where.length) {
        throw new ValidationError(
          `Column ${c} is not in ${where.join(' or ')}. Columns in both: ${names.join(', ') || '(none)'}.`,
        );
      }
    }
    names = options.columns;
  }
  for (const col of [
    ...Object.keys(options.tests ?? {}),
    ...Object.keys(options.thresholds ?? {}),
  ]) {
    if (!names.includes(col)) {
      throw new ValidationError(
        `A test or threshold names column ${col}, which is not checked. Columns checked: ${names.join(', ')}.`,
      );
    }
  }

  const columns: ColumnDrift[] = [];
  for (const name of names) {
    if (options.signal?.aborted) {
      const e = new Error('The drift check was cancelled.');
      e.name = 'AbortError';
      throw e;
    }
    const cur = curByName.get(name)!;
    const prepared =
      'table' in reference
        ? prepareFromTable(
            reference.table.columns.find((c) => c.name === name)!,
            reference.table,
            cur,
            current,
          )
        : prepareFromProfile(
            reference.profile.columns.find((c) => c.name === name)!,
            cur,
            current,
          );
    for (const p of prepared) columns.push(testColumn(p, options, bins));
  }

  // A text column drifts when one of its derived columns does.
  const bySource = new Map<string, Verdict[]>();
  for (const c of columns) {
    if (c.error) continue;
    const list = bySource.get(c.sourceColumn) ?? [];
    list.push(c.verdict);
    bySource.set(c.sourceColumn, list);
  }
  let drifted = 0;
  let possible = 0;
  for (const verdicts of bySource.values()) {
    if (verdicts.includes('drift')) drifted++;
    else if (verdicts.includes('possible')) possible++;
  }
  const checked = bySource.size;
  const share = checked ? drifted / checked : 0;
  const datasetDrift = checked > 0 && share >= driftShare;
  const curNames = current.columns.map((c) => c.name);
  return {
    reference:
      'table' in reference
        ? {
            source: reference.source ?? reference.table.file,
            rows: reference.table.rowCount,
            digest: reference.digest ?? null,
            baseline: null,
          }
        : {
            source: reference.profile.source,
            rows: reference.profile.rows,
            digest: reference.profile.digest,
            baseline: reference.baseline,
          },
    current: {
      source: meta.currentSource ?? current.file,
      rows: current.rowCount,
      digest: meta.currentDigest ?? null,
    },
    columns,
    missingColumns: refNames.filter((n) => !curByName.has(n)),
    newColumns: curNames.filter((n) => !refNames.includes(n)),
    driftedColumns: drifted,
    checkedColumns: checked,
    driftedShare: share,
    driftShareThreshold: driftShare,
    datasetDrift,
    datasetVerdict: datasetDrift
      ? 'drift'
      : checked > 0 && (drifted + possible) / checked >= driftShare
        ? 'possible'
        : 'none',
    createdAt: Date.now(),
  };
}

function numSide(values: Float64Array, rows: number): Side {
  const sorted = sortedValues(values);
  return {
    type: 'num',
    sorted,
    count: sorted.length,
    missing: rows - sorted.length,
    sampled: false,
  };
}

function catSide(column: Column, rows: number): Side {
  const counts = categoryCounts(column);
  let count = 0;
  for (const v of counts.values()) count += v;
  return { type: 'cat', counts, count, missing: rows - count };
}

const LENGTH = (name: string): string => `${name} (length)`;
const OOV = (name: string): string => `${name} (out-of-vocabulary share)`;

function prepareFromTable(ref: Column, refTable: Table, cur: Column, curTable: Table): Prepared[] {
  const kind = ref.kind;
  if (kind === 'text') {
    const vocabulary = vocabularyOf(textsOf(ref));
    const r = textDerived(ref, vocabulary);
    const c = textDerived(cur, vocabulary);
    const side = (sorted: Float64Array, rows: number): Side => ({
      type: 'num',
      sorted,
      count: sorted.length,
      missing: rows - sorted.length,
      sampled: false,
    });
    return [
      {
        column: LENGTH(ref.name),
        sourceColumn: ref.name,
        kind,
        ref: side(r.length, refTable.rowCount),
        cur: side(c.length, curTable.rowCount),
      },
      {
        column: OOV(ref.name),
        sourceColumn: ref.name,
        kind,
        ref: side(r.oov, refTable.rowCount),
        cur: side(c.oov, curTable.rowCount),
      },
    ];
  }
  const numeric = (kind === 'numerical' || kind === 'datetime') && ref.values && cur.values;
  return [
    {
      column: ref.name,
      sourceColumn: ref.name,
      kind,
      ref: numeric ? numSide(ref.values!, refTable.rowCount) : catSide(ref, refTable.rowCount),
      cur: numeric ? numSide(cur.values!, curTable.rowCount) : catSide(cur, curTable.rowCount),
    },
  ];
}

function prepareFromProfile(ref: ColumnProfile, cur: Column, curTable: Table): Prepared[] {
  const kind = ref.kind;
  if (kind === 'text' && ref.text) {
    const vocabulary = new Set(ref.text.vocabulary);
    const c = textDerived(cur, vocabulary);
    const refSide = (s: ColumnProfile['numeric'] & object): Side => ({
      type: 'num',
      sorted: Float64Array.from(s.sample),
      count: s.count,
      missing: ref.missing,
      sampled: s.sampled,
    });
    const curSide = (sorted: Float64Array): Side => ({
      type: 'num',
      sorted,
      count: sorted.length,
      missing: curTable.rowCount - sorted.length,
      sampled: false,
    });
    return [
      {
        column: LENGTH(ref.name),
        sourceColumn: ref.name,
        kind,
        ref: refSide(ref.text.length),
        cur: curSide(c.length),
      },
      {
        column: OOV(ref.name),
        sourceColumn: ref.name,
        kind,
        ref: refSide(ref.text.oov),
        cur: curSide(c.oov),
      },
    ];
  }
  if (ref.numeric && cur.values) {
    return [
      {
        column: ref.name,
        sourceColumn: ref.name,
        kind,
        ref: {
          type: 'num',
          sorted: Float64Array.from(ref.numeric.sample),
          count: ref.numeric.count,
          missing: ref.missing,
          sampled: ref.numeric.sampled,
        },
        cur: numSide(cur.values, curTable.rowCount),
      },
    ];
  }
  const counts = new Map(Object.entries(ref.categories ?? {}));
  let count = 0;
  for (const v of counts.values()) count += v;
  const curSide = catSide(cur, curTable.rowCount) as Extract<Side, { type: 'cat' }>;
  // Categories the baseline summed as "(other)" are summed the same way on this side.
  if (counts.has(OTHER_CATEGORY)) {
    let other = 0;
    for (const [k, v] of [...curSide.counts]) {
      if (!counts.has(k)) {
        other += v;
        curSide.counts.delete(k);
      }
    }
    if (other)
      curSide.counts.set(OTHER_CATEGORY, (curSide.counts.get(OTHER_CATEGORY) ?? 0) + other);
  }
  return [
    {
      column: ref.name,
      sourceColumn: ref.name,
      kind,
      ref: { type: 'cat', counts, count, missing: ref.missing },
      cur: curSide,
    },
  ];
}

/** Distinct values of a sorted array, up to `cap + 1`. */
function distinctSorted(sorted: Float64Array, cap: number): number {
  let n = 0;
  for (let i = 0; i < sorted.length && n <= cap; i++)
    if (i === 0 || sorted[i] !== sorted[i - 1]) n++;
  return n;
}

function toCategories(side: Extract<Side, { type: 'num' }>): Extract<Side, { type: 'cat' }> {
  const counts = new Map<string, number>();
  for (let i = 0; i < side.sorted.length; i++) {
    const k = String(side.sorted[i]);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  // A sampled reference stands for `count` values: scale its counts to them.
  if (side.sampled && side.sorted.length) {
    const f = side.count / side.sorted.length;
    for (const [k, v] of counts) counts.set(k, v * f);
  }
  return { type: 'cat', counts, count: side.count, missing: side.missing };
}

function chooseTest(p: Prepared): { test: DriftTest; reason: string } {
  const n = p.ref.count;
  const small = n <= SMALL_REFERENCE;
  const size = `${n} reference values ${small ? '<=' : '>'} ${SMALL_REFERENCE}`;
  if (p.ref.type === 'num') {
    const distinct = distinctSorted(p.ref.sorted, FEW_VALUES);
    if (distinct <= FEW_VALUES && p.kind !== 'text') {
      const few = `${distinct} distinct values <= ${FEW_VALUES}, tested as categories`;
      if (!small) return { test: 'js', reason: `${few}; ${size}` };
      // As for categories: a value only the current data has makes it chi-square, not Z.
      const values = new Set([...catOf(p.ref).counts.keys(), ...catOf(p.cur).counts.keys()]);
      return values.size <= 2
        ? { test: 'z', reason: `${few}; two values; ${size}` }
        : { test: 'chi2', reason: `${few}; ${size}` };
    }
    return small
      ? { test: 'ks', reason: `numerical; ${size}` }
      : { test: 'wasserstein', reason: `numerical; ${size}` };
  }
  if (!small) return { test: 'js', reason: `${p.kind}; ${size}` };
  const labels = new Set([
    ...p.ref.counts.keys(),
    ...(p.cur.type === 'cat' ? p.cur.counts.keys() : []),
  ]);
  return labels.size <= 2
    ? { test: 'z', reason: `${p.kind}, two categories; ${size}` }
    : { test: 'chi2', reason: `${p.kind}; ${size}` };
}

function testColumn(p: Prepared, options: DriftOptions, bins: number): ColumnDrift {
  const own = options.tests?.[p.sourceColumn] ?? options.tests?.[p.column];
  const auto = chooseTest(p);
  const test = own ?? options.test ?? auto.test;
  const chosenBy = own ? 'column' : options.test ? 'global' : 'auto';
  const threshold =
    options.thresholds?.[p.sourceColumn] ??
    options.thresholds?.[p.column] ??
    options.threshold ??
    DEFAULT_THRESHOLDS[test];
  const base = {
    column: p.column,
    sourceColumn: p.sourceColumn,
    kind: p.kind,
    test,
    chosenBy,
    reason:
      chosenBy === 'auto'
        ? auto.reason
        : `chosen for ${chosenBy === 'column' ? 'this column' : 'every column'}`,
    threshold,
    possibleThreshold: possibleThreshold(test, threshold),
    reference: {
      count: p.ref.count,
      missing: p.ref.missing,
      sampled: p.ref.type === 'num' && p.ref.sampled,
    },
    current: { count: p.cur.count, missing: p.cur.missing },
  } as const;
  const empty = (side: string): ColumnDrift => ({
    ...base,
    statistic: null,
    pValue: null,
    drift: false,
    verdict: 'none',
    bins: null,
    chart: null,
    error: `no values in the ${side} data`,
  });
  if (p.ref.count === 0) return empty('reference');
  if (p.cur.count === 0) return empty('current');

  const { statistic, pValue, edges } = runTest(test, p, bins, options.binning ?? 'quantile');
  const verdict: Verdict = P_VALUE_TESTS.has(test)
    ? pValue! < threshold
      ? 'drift'
      : pValue! < base.possibleThreshold
        ? 'possible'
        : 'none'
    : statistic >= threshold
      ? 'drift'
      : statistic >= base.possibleThreshold
        ? 'possible'
        : 'none';
  return {
    ...base,
    statistic,
    pValue,
    drift: verdict === 'drift',
    verdict,
    bins: edges,
    chart: chartOf(p),
  };
}

function runTest(
  test: DriftTest,
  p: Prepared,
  bins: number,
  binning: Binning,
): { statistic: number; pValue: number | null; edges: number[] | null } {
  const { ref, cur } = p;
  const needNumbers = (): [Float64Array, Float64Array] => {
    if (ref.type !== 'num' || cur.type !== 'num') {
      throw new ValidationError(
        `Column ${p.column} is ${p.kind}; the ${test} test needs a numerical column (use chi2, js, psi or z).`,
      );
    }
    return [ref.sorted, cur.sorted];
  };
  switch (test) {
    case 'ks': {
      const [a, b] = needNumbers();
      const r = ks2Sample(a, b);
      return { statistic: r.statistic, pValue: r.pValue, edges: null };
    }
    case 'wasserstein': {
      const [a, b] = needNumbers();
      return { statistic: wassersteinNormed(a, b), pValue: null, edges: null };
    }
    case 'psi': {
      if (ref.type === 'num' && cur.type === 'num') {
        const r = psi(ref.sorted, cur.sorted, { binning, bins });
        return { statistic: r.value, pValue: null, edges: r.edges };
      }
      const [a, b] = aligned(p);
      return { statistic: psiCategorical(a, b), pValue: null, edges: null };
    }
    case 'js':
    case 'chi2': {
      let a: number[];
      let b: number[];
      let edges: number[] | null = null;
      if (
        ref.type === 'num' &&
        cur.type === 'num' &&
        distinctSorted(ref.sorted, FEW_VALUES) > FEW_VALUES
      ) {
        // Numbers are compared through the reference's quantile bins, as for PSI.
        const r = psi(ref.sorted, cur.sorted, { binning, bins });
        edges = r.edges;
        a = r.refShares.map((s) => s * ref.count);
        b = r.curShares.map((s) => s * cur.count);
      } else {
        [a, b] = aligned(p);
      }
      if (test === 'js') return { statistic: jensenShannon(a, b), pValue: null, edges };
      const r = chiSquare(a, b);
      return { statistic: r.statistic, pValue: r.pValue, edges };
    }
    case 'z': {
      const [a, b, labels] = alignedWithLabels(p);
      if (labels.length > 2) {
        throw new ValidationError(
          `Column ${p.column} has ${labels.length} categories; the z test compares two proportions (use chi2 or js).`,
        );
      }
      const refTotal = a.reduce((s, v) => s + v, 0);
      const curTotal = b.reduce((s, v) => s + v, 0);
      const r = zTestProportions(a[0] ?? 0, refTotal, b[0] ?? 0, curTotal);
      return { statistic: r.statistic, pValue: r.pValue, edges: null };
    }
  }
}

function catOf(side: Side): Extract<Side, { type: 'cat' }> {
  return side.type === 'cat' ? side : toCategories(side);
}

function alignedWithLabels(p: Prepared): [number[], number[], string[]] {
  const r = catOf(p.ref);
  const c = catOf(p.cur);
  const labels = [...new Set([...r.counts.keys(), ...c.counts.keys()])].sort();
  return [labels.map((l) => r.counts.get(l) ?? 0), labels.map((l) => c.counts.get(l) ?? 0), labels];
}

function aligned(p: Prepared): [number[], number[]] {
  const [a, b] = alignedWithLabels(p);
  return [a, b];
}

/** Shares for overlaid charts: equal-width bins over both sides' range, or the top categories. */
function chartOf(p: Prepared): ColumnChart {
  const { ref, cur } = p;
  if (
    ref.type === 'num' &&
    cur.type === 'num' &&
    distinctSorted(ref.sorted, FEW_VALUES) > FEW_VALUES
  ) {
    const lo = Math.min(ref.sorted[0]!, cur.sorted[0]!);
    const hi = Math.max(ref.sorted[ref.sorted.length - 1]!, cur.sorted[cur.sorted.length - 1]!);
    const width = (hi - lo) / CHART_BINS || 1;
    const edges = Array.from({ length: CHART_BINS + 1 }, (_, i) => lo + i * width);
    const shares = (sorted: Float64Array): number[] => {
      const counts = new Array<number>(CHART_BINS).fill(0);
      for (let i = 0; i < sorted.length; i++) {
        const k = Math.min(CHART_BINS - 1, Math.floor((sorted[i]! - lo) / width));
        counts[k]!++;
      }
      return counts.map((c) => c / sorted.length);
    };
    return { kind: 'histogram', edges, reference: shares(ref.sorted), current: shares(cur.sorted) };
  }
  const [a, b, labels] = alignedWithLabels(p);
  const ta = a.reduce((s, v) => s + v, 0) || 1;
  const tb = b.reduce((s, v) => s + v, 0) || 1;
  const order = labels
    .map((l, i) => ({ l, ra: a[i]! / ta, rb: b[i]! / tb }))
    .sort((x, y) => y.ra + y.rb - (x.ra + x.rb));
  const top = order.slice(0, CHART_CATEGORIES);
  const rest = order.slice(CHART_CATEGORIES);
  if (rest.length) {
    top.push({
      l: `${rest.length} more`,
      ra: rest.reduce((s, x) => s + x.ra, 0),
      rb: rest.reduce((s, x) => s + x.rb, 0),
    });
  }
  return {
    kind: 'categories',
    labels: top.map((x) => x.l),
    reference: top.map((x) => x.ra),
    current: top.map((x) => x.rb),
  };
}

/**
 * The exit-code decision of `mlops drift --fail-on`: the dataset's verdict (drifted
 * columns' share against the drift share) at or above the level.
 */
export function failsAt(report: DriftReport, level: 'drift' | 'possible'): boolean {
  return level === 'drift' ? report.datasetVerdict === 'drift' : report.datasetVerdict !== 'none';
}
