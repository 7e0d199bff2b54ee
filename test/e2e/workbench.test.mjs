// End-to-end: the packaged .vsix installed into code-server (a real VS Code), opened
// in headless chromium on a workspace seeded through the CLI. Asserts what a person
// sees. Needs `npm run package` first (npm test does it). Screenshots go to
// test-results/e2e/ (named ones always, FAILED-* ones on failure).

/* global document */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCommand, screenshot } from './host/browser.mjs';
import { startSession } from './host/session.mjs';
import { contextMenu, expand, openMlops, row, sidebar, startInputCommand } from './host/tree.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const vsix = path.join(repo, 'dist', 'mlops-workbench.vsix');
const cliPath = path.join(repo, 'dist', 'cli.js');

function cli(cwd, ...args) {
  return execFileSync(process.execPath, [cliPath, ...args], { cwd, encoding: 'utf8' }).trim();
}

/** Seeds a workspace the way a user would: through the mlops CLI. */
function seed(ws) {
  const runs = {};
  const start = (exp, name, tags = []) => {
    runs[name] = cli(ws, 'run', 'start', '-e', exp, '--name', name, '--no-git', ...tags);
    return runs[name];
  };
  const baseline = start('mnist', 'baseline');
  cli(ws, 'log', 'param', 'lr', '0.01', '--run', baseline);
  cli(ws, 'log', 'metric', 'accuracy', '0.8', '--step', '1', '--run', baseline);
  cli(ws, 'log', 'metric', 'accuracy', '0.91', '--step', '2', '--run', baseline);
  fs.writeFileSync(path.join(ws, 'train.csv'), 'x,y\n1,0\n2,1\n3,0\n');
  cli(ws, 'log', 'dataset', 'train.csv', '--context', 'train', '--run', baseline);
  fs.writeFileSync(path.join(ws, 'model.txt'), 'weights');
  cli(ws, 'log', 'artifact', 'model.txt', '--path', 'model', '--run', baseline);
  cli(ws, 'run', 'end', baseline);
  const bigger = start('mnist', 'bigger-lr');
  cli(ws, 'log', 'param', 'lr', '0.1', '--run', bigger);
  cli(ws, 'log', 'metric', 'accuracy', '0.72', '--step', '2', '--run', bigger);
  cli(ws, 'run', 'end', bigger, '--status', 'FAILED');
  const doomed = start('mnist', 'to-delete');
  cli(ws, 'run', 'end', doomed);
  const bert = start('nlp', 'bert-base');
  cli(ws, 'log', 'metric', 'f1', '0.88', '--run', bert);
  cli(ws, 'run', 'end', bert);
  return runs;
}

/**
 * One code-server + chromium session (host/session.mjs) per describe block, with the
 * packaged .vsix installed: started before its tests, closed (and checked for leftover
 * processes) after them. `s.step` wraps a test body so a failure saves a screenshot.
 */
function session(label, prepare, serverOptions = {}) {
  const s = {
    current: undefined,
    get page() {
      return this.current?.page;
    },
    get ws() {
      return this.current?.workspace;
    },
    get extra() {
      return this.current?.prepared;
    },
    step: (name, fn) => (t) => s.current.check(name, () => fn(t)),
  };
  before(
    async () => {
      assert.ok(fs.existsSync(vsix), `${vsix} is missing: run \`npm run package\` first`);
      s.current = await startSession({ name: label, prepare, vsixPaths: [vsix], ...serverOptions });
    },
    { timeout: 20 * 60_000 },
  );
  after(() => s.current?.close());
  return s;
}

describe('the workbench on a workspace seeded by the CLI', () => {
  const s = session('seeded', seed);

  it(
    'shows the MLOps container with the seeded experiments, runs and metric values',
    s.step('tree', async () => {
      const { page } = s;
      await openMlops(page);
      await row(page, 'mnist').first().waitFor({ timeout: 30_000 });
      await row(page, 'nlp').first().waitFor();
      assert.match(await row(page, 'mnist').first().innerText(), /3 runs/);
      await expand(page, 'mnist');
      const baseline = row(page, 'baseline').first();
      await baseline.waitFor();
      assert.match(await baseline.innerText(), /accuracy 0\.91/);
      await row(page, 'bigger-lr').first().waitFor();
      await expand(page, 'baseline');
      await expand(page, 'Metrics (1)');
      const metric = row(page, 'accuracy').first();
      await metric.waitFor();
      assert.match(await metric.innerText(), /0\.91\s+\(min 0\.8, max 0\.91, 2 steps\)/);
      await expand(page, 'Datasets (1)');
      assert.match(
        await row(page, 'train.csv').first().innerText(),
        /train · 3 rows · sha256 [0-9a-f]{8}/,
      );
      await screenshot(page, 'experiments-view');
    }),
  );

  it(
    'shows a run logged by the CLI while it is open, without a refresh, and its metric ticking',
    s.step('live', async () => {
      const { page, ws } = s;
      const id = cli(ws, 'run', 'start', '-e', 'mnist', '--name', 'live-run', '--no-git');
      cli(ws, 'log', 'metric', 'accuracy', '0.5', '--step', '1', '--run', id);
      const live = row(page, 'live-run').first();
      await live.waitFor({ timeout: 5000 });
      await page.waitForFunction(
        (el) => /accuracy 0\.5\b/.test(el.textContent),
        await live.elementHandle(),
        {
          timeout: 5000,
        },
      );
      cli(ws, 'log', 'metric', 'accuracy', '0.75', '--step', '2', '--run', id);
      await page.waitForFunction(
        (el) => /accuracy 0\.75\b/.test(el.textContent),
        await live.elementHandle(),
        {
          timeout: 5000,
        },
      );
      cli(ws, 'run', 'end', id);
    }),
  );

  it(
    'filters runs from the command palette, shows the filter, rejects a bad one, and clears it',
    s.step('filter', async () => {
      const { page } = s;
      const input = await startInputCommand(page, 'MLOps: Filter Runs...', 'Filter Runs');
      await input.fill('metrics.acc >> 1');
      await page
        .locator('.quick-input-widget .quick-input-message', {
          hasText: /Bad filter at column 13 near '>>'/,
        })
        .waitFor({ timeout: 5000 });
      await input.fill("params.lr = '0.1'");
      await page.keyboard.press('Enter');
      await row(page, 'baseline').first().waitFor({ state: 'detached', timeout: 10_000 });
      await row(page, 'bigger-lr').first().waitFor();
      await screenshot(page, 'filtered-view');
      const message = sidebar(page).locator('.message', { hasText: 'Runs matching:' }).first();
      assert.match(await message.innerText(), /Runs matching: params\.lr = '0\.1'/);
      assert.match(await row(page, 'mnist').first().innerText(), /1 of \d+ runs match/);
      await runCommand(page, 'MLOps: Clear Run Filter');
      await row(page, 'baseline').first().waitFor({ timeout: 10_000 });
      await message.waitFor({ state: 'hidden', timeout: 5000 });
    }),
  );

  it(
    'renames a run, notes it and tags it from the context menu',
    s.step('edit', async () => {
      const { page, ws, extra } = s;
      const answer = async (item, inputTitle, text) => {
        await contextMenu(page, item.row, item.action);
        const widget = page.locator('.quick-input-widget');
        await widget
          .locator('.quick-input-title', { hasText: inputTitle })
          .waitFor({ timeout: 10_000 });
        await widget.locator('input').first().fill(text);
        await page.keyboard.press('Enter');
        await widget.waitFor({ state: 'hidden', timeout: 10_000 });
      };
      await answer({ row: 'bigger-lr', action: 'Rename Run...' }, 'Rename Run', 'lr-0.1');
      await row(page, 'lr-0.1').first().waitFor({ timeout: 10_000 });
      await answer(
        { row: 'lr-0.1', action: 'Add or Edit Note...' },
        'Note on lr-0.1',
        'diverged after step 2',
      );
      await answer({ row: 'lr-0.1', action: 'Set Tag...' }, 'Set Tag on lr-0.1', 'team=vision');
      const shown = JSON.parse(cli(ws, 'runs', 'show', extra['bigger-lr'], '--json'));
      assert.equal(shown.info.runName, 'lr-0.1');
      assert.equal(shown.tags['mlflow.note.content'], 'diverged after step 2');
      assert.equal(shown.tags.team, 'vision');
    }),
  );

  it(
    'opens an artifact from the tree and reveals it in the Explorer',
    s.step('artifacts', async () => {
      const { page } = s;
      await expand(page, 'baseline');
      await expand(page, 'Artifacts (1)');
      await expand(page, 'model');
      await row(page, 'model.txt').first().click();
      await page
        .locator('.tabs-container .tab', { hasText: 'model.txt' })
        .first()
        .waitFor({ timeout: 15_000 });
      await page.waitForFunction(
        () =>
          /weights/.test(document.querySelector('.editor-instance .view-lines')?.textContent ?? ''),
        null,
        { timeout: 15_000 },
      );
      await contextMenu(page, 'model.txt', 'Reveal Artifact in Explorer');
      const explorer = page.locator('.part.sidebar .explorer-folders-view');
      await explorer.waitFor({ timeout: 15_000 });
      await explorer
        .locator('.monaco-list-row.selected', {
          has: page.locator('.label-name', { hasText: /^model\.txt$/ }),
        })
        .waitFor({ timeout: 15_000 });
      await screenshot(page, 'artifact-revealed');
      await openMlops(page);
    }),
  );

  it(
    'opens run details and deletes a run (after confirmation) from the context menu',
    s.step('context-menu', async () => {
      const { page, ws, extra } = s;
      await contextMenu(page, 'baseline', 'Open Run Details');
      const editor = page.locator('.editor-instance .view-lines').first();
      await editor.waitFor({ timeout: 15_000 });
      await page.waitForFunction(
        () =>
          /# Run baseline/.test(
            (document.querySelector('.editor-instance .view-lines')?.textContent ?? '').replace(
              /\u00a0/g,
              ' ',
            ),
          ),
        null,
        { timeout: 15_000 },
      );
      assert.match((await editor.innerText()).replace(/\u00a0/g, ' '), /\| lr \| 0\.01 \|/);
      await screenshot(page, 'run-details');

      await contextMenu(page, 'to-delete', 'Delete Run');
      const dialog = page.locator('.monaco-dialog-box');
      await dialog.waitFor({ timeout: 10_000 });
      assert.match(await dialog.innerText(), /Delete run 'to-delete'\?/);
      await dialog.locator('.monaco-button', { hasText: /^Delete$/ }).click();
      await row(page, 'to-delete').first().waitFor({ state: 'detached', timeout: 10_000 });
      const deleted = JSON.parse(cli(ws, 'runs', 'list', '--deleted', '--json')).runs;
      assert.deepEqual(
        deleted.map((r) => r.info.runId),
        [extra['to-delete']],
      );
    }),
  );
});

describe('the workbench on an empty workspace', () => {
  const s = session('empty');

  it(
    'shows the welcome view, whose button creates demo data that then shows in the tree',
    s.step('welcome', async () => {
      const { page } = s;
      await openMlops(page);
      const welcome = sidebar(page).locator('.welcome-view-content');
      await welcome.waitFor({ timeout: 30_000 });
      assert.match(await welcome.innerText(), /No runs in this workspace yet/);
      assert.match(await welcome.innerText(), /mlops run start/);
      await screenshot(page, 'welcome-view');
      await welcome.locator('.monaco-button', { hasText: 'Create Demo Data' }).click();
      await row(page, 'demo-sweep').first().waitFor({ timeout: 30_000 });
      await expand(page, 'demo-sweep');
      await expand(page, 'lr-sweep');
      await row(page, 'lr-0.01').first().waitFor({ timeout: 10_000 });
    }),
  );

  it(
    'pages a large experiment in with "Load more" instead of listing every run',
    s.step('paging', async () => {
      const { page, ws } = s;
      const require = createRequire(import.meta.url);
      const { Tracking } = require(path.join(repo, 'dist', 'tracking.js'));
      const t = await Tracking.open({ dir: path.join(ws, '.mlops'), watch: false });
      const exp = await t.createExperiment('big');
      for (let i = 0; i < 150; i++) {
        await t.createRun({
          experimentId: exp,
          runName: `r-${String(i).padStart(3, '0')}`,
          captureGit: false,
          startTime: 1_700_000_000_000 + i,
        });
      }
      await t.close();
      await expand(page, 'big');
      await row(page, 'r-149').first().click();
      // The tree renders only what is on screen: End moves to the last row.
      await page.keyboard.press('End');
      const more = sidebar(page).locator('.monaco-list-row', { hasText: 'Load more (100 of 150)' });
      await more.waitFor({ timeout: 10_000 });
      assert.match(
        await sidebar(page).locator('.monaco-list-row.focused').innerText(),
        /Load more/,
      );
      assert.equal(await row(page, 'r-049').count(), 0, 'the 101st run is not listed yet');
      await page.keyboard.press('Enter');
      await row(page, 'r-049').first().waitFor({ timeout: 10_000 });
      await row(page, 'r-049').first().click();
      await page.keyboard.press('End');
      await row(page, 'r-000').first().waitFor({ timeout: 10_000 });
      assert.equal(
        await sidebar(page).locator('.monaco-list-row', { hasText: 'Load more' }).count(),
        0,
      );
    }),
  );
});

describe('the workbench in an untrusted workspace', () => {
  const s = session('untrusted', seed, { workspaceTrust: true });

  it(
    'browses the store read-only, says why, and offers no action that changes it',
    s.step('restricted', async () => {
      const { page } = s;
      await openMlops(page);
      await expand(page, 'mnist');
      await row(page, 'baseline').first().waitFor({ timeout: 30_000 });
      const message = sidebar(page).locator('.message', { hasText: 'Read-only' }).first();
      await message.waitFor({ timeout: 10_000 });
      assert.match(await message.innerText(), /not trusted/);
      await screenshot(page, 'untrusted-view');
      // The title bar has no Create Experiment; the run's menu has no Delete or Rename.
      assert.equal(
        await sidebar(page).locator('.composite.title [aria-label="Create Experiment..."]').count(),
        0,
      );
      await row(page, 'baseline').first().click({ button: 'right' });
      const menu = page.locator('.context-view .monaco-menu');
      await menu.waitFor({ timeout: 10_000 });
      const items = await menu.locator('.action-label').allInnerTexts();
      assert.ok(items.includes('Open Run Details'), items.join(', '));
      for (const hidden of ['Delete Run', 'Rename Run...', 'Set Tag...']) {
        assert.ok(!items.includes(hidden), `${hidden} is offered: ${items.join(', ')}`);
      }
      await page.keyboard.press('Escape');
    }),
  );
});
