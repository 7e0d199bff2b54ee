import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { Tracking } from '../../src/core/tracking/tracking.ts';
import { startMlflowServer } from '../../src/server/mlflowServer.ts';
import type { MlflowServer } from '../../src/server/mlflowServer.ts';
import {
  decodeOtlpJson,
  decodeOtlpProtobuf,
  OtlpDecodeError,
} from '../../src/server/otlp/otlpDecode.ts';
import {
  decodeInPlace,
  MIN_WORKER_BODY_BYTES,
  OtlpDecoder,
} from '../../src/server/otlp/otlpDecoder.ts';
import { RecordingLogger, silentLogger } from '../../src/core/log.ts';
import { request } from '../fixtures/mlflow/rawClient.ts';
import { removeDir, tempDir } from './helpers.ts';

// OTLP/HTTP as the real OpenTelemetry JS SDK sends it (sdk-trace-node with the proto and the
// http/json exporters), and bodies that are broken in each way a receiver meets.

const dirs: string[] = [];
after(() => dirs.forEach(removeDir));

/** An agent run as an instrumented app exports it: agent -> llm, tool, retriever. */
function agentTrace(tracer: Tracer, question: string): string {
  const agent = tracer.startSpan('agent', {
    kind: SpanKind.INTERNAL,
    attributes: {
      'openinference.span.kind': 'AGENT',
      'input.value': question,
      'session.id': 's-1',
    },
  });
  const inAgent = trace.setSpan(context.active(), agent);
  const llm = tracer.startSpan(
    'chat gpt-4o-mini',
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
        'gen_ai.usage.input_tokens': 120,
        'gen_ai.usage.output_tokens': 30,
        'gen_ai.input.messages': JSON.stringify([
          { role: 'user', parts: [{ type: 'text', content: question }] },
        ]),
        'gen_ai.output.messages': JSON.stringify([
          {
            role: 'assistant',
            parts: [
              { type: 'tool_call', id: 'call_1', name: 'lookup', arguments: { city: 'Paris' } },
            ],
            finish_reason: 'tool_call',
          },
        ]),
      },
    },
    inAgent,
  );
  llm.addEvent('gen_ai.first_token');
  llm.end();
  const tool = tracer.startSpan(
    'execute_tool lookup',
    { attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'lookup' } },
    inAgent,
  );
  tool.recordException(new Error('lookup timed out'));
  tool.setStatus({ code: SpanStatusCode.ERROR, message: 'lookup timed out' });
  tool.end();
  const retriever = tracer.startSpan(
    'retrieve',
    {
      attributes: {
        'openinference.span.kind': 'RETRIEVER',
        'retrieval.documents.0.document.id': 'd1',
        'retrieval.documents.0.document.content': 'Paris is the capital of France.',
        'retrieval.documents.0.document.score': 0.92,
        'retrieval.documents.1.document.id': 'd2',
        'retrieval.documents.1.document.content': 'Lyon is a city in France.',
        'retrieval.documents.1.document.score': 0.41,
      },
    },
    inAgent,
  );
  retriever.end();
  agent.setAttribute('output.value', 'Paris');
  agent.end();
  return agent.spanContext().traceId;
}

async function exportWith(
  exporter: SpanExporter,
  fn: (tracer: Tracer) => string[],
): Promise<string[]> {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'agent-app' }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  const ids = fn(provider.getTracer('test', '1.0.0'));
  await provider.forceFlush();
  await provider.shutdown();
  return ids;
}

/** The body an exporter sends, caught by a bare server. */
async function capture(
  make: (url: string) => SpanExporter,
): Promise<{ body: Buffer; headers: http.IncomingHttpHeaders }> {
  let caught: { body: Buffer; headers: http.IncomingHttpHeaders } | undefined;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      caught = { body: Buffer.concat(chunks), headers: req.headers };
      res.writeHead(200, { 'Content-Type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await exportWith(make(`http://127.0.0.1:${port}/v1/traces`), (tracer) => [
    agentTrace(tracer, 'capital of France?'),
  ]);
  await new Promise((r) => server.close(r));
  assert.ok(caught, 'the exporter sent something');
  return caught;
}

describe('OTLP/HTTP from the OpenTelemetry JS SDK', () => {
  let t: Tracking;
  let server: MlflowServer;
  let experiment: string;
  before(async () => {
    const root = tempDir('mlops-otlp-');
    dirs.push(root);
    t = await Tracking.open({ dir: path.join(root, '.mlops'), watch: false, codeRoot: root });
    experiment = await t.createExperiment('agents');
    server = await startMlflowServer({ tracking: t, port: 0 });
  });
  after(async () => {
    await server?.close();
    await t?.close();
  });

  function checkAgentTrace(traceId: string) {
    const d = t.traces.get(traceId)!;
    assert.ok(d, `trace ${traceId} stored`);
    assert.equal(d.summary.experimentId, experiment);
    assert.equal(d.summary.name, 'agent');
    assert.equal(d.summary.spanCount, 4);
    assert.equal(d.summary.errorCount, 1);
    assert.equal(d.summary.state, 'OK');
    assert.equal(d.summary.tokensIn, 120);
    assert.equal(d.summary.tokensOut, 30);
    assert.ok(d.summary.cost !== null && d.summary.cost > 0, 'gpt-4o-mini is priced');
    assert.equal(d.summary.sessionId, 's-1');
    assert.equal(d.summary.inputPreview, 'capital of France?');
    assert.equal(d.summary.outputPreview, 'Paris');
    assert.ok(d.summary.ttftMs !== null && d.summary.ttftMs >= 0, 'time to first token');
    const by = Object.fromEntries(d.spans.map((s) => [s.name, s]));
    const root = by.agent!;
    assert.equal(root.parentSpanId, null);
    for (const name of ['chat gpt-4o-mini', 'execute_tool lookup', 'retrieve']) {
      assert.equal(by[name]!.parentSpanId, root.spanId, `${name} is a child of agent`);
    }
    assert.equal(root.meaning.type, 'AGENT');
    assert.equal(root.resource['service.name'], 'agent-app');
    assert.equal(root.scope?.name, 'test');
    const llm = by['chat gpt-4o-mini']!;
    assert.equal(llm.meaning.type, 'CHAT_MODEL');
    assert.equal(llm.kind, 3);
    assert.equal(llm.meaning.model, 'gpt-4o-mini-2024-07-18');
    assert.deepEqual(llm.meaning.inputMessages, [{ role: 'user', content: 'capital of France?' }]);
    assert.deepEqual(llm.meaning.outputMessages, [
      {
        role: 'assistant',
        content: '',
        toolCalls: [{ id: 'call_1', name: 'lookup', arguments: '{"city":"Paris"}' }],
      },
    ]);
    const tool = by['execute_tool lookup']!;
    assert.equal(tool.meaning.type, 'TOOL');
    assert.equal(tool.meaning.toolName, 'lookup');
    assert.equal(tool.statusCode, 2);
    assert.equal(tool.statusMessage, 'lookup timed out');
    const exception = tool.events.find((e) => e.name === 'exception')!;
    assert.equal(exception.attributes['exception.message'], 'lookup timed out');
    assert.match(String(exception.attributes['exception.stacktrace']), /Error: lookup timed out/);
    const docs = by.retrieve!.meaning.documents;
    assert.deepEqual(
      docs.map((x) => [x.id, x.score]),
      [
        ['d1', 0.92],
        ['d2', 0.41],
      ],
    );
  }

  test('the proto exporter sends a nested agent trace with events and an exception', async () => {
    const [id] = await exportWith(
      new ProtoExporter({
        url: `${server.url}/v1/traces`,
        headers: { 'x-mlflow-experiment-id': experiment },
      }),
      (tracer) => [agentTrace(tracer, 'capital of France?')],
    );
    checkAgentTrace(id!);
  });

  test('the http/json exporter, gzip-compressed, gives the same trace', async () => {
    const [id] = await exportWith(
      new JsonExporter({
        url: `${server.url}/v1/traces`,
        headers: { 'x-mlflow-experiment-id': experiment },
        compression: 'gzip' as never,
      }),
      (tracer) => [agentTrace(tracer, 'capital of France?')],
    );
    checkAgentTrace(id!);
  });

  test('a batch of 512 spans over several traces lands whole', async () => {
    const ids = await exportWith(
      new ProtoExporter({
        url: `${server.url}/v1/traces`,
        headers: { 'x-mlflow-experiment-id': experiment },
      }),
      (tracer) => {
        const out: string[] = [];
        for (let i = 0; i < 128; i++) out.push(agentTrace(tracer, `question ${i}`));
        return out;
      },
    );
    for (const id of ids) assert.equal(t.traces.summary(id)!.spanCount, 4);
  });

  test('spans of one trace in any order and twice make one trace', async () => {
    const { body } = await capture((url) => new ProtoExporter({ url }));
    const decoded = decodeOtlpProtobuf(body);
    const [traceId] = new Set(decoded.spans.map((s) => s.traceId));
    const post = (spans: typeof decoded.spans) =>
      t.traces.ingest(spans, { experimentId: experiment });
    // The children first, the root alone later, then everything again.
    const root = decoded.spans.find((s) => s.parentSpanId === null)!;
    await post(decoded.spans.filter((s) => s !== root));
    const partial = t.traces.summary(traceId!)!;
    assert.equal(partial.spanCount, 3);
    assert.equal(partial.state, 'IN_PROGRESS', 'no root span yet');
    await post([root]);
    await post(decoded.spans);
    const whole = t.traces.summary(traceId!)!;
    assert.equal(whole.spanCount, 4);
    assert.equal(whole.state, 'OK');
    assert.equal(whole.name, 'agent');
    assert.equal(whole.tokensIn, 120, 'tokens counted once');
  });
});

describe('OTLP bodies that are not what they should be', () => {
  let t: Tracking;
  let server: MlflowServer;
  let protoBody: Buffer;
  let jsonBody: string;
  before(async () => {
    const root = tempDir('mlops-otlp-bad-');
    dirs.push(root);
    t = await Tracking.open({ dir: path.join(root, '.mlops'), watch: false, codeRoot: root });
    server = await startMlflowServer({ tracking: t, port: 0 });
    protoBody = (await capture((url) => new ProtoExporter({ url }))).body;
    jsonBody = (await capture((url) => new JsonExporter({ url }))).body.toString('utf8');
  });
  after(async () => {
    await server?.close();
    await t?.close();
  });

  const post = (body: Buffer | string, headers: Record<string, string>) =>
    request(server.url, '/v1/traces', { method: 'POST', body, headers });

  test('the captured bodies decode to the same four spans', () => {
    const a = decodeOtlpProtobuf(protoBody);
    const b = decodeOtlpJson(jsonBody);
    assert.equal(a.spans.length, 4);
    assert.deepEqual(
      a.spans.map((s) => [s.name, s.kind, s.statusCode, Object.keys(s.attributes).sort()]),
      b.spans.map((s) => [s.name, s.kind, s.statusCode, Object.keys(s.attributes).sort()]),
    );
    assert.deepEqual(a.rejected, []);
  });

  test('a truncated protobuf body is 400 with a reason, and the server carries on', async () => {
    const cut = protoBody.subarray(0, Math.floor(protoBody.length / 2));
    assert.throws(() => decodeOtlpProtobuf(cut), OtlpDecodeError);
    const bad = await post(cut, { 'Content-Type': 'application/x-protobuf' });
    assert.equal(bad.status, 400);
    assert.match(bad.json.message, /not an OTLP ExportTraceServiceRequest in protobuf/);
    const good = await post(protoBody, { 'Content-Type': 'application/x-protobuf' });
    assert.equal(good.status, 200);
  });

  test('JSON that is not JSON, or not OTLP, is 400 naming the problem', async () => {
    const notJson = await post('{"resourceSpans": [', { 'Content-Type': 'application/json' });
    assert.equal(notJson.status, 400);
    assert.match(notJson.json.message, /not JSON/);
    const wrong = await post(JSON.stringify({ resourceSpans: 'many' }), {
      'Content-Type': 'application/json',
    });
    assert.equal(wrong.status, 400);
    assert.match(wrong.json.message, /resourceSpans/);
  });

  test('spans with ids of the wrong length are refused one by one in partialSuccess', async () => {
    const body = JSON.parse(jsonBody);
    const spans = body.resourceSpans[0].scopeSpans[0].spans;
    spans[0].traceId = 'abcd';
    spans[1].spanId = '00112233';
    const answer = await post(JSON.stringify(body), { 'Content-Type': 'application/json' });
    assert.equal(answer.status, 200);
    assert.equal(answer.json.partialSuccess.rejectedSpans, 2);
    assert.match(answer.json.partialSuccess.errorMessage, /trace id 'abcd' is 2 bytes, not 16/);
    assert.match(answer.json.partialSuccess.errorMessage, /span id '00112233' is 4 bytes, not 8/);
    const kept = decodeOtlpJson(JSON.stringify(body)).spans;
    assert.equal(kept.length, 2);
    assert.equal(t.traces.summary(kept[0]!.traceId)!.spanCount >= 2, true);
  });

  test('gzip bodies are read; a body that only claims gzip is 400', async () => {
    const zipped = await post(zlib.gzipSync(protoBody), {
      'Content-Type': 'application/x-protobuf',
      'Content-Encoding': 'gzip',
    });
    assert.equal(zipped.status, 200);
    const fake = await post(protoBody, {
      'Content-Type': 'application/x-protobuf',
      'Content-Encoding': 'gzip',
    });
    assert.equal(fake.status, 400);
    assert.match(fake.json.message, /not valid gzip/);
  });

  test('too large, wrong type, wrong method', async () => {
    const big = Buffer.alloc(33 << 20);
    const large = await post(big, { 'Content-Type': 'application/x-protobuf' });
    assert.equal(large.status, 413);
    const bomb = await post(zlib.gzipSync(Buffer.alloc(200 << 20)), {
      'Content-Type': 'application/x-protobuf',
      'Content-Encoding': 'gzip',
    });
    assert.equal(bomb.status, 413);
    assert.match(bomb.json.message, /inflates to more than/);
    const text = await post('hello', { 'Content-Type': 'text/plain' });
    assert.equal(text.status, 415);
    const get = await request(server.url, '/v1/traces');
    assert.equal(get.status, 405);
    const ok = await post(protoBody, { 'Content-Type': 'application/x-protobuf' });
    assert.equal(ok.status, 200, 'still serving');
  });

  test('an experiment that does not exist is 404, nothing stored', async () => {
    const before = t.traces.count();
    const answer = await post(protoBody, {
      'Content-Type': 'application/x-protobuf',
      'x-mlflow-experiment-id': '999',
    });
    assert.equal(answer.status, 404);
    assert.match(answer.json.message, /Experiment '999' does not exist/);
    assert.equal(t.traces.count(), before);
  });
});

describe('decoding on a thread of its own', () => {
  let protoBody: Buffer;
  let jsonBody: string;
  before(async () => {
    protoBody = (await capture((url) => new ProtoExporter({ url }))).body;
    jsonBody = (await capture((url) => new JsonExporter({ url }))).body.toString('utf8');
  });
  /** Protobuf messages concatenated are one message with the repeated fields joined. */
  const bigProto = () => Buffer.concat(Array.from({ length: 60 }, () => protoBody));
  const bigJson = () => {
    const one = JSON.parse(jsonBody) as { resourceSpans: unknown[] };
    return Buffer.from(
      JSON.stringify({ resourceSpans: Array.from({ length: 60 }, () => one.resourceSpans).flat() }),
    );
  };
  const BUNDLED = path.join(__dirname, '..', '..', 'dist', 'otlpDecodeWorker.js');

  test('large bodies go to the thread and come back as decoding in place gives them', async () => {
    const log = new RecordingLogger();
    const decoder = new OtlpDecoder(log);
    try {
      const proto = bigProto();
      assert.ok(proto.length >= MIN_WORKER_BODY_BYTES, `${proto.length} bytes`);
      const a = await decoder.decode('protobuf', proto);
      assert.equal(a.spans.length, 240);
      assert.deepEqual(a, decodeInPlace('protobuf', proto));
      const json = bigJson();
      assert.deepEqual(await decoder.decode('json', json), decodeInPlace('json', json));
      // A small body, and one that is a view on a larger buffer.
      assert.equal((await decoder.decode('protobuf', protoBody)).spans.length, 4);
      const view = Buffer.concat([Buffer.alloc(7), proto]).subarray(7);
      assert.equal((await decoder.decode('protobuf', view)).spans.length, 240);
      assert.deepEqual(decoder.counts, { worker: 3, inPlace: 1 });
      assert.deepEqual(log.lines, []);
    } finally {
      await decoder.close();
    }
  });

  test('the thread built into dist/ decodes too (npm test builds it first)', async () => {
    assert.ok(fs.existsSync(BUNDLED), 'npm test builds dist/ first');
    const decoder = new OtlpDecoder(silentLogger, {
      source: () => ({ code: `require(${JSON.stringify(BUNDLED)});`, eval: true }),
    });
    try {
      const proto = bigProto();
      assert.deepEqual(await decoder.decode('protobuf', proto), decodeInPlace('protobuf', proto));
      assert.equal(decoder.counts.worker, 1);
    } finally {
      await decoder.close();
    }
  });

  test('a body the thread cannot decode is an OtlpDecodeError, as in place', async () => {
    const decoder = new OtlpDecoder(silentLogger);
    try {
      const proto = bigProto();
      const cut = proto.subarray(0, proto.length - 3);
      await assert.rejects(
        decoder.decode('protobuf', cut),
        (e: Error) =>
          e instanceof OtlpDecodeError && /not an OTLP ExportTraceServiceRequest/.test(e.message),
      );
      await assert.rejects(
        decoder.decode('json', Buffer.from(`${'['.repeat(20_000)}`)),
        OtlpDecodeError,
      );
      assert.equal(decoder.counts.worker, 2);
      assert.equal((await decoder.decode('protobuf', proto)).spans.length, 240, 'still serving');
    } finally {
      await decoder.close();
    }
  });

  test('a thread that dies: its bodies are decoded in place, with a warning, nothing lost', async () => {
    const log = new RecordingLogger();
    let starts = 0;
    const decoder = new OtlpDecoder(log, {
      source: () => {
        starts++;
        return {
          code: `require('node:worker_threads').parentPort.on('message', () => process.exit(3));`,
          eval: true,
        };
      },
    });
    try {
      const proto = bigProto();
      const [a, b] = await Promise.all([
        decoder.decode('protobuf', proto),
        decoder.decode('protobuf', proto),
      ]);
      assert.equal(a.spans.length, 240);
      assert.deepEqual(a, b);
      assert.deepEqual(decoder.counts, { worker: 0, inPlace: 2 });
      assert.match(log.lines.map((l) => l.message).join('\n'), /decoding thread failed.*code 3/);
      // Not started again at once: the next body is decoded in place.
      assert.equal((await decoder.decode('protobuf', proto)).spans.length, 240);
      assert.equal(starts, 1);
    } finally {
      await decoder.close();
    }
  });

  test('closing while a body is on the thread decodes it in place; no thread: in place', async () => {
    const hung = new OtlpDecoder(silentLogger, {
      source: () => ({
        code: `require('node:worker_threads').parentPort.on('message', () => {});`,
        eval: true,
      }),
    });
    const pending = hung.decode('protobuf', bigProto());
    await new Promise((r) => setTimeout(r, 50));
    await hung.close();
    assert.equal((await pending).spans.length, 240);
    const none = new OtlpDecoder(silentLogger, { source: () => undefined });
    assert.equal((await none.decode('protobuf', bigProto())).spans.length, 240);
    assert.deepEqual(none.counts, { worker: 0, inPlace: 1 });
    await none.close();
  });
});
