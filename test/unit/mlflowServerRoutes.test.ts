import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { runServe, serveCommand } from '../../src/cli/commands/serveCommand.ts';
import { CommandContext } from '../../src/cli/context.ts';
import { silentLogger } from '../../src/core/log.ts';
import { Tracking } from '../../src/core/tracking/tracking.ts';
import { startMlflowServer } from '../../src/server/mlflowServer.ts';
import type { MlflowServer } from '../../src/server/mlflowServer.ts';
import { request } from '../fixtures/mlflow/rawClient.ts';
import type { RawAnswer, RawRequest } from '../fixtures/mlflow/rawClient.ts';
import { removeDir, tempDir } from './helpers.ts';

const dirs: string[] = [];
after(() => dirs.forEach(removeDir));

const API = '/api/2.0/mlflow';
const ARTIFACTS = '/api/2.0/mlflow-artifacts/artifacts';

let now = 1_700_000_000_000;

interface Harness {
  t: Tracking;
  server: MlflowServer;
  storeDir: string;
  /** Calls an API endpoint; fails the test unless the answer is 200. */
  ok(p: string, options?: RawRequest): Promise<RawAnswer['json']>;
  call(p: string, options?: RawRequest): Promise<RawAnswer>;
  stop(): Promise<void>;
}

async function start(): Promise<Harness> {
  const root = tempDir('mlops-mlflow-routes-');
  dirs.push(root);
  const storeDir = path.join(root, '.mlops');
  const t = await Tracking.open({
    dir: storeDir,
    watch: false,
    user: 'ada',
    codeRoot: root,
    clock: () => now++,
  });
  const server = await startMlflowServer({ tracking: t, registry: t.registry, port: 0 });
  const call = (p: string, o?: RawRequest): Promise<RawAnswer> =>
    request(server.url, p.startsWith('/') ? p : `${API}/${p}`, o);
  return {
    t,
    server,
    storeDir,
    call,
    async ok(p, o) {
      const a = await call(p, o);
      assert.equal(a.status, 200, `${p}: ${a.status} ${a.text}`);
      return a.json;
    },
    async stop() {
      await server.close();
      await t.close();
    },
  };
}

/** Follows next_page_token until the last page; returns the pages' items. */
async function allPages(
  h: Harness,
  p: string,
  field: string,
  args: Record<string, unknown>,
  method: 'GET' | 'POST',
): Promise<unknown[][]> {
  const pages: unknown[][] = [];
  let token: string | undefined;
  do {
    const withToken = token ? { ...args, page_token: token } : args;
    const json =
      method === 'GET'
        ? await h.ok(p, { query: withToken as Record<string, string> })
        : await h.ok(p, { json: withToken });
    pages.push(json[field] ?? []);
    token = json.next_page_token;
  } while (token && pages.length < 100);
  return pages;
}

// ------------------------------------------------------------------ experiments

describe('experiments', () => {
  test('create, get, get-by-name, update, set/delete tag, delete and restore', async () => {
    const h = await start();
    try {
      const zero = await h.ok('experiments/get', { query: { experiment_id: '0' } });
      assert.equal(
        zero.experiment.name,
        'Default',
        'experiment 0 exists for clients from the start',
      );
      const { experiment_id: id } = await h.ok('experiments/create', {
        json: {
          name: 'cats',
          tags: [{ key: 'team', value: 'vision' }],
          artifact_location: 'ignored',
        },
      });
      assert.equal(id, '1');
      const { experiment } = await h.ok('experiments/get', { query: { experiment_id: id } });
      assert.deepEqual(
        { ...experiment, creation_time: 0, last_update_time: 0 },
        {
          experiment_id: '1',
          name: 'cats',
          artifact_location: 'mlflow-artifacts:/1',
          lifecycle_stage: 'active',
          creation_time: 0,
          last_update_time: 0,
          tags: [{ key: 'team', value: 'vision' }],
        },
      );
      assert.equal(typeof experiment.creation_time, 'number');
      const byName = await h.ok('experiments/get-by-name', { query: { experiment_name: 'cats' } });
      assert.equal(byName.experiment.experiment_id, id);

      assert.deepEqual(
        await h.ok('experiments/update', { json: { experiment_id: id, new_name: 'felines' } }),
        {},
      );
      assert.equal(h.t.getExperiment(id).name, 'felines');
      await h.ok('experiments/set-experiment-tag', {
        json: { experiment_id: id, key: 'k', value: 'v' },
      });
      assert.equal(h.t.getExperiment(id).tags.k, 'v');
      await h.ok('experiments/delete-experiment-tag', { json: { experiment_id: id, key: 'k' } });
      assert.equal(h.t.getExperiment(id).tags.k, undefined);

      await h.ok('experiments/delete', { json: { experiment_id: id } });
      const deleted = await h.ok('experiments/get', { query: { experiment_id: id } });
      assert.equal(deleted.experiment.lifecycle_stage, 'deleted');
      const active = await h.ok('experiments/search', { json: {} });
      assert.deepEqual(
        active.experiments.map((e: { name: string }) => e.name),
        ['Default'],
      );
      await h.ok('experiments/restore', { json: { experiment_id: id } });
      assert.equal(h.t.getExperiment(id).lifecycleStage, 'active');
      const zeroDelete = await h.call('experiments/delete', { json: { experiment_id: '0' } });
      assert.equal(zeroDelete.json.error_code, 'INVALID_PARAMETER_VALUE');
    } finally {
      await h.stop();
    }
  });

  test('search: filter on name and tags, view_type, order_by, max_results and page_token (GET and POST)', async () => {
    const h = await start();
    try {
      for (const name of ['alpha-1', 'alpha-2', 'beta', 'Alpha-3', 'alpha-4']) {
        await h.t.createExperiment(name, { tags: name === 'beta' ? { team: 'nlp' } : {} });
      }
      await h.t.deleteExperiment(h.t.getExperimentByName('alpha-4')!.experimentId);
      const names = (json: { experiments?: { name: string }[] }): string[] =>
        (json.experiments ?? []).map((e) => e.name);

      const like = await h.ok('experiments/search', {
        json: { filter: "name LIKE 'alpha%'", order_by: ['name ASC'] },
      });
      assert.deepEqual(names(like), ['alpha-1', 'alpha-2']);
      const ilike = await h.ok('experiments/search', {
        query: { filter: "name ILIKE 'alpha%'", order_by: 'name DESC', view_type: 'ALL' },
      });
      assert.deepEqual(names(ilike), ['alpha-4', 'alpha-2', 'alpha-1', 'Alpha-3']);
      const byTag = await h.ok('experiments/search', { query: { filter: "tags.team = 'nlp'" } });
      assert.deepEqual(names(byTag), ['beta']);
      const deletedOnly = await h.ok('experiments/search', { json: { view_type: 'DELETED_ONLY' } });
      assert.deepEqual(names(deletedOnly), ['alpha-4']);
      // Newest first; Default was written with alpha-1, so the id breaks the tie.
      const newestFirst = await h.ok('experiments/search', { json: {} });
      assert.deepEqual(names(newestFirst), ['Alpha-3', 'beta', 'alpha-2', 'Default', 'alpha-1']);

      for (const method of ['GET', 'POST'] as const) {
        const pages = await allPages(
          h,
          'experiments/search',
          'experiments',
          { max_results: 2, order_by: 'name', view_type: 'ALL' },
          method,
        );
        assert.deepEqual(
          pages.map((p) => (p as { name: string }[]).map((e) => e.name)),
          [
            ['Alpha-3', 'Default'],
            ['alpha-1', 'alpha-2'],
            ['alpha-4', 'beta'],
          ],
          method,
        );
      }
      const bad = await h.call('experiments/search', { json: { filter: "owner = 'me'" } });
      assert.equal(bad.status, 400);
      assert.match(bad.json.message, /unknown field 'owner'/);
      const badToken = await h.call('experiments/search', { json: { page_token: 'garbage' } });
      assert.equal(badToken.json.error_code, 'INVALID_PARAMETER_VALUE');
    } finally {
      await h.stop();
    }
  });
});

// ------------------------------------------------------------------ runs

describe('runs', () => {
  test('create and get: MLflow shapes, tags, user, start time, parent run', async () => {
    const h = await start();
    try {
      const exp = await h.t.createExperiment('e');
      const { run } = await h.ok('runs/create', {
        json: {
          experiment_id: exp,
          user_id: 'grace',
          run_name: 'first',
          start_time: '1700000000123',
          tags: [{ key: 'mlflow.source.name', value: 'train.py' }],
        },
      });
      const id = run.info.run_id;
      assert.match(id, /^[0-9a-f]{32}$/);
      assert.deepEqual(run.info, {
        run_id: id,
        run_uuid: id,
        run_name: 'first',
        experiment_id: exp,
        user_id: 'grace',
        status: 'RUNNING',
        start_time: 1700000000123,
        artifact_uri: `mlflow-artifacts:/${exp}/${id}/artifacts`,
        lifecycle_stage: 'active',
      });
      assert.deepEqual(run.data.metrics, []);
      assert.deepEqual(run.data.params, []);
      assert.deepEqual(run.inputs, { dataset_inputs: [] });
      const tags = Object.fromEntries(
        run.data.tags.map((t: { key: string; value: string }) => [t.key, t.value]),
      );
      assert.equal(tags['mlflow.source.name'], 'train.py');
      assert.equal(tags['mlflow.runName'], 'first');
      assert.equal(
        tags['mlflow.source.git.commit'],
        undefined,
        "the server's folder is not the client's code",
      );

      const child = await h.ok('runs/create', {
        json: { experiment_id: exp, tags: [{ key: 'mlflow.parentRunId', value: id }] },
      });
      assert.equal(h.t.getRunInfo(child.run.info.run_id).parentRunId, id);
      assert.ok(child.run.info.run_name.length > 0, 'a generated name');
      const inDefault = await h.ok('runs/create', { json: {} });
      assert.equal(inDefault.run.info.experiment_id, '0');

      const got = await h.ok('runs/get', { query: { run_uuid: id } });
      assert.equal(got.run.info.run_id, id);
      const ajax = await h.call(`/ajax-api/2.0/mlflow/runs/get`, { query: { run_id: id } });
      assert.equal(ajax.status, 200);
    } finally {
      await h.stop();
    }
  });

  test('log-parameter, log-metric, set-tag, delete-tag, log-batch, update, delete and restore', async () => {
    const h = await start();
    try {
      const exp = await h.t.createExperiment('e');
      const id = (await h.t.createRun({ experimentId: exp, captureGit: false })).runId;
      const r = { run_id: id, run_uuid: id };
      assert.deepEqual(
        await h.ok('runs/log-parameter', { json: { ...r, key: 'lr', value: '0.1' } }),
        {},
      );
      assert.deepEqual(
        await h.ok('runs/log-parameter', { json: { ...r, key: 'empty', value: '' } }),
        {},
      );
      assert.deepEqual(
        await h.ok('runs/log-metric', {
          json: { ...r, key: 'acc', value: 0.5, timestamp: 10, step: 1 },
        }),
        {},
      );
      await h.ok('runs/log-metric', { json: { ...r, key: 'acc', value: 0.7, timestamp: 20 } });
      await h.ok('runs/set-tag', { json: { ...r, key: 'team', value: 'nlp' } });
      await h.ok('runs/set-tag', { json: { ...r, key: 'gone', value: 'soon' } });
      await h.ok('runs/delete-tag', { json: { run_id: id, key: 'gone' } });
      await h.ok('runs/log-batch', {
        json: {
          run_id: id,
          metrics: [{ key: 'loss', value: 0.3, timestamp: 30, step: 2 }],
          params: [{ key: 'epochs', value: '5' }],
          tags: [{ key: 'mlflow.runName', value: 'renamed-by-tag' }],
        },
      });
      const run = h.t.getRun(id);
      assert.deepEqual(run.params, { lr: '0.1', empty: '', epochs: '5' });
      assert.deepEqual(
        h.t.metricHistory(id, 'acc').map((p) => [p.step, p.timestamp, p.value]),
        [
          [0, 20, 0.7],
          [1, 10, 0.5],
        ],
      );
      assert.equal(run.tags.team, 'nlp');
      assert.equal(run.tags.gone, undefined);
      assert.equal(run.info.runName, 'renamed-by-tag');

      const { run_info } = await h.ok('runs/update', {
        json: { ...r, status: 'FAILED', end_time: '99', run_name: 'final' },
      });
      assert.deepEqual(
        [run_info.status, run_info.end_time, run_info.run_name],
        ['FAILED', 99, 'final'],
      );
      assert.equal(h.t.getRun(id).tags['mlflow.runName'], 'final');
      await h.ok('runs/update', { json: { run_id: id, status: 3 } });
      assert.equal(h.t.getRunInfo(id).status, 'FINISHED');

      const got = await h.ok('runs/get', { query: { run_id: id } });
      const metrics = Object.fromEntries(
        got.run.data.metrics.map((m: { key: string }) => [m.key, m]),
      );
      // MLflow's latest point: the highest step, then the latest timestamp.
      assert.deepEqual(metrics.acc, { key: 'acc', value: 0.5, timestamp: 10, step: 1 });

      await h.ok('runs/delete', { json: { run_id: id } });
      assert.equal(h.t.getRunInfo(id).lifecycleStage, 'deleted');
      const search = await h.ok('runs/search', { json: { experiment_ids: [exp] } });
      assert.deepEqual(search.runs, []);
      await h.ok('runs/restore', { json: { run_id: id } });
      assert.equal(h.t.getRunInfo(id).lifecycleStage, 'active');
    } finally {
      await h.stop();
    }
  });

  test('search: experiment_ids, filter, order_by, run_view_type and page_token', async () => {
    const h = await start();
    try {
      const a = await h.t.createExperiment('a');
      const b = await h.t.createExperiment('b');
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        const info = await h.t.createRun({
          experimentId: i < 5 ? a : b,
          runName: `r${i}`,
          captureGit: false,
        });
        await h.t.logBatch(info.runId, {
          metrics: [{ key: 'acc', value: i / 10, step: 0 }],
          params: { i: String(i) },
        });
        ids.push(info.runId);
      }
      await h.t.deleteRun(ids[0]!);
      const names = (json: { runs?: { info: { run_name: string } }[] }): string[] =>
        (json.runs ?? []).map((r) => r.info.run_name);

      const filtered = await h.ok('runs/search', {
        json: {
          experiment_ids: [a, b],
          filter: 'metrics.acc >= 0.2 and params.i != "5"',
          order_by: ['metrics.acc DESC'],
        },
      });
      assert.deepEqual(names(filtered), ['r6', 'r4', 'r3', 'r2']);
      const withData = filtered.runs[0];
      assert.deepEqual(withData.data.params, [{ key: 'i', value: '6' }]);
      assert.deepEqual(withData.data.metrics[0].key, 'acc');

      const deleted = await h.ok('runs/search', {
        json: { experiment_ids: [a], run_view_type: 'DELETED_ONLY' },
      });
      assert.deepEqual(names(deleted), ['r0']);
      const all = await h.ok('runs/search', {
        json: { experiment_ids: [a], run_view_type: 'ALL' },
      });
      assert.equal(all.runs.length, 5);

      const pages = await allPages(
        h,
        'runs/search',
        'runs',
        { experiment_ids: [a, b], order_by: ['attributes.run_name ASC'], max_results: 3 },
        'POST',
      );
      assert.deepEqual(
        pages.map((p) => names({ runs: p as never })),
        [
          ['r1', 'r2', 'r3'],
          ['r4', 'r5', 'r6'],
        ],
      );
    } finally {
      await h.stop();
    }
  });

  test('log-batch: plain points and the other forms clients send; a bad point anywhere is named and nothing is written', async () => {
    const h = await start();
    try {
      const id = (await h.t.createRun({ captureGit: false })).runId;
      const plain = Array.from({ length: 1000 }, (_, i) => ({
        key: `m${i % 4}`,
        value: i / 10,
        timestamp: 1000 + i,
        step: i,
      }));
      await h.ok('runs/log-batch', { json: { run_id: id, metrics: plain } });
      assert.equal(h.t.metricHistory(id, 'm1').length, 250);
      assert.deepEqual(h.t.metricHistory(id, 'm1')[1], {
        key: 'm1',
        value: 0.5,
        timestamp: 1005,
        step: 5,
      });
      // Without timestamp and step, and with numbers as strings, in one batch.
      await h.ok('runs/log-batch', {
        json: {
          run_id: id,
          metrics: [
            { key: 'bare', value: 1 },
            { key: 'strings', value: '2.5', timestamp: '7', step: '3' },
          ],
        },
      });
      assert.deepEqual(
        h.t.metricHistory(id, 'strings').map((p) => [p.value, p.timestamp, p.step]),
        [[2.5, 7, 3]],
      );
      assert.equal(h.t.metricHistory(id, 'bare')[0]!.step, 0);
      const refused: [unknown, RegExp][] = [
        [{ key: 'x', value: 1, timestamp: 1.5 }, /'metrics\[700\]\.timestamp'.*integer/],
        [{ key: 'x', value: 'high' }, /'metrics\[700\]\.value'/],
        [{ key: '', value: 1 }, /Missing value for required parameter 'metrics\[700\]\.key'/],
        [{ key: 'x', value: null }, /Missing value for required parameter 'metrics\[700\]\.value'/],
        [null, /'metrics\[700\]'/],
      ];
      for (const [bad, message] of refused) {
        const metrics = plain.map((p) => ({ ...p, key: 'late' }));
        metrics[700] = bad as (typeof metrics)[number];
        const a = await h.call('runs/log-batch', { json: { run_id: id, metrics } });
        assert.equal(a.status, 400, JSON.stringify(bad));
        assert.equal(a.json.error_code, 'INVALID_PARAMETER_VALUE');
        assert.match(a.json.message, message);
      }
      assert.deepEqual(h.t.metricHistory(id, 'late'), [], 'nothing of a refused batch is written');
      const notList = await h.call('runs/log-batch', { json: { run_id: id, metrics: 'loss' } });
      assert.equal(notList.json.error_code, 'INVALID_PARAMETER_VALUE');
    } finally {
      await h.stop();
    }
  });

  test('metrics/get-history: every point, paged by max_results and page_token', async () => {
    const h = await start();
    try {
      const id = (await h.t.createRun({ captureGit: false })).runId;
      await h.t.logMetrics(
        id,
        Array.from({ length: 50 }, (_, i) => ({
          key: 'loss',
          value: 1 / (i + 1),
          timestamp: 1000 + i,
          step: i,
        })),
      );
      const whole = await h.ok('metrics/get-history', {
        query: { run_id: id, metric_key: 'loss' },
      });
      assert.equal(whole.metrics.length, 50);
      assert.equal(whole.next_page_token, undefined);
      assert.deepEqual(whole.metrics[3], { key: 'loss', value: 0.25, timestamp: 1003, step: 3 });
      const pages = await allPages(
        h,
        'metrics/get-history',
        'metrics',
        { run_id: id, metric_key: 'loss', max_results: '20' },
        'GET',
      );
      assert.deepEqual(
        pages.map((p) => p.length),
        [20, 20, 10],
      );
      assert.deepEqual(
        pages.flat().map((p) => (p as { step: number }).step),
        Array.from({ length: 50 }, (_, i) => i),
      );
      const none = await h.ok('metrics/get-history', { query: { run_id: id, metric_key: 'nope' } });
      assert.deepEqual(none.metrics, []);
    } finally {
      await h.stop();
    }
  });

  test('log-inputs: datasets as the client describes them, shown by runs/get, not doubled', async () => {
    const h = await start();
    try {
      const id = (await h.t.createRun({ captureGit: false })).runId;
      const datasets = [
        {
          tags: [{ key: 'mlflow.data.context', value: 'training' }],
          dataset: {
            name: 'iris',
            digest: 'abc123',
            source_type: 'local',
            source: '{"uri": "/data/iris.csv"}',
            schema: '{"mlflow_colspec": []}',
            profile: '{"num_rows": 150}',
          },
        },
      ];
      await h.ok('runs/log-inputs', { json: { run_id: id, datasets } });
      await h.ok('runs/log-inputs', { json: { run_id: id, datasets } });
      const [d] = h.t.getRun(id).datasets;
      assert.deepEqual(
        [d!.name, d!.digest, d!.sourceType, d!.source, d!.rowCount, d!.context],
        ['iris', 'abc123', 'local', '{"uri": "/data/iris.csv"}', 150, 'training'],
      );
      assert.equal(h.t.getRun(id).datasets.length, 1);
      const got = await h.ok('runs/get', { query: { run_id: id } });
      assert.deepEqual(got.run.inputs.dataset_inputs[0].tags, [
        { key: 'mlflow.data.context', value: 'training' },
      ]);
      assert.equal(got.run.inputs.dataset_inputs[0].dataset.digest, 'abc123');
      const missing = await h.call('runs/log-inputs', {
        json: { run_id: id, datasets: [{ dataset: { name: 'x' } }] },
      });
      assert.match(missing.json.message, /'datasets\[0\]\.dataset\.digest'/);
    } finally {
      await h.stop();
    }
  });
});

// ------------------------------------------------------------------ artifacts

describe('artifacts', () => {
  test('upload, download, list (proxy and run-scoped) and delete', async () => {
    const h = await start();
    try {
      const exp = await h.t.createExperiment('e');
      const id = (await h.t.createRun({ experimentId: exp, captureGit: false })).runId;
      const base = `${ARTIFACTS}/${exp}/${id}/artifacts`;
      const bytes = Buffer.from([0, 1, 2, 255, 254]);
      const put = await h.call(`${base}/model/weights.bin`, { method: 'PUT', body: bytes });
      assert.equal(put.status, 200);
      assert.deepEqual(put.json, {});
      await h.ok(`${base}/notes%20v1.txt`, { method: 'PUT', body: 'hello' });
      await h.ok(`${base}/notes%20v1.txt`, { method: 'PUT', body: 'hello again' });

      const down = await h.call(`${base}/model/weights.bin`);
      assert.equal(down.status, 200);
      assert.deepEqual(down.body, bytes);
      assert.equal(down.headers['content-type'], 'application/octet-stream');
      const text = await h.call(`${base}/notes%20v1.txt`);
      assert.equal(text.text, 'hello again');
      assert.match(String(text.headers['content-type']), /^text\/plain/);

      const list = await h.ok(ARTIFACTS, { query: { path: `${exp}/${id}/artifacts` } });
      assert.deepEqual(list.files, [
        { path: 'model', is_dir: true },
        { path: 'notes v1.txt', is_dir: false, file_size: 11 },
      ]);
      const inner = await h.ok(ARTIFACTS, { query: { path: `${exp}/${id}/artifacts/model/` } });
      assert.deepEqual(inner.files, [{ path: 'weights.bin', is_dir: false, file_size: 5 }]);
      const runLevel = await h.ok(ARTIFACTS, { query: { path: `${exp}/${id}` } });
      assert.deepEqual(runLevel.files, [{ path: 'artifacts', is_dir: true }]);
      const expLevel = await h.ok(ARTIFACTS, { query: { path: exp } });
      assert.deepEqual(expLevel.files, [{ path: id, is_dir: true }]);

      const scoped = await h.ok('artifacts/list', { query: { run_id: id, path: 'model' } });
      assert.equal(scoped.root_uri, `mlflow-artifacts:/${exp}/${id}/artifacts`);
      assert.deepEqual(scoped.files, [{ path: 'model/weights.bin', is_dir: false, file_size: 5 }]);

      await h.ok(`${base}/notes%20v1.txt`, { method: 'DELETE' });
      assert.deepEqual(
        h.t.listArtifacts(id).map((a) => a.path),
        ['model'],
      );
      const gone = await h.call(`${base}/notes%20v1.txt`);
      assert.equal(gone.status, 404);
      assert.equal(gone.json.error_code, 'RESOURCE_DOES_NOT_EXIST');
      const otherExperiment = await h.call(`${ARTIFACTS}/0/${id}/artifacts/x.txt`, {
        method: 'PUT',
        body: 'x',
      });
      assert.equal(otherExperiment.status, 404);
      const notRunPath = await h.call(`${ARTIFACTS}/${exp}/${id}/other/x.txt`, {
        method: 'PUT',
        body: 'x',
      });
      assert.equal(notRunPath.status, 400);
    } finally {
      await h.stop();
    }
  });
});

// ------------------------------------------------------------------ registry

describe('model registry', () => {
  test('registered models: create, get, search, update, tags', async () => {
    const h = await start();
    try {
      const { registered_model: created } = await h.ok('registered-models/create', {
        json: { name: 'clf', description: 'a classifier', tags: [{ key: 'team', value: 'nlp' }] },
      });
      assert.equal(created.name, 'clf');
      assert.equal(created.description, 'a classifier');
      assert.deepEqual(created.tags, [{ key: 'team', value: 'nlp' }]);
      assert.deepEqual(created.latest_versions, []);
      const dup = await h.call('registered-models/create', { json: { name: 'clf' } });
      assert.equal(dup.status, 400);
      assert.equal(dup.json.error_code, 'RESOURCE_ALREADY_EXISTS');
      for (const name of ['reg-a', 'reg-b', 'other']) await h.t.registry.create('model', name);

      const { registered_model: updated } = await h.ok('registered-models/update', {
        method: 'PATCH',
        json: { name: 'clf', description: 'better' },
      });
      assert.equal(updated.description, 'better');
      await h.ok('registered-models/set-tag', { json: { name: 'clf', key: 'k', value: 'v' } });
      assert.equal(h.t.registry.get('model', 'clf').tags.k, 'v');
      await h.ok('registered-models/delete-tag', {
        method: 'DELETE',
        json: { name: 'clf', key: 'k' },
      });
      assert.equal(h.t.registry.get('model', 'clf').tags.k, undefined);

      const like = await h.ok('registered-models/search', {
        query: { filter: "name LIKE 'reg-%'" },
      });
      assert.deepEqual(
        like.registered_models.map((m: { name: string }) => m.name),
        ['reg-a', 'reg-b'],
      );
      const pages = await allPages(
        h,
        'registered-models/search',
        'registered_models',
        { max_results: '3' },
        'GET',
      );
      assert.deepEqual(
        pages.map((p) => (p as { name: string }[]).map((m) => m.name)),
        [['clf', 'other', 'reg-a'], ['reg-b']],
      );
    } finally {
      await h.stop();
    }
  });

  test('registered-models/rename moves versions, aliases and tags; refuses a taken name', async () => {
    const h = await start();
    try {
      await h.ok('registered-models/create', {
        json: { name: 'clf', tags: [{ key: 'team', value: 'nlp' }] },
      });
      await h.ok('registered-models/create', { json: { name: 'other' } });
      for (const source of ['/m/1', '/m/2']) {
        await h.ok('model-versions/create', {
          json: { name: 'clf', source, tags: [{ key: 'src', value: source }] },
        });
      }
      await h.ok('registered-models/alias', {
        json: { name: 'clf', alias: 'champion', version: '1' },
      });

      const renamed = await h.ok('registered-models/rename', {
        json: { name: 'clf', new_name: 'classifier' },
      });
      const model = renamed.registered_model;
      assert.equal(model.name, 'classifier');
      assert.deepEqual(model.tags, [{ key: 'team', value: 'nlp' }]);
      assert.deepEqual(model.aliases, [{ alias: 'champion', version: '1' }]);
      assert.deepEqual(
        model.latest_versions.map((v: { name: string; version: string }) => [v.name, v.version]),
        [['classifier', '2']],
      );
      const v1 = await h.ok('model-versions/get', { query: { name: 'classifier', version: '1' } });
      assert.deepEqual(v1.model_version.tags, [{ key: 'src', value: '/m/1' }]);
      assert.deepEqual(v1.model_version.aliases, ['champion']);
      const byAlias = await h.ok('registered-models/alias', {
        query: { name: 'classifier', alias: 'champion' },
      });
      assert.equal(byAlias.model_version.version, '1');
      const search = await h.ok('model-versions/search', {
        query: { filter: "name = 'classifier'" },
      });
      assert.deepEqual(
        search.model_versions.map((v: { version: string }) => v.version),
        ['2', '1'],
      );
      assert.deepEqual(
        h.t.registry.aliasHistory('model', 'classifier').map((m) => [m.alias, m.from, m.to]),
        [['champion', null, 1]],
        'the alias history moved with the model',
      );

      const old = await h.call('registered-models/get', { query: { name: 'clf' } });
      assert.equal(old.status, 404);
      assert.equal(old.json.error_code, 'RESOURCE_DOES_NOT_EXIST');
      const oldVersions = await h.ok('model-versions/search', {
        query: { filter: "name = 'clf'" },
      });
      assert.deepEqual(oldVersions.model_versions ?? [], []);

      const taken = await h.call('registered-models/rename', {
        json: { name: 'classifier', new_name: 'other' },
      });
      assert.equal(taken.status, 400);
      assert.equal(taken.json.error_code, 'RESOURCE_ALREADY_EXISTS');
      assert.match(taken.json.message, /"other".*already registered/);
      assert.equal(h.t.registry.get('model', 'classifier').versionCount, 2, 'nothing was moved');
      const missing = await h.call('registered-models/rename', {
        json: { name: 'nope', new_name: 'x' },
      });
      assert.equal(missing.status, 404);
      assert.equal(missing.json.error_code, 'RESOURCE_DOES_NOT_EXIST');
      const noNewName = await h.call('registered-models/rename', { json: { name: 'classifier' } });
      assert.equal(noNewName.json.error_code, 'INVALID_PARAMETER_VALUE');
      assert.match(noNewName.json.message, /'new_name'/);
      const badName = await h.call('registered-models/rename', {
        json: { name: 'classifier', new_name: 'a/b' },
      });
      assert.equal(badName.json.error_code, 'INVALID_PARAMETER_VALUE');
      const wrongMethod = await h.call('registered-models/rename', {
        method: 'PATCH',
        json: { name: 'classifier', new_name: 'x' },
      });
      assert.equal(wrongMethod.json.error_code, 'ENDPOINT_NOT_FOUND');

      // The old name is free: a new model under it starts again at version 1.
      await h.ok('registered-models/create', { json: { name: 'clf' } });
      const fresh = await h.ok('model-versions/create', { json: { name: 'clf', source: '/n' } });
      assert.equal(fresh.model_version.version, '1');
    } finally {
      await h.stop();
    }
  });

  test('registered-models/delete removes the model with its versions, aliases and tags', async () => {
    const h = await start();
    try {
      await h.ok('registered-models/create', {
        json: { name: 'clf', tags: [{ key: 'team', value: 'nlp' }] },
      });
      await h.ok('registered-models/create', { json: { name: 'keep' } });
      for (const n of [1, 2, 3]) {
        await h.ok('model-versions/create', { json: { name: 'clf', source: `/m/${n}` } });
      }
      await h.ok('model-versions/create', { json: { name: 'keep', source: '/k' } });
      await h.ok('model-versions/set-tag', {
        json: { name: 'clf', version: '2', key: 'k', value: 'v' },
      });
      await h.ok('registered-models/alias', {
        json: { name: 'clf', alias: 'champion', version: '2' },
      });

      assert.deepEqual(
        await h.ok('registered-models/delete', { method: 'DELETE', json: { name: 'clf' } }),
        {},
      );
      const gone = await h.call('registered-models/get', { query: { name: 'clf' } });
      assert.equal(gone.json.error_code, 'RESOURCE_DOES_NOT_EXIST');
      const version = await h.call('model-versions/get', { query: { name: 'clf', version: '2' } });
      assert.equal(version.json.error_code, 'RESOURCE_DOES_NOT_EXIST');
      const alias = await h.call('registered-models/alias', {
        query: { name: 'clf', alias: 'champion' },
      });
      assert.equal(alias.json.error_code, 'RESOURCE_DOES_NOT_EXIST');
      const all = await h.ok('model-versions/search', { json: {} });
      assert.deepEqual(
        all.model_versions.map((v: { name: string; version: string }) => `${v.name}/${v.version}`),
        ['keep/1'],
        'only the other model is left',
      );
      const models = await h.ok('registered-models/search', { json: {} });
      assert.deepEqual(
        models.registered_models.map((m: { name: string }) => m.name),
        ['keep'],
      );

      const again = await h.call('registered-models/delete', {
        method: 'DELETE',
        json: { name: 'clf' },
      });
      assert.equal(again.status, 404);
      assert.equal(again.json.error_code, 'RESOURCE_DOES_NOT_EXIST');
      const noName = await h.call('registered-models/delete', { method: 'DELETE', json: {} });
      assert.equal(noName.json.error_code, 'INVALID_PARAMETER_VALUE');
      const wrongMethod = await h.call('registered-models/delete', { json: { name: 'keep' } });
      assert.equal(wrongMethod.json.error_code, 'ENDPOINT_NOT_FOUND');
      assert.ok(h.t.registry.find('model', 'keep'), 'a POST deletes nothing');

      // Registered again, the name starts afresh: no old tags, versions from 1.
      const { registered_model: fresh } = await h.ok('registered-models/create', {
        json: { name: 'clf' },
      });
      assert.deepEqual(fresh.tags, []);
      assert.deepEqual(fresh.aliases, []);
      const v = await h.ok('model-versions/create', { json: { name: 'clf', source: '/n' } });
      assert.equal(v.model_version.version, '1');
      assert.deepEqual(h.t.registry.aliasHistory('model', 'clf'), []);
    } finally {
      await h.stop();
    }
  });

  test('model versions and aliases: create, get, update, search, tags, download URI, alias, delete', async () => {
    const h = await start();
    try {
      const exp = await h.t.createExperiment('e');
      const run1 = (await h.t.createRun({ experimentId: exp, captureGit: false })).runId;
      const run2 = (await h.t.createRun({ experimentId: exp, captureGit: false })).runId;
      await h.ok('registered-models/create', { json: { name: 'clf' } });
      await h.ok('registered-models/create', { json: { name: 'other' } });
      const { model_version: v1 } = await h.ok('model-versions/create', {
        json: {
          name: 'clf',
          source: `mlflow-artifacts:/${exp}/${run1}/artifacts/model`,
          run_id: run1,
          tags: [{ key: 'stage', value: 'dev' }],
          description: 'first',
        },
      });
      assert.deepEqual(
        { ...v1, creation_timestamp: 0, last_updated_timestamp: 0 },
        {
          name: 'clf',
          version: '1',
          creation_timestamp: 0,
          last_updated_timestamp: 0,
          user_id: 'ada',
          current_stage: 'None',
          description: 'first',
          source: `mlflow-artifacts:/${exp}/${run1}/artifacts/model`,
          run_id: run1,
          status: 'READY',
          status_message: '',
          tags: [{ key: 'stage', value: 'dev' }],
          run_link: '',
          aliases: [],
        },
      );
      await h.ok('model-versions/create', {
        json: { name: 'clf', source: `runs:/${run2}/model`, run_id: run2 },
      });
      await h.ok('model-versions/create', {
        json: { name: 'other', source: '/tmp/m', run_id: run1 },
      });
      const noModel = await h.call('model-versions/create', {
        json: { name: 'nope', source: 's' },
      });
      assert.equal(noModel.json.error_code, 'RESOURCE_DOES_NOT_EXIST');
      const noSource = await h.call('model-versions/create', { json: { name: 'clf' } });
      assert.match(noSource.json.message, /'source'/);

      const got = await h.ok('model-versions/get', { query: { name: 'clf', version: '2' } });
      assert.equal(got.model_version.run_id, run2);
      const badVersion = await h.call('model-versions/get', {
        query: { name: 'clf', version: 'two' },
      });
      assert.equal(badVersion.json.error_code, 'INVALID_PARAMETER_VALUE');
      const { model_version: patched } = await h.ok('model-versions/update', {
        method: 'PATCH',
        json: { name: 'clf', version: '2', description: 'second' },
      });
      assert.equal(patched.description, 'second');

      const byName = await h.ok('model-versions/search', { query: { filter: "name='clf'" } });
      assert.deepEqual(
        byName.model_versions.map((v: { version: string }) => v.version),
        ['2', '1'],
      );
      const byRun = await h.ok('model-versions/search', { query: { filter: `run_id='${run1}'` } });
      assert.deepEqual(
        byRun.model_versions.map(
          (v: { name: string; version: string }) => `${v.name}/${v.version}`,
        ),
        ['clf/1', 'other/1'],
      );
      const both = await h.ok('model-versions/search', {
        query: { filter: `name = 'clf' AND run_id IN ('${run2}', 'zzz')` },
      });
      assert.deepEqual(
        both.model_versions.map((v: { version: string }) => v.version),
        ['2'],
      );

      await h.ok('model-versions/set-tag', {
        json: { name: 'clf', version: '1', key: 'k', value: 'v' },
      });
      assert.equal(h.t.registry.modelVersion('clf', 1).tags.k, 'v');
      await h.ok('model-versions/delete-tag', {
        method: 'DELETE',
        json: { name: 'clf', version: '1', key: 'k' },
      });
      assert.equal(h.t.registry.modelVersion('clf', 1).tags.k, undefined);

      const uri1 = await h.ok('model-versions/get-download-uri', {
        query: { name: 'clf', version: '1' },
      });
      assert.equal(uri1.artifact_uri, `mlflow-artifacts:/${exp}/${run1}/artifacts/model`);
      const uri2 = await h.ok('model-versions/get-download-uri', {
        query: { name: 'clf', version: '2' },
      });
      assert.equal(uri2.artifact_uri, `mlflow-artifacts:/${exp}/${run2}/artifacts/model`);

      await h.ok('registered-models/alias', {
        json: { name: 'clf', alias: 'champion', version: '1' },
      });
      await h.ok('registered-models/alias', {
        json: { name: 'clf', alias: 'champion', version: 2 },
      });
      const byAlias = await h.ok('registered-models/alias', {
        query: { name: 'clf', alias: 'champion' },
      });
      assert.equal(byAlias.model_version.version, '2');
      assert.deepEqual(byAlias.model_version.aliases, ['champion']);
      const model = await h.ok('registered-models/get', { query: { name: 'clf' } });
      assert.deepEqual(model.registered_model.aliases, [{ alias: 'champion', version: '2' }]);
      assert.equal(model.registered_model.latest_versions[0].version, '2');
      const latest = await h.ok('registered-models/get-latest-versions', {
        json: { name: 'clf', stages: ['None'] },
      });
      assert.deepEqual(
        latest.model_versions.map((v: { version: string }) => v.version),
        ['2'],
      );
      const reserved = await h.call('registered-models/alias', {
        json: { name: 'clf', alias: 'latest', version: '1' },
      });
      assert.equal(reserved.json.error_code, 'INVALID_PARAMETER_VALUE');

      await h.ok('registered-models/alias', {
        json: { name: 'clf', alias: 'challenger', version: '1' },
      });
      await h.ok('registered-models/alias', {
        method: 'DELETE',
        json: { name: 'clf', alias: 'challenger' },
      });
      // As MLflow: deleting a version deletes the aliases that point at it.
      await h.ok('registered-models/alias', {
        json: { name: 'clf', alias: 'prod', version: '2' },
      });
      assert.deepEqual(
        await h.ok('model-versions/delete', {
          method: 'DELETE',
          json: { name: 'clf', version: '2' },
        }),
        {},
      );
      const after = await h.call('model-versions/get', { query: { name: 'clf', version: '2' } });
      assert.equal(after.json.error_code, 'RESOURCE_DOES_NOT_EXIST');
      const noAlias = await h.call('registered-models/alias', {
        query: { name: 'clf', alias: 'champion' },
      });
      assert.equal(noAlias.json.error_code, 'RESOURCE_DOES_NOT_EXIST');
      const afterDelete = await h.ok('registered-models/get', { query: { name: 'clf' } });
      assert.deepEqual(afterDelete.registered_model.aliases, []);
      assert.deepEqual(
        h.t.registry
          .aliasHistory('model', 'clf')
          .filter((m) => m.to === null)
          .map((m) => [m.alias, m.from, m.reason]),
        [
          ['challenger', 1, null],
          ['champion', 2, 'version 2 deleted'],
          ['prod', 2, 'version 2 deleted'],
        ],
        'the removals are in the alias history, with the reason',
      );
      const twice = await h.call('model-versions/delete', {
        method: 'DELETE',
        json: { name: 'clf', version: '2' },
      });
      assert.equal(twice.json.error_code, 'RESOURCE_DOES_NOT_EXIST');
    } finally {
      await h.stop();
    }
  });
});

// ------------------------------------------------------------------ mlops serve

describe('mlops serve', () => {
  test('prints the URL and the export line, serves the store, and closes it when stopped', async () => {
    const root = tempDir('mlops-serve-');
    dirs.push(root);
    let out = '';
    let err = '';
    const ctx = new CommandContext(
      serveCommand,
      { port: '0', store: path.join(root, '.mlops') },
      [],
      { out: (t) => (out += t), err: (t) => (err += t), env: {}, cwd: root },
      silentLogger,
    );
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    const exit = runServe(ctx, () => stopped);
    while (!out.includes('export MLFLOW_TRACKING_URI='))
      await new Promise((r) => setTimeout(r, 10));
    const url = /export MLFLOW_TRACKING_URI=(\S+)/.exec(out)![1]!;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const created = await request(url, `${API}/experiments/create`, { json: { name: 'from-cli' } });
    assert.equal(created.status, 200);
    stop();
    assert.equal(await exit, 0);
    assert.match(err, /Stopping/);
    await assert.rejects(request(url, `${API}/experiments/search`), /ECONNREFUSED/);
    // The store was closed cleanly: another process opens it and sees the write.
    const t = await Tracking.open({ dir: path.join(root, '.mlops'), watch: false });
    assert.equal(t.getExperimentByName('from-cli')?.experimentId, '1');
    await t.close();
  });

  test('--token is required from clients; a bad --port is a usage error', async () => {
    const root = tempDir('mlops-serve-');
    dirs.push(root);
    let out = '';
    const io = { out: (t: string) => (out += t), err: () => {}, env: {}, cwd: root };
    const bad = new CommandContext(serveCommand, { port: '70000' }, [], io, silentLogger);
    await assert.rejects(
      runServe(bad, () => Promise.resolve()),
      /--port takes 0 to 65535/,
    );
    const ctx = new CommandContext(
      serveCommand,
      { port: '0', token: 'tok', json: true, store: path.join(root, '.mlops') },
      [],
      io,
      silentLogger,
    );
    let stop!: () => void;
    const exit = runServe(ctx, () => new Promise<void>((resolve) => (stop = resolve)));
    while (!out.includes('\n')) await new Promise((r) => setTimeout(r, 10));
    const { url } = JSON.parse(out) as { url: string };
    assert.equal((await request(url, `${API}/experiments/search`)).status, 401);
    const withToken = await request(url, `${API}/experiments/search`, {
      headers: { Authorization: 'Bearer tok' },
    });
    assert.equal(withToken.status, 200);
    stop();
    assert.equal(await exit, 0);
  });
});
