#!/usr/bin/env python3
"""Reference values for src/core/drift/stats.ts, from scipy and numpy.

Writes test/fixtures/drift/scipy.json, read by test/unit/driftStats.test.ts.
Usage (from the repository root): python3 scripts/drift-fixtures.py
Needs numpy and scipy; the draws use a fixed seed, so reruns give the same file
(for the same numpy / scipy versions, which are recorded in the file).
"""

import json
import math
import os
import warnings

import numpy as np
import scipy
from scipy import stats
from scipy.spatial import distance

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'drift', 'scipy.json')
PSI_EPSILON = 0.0001
MAX_AUTO_N = 10000

rng = np.random.default_rng(20240607)


def floats(a):
    """Plain Python floats (json writes them with repr, which round-trips)."""
    return [float(x) for x in np.asarray(a, dtype=float).ravel()]


def nums(a):
    """Values as ints where they are whole (smaller JSON), else floats."""
    return [int(x) if float(x).is_integer() else float(x) for x in np.asarray(a, dtype=float)]


def normal(n, loc=0.0, scale=1.0, decimals=None):
    x = rng.normal(loc, scale, n)
    return np.round(x, decimals) if decimals is not None else x


# ---------------------------------------------------------------------------
# Kolmogorov-Smirnov, two samples


def ks_case(name, a, b, method='auto'):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        res = stats.ks_2samp(a, b, alternative='two-sided', method=method)
    if method == 'auto':
        used = 'exact' if max(len(a), len(b)) <= MAX_AUTO_N else 'asymp'
    else:
        used = method
    if any('Switching' in str(w.message) for w in caught):
        used = 'asymp'
    return {
        'name': name,
        'a': nums(a),
        'b': nums(b),
        'method': method,
        'statistic': float(res.statistic),
        'pvalue': float(res.pvalue),
        'methodUsed': used,
    }


same = normal(40, decimals=4)
ks = [
    ks_case('equal n 5/5', normal(5), normal(5, 0.8)),
    ks_case('equal n 20/20', normal(20), normal(20, 0.5)),
    ks_case('equal n 100/100', normal(100), normal(100, 0.3)),
    ks_case(
        'equal n 1000/1000, small shift', normal(1000, decimals=5), normal(1000, 0.08, decimals=5)
    ),
    ks_case('unequal 7/13', normal(7), normal(13, 1.0)),
    ks_case('unequal 50/80', normal(50), normal(80, 0.4, 1.3)),
    ks_case('unequal 300/1000', normal(300, decimals=6), normal(1000, 0.0, 1.4, decimals=6)),
    ks_case(
        'ties 200/300 (rounded normals)',
        np.round(rng.normal(0, 2, 200)),
        np.round(rng.normal(0.3, 2, 300)),
    ),
    ks_case('identical samples', same, same.copy()),
    ks_case('fully separated 30/25', normal(30), normal(25, 100)),
    ks_case('one value vs 20', [0.25], normal(20)),
    ks_case('one value each, separated', [1.0], [2.0]),
    ks_case('one value each, equal', [1.0], [1.0]),
    ks_case('exact 4000/6000 with ties', normal(4000, decimals=1), normal(6000, 0.05, decimals=1)),
    ks_case('exact 500/700', normal(500, decimals=6), normal(700, 0.15, decimals=6), 'exact'),
    ks_case('asymp 500/700', normal(500, decimals=6), normal(700, 0.15, decimals=6), 'asymp'),
    ks_case(
        'asymp 250/250 (n <= 140 branch)',
        normal(250, decimals=6),
        normal(250, 0.2, decimals=6),
        'asymp',
    ),
    ks_case('asymp 60/90', normal(60), normal(90, 0.5), 'asymp'),
    ks_case('asymp 5/5 (en 2.5 rounds to 2)', normal(5), normal(5, 1.0), 'asymp'),
    ks_case(
        'asymp 400/600, tiny p', normal(400, decimals=5), normal(600, 1.2, decimals=5), 'asymp'
    ),
    ks_case('exact 3/1000, ties', [1, 1, 2], np.round(rng.normal(1, 1, 1000))),
    ks_case(
        'auto > 10000: 12000/11000 integers (asymp)',
        np.round(rng.normal(20, 6, 12000)),
        np.round(rng.normal(20.2, 6, 11000)),
    ),
    ks_case(
        'auto > 10000: 10001/3000 two decimals, shifted (asymp, tiny p)',
        normal(10001, decimals=2),
        normal(3000, 0.25, decimals=2),
    ),
]

# kstwo.sf directly, over the branches of scipy's _kolmogn (Ruben-Gambino,
# Durbin-MTW, Pomeranz, Pelz-Good, 2 * smirnov, the n > 1e6 smirnov approximation).
kstwo = []
for n in [1, 2, 5, 10, 50, 140, 141, 1000, 20000, 100001, 2000000]:
    for c in [0.6, 0.8, 1.2, 1.9, 2.5, 5.0]:
        d = c / math.sqrt(n)
        if d < 1:
            kstwo.append({'n': n, 'd': d, 'sf': float(stats.kstwo.sf(d, n))})
    for d in [0.7 / n, 0.55, 1 - 1.5 / n]:
        if 0 < d < 1:
            kstwo.append({'n': n, 'd': d, 'sf': float(stats.kstwo.sf(d, n))})

# ---------------------------------------------------------------------------
# Chi-square (2 x k), z-test, Jensen-Shannon


def chi2_case(name, ref, cur):
    ref = np.asarray(ref, dtype=float)
    cur = np.asarray(cur, dtype=float)
    keep = ~((ref == 0) & (cur == 0))
    table = np.array([ref[keep], cur[keep]])
    if table.shape[1] < 2:
        stat, p, dof = 0.0, 1.0, 0
    else:
        res = stats.chi2_contingency(table, correction=False)
        stat, p, dof = float(res.statistic), float(res.pvalue), int(res.dof)
    return {
        'name': name,
        'ref': nums(ref),
        'cur': nums(cur),
        'statistic': stat,
        'pvalue': p,
        'dof': dof,
    }


chi2 = [
    chi2_case('three categories', [10, 20, 30], [15, 15, 30]),
    chi2_case('two columns', [30, 70], [45, 55]),
    chi2_case('a zero in each row', [10, 0, 5, 8], [12, 3, 0, 9]),
    chi2_case('a column of zeros is dropped', [5, 0, 7, 4], [6, 0, 2, 9]),
    chi2_case('large counts, tiny p', [1000, 2000, 3000], [3000, 2000, 1000]),
    chi2_case('twenty categories', rng.integers(0, 60, 20), rng.integers(0, 60, 20)),
    chi2_case('fractional counts (scaled shares)', [12.5, 7.25, 3.0, 0.5], [10.0, 9.5, 2.25, 4.0]),
    chi2_case('same proportions', [10, 20, 30], [20, 40, 60]),
    chi2_case('one column left: dof 0', [5, 0], [7, 0]),
]


def z_case(x1, n1, x2, n2):
    p = (x1 + x2) / (n1 + n2)
    if p <= 0 or p >= 1:
        stat, pv = 0.0, 1.0
    else:
        se = math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
        stat = (x1 / n1 - x2 / n2) / se
        pv = min(1.0, float(2 * stats.norm.sf(abs(stat))))
    return {'x1': x1, 'n1': n1, 'x2': x2, 'n2': n2, 'statistic': float(stat), 'pvalue': pv}


z = [
    z_case(30, 100, 45, 100),
    z_case(5, 50, 15, 60),
    z_case(0, 40, 3, 50),
    z_case(500, 1000, 520, 1000),
    z_case(1, 1000, 90, 1000),
    z_case(0, 10, 0, 20),
    z_case(10, 10, 20, 20),
]


def js_case(name, p, q):
    value = float(distance.jensenshannon(p, q, base=2))
    return {'name': name, 'p': nums(p), 'q': nums(q), 'value': value}


js = [
    js_case('shares', [0.1, 0.4, 0.5], [0.2, 0.3, 0.5]),
    js_case('counts', [10, 20, 30], [30, 20, 10]),
    js_case('a zero share', [1, 0], [0.5, 0.5]),
    js_case('zeros on both sides', [5, 0, 5], [0, 5, 5]),
    js_case('identical', [3, 4, 5], [6, 8, 10]),
    js_case('disjoint', [1, 0], [0, 1]),
    js_case('ten random counts', rng.integers(1, 100, 10), rng.integers(0, 100, 10)),
]

# ---------------------------------------------------------------------------
# Wasserstein


def w_case(name, u, v):
    u = np.asarray(u, dtype=float)
    v = np.asarray(v, dtype=float)
    wd = float(stats.wasserstein_distance(u, v))
    std = float(np.std(u))
    return {'name': name, 'u': nums(u), 'v': nums(v), 'value': wd, 'normed': wd / std}


wasserstein = [
    w_case('5/7 floats', normal(5), normal(7, 0.5)),
    w_case('ties (integers)', rng.integers(0, 5, 60), rng.integers(1, 6, 45)),
    w_case('different lengths 100/37', normal(100), normal(37, 0.2, 2)),
    w_case('identical', same, same.copy()),
    w_case('two values vs one', [0, 1], [3]),
    w_case('normal vs shifted 500/800', normal(500, decimals=6), normal(800, 0.3, 1.1, decimals=6)),
]

# ---------------------------------------------------------------------------
# PSI, with exactly the algorithm of stats.ts's psi()


def psi_case(name, ref, cur, binning='quantile', bins=10):
    ref = np.sort(np.asarray(ref, dtype=float))
    cur = np.sort(np.asarray(cur, dtype=float))
    if binning == 'sturges':
        bins = math.ceil(math.log2(len(ref))) + 1
    if binning == 'quantile':
        edges = np.unique(np.quantile(ref, [i / bins for i in range(bins + 1)]))
    else:
        edges = np.linspace(ref[0], ref[-1], bins + 1)
    inner = edges[1:-1]
    k = len(edges) - 1

    def shares(x):
        return np.bincount(np.searchsorted(inner, x, side='right'), minlength=k) / len(x)

    r = shares(ref)
    c = shares(cur)
    r0 = np.where(r == 0, PSI_EPSILON, r)
    c0 = np.where(c == 0, PSI_EPSILON, c)
    value = float(np.sum((c0 - r0) * np.log(c0 / r0)))
    return {
        'name': name,
        'ref': nums(ref),
        'cur': nums(cur),
        'binning': binning,
        'bins': bins,
        'value': value,
        'edges': floats(edges),
        'refShares': floats(r),
        'curShares': floats(c),
    }


psi = [
    psi_case('quantile, shifted', normal(1000, decimals=4), normal(800, 0.3, decimals=4)),
    psi_case('quantile, heavy ties', rng.integers(0, 4, 1000), rng.integers(0, 6, 800)),
    psi_case(
        'quantile, 5 bins, current out of range',
        normal(300, decimals=4),
        normal(200, 3, decimals=4),
        bins=5,
    ),
    psi_case(
        'equal-width, 8 bins',
        normal(500, decimals=4),
        normal(400, 0.5, 0.8, decimals=4),
        'equal-width',
        8,
    ),
    psi_case(
        'equal-width, integers on edges',
        rng.integers(0, 9, 400),
        rng.integers(0, 9, 300),
        'equal-width',
        4,
    ),
    psi_case('sturges', normal(700, decimals=4), normal(650, 0.1, 1.5, decimals=4), 'sturges'),
]

# ---------------------------------------------------------------------------
# chi2.sf and norm.sf

chi2_sf = [
    {'x': x, 'dof': d, 'sf': float(stats.chi2.sf(x, d))}
    for x, d in [
        (0.5, 1),
        (3.84, 1),
        (10.0, 3),
        (200.0, 3),
        (0.001, 2),
        (30.0, 2),
        (0.1, 10),
        (50.0, 50),
        (120.0, 100),
        (1000.0, 1000),
        (1100.0, 999),
        (400.0, 10),
        (7.5, 7),
    ]
]
normal_sf = [
    {'z': zv, 'sf': float(stats.norm.sf(zv))}
    for zv in [-8.0, -3.0, -1.0, -0.3, 0.0, 0.2, 0.5, 1.0, 1.959963984540054]
    + [3.0, 4.5, 5.0, 8.0, 12.0, 30.0]
]

out = {
    'generator': 'scripts/drift-fixtures.py',
    'numpy': np.__version__,
    'scipy': scipy.__version__,
    'psiEpsilon': PSI_EPSILON,
    'ks': ks,
    'kstwo': kstwo,
    'chi2': chi2,
    'z': z,
    'js': js,
    'wasserstein': wasserstein,
    'psi': psi,
    'chi2Sf': chi2_sf,
    'normalSf': normal_sf,
}
os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, 'w') as f:
    json.dump(out, f, separators=(',', ':'), allow_nan=False)
    f.write('\n')
size = os.path.getsize(OUT)
cases = sum(len(v) for v in out.values() if isinstance(v, list))
print(f'wrote {os.path.relpath(OUT, ROOT)}: {cases} cases, {size / 1024:.0f} KB')
if size >= 400 * 1024:
    raise SystemExit('fixture file is over 400 KB')
