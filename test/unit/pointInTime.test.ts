// Point-in-time joins: as-of picking, ties, backfills, TTL bounds, keys, column collisions,
// timestamp parsing and errors, and a 200k x 200k random join against a brute-force reference.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { asOfJoin, parseTimestamp } from '../../src/core/features/pointInTime.ts';
import type { FeatureTableSpec, Row } from '../../src/core/features/pointInTime.ts';
import { ValidationError } from '../../src/core/model/errors.ts';

function join(entityRows: Row[], table: Partial<FeatureTableSpec> & { rows: Row[] }) {
  return asOfJoin({
    entityRows,
    eventTimestampColumn: 'event_ts',
    keys: ['id'],
    featureTables: [{ name: 'f', keys: ['id'], timestampColumn: 'ts', ...table }],
  });
}

function values(result: ReturnType<typeof join>, column: string): unknown[] {
  return result.rows.map((r) => r[column]);
}

describe('parseTimestamp', () => {
  test('numbers and numeric strings are ms since the epoch; empty is null', () => {
    assert.equal(parseTimestamp(1_700_000_000_000, 'x'), 1_700_000_000_000);
    assert.equal(parseTimestamp(' 1700000000000 ', 'x'), 1_700_000_000_000);
    assert.equal(parseTimestamp(null, 'x'), null);
    assert.equal(parseTimestamp('', 'x'), null);
  });

  test('ISO strings: zones applied, no zone read as UTC, date only at midnight UTC', () => {
    const utc = Date.UTC(2024, 4, 1, 12, 0, 0);
    assert.equal(parseTimestamp('2024-05-01T12:00:00Z', 'x'), utc);
    assert.equal(parseTimestamp('2024-05-01T12:00:00', 'x'), utc);
    assert.equal(parseTimestamp('2024-05-01 12:00:00', 'x'), utc);
    assert.equal(parseTimestamp('2024-05-01 12:00:00 UTC', 'x'), utc);
    assert.equal(parseTimestamp('2024-05-01T14:00:00+02:00', 'x'), utc);
    assert.equal(parseTimestamp('2024-05-01T14:00:00+0200', 'x'), utc);
    assert.equal(parseTimestamp('2024-05-01T07:00:00-05', 'x'), utc);
    assert.equal(parseTimestamp('2024-05-01T12:00:00.250Z', 'x'), utc + 250);
    assert.equal(parseTimestamp('2024-05-01T12:00:00.2509Z', 'x'), utc + 250);
    assert.equal(parseTimestamp('2024-05-01', 'x'), Date.UTC(2024, 4, 1));
    assert.equal(parseTimestamp('2024-02-29', 'x'), Date.UTC(2024, 1, 29));
  });

  test('junk and impossible dates throw a ValidationError naming the place and value', () => {
    for (const bad of [
      'yesterday',
      '2023-02-29',
      '2024-13-01',
      '2024-05-01T25:00:00',
      '05/01/2024',
    ]) {
      assert.throws(
        () => parseTimestamp(bad, 'features.csv row 12, column ts'),
        (e: unknown) =>
          e instanceof ValidationError &&
          e.message.includes('features.csv row 12, column ts') &&
          e.message.includes(JSON.stringify(bad)),
      );
    }
  });
});

describe('asOfJoin', () => {
  test('takes the latest row at or before the event; an exactly equal timestamp counts', () => {
    const result = join(
      [
        { id: 'a', event_ts: 150 },
        { id: 'a', event_ts: 200 },
        { id: 'a', event_ts: 99 },
        { id: 'a', event_ts: 1000 },
      ],
      {
        rows: [
          { id: 'a', ts: 200, v: 2 },
          { id: 'a', ts: 100, v: 1 },
          { id: 'a', ts: 300, v: 3 },
        ],
      },
    );
    assert.deepEqual(values(result, 'v'), [1, 2, null, 3]);
    assert.deepEqual(result.columns, ['id', 'event_ts', 'v']);
    assert.deepEqual(result.rows[0], { id: 'a', event_ts: 150, v: 1 });
    assert.deepEqual(result.stats, [
      { table: 'f', matched: 3, missedNoRow: 1, missedTtl: 0, excludedBackfill: 0 },
    ]);
  });

  test('ties on the timestamp go to the latest created time, then to the later row', () => {
    const result = join(
      [
        { id: 'a', event_ts: 500 },
        { id: 'b', event_ts: 500 },
      ],
      {
        createdColumn: 'created',
        rows: [
          { id: 'a', ts: 100, created: 120, v: 'later-written' },
          { id: 'a', ts: 100, created: 110, v: 'earlier-written' },
          { id: 'b', ts: 100, created: 110, v: 'first-in-file' },
          { id: 'b', ts: 100, created: 110, v: 'second-in-file' },
        ],
      },
    );
    assert.deepEqual(values(result, 'v'), ['later-written', 'second-in-file']);
  });

  test('ties without a created column go to the later row of the file', () => {
    const result = join([{ id: 1, event_ts: 10 }], {
      rows: [
        { id: 1, ts: 5, v: 'x' },
        { id: 1, ts: 5, v: 'y' },
      ],
    });
    assert.deepEqual(values(result, 'v'), ['y']);
  });

  test('a row written after the event (backfill) is excluded and the earlier row used', () => {
    const result = join(
      [
        { id: 'a', event_ts: 250 },
        { id: 'a', event_ts: 400 },
      ],
      {
        createdColumn: 'created',
        rows: [
          { id: 'a', ts: 100, created: 100, v: 'old' },
          { id: 'a', ts: 200, created: 300, v: 'backfilled' },
        ],
      },
    );
    // At 250 the backfill (written at 300) was not yet known; at 400 it was.
    assert.deepEqual(values(result, 'v'), ['old', 'backfilled']);
    assert.equal(result.stats[0]!.matched, 2);
    assert.equal(result.stats[0]!.excludedBackfill, 0);
  });

  test('excludedBackfill counts rows left unmatched only because of the exclusion', () => {
    const result = join(
      [
        { id: 'a', event_ts: 250 }, // only a backfill qualifies by time
        { id: 'b', event_ts: 250 }, // backfill excluded, older row outside the TTL
        { id: 'c', event_ts: 250 }, // backfill excluded, but it is outside the TTL too
      ],
      {
        createdColumn: 'created',
        ttlMs: 100,
        rows: [
          { id: 'a', ts: 200, created: 300, v: 1 },
          { id: 'b', ts: 100, created: 100, v: 2 },
          { id: 'b', ts: 200, created: 300, v: 3 },
          { id: 'c', ts: 100, created: 300, v: 4 },
        ],
      },
    );
    assert.deepEqual(values(result, 'v'), [null, null, null]);
    assert.deepEqual(result.stats[0], {
      table: 'f',
      matched: 0,
      missedNoRow: 0,
      missedTtl: 1,
      excludedBackfill: 2,
    });
  });

  test('a backfill far behind many later backfills is found (segment tree path)', () => {
    const rows: Row[] = [{ id: 'a', ts: 0, created: 0, v: 'ok' }];
    for (let i = 1; i <= 100; i++) rows.push({ id: 'a', ts: i, created: 10_000, v: `late${i}` });
    const result = join([{ id: 'a', event_ts: 500 }], { rows, createdColumn: 'created' });
    assert.deepEqual(values(result, 'v'), ['ok']);
  });

  test('TTL: a row exactly ttlMs old is used, one 1 ms older is not', () => {
    const result = join(
      [
        { id: 'a', event_ts: 1100 },
        { id: 'a', event_ts: 1101 },
      ],
      { ttlMs: 1000, rows: [{ id: 'a', ts: 100, v: 1 }] },
    );
    assert.deepEqual(values(result, 'v'), [1, null]);
    assert.equal(result.stats[0]!.missedTtl, 1);
  });

  test('no row for the key, an empty key or an empty event time give null', () => {
    const result = join(
      [
        { id: 'zzz', event_ts: 100 },
        { id: null, event_ts: 100 },
        { id: 'a', event_ts: null },
      ],
      { rows: [{ id: 'a', ts: 1, v: 1 }] },
    );
    assert.deepEqual(values(result, 'v'), [null, null, null]);
    assert.equal(result.stats[0]!.missedNoRow, 3);
  });

  test('several keys must all match', () => {
    const result = asOfJoin({
      entityRows: [
        { user: 'u1', item: 'i1', event_ts: 100 },
        { user: 'u1', item: 'i2', event_ts: 100 },
        { user: 'u2', item: 'i1', event_ts: 100 },
      ],
      eventTimestampColumn: 'event_ts',
      keys: ['user', 'item'],
      featureTables: [
        {
          name: 'ui',
          keys: ['user', 'item'],
          timestampColumn: 'ts',
          rows: [
            { user: 'u1', item: 'i1', ts: 50, clicks: 3 },
            { user: 'u2', item: 'i2', ts: 50, clicks: 9 },
            // "u1" + "1i2" must not collide with "u11" + "i2".
            { user: 'u11', item: 'i2', ts: 50, clicks: 7 },
          ],
        },
      ],
    });
    assert.deepEqual(values(result, 'clicks'), [3, null, null]);
  });

  test('numeric and string keys match as strings', () => {
    const result = join(
      [
        { id: 1, event_ts: 10 },
        { id: '2', event_ts: 10 },
        { id: '01', event_ts: 10 },
      ],
      {
        rows: [
          { id: '1', ts: 5, v: 'one' },
          { id: 2, ts: 5, v: 'two' },
        ],
      },
    );
    assert.deepEqual(values(result, 'v'), ['one', 'two', null]);
  });

  test('two tables with colliding columns: the later is prefixed with its table name', () => {
    const result = asOfJoin({
      entityRows: [{ id: 'a', event_ts: 100, amount: 5 }],
      eventTimestampColumn: 'event_ts',
      keys: ['id'],
      featureTables: [
        {
          name: 'daily',
          keys: ['id'],
          timestampColumn: 'ts',
          rows: [{ id: 'a', ts: 90, avg: 1, amount: 7 }],
        },
        {
          name: 'weekly',
          keys: ['id'],
          timestampColumn: 'ts',
          rows: [{ id: 'a', ts: 80, avg: 2 }],
        },
      ],
    });
    assert.deepEqual(result.columns, [
      'id',
      'event_ts',
      'amount',
      'avg',
      'daily__amount',
      'weekly__avg',
    ]);
    assert.deepEqual(result.rows[0], {
      id: 'a',
      event_ts: 100,
      amount: 5,
      avg: 1,
      daily__amount: 7,
      weekly__avg: 2,
    });
    assert.equal(result.stats.length, 2);
  });

  test('explicit features select columns; a created column is not a feature', () => {
    const result = join([{ id: 'a', event_ts: 100 }], {
      createdColumn: 'created',
      features: ['b'],
      rows: [{ id: 'a', ts: 1, created: 1, a: 1, b: 2 }],
    });
    assert.deepEqual(result.columns, ['id', 'event_ts', 'b']);
    const all = join([{ id: 'a', event_ts: 100 }], {
      createdColumn: 'created',
      rows: [{ id: 'a', ts: 1, created: 1, a: 1, b: 2 }],
    });
    assert.deepEqual(all.columns, ['id', 'event_ts', 'a', 'b']);
  });

  test('ISO timestamps with zones compare as instants', () => {
    const result = join(
      [
        { id: 'a', event_ts: '2024-05-01T12:00:00Z' },
        { id: 'a', event_ts: '2024-05-01T09:59:59Z' },
      ],
      {
        rows: [
          // 10:00 UTC, and 11:00 UTC written in another zone.
          { id: 'a', ts: '2024-05-01T12:00:00+02:00', v: 'ten' },
          { id: 'a', ts: '2024-05-01 06:00:00-05:00', v: 'eleven' },
          { id: 'a', ts: '2024-05-01T13:00:00', v: 'thirteen' },
        ],
      },
    );
    assert.deepEqual(values(result, 'v'), ['eleven', null]);
  });

  test('a bad timestamp names the table, row (counting the header), column and value', () => {
    assert.throws(
      () =>
        join([{ id: 'a', event_ts: 100 }], {
          name: 'features.csv',
          rows: [
            { id: 'a', ts: 1 },
            { id: 'a', ts: 'last tuesday' },
          ],
        }),
      (e: unknown) =>
        e instanceof ValidationError &&
        e.message.includes('features.csv row 3, column ts') &&
        e.message.includes('"last tuesday"'),
    );
    assert.throws(
      () => join([{ id: 'a', event_ts: 'soon' }], { rows: [{ id: 'a', ts: 1 }] }),
      (e: unknown) =>
        e instanceof ValidationError && /entity table row 2, column event_ts/.test(e.message),
    );
  });

  test('a missing key or timestamp column names the table and lists its columns', () => {
    assert.throws(
      () => join([{ id: 'a', event_ts: 1 }], { name: 'f.csv', rows: [{ id: 'a', time: 1, v: 1 }] }),
      (e: unknown) =>
        e instanceof ValidationError &&
        e.message.includes('"ts"') &&
        e.message.includes('f.csv') &&
        e.message.includes('id, time, v'),
    );
    assert.throws(
      () => join([{ customer: 'a', event_ts: 1 }], { rows: [{ id: 'a', ts: 1 }] }),
      (e: unknown) =>
        e instanceof ValidationError &&
        e.message.includes('"id"') &&
        e.message.includes('entity table') &&
        e.message.includes('customer, event_ts'),
    );
    assert.throws(
      () => join([{ id: 'a', event_ts: 1 }], { features: ['nope'], rows: [{ id: 'a', ts: 1 }] }),
      ValidationError,
    );
  });

  test('an aborted signal stops the join', () => {
    const controller = new AbortController();
    controller.abort();
    assert.throws(() =>
      asOfJoin({
        entityRows: [],
        eventTimestampColumn: 'event_ts',
        keys: [],
        featureTables: [],
        signal: controller.signal,
      }),
    );
  });

  test('200,000 x 200,000 random join agrees with a brute-force reference on 500 rows', () => {
    let seed = 42;
    // mulberry32: small, seeded, good enough for test data.
    const random = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const n = 200_000;
    const keyCount = 20_000;
    const span = 1_000_000;
    const ttlMs = 150_000;
    const features: Row[] = [];
    for (let i = 0; i < n; i++) {
      // A coarse grid so timestamp ties happen; some backfills, some rows without created.
      const ts = Math.floor(random() * 1000) * 1000;
      const r = random();
      const created = r < 0.1 ? null : r < 0.3 ? ts + Math.floor(random() * 300_000) : ts;
      features.push({ k: Math.floor(random() * keyCount), ts, created, v: i });
    }
    const entities: Row[] = [];
    for (let i = 0; i < n; i++) {
      entities.push({
        k: String(Math.floor(random() * keyCount)),
        event_ts: Math.floor(random() * span),
      });
    }

    const started = performance.now();
    const result = asOfJoin({
      entityRows: entities,
      eventTimestampColumn: 'event_ts',
      keys: ['k'],
      featureTables: [
        {
          name: 'f',
          rows: features,
          keys: ['k'],
          timestampColumn: 'ts',
          createdColumn: 'created',
          ttlMs,
        },
      ],
    });
    const elapsed = performance.now() - started;
    console.log(`asOfJoin 200,000 x 200,000: ${elapsed.toFixed(0)} ms`, result.stats[0]);

    const stats = result.stats[0]!;
    assert.equal(stats.matched + stats.missedNoRow + stats.missedTtl + stats.excludedBackfill, n);
    assert.ok(stats.matched > 0 && stats.missedTtl > 0 && stats.excludedBackfill > 0);

    // The reference scans every feature row for each sampled entity row.
    const outcomes = { matched: 0, missedNoRow: 0, missedTtl: 0, excludedBackfill: 0 };
    const better = (a: Row, b: Row | undefined): boolean => {
      if (!b) return true;
      const [at, bt] = [a.ts as number, b.ts as number];
      if (at !== bt) return at > bt;
      const [ac, bc] = [
        (a.created as number | null) ?? -Infinity,
        (b.created as number | null) ?? -Infinity,
      ];
      if (ac !== bc) return ac > bc;
      return (a.v as number) > (b.v as number);
    };
    for (let s = 0; s < 500; s++) {
      const i = Math.floor(random() * n);
      const entity = entities[i]!;
      const t = entity.event_ts as number;
      let anyRow: Row | undefined;
      let written: Row | undefined;
      for (const row of features) {
        if (String(row.k) !== entity.k || (row.ts as number) > t) continue;
        if (better(row, anyRow)) anyRow = row;
        const created = row.created as number | null;
        if ((created === null || created <= t) && better(row, written)) written = row;
      }
      const fresh = (row: Row | undefined): boolean => !!row && (row.ts as number) >= t - ttlMs;
      const expected = fresh(written) ? written!.v : null;
      assert.equal(result.rows[i]!.v, expected, `entity row ${i}`);
      assert.equal(result.rows[i]!.k, entity.k);
      if (fresh(written)) outcomes.matched++;
      else if (fresh(anyRow)) outcomes.excludedBackfill++;
      else if (anyRow) outcomes.missedTtl++;
      else outcomes.missedNoRow++;
    }
    assert.ok(outcomes.matched > 0 && outcomes.missedTtl > 0 && outcomes.excludedBackfill > 0);
  });
});
