// `npm start`: builds and packages the extension, fills the demo workspace
// (examples/demo) by running its training script when its store is empty,
// installs the .vsix into a local VS Code (code-server, installed on first use),
// starts the local OpenAI-compatible server the demo's eval suite calls, opens VS Code
// on the demo workspace and prints the URL to open in a browser.
// Ctrl-C stops it. PORT picks the port (default: a free one).
// `npm start -- --check` does all of that, then opens the URL in chromium, checks that the
// MLOps view shows the demo's runs, saves a screenshot and stops everything (exit 0 when the
// check passed): CI runs it so that the README's first command is tested on every landing.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeOpenAI } from '../test/fixtures/openaiServer.ts';
import { ensureHost, log } from '../test/e2e/host/install.mjs';
import { installVsix, startCodeServer } from '../test/e2e/host/server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const demo = path.join(root, 'examples', 'demo');
const check = process.argv.slice(2).includes('--check');
const unknown = process.argv.slice(2).filter((a) => a !== '--check');
if (unknown.length) {
  console.error(`npm start: unknown argument ${unknown[0]} (the only one is --check)`);
  process.exit(2);
}
const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

run('npm', ['run', 'package', '--silent'], { cwd: root });
const store = path.join(demo, '.mlops');
const empty =
  !fs.existsSync(store) ||
  !fs.readdirSync(store).some((f) => /^(store\.db|journal-\d+\.log)$/.test(f));
if (empty) {
  console.log('Filling the demo store (examples/demo/.mlops) with examples/demo/train.js ...');
  run(process.execPath, ['train.js'], { cwd: demo });
}

// The demo's eval suite (examples/demo/evals) calls an OpenAI-compatible endpoint on
// this port: the local server with deterministic answers, so it runs offline and free.
const EVAL_PORT = 11435;
let evalServer;
try {
  evalServer = await startFakeOpenAI({
    port: EVAL_PORT,
    fixturesFile: path.join(demo, 'evals', 'fake-answers.json'),
    latencyMs: 150,
  });
} catch (e) {
  console.warn(
    `The demo eval endpoint could not start on port ${EVAL_PORT} (${e.message}); evals in the demo will error.`,
  );
}

const host = await ensureHost();
// The check keeps its own state, so that it never disturbs a workbench started by hand.
const stateDir = path.join(root, '.e2e-host', check ? 'start-check' : 'start');
await installVsix({ vsixPath: path.join(root, 'dist', 'mlops-workbench.vsix'), stateDir, host });
const server = await startCodeServer({
  folder: demo,
  stateDir,
  host,
  port: process.env.PORT ? Number(process.env.PORT) : undefined,
  settings: { 'workbench.startupEditor': 'none' },
});
const url = `${server.url}/?folder=${encodeURIComponent(demo)}`;
console.log(`
MLOps Workbench is running on the demo workspace:

    ${url}

Open it in a browser (over SSH: ssh -L ${server.port}:127.0.0.1:${server.port} <host>), then
click the MLOps icon in the activity bar. The CLI works on the same store:
    node dist/cli.js runs list --store examples/demo/.mlops
Open examples/demo/prompts/capitals.prompt.md and click "Run Eval" above its first line:
the suite in examples/demo/evals runs against ${evalServer ? evalServer.url : 'no endpoint (see the warning above)'}.
Right-click examples/demo/datasets/train.csv for "Set as Baseline", then live.csv for
"Check Drift...". A terminal opened in the workbench has MLFLOW_TRACKING_URI set: MLflow
clients run there log into the demo store (the port is in the status bar).
${check ? 'Checking it in chromium (--check) ...' : 'Press Ctrl-C to stop.'}`);

if (!check) await new Promise(() => {});

let failure;
try {
  await checkWorkbench();
} catch (e) {
  failure = e;
}
await server.stop();
await evalServer?.close();
if (failure) {
  console.error(`npm start --check FAILED: ${failure.message}`);
  console.error(`code-server's log: ${server.logFile}`);
  process.exit(1);
}
console.log('npm start --check passed; the workbench and the demo endpoint are stopped.');
process.exit(0);

/** Opens the workbench as a person would and checks that the MLOps view lists the demo runs. */
async function checkWorkbench() {
  const { closeWorkbench, openWorkbench, screenshot } =
    await import('../test/e2e/host/browser.mjs');
  const { expand, openMlops, row } = await import('../test/e2e/host/tree.mjs');
  // What the view must show is what the demo store holds, read through the CLI.
  const listed = spawnSync(
    process.execPath,
    [path.join(root, 'dist', 'cli.js'), 'runs', 'list', '-e', 'moons-logreg', '--json'],
    { cwd: demo, encoding: 'utf8' },
  );
  if (listed.status !== 0) throw new Error(`mlops runs list: ${listed.stderr.trim()}`);
  const runNames = JSON.parse(listed.stdout).runs.map((r) => r.info.runName);
  if (runNames.length === 0) throw new Error('the demo store has no runs in moons-logreg');

  const screenshotsDir = path.join(root, 'test-results', 'e2e');
  const page = await openWorkbench({ url: server.url, folder: demo, screenshotsDir });
  try {
    await openMlops(page);
    await expand(page, 'moons-logreg');
    for (const name of runNames) await row(page, name).first().waitFor({ timeout: 30_000 });
    const file = await screenshot(page, 'npm-start-check');
    log(`the MLOps view shows moons-logreg with ${runNames.join(', ')} (screenshot ${file})`);
  } catch (e) {
    const file = await screenshot(page, 'npm-start-check-FAILED').catch(() => undefined);
    throw new Error(`${e.message}${file ? ` (screenshot ${file})` : ''}`, { cause: e });
  } finally {
    await closeWorkbench(page);
  }
}
