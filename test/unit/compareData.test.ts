// What the compare view is sent: run summaries and metric histories decimated by
// the store, a zoomed range in full detail, and only the new points of a live run.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadCompareRuns, metricKeysOf } from '../../src/core/tracking/compare.ts';
import { Tracking } from '../../src/core/tracking/tracking.ts';
import { removeDir, tempDir } from './helpers.ts';

describe('compare data from the store', () => {
  let dir: string;
  let t: Tracking;
  let runId: string;
  const start = 1_700_000_000_000;

  before(async () => {
    dir = tempDir();
    t = await Tracking.open({ dir, watch: false });
    const run = await t.createRun({ runName: 'long', startTime: start, captureGit: false });
    runId = run.runId;
    const points = [];
    for (let step = 0; step < 10_000; step++) {
      // A smooth decline with one spike that decimation must keep.
      const value = step === 7_777 ? 50 : 1 / (1 + step / 100);
      points.push({ key: 'loss', value, step, timestamp: start + step * 10 });
    }
    points.push({ key: 'acc', value: NaN, step: 0, timestamp: start });
    points.push({ key: 'acc', value: 0.5, step: 1, timestamp: start + 10 });
    await t.logMetrics(runId, points);
    await t.logBatch(runId, { params: { lr: '0.1' } });
  });

  after(async () => {
    await t.close();
    removeDir(dir);
  });

  test('a long history is decimated to the budget, keeping its ends and its spike', () => {
    const s = t.metricSeries(runId, 'loss', { maxPoints: 400 });
    assert.equal(s.total, 10_000);
    assert.ok(s.step.length <= 400 && s.step.length > 300, String(s.step.length));
    assert.equal(s.step[0], 0);
    assert.equal(s.step[s.step.length - 1], 9_999);
    assert.ok(s.value.includes(50), 'the spike at step 7777 is kept');
    assert.equal(s.step.length, s.time.length);
    assert.equal(s.step.length, s.value.length);
    for (let i = 1; i < s.step.length; i++) assert.ok(s.step[i]! > s.step[i - 1]!);
    // The time column belongs to the same points.
    for (let i = 0; i < s.step.length; i++) assert.equal(s.time[i], start + s.step[i]! * 10);
  });

  test('a zoomed range has the full detail of that range', () => {
    const s = t.metricSeries(runId, 'loss', {
      maxPoints: 400,
      range: { axis: 'step', from: 7_700, to: 7_800 },
    });
    assert.equal(s.total, 101);
    assert.deepEqual(
      [...s.step],
      Array.from({ length: 101 }, (_, i) => 7_700 + i),
    );
    // By wall time and by time since the run started, the same points.
    const byTime = t.metricSeries(runId, 'loss', {
      maxPoints: 400,
      range: { axis: 'time', from: start + 77_000, to: start + 78_000 },
    });
    assert.deepEqual([...byTime.step], [...s.step]);
    const relative = t.metricSeries(runId, 'loss', {
      maxPoints: 400,
      range: { axis: 'relative', from: 77_000, to: 78_000 },
    });
    assert.deepEqual([...relative.step], [...s.step]);
  });

  test('a live update reads only the points after the last step sent', () => {
    const s = t.metricSeries(runId, 'loss', { maxPoints: 400, afterStep: 9_997 });
    assert.deepEqual([...s.step], [9_998, 9_999]);
    assert.equal(t.metricSeries(runId, 'loss', { maxPoints: 400, afterStep: 9_999 }).total, 0);
  });

  test('NaN travels as NaN (a gap), not as null or 0', () => {
    const s = t.metricSeries(runId, 'acc', { maxPoints: 400 });
    assert.ok(Number.isNaN(s.value[0]));
    assert.equal(s.value[1], 0.5);
  });

  test('summaries of the runs that exist, and the ids that do not', () => {
    const { runs, missing } = loadCompareRuns(t, [runId, 'no-such-run']);
    assert.deepEqual(missing, ['no-such-run']);
    assert.equal(runs.length, 1);
    const r = runs[0]!;
    assert.equal(r.runName, 'long');
    assert.equal(r.params.lr, '0.1');
    assert.equal(r.metrics.loss?.count, 10_000);
    assert.equal(r.metrics.loss?.max, 50);
    assert.equal(r.metrics.acc?.last, 0.5);
    assert.deepEqual(metricKeysOf(runs, 'loss'), ['loss', 'acc']);
    assert.deepEqual(metricKeysOf(runs), ['acc', 'loss']);
  });
});
