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
import { StoreError } from './errors.ts';

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

export async function acquireWriteLock(
  dir: string,
  logger: Logger,
  waitMs = 60_000,
): Promise<() => Promise<void>> {
  const lockPath = path.join(dir, 'write.lock');
  const started = Date.now();
  for (;;) {
    try {
      const release = await lockfile.lock(dir, {
        lockfilePath: lockPath,
        realpath: false,
        stale: LOCK_STALE_MS,
        update: LOCK_STALE_MS / 4,
        retries: { retries: 8, factor: 1.5, minTimeout: 1, maxTimeout: 50 },
        onCompromised: (err) =>
          logger.error(
            `[store] the write lock ${lockPath} was taken over while held: ${err.message}`,
          ),
      });
      const ownerPath = path.join(lockPath, OWNER_FILE);
      fs.writeFileSync(ownerPath, `${os.hostname()}\n${process.pid}`);
      return async () => {
        fs.rmSync(ownerPath, { force: true });
        await release();
      };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY') {
        // proper-lockfile found the lock stale but could not rmdir it: it holds
        // the owner file of a process that died (on another host).
        fs.rmSync(lockPath, { recursive: true, force: true });
        logger.warn(`[store] removed the stale write lock ${lockPath}`);
        continue;
      }
      if (code !== 'ELOCKED') throw e;
      if (breakIfOwnerDead(lockPath, logger)) continue;
      if (Date.now() - started > waitMs) {
        throw new StoreError(
          `The store is locked for writing by another process (${lockPath}) and stayed locked for ${Math.round(waitMs / 1000)} s. ` +
            'If no mlops process or VS Code window uses this store, delete that folder and try again.',
          lockPath,
        );
      }
    }
  }
}
