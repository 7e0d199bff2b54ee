// Deterministic graders: every criterion type and option, `not`, the reasons they give,
// and the configuration checks that refuse a bad criterion before any case runs.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  REGEX_OUTPUT_LIMIT,
  checkCriterion,
  gradeDeterministic,
  levenshtein,
  tokenF1,
} from '../../src/core/evals/graders.ts';
import type { DeterministicCriterion, GradeInput } from '../../src/core/evals/graders.ts';
import { ValidationError } from '../../src/core/model/errors.ts';

type C = DeterministicCriterion & { not?: boolean; name?: string };

function grade(c: C, output: string, extra: Partial<GradeInput> = {}) {
  return gradeDeterministic(c, { output, vars: {}, ...extra });
}

/** Asserts checkCriterion throws a ValidationError whose message matches every pattern. */
function refuses(c: unknown, ...patterns: RegExp[]): void {
  assert.throws(
    () => checkCriterion(c as DeterministicCriterion),
    (e: unknown) => {
      assert.ok(e instanceof ValidationError, `expected ValidationError, got ${String(e)}`);
      for (const p of patterns) assert.match(e.message, p);
      return true;
    },
  );
}

describe('equals', () => {
  test('compares with value, exactly by default', () => {
    assert.deepEqual(grade({ type: 'equals', value: 'Paris' }, 'Paris'), {
      pass: true,
      score: 1,
      reason: 'equals "Paris"',
    });
    const r = grade({ type: 'equals', value: 'Paris' }, 'London');
    assert.equal(r.pass, false);
    assert.equal(r.score, 0);
    assert.equal(r.reason, 'expected "Paris", found "London"');
  });

  test("value defaults to the case's expected, stringified", () => {
    assert.equal(grade({ type: 'equals' }, 'Paris', { expected: 'Paris' }).pass, true);
    assert.equal(grade({ type: 'equals' }, '42', { expected: 42 }).pass, true);
    assert.equal(grade({ type: 'equals' }, 'true', { expected: true }).pass, true);
    assert.equal(grade({ type: 'equals' }, '{"a":1}', { expected: { a: 1 } }).pass, true);
    assert.equal(grade({ type: 'equals', value: 'x' }, 'x', { expected: 'y' }).pass, true);
  });

  test('with no value and no expected it fails, even under not', () => {
    const r = grade({ type: 'equals' }, 'anything');
    assert.equal(r.pass, false);
    assert.match(r.reason, /no expected value/);
    const n = grade({ type: 'equals', not: true }, 'anything');
    assert.equal(n.pass, false);
    assert.match(n.reason, /^not: no expected value/);
  });

  test('trim and ignoreCase, and hints when one of them would have matched', () => {
    const nl = grade({ type: 'equals', value: 'Paris' }, 'Paris\n');
    assert.equal(nl.pass, false);
    assert.match(nl.reason, /found "Paris\\n".*set trim: true/);
    assert.equal(grade({ type: 'equals', value: 'Paris', trim: true }, '  Paris\n').pass, true);
    const up = grade({ type: 'equals', value: 'Paris' }, 'PARIS');
    assert.match(up.reason, /set ignoreCase: true/);
    assert.equal(grade({ type: 'equals', value: 'Paris', ignoreCase: true }, 'PARIS').pass, true);
    assert.equal(
      grade({ type: 'equals', value: 'Paris', ignoreCase: true, trim: true }, ' pARIS ').pass,
      true,
    );
  });

  test('long output is cut to about 80 characters in the reason', () => {
    const long = 'word '.repeat(100);
    const r = grade({ type: 'equals', value: 'short' }, long);
    assert.match(r.reason, /…"$/);
    assert.ok(r.reason.length < 120, r.reason);
  });
});

describe('contains and icontains', () => {
  test('one string, case-sensitive for contains', () => {
    assert.deepEqual(grade({ type: 'contains', value: 'cat' }, 'the cat sat'), {
      pass: true,
      score: 1,
      reason: 'contains "cat"',
    });
    const r = grade({ type: 'contains', value: 'Cat' }, 'the cat sat');
    assert.equal(r.pass, false);
    assert.equal(r.reason, 'expected output that contains "Cat", found "the cat sat"');
  });

  test('icontains ignores case', () => {
    const r = grade({ type: 'icontains', value: 'CAT' }, 'the cat sat');
    assert.equal(r.pass, true);
    assert.equal(r.reason, 'contains (ignoring case) "CAT"');
  });

  test('a list with mode any (the default) passes when one is found', () => {
    assert.equal(grade({ type: 'contains', value: ['dog', 'cat'] }, 'a cat').pass, true);
    const r = grade({ type: 'contains', value: ['dog', 'cow'], mode: 'any' }, 'a cat');
    assert.equal(r.pass, false);
    assert.match(r.reason, /any of "dog", "cow"/);
  });

  test('mode all needs every string; the score is the share found', () => {
    assert.equal(
      grade({ type: 'icontains', value: ['report', 'MEMO'], mode: 'all' }, 'Report and memo').pass,
      true,
    );
    const r = grade({ type: 'contains', value: ['report', 'memo'], mode: 'all' }, 'a report');
    assert.equal(r.pass, false);
    assert.equal(r.score, 0.5);
    assert.equal(r.reason, 'missing "memo" (1 of 2 found) in "a report"');
  });
});

describe('starts-with', () => {
  test('matches the start, ignoring the leading whitespace of the output', () => {
    assert.equal(grade({ type: 'starts-with', value: 'Yes' }, 'Yes, it is.').pass, true);
    assert.equal(grade({ type: 'starts-with', value: 'Yes' }, '\n  Yes, it is.').pass, true);
    const r = grade({ type: 'starts-with', value: 'Yes' }, 'No.');
    assert.equal(r.pass, false);
    assert.equal(r.reason, 'expected to start with "Yes", found "No."');
  });

  test('ignoreCase', () => {
    assert.equal(grade({ type: 'starts-with', value: 'yes' }, 'YES').pass, false);
    assert.equal(grade({ type: 'starts-with', value: 'yes', ignoreCase: true }, 'YES').pass, true);
  });

  test('a value that starts with whitespace is compared as written', () => {
    assert.equal(grade({ type: 'starts-with', value: '  -' }, '  - item').pass, true);
    assert.equal(grade({ type: 'starts-with', value: '  -' }, '- item').pass, false);
  });
});

describe('regex', () => {
  test('passes on a match and says where', () => {
    const r = grade({ type: 'regex', pattern: '\\d{3}' }, 'code 404 here');
    assert.equal(r.pass, true);
    assert.equal(r.reason, 'matched /\\d{3}/ at 5: "404"');
  });

  test('fails with the pattern and the output', () => {
    const r = grade({ type: 'regex', pattern: '^yes$', flags: 'i' }, 'no');
    assert.equal(r.pass, false);
    assert.equal(r.reason, 'no match for /^yes$/i in "no"');
  });

  test('flags apply, and g does not carry state from one case to the next', () => {
    assert.equal(grade({ type: 'regex', pattern: '^YES', flags: 'i' }, 'yes').pass, true);
    const c: C = { type: 'regex', pattern: 'a', flags: 'g' };
    assert.equal(grade(c, 'a').pass, true);
    assert.equal(grade(c, 'a').pass, true);
    assert.equal(grade({ type: 'regex', pattern: 'a.b', flags: 's' }, 'a\nb').pass, true);
  });

  test(`only the first ${REGEX_OUTPUT_LIMIT} characters are searched`, () => {
    const output = 'x'.repeat(REGEX_OUTPUT_LIMIT) + 'NEEDLE';
    const r = grade({ type: 'regex', pattern: 'NEEDLE' }, output);
    assert.equal(r.pass, false);
    assert.match(r.reason, /searched the first 100000 characters/);
  });
});

describe('levenshtein', () => {
  test('edit distance over code points', () => {
    assert.equal(levenshtein('kitten', 'sitting'), 3);
    assert.equal(levenshtein('', 'abc'), 3);
    assert.equal(levenshtein('same', 'same'), 0);
    assert.equal(levenshtein('a😀b', 'ab'), 1);
  });

  test('score is the normalized similarity; pass at or above the threshold', () => {
    const r = grade({ type: 'levenshtein', value: 'sitting', threshold: 0.5 }, 'kitten');
    assert.equal(r.pass, true);
    assert.equal(r.score, Math.round((1 - 3 / 7) * 1e6) / 1e6);
    assert.match(r.reason, /^similarity 0.571 >= 0.5 \(edit distance 3 to "sitting"\)$/);
    const f = grade({ type: 'levenshtein', value: 'sitting', threshold: 0.6 }, 'kitten');
    assert.equal(f.pass, false);
    assert.match(f.reason, /0.571 < 0.6/);
  });

  test('a similarity exactly at the threshold passes despite floating point', () => {
    // 1 - 3/10 is 0.7 on paper and a hair under it in binary.
    assert.equal(
      grade({ type: 'levenshtein', value: 'abcdefghij', threshold: 0.7 }, 'abcdefgxyz').pass,
      true,
    );
  });

  test("value defaults to the case's expected; two empty strings are identical", () => {
    assert.equal(grade({ type: 'levenshtein', threshold: 1 }, 'abc', { expected: 'abc' }).score, 1);
    assert.equal(grade({ type: 'levenshtein', value: '', threshold: 1 }, '').pass, true);
    assert.match(grade({ type: 'levenshtein', threshold: 0.5 }, 'abc').reason, /no expected value/);
  });
});

describe('token-overlap', () => {
  test('SQuAD-style F1 over lowercase word tokens', () => {
    assert.equal(tokenF1('The cat sat.', 'the cat'), 0.8);
    assert.equal(tokenF1('a b', 'c d'), 0);
    assert.equal(tokenF1('', ''), 1);
    assert.equal(tokenF1('word', ''), 0);
    // Repeated tokens count once per occurrence on each side.
    assert.equal(tokenF1('the the the', 'the'), 0.5);
  });

  test('passes at or above the threshold; the score is the F1', () => {
    const r = grade({ type: 'token-overlap', value: 'the cat', threshold: 0.8 }, 'The cat sat.');
    assert.deepEqual(r, {
      pass: true,
      score: 0.8,
      reason: 'token F1 0.8 >= 0.8 against "the cat"',
    });
    const f = grade({ type: 'token-overlap', threshold: 0.9 }, 'The cat sat.', {
      expected: 'the cat',
    });
    assert.equal(f.pass, false);
    assert.match(f.reason, /0.8 < 0.9/);
  });
});

describe('is-json', () => {
  test('passes on any JSON value and names its type', () => {
    assert.deepEqual(grade({ type: 'is-json' }, ' {"a": 1}\n'), {
      pass: true,
      score: 1,
      reason: 'valid JSON (object)',
    });
    assert.equal(grade({ type: 'is-json' }, '[1,2]').reason, 'valid JSON (array)');
  });

  test('fails on text, and says when the JSON is inside a code fence', () => {
    const r = grade({ type: 'is-json' }, 'Sure! Here it is');
    assert.equal(r.pass, false);
    assert.match(r.reason, /^not valid JSON: .*found "Sure! Here it is"$/);
    assert.match(grade({ type: 'is-json' }, '```json\n{}\n```').reason, /code fence/);
  });
});

describe('json-schema', () => {
  const schema = {
    type: 'object',
    required: ['name', 'items'],
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 10, pattern: '^[A-Z]' },
      status: { enum: ['open', 'closed'] },
      version: { const: 2 },
      count: { type: 'integer', minimum: 0, maximum: 10 },
      ratio: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
      items: {
        type: 'array',
        minItems: 1,
        maxItems: 3,
        items: {
          type: 'object',
          properties: { price: { type: 'number' } },
          additionalProperties: false,
        },
      },
      tags: { type: 'object', additionalProperties: { type: 'string' } },
      id: { anyOf: [{ type: 'string' }, { type: 'integer' }] },
      code: { oneOf: [{ type: 'integer' }, { type: 'number', minimum: 100 }] },
      nick: { allOf: [{ type: 'string' }, { maxLength: 3 }] },
      note: { type: ['string', 'null'] },
    },
  };
  const c: C = { type: 'json-schema', schema };
  const base = { name: 'Ann', items: [{ price: 1 }] };
  const check = (value: unknown) => grade(c, JSON.stringify(value));

  test('passes a document that fits', () => {
    assert.deepEqual(
      check({
        ...base,
        status: 'open',
        version: 2,
        count: 3,
        ratio: 0.5,
        tags: { a: 'x' },
        id: 7,
        code: 5,
        nick: 'abc',
        note: null,
      }),
      { pass: true, score: 1, reason: 'matches the schema' },
    );
  });

  test('names the first failing path', () => {
    const items = [{ price: 1 }, { price: 2 }, { price: '3.50' }];
    assert.equal(
      check({ ...base, items }).reason,
      '$.items[2].price: expected number, found string "3.50"',
    );
    assert.equal(check({ items: [] }).reason, '$.name: missing (required)');
    assert.equal(check([]).reason, '$: expected object, found array');
  });

  test('each keyword', () => {
    const cases: [unknown, string][] = [
      [{ ...base, name: '' }, '$.name: expected at least 1 characters, found 0'],
      [{ ...base, name: 'Abcdefghijk' }, '$.name: expected at most 10 characters, found 11'],
      [{ ...base, name: 'ann' }, '$.name: expected to match /^[A-Z]/, found "ann"'],
      [{ ...base, status: 'done' }, '$.status: expected one of "open", "closed", found "done"'],
      [{ ...base, version: 3 }, '$.version: expected 2, found 3'],
      [{ ...base, count: 1.5 }, '$.count: expected integer, found number 1.5'],
      [{ ...base, count: -1 }, '$.count: expected >= 0, found -1'],
      [{ ...base, count: 11 }, '$.count: expected <= 10, found 11'],
      [{ ...base, ratio: 0 }, '$.ratio: expected > 0, found 0'],
      [{ ...base, ratio: 1 }, '$.ratio: expected < 1, found 1'],
      [{ ...base, items: [] }, '$.items: expected at least 1 items, found 0'],
      [{ ...base, items: [{}, {}, {}, {}] }, '$.items: expected at most 3 items, found 4'],
      [
        { ...base, items: [{ price: 1, extra: true }] },
        '$.items[0].extra: not allowed (additionalProperties is false)',
      ],
      [{ ...base, tags: { 'a b': 1 } }, '$.tags["a b"]: expected string, found number 1'],
      [
        { ...base, id: true },
        '$.id: matches no anyOf alternative (first: $.id: expected string, found boolean true)',
      ],
      [{ ...base, code: 200 }, '$.code: expected exactly 1 oneOf alternative to match, found 2'],
      [
        { ...base, code: 'x' },
        '$.code: matches no oneOf alternative (first: $.code: expected integer, found string "x")',
      ],
      [{ ...base, nick: 'abcd' }, '$.nick: expected at most 3 characters, found 4'],
      [{ ...base, note: 1 }, '$.note: expected string or null, found number 1'],
    ];
    for (const [value, reason] of cases) {
      const r = check(value);
      assert.equal(r.pass, false, reason);
      assert.equal(r.reason, reason);
    }
  });

  test('boolean subschemas, and output that is not JSON', () => {
    const closed: C = { type: 'json-schema', schema: { properties: { x: false } } };
    assert.equal(grade(closed, '{"x": 1}').reason, '$.x: not allowed here (the schema is false)');
    assert.equal(grade(closed, '{"y": 1}').pass, true);
    assert.match(grade(c, 'not json').reason, /^not valid JSON/);
  });
});

describe('has-fields', () => {
  const output = JSON.stringify({ answer: 'x', meta: { source: null }, refs: [{ url: 'u' }] });

  test('passes when every dotted path is present (null counts, numeric segments index arrays)', () => {
    const r = grade(
      { type: 'has-fields', fields: ['answer', 'meta.source', 'refs.0.url'] },
      output,
    );
    assert.equal(r.pass, true);
    assert.equal(r.reason, 'has "answer", "meta.source", "refs.0.url"');
  });

  test('lists what is missing; the score is the share present', () => {
    const r = grade(
      { type: 'has-fields', fields: ['answer', 'meta.author', 'refs.1.url'] },
      output,
    );
    assert.equal(r.pass, false);
    assert.equal(r.score, Math.round((1 / 3) * 1e6) / 1e6);
    assert.equal(r.reason, 'missing "meta.author", "refs.1.url" (1 of 3 present)');
  });

  test('output that is not a JSON object fails', () => {
    assert.equal(
      grade({ type: 'has-fields', fields: ['a'] }, '[1]').reason,
      'expected a JSON object, found array',
    );
    assert.match(grade({ type: 'has-fields', fields: ['a'] }, 'hello').reason, /^not valid JSON/);
  });
});

describe('max-cost, max-latency, max-ttft', () => {
  test('pass within the budget, fail over it', () => {
    assert.deepEqual(grade({ type: 'max-cost', usd: 0.01 }, '', { costUsd: 0.004 }), {
      pass: true,
      score: 1,
      reason: 'cost $0.004 <= $0.01',
    });
    assert.equal(
      grade({ type: 'max-cost', usd: 0.01 }, '', { costUsd: 0.02 }).reason,
      'cost $0.02 > $0.01',
    );
    assert.equal(grade({ type: 'max-cost', usd: 0 }, '', { costUsd: 0 }).pass, true);
    assert.equal(
      grade({ type: 'max-latency', ms: 1000 }, '', { latencyMs: 800.4 }).reason,
      'latency 800 ms <= 1000 ms',
    );
    assert.equal(grade({ type: 'max-latency', ms: 1000 }, '', { latencyMs: 1200 }).pass, false);
    assert.equal(grade({ type: 'max-ttft', ms: 300 }, '', { ttftMs: 250 }).pass, true);
    assert.equal(
      grade({ type: 'max-ttft', ms: 300 }, '', { ttftMs: 301 }).reason,
      'ttft 301 ms > 300 ms',
    );
  });

  test('a missing measurement fails, even under not', () => {
    assert.deepEqual(grade({ type: 'max-latency', ms: 1000 }, ''), {
      pass: false,
      score: 0,
      reason: 'no latency measured',
    });
    assert.equal(grade({ type: 'max-cost', usd: 1 }, '').reason, 'no cost measured');
    assert.equal(grade({ type: 'max-ttft', ms: 1 }, '').reason, 'no ttft measured');
    assert.deepEqual(grade({ type: 'max-ttft', ms: 1, not: true }, ''), {
      pass: false,
      score: 0,
      reason: 'not: no ttft measured',
    });
  });
});

describe('pii', () => {
  test('passes when nothing is found', () => {
    assert.deepEqual(grade({ type: 'pii' }, 'The capital of France is Paris.'), {
      pass: true,
      score: 1,
      reason: 'no PII or secrets found',
    });
  });

  test('lists kinds and positions, masking all but the last 4 characters', () => {
    const key = 'AKIAIOSFODNN7EXAMPLE';
    const r = grade({ type: 'pii' }, `mail bob@example.com, key ${key}`);
    assert.equal(r.pass, false);
    assert.equal(
      r.reason,
      'expected no PII or secrets, found 2: email at 5 (***********.com), secret at 26 (************MPLE)',
    );
    assert.ok(!r.reason.includes(key));
    assert.ok(!r.reason.includes('bob@'));
  });

  test('kinds limits the check', () => {
    const c: C = { type: 'pii', kinds: ['card'] };
    assert.equal(grade(c, 'mail bob@example.com').pass, true);
    assert.equal(grade(c, 'mail bob@example.com').reason, 'no card found');
    const r = grade(c, 'card 4111 1111 1111 1111');
    assert.equal(
      r.reason, // At most 12 stars, whatever the length.
      'expected no card, found 1: card at 5 (************1111)',
    );
  });

  test('more than five findings are counted, not listed', () => {
    const r = grade(
      { type: 'pii', kinds: ['ip'] },
      '1.1.1.1 2.2.2.2 3.3.3.3 4.4.4.4 5.5.5.5 6.6.6.6 7.7.7.7',
    );
    assert.match(r.reason, /found 7: .*, and 2 more$/);
  });
});

describe('not', () => {
  test('inverts pass, complements the score and prefixes the reason', () => {
    assert.deepEqual(grade({ type: 'contains', value: 'sorry', not: true }, 'Here you go'), {
      pass: true,
      score: 1,
      reason: 'not: expected output that contains "sorry", found "Here you go"',
    });
    assert.equal(grade({ type: 'contains', value: 'sorry', not: true }, 'I am sorry').pass, false);
    const r = grade({ type: 'contains', value: ['a', 'b'], mode: 'all', not: true }, 'a');
    assert.equal(r.pass, true);
    assert.equal(r.score, 0.5);
    assert.equal(grade({ type: 'is-json', not: true }, '{}').reason, 'not: valid JSON (object)');
    assert.equal(grade({ type: 'pii', not: true }, 'a@b.io').pass, true);
    assert.equal(grade({ type: 'regex', pattern: 'x', not: false }, 'x').pass, true);
  });
});

describe('checkCriterion', () => {
  test('accepts every valid criterion', () => {
    const ok: DeterministicCriterion[] = [
      { type: 'equals' },
      { type: 'contains', value: ['a'], mode: 'all' },
      { type: 'icontains', value: 'a' },
      { type: 'starts-with', value: 'a', ignoreCase: true },
      { type: 'regex', pattern: '^a', flags: 'im' },
      { type: 'levenshtein', threshold: 0 },
      { type: 'token-overlap', value: 'x', threshold: 1 },
      { type: 'is-json' },
      {
        type: 'json-schema',
        schema: {
          $schema: 'https://json-schema.org/draft/2020-12/schema',
          type: 'object',
          title: 't',
        },
      },
      { type: 'has-fields', fields: ['a.b'] },
      { type: 'max-cost', usd: 0 },
      { type: 'max-latency', ms: 1 },
      { type: 'max-ttft', ms: 1 },
      { type: 'pii', kinds: ['email', 'secret'] },
      { type: 'pii' },
    ];
    for (const c of ok) assert.doesNotThrow(() => checkCriterion(c), JSON.stringify(c));
  });

  test('a bad regex names the pattern and the engine message', () => {
    refuses(
      { type: 'regex', pattern: '(unclosed' },
      /^regex criterion: "pattern" "\(unclosed" is not a valid JavaScript regular expression: Invalid regular expression: .*Unterminated group/,
      /Fix the pattern/,
    );
    refuses({ type: 'regex', pattern: '(?i)yes' }, /"pattern"/, /put them in "flags"/);
    refuses({ type: 'regex', pattern: 'a', flags: 'x' }, /"flags" "x"/, /d, g, i, m, s, u, v, y/);
    refuses({ type: 'regex', pattern: 'a', flags: 'ii' }, /"flags"/);
    refuses({ type: 'regex', pattern: '' }, /"pattern" must be a non-empty string/);
  });

  test('a threshold below 0, above 1 or not a number', () => {
    refuses(
      { type: 'levenshtein', threshold: -0.1 },
      /^levenshtein criterion: "threshold" must be a number from 0 to 1 \(found number -0.1\)/,
    );
    refuses({ type: 'token-overlap', threshold: 1.5 }, /token-overlap criterion: "threshold".*1.5/);
    refuses({ type: 'levenshtein', threshold: Number.NaN }, /"threshold"/);
    refuses({ type: 'levenshtein' }, /"threshold".*undefined/);
  });

  test('contains: an empty list, an empty string, a bad mode', () => {
    refuses({ type: 'contains', value: [] }, /^contains criterion: "value" is an empty list/);
    refuses({ type: 'icontains', value: ['a', ''] }, /"value" has an empty string/);
    refuses({ type: 'contains', value: 3 }, /"value" must be a string or a list of strings/);
    refuses({ type: 'contains', value: 'a', mode: 'some' }, /"mode" must be "any" or "all"/);
  });

  test('json-schema: not an object, unsupported keywords, bad keyword values', () => {
    refuses(
      { type: 'json-schema', schema: [] },
      /^json-schema criterion: "schema" must be a JSON Schema object \(found array\)/,
    );
    refuses({ type: 'json-schema', schema: 'object' }, /"schema" must be a JSON Schema object/);
    refuses(
      { type: 'json-schema', schema: { properties: { a: { $ref: '#/$defs/A' } } } },
      /at #\/properties\/a: unsupported keyword "\$ref" \(inline the referenced schema\)/,
    );
    refuses(
      { type: 'json-schema', schema: { type: 'float' } },
      /at #\/type: expected one of null, boolean/,
    );
    refuses(
      { type: 'json-schema', schema: { properties: { a: { pattern: '[' } } } },
      /at #\/properties\/a\/pattern: "\[" is not a valid regular expression/,
    );
    refuses({ type: 'json-schema', schema: { required: 'a' } }, /at #\/required/);
    refuses({ type: 'json-schema', schema: { items: [{}] } }, /draft-07 tuple form/);
    refuses(
      { type: 'json-schema', schema: { anyOf: [] } },
      /at #\/anyOf: expected a non-empty list/,
    );
    refuses(
      { type: 'json-schema', schema: { minLength: -1 } },
      /at #\/minLength: expected a non-negative integer/,
    );
    refuses({ type: 'json-schema', schema: { maximum: '5' } }, /at #\/maximum: expected a number/);
  });

  test('other fields', () => {
    refuses(
      { type: 'equals', value: 5 },
      /^equals criterion: "value" must be a string \(found number 5\)/,
    );
    refuses({ type: 'equals', trim: 'yes' }, /"trim" must be true or false/);
    refuses({ type: 'contains', value: 'a', not: 1 }, /"not" must be true or false/);
    refuses({ type: 'starts-with', value: '' }, /starts-with criterion: "value"/);
    refuses(
      { type: 'has-fields', fields: [] },
      /has-fields criterion: "fields" must be a non-empty list/,
    );
    refuses({ type: 'has-fields', fields: ['a..b'] }, /empty path segment/);
    refuses(
      { type: 'max-cost', usd: -1 },
      /max-cost criterion: "usd" must be a non-negative number/,
    );
    refuses(
      { type: 'max-latency', ms: 0 },
      /max-latency criterion: "ms" must be a positive number/,
    );
    refuses({ type: 'max-ttft' }, /max-ttft criterion: "ms"/);
    refuses({ type: 'pii', kinds: [] }, /pii criterion: "kinds" must be a non-empty list/);
    refuses({ type: 'pii', kinds: ['ssn'] }, /"kinds" has unknown kind "ssn"/, /national_id/);
    refuses({ type: 'judge' }, /unknown criterion type "judge"/);
    refuses(null, /must be an object/);
  });

  test('gradeDeterministic refuses a bad criterion with the same error', () => {
    assert.throws(() => grade({ type: 'regex', pattern: '[' }, 'x'), ValidationError);
    assert.throws(() => grade({ type: 'levenshtein', threshold: 2 }, 'x'), ValidationError);
  });
});
