// End-to-end: the MLflow-compatible endpoint in a real VS Code. With the workbench open,
// a client outside VS Code (this test process, speaking MLflow's REST API as the Python
// client does) logs a run; the run appears in the Experiments view and its metric
// ticks as new points arrive. A terminal opened in the workbench has
// MLFLOW_TRACKING_URI pointing at the endpoint. "Import MLflow Runs..." on an mlruns
// folder in the Explorer brings its runs into the view.

/* global document, fetch */

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCommand, screenshot } from './host/browser.mjs';
import { startSession } from './host/session.mjs';
import { expand, openMlops, row } from './host/tree.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const vsix = path.join(repo, 'dist', 'mlops-workbench.vsix');

/** A port free right now on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

describe('the MLflow endpoint in the real host', () => {
  let s;
  let port;
  let base;

  /** One MLflow REST call, as the Python client makes it; fails on a non-2xx answer. */
  async function mlflow(method, endpoint, body) {
    const res = await fetch(`${base}/api/2.0/mlflow/${endpoint}`, {
      method,
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'mlflow-python-client/3.6' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    assert.ok(res.ok, `${method} ${endpoint}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }

  before(
    async () => {
      assert.ok(fs.existsSync(vsix), `${vsix} is missing: run \`npm run package\` first`);
      port = await freePort();
      base = `http://127.0.0.1:${port}`;
      s = await startSession({
        name: 'server',
        files: {
          // No .mlops yet: the endpoint creates the store on the first request.
          '.vscode/settings.json': JSON.stringify({
            'mlops.server.port': port,
            'mlops.keyMetric': 'loss',
          }),
          'README.md': '# a workspace with no store yet\n',
        },
        // An MLflow file store to import from the Explorer.
        prepare: (workspace) =>
          fs.cpSync(
            path.join(repo, 'test', 'fixtures', 'mlflow-import', 'mlruns'),
            path.join(workspace, 'mlruns'),
            { recursive: true },
          ),
        vsixPaths: [vsix],
      });
    },
    { timeout: 20 * 60_000 },
  );
  after(async () => {
    await s?.close();
  });

  it('serves on the configured port, shown in the status bar', async () =>
    s.check('status', async (page) => {
      await page
        .locator('.statusbar-item', { hasText: `MLflow :${port}` })
        .first()
        .waitFor({ timeout: 60_000 });
      const health = await fetch(`${base}/health`);
      assert.equal(health.status, 200);
      // A click on the status bar item copies the URI (Copy MLflow Tracking URI).
      await page
        .locator('.statusbar-item', { hasText: `MLflow :${port}` })
        .first()
        .click();
      await page.locator('[id="status.notifications"]').first().click();
      await page.waitForFunction(
        (url) =>
          [...document.querySelectorAll('.notification-list-item')].some((t) =>
            (t.textContent ?? '').includes(`Copied ${url}`),
          ),
        base,
        { timeout: 30_000 },
      );
      await page.keyboard.press('Escape');
    }));

  it('shows a run logged from outside VS Code, its metric ticking', async () =>
    s.check('run', async (page) => {
      const { experiment_id: experimentId } = await mlflow('POST', 'experiments/create', {
        name: 'outside',
      });
      const { run } = await mlflow('POST', 'runs/create', {
        experiment_id: experimentId,
        run_name: 'from-a-script',
        start_time: Date.now(),
        tags: [{ key: 'mlflow.source.name', value: 'train.py' }],
      });
      const runId = run.info.run_id;
      await mlflow('POST', 'runs/log-parameter', { run_id: runId, key: 'lr', value: '0.01' });
      await mlflow('POST', 'runs/log-metric', {
        run_id: runId,
        key: 'loss',
        value: 0.875,
        timestamp: Date.now(),
        step: 0,
      });

      await openMlops(page);
      await expand(page, 'outside');
      const runRow = row(page, 'from-a-script').first();
      await runRow.waitFor({ timeout: 30_000 });
      await page.waitForFunction(
        () =>
          [...document.querySelectorAll('.part.sidebar .monaco-list-row')].some((r) =>
            /from-a-script[\s\S]*loss 0\.875/.test(r.textContent ?? ''),
          ),
        null,
        { timeout: 30_000 },
      );

      // The next points, in a batch as log_metrics sends them: the row follows.
      await mlflow('POST', 'runs/log-batch', {
        run_id: runId,
        metrics: [1, 2, 3].map((step) => ({
          key: 'loss',
          value: 0.875 / (step + 1),
          timestamp: Date.now(),
          step,
        })),
      });
      await page.waitForFunction(
        () =>
          [...document.querySelectorAll('.part.sidebar .monaco-list-row')].some((r) =>
            /from-a-script[\s\S]*loss 0\.21875/.test(r.textContent ?? ''),
          ),
        null,
        { timeout: 30_000 },
      );
      await mlflow('POST', 'runs/update', {
        run_id: runId,
        status: 'FINISHED',
        end_time: Date.now(),
      });
      await screenshot(page, 'server-run');

      // What the store holds, as MLflow's API reads it back.
      const got = await mlflow('GET', `metrics/get-history?run_id=${runId}&metric_key=loss`);
      assert.deepEqual(
        got.metrics.map((m) => m.step),
        [0, 1, 2, 3],
      );
      assert.ok(fs.existsSync(path.join(s.workspace, '.mlops')), 'the store was created');
    }));

  it('gives a terminal opened in the workbench MLFLOW_TRACKING_URI', async () =>
    s.check('terminal', async (page) => {
      await runCommand(page, 'Terminal: Create New Terminal');
      await page.locator('.terminal-wrapper.active .xterm').first().waitFor({ timeout: 30_000 });
      await page.locator('.terminal-wrapper.active .xterm').first().click();
      await page.keyboard.type('echo "uri=$MLFLOW_TRACKING_URI" > uri.txt\n', { delay: 10 });
      const file = path.join(s.workspace, 'uri.txt');
      const deadline = Date.now() + 30_000;
      while (!fs.existsSync(file) || !fs.readFileSync(file, 'utf8').includes('\n')) {
        if (Date.now() > deadline) throw new Error('the terminal did not write uri.txt');
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(fs.readFileSync(file, 'utf8').trim(), `uri=${base}`);
    }));

  it('imports an mlruns folder from the Explorer', async () =>
    s.check('import', async (page) => {
      await page.locator('.activitybar [aria-label^="Explorer"]').first().click();
      const folder = page
        .locator('.explorer-folders-view .monaco-list-row', { hasText: /^\s*mlruns\s*$/ })
        .first();
      const entry = page.locator('.context-view .action-label', {
        hasText: /^Import MLflow Runs\.\.\.$/,
      });
      // The Explorer's rows can shift as files appear (uri.txt above): right-click again
      // until the menu is the folder's.
      for (let attempt = 1; ; attempt++) {
        await folder.waitFor({ timeout: 30_000 });
        await folder.click({ button: 'right' });
        try {
          await entry.waitFor({ timeout: 5_000 });
          break;
        } catch (e) {
          if (attempt === 3) throw e;
          await page.keyboard.press('Escape');
        }
      }
      await entry.hover();
      await page.keyboard.press('Enter');
      await page.locator('[id="status.notifications"]').first().click();
      await page.waitForFunction(
        () =>
          [...document.querySelectorAll('.notification-list-item')].some((t) =>
            /Imported from mlruns: 3 runs, 12 metric points, 2 model versions/.test(
              t.textContent ?? '',
            ),
          ),
        null,
        { timeout: 60_000 },
      );
      await page.keyboard.press('Escape');
      await openMlops(page);
      // The fixture's experiment and its imported run.
      await expand(page, 'churn-model');
      await row(page, 'baseline').first().waitFor({ timeout: 30_000 });
    }));
});
