// Checks the host's path for packaged extensions, without our extension: a tiny probe
// extension is packaged with the project's vsce, installed with installVsix (code-server
// --install-extension), and its palette command runs in the extension host.
// Run: node --test test/e2e/host/vsix.test.mjs

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCommand } from './browser.mjs';
import { repoRoot, startSession } from './session.mjs';
import { createTempDir } from './tempdir.mjs';

const PROBE_PACKAGE = {
  name: 'e2e-probe',
  displayName: 'E2E Probe',
  description: 'Probe extension of the e2e host tests',
  publisher: 'mlops-e2e',
  version: '0.0.1',
  license: 'MIT',
  engines: { vscode: '^1.85.0' },
  main: './extension.js',
  files: ['extension.js'],
  contributes: {
    commands: [{ command: 'e2eProbe.sayHello', title: 'Say Hello', category: 'E2E Probe' }],
  },
};

const PROBE_MAIN = `const vscode = require('vscode');
exports.activate = (context) => {
  context.subscriptions.push(
    vscode.commands.registerCommand('e2eProbe.sayHello', async () => {
      const content = 'hello from the e2e probe, node ' + process.version +
        ', remote ' + vscode.env.remoteName;
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument({ content }));
    }),
  );
};
`;

/** Packages the probe with the project's own vsce; returns the .vsix path. */
function packageProbe(dir) {
  const src = path.join(dir, 'probe');
  fs.mkdirSync(src, { recursive: true });
  fs.writeFileSync(path.join(src, 'package.json'), JSON.stringify(PROBE_PACKAGE, null, 2));
  fs.writeFileSync(path.join(src, 'extension.js'), PROBE_MAIN);
  fs.writeFileSync(path.join(src, 'README.md'), '# E2E Probe\n');
  const vsix = path.join(dir, 'e2e-probe.vsix');
  const vsce = path.join(repoRoot, 'node_modules', '@vscode', 'vsce', 'vsce');
  const r = spawnSync(
    process.execPath,
    [
      vsce,
      'package',
      '--no-dependencies',
      '--allow-missing-repository',
      '--skip-license',
      '-o',
      vsix,
    ],
    { cwd: src, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 },
  );
  if (r.status !== 0) {
    throw new Error(`vsce package of the probe failed (${r.status}): ${r.stdout}\n${r.stderr}`);
  }
  return vsix;
}

describe('e2e host: installing a .vsix', () => {
  let session;
  let scratch;

  before(
    async () => {
      scratch = createTempDir('vsix-probe');
      session = await startSession({ name: 'vsix', vsixPaths: [packageProbe(scratch)] });
    },
    { timeout: 20 * 60_000 }, // a fresh machine installs the host first
  );

  after(
    async () => {
      try {
        await session?.close();
      } finally {
        if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
      }
    },
    { timeout: 60_000 },
  );

  it(
    'runs the installed extension command in the Node extension host',
    { timeout: 60_000 },
    async () => {
      await session.check('probe-command', async (page) => {
        const installed = fs.readdirSync(path.join(session.stateDir, 'ext'));
        assert.ok(
          installed.includes('mlops-e2e.e2e-probe-0.0.1'),
          `extensions dir: ${JSON.stringify(installed)}`,
        );
        await runCommand(page, 'E2E Probe: Say Hello');
        const editor = page.locator('.editor-instance .view-lines', {
          hasText: 'hello from the e2e probe',
        });
        await editor.waitFor({ state: 'visible', timeout: 15_000 }).catch((e) => {
          throw new Error(
            `the probe's document did not open within 15 s: ${e.message.split('\n')[0]}`,
          );
        });
        // The extension host is Node (not the web worker host) and remote, as in VS Code desktop
        // connected to a server. Monaco renders spaces as no-break spaces.
        const text = (await editor.innerText()).replace(/\u00a0/g, ' ');
        assert.match(text, /hello from the e2e probe, node v\d+\.\d+\.\d+, remote \S+/);
        await session.screenshot('probe');
      });
    },
  );
});
