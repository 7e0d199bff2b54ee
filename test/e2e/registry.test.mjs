// End-to-end: the prompt registry in a real VS Code. A prompt file is registered
// from the editor, edited and registered again; the CodeLens follows; the two
// versions are compared in VS Code's diff editor from the Prompts view; @champion
// is set and then moved with a reason. Screenshots of the Prompts view and the
// diff go to the README.

/* global document */

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { screenshot } from './host/browser.mjs';
import { startSession } from './host/session.mjs';
import { contextMenu, expand, expandPane, openMlops, row } from './host/tree.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const vsix = path.join(repo, 'dist', 'mlops-workbench.vsix');
const cliPath = path.join(repo, 'dist', 'cli.js');
const PROMPT = 'prompts/summarize.prompt.md';

function cli(cwd, ...args) {
  return execFileSync(process.execPath, [cliPath, ...args], { cwd, encoding: 'utf8' });
}

/** Runs a palette command that then asks for text, and answers it. */
async function paletteWithInput(page, title, answer) {
  const widget = page.locator('.quick-input-widget');
  await page.keyboard.press('F1');
  await widget.locator('input').first().fill(`>${title}`);
  await widget
    .locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: title }) })
    .first()
    .click({ timeout: 15_000 });
  await answerInput(page, answer);
}

async function answerInput(page, answer) {
  const widget = page.locator('.quick-input-widget');
  await widget
    .locator('.quick-input-title, .quick-input-message')
    .first()
    .waitFor({ timeout: 10_000 });
  await widget.locator('input').first().fill(answer);
  await page.keyboard.press('Enter');
  await widget.waitFor({ state: 'hidden', timeout: 10_000 });
}

const lens = (page) => page.locator('.editor-instance .codelens-decoration').first();

describe('the prompt registry in the real host', () => {
  let s;
  before(
    async () => {
      assert.ok(fs.existsSync(vsix), `${vsix} is missing: run \`npm run package\` first`);
      s = await startSession({
        name: 'registry',
        files: {
          [PROMPT]:
            '---\nmodel: gpt-4o-mini\ntemperature: 0.2\n---\nSummarize {{ text }} in {{ n }} words.\n',
          // A store folder, so the views open at once.
          '.mlops/.keep': '',
        },
        // A finished run with a model artifact, logged through the CLI.
        prepare: (ws) => {
          const runId = cli(
            ws,
            'run',
            'start',
            '-e',
            'train',
            '--name',
            'fit-1',
            '--no-git',
          ).trim();
          fs.mkdirSync(path.join(ws, 'out'));
          fs.writeFileSync(path.join(ws, 'out', 'weights.bin'), 'w');
          cli(ws, 'log', 'artifact', 'out/weights.bin', '--path', 'model', '--run', runId);
          cli(ws, 'run', 'end', runId);
          return { runId };
        },
        vsixPaths: [vsix],
      });
    },
    { timeout: 20 * 60_000 },
  );
  after(() => s?.close());

  it('registers a prompt file, then an edited version, and the CodeLens follows', async () =>
    s.check('register', async (page) => {
      // Open the file with Quick Open, as a person does.
      const widget = page.locator('.quick-input-widget');
      await page.keyboard.press('F1');
      await widget.locator('input').first().fill('summarize.prompt.md');
      await widget
        .locator('.monaco-list-row', { hasText: 'summarize.prompt.md' })
        .first()
        .click({ timeout: 15_000 });
      await page.locator('.tabs-container .tab', { hasText: 'summarize.prompt.md' }).waitFor();
      await lens(page).waitFor({ timeout: 30_000 });
      assert.match(await lens(page).innerText(), /not registered: Register Version 1/);

      await paletteWithInput(page, 'MLOps: Register Prompt Version', 'first version');
      await page.waitForFunction(
        () =>
          /Matches summarize v1/.test(
            document.querySelector('.codelens-decoration')?.textContent ?? '',
          ),
        undefined,
        { timeout: 15_000 },
      );

      // Edit the text in the editor: the lens says it differs before anything is saved.
      await page.locator('.editor-instance .view-line', { hasText: 'Summarize' }).first().click();
      await page.keyboard.press('End');
      await page.keyboard.press('Backspace'); // the final '.'
      await page.keyboard.type(', as bullet points for {{ audience }}.');
      await page.waitForFunction(
        () =>
          /Unregistered changes against v1 \(latest\)/.test(
            document.querySelector('.codelens-decoration')?.textContent ?? '',
          ),
        undefined,
        { timeout: 15_000 },
      );
      await page.keyboard.press('Control+S');
      await paletteWithInput(page, 'MLOps: Register Prompt Version', 'bullet points');
      await page.waitForFunction(
        () =>
          /Matches summarize v2/.test(
            document.querySelector('.codelens-decoration')?.textContent ?? '',
          ),
        undefined,
        { timeout: 15_000 },
      );
      const shown = cli(s.workspace, 'prompts', 'show', 'prompts:/summarize/2', '--json');
      const v2 = JSON.parse(shown);
      assert.equal(
        v2.template,
        'Summarize {{ text }} in {{ n }} words, as bullet points for {{ audience }}.',
      );
      assert.equal(v2.commitMessage, 'bullet points');
      assert.equal(v2.sourceFile, PROMPT);
      assert.deepEqual(v2.modelSettings, { model: 'gpt-4o-mini', temperature: 0.2 });
    }));

  it('compares v1 with v2 in the diff editor from the Prompts view', async () =>
    s.check('diff', async (page) => {
      await openMlops(page);
      await expandPane(page, 'Prompts');
      await expand(page, 'summarize');
      await row(page, 'v2').first().click();
      await row(page, 'v1')
        .first()
        .click({ modifiers: ['Control'] });
      await contextMenu(page, 'v1', 'Compare Prompt Versions');
      const diff = page.locator('.editor-instance .monaco-diff-editor');
      await diff.waitFor({ timeout: 20_000 });
      await page.locator('.tabs-container .tab', { hasText: 'summarize v1 ↔ v2' }).waitFor();
      // Both sides render a moment after the editor appears.
      for (const side of ['original', 'modified']) {
        await diff
          .locator(`.editor.${side} .view-lines`, { hasText: 'Summarize' })
          .waitFor({ timeout: 15_000 });
      }
      const original = await diff.locator('.editor.original .view-lines').innerText();
      const modified = await diff.locator('.editor.modified .view-lines').innerText();
      // Long lines wrap in the diff editor; compare the words.
      const flat = (t) => t.replace(/[\s\u00a0]+/g, ' ');
      assert.match(flat(original), /Summarize \{\{ text \}\} in \{\{ n \}\} words\./);
      assert.match(flat(modified), /as bullet points for \{\{ audience \}\}\./);
      assert.match(flat(modified), /temperature: 0\.2/);
      await screenshot(page, 'prompt-diff');
    }));

  it('sets @champion, then moves it with a reason that the history keeps', async () =>
    s.check('alias', async (page) => {
      await contextMenu(page, 'v1', 'Set Alias...');
      const widget = page.locator('.quick-input-widget');
      await widget.locator('.monaco-list-row', { hasText: '@champion' }).first().click();
      await page.waitForFunction(
        () =>
          [...document.querySelectorAll('.part.sidebar .monaco-list-row')].some(
            (r) => /^\s*v1/.test(r.textContent) && /@champion/.test(r.textContent),
          ),
        undefined,
        { timeout: 10_000 },
      );

      await contextMenu(page, 'v2', 'Set Alias...');
      await widget.locator('.monaco-list-row', { hasText: '@champion' }).first().click();
      await answerInput(page, 'bullets read better');
      await page.waitForFunction(
        () =>
          [...document.querySelectorAll('.part.sidebar .monaco-list-row')].some(
            (r) => /^\s*v2/.test(r.textContent) && /@champion/.test(r.textContent),
          ),
        undefined,
        { timeout: 10_000 },
      );
      const history = JSON.parse(
        cli(s.workspace, 'prompts', 'show', 'summarize', '--history', '--json'),
      ).aliasHistory;
      assert.deepEqual(
        history.map((h) => [h.alias, h.from, h.to, h.reason]),
        [
          ['champion', null, 1, null],
          ['champion', 1, 2, 'bullets read better'],
        ],
      );
      // For the picture: the Experiments pane (empty here) folded, v2's details open.
      await page.locator('.part.sidebar .pane-header', { hasText: 'Experiments' }).first().click();
      // A click on a version opens its text; its details open from the twistie.
      await row(page, 'v2').first().locator('.monaco-tl-twistie').click();
      await row(page, 'temperature').first().waitFor();
      await screenshot(page, 'prompts-view');
    }));

  it("registers a run's artifact as a model version from the Experiments view", async () =>
    s.check('model', async (page) => {
      await page.locator('.part.sidebar .pane-header', { hasText: 'Experiments' }).first().click();
      await expand(page, 'train');
      await expand(page, 'fit-1');
      await expand(page, 'Artifacts (1)');
      await expand(page, 'model');
      await contextMenu(page, 'weights.bin', 'Register as Model Version...');
      const widget = page.locator('.quick-input-widget');
      await widget.locator('.monaco-list-row', { hasText: 'New model' }).first().click();
      await answerInput(page, 'classifier');
      await expandPane(page, 'Models');
      await row(page, 'classifier').first().waitFor({ timeout: 15_000 });
      const v = JSON.parse(cli(s.workspace, 'models', 'show', 'models:/classifier/1', '--json'));
      assert.equal(v.runId, s.prepared.runId);
      assert.equal(v.source, `runs:/${s.prepared.runId}/model/weights.bin`);
    }));
});
