// The README's first command, as a user runs it: `npm start` builds and packages the
// extension, fills the demo store, starts VS Code on examples/demo and prints the URL;
// with `-- --check` it also opens that URL in chromium, checks that the MLOps view lists
// the demo runs, and stops. The test then checks that nothing it started is left running.

/* global fetch */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { processesMentioning } from './host/server.mjs';
import { repoRoot, resultsDir } from './host/session.mjs';

describe('npm start', () => {
  it(
    'opens the demo workspace in VS Code, whose MLOps view shows the demo runs, and stops cleanly',
    { timeout: 25 * 60_000 }, // a fresh machine installs the host first
    async () => {
      const screenshot = path.join(resultsDir, 'npm-start-check.png');
      fs.rmSync(screenshot, { force: true });
      const child = spawn('npm', ['start', '--', '--check'], {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (b) => (output += b));
      child.stderr.on('data', (b) => (output += b));
      const code = await new Promise((resolve) => child.once('exit', (c, s) => resolve(c ?? s)));
      assert.equal(code, 0, `npm start -- --check exited ${code}:\n${output.slice(-4000)}`);

      const url = output.match(/^\s+(http:\/\/127\.0\.0\.1:\d+\/\?folder=\S+)$/m)?.[1];
      assert.ok(url, `npm start printed the workbench URL:\n${output.slice(-2000)}`);
      assert.equal(
        new URL(url).searchParams.get('folder'),
        path.join(repoRoot, 'examples', 'demo'),
      );
      const shown = output.match(/the MLOps view shows moons-logreg with (.*) \(screenshot/)?.[1];
      assert.deepEqual(shown?.split(', ').sort(), ['lr-0.01', 'lr-0.05', 'lr-0.2', 'lr-1']);
      assert.match(output, /npm start --check passed/);
      assert.ok(fs.existsSync(screenshot), `a screenshot at ${screenshot}`);

      // Stopped cleanly: no code-server or extension host of its state folder is left, and the
      // demo's eval endpoint is closed.
      const stateDir = path.join(repoRoot, '.e2e-host', 'start-check');
      assert.deepEqual(processesMentioning(stateDir), []);
      const port = Number(new URL(url).port);
      await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`), 'code-server is stopped');
      if (!/demo eval endpoint could not start/.test(output)) {
        // (else the port was taken by another npm start, whose endpoint is not ours to judge)
        await assert.rejects(
          fetch('http://127.0.0.1:11435/v1/models'),
          'the eval endpoint is stopped',
        );
      }
    },
  );
});
