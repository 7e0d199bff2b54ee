// The drift check on small synthetic tables written as CSV and read back: the test
// chosen per column as Evidently does, statistics that equal the stats.ts functions on
// the same values, overrides of tests, thresholds and bins, the three verdict levels at
// their boundaries, the dataset verdict, missing and empty columns, --columns, and a
// stored baseline profile against the file it was made from.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { ValidationError } from '../../src/core/model/errors.ts';
import {
  DEFAULT_THRESHOLDS,
  DRIFT_TESTS,
  checkDrift,
  failsAt,
  possibleThreshold,
  type ColumnDrift,
  type DriftOptions,
  type DriftReport,
} from '../../src/core/drift/check.ts';
import {
  SAMPLE_SIZE,
  parseProfile,
  profileTable,
  summarize,
  type BaselineProfile,
} from '../../src/core/drift/profile.ts';
import { readTable, type ColumnKind, type Table } from '../../src/core/drift/readers.ts';
import {
  chiSquare,
  jensenShannon,
  ks2Sample,
  psi,
  psiCategorical,
  wassersteinNormed,
  zTestProportions,
} from '../../src/core/drift/stats.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drift-check-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

type Cell = number | string | null;
type Columns = Record<string, Cell[]>;

/** A seeded uniform generator (mulberry32), so every run sees the same data. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n normal values rounded to 4 decimals (so the CSV text reads back as the same number). */
function normals(n: number, mean: number, sd: number, seed: number): number[] {
  const u = rng(seed);
  return Array.from({ length: n }, () => {
    const z = Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
    return Math.round((mean + sd * z) * 1e4) / 1e4;
  });
}

/** n values cycling through `values`. */
function cycle<T>(n: number, values: T[]): T[] {
  return Array.from({ length: n }, (_, i) => values[i % values.length]!);
}

function sorted(values: Cell[]): Float64Array {
  return Float64Array.from(values.filter((v): v is number => typeof v === 'number')).sort();
}

/** Counts per label, aligned on the sorted union of labels (as check.ts aligns them). */
function alignedCounts(ref: Cell[], cur: Cell[]): [number[], number[], string[]] {
  const count = (xs: Cell[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const x of xs) if (x !== null) m.set(String(x), (m.get(String(x)) ?? 0) + 1);
    return m;
  };
  const r = count(ref);
  const c = count(cur);
  const labels = [...new Set([...r.keys(), ...c.keys()])].sort();
  return [labels.map((l) => r.get(l) ?? 0), labels.map((l) => c.get(l) ?? 0), labels];
}

let files = 0;
/** A CSV file of the columns; missing cells (and the short columns' tails) are written NA,
 * since a blank line of a one-column CSV is skipped rather than read as a missing row. */
function writeCsv(cols: Columns): string {
  const names = Object.keys(cols);
  const rows = Math.max(...names.map((n) => cols[n]!.length));
  const cell = (v: Cell | undefined): string =>
    v === null || v === undefined ? 'NA' : typeof v === 'number' ? String(v) : v;
  const lines = [names.join(',')];
  for (let r = 0; r < rows; r++) lines.push(names.map((n) => cell(cols[n]![r])).join(','));
  const file = path.join(dir, `t${files++}.csv`);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** Both tables, the current one read with the reference's kinds (as runDriftCheck does). */
async function readPair(ref: Columns, cur: Columns): Promise<[Table, Table]> {
  const refTable = await readTable(writeCsv(ref));
  const kinds: Record<string, ColumnKind> = Object.fromEntries(
    refTable.columns.map((c) => [c.name, c.kind]),
  );
  const curTable = await readTable(writeCsv(cur), { kinds });
  return [refTable, curTable];
}

async function check(ref: Columns, cur: Columns, options: DriftOptions = {}): Promise<DriftReport> {
  const [r, c] = await readPair(ref, cur);
  return checkDrift({ table: r }, c, {}, options);
}

function col(report: DriftReport, name: string): ColumnDrift {
  const c = report.columns.find((x) => x.column === name);
  assert.ok(c, `no column ${name} in ${report.columns.map((x) => x.column).join(', ')}`);
  return c;
}

/** Throws, with a ValidationError whose message matches every pattern. */
function throwsValidation(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ValidationError, `not a ValidationError: ${String(e)}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

const TEXT_A = 'the quick brown fox jumps over the lazy dog'; // 43 characters, 9 words
const TEXT_B = 'a slow green turtle walks under the tall old tree'; // 49 characters, 10 words
const TEXT_C = 'the quick brown fox jumps over the lazy cat'; // 43 characters, "cat" is new
const TEXT_D = 'a slow green turtle walks under the tall old tree today'; // 55, "today" is new

describe('constants', () => {
  test('the tests and their default thresholds are those the README documents', () => {
    assert.deepEqual([...DRIFT_TESTS], ['ks', 'psi', 'chi2', 'wasserstein', 'js', 'z']);
    assert.deepEqual(DEFAULT_THRESHOLDS, {
      ks: 0.05,
      chi2: 0.05,
      z: 0.05,
      wasserstein: 0.1,
      js: 0.1,
      psi: 0.25,
    });
  });

  test('possible drift: twice the threshold for p-values (at most 1), half for distances, 0.4 for PSI', () => {
    assert.equal(possibleThreshold('ks', 0.05), 0.1);
    assert.equal(possibleThreshold('chi2', 0.05), 0.1);
    assert.equal(possibleThreshold('z', 0.01), 0.02);
    assert.equal(possibleThreshold('ks', 0.7), 1);
    assert.equal(possibleThreshold('wasserstein', 0.1), 0.05);
    assert.equal(possibleThreshold('js', 0.3), 0.15);
    assert.equal(possibleThreshold('psi', 0.25), 0.1);
    assert.equal(possibleThreshold('psi', 0.5), 0.2);
  });
});

describe('automatic test choice', () => {
  test('numerical: KS at 1000 reference values, normalised Wasserstein at 1001', async () => {
    const cur = normals(300, 0, 1, 2);
    const small = await check({ x: normals(1000, 0, 1, 1) }, { x: cur });
    assert.equal(col(small, 'x').kind, 'numerical');
    assert.equal(col(small, 'x').test, 'ks');
    assert.equal(col(small, 'x').chosenBy, 'auto');
    assert.match(col(small, 'x').reason, /1000 reference values <= 1000/);
    assert.equal(col(small, 'x').threshold, 0.05);
    assert.notEqual(col(small, 'x').pValue, null);

    const big = await check({ x: normals(1001, 0, 1, 1) }, { x: cur });
    assert.equal(col(big, 'x').test, 'wasserstein');
    assert.match(col(big, 'x').reason, /1001 reference values > 1000/);
    assert.equal(col(big, 'x').threshold, 0.1);
    assert.equal(col(big, 'x').pValue, null);
  });

  test('the reference size counts non-missing values only', async () => {
    // 1001 rows, one of them missing: 1000 values, so still KS.
    const ref: Cell[] = normals(1001, 0, 1, 3);
    ref[500] = null;
    const r = await check({ x: ref }, { x: normals(200, 0, 1, 4) });
    assert.equal(col(r, 'x').test, 'ks');
    assert.deepEqual(col(r, 'x').reference, { count: 1000, missing: 1, sampled: false });
  });

  test('categorical: chi-square up to 1000 values, Jensen-Shannon past it', async () => {
    const cur = cycle(300, ['red', 'green', 'blue', 'blue']);
    const small = await check({ c: cycle(1000, ['red', 'green', 'blue']) }, { c: cur });
    assert.equal(col(small, 'c').kind, 'categorical');
    assert.equal(col(small, 'c').test, 'chi2');
    assert.equal(col(small, 'c').bins, null);
    const big = await check({ c: cycle(1001, ['red', 'green', 'blue']) }, { c: cur });
    assert.equal(col(big, 'c').test, 'js');
    assert.equal(col(big, 'c').pValue, null);
  });

  test('two categories: the Z-test up to 1000 values (binary and categorical), else Jensen-Shannon', async () => {
    const bin = await check(
      { b: cycle(1000, ['yes', 'no', 'no']), c: cycle(1000, ['red', 'blue']) },
      { b: cycle(200, ['yes', 'no']), c: cycle(200, ['red', 'blue', 'blue']) },
    );
    assert.equal(col(bin, 'b').kind, 'binary');
    assert.equal(col(bin, 'b').test, 'z');
    assert.match(col(bin, 'b').reason, /two categories/);
    assert.equal(col(bin, 'c').kind, 'categorical');
    assert.equal(col(bin, 'c').test, 'z');
    const big = await check(
      { b: cycle(1001, ['yes', 'no']), c: cycle(1001, ['red', 'blue']) },
      { b: cycle(200, ['yes', 'no']), c: cycle(200, ['red', 'blue']) },
    );
    assert.equal(col(big, 'b').test, 'js');
    assert.equal(col(big, 'c').test, 'js');
  });

  test('a third category seen only in the current data makes it chi-square, not Z', async () => {
    const r = await check(
      { c: cycle(100, ['red', 'blue']) },
      { c: cycle(90, ['red', 'blue', 'green']) },
    );
    assert.equal(col(r, 'c').test, 'chi2');
  });

  test('numerical with at most 5 distinct values is tested as categories; 6 values as numbers', async () => {
    const five = await check(
      { n: cycle(500, [1, 2, 3, 4, 5]) },
      { n: cycle(200, [1, 2, 3, 4, 5, 5]) },
    );
    assert.equal(col(five, 'n').kind, 'numerical');
    assert.equal(col(five, 'n').test, 'chi2');
    assert.match(col(five, 'n').reason, /5 distinct values <= 5, tested as categories/);
    assert.equal(col(five, 'n').bins, null, 'categories, not bins');

    const six = await check({ n: cycle(500, [1, 2, 3, 4, 5, 6]) }, { n: cycle(200, [1, 2, 3]) });
    assert.equal(col(six, 'n').test, 'ks');

    const two = await check({ n: cycle(500, [10, 20]) }, { n: cycle(200, [10, 20, 20]) });
    assert.equal(col(two, 'n').test, 'z');

    const bigFew = await check({ n: cycle(1001, [1, 2, 3]) }, { n: cycle(200, [1, 2, 3]) });
    assert.equal(col(bigFew, 'n').test, 'js');
  });

  test('two numbers in the reference and a third in the current data: chi-square, not a failing Z-test', async () => {
    const ref = cycle(100, [10, 20]);
    const cur = cycle(90, [10, 20, 30]);
    const r = await check({ n: ref }, { n: cur });
    assert.equal(col(r, 'n').test, 'chi2');
    const [a, b] = alignedCounts(ref, cur);
    assert.equal(col(r, 'n').statistic, chiSquare(a, b).statistic);
  });

  test('text: two derived numerical rows, length and out-of-vocabulary share, never tested as categories', async () => {
    const ref = cycle(40, [TEXT_A, TEXT_B]);
    const cur = cycle(30, [TEXT_A, TEXT_C, TEXT_D]);
    const r = await check({ review: ref }, { review: cur });
    assert.deepEqual(
      r.columns.map((c) => [c.column, c.sourceColumn, c.kind, c.test]),
      [
        ['review (length)', 'review', 'text', 'ks'],
        ['review (out-of-vocabulary share)', 'review', 'text', 'ks'],
      ],
      'two distinct lengths would be "few values" for a numerical column, but text stays KS',
    );
    const lengths = (xs: string[]): Float64Array =>
      Float64Array.from(xs.map((t) => t.length)).sort();
    const oov = (t: string): number => (t === TEXT_C ? 1 / 9 : t === TEXT_D ? 1 / 11 : 0);
    const expectLength = ks2Sample(lengths(ref), lengths(cur));
    const expectOov = ks2Sample(
      Float64Array.from(ref.map(oov)).sort(),
      Float64Array.from(cur.map(oov)).sort(),
    );
    assert.equal(col(r, 'review (length)').statistic, expectLength.statistic);
    assert.equal(col(r, 'review (length)').pValue, expectLength.pValue);
    assert.equal(col(r, 'review (out-of-vocabulary share)').statistic, expectOov.statistic);
    assert.equal(col(r, 'review (out-of-vocabulary share)').pValue, expectOov.pValue);
    // Two thirds of the current texts have an unknown word; none of the reference's do.
    assert.ok(Math.abs(expectOov.statistic - 2 / 3) < 1e-12);

    const big = await check({ review: cycle(1001, [TEXT_A, TEXT_B]) }, { review: cur });
    assert.equal(col(big, 'review (length)').test, 'wasserstein');
    assert.equal(col(big, 'review (out-of-vocabulary share)').test, 'wasserstein');
  });
});

describe('statistics equal the stats.ts functions on the same values', () => {
  test('KS, with missing values left out', async () => {
    const ref: Cell[] = normals(400, 0, 1, 10);
    const cur: Cell[] = normals(300, 0.3, 1, 11);
    ref[3] = null;
    ref[7] = null;
    cur[0] = null;
    const r = await check({ x: ref }, { x: cur });
    const expected = ks2Sample(sorted(ref), sorted(cur));
    assert.equal(col(r, 'x').statistic, expected.statistic);
    assert.equal(col(r, 'x').pValue, expected.pValue);
    assert.deepEqual(col(r, 'x').reference, { count: 398, missing: 2, sampled: false });
    assert.deepEqual(col(r, 'x').current, { count: 299, missing: 1 });
  });

  test('normalised Wasserstein', async () => {
    const ref = normals(1500, 5, 2, 12);
    const cur = normals(700, 5.5, 2, 13);
    const r = await check({ x: ref }, { x: cur });
    assert.equal(col(r, 'x').statistic, wassersteinNormed(sorted(ref), sorted(cur)));
    assert.equal(col(r, 'x').bins, null);
  });

  test('chi-square, Z and Jensen-Shannon on category counts', async () => {
    const refC = cycle(600, ['a', 'b', 'c', 'c']);
    const curC = cycle(400, ['a', 'b', 'b', 'c']);
    const refB = cycle(600, ['yes', 'no', 'no']);
    const curB = cycle(400, ['yes', 'no']);
    const r = await check({ c: refC, b: refB }, { c: curC, b: curB });
    const [ca, cb] = alignedCounts(refC, curC);
    const chi = chiSquare(ca, cb);
    assert.equal(col(r, 'c').statistic, chi.statistic);
    assert.equal(col(r, 'c').pValue, chi.pValue);
    // Z on the first label in sorted order ("no"): 400 of 600 against 200 of 400.
    const z = zTestProportions(400, 600, 200, 400);
    assert.equal(col(r, 'b').statistic, z.statistic);
    assert.equal(col(r, 'b').pValue, z.pValue);

    const bigC = cycle(1200, ['a', 'b', 'c', 'c']);
    const big = await check({ c: bigC }, { c: curC });
    const [ja, jb] = alignedCounts(bigC, curC);
    assert.equal(col(big, 'c').statistic, jensenShannon(ja, jb));
  });

  test('numbers with few values are counted per value', async () => {
    const ref = cycle(500, [1, 2, 3, 3, 4]);
    const cur = cycle(300, [1, 2, 2, 3, 4]);
    const r = await check({ n: ref }, { n: cur });
    const [a, b] = alignedCounts(ref, cur);
    assert.equal(col(r, 'n').statistic, chiSquare(a, b).statistic);
    assert.equal(col(r, 'n').pValue, chiSquare(a, b).pValue);
  });
});

describe('overrides', () => {
  const ref = { x: normals(400, 0, 1, 20), c: cycle(400, ['a', 'b', 'c', 'c']) };
  const cur = { x: normals(300, 0.2, 1.2, 21), c: cycle(300, ['a', 'b', 'b', 'c']) };

  test('a global test applies to every column, with its default threshold', async () => {
    const r = await check(ref, cur, { test: 'psi' });
    for (const c of r.columns) {
      assert.equal(c.test, 'psi');
      assert.equal(c.chosenBy, 'global');
      assert.equal(c.reason, 'chosen for every column');
      assert.equal(c.threshold, 0.25);
      assert.equal(c.pValue, null);
    }
    const p = psi(sorted(ref.x), sorted(cur.x), { bins: 10, binning: 'quantile' });
    assert.equal(col(r, 'x').statistic, p.value);
    assert.deepEqual(col(r, 'x').bins, p.edges);
    assert.equal(col(r, 'x').bins!.length, 11);
    const [a, b] = alignedCounts(ref.c, cur.c);
    assert.equal(col(r, 'c').statistic, psiCategorical(a, b));
    assert.equal(col(r, 'c').bins, null, 'categories have no bin edges');
  });

  test('a column test beats the global one; other columns keep theirs', async () => {
    const r = await check(ref, cur, { tests: { x: 'psi' } });
    assert.equal(col(r, 'x').test, 'psi');
    assert.equal(col(r, 'x').chosenBy, 'column');
    assert.equal(col(r, 'x').reason, 'chosen for this column');
    assert.equal(col(r, 'c').test, 'chi2');
    assert.equal(col(r, 'c').chosenBy, 'auto');

    const both = await check(ref, cur, { test: 'js', tests: { x: 'wasserstein' } });
    assert.equal(col(both, 'x').test, 'wasserstein');
    assert.equal(col(both, 'x').statistic, wassersteinNormed(sorted(ref.x), sorted(cur.x)));
    assert.equal(col(both, 'c').test, 'js');
    assert.equal(col(both, 'c').chosenBy, 'global');
  });

  test('chi-square and Jensen-Shannon on a continuous column compare the PSI bins', async () => {
    const r = await check(ref, cur, { tests: { x: 'chi2' }, bins: 5 });
    const p = psi(sorted(ref.x), sorted(cur.x), { bins: 5 });
    const chi = chiSquare(
      p.refShares.map((s) => s * 400),
      p.curShares.map((s) => s * 300),
    );
    assert.deepEqual(col(r, 'x').bins, p.edges);
    assert.ok(Math.abs(col(r, 'x').statistic! - chi.statistic) < 1e-9 * chi.statistic);
    const js = await check(ref, cur, { tests: { x: 'js' }, bins: 5 });
    assert.ok(Math.abs(col(js, 'x').statistic! - jensenShannon(p.refShares, p.curShares)) < 1e-12);
  });

  test('thresholds: per column over global over the default', async () => {
    const r = await check(ref, cur, { thresholds: { x: 0.2 }, threshold: 0.01 });
    assert.equal(col(r, 'x').threshold, 0.2);
    assert.equal(col(r, 'x').possibleThreshold, 0.4);
    assert.equal(col(r, 'c').threshold, 0.01);
    const d = await check(ref, cur, { thresholds: { x: 0.2 } });
    assert.equal(col(d, 'c').threshold, 0.05);
  });

  test('PSI bins and binning change the edges reported', async () => {
    const x = sorted(ref.x);
    const q4 = await check(ref, cur, { tests: { x: 'psi' }, bins: 4 });
    const expectQ = [0, 0.25, 0.5, 0.75, 1].map((q) => {
      const pos = q * (x.length - 1);
      const lo = Math.floor(pos);
      return x[lo]! + (x[Math.min(lo + 1, x.length - 1)]! - x[lo]!) * (pos - lo);
    });
    const got = col(q4, 'x').bins!;
    assert.equal(got.length, 5);
    got.forEach((e, i) => assert.ok(Math.abs(e - expectQ[i]!) < 1e-12, `edge ${i}: ${e}`));

    const ew = await check(ref, cur, { tests: { x: 'psi' }, bins: 4, binning: 'equal-width' });
    const min = x[0]!;
    const max = x[x.length - 1]!;
    const edges = col(ew, 'x').bins!;
    assert.equal(edges.length, 5);
    assert.ok(Math.abs(edges[2]! - (min + max) / 2) < 1e-12, 'the middle edge is halfway');
    assert.equal(edges[0], min);
    assert.equal(edges[4], max);
    assert.equal(
      col(ew, 'x').statistic,
      psi(x, sorted(cur.x), { bins: 4, binning: 'equal-width' }).value,
    );

    // Sturges: ceil(log2(400)) + 1 = 10 bins, whatever --bins says.
    const st = await check(ref, cur, { tests: { x: 'psi' }, bins: 4, binning: 'sturges' });
    assert.equal(col(st, 'x').bins!.length, 11);
  });

  test('bad options are validation errors that say what is allowed', async () => {
    const [r, c] = await readPair(ref, cur);
    const run = (o: DriftOptions) => () => checkDrift({ table: r }, c, {}, o);
    throwsValidation(run({ test: 'tt' as never }), /Unknown test 'tt'/, /ks, psi, chi2/);
    throwsValidation(run({ tests: { x: 'tt' as never } }), /Unknown test 'tt' for column x/);
    throwsValidation(run({ tests: { nope: 'ks' } }), /column nope, which is not checked/);
    throwsValidation(run({ thresholds: { nope: 0.1 } }), /column nope/);
    throwsValidation(run({ bins: 1 }), /bins must be a whole number from 2 to 1000 \(got 1\)/);
    throwsValidation(run({ bins: 2.5 }), /got 2\.5/);
    throwsValidation(run({ bins: 1001 }), /got 1001/);
    throwsValidation(run({ driftShare: 0 }), /drift share/);
    throwsValidation(run({ driftShare: 1.5 }), /drift share/);
    throwsValidation(
      run({ tests: { c: 'ks' } }),
      /Column c is categorical; the ks test needs a numerical column/,
    );
    throwsValidation(run({ tests: { c: 'wasserstein' } }), /needs a numerical column/);
    throwsValidation(run({ tests: { c: 'z' } }), /Column c has 3 categories; the z test/);
    assert.doesNotThrow(run({ bins: 2 }));
    assert.doesNotThrow(run({ driftShare: 1 }));
  });
});

describe('verdicts at their boundaries', () => {
  const ref = { x: normals(200, 0, 1, 30) };
  const cur = { x: normals(150, 0.2, 1, 31) };

  test('p-value tests: drift below the threshold, possible below twice it, else none', async () => {
    const base = await check(ref, cur);
    const p = col(base, 'x').pValue!;
    assert.ok(p > 0.001 && p < 0.5, `p = ${p} should be moderate for this test`);
    const at = async (threshold: number) => col(await check(ref, cur, { threshold }), 'x').verdict;
    assert.equal(await at(p * (1 + 1e-9)), 'drift', 'p just below the threshold');
    assert.equal(await at(p), 'possible', 'p equal to the threshold is not drift');
    assert.equal(await at(p * 0.5000001), 'possible', 'p just below twice the threshold');
    assert.equal(await at(p / 2), 'none', 'p equal to twice the threshold');
    const drift = col(await check(ref, cur, { threshold: p * 1.01 }), 'x');
    assert.equal(drift.drift, true);
    const possible = col(await check(ref, cur, { threshold: p }), 'x');
    assert.equal(possible.drift, false, 'possible drift is not drift');
  });

  test('distances: drift at or above the threshold, possible from half of it', async () => {
    const w = await check(ref, cur, { test: 'wasserstein' });
    const d = col(w, 'x').statistic!;
    assert.ok(d > 0.05, `distance ${d}`);
    const at = async (threshold: number) =>
      col(await check(ref, cur, { test: 'wasserstein', threshold }), 'x').verdict;
    assert.equal(await at(d), 'drift', 'equal to the threshold is drift');
    assert.equal(await at(d * (1 + 1e-9)), 'possible');
    assert.equal(await at(d * 2), 'possible', 'equal to half the threshold is possible');
    assert.equal(await at(d * 2 * (1 + 1e-9)), 'none');
  });

  test('PSI: possible from 0.4 of the threshold (0.1 when drift is at 0.25)', async () => {
    const r = await check(ref, cur, { test: 'psi' });
    const v = col(r, 'x').statistic!;
    assert.ok(v > 0.1 && v < 0.25, `psi ${v}`);
    assert.equal(col(r, 'x').possibleThreshold, 0.1);
    assert.equal(col(r, 'x').verdict, 'possible', 'from 0.1 to 0.25 with the default threshold');
    const at = async (threshold: number) =>
      col(await check(ref, cur, { test: 'psi', threshold }), 'x').verdict;
    assert.equal(await at((v / 0.4) * (1 - 1e-9)), 'possible');
    assert.equal(await at((v / 0.4) * (1 + 1e-9)), 'none');
    assert.equal(await at(v), 'drift');
  });
});

describe('the dataset verdict', () => {
  // Four columns: a drifts strongly, b and c do not move, d moves a little.
  const ref = {
    a: normals(300, 0, 1, 40),
    b: normals(300, 0, 1, 41),
    c: normals(300, 0, 1, 42),
    d: normals(300, 0, 1, 43),
  };
  const cur = {
    a: normals(300, 3, 1, 44),
    b: ref.b,
    c: ref.c,
    d: normals(300, 0.2, 1, 45),
  };

  test('drift when the drifted share reaches the drift share, counting source columns', async () => {
    const base = await check(ref, cur);
    assert.equal(col(base, 'a').verdict, 'drift');
    assert.equal(col(base, 'b').verdict, 'none');
    assert.equal(col(base, 'b').statistic, 0, 'identical columns');
    assert.equal(col(base, 'b').pValue, 1);
    const pd = col(base, 'd').pValue!;
    assert.ok(pd > 0.001 && pd < 0.9, `p of d: ${pd}`);

    // a and d drift: share 0.5 reaches the default 0.5.
    const half = await check(ref, cur, { thresholds: { d: pd * 1.01 } });
    assert.equal(half.driftedColumns, 2);
    assert.equal(half.checkedColumns, 4);
    assert.equal(half.driftedShare, 0.5);
    assert.equal(half.driftShareThreshold, 0.5);
    assert.equal(half.datasetDrift, true);
    assert.equal(half.datasetVerdict, 'drift');
    assert.equal(failsAt(half, 'drift'), true);
    assert.equal(failsAt(half, 'possible'), true);

    // The same report with a higher drift share is no dataset drift.
    const higher = await check(ref, cur, { thresholds: { d: pd * 1.01 }, driftShare: 0.6 });
    assert.equal(higher.driftedShare, 0.5);
    assert.equal(higher.datasetDrift, false);
    assert.equal(higher.datasetVerdict, 'none');
    assert.equal(failsAt(higher, 'possible'), false);

    // Only a drifts, d is possible: share 0.25, but 2 of 4 at least possible.
    const possible = await check(ref, cur, { thresholds: { d: pd } });
    assert.equal(col(possible, 'd').verdict, 'possible');
    assert.equal(possible.driftedShare, 0.25);
    assert.equal(possible.datasetDrift, false);
    assert.equal(possible.datasetVerdict, 'possible');
    assert.equal(failsAt(possible, 'drift'), false);
    assert.equal(failsAt(possible, 'possible'), true);

    // With a drift share of 0.25, one drifted column of four is enough.
    const quarter = await check(ref, cur, { thresholds: { d: pd }, driftShare: 0.25 });
    assert.equal(quarter.datasetDrift, true);
    assert.equal(quarter.datasetVerdict, 'drift');
  });

  test('a text column counts once, drifted when either derived row drifts', async () => {
    const refText = cycle(60, [TEXT_A, TEXT_B]);
    // Longer texts, all words known: length drifts, the out-of-vocabulary share does not.
    const curText = cycle(60, [`${TEXT_A} ${TEXT_B}`]);
    const r = await check(
      { review: refText, x: normals(60, 0, 1, 50) },
      { review: curText, x: normals(60, 0, 1, 50) },
    );
    assert.equal(col(r, 'review (length)').verdict, 'drift');
    assert.equal(col(r, 'review (out-of-vocabulary share)').verdict, 'none');
    assert.equal(col(r, 'x').verdict, 'none');
    assert.equal(r.columns.length, 3);
    assert.equal(r.checkedColumns, 2);
    assert.equal(r.driftedColumns, 1);
    assert.equal(r.driftedShare, 0.5);
    assert.equal(r.datasetDrift, true);
  });

  test('no drift anywhere: share 0, verdict none', async () => {
    const r = await check({ b: ref.b }, { b: ref.b });
    assert.equal(r.driftedShare, 0);
    assert.equal(r.datasetDrift, false);
    assert.equal(r.datasetVerdict, 'none');
    assert.equal(failsAt(r, 'possible'), false);
  });
});

describe('columns', () => {
  test('missing on one side: reported, not tested', async () => {
    const r = await check(
      { a: normals(50, 0, 1, 60), b: cycle(50, ['x', 'y', 'z']), gone: normals(50, 0, 1, 61) },
      {
        a: normals(50, 0, 1, 62),
        b: cycle(50, ['x', 'y', 'z']),
        added: cycle(50, ['p', 'q', 'r']),
      },
    );
    assert.deepEqual(
      r.columns.map((c) => c.column),
      ['a', 'b'],
    );
    assert.deepEqual(r.missingColumns, ['gone']);
    assert.deepEqual(r.newColumns, ['added']);
    assert.equal(r.checkedColumns, 2);
  });

  test('a column without values on one side has an error and is left out of the share', async () => {
    const emptyCur: Cell[] = Array.from({ length: 50 }, () => null);
    const r = await check(
      { a: normals(50, 0, 1, 63), e: normals(50, 0, 1, 64) },
      { a: normals(50, 5, 1, 65), e: emptyCur },
    );
    const e = col(r, 'e');
    assert.equal(e.error, 'no values in the current data');
    assert.equal(e.statistic, null);
    assert.equal(e.pValue, null);
    assert.equal(e.drift, false);
    assert.equal(e.verdict, 'none');
    assert.deepEqual(e.current, { count: 0, missing: 50 });
    assert.equal(col(r, 'a').verdict, 'drift');
    assert.equal(col(r, 'a').error, undefined);
    assert.equal(r.checkedColumns, 1, 'the empty column is not counted');
    assert.equal(r.driftedColumns, 1);
    assert.equal(r.driftedShare, 1);

    const refEmpty = await check(
      { a: normals(50, 0, 1, 63), e: emptyCur },
      { a: normals(50, 0, 1, 63), e: cycle(50, ['u', 'v']) },
    );
    assert.equal(col(refEmpty, 'e').error, 'no values in the reference data');
    assert.equal(refEmpty.checkedColumns, 1);
  });

  test('a selection of columns checks only those, and names a column that is not there', async () => {
    const ref = {
      a: normals(50, 0, 1, 66),
      b: normals(50, 0, 1, 67),
      only: cycle(50, ['x', 'y', 'z']),
    };
    const cur = { a: normals(50, 0, 1, 68), b: normals(50, 0, 1, 69) };
    const r = await check(ref, cur, { columns: ['b'] });
    assert.deepEqual(
      r.columns.map((c) => c.column),
      ['b'],
    );
    assert.equal(r.checkedColumns, 1);
    const [rt, ct] = await readPair(ref, cur);
    throwsValidation(
      () => checkDrift({ table: rt }, ct, {}, { columns: ['nope'] }),
      /Column nope is not in the reference or the current data/,
      /Columns in both: a, b/,
    );
    throwsValidation(
      () => checkDrift({ table: rt }, ct, {}, { columns: ['only'] }),
      /Column only is not in the current data\./,
    );
  });
});

describe('baseline profiles', () => {
  const roundTrip = (p: BaselineProfile): BaselineProfile =>
    parseProfile(JSON.parse(JSON.stringify(p)), 'test profile');

  const stats = (r: DriftReport) =>
    r.columns.map((c) => ({
      column: c.column,
      kind: c.kind,
      test: c.test,
      statistic: c.statistic,
      pValue: c.pValue,
      verdict: c.verdict,
      bins: c.bins,
      reference: c.reference,
      current: c.current,
    }));

  test('a small profile gives exactly the results of its file', async () => {
    const x: Cell[] = normals(300, 0, 1, 70);
    x[10] = null;
    const ref: Columns = {
      x,
      few: cycle(300, [1, 2, 3, 4]),
      c: cycle(300, ['a', 'b', 'c', 'c', 'd']),
      b: cycle(300, ['yes', 'no', 'no']),
      review: cycle(300, [TEXT_A, TEXT_B]),
      when: cycle(300, [
        '2024-01-01',
        '2024-01-02',
        '2024-01-03',
        '2024-02-01',
        '2024-03-01',
        '2024-03-05',
      ]),
    };
    const cur: Columns = {
      x: normals(250, 0.2, 1, 71),
      few: cycle(250, [1, 2, 3, 3]),
      c: cycle(250, ['a', 'b', 'e', 'c']),
      b: cycle(250, ['yes', 'no']),
      review: cycle(250, [TEXT_A, TEXT_C, TEXT_D]),
      when: cycle(250, [
        '2024-01-02',
        '2024-03-01',
        '2024-04-01',
        '2024-04-02',
        '2024-05-01',
        '2024-05-09',
      ]),
    };
    const [rt, ct] = await readPair(ref, cur);
    assert.equal(rt.columns.find((c) => c.name === 'when')!.kind, 'datetime');
    const fromFile = checkDrift({ table: rt }, ct);
    const profile = roundTrip(profileTable(rt, { source: 'ref.csv', digest: 'abc' }));
    const fromProfile = checkDrift({ profile, baseline: 'base' }, ct);
    assert.deepEqual(stats(fromProfile), stats(fromFile));
    assert.equal(fromProfile.reference.baseline, 'base');
    assert.equal(fromProfile.reference.source, 'ref.csv');
    assert.equal(fromProfile.reference.digest, 'abc');
    assert.equal(fromProfile.reference.rows, 300);
    assert.equal(fromFile.reference.baseline, null);
    assert.equal(fromProfile.driftedShare, fromFile.driftedShare);
    assert.ok(fromFile.driftedColumns > 0, 'some columns drift, so the comparison means something');
    // Overrides work the same on a profile.
    const o: DriftOptions = { tests: { x: 'psi', c: 'js' }, bins: 7 };
    assert.deepEqual(
      stats(checkDrift({ profile, baseline: 'base' }, ct, {}, o)),
      stats(checkDrift({ table: rt }, ct, {}, o)),
    );
  });

  test('a 50,000-row column keeps 10,000 order statistics; results stay close', async () => {
    const ref = normals(50_000, 10, 3, 80);
    const cur = normals(50_000, 10.5, 3, 81);
    const [rt, ct] = await readPair({ x: ref }, { x: cur });
    const profile = roundTrip(profileTable(rt, { source: 'big.csv', digest: 'd' }));
    const numeric = profile.columns[0]!.numeric!;
    assert.equal(numeric.count, 50_000);
    assert.equal(numeric.sample.length, SAMPLE_SIZE);
    assert.equal(numeric.sampled, true);
    const s = sorted(ref);
    // The summary is of the whole column, not of the sample.
    assert.equal(numeric.min, s[0]);
    assert.equal(numeric.max, s[s.length - 1]);

    const file = checkDrift({ table: rt }, ct);
    const base = checkDrift({ profile, baseline: 'big' }, ct);
    const f = col(file, 'x');
    const b = col(base, 'x');
    assert.equal(f.test, 'wasserstein');
    assert.equal(b.test, 'wasserstein', 'chosen by the 50,000 values, not the 10,000 kept');
    assert.deepEqual(b.reference, { count: 50_000, missing: 0, sampled: true });
    assert.equal(f.reference.sampled, false);
    assert.equal(b.verdict, f.verdict);
    // Tolerances (observed differences in brackets): the 10,000 evenly spaced order
    // statistics stand for the 50,000 values within 1/10,000 of their CDF, so the normed
    // Wasserstein (0.172) may move by 2e-4 [3e-5], KS's D by 2e-4 [4e-5], PSI (0.028) by
    // 1e-4 [3e-6], and the inner quantile edges (sd 3) by 0.005 [1e-3].
    assert.ok(
      Math.abs(b.statistic! - f.statistic!) < 2e-4,
      `wasserstein ${b.statistic} vs ${f.statistic}`,
    );
    const fp = col(checkDrift({ table: rt }, ct, {}, { test: 'psi' }), 'x');
    const bp = col(checkDrift({ profile, baseline: 'big' }, ct, {}, { test: 'psi' }), 'x');
    assert.equal(bp.bins!.length, fp.bins!.length);
    fp.bins!.forEach((e, i) => {
      if (i === 0 || i === fp.bins!.length - 1) return; // the sample's extremes are not the column's
      assert.ok(Math.abs(bp.bins![i]! - e) < 0.005, `edge ${i}: ${bp.bins![i]} vs ${e}`);
    });
    assert.ok(
      Math.abs(bp.statistic! - fp.statistic!) < 1e-4,
      `psi ${bp.statistic} vs ${fp.statistic}`,
    );
    const fk = col(checkDrift({ table: rt }, ct, {}, { test: 'ks' }), 'x');
    const bk = col(checkDrift({ profile, baseline: 'big' }, ct, {}, { test: 'ks' }), 'x');
    assert.ok(
      Math.abs(bk.statistic! - fk.statistic!) < 2e-4,
      `ks ${bk.statistic} vs ${fk.statistic}`,
    );
  });

  test('summarize keeps every value up to the sample size, evenly spaced order statistics past it', () => {
    const small = summarize(Float64Array.from([1, 2, 3, 4]), 10);
    assert.deepEqual(small.sample, [1, 2, 3, 4]);
    assert.equal(small.sampled, false);
    assert.equal(small.mean, 2.5);
    assert.equal(small.std, Math.sqrt(1.25));
    assert.equal(small.quantiles[50], 2.5);
    const big = summarize(
      Float64Array.from({ length: 100 }, (_, i) => i),
      10,
    );
    assert.deepEqual(big.sample, [5, 15, 25, 35, 45, 55, 65, 75, 85, 95]);
    assert.equal(big.sampled, true);
    assert.equal(big.count, 100);
    assert.equal(big.quantiles[100], 99);
  });

  test('parseProfile rejects what is not a profile, naming where it came from', () => {
    for (const bad of [
      null,
      'text',
      42,
      {},
      { rows: 3 },
      { columns: 'x', rows: 3 },
      { columns: [], rows: '3' },
    ]) {
      assert.throws(
        () => parseProfile(bad, 'baseline churn (profile.json)'),
        /^Error: baseline churn \(profile\.json\) is not a baseline profile\.$/,
        JSON.stringify(bad),
      );
    }
    assert.throws(
      () => parseProfile({ version: 2, rows: 3, columns: [] }, 'p.json'),
      /p\.json was written by a newer version of MLOps Workbench \(profile version 2\)/,
    );
    const ok = { version: 1, source: 's', digest: 'd', rows: 0, createdAt: 1, columns: [] };
    assert.equal(parseProfile(ok, 'p.json'), ok);
  });
});
