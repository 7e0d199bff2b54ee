// Compare Runs in the real VS Code host (code-server + headless chromium): 50 runs
// x 5 metrics x 20,000 steps, and the same view for 5 runs to show how the cost
// grows. Reports time from the command to the first complete paint (every chart
// drawn: the page reports it after two animation frames, the host logs it), the
// host's read + decimation time, and the bytes posted to the webview.
//   npm run bench:compare        (packages first; installs the host if needed)

import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { runCommand } from '../test/e2e/host/browser.mjs';
import { logText, waitForLine } from '../test/e2e/host/log.mjs';
import { startSession } from '../test/e2e/host/session.mjs';
import { contextMenu, expand, openMlops, row } from '../test/e2e/host/tree.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { Tracking } = createRequire(import.meta.url)(path.join(repo, 'dist', 'tracking.js'));
const vsix = path.join(repo, 'dist', 'mlops-workbench.vsix');

const STEPS = 20_000;
const METRICS = ['loss', 'val_loss', 'accuracy', 'val_accuracy', 'lr'];

async function seed(ws) {
  const t = await Tracking.open({ dir: path.join(ws, '.mlops'), watch: false, durability: 'os' });
  const started = Date.now();
  for (const [name, runs] of [
    ['bench-50', 50],
    ['bench-5', 5],
  ]) {
    const experimentId = await t.createExperiment(name);
    for (let r = 0; r < runs; r++) {
      const run = await t.createRun({
        experimentId,
        runName: `${name}-run-${String(r).padStart(2, '0')}`,
        captureGit: false,
        startTime: 1_700_000_000_000 + r * 1000,
      });
      await t.logBatch(run.runId, { params: { lr: String(0.001 * (r + 1)), seed: String(r) } });
      const batch = [];
      for (let step = 0; step < STEPS; step++) {
        const ts = 1_700_000_000_000 + r * 1000 + step * 50;
        const noise = Math.sin(step * 12.9898 + r * 78.233) * 0.05;
        const decay = Math.exp(-step / (2000 + r * 50));
        batch.push(
          { key: 'loss', value: decay + noise, step, timestamp: ts },
          { key: 'val_loss', value: decay * 1.1 + noise, step, timestamp: ts },
          { key: 'accuracy', value: 1 - decay / 2 + noise / 10, step, timestamp: ts },
          { key: 'val_accuracy', value: 1 - decay / 1.8 + noise / 10, step, timestamp: ts },
          { key: 'lr', value: 0.001 * (r + 1) * decay, step, timestamp: ts },
        );
        if (batch.length >= 5000) await t.logMetrics(run.runId, batch.splice(0));
      }
      if (batch.length) await t.logMetrics(run.runId, batch.splice(0));
      await t.endRun(run.runId);
    }
  }
  await t.close();
  return { seedS: (Date.now() - started) / 1000 };
}

/** Opens "Compare All Matching Runs" on an experiment and measures until every chart is drawn. */
async function measure(session, experiment, runs) {
  const { page, stateDir } = session;
  const offset = logText(stateDir).length;
  const t0 = Date.now();
  await contextMenu(page, experiment, 'Compare All Matching Runs');
  const painted = await waitForLine(
    stateDir,
    /\[compare\] comparison painted (\d+) ms after the command: (\d+) runs, (\d+) charts, (\d+) points, (\d+) bytes sent/,
    120_000,
    offset,
  );
  const browserMs = Date.now() - t0;
  const sent = await waitForLine(
    stateDir,
    /\[compare\] sent (\d+) runs, (\d+) metrics: (\d+) of (\d+) points in (\d+) ms, (\d+) bytes/,
    10_000,
    offset,
  );
  // Close the panel so the next measurement starts from the same state.
  await runCommand(page, 'View: Close All Editors');
  await page.waitForTimeout(500);
  return {
    experiment,
    runs,
    paintMs: Number(painted[1]),
    browserMs,
    charts: Number(painted[3]),
    pointsDrawn: Number(painted[4]),
    bytes: Number(painted[5]),
    hostReadMs: Number(sent[5]),
    pointsStored: Number(sent[4]),
  };
}

const session = await startSession({
  name: 'bench-compare',
  prepare: seed,
  vsixPaths: [vsix],
  timeoutMs: 180_000,
});
const results = [];
try {
  await openMlops(session.page);
  await row(session.page, 'bench-50').first().waitFor({ timeout: 60_000 });
  // Warm-up: the first compare loads the webview bundle into the browser's cache.
  await expand(session.page, 'bench-5');
  await measure(session, 'bench-5', 5);
  for (let round = 0; round < 3; round++) {
    results.push(await measure(session, 'bench-5', 5));
    results.push(await measure(session, 'bench-50', 50));
  }
} finally {
  await session.close();
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `Compare Runs, ${STEPS.toLocaleString('en-US')} steps x ${METRICS.length} metrics per run; seeded in ${session.prepared.seedS} s; ${new Date().toISOString()}`,
);
for (const runs of [5, 50]) {
  const rs = results.filter((r) => r.runs === runs);
  const r = rs[0];
  console.log(
    `${runs} runs (${r.pointsStored.toLocaleString('en-US')} points stored): command -> first complete paint ${rs.map((x) => x.paintMs).join(' / ')} ms (median ${median(rs.map((x) => x.paintMs))}; goal < 1500 for 50 runs); ` +
      `click -> painted seen by the bench ${median(rs.map((x) => x.browserMs))} ms; host read + decimate ${median(rs.map((x) => x.hostReadMs))} ms; ` +
      `${r.charts} charts, ${r.pointsDrawn.toLocaleString('en-US')} points drawn; ${(r.bytes / 1e6).toFixed(2)} MB sent (${(r.bytes / r.pointsDrawn).toFixed(1)} bytes per drawn point)`,
  );
}
const small = median(results.filter((r) => r.runs === 5).map((r) => r.paintMs));
const big = median(results.filter((r) => r.runs === 50).map((r) => r.paintMs));
console.log(`50 runs / 5 runs: ${(big / small).toFixed(2)}x the time for 10x the runs`);
