import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { RecordingLogger } from '../../src/core/log.ts';
import { StoreCorruptError, StoreVersionError } from '../../src/core/model/errors.ts';
import { encodeHeader, journalPath } from '../../src/core/store/journal.ts';
import { MIGRATIONS } from '../../src/core/store/schema.ts';
import { loadSqlJs } from '../../src/core/store/sqlite.ts';
import { Store } from '../../src/core/store/store.ts';
import { Tracking } from '../../src/core/tracking/tracking.ts';
import { removeDir, spawnTs, tempDir, until, waitExit } from './helpers.ts';

const dirs: string[] = [];
function storeDir(): string {
  const d = tempDir();
  dirs.push(d);
  return path.join(d, '.mlops');
}
after(() => dirs.forEach(removeDir));

const sha = (file: string): string =>
  createHash('sha256').update(fs.readFileSync(file)).digest('hex');

async function seeded(dir: string, compactMinBytes?: number): Promise<{ runId: string }> {
  const t = await Tracking.open({ dir, watch: false, compactMinBytes });
  const exp = await t.createExperiment('exp');
  const run = await t.createRun({ experimentId: exp, runName: 'r1', captureGit: false });
  await t.logBatch(run.runId, {
    params: { lr: '0.1' },
    metrics: [
      { key: 'loss', value: 1, step: 0 },
      { key: 'loss', value: 0.5, step: 1 },
    ],
  });
  await t.close();
  return { runId: run.runId };
}

describe('store persistence', () => {
  test('acknowledged writes survive a reopen, and the store folder is created on first write', async () => {
    const dir = storeDir();
    const t0 = await Tracking.open({ dir, pollIntervalMs: 20 });
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(fs.existsSync(dir), false, 'opening and following a store creates nothing');
    assert.deepEqual(t0.listExperiments(), []);
    await t0.close();
    const { runId } = await seeded(dir);
    const t = await Tracking.open({ dir, watch: false });
    const run = t.getRun(runId);
    assert.equal(run.params.lr, '0.1');
    assert.equal(run.metrics.loss?.value, 0.5);
    assert.deepEqual(
      t.listExperiments().map((e) => e.name),
      ['Default', 'exp'],
    );
    await t.close();
  });

  test('compaction folds the journal into a snapshot, keeps the previous one, and loses nothing', async () => {
    const dir = storeDir();
    const logger = new RecordingLogger();
    const t = await Tracking.open({ dir, watch: false, compactMinBytes: 2000, logger });
    const run = await t.createRun({ captureGit: false });
    // Enough journal to pass a quarter of the (schema-sized) snapshot several times.
    for (let b = 0; b < 40; b++) {
      await t.logMetrics(
        run.runId,
        Array.from({ length: 100 }, (_, i) => ({
          key: 'm',
          value: b * 100 + i,
          step: b * 100 + i,
        })),
      );
    }
    const gen = t.store.stats.generation;
    assert.ok(gen >= 2, `expected several compactions, generation is ${gen}`);
    assert.ok(fs.existsSync(path.join(dir, 'store.db')));
    assert.ok(fs.existsSync(path.join(dir, 'store.db.prev')));
    assert.ok(logger.lines.some((l) => l.message.includes('compacted into generation')));
    const journals = fs.readdirSync(dir).filter((f) => f.startsWith('journal-'));
    assert.ok(journals.length <= 2, `old journals are removed: ${journals.join(', ')}`);
    await t.close();
    const again = await Tracking.open({ dir, watch: false });
    assert.equal(again.metricHistory(run.runId, 'm').length, 4000);
    assert.equal(again.getRun(run.runId).metrics.m?.max, 3999);
    await again.close();
  });

  test('a torn last record is dropped on the next write, logged, and its bytes kept', async () => {
    const dir = storeDir();
    const { runId } = await seeded(dir);
    const journal = journalPath(dir, 0);
    const good = fs.statSync(journal).size;
    fs.appendFileSync(journal, '1234abcd {"m":[{"t":"run.logMetrics","run":"');
    const logger = new RecordingLogger();
    const t = await Tracking.open({ dir, watch: false, logger });
    assert.equal(t.getRun(runId).metrics.loss?.count, 2, 'reading ignores the torn tail');
    await t.setTag(runId, 'after', 'crash');
    const warn = logger.lines.find(
      (l) => l.level === 'warn' && l.message.includes('incomplete record'),
    );
    assert.ok(warn, 'the loss is logged');
    const torn = fs.readdirSync(dir).filter((f) => f.includes('.torn-'));
    assert.equal(torn.length, 1);
    assert.match(fs.readFileSync(path.join(dir, torn[0]!), 'utf8'), /^1234abcd/);
    assert.ok(fs.statSync(journal).size > good);
    await t.close();
    const again = await Tracking.open({ dir, watch: false });
    assert.equal(again.getRun(runId).tags.after, 'crash');
    await again.close();
  });

  test('a damaged record in the middle of a journal is an error that names the file; nothing is changed', async () => {
    const dir = storeDir();
    await seeded(dir);
    const journal = journalPath(dir, 0);
    const text = fs.readFileSync(journal, 'utf8');
    const lines = text.split('\n');
    lines[2] = lines[2]!.replace('"', "'"); // flips a byte in the second record
    fs.writeFileSync(journal, lines.join('\n'));
    const before = sha(journal);
    await assert.rejects(Tracking.open({ dir, watch: false }), (e: Error) => {
      assert.ok(e instanceof StoreCorruptError);
      assert.match(e.message, /journal-0\.log is damaged at byte \d+/);
      assert.match(e.message, /mlops store repair/);
      return true;
    });
    assert.equal(sha(journal), before);
  });

  for (const [label, damage] of [
    [
      'garbage',
      (f: string) =>
        fs.writeFileSync(f, Buffer.from('this is not a database at all, just text\n'.repeat(50))),
    ],
    ['truncated', (f: string) => fs.truncateSync(f, Math.floor(fs.statSync(f).size / 2))],
    ['empty', (f: string) => fs.writeFileSync(f, '')],
  ] as const) {
    test(`a ${label} store.db gives an error naming the file and what to do, and is kept`, async () => {
      const dir = storeDir();
      const t = await Tracking.open({ dir, watch: false });
      await t.createExperiment('x');
      await t.store.compact();
      await t.close();
      const file = path.join(dir, 'store.db');
      damage(file);
      const before = sha(file);
      await assert.rejects(Tracking.open({ dir, watch: false }), (e: Error) => {
        assert.ok(e instanceof StoreCorruptError, String(e));
        assert.ok(e.message.includes(file), e.message);
        assert.match(e.message, /kept as it is/);
        assert.match(e.message, /mlops store repair|backup/);
        return true;
      });
      assert.equal(sha(file), before, 'the file is not touched');
    });
  }

  test('a store written by a newer schema is refused and not overwritten', async () => {
    const dir = storeDir();
    fs.mkdirSync(dir, { recursive: true });
    const SQL = await loadSqlJs();
    const db = new SQL.Database();
    db.exec('CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT); PRAGMA user_version = 99');
    const file = path.join(dir, 'store.db');
    fs.writeFileSync(file, db.export());
    db.close();
    const before = sha(file);
    await assert.rejects(Tracking.open({ dir, watch: false }), (e: Error) => {
      assert.ok(e instanceof StoreVersionError);
      assert.match(e.message, /newer version of MLOps Workbench \(schema 99/);
      assert.match(e.message, /Update the extension or the mlops CLI/);
      return true;
    });
    assert.equal(sha(file), before);
  });

  test('a schema 1 store is migrated: metric history kept, in the order it was logged', async () => {
    const dir = storeDir();
    fs.mkdirSync(dir, { recursive: true });
    const SQL = await loadSqlJs();
    const db = new SQL.Database();
    db.exec(MIGRATIONS[0]!.sql);
    db.exec('PRAGMA user_version = 1');
    db.exec(
      "INSERT INTO experiments (experiment_id, name, artifact_location, creation_time, last_update_time) VALUES (0, 'Default', 'a', 0, 0)",
    );
    db.exec(
      "INSERT INTO runs (rid, run_uuid, experiment_id, name, user_id, status, start_time, artifact_uri) VALUES (1, 'old-run', 0, 'old', 'u', 'FINISHED', 0, 'a')",
    );
    // Two points at step 5 (a duplicate step), logged 2 then 1: that order must survive.
    const points: [number, number, number][] = [
      [4, 10, 0.5],
      [5, 20, 2],
      [5, 20, 1],
      [6, 30, 0.25],
    ];
    for (const [step, ts, value] of points) {
      db.run(
        'INSERT INTO metrics (rid, key, step, timestamp, value, is_nan) VALUES (1, ?, ?, ?, ?, 0)',
        ['loss', step, ts, value],
      );
    }
    db.exec("INSERT INTO latest_metrics VALUES (1, 'loss', 0.25, 0, 30, 6, 0.25, 2, 4)");
    fs.writeFileSync(path.join(dir, 'store.db'), db.export());
    db.close();

    const t = await Tracking.open({ dir, watch: false });
    const values = () => t.metricHistory('old-run', 'loss').map((p) => p.value);
    assert.deepEqual(values(), [0.5, 2, 1, 0.25]);
    assert.deepEqual(
      [...t.metricSeries('old-run', 'loss', { maxPoints: 100 }).value],
      [0.5, 2, 1, 0.25],
    );
    // New points at an existing step come after the migrated ones.
    await t.logMetrics('old-run', [{ key: 'loss', value: 3, step: 5, timestamp: 20 }]);
    assert.deepEqual(values(), [0.5, 2, 1, 3, 0.25]);
    await t.close();
    // And another process replaying the journal on the migrated snapshot agrees.
    const again = await Tracking.open({ dir, watch: false });
    assert.deepEqual(
      again.metricHistory('old-run', 'loss').map((p) => p.value),
      [0.5, 2, 1, 3, 0.25],
    );
    await again.close();
  });

  test('a journal written by a newer schema is refused', async () => {
    const dir = storeDir();
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(journalPath(dir, 0), encodeHeader({ format: 1, schema: 42, generation: 0 }));
    await assert.rejects(Tracking.open({ dir, watch: false }), StoreVersionError);
  });

  test('isEmpty: no runs and no experiment besides Default', async () => {
    const t = await Tracking.open({ dir: storeDir(), watch: false });
    assert.equal(t.store.reader.isEmpty(), true);
    const run = await t.createRun({ captureGit: false });
    assert.equal(t.store.reader.isEmpty(), false, 'a run in Default');
    await t.deleteRun(run.runId);
    assert.equal(t.store.reader.isEmpty(), false, 'a deleted run can still be restored');
    const other = await Tracking.open({ dir: storeDir(), watch: false });
    await other.createExperiment('planned');
    assert.equal(other.store.reader.isEmpty(), false, 'an experiment without runs');
    await t.close();
    await other.close();
  });

  test('a read-only store refuses writes', async () => {
    const dir = storeDir();
    await seeded(dir);
    const s = await Store.open({ dir, readOnly: true, watch: false });
    await assert.rejects(
      s.write(() => ({ mutations: [], result: 1 })),
      /read-only/,
    );
    await s.close();
  });
});

describe('several processes', () => {
  test('two processes logging at once lose nothing', async () => {
    const dir = storeDir();
    const t = await Tracking.open({ dir, watch: false });
    const run = await t.createRun({ captureGit: false });
    await t.close();
    const a = spawnTs('test/fixtures/metricWriter.ts', [dir, run.runId, 'a', '40', '100', '20000']);
    const b = spawnTs('test/fixtures/metricWriter.ts', [dir, run.runId, 'b', '40', '100', '20000']);
    let errors = '';
    a.stderr!.on('data', (d) => (errors += d));
    b.stderr!.on('data', (d) => (errors += d));
    const [ea, eb] = await Promise.all([waitExit(a), waitExit(b)]);
    assert.equal(ea.code, 0, errors);
    assert.equal(eb.code, 0, errors);
    const check = await Tracking.open({ dir, watch: false });
    for (const key of ['a', 'b']) {
      const history = check.metricHistory(run.runId, key);
      assert.equal(history.length, 4000, `all points of ${key}`);
      assert.deepEqual(
        history.map((p) => p.value),
        Array.from({ length: 4000 }, (_, i) => i),
      );
    }
    assert.ok(check.store.stats.generation >= 1, 'the writers compacted while racing');
    await check.close();
  });

  for (const durability of ['disk', 'os'] as const) {
    test(`a process killed with SIGKILL mid-stream loses no acknowledged point (durability '${durability}')`, async () => {
      for (let round = 0; round < 3; round++) {
        const dir = storeDir();
        const t = await Tracking.open({ dir, watch: false });
        const run = await t.createRun({ captureGit: false });
        await t.close();
        const child = spawnTs('test/fixtures/metricWriter.ts', [
          dir,
          run.runId,
          'loss',
          '100000',
          '500',
          '300000',
          durability,
        ]);
        let acked = 0;
        let buffer = '';
        child.stdout!.on('data', (d: Buffer) => {
          buffer += d.toString();
          for (const m of buffer.matchAll(/ack (\d+)\n/g)) acked = Math.max(acked, Number(m[1]));
        });
        // Kill at a different moment each round, always mid-stream.
        await until(() => acked >= 5000 + round * 7000, 60_000, 'the writer to acknowledge points');
        child.kill('SIGKILL');
        const exit = await waitExit(child);
        assert.equal(exit.signal, 'SIGKILL');
        const ackedAtKill = acked;
        const logger = new RecordingLogger();
        const check = await Tracking.open({ dir, watch: false, logger });
        const points = check.metricHistory(run.runId, 'loss');
        assert.ok(
          points.length >= ackedAtKill,
          `round ${round}: ${points.length} points stored, ${ackedAtKill} acknowledged`,
        );
        assert.deepEqual(
          points.slice(0, ackedAtKill).map((p) => p.step),
          Array.from({ length: ackedAtKill }, (_, i) => i),
        );
        // The store still takes writes after the crash (a torn tail, if any, is dropped).
        await check.setTag(run.runId, 'recovered', 'yes');
        await check.close();
      }
    });
  }

  test('a busy writer keeping the lock between batches still lets another writer in', async () => {
    const dir = storeDir();
    const t = await Tracking.open({ dir, watch: false });
    const run = await t.createRun({ captureGit: false });
    await t.close();
    const busy = spawnTs('test/fixtures/metricWriter.ts', [dir, run.runId, 'busy', '3000', '200']);
    let busyAcked = 0;
    busy.stdout!.on('data', (d: Buffer) => {
      for (const m of d.toString().matchAll(/ack (\d+)/g))
        busyAcked = Math.max(busyAcked, Number(m[1]));
    });
    await until(() => busyAcked >= 2000, 30_000, 'the busy writer to get going');
    const other = spawnTs('test/fixtures/metricWriter.ts', [dir, run.runId, 'other', '5', '10']);
    const otherExit = await waitExit(other);
    assert.equal(otherExit.code, 0);
    assert.ok(
      busy.exitCode === null,
      'the second writer finished while the busy one was still writing',
    );
    assert.ok(
      busyAcked < 600_000,
      `the busy writer had ${busyAcked} of 600000 points acknowledged`,
    );
    assert.equal((await waitExit(busy)).code, 0);
    const check = await Tracking.open({ dir, watch: false });
    assert.equal(check.metricHistory(run.runId, 'busy').length, 600_000);
    assert.equal(check.metricHistory(run.runId, 'other').length, 50);
    await check.close();
  });

  test('a write lock left by a killed process on this host is taken over at once', async () => {
    const dir = storeDir();
    const { runId } = await seeded(dir);
    const dead = spawnSync(process.execPath, ['-e', '0']);
    const lock = path.join(dir, 'write.lock');
    fs.mkdirSync(lock);
    fs.writeFileSync(path.join(lock, 'owner'), `${os.hostname()}\n${dead.pid}`);
    const logger = new RecordingLogger();
    const t = await Tracking.open({ dir, watch: false, logger });
    const started = Date.now();
    await t.setTag(runId, 'k', 'v');
    assert.ok(Date.now() - started < 2000, 'no wait for the stale delay');
    assert.ok(
      logger.lines.some(
        (l) => l.level === 'warn' && l.message.includes(`left by process ${dead.pid}`),
      ),
    );
    // A writer keeps the lock a few ms after a write (for the next batch), then lets go.
    await until(() => !fs.existsSync(lock), 1000, 'the lock to be released after the write');
    // A lock held by a live process is respected.
    fs.mkdirSync(lock);
    fs.writeFileSync(path.join(lock, 'owner'), `${os.hostname()}\n${process.ppid}`);
    const pending = t.setTag(runId, 'k', 'w');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(t.getRun(runId).tags.k, 'v', 'still waiting for the live holder');
    fs.rmSync(lock, { recursive: true });
    await pending;
    assert.equal(t.getRun(runId).tags.k, 'w');
    await t.close();
  });

  test("another process's write raises a change event within a second", async () => {
    const dir = storeDir();
    const { runId } = await seeded(dir);
    const watcher = await Tracking.open({ dir, pollIntervalMs: 250 });
    const seen: string[] = [];
    watcher.onDidChange((c) => {
      if (c.external) seen.push(...c.runs);
    });
    const started = Date.now();
    const child = spawnTs('test/fixtures/metricWriter.ts', [dir, runId, 'acc', '1', '10']);
    await waitExit(child);
    const written = Date.now();
    await until(() => seen.includes(runId), 1000, 'the change event');
    assert.ok(Date.now() - written <= 1000, `seen ${Date.now() - written} ms after the write`);
    assert.equal(watcher.getRun(runId).metrics.acc?.count, 10);
    assert.ok(Date.now() - started < 15_000);
    await watcher.close();
  });

  test('a process that missed several compactions reloads and sees everything', async () => {
    const dir = storeDir();
    const { runId } = await seeded(dir);
    const lagging = await Tracking.open({ dir, watch: false });
    const writer = await Tracking.open({ dir, watch: false });
    for (let i = 0; i < 5; i++) {
      await writer.setTag(runId, `t${i}`, String(i));
      await writer.store.compact();
    }
    assert.ok(writer.store.stats.generation >= 4);
    await writer.close();
    lagging.store.refresh();
    assert.equal(lagging.getRun(runId).tags.t4, '4');
    await lagging.setTag(runId, 'late', 'yes');
    await lagging.close();
    const check = await Tracking.open({ dir, watch: false });
    assert.deepEqual(
      Object.keys(check.getRun(runId).tags).filter((k) => /^t\d$|late/.test(k)),
      ['late', 't0', 't1', 't2', 't3', 't4'],
    );
    await check.close();
  });
});
