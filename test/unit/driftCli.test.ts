// `mlops drift`, `mlops drift baseline` and `mlops drift baselines` in-process, on
// temporary files and a temporary store: the --json shape, exit codes (0 none, 1 drift
// or --fail-on possible, 2 errors), malformed rows, recording in the Monitoring
// experiment (or not, with --no-record), and checks against a stored baseline.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { main } from '../../src/cli/main.ts';
import {
  BASELINE_TAG,
  MONITORING_EXPERIMENT,
  VERDICT_TAG,
  loadDriftReport,
  metricKey,
} from '../../src/core/drift/monitoring.ts';
import { Tracking } from '../../src/core/tracking/tracking.ts';
import { removeDir, tempDir } from './helpers.ts';

const dirs: string[] = [];
after(() => dirs.forEach(removeDir));

interface Result {
  code: number;
  out: string;
  err: string;
}

function workspace(): { ws: string; store: string } {
  const ws = tempDir('mlops-drift-cli-');
  dirs.push(ws);
  return { ws, store: path.join(ws, 'store') };
}

async function mlops(ws: string, store: string, args: string[]): Promise<Result> {
  let out = '';
  let err = '';
  const code = await main(args, {
    out: (t) => (out += t),
    err: (t) => (err += t),
    env: { MLOPS_STORE: store },
    cwd: ws,
  });
  return { code, out, err };
}

/** Runs with --json and parses stdout, which must be exactly one JSON value. */
async function json(
  ws: string,
  store: string,
  args: string[],
): Promise<{ code: number; value: Record<string, unknown>; err: string }> {
  const r = await mlops(ws, store, [...args, '--json']);
  assert.ok(r.out.endsWith('}\n'), `stdout: ${r.out}\nstderr: ${r.err}`);
  const value = JSON.parse(r.out) as unknown;
  assert.ok(value && typeof value === 'object' && !Array.isArray(value), 'one JSON object');
  return { code: r.code, value: value as Record<string, unknown>, err: r.err };
}

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normals(n: number, mean: number, seed: number): number[] {
  const u = rng(seed);
  return Array.from({ length: n }, () => {
    const z = Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
    return Math.round((mean + z) * 1e4) / 1e4;
  });
}

function csv(ws: string, name: string, cols: Record<string, (string | number)[]>): string {
  const names = Object.keys(cols);
  const n = cols[names[0]!]!.length;
  const lines = [names.join(',')];
  for (let r = 0; r < n; r++) lines.push(names.map((c) => String(cols[c]![r])).join(','));
  fs.writeFileSync(path.join(ws, name), `${lines.join('\n')}\n`);
  return name;
}

const cycle = <T>(n: number, values: T[]): T[] =>
  Array.from({ length: n }, (_, i) => values[i % values.length]!);

interface JsonColumn {
  column: string;
  kind: string;
  test: string;
  statistic: number | null;
  pValue: number | null;
  threshold: number;
  drift: boolean;
  verdict: string;
  bins: number[] | null;
  error?: string;
}

const columnsOf = (v: Record<string, unknown>): JsonColumn[] => v.columns as JsonColumn[];
const columnOf = (v: Record<string, unknown>, name: string): JsonColumn => {
  const c = columnsOf(v).find((x) => x.column === name);
  assert.ok(c, `no column ${name}`);
  return c;
};

/** Monitoring runs in the store, newest first (opened and closed for each look). */
async function monitoringRuns(store: string) {
  const t = await Tracking.open({ dir: store, watch: false });
  try {
    const exp = t.getExperimentByName(MONITORING_EXPERIMENT);
    if (!exp) return [];
    return t.searchRuns({
      experimentIds: [exp.experimentId],
      orderBy: ['attributes.start_time DESC'],
    }).items;
  } finally {
    await t.close();
  }
}

// Shared data: a reference, an identical copy, a drifted one and a slightly moved one.
const N = 300;
const REF = { x: normals(N, 0, 1), c: cycle(N, ['a', 'b', 'c']) };
const DRIFTED = { x: normals(N, 3, 2), c: cycle(N, ['a', 'a', 'a', 'b']) };
const MOVED = { x: normals(N, 0.2, 3), c: REF.c };

function writeData(ws: string): void {
  csv(ws, 'ref.csv', REF);
  csv(ws, 'same.csv', REF);
  csv(ws, 'drift.csv', DRIFTED);
  csv(ws, 'moved.csv', MOVED);
}

describe('mlops drift', () => {
  const { ws, store } = workspace();
  before(() => writeData(ws));

  test('--json prints one object of the documented shape', async () => {
    const r = await json(ws, store, ['drift', 'ref.csv', 'drift.csv', '--no-record']);
    assert.equal(r.code, 1, r.err);
    assert.equal(r.err, '');
    assert.deepEqual(Object.keys(r.value).sort(), [
      'columns',
      'current',
      'datasetDrift',
      'datasetVerdict',
      'driftedShare',
      'missingColumns',
      'reference',
      'runId',
    ]);
    const cols = columnsOf(r.value);
    assert.deepEqual(
      cols.map((c) => c.column),
      ['x', 'c'],
    );
    for (const c of cols) {
      assert.deepEqual(Object.keys(c), [
        'column',
        'kind',
        'test',
        'statistic',
        'pValue',
        'threshold',
        'drift',
        'verdict',
        'bins',
      ]);
      assert.equal(typeof c.statistic, 'number');
      assert.equal(typeof c.drift, 'boolean');
    }
    const x = columnOf(r.value, 'x');
    assert.equal(x.kind, 'numerical');
    assert.equal(x.test, 'ks');
    assert.equal(x.threshold, 0.05);
    assert.equal(typeof x.pValue, 'number');
    assert.ok(x.pValue! < 0.05);
    assert.equal(x.drift, true);
    assert.equal(x.verdict, 'drift');
    assert.equal(x.bins, null);
    assert.equal(columnOf(r.value, 'c').kind, 'categorical');
    assert.equal(columnOf(r.value, 'c').test, 'chi2');
    assert.equal(r.value.driftedShare, 1);
    assert.equal(r.value.datasetDrift, true);
    assert.equal(r.value.datasetVerdict, 'drift');
    assert.deepEqual(r.value.missingColumns, []);
    assert.equal(r.value.runId, null);
    const sha = (f: string) =>
      createHash('sha256')
        .update(fs.readFileSync(path.join(ws, f)))
        .digest('hex');
    assert.deepEqual(r.value.reference, {
      source: 'ref.csv',
      rows: N,
      digest: sha('ref.csv'),
      baseline: null,
    });
    assert.deepEqual(r.value.current, { source: 'drift.csv', rows: N, digest: sha('drift.csv') });
  });

  test('distances have a null p-value; binned tests report their edges', async () => {
    const r = await json(ws, store, [
      'drift',
      'ref.csv',
      'moved.csv',
      '--test',
      'x=psi',
      '--test',
      'c=js',
      '--bins',
      '4',
      '--no-record',
    ]);
    const x = columnOf(r.value, 'x');
    assert.equal(x.test, 'psi');
    assert.equal(x.pValue, null);
    assert.equal(x.threshold, 0.25);
    assert.ok(Array.isArray(x.bins) && x.bins.length === 5, `bins ${JSON.stringify(x.bins)}`);
    const c = columnOf(r.value, 'c');
    assert.equal(c.test, 'js');
    assert.equal(c.pValue, null);
    assert.equal(c.statistic, 0, 'the same categories in the same shares');
    assert.equal(c.bins, null);

    const ew = await json(ws, store, [
      'drift',
      'ref.csv',
      'moved.csv',
      '--test',
      'psi',
      '--bins',
      '4',
      '--binning',
      'equal-width',
      '--no-record',
    ]);
    const edges = columnOf(ew.value, 'x').bins!;
    const min = Math.min(...REF.x);
    const max = Math.max(...REF.x);
    assert.equal(edges[0], min);
    assert.equal(edges[4], max);
    assert.ok(Math.abs(edges[1]! - (min + (max - min) / 4)) < 1e-12);
  });

  test('exit codes: 0 without drift, 1 on drift, 1 with --fail-on possible on possible drift', async () => {
    const same = await json(ws, store, ['drift', 'ref.csv', 'same.csv', '--no-record']);
    assert.equal(same.code, 0, same.err);
    assert.equal(same.value.datasetVerdict, 'none');
    assert.equal(columnOf(same.value, 'x').statistic, 0);
    assert.equal(columnOf(same.value, 'x').pValue, 1);

    const moved = await json(ws, store, ['drift', 'ref.csv', 'moved.csv', '--no-record']);
    const p = columnOf(moved.value, 'x').pValue!;
    assert.ok(p > 0 && p < 0.5, `p ${p}`);
    // With the threshold at p itself, x is possible drift (p < 2 x threshold) and c none:
    // 1 of 2 columns at least possible reaches the 0.5 share.
    const args = ['drift', 'ref.csv', 'moved.csv', '--threshold', `x=${p}`, '--no-record'];
    const possible = await json(ws, store, args);
    assert.equal(columnOf(possible.value, 'x').verdict, 'possible');
    assert.equal(columnOf(possible.value, 'x').drift, false);
    assert.equal(possible.value.datasetDrift, false);
    assert.equal(possible.value.datasetVerdict, 'possible');
    assert.equal(possible.code, 0, 'possible drift does not fail by default');
    assert.equal((await json(ws, store, [...args, '--fail-on', 'possible'])).code, 1);
    assert.equal((await json(ws, store, [...args, '--fail-on', 'drift'])).code, 0);
    // A looser drift share turns the same column into dataset drift.
    const share = await json(ws, store, [
      'drift',
      'ref.csv',
      'moved.csv',
      '--threshold',
      `x=${p * 1.01}`,
      '--drift-share',
      '0.5',
      '--no-record',
    ]);
    assert.equal(share.value.driftedShare, 0.5);
    assert.equal(share.code, 1);
    const strict = await json(ws, store, [
      'drift',
      'ref.csv',
      'moved.csv',
      '--threshold',
      `x=${p * 1.01}`,
      '--drift-share',
      '0.75',
      '--no-record',
    ]);
    assert.equal(strict.value.datasetDrift, false);
    assert.equal(strict.code, 0);
  });

  test('the human-readable report lists every column and the verdict', async () => {
    const r = await mlops(ws, store, ['drift', 'ref.csv', 'drift.csv', '--no-record']);
    assert.equal(r.code, 1);
    assert.match(r.out, /^Drift: drift\.csv \(300 rows\) against ref\.csv \(300 rows\)\n/);
    assert.match(r.out, /2 of 2 columns drifted \(share 1\.00, dataset drift at 0\.5\): DRIFT/);
    assert.match(r.out, /\ncolumn\s+kind\s+test\s+statistic\s+p-value\s+threshold\s+verdict\n/);
    assert.match(r.out, /\nx\s+numerical\s+ks\s+\S+\s+\S+\s+p < 0\.05\s+DRIFT\n/);
    assert.doesNotMatch(r.out, /Recorded as run/);
  });

  test('errors exit 2 with a message that says what is wrong', async () => {
    const cases: [string[], RegExp][] = [
      [['drift', 'ref.csv', 'nope.csv'], /nope\.csv does not exist/],
      [['drift', 'missing.csv', 'ref.csv'], /missing\.csv does not exist/],
      [
        ['drift', 'ref.csv', 'same.csv', '--test', 'foo'],
        /--test foo: the test is one of ks, psi, chi2, wasserstein, js, z/,
      ],
      [['drift', 'ref.csv', 'same.csv', '--test', 'x=foo'], /--test x=foo: the test is one of/],
      [['drift', 'ref.csv', 'same.csv', '--columns', 'x,nope'], /nope/],
      [['drift', 'ref.csv', 'same.csv', '--test', 'nope=ks'], /column nope, which is not checked/],
      [
        ['drift', 'ref.csv', 'same.csv', '--test', 'c=ks'],
        /Column c is categorical; the ks test needs a numerical column/,
      ],
      [['drift', 'ref.csv', 'same.csv', '--threshold', 'x=0'], /the threshold is a number above 0/],
      [['drift', 'ref.csv', 'same.csv', '--fail-on', 'maybe'], /--fail-on is drift or possible/],
      [
        ['drift', 'ref.csv', 'same.csv', '--drift-share', '2'],
        /--drift-share takes a number above 0 and at most 1/,
      ],
      [
        ['drift', 'ref.csv', 'same.csv', '--binning', 'log'],
        /--binning is one of quantile, equal-width, sturges/,
      ],
      [
        ['drift', 'ref.csv', 'same.csv', '--bins', '1'],
        /bins must be a whole number from 2 to 1000/,
      ],
      [['drift', 'ref.csv'], /missing <current>/],
    ];
    for (const [args, message] of cases) {
      const r = await mlops(ws, store, [...args, '--no-record', '--json']);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.out}${r.err}`);
      assert.equal(r.out, '', `${args.join(' ')}: nothing on stdout`);
      assert.match(r.err, message, args.join(' '));
      assert.doesNotMatch(r.err, /unexpected/, `${args.join(' ')}: an expected error`);
    }
  });

  test('--columns checks only the columns named', async () => {
    const r = await json(ws, store, [
      'drift',
      'ref.csv',
      'drift.csv',
      '--columns',
      'c',
      '--no-record',
    ]);
    assert.deepEqual(
      columnsOf(r.value).map((c) => c.column),
      ['c'],
    );
    assert.equal(r.value.driftedShare, 1);
  });

  test('columns missing from the current data are listed', async () => {
    csv(ws, 'only-x.csv', { x: REF.x });
    const r = await json(ws, store, ['drift', 'ref.csv', 'only-x.csv', '--no-record']);
    assert.deepEqual(r.value.missingColumns, ['c']);
    assert.deepEqual(
      columnsOf(r.value).map((c) => c.column),
      ['x'],
    );
  });

  test('a malformed row is an error naming file and line, or skipped and counted with --skip-malformed', async () => {
    const lines = fs.readFileSync(path.join(ws, 'same.csv'), 'utf8').split('\n');
    lines.splice(3, 0, '1.5,a,extra'); // line 4 of the file: three fields
    lines.splice(6, 0, 'abc,b'); // line 7: not a number in the numerical column x
    fs.writeFileSync(path.join(ws, 'bad.csv'), lines.join('\n'));
    const r = await mlops(ws, store, ['drift', 'ref.csv', 'bad.csv', '--no-record']);
    assert.equal(r.code, 2);
    assert.match(r.err, /bad\.csv, line 4: 3 fields, but the header line has 2 columns/);
    assert.match(r.err, /skip/);

    const skipped = await json(ws, store, [
      'drift',
      'ref.csv',
      'bad.csv',
      '--skip-malformed',
      '--no-record',
    ]);
    assert.equal(skipped.code, 0, skipped.err);
    const current = skipped.value.current as { rows: number; skipped?: number };
    assert.equal(current.rows, N, 'the two bad rows are not read');
    assert.equal(current.skipped, 2, 'the skipped rows are counted in the report');
    assert.equal(columnOf(skipped.value, 'x').statistic, 0, 'the remaining rows are the reference');

    const text = await mlops(ws, store, [
      'drift',
      'ref.csv',
      'bad.csv',
      '--skip-malformed',
      '--no-record',
    ]);
    assert.match(text.out, /\nbad\.csv: 2 malformed rows skipped\n/);

    // As a reference, inferred kinds make "abc" a category, not a malformed row: one skipped.
    const asRef = await json(ws, store, [
      'drift',
      'bad.csv',
      'same.csv',
      '--skip-malformed',
      '--no-record',
    ]);
    assert.equal((asRef.value.reference as { skipped?: number }).skipped, 1);
    assert.equal('skipped' in (asRef.value.current as object), false, 'no rows skipped there');
  });
});

describe('recording in the Monitoring experiment', () => {
  const { ws, store } = workspace();
  const TEXT_A = 'the quick brown fox jumps over the lazy dog';
  const TEXT_B = 'a slow green turtle walks under the tall old tree';
  before(() => {
    csv(ws, 'ref.csv', { ...REF, review: cycle(N, [TEXT_A, TEXT_B]) });
    csv(ws, 'cur.csv', { ...DRIFTED, review: cycle(N, [TEXT_A, `${TEXT_B} today`]) });
  });

  test('--no-record stores nothing: no store is even created', async () => {
    const r = await json(ws, store, ['drift', 'ref.csv', 'cur.csv', '--no-record']);
    assert.equal(r.code, 1);
    assert.equal(r.value.runId, null);
    assert.equal(fs.existsSync(store), false);
  });

  test('a check is a run with metrics per column, drifted_share, the verdict tag and the report', async () => {
    const r = await json(ws, store, ['drift', 'ref.csv', 'cur.csv']);
    assert.equal(r.code, 1, r.err);
    const runId = r.value.runId as string;
    assert.match(runId, /^[0-9a-f]{32}$/);
    const runs = await monitoringRuns(store);
    assert.equal(runs.length, 1);
    const run = runs[0]!;
    assert.equal(run.info.runId, runId);
    assert.equal(run.info.status, 'FINISHED');
    assert.equal(run.tags[VERDICT_TAG], 'drift');
    assert.equal(run.metrics.drifted_share?.value, r.value.driftedShare);
    assert.equal(run.metrics.drifted_columns?.value, 3);
    assert.equal(run.metrics.checked_columns?.value, 3);
    const cols = columnsOf(r.value);
    assert.deepEqual(
      cols.map((c) => c.column),
      ['x', 'c', 'review (length)', 'review (out-of-vocabulary share)'],
    );
    for (const c of cols) {
      assert.equal(run.metrics[metricKey(c.column, c.test)]?.value, c.statistic, c.column);
      assert.equal(run.metrics[metricKey(c.column, 'p_value')]?.value, c.pValue!, c.column);
    }
    assert.equal(metricKey('x', 'ks'), 'drift.x.ks');
    assert.equal(metricKey('review (length)', 'ks'), 'drift.review _length_.ks');
    assert.ok(run.metrics['drift.x.ks']);
    assert.ok(run.metrics['drift.c.chi2']);
    assert.ok(run.metrics['drift.x.p_value']);
    assert.equal(run.params.reference, 'ref.csv');
    assert.equal(run.params.current, 'cur.csv');
    assert.match(run.params.reference_digest!, /^[0-9a-f]{64}$/);
    assert.deepEqual(run.datasets.map((d) => d.context).sort(), ['current', 'reference']);

    const t = await Tracking.open({ dir: store, watch: false });
    try {
      const report = loadDriftReport(t, runId);
      assert.deepEqual(
        report.columns.map((c) => [c.column, c.statistic, c.verdict]),
        cols.map((c) => [c.column, c.statistic, c.verdict]),
      );
      assert.equal(report.datasetVerdict, 'drift');
    } finally {
      await t.close();
    }

    const text = await mlops(ws, store, ['drift', 'ref.csv', 'ref.csv']);
    assert.equal(text.code, 0);
    const id = /Recorded as run ([0-9a-f]{32}) \(experiment Monitoring\)/.exec(text.out)?.[1];
    assert.ok(id, text.out);
    const after = await monitoringRuns(store);
    assert.equal(after.length, 2);
    assert.equal(after.find((x) => x.info.runId === id)?.tags[VERDICT_TAG], 'none');

    await json(ws, store, ['drift', 'ref.csv', 'cur.csv', '--no-record']);
    assert.equal((await monitoringRuns(store)).length, 2, '--no-record adds no run');
  });
});

describe('baselines', () => {
  const { ws, store } = workspace();
  before(() => writeData(ws));

  test('an unknown baseline is an error that says how to set one', async () => {
    const r = await mlops(ws, store, ['drift', 'baseline:unknown', 'same.csv', '--no-record']);
    assert.equal(r.code, 2);
    assert.equal(r.out, '');
    assert.match(
      r.err,
      /No baseline named unknown\. Set one first with .*mlops drift baseline <file>/,
    );
    const list = await json(ws, store, ['drift', 'baselines']);
    assert.deepEqual(list.value, { baselines: [] });
  });

  test('drift baseline, then baseline:name gives the statistics of the file', async () => {
    const set = await json(ws, store, ['drift', 'baseline', 'ref.csv', '--name', 'train']);
    assert.equal(set.code, 0, set.err);
    assert.equal(set.value.name, 'train');
    assert.equal(set.value.source, 'ref.csv');
    assert.equal(set.value.rows, N);
    assert.equal(set.value.columns, 2);
    const runs = await monitoringRuns(store);
    assert.equal(runs.length, 1);
    assert.equal(runs[0]!.tags[BASELINE_TAG], 'train');

    for (const cur of ['drift.csv', 'moved.csv', 'same.csv']) {
      const fromFile = await json(ws, store, ['drift', 'ref.csv', cur, '--no-record']);
      const fromBaseline = await json(ws, store, ['drift', 'baseline:train', cur, '--no-record']);
      assert.equal(fromBaseline.code, fromFile.code, cur);
      assert.deepEqual(fromBaseline.value.columns, fromFile.value.columns, cur);
      assert.equal(fromBaseline.value.datasetVerdict, fromFile.value.datasetVerdict);
      assert.deepEqual(fromBaseline.value.reference, {
        ...(fromFile.value.reference as object),
        baseline: 'train',
      });
    }
    // Overrides apply the same way.
    const o = ['--test', 'x=psi', '--bins', '5', '--no-record'];
    const f = await json(ws, store, ['drift', 'ref.csv', 'moved.csv', ...o]);
    const b = await json(ws, store, ['drift', 'baseline:train', 'moved.csv', ...o]);
    assert.deepEqual(b.value.columns, f.value.columns);
    assert.equal(columnOf(b.value, 'x').bins!.length, 6);

    // A recorded check against the baseline names it.
    const rec = await json(ws, store, ['drift', 'baseline:train', 'drift.csv']);
    assert.equal(rec.code, 1);
    const run = (await monitoringRuns(store)).find((r) => r.info.runId === rec.value.runId);
    assert.equal(run?.params.baseline, 'train');
    assert.equal(run?.tags[VERDICT_TAG], 'drift');

    const bad = await mlops(ws, store, ['drift', 'baseline:nope', 'same.csv', '--no-record']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /No baseline named nope\. Baselines: train\./);
  });

  test('drift baselines lists the newest baseline per name', async () => {
    const first = await json(ws, store, ['drift', 'baselines']);
    const list = first.value.baselines as { name: string; rows: number; runId: string }[];
    assert.deepEqual(
      list.map((b) => [b.name, b.rows]),
      [['train', N]],
    );
    csv(ws, 'small.csv', { x: REF.x.slice(0, 50), c: REF.c.slice(0, 50) });
    const again = await json(ws, store, ['drift', 'baseline', 'small.csv', '--name', 'train']);
    const other = await json(ws, store, ['drift', 'baseline', 'moved.csv']);
    assert.equal(other.value.name, 'moved.csv', 'the name defaults to the file');
    const next = (await json(ws, store, ['drift', 'baselines'])).value.baselines as {
      name: string;
      rows: number;
      runId: string;
    }[];
    assert.deepEqual(next.map((b) => [b.name, b.rows, b.runId]).sort(), [
      ['moved.csv', N, other.value.runId],
      ['train', 50, again.value.runId],
    ]);
    const text = await mlops(ws, store, ['drift', 'baselines']);
    assert.match(text.out, /^train {2}50 rows {2}[0-9a-f]{12} {2}\S+ {2}run [0-9a-f]{32}$/m);
    // Checks use the newest profile of a name.
    const check = await json(ws, store, ['drift', 'baseline:train', 'same.csv', '--no-record']);
    assert.equal((check.value.reference as { rows: number }).rows, 50);
  });
});
