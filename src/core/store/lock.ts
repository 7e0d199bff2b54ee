// The inter-process write lock: proper-lockfile (mkdir-based, with a refreshed
// mtime so a lock left by a vanished process goes stale after LOCK_STALE_MS).
// The holder also writes its pid and host into the lock folder, so that a lock
// left by a process killed on this machine is taken over at once instead of
// after the stale delay.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as lockfile from 'proper-lockfile';
import type { Logger } from '../log.ts';
import { StoreError } from '../model/errors.ts';

export const LOCK_STALE_MS = 10_000;
const OWNER_FILE = 'owner';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(lockPath: string): string | undefined {
  try {
    return fs.readFileSync(path.join(lockPath, OWNER_FILE), 'utf8');
  } catch {
    return undefined;
  }
}

/** Removes the lock if its owner is a process of this host that no longer runs. */
function breakIfOwnerDead(lockPath: string, logger: Logger): boolean {
  const owner = readOwner(lockPath);
  if (!owner) return false;
  const [host, pidText] = owner.split('\n');
  const pid = Number(pidText);
  if (
    host !== os.hostname() ||
    !Number.isSafeInteger(pid) ||
    pid === process.pid ||
    pidAlive(pid)
  ) {
    return false;
  }
  // Re-read just before removing, so a lock taken over in between is left alone.
  if (readOwner(lockPath) !== owner) return false;
  fs.rmSync(lockPath, { recursive: true, force: true });
  logger.warn(
    `[store] took over the write lock ${lockPath} left by process ${pid}, which no longer runs`,
  );
  return true;
}

/**
 * The fs proper-lockfile uses, with two changes so that a process killed at any
 * moment leaves either no lock or a lock that names it (and is then taken over at
 * once): the lock folder appears by an atomic rename with its owner file already
 * inside, and disappears by an atomic rename before it is deleted.
 */
let sequence = 0;

function lockFs(ownerText: string) {
  const retire = (p: string): string => {
    const tomb = `${p}.released-${process.pid}-${Date.now()}`;
    fs.renameSync(p, tomb);
    return tomb;
  };
  return {
    ...fs,
    mkdir(p: string, cb: (err: NodeJS.ErrnoException | null) => void): void {
      // Build the folder with its owner file aside, then rename it into place: a
      // rename onto an existing (non-empty) lock fails, so this is still "create
      // if absent", and the lock never exists without its owner.
      const fresh = `${p}.new-${process.pid}-${++sequence}`;
      let error: NodeJS.ErrnoException | null = null;
      try {
        fs.mkdirSync(fresh);
        fs.writeFileSync(path.join(fresh, OWNER_FILE), ownerText);
        fs.renameSync(fresh, p);
      } catch (e) {
        fs.rmSync(fresh, { recursive: true, force: true });
        error = e as NodeJS.ErrnoException;
        if (error.code === 'ENOTEMPTY')
          error = Object.assign(new Error(error.message), { code: 'EEXIST' });
      }
      process.nextTick(() => cb(error));
    },
    rmdir(p: string, cb: (err: NodeJS.ErrnoException | null) => void): void {
      let tomb: string;
      try {
        tomb = retire(p);
      } catch (e) {
        process.nextTick(() => cb(e as NodeJS.ErrnoException));
        return;
      }
      fs.rm(tomb, { recursive: true, force: true }, cb);
    },
    rmdirSync(p: string): void {
      fs.rmSync(retire(p), { recursive: true, force: true });
    },
  };
}

/** Removes lock folders retired by processes killed before they deleted them. */
function sweepRetired(dir: string): void {
  try {
    for (const name of fs.readdirSync(dir)) {
      if (name.startsWith('write.lock.released-') || name.startsWith('write.lock.new-')) {
        fs.rmSync(path.join(dir, name), { recursive: true, force: true });
      }
    }
  } catch {
    // best effort
  }
}

const WANT_PREFIX = 'write.lock.want-';

/**
 * True when another live process waits for the lock (it leaves a marker file while
 * waiting). Markers of processes that no longer run are removed.
 */
export function othersWaiting(dir: string): boolean {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return false;
  }
  let waiting = false;
  for (const name of names) {
    if (!name.startsWith(WANT_PREFIX)) continue;
    const pid = Number(name.slice(WANT_PREFIX.length));
    if (pid === process.pid) continue;
    if (Number.isSafeInteger(pid) && pidAlive(pid)) waiting = true;
    else fs.rmSync(path.join(dir, name), { force: true });
  }
  return waiting;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function acquireWriteLock(
  dir: string,
  logger: Logger,
  waitMs = 60_000,
  onLost?: () => void,
): Promise<() => Promise<void>> {
  const lockPath = path.join(dir, 'write.lock');
  const marker = path.join(dir, `${WANT_PREFIX}${process.pid}`);
  const started = Date.now();
  const fsWithOwner = lockFs(`${os.hostname()}\n${process.pid}`);
  // A process that just released the lock because others wait lets them go first.
  while (othersWaiting(dir) && Date.now() - started < 200) await sleep(2);
  let waiting = false;
  try {
    for (;;) {
      try {
        return await lockfile.lock(dir, {
          lockfilePath: lockPath,
          realpath: false,
          stale: LOCK_STALE_MS,
          update: LOCK_STALE_MS / 4,
          retries: { retries: 8, factor: 1.5, minTimeout: 1, maxTimeout: 20 },
          fs: fsWithOwner,
          onCompromised: (err) => {
            logger.error(
              `[store] the write lock ${lockPath} was taken over while held: ${err.message}`,
            );
            onLost?.();
          },
        });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ELOCKED') throw e;
        if (!waiting) {
          fs.writeFileSync(marker, '');
          waiting = true;
        }
        if (breakIfOwnerDead(lockPath, logger)) {
          sweepRetired(dir);
          continue;
        }
        if (Date.now() - started > waitMs) {
          throw new StoreError(
            `The store is locked for writing by another process (${lockPath}) and stayed locked for ${Math.round(waitMs / 1000)} s. ` +
              'If no mlops process or VS Code window uses this store, delete that folder and try again.',
            lockPath,
          );
        }
      }
    }
  } finally {
    if (waiting) fs.rmSync(marker, { force: true });
  }
}
