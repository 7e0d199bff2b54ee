import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { importCommand } from '../../src/cli/commands/importCommand.ts';
import { CommandContext } from '../../src/cli/context.ts';
import {
  IMPORT_COUNT_KEYS,
  ImportCancelledError,
  importMlflow,
  SOURCE_RUN_ID_TAG,
  SOURCE_VERSION_TAG,
} from '../../src/core/import/mlflowImport.ts';
import type { ImportReport } from '../../src/core/import/mlflowImport.ts';
import { MlflowSourceError } from '../../src/core/import/source.ts';
import { silentLogger } from '../../src/core/log.ts';
import { AlreadyExistsError, ValidationError } from '../../src/core/model/errors.ts';
import { loadSqlJs } from '../../src/core/store/sqlite.ts';
import { Tracking } from '../../src/core/tracking/tracking.ts';
import { REPO, removeDir, tempDir } from './helpers.ts';

// The fixtures are written by scripts/mlflow-fixtures.py (the same content twice:
// an mlruns/ folder and an mlflow.db); these ids and values come from there.
const FIXTURES = path.join(REPO, 'test', 'fixtures', 'mlflow-import');
const RUN_A = '5f1c0b7e9a2d4c6b8e3f1a0d2c4b6e8f'; // baseline, FINISHED, artifacts
const RUN_B = 'a3d9e1f07b2c4d5e8f6a9b0c1d2e3f4a'; // child of A, FAILED, an Inf point
const RUN_C = 'c7e2a9b4d1f04e3a8b5c6d7e8f9a0b1c'; // deleted, in the deleted experiment
const CHURN_EXP = '146210397284561735';
const T0 = 1_700_000_000_000;
const MODEL = 'churn-classifier';

/** What the first import of either fixture creates. */
const CREATED = {
  experiments: 3, // Default, churn-model, old-sweep (deleted)
  runs: 3,
  params: 7,
  metricPoints: 12,
  // Runs A 6, B 4, C 2; experiment churn-model 2; the model 1; its version 1 1.
  tags: 16,
  artifactFiles: 2,
  models: 1,
  versions: 2,
  aliases: 1,
};

const dirs: string[] = [];
after(() => dirs.forEach(removeDir));

function temp(): string {
  const d = tempDir('mlops-import-');
  dirs.push(d);
  return d;
}

async function openStore(): Promise<Tracking> {
  return Tracking.open({
    dir: path.join(temp(), '.mlops'),
    watch: false,
    clock: () => T0 + 100_000,
    user: 'importer',
  });
}

/** A writable copy of the fixture folder (malformed-input tests change it). */
function copyFixtures(): string {
  const dest = path.join(temp(), 'mlflow-import');
  fs.cpSync(FIXTURES, dest, { recursive: true });
  return dest;
}

function created(report: ImportReport): Record<string, number> {
  return Object.fromEntries(IMPORT_COUNT_KEYS.map((k) => [k, report.counts[k].created]));
}

function present(report: ImportReport): Record<string, number> {
  return Object.fromEntries(IMPORT_COUNT_KEYS.map((k) => [k, report.counts[k].present]));
}

/** Everything both fixtures hold, as it must look in the store. */
function assertImported(t: Tracking): void {
  const churn = t.getExperimentByName('churn-model')!;
  assert.equal(churn.lifecycleStage, 'active');
  assert.equal(churn.tags.team, 'ml');
  assert.equal(churn.tags['mlflow.note.content'], 'Churn prediction experiments');
  const old = t.getExperimentByName('old-sweep')!;
  assert.equal(old.lifecycleStage, 'deleted');

  const a = t.getRun(RUN_A);
  assert.equal(a.info.experimentId, churn.experimentId);
  assert.equal(a.info.runName, 'baseline');
  assert.equal(a.info.status, 'FINISHED');
  assert.equal(a.info.startTime, T0);
  assert.equal(a.info.endTime, T0 + 4000);
  assert.equal(a.info.userId, 'ada');
  assert.equal(a.info.lifecycleStage, 'active');
  assert.deepEqual(a.params, {
    learning_rate: '0.01',
    epochs: '3',
    'optimizer/name': 'adam',
    'optimizer/momentum': '0.9',
  });
  assert.equal(a.tags.team, 'ml');
  assert.equal(a.tags['mlflow.source.name'], 'train.py');
  assert.equal(a.tags['mlflow.note.content'], 'First baseline');
  assert.equal(a.tags[SOURCE_RUN_ID_TAG], RUN_A);
  const history = (runId: string, key: string): [number, number, number][] =>
    t.metricHistory(runId, key).map((p) => [p.step, p.timestamp, p.value]);
  assert.deepEqual(history(RUN_A, 'loss'), [
    [0, T0 + 1000, 0.9],
    [1, T0 + 2000, 0.6],
    [2, T0 + 3000, 0.4],
  ]);
  assert.deepEqual(history(RUN_A, 'accuracy'), [
    [0, T0 + 1000, 0.5],
    [1, T0 + 2000, NaN],
    [2, T0 + 3000, 0.8],
  ]);
  assert.deepEqual(history(RUN_A, 'val/loss'), [
    [0, T0 + 1500, 0.7],
    [2, T0 + 3500, 0.5],
  ]);
  const pkl = fs.readFileSync(t.artifactPath(RUN_A, 'model/model.pkl'));
  assert.deepEqual([...pkl], [0x80, 0x04, 0x95, 0x00, 0xff, 0xfe, 0x2e]);
  assert.match(fs.readFileSync(t.artifactPath(RUN_A, 'model/MLmodel'), 'utf8'), /pickled_model/);

  const b = t.getRun(RUN_B);
  assert.equal(b.info.status, 'FAILED');
  assert.equal(b.info.parentRunId, RUN_A);
  assert.equal(b.tags['mlflow.parentRunId'], RUN_A);
  assert.equal(b.info.endTime, T0 + 7000);
  assert.deepEqual(history(RUN_B, 'loss'), [
    [0, T0 + 5500, 1.2],
    [1, T0 + 6500, Infinity],
  ]);

  const c = t.getRun(RUN_C);
  assert.equal(c.info.lifecycleStage, 'deleted');
  assert.equal(c.info.status, 'KILLED');
  assert.equal(c.info.experimentId, old.experimentId);
  assert.equal(c.info.userId, 'bob');

  const model = t.registry.get('model', MODEL);
  assert.equal(model.description, 'Predicts churn from account activity');
  assert.equal(model.tags.owner, 'ml-team');
  assert.deepEqual(model.aliases, { champion: 1 });
  const [v1, v2] = t.registry.modelVersions(MODEL).sort((x, y) => x.version - y.version);
  assert.equal(v1!.version, 1);
  assert.equal(v1!.runId, RUN_A);
  assert.equal(v1!.description, 'baseline model');
  assert.match(v1!.source, /\/artifacts\/model$/);
  assert.equal(v1!.tags.validation, 'passed');
  assert.equal(v1!.tags[SOURCE_VERSION_TAG], '1');
  assert.equal(v2!.runId, RUN_B);
  assert.equal(v2!.source, `runs:/${RUN_B}/model`);
  assert.equal(t.registry.modelVersion(MODEL, '@champion').runId, RUN_A);
}

describe('importing an mlruns folder', () => {
  test('experiments, runs, params, tags, metric history, artifacts, models and aliases land', async () => {
    const t = await openStore();
    const progress: string[] = [];
    const report = await importMlflow(t, path.join(FIXTURES, 'mlruns'), {
      onProgress: (done, total, what) => progress.push(`${done}/${total} ${what}`),
    });
    assert.equal(report.format, 'mlruns');
    assert.deepEqual(created(report), CREATED);
    assert.deepEqual(report.skipped, []);
    assert.deepEqual(report.notes, []);
    assert.deepEqual(report.runIds, { [RUN_A]: RUN_A, [RUN_B]: RUN_B, [RUN_C]: RUN_C });
    assert.deepEqual(progress, [
      `1/4 run ${RUN_A.slice(0, 8)}`,
      `2/4 run ${RUN_B.slice(0, 8)}`,
      `3/4 run ${RUN_C.slice(0, 8)}`,
      `4/4 model ${MODEL}`,
    ]);
    assertImported(t);
    await t.close();
  });

  test('importing again duplicates nothing and reports everything as already present', async () => {
    const t = await openStore();
    await importMlflow(t, path.join(FIXTURES, 'mlruns'));
    const again = await importMlflow(t, path.join(FIXTURES, 'mlruns'));
    assert.deepEqual(created(again), Object.fromEntries(IMPORT_COUNT_KEYS.map((k) => [k, 0])));
    assert.deepEqual(present(again), CREATED);
    assert.deepEqual(again.skipped, []);
    assert.equal(t.listExperiments('ALL').length, 3);
    assert.equal(t.searchRuns({ viewType: 'ALL' }).items.length, 3);
    assert.equal(t.metricHistory(RUN_A, 'loss').length, 3);
    assert.equal(t.registry.modelVersions(MODEL).length, 2);
    assert.equal(t.registry.aliasHistory('model', MODEL).length, 1);
    assertImported(t);
    await t.close();
  });

  test('a second import adds only what MLflow logged since (new points, a new param)', async () => {
    const fx = copyFixtures();
    const t = await openStore();
    await importMlflow(t, path.join(fx, 'mlruns'));
    const runDir = path.join(fx, 'mlruns', CHURN_EXP, RUN_A);
    fs.appendFileSync(path.join(runDir, 'metrics', 'loss'), `${T0 + 9000} 0.3 3\n`);
    fs.writeFileSync(path.join(runDir, 'params', 'seed'), '42');
    // A param MLflow could not have changed: the store's value is kept and reported.
    fs.writeFileSync(path.join(runDir, 'params', 'epochs'), '4');
    const again = await importMlflow(t, path.join(fx, 'mlruns'));
    assert.equal(again.counts.metricPoints.created, 1);
    assert.equal(again.counts.metricPoints.present, 12);
    assert.equal(again.counts.params.created, 1);
    assert.deepEqual(
      t.metricHistory(RUN_A, 'loss').map((p) => p.step),
      [0, 1, 2, 3],
    );
    assert.equal(t.getRun(RUN_A).params.seed, '42');
    assert.equal(t.getRun(RUN_A).params.epochs, '3');
    assert.deepEqual(
      again.skipped.map((s) => s.item),
      [`param 'epochs' of run ${RUN_A.slice(0, 8)}`],
    );
    await t.close();
  });

  test('new runs of an experiment deleted in the store go into it, and it stays deleted', async () => {
    const fx = copyFixtures();
    const t = await openStore();
    await importMlflow(t, path.join(fx, 'mlruns'));
    const churn = t.getExperimentByName('churn-model')!;
    await t.deleteExperiment(churn.experimentId);
    // MLflow logged another run there since.
    const newId = 'e'.repeat(32);
    const from = path.join(fx, 'mlruns', CHURN_EXP, RUN_B);
    const to = path.join(fx, 'mlruns', CHURN_EXP, newId);
    fs.cpSync(from, to, { recursive: true });
    const meta = path.join(to, 'meta.yaml');
    fs.writeFileSync(meta, fs.readFileSync(meta, 'utf8').replaceAll(RUN_B, newId));
    const again = await importMlflow(t, path.join(fx, 'mlruns'));
    assert.equal(again.counts.runs.created, 1);
    assert.equal(t.getRun(newId).info.experimentId, churn.experimentId);
    assert.equal(t.getRun(newId).info.parentRunId, RUN_A);
    assert.equal(t.getExperiment(churn.experimentId).lifecycleStage, 'deleted');
    await t.close();
  });

  test('a run id taken in the store gets a new id; the model version follows it', async () => {
    const t = await openStore();
    const other = await t.createRun({ runId: RUN_A, runName: 'mine', captureGit: false });
    const report = await importMlflow(t, path.join(FIXTURES, 'mlruns'));
    const newId = report.runIds[RUN_A]!;
    assert.notEqual(newId, RUN_A);
    assert.equal(t.getRun(other.runId).info.runName, 'mine');
    const imported = t.getRun(newId);
    assert.equal(imported.info.runName, 'baseline');
    assert.equal(imported.tags[SOURCE_RUN_ID_TAG], RUN_A);
    assert.equal(t.getRun(RUN_B).info.parentRunId, newId);
    assert.equal(t.registry.modelVersion(MODEL, 1).runId, newId);
    assert.ok(report.notes.some((n) => n.includes(`run ${RUN_A} was imported as ${newId}`)));
    // Keyed by the MLflow id: importing again finds it under its new id.
    const again = await importMlflow(t, path.join(FIXTURES, 'mlruns'));
    assert.equal(again.counts.runs.created, 0);
    assert.equal(again.runIds[RUN_A], newId);
    await t.close();
  });

  test('malformed files are skipped and reported by file and line; the rest is imported', async () => {
    const fx = copyFixtures();
    const mlruns = path.join(fx, 'mlruns');
    const runDir = path.join(mlruns, CHURN_EXP, RUN_A);
    // Line 2 has 1 field, line 3 a value that is no number, line 4 the 2-field form of
    // metric files from before steps existed (MLflow reads it as step 0).
    fs.writeFileSync(
      path.join(runDir, 'metrics', 'f1'),
      `${T0} 0.1 0\n${T0 + 1}\n${T0 + 2} abc 2\n${T0 + 3} 0.4\n`,
    );
    // A run folder without meta.yaml, and one whose meta.yaml has no run_id.
    fs.mkdirSync(path.join(mlruns, CHURN_EXP, 'not-a-run', 'params'), { recursive: true });
    fs.mkdirSync(path.join(mlruns, CHURN_EXP, 'no-id'));
    fs.writeFileSync(
      path.join(mlruns, CHURN_EXP, 'no-id', 'meta.yaml'),
      `experiment_id: '${CHURN_EXP}'\nstatus: 3\n`,
    );
    // An experiment whose meta.yaml is not YAML.
    fs.mkdirSync(path.join(mlruns, '777'));
    fs.writeFileSync(path.join(mlruns, '777', 'meta.yaml'), 'name: broken\n  bad: [\n');

    const t = await openStore();
    const report = await importMlflow(t, mlruns);
    const skipped = new Map(report.skipped.map((s) => [s.item, s.reason]));
    const f1 = `mlruns/${CHURN_EXP}/${RUN_A}/metrics/f1`;
    assert.match(
      skipped.get(`${f1}:2`)!,
      /has 1 field; MLflow writes "<timestamp> <value> <step>"/,
    );
    assert.match(skipped.get(`${f1}:3`)!, /the value "abc" is not a number/);
    assert.equal(skipped.get(`run folder mlruns/${CHURN_EXP}/not-a-run`), 'meta.yaml is missing');
    assert.equal(
      skipped.get(`run folder mlruns/${CHURN_EXP}/no-id`),
      'meta.yaml is missing run_id',
    );
    assert.ok(
      [...skipped].some(
        ([item, reason]) =>
          item.startsWith('mlruns/777/meta.yaml:') && /not valid YAML/.test(reason),
      ),
      JSON.stringify(report.skipped),
    );
    assert.equal(report.skipped.length, 5);
    assert.deepEqual(
      t.metricHistory(RUN_A, 'f1').map((p) => [p.step, p.timestamp, p.value]),
      [
        [0, T0, 0.1],
        [0, T0 + 3, 0.4],
      ],
    );
    assert.equal(report.counts.runs.created, 3);
    assertImported(t);
    await t.close();
  });
});

describe('importing an mlflow.db', () => {
  test('the same content lands; artifacts that are not local are reported', async () => {
    const t = await openStore();
    const report = await importMlflow(t, path.join(FIXTURES, 'mlflow.db'));
    assert.equal(report.format, 'mlflow.db');
    assert.deepEqual(created(report), CREATED);
    assertImported(t);
    // Run A's mlflow-artifacts:/ URI resolves to mlartifacts/ beside the database.
    assert.deepEqual(report.skipped.map((s) => s.item).sort(), [
      `artifacts of run ${RUN_B}`,
      `artifacts of run ${RUN_C}`,
    ]);
    const reasons = report.skipped.map((s) => s.reason).join('\n');
    assert.match(reasons, /s3:\/\/example-bucket\/.* is not on this machine/);
    assert.match(reasons, /the local folder .* does not exist/);
    await t.close();
  });

  test('importing again duplicates nothing', async () => {
    const t = await openStore();
    await importMlflow(t, path.join(FIXTURES, 'mlflow.db'));
    const again = await importMlflow(t, `sqlite:///${path.join(FIXTURES, 'mlflow.db')}`);
    assert.deepEqual(present(again), CREATED);
    assert.equal(
      Object.values(created(again)).reduce((a, b) => a + b),
      0,
    );
    assert.equal(t.searchRuns({ viewType: 'ALL' }).items.length, 3);
    await t.close();
  });

  test('the same runs from mlruns and from mlflow.db are one run each', async () => {
    const t = await openStore();
    await importMlflow(t, path.join(FIXTURES, 'mlruns'));
    const fromDb = await importMlflow(t, path.join(FIXTURES, 'mlflow.db'));
    assert.equal(fromDb.counts.runs.created, 0);
    assert.equal(fromDb.counts.metricPoints.created, 0);
    assert.equal(fromDb.counts.versions.created, 0);
    assert.equal(t.searchRuns({ viewType: 'ALL' }).items.length, 3);
    await t.close();
  });

  test('experiments of other MLflow workspaces are skipped with the reason', async () => {
    const fx = copyFixtures();
    const file = path.join(fx, 'mlflow.db');
    const SQL = await loadSqlJs();
    const db = new SQL.Database(fs.readFileSync(file));
    db.exec(
      "ALTER TABLE experiments ADD COLUMN workspace VARCHAR(63) NOT NULL DEFAULT 'default';" +
        "UPDATE experiments SET workspace = 'team-a' WHERE name = 'old-sweep';",
    );
    fs.writeFileSync(file, db.export());
    db.close();
    const t = await openStore();
    const report = await importMlflow(t, file);
    assert.equal(report.counts.experiments.created, 2);
    assert.equal(report.counts.runs.created, 2);
    assert.match(
      report.skipped.find((s) => s.item.startsWith("experiment 'old-sweep'"))!.reason,
      /workspace 'team-a'/,
    );
    assert.equal(t.getExperimentByName('old-sweep'), undefined);
    await t.close();
  });

  test('a database without a runs table, a file that is no database, a missing path: clear errors', async () => {
    const d = temp();
    const SQL = await loadSqlJs();
    const db = new SQL.Database();
    db.exec('CREATE TABLE experiments (experiment_id INTEGER, name TEXT)');
    const noRuns = path.join(d, 'mlflow.db');
    fs.writeFileSync(noRuns, db.export());
    db.close();
    const t = await openStore();
    await assert.rejects(importMlflow(t, noRuns), (e: Error) => {
      assert.ok(e instanceof MlflowSourceError);
      assert.match(
        e.message,
        /is not an MLflow tracking database: it has no 'runs' table \(tables: experiments\)/,
      );
      assert.ok(e.message.includes(noRuns));
      return true;
    });
    const text = path.join(d, 'notes.txt');
    fs.writeFileSync(text, 'hello');
    await assert.rejects(importMlflow(t, text), /notes\.txt is not an MLflow store/);
    await assert.rejects(importMlflow(t, path.join(d, 'nope')), /nope does not exist/);
    const empty = path.join(d, 'empty');
    fs.mkdirSync(empty);
    await assert.rejects(importMlflow(t, empty), /has no experiment folders with a meta\.yaml/);
    assert.equal(t.listExperiments('ALL').length, 0);
    await t.close();
  });
});

describe('cancelling an import', () => {
  test('the signal stops it between runs; what was imported stays and a re-import finishes it', async () => {
    const t = await openStore();
    const abort = new AbortController();
    await assert.rejects(
      importMlflow(t, path.join(FIXTURES, 'mlruns'), {
        signal: abort.signal,
        onProgress: (done) => {
          if (done === 1) abort.abort();
        },
      }),
      (e: Error) => {
        assert.ok(e instanceof ImportCancelledError);
        assert.equal(e.report.counts.runs.created, 1);
        return true;
      },
    );
    assert.equal(t.searchRuns({ viewType: 'ALL' }).items.length, 1);
    assert.equal(t.registry.list('model').length, 0);
    // The deleted experiment was created for its runs; cancelling still deletes it.
    assert.equal(t.getExperimentByName('old-sweep')!.lifecycleStage, 'deleted');
    const rest = await importMlflow(t, path.join(FIXTURES, 'mlruns'));
    assert.equal(rest.counts.runs.present, 1);
    assert.equal(rest.counts.runs.created, 2);
    assertImported(t);
    await t.close();
  });

  test('an aborted signal writes nothing', async () => {
    const t = await openStore();
    const abort = new AbortController();
    abort.abort();
    await assert.rejects(
      importMlflow(t, path.join(FIXTURES, 'mlflow.db'), { signal: abort.signal }),
      ImportCancelledError,
    );
    assert.equal(t.listExperiments('ALL').length, 0);
    await t.close();
  });
});

describe('mlops import', () => {
  async function runCommand(
    args: string[],
    json: boolean,
  ): Promise<{ code: number; out: string; err: string; store: string }> {
    const store = path.join(temp(), '.mlops');
    let out = '';
    let err = '';
    const ctx = new CommandContext(
      importCommand,
      { store, json },
      args,
      { out: (s) => (out += s), err: (s) => (err += s), env: {}, cwd: FIXTURES },
      silentLogger,
    );
    try {
      const code = await importCommand.run(ctx);
      return { code, out, err, store };
    } finally {
      await ctx.close();
    }
  }

  test('prints the counts and the skipped items (and JSON with --json)', async () => {
    const human = await runCommand(['mlflow.db'], false);
    assert.equal(human.code, 0);
    assert.match(human.out, /Imported the MLflow database .*mlflow\.db/);
    assert.match(human.out, /metric points\s+12\s+0/);
    assert.match(human.out, /Skipped \(2\):\n {2}artifacts of run /);
    assert.match(human.err, /\[import\] 4\/4 model churn-classifier/);

    const json = await runCommand(['mlruns'], true);
    assert.equal(json.code, 0);
    const report = JSON.parse(json.out) as ImportReport;
    assert.equal(report.counts.metricPoints.created, 12);
    assert.equal(report.format, 'mlruns');
  });

  test('exits 2 with one line when the path is not an MLflow store', async () => {
    const r = await runCommand(['does-not-exist'], false);
    assert.equal(r.code, 2);
    assert.match(r.err, /^mlops import: .*does-not-exist does not exist\.\n$/);
    assert.equal(r.out, '');
  });
});

describe('tracking additions the import relies on', () => {
  test('createRun keeps a given 32-hex id, refuses a taken or malformed one', async () => {
    const t = await openStore();
    const run = await t.createRun({ runId: RUN_A, captureGit: false });
    assert.equal(run.runId, RUN_A);
    await assert.rejects(t.createRun({ runId: RUN_A, captureGit: false }), AlreadyExistsError);
    await assert.rejects(t.createRun({ runId: 'abc', captureGit: false }), ValidationError);
    await t.close();
  });

  test("creating 'Default' on a fresh store makes experiment 0", async () => {
    const t = await openStore();
    assert.equal(await t.createExperiment('Default', { tags: { a: 'b' } }), '0');
    assert.equal(t.getExperiment('0').tags.a, 'b');
    assert.equal(t.listExperiments().length, 1);
    await t.close();
  });
});
