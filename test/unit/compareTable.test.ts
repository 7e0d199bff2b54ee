// The compare-runs table model: which rows differ, which cells are best, column order, and
// the CSV / Markdown exports, from small hand-built runs.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  buildCompareTable,
  compareTableToCsv,
  compareTableToMarkdown,
  formatDuration,
} from '../../src/shared/compareTable.ts';
import type { CompareRow, CompareTable } from '../../src/shared/compareTable.ts';
import type { CompareRun } from '../../src/shared/protocol.ts';

type MetricSummary = CompareRun['metrics'][string];

const T0 = Date.UTC(2024, 2, 5, 14, 7, 9);

function aRun(overrides: Partial<CompareRun> & { runId: string }): CompareRun {
  return {
    runName: `name-${overrides.runId}`,
    experimentId: '1',
    experimentName: 'demo',
    status: 'FINISHED',
    startTime: T0,
    endTime: T0 + 60_000,
    userId: 'ada',
    gitCommit: null,
    params: {},
    metrics: {},
    tags: {},
    datasets: [],
    checkpoints: [],
    ...overrides,
  };
}

/** A metric whose last value is `last`; min and max follow it unless given. */
function aMetric(last: number | string, rest: Partial<MetricSummary> = {}): MetricSummary {
  const n = typeof last === 'number' ? last : null;
  return { last, min: n, max: n, step: 10, count: 11, ...rest };
}

function rowOf(table: CompareTable, id: string): CompareRow {
  const found = table.rows.find((r) => r.id === id);
  assert.ok(found, `expected a row ${id}; have ${table.rows.map((r) => r.id).join(', ')}`);
  return found;
}

const texts = (row: CompareRow) => row.cells.map((c) => c.text);
const bests = (row: CompareRow) => row.cells.map((c) => c.best);
const columnIds = (table: CompareTable) => table.columns.map((r) => r.runId);

describe('rows and the differs flag', () => {
  test('a param that differs is flagged, an equal one is not, and values are numeric', () => {
    const table = buildCompareTable([
      aRun({ runId: 'a', params: { lr: '0.1', optimizer: 'adam' } }),
      aRun({ runId: 'b', params: { lr: '0.01', optimizer: 'adam' } }),
    ]);
    const lr = rowOf(table, 'param:lr');
    assert.equal(lr.group, 'params');
    assert.equal(lr.label, 'lr');
    assert.deepEqual(texts(lr), ['0.1', '0.01']);
    assert.deepEqual(
      lr.cells.map((c) => c.value),
      [0.1, 0.01],
    );
    assert.equal(lr.differs, true);
    const optimizer = rowOf(table, 'param:optimizer');
    assert.equal(optimizer.differs, false);
    assert.deepEqual(
      optimizer.cells.map((c) => c.value),
      [null, null],
    );
  });

  test('rows come in group order with attributes first and keys sorted', () => {
    const table = buildCompareTable([
      aRun({
        runId: 'a',
        params: { z: '1', a: '2' },
        metrics: { loss: aMetric(0.5), acc: aMetric(0.9) },
        tags: { team: 'x', 'mlflow.runName': 'hidden' },
        datasets: [{ name: 'train.csv', digest: 'abc', context: 'training', rowCount: null }],
      }),
    ]);
    assert.deepEqual(
      table.rows.map((r) => r.id),
      [
        'attr:experiment',
        'attr:status',
        'attr:start',
        'attr:duration',
        'attr:git commit',
        'attr:user',
        'param:a',
        'param:z',
        'metric:acc:last',
        'metric:acc:min',
        'metric:acc:max',
        'metric:loss:last',
        'metric:loss:min',
        'metric:loss:max',
        'tag:team',
        'dataset:train.csv:training',
      ],
    );
    assert.equal(rowOf(table, 'metric:loss:min').label, 'loss (min)');
    assert.equal(rowOf(table, 'dataset:train.csv:training').label, 'train.csv (training)');
  });

  test('attributes show start in UTC, a short commit and the duration in ms', () => {
    const table = buildCompareTable([
      aRun({ runId: 'a', gitCommit: '0123456789abcdef', endTime: T0 + 245_000 }),
    ]);
    assert.deepEqual(texts(rowOf(table, 'attr:start')), ['2024-03-05 14:07:09']);
    assert.equal(rowOf(table, 'attr:start').cells[0]!.value, T0);
    assert.deepEqual(texts(rowOf(table, 'attr:git commit')), ['01234567']);
    assert.deepEqual(rowOf(table, 'attr:duration').cells[0], {
      text: '4m 05s',
      value: 245_000,
      best: false,
    });
  });

  test('with a single column nothing differs', () => {
    const table = buildCompareTable([aRun({ runId: 'a', params: { lr: '0.1' } })]);
    assert.ok(table.rows.length > 0);
    assert.ok(table.rows.every((r) => !r.differs));
    assert.equal(
      buildCompareTable([aRun({ runId: 'a' })], { onlyDifferences: true }).rows.length,
      0,
    );
  });

  test('onlyDifferences drops equal rows and keeps differing ones, a missing param included', () => {
    const table = buildCompareTable(
      [
        aRun({ runId: 'a', params: { lr: '0.1', seed: '1', extra: 'yes' }, tags: { team: 'x' } }),
        aRun({ runId: 'b', params: { lr: '0.1', seed: '2' }, tags: { team: 'x' } }),
      ],
      { onlyDifferences: true },
    );
    assert.deepEqual(
      table.rows.map((r) => r.id),
      ['param:extra', 'param:seed'],
    );
    assert.deepEqual(texts(rowOf(table, 'param:extra')), ['yes', '']);
  });

  test('tags starting with mlflow. are left out', () => {
    const table = buildCompareTable([
      aRun({ runId: 'a', tags: { 'mlflow.source.name': 'train.py', team: 'x' } }),
    ]);
    assert.deepEqual(
      table.rows.filter((r) => r.group === 'tags').map((r) => r.id),
      ['tag:team'],
    );
  });
});

describe('best values', () => {
  const runs = [
    aRun({ runId: 'a', metrics: { loss: aMetric(0.3), accuracy: aMetric(0.8) } }),
    aRun({ runId: 'b', metrics: { loss: aMetric(0.2), accuracy: aMetric(0.9) } }),
    aRun({ runId: 'c', metrics: { loss: aMetric(0.5), accuracy: aMetric(0.7) } }),
  ];

  test('the lowest loss and the highest accuracy are best', () => {
    const table = buildCompareTable(runs);
    const loss = rowOf(table, 'metric:loss:last');
    assert.equal(loss.direction, 'min');
    assert.equal(loss.metric, 'loss');
    assert.deepEqual(bests(loss), [false, true, false]);
    const accuracy = rowOf(table, 'metric:accuracy:last');
    assert.equal(accuracy.direction, 'max');
    assert.deepEqual(bests(accuracy), [false, true, false]);
  });

  test('ties for best are all marked', () => {
    const table = buildCompareTable([
      aRun({ runId: 'a', metrics: { loss: aMetric(0.2) } }),
      aRun({ runId: 'b', metrics: { loss: aMetric(0.4) } }),
      aRun({ runId: 'c', metrics: { loss: aMetric(0.2) } }),
    ]);
    assert.deepEqual(bests(rowOf(table, 'metric:loss:last')), [true, false, true]);
  });

  test('equal values everywhere have no best', () => {
    const table = buildCompareTable([
      aRun({ runId: 'a', metrics: { loss: aMetric(0.2) } }),
      aRun({ runId: 'b', metrics: { loss: aMetric(0.2) } }),
    ]);
    assert.deepEqual(bests(rowOf(table, 'metric:loss:last')), [false, false]);
  });

  test('directions override the default, and lowerIsBetter replaces the heuristic', () => {
    const flipped = buildCompareTable(runs, { directions: { loss: 'max', accuracy: 'min' } });
    assert.equal(rowOf(flipped, 'metric:loss:last').direction, 'max');
    assert.deepEqual(bests(rowOf(flipped, 'metric:loss:last')), [false, false, true]);
    assert.deepEqual(bests(rowOf(flipped, 'metric:accuracy:min')), [false, false, true]);

    const custom = buildCompareTable(runs, { lowerIsBetter: (m) => m === 'accuracy' });
    assert.deepEqual(bests(rowOf(custom, 'metric:accuracy:last')), [false, false, true]);
    assert.deepEqual(bests(rowOf(custom, 'metric:loss:last')), [false, false, true]);
  });

  test('NaN and Infinity show as text but are never best', () => {
    const table = buildCompareTable([
      aRun({ runId: 'a', metrics: { accuracy: aMetric('Infinity') } }),
      aRun({ runId: 'b', metrics: { accuracy: aMetric('NaN') } }),
      aRun({ runId: 'c', metrics: { accuracy: aMetric(0.5) } }),
      aRun({ runId: 'd', metrics: { accuracy: aMetric(0.6) } }),
      aRun({ runId: 'e', metrics: { accuracy: aMetric('-Infinity') } }),
    ]);
    const row = rowOf(table, 'metric:accuracy:last');
    assert.deepEqual(texts(row), ['Infinity', 'NaN', '0.5', '0.6', '-Infinity']);
    assert.deepEqual(
      row.cells.map((c) => c.value),
      [null, null, 0.5, 0.6, null],
    );
    assert.deepEqual(bests(row), [false, false, false, true, false]);

    const lossTable = buildCompareTable([
      aRun({ runId: 'a', metrics: { loss: aMetric('-Infinity') } }),
      aRun({ runId: 'b', metrics: { loss: aMetric(0.5) } }),
      aRun({ runId: 'c', metrics: { loss: aMetric(0.6) } }),
    ]);
    assert.deepEqual(bests(rowOf(lossTable, 'metric:loss:last')), [false, true, false]);
  });

  test('a row with one finite value has no best', () => {
    const table = buildCompareTable([
      aRun({ runId: 'a', metrics: { loss: aMetric(0.3) } }),
      aRun({ runId: 'b', metrics: { loss: aMetric('NaN') } }),
      aRun({ runId: 'c' }),
    ]);
    const row = rowOf(table, 'metric:loss:last');
    assert.deepEqual(texts(row), ['0.3', 'NaN', '']);
    assert.deepEqual(bests(row), [false, false, false]);
  });

  test('min and max rows judge their own values', () => {
    const table = buildCompareTable([
      aRun({ runId: 'a', metrics: { loss: aMetric(0.3, { min: 0.1, max: 0.9 }) } }),
      aRun({ runId: 'b', metrics: { loss: aMetric(0.2, { min: 0.15, max: 0.8 }) } }),
    ]);
    assert.deepEqual(bests(rowOf(table, 'metric:loss:last')), [false, true]);
    assert.deepEqual(bests(rowOf(table, 'metric:loss:min')), [true, false]);
    assert.deepEqual(bests(rowOf(table, 'metric:loss:max')), [false, true]);
  });
});

describe('datasets', () => {
  test('a digest difference is flagged and the text shows a short digest and the rows', () => {
    const table = buildCompareTable([
      aRun({
        runId: 'a',
        datasets: [
          { name: 'train.csv', digest: '0123456789abcdef', context: 'training', rowCount: 1000 },
          { name: 'eval.csv', digest: 'eeee', context: null, rowCount: null },
        ],
      }),
      aRun({
        runId: 'b',
        datasets: [
          { name: 'train.csv', digest: 'fedcba9876543210', context: 'training', rowCount: 1000 },
          { name: 'eval.csv', digest: 'eeee', context: null, rowCount: null },
        ],
      }),
    ]);
    const train = rowOf(table, 'dataset:train.csv:training');
    assert.deepEqual(texts(train), ['0123456789ab · 1000 rows', 'fedcba987654 · 1000 rows']);
    assert.equal(train.differs, true);
    const evalRow = table.rows.find((r) => r.label === 'eval.csv');
    assert.ok(evalRow, 'a dataset without context is labelled by its name alone');
    assert.deepEqual(texts(evalRow), ['eeee', 'eeee']);
    assert.equal(evalRow.differs, false);
  });

  test('digests equal in their first 12 characters still differ', () => {
    const table = buildCompareTable([
      aRun({
        runId: 'a',
        datasets: [{ name: 'd', digest: 'abcdefghijkl1', context: 'x', rowCount: null }],
      }),
      aRun({
        runId: 'b',
        datasets: [{ name: 'd', digest: 'abcdefghijkl2', context: 'x', rowCount: null }],
      }),
    ]);
    const row = rowOf(table, 'dataset:d:x');
    assert.deepEqual(texts(row), ['abcdefghijkl', 'abcdefghijkl']);
    assert.equal(row.differs, true);
  });

  test('a dataset missing in one run differs', () => {
    const table = buildCompareTable(
      [
        aRun({ runId: 'a', datasets: [{ name: 'd', digest: 'abc', context: 'x', rowCount: 3 }] }),
        aRun({ runId: 'b' }),
      ],
      { onlyDifferences: true },
    );
    assert.deepEqual(texts(rowOf(table, 'dataset:d:x')), ['abc · 3 rows', '']);
  });
});

describe('column order', () => {
  const runs = [
    aRun({ runId: 'a', params: { lr: '0.1' } }),
    aRun({ runId: 'b', params: { lr: '0.001' } }),
    aRun({ runId: 'c' }),
    aRun({ runId: 'd', params: { lr: '0.01' } }),
    aRun({ runId: 'e', params: { lr: '1' } }),
  ];

  test('input order by default', () => {
    assert.deepEqual(columnIds(buildCompareTable(runs)), ['a', 'b', 'c', 'd', 'e']);
  });

  test('ascending and descending by a param, with the missing value last both ways', () => {
    const asc = buildCompareTable(runs, { sortBy: { rowId: 'param:lr', descending: false } });
    assert.deepEqual(columnIds(asc), ['b', 'd', 'a', 'e', 'c']);
    assert.deepEqual(texts(rowOf(asc, 'param:lr')), ['0.001', '0.01', '0.1', '1', '']);
    const desc = buildCompareTable(runs, { sortBy: { rowId: 'param:lr', descending: true } });
    assert.deepEqual(columnIds(desc), ['e', 'a', 'd', 'b', 'c']);
  });

  test('numbers compare as numbers, not as text', () => {
    const table = buildCompareTable(
      [
        aRun({ runId: 'a', params: { n: '10' } }),
        aRun({ runId: 'b', params: { n: '9' } }),
        aRun({ runId: 'c', params: { n: '100' } }),
      ],
      { sortBy: { rowId: 'param:n', descending: false } },
    );
    assert.deepEqual(columnIds(table), ['b', 'a', 'c']);
  });

  test('pinned runs stay first in their own order, unknown ids ignored, the rest sorted', () => {
    const table = buildCompareTable(runs, {
      pinned: ['d', 'nope', 'c'],
      sortBy: { rowId: 'param:lr', descending: true },
    });
    assert.deepEqual(columnIds(table), ['d', 'c', 'e', 'a', 'b']);
    assert.deepEqual(texts(rowOf(table, 'param:lr')), ['0.01', '', '1', '0.1', '0.001']);
  });

  test('sorting is stable and best follows its cell', () => {
    const table = buildCompareTable(
      [
        aRun({ runId: 'a', params: { g: 'x' }, metrics: { loss: aMetric(0.5) } }),
        aRun({ runId: 'b', params: { g: 'y' }, metrics: { loss: aMetric(0.1) } }),
        aRun({ runId: 'c', params: { g: 'x' }, metrics: { loss: aMetric(0.3) } }),
      ],
      { sortBy: { rowId: 'param:g', descending: true } },
    );
    assert.deepEqual(columnIds(table), ['b', 'a', 'c']);
    assert.deepEqual(bests(rowOf(table, 'metric:loss:last')), [true, false, false]);
  });
});

describe('duration', () => {
  test('formatDuration picks two units at most', () => {
    assert.equal(formatDuration(850), '850 ms');
    assert.equal(formatDuration(12_345), '12.3 s');
    assert.equal(formatDuration(245_000), '4m 05s');
    assert.equal(formatDuration((2 * 60 + 3) * 60_000), '2h 03m');
    assert.equal(formatDuration((3 * 24 + 4) * 3_600_000), '3d 4h');
    assert.equal(formatDuration(0), '0 ms');
    assert.equal(formatDuration(59_960), '1m 00s');
  });

  test('a RUNNING run without an end time is measured up to now', () => {
    const table = buildCompareTable(
      [
        aRun({ runId: 'a', status: 'RUNNING', endTime: null }),
        aRun({ runId: 'b', status: 'FAILED', endTime: null }),
      ],
      { now: T0 + 12_300 },
    );
    const row = rowOf(table, 'attr:duration');
    assert.deepEqual(row.cells[0], { text: '12.3 s (running)', value: 12_300, best: false });
    assert.deepEqual(row.cells[1], { text: '', value: null, best: false });
  });
});

describe('exports', () => {
  test('CSV quotes a run name with a comma and a quote, and ends lines with CRLF', () => {
    const table = buildCompareTable([
      aRun({ runId: 'a', runName: 'lr=0.1, "warm"', params: { lr: '0.1' } }),
      aRun({ runId: 'b', runName: 'plain', params: { lr: '0.2' } }),
    ]);
    const csv = compareTableToCsv(table);
    const lines = csv.split('\r\n');
    assert.equal(lines[0], 'group,field,"lr=0.1, ""warm""",plain');
    assert.equal(lines[1], 'attributes,run id,a,b');
    assert.ok(lines.includes('params,lr,0.1,0.2'));
    assert.ok(lines.includes('attributes,start,2024-03-05 14:07:09,2024-03-05 14:07:09'));
    assert.equal(lines.at(-1), '', 'the last line ends with CRLF too');
    assert.equal(csv.replace(/\r\n/g, '').includes('\n'), false, 'no bare LF');
    assert.equal(lines.length, 2 + table.rows.length + 1);
  });

  test('CSV quotes a field with a line break', () => {
    const csv = compareTableToCsv(
      buildCompareTable([aRun({ runId: 'a', params: { note: 'two\nlines' } })]),
    );
    assert.ok(csv.includes('params,note,"two\nlines"\r\n'));
  });

  test('Markdown escapes pipes and newlines and bolds the best cells', () => {
    const table = buildCompareTable([
      aRun({
        runId: 'a',
        runName: 'a|b',
        params: { note: 'x|y\nz' },
        metrics: { loss: aMetric(0.2) },
      }),
      aRun({
        runId: 'b',
        runName: 'c',
        params: { note: 'plain' },
        metrics: { loss: aMetric(0.4) },
      }),
    ]);
    const lines = compareTableToMarkdown(table).trimEnd().split('\n');
    assert.equal(lines[0], '| field | a\\|b | c |');
    assert.equal(lines[1], '| --- | --- | --- |');
    assert.ok(lines.includes('| params · note | x\\|y z | plain |'));
    assert.ok(lines.includes('| metrics · loss (last) | **0.2** | 0.4 |'));
    assert.equal(lines.length, 2 + table.rows.length);
  });
});
