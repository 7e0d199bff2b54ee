// Prices and token estimates for eval runs: the shipped table against its source library, the lookup order, the cost arithmetic, the checks on the user's price overrides,
// and tokenizer estimates against counts OpenAI published.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  costOf,
  priceFor,
  shippedPrices,
  validatePriceOverrides,
} from '../../src/core/evals/pricing.ts';
import type { ModelPrice, PriceTable, TokenUsage } from '../../src/core/evals/pricing.ts';
import {
  REPLY_PRIMING_TOKENS,
  TOKENS_PER_MESSAGE,
  encodingFor,
  estimateChatTokens,
  estimateTokens,
} from '../../src/core/evals/tokens.ts';
import { ValidationError } from '../../src/core/model/errors.ts';

/** Asserts `fn` throws a ValidationError whose message matches every pattern. */
function refuses(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ValidationError, `expected ValidationError, got ${String(e)}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

async function rejects(p: Promise<unknown>, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ValidationError, `expected ValidationError, got ${String(e)}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

const usage = (u: Partial<TokenUsage>): TokenUsage => ({
  input: 0,
  output: 0,
  cached: 0,
  reasoning: 0,
  ...u,
});

describe('shipped price table', () => {
  test('names its source and the date of its prices', () => {
    const t = shippedPrices();
    assert.match(t.source, /^@pydantic\/genai-prices 0\.1\.8 \(openai, /);
    assert.equal(t.date, '2026-09-23');
  });

  test("well-known models carry OpenAI's and Anthropic's published prices", () => {
    const t = shippedPrices();
    assert.deepEqual(t.models['gpt-4o'], { input: 2.5, cachedInput: 1.25, output: 10 });
    assert.deepEqual(t.models['gpt-4o-mini'], { input: 0.15, cachedInput: 0.075, output: 0.6 });
    assert.deepEqual(t.models['gpt-4.1'], { input: 2, cachedInput: 0.5, output: 8 });
    // o3's price fell on 2025-06-10: the table has the later one.
    assert.deepEqual(t.models.o3, { input: 2, cachedInput: 0.5, output: 8 });
    assert.deepEqual(t.models['claude-sonnet-4-5'], { input: 3, cachedInput: 0.3, output: 15 });
    // Dated snapshots are there under their own names.
    assert.deepEqual(t.models['gpt-4o-mini-2024-07-18'], t.models['gpt-4o-mini']);
  });

  test('every OpenAI entry prices 1M tokens as the source library does', async () => {
    const { calcPrice } = await import('@pydantic/genai-prices');
    const t = shippedPrices();
    let checked = 0;
    for (const name of [
      'gpt-4o',
      'gpt-4o-mini',
      'gpt-4.1-mini',
      'gpt-5',
      'gpt-5-mini',
      'o4-mini',
    ]) {
      const price = t.models[name]!;
      const r = calcPrice(
        { input_tokens: 2_000_000, cache_read_tokens: 1_000_000, output_tokens: 1_000_000 },
        name,
        { providerId: 'openai' },
      );
      assert.ok(r, name);
      const ours = costOf(
        { input: 2_000_000, cached: 1_000_000, output: 1_000_000, reasoning: 0 },
        price,
      );
      assert.ok(Math.abs(ours - r.total_price) < 1e-9, `${name}: ${ours} vs ${r.total_price}`);
      checked++;
    }
    assert.equal(checked, 6);
  });

  test('keeps to models with token prices: no image or embedding-only entry', () => {
    const names = Object.keys(shippedPrices().models);
    assert.ok(names.length >= 100, `only ${names.length} models`);
    for (const absent of ['dall-e-3', 'text-embedding-3-small']) {
      assert.ok(!names.includes(absent), absent);
    }
    assert.deepEqual(names, [...names].sort());
  });

  test('is read-only', () => {
    const t = shippedPrices();
    assert.throws(() => {
      (t.models['gpt-4o'] as { input: number }).input = 0;
    }, TypeError);
    assert.throws(() => {
      t.models['my-model'] = { input: 0, output: 0 };
    }, TypeError);
    assert.equal(shippedPrices().models['gpt-4o']!.input, 2.5);
  });
});

describe('priceFor', () => {
  const a: ModelPrice = { input: 1, output: 2 };
  const b: ModelPrice = { input: 3, cachedInput: 1.5, output: 4 };
  const table: PriceTable = {
    source: 'test',
    date: '2026-01-02',
    models: { 'gpt-x': a, 'gpt-x-2026-01-01': b, 'gpt-4': a },
  };

  test('finds a shipped model by its exact name', () => {
    const m = priceFor('gpt-4o');
    assert.deepEqual(m, {
      price: { input: 2.5, cachedInput: 1.25, output: 10 },
      source: 'shipped',
      matched: 'gpt-4o',
      sourceLabel: `${shippedPrices().source}, 2026-09-23`,
    });
  });

  test('an override beats the shipped price of the same name', () => {
    const m = priceFor('gpt-x', { 'gpt-x': b }, table);
    assert.deepEqual(m, {
      price: b,
      source: 'settings',
      matched: 'gpt-x',
      sourceLabel: 'settings',
    });
    assert.equal(priceFor('gpt-x', { other: b }, table)?.source, 'shipped');
  });

  test('looks through a provider prefix', () => {
    assert.equal(priceFor('openai/gpt-4o')?.matched, 'gpt-4o');
    assert.equal(priceFor('openrouter/openai/gpt-x', undefined, table)?.matched, 'gpt-x');
    const m = priceFor('openai/my-model', { 'my-model': b });
    assert.deepEqual([m?.source, m?.matched, m?.price], ['settings', 'my-model', b]);
    // The name as given comes first.
    assert.equal(priceFor('openai/my-model', { 'openai/my-model': a, 'my-model': b })?.price, a);
  });

  test('then through a dated snapshot suffix, -YYYY-MM-DD or -MMDD', () => {
    assert.equal(priceFor('gpt-x-2025-07-18', undefined, table)?.price, a);
    assert.equal(priceFor('gpt-4-0613', undefined, table)?.matched, 'gpt-4');
    assert.equal(priceFor('openai/gpt-x-2025-07-18', undefined, table)?.matched, 'gpt-x');
    // In the shipped table: a snapshot without its own price takes the alias's price...
    assert.equal(priceFor('gpt-4o-2030-01-01')?.matched, 'gpt-4o');
    // ...and one with its own keeps it (gpt-4o's first snapshot cost $5 / $15).
    assert.equal(priceFor('gpt-4o-2024-05-13')?.matched, 'gpt-4o-2024-05-13');
    assert.equal(priceFor('gpt-3.5-turbo-1231')?.matched, 'gpt-3.5-turbo');
  });

  test('a snapshot with its own price keeps it', () => {
    assert.equal(priceFor('gpt-x-2026-01-01', undefined, table)?.price, b);
    // ...even over an override of its alias: the more specific name wins.
    assert.equal(priceFor('gpt-x-2026-01-01', { 'gpt-x': a }, table)?.source, 'shipped');
  });

  test('strips only date-like suffixes', () => {
    for (const model of ['gpt-x-2048', 'gpt-x-preview', 'gpt-x-2026-13-01', 'gpt-x-1301']) {
      assert.equal(priceFor(model, undefined, table), null, model);
    }
  });

  test('an unknown model has no price (not a zero price)', () => {
    assert.equal(priceFor('llama-3.1-8b-instruct'), null);
    assert.equal(priceFor(''), null);
    assert.equal(priceFor('constructor', {}), null);
    assert.equal(priceFor('toString', {}, table), null);
  });
});

describe('costOf', () => {
  const price: ModelPrice = { input: 2.5, cachedInput: 1.25, output: 10 };

  test('bills cached input at the cached rate, reasoning once as output', () => {
    // 800,000 uncached * $2.5 + 200,000 cached * $1.25 + 500,000 output * $10, per 1M:
    // 2.0 + 0.25 + 5.0. The 300,000 reasoning tokens are inside the 500,000 output.
    const u = usage({ input: 1_000_000, cached: 200_000, output: 500_000, reasoning: 300_000 });
    assert.equal(costOf(u, price), 7.25);
  });

  test('bills cached input at the input rate when the price has no cached rate', () => {
    const u = usage({ input: 1_000_000, cached: 200_000, output: 500_000 });
    assert.equal(costOf(u, { input: 2.5, output: 10 }), 7.5);
  });

  test('small calls', () => {
    // (1234 * 2.5 + 567 * 10) / 1e6 = (3085 + 5670) / 1e6
    assert.equal(costOf(usage({ input: 1234, output: 567 }), price), 0.008755);
    assert.equal(costOf(usage({}), price), 0);
  });

  test('refuses counts that are not token counts', () => {
    refuses(() => costOf(usage({ input: -1 }), price), /usage\.input/, /-1/);
    refuses(() => costOf(usage({ output: Number.NaN }), price), /usage\.output/, /NaN/);
    refuses(() => costOf(usage({ reasoning: Infinity }), price), /usage\.reasoning/);
    refuses(
      () => costOf(usage({ input: 100, cached: 300 }), price),
      /usage\.cached \(300\) is more than usage\.input \(100\)/,
    );
  });
});

describe('validatePriceOverrides', () => {
  test('returns valid prices as they are', () => {
    const v = validatePriceOverrides({
      'my-model': { input: 0.5, cachedInput: 0.25, output: 1.5 },
      free: { input: 0, output: 0 },
    });
    assert.deepEqual(v, {
      'my-model': { input: 0.5, cachedInput: 0.25, output: 1.5 },
      free: { input: 0, output: 0 },
    });
    assert.deepEqual(validatePriceOverrides({}), {});
    assert.deepEqual(validatePriceOverrides(undefined), {});
    assert.deepEqual(validatePriceOverrides(null), {});
  });

  test('names the model and the field of a bad price', () => {
    refuses(
      () => validatePriceOverrides({ 'my-model': { input: 1, output: 'cheap' } }),
      /^mlops\.evals\.prices\["my-model"\]\.output: expected a number >= 0 \(USD per 1M tokens\), got "cheap"\.$/,
    );
    refuses(
      () => validatePriceOverrides({ m: { input: -1, output: 1 } }),
      /mlops\.evals\.prices\["m"\]\.input: expected a number >= 0.*got -1/,
    );
    refuses(
      () => validatePriceOverrides({ m: { input: 1, output: 1, cachedInput: null } }),
      /\["m"\]\.cachedInput: expected a number >= 0.*got null/,
    );
    refuses(() => validatePriceOverrides({ m: { input: 1 } }), /\["m"\]\.output: .*missing/);
  });

  test('refuses unknown fields, naming the known ones', () => {
    refuses(
      () => validatePriceOverrides({ m: { input: 1, output: 1, cached: 0.5 } }),
      /\["m"\]: unknown field "cached"/,
      /"input", "output" and an optional "cachedInput"/,
    );
  });

  test('refuses an entry or a whole value of the wrong shape', () => {
    refuses(() => validatePriceOverrides({ m: 3 }), /\["m"\]: expected an object.*got 3/);
    refuses(() => validatePriceOverrides([]), /^mlops\.evals\.prices: expected an object/);
    refuses(() => validatePriceOverrides('gpt-4o'), /got "gpt-4o"/);
    refuses(() => validatePriceOverrides({ ' ': { input: 1, output: 1 } }), /model name is empty/);
  });

  test('reports every problem at once, under the name given', () => {
    refuses(
      () =>
        validatePriceOverrides({ a: { input: 'x', output: 1 }, b: { output: 1 } }, 'MLOPS_PRICES'),
      /^MLOPS_PRICES\["a"\]\.input: .*; MLOPS_PRICES\["b"\]\.input: .*missing\.$/,
    );
  });

  test('a model named __proto__ is a model, not a prototype', () => {
    const v = validatePriceOverrides(JSON.parse('{"__proto__": {"input": 1, "output": 2}}'));
    assert.ok(Object.hasOwn(v, '__proto__'));
    assert.equal(Object.getPrototypeOf(v), Object.prototype);
    assert.deepEqual(priceFor('__proto__', v)?.price, { input: 1, output: 2 });
  });
});

describe('encodingFor', () => {
  test("picks the family's encoding", () => {
    for (const m of [
      'gpt-4o',
      'gpt-4o-mini',
      'gpt-4.1',
      'gpt-4.5-preview',
      'gpt-5',
      'o1',
      'o3-mini',
      'o4-mini',
      'llama-3.1-8b',
    ]) {
      assert.equal(encodingFor(m), 'o200k_base', m);
    }
    for (const m of [
      'gpt-4',
      'gpt-4-turbo',
      'gpt-4-0613',
      'gpt-4-32k',
      'gpt-3.5-turbo',
      'gpt-3.5-turbo-0125',
      'openai/gpt-4',
      'ft:gpt-3.5-turbo-0613:acme::abc123',
      'GPT-4',
    ]) {
      assert.equal(encodingFor(m), 'cl100k_base', m);
    }
  });

  test("agrees with gpt-tokenizer's own model map for every priced model it knows", async () => {
    const { cl100k_base, o200k_base } = await import('gpt-tokenizer/modelsMap');
    let checked = 0;
    for (const m of Object.keys(shippedPrices().models)) {
      const theirs = cl100k_base.includes(m)
        ? 'cl100k_base'
        : o200k_base.includes(m)
          ? 'o200k_base'
          : undefined;
      if (!theirs) continue;
      assert.equal(encodingFor(m), theirs, m);
      checked++;
    }
    assert.ok(checked >= 15, `only ${checked} models checked`);
  });
});

describe('estimateTokens', () => {
  test('counts known strings', async () => {
    assert.equal(await estimateTokens('hello world', 'gpt-4o'), 2);
    assert.equal(await estimateTokens('', 'gpt-4o'), 0);
    // The OpenAI cookbook's example: 9 tokens in cl100k_base, 8 in o200k_base.
    assert.equal(await estimateTokens('お誕生日おめでとう', 'gpt-4'), 9);
    assert.equal(await estimateTokens('お誕生日おめでとう', 'gpt-4o'), 8);
    assert.equal(await estimateTokens('お誕生日おめでとう', 'some-local-model'), 8);
  });

  test('counts special-token text as text instead of throwing', async () => {
    assert.ok((await estimateTokens('<|endoftext|>', 'gpt-4o')) > 1);
  });

  test('refuses what is not text', async () => {
    await rejects(
      estimateTokens(null as unknown as string, 'gpt-4o'),
      /text must be a string \(got null\)/,
    );
    await rejects(estimateTokens('hi', undefined as unknown as string), /model must be a string/);
  });
});

describe('estimateChatTokens', () => {
  test('adds 3 tokens a message and 3 to prime the reply', async () => {
    // 3 + "user" (1) + "hello world" (2), then 3.
    assert.equal(await estimateChatTokens([{ role: 'user', content: 'hello world' }], 'gpt-4o'), 9);
    assert.equal(await estimateChatTokens([], 'gpt-4o'), REPLY_PRIMING_TOKENS);
    const two = [
      { role: 'system', content: 'Answer with one word.' },
      { role: 'user', content: 'Capital of France?' },
    ];
    let expected = REPLY_PRIMING_TOKENS;
    for (const m of two) {
      expected +=
        TOKENS_PER_MESSAGE +
        (await estimateTokens(m.role, 'gpt-4o')) +
        (await estimateTokens(m.content, 'gpt-4o'));
    }
    assert.equal(await estimateChatTokens(two, 'gpt-4o'), expected);
  });

  test('matches the prompt tokens the OpenAI API reported in the cookbook', async () => {
    // "How to count tokens with tiktoken": the API billed these messages 129 prompt tokens
    // on gpt-4 and gpt-3.5-turbo, 124 on gpt-4o and gpt-4o-mini.
    const messages = [
      {
        role: 'system',
        content:
          'You are a helpful, pattern-following assistant that translates corporate jargon into plain English.',
      },
      {
        role: 'system',
        name: 'example_user',
        content: 'New synergies will help drive top-line growth.',
      },
      {
        role: 'system',
        name: 'example_assistant',
        content: 'Things working well together will increase revenue.',
      },
      {
        role: 'system',
        name: 'example_user',
        content:
          "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage.",
      },
      {
        role: 'system',
        name: 'example_assistant',
        content: "Let's talk later when we're less busy about how to do better.",
      },
      {
        role: 'user',
        content:
          "This late pivot means we don't have time to boil the ocean for the client deliverable.",
      },
    ];
    assert.equal(await estimateChatTokens(messages, 'gpt-4'), 129);
    assert.equal(await estimateChatTokens(messages, 'gpt-3.5-turbo'), 129);
    assert.equal(await estimateChatTokens(messages, 'gpt-4o'), 124);
    assert.equal(await estimateChatTokens(messages, 'gpt-4o-mini'), 124);
  });

  test('refuses messages that are not { role, content } strings, naming the message', async () => {
    const bad = [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: null },
    ] as unknown as { role: string; content: string }[];
    await rejects(
      estimateChatTokens(bad, 'gpt-4o'),
      /messages\[1\]\.content must be a string \(got null\)/,
    );
    await rejects(
      estimateChatTokens(
        [{ content: 'hi' }] as unknown as { role: string; content: string }[],
        'gpt-4o',
      ),
      /messages\[0\]\.role must be a string/,
    );
    await rejects(
      estimateChatTokens('hi' as unknown as { role: string; content: string }[], 'gpt-4o'),
      /messages must be an array/,
    );
  });
});
