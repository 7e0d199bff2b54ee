// In-host API tests: code-server (a real VS Code) loads the extension from the repo as a
// development extension (extensionDevelopmentPath, no .vsix) and runs test/e2e/inhost/index.js
// inside its extension host (extensionTestsPath), on a workspace seeded through the CLI.
// That module checks the API `activate` returns and reports each check to a JSON file
// (in the workspace) and through the page's codeAutomationLog; the workbench reports
// the end through codeAutomationExit. Needs `npm run build` first. On failure a screenshot
// and the logs go to test-results/e2e/ (inhost-*).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { resultsDir, startSession } from './host/session.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cliPath = path.join(repo, 'dist', 'cli.js');
const extensionMain = path.join(repo, 'dist', 'extension.js');
const testsModule = path.join(repo, 'test', 'e2e', 'inhost', 'index.js');
const EXIT_TIMEOUT_MS = 120_000;
const NAME = 'inhost';

function cli(cwd, ...args) {
  return execFileSync(process.execPath, [cliPath, ...args], { cwd, encoding: 'utf8' }).trim();
}

/**
 * What the in-host checks expect: mnist with baseline (lr 0.01, accuracy 0.8 then 0.91, tag
 * team=vision), its nested run child, and bigger-lr (lr 0.1, accuracy 0.72); nlp with
 * bert-base. The Default experiment stays empty.
 */
function seed(ws) {
  const start = (exp, name, ...more) =>
    cli(ws, 'run', 'start', '-e', exp, '--name', name, '--no-git', ...more);
  const baseline = start('mnist', 'baseline', '--tag', 'team=vision');
  cli(ws, 'log', 'param', 'lr', '0.01', '--run', baseline);
  cli(ws, 'log', 'metric', 'accuracy', '0.8', '--step', '1', '--run', baseline);
  cli(ws, 'log', 'metric', 'accuracy', '0.91', '--step', '2', '--run', baseline);
  cli(ws, 'run', 'end', baseline);
  const child = start('mnist', 'child', '--parent', baseline);
  cli(ws, 'run', 'end', child);
  const bigger = start('mnist', 'bigger-lr');
  cli(ws, 'log', 'param', 'lr', '0.1', '--run', bigger);
  cli(ws, 'log', 'metric', 'accuracy', '0.72', '--step', '2', '--run', bigger);
  cli(ws, 'run', 'end', bigger);
  const bert = start('nlp', 'bert-base');
  cli(ws, 'run', 'end', bert);
  return { baseline, child, bigger, bert };
}

describe('the extension API inside the extension host (extensionTestsPath)', () => {
  const s = {
    session: undefined,
    resultsFile: undefined,
    automationLog: [],
    exit: undefined,
    exited: undefined,
    failed: false,
  };

  before(
    async () => {
      for (const file of [extensionMain, cliPath]) {
        assert.ok(fs.existsSync(file), `${file} is missing: run \`npm run build\` first`);
      }
      s.exited = new Promise((resolve) => {
        s.onExit = resolve;
      });
      // A fresh state: the extension comes only from extensionDevelopmentPath, no .vsix.
      s.session = await startSession({
        name: NAME,
        prepare: seed,
        env: { MLOPS_INHOST_NODE: process.execPath },
        timeoutMs: 90_000,
        // openWorkbench URL-encodes query values.
        query: (server) => {
          const remote = (p) => `vscode-remote://127.0.0.1:${server.port}${p}`;
          return {
            payload: JSON.stringify([
              ['extensionDevelopmentPath', remote(repo)],
              ['extensionTestsPath', remote(testsModule)],
            ]),
          };
        },
        exposeFunctions: {
          codeAutomationLog: (type, args) => {
            const text = Array.isArray(args) ? args.join(' ') : String(args);
            s.automationLog.push(`[${type}] ${text}`);
          },
          codeAutomationExit: (code, logs) => {
            s.exit = { code, logs, at: Date.now() };
            s.onExit(s.exit);
          },
        },
      });
      // Without $MLOPS_INHOST_RESULTS the in-host module writes its results here.
      s.resultsFile = path.join(s.session.workspace, '.inhost-results.json');
    },
    { timeout: 20 * 60_000 },
  );

  after(async () => {
    if (s.failed && s.session) {
      s.session.markFailed();
      await saveFailureArtifacts(s);
    }
    await s.session?.close();
  });

  it(
    'runs the in-host checks to the end and exits with code 0',
    async (t) => {
      try {
        const exit = await Promise.race([
          s.exited,
          new Promise((resolve) => setTimeout(resolve, EXIT_TIMEOUT_MS).unref()),
        ]);
        for (const line of s.automationLog.filter((l) => l.includes('[inhost]')))
          t.diagnostic(line);
        assert.ok(
          exit,
          `no codeAutomationExit within ${EXIT_TIMEOUT_MS / 1000} s; last log lines:\n` +
            s.automationLog.slice(-30).join('\n'),
        );
        assert.equal(exit.code, 0, 'the in-host run failed; see the checks below');
      } catch (e) {
        s.failed = true;
        throw e;
      }
    },
    { timeout: EXIT_TIMEOUT_MS + 30_000 },
  );

  it('reports every in-host check as passed', async (t) => {
    let results;
    try {
      assert.ok(
        fs.existsSync(s.resultsFile),
        `the in-host module wrote no ${s.resultsFile} (did it run? was MLOPS_INHOST_RESULTS ` +
          `passed to the extension host?)`,
      );
      results = JSON.parse(fs.readFileSync(s.resultsFile, 'utf8'));
      t.diagnostic(
        `extension host: Node ${results.node}, VS Code ${results.vscode}, ${results.uiKind}, ` +
          `remote ${results.remoteName}`,
      );
      assert.ok(results.checks.length > 0, 'no check ran');
    } catch (e) {
      s.failed = true;
      throw e;
    }
    for (const check of results.checks) {
      await t.test(check.name, (st) => {
        st.diagnostic(`${check.ms} ms${check.details ? ` ${JSON.stringify(check.details)}` : ''}`);
        if (!check.ok) {
          s.failed = true;
          // Shown as thrown in the extension host: its message and stack.
          const error = new Error(check.error.split('\n')[0]);
          error.stack = check.error;
          throw error;
        }
      });
    }
    if (!results.done) {
      s.failed = true;
      assert.fail('the in-host run stopped before its last check');
    }
  });
});

/** What only this test has to keep on failure; the session keeps the server log and console. */
async function saveFailureArtifacts(s) {
  fs.mkdirSync(resultsDir, { recursive: true });
  if (s.session.page) await s.session.screenshot('FAILED').catch(() => {});
  fs.writeFileSync(
    path.join(resultsDir, `${NAME}-automation.log`),
    s.automationLog.join('\n') + '\n',
  );
  // The workbench's own log files, handed over with codeAutomationExit.
  for (const { relativePath, contents } of s.exit?.logs ?? []) {
    const file = path.join(resultsDir, `${NAME}-workbench-logs`, relativePath);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, contents);
  }
  if (s.resultsFile && fs.existsSync(s.resultsFile))
    fs.copyFileSync(s.resultsFile, path.join(resultsDir, `${NAME}-results.json`));
}
