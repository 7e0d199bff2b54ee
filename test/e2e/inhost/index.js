// In-host API tests: loaded by the real extension host (code-server's Node 24) as the
// extensionTestsPath module; `run()` checks the API that `activate` returns from inside,
// where the tree's nodes, the view's description and message and the open documents are
// plain values. The runner, test/e2e/inhost.test.mjs, seeds the workspace through the CLI
// before the host starts (see there for the runs it expects).
//
// Results: each check prints an `[inhost] PASS|FAIL <name>` line with console.log (the
// workbench forwards extension-host console output to the page's codeAutomationLog while
// extension tests run) and is written, after every check, to the JSON file named by
// $MLOPS_INHOST_RESULTS (else <workspace>/.inhost-results.json). run() throws when a check
// failed, so the workbench calls codeAutomationExit with a non-zero code.

'use strict';

const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const vscode = require('vscode');

const EXTENSION_ID = 'mlops-workbench.mlops-workbench';
const RUN_SCHEME = 'mlops-run';
const repo = path.resolve(__dirname, '..', '..', '..');
const cliPath = path.join(repo, 'dist', 'cli.js');

function log(line) {
  console.log(`[inhost] ${line}`);
}

function workspaceDir() {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the workbench has no workspace folder open');
  return folder.uri.fsPath;
}

function resultsFile() {
  return process.env.MLOPS_INHOST_RESULTS || path.join(workspaceDir(), '.inhost-results.json');
}

/** Runs `node dist/cli.js ...args` in the workspace folder, as another process. */
function cli(...args) {
  const node = process.env.MLOPS_INHOST_NODE || process.execPath;
  return new Promise((resolve, reject) => {
    execFile(
      node,
      [cliPath, ...args],
      { cwd: workspaceDir(), encoding: 'utf8', timeout: 30_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`mlops ${args.join(' ')} failed: ${error.message}\n${stderr}`));
        else resolve(stdout.trim());
      },
    );
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `fn` until it returns a truthy value; rejects naming `what` after `timeoutMs`. */
async function waitFor(what, timeoutMs, fn) {
  const started = Date.now();
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() - started > timeoutMs) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await sleep(25);
  }
}

/**
 * Resolves with the time (Date.now()) of the first store change event for which
 * `accept(change)` holds; `dispose()` stops listening.
 */
function nextStoreChange(store, accept = () => true) {
  let subscription;
  const promise = new Promise((resolve) => {
    subscription = store.onDidChange((change) => {
      if (accept(change)) {
        subscription.dispose();
        resolve({ at: Date.now(), change });
      }
    });
  });
  return { promise, dispose: () => subscription.dispose() };
}

/** Waits on a promise for at most `ms`, then rejects naming `what`. */
function within(ms, what, promise) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)),
        ms,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

const labelOf = (item) => (typeof item.label === 'string' ? item.label : item.label?.label);

/** The experiment node named `name` from the root of the tree. */
async function experimentNode(api, name) {
  const roots = await api.tree.getChildren();
  const node = roots.find((n) => n.kind === 'experiment' && n.experiment.name === name);
  assert.ok(node, `no experiment ${name} at the root: ${JSON.stringify(roots.map(describe))}`);
  return node;
}

async function runNames(api, experiment) {
  const children = await api.tree.getChildren(await experimentNode(api, experiment));
  return children.map((n) => (n.kind === 'run' ? n.run.info.runName : `<${n.kind}>`));
}

async function runNode(api, experiment, name) {
  const children = await api.tree.getChildren(await experimentNode(api, experiment));
  const node = children.find((n) => n.kind === 'run' && n.run.info.runName === name);
  assert.ok(node, `no run ${name} under ${experiment}`);
  return node;
}

/** A short, JSON-friendly picture of a node for failure messages. */
function describe(node) {
  switch (node.kind) {
    case 'experiment':
      return `experiment ${node.experiment.name}`;
    case 'run':
      return `run ${node.run.info.runName}`;
    case 'section':
      return `section ${node.section} (${node.count})`;
    default:
      return node.kind;
  }
}

// ---------------------------------------------------------------------------------------
// The checks, in order; each gets a shared state object and may return details to report.

const checks = [
  [
    'activation returns the API and every contributed command is registered',
    async (state) => {
      const extension = vscode.extensions.getExtension(EXTENSION_ID);
      assert.ok(extension, `extension ${EXTENSION_ID} is not loaded`);
      const api = await extension.activate();
      assert.equal(extension.isActive, true);
      assert.ok(api, 'activate returned nothing (it returns undefined when it failed)');
      assert.ok(api.store && typeof api.store.get === 'function', 'api.store is not the store');
      assert.ok(api.tree && typeof api.tree.getChildren === 'function', 'api.tree is not the tree');
      assert.equal(api.tree.view.description, undefined, 'no filter yet, so no description');
      state.api = api;

      const contributed = extension.packageJSON.contributes.commands.map((c) => c.command);
      const registered = new Set(await vscode.commands.getCommands(true));
      const missing = contributed.filter((c) => !registered.has(c));
      assert.deepEqual(missing, [], 'contributed commands that are not registered');
      // The other way round: every mlops.* command is contributed (the views' own commands,
      // mlops.experiments.*, mlops.models.*, ..., come from VS Code).
      const viewIds = Object.values(extension.packageJSON.contributes.views)
        .flat()
        .map((v) => v.id);
      const undeclared = [...registered].filter(
        (c) =>
          c.startsWith('mlops.') &&
          !viewIds.some((id) => c.startsWith(`${id}.`)) &&
          !contributed.includes(c),
      );
      assert.deepEqual(undeclared, [], 'registered mlops.* commands missing from package.json');
      return { commands: contributed.length, vscode: vscode.version, node: process.version };
    },
  ],
  [
    'the root lists mnist and nlp with their run counts, and hides an empty Default',
    async ({ api }) => {
      const roots = await api.tree.getChildren();
      assert.deepEqual(roots.map(describe), ['experiment mnist', 'experiment nlp']);
      const [mnist, nlp] = roots.map((n) => api.tree.getTreeItem(n));
      assert.equal(labelOf(mnist), 'mnist');
      // Every run counts, the nested one too.
      assert.equal(mnist.description, '3 runs');
      assert.equal(mnist.contextValue, 'experiment');
      assert.equal(mnist.collapsibleState, vscode.TreeItemCollapsibleState.Collapsed);
      assert.match(mnist.id, /^exp:\d+$/);
      assert.equal(labelOf(nlp), 'nlp');
      assert.equal(nlp.description, '1 run');
    },
  ],
  [
    'an experiment lists its top-level runs; the child run nests under baseline before its sections',
    async ({ api }) => {
      assert.deepEqual(await runNames(api, 'mnist'), ['bigger-lr', 'baseline']);
      const baseline = await runNode(api, 'mnist', 'baseline');
      const item = api.tree.getTreeItem(baseline);
      assert.equal(item.contextValue, 'run');
      assert.match(item.description, /^accuracy 0\.91 · /);
      assert.equal(item.iconPath?.id, 'layers', 'a finished run with children shows layers');

      const children = await api.tree.getChildren(baseline);
      assert.deepEqual(
        children.map((n) => labelOf(api.tree.getTreeItem(n))),
        ['child', 'Params (1)', 'Metrics (1)', 'Tags (1)'],
      );
      assert.equal(children[0].kind, 'run');
      assert.equal(children[0].run.info.parentRunId, baseline.run.info.runId);
      const [, params, metrics] = children;
      const [lr] = await api.tree.getChildren(params);
      assert.deepEqual([labelOf(api.tree.getTreeItem(lr)), lr.description], ['lr', '0.01']);
      const [accuracy] = await api.tree.getChildren(metrics);
      assert.equal(accuracy.label, 'accuracy');
      assert.equal(accuracy.description, '0.91  (min 0.8, max 0.91, 2 steps)');
      // The child has nothing logged: no sections, no runs.
      assert.deepEqual(await api.tree.getChildren(children[0]), []);
    },
  ],
  [
    'mlops.filterRuns with a preset narrows the runs and shows the filter; mlops.clearFilter restores',
    async ({ api }) => {
      const filter = "params.lr = '0.1'";
      await vscode.commands.executeCommand('mlops.filterRuns', filter);
      assert.equal(api.tree.currentFilter, filter);
      assert.equal(api.tree.view.description, `filter: ${filter}`);
      assert.ok(
        api.tree.view.message?.includes(filter),
        `view message ${JSON.stringify(api.tree.view.message)} lacks the filter`,
      );
      assert.deepEqual(await runNames(api, 'mnist'), ['bigger-lr']);
      const roots = await api.tree.getChildren();
      assert.deepEqual(
        roots.map((n) => api.tree.getTreeItem(n).description),
        ['1 of 3 runs match', '0 of 1 run match'],
      );

      // A bad filter is refused (the command returns, with an error message shown)
      // and the filter in force stays.
      await vscode.commands.executeCommand('mlops.filterRuns', 'metrics.acc >> 1');
      assert.equal(api.tree.currentFilter, filter);

      await vscode.commands.executeCommand('mlops.clearFilter');
      assert.equal(api.tree.currentFilter, '');
      assert.equal(api.tree.view.description, undefined);
      assert.equal(api.tree.view.message, undefined);
      assert.deepEqual(await runNames(api, 'mnist'), ['bigger-lr', 'baseline']);
      assert.equal(api.tree.getTreeItem(await experimentNode(api, 'mnist')).description, '3 runs');
    },
  ],
  [
    'mlops.openRun opens the run as a mlops-run document that follows metrics logged by the CLI',
    async ({ api }) => {
      const baseline = await runNode(api, 'mnist', 'baseline');
      const runId = baseline.run.info.runId;
      await vscode.commands.executeCommand('mlops.openRun', baseline);
      const doc = await waitFor('the run document to open', 5000, () =>
        vscode.workspace.textDocuments.find(
          (d) => d.uri.scheme === RUN_SCHEME && d.uri.query === runId,
        ),
      );
      assert.equal(vscode.window.activeTextEditor?.document, doc, 'the run document is active');
      const text = doc.getText();
      assert.ok(
        text.startsWith('# Run baseline\n'),
        `document starts ${JSON.stringify(text.slice(0, 40))}`,
      );
      assert.match(text, /^\| lr \| 0\.01 \|$/m);
      assert.match(text, /^\| accuracy \| 0\.91 \| 0\.8 \| 0\.91 \| 2 \| 2 \|$/m);

      const spawned = Date.now();
      await cli('log', 'metric', 'accuracy', '0.95', '--step', '3', '--run', runId);
      const written = Date.now();
      await waitFor('the document to show accuracy 0.95', 3000, () =>
        /^\| accuracy \| 0\.95 \| 0\.8 \| 0\.95 \| 3 \| 3 \|$/m.test(doc.getText()),
      );
      const shown = Date.now();
      // The tree follows too.
      const item = api.tree.getTreeItem(await runNode(api, 'mnist', 'baseline'));
      assert.match(item.description, /^accuracy 0\.95 · /);
      return { cliMs: written - spawned, updateAfterCliMs: shown - written };
    },
  ],
  [
    'api.store.onDidChange fires within 1.5 s of a CLI write from another process',
    async ({ api }) => {
      const bert = await runNode(api, 'nlp', 'bert-base');
      const runId = bert.run.info.runId;
      const change = nextStoreChange(api.store, (c) => c === undefined || c.runs.has(runId));
      try {
        const spawned = Date.now();
        await cli('log', 'tag', 'stage', 'smoke', '--run', runId);
        const written = Date.now();
        const { at, change: event } = await within(
          5000,
          'a store change naming bert-base',
          change.promise,
        );
        const latency = Math.max(0, at - written);
        assert.ok(latency <= 1500, `the change event came ${latency} ms after the CLI exited`);
        assert.equal(event?.external, true, 'the change is marked as written by another process');
        return { cliMs: written - spawned, eventAfterCliMs: latency };
      } finally {
        change.dispose();
      }
    },
  ],
  [
    'mlops.showDeleted lists a run deleted by the CLI; mlops.hideDeleted hides it again',
    async ({ api }) => {
      const runId = await cli('run', 'start', '-e', 'nlp', '--name', 'to-delete', '--no-git');
      await cli('run', 'end', runId);
      await waitFor('the new run in the tree', 5000, async () =>
        (await runNames(api, 'nlp')).includes('to-delete'),
      );
      const deleted = nextStoreChange(api.store, (c) => c === undefined || c.runs.has(runId));
      await cli('runs', 'delete', runId);
      await within(5000, 'the deletion to reach the store', deleted.promise);
      assert.deepEqual(await runNames(api, 'nlp'), ['bert-base']);

      await vscode.commands.executeCommand('mlops.showDeleted');
      assert.deepEqual(await runNames(api, 'nlp'), ['to-delete', 'bert-base']);
      const item = api.tree.getTreeItem(await runNode(api, 'nlp', 'to-delete'));
      assert.equal(item.contextValue, 'run.deleted');
      assert.match(item.description, /· deleted$/);
      assert.equal(item.iconPath?.id, 'trash');
      assert.equal(api.tree.getTreeItem(await experimentNode(api, 'nlp')).description, '2 runs');

      await vscode.commands.executeCommand('mlops.hideDeleted');
      assert.deepEqual(await runNames(api, 'nlp'), ['bert-base']);
      assert.equal(api.tree.getTreeItem(await experimentNode(api, 'nlp')).description, '1 run');
    },
  ],
  [
    'the MLOps Workbench log channel records the activation time',
    async () => {
      await vscode.commands.executeCommand('mlops.showLog');
      // The shown channel's model is synced to the extension host as an `output:` document.
      const doc = await waitFor('the MLOps Workbench output document', 10_000, () =>
        vscode.workspace.textDocuments.find(
          (d) => d.uri.scheme === 'output' && /\[extension\] activated in \d+ ms/.test(d.getText()),
        ),
      );
      const text = doc.getText();
      const activated = Number(/\[extension\] activated in (\d+) ms/.exec(text)[1]);
      const treeReady = /\[extension\] tree ready (\d+) ms after activation start/.exec(text);
      return {
        uri: doc.uri.toString(),
        activationMs: activated,
        treeReadyMs: treeReady ? Number(treeReady[1]) : undefined,
      };
    },
  ],
  [
    'a store folder that does not exist yet is not opened; a first CLI run there shows up on its own',
    async ({ api }) => {
      const config = vscode.workspace.getConfiguration('mlops');
      const fresh = 'fresh-store';
      const freshDir = path.join(workspaceDir(), fresh);
      // What could still reach for the old store after the move: the children of a node
      // VS Code had shown, and a guardrails pass due a second after a trace arrived.
      const mnist = (await api.tree.getChildren()).find(
        (n) => n.kind === 'experiment' && n.experiment.name === 'mnist',
      );
      assert.ok(mnist, 'the seeded store lists mnist');
      let traceSeen;
      const seen = new Promise((resolve) => {
        traceSeen = api.store.onDidChange((c) => c && c.traces.size > 0 && resolve());
      });
      const now = BigInt(Date.now()) * 1_000_000n;
      await api.store.current.traces.ingest([
        {
          traceId: 'e1'.repeat(16),
          spanId: 'e2'.repeat(8),
          parentSpanId: null,
          name: 'chat',
          kind: 3,
          startNs: String(now),
          endNs: String(now + 1_000_000n),
          statusCode: 1,
          statusMessage: '',
          traceState: '',
          attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'm' },
          events: [],
          links: [],
          resource: {},
          scope: null,
          dropped: { attributes: 0, events: 0, links: 0 },
        },
      ]);
      await seen;
      traceSeen.dispose();
      await config.update('storePath', fresh, vscode.ConfigurationTarget.Workspace);
      try {
        await waitFor(
          'the view to show the empty store',
          5000,
          async () => (await api.tree.getChildren()).length === 0,
        );
        assert.deepEqual(await api.tree.getChildren(mnist), [], "an old node's children: none");
        // Past the guardrails' one-second debounce.
        await new Promise((r) => setTimeout(r, 1500));
        assert.equal(api.store.current, undefined, 'nothing to open while the folder is missing');
        assert.equal(fs.existsSync(freshDir), false, 'nothing created the folder');
        assert.equal(api.store.state, 'empty');
        const started = Date.now();
        await cli(
          'run',
          'start',
          '-e',
          'first-steps',
          '--name',
          'hello',
          '--no-git',
          '--store',
          fresh,
        );
        const written = Date.now();
        await waitFor('the first run to show in the view', 3000, async () => {
          const roots = await api.tree.getChildren();
          return roots.some((n) => n.kind === 'experiment' && n.experiment.name === 'first-steps');
        });
        // The state (and with it the welcome view) follows on the debounced change event.
        await waitFor("the store state to become 'ready'", 1000, () => api.store.state === 'ready');
        return { cliMs: written - started, shownAfterMs: Date.now() - written };
      } finally {
        await config.update('storePath', undefined, vscode.ConfigurationTarget.Workspace);
        await waitFor('the view to return to the seeded store', 5000, async () =>
          (await api.tree.getChildren()).some(
            (n) => n.kind === 'experiment' && n.experiment.name === 'mnist',
          ),
        );
      }
    },
  ],
];

async function run() {
  const file = resultsFile();
  const results = {
    node: process.version,
    vscode: vscode.version,
    uiKind: vscode.env.uiKind === vscode.UIKind.Web ? 'web' : 'desktop',
    remoteName: vscode.env.remoteName,
    startedAt: new Date().toISOString(),
    done: false,
    checks: [],
  };
  const save = () => fs.writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  log(`results file: ${file}; Node ${process.version}, VS Code ${vscode.version}`);
  save();
  const state = {};
  for (const [name, fn] of checks) {
    const started = Date.now();
    try {
      const details = await fn(state);
      const ms = Date.now() - started;
      results.checks.push({ name, ok: true, ms, details });
      log(`PASS ${name} (${ms} ms)${details ? ` ${JSON.stringify(details)}` : ''}`);
    } catch (e) {
      const ms = Date.now() - started;
      const error = e instanceof Error ? (e.stack ?? e.message) : String(e);
      results.checks.push({ name, ok: false, ms, error });
      log(`FAIL ${name} (${ms} ms): ${error}`);
    }
    save();
  }
  results.done = true;
  save();
  const failed = results.checks.filter((c) => !c.ok);
  log(`${results.checks.length - failed.length} passed, ${failed.length} failed`);
  if (failed.length) {
    throw new Error(
      `${failed.length} in-host check(s) failed: ${failed.map((c) => c.name).join('; ')}`,
    );
  }
}

module.exports = { run };
