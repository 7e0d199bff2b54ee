// Traces: (1) OTLP/HTTP protobuf ingest, batches of 512 spans (the OpenTelemetry SDK's
// default batch) with 4 requests in flight from a client in a worker thread, against a
// server on a temp store with durability 'disk' (answered after fdatasync); baseline in the
// same run: Traces.ingest of the same spans in process, 4 in flight. The count of stored
// spans is checked after each round. Goals: >= 20,000 spans/s and >= 0.5x in-process.
// (2) The Traces view's first page over 100,000 traces: what its provider asks the store
// for (the groups, then the first 50 traces of the expanded group), and with a filter and
// the session grouping. Goal < 200 ms. (3) For reference, reading a 10,000-span trace and
// building what the inspector page gets (the real host's figure is in traceInspector.bench).
//   node --import tsx bench/traces.bench.ts [batches per round, default 200]

import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import protobuf from 'protobufjs/light.js';
import type { SpanRecord } from '../src/core/model/tracing.ts';
import { Tracking } from '../src/core/tracking/tracking.ts';
import { traceView } from '../src/extension/webviews/traceViewModel.ts';
import { startMlflowServer } from '../src/server/mlflowServer.ts';
import { decodeOtlpProtobuf } from '../src/server/otlp/otlpDecode.ts';
import descriptor from '../src/server/otlp/otlpTrace.json';

const args = process.argv.slice(2);
/** `npm run bench:traces -- [batches] [--ingest-only]` */
const BATCHES = Number(args.find((a) => /^\d+$/.test(a)) ?? 200);
const INGEST_ONLY = args.includes('--ingest-only');
const SPANS_PER_BATCH = 512;
const SPANS_PER_TRACE = 8;
const IN_FLIGHT = 4;
const ROUNDS = 3;
const T0 = 1_700_000_000_000;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const hex = (n: number, len: number) => n.toString(16).padStart(len, '0');

/** One ExportTraceServiceRequest of 512 spans: 64 traces of an agent, a chat and tools. */
function requestBody(batch: number): Uint8Array {
  const root = protobuf.Root.fromJSON(descriptor as protobuf.INamespace);
  const Req = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
  const kv = (key: string, value: Record<string, unknown>) => ({ key, value });
  const spans = [];
  for (let i = 0; i < SPANS_PER_BATCH; i++) {
    const trace = batch * (SPANS_PER_BATCH / SPANS_PER_TRACE) + Math.floor(i / SPANS_PER_TRACE);
    const k = i % SPANS_PER_TRACE;
    const start = BigInt(T0 + trace * 10 + k) * 1_000_000n;
    const chat = k === 1;
    spans.push({
      traceId: Buffer.from(hex(trace + 1, 32), 'hex'),
      spanId: Buffer.from(hex(trace * 16 + k + 1, 16), 'hex'),
      parentSpanId: k === 0 ? Buffer.alloc(0) : Buffer.from(hex(trace * 16 + 1, 16), 'hex'),
      name: k === 0 ? 'agent' : chat ? 'chat gpt-4o-mini' : `tool ${k}`,
      kind: chat ? 3 : 1,
      startTimeUnixNano: start.toString(),
      endTimeUnixNano: (start + 5_000_000n).toString(),
      attributes: chat
        ? [
            kv('gen_ai.operation.name', { stringValue: 'chat' }),
            kv('gen_ai.request.model', { stringValue: 'gpt-4o-mini' }),
            kv('gen_ai.usage.input_tokens', { intValue: 120 }),
            kv('gen_ai.usage.output_tokens', { intValue: 30 }),
            kv('gen_ai.input.messages', {
              stringValue: JSON.stringify([{ role: 'user', content: `question ${trace}` }]),
            }),
            kv('gen_ai.output.messages', {
              stringValue: JSON.stringify([{ role: 'assistant', content: `answer ${trace}` }]),
            }),
          ]
        : [
            kv('openinference.span.kind', { stringValue: k === 0 ? 'AGENT' : 'TOOL' }),
            kv('input.value', { stringValue: `input ${trace}/${k}` }),
            kv('output.value', { stringValue: `output ${trace}/${k}` }),
          ],
      status: { code: 1 },
    });
  }
  return Req.encode(
    Req.fromObject({
      resourceSpans: [
        {
          resource: { attributes: [kv('service.name', { stringValue: 'bench-agent' })] },
          scopeSpans: [{ scope: { name: 'bench', version: '1' }, spans }],
        },
      ],
    }),
  ).finish();
}

async function keepInFlight(
  count: number,
  limit: number,
  job: (i: number) => Promise<void>,
): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < count) await job(next++);
    }),
  );
  return performance.now() - t0;
}

// ---------------------------------------------------------------- the client (worker thread)

async function client({
  url,
  bodies,
}: {
  url: string;
  bodies: Uint8Array[];
}): Promise<{ ms: number }> {
  const target = new URL(`${url}/v1/traces`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  const post = (body: Uint8Array): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          agent,
          headers: { 'Content-Type': 'application/x-protobuf', 'Content-Length': body.length },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const ms = await keepInFlight(bodies.length, IN_FLIGHT, (i) => post(bodies[i]!));
  agent.destroy();
  return { ms };
}

function runClient(job: { url: string; bodies: Uint8Array[] }): Promise<{ ms: number }> {
  return new Promise((resolve, reject) => {
    const entry = `require('tsx/cjs'); require(${JSON.stringify(__filename)});`;
    const worker = new Worker(entry, { eval: true, workerData: job });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once(
      'exit',
      (code) => code !== 0 && reject(new Error(`the client worker exited with ${code}`)),
    );
  });
}

// ---------------------------------------------------------------- ingest rounds

async function fresh(label: string): Promise<{ dir: string; t: Tracking }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `mlops-traces-bench-${label}-`));
  return { dir, t: await Tracking.open({ dir, watch: false, durability: 'disk' }) };
}

async function storedSpans(dir: string): Promise<number> {
  const t = await Tracking.open({ dir, watch: false, readOnly: true });
  try {
    return t.store.reader.traces.spanCount();
  } finally {
    await t.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function serverRound(bodies: Uint8Array[]): Promise<{ rate: number; stored: number }> {
  const { dir, t } = await fresh('server');
  const server = await startMlflowServer({ tracking: t, port: 0 });
  const { ms } = await runClient({ url: server.url, bodies });
  await server.close();
  await t.close();
  return { rate: (bodies.length * SPANS_PER_BATCH) / (ms / 1000), stored: await storedSpans(dir) };
}

async function inProcessRound(batches: SpanRecord[][]): Promise<{ rate: number; stored: number }> {
  const { dir, t } = await fresh('inproc');
  const ms = await keepInFlight(batches.length, IN_FLIGHT, async (i) => {
    await t.traces.ingest(batches[i]!);
  });
  await t.close();
  return { rate: (batches.length * SPANS_PER_BATCH) / (ms / 1000), stored: await storedSpans(dir) };
}

// ---------------------------------------------------------------- reads

async function readBenchmarks(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlops-traces-bench-read-'));
  const t = await Tracking.open({ dir, watch: false, durability: 'os' });
  const TRACES = 100_000;
  const seedStart = performance.now();
  const experiments = [await t.createExperiment('agents'), await t.createExperiment('evals')];
  let batch: SpanRecord[] = [];
  for (let i = 0; i < TRACES; i++) {
    const start = BigInt(T0 + i * 1000) * 1_000_000n;
    const traceId = hex(i + 1, 32);
    for (let k = 0; k < 3; k++) {
      batch.push({
        traceId,
        spanId: hex(i * 4 + k + 1, 16),
        parentSpanId: k === 0 ? null : hex(i * 4 + 1, 16),
        name: k === 0 ? `request ${i % 50}` : k === 1 ? 'chat' : 'search',
        kind: 1,
        startNs: String(start + BigInt(k) * 1_000_000n),
        endNs: String(start + 50_000_000n),
        statusCode: i % 20 === 0 && k === 2 ? 2 : 1,
        statusMessage: '',
        traceState: '',
        attributes:
          k === 1
            ? {
                'gen_ai.operation.name': 'chat',
                'gen_ai.request.model': 'gpt-4o-mini',
                'gen_ai.usage.input_tokens': 100,
                'gen_ai.usage.output_tokens': 20,
              }
            : k === 0
              ? { 'mlflow.spanType': 'AGENT', 'session.id': `session-${i % 500}` }
              : { 'mlflow.spanType': 'TOOL' },
        events: [],
        links: [],
        resource: {},
        scope: null,
        dropped: { attributes: 0, events: 0, links: 0 },
      });
    }
    if (batch.length >= 3000) {
      await t.traces.ingest(batch, { experimentId: experiments[i % 2] });
      batch = [];
    }
  }
  if (batch.length) await t.traces.ingest(batch, { experimentId: experiments[1] });
  const seedS = (performance.now() - seedStart) / 1000;
  console.log(
    `\nTraces view over ${t.traces.count().toLocaleString('en')} traces (${(TRACES * 3).toLocaleString('en')} spans; seeded in ${seedS.toFixed(1)} s):`,
  );

  const time = (label: string, fn: () => unknown) => {
    fn();
    const runs: number[] = [];
    for (let r = 0; r < 7; r++) {
      const t0 = performance.now();
      fn();
      runs.push(performance.now() - t0);
    }
    console.log(
      `  ${label}: median ${median(runs).toFixed(1)} ms (min ${Math.min(...runs).toFixed(1)}, max ${Math.max(...runs).toFixed(1)})`,
    );
    return median(runs);
  };
  const firstPage = (filter: string, by: 'experiment' | 'session') => () => {
    const groups = t.traces.groups(by, filter);
    const g = groups[0]!;
    t.traces.search({
      filter,
      maxResults: 50,
      ...(by === 'experiment'
        ? { experimentIds: g.key === null ? [] : [g.key] }
        : { sessionId: g.key }),
    });
  };
  const pages = [
    time('first page, by experiment (groups + 50 traces)', firstPage('', 'experiment')),
    time(
      "first page, filter trace.status = 'ERROR' OR span.type = 'TOOL' AND trace.cost > 0",
      firstPage("trace.status = 'ERROR' OR span.type = 'TOOL' AND trace.cost > 0", 'experiment'),
    ),
    time('first page, by session (500 sessions)', firstPage('', 'session')),
  ];
  console.log(
    `  goal < 200 ms for each: ${Math.max(...pages) < 200 ? 'met' : 'missed'} (slowest ${Math.max(...pages).toFixed(1)} ms)`,
  );

  // A 10,000-span trace: read with what each span means, and the page's payload built.
  const big: SpanRecord[] = [];
  const bigId = 'f'.repeat(32);
  for (let i = 0; i < 10_000; i++) {
    const parent = i === 0 ? null : i <= 100 ? hex(1, 16) : hex(2 + ((i - 101) % 100), 16);
    big.push({
      traceId: bigId,
      spanId: hex(i + 1, 16),
      parentSpanId: parent,
      name: `step ${i}`,
      kind: 1,
      startNs: String(BigInt(T0) * 1_000_000n + BigInt(i) * 100_000n),
      endNs: String(BigInt(T0) * 1_000_000n + BigInt(i) * 100_000n + 5_000_000n),
      statusCode: 1,
      statusMessage: '',
      traceState: '',
      attributes: { 'mlflow.spanType': i % 3 ? 'TOOL' : 'CHAIN', 'mlflow.spanInputs': { i } },
      events: [],
      links: [],
      resource: {},
      scope: null,
      dropped: { attributes: 0, events: 0, links: 0 },
    });
  }
  for (let i = 0; i < big.length; i += 2000) await t.traces.ingest(big.slice(i, i + 2000));
  time(
    'a 10,000-span trace: its outline read and the inspector payload built',
    () => JSON.stringify(traceView(t.traces.outline(bigId)!)).length,
  );
  await t.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const spans = BATCHES * SPANS_PER_BATCH;
  console.log(
    `OTLP protobuf ingest: ${BATCHES} requests x ${SPANS_PER_BATCH} spans (${spans.toLocaleString('en')} spans, ${SPANS_PER_TRACE} per trace) per round, ${IN_FLIGHT} in flight, durability 'disk', ${ROUNDS} alternating rounds`,
  );
  const bodies = Array.from({ length: BATCHES }, (_, i) => requestBody(i));
  decodeOtlpProtobuf(bodies[0]!);
  const d0 = performance.now();
  const decoded = bodies.map((b) => decodeOtlpProtobuf(b).spans);
  const decodeMs = performance.now() - d0;
  console.log(
    `  decoding alone (protobufjs and the records): ${Math.round(spans / (decodeMs / 1000)).toLocaleString('en')} spans/s`,
  );
  console.log(`  request body: ${(bodies[0]!.length / 1024).toFixed(0)} KB protobuf`);
  await serverRound(bodies.slice(0, 10));
  await inProcessRound(decoded.slice(0, 10));
  const server: number[] = [];
  const inProcess: number[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const s = await serverRound(bodies);
    const p = await inProcessRound(decoded);
    if (s.stored !== spans || p.stored !== spans)
      throw new Error(`stored ${s.stored} / ${p.stored} of ${spans} spans`);
    server.push(s.rate);
    inProcess.push(p.rate);
    console.log(
      `  round ${r}: server ${Math.round(s.rate).toLocaleString('en')} spans/s, in process ${Math.round(p.rate).toLocaleString('en')} spans/s, ratio ${(s.rate / p.rate).toFixed(2)}x; all ${spans.toLocaleString('en')} stored both ways`,
    );
  }
  const sm = median(server);
  const pm = median(inProcess);
  console.log(
    `  median: server ${Math.round(sm).toLocaleString('en')} spans/s (goal >= 20,000: ${sm >= 20_000 ? 'met' : 'missed'}), in process ${Math.round(pm).toLocaleString('en')} spans/s, ratio ${(sm / pm).toFixed(2)}x (goal >= 0.5x: ${sm / pm >= 0.5 ? 'met' : 'missed'})`,
  );
  if (!INGEST_ONLY) await readBenchmarks();
}

if (isMainThread) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  void client(workerData as { url: string; bodies: Uint8Array[] }).then((r) =>
    parentPort!.postMessage(r),
  );
}
