// The workspace store: an in-memory sql.js database made durable by a snapshot
// (`store.db`) and an append-only journal of mutations (`journal-<G>.log`).
//
// Writes: take the inter-process lock, replay what other processes appended, check
// the caller's rules against that fresh state, apply the mutations, append one
// record and fsync it, release. The cost is the new data, never the database size.
// Reads: synchronous, from memory. Other processes' writes arrive by tailing the
// journal (fs.watch plus a 250 ms poll) and raise change events.
// Compaction (under the lock, when the journal outgrows a share of the snapshot):
// export the image with generation G+1, fsync, keep the previous image as
// store.db.prev, rename, start journal-(G+1). Journals older than G are removed; a
// process that fell that far behind reloads the snapshot.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Database, SqlJsStatic } from 'sql.js';
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import { StoreCorruptError, StoreError, StoreVersionError } from '../model/errors.ts';
import {
  encodeHeader,
  encodeRecord,
  JOURNAL_FORMAT,
  journalGenerations,
  journalPath,
  readJournal,
  writeFully,
} from './journal.ts';
import { acquireWriteLock, othersWaiting } from './lock.ts';
import { emptyChange, MutationApplier, noteChange } from './mutations.ts';
import type { Mutation, StoreChange } from './mutations.ts';
import { StoreReader } from './queries.ts';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.ts';
import { configureDatabase, loadSqlJs } from './sqlite.ts';

export const SNAPSHOT_FILE = 'store.db';
/** In the 'os' durability mode, appended records reach the disk at most this much later. */
export const OS_SYNC_DELAY_MS = 100;
export const PREVIOUS_SNAPSHOT_FILE = 'store.db.prev';

export interface StoreOptions {
  /** The store folder, e.g. `<workspace>/.mlops`. Created on the first write. */
  dir: string;
  logger?: Logger;
  /** Browse only: never takes the lock, never writes. */
  readOnly?: boolean;
  /** Follow other processes' writes (default true). A one-shot CLI read turns it off. */
  watch?: boolean;
  pollIntervalMs?: number;
  /** Compact when the journal exceeds max(this, snapshot size / 4). Default 4 MiB. */
  compactMinBytes?: number;
  /**
   * When a write is acknowledged. 'disk' (default): after fdatasync, so it survives
   * a crash of the process or of the machine. 'os': once the OS has it, so it
   * survives the process being killed (kill -9) at once and a machine crash after
   * at most OS_SYNC_DELAY_MS, as SQLite's WAL with synchronous=NORMAL.
   */
  durability?: 'disk' | 'os';
}

export interface WriteResult<T> {
  mutations: Mutation[];
  result: T;
}

type Listener = (change: StoreChange) => void;

interface Lease {
  release: () => Promise<void>;
  since: number;
  /** proper-lockfile found the lock taken over (we were blocked past its stale time). */
  lost: boolean;
  timer?: NodeJS.Timeout;
}

/** A held write lock is released when no write came for this long... */
const LEASE_IDLE_MS = 5;
/** ...or after being held this long, so other writers get their turn. */
const LEASE_MAX_MS = 100;

export class Store {
  private db!: Database;
  private applier!: MutationApplier;
  private generation = 0;
  private offset = 0;
  private snapshotBytes = 0;
  private fd: number | undefined;
  private fdGeneration = -1;
  private queue: Promise<unknown> = Promise.resolve();
  private listeners = new Set<Listener>();
  private timer: NodeJS.Timeout | undefined;
  private watcher: fs.FSWatcher | undefined;
  private closed = false;
  private lease: Lease | undefined;
  private unsynced = false;
  private syncTimer: NodeJS.Timeout | undefined;
  reader!: StoreReader;

  private constructor(
    private readonly SQL: SqlJsStatic,
    readonly dir: string,
    private readonly options: StoreOptions,
    private readonly logger: Logger,
  ) {}

  static async open(options: StoreOptions): Promise<Store> {
    const logger = options.logger ?? silentLogger;
    const loadStarted = performance.now();
    const SQL = await loadSqlJs();
    logger.debug(`[store] sql.js ready in ${Math.round(performance.now() - loadStarted)} ms`);
    const store = new Store(SQL, path.resolve(options.dir), options, logger);
    const started = performance.now();
    const migrated = store.load();
    if (migrated && !options.readOnly) await store.compact();
    logger.info(
      `[store] opened ${store.dir} (generation ${store.generation}) in ${Math.round(performance.now() - started)} ms`,
    );
    if (options.watch !== false) store.startWatching();
    return store;
  }

  get snapshotPath(): string {
    return path.join(this.dir, SNAPSHOT_FILE);
  }

  /** Loads the snapshot and replays the journals. Returns true when a migration ran. */
  private load(): boolean {
    const { db, generation, migrated, bytes } = openSnapshot(this.SQL, this.dir, this.logger);
    this.db?.close();
    this.db = db;
    this.applier = new MutationApplier(db);
    this.reader = new StoreReader(db);
    this.generation = generation;
    this.snapshotBytes = bytes;
    this.offset = 0;
    this.closeJournalFd();
    this.catchUp(false);
    return migrated;
  }

  /** Reads and applies what other processes have appended. */
  private catchUp(underLock: boolean): StoreChange {
    const change = emptyChange(true);
    for (;;) {
      const file = journalPath(this.dir, this.generation);
      const later = journalGenerations(this.dir).filter((g) => g > this.generation);
      const exists = fs.existsSync(file);
      if (!exists && later.length > 0) {
        // Our journal was removed by a compaction we did not see: reload.
        this.logger.info(
          `[store] journal generation ${this.generation} is gone; reloading the snapshot`,
        );
        this.load();
        change.experiments = true;
        return change;
      }
      const read = readJournal(file, this.offset, SCHEMA_VERSION);
      if (read.records.length > 0) {
        this.applyRecords(read.records, change);
      }
      this.offset = read.end;
      if (read.trailing > 0) {
        if (underLock) this.dropTornTail(file, read.end, read.trailing);
        else break;
      }
      if (later.length === 0) break;
      if (later[0] !== this.generation + 1) {
        this.logger.info(`[store] fell behind by several compactions; reloading the snapshot`);
        this.load();
        change.experiments = true;
        return change;
      }
      this.generation = later[0];
      this.offset = 0;
    }
    return change;
  }

  private applyRecords(records: Mutation[][], change: StoreChange): void {
    this.db.exec('BEGIN');
    try {
      for (const record of records) {
        for (const m of record) {
          this.applier.apply(m);
          noteChange(change, m);
        }
      }
      this.db.exec('COMMIT');
    } catch (e) {
      this.db.exec('ROLLBACK');
      throw new StoreCorruptError(
        `A journal record could not be applied (${(e as Error).message}). The store files were kept as they are; run \`mlops store repair\`.`,
        journalPath(this.dir, this.generation),
      );
    }
  }

  /** Under the lock, an incomplete last record is the remains of a crashed writer. */
  private dropTornTail(file: string, end: number, bytes: number): void {
    const copy = `${file}.torn-${Date.now()}`;
    const fd = fs.openSync(file, 'r');
    const buf = Buffer.alloc(bytes);
    fs.readSync(fd, buf, 0, bytes, end);
    fs.closeSync(fd);
    fs.writeFileSync(copy, buf);
    fs.truncateSync(file, end);
    this.logger.warn(
      `[store] dropped an incomplete record (${bytes} bytes) at the end of ${file}, left by a writer that stopped mid-write; ` +
        `it was never acknowledged. The bytes were kept in ${copy}.`,
    );
  }

  /**
   * Runs `fn` against the latest state of the store under the write lock and makes
   * the mutations it returns durable. If `fn` throws, nothing is written.
   */
  write<T>(fn: (reader: StoreReader) => WriteResult<T>): Promise<T> {
    if (this.options.readOnly) {
      return Promise.reject(new StoreError(`The store ${this.dir} is open read-only.`, this.dir));
    }
    const next = this.queue.then(() => this.writeNow(fn));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async writeNow<T>(fn: (reader: StoreReader) => WriteResult<T>): Promise<T> {
    if (this.closed) throw new StoreError(`The store ${this.dir} is closed.`, this.dir);
    // While this process holds the lock, nobody else can have written: catching up
    // is needed only when the lock is newly taken.
    if (await this.holdLock()) this.emit(this.catchUp(true));
    try {
      const { mutations, result } = fn(this.reader);
      if (mutations.length === 0) return result;
      const change = emptyChange(false);
      this.db.exec('BEGIN');
      try {
        for (const m of mutations) {
          this.applier.apply(m);
          noteChange(change, m);
        }
        this.append(encodeRecord(mutations));
        this.db.exec('COMMIT');
      } catch (e) {
        this.db.exec('ROLLBACK');
        throw e;
      }
      this.emit(change);
      if (this.offset > Math.max(this.options.compactMinBytes ?? 4 << 20, this.snapshotBytes / 4)) {
        this.compactLocked();
      }
      return result;
    } finally {
      await this.leaseLock();
    }
  }

  /**
   * Takes the write lock unless this process holds it already; true when newly taken.
   * A process writing batches back to back keeps the lock between them (see leaseLock)
   * instead of taking it, and catching up, for every batch.
   */
  private async holdLock(): Promise<boolean> {
    if (this.lease) {
      if (this.lease.timer) clearTimeout(this.lease.timer);
      this.lease.timer = undefined;
      if (!this.lease.lost) return false;
      await this.releaseLock();
    }
    fs.mkdirSync(this.dir, { recursive: true });
    const lease: Lease = { release: async () => {}, since: Date.now(), lost: false };
    lease.release = await acquireWriteLock(
      this.dir,
      this.logger,
      undefined,
      () => (lease.lost = true),
    );
    this.lease = lease;
    return true;
  }

  /**
   * After a write: release at once when another process waits for the lock (it left
   * a marker) or after LEASE_MAX_MS of holding; otherwise keep it until no write
   * came for LEASE_IDLE_MS.
   */
  private async leaseLock(): Promise<void> {
    const lease = this.lease;
    if (!lease) return;
    if (lease.lost || Date.now() - lease.since > LEASE_MAX_MS || othersWaiting(this.dir)) {
      await this.releaseLock();
      return;
    }
    lease.timer = setTimeout(() => {
      this.queue = this.queue.then(() => (this.lease === lease ? this.releaseLock() : undefined));
    }, LEASE_IDLE_MS);
    lease.timer.unref();
  }

  private async releaseLock(): Promise<void> {
    const lease = this.lease;
    if (!lease) return;
    this.lease = undefined;
    if (lease.timer) clearTimeout(lease.timer);
    try {
      await lease.release();
    } catch (e) {
      this.logger.warn(`[store] releasing the write lock: ${(e as Error).message}`);
    }
  }

  private journalFd(): number {
    if (this.fd !== undefined && this.fdGeneration === this.generation) return this.fd;
    this.closeJournalFd();
    const file = journalPath(this.dir, this.generation);
    this.fd = fs.openSync(file, 'a');
    this.fdGeneration = this.generation;
    if (this.offset === 0) {
      // A new journal (or one whose header was torn): write the header first.
      fs.ftruncateSync(this.fd, 0);
      const header = encodeHeader({
        format: JOURNAL_FORMAT,
        schema: SCHEMA_VERSION,
        generation: this.generation,
      });
      writeFully(this.fd, header);
      fs.fdatasyncSync(this.fd);
      this.offset = header.length;
    }
    return this.fd;
  }

  private closeJournalFd(): void {
    if (this.fd !== undefined) {
      this.syncJournal();
      fs.closeSync(this.fd);
    }
    this.fd = undefined;
    this.fdGeneration = -1;
  }

  /** Flushes appended records to the disk (the 'os' durability mode defers this). */
  private syncJournal(): void {
    if (this.syncTimer) clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    if (this.unsynced && this.fd !== undefined) fs.fdatasyncSync(this.fd);
    this.unsynced = false;
  }

  private append(record: Buffer): void {
    const fd = this.journalFd();
    const before = this.offset;
    try {
      writeFully(fd, record);
      if ((this.options.durability ?? 'disk') === 'disk') fs.fdatasyncSync(fd);
      else {
        this.unsynced = true;
        this.syncTimer ??= setTimeout(() => this.syncJournal(), OS_SYNC_DELAY_MS);
        this.syncTimer.unref();
      }
    } catch (e) {
      // Leave no partial record behind: the write was not acknowledged.
      try {
        fs.ftruncateSync(fd, before);
      } catch {
        // the next writer drops it as a torn tail
      }
      throw new StoreError(
        `Could not write to ${journalPath(this.dir, this.generation)}: ${(e as Error).message}. Nothing was recorded; free disk space or check permissions and retry.`,
        journalPath(this.dir, this.generation),
      );
    }
    this.offset = before + record.length;
  }

  /** Folds the journal into a new snapshot. Takes the lock. */
  async compact(): Promise<void> {
    if (this.options.readOnly) return;
    const next = this.queue.then(async () => {
      if (await this.holdLock()) this.emit(this.catchUp(true));
      try {
        this.compactLocked();
      } finally {
        await this.releaseLock();
      }
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  private compactLocked(): void {
    const started = performance.now();
    const closing = this.generation;
    // Every generation between snapshots has a journal file, so a missing one always
    // means "removed by a compaction" to the processes that tail it.
    this.journalFd();
    const nextGeneration = closing + 1;
    this.db.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('generation', ?)", [
      String(nextGeneration),
    ]);
    const image = this.db.export();
    // export() frees prepared statements and resets pragmas.
    this.applier.reset();
    this.reader.reset();
    configureDatabase(this.db);
    const tmp = path.join(this.dir, `${SNAPSHOT_FILE}.tmp-${process.pid}`);
    const fd = fs.openSync(tmp, 'w');
    try {
      writeFully(fd, Buffer.from(image.buffer, image.byteOffset, image.byteLength));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    // The next journal exists before the snapshot that points at it.
    const nextJournal = journalPath(this.dir, nextGeneration);
    const jfd = fs.openSync(nextJournal, 'w');
    const header = encodeHeader({
      format: JOURNAL_FORMAT,
      schema: SCHEMA_VERSION,
      generation: nextGeneration,
    });
    writeFully(jfd, header);
    fs.fdatasyncSync(jfd);
    fs.closeSync(jfd);
    const snapshot = this.snapshotPath;
    if (fs.existsSync(snapshot)) {
      const prevTmp = path.join(this.dir, `${PREVIOUS_SNAPSHOT_FILE}.tmp-${process.pid}`);
      fs.rmSync(prevTmp, { force: true });
      fs.linkSync(snapshot, prevTmp);
      fs.renameSync(prevTmp, path.join(this.dir, PREVIOUS_SNAPSHOT_FILE));
    }
    fs.renameSync(tmp, snapshot);
    fsyncDir(this.dir);
    for (const g of journalGenerations(this.dir)) {
      if (g < closing) fs.rmSync(journalPath(this.dir, g), { force: true });
    }
    this.closeJournalFd();
    this.generation = nextGeneration;
    this.offset = header.length;
    this.snapshotBytes = image.byteLength;
    this.logger.info(
      `[store] compacted into generation ${nextGeneration}: ${(image.byteLength / 1048576).toFixed(1)} MB in ${Math.round(performance.now() - started)} ms`,
    );
  }

  /** Catches up with other processes now instead of at the next poll. */
  refresh(): void {
    if (this.closed) return;
    try {
      this.emit(this.catchUp(false));
    } catch (e) {
      this.logger.error(e as Error);
    }
  }

  private startWatching(): void {
    const interval = this.options.pollIntervalMs ?? 250;
    this.timer = setInterval(() => {
      this.watchFolder();
      this.refresh();
    }, interval);
    this.timer.unref();
    this.watchFolder();
  }

  /** fs.watch once the folder exists (reading never creates it); the poll is the fallback. */
  private watchFolder(): void {
    if (this.watcher || this.closed || !fs.existsSync(this.dir)) return;
    try {
      this.watcher = fs.watch(this.dir, { persistent: false }, () => this.refresh());
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      // polling alone keeps the one-second promise
    }
  }

  onDidChange(listener: Listener): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private emit(change: StoreChange): void {
    if (
      !change.experiments &&
      !change.registry &&
      change.runs.size === 0 &&
      change.traces.size === 0
    )
      return;
    for (const l of this.listeners) {
      try {
        l(change);
      } catch (e) {
        this.logger.error(e as Error);
      }
    }
  }

  /** Waits for queued writes, then releases files and memory. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.queue;
    await this.releaseLock();
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.watcher?.close();
    this.closeJournalFd();
    this.reader.reset();
    this.applier.reset();
    this.db.close();
    this.listeners.clear();
  }

  get stats(): { generation: number; journalBytes: number; snapshotBytes: number } {
    return {
      generation: this.generation,
      journalBytes: this.offset,
      snapshotBytes: this.snapshotBytes,
    };
  }
}

export function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
  } catch {
    // not supported on every platform; the renames are still atomic
  }
}

/** Checks an image's SQLite header: magic and page count against the file size. */
export function checkSnapshotHeader(file: string, buf: Uint8Array): void {
  const magic = Buffer.from(buf.buffer, buf.byteOffset, Math.min(16, buf.byteLength)).toString(
    'latin1',
  );
  if (buf.byteLength < 100 || magic !== 'SQLite format 3\u0000') {
    throw new StoreCorruptError(
      `${file} is not an MLOps Workbench store (it is not a SQLite database${buf.byteLength < 100 ? `; it holds only ${buf.byteLength} bytes` : ''}). ` +
        'The file was kept as it is. Run `mlops store repair` to rebuild it from the previous snapshot and the journals (a copy is made first), or restore it from a backup.',
      file,
    );
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const rawPageSize = view.getUint16(16);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  const pages = view.getUint32(28);
  const valid = view.getUint32(92) === view.getUint32(24);
  if (valid && pages > 0 && pages * pageSize !== buf.byteLength) {
    throw new StoreCorruptError(
      `${file} is truncated or damaged: its header says ${pages * pageSize} bytes but the file holds ${buf.byteLength}. ` +
        'The file was kept as it is. Run `mlops store repair` to rebuild it from the previous snapshot and the journals (a copy is made first), or restore it from a backup.',
      file,
    );
  }
}

interface OpenedSnapshot {
  db: Database;
  generation: number;
  migrated: boolean;
  bytes: number;
}

export function openSnapshot(
  SQL: SqlJsStatic,
  dir: string,
  logger: Logger,
  file = path.join(dir, SNAPSHOT_FILE),
): OpenedSnapshot {
  let buf: Buffer | undefined;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new StoreCorruptError(
        `${file} cannot be read: ${(e as Error).message}. Check its permissions; the file was not changed.`,
        file,
      );
    }
  }
  if (!buf) {
    const gens = journalGenerations(dir);
    if (gens.length > 0 && gens[0]! > 0) {
      throw new StoreCorruptError(
        `${file} is missing, but the journals start at generation ${gens[0]}, so earlier data would be lost. ` +
          'Restore store.db from a backup, or run `mlops store repair` to rebuild what store.db.prev and the journals hold.',
        file,
      );
    }
    const db = new SQL.Database();
    migrate(db, 0);
    configureDatabase(db);
    return { db, generation: 0, migrated: false, bytes: 0 };
  }
  checkSnapshotHeader(file, buf);
  let db: Database | undefined;
  try {
    db = new SQL.Database(buf);
    const version = db.exec('PRAGMA user_version')[0]?.values[0]?.[0] as number;
    if (version > SCHEMA_VERSION) {
      db.close();
      throw new StoreVersionError(
        `${file} was written by a newer version of MLOps Workbench (schema ${version}; this version reads up to ${SCHEMA_VERSION}). ` +
          'Update the extension or the mlops CLI; the store was not changed.',
        file,
      );
    }
    const generation = Number(
      db.exec("SELECT value FROM meta WHERE key = 'generation'")[0]?.values[0]?.[0] ?? 0,
    );
    const migrated = migrate(db, version);
    if (migrated)
      logger.info(`[store] migrated ${file} from schema ${version} to ${SCHEMA_VERSION}`);
    configureDatabase(db);
    return { db, generation, migrated, bytes: buf.byteLength };
  } catch (e) {
    if (e instanceof StoreVersionError) throw e;
    db?.close();
    throw new StoreCorruptError(
      `${file} cannot be opened (${(e as Error).message}). The file was kept as it is. ` +
        'Run `mlops store repair` to rebuild it from the previous snapshot and the journals (a copy is made first), or restore it from a backup.',
      file,
    );
  }
}

export function migrate(db: Database, from: number): boolean {
  let ran = false;
  for (const m of MIGRATIONS) {
    if (m.version <= from) continue;
    db.exec('BEGIN');
    try {
      db.exec(m.sql);
      db.exec(`PRAGMA user_version = ${m.version}`);
      db.exec('COMMIT');
    } catch (e) {
      db.exec('ROLLBACK');
      throw new Error(`migration ${m.version} (${m.description}) failed: ${(e as Error).message}`, {
        cause: e,
      });
    }
    ran = true;
  }
  return ran && from > 0;
}
