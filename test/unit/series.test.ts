// Chart series helpers: min/max decimation must keep a line's shape within its point budget,
// and the EMA must match TensorBoard's smoothing without letting one NaN spoil a curve.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { boundPoints, decimateMinMax, emaSmooth, pickIndices } from '../../src/shared/series.ts';

/** Small seeded PRNG so every run sees the same "noise". */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function steps(n: number): Float64Array {
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = i;
  return x;
}

/** Sine plus noise plus a few tall spikes: the kind of curve naive striding flattens. */
function noisy(n: number, seed = 1): Float64Array {
  const rnd = mulberry32(seed);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) y[i] = Math.sin(i / 50) + (rnd() - 0.5) * 0.4;
  for (let k = 1; k <= 5; k++) {
    const at = Math.floor((n * k) / 7);
    if (at > 0 && at < n - 1) y[at] = k % 2 ? 10 * k : -10 * k;
  }
  return y;
}

function bucketCount(maxPoints: number): number {
  return Math.max(1, Math.floor((maxPoints - 2) / 2));
}

/** The documented bucketing, recomputed here so the test does not trust the implementation. */
function bucketOf(x: ArrayLike<number>, maxPoints: number): (i: number) => number {
  const buckets = bucketCount(maxPoints);
  const x0 = x[0]!;
  const span = x[x.length - 1]! - x0;
  const scale = span > 0 ? buckets / span : 0;
  return (i) => Math.min(buckets - 1, Math.max(0, Math.floor((x[i]! - x0) * scale)));
}

function assertStrictlyIncreasing(idx: Uint32Array): void {
  for (let i = 1; i < idx.length; i++) {
    assert.ok(idx[i]! > idx[i - 1]!, `indices not increasing at ${i}: ${idx[i - 1]}, ${idx[i]}`);
  }
}

function assertBasics(x: ArrayLike<number>, idx: Uint32Array, maxPoints: number): void {
  const n = x.length;
  assert.ok(idx.length <= maxPoints, `${idx.length} points for a budget of ${maxPoints}`);
  assertStrictlyIncreasing(idx);
  if (n > 0) {
    assert.equal(idx[0], 0);
    assert.equal(idx[idx.length - 1], n - 1);
  }
  for (const i of idx) assert.ok(i < n);
}

/** Per bucket, the kept finite points must reach exactly as low and as high as all of them. */
function assertShapeKept(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  idx: Uint32Array,
  maxPoints: number,
): void {
  const buckets = bucketCount(maxPoints);
  const of = bucketOf(x, maxPoints);
  const extremes = (points: Iterable<number>): [number[], number[]] => {
    const lo: number[] = new Array(buckets).fill(Infinity);
    const hi: number[] = new Array(buckets).fill(-Infinity);
    for (const i of points) {
      const v = y[i]!;
      if (!Number.isFinite(v)) continue;
      const b = of(i);
      if (v < lo[b]!) lo[b] = v;
      if (v > hi[b]!) hi[b] = v;
    }
    return [lo, hi];
  };
  const [rawLo, rawHi] = extremes(Array.from({ length: x.length }, (_, i) => i));
  const [keptLo, keptHi] = extremes(idx);
  assert.deepEqual(keptLo, rawLo, 'per-bucket minimum lost');
  assert.deepEqual(keptHi, rawHi, 'per-bucket maximum lost');
}

function finiteExtremes(y: ArrayLike<number>): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < y.length; i++) {
    const v = y[i]!;
    if (!Number.isFinite(v)) continue;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return { min, max };
}

describe('decimateMinMax', () => {
  test('never exceeds the budget and returns every index when the series fits', () => {
    for (const n of [10, 1000, 100_000, 1_000_000]) {
      const x = steps(n);
      const y = noisy(n, n);
      for (const budget of [2, 3, 10, 500, 1000]) {
        const idx = decimateMinMax(x, y, budget);
        assertBasics(x, idx, budget);
        if (n <= budget) assert.deepEqual(Array.from(idx), Array.from(steps(n)), `n=${n}`);
        else assert.ok(idx.length >= 2);
      }
    }
  });

  test('budgets of 2 and 3 keep only the ends plus at most one extreme', () => {
    const n = 100;
    const x = steps(n);
    const y = new Float64Array(n);
    y[30] = -1;
    y[60] = 5;
    assert.deepEqual(Array.from(decimateMinMax(x, y, 2)), [0, 99]);
    // The maximum strays further from the flat line between the ends than the minimum.
    assert.deepEqual(Array.from(decimateMinMax(x, y, 3)), [0, 60, 99]);
    y[30] = -9;
    assert.deepEqual(Array.from(decimateMinMax(x, y, 3)), [0, 30, 99]);
  });

  test('keeps the first and last index and the global finite minimum and maximum', () => {
    const n = 50_000;
    const x = steps(n);
    for (const seed of [1, 2, 3]) {
      const y = noisy(n, seed);
      const { min, max } = finiteExtremes(y);
      for (const budget of [4, 5, 10, 500, 1000]) {
        const idx = decimateMinMax(x, y, budget);
        assertBasics(x, idx, budget);
        const kept = Array.from(pickIndices(y, idx));
        assert.ok(kept.includes(min), `min ${min} lost at budget ${budget}`);
        assert.ok(kept.includes(max), `max ${max} lost at budget ${budget}`);
      }
    }
  });

  test('preserves the per-bucket minimum and maximum of a noisy signal', () => {
    const n = 100_000;
    const x = steps(n);
    const y = noisy(n, 7);
    for (const budget of [4, 10, 77, 500, 1000]) {
      const idx = decimateMinMax(x, y, budget);
      assertBasics(x, idx, budget);
      assertShapeKept(x, y, idx, budget);
    }
  });

  test('buckets by x value, for unevenly spaced x', () => {
    const n = 20_000;
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) x[i] = i * i;
    const y = noisy(n, 11);
    for (const budget of [10, 500]) {
      const idx = decimateMinMax(x, y, budget);
      assertBasics(x, idx, budget);
      assertShapeKept(x, y, idx, budget);
    }
    // With x = i*i the early buckets are dense in index, so most kept points sit at the start
    // of the index range; counting by index would have spread them evenly instead.
    const idx = decimateMinMax(x, y, 500);
    const firstHalf = Array.from(idx).filter((i) => i < n / 2).length;
    assert.ok(firstHalf < idx.length / 2, `${firstHalf} of ${idx.length} in the first half`);
  });

  test('handles repeated x values', () => {
    const n = 30_000;
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) x[i] = Math.floor(i / 7);
    const y = noisy(n, 5);
    for (const budget of [3, 10, 500]) {
      const idx = decimateMinMax(x, y, budget);
      assertBasics(x, idx, budget);
      if (budget >= 4) assertShapeKept(x, y, idx, budget);
    }
  });

  test('treats a series whose x values are all equal as one bucket', () => {
    const x = new Array<number>(100).fill(5);
    const y = Array.from({ length: 100 }, (_, i) => (i === 40 ? -3 : i === 20 ? 8 : 1));
    assert.deepEqual(Array.from(decimateMinMax(x, y, 10)), [0, 20, 40, 99]);
  });

  test('still returns bounded, ordered indices when x breaks the non-decreasing contract', () => {
    const n = 5_000;
    const rnd = mulberry32(42);
    const x = Array.from({ length: n }, () => rnd() * 100);
    const y = noisy(n, 13);
    for (const budget of [3, 10, 500]) assertBasics(x, decimateMinMax(x, y, budget), budget);
  });

  test('accepts plain arrays and returns nothing for an empty series', () => {
    assert.equal(decimateMinMax([], [], 10).length, 0);
    assert.deepEqual(Array.from(decimateMinMax([1], [2], 2)), [0]);
    assert.deepEqual(Array.from(decimateMinMax([0, 1, 2], [3, 1, 2], 2)), [0, 2]);
  });

  test('keeps a NaN from the bucket it falls in so the gap stays visible', () => {
    const n = 100_000;
    const x = steps(n);
    const y = noisy(n, 3);
    y[50_001] = NaN;
    y[50_002] = NaN;
    const of = bucketOf(x, 501);
    assert.equal(of(50_001), of(50_002));
    // An odd budget leaves one slot beyond the two extremes of every bucket and both ends.
    const idx = decimateMinMax(x, y, 501);
    assertBasics(x, idx, 501);
    assertShapeKept(x, y, idx, 501);
    assert.deepEqual(
      Array.from(idx).filter((i) => Number.isNaN(y[i]!)),
      [50_001],
    );
    // An even budget is filled by extremes alone on noise like this: the marker gives way.
    const even = decimateMinMax(x, y, 500);
    assertBasics(x, even, 500);
    assertShapeKept(x, y, even, 500);
  });

  test('marks where a run diverges to NaN until the end', () => {
    const n = 100_000;
    const x = steps(n);
    const y = noisy(n, 12);
    for (let i = 60_000; i < n; i++) y[i] = NaN;
    const idx = decimateMinMax(x, y, 500);
    assertBasics(x, idx, 500);
    assertShapeKept(x, y, idx, 500);
    assert.ok(idx.includes(60_000));
  });

  test('never picks NaN as a minimum or maximum, and drops markers only to fit', () => {
    const n = 10_000;
    const x = steps(n);
    const y = noisy(n, 9);
    // Whole buckets of NaN, and NaN scattered between finite points.
    for (let i = 2_000; i < 3_000; i++) y[i] = NaN;
    for (let i = 5_000; i < 6_000; i += 3) y[i] = NaN;
    for (const budget of [4, 40, 41, 101, 500]) {
      const idx = decimateMinMax(x, y, budget);
      assertBasics(x, idx, budget);
      assertShapeKept(x, y, idx, budget);
      const of = bucketOf(x, budget);
      const firstNan = new Map<number, number>();
      for (let i = 0; i < n; i++) {
        if (Number.isNaN(y[i]!) && !firstNan.has(of(i))) firstNan.set(of(i), i);
      }
      assert.ok(firstNan.size >= 1);
      const markers = Array.from(idx).filter((i) => Number.isNaN(y[i]!));
      // Every kept NaN is the first NaN of its bucket, one per bucket at most.
      for (const i of markers) assert.equal(firstNan.get(of(i)), i, `stray NaN ${i}`);
      assert.equal(new Set(markers.map(of)).size, markers.length);
      // Markers fill whatever the extremes leave of the budget, up to one per NaN bucket.
      const room = budget - (idx.length - markers.length);
      assert.equal(markers.length, Math.min(firstNan.size, room), `budget ${budget}`);
    }
  });

  test('never picks an infinite value', () => {
    const n = 10_000;
    const x = steps(n);
    const y = noisy(n, 4);
    for (let i = 100; i < n - 1; i += 97) y[i] = i % 2 ? Infinity : -Infinity;
    for (const budget of [4, 10, 500]) {
      const idx = decimateMinMax(x, y, budget);
      assertBasics(x, idx, budget);
      for (const i of idx) assert.ok(Number.isFinite(y[i]!), `kept infinite y at ${i}`);
      assertShapeKept(x, y, idx, budget);
      const kept = Array.from(pickIndices(y, idx));
      const { min, max } = finiteExtremes(y);
      assert.ok(kept.includes(min) && kept.includes(max));
    }
  });

  test('drops NaN markers before extremes when both do not fit', () => {
    const n = 10_000;
    const x = steps(n);
    const y = noisy(n, 6);
    for (let i = 1; i < n - 1; i += 2) y[i] = NaN;
    for (const budget of [4, 5, 10, 101, 500]) {
      const idx = decimateMinMax(x, y, budget);
      assertBasics(x, idx, budget);
      assertShapeKept(x, y, idx, budget);
    }
    // A budget with room to spare spends it on NaN markers.
    const idx = decimateMinMax(x, y, 101);
    assert.ok(Array.from(idx).some((i) => Number.isNaN(y[i]!)));
  });

  test('throws a RangeError for a budget below 2 or columns of different length', () => {
    assert.throws(() => decimateMinMax([1, 2, 3], [1, 2, 3], 1), RangeError);
    assert.throws(() => decimateMinMax([1, 2, 3], [1, 2, 3], 0), RangeError);
    assert.throws(() => decimateMinMax([1, 2, 3], [1, 2, 3], NaN), RangeError);
    assert.throws(() => decimateMinMax([], [], 1), RangeError);
    assert.throws(() => decimateMinMax([1, 2, 3], [1, 2], 10), RangeError);
    assert.throws(() => decimateMinMax([1, 2, 3], [1, 2, 3, 4], 2), RangeError);
  });
});

describe('pickIndices', () => {
  test('gathers the values at the given indices', () => {
    const out = pickIndices([10, 11, 12, 13, 14], Uint32Array.from([0, 2, 4]));
    assert.ok(out instanceof Float64Array);
    assert.deepEqual(Array.from(out), [10, 12, 14]);
  });
});

describe('emaSmooth', () => {
  test('weight 0 returns an identical copy', () => {
    const y = Float64Array.from([3, -1, NaN, 7.5, Infinity, 2]);
    const out = emaSmooth(y, 0);
    assert.notEqual(out, y);
    assert.deepEqual(Array.from(out), Array.from(y));
  });

  test('a constant series comes back unchanged', () => {
    for (const v of [0.1, 0.3, 1 / 3, -7.25, 1e-9]) {
      const y = new Float64Array(1_000).fill(v);
      const out = emaSmooth(y, 0.9);
      assert.deepEqual(Array.from(out), Array.from(y), `constant ${v}`);
    }
  });

  test('matches a hand-computed example at weight 0.5', () => {
    // last: 0.5, 1.25, 2.125; debias: 0.5, 0.75, 0.875.
    const out = emaSmooth([1, 2, 3], 0.5);
    assert.equal(out.length, 3);
    assert.equal(out[0], 1);
    assert.equal(out[1], 5 / 3); // 1.25 / 0.75 = 1.6666666666666667
    assert.equal(out[2], 17 / 7); // 2.125 / 0.875 = 2.4285714285714284
  });

  test('passes NaN and infinities through and carries on from the previous accumulator', () => {
    const out = emaSmooth([1, NaN, 2, Infinity, -Infinity, 3], 0.5);
    assert.equal(out.length, 6);
    assert.equal(out[0], 1);
    assert.ok(Number.isNaN(out[1]!));
    // As if the NaN had not been there: same as the second point of [1, 2].
    assert.equal(out[2], 5 / 3);
    assert.equal(out[3], Infinity);
    assert.equal(out[4], -Infinity);
    assert.equal(out[5], 17 / 7);
  });

  test('clamps the weight and keeps the output length', () => {
    const y = noisy(5_000, 2);
    const high = emaSmooth(y, 5);
    assert.equal(high.length, y.length);
    assert.deepEqual(high, emaSmooth(y, 0.999));
    assert.deepEqual(emaSmooth(y, -1), Float64Array.from(y));
    assert.equal(emaSmooth([], 0.6).length, 0);
    for (const v of high) assert.ok(Number.isFinite(v));
  });
});

describe('boundPoints', () => {
  test('returns the inputs themselves when they fit', () => {
    const x = steps(10);
    const y = noisy(10);
    const extra = [x.map((v) => v * 10)];
    const out = boundPoints(x, y, extra, 10);
    assert.equal(out.x, x);
    assert.equal(out.y, y);
    assert.equal(out.extra, extra);
  });

  test('thins every parallel column with the same indices', () => {
    const n = 50_000;
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) x[i] = i * 3 + 0.5;
    const y = noisy(n, 8);
    const wallTime = x.map((v) => v * 10);
    const rowId = steps(n);
    const out = boundPoints(x, y, [wallTime, rowId], 300);
    assert.ok(out.x.length <= 300);
    assert.equal(out.y.length, out.x.length);
    assert.equal(out.extra.length, 2);
    for (let i = 0; i < out.x.length; i++) {
      assert.equal(out.extra[0]![i], out.x[i]! * 10);
      const row = out.extra[1]![i]!;
      assert.equal(out.x[i], x[row]);
      assert.equal(out.y[i], y[row]);
    }
    assert.deepEqual(
      Float64Array.from(out.extra[1]!),
      pickIndices(rowId, decimateMinMax(x, y, 300)),
    );
  });

  test('rejects columns of different length and budgets below 2', () => {
    const x = steps(5);
    assert.throws(() => boundPoints(x, steps(4), [], 10), RangeError);
    assert.throws(() => boundPoints(x, steps(5), [steps(4)], 10), RangeError);
    assert.throws(() => boundPoints(x, steps(5), [], 1), RangeError);
  });
});
