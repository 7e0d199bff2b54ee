// The drift statistics against scipy / numpy: every case of
// test/fixtures/drift/scipy.json (written by scripts/drift-fixtures.py) to 1e-6
// relative, plus PSI bands, a constant PSI reference, chi-square's dropped zero
// columns and the errors for empty samples.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import {
  PSI_EPSILON,
  chi2Sf,
  chiSquare,
  jensenShannon,
  ks2Sample,
  kstwoSf,
  normalSf,
  psi,
  psiBand,
  psiCategorical,
  wasserstein,
  wassersteinNormed,
  zTestProportions,
  type Binning,
  type KsMethod,
} from '../../src/core/drift/stats.ts';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'drift');

interface Fixtures {
  psiEpsilon: number;
  ks: {
    name: string;
    a: number[];
    b: number[];
    method: KsMethod;
    statistic: number;
    pvalue: number;
    methodUsed: 'exact' | 'asymp';
  }[];
  kstwo: { n: number; d: number; sf: number }[];
  chi2: {
    name: string;
    ref: number[];
    cur: number[];
    statistic: number;
    pvalue: number;
    dof: number;
  }[];
  z: { x1: number; n1: number; x2: number; n2: number; statistic: number; pvalue: number }[];
  js: { name: string; p: number[]; q: number[]; value: number }[];
  wasserstein: { name: string; u: number[]; v: number[]; value: number; normed: number }[];
  psi: {
    name: string;
    ref: number[];
    cur: number[];
    binning: Binning;
    bins: number;
    value: number;
    edges: number[];
    refShares: number[];
    curShares: number[];
  }[];
  chi2Sf: { x: number; dof: number; sf: number }[];
  normalSf: { z: number; sf: number }[];
}

const fx = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'scipy.json'), 'utf8')) as Fixtures;

const RTOL = 1e-6;
const ATOL = 1e-12;
/** Largest relative error seen per function, printed at the end. */
const worst = new Map<string, number>();

/**
 * actual ≈ expected to RTOL relative. Below ATOL an absolute ATOL applies, except
 * for probabilities (p-values, survival functions), which keep the relative check
 * down to 1e-300.
 */
function close(what: string, actual: number, expected: number, probability = false): void {
  const floor = probability ? 1e-300 : ATOL;
  const fn = what.split(':')[0]!;
  if (Math.abs(expected) < floor) {
    assert.ok(Math.abs(actual - expected) <= floor, `${what}: ${actual} != ${expected}`);
    return;
  }
  const rel = Math.abs(actual - expected) / Math.abs(expected);
  worst.set(fn, Math.max(worst.get(fn) ?? 0, rel));
  assert.ok(rel <= RTOL, `${what}: ${actual} != ${expected} (relative error ${rel})`);
}

function sorted(values: number[]): Float64Array {
  return Float64Array.from(values).sort();
}

after(() => {
  const lines = [...worst].map(([k, v]) => `  ${k}: ${v.toExponential(2)}`);
  console.log(`max relative error against scipy:\n${lines.join('\n')}`);
});

describe('ks2Sample (scipy.stats.ks_2samp)', () => {
  for (const c of fx.ks) {
    test(`${c.name} (${c.a.length}/${c.b.length}, ${c.method})`, () => {
      const r = ks2Sample(sorted(c.a), sorted(c.b), c.method);
      assert.equal(r.method, c.methodUsed);
      close(`ks2Sample: statistic ${c.name}`, r.statistic, c.statistic);
      close(`ks2Sample: p-value ${c.name}`, r.pValue, c.pvalue, true);
    });
  }

  test('is symmetric in its samples', () => {
    const c = fx.ks.find((k) => k.a.length !== k.b.length && k.methodUsed === 'exact')!;
    const ab = ks2Sample(sorted(c.a), sorted(c.b));
    const ba = ks2Sample(sorted(c.b), sorted(c.a));
    assert.equal(ab.statistic, ba.statistic);
    close('ks2Sample: symmetric p', ba.pValue, ab.pValue, true);
  });
});

describe('kstwoSf (scipy.stats.kstwo.sf)', () => {
  test(`${fx.kstwo.length} (n, d) pairs over every branch of _kolmogn`, () => {
    for (const c of fx.kstwo) close(`kstwoSf: n=${c.n} d=${c.d}`, kstwoSf(c.d, c.n), c.sf, true);
  });

  test('support: 1 at or below 1/(2n), 0 from 1', () => {
    assert.equal(kstwoSf(0.05, 10), 1);
    assert.equal(kstwoSf(1, 10), 0);
    assert.ok(Number.isNaN(kstwoSf(0.5, 0)));
  });
});

describe('chiSquare (scipy.stats.chi2_contingency, correction=False)', () => {
  for (const c of fx.chi2) {
    test(c.name, () => {
      const r = chiSquare(c.ref, c.cur);
      assert.equal(r.dof, c.dof);
      close(`chiSquare: statistic ${c.name}`, r.statistic, c.statistic);
      close(`chiSquare: p-value ${c.name}`, r.pValue, c.pvalue, true);
    });
  }

  test('columns that are 0 on both sides are dropped', () => {
    const with0 = chiSquare([5, 0, 7, 0, 4], [6, 0, 2, 0, 9]);
    const without = chiSquare([5, 7, 4], [6, 2, 9]);
    assert.deepEqual(with0, without);
    assert.equal(with0.dof, 2);
    assert.deepEqual(chiSquare([3, 0], [4, 0]), { statistic: 0, pValue: 1, dof: 0 });
  });

  test('needs counts on both sides, of the same length', () => {
    assert.throws(() => chiSquare([0, 0], [1, 2]), /at least one count in each sample/);
    assert.throws(() => chiSquare([1, 2], [1]), /same length/);
    assert.throws(() => chiSquare([1, -2], [1, 1]), /counts >= 0/);
  });
});

describe('zTestProportions (pooled two-proportion z-test)', () => {
  for (const c of fx.z) {
    test(`${c.x1}/${c.n1} vs ${c.x2}/${c.n2}`, () => {
      const r = zTestProportions(c.x1, c.n1, c.x2, c.n2);
      close(`zTestProportions: statistic ${c.x1}/${c.n1}`, r.statistic, c.statistic);
      close(`zTestProportions: p-value ${c.x1}/${c.n1}`, r.pValue, c.pvalue, true);
    });
  }

  test('an empty sample is an error', () => {
    assert.throws(() => zTestProportions(0, 0, 1, 2), /at least one value in each sample/);
  });
});

describe('jensenShannon (scipy.spatial.distance.jensenshannon, base 2)', () => {
  for (const c of fx.js) {
    test(c.name, () => close(`jensenShannon: ${c.name}`, jensenShannon(c.p, c.q), c.value));
  }

  test('needs counts on both sides', () => {
    assert.throws(() => jensenShannon([0, 0], [1, 1]), /at least one count/);
  });
});

describe('wasserstein (scipy.stats.wasserstein_distance)', () => {
  for (const c of fx.wasserstein) {
    test(c.name, () => {
      const u = sorted(c.u);
      const v = sorted(c.v);
      close(`wasserstein: ${c.name}`, wasserstein(u, v), c.value);
      if (Number.isFinite(c.normed)) {
        close(`wassersteinNormed: ${c.name}`, wassersteinNormed(u, v), c.normed);
      }
    });
  }

  test('a constant reference: 0 when equal, else the distance over 0.001 (Evidently)', () => {
    assert.equal(wassersteinNormed([2, 2, 2], [2, 2]), 0);
    // W = 0.5; divided by the floor 0.001 under the standard deviation.
    assert.ok(Math.abs(wassersteinNormed([2, 2, 2], [2, 3]) - 500) < 1e-9);
    // A tiny spread is floored too: std 0.0001 -> 0.001.
    const tiny = [1, 1.0002];
    assert.ok(Math.abs(wassersteinNormed(tiny, [2, 2]) - 0.9999 / 0.001) < 1e-6);
  });
});

describe('psi (population stability index)', () => {
  assert.equal(fx.psiEpsilon, PSI_EPSILON);
  for (const c of fx.psi) {
    test(`${c.name} (${c.binning})`, () => {
      const r = psi(sorted(c.ref), sorted(c.cur), { binning: c.binning, bins: c.bins });
      assert.equal(r.edges.length, c.edges.length, 'number of edges');
      c.edges.forEach((e, i) => close(`psi: edge ${i} ${c.name}`, r.edges[i]!, e));
      c.refShares.forEach((s, i) => close(`psi: ref share ${i}`, r.refShares[i]!, s));
      c.curShares.forEach((s, i) => close(`psi: cur share ${i}`, r.curShares[i]!, s));
      close(`psi: value ${c.name}`, r.value, c.value);
    });
  }

  test('quantile bins collapse with ties', () => {
    const ref = sorted([1, 1, 1, 1, 1, 1, 1, 1, 2, 3]);
    const r = psi(ref, ref);
    // numpy: np.unique(np.quantile(ref, [i / 10 for i in range(11)]))
    assert.deepEqual(r.edges, [1, 1.2000000000000002, 2.0999999999999996, 3]);
    assert.equal(r.value, 0);
  });

  test('a constant reference gives three bins around its value and a finite value', () => {
    const ref = sorted([5, 5, 5, 5]);
    const same = psi(ref, sorted([5, 5]));
    assert.equal(same.value, 0);
    assert.deepEqual(same.edges, [5, 5, 5, 5]);
    const moved = psi(ref, sorted([4, 5, 6, 7]));
    assert.ok(Number.isFinite(moved.value) && moved.value > 0.25);
    assert.deepEqual(moved.refShares, [0, 1, 0]);
    assert.deepEqual(moved.curShares, [0.25, 0.25, 0.5]);
    for (const binning of ['quantile', 'equal-width', 'sturges'] as const) {
      assert.ok(Number.isFinite(psi(ref, sorted([9, 9]), { binning }).value));
    }
  });

  test('psiCategorical uses the same formula and epsilon', () => {
    // shares [0.5, 0.5, 0] and [0.25, 0.75, 0]: the category empty on both sides adds nothing
    const expected = (0.25 - 0.5) * Math.log(0.25 / 0.5) + (0.75 - 0.5) * Math.log(0.75 / 0.5);
    assert.ok(Math.abs(psiCategorical([5, 5, 0], [1, 3, 0]) - expected) < 1e-15);
    const oneSided = psiCategorical([10, 0], [5, 5]);
    const e2 = (0.5 - 1) * Math.log(0.5) + (0.5 - PSI_EPSILON) * Math.log(0.5 / PSI_EPSILON);
    assert.ok(Math.abs(oneSided - e2) < 1e-12);
  });

  test('bands: below 0.1 none, up to 0.25 moderate, then significant', () => {
    assert.equal(psiBand(0), 'none');
    assert.equal(psiBand(0.0999), 'none');
    assert.equal(psiBand(0.1), 'moderate');
    assert.equal(psiBand(0.2499), 'moderate');
    assert.equal(psiBand(0.25), 'significant');
    assert.equal(psiBand(3), 'significant');
  });
});

describe('chi2Sf and normalSf', () => {
  test('chi2Sf matches scipy.stats.chi2.sf', () => {
    for (const c of fx.chi2Sf)
      close(`chi2Sf: x=${c.x} dof=${c.dof}`, chi2Sf(c.x, c.dof), c.sf, true);
    assert.equal(chi2Sf(0, 3), 1);
  });

  test('normalSf matches scipy.stats.norm.sf', () => {
    for (const c of fx.normalSf) close(`normalSf: z=${c.z}`, normalSf(c.z), c.sf, true);
  });
});

describe('empty samples', () => {
  const empty = new Float64Array(0);
  const some = sorted([1, 2, 3]);
  test('ks2Sample, wasserstein and psi name the problem', () => {
    for (const [a, b] of [
      [empty, some],
      [some, empty],
    ] as const) {
      assert.throws(
        () => ks2Sample(a, b),
        /^Error: ks2Sample needs at least one value in each sample$/,
      );
      assert.throws(() => wasserstein(a, b), /wasserstein needs at least one value in each sample/);
      assert.throws(() => wassersteinNormed(a, b), /needs at least one value in each sample/);
      assert.throws(() => psi(a, b), /psi needs at least one value in each sample/);
    }
  });
});
