// Drift statistics and reading speed.
// 1. KS + PSI on two numeric columns of 1,000,000 rows each (reference and current),
//    against scipy.stats.ks_2samp on the same data in the same run (python3 + scipy);
//    goal: at most 0.5x scipy's time. Both sides start from unsorted arrays in memory
//    and time the test only (not the file read or the interpreter start).
// 2. Reading a 1,000,000-row, 10-column numeric CSV into columns, against `wc -l` on
//    the same file as the floor.
//   npm run bench:drift

import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readTable } from '../src/core/drift/readers.ts';
import { ks2Sample, psi } from '../src/core/drift/stats.ts';

const N = 1_000_000;
const ROUNDS = 5;

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

function normals(seed: number, n: number, mean: number): Float64Array {
  const r = rng(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = mean + Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  }
  return out;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function python(): string | null {
  const r = spawnSync('python3', ['-c', 'import scipy, numpy; print(scipy.__version__)'], {
    encoding: 'utf8',
  });
  return r.status === 0 ? r.stdout.trim() : null;
}

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-drift-bench-'));
  try {
    // --- 1. KS + PSI against scipy ---
    const ref = normals(1, N, 0);
    const cur = normals(2, N, 0.01);
    const refFile = path.join(tmp, 'ref.f64');
    const curFile = path.join(tmp, 'cur.f64');
    fs.writeFileSync(refFile, Buffer.from(ref.buffer));
    fs.writeFileSync(curFile, Buffer.from(cur.buffer));

    const ours: number[] = [];
    const sorting: number[] = [];
    let result = { d: 0, p: 0, psi: 0 };
    for (let i = 0; i < ROUNDS; i++) {
      const a = ref.slice();
      const b = cur.slice();
      const t0 = performance.now();
      a.sort();
      b.sort();
      sorting.push(performance.now() - t0);
      const ks = ks2Sample(a, b);
      const p = psi(a, b);
      ours.push(performance.now() - t0);
      result = { d: ks.statistic, p: ks.pValue, psi: p.value };
    }
    const version = python();
    let scipyMs: number[] = [];
    let scipyResult = '';
    if (version) {
      const script = `
import numpy as np, time, json
from scipy.stats import ks_2samp
a = np.fromfile(${JSON.stringify(refFile)}, dtype=np.float64)
b = np.fromfile(${JSON.stringify(curFile)}, dtype=np.float64)
times = []
for _ in range(${ROUNDS}):
    t0 = time.perf_counter()
    r = ks_2samp(a, b)
    times.append((time.perf_counter() - t0) * 1000)
print(json.dumps({"times": times, "d": float(r.statistic), "p": float(r.pvalue)}))
`;
      const out = JSON.parse(execFileSync('python3', ['-c', script], { encoding: 'utf8' })) as {
        times: number[];
        d: number;
        p: number;
      };
      scipyMs = out.times;
      scipyResult = `D ${out.d.toFixed(6)}, p ${out.p.toExponential(4)}`;
    }
    console.log(
      `KS + PSI, ${N.toLocaleString('en')} + ${N.toLocaleString('en')} values (median of ${ROUNDS}):`,
    );
    console.log(
      `  ours (sort both, ks2Sample, psi): ${median(ours).toFixed(0)} ms  [D ${result.d.toFixed(6)}, p ${result.p.toExponential(4)}, PSI ${result.psi.toFixed(6)}]`,
    );
    console.log(
      `    of which sorting the two arrays: ${median(sorting).toFixed(0)} ms (Float64Array.prototype.sort)`,
    );
    if (version) {
      console.log(
        `  scipy ${version} ks_2samp:            ${median(scipyMs).toFixed(0)} ms  [${scipyResult}]`,
      );
      console.log(
        `  ratio ours/scipy: ${(median(ours) / median(scipyMs)).toFixed(2)}x (goal <= 0.5x)`,
      );
    } else {
      console.log('  scipy: python3 with numpy and scipy is not available here; no comparison.');
    }

    // --- 2. Reading a 1M x 10 CSV against wc -l ---
    const csvFile = path.join(tmp, 'wide.csv');
    const r = rng(3);
    const fd = fs.openSync(csvFile, 'w');
    fs.writeSync(fd, `${Array.from({ length: 10 }, (_, i) => `c${i}`).join(',')}\n`);
    let chunk = '';
    for (let i = 0; i < N; i++) {
      let line = '';
      for (let c = 0; c < 10; c++) line += (c ? ',' : '') + (r() * 1000).toFixed(3);
      chunk += `${line}\n`;
      if (chunk.length > 1 << 20) {
        fs.writeSync(fd, chunk);
        chunk = '';
      }
    }
    fs.writeSync(fd, chunk);
    fs.closeSync(fd);
    const mb = fs.statSync(csvFile).size / 1e6;
    const wc: number[] = [];
    const read: number[] = [];
    let rss = 0;
    for (let i = 0; i < 3; i++) {
      let t0 = performance.now();
      execFileSync('wc', ['-l', csvFile]);
      wc.push(performance.now() - t0);
      t0 = performance.now();
      const table = await readTable(csvFile);
      read.push(performance.now() - t0);
      if (table.rowCount !== N) throw new Error(`read ${table.rowCount} rows, expected ${N}`);
      rss = Math.max(rss, process.memoryUsage().rss);
    }
    console.log(
      `\nRead a ${N.toLocaleString('en')} x 10 numeric CSV (${mb.toFixed(0)} MB), median of 3:`,
    );
    console.log(`  wc -l:     ${median(wc).toFixed(0)} ms`);
    console.log(
      `  readTable: ${median(read).toFixed(0)} ms  (peak RSS ${(rss / 2 ** 20).toFixed(0)} MiB)`,
    );
    console.log(`  ratio readTable / wc -l: ${(median(read) / median(wc)).toFixed(1)}x`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
