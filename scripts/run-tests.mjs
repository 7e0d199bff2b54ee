// Runs tests with Node's built-in test runner, in one run so that it ends with one
// pass/fail summary (Node 20 has no glob for --test, so the files are listed here).
// Usage: node scripts/run-tests.mjs [dir or file...]   (default: test/unit)
// With end-to-end tests among them, the VS Code host is installed first when missing
// (test/e2e/host/install.mjs; minutes on a fresh machine), outside any test's timeout.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const roots = process.argv.length > 2 ? process.argv.slice(2) : ['test/unit'];
const files = [];
const walk = (dir) => {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) walk(full);
    else if (/\.test\.(ts|mjs)$/.test(e.name)) files.push(full);
  }
};
for (const root of roots) {
  if (fs.statSync(root).isFile()) files.push(root);
  else walk(root);
}
files.sort();
if (files.length === 0) {
  console.error(`no test files under ${roots.join(', ')}`);
  process.exit(1);
}
if (files.some((f) => f.split(path.sep).includes('e2e'))) {
  const { ensureHost, log } = await import('../test/e2e/host/install.mjs');
  const started = Date.now();
  try {
    const host = await ensureHost();
    log(`host ready in ${((Date.now() - started) / 1000).toFixed(1)} s (cache ${host.cacheDir})`);
  } catch (e) {
    log(`FAILED: ${e.message}`);
    process.exit(1);
  }
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
