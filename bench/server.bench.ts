// MLflow server ingest: `runs/log-batch` with 1000 metric points per request from a
// client that keeps 4 requests in flight (in a worker thread, so that building and
// sending bodies is not the server's time), against a server on a temp store, with
// durability 'disk' (the server answers only after fdatasync). Baseline in the same
// run: Tracking.logBatch with the same batches, 4 in flight, in process (the core
// calls the route makes). Each side: 3 rounds of REQUESTS x 1000 points on a fresh
// store, alternating; the median counts. After each round the store is closed, opened
// again and its points counted: the count must equal the points sent.
// Goals: server / in-process >= 0.5x, and >= 50,000 points/s absolute.
//   node --import tsx bench/server.bench.ts [requests per round, default 2000]

import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Tracking } from '../src/core/tracking/tracking.ts';
import { startMlflowServer } from '../src/server/mlflowServer.ts';

const REQUESTS = Number(process.argv[2] ?? 2000);
const POINTS_PER_REQUEST = 1000;
const IN_FLIGHT = 4;
const ROUNDS = 3;
/** Ten metrics logged together at each step, 100 steps per batch. */
const KEYS = Array.from({ length: 10 }, (_, i) => `metric_${i}`);
const T0 = 1_700_000_000_000;

const fmt = (n: number, d = 1): string => n.toFixed(d);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Point {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

function batch(index: number): Point[] {
  const points: Point[] = [];
  const steps = POINTS_PER_REQUEST / KEYS.length;
  for (let s = 0; s < steps; s++) {
    const step = index * steps + s;
    for (const key of KEYS) points.push({ key, value: Math.sin(step), timestamp: T0 + step, step });
  }
  return points;
}

/** Runs `count` jobs with `limit` of them in flight; resolves with the elapsed ms. */
async function keepInFlight(
  count: number,
  limit: number,
  job: (i: number) => Promise<void>,
): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  const lane = async (): Promise<void> => {
    while (next < count) await job(next++);
  };
  await Promise.all(Array.from({ length: limit }, lane));
  return performance.now() - t0;
}

// ---------------------------------------------------------------- the client (worker thread)

interface ClientJob {
  url: string;
  runId: string;
  requests: number;
}

async function client({ url, runId, requests }: ClientJob): Promise<{ ms: number }> {
  const target = new URL(`${url}/api/2.0/mlflow/runs/log-batch`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  const post = (body: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          agent,
          headers: {
            'Content-Type': 'application/json',
            'Content-Length': Buffer.byteLength(body),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            if (res.statusCode === 200) resolve();
            else reject(new Error(`${res.statusCode}: ${Buffer.concat(chunks).toString()}`));
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  // As an MLflow client does: the body is built and serialized for each request.
  const ms = await keepInFlight(requests, IN_FLIGHT, (i) =>
    post(JSON.stringify({ run_id: runId, metrics: batch(i) })),
  );
  agent.destroy();
  return { ms };
}

function runClient(job: ClientJob): Promise<{ ms: number }> {
  return new Promise((resolve, reject) => {
    // Node 20 does not pass tsx's --import hooks to a worker: the worker registers them.
    const entry = `require('tsx/cjs'); require(${JSON.stringify(__filename)});`;
    const worker = new Worker(entry, { eval: true, workerData: job });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the client worker exited with ${code}`));
    });
  });
}

// ---------------------------------------------------------------- rounds

interface Round {
  /** Points per second, acknowledged (= durable: both answer after fdatasync). */
  rate: number;
  /** Including closing the store. */
  closedRate: number;
  stored: number;
}

async function fresh(
  label: string,
  round: number,
): Promise<{ dir: string; t: Tracking; runId: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `mlops-server-bench-${label}${round}-`));
  const t = await Tracking.open({ dir, watch: false, durability: 'disk' });
  const runId = (await t.createRun({ captureGit: false, runName: 'bench' })).runId;
  return { dir, t, runId };
}

/** Opens the closed store again and counts its metric points. */
async function storedPoints(dir: string): Promise<number> {
  const t = await Tracking.open({ dir, watch: false, readOnly: true });
  try {
    return t.store.reader.counts().metricPoints;
  } finally {
    await t.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function serverRound(round: number, requests: number): Promise<Round> {
  const { dir, t, runId } = await fresh('server', round);
  const server = await startMlflowServer({ tracking: t, port: 0 });
  const { ms } = await runClient({ url: server.url, runId, requests });
  const c0 = performance.now();
  await server.close();
  await t.close();
  const closeMs = performance.now() - c0;
  const points = requests * POINTS_PER_REQUEST;
  return {
    rate: points / (ms / 1000),
    closedRate: points / ((ms + closeMs) / 1000),
    stored: await storedPoints(dir),
  };
}

async function inProcessRound(round: number, requests: number): Promise<Round> {
  const { dir, t, runId } = await fresh('inproc', round);
  const ms = await keepInFlight(requests, IN_FLIGHT, (i) =>
    t.logBatch(runId, { metrics: batch(i) }),
  );
  const c0 = performance.now();
  await t.close();
  const closeMs = performance.now() - c0;
  const points = requests * POINTS_PER_REQUEST;
  return {
    rate: points / (ms / 1000),
    closedRate: points / ((ms + closeMs) / 1000),
    stored: await storedPoints(dir),
  };
}

async function main(): Promise<void> {
  const points = REQUESTS * POINTS_PER_REQUEST;
  console.log(
    `MLflow server ingest: ${REQUESTS} log-batch requests x ${POINTS_PER_REQUEST} points (${points.toLocaleString('en')} points) per round, ${IN_FLIGHT} in flight, durability 'disk', ${ROUNDS} alternating rounds`,
  );
  // Warm-up, not counted: JIT, sql.js load, the first connections.
  await serverRound(0, 50);
  await inProcessRound(0, 50);
  const server: Round[] = [];
  const inProcess: Round[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    server.push(await serverRound(r, REQUESTS));
    inProcess.push(await inProcessRound(r, REQUESTS));
    const s = server[r - 1]!;
    const p = inProcess[r - 1]!;
    console.log(
      `  round ${r}: server ${fmt(s.rate / 1000)}k points/s (stored ${s.stored.toLocaleString('en')}), in-process ${fmt(p.rate / 1000)}k points/s (stored ${p.stored.toLocaleString('en')})`,
    );
  }
  for (const [label, rounds] of [
    ['server', server],
    ['in-process', inProcess],
  ] as const) {
    const bad = rounds.filter((r) => r.stored !== points);
    if (bad.length > 0) {
      throw new Error(
        `${label}: a round stored ${bad[0]!.stored} points, not the ${points} acknowledged`,
      );
    }
  }
  const s = median(server.map((r) => r.rate));
  const p = median(inProcess.map((r) => r.rate));
  console.log(
    `server (HTTP, JSON, validation, fdatasync per request): ${fmt(s / 1000)}k points/s acknowledged; ${fmt(median(server.map((r) => r.closedRate)) / 1000)}k points/s until the store is closed`,
  );
  console.log(
    `in-process Tracking.logBatch (fdatasync per batch):       ${fmt(p / 1000)}k points/s acknowledged; ${fmt(median(inProcess.map((r) => r.closedRate)) / 1000)}k points/s until the store is closed`,
  );
  console.log(
    `durable: every round's store, closed and opened again, holds all ${points.toLocaleString('en')} points sent`,
  );
  console.log(`ratio server / in-process = ${fmt(s / p, 2)}x  (goal >= 0.5x)`);
  console.log(
    `absolute server = ${Math.round(s).toLocaleString('en')} points/s  (goal >= 50,000 points/s)`,
  );
}

if (isMainThread) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
} else {
  client(workerData as ClientJob).then(
    (result) => parentPort!.postMessage(result),
    (e: unknown) => {
      throw e;
    },
  );
}
