// End-to-end: traces in a real VS Code. A script outside VS Code (the OpenTelemetry JS SDK)
// exports a nested agent trace over OTLP to the workbench's endpoint; the trace appears in
// the Traces view; the inspector shows the span tree, the waterfall, the chat of the model
// calls and the retriever's documents; feedback and "Add to eval dataset" land in the store
// and the suite's dataset file; and a case of an eval run (recorded by the CLI) opens its
// trace from the results panel. Screenshots for the README.

import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startFakeOpenAI } from '../fixtures/openaiServer.ts';
import { screenshot } from './host/browser.mjs';
import { startSession } from './host/session.mjs';
import { expand, expandPane, openMlops, row } from './host/tree.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const vsix = path.join(repo, 'dist', 'mlops-workbench.vsix');
const cliPath = path.join(repo, 'dist', 'cli.js');
const execFileAsync = promisify(execFile);
const agentScript = path.join(repo, 'test', 'fixtures', 'otelAgent.mjs');

/** The newest webview panel's page. */
const webview = (page) =>
  page.frameLocator('iframe.webview.ready').last().frameLocator('iframe#active-frame');

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

const QUESTION = 'What is the capital of France?';

const SUITE = (url) => `name: capitals
prompt: ../prompts/capitals.prompt.md
provider:
  baseUrl: ${url}
  model: gpt-4o-mini
dataset:
  path: capitals.jsonl
criteria:
  - name: names-the-city
    type: equals
    ignoreCase: true
`;

const cli = (cwd, ...args) =>
  JSON.parse(
    execFileSync(process.execPath, [cliPath, ...args, '--json'], { cwd, encoding: 'utf8' }),
  );

describe('traces in the real host', () => {
  let s;
  let server;
  let port;
  let traceId;

  before(
    async () => {
      assert.ok(fs.existsSync(vsix), `${vsix} is missing: run \`npm run package\` first`);
      port = await freePort();
      server = await startFakeOpenAI({
        rules: [
          { match: 'France', reply: 'Paris' },
          { match: 'Japan', reply: 'Kyoto' },
        ],
      });
      s = await startSession({
        name: 'traces',
        files: {
          '.vscode/settings.json': JSON.stringify({ 'mlops.server.port': port }),
          'prompts/capitals.prompt.md': 'What is the capital of {{ country }}? One word.\n',
          'evals/capitals.eval.yaml': SUITE(server.url),
          'evals/capitals.jsonl':
            '{"id": "fr", "country": "France", "expected": "Paris"}\n{"id": "jp", "country": "Japan", "expected": "Tokyo"}\n',
          '.mlops/.keep': '',
        },
        // An eval run recorded by the CLI: a trace per case, linked to the run. Not
        // execFileSync: the fake model server answers from this process's event loop.
        prepare: (workspace) =>
          execFileAsync(process.execPath, [cliPath, 'eval', 'evals/capitals.eval.yaml'], {
            cwd: workspace,
            encoding: 'utf8',
          }),
        vsixPaths: [vsix],
      });
    },
    { timeout: 20 * 60_000 },
  );
  after(async () => {
    await s?.close();
    await server?.close();
  });

  it('shows a trace that a script outside VS Code exported over OTLP', async () =>
    s.check('view', async (page) => {
      await page
        .locator('.statusbar-item', { hasText: `MLflow :${port}` })
        .first()
        .waitFor({ timeout: 60_000 });
      traceId = execFileSync(process.execPath, [agentScript, QUESTION], {
        encoding: 'utf8',
        env: {
          ...process.env,
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${port}/v1/traces`,
        },
      }).trim();
      assert.match(traceId, /^[0-9a-f]{32}$/);
      await openMlops(page);
      await page.locator('.part.sidebar .pane-header', { hasText: 'Experiments' }).first().click();
      await expandPane(page, 'Traces');
      await row(page, 'agent').first().waitFor({ timeout: 30_000 });
      const text = await row(page, 'agent').first().innerText();
      assert.match(text, /tok/, `the row shows tokens: ${text}`);
      // The eval's traces are there too, under Evals.
      await row(page, 'capitals · fr').first().waitFor({ timeout: 20_000 });
      await row(page, 'agent').first().click();
      await webview(page).locator('#span-grid .span-row').first().waitFor({ timeout: 30_000 });
      await page.locator('.part.sidebar').first().hover();
      await screenshot(page, 'traces-view');
    }));

  it('inspects it: tree, waterfall, chat, documents, keyboard', async () =>
    s.check('inspector', async (page) => {
      const view = webview(page);
      const rows = view.locator('#span-grid .span-row');
      await rows.nth(4).waitFor({ timeout: 30_000 });
      assert.equal(await rows.count(), 5);
      const names = await view.locator('#span-grid .span-row .span-name').allInnerTexts();
      assert.deepEqual(names, [
        'agent',
        'chat gpt-4o-mini',
        'execute_tool lookup',
        'retrieve',
        'chat gpt-4o-mini',
      ]);
      assert.equal(await view.locator('#span-grid .span-row .bar').count(), 5, 'a bar per span');
      assert.ok(
        (await view.locator('#span-grid .span-row.critical').count()) >= 2,
        'critical path marked',
      );
      assert.match(await view.locator('#trace-tokens').innerText(), /138 in · 14 out/);
      // The retriever's documents with their scores.
      await view.locator('#span-grid .span-row[data-type="RETRIEVER"]').click();
      await view.locator('#span-details .document').nth(1).waitFor({ timeout: 10_000 });
      assert.match(
        await view.locator('#span-details .documents').innerText(),
        /score 0\.930[\s\S]*Paris is the capital/,
      );
      // The first model call: its chat with the tool call it asked for.
      await view.locator('#span-grid .span-row[data-type="CHAT_MODEL"]').first().click();
      await view.locator('#span-details .chat-tool-call').waitFor({ timeout: 10_000 });
      const chat = await view.locator('#span-details').innerText();
      assert.match(chat, /system[\s\S]*Answer in one word/);
      assert.match(chat, new RegExp(`user[\\s\\S]*${QUESTION.replace('?', '\\?')}`));
      assert.match(chat, /→ lookup \(call_1\)/);
      // From the keyboard: down to the tool span, whose details follow.
      await view.locator('#span-grid').focus();
      await page.keyboard.press('ArrowDown');
      await view
        .locator('#span-details h2', { hasText: 'execute_tool lookup' })
        .waitFor({ timeout: 10_000 });
      await page.keyboard.press('ArrowUp');
      await view.locator('#span-details .chat-tool-call').waitFor({ timeout: 10_000 });
      await screenshot(page, 'trace-inspector');
      // Zoom in on the timeline (from the keyboard): the axis starts past 0; 0 resets it.
      const firstTick = () => view.locator('.axis .tick').first().innerText();
      assert.equal(await firstTick(), '0 µs');
      await page.keyboard.press('+');
      await view
        .locator('.axis .tick')
        .first()
        .filter({ hasNotText: /^0 µs$/ })
        .waitFor({ timeout: 5000 });
      await page.keyboard.press('0');
      await view
        .locator('.axis .tick', { hasText: /^0 µs$/ })
        .first()
        .waitFor({ timeout: 5000 });
    }));

  it('records feedback and adds a model call to the eval dataset', async () =>
    s.check('dataset', async (page) => {
      const view = webview(page);
      const feedback = view.locator('.trace-header .feedback');
      await feedback.locator('.feedback-comment').fill('right answer, slow tool');
      await feedback.locator('.thumb-up').click();
      await feedback.locator('.assessments li').first().waitFor({ timeout: 10_000 });
      const shown = cli(s.workspace, 'traces', 'show', traceId);
      assert.equal(shown.assessments[0].value, true);
      assert.equal(shown.assessments[0].rationale, 'right answer, slow tool');

      // The second model call (the answer) becomes a case of the capitals suite.
      await view.locator('#span-grid .span-row[data-type="CHAT_MODEL"]').nth(1).click();
      await view.locator('#add-to-dataset').click();
      const widget = page.locator('.quick-input-widget');
      await widget
        .locator('.monaco-list-row', { hasText: 'capitals' })
        .first()
        .waitFor({ timeout: 15_000 });
      await widget.locator('input').first().press('Enter');
      const file = path.join(s.workspace, 'evals', 'capitals.jsonl');
      const deadline = Date.now() + 15_000;
      let lines = [];
      while (Date.now() < deadline) {
        lines = fs.readFileSync(file, 'utf8').trim().split('\n');
        if (lines.length === 3) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(lines.length, 3, 'a case was appended');
      const added = JSON.parse(lines[2]);
      assert.equal(added.vars.input, QUESTION);
      assert.equal(added.expected, 'Paris');
      assert.match(added.id, /^trace-/);
    }));

  it("opens an eval case's trace from the results panel", async () =>
    s.check('eval', async (page) => {
      await expandPane(page, 'Evals');
      await expand(page, 'capitals');
      const runRow = row(page, '50% passed').first();
      await runRow.waitFor({ timeout: 20_000 });
      await runRow.click();
      let view = webview(page);
      await view.locator('#eval-cases tr.case-row[data-case="1/0"]').click();
      const detail = view.locator('#eval-cases tr.detail-row[data-detail="1/0"]');
      await detail.locator('.open-trace').click();
      view = webview(page);
      await view.locator('#span-details h2').waitFor({ timeout: 30_000 });
      const names = await view.locator('#span-grid .span-row .span-name').allInnerTexts();
      assert.deepEqual(names, ['capitals · jp', 'chat gpt-4o-mini', 'grade names-the-city']);
      // The verdict sits on the model call it judged.
      assert.match(
        await view
          .locator('#span-grid .span-row[data-type="CHAT_MODEL"] .verdict-fail')
          .innerText(),
        /names-the-city/,
      );
      assert.equal(
        await page.locator('.tab.active', { hasText: 'Trace: capitals · jp' }).count(),
        1,
      );
    }));
});
