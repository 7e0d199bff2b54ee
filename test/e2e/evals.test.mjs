// End-to-end: "Run eval on this prompt" in a real VS Code, against the local
// OpenAI-compatible server (its answers are rules; nothing mocks the openai
// package). The CodeLens starts the run, the progress notification counts cases,
// the results panel shows the summary and the cases with their verdicts, and the
// Evals view lists the suite, the run and its cases. Screenshots for the README.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startFakeOpenAI } from '../fixtures/openaiServer.ts';
import { screenshot } from './host/browser.mjs';
import { startSession } from './host/session.mjs';
import { expand, expandPane, openMlops, row } from './host/tree.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const vsix = path.join(repo, 'dist', 'mlops-workbench.vsix');
const cliPath = path.join(repo, 'dist', 'cli.js');

/** VS Code puts a webview in an iframe holding an iframe. */
const webview = (page) =>
  page.frameLocator('iframe.webview.ready').last().frameLocator('iframe#active-frame');

const SUITE = (url) => `name: capitals
prompt: ../prompts/capitals.prompt.md
provider:
  baseUrl: ${url}
  model: gpt-4o-mini
# One call at a time, so the progress notification is there long enough to be seen.
concurrency: 1
dataset:
  cases:
    - id: france
      vars: { country: France }
      expected: Paris
    - id: japan
      vars: { country: Japan }
      expected: Tokyo
    - id: peru
      vars: { country: Peru }
      expected: Lima
    - id: kenya
      vars: { country: Kenya }
      expected: Nairobi
criteria:
  - name: names-the-city
    type: regex
    pattern: '^(Paris|Tokyo|Lima|Nairobi)\\b'
  - name: short
    type: max-latency
    ms: 10000
  - name: no-pii
    type: pii
`;

describe('evals in the real host', () => {
  let s;
  let server;
  before(
    async () => {
      assert.ok(fs.existsSync(vsix), `${vsix} is missing: run \`npm run package\` first`);
      server = await startFakeOpenAI({
        rules: [
          { match: 'France', reply: 'Paris.' },
          { match: 'Japan', reply: 'Tokyo.' },
          { match: 'Peru', reply: 'Cusco, I think.' },
          { match: 'Kenya', reply: 'Nairobi. Write to info@example.com for more.' },
        ],
        // Slow enough for the progress notification to be seen.
        latencyMs: 1000,
      });
      s = await startSession({
        name: 'evals',
        files: {
          'prompts/capitals.prompt.md':
            '---\nmodel: gpt-4o-mini\n---\nWhat is the capital of {{ country }}? One word.\n',
          'evals/capitals.eval.yaml': SUITE(server.url),
          '.mlops/.keep': '',
        },
        vsixPaths: [vsix],
      });
    },
    { timeout: 20 * 60_000 },
  );
  after(async () => {
    await s?.close();
    await server?.close();
  });

  it('runs the eval from the CodeLens of the prompt, with progress, into the results panel', async () =>
    s.check('run', async (page) => {
      const widget = page.locator('.quick-input-widget');
      await page.keyboard.press('F1');
      await widget.locator('input').first().fill('capitals.prompt.md');
      await widget
        .locator('.monaco-list-row', { hasText: 'capitals.prompt.md' })
        .first()
        .click({ timeout: 15_000 });
      const lens = page.locator('.editor-instance .codelens-decoration a', {
        hasText: 'Run Eval',
      });
      await lens.first().waitFor({ timeout: 30_000 });
      // One suite names this prompt: it runs at once, with a counting progress notification.
      // The headless window has no focus, so VS Code keeps toasts in the notification
      // centre, and the centre can close again as focus moves (to the editor the lens is in,
      // to the results panel): it is opened before the click, and again whenever it is
      // found closed, until the count shows (the run takes about 4 s).
      const centre = page.locator('.notifications-center');
      const openCentre = async () => {
        if (await centre.isVisible()) return;
        await page.locator('[id="status.notifications"]').first().click();
        await centre.waitFor({ state: 'visible', timeout: 5000 });
      };
      await openCentre();
      await lens.first().click();
      const counting = centre.locator('.notification-list-item', { hasText: /Eval capitals/ });
      const until = Date.now() + 20_000;
      for (;;) {
        await openCentre().catch(() => {});
        const texts = await counting.allTextContents().catch(() => []);
        if (texts.some((t) => /\d\/4 cases/.test(t))) break;
        if (Date.now() > until) {
          assert.fail(
            `no "n/4 cases" progress in the notification centre (saw: ${JSON.stringify(texts)})`,
          );
        }
        await page.waitForTimeout(100);
      }
      await page.keyboard.press('Escape');

      const view = webview(page);
      await view.locator('#eval-pass-rate').waitFor({ timeout: 60_000 });
      assert.match(await view.locator('#eval-pass-rate').innerText(), /50(\.0)?\s*%/);
      const rows = view.locator('#eval-cases tr.case-row');
      await rows.first().waitFor();
      assert.equal(await rows.count(), 4);
      const status = async (c) =>
        view.locator(`#eval-cases tr.case-row[data-case="${c}/0"]`).getAttribute('data-status');
      assert.equal(await status(0), 'passed');
      assert.equal(await status(1), 'passed');
      assert.equal(await status(2), 'failed');
      assert.equal(await status(3), 'failed');
      // Per criterion: Peru misses the city, Kenya leaks an email address.
      const criterion = (n) => view.locator(`#eval-criteria tr[data-criterion="${n}"]`).innerText();
      assert.match(await criterion('names-the-city'), /names-the-city\s+3\s+1\s+0/);
      assert.match(await criterion('no-pii'), /no-pii\s+3\s+1\s+0/);
      // gpt-4o-mini is in the price table: the cost shows in dollars.
      assert.match(await view.locator('#eval-cost').innerText(), /\$\d/);

      // A failed case opens to its full answer and each verdict's reason.
      await view.locator('#eval-cases tr.case-row[data-case="3/0"]').click();
      const detail = view.locator('#eval-cases tr.detail-row[data-detail="3/0"]');
      await detail.waitFor({ timeout: 10_000 });
      assert.match(await detail.locator('pre.output').innerText(), /info@example\.com/);
      assert.match(
        await detail.locator('table.verdicts tr[data-criterion="no-pii"]').innerText(),
        /email/i,
      );
      // Failed only: two rows.
      // From the keyboard: the status filter's next choice after "All statuses" is "Failed".
      await view.locator('#filter-status').focus();
      await page.keyboard.press('ArrowDown');
      await view.locator('#eval-count', { hasText: 'showing 2 of 4' }).waitFor({ timeout: 5000 });
      assert.equal(await view.locator('#eval-cases tr.case-row').count(), 2);
      await screenshot(page, 'eval-results');

      // The run is in the store, as the CLI sees it.
      const runs = JSON.parse(
        execFileSync(process.execPath, [cliPath, 'runs', 'list', '-e', 'Evals', '--json'], {
          cwd: s.workspace,
          encoding: 'utf8',
        }),
      ).runs;
      assert.equal(runs.length, 1);
      assert.equal(runs[0].metrics.pass_rate.value, 0.5);
      assert.ok(runs[0].metrics.cost_usd.value > 0);
      assert.equal(runs[0].tags['mlops.eval.suite'], 'evals/capitals.eval.yaml');
      assert.equal(server.requests.filter((r) => r.path === '/v1/chat/completions').length, 4);
    }));

  it('lists the suite, its run and the cases in the Evals view', async () =>
    s.check('view', async (page) => {
      await openMlops(page);
      await expandPane(page, 'Evals');
      await expand(page, 'capitals');
      await row(page, '50% passed').first().waitFor({ timeout: 20_000 });
      await row(page, '50% passed').first().locator('.monaco-tl-twistie').click();
      await row(page, 'kenya').first().waitFor({ timeout: 20_000 });
      const kenya = await row(page, 'kenya').first().innerText();
      assert.match(kenya, /failed: no-pii/);
      // For the picture: the Experiments pane folded, so the Evals view has the room.
      await page.locator('.part.sidebar .pane-header', { hasText: 'Experiments' }).first().click();
      await row(page, 'kenya').first().click();
      await screenshot(page, 'evals-view');
    }));
});
