import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { recordEval } from '../../src/core/evals/report.ts';
import { EvalCancelledError, runEval } from '../../src/core/evals/runner.ts';
import type { EvalSuite } from '../../src/core/evals/suite.ts';
import { Tracking } from '../../src/core/tracking/tracking.ts';
import { startFakeOpenAI } from '../fixtures/openaiServer.ts';
import type { FakeOpenAIServer as FakeOpenAI } from '../fixtures/openaiServer.ts';
import { removeDir, tempDir } from './helpers.ts';

const dirs: string[] = [];
after(() => dirs.forEach(removeDir));

async function open() {
  const root = tempDir('mlops-tracer-');
  dirs.push(root);
  return Tracking.open({ dir: path.join(root, '.mlops'), watch: false, codeRoot: root });
}

describe('the tracing API of the Node API', () => {
  let server: FakeOpenAI;
  before(async () => {
    server = await startFakeOpenAI({
      rules: [{ match: 'capital of France', reply: 'Paris.' }],
      chunkDelayMs: 5,
    });
  });
  after(() => server?.close());

  test('withSpan nests across awaits and parallel work, records an exception, and flushes on close', async () => {
    const t = await open();
    const tracer = t.tracer({ experiment: 'agents', resource: { 'service.name': 'demo' } });
    let traceId = '';
    await assert.rejects(
      tracer.withSpan('answer', { type: 'AGENT', inputs: { q: 'hi' } }, async (root) => {
        traceId = root.traceId;
        await Promise.all([
          tracer.withSpan('search', { type: 'TOOL' }, async () => {
            await new Promise((r) => setTimeout(r, 5));
            return 1;
          }),
          tracer.withSpan('rank', { type: 'RERANKER' }, async (s) => {
            s.setOutputs([1, 2]);
          }),
        ]);
        await tracer.withSpan('parse', { type: 'PARSER' }, async () => {
          throw new TypeError('bad json');
        });
      }),
      /bad json/,
    );
    assert.equal(tracer.pending, 4, 'buffered until the flush');
    await t.close();
    const again = await Tracking.open({ dir: t.store.dir, watch: false });
    try {
      const d = again.traces.get(traceId)!;
      assert.equal(d.summary.experimentId, again.getExperimentByName('agents')!.experimentId);
      assert.equal(d.summary.state, 'ERROR', 'the error went through the root');
      const by = Object.fromEntries(d.spans.map((s) => [s.name, s]));
      const root = by.answer!;
      for (const n of ['search', 'rank', 'parse'])
        assert.equal(by[n]!.parentSpanId, root.spanId, n);
      assert.deepEqual(d.spans.map((s) => s.meaning.type).sort(), [
        'AGENT',
        'PARSER',
        'RERANKER',
        'TOOL',
      ]);
      assert.deepEqual(root.meaning.inputs, { q: 'hi' });
      assert.equal(by.parse!.statusCode, 2);
      assert.equal(by.parse!.statusMessage, 'TypeError: bad json');
      assert.equal(by.parse!.events[0]!.attributes['exception.type'], 'TypeError');
      assert.equal(by.search!.statusCode, 1);
      assert.ok(by.search!.endUs - by.search!.startUs >= 4000, 'the span lasted the 5 ms it took');
      assert.equal(root.resource['service.name'], 'demo');
    } finally {
      await again.close();
    }
  });

  test('wrapOpenAI traces chat completions, streamed and not, and failed ones', async () => {
    const t = await open();
    try {
      const tracer = t.tracer();
      const client = tracer.wrapOpenAI(
        new OpenAI({ baseURL: server.url, apiKey: 'k', maxRetries: 0 }),
      );
      let traceId = '';
      await tracer.withSpan('chat session', async (root) => {
        traceId = root.traceId;
        const plain = await client.chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: 'What is the capital of France?' }],
        });
        assert.equal(plain.choices[0]!.message.content, 'Paris.');
        const stream = await client.chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: 'And the capital of France again?' }],
          stream: true,
          stream_options: { include_usage: true },
        });
        let text = '';
        for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
        assert.equal(text, 'Paris.');
        server.setOptions({ failures: [{ status: 500, count: 1 }] });
        await assert.rejects(
          client.chat.completions.create({
            model: 'gpt-4o-mini',
            messages: [{ role: 'user', content: 'x' }],
          }),
          /500/,
        );
      });
      await tracer.flush();
      const d = t.traces.get(traceId)!;
      const chats = d.spans.filter((s) => s.meaning.type === 'CHAT_MODEL');
      assert.equal(chats.length, 3);
      const [plain, streamed, failed] = chats;
      assert.deepEqual(plain!.meaning.inputMessages, [
        { role: 'user', content: 'What is the capital of France?' },
      ]);
      assert.deepEqual(plain!.meaning.outputMessages, [{ role: 'assistant', content: 'Paris.' }]);
      assert.ok(plain!.tokensIn! > 0 && plain!.tokensOut! > 0, 'usage from the response');
      assert.equal(plain!.meaning.model, 'gpt-4o-mini');
      assert.ok(plain!.cost !== null, 'priced');
      assert.deepEqual(streamed!.meaning.outputMessages, [
        { role: 'assistant', content: 'Paris.' },
      ]);
      assert.ok(streamed!.tokensOut! > 0, 'usage from the last chunk');
      assert.ok(streamed!.ttftMs !== null && streamed!.ttftMs >= 0, 'time to first token');
      assert.ok(streamed!.events.some((e) => e.name === 'first_token'));
      assert.equal(failed!.statusCode, 2);
      assert.match(failed!.statusMessage, /500/);
      assert.equal(d.summary.spanCount, 4);
      assert.ok(d.summary.ttftMs !== null);
    } finally {
      await t.close();
    }
  });
});

describe('eval runs record a trace per case', () => {
  let server: FakeOpenAI;
  before(async () => {
    server = await startFakeOpenAI({
      rules: [
        { match: 'France', reply: 'Paris' },
        { match: 'Peru', reply: 'Cusco' },
      ],
    });
  });
  after(() => server?.close());

  const suite = (): EvalSuite => ({
    name: 'capitals',
    prompt: 'p.prompt.md',
    dataset: { cases: [] },
    provider: { baseUrl: server.url, model: 'gpt-4o-mini' },
    criteria: [
      { name: 'exact', type: 'equals', ignoreCase: true },
      { name: 'short', type: 'max-latency', ms: 10_000 },
    ],
    cache: false,
  });
  const prompt = {
    label: 'capitals v2',
    name: 'capitals',
    version: 2,
    template: 'What is the capital of {{ country }}?',
    messages: null,
    modelSettings: {},
  };
  const cases = [
    { id: 'fr', vars: { country: 'France' }, expected: 'Paris' },
    { id: 'pe', vars: { country: 'Peru' }, expected: 'Lima' },
  ];

  test('the model call and each criterion are spans; the traces link to the run, case and prompt', async () => {
    const t = await open();
    try {
      const tracer = t.tracer({ experiment: 'Evals', flushMs: null });
      const result = await runEval({ suite: suite(), prompt, cases, tracer });
      assert.equal(t.traces.count(), 0, 'nothing written before the run is recorded');
      const { runId } = await recordEval(t, result, 'capitals.eval.yaml', tracer);
      const pe = result.cases.find((c) => c.id === 'pe')!;
      assert.match(pe.traceId!, /^[0-9a-f]{32}$/);
      const d = t.traces.get(pe.traceId!)!;
      assert.equal(d.summary.evalRunId, runId);
      assert.equal(d.summary.evalCase, '1/0');
      assert.equal(d.summary.promptName, 'capitals');
      assert.equal(d.summary.promptVersion, 2);
      assert.equal(d.summary.name, 'capitals · pe');
      const chat = d.spans.find((s) => s.meaning.type === 'CHAT_MODEL')!;
      assert.deepEqual(chat.meaning.inputMessages, [
        { role: 'user', content: 'What is the capital of Peru?' },
      ]);
      assert.deepEqual(chat.meaning.outputMessages, [{ role: 'assistant', content: 'Cusco' }]);
      assert.ok(chat.ttftMs !== null);
      assert.equal(chat.tokensIn, pe.usage!.input);
      const graders = d.spans.filter((s) => s.meaning.type === 'EVALUATOR');
      assert.deepEqual(graders.map((g) => g.name).sort(), ['grade exact', 'grade short']);
      const exact = graders.find((g) => g.name === 'grade exact')!;
      assert.equal(exact.attributes['mlops.eval.pass'], false);
      assert.deepEqual(
        t.traces
          .search({ filter: `trace.eval_run_id = '${runId}'` })
          .traces.map((x) => x.evalCase)
          .sort(),
        ['0/0', '1/0'],
      );
    } finally {
      await t.close();
    }
  });

  test('a cancelled run keeps no trace', async () => {
    const t = await open();
    try {
      const tracer = t.tracer({ experiment: 'Evals', flushMs: null });
      const abort = new AbortController();
      abort.abort();
      await assert.rejects(
        runEval({ suite: suite(), prompt, cases, tracer, signal: abort.signal }),
        EvalCancelledError,
      );
      tracer.discard();
      await tracer.flush();
      assert.equal(t.traces.count(), 0);
    } finally {
      await t.close();
    }
  });
});
