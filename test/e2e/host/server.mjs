// Starts and stops code-server (a real VS Code server) for end-to-end tests, with all of its
// state in one folder, and installs .vsix files into that state. See shared/VSCODE-HOST.md.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { cleanChildEnv, ensureHost } from './install.mjs';

const DEFAULT_SETTINGS = {
  // A fresh profile otherwise opens the welcome page over the test's editors.
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'security.workspace.trust.enabled': false,
  'git.enabled': false,
  // Keep the chat panel and AI hints out of the screenshots and the keyboard focus.
  'chat.disableAIFeatures': true,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.editor.empty.hint': 'hidden',
  // code-server offers to forward every port the extension host listens on (the
  // workbench's MLflow endpoint): its notification would take the keyboard focus.
  'remote.autoForwardPorts': false,
};

/** Folders of one server's state; everything code-server and VS Code write goes here. */
export function stateDirs(stateDir) {
  const abs = path.resolve(stateDir);
  return {
    root: abs,
    userData: path.join(abs, 'ud'),
    extensions: path.join(abs, 'ext'),
    tmp: path.join(abs, 'tmp'),
    xdgConfig: path.join(abs, 'xdg', 'config'),
    xdgData: path.join(abs, 'xdg', 'data'),
    xdgCache: path.join(abs, 'xdg', 'cache'),
    xdgState: path.join(abs, 'xdg', 'state'),
    log: path.join(abs, 'code-server.log'),
  };
}

function prepareState(stateDir, settings) {
  const d = stateDirs(stateDir);
  for (const dir of [
    d.userData,
    d.extensions,
    d.tmp,
    d.xdgConfig,
    d.xdgData,
    d.xdgCache,
    d.xdgState,
  ]) {
    fs.mkdirSync(dir, { recursive: true });
  }
  if (settings !== null) {
    // A fresh state gets the quiet defaults; `settings` are merged over what is there.
    const userDir = path.join(d.userData, 'User');
    fs.mkdirSync(userDir, { recursive: true });
    const file = path.join(userDir, 'settings.json');
    let current = DEFAULT_SETTINGS;
    if (fs.existsSync(file)) {
      try {
        current = JSON.parse(fs.readFileSync(file, 'utf8'));
      } catch (e) {
        throw new Error(`${file} is not plain JSON (${e.message}); cannot merge settings into it`, {
          cause: e,
        });
      }
    }
    fs.writeFileSync(file, JSON.stringify({ ...current, ...settings }, null, 2) + '\n');
  }
  return d;
}

/** Environment for code-server: Node 24 first on PATH, temp and XDG folders inside the state. */
function serverEnv(host, d, extra = {}) {
  // Not the environment of an npm or a test runner around us (cleanChildEnv), nor of a
  // surrounding VS Code (its terminal sets VSCODE_IPC_HOOK_CLI, ...): code-server would hand
  // --install-extension to that other instance.
  const env = cleanChildEnv();
  for (const k of Object.keys(env)) {
    if (/^(VSCODE_|ELECTRON_)/.test(k)) delete env[k];
  }
  return {
    ...env,
    PATH: `${path.dirname(host.nodeBin)}${path.delimiter}${env.PATH ?? ''}`,
    TMPDIR: d.tmp,
    XDG_CONFIG_HOME: d.xdgConfig,
    XDG_DATA_HOME: d.xdgData,
    XDG_CACHE_HOME: d.xdgCache,
    XDG_STATE_HOME: d.xdgState,
    ...extra,
  };
}

function commonArgs(d) {
  return [
    '--config',
    '/dev/null',
    '--user-data-dir',
    d.userData,
    '--extensions-dir',
    d.extensions,
    '--disable-telemetry',
    '--disable-update-check',
  ];
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function tail(file, lines = 60) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log written)';
  }
}

function httpStatus(url, timeoutMs = 2000) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------
// Process groups: each server runs in its own session (setsid), so one signal to the group
// also reaches the file watcher and extension hosts it spawns. Groups still alive when this
// process exits (a crash, Ctrl-C) are killed too.

const liveGroups = new Set();
let exitHooksInstalled = false;

function killAllGroupsNow() {
  for (const pgid of liveGroups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  liveGroups.clear();
}

function installExitHooks() {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', killAllGroupsNow);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => {
      killAllGroupsNow();
      // Listening disabled the default exit; exit as the signal would have (playwright's own
      // SIGTERM handler, for one, closes browsers but does not exit).
      process.exit(128 + (os.constants.signals[sig] ?? 1));
    });
  }
}

// The command runs under a small sh in a new session (setsid; spawned from a process that is
// not a group leader, setsid does not fork, so the sh's pid is the group id). The sh holds
// a pipe from us on fd 3: if this process dies without stop() (SIGKILL, a crash), the pipe
// closes and the whole group is killed, so no server outlives its test. When the command
// ends by itself, the sh ends the rest of its group and exits with the command's status.
const GROUP_GUARD = `exec 3<&0
"$@" </dev/null 3<&- &
server=$!
{ cat >/dev/null; kill -KILL 0; } <&3 &
exec 3<&-
wait "$server"
code=$?
trap '' TERM
kill -TERM 0
exit "$code"`;

function spawnGroup(argv, { cwd, env, stdout }) {
  const child = spawn('setsid', ['sh', '-c', GROUP_GUARD, 'e2e-group-guard', ...argv], {
    cwd,
    env,
    stdio: ['pipe', stdout, stdout],
  });
  child.stdin.on('error', () => {}); // EPIPE once the group is gone
  return child;
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** Pids (other than ours) whose command line contains `needle`; for leak checks in tests. */
export function processesMentioning(needle) {
  const found = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      if (cmd && cmd.includes(needle)) found.push({ pid: Number(entry), cmd });
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

async function stopGroup(child, pgid, { graceMs = 5000 } = {}) {
  const exited = new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', resolve);
  });
  const signal = (sig) => {
    try {
      process.kill(-pgid, sig);
    } catch {
      // group already empty
    }
  };
  const started = Date.now();
  let killed = false;
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (groupAlive(pgid) && Date.now() < deadline) await sleep(100);
  if (groupAlive(pgid)) {
    killed = true;
    signal('SIGKILL');
    const killDeadline = Date.now() + 5000;
    while (groupAlive(pgid) && Date.now() < killDeadline) await sleep(100);
  }
  let timer;
  await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 5000)))]);
  clearTimeout(timer);
  liveGroups.delete(pgid);
  if (groupAlive(pgid)) throw new Error(`code-server process group ${pgid} survived SIGKILL`);
  return { ms: Date.now() - started, killed };
}

function waitForExitOrHealth(child, url, logFile, timeoutMs) {
  const started = Date.now();
  let lastError = 'not tried yet';
  let exitInfo;
  child.once('exit', (code, signal) => {
    exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
  });
  return (async () => {
    while (Date.now() - started < timeoutMs) {
      if (exitInfo) {
        throw new Error(
          `code-server exited (${exitInfo}) before answering GET ${url}\n` +
            `--- ${logFile} ---\n${tail(logFile)}`,
        );
      }
      try {
        const status = await httpStatus(url);
        if (status === 200) return Date.now() - started;
        lastError = `HTTP ${status}`;
      } catch (e) {
        lastError = e.message;
      }
      await sleep(200);
    }
    throw new Error(
      `Timed out after ${timeoutMs / 1000} s waiting for code-server to answer GET ${url} ` +
        `(last: ${lastError})\n--- ${logFile} ---\n${tail(logFile)}`,
    );
  })();
}

/**
 * Starts code-server on 127.0.0.1 for `folder`, with every bit of state under `stateDir`.
 * Returns { url, port, pid, logFile, startupMs, stop() }; stop() ends the whole process group
 * (SIGTERM, then SIGKILL after 5 s) and resolves with { ms, killed } once it is gone.
 * `settings` (merged over quiet defaults; null for none) become the user settings of a fresh
 * state. `extraArgs` go before the folder.
 */
export async function startCodeServer({
  folder,
  stateDir,
  port,
  timeoutMs = 60_000,
  settings = {},
  // false (default): every folder is trusted. true: Workspace Trust is on and the
  // folder opens untrusted (Restricted Mode), without the startup prompt.
  workspaceTrust = false,
  extraArgs = [],
  env = {},
  host,
} = {}) {
  if (!folder || !stateDir) throw new Error('startCodeServer needs { folder, stateDir }');
  host ??= await ensureHost();
  const d = prepareState(
    stateDir,
    workspaceTrust && settings !== null
      ? {
          'security.workspace.trust.enabled': true,
          'security.workspace.trust.startupPrompt': 'never',
          'security.workspace.trust.emptyWindow': false,
          ...settings,
        }
      : settings,
  );
  installExitHooks();
  const attempts = port ? 1 : 3; // a free port can be taken between probing and binding
  let lastError;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const p = port ?? (await freePort());
    const args = [
      host.codeServerEntry,
      '--bind-addr',
      `127.0.0.1:${p}`,
      '--auth',
      'none',
      ...commonArgs(d),
      ...(workspaceTrust ? [] : ['--disable-workspace-trust']),
      '--reconnection-grace-time',
      '2',
      '--vscode-option',
      'enable-smoke-test-driver',
      ...extraArgs,
      path.resolve(folder),
    ];
    fs.appendFileSync(d.log, `\n==== ${new Date().toISOString()} starting on port ${p}\n`);
    const fd = fs.openSync(d.log, 'a');
    const child = spawnGroup([host.nodeBin, ...args], {
      cwd: path.resolve(folder),
      env: serverEnv(host, d, env),
      stdout: fd,
    });
    fs.closeSync(fd);
    const spawnError = new Promise((_, reject) =>
      child.once('error', (e) => reject(new Error(`could not run setsid/sh/node: ${e.message}`))),
    );
    const pgid = child.pid;
    if (pgid) liveGroups.add(pgid);
    const url = `http://127.0.0.1:${p}`;
    try {
      const ms = await Promise.race([
        waitForExitOrHealth(child, `${url}/healthz`, d.log, timeoutMs),
        spawnError,
      ]);
      let stopped;
      return {
        url,
        port: p,
        pid: pgid,
        logFile: d.log,
        startupMs: ms,
        stop: () => (stopped ??= stopGroup(child, pgid)),
      };
    } catch (e) {
      lastError = e;
      if (pgid) await stopGroup(child, pgid).catch(() => {});
      if (!/EADDRINUSE/.test(tail(d.log, 20))) break;
    }
  }
  throw lastError;
}

/**
 * Installs a packaged extension into the state of `stateDir`, as a user would; start the
 * server with the same stateDir afterwards. Returns code-server's output.
 */
export async function installVsix({ vsixPath, stateDir, timeoutMs = 120_000, host }) {
  if (!fs.existsSync(vsixPath)) throw new Error(`no .vsix at ${vsixPath}`);
  host ??= await ensureHost();
  const d = prepareState(stateDir, null);
  installExitHooks();
  const args = [
    host.codeServerEntry,
    ...commonArgs(d),
    '--install-extension',
    path.resolve(vsixPath),
  ];
  const child = spawnGroup([host.nodeBin, ...args], { env: serverEnv(host, d), stdout: 'pipe' });
  const pgid = child.pid;
  if (pgid) liveGroups.add(pgid);
  let output = '';
  child.stdout.on('data', (b) => (output += b));
  child.stderr.on('data', (b) => (output += b));
  const result = await new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ timedOut: true }), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      resolve({ error: e });
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
  if (pgid) await stopGroup(child, pgid, { graceMs: 1000 }).catch(() => {});
  fs.appendFileSync(d.log, `\n==== install-extension ${vsixPath}\n${output}`);
  if (result.timedOut) {
    throw new Error(
      `code-server --install-extension ${vsixPath} did not finish in ${timeoutMs / 1000} s:\n${output}`,
    );
  }
  if (result.error)
    throw new Error(`could not run code-server --install-extension: ${result.error.message}`);
  // Exit 1 and a "Failed Installing" line both mean failure (checked both ways to be safe).
  if (result.code !== 0 || /Failed Installing/.test(output)) {
    throw new Error(
      `code-server --install-extension ${vsixPath} failed (${result.signal ?? `exit ${result.code}`}):\n${output}`,
    );
  }
  return output;
}
