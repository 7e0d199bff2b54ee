// The eval runner against a real HTTP endpoint (the local OpenAI-compatible
// server), through the real `openai` package: counts, streaming timings, errors
// that never stop a run, retries, timeouts, cancellation, the cache, repeats.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EvalCancelledError, runEval } from '../../src/core/evals/runner.ts';
import type { EvalPrompt } from '../../src/core/evals/runner.ts';
import type { EvalSuite } from '../../src/core/evals/suite.ts';
import { ValidationError } from '../../src/core/store/errors.ts';
import { startFakeOpenAI } from '../fixtures/openaiServer.ts';
import type { FakeOpenAIServer } from '../fixtures/openaiServer.ts';
import { removeDir, tempDir } from './helpers.ts';

const prompt: EvalPrompt = {
  label: 'inline',
  name: null,
  version: null,
  template: 'Answer about {{ topic }}.',
  messages: null,
  modelSettings: {},
};

function suiteFor(server: FakeOpenAIServer, extra: Partial<EvalSuite> = {}): EvalSuite {
  return {
    prompt: 'inline',
    dataset: { cases: [{ vars: { topic: 'x' } }] },
    provider: { baseUrl: server.url, model: 'fake-small', timeoutMs: 2000 },
    criteria: [{ name: 'says-yes', type: 'contains', value: 'yes' }],
    ...extra,
  } as EvalSuite;
}

const cases = (...topics: string[]) => topics.map((topic) => ({ vars: { topic } }));

describe('eval runner', () => {
  let server: FakeOpenAIServer;
  const dirs: string[] = [];
  before(async () => {
    server = await startFakeOpenAI({
      rules: [
        { match: 'good', reply: 'yes, good' },
        { match: 'bad', reply: 'no, bad' },
      ],
      latencyMs: 30,
    });
  });
  after(async () => {
    await server.close();
    dirs.forEach(removeDir);
  });

  test('counts per case and per criterion, with streaming timings and usage', async () => {
    const result = await runEval({
      suite: suiteFor(server, {
        criteria: [
          { name: 'says-yes', type: 'contains', value: 'yes' },
          { name: 'fast', type: 'max-latency', ms: 5000 },
        ],
      } as Partial<EvalSuite>),
      prompt,
      cases: cases('good', 'bad', 'good'),
    });
    assert.deepEqual(result.summary.resultCounts, { total: 3, passed: 2, failed: 1, errored: 0 });
    assert.deepEqual(result.summary.perCriterion, {
      'says-yes': { passed: 2, failed: 1, errored: 0 },
      fast: { passed: 3, failed: 0, errored: 0 },
    });
    assert.equal(result.summary.passRate, 2 / 3);
    const bad = result.cases[1]!;
    assert.equal(bad.status, 'failed');
    assert.equal(bad.output, 'no, bad');
    assert.deepEqual(bad.input, [{ role: 'user', content: 'Answer about bad.' }]);
    for (const c of result.cases) {
      assert.ok(c.ttftMs !== null && c.ttftMs >= 25, `time to first token ${c.ttftMs}`);
      assert.ok(c.latencyMs! >= c.ttftMs!);
      assert.ok(c.usage && c.usage.input > 0 && c.usage.output > 0);
    }
    assert.ok(result.summary.latencyMs.p50! >= 25);
    assert.equal(
      result.summary.tokens.output,
      result.cases.reduce((n, c) => n + c.usage!.output, 0),
    );
    // Streaming with usage was asked for.
    const body = server.requests.at(-1)!.body as { stream: boolean; stream_options: unknown };
    assert.equal(body.stream, true);
    assert.deepEqual(body.stream_options, { include_usage: true });
  });

  test('a provider error is counted as errored and the run goes on', async () => {
    server.setOptions({ failures: [{ status: 500, count: 1 }] });
    const result = await runEval({
      suite: suiteFor(server, { concurrency: 1 }),
      prompt,
      cases: cases('good', 'good'),
      maxRetries: 0,
    });
    assert.deepEqual(result.summary.resultCounts, { total: 2, passed: 1, failed: 0, errored: 1 });
    assert.match(result.cases[0]!.error!, /HTTP 500/);
    assert.deepEqual(result.summary.perCriterion['says-yes'], { passed: 1, failed: 0, errored: 1 });
  });

  test('429s are retried, honouring retry-after, and then succeed', async () => {
    server.setOptions({ failures: [{ status: 429, count: 2, retryAfterSeconds: 0 }] });
    const before = server.requests.length;
    const result = await runEval({
      suite: suiteFor(server),
      prompt,
      cases: cases('good'),
      maxRetries: 3,
    });
    assert.equal(result.summary.resultCounts.passed, 1);
    assert.equal(server.requests.length - before, 3);
  });

  test('a request that hangs times out as an errored case', async () => {
    server.setOptions({ hangs: 1 });
    const suite = suiteFor(server, { concurrency: 1 });
    suite.provider.timeoutMs = 300;
    const result = await runEval({ suite, prompt, cases: cases('good', 'good'), maxRetries: 0 });
    assert.equal(result.cases[0]!.status, 'errored');
    assert.match(result.cases[0]!.error!, /timed out/);
    assert.equal(result.cases[1]!.status, 'passed');
  });

  test('cancelling stops the run', async () => {
    server.setOptions({ latencyMs: 200 });
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 100);
    await assert.rejects(
      runEval({
        suite: suiteFor(server, { concurrency: 1 }),
        prompt,
        cases: cases('good', 'good', 'good'),
        signal: abort.signal,
      }),
      EvalCancelledError,
    );
    server.setOptions({ latencyMs: 30 });
  });

  test('a re-run answers from the cache and sends nothing; --no-cache sends again', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const first = await runEval({
      suite: suiteFor(server),
      prompt,
      cases: cases('good', 'bad'),
      cacheDir: dir,
    });
    assert.equal(first.summary.cachedCalls, 0);
    const sent = server.requests.length;
    const again = await runEval({
      suite: suiteFor(server),
      prompt,
      cases: cases('good', 'bad'),
      cacheDir: dir,
    });
    assert.equal(server.requests.length, sent, 'nothing sent');
    assert.equal(again.summary.cachedCalls, 2);
    assert.deepEqual(
      again.summary.tokens,
      { input: 0, output: 0, cached: 0, reasoning: 0 },
      'not billed again',
    );
    assert.deepEqual(
      again.cases.map((c) => c.output),
      first.cases.map((c) => c.output),
    );
    await runEval({
      suite: suiteFor(server, { cache: false }),
      prompt,
      cases: cases('good', 'bad'),
      cacheDir: dir,
    });
    assert.equal(server.requests.length, sent + 2);
  });

  test('repeat gives pass@k and pass^k', async () => {
    let n = 0;
    const flaky = await startFakeOpenAI({ defaultReply: () => (n++ % 2 === 0 ? 'yes' : 'no') });
    try {
      const result = await runEval({
        suite: { ...suiteFor(flaky, { repeat: 2, concurrency: 1 }) },
        prompt,
        cases: cases('a', 'b'),
      });
      assert.equal(result.summary.resultCounts.total, 4);
      assert.equal(result.summary.passAtK, 1);
      assert.equal(result.summary.passHatK, 0);
    } finally {
      await flaky.close();
    }
  });

  test('concurrency bounds the requests in flight', async () => {
    server.setOptions({ latencyMs: 100 });
    const t0 = performance.now();
    await runEval({
      suite: suiteFor(server, { concurrency: 2 }),
      prompt,
      cases: cases('a', 'b', 'c', 'd', 'e', 'f'),
    });
    const elapsed = performance.now() - t0;
    // 6 calls of >= 100 ms, 2 at a time: at least 3 rounds.
    assert.ok(elapsed >= 290, `took ${elapsed} ms`);
    server.setOptions({ latencyMs: 30 });
  });

  test('criteria this version cannot grade are refused before any call', async () => {
    const sent = server.requests.length;
    await assert.rejects(
      runEval({
        suite: suiteFor(server, {
          criteria: [
            { name: 'judged', type: 'judge', rubric: 'Is it polite?' },
            { name: 'cheap', type: 'max-cost', usd: 0.01 },
          ],
        } as Partial<EvalSuite>),
        prompt,
        cases: cases('good'),
      }),
      (e: Error) =>
        e instanceof ValidationError && /"judged" \(judge\), "cheap" \(max-cost\)/.test(e.message),
    );
    assert.equal(server.requests.length, sent);
  });
});
