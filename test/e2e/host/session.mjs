// One end-to-end session: a temp workspace, a code-server with fresh state (optionally with
// .vsix files installed), and chromium on its workbench; close() undoes all of it and checks
// that no process is left. On failure, the server log and browser console are copied to the
// results folder next to the screenshots.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { closeWorkbench, consoleLines, openWorkbench, screenshot } from './browser.mjs';
import { ensureHost, log } from './install.mjs';
import { installVsix, processesMentioning, startCodeServer } from './server.mjs';
import { createTempDir } from './tempdir.mjs';

export const repoRoot = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
);
export const resultsDir = path.join(repoRoot, 'test-results', 'e2e');

/**
 * Starts a session named `name` (used in file names). `files` maps workspace-relative paths
 * to contents; `prepare(workspace)` then runs before the server starts (to seed a store
 * through the CLI, say) and its result is `session.prepared`. `workspaceTrust` and `env` go
 * to startCodeServer; `query` may be a function of the started server. Resolves once the
 * workbench is ready; on any failure everything started so far is stopped and the logs are
 * saved before the error is rethrown.
 */
export async function startSession({
  name,
  files = {},
  prepare,
  vsixPaths = [],
  settings,
  workspaceTrust,
  env,
  query,
  exposeFunctions,
  timeoutMs = 60_000,
  results = resultsDir,
} = {}) {
  if (!name) throw new Error('startSession needs a name');
  const timings = {};
  let t0 = Date.now();
  const host = await ensureHost();
  timings.ensureHostMs = Date.now() - t0;

  const tmp = createTempDir(name);
  const workspace = path.join(tmp, 'workspace');
  const stateDir = path.join(tmp, 'state');
  fs.mkdirSync(workspace);
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(workspace, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }

  const session = {
    name,
    tmp,
    workspace,
    stateDir,
    timings,
    server: undefined,
    page: undefined,
    prepared: undefined,
    failed: false,
    /** Marks the session failed so close() keeps the logs. */
    markFailed() {
      session.failed = true;
    },
    /**
     * Runs `fn(page)` now; on failure saves <name>-FAILED-<label>.png, names it in the error,
     * and marks the session failed so close() keeps the logs.
     */
    async check(label, fn) {
      try {
        return await fn(session.page);
      } catch (e) {
        session.failed = true;
        if (session.page) {
          const file = await screenshot(session.page, `${name}-FAILED-${label}`).catch(() => {});
          if (file && e instanceof Error) e.message += `\nscreenshot: ${file}`;
        }
        throw e;
      }
    },
    screenshot: (label) => screenshot(session.page, `${name}-${label}`),
    close: () => (closing ??= closeSession(session, results)),
  };
  let closing;

  try {
    session.prepared = await prepare?.(workspace);
    t0 = Date.now();
    for (const vsixPath of vsixPaths) await installVsix({ vsixPath, stateDir, host });
    if (vsixPaths.length) timings.installVsixMs = Date.now() - t0;

    t0 = Date.now();
    session.server = await startCodeServer({
      folder: workspace,
      stateDir,
      settings,
      workspaceTrust,
      env,
      host,
    });
    timings.serverMs = Date.now() - t0;

    t0 = Date.now();
    session.page = await openWorkbench({
      url: session.server.url,
      folder: workspace,
      screenshotsDir: results,
      browserDir: path.join(tmp, 'browser'),
      query: typeof query === 'function' ? query(session.server) : query,
      exposeFunctions,
      timeoutMs,
    });
    timings.workbenchMs = Date.now() - t0;
    log(`${name}: ${JSON.stringify(timings)}`);
    return session;
  } catch (e) {
    session.failed = true;
    await session
      .close()
      .catch((closeError) => log(`${name}: cleanup after a failed start: ${closeError.message}`));
    throw e;
  }
}

async function closeSession(session, results) {
  const problems = [];
  const attempt = async (what, fn) => {
    try {
      await fn();
    } catch (e) {
      problems.push(`${what}: ${e.message}`);
    }
  };
  await attempt('closing chromium', () => closeWorkbench(session.page));
  await attempt('stopping code-server', () => session.server?.stop());
  if (session.failed || problems.length) {
    await attempt('saving logs', () => {
      fs.mkdirSync(results, { recursive: true });
      const serverLog = path.join(session.stateDir, 'code-server.log');
      if (fs.existsSync(serverLog)) {
        fs.copyFileSync(serverLog, path.join(results, `${session.name}-code-server.log`));
      }
      if (session.page) {
        fs.writeFileSync(
          path.join(results, `${session.name}-browser-console.log`),
          consoleLines(session.page).join('\n') + '\n',
        );
      }
      log(`${session.name}: logs saved in ${results}`);
    });
  }
  // Chromium's crash handler runs outside our process tree and may take a moment to follow.
  let left = processesMentioning(session.tmp);
  for (const deadline = Date.now() + 3000; left.length && Date.now() < deadline;) {
    await new Promise((r) => setTimeout(r, 100));
    left = processesMentioning(session.tmp);
  }
  for (const p of left) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
  if (left.length) {
    problems.push(`processes left running:\n${left.map((p) => `  ${p.pid} ${p.cmd}`).join('\n')}`);
  }
  if (process.env.MLOPS_E2E_KEEP) log(`${session.name}: kept ${session.tmp}`);
  else {
    await attempt('removing the temp folder', () =>
      fs.rmSync(session.tmp, { recursive: true, force: true, maxRetries: 3 }),
    );
  }
  if (problems.length)
    throw new Error(`closing e2e session ${session.name}:\n${problems.join('\n')}`);
}
