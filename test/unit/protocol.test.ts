// The webview protocol: what the host accepts from a page (every message is
// untrusted input) and how it counts what it sends.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO } from './helpers.ts';
import {
  compareViewStateSchema,
  CopyText,
  decodeNumber,
  encodeNumber,
  envelopeSchema,
  messageBytes,
  OpenRun,
  Painted,
  Ready,
  SaveFile,
  schemaFor,
  SeriesRange,
} from '../../src/shared/protocol.ts';
import type { SchemaOf } from '../../src/shared/protocol.ts';

/** The schema as the host builds it. */
const v = <P>(factory: SchemaOf<P>) => schemaFor(factory, z);

describe('envelopes', () => {
  test('accepts notifications, requests and responses', () => {
    assert.ok(
      v(envelopeSchema).safeParse({ kind: 'notification', method: 'ready', params: {} }).success,
    );
    assert.ok(
      v(envelopeSchema).safeParse({ kind: 'request', id: 3, method: 'series/range', params: {} })
        .success,
    );
    assert.ok(v(envelopeSchema).safeParse({ kind: 'response', id: 3, result: 1 }).success);
  });

  test('refuses what is not an envelope', () => {
    for (const bad of [
      null,
      'ready',
      42,
      { method: 'ready' },
      { kind: 'request', method: 'x', params: {} }, // no id
      { kind: 'request', id: -1, method: 'x', params: {} },
      { kind: 'request', id: 1.5, method: 'x', params: {} },
      { kind: 'notification', method: 'x'.repeat(101), params: {} },
      { kind: 'shout', method: 'x', params: {} },
    ]) {
      assert.equal(v(envelopeSchema).safeParse(bad).success, false, JSON.stringify(bad));
    }
  });
});

describe('messages from a page', () => {
  test('ready carries a sane pixel budget', () => {
    assert.ok(v(Ready.params).safeParse({ chartPixels: 600 }).success);
    assert.equal(v(Ready.params).safeParse({ chartPixels: 0 }).success, false);
    assert.equal(v(Ready.params).safeParse({ chartPixels: 1e9 }).success, false);
    assert.equal(v(Ready.params).safeParse({}).success, false);
  });

  test('a range request is bounded and finite, and names the bad field', () => {
    const good = {
      metric: 'loss',
      runIds: ['a', 'b'],
      axis: 'step',
      from: 0,
      to: 100,
      maxPoints: 500,
    };
    assert.deepEqual(v(SeriesRange.params).parse(good), good);
    const cases: [Record<string, unknown>, string][] = [
      [{ ...good, axis: 'epoch' }, 'axis'],
      [{ ...good, from: Infinity }, 'from'],
      [{ ...good, to: 'x' }, 'to'],
      [{ ...good, maxPoints: 1 }, 'maxPoints'],
      [{ ...good, maxPoints: 1e6 }, 'maxPoints'],
      [{ ...good, runIds: [] }, 'runIds'],
      [{ ...good, metric: '' }, 'metric'],
    ];
    for (const [params, field] of cases) {
      const r = v(SeriesRange.params).safeParse(params);
      assert.equal(r.success, false, field);
      assert.equal(r.error?.issues[0]?.path[0], field);
    }
  });

  test('a file to save is a name, never a path', () => {
    assert.ok(v(SaveFile.params).safeParse({ suggestedName: 'runs.csv', content: 'a,b' }).success);
    for (const name of ['../runs.csv', '/etc/passwd', 'a\\b.csv', '']) {
      assert.equal(
        v(SaveFile.params).safeParse({ suggestedName: name, content: '' }).success,
        false,
        name,
      );
    }
  });

  test('other notifications check their fields', () => {
    assert.ok(v(CopyText.params).safeParse({ text: '| a |', what: 'a table' }).success);
    assert.equal(v(CopyText.params).safeParse({ text: 1, what: 'x' }).success, false);
    assert.ok(v(OpenRun.params).safeParse({ runId: 'abc' }).success);
    assert.equal(v(OpenRun.params).safeParse({ runId: '' }).success, false);
    assert.ok(v(Painted.params).safeParse({ what: 'charts', charts: 5, points: 100 }).success);
    assert.equal(
      v(Painted.params).safeParse({ what: 'charts', charts: -1, points: 0 }).success,
      false,
    );
  });

  test('the saved view state that the serializer restores', () => {
    assert.ok(v(compareViewStateSchema).safeParse({ runIds: ['a'], metric: 'loss' }).success);
    assert.equal(v(compareViewStateSchema).safeParse({ runIds: 'a' }).success, false);
    assert.equal(v(compareViewStateSchema).safeParse({}).success, false);
  });
});

describe('the webview bundle', () => {
  test('does not carry zod: schemas are built only by the host', () => {
    const bundle = path.join(REPO, 'dist', 'webview', 'compare.js');
    const text = fs.readFileSync(bundle, 'utf8');
    assert.ok(text.length > 0);
    // zod's own error text, present in any bundle that includes it.
    assert.equal(/Invalid discriminator value|ZodError/.test(text), false);
  });
});

describe('payload helpers', () => {
  test('non-finite numbers survive the trip', () => {
    for (const v of [1.5, 0, -2, NaN, Infinity, -Infinity]) {
      const back = decodeNumber(JSON.parse(JSON.stringify(encodeNumber(v))));
      assert.ok(Object.is(back, v), String(v));
    }
    assert.equal(decodeNumber(null), null);
  });

  test('typed arrays count their bytes, not a JSON rendering of each number', () => {
    const column = new Float64Array(1000).fill(Math.PI);
    const bytes = messageBytes({ metric: 'loss', series: [{ runId: 'r', value: column }] });
    assert.ok(bytes >= 8000 && bytes < 8100, String(bytes));
    // The same numbers as a JSON array would be more than twice the size.
    assert.ok(JSON.stringify([...column]).length > 2 * 8000);
  });
});
