// A small training script for the demo workspace: logistic regression by gradient
// descent on a synthetic two-moons-like dataset, one run per learning rate, logged
// through the workbench's Node API (dist/tracking.js, built by `npm run build`).
// Run from this folder: node train.mjs

const path = require('node:path');
const fs = require('node:fs');
const { Tracking } = require('../../dist/tracking.js');

function makeData(n, seed) {
  let s = seed;
  const rand = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const rows = [];
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    const angle = rand() * Math.PI;
    const x = Math.cos(angle) * (label ? 1 : -1) + (label ? 0.5 : -0.5) + (rand() - 0.5) * 0.6;
    const y = Math.sin(angle) * (label ? -0.5 : 0.5) + (rand() - 0.5) * 0.6;
    rows.push([x, y, label]);
  }
  return rows;
}

function writeCsv(file, rows) {
  fs.writeFileSync(
    file,
    'x,y,label\n' +
      rows.map((r) => r.map((v) => (Number.isInteger(v) ? v : v.toFixed(5))).join(',')).join('\n') +
      '\n',
  );
}

const sigmoid = (z) => 1 / (1 + Math.exp(-z));

function evaluate(w, rows) {
  let loss = 0;
  let correct = 0;
  for (const [x, y, label] of rows) {
    const p = sigmoid(w[0] * x + w[1] * y + w[2]);
    loss -= label * Math.log(p + 1e-12) + (1 - label) * Math.log(1 - p + 1e-12);
    if ((p >= 0.5 ? 1 : 0) === label) correct++;
  }
  return { loss: loss / rows.length, accuracy: correct / rows.length };
}

async function main() {
  const here = __dirname;
  const dataDir = path.join(here, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  const trainFile = path.join(dataDir, 'train.csv');
  const valFile = path.join(dataDir, 'val.csv');
  const train = makeData(400, 7);
  const val = makeData(120, 11);
  writeCsv(trainFile, train);
  writeCsv(valFile, val);

  const tracking = await Tracking.open({
    dir: path.join(here, '.mlops'),
    codeRoot: here,
    watch: false,
  });
  const experiment = await tracking.getOrCreateExperiment('moons-logreg');
  const epochs = 40;
  for (const [i, lr] of [0.01, 0.05, 0.2, 1.0].entries()) {
    const start = Date.now() - (4 - i) * 3_600_000;
    const run = await tracking.createRun({
      experimentId: experiment.experimentId,
      startTime: start,
      runName: `lr-${lr}`,
      sourceName: 'train.mjs',
      tags: { model: 'logistic-regression', sweep: 'lr' },
    });
    await tracking.logBatch(run.runId, {
      params: { lr: String(lr), epochs: String(epochs), optimizer: 'sgd', seed: String(i) },
    });
    await tracking.logDataset(run.runId, trainFile, { name: 'train', context: 'train' });
    await tracking.logDataset(run.runId, valFile, { name: 'val', context: 'eval' });
    const w = [0, 0, 0];
    for (let epoch = 0; epoch < epochs; epoch++) {
      for (const [x, y, label] of train) {
        const g = sigmoid(w[0] * x + w[1] * y + w[2]) - label;
        w[0] -= lr * g * x;
        w[1] -= lr * g * y;
        w[2] -= lr * g;
      }
      const t = evaluate(w, train);
      const v = evaluate(w, val);
      const timestamp = start + epoch * 1000;
      await tracking.logBatch(run.runId, {
        metrics: [
          { key: 'loss', value: t.loss, step: epoch, timestamp },
          { key: 'accuracy', value: t.accuracy, step: epoch, timestamp },
          { key: 'val_loss', value: v.loss, step: epoch, timestamp },
          { key: 'val_accuracy', value: v.accuracy, step: epoch, timestamp },
        ],
      });
      if (epoch % 10 === 9) {
        const file = path.join(dataDir, `weights-${epoch}.json`);
        fs.writeFileSync(file, JSON.stringify({ w, epoch }));
        await tracking.logCheckpoint(run.runId, {
          step: epoch,
          artifactPath: 'checkpoints',
          localPath: file,
        });
        fs.rmSync(file);
      }
    }
    const modelFile = path.join(dataDir, 'model.json');
    fs.writeFileSync(
      modelFile,
      JSON.stringify({ kind: 'logistic-regression', weights: w }, null, 2),
    );
    tracking.logArtifact(run.runId, modelFile, 'model');
    fs.rmSync(modelFile);
    await tracking.setNote(
      run.runId,
      `Learning rate ${lr}: final val accuracy ${evaluate(w, val).accuracy.toFixed(3)}`,
    );
    await tracking.endRun(run.runId, 'FINISHED', start + epochs * 1000);
    process.stdout.write(`logged run lr-${lr} (${run.runId})\n`);
  }
  await tracking.close();
}

main().catch((e) => {
  process.stderr.write(`train.mjs: ${e.message}\n`);
  process.exit(1);
});
