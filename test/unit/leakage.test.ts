// Leakage checks: feature values stamped after the event or the label, and single columns
// that give the label away (numeric AUC, categorical accuracy, regression Spearman), while
// noisy honest features and id columns are left alone.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkLeakage } from '../../src/core/features/leakage.ts';
import type { Row } from '../../src/core/features/pointInTime.ts';
import { ValidationError } from '../../src/core/model/errors.ts';

/** Seeded uniform [0, 1) (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal by Box-Muller. */
function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

const DAY = 86_400_000;

// A type alias, not an interface, so it stays assignable to Row.
type Training = {
  id: string;
  seq: number;
  event_ts: number;
  label: number;
  noisy: number;
  copy: number;
  status: string;
  region: string;
};

/** 1,000 rows: id, event time, binary label, an honest noisy feature and a few proxies. */
function table(): Training[] {
  const random = rng(7);
  const rows: Training[] = [];
  for (let i = 0; i < 1000; i++) {
    const label = random() < 0.4 ? 1 : 0;
    rows.push({
      id: `cust-${i}`,
      seq: i,
      event_ts: 1_700_000_000_000 + i * DAY,
      label,
      noisy: label + normal(random) * 1.2,
      copy: label,
      status: label === 1 ? (random() < 0.5 ? 'charged_back' : 'refunded') : 'settled',
      region: ['n', 'e', 's', 'w'][Math.floor(random() * 4)]!,
    });
  }
  return rows;
}

function columns(report: ReturnType<typeof checkLeakage>, kind: string): string[] {
  return report.findings.filter((f) => f.kind === kind).map((f) => f.column);
}

describe('checkLeakage: future features', () => {
  test('a feature stamped after the event is flagged with its count and examples', () => {
    const rows: Row[] = [];
    for (let i = 0; i < 20; i++) {
      const event = 1_000_000 + i * 1000;
      // Rows 3, 8, 13, 18 (1-based 4, 9, 14, 19) were computed after the event.
      const late = i % 5 === 3;
      rows.push({
        event_ts: event,
        balance: i,
        balance_ts: late ? event + 1 : event,
        other: i,
        other_ts: event - 10,
      });
    }
    const report = checkLeakage({
      rows,
      eventTimestampColumn: 'event_ts',
      featureTimestamps: { balance: 'balance_ts', other: 'other_ts' },
      maxExamples: 3,
    });
    assert.equal(report.rows, 20);
    assert.equal(report.findings.length, 1);
    const finding = report.findings[0]!;
    assert.equal(finding.kind, 'future-feature');
    assert.equal(finding.column, 'balance');
    assert.equal(finding.count, 4);
    assert.equal(finding.score, 0.2);
    assert.deepEqual(
      finding.examples.map((e) => e.row),
      [4, 9, 14],
    );
    assert.deepEqual(finding.examples[0]!.values, {
      balance: 3,
      balance_ts: 1_003_001,
      event_ts: 1_003_000,
    });
    assert.match(finding.message, /"balance" has 4 of 20 rows/);
  });

  test('a feature stamped after the label time is flagged and said so', () => {
    const rows: Row[] = [];
    for (let i = 0; i < 10; i++) {
      rows.push({
        event_ts: '2024-05-01T00:00:00Z',
        label_ts: '2024-05-08T00:00:00Z',
        // One row's value was taken after the label was known; the rest a day before the event.
        score: i,
        score_ts: i === 6 ? '2024-05-09T00:00:00+02:00' : '2024-04-30',
      });
    }
    const report = checkLeakage({
      rows,
      eventTimestampColumn: 'event_ts',
      labelTimestampColumn: 'label_ts',
      featureTimestamps: { score: 'score_ts' },
    });
    assert.equal(report.findings.length, 1);
    const finding = report.findings[0]!;
    assert.equal(finding.count, 1);
    assert.equal(finding.examples[0]!.row, 7);
    assert.equal(finding.examples[0]!.values.label_ts, '2024-05-08T00:00:00Z');
    assert.match(finding.message, /1 of them after the label was known \(label_ts\)/);
  });

  test('empty feature values and timestamps are not counted', () => {
    const report = checkLeakage({
      rows: [
        { event_ts: 10, f: null, f_ts: 20 },
        { event_ts: 10, f: 1, f_ts: null },
      ],
      eventTimestampColumn: 'event_ts',
      featureTimestamps: { f: 'f_ts' },
    });
    assert.deepEqual(report.findings, []);
  });

  test('a bad timestamp and a missing column are ValidationErrors', () => {
    assert.throws(
      () =>
        checkLeakage({
          rows: [{ event_ts: 1, f: 1, f_ts: 'noon' }],
          eventTimestampColumn: 'event_ts',
          featureTimestamps: { f: 'f_ts' },
        }),
      (e: unknown) =>
        e instanceof ValidationError && /data row 1, column f_ts: "noon"/.test(e.message),
    );
    assert.throws(
      () =>
        checkLeakage({
          rows: [{ event_ts: 1, f: 1 }],
          eventTimestampColumn: 'event_ts',
          featureTimestamps: { f: 'f_ts' },
        }),
      (e: unknown) => e instanceof ValidationError && /"f_ts".*event_ts, f/.test(e.message),
    );
  });
});

describe('checkLeakage: label proxies', () => {
  const report = checkLeakage({
    rows: table(),
    eventTimestampColumn: 'event_ts',
    labelColumn: 'label',
  });

  test('a column equal to the label is flagged with AUC 1', () => {
    const copy = report.findings.find((f) => f.column === 'copy');
    assert.ok(copy);
    assert.equal(copy.kind, 'label-proxy');
    assert.equal(copy.count, 0);
    assert.equal(copy.score, 1);
    assert.match(copy.message, /AUC 1\.000/);
    assert.equal(copy.examples.length, 5);
    assert.deepEqual(Object.keys(copy.examples[0]!.values), ['copy', 'label']);
  });

  test('a categorical proxy is flagged; a noisy honest feature, ids and the event time are not', () => {
    assert.deepEqual(columns(report, 'label-proxy'), ['copy', 'status']);
    const status = report.findings.find((f) => f.column === 'status')!;
    assert.equal(status.score, 1);
    assert.match(status.message, /3 values.*100\.0% accuracy.*majority class alone: 59\.7%/);
  });

  test('findings are sorted by score, highest first', () => {
    const rows = table().map((r, i) => ({
      ...r,
      near: i % 100 === 0 ? 1 - (r.label as number) : r.label,
    }));
    const scores = checkLeakage({
      rows,
      eventTimestampColumn: 'event_ts',
      labelColumn: 'label',
    }).findings.map((f) => f.score);
    assert.deepEqual(
      scores,
      [...scores].sort((a, b) => b - a),
    );
    assert.equal(scores.length, 3);
  });

  test('an id column is skipped even when it separates the label perfectly', () => {
    // Labels sorted so the id order matches the label exactly.
    const rows = table()
      .sort((a, b) => (a.label as number) - (b.label as number))
      .map((r, i) => ({
        id: `u${i}`,
        seq: i,
        event_ts: r.event_ts,
        label: r.label,
        noisy: r.noisy,
      }));
    const result = checkLeakage({ rows, eventTimestampColumn: 'event_ts', labelColumn: 'label' });
    assert.deepEqual(result.findings, []);
  });

  test('whether a value is there at all can be a proxy', () => {
    const rows = table().map((r) => ({
      event_ts: r.event_ts,
      label: r.label,
      refund_amount: r.label === 1 ? Math.round(((r.noisy as number) + 5) * 100) / 100 : null,
    }));
    const result = checkLeakage({ rows, eventTimestampColumn: 'event_ts', labelColumn: 'label' });
    assert.deepEqual(columns(result, 'label-proxy'), ['refund_amount']);
    assert.match(result.findings[0]!.message, /Whether "refund_amount" is empty/);
  });

  test('a regression label: a monotone proxy is flagged by Spearman, noise is not', () => {
    const random = rng(11);
    const rows: Row[] = [];
    for (let i = 0; i < 500; i++) {
      const price = 100 + random() * 900;
      rows.push({
        event_ts: i,
        price,
        price_bucket_log: Math.log(price) * 3 + 1, // monotone in the label
        size: price / 100 + normal(random) * 3,
      });
    }
    const result = checkLeakage({ rows, eventTimestampColumn: 'event_ts', labelColumn: 'price' });
    assert.deepEqual(columns(result, 'label-proxy'), ['price_bucket_log']);
    assert.equal(result.findings[0]!.score, 1);
    assert.match(result.findings[0]!.message, /Spearman/);
  });

  test('rows without a label are ignored; a single label class checks nothing', () => {
    const rows = table().map((r, i) => ({ ...r, label: i % 10 === 0 ? null : r.label }));
    const result = checkLeakage({ rows, eventTimestampColumn: 'event_ts', labelColumn: 'label' });
    assert.deepEqual(columns(result, 'label-proxy'), ['copy', 'status']);
    // `copy` still has the label of the unlabelled rows; they do not count against it.
    assert.equal(result.findings[0]!.score, 1);

    const constant = table().map((r) => ({ ...r, label: 1 }));
    assert.deepEqual(
      checkLeakage({ rows: constant, eventTimestampColumn: 'event_ts', labelColumn: 'label' })
        .findings,
      [],
    );
  });

  test('a categorical column is judged only when its values are at most half the rows', () => {
    const rows = table().map((r, i) => ({
      event_ts: r.event_ts,
      label: r.label,
      // Every value has one label: ~1,000 values for 1,000 rows (memorised, not judged)...
      wide: `${r.label}-${i % 700}`,
      // ...and ~200 values with ~5 rows each (judged, and a proxy).
      narrow: `${r.label}-${i % 100}`,
    }));
    const result = checkLeakage({ rows, eventTimestampColumn: 'event_ts', labelColumn: 'label' });
    assert.deepEqual(columns(result, 'label-proxy'), ['narrow']);
  });

  test('a multiclass label: categorical and few-valued numeric proxies are flagged', () => {
    const random = rng(5);
    const rows: Row[] = [];
    for (let i = 0; i < 600; i++) {
      const label = ['cat', 'dog', 'bird'][Math.floor(random() * 3)]!;
      rows.push({
        event_ts: i,
        label,
        code: { cat: 10, dog: 20, bird: 30 }[label]!,
        colour: ['red', 'green', 'blue'][Math.floor(random() * 3)]!,
      });
    }
    const result = checkLeakage({ rows, eventTimestampColumn: 'event_ts', labelColumn: 'label' });
    assert.deepEqual(columns(result, 'label-proxy'), ['code']);
  });

  test('the threshold is an option', () => {
    const lax = checkLeakage({
      rows: table(),
      eventTimestampColumn: 'event_ts',
      labelColumn: 'label',
      separationThreshold: 0.6,
    });
    assert.ok(columns(lax, 'label-proxy').includes('noisy'));
  });
});
