// Tests of the fake OpenAI-compatible server, driven through the real `openai` package
// over HTTP, as the eval runner, the end-to-end tests and the benchmark use it.

import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import OpenAI from 'openai';
import { MODERATION_WORDS, startFakeOpenAI } from '../fixtures/openaiServer.ts';
import type { FakeOpenAIOptions, FakeOpenAIServer } from '../fixtures/openaiServer.ts';

const servers: FakeOpenAIServer[] = [];
const dirs: string[] = [];

after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function start(options?: FakeOpenAIOptions): Promise<FakeOpenAIServer> {
  const server = await startFakeOpenAI(options);
  servers.push(server);
  return server;
}

function client(
  server: FakeOpenAIServer,
  extra: Partial<ConstructorParameters<typeof OpenAI>[0]> = {},
): OpenAI {
  return new OpenAI({ baseURL: server.url, apiKey: 'k', ...extra });
}

async function rawFetch(
  server: FakeOpenAIServer,
  p: string,
  init?: RequestInit,
): Promise<Response> {
  return fetch(server.url.replace(/\/v1$/, '') + p, init);
}

describe('chat completions', () => {
  test('a rule answers, else the default echo; usage is ceil(chars / 4)', async () => {
    const server = await start({ rules: [{ match: 'capital of France', reply: 'Paris.' }] });
    const openai = client(server);

    const ruled = await openai.chat.completions.create({
      model: 'fake-small',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'What is the capital of France?' },
      ],
    });
    assert.equal(ruled.object, 'chat.completion');
    assert.equal(ruled.model, 'fake-small');
    assert.match(ruled.id, /^chatcmpl-/);
    assert.equal(ruled.choices.length, 1);
    assert.equal(ruled.choices[0]!.index, 0);
    assert.deepEqual(
      { role: ruled.choices[0]!.message.role, content: ruled.choices[0]!.message.content },
      { role: 'assistant', content: 'Paris.' },
    );
    assert.equal(ruled.choices[0]!.finish_reason, 'stop');
    const promptChars = 'Be brief.'.length + 'What is the capital of France?'.length;
    assert.equal(ruled.usage!.prompt_tokens, Math.ceil(promptChars / 4));
    assert.equal(ruled.usage!.completion_tokens, Math.ceil('Paris.'.length / 4));
    assert.equal(
      ruled.usage!.total_tokens,
      ruled.usage!.prompt_tokens + ruled.usage!.completion_tokens,
    );
    assert.equal(ruled.usage!.prompt_tokens_details!.cached_tokens, 0);
    assert.equal(ruled.usage!.completion_tokens_details!.reasoning_tokens, 0);

    const echoed = await openai.chat.completions.create({
      model: 'fake-large',
      messages: [{ role: 'user', content: 'Hello there' }],
    });
    assert.equal(echoed.choices[0]!.message.content, 'echo: Hello there');
  });

  test('regex rules, usage overrides, defaultReply, fixtures file and response_format', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-openai-'));
    dirs.push(dir);
    const file = path.join(dir, 'fixtures.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        rules: [
          { match: '/sentiment:\\s*(good|great)/i', reply: '{"label":"positive"}' },
          { match: 'plain', reply: 'from file' },
        ],
      }),
    );
    const server = await start({
      rules: [
        {
          match: /^count/,
          reply: 'one two three',
          usage: { prompt_tokens: 100, completion_tokens: 7 },
        },
      ],
      fixturesFile: file,
      defaultReply: (prompt, model) => `${model} says ${prompt.length}`,
    });
    const openai = client(server);
    const ask = (content: string) =>
      openai.chat.completions.create({
        model: 'm',
        messages: [{ role: 'user', content }],
        response_format: { type: 'json_object' },
      });

    const counted = await ask('count to three');
    assert.equal(counted.choices[0]!.message.content, 'one two three');
    assert.equal(counted.usage!.prompt_tokens, 100);
    assert.equal(counted.usage!.completion_tokens, 7);
    assert.equal(counted.usage!.total_tokens, 107);
    assert.equal(
      (await ask('Sentiment: GREAT')).choices[0]!.message.content,
      '{"label":"positive"}',
    );
    assert.equal((await ask('a plain question')).choices[0]!.message.content, 'from file');
    assert.equal((await ask('abcd')).choices[0]!.message.content, 'm says 4');

    // A rule that matches only the system prompt still applies (whole-prompt matching).
    const sys = await openai.chat.completions.create({
      model: 'm',
      messages: [
        { role: 'system', content: 'plain mode' },
        { role: 'user', content: [{ type: 'text', text: 'anything' }] },
      ],
    });
    assert.equal(sys.choices[0]!.message.content, 'from file');
  });

  test('max_tokens truncates whole words and finishes with length', async () => {
    const reply = 'alpha beta gamma delta epsilon zeta';
    const server = await start({ rules: [{ match: 'greek', reply }] });
    const openai = client(server);
    const cut = await openai.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'greek letters' }],
      max_tokens: 4,
    });
    const text = cut.choices[0]!.message.content!;
    assert.equal(cut.choices[0]!.finish_reason, 'length');
    assert.equal(text, 'alpha beta gamma');
    assert.ok(reply.startsWith(text));
    assert.ok(cut.usage!.completion_tokens <= 4);

    const newer = await openai.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'greek letters' }],
      max_completion_tokens: 2,
    });
    assert.equal(newer.choices[0]!.message.content, 'alpha');
    assert.equal(newer.choices[0]!.finish_reason, 'length');

    const whole = await openai.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'greek letters' }],
      max_tokens: 100,
    });
    assert.equal(whole.choices[0]!.message.content, reply);
    assert.equal(whole.choices[0]!.finish_reason, 'stop');
  });
});

describe('streaming', () => {
  const reply = 'The quick brown fox jumps over the lazy dog.';

  test('chunks concatenate to the reply; the usage chunk comes only with include_usage', async () => {
    const server = await start({ rules: [{ match: 'fox', reply }] });
    const openai = client(server);

    const withUsage = await openai.chat.completions.create({
      model: 'fake-small',
      messages: [{ role: 'user', content: 'tell me about the fox' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of withUsage) chunks.push(chunk);
    assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk'));
    assert.ok(new Set(chunks.map((c) => c.id)).size === 1, 'every chunk shares the id');
    assert.equal(chunks[0]!.choices[0]!.delta.role, 'assistant');
    const contentChunks = chunks.filter((c) => c.choices[0]?.delta.content);
    assert.ok(contentChunks.length >= 5, `split by words, got ${contentChunks.length} chunks`);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    assert.equal(text, reply);
    const finishes = chunks.filter((c) => c.choices[0]?.finish_reason);
    assert.equal(finishes.length, 1);
    assert.equal(finishes[0]!.choices[0]!.finish_reason, 'stop');
    const last = chunks.at(-1)!;
    assert.deepEqual(last.choices, []);
    assert.equal(last.usage!.completion_tokens, Math.ceil(reply.length / 4));
    assert.equal(last.usage!.prompt_tokens, Math.ceil('tell me about the fox'.length / 4));
    assert.ok(chunks.slice(0, -1).every((c) => c.usage === null));

    const withoutUsage = await openai.chat.completions.create({
      model: 'fake-small',
      messages: [{ role: 'user', content: 'tell me about the fox' }],
      stream: true,
    });
    const plain = [];
    for await (const chunk of withoutUsage) plain.push(chunk);
    assert.ok(plain.every((c) => c.choices.length === 1 && !c.usage));
    assert.equal(plain.map((c) => c.choices[0]!.delta.content ?? '').join(''), reply);
  });

  test('the first chunk arrives no sooner than latencyMs; chunks are spaced by chunkDelayMs', async () => {
    const server = await start({
      rules: [{ match: 'fox', reply }],
      latencyMs: 150,
      chunkDelayMs: 10,
    });
    const openai = client(server);
    const started = performance.now();
    const stream = await openai.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'fox' }],
      stream: true,
    });
    let firstAt: number | undefined;
    let n = 0;
    for await (const _chunk of stream) {
      firstAt ??= performance.now() - started;
      n++;
    }
    const total = performance.now() - started;
    assert.ok(firstAt! >= 145, `first chunk after ${firstAt} ms`);
    // n chunks plus [DONE]: n delays between them.
    assert.ok(total >= 145 + (n - 1) * 10, `whole stream took ${total} ms for ${n} chunks`);
  });

  test('a streamed answer is truncated by max_tokens too', async () => {
    const server = await start({ rules: [{ match: 'fox', reply }] });
    const stream = await client(server).chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'fox' }],
      stream: true,
      max_tokens: 3,
    });
    let text = '';
    let finish: string | null | undefined;
    for await (const c of stream) {
      text += c.choices[0]?.delta.content ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(text, 'The quick');
    assert.equal(finish, 'length');
  });
});

describe('failures, hangs and auth', () => {
  test('an injected 429 carries retry-after; without retries the client sees it raw', async () => {
    const server = await start({ failures: [{ status: 429, count: 1, retryAfterSeconds: 1 }] });
    const openai = client(server, { maxRetries: 0 });
    await assert.rejects(
      openai.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.RateLimitError);
        assert.equal(err.status, 429);
        assert.equal(err.headers?.get('retry-after'), '1');
        assert.equal(err.code, 'rate_limit_exceeded');
        return true;
      },
    );
    const ok = await openai.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(ok.choices[0]!.message.content, 'echo: hi');
    assert.equal(server.requests.length, 2);
  });

  test("the client's own retries get through 429s that ask to wait 0 s", async () => {
    const server = await start({ failures: [{ status: 429, count: 2, retryAfterSeconds: 0 }] });
    const res = await client(server, { maxRetries: 2 }).chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'retry me' }],
    });
    assert.equal(res.choices[0]!.message.content, 'echo: retry me');
    assert.equal(server.requests.length, 3);
    // The client marks its retries, which shows that the three requests were one call.
    assert.deepEqual(
      server.requests.map((r) => r.headers['x-stainless-retry-count']),
      ['0', '1', '2'],
    );
  });

  test('a 500 then success, through the client retry; a 503 raw', async () => {
    const server = await start({ failures: [{ status: 500, count: 1 }] });
    const res = await client(server, { maxRetries: 1 }).chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'again' }],
    });
    assert.equal(res.choices[0]!.message.content, 'echo: again');
    assert.equal(server.requests.length, 2);

    server.setOptions({ failures: [{ status: 503, count: 1 }] });
    await assert.rejects(
      client(server, { maxRetries: 0 }).models.list(),
      (err: unknown) => err instanceof OpenAI.InternalServerError && err.status === 503,
    );
    assert.equal((await client(server).models.list()).data.length, 2);
  });

  test('a hung request hits the client timeout; service resumes afterwards', async () => {
    const server = await start({ hangs: 1 });
    const openai = client(server, { timeout: 200, maxRetries: 0 });
    const started = performance.now();
    await assert.rejects(
      openai.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hang' }] }),
      OpenAI.APIConnectionTimeoutError,
    );
    assert.ok(performance.now() - started >= 190);
    const ok = await openai.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'after' }],
    });
    assert.equal(ok.choices[0]!.message.content, 'echo: after');
  });

  test('close() ends a request that is still hanging', async () => {
    const server = await start({ hangs: 1 });
    const pending = client(server, { maxRetries: 0 }).chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'hang' }],
    });
    const failed = assert.rejects(pending, OpenAI.APIConnectionError);
    while (server.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    await server.close();
    await failed;
  });

  test('apiKey: a missing or wrong key gets 401 in OpenAI error shape', async () => {
    const server = await start({ apiKey: 'sk-right-key-123' });
    await assert.rejects(
      client(server, { apiKey: 'sk-wrong-key-456', maxRetries: 0 }).models.list(),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.AuthenticationError);
        assert.equal(err.status, 401);
        assert.equal(err.type, 'invalid_request_error');
        assert.equal(err.code, 'invalid_api_key');
        return true;
      },
    );
    const res = await rawFetch(server, '/v1/models');
    assert.equal(res.status, 401);
    const body = (await res.json()) as { error: Record<string, unknown> };
    assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
    const models = await client(server, { apiKey: 'sk-right-key-123' }).models.list();
    assert.deepEqual(
      models.data.map((m) => m.id),
      ['fake-small', 'fake-large'],
    );
  });
});

describe('other endpoints', () => {
  test('moderations flag a listed word and pass clean text', async () => {
    const server = await start();
    const res = await client(server).moderations.create({
      model: 'omni-moderation-latest',
      input: ['I will kill the process', 'What a lovely day', 'You IDIOT'],
    });
    assert.match(res.id, /^modr-/);
    assert.equal(res.model, 'omni-moderation-latest');
    assert.equal(res.results.length, 3);
    assert.equal(res.results[0]!.flagged, true);
    assert.equal(res.results[0]!.categories.violence, true);
    assert.ok(res.results[0]!.category_scores.violence > 0.5);
    assert.equal(res.results[1]!.flagged, false);
    assert.ok(Object.values(res.results[1]!.categories).every((v) => v === false));
    assert.equal(res.results[2]!.categories.harassment, true);
    // Whole words only: "skill" is not "kill".
    const skill = await client(server).moderations.create({ input: 'a skilled killer whale' });
    assert.equal(skill.results[0]!.flagged, false);
    assert.deepEqual(Object.keys(MODERATION_WORDS).sort(), [
      'hate',
      'idiot',
      'kill',
      'murder',
      'stupid',
    ]);
  });

  test('embeddings are deterministic, in both float and base64 encodings', async () => {
    const server = await start();
    const openai = client(server);
    // The `openai` package asks for base64 by default and decodes it.
    const a = await openai.embeddings.create({ model: 'emb', input: ['hello', 'world'] });
    const b = await openai.embeddings.create({
      model: 'emb',
      input: ['hello', 'world'],
      encoding_format: 'float',
    });
    assert.equal(a.object, 'list');
    assert.equal(a.model, 'emb');
    assert.equal(a.data.length, 2);
    assert.equal(a.data[0]!.object, 'embedding');
    assert.equal(a.data[1]!.index, 1);
    assert.equal(a.data[0]!.embedding.length, 8);
    assert.deepEqual(Array.from(a.data[0]!.embedding), b.data[0]!.embedding);
    assert.notDeepEqual(b.data[0]!.embedding, b.data[1]!.embedding);
    const norm = Math.hypot(...b.data[0]!.embedding);
    assert.ok(Math.abs(norm - 1) < 1e-6);
    assert.equal(a.usage.prompt_tokens, 4);
    assert.equal(a.usage.total_tokens, 4);
    const again = await openai.embeddings.create({
      model: 'emb',
      input: 'hello',
      encoding_format: 'float',
    });
    assert.deepEqual(again.data[0]!.embedding, b.data[0]!.embedding);
    const wide = await openai.embeddings.create({ model: 'emb', input: 'hello', dimensions: 40 });
    assert.equal(wide.data[0]!.embedding.length, 40);
  });

  test('models list, custom models and retrieve', async () => {
    const server = await start({ models: ['alpha', 'beta', 'gamma'] });
    const openai = client(server);
    const list = await openai.models.list();
    assert.deepEqual(
      list.data.map((m) => [m.id, m.object, m.owned_by, typeof m.created]),
      [
        ['alpha', 'model', 'fake', 'number'],
        ['beta', 'model', 'fake', 'number'],
        ['gamma', 'model', 'fake', 'number'],
      ],
    );
    assert.equal((await openai.models.retrieve('beta')).id, 'beta');
    await assert.rejects(openai.models.retrieve('nope'), OpenAI.NotFoundError);
  });

  test('an unknown path is a 404 and malformed JSON a 400, both in OpenAI error shape', async () => {
    const server = await start();
    const missing = await rawFetch(server, '/v1/nothing-here', { method: 'POST', body: '{}' });
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), {
      error: {
        message: 'Invalid URL (POST /v1/nothing-here)',
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    });
    await assert.rejects(
      client(server, { maxRetries: 0 }).get('/nothing-here'),
      (err: unknown) => err instanceof OpenAI.NotFoundError && err.status === 404,
    );

    const bad = await rawFetch(server, '/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model": "m", "messages": [',
    });
    assert.equal(bad.status, 400);
    const badBody = (await bad.json()) as { error: Record<string, unknown> };
    assert.equal(badBody.error.type, 'invalid_request_error');
    assert.equal(badBody.error.param, null);
    assert.equal(badBody.error.code, null);
    assert.equal(typeof badBody.error.message, 'string');

    await assert.rejects(
      client(server, { maxRetries: 0 }).chat.completions.create({ model: 'm', messages: [] }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && err.param === 'messages',
    );
  });
});

describe('requests log', () => {
  test('records path, parsed body and headers of every request, failed ones included', async () => {
    const server = await start({ failures: [{ status: 500, count: 1 }] });
    const openai = client(server, { maxRetries: 0, apiKey: 'sk-log' });
    await assert.rejects(openai.models.list(), OpenAI.InternalServerError);
    await openai.chat.completions.create({
      model: 'fake-small',
      messages: [{ role: 'user', content: 'logged' }],
      temperature: 0,
    });
    assert.equal(server.requests.length, 2);
    assert.equal(server.requests[0]!.path, '/v1/models');
    assert.equal(server.requests[0]!.method, 'GET');
    assert.equal(server.requests[0]!.body, undefined);
    const chat = server.requests[1]!;
    assert.equal(chat.path, '/v1/chat/completions');
    assert.equal(chat.method, 'POST');
    assert.deepEqual(chat.body, {
      model: 'fake-small',
      messages: [{ role: 'user', content: 'logged' }],
      temperature: 0,
    });
    assert.equal(chat.headers.authorization, 'Bearer sk-log');
    assert.match(String(chat.headers['content-type']), /application\/json/);
  });
});
