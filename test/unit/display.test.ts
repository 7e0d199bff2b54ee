import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { createDemoData } from '../../src/core/tracking/demoData.ts';
import { Tracking } from '../../src/core/tracking/tracking.ts';
import { renderRunMarkdown } from '../../src/extension/runReport.ts';
import {
  formatAge,
  formatMetricValue,
  keyMetricOf,
  lowerIsBetter,
} from '../../src/shared/format.ts';
import { removeDir, tempDir } from './helpers.ts';

const dirs: string[] = [];
after(() => dirs.forEach(removeDir));

describe('display helpers', () => {
  test('metric values: integers, 6 significant digits, exponents, NaN and infinities', () => {
    assert.equal(formatMetricValue(3), '3');
    assert.equal(formatMetricValue(0.123456789), '0.123457');
    assert.equal(formatMetricValue(0.00001234), '1.2340e-5');
    assert.equal(formatMetricValue(12345678.9), '1.2346e+7');
    assert.equal(formatMetricValue(NaN), 'NaN');
    assert.equal(formatMetricValue(-Infinity), '-Infinity');
    assert.equal(formatMetricValue(null), '');
  });

  test('ages', () => {
    const now = 1_000_000_000;
    assert.equal(formatAge(now - 5_000, now), '5s ago');
    assert.equal(formatAge(now - 120_000, now), '2m ago');
    assert.equal(formatAge(now - 3 * 3_600_000, now), '3h ago');
    assert.equal(formatAge(now - 2 * 86_400_000, now), '2d ago');
  });

  test('key metric: the setting when the run has it, else the usual suspects, else the first', () => {
    assert.equal(keyMetricOf(['loss', 'f1', 'zeta'], 'zeta'), 'zeta');
    assert.equal(keyMetricOf(['loss', 'f1'], 'missing'), 'f1');
    assert.equal(keyMetricOf(['loss', 'val_accuracy'], ''), 'val_accuracy');
    assert.equal(keyMetricOf(['b', 'a'], ''), 'a');
    assert.equal(keyMetricOf([], ''), undefined);
  });

  test('direction: losses and errors are lower-is-better', () => {
    assert.ok(lowerIsBetter('val_loss'));
    assert.ok(lowerIsBetter('rmse'));
    assert.ok(!lowerIsBetter('accuracy'));
    assert.ok(!lowerIsBetter('f1'));
  });
});

describe('demo data and the run report', () => {
  test('demo data: a nested sweep with curves, datasets, artifacts and checkpoints; the report shows them', async () => {
    const root = tempDir();
    dirs.push(root);
    const t = await Tracking.open({ dir: path.join(root, '.mlops'), watch: false });
    const progress: number[] = [];
    const expId = await createDemoData(t, {
      onProgress: (_m, f) => progress.push(f),
      now: 1_800_000_000_000,
    });
    assert.equal(progress.at(-1), 1);
    const top = t.searchRuns({ experimentIds: [expId], parentRunId: null }).items;
    assert.deepEqual(
      top.map((r) => r.info.runName),
      ['lr-sweep'],
    );
    const children = t.searchRuns({ parentRunId: top[0]!.info.runId }).items;
    assert.equal(children.length, 4);
    const child = children.find((r) => r.info.runName === 'lr-0.01')!;
    assert.equal(child.metrics.loss?.count, 50);
    assert.equal(child.datasets[0]?.rowCount, 200);
    assert.deepEqual(
      t.listArtifacts(child.info.runId).map((a) => a.path),
      ['checkpoints', 'model'],
    );
    assert.equal(t.listCheckpoints(child.info.runId).length, 3);
    const md = renderRunMarkdown(t, child.info.runId);
    assert.match(md, /^# Run lr-0\.01/);
    assert.match(md, /\| Experiment \| demo-sweep \(\d+\) \|/);
    assert.match(md, /## Params[\s\S]*\| lr \| 0\.01 \|/);
    assert.match(md, /## Metrics[\s\S]*\| loss \| [\d.]+ \| [\d.]+ \| [\d.]+ \| 49 \| 50 \|/);
    assert.match(md, /## Datasets[\s\S]*\| train \| train \| 200 \|/);
    assert.match(md, /## Artifacts[\s\S]*- model\//);
    assert.match(md, /## Checkpoints[\s\S]*\| 49 \| checkpoints\/checkpoint-49\.json \|/);
    const cancelled = new AbortController();
    cancelled.abort();
    await assert.rejects(createDemoData(t, { signal: cancelled.signal }), /abort/i);
    await t.close();
  });
});
