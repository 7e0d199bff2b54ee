// `npm start`: builds and packages the extension, fills the demo workspace
// (examples/demo) by running its training script when its store is empty,
// installs the .vsix into a local VS Code (code-server, installed on first use),
// starts the local OpenAI-compatible server the demo's eval suite calls, opens VS Code
// on the demo workspace and prints the URL to open in a browser.
// Ctrl-C stops it. PORT picks the port (default: a free one).

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeOpenAI } from '../test/fixtures/openaiServer.ts';
import { ensureHost } from '../test/e2e/host/install.mjs';
import { installVsix, startCodeServer } from '../test/e2e/host/server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const demo = path.join(root, 'examples', 'demo');
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
const stateDir = path.join(root, '.e2e-host', 'start');
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
Press Ctrl-C to stop.`);
await new Promise(() => {});
