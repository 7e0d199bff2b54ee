// The eval results page's model: pairing two runs and finding flips, the filters, how
// costs, rates and times read, and the CSV / Markdown exports, from hand-built runs.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  caseKey,
  evalCasesToCsv,
  evalRows,
  evalRunToMarkdown,
  exportFileName,
  failedCriteria,
  filterRows,
  filterShowing,
  formatMs,
  formatPercent,
  formatPoints,
  formatRelativeChange,
  formatCost,
  matchesFilter,
  NO_FILTER,
  oneLine,
  sideBySideFigures,
  totalCostUsd,
  unpairedCounts,
} from '../../src/shared/evalView.ts';
import type { CaseFilter, EvalRow } from '../../src/shared/evalView.ts';
import type { EvalCaseView, EvalRunView, EvalSummaryView } from '../../src/shared/protocol.ts';

function aCase(
  overrides: Partial<EvalCaseView> & { index: number; status?: EvalCaseView['status'] },
): EvalCaseView {
  const status = overrides.status ?? 'passed';
  return {
    repeat: 0,
    traceId: null,
    id: `case-${overrides.index}`,
    vars: { topic: 'billing' },
    input: [{ role: 'user', content: 'Hello' }],
    output: 'An answer',
    error: null,
    verdicts: [
      {
        name: 'contains',
        pass: status === 'passed',
        score: status === 'passed' ? 1 : 0,
        reason:
          status === 'passed'
            ? 'found it'
            : status === 'failed'
              ? 'missing "apology"'
              : 'judge timed out',
        ...(status === 'errored' ? { errored: true } : {}),
      },
    ],
    tokens: { input: 10, output: 5, cached: 0, reasoning: 0 },
    tokensEstimated: false,
    costUsd: 0.000012,
    judgeCostUsd: null,
    latencyMs: 420,
    ttftMs: 120,
    cached: false,
    ...overrides,
    status,
  };
}

function aSummary(overrides: Partial<EvalSummaryView> = {}): EvalSummaryView {
  return {
    resultCounts: { total: 2, passed: 1, failed: 1, errored: 0 },
    perCriterion: { contains: { passed: 1, failed: 1, errored: 0 } },
    passRate: 0.5,
    latencyMs: { p50: 400, p95: 900 },
    ttftMs: { p50: 100, p95: 200 },
    tokens: { input: 20, output: 10, cached: 0, reasoning: 0 },
    costUsd: 0.000024,
    judgeCostUsd: null,
    costEstimated: false,
    priceSource: 'settings',
    repeat: 1,
    passAtK: null,
    passHatK: null,
    cachedCalls: 0,
    durationMs: 1500,
    ...overrides,
  };
}

function aRun(overrides: Partial<EvalRunView> & { cases: EvalCaseView[] }): EvalRunView {
  return {
    runId: 'run-aaaaaaaa',
    suite: 'support bot',
    suiteFile: 'evals/support.eval.yaml',
    model: 'gpt-4o-mini',
    baseUrl: 'http://localhost:1234/v1',
    prompt: { label: 'support@3', name: 'support', version: 3 },
    startedAt: Date.UTC(2025, 0, 2, 10, 11),
    criteria: ['contains'],
    summary: aSummary(),
    comparison: null,
    ...overrides,
  };
}

const keys = (rows: readonly EvalRow[]) => rows.map((r) => r.key);

describe('rows and flips', () => {
  test('one run alone: rows in index/repeat order, flips from the comparison', () => {
    const run = aRun({
      cases: [
        aCase({ index: 1, repeat: 0, status: 'failed' }),
        aCase({ index: 0, repeat: 1 }),
        aCase({ index: 0, repeat: 0 }),
      ],
      comparison: {
        previousRunId: 'prev',
        passRateChange: -0.25,
        flipped: [{ index: 1, repeat: 0, from: 'passed', to: 'failed' }],
        outputTokensChange: null,
        costChange: null,
        latencyP50Change: null,
        costRegression: false,
      },
    });
    const rows = evalRows(run);
    assert.deepEqual(keys(rows), ['0/0', '0/1', '1/0']);
    assert.deepEqual(
      rows.map((r) => [r.flipped, r.flippedFrom]),
      [
        [false, null],
        [false, null],
        [true, 'passed'],
      ],
    );
    assert.equal(rows[0]!.other, undefined, 'not side by side: no other case at all');
  });

  test('side by side pairs by index and repeat and flags changed statuses', () => {
    const here = aRun({
      cases: [
        aCase({ index: 0, status: 'passed' }),
        aCase({ index: 1, status: 'failed' }),
        aCase({ index: 2, status: 'errored' }),
      ],
    });
    const there = aRun({
      runId: 'run-bbbbbbbb',
      cases: [
        aCase({ index: 0, status: 'passed', output: 'old answer' }),
        aCase({ index: 1, status: 'passed' }),
        aCase({ index: 2, status: 'failed' }),
      ],
    });
    const rows = evalRows(here, there);
    assert.deepEqual(
      rows.map((r) => [r.key, r.flipped, r.other?.status]),
      [
        ['0/0', false, 'passed'],
        ['1/0', true, 'passed'],
        ['2/0', true, 'failed'],
      ],
    );
    assert.equal(rows[0]!.other?.output, 'old answer');
    // The comparison with the previous run does not leak into side by side.
    assert.equal(rows[0]!.flippedFrom, null);
  });

  test('a case in only one of the two runs gets a row but is not flipped', () => {
    const here = aRun({
      cases: [aCase({ index: 0, status: 'failed' }), aCase({ index: 1, status: 'failed' })],
    });
    const there = aRun({
      runId: 'other',
      cases: [aCase({ index: 1, status: 'passed' }), aCase({ index: 5, status: 'passed' })],
    });
    const rows = evalRows(here, there);
    assert.deepEqual(keys(rows), ['0/0', '1/0', '5/0']);
    const byKey = new Map(rows.map((r) => [r.key, r]));
    assert.equal(byKey.get('0/0')!.other, null, 'only here: other is null, not undefined');
    assert.equal(byKey.get('0/0')!.flipped, false);
    assert.equal(byKey.get('5/0')!.current, null);
    assert.equal(byKey.get('5/0')!.flipped, false);
    assert.equal(byKey.get('1/0')!.flipped, true);
    assert.deepEqual(unpairedCounts(rows), { onlyHere: 1, onlyThere: 1 });
  });

  test('repeats are distinct cases: repeat 1 is never paired with repeat 0', () => {
    const here = aRun({ cases: [aCase({ index: 0, repeat: 1, status: 'failed' })] });
    const there = aRun({ runId: 'o', cases: [aCase({ index: 0, repeat: 0, status: 'passed' })] });
    const rows = evalRows(here, there);
    assert.deepEqual(keys(rows), ['0/0', '0/1']);
    assert.ok(rows.every((r) => !r.flipped));
    assert.equal(caseKey({ index: 3, repeat: 2 }), '3/2');
  });

  test('failed criteria name the undecided ones', () => {
    const c = aCase({
      index: 0,
      status: 'errored',
      verdicts: [
        { name: 'a', pass: true, score: 1, reason: '' },
        { name: 'b', pass: false, score: 0, reason: 'no' },
        { name: 'judge', pass: false, score: 0, reason: 'timeout', errored: true },
      ],
    });
    assert.deepEqual(failedCriteria(c), ['b', 'judge (error)']);
  });
});

describe('filters', () => {
  const here = aRun({
    cases: [
      aCase({ index: 0, status: 'passed', output: 'We refund within 30 days' }),
      aCase({ index: 1, status: 'failed', output: 'No idea', vars: { topic: 'shipping' } }),
      aCase({ index: 2, status: 'errored', output: null, error: 'HTTP 500' }),
      aCase({ index: 3, status: 'failed', output: 'Refund? maybe' }),
    ],
  });
  const there = aRun({
    runId: 'o',
    cases: [
      aCase({ index: 0, status: 'passed' }),
      aCase({ index: 1, status: 'passed' }),
      aCase({ index: 2, status: 'errored' }),
      aCase({ index: 3, status: 'failed' }),
      aCase({ index: 4, status: 'failed' }),
    ],
  });
  const rows = evalRows(here, there);
  const f = (over: Partial<CaseFilter>): string[] =>
    keys(filterRows(rows, { ...NO_FILTER, ...over }));

  test('each status choice keeps what it says; a case the run lacks only shows under all', () => {
    assert.deepEqual(f({}), ['0/0', '1/0', '2/0', '3/0', '4/0']);
    assert.deepEqual(f({ status: 'failed' }), ['1/0', '3/0']);
    assert.deepEqual(f({ status: 'errored' }), ['2/0']);
    assert.deepEqual(f({ status: 'passed' }), ['0/0']);
    assert.deepEqual(f({ status: 'not-passed' }), ['1/0', '2/0', '3/0']);
  });

  test('text search is case-insensitive, needs every word, and reads vars, output, errors and reasons', () => {
    assert.deepEqual(f({ text: 'REFUND' }), ['0/0', '3/0']);
    assert.deepEqual(f({ text: 'refund maybe' }), ['3/0']);
    assert.deepEqual(f({ text: 'shipping' }), ['1/0'], 'vars');
    assert.deepEqual(f({ text: 'http 500' }), ['2/0'], 'the error');
    // Failed cases have the reason 'missing "apology"' (here or, side by side, in the other
    // run); index 4 is only in the other run.
    assert.deepEqual(f({ text: 'missing "apology"' }), ['1/0', '3/0', '4/0']);
    assert.deepEqual(f({ text: 'timed out' }), ['2/0']);
    assert.deepEqual(f({ text: '   ' }), f({}), 'blank text filters nothing');
  });

  test('filters combine: status and flipped and text all have to hold', () => {
    assert.deepEqual(f({ flippedOnly: true }), ['1/0']);
    assert.deepEqual(f({ status: 'not-passed', flippedOnly: true }), ['1/0']);
    assert.deepEqual(f({ status: 'failed', text: 'refund' }), ['3/0']);
    assert.deepEqual(f({ status: 'passed', flippedOnly: true }), []);
    assert.deepEqual(f({ status: 'failed', flippedOnly: true, text: 'shipping' }), ['1/0']);
    assert.deepEqual(f({ status: 'failed', flippedOnly: true, text: 'refund' }), []);
  });

  test('filterShowing clears only the parts that hide the case', () => {
    const row = rows.find((r) => r.key === '3/0')!;
    const hiding: CaseFilter = { status: 'passed', flippedOnly: true, text: 'refund' };
    assert.equal(matchesFilter(row, hiding), false);
    const relaxed = filterShowing(row, hiding);
    assert.deepEqual(relaxed, { status: 'all', flippedOnly: false, text: 'refund' });
    assert.equal(matchesFilter(row, relaxed), true);
    const kept: CaseFilter = { status: 'failed', flippedOnly: false, text: 'maybe' };
    assert.deepEqual(filterShowing(row, kept), kept);
  });
});

describe('numbers', () => {
  test('tiny costs keep two significant digits; null reads as a dash', () => {
    assert.equal(formatCost(0.000012), '$0.000012');
    assert.equal(formatCost(0.00000012), '$0.00000012');
    assert.equal(formatCost(0.0001234), '$0.00012');
    assert.equal(formatCost(0.0000999), '$0.0001', 'rounding up drops the trailing zero');
    assert.equal(formatCost(0.5), '$0.50');
    assert.equal(formatCost(0.01), '$0.01');
    assert.equal(formatCost(12.5), '$12.50');
    assert.equal(formatCost(1234.567), '$1,234.57');
    assert.equal(formatCost(0), '$0');
    assert.equal(formatCost(null), '—');
    assert.equal(formatCost(-0.25), '-$0.25');
    assert.notEqual(formatCost(1e-12), '$0.00');
  });

  test('rates, point changes and relative changes are signed', () => {
    assert.equal(formatPercent(0.7333), '73.3%');
    assert.equal(formatPercent(1), '100%');
    assert.equal(formatPercent(null), '—');
    assert.equal(formatPoints(0.0667), '+6.7 pts');
    assert.equal(formatPoints(-0.1), '-10 pts');
    assert.equal(formatPoints(0.00001), '±0 pts');
    assert.equal(formatRelativeChange(0.123), '+12%');
    assert.equal(formatRelativeChange(-0.004), '-0.4%');
    assert.equal(formatRelativeChange(0), '±0%');
    assert.equal(formatRelativeChange(null), '—');
  });

  test('durations in ms and s', () => {
    assert.equal(formatMs(850.4), '850 ms');
    assert.equal(formatMs(999.7), '1.00 s');
    assert.equal(formatMs(1250), '1.25 s');
    assert.equal(formatMs(12_345), '12.3 s');
    assert.equal(formatMs(245_000), '4m 05s');
    assert.equal(formatMs(null), '—');
  });

  test('the total cost adds the judge, unless the model has no price', () => {
    assert.equal(totalCostUsd(aSummary({ costUsd: 0.5, judgeCostUsd: 0.25 })), 0.75);
    assert.equal(totalCostUsd(aSummary({ costUsd: 0.5, judgeCostUsd: null })), 0.5);
    assert.equal(totalCostUsd(aSummary({ costUsd: null, judgeCostUsd: 0.25 })), null);
  });

  test('one line cuts long text with an ellipsis', () => {
    assert.equal(oneLine('a\n  b\tc', 10), 'a b c');
    assert.equal(oneLine('abcdefghijkl', 6), 'abcde…');
  });
});

/** A small RFC 4180 reader, strict about line breaks, as a spreadsheet reads a file. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\r' || ch === '\n') {
      // Outside quotes any line break ends the record, as spreadsheets read it.
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      if (ch === '\r' && text[i + 1] === '\n') i++;
    } else field += ch;
  }
  assert.equal(field, '', 'the CSV ends with a line end');
  return rows;
}

describe('CSV', () => {
  const run = aRun({
    criteria: ['contains', 'judge'],
    cases: [
      aCase({
        index: 0,
        id: 'refund, polite',
        vars: { q: 'He said "hi"' },
        output: 'line one\nline two, with "quotes"',
        verdicts: [
          { name: 'contains', pass: true, score: 1, reason: 'ok' },
          { name: 'judge', pass: true, score: 0.8, reason: 'good, "clear"' },
        ],
      }),
      aCase({
        index: 1,
        repeat: 2,
        status: 'errored',
        output: null,
        error: 'HTTP 500',
        verdicts: [{ name: 'judge', pass: false, score: 0, reason: 'timeout', errored: true }],
        tokens: null,
        costUsd: null,
        latencyMs: null,
        ttftMs: null,
      }),
      aCase({ index: 2, output: '=HYPERLINK("http://evil")' }),
      aCase({ index: 3, output: 'first\nsecond', id: 'plain' }),
    ],
  });
  const csv = evalCasesToCsv(run);
  const rows = parseCsv(csv);
  const header = rows[0]!;
  const col = (name: string) => {
    const i = header.indexOf(name);
    assert.ok(i >= 0, `no column ${name} in ${header.join(',')}`);
    return i;
  };

  test('one header and one line per case, every line as wide as the header', () => {
    assert.equal(rows.length, 5);
    assert.ok(rows.every((r) => r.length === header.length));
    assert.ok(csv.endsWith('\r\n'));
    assert.deepEqual(header.slice(0, 7), [
      'index',
      'id',
      'repeat',
      'status',
      'vars',
      'output',
      'error',
    ]);
  });

  test('commas, quotes and newlines survive the round trip', () => {
    assert.equal(rows[4]![col('output')], 'first\nsecond', 'a newline alone is quoted too');
    const first = rows[1]!;
    assert.equal(first[col('id')], 'refund, polite');
    assert.equal(first[col('output')], 'line one\nline two, with "quotes"');
    assert.deepEqual(JSON.parse(first[col('vars')]!), { q: 'He said "hi"' });
    assert.equal(first[col('judge reason')], 'good, "clear"');
    assert.equal(first[col('judge score')], '0.8');
    assert.equal(first[col('judge pass')], 'pass');
  });

  test('a case without verdicts, tokens or price leaves those cells empty', () => {
    const second = rows[2]!;
    assert.equal(second[col('index')], '1');
    assert.equal(second[col('repeat')], '2');
    assert.equal(second[col('status')], 'errored');
    assert.equal(second[col('error')], 'HTTP 500');
    assert.equal(second[col('contains pass')], '');
    assert.equal(second[col('judge pass')], 'error');
    assert.equal(second[col('cost_usd')], '');
    assert.equal(second[col('tokens_in')], '');
    assert.equal(second[col('latency_ms')], '');
    assert.equal(rows[1]![col('cost_usd')], '0.000012');
  });

  test('output that a spreadsheet would run as a formula is defused', () => {
    assert.equal(rows[3]![col('output')], `'=HYPERLINK("http://evil")`);
  });
});

describe('Markdown', () => {
  test('the summary has the counts, the criteria, the cost and the failing cases', () => {
    const run = aRun({
      cases: [aCase({ index: 0 }), aCase({ index: 1, status: 'failed', id: 'a|b', output: 'x' })],
      summary: aSummary({ costUsd: 0.000012, judgeCostUsd: 0.000003 }),
      comparison: {
        previousRunId: 'prev1234',
        passRateChange: -0.5,
        flipped: [{ index: 1, repeat: 0, from: 'passed', to: 'failed' }],
        outputTokensChange: 0.4,
        costChange: 0.4,
        latencyP50Change: -0.1,
        costRegression: true,
      },
    });
    const md = evalRunToMarkdown(run);
    assert.match(md, /^### Eval support bot: 50% passed$/m);
    assert.match(md, /1 passed, 1 failed, 0 errored of 2\./);
    assert.match(md, /^\| contains \| 1 \| 1 \| 0 \|$/m);
    assert.match(md, /Cost \$0\.000015 \(judge \$0\.000003\)\./);
    assert.match(md, /pass rate -50 pts, 1 case flipped, cost per answer \+40%, latency p50 -10%/);
    assert.match(md, /\*\*Cost regression\*\*/);
    assert.match(md, /^\| 2 \| a\\\|b \| failed \| contains \| contains: missing "apology" \|$/m);
  });

  test('no price reads as unknown, and side by side adds both runs', () => {
    const here = aRun({
      cases: [aCase({ index: 0, status: 'failed' })],
      summary: aSummary({ costUsd: null, passRate: 0 }),
    });
    const there = aRun({
      runId: 'other-run',
      prompt: { label: 'support@2', name: 'support', version: 2 },
      cases: [aCase({ index: 0 })],
      summary: aSummary({ passRate: 1 }),
    });
    const md = evalRunToMarkdown(here, there);
    assert.match(md, /Cost unknown: no price for `gpt-4o-mini`\./);
    assert.match(md, /Side by side with `support@2`.*: 1 case changed status\./);
    assert.match(md, /^\| Pass rate \| 0% \| 100% \| -100 pts \|$/m);
    assert.match(md, /^\| Cost \| — \| \$0\.000024 \| — \|$/m);
  });

  test('side-by-side figures measure the change from the other run', () => {
    const here = aRun({
      cases: [],
      summary: aSummary({ passRate: 0.8, costUsd: 1.5, latencyMs: { p50: 500, p95: 800 } }),
    });
    const there = aRun({
      cases: [],
      summary: aSummary({ passRate: 0.6, costUsd: 1, latencyMs: { p50: 1000, p95: 800 } }),
    });
    const figures = new Map(sideBySideFigures(here, there).map((f) => [f.label, f]));
    assert.equal(figures.get('Pass rate')!.change, '+20 pts');
    assert.equal(figures.get('Cost')!.change, '+50%');
    assert.equal(figures.get('Latency p50')!.change, '-50%');
    assert.equal(figures.get('Latency p95')!.change, '±0%');
  });

  test('export names carry no path separators', () => {
    const run = aRun({ cases: [], suite: '../etc/passwd: a/b' });
    const name = exportFileName(run, 'csv');
    assert.doesNotMatch(name, /[/\\]/);
    assert.match(name, /\.csv$/);
  });
});
