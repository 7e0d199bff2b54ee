// Temp folders of e2e runs, tagged with the pid that made them, so a run killed before its
// cleanup (SIGKILL, Ctrl-C) has its folders removed by the next run instead of piling up.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const PREFIX = 'mlops-e2e-';
const OWNER = '.e2e-owner.json';
const MAX_AGE_MS = 24 * 60 * 60 * 1000;

function ownerGone(dir) {
  let owner;
  try {
    owner = JSON.parse(fs.readFileSync(path.join(dir, OWNER), 'utf8'));
  } catch {
    return false; // not ours, or being created right now
  }
  if (Date.now() - owner.createdAt > MAX_AGE_MS) return true;
  if (owner.hostname !== os.hostname()) return false;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (e) {
    return e.code !== 'EPERM';
  }
}

/** Removes e2e temp folders whose creating process has gone; returns how many. */
export function sweepStaleTempDirs(parent = os.tmpdir()) {
  let removed = 0;
  let entries;
  try {
    entries = fs.readdirSync(parent);
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (!entry.startsWith(PREFIX)) continue;
    const dir = path.join(parent, entry);
    if (ownerGone(dir)) {
      fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
      removed++;
    }
  }
  return removed;
}

/** Creates <tmpdir>/mlops-e2e-<name>-XXXXXX after sweeping stale ones; remove it when done. */
export function createTempDir(name) {
  sweepStaleTempDirs();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${PREFIX}${name}-`));
  fs.writeFileSync(
    path.join(dir, OWNER),
    JSON.stringify({ pid: process.pid, hostname: os.hostname(), createdAt: Date.now() }),
  );
  return dir;
}
