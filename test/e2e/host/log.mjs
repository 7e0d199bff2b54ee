// The extension's own log in a session's state folder: benchmarks and tests read
// its timing lines ("[extension] tree ready 52 ms ...").

import * as fs from 'node:fs';
import * as path from 'node:path';

export function findLog(dir) {
  if (!fs.existsSync(dir)) return undefined;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      const found = findLog(full);
      if (found) return found;
    } else if (e.name === 'MLOps Workbench.log') return full;
  }
  return undefined;
}

export function logText(stateDir) {
  const file = findLog(path.join(stateDir, 'ud', 'logs'));
  return file ? fs.readFileSync(file, 'utf8') : '';
}

/** Waits for a line matching `pattern` (searched from `fromOffset`); returns the match. */
export async function waitForLine(stateDir, pattern, timeoutMs = 60_000, fromOffset = 0) {
  const started = Date.now();
  for (;;) {
    const text = logText(stateDir).slice(fromOffset);
    const m = pattern.exec(text);
    if (m) return m;
    if (Date.now() - started > timeoutMs)
      throw new Error(`no log line ${pattern} after ${timeoutMs} ms:\n${text}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
