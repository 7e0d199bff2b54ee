// `mlops store repair`: rebuilds a store that cannot be opened, after copying every
// store file into a backup folder. Uses the newest snapshot that opens (store.db,
// else store.db.prev) and replays every intact journal record on top of it.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Database } from 'sql.js';
import type { Logger } from '../log.ts';
import { StoreVersionError } from '../model/errors.ts';
import {
  encodeHeader,
  JOURNAL_FORMAT,
  journalGenerations,
  journalPath,
  scanJournalTolerant,
  writeFully,
} from './journal.ts';
import { acquireWriteLock } from './lock.ts';
import { MutationApplier } from './mutations.ts';
import { SCHEMA_VERSION } from './schema.ts';
import { configureDatabase, loadSqlJs } from './sqlite.ts';
import { fsyncDir, migrate, openSnapshot, PREVIOUS_SNAPSHOT_FILE, SNAPSHOT_FILE } from './store.ts';

export interface RepairReport {
  backupDir: string;
  /** Which snapshot the rebuild started from. */
  base: 'store.db' | 'store.db.prev' | 'empty';
  recordsReplayed: number;
  recordsDropped: number;
  tornBytesDropped: number;
  /** Generations whose journal was missing: their data could not be recovered. */
  missingGenerations: number[];
  generation: number;
}

export async function repairStore(
  dir: string,
  logger: Logger,
  now = Date.now(),
): Promise<RepairReport> {
  if (!fs.existsSync(dir)) throw new Error(`There is no store at ${dir}.`);
  const SQL = await loadSqlJs();
  const release = await acquireWriteLock(dir, logger);
  try {
    const backupDir = path.join(dir, `backup-${new Date(now).toISOString().replace(/[:.]/g, '-')}`);
    fs.mkdirSync(backupDir, { recursive: true });
    for (const name of fs.readdirSync(dir)) {
      if (
        name === SNAPSHOT_FILE ||
        name === PREVIOUS_SNAPSHOT_FILE ||
        /^journal-\d+\.log$/.test(name)
      ) {
        fs.copyFileSync(path.join(dir, name), path.join(backupDir, name));
      }
    }
    logger.info(`[store] repair: copied the store files to ${backupDir}`);

    let db: Database | undefined;
    let generation = 0;
    let base: RepairReport['base'] = 'empty';
    for (const [name, label] of [
      [SNAPSHOT_FILE, 'store.db'],
      [PREVIOUS_SNAPSHOT_FILE, 'store.db.prev'],
    ] as const) {
      const file = path.join(dir, name);
      if (!fs.existsSync(file)) continue;
      try {
        const opened = openSnapshot(SQL, dir, logger, file);
        db = opened.db;
        generation = opened.generation;
        base = label;
        break;
      } catch (e) {
        if (e instanceof StoreVersionError) throw e;
        logger.warn(`[store] repair: ${label} cannot be used: ${(e as Error).message}`);
      }
    }
    const gens = journalGenerations(dir);
    if (!db) {
      db = new SQL.Database();
      migrate(db, 0);
      configureDatabase(db);
      generation = gens[0] ?? 0;
    }
    const missingGenerations: number[] = [];
    if (base === 'empty' && generation > 0) {
      for (let g = 0; g < generation; g++) missingGenerations.push(g);
    }
    const applier = new MutationApplier(db);
    let replayed = 0;
    let dropped = 0;
    let torn = 0;
    const last = Math.max(generation, ...gens);
    for (let g = generation; g <= last; g++) {
      const file = journalPath(dir, g);
      if (!fs.existsSync(file)) {
        if (g < last) missingGenerations.push(g);
        continue;
      }
      const scan = scanJournalTolerant(fs.readFileSync(file));
      dropped += scan.damaged;
      torn += scan.tornBytes;
      for (const record of scan.records) {
        db.exec('SAVEPOINT rec');
        try {
          for (const m of record) applier.apply(m);
          db.exec('RELEASE rec');
          replayed++;
        } catch (e) {
          db.exec('ROLLBACK TO rec');
          db.exec('RELEASE rec');
          dropped++;
          logger.warn(
            `[store] repair: dropped a record of ${file} that could not be applied: ${(e as Error).message}`,
          );
        }
      }
    }
    applier.reset();
    const next = last + 1;
    db.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('generation', ?)", [String(next)]);
    const image = db.export();
    db.close();
    const tmp = path.join(dir, `${SNAPSHOT_FILE}.tmp-${process.pid}`);
    const fd = fs.openSync(tmp, 'w');
    writeFully(fd, Buffer.from(image.buffer, image.byteOffset, image.byteLength));
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    const jfd = fs.openSync(journalPath(dir, next), 'w');
    writeFully(
      jfd,
      encodeHeader({ format: JOURNAL_FORMAT, schema: SCHEMA_VERSION, generation: next }),
    );
    fs.fdatasyncSync(jfd);
    fs.closeSync(jfd);
    fs.renameSync(tmp, path.join(dir, SNAPSHOT_FILE));
    fs.rmSync(path.join(dir, PREVIOUS_SNAPSHOT_FILE), { force: true });
    for (const g of gens) if (g < next) fs.rmSync(journalPath(dir, g), { force: true });
    fsyncDir(dir);
    const report: RepairReport = {
      backupDir,
      base,
      recordsReplayed: replayed,
      recordsDropped: dropped,
      tornBytesDropped: torn,
      missingGenerations,
      generation: next,
    };
    logger.info(`[store] repair finished: ${JSON.stringify(report)}`);
    return report;
  } finally {
    await release();
  }
}
