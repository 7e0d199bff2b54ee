// End-to-end: the Compare Runs webview in a real VS Code. Three seeded runs are
// selected in the Experiments view and compared; the test reads the table cells
// and the charts as a person sees them (inside the webview's iframes), switches
// the x-axis, and saves the screenshot the README shows. Then a metric of the tree
// opens its own chart, and points logged meanwhile extend it.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { consoleLines, runCommand, screenshot } from './host/browser.mjs';
import { startSession } from './host/session.mjs';
import { contextMenu, expand, openMlops, row } from './host/tree.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const vsix = path.join(repo, 'dist', 'mlops-workbench.vsix');
const require = createRequire(import.meta.url);

/** Three runs of a learning-rate sweep, through the Node API that training scripts use. */
async function seed(ws) {
  const { Tracking } = require(path.join(repo, 'dist', 'tracking.js'));
  const t = await Tracking.open({ dir: path.join(ws, '.mlops'), watch: false });
  const ids = {};
  const sweep = [
    ['lr-0.1', '0.1', 'aaa', 0.9],
    ['lr-0.01', '0.01', 'aaa', 0.5],
    ['lr-0.001', '0.001', 'bbb', 0.7],
  ];
  const t0 = Date.UTC(2026, 10, 1, 12, 0, 0);
  const experimentId = (await t.getOrCreateExperiment('sweep')).experimentId;
  for (const [i, [name, lr, data, decay]] of sweep.entries()) {
    const start = t0 + i * 3_600_000;
    const run = await t.createRun({
      experimentId,
      runName: name,
      startTime: start,
      captureGit: false,
    });
    ids[name] = run.runId;
    await t.logBatch(run.runId, {
      params: [
        { key: 'lr', value: lr },
        { key: 'batch_size', value: '32' },
      ],
    });
    const metrics = [];
    for (let step = 0; step < 50; step++) {
      const ts = start + step * 1000;
      metrics.push({ key: 'loss', value: 2 * decay ** (step / 10), step, timestamp: ts });
      metrics.push({ key: 'accuracy', value: 1 - decay ** (step / 10) / 2, step, timestamp: ts });
    }
    await t.logMetrics(run.runId, metrics);
    const csv = path.join(ws, `train-${data}.csv`);
    fs.writeFileSync(csv, data === 'aaa' ? 'x,y\n1,0\n2,1\n' : 'x,y\n1,1\n2,0\n3,1\n');
    await t.logDataset(run.runId, csv, { name: 'train.csv', context: 'training' });
    for (const step of [24, 49]) {
      await t.logCheckpoint(run.runId, {
        step,
        artifactPath: `checkpoints/step-${step}.pt`,
        metrics: { loss: 2 * decay ** (step / 10) },
      });
    }
    await t.endRun(run.runId, 'FINISHED', start + 50_000);
  }
  await t.close();
  return ids;
}

/** Picks a colour theme the way a person does: Preferences: Color Theme, type, Enter. */
async function pickTheme(page, name) {
  const widget = page.locator('.quick-input-widget');
  await page.keyboard.press('F1');
  await widget.locator('input').first().fill('>Preferences: Color Theme');
  await widget
    .locator('.monaco-list-row', {
      has: page.locator('.label-name', { hasText: /^Preferences: Color Theme$/ }),
    })
    .first()
    .click({ timeout: 15_000 });
  await widget.locator('input').first().fill(name);
  await widget
    .locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: name }) })
    .first()
    .waitFor({ timeout: 10_000 });
  await page.keyboard.press('Enter');
  await widget.waitFor({ state: 'hidden', timeout: 10_000 });
}

/** The compare page: VS Code puts a webview in an iframe holding an iframe. */
const webview = (page) =>
  page.frameLocator('iframe.webview.ready').last().frameLocator('iframe#active-frame');

describe('Compare Runs in the real host', () => {
  let s;
  before(
    async () => {
      assert.ok(fs.existsSync(vsix), `${vsix} is missing: run \`npm run package\` first`);
      s = await startSession({ name: 'compare', prepare: seed, vsixPaths: [vsix] });
    },
    { timeout: 20 * 60_000 },
  );
  after(() => s?.close());

  it('compares three selected runs: table, highlighted differences, a chart per metric', async () =>
    s.check('compare', async (page) => {
      await openMlops(page);
      await expand(page, 'sweep');
      await row(page, 'lr-0.1').first().click();
      await row(page, 'lr-0.01')
        .first()
        .click({ modifiers: ['Control'] });
      await row(page, 'lr-0.001')
        .first()
        .click({ modifiers: ['Control'] });
      await contextMenu(page, 'lr-0.001', 'Compare Runs');

      const view = webview(page);
      const table = view.locator('#compare-table');
      await table.waitFor({ timeout: 30_000 });
      const headers = await view.locator('#compare-table thead th.run-head').allInnerTexts();
      assert.deepEqual(
        headers.map((h) => h.replace(/[◇◆]/g, '').trim()),
        ['lr-0.1', 'lr-0.01', 'lr-0.001'],
      );

      const cells = async (rowId) =>
        view.locator(`#compare-table tr[data-row-id="${rowId}"] td`).allInnerTexts();
      assert.deepEqual(await cells('param:lr'), ['0.1', '0.01', '0.001']);
      assert.deepEqual(await cells('param:batch_size'), ['32', '32', '32']);
      // Differing params are highlighted, equal ones are not.
      assert.equal(
        await view.locator('#compare-table tr[data-row-id="param:lr"] td.diff').count(),
        3,
      );
      assert.equal(
        await view.locator('#compare-table tr[data-row-id="param:batch_size"] td.diff').count(),
        0,
      );
      // The dataset's digest differs for the third run.
      assert.equal(
        await view.locator('#compare-table tr[data-row-id^="dataset:"] td.diff').count(),
        3,
      );
      // Best per row: the lowest final loss is the run with the fastest decay (lr-0.01).
      const loss = await cells('metric:loss:last');
      assert.equal(loss.length, 3);
      const best = view.locator('#compare-table tr[data-row-id="metric:loss:last"] td.best');
      assert.equal(await best.count(), 1);
      assert.equal(await best.innerText(), loss[1]);

      // One chart per metric, a line per run.
      const charts = view.locator('figure.chart-card');
      await view
        .locator('figure.chart-card[data-datasets="3"]')
        .nth(1)
        .waitFor({ timeout: 30_000 });
      assert.deepEqual((await charts.evaluateAll((fs) => fs.map((f) => f.dataset.metric))).sort(), [
        'accuracy',
        'loss',
      ]);
      for (const n of await charts.evaluateAll((fs) => fs.map((f) => f.dataset.datasets))) {
        assert.equal(n, '3');
      }
      // 50 steps a run fit the pixels: every point is drawn.
      const points = () => charts.evaluateAll((fs) => fs.map((f) => f.dataset.points));
      assert.deepEqual(await points(), ['150', '150']);

      // "Only differences" hides the equal batch_size row.
      await view.locator('#only-differences').click();
      await view
        .locator('#compare-table tr[data-row-id="param:batch_size"]')
        .waitFor({ state: 'detached', timeout: 10_000 });
      assert.equal(await view.locator('#compare-table tr[data-row-id="param:lr"]').count(), 1);
      await view.locator('#only-differences').click();

      // Switch the x-axis to wall time: the axis title follows.
      const title = view.locator('figure.chart-card[data-metric="loss"] canvas');
      await title.waitFor();
      await view.locator('#x-axis vscode-radio', { hasText: 'Wall time' }).click();
      await page.waitForTimeout(300);
      assert.equal(
        await view.locator('#x-axis').evaluate((g) => g.value),
        'time',
        'the x-axis radio group should say wall time',
      );
      assert.equal(
        await view.locator('figure.chart-card[data-metric="loss"]').evaluate((f) => f.dataset.axis),
        'time',
      );
      assert.deepEqual(await points(), ['150', '150'], 'switching the axis keeps every point');
      await view.locator('#x-axis vscode-radio', { hasText: 'Step' }).click();
      await page.waitForTimeout(300);
      await screenshot(page, 'compare-runs');
      await view.locator('#charts-section').evaluate((e) => e.scrollIntoView());
      await page.waitForTimeout(200);
      await screenshot(page, 'compare-charts');
      // The page runs under its strict CSP without being refused anything.
      const refused = consoleLines(page).filter((l) =>
        /Content Security Policy|Refused to/i.test(l),
      );
      assert.deepEqual(refused, []);
    }));

  it('ranks checkpoints, exports the table as CSV, and comes back after a window reload', async () =>
    s.check('compare actions', async (page) => {
      const view = webview(page);
      // Checkpoints of all three runs, best loss first: lr-0.01 at step 49.
      const ranked = view.locator('#checkpoints-section table.checkpoints tbody tr');
      assert.equal(await ranked.count(), 6);
      const first = await ranked.first().locator('td').allInnerTexts();
      assert.equal(first[1].trim(), 'lr-0.01');
      assert.equal(first[2], '49');

      // Export CSV: VS Code's save dialog, accepted as proposed.
      await view.locator('#export-csv').click();
      const input = page.locator('.quick-input-widget input').first();
      await input.waitFor({ timeout: 10_000 });
      // The dialog fills in the proposed path after it opens.
      await page.waitForFunction(
        (el) => /run-comparison\.csv$/.test(el.value),
        await input.elementHandle(),
        { timeout: 10_000 },
      );
      await page.keyboard.press('Enter');
      const file = path.join(s.workspace, 'run-comparison.csv');
      for (let i = 0; i < 100 && !fs.existsSync(file); i++) await page.waitForTimeout(100);
      const csv = fs.readFileSync(file, 'utf8').split('\r\n');
      assert.equal(csv[0], 'group,field,lr-0.1,lr-0.01,lr-0.001');
      assert.ok(csv.includes('params,lr,0.1,0.01,0.001'), csv.join('\n'));

      // A window reload: the serializer reopens the panel from its saved state.
      // Through VS Code's own command, which saves the window's state first, as a
      // person's reload does.
      await runCommand(page, 'Developer: Reload Window');
      await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
      await webview(page).locator('#compare-table').waitFor({ timeout: 60_000 });
      assert.deepEqual(
        await webview(page).locator('#compare-table tr[data-row-id="param:lr"] td').allInnerTexts(),
        ['0.1', '0.01', '0.001'],
      );
    }));

  it('zooms from the keyboard, and keeps its state when hidden and shown again', async () =>
    s.check('keyboard and state', async (page) => {
      const view = webview(page);
      const card = view.locator('figure.chart-card[data-metric="loss"]');
      await card.locator('canvas').focus();
      await page.keyboard.press('+');
      // The zoomed range is loaded in full detail: fewer points, all inside it.
      await page.waitForFunction(
        (el) => Number(el.dataset.points) > 0 && Number(el.dataset.points) < 150,
        await card.elementHandle(),
        { timeout: 10_000 },
      );
      await page.keyboard.press('0');
      await view.locator('figure.chart-card[data-metric="loss"][data-points="150"]').waitFor();

      await view.locator('#only-differences').click();
      await view
        .locator('#compare-table tr[data-row-id="param:batch_size"]')
        .waitFor({ state: 'detached', timeout: 10_000 });
      // Another editor in front of the panel (its page is discarded), then back.
      await runCommand(page, 'File: New Untitled Text File');
      await page.locator('.tabs-container .tab', { hasText: 'Compare 3 runs' }).click();
      const restored = webview(page);
      await restored.locator('#compare-table').waitFor({ timeout: 30_000 });
      assert.equal(await restored.locator('#only-differences').evaluate((c) => c.checked), true);
      assert.equal(
        await restored.locator('#compare-table tr[data-row-id="param:batch_size"]').count(),
        0,
      );
      assert.equal(await restored.locator('#compare-table tr[data-row-id="param:lr"]').count(), 1);
      await restored.locator('#only-differences').click();
      await restored.locator('#compare-table tr[data-row-id="param:batch_size"]').waitFor();
    }));

  it('follows a change of colour theme (high contrast)', async () =>
    s.check('theme', async (page) => {
      const view = webview(page);
      const card = view.locator('figure.chart-card[data-metric="loss"]');
      await card.waitFor({ timeout: 30_000 });
      const before = await card.getAttribute('data-grid-color');
      await pickTheme(page, 'Dark High Contrast');
      await view
        .locator('body.vscode-high-contrast')
        .waitFor({ state: 'attached', timeout: 20_000 });
      await view
        .locator(`figure.chart-card[data-metric="loss"]:not([data-grid-color="${before}"])`)
        .waitFor({ timeout: 10_000 });
      await view.locator('#charts-section').evaluate((e) => e.scrollIntoView());
      await screenshot(page, 'compare-high-contrast');
      await pickTheme(page, 'Light Modern');
      await view.locator('body.vscode-light').waitFor({ state: 'attached', timeout: 20_000 });
    }));

  it('charts one metric from the tree and extends it as points arrive', async () =>
    s.check('metric chart', async (page) => {
      await openMlops(page);
      await expand(page, 'sweep');
      await expand(page, 'lr-0.1');
      await expand(page, 'Metrics (2)');
      await row(page, 'loss').first().click();
      const view = webview(page);
      const card = view.locator('figure.chart-card[data-metric="loss"]');
      await card.waitFor({ timeout: 30_000 });
      await view.locator('figure.chart-card[data-points="50"]').waitFor({ timeout: 30_000 });
      assert.equal(await card.getAttribute('data-datasets'), '1');
      assert.equal(await view.locator('#table-section').isVisible(), false);

      // Points logged by another process reach the open chart.
      const { Tracking } = require(path.join(repo, 'dist', 'tracking.js'));
      const t = await Tracking.open({ dir: path.join(s.workspace, '.mlops'), watch: false });
      await t.logMetrics(s.prepared['lr-0.1'], [
        { key: 'loss', value: 0.01, step: 50, timestamp: Date.now() },
        { key: 'loss', value: 0.009, step: 51, timestamp: Date.now() },
      ]);
      await t.close();
      await view.locator('figure.chart-card[data-points="52"]').waitFor({ timeout: 10_000 });
    }));
});
