// The drift report page's model: how statistics, thresholds and verdicts read, the
// filters, the chart's bin labels, and the Markdown / CSV exports, from hand-built reports.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse as parseCsv } from 'csv-parse/sync';
import {
  binLabels,
  columnVerdictText,
  compactNumber,
  countText,
  csvField,
  datasetVerdictLabel,
  driftCsv,
  driftedText,
  driftMarkdown,
  driftTitle,
  exportFileName,
  filterColumns,
  firstDriftedColumn,
  formatShare,
  formatStat,
  markdownCell,
  possibleCount,
  possibleThresholdLabel,
  referenceLabel,
  shareText,
  shortDigest,
  testLabel,
  testTooltip,
  thresholdLabel,
  untestedCount,
  verdictLabel,
} from '../../src/shared/driftView.ts';
import type { DriftColumnView, DriftReportView } from '../../src/shared/protocol.ts';

function aColumn(overrides: Partial<DriftColumnView> & { column: string }): DriftColumnView {
  return {
    sourceColumn: overrides.column,
    kind: 'numerical',
    test: 'ks',
    chosenBy: 'auto',
    reason: '500 reference values <= 1000',
    statistic: 0.2,
    pValue: 0.01,
    threshold: 0.05,
    possibleThreshold: 0.1,
    drift: true,
    verdict: 'drift',
    bins: null,
    reference: { count: 500, missing: 0, sampled: false },
    current: { count: 400, missing: 2 },
    chart: { kind: 'histogram', edges: [0, 1, 2], reference: [0.5, 0.5], current: [0.2, 0.8] },
    ...overrides,
  };
}

function aReport(overrides: Partial<DriftReportView> = {}): DriftReportView {
  return {
    reference: { source: 'data/train.csv', rows: 500, digest: 'a'.repeat(64), baseline: null },
    current: { source: 'data/today.csv', rows: 402, digest: 'b'.repeat(64) },
    columns: [
      aColumn({ column: 'age' }),
      aColumn({
        column: 'city',
        kind: 'categorical',
        test: 'chi2',
        statistic: 3.2,
        pValue: 0.07,
        drift: false,
        verdict: 'possible',
        chart: {
          kind: 'categories',
          labels: ['Oslo', 'Rome'],
          reference: [0.6, 0.4],
          current: [0.5, 0.5],
        },
      }),
      aColumn({
        column: 'income',
        test: 'wasserstein',
        chosenBy: 'column',
        reason: 'chosen for this column',
        statistic: 0.03,
        pValue: null,
        threshold: 0.1,
        possibleThreshold: 0.05,
        drift: false,
        verdict: 'none',
      }),
    ],
    missingColumns: [],
    newColumns: [],
    driftedColumns: 1,
    checkedColumns: 3,
    driftedShare: 1 / 3,
    driftShareThreshold: 0.5,
    datasetDrift: false,
    datasetVerdict: 'possible',
    createdAt: Date.UTC(2025, 0, 2, 9, 30),
    ...overrides,
  };
}

describe('formatStat', () => {
  test('four significant digits, trailing zeros dropped', () => {
    assert.equal(formatStat(0.123456), '0.1235');
    assert.equal(formatStat(12.3456), '12.35');
    assert.equal(formatStat(0.05), '0.05');
    assert.equal(formatStat(0.1), '0.1');
    assert.equal(formatStat(1), '1');
    assert.equal(formatStat(1234567), '1235000');
    assert.equal(formatStat(-0.5), '-0.5');
    assert.equal(formatStat(0.00012346), '0.0001235');
  });

  test('exponential below 1e-4, so tiny p-values do not read as 0', () => {
    assert.equal(formatStat(0.00001234), '1.234e-5');
    assert.equal(formatStat(1e-30), '1e-30');
    assert.equal(formatStat(2.5e-7), '2.5e-7');
    assert.equal(formatStat(-3.21e-9), '-3.21e-9');
    assert.equal(formatStat(0.0001), '0.0001');
  });

  test('zero, missing and non-finite values', () => {
    assert.equal(formatStat(0), '0');
    assert.equal(formatStat(null), '—');
    assert.equal(formatStat(undefined), '—');
    assert.equal(formatStat(NaN), 'NaN');
    assert.equal(formatStat(Infinity), '∞');
  });
});

describe('other numbers', () => {
  test('shares keep two decimals at most', () => {
    assert.equal(formatShare(2 / 3), '0.67');
    assert.equal(formatShare(0.5), '0.5');
    assert.equal(formatShare(1), '1');
  });

  test('bin edges are compact', () => {
    assert.equal(compactNumber(0), '0');
    assert.equal(compactNumber(1.23456), '1.23');
    assert.equal(compactNumber(1234.5), '1230');
    assert.equal(compactNumber(12345), '12.3k');
    assert.equal(compactNumber(999_999), '1M');
    assert.equal(compactNumber(-2_500_000_000), '-2.5G');
    assert.equal(compactNumber(0.000123), '1.23e-4');
  });

  test('a histogram has a label per bin; datetime edges read as dates', () => {
    assert.deepEqual(binLabels([0, 0.5, 1]), ['0–0.5', '0.5–1']);
    assert.deepEqual(binLabels([]), []);
    const day = 86_400_000;
    const start = Date.UTC(2025, 0, 1);
    assert.deepEqual(binLabels([start, start + 10 * day], 'datetime'), ['2025-01-01–2025-01-11']);
    assert.deepEqual(binLabels([start, start + day / 2], 'datetime'), [
      '2025-01-01 00:00–2025-01-01 12:00',
    ]);
    // Small numbers in a datetime column are not epoch milliseconds: left as numbers.
    assert.deepEqual(binLabels([1, 2], 'datetime'), ['1–2']);
  });

  test('digests are cut to their start', () => {
    assert.equal(shortDigest('0123456789abcdef0123'), '0123456789ab');
    assert.equal(shortDigest('sha256:0123456789abcdef'), '0123456789ab');
    assert.equal(shortDigest(null), '—');
  });
});

describe('labels', () => {
  test('p-value tests read "p < x", distances ">= x"', () => {
    assert.equal(thresholdLabel(aColumn({ column: 'a' })), 'p < 0.05');
    assert.equal(
      thresholdLabel(aColumn({ column: 'a', test: 'psi', pValue: null, threshold: 0.25 })),
      '>= 0.25',
    );
    assert.equal(
      possibleThresholdLabel(
        aColumn({ column: 'a', test: 'js', pValue: null, possibleThreshold: 0.05 }),
      ),
      '>= 0.05',
    );
    assert.equal(possibleThresholdLabel(aColumn({ column: 'a' })), 'p < 0.1');
  });

  test('an untested column goes by its test', () => {
    const untested = { statistic: null, pValue: null, error: 'no values in the current data' };
    assert.equal(thresholdLabel(aColumn({ column: 'a', ...untested })), 'p < 0.05');
    assert.equal(
      thresholdLabel(aColumn({ column: 'a', ...untested, test: 'wasserstein', threshold: 0.1 })),
      '>= 0.1',
    );
  });

  test('the test says whether it was chosen automatically or set', () => {
    assert.equal(testLabel(aColumn({ column: 'a' })), 'ks (auto)');
    assert.equal(testLabel(aColumn({ column: 'a', test: 'psi', chosenBy: 'global' })), 'psi (set)');
    assert.equal(testLabel(aColumn({ column: 'a', test: 'psi', chosenBy: 'column' })), 'psi (set)');
    assert.equal(
      testTooltip(aColumn({ column: 'a' })),
      'Kolmogorov-Smirnov: 500 reference values <= 1000',
    );
  });

  test('verdicts', () => {
    assert.equal(datasetVerdictLabel('drift'), 'Dataset drift');
    assert.equal(datasetVerdictLabel('possible'), 'Possible drift');
    assert.equal(datasetVerdictLabel('none'), 'No drift');
    assert.equal(verdictLabel('possible'), 'possible');
    assert.equal(columnVerdictText({ verdict: 'none' }), 'no drift');
    assert.equal(columnVerdictText({ verdict: 'none', error: 'no values' }), 'not tested');
  });

  test('the summary counts columns and compares the share with the threshold', () => {
    assert.equal(driftedText({ driftedColumns: 2, checkedColumns: 3 }), '2 of 3 columns drifted');
    assert.equal(driftedText({ driftedColumns: 0, checkedColumns: 1 }), '0 of 1 column drifted');
    assert.equal(shareText({ driftedShare: 2 / 3, driftShareThreshold: 0.5 }), 'share 0.67 >= 0.5');
    assert.equal(shareText({ driftedShare: 1 / 3, driftShareThreshold: 0.5 }), 'share 0.33 < 0.5');
    // Compared exactly, not as rounded: 0.499 is below 0.5 even though it shows as 0.5.
    assert.equal(shareText({ driftedShare: 0.499, driftShareThreshold: 0.5 }), 'share 0.5 < 0.5');
    assert.equal(countText(3, 12), 'showing 3 of 12');
  });

  test('possible and untested columns are counted, a text column once', () => {
    const text = (column: string, verdict: DriftColumnView['verdict']) =>
      aColumn({ column, sourceColumn: 'review', kind: 'text', verdict });
    assert.equal(possibleCount(aReport()), 1);
    assert.equal(
      possibleCount({
        columns: [text('review (length)', 'possible'), text('review (oov)', 'possible')],
      }),
      1,
    );
    // A source column with one drifted part counts as drifted, not possible.
    assert.equal(
      possibleCount({
        columns: [text('review (length)', 'possible'), text('review (oov)', 'drift')],
      }),
      0,
    );
    const untested = aColumn({ column: 'x', verdict: 'possible', error: 'no values' });
    assert.equal(possibleCount({ columns: [untested] }), 0);
    assert.equal(untestedCount({ columns: [untested, aColumn({ column: 'y' })] }), 1);
  });

  test('the title names the reference file or the baseline', () => {
    assert.equal(driftTitle(aReport()), 'Drift: data/today.csv vs data/train.csv');
    const fromBaseline = aReport({
      reference: { source: 'data/train.csv', rows: 500, digest: null, baseline: 'train' },
    });
    assert.equal(referenceLabel(fromBaseline), 'baseline train');
    assert.equal(driftTitle(fromBaseline), 'Drift: data/today.csv vs baseline train');
  });
});

describe('filters', () => {
  const report = aReport();

  test('drifted only keeps the columns that drifted, not the possible ones', () => {
    assert.deepEqual(
      filterColumns(report.columns, { driftedOnly: true, text: '' }).map((c) => c.column),
      ['age'],
    );
  });

  test('the text matches column, kind and test, every word, any case', () => {
    const names = (text: string) =>
      filterColumns(report.columns, { driftedOnly: false, text }).map((c) => c.column);
    assert.deepEqual(names(''), ['age', 'city', 'income']);
    assert.deepEqual(names('CITY'), ['city']);
    assert.deepEqual(names('categorical'), ['city']);
    assert.deepEqual(names('wasserstein'), ['income']);
    assert.deepEqual(names('numerical ks'), ['age']);
    assert.deepEqual(names('nothing'), []);
  });

  test('the first drifted column opens first; none when nothing drifted', () => {
    assert.equal(firstDriftedColumn(report), 'age');
    assert.equal(
      firstDriftedColumn({ columns: report.columns.filter((c) => c.verdict !== 'drift') }),
      null,
    );
  });
});

describe('exports', () => {
  test('CSV fields are quoted per RFC 4180', () => {
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('two\nlines'), '"two\nlines"');
    assert.equal(csvField('cr\r'), '"cr\r"');
  });

  test('the CSV round-trips through a CSV parser, with CRLF line ends', () => {
    const report = aReport({
      columns: [
        aColumn({ column: 'price, "net"\nEUR' }),
        aColumn({
          column: '=HYPERLINK("x")',
          statistic: null,
          pValue: null,
          error: 'no values, at all',
        }),
      ],
    });
    const text = driftCsv(report);
    assert.ok(text.endsWith('\r\n'));
    assert.equal(text.split('\r\n')[0], text.split('\r\n')[0]!.trim());
    const rows = parseCsv(text, { columns: true }) as Record<string, string>[];
    assert.equal(rows.length, 2);
    assert.equal(rows[0]!.column, 'price, "net"\nEUR');
    assert.equal(rows[0]!.statistic, '0.2');
    assert.equal(rows[0]!.p_value, '0.01');
    assert.equal(rows[0]!.verdict, 'drift');
    assert.equal(rows[0]!.reference_sampled, 'false');
    // A cell a spreadsheet would run as a formula is defused.
    assert.equal(rows[1]!.column, `'=HYPERLINK("x")`);
    assert.equal(rows[1]!.statistic, '');
    assert.equal(rows[1]!.verdict, 'not tested');
    assert.equal(rows[1]!.error, 'no values, at all');
  });

  test('statistics keep full precision in the CSV', () => {
    const text = driftCsv(aReport({ columns: [aColumn({ column: 'a', pValue: 1.23456789e-12 })] }));
    const [row] = parseCsv(text, { columns: true }) as Record<string, string>[];
    assert.equal(Number(row!.p_value), 1.23456789e-12);
  });

  test('Markdown cells stay one line with pipes and markup escaped', () => {
    assert.equal(markdownCell('a|b'), 'a\\|b');
    assert.equal(markdownCell('two\nlines'), 'two lines');
    assert.equal(markdownCell('*bold* _it_ `code`'), '\\*bold\\* \\_it\\_ \\`code\\`');
    assert.equal(markdownCell('<script>'), '\\<script>');
    assert.equal(markdownCell('p < 0.05'), 'p < 0.05');
    assert.equal(markdownCell('back\\slash'), 'back\\\\slash');
  });

  test('the Markdown has the summary and a row per column', () => {
    const md = driftMarkdown(
      aReport({
        missingColumns: ['zip'],
        newColumns: ['score'],
        columns: [
          ...aReport().columns,
          aColumn({
            column: 'a|b',
            statistic: null,
            pValue: null,
            error: 'no values in the current data',
          }),
        ],
      }),
    );
    const lines = md.split('\n');
    assert.equal(lines[0], '### Possible drift: 1 of 3 columns drifted');
    assert.match(
      md,
      /`data\/today\.csv` \(402 rows\) against `data\/train\.csv` \(500 rows\), 2025-01-02 09:30 UTC; share 0\.33 < 0\.5\./,
    );
    assert.ok(
      lines.includes('| column | kind | test | statistic | p-value | threshold | verdict |'),
    );
    assert.ok(lines.includes('| age | numerical | ks (auto) | 0.2 | 0.01 | p < 0.05 | ✗ drift |'));
    assert.ok(
      lines.includes('| income | numerical | wasserstein (set) | 0.03 | — | >= 0.1 | ✓ no drift |'),
    );
    assert.ok(
      lines.includes(
        '| city | categorical | chi2 (auto) | 3.2 | 0.07 | p < 0.05 | ⚠ possible drift |',
      ),
    );
    assert.ok(
      lines.includes(
        '| a\\|b | numerical | ks (auto) | — | — | p < 0.05 | not tested: no values in the current data |',
      ),
    );
    // Every table row has the header's seven cells (escaped pipes do not split).
    for (const l of lines.filter((x) => x.startsWith('| '))) {
      assert.equal(l.split(/(?<!\\)\|/).length - 2, 7, l);
    }
    assert.match(md, /Missing from the current data: `zip`\./);
    assert.match(md, /Not in the reference \(not checked\): `score`\./);
  });

  test('the Markdown names a baseline and notes a sampled reference', () => {
    const md = driftMarkdown(
      aReport({
        reference: { source: 'train.csv', rows: 50_000, digest: null, baseline: 'prod' },
        columns: [
          aColumn({ column: 'x', reference: { count: 50_000, missing: 0, sampled: true } }),
        ],
      }),
    );
    assert.match(md, /against baseline `prod` \(`train\.csv`\) \(50,000 rows\)/);
    assert.match(md, /sample/);
  });

  test('the export file name is a name, never a path', () => {
    assert.equal(exportFileName(aReport(), 'csv'), 'drift-today-20250102.csv');
    const odd = aReport({
      current: { source: 'C:\\data\\my data (v2).parquet', rows: 1, digest: null },
    });
    assert.equal(exportFileName(odd, 'csv'), 'drift-my-data-v2-20250102.csv');
    assert.doesNotMatch(exportFileName(odd, 'csv'), /[/\\]/);
  });
});
