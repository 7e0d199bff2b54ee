import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, beforeEach, describe, test } from 'node:test';
import { AlreadyExistsError, NotFoundError, ValidationError } from '../../src/core/model/errors.ts';
import { Tracking } from '../../src/core/tracking/tracking.ts';
import { removeDir, tempDir } from './helpers.ts';

const dirs: string[] = [];
after(() => dirs.forEach(removeDir));

let now = 1_700_000_000_000;
async function open(codeRoot?: string): Promise<{ t: Tracking; root: string }> {
  const root = tempDir();
  dirs.push(root);
  const t = await Tracking.open({
    dir: path.join(root, '.mlops'),
    watch: false,
    clock: () => now,
    user: 'ada',
    codeRoot: codeRoot ?? root,
  });
  return { t, root };
}

beforeEach(() => {
  now = 1_700_000_000_000;
});

describe('experiments', () => {
  test('Default exists once anything is written; ids are numbered; names are unique', async () => {
    const { t } = await open();
    const a = await t.createExperiment('a', { tags: { team: 'nlp' } });
    const b = await t.createExperiment('b');
    assert.deepEqual([a, b], ['1', '2']);
    assert.deepEqual(
      t.listExperiments().map((e) => [e.experimentId, e.name]),
      [
        ['0', 'Default'],
        ['1', 'a'],
        ['2', 'b'],
      ],
    );
    assert.equal(t.getExperiment('1').tags.team, 'nlp');
    await assert.rejects(t.createExperiment('a'), AlreadyExistsError);
    await assert.rejects(t.createExperiment('  '), ValidationError);
    assert.throws(() => t.getExperiment('99'), NotFoundError);
    assert.throws(() => t.getExperiment('abc'), /not an experiment id/);
    await t.close();
  });

  test('rename, delete and restore; a deleted experiment takes no runs; Default cannot be deleted', async () => {
    const { t } = await open();
    const id = await t.createExperiment('a');
    await t.renameExperiment(id, 'renamed');
    assert.equal(t.getExperimentByName('renamed')?.experimentId, id);
    await assert.rejects(t.renameExperiment(id, 'Default'), AlreadyExistsError);
    now += 5;
    await t.deleteExperiment(id);
    assert.equal(t.getExperiment(id).lifecycleStage, 'deleted');
    assert.equal(t.getExperiment(id).lastUpdateTime, now);
    assert.deepEqual(
      t.listExperiments().map((e) => e.name),
      ['Default'],
    );
    assert.deepEqual(
      t.listExperiments('DELETED_ONLY').map((e) => e.name),
      ['renamed'],
    );
    await assert.rejects(t.createRun({ experimentId: id }), /is deleted; restore it/);
    await t.restoreExperiment(id);
    await t.createRun({ experimentId: id });
    await assert.rejects(t.deleteExperiment('0'), /cannot be deleted/);
    await t.setExperimentTag(id, 'k', 'v');
    await t.deleteExperimentTag(id, 'k');
    assert.deepEqual(t.getExperiment(id).tags, {});
    await t.close();
  });

  test('getOrCreateExperiment returns the existing one', async () => {
    const { t } = await open();
    const a = await t.getOrCreateExperiment('x');
    const b = await t.getOrCreateExperiment('x');
    assert.equal(a.experimentId, b.experimentId);
    await t.close();
  });
});

describe('runs', () => {
  test('create with name, start time, user; update status and end time; nested runs', async () => {
    const { t } = await open();
    const run = await t.createRun({ runName: 'first', startTime: 1000, tags: { a: 'b' } });
    assert.equal(run.status, 'RUNNING');
    assert.equal(run.experimentId, '0');
    assert.equal(run.userId, 'ada');
    assert.equal(run.startTime, 1000);
    assert.match(run.runId, /^[0-9a-f]{32}$/);
    const tags = t.getRun(run.runId).tags;
    assert.equal(tags['mlflow.runName'], 'first');
    assert.equal(tags['mlflow.user'], 'ada');
    assert.equal(tags.a, 'b');
    const child = await t.createRun({ parentRunId: run.runId });
    assert.equal(child.parentRunId, run.runId);
    assert.equal(t.getRun(child.runId).tags['mlflow.parentRunId'], run.runId);
    assert.deepEqual(t.childRunIds(run.runId), [child.runId]);
    await assert.rejects(t.createRun({ parentRunId: 'nope' }), NotFoundError);
    assert.deepEqual(
      t.searchRuns({ parentRunId: null }).items.map((r) => r.info.runId),
      [run.runId],
      'top-level runs only',
    );
    assert.deepEqual(
      t.searchRuns({ parentRunId: run.runId }).items.map((r) => r.info.runId),
      [child.runId],
    );
    assert.equal(t.countRuns(), 2);
    assert.equal(t.countRuns({ parentRunId: null }), 1);
    assert.equal(t.countRuns({ filter: "attributes.run_name = 'first'" }), 1);
    now = 5000;
    const ended = await t.endRun(run.runId, 'FAILED');
    assert.equal(ended.status, 'FAILED');
    assert.equal(ended.endTime, 5000);
    await assert.rejects(t.updateRun(run.runId, { status: 'DONE' as never }), /not a run status/);
    await t.updateRun(run.runId, { runName: 'renamed' });
    assert.equal(t.getRun(run.runId).tags['mlflow.runName'], 'renamed');
    assert.equal(t.getRunInfo(run.runId).runName, 'renamed');
    await t.close();
  });

  test('delete and restore; a deleted run refuses logging', async () => {
    const { t } = await open();
    const run = await t.createRun();
    await t.deleteRun(run.runId);
    assert.equal(t.getRunInfo(run.runId).lifecycleStage, 'deleted');
    await assert.rejects(t.logParam(run.runId, 'a', '1'), /'active' state/);
    assert.throws(() => t.logMetric(run.runId, 'a', 1), /deleted/);
    assert.equal(t.searchRuns().items.length, 0);
    assert.equal(t.searchRuns({ viewType: 'DELETED_ONLY' }).items.length, 1);
    await t.restoreRun(run.runId);
    await t.logParam(run.runId, 'a', '1');
    await t.close();
  });

  test('run ids resolve from an unambiguous prefix', async () => {
    const { t } = await open();
    const run = await t.createRun();
    assert.equal(t.resolveRunId(run.runId.slice(0, 8)), run.runId);
    assert.throws(() => t.resolveRunId('abc'), NotFoundError);
    await t.close();
  });

  test('notes and tags: last write wins; deleting a missing tag is an error', async () => {
    const { t } = await open();
    const run = await t.createRun();
    await t.setTag(run.runId, 'team', 'a');
    await t.setTag(run.runId, 'team', 'b');
    await t.setNote(run.runId, 'tried a bigger batch');
    const tags = t.getRun(run.runId).tags;
    assert.equal(tags.team, 'b');
    assert.equal(tags['mlflow.note.content'], 'tried a bigger batch');
    await t.deleteTag(run.runId, 'team');
    assert.equal(t.getRun(run.runId).tags.team, undefined);
    await assert.rejects(t.deleteTag(run.runId, 'team'), NotFoundError);
    await t.close();
  });
});

describe('params', () => {
  test('immutable: the same value is fine, a different value names the param and both values', async () => {
    const { t } = await open();
    const run = await t.createRun();
    await t.logParam(run.runId, 'lr', '0.01');
    await t.logParam(run.runId, 'lr', '0.01');
    await assert.rejects(t.logParam(run.runId, 'lr', '0.02'), (e: Error) => {
      assert.ok(e instanceof ValidationError);
      assert.match(e.message, /Param 'lr'/);
      assert.match(e.message, /'0\.01'/);
      assert.match(e.message, /'0\.02'/);
      return true;
    });
    await assert.rejects(
      t.logBatch(run.runId, {
        params: [
          { key: 'x', value: '1' },
          { key: 'x', value: '2' },
        ],
      }),
      /twice with different values/,
    );
    assert.deepEqual(t.getRun(run.runId).params, { lr: '0.01' });
    await t.close();
  });

  test('a rejected batch writes nothing at all', async () => {
    const { t } = await open();
    const run = await t.createRun();
    await t.logParam(run.runId, 'lr', '1');
    await assert.rejects(
      t.logBatch(run.runId, {
        params: { lr: '2' },
        metrics: [{ key: 'm', value: 1 }],
        tags: { t: 'x' },
      }),
      ValidationError,
    );
    const r = t.getRun(run.runId);
    assert.equal(r.metrics.m, undefined);
    assert.equal(r.tags.t, undefined);
    await t.close();
  });
});

describe('keys and limits', () => {
  test('keys: 250 characters of letters, digits, _ - . space /', async () => {
    const { t } = await open();
    const run = await t.createRun();
    await t.logBatch(run.runId, { metrics: [{ key: 'val/loss v2_a-b.c', value: 1 }] });
    await t.logParam(run.runId, 'k'.repeat(250), 'v');
    await assert.rejects(
      t.logParam(run.runId, 'k'.repeat(251), 'v'),
      /251 characters; the limit is 250/,
    );
    await assert.rejects(t.logParam(run.runId, 'a:b', 'v'), /contains ":"/);
    await assert.rejects(t.logParam(run.runId, '../x', 'v'), /relative path/);
    await assert.rejects(t.logParam(run.runId, '', 'v'), /non-empty/);
    await assert.rejects(t.logParam(run.runId, 'big', 'x'.repeat(6001)), /limit is 6000/);
    await t.close();
  });

  test("batch limits are MLflow's: 1000 metrics, 100 params, 100 tags", async () => {
    const { t } = await open();
    const run = await t.createRun();
    const metrics = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ key: 'm', value: i, step: i }));
    const pairs = (n: number) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
    await t.logBatch(run.runId, { metrics: metrics(1000), params: pairs(100), tags: pairs(100) });
    await assert.rejects(
      t.logBatch(run.runId, { metrics: metrics(1001) }),
      /1001 metrics \(limit 1000\)/,
    );
    await assert.rejects(t.logBatch(run.runId, { params: pairs(101) }), /101 params \(limit 100\)/);
    await assert.rejects(t.logBatch(run.runId, { tags: pairs(101) }), /101 tags \(limit 100\)/);
    await t.logMetrics(run.runId, metrics(2500));
    assert.equal(t.getRun(run.runId).metrics.m?.count, 3500);
    await t.close();
  });
});

describe('metrics', () => {
  test('history keeps every point in step order; NaN and +-Infinity round-trip', async () => {
    const { t, root } = await open();
    const run = await t.createRun();
    await t.logBatch(run.runId, {
      metrics: [
        { key: 'x', value: NaN, step: 2, timestamp: 3 },
        { key: 'x', value: Infinity, step: 0, timestamp: 1 },
        { key: 'x', value: -Infinity, step: 1, timestamp: 2 },
        { key: 'x', value: 0.5, step: 1, timestamp: 2 },
      ],
    });
    await t.close();
    const t2 = await Tracking.open({ dir: path.join(root, '.mlops'), watch: false });
    const history = t2.metricHistory(run.runId, 'x');
    assert.deepEqual(
      history.map((p) => [p.step, p.value]),
      [
        [0, Infinity],
        [1, -Infinity],
        [1, 0.5],
        [2, NaN],
      ],
    );
    const latest = t2.getRun(run.runId).metrics.x!;
    assert.ok(Number.isNaN(latest.value));
    assert.equal(latest.step, 2);
    assert.equal(latest.min, -Infinity);
    assert.equal(latest.max, Infinity);
    assert.equal(latest.count, 4);
    await t2.close();
  });

  test('latest is by step, then timestamp, then value, across batches', async () => {
    const { t } = await open();
    const run = await t.createRun();
    await t.logBatch(run.runId, {
      metrics: [{ key: 'acc', value: 0.5, step: 10, timestamp: 100 }],
    });
    await t.logBatch(run.runId, { metrics: [{ key: 'acc', value: 0.9, step: 5, timestamp: 200 }] });
    assert.equal(
      t.getRun(run.runId).metrics.acc?.value,
      0.5,
      'an older step does not replace the latest',
    );
    await t.logBatch(run.runId, {
      metrics: [{ key: 'acc', value: 0.7, step: 10, timestamp: 150 }],
    });
    const m = t.getRun(run.runId).metrics.acc!;
    assert.deepEqual([m.value, m.min, m.max, m.count], [0.7, 0.5, 0.9, 3]);
    await t.close();
  });

  test('bad values are refused with the key named', async () => {
    const { t } = await open();
    const run = await t.createRun();
    assert.throws(
      () => t.logMetric(run.runId, 'loss', '1' as never),
      /metric 'loss' must be a number/,
    );
    assert.throws(() => t.logMetric(run.runId, 'loss', 1, { step: 1.5 }), /step of metric 'loss'/);
    assert.throws(() => t.logMetric('nope', 'loss', 1), NotFoundError);
    await t.close();
  });

  test('single logMetric calls are buffered and durable within a second, and on close', async () => {
    const { t, root } = await open();
    const run = await t.createRun();
    for (let i = 0; i < 10; i++) t.logMetric(run.runId, 'loss', 1 / (i + 1), { step: i });
    const reader = await Tracking.open({ dir: path.join(root, '.mlops'), watch: false });
    assert.equal(reader.getRun(run.runId).metrics.loss, undefined, 'not yet on disk');
    await new Promise((r) => setTimeout(r, 1300));
    reader.store.refresh();
    assert.equal(reader.getRun(run.runId).metrics.loss?.count, 10, 'on disk within a second');
    t.logMetric(run.runId, 'loss', 0.01, { step: 10 });
    await t.close();
    reader.store.refresh();
    assert.equal(reader.getRun(run.runId).metrics.loss?.count, 11, 'close flushes');
    await reader.close();
  });

  test('history pages', async () => {
    const { t } = await open();
    const run = await t.createRun();
    await t.logMetrics(
      run.runId,
      Array.from({ length: 30 }, (_, i) => ({ key: 'm', value: i, step: i })),
    );
    const first = t.getMetricHistory(run.runId, 'm', { maxResults: 20 });
    assert.equal(first.items.length, 20);
    assert.ok(first.nextPageToken);
    const second = t.getMetricHistory(run.runId, 'm', {
      maxResults: 20,
      pageToken: first.nextPageToken,
    });
    assert.deepEqual(
      second.items.map((p) => p.value),
      [20, 21, 22, 23, 24, 25, 26, 27, 28, 29],
    );
    assert.equal(second.nextPageToken, undefined);
    assert.throws(() => t.getMetricHistory(run.runId, 'm', { pageToken: 'garbage' }), /page token/);
    await t.close();
  });
});

describe('code version', () => {
  test('git commit, branch and dirty flag are captured at run start', async () => {
    const repo = tempDir();
    dirs.push(repo);
    const git = (...args: string[]) =>
      execFileSync('git', args, { cwd: repo, stdio: 'pipe' }).toString().trim();
    git('init', '-q', '-b', 'main');
    git('config', 'user.email', 'a@b.c');
    git('config', 'user.name', 'a');
    fs.writeFileSync(path.join(repo, 'train.py'), 'print(1)\n');
    git('add', '.');
    git('commit', '-q', '-m', 'init');
    const commit = git('rev-parse', 'HEAD');
    const { t } = await open(repo);
    const clean = await t.createRun({ sourceName: 'train.py' });
    let tags = t.getRun(clean.runId).tags;
    assert.equal(tags['mlflow.source.git.commit'], commit);
    assert.equal(tags['mlflow.source.git.branch'], 'main');
    assert.equal(tags['mlops.source.git.dirty'], 'false');
    assert.equal(tags['mlflow.source.name'], 'train.py');
    fs.appendFileSync(path.join(repo, 'train.py'), 'print(2)\n');
    const dirty = await t.createRun();
    tags = t.getRun(dirty.runId).tags;
    assert.equal(tags['mlops.source.git.dirty'], 'true');
    const none = await t.createRun({ captureGit: false });
    assert.equal(t.getRun(none.runId).tags['mlflow.source.git.commit'], undefined);
    await t.close();
  });

  test('outside a git repository nothing is captured', async () => {
    const { t } = await open();
    const run = await t.createRun();
    assert.equal(t.getRun(run.runId).tags['mlflow.source.git.commit'], undefined);
    await t.close();
  });
});

describe('datasets', () => {
  test('a CSV records sha256, size and rows (quoted newlines are one row)', async () => {
    const { t, root } = await open();
    const run = await t.createRun();
    const csv = path.join(root, 'train.csv');
    fs.writeFileSync(csv, 'a,b\n1,"multi\nline"\n2,x\n');
    await t.logDataset(run.runId, csv, { context: 'train' });
    const [d] = t.getRun(run.runId).datasets;
    assert.equal(d?.name, 'train.csv');
    assert.equal(d?.rowCount, 2);
    assert.equal(d?.sizeBytes, fs.statSync(csv).size);
    assert.equal(d?.digest, createHash('sha256').update(fs.readFileSync(csv)).digest('hex'));
    assert.equal(d?.context, 'train');
    await t.close();
  });

  test('JSONL rows, folders, a bad CSV with its line, a missing path', async () => {
    const { t, root } = await open();
    const run = await t.createRun();
    const jsonl = path.join(root, 'cases.jsonl');
    fs.writeFileSync(jsonl, '{"a":1}\n\n{"a":2}\n{"a":3}');
    await t.logDataset(run.runId, jsonl);
    const folder = path.join(root, 'images');
    fs.mkdirSync(path.join(folder, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(folder, 'a.bin'), 'aa');
    fs.writeFileSync(path.join(folder, 'sub', 'b.bin'), 'bbb');
    await t.logDataset(run.runId, folder, { name: 'imgs' });
    const [j, f] = t.getRun(run.runId).datasets;
    assert.equal(j?.rowCount, 3);
    assert.deepEqual(
      [f?.name, f?.sizeBytes, f?.rowCount, f?.sourceType],
      ['imgs', 5, null, 'directory'],
    );
    const digestBefore = f!.digest;
    fs.writeFileSync(path.join(folder, 'sub', 'b.bin'), 'bbc');
    await t.logDataset(run.runId, folder, { name: 'imgs' });
    assert.notEqual(
      t.getRun(run.runId).datasets[2]?.digest,
      digestBefore,
      'content change changes the digest',
    );
    const bad = path.join(root, 'bad.csv');
    fs.writeFileSync(bad, 'a,b\n1,"unclosed\n2,3\n');
    await assert.rejects(t.logDataset(run.runId, bad), /bad\.csv.*not a readable CSV/);
    await assert.rejects(t.logDataset(run.runId, path.join(root, 'missing.csv')), /does not exist/);
    await t.close();
  });
});

describe('artifacts', () => {
  test('files and folders are copied under artifacts/<run>/ and listed', async () => {
    const { t, root } = await open();
    const run = await t.createRun();
    const file = path.join(root, 'model.pkl');
    fs.writeFileSync(file, 'weights');
    const folder = path.join(root, 'model');
    fs.mkdirSync(path.join(folder, 'data'), { recursive: true });
    fs.writeFileSync(path.join(folder, 'MLmodel'), 'flavors: {}');
    fs.writeFileSync(path.join(folder, 'data', 'w.bin'), '123');
    assert.deepEqual(t.logArtifact(run.runId, file), ['model.pkl']);
    assert.deepEqual(t.logArtifact(run.runId, folder, 'model').sort(), [
      'model/MLmodel',
      'model/data/w.bin',
    ]);
    assert.equal(
      fs.readFileSync(path.join(root, '.mlops', 'artifacts', run.runId, 'model.pkl'), 'utf8'),
      'weights',
    );
    assert.deepEqual(
      t.listArtifacts(run.runId).map((a) => [a.path, a.isDir]),
      [
        ['model', true],
        ['model.pkl', false],
      ],
    );
    assert.deepEqual(
      t.listArtifacts(run.runId, 'model').map((a) => a.path),
      ['model/MLmodel', 'model/data'],
    );
    await t.close();
  });

  test('paths that escape the run folder are refused: .., absolute, symlink', async () => {
    const { t, root } = await open();
    const run = await t.createRun();
    const file = path.join(root, 'x.txt');
    fs.writeFileSync(file, 'x');
    assert.throws(() => t.logArtifact(run.runId, file, '../other'), /contains '\.\.'/);
    assert.throws(() => t.logArtifact(run.runId, file, '/etc'), /absolute/);
    assert.throws(() => t.artifactPath(run.runId, 'a/../../b'), /contains '\.\.'/);
    const artifacts = t.artifactRoot(run.runId);
    fs.mkdirSync(artifacts, { recursive: true });
    const outside = tempDir();
    dirs.push(outside);
    fs.symlinkSync(outside, path.join(artifacts, 'link'));
    assert.throws(() => t.logArtifact(run.runId, file, 'link'), /symbolic link/);
    assert.throws(() => t.listArtifacts(run.runId, 'link'), /symbolic link/);
    assert.deepEqual(fs.readdirSync(outside), [], 'nothing was written outside');
    await t.close();
  });
});

describe('checkpoints', () => {
  test('logged with metrics at their step and ranked by any metric', async () => {
    const { t, root } = await open();
    const run = await t.createRun();
    const losses = [0.9, 0.4, 0.6];
    for (let step = 0; step < 3; step++) {
      await t.logBatch(run.runId, {
        metrics: [
          { key: 'val_loss', value: losses[step]!, step },
          { key: 'acc', value: step / 10, step },
        ],
      });
      const ckpt = path.join(root, `ckpt-${step}.pt`);
      fs.writeFileSync(ckpt, String(step));
      await t.logCheckpoint(run.runId, { step, artifactPath: 'checkpoints', localPath: ckpt });
    }
    await t.logCheckpoint(run.runId, {
      step: 3,
      artifactPath: 'checkpoints/manual.pt',
      metrics: { other: 1 },
    });
    const byLoss = t.listCheckpoints(run.runId, { metric: 'val_loss', order: 'min' });
    assert.deepEqual(
      byLoss.map((c) => c.step),
      [1, 2, 0, 3],
      'missing metric ranks last',
    );
    assert.equal(byLoss[0]?.artifactPath, 'checkpoints/ckpt-1.pt');
    assert.deepEqual(byLoss[0]?.metrics, { val_loss: 0.4, acc: 0.1 });
    assert.deepEqual(
      t.listCheckpoints(run.runId, { metric: 'acc' }).map((c) => c.step),
      [2, 1, 0, 3],
    );
    assert.ok(fs.existsSync(t.artifactPath(run.runId, 'checkpoints/ckpt-2.pt')));
    await t.close();
  });
});
