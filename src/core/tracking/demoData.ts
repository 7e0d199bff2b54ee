// Demo data for an empty store ("Create Demo Data" in the welcome view): a small
// hyperparameter sweep with nested runs, metric curves, a dataset, an artifact and
// checkpoints, so every part of the workbench has something to show.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Tracking } from './tracking.ts';

export interface DemoProgress {
  (message: string, fraction: number): void;
}

function seeded(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}

/** Creates the experiment "demo-sweep" and returns its id. */
export async function createDemoData(
  tracking: Tracking,
  options: { signal?: AbortSignal; onProgress?: DemoProgress; now?: number } = {},
): Promise<string> {
  const now = options.now ?? Date.now();
  const rand = seeded(42);
  const dataDir = path.join(tracking.store.dir, 'demo-data');
  fs.mkdirSync(dataDir, { recursive: true });
  const dataFile = path.join(dataDir, 'train.csv');
  const rows = ['x1,x2,label'];
  for (let i = 0; i < 200; i++) rows.push(`${rand().toFixed(4)},${rand().toFixed(4)},${i % 2}`);
  fs.writeFileSync(dataFile, rows.join('\n') + '\n');

  const experiment = await tracking.getOrCreateExperiment('demo-sweep');
  const experimentId = experiment.experimentId;
  const parent = await tracking.createRun({
    experimentId,
    runName: 'lr-sweep',
    startTime: now - 3_600_000,
    tags: { purpose: 'demo', sweep: 'lr' },
    captureGit: false,
  });
  const rates = [0.001, 0.01, 0.1, 0.3];
  for (const [i, lr] of rates.entries()) {
    options.signal?.throwIfAborted();
    options.onProgress?.(`run lr=${lr}`, i / rates.length);
    const start = now - 3_600_000 + i * 600_000;
    const run = await tracking.createRun({
      experimentId,
      runName: `lr-${lr}`,
      parentRunId: parent.runId,
      startTime: start,
      tags: { purpose: 'demo', model: 'mlp' },
      captureGit: false,
    });
    await tracking.logBatch(run.runId, {
      params: { lr: String(lr), batch_size: '32', epochs: '50', optimizer: 'adam' },
    });
    await tracking.logDataset(run.runId, dataFile, { name: 'train', context: 'train' });
    const speed = Math.min(1, lr * 20);
    const metrics = [];
    for (let step = 0; step < 50; step++) {
      const progress = 1 - Math.exp(-speed * (step + 1) * 0.15);
      const noise = (rand() - 0.5) * 0.03;
      const loss = 1.2 * (1 - progress) + 0.15 + noise + (lr > 0.2 ? 0.1 * Math.sin(step) : 0);
      const acc = 0.5 + 0.45 * progress - noise;
      const timestamp = start + step * 10_000;
      metrics.push(
        { key: 'loss', value: loss, step, timestamp },
        { key: 'accuracy', value: acc, step, timestamp },
        { key: 'val_loss', value: loss + 0.05 + Math.abs(noise), step, timestamp },
        { key: 'val_accuracy', value: acc - 0.03, step, timestamp },
      );
    }
    await tracking.logMetrics(run.runId, metrics);
    for (const step of [19, 39, 49]) {
      const file = path.join(dataDir, `checkpoint-${step}.json`);
      fs.writeFileSync(file, JSON.stringify({ lr, step }));
      await tracking.logCheckpoint(run.runId, {
        step,
        artifactPath: 'checkpoints',
        localPath: file,
      });
      fs.rmSync(file);
    }
    const model = path.join(dataDir, 'model.json');
    fs.writeFileSync(model, JSON.stringify({ kind: 'mlp', lr, layers: [2, 16, 1] }, null, 2));
    tracking.logArtifact(run.runId, model, 'model');
    fs.rmSync(model);
    await tracking.endRun(run.runId, lr > 0.2 ? 'FAILED' : 'FINISHED', start + 500_000);
  }
  await tracking.setNote(parent.runId, 'Learning-rate sweep created as demo data.');
  await tracking.endRun(parent.runId, 'FINISHED', now - 3_600_000 + rates.length * 600_000);
  options.onProgress?.('done', 1);
  return experimentId;
}
