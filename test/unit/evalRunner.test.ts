// The eval runner against a real HTTP endpoint (the local OpenAI-compatible
// server), through the real `openai` package: counts, streaming timings, errors
// that never stop a run, retries, timeouts, cancellation, the cache, repeats.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EvalCancelledError, runEval } from '../../src/core/evals/runner.ts';
import type { EvalPrompt } from '../../src/core/evals/runner.ts';
import type { EvalSuite } from '../../src/core/evals/suite.ts';
import { ValidationError } from '../../src/core/model/errors.ts';
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

  test('bad criteria and untrusted code criteria are refused before any call', async () => {
    const sent = server.requests.length;
    await assert.rejects(
      runEval({
        suite: suiteFor(server, {
          criteria: [{ name: 'shape', type: 'regex', pattern: '(unclosed' }],
        } as Partial<EvalSuite>),
        prompt,
        cases: cases('good'),
      }),
      (e: Error) => e instanceof ValidationError && /criterion "shape"/.test(e.message),
    );
    await assert.rejects(
      runEval({
        suite: suiteFor(server, {
          criteria: [{ name: 'mine', type: 'code', file: 'check.mjs' }],
        } as Partial<EvalSuite>),
        prompt,
        cases: cases('good'),
        trusted: false,
      }),
      (e: Error) =>
        e instanceof ValidationError && /trusted/.test(e.message) && /mine/.test(e.message),
    );
    assert.equal(server.requests.length, sent);
  });

  test('cost from usage and the price table; judge calls charged separately; max-cost gates', async () => {
    const judgeServer = await startFakeOpenAI({
      rules: [
        {
          match: 'Is it polite',
          reply: JSON.stringify({ reasoning: 'it says yes', score: 0.9, pass: true }),
          usage: { prompt_tokens: 1000, completion_tokens: 100 },
        },
      ],
    });
    const priced = await startFakeOpenAI({
      rules: [
        {
          match: 'good',
          reply: 'yes, good',
          usage: { prompt_tokens: 2000, completion_tokens: 500, cached_tokens: 1000 },
        },
      ],
    });
    try {
      const result = await runEval({
        suite: suiteFor(priced, {
          provider: { baseUrl: priced.url, model: 'gpt-4o-mini' },
          judge: { baseUrl: judgeServer.url, model: 'gpt-4o' },
          criteria: [
            { name: 'polite', type: 'judge', rubric: 'Is it polite?' },
            { name: 'cheap', type: 'max-cost', usd: 0.001 },
            { name: 'too-cheap', type: 'max-cost', usd: 0.0001 },
          ],
        } as Partial<EvalSuite>),
        prompt,
        cases: cases('good', 'good'),
        prices: {},
      });
      const c = result.cases[0]!;
      // gpt-4o-mini: (1000 x 0.15 + 1000 x 0.075 + 500 x 0.6) / 1e6
      const callUsd = (1000 * 0.15 + 1000 * 0.075 + 500 * 0.6) / 1e6;
      assert.ok(Math.abs(c.costUsd! - callUsd) < 1e-12, String(c.costUsd));
      // gpt-4o as judge: (1000 x 2.5 + 100 x 10) / 1e6
      const judgeUsd = (1000 * 2.5 + 100 * 10) / 1e6;
      assert.ok(Math.abs(c.judgeCostUsd! - judgeUsd) < 1e-12, String(c.judgeCostUsd));
      assert.equal(c.judgeCalls.length, 1);
      assert.equal(c.judgeCalls[0]!.purpose, 'judge');
      assert.deepEqual(
        c.verdicts.map((v) => [v.name, v.pass]),
        [
          ['polite', true],
          ['cheap', true],
          ['too-cheap', false],
        ],
      );
      assert.ok(Math.abs(result.summary.costUsd! - 2 * callUsd) < 1e-12);
      assert.ok(Math.abs(result.summary.judgeCostUsd! - 2 * judgeUsd) < 1e-12);
      assert.equal(result.summary.costEstimated, false);
      assert.match(result.summary.priceSource!, /genai-prices/);
      assert.equal(result.summary.judgeTokens.input, 2000);
      // The judge was asked on its own endpoint, the model under test on its own.
      assert.equal(judgeServer.requests.filter((r) => r.path === '/v1/chat/completions').length, 2);
    } finally {
      await judgeServer.close();
      await priced.close();
    }
  });

  test('an unknown model has an unknown cost; max-cost then fails and says why', async () => {
    const result = await runEval({
      suite: suiteFor(server, {
        criteria: [{ name: 'cheap', type: 'max-cost', usd: 1 }],
      } as Partial<EvalSuite>),
      prompt,
      cases: cases('good'),
    });
    assert.equal(result.summary.costUsd, null);
    assert.equal(result.cases[0]!.costUsd, null);
    assert.equal(result.cases[0]!.verdicts[0]!.pass, false);
    assert.match(
      result.cases[0]!.verdicts[0]!.reason,
      /no price for fake-small.*mlops\.evals\.prices/,
    );
    // A price from the settings fixes it.
    const again = await runEval({
      suite: suiteFor(server, {
        criteria: [{ name: 'cheap', type: 'max-cost', usd: 1 }],
      } as Partial<EvalSuite>),
      prompt,
      cases: cases('good'),
      prices: { 'fake-small': { input: 1, output: 2 } },
    });
    assert.equal(again.cases[0]!.verdicts[0]!.pass, true);
    assert.equal(again.summary.priceSource, 'settings');
  });

  test('without usage from the provider, tokens are estimated with a tokenizer and said to be', async () => {
    const quiet = await startFakeOpenAI({
      sendsUsage: false,
      rules: [{ match: 'good', reply: 'hello world' }],
    });
    try {
      const result = await runEval({
        suite: suiteFor(quiet, {
          provider: { baseUrl: quiet.url, model: 'gpt-4o' },
        } as Partial<EvalSuite>),
        prompt,
        cases: cases('good'),
      });
      const c = result.cases[0]!;
      assert.equal(c.tokensEstimated, true);
      // "hello world" is 2 tokens in o200k_base; the prompt, 3 + role + text + 3 priming.
      assert.equal(c.usage!.output, 2);
      assert.ok(c.usage!.input > 5 && c.usage!.input < 20, String(c.usage!.input));
      assert.equal(result.summary.costEstimated, true);
      assert.ok(result.summary.costUsd! > 0);
    } finally {
      await quiet.close();
    }
  });

  test('a judge call that fails makes that criterion (and case) errored, not failed', async () => {
    const result = await runEval({
      suite: suiteFor(server, {
        judge: { baseUrl: 'http://127.0.0.1:9/v1', model: 'gpt-4o', timeoutMs: 2000 },
        criteria: [
          { name: 'says-yes', type: 'contains', value: 'yes' },
          { name: 'polite', type: 'judge', rubric: 'Is it polite?' },
        ],
      } as Partial<EvalSuite>),
      prompt,
      cases: cases('good'),
      maxRetries: 0,
    });
    const c = result.cases[0]!;
    assert.equal(c.status, 'errored');
    assert.match(c.error!, /^polite: the judge call failed/);
    assert.deepEqual(result.summary.perCriterion.polite, { passed: 0, failed: 0, errored: 1 });
    assert.deepEqual(result.summary.perCriterion['says-yes'], { passed: 1, failed: 0, errored: 0 });
    assert.equal(result.summary.resultCounts.errored, 1);
  });

  test('a code criterion grades in a worker, with `not` applied by the runner', async () => {
    const dir = tempDir('mlops-code-');
    dirs.push(dir);
    fs.writeFileSync(
      path.join(dir, 'check.mjs'),
      'export default ({ output, vars }) => ({ pass: output.includes(vars.topic), reason: `looked for ${vars.topic}` });\n',
    );
    const result = await runEval({
      suite: suiteFor(server, {
        criteria: [
          { name: 'mentions', type: 'code', file: 'check.mjs' },
          { name: 'not-mentions', type: 'code', file: 'check.mjs', not: true },
        ],
      } as Partial<EvalSuite>),
      prompt,
      cases: cases('good', 'bad'),
      trusted: true,
      suiteFile: path.join(dir, 'x.eval.yaml'),
    });
    assert.deepEqual(
      result.cases.map((c) => c.verdicts.map((v) => v.pass)),
      [
        [true, false],
        [true, false],
      ],
    );
    assert.match(result.cases[0]!.verdicts[1]!.reason, /^not: looked for good/);
  });
});
