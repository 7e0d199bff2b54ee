// The judge against a real HTTP endpoint (the local OpenAI-compatible server), through the
// real `openai` package: verdicts, thresholds, malformed replies and the retry, the request
// it sends, toxicity through moderations and its fallback, errors and cancellation.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import OpenAI from 'openai';
import { Judge, judgeCallsOf, judgeConfig, parseVerdict } from '../../src/core/evals/judge.ts';
import type { JudgeCriterion, JudgeInput } from '../../src/core/evals/judge.ts';
import type { EvalSuite } from '../../src/core/evals/suite.ts';
import { ValidationError } from '../../src/core/model/errors.ts';
import { startFakeOpenAI } from '../fixtures/openaiServer.ts';
import type { FakeOpenAIOptions, FakeOpenAIServer } from '../fixtures/openaiServer.ts';

const servers: FakeOpenAIServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function start(options: FakeOpenAIOptions = {}): Promise<FakeOpenAIServer> {
  const server = await startFakeOpenAI(options);
  servers.push(server);
  return server;
}

function clientOf(server: FakeOpenAIServer): OpenAI {
  return new OpenAI({ baseURL: server.url, apiKey: 'k', maxRetries: 0, timeout: 5000 });
}

function judgeOn(server: FakeOpenAIServer, extra: { signal?: AbortSignal } = {}): Judge {
  const client = clientOf(server);
  return new Judge({ client, model: 'fake-large', moderationClient: client, ...extra });
}

const verdict = (pass: boolean, score: number, reasoning = 'because'): string =>
  JSON.stringify({ reasoning, score, pass });

const input = (output: string, c: Partial<JudgeInput['case']> = {}): JudgeInput => ({
  output,
  case: { vars: { q: 'x' }, ...c },
  renderedInput: 'What is the capital of France?',
});

const rubric = (text: string, extra: Partial<JudgeCriterion> = {}): JudgeCriterion =>
  ({ name: 'quality', type: 'judge', rubric: text, ...extra }) as JudgeCriterion;

interface SentMessage {
  role: string;
  content: string;
}
const chatBodies = (server: FakeOpenAIServer) =>
  server.requests
    .filter((r) => r.path === '/v1/chat/completions')
    .map((r) => r.body as { messages: SentMessage[]; [k: string]: unknown });

describe('judge criteria', () => {
  test('pass and fail follow the verdict, with the reasoning as the reason', async () => {
    const server = await start({
      rules: [
        { match: 'RUBRIC-GOOD', reply: verdict(true, 0.9, 'names Paris correctly') },
        { match: 'RUBRIC-BAD', reply: verdict(false, 0.2, 'does not name Paris') },
      ],
    });
    const judge = judgeOn(server);
    const good = await judge.grade(rubric('RUBRIC-GOOD'), input('Paris'));
    assert.deepEqual(good.verdict, { pass: true, score: 0.9, reason: 'names Paris correctly' });
    const bad = await judge.grade(rubric('RUBRIC-BAD'), input('Lyon'));
    assert.deepEqual(bad.verdict, { pass: false, score: 0.2, reason: 'does not name Paris' });
    assert.equal(bad.calls.length, 1);
    assert.equal(bad.calls[0]!.purpose, 'judge');
    assert.equal(bad.calls[0]!.criterion, 'quality');
    assert.equal(bad.calls[0]!.error, null);
  });

  test('a threshold decides pass from the score, whatever the judge said', async () => {
    const server = await start({
      rules: [
        { match: 'RUBRIC-LOW', reply: verdict(true, 0.4) },
        { match: 'RUBRIC-HIGH', reply: verdict(false, 0.8) },
      ],
    });
    const judge = judgeOn(server);
    const low = await judge.grade(rubric('RUBRIC-LOW', { threshold: 0.7 }), input('a'));
    assert.equal(low.verdict.pass, false);
    assert.equal(low.verdict.score, 0.4);
    assert.match(low.verdict.reason, /threshold 0\.7/);
    const high = await judge.grade(rubric('RUBRIC-HIGH', { threshold: 0.7 }), input('a'));
    assert.equal(high.verdict.pass, true);
  });

  test('a fenced verdict with text around it is accepted', async () => {
    const server = await start({
      rules: [
        {
          match: 'RUBRIC-FENCE',
          reply: `Here is my verdict:\n\`\`\`json\n${verdict(true, 1, 'fine {really}')}\n\`\`\`\nDone.`,
        },
      ],
    });
    const out = await judgeOn(server).grade(rubric('RUBRIC-FENCE'), input('a'));
    assert.deepEqual(out.verdict, { pass: true, score: 1, reason: 'fine {really}' });
    assert.equal(out.calls.length, 1);
  });

  test('a malformed verdict is retried once, quoting the validation error', async () => {
    const server = await start({
      rules: [
        { match: 'not a valid verdict', reply: verdict(true, 0.75, 'second try') },
        { match: 'RUBRIC-RETRY', reply: '{"reasoning": "ok", "score": "high", "pass": true}' },
      ],
    });
    const out = await judgeOn(server).grade(rubric('RUBRIC-RETRY'), input('a'));
    assert.deepEqual(out.verdict, { pass: true, score: 0.75, reason: 'second try' });
    const bodies = chatBodies(server);
    assert.equal(bodies.length, 2);
    const followUp = bodies[1]!.messages.at(-1)!;
    assert.equal(followUp.role, 'user');
    assert.match(followUp.content, /score: .*expected number/);
    assert.equal(bodies[1]!.messages.at(-2)!.role, 'assistant');
    assert.equal(out.calls.length, 2);
  });

  test('malformed twice: a failed verdict saying so, both calls recorded', async () => {
    const server = await start({
      rules: [{ match: 'RUBRIC-JUNK', reply: 'I think it is pretty good overall.' }],
    });
    const out = await judgeOn(server).grade(rubric('RUBRIC-JUNK', { not: true }), input('a'));
    assert.equal(out.verdict.pass, false, 'a malformed verdict fails even under not');
    assert.equal(out.verdict.score, 0);
    assert.match(
      out.verdict.reason,
      /the judge returned a malformed verdict: the reply has no JSON object; reply: I think it is pretty good overall\./,
    );
    assert.equal(out.calls.length, 2);
    assert.deepEqual(
      out.calls.map((c) => c.response),
      ['I think it is pretty good overall.', 'I think it is pretty good overall.'],
    );
    assert.equal(chatBodies(server).length, 2);
  });

  test('a score on a 1-10 scale is malformed, not rescaled', async () => {
    const server = await start({ rules: [{ match: 'RUBRIC-SCALE', reply: verdict(true, 7) }] });
    const out = await judgeOn(server).grade(rubric('RUBRIC-SCALE'), input('a'));
    assert.equal(out.verdict.pass, false);
    assert.match(out.verdict.reason, /malformed verdict: score: must be from 0 to 1/);
    assert.equal(out.calls.length, 2);
  });

  test('the request asks for a structured verdict, reasoning first, with the case in the messages', async () => {
    const server = await start({ rules: [{ match: 'RUBRIC-REQ', reply: verdict(true, 1) }] });
    await judgeOn(server).grade(
      rubric('RUBRIC-REQ: must name the capital'),
      input('OUTPUT-PARIS', { expected: 'EXPECTED-PARIS' }),
    );
    const [body] = chatBodies(server);
    assert.ok(body);
    assert.equal(body.model, 'fake-large');
    assert.equal(body.temperature, 0);
    assert.notEqual(body.stream, true);
    const format = body.response_format as {
      type: string;
      json_schema: {
        name: string;
        strict: boolean;
        schema: { properties: object; required: string[] };
      };
    };
    assert.equal(format.type, 'json_schema');
    assert.equal(format.json_schema.name, 'verdict');
    assert.equal(format.json_schema.strict, true);
    assert.deepEqual(Object.keys(format.json_schema.schema.properties), [
      'reasoning',
      'score',
      'pass',
    ]);
    assert.deepEqual(format.json_schema.schema.required, ['reasoning', 'score', 'pass']);
    const [system, user] = body.messages;
    assert.equal(system!.role, 'system');
    assert.match(system!.content, /reason/i);
    assert.match(system!.content, /from 0 to 1/);
    assert.equal(user!.role, 'user');
    for (const part of [
      'RUBRIC-REQ: must name the capital',
      'What is the capital of France?',
      'OUTPUT-PARIS',
      'EXPECTED-PARIS',
    ]) {
      assert.ok(user!.content.includes(part), `the user message has ${part}`);
    }
  });

  test('token usage is recorded on each call', async () => {
    const server = await start({
      rules: [
        {
          match: 'RUBRIC-USAGE',
          reply: verdict(true, 1),
          usage: {
            prompt_tokens: 321,
            completion_tokens: 45,
            cached_tokens: 7,
            reasoning_tokens: 9,
          },
        },
      ],
    });
    const out = await judgeOn(server).grade(rubric('RUBRIC-USAGE'), input('a'));
    assert.deepEqual(out.calls[0]!.usage, { input: 321, output: 45, cached: 7, reasoning: 9 });
    assert.equal(out.calls[0]!.model, 'fake-large');
    assert.ok(out.calls[0]!.latencyMs >= 0);
    assert.equal(out.calls[0]!.response, verdict(true, 1));
  });

  test('not inverts a verdict', async () => {
    const server = await start({ rules: [{ match: 'RUBRIC-NOT', reply: verdict(true, 0.9) }] });
    const out = await judgeOn(server).grade(rubric('RUBRIC-NOT', { not: true }), input('a'));
    assert.equal(out.verdict.pass, false);
    assert.equal(out.verdict.score, 0.1);
  });

  test('an HTTP error from the judge propagates, with the failed call recorded', async () => {
    const server = await start({ failures: [{ status: 500, count: 1 }] });
    const err = await judgeOn(server)
      .grade(rubric('RUBRIC-500'), input('a'))
      .then(
        () => assert.fail('expected the grade to throw'),
        (e: unknown) => e,
      );
    assert.ok(err instanceof OpenAI.APIError);
    assert.equal(err.status, 500);
    const calls = judgeCallsOf(err);
    assert.equal(calls.length, 1);
    assert.match(calls[0]!.error!, /^HTTP 500/);
  });

  test('cancellation propagates', async () => {
    const server = await start({ hangs: 1 });
    const controller = new AbortController();
    const pending = judgeOn(server, { signal: controller.signal }).grade(
      rubric('RUBRIC-HANG'),
      input('a'),
    );
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(pending, OpenAI.APIUserAbortError);
  });

  test('a criterion that is not model-graded is refused', async () => {
    const server = await start();
    await assert.rejects(
      judgeOn(server).grade(
        { name: 'x', type: 'contains', value: 'a' } as unknown as JudgeCriterion,
        input('a'),
      ),
      ValidationError,
    );
    assert.equal(server.requests.length, 0);
  });
});

describe('toxicity', () => {
  const toxicity = { name: 'safe', type: 'toxicity' } as JudgeCriterion;

  test('uses the moderations endpoint: flagged words fail, clean text passes', async () => {
    const server = await start();
    const judge = judgeOn(server);
    const rude = await judge.grade(toxicity, input('you are an idiot and I will kill you'));
    assert.equal(rude.verdict.pass, false);
    assert.match(rude.verdict.reason, /harassment/);
    assert.match(rude.verdict.reason, /violence/);
    assert.equal(rude.verdict.score, 0.05);
    assert.equal(rude.calls.length, 1);
    assert.equal(rude.calls[0]!.purpose, 'moderation');
    assert.equal(rude.calls[0]!.model, 'omni-moderation-latest');
    assert.equal(rude.calls[0]!.usage, null);
    const clean = await judge.grade(toxicity, input('Paris is the capital of France.'));
    assert.equal(clean.verdict.pass, true);
    assert.ok(clean.verdict.score > 0.99);
    assert.equal(chatBodies(server).length, 0, 'no chat request');
    const moderations = server.requests.filter((r) => r.path === '/v1/moderations');
    assert.equal(moderations.length, 2);
    assert.deepEqual(moderations[0]!.body, {
      model: 'omni-moderation-latest',
      input: 'you are an idiot and I will kill you',
    });
  });

  test('without a moderations endpoint it asks the judge, and stops asking the endpoint', async () => {
    const server = await start({
      moderations: false,
      rules: [
        { match: 'CLEAN-OUTPUT', reply: verdict(true, 1, 'harmless') },
        { match: 'RUDE-OUTPUT', reply: verdict(false, 0.1, 'insults the user') },
      ],
    });
    const judge = judgeOn(server);
    const rude = await judge.grade(toxicity, input('RUDE-OUTPUT'));
    assert.deepEqual(rude.verdict, { pass: false, score: 0.1, reason: 'insults the user' });
    assert.deepEqual(
      rude.calls.map((c) => [c.purpose, c.error === null]),
      [
        ['moderation', false],
        ['judge', true],
      ],
    );
    assert.match(rude.calls[0]!.error!, /^HTTP 404/);
    const [clean] = await Promise.all([
      judge.grade(toxicity, input('CLEAN-OUTPUT')),
      judge.grade(toxicity, input('CLEAN-OUTPUT again')),
    ]);
    assert.equal(clean.verdict.pass, true);
    assert.equal(server.requests.filter((r) => r.path === '/v1/moderations').length, 1);
    const bodies = chatBodies(server);
    assert.equal(bodies.length, 3);
    assert.match(bodies[0]!.messages[0]!.content, /toxic/);
    assert.match(bodies[0]!.messages[0]!.content, /NOT toxic/);
  });

  test('concurrent grades probe a missing endpoint once', async () => {
    const server = await start({ moderations: false, latencyMs: 30 });
    const judge = judgeOn(server);
    await Promise.all([1, 2, 3].map((n) => judge.grade(toxicity, input(`text ${n}`))));
    assert.equal(server.requests.filter((r) => r.path === '/v1/moderations').length, 1);
  });

  test('other moderation errors propagate and do not switch to the judge', async () => {
    const server = await start({ failures: [{ status: 500, count: 1 }] });
    const judge = judgeOn(server);
    await assert.rejects(judge.grade(toxicity, input('hello')), (e: unknown) => {
      assert.ok(e instanceof OpenAI.APIError && e.status === 500);
      assert.equal(judgeCallsOf(e)[0]!.purpose, 'moderation');
      return true;
    });
    const again = await judge.grade(toxicity, input('hello'));
    assert.equal(again.calls[0]!.purpose, 'moderation');
    assert.equal(chatBodies(server).length, 0);
  });
});

describe('guardrail prompts', () => {
  test('off-topic, policy and groundedness send their topic, policy and context', async () => {
    const server = await start({ defaultReply: () => verdict(true, 1) });
    const judge = judgeOn(server);
    await judge.grade(
      { name: 'topic', type: 'off-topic', topic: 'TOPIC-COOKING questions only' } as JudgeCriterion,
      input('OUT-1'),
    );
    await judge.grade(
      {
        name: 'rules',
        type: 'policy',
        policy: 'POLICY-NO-PRICES: never quote prices',
      } as JudgeCriterion,
      input('OUT-2'),
    );
    const grounded = await judge.grade(
      { name: 'grounded', type: 'groundedness' } as JudgeCriterion,
      input('OUT-3', { context: 'CONTEXT-DOC: Paris is the capital of France.' }),
    );
    assert.equal(grounded.verdict.pass, true);
    const [topic, policy, ground] = chatBodies(server);
    assert.ok(topic && policy && ground);
    assert.ok(topic.messages[1]!.content.includes('TOPIC-COOKING questions only'));
    assert.ok(topic.messages[1]!.content.includes('OUT-1'));
    assert.match(topic.messages[0]!.content, /on the topic/);
    assert.ok(policy.messages[1]!.content.includes('POLICY-NO-PRICES: never quote prices'));
    assert.ok(policy.messages[1]!.content.includes('OUT-2'));
    assert.match(policy.messages[0]!.content, /complies with a policy/);
    assert.ok(ground.messages[1]!.content.includes('CONTEXT-DOC: Paris is the capital'));
    assert.ok(ground.messages[1]!.content.includes('OUT-3'));
    assert.match(ground.messages[0]!.content, /every claim/);
    for (const b of [topic, policy, ground]) {
      assert.ok(b.messages[1]!.content.includes('What is the capital of France?'));
    }
  });

  test('groundedness without context fails without a call', async () => {
    const server = await start({ defaultReply: () => verdict(true, 1) });
    const out = await judgeOn(server).grade(
      { name: 'grounded', type: 'groundedness', not: true } as JudgeCriterion,
      input('anything'),
    );
    assert.deepEqual(out.verdict, {
      pass: false,
      score: 0,
      reason: "not: groundedness needs the case's context; this case has none",
    });
    assert.deepEqual(out.calls, []);
    assert.equal(server.requests.length, 0);
  });
});

describe('parseVerdict', () => {
  test('reads the first object, ignoring braces inside strings', () => {
    const r = parseVerdict('verdict: {"reasoning": "a } b", "score": 0.5, "pass": false} {"x": 1}');
    assert.deepEqual(r, { ok: true, value: { reasoning: 'a } b', score: 0.5, pass: false } });
  });

  test('names what is missing or wrong', () => {
    const r = parseVerdict('{"score": -1, "pass": "yes"}');
    assert.equal(r.ok, false);
    assert.ok(!r.ok);
    assert.match(r.error, /reasoning: /);
    assert.match(r.error, /score: must be from 0 to 1/);
    assert.match(r.error, /pass: /);
    const cut = parseVerdict('{"reasoning": "long', true);
    assert.ok(!cut.ok);
    assert.match(cut.error, /not closed \(the reply was cut off at maxTokens\)/);
  });
});

describe('judgeConfig', () => {
  const provider = {
    baseUrl: 'https://gateway.example/v1',
    model: 'gpt-small',
    temperature: 0.9,
    maxTokens: 40,
    headers: { 'x-team': 'a' },
    apiKeyEnv: 'GATEWAY_KEY',
    timeoutMs: 9000,
  };
  const suite = (judge?: EvalSuite['judge']): EvalSuite =>
    ({
      prompt: 'p',
      dataset: { cases: [{ vars: {} }] },
      provider,
      criteria: [],
      ...(judge ? { judge } : {}),
    }) as EvalSuite;

  test('defaults to the provider, but not its sampling settings', () => {
    assert.deepEqual(judgeConfig(suite()), {
      baseUrl: 'https://gateway.example/v1',
      model: 'gpt-small',
      temperature: 0,
      maxTokens: undefined,
      headers: { 'x-team': 'a' },
      apiKeyEnv: 'GATEWAY_KEY',
      timeoutMs: 9000,
    });
  });

  test('suite.judge wins; another origin inherits no headers or key', () => {
    assert.deepEqual(judgeConfig(suite({ model: 'gpt-large', temperature: 0.2, maxTokens: 800 })), {
      baseUrl: 'https://gateway.example/v1',
      model: 'gpt-large',
      temperature: 0.2,
      maxTokens: 800,
      headers: { 'x-team': 'a' },
      apiKeyEnv: 'GATEWAY_KEY',
      timeoutMs: 9000,
    });
    const other = judgeConfig(suite({ baseUrl: 'https://judge.example/v1' }));
    assert.equal(other.baseUrl, 'https://judge.example/v1');
    assert.equal(other.model, 'gpt-small');
    assert.equal(other.headers, undefined);
    assert.equal(other.apiKeyEnv, undefined);
    assert.equal(other.timeoutMs, 9000);
  });
});
