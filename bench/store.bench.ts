// Store and tracking benchmarks of the foundation issue, measured in one run and
// printed as ratios against a baseline measured in the same run.
//   npm run bench            (all four)
//   npm run bench -- ingest  (one of: ingest, durable, open, search)

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MIGRATIONS } from '../src/core/store/schema.ts';
import { configureDatabase, loadSqlJs } from '../src/core/store/sqlite.ts';
import { Tracking } from '../src/core/tracking/tracking.ts';

const only = process.argv[2];
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-bench-'));
const ms = (t0: number): number => performance.now() - t0;
const fmt = (n: number, d = 1): string => n.toFixed(d);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

function batch(
  step0: number,
  n: number,
  key = 'loss',
): { key: string; value: number; step: number; timestamp: number }[] {
  return Array.from({ length: n }, (_, i) => ({
    key,
    value: Math.sin(step0 + i),
    step: step0 + i,
    timestamp: 1_700_000_000_000 + step0 + i,
  }));
}

async function freshRun(
  dir: string,
  durability: 'disk' | 'os' = 'disk',
): Promise<{ t: Tracking; runId: string }> {
  const t = await Tracking.open({ dir, watch: false, durability });
  const run = await t.createRun({ captureGit: false });
  return { t, runId: run.runId };
}

async function ingest(): Promise<void> {
  // Raw: prepared inserts into the same schema, one transaction per 1000 points.
  // The two sides alternate in 10 rounds so that machine noise hits both alike.
  const points = 200_000;
  const rounds = 10;
  const SQL = await loadSqlJs();
  const db = new SQL.Database();
  for (const m of MIGRATIONS) db.exec(m.sql);
  configureDatabase(db); // the same connection settings as the store
  db.exec(
    "INSERT INTO runs (rid, run_uuid, experiment_id, name, user_id, status, start_time, artifact_uri) VALUES (1, 'r', 0, 'r', 'u', 'RUNNING', 0, 'a')",
  );
  const insert = db.prepare(
    'INSERT INTO metrics (rid, key, step, seq, timestamp, value, is_nan) VALUES (?, ?, ?, ?, ?, ?, 0)',
  );
  const disk = await freshRun(path.join(scratch, 'ingest-disk'));
  const osMode = await freshRun(path.join(scratch, 'ingest-os'), 'os');
  let rawMs = 0;
  let seq = 0;
  let diskMs = 0;
  let osMs = 0;
  const perRound = points / rounds;
  const api = async (side: { t: Tracking; runId: string }, r: number): Promise<number> => {
    const t0 = performance.now();
    for (let b = r * perRound; b < (r + 1) * perRound; b += 1000) {
      await side.t.logBatch(side.runId, { metrics: batch(b, 1000) });
    }
    return ms(t0);
  };
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let b = r * perRound; b < (r + 1) * perRound; b += 1000) {
      db.exec('BEGIN');
      for (const p of batch(b, 1000)) insert.run([1, p.key, p.step, ++seq, p.timestamp, p.value]);
      db.exec('COMMIT');
    }
    rawMs += ms(t0);
    diskMs += await api(disk, r);
    osMs += await api(osMode, r);
  }
  insert.free();
  db.close();
  await disk.t.close();
  await osMode.t.close();
  const rate = (total: number): number => points / (total / 1000);
  console.log(
    `1. ingest (${points} points, batches of 1000, ${rounds} alternating rounds): raw sql.js ${fmt(rate(rawMs) / 1000)}k points/s (in memory, no durability)`,
  );
  console.log(
    `   API, durability 'disk' (fdatasync per batch, the default): ${fmt(rate(diskMs) / 1000)}k points/s, ratio ${fmt(rawMs / diskMs, 2)}x  (goal >= 0.5x)`,
  );
  console.log(
    `   API, durability 'os' (survives kill -9 at once, a machine crash after <= 100 ms): ${fmt(rate(osMs) / 1000)}k points/s, ratio ${fmt(rawMs / osMs, 2)}x  (goal >= 0.5x)`,
  );
}

async function fill(dir: string, total: number, runs = 10): Promise<void> {
  const t = await Tracking.open({ dir, watch: false });
  const ids: string[] = [];
  for (let r = 0; r < runs; r++)
    ids.push((await t.createRun({ captureGit: false, runName: `run-${r}` })).runId);
  for (let b = 0; b < total; b += 1000)
    await t.logBatch(ids[(b / 1000) % runs]!, { metrics: batch(b, 1000, `m${(b / 1000) % 4}`) });
  await t.close();
}

async function durable(): Promise<void> {
  const bigDir = path.join(scratch, 'big');
  const t0 = performance.now();
  await fill(bigDir, 1_000_000);
  console.log(`   (filled a store with 1,000,000 points in ${fmt(ms(t0) / 1000)} s)`);
  const measure = async (dir: string): Promise<{ median: number; mean: number }> => {
    const { t, runId } = await freshRun(dir);
    const times: number[] = [];
    for (let i = 0; i < 200; i++) {
      const s = performance.now();
      await t.logBatch(runId, { metrics: batch(i * 1000, 1000) });
      times.push(ms(s));
    }
    await t.close();
    return { median: median(times), mean: mean(times) };
  };
  const empty = await measure(path.join(scratch, 'empty'));
  const big = await measure(bigDir);
  console.log(`2. durable write of 1000 points (200 writes each; mean includes compactions):`);
  console.log(`   empty store: median ${fmt(empty.median, 2)} ms, mean ${fmt(empty.mean, 2)} ms`);
  console.log(`   1M-point store: median ${fmt(big.median, 2)} ms, mean ${fmt(big.mean, 2)} ms`);
  console.log(
    `   ratio 1M/empty = ${fmt(big.median / empty.median, 2)}x median, ${fmt(big.mean / empty.mean, 2)}x mean  (goal <= 3x)`,
  );
}

async function open(): Promise<void> {
  const dir = path.join(scratch, 'open');
  await fill(dir, 1_000_000);
  // Leave some journal behind the snapshot, as a store in use would have.
  const t = await Tracking.open({ dir, watch: false });
  const run = await t.createRun({ captureGit: false });
  for (let b = 0; b < 50_000; b += 1000) await t.logBatch(run.runId, { metrics: batch(b, 1000) });
  const stats = t.store.stats;
  await t.close();
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(__dirname, 'openChild.ts'), dir],
    { encoding: 'utf8' },
  );
  if (child.status !== 0) throw new Error(child.stderr);
  const r = JSON.parse(child.stdout) as {
    loadMs: number;
    openMs: number;
    listMs: number;
    runs: number;
    maxRssMb: number;
    baseRssMb: number;
  };
  console.log(
    `3. open a store of 1,050,000 points (snapshot ${fmt(stats.snapshotBytes / 1048576)} MB + journal ${fmt(stats.journalBytes / 1048576)} MB) in a fresh process and list its ${r.runs} runs:`,
  );
  console.log(
    `   sql.js load ${fmt(r.loadMs, 0)} ms + open ${fmt(r.openMs, 0)} ms + list ${fmt(r.listMs, 0)} ms = ${fmt(r.loadMs + r.openMs + r.listMs, 0)} ms  (goal < 2000 ms)`,
  );
  console.log(
    `   peak RSS ${fmt(r.maxRssMb, 0)} MB (process before opening: ${fmt(r.baseRssMb, 0)} MB)`,
  );
}

async function search(): Promise<void> {
  const dir = path.join(scratch, 'search');
  const t = await Tracking.open({ dir, watch: false });
  const exp = await t.createExperiment('sweep');
  const t0 = performance.now();
  for (let i = 0; i < 10_000; i++) {
    const run = await t.createRun({ experimentId: exp, captureGit: false, runName: `r${i}` });
    await t.logBatch(run.runId, {
      params: { lr: ['0.1', '0.01', '0.001'][i % 3]!, batch: String(32 << (i % 4)) },
      metrics: [
        { key: 'acc', value: (i % 1000) / 1000, step: 0 },
        { key: 'loss', value: 1 - (i % 1000) / 1000, step: 0 },
      ],
    });
  }
  const setupS = ms(t0) / 1000;
  const cases: [string, string, string[], number][] = [
    ['metric filter, 100 per page', 'metrics.acc > 0.9', [], 100],
    [
      'metric + param filter, ordered by metric',
      "metrics.acc > 0.9 and params.lr = '0.01'",
      ['metrics.loss ASC'],
      100,
    ],
    ['metric filter, 1000 per page', 'metrics.acc > 0.5', [], 1000],
  ];
  console.log(`4. search over 10,000 runs (created in ${fmt(setupS)} s):`);
  for (const [label, filter, orderBy, maxResults] of cases) {
    const times: number[] = [];
    let n = 0;
    for (let i = 0; i < 20; i++) {
      const s = performance.now();
      n = t.searchRuns({ experimentIds: [exp], filter, orderBy, maxResults }).items.length;
      times.push(ms(s));
    }
    console.log(
      `   ${label}: "${filter}" -> ${n} runs, median ${fmt(median(times), 1)} ms  (goal < 100 ms)`,
    );
  }
  await t.close();
}

async function mainBench(): Promise<void> {
  console.log(`node ${process.version}, ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}`);
  const all: [string, () => Promise<void>][] = [
    ['ingest', ingest],
    ['durable', durable],
    ['open', open],
    ['search', search],
  ];
  try {
    for (const [name, fn] of all) if (!only || only === name) await fn();
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

void mainBench();
